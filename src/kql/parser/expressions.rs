//! Scalar expressions by precedence climbing, plus pipelines, which nest
//! inside parentheses and call arguments (`toscalar(T | count)`).
//!
//! Precedence, loosest first: `or`; `and`; equality (`==`, `!=`, `in`,
//! `between`, `has_any`...); string operators (`=~`, `has`, `contains`,
//! `:`...);
//! relational (`<`, `>=`...); `+ -`; `* / %`; unary `- +`; postfix `.`,
//! `[]`, calls. The three comparison levels do not chain (`a == b == c` is
//! an error in Kusto too).

use super::super::ast::{BinaryOp, Expr, ExprKind, Ident, Literal, NamedExpr, OptionParam, RenderProperty, UnaryOp};
use super::super::keywords::{is_reserved, is_reserved_function};
use super::super::operators::{self, StrOp};
use super::super::token::TokenKind;
use super::{MAX_OPERATORS, PResult, Parser};

/// An infix operator as found in the token stream.
#[derive(Clone, Copy)]
enum Infix {
    Binary(BinaryOp),
    List(StrOp),
    Between { negated: bool },
}

const LEVEL_EQUALITY: u8 = 2;
const LEVEL_STRING: u8 = 3;
const LEVEL_RELATIONAL: u8 = 4;

fn level_chains(level: u8) -> bool {
    !matches!(level, LEVEL_EQUALITY | LEVEL_STRING | LEVEL_RELATIONAL)
}

impl Parser<'_> {
    /// A scalar expression, or a tabular one without pipes.
    pub(super) fn expr(&mut self) -> PResult<Expr> {
        self.nested(|p| p.binary(0))
    }

    /// `expr | op | op ...`, or a source operator (`union`, `print`...)
    /// followed by more operators.
    /// A table operand of `union` or `join`: a primary with its `.name`,
    /// `[index]` and call suffixes, but no operators.
    pub(super) fn operand(&mut self) -> PResult<Expr> {
        self.nested(|p| p.postfix())
    }

    /// Not a nesting level of its own: `expr` and operators count.
    pub(super) fn pipeline(&mut self) -> PResult<Expr> {
        let start = self.start();
        let (source, mut operators) =
            if self.at_source_operator() { (None, vec![self.operator_recovering(false)]) } else { (Some(self.expr()?), Vec::new()) };
        while let Some(pipe) = self.eat(TokenKind::Pipe) {
            if operators.len() >= MAX_OPERATORS {
                return self.error_at(pipe.span, format!("the pipeline is too long (more than {MAX_OPERATORS} `|` operators)"));
            }
            operators.push(self.operator_recovering(true));
        }
        match source {
            Some(source) if operators.is_empty() => Ok(source),
            source => Ok(Expr { kind: ExprKind::Pipeline { source: source.map(Box::new), operators }, span: self.span_from(start) }),
        }
    }

    fn peek_infix(&self) -> Option<(u8, Infix)> {
        use BinaryOp::*;
        let token = self.peek();
        let op = match token.kind {
            TokenKind::EqEq => (LEVEL_EQUALITY, Infix::Binary(Eq)),
            TokenKind::NotEq | TokenKind::LtGt => (LEVEL_EQUALITY, Infix::Binary(NotEq)),
            TokenKind::TildeEq | TokenKind::BangTilde => (LEVEL_STRING, Infix::Binary(Str(operators::str_op(self.text(token))?))),
            TokenKind::Colon => (LEVEL_STRING, Infix::Binary(SearchHas)),
            TokenKind::Lt => (LEVEL_RELATIONAL, Infix::Binary(Lt)),
            TokenKind::Le => (LEVEL_RELATIONAL, Infix::Binary(Le)),
            TokenKind::Gt => (LEVEL_RELATIONAL, Infix::Binary(Gt)),
            TokenKind::Ge => (LEVEL_RELATIONAL, Infix::Binary(Ge)),
            TokenKind::Plus => (5, Infix::Binary(Add)),
            TokenKind::Minus => (5, Infix::Binary(Sub)),
            TokenKind::Star => (6, Infix::Binary(Mul)),
            TokenKind::Slash => (6, Infix::Binary(Div)),
            TokenKind::Percent => (6, Infix::Binary(Mod)),
            TokenKind::Word => {
                let word = self.text(token);
                let str_op = operators::str_op(word);
                match (word, str_op) {
                    // Without `(` this `in` is something else, e.g. make-series' `in range(...)`.
                    (_, Some(op)) if op.test.takes_list() => {
                        if !self.nth_is(1, TokenKind::LParen) {
                            return None;
                        }
                        (LEVEL_EQUALITY, Infix::List(op))
                    }
                    ("or", _) => (0, Infix::Binary(Or)),
                    ("and", _) => (1, Infix::Binary(And)),
                    ("between", _) => (LEVEL_EQUALITY, Infix::Between { negated: false }),
                    ("!between", _) => (LEVEL_EQUALITY, Infix::Between { negated: true }),
                    (_, Some(op)) => (LEVEL_STRING, Infix::Binary(Str(op))),
                    _ => return None,
                }
            }
            _ => return None,
        };
        Some(op)
    }

    fn binary(&mut self, min_level: u8) -> PResult<Expr> {
        let mut left = if self.at_star_operand() {
            let star = self.bump();
            Expr { kind: ExprKind::Star, span: star.span }
        } else {
            self.unary()?
        };
        let mut links = 0;
        // Operators binding tighter than the last one were taken by its
        // right operand; one still here cannot apply (`a and b =~ c =~ d`).
        let mut ceiling = u8::MAX;
        let result = loop {
            let Some((level, infix)) = self.peek_infix() else { break Ok(left) };
            if level < min_level || level > ceiling {
                break Ok(left);
            }
            if let Err(e) = self.add_link() {
                break Err(e);
            }
            links += 1;
            self.bump();
            match self.infix_rhs(left, level, infix) {
                Ok(expr) => left = expr,
                Err(e) => break Err(e),
            }
            ceiling = if level_chains(level) { level } else { level - 1 };
        };
        self.release_chain(links);
        result
    }

    fn infix_rhs(&mut self, left: Expr, level: u8, infix: Infix) -> PResult<Expr> {
        let start = left.span.start;
        let kind = match infix {
            Infix::Binary(op) => {
                let right = self.binary(level + 1)?;
                ExprKind::Binary { op, left: Box::new(left), right: Box::new(right) }
            }
            Infix::List(op) => {
                let items = self.paren_list(false, |p| p.pipeline())?;
                ExprKind::InList { op, left: Box::new(left), items }
            }
            Infix::Between { negated } => {
                self.expect(TokenKind::LParen, "`(`")?;
                let low = self.expr()?;
                self.expect(TokenKind::DotDot, "`..`")?;
                let high = self.expr()?;
                self.expect(TokenKind::RParen, "`)`")?;
                ExprKind::Between { negated, left: Box::new(left), low: Box::new(low), high: Box::new(high) }
            }
        };
        Ok(Expr { kind, span: self.span_from(start) })
    }

    /// `*` before `has`, `contains`, `==`, `=~`... means "any column"
    /// (`where * has "x"`); Kusto accepts it before no other operator.
    fn at_star_operand(&self) -> bool {
        if !self.at(TokenKind::Star) {
            return false;
        }
        let next = self.nth(1);
        match next.kind {
            TokenKind::EqEq | TokenKind::TildeEq | TokenKind::BangTilde => true,
            TokenKind::Word => operators::str_op(self.text(next)).is_some_and(|op| !op.test.takes_list()),
            _ => false,
        }
    }

    fn unary(&mut self) -> PResult<Expr> {
        let op = match self.peek().kind {
            TokenKind::Minus => UnaryOp::Neg,
            TokenKind::Plus => UnaryOp::Plus,
            _ => return self.postfix(),
        };
        let start = self.bump().span.start;
        // The smallest long's magnitude alone is out of range; with its sign it is a literal.
        if op == UnaryOp::Neg && self.at(TokenKind::Int) && self.text(self.peek()) == "9223372036854775808" {
            self.bump();
            return Ok(Expr { kind: ExprKind::Literal(Literal::Int(i64::MIN)), span: self.span_from(start) });
        }
        // Kusto takes one sign only: `- -1` is an error.
        let operand = self.postfix()?;
        Ok(Expr { kind: ExprKind::Unary { op, operand: Box::new(operand) }, span: self.span_from(start) })
    }

    fn postfix(&mut self) -> PResult<Expr> {
        let mut expr = self.primary()?;
        let mut links = 0;
        let result = loop {
            if !matches!(self.peek().kind, TokenKind::Dot | TokenKind::LBracket) {
                break Ok(expr);
            }
            if let Err(e) = self.add_link() {
                break Err(e);
            }
            links += 1;
            match self.postfix_step(expr) {
                Ok(next) => expr = next,
                Err(e) => break Err(e),
            }
        };
        self.release_chain(links);
        result
    }

    /// One `.name`, `.name(args)`, `.['name']`, `.[index]` or `[index]`.
    fn postfix_step(&mut self, target: Expr) -> PResult<Expr> {
        let start = target.span.start;
        let dot = self.eat(TokenKind::Dot).is_some();
        let kind = if self.at(TokenKind::LBracket) && !(dot && self.at_bracketed_name()) {
            self.bump();
            let index = self.expr()?;
            self.expect(TokenKind::RBracket, "`]`")?;
            ExprKind::Index { target: Box::new(target), index: Box::new(index) }
        } else {
            let name = if self.at(TokenKind::LBracket) { self.bracketed_name()? } else { self.name()? };
            if self.at(TokenKind::LParen) {
                let args = self.call_args(false)?;
                ExprKind::Call { target: Some(Box::new(target)), name, args }
            } else {
                ExprKind::Member { target: Box::new(target), name }
            }
        };
        Ok(Expr { kind, span: self.span_from(start) })
    }

    fn primary(&mut self) -> PResult<Expr> {
        let token = self.peek();
        let start = token.span.start;
        match token.kind {
            TokenKind::Int | TokenKind::Real | TokenKind::Timespan | TokenKind::String | TokenKind::TypedLiteral => {
                let literal = self.literal()?;
                Ok(Expr { kind: ExprKind::Literal(literal), span: self.span_from(start) })
            }
            TokenKind::LBracket => {
                let name = self.bracketed_name()?;
                // Functions may be called by a bracketed name too: `['my func'](x)`.
                if self.at(TokenKind::LParen) {
                    let args = self.call_args(false)?;
                    return Ok(Expr { kind: ExprKind::Call { target: None, name, args }, span: self.span_from(start) });
                }
                Ok(Expr { span: name.span, kind: ExprKind::Name(name) })
            }
            TokenKind::LParen => {
                self.bump();
                let inner = self.pipeline()?;
                self.expect(TokenKind::RParen, "`)`")?;
                Ok(Expr { kind: ExprKind::Paren(Box::new(inner)), span: self.span_from(start) })
            }
            TokenKind::Word => self.word_primary(),
            _ => self.fail("expression"),
        }
    }

    fn word_primary(&mut self) -> PResult<Expr> {
        let token = self.peek();
        let start = token.span.start;
        let word = self.text(token);
        let call_follows = self.nth_is(1, TokenKind::LParen);
        match word {
            "true" | "false" | "null" => {
                let literal = self.literal()?;
                return Ok(Expr { kind: ExprKind::Literal(literal), span: self.span_from(start) });
            }
            "dynamic" if call_follows => {
                let literal = self.dynamic()?;
                return Ok(Expr { kind: ExprKind::Literal(literal), span: self.span_from(start) });
            }
            "typeof" if call_follows => {
                self.bump();
                self.bump();
                let ty = self.word()?;
                self.expect(TokenKind::RParen, "`)`")?;
                return Ok(Expr { kind: ExprKind::TypeOf(ty), span: self.span_from(start) });
            }
            _ => {}
        }
        if is_reserved(word) && !(call_follows && is_reserved_function(word)) {
            return self
                .error_at(token.span, format!("expected expression but found keyword `{word}` (write ['{word}'] to use it as a name)"));
        }
        self.bump();
        let name = Ident { name: word.to_string(), span: token.span };
        if call_follows {
            let args = self.call_args(is_reserved_function(word))?;
            return Ok(Expr { kind: ExprKind::Call { target: None, name, args }, span: self.span_from(start) });
        }
        Ok(Expr { span: name.span, kind: ExprKind::Name(name) })
    }

    /// `(arg, name = arg, *)`. Only `toscalar`, `materialize` and
    /// `totable` take bare pipelines; other functions need them in parens.
    pub(super) fn call_args(&mut self, tabular: bool) -> PResult<Vec<NamedExpr>> {
        self.paren_list(true, |p| {
            // A bare `*` argument (`count(*)`); `* has "x"` is an expression.
            if p.at(TokenKind::Star) && !p.at_star_operand() {
                let star = p.bump();
                let expr = Expr { kind: ExprKind::Star, span: star.span };
                return Ok(NamedExpr { names: Vec::new(), tuple: false, expr, span: star.span });
            }
            if tabular { p.named(false, |p| p.pipeline()) } else { p.named(false, |p| p.expr()) }
        })
    }

    /// `expr`, `name = expr`, or (if `tuple`) `(a, b) = expr`.
    pub(super) fn named_expr(&mut self, tuple: bool) -> PResult<NamedExpr> {
        self.named(tuple, |p| p.expr())
    }

    fn named(&mut self, tuple: bool, value: impl FnOnce(&mut Self) -> PResult<Expr>) -> PResult<NamedExpr> {
        let start = self.start();
        let (names, is_tuple) = if self.at_assignment() {
            let name = self.declared_name()?;
            self.bump(); // `=`
            (vec![name], false)
        } else if tuple && self.at_tuple_assignment() {
            let names = self.paren_list(false, |p| p.declared_name())?;
            self.bump(); // `=`
            (names, true)
        } else {
            (Vec::new(), false)
        };
        let expr = value(self)?;
        Ok(NamedExpr { names, tuple: is_tuple, expr, span: self.span_from(start) })
    }

    /// `name =` or `['name'] =` (but not `==`).
    fn at_assignment(&self) -> bool {
        if self.at_bracketed_name() {
            return self.nth_is(3, TokenKind::Assign);
        }
        self.at_declared_name() && self.nth_is(1, TokenKind::Assign)
    }

    /// `(a, ['b'], ...) =`
    fn at_tuple_assignment(&self) -> bool {
        if !self.at(TokenKind::LParen) {
            return false;
        }
        let mut n = 1;
        loop {
            let bracketed =
                self.nth_is(n, TokenKind::LBracket) && self.nth_is(n + 1, TokenKind::String) && self.nth_is(n + 2, TokenKind::RBracket);
            n += match (self.nth(n).kind, bracketed) {
                (TokenKind::Word, _) => 1,
                (_, true) => 3,
                _ => return false,
            };
            match self.nth(n).kind {
                TokenKind::Comma => n += 1,
                TokenKind::RParen => return self.nth_is(n + 1, TokenKind::Assign),
                _ => return false,
            }
        }
    }

    /// Leading `name=value` options of an operator: `hint.*` always, plus
    /// the names in `allowed`.
    pub(super) fn options(&mut self, allowed: &[&str]) -> PResult<Vec<OptionParam>> {
        let mut params = Vec::new();
        loop {
            let hint = self.at_word("hint")
                && self.nth_is(1, TokenKind::Dot)
                && self.nth_is(2, TokenKind::Word)
                && self.nth_is(3, TokenKind::Assign);
            let plain = self.word_text().is_some_and(|w| allowed.contains(&w)) && self.nth_is(1, TokenKind::Assign);
            if !hint && !plain {
                return Ok(params);
            }
            params.push(self.option()?);
        }
    }

    /// `name = value` where the name may be dotted (`hint.strategy`) and
    /// the value is a single word or literal.
    pub(super) fn option(&mut self) -> PResult<OptionParam> {
        let start = self.start();
        let mut name = self.word()?;
        while self.eat(TokenKind::Dot).is_some() {
            let part = self.word()?;
            name.name = format!("{}.{}", name.name, part.name);
            name.span = name.span.to(part.span);
        }
        self.expect(TokenKind::Assign, "`=`")?;
        let value = self.option_value()?;
        Ok(OptionParam { name, value, span: self.span_from(start) })
    }

    /// An option's value: a bare word, a literal or a negative number.
    fn option_value(&mut self) -> PResult<Expr> {
        if self.at(TokenKind::Word) && !matches!(self.word_text(), Some("true" | "false" | "null")) {
            let word = self.word()?;
            return Ok(Expr { span: word.span, kind: ExprKind::Name(word) });
        }
        if self.at(TokenKind::Minus) {
            return self.unary(); // e.g. `ymin=-1`
        }
        let start = self.start();
        let literal = self.literal()?;
        Ok(Expr { kind: ExprKind::Literal(literal), span: self.span_from(start) })
    }

    /// `name=value` in `render ... with (...)`; the column-list properties
    /// take several names: `ycolumns=a, ['b c']`.
    pub(super) fn render_property(&mut self) -> PResult<RenderProperty> {
        const COLUMN_LISTS: &[&str] = &["ycolumns", "series", "anomalycolumns"];
        let start = self.start();
        let name = self.word()?;
        self.expect(TokenKind::Assign, "`=`")?;
        if !COLUMN_LISTS.contains(&name.name.as_str()) {
            let values = vec![self.option_value()?];
            return Ok(RenderProperty { name, values, span: self.span_from(start) });
        }
        let mut values = Vec::new();
        loop {
            let column = if self.at(TokenKind::LBracket) { self.bracketed_name()? } else { self.word()? };
            values.push(Expr { span: column.span, kind: ExprKind::Name(column) });
            // `, next` continues the list; `, name=` starts the next property.
            let continues = self.at(TokenKind::Comma) && !self.nth_is(2, TokenKind::Assign);
            if !continues {
                return Ok(RenderProperty { name, values, span: self.span_from(start) });
            }
            self.bump();
        }
    }

    fn at_source_operator(&self) -> bool {
        match self.word_text() {
            Some("union" | "print" | "datatable" | "externaldata" | "find" | "search") => true,
            // `range x from` or `range ['x'] from`
            Some("range") => {
                (self.nth_is(1, TokenKind::Word) && self.nth_is_word(2, "from"))
                    || (self.nth_is(1, TokenKind::LBracket)
                        && self.nth_is(2, TokenKind::String)
                        && self.nth_is(3, TokenKind::RBracket)
                        && self.nth_is_word(4, "from"))
            }
            // `evaluate plugin(...)`, also with a bracketed plugin name `evaluate ['x']()`.
            Some("evaluate") => self.nth_is(1, TokenKind::Word) || self.nth_is(1, TokenKind::LBracket),
            _ => false,
        }
    }
}
