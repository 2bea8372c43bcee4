//! The rule's neutral metadata as Sigma keys: id, related, status, tags, level, dates ...

use super::profile;
use crate::ir::Tactic;
use crate::ir::{Rule, Severity};
use serde_json::{Value as Json, json};

/// Namespace of the UUIDs derived for Sigma documents (fixed, so ids are deterministic).
const SIGMA_ID_NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x3b0c_52e1_7f4a_4c9e_a8d2_91e6_05f7_c3b8);

/// The rule's id when it is a UUID, else a UUID derived from its id (or title).
pub fn rule_id(rule: &Rule) -> String {
    match rule.id.as_deref().map(uuid::Uuid::parse_str) {
        Some(Ok(id)) => id.hyphenated().to_string(),
        _ => derived_id(rule, ""),
    }
}

/// A deterministic UUID for one document of the rule (`part` names it; empty for the rule).
pub fn derived_id(rule: &Rule, part: &str) -> String {
    let base = rule.id.as_deref().unwrap_or(&rule.title);
    uuid::Uuid::new_v5(&SIGMA_ID_NAMESPACE, format!("{base}\u{0}{part}").as_bytes()).to_string()
}

/// `related`: the original rule, when the document does not reuse its id.
pub fn related(rule: &Rule, id: &str) -> Option<Json> {
    let original = rule.id.as_deref().filter(|o| !o.eq_ignore_ascii_case(id))?;
    let original = uuid::Uuid::parse_str(original).map(|u| u.to_string()).unwrap_or_else(|_| derived_id(rule, ""));
    (original != id).then(|| json!([{"id": original, "type": "derived"}]))
}

/// Converted rules have not been tested as Sigma, so they start as `experimental`; a rule its
/// source marks deprecated stays `deprecated`.
pub fn status(rule: &Rule) -> &'static str {
    let deprecated = rule.status.as_ref().is_some_and(|s| s.value.eq_ignore_ascii_case("deprecated"))
        || rule.title.to_ascii_lowercase().contains("[deprecated]");
    if deprecated { "deprecated" } else { "experimental" }
}

pub fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Informational => "informational",
        Severity::Low => "low",
        Severity::Medium => "medium",
        Severity::High => "high",
        Severity::Critical => "critical",
    }
}

/// `attack.<tactic-short-name>` and `attack.t1078.004`, in the rule's order, without repeats.
pub fn tags(rule: &Rule) -> Vec<String> {
    let tactics = rule.tactics.iter().flatten().filter_map(|t| t.id).map(|t: Tactic| t.name().to_ascii_lowercase().replace(' ', "-"));
    let known = rule.techniques.iter().flatten().filter_map(|t| t.id.as_ref()).filter(|t| profile::is_known_technique(t.as_str()));
    let techniques = known.map(|t| t.as_str().to_ascii_lowercase());
    let mut out: Vec<String> = Vec::new();
    for tag in tactics.chain(techniques).map(|t| format!("attack.{t}")) {
        if !out.contains(&tag) {
            out.push(tag);
        }
    }
    out
}

/// The rule's techniques that are not tags, because Sigma's tools do not know them (ICS ones).
pub fn unknown_techniques(rule: &Rule) -> impl Iterator<Item = &str> {
    let ids = rule.techniques.iter().flatten().filter_map(|t| t.id.as_ref());
    ids.map(|t| t.as_str()).filter(|t| !profile::is_known_technique(t))
}

/// A date as Sigma writes it (`YYYY-MM-DD`), from the common written forms; `None` otherwise.
pub fn date(text: &str) -> Option<String> {
    let head: String = text.trim().chars().take(10).collect();
    let parts: Vec<&str> = head.split(['-', '/']).collect();
    let numeric = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    match parts.as_slice() {
        [y, m, d] if numeric(y, 4) && numeric(m, 2) && numeric(d, 2) => Some(format!("{y}-{m}-{d}")),
        _ => None,
    }
}

/// A description without the quotes Sentinel repository files wrap inside a block scalar.
pub fn description(text: &str) -> String {
    let trimmed = text.trim();
    let unquoted = ['\'', '"'].iter().find_map(|q| trimmed.strip_prefix(*q).and_then(|t| t.strip_suffix(*q)));
    unquoted.unwrap_or(trimmed).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::AttackRef;

    #[test]
    fn ids_are_kept_or_derived_deterministically() {
        let mut rule = Rule { id: Some("E1CE0EAB-10D1-4AAE-863F-9A383345BA88".into()), title: "t".into(), ..Rule::default() };
        assert_eq!(rule_id(&rule), "e1ce0eab-10d1-4aae-863f-9a383345ba88");
        assert_eq!(related(&rule, &rule_id(&rule)), None);
        rule.id = Some("not-a-uuid".into());
        assert_eq!(rule_id(&rule), rule_id(&rule.clone()));
        assert_ne!(derived_id(&rule, "a"), derived_id(&rule, "b"));
    }

    #[test]
    fn tags_dates_and_descriptions() {
        let rule = Rule {
            tactics: Some(vec![AttackRef::parse("InitialAccess"), AttackRef::parse("Command and Control")]),
            techniques: Some(vec![AttackRef::parse("T1078.004"), AttackRef::parse("bogus")]),
            ..Rule::default()
        };
        assert_eq!(tags(&rule), ["attack.initial-access", "attack.command-and-control", "attack.t1078.004"]);
        assert_eq!(date("2022/08/07"), Some("2022-08-07".into()));
        assert_eq!(date("7 Aug 2022"), None);
        assert_eq!(description("'Detects x.'\n"), "Detects x.");
    }
}
