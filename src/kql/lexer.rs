//! Lexer: turns query text into tokens, skipping whitespace and `//` comments.
//!
//! Lexing never fails: bad input becomes an `Error` token (or a best-effort
//! string token) plus a `SyntaxError`, so the parser can keep going.

use super::error::SyntaxError;
use super::operators;
use super::span::Span;
use super::token::{Token, TokenKind};

/// Operator names spelled with a dash; Kusto lexes them as single keywords.
const DASHED: &[&str] = &[
    "project-away",
    "project-keep",
    "project-rename",
    "project-reorder",
    "project-smart",
    "mv-expand",
    "mv-apply",
    "make-series",
    "top-nested",
    "top-hitters",
    "parse-where",
    "parse-kv",
    "sample-distinct",
    "macro-expand",
    "make-graph",
    "graph-match",
    "graph-mark-components",
    "graph-shortest-paths",
    "graph-to-table",
    "assert-schema",
    "project-by-names",
];

/// Type names whose parenthesised contents are raw literal text.
pub const TYPED_LITERALS: &[&str] =
    &["bool", "int", "int32", "long", "int64", "real", "double", "decimal", "datetime", "date", "time", "timespan", "guid"];

/// Timespan suffixes and their length in ticks (100 ns).
pub const TIMESPAN_UNITS: &[(&str, i64)] = &[
    ("d", 864_000_000_000),
    ("day", 864_000_000_000),
    ("days", 864_000_000_000),
    ("h", 36_000_000_000),
    ("hr", 36_000_000_000),
    ("hrs", 36_000_000_000),
    ("hour", 36_000_000_000),
    ("hours", 36_000_000_000),
    ("m", 600_000_000),
    ("min", 600_000_000),
    ("minute", 600_000_000),
    ("minutes", 600_000_000),
    ("s", 10_000_000),
    ("sec", 10_000_000),
    ("second", 10_000_000),
    ("seconds", 10_000_000),
    ("ms", 10_000),
    ("milli", 10_000),
    ("millis", 10_000),
    ("millisecond", 10_000),
    ("milliseconds", 10_000),
    ("microsecond", 10),
    ("microseconds", 10),
    ("tick", 1),
    ("ticks", 1),
];

pub fn unit_ticks(unit: &str) -> Option<i64> {
    TIMESPAN_UNITS.iter().find(|(u, _)| *u == unit).map(|&(_, t)| t)
}

pub fn tokenize(src: &str) -> (Vec<Token>, Vec<SyntaxError>) {
    let mut lexer = Lexer { src, bytes: src.as_bytes(), pos: 0, tokens: Vec::new(), errors: Vec::new() };
    lexer.run();
    (lexer.tokens, lexer.errors)
}

struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    tokens: Vec<Token>,
    errors: Vec<SyntaxError>,
}

fn is_word_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_word_char(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

impl<'a> Lexer<'a> {
    fn run(&mut self) {
        loop {
            self.skip_trivia();
            let start = self.pos;
            let Some(c) = self.peek_char() else {
                self.push(TokenKind::Eof, start);
                return;
            };
            let kind = self.token(c);
            self.push(kind, start);
        }
    }

    fn push(&mut self, kind: TokenKind, start: usize) {
        self.tokens.push(Token { kind, span: Span::new(start, self.pos) });
    }

    fn error(&mut self, span: Span, message: String) {
        self.errors.push(SyntaxError::new(span, message));
    }

    fn byte(&self, at: usize) -> Option<u8> {
        self.bytes.get(at).copied()
    }

    fn peek_char(&self) -> Option<char> {
        self.src.get(self.pos..)?.chars().next()
    }

    fn char_at(&self, at: usize) -> Option<char> {
        self.src.get(at..)?.chars().next()
    }

    fn rest(&self) -> &'a str {
        self.src.get(self.pos..).unwrap_or("")
    }

    fn skip_trivia(&mut self) {
        loop {
            let rest = self.rest();
            if rest.starts_with("//") {
                self.pos += rest.find('\n').unwrap_or(rest.len());
            } else if let Some(c) = rest.chars().next().filter(|c| c.is_whitespace()) {
                self.pos += c.len_utf8();
            } else {
                return;
            }
        }
    }

    fn token(&mut self, c: char) -> TokenKind {
        use TokenKind::*;
        let start = self.pos;
        let next = self.byte(start + 1);
        if c.is_ascii_digit() {
            return self.number();
        }
        if (c == 'h' || c == 'H') && matches!(next, Some(b'\'' | b'"' | b'@')) {
            // `h@` must be followed by a quote to be an obfuscated string.
            if next != Some(b'@') || matches!(self.byte(start + 2), Some(b'\'' | b'"')) {
                self.pos += 1;
                return self.string();
            }
        }
        if is_word_start(c) || (c == '$' && self.char_at(start + 1).is_some_and(is_word_start)) {
            return self.word();
        }
        if c == '!' && self.char_at(start + 1).is_some_and(is_word_start) {
            let save = self.pos;
            self.pos += 1;
            let word_start = self.pos;
            self.scan_word_chars();
            let word = &self.src[word_start..self.pos];
            // `!between` is not a string operator but takes `!` all the same.
            if operators::takes_bang(word) || word == "between" {
                if word == "in" && self.byte(self.pos) == Some(b'~') {
                    self.pos += 1;
                }
                return Word;
            }
            self.pos = save;
        }
        if c == '\'' || c == '"' || c == '@' || self.rest().starts_with("```") || self.rest().starts_with("~~~") {
            return self.string();
        }
        let (kind, len) = match (c, next) {
            ('(', _) => (LParen, 1),
            (')', _) => (RParen, 1),
            ('[', _) => (LBracket, 1),
            (']', _) => (RBracket, 1),
            ('{', _) => (LBrace, 1),
            ('}', _) => (RBrace, 1),
            (',', _) => (Comma, 1),
            (';', _) => (Semi, 1),
            (':', _) => (Colon, 1),
            ('.', Some(b'.')) => (DotDot, 2),
            ('.', _) => (Dot, 1),
            ('|', _) => (Pipe, 1),
            ('=', Some(b'=')) => (EqEq, 2),
            ('=', Some(b'~')) => (TildeEq, 2),
            ('=', Some(b'>')) => (FatArrow, 2),
            ('=', _) => (Assign, 1),
            ('!', Some(b'=')) => (NotEq, 2),
            ('!', Some(b'~')) => (BangTilde, 2),
            ('<', Some(b'=')) => (Le, 2),
            ('<', Some(b'>')) => (LtGt, 2),
            ('<', _) => (Lt, 1),
            ('>', Some(b'=')) => (Ge, 2),
            ('>', _) => (Gt, 1),
            ('+', _) => (Plus, 1),
            ('-', _) => (Minus, 1),
            ('*', _) => (Star, 1),
            ('/', _) => (Slash, 1),
            ('%', _) => (Percent, 1),
            _ => {
                self.pos += c.len_utf8();
                self.error(Span::new(start, self.pos), format!("unexpected character `{c}`"));
                return Error;
            }
        };
        self.pos += len;
        kind
    }

    fn scan_word_chars(&mut self) {
        while let Some(c) = self.peek_char().filter(|&c| is_word_char(c)) {
            self.pos += c.len_utf8();
        }
    }

    fn word(&mut self) -> TokenKind {
        let start = self.pos;
        if self.byte(start) == Some(b'$') {
            self.pos += 1;
        }
        self.scan_word_chars();
        let word = &self.src[start..self.pos];
        if word == "in" && self.byte(self.pos) == Some(b'~') {
            self.pos += 1;
        } else if word == "matches" && self.rest().starts_with(" regex") && !self.char_at(self.pos + 6).is_some_and(is_word_char) {
            // Kusto spells this operator with exactly one space.
            self.pos += 6;
        } else if self.byte(self.pos) == Some(b'-') {
            let dash = self.pos;
            self.pos += 1;
            self.scan_word_chars();
            if !DASHED.contains(&&self.src[start..self.pos]) {
                self.pos = dash;
            }
        } else if TYPED_LITERALS.contains(&word) && self.byte(self.pos) == Some(b'(') {
            return self.typed_literal(start);
        }
        TokenKind::Word
    }

    /// `datetime(2024-01-01)`: everything up to the closing `)` is raw text.
    fn typed_literal(&mut self, start: usize) -> TokenKind {
        match self.rest().find([')', '\n']) {
            Some(i) if self.rest().as_bytes().get(i) == Some(&b')') => {
                self.pos += i + 1;
            }
            _ => {
                self.pos += self.rest().find('\n').unwrap_or(self.rest().len());
                self.error(Span::new(start, self.pos), "unterminated literal: expected `)`".into());
            }
        }
        TokenKind::TypedLiteral
    }

    fn digits(&mut self) -> usize {
        let from = self.pos;
        while self.byte(self.pos).is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        self.pos - from
    }

    fn number(&mut self) -> TokenKind {
        let start = self.pos;
        if self.rest().starts_with("0x") || self.rest().starts_with("0X") {
            self.pos += 2;
            while self.byte(self.pos).is_some_and(|b| b.is_ascii_hexdigit()) {
                self.pos += 1;
            }
            return self.number_suffix(start, TokenKind::Int);
        }
        self.digits();
        let mut kind = TokenKind::Int;
        if self.byte(self.pos) == Some(b'.') && self.byte(self.pos + 1) != Some(b'.') {
            self.pos += 1;
            self.digits();
            kind = TokenKind::Real;
        }
        if matches!(self.byte(self.pos), Some(b'e' | b'E')) {
            let save = self.pos;
            self.pos += 1;
            if matches!(self.byte(self.pos), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.digits() > 0 {
                kind = TokenKind::Real;
            } else {
                self.pos = save;
            }
        }
        self.number_suffix(start, kind)
    }

    /// A letter right after a number makes a timespan (`5m`) or, after
    /// plain digits, a name (Kusto accepts names like `5Minutebin`).
    fn number_suffix(&mut self, start: usize, kind: TokenKind) -> TokenKind {
        if !self.peek_char().is_some_and(is_word_char) {
            return kind;
        }
        let unit_start = self.pos;
        self.scan_word_chars();
        let unit = &self.src[unit_start..self.pos];
        let number = &self.src[start..unit_start];
        let hex = number.starts_with("0x") || number.starts_with("0X");
        if !hex && unit_ticks(unit).is_some() {
            return TokenKind::Timespan;
        }
        if number.bytes().all(|b| b.is_ascii_digit()) {
            return TokenKind::Word;
        }
        self.error(Span::new(start, self.pos), format!("invalid number suffix `{unit}`"));
        TokenKind::Error
    }

    /// Any string form; `self.pos` is at the quote, `@`, or fence (after an
    /// `h` prefix if there was one).
    fn string(&mut self) -> TokenKind {
        let start = self.pos;
        let rest = self.rest();
        if rest.starts_with("```") || rest.starts_with("~~~") {
            let fence = &rest[..3];
            match rest[3..].find(fence) {
                Some(i) => self.pos += 3 + i + 3,
                None => {
                    self.pos = self.src.len();
                    self.error(Span::new(start, start + 3), format!("unterminated string: missing closing {fence}"));
                }
            }
            return TokenKind::String;
        }
        let verbatim = rest.starts_with('@');
        if verbatim {
            self.pos += 1;
        }
        let Some(quote) = self.byte(self.pos).filter(|b| *b == b'\'' || *b == b'"') else {
            self.error(Span::new(start, self.pos), "unexpected character `@`".into());
            return TokenKind::Error;
        };
        self.pos += 1;
        while let Some(c) = self.peek_char() {
            if c == '\n' || c == '\r' {
                break;
            }
            self.pos += c.len_utf8();
            if c as u32 == quote as u32 {
                if verbatim && self.byte(self.pos) == Some(quote) {
                    self.pos += 1; // doubled quote inside a verbatim string
                    continue;
                }
                return TokenKind::String;
            }
            if c == '\\' && !verbatim {
                self.escape();
            }
        }
        self.error(Span::new(start, self.pos), format!("unterminated string: missing closing {}", quote as char));
        TokenKind::String
    }

    /// Checks the escape after a backslash (already consumed) and skips it.
    fn escape(&mut self) {
        let backslash = self.pos - 1;
        let Some(c) = self.peek_char() else { return };
        let ok = match c {
            '\\' | '\'' | '"' | 'a' | 'b' | 'f' | 'n' | 'r' | 't' | 'v' => {
                self.pos += 1;
                true
            }
            '0'..='7' => {
                let mut n = 0;
                while n < 3 && self.byte(self.pos).is_some_and(|b| (b'0'..=b'7').contains(&b)) {
                    self.pos += 1;
                    n += 1;
                }
                true
            }
            'x' | 'u' | 'U' => {
                let want = match c {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                self.pos += 1;
                let mut n = 0;
                while n < want && self.byte(self.pos).is_some_and(|b| b.is_ascii_hexdigit()) {
                    self.pos += 1;
                    n += 1;
                }
                n == want
            }
            _ => false,
        };
        if !ok {
            // Leave a line break alone so the string is reported unterminated.
            if c != '\n' && c != '\r' {
                self.pos = self.pos.max(backslash + 1 + c.len_utf8());
            }
            let shown = self.src[backslash..self.pos].to_string();
            self.error(Span::new(backslash, self.pos), format!("invalid escape sequence `{shown}` in string"));
        }
    }
}

/// Where the query's string literals use an octal escape (`\3`): Microsoft's parser accepts
/// one, but Kusto documents no meaning for it and engines read it differently (a control
/// character, or the digit), so what such a string matches is uncertain.
pub fn octal_escapes(src: &str) -> Vec<Span> {
    // Lowering asks this of every query: tokenize again only when a backslash-digit occurs.
    if !src.as_bytes().windows(2).any(|w| w[0] == b'\\' && (b'0'..=b'7').contains(&w[1])) {
        return Vec::new();
    }
    let (tokens, _) = tokenize(src);
    let mut found = Vec::new();
    for token in tokens.iter().filter(|t| t.kind == TokenKind::String) {
        let text = &src[token.span.start..token.span.end];
        let body = text.strip_prefix(['h', 'H']).unwrap_or(text);
        if body.starts_with(['@', '`', '~']) {
            continue; // verbatim and fenced strings have no escapes
        }
        let bytes = body.as_bytes();
        let offset = token.span.end - body.len();
        let mut i = 0;
        while i + 1 < bytes.len() {
            if bytes[i] == b'\\' {
                if (b'0'..=b'7').contains(&bytes[i + 1]) {
                    found.push(Span::new(offset + i, offset + i + 2));
                }
                i += 2;
            } else {
                i += 1;
            }
        }
    }
    found
}

/// The value of a string token: `(text, obfuscated)`. Adjacent string tokens
/// are concatenated by the parser, not here. Invalid escapes were reported
/// by the lexer and are kept literally.
pub fn decode_string(token: &str) -> (String, bool) {
    let obfuscated = token.starts_with(['h', 'H']);
    let body = if obfuscated { &token[1..] } else { token };
    for fence in ["```", "~~~"] {
        if let Some(rest) = body.strip_prefix(fence) {
            // Unterminated fences (already reported) run to the end.
            return (rest.strip_suffix(fence).unwrap_or(rest).to_string(), obfuscated);
        }
    }
    let (verbatim, body) = match body.strip_prefix('@') {
        Some(rest) => (true, rest),
        None => (false, body),
    };
    let mut chars = body.chars();
    let Some(quote) = chars.next() else { return (String::new(), obfuscated) };
    let inner = chars.as_str();
    let inner = inner.strip_suffix(quote).unwrap_or(inner);
    let value = if verbatim { inner.replace(&format!("{quote}{quote}"), &quote.to_string()) } else { unescape(inner) };
    (value, obfuscated)
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = chars.next() else {
            out.push('\\');
            break;
        };
        let simple = match e {
            'a' => Some('\u{7}'),
            'b' => Some('\u{8}'),
            'f' => Some('\u{c}'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'v' => Some('\u{b}'),
            '\\' | '\'' | '"' => Some(e),
            _ => None,
        };
        if let Some(v) = simple {
            out.push(v);
            continue;
        }
        let (radix, max) = match e {
            '0'..='7' => (8, 3),
            'x' => (16, 2),
            'u' => (16, 4),
            'U' => (16, 8),
            _ => {
                out.push('\\');
                out.push(e);
                continue;
            }
        };
        let mut digits = String::new();
        if radix == 8 {
            digits.push(e);
        }
        while digits.len() < max && chars.peek().is_some_and(|d| d.is_digit(radix)) {
            digits.extend(chars.next());
        }
        match u32::from_str_radix(&digits, radix).ok().and_then(char::from_u32) {
            Some(v) => out.push(v),
            None => out.push(char::REPLACEMENT_CHARACTER),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<TokenKind> {
        tokenize(src).0.into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn numbers_and_timespans() {
        use TokenKind::*;
        assert_eq!(
            kinds("1 1.5 1e5 1.e3 0x1F 5m 1.5h 100ms 2days 1tick"),
            vec![Int, Real, Real, Real, Int, Timespan, Timespan, Timespan, Timespan, Timespan, Eof]
        );
        assert_eq!(kinds("1..5"), vec![Int, DotDot, Int, Eof]);
        assert_eq!(kinds("5parsecs"), vec![Word, Eof]);
        let (_, errors) = tokenize("1.5parsecs");
        assert_eq!(errors[0].message, "invalid number suffix `parsecs`");
    }

    #[test]
    fn string_forms() {
        let cases = [
            (r#"'a\'b'"#, "a'b"),
            (r#""a\"b\\c\td""#, "a\"b\\c\td"),
            (r#"@'C:\x'"#, r"C:\x"),
            (r#"@"a""b""#, "a\"b"),
            (r#""\u0041\x42\103""#, "ABC"),
            ("```line1\nline2```", "line1\nline2"),
            ("~~~x~~~", "x"),
        ];
        for (src, want) in cases {
            let (tokens, errors) = tokenize(src);
            assert!(errors.is_empty(), "{src}: {errors:?}");
            assert_eq!(tokens[0].kind, TokenKind::String, "{src}");
            assert_eq!(decode_string(&src[tokens[0].span.start..tokens[0].span.end]), (want.to_string(), false));
        }
        assert_eq!(decode_string("h'secret'"), ("secret".to_string(), true));
        assert_eq!(decode_string("```®Σ"), ("®Σ".to_string(), false));
        assert_eq!(decode_string("H@\"a\\b\""), ("a\\b".to_string(), true));
    }

    #[test]
    fn bad_strings_are_reported() {
        let (_, errors) = tokenize(r#""C:\Enterprise""#);
        assert_eq!(errors[0].span, Span::new(3, 5));
        assert_eq!(errors[0].message, r"invalid escape sequence `\E` in string");
        let (_, errors) = tokenize("'abc\n'");
        assert_eq!(errors[0].message, "unterminated string: missing closing '");
    }

    #[test]
    fn compound_words() {
        let src = "a !has b in~ c !in~ d | project-away x | matches regex e | mv-a - b";
        let (tokens, errors) = tokenize(src);
        assert!(errors.is_empty());
        let words: Vec<&str> = tokens.iter().filter(|t| t.kind == TokenKind::Word).map(|t| &src[t.span.start..t.span.end]).collect();
        assert_eq!(words, ["a", "!has", "b", "in~", "c", "!in~", "d", "project-away", "x", "matches regex", "e", "mv", "a", "b"]);
    }

    #[test]
    fn typed_literals_keep_raw_text() {
        let src = "datetime(2024-01-01 10:00) guid(74be27de-1e4e-49d9-b579-fe0b331d3642) todatetime(x)";
        let kinds: Vec<TokenKind> = tokenize(src).0.iter().map(|t| t.kind).collect();
        assert_eq!(&kinds[..3], &[TokenKind::TypedLiteral, TokenKind::TypedLiteral, TokenKind::Word]);
    }

    #[test]
    fn octal_escapes_are_found_only_where_they_escape() {
        let src = r#"T | where A startswith "x64\\\3\\" or B == "\\3" or C == @"\3" or D == h"\12""#;
        let found: Vec<&str> = octal_escapes(src).iter().map(|s| &src[s.start..s.end]).collect();
        assert_eq!(found, [r"\3", r"\1"]);
    }
}
