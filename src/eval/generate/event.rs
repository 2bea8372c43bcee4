//! Writing a value into an event, in the type its column has.

use super::Columns;
use crate::eval::cell::{self, Row};
use crate::eval::time;
use crate::ir::detection::Field;
use serde_json::{Value as Json, json};

/// Sets `field` (a column, or a path inside a dynamic or JSON-text column) to `value`, coerced to
/// the column's type; false when the column is unknown or the value does not fit its type.
pub(super) fn set(event: &mut Row, field: &Field, value: Json, columns: &Columns) -> bool {
    let Some((_, kind)) = columns.iter().find(|(name, _)| *name == field.name) else { return false };
    if field.path.is_empty() {
        return match coerce(value, kind) {
            Some(v) => {
                event.insert(field.name.clone(), v);
                true
            }
            None => false,
        };
    }
    let current = event.get(&field.name).cloned().unwrap_or(Json::Null);
    let mut root = match current {
        Json::String(s) => serde_json::from_str(&s).unwrap_or(Json::Null),
        other => other,
    };
    if !root.is_object() {
        root = json!({});
    }
    let mut slot = &mut root;
    for step in &field.path {
        slot = match cell::array_index(step) {
            Some(at) => step_into_array(slot, at),
            None => {
                if !slot.is_object() {
                    *slot = json!({});
                }
                let Json::Object(map) = slot else { return false };
                map.entry(step.clone()).or_insert(Json::Null)
            }
        };
    }
    *slot = value;
    let stored = if kind == "dynamic" { root } else { Json::String(root.to_string()) };
    event.insert(field.name.clone(), stored);
    true
}

/// The element `at` of an array made (or grown) to hold it; `[-k]` is the first of `k` elements.
fn step_into_array(slot: &mut Json, at: i64) -> &mut Json {
    let position = usize::try_from(at).unwrap_or(0).min(16);
    let length = if at < 0 { usize::try_from(at.unsigned_abs()).unwrap_or(1).min(16) } else { position + 1 };
    if !slot.is_array() {
        *slot = Json::Array(Vec::new());
    }
    match slot {
        Json::Array(items) => {
            if items.len() < length {
                items.resize(length, Json::Null);
            }
            &mut items[position]
        }
        other => other,
    }
}

/// `value` as a value of a column of type `kind`; `None` when it cannot be one.
fn coerce(value: Json, kind: &str) -> Option<Json> {
    if value.is_null() {
        // Kusto strings are never null: a missing string is empty.
        return Some(if kind == "string" { json!("") } else { value });
    }
    match kind {
        "string" | "guid" => Some(match value {
            Json::String(_) => value,
            other => Json::String(other.to_string()),
        }),
        "long" | "int" => cell::number(&value).filter(|f| f.fract() == 0.0 && f.abs() < 9e15).map(|f| json!(f as i64)),
        "real" => cell::number(&value).map(Json::from),
        "bool" => cell::boolean(&value).map(Json::from),
        "datetime" => cell::datetime(&value).map(|t| json!(time::format_datetime(t))),
        "timespan" => cell::number(&value).map(Json::from),
        _ => Some(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns() -> Columns {
        [("P", "dynamic"), ("S", "string"), ("N", "long")].iter().map(|(n, t)| (n.to_string(), t.to_string())).collect()
    }

    fn path(name: &str, steps: &[&str]) -> Field {
        Field { name: name.into(), path: steps.iter().map(|s| s.to_string()).collect() }
    }

    #[test]
    fn paths_build_objects_and_arrays_and_json_text_in_string_columns() {
        let mut event = Row::new();
        assert!(set(&mut event, &path("P", &["a", "[1]", "b"]), json!("x"), &columns()));
        assert_eq!(event["P"], json!({"a": [null, {"b": "x"}]}));
        assert_eq!(*cell::lookup(&event, &path("P", &["a", "[-1]", "b"])), json!("x"));
        assert!(set(&mut event, &path("S", &["k"]), json!(1), &columns()));
        assert_eq!(event["S"], json!("{\"k\":1}"));
    }

    #[test]
    fn values_take_the_column_type_or_are_refused() {
        let mut event = Row::new();
        assert!(set(&mut event, &path("N", &[]), json!("42"), &columns()));
        assert_eq!(event["N"], json!(42));
        assert!(!set(&mut event, &path("N", &[]), json!("forty-two"), &columns()));
        assert!(set(&mut event, &path("S", &[]), Json::Null, &columns()));
        assert_eq!(event["S"], json!(""), "Kusto strings are never null");
        assert!(!set(&mut event, &path("Missing", &[]), json!(1), &columns()));
    }
}
