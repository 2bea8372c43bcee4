//! `check`: everything wrong with a rule, each problem pinned to a line and column of its file.
//!
//! Reader diagnostics cover the metadata; this adds the query's syntax errors, mapped from
//! offsets in the query text to the rule file through the query's locator.

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
