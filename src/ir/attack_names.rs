//! MITRE ATT&CK names, from the vendored `targets/attack.json` (derived from ATT&CK
//! Enterprise; its `origin` says from which snapshot): the one home of ATT&CK's vocabulary for
//! cards, reports and tags.

use super::attack::{AttackRef, Tactic, Technique};
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
static ATTACK: LazyLock<AttackData> = LazyLock::new(|| serde_json::from_str(include_str!("../../targets/attack.json")).unwrap_or_default());

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

/// "Command and Control (TA0011)"; the text as written when it names no tactic.
pub fn tactic_label(tactic: &AttackRef<Tactic>) -> String {
    match tactic.id {
        Some(t) => format!("{} ({})", ATTACK.tactics.get(t.id()).map_or(t.name(), |data| data.name.as_str()), t.id()),
        None => tactic.written.trim().to_string(),
    }
}

/// "T1078.004 Valid Accounts: Cloud Accounts"; the text as written when it is no technique id.
pub fn technique_label(technique: &AttackRef<Technique>) -> String {
    let Some(id) = &technique.id else { return technique.written.trim().to_string() };
    let name = |id: &str| ATTACK.techniques.get(id).map(|t| t.name.as_str());
    match (name(id.as_str()), id.is_sub_technique().then(|| name(id.parent())).flatten()) {
        (Some(sub), Some(parent)) => format!("{} {parent}: {sub}", id.as_str()),
        (Some(name), None) => format!("{} {name}", id.as_str()),
        (None, _) => format!("{} (not in ATT&CK Enterprise)", id.as_str()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vendored_data_is_read() {
        assert!(ATTACK.tactics.len() >= 14 && ATTACK.techniques.len() > 600, "{} tactics", ATTACK.tactics.len());
        assert_eq!(tactics().len(), 14, "every Enterprise tactic is in kill-chain order");
        assert_eq!(tactics()[0], ("TA0043", "reconnaissance", "Reconnaissance"));
    }
}
