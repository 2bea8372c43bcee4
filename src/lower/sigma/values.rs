//! One field test (`field|modifiers: values`) → predicates.
//!
//! Plain values compare case-insensitively (Sigma's default; `cased` makes them sensitive).
//! Wildcards keep their meaning: `*x`, `x*`, `*x*` become `EndsWith`/`StartsWith`/`Contains`,
//! other shapes an anchored regex with the text escaped. `re` values keep their flags inline
//! and are case-sensitive unless `i`. Encodings (`base64`, `wide`, `windash`...) expand the
//! values first, in modifier order, as pySigma does. Values with different operators become
//! one `Match` per operator, joined by `Or` (`And` under `all`).

use super::Lowering;
use crate::ir::detection::{Field, KeywordSearch, Match, MatchOp, Predicate, Quantifier, Value};
use crate::sigma::{FieldTest, MAX_VARIANTS, Modifier, Pattern, Piece, Scalar, SigmaValue, Unexpanded, expand};

impl Lowering {
    pub(super) fn field_test(&mut self, test: &FieldTest) -> Predicate {
        let Some(name) = &test.field else {
            let reason = "a keyword search matches its values anywhere in the event; the Detection tests named fields only";
            self.unmodelled("keywords", reason, test.span);
            if test.modifiers.is_empty() {
                let values = test.values.iter().map(|v| written_value(&v.value)).collect();
                self.detection.keywords.push(KeywordSearch { values, span: test.span });
            }
            return Predicate::Opaque { text: format!("keywords {}", written(&test.values)), span: test.span };
        };
        let has = |m: Modifier| test.modifiers.contains(&m);
        if has(Modifier::Expand) {
            self.unmodelled("expand", "`%placeholder%` values are filled in by a pipeline the rule does not carry", test.span);
            return Predicate::Opaque { text: format!("{}|expand {}", name, written(&test.values)), span: test.span };
        }
        let field = Field::column(name.as_str());
        let all = has(Modifier::All);
        // An expansion (`windash`, `base64offset`) makes alternatives of one value: under `all`
        // each value's alternatives stay any-of, and the values are all-of.
        let expands = test.modifiers.iter().any(|m| matches!(m, Modifier::Windash | Modifier::Base64Offset));
        let (quantifier, batches): (Quantifier, Vec<&[SigmaValue]>) = if all && expands {
            (Quantifier::Any, test.values.chunks(1).collect())
        } else {
            (if all { Quantifier::All } else { Quantifier::Any }, vec![test.values.as_slice()])
        };
        let parts = batches.into_iter().map(|values| self.batch(name, &field, test, values, quantifier)).collect();
        combine(parts, if all { Quantifier::All } else { Quantifier::Any })
    }

    /// Values tested together: one `Match` per operator, plus the values that make other tests.
    fn batch(&mut self, name: &str, field: &Field, test: &FieldTest, values: &[SigmaValue], quantifier: Quantifier) -> Predicate {
        let mut groups: Vec<Match> = Vec::new();
        let mut singles: Vec<Predicate> = Vec::new();
        for value in values {
            match self.tests_of(test, value) {
                Ok(tests) => {
                    for (op, value, case_sensitive) in tests {
                        match groups.iter_mut().find(|m| m.op == op && m.case_sensitive == case_sensitive) {
                            Some(group) => group.values.push(value),
                            None => groups.push(Match {
                                field: field.clone(),
                                op,
                                values: vec![value],
                                quantifier,
                                case_sensitive,
                                span: test.span,
                            }),
                        }
                    }
                }
                Err(Special::Null) => singles.push(is_null(field, test)),
                Err(Special::Exists(exists)) => {
                    let test = is_null(field, test);
                    singles.push(if exists { Predicate::Not(Box::new(test)) } else { test });
                }
                Err(Special::Unmodelled(reason)) => {
                    self.unmodelled(&format!("{name} value"), &reason, value.span);
                    singles.push(Predicate::Opaque { text: format!("{name}: {}", written(std::slice::from_ref(value))), span: value.span });
                }
            }
        }
        let mut parts: Vec<Predicate> = groups.into_iter().map(Predicate::Match).collect();
        parts.extend(singles);
        combine(parts, quantifier)
    }

    /// The (operator, value, case-sensitive) tests one written value makes.
    fn tests_of(&self, test: &FieldTest, value: &SigmaValue) -> Result<Vec<(MatchOp, Value, bool)>, Special> {
        let has = |m: Modifier| test.modifiers.contains(&m);
        let cased = has(Modifier::Cased);
        if has(Modifier::Exists) {
            return Err(Special::Exists(matches!(value.value, Scalar::Bool(true))));
        }
        let text = match &value.value {
            Scalar::Null => return Err(Special::Null),
            Scalar::Str(s) => s.clone(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::Bool(b) => b.to_string(),
        };
        if has(Modifier::Re) {
            let flags: String = test.modifiers.iter().filter_map(|m| if let Modifier::ReFlag(c) = m { Some(*c) } else { None }).collect();
            let pattern = if flags.is_empty() { text } else { format!("(?{flags}){text}") };
            return Ok(vec![(MatchOp::Regex, Value::String(pattern), true)]);
        }
        if has(Modifier::Cidr) {
            return Ok(vec![(MatchOp::Cidr, Value::String(text), false)]);
        }
        let compare =
            [(Modifier::Gt, MatchOp::Gt), (Modifier::Gte, MatchOp::Ge), (Modifier::Lt, MatchOp::Lt), (Modifier::Lte, MatchOp::Le)];
        if let Some((_, op)) = compare.iter().find(|(m, _)| has(*m)) {
            return match &value.value {
                Scalar::Int(i) => Ok(vec![(*op, Value::Int(*i), false)]),
                Scalar::Float(f) => Ok(vec![(*op, Value::Real(*f), false)]),
                _ => Err(Special::Unmodelled(format!("`{text}` is not a number to compare with"))),
            };
        }
        let shape = shape_of(test);
        if has(Modifier::FieldRef) {
            let op = match shape {
                (false, false) => MatchOp::Equals,
                (true, false) => MatchOp::EndsWith,
                (false, true) => MatchOp::StartsWith,
                (true, true) => MatchOp::Contains,
            };
            return Ok(vec![(op, Value::Field(Field::column(text)), cased)]);
        }
        let encodes = test.modifiers.iter().any(|m| m.is_encoding() || *m == Modifier::Windash);
        if !encodes && shape == (false, false) {
            // Typed YAML values compare as their type (`EventID: 4688`).
            match value.value {
                Scalar::Int(i) => return Ok(vec![(MatchOp::Equals, Value::Int(i), false)]),
                Scalar::Bool(b) => return Ok(vec![(MatchOp::Equals, Value::Bool(b), false)]),
                _ => {}
            }
        }
        let written = Pattern::of_scalar(&value.value).ok_or(Special::Null)?;
        // The reader refused a field test whose values expand past `MAX_VARIANTS`.
        let patterns = expand(&written, &test.modifiers, MAX_VARIANTS).map_err(|e| match e {
            Unexpanded::Refused(reason) => Special::Unmodelled(reason),
            Unexpanded::TooMany(count) => Special::Unmodelled(format!("the modifiers make {count} variants of the value")),
        })?;
        Ok(patterns.into_iter().map(|p| wildcard_test(shaped(p, shape), cased)).collect())
    }
}

/// Why a value makes no plain test.
enum Special {
    Null,
    Exists(bool),
    Unmodelled(String),
}

/// (wildcard before, wildcard after) that `contains`/`startswith`/`endswith` add.
fn shape_of(test: &FieldTest) -> (bool, bool) {
    let has = |m: Modifier| test.modifiers.contains(&m);
    (has(Modifier::Contains) || has(Modifier::EndsWith), has(Modifier::Contains) || has(Modifier::StartsWith))
}

fn shaped(mut pattern: Pattern, (before, after): (bool, bool)) -> Pattern {
    if before {
        pattern.0.insert(0, Piece::Any);
    }
    if after {
        pattern.0.push(Piece::Any);
    }
    pattern
}

/// The operator that says what a wildcard pattern says: text between optional leading and
/// trailing `*` is a substring test; any other shape is an anchored regex.
fn wildcard_test(mut pattern: Pattern, cased: bool) -> (MatchOp, Value, bool) {
    // `**` says what `*` says.
    pattern.0.dedup_by(|a, b| *a == Piece::Any && *b == Piece::Any);
    let pieces = &pattern.0;
    let lead = pieces.iter().take_while(|p| **p == Piece::Any).count();
    let trail = pieces[lead..].iter().rev().take_while(|p| **p == Piece::Any).count();
    let middle = &pieces[lead..pieces.len() - trail];
    let text: Option<String> = middle.iter().map(Piece::text).collect();
    match text {
        Some(text) if !text.is_empty() || (lead == 0 && trail == 0) => {
            let op = match (lead > 0, trail > 0) {
                (false, false) => MatchOp::Equals,
                (true, false) => MatchOp::EndsWith,
                (false, true) => MatchOp::StartsWith,
                (true, true) => MatchOp::Contains,
            };
            (op, Value::String(text), cased)
        }
        _ => {
            let body: String = pieces
                .iter()
                .map(|p| match p {
                    Piece::Any => ".*".to_string(),
                    Piece::One => ".".to_string(),
                    other => regex::escape(&other.text().unwrap_or_default()),
                })
                .collect();
            // `(?s)`: Sigma wildcards match newlines too.
            (MatchOp::Regex, Value::String(format!("(?s)^{body}$")), cased)
        }
    }
}

fn is_null(field: &Field, test: &FieldTest) -> Predicate {
    Predicate::Match(Match {
        field: field.clone(),
        op: MatchOp::IsNull,
        values: Vec::new(),
        quantifier: Quantifier::Any,
        case_sensitive: false,
        span: test.span,
    })
}

/// One part as itself; several as all-of or any-of.
fn combine(parts: Vec<Predicate>, quantifier: Quantifier) -> Predicate {
    super::joined(quantifier == Quantifier::All, parts)
}

/// Values as written, for an `Opaque` text.
fn written(values: &[SigmaValue]) -> String {
    let items: Vec<String> = values
        .iter()
        .map(|v| match &v.value {
            Scalar::Null => "null".to_string(),
            Scalar::Bool(b) => b.to_string(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::Str(s) => format!("'{s}'"),
        })
        .collect();
    items.join(", ")
}

/// A value as written: text keeps its wildcards and escapes, which Sigma reads again.
fn written_value(value: &Scalar) -> Value {
    match value {
        Scalar::Null => Value::Null,
        Scalar::Bool(b) => Value::Bool(*b),
        Scalar::Int(i) => Value::Int(*i),
        Scalar::Float(f) => Value::Real(*f),
        Scalar::Str(s) => Value::String(s.clone()),
    }
}
