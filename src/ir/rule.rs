//! `Rule`: a detection rule in two layers. What every format knows has one neutral home (id,
//! title, description, severity, ATT&CK tactics and techniques, references, authors, dates,
//! status, false positives, tags); what only one format knows lives in that format's typed
//! section (`sentinel`), which also keeps the keys the IR does not model, so that
//! YAML → IR → ARM → IR → YAML loses nothing.
//!
//! Facts a format keeps in free-form places (Sentinel's `metadata.author.name`, string `tags`)
//! are lifted into the neutral layer with their origin, and stay in the section as written:
//! emitters of that format write the section, so nothing changes on a round trip.

use super::Position;
use super::attack::{AttackRef, Tactic, Technique};
use super::query::{Logic, Query};
use super::sentinel::SentinelSection;
use super::sigma::{SigmaLogic, SigmaSection};
use indexmap::IndexMap;
use std::path::PathBuf;

/// Unmodelled keys and their values, in source order.
pub type Extensions = IndexMap<String, serde_json::Value>;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Rule {
    /// Where the rule was read from; not part of the rule's meaning.
    pub origin: Origin,
    pub id: Option<String>,
    pub title: String,
    /// As written, including the quotes many repository files wrap inside a block scalar.
    pub description: Option<String>,
    pub severity: Option<Severity>,
    pub tactics: Option<Vec<AttackRef<Tactic>>>,
    /// Technique and sub-technique ids (`T1078`, `T1078.004`).
    pub techniques: Option<Vec<AttackRef<Technique>>>,
    pub references: Vec<Lifted<String>>,
    pub authors: Vec<Lifted<String>>,
    pub created: Option<Lifted<String>>,
    pub modified: Option<Lifted<String>>,
    pub status: Option<Lifted<String>>,
    pub false_positives: Vec<Lifted<String>>,
    pub tags: Vec<Lifted<String>>,
    /// What a page published beside the rule says about it (a hunt hypothesis).
    pub note: Option<Lifted<String>>,
    /// When the rule was copied from where it was published (a page's `Retrieved:`).
    pub retrieved: Option<Lifted<String>>,
    /// How far the publisher trusts the rule (a page's `Confidence:`).
    pub confidence: Option<Lifted<String>>,
    pub logic: Option<Logic>,
    pub sentinel: Option<SentinelSection>,
    pub sigma: Option<SigmaSection>,
}

/// A neutral fact found in a format's own place, with that place (`metadata.author.name`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lifted<T> {
    pub value: T,
    pub from: String,
}

impl<T> Lifted<T> {
    pub fn new(value: T, from: impl Into<String>) -> Self {
        Lifted { value, from: from.into() }
    }
}

/// Where a rule came from: file, position of its first line, and its index in the file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    pub file: PathBuf,
    pub position: Position,
    /// The rule's index among the rules of its file (catalogs and ARM templates hold several).
    pub index: usize,
    pub format: SourceFormat,
    /// Where each top-level key was read, under its repository-YAML name, so that a problem
    /// about one field (a respelled tactic) points at it.
    pub key_positions: IndexMap<String, Position>,
}

impl Origin {
    pub fn new(file: impl Into<PathBuf>, position: Position, index: usize, format: SourceFormat) -> Self {
        Origin { file: file.into(), position, index, format, key_positions: IndexMap::new() }
    }

    /// The position of a top-level key (repository-YAML name), else of the rule itself.
    pub fn position_of(&self, key: &str) -> Position {
        self.key_positions.get(key).copied().unwrap_or(self.position)
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SourceFormat {
    #[default]
    SentinelYaml,
    MarkdownFrontMatter,
    MarkdownCatalog,
    Arm,
    /// Sigma rules, correlation rules and filters (YAML, one or more documents).
    Sigma,
    /// A page copied from a catalog site: prose, labelled facts and a rule definition.
    Page,
}

impl SourceFormat {
    pub const ALL: [SourceFormat; 6] =
        [Self::SentinelYaml, Self::MarkdownFrontMatter, Self::MarkdownCatalog, Self::Arm, Self::Sigma, Self::Page];

    /// The name users pass to `--from`.
    pub fn name(self) -> &'static str {
        match self {
            Self::SentinelYaml => "sentinel-yaml",
            Self::MarkdownFrontMatter => "markdown",
            Self::MarkdownCatalog => "catalog",
            Self::Arm => "arm",
            Self::Sigma => "sigma",
            Self::Page => "page",
        }
    }

    pub fn from_name(name: &str) -> Option<SourceFormat> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [Self::Informational, Self::Low, Self::Medium, Self::High, Self::Critical];

    pub fn name(self) -> &'static str {
        match self {
            Self::Informational => "Informational",
            Self::Low => "Low",
            Self::Medium => "Medium",
            Self::High => "High",
            Self::Critical => "Critical",
        }
    }
}

impl Rule {
    pub fn title(&self) -> &str {
        &self.title
    }

    /// The rule's KQL query, when its logic is KQL.
    pub fn kql(&self) -> Option<&Query> {
        match &self.logic {
            Some(Logic::Kql(query)) => Some(query),
            _ => None,
        }
    }

    /// The rule's Sigma logic, when it was read from Sigma.
    pub fn sigma_logic(&self) -> Option<&SigmaLogic> {
        match &self.logic {
            Some(Logic::Sigma(sigma)) => Some(sigma),
            _ => None,
        }
    }

    /// How to name the rule in messages: its title, else its id, else its place in the file.
    pub fn label(&self) -> String {
        if !self.title.is_empty() {
            self.title.clone()
        } else if let Some(id) = &self.id {
            id.clone()
        } else {
            format!("rule #{}", self.origin.index + 1)
        }
    }
}
