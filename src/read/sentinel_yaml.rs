//! Azure-Sentinel repository YAML: analytic rules (`kind: Scheduled`/`NRT`) and hunting
//! queries (no `kind`). A file may hold several rules as YAML documents (`---`).

use super::ReadOutcome;
use super::documents::Parse;
use super::fields::{Decoder, Naming};
use super::locate::LineIndex;
use crate::diag::{Code, Kind};
use crate::ir::{Origin, Rule, RuleKind, SentinelSection, SourceFormat};
use crate::sentinel::keys::Key;
use crate::yaml::{self, Node, Value};
use std::path::Path;

/// Reads the rules of `text`, whose YAML parse is `parse`.
pub fn read(text: &str, parse: Parse, file: &Path, out: &mut ReadOutcome) {
    let lines = LineIndex::new(text);
    let Ok(documents) = parse else {
        // One broken document must not hide the good ones around it: each `---` piece is
        // parsed on its own, and a broken piece is a rule that could not be read.
        let mut index = 0;
        for piece in pieces(text) {
            match piece {
                Ok(None) => continue,
                Ok(Some(document)) => {
                    read_document(&document, &lines, file, index, SourceFormat::SentinelYaml, out, |_, _| {});
                }
                Err(e) => out.rule_error(Code::YamlSyntax, file, e.position, index, format!("invalid YAML: {}", e.message)),
            }
            index += 1;
        }
        return;
    };
    for (index, document) in documents.iter().filter(|d| d.value != Value::Null).enumerate() {
        read_document(document, &lines, file, index, SourceFormat::SentinelYaml, out, |_, _| {});
    }
}

/// After a syntax error: each `---`-separated piece of the stream parsed on its own, keeping
/// file line numbers (each piece is padded with the lines before it); `Ok(None)` for an empty
/// piece.
fn pieces(text: &str) -> Vec<Result<Option<Node>, yaml::YamlError>> {
    let mut starts = vec![0];
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if offset > 0 && (line.trim_end() == "---" || line.starts_with("--- ")) {
            starts.push(offset);
        }
        offset += line.len();
    }
    starts.push(text.len());
    starts
        .windows(2)
        .map(|w| {
            let padding = "\n".repeat(text[..w[0]].matches('\n').count());
            yaml::parse_documents(&format!("{padding}{}", &text[w[0]..w[1]])).map(|docs| docs.into_iter().find(|d| d.value != Value::Null))
        })
        .collect()
}

/// Decodes one rule document (also used for markdown front matter, whose `adjust` unwraps a
/// fenced query before the rule is checked). Returns the rule's index in `out.rules` when it
/// could be read; its problems (and any warnings) go to `out` either way.
pub fn read_document(
    document: &Node,
    lines: &LineIndex,
    file: &Path,
    index: usize,
    format: SourceFormat,
    out: &mut ReadOutcome,
    adjust: impl FnOnce(&mut Decoder, &mut Rule),
) -> Option<usize> {
    let label = label(document, Key::Name.yaml());
    let mut decoder = Decoder::new(lines, Naming::Yaml, file);
    let Some(entries) = document.entries() else {
        out.not_a_rule(file, document.position, format!("not a Sentinel rule: expected a mapping of keys, found {}", document.kind_name()));
        return None;
    };
    if !entries.iter().any(|e| e.key == Key::Name.yaml() || e.key == Key::Query.yaml()) {
        out.not_a_rule(file, document.position, "not a Sentinel rule: no `name`/`query` keys");
        return None;
    }
    let mut rule = Rule {
        origin: Origin::new(file, document.position, index, format),
        sentinel: Some(SentinelSection::default()),
        ..Default::default()
    };
    decoder.decode_into(document, &mut rule);
    adjust(&mut decoder, &mut rule);
    infer_scheduled(&mut decoder, document, &mut rule);
    require_name_and_query(&mut decoder, document, (Key::Name.yaml(), Key::Query.yaml()), &rule);
    finish(decoder, rule, label, out)
}

/// A rule with no `kind` that says when to run (`queryFrequency`, `queryPeriod`) and when to
/// alert (`triggerOperator`/`triggerThreshold`) is a scheduled analytic rule: hunting queries
/// have neither (Sentinel's saved searches carry no schedule and never alert). Reading it as a
/// hunting query would make a detection that never fires, so it is read as `Scheduled`, said.
fn infer_scheduled(decoder: &mut Decoder, document: &Node, rule: &mut Rule) {
    let Some(section) = rule.sentinel.as_mut() else { return };
    let scheduled = section.schedule.query_frequency.is_some() && section.schedule.query_period.is_some();
    let triggered = section.trigger.operator.is_some() || section.trigger.threshold.is_some();
    // A `kind` written (even null or misspelled) was already read or reported.
    if section.kind.is_some() || document.get(Key::Kind.yaml()).is_some() || !scheduled || !triggered {
        return;
    }
    section.kind = Some(RuleKind::Scheduled);
    let position = document
        .entries()
        .unwrap_or_default()
        .iter()
        .find(|e| e.key == Key::Frequency.yaml())
        .map_or(document.position, |e| e.key_position);
    let message = "the rule has no `kind` but a schedule (`queryFrequency`, `queryPeriod`) and a trigger: read as a Scheduled analytic rule, not a hunting query";
    decoder.report(Kind::Change, Code::DefaultAdded, position, message);
}

/// The two keys without which there is no rule to convert. A key present with a bad value
/// was already reported by the decoder; only absent (or null) keys are reported here.
pub fn require_name_and_query(decoder: &mut Decoder, map: &Node, (name_key, query_key): (&str, &str), rule: &Rule) {
    let missing = |key: &str| map.get(key).is_none_or(|n| n.value == Value::Null);
    if rule.logic.is_none() && missing(query_key) {
        decoder.error(Code::MissingKey, map.position, format!("rule has no `{query_key}`"));
    }
    if rule.title.is_empty() && missing(name_key) {
        decoder.error(Code::MissingKey, map.position, format!("rule has no `{name_key}`"));
    }
}

/// Reports the decoder's problems (assigned to the rule by its index in the file) and keeps
/// the rule if none was an error; returns its index in `out.rules`.
pub fn finish(decoder: Decoder, mut rule: Rule, label: Option<String>, out: &mut ReadOutcome) -> Option<usize> {
    let failed = decoder.has_errors();
    let label = label.or_else(|| (!rule.title.is_empty()).then(|| rule.title.clone())).or_else(|| rule.id.clone());
    out.report(decoder.problems, rule.origin.index, label.as_deref());
    if failed {
        return None;
    }
    super::lift::lift(&mut rule);
    out.rules.push(rule);
    Some(out.rules.len() - 1)
}

/// How to name a rule in messages before it is decoded: its `name_key`, else its `id`.
pub fn label(map: &Node, name_key: &str) -> Option<String> {
    map.get(name_key).and_then(Node::as_str).or_else(|| map.get(Key::Id.yaml()).and_then(Node::as_str)).map(str::to_string)
}
