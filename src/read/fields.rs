//! The one decoder from a YAML/JSON mapping to `Rule` fields, shared by every reader.
//!
//! Sentinel's two forms name most fields alike; `Naming` selects the spelling (repository YAML
//! or ARM `properties`, from `sentinel::keys`). Neutral fields (title, severity, tactics ...)
//! go to the rule, the rest to its Sentinel section. Every value is type-checked and every problem is collected (not just
//! the first), each at its own position. Keys the IR does not model go to the section's
//! `extensions`, in order, at the level they were found.
//!
//! Null values of known keys are kept in `extensions` as null (under the repository-YAML name;
//! nested keys in their object's own), so that `tactics:` (written empty, as 5 corpus files do)
//! and a portal export's `"startTimeUtc": null` survive a round trip; the typed field stays
//! `None` because "absent" and "null" mean the same to Sentinel. `alertRuleTemplateName: null`
//! says "authored without a template". ARM's `subTechniques`, merged into the techniques, is
//! kept as written when it lists none (`[]` or null). A list with an empty item
//! (`relevantTechniques:` then a bare `-`) is kept the same way. Unknown ARM properties go to
//! the section's `arm_extensions`, unknown YAML keys to its `extensions`.

use super::locate::{self, LineIndex};
use crate::diag::{Code, Kind, Position, Problem};
use crate::ir::*;
use crate::sentinel::{
    self,
    keys::{self, Key, nested},
};
use crate::yaml::{Entry, Node, Style, Value};
use indexmap::IndexMap;
use std::collections::HashMap;
use std::path::Path;

pub use crate::sentinel::keys::Naming;

/// Decoding state for one rule: its problems are collected (not just the first), each at its
/// own position; the reader assigns them to the rule when it is done.
pub struct Decoder<'a> {
    pub lines: &'a LineIndex<'a>,
    pub naming: Naming,
    file: &'a Path,
    pub problems: Vec<Problem>,
}

/// The rule's Sentinel section, created on first use.
fn section(rule: &mut Rule) -> &mut SentinelSection {
    rule.sentinel.get_or_insert_with(SentinelSection::default)
}

impl<'a> Decoder<'a> {
    pub fn new(lines: &'a LineIndex<'a>, naming: Naming, file: &'a Path) -> Self {
        Decoder { lines, naming, file, problems: Vec::new() }
    }

    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(Problem::is_error)
    }

    fn error_count(&self) -> usize {
        self.problems.iter().filter(|p| p.is_error()).count()
    }

    pub fn report(&mut self, kind: Kind, code: Code, position: Position, message: impl Into<String>) {
        self.problems.push(Problem::new(kind, code, self.file, position, message));
    }

    pub fn error(&mut self, code: Code, position: Position, message: impl Into<String>) {
        self.report(Kind::Error, code, position, message);
    }

    pub fn warning(&mut self, code: Code, position: Position, message: impl Into<String>) {
        self.report(Kind::Warning, code, position, message);
    }

    /// Decodes every key of `map` into `rule`. The caller checks `map` is a mapping.
    pub fn decode_into(&mut self, map: &Node, rule: &mut Rule) {
        let mut spellings: HashMap<String, &str> = HashMap::new();
        for entry in map.entries().unwrap_or_default() {
            // ARM property names are case-insensitive: `query` and `Query` would be one key there.
            let first = *spellings.entry(entry.key.to_lowercase()).or_insert(&entry.key);
            if first != entry.key {
                let message = format!("`{}` is `{first}` again in another case; Sentinel reads keys case-insensitively", entry.key);
                self.error(Code::InvalidValue, entry.key_position, message);
                continue;
            }
            let key = Key::from_name(self.naming, &entry.key);
            let yaml_name = match key {
                Some(key) => key.yaml(),
                None => entry.key.as_str(),
            };
            rule.origin.key_positions.entry(yaml_name.to_string()).or_insert(entry.key_position);
            let Some(key) = key else {
                let unknown = match self.naming {
                    Naming::Yaml => &mut section(rule).extensions,
                    Naming::Arm => &mut section(rule).arm_extensions,
                };
                unknown.insert(entry.key.clone(), entry.value.to_json());
                continue;
            };
            let none_listed = entry.value.value == Value::Null || entry.value.value == Value::Seq(Vec::new());
            if key == Key::SubTechniques && none_listed {
                section(rule).extensions.insert(entry.key.clone(), entry.value.to_json());
                continue;
            }
            if entry.value.value == Value::Null {
                match key {
                    Key::TemplateName => section(rule).template_link = TemplateLink::None,
                    _ => {
                        section(rule).extensions.insert(key.yaml().to_string(), serde_json::Value::Null);
                    }
                }
                continue;
            }
            if let Value::Seq(items) = &entry.value.value
                && let Some(blank) = items.iter().find(|i| i.value == Value::Null)
            {
                // `relevantTechniques:` followed by a bare `-` (8 corpus files): an empty
                // item, not a technique. Kept as written so nothing is lost.
                self.warning(
                    Code::InvalidValue,
                    blank.position,
                    format!("`{}` has an empty item; the list is kept as written but not used", entry.key),
                );
                section(rule).extensions.insert(entry.key.clone(), entry.value.to_json());
                continue;
            }
            self.field(key, entry, rule);
        }
    }

    fn field(&mut self, field: Key, entry: &Entry, rule: &mut Rule) {
        let (key, node) = (entry.key.as_str(), &entry.value);
        match field {
            Key::Id => rule.id = self.string(key, node),
            Key::Name => rule.title = self.string(key, node).unwrap_or_default(),
            Key::Description => {
                rule.description = self.string(key, node);
                // The repository wraps descriptions in quotes inside block scalars; an ARM
                // property or a quoted YAML scalar is the text itself, quotes and all.
                let own_text = self.naming == Naming::Arm || matches!(node.style, Style::SingleQuoted | Style::DoubleQuoted);
                let verbatim = own_text && rule.description.as_deref().is_some_and(|d| sentinel::clean_description(d) != d);
                section(rule).description_verbatim = verbatim;
            }
            Key::Severity => {
                rule.severity = self.string(key, node).and_then(|text| {
                    let severity = keys::parse_severity(&text);
                    if severity.is_none() {
                        let names: Vec<_> = keys::SEVERITIES.iter().map(|s| s.name()).collect();
                        self.error(
                            Code::InvalidValue,
                            node.position,
                            format!("`{key}` must be one of {}, found `{text}`", names.join(", ")),
                        );
                    }
                    severity
                })
            }
            Key::Tactics => rule.tactics = self.strings(key, node).map(|list| list.iter().map(|t| AttackRef::parse(t)).collect()),
            Key::Techniques | Key::SubTechniques => {
                // ARM splits techniques and sub-techniques; the IR holds both in one list.
                if let Some(ids) = self.strings(key, node) {
                    let list = rule.techniques.get_or_insert_with(Vec::new);
                    for id in ids {
                        if field == Key::Techniques || !list.iter().any(|t| t.written == id) {
                            list.push(AttackRef::parse(&id));
                        }
                    }
                }
            }
            Key::Query => rule.logic = self.query(key, node).map(Logic::Kql),
            _ => self.sentinel_field(field, entry, section(rule)),
        }
    }

    /// A key of the Sentinel section.
    fn sentinel_field(&mut self, field: Key, entry: &Entry, s: &mut SentinelSection) {
        let (key, node) = (entry.key.as_str(), &entry.value);
        match field {
            Key::Kind => {
                s.kind = self.string(key, node).and_then(|text| {
                    let kind = keys::parse_kind(&text);
                    if kind.is_none() {
                        self.error(
                            Code::InvalidValue,
                            node.position,
                            format!("`{key}` must be Scheduled or NRT (the rule kinds ruleconv converts), found `{text}`"),
                        );
                    }
                    kind
                })
            }
            Key::Connectors => s.required_data_connectors = self.connectors(key, node),
            Key::Frequency => s.schedule.query_frequency = self.duration(key, node),
            Key::Period => s.schedule.query_period = self.duration(key, node),
            Key::StartTime => s.schedule.start_time_utc = self.string(key, node),
            Key::TriggerOperator => {
                let text = self.string(key, node);
                s.trigger.operator = text.as_deref().and_then(|text| self.trigger_operator(key, node, text));
                let usual = s.trigger.operator.map(keys::trigger_yaml);
                s.trigger_spelling = text.filter(|text| self.naming == Naming::Yaml && Some(text.as_str()) != usual);
            }
            Key::TriggerThreshold => s.trigger.threshold = self.int(key, node),
            Key::SuppressionDuration => s.suppression.duration = self.duration(key, node),
            Key::SuppressionEnabled => s.suppression.enabled = self.bool(key, node),
            Key::EntityMappings => s.entity_mappings = self.entity_mappings(key, node),
            Key::CustomDetails => s.custom_details = self.string_map(key, node),
            Key::AlertDetailsOverride => s.alert_details_override = self.alert_details_override(key, node),
            Key::EventGrouping => {
                s.event_grouping_settings = self.mapping(key, node).map(|entries| {
                    let mut settings = EventGroupingSettings::default();
                    for e in entries {
                        match e.key.as_str() {
                            nested::AGGREGATION_KIND => {
                                self.optional(e, &mut settings.extensions, |d, k, n| settings.aggregation_kind = d.string(k, n))
                            }
                            _ => keep(e, &mut settings.extensions),
                        }
                    }
                    settings
                })
            }
            Key::Incident => s.incident_configuration = self.incident(key, node),
            Key::Enabled => s.enabled = self.bool(key, node),
            Key::Version => s.version = self.string(key, node),
            Key::TemplateName => s.template_link = self.string(key, node).map_or(TemplateLink::None, TemplateLink::Other),
            Key::ApiVersion => s.api_version = self.string(key, node),
            Key::SentinelEntitiesMappings => s.sentinel_entities_mappings = Some(node.to_json()),
            Key::Tags => s.tags = Some(node.to_json()),
            Key::Metadata => s.metadata = Some(node.to_json()),
            Key::ArmProperties => {
                if let Some(entries) = self.mapping(key, node) {
                    s.arm_extensions.extend(entries.iter().map(|e| (e.key.clone(), e.value.to_json())));
                }
            }
            // Neutral keys are decoded by `field`.
            Key::Id | Key::Name | Key::Description | Key::Severity | Key::Tactics | Key::Techniques | Key::SubTechniques | Key::Query => {}
        }
    }

    /// Runs `decode` for a known key of a nested mapping, applying the null rule of the module
    /// comment (kept as null among the object's unmodelled keys).
    fn optional(&mut self, entry: &Entry, extensions: &mut Extensions, decode: impl FnOnce(&mut Self, &str, &Node)) {
        if entry.value.value == Value::Null {
            extensions.insert(entry.key.clone(), serde_json::Value::Null);
        } else {
            decode(self, &entry.key, &entry.value);
        }
    }

    fn type_error(&mut self, key: &str, node: &Node, expected: &str) {
        self.error(Code::InvalidValue, node.position, format!("`{key}` must be {expected}, found {}", node.kind_name()));
    }

    pub fn string(&mut self, key: &str, node: &Node) -> Option<String> {
        match &node.value {
            Value::Str(s) => Some(s.clone()),
            _ => {
                self.type_error(key, node, "a string");
                None
            }
        }
    }

    fn int(&mut self, key: &str, node: &Node) -> Option<i64> {
        match node.value {
            Value::Int(i) => Some(i),
            _ => {
                self.type_error(key, node, "an integer");
                None
            }
        }
    }

    fn bool(&mut self, key: &str, node: &Node) -> Option<bool> {
        match node.value {
            Value::Bool(b) => Some(b),
            _ => {
                self.type_error(key, node, "a boolean (true or false)");
                None
            }
        }
    }

    fn duration(&mut self, key: &str, node: &Node) -> Option<Duration> {
        let text = self.string(key, node)?;
        match Duration::parse(&text) {
            Ok(d) => Some(d),
            Err(e) => {
                self.error(Code::InvalidValue, node.position, format!("`{key}`: {e}"));
                None
            }
        }
    }

    fn trigger_operator(&mut self, key: &str, node: &Node, text: &str) -> Option<TriggerOperator> {
        let op = keys::parse_trigger(text);
        if op.is_none() {
            let lower = text.trim().to_ascii_lowercase();
            let hint = if ["ge", "le", "greaterthanorequal", "lessthanorequal"].contains(&lower.as_str()) {
                " (the Sentinel API has no greater-or-equal / less-or-equal operator: use `gt` with threshold - 1, or `lt` with threshold + 1)"
            } else {
                ""
            };
            self.error(
                Code::InvalidValue,
                node.position,
                format!("`{key}` must be one of gt, lt, eq, ne (or GreaterThan, LessThan, Equal, NotEqual), found `{text}`{hint}"),
            );
        }
        op
    }

    fn list<'n>(&mut self, key: &str, node: &'n Node) -> Option<&'n [Node]> {
        match &node.value {
            Value::Seq(items) => Some(items),
            _ => {
                self.type_error(key, node, "a list");
                None
            }
        }
    }

    pub fn mapping<'n>(&mut self, key: &str, node: &'n Node) -> Option<&'n [Entry]> {
        match &node.value {
            Value::Map(entries) => Some(entries),
            _ => {
                self.type_error(key, node, "a mapping");
                None
            }
        }
    }

    /// A list of strings; one bad item fails the field (and is reported where it is).
    fn strings(&mut self, key: &str, node: &Node) -> Option<Vec<String>> {
        let items = self.list(key, node)?;
        let before = self.error_count();
        let out: Vec<String> = items.iter().enumerate().filter_map(|(i, item)| self.string(&format!("{key}[{i}]"), item)).collect();
        (self.error_count() == before).then_some(out)
    }

    fn string_map(&mut self, key: &str, node: &Node) -> Option<IndexMap<String, String>> {
        let entries = self.mapping(key, node)?;
        let before = self.error_count();
        let out = entries.iter().filter_map(|e| Some((e.key.clone(), self.string(&format!("{key}.{}", e.key), &e.value)?))).collect();
        (self.error_count() == before).then_some(out)
    }

    fn query(&mut self, key: &str, node: &Node) -> Option<Query> {
        let text = self.string(key, node)?;
        if text.trim().is_empty() {
            self.error(Code::InvalidValue, node.position, format!("`{key}` is empty"));
            return None;
        }
        let locator = locate::scalar(self.lines, node, &text);
        Some(Query::new(text, locator))
    }

    /// Items of a list of mappings, each handed to `decode` with its path for messages.
    fn items<T>(
        &mut self,
        key: &str,
        node: &Node,
        mut decode: impl FnMut(&mut Self, &str, &Node, &[Entry]) -> Option<T>,
    ) -> Option<Vec<T>> {
        let items = self.list(key, node)?;
        let before = self.error_count();
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let path = format!("{key}[{i}]");
            if let Some(entries) = self.mapping(&path, item) {
                out.extend(decode(self, &path, item, entries));
            }
        }
        (self.error_count() == before).then_some(out)
    }

    /// A string that must be present (`connectorId`, `entityType` ...).
    fn required(&mut self, path: &str, item: &Node, entries: &[Entry], key: &str) -> Option<String> {
        match entries.iter().find(|e| e.key == key) {
            Some(e) => self.string(&format!("{path}.{key}"), &e.value),
            None => {
                self.error(Code::MissingKey, item.position, format!("`{path}` has no `{key}`"));
                None
            }
        }
    }

    fn connectors(&mut self, key: &str, node: &Node) -> Option<Vec<DataConnector>> {
        self.items(key, node, |d, path, item, entries| {
            let mut connector =
                DataConnector { connector_id: d.required(path, item, entries, nested::CONNECTOR_ID)?, ..Default::default() };
            for e in entries {
                match e.key.as_str() {
                    nested::CONNECTOR_ID => {}
                    nested::DATA_TYPES => d.optional(e, &mut connector.extensions, |d, _, n| {
                        connector.data_types = d.strings(&format!("{path}.{}", nested::DATA_TYPES), n).unwrap_or_default()
                    }),
                    other => {
                        if other.eq_ignore_ascii_case(nested::DATA_TYPES) {
                            // Nine corpus files spell it `datatypes`; kept as written (lossless), but
                            // it is not the key Sentinel documents, so say so.
                            d.warning(
                                Code::InvalidValue,
                                e.key_position,
                                format!("`{path}.{other}` is not a known key (did you mean `{}`?); kept as written", nested::DATA_TYPES),
                            );
                        }
                        keep(e, &mut connector.extensions);
                    }
                }
            }
            Some(connector)
        })
    }

    fn entity_mappings(&mut self, key: &str, node: &Node) -> Option<Vec<EntityMapping>> {
        self.items(key, node, |d, path, item, entries| {
            let entity_type = d.required(path, item, entries, nested::ENTITY_TYPE)?;
            let mut mapping = EntityMapping { entity_type, ..Default::default() };
            for e in entries {
                match e.key.as_str() {
                    nested::ENTITY_TYPE => {}
                    nested::FIELD_MAPPINGS => {
                        let fields_path = format!("{path}.{}", nested::FIELD_MAPPINGS);
                        mapping.field_mappings = d.items(&fields_path, &e.value, |d, path, item, entries| {
                            let mut field = FieldMapping {
                                identifier: d.required(path, item, entries, nested::IDENTIFIER)?,
                                column_name: d.required(path, item, entries, nested::COLUMN_NAME)?,
                                ..Default::default()
                            };
                            for e in entries.iter().filter(|e| e.key != nested::IDENTIFIER && e.key != nested::COLUMN_NAME) {
                                keep(e, &mut field.extensions);
                            }
                            Some(field)
                        })?;
                    }
                    _ => keep(e, &mut mapping.extensions),
                }
            }
            if !entries.iter().any(|e| e.key == nested::FIELD_MAPPINGS) {
                d.error(Code::MissingKey, item.position, format!("`{path}` has no `{}`", nested::FIELD_MAPPINGS));
                return None;
            }
            Some(mapping)
        })
    }

    fn alert_details_override(&mut self, key: &str, node: &Node) -> Option<AlertDetailsOverride> {
        let entries = self.mapping(key, node)?;
        let mut o = AlertDetailsOverride::default();
        for e in entries {
            let path = format!("{key}.{}", e.key);
            match e.key.as_str() {
                nested::ALERT_DISPLAY_NAME_FORMAT => {
                    self.optional(e, &mut o.extensions, |d, _, n| o.alert_display_name_format = d.string(&path, n))
                }
                nested::ALERT_DESCRIPTION_FORMAT => {
                    self.optional(e, &mut o.extensions, |d, _, n| o.alert_description_format = d.string(&path, n))
                }
                nested::ALERT_TACTICS_COLUMN_NAME => {
                    self.optional(e, &mut o.extensions, |d, _, n| o.alert_tactics_column_name = d.string(&path, n))
                }
                nested::ALERT_SEVERITY_COLUMN_NAME => {
                    self.optional(e, &mut o.extensions, |d, _, n| o.alert_severity_column_name = d.string(&path, n))
                }
                nested::ALERT_DYNAMIC_PROPERTIES => self.optional(e, &mut o.extensions, |d, _, n| {
                    o.alert_dynamic_properties = d.items(&path, n, |d, path, item, entries| {
                        let mut p = AlertDynamicProperty {
                            alert_property: d.required(path, item, entries, nested::ALERT_PROPERTY)?,
                            value: d.required(path, item, entries, nested::VALUE)?,
                            ..Default::default()
                        };
                        for e in entries.iter().filter(|e| e.key != nested::ALERT_PROPERTY && e.key != nested::VALUE) {
                            keep(e, &mut p.extensions);
                        }
                        Some(p)
                    })
                }),
                _ => keep(e, &mut o.extensions),
            }
        }
        Some(o)
    }

    fn incident(&mut self, key: &str, node: &Node) -> Option<IncidentConfiguration> {
        let entries = self.mapping(key, node)?;
        let mut config = IncidentConfiguration::default();
        for e in entries {
            let path = format!("{key}.{}", e.key);
            match e.key.as_str() {
                nested::CREATE_INCIDENT => self.optional(e, &mut config.extensions, |d, _, n| config.create_incident = d.bool(&path, n)),
                nested::GROUPING_CONFIGURATION => {
                    self.optional(e, &mut config.extensions, |d, _, n| config.grouping_configuration = d.grouping(&path, n))
                }
                _ => keep(e, &mut config.extensions),
            }
        }
        Some(config)
    }

    fn grouping(&mut self, key: &str, node: &Node) -> Option<GroupingConfiguration> {
        let entries = self.mapping(key, node)?;
        let mut g = GroupingConfiguration::default();
        for e in entries {
            let path = format!("{key}.{}", e.key);
            let ext = &mut g.extensions;
            match e.key.as_str() {
                nested::GROUPING_ENABLED => self.optional(e, ext, |d, _, n| g.enabled = d.bool(&path, n)),
                nested::REOPEN_CLOSED_INCIDENT => self.optional(e, ext, |d, _, n| g.reopen_closed_incident = d.bool(&path, n)),
                nested::LOOKBACK_DURATION => self.optional(e, ext, |d, _, n| g.lookback_duration = d.duration(&path, n)),
                nested::MATCHING_METHOD => self.optional(e, ext, |d, _, n| g.matching_method = d.string(&path, n)),
                nested::GROUP_BY_ENTITIES => self.optional(e, ext, |d, _, n| g.group_by_entities = d.strings(&path, n)),
                nested::GROUP_BY_ALERT_DETAILS => self.optional(e, ext, |d, _, n| g.group_by_alert_details = d.strings(&path, n)),
                nested::GROUP_BY_CUSTOM_DETAILS => self.optional(e, ext, |d, _, n| g.group_by_custom_details = d.strings(&path, n)),
                _ => keep(e, ext),
            }
        }
        Some(g)
    }
}

/// Keeps an unmodelled key verbatim.
fn keep(entry: &Entry, extensions: &mut Extensions) {
    extensions.insert(entry.key.clone(), entry.value.to_json());
}
