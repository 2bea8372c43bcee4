//! Predicates → KQL conditions, over the columns of one table.
//!
//! Operators keep Sigma's meaning: case-insensitive equality is `=~`/`in~`, substrings are
//! `contains`/`startswith`/`endswith` (never `has`, whose term rules differ), `_cs` forms and
//! `==`/`in` when a value is cased. A case-insensitive regex gets `(?i)`. Sigma's `null` and
//! `exists` are `isempty`/`isnotempty`: Kusto keeps an absent string as `""`, so `isnull`
//! would never hold for a string column; that an empty value matches too is a loss (see
//! `null_test_losses`).
//!
//! The text is written plainly (names in `["..."]`, strings escaped) and normalized by the
//! caller through the KQL printer.

use super::profile::Profile;
use crate::ir::detection::{Field, Match, MatchOp, Predicate, Quantifier, Value};

/// Writes conditions on the columns of `table` as `profile` names them.
pub struct Columns<'a> {
    pub profile: &'a Profile,
    pub table: &'a str,
}

/// Why a predicate has no KQL form, and where.
pub struct Untranslatable {
    pub at: usize,
    pub reason: String,
}

impl Columns<'_> {
    pub fn predicate(&self, predicate: &Predicate) -> Result<String, Untranslatable> {
        Ok(match predicate {
            Predicate::And(parts) => self.joined(parts, " and ", "true")?,
            Predicate::Or(parts) => self.joined(parts, " or ", "false")?,
            Predicate::Not(inner) => format!("not({})", self.predicate(inner)?),
            Predicate::Match(m) => self.test(m)?,
            Predicate::Opaque { text, span } => {
                return Err(Untranslatable { at: span.start, reason: format!("`{text}` has no KQL translation") });
            }
        })
    }

    fn joined(&self, parts: &[Predicate], separator: &str, empty: &str) -> Result<String, Untranslatable> {
        if parts.is_empty() {
            return Ok(empty.to_string());
        }
        let texts: Result<Vec<String>, _> = parts.iter().map(|p| self.predicate(p)).collect();
        Ok(format!("({})", texts?.join(separator)))
    }

    /// The field's column (or a path inside a dynamic column) by the profile's name for it;
    /// the first where it stands for several.
    pub fn column(&self, field: &Field) -> String {
        self.columns(field).swap_remove(0)
    }

    /// The field's column when it is a whole column, not a path into a dynamic one (what a
    /// join key must be); the first where it stands for several.
    pub fn whole_column(&self, field: &Field) -> Option<String> {
        let mapped = self.profile.columns(self.table, &field.name)[0];
        (field.path.is_empty() && (mapped == field.name || !mapped.contains('.'))).then(|| name(mapped))
    }

    fn columns(&self, field: &Field) -> Vec<String> {
        let mapped = self.profile.columns(self.table, &field.name);
        mapped
            .into_iter()
            .map(|mapped| {
                // A mapped dotted path reads into a dynamic column; an unmapped Sigma name stays one name.
                let mut out = if mapped == field.name {
                    name(mapped)
                } else {
                    let mut steps = mapped.split('.');
                    let mut out = name(steps.next().unwrap_or(mapped));
                    steps.for_each(|step| out.push_str(&format!("[{}]", string(step))));
                    out
                };
                for step in &field.path {
                    let index = step.starts_with('[');
                    out.push_str(&if index { step.clone() } else { format!("[{}]", string(step)) });
                }
                out
            })
            .collect()
    }

    /// A test on each of the field's columns; any may hold.
    fn test(&self, m: &Match) -> Result<String, Untranslatable> {
        let tests: Vec<String> = self.columns(&m.field).iter().map(|c| self.test_on(c, m)).collect::<Result<_, _>>()?;
        Ok(group(tests, Quantifier::Any))
    }

    fn test_on(&self, column: &str, m: &Match) -> Result<String, Untranslatable> {
        let cs = m.case_sensitive;
        let untranslatable = |reason: String| Untranslatable { at: m.span.start, reason };
        // Numbers among texts are compared as text: the column is a string (`0` or `"DWORD (0)"`).
        let texts = m.values.iter().any(|v| matches!(v, Value::String(_)));
        let value = |v: &Value| match v {
            Value::Int(i) if texts => Ok(string(&i.to_string())),
            other => self.value(other),
        };
        let values: Vec<String> = m.values.iter().map(value).collect::<Result<_, _>>().map_err(untranslatable)?;
        let each = |write: &dyn Fn(&str) -> String| -> String {
            let tests: Vec<String> = values.iter().map(|v| write(v)).collect();
            let separator = if m.quantifier == Quantifier::All { " and " } else { " or " };
            if tests.len() == 1 { tests[0].clone() } else { format!("({})", tests.join(separator)) }
        };
        let suffix = if cs { "_cs" } else { "" };
        Ok(match m.op {
            MatchOp::Equals if values.len() > 1 && m.quantifier == Quantifier::Any => {
                let op = if texts && !cs { "in~" } else { "in" };
                format!("{column} {op} ({})", values.join(", "))
            }
            MatchOp::Equals => {
                let insensitive = !cs && (texts || m.values.iter().all(|v| matches!(v, Value::Field(_))));
                each(&|v| format!("{column} {} {v}", if insensitive { "=~" } else { "==" }))
            }
            MatchOp::Contains => each(&|v| format!("{column} contains{suffix} {v}")),
            MatchOp::StartsWith => each(&|v| format!("{column} startswith{suffix} {v}")),
            MatchOp::EndsWith => each(&|v| format!("{column} endswith{suffix} {v}")),
            MatchOp::Has => each(&|v| format!("{column} has{suffix} {v}")),
            MatchOp::HasPrefix => each(&|v| format!("{column} hasprefix{suffix} {v}")),
            MatchOp::HasSuffix => each(&|v| format!("{column} hassuffix{suffix} {v}")),
            MatchOp::Regex => {
                let patterns: Vec<String> = m.values.iter().map(|v| regex(v, cs)).collect::<Result<_, _>>().map_err(untranslatable)?;
                let tests: Vec<String> = patterns.iter().map(|p| format!("{column} matches regex {p}")).collect();
                group(tests, m.quantifier)
            }
            MatchOp::Cidr => {
                let tests: Vec<String> = m
                    .values
                    .iter()
                    .map(|v| {
                        let range = text_of(v).ok_or_else(|| untranslatable("a CIDR range that is not text".into()))?;
                        let function = if range.contains(':') { "ipv6_is_in_range" } else { "ipv4_is_in_range" };
                        Ok(format!("{function}({column}, {})", string(range)))
                    })
                    .collect::<Result<_, _>>()?;
                group(tests, m.quantifier)
            }
            MatchOp::IsEmpty => format!("isempty({column})"),
            MatchOp::IsNull => format!("isempty({column})"),
            MatchOp::Lt => each(&|v| format!("{column} < {v}")),
            MatchOp::Le => each(&|v| format!("{column} <= {v}")),
            MatchOp::Gt => each(&|v| format!("{column} > {v}")),
            MatchOp::Ge => each(&|v| format!("{column} >= {v}")),
            MatchOp::Between => match values.as_slice() {
                [low, high] => format!("{column} between ({low} .. {high})"),
                _ => return Err(untranslatable("a range without two bounds".into())),
            },
            MatchOp::Like => return Err(untranslatable("a SQL `like` pattern has no KQL operator".into())),
        })
    }

    fn value(&self, value: &Value) -> Result<String, String> {
        Ok(match value {
            Value::Null => "dynamic(null)".to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Real(r) => format!("real({r})"),
            Value::String(s) => string(s),
            Value::Datetime(d) => format!("datetime({d})"),
            Value::Field(f) => self.column(f),
            Value::Timespan(_) | Value::Ago(_) | Value::Now => return Err("a time value in a Sigma condition".into()),
        })
    }
}

fn group(tests: Vec<String>, quantifier: Quantifier) -> String {
    let separator = if quantifier == Quantifier::All { " and " } else { " or " };
    if tests.len() == 1 { tests.into_iter().next().unwrap_or_default() } else { format!("({})", tests.join(separator)) }
}

fn text_of(value: &Value) -> Option<&str> {
    if let Value::String(s) = value { Some(s) } else { None }
}

/// A regex literal; RE2 is case-sensitive unless told.
fn regex(value: &Value, case_sensitive: bool) -> Result<String, String> {
    let pattern = text_of(value).ok_or("a regex that is not text")?;
    Ok(string(&if case_sensitive { pattern.to_string() } else { format!("(?i){pattern}") }))
}

/// A KQL string literal (the printer's spelling, so text and printed query agree).
pub fn string(value: &str) -> String {
    crate::kql::quote(value)
}

/// A column name in brackets, which takes any name; the printer drops them where it can.
pub fn name(column: &str) -> String {
    format!("[{}]", string(column))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_and_names_escape_what_kql_would_read_otherwise() {
        assert_eq!(string(r#"C:\a "b" 'c'"#), r#""C:\\a \"b\" 'c'""#);
        assert_eq!(string("a\tb\nc\u{1}"), r#""a\tb\nc\u0001""#);
        assert_eq!(name("cs-method"), r#"["cs-method"]"#);
        // Read back by our KQL front end, each literal is the value again.
        for value in [r#"C:\a "b" 'c'"#, "a\tb\nc", "ünï"] {
            let detection = crate::lower::lower_query(&format!("T | where x == {}", string(value)));
            let Predicate::Match(m) = &detection.sources[0].filter else { panic!("{detection:?}") };
            assert_eq!(m.values, [Value::String(value.to_string())]);
        }
    }
}
