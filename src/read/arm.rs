//! ARM templates: Sentinel alert rules (`.../alertRules`, kind Scheduled or NRT), alert rule
//! templates (`.../alertRuleTemplates`, as Content Hub solution packages ship them) and hunting
//! queries (saved searches in category "Hunting Queries"), one rule per resource. Rules may sit
//! in nested templates: a deployment's `template`, a content template's `mainTemplate`.
//!
//! JSON is parsed as YAML 1.2 (a superset), so positions come for free and ARM `properties`
//! go through the same field decoder as YAML, with ARM naming. Repository-only fields that ARM
//! has no property for are read back from the template's `metadata.ruleconv.<rule id>` object
//! (written by our ARM emitter, in YAML naming) and laid over the rule, which makes
//! YAML → ARM → YAML lossless. Resources that are not rules (workbooks, playbooks, content
//! metadata) are skipped; a template without any rule is an error.

use super::ReadOutcome;
use super::documents::Parse;
use super::fields::{Decoder, Naming};
use super::locate::LineIndex;
use super::sentinel_yaml;
use crate::diag::{Code, Kind, Position};
use crate::ir::{AttackRef, Origin, Rule, SentinelSection, SourceFormat, TemplateLink};
use crate::sentinel::{
    self,
    keys::{self, Key},
};
use crate::yaml::{Entry, Node, Value};
use std::path::Path;

/// Reads the rules of `text`, whose YAML parse is `parse`.
pub fn read(text: &str, parse: Parse, file: &Path, out: &mut ReadOutcome) {
    let documents = match parse {
        Ok(documents) => documents,
        Err(e) => {
            out.file_error(Code::JsonSyntax, file, e.position, format!("invalid JSON: {}", e.message));
            return;
        }
    };
    let Some(root) = documents.into_iter().find(|d| d.value != Value::Null) else {
        out.not_a_rule(file, Position::new(1, 1), "not an ARM template: the file is empty");
        return;
    };
    // A template, a bare resource, or a list of resources.
    let resources: Vec<&Node> = match (&root.value, root.get("resources")) {
        (Value::Map(_), Some(Node { value: Value::Seq(items), .. })) => items.iter().collect(),
        (Value::Map(_), _) if root.get("type").is_some() && root.get("properties").is_some() => vec![&root],
        (Value::Seq(items), _) => items.iter().collect(),
        _ => {
            out.not_a_rule(file, root.position, "not an ARM template: no `resources` list");
            return;
        }
    };
    let overlays = root.get("metadata").and_then(|m| m.get(sentinel::ARM_METADATA_KEY));
    let lines = LineIndex::new(text);
    let mut found = Vec::new();
    collect_rules(&resources, &mut vec![&root], &mut found);
    let rule_count = found.len();
    for (index, found) in found.into_iter().enumerate() {
        read_resource(found, overlays, &lines, file, index, out);
    }
    if rule_count == 0 {
        out.not_a_rule(file, root.position, "the ARM template holds no Sentinel alert rule (`.../alertRules`) or hunting query (saved search in category \"Hunting Queries\")");
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ResourceKind {
    AlertRule,
    /// A rule template, the form the repository's YAML rules take in Content Hub packages.
    AlertRuleTemplate,
    HuntingQuery,
}

/// A rule resource with what the templates around it say of it.
struct FoundRule<'a> {
    resource: &'a Node,
    kind: ResourceKind,
    id: Option<String>,
    /// A packaged template's version: its content template's `contentVersion`.
    version: Option<String>,
    /// The package's content metadata resource beside a packaged template (source, author,
    /// support), which the rule does not carry.
    package_metadata: Option<&'a Node>,
}

/// The rule resources among `resources` and inside their nested templates, in document order.
/// `templates` holds the enclosing templates, innermost last, for resolving `variables(...)`.
fn collect_rules<'a>(resources: &[&'a Node], templates: &mut Vec<&'a Node>, found: &mut Vec<FoundRule<'a>>) {
    for &resource in resources {
        if let Some(kind) = resource_kind(resource) {
            let id = resource_id(resource, templates);
            let packaged = kind == ResourceKind::AlertRuleTemplate && templates.len() > 1;
            let version = packaged.then(|| package_version(templates[templates.len() - 1], templates)).flatten();
            let package_metadata = packaged
                .then(|| {
                    resources
                        .iter()
                        .copied()
                        .find(|r| r.get("type").and_then(Node::as_str).is_some_and(|t| t.to_ascii_lowercase().ends_with("/metadata")))
                })
                .flatten();
            found.push(FoundRule { resource, kind, id, version, package_metadata });
            continue;
        }
        let properties = resource.get("properties");
        let nested_templates = ["mainTemplate", "template"].into_iter().filter_map(|key| properties?.get(key));
        for template in nested_templates {
            if let Some(Value::Seq(items)) = template.get("resources").map(|r| &r.value) {
                templates.push(template);
                collect_rules(&items.iter().collect::<Vec<_>>(), templates, found);
                templates.pop();
            }
        }
        if let Some(Value::Seq(children)) = resource.get("resources").map(|r| &r.value) {
            collect_rules(&children.iter().collect::<Vec<_>>(), templates, found);
        }
    }
}

fn resource_kind(resource: &Node) -> Option<ResourceKind> {
    let kind = resource.get("type")?.as_str()?.to_ascii_lowercase();
    if kind.ends_with("/alertrules") {
        return Some(ResourceKind::AlertRule);
    }
    if kind.ends_with("/alertruletemplates") {
        return Some(ResourceKind::AlertRuleTemplate);
    }
    let category = resource.get("properties").and_then(|p| p.get("category")).and_then(Node::as_str);
    let saved_search = kind.eq_ignore_ascii_case(sentinel::SAVED_SEARCH_TYPE) || kind.ends_with("/savedsearches");
    (saved_search && category.is_some_and(|c| c.eq_ignore_ascii_case(sentinel::HUNTING_CATEGORY))).then_some(ResourceKind::HuntingQuery)
}

fn read_resource(found: FoundRule, overlays: Option<&Node>, lines: &LineIndex, file: &Path, index: usize, out: &mut ReadOutcome) {
    let FoundRule { resource, kind, id, version, package_metadata } = found;
    let label = resource.get("properties").and_then(|p| sentinel_yaml::label(p, Key::Name.arm().unwrap_or_default()));
    let mut decoder = Decoder::new(lines, Naming::Arm, file);
    let section = SentinelSection {
        // Absent on an alert rule means it was not made from a template; a template is its own
        // (as a repository YAML rule is), and saved searches have no such link.
        template_link: if kind == ResourceKind::AlertRule { TemplateLink::None } else { TemplateLink::SameAsId },
        // A template's apiVersion is that of the template type, not of the alert rule made from it.
        api_version: (kind != ResourceKind::AlertRuleTemplate)
            .then(|| resource.get("apiVersion").and_then(Node::as_str).map(str::to_string))
            .flatten(),
        version,
        ..Default::default()
    };
    let mut rule =
        Rule { origin: Origin::new(file, resource.position, index, SourceFormat::Arm), id, sentinel: Some(section), ..Default::default() };
    if let Some(metadata) = package_metadata {
        decoder.report(
            Kind::Loss,
            Code::NotCarried,
            metadata.position,
            "the package's content metadata for this rule (source, author, support) is not carried over",
        );
    }
    let mut expressions = Vec::new();
    let properties = resource.get("properties").map(|p| unescape_literals(p, &mut expressions));
    for (position, expression) in expressions {
        let message = format!(
            "`{expression}` is an ARM template expression, which ruleconv does not evaluate: it is carried as that text, not as its value"
        );
        decoder.report(Kind::Loss, Code::NotCarried, position, message);
    }
    let Some(properties) = properties.as_ref().filter(|p| p.entries().is_some()) else {
        decoder.error(Code::MissingKey, resource.position, "the resource has no `properties` mapping");
        sentinel_yaml::finish(decoder, rule, label, out);
        return;
    };
    match kind {
        ResourceKind::AlertRule | ResourceKind::AlertRuleTemplate => {
            match resource.get("kind") {
                Some(node) => match node.as_str().and_then(keys::parse_kind) {
                    Some(kind) => rule.sentinel.get_or_insert_default().kind = Some(kind),
                    None => {
                        let found = node.as_str().map_or_else(|| node.kind_name().to_string(), |s| format!("`{s}`"));
                        decoder.error(
                            Code::InvalidValue,
                            node.position,
                            format!("alert rule `kind` must be Scheduled or NRT (the rule kinds ruleconv converts), found {found}"),
                        );
                    }
                },
                None => decoder.error(Code::MissingKey, resource.position, "the alert rule resource has no `kind` (Scheduled or NRT)"),
            }
            decoder.decode_into(properties, &mut rule);
        }
        ResourceKind::HuntingQuery => hunting_properties(properties, &mut decoder, &mut rule),
    }
    // `alertRuleTemplateName` equal to the rule id is the repository case.
    if let (Some(section), Some(id)) = (rule.sentinel.as_mut(), &rule.id)
        && matches!(&section.template_link, TemplateLink::Other(name) if name.eq_ignore_ascii_case(id))
    {
        section.template_link = TemplateLink::SameAsId;
    }
    if let Some(overlay) = rule.id.as_deref().and_then(|id| overlays?.get(id)) {
        apply_overlay(overlay, &mut decoder, &mut rule);
    }
    sentinel_yaml::require_name_and_query(&mut decoder, properties, (Key::Name.arm().unwrap_or_default(), Key::Query.yaml()), &rule);
    sentinel_yaml::finish(decoder, rule, label, out);
}

/// The properties with ARM's escaped literals (`[[text]`, a string that would otherwise be an
/// expression) read as the text they stand for, in values and property names alike (ARM
/// evaluates both). The real expressions (`[variables('name')]`) go to `expressions` with their
/// positions. ARM's rule: a string that starts with `[` and ends with `]` is an expression,
/// and `[[` escapes the bracket
/// (<https://learn.microsoft.com/azure/azure-resource-manager/templates/template-expressions#escape-characters>).
fn unescape_literals(node: &Node, expressions: &mut Vec<(Position, String)>) -> Node {
    let value = match &node.value {
        Value::Str(s) => Value::Str(unescaped(s, node.position, expressions)),
        Value::Seq(items) => Value::Seq(items.iter().map(|i| unescape_literals(i, expressions)).collect()),
        Value::Map(entries) => Value::Map(
            entries
                .iter()
                .map(|e| Entry {
                    key: unescaped(&e.key, e.key_position, expressions),
                    key_position: e.key_position,
                    value: unescape_literals(&e.value, expressions),
                })
                .collect(),
        ),
        other => other.clone(),
    };
    Node { value, ..node.clone() }
}

/// One string or property name of an ARM template as the text it stands for.
fn unescaped(s: &str, position: Position, expressions: &mut Vec<(Position, String)>) -> String {
    match s.strip_prefix('[') {
        Some(rest) if s.ends_with(']') && rest.starts_with('[') => rest.to_string(),
        Some(_) if s.ends_with(']') => {
            expressions.push((position, s.to_string()));
            s.to_string()
        }
        _ => s.to_string(),
    }
}

/// The rule id: the GUID ending the resource `name`
/// (`[concat(parameters('workspace'),'/Microsoft.SecurityInsights/<GUID>')]`), else `id`.
/// Content packages name rules by a variable (`[variables('rule1')._ruleId]`), looked up in
/// the enclosing templates, innermost first.
fn resource_id(resource: &Node, templates: &[&Node]) -> Option<String> {
    ["name", "id"]
        .iter()
        .filter_map(|key| resource.get(key)?.as_str())
        .find_map(|name| variable_value(name, templates).or_else(|| last_segment(name)))
}

/// A content template's `contentVersion`, literal or from its package's variables.
fn package_version(package: &Node, templates: &[&Node]) -> Option<String> {
    let version = package.get("contentVersion").and_then(Node::as_str)?;
    if version.starts_with('[') { variable_value(version, templates) } else { Some(version.to_string()) }
}

/// The string value of `[variables('name').field.field]`, if every step resolves.
fn variable_value(expression: &str, templates: &[&Node]) -> Option<String> {
    let inner = expression.trim().strip_prefix("[variables('")?.strip_suffix(']')?;
    let (name, path) = inner.split_once("')")?;
    let mut fields = path.split('.').filter(|f| !f.is_empty());
    if !path.is_empty() && !path.starts_with('.') {
        return None;
    }
    let value = templates.iter().rev().find_map(|t| t.get("variables")?.get(name))?;
    let value = fields.try_fold(value, |node, field| node.get(field))?;
    value.as_str().map(str::to_string)
}

/// The last `/` segment of a resource name; in an ARM expression, of its last string literal
/// (`[parameters('name')]` names no id and gives `None`).
fn last_segment(text: &str) -> Option<String> {
    let text = text.trim();
    let segment = if text.starts_with('[') {
        let after = &text[text.rfind('/')? + 1..];
        &after[..after.find('\'').unwrap_or(after.len())]
    } else {
        text.rsplit('/').next()?
    };
    let segment = segment.trim();
    (!segment.is_empty()).then(|| segment.to_string())
}

/// Saved-search properties: `displayName` and `query` as for alert rules; description, tactics
/// and techniques are tags with comma-separated values. `category` selected the resource,
/// `version` is the saved-search schema version (not the rule's) and `eTag` a concurrency
/// token, so none of them is kept.
fn hunting_properties(properties: &Node, decoder: &mut Decoder, rule: &mut Rule) {
    let entries = properties.entries().unwrap_or_default();
    let plain: Vec<_> = entries.iter().filter(|e| !matches!(e.key.as_str(), "category" | "version" | "tags" | "eTag")).cloned().collect();
    decoder.decode_into(&Node { value: Value::Map(plain), ..properties.clone() }, rule);
    let Some(tags) = properties.get("tags") else { return };
    let Value::Seq(items) = &tags.value else {
        decoder.error(
            Code::InvalidValue,
            tags.position,
            format!("`tags` must be a list of {{name, value}} objects, found {}", tags.kind_name()),
        );
        return;
    };
    for item in items {
        let (Some(name), Some(value)) = (item.get("name").and_then(Node::as_str), item.get("value").and_then(Node::as_str)) else {
            decoder.error(Code::InvalidValue, item.position, "a saved-search tag must have a string `name` and `value`");
            continue;
        };
        let list = || value.split(',').map(str::trim).filter(|s| !s.is_empty());
        match keys::hunting_tag(name) {
            Some(Key::Description) => {
                rule.description = Some(value.to_string());
                rule.sentinel.get_or_insert_default().description_verbatim = sentinel::clean_description(value) != value;
            }
            Some(Key::Tactics) => rule.tactics = Some(list().map(AttackRef::parse).collect()),
            Some(Key::Techniques) => rule.techniques = Some(list().map(AttackRef::parse).collect()),
            _ => {
                rule.sentinel.get_or_insert_default().extensions.insert(name.to_string(), serde_json::Value::String(value.to_string()));
            }
        }
    }
}

/// Lays the repository fields kept in template metadata over the rule: every key present
/// there replaces what ARM said (the description as written, techniques as listed).
fn apply_overlay(overlay: &Node, decoder: &mut Decoder, rule: &mut Rule) {
    let Some(entries) = overlay.entries() else {
        decoder.error(
            Code::InvalidValue,
            overlay.position,
            format!("`metadata.{}` entries must be mappings, found {}", sentinel::ARM_METADATA_KEY, overlay.kind_name()),
        );
        return;
    };
    if entries.iter().any(|e| e.key == Key::Techniques.yaml()) {
        rule.techniques = None;
    }
    let (filled, fields): (Vec<_>, Vec<_>) = entries.iter().cloned().partition(|e| e.key == sentinel::ARM_FILLED_KEY);
    let naming = decoder.naming;
    decoder.naming = Naming::Yaml;
    decoder.decode_into(&Node { value: Value::Map(fields), ..overlay.clone() }, rule);
    decoder.naming = naming;
    // A description is kept here only when the property holds it without the repository's
    // wrapper: the one here is the repository's text, wrapper and all.
    if entries.iter().any(|e| e.key == Key::Description.yaml()) {
        rule.sentinel.get_or_insert_default().description_verbatim = false;
    }
    for entry in filled {
        unfill(&entry.value, decoder, rule);
    }
}

/// Unsets the properties our ARM emitter filled with defaults (listed by YAML name): the rule
/// it wrote did not say them.
fn unfill(list: &Node, decoder: &mut Decoder, rule: &mut Rule) {
    let items = match &list.value {
        Value::Seq(items) => items.as_slice(),
        _ => std::slice::from_ref(list),
    };
    let section = rule.sentinel.get_or_insert_default();
    for item in items {
        match item.as_str().and_then(|name| Key::from_name(Naming::Yaml, name)) {
            Some(Key::Enabled) => section.enabled = None,
            Some(Key::SuppressionDuration) => section.suppression.duration = None,
            Some(Key::SuppressionEnabled) => section.suppression.enabled = None,
            _ => decoder.warning(
                Code::Ignored,
                item.position,
                format!("`{}` lists a key ruleconv never fills; ignored", sentinel::ARM_FILLED_KEY),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml;

    #[test]
    fn ids_come_from_resource_names() {
        let guid = "2e4b1e0b-7a6c-4a6d-9d1f-6c1a0e4b1e0b";
        assert_eq!(last_segment(&format!("[concat(parameters('workspace'),'/Microsoft.SecurityInsights/{guid}')]")).as_deref(), Some(guid));
        assert_eq!(
            last_segment(&format!("[concat(resourceId('x', parameters('workspace'), 'y'),'/alertRules/{guid}')]")).as_deref(),
            Some(guid)
        );
        assert_eq!(last_segment(guid).as_deref(), Some(guid));
        assert_eq!(last_segment("ws/Microsoft.SecurityInsights/my-rule").as_deref(), Some("my-rule"));
        assert_eq!(last_segment("[parameters('name')]"), None);
    }

    #[test]
    fn variables_resolve_innermost_first() {
        let outer = yaml::parse_documents(r#"{"variables": {"rule": {"_id": "outer-id", "n": 1}, "plain": "p"}}"#).unwrap().remove(0);
        let inner = yaml::parse_documents(r#"{"variables": {"plain": "inner"}}"#).unwrap().remove(0);
        let templates = [&outer, &inner];
        assert_eq!(variable_value("[variables('rule')._id]", &templates).as_deref(), Some("outer-id"));
        assert_eq!(variable_value("[variables('plain')]", &templates).as_deref(), Some("inner"));
        assert_eq!(variable_value("[variables('rule').n]", &templates), None, "not a string");
        assert_eq!(variable_value("[variables('rule')[0]]", &templates), None);
        assert_eq!(variable_value("[variables('missing')]", &templates), None);
        assert_eq!(variable_value("[parameters('rule')]", &templates), None);
    }
}
