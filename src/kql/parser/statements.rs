//! The script: statements separated by `;`, `let` bindings and functions.

use super::super::ast::{
    ColumnDecl, Expr, ExprKind, FunctionDef, LetValue, Param, ParamType, Script, Statement, StatementKind, TableSchema,
};
use super::super::span::Span;
use super::super::token::TokenKind;
use super::{PResult, Parser};

impl Parser<'_> {
    pub(super) fn script(&mut self) -> Script {
        let statements = self.statements(TokenKind::Eof);
        Script { statements, span: Span::new(0, self.src.len()) }
    }

    /// Statements up to `end` (`Eof`, or `}` for a function body). A `;`
    /// may follow the last statement but statements may not be empty.
    fn statements(&mut self, end: TokenKind) -> Vec<Statement> {
        let mut statements: Vec<Statement> = Vec::new();
        while !self.at(end) && !self.at(TokenKind::Eof) {
            // A function body ends with its one result expression.
            if end == TokenKind::RBrace && statements.last().is_some_and(|s| matches!(s.kind, StatementKind::Query(_))) {
                let _ = self.fail::<()>("`}`");
            }
            if self.at(TokenKind::Semi) {
                let _ = self.fail::<()>("statement");
                self.bump();
                continue;
            }
            statements.push(self.statement_recovering());
            if self.eat(TokenKind::Semi).is_none() && !self.at(end) {
                self.skip_stray_tokens(end);
            }
        }
        statements
    }

    fn statement_recovering(&mut self) -> Statement {
        let (from, start) = (self.pos, self.start());
        match self.statement() {
            Ok(statement) => statement,
            Err(_) => {
                self.recover(from, false);
                Statement { kind: StatementKind::Error, span: self.span_from(start) }
            }
        }
    }

    /// Text after a complete statement that is neither `;` nor `end`:
    /// report it, then skip to the next `;` (or `end`).
    fn skip_stray_tokens(&mut self, end: TokenKind) {
        let token = self.peek();
        if token.kind.is_closing() && token.kind != end {
            let text = self.text(token);
            let _ = self.error_at::<()>(token.span, format!("unexpected `{text}` without a matching opening bracket"));
        } else {
            let _ = self.fail::<()>("`|` or `;`");
        }
        loop {
            self.recover(self.pos, false);
            let kind = self.peek().kind;
            if kind == TokenKind::Semi {
                self.bump();
                return;
            }
            if kind == end || kind == TokenKind::Eof {
                return;
            }
            self.bump(); // an unmatched closing bracket
        }
    }

    fn statement(&mut self) -> PResult<Statement> {
        let start = self.start();
        let kind = if self.at_word("let") {
            self.bump();
            let name = self.name()?;
            self.expect(TokenKind::Assign, "`=`")?;
            let value = if self.at_function_def() {
                LetValue::Function(self.function_def()?)
            } else if self.at_word("materialize") && self.nth_is(1, TokenKind::LParen) {
                LetValue::Expr(self.materialize()?)
            } else {
                LetValue::Expr(self.pipeline()?)
            };
            StatementKind::Let { name, value }
        } else if self.at_word("set") {
            self.bump();
            let name = self.name()?;
            let value = match self.eat(TokenKind::Assign) {
                Some(_) => Some(self.set_value()?),
                None => None,
            };
            StatementKind::Set { name, value }
        } else if self.at_word("declare") && self.nth_is_word(1, "query_parameters") {
            self.bump();
            self.bump();
            StatementKind::QueryParameters(self.paren_list(false, |p| p.param())?)
        } else if self.at_word("alias") && self.nth_is_word(1, "database") {
            self.bump();
            self.bump();
            let name = self.name()?;
            self.expect(TokenKind::Assign, "`=`")?;
            StatementKind::AliasDatabase { name, value: self.expr()? }
        } else {
            StatementKind::Query(self.pipeline()?)
        };
        Ok(Statement { kind, span: self.span_from(start) })
    }

    /// The value of `set name = value`: a bare word or a (signed) literal.
    fn set_value(&mut self) -> PResult<Expr> {
        if self.at(TokenKind::Word) && !self.nth_is(1, TokenKind::LParen) && !matches!(self.word_text(), Some("true" | "false" | "null")) {
            let word = self.word()?;
            return Ok(Expr { span: word.span, kind: ExprKind::Name(word) });
        }
        self.signed_literal()
    }

    /// `materialize(query)`: Kusto takes it only as the whole value of a `let`.
    fn materialize(&mut self) -> PResult<Expr> {
        let start = self.start();
        let name = self.word()?;
        let args = self.call_args(true)?;
        if self.at(TokenKind::Pipe) {
            let span = self.peek().span;
            return self.error_at(span, "`materialize(...)` must be the whole value of `let`: move the `|` inside its parentheses".into());
        }
        Ok(Expr { kind: ExprKind::Call { target: None, name, args }, span: self.span_from(start) })
    }

    /// `view (` or `(` followed by `)` `{` or by a `name:`.
    fn at_function_def(&self) -> bool {
        let paren = if self.at_word("view") { 1 } else { 0 };
        if !self.nth_is(paren, TokenKind::LParen) {
            return false;
        }
        (self.nth_is(paren + 1, TokenKind::RParen) && self.nth_is(paren + 2, TokenKind::LBrace))
            || (self.nth_is(paren + 1, TokenKind::Word) && self.nth_is(paren + 2, TokenKind::Colon))
            || (self.nth_is(paren + 1, TokenKind::LBracket) && self.nth_is(paren + 4, TokenKind::Colon))
    }

    fn function_def(&mut self) -> PResult<FunctionDef> {
        let start = self.start();
        let view = self.eat_word("view").is_some();
        let params = self.paren_list(true, |p| p.param())?;
        self.expect(TokenKind::LBrace, "`{`")?;
        let body = self.nested(|p| Ok(p.statements(TokenKind::RBrace)))?;
        self.expect(TokenKind::RBrace, "`}`")?;
        Ok(FunctionDef { view, params, body, span: self.span_from(start) })
    }

    pub(super) fn param(&mut self) -> PResult<Param> {
        let start = self.start();
        let name = self.declared_name()?;
        self.expect(TokenKind::Colon, "`:`")?;
        let ty = if self.at(TokenKind::LParen) { ParamType::Tabular(self.table_schema()?) } else { ParamType::Scalar(self.type_name()?) };
        let default = match self.eat(TokenKind::Assign) {
            Some(_) => Some(self.expr()?),
            None => None,
        };
        Ok(Param { name, ty, default, span: self.span_from(start) })
    }

    /// `(*)`, `(a:string, b:long)`, `(*, a:string)` or `()`.
    pub(super) fn table_schema(&mut self) -> PResult<TableSchema> {
        self.expect(TokenKind::LParen, "`(`")?;
        let wildcard = self.eat(TokenKind::Star).is_some();
        let columns = if self.at(TokenKind::RParen) {
            Vec::new()
        } else {
            if wildcard {
                self.expect(TokenKind::Comma, "`,` or `)`")?;
            }
            self.comma_list(|p| p.column_decl())?
        };
        self.expect(TokenKind::RParen, "`)`")?;
        Ok(TableSchema { wildcard, columns })
    }

    /// `name:type`
    pub(super) fn column_decl(&mut self) -> PResult<ColumnDecl> {
        let start = self.start();
        let name = self.declared_name()?;
        self.expect(TokenKind::Colon, "`:`")?;
        let ty = self.type_name()?;
        Ok(ColumnDecl { name, ty, span: self.span_from(start) })
    }
}
