//! `check`: everything wrong with a rule, each problem pinned to a line and column of its file.
//!
//! Reader diagnostics cover the metadata's form; this adds the query's syntax errors, mapped
//! from offsets in the query text to the rule file through the query's locator, and warnings
//! where the metadata breaks Sentinel's own limits.

mod sentinel_rules;

use crate::diag::Diagnostic;
use crate::ir::Rule;
use crate::kql;

/// The query's syntax errors as diagnostics in the rule's file.
pub fn query_diagnostics(rule: &Rule) -> Vec<Diagnostic> {
    let Some(query) = &rule.query else { return Vec::new() };
    let parsed = kql::parse(&query.text);
    parsed
        .errors
        .iter()
        .map(|error| {
            let position = query.locator.position(&query.text, error.span.start);
            Diagnostic::error(&rule.origin.file, position, format!("KQL: {}", error.message)).for_rule(rule.label())
        })
        .collect()
}

/// Sentinel's limits the rule's metadata breaks, as warnings at the rule's position.
pub fn metadata_diagnostics(rule: &Rule) -> Vec<Diagnostic> {
    sentinel_rules::warnings(rule)
        .into_iter()
        .map(|message| Diagnostic::warning(&rule.origin.file, rule.origin.position, message).for_rule(rule.label()))
        .collect()
}
