//! Recursive-descent parser. `statements.rs` handles `let` and queries,
//! `operators.rs` the tabular operators after `|`, `expressions.rs` scalar
//! expressions (precedence climbing) and `literals.rs` literal tokens.
//!
//! Errors are recorded in `errors` and signalled upward with `Reported`;
//! operators and statements catch them, skip to the next `|` or `;`, and
//! leave an `Error` node, so one query can yield several errors.

mod expressions;
mod literals;
mod operators;
mod statements;

use super::ast::{Expr, ExprKind, Ident};
use super::error::SyntaxError;
use super::keywords::{is_declarable, is_reserved};
use super::lexer::{decode_string, tokenize};
use super::span::Span;
use super::token::{Token, TokenKind};

/// How deep brackets, calls and sub-queries may nest before we give up.
/// Keeps the recursion (and the tree) well inside a 2 MiB thread stack.
const MAX_NESTING: usize = 64;

/// How many operator links (`a + b + ...`, `x.y.z`) may be open at once;
/// they deepen the tree without recursion in the parser.
const MAX_CHAIN: usize = 2000;

/// How many `|` operators one pipeline may have: lowering and the targets walk a pipeline's
/// stages against each other, and real rules have a few dozen.
const MAX_OPERATORS: usize = 1000;

/// An error was already recorded; unwind to the nearest recovery point.
#[derive(Debug)]
pub(super) struct Reported;

pub(super) type PResult<T> = Result<T, Reported>;

pub(super) struct Parser<'a> {
    src: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    nesting: usize,
    chain: usize,
    errors: Vec<SyntaxError>,
}

pub(super) fn parse(src: &str) -> (super::ast::Script, Vec<SyntaxError>) {
    let (tokens, lex_errors) = tokenize(src);
    let mut parser = Parser { src, tokens, pos: 0, nesting: 0, chain: 0, errors: Vec::new() };
    let script = parser.script();
    let mut errors = lex_errors;
    errors.append(&mut parser.errors);
    errors.sort_by_key(|e| (e.span.start, e.span.end));
    (script, errors)
}

impl<'a> Parser<'a> {
    // ---- looking at tokens ----

    fn peek(&self) -> Token {
        self.nth(0)
    }

    /// The token `n` ahead; the last token is always `Eof`.
    fn nth(&self, n: usize) -> Token {
        let last = self.tokens.len() - 1;
        self.tokens[(self.pos + n).min(last)]
    }

    fn text(&self, token: Token) -> &'a str {
        &self.src[token.span.start..token.span.end]
    }

    fn at(&self, kind: TokenKind) -> bool {
        self.peek().kind == kind
    }

    fn nth_is(&self, n: usize, kind: TokenKind) -> bool {
        self.nth(n).kind == kind
    }

    fn nth_is_word(&self, n: usize, word: &str) -> bool {
        let token = self.nth(n);
        token.kind == TokenKind::Word && self.text(token) == word
    }

    fn at_word(&self, word: &str) -> bool {
        self.nth_is_word(0, word)
    }

    /// Text of the current token if it is a word.
    fn word_text(&self) -> Option<&'a str> {
        let token = self.peek();
        (token.kind == TokenKind::Word).then(|| self.text(token))
    }

    /// Ends an expression list: `|`, `;`, a closing bracket, or the end.
    fn at_list_end(&self) -> bool {
        let kind = self.peek().kind;
        matches!(kind, TokenKind::Pipe | TokenKind::Semi | TokenKind::Eof) || kind.is_closing()
    }

    // ---- consuming tokens ----

    fn bump(&mut self) -> Token {
        let token = self.peek();
        if token.kind != TokenKind::Eof {
            self.pos += 1;
        }
        token
    }

    fn eat(&mut self, kind: TokenKind) -> Option<Token> {
        self.at(kind).then(|| self.bump())
    }

    fn eat_word(&mut self, word: &str) -> Option<Token> {
        self.at_word(word).then(|| self.bump())
    }

    fn expect(&mut self, kind: TokenKind, what: &str) -> PResult<Token> {
        match self.eat(kind) {
            Some(token) => Ok(token),
            None => self.fail(what),
        }
    }

    fn expect_word(&mut self, word: &str) -> PResult<Token> {
        match self.eat_word(word) {
            Some(token) => Ok(token),
            None => self.fail(&format!("`{word}`")),
        }
    }

    /// End of the last consumed token.
    fn prev_end(&self) -> usize {
        match self.pos.checked_sub(1) {
            Some(i) => self.tokens[i].span.end,
            None => 0,
        }
    }

    /// Span from `start` to the end of the last consumed token.
    fn span_from(&self, start: usize) -> Span {
        Span::new(start, self.prev_end().max(start))
    }

    fn start(&self) -> usize {
        self.peek().span.start
    }

    // ---- errors ----

    /// How an error message names a token.
    fn describe(&self, token: Token) -> String {
        match token.kind {
            TokenKind::Eof | TokenKind::String | TokenKind::TypedLiteral => token.kind.describe().to_string(),
            _ => {
                let text = self.text(token);
                let short: String = text.chars().take(30).collect();
                format!("`{short}`")
            }
        }
    }

    /// Records "expected X but found Y". A missing token is reported right
    /// after the previous one when the next token is on a later line (or
    /// the end), which is where it belongs.
    fn fail<T>(&mut self, expected: &str) -> PResult<T> {
        let token = self.peek();
        if token.kind == TokenKind::Error {
            return Err(Reported); // the lexer reported it
        }
        let prev = self.prev_end();
        let gap = self.src.get(prev..token.span.start).unwrap_or("");
        let span = if token.kind == TokenKind::Eof || (self.pos > 0 && gap.contains('\n')) { Span::new(prev, prev) } else { token.span };
        let found = self.describe(token);
        self.push_error(SyntaxError::expected(span, expected, found));
        Err(Reported)
    }

    fn error_at<T>(&mut self, span: Span, message: String) -> PResult<T> {
        self.push_error(SyntaxError::new(span, message));
        Err(Reported)
    }

    /// Keeps one error per position: later ones there are follow-on noise.
    fn push_error(&mut self, error: SyntaxError) {
        if self.errors.last().is_none_or(|last| last.span.start != error.span.start) {
            self.errors.push(error);
        }
    }

    // ---- depth limits ----

    /// Runs `f` one nesting level deeper, failing cleanly past the limit.
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        if self.nesting >= MAX_NESTING {
            let span = self.peek().span;
            return self.error_at(span, format!("query is nested too deeply (more than {MAX_NESTING} levels)"));
        }
        self.nesting += 1;
        let result = f(self);
        self.nesting -= 1;
        result
    }

    /// Counts one more open operator link; release with `release_chain`.
    fn add_link(&mut self) -> PResult<()> {
        if self.chain >= MAX_CHAIN {
            let span = self.peek().span;
            return self.error_at(span, format!("expression is too long (more than {MAX_CHAIN} chained operators)"));
        }
        self.chain += 1;
        Ok(())
    }

    fn release_chain(&mut self, links: usize) {
        self.chain -= links;
    }

    // ---- recovery ----

    /// After an error inside the construct that began at token `from`,
    /// skips to the next `;`, or to the next `|` (if `stop_at_pipe`)
    /// outside brackets opened since `from`, stopping before an unmatched
    /// closing bracket. `;` always stops: an unclosed `(` should not
    /// swallow the following statements.
    fn recover(&mut self, from: usize, stop_at_pipe: bool) {
        let mut depth: usize = self.tokens[from.min(self.pos)..self.pos].iter().fold(0usize, |d, t| {
            if t.kind.is_opening() {
                d + 1
            } else if t.kind.is_closing() {
                d.saturating_sub(1)
            } else {
                d
            }
        });
        loop {
            let kind = self.peek().kind;
            match kind {
                TokenKind::Eof => return,
                TokenKind::Semi => return,
                TokenKind::Pipe if depth == 0 && stop_at_pipe => return,
                k if k.is_opening() => depth += 1,
                k if k.is_closing() => {
                    if depth == 0 {
                        return;
                    }
                    depth -= 1;
                }
                _ => {}
            }
            self.bump();
        }
    }

    // ---- shared small grammar pieces ----

    /// Comma-separated list of one or more items.
    fn comma_list<T>(&mut self, mut item: impl FnMut(&mut Self) -> PResult<T>) -> PResult<Vec<T>> {
        let mut items = vec![item(self)?];
        while self.eat(TokenKind::Comma).is_some() {
            items.push(item(self)?);
        }
        Ok(items)
    }

    /// `( item, ... )`, empty only if `allow_empty`.
    /// A comma list that may be empty: nothing before `|`, `;` or the end.
    fn optional_list<T>(&mut self, item: impl FnMut(&mut Self) -> PResult<T>) -> PResult<Vec<T>> {
        if self.at_list_end() { Ok(Vec::new()) } else { self.comma_list(item) }
    }

    fn paren_list<T>(&mut self, allow_empty: bool, item: impl FnMut(&mut Self) -> PResult<T>) -> PResult<Vec<T>> {
        self.expect(TokenKind::LParen, "`(`")?;
        if allow_empty && self.eat(TokenKind::RParen).is_some() {
            return Ok(Vec::new());
        }
        let items = self.comma_list(item)?;
        self.expect(TokenKind::RParen, "`)` or `,`")?;
        Ok(items)
    }

    /// Any word, reserved or not: operator arguments like `timechart`.
    fn word(&mut self) -> PResult<Ident> {
        let token = self.peek();
        if token.kind != TokenKind::Word {
            return self.fail("a name");
        }
        self.bump();
        Ok(Ident { name: self.text(token).to_string(), span: token.span })
    }

    /// A scalar type name: `string`, `long`, `dynamic`...
    fn type_name(&mut self) -> PResult<Ident> {
        const TYPES: &[&str] = &[
            "bool", "boolean", "date", "datetime", "decimal", "double", "dynamic", "guid", "int", "int64", "long", "real", "string",
            "time", "timespan", "uniqueid",
        ];
        match self.word_text() {
            Some(word) if TYPES.contains(&word) => self.word(),
            _ => self.fail("a type name (`string`, `long`, `datetime`, ...)"),
        }
    }

    /// A name usable as a column, table or variable: a non-reserved word
    /// or a bracketed `['any text']`.
    fn name(&mut self) -> PResult<Ident> {
        if self.at(TokenKind::LBracket) {
            return self.bracketed_name();
        }
        if let Some(word) = self.word_text()
            && (is_reserved(word) || matches!(word, "true" | "false"))
        {
            let span = self.peek().span;
            return self.error_at(span, format!("expected a name but found keyword `{word}` (write ['{word}'] to use it as a name)"));
        }
        self.word()
    }

    /// A name being declared (a new column, parameter or parse column),
    /// where Kusto also accepts some reserved words: `extend where = 1`.
    fn declared_name(&mut self) -> PResult<Ident> {
        match self.word_text() {
            Some(word) if is_declarable(word) => self.word(),
            _ => self.name(),
        }
    }

    fn at_declared_name(&self) -> bool {
        match self.word_text() {
            Some(word) => is_declarable(word),
            None => self.at_bracketed_name(),
        }
    }

    fn at_name(&self) -> bool {
        match self.word_text() {
            Some(word) => !is_reserved(word) && !matches!(word, "true" | "false"),
            None => self.at_bracketed_name(),
        }
    }

    fn at_bracketed_name(&self) -> bool {
        self.at(TokenKind::LBracket) && self.nth_is(1, TokenKind::String) && self.nth_is(2, TokenKind::RBracket)
    }

    /// `['x y']` or `["x y"]`.
    fn bracketed_name(&mut self) -> PResult<Ident> {
        let open = self.expect(TokenKind::LBracket, "`[`")?;
        let token = self.peek();
        if token.kind != TokenKind::String {
            return self.fail("a quoted name");
        }
        self.bump();
        let (name, _) = decode_string(self.text(token));
        self.expect(TokenKind::RBracket, "`]`")?;
        Ok(Ident { name, span: self.span_from(open.span.start) })
    }

    /// A name, or a wildcard pattern of adjacent words and `*` (`Col*`).
    fn name_or_pattern(&mut self) -> PResult<Expr> {
        let Some(len) = self.pattern_len() else {
            let name = self.name()?;
            return Ok(Expr { span: name.span, kind: ExprKind::Name(name) });
        };
        let start = self.start();
        let mut pattern = String::new();
        for _ in 0..len {
            let token = self.bump();
            pattern.push_str(self.text(token));
        }
        Ok(Expr { kind: ExprKind::Pattern(pattern), span: self.span_from(start) })
    }

    /// Token count of the wildcard pattern starting here, if there is one:
    /// a run of touching words and `*` containing at least one `*`.
    fn pattern_len(&self) -> Option<usize> {
        let mut n = 0;
        let mut has_star = false;
        while matches!(self.nth(n).kind, TokenKind::Word | TokenKind::Star) {
            if n > 0 && self.nth(n - 1).span.end != self.nth(n).span.start {
                break;
            }
            has_star |= self.nth(n).kind == TokenKind::Star;
            n += 1;
        }
        has_star.then_some(n)
    }
}

#[cfg(test)]
mod tests;
