//! `ruleconv report PATH... [-o DIR] [--force] [--from FORMAT]`: the pack report on stdout as
//! markdown, or with `-o` as report.md, report.json, attack-layer.json and coverage.svg.

use super::output_file::Writer;
use super::stdout::Stdout;
use super::{EXIT_OK, EXIT_PROBLEMS};
use crate::convert;
use crate::emit::EmitOptions;
use crate::ir::SourceFormat;
use crate::report;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The file names written under `-o DIR`.
pub const MARKDOWN: &str = "report.md";
pub const JSON: &str = "report.json";
pub const LAYER: &str = "attack-layer.json";
pub const HEATMAP: &str = "coverage.svg";

pub fn run(paths: &[PathBuf], output: Option<&Path>, force: bool, from: Option<SourceFormat>) -> i32 {
    let files = convert::expand_inputs(paths);
    if files.is_empty() {
        let inputs: Vec<_> = paths.iter().map(|p| p.display().to_string()).collect();
        say!("ruleconv: no rule files (.yaml .yml .json .md) found in {}", inputs.join(", "));
        return EXIT_PROBLEMS;
    }
    let mut writer = Writer::new(&files, force);
    // Held until the run ends: another run into the same folder fails here, before any work.
    if let Some(dir) = output
        && let Err(message) = writer.claim(dir)
    {
        say!("ruleconv: {message}");
        return EXIT_PROBLEMS;
    }
    let read = convert::read_all(&files, from);
    let report = report::build(&read, &EmitOptions::default());
    let mut err = std::io::stderr().lock();
    report.problems.iter().for_each(|p| {
        let _ = writeln!(err, "{p}");
    });
    let written = match output {
        None => {
            let mut out = Stdout::lock();
            out.text(&report::markdown(&report, None));
            out.finish().map_err(|message| vec![message])
        }
        Some(dir) => write_files(&report, dir, &writer, paths),
    };
    if let Err(messages) = &written {
        messages.iter().for_each(|m| {
            let _ = writeln!(err, "ruleconv: {m}");
        });
    }
    let s = &report.summary;
    let _ = writeln!(err, "ruleconv: report on {} rule(s) from {} file(s), {} unreadable", s.rules, s.files, s.unreadable);
    if written.is_ok() && s.unreadable == 0 { EXIT_OK } else { EXIT_PROBLEMS }
}

/// Every file is attempted; the failures are returned together.
fn write_files(report: &report::Report, dir: &Path, writer: &Writer, paths: &[PathBuf]) -> Result<(), Vec<String>> {
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let json = serde_json::to_string_pretty(report).map_err(|e| vec![e.to_string()])? + "\n";
    let outputs = [
        (MARKDOWN, report::markdown(report, Some(HEATMAP))),
        (JSON, json),
        (LAYER, report::layer(report, &format!("Rule coverage: {}", names.join(", ")))),
        (HEATMAP, report::svg(&report.attack)),
    ];
    let failures: Vec<String> = outputs
        .iter()
        .filter_map(|(name, text)| {
            let path = dir.join(name);
            writer.write_under(dir, &path, text).err().map(|m| format!("cannot write {}: {m}", path.display()))
        })
        .collect();
    if failures.is_empty() { Ok(()) } else { Err(failures) }
}
