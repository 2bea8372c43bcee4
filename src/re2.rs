//! Which regular expressions an automaton engine runs: Kusto (`matches regex`, `extract`) and
//! YARA-L (`re.regex`, `/…/`) use RE2, our evaluator the `regex` crate, and all of them refuse
//! what only a backtracking engine (PCRE and its kin) can do: backreferences, lookaround,
//! atomic groups, possessive quantifiers, recursion, conditionals, `\G`, `\K`.
//!
//! A scan that knows escapes and character classes names the first such construct, so a
//! message can say what to rewrite; the `regex` crate's parser confirms it: a pattern it
//! accepts has none, but for possessive quantifiers, which it reads as a repetition of a
//! repetition (`a*+` as `(?:a*)+`), and `(?R)`, its CRLF flag, where RE2 refuses both. A pattern refused for another
//! reason (an unclosed group) is merely invalid, which the engines report on their own.
//!
//! Past the crate's parser, RE2's own grammar and limits (https://github.com/google/re2/wiki/Syntax)
//! are checked on the crate's syntax tree: no repetition of a repetition (`a**`), no count above
//! 1000, alone or multiplied through nested repetitions (`(a{100}){100}`), only the flags
//! `i`, `m`, `s` and `U` (no `x`), no `\u` escape; and RE2's `\C` (any byte) is accepted.

use crate::ir::detection::{Detection, MatchOp, Predicate, Span, Value};
use regex_syntax::ast::{Ast, Flag, Flags, FlagsItemKind, GroupKind, HexLiteralKind, LiteralKind, RepetitionKind, RepetitionRange};

/// A regex test of a Detection that an automaton engine refuses: where it is written, what is
/// wrong, in words ("the regex on `CommandLine` uses a backreference `\1` at offset 6, so it
/// runs only in backtracking engines"), and whether every engine refuses it (`invalid`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefusedRegex {
    pub span: Span,
    pub what: String,
    pub invalid: bool,
}

/// Each regex test of `detection` that an automaton engine refuses.
pub fn refused_regexes(detection: &Detection) -> Vec<RefusedRegex> {
    let regexes = detection.predicates().into_iter().flat_map(Predicate::matches).filter(|m| m.op == MatchOp::Regex);
    regexes
        .flat_map(|m| {
            let found = m.values.iter().filter_map(|v| if let Value::String(s) = v { refusal(s) } else { None });
            found.map(move |refusal| match refusal {
                Refusal::Backtracking(b) => RefusedRegex {
                    span: m.span,
                    what: format!("the regex on `{}` uses {}, so it runs only in backtracking engines", m.field, b.describe()),
                    invalid: false,
                },
                Refusal::Re2Only { construct, offset, why } => RefusedRegex {
                    span: m.span,
                    what: format!("the regex on `{}` uses {construct} at offset {offset}, which RE2 refuses: {why}", m.field),
                    invalid: false,
                },
                Refusal::Invalid { reason, offset } => RefusedRegex {
                    span: m.span,
                    what: format!("the regex on `{}` is not a valid regular expression ({reason} at offset {offset})", m.field),
                    invalid: true,
                },
            })
        })
        .collect()
}

/// Why an automaton engine refuses a pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// It uses what only a backtracking engine runs.
    Backtracking(BacktrackingOnly),
    /// Other engines read it, but it is outside RE2's grammar or limits: a flag RE2 lacks
    /// (`(?x)`), a repetition count above 1000.
    Re2Only { construct: String, offset: usize, why: &'static str },
    /// No engine reads it: an unclosed class or group, a dangling quantifier, an unknown escape.
    Invalid { reason: String, offset: usize },
}

impl Refusal {
    /// The refusal with its offset moved by `to_original` (from a rewritten pattern's).
    fn moved(self, to_original: impl Fn(usize) -> usize) -> Refusal {
        match self {
            Refusal::Re2Only { construct, offset, why } => Refusal::Re2Only { construct, offset: to_original(offset), why },
            Refusal::Invalid { reason, offset } => Refusal::Invalid { reason, offset: to_original(offset) },
            backtracking => backtracking,
        }
    }
}

/// Why an automaton engine refuses `pattern`, if it does. Octal escapes (`\012`) are read as
/// RE2 reads them; a pattern with RE2's `\Q…\E` quoting, which the `regex` crate lacks, is
/// left to the engine.
pub fn refusal(pattern: &str) -> Option<Refusal> {
    if let Some(found) = backtracking_only(pattern) {
        return Some(Refusal::Backtracking(found));
    }
    if pattern.contains(r"\Q") {
        return None;
    }
    let (rewritten, inserted) = in_crate_syntax(pattern);
    let found = match regex_syntax::ParserBuilder::new().octal(true).build().parse(&rewritten) {
        Err(error) => {
            let (reason, offset) = match &error {
                regex_syntax::Error::Parse(e) => (e.kind().to_string(), e.span().start.offset),
                regex_syntax::Error::Translate(e) => (e.kind().to_string(), e.span().start.offset),
                other => (other.to_string(), 0),
            };
            Refusal::Invalid { reason, offset }
        }
        Ok(_) => {
            let ast = regex_syntax::ast::parse::ParserBuilder::new().octal(true).build().parse(&rewritten).ok()?;
            outside_re2(&ast, MAX_REPEAT, &rewritten)?
        }
    };
    Some(found.moved(|offset| offset - inserted.iter().filter(|at| **at < offset).count()))
}

/// RE2's limit on a counted repetition (its syntax page: "reject forms that create a minimum or
/// maximum repetition count above 1000"). RE2's parser applies it through nesting too, dividing
/// it by each count on the way in (`RepetitionWalker` in re2/parse.cc): `(a{10}){100}` is
/// accepted, `(a{100}){100}` refused with "invalid repetition size".
const MAX_REPEAT: u32 = 1000;

/// What of `ast` (parsed from `text`) the `regex` crate reads but RE2 refuses, within the
/// repetition `budget` the enclosing repetitions leave.
fn outside_re2(ast: &Ast, budget: u32, text: &str) -> Option<Refusal> {
    match ast {
        Ast::Repetition(repetition) => {
            // RE2 refuses `a**`, `a{2}*` ("bad repetition operator"); the crate reads `(?:a*)*`.
            if let Ast::Repetition(inner) = &*repetition.ast {
                let (start, end) = (inner.op.span.start.offset, repetition.op.span.end.offset);
                let reason = format!("bad repetition operator `{}`: a repetition cannot repeat a repetition", &text[start..end]);
                return Some(Refusal::Invalid { reason, offset: start });
            }
            let mut budget = budget;
            if let RepetitionKind::Range(range) = &repetition.op.kind {
                let (min, max) = match *range {
                    RepetitionRange::Exactly(n) => (n, Some(n)),
                    RepetitionRange::AtLeast(n) => (n, None),
                    RepetitionRange::Bounded(min, max) => (min, Some(max)),
                };
                let span = &repetition.op.span;
                let construct = format!("the repetition `{}`", &text[span.start.offset..span.end.offset]);
                let refused = |why| Some(Refusal::Re2Only { construct: construct.clone(), offset: span.start.offset, why });
                if min > MAX_REPEAT || max.is_some_and(|max| max > MAX_REPEAT) {
                    return refused("it allows counts up to 1000");
                }
                // A count of 0 divides nothing (RE2 skips it).
                if let Some(left) = budget.checked_div(max.unwrap_or(min)) {
                    if left == 0 {
                        return refused("nested repetitions may multiply to 1000 at most");
                    }
                    budget = left;
                }
            }
            outside_re2(&repetition.ast, budget, text)
        }
        Ast::Group(group) => {
            let flags = if let GroupKind::NonCapturing(flags) = &group.kind { flag_outside_re2(flags, text) } else { None };
            flags.or_else(|| outside_re2(&group.ast, budget, text))
        }
        Ast::Flags(set) => flag_outside_re2(&set.flags, text),
        Ast::Literal(literal) => match literal.kind {
            LiteralKind::HexFixed(HexLiteralKind::UnicodeShort | HexLiteralKind::UnicodeLong)
            | LiteralKind::HexBrace(HexLiteralKind::UnicodeShort | HexLiteralKind::UnicodeLong) => Some(Refusal::Re2Only {
                construct: format!("the escape `{}`", &text[literal.span.start.offset..literal.span.start.offset + 2]),
                offset: literal.span.start.offset,
                why: "it writes a code point as `\\x{…}`",
            }),
            _ => None,
        },
        Ast::Alternation(alternation) => alternation.asts.iter().find_map(|a| outside_re2(a, budget, text)),
        Ast::Concat(concat) => concat.asts.iter().find_map(|a| outside_re2(a, budget, text)),
        Ast::Empty(_) | Ast::Dot(_) | Ast::Assertion(_) | Ast::ClassUnicode(_) | Ast::ClassPerl(_) | Ast::ClassBracketed(_) => None,
    }
}

/// A flag RE2 lacks: the crate's `x` (verbose), `u` (Unicode) and `R` (CRLF).
fn flag_outside_re2(flags: &Flags, text: &str) -> Option<Refusal> {
    let item =
        flags.items.iter().find(|item| matches!(item.kind, FlagsItemKind::Flag(Flag::IgnoreWhitespace | Flag::Unicode | Flag::CRLF)))?;
    Some(Refusal::Re2Only {
        construct: format!("the flag `{}`", &text[item.span.start.offset..item.span.end.offset]),
        offset: item.span.start.offset,
        why: "its flags are i, m, s and U",
    })
}

/// `pattern` in the `regex` crate's syntax, for its parser to judge: each `{` that opens no
/// counted repetition escaped (RE2, like PCRE, reads such a brace as itself: `SIMBAR={7DB0…}`,
/// `\\{`), and RE2's `\C` (any byte, which the crate lacks) as `\d`, another one-character
/// escape of the same length (only the syntax is judged). Also the offsets, in the rewritten
/// pattern, of the backslashes put in.
fn in_crate_syntax(pattern: &str) -> (String, Vec<usize>) {
    let bytes = pattern.as_bytes();
    let (mut out, mut inserted) = (Vec::with_capacity(bytes.len()), Vec::new());
    let mut i = 0;
    while i < bytes.len() {
        let end = match bytes[i] {
            // `\p{Greek}`, `\x{263a}`: the braces belong to the escape.
            b'\\' if matches!(bytes.get(i + 1), Some(b'p' | b'P' | b'x')) && bytes.get(i + 2) == Some(&b'{') => {
                bytes[i..].iter().position(|b| *b == b'}').map_or(bytes.len(), |close| i + close + 1)
            }
            b'\\' if bytes.get(i + 1) == Some(&b'C') => {
                out.extend_from_slice(br"\d");
                i += 2;
                continue;
            }
            b'\\' => (i + 2).min(bytes.len()),
            b'[' => class_end(bytes, i),
            b'{' if counted_repetition(&bytes[i..]).is_none() => {
                inserted.push(out.len());
                out.push(b'\\');
                i + 1
            }
            _ => i + 1,
        };
        out.extend_from_slice(&bytes[i..end]);
        i = end;
    }
    // Only ASCII backslashes were put in, before ASCII braces: still UTF-8.
    (String::from_utf8(out).unwrap_or_else(|_| pattern.to_string()), inserted)
}

/// A construct of a pattern that only a backtracking engine runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BacktrackingOnly {
    /// What it is, in words (`a backreference`).
    pub construct: &'static str,
    /// Its text as written (`\1`, `(?<=`).
    pub text: String,
    /// Its byte offset in the pattern.
    pub offset: usize,
}

impl BacktrackingOnly {
    /// `a backreference \`\1\` at offset 6`, for messages.
    pub fn describe(&self) -> String {
        format!("{} `{}` at offset {}", self.construct, self.text, self.offset)
    }
}

/// The first construct of `pattern` that only a backtracking engine runs, if any.
pub fn backtracking_only(pattern: &str) -> Option<BacktrackingOnly> {
    let found = scan(pattern)?;
    let parses = regex_syntax::ast::parse::Parser::new().parse(pattern).is_ok();
    // The crate reads these two its own way (`(?R)`: its CRLF flag); RE2 refuses both.
    let read_otherwise = found.construct == POSSESSIVE || found.text == "(?R";
    (!parses || read_otherwise).then_some(found)
}

const POSSESSIVE: &str = "a possessive quantifier";

/// Walks the pattern outside character classes and escapes, where the constructs live.
fn scan(pattern: &str) -> Option<BacktrackingOnly> {
    let bytes = pattern.as_bytes();
    let found = |construct, at: usize, len: usize| {
        let end = (at + len).min(bytes.len());
        // Constructs are ASCII, so `end` falls on a character boundary unless the pattern ends.
        let text = pattern.get(at..end).unwrap_or(&pattern[at..]).to_string();
        Some(BacktrackingOnly { construct, text, offset: at })
    };
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => {
                if let Some((construct, len)) = escape(&bytes[i + 1..]) {
                    return found(construct, i, len + 1);
                }
                i += 1 + pattern[i + 1..].chars().next().map_or(0, char::len_utf8);
                continue;
            }
            b'[' => {
                i = class_end(bytes, i);
                continue;
            }
            b'(' => {
                if let Some((construct, len)) = group(&bytes[i + 1..]) {
                    return found(construct, i, len + 1);
                }
            }
            b'*' | b'+' | b'?' if bytes.get(i + 1) == Some(&b'+') && !after_group_open(bytes, i) => {
                return found(POSSESSIVE, i, 2);
            }
            b'{' => {
                if let Some(len) = counted_repetition(&bytes[i..])
                    && bytes.get(i + len) == Some(&b'+')
                {
                    return found(POSSESSIVE, i, len + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// What the escape after a `\` (`rest` starts after it) is, when only backtracking runs it,
/// and how many bytes it spans.
fn escape(rest: &[u8]) -> Option<(&'static str, usize)> {
    match rest {
        [b'1'..=b'9', ..] => Some(("a backreference", 1 + rest[1..].iter().take_while(|b| b.is_ascii_digit()).count())),
        [b'k', b'<' | b'{' | b'\'', ..] => Some(("a named backreference", 1 + bracketed(&rest[1..]))),
        [b'g', ..] => Some(("a backreference or subroutine call", 1 + bracketed(&rest[1..]))),
        [b'G', ..] => Some(("`\\G` (where the last match ended)", 1)),
        [b'K', ..] => Some(("`\\K` (reset of the match start)", 1)),
        _ => None,
    }
}

/// The length of `<name>`, `{name}`, `'name'` or a number at the start of `rest`.
fn bracketed(rest: &[u8]) -> usize {
    let close = match rest.first() {
        Some(b'<') => b'>',
        Some(b'{') => b'}',
        Some(b'\'') => b'\'',
        _ => return rest.iter().take_while(|b| b.is_ascii_digit() || **b == b'-' || **b == b'+').count(),
    };
    rest.iter().skip(1).position(|b| *b == close).map_or(rest.len(), |end| end + 2)
}

/// What a group that opens with `rest` (after its `(`) is, when only backtracking runs it,
/// and how many bytes its opening spans.
fn group(rest: &[u8]) -> Option<(&'static str, usize)> {
    match rest {
        [b'?', b'=', ..] | [b'?', b'!', ..] => Some(("a lookahead", 2)),
        [b'?', b'<', b'=' | b'!', ..] => Some(("a lookbehind", 3)),
        [b'?', b'>', ..] => Some(("an atomic group", 2)),
        [b'?', b'(', ..] => Some(("a conditional", 2)),
        [b'?', b'R', b')', ..] | [b'?', b'0'..=b'9', ..] | [b'?', b'+' | b'-', b'0'..=b'9', ..] => Some(("a recursion", 2)),
        [b'?', b'&', ..] | [b'?', b'P', b'>', ..] => Some(("a subroutine call", 2)),
        [b'?', b'P', b'=', ..] => Some(("a named backreference", 3)),
        [b'?', b'|', ..] => Some(("a branch reset group", 2)),
        [b'?', b'#', ..] => Some(("a comment group", 2)),
        [b'?', b'C', ..] => Some(("a callout", 2)),
        [b'*', b'A'..=b'Z', ..] => {
            Some(("a backtracking control verb", 1 + rest[1..].iter().take_while(|b| b.is_ascii_uppercase()).count()))
        }
        _ => None,
    }
}

/// Whether the quantifier-like byte at `i` is a group's `(?` rather than a quantifier.
fn after_group_open(bytes: &[u8], i: usize) -> bool {
    bytes[i] == b'?' && i > 0 && bytes[i - 1] == b'(' && (i < 2 || bytes[i - 2] != b'\\')
}

/// The length of a `{n}`, `{n,}` or `{n,m}` at the start of `text`, if it is one.
fn counted_repetition(text: &[u8]) -> Option<usize> {
    let close = text.iter().position(|b| *b == b'}')?;
    let inner = &text[1..close];
    let valid = !inner.is_empty() && inner[0].is_ascii_digit() && inner.iter().all(|b| b.is_ascii_digit() || *b == b',');
    (valid && inner.iter().filter(|b| **b == b',').count() <= 1).then_some(close + 1)
}

/// The index just past the character class opening at `start`: a `]` right after `[` or
/// `[^` is a member, escapes and `[:name:]` are skipped whole.
fn class_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    if bytes.get(i) == Some(&b'^') {
        i += 1;
    }
    if bytes.get(i) == Some(&b']') {
        i += 1;
    }
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'[' if bytes.get(i + 1) == Some(&b':') => {
                i = bytes[i..].windows(2).position(|w| w == b":]").map_or(bytes.len(), |end| i + end + 2);
            }
            b']' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(pattern: &str) -> Option<(&'static str, String, usize)> {
        backtracking_only(pattern).map(|b| (b.construct, b.text, b.offset))
    }

    #[test]
    fn names_each_backtracking_construct_and_its_offset() {
        let cases: [(&str, &str, &str, usize); 22] = [
            (r"(\w+) \1", "a backreference", r"\1", 6),
            (r"(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)\10", "a backreference", r"\10", 30),
            (r"(?<w>a)\k<w>", "a named backreference", r"\k<w>", 7),
            (r"(?P<w>a)(?P=w)", "a named backreference", "(?P=", 8),
            (r"(a)\g1", "a backreference or subroutine call", r"\g1", 3),
            (r"(a)\g{-1}", "a backreference or subroutine call", r"\g{-1}", 3),
            (r"cmd(?=\.exe)", "a lookahead", "(?=", 3),
            (r"cmd(?!\.exe)", "a lookahead", "(?!", 3),
            (r"(?<=C:\\)cmd", "a lookbehind", "(?<=", 0),
            (r"x(?<!C:\\)cmd", "a lookbehind", "(?<!", 1),
            ("(?>a+)b", "an atomic group", "(?>", 0),
            ("a*+b", "a possessive quantifier", "*+", 1),
            ("a++b", "a possessive quantifier", "++", 1),
            ("a?+b", "a possessive quantifier", "?+", 1),
            ("a{2,5}+b", "a possessive quantifier", "{2,5}+", 1),
            (r"\((?:[^()]|(?R))*\)", "a recursion", "(?R", 11),
            ("(a(?1)?b)", "a recursion", "(?1", 2),
            ("(?<n>a)(?&n)", "a subroutine call", "(?&", 7),
            ("(a)?(?(1)b|c)", "a conditional", "(?(", 4),
            (r"\Gabc", "`\\G` (where the last match ended)", r"\G", 0),
            (r"abc\Kdef", "`\\K` (reset of the match start)", r"\K", 3),
            ("a(*SKIP)(*FAIL)|b", "a backtracking control verb", "(*SKIP", 1),
        ];
        for (pattern, construct, text, offset) in cases {
            assert_eq!(named(pattern), Some((construct, text.to_string(), offset)), "{pattern}");
        }
    }

    #[test]
    fn look_alikes_an_automaton_runs_are_fine() {
        for pattern in [
            r"\\1",
            r"C:\\1\\",
            r"[(?=]",
            r"[\1]x",
            r"[]a(?!]",
            r"[[:alpha:](?=]",
            "(?i)cmd",
            "(?i:cmd)",
            "(?-i)cmd",
            "(?s)^a.b$",
            "(?P<name>a)b",
            "(?<name>a)b",
            "(?:a|b)+",
            "a+?b",
            r"a\+\+",
            r"\(?=",
            "a{2}",
            "^(a+)+$",
        ] {
            assert_eq!(backtracking_only(pattern), None, "{pattern}");
        }
    }

    #[test]
    fn an_invalid_pattern_is_refused_with_its_reason_and_offset() {
        let invalid = |pattern| match refusal(pattern) {
            Some(Refusal::Invalid { reason, offset }) => Some((reason, offset)),
            _ => None,
        };
        assert_eq!(invalid("cmd[.exe"), Some(("unclosed character class".to_string(), 3)));
        assert_eq!(invalid("a(b"), Some(("unclosed group".to_string(), 1)));
        assert_eq!(invalid(r"\p{NoSuchClass}").map(|(_, offset)| offset), Some(0));
        assert_eq!(invalid("{x}(a"), Some(("unclosed group".to_string(), 3)), "the offset in the pattern as written");
        // What RE2 reads: an octal escape, `\Q…\E` quoting (left to the engine), braces
        // that open no repetition.
        for fine in [
            r"a\012b",
            r"\Q(a\E",
            "(?i)cmd",
            "a{2,3}",
            "a{",
            r"(\\{|%7B)",
            "SIMBAR={7DB0-8D}",
            "a{,3}",
            "[{]",
            r"\p{Greek}{2}",
            r"\x{263a}",
        ] {
            assert_eq!(refusal(fine), None, "{fine}");
        }
        assert!(matches!(refusal(r"(\w)\1"), Some(Refusal::Backtracking(_))));
    }

    #[test]
    fn what_re2_alone_refuses_is_named_with_its_offset() {
        let re2_only = |pattern| match refusal(pattern) {
            Some(Refusal::Re2Only { construct, offset, .. }) => Some((construct, offset)),
            _ => None,
        };
        assert_eq!(re2_only("a{1001}"), Some(("the repetition `{1001}`".into(), 1)));
        assert_eq!(re2_only("x{0,1001}"), Some(("the repetition `{0,1001}`".into(), 1)));
        assert_eq!(re2_only("(a{100}){100}"), Some(("the repetition `{100}`".into(), 2)));
        assert_eq!(re2_only("{x}(a{2}){1000}"), Some(("the repetition `{2}`".into(), 5)), "the offset in the pattern as written");
        assert_eq!(re2_only("(?x) a # c"), Some(("the flag `x`".into(), 2)));
        assert_eq!(re2_only("(?i-u:a)"), Some(("the flag `u`".into(), 4)));
        assert_eq!(re2_only(r"b\u0041"), Some((r"the escape `\u`".into(), 1)));
        assert!(matches!(refusal("a**"), Some(Refusal::Invalid { offset: 1, .. })));
        assert!(matches!(refusal("a{2}{3}"), Some(Refusal::Invalid { offset: 1, .. })));
        for fine in ["a{1000}", "(a{10}){100}", "((a{10}){10}){10}", "(a{0}){1000}", "x{1000,}", r"\C", r"a\C+", "a*?", "(a*)*", "(?U)a+"] {
            assert_eq!(refusal(fine), None, "{fine}");
        }
    }

    #[test]
    fn an_invalid_pattern_without_such_a_construct_is_not_named() {
        assert_eq!(backtracking_only("(unclosed"), None);
        assert_eq!(backtracking_only("a{"), None);
    }

    #[test]
    fn offsets_count_bytes_past_wide_characters() {
        assert_eq!(named(r"(ü)é\1"), Some(("a backreference", r"\1".into(), 6)));
        assert_eq!(backtracking_only("é\\"), None);
    }
}
