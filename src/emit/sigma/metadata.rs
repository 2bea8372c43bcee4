//! The rule's neutral metadata as Sigma keys: id, related, status, tags, level, dates ...

use super::profile;
use crate::diag::{Code, Kind, Problem};
use crate::ir::Tactic;
use crate::ir::{Rule, Severity};
use crate::sentinel::keys::{Key, Naming};
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

/// The note for an id that is not a UUID, which Sigma ids are: the rule gets a derived one.
pub fn id_problem(rule: &Rule) -> Option<Problem> {
    let id = rule.id.as_deref().filter(|id| uuid::Uuid::parse_str(id).is_err())?;
    let message = format!("id `{id}` is not a UUID, as Sigma ids are; using {}, derived from it", rule_id(rule));
    Some(Problem::at_key(Kind::Change, Code::DerivedId, rule, "id", message))
}

/// A deterministic UUID for one document of the rule (`part` names it; empty for the rule).
pub fn derived_id(rule: &Rule, part: &str) -> String {
    let base = rule.id.as_deref().unwrap_or(&rule.title);
    uuid::Uuid::new_v5(&SIGMA_ID_NAMESPACE, format!("{base}\u{0}{part}").as_bytes()).to_string()
}

/// `related`: a Sigma rule's own, on the document keeping its id; else the original rule,
/// when the document does not reuse its id.
pub fn related(rule: &Rule, id: &str) -> Option<Json> {
    if let Some(sigma) = rule.sigma.as_ref().filter(|s| !s.related.is_empty() && id == rule_id(rule)) {
        return Some(sigma.related.iter().map(|(kind, id)| json!({"id": id, "type": kind})).collect());
    }
    let original = rule.id.as_deref().filter(|o| !o.eq_ignore_ascii_case(id))?;
    let original = uuid::Uuid::parse_str(original).map(|u| u.to_string()).unwrap_or_else(|_| derived_id(rule, ""));
    (original != id).then(|| json!([{"id": original, "type": "derived"}]))
}

/// A Sigma rule keeps its status. Converted rules have not been tested as Sigma, so they start
/// as `experimental`; a rule its source marks deprecated stays `deprecated`.
pub fn status(rule: &Rule) -> String {
    if let Some(status) = rule.status.as_ref().filter(|_| rule.sigma.is_some()) {
        return status.value.clone();
    }
    let deprecated = rule.status.as_ref().is_some_and(|s| s.value.eq_ignore_ascii_case("deprecated"))
        || rule.title.to_ascii_lowercase().contains("[deprecated]");
    if deprecated { "deprecated" } else { "experimental" }.to_string()
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

/// Tactics ATT&CK v18 split off Defense Evasion; the ATT&CK data Sigma's tools check tags
/// against predates the split.
const SPLIT_FROM_DEFENSE_EVASION: [&str; 2] = ["attack.stealth", "attack.defense-impairment"];

/// What becomes of a Sigma rule's tag that Sigma's tools would flag.
enum Retag<'r> {
    /// A renamed tactic, written as the tactic it was split from.
    Renamed(&'r str),
    /// An ATT&CK id the tools do not know (a newer technique, a data source): not tagged.
    Unknown(&'r str),
}

/// A Sigma rule's tags that Sigma's tools would flag, and what is written instead.
fn retagged(rule: &Rule) -> impl Iterator<Item = Retag<'_>> {
    rule.tags.iter().filter(|_| rule.sigma.is_some()).filter_map(|tag| {
        let tag = tag.value.as_str();
        if SPLIT_FROM_DEFENSE_EVASION.contains(&tag) {
            return Some(Retag::Renamed(tag));
        }
        let id = tag.strip_prefix("attack.")?;
        let kind = id.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
        let known = match kind {
            "t" => profile::is_known_technique(&id.to_ascii_uppercase()),
            // Groups and software are in the tools' data; other ids (data sources) are not.
            "g" | "s" => true,
            _ => kind.len() == id.len(),
        };
        (!known).then_some(Retag::Unknown(tag))
    })
}

/// What `retagged` changes, for the report: a renamed tactic is a change, a dropped id a loss.
pub fn retag_problems(rule: &Rule) -> impl Iterator<Item = Problem> + '_ {
    retagged(rule).map(|retag| match retag {
        Retag::Renamed(tag) => {
            let message = format!(
                "`{tag}` is tagged `attack.defense-evasion`, the tactic it was split from in ATT&CK v18, which Sigma's tools do not know yet"
            );
            Problem::at_key(Kind::Change, Code::Respelled, rule, "tags", message)
        }
        Retag::Unknown(tag) => {
            let message = format!("`{tag}` is not in the ATT&CK data Sigma's tools check tags against; it is not tagged");
            Problem::at_key(Kind::Loss, Code::Untagged, rule, "tags", message)
        }
    })
}

/// A Sigma rule's tags as written (groups, software, CVEs too) but for `retagged` ones; else
/// `attack.<tactic-short-name>` and `attack.t1078.004`, in the rule's order. Without repeats.
pub fn tags(rule: &Rule) -> Vec<String> {
    let flagged: Vec<Retag> = retagged(rule).collect();
    let written = rule.tags.iter().filter(|_| rule.sigma.is_some()).filter_map(|tag| {
        match flagged.iter().find(|r| matches!(r, Retag::Renamed(t) | Retag::Unknown(t) if *t == tag.value)) {
            Some(Retag::Renamed(_)) => Some("attack.defense-evasion".to_string()),
            Some(Retag::Unknown(_)) => None,
            None => Some(tag.value.clone()),
        }
    });
    let enterprise = rule.tactics.iter().flatten().filter_map(|t| t.id).filter(|t| profile::is_enterprise_tactic(t.id()));
    let tactics = enterprise.map(|t: Tactic| t.name().to_ascii_lowercase().replace(' ', "-"));
    let known = rule.techniques.iter().flatten().filter_map(|t| t.id.as_ref()).filter(|t| profile::is_known_technique(t.as_str()));
    let techniques = known.map(|t| t.as_str().to_ascii_lowercase());
    let mut out: Vec<String> = Vec::new();
    let attack = tactics.chain(techniques).map(|t| format!("attack.{t}")).filter(|_| rule.sigma.is_none());
    for tag in written.chain(attack) {
        if !out.contains(&tag) {
            out.push(tag);
        }
    }
    out
}

/// The rule's Sentinel settings for the `sentinel::SIGMA_ATTRIBUTE` custom attribute: its
/// Sentinel section as the repository YAML writes it (so the Sentinel field readers read it
/// back), without the neutral fields the Sigma document says in its own keys; but with the
/// tactics and techniques it cannot tag (`untagged`), so a trip back to Sentinel keeps them.
pub fn sentinel_attribute(rule: &Rule) -> Option<Json> {
    let section = rule.sentinel.as_ref()?;
    let Json::Object(keys) = crate::emit::sentinel_yaml::encode(rule) else { return None };
    // A neutral key kept as written (null, or with an empty item) is the section's, not the rule's.
    let neutral = |key: &str| Key::from_name(Naming::Yaml, key).is_some_and(Key::is_neutral) && !section.extensions.contains_key(key);
    let mut settings: serde_json::Map<String, Json> = keys.into_iter().filter(|(key, _)| !neutral(key)).collect();
    let (tactics, techniques) = untagged(rule);
    for (key, list) in [(Key::Tactics, tactics), (Key::Techniques, techniques)] {
        if !list.is_empty() {
            settings.insert(key.yaml().into(), json!(list));
        }
    }
    (!settings.is_empty()).then_some(Json::Object(settings))
}

/// The rule's tactics that are not ATT&CK Enterprise's (ICS ones, unparsed text) and techniques
/// Sigma's tools do not know, as written: Sigma has no tag for them.
pub fn untagged(rule: &Rule) -> (Vec<&str>, Vec<&str>) {
    let not_enterprise = |t: &&crate::ir::AttackRef<Tactic>| t.id.is_none_or(|id| !profile::is_enterprise_tactic(id.id()));
    let tactics = rule.tactics.iter().flatten().filter(not_enterprise).map(|t| t.written.as_str()).collect();
    let unknown =
        |t: &&crate::ir::AttackRef<crate::ir::Technique>| t.id.as_ref().is_none_or(|id| !profile::is_known_technique(id.as_str()));
    let techniques = rule.techniques.iter().flatten().filter(unknown).map(|t| t.written.as_str()).collect();
    (tactics, techniques)
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

/// A description without the quotes Sentinel repository files wrap inside a block scalar (a
/// Sigma rule's as written, trimmed).
pub fn description(rule: &Rule, text: &str) -> String {
    let trimmed = text.trim();
    if rule.sigma.is_some() {
        return trimmed.to_string();
    }
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
    fn sigma_tags_stay_as_written_but_for_what_the_tools_do_not_know() {
        let written = ["attack.execution", "attack.stealth", "attack.t1059.001", "attack.t1685", "attack.g0032", "cve.2024-1"];
        let rule = Rule {
            tags: written.iter().map(|t| crate::ir::Lifted::new(t.to_string(), "tags")).collect(),
            sigma: Some(crate::ir::SigmaSection::default()),
            ..Rule::default()
        };
        assert_eq!(tags(&rule), ["attack.execution", "attack.defense-evasion", "attack.t1059.001", "attack.g0032", "cve.2024-1"]);
        let kinds: Vec<Kind> = retag_problems(&rule).map(|p| p.kind).collect();
        assert_eq!(kinds, [Kind::Change, Kind::Loss]);
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
        assert_eq!(description(&rule, "'Detects x.'\n"), "Detects x.");
    }
}
