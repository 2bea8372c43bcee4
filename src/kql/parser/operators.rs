//! Tabular operators: what follows `|`, plus the source operators that
//! start a pipeline (`union`, `print`, `datatable`, `range`...).

use super::super::ast::{
    Expr, ExprKind, FindProjection, ForkBranch, MakeSeries, MvItem, NamedExpr, NullsOrder, Operator, OperatorKind, ParsePart,
    PartitionBody, ScanStep, SeriesAggregate, SeriesRange, SortKey, SortOrder, TopNestedClause, UnaryOp,
};
use super::super::token::TokenKind;
use super::{PResult, Parser};

/// Operators Kusto has that ruleconv does not parse: named in the error so
/// a valid query is not reported as a typo.
const UNSUPPORTED_OPERATORS: &[&str] = &[
    "assert-schema",
    "graph-mark-components",
    "graph-match",
    "graph-shortest-paths",
    "graph-to-table",
    "macro-expand",
    "make-graph",
    "project-by-names",
];

impl Parser<'_> {
    /// An operator; on error, skips to the next `|` and returns an `Error`
    /// operator so later operators are still checked.
    pub(super) fn operator_recovering(&mut self, piped: bool) -> Operator {
        let (from, start) = (self.pos, self.start());
        let kind = match self.nested(|p| p.operator(piped)) {
            Ok(kind) => kind,
            Err(_) => {
                self.recover(from, true);
                OperatorKind::Error
            }
        };
        Operator { kind, span: self.span_from(start) }
    }

    /// `op | op | ...` without a source: `mv-apply ... on (...)`, `fork`.
    fn operator_chain(&mut self) -> Vec<Operator> {
        let mut operators = vec![self.operator_recovering(true)];
        while self.eat(TokenKind::Pipe).is_some() {
            operators.push(self.operator_recovering(true));
        }
        operators
    }

    /// `( op | op ... )`
    fn subquery(&mut self) -> PResult<Vec<Operator>> {
        self.expect(TokenKind::LParen, "`(`")?;
        let operators = self.operator_chain();
        self.expect(TokenKind::RParen, "`)` or `|`")?;
        Ok(operators)
    }

    fn operator(&mut self, piped: bool) -> PResult<OperatorKind> {
        let Some(word) = self.word_text() else { return self.fail("query operator") };
        self.bump();
        use OperatorKind::*;
        let kind = match word {
            "where" | "filter" => Where(self.named_expr(false)?),
            "extend" => Extend(self.comma_list(|p| p.named_expr(true))?),
            // Kusto accepts the project family with no columns at all.
            "project" => Project(self.optional_list(|p| p.named_expr(false))?),
            "project-away" => ProjectAway(self.optional_list(|p| p.name_or_pattern())?),
            "project-keep" => ProjectKeep(self.optional_list(|p| p.name_or_pattern())?),
            "project-reorder" => ProjectReorder(self.optional_list(|p| {
                let start = p.start();
                let expr = p.name_or_pattern()?;
                p.sort_key_tail(start, expr, false)
            })?),
            "project-rename" => ProjectRename(self.optional_list(|p| p.named_expr(false))?),
            "summarize" => {
                let params = self.options(&[])?;
                let aggregates =
                    if self.at_word("by") || self.at_list_end() { Vec::new() } else { self.comma_list(|p| p.named_expr(true))? };
                let by = self.by_clause()?;
                Summarize { params, aggregates, by }
            }
            "distinct" => {
                let params = self.options(&[])?;
                let columns = self.comma_list(|p| p.star_or_named())?;
                Distinct { params, columns }
            }
            "count" => Count,
            "getschema" => GetSchema,
            "take" | "limit" => Take(self.expr()?),
            "sample" => Sample(self.expr()?),
            "sample-distinct" => {
                let count = self.expr()?;
                self.expect_word("of")?;
                SampleDistinct { count, column: self.expr()? }
            }
            "top" => {
                let count = self.expr()?;
                self.expect_word("by")?;
                Top { count, by: self.sort_key()? }
            }
            "top-nested" => TopNested(self.top_nested()?),
            "sort" | "order" => {
                let params = self.options(&[])?;
                self.expect_word("by")?;
                Sort { params, keys: self.comma_list(|p| p.sort_key())? }
            }
            "join" | "lookup" => {
                let params = self.options(&["kind", "withsource"])?;
                let right = self.operand()?;
                // Kusto's syntax lets `join` (not `lookup`) omit `on`.
                let on = if self.eat_word("on").is_some() {
                    self.comma_list(|p| p.expr())?
                } else if word == "join" {
                    Vec::new()
                } else {
                    return self.fail("`on`");
                };
                if word == "join" { Join { params, right, on } } else { Lookup { params, right, on } }
            }
            "union" => {
                let params = self.options(&["kind", "withsource", "isfuzzy"])?;
                Union { params, tables: self.comma_list(|p| p.table_ref())? }
            }
            // `mvexpand` and `mvapply` are old spellings.
            "mv-expand" | "mv-apply" | "mvexpand" | "mvapply" => {
                let params = self.options(&["bagexpansion", "with_itemindex", "kind"])?;
                let items = self.comma_list(|p| p.mv_item())?;
                let limit = match self.eat_word("limit") {
                    Some(_) => Some(self.expr()?),
                    None => None,
                };
                if matches!(word, "mv-expand" | "mvexpand") {
                    MvExpand { params, items, limit }
                } else {
                    self.expect_word("on")?;
                    MvApply { params, items, limit, subquery: self.subquery()? }
                }
            }
            "parse" | "parse-where" => {
                let params = self.options(&["kind", "flags"])?;
                let source = self.expr()?;
                self.expect_word("with")?;
                Parse { filter: word == "parse-where", params, source, pattern: self.parse_pattern()? }
            }
            "parse-kv" => {
                let source = self.expr()?;
                self.expect_word("as")?;
                let columns = self.paren_list(false, |p| p.column_decl())?;
                self.expect_word("with")?;
                ParseKv { source, columns, with: self.paren_list(false, |p| p.option())? }
            }
            "make-series" => MakeSeries(Box::new(self.make_series()?)),
            "evaluate" => {
                let params = self.options(&[])?;
                // Not a full expression: `:` after the call starts the output schema.
                let call = self.operand()?;
                // A plugin is always called, even without arguments: `evaluate bag_unpack(x)`.
                if !matches!(call.kind, ExprKind::Call { .. }) {
                    return self.fail("`(` (a plugin call such as `bag_unpack(column)`)");
                }
                let schema = match self.eat(TokenKind::Colon) {
                    Some(_) => Some(self.table_schema()?),
                    None => None,
                };
                Evaluate { params, call, schema }
            }
            "serialize" => Serialize(self.optional_list(|p| p.named_expr(false))?),
            "invoke" => Invoke(self.expr()?),
            "render" => {
                let chart = self.word()?;
                let with = match self.eat_word("with") {
                    Some(_) => self.paren_list(false, |p| p.render_property())?,
                    None => Vec::new(),
                };
                Render { chart, with }
            }
            "as" => {
                let params = self.options(&[])?;
                As { params, name: self.name()? }
            }
            "partition" => {
                let params = self.options(&[])?;
                self.expect_word("by")?;
                let by = self.name()?;
                let body = if self.eat(TokenKind::LBrace).is_some() {
                    let query = self.pipeline()?;
                    self.expect(TokenKind::RBrace, "`}`")?;
                    PartitionBody::Query(Box::new(query))
                } else {
                    PartitionBody::Operators(self.subquery()?)
                };
                Partition { params, by, body }
            }
            "fork" => {
                let mut branches = vec![self.fork_branch()?];
                while self.at(TokenKind::LParen) || self.at_name() {
                    branches.push(self.fork_branch()?);
                }
                Fork(branches)
            }
            "facet" => {
                self.expect_word("by")?;
                let by = self.comma_list(|p| p.name_or_pattern())?;
                let with = match self.eat_word("with") {
                    Some(_) => Some(self.subquery()?),
                    None => None,
                };
                Facet { by, with }
            }
            "find" => {
                let params = self.options(&["withsource", "datascope"])?;
                let tables = self.table_list_in()?;
                // `where` may only be left out when no `in (...)` precedes it.
                if self.eat_word("where").is_none() && tables.is_some() {
                    return self.fail("`where`");
                }
                let predicate = self.expr()?;
                let project = if self.eat_word("project-smart").is_some() {
                    Some(FindProjection::Smart)
                } else if self.eat_word("project").is_some() {
                    Some(FindProjection::Columns(self.comma_list(|p| p.name_or_pattern())?))
                } else {
                    None
                };
                Find { params, tables, predicate, project }
            }
            "search" => {
                let params = self.options(&["kind"])?;
                let tables = self.table_list_in()?;
                Search { params, tables, predicate: self.expr()? }
            }
            "print" if !piped => Print(self.comma_list(|p| p.named_expr(false))?),
            "range" if !piped => {
                let column = self.name()?;
                self.expect_word("from")?;
                let from = self.expr()?;
                self.expect_word("to")?;
                let to = self.expr()?;
                self.expect_word("step")?;
                Range { column, from, to, step: self.expr()? }
            }
            "datatable" if !piped => {
                let columns = self.paren_list(false, |p| p.column_decl())?;
                Datatable { columns, values: self.bracket_values()? }
            }
            "externaldata" if !piped => {
                let columns = self.paren_list(false, |p| p.column_decl())?;
                let uris = self.bracket_values()?;
                let with = match self.eat_word("with") {
                    Some(_) => self.paren_list(false, |p| p.option())?,
                    None => Vec::new(),
                };
                ExternalData { columns, uris, with }
            }
            "scan" => self.scan()?,
            "reduce" => {
                let params = self.options(&["kind"])?;
                self.expect_word("by")?;
                let by = self.expr()?;
                let with = match self.eat_word("with") {
                    Some(_) => self.comma_list(|p| p.option())?,
                    None => Vec::new(),
                };
                Reduce { params, by, with }
            }
            "consume" => Consume(self.options(&["decodeblocks"])?),
            "top-hitters" => {
                let count = self.expr()?;
                self.expect_word("of")?;
                let of = self.expr()?;
                let by = match self.eat_word("by") {
                    Some(_) => Some(self.expr()?),
                    None => None,
                };
                TopHitters { count, of, by }
            }
            _ => {
                self.pos -= 1; // step back so the error points at the word
                if UNSUPPORTED_OPERATORS.contains(&word) {
                    let span = self.peek().span;
                    return self.error_at(span, format!("the `{word}` operator is valid KQL that ruleconv does not parse yet"));
                }
                return self.fail("query operator");
            }
        };
        Ok(kind)
    }

    /// `by a, b` if present.
    fn by_clause(&mut self) -> PResult<Vec<NamedExpr>> {
        match self.eat_word("by") {
            Some(_) => self.comma_list(|p| p.named_expr(false)),
            None => Ok(Vec::new()),
        }
    }

    fn star_or_named(&mut self) -> PResult<NamedExpr> {
        if self.at(TokenKind::Star) {
            let star = self.bump();
            let expr = Expr { kind: ExprKind::Star, span: star.span };
            return Ok(NamedExpr { names: Vec::new(), tuple: false, expr, span: star.span });
        }
        self.named_expr(false)
    }

    fn sort_key(&mut self) -> PResult<SortKey> {
        let start = self.start();
        let expr = self.expr()?;
        self.sort_key_tail(start, expr, true)
    }

    /// `[asc|desc] [nulls first|last]` after a sort expression.
    fn sort_key_tail(&mut self, start: usize, expr: Expr, nulls: bool) -> PResult<SortKey> {
        let order = self.sort_order();
        let nulls = if nulls && self.eat_word("nulls").is_some() {
            if self.eat_word("first").is_some() {
                Some(NullsOrder::First)
            } else {
                self.expect_word("last")?;
                Some(NullsOrder::Last)
            }
        } else {
            None
        };
        Ok(SortKey { expr, order, nulls, span: self.span_from(start) })
    }

    fn sort_order(&mut self) -> Option<SortOrder> {
        if self.eat_word("asc").is_some() {
            Some(SortOrder::Asc)
        } else if self.eat_word("desc").is_some() {
            Some(SortOrder::Desc)
        } else {
            None
        }
    }

    /// A table in `union`/`find`/`search`: a wildcard pattern or an expression.
    fn table_ref(&mut self) -> PResult<Expr> {
        if self.pattern_len().is_some() {
            return self.name_or_pattern();
        }
        self.operand()
    }

    /// `in (T1, T2*)` if present.
    fn table_list_in(&mut self) -> PResult<Option<Vec<Expr>>> {
        match self.eat_word("in") {
            Some(_) => Ok(Some(self.paren_list(false, |p| p.table_ref())?)),
            None => Ok(None),
        }
    }

    /// `[ value, ... ]` of `datatable` and `externaldata`.
    fn bracket_values(&mut self) -> PResult<Vec<Expr>> {
        self.expect(TokenKind::LBracket, "`[`")?;
        let mut values = Vec::new();
        // A trailing comma is allowed here (and only here).
        while !self.at(TokenKind::RBracket) {
            values.push(self.signed_literal()?);
            if self.eat(TokenKind::Comma).is_none() {
                break;
            }
        }
        self.expect(TokenKind::RBracket, "`]` or `,`")?;
        Ok(values)
    }

    /// A literal, possibly signed: `"x"`, `-1`, `+2.5`, `dynamic([1])`.
    pub(super) fn signed_literal(&mut self) -> PResult<Expr> {
        let start = self.start();
        let sign = match self.peek().kind {
            TokenKind::Minus => Some(UnaryOp::Neg),
            TokenKind::Plus => Some(UnaryOp::Plus),
            _ => None,
        };
        if sign.is_some() {
            self.bump();
        }
        let literal_start = self.start();
        let literal = if self.at_word("dynamic") && self.nth_is(1, TokenKind::LParen) { self.dynamic()? } else { self.literal()? };
        let literal = Expr { kind: ExprKind::Literal(literal), span: self.span_from(literal_start) };
        Ok(match sign {
            Some(op) => Expr { kind: ExprKind::Unary { op, operand: Box::new(literal) }, span: self.span_from(start) },
            None => literal,
        })
    }

    /// `[name =] expr [to typeof(type)]`
    fn mv_item(&mut self) -> PResult<MvItem> {
        let start = self.start();
        let expr = self.named_expr(false)?;
        let to_type = match self.eat_word("to") {
            Some(_) => {
                self.expect_word("typeof")?;
                self.expect(TokenKind::LParen, "`(`")?;
                let ty = self.word()?;
                self.expect(TokenKind::RParen, "`)`")?;
                Some(ty)
            }
            None => None,
        };
        Ok(MvItem { expr, to_type, span: self.span_from(start) })
    }

    /// `[name =] ( op | op )`
    fn fork_branch(&mut self) -> PResult<ForkBranch> {
        let start = self.start();
        let name = if self.at(TokenKind::LParen) {
            None
        } else {
            let name = self.name()?;
            self.expect(TokenKind::Assign, "`=`")?;
            Some(name)
        };
        let operators = self.subquery()?;
        Ok(ForkBranch { name, operators, span: self.span_from(start) })
    }

    /// After `scan`: `[with_match_id=m] [declare (c:type [= v], ...)] with (steps)`.
    fn scan(&mut self) -> PResult<OperatorKind> {
        let params = self.options(&["with_match_id"])?;
        let declare = match self.eat_word("declare") {
            Some(_) => self.paren_list(false, |p| p.param())?,
            None => Vec::new(),
        };
        self.expect_word("with")?;
        self.expect(TokenKind::LParen, "`(`")?;
        let mut steps = vec![self.scan_step()?];
        while self.at_word("step") {
            steps.push(self.scan_step()?);
        }
        self.expect(TokenKind::RParen, "`)` or `step`")?;
        Ok(OperatorKind::Scan { params, declare, steps })
    }

    /// `step name [output=all|last|none]: condition [=> col = value, ...];`
    fn scan_step(&mut self) -> PResult<ScanStep> {
        let start = self.start();
        self.expect_word("step")?;
        let name = self.name()?;
        let output = match self.eat_word("output") {
            Some(_) => {
                self.expect(TokenKind::Assign, "`=`")?;
                Some(self.word()?)
            }
            None => None,
        };
        self.expect(TokenKind::Colon, "`:`")?;
        let condition = self.expr()?;
        let assignments = match self.eat(TokenKind::FatArrow) {
            Some(_) => self.comma_list(|p| p.named_expr(false))?,
            None => Vec::new(),
        };
        self.expect(TokenKind::Semi, "`;`")?;
        Ok(ScanStep { name, output, condition, assignments, span: self.span_from(start) })
    }

    /// The pattern after `parse ... with`: `*`, strings and `Column[:type]`.
    /// Kusto accepts an empty one.
    fn parse_pattern(&mut self) -> PResult<Vec<ParsePart>> {
        let mut parts = Vec::new();
        while !self.at_list_end() {
            let start = self.start();
            let part = match self.peek().kind {
                TokenKind::Star => ParsePart::Star { span: self.bump().span },
                TokenKind::String => {
                    let literal = self.literal()?;
                    ParsePart::Text(Expr { kind: ExprKind::Literal(literal), span: self.span_from(start) })
                }
                _ => {
                    let name = self.declared_name()?;
                    let ty = match self.eat(TokenKind::Colon) {
                        Some(_) => Some(self.type_name()?),
                        None => None,
                    };
                    ParsePart::Column { name, ty, span: self.span_from(start) }
                }
            };
            parts.push(part);
        }
        Ok(parts)
    }

    fn make_series(&mut self) -> PResult<MakeSeries> {
        let params = self.options(&["kind"])?;
        let aggregates = self.comma_list(|p| {
            let start = p.start();
            let expr = p.named_expr(false)?;
            let default = match p.eat_word("default") {
                Some(_) => {
                    p.expect(TokenKind::Assign, "`=`")?;
                    Some(p.expr()?)
                }
                None => None,
            };
            Ok(SeriesAggregate { expr, default, span: p.span_from(start) })
        })?;
        self.expect_word("on")?;
        let on = self.expr()?;
        let range = if self.eat_word("in").is_some() {
            self.expect_word("range")?;
            self.expect(TokenKind::LParen, "`(`")?;
            let start = self.expr()?;
            self.expect(TokenKind::Comma, "`,`")?;
            let stop = self.expr()?;
            self.expect(TokenKind::Comma, "`,`")?;
            let step = self.expr()?;
            self.expect(TokenKind::RParen, "`)`")?;
            SeriesRange::InRange { start, stop, step }
        } else {
            let from = match self.eat_word("from") {
                Some(_) => Some(self.expr()?),
                None => None,
            };
            let to = match self.eat_word("to") {
                Some(_) => Some(self.expr()?),
                None => None,
            };
            self.expect_word("step")?;
            SeriesRange::FromTo { from, to, step: self.expr()? }
        };
        Ok(MakeSeries { params, aggregates, on, range, by: self.by_clause()? })
    }

    /// Clauses after the first `top-nested` keyword (already consumed).
    fn top_nested(&mut self) -> PResult<Vec<TopNestedClause>> {
        let mut clauses = vec![self.top_nested_clause()?];
        while self.eat(TokenKind::Comma).is_some() {
            self.expect_word("top-nested")?;
            clauses.push(self.top_nested_clause()?);
        }
        Ok(clauses)
    }

    fn top_nested_clause(&mut self) -> PResult<TopNestedClause> {
        let start = self.start();
        let count = if self.at_word("of") { None } else { Some(self.expr()?) };
        self.expect_word("of")?;
        let of = self.named_expr(false)?;
        let others = if self.eat_word("with").is_some() {
            self.expect_word("others")?;
            self.expect(TokenKind::Assign, "`=`")?;
            Some(self.expr()?)
        } else {
            None
        };
        self.expect_word("by")?;
        let by = self.named_expr(false)?;
        let order = self.sort_order();
        Ok(TopNestedClause { count, of, others, by, order, span: self.span_from(start) })
    }
}
