//! `targets/sigma.yaml`: the Sigma logsource and field names of Sentinel tables and columns,
//! derived from pySigma's mappings and the SigmaHQ corpus by `scripts/derive_sigma_profile.py`.

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
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TableEntry {
    logsource: Map<String, Value>,
    #[serde(default)]
    fields: HashMap<String, String>,
}

fn profile() -> &'static Profile {
    static PROFILE: OnceLock<Profile> = OnceLock::new();
    crate::emit::profile_file::embedded(&PROFILE, "targets/sigma.yaml", include_str!("../../../targets/sigma.yaml"))
}

fn tables() -> &'static HashMap<String, TableEntry> {
    &profile().tables
}

/// Whether Sigma's tools know the ATT&CK technique (`T1078.004`).
pub fn is_known_technique(id: &str) -> bool {
    profile().techniques.contains(id)
}

/// The profile entries to read events of `table` meeting `filter` with, each with the part of
/// the filter it reads: `table/EventID` for an event the profile lists on its own (Windows 4688
/// is process creation), else the table. A filter requiring one of several events, some listed,
/// splits into one filter per listed event and one for the rest; together they match the same.
pub fn scopes(table: &str, filter: &Predicate) -> Vec<(String, Predicate)> {
    let whole = || vec![(table.to_string(), filter.clone())];
    let parts = match filter {
        Predicate::And(parts) => parts.clone(),
        single => vec![single.clone()],
    };
    let Some((at, event)) = parts.iter().enumerate().find_map(|(i, p)| match p {
        Predicate::Match(m) if m.field.name == "EventID" && m.field.path.is_empty() && m.op == MatchOp::Equals => Some((i, m)),
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
    let mut out: Vec<(String, Predicate)> = listed.iter().filter_map(|v| Some((own(v)?, with_values(vec![v])))).collect();
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
    let column = tables().get(scope).and_then(|t| t.fields.get(&field.name)).unwrap_or(&field.name);
    Field { name: column.clone(), path: field.path.clone() }.to_string()
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
}
