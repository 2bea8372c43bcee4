//! Rule pages copied from catalog sites: prose around a Sentinel rule definition (YAML as
//! written, or flattened to one column by the copy), maybe a fenced KQL block, and labelled
//! facts (hypothesis, references, false positives, source address, retrieval date,
//! confidence).
//!
//! The definition is rebuilt as YAML (`definition`) and read like repository YAML; every
//! position (a bad value, a KQL error inside the query) is mapped back into the page. The
//! facts (`facts`) go to the rule's neutral fields, each with its label as its origin.

mod definition;
mod facts;

use super::ReadOutcome;
use super::catalog::{find_fence, read_fence};
use super::locate::LineIndex;
use super::sentinel_yaml;
use crate::diag::{Code, Position};
use crate::ir::{Lifted, Logic, Query, Rule, SentinelSection, SourceFormat};
use crate::yaml::{self, Value};
use definition::Rebuilt;
use facts::{Fact, FactKind};
use serde_json::{Value as Json, json};
use std::path::Path;

/// Whether `text` is a page: prose before a rule definition.
pub fn looks_like_page(text: &str) -> bool {
    let lines: Vec<&str> = text.lines().collect();
    let Some(start) = definition::find(&lines).map(|found| found.map_or_else(|e| e.position.line - 1, |r| r.start)) else {
        return false;
    };
    lines[..start].iter().any(|line| {
        let line = line.trim();
        !line.is_empty() && !line.starts_with('#') && line != "---" && definition::is_prose(line)
    })
}

pub fn read(text: &str, file: &Path, out: &mut ReadOutcome) {
    let lines: Vec<&str> = text.lines().collect();
    let rebuilt = match definition::find(&lines) {
        None => {
            let message = "no rule definition in this page (expected Sentinel keys such as `name:` and `query:` at the start of lines)";
            out.not_a_rule(file, Position::new(1, 1), message);
            return;
        }
        Some(Err(e)) => {
            out.rule_error(Code::PageRebuild, file, e.position, 0, format!("cannot rebuild the rule definition: {}", e.message));
            return;
        }
        Some(Ok(rebuilt)) => rebuilt,
    };
    let documents = match yaml::parse_documents(&rebuilt.text) {
        Ok(documents) => documents,
        Err(e) => {
            let message = format!("invalid YAML in the rule definition: {}", e.message);
            out.rule_error(Code::YamlSyntax, file, rebuilt.to_page(e.position), 0, message);
            return;
        }
    };
    let Some(document) = documents.iter().find(|d| d.value != Value::Null) else {
        out.not_a_rule(file, Position::new(rebuilt.start + 1, 1), "the rule definition is empty");
        return;
    };
    let open = find_fence(&lines, 0).filter(|&open| open < rebuilt.start || open >= rebuilt.end);
    let fence = open.map(|open| read_fence(&lines, open, 0));
    let fence_lines = open.zip(fence.as_ref()).map(|(open, f)| open..f.next);
    let in_rule = |i: usize| (rebuilt.start..rebuilt.end).contains(&i) || fence_lines.as_ref().is_some_and(|r| r.contains(&i));
    let facts = facts::scan(&lines, in_rule);
    let index = LineIndex::new(&rebuilt.text);
    let mut read = ReadOutcome::default();
    sentinel_yaml::read_document(document, &index, file, 0, SourceFormat::Page, &mut read, |decoder, rule| {
        to_page(rule, &rebuilt);
        let (Some(open), Some(fence)) = (open, fence) else { return };
        match rule.kql() {
            // A definition without a query takes the page's KQL block.
            None if rule.logic.is_none() => rule.logic = Some(Logic::Kql(Query::new(fence.text, fence.locator))),
            Some(query) if query.text.trim() != fence.text.trim() => decoder.warning(
                Code::ConflictingValue,
                Position::new(open + 1, 1),
                "the page's KQL block differs from the query of the rule definition; the definition's query is read",
            ),
            _ => {}
        }
    });
    if let Some(rule) = read.rules.first_mut() {
        carry(facts, rule);
        keep_in_section(rule);
    }
    for mut problem in read.problems {
        problem.position = rebuilt.to_page(problem.position);
        out.problems.push(problem);
    }
    out.rules.extend(read.rules);
    out.not_a_rule |= read.not_a_rule;
}

/// Moves the positions the rule holds from the rebuilt definition to the page.
fn to_page(rule: &mut Rule, rebuilt: &Rebuilt) {
    rule.origin.position = rebuilt.to_page(rule.origin.position);
    rule.origin.key_positions.values_mut().for_each(|p| *p = rebuilt.to_page(*p));
    if let Some(Logic::Kql(query)) = &mut rule.logic {
        query.locator.moved(|p| rebuilt.to_page(p));
    }
}

/// The page's facts in the rule's neutral fields; where each was found is kept as the
/// position of its field (`references`, `falsePositives`, `note`, `retrieved`, `confidence`).
fn carry(facts: Vec<Fact>, rule: &mut Rule) {
    for fact in facts {
        let field = match fact.kind {
            FactKind::References | FactKind::Source => "references",
            FactKind::FalsePositives => "falsePositives",
            FactKind::Hypothesis => "note",
            FactKind::Retrieved => "retrieved",
            FactKind::Confidence => "confidence",
        };
        rule.origin.key_positions.entry(field.to_string()).or_insert(fact.position);
        let lifted = Lifted::new(fact.value, fact.label);
        match fact.kind {
            FactKind::References | FactKind::Source => {
                if !rule.references.iter().any(|r| r.value == lifted.value) {
                    rule.references.push(lifted);
                }
            }
            FactKind::FalsePositives => rule.false_positives.push(lifted),
            // The first one given counts; a page repeating a label repeats the fact.
            FactKind::Hypothesis => _ = rule.note.get_or_insert(lifted),
            FactKind::Retrieved => _ = rule.retrieved.get_or_insert(lifted),
            FactKind::Confidence => _ = rule.confidence.get_or_insert(lifted),
        }
    }
}

/// The page's facts as keys of the rule's Sentinel section too, so that the Sentinel targets
/// carry them (YAML as keys, ARM in the template metadata); `references` is the key some
/// repository rules already use. A key the definition has itself is left as written.
fn keep_in_section(rule: &mut Rule) {
    let list = |items: &[Lifted<String>]| (!items.is_empty()).then(|| json!(items.iter().map(|i| &i.value).collect::<Vec<_>>()));
    let text = |fact: &Option<Lifted<String>>| fact.as_ref().map(|f| Json::String(f.value.clone()));
    let facts = [
        ("references", list(&rule.references)),
        ("falsePositives", list(&rule.false_positives)),
        ("note", text(&rule.note)),
        ("retrieved", text(&rule.retrieved)),
        ("confidence", text(&rule.confidence)),
    ];
    let section = rule.sentinel.get_or_insert_with(SentinelSection::default);
    for (key, value) in facts {
        if let Some(value) = value {
            section.extensions.entry(key.to_string()).or_insert(value);
        }
    }
}
