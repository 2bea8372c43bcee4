//! `ruleconv test`: rules run over hand-written events (tests/fixtures-events/), exact rows.

use serde_json::{Value, json};
use std::process::{Command, Output};

fn ruleconv(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ruleconv")).args(args).current_dir(env!("CARGO_MANIFEST_DIR")).output().expect("runs")
}

/// Runs `ruleconv test RULE --events EVENTS --now ... --format json`; the records and the exit code.
fn test_json(rule: &str, events: &str) -> (Vec<Value>, Option<i32>) {
    let out = ruleconv(&["test", rule, "--events", events, "--now", "2024-05-01T12:00:00Z", "--format", "json"]);
    let records: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (records.as_array().cloned().unwrap_or_default(), out.status.code())
}

#[test]
fn has_any_finds_whole_terms_only() {
    // RunningRAT: `RequestMethod == "GET"` and `RequestURL has_any (['/ui/chk', 'mactok=', ...])`.
    // Kept: `/ui/chk?id=7` and `?mactok=`; not `xmactok=` (no term start), `/ui/chkdsk` (no term
    // end), a POST, or `get` (== is case-sensitive).
    let (records, code) = test_json("tests/fixtures/sentinel/scheduled_tags.yaml", "tests/fixtures-events/running-rat.jsonl");
    assert_eq!(code, Some(0));
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["status"], "evaluated");
    let row = |time: &str, url: &str, source: &str| {
        json!({"TimeGenerated": time, "DeviceVendor": "Contoso", "DeviceProduct": null, "DeviceAction": null, "DestinationDnsDomain": null,
               "DestinationIP": "203.0.113.5", "RequestURL": url, "SourceIP": source, "SourceHostName": null, "RequestClientApplication": null})
    };
    assert_eq!(
        records[0]["rows"],
        json!([
            row("2024-05-01T11:00:00Z", "http://203.0.113.5/ui/chk?id=7", "10.0.0.5"),
            row("2024-05-01T11:01:00Z", "http://203.0.113.5/login?mactok=a1b2", "10.0.0.6")
        ])
    );
}

#[test]
fn a_distinct_count_threshold_per_hour_bin() {
    // Six countries within one hour for ana; bo's six are spread over two hours; cy uses another app.
    let (records, code) = test_json("tests/fixtures/arm/content_package.json", "tests/fixtures-events/sign-ins.jsonl");
    assert_eq!(code, Some(0));
    assert_eq!(
        records[0]["rows"],
        json!([{"UserPrincipalName": "ana@contoso.com", "TimeGenerated": "2024-05-01T10:00:00Z", "Countries": 6}])
    );
}

#[test]
fn the_catalog_seed_is_unsupported_with_its_reason() {
    // Its joins match on values computed with `split()`, which the Detection does not hold.
    let (records, code) = test_json("tests/fixtures/rule-catalog.md", "tests/fixtures-events/vm-run-command.jsonl");
    assert_eq!(code, Some(1));
    assert_eq!(records[0]["status"], "unsupported");
    assert_eq!(records[0]["rows"], json!([]));
    assert!(records[0]["reason"].as_str().unwrap_or_default().contains("join key"), "{}", records[0]);
}

#[test]
fn text_output_is_a_heading_and_a_json_row_per_line() {
    let out = ruleconv(&[
        "test",
        "tests/fixtures/arm/content_package.json",
        "--events",
        "tests/fixtures-events/sign-ins.jsonl",
        "--now",
        "2024-05-01T12:00:00Z",
    ]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "== tests/fixtures/arm/content_package.json: Example app: sign-ins from many countries: 1 row(s)\n\
         {\"UserPrincipalName\":\"ana@contoso.com\",\"TimeGenerated\":\"2024-05-01T10:00:00Z\",\"Countries\":6}\n"
    );
}

#[test]
fn bad_events_and_bad_times_are_usage_errors() {
    let dir = std::env::temp_dir().join(format!("ruleconv-test-cmd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let events = dir.join("bad.jsonl");
    std::fs::write(&events, "{\"A\": 1}\n{\"A\": \n").unwrap();
    let out = ruleconv(&["test", "tests/fixtures/arm/content_package.json", "--events", events.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.jsonl: line 2: not JSON"), "{}", String::from_utf8_lossy(&out.stderr));
    let out =
        ruleconv(&["test", "tests/fixtures/arm/content_package.json", "--events", "tests/fixtures-events/sign-ins.jsonl", "--now", "noon"]);
    assert_eq!(out.status.code(), Some(2));
    let out = ruleconv(&["test", "tests/fixtures/arm/content_package.json", "--events", "missing.jsonl"]);
    assert_eq!(out.status.code(), Some(2));
    let help = ruleconv(&["test", "--help"]);
    assert!(String::from_utf8_lossy(&help.stdout).contains("ruleconv test rules/spray.yaml --events events.jsonl"));
}
