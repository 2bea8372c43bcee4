//! Sigma fields the target holds in another shape than the Sigma rule's source writes them
//! (`targets/kql.yaml`, a field mapped to a transform). Two ways, each generic over its data:
//! - rebuilt: the value as the source writes it is computed from the target's columns in an
//!   `extend` before the rule's `where` (a registry path from key and value name, `DOMAIN\name`
//!   from two columns, a `<Data Name="X">` element of Windows' `EventData` XML), so every test
//!   of the field keeps its Sigma operator and value;
//! - rewritten value by value: a `KEY=value` pair becomes a test of KEY's own column (Sysmon's
//!   `Hashes`), a value the target spells otherwise becomes the target's values (`Initiated:
//!   'true'` → the outbound `ActionType`s).
//!
//! A test with no form on the target's rows is said so: a key without a column is a test that
//! cannot hold there (`false`, with a loss naming it), an operator the rewrite has no meaning
//! for is untranslatable.

use crate::ir::detection::{Match, MatchOp, Quantifier, Value};
use crate::kql::ast::{BinaryOp, Expr, Literal, StrTest, call};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Transform {
    /// `KEY=value,KEY=value` (Sysmon's `Hashes`): KEY → the column holding its value; a key
    /// absent here has no column.
    Pairs(BTreeMap<String, String>),
    /// A value → the values `column` holds for it (`"true"` → outbound `ActionType`s).
    Values { column: String, values: BTreeMap<String, Vec<String>> },
    /// A registry path with the value name last, hives abbreviated (Sysmon's `TargetObject`),
    /// from the key and value name columns; `hives`: each way the target writes a hive → how
    /// the source does.
    RegistryPath { key: String, value_name: String, hives: Vec<[String; 2]> },
    /// `DOMAIN\name` from two columns.
    Account { domain: String, name: String },
    /// The `<Data Name="FIELD">` element of an XML column (a Windows event's `EventData`).
    XmlData { column: String },
}

/// A rewritten test, and why a part of it cannot hold on the target's rows.
pub struct Rewritten {
    pub test: Expr,
    pub losses: Vec<String>,
}

impl Transform {
    /// The field's value as the source writes it, computed from the target's columns, for a
    /// transform that rebuilds it.
    pub fn rebuilt(&self, field: &str) -> Option<Expr> {
        match self {
            Transform::Pairs(_) | Transform::Values { .. } => None,
            Transform::RegistryPath { key, value_name, hives } => {
                // Each hive as the target writes it, at the start of the key, as the source does.
                let key = hives.iter().fold(Expr::name(key.as_str()), |key, [target, source]| {
                    let pattern = format!(r"(?i)^{}(\\|$)", regex_escape(target));
                    call("replace_regex", [key, Expr::string(pattern), Expr::string(format!(r"{source}\1"))])
                });
                // Key events have no value name: their path is the key's.
                let value = call(
                    "iff",
                    [
                        call("isempty", [Expr::name(value_name.as_str())]),
                        Expr::string(""),
                        call("strcat", [Expr::string(r"\"), Expr::name(value_name.as_str())]),
                    ],
                );
                Some(call("strcat", [key, value]))
            }
            Transform::Account { domain, name } => Some(call(
                "iff",
                [
                    call("isempty", [Expr::name(name.as_str())]),
                    Expr::string(""),
                    call("strcat", [Expr::name(domain.as_str()), Expr::string(r"\"), Expr::name(name.as_str())]),
                ],
            )),
            Transform::XmlData { column } => {
                let pattern = format!(r#"<Data Name="{}">([^<]*)<"#, regex_escape(field));
                let text = call("extract", [Expr::string(pattern), Expr::int(1), Expr::name(column.as_str())]);
                // XML's predefined entities, `&amp;` last so that `&amp;lt;` stays `&lt;`.
                let entities = [("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&apos;", "'"), ("&amp;", "&")];
                Some(entities.iter().fold(text, |text, (entity, character)| {
                    call("replace_string", [text, Expr::string(*entity), Expr::string(*character)])
                }))
            }
        }
    }

    /// The test rewritten value by value, for a transform that rewrites; `Err` says why it has
    /// no form on the target's rows.
    pub fn rewrite(&self, m: &Match, table: &str) -> Option<Result<Rewritten, String>> {
        match self {
            Transform::Pairs(columns) => Some(pairs(columns, m, table)),
            Transform::Values { column, values } => Some(values_of(column, values, m)),
            _ => None,
        }
    }
}

/// `Hashes|contains: 'SHA256=AB12'` → `SHA256 startswith "AB12"` (the value follows its key, so
/// a substring `KEY=v` is the key's value starting with `v`; hex digits in any case).
fn pairs(columns: &BTreeMap<String, String>, m: &Match, table: &str) -> Result<Rewritten, String> {
    if m.op != MatchOp::Contains {
        return Err(format!("`{}` {} a value has no form over the per-key columns of {table}", m.field, op_name(m.op)));
    }
    let mut losses = Vec::new();
    let mut tests = Vec::new();
    for value in &m.values {
        let text = text(value).ok_or_else(|| format!("`{}` is compared with a value that is not text", m.field))?;
        let (key, digest) = text
            .split_once('=')
            .filter(|(_, d)| !d.contains([',', '=']))
            .ok_or_else(|| format!("`{}` contains `{text}`, which is not one `KEY=value` pair: no column of {table} holds it", m.field))?;
        match columns.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)) {
            Some((_, column)) => tests.push(Expr::str_op(StrTest::StartsWith, false, Expr::name(column.as_str()), Expr::string(digest))),
            None => {
                losses.push(format!("{table} has no column for the {key} of `{}`: its test for `{text}` is written `false`", m.field));
                tests.push(Expr::literal(Literal::Bool(false)));
            }
        }
    }
    Ok(Rewritten { test: joined(tests, m.quantifier), losses })
}

/// `Initiated: 'true'` → `ActionType in ("ConnectionSuccess", ...)`.
fn values_of(column: &str, values: &BTreeMap<String, Vec<String>>, m: &Match) -> Result<Rewritten, String> {
    if m.op != MatchOp::Equals {
        return Err(format!("`{}` {} a value: only equality has a form over {column}", m.field, op_name(m.op)));
    }
    let mut tests = Vec::new();
    for value in &m.values {
        let spelled = match value {
            Value::String(s) => s.to_ascii_lowercase(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            _ => return Err(format!("`{}` is compared with a value {column} has no counterpart for", m.field)),
        };
        let target = values.get(&spelled).ok_or_else(|| format!("`{}` = `{spelled}` has no counterpart in {column}", m.field))?;
        tests.push(Expr::in_list(true, Expr::name(column), target.iter().map(|v| Expr::string(v.as_str())).collect()));
    }
    Ok(Rewritten { test: joined(tests, m.quantifier), losses: Vec::new() })
}

fn joined(tests: Vec<Expr>, quantifier: Quantifier) -> Expr {
    let op = if quantifier == Quantifier::All { BinaryOp::And } else { BinaryOp::Or };
    let several = tests.len() > 1;
    match Expr::chain(op, tests) {
        Some(test) if several => Expr::paren(test),
        Some(test) => test,
        None => Expr::literal(Literal::Bool(quantifier == Quantifier::All)),
    }
}

fn text(value: &Value) -> Option<&str> {
    if let Value::String(s) = value { Some(s) } else { None }
}

fn op_name(op: MatchOp) -> &'static str {
    match op {
        MatchOp::Equals => "equal to",
        MatchOp::StartsWith => "starting with",
        MatchOp::EndsWith => "ending with",
        MatchOp::Regex => "matching",
        _ => "tested against",
    }
}

/// `text` matched literally inside an RE2 pattern.
fn regex_escape(text: &str) -> String {
    text.chars().fold(String::new(), |mut out, c| {
        if r"\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
        out
    })
}
