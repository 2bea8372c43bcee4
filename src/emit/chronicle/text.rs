//! YARA-L lexical pieces, the printer's helpers: string literals, regex literals, windows and
//! comments, each written so it stays one token (or one line) whatever the rule's text holds.

use crate::ir::{TICKS_PER_SECOND, Timespan};

/// A double-quoted string literal: quotes and backslashes escaped, line breaks and tabs as
/// escapes, other control characters dropped (they have no meaning in a rule's text).
pub fn string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A backquoted RE2 pattern. Backquotes are raw-string delimiters with no escape, so a
/// backquote in the pattern is written as RE2's `\x60`; line breaks become `\n` and `\r`
/// escapes so the pattern stays on one line; a slash is written `\/` (the same character to
/// RE2) because YARA-L tools read `/…/` as a regex literal even inside backquotes.
pub fn regex(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 2);
    out.push('`');
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            // An escape and the character it escapes are copied together.
            '\\' => match chars.next() {
                Some('`') => out.push_str(r"\x60"),
                Some('\n') => out.push_str(r"\n"),
                Some('\r') => out.push_str(r"\r"),
                Some(next) => {
                    out.push('\\');
                    out.push(next);
                }
                None => out.push_str(r"\\"),
            },
            '`' => out.push_str(r"\x60"),
            '\n' => out.push_str(r"\n"),
            '\r' => out.push_str(r"\r"),
            '/' => out.push_str(r"\/"),
            c => out.push(c),
        }
    }
    out.push('`');
    out
}

/// A literal text as an RE2 pattern that matches exactly it.
pub fn regex_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if r"\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A time span as a match window (`90s`, `5m`, `1h`, `2d`), in the largest unit that divides
/// it; at least one second.
pub fn window(span: Timespan) -> String {
    let seconds = (span.ticks() / TICKS_PER_SECOND).max(1);
    [(86_400, "d"), (3_600, "h"), (60, "m")]
        .into_iter()
        .find(|(unit, _)| seconds % unit == 0)
        .map_or_else(|| format!("{seconds}s"), |(unit, suffix)| format!("{}{suffix}", seconds / unit))
}

/// One comment line's text: line breaks flattened so the comment cannot end early.
pub fn comment(text: &str) -> String {
    text.split(['\n', '\r']).map(str::trim).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ")
}

/// One comment line's text with its leading indentation kept (the fidelity header indents
/// each loss under the verdict).
pub fn comment_keeping_indent(text: &str) -> String {
    let indent = &text[..text.len() - text.trim_start().len()];
    format!("{indent}{}", comment(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_escape_quotes_backslashes_and_line_breaks() {
        assert_eq!(string(r#"say "hi" \ bye"#), r#""say \"hi\" \\ bye""#);
        assert_eq!(string("a\nb\r\tc\u{7}"), r#""a\nb\r\tc""#);
    }

    #[test]
    fn regexes_keep_backslashes_and_escape_backquotes_and_line_breaks() {
        assert_eq!(regex(r"C:\\Windows\\.+`x"), r"`C:\\Windows\\.+\x60x`");
        assert_eq!(regex("a\nb"), r"`a\nb`");
        assert_eq!(regex(r"/etc/x\.d/ \/ \\/"), r"`\/etc\/x\.d\/ \/ \\\/`");
        // A trailing lone backslash would escape nothing; it is kept as a literal backslash.
        assert_eq!(regex("a\\"), r"`a\\`");
    }

    #[test]
    fn literals_escape_every_regex_metacharacter() {
        assert_eq!(regex_literal(r"a.b*c?(d)|[e]{f}^$\+"), r"a\.b\*c\?\(d\)\|\[e\]\{f\}\^\$\\\+");
        assert_eq!(regex_literal("plain-text_1"), "plain-text_1");
    }

    #[test]
    fn windows_use_the_largest_exact_unit() {
        let seconds = |n: i64| Timespan::from_seconds(n).unwrap();
        assert_eq!(window(seconds(90)), "90s");
        assert_eq!(window(seconds(300)), "5m");
        assert_eq!(window(seconds(7_200)), "2h");
        assert_eq!(window(seconds(172_800)), "2d");
        assert_eq!(window(Timespan::default()), "1s");
    }

    #[test]
    fn comments_stay_on_one_line() {
        assert_eq!(comment("a\n  b\r\nc"), "a b c");
        assert_eq!(comment_keeping_indent("  loss: x\ny"), "  loss: x y");
    }
}
