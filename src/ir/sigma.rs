//! What only Sigma knows of a rule: its logic (the file's text and the parsed document) and
//! the metadata the neutral layer has no home for, kept as written.

use super::detection::LogSource;
use super::query::Locator;
use super::rule::Extensions;
use crate::sigma::{Document, Filter};

/// A Sigma rule's logic. `text` is its file's text (all documents: a correlation reads the
/// rules it names from the same file), so every span of `document` and of the lowered
/// Detection is a byte offset into it, placed in the file by `locator` as query spans are.
#[derive(Clone, Debug, PartialEq)]
pub struct SigmaLogic {
    pub text: String,
    pub locator: Locator,
    pub document: Document,
    /// The detection rules a correlation names, found in the same file, in its order.
    pub correlated: Vec<Document>,
    /// Filter documents of the file that name this rule.
    pub filters: Vec<Filter>,
}

/// Sigma metadata the neutral `Rule` does not model.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SigmaSection {
    pub logsource: LogSource,
    /// `fields`: what a match should show.
    pub fields: Vec<String>,
    /// `related`: (type, id) pairs.
    pub related: Vec<(String, String)>,
    pub name: Option<String>,
    /// Top-level keys ruleconv does not model, in order.
    pub extensions: Extensions,
}
