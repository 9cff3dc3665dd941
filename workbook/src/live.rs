//! The live book: what `workbook book` adds to the pages it serves.
//!
//! The built book is a plain static site, and stays one: opened from disk or through
//! `mdbook serve` it is exactly what mdBook made. Only our own server adds the live
//! parts, by putting a `<meta>` with this run's token, a stylesheet and a script into each
//! HTML page as it sends it. The script asks the server for the progress cache (the one
//! `workbook status` reads) and follows its changes over server-sent events, so a check
//! run in a terminal (`workbook watch`, say) shows on the page without a reload. Its
//! "Check my code" button asks the server to run `workbook check NN`, and the server
//! streams that command's output back into the page.
//!
//! Safe by construction. The server listens on 127.0.0.1 only. It answers only requests
//! whose `Host` is itself, so a site that rebinds its DNS name to 127.0.0.1 gets nothing,
//! not even a page with the token. A request that runs anything must carry the token,
//! which only the served pages hold, in an `X-Workbook-Token` header, and an `Origin`
//! that is this server: without both it gets 403. A custom header also means a browser
//! asks first (a CORS preflight), which this server never grants, so another site's page
//! cannot even send the request with a token it guessed.
//!
//! Routes, all under `/_workbook/`:
//! - `GET live.js`, `GET live.css`: the page's script and style.
//! - `GET progress`: the progress as JSON.
//! - `GET events`: server-sent events, a `progress` event whenever that JSON changes.
//! - `POST check/NN`: run lesson NN's check and stream its output (one run at a time;
//!   409 while another runs). The last line is `EXIT_MARK` and the exit code.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::Duration;

use serde_json::{Value, json};

use crate::lessons;
use crate::progress::{self, ExerciseState, Progress};

/// Where the live routes live.
pub const PREFIX: &str = "/_workbook/";
/// The last line of a check's stream: this, then the check's exit code.
pub const EXIT_MARK: &str = "workbook-check-exit: ";
/// How often the event stream looks at the cache for changes.
const POLL: Duration = Duration::from_millis(400);
/// A comment on an idle event stream this often, so a closed tab is noticed.
const PING_EVERY: u32 = 30;

const SCRIPT: &str = include_str!("live.js");
const STYLE: &str = include_str!("live.css");

/// The command that checks lesson `NN`, made ready to spawn.
pub type CheckCommand = Box<dyn Fn(&str) -> Command + Send + Sync>;

/// The live parts of one server run.
pub struct Live {
    root: PathBuf,
    cache: PathBuf,
    port: u16,
    token: String,
    check: CheckCommand,
    /// The lesson whose check runs now.
    running: Mutex<Option<String>>,
    /// Requests refused with 403, for the browser check.
    refused: AtomicUsize,
    /// Checks started, for the browser check.
    started: AtomicUsize,
}

/// A request's method, path and the headers the live parts look at.
pub struct Request {
    pub method: String,
    pub path: String,
    /// Header names in lower case.
    pub headers: HashMap<String, String>,
}

impl Request {
    /// Read the request line and headers (the live routes take no body).
    pub fn read(stream: &TcpStream) -> io::Result<Request> {
        let mut reader = BufReader::new(stream.try_clone()?);
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let target = parts.next().unwrap_or("/");
        let path = target.split(['?', '#']).next().unwrap_or("/").to_string();
        let mut headers = HashMap::new();
        for _ in 0..100 {
            let mut line = String::new();
            if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
            }
        }
        Ok(Request {
            method,
            path,
            headers,
        })
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

impl Live {
    /// The live parts for a server on 127.0.0.1:`port`, with a fresh token, showing the
    /// progress cache at `cache`; checks run `workbook check NN` (this program) in `root`,
    /// recording into that cache.
    pub fn new(root: &Path, port: u16, cache: PathBuf) -> Result<Live, String> {
        let program =
            std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
        let (dir, file) = (root.to_path_buf(), cache.clone());
        Ok(Live::with_check(
            root,
            port,
            cache,
            Box::new(move |number| {
                let mut cmd = Command::new(&program);
                cmd.args(["check", number])
                    .current_dir(&dir)
                    .env("WORKBOOK_PROGRESS", &file)
                    .env("CARGO_TERM_COLOR", "never");
                cmd
            }),
        ))
    }

    /// As [`Live::new`], with another command for the checks (tests use a shell).
    pub fn with_check(root: &Path, port: u16, cache: PathBuf, check: CheckCommand) -> Live {
        Live {
            root: root.to_path_buf(),
            cache,
            port,
            token: new_token(),
            check,
            running: Mutex::new(None),
            refused: AtomicUsize::new(0),
            started: AtomicUsize::new(0),
        }
    }

    /// This run's token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// How many requests were refused with 403.
    pub fn refused(&self) -> usize {
        self.refused.load(Ordering::SeqCst)
    }

    /// How many checks were started.
    pub fn started(&self) -> usize {
        self.started.load(Ordering::SeqCst)
    }

    /// The `Host` a request must name: this server, by address or as localhost.
    pub fn host_ok(&self, request: &Request) -> bool {
        let port = self.port;
        request
            .header("host")
            .is_some_and(|h| h == format!("127.0.0.1:{port}") || h == format!("localhost:{port}"))
    }

    /// Refuse a request with a foreign `Host`: a DNS name rebound to 127.0.0.1.
    pub fn refuse_host(&self, stream: &mut TcpStream) -> io::Result<()> {
        self.refused.fetch_add(1, Ordering::SeqCst);
        let body = format!(
            "refused: this server answers only to http://127.0.0.1:{}/",
            self.port
        );
        respond(stream, 403, "text/plain; charset=utf-8", body.as_bytes())
    }

    /// An HTML page with the live parts in it: the token, the style, the script.
    pub fn inject(&self, html: &[u8]) -> Vec<u8> {
        let html = String::from_utf8_lossy(html);
        let head = format!(
            "<meta name=\"workbook-token\" content=\"{}\">\n<link rel=\"stylesheet\" href=\"{PREFIX}live.css\">\n</head>",
            self.token
        );
        let body = format!("<script src=\"{PREFIX}live.js\"></script>\n</body>");
        html.replacen("</head>", &head, 1)
            .replacen("</body>", &body, 1)
            .into_bytes()
    }

    /// Answer a request under [`PREFIX`].
    pub fn handle(&self, request: &Request, stream: &mut TcpStream) -> io::Result<()> {
        let route = request.path.strip_prefix(PREFIX).unwrap_or("");
        match (request.method.as_str(), route) {
            ("GET", "live.js") => respond(
                stream,
                200,
                "application/javascript; charset=utf-8",
                SCRIPT.as_bytes(),
            ),
            ("GET", "live.css") => {
                respond(stream, 200, "text/css; charset=utf-8", STYLE.as_bytes())
            }
            ("GET", "progress") => respond(
                stream,
                200,
                "application/json",
                self.progress_json().to_string().as_bytes(),
            ),
            ("GET", "events") => self.events(stream),
            ("POST", route) if route.starts_with("check/") => {
                if let Err(why) = self.authorize(request) {
                    self.refused.fetch_add(1, Ordering::SeqCst);
                    return respond(stream, 403, "text/plain; charset=utf-8", why.as_bytes());
                }
                self.check(&route["check/".len()..], stream)
            }
            // No CORS preflight is ever granted: another site cannot send the token.
            ("OPTIONS", _) => {
                self.refused.fetch_add(1, Ordering::SeqCst);
                respond(stream, 403, "text/plain; charset=utf-8", b"refused")
            }
            ("GET" | "HEAD", _) => respond(stream, 404, "text/plain", b"not found"),
            _ => respond(stream, 405, "text/plain", b"method not allowed"),
        }
    }

    /// A request that runs something needs this run's token and this server's origin.
    fn authorize(&self, request: &Request) -> Result<(), String> {
        let own = request.header("host").map(|h| format!("http://{h}"));
        let origin_ok =
            request.header("origin").is_some() && request.header("origin") == own.as_deref();
        let token_ok = request
            .header("x-workbook-token")
            .is_some_and(|t| same_secret(t, &self.token));
        match (origin_ok, token_ok) {
            (true, true) => Ok(()),
            (false, _) => Err(format!(
                "refused: Origin {:?} is not this server (http://127.0.0.1:{}); only the book's own pages may run checks",
                request.header("origin").unwrap_or("(none)"),
                self.port
            )),
            (true, false) => Err(
                "refused: no valid token; this page is from an earlier run of `cargo workbook book`: reload it"
                    .to_string(),
            ),
        }
    }

    /// Run lesson `number`'s check, one at a time, streaming its output.
    fn check(&self, number: &str, stream: &mut TcpStream) -> io::Result<()> {
        let known = lessons::discover(&self.root)
            .unwrap_or_default()
            .into_iter()
            .any(|l| l.number == number);
        if !known {
            return respond(stream, 404, "text/plain; charset=utf-8", b"no such lesson");
        }
        let Some(_running) = Running::begin(&self.running, number) else {
            let busy = self.running.lock().unwrap().clone().unwrap_or_default();
            let body = format!(
                "A check of lesson {busy} is already running: wait for it to finish, then click again."
            );
            return respond(stream, 409, "text/plain; charset=utf-8", body.as_bytes());
        };
        self.started.fetch_add(1, Ordering::SeqCst);
        write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n"
        )?;
        let _ = stream.flush();
        let watch = stream.try_clone().ok();
        let mut send = |text: &str| {
            let _ = stream
                .write_all(text.as_bytes())
                .and_then(|_| stream.flush());
        };
        let child = (self.check)(number)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group: cargo and the tests it runs can be stopped together.
            .process_group(0)
            .spawn();
        let mut child = match child {
            Ok(child) => child,
            Err(e) => {
                send(&format!("cannot start the check: {e}\n{EXIT_MARK}1\n"));
                return Ok(());
            }
        };
        let (tx, rx) = mpsc::channel::<String>();
        let readers: Vec<_> = [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        .map(|pipe| {
            let tx = tx.clone();
            thread::spawn(move || {
                let mut reader = BufReader::new(pipe);
                let mut line = Vec::new();
                while matches!(reader.read_until(b'\n', &mut line), Ok(n) if n > 0) {
                    let _ = tx.send(String::from_utf8_lossy(&line).into_owned());
                    line.clear();
                }
            })
        })
        .collect();
        drop(tx);
        // The page that asked sends nothing more; a read that ends means it went away (a
        // reload, another chapter, a closed tab). Its check then stops, rather than hold
        // up the next page's for minutes with a result nobody will see.
        let finished = Arc::new(AtomicBool::new(false));
        if let Some(mut watch) = watch {
            let (finished, group) = (finished.clone(), child.id());
            thread::spawn(move || {
                let mut byte = [0u8; 1];
                while matches!(watch.read(&mut byte), Ok(n) if n > 0) {}
                if !finished.load(Ordering::SeqCst) {
                    let _ = Command::new("kill")
                        .args(["-TERM", "--", &format!("-{group}")])
                        .stderr(Stdio::null())
                        .status();
                }
            });
        }
        for line in rx {
            send(&line);
        }
        for reader in readers {
            let _ = reader.join();
        }
        let status = child.wait();
        finished.store(true, Ordering::SeqCst);
        let code = status.ok().and_then(|s| s.code()).unwrap_or(1);
        send(&format!("\n{EXIT_MARK}{code}\n"));
        // Ends the response, and the watching thread's read.
        let _ = stream.shutdown(std::net::Shutdown::Both);
        Ok(())
    }

    /// Server-sent events: the progress now, then again whenever it changes.
    fn events(&self, stream: &mut TcpStream) -> io::Result<()> {
        write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n"
        )?;
        let (mut last, mut last_stamp) = (String::new(), None);
        let mut idle = 0;
        loop {
            // Working the progress out parses every chapter (tens of milliseconds); looking
            // at the files it depends on costs well under one.
            let stamp = self.stamp();
            let now = if last_stamp == Some(stamp) {
                last.clone()
            } else {
                last_stamp = Some(stamp);
                self.progress_json().to_string()
            };
            if now != last {
                write!(stream, "event: progress\ndata: {now}\n\n")?;
                stream.flush()?;
                last = now;
                idle = 0;
            } else if idle >= PING_EVERY {
                // Fails once the page is gone, which ends this thread.
                stream.write_all(b": ping\n\n")?;
                stream.flush()?;
                idle = 0;
            }
            idle += 1;
            thread::sleep(POLL);
        }
    }

    /// A hash of the size and time of every file the progress depends on (the cache, the
    /// chapters, the lessons' sources and tests), and of the running check.
    fn stamp(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        fn walk(dir: &Path, depth: u32, h: &mut impl Hasher) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for entry in entries.flatten() {
                let Ok(meta) = entry.metadata() else { continue };
                entry.file_name().hash(h);
                if meta.is_dir() {
                    if depth > 0 {
                        walk(&entry.path(), depth - 1, h);
                    }
                } else {
                    meta.len().hash(h);
                    meta.modified().ok().hash(h);
                }
            }
        }
        let mut h = std::collections::hash_map::DefaultHasher::new();
        if let Ok(meta) = std::fs::metadata(&self.cache) {
            (meta.len(), meta.modified().ok()).hash(&mut h);
        }
        self.running.lock().unwrap().hash(&mut h);
        walk(&self.root.join("book"), 0, &mut h);
        for lesson in lessons::discover(&self.root).unwrap_or_default() {
            let dir = lesson.dir(&self.root);
            walk(&dir.join("src"), 3, &mut h);
            walk(&dir.join("tests"), 0, &mut h);
        }
        h.finish()
    }

    /// Every lesson's state from the progress cache, as the pages show it.
    pub fn progress_json(&self) -> Value {
        let progress = Progress::load_from(self.cache.clone());
        let mut lessons_json = Vec::new();
        let (mut passed_all, mut total_all) = (0, 0);
        for lesson in lessons::discover(&self.root).unwrap_or_default() {
            let Ok(chapter) = lesson.chapter(&self.root) else {
                continue;
            };
            let entry = progress.get(&lesson.number);
            let total = chapter.exercises.len();
            let exercises: Vec<Value> = chapter
                .exercises
                .iter()
                .map(|e| {
                    let state = entry.map_or(ExerciseState::NotStarted, |en| {
                        if en.done {
                            ExerciseState::Passes
                        } else {
                            en.exercise_state(&e.id)
                        }
                    });
                    json!({"id": e.id, "title": e.title, "anchor": e.anchor, "state": state.as_str()})
                })
                .collect();
            let passed = exercises.iter().filter(|e| e["state"] == "passes").count();
            // Exercises that passed at the last check that compiled, when this one did not.
            let passed_before = entry.map_or(0, |e| {
                chapter
                    .exercises
                    .iter()
                    .filter(|x| e.last_state(&x.id) == ExerciseState::Passes)
                    .count()
            });
            let state = match entry {
                None => "not-started",
                Some(e) if e.done => "done",
                Some(e) if !e.compiled => "broken",
                Some(e) if passed == 0 && e.tried.is_empty() => "not-started",
                Some(_) => "started",
            };
            let changed =
                entry.is_some_and(|e| e.fingerprint != progress::fingerprint(&self.root, &lesson));
            passed_all += passed_before.max(passed);
            total_all += total;
            lessons_json.push(json!({
                "number": lesson.number,
                "title": chapter.title,
                "page": chapter.html_page(),
                "state": state,
                "changed": changed,
                "passed": passed,
                "passed_before": passed_before,
                "total": total,
                "exercises": exercises,
                "checked": entry.map(|e| e.signature()),
            }));
        }
        json!({
            "lessons": lessons_json,
            "passed": passed_all,
            "total": total_all,
            "current": progress.current().map(|(n, _)| n.to_string()),
            "running": self.running.lock().unwrap().clone(),
        })
    }
}

/// The lesson whose check runs, until dropped.
struct Running<'a>(&'a Mutex<Option<String>>);

impl<'a> Running<'a> {
    fn begin(slot: &'a Mutex<Option<String>>, number: &str) -> Option<Running<'a>> {
        let mut running = slot.lock().unwrap();
        if running.is_some() {
            return None;
        }
        *running = Some(number.to_string());
        Some(Running(slot))
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

/// 128 random bits from the OS, in hex.
fn new_token() -> String {
    let mut bytes = [0u8; 16];
    let read = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if read.is_err() {
        // No /dev/urandom: std's hasher keys come from the OS's randomness too.
        use std::hash::{BuildHasher, Hasher};
        for chunk in bytes.chunks_mut(8) {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u64(std::process::id().into());
            chunk.copy_from_slice(&h.finish().to_le_bytes());
        }
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compare secrets without stopping at the first difference.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0, |d, (x, y)| d | (x ^ y)) == 0
}

/// A page with the live parts: never cached (its token is this run's), and never framed
/// by another site (which could trick a click on "Check my code").
pub fn respond_page(stream: &mut TcpStream, body: &[u8]) -> io::Result<()> {
    write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nContent-Security-Policy: frame-ancestors 'self'\r\nX-Frame-Options: SAMEORIGIN\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(body)?;
    stream.flush()
}

/// A whole response with a body.
pub fn respond(stream: &mut TcpStream, status: u16, kind: &str, body: &[u8]) -> io::Result<()> {
    let reason = match status {
        200 => "OK",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        _ => "Method Not Allowed",
    };
    write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(body)?;
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::sync::Arc;
    use std::time::Instant;

    use crate::progress::Entry;

    /// A one-lesson workbook in a temporary directory, served live on a port of its own;
    /// a check runs `sh -c SCRIPT` instead of cargo.
    struct Server {
        root: PathBuf,
        port: u16,
        live: Arc<Live>,
    }

    impl Server {
        fn start(name: &str, script: &str) -> Server {
            let root =
                std::env::temp_dir().join(format!("workbook-live-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&root);
            for (path, text) in [
                ("lessons/42-test/src/lib.rs", "pub fn f() {}\n"),
                (
                    "book/42-test.md",
                    "# Test\n\n## Exercise 42.1: One {#ex-42-1}\n\nFile: `lessons/42-test/src/lib.rs`.\n\n\
                     ## Exercise 42.2: Two {#ex-42-2}\n\nFile: `lessons/42-test/src/lib.rs`.\n\n\
                     ## Exercise 42.3: Three {#ex-42-3}\n\nFile: `lessons/42-test/src/lib.rs`.\n",
                ),
                (
                    "out/42-test.html",
                    "<html><head><title>t</title></head><body><h1>Test</h1></body></html>",
                ),
            ] {
                let path = root.join(path);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, text).unwrap();
            }
            let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
            let port = listener.local_addr().unwrap().port();
            let script = script.to_string();
            let live = Arc::new(Live::with_check(
                &root,
                port,
                root.join("progress.tsv"),
                Box::new(move |number| {
                    let mut cmd = Command::new("sh");
                    cmd.args(["-c", &script, "check", number]);
                    cmd
                }),
            ));
            let (dir, server) = (root.join("out"), live.clone());
            thread::spawn(move || crate::book::serve(listener, dir, Some(server)));
            Server { root, port, live }
        }

        /// Send `head` (request line and headers, without the blank line); the whole
        /// response.
        fn raw(&self, head: &str) -> String {
            let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(20)))
                .unwrap();
            write!(stream, "{head}\r\n\r\n").unwrap();
            let mut text = String::new();
            stream.read_to_string(&mut text).unwrap();
            text
        }

        /// Send `head`; the status and the body.
        fn send(&self, head: &str) -> (u16, String) {
            let text = self.raw(head);
            let status = text[9..12].parse().unwrap();
            let body = text
                .split_once("\r\n\r\n")
                .map(|(_, b)| b.to_string())
                .unwrap_or_default();
            (status, body)
        }

        fn host(&self) -> String {
            format!("127.0.0.1:{}", self.port)
        }

        /// A check request from the book's own page: its host, its origin, its token.
        fn check_request(&self, lesson: &str) -> String {
            format!(
                "POST /_workbook/check/{lesson} HTTP/1.1\r\nHost: {h}\r\nOrigin: http://{h}\r\nX-Workbook-Token: {t}",
                h = self.host(),
                t = self.live.token()
            )
        }
    }

    impl Drop for Server {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }

    #[test]
    fn forged_requests_are_refused_and_run_nothing() {
        let server = Server::start("forged", "echo ran");
        let (h, t, port) = (server.host(), server.live.token().to_string(), server.port);
        let post = "POST /_workbook/check/42 HTTP/1.1";
        let forged = [
            ("no token, no origin", format!("{post}\r\nHost: {h}")),
            (
                "another site's origin, no token",
                format!("{post}\r\nHost: {h}\r\nOrigin: https://evil.example"),
            ),
            (
                "the right origin, no token",
                format!("{post}\r\nHost: {h}\r\nOrigin: http://{h}"),
            ),
            (
                "the right origin, a wrong token",
                format!(
                    "{post}\r\nHost: {h}\r\nOrigin: http://{h}\r\nX-Workbook-Token: {}",
                    "0".repeat(32)
                ),
            ),
            (
                "the token, no origin",
                format!("{post}\r\nHost: {h}\r\nX-Workbook-Token: {t}"),
            ),
            (
                "the token from another origin",
                format!(
                    "{post}\r\nHost: {h}\r\nOrigin: https://evil.example\r\nX-Workbook-Token: {t}"
                ),
            ),
            (
                "the token from another port",
                format!(
                    "{post}\r\nHost: {h}\r\nOrigin: http://127.0.0.1:{}\r\nX-Workbook-Token: {t}",
                    port.wrapping_add(1)
                ),
            ),
            (
                "a DNS name rebound to 127.0.0.1",
                format!(
                    "{post}\r\nHost: evil.example:{port}\r\nOrigin: http://evil.example:{port}\r\nX-Workbook-Token: {t}"
                ),
            ),
            (
                "a CORS preflight",
                format!(
                    "OPTIONS /_workbook/check/42 HTTP/1.1\r\nHost: {h}\r\nOrigin: https://evil.example\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: x-workbook-token"
                ),
            ),
        ];
        for (what, request) in &forged {
            let (status, body) = server.send(request);
            assert_eq!(status, 403, "{what}: answered {status} {body:?}, not 403");
            assert!(!body.contains("ran"), "{what}: the check ran");
        }
        assert_eq!(server.live.started(), 0, "a forged request started a check");
        assert_eq!(server.live.refused(), forged.len());
        // The same request with both, from the book's page, runs.
        let (status, body) = server.send(&server.check_request("42"));
        assert_eq!((status, server.live.started()), (200, 1), "{body}");
    }

    #[test]
    fn pages_carry_the_token_only_when_served_live_to_this_host() {
        let server = Server::start("pages", "true");
        let (status, page) = server.send(&format!(
            "GET /42-test.html HTTP/1.1\r\nHost: {}",
            server.host()
        ));
        assert_eq!(status, 200);
        assert!(
            page.contains(server.live.token()) && page.contains("/_workbook/live.js"),
            "{page}"
        );
        // Not cached (the next run has another token), not framed by another site.
        let response = server.raw(&format!(
            "GET /42-test.html HTTP/1.1\r\nHost: {}",
            server.host()
        ));
        let head = response.split("\r\n\r\n").next().unwrap();
        assert!(
            head.contains("Cache-Control: no-store")
                && head.contains("Content-Security-Policy: frame-ancestors 'self'"),
            "{head}"
        );
        // A site whose name resolves to 127.0.0.1 must not read a page with the token.
        let (status, page) = server.send(&format!(
            "GET /42-test.html HTTP/1.1\r\nHost: evil.example:{}",
            server.port
        ));
        assert_eq!(status, 403);
        assert!(!page.contains(server.live.token()));
        // The built page on disk is untouched.
        let built = std::fs::read_to_string(server.root.join("out/42-test.html")).unwrap();
        assert!(!built.contains("workbook"));
        // Two runs have two tokens.
        let other = Server::start("pages-2", "true");
        assert_ne!(server.live.token(), other.live.token());
        assert_eq!(server.live.token().len(), 32);
    }

    #[test]
    fn a_check_streams_its_output_and_exit_code_one_at_a_time() {
        let server = Server::start(
            "check",
            "echo checking lesson $1; sleep 1; echo to stderr >&2; exit 3",
        );
        let busy = thread::scope(|s| {
            let first = s.spawn(|| server.send(&server.check_request("42")));
            let started = Instant::now();
            while server.live.started() == 0 && started.elapsed() < Duration::from_secs(10) {
                thread::sleep(Duration::from_millis(10));
            }
            let busy = server.send(&server.check_request("42"));
            let (status, body) = first.join().unwrap();
            assert_eq!(status, 200);
            assert!(
                body.contains("checking lesson 42") && body.contains("to stderr"),
                "{body}"
            );
            assert!(
                body.trim_end().ends_with(&format!("{EXIT_MARK}3")),
                "{body}"
            );
            busy
        });
        assert_eq!(busy.0, 409, "a second check while one runs: {busy:?}");
        assert!(busy.1.contains("already running"), "{}", busy.1);
        // Once it is over, the next one runs.
        assert_eq!(server.send(&server.check_request("42")).0, 200);
        assert_eq!(server.send(&server.check_request("7")).0, 404);
    }

    #[test]
    fn a_check_whose_page_went_away_is_stopped() {
        let server = Server::start("gone", "echo started; sleep 60; echo never");
        // Ask for a check; read its response up to a line that contains `until`.
        let ask = |until: &str| -> String {
            let mut stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(20)))
                .unwrap();
            write!(stream, "{}\r\n\r\n", server.check_request("42")).unwrap();
            let mut reader = BufReader::new(stream);
            let mut text = String::new();
            while !text.contains(until) {
                let n = reader.read_line(&mut text).unwrap();
                assert!(n > 0, "no {until:?} in {text}");
            }
            text
        };
        ask("started");
        // The page went away: the sleep is killed with its group, and the next check may
        // run at once.
        let started = Instant::now();
        loop {
            let answer = ask("\r\n");
            if !answer.contains("409") {
                assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "a check whose page went away still runs after 10 s"
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    #[test]
    fn progress_comes_from_the_cache_and_follows_it() {
        let server = Server::start("progress", "true");
        let lesson = lessons::discover(&server.root).unwrap().remove(0);
        let states = |json: &Value| -> Vec<String> {
            json["lessons"][0]["exercises"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["state"].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(states(&server.live.progress_json()), ["not-started"; 3]);
        let mut progress = Progress::load_from(server.root.join("progress.tsv"));
        let mut entry = Entry {
            fingerprint: progress::fingerprint(&server.root, &lesson),
            passed: vec!["42.1".into()],
            tried: vec!["42.2".into()],
            total: 3,
            done: false,
            compiled: true,
        };
        progress.record("42", entry.clone());

        // The event stream sends the progress, then each change.
        let mut stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        write!(
            stream,
            "GET /_workbook/events HTTP/1.1\r\nHost: {}\r\n\r\n",
            server.host()
        )
        .unwrap();
        let mut events = BufReader::new(stream)
            .lines()
            .map_while(Result::ok)
            .filter_map(|l| {
                l.strip_prefix("data: ")
                    .map(|d| serde_json::from_str::<Value>(d).unwrap())
            });
        let first = events.next().unwrap();
        assert_eq!(states(&first), ["passes", "fails", "not-started"]);
        assert_eq!(first["lessons"][0]["state"], "started");
        assert_eq!(
            (
                first["passed"].as_u64(),
                first["lessons"][0]["changed"].as_bool()
            ),
            (Some(1), Some(false))
        );

        entry.compiled = false;
        progress.record("42", entry.clone());
        let broken = events.next().unwrap();
        assert_eq!(states(&broken), ["unknown"; 3]);
        assert_eq!(broken["lessons"][0]["state"], "broken");

        std::fs::write(
            server.root.join("lessons/42-test/src/lib.rs"),
            "pub fn f() { 1; }\n",
        )
        .unwrap();
        let edited = events.next().unwrap();
        assert_eq!(edited["lessons"][0]["changed"], true);

        entry.done = true;
        entry.compiled = true;
        progress.record("42", entry);
        let done = events.next().unwrap();
        assert_eq!(states(&done), ["passes"; 3]);
        assert_eq!(
            (
                done["lessons"][0]["state"].as_str(),
                done["passed"].as_u64()
            ),
            (Some("done"), Some(3))
        );
    }
}
