//! `ruleconv report`: what a pack of rules covers and how well it converts, for people who
//! look after the pack rather than one rule.
//!
//! The rules are read and converted to every target in memory by the convert job (nothing is
//! written), so fidelity per target is the verdicts `convert` would give. From the rules and
//! their Detections come ATT&CK coverage (`coverage`), the data they read (`data_sources`) and
//! indicator reuse (`indicators`). The report is one serializable value (`report.json`), laid
//! out as markdown (`markdown`), as an ATT&CK Navigator layer (`navigator`) and as an SVG
//! heatmap (`heatmap`) whose colors the layer shares (`palette`). Every count is of distinct
//! rules, and every list has a total order, so the bytes never depend on the thread count.

mod coverage;
mod data_sources;
mod heatmap;
mod indicators;
mod markdown;
mod navigator;
mod palette;

pub use coverage::{Count, Coverage, TacticCoverage, TechniqueCoverage};
pub use data_sources::SourceCount;
pub use heatmap::svg;
pub use indicators::IndicatorCount;
pub use markdown::markdown;
pub use navigator::layer;

use crate::convert::{self, FileRules, Lowered};
use crate::diag::Problem;
use crate::emit::{EmitOptions, Target};
use crate::ir::{Detection, Rule};
use serde::Serialize;

/// Everything the report says; serialized as `report.json`.
#[derive(Debug, Serialize)]
pub struct Report {
    pub summary: PackSummary,
    pub attack: Coverage,
    pub data_sources: Vec<SourceCount>,
    pub fidelity: Vec<TargetFidelity>,
    /// Every indicator, the most reused first.
    pub indicators: Vec<IndicatorCount>,
    /// Why the unread rules could not be read, each at its file, line and column.
    #[serde(skip)]
    pub problems: Vec<Problem>,
}

#[derive(Debug, Serialize)]
pub struct PackSummary {
    /// Files holding rules (files met in a folder search that hold none are not counted).
    pub files: usize,
    /// Rules read; the report is about these.
    pub rules: usize,
    /// Rules (or files) that could not be read.
    pub unreadable: usize,
}

/// The fidelity verdicts of converting every read rule to one target.
#[derive(Debug, Serialize)]
pub struct TargetFidelity {
    pub target: &'static str,
    pub exact: usize,
    pub approximate: usize,
    pub unsupported: usize,
}

pub fn build(read: &[FileRules], options: &EmitOptions) -> Report {
    let files = convert::read_files(read);
    let lowered = convert::lower_all(&files, &|_| true);
    let results = convert::emit_lowered(&files, &lowered, Target::all(), options, &|| {});
    let fidelity = Target::all()
        .iter()
        .zip(&results)
        .map(|(target, (records, _))| {
            let summary = convert::summarize(read, records);
            TargetFidelity {
                target: target.name(),
                exact: summary.exact,
                approximate: summary.approximate,
                unsupported: summary.unsupported,
            }
        })
        .collect();
    // Every target's records list the same rules; the unread ones carry no verdict.
    let records = results.first().map(|(records, _)| records.as_slice()).unwrap_or_default();
    let unread: Vec<_> = records.iter().filter(|r| r.fidelity.is_none()).collect();
    let lowered: Vec<&Lowered> = lowered.iter().flatten().collect();
    let rules: Vec<&Rule> = lowered.iter().map(|l| l.rule).collect();
    let detections: Vec<&Detection> = lowered.iter().map(|l| &*l.detection).collect();
    let with_detections: Vec<(&Rule, &Detection)> = rules.iter().copied().zip(detections.iter().copied()).collect();
    Report {
        summary: PackSummary { files: files.len(), rules: rules.len(), unreadable: unread.len() },
        attack: coverage::coverage(&rules),
        data_sources: data_sources::data_sources(&with_detections),
        fidelity,
        indicators: indicators::reuse(&detections),
        problems: unread.iter().flat_map(|r| r.problems.iter().cloned()).collect(),
    }
}

/// "1 rule", "3 rules".
fn rules_words(rules: usize) -> String {
    if rules == 1 { "1 rule".to_string() } else { format!("{rules} rules") }
}
