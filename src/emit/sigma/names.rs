//! Names of a detection's selections, derived from what each tests, so an edit to one
//! selection (or one added, removed or moved beside it) renames no other: a diff of the Sigma
//! shows only the edit.
//!
//! A name is `selection_` (or `filter_`, for one only used negated) and the selection's first
//! field names (`selection_image_commandline`), or `keywords` for a keyword list. Selections of
//! one such name but different content each take a short hash of their content, decided within
//! that name alone; equal content shares its name. Names are SigmaHQ-style identifiers
//! (`[a-z0-9_]`), which a `condition` reads as they are.

use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};

/// Field names a name takes at most, and characters of each: enough to tell selections apart
/// at a glance, short enough to read in a `condition`.
const FIELDS: usize = 2;
const FIELD_CHARS: usize = 24;

/// Hash lengths tried, in hex digits, until the contents sharing a name are told apart.
const HASH_DIGITS: [usize; 3] = [4, 8, 32];

/// The name of each selection; `negated[i]` says whether selection `i` is only used negated.
pub fn name_selections(selections: &[Json], negated: &[bool]) -> Vec<String> {
    let contents: Vec<String> = selections.iter().map(Json::to_string).collect();
    let bases: Vec<String> = selections.iter().zip(negated).map(|(selection, &is_filter)| base_name(selection, is_filter)).collect();
    let mut sharing: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (base, content) in bases.iter().zip(&contents) {
        sharing.entry(base).or_default().insert(content);
    }
    // Hash digits per name: none when one content has it.
    let digits: BTreeMap<&str, Option<usize>> =
        sharing.iter().map(|(base, contents)| (*base, (contents.len() > 1).then(|| digits_telling_apart(contents)))).collect();
    bases
        .iter()
        .zip(&contents)
        .map(|(base, content)| match digits.get(base.as_str()).copied().flatten() {
            Some(digits) => format!("{base}_{}", hash(content, digits)),
            None => base.clone(),
        })
        .collect()
}

/// The fewest hash digits giving each content its own.
fn digits_telling_apart(contents: &BTreeSet<&str>) -> usize {
    let apart = |digits: usize| contents.iter().map(|c| hash(c, digits)).collect::<BTreeSet<_>>().len() == contents.len();
    HASH_DIGITS.into_iter().find(|&digits| apart(digits)).unwrap_or(HASH_DIGITS[HASH_DIGITS.len() - 1])
}

/// `selection_`/`filter_` and the fields the selection tests (or `keywords`).
fn base_name(selection: &Json, is_filter: bool) -> String {
    let prefix = if is_filter { "filter" } else { "selection" };
    let words: Vec<String> = match selection {
        Json::Object(items) => {
            let mut fields: Vec<String> = Vec::new();
            // A key is the field, then its modifiers (`CommandLine|contains|all`).
            for field in items.keys().map(|key| identifier(key.split('|').next().unwrap_or_default())) {
                if !field.is_empty() && !fields.contains(&field) && fields.len() < FIELDS {
                    fields.push(field);
                }
            }
            fields
        }
        _ => vec!["keywords".to_string()],
    };
    std::iter::once(prefix.to_string()).chain(words).collect::<Vec<_>>().join("_")
}

/// A field name as lowercase `[a-z0-9_]`: other characters (`.` of a path, spaces) become one
/// `_`, and a long name is cut.
fn identifier(field: &str) -> String {
    let mut out = String::new();
    for c in field.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    out.truncate(FIELD_CHARS);
    out.trim_end_matches('_').to_string()
}

/// The first `digits` hex digits of the content's SHA-1 (through a name-based UUID, whose
/// first 12 digits are the hash's; the rest holds 4 fixed bits): the same on every run.
fn hash(content: &str, digits: usize) -> String {
    let simple = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, content.as_bytes()).simple().to_string();
    simple.chars().take(digits).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names(selections: &[Json], negated: &[bool]) -> Vec<String> {
        name_selections(selections, negated)
    }

    #[test]
    fn a_name_says_what_is_tested() {
        let selection = json!({"Image|endswith": "\\a.exe", "CommandLine|contains|all": ["x", "y"], "User": "u"});
        let keywords = json!(["evil"]);
        let path = json!({"props.Role Name": "admin"});
        assert_eq!(
            names(&[selection, keywords, path], &[false, true, false]),
            ["selection_image_commandline", "filter_keywords", "selection_props_role_name"]
        );
    }

    #[test]
    fn sharing_a_name_each_takes_its_content_hash_whatever_the_order() {
        let (a, b, other) = (json!({"Account": "a"}), json!({"Account": "b"}), json!({"EventID": 4625}));
        let named = names(&[other.clone(), a.clone(), b.clone()], &[false; 3]);
        assert_eq!(named[0], "selection_eventid");
        assert!(named[1].starts_with("selection_account_") && named[1].len() == "selection_account_".len() + 4, "{named:?}");
        assert_ne!(named[1], named[2]);
        // Reordered, or with an unrelated selection gone, each keeps its name.
        assert_eq!(names(&[b.clone(), a.clone()], &[false; 2]), [named[2].clone(), named[1].clone()]);
        // Equal content is one selection, under one name.
        let same = names(&[a.clone(), a], &[false; 2]);
        assert_eq!(same, ["selection_account", "selection_account"]);
    }

    #[test]
    fn a_filter_and_a_selection_of_one_field_differ_by_prefix() {
        let named = names(&[json!({"User": "a"}), json!({"User": "b"})], &[false, true]);
        assert_eq!(named, ["selection_user", "filter_user"]);
    }

    #[test]
    fn names_are_identifiers_even_of_odd_fields() {
        let named = names(&[json!({"": 1, "--": 2, "Ünïcode": 3})], &[false]);
        assert_eq!(named, ["selection_n_code"]);
        assert!(named.iter().all(|n| n.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')));
    }
}
