//! The evaluator on hand-built Detections: Kusto's semantics pinned case by case.

use super::*;
use crate::ir::detection::{
    AggFunction, Aggregate, Aggregation, Computed, Field, GroupKey, Join, JoinKey, JoinKind, Match, MatchOp, Output, Outputs, Quantifier,
    Unmodelled,
};
use crate::kql::Span;
use serde_json::{Value as Json, json};

const NOW: &str = "2024-05-01T12:00:00Z";
const HOUR: i64 = 3600 * time::TICKS_PER_SECOND;

fn now() -> i64 {
    time::parse_datetime(NOW).unwrap()
}

fn events(value: Json) -> Vec<Row> {
    value.as_array().unwrap().iter().map(|e| e.as_object().unwrap().clone()).collect()
}

fn m(field: &str, op: MatchOp, values: Vec<Value>, case_sensitive: bool) -> Predicate {
    let mut parts = field.split('.');
    let field = Field { name: parts.next().unwrap().into(), path: parts.map(String::from).collect() };
    Predicate::Match(Match { field, op, values, quantifier: Quantifier::Any, case_sensitive, span: Span::default() })
}

fn s(text: &str) -> Value {
    Value::String(text.into())
}

fn not(p: Predicate) -> Predicate {
    Predicate::Not(Box::new(p))
}

fn source(table: &str, filter: Predicate) -> EventSource {
    EventSource {
        name: table.into(),
        tables: vec![table.into()],
        filter,
        computed: vec![],
        columns: None,
        logsource: None,
        span: Span::default(),
    }
}

fn all_columns() -> Outputs {
    Outputs { all_columns: true, fields: vec![] }
}

fn filtering(filter: Predicate) -> Detection {
    Detection { sources: vec![source("T", filter)], result: Some(Input::Source(0)), outputs: all_columns(), ..Detection::default() }
}

/// The values of `column` in the rows `filter` keeps.
fn kept(filter: Predicate, rows: Json, column: &str) -> Vec<Json> {
    let table = evaluate(&filtering(filter), &events(rows), now()).expect("evaluated");
    table.rows.iter().map(|r| r.get(column).cloned().unwrap_or(Json::Null)).collect()
}

#[test]
fn equality_is_case_sensitive_and_tilde_is_not() {
    let rows = json!([{"A": "Admin"}, {"A": "admin"}, {"A": "administrator"}, {}]);
    assert_eq!(kept(m("A", MatchOp::Equals, vec![s("admin")], true), rows.clone(), "A"), [json!("admin")]);
    assert_eq!(kept(m("A", MatchOp::Equals, vec![s("admin")], false), rows, "A"), [json!("Admin"), json!("admin")]);
}

/// `in~` over text values looks text cells up in a set of the folded values; other cells
/// (a number against numeric text, a missing value against `""`) still compare one by one.
#[test]
fn in_lists_answer_as_value_by_value_comparison() {
    let rows = json!([{"A": "Admin"}, {"A": "ADMINISTRATOR"}, {"A": 100}, {"A": 7}, {}, {"A": "guest"}]);
    let list = vec![s("admin"), s("100"), s(""), s("Administrator")];
    let kept_by = |case_sensitive| kept(m("A", MatchOp::Equals, list.clone(), case_sensitive), rows.clone(), "A");
    assert_eq!(kept_by(false), [json!("Admin"), json!("ADMINISTRATOR"), json!(100), Json::Null]);
    assert_eq!(kept_by(true), [json!(100), Json::Null]);
}

#[test]
fn a_missing_string_compares_like_the_empty_string() {
    let rows = json!([{"A": "x"}, {"A": ""}, {"N": 1}]);
    // `A != "x"` keeps "" and the missing A; `A == ""` keeps both too; `!contains`, `!in`, `!has` likewise.
    assert_eq!(kept(not(m("A", MatchOp::Equals, vec![s("x")], true)), rows.clone(), "N"), [Json::Null, json!(1)]);
    assert_eq!(kept(m("A", MatchOp::Equals, vec![s("")], true), rows.clone(), "N"), [Json::Null, json!(1)]);
    assert_eq!(kept(not(m("A", MatchOp::Contains, vec![s("x")], false)), rows.clone(), "N").len(), 2);
    assert_eq!(kept(not(m("A", MatchOp::Equals, vec![s("x"), s("y")], true)), rows.clone(), "N").len(), 2);
    assert_eq!(kept(not(m("A", MatchOp::Has, vec![s("x")], false)), rows.clone(), "N").len(), 2);
    assert_eq!(kept(m("A", MatchOp::IsEmpty, vec![], false), rows.clone(), "N").len(), 2);
    assert_eq!(kept(m("A", MatchOp::IsNull, vec![], false), rows, "N"), [json!(1)]);
}

#[test]
fn numbers_against_null_are_null_and_not_keeps_them_out() {
    let rows = json!([{"N": 5}, {"N": 1}, {"N": null}]);
    assert_eq!(kept(m("N", MatchOp::Gt, vec![Value::Int(3)], true), rows.clone(), "N"), [json!(5)]);
    assert_eq!(kept(not(m("N", MatchOp::Gt, vec![Value::Int(3)], true)), rows.clone(), "N"), [json!(1)]);
    // `==` against a null is false, so `!=` keeps the null row (Kusto's documented rule).
    assert_eq!(kept(not(m("N", MatchOp::Equals, vec![Value::Int(5)], true)), rows.clone(), "N"), [json!(1), Json::Null]);
    let either = Predicate::Or(vec![m("N", MatchOp::Gt, vec![Value::Int(3)], true), m("N", MatchOp::IsNull, vec![], true)]);
    assert_eq!(kept(either, rows, "N"), [json!(5), Json::Null]);
}

#[test]
fn has_is_a_term_match_and_contains_a_substring() {
    let rows = json!([{"C": "run Mimikatz.exe"}, {"C": "mimikatzz"}, {"C": "x_mimikatz_y"}]);
    assert_eq!(
        kept(m("C", MatchOp::Has, vec![s("mimikatz")], false), rows.clone(), "C"),
        [json!("run Mimikatz.exe"), json!("x_mimikatz_y")]
    );
    assert_eq!(kept(m("C", MatchOp::Has, vec![s("mimikatz")], true), rows.clone(), "C"), [json!("x_mimikatz_y")]);
    assert_eq!(kept(m("C", MatchOp::Contains, vec![s("MIMIKATZ")], false), rows.clone(), "C").len(), 3);
    assert_eq!(kept(m("C", MatchOp::HasPrefix, vec![s("mimi")], false), rows.clone(), "C").len(), 3);
    assert_eq!(kept(m("C", MatchOp::HasSuffix, vec![s("katz")], false), rows, "C").len(), 2);
}

#[test]
fn starts_ends_regex_and_like() {
    let rows = json!([{"P": "C:\\Windows\\cmd.exe"}, {"P": "D:\\cmd.exe.bak"}]);
    assert_eq!(kept(m("P", MatchOp::StartsWith, vec![s("c:\\windows")], false), rows.clone(), "P").len(), 1);
    assert_eq!(kept(m("P", MatchOp::EndsWith, vec![s(".EXE")], false), rows.clone(), "P").len(), 1);
    assert_eq!(kept(m("P", MatchOp::EndsWith, vec![s(".EXE")], true), rows.clone(), "P").len(), 0);
    assert_eq!(kept(m("P", MatchOp::Regex, vec![s(r"cmd\.exe$")], true), rows.clone(), "P").len(), 1);
    assert_eq!(kept(m("P", MatchOp::Like, vec![s("%cmd.exe%")], false), rows, "P").len(), 2);
}

#[test]
fn has_all_needs_every_value_and_has_any_one() {
    let rows = json!([{"C": "net user /add"}, {"C": "net user"}]);
    let mut all = m("C", MatchOp::Has, vec![s("net"), s("add")], false);
    if let Predicate::Match(inner) = &mut all {
        inner.quantifier = Quantifier::All;
    }
    assert_eq!(kept(all, rows.clone(), "C"), [json!("net user /add")]);
    assert_eq!(kept(m("C", MatchOp::Has, vec![s("add"), s("user")], false), rows, "C").len(), 2);
}

#[test]
fn datetimes_compare_as_instants_relative_to_a_pinned_now() {
    let rows = json!([{"T": "2024-05-01T11:30:00Z"}, {"T": "2024-05-01T10:59:59Z"}, {"T": "2024-05-01 13:30:00+02:00"}, {}]);
    let recent = m("T", MatchOp::Gt, vec![Value::Ago(HOUR)], true);
    assert_eq!(kept(recent, rows.clone(), "T"), [json!("2024-05-01T11:30:00Z"), json!("2024-05-01 13:30:00+02:00")]);
    let window = m("T", MatchOp::Between, vec![Value::Datetime("2024-05-01T11:00:00Z".into()), Value::Now], true);
    assert_eq!(kept(window, rows.clone(), "T").len(), 2);
    let hour_from = m("T", MatchOp::Between, vec![Value::Datetime("2024-05-01T10:00:00Z".into()), Value::Timespan(HOUR)], true);
    assert_eq!(kept(hour_from, rows, "T"), [json!("2024-05-01T10:59:59Z")]);
}

#[test]
fn cidr_ranges_and_dynamic_paths() {
    let rows = json!([
        {"IP": "10.1.2.3", "P": {"role": "Owner"}},
        {"IP": "8.8.8.8", "P": "{\"role\": \"reader\"}"},
        {"IP": "garbage", "P": null}
    ]);
    assert_eq!(kept(m("IP", MatchOp::Cidr, vec![s("10.0.0.0/8"), s("192.168.0.0/16")], true), rows.clone(), "IP"), [json!("10.1.2.3")]);
    // An unparsable address is null, so the negation does not keep it either.
    assert_eq!(kept(not(m("IP", MatchOp::Cidr, vec![s("10.0.0.0/8")], true)), rows.clone(), "IP"), [json!("8.8.8.8")]);
    assert_eq!(kept(m("P.role", MatchOp::Equals, vec![s("READER")], false), rows, "IP"), [json!("8.8.8.8")]);
}

#[test]
fn comparing_two_fields_of_a_row() {
    let rows = json!([{"A": "x", "B": "x"}, {"A": "x", "B": "y"}]);
    let same = m("A", MatchOp::Equals, vec![Value::Field(Field::column("B"))], true);
    assert_eq!(kept(same, rows, "B"), [json!("x")]);
}

#[test]
fn opaque_conditions_make_the_result_unsupported() {
    let opaque = Predicate::Opaque { text: "strlen(A) > 3".into(), span: Span::default() };
    let err = evaluate(&filtering(Predicate::And(vec![opaque])), &events(json!([{"A": "abcd"}])), now()).unwrap_err();
    assert!(err.0.contains("strlen(A) > 3"), "{err}");
}

#[test]
fn unmodelled_stages_that_change_rows_make_it_unsupported_but_an_unmodelled_aggregation_does_not() {
    let mut detection = filtering(Predicate::always());
    let reason = "an aggregation the Detection does not hold";
    let values_only = Unmodelled { construct: "percentile()".into(), reason: reason.into(), changes_rows: false, span: Span::default() };
    detection.unmodelled.push(values_only);
    assert!(evaluate(&detection, &events(json!([{"A": 1}])), now()).is_ok());
    let expands =
        Unmodelled { construct: "mv-expand".into(), reason: "one row per item".into(), changes_rows: true, span: Span::default() };
    detection.unmodelled.push(expands);
    assert!(evaluate(&detection, &events(json!([{"A": 1}])), now()).unwrap_err().0.contains("mv-expand"));
}

#[test]
fn computed_columns_are_not_evaluated_in_outputs_and_refused_in_filters() {
    let mut detection = filtering(Predicate::always());
    detection.sources[0].computed.push(Computed {
        name: "Lower".into(),
        expression: "tolower(A)".into(),
        expr: None,
        span: Span::default(),
    });
    detection.outputs = Outputs {
        all_columns: false,
        fields: vec![
            Output { name: "A".into(), origin: OutputOrigin::Field(Field::column("A")), made_by: Input::Source(0), span: Span::default() },
            Output {
                name: "Lower".into(),
                origin: OutputOrigin::Computed("tolower(A)".into()),
                made_by: Input::Source(0),
                span: Span::default(),
            },
        ],
    };
    let table = evaluate(&detection, &events(json!([{"A": "X", "B": 1}])), now()).unwrap();
    assert_eq!(table.columns, ["A", "Lower"]);
    assert_eq!(table.not_evaluated, ["Lower"]);
    assert_eq!(table.rows, events(json!([{"A": "X"}])));

    // Lowering resolves a source's own conditions to fields; a later stage reads the name.
    detection.stages.push(Stage::Filter {
        input: Input::Source(0),
        predicate: m("Lower", MatchOp::Equals, vec![s("x")], true),
        span: Span::default(),
    });
    detection.result = Some(Input::Stage(0));
    assert!(evaluate(&detection, &events(json!([{"A": "X"}])), now()).unwrap_err().0.contains("tolower(A)"));
}

#[test]
fn after_summarize_a_condition_on_a_column_it_does_not_make_is_refused() {
    let detection = Detection {
        sources: vec![source("T", Predicate::always())],
        stages: vec![Stage::Aggregate(Aggregate {
            input: Input::Source(0),
            group_by: vec![GroupKey { name: "User".into(), field: Field::column("User"), bin: None }],
            aggregations: vec![],
            // `percentile_N_95` comes from an aggregation lowering did not model.
            threshold: Some(m("percentile_N_95", MatchOp::Gt, vec![Value::Int(10)], true)),
            span: Span::default(),
        })],
        result: Some(Input::Stage(0)),
        outputs: all_columns(),
        ..Detection::default()
    };
    assert!(evaluate(&detection, &events(json!([{"User": "a", "N": 50}])), now()).unwrap_err().0.contains("percentile_N_95"));
}

#[test]
fn outputs_made_earlier_are_read_by_name_and_missing_ones_are_not_evaluated() {
    let mut detection = filtering(Predicate::always());
    detection.stages.push(Stage::Filter { input: Input::Source(0), predicate: Predicate::always(), span: Span::default() });
    detection.result = Some(Input::Stage(0));
    let output = |name: &str, field: &str, made_by: Input| Output {
        name: name.into(),
        origin: OutputOrigin::Field(Field::column(field)),
        made_by,
        span: Span::default(),
    };
    detection.outputs = Outputs {
        all_columns: false,
        fields: vec![output("Renamed", "A", Input::Stage(0)), output("Early", "A", Input::Source(0)), output("B", "B", Input::Source(0))],
    };
    let table = evaluate(&detection, &events(json!([{"A": "x", "B": 1}])), now()).unwrap();
    assert_eq!(table.columns, ["Renamed", "Early", "B"]);
    assert_eq!(table.not_evaluated, ["Early"]);
    assert_eq!(table.rows, events(json!([{"Renamed": "x", "B": 1}])));
}

#[test]
fn events_go_to_the_sources_their_type_names() {
    let detection = Detection {
        sources: vec![source("SigninLogs", Predicate::always()), source("AuditLogs", Predicate::always())],
        stages: vec![Stage::Union { inputs: vec![Input::Source(0), Input::Source(1)], span: Span::default() }],
        result: Some(Input::Stage(0)),
        outputs: all_columns(),
        ..Detection::default()
    };
    let rows = events(json!([{"Type": "SigninLogs", "N": 1}, {"Type": "Other", "N": 2}, {"N": 3}]));
    let table = evaluate(&detection, &rows, now()).unwrap();
    let ns: Vec<&Json> = table.rows.iter().map(|r| &r["N"]).collect();
    assert_eq!(ns, [&json!(1), &json!(3), &json!(3)]);
}

#[test]
fn a_join_renames_clashing_right_columns_and_a_filter_stage_reads_them() {
    let detection = Detection {
        sources: vec![source("A", Predicate::always()), source("B", Predicate::always())],
        stages: vec![
            Stage::Join(Join {
                kind: JoinKind::Inner,
                left: Input::Source(0),
                right: Input::Source(1),
                keys: vec![JoinKey { left: Field::column("User"), right: Field::column("User") }],
                window: None,
                ordered: false,
                span: Span::default(),
            }),
            Stage::Filter {
                input: Input::Stage(0),
                predicate: m("Ip", MatchOp::Equals, vec![Value::Field(Field::column("Ip1"))], true),
                span: Span::default(),
            },
        ],
        result: Some(Input::Stage(1)),
        outputs: all_columns(),
        ..Detection::default()
    };
    let rows = events(json!([
        {"Type": "A", "User": "u1", "Ip": "1.1.1.1"},
        {"Type": "A", "User": "u2", "Ip": "2.2.2.2"},
        {"Type": "B", "User": "u1", "Ip": "1.1.1.1"},
        {"Type": "B", "User": "u2", "Ip": "9.9.9.9"}
    ]));
    let table = evaluate(&detection, &rows, now()).unwrap();
    assert_eq!(table.columns, ["Type", "User", "Ip", "Type1", "User1", "Ip1"]);
    assert_eq!(table.rows.len(), 1);
    assert_eq!(table.rows[0]["User"], json!("u1"));
}

#[test]
fn a_right_column_keeps_its_name_when_the_left_side_projected_that_name_away() {
    let mut left = source("A", Predicate::always());
    left.columns = Some(vec!["User".into()]);
    let detection = Detection {
        sources: vec![left, source("B", Predicate::always())],
        stages: vec![Stage::Join(Join {
            kind: JoinKind::Inner,
            left: Input::Source(0),
            right: Input::Source(1),
            keys: vec![JoinKey { left: Field::column("User"), right: Field::column("User") }],
            window: None,
            ordered: false,
            span: Span::default(),
        })],
        result: Some(Input::Stage(0)),
        outputs: all_columns(),
        ..Detection::default()
    };
    let rows = events(json!([{"Type": "A", "User": "u1", "Ip": "1.1.1.1"}, {"Type": "B", "User": "u1", "Ip": "9.9.9.9"}]));
    let table = evaluate(&detection, &rows, now()).unwrap();
    assert_eq!(table.columns, ["User", "Type", "User1", "Ip"]);
    assert_eq!(table.rows[0]["Ip"], json!("9.9.9.9"));
}

#[test]
fn a_threshold_keeps_groups_over_it() {
    let detection = Detection {
        sources: vec![source("SigninLogs", m("ResultType", MatchOp::Equals, vec![s("50126")], true))],
        stages: vec![Stage::Aggregate(Aggregate {
            input: Input::Source(0),
            group_by: vec![GroupKey { name: "User".into(), field: Field::column("User"), bin: None }],
            aggregations: vec![Aggregation {
                name: "count_".into(),
                function: AggFunction::Count,
                field: None,
                condition: None,
                span: Span::default(),
            }],
            threshold: Some(m("count_", MatchOp::Gt, vec![Value::Int(2)], true)),
            span: Span::default(),
        })],
        result: Some(Input::Stage(0)),
        outputs: Outputs {
            all_columns: false,
            fields: vec![
                Output { name: "User".into(), origin: OutputOrigin::GroupKey, made_by: Input::Stage(0), span: Span::default() },
                Output {
                    name: "count_".into(),
                    origin: OutputOrigin::Aggregation(AggFunction::Count),
                    made_by: Input::Stage(0),
                    span: Span::default(),
                },
            ],
        },
        ..Detection::default()
    };
    let failure = |user: &str| json!({"User": user, "ResultType": "50126"});
    let rows = events(json!([failure("a"), failure("a"), failure("a"), failure("b"), failure("b"), {"User": "b", "ResultType": "0"}]));
    let table = evaluate(&detection, &rows, now()).unwrap();
    assert_eq!(table.rows, events(json!([{"User": "a", "count_": 3}])));
}

#[test]
fn no_result_and_dangling_references_are_unsupported_not_panics() {
    let mut detection = filtering(Predicate::always());
    detection.result = None;
    assert!(evaluate(&detection, &[], now()).is_err());
    detection.result = Some(Input::Stage(3));
    assert!(evaluate(&detection, &[], now()).is_err());
    detection.result = Some(Input::Source(9));
    assert!(evaluate(&detection, &[], now()).is_err());
    let mut bad_regex = filtering(m("A", MatchOp::Regex, vec![s("(unclosed")], true));
    assert!(evaluate(&bad_regex, &[], now()).unwrap_err().0.contains("RE2"));
    bad_regex.sources[0].filter = m("A", MatchOp::Between, vec![Value::Int(1)], true);
    assert!(evaluate(&bad_regex, &[], now()).is_err());
    bad_regex.sources[0].filter = m("T", MatchOp::Gt, vec![Value::Datetime("01/16/2022".into())], true);
    assert!(evaluate(&bad_regex, &[], now()).unwrap_err().0.contains("ISO 8601"));
}

#[test]
fn numbers_meet_bools_and_numeric_text() {
    let rows = json!([{"B": true, "S": 100.0}, {"B": false, "S": 99.5}]);
    assert_eq!(kept(m("B", MatchOp::Equals, vec![Value::Int(1)], true), rows.clone(), "S"), [json!(100.0)]);
    assert_eq!(kept(m("S", MatchOp::Equals, vec![s("100")], true), rows.clone(), "B"), [json!(true)]);
    assert_eq!(kept(m("S", MatchOp::Lt, vec![s("100")], true), rows, "B"), [json!(false)]);
}

#[test]
fn extreme_values_do_not_panic() {
    let rows = json!([
        {"T": "9999-12-31T23:59:59.9999999Z", "N": 1.7976931348623157e308, "S": "99999999999999999.00:00:00", "D": {"a": [[[]]]}},
        {"T": "0001-01-01", "N": -9223372036854775808i64, "S": "-1:-1:-1", "D": "{not json"},
        {"T": "\u{1F600}2024-05-01", "N": "NaN", "S": "\u{1F600}", "D": null}
    ]);
    let filters = [
        m("T", MatchOp::Gt, vec![Value::Ago(i64::MAX)], true),
        m("T", MatchOp::Between, vec![Value::Now, Value::Timespan(i64::MAX)], true),
        m("S", MatchOp::Lt, vec![Value::Timespan(i64::MIN)], true),
        m("N", MatchOp::Ge, vec![Value::Real(f64::NAN)], true),
        m("D.a.[0].[-9223372036854775808]", MatchOp::Equals, vec![s("x")], false),
        m("S", MatchOp::Has, vec![s("\u{1F600}")], false),
        m("S", MatchOp::Like, vec![s("%\u{1F600}_")], false),
        m("N", MatchOp::Cidr, vec![s("::/0")], true),
    ];
    for filter in filters {
        let _ = evaluate(&filtering(filter), &events(rows.clone()), now());
    }
}

#[test]
fn regexes_run_in_linear_time_and_huge_ones_are_refused() {
    // `^(a|aa)+$` backtracks exponentially on "aaa…ab" in a backtracking engine; ours is linear.
    let catastrophic = filtering(m("A", MatchOp::Regex, vec![s("^(a|aa)+$")], false));
    let rows = events(json!([{"A": format!("{}b", "a".repeat(50_000))}, {"A": "a".repeat(50_000)}]));
    let started = std::time::Instant::now();
    assert_eq!(evaluate(&catastrophic, &rows, now()).unwrap().rows.len(), 1);
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
    let huge = filtering(m("A", MatchOp::Regex, vec![s("(a{1000}){1000}")], true));
    let error = evaluate(&huge, &[], now()).unwrap_err().0;
    assert!(error.contains("(a{1000}){1000}") && error.contains("compiles to more than 1024 KiB"), "{error}");
}
