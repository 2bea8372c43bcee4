//! A mistyped subcommand (`ruleconv chek rules/`): without this, the short form
//! `ruleconv --to T INPUT...` takes the typo for an input and asks for `--to`.

use std::path::Path;

/// The usage error for `first`, the first argument, when it is no option, no existing path and
/// within two edits of a subcommand in `names`; `None` otherwise.
pub fn mistyped_subcommand<'a>(first: &str, names: impl IntoIterator<Item = &'a str>) -> Option<String> {
    if first.starts_with('-') || first.len() < 3 || Path::new(first).exists() {
        return None;
    }
    let names: Vec<&str> = names.into_iter().collect();
    if names.contains(&first) {
        return None;
    }
    let (distance, closest) = names.iter().map(|name| (edit_distance(first, name), *name)).min()?;
    (distance <= 2).then(|| {
        format!(
            "error: unrecognized subcommand '{first}' (and no file or folder has that name)\n\n  \
             tip: a similar subcommand exists: '{closest}'\n\nFor more information, try '--help'."
        )
    })
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: [&str; 4] = ["convert", "check", "explain", "test"];

    #[test]
    fn typos_of_subcommands_are_caught_and_inputs_are_not() {
        assert!(mistyped_subcommand("chek", NAMES).unwrap().contains("'check'"));
        assert!(mistyped_subcommand("convret", NAMES).unwrap().contains("'convert'"));
        assert_eq!(mistyped_subcommand("check", NAMES), None, "a subcommand itself");
        assert_eq!(mistyped_subcommand("rules.yaml", NAMES), None, "far from every name");
        assert_eq!(mistyped_subcommand("--to", NAMES), None, "an option");
        assert!(mistyped_subcommand("tset", NAMES).is_some(), "within two edits of `test`");
        assert_eq!(mistyped_subcommand("tests", NAMES), None, "an existing path (the crate's tests/), one edit from `test`");
    }

    #[test]
    fn edit_distance_counts_insertions_deletions_and_substitutions() {
        assert_eq!(edit_distance("chek", "check"), 1);
        assert_eq!(edit_distance("tset", "test"), 2);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}
