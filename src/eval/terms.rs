//! Kusto's term operators (`has`, `hasprefix`, `hassuffix`) and `like` patterns.
//!
//! A term is a maximal run of ASCII letters and digits (Microsoft's "What is a term?"). `has x`
//! holds when `x` occurs with a term boundary on each side, but a boundary is only required at
//! an edge of `x` that is itself a term character: `"a b" has "a "` holds while `"xa b" has
//! "a "` does not, and a needle made only of delimiters matches as a plain substring
//! (measured against Kusto by duckdb-kql; pinned by the tests below).

fn is_term_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

/// Which edges of the needle must sit at a term boundary.
#[derive(Clone, Copy)]
pub struct Edges {
    pub lead: bool,
    pub trail: bool,
}

pub const WHOLE_TERM: Edges = Edges { lead: true, trail: true };
pub const TERM_PREFIX: Edges = Edges { lead: true, trail: false };
pub const TERM_SUFFIX: Edges = Edges { lead: false, trail: true };

/// Whether `needle` occurs in `haystack` with the required boundaries; both already case-folded.
pub fn term_match(haystack: &str, needle: &str, edges: Edges) -> bool {
    let need_lead = edges.lead && needle.chars().next().is_some_and(is_term_char);
    let need_trail = edges.trail && needle.chars().next_back().is_some_and(is_term_char);
    // Every occurrence counts, overlapping ones too: "aaa" hassuffix "aa" holds only at offset 1.
    needle.is_empty()
        || haystack.char_indices().filter(|(at, _)| haystack[*at..].starts_with(needle)).any(|(at, _)| {
            let before = haystack[..at].chars().next_back();
            let after = haystack[at + needle.len()..].chars().next();
            (!need_lead || !before.is_some_and(is_term_char)) && (!need_trail || !after.is_some_and(is_term_char))
        })
}

/// `like`: `%` is any run of characters, `_` any one character; the whole value must match.
pub fn like_match(value: &str, pattern: &str) -> bool {
    let value: Vec<char> = value.chars().collect();
    let pattern: Vec<char> = pattern.chars().collect();
    // Greedy wildcard matching with backtracking to the last `%`: linear in practice, no recursion.
    let (mut v, mut p) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while v < value.len() {
        match pattern.get(p) {
            Some('%') => {
                star = Some((p, v));
                p += 1;
            }
            Some(&c) if c == '_' || c == value[v] => {
                v += 1;
                p += 1;
            }
            _ => match star {
                Some((sp, sv)) => {
                    p = sp + 1;
                    v = sv + 1;
                    star = Some((sp, sv + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '%')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn has_needs_whole_terms() {
        assert!(term_match("run mimikatz.exe now", "mimikatz", WHOLE_TERM));
        assert!(term_match("a_b", "a", WHOLE_TERM), "underscore delimits terms");
        assert!(!term_match("errors", "error", WHOLE_TERM));
        assert!(!term_match("xerror", "error", WHOLE_TERM));
        assert!(term_match("c:\\windows\\system32\\cmd.exe", "cmd.exe", WHOLE_TERM));
        assert!(!term_match("c:\\windows\\system32\\xcmd.exe", "cmd.exe", WHOLE_TERM));
        assert!(term_match("-enc abc", "-enc", WHOLE_TERM), "a leading delimiter needs no boundary before it");
        assert!(term_match("x-enc abc", "-enc", WHOLE_TERM));
        assert!(!term_match("-encoded", "-enc", WHOLE_TERM));
    }

    #[test]
    fn has_boundaries_only_at_term_character_edges() {
        assert!(term_match("a b", "a ", WHOLE_TERM));
        assert!(!term_match("xa b", "a ", WHOLE_TERM));
        assert!(!term_match("x ab y", " a", WHOLE_TERM));
        assert!(term_match("b .b-", " ", WHOLE_TERM), "an all-delimiter needle is a substring test");
        assert!(term_match("anything", "", WHOLE_TERM));
        assert!(term_match("", "", WHOLE_TERM));
        assert!(!term_match("", "a", WHOLE_TERM));
    }

    #[test]
    fn hasprefix_and_hassuffix_need_one_boundary() {
        assert!(term_match("x-error", "err", TERM_PREFIX));
        assert!(!term_match("err or", "r o", TERM_PREFIX));
        assert!(!term_match("x-error", "err", TERM_SUFFIX));
        assert!(term_match("x-error", "ror", TERM_SUFFIX));
        assert!(!term_match("x-errors", "ror", TERM_SUFFIX));
        assert!(term_match("aaa", "aa", TERM_SUFFIX), "overlapping occurrences count");
    }

    #[test]
    fn like_patterns() {
        assert!(like_match("powershell.exe", "power%.exe"));
        assert!(like_match("abc", "a_c"));
        assert!(!like_match("abcd", "a_c"));
        assert!(like_match("", "%"));
        assert!(like_match("a%b", "a%%b"));
        assert!(!like_match("ab", "abc%"));
        assert!(like_match("xxaxxb", "%a%b"));
    }
}
