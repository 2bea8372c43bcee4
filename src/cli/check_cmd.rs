//! `ruleconv check PATH... [--format json|sarif] [--junit FILE]`: read and parse every rule; exit 1 on any error.

use super::junit::{self, Case, Suite};
use super::output_file::Writer;
use super::problem_summary::{self, Grouped};
use super::stdout::Stdout;
use super::{CheckArgs, EXIT_OK, EXIT_PROBLEMS, sarif};
use crate::check;
use crate::convert::{self, InputFile};
use crate::diag::Problem;
use crate::read::Entry;
use serde::Serialize;
use std::path::{Path, PathBuf};

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

pub fn run(args: &CheckArgs) -> i32 {
    args.batch.use_threads();
    let (json, sarif, quiet) = (args.format == "json", args.format == "sarif", args.batch.quiet);
    let inputs = convert::search_inputs(&args.paths);
    let files = inputs.files.clone();
    let mut read = convert::read_inputs(inputs, args.from);
    convert::add_run_problems(&mut read, check::collection_problems);
    let mut reports = Vec::new();
    let read_files = convert::read_files(&read);
    // Only a Sigma rule's regexes are checked against its Detection (its reader lowered it);
    // a KQL query's syntax is checked as written.
    let lowered = convert::lower_all(&read_files, &|rule| rule.sigma_logic().is_some());
    for (file, lowered) in read_files.iter().zip(&lowered) {
        for entry in file.outcome.entries() {
            reports.push(match entry {
                Entry::Unread(unread) => (
                    report_for(file.input.path.clone(), unread.index, None, unread.label.map(str::to_string)),
                    unread.problems.into_iter().cloned().collect(),
                ),
                Entry::Read(slot, rule) => {
                    let mut problems: Vec<Problem> = file.outcome.problems_of(rule.origin.index).cloned().collect();
                    problems.extend(check::metadata_problems(rule));
                    problems.extend(check::query_problems(rule));
                    problems.extend(check::schema_problems(rule));
                    problems.extend(check::sigma_problems(rule));
                    problems.extend(lowered.get(slot).map(|l| check::regex_problems(rule, &l.detection)).unwrap_or_default());
                    (report_for(rule.origin.file.clone(), Some(rule.origin.index), rule.id.clone(), Some(rule.title.clone())), problems)
                }
            });
        }
    }
    let mut failed = 0;
    let mut out = Stdout::lock();
    let mut records = Vec::new();
    let mut sources = SourceCache::default();
    if args.format == "text" && !quiet {
        convert::skipped(&read).iter().for_each(|s| out.line(&s.to_string()));
    }
    for (mut report, problems) in reports {
        for problem in problems {
            if args.format == "text" && (!quiet || problem.is_error()) {
                out.line(&problem.to_string());
                if let Some(excerpt) = sources.excerpt(&problem) {
                    out.line(&excerpt);
                }
            }
            if problem.is_error() { report.errors.push(problem) } else { report.warnings.push(problem) }
        }
        report.ok = report.errors.is_empty();
        failed += usize::from(!report.ok);
        records.push(report);
    }
    if json {
        out.line(&serde_json::to_string_pretty(&records).unwrap_or_default());
    }
    if sarif {
        let problems: Vec<&Problem> = records.iter().flat_map(|r| r.errors.iter().chain(&r.warnings)).collect();
        let base = std::env::current_dir().unwrap_or_default();
        out.line(&serde_json::to_string_pretty(&sarif::document(&problems, &base)).unwrap_or_default());
    }
    let written = out.finish().inspect_err(|message| say!("ruleconv check: {message}"));
    if let Some(path) = &args.batch.junit
        && let Err(message) = write_junit(path, &records, &files)
    {
        say!("ruleconv check: {message}");
        return EXIT_PROBLEMS;
    }
    if !quiet {
        print_summary(&records, files.len(), failed);
    }
    if written.is_ok() && failed == 0 && !records.is_empty() { EXIT_OK } else { EXIT_PROBLEMS }
}

/// The problems grouped by code as `convert` groups them (every code counted, errors first;
/// the lines themselves are on stdout), then the counts.
fn print_summary(records: &[RuleReport], files: usize, failed: usize) {
    let grouped = Grouped::new(records.iter().flat_map(|r| r.errors.iter().chain(&r.warnings)));
    grouped.summary(problem_summary::SCREEN - 1, false, &[]).iter().for_each(|line| say!("{line}"));
    let warned = records.iter().filter(|r| !r.warnings.is_empty()).count();
    say!("ruleconv check: {} rule(s) in {files} file(s): {failed} with errors, {warned} with warnings", records.len());
}

/// One JUnit suite of one case per rule; a rule with errors is a failure. The file is
/// replaced if it exists (it is the report the user named), but never when it is an input.
fn write_junit(path: &Path, records: &[RuleReport], files: &[InputFile]) -> Result<(), String> {
    let cases = records
        .iter()
        .map(|r| {
            let problems: Vec<&Problem> = r.errors.iter().chain(&r.warnings).collect();
            let failure = (!r.errors.is_empty()).then(|| junit::Failure::of(&problems));
            Case {
                name: junit::case_name(r.title.as_deref(), r.rule_index),
                classname: r.file.display().to_string(),
                output: if failure.is_some() { String::new() } else { junit::problem_lines(problems) },
                failure,
            }
        })
        .collect();
    let xml = junit::document(&[Suite { name: "check".into(), cases }]).map_err(|e| format!("junit {}: {e}", path.display()))?;
    Writer::new(files, true).write(path, &xml).map_err(|m| format!("junit {}: {m}", path.display()))
}

fn report_for(file: PathBuf, rule_index: Option<usize>, rule_id: Option<String>, title: Option<String>) -> RuleReport {
    RuleReport { file, rule_index, rule_id, title, ok: true, errors: Vec::new(), warnings: Vec::new() }
}

/// The text of the file last shown, so each problem can be shown in its line. It is read as
/// the rules were, within the size limit: a file too large to read has no excerpt.
#[derive(Default)]
struct SourceCache {
    file: Option<(PathBuf, Option<String>)>,
}

impl SourceCache {
    fn excerpt(&mut self, d: &Problem) -> Option<String> {
        if self.file.as_ref().is_none_or(|(path, _)| *path != d.file) {
            let text = crate::read::read_bounded(&d.file).ok().flatten().map(|b| String::from_utf8_lossy(&b).into_owned());
            self.file = Some((d.file.clone(), text));
        }
        let text = self.file.as_ref()?.1.as_ref()?;
        crate::diag::excerpt(text, d.position).map(|e| e.lines().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n"))
    }
}
