//! `check`: everything wrong with a rule, each problem pinned to a line and column of its file.
//!
//! Reader problems cover the metadata's form; this adds the query's syntax errors, mapped
//! from offsets in the query text to the rule file through the query's locator, and warnings
//! where the metadata breaks Sentinel's own limits, regexes the RE2 targets refuse, and across a
//! pack, rules sharing an id.

mod duplicates;
mod schema;
mod sentinel_rules;
mod sigma;
mod types;

pub use duplicates::{collection_problems, duplicate_id_warnings};
pub use sentinel_rules::{max_entity_mappings, max_query_interval};
pub use sigma::rule_problems as sigma_problems;

use crate::diag::{Code, Kind, Problem};
use crate::ir::{Detection, Rule};

/// The query's syntax errors as problems in the rule's file.
pub fn query_problems(rule: &Rule) -> Vec<Problem> {
    let Some(query) = rule.kql() else { return Vec::new() };
    query
        .parsed()
        .errors
        .iter()
        .map(|error| Problem::in_query(Kind::Error, Code::KqlSyntax, rule, query, error.span.start, format!("KQL: {}", error.message)))
        .collect()
}

/// Columns the query reads that its table, known to the schema data, does not have, and
/// comparisons a column's type refuses: warnings (Microsoft's analyzer refuses them when the
/// rule is created, but the schema data is a floor for a table that gained columns since, or a
/// team's own).
pub fn schema_problems(rule: &Rule) -> Vec<Problem> {
    let Some(query) = rule.kql() else { return Vec::new() };
    let found = schema::findings(&query.parsed().ast);
    let unknown = found.unknown_columns.into_iter().map(|c| {
        let message =
            format!("`{}` is no column of `{}` (targets/kql-schemas.tsv): Sentinel's analyzer refuses the query", c.column, c.table);
        Problem::in_query(Kind::Warning, Code::UnknownColumn, rule, query, c.span.start, message)
    });
    let mistyped =
        found.mistyped.into_iter().map(|m| Problem::in_query(Kind::Warning, Code::ColumnType, rule, query, m.span.start, m.message));
    unknown.chain(mistyped).collect()
}

/// A Sigma rule's regexes that an automaton engine refuses: one that only a backtracking
/// engine runs is a warning (Sigma keeps it as written, but the targets whose engine is RE2
/// refuse the rule); one that is no regular expression at all is an error.
pub fn regex_problems(rule: &Rule, detection: &Detection) -> Vec<Problem> {
    if rule.sigma_logic().is_none() {
        return Vec::new();
    }
    let found = crate::re2::refused_regexes(detection);
    let problem = |r: crate::re2::RefusedRegex| match r.invalid {
        true => Problem::in_logic(Kind::Error, Code::Re2Refused, rule, r.span.start, format!("{}; no regex engine runs it", r.what)),
        false => Problem::in_logic(
            Kind::Warning,
            Code::Re2Refused,
            rule,
            r.span.start,
            format!("{}; RE2 targets (KQL, YARA-L) will refuse it", r.what),
        ),
    };
    found.into_iter().map(problem).collect()
}

/// Sentinel's limits the rule's metadata breaks, as warnings at the key they are about.
pub fn metadata_problems(rule: &Rule) -> Vec<Problem> {
    sentinel_rules::warnings(rule)
        .into_iter()
        .map(|(key, code, message)| Problem::at_key(Kind::Warning, code, rule, key, message))
        .collect()
}
