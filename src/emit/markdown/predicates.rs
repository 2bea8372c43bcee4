//! The card's predicate tables, read from the Detection: **exclusions** (top-level negated
//! conditions: what the rule actively suppresses) and **indicators** (the field tests it looks
//! for). Every condition of the rule counts: source filters, later filters, thresholds. Tests
//! of computed columns come from `Detection::computed_tests`; time windows relative to the run
//! (`> ago(1d)`, `< now()`) are the look-back, not indicators, and are left to the stages.

use crate::explain::value_words;
use crate::ir::detection::{Detection, Match, MatchOp, Predicate, Quantifier, Value};

/// One table row: a field, the kind of test, its values.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Row {
    pub field: String,
    pub kind: String,
    pub values: String,
    /// Each value on its own, as `values` words it: what `ruleconv report` counts reuse of.
    pub each_value: Vec<String>,
}

/// Exclusions and indicators, each sorted and without repeats.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tables {
    pub exclusions: Vec<Row>,
    pub indicators: Vec<Row>,
}

pub fn tables(detection: &Detection) -> Tables {
    let mut tables = Tables::default();
    for root in detection.predicates() {
        let conjuncts = match root {
            Predicate::And(parts) => parts.iter().collect(),
            other => vec![other],
        };
        for conjunct in conjuncts {
            match resolve(conjunct, detection) {
                Predicate::Not(inner) if is_exclusion(inner, detection) => excluded(inner, detection, &mut tables.exclusions),
                other => indicators(other, false, detection, &mut tables.indicators),
            }
        }
    }
    for rows in [&mut tables.exclusions, &mut tables.indicators] {
        rows.sort();
        rows.dedup();
    }
    tables
}

/// An `Opaque` condition as the test it reads over a computed column, when there is one.
fn resolve<'d>(predicate: &'d Predicate, detection: &'d Detection) -> &'d Predicate {
    predicate.computed_test(detection).unwrap_or(predicate)
}

/// A negated value test (or a negated "any of" such tests) excludes; `isnotempty(x)` does not:
/// it asks for a value, so it is an indicator.
fn is_exclusion(inner: &Predicate, detection: &Detection) -> bool {
    match resolve(inner, detection) {
        Predicate::Match(m) => !matches!(m.op, MatchOp::IsEmpty | MatchOp::IsNull),
        Predicate::Or(parts) => !parts.is_empty() && parts.iter().all(|p| is_exclusion(p, detection)),
        _ => false,
    }
}

/// `not (a or b)` excludes a and b.
fn excluded(inner: &Predicate, detection: &Detection, rows: &mut Vec<Row>) {
    match resolve(inner, detection) {
        Predicate::Match(m) => rows.push(row(m, kind(m.op))),
        Predicate::Or(parts) => parts.iter().for_each(|p| excluded(p, detection, rows)),
        _ => {}
    }
}

/// The field tests of a tree; under a negation each kind reads `not_...` (emptiness reads
/// `is_not_empty`, `is_not_null`).
fn indicators(predicate: &Predicate, negated: bool, detection: &Detection, rows: &mut Vec<Row>) {
    match resolve(predicate, detection) {
        Predicate::And(parts) | Predicate::Or(parts) => parts.iter().for_each(|p| indicators(p, negated, detection, rows)),
        Predicate::Not(inner) => indicators(inner, !negated, detection, rows),
        Predicate::Match(m) if is_time_window(m) => {}
        Predicate::Match(m) => {
            let kind = match (negated, m.op) {
                (false, op) => kind(op).to_string(),
                (true, MatchOp::IsEmpty) => "is_not_empty".to_string(),
                (true, MatchOp::IsNull) => "is_not_null".to_string(),
                (true, op) => format!("not_{}", kind(op)),
            };
            rows.push(row(m, &kind));
        }
        Predicate::Opaque { .. } => {}
    }
}

/// A comparison with the evaluation time only (`ago(1d)`, `now()`): the rule's look-back.
fn is_time_window(m: &Match) -> bool {
    !m.values.is_empty() && m.values.iter().all(|v| matches!(v, Value::Ago(_) | Value::Now))
}

fn row(m: &Match, kind: &str) -> Row {
    let values: Vec<String> = m.values.iter().map(value_words).collect();
    let all = if m.quantifier == Quantifier::All && values.len() > 1 { "all of " } else { "" };
    Row { field: m.field.to_string(), kind: kind.to_string(), values: format!("{all}{}", values.join(", ")), each_value: values }
}

/// The short name of a test, as the card's tables show it.
fn kind(op: MatchOp) -> &'static str {
    match op {
        MatchOp::Equals => "eq",
        MatchOp::Contains => "contains",
        MatchOp::StartsWith => "starts_with",
        MatchOp::EndsWith => "ends_with",
        MatchOp::Has => "has",
        MatchOp::HasPrefix => "has_prefix",
        MatchOp::HasSuffix => "has_suffix",
        MatchOp::Regex => "regex",
        MatchOp::Like => "like",
        MatchOp::Cidr => "cidr_match",
        MatchOp::IsEmpty => "is_empty",
        MatchOp::IsNull => "is_null",
        MatchOp::Lt => "lt",
        MatchOp::Le => "le",
        MatchOp::Gt => "gt",
        MatchOp::Ge => "ge",
        MatchOp::Between => "between",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(query: &str) -> Tables {
        tables(&crate::lower::lower_query(query))
    }

    /// A row of values without commas of their own.
    fn row(field: &str, kind: &str, values: &str) -> Row {
        let each_value = values.split(", ").filter(|v| !v.is_empty()).map(str::to_string).collect();
        Row { field: field.into(), kind: kind.into(), values: values.into(), each_value }
    }

    #[test]
    fn negated_top_level_tests_are_exclusions_and_the_rest_indicators() {
        let t = rows(
            "T | where TimeGenerated > ago(1d) and A has 'x' and not(B in ('p', 'q') or C endswith '.exe') and (D != 1 or isnotempty(E))",
        );
        assert_eq!(t.exclusions, vec![row("B", "eq", "'p', 'q'"), row("C", "ends_with", "'.exe'")]);
        assert_eq!(t.indicators, vec![row("A", "has", "'x'"), row("D", "not_eq", "1"), row("E", "is_not_empty", "")]);
    }

    #[test]
    fn tests_of_computed_columns_are_read_through_the_detection() {
        let t = rows(
            "T | extend ip = iff(isempty(A), B, A) | where ipv4_is_private(ip) == false and ip !startswith 'fe80' and ip == '1.2.3.4'",
        );
        assert_eq!(
            t.exclusions,
            vec![row("ip", "cidr_match", "'10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'"), row("ip", "starts_with", "'fe80'")]
        );
        assert_eq!(t.indicators, vec![row("ip", "eq", "'1.2.3.4'")]);
    }
}
