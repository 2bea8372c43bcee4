//! Sentinel's own section of a rule: what only Sentinel analytic rules and hunting queries
//! say (kind, schedule, trigger, suppression, entity mappings, alert and incident settings,
//! connectors, ARM facts), typed, plus the keys the IR does not model.
//!
//! Field names follow the Azure-Sentinel repository's YAML; the spellings of keys and values
//! in either form live in `crate::sentinel::keys`.

use super::{Duration, Extensions};
use indexmap::IndexMap;
use serde_json::Value;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct SentinelSection {
    /// `None` for hunting queries, which carry no `kind`.
    pub kind: Option<RuleKind>,
    pub schedule: Schedule,
    pub trigger: Trigger,
    pub suppression: Suppression,
    pub enabled: Option<bool>,
    pub required_data_connectors: Option<Vec<DataConnector>>,
    pub entity_mappings: Option<Vec<EntityMapping>>,
    /// Alert field name → query column.
    pub custom_details: Option<IndexMap<String, String>>,
    pub alert_details_override: Option<AlertDetailsOverride>,
    pub event_grouping_settings: Option<EventGroupingSettings>,
    pub incident_configuration: Option<IncidentConfiguration>,
    /// The rule's template version (`templateVersion` in ARM).
    pub version: Option<String>,
    /// ARM `alertRuleTemplateName` when it is not simply the rule id.
    pub template_link: TemplateLink,
    /// The ARM API version the rule was read with, when it came from ARM.
    pub api_version: Option<String>,
    /// ARM `sentinelEntitiesMappings`, kept as data.
    pub sentinel_entities_mappings: Option<Value>,
    /// Repository `tags` (strings or small mappings), kept as data; string tags are also
    /// lifted into the rule's neutral `tags`.
    pub tags: Option<Value>,
    /// Repository/content-hub `metadata` block, kept as data; its author is also lifted.
    pub metadata: Option<Value>,
    /// The description's wrapping quotes and surrounding space are its own text, to publish as
    /// they are: it came from an ARM property (`"'Identifies ...'\n"` in a portal export) or a
    /// quoted YAML scalar. Otherwise they are the repository's wrapper (`description: |` then
    /// `'text'`), which the ARM form drops. Set only when dropping would change the text.
    pub description_verbatim: bool,
    /// The trigger operator as a repository YAML file spelled it, when not in its usual short
    /// form (`GreaterThan` rather than `gt`): written back as it was.
    pub trigger_spelling: Option<String>,
    /// Keys the IR does not model, verbatim, in order (nested objects have their own). A known
    /// key written as `null` is kept here as null under its repository-YAML name, so that both
    /// forms write it back in place; so is ARM's `subTechniques` when it lists none (`[]` or
    /// null), since the IR merges it into the techniques.
    pub extensions: Extensions,
    /// ARM `properties` the IR does not model (`status`, `tags` of a portal export), verbatim,
    /// in order: ARM writes them back among the properties, YAML under `armProperties`.
    pub arm_extensions: Extensions,
}

/// When a scheduled rule runs and over what window.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Schedule {
    pub query_frequency: Option<Duration>,
    pub query_period: Option<Duration>,
    /// ARM `startTimeUtc`: when a scheduled rule first runs.
    pub start_time_utc: Option<String>,
}

/// When a run raises an alert: result count compared with a threshold.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Trigger {
    pub operator: Option<TriggerOperator>,
    pub threshold: Option<i64>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Suppression {
    pub duration: Option<Duration>,
    pub enabled: Option<bool>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RuleKind {
    Scheduled,
    Nrt,
}

/// The alert trigger comparison. The API has exactly these four; there is no `ge`/`le`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TriggerOperator {
    GreaterThan,
    LessThan,
    Equal,
    NotEqual,
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
