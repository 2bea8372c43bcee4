//! `ruleconv convert INPUT... --to TARGET[,TARGET...] [-o DIR] [--from FORMAT] [--report FILE] [--junit FILE]`:
//! the batch, then the problems, the summary per target and the report files.

use super::junit::{self, Case, Suite};
use super::output_file::Writer;
use super::problem_summary::{self, Grouped, Show};
use super::progress::Progress;
use super::stdout::Stdout;
use super::sync_cmd;
use super::{ConvertArgs, EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE};
use crate::convert::{self, Converted, Record, Status, Summary};
use crate::diag::{Code, Kind, Problem};
use crate::emit::{EmitOptions, Settings, Target};
use indexmap::IndexMap;
use rayon::prelude::*;
use serde::Serialize;
use std::io::Write;
use std::path::Path;

pub fn run(args: ConvertArgs) -> i32 {
    run_with(args, None)
}

/// `convert`, or with `sync` set `sync` (`--check` when `sync` is `Some(true)`): the same run,
/// whose write step brings the output folder up to date instead (see `sync_cmd`).
pub fn run_with(args: ConvertArgs, sync: Option<bool>) -> i32 {
    let mut targets: Vec<Target> = Vec::new();
    args.to.iter().for_each(|t| {
        if !targets.contains(t) {
            targets.push(*t)
        }
    });
    if targets.is_empty() {
        say!("ruleconv: --to TARGET is required");
        return EXIT_USAGE;
    }
    let several = targets.len() > 1;
    if several && args.output.is_none() {
        say!("ruleconv: several targets need -o DIR (each writes DIR/<target>/)");
        return EXIT_USAGE;
    }
    let inputs = convert::search_inputs(&args.inputs);
    let files = inputs.files.clone();
    if files.is_empty() {
        print_skipped(&convert::skipped(&inputs.left_out), args.batch.quiet);
        let inputs: Vec<_> = args.inputs.iter().map(|p| p.display().to_string()).collect();
        say!("ruleconv: no rule files (.yaml .yml .json .md) found in {}", inputs.join(", "));
        return EXIT_PROBLEMS;
    }
    let settings = match Settings::parse(&args.set) {
        Ok(settings) => settings,
        Err(message) => {
            say!("ruleconv: {message}");
            return EXIT_USAGE;
        }
    };
    let options =
        EmitOptions { api_version: args.api_version.clone(), profile: args.profile.clone(), settings, allow_broader: args.allow_broader };
    if let Some(flag) = options.set_flags().into_iter().find(|flag| !targets.iter().any(|t| t.options().contains(flag))) {
        let names: Vec<&str> = targets.iter().map(|t| t.name()).collect();
        say!("ruleconv: {flag} does not apply to --to {}", names.join(","));
        return EXIT_USAGE;
    }
    // A profile that cannot be used is the run's error, said once, not every rule's.
    if let Err(message) = options.check_profile() {
        say!("ruleconv: {message}");
        return EXIT_USAGE;
    }
    let mut writer = Writer::new(&files, args.force);
    // Held until the run ends: another run into the same folder fails here, before any work.
    if let Some(dir) = &args.output
        && let Err(message) = writer.claim(dir)
    {
        say!("ruleconv: {message}");
        return EXIT_PROBLEMS;
    }
    args.batch.use_threads();
    let mut read = convert::read_inputs(inputs, args.from);
    convert::warn_duplicate_ids(&mut read);
    let quiet = args.batch.quiet;
    let skipped = convert::skipped(&read);
    let progress = Progress::new(read.iter().map(|f| f.outcome.rules.len()).sum(), quiet);
    let results = convert::convert_observed(&read, &targets, &options, &|| progress.tick());
    progress.finish();

    let mut all_records = Vec::new();
    let mut summaries = Vec::new();
    let mut stdout_failure = None;
    let mut synced = Vec::new();
    for (target, (mut records, converted)) in targets.iter().zip(results) {
        let dir = args.output.as_ref().map(|dir| if several { dir.join(target.name()) } else { dir.clone() });
        match (dir, sync) {
            (Some(dir), Some(check)) => synced.push(sync_cmd::sync_target(&converted, &mut records, &dir, *target, &writer, check)),
            (Some(dir), None) => write_files(&converted, &mut records, &dir, *target, &writer),
            (None, _) => stdout_failure = write_stdout(&converted, &mut records, *target, &options).err(),
        }
        summaries.push((*target, convert::summarize(&read, &records)));
        all_records.extend(records);
    }

    print_skipped(&skipped, quiet);
    // A failed stdout fails every rule in it for one reason: said once, not once per rule.
    let problems = all_records.iter().flat_map(|r| &r.problems).filter(|p| !(stdout_failure.is_some() && p.code == Code::WriteFailed));
    let totals: Vec<String> = summaries.iter().map(|(target, summary)| totals_line(summary, *target)).collect();
    let shown_skipped = if quiet { 0 } else { skipped.len() };
    print_problems(&Grouped::new(problems), &args.show, quiet, &totals, shown_skipped);
    if let Some(message) = &stdout_failure {
        say!("ruleconv: {message}");
    }
    let written = [
        args.report.as_ref().map(|path| write_report(path, &all_records, &skipped, &summaries, &writer)),
        args.batch.junit.as_ref().map(|path| write_junit(path, &all_records, &targets, &writer)),
    ];
    if let Some(message) = written.into_iter().flatten().find_map(Result::err) {
        say!("ruleconv: {message}");
        return EXIT_PROBLEMS;
    }
    if let Some(check) = sync {
        if let Err(message) = sync_cmd::print(&synced, check) {
            say!("ruleconv sync: {message}");
            return EXIT_PROBLEMS;
        }
        if check && synced.iter().any(sync_cmd::Synced::out_of_date) {
            return EXIT_PROBLEMS;
        }
    }
    if summaries.iter().all(|(_, s)| s.failed == 0 && s.converted > 0) { EXIT_OK } else { EXIT_PROBLEMS }
}

fn write_files(converted: &[Converted], records: &mut [Record], dir: &Path, target: Target, writer: &Writer) {
    let paths = convert::output_paths(converted, dir, target);
    // Written in parallel (each file is a create, a write and a rename at least; see `Writer`),
    // then recorded in input order, so records and messages do not depend on the thread count.
    let written: Vec<_> = converted.par_iter().zip(&paths).map(|(c, path)| writer.write_under(dir, path, &c.text)).collect();
    for ((c, path), result) in converted.iter().zip(paths).zip(written) {
        match result {
            Ok(()) => records[c.record].output = Some(path),
            Err(message) => not_written(&mut records[c.record], c, format!("cannot write {}: {message}", path.display())),
        }
    }
}

/// A rule whose output could not be written failed, whatever its translation was: it has no
/// fidelity and no evidence, so no summary counts it as exact.
pub(super) fn not_written(record: &mut Record, c: &Converted, message: String) {
    record.status = Status::Failed;
    record.fidelity = None;
    record.evidence = None;
    record.problems.push(Problem::about(Kind::Error, Code::WriteFailed, c.rule, c.rule.origin.position, message));
}

/// Without `-o`, every converted rule goes to stdout as one document. When stdout cannot take
/// it all, every rule in it failed; the error is returned to be said once.
fn write_stdout(converted: &[Converted], records: &mut [Record], target: Target, options: &EmitOptions) -> Result<(), String> {
    match convert::combined_text(converted, target, options) {
        Ok(text) => {
            let mut out = Stdout::lock();
            out.text(&text);
            out.finish().inspect_err(|message| {
                converted.iter().for_each(|c| not_written(&mut records[c.record], c, format!("not written: {message}")));
            })
        }
        Err(errors) => {
            for e in errors {
                let Some(c) = converted.iter().find(|c| c.rule.origin.file == e.file && Some(c.rule.origin.index) == e.rule_index()) else {
                    continue;
                };
                let record = &mut records[c.record];
                record.status = Status::Failed;
                record.problems.push(e);
            }
            Ok(())
        }
    }
}

/// One warning line per file a folder search left out, naming it and saying why.
fn print_skipped(skipped: &[convert::Skipped], quiet: bool) {
    if !quiet {
        skipped.iter().for_each(|s| say!("{s}"));
    }
}

/// The lines `--show` asks for, then the summary grouped by code (with examples unless
/// `quiet`) in what is left of a screen, then the totals of each target.
fn print_problems(grouped: &Grouped, show: &[Show], quiet: bool, totals: &[String], skipped: usize) {
    // Buffered: stderr is not, and `--show all` on a corpus prints thousands of lines.
    let mut err = std::io::BufWriter::new(std::io::stderr().lock());
    let budget = problem_summary::SCREEN.saturating_sub(skipped + totals.len() + 1);
    let lines = grouped.lines(show).into_iter().chain(grouped.summary(budget, !quiet, show)).chain(totals.iter().cloned());
    for line in lines {
        let _ = writeln!(err, "{line}");
    }
    let _ = err.flush();
}

/// A target's counts: rules, conversions, verdicts and evidence.
fn totals_line(summary: &Summary, target: Target) -> String {
    let noted = if summary.with_problems > 0 { format!(" ({} with notes)", summary.with_problems) } else { String::new() };
    let skipped =
        if summary.skipped_files > 0 { format!(", {} file(s) without rules skipped", summary.skipped_files) } else { String::new() };
    format!(
        "ruleconv: {} rule(s) from {} file(s){skipped} to {}: {} converted{noted}, {} failed; fidelity: {} exact, {} approximate, {} unsupported; evidence: {} executed, {} schema-checked, {} unverified",
        summary.rules,
        summary.files,
        target.name(),
        summary.converted,
        summary.failed,
        summary.exact,
        summary.approximate,
        summary.unsupported,
        summary.evidence.executed,
        summary.evidence.schema_checked,
        summary.evidence.unverified,
    )
}

/// The `--report` file: one record per rule and target; `summary` for one target,
/// `summaries` by target name for several. Serialized straight from the records: a
/// `serde_json::Value` of a whole pack's records would hold a copy of each as a tree.
#[derive(Serialize)]
struct ReportFile<'a> {
    records: &'a [Record],
    /// Every file a folder search left out, with the reason.
    skipped: &'a [convert::Skipped],
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<&'a Summary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    summaries: Option<IndexMap<&'static str, &'a Summary>>,
}

fn write_report(
    path: &Path,
    records: &[Record],
    skipped: &[convert::Skipped],
    summaries: &[(Target, Summary)],
    writer: &Writer,
) -> Result<(), String> {
    let report = match summaries {
        [(_, summary)] => ReportFile { records, skipped, summary: Some(summary), summaries: None },
        several => ReportFile { records, skipped, summary: None, summaries: Some(several.iter().map(|(t, s)| (t.name(), s)).collect()) },
    };
    let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())? + "\n";
    writer.write(path, &text).map_err(|m| format!("report {}: {m}", path.display()))
}

/// One JUnit suite per target, one case per rule: a failed rule is a failure, the problems of a
/// converted one are its output.
fn write_junit(path: &Path, records: &[Record], targets: &[Target], writer: &Writer) -> Result<(), String> {
    let suites: Vec<Suite> = targets
        .iter()
        .map(|target| Suite {
            name: format!("convert --to {}", target.name()),
            cases: records.iter().filter(|r| r.target == target.name()).map(junit_case).collect(),
        })
        .collect();
    let xml = junit::document(&suites).map_err(|e| format!("junit {}: {e}", path.display()))?;
    writer.write(path, &xml).map_err(|m| format!("junit {}: {m}", path.display()))
}

fn junit_case(record: &Record) -> Case {
    let problems: Vec<&Problem> = record.problems.iter().collect();
    let verdict = record.fidelity.map(|v| format!("fidelity: {}\n", v.name())).unwrap_or_default()
        + &record.evidence.map(|e| format!("evidence: {}\n", e.name())).unwrap_or_default();
    let failure = (record.status == Status::Failed).then(|| junit::Failure::of(&problems));
    Case {
        name: junit::case_name(record.title.as_deref(), record.rule_index),
        classname: record.source.display().to_string(),
        output: if failure.is_some() { String::new() } else { verdict + &junit::problem_lines(problems) },
        failure,
    }
}
