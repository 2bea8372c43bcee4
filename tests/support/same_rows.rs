//! Whether our evaluator and kql-run returned the same rows: multisets compared on the columns
//! both produce and we evaluate, each value in a canonical form both engines agree on.

use ruleconv::eval::{Table, time};
use serde_json::Value as Json;

/// Equal multisets of rows on the columns both sides have and we evaluate.
pub fn compare(ours: &Table, columns: &[String], rows: &[Vec<Json>]) -> Result<(), String> {
    let shared: Vec<(usize, &String)> =
        columns.iter().enumerate().filter(|(_, c)| ours.columns.contains(c) && !ours.not_evaluated.contains(c)).collect();
    let mut theirs: Vec<Vec<String>> =
        rows.iter().map(|r| shared.iter().map(|(i, _)| canonical(r.get(*i).unwrap_or(&Json::Null))).collect()).collect();
    let mut mine: Vec<Vec<String>> =
        ours.rows.iter().map(|r| shared.iter().map(|(_, c)| canonical(r.get(*c).unwrap_or(&Json::Null))).collect()).collect();
    theirs.sort();
    mine.sort();
    if theirs == mine {
        return Ok(());
    }
    let names: Vec<&String> = shared.iter().map(|(_, c)| *c).collect();
    Err(format!(
        "kql-run {} rows, ours {}; only kql-run: {}; only ours: {}",
        theirs.len(),
        mine.len(),
        unmatched(&theirs, &mine, &names),
        unmatched(&mine, &theirs, &names)
    ))
}

/// Up to two rows of `a` that `b` lacks, each shown by its non-null columns.
fn unmatched(a: &[Vec<String>], b: &[Vec<String>], names: &[&String]) -> String {
    let mut rest = b.to_vec();
    let missing: Vec<&Vec<String>> = a
        .iter()
        .filter(|row| match rest.iter().position(|r| r == *row) {
            Some(at) => {
                rest.remove(at);
                false
            }
            None => true,
        })
        .collect();
    let shown: Vec<String> = missing
        .iter()
        .take(2)
        .map(|row| {
            let cells: Vec<String> = names.iter().zip(row.iter()).filter(|(_, v)| *v != "null").map(|(n, v)| format!("{n}={v}")).collect();
            format!("{{{}}}", cells.join(", "))
        })
        .collect();
    format!("{} row(s) {}", missing.len(), shown.join(" "))
}

/// A value in a form both engines agree on when they mean the same: datetimes as instants,
/// numbers without a trailing `.0`, JSON text parsed, arrays as sorted sets (the order of
/// `make_set` is unspecified), and `""` as null (Kusto strings are never null).
fn canonical(value: &Json) -> String {
    match value {
        Json::Null => "null".into(),
        Json::String(s) if s.is_empty() => "null".into(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
            Some(f) => format!("{f:.6}"),
            None => n.to_string(),
        },
        Json::String(s) => {
            if let Some(ticks) = time::parse_datetime(s).filter(|_| s.len() >= 10 && s.as_bytes()[4] == b'-') {
                return format!("datetime:{ticks}");
            }
            // kql-run returns a dynamic value as JSON text, a string in it with its quotes.
            if let Some(parsed) = s.starts_with(['[', '{', '"']).then(|| serde_json::from_str::<Json>(s).ok()).flatten() {
                return canonical(&parsed);
            }
            format!("{s:?}")
        }
        Json::Array(items) => {
            let mut items: Vec<String> = items.iter().map(canonical).collect();
            items.sort();
            format!("[{}]", items.join(","))
        }
        Json::Object(map) => {
            let mut entries: Vec<String> = map.iter().map(|(k, v)| format!("{k:?}:{}", canonical(v))).collect();
            entries.sort();
            format!("{{{}}}", entries.join(","))
        }
    }
}
