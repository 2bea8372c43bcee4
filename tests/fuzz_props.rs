//! Property twin of the cargo-fuzz targets (fuzz/): every reader, format detection, the whole
//! convert path and `ruleconv test`'s evaluator take any input without panicking, and every
//! problem they report points inside that text.
//! CI runs a few cases; raise `PROPTEST_CASES` for a long run:
//!
//!     PROPTEST_CASES=20000 cargo test --release --test fuzz_props
//!
//! The KQL parser's twin is tests/kql_props.rs.

#[path = "support/edits.rs"]
mod edits;

use proptest::prelude::*;
use ruleconv::convert::{self, FileRules, InputFile};
use ruleconv::emit::{EmitOptions, Target};
use ruleconv::ir::SourceFormat;
use ruleconv::read;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The file names format detection is tried under (it reads the extension).
const NAMES: [&str; 4] = ["rule.yaml", "rule.md", "rule.json", "rule"];

/// Pieces of the input formats: YAML and JSON syntax, rule keys, Sigma, markdown tables.
const PIECES: &[&str] = &[
    "---",
    "...",
    "- ",
    ": ",
    "? ",
    "|",
    ">-",
    "|+",
    "&a ",
    "*a",
    "!!str ",
    "%YAML 1.2",
    "#",
    "{",
    "}",
    "[",
    "]",
    ",",
    "\"",
    "'",
    "\t",
    "\n",
    "\r\n",
    "  ",
    "\u{feff}",
    "null",
    "~",
    "true",
    "1",
    "-1.5e9",
    "id: ",
    "name: ",
    "title: ",
    "query: ",
    "kind: ",
    "severity: ",
    "tactics:",
    "relevantTechniques:",
    "queryFrequency: ",
    "queryPeriod: ",
    "PT5H",
    "1d",
    "triggerOperator: ",
    "entityMappings:",
    "eventGroupingSettings:",
    "customDetails:",
    "logsource:",
    "product: ",
    "category: ",
    "detection:",
    "selection:",
    "condition: ",
    "1 of selection*",
    "all of them",
    " and not ",
    "|contains",
    "|all",
    "|re",
    "|cidr",
    "correlation:",
    "type: event_count",
    "group-by:",
    "timespan: ",
    "rules:",
    "filter:",
    "\"resources\"",
    "\"properties\"",
    "\"type\"",
    "\"query\"",
    "\"kind\": \"Scheduled\"",
    "## ",
    "|Name | Value |",
    "| --- | --- |",
    "```kql",
    "```",
    "DetectionId",
    "T | where x == 1",
    "SecurityEvent",
    " | summarize count() by ",
];

/// The repository's rule fixtures, one text per file.
fn fixtures() -> &'static [String] {
    static FIXTURES: OnceLock<Vec<String>> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut found = read::discover(&root);
        found.extend(std::fs::read_dir(root.join("pages")).into_iter().flatten().flatten().map(|e| e.path()));
        found.sort();
        found.iter().filter_map(|p| std::fs::read_to_string(p).ok()).collect()
    })
}

/// Any characters at all, control characters and newlines included.
fn any_text() -> impl Strategy<Value = String> {
    prop::collection::vec(any::<char>(), 0..300).prop_map(String::from_iter)
}

/// Pieces strung together, sometimes indented: text shaped a little like a rule file.
fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec((prop::sample::select(PIECES), 0..4usize), 0..80)
        .prop_map(|parts| parts.into_iter().map(|(piece, indent)| format!("{}{piece}", " ".repeat(indent * 2))).collect())
}

/// A fixture with a few characters deleted, inserted (a piece) or repeated.
fn mutated() -> impl Strategy<Value = String> {
    let edit = (0..3usize, any::<prop::sample::Index>(), 0..40usize, prop::sample::select(PIECES));
    (any::<prop::sample::Index>(), prop::collection::vec(edit, 1..6))
        .prop_map(|(which, edits)| edits::apply(which.get(fixtures()).as_str(), edits))
}

/// Every problem names the file read and a line of the text (or the one just past its end).
fn check_problems(text: &str, name: &str, outcome: &read::ReadOutcome) -> Result<(), TestCaseError> {
    // YAML counts a lone `\r` as a line break too, so count both (generously for `\r\n`).
    let lines = text.matches(['\n', '\r']).count() + 1;
    for problem in &outcome.problems {
        prop_assert_eq!(&problem.file, Path::new(name));
        let at = problem.position;
        prop_assert!(at.line >= 1 && at.line <= lines + 1 && at.col >= 1, "{}:{}: {} ({} lines)", at.line, at.col, problem.message, lines);
    }
    Ok(())
}

/// Reads `text` as each format, then detects its format and converts it to every target.
fn check(text: &str, name: &str) -> Result<(), TestCaseError> {
    for format in SourceFormat::ALL {
        check_problems(text, name, &read::read_text(text, Path::new(name), Some(format)))?;
    }
    let outcome = read::read_text(text, Path::new(name), None);
    check_problems(text, name, &outcome)?;
    let files = [FileRules { input: InputFile { path: PathBuf::from(name), root: None }, outcome }];
    let options = EmitOptions::default();
    let targets = Target::all();
    for (target, (records, converted)) in targets.iter().zip(convert::convert_to(&files, targets, &options)) {
        prop_assert_eq!(records.len(), files[0].outcome.entries().len(), "one record per entry for {}", target.name());
        let _ = convert::combined_text(&converted, *target, &options);
    }
    Ok(())
}

/// Twin of the `detect_format` target: bytes read as a folder search reads them; the same text
/// always gets the same format, and naming that format reads it the same way.
fn check_detection(bytes: &[u8], name: &str) -> Result<(), TestCaseError> {
    let path = Path::new(name);
    let outcome = read::read_bytes(bytes, path, None);
    let Ok(text) = std::str::from_utf8(bytes) else { return Ok(()) };
    check_problems(text, name, &outcome)?;
    let format = read::detect(text, path);
    prop_assert_eq!(format, read::detect(text, path));
    if let Some(format) = format {
        let said = |o: &read::ReadOutcome| o.problems.iter().map(ToString::to_string).collect::<Vec<_>>();
        let (detected, named) = (read::read_text(text, path, None), read::read_text(text, path, Some(format)));
        prop_assert_eq!(said(&named), said(&detected));
        prop_assert_eq!(named.rules.len(), detected.rules.len());
    }
    Ok(())
}

/// Columns the fixtures' rules read, for generated events.
const COLUMNS: &[&str] = &["EventID", "CommandLine", "Image", "TimeGenerated", "Computer", "Account", "ResultType", "IPAddress", "Type"];
const VALUES: &[&str] = &[
    "1",
    "4688",
    "\"cmd.exe /c whoami\"",
    "\"C:\\\\Windows\\\\cmd.exe\"",
    "\"2024-05-01T11:00:00Z\"",
    "null",
    "true",
    "\"10.0.0.1\"",
    "[1, 2]",
    "{\"a\": 1}",
    "\"SecurityEvent\"",
];

/// A few JSON Lines events over `COLUMNS`.
fn events() -> impl Strategy<Value = String> {
    let field = (prop::sample::select(COLUMNS), prop::sample::select(VALUES)).prop_map(|(k, v)| format!("\"{k}\": {v}"));
    let event = prop::collection::vec(field, 0..6).prop_map(|fields| format!("{{{}}}", fields.join(", ")));
    prop::collection::vec(event, 0..12).prop_map(|events| events.join("\n"))
}

/// What `now()` counts from: 2024-05-01T12:00:00Z in 100 ns ticks since the Unix epoch.
const NOW: i64 = 17_145_648_000_000_000;

/// Twin of the `test_rule` target: each rule read is evaluated twice over the events, with the
/// same rows, in bounded time.
fn check_test(rule: &str, events: &str) -> Result<(), TestCaseError> {
    let Ok(events) = ruleconv::eval::parse_events(events) else { return Ok(()) };
    let started = Instant::now();
    for rule in &read::read_text(rule, Path::new("rule.yaml"), None).rules {
        let detection = ruleconv::lower::lower_rule(rule);
        let run = || ruleconv::eval::evaluate(&detection, &events, NOW).map(|t| t.rows).map_err(|u| u.0);
        prop_assert_eq!(run(), run());
    }
    prop_assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_get_one_format_and_are_read(bytes in prop::collection::vec(any::<u8>(), 0..300), name in prop::sample::select(&NAMES[..])) {
        check_detection(&bytes, name)?;
    }

    #[test]
    fn mutated_fixtures_get_one_format_and_are_read(text in mutated(), name in prop::sample::select(&NAMES[..])) {
        check_detection(text.as_bytes(), name)?;
    }

    #[test]
    fn rules_run_over_events(rule in mutated(), events in events()) {
        check_test(&rule, &events)?;
    }

    #[test]
    fn any_text_is_read_and_converted(text in any_text(), name in prop::sample::select(&NAMES[..])) {
        check(&text, name)?;
    }

    #[test]
    fn token_soup_is_read_and_converted(text in soup(), name in prop::sample::select(&NAMES[..])) {
        check(&text, name)?;
    }

    #[test]
    fn mutated_fixtures_are_read_and_converted(text in mutated(), name in prop::sample::select(&NAMES[..])) {
        check(&text, name)?;
    }
}

/// Few cases by default so CI stays quick; `PROPTEST_CASES` raises it.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(256)
}
