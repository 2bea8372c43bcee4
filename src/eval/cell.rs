//! Reading one field of a row, and the coercions Kusto applies when a cell meets a literal.
//!
//! Rows are JSON objects. A path step reads into a dynamic value; a string cell that holds a
//! JSON object or array is parsed first, as Kusto does for a `dynamic` column ingested as text.

use super::time;
use crate::ir::detection::Field;
use serde_json::Value as Json;
use std::borrow::Cow;

pub type Row = serde_json::Map<String, Json>;

/// The field's value in `row`; JSON null when the column or a path step is missing.
pub fn lookup<'a>(row: &'a Row, field: &Field) -> Cow<'a, Json> {
    match row.get(&field.name) {
        Some(value) => walk(Cow::Borrowed(value), &field.path),
        None => Cow::Owned(Json::Null),
    }
}

/// The value at `path` inside `start` (see `Field::path`); JSON null when a step is missing.
pub fn walk<'a>(start: Cow<'a, Json>, path: &[String]) -> Cow<'a, Json> {
    let mut current = start;
    for step in path {
        let container = match as_dynamic(&current) {
            Some(parsed) => Cow::Owned(parsed),
            None => current,
        };
        // `[n]` indexes an array (`[-1]` from the end); any other step names an object key.
        let next = match (&*container, array_index(step)) {
            (Json::Array(items), Some(at)) => index(items, at).cloned(),
            (Json::Object(map), None) => map.get(step).cloned(),
            _ => None,
        };
        current = Cow::Owned(next.unwrap_or(Json::Null));
    }
    current
}

/// A string holding a JSON object or array, parsed; `None` for anything else.
pub fn as_dynamic(value: &Json) -> Option<Json> {
    let text = value.as_str()?.trim_start();
    if !text.starts_with(['{', '[']) {
        return None;
    }
    serde_json::from_str(text).ok()
}

/// The index of an `[n]` path step.
pub fn array_index(step: &str) -> Option<i64> {
    step.strip_prefix('[')?.strip_suffix(']')?.trim().parse().ok()
}

/// `a[1]`, and `a[-1]` counting from the end, as Kusto indexes arrays.
fn index(items: &[Json], at: i64) -> Option<&Json> {
    let at = if at < 0 { (items.len() as i64).checked_add(at)? } else { at };
    usize::try_from(at).ok().and_then(|i| items.get(i))
}

/// A key to group or join on. Kusto refuses a dynamic value as a key, so a path into a dynamic
/// column is always cast, in practice with `tostring()` (which lowering folds into the path):
/// such a key is text, and a missing one is `""`. Kusto strings are never null, so a row that
/// lacks a `string_column` (see [`string_column`]) holds `""` there too.
pub fn key_value(row: &Row, field: &Field, string_column: bool) -> Json {
    let value = lookup(row, field);
    if field.path.is_empty() && !(string_column && value.is_null()) { value.into_owned() } else { Json::String(text(&value).into_owned()) }
}

/// Whether `field` names a string column of these rows: some row holds text in it. Events carry
/// no schema, so the values the rows do hold type the column.
pub fn string_column<'r>(rows: impl IntoIterator<Item = &'r Row>, field: &Field) -> bool {
    field.path.is_empty() && rows.into_iter().any(|row| matches!(row.get(&field.name), Some(Json::String(_))))
}

/// Kusto's `tostring()`: null is the empty string (strings are never null in Kusto).
pub fn text(value: &Json) -> Cow<'_, str> {
    match value {
        Json::Null => Cow::Borrowed(""),
        Json::String(s) => Cow::Borrowed(s),
        Json::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
        other => Cow::Owned(other.to_string()),
    }
}

/// A number, from a JSON number, numeric text or a bool (Kusto compares `IsSigned == 1`);
/// `None` for null and anything else.
pub fn number(value: &Json) -> Option<f64> {
    match value {
        Json::Number(n) => n.as_f64(),
        Json::Bool(b) => Some(f64::from(u8::from(*b))),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub fn boolean(value: &Json) -> Option<bool> {
    match value {
        Json::Bool(b) => Some(*b),
        Json::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Json::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        Json::Number(n) => n.as_i64().map(|i| i != 0),
        _ => None,
    }
}

/// A datetime cell (ISO 8601 text) in ticks.
pub fn datetime(value: &Json) -> Option<i64> {
    value.as_str().and_then(time::parse_datetime)
}

/// A timespan cell: `hh:mm:ss` text or a number of seconds.
pub fn timespan(value: &Json) -> Option<i64> {
    match value {
        Json::Number(n) => n.as_f64().map(|s| (s * time::TICKS_PER_SECOND as f64).round() as i64),
        Json::String(s) => time::parse_timespan(s),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(value: Json) -> Row {
        value.as_object().cloned().unwrap()
    }

    fn path(name: &str, steps: &[&str]) -> Field {
        Field { name: name.into(), path: steps.iter().map(|s| s.to_string()).collect() }
    }

    #[test]
    fn paths_read_into_objects_arrays_and_json_text() {
        let r = row(json!({"P": {"role": "admin", "ids": [1, 2, 3]}, "T": "{\"a\": {\"b\": 7}}", "S": "plain"}));
        assert_eq!(*lookup(&r, &path("P", &["role"])), json!("admin"));
        assert_eq!(*lookup(&r, &path("P", &["ids", "[-1]"])), json!(3));
        assert_eq!(*lookup(&r, &path("P", &["ids", "[0]"])), json!(1));
        assert_eq!(*lookup(&r, &path("P", &["ids", "0"])), Json::Null, "a bare step is a key, not an index");
        assert_eq!(*lookup(&r, &path("T", &["a", "b"])), json!(7));
        assert_eq!(*lookup(&r, &path("S", &["x"])), Json::Null);
        assert_eq!(*lookup(&r, &path("Missing", &[])), Json::Null);
        assert_eq!(*lookup(&r, &path("P", &["ids", "[9]"])), Json::Null);
    }

    #[test]
    fn tostring_of_null_is_empty() {
        assert_eq!(text(&Json::Null), "");
        assert_eq!(text(&json!(5)), "5");
        assert_eq!(text(&json!({"a": 1})), "{\"a\":1}");
    }
}
