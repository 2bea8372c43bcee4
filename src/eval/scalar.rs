//! Computing a `Scalar` on one row, with Kusto's meaning: `split` makes a dynamic array, `[-1]`
//! counts from the end and out of range is null, `tostring(null)` is `""`, `extract` without a
//! match is `""`, `parse_json` of text holding JSON is that JSON value.

use super::cell::{self, Row};
use crate::ir::detection::{Scalar, ScalarFunction, Value};
use regex::Regex;
use serde_json::Value as Json;
use std::borrow::Cow;
use std::collections::HashMap;

/// Computes scalars, compiling each `extract` pattern once.
#[derive(Default)]
pub struct Computer {
    /// `None` for a pattern RE2 refuses: `extract` then finds nothing, as in Kusto.
    regexes: HashMap<String, Option<Regex>>,
}

impl Computer {
    pub fn value(&mut self, scalar: &Scalar, row: &Row) -> Json {
        match scalar {
            Scalar::Field(field) => cell::lookup(row, field).into_owned(),
            Scalar::Value(value) => constant(value),
            Scalar::Path { target, path } => cell::walk(Cow::Owned(self.value(target, row)), path).into_owned(),
            Scalar::Call { function, args } => {
                let args: Vec<Json> = args.iter().map(|a| self.value(a, row)).collect();
                self.call(*function, &args)
            }
        }
    }

    fn call(&mut self, function: ScalarFunction, args: &[Json]) -> Json {
        use ScalarFunction::*;
        let text = |i: usize| args.get(i).map(cell::text).unwrap_or_default();
        match function {
            ToString => Json::String(text(0).into_owned()),
            ToLower => Json::String(text(0).to_lowercase()),
            ToUpper => Json::String(text(0).to_uppercase()),
            Strcat => Json::String(args.iter().map(cell::text).collect()),
            Split => split(&text(0), &text(1)),
            Extract => Json::String(self.extract(&text(0), args.get(1).and_then(Json::as_i64), &text(2))),
            ParseJson => match args.first() {
                Some(Json::String(s)) => serde_json::from_str(s).unwrap_or_else(|_| Json::String(s.clone())),
                other => other.cloned().unwrap_or(Json::Null),
            },
            Strlen => Json::from(text(0).chars().count()),
            Substring => substring(&text(0), args.get(1).and_then(cell::number), args.get(2).and_then(cell::number)),
            ToLong => args.first().and_then(to_long).map_or(Json::Null, Json::from),
            ToReal => args.first().and_then(cell::number).map_or(Json::Null, Json::from),
            IsEmpty => Json::Bool(is_empty(args.first())),
            IsNotEmpty => Json::Bool(!is_empty(args.first())),
            Coalesce => args.iter().find(|a| !is_empty(Some(a))).cloned().unwrap_or(Json::Null),
            ArrayLength => match args.first() {
                Some(Json::Array(items)) => Json::from(items.len()),
                Some(other) => match cell::as_dynamic(other) {
                    Some(Json::Array(items)) => Json::from(items.len()),
                    _ => Json::Null,
                },
                None => Json::Null,
            },
            ReplaceString => match text(1) {
                lookup if lookup.is_empty() => Json::String(text(0).into_owned()),
                lookup => Json::String(text(0).replace(&*lookup, &text(2))),
            },
        }
    }

    fn extract(&mut self, pattern: &str, group: Option<i64>, text: &str) -> String {
        let regex = self.regexes.entry(pattern.to_string()).or_insert_with(|| super::predicate::compile_regex(pattern, true).ok());
        let (Some(regex), Some(group)) = (regex.as_ref(), group.and_then(|g| usize::try_from(g).ok())) else { return String::new() };
        regex.captures(text).and_then(|c| c.get(group)).map(|m| m.as_str().to_string()).unwrap_or_default()
    }
}

fn constant(value: &Value) -> Json {
    match value {
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(n) => Json::from(*n),
        Value::Real(x) => Json::from(*x),
        Value::String(s) => Json::String(s.clone()),
        // Lowering gives `Scalar::Value` only the kinds above.
        _ => Json::Null,
    }
}

/// Kusto's `split`: every part, empty ones included; an empty delimiter splits nothing.
fn split(text: &str, delimiter: &str) -> Json {
    if delimiter.is_empty() {
        return Json::Array(vec![Json::String(text.to_string())]);
    }
    Json::Array(text.split(delimiter).map(|part| Json::String(part.to_string())).collect())
}

/// `substring(text, start, length)` in characters; a start before 0 counts from 0.
fn substring(text: &str, start: Option<f64>, length: Option<f64>) -> Json {
    let Some(start) = start else { return Json::String(String::new()) };
    let start = start.max(0.0) as usize;
    let chars = text.chars().skip(start);
    Json::String(match length {
        Some(length) => chars.take(length.max(0.0) as usize).collect(),
        None => chars.collect(),
    })
}

/// `tolong`: integers, numeric text and bools; a fraction is truncated.
fn to_long(value: &Json) -> Option<i64> {
    match value {
        Json::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|x| x.trunc() as i64)),
        Json::String(s) => {
            s.trim().parse().ok().or_else(|| s.trim().parse::<f64>().ok().filter(|x| x.is_finite()).map(|x| x.trunc() as i64))
        }
        Json::Bool(b) => Some(i64::from(*b)),
        _ => None,
    }
}

/// Null or the empty string.
fn is_empty(value: Option<&Json>) -> bool {
    matches!(value, None | Some(Json::Null)) || matches!(value, Some(Json::String(s)) if s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::detection::Field;
    use serde_json::json;

    fn call(function: ScalarFunction, args: Vec<Scalar>) -> Scalar {
        Scalar::Call { function, args }
    }

    fn text(s: &str) -> Scalar {
        Scalar::Value(Value::String(s.into()))
    }

    fn field(name: &str) -> Scalar {
        Scalar::Field(Field::column(name))
    }

    fn run(scalar: &Scalar, row: Json) -> Json {
        Computer::default().value(scalar, row.as_object().unwrap())
    }

    #[test]
    fn split_then_index_from_either_end() {
        let parts = call(ScalarFunction::Split, vec![field("Scope"), text("/")]);
        let at =
            |step: &str| call(ScalarFunction::ToString, vec![Scalar::Path { target: Box::new(parts.clone()), path: vec![step.into()] }]);
        let row = json!({"Scope": "/subscriptions/s1/vm/vm1"});
        assert_eq!(run(&parts, row.clone()), json!(["", "subscriptions", "s1", "vm", "vm1"]));
        assert_eq!(run(&at("[2]"), row.clone()), json!("s1"));
        assert_eq!(run(&at("[-1]"), row.clone()), json!("vm1"));
        assert_eq!(run(&at("[9]"), row), json!(""), "out of range is null, and tostring(null) is empty");
    }

    #[test]
    fn extract_gives_the_group_or_empty() {
        let extract =
            |t: &str| call(ScalarFunction::Extract, vec![text(r"-File\s(script[0-9]+\.ps1)"), Scalar::Value(Value::Int(1)), text(t)]);
        assert_eq!(run(&extract("powershell -File script12.ps1 -x"), json!({})), json!("script12.ps1"));
        assert_eq!(run(&extract("powershell -Command x"), json!({})), json!(""));
    }

    #[test]
    fn parse_json_member_and_fallbacks() {
        let command = Scalar::Path { target: Box::new(call(ScalarFunction::ParseJson, vec![field("F")])), path: vec!["Command".into()] };
        assert_eq!(run(&command, json!({"F": "{\"Command\": \"Get-Process\"}"})), json!("Get-Process"));
        assert_eq!(run(&command, json!({"F": "not json"})), Json::Null);
        let strcat = call(ScalarFunction::Strcat, vec![field("A"), text("-"), field("Missing")]);
        assert_eq!(run(&strcat, json!({"A": 5})), json!("5-"));
        let coalesce = call(ScalarFunction::Coalesce, vec![field("Missing"), text(""), text("x")]);
        assert_eq!(run(&coalesce, json!({})), json!("x"));
        assert_eq!(run(&call(ScalarFunction::ToLong, vec![text("12")]), json!({})), json!(12));
        assert_eq!(run(&call(ScalarFunction::Strlen, vec![text("héllo")]), json!({})), json!(5));
    }
}
