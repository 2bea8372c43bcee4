//! The output columns of rows as operators reshape them, and the names Kusto gives columns.

use crate::glob::glob;
use crate::ir::detection::{Output, Outputs};
use crate::kql::ast::{Expr, ExprKind, Literal};

/// Adds a column, replacing one of the same name (as `extend` does).
pub(super) fn set(outputs: &mut Outputs, output: Output) {
    match outputs.fields.iter_mut().find(|o| o.name == output.name) {
        Some(existing) => *existing = output,
        None => outputs.fields.push(output),
    }
}

/// Adds a column under a name not yet taken: Kusto appends 1, 2... to a repeated name.
/// Returns the name it got.
pub(super) fn add_unique(outputs: &mut Outputs, mut output: Output) -> String {
    let base = output.name.clone();
    let mut n = 0;
    while outputs.fields.iter().any(|o| o.name == output.name) {
        n += 1;
        output.name = format!("{base}{n}");
    }
    let name = output.name.clone();
    outputs.fields.push(output);
    name
}

/// Drops the columns a name or `*` pattern matches (`project-away`).
pub(super) fn remove_matching(outputs: &mut Outputs, pattern: &str) {
    outputs.fields.retain(|o| !glob(pattern, &o.name));
}

/// Keeps only the columns some pattern matches (`project-keep`).
pub(super) fn keep_matching(outputs: &mut Outputs, patterns: &[String]) {
    outputs.fields.retain(|o| patterns.iter().any(|p| glob(p, &o.name)));
    outputs.all_columns = outputs.all_columns && patterns.iter().any(|p| p.contains('*'));
}

/// The column name Kusto derives from an expression: `A` for `A`, `P_a` for `P.a` or
/// `P["a"]`; empty for anything computed.
pub(super) fn column_name(expr: &Expr) -> String {
    match &expr.kind {
        ExprKind::Name(name) => name.name.clone(),
        ExprKind::Paren(inner) => column_name(inner),
        ExprKind::Member { target, name } => joined(column_name(target), &name.name),
        ExprKind::Index { target, index } => match &index.kind {
            ExprKind::Literal(Literal::String { value, .. }) => joined(column_name(target), value),
            _ => String::new(),
        },
        _ => String::new(),
    }
}

fn joined(base: String, step: &str) -> String {
    if base.is_empty() { base } else { format!("{base}_{step}") }
}

/// The name of the column a pattern or name in `project-away`/`project-keep` designates.
pub(super) fn pattern_text(expr: &Expr) -> Option<String> {
    match &expr.kind {
        ExprKind::Pattern(pattern) => Some(pattern.clone()),
        _ => Some(column_name(expr)).filter(|name| !name.is_empty()),
    }
}
