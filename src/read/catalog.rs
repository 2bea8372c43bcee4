//! Markdown rule catalogs: per entry a `## title`, description paragraphs, a `|Name | Value |`
//! table and a ```kql block.
//!
//! Catalogs list one rule once per (tactic, technique, platform, connector) combination, so
//! entries with the same DetectionId AND the same query are ONE rule: their Tactic,
//! TechniqueId, Platform and ConnectorId/DataTypes values are merged (set union, first-seen
//! order). Single-valued rows that disagree keep the first value, with a warning. The same
//! DetectionId with a *different* query is kept as separate rules (nothing is dropped), with
//! a warning, because picking one query would silently lose the other.
//!
//! Rows become a YAML-named mapping that goes through the shared field decoder, so catalog
//! values are validated exactly like YAML ones (and errors point at the table cell).

use super::ReadOutcome;
use super::fields::{Decoder, Naming};
use super::locate::LineIndex;
use super::sentinel_yaml;
use crate::diag::{Code, Position, Problem};
use crate::ir::{Locator, Logic, Origin, Query, Rule, RuleKind, SentinelSection, SourceFormat};
use crate::sentinel::keys::{self, Key};
use crate::yaml::{Entry, Node, Style, Value};
use indexmap::IndexMap;
use std::path::Path;

/// Whether `text` has the shape of a catalog: a `## ` heading, a Name/Value table and a fence.
pub fn looks_like_catalog(text: &str) -> bool {
    let lines: Vec<&str> = text.lines().collect();
    lines.iter().any(|l| l.starts_with("## ")) && lines.iter().any(|l| is_table_header(l)) && find_fence(&lines, 0).is_some()
}

fn is_table_header(line: &str) -> bool {
    let cells = cells(line);
    cells.len() == 2 && cells[0].eq_ignore_ascii_case("name") && cells[1].eq_ignore_ascii_case("value")
}

/// The cells of a markdown table row (`|a | b|` → `a`, `b`), trimmed.
fn cells(line: &str) -> Vec<&str> {
    let line = line.trim();
    let Some(inner) = line.strip_prefix('|') else { return Vec::new() };
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    inner.split('|').map(str::trim).collect()
}

/// A fenced code block read from markdown lines.
pub struct Fence {
    pub text: String,
    pub locator: Locator,
    pub closed: bool,
    /// Index (in the lines given) of the line after the block.
    pub next: usize,
}

/// The index of the first ```kql / ```kusto opening line at or after `from`.
pub fn find_fence(lines: &[&str], from: usize) -> Option<usize> {
    (from..lines.len()).find(|&i| is_query_fence(lines[i]))
}

fn is_query_fence(line: &str) -> bool {
    let info = line.trim().strip_prefix("```").map(|rest| rest.trim().to_ascii_lowercase());
    matches!(info.as_deref(), Some("kql" | "kusto"))
}

/// Reads the block opened at `lines[open]`; `line_offset` is the file line number of
/// `lines[0]` minus one. Each code line is anchored at column 1 of its file line.
pub fn read_fence(lines: &[&str], open: usize, line_offset: usize) -> Fence {
    let mut text = String::new();
    let mut locator = Locator::at(Position::new(open + 2 + line_offset, 1));
    let mut i = open + 1;
    while i < lines.len() {
        if lines[i].trim() == "```" {
            return Fence { text, locator, closed: true, next: i + 1 };
        }
        locator.push(text.len(), Position::new(i + 1 + line_offset, 1));
        text.push_str(lines[i]);
        text.push('\n');
        i += 1;
    }
    Fence { text, locator, closed: false, next: i }
}

/// One `## ` section of the catalog.
struct Section {
    title: String,
    title_position: Position,
    description: Vec<String>,
    /// (row name, value, position of the value cell).
    rows: Vec<(String, String, Position)>,
    query: Option<Fence>,
}

impl Section {
    fn values(&self, name: &str) -> impl Iterator<Item = (&str, Position)> {
        self.rows.iter().filter(move |(n, v, _)| n.eq_ignore_ascii_case(name) && !v.is_empty()).map(|(_, v, p)| (v.as_str(), *p))
    }

    fn value(&self, name: &str) -> Option<(&str, Position)> {
        self.values(name).next()
    }

    /// Comma-separated items of every row named `name`.
    fn items(&self, name: &str) -> Vec<(String, Position)> {
        self.values(name)
            .flat_map(|(v, p)| v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(move |s| (s.to_string(), p)))
            .collect()
    }
}

fn sections(lines: &[&str]) -> Vec<Section> {
    let mut sections: Vec<Section> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if let Some(title) = line.strip_prefix("## ") {
            sections.push(Section {
                title: title.trim().to_string(),
                title_position: Position::new(i + 1, 4),
                description: Vec::new(),
                rows: Vec::new(),
                query: None,
            });
            i += 1;
            continue;
        }
        let Some(section) = sections.last_mut() else {
            i += 1;
            continue;
        };
        if is_query_fence(line) && section.query.is_none() {
            let fence = read_fence(lines, i, 0);
            i = fence.next;
            section.query = Some(fence);
            continue;
        }
        if line.trim_start().starts_with('|') {
            let row = cells(line);
            let separator = row.iter().all(|c| !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':' | ' ')));
            if row.len() >= 2 && !is_table_header(line) && !separator {
                let value_col = line.char_indices().filter(|(_, c)| *c == '|').nth(1).map_or(1, |(b, _)| line[..b].chars().count() + 2);
                section.rows.push((row[0].to_string(), row[1].to_string(), Position::new(i + 1, value_col)));
            }
        } else if section.rows.is_empty() && section.query.is_none() && !line.starts_with('#') {
            section.description.push(line.to_string());
        }
        i += 1;
    }
    sections
}

pub fn read(text: &str, file: &Path, out: &mut ReadOutcome) {
    let lines: Vec<&str> = text.lines().collect();
    let sections = sections(&lines);
    if sections.is_empty() {
        out.not_a_rule(file, Position::new(1, 1), "not a rule catalog: no `## ` rule sections");
        return;
    }
    // Group the sections that describe one rule: same DetectionId (else title) and same query.
    // An entry without a query is a rule of its own, that cannot be read.
    let mut groups: IndexMap<GroupKey, Vec<&Section>> = IndexMap::new();
    for (n, section) in sections.iter().enumerate() {
        let key = match &section.query {
            Some(query) => {
                let id = section.value("DetectionId").map_or_else(|| section.title.clone(), |(id, _)| id.to_string());
                GroupKey::Rule(id, query.text.clone())
            }
            None => GroupKey::NoQuery(n),
        };
        groups.entry(key).or_default().push(section);
    }
    let mut queries_per_id: IndexMap<&str, Vec<Position>> = IndexMap::new();
    for (key, group) in &groups {
        if let GroupKey::Rule(id, _) = key {
            queries_per_id.entry(id.as_str()).or_default().push(group[0].title_position);
        }
    }
    let line_index = LineIndex::new(text);
    for (index, (key, group)) in groups.iter().enumerate() {
        let first = group[0];
        let GroupKey::Rule(id, _) = key else {
            let message = "rule has no `query`: the catalog entry has no ```kql block";
            let problem = Problem::error(Code::MissingKey, file, first.title_position, message);
            out.report(vec![problem], index, Some(&first.title));
            continue;
        };
        let mut decoder = Decoder::new(&line_index, Naming::Yaml, file);
        let versions = &queries_per_id[id.as_str()];
        if versions.len() > 1 {
            let lines: Vec<String> = versions.iter().map(|p| p.line.to_string()).collect();
            decoder.warning(
                Code::ConflictingValue,
                first.title_position,
                format!(
                    "DetectionId `{id}` has {} different queries (entries at lines {}); each is read as its own rule",
                    versions.len(),
                    lines.join(", ")
                ),
            );
        }
        let mapping = to_mapping(group, &mut decoder);
        let origin = Origin::new(file, first.title_position, index, SourceFormat::MarkdownCatalog);
        let mut rule = Rule { origin, sentinel: Some(SentinelSection::default()), ..Default::default() };
        decoder.decode_into(&mapping, &mut rule);
        if let Some(fence) = &first.query {
            rule.logic = Some(Logic::Kql(Query::new(fence.text.clone(), fence.locator.clone())));
        }
        sentinel_yaml::require_name_and_query(&mut decoder, &mapping, (Key::Name.yaml(), Key::Query.yaml()), &rule);
        sentinel_yaml::finish(decoder, rule, Some(first.title.clone()), out);
    }
}

/// What makes catalog sections one rule.
#[derive(PartialEq, Eq, Hash)]
enum GroupKey {
    /// DetectionId (else title) and query text.
    Rule(String, String),
    /// An entry without a query, by its section number.
    NoQuery(usize),
}

/// The rows of a group of sections as a YAML-named mapping for the field decoder.
fn to_mapping(group: &[&Section], decoder: &mut Decoder) -> Node {
    let first = group[0];
    let mut entries = Vec::new();
    let mut put = |key: &str, value: Node| entries.push(Entry { key: key.to_string(), key_position: value.position, value });
    if let Some((id, p)) = first.value("DetectionId") {
        put(Key::Id.yaml(), string(id, p));
    }
    put(Key::Name.yaml(), string(&first.title, first.title_position));
    let description = first.description.join("\n");
    if !description.trim().is_empty() {
        let start = first.description.iter().position(|l| !l.trim().is_empty()).unwrap_or(0);
        let text = first.description[start..].join("\n");
        put(Key::Description.yaml(), string(text.trim_end(), Position::new(first.title_position.line + 1 + start, 1)));
    }
    // Single-valued rows: the first section's value; a disagreeing later one is reported.
    for (row, key) in [
        ("DetectionSeverity", Key::Severity),
        ("QueryFrequency", Key::Frequency),
        ("QueryPeriod", Key::Period),
        ("TriggerOperator", Key::TriggerOperator),
    ] {
        if let Some((value, p)) = single(group, row, decoder) {
            put(key.yaml(), string(&value, p));
        }
    }
    if let Some((value, p)) = single(group, "TriggerThreshold", decoder) {
        let node = match value.parse::<i64>() {
            Ok(i) => Node { value: Value::Int(i), position: p, style: Style::Plain },
            Err(_) => string(&value, p),
        };
        put(Key::TriggerThreshold.yaml(), node);
    }
    if let Some((kind, p)) = single(group, "DetectionType", decoder) {
        match kind.to_ascii_lowercase().as_str() {
            "hunting" => {}
            "analytic" | "analytics" | "scheduled" => put(Key::Kind.yaml(), string(keys::kind_name(RuleKind::Scheduled), p)),
            "nrt" => put(Key::Kind.yaml(), string(keys::kind_name(RuleKind::Nrt), p)),
            _ => {
                decoder.error(Code::InvalidValue, p, format!("`DetectionType` must be Hunting, Analytic, Scheduled or NRT, found `{kind}`"))
            }
        }
    }
    let union = |name: &str| {
        let mut seen: Vec<(String, Position)> = Vec::new();
        for (item, p) in group.iter().flat_map(|s| s.items(name)) {
            if !seen.iter().any(|(s, _)| *s == item) {
                seen.push((item, p));
            }
        }
        seen
    };
    let tactics = union("Tactic");
    if !tactics.is_empty() {
        put(Key::Tactics.yaml(), list(&tactics));
    }
    let techniques = union("TechniqueId");
    if !techniques.is_empty() {
        put(Key::Techniques.yaml(), list(&techniques));
    }
    if let Some(connectors) = connectors(group) {
        put(Key::Connectors.yaml(), connectors);
    }
    let platforms = union("Platform");
    if !platforms.is_empty() {
        put("Platform", list(&platforms));
    }
    // Every other row is kept as written, under its own name.
    const MODELLED: [&str; 14] = [
        "DetectionId",
        "DetectionSeverity",
        "QueryFrequency",
        "QueryPeriod",
        "TriggerOperator",
        "TriggerThreshold",
        "DetectionType",
        "Tactic",
        "TechniqueId",
        "Platform",
        "ConnectorId",
        "DataTypes",
        "Name",
        "Value",
    ];
    let mut others: Vec<String> = Vec::new();
    for (name, _, _) in group.iter().flat_map(|s| &s.rows) {
        if !MODELLED.iter().any(|m| m.eq_ignore_ascii_case(name)) && !others.contains(name) {
            others.push(name.clone());
        }
    }
    for name in others {
        if let Some((value, p)) = single(group, &name, decoder) {
            put(&name, string(&value, p));
        }
    }
    Node { value: Value::Map(entries), position: first.title_position, style: Style::Plain }
}

/// The value of a single-valued row across a group (first non-empty), warning when a later
/// section says something else.
fn single(group: &[&Section], row: &str, decoder: &mut Decoder) -> Option<(String, Position)> {
    let mut found: Option<(String, Position)> = None;
    for section in group {
        let Some((value, p)) = section.value(row) else { continue };
        match &found {
            None => found = Some((value.to_string(), p)),
            Some((first, first_p)) if first != value => {
                decoder.warning(
                    Code::ConflictingValue,
                    p,
                    format!("`{row}` is `{value}` here but `{first}` at line {}; the first is kept", first_p.line),
                );
            }
            Some(_) => {}
        }
    }
    found
}

/// ConnectorId and DataTypes rows pair up per section; merged per connector, first-seen order.
fn connectors(group: &[&Section]) -> Option<Node> {
    let mut merged: IndexMap<String, (Position, Vec<(String, Position)>)> = IndexMap::new();
    for section in group {
        let data_types = section.items("DataTypes");
        for (connector, p) in section.items("ConnectorId") {
            let (_, types) = merged.entry(connector).or_insert((p, Vec::new()));
            for (t, tp) in &data_types {
                if !types.iter().any(|(s, _)| s == t) {
                    types.push((t.clone(), *tp));
                }
            }
        }
    }
    if merged.is_empty() {
        return None;
    }
    let items = merged
        .into_iter()
        .map(|(id, (p, types))| {
            let entries = vec![
                Entry { key: "connectorId".into(), key_position: p, value: string(&id, p) },
                Entry { key: "dataTypes".into(), key_position: p, value: list(&types) },
            ];
            Node { value: Value::Map(entries), position: p, style: Style::Plain }
        })
        .collect();
    Some(Node { value: Value::Seq(items), position: group[0].title_position, style: Style::Plain })
}

fn string(text: &str, position: Position) -> Node {
    Node { value: Value::Str(text.to_string()), position, style: Style::Plain }
}

fn list(items: &[(String, Position)]) -> Node {
    let position = items.first().map_or_else(Position::default, |(_, p)| *p);
    Node { value: Value::Seq(items.iter().map(|(s, p)| string(s, *p)).collect()), position, style: Style::Plain }
}
