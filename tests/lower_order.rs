//! Lowering follows the pipeline order: a name means the definition in force where it is used.
//! A `where` before an `extend` (or `project-rename`, `summarize`, `let`) of the same name tests
//! the column as it was then, never the later definition; and the targets translate it.

#[path = "support/shared.rs"]
mod shared;

use ruleconv::convert::emit_rules;
use ruleconv::emit::{EmitOptions, Target};
use ruleconv::ir::detection::Detection;
use ruleconv::lower::lower_query;
use ruleconv::read::read_text;
use std::path::Path;

/// (query, the fields source 0's filter tests in order, the columns source 0 computes)
const CASES: &[(&str, &[&str], &[&str])] = &[
    // The Zscaler hunting query's shape: the test reads the column the events carry.
    (
        "CommonSecurityLog | where RequestURL has_any ('evil.com', 'bad.net') | extend RequestURL = strcat('http://', RequestURL)",
        &["RequestURL"],
        &[],
    ),
    // The EventData XML is parsed after the test of its text.
    (
        "Event | where EventData contains '%%2499' | extend EventData = parse_xml(EventData) | where EventData.DataItem == 'x'",
        &["EventData"],
        &[],
    ),
    // A definition before the test is the one in force.
    ("T | extend Url = strcat('http://', Host) | where Url has 'evil'", &["Url"], &["Url"]),
    // A case fold after a test: the test keeps the column as written, the later one folds it.
    ("T | where A == 'y' | extend A = tolower(A) | where A == 'x'", &["A", "A"], &[]),
    // project-rename: before it the name is the event's column, after it the renamed one.
    ("T | project-rename Account = TargetUserName | where Account == 'x'", &["TargetUserName"], &[]),
    ("T | where Account == 'x' | project-rename Account = TargetUserName", &["Account"], &[]),
    ("T | where Account == 'x' | project-rename Account = TargetUserName | where Account == 'y'", &["Account", "TargetUserName"], &[]),
    // summarize outputs: the source's test reads the event column, the threshold the count.
    ("T | where Count == 3 | summarize Count = count() by Host | where Count > 5", &["Count"], &[]),
    // A let value of the same name as a later column: the test compares with the value.
    ("let Marker = 'x'; T | where Url == Marker | extend Marker = Url", &["Url"], &["Marker"]),
];

fn source_fields(detection: &Detection) -> Vec<String> {
    detection.sources.first().map(|s| s.filter.matches().iter().map(|m| m.field.name.clone()).collect()).unwrap_or_default()
}

fn computed(detection: &Detection) -> Vec<String> {
    detection.sources.first().map(|s| s.computed.iter().map(|c| c.name.clone()).collect()).unwrap_or_default()
}

#[test]
fn a_name_means_the_definition_in_force_where_it_is_used() {
    let mut failures = Vec::new();
    for (query, fields, columns) in CASES {
        let detection = lower_query(query);
        let (found, made) = (source_fields(&detection), computed(&detection));
        if found != *fields || made != *columns {
            failures.push(format!("{query}\n  expected tests of {fields:?}, computing {columns:?}\n  found    {found:?}, {made:?}"));
        }
        if let Some(late) = later_definitions(&detection).first() {
            failures.push(format!("{query}\n  {late}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The targets keep a test written before a later definition of its column (issue 18's
/// Zscaler and EventData rules lost it as "computed").
#[test]
fn targets_translate_a_test_before_a_later_definition() {
    for query in [CASES[0].0, CASES[1].0] {
        let yaml = format!("id: 5b6e1c7a-3f2d-4a8e-9c41-0d2f7e8a9b10\nname: t\nseverity: High\nquery: |\n  {query}\n");
        let read = read_text(&yaml, Path::new("rule.yaml"), None);
        let rule = read.rules.first().expect("the rule reads");
        for target in ["sigma", "chronicle"] {
            let emitted = emit_rules(Target::from_name(target).expect("registered"), &[rule], &EmitOptions::default())
                .unwrap_or_else(|e| panic!("{target}: {e:?}"));
            // A loss about the test (the computed output column is another, rightful one).
            let computed: Vec<&str> = emitted
                .problems
                .iter()
                .filter(|p| p.code == ruleconv::diag::Code::ComputedColumn && p.message.contains("a condition on it"))
                .map(|p| p.message.as_str())
                .collect();
            assert!(computed.is_empty(), "{target}: {query}: {computed:?}");
            assert!(!emitted.problems.iter().any(|p| p.code == ruleconv::diag::Code::Broader), "{target}: {query}: {:?}", emitted.problems);
        }
    }
}

/// Each test of a source that a column computed later in the text claims: the source computes
/// its columns before its filter, so such a column would answer for the test.
fn later_definitions(detection: &Detection) -> Vec<String> {
    let mut found = Vec::new();
    for source in &detection.sources {
        let tests = source.filter.matches();
        for test in tests {
            if let Some(later) = source.computed.iter().find(|c| c.name == test.field.name && c.span.start > test.span.start) {
                found.push(format!(
                    "the test of `{}` at {} is read as `{} = {}` defined later",
                    test.field, test.span.start, later.name, later.expression
                ));
            }
        }
    }
    found
}

/// Over the Sentinel corpus (skipped when ../shared is absent): no test is read as a column
/// defined later in its pipeline.
#[test]
fn no_corpus_test_is_read_as_a_later_definition() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/sentinel");
    if !corpus.is_dir() {
        shared::say_skipped("../shared/corpus/sentinel is absent");
        return;
    }
    let mut failures = Vec::new();
    let mut tests = 0;
    for file in ruleconv::read::discover(&corpus) {
        for rule in ruleconv::read::read_path(&file).rules {
            let detection = ruleconv::lower::lower_rule(&rule);
            tests += detection.sources.iter().map(|s| s.filter.matches().len()).sum::<usize>();
            failures.extend(later_definitions(&detection).into_iter().map(|f| format!("{}: {f}", file.display())));
        }
    }
    eprintln!("{tests} source tests over the corpus, {} read as a later definition", failures.len());
    assert!(tests > 1000, "the corpus was read");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
