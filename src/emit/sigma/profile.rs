//! `targets/sigma.yaml`: the Sigma logsource and field names of Sentinel tables and columns,
//! and SigmaHQ's field list of each logsource, derived from pySigma's mappings, the SigmaHQ
//! corpus and SigmaHQ's `logsource.json` by `scripts/derive_sigma_profile.py`.

use super::forms::Form;
use crate::ir::detection::{Field, MatchOp, Predicate, Value as Literal};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Profile {
    /// By table name, or `table/EventID` for one event of a table.
    tables: HashMap<String, TableEntry>,
    techniques: HashSet<String>,
    /// ATT&CK Enterprise tactic ids (`TA0001`).
    tactics: HashSet<String>,
    /// SigmaHQ's fields by `product/category` or `product/service` (see `listed_fields`).
    sigmahq_fields: HashMap<String, HashSet<String>>,
    /// SigmaHQ's add-on fields of a logsource (same keys): listed for other sensors, absent from
    /// the event the logsource's own log writes.
    sigmahq_addon_fields: HashMap<String, HashSet<String>>,
    /// The column whose value picks a `table/value` entry, by table.
    selectors: HashMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TableEntry {
    logsource: Map<String, Value>,
    /// A `table/value` entry's logsource says the selector's test, which is then not written.
    #[serde(default)]
    implied: bool,
    /// A `table/value` entry without fields takes the table's.
    #[serde(default)]
    fields: HashMap<String, SigmaField>,
}

/// A column's Sigma field: a plain rename, or a field holding the value in another form.
#[derive(Deserialize)]
#[serde(untagged)]
enum SigmaField {
    Renamed(String),
    Formed { field: String, form: Form },
}

fn profile() -> &'static Profile {
    static PROFILE: OnceLock<Profile> = OnceLock::new();
    crate::emit::profile_file::embedded(&PROFILE, "targets/sigma.yaml", include_str!("../../../targets/sigma.yaml"))
}

fn tables() -> &'static HashMap<String, TableEntry> {
    &profile().tables
}

/// Whether the tactic (`TA0001`) is an ATT&CK Enterprise one, which Sigma's tags name.
pub fn is_enterprise_tactic(id: &str) -> bool {
    profile().tactics.contains(id)
}

/// Whether Sigma's tools know the ATT&CK technique (`T1078.004`).
pub fn is_known_technique(id: &str) -> bool {
    profile().techniques.contains(id)
}

/// The profile entries to read events of `table` meeting `filter` with, each with the part of
/// the filter it reads: `table/value` for a value of the table's selector column the profile
/// lists on its own (Windows event 4688 is process creation, Defender's `FileDeleted` action
/// file deletion), else the table. A filter requiring one of several values, some listed,
/// splits into one filter per listed value and one for the rest; together they match the same.
/// An entry whose logsource implies its value drops the selector's test.
pub fn scopes(table: &str, filter: &Predicate) -> Vec<(String, Predicate)> {
    let whole = || vec![(table.to_string(), filter.clone())];
    let Some(selector) = profile().selectors.get(table) else {
        return whole();
    };
    let parts = match filter {
        Predicate::And(parts) => parts.clone(),
        single => vec![single.clone()],
    };
    let Some((at, event)) = parts.iter().enumerate().find_map(|(i, p)| match p {
        Predicate::Match(m) if m.field.name == *selector && m.field.path.is_empty() && m.op == MatchOp::Equals => Some((i, m)),
        _ => None,
    }) else {
        return whole();
    };
    let own = |v: &Literal| {
        let id = match v {
            Literal::Int(id) => id.to_string(),
            Literal::String(id) => id.clone(),
            _ => return None,
        };
        Some(format!("{table}/{id}")).filter(|key| tables().contains_key(key))
    };
    let (listed, rest): (Vec<&Literal>, Vec<&Literal>) = event.values.iter().partition(|v| own(v).is_some());
    if listed.is_empty() {
        return whole();
    }
    let with_values = |values: Vec<&Literal>| {
        let mut parts = parts.clone();
        parts[at] = Predicate::Match(crate::ir::detection::Match { values: values.into_iter().cloned().collect(), ..event.clone() });
        Predicate::And(parts)
    };
    let implied = |key: &str| {
        let mut parts = parts.clone();
        parts.remove(at);
        (key.to_string(), Predicate::And(parts))
    };
    let scoped = |v: &&Literal| {
        let key = own(v)?;
        Some(if tables()[&key].implied { implied(&key) } else { (key, with_values(vec![v])) })
    };
    let mut out: Vec<(String, Predicate)> = listed.iter().filter_map(scoped).collect();
    if !rest.is_empty() {
        out.push((table.to_string(), with_values(rest)));
    }
    out
}

/// The Sigma logsource of a table, and whether it is a real Sigma logsource (else a custom one
/// naming the table, which Sigma backends will not know without a pipeline of their own).
pub fn logsource(scope: &str) -> (Value, bool) {
    let table = scope.split('/').next().unwrap_or(scope);
    match tables().get(scope) {
        Some(entry) => (Value::Object(entry.logsource.clone()), true),
        None => (
            json!({
                "product": "sentinel",
                "service": table,
                "definition": format!("custom: events of the Microsoft Sentinel table {table}, which has no Sigma logsource"),
            }),
            false,
        ),
    }
}

/// The scope of a Sigma rule's own fields: no profile entry, so names stay as written.
pub const AS_WRITTEN: &str = "";

/// The Sigma name of a column in a scope (see `scopes`), else the column's own name; a path
/// inside a dynamic column follows with dots (array steps in brackets).
pub fn field_name(scope: &str, field: &Field) -> String {
    sigma_field(scope, field).0
}

/// The Sigma name of a column in a scope (as `field_name`) and the form its values take there.
pub fn sigma_field(scope: &str, field: &Field) -> (String, Form) {
    let entry = |key: &str| tables().get(key).filter(|t| !t.fields.is_empty());
    let table = scope.split('/').next().unwrap_or(scope);
    let (column, form) = match entry(scope).or_else(|| entry(table)).and_then(|t| t.fields.get(&field.name)) {
        None => (&field.name, Form::Same),
        Some(SigmaField::Renamed(name)) => (name, Form::Same),
        Some(SigmaField::Formed { field, form }) => (field, *form),
    };
    (Field { name: column.clone(), path: field.path.clone() }.to_string(), form)
}

/// SigmaHQ's field list for a scope's logsource, with the logsource's name (`windows/
/// process_creation`), looked up as SigmaHQ's test does (category before service); `None` when
/// SigmaHQ judges no fields there (no list, or no SigmaHQ logsource).
pub fn listed_fields(scope: &str) -> Option<(&'static HashSet<String>, String)> {
    let logsource = &tables().get(scope)?.logsource;
    let text = |key: &str| logsource.get(key).and_then(Value::as_str);
    ["category", "service"].iter().filter_map(|kind| text(kind)).find_map(|name| {
        let key = format!("{}/{name}", text("product").unwrap_or(""));
        profile().sigmahq_fields.get(&key).map(|fields| (fields, key))
    })
}

/// Whether SigmaHQ lists `field` for the logsource `key` (as `listed_fields` names it) only as an
/// add-on: a field other sensors add, which the logsource's own log (Sysmon's) never writes.
pub fn is_addon_field(key: &str, field: &str) -> bool {
    profile().sigmahq_addon_fields.get(key).is_some_and(|fields| fields.contains(field))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_tables_take_sigma_names_and_others_a_custom_logsource() {
        assert_eq!(logsource("SigninLogs"), (json!({"product": "azure", "service": "signinlogs"}), true));
        assert_eq!(field_name("DeviceProcessEvents", &Field::column("ProcessCommandLine")), "CommandLine");
        assert_eq!(field_name("Syslog", &Field { name: "Props".into(), path: vec!["a".into()] }), "Props.a");
        let (custom, known) = logsource("Syslog");
        assert!(!known);
        assert_eq!(custom["service"], "Syslog");
        assert!(is_known_technique("T1078.004") && !is_known_technique("T0890"));
        assert!(is_enterprise_tactic("TA0001") && !is_enterprise_tactic("TA0107"));
    }

    #[test]
    fn a_generic_event_of_a_table_has_its_own_scope() {
        use crate::ir::detection::{Match, Quantifier, Span};
        let event = |ids: Vec<i64>| {
            let values = ids.into_iter().map(Literal::Int).collect();
            let m = Match {
                field: Field::column("EventID"),
                op: MatchOp::Equals,
                values,
                quantifier: Quantifier::Any,
                case_sensitive: true,
                span: Span::default(),
            };
            Predicate::And(vec![Predicate::Match(m)])
        };
        let names = |filter| scopes("SecurityEvent", &filter).into_iter().map(|(scope, _)| scope).collect::<Vec<_>>();
        assert_eq!(names(event(vec![4688])), ["SecurityEvent/4688"]);
        assert_eq!(names(event(vec![4625])), ["SecurityEvent"]);
        let split = scopes("SecurityEvent", &event(vec![4624, 4688, 4625]));
        assert_eq!(split.iter().map(|(s, _)| s.as_str()).collect::<Vec<_>>(), ["SecurityEvent/4688", "SecurityEvent"]);
        assert_eq!(split[1].1, event(vec![4624, 4625]));
        assert_eq!(logsource("SecurityEvent/4688").0, json!({"category": "process_creation", "product": "windows"}));
        assert_eq!(field_name("SecurityEvent/4688", &Field::column("NewProcessName")), "Image");
    }

    #[test]
    fn a_defender_action_with_a_category_of_its_own_is_implied_by_its_logsource() {
        use crate::ir::detection::{Match, Quantifier, Span};
        let test = |column: &str, values: &[&str]| {
            let values = values.iter().map(|v| Literal::String(v.to_string())).collect();
            let op = MatchOp::Equals;
            Predicate::Match(Match {
                field: Field::column(column),
                op,
                values,
                quantifier: Quantifier::Any,
                case_sensitive: true,
                span: Span::default(),
            })
        };
        let name = test("FileName", &["a.exe"]);
        let filter = Predicate::And(vec![test("ActionType", &["FileDeleted", "FileModified"]), name.clone()]);
        let split = scopes("DeviceFileEvents", &filter);
        assert_eq!(split.iter().map(|(s, _)| s.as_str()).collect::<Vec<_>>(), ["DeviceFileEvents/FileDeleted", "DeviceFileEvents"]);
        assert_eq!(split[0].1, Predicate::And(vec![name.clone()]));
        assert_eq!(split[1].1, Predicate::And(vec![test("ActionType", &["FileModified"]), name]));
        assert_eq!(logsource("DeviceFileEvents/FileDeleted").0, json!({"category": "file_delete", "product": "windows"}));
        // Its columns are the table's.
        assert_eq!(field_name("DeviceFileEvents/FileDeleted", &Field::column("FolderPath")), "TargetFilename");
    }

    #[test]
    fn sigmahq_field_lists_are_found_by_category_then_service() {
        let (fields, name) = listed_fields("DeviceProcessEvents").expect("process_creation has a list");
        assert_eq!(name, "windows/process_creation");
        assert!(fields.contains("ParentImage") && fields.contains("EventID") && !fields.contains("FileName"));
        assert_eq!(listed_fields("W3CIISLog").map(|(_, name)| name), Some("/webserver".to_string()));
        assert!(listed_fields("SigninLogs").is_none() && listed_fields("Syslog").is_none());
        // Sysmon's network connection (event 3) has no command line; other sensors add one.
        assert!(is_addon_field("windows/network_connection", "CommandLine"));
        assert!(!is_addon_field("windows/network_connection", "Image") && !is_addon_field("windows/process_creation", "CommandLine"));
    }
}
