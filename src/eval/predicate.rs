//! Whether one row meets a predicate, in Kusto's three-valued logic.
//!
//! `None` is Kusto's null: an ordering comparison with a null number is null, `not(null)` stays
//! null, and `where` keeps only rows whose condition is true. String operators never see null:
//! a missing string is `""` (Kusto strings cannot be null), so `X != "a"` holds for a missing
//! `X`, and so does `X !has "a"`.

use super::cell::{self, Row};
use super::cidr;
use super::terms;
use crate::ir::detection::{Match, MatchOp, Predicate, Quantifier, Value};
use regex::Regex;
use serde_json::Value as Json;
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

/// The most memory one compiled regex may take (1 MiB). The `regex` crate matches in linear
/// time, so no pattern backtracks catastrophically; this bounds the other cost, patterns like
/// `(a{1000}){1000}` that compile to millions of states.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Compiles a rule's regex, with an error that says why one cannot be run.
pub fn compile_regex(pattern: &str, case_sensitive: bool) -> Result<Regex, String> {
    regex::RegexBuilder::new(pattern).case_insensitive(!case_sensitive).size_limit(REGEX_SIZE_LIMIT).build().map_err(|e| match e {
        regex::Error::CompiledTooBig(limit) => {
            format!("regex `{pattern}` compiles to more than {} KiB: simplify its repetitions", limit >> 10)
        }
        e => format!("regex `{pattern}` is not RE2: {e}"),
    })
}

/// What evaluation needs besides the row: the pinned `now`, the compiled patterns and what a
/// field the row lacks means.
pub struct Scope {
    /// Ticks since the Unix epoch.
    pub now: i64,
    regexes: HashMap<(String, bool), Regex>,
    /// The values of each `==`/`in` test of text values, as a set of their (folded) text, keyed
    /// by the test's address: a scope serves one evaluation of one borrowed Detection, whose
    /// tests neither move nor change. Without it, `in~` with 20,000 values compares each row
    /// with every value.
    text_sets: HashMap<usize, HashSet<String>>,
    pub absent: Absent,
}

/// What a field a row lacks (or holds as null) is to a value test.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Absent {
    /// Kusto: strings are never null, so it is `""` to a text test (`== ""` holds).
    #[default]
    EmptyText,
    /// Sigma: it has no value, so no value test holds, not even `''`; only `null` matches it
    /// (the Sigma specification; rsigma alike).
    NoValue,
}

impl Scope {
    pub fn new(now: i64) -> Scope {
        Scope { now, regexes: HashMap::new(), text_sets: HashMap::new(), absent: Absent::EmptyText }
    }

    /// Compiles every regex of `predicate` once; an error names the pattern RE2 refuses.
    pub fn prepare(&mut self, predicate: &Predicate) -> Result<(), String> {
        match predicate {
            Predicate::And(parts) | Predicate::Or(parts) => parts.iter().try_for_each(|p| self.prepare(p)),
            Predicate::Not(inner) => self.prepare(inner),
            Predicate::Opaque { .. } => Ok(()),
            Predicate::Match(m) if m.op == MatchOp::Regex => m.values.iter().try_for_each(|v| {
                let Value::String(pattern) = v else { return Err(format!("regex on a non-text value in `{}`", m.field)) };
                let key = (pattern.clone(), m.case_sensitive);
                if let std::collections::hash_map::Entry::Vacant(slot) = self.regexes.entry(key) {
                    slot.insert(compile_regex(pattern, m.case_sensitive)?);
                }
                Ok(())
            }),
            Predicate::Match(m) if m.op == MatchOp::Cidr => m.values.iter().try_for_each(|v| match v {
                Value::String(range) if cidr::Range::parse(range).is_some() => Ok(()),
                other => Err(format!("`{other:?}` is not a CIDR range")),
            }),
            Predicate::Match(m) if m.op == MatchOp::Between && m.values.len() != 2 => {
                Err(format!("between on `{}` needs two bounds, has {}", m.field, m.values.len()))
            }
            Predicate::Match(m) if m.op == MatchOp::Equals && m.quantifier == Quantifier::Any => {
                let texts: Option<HashSet<String>> =
                    m.values.iter().map(|v| if let Value::String(text) = v { Some(fold(text, m.case_sensitive)) } else { None }).collect();
                if let Some(texts) = texts {
                    self.text_sets.entry(address(m)).or_insert(texts);
                }
                Ok(())
            }
            Predicate::Match(m) => m.values.iter().try_for_each(|v| match v {
                Value::Datetime(text) if super::time::parse_datetime(text).is_none() => {
                    Err(format!("the datetime `{text}` compared with `{}` is not ISO 8601", m.field))
                }
                _ => Ok(()),
            }),
        }
    }
}

/// The predicate's value on `row`; opaque parts are refused before evaluation starts.
pub fn holds(predicate: &Predicate, row: &Row, scope: &Scope) -> Option<bool> {
    match predicate {
        Predicate::And(parts) => all3(parts.iter().map(|p| holds(p, row, scope))),
        Predicate::Or(parts) => any3(parts.iter().map(|p| holds(p, row, scope))),
        Predicate::Not(inner) => holds(inner, row, scope).map(|b| !b),
        Predicate::Match(m) => match_holds(m, row, scope),
        Predicate::Opaque { .. } => None,
    }
}

/// Three-valued OR: true if any part is, else null if any part is, else false.
fn any3(parts: impl Iterator<Item = Option<bool>>) -> Option<bool> {
    let mut result = Some(false);
    for part in parts {
        match part {
            Some(true) => return Some(true),
            None => result = None,
            Some(false) => {}
        }
    }
    result
}

/// Three-valued AND: false if any part is, else null if any part is, else true.
fn all3(parts: impl Iterator<Item = Option<bool>>) -> Option<bool> {
    any3(parts.map(|p| p.map(|b| !b))).map(|b| !b)
}

fn match_holds(m: &Match, row: &Row, scope: &Scope) -> Option<bool> {
    let cell = cell::lookup(row, &m.field);
    match m.op {
        MatchOp::IsEmpty => return Some(cell.is_null() || cell.as_str() == Some("")),
        MatchOp::IsNull => return Some(cell.is_null()),
        MatchOp::Between => return between(&cell, &m.values[0], &m.values[1], row, scope),
        _ if cell.is_null() && scope.absent == Absent::NoValue => return Some(false),
        _ => {}
    }
    // A text cell equals a text value when their (folded) texts are equal: one set lookup.
    if let (Json::String(text), Some(texts)) = (&*cell, scope.text_sets.get(&address(m))) {
        return Some(texts.contains(&fold(text, m.case_sensitive)));
    }
    let each = m.values.iter().map(|value| compare_one(m, &cell, value, row, scope));
    match m.quantifier {
        Quantifier::Any => any3(each),
        Quantifier::All => all3(each),
    }
}

/// A test's key in `Scope::text_sets`.
fn address(m: &Match) -> usize {
    std::ptr::from_ref(m) as usize
}

/// Text as a test compares it: lower-cased unless the test is case-sensitive.
fn fold(text: &str, case_sensitive: bool) -> String {
    if case_sensitive { text.to_string() } else { text.to_lowercase() }
}

fn compare_one(m: &Match, cell: &Json, value: &Value, row: &Row, scope: &Scope) -> Option<bool> {
    let text_test = |test: &dyn Fn(&str, &str) -> bool| {
        let needle = literal_text(value, row)?;
        Some(test(&fold(&cell::text(cell), m.case_sensitive), &fold(&needle, m.case_sensitive)))
    };
    match m.op {
        MatchOp::Equals => equals(cell, value, m.case_sensitive, row, scope),
        MatchOp::Contains => text_test(&|h, n| h.contains(n)),
        MatchOp::StartsWith => text_test(&|h, n| h.starts_with(n)),
        MatchOp::EndsWith => text_test(&|h, n| h.ends_with(n)),
        MatchOp::Has => text_test(&|h, n| terms::term_match(h, n, terms::WHOLE_TERM)),
        MatchOp::HasPrefix => text_test(&|h, n| terms::term_match(h, n, terms::TERM_PREFIX)),
        MatchOp::HasSuffix => text_test(&|h, n| terms::term_match(h, n, terms::TERM_SUFFIX)),
        MatchOp::Like => text_test(&terms::like_match),
        MatchOp::Regex => {
            let Value::String(pattern) = value else { return None };
            let regex = scope.regexes.get(&(pattern.clone(), m.case_sensitive))?;
            Some(regex.is_match(&cell::text(cell)))
        }
        MatchOp::Cidr => {
            let Value::String(range) = value else { return None };
            cidr::Range::parse(range)?.contains(cell.as_str()?)
        }
        MatchOp::Lt => order(cell, value, row, scope).map(Ordering::is_lt),
        MatchOp::Le => order(cell, value, row, scope).map(Ordering::is_le),
        MatchOp::Gt => order(cell, value, row, scope).map(Ordering::is_gt),
        MatchOp::Ge => order(cell, value, row, scope).map(Ordering::is_ge),
        MatchOp::IsEmpty | MatchOp::IsNull | MatchOp::Between => None,
    }
}

/// The text a string operator looks for: the literal, or another field's text.
fn literal_text(value: &Value, row: &Row) -> Option<String> {
    Some(match value {
        Value::String(s) | Value::Datetime(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Real(r) => r.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Field(f) => cell::text(&cell::lookup(row, f)).into_owned(),
        Value::Null | Value::Timespan(_) | Value::Ago(_) | Value::Now => return None,
    })
}

/// A comparable form of one side, typed by the literal it meets.
#[derive(PartialEq, PartialOrd)]
enum Typed {
    Number(f64),
    Ticks(i64),
    Text(String),
    Bool(bool),
}

/// The literal as a typed value; `Value::Field` takes the other cell's natural type.
fn typed_literal(value: &Value, row: &Row, scope: &Scope) -> Option<Typed> {
    Some(match value {
        Value::Int(i) => Typed::Number(*i as f64),
        Value::Real(r) => Typed::Number(*r),
        Value::String(s) => Typed::Text(s.clone()),
        Value::Bool(b) => Typed::Bool(*b),
        Value::Datetime(s) => Typed::Ticks(super::time::parse_datetime(s)?),
        Value::Timespan(t) => Typed::Ticks(*t),
        Value::Ago(t) => Typed::Ticks(scope.now.saturating_sub(*t)),
        Value::Now => Typed::Ticks(scope.now),
        Value::Field(f) => natural(&cell::lookup(row, f))?,
        Value::Null => return None,
    })
}

/// A cell's own type, for comparisons of two fields.
fn natural(cell: &Json) -> Option<Typed> {
    match cell {
        Json::Null => None,
        Json::Bool(b) => Some(Typed::Bool(*b)),
        Json::Number(n) => n.as_f64().map(Typed::Number),
        Json::String(s) => Some(cell::datetime(cell).map_or_else(|| Typed::Text(s.clone()), Typed::Ticks)),
        other => Some(Typed::Text(other.to_string())),
    }
}

/// The cell read as the same type as `like`; `None` when it is null or cannot be read so.
fn typed_cell(cell: &Json, like: &Typed, value: &Value) -> Option<Typed> {
    match like {
        // A number column against numeric text (`Score == '100'`) compares as numbers.
        Typed::Text(text) if cell.is_number() && text.trim().parse::<f64>().is_ok() => cell::number(cell).map(Typed::Number),
        Typed::Number(_) => cell::number(cell).map(Typed::Number),
        Typed::Bool(_) => cell::boolean(cell).map(Typed::Bool),
        Typed::Text(_) => Some(Typed::Text(cell::text(cell).into_owned())),
        Typed::Ticks(_) if matches!(value, Value::Timespan(_)) => cell::timespan(cell).map(Typed::Ticks),
        Typed::Ticks(_) => cell::datetime(cell).map(Typed::Ticks),
    }
}

/// Numeric text meeting a number cell is read as a number, as Kusto converts a literal to the
/// column's type.
fn numeric_text(literal: Typed, cell: &Json) -> Typed {
    match &literal {
        Typed::Text(text) if cell.is_number() => text.trim().parse().map_or(literal, Typed::Number),
        _ => literal,
    }
}

/// `==` (and, under `Not`, `!=`): a null against a value is false, as in Kusto; a missing string
/// is `""`, so it equals `""`.
fn equals(cell: &Json, value: &Value, case_sensitive: bool, row: &Row, scope: &Scope) -> Option<bool> {
    let Some(literal) = typed_literal(value, row, scope).map(|l| numeric_text(l, cell)) else {
        return if cell.is_null() { None } else { Some(false) };
    };
    let Some(cell) = typed_cell(cell, &literal, value) else { return Some(false) };
    Some(match (&cell, &literal) {
        (Typed::Text(a), Typed::Text(b)) if !case_sensitive => a.to_lowercase() == b.to_lowercase(),
        _ => cell == literal,
    })
}

/// `<`, `<=`, `>`, `>=`: null when either side is null, as in Kusto.
fn order(cell: &Json, value: &Value, row: &Row, scope: &Scope) -> Option<Ordering> {
    let literal = numeric_text(typed_literal(value, row, scope)?, cell);
    typed_cell(cell, &literal, value)?.partial_cmp(&literal)
}

/// `between (low .. high)`, inclusive; a timespan as the high bound of a datetime range counts
/// from the low bound (`between (start .. 1h)`).
fn between(cell: &Json, low: &Value, high: &Value, row: &Row, scope: &Scope) -> Option<bool> {
    let low_typed = typed_literal(low, row, scope)?;
    let high_typed = match (&low_typed, high) {
        (Typed::Ticks(start), Value::Timespan(span)) if !matches!(low, Value::Timespan(_)) => Typed::Ticks(start.saturating_add(*span)),
        _ => typed_literal(high, row, scope)?,
    };
    let cell = typed_cell(cell, &low_typed, low)?;
    Some(cell >= low_typed && cell <= high_typed)
}
