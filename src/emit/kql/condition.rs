//! Predicates → KQL conditions (syntax trees), over the columns of one table.
//!
//! Operators keep Sigma's meaning: case-insensitive equality is `=~`/`in~`, substrings are
//! `contains`/`startswith`/`endswith` (never `has`, whose term rules differ), `_cs` forms and
//! `==`/`in` when a value is cased. A case-insensitive regex gets `(?i)`. Sigma's `null` and
//! `exists` are `isempty`/`isnotempty`: Kusto keeps an absent string as `""`, so `isnull`
//! would never hold for a string column; that an empty value matches too is a loss (see
//! `null_test_losses`). Parentheses are `Paren` nodes where the condition groups, so the
//! printed query shows each group as Sigma wrote it.
//!
//! A field written as a column its table does not have (`schema::lacks_column`) is absent
//! from every row, so its test is what Sigma makes of a missing field: a `null` test holds,
//! any other does not (negation applies after). The query then names no such column, which
//! Microsoft's analyzer would refuse; constants are folded away (`fold`), and the schema check
//! reports the field (`unknown-field`).

use super::profile::{Entry, Profile, Scope};
use super::schema;
use super::transform::Transform;
use crate::diag::Code;
use crate::ir::detection::{Field, Match, MatchOp, Predicate, Quantifier, Value};
use crate::kql::Span;
use crate::kql::ast::{BinaryOp, Expr, ExprKind, Literal, StrTest, call};
use crate::sentinel::tables::ColumnType;
use std::borrow::Cow;
use std::cell::RefCell;

/// Writes conditions on the columns of a scope's table as `profile` names them.
pub struct Columns<'a> {
    pub profile: &'a Profile,
    pub table: &'a str,
    scope: Scope<'a>,
    /// Why a rewritten test cannot hold on the table's rows, where it was written anyway.
    losses: RefCell<Vec<(Span, Code, String)>>,
}

/// Why a predicate has no KQL form, and where.
pub struct Untranslatable {
    pub at: usize,
    pub reason: String,
}

impl<'a> Columns<'a> {
    /// The columns of a table read as no logsource in particular (a correlation's own rows).
    pub fn new(profile: &'a Profile, table: &'a str) -> Self {
        Columns::of_scope(profile, Scope::table(table))
    }

    /// The columns of a profile entry's table as its events name them, XML fields included.
    pub fn of_entry(profile: &'a Profile, entry: &'a Entry) -> Self {
        Columns::of_scope(profile, entry.scope())
    }

    fn of_scope(profile: &'a Profile, scope: Scope<'a>) -> Self {
        Columns { profile, table: scope.table, scope, losses: RefCell::default() }
    }

    /// The losses of the tests written so far, taken.
    pub fn take_losses(&self) -> Vec<(Span, Code, String)> {
        self.losses.take()
    }

    /// The field's transform on this table, if it has one.
    pub fn transform(&self, field: &Field) -> Option<Cow<'a, Transform>> {
        self.profile.transform(self.scope, field)
    }

    pub fn predicate(&self, predicate: &Predicate) -> Result<Expr, Untranslatable> {
        Ok(match predicate {
            Predicate::And(parts) => self.joined(parts, BinaryOp::And)?,
            Predicate::Or(parts) => self.joined(parts, BinaryOp::Or)?,
            Predicate::Not(inner) => {
                let inner = self.predicate(inner)?;
                match constant(&inner) {
                    Some(holds) => truth(!holds),
                    None => call("not", [inner]),
                }
            }
            Predicate::Match(m) => self.test(m)?,
            Predicate::Opaque { text, span } => {
                return Err(Untranslatable { at: span.start, reason: format!("`{text}` has no KQL translation") });
            }
        })
    }

    /// The parts in parentheses, constants folded (`fold`).
    fn joined(&self, parts: &[Predicate], op: BinaryOp) -> Result<Expr, Untranslatable> {
        let parts: Vec<Expr> = parts.iter().map(|p| self.predicate(p)).collect::<Result<_, _>>()?;
        Ok(fold(op, parts).map_or_else(truth, |(joined, _)| Expr::paren(joined)))
    }

    /// Whether the field, written as `mapped`, is absent from the table's rows: the table is
    /// known and lacks that column, and no transform rebuilds or rewrites the field.
    fn absent(&self, field: &Field, mapped: &str) -> bool {
        self.transform(field).is_none() && schema::lacks_column(self.table, mapped, field)
    }

    /// Whether a column the field is written as is absent from the table's rows.
    fn any_absent(&self, field: &Field) -> bool {
        self.profile.columns(self.scope, &field.name).into_iter().any(|mapped| self.absent(field, mapped))
    }

    /// The fields `filter` tests or compares with that are absent from the table's rows, once each.
    pub fn absent_fields(&self, filter: &Predicate) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for m in filter.matches() {
            for field in std::iter::once(&m.field).chain(compared(m)) {
                if self.any_absent(field) && !names.contains(&field.name) {
                    names.push(field.name.clone());
                }
            }
        }
        names
    }

    /// The field's column (or a path inside a dynamic column) by the profile's name for it;
    /// the first where it stands for several.
    pub fn column(&self, field: &Field) -> Expr {
        self.columns(field).swap_remove(0)
    }

    /// The field's column name when it is a whole column, not a path into a dynamic one (what a
    /// join key must be); the first where it stands for several.
    pub fn whole_column<'b>(&'b self, field: &'b Field) -> Option<&'b str> {
        let mapped = self.profile.columns(self.scope, &field.name)[0];
        (field.path.is_empty() && (schema::is_one_name(self.table, mapped, field) || !mapped.contains('.'))).then_some(mapped)
    }

    fn columns(&self, field: &Field) -> Vec<Expr> {
        let mapped = self.profile.columns(self.scope, &field.name);
        mapped
            .into_iter()
            .map(|mapped| {
                // A dotted path reads into a dynamic column; an unmapped Sigma name stays one name.
                let mut out = if schema::is_one_name(self.table, mapped, field) {
                    Expr::name(mapped)
                } else {
                    let mut steps = mapped.split('.');
                    let out = Expr::name(steps.next().unwrap_or(mapped));
                    steps.fold(out, |out, step| out.index(Expr::string(step)))
                };
                for step in &field.path {
                    out = out.index(path_step(step));
                }
                out
            })
            .collect()
    }

    /// A test on each of the field's columns, its values typed as the column is; any may hold.
    /// A field rewritten value by value is tested on the columns its values name.
    fn test(&self, m: &Match) -> Result<Expr, Untranslatable> {
        // An unmapped dotted Sigma name read as a path into a dynamic column: the profile does
        // not say the column holds an object with that key (it may hold an array of them).
        let inferred = self
            .profile
            .columns(self.scope, &m.field.name)
            .into_iter()
            .find(|mapped| *mapped == m.field.name && mapped.contains('.') && !schema::is_one_name(self.table, mapped, &m.field));
        if let Some(path) = inferred {
            let message = format!(
                "`{path}` is read as a path into the dynamic column `{}` of {}: found only where the column holds an object with that key",
                path.split('.').next().unwrap_or(path),
                self.table
            );
            self.losses.borrow_mut().push((m.span, Code::DynamicPath, message));
        }
        let transform = self.transform(&m.field);
        if let Some(loss) = transform.as_deref().and_then(|t| t.rebuilt_loss(&m.field.name, self.table)) {
            self.losses.borrow_mut().push((m.span, Code::ConditionDropped, loss));
        }
        if let Some(rewritten) = transform.and_then(|t| t.rewrite(m, self.table)) {
            let rewritten = rewritten.map_err(|reason| Untranslatable { at: m.span.start, reason })?;
            self.losses.borrow_mut().extend(rewritten.losses.into_iter().map(|loss| (m.span, Code::ConditionDropped, loss)));
            let plain = match rewritten.plain {
                Some((column, values)) => {
                    let column_type = schema::whole_column_type(self.table, &column, &Field::column(column.as_str()));
                    Some(self.test_on(&Expr::name(column.as_str()), column_type, &Match { values, ..m.clone() })?)
                }
                None => None,
            };
            return group(rewritten.test.into_iter().chain(plain).collect(), m.quantifier, m);
        }
        // A value test against a field the rows lack (`|fieldref`) never holds either.
        let compared_absent = compared(m).any(|other| self.any_absent(other));
        let mapped = self.profile.columns(self.scope, &m.field.name);
        let tests = self.columns(&m.field).into_iter().zip(mapped).map(|(column, mapped)| {
            if self.absent(&m.field, mapped) || compared_absent {
                // Sigma: a missing field matches `null` and no value.
                return Ok(truth(matches!(m.op, MatchOp::IsNull | MatchOp::IsEmpty)));
            }
            self.test_on(&column, schema::whole_column_type(self.table, mapped, &m.field), m)
        });
        group(tests.collect::<Result<_, _>>()?, Quantifier::Any, m)
    }

    fn test_on(&self, column: &Expr, column_type: Option<ColumnType>, m: &Match) -> Result<Expr, Untranslatable> {
        let untranslatable = |reason: String| Untranslatable { at: m.span.start, reason };
        let typed = schema::typed(column_type, m);
        let cs = m.case_sensitive || typed.caseless;
        let column = &typed.column(column);
        // Numbers among texts are compared as text: the column is a string (`0` or `"DWORD (0)"`).
        let texts = typed.values.iter().any(|v| matches!(v, Value::String(_)));
        let value = |v: &Value| match v {
            Value::Int(i) if texts => Ok(Expr::string(i.to_string())),
            other => self.value(other),
        };
        // Regex and range tests write their values themselves (a regex escapes what a string cannot hold).
        let values: Vec<Expr> = match m.op {
            MatchOp::Regex | MatchOp::Cidr => Vec::new(),
            _ => typed.values.iter().map(value).collect::<Result<_, _>>().map_err(untranslatable)?,
        };
        // The test against each value, grouped as the match's quantifier says.
        let each =
            |test: &dyn Fn(Expr, Expr) -> Expr| group(values.iter().map(|v| test(column.clone(), v.clone())).collect(), m.quantifier, m);
        let string_test = |test: StrTest| each(&|c, v| Expr::str_op(test, cs, c, v));
        let compare = |op: BinaryOp| each(&|c, v| Expr::binary(op, c, v));
        match m.op {
            MatchOp::Equals if values.len() > 1 && m.quantifier == Quantifier::Any => {
                Ok(Expr::in_list(!texts || cs, column.clone(), values))
            }
            MatchOp::Equals => {
                let insensitive = !cs && (texts || typed.values.iter().all(|v| matches!(v, Value::Field(_))));
                if insensitive { each(&|c, v| Expr::str_op(StrTest::Equals, false, c, v)) } else { compare(BinaryOp::Eq) }
            }
            MatchOp::Contains => string_test(StrTest::Contains),
            MatchOp::StartsWith => string_test(StrTest::StartsWith),
            MatchOp::EndsWith => string_test(StrTest::EndsWith),
            MatchOp::Has => string_test(StrTest::Has),
            MatchOp::HasPrefix => string_test(StrTest::HasPrefix),
            MatchOp::HasSuffix => string_test(StrTest::HasSuffix),
            MatchOp::Regex => {
                let patterns: Vec<Expr> = typed.values.iter().map(|v| regex(v, cs)).collect::<Result<_, _>>().map_err(untranslatable)?;
                group(patterns.into_iter().map(|p| Expr::str_op(StrTest::Regex, true, column.clone(), p)).collect(), m.quantifier, m)
            }
            MatchOp::Cidr => {
                let tests: Vec<Expr> = typed
                    .values
                    .iter()
                    .map(|v| {
                        let range = text_of(v).ok_or_else(|| untranslatable("a CIDR range that is not text".into()))?;
                        let function = if range.contains(':') { "ipv6_is_in_range" } else { "ipv4_is_in_range" };
                        Ok(call(function, [column.clone(), Expr::string(range)]))
                    })
                    .collect::<Result<_, _>>()?;
                group(tests, m.quantifier, m)
            }
            MatchOp::IsEmpty | MatchOp::IsNull => Ok(call("isempty", [column.clone()])),
            MatchOp::Lt => compare(BinaryOp::Lt),
            MatchOp::Le => compare(BinaryOp::Le),
            MatchOp::Gt => compare(BinaryOp::Gt),
            MatchOp::Ge => compare(BinaryOp::Ge),
            MatchOp::Between => match <[Expr; 2]>::try_from(values) {
                Ok([low, high]) => Ok(Expr::between(column.clone(), low, high)),
                Err(_) => Err(untranslatable("a range without two bounds".into())),
            },
            MatchOp::Like => Err(untranslatable("a SQL `like` pattern has no KQL operator".into())),
        }
    }

    fn value(&self, value: &Value) -> Result<Expr, String> {
        Ok(match value {
            Value::Null => Expr::dynamic_null(),
            Value::Bool(b) => Expr::literal(Literal::Bool(*b)),
            Value::Int(i) => Expr::int(*i),
            Value::Real(r) => Expr::typed("real", r.to_string()),
            Value::String(s) => match crate::kql::unwritable_char(s) {
                Some(c) => return Err(unwritable(c)),
                None => Expr::string(s.as_str()),
            },
            Value::Datetime(d) => Expr::typed("datetime", d.as_str()),
            Value::Field(f) => self.column(f),
            Value::Timespan(_) | Value::Ago(_) | Value::Now => return Err("a time value in a Sigma condition".into()),
        })
    }
}

/// The fields a test compares its field with (Sigma's `|fieldref`).
fn compared(m: &Match) -> impl Iterator<Item = &Field> {
    m.values.iter().filter_map(|v| if let Value::Field(f) = v { Some(f) } else { None })
}

/// One test as it is; several in parentheses, joined as the quantifier says, constants folded.
fn group(tests: Vec<Expr>, quantifier: Quantifier, m: &Match) -> Result<Expr, Untranslatable> {
    if tests.is_empty() {
        return Err(Untranslatable { at: m.span.start, reason: format!("`{}` is tested against no value", m.field) });
    }
    let op = if quantifier == Quantifier::All { BinaryOp::And } else { BinaryOp::Or };
    Ok(fold(op, tests).map_or_else(truth, |(joined, several)| if several { Expr::paren(joined) } else { joined }))
}

/// `parts` joined by `op` (`and`/`or`) with constants folded: a part that decides the whole
/// (`false` in an `and`, `true` in an `or`) makes it that constant (`Err`); the others are left
/// out, and with none left an `and` holds and an `or` does not. `Ok`: the join, and whether it
/// joins several parts.
fn fold(op: BinaryOp, parts: Vec<Expr>) -> Result<(Expr, bool), bool> {
    let decides = op == BinaryOp::Or;
    let mut kept = Vec::new();
    for part in parts {
        match constant(&part) {
            Some(holds) if holds == decides => return Err(holds),
            Some(_) => {}
            None => kept.push(part),
        }
    }
    let several = kept.len() > 1;
    Expr::chain(op, kept).map(|joined| (joined, several)).ok_or(!decides)
}

/// The value of a condition that is a constant (`true`, `false`).
pub fn constant(condition: &Expr) -> Option<bool> {
    if let ExprKind::Literal(Literal::Bool(holds)) = condition.kind { Some(holds) } else { None }
}

fn truth(holds: bool) -> Expr {
    Expr::literal(Literal::Bool(holds))
}

/// A step of a field's path: an index `[n]`, else a key.
fn path_step(step: &str) -> Expr {
    match step.strip_prefix('[').and_then(|s| s.strip_suffix(']')).and_then(|n| n.parse().ok()) {
        Some(index) => Expr::int(index),
        None => Expr::string(step),
    }
}

fn text_of(value: &Value) -> Option<&str> {
    if let Value::String(s) = value { Some(s) } else { None }
}

/// A regex literal; RE2 is case-sensitive unless told.
fn regex(value: &Value, case_sensitive: bool) -> Result<Expr, String> {
    let pattern = text_of(value).ok_or("a regex that is not text")?;
    // A control character no string escape writes is written as RE2's escape of it, which
    // matches the same character (RE2 syntax: `\x{10FFFF}` hex character code).
    let pattern: String =
        pattern.chars().map(|c| if crate::kql::is_unwritable(c) { format!("\\x{{{:x}}}", c as u32) } else { c.to_string() }).collect();
    Ok(Expr::string(if case_sensitive { pattern } else { format!("(?i){pattern}") }))
}

/// Why a text value holding `c` has no KQL literal.
fn unwritable(c: char) -> String {
    format!("the value holds U+{:04X}, a control character a KQL string cannot hold (Kusto documents no escape for it)", c as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kql::ast::Script;

    fn test(field: Field, op: MatchOp, values: Vec<Value>, case_sensitive: bool) -> Predicate {
        Predicate::Match(Match { field, op, values, quantifier: Quantifier::Any, case_sensitive, span: Default::default() })
    }

    fn text(value: &str) -> Value {
        Value::String(value.to_string())
    }

    fn printed(table: &str, predicate: &Predicate) -> String {
        let (_, profile) = super::super::profile::named(None).unwrap();
        let Ok(condition) = Columns::new(&profile, table).predicate(predicate) else { panic!("{predicate:?}") };
        crate::kql::print(&Script::query(condition))
    }

    #[test]
    fn groups_are_parenthesized_as_the_rule_has_them_and_columns_named_by_the_profile() {
        let either = Predicate::Or(vec![
            test(Field::column("CommandLine"), MatchOp::Contains, vec![text("a"), text("b")], false),
            test(Field::column("Image"), MatchOp::Equals, vec![text("x"), Value::Int(5)], false),
        ]);
        assert_eq!(
            printed("DeviceProcessEvents", &Predicate::And(vec![either])),
            r#"(((ProcessCommandLine contains "a" or ProcessCommandLine contains "b") or FolderPath in~ ("x", "5")))"#
        );
        // Odd column names on a table the schema data does not know (so none is absent).
        let not = Predicate::Not(Box::new(test(Field::column("User name"), MatchOp::EndsWith, vec![text(r#"C:\"q""#)], true)));
        let only = Predicate::And(vec![test(Field::column("Count"), MatchOp::Gt, vec![Value::Int(-3)], false)]);
        assert_eq!(
            printed("Custom_CL", &Predicate::And(vec![not, only])),
            r#"(not(["User name"] endswith_cs "C:\\\"q\"") and (Count > -3))"#
        );
        assert_eq!(printed("DeviceProcessEvents", &Predicate::And(Vec::new())), "true");
        assert_eq!(printed("DeviceProcessEvents", &Predicate::Or(Vec::new())), "false");
    }

    #[test]
    fn mapped_paths_and_index_steps_read_into_dynamic_columns() {
        let trust = test(Field::column("DeviceDetail.trusttype"), MatchOp::Equals, vec![Value::Bool(true)], true);
        assert_eq!(printed("SigninLogs", &trust), r#"DeviceDetail["trustType"] == true"#);
        // A Sigma name the profile keeps as it is stays one column, dots and all.
        let kept = test(Field::column("Device.isCompliant"), MatchOp::Equals, vec![Value::Bool(true)], true);
        assert_eq!(printed("Custom_CL", &kept), r#"["Device.isCompliant"] == true"#);
        let field = Field { name: "Targets".into(), path: vec!["[-1]".into(), "name".into()] };
        let named = test(field, MatchOp::StartsWith, vec![text("adm")], false);
        assert_eq!(printed("Custom_CL", &named), r#"Targets[-1]["name"] startswith "adm""#);
    }

    #[test]
    fn a_field_the_table_lacks_is_tested_as_sigma_tests_a_missing_field() {
        // DeviceProcessEvents has no CurrentDirectory column (targets/kql-schemas.tsv).
        let value = || test(Field::column("CurrentDirectory"), MatchOp::Contains, vec![text("temp")], false);
        let null = || test(Field::column("CurrentDirectory"), MatchOp::IsNull, Vec::new(), false);
        let kept = || test(Field::column("CommandLine"), MatchOp::Contains, vec![text("x")], false);
        let not = |p: Predicate| Predicate::Not(Box::new(p));
        // A value test never holds, a null test always does, negation after; constants fold away.
        assert_eq!(printed("DeviceProcessEvents", &value()), "false");
        assert_eq!(printed("DeviceProcessEvents", &null()), "true");
        assert_eq!(printed("DeviceProcessEvents", &not(value())), "true");
        assert_eq!(printed("DeviceProcessEvents", &not(null())), "false");
        let kept_only = r#"(ProcessCommandLine contains "x")"#;
        assert_eq!(printed("DeviceProcessEvents", &Predicate::And(vec![kept(), not(value())])), kept_only);
        assert_eq!(printed("DeviceProcessEvents", &Predicate::Or(vec![kept(), value()])), kept_only);
        assert_eq!(printed("DeviceProcessEvents", &Predicate::And(vec![kept(), value()])), "false");
        assert_eq!(printed("DeviceProcessEvents", &Predicate::Or(vec![kept(), null()])), "true");
        // A field with a transform is no column to look for (Hashes is rewritten to SHA256...).
        let hashes = test(Field::column("Hashes"), MatchOp::Contains, vec![text("SHA256=AB")], false);
        assert_eq!(printed("DeviceProcessEvents", &hashes), r#"SHA256 startswith "AB""#);
        // The fields a condition reads that are absent, for the reason a constant rule gives.
        let (_, profile) = super::super::profile::named(None).unwrap();
        let columns = Columns::new(&profile, "DeviceProcessEvents");
        assert_eq!(columns.absent_fields(&Predicate::And(vec![kept(), value(), null()])), ["CurrentDirectory"]);
        // Compared with a field the rows lack (`|fieldref`), a value test never holds either.
        let fieldref = test(Field::column("CommandLine"), MatchOp::Equals, vec![Value::Field(Field::column("CurrentDirectory"))], false);
        assert_eq!(printed("DeviceProcessEvents", &not(fieldref.clone())), "true");
        assert_eq!(columns.absent_fields(&fieldref), ["CurrentDirectory"]);
    }

    #[test]
    fn a_test_without_values_has_no_kql_form() {
        let none = test(Field::column("Image"), MatchOp::Contains, Vec::new(), false);
        let Err(untranslatable) = Columns::new(&super::super::profile::named(None).unwrap().1, "T").predicate(&none) else {
            panic!("translated")
        };
        assert!(untranslatable.reason.contains("no value"), "{}", untranslatable.reason);
    }
}
