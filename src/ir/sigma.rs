//! What only Sigma knows of a rule: its logic (the file's text and what it detects) and
//! the metadata the neutral layer has no home for, kept as written.

use super::detection::{Detection, LogSource};
use super::query::Locator;
use super::rule::Extensions;
use std::sync::Arc;

/// A Sigma rule's logic. `text` is its file's text (all documents: a correlation reads the
/// rules it names from the same file), so every span of the Detection is a byte offset into
/// it, placed in the file by `locator` as query spans are. The reader lowers the documents it
/// parsed as it reads them (`lower::lower_sigma`), so Sigma's syntax never leaves it: the rule
/// carries what it detects, which the job hands on as it is.
#[derive(Clone, Debug, PartialEq)]
pub struct SigmaLogic {
    pub text: String,
    pub locator: Locator,
    pub detection: Arc<Detection>,
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
