//! Keyword searches, written back as keyword lists. The Detection holds each as an `Opaque`
//! part (it tests no field) with its values in `Detection::keywords`, so a target built on
//! fields loses it while `--to sigma` writes it as it was.

use crate::ir::Detection;
use crate::ir::detection::{Span, Value};
use serde_json::Value as Json;

/// The keyword list searched at `span`, as values Sigma reads back alike; `None` when there
/// is none there, or a value escapes a wildcard (which Sigma's tools flag as a likely mistake).
pub fn list_at(detection: &Detection, span: Span) -> Option<Json> {
    let search = detection.keyword_search(span)?;
    let values: Vec<Json> = search.values.iter().map(written).collect();
    let escapes = values.iter().filter_map(Json::as_str).any(|v| v.contains("\\*") || v.contains("\\?"));
    (!values.is_empty() && !escapes).then_some(Json::Array(values))
}

/// A value as written: text keeps its wildcards and escapes, which Sigma reads again.
fn written(value: &Value) -> Json {
    match value {
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::from(*i),
        Value::Real(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
        Value::String(s) => Json::String(s.clone()),
        _ => Json::Null,
    }
}
