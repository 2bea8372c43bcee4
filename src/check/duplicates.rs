//! Rules of one pack that share an id: deployed together, the later one replaces the earlier
//! (Sentinel keys alert rules by id, Sigma tooling by `id`), so each is warned about, naming
//! the others.

use crate::diag::{Code, Kind, Problem};
use crate::ir::Rule;
use std::collections::HashMap;

/// For each rule, in the order given, a warning when another rule has the same id (ids compare
/// without case and surrounding space: GUIDs are written in either case). Rules without an id
/// share nothing. Two rules of one file are duplicates like rules of two files.
pub fn duplicate_id_warnings(rules: &[&Rule]) -> Vec<Option<Problem>> {
    let key = |rule: &Rule| rule.id.as_deref().map(|id| id.trim().to_lowercase()).filter(|id| !id.is_empty());
    let mut holders: HashMap<String, Vec<usize>> = HashMap::new();
    for (at, rule) in rules.iter().enumerate() {
        if let Some(id) = key(rule) {
            holders.entry(id).or_default().push(at);
        }
    }
    rules
        .iter()
        .enumerate()
        .map(|(at, rule)| {
            let sharing = holders.get(&key(rule)?)?;
            let others: Vec<String> = sharing.iter().filter(|&&o| o != at).map(|&o| place(rules[o])).collect();
            if others.is_empty() {
                return None;
            }
            let id = rule.id.as_deref().unwrap_or_default().trim();
            let message =
                format!("id `{id}` is also the id of {}; deployed together, one rule replaces the other", others.join(" and of "));
            Some(Problem::at_key(Kind::Warning, Code::DuplicateId, rule, "id", message))
        })
        .collect()
}

/// ``rule 'name' at `file:line:col` ``, where the other rule's id is written (quoted: a path
/// may hold spaces).
fn place(rule: &Rule) -> String {
    let at = rule.origin.position_of("id");
    format!("rule '{}' at `{}:{}:{}`", rule.label(), rule.origin.file.display(), at.line, at.col)
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
