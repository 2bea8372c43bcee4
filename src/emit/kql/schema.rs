//! The KQL written for a Sigma rule, against its tables' schemas (`crate::sentinel::tables`, the
//! data Microsoft's analyzer is given in `kusto-oracle --schema`).
//!
//! - `check`: every column the query reads must be one its table has; one it lacks is an
//!   `unknown-field` loss naming the Sigma field, the column and the table. A table the schema
//!   data does not know (a team's own `_CL` table) is not judged: `Judged` says so.
//! - `typed`: how a test's values are written for the column's type, so that the analyzer
//!   accepts the test (no KS106/KS107) and it keeps Sigma's meaning: numbers compared with a
//!   string column are strings, numeric strings compared with a number are numbers, text tests
//!   on a number, bool or guid read its text (`tostring`); what keeps no meaning is a
//!   `type-mismatch` loss.

use super::Writer;
use super::profile::Scope;
use crate::diag::{Code, Kind, Problem};
use crate::emit::loss_at;
use crate::ir::detection::{Field, Input, Match, MatchOp, Span, Stage, Value};
use crate::kql::ast::{Expr, call};
use crate::sentinel::tables::{self, ColumnType};
use std::borrow::Cow;
use std::collections::BTreeSet;

/// Whether the columns were judged against a schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Judged {
    /// Every table read is in the schema data, and each column read was looked up.
    Checked,
    /// This table is not in the schema data: its columns are not judged.
    UnknownTable(String),
}

/// The column a Sigma field is written as (the first step of a path into a dynamic column), and
/// whether the test reads that column whole (so its type applies to the test).
pub fn root_column<'a>(table: &str, mapped: &'a str, field: &Field) -> (&'a str, bool) {
    let root = if is_one_name(table, mapped, field) { mapped } else { mapped.split('.').next().unwrap_or(mapped) };
    (root, root == mapped && field.path.is_empty())
}

/// Whether the name a field is written as is one column name, dots and all: an unmapped Sigma
/// name, unless it is a path into a dynamic column the table has (`DeviceDetail.isCompliant` on
/// SigninLogs); a mapped dotted name always reads into a dynamic column.
pub fn is_one_name(table: &str, mapped: &str, field: &Field) -> bool {
    let into_dynamic =
        || mapped.split_once('.').is_some_and(|(root, _)| tables::table(table).and_then(|t| t.column(root)) == Some(ColumnType::Dynamic));
    mapped == field.name && !into_dynamic()
}

/// The type of the column a field is written as, when the test reads it whole and the table
/// and column are known.
pub fn whole_column_type(table: &str, mapped: &str, field: &Field) -> Option<ColumnType> {
    let (root, whole) = root_column(table, mapped, field);
    whole.then(|| tables::table(table)?.column(root)).flatten()
}

/// Whether `table` is known to the schema data and lacks the column a field is written as:
/// such a field is absent from every row the query reads.
pub fn lacks_column(table: &str, mapped: &str, field: &Field) -> bool {
    tables::table(table).is_some_and(|schema| schema.column(root_column(table, mapped, field).0).is_none())
}

/// A test's values as written against a column of a known type.
pub struct Typed<'a> {
    pub values: Cow<'a, [Value]>,
    /// The column is read as its text (`tostring(col)`), as a text test on it needs.
    pub as_text: bool,
    /// Why the written test cannot mean what Sigma's does.
    pub mismatch: Option<String>,
    /// Every value is a number written as text, which has no case: compared with `==`.
    pub caseless: bool,
}

impl Typed<'_> {
    /// The column as the test reads it.
    pub fn column(&self, column: &Expr) -> Expr {
        if self.as_text { call("tostring", [column.clone()]) } else { column.clone() }
    }
}

/// How `m`'s values are written against a column of type `kind` (`None`: unknown or dynamic,
/// written as they are).
pub fn typed(kind: Option<ColumnType>, m: &Match) -> Typed<'_> {
    let as_is = Typed { values: Cow::Borrowed(&m.values), as_text: false, mismatch: None, caseless: false };
    // A CIDR test reads the address's text too (`ipv4_is_in_range` takes a string).
    let text_test = m.op.is_text_test() || m.op == MatchOp::Cidr;
    let compares = matches!(m.op, MatchOp::Equals | MatchOp::Lt | MatchOp::Le | MatchOp::Gt | MatchOp::Ge | MatchOp::Between);
    let strings = || m.values.iter().filter_map(text_of);
    match kind {
        None | Some(ColumnType::Dynamic) => as_is,
        // Sigma's values are text: a number compared with a string column is its text.
        Some(ColumnType::String) => {
            let caseless = m.values.iter().all(|v| matches!(v, Value::Int(_) | Value::Real(_)));
            Typed { values: Cow::Owned(m.values.iter().map(as_text).collect()), caseless, ..as_is }
        }
        Some(kind) if text_test => {
            let hex = strings().find(|s| kind == (ColumnType::Number { integral: true }) && s.to_ascii_lowercase().starts_with("0x"));
            let mismatch = match kind {
                ColumnType::Datetime | ColumnType::Timespan => Some(format!(
                    "is a {} column: a text test reads the text Kusto prints for it, which may differ from the source's",
                    kind.name()
                )),
                _ => hex.map(|h| format!("is an integer column, printed in decimal: the hexadecimal `{h}` never matches its text")),
            };
            Typed { values: Cow::Owned(m.values.iter().map(as_text).collect()), as_text: true, mismatch, caseless: false }
        }
        // A guid equals text as Kusto parses it, read as text for the case-insensitive tests.
        Some(ColumnType::Guid) if compares && strings().next().is_some() => {
            Typed { values: Cow::Owned(m.values.iter().map(as_text).collect()), as_text: true, mismatch: None, caseless: false }
        }
        Some(kind) if compares && strings().next().is_some() => {
            let converted: Option<Vec<Value>> = m.values.iter().map(|v| typed_value(kind, v)).collect();
            match converted {
                Some(values) => Typed { values: Cow::Owned(values), ..as_is },
                None => {
                    let text: Vec<&str> = strings().filter(|s| typed_value(kind, &Value::String(s.to_string())).is_none()).collect();
                    let mismatch = format!(
                        "is a {} column, and `{}` is no {} value: compared as text, it never matches",
                        kind.name(),
                        text.join("`, `"),
                        kind.name()
                    );
                    let values = m.values.iter().map(as_text).collect();
                    Typed { values: Cow::Owned(values), as_text: true, mismatch: Some(mismatch), caseless: false }
                }
            }
        }
        Some(_) => as_is,
    }
}

/// A value as text, for a text column or a column read as text.
fn as_text(value: &Value) -> Value {
    match value {
        Value::Int(i) => Value::String(i.to_string()),
        Value::Real(r) => Value::String(r.to_string()),
        Value::Bool(b) => Value::String(b.to_string()),
        other => other.clone(),
    }
}

/// A text value as the column's type stores it, where exactly representable: an integer
/// (decimal or `0x` hexadecimal, as Windows logs print logon ids) for an integral column, a
/// number for a real one, `true`/`false` for a bool. Values that are not text stay as they are.
fn typed_value(kind: ColumnType, value: &Value) -> Option<Value> {
    let Value::String(text) = value else { return Some(value.clone()) };
    let text = text.trim();
    match kind {
        ColumnType::Number { integral } => {
            let hex = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")).filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()));
            let integer = match hex {
                Some(digits) => i64::from_str_radix(digits, 16).ok(),
                None => text.parse::<i64>().ok(),
            };
            match integer {
                Some(i) => Some(Value::Int(i)),
                None if !integral => text.parse::<f64>().ok().filter(|r| r.is_finite()).map(Value::Real),
                None => None,
            }
        }
        ColumnType::Bool => match text.to_ascii_lowercase().as_str() {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        // A time in text would be compared in whatever format it is written.
        _ => None,
    }
}

fn text_of(value: &Value) -> Option<&str> {
    if let Value::String(s) = value { Some(s) } else { None }
}

impl Writer<'_> {
    /// The losses of the columns the query reads that their tables lack or store in another
    /// type, and whether every table was judged.
    pub(super) fn schema_losses(&self) -> (Judged, Vec<Problem>) {
        let detection = self.subject.detection;
        let mut out = Findings { writer: self, judged: Judged::Checked, problems: Vec::new(), seen: BTreeSet::new() };
        for (index, source) in detection.sources.iter().enumerate() {
            // A source without a table has failed the rule already.
            let Ok(entry) = self.entry(index) else { continue };
            let scope = entry.scope();
            for column in entry.equals.keys() {
                out.field(scope, &Field::column(column.as_str()), None, None);
            }
            for m in source.filter.matches() {
                // A field the table holds in another shape is read from the columns its transform names.
                if let Some(transform) = self.profile.transform(scope, &m.field) {
                    for column in transform.columns() {
                        out.field(scope, &Field::column(column), None, Some(m.span));
                    }
                    continue;
                }
                out.field(scope, &m.field, Some(m), Some(m.span));
                for other in m.values.iter().filter_map(|v| if let Value::Field(f) = v { Some(f) } else { None }) {
                    out.field(scope, other, None, Some(m.span));
                }
            }
        }
        for stage in &detection.stages {
            let (input, fields, span): (Input, Vec<&Field>, Span) = match stage {
                Stage::Aggregate(a) => {
                    let keys = a.group_by.iter().map(|k| &k.field);
                    (a.input, keys.chain(a.aggregations.iter().filter_map(|a| a.field.as_ref())).collect(), a.span)
                }
                Stage::Join(join) => {
                    for key in &join.keys {
                        if let Ok(entry) = self.first_entry(join.right) {
                            out.field(entry.scope(), &key.right, None, Some(join.span));
                        }
                    }
                    (join.left, join.keys.iter().map(|k| &k.left).collect(), join.span)
                }
                _ => continue,
            };
            let Ok(entry) = self.first_entry(input) else { continue };
            for field in fields {
                out.field(entry.scope(), field, None, Some(span));
            }
        }
        (out.judged, out.problems)
    }
}

/// What the schema check has found so far.
struct Findings<'a> {
    writer: &'a Writer<'a>,
    judged: Judged,
    problems: Vec<Problem>,
    /// (table, field, column) already reported.
    seen: BTreeSet<(String, String, String)>,
}

impl Findings<'_> {
    /// Looks up each column `field` is written as in the scope's table; `test`, the test reading it; `at`,
    /// where the rule reads it (`None`: a column the profile's logsource entry tests).
    fn field(&mut self, scope: Scope, field: &Field, test: Option<&Match>, at: Option<Span>) {
        let table = scope.table;
        let Some(schema) = tables::table(table) else {
            if self.judged == Judged::Checked {
                self.judged = Judged::UnknownTable(table.to_string());
            }
            return;
        };
        let subject = self.writer.subject;
        for mapped in self.writer.profile.columns(scope, &field.name) {
            let (root, whole) = root_column(table, mapped, field);
            let kind = schema.column(root);
            let problem = match (kind, test) {
                (None, _) => {
                    let how = if root == field.name { "kept as column".to_string() } else { format!("written as column `{root}`") };
                    let mut message = format!("`{}` is {how}, which table `{table}` does not have (targets/kql-schemas.tsv)", field.name);
                    if test.is_some() {
                        // See `condition`: the test is written as on an event without the field.
                        message.push_str(": the field is absent from its rows, so a `null` test of it holds and any other does not");
                    }
                    Some((Code::UnknownField, message))
                }
                (Some(kind), Some(m)) if whole => typed(Some(kind), m)
                    .mismatch
                    .map(|why| (Code::TypeMismatch, format!("`{}` is written as column `{root}` of `{table}`, which {why}", field.name))),
                _ => None,
            };
            let Some((code, message)) = problem else { continue };
            if self.seen.insert((table.to_string(), field.name.clone(), format!("{root}{code:?}"))) {
                self.problems.push(match at {
                    Some(span) => loss_at(subject, code, span, message),
                    None => Problem::at_key(Kind::Loss, code, subject.rule, "logsource", message),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::detection::Quantifier;

    fn test(op: MatchOp, values: Vec<Value>) -> Match {
        Match { field: Field::column("X"), op, values, quantifier: Quantifier::Any, case_sensitive: false, span: Span::default() }
    }

    fn text(s: &str) -> Value {
        Value::String(s.into())
    }

    const LONG: Option<ColumnType> = Some(ColumnType::Number { integral: true });

    #[test]
    fn numbers_compared_with_a_string_column_are_text() {
        let m = test(MatchOp::Equals, vec![Value::Int(0), text("50126")]);
        let typed_text = typed(Some(ColumnType::String), &m);
        assert_eq!(*typed_text.values, [text("0"), text("50126")]);
        assert!(!typed_text.as_text && typed_text.mismatch.is_none() && !typed_text.caseless);
        // Numbers alone have no case: `ResultType == "0"`.
        assert!(typed(Some(ColumnType::String), &test(MatchOp::Equals, vec![Value::Int(0)])).caseless);
    }

    #[test]
    fn numeric_text_compared_with_a_number_column_is_a_number_where_exact() {
        let m = test(MatchOp::Equals, vec![text("0x3e7"), text("4688"), Value::Int(5)]);
        let written = typed(LONG, &m);
        assert_eq!(*written.values, [Value::Int(999), Value::Int(4688), Value::Int(5)]);
        assert!(written.mismatch.is_none() && !written.as_text);
        let over = test(MatchOp::Gt, vec![text("1.5")]);
        let real = typed(Some(ColumnType::Number { integral: false }), &over);
        assert_eq!(*real.values, [Value::Real(1.5)]);
        // No number: compared as text, and said.
        let word = test(MatchOp::Equals, vec![text("SYSTEM"), text("7")]);
        let written = typed(LONG, &word);
        assert!(written.as_text);
        assert!(written.mismatch.as_deref().is_some_and(|m| m.contains("`SYSTEM`") && !m.contains("`7`")), "{:?}", written.mismatch);
        assert!(typed(LONG, &test(MatchOp::Equals, vec![text("1.5")])).mismatch.is_some());
        // `0x` with no hexadecimal digits after it is no number either.
        assert!(typed(LONG, &test(MatchOp::Equals, vec![text("0x-1")])).mismatch.is_some());
    }

    #[test]
    fn text_tests_on_numbers_bools_and_guids_read_their_text() {
        let m = test(MatchOp::StartsWith, vec![Value::Int(80), text("44")]);
        for kind in [LONG, Some(ColumnType::Bool), Some(ColumnType::Guid)] {
            let written = typed(kind, &m);
            assert!(written.as_text && written.mismatch.is_none(), "{kind:?}");
            assert_eq!(*written.values, [text("80"), text("44")]);
        }
        let printed = crate::kql::print(&crate::kql::ast::Script::query(typed(LONG, &m).column(&Expr::name("RemotePort"))));
        assert_eq!(printed, "tostring(RemotePort)");
        // Hexadecimal text inside a decimal number's text, or a time's printed text, is no match.
        assert!(typed(LONG, &test(MatchOp::Contains, vec![text("0x3E7")])).mismatch.is_some());
        assert!(typed(Some(ColumnType::Datetime), &test(MatchOp::Contains, vec![text("2020")])).mismatch.is_some());
    }

    #[test]
    fn bools_take_true_and_false_and_dynamic_or_unknown_columns_are_left_alone() {
        let m = test(MatchOp::Equals, vec![text("True")]);
        assert_eq!(*typed(Some(ColumnType::Bool), &m).values, [Value::Bool(true)]);
        assert!(typed(Some(ColumnType::Bool), &test(MatchOp::Equals, vec![text("yes")])).mismatch.is_some());
        let n = test(MatchOp::Contains, vec![Value::Int(3)]);
        for kind in [None, Some(ColumnType::Dynamic)] {
            let written = typed(kind, &n);
            assert!(!written.as_text && written.mismatch.is_none());
            assert_eq!(*written.values, [Value::Int(3)]);
        }
    }

    #[test]
    fn a_path_into_a_dynamic_column_is_checked_at_its_root() {
        assert_eq!(root_column("SigninLogs", "DeviceDetail.trustType", &Field::column("DeviceDetail.trusttype")), ("DeviceDetail", false));
        assert_eq!(root_column("SigninLogs", "A.b", &Field::column("A.b")), ("A.b", true));
        // An unmapped Sigma name that is a path into one of the table's dynamic columns.
        let unmapped = Field::column("DeviceDetail.isCompliant");
        assert_eq!(root_column("SigninLogs", "DeviceDetail.isCompliant", &unmapped), ("DeviceDetail", false));
        assert!(!lacks_column("SigninLogs", "DeviceDetail.isCompliant", &unmapped));
        assert!(lacks_column("SigninLogs", "Nothing.here", &Field::column("Nothing.here")));
        let path = Field { name: "Targets".into(), path: vec!["name".into()] };
        assert_eq!(root_column("SigninLogs", "Targets", &path), ("Targets", false));
        assert_eq!(whole_column_type("SigninLogs", "ResultType", &Field::column("ResultType")), Some(ColumnType::String));
        assert_eq!(whole_column_type("SigninLogs", "DeviceDetail.x", &Field::column("y")), None);
    }
}
