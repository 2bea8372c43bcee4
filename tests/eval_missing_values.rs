//! What a missing value is to `ruleconv test`'s evaluator, judged by independent engines:
//! - KQL (kql-run, duckdb-kql): strings are never null, so a row that lacks a string column
//!   holds `""`, in grouping, joins and comparisons alike;
//! - Sigma (sigma-run, rsigma): `''` does not match a missing field, `null` does.
//!
//! Each table runs the same query or rule over the same events in our evaluator and in the
//! engine; the expected answers are the engines', not written here. Skipped (one line) when
//! ../shared is absent.

#[path = "support/kql_run.rs"]
#[allow(dead_code)]
mod kql_run;
#[path = "support/same_rows.rs"]
mod same_rows;
#[path = "support/shared.rs"]
mod shared;
#[path = "support/sigma_run.rs"]
mod sigma_run;

use kql_run::{Answer, Request};
use ruleconv::eval::{self, Row, generate::Columns};
use ruleconv::ir::SourceFormat;
use ruleconv::read::read_text;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;

const NOW: &str = "2024-05-01T12:00:00Z";

fn rows(values: serde_json::Value) -> Vec<Row> {
    values.as_array().expect("rows").iter().map(|r| r.as_object().expect("a row").clone()).collect()
}

/// `T`: a user name (missing in one row, empty in another) and a count; `U`: a user name.
fn tables() -> BTreeMap<String, (Columns, Vec<Row>)> {
    let t = rows(json!([{"User": "alice", "N": 1}, {"N": 2}, {"User": "", "N": 3}, {"User": "bob", "N": 4}]));
    let u = rows(json!([{"Name": "", "Dept": "ops"}, {"Name": "alice", "Dept": "dev"}]));
    let columns = |cs: &[(&str, &str)]| cs.iter().map(|(c, t)| (c.to_string(), t.to_string())).collect();
    BTreeMap::from([
        ("T".to_string(), (columns(&[("User", "string"), ("N", "long")]), t)),
        ("U".to_string(), (columns(&[("Name", "string"), ("Dept", "string")]), u)),
    ])
}

const QUERIES: &[&str] = &[
    // Grouping: the missing user and the empty one are one group.
    "T | summarize Rows = count(), Total = sum(N) by User",
    "T | summarize Users = dcount(N) by User | where Users > 1",
    // Joins: the missing user joins the empty name.
    "T | join kind=inner (U | project User = Name, Dept) on User | project N, Dept",
    "T | join kind=leftanti (U | project User = Name) on User | project N",
    // Comparisons.
    "T | where User == '' | project N",
    "T | where User != 'alice' | project N",
    "T | where isempty(User) | project N",
    "T | where User !contains 'b' | project N",
    "T | where User in ('', 'bob') | project N",
];

#[test]
fn a_missing_string_is_empty_text_as_kql_run_says() {
    if !kql_run::shared("tools/kql-run/kql-run").is_file() {
        shared::say_skipped("../shared/tools/kql-run is absent");
        return;
    }
    let requests: Vec<Request> = QUERIES.iter().map(|q| Request { query: q.to_string(), now: NOW.into(), tables: tables() }).collect();
    let now = eval::time::parse_datetime(NOW).expect("a datetime");
    let mut failures = Vec::new();
    for (query, answer) in QUERIES.iter().zip(kql_run::run_all(&requests)) {
        let Answer::Rows { columns, rows } = answer else { panic!("kql-run runs every query of the table: {query}") };
        let events: Vec<Row> = tables()
            .into_iter()
            .flat_map(|(table, (_, rows))| {
                rows.into_iter().map(move |mut r| {
                    r.insert("Type".into(), json!(table));
                    r
                })
            })
            .collect();
        let ours = eval::evaluate(&ruleconv::lower::lower_query(query), &events, now).unwrap_or_else(|e| panic!("{query}: {e}"));
        if let Err(difference) = same_rows::compare(&ours, &columns, &rows) {
            failures.push(format!("{query}: {difference}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Sigma detections on a field the events may lack.
const DETECTIONS: &[&str] = &[
    "  sel:\n    User: ''\n  condition: sel",
    "  sel:\n    User: null\n  condition: sel",
    "  sel:\n    User: ''\n  condition: not sel",
    "  sel:\n    User: null\n  condition: not sel",
    "  sel:\n    User:\n      - ''\n      - bob\n  condition: sel",
    "  sel:\n    User|contains: o\n  condition: not sel",
];

#[test]
fn sigma_empty_text_is_not_a_missing_field_as_sigma_run_says() {
    let tool = kql_run::shared("tools/sigma-run/sigma-run");
    if !tool.is_file() {
        shared::say_skipped("../shared/tools/sigma-run is absent");
        return;
    }
    let events = rows(json!([{"User": "bob", "N": 1}, {"N": 2}, {"User": "", "N": 3}, {"User": null, "N": 4}]));
    let rules: Vec<String> = DETECTIONS
        .iter()
        .map(|d| {
            format!("title: t\nid: 9c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f\nstatus: test\nlogsource:\n  product: test\ndetection:\n{d}\n")
        })
        .collect();
    let cases: Vec<(&str, &[Row])> = rules.iter().map(|r| (r.as_str(), events.as_slice())).collect();
    let mut failures = Vec::new();
    for ((rule, detection), theirs) in rules.iter().zip(DETECTIONS).zip(sigma_run::verdicts(&tool, &cases)) {
        let theirs = theirs.unwrap_or_else(|e| panic!("sigma-run judges every rule of the table: {e}"));
        let read = read_text(rule, Path::new("r.yml"), Some(SourceFormat::Sigma));
        let lowered = ruleconv::lower::lower_rule(read.rules.first().expect("the rule reads"));
        let ours: Vec<bool> = events
            .iter()
            .map(|event| eval::evaluate(&lowered, std::slice::from_ref(event), 0).map(|t| !t.rows.is_empty()).expect("evaluates"))
            .collect();
        if ours != theirs {
            failures.push(format!("{detection:?}: sigma-run {theirs:?}, ours {ours:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
