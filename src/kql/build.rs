//! Constructors for trees that are built rather than parsed (an emitter's query): every span
//! is empty, and each helper makes the node the parser would make for the same text.

use super::ast::*;
use super::span::Span;

impl Ident {
    pub fn new(name: impl Into<String>) -> Ident {
        Ident { name: name.into(), span: Span::default() }
    }
}

impl Expr {
    pub fn new(kind: ExprKind) -> Expr {
        Expr { kind, span: Span::default() }
    }

    /// A column, table or function name; the printer brackets it where it must.
    pub fn name(name: impl Into<String>) -> Expr {
        Expr::new(ExprKind::Name(Ident::new(name)))
    }

    pub fn literal(literal: Literal) -> Expr {
        Expr::new(ExprKind::Literal(literal))
    }

    pub fn string(value: impl Into<String>) -> Expr {
        Expr::literal(Literal::String { value: value.into(), obfuscated: false })
    }

    pub fn int(value: i64) -> Expr {
        Expr::literal(Literal::Int(value))
    }

    pub fn timespan(ticks: i64) -> Expr {
        Expr::literal(Literal::Timespan(ticks))
    }

    /// `ty(raw)`: `datetime(2024-01-01)`, `real(1.5)`.
    pub fn typed(ty: &str, raw: impl Into<String>) -> Expr {
        Expr::literal(Literal::Typed { ty: ty.to_string(), raw: raw.into() })
    }

    /// `dynamic(null)`
    pub fn dynamic_null() -> Expr {
        Expr::literal(Literal::Dynamic(Box::new(DynamicValue { kind: DynamicKind::Null, span: Span::default() })))
    }

    /// `(inner)`, as written: the printer adds no parentheses where precedence does not need them.
    pub fn paren(inner: Expr) -> Expr {
        Expr::new(ExprKind::Paren(Box::new(inner)))
    }

    pub fn binary(op: BinaryOp, left: Expr, right: Expr) -> Expr {
        Expr::new(ExprKind::Binary { op, left: Box::new(left), right: Box::new(right) })
    }

    /// `left op right` for a string operator (`=~`, `contains_cs`, `matches regex`).
    pub fn str_op(test: StrTest, case_sensitive: bool, left: Expr, right: Expr) -> Expr {
        Expr::binary(BinaryOp::Str(StrOp { test, case_sensitive, negated: false }), left, right)
    }

    /// The parts joined by `op` as the parser groups them, left to right; `None` when empty.
    pub fn chain(op: BinaryOp, parts: impl IntoIterator<Item = Expr>) -> Option<Expr> {
        parts.into_iter().reduce(|left, right| Expr::binary(op, left, right))
    }

    /// `left in (items)` or `left in~ (items)`.
    pub fn in_list(case_sensitive: bool, left: Expr, items: Vec<Expr>) -> Expr {
        let op = StrOp { test: StrTest::In, case_sensitive, negated: false };
        Expr::new(ExprKind::InList { op, left: Box::new(left), items })
    }

    /// `left between (low .. high)`
    pub fn between(left: Expr, low: Expr, high: Expr) -> Expr {
        Expr::new(ExprKind::Between { negated: false, left: Box::new(left), low: Box::new(low), high: Box::new(high) })
    }

    /// `target[index]`
    pub fn index(self, index: Expr) -> Expr {
        Expr::new(ExprKind::Index { target: Box::new(self), index: Box::new(index) })
    }

    /// `target.name`
    pub fn member(self, name: impl Into<String>) -> Expr {
        Expr::new(ExprKind::Member { target: Box::new(self), name: Ident::new(name) })
    }

    /// `self | operator`: a pipeline's next operator, or a table's first.
    pub fn pipe(self, operator: OperatorKind) -> Expr {
        let operator = Operator { kind: operator, span: Span::default() };
        match self.kind {
            ExprKind::Pipeline { source, mut operators } => {
                operators.push(operator);
                Expr::new(ExprKind::Pipeline { source, operators })
            }
            _ => Expr::new(ExprKind::Pipeline { source: Some(Box::new(self)), operators: vec![operator] }),
        }
    }

    /// An operator that makes rows itself (`union`), as a query.
    pub fn rows(operator: OperatorKind) -> Expr {
        Expr::new(ExprKind::Pipeline { source: None, operators: vec![Operator { kind: operator, span: Span::default() }] })
    }
}

/// `name(args)`
pub fn call(name: &str, args: impl IntoIterator<Item = Expr>) -> Expr {
    Expr::new(ExprKind::Call { target: None, name: Ident::new(name), args: args.into_iter().map(NamedExpr::from).collect() })
}

impl From<Expr> for NamedExpr {
    /// An expression without a result name.
    fn from(expr: Expr) -> NamedExpr {
        NamedExpr { names: Vec::new(), tuple: false, expr, span: Span::default() }
    }
}

impl NamedExpr {
    /// `name = expr`
    pub fn named(name: impl Into<String>, expr: Expr) -> NamedExpr {
        NamedExpr { names: vec![Ident::new(name)], tuple: false, expr, span: Span::default() }
    }
}

impl OptionParam {
    /// `name=value`, the value a bare word (`kind=inner`).
    pub fn word(name: &str, value: &str) -> OptionParam {
        OptionParam { name: Ident::new(name), value: Expr::name(value), span: Span::default() }
    }
}

impl Script {
    /// A script of one query.
    pub fn query(query: Expr) -> Script {
        Script { statements: vec![Statement { kind: StatementKind::Query(query), span: Span::default() }], span: Span::default() }
    }
}
