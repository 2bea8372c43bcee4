//! The Sigma reader: every modifier, wildcard and escape, condition form, correlation and
//! filter lowers to the Detection it means; malformed rules are errors at their line and
//! column; metadata lands in the neutral Rule.

use ruleconv::diag::{Code, Kind, Position};
use ruleconv::ir::detection::{Detection, EVENT_TIME, Input, JoinKind, Predicate, Quantifier, Stage, Value};
use ruleconv::ir::{Rule, Severity, SourceFormat, Tactic};
use ruleconv::lower::lower_rule;
use ruleconv::read::{ReadOutcome, read_text};
use std::path::Path;

fn read(text: &str) -> ReadOutcome {
    read_text(text, Path::new("r.yml"), Some(SourceFormat::Sigma))
}

fn rule_with(detection: &str) -> String {
    format!("title: t\nlogsource:\n  product: windows\ndetection:\n{detection}\n")
}

fn lowered(text: &str) -> (Rule, Detection) {
    let out = read(text);
    assert!(out.problems.iter().all(|p| !p.is_error()), "{:?}", out.problems);
    let rule = out.rules.into_iter().next().expect("a rule");
    let detection = std::sync::Arc::unwrap_or_clone(lower_rule(&rule));
    (rule, detection)
}

/// A compact form of a predicate: `F Op~ [values] all`, `~` when case-insensitive.
fn show(p: &Predicate) -> String {
    let join = |ps: &[Predicate]| ps.iter().map(show).collect::<Vec<_>>().join(", ");
    match p {
        Predicate::And(ps) => format!("and({})", join(ps)),
        Predicate::Or(ps) => format!("or({})", join(ps)),
        Predicate::Not(inner) => format!("not({})", show(inner)),
        Predicate::Opaque { .. } => "opaque".into(),
        Predicate::Match(m) => {
            let values: Vec<String> = m
                .values
                .iter()
                .map(|v| match v {
                    Value::String(s) => format!("'{s}'"),
                    Value::Int(i) => i.to_string(),
                    Value::Bool(b) => b.to_string(),
                    Value::Field(f) => format!("@{f}"),
                    other => format!("{other:?}"),
                })
                .collect();
            let cs = if m.case_sensitive { "" } else { "~" };
            let all = if m.quantifier == Quantifier::All { " all" } else { "" };
            format!("{} {:?}{cs} [{}]{all}", m.field, m.op, values.join(", "))
        }
    }
}

fn filter_of(detection: &str) -> String {
    let (_, d) = lowered(&rule_with(detection));
    show(&d.sources[0].filter)
}

#[test]
fn values_modifiers_wildcards_and_escapes() {
    let cases: &[(&str, &str)] = &[
        ("  sel:\n    A: 'x'\n  condition: sel", "A Equals~ ['x']"),
        ("  sel:\n    A: 4688\n  condition: sel", "A Equals~ [4688]"),
        ("  sel:\n    A|contains: [00000429, 0x1F]\n  condition: sel", "A Contains~ ['00000429', '0x1F']"),
        ("  sel:\n    A: '*x'\n  condition: sel", "A EndsWith~ ['x']"),
        ("  sel:\n    A: 'x*'\n  condition: sel", "A StartsWith~ ['x']"),
        ("  sel:\n    A: '*x*'\n  condition: sel", "A Contains~ ['x']"),
        ("  sel:\n    A: 'x*y'\n  condition: sel", "A Regex~ ['(?s)^x.*y$']"),
        ("  sel:\n    A: 'x?.'\n  condition: sel", r"A Regex~ ['(?s)^x.\.$']"),
        ("  sel:\n    A: 'x\\*y'\n  condition: sel", "A Equals~ ['x*y']"),
        ("  sel:\n    A: 'x\\?'\n  condition: sel", "A Equals~ ['x?']"),
        ("  sel:\n    A: 'c:\\\\*'\n  condition: sel", r"A StartsWith~ ['c:\']"),
        ("  sel:\n    A: 'c:\\win'\n  condition: sel", r"A Equals~ ['c:\win']"),
        ("  sel:\n    A|contains: x\n  condition: sel", "A Contains~ ['x']"),
        ("  sel:\n    A|startswith: x\n  condition: sel", "A StartsWith~ ['x']"),
        ("  sel:\n    A|endswith: x\n  condition: sel", "A EndsWith~ ['x']"),
        ("  sel:\n    A|contains|all: [x, y]\n  condition: sel", "A Contains~ ['x', 'y'] all"),
        ("  sel:\n    A: [x, '*y']\n  condition: sel", "or(A Equals~ ['x'], A EndsWith~ ['y'])"),
        ("  sel:\n    A|cased: Xy\n  condition: sel", "A Equals ['Xy']"),
        ("  sel:\n    A|re: 'a.b'\n  condition: sel", "A Regex ['a.b']"),
        ("  sel:\n    A|re|i|s: 'a.b'\n  condition: sel", "A Regex ['(?is)a.b']"),
        ("  sel:\n    A|cidr: 10.0.0.0/8\n  condition: sel", "A Cidr~ ['10.0.0.0/8']"),
        ("  sel:\n    A|exists: true\n  condition: sel", "not(A IsNull~ [])"),
        ("  sel:\n    A|exists: false\n  condition: sel", "A IsNull~ []"),
        ("  sel:\n    A: null\n  condition: sel", "A IsNull~ []"),
        ("  sel:\n    A|gt: 5\n  condition: sel", "A Gt~ [5]"),
        ("  sel:\n    A|gte: 5\n  condition: sel", "A Ge~ [5]"),
        ("  sel:\n    A|lt: 5\n  condition: sel", "A Lt~ [5]"),
        ("  sel:\n    A|lte: 5\n  condition: sel", "A Le~ [5]"),
        ("  sel:\n    A|fieldref: B\n  condition: sel", "A Equals~ [@B]"),
        ("  sel:\n    A|fieldref|endswith: B\n  condition: sel", "A EndsWith~ [@B]"),
        ("  sel:\n    A|base64: ping\n  condition: sel", "A Equals~ ['cGluZw==']"),
        ("  sel:\n    A|base64offset|contains: ping\n  condition: sel", "A Contains~ ['cGluZ', 'Bpbm', 'waW5n']"),
        ("  sel:\n    A|wide|base64offset|contains: ping\n  condition: sel", "A Contains~ ['cABpAG4AZw', 'AAaQBuAGcA', 'wAGkAbgBnA']"),
        ("  sel:\n    A|utf16le: ab\n  condition: sel", "A Equals~ ['a\0b\0']"),
        ("  sel:\n    A|utf16be: ab\n  condition: sel", "A Equals~ ['\0a\0b']"),
        ("  sel:\n    A|windash|contains: ' -f'\n  condition: sel", "A Contains~ [' -f', ' /f', ' \u{2013}f', ' \u{2014}f', ' \u{2015}f']"),
        (
            "  sel:\n    A|windash|contains|all: ['-a', 'b']\n  condition: sel",
            "and(A Contains~ ['-a', '/a', '\u{2013}a', '\u{2014}a', '\u{2015}a'], A Contains~ ['b'])",
        ),
        ("  sel:\n    - A: x\n    - B: y\n  condition: sel", "or(A Equals~ ['x'], B Equals~ ['y'])"),
        ("  sel:\n    A: x\n    B: y\n  condition: sel", "and(A Equals~ ['x'], B Equals~ ['y'])"),
    ];
    for (detection, expected) in cases {
        assert_eq!(&filter_of(detection), expected, "{detection}");
    }
}

#[test]
fn conditions() {
    let searches = "  sel_a:\n    A: a\n  sel_b:\n    B: b\n  _f:\n    C: c\n";
    let cases: &[(&str, &str)] = &[
        ("sel_a and not sel_b", "and(A Equals~ ['a'], not(B Equals~ ['b']))"),
        ("sel_a or sel_b and _f", "or(A Equals~ ['a'], and(B Equals~ ['b'], C Equals~ ['c']))"),
        ("(sel_a or sel_b) and _f", "and(or(A Equals~ ['a'], B Equals~ ['b']), C Equals~ ['c'])"),
        ("1 of sel_*", "or(A Equals~ ['a'], B Equals~ ['b'])"),
        ("all of sel_*", "and(A Equals~ ['a'], B Equals~ ['b'])"),
        ("1 of them", "or(A Equals~ ['a'], B Equals~ ['b'])"),
        ("all of them and not _f", "and(A Equals~ ['a'], B Equals~ ['b'], not(C Equals~ ['c']))"),
    ];
    for (condition, expected) in cases {
        assert_eq!(&filter_of(&format!("{searches}  condition: {condition}")), expected, "{condition}");
    }
    assert_eq!(filter_of(&format!("{searches}  condition:\n    - sel_a\n    - sel_b")), "or(A Equals~ ['a'], B Equals~ ['b'])");
}

#[test]
fn keywords_are_opaque_and_listed() {
    let (_, d) = lowered(&rule_with("  keywords:\n    - 'evil'\n    - 'bad'\n  condition: keywords"));
    assert_eq!(show(&d.sources[0].filter), "opaque");
    assert_eq!(d.unmodelled.len(), 1);
    assert_eq!(d.unmodelled[0].construct, "keywords");
}

#[test]
fn the_source_carries_the_logsource_and_fields_are_outputs() {
    let (_, d) = lowered(&format!("{}fields:\n  - CommandLine\n", rule_with("  sel:\n    A: x\n  condition: sel")));
    let source = &d.sources[0];
    assert!(source.tables.is_empty());
    assert_eq!(source.logsource.as_ref().and_then(|l| l.product.as_deref()), Some("windows"));
    assert_eq!(d.outputs.fields.iter().map(|o| o.name.as_str()).collect::<Vec<_>>(), ["CommandLine"]);
    assert!(d.unmodelled.is_empty());
}

const CORRELATED: &str =
    "title: failed logon\nname: failed_logon\nlogsource:\n  product: windows\ndetection:\n  sel:\n    EventID: 4625\n  condition: sel\n";

#[test]
fn event_count_correlation_aggregates_the_named_rule() {
    let text = format!(
        "{CORRELATED}---\ntitle: many failures\ncorrelation:\n  type: event_count\n  rules:\n    - failed_logon\n  group-by:\n    - TargetUserName\n  timespan: 5m\n  condition:\n    gte: 10\n"
    );
    let out = read(&text);
    assert_eq!(out.rules.len(), 2, "{:?}", out.problems);
    let d = lower_rule(&out.rules[1]);
    assert_eq!(show(&d.sources[0].filter), "EventID Equals~ [4625]");
    let Some(Stage::Aggregate(aggregate)) = d.stages.first() else { panic!("{:?}", d.stages) };
    // The timespan is a 5-minute bin of the event time, as `bin(TimeGenerated, 5m)` lowers.
    let keys: Vec<(&str, Option<i64>)> =
        aggregate.group_by.iter().map(|k| (k.field.name.as_str(), k.bin.map(ruleconv::ir::Timespan::ticks))).collect();
    assert_eq!(keys, [(EVENT_TIME, Some(5 * 60 * 10_000_000)), ("TargetUserName", None)]);
    assert_eq!(show(aggregate.threshold.as_ref().unwrap()), "event_count Ge [10]");
    assert!(d.unmodelled.is_empty(), "{:?}", d.unmodelled);
    // A timespan that is no time span binds nothing: unmodelled at `5 minutes` (line 17).
    let vague = read(&text.replace("timespan: 5m", "timespan: 5 minutes")).rules.remove(1);
    let d = lower_rule(&vague);
    assert_eq!(d.unmodelled.iter().map(|u| u.construct.as_str()).collect::<Vec<_>>(), ["timespan"]);
    let logic = vague.logic.as_ref().unwrap();
    assert_eq!(logic.position(d.unmodelled[0].span.start), Position::new(17, 13));
    let Some(Stage::Aggregate(aggregate)) = d.stages.first() else { panic!() };
    assert_eq!(aggregate.group_by.len(), 1);
}

#[test]
fn value_count_and_temporal() {
    let value_count = format!(
        "{CORRELATED}---\ntitle: spray\ncorrelation:\n  type: value_count\n  rules: failed_logon\n  group-by: [IpAddress]\n  timespan: 1h\n  condition:\n    field: TargetUserName\n    gt: 5\n"
    );
    let d = lower_rule(&read(&value_count).rules[1]);
    let Some(Stage::Aggregate(aggregate)) = d.stages.first() else { panic!() };
    assert_eq!(aggregate.aggregations[0].field.as_ref().map(|f| f.name.as_str()), Some("TargetUserName"));
    // Aliases of a count would rename fields per rule before the union: listed, not applied.
    let aliased = value_count.replace("rules: failed_logon", "rules: failed_logon\n  aliases:\n    ip:\n      failed_logon: IpAddress");
    let d = lower_rule(&read(&aliased).rules[1]);
    assert_eq!(d.unmodelled.iter().map(|u| u.construct.as_str()).collect::<Vec<_>>(), ["aliases"]);

    // Temporal: inner joins on each rule's field for the group-by name, within the timespan.
    let second = CORRELATED.replace("name: failed_logon", "name: success").replace("4625", "4624");
    let temporal = format!(
        "{CORRELATED}---\n{second}---\ntitle: seq\ncorrelation:\n  type: temporal\n  rules: [failed_logon, success, missing]\n  group-by: [user]\n  aliases:\n    user:\n      failed_logon: TargetUserName\n      success: SubjectUserName\n  timespan: 1h\n"
    );
    let d = lower_rule(&read(&temporal).rules[2]);
    let constructs: Vec<&str> = d.unmodelled.iter().map(|u| u.construct.as_str()).collect();
    assert_eq!(constructs, ["correlated rule"]);
    let [Stage::Join(join)] = d.stages.as_slice() else { panic!("{:?}", d.stages) };
    assert_eq!(
        (join.kind, join.left, join.right, join.window),
        (JoinKind::Inner, Input::Source(0), Input::Source(1), Some(ruleconv::ir::Timespan::from_ticks(36_000_000_000)))
    );
    let keys: Vec<(&str, &str)> = join.keys.iter().map(|k| (k.left.name.as_str(), k.right.name.as_str())).collect();
    assert_eq!(keys, [("TargetUserName", "SubjectUserName")]);
    assert!(!join.ordered);
    // temporal_ordered is the same join, ordered: modelled, not listed.
    let d = lower_rule(&read(&temporal.replace("type: temporal", "type: temporal_ordered")).rules[2]);
    let constructs: Vec<&str> = d.unmodelled.iter().map(|u| u.construct.as_str()).collect();
    assert_eq!(constructs, ["correlated rule"]);
    let [Stage::Join(join)] = d.stages.as_slice() else { panic!("{:?}", d.stages) };
    assert!(join.ordered);
}

#[test]
fn filters_apply_to_the_rules_they_name() {
    let text = "title: t\nid: 11111111-1111-1111-1111-111111111111\nlogsource:\n  product: windows\ndetection:\n  sel:\n    A: x\n  condition: sel\n---\ntitle: no dcs\nlogsource:\n  product: windows\nfilter:\n  rules:\n    - 11111111-1111-1111-1111-111111111111\n  dc:\n    Host|startswith: DC\n  condition: not dc\n";
    let out = read(text);
    assert_eq!(out.rules.len(), 1, "a filter makes no rule: {:?}", out.problems);
    let d = lower_rule(&out.rules[0]);
    assert_eq!(show(&d.sources[0].filter), "and(A Equals~ ['x'], not(Host StartsWith~ ['DC']))");
    let orphan = "title: f\nlogsource:\n  product: windows\nfilter:\n  rules: [nope]\n  dc:\n    Host: DC\n  condition: not dc\n";
    let out = read(orphan);
    assert_eq!(out.problems.len(), 1);
    assert_eq!((out.problems[0].kind, out.problems[0].position), (Kind::Warning, Position::new(5, 11)));
}

#[test]
fn errors_name_line_and_column_and_the_batch_goes_on() {
    let cases: &[(&str, Position, &str)] = &[
        (&rule_with("  sel:\n    A: x\n  condition: sel and other"), Position::new(7, 22), "`other`"),
        (&rule_with("  sel:\n    A|bogus: x\n  condition: sel"), Position::new(6, 5), "unknown modifier `bogus`"),
        (&rule_with("  sel:\n    A: x\n  condition: 1 of nothing*"), Position::new(7, 14), "covers no search"),
        (&rule_with("  sel:\n    A: x\n  condition: (sel"), Position::new(7, 14), "not closed"),
        (&rule_with("  sel:\n    A: x\n"), Position::new(5, 3), "no `condition`"),
        ("title: t\nlogsource: {product: windows}\ndetection:\n  sel: [a, b\n", Position::new(5, 1), "YAML"),
    ];
    for (text, position, message) in cases {
        let out = read(text);
        let error = out.problems.iter().find(|p| p.is_error()).unwrap_or_else(|| panic!("no error for {text}"));
        assert_eq!(error.position, *position, "{error}");
        assert!(error.message.contains(message), "{error}");
    }
    // A bad document does not stop the next one.
    let two = format!("{}---\n{}", rule_with("  sel:\n    A|bogus: x\n  condition: sel"), rule_with("  sel:\n    A: x\n  condition: sel"));
    let out = read(&two);
    assert_eq!((out.rules.len(), out.rules[0].origin.index, out.problems.len()), (1, 1, 1));
}

#[test]
fn metadata_lands_in_the_neutral_rule() {
    let text = "title: Suspicious\nid: 5f0f3b8e-0000-4000-8000-000000000000\nname: susp\nstatus: test\ndescription: Detects it\nreferences:\n  - https://a.example\nauthor: Ann, Bob (Org)\ndate: 2024-01-02\nmodified: 2024-02-03\ntags:\n  - attack.execution\n  - attack.t1059.001\n  - attack.g0032\n  - cve.2024-1\nlevel: high\nfalsepositives:\n  - Admins\nrelated:\n  - id: 0a0a0a0a-0000-4000-8000-000000000000\n    type: derived\ncustom_key: kept\nlogsource:\n  category: process_creation\n  product: windows\ndetection:\n  sel:\n    A: x\n  condition: sel\n";
    let (rule, _) = lowered(text);
    assert_eq!((rule.title.as_str(), rule.id.as_deref()), ("Suspicious", Some("5f0f3b8e-0000-4000-8000-000000000000")));
    assert_eq!(rule.status.as_ref().map(|s| s.value.as_str()), Some("test"));
    assert_eq!(rule.description.as_deref(), Some("Detects it"));
    assert_eq!(rule.references.len(), 1);
    assert_eq!(rule.authors.iter().map(|a| a.value.as_str()).collect::<Vec<_>>(), ["Ann", "Bob (Org)"]);
    assert_eq!(rule.created.as_ref().map(|d| d.value.as_str()), Some("2024-01-02"));
    assert_eq!(rule.modified.as_ref().map(|d| d.value.as_str()), Some("2024-02-03"));
    assert_eq!(rule.tactics.as_ref().unwrap()[0].id, Some(Tactic::Execution));
    assert_eq!(rule.techniques.as_ref().unwrap()[0].id.as_ref().map(|t| t.as_str()), Some("T1059.001"));
    assert_eq!(rule.tags.len(), 4);
    assert_eq!(rule.severity, Some(Severity::High));
    assert_eq!(rule.false_positives[0].value, "Admins");
    let sigma = rule.sigma.as_ref().unwrap();
    assert_eq!(sigma.related, [("derived".to_string(), "0a0a0a0a-0000-4000-8000-000000000000".to_string())]);
    assert_eq!(sigma.logsource.category.as_deref(), Some("process_creation"));
    assert_eq!(sigma.name.as_deref(), Some("susp"));
    assert_eq!(sigma.extensions.get("custom_key"), Some(&serde_json::json!("kept")));
}

#[test]
fn the_evaluator_runs_a_sigma_detection_on_any_event() {
    let (_, d) = lowered(&rule_with("  sel:\n    CommandLine|windash|contains: ' -enc '\n  condition: sel"));
    let events: Vec<ruleconv::eval::Row> = [
        serde_json::json!({"CommandLine": "powershell /enc AAA", "Type": "SecurityEvent"}),
        serde_json::json!({"CommandLine": "powershell -encoded"}),
    ]
    .into_iter()
    .map(|e| e.as_object().cloned().unwrap())
    .collect();
    let table = ruleconv::eval::evaluate(&d, &events, 0).expect("modelled");
    assert_eq!(table.rows.len(), 1);
}

#[test]
fn correlations_in_a_cycle_are_refused_and_a_chain_is_not() {
    let correlation = |name: &str, rules: &str| {
        format!(
            "title: {name}\nname: {name}\ncorrelation:\n  type: event_count\n  rules: [{rules}]\n  group-by: [User]\n  timespan: 1h\n  condition:\n    gte: 2\n"
        )
    };
    let base = "title: base\nname: base\nlogsource:\n  product: windows\ndetection:\n  sel:\n    a: 1\n  condition: sel\n";
    let text =
        [base.to_string(), correlation("a", "b"), correlation("b", "c"), correlation("c", "a"), correlation("d", "a, base")].join("---\n");
    let outcome = read(&text);
    let cycle_errors: Vec<(usize, &str)> = outcome
        .problems
        .iter()
        .filter(|p| p.code == Code::SigmaSyntax && p.message.contains("refers back to itself"))
        .map(|p| (p.rule_index().unwrap(), p.message.as_str()))
        .collect();
    assert_eq!(cycle_errors.len(), 3, "{:?}", outcome.problems);
    assert_eq!(cycle_errors[0], (1, "Sigma: the correlation refers back to itself through `b`: correlations may not form a cycle"));
    assert_eq!(cycle_errors.iter().map(|(i, _)| *i).collect::<Vec<_>>(), [1, 2, 3]);
    // `d` names the cycle but is not on it, and `base` is a rule: both are read.
    assert!(outcome.rules.iter().any(|r| r.title() == "d") && outcome.rules.iter().any(|r| r.title() == "base"), "{:?}", outcome.problems);
}
