//! Sigma fields the target holds in another shape than the Sigma rule's source writes them
//! (`targets/kql.yaml`, a field mapped to a transform). Two ways, each generic over its data:
//! - rebuilt: the value as the source writes it is computed from the target's columns in an
//!   `extend` before the rule's `where` (a registry path from key and value name, `DOMAIN\name`
//!   from two columns, a `<Data Name="X">` element of Windows' `EventData` XML), so every test
//!   of the field keeps its Sigma operator and value;
//! - rewritten value by value: a `KEY=value` pair becomes a test of KEY's own column (Sysmon's
//!   `Hashes`), a value the target spells otherwise becomes the target's values (`Initiated:
//!   'true'` → the outbound `ActionType`s).
//!
//! A test with no form on the target's rows is said so: a key without a column is a test that
//! cannot hold there (`false`, with a loss naming it), an operator the rewrite has no meaning
//! for is untranslatable.

use crate::ir::detection::{Match, MatchOp, Quantifier, Value};
use crate::kql::ast::{BinaryOp, Expr, Literal, StrTest, call};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Transform {
    /// `KEY=value,KEY=value` (Sysmon's `Hashes`): KEY → the column holding its value; a key
    /// absent here has no column.
    Pairs(BTreeMap<String, String>),
    /// A full path (Sysmon's `ParentImage`) where the table has only the file's name.
    BaseName(String),
    /// A value → the values `column` holds for it (`"true"` → outbound `ActionType`s).
    Values { column: String, values: BTreeMap<String, Vec<String>> },
    /// A registry path with the value name last, hives abbreviated (Sysmon's `TargetObject`),
    /// from the key and value name columns; `hives`: each way the target writes a hive → how
    /// the source does.
    RegistryPath { key: String, value_name: String, hives: Vec<[String; 2]> },
    /// `DOMAIN\name` from two columns.
    Account { domain: String, name: String },
    /// The `<Data Name="FIELD">` element of an XML column (a Windows event's `EventData`).
    XmlData { column: String },
}

/// A rewritten test, and why a part of it cannot hold on the target's rows.
pub struct Rewritten {
    pub test: Expr,
    pub losses: Vec<String>,
}

impl Transform {
    /// The field's value as the source writes it, computed from the target's columns, for a
    /// transform that rebuilds it.
    pub fn rebuilt(&self, field: &str) -> Option<Expr> {
        match self {
            Transform::Pairs(_) | Transform::Values { .. } | Transform::BaseName(_) => None,
            Transform::RegistryPath { key, value_name, hives } => {
                // Each hive as the target writes it, at the start of the key, as the source does.
                let key = hives.iter().fold(Expr::name(key.as_str()), |key, [target, source]| {
                    let pattern = format!(r"(?i)^{}(\\|$)", regex_escape(target));
                    call("replace_regex", [key, Expr::string(pattern), Expr::string(format!(r"{source}\1"))])
                });
                // Key events have no value name: their path is the key's.
                let value = call(
                    "iff",
                    [
                        call("isempty", [Expr::name(value_name.as_str())]),
                        Expr::string(""),
                        call("strcat", [Expr::string(r"\"), Expr::name(value_name.as_str())]),
                    ],
                );
                Some(call("strcat", [key, value]))
            }
            Transform::Account { domain, name } => Some(call(
                "iff",
                [
                    call("isempty", [Expr::name(name.as_str())]),
                    Expr::string(""),
                    call("strcat", [Expr::name(domain.as_str()), Expr::string(r"\"), Expr::name(name.as_str())]),
                ],
            )),
            Transform::XmlData { column } => {
                let pattern = format!(r#"<Data Name="{}">([^<]*)<"#, regex_escape(field));
                let text = call("extract", [Expr::string(pattern), Expr::int(1), Expr::name(column.as_str())]);
                // XML's predefined entities, `&amp;` last so that `&amp;lt;` stays `&lt;`.
                let entities = [("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&apos;", "'"), ("&amp;", "&")];
                Some(entities.iter().fold(text, |text, (entity, character)| {
                    call("replace_string", [text, Expr::string(*entity), Expr::string(*character)])
                }))
            }
        }
    }

    /// The test rewritten value by value, for a transform that rewrites; `Err` says why it has
    /// no form on the target's rows.
    pub fn rewrite(&self, m: &Match, table: &str) -> Option<Result<Rewritten, String>> {
        match self {
            Transform::Pairs(columns) => Some(pairs(columns, m, table)),
            Transform::Values { column, values } => Some(values_of(column, values, m)),
            Transform::BaseName(column) => Some(base_name(column, m, table)),
            _ => None,
        }
    }
}

/// `Hashes|contains: 'SHA256=AB12'` → `SHA256 startswith "AB12"` (the value follows its key, so
/// a substring `KEY=v` is the key's value starting with `v`; hex digits in any case).
fn pairs(columns: &BTreeMap<String, String>, m: &Match, table: &str) -> Result<Rewritten, String> {
    if m.op != MatchOp::Contains {
        return Err(format!("`{}` {} a value has no form over the per-key columns of {table}", m.field, op_name(m.op)));
    }
    let mut losses = Vec::new();
    let mut tests = Vec::new();
    for value in &m.values {
        let text = text(value).ok_or_else(|| format!("`{}` is compared with a value that is not text", m.field))?;
        let (key, digest) = text
            .split_once('=')
            .filter(|(_, d)| !d.contains([',', '=']))
            .ok_or_else(|| format!("`{}` contains `{text}`, which is not one `KEY=value` pair: no column of {table} holds it", m.field))?;
        match columns.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)) {
            Some((_, column)) => tests.push(Expr::str_op(StrTest::StartsWith, false, Expr::name(column.as_str()), Expr::string(digest))),
            None => {
                losses.push(format!("{table} has no column for the {key} of `{}`: its test for `{text}` is written `false`", m.field));
                tests.push(Expr::literal(Literal::Bool(false)));
            }
        }
    }
    Ok(Rewritten { test: joined(tests, m.quantifier), losses })
}

/// `Initiated: 'true'` → `ActionType in ("ConnectionSuccess", ...)`.
fn values_of(column: &str, values: &BTreeMap<String, Vec<String>>, m: &Match) -> Result<Rewritten, String> {
    if m.op != MatchOp::Equals {
        return Err(format!("`{}` {} a value: only equality has a form over {column}", m.field, op_name(m.op)));
    }
    let mut tests = Vec::new();
    for value in &m.values {
        let spelled = match value {
            Value::String(s) => s.to_ascii_lowercase(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            _ => return Err(format!("`{}` is compared with a value {column} has no counterpart for", m.field)),
        };
        let target = values.get(&spelled).ok_or_else(|| format!("`{}` = `{spelled}` has no counterpart in {column}", m.field))?;
        tests.push(Expr::in_list(true, Expr::name(column), target.iter().map(|v| Expr::string(v.as_str())).collect()));
    }
    Ok(Rewritten { test: joined(tests, m.quantifier), losses: Vec::new() })
}

/// A path test on a column of file names: `endswith "\\x.exe"` is the name `=~ "x.exe"` (a
/// pattern without `\\` ends the name alike); a folder in the pattern cannot be checked (a loss:
/// the test is broader), and a test of the start or middle of the path has no form.
fn base_name(column: &str, m: &Match, table: &str) -> Result<Rewritten, String> {
    let mut losses = Vec::new();
    let mut tests = Vec::new();
    for value in &m.values {
        let path = text(value).ok_or_else(|| format!("`{}` is compared with a value that is not text", m.field))?;
        let (folder, name) = path.rsplit_once('\\').unwrap_or(("", path));
        if name.is_empty() {
            return Err(format!("`{}` `{path}` names a folder: {table} has only the file's name ({column})", m.field));
        }
        let test = match m.op {
            MatchOp::EndsWith if !path.contains('\\') => StrTest::EndsWith,
            MatchOp::EndsWith | MatchOp::Equals => StrTest::Equals,
            _ => {
                return Err(format!(
                    "`{}` {} `{path}`: {table} has only the file's name ({column}), not its folder",
                    m.field,
                    op_name(m.op)
                ));
            }
        };
        if !folder.is_empty() || (m.op == MatchOp::Equals && !path.contains('\\')) {
            losses.push(format!("{table} has only the file's name ({column}): the folder of `{}` `{path}` is not checked", m.field));
        }
        tests.push(Expr::str_op(test, m.case_sensitive, Expr::name(column), Expr::string(name)));
    }
    Ok(Rewritten { test: joined(tests, m.quantifier), losses })
}

fn joined(tests: Vec<Expr>, quantifier: Quantifier) -> Expr {
    let op = if quantifier == Quantifier::All { BinaryOp::And } else { BinaryOp::Or };
    let several = tests.len() > 1;
    match Expr::chain(op, tests) {
        Some(test) if several => Expr::paren(test),
        Some(test) => test,
        None => Expr::literal(Literal::Bool(quantifier == Quantifier::All)),
    }
}

fn text(value: &Value) -> Option<&str> {
    if let Value::String(s) = value { Some(s) } else { None }
}

fn op_name(op: MatchOp) -> &'static str {
    match op {
        MatchOp::Equals => "equal to",
        MatchOp::StartsWith => "starting with",
        MatchOp::EndsWith => "ending with",
        MatchOp::Regex => "matching",
        _ => "tested against",
    }
}

/// `text` matched literally inside an RE2 pattern.
fn regex_escape(text: &str) -> String {
    text.chars().fold(String::new(), |mut out, c| {
        if r"\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::detection::Field;
    use crate::kql::ast::Script;

    fn test(field: &str, op: MatchOp, values: &[&str]) -> Match {
        let values = values.iter().map(|v| Value::String(v.to_string())).collect();
        Match { field: Field::column(field), op, values, quantifier: Quantifier::Any, case_sensitive: false, span: Default::default() }
    }

    fn printed(expr: Expr) -> String {
        crate::kql::print(&Script::query(expr))
    }

    /// The rewritten test printed, with its losses; or why it has no form.
    fn rewritten(transform: &Transform, m: &Match) -> Result<(String, Vec<String>), String> {
        let Rewritten { test, losses } = transform.rewrite(m, "T").expect("a rewriting transform")?;
        Ok((printed(test), losses))
    }

    fn hashes() -> Transform {
        Transform::Pairs([("SHA256", "SHA256"), ("MD5", "MD5")].map(|(k, c)| (k.to_string(), c.to_string())).into())
    }

    #[test]
    fn a_hash_pair_is_a_test_of_its_algorithms_column_and_a_key_without_one_is_a_loss() {
        let m = test("Hashes", MatchOp::Contains, &["SHA256=AB12", "md5=ff00", "IMPHASH=0011"]);
        let (kql, losses) = rewritten(&hashes(), &m).unwrap();
        assert_eq!(kql, r#"(SHA256 startswith "AB12" or MD5 startswith "ff00" or false)"#);
        assert_eq!(losses.len(), 1);
        assert!(losses[0].contains("IMPHASH") && losses[0].contains("IMPHASH=0011"), "{losses:?}");
        // The whole `Hashes` string, or a value that is not one pair, has no column.
        assert!(rewritten(&hashes(), &test("Hashes", MatchOp::Equals, &["SHA256=AB12"])).is_err());
        assert!(rewritten(&hashes(), &test("Hashes", MatchOp::Contains, &["SHA256=AB,MD5=CD"])).is_err());
        assert!(rewritten(&hashes(), &test("Hashes", MatchOp::Contains, &["AB12"])).is_err());
    }

    #[test]
    fn a_value_the_target_spells_otherwise_becomes_the_targets_values() {
        let values = [("true", vec!["Out1", "Out2"]), ("false", vec!["In"])];
        let values = values.into_iter().map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect())).collect();
        let initiated = Transform::Values { column: "ActionType".into(), values };
        let (kql, losses) = rewritten(&initiated, &test("Initiated", MatchOp::Equals, &["True"])).unwrap();
        assert_eq!((kql.as_str(), losses.len()), (r#"ActionType in ("Out1", "Out2")"#, 0));
        assert!(rewritten(&initiated, &test("Initiated", MatchOp::Equals, &["maybe"])).unwrap_err().contains("maybe"));
        assert!(rewritten(&initiated, &test("Initiated", MatchOp::Contains, &["t"])).is_err());
    }

    #[test]
    fn a_path_test_on_a_file_name_column_tests_the_name_and_says_what_it_cannot_check() {
        let name = Transform::BaseName("ParentFileName".into());
        let (kql, losses) = rewritten(&name, &test("ParentImage", MatchOp::EndsWith, &[r"\cmd.exe", "shell.exe"])).unwrap();
        assert_eq!(kql, r#"(ParentFileName =~ "cmd.exe" or ParentFileName endswith "shell.exe")"#);
        assert!(losses.is_empty(), "{losses:?}");
        let (kql, losses) = rewritten(&name, &test("ParentImage", MatchOp::Equals, &[r"C:\Windows\explorer.exe"])).unwrap();
        assert_eq!(kql, r#"ParentFileName =~ "explorer.exe""#);
        assert!(losses[0].contains(r"C:\Windows\explorer.exe"), "{losses:?}");
        for (op, value) in [(MatchOp::Contains, r"\Temp\"), (MatchOp::StartsWith, r"C:\"), (MatchOp::EndsWith, r"\Temp\")] {
            assert!(rewritten(&name, &test("ParentImage", op, &[value])).is_err(), "{op:?} {value}");
        }
    }

    #[test]
    fn rebuilt_fields_are_written_as_the_source_writes_them() {
        let hives = vec![["HKEY_LOCAL_MACHINE".to_string(), "HKLM".to_string()]];
        let registry = Transform::RegistryPath { key: "RegistryKey".into(), value_name: "RegistryValueName".into(), hives };
        assert_eq!(
            printed(registry.rebuilt("TargetObject").unwrap()),
            r#"strcat(replace_regex(RegistryKey, "(?i)^HKEY_LOCAL_MACHINE(\\\\|$)", "HKLM\\1"), iff(isempty(RegistryValueName), "", strcat("\\", RegistryValueName)))"#
        );
        let account = Transform::Account { domain: "AccountDomain".into(), name: "AccountName".into() };
        assert_eq!(printed(account.rebuilt("User").unwrap()), r#"iff(isempty(AccountName), "", strcat(AccountDomain, "\\", AccountName))"#);
        let xml = printed(Transform::XmlData { column: "EventData".into() }.rebuilt("Image.Path").unwrap());
        assert!(xml.contains(r#"extract("<Data Name=\"Image\\.Path\">([^<]*)<", 1, EventData)"#), "{xml}");
        // `&amp;` is unescaped last, so that an escaped entity stays one.
        assert!(xml.starts_with(r#"replace_string(replace_string("#) && xml.ends_with(r#""&amp;", "&")"#), "{xml}");
        assert!(hashes().rebuilt("Hashes").is_none());
    }
}
