//! The one table of KQL's string and list operators: every spelling, and what it means.
//!
//! The parser reads spellings through it, the printer spells operators from it, and lowering
//! reads their meaning (test, case sensitivity, negation) from the same `StrOp`, so a spelling
//! like `!in~` or `notcontainscs` is known in exactly one place.

use serde::Serialize;

/// What a string operator tests, whatever its spelling, case sensitivity or negation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum StrTest {
    /// The whole value equals the operand (`=~`).
    Equals,
    /// A whole term, by Kusto's term rules: not the same as `Contains`.
    Has,
    HasPrefix,
    HasSuffix,
    /// Substring anywhere.
    Contains,
    StartsWith,
    EndsWith,
    /// `matches regex`
    Regex,
    /// SQL-style `%` and `_` wildcards.
    Like,
    /// The whole value equals one of a list (`in`).
    In,
    /// Some list item is a term of the value.
    HasAny,
    /// Every list item is a term of the value.
    HasAll,
}

impl StrTest {
    /// Whether the operator takes a parenthesized list (`x in (a, b)`) rather than one operand.
    pub fn takes_list(self) -> bool {
        matches!(self, StrTest::In | StrTest::HasAny | StrTest::HasAll)
    }
}

/// A string or list operator's meaning. `==` and `!=` are not here: they are plain comparisons.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct StrOp {
    pub test: StrTest,
    pub case_sensitive: bool,
    pub negated: bool,
}

const fn op(test: StrTest, case_sensitive: bool, negated: bool) -> StrOp {
    StrOp { test, case_sensitive, negated }
}

use StrTest::*;

/// Every spelling Kusto accepts. The first spelling of an operator is the one printed; later
/// ones are old aliases (`containscs`, `notcontains`) that the parser accepts.
const SPELLINGS: &[(&str, StrOp)] = &[
    ("=~", op(Equals, false, false)),
    ("!~", op(Equals, false, true)),
    ("has", op(Has, false, false)),
    ("!has", op(Has, false, true)),
    ("has_cs", op(Has, true, false)),
    ("!has_cs", op(Has, true, true)),
    ("hasprefix", op(HasPrefix, false, false)),
    ("!hasprefix", op(HasPrefix, false, true)),
    ("hasprefix_cs", op(HasPrefix, true, false)),
    ("!hasprefix_cs", op(HasPrefix, true, true)),
    ("hassuffix", op(HasSuffix, false, false)),
    ("!hassuffix", op(HasSuffix, false, true)),
    ("hassuffix_cs", op(HasSuffix, true, false)),
    ("!hassuffix_cs", op(HasSuffix, true, true)),
    ("contains", op(Contains, false, false)),
    ("!contains", op(Contains, false, true)),
    ("contains_cs", op(Contains, true, false)),
    ("!contains_cs", op(Contains, true, true)),
    ("startswith", op(StartsWith, false, false)),
    ("!startswith", op(StartsWith, false, true)),
    ("startswith_cs", op(StartsWith, true, false)),
    ("!startswith_cs", op(StartsWith, true, true)),
    ("endswith", op(EndsWith, false, false)),
    ("!endswith", op(EndsWith, false, true)),
    ("endswith_cs", op(EndsWith, true, false)),
    ("!endswith_cs", op(EndsWith, true, true)),
    ("matches regex", op(Regex, true, false)),
    ("like", op(Like, false, false)),
    ("notlike", op(Like, false, true)),
    ("likecs", op(Like, true, false)),
    ("notlikecs", op(Like, true, true)),
    ("in", op(In, true, false)),
    ("!in", op(In, true, true)),
    ("in~", op(In, false, false)),
    ("!in~", op(In, false, true)),
    ("has_any", op(HasAny, false, false)),
    ("has_all", op(HasAll, false, false)),
    ("containscs", op(Contains, true, false)),
    ("notcontains", op(Contains, false, true)),
    ("notcontainscs", op(Contains, true, true)),
];

/// The operator a spelling names, if it is one.
pub fn str_op(spelling: &str) -> Option<StrOp> {
    SPELLINGS.iter().find(|(word, _)| *word == spelling).map(|(_, op)| *op)
}

/// How the printer spells an operator.
pub fn spelling(op: StrOp) -> &'static str {
    // Every StrOp the parser builds comes from SPELLINGS; the fallback only guards hand-made ones.
    SPELLINGS.iter().find(|(_, known)| *known == op).map_or("?", |(word, _)| word)
}

/// Whether `!word` is an operator spelling, so the lexer keeps `!` and the word together.
pub fn takes_bang(word: &str) -> bool {
    SPELLINGS.iter().any(|(spelled, _)| spelled.strip_prefix('!') == Some(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operator_has_one_printed_spelling_that_reads_back() {
        for (word, op) in SPELLINGS {
            assert_eq!(str_op(spelling(*op)), Some(*op), "{word}");
        }
    }

    #[test]
    fn negation_and_case_come_from_the_table() {
        assert_eq!(str_op("!in~"), Some(op(In, false, true)));
        assert_eq!(str_op("notcontainscs"), Some(op(Contains, true, true)));
        assert_eq!(spelling(op(Contains, true, true)), "!contains_cs");
        assert_eq!(spelling(op(Like, false, true)), "notlike");
        assert!(takes_bang("hasprefix_cs") && takes_bang("in") && !takes_bang("has_any") && !takes_bang("like"));
    }
}
