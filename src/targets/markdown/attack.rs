//! MITRE ATT&CK names for the card's coverage table, from the vendored `targets/attack.json`
//! (derived from ATT&CK Enterprise; its `origin` says from which snapshot).

use crate::ir::{AttackRef, Rule, Tactic, Technique};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::LazyLock;

#[derive(Debug, Default, Deserialize)]
struct AttackData {
    tactics: BTreeMap<String, TacticData>,
    techniques: BTreeMap<String, TechniqueData>,
}

#[derive(Debug, Deserialize)]
struct TacticData {
    name: String,
    short_name: String,
}

#[derive(Debug, Deserialize)]
struct TechniqueData {
    name: String,
    /// Short names of the tactics it serves (`command-and-control`).
    tactics: Vec<String>,
}

/// Empty if the embedded file were unreadable; a test proves it is not.
static ATTACK: LazyLock<AttackData> =
    LazyLock::new(|| serde_json::from_str(include_str!("../../../targets/attack.json")).unwrap_or_default());

/// A technique or sub-technique ATT&CK Enterprise lists: its name and the short names of the
/// tactics it serves.
pub fn technique(id: &str) -> Option<(&'static str, &'static [String])> {
    ATTACK.techniques.get(id).map(|t| (t.name.as_str(), t.tactics.as_slice()))
}

/// The Enterprise tactics in kill-chain order (`Tactic::ALL`'s), as (id, short name, name).
pub fn tactics() -> Vec<(&'static str, &'static str, &'static str)> {
    Tactic::ALL.iter().filter_map(|t| ATTACK.tactics.get(t.id()).map(|d| (t.id(), d.short_name.as_str(), d.name.as_str()))).collect()
}

/// The short name (`initial-access`) of a tactic ATT&CK Enterprise lists.
pub fn tactic_short_name(tactic: Tactic) -> Option<&'static str> {
    ATTACK.tactics.get(tactic.id()).map(|t| t.short_name.as_str())
}

/// One row of the coverage table: a tactic and the rule's techniques that serve it.
#[derive(Clone, Debug, PartialEq)]
pub struct Coverage {
    pub tactic: String,
    pub techniques: Vec<String>,
}

/// A row per tactic the rule lists (in its order), with the rule's techniques ATT&CK files
/// under that tactic; techniques under none of them come last, under "(no listed tactic)".
pub fn coverage(rule: &Rule) -> Vec<Coverage> {
    let techniques = rule.techniques.as_deref().unwrap_or_default();
    let mut placed = vec![false; techniques.len()];
    let mut rows: Vec<Coverage> = rule
        .tactics
        .iter()
        .flatten()
        .map(|tactic| {
            let short_name = tactic.id.and_then(tactic_short_name);
            let mut names = Vec::new();
            for (i, technique) in techniques.iter().enumerate() {
                let serves = technique.id.as_ref().and_then(|t| ATTACK.techniques.get(t.as_str()));
                if short_name.is_some_and(|s| serves.is_some_and(|t| t.tactics.iter().any(|x| x == s))) {
                    placed[i] = true;
                    names.push(technique_label(technique));
                }
            }
            Coverage { tactic: tactic_label(tactic), techniques: names }
        })
        .collect();
    let unplaced: Vec<String> = techniques.iter().zip(&placed).filter(|(_, placed)| !**placed).map(|(t, _)| technique_label(t)).collect();
    if !unplaced.is_empty() {
        rows.push(Coverage { tactic: "(no listed tactic)".into(), techniques: unplaced });
    }
    rows
}

/// "Command and Control (TA0011)"; the text as written when it names no tactic.
fn tactic_label(tactic: &AttackRef<Tactic>) -> String {
    match tactic.id {
        Some(t) => format!("{} ({})", ATTACK.tactics.get(t.id()).map_or(t.name(), |data| data.name.as_str()), t.id()),
        None => tactic.written.trim().to_string(),
    }
}

/// "T1078.004 Valid Accounts: Cloud Accounts"; the text as written when it is no technique id.
fn technique_label(technique: &AttackRef<Technique>) -> String {
    let Some(id) = &technique.id else { return technique.written.trim().to_string() };
    let name = |id: &str| ATTACK.techniques.get(id).map(|t| t.name.as_str());
    match (name(id.as_str()), id.is_sub_technique().then(|| name(id.parent())).flatten()) {
        (Some(sub), Some(parent)) => format!("{} {parent}: {sub}", id.as_str()),
        (Some(name), None) => format!("{} {name}", id.as_str()),
        (None, _) => format!("{} (not in ATT&CK Enterprise)", id.as_str()),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A rule listing these tactics and techniques as written.
    pub(crate) fn rule(tactics: &[&str], techniques: &[&str]) -> Rule {
        Rule {
            tactics: Some(tactics.iter().map(|t| AttackRef::parse(t)).collect()),
            techniques: Some(techniques.iter().map(|t| AttackRef::parse(t)).collect()),
            ..Rule::default()
        }
    }

    #[test]
    fn the_vendored_data_is_read() {
        assert!(ATTACK.tactics.len() >= 14 && ATTACK.techniques.len() > 600, "{} tactics", ATTACK.tactics.len());
        assert_eq!(tactics().len(), 14, "every Enterprise tactic is in kill-chain order");
        assert_eq!(tactics()[0], ("TA0043", "reconnaissance", "Reconnaissance"));
    }

    #[test]
    fn techniques_sit_under_their_tactics_with_names() {
        let rows = coverage(&rule(&["CommandAndControl", "initial-access", "Lateral Movment"], &["T1071", "T1078.004", "T9999"]));
        let expect = |tactic: &str, techniques: &[&str]| Coverage {
            tactic: tactic.into(),
            techniques: techniques.iter().map(|t| t.to_string()).collect(),
        };
        assert_eq!(
            rows,
            vec![
                expect("Command and Control (TA0011)", &["T1071 Application Layer Protocol"]),
                expect("Initial Access (TA0001)", &["T1078.004 Valid Accounts: Cloud Accounts"]),
                expect("Lateral Movment", &[]),
                expect("(no listed tactic)", &["T9999 (not in ATT&CK Enterprise)"]),
            ]
        );
    }
}
