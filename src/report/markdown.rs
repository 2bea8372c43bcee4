//! The report as a markdown page: summary, heatmap, coverage table, data sources, fidelity
//! per target and the most reused indicators. Rule-derived text goes through the rule card's
//! cell escaping, so no rule can break a table.

use super::Report;
use super::rules_words;
use crate::emit::markdown::cells::cell;
use std::fmt::Write;

/// Indicators listed on the page; `report.json` has them all.
pub const TOP_INDICATORS: usize = 25;

/// `heatmap` is the path of the SVG beside the page, when one is written. GitHub shows an SVG
/// linked as an image but strips `<svg>` written into markdown, so the page links it.
pub fn markdown(report: &Report, heatmap: Option<&str>) -> String {
    let mut out = String::new();
    let s = &report.summary;
    let _ = writeln!(out, "# Rule pack report\n");
    let _ = writeln!(out, "{} rule(s) from {} file(s); {} could not be read.\n", s.rules, s.files, s.unreadable);
    attack(&mut out, report, heatmap);
    data_sources(&mut out, report);
    fidelity(&mut out, report);
    indicators(&mut out, report);
    out
}

fn attack(out: &mut String, report: &Report, heatmap: Option<&str>) {
    let coverage = &report.attack;
    let _ = writeln!(out, "## MITRE ATT&CK coverage\n");
    match heatmap {
        Some(path) => {
            let _ = writeln!(out, "![Rules per ATT&CK technique, by tactic]({path})\n");
        }
        None => {
            let _ = writeln!(out, "(The heatmap and the Navigator layer are written with `-o DIR`.)\n");
        }
    }
    let covered = coverage.tactics.iter().filter(|t| !t.techniques.is_empty());
    let _ = writeln!(out, "| Tactic | Technique | Rules | Sub-techniques |\n|---|---|---:|---|");
    for tactic in covered {
        for technique in &tactic.techniques {
            let subs: Vec<String> = technique.sub_techniques.iter().map(|s| format!("{} {} ({})", s.id, s.name, s.rules)).collect();
            let tactic_label = format!("{} ({})", tactic.name, tactic.id);
            let technique_label = format!("{} {}", technique.id, technique.name);
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                cell(&tactic_label),
                cell(&technique_label),
                technique.rules,
                cell(&subs.join(", "))
            );
        }
    }
    let uncovered: Vec<&str> = coverage.tactics.iter().filter(|t| t.techniques.is_empty()).map(|t| t.name).collect();
    if !uncovered.is_empty() {
        let _ = writeln!(out, "\nTactics without rules: {}.", uncovered.join(", "));
    }
    let _ = writeln!(out, "\nRules listing no ATT&CK technique: {}.", coverage.rules_without_techniques);
    if !coverage.not_in_attack.is_empty() {
        let unknown: Vec<String> = coverage.not_in_attack.iter().map(|c| format!("{} ({})", cell(&c.id), rules_words(c.rules))).collect();
        let _ = writeln!(out, "\nTechnique ids not in ATT&CK Enterprise: {}.", unknown.join(", "));
    }
    out.push('\n');
}

fn data_sources(out: &mut String, report: &Report) {
    let _ = writeln!(out, "## Data sources\n");
    if report.data_sources.is_empty() {
        let _ = writeln!(out, "No tables, logsources or data connectors named.\n");
        return;
    }
    let _ = writeln!(out, "| Source | Kind | Rules |\n|---|---|---:|");
    for source in &report.data_sources {
        let _ = writeln!(out, "| {} | {} | {} |", cell(&source.name), source.kind, source.rules);
    }
    out.push('\n');
}

fn fidelity(out: &mut String, report: &Report) {
    let _ = writeln!(out, "## Fidelity per target\n");
    let _ = writeln!(out, "| Target | Exact | Approximate | Unsupported |\n|---|---:|---:|---:|");
    for target in &report.fidelity {
        let _ = writeln!(out, "| {} | {} | {} | {} |", target.target, target.exact, target.approximate, target.unsupported);
    }
    out.push('\n');
}

fn indicators(out: &mut String, report: &Report) {
    let total = report.indicators.len();
    let _ = writeln!(out, "## Indicator reuse\n");
    if total == 0 {
        let _ = writeln!(out, "No indicators.");
        return;
    }
    let shown = total.min(TOP_INDICATORS);
    let _ = writeln!(
        out,
        "Each field, operator and value the rules test, with how many rules test it; the {shown} most reused of {total} (all in report.json).\n"
    );
    let _ = writeln!(out, "| Field | Operator | Value | Rules |\n|---|---|---|---:|");
    for indicator in report.indicators.iter().take(shown) {
        let _ = writeln!(out, "| {} | {} | {} | {} |", cell(&indicator.field), indicator.operator, cell(&indicator.value), indicator.rules);
    }
}
