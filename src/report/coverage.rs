//! ATT&CK coverage of a pack: how many rules cover each technique under each tactic.
//!
//! A rule covers a technique under the tactics it lists that ATT&CK files the technique under;
//! when none of its tactics fits (or it lists none), under every tactic ATT&CK files it under,
//! as the Navigator shows a technique without a tactic. A sub-technique counts for its parent
//! technique too (a rule listing two sub-techniques of T1078 counts once for T1078), and is
//! listed under it with its own count.

use crate::ir::Rule;
use crate::ir::attack_names as attack;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Coverage {
    /// Every Enterprise tactic in kill-chain order, covered or not.
    pub tactics: Vec<TacticCoverage>,
    /// Technique ids the rules list that ATT&CK Enterprise does not (withdrawn or mistyped).
    pub not_in_attack: Vec<Count>,
    /// Rules that list no technique ATT&CK Enterprise knows.
    pub rules_without_techniques: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TacticCoverage {
    pub id: &'static str,
    pub short_name: &'static str,
    pub name: &'static str,
    /// Rules covering at least one technique under this tactic.
    pub rules: usize,
    /// Most rules first, then by id.
    pub techniques: Vec<TechniqueCoverage>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TechniqueCoverage {
    pub id: String,
    pub name: &'static str,
    pub rules: usize,
    pub sub_techniques: Vec<TechniqueCoverage>,
}

/// A technique id written in rules, and how many rules write it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Count {
    pub id: String,
    pub rules: usize,
}

/// Rule numbers by (tactic short name, technique or sub-technique id).
type Cells = BTreeMap<(&'static str, String), BTreeSet<usize>>;

pub fn coverage(rules: &[&Rule]) -> Coverage {
    let mut cells = Cells::new();
    let mut unknown: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
    let mut without = 0;
    for (number, rule) in rules.iter().enumerate() {
        let listed: Vec<&str> = rule.tactics.iter().flatten().filter_map(|t| t.id.and_then(attack::tactic_short_name)).collect();
        let mut known = false;
        for technique in rule.techniques.iter().flatten().filter_map(|t| t.id.as_ref()) {
            let (id, parent) = (technique.as_str(), technique.parent());
            let Some((_, served)) = attack::technique(id).or_else(|| attack::technique(parent)) else {
                unknown.entry(id.to_string()).or_default().insert(number);
                continue;
            };
            known = true;
            let fitting: Vec<&'static str> = served.iter().map(String::as_str).filter(|s| listed.contains(s)).collect();
            let under = if fitting.is_empty() { served.iter().map(String::as_str).collect() } else { fitting };
            for tactic in under {
                cells.entry((tactic, parent.to_string())).or_default().insert(number);
                if technique.is_sub_technique() && attack::technique(id).is_some() {
                    cells.entry((tactic, id.to_string())).or_default().insert(number);
                }
            }
        }
        without += usize::from(!known);
    }
    Coverage {
        tactics: attack::tactics().into_iter().map(|(id, short_name, name)| tactic_coverage(&cells, id, short_name, name)).collect(),
        not_in_attack: unknown.into_iter().map(|(id, rules)| Count { id, rules: rules.len() }).collect(),
        rules_without_techniques: without,
    }
}

fn tactic_coverage(cells: &Cells, id: &'static str, short_name: &'static str, name: &'static str) -> TacticCoverage {
    let under: Vec<(&String, &BTreeSet<usize>)> = cells.iter().filter(|((t, _), _)| *t == short_name).map(|((_, id), r)| (id, r)).collect();
    let entry = |id: &String, rules: &BTreeSet<usize>| TechniqueCoverage {
        id: id.clone(),
        name: attack::technique(id).map_or("", |(name, _)| name),
        rules: rules.len(),
        sub_techniques: Vec::new(),
    };
    let mut techniques: Vec<TechniqueCoverage> = under
        .iter()
        .filter(|(id, _)| !id.contains('.'))
        .map(|(id, rules)| {
            let prefix = format!("{id}.");
            let mut technique = entry(id, rules);
            technique.sub_techniques = under.iter().filter(|(sub, _)| sub.starts_with(&prefix)).map(|(sub, r)| entry(sub, r)).collect();
            by_rules(&mut technique.sub_techniques);
            technique
        })
        .collect();
    by_rules(&mut techniques);
    let rules: BTreeSet<usize> = under.iter().flat_map(|(_, r)| r.iter().copied()).collect();
    TacticCoverage { id, short_name, name, rules: rules.len(), techniques }
}

/// Most rules first; ties by id, so the order never depends on anything else.
fn by_rules(techniques: &mut [TechniqueCoverage]) {
    techniques.sort_by(|a, b| b.rules.cmp(&a.rules).then_with(|| a.id.cmp(&b.id)));
}

impl Coverage {
    /// Every (tactic, technique) cell with its count, sub-techniques after their technique.
    pub fn cells(&self) -> impl Iterator<Item = (&TacticCoverage, &TechniqueCoverage)> {
        self.tactics.iter().flat_map(|tactic| {
            tactic.techniques.iter().flat_map(move |t| std::iter::once(t).chain(&t.sub_techniques)).map(move |t| (tactic, t))
        })
    }

    /// The most rules any technique has under one tactic.
    pub fn max_rules(&self) -> usize {
        self.cells().map(|(_, t)| t.rules).max().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::markdown::attack::tests::rule;

    fn technique<'c>(coverage: &'c Coverage, tactic: &str, id: &str) -> Option<&'c TechniqueCoverage> {
        let tactic = coverage.tactics.iter().find(|t| t.short_name == tactic)?;
        tactic.techniques.iter().find(|t| t.id == id)
    }

    #[test]
    fn sub_techniques_roll_up_once_per_rule_under_the_listed_tactic() {
        let rules = [
            rule(&["InitialAccess"], &["T1078.004", "T1078.002"]),
            rule(&["Persistence"], &["T1078"]),
            rule(&[], &["T1078.004", "T9999"]),
            rule(&["Impact"], &[]),
        ];
        let coverage = coverage(&rules.iter().collect::<Vec<_>>());
        let valid = technique(&coverage, "initial-access", "T1078").expect("under its listed tactic");
        assert_eq!(valid.rules, 2, "the first rule once, the third (no tactic) under every tactic of T1078");
        let subs: Vec<(&str, usize)> = valid.sub_techniques.iter().map(|s| (s.id.as_str(), s.rules)).collect();
        assert_eq!(subs, vec![("T1078.004", 2), ("T1078.002", 1)]);
        assert_eq!(technique(&coverage, "persistence", "T1078").map(|t| t.rules), Some(2));
        assert_eq!(coverage.not_in_attack, vec![Count { id: "T9999".into(), rules: 1 }]);
        assert_eq!(coverage.rules_without_techniques, 1);
        assert_eq!(coverage.tactics[0].short_name, "reconnaissance", "kill-chain order");
    }
}
