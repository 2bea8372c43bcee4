//! Reviewable differences between expected and actual outputs (files or whole folders).

use similar::TextDiff;
use std::collections::BTreeSet;
use std::fmt::Write;
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

/// Compares two files, or two folders file by file (recursively, in path order).
/// Returns the whole report; empty means no difference.
pub fn diff_paths(expected: &Path, actual: &Path) -> Result<String, DiffError> {
    match (expected.is_dir(), actual.is_dir()) {
        (false, false) => Ok(unified(&read(expected)?, &read(actual)?, &expected.display().to_string(), &actual.display().to_string())),
        (true, true) => diff_folders(expected, actual),
        _ => Err(DiffError::Mismatch { expected: expected.into(), actual: actual.into() }),
    }
}

fn diff_folders(expected: &Path, actual: &Path) -> Result<String, DiffError> {
    let expected_files = relative_files(expected)?;
    let actual_files = relative_files(actual)?;
    let mut report = String::new();
    for rel in expected_files.union(&actual_files) {
        let (e, a) = (expected.join(rel), actual.join(rel));
        match (expected_files.contains(rel), actual_files.contains(rel)) {
            (true, true) => report.push_str(&unified(&read(&e)?, &read(&a)?, &e.display().to_string(), &a.display().to_string())),
            (true, false) => {
                let _ = writeln!(report, "only in {}: {}", expected.display(), rel.display());
            }
            _ => {
                let _ = writeln!(report, "only in {}: {}", actual.display(), rel.display());
            }
        }
    }
    Ok(report)
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
        assert!(report.contains("-1\n+2\n"), "{report}");
        assert!(report.contains("gone.txt") && report.contains("new.txt"), "{report}");
        assert!(!report.contains("same.txt"), "{report}");
    }
}
