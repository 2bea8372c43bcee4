//! What a stage acts on, named in its card heading (`where: tests FileName, AccountName`), so
//! that each stage's heading is its own: a diff of a card with a stage moved or inserted
//! aligns the other stages' lines and shows only that stage's.

use crate::kql::ast::{Expr, ExprKind, NamedExpr, OperatorKind};

/// Column names a heading lists at most; more are summed up as `…`.
const NAMES: usize = 4;

/// A phrase for the heading of a run of operators of the first one's kind, or `None` for an
/// operator whose text says it all (`take 10`, `count`). `lets` are the query's let names,
/// which are values, not columns.
pub fn of_operators(kinds: &[&OperatorKind], lets: &[&str]) -> Option<String> {
    let (verb, names): (&str, Vec<String>) = match kinds.first()? {
        OperatorKind::Where(named) => ("tests", referenced(std::slice::from_ref(&named.expr))),
        OperatorKind::Extend(_) => ("makes", kinds.iter().flat_map(|kind| made(kind)).collect()),
        OperatorKind::Project(columns) | OperatorKind::ProjectRename(columns) => ("keeps", made_or_read(columns)),
        OperatorKind::Summarize { by, .. } if !by.is_empty() => ("by", made_or_read(by)),
        OperatorKind::Join { on, .. } | OperatorKind::Lookup { on, .. } => ("on", referenced(on)),
        _ => return None,
    };
    // Kusto spells its bool literals in any case, which parse as names.
    let column = |name: &String| !lets.contains(&name.as_str()) && !["true", "false"].contains(&name.to_ascii_lowercase().as_str());
    phrase(verb, names.into_iter().filter(column).collect())
}

/// The columns an `extend` makes.
fn made(kind: &OperatorKind) -> Vec<String> {
    match kind {
        OperatorKind::Extend(columns) => made_or_read(columns),
        _ => Vec::new(),
    }
}

/// Each column's given name, or the names its expression reads (`project A` names `A`).
fn made_or_read(columns: &[NamedExpr]) -> Vec<String> {
    columns
        .iter()
        .flat_map(|c| match c.names.is_empty() {
            true => referenced(std::slice::from_ref(&c.expr)),
            false => c.names.iter().map(|n| n.name.clone()).collect(),
        })
        .collect()
}

/// The names the expressions read, in order (a function's name is not one).
fn referenced(exprs: &[Expr]) -> Vec<String> {
    let mut names = Vec::new();
    let mut pending: Vec<&Expr> = exprs.iter().rev().collect();
    while let Some(expr) = pending.pop() {
        let parts: Vec<&Expr> = match &expr.kind {
            ExprKind::Name(ident) => {
                names.push(ident.name.clone());
                Vec::new()
            }
            ExprKind::Paren(inner) | ExprKind::Unary { operand: inner, .. } => vec![inner],
            ExprKind::Binary { left, right, .. } => vec![left, right],
            ExprKind::InList { left, items, .. } => std::iter::once(&**left).chain(items).collect(),
            ExprKind::Between { left, low, high, .. } => vec![left, low, high],
            ExprKind::Call { args, .. } => args.iter().map(|a| &a.expr).collect(),
            // `$left.A` of a join names `A`; `D.e` is a path into `D`.
            ExprKind::Member { target, name } => match &target.kind {
                ExprKind::Name(side) if side.name.starts_with('$') => {
                    names.push(name.name.clone());
                    Vec::new()
                }
                _ => vec![target],
            },
            ExprKind::Index { target, .. } => vec![target],
            _ => Vec::new(),
        };
        pending.extend(parts.into_iter().rev());
    }
    names
}

/// `tests A, B` with each name once, at most `NAMES` of them.
fn phrase(verb: &str, names: Vec<String>) -> Option<String> {
    let mut unique: Vec<String> = Vec::new();
    for name in names {
        if !unique.contains(&name) {
            unique.push(name);
        }
    }
    if unique.is_empty() {
        return None;
    }
    let more = if unique.len() > NAMES { ", …" } else { "" };
    unique.truncate(NAMES);
    Some(format!("{verb} {}{more}", unique.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::Query;
    use crate::kql::ast::{ExprKind, StatementKind};

    /// The phrase of each operator of a one-pipeline query.
    fn phrases(query: &str) -> Vec<Option<String>> {
        let query = Query::new(query.into(), Default::default());
        let ast = &query.parsed().ast;
        let Some(StatementKind::Query(expr)) = ast.statements.first().map(|s| &s.kind) else { panic!("a query") };
        let ExprKind::Pipeline { operators, .. } = &expr.kind else { panic!("a pipeline") };
        operators.iter().map(|op| of_operators(&[&op.kind], &["cap"])).collect()
    }

    #[test]
    fn each_operator_names_what_it_acts_on() {
        let query = "T | where A == 1 and tolower(B) in ('x', C) and D.e > 2 | extend N = 1, (P, Q) = f() | project N, R = 2, A \
                     | summarize count() by A, bin(Time, 1h) | join (U) on $left.L == $right.R | take 5 \
                     | where F1 == 1 or F2 == 1 or F3 == 1 or F4 == 1 or F5 == 1 | where G > cap and H == False";
        assert_eq!(
            phrases(query),
            [
                Some("tests A, B, C, D".into()),
                Some("makes N, P, Q".into()),
                Some("keeps N, R, A".into()),
                Some("by A, Time".into()),
                Some("on L, R".into()),
                None,
                Some("tests F1, F2, F3, F4, …".into()),
                Some("tests G, H".into()),
            ]
        );
    }
}
