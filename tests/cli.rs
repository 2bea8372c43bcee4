//! The `ruleconv` binary end to end: short form, folders, reports, exit codes, stdin, safety.

#[path = "support/run.rs"]
mod run;
#[path = "support/shared.rs"]
mod shared;

use run::{ruleconv, scratch, text};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

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
        "--show",
        "errors",
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
    assert!(records.iter().any(|r| r["status"] == "failed" && r["problems"][0]["file"].as_str().unwrap().ends_with("broken.yaml")));
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

/// A column compared with an operator its type refuses (Microsoft's analyzer: KS106 "The
/// operator 'contains' is not defined for the operand types int and string") is a warning at the
/// column, in the rule file; what the analyzer accepts (`==` with a string) is not.
#[test]
fn check_reports_a_comparison_the_columns_type_refuses() {
    let dir = scratch("check-types");
    let file = dir.join("ports.yaml");
    let query = "query: |\n  DeviceNetworkEvents\n  | where RemotePort == \"443\"\n  | where RemotePort contains \"44\"\n";
    std::fs::write(&file, format!("id: p\nname: Ports\n{query}")).unwrap();
    let out = ruleconv(&["check", "--format", "json", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "a warning: {}", text(&out.stderr));
    let records: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let warnings = records[0]["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0]["code"], "column-type");
    assert_eq!((warnings[0]["line"].as_u64(), warnings[0]["column"].as_u64()), (Some(6), Some(11)), "{warnings:?}");
    assert!(warnings[0]["message"].as_str().unwrap().contains("`contains` is not defined for `RemotePort`"), "{warnings:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn check_over_the_corpus_fails_exactly_the_broken_rules() {
    let Some(corpus) = shared::shared_or_skip("corpus/sentinel") else { return };
    let out = ruleconv(&["check", "--format", "json", corpus.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let records: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(records.len(), 1229);
    let failed: Vec<_> = records.iter().filter(|r| r["ok"] == false).collect();
    let kql: Vec<_> = failed.iter().filter(|r| r["errors"][0]["code"] == "kql-syntax").collect();
    let stubs = failed.iter().filter(|r| r["errors"][0]["code"] == "missing-key").count();
    // Microsoft's parser rejects 10 corpus queries; 8 files are moved-content stubs.
    assert_eq!((kql.len(), stubs, failed.len()), (10, 8, 18));
    // Every problem names its rule by index, with a line and column.
    assert!(records.iter().flat_map(|r| r["errors"].as_array().unwrap()).all(|e| e["rule"].is_u64() && e["column"].as_u64() > Some(0)));
    // Errors point into the rule file: past the lines before `query:`.
    assert!(kql.iter().all(|r| r["errors"][0]["line"].as_u64().unwrap() > 5), "{kql:?}");
}

#[test]
fn existing_outputs_are_replaced_only_with_force() {
    let dir = scratch("force");
    let out_dir = dir.join("out");
    let convert = |extra: &[&str]| {
        let mut args = vec!["convert", NRT, "--to", "sentinel-yaml", "-o", out_dir.to_str().unwrap(), "--show", "errors"];
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

/// An ARM template of alert rules, one per (display name, kind, extra properties) triple, each
/// with the properties the API requires (so that converting them fills none).
fn arm_template(rules: &[(&str, &str, &str)]) -> String {
    let resources: Vec<String> = rules
        .iter()
        .enumerate()
        .map(|(i, (name, kind, extra))| {
            format!(
                "    {{\n      \"type\": \"Microsoft.OperationalInsights/workspaces/providers/alertRules\",\n      \"kind\": \"{kind}\",\n      \"name\": \"[concat(parameters('workspace'),'/Microsoft.SecurityInsights/00000000-0000-0000-0000-00000000000{i}')]\",\n      \"properties\": {{\n        \"displayName\": \"{name}\",\n        \"severity\": \"High\",\n        \"enabled\": true,\n        \"suppressionDuration\": \"PT5H\",\n        \"suppressionEnabled\": false,\n        \"query\": \"T | take 1\"{extra}\n      }}\n    }}"
            )
        })
        .collect();
    format!("{{\n  \"resources\": [\n{}\n  ]\n}}\n", resources.join(",\n"))
}

/// Every problem object of a JSON output carries its rule's index, line and column.
fn assert_problems_are_placed(problems: &[serde_json::Value], rule_index: u64) {
    for p in problems {
        assert_eq!(p["rule"], rule_index, "{p}");
        assert!(p["line"].as_u64().unwrap() > 1 && p["column"].as_u64().unwrap() >= 1, "{p}");
        assert!(p["kind"].is_string() && p["code"].is_string() && p["message"].is_string(), "{p}");
    }
}

#[test]
fn rules_sharing_a_name_each_get_only_their_own_problems() {
    let dir = scratch("same-name");
    let file = dir.join("pack.json");
    // The second rule alone has a misspelled key (a reader warning) and a tactic the ARM
    // emitter respells (a change).
    let second = ",\n        \"tactics\": [\"Initial access\"],\n        \"requiredDataConnectors\": [{\"connectorId\": \"X\", \"datatypes\": [\"T\"]}]";
    std::fs::write(&file, arm_template(&[("Same", "NRT", ""), ("Same", "NRT", second)])).unwrap();

    let check = ruleconv(&["check", "--format", "json", file.to_str().unwrap()]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
    let records: Vec<serde_json::Value> = serde_json::from_slice(&check.stdout).unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!((&records[0]["rule_index"], &records[1]["rule_index"]), (&0.into(), &1.into()));
    assert_eq!(records[0]["warnings"], serde_json::json!([]), "the first rule has no problems: {records:?}");
    let warnings = records[1]["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0]["code"], "invalid-value", "{warnings:?}");
    assert_problems_are_placed(warnings, 1);

    let report = dir.join("report.json");
    let out = ruleconv(&["convert", file.to_str().unwrap(), "--to", "sentinel", "--report", report.to_str().unwrap(), "--show", "all"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let records = report["records"].as_array().unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["problems"], serde_json::json!([]), "{records:?}");
    let problems = records[1]["problems"].as_array().unwrap();
    let kinds: Vec<&str> = problems.iter().map(|p| p["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["warning", "change"], "{problems:?}");
    assert_problems_are_placed(problems, 1);
    // The change is about the tactic, and points at the `tactics` key.
    let tactics_line = std::fs::read_to_string(&file).unwrap().lines().position(|l| l.contains("\"tactics\"")).unwrap() + 1;
    assert_eq!(problems[1]["line"], tactics_line as u64);
    // Printed as `file:line:col: kind: rule 'name': message`.
    let stderr = text(&out.stderr);
    assert!(stderr.contains(&format!("pack.json:{tactics_line}:9: change: rule 'Same': tactic `Initial access`")), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn failing_rules_sharing_a_name_are_separate_records() {
    let dir = scratch("same-name-failing");
    let file = dir.join("pack.json");
    std::fs::write(&file, arm_template(&[("Broken", "Fusion", ""), ("Broken", "Fusion", "")])).unwrap();
    let report = dir.join("report.json");
    let out = ruleconv(&["convert", file.to_str().unwrap(), "--to", "sentinel", "--report", report.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(report["summary"]["rules"], 2);
    assert_eq!(report["summary"]["failed"], 2);
    for (i, record) in report["records"].as_array().unwrap().iter().enumerate() {
        assert_eq!(record["rule_index"], i as u64);
        assert_eq!(record["title"], "Broken");
        let problems = record["problems"].as_array().unwrap();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0]["code"], "invalid-value", "{problems:?}");
        assert_problems_are_placed(problems, i as u64);
    }
    let check = ruleconv(&["check", "--format", "json", file.to_str().unwrap()]);
    let records: Vec<serde_json::Value> = serde_json::from_slice(&check.stdout).unwrap();
    assert_eq!(records.len(), 2);
    assert!(records.iter().all(|r| r["ok"] == false && r["errors"].as_array().unwrap().len() == 1), "{records:?}");
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

#[test]
fn an_option_the_target_does_not_read_is_a_usage_error() {
    let out = ruleconv(&["convert", NRT, "--to", "sentinel-yaml", "--api-version", "2024-01-01"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--api-version does not apply to --to sentinel-yaml"), "{}", text(&out.stderr));
}

#[test]
fn kql_takes_a_profile_and_other_targets_refuse_it() {
    let dir = scratch("kql-profile");
    let rule = dir.join("rule.yml");
    let sigma = "title: t\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n  sel:\n    Image|endswith: '\\x.exe'\n  condition: sel\n";
    std::fs::write(&rule, sigma).unwrap();
    let out = ruleconv(&["convert", rule.to_str().unwrap(), "--to", "kql", "--profile", "asim"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with(
            "// ruleconv fidelity: exact\n// ruleconv evidence: schema-checked\nimProcessCreate\n| where TargetProcessName endswith"
        ),
        "{}",
        text(&out.stdout)
    );
    let out = ruleconv(&["convert", rule.to_str().unwrap(), "--to", "sigma", "--profile", "asim"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--profile does not apply to --to sigma"), "{}", text(&out.stderr));
}

#[test]
fn the_summary_and_report_give_each_rule_a_fidelity_verdict() {
    let dir = scratch("fidelity");
    let report = dir.join("report.json");
    let out = ruleconv(&["convert", NRT, "--to", "sentinel", "--report", report.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("fidelity: 1 exact, 0 approximate, 0 unsupported"), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap();
    assert_eq!(report["records"][0]["fidelity"], "exact");
    assert_eq!(report["summary"]["exact"], 1);
}

#[test]
fn several_targets_in_one_run_write_a_folder_each_with_the_single_runs_bytes() {
    let dir = scratch("several");
    let together = dir.join("together");
    let out = ruleconv(&["convert", "tests/fixtures/sentinel", "--to", "sigma,markdown,sigma", "-o", together.to_str().unwrap()]);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("to sigma:") && stderr.contains("to markdown:"), "{stderr}");
    // A problem of reading a rule is printed once, not once per target.
    let mut lines: Vec<&str> = stderr.lines().collect();
    let all = lines.len();
    lines.sort();
    lines.dedup();
    assert_eq!(lines.len(), all, "a line printed twice:\n{stderr}");
    for target in ["sigma", "markdown"] {
        let alone = dir.join(target);
        ruleconv(&["convert", "tests/fixtures/sentinel", "--to", target, "-o", alone.to_str().unwrap()]);
        let names = |d: &Path| {
            let mut names: Vec<PathBuf> = std::fs::read_dir(d).unwrap().map(|e| e.unwrap().path()).collect();
            names.sort();
            names
        };
        let (mine, theirs) = (names(&together.join(target)), names(&alone));
        assert!(mine.len() > 5, "{mine:?}");
        assert_eq!(mine.len(), theirs.len());
        for (a, b) in mine.iter().zip(&theirs) {
            assert_eq!(a.file_name(), b.file_name());
            assert_eq!(std::fs::read(a).unwrap(), std::fs::read(b).unwrap(), "{}", a.display());
        }
    }
    assert!(!together.join("chronicle").exists());
    // Several formats cannot share stdout.
    assert_eq!(ruleconv(&["--to", "sigma,markdown", NRT]).status.code(), Some(2));
}

#[test]
fn set_overrides_the_schedule_and_trigger_of_sentinel_rules() {
    let rule = "tests/fixtures/sentinel/scheduled_datatypes_spelling.yaml";
    let out = ruleconv(&["--to", "sentinel-yaml", "--set", "queryFrequency=2h", "--set", "triggerThreshold=7", rule, "--show", "changes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let yaml = text(&out.stdout);
    assert!(yaml.contains("queryFrequency: 2h\n") && yaml.contains("triggerThreshold: 7\n"), "{yaml}");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("change: rule") && stderr.contains("`queryFrequency` set to `2h` by --set"), "{stderr}");
    // A key ruleconv does not know, a bad value, or a target without schedules is a usage error.
    for args in [
        &["--to", "sentinel", "--set", "severity=High", rule][..],
        &["--to", "sentinel", "--set", "queryPeriod=soon", rule],
        &["--to", "sigma", "--set", "queryFrequency=1h", rule],
    ] {
        assert_eq!(ruleconv(args).status.code(), Some(2), "{args:?}");
    }
}
