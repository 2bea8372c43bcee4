//! Sigma conditions: `and`, `or`, `not`, parentheses, search names, `1 of x*`, `all of them`.
//!
//! Precedence as the specification's: `not` binds tighter than `and`, `and` than `or`.
//! Keywords are matched in any case (pySigma does too); each name and `of` keeps its span, so
//! a reference to a missing search is reported where it is written.

use super::SigmaError;
use crate::glob::glob;
use crate::kql::Span;

#[derive(Clone, Debug, PartialEq)]
pub enum Condition {
    And(Vec<Condition>),
    Or(Vec<Condition>),
    Not(Box<Condition>),
    Search {
        name: String,
        span: Span,
    },
    /// `1 of target` (`all: false`) or `all of target`.
    Of {
        all: bool,
        target: OfTarget,
        span: Span,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OfTarget {
    /// Every search whose name does not start with `_`.
    Them,
    /// A name with `*` wildcards (`selection_*`).
    Pattern(String),
}

impl OfTarget {
    /// Whether the `of` covers the search named `name`.
    pub fn covers(&self, name: &str) -> bool {
        match self {
            OfTarget::Them => !name.starts_with('_'),
            OfTarget::Pattern(pattern) => glob(pattern, name),
        }
    }
}

/// Parentheses and `not`s nested deeper than this are refused: parsing (and every later walk of
/// the tree) recurses once per level, and real conditions nest a handful of levels.
pub const MAX_DEPTH: usize = 64;

/// Parses a condition whose text starts at byte `base` of the file.
pub fn parse(text: &str, base: usize) -> Result<Condition, SigmaError> {
    let tokens = tokenize(text, base);
    let mut parser = Parser { tokens, at: 0, end: base + text.len(), depth: 0 };
    let condition = parser.or()?;
    match parser.tokens.get(parser.at) {
        None => Ok(condition),
        Some(token) => Err(SigmaError::new(token.span, format!("unexpected `{}` in the condition", token.text))),
    }
}

struct Token<'a> {
    text: &'a str,
    span: Span,
}

fn tokenize(text: &str, base: usize) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        let boundary = c.is_whitespace() || c == '(' || c == ')';
        if boundary {
            if let Some(s) = start.take() {
                tokens.push(Token { text: &text[s..i], span: Span { start: base + s, end: base + i } });
            }
            if c != ' ' && !c.is_whitespace() {
                tokens.push(Token { text: &text[i..i + 1], span: Span { start: base + i, end: base + i + 1 } });
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        tokens.push(Token { text: &text[s..], span: Span { start: base + s, end: base + text.len() } });
    }
    tokens
}

struct Parser<'a> {
    tokens: Vec<Token<'a>>,
    at: usize,
    end: usize,
    /// Open parentheses and `not`s around the token at `at`.
    depth: usize,
}

impl Parser<'_> {
    fn peek_is(&self, keyword: &str) -> bool {
        self.tokens.get(self.at).is_some_and(|t| t.text.eq_ignore_ascii_case(keyword))
    }

    fn or(&mut self) -> Result<Condition, SigmaError> {
        let mut parts = vec![self.and()?];
        while self.peek_is("or") {
            self.at += 1;
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Condition::Or(parts) })
    }

    fn and(&mut self) -> Result<Condition, SigmaError> {
        let mut parts = vec![self.not()?];
        while self.peek_is("and") {
            self.at += 1;
            parts.push(self.not()?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Condition::And(parts) })
    }

    fn not(&mut self) -> Result<Condition, SigmaError> {
        if self.peek_is("not") {
            let span = self.tokens[self.at].span;
            self.at += 1;
            let inner = self.nested(span, Self::not)?;
            return Ok(Condition::Not(Box::new(inner)));
        }
        self.primary()
    }

    /// Parses one level deeper with `parse`, refusing to go past `MAX_DEPTH`; `span` is the
    /// token that opened the level.
    fn nested(&mut self, span: Span, parse: fn(&mut Self) -> Result<Condition, SigmaError>) -> Result<Condition, SigmaError> {
        if self.depth >= MAX_DEPTH {
            return Err(SigmaError::new(
                span,
                format!("the condition is nested too deeply (more than {MAX_DEPTH} parentheses and `not`s)"),
            ));
        }
        self.depth += 1;
        let inner = parse(self);
        self.depth -= 1;
        inner
    }

    fn primary(&mut self) -> Result<Condition, SigmaError> {
        let Some(token) = self.tokens.get(self.at) else {
            return Err(SigmaError::new(Span { start: self.end, end: self.end }, "the condition ends where a search name is expected"));
        };
        let span = token.span;
        self.at += 1;
        match token.text {
            "(" => {
                let inner = self.nested(span, Self::or)?;
                if !self.peek_is(")") {
                    return Err(SigmaError::new(span, "`(` is not closed"));
                }
                self.at += 1;
                Ok(inner)
            }
            ")" => Err(SigmaError::new(span, "unexpected `)`")),
            word if ["and", "or", "of"].iter().any(|k| word.eq_ignore_ascii_case(k)) => {
                Err(SigmaError::new(span, format!("unexpected `{word}` where a search name is expected")))
            }
            word if self.peek_is("of") => self.of(word, span),
            word => Ok(Condition::Search { name: word.to_string(), span }),
        }
    }

    /// `<quantifier> of <target>`, the quantifier already read.
    fn of(&mut self, quantifier: &str, span: Span) -> Result<Condition, SigmaError> {
        let all = match quantifier.to_ascii_lowercase().as_str() {
            "1" | "any" => false,
            "all" => true,
            other => return Err(SigmaError::new(span, format!("`{other} of` is not Sigma: only `1 of` and `all of` are"))),
        };
        self.at += 1;
        let Some(target) = self.tokens.get(self.at).filter(|t| t.text != "(" && t.text != ")") else {
            return Err(SigmaError::new(span, "`of` needs a search name pattern or `them`"));
        };
        self.at += 1;
        let span = Span { start: span.start, end: target.span.end };
        let target = if target.text.eq_ignore_ascii_case("them") { OfTarget::Them } else { OfTarget::Pattern(target.text.to_string()) };
        Ok(Condition::Of { all, target, span })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_and_spans() {
        let c = parse("a or not b and (1 of s* or all of them)", 10).unwrap();
        let Condition::Or(parts) = &c else { panic!("{c:?}") };
        assert_eq!(parts[0], Condition::Search { name: "a".into(), span: Span { start: 10, end: 11 } });
        let Condition::And(and) = &parts[1] else { panic!("{c:?}") };
        assert!(matches!(&and[0], Condition::Not(_)));
        assert!(matches!(&and[1], Condition::Or(o) if matches!(&o[1], Condition::Of { all: true, target: OfTarget::Them, .. })));
    }

    #[test]
    fn errors_point_at_the_token() {
        assert_eq!(parse("a and", 0).unwrap_err().span, Span { start: 5, end: 5 });
        assert_eq!(parse("a b", 0).unwrap_err().span, Span { start: 2, end: 3 });
        assert!(parse("(a", 0).is_err());
        assert!(parse("2 of x", 0).is_err());
    }

    #[test]
    fn deep_nesting_is_an_error_at_the_level_too_many() {
        let at_limit = format!("{}a{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert!(parse(&at_limit, 0).is_ok());
        let err = parse(&format!("{}a{}", "(".repeat(100_000), ")".repeat(100_000)), 0).unwrap_err();
        assert_eq!(err.span, Span { start: MAX_DEPTH, end: MAX_DEPTH + 1 });
        assert!(err.message.contains("nested too deeply"), "{err:?}");
        let err = parse(&"not ".repeat(100_000), 0).unwrap_err();
        assert_eq!(err.span.start, MAX_DEPTH * 4);
    }

    #[test]
    fn globs() {
        assert!(OfTarget::Pattern("sel*".into()).covers("selection"));
        assert!(OfTarget::Pattern("*_x*y".into()).covers("a_xzzy"));
        assert!(!OfTarget::Pattern("sel*".into()).covers("filter"));
        assert!(!OfTarget::Them.covers("_hidden"));
    }
}
