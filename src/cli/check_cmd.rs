//! `ruleconv check PATH... [--format json]`: read and parse every rule; exit 1 on any error.

use super::{EXIT_OK, EXIT_PROBLEMS};
use crate::check;
use crate::convert;
use crate::diag::{Diagnostic, Level};
use crate::ir::SourceFormat;
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;

#[derive(Serialize)]
struct RuleReport {
    file: PathBuf,
    rule_id: Option<String>,
    title: Option<String>,
    ok: bool,
    errors: Vec<Problem>,
    warnings: Vec<Problem>,
}

#[derive(Serialize)]
struct Problem {
    line: usize,
    column: usize,
    message: String,
}

impl From<&Diagnostic> for Problem {
    fn from(d: &Diagnostic) -> Self {
        Problem { line: d.position.line, column: d.position.col, message: d.message.clone() }
    }
}

pub fn run(paths: &[PathBuf], from: Option<SourceFormat>, json: bool) -> i32 {
    let files = convert::expand_inputs(paths);
    let read = convert::read_all(&files, from);
    let mut reports = Vec::new();
    for file in read.iter().filter(|f| !f.skipped()) {
        let diagnostics = &file.outcome.diagnostics;
        // Problems of rules that could not be read at all, grouped per rule.
        for d in diagnostics.iter().filter(|d| d.level == Level::Error) {
            match reports
                .iter_mut()
                .find(|r: &&mut (RuleReport, Vec<Diagnostic>)| r.0.file == d.file && r.0.title.is_some() && r.0.title == d.rule)
            {
                Some(entry) => entry.1.push(d.clone()),
                None => reports.push((report_for(d.file.clone(), None, d.rule.clone()), vec![d.clone()])),
            }
        }
        for rule in &file.outcome.rules {
            let label = rule.label();
            let mut problems: Vec<Diagnostic> = diagnostics.iter().filter(|d| d.rule.as_deref() == Some(label.as_str())).cloned().collect();
            problems.extend(check::metadata_diagnostics(rule));
            problems.extend(check::query_diagnostics(rule));
            reports.push((report_for(rule.origin.file.clone(), rule.id.clone(), Some(rule.name.clone())), problems));
        }
    }
    let mut failed = 0;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut records = Vec::new();
    let mut sources = SourceCache::default();
    for (mut report, problems) in reports {
        for d in &problems {
            match d.level {
                Level::Error => report.errors.push(d.into()),
                Level::Warning => report.warnings.push(d.into()),
            }
            if !json {
                let _ = writeln!(out, "{d}");
                if let Some(excerpt) = sources.excerpt(d) {
                    let _ = writeln!(out, "{excerpt}");
                }
            }
        }
        report.ok = report.errors.is_empty();
        failed += usize::from(!report.ok);
        records.push(report);
    }
    if json {
        let _ = writeln!(out, "{}", serde_json::to_string_pretty(&records).unwrap_or_default());
    }
    eprintln!("ruleconv check: {} rule(s) in {} file(s): {} with errors", records.len(), files.len(), failed);
    if failed == 0 && !records.is_empty() { EXIT_OK } else { EXIT_PROBLEMS }
}

fn report_for(file: PathBuf, rule_id: Option<String>, title: Option<String>) -> RuleReport {
    RuleReport { file, rule_id, title, ok: true, errors: Vec::new(), warnings: Vec::new() }
}

/// The text of the file last shown, so each problem can be shown in its line.
#[derive(Default)]
struct SourceCache {
    file: Option<(PathBuf, String)>,
}

impl SourceCache {
    fn excerpt(&mut self, d: &Diagnostic) -> Option<String> {
        if self.file.as_ref().is_none_or(|(path, _)| *path != d.file) {
            let text = std::fs::read(&d.file).ok().map(|b| String::from_utf8_lossy(&b).into_owned())?;
            self.file = Some((d.file.clone(), text));
        }
        let (_, text) = self.file.as_ref()?;
        crate::diag::excerpt(text, d.position).map(|e| e.lines().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n"))
    }
}
