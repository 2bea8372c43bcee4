//! Tokens produced by the lexer. A token is a kind plus a span; its text is
//! `&source[span]`, so tokens stay small and copyable.

use super::span::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// Identifier or keyword: `where`, `$left`, `!has`, `in~`, `mv-expand`,
    /// `matches regex`. KQL keywords are contextual, so the parser decides.
    Word,
    Int,
    Real,
    /// A number with a unit suffix: `5m`, `1.5h`, `100ms`.
    Timespan,
    /// Any string literal form, possibly `h`-prefixed; decoded on demand.
    String,
    /// `datetime(...)`, `guid(...)`, `int(...)` and friends: the contents
    /// are raw text, not expressions.
    TypedLiteral,
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Comma,
    Semi,
    Colon,
    Dot,
    DotDot,
    Pipe,
    Assign,
    EqEq,
    NotEq,
    Lt,
    Le,
    Gt,
    Ge,
    /// `<>`, an alternative spelling of `!=`.
    LtGt,
    /// `=>` of `scan` steps.
    FatArrow,
    TildeEq,
    BangTilde,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    /// A character that starts no token; the lexer already reported it.
    Error,
    Eof,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

impl TokenKind {
    /// How errors name a token kind when its text is not helpful.
    pub fn describe(self) -> &'static str {
        match self {
            TokenKind::Word => "name",
            TokenKind::Int | TokenKind::Real => "number",
            TokenKind::Timespan => "timespan literal",
            TokenKind::String => "string literal",
            TokenKind::TypedLiteral => "literal",
            TokenKind::Eof => "end of input",
            TokenKind::Error => "invalid character",
            _ => "symbol",
        }
    }

    pub fn is_opening(self) -> bool {
        matches!(self, TokenKind::LParen | TokenKind::LBracket | TokenKind::LBrace)
    }

    pub fn is_closing(self) -> bool {
        matches!(self, TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace)
    }
}
