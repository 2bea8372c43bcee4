//! Predicates → YARA-L event conditions on one event variable.
//!
//! - equality is `=` (with `nocase` when the KQL test ignores case); several values are an
//!   `or` group (`and` for `has_all`);
//! - substring tests are `re.regex` with the value escaped: `contains` unanchored,
//!   `startswith` `^…`, `endswith` `…$`; several values are one alternation;
//! - `has` (a whole Kusto term) is the value between `\b` word boundaries, on each side where
//!   the value's edge is a word character: Kusto terms are runs of letters and digits, so a
//!   boundary there is the term's edge, while a value edged by punctuation (`-enc`) already
//!   marks its own edge and `\b` would wrongly demand a letter next to it;
//! - `in range` tests are `net.ip_in_range_cidr`, comparisons are numeric, empty and null are
//!   both the empty string (UDM has no null: an absent field reads as empty);
//! - a file-name column (Defender's `FileName`) maps to a full path, so equality and
//!   `startswith` on it test the path's last segment (`(?:^|[\\/])cmd\.exe$`);
//! - negation is `not`.
//!
//! A test that cannot be written (a time value, an `or` holding an untranslated part) is left
//! out with a TODO and a loss: the rule then matches more, never less, than its source. The
//! look-back filter on the time column (`TimeGenerated > ago(1d)`) is the rule's run window in
//! Chronicle, so it is left out as a change, not a loss.

use super::model::{CmpOp, Expr, FieldRef, Logic, UdmPath};
use super::names::EventVar;
use super::notes::Notes;
use super::profile::Profile;
use super::text;
use crate::diag::Code;
use crate::ir::detection::{Field, Match, MatchOp, Predicate, Quantifier, Span, Value};

/// The event variable conditions are written for, and the table its events come from.
pub struct Scope<'a> {
    pub var: &'a EventVar,
    pub table: &'a str,
    pub profile: &'a Profile,
}

impl Scope<'_> {
    /// The field's UDM path on this variable (`$e.target.process.command_line`); an unmapped
    /// field is kept under `additional.fields`, where parsers put what UDM has no place for,
    /// with a TODO to check it.
    pub fn path(&self, field: &Field, span: Span, notes: &mut Notes) -> Expr {
        let key = field.to_string();
        let path = match self.profile.udm(self.table, &key) {
            Some(udm) => UdmPath::Udm(udm.to_string()),
            None => {
                notes.todo(
                    Code::UnknownField,
                    span,
                    format!("`{key}` of {} has no UDM field in the profile; check `additional.fields[\"{key}\"]`", self.table),
                );
                UdmPath::Additional(key)
            }
        };
        Expr::Field(FieldRef { var: self.var.clone(), path })
    }

    /// Whether the field holds only the file name of the UDM path it maps to.
    pub fn is_file_name(&self, field: &Field) -> bool {
        self.profile.is_file_name(self.table, &field.to_string())
    }
}

/// The condition as one YARA-L expression, or `None` when it holds for every event (or
/// nothing of it could be written, which `notes` then says).
pub fn condition(predicate: &Predicate, scope: &Scope, notes: &mut Notes) -> Option<Expr> {
    match predicate {
        Predicate::And(parts) => {
            let written: Vec<Expr> = parts.iter().filter_map(|p| condition(p, scope, notes)).collect();
            group(written, Logic::And)
        }
        Predicate::Or(parts) => {
            let mut written = Vec::new();
            for part in parts {
                match condition(part, scope, notes) {
                    Some(text) => written.push(text),
                    None => {
                        notes.todo(
                            Code::ConditionDropped,
                            first_span(predicate),
                            "an `or` group with an untranslated part is left out; the rule matches more events",
                        );
                        return None;
                    }
                }
            }
            group(written, Logic::Or)
        }
        Predicate::Not(inner) => {
            let written = condition(inner, scope, notes);
            if written.is_none() && !matches!(**inner, Predicate::Opaque { .. }) && !inner.is_always() {
                notes.todo(Code::ConditionDropped, first_span(inner), "a negated test that is not translated is left out");
            }
            written.map(|expr| Expr::Not(Box::new(expr)))
        }
        Predicate::Match(m) => test(m, scope, notes),
        // Listed with the rule's unmodelled constructs, each with its TODO.
        Predicate::Opaque { .. } => None,
    }
}

/// Parts joined, a parenthesized group when there are several.
fn group(parts: Vec<Expr>, logic: Logic) -> Option<Expr> {
    match parts.len() {
        0 => None,
        1 => parts.into_iter().next(),
        _ => Some(Expr::Group(logic, parts)),
    }
}

fn first_span(predicate: &Predicate) -> Span {
    match predicate {
        Predicate::And(parts) | Predicate::Or(parts) => parts.first().map_or(Span { start: 0, end: 0 }, first_span),
        Predicate::Not(inner) => first_span(inner),
        Predicate::Match(m) => m.span,
        Predicate::Opaque { span, .. } => *span,
    }
}

/// The time column's look-back, which Chronicle's run window replaces: a lower bound relative
/// to now, or a range up to now. An upper bound in the past (`< ago(1d)`, `between (ago(2d) ..
/// ago(1d))`) leaves out recent events, so it is a test, not the look-back.
fn is_look_back(m: &Match) -> bool {
    let time_column = m.field.path.is_empty() && matches!(m.field.name.as_str(), "TimeGenerated" | "Timestamp");
    let relative = |v: &Value| matches!(v, Value::Ago(_) | Value::Now);
    let bound = match (m.op, m.values.as_slice()) {
        (MatchOp::Gt | MatchOp::Ge, [from]) => relative(from),
        (MatchOp::Between, [from, Value::Now]) => relative(from),
        _ => false,
    };
    time_column && bound
}

fn test(m: &Match, scope: &Scope, notes: &mut Notes) -> Option<Expr> {
    if is_look_back(m) {
        notes.change(Code::LookbackLeft, m.span, format!("the look-back on `{}` is left to the rule's run window", m.field));
        return None;
    }
    let written = match m.op {
        MatchOp::Equals | MatchOp::StartsWith if scope.is_file_name(&m.field) => regex_test(m, scope, notes),
        MatchOp::Equals => each_value(m, |v| equals(m, v, scope, notes)),
        op if op.is_text_test() => regex_test(m, scope, notes),
        MatchOp::Cidr => {
            let path = scope.path(&m.field, m.span, notes);
            each_value(m, |v| string_of(v).map(|range| Expr::call("net.ip_in_range_cidr", vec![path.clone(), Expr::String(range)])))
        }
        MatchOp::IsEmpty | MatchOp::IsNull => {
            Some(Expr::compare(scope.path(&m.field, m.span, notes), CmpOp::Eq, Expr::String(String::new())))
        }
        MatchOp::Lt | MatchOp::Le | MatchOp::Gt | MatchOp::Ge => {
            let op = match m.op {
                MatchOp::Lt => CmpOp::Lt,
                MatchOp::Le => CmpOp::Le,
                MatchOp::Gt => CmpOp::Gt,
                _ => CmpOp::Ge,
            };
            let path = scope.path(&m.field, m.span, notes);
            each_value(m, |v| operand(v, scope, m.span, notes).map(|o| Expr::compare(path.clone(), op, o)))
        }
        MatchOp::Between => between(m, scope, notes),
        // A test that is neither a text test (above) nor one of these has no YARA-L form yet.
        _ => None,
    };
    if written.is_none() {
        notes.todo(Code::ConditionDropped, m.span, format!("the `{:?}` test on `{}` with these values has no YARA-L form", m.op, m.field));
    }
    written
}

/// One test per value, combined by the match's quantifier; `None` if any value cannot be written.
fn each_value(m: &Match, one: impl FnMut(&Value) -> Option<Expr>) -> Option<Expr> {
    let parts: Option<Vec<Expr>> = m.values.iter().map(one).collect();
    group(parts?, if m.quantifier == Quantifier::All { Logic::And } else { Logic::Or })
}

fn equals(m: &Match, value: &Value, scope: &Scope, notes: &mut Notes) -> Option<Expr> {
    let path = scope.path(&m.field, m.span, notes);
    let right = match value {
        Value::String(s) => return Some(Expr::compare(path, CmpOp::Eq, Expr::String(s.clone())).nocase(!m.case_sensitive)),
        Value::Null => Expr::String(String::new()),
        other => operand(other, scope, m.span, notes)?,
    };
    Some(Expr::compare(path, CmpOp::Eq, right))
}

/// A number, boolean or another field of the same event, as the right side of a comparison.
fn operand(value: &Value, scope: &Scope, span: Span, notes: &mut Notes) -> Option<Expr> {
    match value {
        Value::Int(i) => Some(Expr::Int(*i)),
        Value::Real(r) if r.is_finite() => Some(Expr::Real(*r)),
        Value::Bool(b) => Some(Expr::Bool(*b)),
        Value::Field(f) => Some(scope.path(f, span, notes)),
        _ => None,
    }
}

fn string_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Real(r) if r.is_finite() => Some(r.to_string()),
        _ => None,
    }
}

fn between(m: &Match, scope: &Scope, notes: &mut Notes) -> Option<Expr> {
    let [low, high] = m.values.as_slice() else { return None };
    let path = scope.path(&m.field, m.span, notes);
    let (low, high) = (operand(low, scope, m.span, notes)?, operand(high, scope, m.span, notes)?);
    Some(Expr::Group(Logic::And, vec![Expr::compare(path.clone(), CmpOp::Ge, low), Expr::compare(path, CmpOp::Le, high)]))
}

/// Substring, term, pattern and `like` tests as `re.regex`; several values of an `any` test
/// are one alternation.
fn regex_test(m: &Match, scope: &Scope, notes: &mut Notes) -> Option<Expr> {
    let file_name = scope.is_file_name(&m.field);
    let patterns: Option<Vec<String>> = m.values.iter().map(|v| string_of(v).map(|s| pattern(m.op, &s, file_name))).collect();
    let patterns = patterns?;
    let path = scope.path(&m.field, m.span, notes);
    let call = |pattern: String| Expr::call("re.regex", vec![path.clone(), Expr::Regex(pattern)]).nocase(!m.case_sensitive);
    match (patterns.len(), m.quantifier) {
        (0, _) => None,
        (1, _) => patterns.into_iter().next().map(call),
        (_, Quantifier::All) => group(patterns.into_iter().map(call).collect(), Logic::And),
        (_, Quantifier::Any) => Some(call(format!("(?:{})", patterns.join("|")))),
    }
}

/// The RE2 pattern of one value under a text operator. For a file-name column mapped to a
/// full path, equality and `startswith` test the path's last segment.
fn pattern(op: MatchOp, value: &str, file_name: bool) -> String {
    let literal = text::regex_literal(value);
    const SEGMENT_START: &str = r"(?:^|[\\/])";
    match op {
        MatchOp::Equals if file_name => return format!("{SEGMENT_START}{literal}$"),
        MatchOp::StartsWith if file_name => return format!(r"{SEGMENT_START}{literal}[^\\/]*$"),
        _ => {}
    }
    let word_edge = |c: Option<char>| if c.is_some_and(|c| c.is_alphanumeric() || c == '_') { r"\b" } else { "" };
    let (starts, ends) = (word_edge(value.chars().next()), word_edge(value.chars().last()));
    match op {
        MatchOp::StartsWith => format!("^{literal}"),
        MatchOp::EndsWith => format!("{literal}$"),
        MatchOp::Has => format!("{starts}{literal}{ends}"),
        MatchOp::HasPrefix => format!("{starts}{literal}"),
        MatchOp::HasSuffix => format!("{literal}{ends}"),
        MatchOp::Regex => value.to_string(),
        MatchOp::Like => like(value),
        _ => literal,
    }
}

/// SQL `like` (`%` any run, `_` one character) as an anchored RE2 pattern.
fn like(value: &str) -> String {
    let body: String = value
        .chars()
        .map(|c| match c {
            '%' => ".*".to_string(),
            '_' => ".".to_string(),
            c => text::regex_literal(&c.to_string()),
        })
        .collect();
    format!("^{body}$")
}
