//! `workbook browser-check`: the book as a reader gets it, in a real browser.
//!
//! Builds the book, serves it on 127.0.0.1 (a port the OS picks), starts headless
//! Chromium with its DevTools port open, and drives it over the Chrome DevTools Protocol:
//! a websocket carrying JSON commands (`Page.navigate`, `Runtime.evaluate`, …) and events
//! (`Runtime.exceptionThrown`, console calls). It checks, on every chapter:
//! - the page loads and logs no error to the console;
//! - admonitions are styled by the admonish stylesheet (a coloured left border);
//! - a collapsible hint starts closed and opens when its title is clicked;
//!
//! and once: that the book's search finds a word from a chapter. It saves a screenshot of
//! one chapter as `target/book-screenshot.png`. A chapter opened from disk (`file://`)
//! has no live parts and no errors either.
//!
//! Then the live book, as `workbook book` serves it (see [`crate::live`]), on a progress
//! cache of its own in a temporary directory (the learner's is never touched):
//! - a chapter's badges and the sidebar match the cache, and follow a change to the cache
//!   without a reload; the introduction shows the whole book's progress;
//! - "Check my code" on lesson 00 runs its check and shows the skeleton's first failing
//!   exercise; a second click while it runs says a check is running; afterwards the
//!   badges match what the check recorded; a check elsewhere marks that result older;
//!   the check button by an exercise's heading shows its result under that heading;
//! - requests forged by a page of another origin (no token; the real token through a
//!   CORS request) are refused, and start nothing;
//! - no console errors on the book's pages. It saves `target/book-live-screenshot.png`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitCode, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tungstenite::{Message, WebSocket, stream::MaybeTlsStream};

use crate::lessons::{self, Lesson};
use crate::live::Live;
use crate::progress::{self, Entry, Progress};

/// The pages that must work: every page SUMMARY.md links (drafts, `[…]()`, have none).
pub fn pages(root: &Path) -> Result<Vec<String>, String> {
    let summary = std::fs::read_to_string(root.join("book/SUMMARY.md"))
        .map_err(|e| format!("cannot read book/SUMMARY.md: {e}"))?;
    pages_in(&summary)
}

fn pages_in(summary: &str) -> Result<Vec<String>, String> {
    let mut pages = Vec::new();
    for part in summary.split("](").skip(1) {
        let Some((target, _)) = part.split_once(')') else {
            continue;
        };
        let target = target.split('#').next().unwrap_or("").trim();
        if let Some(stem) = target.strip_suffix(".md") {
            let page = format!("{stem}.html");
            if !pages.contains(&page) {
                pages.push(page);
            }
        }
    }
    if pages.is_empty() {
        return Err("book/SUMMARY.md links no page".to_string());
    }
    Ok(pages)
}

/// A chapter page to photograph.
const SCREENSHOT_OF: &str = "01-actors.html";
/// A word that appears in a chapter (01, "Supervision") and must be found by search.
const SEARCH_FOR: &str = "supervisor";

pub fn run(root: &Path, chromium: &Path) -> Result<ExitCode, String> {
    let pages = pages(root)?;
    let out = crate::book::build(root)?;
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .map_err(|e| format!("cannot listen on 127.0.0.1: {e}"))?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let dir = out.clone();
    thread::spawn(move || crate::book::serve(listener, dir, None));
    let base = format!("http://127.0.0.1:{port}");

    let work = std::env::temp_dir().join(format!("workbook-browser-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;
    let mut browser = Browser::launch(chromium, &work.join("profile"))?;
    let result = check_pages(
        &mut browser,
        &base,
        &pages,
        &root.join("target").join("book-screenshot.png"),
    )
    .and_then(|mut problems| {
        problems.extend(check_file_page(&mut browser, &out)?);
        problems.extend(check_live(&mut browser, root, &out, &base, &work)?);
        Ok(problems)
    });
    browser.close();
    let _ = std::fs::remove_dir_all(&work);

    let problems = result?;
    if problems.is_empty() {
        println!(
            "browser: {} pages load without console errors; admonitions styled; hints open; search works",
            pages.len()
        );
        println!(
            "browser: the live book: badges, sidebar and progress bar match the cache and follow it; \
             \"Check my code\" shows the first failing exercise; forged requests refused"
        );
        println!(
            "browser: screenshots in target/: book-screenshot.png, {LIVE_SCREENSHOT} (badges), {CHECK_SCREENSHOT}"
        );
        Ok(ExitCode::SUCCESS)
    } else {
        for p in &problems {
            println!("- {p}");
        }
        println!("browser: {} problems", problems.len());
        Ok(ExitCode::FAILURE)
    }
}

fn check_pages(
    browser: &mut Browser,
    base: &str,
    pages: &[String],
    screenshot: &Path,
) -> Result<Vec<String>, String> {
    let mut problems = Vec::new();
    browser.call("Runtime.enable", json!({}))?;
    browser.call("Log.enable", json!({}))?;
    browser.call("Page.enable", json!({}))?;
    for page in pages {
        let page = page.as_str();
        browser.navigate(&format!("{base}/{page}"))?;
        let styled = browser.eval(
            r#"(() => {
                const a = document.querySelector('.admonition');
                if (!a) return 'none';
                const s = getComputedStyle(a);
                return s.display === 'flow-root' && s.borderInlineStartWidth !== '0px' ? 'styled' : 'unstyled: ' + s.display + ' ' + s.borderInlineStartWidth;
            })()"#,
        )?;
        match styled.as_str() {
            Some("styled") | Some("none") => {}
            other => problems.push(format!(
                "{page}: admonitions are not styled ({other:?}): is the admonish CSS served?"
            )),
        }
        let hint = browser.eval(
            r#"(() => {
                const d = document.querySelector('details.admonition');
                if (!d) return 'none';
                if (d.open) return 'open before the click';
                d.querySelector('summary').click();
                const body = d.querySelector('div');
                return d.open && body && body.offsetHeight > 0 ? 'opens' : 'does not open';
            })()"#,
        )?;
        match hint.as_str() {
            Some("opens") | Some("none") => {}
            other => problems.push(format!(
                "{page}: a collapsible hint {}",
                other.unwrap_or("broke")
            )),
        }
        if page.starts_with("0") && hint.as_str() == Some("none") {
            problems.push(format!(
                "{page}: a chapter with exercises has no collapsible hint"
            ));
        }
    }

    // Search, from a chapter page: open the search bar, type, wait for results.
    browser.navigate(&format!("{base}/00-foundations.html"))?;
    let found = browser.eval_async(&format!(
        r#"new Promise(resolve => {{
            document.getElementById('search-toggle').click();
            const bar = document.getElementById('searchbar');
            const started = Date.now();
            const poll = () => {{
                bar.value = '{SEARCH_FOR}';
                bar.dispatchEvent(new Event('input', {{bubbles: true}}));
                bar.dispatchEvent(new KeyboardEvent('keyup', {{bubbles: true, key: 'r'}}));
                const hits = document.querySelectorAll('#searchresults li');
                if (hits.length > 0) resolve(hits.length + ' results, first: ' + hits[0].textContent.slice(0, 60));
                else if (Date.now() - started > 8000) resolve('');
                else setTimeout(poll, 200);
            }};
            setTimeout(poll, 200);
        }})"#
    ))?;
    match found.as_str() {
        Some(text) if !text.is_empty() => println!("browser: search for {SEARCH_FOR:?}: {text}"),
        _ => problems.push(format!("search for {SEARCH_FOR:?} found nothing")),
    }

    browser.navigate(&format!("{base}/{SCREENSHOT_OF}"))?;
    browser.screenshot(screenshot)?;

    for error in &browser.errors {
        problems.push(format!("console error: {error}"));
    }
    Ok(problems)
}

/// The built book opened from disk, as a reader without our server gets it: the plain
/// book, no live parts, no errors.
fn check_file_page(browser: &mut Browser, out: &Path) -> Result<Vec<String>, String> {
    let mut problems = Vec::new();
    let before = browser.errors.len();
    let page = out.join(SCREENSHOT_OF);
    browser.navigate(&format!("file://{}", page.display()))?;
    let live = browser.eval(
        "document.querySelector('meta[name=\"workbook-token\"], .wb-panel, .wb-badge') === null",
    )?;
    if live != json!(true) {
        problems.push(format!(
            "{SCREENSHOT_OF} opened from disk has live parts: only `workbook book` may add them"
        ));
    }
    for error in browser.errors.drain(before..) {
        problems.push(format!(
            "{SCREENSHOT_OF} opened from disk: console error: {error}"
        ));
    }
    Ok(problems)
}

/// The lesson whose check the page runs: the first, the quickest to build.
const CHECKED_LESSON: &str = "00";
/// A chapter shown with a cache that has it begun, and its screenshot.
const BADGES_OF: &str = "01";
const LIVE_SCREENSHOT: &str = "book-live-screenshot.png";
/// The page after "Check my code".
const CHECK_SCREENSHOT: &str = "book-check-screenshot.png";
/// How long the first check of a lesson may take: it compiles the lesson.
const CHECK_TIME: Duration = Duration::from_secs(20 * 60);

/// The live book, served by [`Live`] on a cache in `work`.
fn check_live(
    browser: &mut Browser,
    root: &Path,
    out: &Path,
    other_origin: &str,
    work: &Path,
) -> Result<Vec<String>, String> {
    let mut problems = Vec::new();
    let all = lessons::discover(root)?;
    let lesson = |n: &str| {
        all.iter()
            .find(|l| l.number == n)
            .cloned()
            .ok_or_else(|| format!("the live check needs lesson {n}"))
    };
    let (checked, shown) = (lesson(CHECKED_LESSON)?, lesson(BADGES_OF)?);
    let shown_chapter = shown.chapter(root)?;
    let ids: Vec<String> = shown_chapter
        .exercises
        .iter()
        .map(|e| e.id.clone())
        .collect();
    if ids.len() < 3 {
        return Err(format!(
            "the live check needs 3 exercises in lesson {BADGES_OF}"
        ));
    }
    // A cache of our own: lesson 01 begun (its first exercise passes, its second fails),
    // and the next lesson done.
    let cache = work.join("progress.tsv");
    let mut progress = Progress::load_from(cache.clone());
    let entry = |l: &Lesson, passed: &[String], tried: &[String], done: bool| Entry {
        fingerprint: progress::fingerprint(root, l),
        passed: passed.to_vec(),
        tried: tried.to_vec(),
        total: l.chapter(root).map(|c| c.exercises.len()).unwrap_or(0),
        done,
        compiled: true,
    };
    progress.record(&shown.number, entry(&shown, &ids[..1], &ids[1..2], false));
    let done_lesson = all
        .iter()
        .find(|l| l.number > shown.number)
        .cloned()
        .ok_or("the live check needs a lesson after 01")?;
    let done_ids: Vec<String> = done_lesson
        .chapter(root)?
        .exercises
        .iter()
        .map(|e| e.id.clone())
        .collect();
    progress.record(
        &done_lesson.number,
        entry(&done_lesson, &done_ids, &[], true),
    );

    let listener = TcpListener::bind(("127.0.0.1", 0))
        .map_err(|e| format!("cannot listen on 127.0.0.1: {e}"))?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let live = std::sync::Arc::new(Live::new(root, port, cache.clone())?);
    let (dir, server) = (out.to_path_buf(), live.clone());
    thread::spawn(move || crate::book::serve(listener, dir, Some(server)));
    let base = format!("http://127.0.0.1:{port}");
    let errors_before = browser.errors.len();

    // Badges and the sidebar, as the cache has them.
    browser.navigate(&format!("{base}/{}", shown_chapter.html_page()))?;
    browser.eval("window.workbookSamePage = true")?;
    let want = expected_badges(root, &cache, &shown)?;
    if let Err(got) = wait_for_badges(browser, &want) {
        problems.push(format!(
            "{}: the badges {got} do not match the cache {want:?}",
            shown_chapter.html_page()
        ));
    }
    let sidebar = browser.eval(
        "JSON.stringify(Object.fromEntries([...document.querySelectorAll('#sidebar a[href] .wb-side')]\
         .map(m => [m.parentElement.getAttribute('href').split('#')[0], m.dataset.state])))",
    )?;
    let sidebar: Value = serde_json::from_str(sidebar.as_str().unwrap_or("{}")).unwrap_or_default();
    for (l, state) in [
        (&shown, "started"),
        (&done_lesson, "done"),
        (&checked, "not-started"),
    ] {
        let page = l.chapter(root)?.html_page();
        if sidebar[&page] != state {
            problems.push(format!(
                "the sidebar shows lesson {} as {}, not {state}",
                l.number, sidebar[&page]
            ));
        }
    }
    let panel =
        browser.eval("document.querySelector('#workbook-live .wb-summary')?.textContent")?;
    let summary = format!("1 of {} exercises pass", ids.len());
    if !panel.as_str().unwrap_or("").contains(&summary) {
        problems.push(format!("the chapter's panel says {panel}, not {summary:?}"));
    }

    // A check in a terminal changes the cache: the page follows, without a reload.
    progress.record(&shown.number, entry(&shown, &ids[..1], &ids[1..3], false));
    let want = expected_badges(root, &cache, &shown)?;
    match wait_for_badges(browser, &want) {
        Ok(()) if browser.eval("window.workbookSamePage === true")? == json!(true) => {}
        Ok(()) => problems.push("the page reloaded to show a change to the cache".to_string()),
        Err(got) => problems.push(format!(
            "the badges {got} did not follow a change to the cache {want:?}"
        )),
    }
    let shot = root.join("target").join(LIVE_SCREENSHOT);
    browser.screenshot(&shot)?;

    // The introduction: the whole book's progress.
    browser.navigate(&format!("{base}/introduction.html"))?;
    let passed = 1 + done_ids.len();
    let got = browser.wait_for(
        "document.getElementById('workbook-progress')?.dataset.passed ?? ''",
        &json!(passed.to_string()),
        Duration::from_secs(10),
    )?;
    if got != json!(passed.to_string()) {
        problems.push(format!(
            "the introduction's progress bar shows {got} exercises passed, not {passed}"
        ));
    }

    // "Check my code": the same check as `workbook check 00`, on the skeleton.
    let checked_chapter = checked.chapter(root)?;
    browser.navigate(&format!("{base}/{}", checked_chapter.html_page()))?;
    browser.wait_for(
        "document.querySelector('#workbook-live .wb-check') !== null",
        &json!(true),
        Duration::from_secs(10),
    )?;
    browser.eval("document.querySelector('#workbook-live .wb-check').click()")?;
    browser.wait_for(
        "document.getElementById('workbook-live').dataset.check ?? ''",
        &json!("running"),
        Duration::from_secs(10),
    )?;
    let second = browser.eval(
        "document.querySelector('#workbook-live .wb-check').click(); \
         document.querySelector('#workbook-live .wb-note').textContent",
    )?;
    if !second.as_str().unwrap_or("").contains("already running") {
        problems.push(format!(
            "a second click on \"Check my code\" during a check says {second}, not that one is running"
        ));
    }
    let started = Instant::now();
    let state = wait_for_check(browser)?;
    println!(
        "browser: \"Check my code\" on lesson {CHECKED_LESSON} took {:.0} s",
        started.elapsed().as_secs_f64()
    );
    let first = &checked_chapter.exercises[0];
    let output = browser.eval("document.querySelector('#workbook-live .wb-output').textContent")?;
    let headline =
        browser.eval("document.querySelector('#workbook-live .wb-headline').textContent")?;
    let (output, headline) = (
        output.as_str().unwrap_or(""),
        headline.as_str().unwrap_or(""),
    );
    let first_line = format!("Exercise {}: {}", first.id, first.title);
    if state != json!("failing") || !output.contains(&first_line) || !headline.contains(&first.id) {
        problems.push(format!(
            "\"Check my code\" on lesson {CHECKED_LESSON} (a skeleton: is it untouched?) ended {state} \
             with {headline:?}, and its output does not show {first_line:?}:\n{output}"
        ));
    }
    let want = expected_badges(root, &cache, &checked)?;
    if let Err(got) = wait_for_badges(browser, &want) {
        problems.push(format!(
            "after the check, the badges {got} do not match what it recorded {want:?}"
        ));
    }

    // A check elsewhere (in a terminal) changes the cache: the result shown says it is
    // older than the badges.
    let mut progress = Progress::load_from(cache.clone());
    let mut newer = progress
        .get(&checked.number)
        .cloned()
        .ok_or("the check recorded nothing in the cache")?;
    newer.tried = vec![first.id.clone()];
    progress.record(&checked.number, newer);
    let stale = browser.wait_for(
        "document.querySelector('#workbook-live .wb-stale')?.hidden === false",
        &json!(true),
        Duration::from_secs(10),
    )?;
    if stale != json!(true) {
        problems.push(
            "after a check elsewhere, the result on the page does not say it is older".to_string(),
        );
    }

    // The check button by an exercise's heading shows the result under that heading.
    let second = &checked_chapter.exercises[1];
    browser.eval(&format!(
        "document.getElementById('{}').querySelector('.wb-check-here').click()",
        second.anchor
    ))?;
    browser.wait_for(
        "document.getElementById('workbook-live').dataset.check ?? ''",
        &json!("running"),
        Duration::from_secs(10),
    )?;
    wait_for_check(browser)?;
    let placed = browser.eval(&format!(
        "(() => {{ const r = document.querySelector('.wb-result');            r.scrollIntoView({{block: 'center'}});            return r.previousElementSibling?.id === '{anchor}'              && r.querySelector('.wb-headline').textContent.includes('{first}')              && r.querySelector('.wb-stale').hidden; }})()",
        anchor = second.anchor,
        first = first.id
    ))?;
    if placed != json!(true) {
        problems.push(format!(
            "the check button by exercise {}'s heading does not show a fresh result under it",
            second.id
        ));
    }
    browser.screenshot(&root.join("target").join(CHECK_SCREENSHOT))?;
    for error in browser.errors.drain(errors_before..) {
        problems.push(format!("the live book: console error: {error}"));
    }

    // Requests forged by a page of another origin: refused, and nothing runs.
    let (refused, runs) = (live.refused(), live.started());
    browser.navigate(&format!("{other_origin}/introduction.html"))?;
    let target = format!("{base}/_workbook/check/{CHECKED_LESSON}");
    let forged = browser.eval_async(&format!(
        r#"(async () => {{
            const simple = await fetch('{target}', {{method: 'POST', mode: 'no-cors'}})
                .then(() => 'sent', () => 'blocked');
            const token = await fetch('{target}', {{method: 'POST', headers: {{'X-Workbook-Token': '{token}'}}}})
                .then(r => 'answered ' + r.status, () => 'blocked');
            return simple + ', ' + token;
        }})()"#,
        token = live.token()
    ))?;
    // The browser says on the forging page's console that it blocked the request.
    browser.errors.truncate(errors_before);
    if live.started() != runs {
        problems.push(format!(
            "a request forged by another origin ran a check ({forged})"
        ));
    }
    if live.refused() < refused + 2 {
        problems.push(format!(
            "requests forged by another origin were not refused with 403 ({forged}; {} refused)",
            live.refused() - refused
        ));
    }
    println!("browser: requests forged by {other_origin}: {forged}; refused with 403");
    Ok(problems)
}

/// Wait for the page's check to end (it may compile the lesson first); how it ended.
fn wait_for_check(browser: &mut Browser) -> Result<Value, String> {
    let started = Instant::now();
    loop {
        let state = browser.eval("document.getElementById('workbook-live').dataset.check")?;
        if state != json!("running") || started.elapsed() > CHECK_TIME {
            return Ok(state);
        }
        thread::sleep(Duration::from_secs(1));
    }
}

/// Each exercise's anchor and state on the page of `lesson`, as the cache has them.
fn expected_badges(
    root: &Path,
    cache: &Path,
    lesson: &Lesson,
) -> Result<Vec<(String, String)>, String> {
    let progress = Progress::load_from(cache.to_path_buf());
    let entry = progress.get(&lesson.number);
    Ok(lesson
        .chapter(root)?
        .exercises
        .iter()
        .map(|e| {
            let state = match entry {
                None => progress::ExerciseState::NotStarted,
                Some(en) if en.done => progress::ExerciseState::Passes,
                Some(en) => en.exercise_state(&e.id),
            };
            (e.anchor.clone(), state.as_str().to_string())
        })
        .collect())
}

/// Wait up to 10 s for the page's badges to be `want`; else what they are.
fn wait_for_badges(browser: &mut Browser, want: &[(String, String)]) -> Result<(), String> {
    let read = format!(
        "JSON.stringify({anchors}.map(a => [a, document.getElementById(a)?.querySelector('.wb-badge')?.dataset.state ?? 'none']))",
        anchors = json!(want.iter().map(|(a, _)| a).collect::<Vec<_>>())
    );
    let want_json = json!(want.iter().map(|(a, s)| [a, s]).collect::<Vec<_>>()).to_string();
    let got = browser
        .wait_for(&read, &json!(want_json), Duration::from_secs(10))
        .map_err(|e| e.to_string())?;
    if got == json!(want_json) {
        Ok(())
    } else {
        Err(got.as_str().unwrap_or("?").to_string())
    }
}

/// A headless Chromium and a DevTools connection to its one page.
struct Browser {
    child: Child,
    socket: WebSocket<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    /// Errors the pages reported: exceptions, `console.error`, failed loads.
    errors: Vec<String>,
}

impl Browser {
    fn launch(chromium: &Path, profile: &Path) -> Result<Browser, String> {
        let mut child = Command::new(chromium)
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-port=0",
                "--remote-debugging-address=127.0.0.1",
                "--window-size=1280,1600",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            // Its own process group: Debian's `chromium` is a shell script that starts the
            // real browser, which starts more processes; `close` ends the whole group.
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot start {}: {e} (install Debian's `chromium` package, or pass --chromium PATH)",
                    chromium.display()
                )
            })?;
        // Chromium announces its DevTools endpoint on stderr.
        let stderr = child.stderr.take().ok_or("no stderr from chromium")?;
        let (tx, rx) = std::sync::mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.split("DevTools listening on ").nth(1) {
                    let _ = tx.send(url.trim().to_string());
                }
            }
        });
        let browser_url = rx
            .recv_timeout(Duration::from_secs(30))
            .map_err(|_| "chromium did not open its DevTools port within 30 s".to_string())?;
        let port = browser_url
            .trim_start_matches("ws://127.0.0.1:")
            .split('/')
            .next()
            .unwrap_or("")
            .to_string();
        let targets = http_get(&format!("127.0.0.1:{port}"), "/json/list")?;
        let targets: Value =
            serde_json::from_str(&targets).map_err(|e| format!("DevTools /json/list: {e}"))?;
        let page_url = targets
            .as_array()
            .and_then(|t| t.iter().find(|t| t["type"] == "page"))
            .and_then(|t| t["webSocketDebuggerUrl"].as_str())
            .ok_or("chromium has no page to drive")?
            .to_string();
        let (socket, _) = tungstenite::connect(page_url.as_str())
            .map_err(|e| format!("DevTools websocket: {e}"))?;
        if let MaybeTlsStream::Plain(tcp) = socket.get_ref() {
            let _ = tcp.set_read_timeout(Some(Duration::from_secs(30)));
        }
        Ok(Browser {
            child,
            socket,
            next_id: 0,
            errors: Vec::new(),
        })
    }

    /// Send a command and wait for its result, collecting events on the way.
    fn call(&mut self, method: &str, params: Value) -> Result<Value, String> {
        self.next_id += 1;
        let id = self.next_id;
        let request = json!({"id": id, "method": method, "params": params}).to_string();
        self.socket
            .send(Message::text(request))
            .map_err(|e| format!("{method}: {e}"))?;
        loop {
            let message = self.read()?;
            if message["id"].as_u64() == Some(id) {
                if let Some(error) = message.get("error") {
                    return Err(format!("{method}: {error}"));
                }
                return Ok(message["result"].clone());
            }
        }
    }

    /// Read one message; note the errors among events.
    fn read(&mut self) -> Result<Value, String> {
        let message = self.socket.read().map_err(|e| format!("DevTools: {e}"))?;
        let text = match message {
            Message::Text(t) => t.to_string(),
            _ => return Ok(Value::Null),
        };
        let value: Value =
            serde_json::from_str(&text).map_err(|e| format!("DevTools sent bad JSON: {e}"))?;
        match value["method"].as_str() {
            Some("Runtime.exceptionThrown") => {
                let d = &value["params"]["exceptionDetails"];
                let text = d["exception"]["description"]
                    .as_str()
                    .or(d["text"].as_str())
                    .unwrap_or("an exception");
                self.errors
                    .push(format!("{text} ({})", d["url"].as_str().unwrap_or("?")));
            }
            Some("Runtime.consoleAPICalled") if value["params"]["type"] == "error" => {
                let args: Vec<String> = value["params"]["args"]
                    .as_array()
                    .map(|a| a.iter().map(|v| v["value"].to_string()).collect())
                    .unwrap_or_default();
                self.errors
                    .push(format!("console.error({})", args.join(", ")));
            }
            Some("Log.entryAdded") if value["params"]["entry"]["level"] == "error" => {
                let e = &value["params"]["entry"];
                self.errors.push(format!(
                    "{} ({})",
                    e["text"].as_str().unwrap_or("?"),
                    e["url"].as_str().unwrap_or("?")
                ));
            }
            _ => {}
        }
        Ok(value)
    }

    /// Load a page and wait until it has fired `load`.
    fn navigate(&mut self, url: &str) -> Result<(), String> {
        self.call("Page.navigate", json!({"url": url}))?;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if Instant::now() > deadline {
                return Err(format!("{url} did not finish loading within 30 s"));
            }
            let event = self.read()?;
            if event["method"] == "Page.loadEventFired" {
                // Let the page's scripts (theme, sidebar, search index) settle.
                let _ = self.eval_async("new Promise(r => setTimeout(() => r(1), 300))")?;
                return Ok(());
            }
        }
    }

    fn eval(&mut self, expression: &str) -> Result<Value, String> {
        let result = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true}),
        )?;
        Ok(result["result"]["value"].clone())
    }

    fn eval_async(&mut self, expression: &str) -> Result<Value, String> {
        let result = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
        )?;
        Ok(result["result"]["value"].clone())
    }

    /// Evaluate `expression` until it gives `want`, for up to `limit`; the last value.
    fn wait_for(
        &mut self,
        expression: &str,
        want: &Value,
        limit: Duration,
    ) -> Result<Value, String> {
        let deadline = Instant::now() + limit;
        loop {
            let got = self.eval(expression)?;
            if &got == want || Instant::now() > deadline {
                return Ok(got);
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// Save a PNG of the page as it is.
    fn screenshot(&mut self, path: &Path) -> Result<(), String> {
        let shot = self.call("Page.captureScreenshot", json!({"format": "png"}))?;
        let data = shot["data"]
            .as_str()
            .ok_or("the screenshot came back empty")?;
        let png = base64_decode(data).ok_or("the screenshot is not valid base64")?;
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        std::fs::write(path, png).map_err(|e| format!("cannot write {}: {e}", path.display()))
    }

    fn close(mut self) {
        let _ = self.socket.close(None);
        // The group's id is the id of its first process, the one we started.
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A plain HTTP/1.1 GET on loopback; returns the body. Reads exactly `Content-Length`
/// bytes: DevTools' HTTP server does not close the connection after answering.
fn http_get(host: &str, path: &str) -> Result<String, String> {
    let stream = TcpStream::connect(host).map_err(|e| format!("connect {host}: {e}"))?;
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut writer = stream.try_clone().map_err(|e| e.to_string())?;
    write!(
        writer,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut reader = BufReader::new(stream);
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
            break;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse::<usize>().ok();
        }
    }
    let length = length.ok_or_else(|| format!("no Content-Length from {host}{path}"))?;
    let mut body = vec![0; length];
    reader.read_exact(&mut body).map_err(|e| e.to_string())?;
    String::from_utf8(body).map_err(|e| e.to_string())
}

/// Standard base64, as DevTools sends screenshots.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut bits, mut count) = (0u32, 0);
    for c in text
        .bytes()
        .filter(|&c| c != b'=' && !c.is_ascii_whitespace())
    {
        bits = (bits << 6) | u32::from(value(c)?);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_come_from_summary_links_not_drafts() {
        let summary = "# Summary\n\n[Introduction](introduction.md)\n- [0. A](00-a.md)\n- [7. Draft]()\n\n[Appendix](appendix.md#top)\n";
        assert_eq!(
            pages_in(summary).unwrap(),
            ["introduction.html", "00-a.html", "appendix.html"]
        );
        assert!(pages_in("# Summary\n- [Draft]()\n").is_err());
    }

    #[test]
    fn base64_round_trip() {
        assert_eq!(base64_decode("aGVsbG8gd29ybGQ=").unwrap(), b"hello world");
        assert_eq!(base64_decode("YQ==").unwrap(), b"a");
        assert!(base64_decode("a$").is_none());
    }
}
