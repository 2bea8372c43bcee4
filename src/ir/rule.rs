//! `Rule`: everything a Sentinel rule carries, each field with a typed home.
//!
//! Field names follow the Azure-Sentinel repository's YAML. Keys the IR does not model are kept
//! verbatim, in order, in `extensions` (nested objects have their own), so that
//! YAML → IR → ARM → IR → YAML loses nothing.

use super::Duration;
use crate::diag::Position;
use indexmap::IndexMap;
use serde_json::Value;
use std::path::PathBuf;

/// Unmodelled keys and their values, in source order.
pub type Extensions = IndexMap<String, Value>;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Rule {
    /// Where the rule was read from; not part of the rule's meaning.
    pub origin: Origin,
    pub id: Option<String>,
    pub name: String,
    /// As written, including the quotes many repository files wrap inside a block scalar.
    pub description: Option<String>,
    pub severity: Option<Severity>,
    /// `None` for hunting queries, which carry no `kind`.
    pub kind: Option<RuleKind>,
    pub required_data_connectors: Option<Vec<DataConnector>>,
    pub query_frequency: Option<Duration>,
    pub query_period: Option<Duration>,
    pub trigger_operator: Option<TriggerOperator>,
    pub trigger_threshold: Option<i64>,
    /// Tactic names as written (hunting files use free text such as `Initial access`).
    pub tactics: Option<Vec<String>>,
    /// Technique and sub-technique ids (`T1078`, `T1078.004`).
    pub relevant_techniques: Option<Vec<String>>,
    pub query: Option<Query>,
    pub entity_mappings: Option<Vec<EntityMapping>>,
    /// Alert field name → query column.
    pub custom_details: Option<IndexMap<String, String>>,
    pub alert_details_override: Option<AlertDetailsOverride>,
    pub event_grouping_settings: Option<EventGroupingSettings>,
    pub incident_configuration: Option<IncidentConfiguration>,
    pub suppression_duration: Option<Duration>,
    pub suppression_enabled: Option<bool>,
    pub enabled: Option<bool>,
    /// ARM `startTimeUtc`: when a scheduled rule first runs.
    pub start_time_utc: Option<String>,
    /// The rule's template version (`templateVersion` in ARM).
    pub version: Option<String>,
    /// ARM `alertRuleTemplateName` when it is not simply the rule id.
    pub alert_rule_template: TemplateLink,
    /// ARM `sentinelEntitiesMappings`, kept as data.
    pub sentinel_entities_mappings: Option<Value>,
    /// Repository `tags` (strings or small mappings), kept as data.
    pub tags: Option<Value>,
    /// Repository/content-hub `metadata` block, kept as data.
    pub metadata: Option<Value>,
    /// The ARM API version the rule was read with, when it came from ARM.
    pub api_version: Option<String>,
    pub extensions: Extensions,
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
    /// Recognised so it is not misread; not converted yet.
    Sigma,
}

impl SourceFormat {
    pub const ALL: [SourceFormat; 5] = [Self::SentinelYaml, Self::MarkdownFrontMatter, Self::MarkdownCatalog, Self::Arm, Self::Sigma];

    /// The name users pass to `--from`.
    pub fn name(self) -> &'static str {
        match self {
            Self::SentinelYaml => "sentinel-yaml",
            Self::MarkdownFrontMatter => "markdown",
            Self::MarkdownCatalog => "catalog",
            Self::Arm => "arm",
            Self::Sigma => "sigma",
        }
    }

    pub fn from_name(name: &str) -> Option<SourceFormat> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// How ARM's `alertRuleTemplateName` relates to the rule id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum TemplateLink {
    /// The rule is (an instance of) the template with the rule's own id: the repository case.
    #[default]
    SameAsId,
    /// Explicitly none: a rule authored in the portal (`"alertRuleTemplateName": null`).
    None,
    /// Created from another template.
    Other(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Informational,
    Low,
    Medium,
    High,
}

impl Severity {
    pub const ALL: [Severity; 4] = [Self::Informational, Self::Low, Self::Medium, Self::High];

    pub fn name(self) -> &'static str {
        match self {
            Self::Informational => "Informational",
            Self::Low => "Low",
            Self::Medium => "Medium",
            Self::High => "High",
        }
    }

    /// Case-insensitive, as users type it; the canonical spelling is what gets written.
    pub fn parse(text: &str) -> Option<Severity> {
        Self::ALL.into_iter().find(|s| s.name().eq_ignore_ascii_case(text.trim()))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RuleKind {
    Scheduled,
    Nrt,
}

impl RuleKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Scheduled => "Scheduled",
            Self::Nrt => "NRT",
        }
    }

    pub fn parse(text: &str) -> Option<RuleKind> {
        [Self::Scheduled, Self::Nrt].into_iter().find(|k| k.name().eq_ignore_ascii_case(text.trim()))
    }
}

/// The alert trigger comparison. The API has exactly these four; there is no `ge`/`le`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TriggerOperator {
    GreaterThan,
    LessThan,
    Equal,
    NotEqual,
}

impl TriggerOperator {
    const ALL: [TriggerOperator; 4] = [Self::GreaterThan, Self::LessThan, Self::Equal, Self::NotEqual];

    /// The repository YAML spelling: `gt`, `lt`, `eq`, `ne`.
    pub fn short_name(self) -> &'static str {
        match self {
            Self::GreaterThan => "gt",
            Self::LessThan => "lt",
            Self::Equal => "eq",
            Self::NotEqual => "ne",
        }
    }

    /// The ARM spelling.
    pub fn arm_name(self) -> &'static str {
        match self {
            Self::GreaterThan => "GreaterThan",
            Self::LessThan => "LessThan",
            Self::Equal => "Equal",
            Self::NotEqual => "NotEqual",
        }
    }

    /// Accepts either spelling, case-insensitively.
    pub fn parse(text: &str) -> Option<TriggerOperator> {
        let text = text.trim();
        Self::ALL.into_iter().find(|op| op.short_name().eq_ignore_ascii_case(text) || op.arm_name().eq_ignore_ascii_case(text))
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct DataConnector {
    pub connector_id: String,
    pub data_types: Vec<String>,
    pub extensions: Extensions,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct EntityMapping {
    pub entity_type: String,
    pub field_mappings: Vec<FieldMapping>,
    pub extensions: Extensions,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct FieldMapping {
    pub identifier: String,
    pub column_name: String,
    pub extensions: Extensions,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct AlertDetailsOverride {
    pub alert_display_name_format: Option<String>,
    pub alert_description_format: Option<String>,
    pub alert_tactics_column_name: Option<String>,
    pub alert_severity_column_name: Option<String>,
    pub alert_dynamic_properties: Option<Vec<AlertDynamicProperty>>,
    pub extensions: Extensions,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct AlertDynamicProperty {
    pub alert_property: String,
    pub value: String,
    pub extensions: Extensions,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct EventGroupingSettings {
    /// `SingleAlert` or `AlertPerResult`.
    pub aggregation_kind: Option<String>,
    pub extensions: Extensions,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct IncidentConfiguration {
    pub create_incident: Option<bool>,
    pub grouping_configuration: Option<GroupingConfiguration>,
    pub extensions: Extensions,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct GroupingConfiguration {
    pub enabled: Option<bool>,
    pub reopen_closed_incident: Option<bool>,
    pub lookback_duration: Option<Duration>,
    /// `AllEntities`, `AnyAlert` or `Selected`.
    pub matching_method: Option<String>,
    pub group_by_entities: Option<Vec<String>>,
    pub group_by_alert_details: Option<Vec<String>>,
    pub group_by_custom_details: Option<Vec<String>>,
    pub extensions: Extensions,
}

/// A rule's query: the text exactly as written, and where it sits in its file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Query {
    pub text: String,
    pub language: QueryLanguage,
    pub locator: Locator,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum QueryLanguage {
    #[default]
    Kql,
}

/// Maps a byte offset in an extracted text (a query) back to a line and column of its file.
///
/// Holds one anchor per place where the mapping jumps: each line start of a block scalar or a
/// fenced code block, and each escape of a quoted string. Between anchors, text maps 1:1.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Locator {
    /// (offset in the text, file position of that offset), sorted by offset.
    anchors: Vec<(usize, Position)>,
}

impl Locator {
    /// A text whose byte 0 is at `start` and which continues 1:1 from there.
    pub fn at(start: Position) -> Locator {
        Locator { anchors: vec![(0, start)] }
    }

    /// Adds an anchor. Anchors come in increasing offset order: one at the same offset as the
    /// last replaces it, one before it is ignored.
    pub fn push(&mut self, offset: usize, position: Position) {
        match self.anchors.last_mut() {
            Some(last) if last.0 == offset => last.1 = position,
            Some(last) if last.0 > offset => {}
            _ => self.anchors.push((offset, position)),
        }
    }

    /// The locator of `text[start..end]`, re-based so that `start` becomes offset 0.
    pub fn slice(&self, text: &str, start: usize, end: usize) -> Locator {
        let mut out = Locator::at(self.position(text, start));
        for &(offset, position) in &self.anchors {
            if offset > start && offset < end {
                out.push(offset - start, position);
            }
        }
        out
    }

    /// The file position of `offset` within `text` (the text this locator was built for).
    pub fn position(&self, text: &str, offset: usize) -> Position {
        let index = self.anchors.partition_point(|(o, _)| *o <= offset);
        let Some(&(anchor, start)) = index.checked_sub(1).and_then(|i| self.anchors.get(i)) else {
            return Position::new(1, 1);
        };
        let between = text.get(anchor..offset.min(text.len())).unwrap_or("");
        match between.rfind('\n') {
            // Past the last anchor's line (a text mapped 1:1 across lines): count lines on.
            Some(nl) => Position::new(start.line + between.matches('\n').count(), between[nl + 1..].chars().count() + 1),
            None => Position::new(start.line, start.col + between.chars().count()),
        }
    }
}

impl Rule {
    /// How to name the rule in messages: its name, else its id, else its place in the file.
    pub fn label(&self) -> String {
        if !self.name.is_empty() {
            self.name.clone()
        } else if let Some(id) = &self.id {
            id.clone()
        } else {
            format!("rule #{}", self.origin.index + 1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locator_maps_block_lines_and_one_to_one_text() {
        // A block scalar indented by 2 whose first content line is file line 5.
        let text = "T\n| where A\n";
        let mut locator = Locator::at(Position::new(5, 3));
        locator.push(2, Position::new(6, 3));
        assert_eq!(locator.position(text, 0), Position::new(5, 3));
        assert_eq!(locator.position(text, 4), Position::new(6, 5));
        let one_to_one = Locator::at(Position::new(10, 1));
        assert_eq!(one_to_one.position(text, 4), Position::new(11, 3));
    }

    #[test]
    fn vocabularies_parse_both_spellings() {
        assert_eq!(Severity::parse("high"), Some(Severity::High));
        assert_eq!(Severity::parse("Critical"), None);
        assert_eq!(TriggerOperator::parse("gt"), Some(TriggerOperator::GreaterThan));
        assert_eq!(TriggerOperator::parse("NotEqual"), Some(TriggerOperator::NotEqual));
        assert_eq!(TriggerOperator::parse("ge"), None);
        assert_eq!(RuleKind::parse("NRT"), Some(RuleKind::Nrt));
    }
}
