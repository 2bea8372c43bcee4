//! `ruleconv convert INPUT... --to TARGET[,TARGET...] [-o DIR] [--from FORMAT] [--report FILE]`.

use super::{ConvertArgs, EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE};
use crate::convert::{self, Converted, Record, Status, Summary};
use crate::diag::{Kind, Problem};
use crate::targets::{EmitOptions, Settings, Target};
use rayon::prelude::*;
use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

pub fn run(args: ConvertArgs) -> i32 {
    let mut targets: Vec<Target> = Vec::new();
    args.to.iter().for_each(|t| {
        if !targets.contains(t) {
            targets.push(*t)
        }
    });
    if targets.is_empty() {
        eprintln!("ruleconv: --to TARGET is required");
        return EXIT_USAGE;
    }
    let several = targets.len() > 1;
    if several && args.output.is_none() {
        eprintln!("ruleconv: several targets need -o DIR (each writes DIR/<target>/)");
        return EXIT_USAGE;
    }
    let files = convert::expand_inputs(&args.inputs);
    if files.is_empty() {
        let inputs: Vec<_> = args.inputs.iter().map(|p| p.display().to_string()).collect();
        eprintln!("ruleconv: no rule files (.yaml .yml .json .md) found in {}", inputs.join(", "));
        return EXIT_PROBLEMS;
    }
    let settings = match Settings::parse(&args.set) {
        Ok(settings) => settings,
        Err(message) => {
            eprintln!("ruleconv: {message}");
            return EXIT_USAGE;
        }
    };
    let options = EmitOptions { api_version: args.api_version.clone(), profile: args.profile.clone(), settings };
    if let Some(flag) = options.set_flags().into_iter().find(|flag| !targets.iter().any(|t| t.options().contains(flag))) {
        let names: Vec<&str> = targets.iter().map(|t| t.name()).collect();
        eprintln!("ruleconv: {flag} does not apply to --to {}", names.join(","));
        return EXIT_USAGE;
    }
    let read = convert::read_all(&files, args.from);
    let results = convert::convert_to(&read, &targets, &options);

    let writer = Writer::new(&files, args.force);
    let mut all_records = Vec::new();
    let mut summaries = Vec::new();
    for (target, (mut records, converted)) in targets.iter().zip(results) {
        match &args.output {
            Some(dir) if several => write_files(&converted, &mut records, &dir.join(target.name()), *target, &writer),
            Some(dir) => write_files(&converted, &mut records, dir, *target, &writer),
            None => write_stdout(&converted, &mut records, *target, &options),
        }
        summaries.push((*target, convert::summarize(&read, &records)));
        all_records.extend(records);
    }

    print_problems(&all_records);
    summaries.iter().for_each(|(target, summary)| print_summary(summary, *target));
    if let Some(path) = &args.report
        && let Err(message) = write_report(path, &all_records, &summaries, &writer)
    {
        eprintln!("ruleconv: {message}");
        return EXIT_PROBLEMS;
    }
    if summaries.iter().all(|(_, s)| s.failed == 0 && s.converted > 0) { EXIT_OK } else { EXIT_PROBLEMS }
}

fn write_files(converted: &[Converted], records: &mut [Record], dir: &Path, target: Target, writer: &Writer) {
    let paths = convert::output_paths(converted, dir, target);
    // Written in parallel (each file is several syscalls: canonicalize, read, create, rename),
    // then recorded in input order, so records and messages do not depend on the thread count.
    let written: Vec<_> = converted.par_iter().zip(&paths).map(|(c, path)| writer.write(path, &c.text)).collect();
    for ((c, path), result) in converted.iter().zip(paths).zip(written) {
        let record = &mut records[c.record];
        match result {
            Ok(()) => record.output = Some(path),
            Err(message) => {
                record.status = Status::Failed;
                let message = format!("cannot write {}: {message}", path.display());
                record.problems.push(Problem::about(Kind::Error, c.rule, c.rule.origin.position, message));
            }
        }
    }
}

/// Writes output files without losing anything the user had.
pub(super) struct Writer {
    /// The input files, canonicalized: never replaced.
    inputs: HashSet<PathBuf>,
    /// Replace existing files whose content differs (`--force`).
    force: bool,
}

impl Writer {
    pub(super) fn new(inputs: &[convert::InputFile], force: bool) -> Writer {
        Writer { inputs: inputs.iter().filter_map(|f| f.path.canonicalize().ok()).collect(), force }
    }

    /// Writes through a temporary file and a rename, so an interrupted run leaves no half file.
    /// An existing file with the same content is left as is; one with other content is only
    /// replaced with `--force`; an input is never replaced.
    pub(super) fn write(&self, path: &Path, text: &str) -> Result<(), String> {
        if path.canonicalize().is_ok_and(|p| self.inputs.contains(&p)) {
            return Err("refusing to overwrite an input file; choose another output folder".into());
        }
        if let Ok(existing) = std::fs::read(path) {
            if existing == text.as_bytes() {
                return Ok(());
            }
            if !self.force {
                return Err("exists with other content; not replaced (use --force to replace it)".into());
            }
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("cannot create folder {}: {e}", parent.display()))?;
        }
        let temporary = path.with_extension("ruleconv-tmp");
        std::fs::write(&temporary, text).map_err(|e| format!("cannot write: {e}"))?;
        std::fs::rename(&temporary, path).map_err(|e| {
            let _ = std::fs::remove_file(&temporary);
            format!("cannot write: {e}")
        })
    }
}

/// Without `-o`, every converted rule goes to stdout as one document.
fn write_stdout(converted: &[Converted], records: &mut [Record], target: Target, options: &EmitOptions) {
    match convert::combined_text(converted, target, options) {
        Ok(text) => {
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
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
        }
    }
}

/// Each problem once: with several targets, a problem of reading a rule is in every target's
/// record, but is one problem.
fn print_problems(records: &[Record]) {
    // Buffered: stderr is not, and a corpus run prints thousands of problems, each formatted
    // in several pieces that would otherwise be a write call apiece.
    let mut err = std::io::BufWriter::new(std::io::stderr().lock());
    let mut printed = HashSet::new();
    for line in records.iter().flat_map(|r| &r.problems).map(Problem::to_string) {
        if printed.insert(line.clone()) {
            let _ = writeln!(err, "{line}");
        }
    }
    let _ = err.flush();
}

fn print_summary(summary: &Summary, target: Target) {
    let noted = if summary.with_problems > 0 { format!(" ({} with notes)", summary.with_problems) } else { String::new() };
    let skipped =
        if summary.skipped_files > 0 { format!(", {} file(s) without rules skipped", summary.skipped_files) } else { String::new() };
    eprintln!(
        "ruleconv: {} rule(s) from {} file(s){skipped} to {}: {} converted{noted}, {} failed; fidelity: {} exact, {} approximate, {} unsupported",
        summary.rules,
        summary.files,
        target.name(),
        summary.converted,
        summary.failed,
        summary.exact,
        summary.approximate,
        summary.unsupported
    );
}

/// One record per rule and target; `summary` for one target, `summaries` by target name for several.
fn write_report(path: &Path, records: &[Record], summaries: &[(Target, Summary)], writer: &Writer) -> Result<(), String> {
    let report = match summaries {
        [(_, summary)] => serde_json::json!({ "records": records, "summary": summary }),
        several => {
            let by_target: serde_json::Map<String, serde_json::Value> =
                several.iter().map(|(t, s)| (t.name().to_string(), serde_json::json!(s))).collect();
            serde_json::json!({ "records": records, "summaries": by_target })
        }
    };
    let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())? + "\n";
    writer.write(path, &text).map_err(|m| format!("report {}: {m}", path.display()))
}
