//! The card's ATT&CK coverage table: each tactic the rule lists with the rule's techniques
//! ATT&CK files under it, named from `ir::attack_names`.

use crate::ir::Rule;
use crate::ir::attack_names::{self, tactic_label, tactic_short_name, technique_label};

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
                let serves = technique.id.as_ref().and_then(|t| attack_names::technique(t.as_str()));
                if short_name.is_some_and(|s| serves.is_some_and(|(_, tactics)| tactics.iter().any(|x| x == s))) {
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ir::AttackRef;

    /// A rule listing these tactics and techniques as written.
    pub(crate) fn rule(tactics: &[&str], techniques: &[&str]) -> Rule {
        Rule {
            tactics: Some(tactics.iter().map(|t| AttackRef::parse(t)).collect()),
            techniques: Some(techniques.iter().map(|t| AttackRef::parse(t)).collect()),
            ..Rule::default()
        }
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
