//! What every fuzz target shares: turning libFuzzer's bytes into text, and reading it in one
//! format (or detecting the format) the way `ruleconv convert` does.

use ruleconv::eval;
use ruleconv::ir::SourceFormat;
use ruleconv::read::{self, ReadOutcome};
use std::path::Path;

/// The file names format detection is tried under (it reads the extension); a target's first
/// input byte picks one.
pub const NAMES: [&str; 4] = ["rule.yaml", "rule.md", "rule.json", "rule"];

/// The name the byte `pick` selects.
pub fn name(pick: u8) -> &'static str {
    NAMES[usize::from(pick) % NAMES.len()]
}

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

/// Detects the format of `bytes` and reads them as a folder search does (`read_bytes`, any
/// encoding it takes), checking that the same text always gets the same format, that naming
/// that format reads it the same way, and that every problem points inside the text.
pub fn detect_and_read(bytes: &[u8], file: &str) {
    let path = Path::new(file);
    let outcome = read::read_bytes(bytes, path, None);
    let Ok(text) = std::str::from_utf8(bytes) else { return };
    check_positions(text, &outcome);
    let format = read::detect(text, path);
    assert_eq!(format, read::detect(text, path), "detection is not stable");
    if let Some(format) = format {
        let said = |o: &ReadOutcome| o.problems.iter().map(ToString::to_string).collect::<Vec<_>>();
        let (detected, named) = (read::read_text(text, path, None), read::read_text(text, path, Some(format)));
        assert_eq!(said(&named), said(&detected), "reading as the detected {format:?} differs from detecting it");
        assert_eq!(named.rules.len(), detected.rules.len());
    }
}

/// Events a `test` input may hold: enough for thresholds and joins, few enough that every
/// execution stays short.
pub const MAX_EVENTS: usize = 64;

/// What `now()` counts from in `test` runs (2024-05-01T12:00:00Z in 100 ns ticks since the Unix
/// epoch): a fixed time, so runs repeat.
const NOW: i64 = 17_145_648_000_000_000;

/// `ruleconv test` on a rule (its format detected) and JSON Lines events: every rule read is
/// lowered and evaluated twice, and both runs return the same rows (or the same reason).
pub fn test_rule(rule: &str, events: &str) {
    let Ok(events) = eval::parse_events(events) else { return };
    if events.len() > MAX_EVENTS {
        return;
    }
    let outcome = read::read_text(rule, Path::new("rule.yaml"), None);
    for rule in &outcome.rules {
        let detection = ruleconv::lower::lower_rule(rule);
        let run = || eval::evaluate(&detection, &events, NOW).map(|table| table.rows).map_err(|unsupported| unsupported.0);
        assert_eq!(run(), run(), "two runs of one rule differ");
    }
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
