//! The `ruleconv` binary end to end: short form, folders, reports, exit codes, stdin, safety.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn ruleconv(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ruleconv")).args(args).current_dir(env!("CARGO_MANIFEST_DIR")).output().expect("runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A fresh scratch folder per test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ruleconv-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

const NRT: &str = "tests/fixtures/sentinel/nrt_console_logon.yaml";

#[test]
fn short_form_writes_one_rule_to_stdout() {
    let out = ruleconv(&["--to", "sentinel", NRT]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let arm: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(arm["resources"][0]["kind"], "NRT");
    assert!(text(&out.stderr).contains("1 converted"), "{}", text(&out.stderr));
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(ruleconv(&["--to", "splunk", NRT]).status.code(), Some(2));
    assert_eq!(ruleconv(&["convert", NRT]).status.code(), Some(2), "--to is required");
    assert_eq!(ruleconv(&[]).status.code(), Some(2));
    let help = ruleconv(&["--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(text(&help.stdout).contains("ruleconv convert rules/ --to sentinel -o out/"));
}

#[test]
fn folder_is_mirrored_one_file_per_rule_and_bad_files_do_not_stop_the_batch() {
    let dir = scratch("folder");
    let input = dir.join("rules");
    std::fs::create_dir_all(input.join("nested")).unwrap();
    std::fs::copy(NRT, input.join("nested/nrt.yaml")).unwrap();
    std::fs::write(input.join("broken.yaml"), "name: Broken\nquery: |\n  T\nseverity: [unclosed\n").unwrap();
    std::fs::write(input.join("README.md"), "# Our rules\n\nNothing to convert here.\n").unwrap();
    let out_dir = dir.join("out");
    let report = dir.join("report.json");
    let out = ruleconv(&[
        "convert",
        input.to_str().unwrap(),
        "--to",
        "sentinel-yaml",
        "-o",
        out_dir.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "one rule failed: {stderr}");
    // saphyr notices the unclosed `[` at the end of the file: the error points there.
    assert!(stderr.contains("broken.yaml:5:1: error: invalid YAML"), "the error names file, line and column: {stderr}");
    assert!(stderr.contains("1 file(s) without rules skipped"), "{stderr}");
    let written = out_dir.join("nested/NRT_Security_log_cleared.yaml");
    let written = if written.exists() { written } else { first_file(&out_dir.join("nested")) };
    assert!(std::fs::read_to_string(&written).unwrap().contains("kind: NRT"));
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(report["summary"]["converted"], 1);
    assert_eq!(report["summary"]["failed"], 1);
    let records = report["records"].as_array().unwrap();
    assert!(records.iter().any(|r| r["status"] == "failed" && r["problems"][0].as_str().unwrap().contains("broken.yaml")));
    assert!(records.iter().any(|r| r["status"] == "converted" && r["output"].as_str().is_some()));
    std::fs::remove_dir_all(&dir).unwrap();
}

fn first_file(dir: &Path) -> PathBuf {
    std::fs::read_dir(dir).unwrap().next().expect("a file").unwrap().path()
}

#[test]
fn never_overwrites_an_input() {
    let dir = scratch("overwrite");
    let rule = "id: 11111111-2222-3333-4444-555555555555\nname: Same\nquery: T\n";
    let input = dir.join("Same.yaml");
    std::fs::write(&input, rule).unwrap();
    let out = ruleconv(&["convert", dir.to_str().unwrap(), "--to", "sentinel-yaml", "-o", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("refusing to overwrite an input"), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(&input).unwrap(), rule, "the input is untouched");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn reads_stdin() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ruleconv"))
        .args(["--to", "sentinel-yaml", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"id: abc\nname: From stdin\nseverity: low\nquery: T | take 1\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "id: abc\nname: From stdin\nseverity: Low\nquery: T | take 1\n");
}

#[test]
fn several_rules_on_stdout_make_one_template() {
    let out = ruleconv(&["--to", "sentinel", "tests/fixtures/arm/portal_export.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let arm: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(arm["resources"].as_array().unwrap().len(), 2);
}

#[test]
fn diff_reports_changes_with_exit_1() {
    let dir = scratch("diff");
    let (a, b) = (dir.join("a.txt"), dir.join("b.txt"));
    std::fs::write(&a, "same\nold\n").unwrap();
    std::fs::write(&b, "same\nnew\n").unwrap();
    let out = ruleconv(&["diff", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("-old\n+new\n"), "plain (not a terminal): {}", text(&out.stdout));
    assert_eq!(ruleconv(&["diff", a.to_str().unwrap(), a.to_str().unwrap()]).status.code(), Some(0));
    assert_eq!(ruleconv(&["diff", a.to_str().unwrap(), "no/such/file"]).status.code(), Some(2));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn check_points_into_the_rule_file() {
    let dir = scratch("check");
    let file = dir.join("bad.yaml");
    std::fs::write(&file, "id: x\nname: Bad KQL\nseverity: High\nquery: |\n  SecurityEvent\n  | where EventID == (4625\n  | take 5\n")
        .unwrap();
    let good = dir.join("good.yaml");
    std::fs::write(&good, "id: y\nname: Good\nquery: |\n  SecurityEvent\n  | where EventID == 4625\n").unwrap();
    let out = ruleconv(&["check", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    let line = stdout.lines().find(|l| l.contains("bad.yaml")).unwrap_or_else(|| panic!("{stdout}"));
    assert!(line.contains("bad.yaml:7:") || line.contains("bad.yaml:6:"), "line of the rule file, not of the query: {line}");
    assert!(!stdout.contains("good.yaml"), "{stdout}");
    let json = ruleconv(&["check", "--format", "json", good.to_str().unwrap()]);
    assert_eq!(json.status.code(), Some(0));
    let records: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(records[0]["ok"], true);
    assert_eq!(records[0]["rule_id"], "y");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn check_over_the_corpus_fails_exactly_the_broken_rules() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/sentinel");
    if !corpus.is_dir() {
        eprintln!("skipped: {} not present", corpus.display());
        return;
    }
    let out = ruleconv(&["check", "--format", "json", corpus.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let records: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(records.len(), 1229);
    let failed: Vec<_> = records.iter().filter(|r| r["ok"] == false).collect();
    let kql: Vec<_> = failed.iter().filter(|r| r["errors"][0]["message"].as_str().unwrap().starts_with("KQL: ")).collect();
    let stubs = failed.iter().filter(|r| r["errors"][0]["message"].as_str().unwrap().contains("no `query`")).count();
    // Microsoft's parser rejects 10 corpus queries; 8 files are moved-content stubs.
    assert_eq!((kql.len(), stubs, failed.len()), (10, 8, 18));
    // Errors point into the rule file: past the lines before `query:`.
    assert!(kql.iter().all(|r| r["errors"][0]["line"].as_u64().unwrap() > 5), "{kql:?}");
}

#[test]
fn output_bytes_do_not_depend_on_the_thread_count() {
    let run = |threads: &str| {
        Command::new(env!("CARGO_BIN_EXE_ruleconv"))
            .args(["--to", "sentinel", "tests/fixtures"])
            .env("RAYON_NUM_THREADS", threads)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("runs")
    };
    let (one, four) = (run("1"), run("4"));
    assert_eq!(one.status.code(), Some(0), "{}", text(&one.stderr));
    assert!(one.stdout.len() > 10_000);
    assert!(one.stdout == four.stdout && one.stderr == four.stderr);
}

#[test]
fn existing_outputs_are_replaced_only_with_force() {
    let dir = scratch("force");
    let out_dir = dir.join("out");
    let convert = |extra: &[&str]| {
        let mut args = vec!["convert", NRT, "--to", "sentinel-yaml", "-o", out_dir.to_str().unwrap()];
        args.extend_from_slice(extra);
        ruleconv(&args)
    };
    assert_eq!(convert(&[]).status.code(), Some(0));
    assert_eq!(convert(&[]).status.code(), Some(0), "the same output again is fine");
    let written = first_file(&out_dir);
    std::fs::write(&written, "the user's own edits\n").unwrap();
    let refused = convert(&[]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(text(&refused.stderr).contains("use --force"), "{}", text(&refused.stderr));
    assert_eq!(std::fs::read_to_string(&written).unwrap(), "the user's own edits\n");
    assert_eq!(convert(&["--force"]).status.code(), Some(0));
    assert!(std::fs::read_to_string(&written).unwrap().contains("kind: NRT"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn explain_says_what_a_rule_detects_and_where_it_was_not_modelled() {
    let out = ruleconv(&["explain", NRT]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("EventName equals (case-insensitive) 'ConsoleLogin'"), "{stdout}");
    assert!(stdout.contains("excluding any where:"), "{stdout}");
    assert!(stdout.contains("fully modelled"), "{stdout}");

    let out = ruleconv(&["explain", "--format", "json", "tests/fixtures/sentinel/scheduled_grouping_custom_details.yaml"]);
    let records: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    let record = &records[0];
    assert_eq!(record["detection"]["sources"][0]["tables"][0], "_Im_WebSession");
    assert_eq!(record["unmodelled"][0]["construct"], "function arguments");
    assert_eq!((record["unmodelled"][0]["line"].as_u64(), record["unmodelled"][0]["column"].as_u64()), (Some(36), Some(5)));
}

#[test]
fn explain_reports_unreadable_rules_and_explains_the_others() {
    let dir = scratch("explain");
    std::fs::copy(NRT, dir.join("nrt.yaml")).unwrap();
    std::fs::write(dir.join("broken.yaml"), "name: Broken\nquery: |\n  T\nseverity: [unclosed\n").unwrap();
    let out = ruleconv(&["explain", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("broken.yaml:"), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("NRT Login to AWS Management Console without MFA"));
}
