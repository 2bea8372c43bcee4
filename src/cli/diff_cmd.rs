//! `ruleconv diff EXPECTED ACTUAL [--stat]`: for folders a summary of the files that differ,
//! then each changed file's unified diff.

use super::stdout::Stdout;
use super::{EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE};
use crate::diff;
use std::io::IsTerminal;
use std::path::Path;

pub fn run(expected: &Path, actual: &Path, color: &str, stat: bool) -> i32 {
    for path in [expected, actual] {
        if !path.exists() {
            say!("ruleconv diff: {}: no such file or folder", path.display());
            return EXIT_USAGE;
        }
    }
    let report = match diff::diff_paths(expected, actual) {
        Ok(report) => report,
        Err(e) => {
            say!("ruleconv diff: {e}");
            return EXIT_USAGE;
        }
    };
    if report.is_empty() {
        return EXIT_OK;
    }
    let mut text = report.summary.map(|summary| summary.to_string()).unwrap_or_default();
    if !stat && !report.diffs.is_empty() {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&report.diffs);
    }
    let colored = color == "always" || (color == "auto" && std::io::stdout().is_terminal());
    // The outputs hold rule text: shown escaped, so only our colors reach the terminal.
    let text = crate::diag::printable_lines(&text);
    let text = if colored { diff::colorize(&text) } else { text };
    let mut out = Stdout::lock();
    out.text(&text);
    if let Err(message) = out.finish() {
        say!("ruleconv diff: {message}");
    }
    EXIT_PROBLEMS
}
