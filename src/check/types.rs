//! Comparisons of a table column with an operator or a literal its type does not take, as
//! Microsoft's analyzer refuses them when a rule is created (KS106, KS107). Only what the
//! analyzer was seen to refuse is judged (`tests` below lists each case as it answered):
//! - a string operator (`contains`, `=~`, `has`, `startswith`, `matches regex`, `like` ...) on a
//!   number, datetime or bool column, or with a number on a string column;
//! - a list operator that compares text (`in~`, `!in~`, `has_any`, `has_all`) on a number column
//!   (plain `in` and `==` convert between numbers and strings, and are accepted);
//! - an ordering (`<`, `>=`, `between` ...) of a number or datetime column with a string, or of a
//!   string column with a number.

use crate::kql::Span;
use crate::kql::ast::{BinaryOp, Expr, ExprKind, Literal};
use crate::kql::operators::{StrTest, spelling};
use crate::sentinel::tables::ColumnType;

/// A comparison the analyzer refuses: where, and why in words.
#[derive(Debug, PartialEq, Eq)]
pub struct Mistyped {
    pub span: Span,
    pub message: String,
}

/// What a literal is, as far as the rules above go.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Operand {
    Text,
    Number,
}

fn operand(expr: &Expr) -> Option<Operand> {
    match &expr.kind {
        ExprKind::Literal(Literal::String { .. }) => Some(Operand::Text),
        ExprKind::Literal(Literal::Int(_) | Literal::Real(_)) => Some(Operand::Number),
        ExprKind::Paren(inner) => operand(inner),
        _ => None,
    }
}

fn named(operand: Operand) -> &'static str {
    match operand {
        Operand::Text => "a string",
        Operand::Number => "a number",
    }
}

/// Every refused comparison in a predicate; `column_type` gives the type of a name that is a
/// column of the table in force, `None` for any other name.
pub fn mistyped(expr: &Expr, column_type: &dyn Fn(&str) -> Option<ColumnType>, out: &mut Vec<Mistyped>) {
    fn column<'e>(e: &'e Expr, column_type: &dyn Fn(&str) -> Option<ColumnType>) -> Option<(&'e str, ColumnType, Span)> {
        match &e.kind {
            ExprKind::Name(name) => column_type(&name.name).map(|t| (name.name.as_str(), t, e.span)),
            _ => None,
        }
    }
    let column = |e| column(e, column_type);
    match &expr.kind {
        ExprKind::Binary { op: BinaryOp::And | BinaryOp::Or, left, right } => {
            mistyped(left, column_type, out);
            mistyped(right, column_type, out);
        }
        ExprKind::Paren(inner) | ExprKind::Unary { operand: inner, .. } => mistyped(inner, column_type, out),
        ExprKind::Binary { op, left, right } => {
            let (Some((name, ty, span)), Some(value)) = (column(left), operand(right)) else { return };
            let word = match op {
                BinaryOp::Str(op) => Some(spelling(*op)),
                BinaryOp::Lt => Some("<"),
                BinaryOp::Le => Some("<="),
                BinaryOp::Gt => Some(">"),
                BinaryOp::Ge => Some(">="),
                _ => None,
            };
            let refused = match op {
                BinaryOp::Str(_) => string_operator_refuses(ty, value),
                BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => ordering_refuses(ty, value),
                _ => false,
            };
            if let (true, Some(word)) = (refused, word) {
                out.push(refusal(name, ty, word, named(value), span));
            }
        }
        ExprKind::InList { op, left, .. } if op.test != StrTest::In || !op.case_sensitive => {
            if let Some((name, ty @ ColumnType::Number { .. }, span)) = column(left) {
                out.push(refusal(name, ty, spelling(*op), "a list of strings", span));
            }
        }
        ExprKind::Between { negated, left, low, high } => {
            let (Some((name, ty, span)), Some(low)) = (column(left), operand(low)) else { return };
            if operand(high) == Some(low) && ordering_refuses(ty, low) {
                out.push(refusal(name, ty, if *negated { "!between" } else { "between" }, named(low), span));
            }
        }
        _ => {}
    }
}

/// A string operator takes text: refused on a number, datetime or bool column, and with a number
/// on a string column.
fn string_operator_refuses(ty: ColumnType, value: Operand) -> bool {
    match ty {
        ColumnType::Number { .. } | ColumnType::Datetime | ColumnType::Bool => true,
        ColumnType::String => value == Operand::Number,
        _ => false,
    }
}

/// An ordering compares like with like: a number or datetime with a string is refused, and a
/// string with a number.
fn ordering_refuses(ty: ColumnType, value: Operand) -> bool {
    match ty {
        ColumnType::Number { .. } | ColumnType::Datetime => value == Operand::Text,
        ColumnType::String => value == Operand::Number,
        _ => false,
    }
}

fn refusal(column: &str, ty: ColumnType, operator: &str, value: &str, span: Span) -> Mistyped {
    let message = format!(
        "`{operator}` is not defined for `{column}`, a{} {} column, and {value}: Sentinel's analyzer refuses the query",
        if ty == (ColumnType::Number { integral: true }) { "n" } else { "" },
        ty.name()
    );
    Mistyped { span, message }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sentinel::tables;

    /// (predicate on DeviceNetworkEvents, refused): each as Microsoft's analyzer
    /// (`kusto-oracle --schema`) answered it. RemotePort is an int, RemoteIP a string,
    /// Timestamp a datetime.
    const CASES: &[(&str, bool)] = &[
        ("RemotePort in~ (\"80\")", true),
        ("RemotePort has_any (\"80\")", true),
        ("RemotePort has_all (\"8\")", true),
        ("RemotePort !in~ (\"8\")", true),
        ("RemotePort contains \"80\"", true),
        ("RemotePort !contains \"8\"", true),
        ("RemotePort has \"80\"", true),
        ("RemotePort startswith \"80\"", true),
        ("RemotePort hasprefix \"8\"", true),
        ("RemotePort like \"8\"", true),
        ("RemotePort matches regex \"80\"", true),
        ("RemotePort =~ \"80\"", true),
        ("RemotePort > \"80\"", true),
        ("RemotePort >= 80 and LocalPort <= \"9\"", true),
        ("RemoteIP > 80", true),
        ("RemoteIP < 5", true),
        ("RemoteIP contains 80", true),
        ("RemoteIP startswith 1", true),
        ("RemoteIP endswith 5.5", true),
        ("RemoteIP =~ 5", true),
        ("RemoteIP has_cs 5", true),
        ("RemoteIP between (1 .. 5)", true),
        ("RemoteIP !between (1 .. 5)", true),
        ("Timestamp contains \"2020\"", true),
        ("Timestamp > \"2020-01-01\"", true),
        // Accepted: equality and plain `in` convert, text lists take numbers, like with like.
        ("RemotePort == \"80\"", false),
        ("RemotePort != \"80\"", false),
        ("RemotePort in (\"80\", \"443\")", false),
        ("RemotePort !in (\"80\")", false),
        ("RemoteIP == 80", false),
        ("RemoteIP != 80", false),
        ("RemoteIP in (80, 443)", false),
        ("RemoteIP in~ (80)", false),
        ("RemoteIP has_any (80)", false),
        ("RemoteIP in~ (\"a\", 80)", false),
        ("RemotePort > 80 and RemoteIP contains \"10.\"", false),
        ("Timestamp > ago(1d)", false),
    ];

    #[test]
    fn refused_comparisons_are_those_microsofts_analyzer_refuses() {
        let table = tables::table("DeviceNetworkEvents").expect("known table");
        for (predicate, refused) in CASES {
            let query = format!("DeviceNetworkEvents | where {predicate}");
            let parsed = crate::kql::parse(&query);
            assert!(parsed.errors.is_empty(), "{query}: {:?}", parsed.errors);
            let crate::kql::ast::StatementKind::Query(expr) = &parsed.ast.statements[0].kind else { panic!("{query}") };
            let ExprKind::Pipeline { operators, .. } = &expr.kind else { panic!("{query}") };
            let crate::kql::ast::OperatorKind::Where(test) = &operators[0].kind else { panic!("{query}") };
            let mut found = Vec::new();
            mistyped(&test.expr, &|name| table.column(name), &mut found);
            assert_eq!(!found.is_empty(), *refused, "{predicate}: {found:?}");
        }
    }
}
