//! `summarize`: group rows by keys (with `bin` for time buckets) and reduce each group.
//!
//! Nulls are skipped by every function except `count()`, as Kusto documents; groups come out in
//! the order their first row arrived, so output is deterministic.

use super::cell::{self, Row};
use super::predicate::{self, Scope};
use super::relation::Relation;
use super::time;
use crate::ir::Timespan;
use crate::ir::detection::{AggFunction, Aggregate, Aggregation, GroupKey};
use serde_json::Value as Json;
use std::cmp::Ordering;
use std::collections::HashMap;

/// Days from 0001-01-01 to 1970-01-01: Kusto bins datetimes from year 1, not from the Unix epoch.
const TICKS_FROM_YEAR_ONE: i64 = 719_162 * 86_400 * time::TICKS_PER_SECOND;

/// The aggregated rows, or why they cannot be computed.
pub fn aggregate(spec: &Aggregate, input: &Relation, scope: &Scope) -> Result<Relation, String> {
    let mut groups: Vec<(Vec<Json>, Vec<&Row>)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let strings: Vec<bool> = spec.group_by.iter().map(|k| cell::string_column(&input.rows, &k.field)).collect();
    for row in &input.rows {
        let key = spec.group_by.iter().zip(&strings).map(|(k, s)| group_value(k, row, *s)).collect::<Result<Vec<_>, _>>()?;
        let id = serde_json::to_string(&key).unwrap_or_default();
        let at = *index.entry(id).or_insert_with(|| {
            groups.push((key, Vec::new()));
            groups.len() - 1
        });
        groups[at].1.push(row);
    }
    // Without keys, summarize returns one row even over no input.
    if spec.group_by.is_empty() && groups.is_empty() {
        groups.push((Vec::new(), Vec::new()));
    }
    let columns = spec.group_by.iter().map(|k| k.name.clone()).chain(spec.aggregations.iter().map(|a| a.name.clone())).collect();
    let mut out = Relation { columns, ..Relation::default() };
    for a in &spec.aggregations {
        if let Some(expression) = a.field.as_ref().and_then(|f| input.unknown.get(&f.name)) {
            out.unknown.insert(a.name.clone(), expression.clone());
        }
    }
    if spec.aggregations.iter().any(|a| is_row_choice(a.function)) {
        for column in &input.columns {
            if !out.columns.contains(column) {
                out.columns.push(column.clone());
            }
        }
        out.unknown.extend(input.unknown.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    for (key, rows) in groups {
        let mut row = Row::new();
        for (k, value) in spec.group_by.iter().zip(key) {
            row.insert(k.name.clone(), value);
        }
        for a in &spec.aggregations {
            let kept: Vec<&Row> =
                rows.iter().copied().filter(|r| a.condition.as_ref().is_none_or(|c| predicate::holds(c, r, scope) == Some(true))).collect();
            row.insert(a.name.clone(), reduce(a, &kept));
        }
        // arg_max/arg_min carry the chosen row's other columns (their names stay free for them).
        for a in spec.aggregations.iter().filter(|a| is_row_choice(a.function)) {
            for (column, value) in choose_row(a, &rows).into_iter().flatten() {
                row.entry(column.clone()).or_insert_with(|| value.clone());
            }
        }
        out.rows.push(row);
    }
    Ok(out)
}

fn group_value(key: &GroupKey, row: &Row, string_column: bool) -> Result<Json, String> {
    let value = cell::key_value(row, &key.field, string_column);
    let Some(size) = key.bin.map(Timespan::ticks).filter(|s| *s > 0) else { return Ok(value) };
    if value.is_null() {
        return Ok(value);
    }
    let ticks = cell::datetime(&value).ok_or_else(|| format!("bin() over `{}`, which is not a datetime here", key.field))?;
    let from_year_one = ticks + TICKS_FROM_YEAR_ONE;
    Ok(Json::String(time::format_datetime(from_year_one - from_year_one.rem_euclid(size) - TICKS_FROM_YEAR_ONE)))
}

fn reduce(a: &Aggregation, rows: &[&Row]) -> Json {
    let values = || -> Vec<Json> {
        let field = a.field.as_ref();
        rows.iter().filter_map(|r| field.map(|f| cell::lookup(r, f).into_owned())).filter(|v| !v.is_null()).collect()
    };
    match a.function {
        AggFunction::Count => Json::from(rows.len()),
        AggFunction::DistinctCount => Json::from(distinct(values()).len()),
        AggFunction::Sum => sum(&values()),
        AggFunction::Avg => {
            let numbers: Vec<f64> = values().iter().filter_map(cell::number).collect();
            if numbers.is_empty() { Json::Null } else { Json::from(numbers.iter().sum::<f64>() / numbers.len() as f64) }
        }
        AggFunction::Min => values().into_iter().min_by(natural_order).unwrap_or(Json::Null),
        AggFunction::Max => values().into_iter().max_by(natural_order).unwrap_or(Json::Null),
        AggFunction::MakeSet => Json::Array(distinct(values())),
        AggFunction::MakeList => Json::Array(values()),
        AggFunction::TakeAny => values().into_iter().next().unwrap_or(Json::Null),
        AggFunction::ArgMax | AggFunction::ArgMin => {
            let chosen = choose_row(a, rows);
            chosen.zip(a.field.as_ref()).map_or(Json::Null, |(row, field)| cell::lookup(row, field).into_owned())
        }
    }
}

fn is_row_choice(function: AggFunction) -> bool {
    matches!(function, AggFunction::ArgMax | AggFunction::ArgMin)
}

/// The row with the largest (`arg_max`) or smallest (`arg_min`) non-null value; the first
/// such row on ties, as rows arrived.
fn choose_row<'r>(a: &Aggregation, rows: &[&'r Row]) -> Option<&'r Row> {
    let field = a.field.as_ref()?;
    let mut best: Option<(&Row, Json)> = None;
    for row in rows {
        let value = cell::lookup(row, field).into_owned();
        if value.is_null() {
            continue;
        }
        let better = best.as_ref().is_none_or(|(_, current)| match a.function {
            AggFunction::ArgMin => natural_order(&value, current).is_lt(),
            _ => natural_order(&value, current).is_gt(),
        });
        if better {
            best = Some((row, value));
        }
    }
    best.map(|(row, _)| row)
}

/// Values without repeats, first occurrence kept.
fn distinct(values: Vec<Json>) -> Vec<Json> {
    let mut seen = std::collections::HashSet::new();
    values.into_iter().filter(|v| seen.insert(v.to_string())).collect()
}

/// Integers sum to an integer, anything else to a real.
fn sum(values: &[Json]) -> Json {
    if values.iter().all(|v| v.as_i64().is_some()) {
        return Json::from(values.iter().filter_map(Json::as_i64).fold(0i64, i64::wrapping_add));
    }
    Json::from(values.iter().filter_map(cell::number).sum::<f64>())
}

/// Numbers by value, datetimes by instant, anything else as text.
fn natural_order(a: &Json, b: &Json) -> Ordering {
    if let (Some(x), Some(y)) = (a.as_f64(), b.as_f64()) {
        return x.total_cmp(&y);
    }
    if let (Some(x), Some(y)) = (cell::datetime(a), cell::datetime(b)) {
        return x.cmp(&y);
    }
    cell::text(a).cmp(&cell::text(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::detection::{Field, MatchOp, Predicate, Quantifier, Value};
    use crate::kql::Span;
    use serde_json::json;

    fn rows(value: Json) -> Relation {
        Relation::from_rows(value.as_array().unwrap().iter().map(|r| r.as_object().unwrap().clone()).collect())
    }

    fn agg(name: &str, function: AggFunction, field: Option<&str>) -> Aggregation {
        Aggregation { name: name.into(), function, field: field.map(Field::column), condition: None, span: Span::default() }
    }

    fn key(name: &str, bin: Option<i64>) -> GroupKey {
        GroupKey { name: name.into(), field: Field::column(name), bin: bin.map(Timespan::from_ticks) }
    }

    fn summarize(group_by: Vec<GroupKey>, aggregations: Vec<Aggregation>, input: &Relation) -> Vec<Json> {
        let spec =
            Aggregate { input: crate::ir::detection::Input::Source(0), group_by, aggregations, threshold: None, span: Span::default() };
        aggregate(&spec, input, &Scope::new(0)).unwrap().rows.into_iter().map(Json::Object).collect()
    }

    #[test]
    fn functions_skip_nulls_and_count_counts_rows() {
        let input = rows(json!([{"U": "a", "N": 3}, {"U": "a", "N": null}, {"U": "b", "N": 5}, {"U": "a", "N": 3}]));
        let out = summarize(
            vec![key("U", None)],
            vec![
                agg("count_", AggFunction::Count, None),
                agg("dcount_N", AggFunction::DistinctCount, Some("N")),
                agg("sum_N", AggFunction::Sum, Some("N")),
                agg("max_N", AggFunction::Max, Some("N")),
                agg("set_N", AggFunction::MakeSet, Some("N")),
                agg("list_N", AggFunction::MakeList, Some("N")),
                agg("avg_N", AggFunction::Avg, Some("N")),
            ],
            &input,
        );
        assert_eq!(
            out,
            [
                json!({"U": "a", "count_": 3, "dcount_N": 1, "sum_N": 6, "max_N": 3, "set_N": [3], "list_N": [3, 3], "avg_N": 3.0}),
                json!({"U": "b", "count_": 1, "dcount_N": 1, "sum_N": 5, "max_N": 5, "set_N": [5], "list_N": [5], "avg_N": 5.0}),
            ]
        );
    }

    #[test]
    fn countif_counts_rows_meeting_its_condition() {
        let input = rows(json!([{"R": "fail"}, {"R": "ok"}, {"R": "fail"}]));
        let mut failures = agg("failures", AggFunction::Count, None);
        failures.condition = Some(Predicate::Match(crate::ir::detection::Match {
            field: Field::column("R"),
            op: MatchOp::Equals,
            values: vec![Value::String("fail".into())],
            quantifier: Quantifier::Any,
            case_sensitive: true,
            span: Span::default(),
        }));
        assert_eq!(summarize(vec![], vec![failures], &input), [json!({"failures": 2})]);
    }

    #[test]
    fn bin_floors_datetimes_and_min_max_order_them() {
        let input = rows(json!([
            {"T": "2024-05-01T10:59:59Z"}, {"T": "2024-05-01T10:00:00Z"}, {"T": "2024-05-01T11:00:00Z"}
        ]));
        let hour = 3600 * time::TICKS_PER_SECOND;
        let out = summarize(vec![key("T", Some(hour))], vec![agg("count_", AggFunction::Count, None)], &input);
        assert_eq!(out, [json!({"T": "2024-05-01T10:00:00Z", "count_": 2}), json!({"T": "2024-05-01T11:00:00Z", "count_": 1})]);
        let out = summarize(vec![], vec![agg("first", AggFunction::Min, Some("T"))], &input);
        assert_eq!(out, [json!({"first": "2024-05-01T10:00:00Z"})]);
    }

    #[test]
    fn arg_max_keeps_the_latest_row_per_group() {
        let input = rows(json!([
            {"U": "a", "T": "2024-05-01T10:00:00Z", "Ip": "1.1.1.1"},
            {"U": "a", "T": "2024-05-01T11:00:00Z", "Ip": "2.2.2.2"},
            {"U": "a", "T": null, "Ip": "3.3.3.3"},
            {"U": "b", "T": "2024-05-01T09:00:00Z", "Ip": "4.4.4.4"}
        ]));
        let out = summarize(vec![key("U", None)], vec![agg("T", AggFunction::ArgMax, Some("T"))], &input);
        assert_eq!(
            out,
            [
                json!({"U": "a", "T": "2024-05-01T11:00:00Z", "Ip": "2.2.2.2"}),
                json!({"U": "b", "T": "2024-05-01T09:00:00Z", "Ip": "4.4.4.4"})
            ]
        );
        let out = summarize(vec![key("U", None)], vec![agg("T", AggFunction::ArgMin, Some("T"))], &input);
        assert_eq!(out[0]["Ip"], json!("1.1.1.1"));
    }

    #[test]
    fn a_path_key_groups_as_text_so_missing_is_empty() {
        let input = rows(json!([{"P": {"c": "x"}}, {"P": {}}, {"P": {"c": ""}}, {"P": {"c": 1}}]));
        let key = GroupKey { name: "C".into(), field: Field { name: "P".into(), path: vec!["c".into()] }, bin: None };
        let out = summarize(vec![key], vec![agg("count_", AggFunction::Count, None)], &input);
        assert_eq!(out, [json!({"C": "x", "count_": 1}), json!({"C": "", "count_": 2}), json!({"C": "1", "count_": 1})]);
    }

    #[test]
    fn no_keys_and_no_rows_still_give_one_row() {
        assert_eq!(summarize(vec![], vec![agg("count_", AggFunction::Count, None)], &rows(json!([]))), [json!({"count_": 0})]);
    }

    #[test]
    fn bin_over_text_is_refused() {
        let spec = Aggregate {
            input: crate::ir::detection::Input::Source(0),
            group_by: vec![key("T", Some(10))],
            aggregations: vec![],
            threshold: None,
            span: Span::default(),
        };
        assert!(aggregate(&spec, &rows(json!([{"T": "soon"}])), &Scope::new(0)).is_err());
    }
}
