//! `ruleconv explain RULE... [--format json]`: what each rule detects, in plain words or as one
//! JSON record per rule. Unreadable rules are reported on stderr; the others are explained.

use super::stdout::Stdout;
use super::{EXIT_OK, EXIT_PROBLEMS};
use crate::convert;
use crate::diag;
use crate::explain;
use crate::ir::SourceFormat;
use std::path::PathBuf;

pub fn run(paths: &[PathBuf], from: Option<SourceFormat>, json: bool) -> i32 {
    let files = convert::expand_inputs(paths);
    let read = convert::read_all(&files, from);
    let mut failed = false;
    let mut records = Vec::new();
    let files = convert::read_files(&read);
    for (file, lowered) in files.iter().zip(convert::lower_all(&files, &|_| true)) {
        for d in file.outcome.problems.iter().filter(|d| d.is_error()) {
            say!("{d}");
            failed = true;
        }
        records.extend(lowered.iter().map(|lowered| explain::explain(lowered, &lowered.rule.origin.file)));
    }
    let mut out = Stdout::lock();
    if json {
        out.line(&serde_json::to_string_pretty(&records).unwrap_or_default());
    } else {
        for record in &records {
            // Names and values of the rule are in the words: shown escaped.
            out.line(&diag::printable_lines(&explain::render_text(record)));
        }
    }
    if let Err(message) = out.finish() {
        say!("ruleconv explain: {message}");
        failed = true;
    }
    if failed || records.is_empty() { EXIT_PROBLEMS } else { EXIT_OK }
}
