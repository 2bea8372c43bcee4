//! What every fuzz target shares: turning libFuzzer's bytes into text, and reading it in one
//! format (or detecting the format) the way `ruleconv convert` does.

use ruleconv::ir::SourceFormat;
use ruleconv::read::{self, ReadOutcome};
use std::path::Path;

/// Inputs longer than this are skipped. Real rule files are a few KB; longer inputs only make
/// each execution slower (quadratic spots are timeouts the reader limits own, not crashes), so
/// the fuzzer explores more per second below this bound.
pub const MAX_LEN: usize = 64 * 1024;

/// The input as text, or `None` when it is too long or not UTF-8 (the file readers reject
/// invalid UTF-8 before any format reader sees it; `read_file` is covered by the tests).
pub fn text(data: &[u8]) -> Option<&str> {
    if data.len() > MAX_LEN {
        return None;
    }
    std::str::from_utf8(data).ok()
}

/// Reads `text` as `format` and checks what every reader promises: each problem points inside
/// the text (a line that exists, a column within that line plus one).
pub fn read_as(text: &str, file: &str, format: Option<SourceFormat>) -> ReadOutcome {
    let outcome = read::read_text(text, Path::new(file), format);
    check_positions(text, &outcome);
    outcome
}

fn check_positions(text: &str, outcome: &ReadOutcome) {
    // YAML counts a lone `\r` as a line break too, so count both.
    let lines = text.matches(['\n', '\r']).count() + 1;
    for problem in &outcome.problems {
        let p = problem.position;
        assert!(p.line >= 1 && p.line <= lines + 1, "problem line {} outside 1..={}: {}", p.line, lines + 1, problem.message);
        assert!(p.col >= 1, "problem column 0: {}", problem.message);
    }
}
