//! Output files are stable under unrelated edits, and agree with the run's record.
//!
//! - An edit above a construct (lines added to the description) moves every line:col after
//!   it; the output files' headers name and quote the construct a loss is about instead, so
//!   no output changes outside the edited text itself (issue 20 item 4). The stderr
//!   diagnostics keep their positions, and do move.
//! - A loss found while reading a rule (an ARM package's metadata) is a loss of every output
//!   of it: the file's header lists it and says `approximate`, as the `--report` record does.

#[path = "support/run.rs"]
mod run;

use run::{ruleconv, scratch, text};
use std::path::Path;

/// Every line of a converted rule that shows the edited text contains this word.
const MARK: &str = "EDITMARK";

/// Rules with losses in every target that writes a header (checked by the test).
const RULES: [&str; 5] = [
    "tests/fixtures/sentinel/ti_ip_keyvault.yaml",
    "tests/fixtures/sentinel/defender_qakbot_campaign_registry_edit.yaml",
    "tests/fixtures/sigma/keywords_and_fields.yml",
    "tests/fixtures/sigma/process_creation_hashes.yml",
    "tests/fixtures/sigma/cloud_signin.yml",
];

const TARGETS: [&str; 6] = ["sentinel", "sentinel-yaml", "kql", "sigma", "chronicle", "markdown"];

/// The targets whose output opens with the verdict and losses.
const WITH_HEADER: [&str; 4] = ["kql", "sigma", "chronicle", "markdown"];

/// `rule` with its top-level `description` replaced by a block of `lines` lines, each holding
/// `MARK`, and (when `comment`) a comment line above it: an edit that moves every construct
/// after it down.
fn with_description(rule: &str, lines: usize, comment: bool) -> String {
    let mut out = Vec::new();
    let mut in_description = false;
    for line in rule.lines() {
        if line.starts_with("description:") {
            in_description = true;
            if comment {
                out.push(format!("# {MARK}: reworded after review"));
            }
            out.push("description: |".to_string());
            out.extend((1..=lines).map(|n| format!("  {MARK} line {n} of the description.")));
            continue;
        }
        // A block or folded description goes on over its indented (or blank) lines.
        if in_description && (line.starts_with(' ') || line.trim().is_empty()) {
            continue;
        }
        in_description = false;
        out.push(line.to_string());
    }
    out.join("\n") + "\n"
}

/// `ruleconv convert FILE --to TARGET`: stdout and stderr.
fn convert(file: &Path, target: &str) -> (String, String) {
    let run = ruleconv(&["convert", file.to_str().unwrap(), "--to", target]);
    (text(&run.stdout), text(&run.stderr))
}

/// The output without the lines that show the edited text.
fn unedited_lines(output: &str) -> Vec<&str> {
    output.lines().filter(|line| !line.contains(MARK)).collect()
}

#[test]
fn an_edit_above_a_loss_changes_no_output_outside_the_edit() {
    let dir = scratch("moved");
    let mut losses = std::collections::BTreeMap::new();
    for rule in RULES {
        let source = std::fs::read_to_string(rule).unwrap();
        let name = Path::new(rule).file_name().unwrap();
        let (before, after) = (dir.join("before").join(name), dir.join("after").join(name));
        for (path, lines, comment) in [(&before, 2, false), (&after, 5, true)] {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, with_description(&source, lines, comment)).unwrap();
        }
        for target in TARGETS {
            let ((old, old_stderr), (new, new_stderr)) = (convert(&before, target), convert(&after, target));
            // The positions of the diagnostics move with the edit; the output does not.
            let named = |stderr: &str, path: &Path| stderr.replace(path.to_str().unwrap(), "FILE");
            if old_stderr.contains(": loss: ") {
                assert_ne!(named(&old_stderr, &before), named(&new_stderr, &after), "{rule} to {target}: the diagnostics' positions");
            }
            assert_eq!(unedited_lines(&old), unedited_lines(&new), "{rule} to {target}: the output changed outside the edited text");
            // The losses the header lists, under its evidence line.
            let header = old.lines().skip_while(|l| !l.contains("ruleconv evidence: ")).skip(1);
            let listed = header.take_while(|l| l.contains("  loss")).count();
            *losses.entry(target).or_insert(0) += listed;
        }
    }
    for target in WITH_HEADER {
        assert!(losses[target] > 0, "no rule shows a loss in its {target} header, so the test proves nothing there");
    }
}

/// The verdict an output's header states.
fn header_verdict(output: &str) -> &str {
    let line = output.lines().find(|l| l.contains("ruleconv fidelity: ")).expect("a header");
    line.split("ruleconv fidelity: ").nth(1).unwrap().trim()
}

#[test]
fn a_loss_found_while_reading_is_in_the_header_and_its_verdict() {
    let dir = scratch("read-loss");
    let rule = "tests/fixtures/arm/content_package.json";
    for target in WITH_HEADER {
        let report = dir.join(format!("{target}.json"));
        let run = ruleconv(&["convert", rule, "--to", target, "--report", report.to_str().unwrap()]);
        let output = text(&run.stdout);
        let record: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
        let record = &record["records"][0];
        let read_loss = "the package's content metadata for this rule (source, author, support) is not carried over";
        assert!(record["problems"].as_array().unwrap().iter().any(|p| p["message"] == read_loss), "{target}: the reader reports it");
        assert!(output.lines().any(|l| l.contains("loss") && l.contains(read_loss)), "{target}: the header lists it:\n{output}");
        assert_eq!(header_verdict(&output), "approximate", "{target}");
        assert_eq!(record["fidelity"], header_verdict(&output), "{target}: the file and the record agree");
    }
}

/// A quoted construct holding what ends a comment in some target (a Unicode line separator,
/// `-->`, `*/`) stays inside the header: escaped or harmless, never a line of its own. (The kql
/// target writes a Sentinel query as it is, with no loss to quote; its `//` header is written
/// by the same `header_lines` as chronicle's.)
#[test]
fn a_quoted_construct_cannot_end_the_header_comment() {
    let dir = scratch("hostile-quote");
    let rule = dir.join("hostile.yaml");
    let query = "SecurityEvent\n| where EventID == 4625\n| where hourofday(TimeGenerated) != \"--> \u{2028} */ # x\"\n";
    let indented: String = query.lines().map(|l| format!("  {l}\n")).collect();
    std::fs::write(&rule, format!("id: 5d1f2c3a-0b7e-4c55-9a11-2f3e4d5c6b7a\nname: Hostile quote\nseverity: Low\nquery: |\n{indented}"))
        .unwrap();
    for target in ["sigma", "chronicle", "markdown"] {
        // The event id alone is not discriminating enough for these targets: written anyway.
        let output = text(&ruleconv(&["convert", rule.to_str().unwrap(), "--to", target, "--allow-broader"]).stdout);
        let header: Vec<&str> = match target {
            // A card's header is the HTML comment that opens it; it closes on a line of its own.
            "markdown" => output.lines().skip(1).take_while(|l| *l != "-->").collect(),
            _ => output.lines().take_while(|l| l.starts_with("//") || l.starts_with('#')).collect(),
        };
        let quoted = header.iter().find(|l| l.contains("(at `hourofday(")).unwrap_or_else(|| panic!("{target}: no quote:\n{output}"));
        assert!(quoted.contains(r"\u{2028}") && !quoted.contains('\u{2028}'), "{target}: {quoted}");
        if target == "markdown" {
            assert!(header.iter().all(|l| !l.contains("-->")), "{target}: the quote closes the comment:\n{output}");
        }
    }
}
