//! Reviewable differences between expected and actual outputs (files or whole folders).

use similar::{ChangeTag, TextDiff};
use std::collections::BTreeSet;
use std::fmt::{self, Write};
use std::path::{Path, PathBuf};

const CONTEXT_LINES: usize = 3;

/// A unified diff of two texts, empty when they are equal.
pub fn unified(expected: &str, actual: &str, expected_name: &str, actual_name: &str) -> String {
    if expected == actual {
        return String::new();
    }
    TextDiff::from_lines(expected, actual)
        .unified_diff()
        .context_radius(CONTEXT_LINES)
        .header(expected_name, actual_name)
        .missing_newline_hint(true)
        .to_string()
}

/// Colors a unified diff for a terminal: removals red, additions green, hunks cyan.
pub fn colorize(diff: &str) -> String {
    let mut out = String::with_capacity(diff.len() + diff.len() / 8);
    for line in diff.split_inclusive('\n') {
        let color = if line.starts_with("---") || line.starts_with("+++") {
            "1"
        } else if line.starts_with('-') {
            "31"
        } else if line.starts_with('+') {
            "32"
        } else if line.starts_with("@@") {
            "36"
        } else {
            out.push_str(line);
            continue;
        };
        let body = line.strip_suffix('\n').unwrap_or(line);
        let _ = write!(out, "\x1b[{color}m{body}\x1b[0m");
        if line.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("cannot compare a folder with a file: {} and {}", expected.display(), actual.display())]
    Mismatch { expected: PathBuf, actual: PathBuf },
}

/// What `diff` found: for folders a summary first, then the unified diff of every changed file.
#[derive(Debug, Default)]
pub struct Report {
    /// Folders only: which files were added, removed or changed.
    pub summary: Option<FolderSummary>,
    /// The unified diffs, one after the other; empty when nothing changed.
    pub diffs: String,
}

impl Report {
    pub fn is_empty(&self) -> bool {
        self.diffs.is_empty() && self.summary.as_ref().is_none_or(|s| s.added.is_empty() && s.removed.is_empty())
    }
}

/// Two folders compared file by file, by path relative to each; lists in path order.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct FolderSummary {
    /// Only in the actual folder.
    pub added: Vec<PathBuf>,
    /// Only in the expected folder.
    pub removed: Vec<PathBuf>,
    /// In both with other content, with the lines added and removed.
    pub changed: Vec<(PathBuf, usize, usize)>,
    pub unchanged: usize,
}

impl fmt::Display for FolderSummary {
    /// `N changed, N added, N removed, N unchanged`, then a line per file that differs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (changed, added, removed) = (self.changed.len(), self.added.len(), self.removed.len());
        writeln!(f, "{changed} changed, {added} added, {removed} removed, {} unchanged", self.unchanged)?;
        for (path, plus, minus) in &self.changed {
            writeln!(f, "  changed  {}  +{plus} -{minus}", path.display())?;
        }
        for path in &self.added {
            writeln!(f, "  added    {}", path.display())?;
        }
        for path in &self.removed {
            writeln!(f, "  removed  {}", path.display())?;
        }
        Ok(())
    }
}

/// Compares two files, or two folders file by file (recursively, in path order).
pub fn diff_paths(expected: &Path, actual: &Path) -> Result<Report, DiffError> {
    match (expected.is_dir(), actual.is_dir()) {
        (false, false) => {
            let diffs = unified(&read(expected)?, &read(actual)?, &expected.display().to_string(), &actual.display().to_string());
            Ok(Report { summary: None, diffs })
        }
        (true, true) => diff_folders(expected, actual),
        _ => Err(DiffError::Mismatch { expected: expected.into(), actual: actual.into() }),
    }
}

fn diff_folders(expected: &Path, actual: &Path) -> Result<Report, DiffError> {
    let expected_files = relative_files(expected)?;
    let actual_files = relative_files(actual)?;
    let mut summary = FolderSummary::default();
    let mut diffs = String::new();
    for rel in expected_files.union(&actual_files) {
        let (e, a) = (expected.join(rel), actual.join(rel));
        match (expected_files.contains(rel), actual_files.contains(rel)) {
            (true, true) => {
                let (old, new) = (read(&e)?, read(&a)?);
                if old == new {
                    summary.unchanged += 1;
                    continue;
                }
                let (plus, minus) = changed_lines(&old, &new);
                summary.changed.push((rel.clone(), plus, minus));
                diffs.push_str(&unified(&old, &new, &e.display().to_string(), &a.display().to_string()));
            }
            (true, false) => summary.removed.push(rel.clone()),
            _ => summary.added.push(rel.clone()),
        }
    }
    Ok(Report { summary: Some(summary), diffs })
}

/// Lines added and removed from `old` to `new`.
fn changed_lines(old: &str, new: &str) -> (usize, usize) {
    let diff = TextDiff::from_lines(old, new);
    let count = |tag: ChangeTag| diff.iter_all_changes().filter(|c| c.tag() == tag).count();
    (count(ChangeTag::Insert), count(ChangeTag::Delete))
}

fn read(path: &Path) -> Result<String, DiffError> {
    let bytes = std::fs::read(path).map_err(|source| DiffError::Io { path: path.into(), source })?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn relative_files(root: &Path) -> Result<BTreeSet<PathBuf>, DiffError> {
    let mut files = BTreeSet::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|source| DiffError::Io { path: dir.clone(), source })?;
        for entry in entries {
            let path = entry.map_err(|source| DiffError::Io { path: dir.clone(), source })?.path();
            if path.is_dir() {
                pending.push(path);
            } else if let Ok(rel) = path.strip_prefix(root) {
                files.insert(rel.to_path_buf());
            }
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_have_no_diff() {
        assert_eq!(unified("a\nb\n", "a\nb\n", "x", "y"), "");
    }

    #[test]
    fn changed_line_shows_as_removal_and_addition() {
        let diff = unified("a\nb\nc\n", "a\nB\nc\n", "expected", "actual");
        assert!(diff.starts_with("--- expected\n+++ actual\n"), "{diff}");
        assert!(diff.contains("\n-b\n+B\n"), "{diff}");
        let colored = colorize(&diff);
        assert!(colored.contains("\x1b[31m-b\x1b[0m\n\x1b[32m+B\x1b[0m\n"), "{colored:?}");
    }

    #[test]
    fn folders_report_changed_and_missing_files() {
        let root = std::env::temp_dir().join(format!("ruleconv-diff-{}", std::process::id()));
        let (e, a) = (root.join("e"), root.join("a"));
        for dir in [&e, &a] {
            std::fs::create_dir_all(dir.join("sub")).unwrap();
        }
        std::fs::write(e.join("sub/same.txt"), "x\n").unwrap();
        std::fs::write(a.join("sub/same.txt"), "x\n").unwrap();
        std::fs::write(e.join("changed.txt"), "1\n").unwrap();
        std::fs::write(a.join("changed.txt"), "2\n").unwrap();
        std::fs::write(e.join("gone.txt"), "g\n").unwrap();
        std::fs::write(a.join("new.txt"), "n\n").unwrap();
        let report = diff_paths(&e, &a).unwrap();
        std::fs::remove_dir_all(&root).unwrap();
        let summary = report.summary.expect("folders are summarized");
        assert_eq!(
            summary,
            FolderSummary {
                added: vec!["new.txt".into()],
                removed: vec!["gone.txt".into()],
                changed: vec![("changed.txt".into(), 1, 1)],
                unchanged: 1,
            }
        );
        assert_eq!(
            summary.to_string(),
            "1 changed, 1 added, 1 removed, 1 unchanged\n  changed  changed.txt  +1 -1\n  added    new.txt\n  removed  gone.txt\n"
        );
        assert!(report.diffs.contains("-1\n+2\n"), "{}", report.diffs);
        assert!(!report.diffs.contains("same.txt"), "{}", report.diffs);
    }
}
