//! The shapes Google's compiler refuses, found on the built rule before it is written: the rule
//! is then refused with the reason, never written broken.
//!
//! - an event variable with no test of its own stands for every UDM event (or for no event
//!   stream at all: a `datatable`, external data or a list joined in);
//! - several event variables must each be joined to the others, directly or through shared
//!   placeholders ("Event variable joins", YARA-L 2.0 language syntax), and grouped by a
//!   `match` section ("required only for rules that link two or more distinct events", match
//!   section syntax).

use super::model::{CmpOp, Expr, FieldRef, Logic, Rule};
use super::names::{EventVar, Var};
use crate::diag::Code;

/// Why the rule cannot be written as YARA-L, if it cannot, with the code saying what is lost.
pub fn refusal(rule: &Rule) -> Option<(Code, String)> {
    if let Some((var, _)) = rule.events.iter().find(|(_, lines)| lines.is_empty()) {
        return Some(if rule.events.len() == 1 {
            (Code::ConditionDropped, format!("nothing of the rule selects events: `{var}` would match every UDM event"))
        } else {
            (
                Code::CorrelationUnsupported,
                format!(
                    "`{var}` has no test: it stands for every UDM event, or for rows that are no event stream (a datatable, external data, a list), which YARA-L cannot join"
                ),
            )
        });
    }
    if rule.events.len() < 2 {
        return None;
    }
    if rule.matching.is_none() {
        return Some((
            Code::CorrelationUnsupported,
            format!("{} event variables and no key to group them by in a `match` section", rule.events.len()),
        ));
    }
    let groups = joined_groups(rule);
    (groups.len() > 1).then(|| {
        let written: Vec<String> = groups.iter().map(|g| g.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", ")).collect();
        (Code::CorrelationUnsupported, format!("the event variables fall into groups no join key ties together: {}", written.join("; ")))
    })
}

/// The event variables in groups tied by shared placeholders (`$e1.… = $p`, `$e2.… = $p`).
fn joined_groups(rule: &Rule) -> Vec<Vec<&EventVar>> {
    let mut groups: Vec<(Vec<&EventVar>, Vec<&str>)> = Vec::new();
    for (var, lines) in &rule.events {
        let mut placeholders = Vec::new();
        lines.iter().for_each(|line| bound_placeholders(line, &mut placeholders));
        let (mut merged_vars, mut merged_placeholders) = (vec![var], placeholders);
        groups.retain(|(vars, held)| {
            let shares = held.iter().any(|p| merged_placeholders.contains(p));
            if shares {
                merged_vars.extend(vars.iter().copied());
                merged_placeholders.extend(held.iter().copied());
            }
            !shares
        });
        groups.push((merged_vars, merged_placeholders));
    }
    groups.into_iter().map(|(vars, _)| vars).collect()
}

/// Placeholders a line binds with `=` outside any `or` or `not` (only those join for sure).
fn bound_placeholders<'r>(line: &'r Expr, out: &mut Vec<&'r str>) {
    match line {
        Expr::Compare { left, op: CmpOp::Eq, right, .. } => {
            for (side, other) in [(left, right), (right, left)] {
                if let (Expr::Var(Var::Placeholder(p)), Expr::Field(FieldRef { .. })) = (&**side, &**other) {
                    out.push(p.name());
                }
            }
        }
        Expr::Group(Logic::And, parts) => parts.iter().for_each(|p| bound_placeholders(p, out)),
        _ => {}
    }
}
