//! What a column name means while lowering a pipeline: an event field (renamed, case-folded)
//! or something computed that predicates cannot see through.

use super::Lowerer;
use crate::ir::detection::Field;
use crate::kql::ast::{Expr, ExprKind, Literal, UnaryOp};

/// A case fold applied to a field (`tolower(x)`, `toupper(x)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Fold {
    Keep,
    Lower,
    Upper,
}

/// A field of the input rows, as a column expression reads it.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct FieldRef {
    pub field: Field,
    pub fold: Fold,
}

/// Why an expression is not a field: the construct in the way and what it means.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct NotField {
    pub construct: String,
    pub reason: String,
}

impl NotField {
    fn new(construct: impl Into<String>, reason: impl Into<String>) -> NotField {
        NotField { construct: construct.into(), reason: reason.into() }
    }
}

/// The columns an operator chain defined so far, by name (later definitions win).
#[derive(Clone, Debug, Default)]
pub(super) struct Columns {
    named: Vec<(String, Result<FieldRef, NotField>)>,
    /// Set after an unmodelled operator that makes columns lowering cannot name (`evaluate`):
    /// any name not listed may be one of them.
    unknown_after: Option<NotField>,
}

impl Columns {
    pub fn define(&mut self, name: &str, meaning: Result<FieldRef, NotField>) {
        self.named.push((name.to_string(), meaning));
    }

    /// Whether an earlier definition reads the input field `name` (a rename of it, a path into it).
    pub fn reads(&self, name: &str) -> bool {
        self.named.iter().any(|(_, meaning)| matches!(meaning, Ok(FieldRef { field, .. }) if field.name == name))
    }

    /// Marks every name not defined from here on as possibly made by `construct`.
    pub fn make_unknown(&mut self, construct: &str) {
        let reason = format!("columns after `{construct}` may be made by it, which is not modelled");
        self.unknown_after = Some(NotField::new(construct, reason));
    }

    /// What a column name reads: an earlier definition, else the input field of that name.
    pub fn field_named(&self, name: &str) -> Result<FieldRef, NotField> {
        match (self.named.iter().rev().find(|(defined, _)| defined == name), &self.unknown_after) {
            (Some((_, meaning)), _) => meaning.clone(),
            (None, Some(unknown)) => Err(unknown.clone()),
            (None, None) => Ok(FieldRef { field: Field::column(name), fold: Fold::Keep }),
        }
    }
}

impl<'a> Lowerer<'a> {
    /// The field an expression reads: a column, a path into a dynamic column (`P.a`, `P["a"]`,
    /// `P[0]` as the step `[0]`), or either through `tolower`/`toupper`/`tostring`/`parse_json`,
    /// `column_ifexists` and earlier renames.
    pub(super) fn field_ref(&self, expr: &'a Expr, columns: &Columns, upto: usize) -> Result<FieldRef, NotField> {
        match &expr.kind {
            ExprKind::Paren(inner) => self.field_ref(inner, columns, upto),
            ExprKind::Name(name) => {
                if self.scope.is_bound(&name.name, upto) || self.constant(expr, upto).is_some() {
                    return Err(NotField::new("let value", format!("`{}` is a let binding, not a column", name.name)));
                }
                columns.field_named(&name.name)
            }
            ExprKind::Member { target, name } => self.path_step(target, &name.name, columns, upto),
            ExprKind::Index { target, index } => match &index.kind {
                ExprKind::Literal(Literal::String { value, .. }) => self.path_step(target, value, columns, upto),
                ExprKind::Literal(Literal::Int(n)) => self.path_step(target, &format!("[{n}]"), columns, upto),
                ExprKind::Unary { op: UnaryOp::Neg, operand } if matches!(operand.kind, ExprKind::Literal(Literal::Int(_))) => {
                    self.path_step(target, &format!("[{}]", self.text_of(index.span).replace(' ', "")), columns, upto)
                }
                _ => Err(NotField::new("index", "a computed key or index is not modelled as a field path")),
            },
            // Assumes the column exists, as a deployed rule's table has it.
            ExprKind::Call { target: None, name, args }
                if matches!(name.name.as_str(), "column_ifexists" | "columnifexists") && args.len() == 2 =>
            {
                match &args[0].expr.kind {
                    ExprKind::Literal(Literal::String { value, .. }) => columns.field_named(value),
                    _ => Err(NotField::new("column_ifexists()", "a column named by a computed value")),
                }
            }
            ExprKind::Call { target: None, name, args } if args.len() == 1 && args[0].names.is_empty() => {
                let fold = match name.name.as_str() {
                    "tolower" => Fold::Lower,
                    "toupper" => Fold::Upper,
                    // A path into `parse_json(x)` is a path into x's JSON value, whether x is a dynamic
                    // column or a string holding JSON: the evaluator reads paths that way.
                    "tostring" | "parse_json" | "todynamic" | "parsejson" => Fold::Keep,
                    other => return Err(NotField::new(format!("{other}()"), format!("the value `{other}()` computes is not modelled"))),
                };
                let inner = self.field_ref(&args[0].expr, columns, upto)?;
                match (inner.fold, fold) {
                    (inner_fold, Fold::Keep) => Ok(FieldRef { fold: inner_fold, ..inner }),
                    (Fold::Keep, fold) => Ok(FieldRef { fold, ..inner }),
                    _ => Err(NotField::new("nested case folds", "a case fold of a case-folded value is not modelled")),
                }
            }
            ExprKind::Call { name, .. } => {
                Err(NotField::new(format!("{}()", name.name), format!("the value `{}()` computes is not modelled", name.name)))
            }
            ExprKind::Star => Err(NotField::new("* (every column)", "a test of every column at once is not modelled as a field test")),
            _ => Err(NotField::new("expression", "a computed value, not a field")),
        }
    }

    fn path_step(&self, target: &'a Expr, step: &str, columns: &Columns, upto: usize) -> Result<FieldRef, NotField> {
        let mut base = self.field_ref(target, columns, upto)?;
        if base.fold != Fold::Keep {
            return Err(NotField::new("case fold", "a path into a case-folded value is not modelled"));
        }
        base.field.path.push(step.to_string());
        Ok(base)
    }
}
