//! The output columns of rows as operators reshape them, and the names Kusto gives columns.

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

/// `*` matches any run of characters; everything else matches itself. Greedy with one
/// backtrack point, so it takes time proportional to the lengths, whatever the pattern.
fn glob(pattern: &str, name: &str) -> bool {
    let (pattern, name): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, n));
                p += 1;
            }
            Some(&c) if c == name[n] => {
                p += 1;
                n += 1;
            }
            _ => match star {
                // Let the last `*` take one more character and retry from there.
                Some((star_p, star_n)) => {
                    star = Some((star_p, star_n + 1));
                    p = star_p + 1;
                    n = star_n + 1;
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
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

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn glob_matches_stars_anywhere() {
        assert!(glob("Col*", "Column") && glob("*umn", "Column") && glob("C*l*n", "Column") && glob("Column", "Column"));
        assert!(!glob("Col*x", "Column") && !glob("column", "Column") && !glob("Column", "Col"));
        assert!(glob("*", "") && glob("a**b", "ab") && !glob(&"a*".repeat(30), &"a".repeat(29)));
    }
}
