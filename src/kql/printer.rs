//! Writes a syntax tree back as normalized KQL: one operator per line,
//! single spaces, modern operator spellings, strings in double quotes.
//! Parentheses are printed where the tree has `Paren` nodes and wherever
//! precedence needs them, so parsing the output gives back the same tree.
//! A tree with `Error` nodes prints `<error>` there, which does not parse.

use super::ast::*;
use super::keywords::{is_identifier, is_plain_name};
use super::lexer::{TYPED_LITERALS, tokenize};
use super::operators;
use super::token::TokenKind;

pub fn print(script: &Script) -> String {
    let mut p = Printer { out: String::new() };
    p.statements(&script.statements);
    p.out
}

/// Binding strength of an expression; children weaker than their context
/// get parentheses.
mod prec {
    pub const PIPELINE: u8 = 0;
    pub const OR: u8 = 1;
    pub const AND: u8 = 2;
    pub const EQUALITY: u8 = 3;
    pub const STRING: u8 = 4;
    pub const RELATIONAL: u8 = 5;
    pub const ADDITIVE: u8 = 6;
    pub const MULTIPLICATIVE: u8 = 7;
    pub const UNARY: u8 = 8;
    pub const ATOM: u8 = 9;
    /// Any expression but a bare pipeline.
    pub const SCALAR: u8 = OR;
}

fn binary_prec(op: BinaryOp) -> u8 {
    use BinaryOp::*;
    match op {
        Or => prec::OR,
        And => prec::AND,
        Eq | NotEq => prec::EQUALITY,
        Str(_) | SearchHas => prec::STRING,
        Lt | Le | Gt | Ge => prec::RELATIONAL,
        Add | Sub => prec::ADDITIVE,
        Mul | Div | Mod => prec::MULTIPLICATIVE,
    }
}

fn expr_prec(expr: &Expr) -> u8 {
    match &expr.kind {
        ExprKind::Pipeline { .. } => prec::PIPELINE,
        ExprKind::Binary { op, .. } => binary_prec(*op),
        ExprKind::InList { .. } | ExprKind::Between { .. } => prec::EQUALITY,
        ExprKind::Unary { .. } => prec::UNARY,
        _ => prec::ATOM,
    }
}

fn binary_text(op: BinaryOp) -> &'static str {
    use BinaryOp::*;
    match op {
        Or => "or",
        And => "and",
        Eq => "==",
        NotEq => "!=",
        Lt => "<",
        Le => "<=",
        Gt => ">",
        Ge => ">=",
        Add => "+",
        Sub => "-",
        Mul => "*",
        Div => "/",
        Mod => "%",
        Str(op) => operators::spelling(op),
        SearchHas => ":",
    }
}

/// The first character of `value` a KQL string literal cannot hold: Kusto documents the escapes
/// `\t`, `\n` and `\r` (beside `\\` and the quotes) and none for another control character
/// (https://learn.microsoft.com/azure/data-explorer/kusto/query/scalar-data-types/string), and
/// engines differ on the rest (duckdb-kql reads `"a\u0041b"` as `au0041b`). Writers of KQL
/// refuse such a value, or write a regex's as RE2's `\x{1b}`.
pub fn unwritable_char(value: &str) -> Option<char> {
    value.chars().find(|c| is_unwritable(*c))
}

/// Whether a KQL string literal cannot hold `c` (see `unwritable_char`).
pub fn is_unwritable(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// A double-quoted KQL string literal, with `\`, `"` and control characters escaped. What
/// `unwritable_char` finds is written `\uXXXX` for messages only: outputs never hold it.
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The shortest exact spelling of a tick count: `90m`, `1500ms`, `7tick`.
/// `text` reads back as exactly one word token.
fn lexes_as_one_word(text: &str) -> bool {
    let (tokens, errors) = tokenize(text);
    errors.is_empty()
        && matches!(&tokens[..], [word, eof] if word.kind == TokenKind::Word && word.span.start == 0 && word.span.end == text.len() && eof.kind == TokenKind::Eof)
}

fn timespan_text(ticks: i64) -> String {
    const UNITS: &[(i64, &str)] =
        &[(864_000_000_000, "d"), (36_000_000_000, "h"), (600_000_000, "m"), (10_000_000, "s"), (10_000, "ms"), (10, "microseconds")];
    for &(size, unit) in UNITS {
        if ticks % size == 0 && ticks != 0 {
            return format!("{}{unit}", ticks / size);
        }
    }
    format!("{ticks}tick")
}

struct Printer {
    out: String,
}

impl Printer {
    fn push(&mut self, text: &str) {
        self.out.push_str(text);
    }

    /// Items separated by `sep`.
    fn join<T>(&mut self, items: &[T], sep: &str, mut item: impl FnMut(&mut Self, &T)) {
        for (i, x) in items.iter().enumerate() {
            if i > 0 {
                self.push(sep);
            }
            item(self, x);
        }
    }

    fn statements(&mut self, statements: &[Statement]) {
        self.join(statements, ";\n", |p, s| p.statement(s));
    }

    fn statement(&mut self, statement: &Statement) {
        match &statement.kind {
            StatementKind::Let { name, value } => {
                self.push("let ");
                self.name(name);
                self.push(" = ");
                match value {
                    LetValue::Expr(expr) => self.expr(expr, prec::PIPELINE),
                    LetValue::Function(function) => self.function(function),
                }
            }
            StatementKind::Query(expr) => self.expr(expr, prec::PIPELINE),
            StatementKind::Set { name, value } => {
                self.push("set ");
                self.name(name);
                if let Some(value) = value {
                    self.push(" = ");
                    self.option_value(value);
                }
            }
            StatementKind::QueryParameters(params) => {
                self.push("declare query_parameters(");
                self.join(params, ", ", |p, param| p.param(param));
                self.push(")");
            }
            StatementKind::AliasDatabase { name, value } => {
                self.push("alias database ");
                self.name(name);
                self.push(" = ");
                self.expr(value, prec::SCALAR);
            }
            StatementKind::Error => self.push("<error>"),
        }
    }

    fn function(&mut self, function: &FunctionDef) {
        if function.view {
            self.push("view ");
        }
        self.push("(");
        self.join(&function.params, ", ", |p, param| p.param(param));
        self.push(") {\n");
        self.statements(&function.body);
        self.push("\n}");
    }

    fn param(&mut self, param: &Param) {
        self.name(&param.name);
        self.push(":");
        match &param.ty {
            ParamType::Scalar(ty) => self.push(&ty.name),
            ParamType::Tabular(schema) => self.table_schema(schema),
        }
        if let Some(default) = &param.default {
            self.push(" = ");
            self.expr(default, prec::SCALAR);
        }
    }

    fn table_schema(&mut self, schema: &TableSchema) {
        self.push("(");
        if schema.wildcard {
            self.push(if schema.columns.is_empty() { "*" } else { "*, " });
        }
        self.join(&schema.columns, ", ", |p, c| p.column_decl(c));
        self.push(")");
    }

    fn column_decl(&mut self, column: &ColumnDecl) {
        self.name(&column.name);
        self.push(":");
        self.push(&column.ty.name);
    }

    /// A column/table/variable name, bracketed when it is not a plain word.
    fn name(&mut self, name: &Ident) {
        if is_plain_name(&name.name) {
            self.push(&name.name);
        } else {
            self.push("[");
            self.push(&quote(&name.name));
            self.push("]");
        }
    }

    /// `expr`, parenthesized if it binds weaker than `min`.
    fn expr(&mut self, expr: &Expr, min: u8) {
        let paren = expr_prec(expr) < min;
        if paren {
            self.push("(");
        }
        self.expr_kind(&expr.kind);
        if paren {
            self.push(")");
        }
    }

    fn expr_kind(&mut self, kind: &ExprKind) {
        match kind {
            ExprKind::Literal(literal) => self.literal(literal),
            ExprKind::Name(name) => self.name(name),
            ExprKind::Pattern(pattern) => self.push(pattern),
            ExprKind::Star => self.push("*"),
            ExprKind::TypeOf(ty) => {
                self.push("typeof(");
                self.push(&ty.name);
                self.push(")");
            }
            ExprKind::Paren(inner) => {
                self.push("(");
                self.expr(inner, prec::PIPELINE);
                self.push(")");
            }
            ExprKind::Unary { op, operand } => {
                self.push(match op {
                    UnaryOp::Neg => "-",
                    UnaryOp::Plus => "+",
                });
                self.expr(operand, prec::ATOM);
            }
            ExprKind::Binary { op, left, right } => {
                let level = binary_prec(*op);
                // Comparisons do not chain, so an equal-level left side needs parens.
                let chains = !matches!(level, prec::EQUALITY | prec::STRING | prec::RELATIONAL);
                self.expr(left, if chains { level } else { level + 1 });
                self.push(" ");
                self.push(binary_text(*op));
                self.push(" ");
                self.expr(right, level + 1);
            }
            ExprKind::InList { op, left, items } => {
                self.expr(left, prec::STRING);
                self.push(" ");
                self.push(operators::spelling(*op));
                self.push(" (");
                self.join(items, ", ", |p, item| p.expr(item, prec::PIPELINE));
                self.push(")");
            }
            ExprKind::Between { negated, left, low, high } => {
                self.expr(left, prec::STRING);
                self.push(if *negated { " !between (" } else { " between (" });
                self.expr(low, prec::SCALAR);
                self.push(" .. ");
                self.expr(high, prec::SCALAR);
                self.push(")");
            }
            ExprKind::Call { target, name, args } => {
                if let Some(target) = target {
                    self.dot_target(target);
                }
                // Reserved functions (`toscalar`) are called by their bare word; only a name that
                // is not an identifier at all needs brackets.
                if is_identifier(&name.name) {
                    self.push(&name.name);
                } else {
                    self.name(name);
                }
                // `guid(` with no space starts a literal; a call to a function named `guid` needs one.
                if TYPED_LITERALS.contains(&name.name.as_str()) {
                    self.push(" ");
                }
                self.push("(");
                self.join(args, ", ", |p, arg| p.named_expr_with(arg, prec::PIPELINE));
                self.push(")");
            }
            ExprKind::Member { target, name } => {
                self.dot_target(target);
                self.name(name);
            }
            ExprKind::Index { target, index } => {
                self.expr(target, prec::ATOM);
                self.push("[");
                self.expr(index, prec::SCALAR);
                self.push("]");
            }
            ExprKind::Pipeline { source, operators } => {
                if let Some(source) = source {
                    self.expr(source, prec::SCALAR);
                    self.push("\n| ");
                }
                self.operators(operators);
            }
            ExprKind::Error => self.push("<error>"),
        }
    }

    /// The target of `.name`: a number needs a space (`1 .x`, not `1.x`).
    fn dot_target(&mut self, target: &Expr) {
        self.expr(target, prec::ATOM);
        if matches!(target.kind, ExprKind::Literal(Literal::Int(_) | Literal::Real(_))) {
            self.push(" ");
        }
        self.push(".");
    }

    fn literal(&mut self, literal: &Literal) {
        match literal {
            Literal::Null => self.push("null"),
            Literal::Bool(b) => self.push(if *b { "true" } else { "false" }),
            Literal::Int(v) => self.push(&v.to_string()),
            // `{:?}` always keeps a `.` or exponent, so it re-lexes as real.
            Literal::Real(v) => self.push(&format!("{v:?}")),
            Literal::Timespan(ticks) => self.push(&timespan_text(*ticks)),
            Literal::String { value, obfuscated } => {
                if *obfuscated {
                    self.push("h");
                }
                self.push(&quote(value));
            }
            Literal::Typed { ty, raw } => {
                self.push(ty);
                self.push("(");
                self.push(raw);
                self.push(")");
            }
            Literal::Dynamic(value) => {
                self.push("dynamic(");
                self.dynamic(value);
                self.push(")");
            }
        }
    }

    fn dynamic(&mut self, value: &DynamicValue) {
        match &value.kind {
            DynamicKind::Null => self.push("null"),
            DynamicKind::Scalar(literal) => self.literal(literal),
            DynamicKind::Array(items) => {
                self.push("[");
                self.join(items, ", ", |p, item| p.dynamic(item));
                self.push("]");
            }
            DynamicKind::Object(entries) => {
                self.push("{");
                self.join(entries, ", ", |p, (key, value)| {
                    p.push(&quote(key));
                    p.push(": ");
                    p.dynamic(value);
                });
                self.push("}");
            }
        }
    }

    fn named_expr(&mut self, named: &NamedExpr) {
        self.named_expr_with(named, prec::SCALAR);
    }

    fn named_expr_with(&mut self, named: &NamedExpr, min: u8) {
        if named.tuple {
            self.push("(");
            self.join(&named.names, ", ", |p, n| p.name(n));
            self.push(") = ");
        } else if let Some(name) = named.names.first() {
            self.name(name);
            self.push(" = ");
        }
        self.expr(&named.expr, min);
    }

    fn named_list(&mut self, items: &[NamedExpr]) {
        self.join(items, ", ", |p, item| p.named_expr(item));
    }

    fn expr_list(&mut self, items: &[Expr]) {
        self.join(items, ", ", |p, item| p.expr(item, prec::SCALAR));
    }

    fn operators(&mut self, operators: &[Operator]) {
        self.join(operators, "\n| ", |p, op| p.operator(op));
    }

    /// `( op | op )`
    fn subquery(&mut self, operators: &[Operator]) {
        self.push("(");
        self.operators(operators);
        self.push(")");
    }

    /// Each option followed by a space.
    fn options(&mut self, params: &[OptionParam]) {
        for param in params {
            self.option(param);
            self.push(" ");
        }
    }

    fn option(&mut self, param: &OptionParam) {
        self.push(&param.name.name);
        self.push("=");
        self.option_value(&param.value);
    }

    /// The value of an option or `set`: names are bare words (`kind=inner`), never bracketed.
    fn option_value(&mut self, value: &Expr) {
        match &value.kind {
            ExprKind::Name(word) => self.push(&word.name),
            _ => self.expr(value, prec::SCALAR),
        }
    }

    fn option_list(&mut self, params: &[OptionParam]) {
        self.push("(");
        self.join(params, ", ", |p, param| p.option(param));
        self.push(")");
    }

    /// `keyword [options] items`, with no trailing space when both are empty.
    fn keyword_list(&mut self, keyword: &str, params: &[OptionParam], items: &[NamedExpr]) {
        self.push(keyword);
        for param in params {
            self.push(" ");
            self.option(param);
        }
        if !items.is_empty() {
            self.push(" ");
            self.named_list(items);
        }
    }

    /// `keyword item, item`, or just `keyword` when there are no items.
    fn keyword_then<T>(&mut self, keyword: &str, items: &[T], item: impl FnMut(&mut Self, &T)) {
        self.push(keyword);
        if !items.is_empty() {
            self.push(" ");
            self.join(items, ", ", item);
        }
    }

    fn sort_key(&mut self, key: &SortKey) {
        self.expr(&key.expr, prec::SCALAR);
        self.sort_order(key.order);
        match key.nulls {
            Some(NullsOrder::First) => self.push(" nulls first"),
            Some(NullsOrder::Last) => self.push(" nulls last"),
            None => {}
        }
    }

    fn sort_order(&mut self, order: Option<SortOrder>) {
        match order {
            Some(SortOrder::Asc) => self.push(" asc"),
            Some(SortOrder::Desc) => self.push(" desc"),
            None => {}
        }
    }

    fn mv_items(&mut self, items: &[MvItem], limit: &Option<Expr>) {
        self.join(items, ", ", |p, item| {
            p.named_expr(&item.expr);
            if let Some(ty) = &item.to_type {
                p.push(" to typeof(");
                p.push(&ty.name);
                p.push(")");
            }
        });
        if let Some(limit) = limit {
            self.push(" limit ");
            self.expr(limit, prec::SCALAR);
        }
    }

    fn tables_in(&mut self, tables: &Option<Vec<Expr>>) {
        if let Some(tables) = tables {
            self.push("in (");
            self.expr_list(tables);
            self.push(") ");
        }
    }

    fn operator(&mut self, op: &Operator) {
        use OperatorKind::*;
        match &op.kind {
            Where(predicate) => {
                self.push("where ");
                self.named_expr(predicate);
            }
            Extend(items) => self.keyword_list("extend", &[], items),
            Project(items) => self.keyword_list("project", &[], items),
            ProjectAway(items) => self.keyword_then("project-away", items, |p, item| p.expr(item, prec::SCALAR)),
            ProjectKeep(items) => self.keyword_then("project-keep", items, |p, item| p.expr(item, prec::SCALAR)),
            ProjectReorder(keys) => self.keyword_then("project-reorder", keys, |p, key| p.sort_key(key)),
            ProjectRename(items) => self.keyword_list("project-rename", &[], items),
            Summarize { params, aggregates, by } => {
                self.push("summarize ");
                self.options(params);
                self.named_list(aggregates);
                if !by.is_empty() {
                    self.push(if aggregates.is_empty() { "by " } else { " by " });
                    self.named_list(by);
                }
            }
            Distinct { params, columns } => self.keyword_list("distinct", params, columns),
            Count => self.push("count"),
            GetSchema => self.push("getschema"),
            Take(count) => {
                self.push("take ");
                self.expr(count, prec::SCALAR);
            }
            Sample(count) => {
                self.push("sample ");
                self.expr(count, prec::SCALAR);
            }
            SampleDistinct { count, column } => {
                self.push("sample-distinct ");
                self.expr(count, prec::SCALAR);
                self.push(" of ");
                self.expr(column, prec::SCALAR);
            }
            Top { count, by } => {
                self.push("top ");
                self.expr(count, prec::SCALAR);
                self.push(" by ");
                self.sort_key(by);
            }
            TopNested(clauses) => self.join(clauses, ", ", |p, clause| p.top_nested(clause)),
            Sort { params, keys } => {
                self.push("sort ");
                self.options(params);
                self.push("by ");
                self.join(keys, ", ", |p, key| p.sort_key(key));
            }
            Join { params, right, on } | Lookup { params, right, on } => {
                self.push(if matches!(op.kind, Join { .. }) { "join " } else { "lookup " });
                self.options(params);
                self.expr(right, prec::ATOM);
                if !on.is_empty() {
                    self.push(" on ");
                    self.expr_list(on);
                }
            }
            Union { params, tables } => {
                self.push("union ");
                self.options(params);
                self.join(tables, ", ", |p, table| p.expr(table, prec::ATOM));
            }
            MvExpand { params, items, limit } => {
                self.push("mv-expand ");
                self.options(params);
                self.mv_items(items, limit);
            }
            MvApply { params, items, limit, subquery } => {
                self.push("mv-apply ");
                self.options(params);
                self.mv_items(items, limit);
                self.push(" on ");
                self.subquery(subquery);
            }
            Parse { filter, params, source, pattern } => {
                self.push(if *filter { "parse-where " } else { "parse " });
                self.options(params);
                self.expr(source, prec::SCALAR);
                self.push(" with");
                for part in pattern {
                    self.push(" ");
                    match part {
                        ParsePart::Star { .. } => self.push("*"),
                        ParsePart::Text(text) => self.expr(text, prec::ATOM),
                        ParsePart::Column { name, ty, .. } => {
                            self.name(name);
                            if let Some(ty) = ty {
                                self.push(":");
                                self.push(&ty.name);
                            }
                        }
                    }
                }
            }
            ParseKv { source, columns, with } => {
                self.push("parse-kv ");
                self.expr(source, prec::SCALAR);
                self.push(" as (");
                self.join(columns, ", ", |p, c| p.column_decl(c));
                self.push(") with ");
                self.option_list(with);
            }
            MakeSeries(series) => self.make_series(series),
            Evaluate { params, call, schema } => {
                self.push("evaluate ");
                self.options(params);
                self.expr(call, prec::SCALAR);
                if let Some(schema) = schema {
                    self.push(" : ");
                    self.table_schema(schema);
                }
            }
            Serialize(items) => self.keyword_list("serialize", &[], items),
            Invoke(call) => {
                self.push("invoke ");
                self.expr(call, prec::SCALAR);
            }
            Render { chart, with } => {
                self.push("render ");
                self.push(&chart.name);
                if !with.is_empty() {
                    self.push(" with (");
                    self.join(with, ", ", |p, property| {
                        p.push(&property.name.name);
                        p.push("=");
                        // Words as written (`kind=stacked`); only a column name that is no
                        // single word (`['a b']`) keeps its brackets.
                        p.join(&property.values, ", ", |p, value| match &value.kind {
                            ExprKind::Name(word) if lexes_as_one_word(&word.name) => p.push(&word.name),
                            _ => p.expr(value, prec::SCALAR),
                        });
                    });
                    self.push(")");
                }
            }
            As { params, name } => {
                self.push("as ");
                self.options(params);
                self.name(name);
            }
            Partition { params, by, body } => {
                self.push("partition ");
                self.options(params);
                self.push("by ");
                self.name(by);
                self.push(" ");
                match body {
                    PartitionBody::Operators(operators) => self.subquery(operators),
                    PartitionBody::Query(query) => {
                        self.push("{\n");
                        self.expr(query, prec::PIPELINE);
                        self.push("\n}");
                    }
                }
            }
            Fork(branches) => {
                self.push("fork ");
                self.join(branches, " ", |p, branch| {
                    if let Some(name) = &branch.name {
                        p.name(name);
                        p.push(" = ");
                    }
                    p.subquery(&branch.operators);
                });
            }
            Facet { by, with } => {
                self.push("facet by ");
                self.expr_list(by);
                if let Some(with) = with {
                    self.push(" with ");
                    self.subquery(with);
                }
            }
            Find { params, tables, predicate, project } => {
                self.push("find ");
                self.options(params);
                self.tables_in(tables);
                self.push("where ");
                self.expr(predicate, prec::SCALAR);
                match project {
                    Some(FindProjection::Columns(columns)) => {
                        self.push(" project ");
                        self.expr_list(columns);
                    }
                    Some(FindProjection::Smart) => self.push(" project-smart"),
                    None => {}
                }
            }
            Search { params, tables, predicate } => {
                self.push("search ");
                self.options(params);
                self.tables_in(tables);
                self.expr(predicate, prec::SCALAR);
            }
            Print(items) => self.keyword_list("print", &[], items),
            Range { column, from, to, step } => {
                self.push("range ");
                self.name(column);
                self.push(" from ");
                self.expr(from, prec::SCALAR);
                self.push(" to ");
                self.expr(to, prec::SCALAR);
                self.push(" step ");
                self.expr(step, prec::SCALAR);
            }
            Datatable { columns, values } => {
                self.push("datatable(");
                self.join(columns, ", ", |p, c| p.column_decl(c));
                self.push(") [");
                self.expr_list(values);
                self.push("]");
            }
            ExternalData { columns, uris, with } => {
                self.push("externaldata(");
                self.join(columns, ", ", |p, c| p.column_decl(c));
                self.push(") [");
                self.expr_list(uris);
                self.push("]");
                if !with.is_empty() {
                    self.push(" with ");
                    self.option_list(with);
                }
            }
            Scan { params, declare, steps } => self.scan(params, declare, steps),
            Reduce { params, by, with } => {
                self.push("reduce ");
                self.options(params);
                self.push("by ");
                self.expr(by, prec::SCALAR);
                if !with.is_empty() {
                    self.push(" with ");
                    self.join(with, ", ", |p, param| p.option(param));
                }
            }
            Consume(params) => {
                self.push("consume");
                for param in params {
                    self.push(" ");
                    self.option(param);
                }
            }
            TopHitters { count, of, by } => {
                self.push("top-hitters ");
                self.expr(count, prec::SCALAR);
                self.push(" of ");
                self.expr(of, prec::SCALAR);
                if let Some(by) = by {
                    self.push(" by ");
                    self.expr(by, prec::SCALAR);
                }
            }
            Error => self.push("<error>"),
        }
    }

    fn scan(&mut self, params: &[OptionParam], declare: &[Param], steps: &[ScanStep]) {
        self.push("scan ");
        self.options(params);
        if !declare.is_empty() {
            self.push("declare (");
            self.join(declare, ", ", |p, param| p.param(param));
            self.push(") ");
        }
        self.push("with (");
        for step in steps {
            self.push("\n    step ");
            self.name(&step.name);
            if let Some(output) = &step.output {
                self.push(" output=");
                self.push(&output.name);
            }
            self.push(": ");
            self.expr(&step.condition, prec::SCALAR);
            if !step.assignments.is_empty() {
                self.push(" => ");
                self.named_list(&step.assignments);
            }
            self.push(";");
        }
        self.push("\n)");
    }

    fn top_nested(&mut self, clause: &TopNestedClause) {
        self.push("top-nested ");
        if let Some(count) = &clause.count {
            self.expr(count, prec::SCALAR);
            self.push(" ");
        }
        self.push("of ");
        self.named_expr(&clause.of);
        if let Some(others) = &clause.others {
            self.push(" with others = ");
            self.expr(others, prec::SCALAR);
        }
        self.push(" by ");
        self.named_expr(&clause.by);
        self.sort_order(clause.order);
    }

    fn make_series(&mut self, series: &MakeSeries) {
        self.push("make-series ");
        self.options(&series.params);
        self.join(&series.aggregates, ", ", |p, agg| {
            p.named_expr(&agg.expr);
            if let Some(default) = &agg.default {
                p.push(" default = ");
                p.expr(default, prec::SCALAR);
            }
        });
        self.push(" on ");
        self.expr(&series.on, prec::SCALAR);
        match &series.range {
            SeriesRange::FromTo { from, to, step } => {
                if let Some(from) = from {
                    self.push(" from ");
                    self.expr(from, prec::SCALAR);
                }
                if let Some(to) = to {
                    self.push(" to ");
                    self.expr(to, prec::SCALAR);
                }
                self.push(" step ");
                self.expr(step, prec::SCALAR);
            }
            SeriesRange::InRange { start, stop, step } => {
                self.push(" in range(");
                self.join(&[start, stop, step], ", ", |p, e| p.expr(e, prec::SCALAR));
                self.push(")");
            }
        }
        if !series.by.is_empty() {
            self.push(" by ");
            self.named_list(&series.by);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    fn roundtrip(src: &str) -> String {
        let parsed = parse(src);
        assert!(parsed.errors.is_empty(), "{src}: {:?}", parsed.errors);
        print(&parsed.ast)
    }

    #[test]
    fn normalizes_spelling_and_layout() {
        assert_eq!(
            roundtrip("T|where a  containscs 'x'|mvexpand b|order by c"),
            "T\n| where a contains_cs \"x\"\n| mv-expand b\n| sort by c"
        );
    }

    #[test]
    fn brackets_names_that_need_it() {
        assert_eq!(roundtrip("T | project ['x y'], ['title'], a.['b c']"), "T\n| project [\"x y\"], [\"title\"], a.[\"b c\"]");
    }

    #[test]
    fn keeps_tokens_apart() {
        assert_eq!(roundtrip("print 1 .x, 2.5 .y"), "print 1 .x, 2.5 .y");
        assert_eq!(roundtrip("T | extend (['1a'], b) = f()"), "T\n| extend ([\"1a\"], b) = f()");
    }

    #[test]
    fn quoted_strings_read_back_as_the_same_value() {
        assert_eq!(quote(r#"C:\a "b" 'c'"#), r#""C:\\a \"b\" 'c'""#);
        assert_eq!(quote("a\tb\nc\u{1}"), r#""a\tb\nc\u0001""#);
        assert_eq!(unwritable_char("a\tb\r\n"), None);
        assert_eq!(unwritable_char("a\u{1b}b\u{7f}"), Some('\u{1b}'));
        assert_eq!(unwritable_char("c1 \u{85}"), Some('\u{85}'));
        for value in [r#"C:\a "b" 'c'"#, "a\tb\nc\u{1}\u{7f}", "ünï"] {
            let text = format!("print {}", quote(value));
            assert_eq!(roundtrip(&text), text);
            let parsed = parse(&text);
            let Some(Statement { kind: StatementKind::Query(query), .. }) = parsed.ast.statements.first() else { panic!("{text}") };
            let ExprKind::Pipeline { operators, .. } = &query.kind else { panic!("{text}") };
            let OperatorKind::Print(items) = &operators[0].kind else { panic!("{text}") };
            assert_eq!(items[0].expr.kind, ExprKind::Literal(Literal::String { value: value.to_string(), obfuscated: false }));
        }
    }

    #[test]
    fn timespans_use_the_largest_exact_unit() {
        assert_eq!(roundtrip("print 1.5h, 120s, 0.5ms, 3tick"), "print 90m, 2m, 500microseconds, 3tick");
    }

    #[test]
    fn adds_parentheses_precedence_needs() {
        // A tree no parser would build from flat text: (a or b) and c.
        let parsed = parse("print (a or b) and c");
        let Some(Statement { kind: StatementKind::Query(query), .. }) = parsed.ast.statements.first() else { panic!() };
        let mut query = query.clone();
        // Strip the Paren node; the printer must put it back.
        if let ExprKind::Pipeline { operators, .. } = &mut query.kind
            && let OperatorKind::Print(items) = &mut operators[0].kind
            && let ExprKind::Binary { left, .. } = &mut items[0].expr.kind
            && let ExprKind::Paren(inner) = &left.kind
        {
            *left = inner.clone();
        }
        let script = Script {
            statements: vec![Statement { kind: StatementKind::Query(query), span: super::super::Span::default() }],
            span: super::super::Span::default(),
        };
        assert_eq!(print(&script), "print (a or b) and c");
    }
}
