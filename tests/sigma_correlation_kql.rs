//! Sigma correlations through KQL and back: for each kind (event_count, value_count with and
//! without group-by, temporal of two and three rules, with aliases, temporal_ordered), the KQL
//! written for the Sigma rule, read back as a KQL query, lowers into the Sigma rule's own
//! Detection; and the Sigma written for it reads back into that Detection too. The counting
//! correlations also run: kql-run (duckdb-kql, independent of ruleconv) on the KQL and our
//! evaluator on the Sigma rule's Detection give the same groups over the same events.
//! Temporal correlations do not run: kql-run fails on the join window (`abs()` of a datetime
//! difference) and our evaluator does not evaluate windowed joins.
//!
//! The two readings name the same things differently, and only that is set aside: spans
//! (offsets into different texts), each source's name, tables and logsource (the KQL reads the
//! table the profile maps the logsource to), and the neutral event time `@timestamp`, which is
//! the table's `TimeGenerated` in KQL. The rules test fields the profile leaves unmapped.

#[path = "support/kql_corpus.rs"]
mod kql_corpus;
#[path = "support/kql_run.rs"]
#[allow(dead_code)]
mod kql_run;
#[path = "support/shared.rs"]
mod shared;
#[path = "support/without_spans.rs"]
mod without_spans;

use ruleconv::diag::{Code, Kind};
use ruleconv::emit::{EmitOptions, Emitted, Subject, Target, emit};
use ruleconv::eval::{self, Row, time};
use ruleconv::ir::detection::{EVENT_TIME, Stage};
use ruleconv::ir::{Detection, SourceFormat};
use ruleconv::lower::{lower_query, lower_rule};
use ruleconv::read::read_text;
use serde_json::{Value as Json, json};
use std::path::Path;
use without_spans::without_spans;

/// Three rules on Windows security events (`SecurityEvent` in the default profile).
const RULES: &str = "\
title: failed logon
name: failed
logsource:
  product: windows
  service: security
detection:
  sel:
    LogonType|contains: '3'
  condition: sel
---
title: logon
name: logon
logsource:
  product: windows
  service: security
detection:
  sel:
    LogonProcessName|startswith: NtLm
  condition: sel
---
title: special privileges
name: privileged
logsource:
  product: windows
  service: security
detection:
  sel:
    PrivilegeList|contains: SeDebugPrivilege
  condition: sel
";

/// (label, correlation, the code of the KQL's first loss): fixed bins for a count, the first
/// rule's window for three rules, the order for `temporal_ordered` (a window without a
/// direction), else none: the KQL says what the correlation says.
const CORRELATIONS: &[(&str, &str, Option<Code>)] = &[
    (
        "event_count",
        "type: event_count\n  rules: [failed]\n  group-by: [IpAddress]\n  timespan: 10m\n  condition:\n    gte: 5",
        Some(Code::WindowChanged),
    ),
    (
        "value_count of two rules",
        "type: value_count\n  rules: [failed, logon]\n  group-by: [IpAddress, WorkstationName]\n  timespan: 1h\n  condition:\n    gt: 4\n    field: TargetUserName",
        Some(Code::WindowChanged),
    ),
    (
        "value_count without group-by",
        "type: value_count\n  rules: [failed]\n  timespan: 1d\n  condition:\n    field: IpAddress\n    lt: 10",
        Some(Code::WindowChanged),
    ),
    ("temporal of two", "type: temporal\n  rules: [failed, logon]\n  group-by: [TargetUserName]\n  timespan: 5m", None),
    (
        "temporal of three",
        "type: temporal\n  rules: [failed, logon, privileged]\n  group-by: [TargetUserName, IpAddress]\n  timespan: 15m",
        Some(Code::WindowChanged),
    ),
    (
        "temporal with aliases",
        "type: temporal\n  rules: [failed, privileged]\n  group-by: [user]\n  aliases:\n    user:\n      failed: TargetUserName\n      privileged: SubjectUserName\n  timespan: 30s",
        None,
    ),
    (
        "temporal_ordered",
        "type: temporal_ordered\n  rules: [failed, logon]\n  group-by: [TargetUserName]\n  timespan: 2m",
        Some(Code::WindowChanged),
    ),
];

/// The correlation's Detection and its emitted KQL and Sigma.
fn convert(correlation: &str) -> (Detection, Emitted, Emitted) {
    let text = format!("{RULES}---\ntitle: correlated\ncorrelation:\n  {correlation}\n");
    let read = read_text(&text, Path::new("c.yml"), Some(SourceFormat::Sigma));
    assert!(read.problems.iter().all(|p| !p.is_error()), "{:?}", read.problems);
    let rule = read.rules.last().expect("the correlation");
    let detection = std::sync::Arc::unwrap_or_clone(lower_rule(rule));
    let subject = [Subject::new(rule, &detection)];
    let emitted = |target: &str| {
        emit(Target::from_name(target).expect("registered"), &subject, &EmitOptions::default())
            .unwrap_or_else(|e| panic!("{target}: {e:?}"))
    };
    let (kql, sigma) = (emitted("kql"), emitted("sigma"));
    (detection, kql, sigma)
}

/// The Detection as data, without what the two readings name differently.
fn comparable(detection: &Detection) -> Json {
    let mut value = without_spans(detection);
    for source in value["sources"].as_array_mut().expect("sources") {
        let source = source.as_object_mut().expect("a source");
        ["name", "tables", "logsource"].iter().for_each(|key| drop(source.remove(*key)));
    }
    rename(&mut value, EVENT_TIME, "TimeGenerated");
    value
}

fn rename(value: &mut Json, from: &str, to: &str) {
    match value {
        Json::String(s) if s == from => *s = to.to_string(),
        Json::Array(items) => items.iter_mut().for_each(|v| rename(v, from, to)),
        Json::Object(map) => map.values_mut().for_each(|v| rename(v, from, to)),
        _ => {}
    }
}

fn query(kql: &Emitted) -> String {
    kql.text.lines().filter(|l| !l.starts_with("//")).collect::<Vec<_>>().join("\n")
}

#[test]
fn sigma_correlations_lower_alike_from_their_kql() {
    let mut queries = Vec::new();
    for (label, correlation, loss) in CORRELATIONS {
        let (detection, kql, _) = convert(correlation);
        let query = query(&kql);
        let back = lower_query(&query);
        let mut expected = detection.clone();
        // The order is the joins' (`ordered`); KQL's join window has no direction, so the KQL
        // reports its loss and lowers back unordered.
        for stage in &mut expected.stages {
            if let Stage::Join(join) = stage {
                assert_eq!(join.ordered, label == &"temporal_ordered", "{label}");
                join.ordered = false;
            }
        }
        assert!(expected.unmodelled.is_empty(), "{label}: {:?}", expected.unmodelled);
        assert_eq!(comparable(&back), comparable(&expected), "{label}:\n{query}");
        assert!(!detection.stages.is_empty(), "{label}: a correlation stage");
        assert!(kql.problems.iter().all(|p| p.kind == Kind::Loss), "{label}: {:?}", kql.problems);
        assert_eq!(kql.problems.first().map(|p| p.code), *loss, "{label}: {:?}", kql.problems);
        queries.push(query);
    }
    if !kql_corpus::oracle_path().is_file() {
        shared::say_skipped("the kusto-oracle part: ../shared is absent");
        return;
    }
    let texts: Vec<&str> = queries.iter().map(String::as_str).collect();
    for (verdict, query) in kql_corpus::oracle(&texts).iter().zip(&texts) {
        assert!(verdict.ok, "kusto-oracle rejects {:?}:\n{query}", verdict.diagnostics.first().map(|d| &d.message));
    }
}

#[test]
fn sigma_correlations_normalize_to_sigma_of_the_same_detection() {
    for (label, correlation, _) in CORRELATIONS {
        let (detection, _, sigma) = convert(correlation);
        let read = read_text(&sigma.text, Path::new("out.yml"), Some(SourceFormat::Sigma));
        assert!(read.problems.iter().all(|p| !p.is_error()), "{label}: {:?}\n{}", read.problems, sigma.text);
        let again = lower_rule(read.rules.last().expect("the correlation"));
        assert_eq!(comparable(&again), comparable(&detection), "{label}:\n{}", sigma.text);
        // The rule's own kind, `temporal_ordered` too (its order is the Detection's loss).
        let kind = correlation.split_whitespace().nth(1).expect("a type");
        assert!(sigma.text.contains(&format!("type: {kind}\n")), "{label}:\n{}", sigma.text);
    }
}

const NOW: &str = "2024-05-01T12:00:00Z";

/// Security events over ninety minutes, every field varied (a small linear congruential sequence,
/// so the run is the same every time), with the Sigma rules' field names.
fn events() -> Vec<Row> {
    let start = time::parse_datetime("2024-05-01T08:00:00Z").expect("a datetime");
    let mut state: u64 = 7;
    let mut next = |n: u64| {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % n
    };
    (0..200)
        .map(|_| {
            let minutes = next(90) as i64;
            let at = start + minutes * 60 * time::TICKS_PER_SECOND + next(60) as i64 * time::TICKS_PER_SECOND;
            let mut pick = |values: &[&str]| json!(values[next(values.len() as u64) as usize]);
            let mut row = Row::new();
            row.insert(EVENT_TIME.into(), json!(time::format_datetime(at)));
            row.insert("LogonType".into(), pick(&["3", "2", "10"]));
            row.insert("LogonProcessName".into(), pick(&["NtLmSsp", "Kerberos"]));
            row.insert("PrivilegeList".into(), pick(&["SeDebugPrivilege", "SeBackupPrivilege"]));
            row.insert("IpAddress".into(), pick(&["10.0.0.1", "10.0.0.2", "10.0.0.3"]));
            row.insert("WorkstationName".into(), pick(&["WS1", "WS2"]));
            row.insert("TargetUserName".into(), pick(&["ann", "bob", "cy", "dee", "eve"]));
            row
        })
        .collect()
}

/// Result rows as comparable text, datetimes as ticks (the engines print them differently).
fn rows_as_text(columns: &[String], rows: impl Iterator<Item = Vec<Json>>) -> Vec<String> {
    let mut out: Vec<String> = rows
        .map(|row| {
            let cells = columns.iter().zip(row).map(|(column, cell)| match cell.as_str().and_then(time::parse_datetime) {
                Some(ticks) => format!("{}=@{ticks}", if column == EVENT_TIME { "TimeGenerated" } else { column }),
                None => format!("{column}={cell}"),
            });
            cells.collect::<Vec<_>>().join(" ")
        })
        .collect();
    out.sort();
    out
}

#[test]
fn counting_correlations_select_the_same_groups_in_kql_run_and_our_evaluator() {
    if !kql_run::shared("tools/kql-run/kql-run").is_file() {
        shared::say_skipped("../shared/tools/kql-run is absent");
        return;
    }
    let now = time::parse_datetime(NOW).expect("pinned now");
    let events = events();
    let columns: Vec<(String, String)> = events[0]
        .keys()
        .map(|k| if k == EVENT_TIME { ("TimeGenerated".to_string(), "datetime".to_string()) } else { (k.clone(), "string".to_string()) })
        .collect();
    let renamed: Vec<Row> = events
        .iter()
        .map(|e| e.iter().map(|(k, v)| (if k == EVENT_TIME { "TimeGenerated".into() } else { k.clone() }, v.clone())).collect())
        .collect();
    let counting: Vec<_> = CORRELATIONS.iter().filter(|(_, c, _)| c.contains("_count")).collect();
    let mut cases = Vec::new();
    for (label, correlation, _) in &counting {
        let (detection, kql, _) = convert(correlation);
        let ours = eval::evaluate(&detection, &events, now).unwrap_or_else(|e| panic!("{label}: {e}"));
        let rows = ours.rows.iter().map(|row| ours.columns.iter().map(|c| row.get(c).cloned().unwrap_or(Json::Null)).collect());
        cases.push((label, query(&kql), rows_as_text(&ours.columns, rows)));
    }
    let requests: Vec<kql_run::Request> = cases
        .iter()
        .map(|(_, query, _)| kql_run::Request {
            query: query.clone(),
            now: NOW.into(),
            tables: [("SecurityEvent".to_string(), (columns.clone(), renamed.clone()))].into_iter().collect(),
        })
        .collect();
    for ((label, query, ours), answer) in cases.iter().zip(kql_run::run_all(&requests)) {
        let kql_run::Answer::Rows { columns, rows } = answer else { panic!("{label}: kql-run does not run\n{query}") };
        let theirs = rows_as_text(&columns, rows.into_iter());
        assert!(!theirs.is_empty(), "{label}: the events should make some group pass:\n{query}");
        assert_eq!(theirs, *ours, "{label}:\n{query}");
        eprintln!("{label}: kql-run and our evaluator agree on {} groups", ours.len());
    }
}
