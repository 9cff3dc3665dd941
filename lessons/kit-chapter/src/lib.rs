//! What the harness and the runner share: what they read of a chapter, where the book is
//! served, and the [`report`] the harness hands the runner.
//!
//! The chapter is the one source of exercise titles and sections: the failure messages
//! read them from `book/NN-slug.md`, so they cannot drift apart from the book.

pub mod report;

use std::fs;
use std::path::{Path, PathBuf};

/// Where `cargo workbook book` serves the book unless told another port.
pub const DEFAULT_BOOK_URL: &str = "http://127.0.0.1:3000";

/// The file, below the workspace root, in which `cargo workbook book` records its address.
pub const BOOK_URL_FILE: &str = ".workbook/book-url";

/// The address the book was last served at (`cargo workbook book --port` records it), or
/// the default one.
pub fn book_url(root: &Path) -> String {
    fs::read_to_string(root.join(BOOK_URL_FILE))
        .ok()
        .map(|s| s.trim().trim_end_matches('/').to_string())
        .filter(|s| s.starts_with("http://") || s.starts_with("https://"))
        .unwrap_or_else(|| DEFAULT_BOOK_URL.to_string())
}

/// A chapter of the book, as far as test messages need it.
#[derive(Clone, Debug)]
pub struct Chapter {
    /// Path relative to the workspace root, e.g. `book/01-actors.md`.
    pub file: String,
    /// The page's `# ` title.
    pub title: String,
    /// The lesson number with leading zeros stripped, e.g. `1`.
    pub number: u32,
    /// Every `## Exercise NN.k: …` heading, in book order.
    pub exercises: Vec<ExerciseInfo>,
    /// Where the book is served, e.g. `http://127.0.0.1:3000` (see [`book_url`]).
    pub book_url: String,
}

/// One exercise heading in a chapter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExerciseInfo {
    /// `"01.2"`.
    pub id: String,
    /// The heading text after the id, e.g. `"Request and reply"`.
    pub title: String,
    /// The HTML anchor of the heading, e.g. `"ex-01-2"`.
    pub anchor: String,
    /// The exercise file named on the first `File: \`…\`` line after the heading.
    pub file: Option<String>,
    /// The exercise's hints, in order: every ```` ```admonish tip ```` block between its
    /// heading and the next heading of the same level or higher.
    pub hints: Vec<Hint>,
}

/// One collapsible hint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hint {
    /// The block's `title="…"`, e.g. `"Hint 2"`.
    pub title: String,
    /// The markdown inside the block.
    pub body: String,
}

impl Chapter {
    /// Load `book/NN-*.md` below `root`.
    pub fn load(root: &Path, number: &str) -> Result<Chapter, String> {
        let book = root.join("book");
        let path = find_chapter(&book, number)
            .ok_or_else(|| format!("no chapter book/{number}-*.md for lesson {number}"))?;
        let text = fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let file = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        let mut chapter = Chapter::parse(&file, number, &text);
        chapter.book_url = book_url(root);
        Ok(chapter)
    }

    /// Parse a chapter's markdown.
    pub fn parse(file: &str, number: &str, text: &str) -> Chapter {
        let title = text
            .lines()
            .find_map(|l| l.strip_prefix("# "))
            .unwrap_or(file)
            .trim()
            .to_string();
        let exercises = parse_exercises(text);
        Chapter {
            file: file.to_string(),
            title,
            number: number.parse().unwrap_or(0),
            exercises,
            book_url: DEFAULT_BOOK_URL.to_string(),
        }
    }

    /// The exercise with this id.
    pub fn exercise(&self, id: &str) -> Option<&ExerciseInfo> {
        self.exercises.iter().find(|e| e.id == id)
    }

    /// The page's file name in the built book, e.g. `01-actors.html`.
    pub fn html_page(&self) -> String {
        let name = self.file.rsplit('/').next().unwrap_or(&self.file);
        name.trim_end_matches(".md").to_string() + ".html"
    }

    /// Where to read about an exercise, for failure messages.
    pub fn where_to_read(&self, ex: &ExerciseInfo) -> String {
        format!(
            "read: chapter {n}, \"{title}\", section \"Exercise {id}: {section}\"\n      \
             {file}#{anchor}\n      \
             (in the browser: run `cargo workbook book`, then open {url}/{page}#{anchor})",
            n = self.number,
            title = self.title,
            id = ex.id,
            section = ex.title,
            file = self.file,
            anchor = ex.anchor,
            page = self.html_page(),
            url = self.book_url,
        )
    }
}

fn find_chapter(book: &Path, number: &str) -> Option<PathBuf> {
    let prefix = format!("{number}-");
    let mut found: Vec<PathBuf> = fs::read_dir(book)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.starts_with(&prefix) && name.ends_with(".md")
        })
        .collect();
    found.sort();
    found.into_iter().next()
}

/// Every exercise heading, with the hints that follow it.
fn parse_exercises(text: &str) -> Vec<ExerciseInfo> {
    let mut exercises: Vec<ExerciseInfo> = Vec::new();
    // The heading level of the exercise we are inside, if any.
    let mut inside: Option<usize> = None;
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") && !trimmed.starts_with("```admonish") {
            // An ordinary code block: its lines are not headings, even if they start with `#`.
            for inner in lines.by_ref() {
                if inner.trim_start().starts_with("```") {
                    break;
                }
            }
            continue;
        }
        let level = line.chars().take_while(|&c| c == '#').count();
        if level > 0 && line[level..].starts_with(' ') {
            if let Some(ex) = parse_exercise_heading(line) {
                exercises.push(ex);
                inside = Some(level);
            } else if inside.is_some_and(|l| level <= l) {
                inside = None;
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("File: `")
            && let Some(ex) = exercises.last_mut().filter(|_| inside.is_some())
            && ex.file.is_none()
        {
            ex.file = rest.split_once('`').map(|(f, _)| f.to_string());
        }
        let Some(fence) = line.trim_start().strip_prefix("```admonish") else {
            continue;
        };
        let kind = fence.split_whitespace().next().unwrap_or("");
        let mut body = Vec::new();
        for inner in lines.by_ref() {
            if inner.trim_start().starts_with("```") {
                break;
            }
            body.push(inner);
        }
        if kind != "tip" || inside.is_none() {
            continue;
        }
        let title = fence
            .split_once("title=\"")
            .and_then(|(_, rest)| rest.split_once('"'))
            .map(|(t, _)| t.to_string())
            .unwrap_or_else(|| "Hint".to_string());
        if let Some(ex) = exercises.last_mut() {
            ex.hints.push(Hint {
                title,
                body: body.join("\n").trim().to_string(),
            });
        }
    }
    exercises
}

/// `## Exercise 01.2: Request and reply {#ex-01-2}` → id, title, anchor.
pub(crate) fn parse_exercise_heading(line: &str) -> Option<ExerciseInfo> {
    let re = regex_lite::Regex::new(
        r"^#{2,4}\s+Exercise\s+(\d{2}\.\d+):\s*(.+?)\s*(?:\{#([A-Za-z0-9_-]+)\})?\s*$",
    )
    .expect("valid regex");
    let caps = re.captures(line)?;
    let id = caps[1].to_string();
    let title = caps[2].to_string();
    let anchor = match caps.get(3) {
        Some(a) => a.as_str().to_string(),
        None => mdbook_anchor(&format!("Exercise {id}: {title}")),
    };
    Some(ExerciseInfo {
        id,
        title,
        anchor,
        file: None,
        hints: Vec::new(),
    })
}

/// The id mdBook gives a heading without an explicit one.
fn mdbook_anchor(heading: &str) -> String {
    heading
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
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_with_and_without_ids() {
        let text =
            "# Actors\n\n## Exercise 01.1: A mailbox {#ex-01-1}\n\ntext\n### Exercise 01.2: Ask\n";
        let ch = Chapter::parse("book/01-actors.md", "01", text);
        assert_eq!(ch.title, "Actors");
        assert_eq!(ch.number, 1);
        assert_eq!(ch.exercises.len(), 2);
        assert_eq!(ch.exercises[0].anchor, "ex-01-1");
        assert_eq!(ch.exercises[1].anchor, "exercise-012-ask");
        assert_eq!(ch.html_page(), "01-actors.html");
    }

    #[test]
    fn the_book_is_where_it_was_last_served() {
        let root = std::env::temp_dir().join(format!("kit-chapter-url-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(root.join("book")).unwrap();
        fs::write(root.join("book/01-a.md"), "# A\n## Exercise 01.1: X\n").unwrap();
        let url = |root: &Path| Chapter::load(root, "01").unwrap().book_url;
        assert_eq!(url(&root), DEFAULT_BOOK_URL);
        fs::create_dir_all(root.join(".workbook")).unwrap();
        fs::write(root.join(BOOK_URL_FILE), "http://127.0.0.1:8080/\n").unwrap();
        assert_eq!(url(&root), "http://127.0.0.1:8080");
        let chapter = Chapter::load(&root, "01").unwrap();
        assert!(
            chapter
                .where_to_read(&chapter.exercises[0])
                .contains("open http://127.0.0.1:8080/01-a.html#exercise-011-x")
        );
        fs::write(root.join(BOOK_URL_FILE), "garbage").unwrap();
        assert_eq!(url(&root), DEFAULT_BOOK_URL);
        let _ = fs::remove_dir_all(&root);
    }

    #[test]
    fn hints_belong_to_the_exercise_above_them() {
        let text = "# T\n## Exercise 01.1: A {#ex-01-1}\n\nFile: `src/a.rs`.\n```admonish tip collapsible=true title=\"Hint 1\"\nfirst\n```\n\
                    ```admonish warning\nnot a hint\n```\n### Sub\n```admonish tip title=\"Hint 2\"\nsecond\n```\n\
                    ```sh\n# a comment, not a heading\n```\n```admonish tip title=\"Hint 3\"\nthird\n```\n\
                    ## Running\n```admonish tip title=\"Not a hint\"\nx\n```\n## Exercise 01.2: B\n";
        let ch = Chapter::parse("book/01-a.md", "01", text);
        let titles: Vec<_> = ch.exercises[0]
            .hints
            .iter()
            .map(|h| h.title.as_str())
            .collect();
        assert_eq!(titles, ["Hint 1", "Hint 2", "Hint 3"]);
        assert_eq!(ch.exercises[0].hints[0].body, "first");
        assert!(ch.exercises[1].hints.is_empty());
        assert_eq!(ch.exercises[0].file.as_deref(), Some("src/a.rs"));
        assert_eq!(ch.exercises[1].file, None);
    }
}
