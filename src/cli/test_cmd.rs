//! `ruleconv test RULE... --events FILE.jsonl [--now TIME] [--format json]`: which rows would
//! each rule return on these events? Runs the rule's Detection in `eval`.

use super::stdout::Stdout;
use super::{EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE};
use crate::convert;
use crate::eval::{self, Row, time};
use crate::ir::SourceFormat;
use serde::Serialize;
use std::path::{Path, PathBuf};

pub struct TestArgs<'a> {
    pub rules: &'a [PathBuf],
    pub events: &'a Path,
    pub now: Option<&'a str>,
    pub from: Option<SourceFormat>,
    pub json: bool,
}

/// One rule's result; one record of `--format json`.
#[derive(Serialize)]
struct Record {
    file: PathBuf,
    rule_id: Option<String>,
    title: String,
    status: &'static str,
    reason: Option<String>,
    /// Output columns whose values need an expression the evaluator does not compute.
    not_evaluated: Vec<String>,
    rows: Vec<Row>,
}

pub fn run(args: TestArgs) -> i32 {
    let now = match args.now {
        Some(text) => match time::parse_datetime(text) {
            Some(ticks) => ticks,
            None => {
                say!("ruleconv: --now {text:?} is not an RFC 3339 time (like 2024-05-01T12:00:00Z)");
                return EXIT_USAGE;
            }
        },
        None => clock_now(),
    };
    let events = match std::fs::read_to_string(args.events)
        .map_err(|e| e.to_string())
        .and_then(|t| eval::parse_events(&t).map_err(|e| e.to_string()))
    {
        Ok(events) => events,
        Err(message) => {
            say!("ruleconv: {}: {message}", args.events.display());
            return EXIT_USAGE;
        }
    };
    let files = convert::expand_inputs(args.rules);
    let read = convert::read_all(&files, args.from);
    let mut unreadable = 0;
    let mut records = Vec::new();
    let files = convert::read_files(&read);
    for (file, lowered) in files.iter().zip(convert::lower_all(&files, &|_| true)) {
        for d in file.outcome.problems.iter().filter(|d| d.is_error()) {
            say!("{d}");
            unreadable += 1;
        }
        records.extend(lowered.iter().map(|lowered| test_rule(lowered, &events, now)));
    }
    let mut out = Stdout::lock();
    if args.json {
        out.line(&serde_json::to_string_pretty(&records).unwrap_or_default());
    } else {
        records.iter().for_each(|r| print_text(&mut out, r));
    }
    let written = out.finish().inspect_err(|message| say!("ruleconv test: {message}"));
    let unsupported = records.iter().filter(|r| r.status != "evaluated").count();
    let returned: usize = records.iter().map(|r| r.rows.len()).sum();
    say!(
        "ruleconv test: {} rule(s) on {} event(s): {returned} row(s) returned, {unsupported} unsupported, {unreadable} unreadable",
        records.len(),
        events.len()
    );
    if written.is_ok() && unsupported == 0 && unreadable == 0 && !records.is_empty() { EXIT_OK } else { EXIT_PROBLEMS }
}

/// Everything this command takes from a `Rule`: where it came from, its names, its Detection.
fn test_rule(lowered: &convert::Lowered, events: &[Row], now: i64) -> Record {
    let (rule, detection) = (lowered.rule, &lowered.detection);
    let mut record = Record {
        file: rule.origin.file.clone(),
        rule_id: rule.id.clone(),
        title: rule.label(),
        status: "evaluated",
        reason: None,
        not_evaluated: Vec::new(),
        rows: Vec::new(),
    };
    match eval::evaluate(detection, events, now) {
        Ok(table) => {
            record.not_evaluated = table.not_evaluated;
            record.rows = table.rows;
        }
        Err(unsupported) => {
            record.status = "unsupported";
            record.reason = Some(unsupported.0);
        }
    }
    record
}

/// A heading per rule, then one JSON object per returned row; the rule's title and values and
/// the events' text shown escaped (`diag::printable`).
fn print_text(out: &mut Stdout, record: &Record) {
    let mut text = format!("== {}: {}", record.file.display(), record.title);
    match &record.reason {
        Some(reason) => text.push_str(&format!(": unsupported: {reason}\n")),
        None => text.push_str(&format!(": {} row(s)\n", record.rows.len())),
    }
    for row in &record.rows {
        text.push_str(&format!("{}\n", serde_json::Value::Object(row.clone())));
    }
    if !record.not_evaluated.is_empty() {
        text.push_str(&format!("   (not evaluated: {})\n", record.not_evaluated.join(", ")));
    }
    out.text(&crate::diag::printable_lines(&text));
}

/// The system clock in ticks since the Unix epoch.
fn clock_now() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_nanos() / 100).unwrap_or(i64::MAX)
}
