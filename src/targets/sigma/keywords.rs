//! Keyword searches of a Sigma rule, written back as keyword lists. The Detection holds them as
//! `Opaque` (they test no field), so a target built on it loses them; `--to sigma` on Sigma
//! input can carry them as written instead.

use crate::ir::Rule;
use crate::ir::detection::Span;
use crate::sigma::{DocumentKind, FieldTest, Scalar, SearchBody};
use serde_json::Value as Json;

/// The keyword list written at `span` in the rule (or in a filter applied to it), as values
/// Sigma reads back alike; `None` when there is none there, it has modifiers, or a value
/// escapes a wildcard (which Sigma's tools flag as a likely mistake).
pub fn list_at(rule: &Rule, span: Span) -> Option<Json> {
    let logic = rule.sigma_logic()?;
    let own = match &logic.document.kind {
        DocumentKind::Rule(sigma_rule) => Some(&sigma_rule.detection),
        _ => None,
    };
    let sections = own.into_iter().chain(logic.filters.iter().map(|f| &f.detection));
    let test = sections.flat_map(|s| &s.searches).find_map(|s| find(&s.body, span))?;
    let values: Vec<Json> = test.values.iter().map(|v| scalar(&v.value)).collect();
    let escapes = values.iter().filter_map(Json::as_str).any(|v| v.contains("\\*") || v.contains("\\?"));
    (test.modifiers.is_empty() && !values.is_empty() && !escapes).then_some(Json::Array(values))
}

fn find(body: &SearchBody, span: Span) -> Option<&FieldTest> {
    match body {
        SearchBody::Keywords(test) if test.span == span => Some(test),
        SearchBody::Any(bodies) => bodies.iter().find_map(|b| find(b, span)),
        _ => None,
    }
}

/// A value as written: text keeps its wildcards and escapes, which Sigma reads again.
fn scalar(value: &Scalar) -> Json {
    match value {
        Scalar::Null => Json::Null,
        Scalar::Bool(b) => Json::Bool(*b),
        Scalar::Int(i) => Json::from(*i),
        Scalar::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
        Scalar::Str(s) => Json::String(s.clone()),
    }
}
