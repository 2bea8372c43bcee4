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
    /// Sysmon's registry `Details` (`DWORD (0x00000001)`, `QWORD (0x00000000-0x00000001)`) where
    /// the target holds the number in decimal in `data` and its type in `value_type`; other
    /// values are held alike.
    RegistryData { data: String, value_type: String },
    /// A value → the values `column` holds for it (`"true"` → outbound `ActionType`s).
    Values { column: String, values: BTreeMap<String, Vec<String>> },
    /// A registry path with the value name last, hives abbreviated (Sysmon's `TargetObject`),
    /// from the key and value name columns; `hives`: each way the target writes a hive → how
    /// the source does.
    RegistryPath {
        key: String,
        value_name: String,
        hives: Vec<[String; 2]>,
        /// How the source names the key's unnamed value, on the rows where the value name is empty.
        unnamed_value: Option<UnnamedValue>,
    },
    /// `DOMAIN\name` from two columns (see `Account`).
    Account(Account),
    /// The `<Data Name="FIELD">` element of an XML column (a Windows event's `EventData`).
    XmlData { column: String },
    /// A field two columns hold case by case: `then` on rows whose `column` is one of `values`,
    /// else `otherwise`; `then: None`: no column holds it on those rows. Sysmon names a
    /// connection's ends by who opened it (its source is the initiator) where Defender names
    /// them by where the sensor sits (local, remote), so a destination is the local end of an
    /// accepted connection; event 4688's new process runs in the target's logon, or in the
    /// creator's where the target is left out.
    Either { column: String, values: Vec<String>, then: Option<String>, otherwise: String },
}

/// An account as the source writes it, `DOMAIN\name`, from the target's domain and name columns.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    pub domain: String,
    pub name: String,
    /// Where the target names the local system account otherwise than the source: the column
    /// of the account's SID, and the source's name for S-1-5-18.
    #[serde(default)]
    pub system: Option<SystemAccount>,
    /// The account to read on rows where this one is not written: its name empty or `-`, as
    /// Windows writes a field it leaves out.
    #[serde(default)]
    pub otherwise: Option<Box<Account>>,
}

/// The local system account (S-1-5-18) as the source names it, found by the SID in `sid`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemAccount {
    pub sid: String,
    #[serde(rename = "as")]
    pub named: String,
}

/// The SID of the local system account (Microsoft's "Well-known SIDs": LocalSystem).
const LOCAL_SYSTEM_SID: &str = "S-1-5-18";

impl Account {
    fn columns(&self) -> Vec<&str> {
        let mut columns = vec![self.domain.as_str(), self.name.as_str()];
        columns.extend(self.system.as_ref().map(|s| s.sid.as_str()));
        columns.extend(self.otherwise.iter().flat_map(|o| o.columns()));
        columns
    }

    fn rebuilt(&self) -> Expr {
        let name = || Expr::name(self.name.as_str());
        let mut account = call("strcat", [Expr::name(self.domain.as_str()), Expr::string(r"\"), name()]);
        if let Some(SystemAccount { sid, named }) = &self.system {
            let system = Expr::binary(BinaryOp::Eq, Expr::name(sid.as_str()), Expr::string(LOCAL_SYSTEM_SID));
            account = call("iff", [system, Expr::string(named.as_str()), account]);
        }
        match &self.otherwise {
            Some(other) => call("iff", [Expr::in_list(true, name(), vec![Expr::string(""), Expr::string("-")]), other.rebuilt(), account]),
            None => call("iff", [call("isempty", [name()]), Expr::string(""), account]),
        }
    }
}

/// The source's name for a key's unnamed (default) value (Sysmon's `(Default)`), written where
/// `column` is one of `values` (the value events) and the target's value name is empty.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnnamedValue {
    pub name: String,
    pub column: String,
    pub values: Vec<String>,
}

/// A rewritten test, and why a part of it cannot hold on the target's rows.
pub struct Rewritten {
    /// The values rewritten, tested; `None` when none is.
    pub test: Option<Expr>,
    /// The values the target holds as the source does, to test as they are on this column.
    pub plain: Option<(String, Vec<Value>)>,
    pub losses: Vec<String>,
}

impl Transform {
    /// The target's columns the transform reads.
    pub fn columns(&self) -> Vec<&str> {
        match self {
            Transform::Pairs(columns) => columns.values().map(String::as_str).collect(),
            Transform::BaseName(column) | Transform::Values { column, .. } | Transform::XmlData { column } => vec![column],
            Transform::RegistryData { data, value_type } => vec![data, value_type],
            Transform::RegistryPath { key, value_name, unnamed_value, .. } => {
                [key.as_str(), value_name.as_str()].into_iter().chain(unnamed_value.as_ref().map(|u| u.column.as_str())).collect()
            }
            Transform::Account(account) => account.columns(),
            Transform::Either { column, then, otherwise, .. } => [column, otherwise].into_iter().chain(then).map(String::as_str).collect(),
        }
    }

    /// Why the rebuilt field is only nearly the source's, for a transform that rebuilds it so.
    pub fn rebuilt_loss(&self, field: &str, table: &str) -> Option<String> {
        match self {
            Transform::Either { column, values, then: None, otherwise } => Some(format!(
                "`{field}` is {otherwise} on {table}'s rows but those whose {column} is {}, where no column holds it \
                 and it is tested as empty",
                values.join(", ")
            )),
            _ => None,
        }
    }

    /// The field's value as the source writes it, computed from the target's columns, for a
    /// transform that rebuilds it.
    pub fn rebuilt(&self, field: &str) -> Option<Expr> {
        match self {
            Transform::Pairs(_) | Transform::Values { .. } | Transform::BaseName(_) | Transform::RegistryData { .. } => None,
            Transform::RegistryPath { key, value_name, hives, unnamed_value } => {
                // Each hive as the target writes it, at the start of the key, as the source does.
                let key = hives.iter().fold(Expr::name(key.as_str()), |key, [target, source]| {
                    let pattern = format!(r"(?i)^{}(\\|$)", regex_escape(target));
                    call("replace_regex", [key, Expr::string(pattern), Expr::string(format!(r"{source}\1"))])
                });
                // Key events have no value name: their path is the key's. A value event without
                // one is about the unnamed value, which the source names.
                let unnamed = match unnamed_value {
                    Some(UnnamedValue { name, column, values }) => call(
                        "iff",
                        [
                            Expr::in_list(true, Expr::name(column.as_str()), values.iter().map(|v| Expr::string(v.as_str())).collect()),
                            Expr::string(format!(r"\{name}")),
                            Expr::string(""),
                        ],
                    ),
                    None => Expr::string(""),
                };
                let value = call(
                    "iff",
                    [
                        call("isempty", [Expr::name(value_name.as_str())]),
                        unnamed,
                        call("strcat", [Expr::string(r"\"), Expr::name(value_name.as_str())]),
                    ],
                );
                Some(call("strcat", [key, value]))
            }
            Transform::Either { column, values, then, otherwise } => {
                let case = Expr::in_list(true, Expr::name(column.as_str()), values.iter().map(|v| Expr::string(v.as_str())).collect());
                let then = then.as_ref().map_or_else(|| Expr::string(""), |c| Expr::name(c.as_str()));
                Some(call("iff", [case, then, Expr::name(otherwise.as_str())]))
            }
            Transform::Account(account) => Some(account.rebuilt()),
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
            Transform::RegistryData { data, value_type } => Some(registry_data(data, value_type, m)),
            // A classic event's `Data` is its unnamed `<Data>` elements, a list: no one value holds it.
            Transform::XmlData { column } if m.field.name == "Data" => {
                Some(Err(format!("`Data` is the unnamed <Data> elements of the event's {column}, a list that no single KQL value holds")))
            }
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
    Ok(Rewritten { test: joined(tests, m.quantifier), plain: None, losses })
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
    Ok(Rewritten { test: joined(tests, m.quantifier), plain: None, losses: Vec::new() })
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
    Ok(Rewritten { test: joined(tests, m.quantifier), plain: None, losses })
}

/// `Details: 'DWORD (0x0000000a)'` → `((RegistryValueType =~ "Dword" and RegistryValueData == "10") or
/// RegistryValueData =~ "DWORD (0x0000000a)")`. Sysmon's Details of a number is that whole text,
/// so containing or ending with it is being that number; a string value may hold the text itself.
fn registry_data(data: &str, value_type: &str, m: &Match) -> Result<Rewritten, String> {
    let mut tests = Vec::new();
    let mut plain = Vec::new();
    for value in &m.values {
        let Some((kind, number)) = text(value).and_then(registry_number) else {
            plain.push(value.clone());
            continue;
        };
        if !matches!(m.op, MatchOp::Equals | MatchOp::Contains | MatchOp::EndsWith) {
            return Err(format!(
                "`{}` {} a part of `{}`: {data} holds the number in decimal",
                m.field,
                op_name(m.op),
                text(value).unwrap_or_default()
            ));
        }
        let typed = Expr::str_op(StrTest::Equals, false, Expr::name(value_type), Expr::string(kind));
        let number = Expr::binary(BinaryOp::Eq, Expr::name(data), Expr::string(number.to_string()));
        let number = Expr::paren(Expr::binary(BinaryOp::And, typed, number));
        let test = match m.op {
            MatchOp::Contains => StrTest::Contains,
            MatchOp::EndsWith => StrTest::EndsWith,
            _ => StrTest::Equals,
        };
        let string = Expr::str_op(test, m.case_sensitive, Expr::name(data), Expr::string(text(value).unwrap_or_default()));
        tests.push(Expr::paren(Expr::binary(BinaryOp::Or, number, string)));
    }
    // A test without values (`null`, empty) is a test of the data column as it is.
    let plain = (!plain.is_empty() || m.values.is_empty()).then(|| (data.to_string(), plain));
    Ok(Rewritten { test: joined(tests, m.quantifier), plain, losses: Vec::new() })
}

/// The type and value of a number as Sysmon writes it in `Details`: `DWORD (0x0000000a)` is
/// `("Dword", 10)`, `QWORD (0x00000001-0x00000000)` (high, then low half) `("Qword", 4294967296)`.
fn registry_number(text: &str) -> Option<(&'static str, u64)> {
    let hex = |h: &str| h.strip_prefix("0x").or_else(|| h.strip_prefix("0X")).and_then(|h| u64::from_str_radix(h, 16).ok());
    let inner = |prefix: &str| {
        text.get(..prefix.len()).filter(|p| p.eq_ignore_ascii_case(prefix)).and_then(|_| text[prefix.len()..].strip_suffix(')'))
    };
    if let Some(number) = inner("DWORD (") {
        return Some(("Dword", hex(number).filter(|n| *n <= u64::from(u32::MAX))?));
    }
    let (high, low) = inner("QWORD (")?.split_once('-')?;
    let (high, low) = (hex(high).filter(|n| *n <= u64::from(u32::MAX))?, hex(low).filter(|n| *n <= u64::from(u32::MAX))?);
    Some(("Qword", high << 32 | low))
}

fn joined(tests: Vec<Expr>, quantifier: Quantifier) -> Option<Expr> {
    let op = if quantifier == Quantifier::All { BinaryOp::And } else { BinaryOp::Or };
    let several = tests.len() > 1;
    Expr::chain(op, tests).map(|test| if several { Expr::paren(test) } else { test })
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
        let Rewritten { test, plain, losses } = transform.rewrite(m, "T").expect("a rewriting transform")?;
        assert!(plain.is_none(), "{plain:?}");
        Ok((printed(test.expect("a test")), losses))
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
    fn a_registry_number_is_its_type_and_decimal_value_and_other_data_is_tested_as_it_is() {
        let details = Transform::RegistryData { data: "Data".into(), value_type: "Type".into() };
        let m = test("Details", MatchOp::Equals, &["DWORD (0x0000000a)", "QWORD (0x00000001-0x00000000)", "%TEMP%"]);
        let Ok(Rewritten { test: Some(rewritten), plain: Some((column, plain)), losses }) = details.rewrite(&m, "T").unwrap() else {
            panic!()
        };
        assert_eq!(
            printed(rewritten),
            r#"(((Type =~ "Dword" and Data == "10") or Data =~ "DWORD (0x0000000a)") or ((Type =~ "Qword" and Data == "4294967296") or Data =~ "QWORD (0x00000001-0x00000000)"))"#
        );
        assert_eq!((column.as_str(), plain.as_slice(), losses.len()), ("Data", &[Value::String("%TEMP%".into())][..], 0));
        // A string value containing a number's text is matched as Sysmon's text is.
        let (ends, _) = self::rewritten(&details, &test("Details", MatchOp::EndsWith, &["DWORD (0x00000001)"])).unwrap();
        assert_eq!(ends, r#"((Type =~ "Dword" and Data == "1") or Data endswith "DWORD (0x00000001)")"#);
        // The start of a number's text is no test of its decimal form.
        assert!(details.rewrite(&test("Details", MatchOp::StartsWith, &["DWORD (0x00000001)"]), "T").unwrap().is_err());
        // A test without values (`Details: null`) is a test of the data column as it is.
        let null = Match { op: MatchOp::IsNull, values: Vec::new(), ..test("Details", MatchOp::Equals, &[]) };
        let Ok(Rewritten { test: None, plain: Some((column, values)), .. }) = details.rewrite(&null, "T").unwrap() else { panic!() };
        assert_eq!((column.as_str(), values.len()), ("Data", 0));
        assert_eq!(registry_number("dword (0x1)"), Some(("Dword", 1)));
        assert_eq!(registry_number("DWORD (0x100000000)"), None);
        assert_eq!(registry_number("DWORD"), None);
    }

    #[test]
    fn sysmon_registry_event_types_are_defenders_action_types() {
        let (_, profile) = crate::emit::kql::profile::named(None).unwrap();
        let event_type = profile
            .transform(crate::emit::kql::profile::Scope::table("DeviceRegistryEvents"), &Field::column("EventType"))
            .expect("a transform");
        let (test, losses) = rewritten(&event_type, &test("EventType", MatchOp::Equals, &["DeleteValue", "setvalue"])).unwrap();
        assert_eq!(test, r#"(ActionType in ("RegistryValueDeleted") or ActionType in ("RegistryValueSet"))"#);
        assert!(losses.is_empty());
    }

    #[test]
    fn rebuilt_fields_are_written_as_the_source_writes_them() {
        let hives = vec![["HKEY_LOCAL_MACHINE".to_string(), "HKLM".to_string()]];
        let registry =
            Transform::RegistryPath { key: "RegistryKey".into(), value_name: "RegistryValueName".into(), hives, unnamed_value: None };
        assert_eq!(
            printed(registry.rebuilt("TargetObject").unwrap()),
            r#"strcat(replace_regex(RegistryKey, "(?i)^HKEY_LOCAL_MACHINE(\\\\|$)", "HKLM\\1"), iff(isempty(RegistryValueName), "", strcat("\\", RegistryValueName)))"#
        );
        // A value event without a value name is about the key's unnamed value, which Sysmon names.
        let unnamed_value =
            Some(UnnamedValue { name: "(Default)".into(), column: "ActionType".into(), values: vec!["RegistryValueSet".into()] });
        let registry = Transform::RegistryPath { key: "K".into(), value_name: "V".into(), hives: Vec::new(), unnamed_value };
        assert_eq!(
            printed(registry.rebuilt("TargetObject").unwrap()),
            r#"strcat(K, iff(isempty(V), iff(ActionType in ("RegistryValueSet"), "\\(Default)", ""), strcat("\\", V)))"#
        );
        assert_eq!(registry.columns(), ["K", "V", "ActionType"]);
        let plain = |domain: &str, name: &str| Account { domain: domain.into(), name: name.into(), system: None, otherwise: None };
        let account = Transform::Account(plain("AccountDomain", "AccountName"));
        assert_eq!(printed(account.rebuilt("User").unwrap()), r#"iff(isempty(AccountName), "", strcat(AccountDomain, "\\", AccountName))"#);
        // Event 4688's new process runs as its target account, or as its creator where the target is left out.
        let system = |sid: &str| Some(SystemAccount { sid: sid.into(), named: r"NT AUTHORITY\SYSTEM".into() });
        let creator = Account { system: system("SubjectUserSid"), ..plain("SubjectDomainName", "SubjectUserName") };
        let target =
            Account { system: system("TargetUserSid"), otherwise: Some(Box::new(creator)), ..plain("TargetDomainName", "TargetUserName") };
        let target = Transform::Account(target);
        assert_eq!(
            printed(target.rebuilt("User").unwrap()),
            concat!(
                r#"iff(TargetUserName in ("", "-"), "#,
                r#"iff(isempty(SubjectUserName), "", iff(SubjectUserSid == "S-1-5-18", "NT AUTHORITY\\SYSTEM", strcat(SubjectDomainName, "\\", SubjectUserName))), "#,
                r#"iff(TargetUserSid == "S-1-5-18", "NT AUTHORITY\\SYSTEM", strcat(TargetDomainName, "\\", TargetUserName)))"#
            )
        );
        assert_eq!(
            target.columns(),
            ["TargetDomainName", "TargetUserName", "TargetUserSid", "SubjectDomainName", "SubjectUserName", "SubjectUserSid"]
        );
        let xml = printed(Transform::XmlData { column: "EventData".into() }.rebuilt("Image.Path").unwrap());
        assert!(xml.contains(r#"extract("<Data Name=\"Image\\.Path\">([^<]*)<", 1, EventData)"#), "{xml}");
        // `&amp;` is unescaped last, so that an escaped entity stays one.
        assert!(xml.starts_with(r#"replace_string(replace_string("#) && xml.ends_with(r#""&amp;", "&")"#), "{xml}");
        assert!(hashes().rebuilt("Hashes").is_none());
        // A connection's destination is the remote end unless the connection was accepted.
        let endpoint = |inbound: Option<&str>| Transform::Either {
            column: "ActionType".into(),
            values: vec!["InboundConnectionAccepted".into()],
            then: inbound.map(str::to_string),
            otherwise: "RemoteIP".into(),
        };
        let destination = endpoint(Some("LocalIP"));
        assert_eq!(
            printed(destination.rebuilt("DestinationIp").unwrap()),
            r#"iff(ActionType in ("InboundConnectionAccepted"), LocalIP, RemoteIP)"#
        );
        assert_eq!(destination.columns(), ["ActionType", "RemoteIP", "LocalIP"]);
        assert!(destination.rebuilt_loss("DestinationIp", "T").is_none());
        let unheld = endpoint(None);
        assert_eq!(
            printed(unheld.rebuilt("DestinationHostname").unwrap()),
            r#"iff(ActionType in ("InboundConnectionAccepted"), "", RemoteIP)"#
        );
        assert!(unheld.rebuilt_loss("DestinationHostname", "T").is_some_and(|l| l.contains("InboundConnectionAccepted")));
        // A classic event's unnamed `<Data>` elements are a list: refused, with the reason.
        let data = Transform::XmlData { column: "EventData".into() };
        let refused = data.rewrite(&test("Data", MatchOp::Contains, &["x"]), "Event").unwrap().err().unwrap_or_default();
        assert!(refused.contains("unnamed"), "{refused}");
        assert!(data.rewrite(&test("ImagePath", MatchOp::Contains, &["x"]), "Event").is_none());
    }
}
