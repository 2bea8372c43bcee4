//! A Sigma rule's `tags` against the Sigma tag specification (Sigma specification, appendix
//! "Tags", v2.1.0 of 2025-08-02: the namespaces `attack`, `car`, `cve`, `d3fend`, `detection`,
//! `stp`, `tlp` and the form of each) and ATT&CK ids and tactics against the release in
//! `targets/attack.json`: each tag it does not know is a warning at the tag.

use crate::diag::{Code, Kind, Problem};
use crate::ir::Rule;
use crate::ir::attack_names;
use crate::sigma::scalar_text;
use crate::yaml::{Node, Value};
use std::collections::HashSet;

/// Tactics of a newer ATT&CK release than `targets/attack.json`, which split Defense Evasion;
/// SigmaHQ's rules already use them (design/reference/README.md: keep both spellings readable).
const NEWER_TACTICS: [&str; 2] = ["stealth", "defense-impairment"];

/// The specification's TLP 2.0 levels (`tlp.white` is TLP 1.0's `clear`).
const TLP_LEVELS: [&str; 5] = ["clear", "green", "amber", "amber-strict", "red"];

/// The rule types SigmaHQ's repository holds.
const DETECTION_TYPES: [&str; 3] = ["dfir", "emerging-threats", "threat-hunting"];

/// D3FEND's tactics; techniques (`d3-…`) and artifacts (`d3f-…`) are checked by form only.
const D3FEND_TACTICS: [&str; 6] = ["model", "harden", "detect", "isolate", "deceive", "evict"];

/// A warning for each tag the specification or the ATT&CK data does not know, and for each
/// tag written twice.
pub fn problems(rule: &Rule, node: &Node) -> Vec<Problem> {
    let tags: Vec<&Node> = match node.get("tags").map(|t| &t.value) {
        Some(Value::Seq(items)) => items.iter().collect(),
        _ => Vec::new(),
    };
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for tag in tags {
        let Some(text) = scalar_text(tag) else { continue };
        let (code, why) = match unknown(&text) {
            Some(why) => (Code::UnknownTag, why),
            None if !seen.insert(text.clone()) => (Code::DuplicateTag, "the rule has it already".to_string()),
            None => continue,
        };
        out.push(Problem::about(Kind::Warning, code, rule, tag.position, format!("tag `{text}`: {why}")));
    }
    out
}

/// Why a tag is not one the specification and the ATT&CK data know; `None` when it is.
fn unknown(tag: &str) -> Option<String> {
    let well_formed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.');
    let Some((namespace, name)) = tag.split_once('.').filter(|(n, v)| !n.is_empty() && !v.is_empty()) else {
        return Some("a tag is `namespace.name`".into());
    };
    // D3FEND artifacts keep their CamelCase names (`d3fend.d3f-WindowsNtOpenFile`).
    if namespace != "d3fend" && !tag.chars().all(well_formed) {
        return Some("tags are lower-case letters, digits, `-`, `_` and `.`".into());
    }
    match namespace {
        "attack" => attack(name),
        "car" => matches_digits(name, &[4, 2, 3]).then_none("a CAR tag is `car.YYYY-MM-NNN`"),
        "cve" => matches_digits(name, &[4, 0]).then_none("a CVE tag is `cve.YYYY-NNNN`"),
        "detection" => DETECTION_TYPES.contains(&name).then_none("the detection types are dfir, emerging-threats, threat-hunting"),
        "stp" => stp(name).then_none("an STP score is 1 to 5, then optionally a, u or k (`stp.3k`)"),
        "tlp" if name == "white" => Some("TLP 2.0 calls it `tlp.clear`".into()),
        "tlp" => TLP_LEVELS.contains(&name).then_none("the TLP levels are clear, green, amber, amber-strict, red"),
        "d3fend" => d3fend(name).then_none("a D3FEND tag is a tactic, `d3-…` (a technique) or `d3f-…` (an artifact)"),
        _ => Some(format!("`{namespace}` is no namespace of the Sigma tag specification (attack, car, cve, d3fend, detection, stp, tlp)")),
    }
}

/// ATT&CK: a tactic's short name, a technique id `targets/attack.json` lists, or the id of a
/// group, software, data source, mitigation or asset (those the data does not list: by form).
fn attack(name: &str) -> Option<String> {
    let letters = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    let digits = &name[letters.len()..];
    let id = |count: usize| digits.len() == count && digits.bytes().all(|b| b.is_ascii_digit());
    let known = match letters {
        "t" => attack_names::technique(&name.to_ascii_uppercase()).is_some(),
        "ta" => id(4) && attack_names::tactics().iter().any(|(t, _, _)| t.eq_ignore_ascii_case(name)),
        "g" | "s" | "m" | "a" | "ds" => id(4),
        _ if digits.is_empty() => attack_names::tactics().iter().any(|(_, short, _)| *short == name) || NEWER_TACTICS.contains(&name),
        _ => false,
    };
    (!known).then(|| "not an ATT&CK tactic or id of the ATT&CK release in targets/attack.json".to_string())
}

/// `name` is groups of digits of the given lengths (0: any length) joined by `-`.
fn matches_digits(name: &str, lengths: &[usize]) -> bool {
    let groups: Vec<&str> = name.split('-').collect();
    groups.len() == lengths.len()
        && groups.iter().zip(lengths).all(|(g, &n)| !g.is_empty() && (n == 0 || g.len() == n) && g.bytes().all(|b| b.is_ascii_digit()))
}

fn stp(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| ('1'..='5').contains(&c)) && matches!(chars.as_str(), "" | "a" | "u" | "k")
}

fn d3fend(name: &str) -> bool {
    let named = |prefix: &str| {
        name.strip_prefix(prefix).is_some_and(|rest| !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
    };
    D3FEND_TACTICS.contains(&name) || named("d3-") || named("d3f-")
}

/// `ok.then_none(why)`: no reason when the test holds, else `why`.
trait Reason {
    fn then_none(self, why: &str) -> Option<String>;
}

impl Reason for bool {
    fn then_none(self, why: &str) -> Option<String> {
        (!self).then(|| why.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_tags_pass_and_unknown_ones_say_why() {
        for tag in [
            "attack.execution",
            "attack.stealth",
            "attack.defense-impairment",
            "attack.t1059.001",
            "attack.g0032",
            "attack.s0154",
            "attack.ta0002",
            "car.2016-04-005",
            "cve.2021-44228",
            "detection.emerging-threats",
            "stp.3k",
            "stp.4",
            "tlp.amber-strict",
            "d3fend.d3-am",
            "d3fend.d3f-WindowsNtOpenFile",
        ] {
            assert_eq!(unknown(tag), None, "{tag}");
        }
        for (tag, why) in [
            ("attack.t9999", "targets/attack.json"),
            ("attack.defence-evasion", "targets/attack.json"),
            ("attack.g32", "targets/attack.json"),
            ("attack.ta9999", "targets/attack.json"),
            ("car.2016-4-5", "car.YYYY-MM-NNN"),
            ("cve.log4j", "cve.YYYY-NNNN"),
            ("detection.hunting", "detection types"),
            ("stp.6", "STP score"),
            ("tlp.white", "tlp.clear"),
            ("tlp.purple", "TLP levels"),
            ("foo.bar", "no namespace"),
            ("Attack.T1059", "lower-case"),
            ("attack", "namespace.name"),
        ] {
            let said = unknown(tag).unwrap_or_default();
            assert!(said.contains(why), "{tag}: {said}");
        }
    }
}
