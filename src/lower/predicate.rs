//! `where` conditions → `Predicate` trees: and/or/not, field tests with resolved values, case
//! sensitivity from the operator, and negation only through `Predicate::Not`.

use super::Lowerer;
use super::columns::{Columns, FieldRef, Fold};
use crate::eval::cidr::Range;
use crate::ir::detection::{Field, Match, MatchOp, Predicate, Quantifier, Value};
use crate::kql::ast::{BinaryOp, Expr, ExprKind, Literal, NamedExpr};
use crate::kql::operators::{StrOp, StrTest};

/// `ipv4_is_private`: the RFC 1918 ranges.
const PRIVATE_IPV4: [&str; 3] = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];

/// Calls that are conditions themselves, so `f(x) == false` negates rather than compares.
const CONDITION_CALLS: &[&str] = &["not", "isempty", "isnotempty", "isnull", "isnotnull", "ipv4_is_private", "ipv4_is_in_range"];

/// A field test before its field is resolved. Tests without a notion of case (numbers, ranges,
/// emptiness) are recorded as case-sensitive: they compare exactly.
struct Test {
    op: MatchOp,
    values: Vec<Value>,
    quantifier: Quantifier,
    case_sensitive: bool,
    /// The test must not hold (`!=`, `!has`, `isnotempty`).
    negated: bool,
}

impl Test {
    fn exact(op: MatchOp, values: Vec<Value>) -> Test {
        Test { op, values, quantifier: Quantifier::Any, case_sensitive: true, negated: false }
    }

    fn negated_if(self, negated: bool) -> Test {
        Test { negated, ..self }
    }
}

impl<'a> Lowerer<'a> {
    pub(super) fn predicate(&mut self, expr: &'a Expr, columns: &Columns, upto: usize) -> Predicate {
        match &expr.kind {
            ExprKind::Paren(inner) => self.predicate(inner, columns, upto),
            ExprKind::Binary { op: BinaryOp::And, left, right } => Predicate::And(self.flatten(left, right, columns, upto, true)),
            ExprKind::Binary { op: BinaryOp::Or, left, right } => Predicate::Or(self.flatten(left, right, columns, upto, false)),
            ExprKind::Binary {
                op: op @ (BinaryOp::Eq | BinaryOp::NotEq | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge),
                left,
                right,
            } => self.comparison(*op, left, right, expr, columns, upto),
            ExprKind::Binary { op: BinaryOp::Str(op), left, right } => {
                self.string_test(*op, left, std::slice::from_ref(right.as_ref()), expr, columns, upto)
            }
            ExprKind::Binary { op: BinaryOp::SearchHas, left, right } => {
                let has = StrOp { test: StrTest::Has, case_sensitive: false, negated: false };
                self.string_test(has, left, std::slice::from_ref(right.as_ref()), expr, columns, upto)
            }
            ExprKind::InList { op, left, items } => self.string_test(*op, left, items, expr, columns, upto),
            ExprKind::Between { negated, left, low, high } => {
                let test = match (self.operand(low, columns, upto), self.operand(high, columns, upto)) {
                    (Some(low), Some(high)) => Test::exact(MatchOp::Between, vec![low, high]).negated_if(*negated),
                    _ => {
                        return self.not_constant(
                            expr,
                            [low.as_ref(), high.as_ref()],
                            upto,
                            "between",
                            "a range bound that is not a constant is not modelled",
                        );
                    }
                };
                self.test(left, test, expr, columns, upto)
            }
            ExprKind::Call { target: None, name, args } => self.condition_call(&name.name, args, expr, columns, upto),
            ExprKind::Literal(Literal::Bool(true)) => Predicate::always(),
            ExprKind::Literal(Literal::Bool(false)) => Predicate::Or(Vec::new()),
            // A boolean column on its own: `where IsAdmin`.
            ExprKind::Name(_) | ExprKind::Member { .. } | ExprKind::Index { .. } => {
                self.test(expr, Test::exact(MatchOp::Equals, vec![Value::Bool(true)]), expr, columns, upto)
            }
            _ => self.opaque(expr, "expression", "a condition lowering cannot express"),
        }
    }

    /// Both sides of an `and` (or `or`) chain as one flat list.
    fn flatten(&mut self, left: &'a Expr, right: &'a Expr, columns: &Columns, upto: usize, and: bool) -> Vec<Predicate> {
        let mut parts = Vec::new();
        for side in [left, right] {
            match (self.predicate(side, columns, upto), and) {
                (Predicate::And(inner), true) | (Predicate::Or(inner), false) => parts.extend(inner),
                (part, _) => parts.push(part),
            }
        }
        parts
    }

    fn condition_call(&mut self, name: &str, args: &'a [NamedExpr], whole: &'a Expr, columns: &Columns, upto: usize) -> Predicate {
        let private = || PRIVATE_IPV4.iter().map(|cidr| Value::String(cidr.to_string())).collect();
        let test = match (name, args) {
            ("not", [arg]) => return Predicate::Not(Box::new(self.predicate(&arg.expr, columns, upto))),
            ("isempty", [_]) => Test::exact(MatchOp::IsEmpty, Vec::new()),
            ("isnotempty", [_]) => Test::exact(MatchOp::IsEmpty, Vec::new()).negated_if(true),
            ("isnull", [_]) => Test::exact(MatchOp::IsNull, Vec::new()),
            ("isnotnull", [_]) => Test::exact(MatchOp::IsNull, Vec::new()).negated_if(true),
            ("ipv4_is_private", [_]) => Test::exact(MatchOp::Cidr, private()),
            ("ipv4_is_in_range", [_, range]) => match self.constant(&range.expr, upto) {
                Some(Value::String(cidr)) if Range::parse(&cidr).is_some_and(|r| r.is_ipv4()) => {
                    Test::exact(MatchOp::Cidr, vec![Value::String(cidr)])
                }
                // Kusto gives null for a range it cannot read: the test never holds, which no
                // target's range test says.
                Some(Value::String(cidr)) => {
                    let reason = format!("`{cidr}` is not an IPv4 range, so the test never holds");
                    return self.opaque(whole, "ipv4_is_in_range()", &reason);
                }
                _ => return self.opaque(whole, "ipv4_is_in_range()", "a range that is not a constant string is not modelled"),
            },
            _ => return self.opaque(whole, &format!("{name}()"), &format!("the condition `{name}()` is not modelled")),
        };
        let Some(first) = args.first() else { return Predicate::always() };
        self.test(&first.expr, test, whole, columns, upto)
    }

    /// `==`, `!=`, `<`...: a field against a constant or another field, either way round;
    /// `cond == false` negates a condition.
    fn comparison(&mut self, op: BinaryOp, left: &'a Expr, right: &'a Expr, whole: &'a Expr, columns: &Columns, upto: usize) -> Predicate {
        if matches!(op, BinaryOp::Eq | BinaryOp::NotEq) {
            for (condition, other) in [(left, right), (right, left)] {
                if let (true, Some(Value::Bool(b))) = (is_condition(condition), self.constant(other, upto)) {
                    let holds = self.predicate(condition, columns, upto);
                    return negate_if(b != (op == BinaryOp::Eq), holds);
                }
            }
        }
        let (field, value, op) = match (self.constant(left, upto), self.constant(right, upto)) {
            (None, Some(value)) => (left, value, op),
            (Some(value), None) => (right, value, mirrored(op)),
            (None, None) => match self.operand(right, columns, upto) {
                Some(field) => (left, field, op),
                None => {
                    return self.not_constant(
                        whole,
                        [left, right],
                        upto,
                        "comparison",
                        "a comparison with a computed value is not modelled",
                    );
                }
            },
            (Some(_), Some(_)) => return self.opaque(whole, "constant comparison", "a comparison of two constants is not modelled"),
        };
        let (match_op, negated) = match op {
            BinaryOp::Eq => (MatchOp::Equals, false),
            BinaryOp::NotEq => (MatchOp::Equals, true),
            BinaryOp::Lt => (MatchOp::Lt, false),
            BinaryOp::Le => (MatchOp::Le, false),
            BinaryOp::Gt => (MatchOp::Gt, false),
            _ => (MatchOp::Ge, false),
        };
        self.test(field, Test::exact(match_op, vec![value]).negated_if(negated), whole, columns, upto)
    }

    /// `=~`, `has`, `!contains_cs`, `in~ (...)`, `has_any (...)`...: meaning from the operator table.
    fn string_test(
        &mut self,
        op: StrOp,
        left: &'a Expr,
        operands: &'a [Expr],
        whole: &'a Expr,
        columns: &Columns,
        upto: usize,
    ) -> Predicate {
        let (match_op, quantifier) = match op.test {
            StrTest::Equals | StrTest::In => (MatchOp::Equals, Quantifier::Any),
            StrTest::Has | StrTest::HasAny => (MatchOp::Has, Quantifier::Any),
            StrTest::HasAll => (MatchOp::Has, Quantifier::All),
            StrTest::HasPrefix => (MatchOp::HasPrefix, Quantifier::Any),
            StrTest::HasSuffix => (MatchOp::HasSuffix, Quantifier::Any),
            StrTest::Contains => (MatchOp::Contains, Quantifier::Any),
            StrTest::StartsWith => (MatchOp::StartsWith, Quantifier::Any),
            StrTest::EndsWith => (MatchOp::EndsWith, Quantifier::Any),
            StrTest::Regex => (MatchOp::Regex, Quantifier::Any),
            StrTest::Like => (MatchOp::Like, Quantifier::Any),
        };
        let values = match (self.constants(operands, upto), operands, op.test.takes_list()) {
            (Some(values), _, _) => values,
            (None, [single], false) => match self.operand(single, columns, upto) {
                Some(value) => vec![value],
                None => return self.opaque(whole, "comparison", "a comparison with a computed value is not modelled"),
            },
            _ => {
                return self.opaque(
                    whole,
                    "list from a query",
                    "a list that is not made of constants (a subquery, a column) is not modelled",
                );
            }
        };
        let test = Test { op: match_op, values, quantifier, case_sensitive: op.case_sensitive, negated: op.negated };
        self.test(left, test, whole, columns, upto)
    }

    /// The test applied to the field `target` reads, seen through case folds when that keeps
    /// the meaning; otherwise the whole condition (`whole`, negation included) is opaque.
    fn test(&mut self, target: &'a Expr, test: Test, whole: &'a Expr, columns: &Columns, upto: usize) -> Predicate {
        let field = match self.field_ref(target, columns, upto) {
            Ok(field) => field,
            Err(not_field) => {
                // A plain name that is no let binding is a column the pipeline computed.
                if let ExprKind::Name(column) = &target.kind
                    && !self.scope.is_bound(&column.name, upto)
                {
                    self.computed_test(Field::column(&column.name), &test, whole);
                }
                return self.opaque(whole, &not_field.construct, &not_field.reason);
            }
        };
        let case_sensitive = match field.fold {
            Fold::Keep => test.case_sensitive,
            // Emptiness and nullness do not depend on case.
            _ if matches!(test.op, MatchOp::IsEmpty | MatchOp::IsNull) => test.case_sensitive,
            fold => match unfold(fold, &test) {
                Ok(()) => false,
                Err(reason) => return self.opaque(whole, if fold == Fold::Lower { "tolower()" } else { "toupper()" }, reason),
            },
        };
        let Test { op, values, quantifier, negated, .. } = test;
        negate_if(negated, Predicate::Match(Match { field: field.field, op, values, quantifier, case_sensitive, span: whole.span }))
    }

    /// Records the test of a computed column that `test` makes opaque (see
    /// `Detection::computed_tests`).
    fn computed_test(&mut self, column: Field, test: &Test, whole: &Expr) {
        let Test { op, values, quantifier, case_sensitive, negated } = test;
        let read = Match {
            field: column,
            op: *op,
            values: values.clone(),
            quantifier: *quantifier,
            case_sensitive: *case_sensitive,
            span: whole.span,
        };
        self.detection.computed_tests.push(negate_if(*negated, Predicate::Match(read)));
    }

    /// A constant, or another field of the same row (`where A == B`).
    fn operand(&self, expr: &'a Expr, columns: &Columns, upto: usize) -> Option<Value> {
        self.constant(expr, upto).or_else(|| match self.field_ref(expr, columns, upto) {
            Ok(FieldRef { field, fold: Fold::Keep }) => Some(Value::Field(field)),
            _ => None,
        })
    }

    /// Opaque, naming a hunting query's time parameter when that is what is not constant.
    fn not_constant(&mut self, whole: &Expr, operands: [&'a Expr; 2], upto: usize, construct: &str, reason: &str) -> Predicate {
        match operands.into_iter().find_map(|operand| self.template_parameter(operand, upto)) {
            Some(parameter) => {
                let reason = format!("`{parameter}` is filled in when the hunting query runs; its value is not known here");
                self.opaque(whole, "hunting time parameter", &reason)
            }
            None => self.opaque(whole, construct, reason),
        }
    }

    pub(super) fn opaque(&mut self, expr: &Expr, construct: &str, reason: &str) -> Predicate {
        self.unmodelled(construct, reason, expr.span);
        Predicate::Opaque { text: self.text_of(expr.span).to_string(), span: expr.span }
    }
}

/// Whether a test of `tolower(x)` (or `toupper`) means the same case-insensitive test of `x`:
/// always for a case-insensitive operator; for a case-sensitive one only when every value is
/// already in the folded case (`tolower(x) == "A"` never matches, so it must not become `=~`).
fn unfold(fold: Fold, test: &Test) -> Result<(), &'static str> {
    let string_test = matches!(
        test.op,
        MatchOp::Equals
            | MatchOp::Contains
            | MatchOp::StartsWith
            | MatchOp::EndsWith
            | MatchOp::Has
            | MatchOp::HasPrefix
            | MatchOp::HasSuffix
    );
    if !string_test || !test.values.iter().all(|v| matches!(v, Value::String(_))) {
        return Err("a case-folded value under this operator is not modelled");
    }
    let folded = |text: &str| match fold {
        Fold::Lower => text.to_lowercase() == text,
        _ => text.to_uppercase() == text,
    };
    let all_folded = test.values.iter().all(|v| matches!(v, Value::String(s) if folded(s)));
    if test.case_sensitive && !all_folded {
        return Err("compared case-sensitively with a value not in the folded case: it never matches as written");
    }
    Ok(())
}

/// The operator with its operands swapped: `5 < x` is `x > 5`.
fn mirrored(op: BinaryOp) -> BinaryOp {
    match op {
        BinaryOp::Lt => BinaryOp::Gt,
        BinaryOp::Le => BinaryOp::Ge,
        BinaryOp::Gt => BinaryOp::Lt,
        BinaryOp::Ge => BinaryOp::Le,
        other => other,
    }
}

fn is_condition(expr: &Expr) -> bool {
    match &expr.kind {
        ExprKind::Paren(inner) => is_condition(inner),
        ExprKind::Call { target: None, name, .. } => CONDITION_CALLS.contains(&name.name.as_str()),
        ExprKind::InList { .. } | ExprKind::Between { .. } => true,
        ExprKind::Binary { op, .. } => !matches!(op, BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod),
        _ => false,
    }
}

fn negate_if(negated: bool, predicate: Predicate) -> Predicate {
    if negated { Predicate::Not(Box::new(predicate)) } else { predicate }
}
