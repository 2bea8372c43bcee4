//! KQL front end: lexer, parser, AST with byte spans, and printer.
//!
//! ```text
//!  text ──lexer──▶ tokens ──parser──▶ ast::Script + Vec<SyntaxError>
//!                                          │
//!                                          └──printer──▶ normalized KQL
//!  emitter ──build (constructors)──▶ ast::Script ──printer──▶ KQL
//! ```
//!
//! `parse` never fails and never panics: it returns a tree (with `Error`
//! nodes where it recovered) and every syntax error it found.

pub mod ast;
mod build;
mod error;
mod keywords;
mod lexer;
pub mod operators;
mod parser;
mod printer;
mod span;
mod token;

pub use error::{SyntaxError, line_col, render_error};
pub use lexer::octal_escapes;
pub use printer::{is_unwritable, print, quote, unwritable_char};
pub use span::Span;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The result of parsing a query: always a tree, plus any errors.
#[derive(Clone, Debug, PartialEq)]
pub struct Parsed {
    pub ast: ast::Script,
    /// Sorted by position.
    pub errors: Vec<SyntaxError>,
}

impl Parsed {
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }
}

/// The first string literal of the query `src` that holds what `unwritable_char` finds: where
/// it is, and the character.
pub fn unwritable_string(src: &str) -> Option<(Span, char)> {
    // Asked of every query written as KQL: tokenize again only when an escape or a control
    // character occurs.
    if !src.contains('\\') && unwritable_char(src).is_none() {
        return None;
    }
    let (tokens, _) = lexer::tokenize(src);
    tokens.iter().filter(|t| t.kind == token::TokenKind::String).find_map(|t| {
        let (value, _) = lexer::decode_string(&src[t.span.start..t.span.end]);
        unwritable_char(&value).map(|c| (t.span, c))
    })
}

/// How many queries this process has parsed: lets a test prove a run parses each rule's
/// query once, however many steps read it.
static PARSED: AtomicUsize = AtomicUsize::new(0);

pub fn queries_parsed() -> usize {
    PARSED.load(Ordering::Relaxed)
}

/// Parses a KQL query (statements separated by `;`).
pub fn parse(text: &str) -> Parsed {
    PARSED.fetch_add(1, Ordering::Relaxed);
    let (ast, errors) = parser::parse(text);
    Parsed { ast, errors }
}
