//! `workbook bench NN`: run a lesson's benchmarks and draw the chapter's charts from the run.
//!
//! A chapter marks each chart it quotes:
//!
//! ```text
//! <!-- bench-chart group=one_thread baseline=governor_quanta_clock,governor_std_clock title="median per 1,000 decisions, one thread" -->
//! ```text
//! …drawn by this command…
//! ```
//! <!-- /bench-chart -->
//! ```
//!
//! `group` is a path in divan's tree (`one_thread`, `readers::two`); the chart has one row
//! per benchmark in it (with `leaf=t=2`, the `t=2` run of each benchmark that divan ran
//! with several thread counts), fastest first, with its median, a bar, and its ratio to each
//! `baseline` named (benchmarks of the same group). With `--write` the command replaces what
//! is between the markers; without it, it prints the charts and says whether the chapter
//! shows this run. `--from FILE` draws from a saved `cargo bench` output instead of
//! running one. Every number in the book comes from one run this way.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};

use crate::Error;
use crate::lessons;

const OPEN: &str = "<!-- bench-chart ";
const CLOSE: &str = "<!-- /bench-chart -->";
const BAR_WIDTH: f64 = 28.0;

pub fn run(root: &Path, number: &str, write: bool, from: Option<&Path>) -> Result<ExitCode, Error> {
    let lesson = lessons::discover(root)?
        .into_iter()
        .find(|l| l.number == number)
        .ok_or_else(|| Error::Usage(format!("there is no lesson {number}")))?;
    let output = match from {
        Some(file) => {
            fs::read_to_string(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?
        }
        None => {
            eprintln!(
                "running `cargo bench -p {} --features solution` (the reference; close other programs for steadier numbers)",
                lesson.package()
            );
            let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .current_dir(root)
                .args(["bench", "-p", &lesson.package(), "--features", "solution"])
                .stderr(Stdio::inherit())
                .output()
                .map_err(|e| format!("cannot run cargo: {e}"))?;
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            if !out.status.success() {
                return Err(format!("cargo bench failed:\n{text}").into());
            }
            let saved = root.join("target").join(format!("bench-{number}.txt"));
            let _ = fs::write(&saved, &text);
            eprintln!("(this run's output is saved in {})", saved.display());
            text
        }
    };
    let medians = parse_divan(&output);
    if medians.is_empty() {
        return Err(format!("no divan results in the output:\n{output}").into());
    }
    let load = load_average();

    let chapter_path = root.join(lesson.chapter(root)?.file);
    let chapter = fs::read_to_string(&chapter_path)
        .map_err(|e| format!("cannot read {}: {e}", chapter_path.display()))?;
    let (updated, charts) = redraw(&chapter, &medians)?;
    if charts == 0 {
        return Err(format!(
            "{} has no `{OPEN}…-->` marker: see workbook/src/bench.rs",
            chapter_path.display()
        )
        .into());
    }
    print!("{}", charts_only(&updated));
    if let Some(load) = load {
        println!("load average when the run ended: {load}");
    }
    if updated == chapter {
        println!(
            "{}: the charts already show this run",
            chapter_path.display()
        );
    } else if write {
        fs::write(&chapter_path, &updated)
            .map_err(|e| format!("cannot write {}: {e}", chapter_path.display()))?;
        println!(
            "{}: {charts} chart(s) redrawn; update the prose around them to match",
            chapter_path.display()
        );
    } else {
        println!(
            "{}: the charts show another run; `--write` redraws them",
            chapter_path.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Benchmark path (`one_thread::governor_std_clock`) → median in nanoseconds, from divan's
/// tree output.
pub fn parse_divan(output: &str) -> BTreeMap<String, f64> {
    let mut medians = BTreeMap::new();
    let mut path: Vec<String> = Vec::new();
    let mut in_tree = false;
    for line in output.lines() {
        // The tree's drawing first (`│  ├─ `), then the name and the columns.
        let prefix_len = line
            .char_indices()
            .find(|(_, c)| !matches!(c, '├' | '╰' | '─' | ' ' | '│'))
            .map_or(line.len(), |(i, _)| i);
        let (prefix, rest) = line.split_at(prefix_len);
        let columns: Vec<&str> = rest.split('│').collect();
        if columns.len() < 4 {
            in_tree = false;
            continue;
        }
        let Some(name) = columns[0].split_whitespace().next() else {
            continue;
        };
        if !prefix.contains('─') {
            // The header line: the benchmark file's name, then the column titles.
            in_tree = rest.contains("fastest");
            path.clear();
            continue;
        }
        if !in_tree {
            continue;
        }
        // Each level of divan's tree is three characters wide.
        let depth = prefix.chars().count() / 3 - 1;
        path.truncate(depth);
        path.push(name.to_owned());
        if let Some(median) = parse_time(columns[2]) {
            medians.insert(path.join("::"), median);
        }
    }
    medians
}

/// `21.9 µs` → 21900.0 (nanoseconds).
fn parse_time(cell: &str) -> Option<f64> {
    let mut parts = cell.split_whitespace();
    let value: f64 = parts.next()?.parse().ok()?;
    let scale = match parts.next()? {
        "ps" => 1e-3,
        "ns" => 1.0,
        "µs" | "us" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        _ => return None,
    };
    Some(value * scale)
}

/// The chapter with every marked chart drawn from `medians`, and how many there were.
fn redraw(chapter: &str, medians: &BTreeMap<String, f64>) -> Result<(String, usize), String> {
    let mut out = String::new();
    let mut charts = 0;
    let mut lines = chapter.split_inclusive('\n');
    while let Some(line) = lines.next() {
        out.push_str(line);
        let Some(spec) = line
            .trim_end()
            .strip_prefix(OPEN)
            .and_then(|s| s.strip_suffix("-->"))
        else {
            continue;
        };
        let spec = Spec::parse(spec)?;
        // Skip the old chart, up to the closing marker.
        loop {
            match lines.next() {
                Some(l) if l.trim_end() == CLOSE => break,
                Some(_) => {}
                None => return Err(format!("a chart for `{}` has no `{CLOSE}`", spec.group)),
            }
        }
        out.push_str("```text\n");
        out.push_str(&spec.draw(medians)?);
        out.push_str("```\n");
        out.push_str(CLOSE);
        out.push('\n');
        charts += 1;
    }
    Ok((out, charts))
}

/// The text between the markers, for the terminal.
fn charts_only(chapter: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in chapter.lines() {
        if line.starts_with(OPEN) {
            inside = true;
        } else if line == CLOSE {
            inside = false;
            out.push('\n');
        } else if inside && !line.starts_with("```") {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

struct Spec {
    group: String,
    /// For benchmarks with several thread counts: which leaf (`t=2`) to chart.
    leaf: Option<String>,
    baselines: Vec<String>,
    title: String,
}

impl Spec {
    /// `group=a::b baseline=x,y title="…"`.
    fn parse(spec: &str) -> Result<Spec, String> {
        let mut fields: BTreeMap<&str, String> = BTreeMap::new();
        let mut rest = spec.trim();
        while !rest.is_empty() {
            let (key, after) = rest
                .split_once('=')
                .ok_or_else(|| format!("bench-chart: expected key=value in `{spec}`"))?;
            let (value, after) = match after.strip_prefix('"') {
                Some(quoted) => quoted
                    .split_once('"')
                    .ok_or_else(|| format!("bench-chart: unclosed quote in `{spec}`"))?,
                None => after.split_once(' ').unwrap_or((after, "")),
            };
            fields.insert(key.trim(), value.to_owned());
            rest = after.trim_start();
        }
        let group = fields
            .remove("group")
            .ok_or_else(|| format!("bench-chart: no group= in `{spec}`"))?;
        Ok(Spec {
            baselines: fields
                .remove("baseline")
                .map(|b| b.split(',').map(str::to_owned).collect())
                .unwrap_or_default(),
            title: fields
                .remove("title")
                .unwrap_or_else(|| format!("median, {group}")),
            leaf: fields.remove("leaf"),
            group,
        })
    }

    fn draw(&self, medians: &BTreeMap<String, f64>) -> Result<String, String> {
        let prefix = format!("{}::", self.group);
        let mut rows: Vec<(&str, f64)> = medians
            .iter()
            .filter_map(|(path, &m)| path.strip_prefix(&prefix).map(|name| (name, m)))
            .filter_map(|(name, m)| match &self.leaf {
                None => (!name.contains("::")).then_some((name, m)),
                Some(leaf) => name
                    .strip_suffix(leaf.as_str())
                    .and_then(|n| n.strip_suffix("::"))
                    .filter(|n| !n.contains("::"))
                    .map(|n| (n, m)),
            })
            .collect();
        if rows.is_empty() {
            return Err(format!(
                "the run has no benchmarks in group `{}`",
                self.group
            ));
        }
        rows.sort_by(|a, b| a.1.total_cmp(&b.1));
        let mut baselines = Vec::new();
        for b in &self.baselines {
            let m = rows
                .iter()
                .find(|(name, _)| name == b)
                .map(|&(_, m)| m)
                .ok_or_else(|| format!("group `{}` has no baseline `{b}`", self.group))?;
            baselines.push((b.as_str(), m));
        }
        let name_width = rows.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
        let slowest = rows.last().map_or(1.0, |r| r.1);
        let mut out = format!("{}\n", self.title);
        if !baselines.is_empty() {
            let mut header = format!("{:w$}", "", w = name_width + 2 + BAR_WIDTH as usize + 12);
            for (b, _) in &baselines {
                header.push_str(&format!("  × {b}"));
            }
            out.push_str(header.trim_end());
            out.push('\n');
        }
        for (name, median) in &rows {
            let mut line = format!(
                "{name:name_width$}  {}  {:>10}",
                bar(median / slowest),
                human(*median)
            );
            for (b, base) in &baselines {
                let cell = format!("{:.2}×", median / base);
                line.push_str(&format!("  {cell:>w$}", w = b.len() + 2));
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        Ok(out)
    }
}

/// A bar of `fraction` × the full width, in eighths of a character.
fn bar(fraction: f64) -> String {
    const EIGHTHS: [char; 8] = ['▏', '▎', '▍', '▌', '▋', '▊', '▉', '█'];
    let eighths = (fraction.clamp(0.0, 1.0) * BAR_WIDTH * 8.0).round() as usize;
    let mut s = "█".repeat(eighths / 8);
    if !eighths.is_multiple_of(8) {
        s.push(EIGHTHS[eighths % 8 - 1]);
    }
    format!("{s:w$}", w = BAR_WIDTH as usize)
}

/// 21900.0 → `21.90 µs`.
fn human(ns: f64) -> String {
    match ns {
        n if n >= 1e9 => format!("{:.2} s", n / 1e9),
        n if n >= 1e6 => format!("{:.2} ms", n / 1e6),
        n if n >= 1e3 => format!("{:.2} µs", n / 1e3),
        n => format!("{n:.2} ns"),
    }
}

/// The 1-minute load average, so a chart's caption can say how busy the machine was.
fn load_average() -> Option<String> {
    let text = fs::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace().next().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUN: &str = "\
limiters                      fastest       │ slowest       │ median        │ mean          │ samples │ iters
├─ clock                                    │               │               │               │         │
│  ├─ quanta                  9.022 µs      │ 34.67 µs      │ 9.042 µs      │ 9.569 µs      │ 50      │ 50
│  ╰─ tokio_instant           21.75 µs      │ 23.01 µs      │ 21.9 µs       │ 21.98 µs      │ 50      │ 50
╰─ one_thread                               │               │               │               │         │
   ├─ governor               8.992 µs      │ 78.21 µs      │ 9 µs          │ 10.46 µs      │ 50      │ 50
   ╰─ ours                   33.25 µs      │ 35.6 µs       │ 27 µs         │ 33.59 µs      │ 50      │ 50
";

    #[test]
    fn reads_divan_medians_by_path() {
        let m = parse_divan(RUN);
        assert_eq!(m.len(), 4, "{m:?}");
        assert_eq!(m["clock::quanta"], 9042.0);
        assert_eq!(m["clock::tokio_instant"], 21900.0);
        assert_eq!(m["one_thread::ours"], 27000.0);
    }

    #[test]
    fn redraws_between_the_markers_only() {
        let chapter = "before\n<!-- bench-chart group=one_thread baseline=governor title=\"t\" -->\nold\n<!-- /bench-chart -->\nafter\n";
        let (out, n) = redraw(chapter, &parse_divan(RUN)).expect("redraws");
        assert_eq!(n, 1);
        assert!(out.starts_with("before\n<!-- bench-chart "), "{out}");
        assert!(out.ends_with("<!-- /bench-chart -->\nafter\n"), "{out}");
        assert!(!out.contains("old"), "{out}");
        let governor = out
            .lines()
            .find(|l| l.starts_with("governor"))
            .expect("row");
        let ours = out.lines().find(|l| l.starts_with("ours")).expect("row");
        assert!(governor.ends_with("1.00×"), "{governor}");
        assert!(ours.ends_with("3.00×"), "{ours}");
        assert!(ours.contains("27.00 µs"), "{ours}");
        // Drawing again from the same run changes nothing.
        assert_eq!(redraw(&out, &parse_divan(RUN)).expect("redraws").0, out);
    }
}
