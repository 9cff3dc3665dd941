//! What the kit knows of a chapter: its title, and the heading of each exercise.
//!
//! The chapter is the one source of exercise titles and sections: the failure messages
//! read them from `book/NN-slug.md`, so they cannot drift apart from the book.

use std::fs;
use std::path::{Path, PathBuf};

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
        Ok(Chapter::parse(&file, number, &text))
    }

    /// Parse a chapter's markdown.
    pub fn parse(file: &str, number: &str, text: &str) -> Chapter {
        let title = text
            .lines()
            .find_map(|l| l.strip_prefix("# "))
            .unwrap_or(file)
            .trim()
            .to_string();
        let exercises = text.lines().filter_map(parse_exercise_heading).collect();
        Chapter {
            file: file.to_string(),
            title,
            number: number.parse().unwrap_or(0),
            exercises,
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
             (in the browser: run `cargo workbook book`, then open http://127.0.0.1:3000/{page}#{anchor})",
            n = self.number,
            title = self.title,
            id = ex.id,
            section = ex.title,
            file = self.file,
            anchor = ex.anchor,
            page = self.html_page(),
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
    Some(ExerciseInfo { id, title, anchor })
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
}
