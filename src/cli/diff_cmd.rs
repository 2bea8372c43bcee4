//! `ruleconv diff EXPECTED ACTUAL`.

use super::{EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE};
use crate::diff;
use std::io::{IsTerminal, Write};
use std::path::Path;

pub fn run(expected: &Path, actual: &Path, color: &str) -> i32 {
    for path in [expected, actual] {
        if !path.exists() {
            eprintln!("ruleconv diff: {}: no such file or folder", path.display());
            return EXIT_USAGE;
        }
    }
    let report = match diff::diff_paths(expected, actual) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("ruleconv diff: {e}");
            return EXIT_USAGE;
        }
    };
    if report.is_empty() {
        return EXIT_OK;
    }
    let stdout = std::io::stdout();
    let colored = color == "always" || (color == "auto" && stdout.is_terminal());
    let text = if colored { diff::colorize(&report) } else { report };
    let _ = stdout.lock().write_all(text.as_bytes());
    EXIT_PROBLEMS
}
