//! `check`: everything wrong with a rule, each problem pinned to a line and column of its file.
//!
//! Reader problems cover the metadata's form; this adds the query's syntax errors, mapped
//! from offsets in the query text to the rule file through the query's locator, and warnings
//! where the metadata breaks Sentinel's own limits, regexes the RE2 targets refuse, and across a
//! pack, rules sharing an id.

mod duplicates;
mod sentinel_rules;

pub use duplicates::duplicate_id_warnings;
pub use sentinel_rules::max_entity_mappings;

use crate::diag::{Kind, Problem};
use crate::ir::Rule;
use crate::kql;

/// The query's syntax errors as problems in the rule's file.
pub fn query_problems(rule: &Rule) -> Vec<Problem> {
    let Some(query) = rule.kql() else { return Vec::new() };
    kql::parse(&query.text)
        .errors
        .iter()
        .map(|error| Problem::in_query(Kind::Error, rule, query, error.span.start, format!("KQL: {}", error.message)))
        .collect()
}

/// A Sigma rule's regexes that only a backtracking engine runs, as warnings: Sigma keeps them
/// as written, but the targets whose engine is RE2 refuse the rule.
pub fn regex_problems(rule: &Rule) -> Vec<Problem> {
    if rule.sigma_logic().is_none() {
        return Vec::new();
    }
    let found = crate::re2::backtracking_regexes(&crate::lower::lower_rule(rule));
    let warning = |(span, what): (crate::ir::detection::Span, String)| {
        Problem::in_logic(Kind::Warning, rule, span.start, format!("{what}; RE2 targets (KQL, YARA-L) will refuse it"))
    };
    found.into_iter().map(warning).collect()
}

/// Sentinel's limits the rule's metadata breaks, as warnings at the key they are about.
pub fn metadata_problems(rule: &Rule) -> Vec<Problem> {
    sentinel_rules::warnings(rule).into_iter().map(|(key, message)| Problem::at_key(Kind::Warning, rule, key, message)).collect()
}
