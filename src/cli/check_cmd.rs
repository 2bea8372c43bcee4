//! `ruleconv check PATH... [--format json]`: read and parse every rule; exit 1 on any error.

use super::{EXIT_OK, EXIT_PROBLEMS};
use crate::check;
use crate::convert;
use crate::diag::Problem;
use crate::ir::SourceFormat;
use crate::sources::Entry;
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;

/// One record of `--format json`: a rule (or a file that holds no readable rule).
#[derive(Serialize)]
struct RuleReport {
    file: PathBuf,
    /// The rule's index among the rules of its file; `None` for a problem with the whole file.
    rule_index: Option<usize>,
    rule_id: Option<String>,
    title: Option<String>,
    ok: bool,
    errors: Vec<Problem>,
    /// Everything that is not an error (warnings, and losses a reader already knows of).
    warnings: Vec<Problem>,
}

pub fn run(paths: &[PathBuf], from: Option<SourceFormat>, json: bool) -> i32 {
    let files = convert::expand_inputs(paths);
    let read = convert::read_all(&files, from);
    let mut reports = Vec::new();
    for file in read.iter().filter(|f| !f.skipped()) {
        for entry in file.outcome.entries() {
            reports.push(match entry {
                Entry::Unread(unread) => (
                    report_for(file.input.path.clone(), unread.index, None, unread.label.map(str::to_string)),
                    unread.problems.into_iter().cloned().collect(),
                ),
                Entry::Read(_, rule) => {
                    let mut problems: Vec<Problem> = file.outcome.problems_of(rule.origin.index).cloned().collect();
                    problems.extend(check::metadata_problems(rule));
                    problems.extend(check::query_problems(rule));
                    (report_for(rule.origin.file.clone(), Some(rule.origin.index), rule.id.clone(), Some(rule.title.clone())), problems)
                }
            });
        }
    }
    let mut failed = 0;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut records = Vec::new();
    let mut sources = SourceCache::default();
    for (mut report, problems) in reports {
        for problem in problems {
            if !json {
                let _ = writeln!(out, "{problem}");
                if let Some(excerpt) = sources.excerpt(&problem) {
                    let _ = writeln!(out, "{excerpt}");
                }
            }
            if problem.is_error() { report.errors.push(problem) } else { report.warnings.push(problem) }
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

fn report_for(file: PathBuf, rule_index: Option<usize>, rule_id: Option<String>, title: Option<String>) -> RuleReport {
    RuleReport { file, rule_index, rule_id, title, ok: true, errors: Vec::new(), warnings: Vec::new() }
}

/// The text of the file last shown, so each problem can be shown in its line.
#[derive(Default)]
struct SourceCache {
    file: Option<(PathBuf, String)>,
}

impl SourceCache {
    fn excerpt(&mut self, d: &Problem) -> Option<String> {
        if self.file.as_ref().is_none_or(|(path, _)| *path != d.file) {
            let text = std::fs::read(&d.file).ok().map(|b| String::from_utf8_lossy(&b).into_owned())?;
            self.file = Some((d.file.clone(), text));
        }
        let (_, text) = self.file.as_ref()?;
        crate::diag::excerpt(text, d.position).map(|e| e.lines().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n"))
    }
}
