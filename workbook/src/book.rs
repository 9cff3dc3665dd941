//! `workbook book`: build the book with the pinned mdBook and admonish, then serve it.
//!
//! mdBook and mdbook-admonish are linked in as libraries, so the book builds from the
//! versions in Cargo.lock with nothing installed globally. The server is a few lines of
//! std: it serves files from the build directory on 127.0.0.1 only, and adds the live
//! parts (progress, "Check my code": see [`crate::live`]) to the pages it sends.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::thread;

use crate::live::{self, Live, Request};

use mdbook::MDBook;
use mdbook::book::Book;
use mdbook::config::Config;
use mdbook::errors::Error;
use mdbook::preprocess::{Preprocessor, PreprocessorContext};

/// Build the book; serve it unless `no_serve`.
pub fn run(root: &Path, port: u16, no_serve: bool) -> Result<ExitCode, String> {
    let out = build(root)?;
    let index = out.join("index.html");
    if no_serve {
        println!("{}", index.display());
        return Ok(ExitCode::SUCCESS);
    }
    let listener = TcpListener::bind(("127.0.0.1", port)).map_err(|e| {
        format!(
            "cannot listen on 127.0.0.1:{port}: {e} (another server there? try --port {})",
            port.wrapping_add(1)
        )
    })?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let live = Live::new(root, port, crate::progress::cache_path(root))?;
    println!("The book is at http://127.0.0.1:{port}/ (Ctrl-C stops the server)");
    println!(
        "Its pages show your progress and check your code (\"Check my code\" runs `cargo workbook check NN` here)."
    );
    serve(listener, out, Some(Arc::new(live)));
    Ok(ExitCode::SUCCESS)
}

/// Serve the files under `dir` on `listener`, one thread per connection, forever; with
/// `live`, the pages get the live parts.
pub fn serve(listener: TcpListener, dir: PathBuf, live: Option<Arc<Live>>) {
    for stream in listener.incoming().flatten() {
        let dir = dir.clone();
        let live = live.clone();
        thread::spawn(move || {
            let _ = serve_one(stream, &dir, live.as_deref());
        });
    }
}

/// Build the book into its build directory and return that directory.
pub fn build(root: &Path) -> Result<PathBuf, String> {
    let mut config = Config::from_disk(root.join("book.toml"))
        .map_err(|e| format!("cannot read book.toml: {e}"))?;
    // The admonish settings live under [workbook.admonish], not [preprocessor.admonish]:
    // a [preprocessor.*] table makes mdBook look for an `mdbook-admonish` program, and we
    // run the preprocessor from the library instead.
    config.build.create_missing = false;
    let mut book = MDBook::load_with_config(root, config)
        .map_err(|e| format!("cannot load the book: {e:#}"))?;
    book.with_preprocessor(Admonish);
    book.build()
        .map_err(|e| format!("the book did not build: {e:#}"))?;
    // With one renderer, mdBook writes straight into the build directory.
    Ok(root.join(&book.config.build.build_dir))
}

/// mdbook-admonish, given its settings from `[workbook.admonish]`.
struct Admonish;

impl Preprocessor for Admonish {
    fn name(&self) -> &str {
        "admonish"
    }

    fn run(&self, ctx: &PreprocessorContext, book: Book) -> Result<Book, Error> {
        let mut ctx = ctx.clone();
        if let Some(settings) = ctx.config.get("workbook.admonish").cloned() {
            ctx.config.set("preprocessor.admonish", settings)?;
        }
        mdbook_admonish::Admonish.run(&ctx, book)
    }

    fn supports_renderer(&self, renderer: &str) -> bool {
        mdbook_admonish::Admonish.supports_renderer(renderer)
    }
}

fn serve_one(mut stream: TcpStream, dir: &Path, live: Option<&Live>) -> std::io::Result<()> {
    let request = Request::read(&stream)?;
    let head = request.method == "HEAD";
    if let Some(live) = live {
        if !live.host_ok(&request) {
            return live.refuse_host(&mut stream);
        }
        if request.path.starts_with(live::PREFIX) {
            return live.handle(&request, &mut stream);
        }
    }
    if request.method != "GET" && !head {
        return respond(&mut stream, 405, "text/plain", b"method not allowed", head);
    }
    let file = resolve(dir, &request.path);
    match file.as_ref().map(|f| (f, std::fs::read(f))) {
        Some((file, Ok(body))) => {
            let kind = content_type(file);
            match live {
                // Each run has its own token: a page must not come from the cache.
                Some(live) if kind.starts_with("text/html") && !head => {
                    live::respond_page(&mut stream, &live.inject(&body))
                }
                _ => respond(&mut stream, 200, kind, &body, head),
            }
        }
        _ => respond(&mut stream, 404, "text/plain", b"not found", head),
    }
}

/// Map a URL path to a file under `dir`, refusing anything that climbs out of it.
fn resolve(dir: &Path, url_path: &str) -> Option<PathBuf> {
    let decoded = percent_decode(url_path);
    let relative = Path::new(decoded.trim_start_matches('/'));
    if relative
        .components()
        .any(|c| !matches!(c, Component::Normal(_)))
    {
        return None;
    }
    let mut path = dir.join(relative);
    if path.is_dir() {
        path = path.join("index.html");
    }
    path.is_file().then_some(path)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%' && i + 2 < bytes.len())
            .then(|| u8::from_str_radix(&s[i + 1..i + 3], 16).ok())
            .flatten();
        if let Some(b) = escaped {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" => "application/javascript; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "ico" => "image/x-icon",
        _ => "application/octet-stream",
    }
}

fn respond(
    stream: &mut TcpStream,
    status: u16,
    kind: &str,
    body: &[u8],
    head: bool,
) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        _ => "Method Not Allowed",
    };
    write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    if !head {
        stream.write_all(body)?;
    }
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_cannot_climb_out() {
        let dir = std::env::temp_dir();
        assert!(resolve(&dir, "/../etc/passwd").is_none());
        assert!(resolve(&dir, "/%2e%2e/etc/passwd").is_none());
        assert_eq!(percent_decode("/a%20b"), "/a b");
    }
}
