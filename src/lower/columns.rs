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

impl Columns {
    /// Carries one input's definitions into a stage's rows, but for names `shadowed` (another
    /// input's column of that name wins). A rename keeps reading its field when `holds` says the
    /// stage's rows carry that field under its own name; else, when `holds_name` says the rows
    /// carry the renamed column itself (its input lists it, and nothing clashes with it), the
    /// name means that column (the evaluator materializes renames as computed columns, and
    /// targets report conditions on them as losses); otherwise the name is opaque, since no
    /// event field of the stage's rows means it.
    pub fn carry_into(
        &self,
        into: &mut Columns,
        stage: &str,
        shadowed: impl Fn(&str) -> bool,
        holds: impl Fn(&Field) -> bool,
        holds_name: impl Fn(&str) -> bool,
    ) {
        for (name, meaning) in self.named.iter().filter(|(name, _)| !shadowed(name)) {
            let carried = match meaning {
                Ok(read) if holds(&read.field) => Ok(read.clone()),
                Ok(read) if read.fold == Fold::Keep && holds_name(name) => Ok(FieldRef { field: Field::column(name), fold: Fold::Keep }),
                Ok(read) => Err(NotField::new(
                    format!("{stage} column"),
                    format!("`{name}` names `{}` of one input of a {stage}, a field its rows may hold under another name", read.field),
                )),
                Err(not_field) => Err(not_field.clone()),
            };
            into.named.push((name.clone(), carried));
        }
        if into.unknown_after.is_none() {
            into.unknown_after = self.unknown_after.clone();
        }
    }

    /// A union's columns: a name every part reads as the same field keeps that meaning; any
    /// other name a part defined is opaque.
    pub fn union_of(parts: &[&Columns]) -> Columns {
        let mut union = Columns { named: Vec::new(), unknown_after: parts.iter().find_map(|p| p.unknown_after.clone()) };
        for (name, _) in parts.iter().flat_map(|p| &p.named) {
            if union.named.iter().any(|(defined, _)| defined == name) {
                continue;
            }
            let meanings: Vec<Result<FieldRef, NotField>> = parts.iter().map(|p| p.field_named(name)).collect();
            let meaning = match meanings.split_first() {
                Some((first @ Ok(_), rest)) if rest.iter().all(|m| m == first) => first.clone(),
                _ => Err(meanings
                    .into_iter()
                    .find_map(Result::err)
                    .unwrap_or_else(|| NotField::new("union column", format!("`{name}` reads different fields in the parts of a union")))),
            };
            union.named.push((name.clone(), meaning));
        }
        union
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
