//! What a batch prints for a person: one summary screen that groups the problems by code
//! (errors first, with counts and examples), `--show KIND` for every problem's line in the
//! summary's order, `-q` for the summary alone, and setup errors (a missing input, an unknown
//! profile) said once with exit 2 before anything is converted.

#[path = "support/run.rs"]
mod run;
#[path = "support/shared.rs"]
mod shared;

use run::{ruleconv, scratch, text};
use std::collections::{BTreeMap, BTreeSet};
use std::process::Output;

/// The report's problems of `kind`: code → the rules (file, index) that have one.
fn rules_by_code(report: &serde_json::Value, kind: &str) -> BTreeMap<String, BTreeSet<(String, String)>> {
    let mut codes: BTreeMap<String, BTreeSet<(String, String)>> = BTreeMap::new();
    for record in report["records"].as_array().unwrap() {
        for problem in record["problems"].as_array().unwrap().iter().filter(|p| p["kind"] == kind) {
            let rule = (problem["file"].as_str().unwrap().to_string(), problem["rule"].to_string());
            codes.entry(problem["code"].as_str().unwrap().to_string()).or_default().insert(rule);
        }
    }
    codes
}

fn problem_count(report: &serde_json::Value, kind: &str) -> usize {
    report["records"].as_array().unwrap().iter().flat_map(|r| r["problems"].as_array().unwrap()).filter(|p| p["kind"] == kind).count()
}

/// `convert tests/fixtures/sigma --to sentinel` (errors, losses and changes) with `extra`, and its report.
fn convert_fixtures(name: &str, extra: &[&str]) -> (Output, serde_json::Value) {
    let dir = scratch(name);
    let (out, report) = (dir.join("out"), dir.join("report.json"));
    let mut args =
        vec!["convert", "tests/fixtures/sigma", "--to", "sentinel", "-o", out.to_str().unwrap(), "--report", report.to_str().unwrap()];
    args.extend_from_slice(extra);
    let run = ruleconv(&args);
    let report = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    (run, report)
}

/// A per-rule line: `file:line:col: kind: ...`, as `Problem`'s display writes it.
fn is_rule_line(line: &str, kind: &str) -> bool {
    line.contains(&format!(": {kind}: ")) && !line.starts_with(' ')
}

#[test]
fn the_sigmahq_corpus_to_sentinel_is_one_screen_counting_every_error_code() {
    let Some(corpus) = shared::shared_or_skip("corpus/sigma/rules") else { return };
    let dir = scratch("corpus");
    let (out, report) = (dir.join("out"), dir.join("report.json"));
    let run = ruleconv(&[
        "convert",
        corpus.to_str().unwrap(),
        "--to",
        "sentinel",
        "-o",
        out.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ]);
    let stderr = text(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "some rules fail: {stderr}");
    assert!(stderr.lines().count() <= 40, "{} lines:\n{stderr}", stderr.lines().count());
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let errors = rules_by_code(&report, "error");
    assert!(errors.len() >= 2, "the corpus has several error codes: {:?}", errors.keys());
    for (code, rules) in &errors {
        let heading = format!("error[{code}] in {} rule(s)", rules.len());
        assert!(stderr.lines().any(|l| l.starts_with(&heading)), "{heading} missing:\n{stderr}");
    }
    assert!(stderr.contains("--show errors"), "says how to see every failed rule:\n{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_default_summary_groups_by_code_with_examples_and_no_per_rule_lines() {
    let (run, report) = convert_fixtures("default", &[]);
    let stderr = text(&run.stderr);
    for kind in ["error", "loss", "change"] {
        assert!(problem_count(&report, kind) > 0, "the fixtures have {kind} problems");
        assert!(!stderr.lines().any(|l| is_rule_line(l, kind)), "no per-rule {kind} line by default:\n{stderr}");
    }
    // Errors first, then losses, then changes; each code once, with an example under it.
    let headings: Vec<&str> = stderr.lines().filter(|l| l.contains('[') && l.contains("] in ")).collect();
    let kinds: Vec<&str> = headings.iter().map(|h| h.split('[').next().unwrap()).collect();
    let mut sorted = kinds.clone();
    sorted.sort_by_key(|k| ["error", "loss", "warning", "change"].iter().position(|o| o == k));
    assert_eq!(kinds, sorted, "{stderr}");
    for kind in ["error", "loss", "change"] {
        assert_eq!(kinds.iter().filter(|k| **k == kind).count(), rules_by_code(&report, kind).len(), "{kind}: {stderr}");
    }
    let first_error = stderr.lines().position(|l| l.starts_with("error[")).unwrap();
    let example = stderr.lines().nth(first_error + 1).unwrap();
    assert!(example.starts_with("    tests/fixtures/sigma/"), "an example names its rule file: {example}");
    assert!(stderr.lines().last().unwrap().starts_with("ruleconv: 15 rule(s) from 12 file(s) to sentinel:"), "{stderr}");
}

#[test]
fn show_losses_prints_exactly_the_loss_lines_in_the_summary_order() {
    let (run, report) = convert_fixtures("show", &["--show", "losses"]);
    let stderr = text(&run.stderr);
    let losses: Vec<&str> = stderr.lines().filter(|l| is_rule_line(l, "loss")).collect();
    assert_eq!(losses.len(), problem_count(&report, "loss"), "{stderr}");
    assert!(!stderr.lines().any(|l| is_rule_line(l, "error") || is_rule_line(l, "change")), "{stderr}");
    // Grouped as the summary lists the codes: a code's lines are together, and the codes
    // come in the order of the summary's headings.
    let code_of = |line: &str| {
        let problem = report["records"].as_array().unwrap().iter().flat_map(|r| r["problems"].as_array().unwrap()).find(|p| {
            p["kind"] == "loss" && line.starts_with(&format!("{}:{}:{}: loss: ", p["file"].as_str().unwrap(), p["line"], p["column"]))
        });
        problem.unwrap()["code"].as_str().unwrap().to_string()
    };
    let mut order: Vec<String> = losses.iter().map(|l| code_of(l)).collect();
    order.dedup();
    let headings: Vec<String> =
        stderr.lines().filter_map(|l| l.strip_prefix("loss[")).map(|l| l.split(']').next().unwrap().to_string()).collect();
    assert_eq!(order, headings, "{stderr}");

    let (all, report) = convert_fixtures("show-all", &["--show", "errors,losses", "--show", "changes"]);
    let all = text(&all.stderr);
    for kind in ["error", "loss", "change"] {
        assert_eq!(all.lines().filter(|l| is_rule_line(l, kind)).count(), problem_count(&report, kind), "{kind}: {all}");
    }
}

#[test]
fn quiet_prints_the_summary_only() {
    let (quiet, _) = convert_fixtures("quiet", &["-q"]);
    let (loud, _) = convert_fixtures("loud", &[]);
    let stderr = text(&quiet.stderr);
    assert_eq!(quiet.status.code(), loud.status.code());
    assert!(stderr.lines().any(|l| l.starts_with("error[")) && stderr.lines().any(|l| l.starts_with("loss[")), "{stderr}");
    assert!(stderr.lines().all(|l| !l.starts_with(' ')), "counts without examples: {stderr}");
    assert!(stderr.lines().last().unwrap().starts_with("ruleconv: 15 rule(s) from 12 file(s) to sentinel:"), "{stderr}");
    assert!(stderr.lines().count() < text(&loud.stderr).lines().count(), "{stderr}");
}

#[test]
fn a_setup_error_exits_2_said_once_before_anything_is_converted() {
    let dir = scratch("setup");
    let out = dir.join("out");
    let out = out.to_str().unwrap();
    let missing = "tests/fixtures/no-such-rules";
    let commands: [&[&str]; 8] = [
        &["convert", "tests/fixtures/sigma", missing, "--to", "sentinel", "-o", out],
        &["--to", "kql", missing],
        &["sync", missing, "--to", "kql", "-o", out],
        &["check", "tests/fixtures/sigma", missing],
        &["explain", missing],
        &["report", missing],
        &["test", missing, "--events", "tests/fixtures-events/sign-ins.jsonl"],
        &["convert", "tests/fixtures/sigma", "--to", "sentinel", "-o", out, "--profile", "no-such-profile"],
    ];
    for args in commands {
        let run = ruleconv(args);
        let stderr = text(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: said once: {stderr}");
        assert!(stderr.contains("no-such-"), "{args:?}: names what is missing: {stderr}");
        assert!(run.stdout.is_empty() && !std::path::Path::new(out).exists(), "{args:?}: nothing converted");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn check_counts_every_code_as_convert_does() {
    let run = ruleconv(&["check", "tests/fixtures", "--format", "json"]);
    let stderr = text(&run.stderr);
    let records: Vec<serde_json::Value> = serde_json::from_slice(&run.stdout).unwrap();
    let mut codes: BTreeMap<(String, String), BTreeSet<(String, String)>> = BTreeMap::new();
    for record in &records {
        for problem in record["errors"].as_array().unwrap().iter().chain(record["warnings"].as_array().unwrap()) {
            let key = (problem["kind"].as_str().unwrap().to_string(), problem["code"].as_str().unwrap().to_string());
            codes.entry(key).or_default().insert((problem["file"].as_str().unwrap().to_string(), problem["rule"].to_string()));
        }
    }
    assert!(codes.keys().any(|(kind, _)| kind == "error") && codes.len() > 2, "{codes:?}");
    for ((kind, code), rules) in &codes {
        let heading = format!("{kind}[{code}] in {} rule(s): ", rules.len());
        assert!(stderr.lines().any(|l| l.starts_with(&heading)), "{heading} missing:\n{stderr}");
    }
    assert!(stderr.lines().last().unwrap().starts_with("ruleconv check: "), "{stderr}");
}
