//! Rules of one run that share an id: deployed together, the later one replaces the earlier
//! (Sentinel keys alert rules by id, Sigma tooling by `id`), so each is warned about, naming
//! the others. `check` also holds Sigma rules to what pySigma's uniqueness validators ask of a
//! collection: a shared id is an error, a shared title a warning.

use crate::diag::{Code, Kind, Problem};
use crate::ir::Rule;
use std::collections::HashMap;

/// For each rule, in the order given, a warning when another rule has the same id (ids compare
/// without case and surrounding space: GUIDs are written in either case). Rules without an id
/// share nothing. Two rules of one file are duplicates like rules of two files.
pub fn duplicate_id_warnings(rules: &[&Rule]) -> Vec<Option<Problem>> {
    shared_ids(rules, |_| Kind::Warning)
}

/// For each rule, in the order given, what `check` says of the rules taken together: a shared
/// id (an error for a Sigma rule, a warning for others), and a title another Sigma rule also
/// has (a warning; titles compare as written).
pub fn collection_problems(rules: &[&Rule]) -> Vec<Vec<Problem>> {
    let sigma = |rule: &Rule| rule.sigma_logic().is_some();
    let ids = shared_ids(rules, |rule| if sigma(rule) { Kind::Error } else { Kind::Warning });
    let titles = sharing(rules, |rule| sigma(rule).then(|| rule.title.clone()).filter(|t| !t.is_empty()));
    let title_warning = |(at, others): (usize, Vec<usize>)| {
        let rule = rules[at];
        let message = format!("title `{}` is also the title of {}", rule.title, places(rules, &others, "title"));
        (!others.is_empty()).then(|| Problem::at_key(Kind::Warning, Code::DuplicateTitle, rule, "title", message))
    };
    ids.into_iter()
        .zip(titles.into_iter().enumerate().map(title_warning))
        .map(|(id, title)| id.into_iter().chain(title).collect())
        .collect()
}

/// The shared-id problem of each rule, of the kind `kind` says for it.
fn shared_ids(rules: &[&Rule], kind: impl Fn(&Rule) -> Kind) -> Vec<Option<Problem>> {
    let key = |rule: &Rule| rule.id.as_deref().map(|id| id.trim().to_lowercase()).filter(|id| !id.is_empty());
    sharing(rules, key)
        .into_iter()
        .enumerate()
        .map(|(at, others)| {
            let rule = rules[at];
            let id = rule.id.as_deref().unwrap_or_default().trim();
            let message =
                format!("id `{id}` is also the id of {}; deployed together, one rule replaces the other", places(rules, &others, "id"));
            (!others.is_empty()).then(|| Problem::at_key(kind(rule), Code::DuplicateId, rule, "id", message))
        })
        .collect()
}

/// For each rule, the indexes of the other rules with the same key (none without a key).
fn sharing(rules: &[&Rule], key: impl Fn(&Rule) -> Option<String>) -> Vec<Vec<usize>> {
    let keys: Vec<Option<String>> = rules.iter().map(|rule| key(rule)).collect();
    let mut holders: HashMap<&str, Vec<usize>> = HashMap::new();
    for (at, key) in keys.iter().enumerate() {
        if let Some(key) = key {
            holders.entry(key).or_default().push(at);
        }
    }
    keys.iter()
        .enumerate()
        .map(|(at, key)| {
            let sharing = key.as_deref().and_then(|k| holders.get(k)).map(Vec::as_slice).unwrap_or_default();
            sharing.iter().copied().filter(|&o| o != at).collect()
        })
        .collect()
}

/// ``rule 'name' at `file:line:col` and of …``, each where the other rule's `key` is written
/// (quoted: a path may hold spaces).
fn places(rules: &[&Rule], others: &[usize], key: &str) -> String {
    let place = |rule: &Rule| {
        let at = rule.origin.position_of(key);
        format!("rule '{}' at `{}:{}:{}`", rule.label(), rule.origin.file.display(), at.line, at.col)
    };
    others.iter().map(|&o| place(rules[o])).collect::<Vec<_>>().join(" and of ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Position;

    fn rule(file: &str, index: usize, id: Option<&str>, title: &str) -> Rule {
        let mut rule = Rule { id: id.map(str::to_string), title: title.into(), ..Rule::default() };
        rule.origin.file = file.into();
        rule.origin.index = index;
        rule.origin.position = Position::new(1 + index * 10, 1);
        rule
    }

    #[test]
    fn each_rule_sharing_an_id_names_the_others() {
        let a = rule("a.yaml", 0, Some("ABC"), "First");
        let b = rule("b.yaml", 0, Some(" abc "), "Second");
        let c = rule("b.yaml", 1, Some("abc"), "Third");
        let lone = rule("c.yaml", 0, Some("other"), "Alone");
        let none = rule("d.yaml", 0, None, "No id");
        let none2 = rule("e.yaml", 0, None, "No id either");
        let warnings = duplicate_id_warnings(&[&a, &b, &lone, &c, &none, &none2]);
        assert!(warnings[2].is_none() && warnings[4].is_none() && warnings[5].is_none(), "{warnings:?}");
        let first = warnings[0].as_ref().expect("warned");
        assert_eq!(
            (first.kind, first.code, first.file.to_str(), first.rule_index()),
            (Kind::Warning, Code::DuplicateId, Some("a.yaml"), Some(0))
        );
        assert_eq!(
            first.message,
            "id `ABC` is also the id of rule 'Second' at `b.yaml:1:1` and of rule 'Third' at `b.yaml:11:1`; deployed together, one rule replaces the other"
        );
        // Within one file too: the third rule names the second, in its own file.
        let third = warnings[3].as_ref().expect("warned");
        assert!(third.message.contains("rule 'First' at `a.yaml:1:1` and of rule 'Second' at `b.yaml:1:1`"), "{third:?}");
    }
}
