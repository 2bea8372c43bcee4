//! Computed columns → `Scalar`: the expressions detection rules compute columns with most
//! (`tostring`, `split`, `strcat`, `extract`, `parse_json`, paths and indexes into dynamic
//! values...). Anything else is `None`, and the column stays opaque.

use super::Lowerer;
use super::columns::{Columns, Fold};
use crate::ir::detection::{Scalar, ScalarFunction, Value};
use crate::kql::ast::{Expr, ExprKind, UnaryOp};

impl<'a> Lowerer<'a> {
    /// The `Scalar` an expression computes, reading columns through `columns`.
    pub(super) fn scalar(&self, expr: &'a Expr, columns: &Columns, upto: usize) -> Option<Scalar> {
        if let Some(value) = self.constant(expr, upto) {
            return matches!(value, Value::Null | Value::Bool(_) | Value::Int(_) | Value::Real(_) | Value::String(_))
                .then_some(Scalar::Value(value));
        }
        match &expr.kind {
            ExprKind::Paren(inner) => self.scalar(inner, columns, upto),
            ExprKind::Member { target, name } => Some(path(self.scalar(target, columns, upto)?, name.name.clone())),
            ExprKind::Index { target, index } => {
                let step = match (&index.kind, self.constant(index, upto)?) {
                    (_, Value::String(key)) => key,
                    (ExprKind::Literal(_) | ExprKind::Unary { op: UnaryOp::Neg, .. }, Value::Int(n)) => format!("[{n}]"),
                    _ => return None,
                };
                Some(path(self.scalar(target, columns, upto)?, step))
            }
            ExprKind::Call { target: None, name, args } if args.iter().all(|a| a.names.is_empty()) => {
                match function(&name.name, args.len()) {
                    Some(function) => {
                        let args: Option<Vec<Scalar>> = args.iter().map(|a| self.scalar(&a.expr, columns, upto)).collect();
                        Some(Scalar::Call { function, args: args? })
                    }
                    None => self.field_scalar(expr, columns, upto),
                }
            }
            _ => self.field_scalar(expr, columns, upto),
        }
    }

    /// A column, an earlier definition (renamed, case-folded), `column_ifexists(...)`.
    fn field_scalar(&self, expr: &'a Expr, columns: &Columns, upto: usize) -> Option<Scalar> {
        let field = self.field_ref(expr, columns, upto).ok()?;
        let read = Scalar::Field(field.field);
        Some(match field.fold {
            Fold::Keep => read,
            Fold::Lower => Scalar::Call { function: ScalarFunction::ToLower, args: vec![read] },
            Fold::Upper => Scalar::Call { function: ScalarFunction::ToUpper, args: vec![read] },
        })
    }
}

/// A path step on a scalar, extending a path already there.
fn path(target: Scalar, step: String) -> Scalar {
    match target {
        Scalar::Field(mut field) => {
            field.path.push(step);
            Scalar::Field(field)
        }
        Scalar::Path { target, mut path } => {
            path.push(step);
            Scalar::Path { target, path }
        }
        other => Scalar::Path { target: Box::new(other), path: vec![step] },
    }
}

/// The function a KQL call names, when it takes that many arguments.
fn function(name: &str, arity: usize) -> Option<ScalarFunction> {
    use ScalarFunction::*;
    let (function, arities): (ScalarFunction, &[usize]) = match name {
        "tostring" => (ToString, &[1]),
        "tolower" => (ToLower, &[1]),
        "toupper" => (ToUpper, &[1]),
        "strcat" => (Strcat, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
        "split" => (Split, &[2]),
        "extract" => (Extract, &[3]),
        "parse_json" | "todynamic" | "parsejson" => (ParseJson, &[1]),
        "strlen" => (Strlen, &[1]),
        "substring" => (Substring, &[2, 3]),
        "tolong" | "toint" => (ToLong, &[1]),
        "toreal" | "todouble" => (ToReal, &[1]),
        "isempty" => (IsEmpty, &[1]),
        "isnotempty" => (IsNotEmpty, &[1]),
        "coalesce" => (Coalesce, &[2, 3, 4, 5, 6, 7, 8, 9, 10]),
        "array_length" | "arraylength" => (ArrayLength, &[1]),
        "replace_string" => (ReplaceString, &[3]),
        _ => return None,
    };
    arities.contains(&arity).then_some(function)
}

#[cfg(test)]
mod tests {
    use crate::ir::detection::{Field, Scalar, ScalarFunction};
    use crate::lower::lower_query;

    fn expr_of(query: &str, column: &str) -> Option<Scalar> {
        let detection = lower_query(query);
        detection.sources[0].computed.iter().find(|c| c.name == column).and_then(|c| c.expr.clone())
    }

    #[test]
    fn split_index_and_tostring() {
        let expr = expr_of("T | extend Host = tostring(split(DeviceName, \".\")[-1])", "Host");
        let split = Scalar::Call {
            function: ScalarFunction::Split,
            args: vec![Scalar::Field(Field::column("DeviceName")), Scalar::Value(crate::ir::detection::Value::String(".".into()))],
        };
        let indexed = Scalar::Path { target: Box::new(split), path: vec!["[-1]".into()] };
        assert_eq!(expr, Some(Scalar::Call { function: ScalarFunction::ToString, args: vec![indexed] }));
    }

    #[test]
    fn unknown_functions_and_wrong_arities_stay_opaque() {
        assert_eq!(expr_of("T | extend H = hash_sha256(A)", "H"), None);
        assert_eq!(expr_of("T | extend H = split(A)", "H"), None);
    }
}
