//! Constants: literals, `let` constants, `ago()`/`now()` and lists (`dynamic([...])`, a
//! let-bound list, a one-column `datatable`) resolved into `Value`s.

use super::{Lowerer, MAX_DEPTH};
use crate::ir::detection::Value;
use crate::kql::ast::{BinaryOp, DynamicKind, DynamicValue, Expr, ExprKind, Literal, OperatorKind, UnaryOp};

impl<'a> Lowerer<'a> {
    /// The one constant an expression denotes, if it is one.
    pub(super) fn constant(&self, expr: &'a Expr, upto: usize) -> Option<Value> {
        match &expr.kind {
            ExprKind::Literal(literal) => literal_value(literal),
            ExprKind::Paren(inner) => self.constant(inner, upto),
            ExprKind::Name(name) if self.scope.is_bound(&name.name, upto) => {
                self.through_let(&name.name, upto, |b, at| self.constant(b, at))
            }
            // Kusto reads `True` and `FALSE` as booleans too; the parser keeps them as names.
            ExprKind::Name(name) => {
                ["true", "false"].into_iter().find(|b| name.name.eq_ignore_ascii_case(b)).map(|b| Value::Bool(b == "true"))
            }
            ExprKind::Unary { op: UnaryOp::Neg, operand } => match self.constant(operand, upto)? {
                Value::Int(n) => n.checked_neg().map(Value::Int),
                Value::Real(x) => Some(Value::Real(-x)),
                Value::Timespan(t) => t.checked_neg().map(Value::Timespan),
                _ => None,
            },
            ExprKind::Binary { op, left, right } => time_arithmetic(*op, self.constant(left, upto)?, self.constant(right, upto)?),
            ExprKind::Call { target: None, name, args } => match (name.name.as_str(), args.as_slice()) {
                ("ago", [span]) => match self.constant(&span.expr, upto)? {
                    Value::Timespan(t) => Some(Value::Ago(t)),
                    _ => None,
                },
                ("now", []) => Some(Value::Now),
                // `now(-1d)` is `ago(1d)`.
                ("now", [offset]) => match self.constant(&offset.expr, upto)? {
                    Value::Timespan(t) => t.checked_neg().map(Value::Ago),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        }
    }

    /// Reads the expression a `let` binds, in the scope it was bound in. A chain of lets deeper
    /// than `MAX_DEPTH` is not followed (it reads as unresolved), so no input exhausts the stack.
    pub(super) fn through_let<T>(&self, name: &str, upto: usize, read: impl FnOnce(&'a Expr, usize) -> Option<T>) -> Option<T> {
        let (bound, at) = self.scope.expr(name, upto)?;
        let depth = self.let_depth.get();
        if depth >= MAX_DEPTH {
            return None;
        }
        self.let_depth.set(depth + 1);
        let read = read(bound, at);
        self.let_depth.set(depth);
        read
    }

    /// The `{{StartTimeISO}}`-style placeholder an expression reads, through lets and calls
    /// (`let starttime = todatetime('{{StartTimeISO}}')`).
    pub(super) fn template_parameter(&self, expr: &'a Expr, upto: usize) -> Option<String> {
        match &expr.kind {
            ExprKind::Literal(Literal::String { value, .. }) => value.contains("{{").then(|| value.clone()),
            ExprKind::Paren(inner) | ExprKind::Unary { operand: inner, .. } => self.template_parameter(inner, upto),
            ExprKind::Binary { left, right, .. } => self.template_parameter(left, upto).or_else(|| self.template_parameter(right, upto)),
            ExprKind::Call { args, .. } => args.iter().find_map(|arg| self.template_parameter(&arg.expr, upto)),
            ExprKind::Name(name) => self.through_let(&name.name, upto, |b, at| self.template_parameter(b, at)),
            _ => None,
        }
    }

    /// The values of a list operand (`in (...)`, `has_any (...)`): each item a constant or a
    /// list. `None` when any item is neither (a subquery, a column).
    pub(super) fn constants(&self, items: &'a [Expr], upto: usize) -> Option<Vec<Value>> {
        let mut values = Vec::new();
        for item in items {
            values.extend(self.list(item, upto)?);
        }
        Some(values)
    }

    fn list(&self, expr: &'a Expr, upto: usize) -> Option<Vec<Value>> {
        match &expr.kind {
            ExprKind::Literal(Literal::Dynamic(value)) => dynamic_values(value),
            ExprKind::Paren(inner) => self.list(inner, upto),
            ExprKind::Name(name) => self.through_let(&name.name, upto, |b, at| self.list(b, at)),
            ExprKind::Pipeline { source: None, operators } => match operators.as_slice() {
                [only] => match &only.kind {
                    OperatorKind::Datatable { columns, values } if columns.len() == 1 => {
                        values.iter().map(|v| self.constant(v, upto)).collect()
                    }
                    _ => None,
                },
                _ => None,
            },
            _ => self.constant(expr, upto).map(|value| vec![value]),
        }
    }
}

fn literal_value(literal: &Literal) -> Option<Value> {
    Some(match literal {
        Literal::Null => Value::Null,
        Literal::Bool(b) => Value::Bool(*b),
        Literal::Int(n) => Value::Int(*n),
        Literal::Real(x) => Value::Real(*x),
        Literal::Timespan(t) => Value::Timespan(*t),
        Literal::String { value, .. } => Value::String(value.clone()),
        Literal::Typed { ty, raw } => typed_value(ty, raw.trim())?,
        Literal::Dynamic(value) => match &value.kind {
            DynamicKind::Null => Value::Null,
            DynamicKind::Scalar(inner) => literal_value(inner)?,
            DynamicKind::Array(_) | DynamicKind::Object(_) => return None,
        },
    })
}

/// `datetime(2024-01-01)`, `long(5)`, `guid(...)`: the typed literals a value can hold.
fn typed_value(ty: &str, raw: &str) -> Option<Value> {
    match ty {
        "datetime" | "date" => Some(Value::Datetime(unquoted(raw).to_string())),
        "long" | "int" => raw.parse().ok().map(Value::Int),
        "real" | "double" | "decimal" => raw.parse().ok().map(Value::Real),
        "bool" | "boolean" => raw.parse().ok().map(Value::Bool),
        "guid" | "string" => Some(Value::String(raw.to_string())),
        _ => None,
    }
}

/// `datetime("2024-01-01")` means `datetime(2024-01-01)`: the quotes are not part of the text.
/// Kusto's other spellings (RFC 822, `01/16/2022`) are kept as written, for readers to refuse.
fn unquoted(raw: &str) -> &str {
    ['"', '\''].iter().find_map(|q| raw.strip_prefix(*q)?.strip_suffix(*q)).map_or(raw, str::trim)
}

/// The scalars of a `dynamic([...])` array, nested arrays flattened as `in` does.
fn dynamic_values(value: &DynamicValue) -> Option<Vec<Value>> {
    match &value.kind {
        DynamicKind::Array(items) => {
            let lists: Option<Vec<Vec<Value>>> = items.iter().map(dynamic_values).collect();
            Some(lists?.into_iter().flatten().collect())
        }
        DynamicKind::Scalar(literal) => literal_value(literal).map(|v| vec![v]),
        DynamicKind::Null => Some(vec![Value::Null]),
        DynamicKind::Object(_) => None,
    }
}

/// `now() - 1d`, `ago(1d) - 1h`, `7 * 1d`: the time arithmetic rules write around `ago()`.
fn time_arithmetic(op: BinaryOp, left: Value, right: Value) -> Option<Value> {
    use Value::{Ago, Int, Now, Timespan};
    match (op, left, right) {
        (BinaryOp::Sub, Now, Timespan(t)) => Some(Ago(t)),
        (BinaryOp::Add, Now, Timespan(t)) => t.checked_neg().map(Ago),
        (BinaryOp::Sub, Ago(a), Timespan(t)) => a.checked_add(t).map(Ago),
        (BinaryOp::Add, Ago(a), Timespan(t)) => a.checked_sub(t).map(Ago),
        (BinaryOp::Add, Timespan(a), Timespan(b)) => a.checked_add(b).map(Timespan),
        (BinaryOp::Sub, Timespan(a), Timespan(b)) => a.checked_sub(b).map(Timespan),
        (BinaryOp::Mul, Timespan(t), Int(n)) | (BinaryOp::Mul, Int(n), Timespan(t)) => t.checked_mul(n).map(Timespan),
        _ => None,
    }
}
