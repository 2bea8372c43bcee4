//! Sigma, the language: a rule file's documents parsed into what they say, every part with the
//! byte span it was written at in the file's text (as `kql` does for queries), so that lowering
//! and errors point into the file.
//!
//! ```text
//!  file text ─yaml::parse_documents─▶ nodes with positions ─document─▶ Document
//!    (rule: logsource + detection │ correlation │ filter)
//!  detection: selections (maps, lists of maps, keyword lists; `field|mod|mod: values`)
//!             + condition (`condition` parser)
//! ```
//!
//! Written on our own YAML reader rather than on rsigma-parser (see docs/reference.md, *Sigma input*): rsigma parses every
//! SigmaHQ rule, but keeps no positions and no selection order. What a value means under its
//! modifiers (wildcards, encodings) is in `pattern`; what a document means as a `Detection` is
//! `lower::sigma`'s job.

mod condition;
mod document;
mod modifiers;
mod pattern;

pub use condition::{Condition, OfTarget};
pub use document::{
    Aliases, Correlation, CorrelationKind, Document, DocumentKind, Filter, Parsed, Threshold, logsource, parse_file, read_documents,
    scalar_text,
};
pub use modifiers::Modifier;
pub use pattern::{MAX_VARIANTS, Pattern, Piece, Unexpanded, expand};

use crate::ir::LogSource;
use crate::kql::Span;

/// A Sigma error: the span it is about and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigmaError {
    pub span: Span,
    pub message: String,
}

impl SigmaError {
    fn new(span: Span, message: impl Into<String>) -> Self {
        SigmaError { span, message: message.into() }
    }
}

/// A rule's `detection`: its named searches in document order, and its conditions.
#[derive(Clone, Debug, PartialEq)]
pub struct DetectionSection {
    pub searches: Vec<Search>,
    /// Several conditions (a list) mean any of them.
    pub conditions: Vec<Condition>,
    /// Sigma v1's `timeframe`, as written.
    pub timeframe: Option<(String, Span)>,
    pub span: Span,
}

/// A named search identifier (`selection: ...`).
#[derive(Clone, Debug, PartialEq)]
pub struct Search {
    pub name: String,
    pub body: SearchBody,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SearchBody {
    /// A map: every field test holds.
    All(Vec<FieldTest>),
    /// A list of maps (or of keywords mixed with maps): any of them holds.
    Any(Vec<SearchBody>),
    /// Keywords: values searched for in the whole event, with the modifiers of a `'|all'` key.
    Keywords(FieldTest),
}

/// `field|modifier|...: value or list of values`; keywords have no field.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldTest {
    pub field: Option<String>,
    pub modifiers: Vec<Modifier>,
    pub values: Vec<SigmaValue>,
    pub span: Span,
}

/// One value as written, typed by YAML.
#[derive(Clone, Debug, PartialEq)]
pub struct SigmaValue {
    pub value: Scalar,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

/// The rule-level facts a lowering needs besides the detection.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleLogic {
    pub logsource: LogSource,
    pub detection: DetectionSection,
    /// `fields:`, the fields a match should show.
    pub fields: Vec<(String, Span)>,
}
