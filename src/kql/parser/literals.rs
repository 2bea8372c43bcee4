//! Literal tokens to values, and the JSON-like contents of `dynamic(...)`.

use super::super::ast::{DynamicKind, DynamicValue, Literal};
use super::super::lexer::{decode_string, unit_ticks};
use super::super::span::Span;
use super::super::token::TokenKind;
use super::{PResult, Parser};

impl Parser<'_> {
    /// A literal token (adjacent strings concatenate: `"a" 'b'` is "ab").
    pub(super) fn literal(&mut self) -> PResult<Literal> {
        let token = self.peek();
        let text = self.text(token);
        let literal = match token.kind {
            TokenKind::Int => Literal::Int(self.int_value(text, token.span)?),
            TokenKind::Real => match text.parse::<f64>() {
                Ok(v) if v.is_finite() => Literal::Real(v),
                _ => return self.error_at(token.span, format!("real literal `{text}` is out of range")),
            },
            TokenKind::Timespan => Literal::Timespan(self.timespan_value(text, token.span)?),
            TokenKind::TypedLiteral => {
                let (ty, rest) = text.split_once('(').unwrap_or((text, ""));
                let raw = rest.strip_suffix(')').unwrap_or(rest).trim();
                Literal::Typed { ty: ty.to_string(), raw: raw.to_string() }
            }
            TokenKind::String => {
                let (mut value, obfuscated) = decode_string(text);
                self.bump();
                while self.at(TokenKind::String) {
                    let next = self.bump();
                    value.push_str(&decode_string(self.text(next)).0);
                }
                return Ok(Literal::String { value, obfuscated });
            }
            TokenKind::Word if text == "true" => Literal::Bool(true),
            TokenKind::Word if text == "false" => Literal::Bool(false),
            TokenKind::Word if text == "null" => Literal::Null,
            _ => return self.fail("literal"),
        };
        self.bump();
        Ok(literal)
    }

    fn int_value(&mut self, text: &str, span: Span) -> PResult<i64> {
        let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
            Some(hex) => u64::from_str_radix(hex, 16).ok().map(|v| v as i64),
            None => text.parse::<i64>().ok(),
        };
        match parsed {
            Some(v) => Ok(v),
            None => self.error_at(span, format!("integer literal `{text}` is out of range")),
        }
    }

    fn timespan_value(&mut self, text: &str, span: Span) -> PResult<i64> {
        // The unit starts at the first letter that is not an exponent `e`
        // (no unit starts with `e`).
        let split = text.find(|c: char| c.is_alphabetic() && c != 'e' && c != 'E').unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let ticks = unit_ticks(unit).unwrap_or(1) as f64;
        match number.parse::<f64>() {
            Ok(n) if (n * ticks).abs() < i64::MAX as f64 => Ok((n * ticks).round() as i64),
            _ => self.error_at(span, format!("timespan literal `{text}` is out of range")),
        }
    }

    /// `dynamic(value)`; the current token is the word `dynamic`.
    pub(super) fn dynamic(&mut self) -> PResult<Literal> {
        self.bump();
        self.expect(TokenKind::LParen, "`(`")?;
        let value = self.dynamic_value()?;
        self.expect(TokenKind::RParen, "`)`")?;
        Ok(Literal::Dynamic(Box::new(value)))
    }

    fn dynamic_value(&mut self) -> PResult<DynamicValue> {
        self.nested(|p| {
            let start = p.start();
            let kind = match p.peek().kind {
                TokenKind::LBracket => {
                    p.bump();
                    let items = if p.at(TokenKind::RBracket) { Vec::new() } else { p.comma_list(|p| p.dynamic_value())? };
                    p.expect(TokenKind::RBracket, "`]` or `,`")?;
                    DynamicKind::Array(items)
                }
                TokenKind::LBrace => {
                    p.bump();
                    let entries = if p.at(TokenKind::RBrace) { Vec::new() } else { p.comma_list(|p| p.dynamic_entry())? };
                    p.expect(TokenKind::RBrace, "`}` or `,`")?;
                    DynamicKind::Object(entries)
                }
                TokenKind::Minus | TokenKind::Plus => {
                    let negative = p.bump().kind == TokenKind::Minus;
                    let value = match p.peek().kind {
                        TokenKind::Int | TokenKind::Real | TokenKind::Timespan => p.literal()?,
                        _ => return p.fail("a number"),
                    };
                    DynamicKind::Scalar(if negative { negate(value) } else { value })
                }
                TokenKind::Word if p.at_word("null") => {
                    p.bump();
                    DynamicKind::Null
                }
                TokenKind::Word if matches!(p.word_text(), Some("true" | "false")) => DynamicKind::Scalar(p.literal()?),
                TokenKind::Int | TokenKind::Real | TokenKind::Timespan | TokenKind::String | TokenKind::TypedLiteral => {
                    DynamicKind::Scalar(p.literal()?)
                }
                _ => return p.fail("a JSON value"),
            };
            Ok(DynamicValue { kind, span: p.span_from(start) })
        })
    }

    fn dynamic_entry(&mut self) -> PResult<(String, DynamicValue)> {
        let token = self.peek();
        if token.kind != TokenKind::String {
            return self.fail("a quoted property name");
        }
        let Literal::String { value: key, .. } = self.literal()? else { return self.fail("a quoted property name") };
        self.expect(TokenKind::Colon, "`:`")?;
        Ok((key, self.dynamic_value()?))
    }
}

fn negate(value: Literal) -> Literal {
    match value {
        Literal::Int(v) => Literal::Int(v.wrapping_neg()),
        Literal::Real(v) => Literal::Real(-v),
        Literal::Timespan(v) => Literal::Timespan(v.wrapping_neg()),
        other => other,
    }
}
