//! `workbook check-book`: every `{{#include}}` resolves, every link between pages lands.
//!
//! mdBook only warns about a missing include and does not check links at all; a learner
//! would meet either as a broken page. This reads the book's sources and checks:
//! - `{{#include path}}` / `{{#include path:anchor}}` / `{{#rustdoc_include …}}`: the file
//!   exists, and a named anchor appears in it as `ANCHOR: name`;
//! - relative links `[text](page.md#heading)`: the page exists inside `book/` and, when a
//!   fragment is given, has a heading with that id;
//! - `SUMMARY.md` entries point at existing pages (draft entries, with an empty link, are fine).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;

pub fn run(root: &Path) -> Result<ExitCode, String> {
    let problems = check(&root.join("book"))?;
    if problems.is_empty() {
        println!("book: every include and link resolves");
        Ok(ExitCode::SUCCESS)
    } else {
        for p in &problems {
            println!("- {p}");
        }
        println!("book: {} broken includes or links", problems.len());
        Ok(ExitCode::FAILURE)
    }
}

/// All problems found in the book under `book_dir`.
pub fn check(book_dir: &Path) -> Result<Vec<String>, String> {
    let pages = markdown_files(book_dir)?;
    let mut anchors: BTreeMap<PathBuf, BTreeSet<String>> = BTreeMap::new();
    for page in &pages {
        let text = fs::read_to_string(page).map_err(|e| format!("{}: {e}", page.display()))?;
        anchors.insert(normalize(page), heading_ids(&text));
    }

    let include = regex_lite::Regex::new(r"\{\{#(?:include|rustdoc_include)\s+([^}\s]+)\s*\}\}")
        .expect("regex");
    let link = regex_lite::Regex::new(r"\]\(([^)\s]*)\)").expect("regex");
    let mut problems = Vec::new();
    for page in &pages {
        let text = fs::read_to_string(page).map_err(|e| format!("{}: {e}", page.display()))?;
        let here = page.parent().unwrap_or(book_dir);
        let name = page
            .strip_prefix(book_dir)
            .unwrap_or(page)
            .display()
            .to_string();
        let mut in_code = false;
        for (i, line) in text.lines().enumerate() {
            let at = format!("book/{name}:{}", i + 1);
            for cap in include.captures_iter(line) {
                let spec = &cap[1];
                let (file, anchor) = match spec.split_once(':') {
                    Some((f, a)) => (f, Some(a)),
                    None => (spec, None),
                };
                let target = here.join(file);
                match fs::read_to_string(&target) {
                    Err(_) => problems.push(format!("{at}: include `{file}` does not exist")),
                    Ok(body) => {
                        let named = anchor.filter(|a| {
                            !a.is_empty() && !a.chars().next().unwrap_or('0').is_ascii_digit()
                        });
                        if let Some(a) = named.filter(|a| !body.contains(&format!("ANCHOR: {a}"))) {
                            problems.push(format!("{at}: include `{file}` has no `ANCHOR: {a}`"));
                        }
                    }
                }
            }
            if line.trim_start().starts_with("```") {
                in_code = !in_code;
            }
            if in_code {
                continue;
            }
            for cap in link.captures_iter(&strip_code_spans(line)) {
                let target = &cap[1];
                if target.is_empty() {
                    if name != "SUMMARY.md" {
                        problems.push(format!("{at}: empty link"));
                    }
                    continue;
                }
                if target.contains("://") || target.starts_with("mailto:") {
                    continue;
                }
                let (file, fragment) = match target.split_once('#') {
                    Some((f, frag)) => (f, Some(frag)),
                    None => (target, None),
                };
                let resolved = if file.is_empty() {
                    page.clone()
                } else {
                    here.join(file)
                };
                let resolved = normalize(&resolved);
                if !resolved.starts_with(normalize(book_dir)) {
                    problems.push(format!(
                        "{at}: link `{target}` leaves the book; a reader's browser cannot follow it"
                    ));
                    continue;
                }
                let md = if resolved.extension().is_some_and(|e| e == "html") {
                    resolved.with_extension("md")
                } else {
                    resolved.clone()
                };
                if !md.exists() {
                    problems.push(format!(
                        "{at}: link `{target}` points at a page that does not exist"
                    ));
                    continue;
                }
                if let Some(fragment) = fragment {
                    let known = anchors.get(&md).is_some_and(|ids| ids.contains(fragment));
                    if !known {
                        problems.push(format!(
                            "{at}: link `{target}`: no heading with id `{fragment}`"
                        ));
                    }
                }
            }
        }
    }
    Ok(problems)
}

fn markdown_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).map_err(|e| format!("{}: {e}", d.display()))? {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The ids mdBook gives a page's headings: an explicit `{#id}`, or the text normalized.
fn heading_ids(text: &str) -> BTreeSet<String> {
    let explicit = regex_lite::Regex::new(r"\{#([A-Za-z0-9_-]+)\}\s*$").expect("regex");
    let mut ids = BTreeSet::new();
    let mut in_code = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        }
        if in_code || !line.starts_with('#') {
            continue;
        }
        let heading = line.trim_start_matches('#').trim();
        if let Some(cap) = explicit.captures(heading) {
            ids.insert(cap[1].to_string());
            continue;
        }
        let id: String = strip_markup(heading)
            .chars()
            .filter_map(|c| {
                if c.is_alphanumeric() || c == '_' || c == '-' {
                    Some(c.to_ascii_lowercase())
                } else if c.is_whitespace() {
                    Some('-')
                } else {
                    None
                }
            })
            .collect();
        ids.insert(id);
    }
    ids
}

fn strip_markup(heading: &str) -> String {
    heading.replace(['`', '*'], "")
}

fn strip_code_spans(line: &str) -> String {
    let mut out = String::new();
    let mut in_span = false;
    for c in line.chars() {
        if c == '`' {
            in_span = !in_span;
        } else if !in_span {
            out.push(c);
        }
    }
    out
}

/// Resolve `.` and `..` without touching the disk.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_broken_links_and_includes() {
        let dir = std::env::temp_dir().join(format!("checkbook-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("a.md"), "# A\n## Two words {#two}\n[ok](b.md#b-page) [bad](b.md#nope) [gone](c.md) [out](../x.md)\n{{#include missing.rs}}\n").unwrap();
        fs::write(dir.join("b.md"), "# B page\n[back](a.md#two)\n").unwrap();
        let problems = check(&dir).unwrap();
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(problems.len(), 4, "{problems:#?}");
        assert!(
            problems
                .iter()
                .any(|p| p.contains("no heading with id `nope`"))
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("`c.md` points at a page"))
        );
        assert!(problems.iter().any(|p| p.contains("leaves the book")));
        assert!(problems.iter().any(|p| p.contains("missing.rs")));
    }
}
