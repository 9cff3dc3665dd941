//! Skeletons are generated from their solutions: one source for everything the two share.
//!
//! A solution file (`solutions/NN-slug/FILE.rs`) is the reference, written as ordinary
//! Rust, with regions marked by three comment lines:
//!
//! ```text
//!     //@ solution
//!     let mut state = self.lock();          <- only in the solution
//!     ...
//!     //@ skeleton
//!     // let _ = self.lock();               <- only in the skeleton, written as comments
//!     // todo!("exercise 06.4: Pool::close")
//!     //@ end
//! ```
//!
//! Everything outside a region (types, signatures, doc comments) is in both. The skeleton
//! (`lessons/NN-slug/src/FILE.rs`) is the solution with each region replaced by its
//! `//@ skeleton` part, uncommented: a line `// text` becomes `text` at the indentation of
//! the `//@ skeleton` marker, so what rustfmt does to the comments' indentation does not
//! matter, and a line `//` becomes an empty line. A region with no `//@ skeleton` part
//! disappears from the skeleton.
//!
//! `workbook skeleton` writes the skeletons; `workbook verify` fails when a committed one
//! differs from what this makes; `workbook reset` restores from here.

use std::fs;
use std::path::{Path, PathBuf};

const SOLUTION: &str = "//@ solution";
const SKELETON: &str = "//@ skeleton";
const END: &str = "//@ end";

/// The skeleton made from an annotated solution, or what is wrong with its markers
/// (`file` names it in the message).
pub fn generate(file: &str, solution: &str) -> Result<String, String> {
    #[derive(PartialEq)]
    enum Mode {
        Shared,
        Solution,
        Skeleton { indent: String },
    }
    let mut mode = Mode::Shared;
    let mut opened_at = 0;
    let mut out = String::with_capacity(solution.len());
    for (i, line) in solution.lines().enumerate() {
        let n = i + 1;
        let trimmed = line.trim();
        let indent = &line[..line.len() - line.trim_start().len()];
        if trimmed.starts_with("//@") {
            mode = match (trimmed, &mode) {
                (SOLUTION, Mode::Shared) => {
                    opened_at = n;
                    Mode::Solution
                }
                (SKELETON, Mode::Solution) => Mode::Skeleton {
                    indent: indent.to_string(),
                },
                (END, Mode::Solution | Mode::Skeleton { .. }) => Mode::Shared,
                _ => {
                    return Err(format!(
                        "{file}:{n}: `{trimmed}` here is out of place: a region is `{SOLUTION}`, \
                         then optionally `{SKELETON}`, then `{END}`, and regions do not nest"
                    ));
                }
            };
            continue;
        }
        match &mode {
            Mode::Shared => out.push_str(line),
            Mode::Solution => continue,
            Mode::Skeleton { indent } => {
                if trimmed == "//" {
                    // An empty line of the skeleton.
                } else if let Some(text) = line.trim_start().strip_prefix("// ") {
                    out.push_str(indent);
                    out.push_str(text);
                } else {
                    return Err(format!(
                        "{file}:{n}: a skeleton line must be a `// ` comment (or `//` for an empty \
                         line), found {line:?}"
                    ));
                }
            }
        }
        out.push('\n');
    }
    if mode != Mode::Shared {
        return Err(format!(
            "{file}:{opened_at}: the region opened here has no `{END}`"
        ));
    }
    Ok(out)
}

/// One exercise file of a lesson, with the solution it is made from.
#[derive(Clone, Debug)]
pub struct Pair {
    /// `lessons/NN-slug/src/FILE.rs`.
    pub skeleton: PathBuf,
    /// `solutions/NN-slug/FILE.rs`.
    pub solution: PathBuf,
}

impl Pair {
    /// The skeleton this pair's solution makes.
    pub fn generated(&self, root: &Path) -> Result<String, String> {
        let text = fs::read_to_string(&self.solution)
            .map_err(|e| format!("cannot read {}: {e}", rel(root, &self.solution)))?;
        generate(&rel(root, &self.solution), &text)
    }

    /// `Ok(true)` when the committed skeleton is what the solution makes.
    pub fn up_to_date(&self, root: &Path) -> Result<bool, String> {
        let generated = self.generated(root)?;
        Ok(fs::read_to_string(&self.skeleton).ok().as_deref() == Some(generated.as_str()))
    }
}

pub fn rel(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_become_the_skeleton() {
        let solution = "//! Shared.\n//@ solution\n//! Only the solution.\n//@ end\nfn f(x: u32) -> u32 {\n    //@ solution\n    // why: a comment of the solution\n    x + 1\n    //@ skeleton\n      // let _ = x;\n      //\n      // todo!(\"exercise 01.1: f\")\n    //@ end\n}\n";
        let skeleton = generate("s.rs", solution).unwrap();
        assert_eq!(
            skeleton,
            "//! Shared.\nfn f(x: u32) -> u32 {\n    let _ = x;\n\n    todo!(\"exercise 01.1: f\")\n}\n"
        );
    }

    #[test]
    fn relative_indentation_inside_a_skeleton_part_is_kept() {
        let solution = "    //@ solution\n    a\n    //@ skeleton\n    // let _ = (\n    //     b,\n    // );\n    //@ end\n";
        assert_eq!(
            generate("s.rs", solution).unwrap(),
            "    let _ = (\n        b,\n    );\n"
        );
    }

    #[test]
    fn bad_markers_are_named_with_their_line() {
        let unclosed = generate("s.rs", "a\n//@ solution\nb\n").unwrap_err();
        assert!(unclosed.starts_with("s.rs:2:"), "{unclosed}");
        let nested = generate("s.rs", "//@ solution\n//@ solution\n//@ end\n").unwrap_err();
        assert!(nested.starts_with("s.rs:2:"), "{nested}");
        let stray = generate("s.rs", "//@ end\n").unwrap_err();
        assert!(stray.starts_with("s.rs:1:"), "{stray}");
        let code = generate("s.rs", "//@ solution\n//@ skeleton\nlet x = 1;\n//@ end\n");
        assert!(code.unwrap_err().starts_with("s.rs:3:"));
    }
}
