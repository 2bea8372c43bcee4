//! Sentinel's spellings, for reading and writing alike: the rule's keys in the repository YAML
//! and in ARM `properties`, and the values whose spelling is Sentinel's own (severities, rule
//! kinds, trigger operators, tactics). Readers and emitters of both forms use only these.

use crate::ir::{AttackRef, RuleKind, Severity, Tactic, TriggerOperator, squeeze};

/// A top-level key of a Sentinel rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    Id,
    Name,
    Description,
    Severity,
    Kind,
    Connectors,
    Frequency,
    Period,
    TriggerOperator,
    TriggerThreshold,
    Tactics,
    Techniques,
    SubTechniques,
    Query,
    EntityMappings,
    CustomDetails,
    AlertDetailsOverride,
    EventGrouping,
    Incident,
    SuppressionDuration,
    SuppressionEnabled,
    Enabled,
    StartTime,
    Version,
    TemplateName,
    ApiVersion,
    SentinelEntitiesMappings,
    Tags,
    Metadata,
    ArmProperties,
}

/// (key, repository YAML name, ARM property name). `None` where the form has no such key:
/// `kind` sits on the ARM resource, not in its properties; tags and metadata have no ARM
/// property at all; ARM splits sub-techniques out. The YAML names of `alertRuleTemplateName`
/// and `apiVersion` are ARM facts our YAML writes only when they are not the defaults, so that
/// ARM → YAML → ARM reproduces the template. `armProperties` is the YAML home of ARM
/// properties the IR does not model; in ARM they are properties of their own.
const NAMES: [(Key, Option<&str>, Option<&str>); 30] = [
    (Key::Id, Some("id"), None),
    (Key::Name, Some("name"), Some("displayName")),
    (Key::Description, Some("description"), Some("description")),
    (Key::Severity, Some("severity"), Some("severity")),
    (Key::Kind, Some("kind"), None),
    // Alert rule templates (Content Hub packages) list their connectors; alert rules do not.
    (Key::Connectors, Some("requiredDataConnectors"), Some("requiredDataConnectors")),
    (Key::Frequency, Some("queryFrequency"), Some("queryFrequency")),
    (Key::Period, Some("queryPeriod"), Some("queryPeriod")),
    (Key::TriggerOperator, Some("triggerOperator"), Some("triggerOperator")),
    (Key::TriggerThreshold, Some("triggerThreshold"), Some("triggerThreshold")),
    (Key::Tactics, Some("tactics"), Some("tactics")),
    (Key::Techniques, Some("relevantTechniques"), Some("techniques")),
    (Key::SubTechniques, None, Some("subTechniques")),
    (Key::Query, Some("query"), Some("query")),
    (Key::EntityMappings, Some("entityMappings"), Some("entityMappings")),
    (Key::CustomDetails, Some("customDetails"), Some("customDetails")),
    (Key::AlertDetailsOverride, Some("alertDetailsOverride"), Some("alertDetailsOverride")),
    (Key::EventGrouping, Some("eventGroupingSettings"), Some("eventGroupingSettings")),
    (Key::Incident, Some("incidentConfiguration"), Some("incidentConfiguration")),
    (Key::SuppressionDuration, Some("suppressionDuration"), Some("suppressionDuration")),
    (Key::SuppressionEnabled, Some("suppressionEnabled"), Some("suppressionEnabled")),
    (Key::Enabled, Some("enabled"), Some("enabled")),
    (Key::StartTime, Some("startTimeUtc"), Some("startTimeUtc")),
    (Key::Version, Some("version"), Some("templateVersion")),
    (Key::TemplateName, Some("alertRuleTemplateName"), Some("alertRuleTemplateName")),
    (Key::ApiVersion, Some("apiVersion"), None),
    (Key::SentinelEntitiesMappings, Some("sentinelEntitiesMappings"), Some("sentinelEntitiesMappings")),
    (Key::Tags, Some("tags"), None),
    (Key::Metadata, Some("metadata"), None),
    (Key::ArmProperties, Some("armProperties"), None),
];

/// Keys inside a rule's nested objects (connectors, entity mappings, alert details override,
/// event grouping, incident configuration), spelled the same in both forms.
pub mod nested {
    pub const CONNECTOR_ID: &str = "connectorId";
    pub const DATA_TYPES: &str = "dataTypes";
    pub const ENTITY_TYPE: &str = "entityType";
    pub const FIELD_MAPPINGS: &str = "fieldMappings";
    pub const IDENTIFIER: &str = "identifier";
    pub const COLUMN_NAME: &str = "columnName";
    pub const ALERT_DISPLAY_NAME_FORMAT: &str = "alertDisplayNameFormat";
    pub const ALERT_DESCRIPTION_FORMAT: &str = "alertDescriptionFormat";
    pub const ALERT_TACTICS_COLUMN_NAME: &str = "alertTacticsColumnName";
    pub const ALERT_SEVERITY_COLUMN_NAME: &str = "alertSeverityColumnName";
    pub const ALERT_DYNAMIC_PROPERTIES: &str = "alertDynamicProperties";
    pub const ALERT_PROPERTY: &str = "alertProperty";
    pub const VALUE: &str = "value";
    pub const AGGREGATION_KIND: &str = "aggregationKind";
    pub const CREATE_INCIDENT: &str = "createIncident";
    pub const GROUPING_CONFIGURATION: &str = "groupingConfiguration";
    pub const GROUPING_ENABLED: &str = "enabled";
    pub const REOPEN_CLOSED_INCIDENT: &str = "reopenClosedIncident";
    pub const LOOKBACK_DURATION: &str = "lookbackDuration";
    pub const MATCHING_METHOD: &str = "matchingMethod";
    pub const GROUP_BY_ENTITIES: &str = "groupByEntities";
    pub const GROUP_BY_ALERT_DETAILS: &str = "groupByAlertDetails";
    pub const GROUP_BY_CUSTOM_DETAILS: &str = "groupByCustomDetails";
}

/// Which form's names to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Naming {
    /// The Azure-Sentinel repository YAML (also markdown front matter and catalog rows, and
    /// the template metadata our ARM emitter keeps repository fields in).
    Yaml,
    /// The `properties` of an ARM `alertRules` resource.
    Arm,
}

impl Key {
    /// The key a name stands for in one form.
    pub fn from_name(naming: Naming, name: &str) -> Option<Key> {
        NAMES.iter().find(|(_, yaml, arm)| Some(name) == if naming == Naming::Yaml { *yaml } else { *arm }).map(|(key, _, _)| *key)
    }

    fn names(self) -> (Option<&'static str>, Option<&'static str>) {
        NAMES.iter().find(|(key, _, _)| *key == self).map_or((None, None), |(_, yaml, arm)| (*yaml, *arm))
    }

    /// The repository-YAML name (ARM's `subTechniques`, which YAML merges into
    /// `relevantTechniques`, answers that).
    pub fn yaml(self) -> &'static str {
        match self.names() {
            (Some(name), _) => name,
            _ => "relevantTechniques",
        }
    }

    /// The ARM property name, when ARM has one.
    pub fn arm(self) -> Option<&'static str> {
        self.names().1
    }

    /// Whether the key holds the rule's neutral metadata or query (the IR's `Rule` fields,
    /// which every format says its own way), not a setting of the Sentinel section.
    pub fn is_neutral(self) -> bool {
        matches!(
            self,
            Key::Id | Key::Name | Key::Description | Key::Severity | Key::Tactics | Key::Techniques | Key::SubTechniques | Key::Query
        )
    }
}

/// The rule keys a hunting query's saved search carries as `{name, value}` tags (lists as
/// comma-separated text), and their tag names.
pub const HUNTING_TAGS: [(Key, &str); 3] = [(Key::Description, "description"), (Key::Tactics, "tactics"), (Key::Techniques, "techniques")];

/// The key a saved-search tag stands for (`relevantTechniques` is also read as techniques).
pub fn hunting_tag(name: &str) -> Option<Key> {
    HUNTING_TAGS.iter().find(|(_, tag)| *tag == name).map(|(key, _)| *key).or((name == Key::Techniques.yaml()).then_some(Key::Techniques))
}

/// The severities Sentinel knows (it has no `Critical`).
pub const SEVERITIES: [Severity; 4] = [Severity::Informational, Severity::Low, Severity::Medium, Severity::High];

/// Case-insensitive, as users type it; the canonical spelling is what gets written.
pub fn parse_severity(text: &str) -> Option<Severity> {
    SEVERITIES.into_iter().find(|s| s.name().eq_ignore_ascii_case(text.trim()))
}

/// Sentinel's severity for a rule's: `Critical` has none and becomes `High`.
pub fn severity(severity: Severity) -> Severity {
    if severity == Severity::Critical { Severity::High } else { severity }
}

pub fn kind_name(kind: RuleKind) -> &'static str {
    match kind {
        RuleKind::Scheduled => "Scheduled",
        RuleKind::Nrt => "NRT",
    }
}

pub fn parse_kind(text: &str) -> Option<RuleKind> {
    [RuleKind::Scheduled, RuleKind::Nrt].into_iter().find(|k| kind_name(*k).eq_ignore_ascii_case(text.trim()))
}

const TRIGGER_OPERATORS: [TriggerOperator; 4] =
    [TriggerOperator::GreaterThan, TriggerOperator::LessThan, TriggerOperator::Equal, TriggerOperator::NotEqual];

/// The repository YAML spelling: `gt`, `lt`, `eq`, `ne`.
pub fn trigger_yaml(op: TriggerOperator) -> &'static str {
    match op {
        TriggerOperator::GreaterThan => "gt",
        TriggerOperator::LessThan => "lt",
        TriggerOperator::Equal => "eq",
        TriggerOperator::NotEqual => "ne",
    }
}

/// The ARM spelling.
pub fn trigger_arm(op: TriggerOperator) -> &'static str {
    match op {
        TriggerOperator::GreaterThan => "GreaterThan",
        TriggerOperator::LessThan => "LessThan",
        TriggerOperator::Equal => "Equal",
        TriggerOperator::NotEqual => "NotEqual",
    }
}

/// Accepts either spelling, case-insensitively.
pub fn parse_trigger(text: &str) -> Option<TriggerOperator> {
    let text = text.trim();
    TRIGGER_OPERATORS.into_iter().find(|op| trigger_yaml(*op).eq_ignore_ascii_case(text) || trigger_arm(*op).eq_ignore_ascii_case(text))
}

/// A tactic as the AlertRule API spells it (`InitialAccess`): the ATT&CK tactics, and
/// Sentinel's legacy `PreAttack`, which has no ATT&CK id.
pub fn api_tactic(tactic: &AttackRef<Tactic>) -> Option<&'static str> {
    match tactic.id {
        Some(id) => Some(api_tactic_name(id)),
        None => squeeze(&tactic.written).eq_ignore_ascii_case("PreAttack").then_some("PreAttack"),
    }
}

fn api_tactic_name(tactic: Tactic) -> &'static str {
    match tactic {
        Tactic::Reconnaissance => "Reconnaissance",
        Tactic::ResourceDevelopment => "ResourceDevelopment",
        Tactic::InitialAccess => "InitialAccess",
        Tactic::Execution => "Execution",
        Tactic::Persistence => "Persistence",
        Tactic::PrivilegeEscalation => "PrivilegeEscalation",
        Tactic::DefenseEvasion => "DefenseEvasion",
        Tactic::CredentialAccess => "CredentialAccess",
        Tactic::Discovery => "Discovery",
        Tactic::LateralMovement => "LateralMovement",
        Tactic::Collection => "Collection",
        Tactic::CommandAndControl => "CommandAndControl",
        Tactic::Exfiltration => "Exfiltration",
        Tactic::Impact => "Impact",
        Tactic::ImpairProcessControl => "ImpairProcessControl",
        Tactic::InhibitResponseFunction => "InhibitResponseFunction",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tactic(text: &str) -> AttackRef<Tactic> {
        AttackRef::parse(text)
    }

    #[test]
    fn every_key_has_a_name_and_names_are_unique_per_form() {
        for (key, yaml, arm) in NAMES {
            assert!(yaml.is_some() || arm.is_some(), "{key:?}");
            if let Some(yaml) = yaml {
                assert_eq!(Key::from_name(Naming::Yaml, yaml), Some(key));
            }
            if let Some(arm) = arm {
                assert_eq!(Key::from_name(Naming::Arm, arm), Some(key));
            }
        }
        assert_eq!(Key::from_name(Naming::Arm, "name"), None, "`name` is not an ARM property");
        assert_eq!(Key::from_name(Naming::Yaml, "subTechniques"), None);
    }

    #[test]
    fn vocabularies_parse_both_spellings() {
        assert_eq!(parse_severity("high"), Some(Severity::High));
        assert_eq!(parse_severity("Critical"), None);
        assert_eq!(severity(Severity::Critical), Severity::High);
        assert_eq!(parse_trigger("gt"), Some(TriggerOperator::GreaterThan));
        assert_eq!(parse_trigger("NotEqual"), Some(TriggerOperator::NotEqual));
        assert_eq!(parse_trigger("ge"), None);
        assert_eq!(parse_kind("NRT"), Some(RuleKind::Nrt));
    }

    #[test]
    fn free_text_tactics_take_the_api_spelling() {
        assert_eq!(api_tactic(&tactic("Initial access")), Some("InitialAccess"));
        assert_eq!(api_tactic(&tactic("command-and-control")), Some("CommandAndControl"));
        assert_eq!(api_tactic(&tactic("PreAttack")), Some("PreAttack"));
        assert_eq!(api_tactic(&tactic("Lateral Movment")), None);
    }
}
