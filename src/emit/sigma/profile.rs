//! `targets/sigma.yaml`: the Sigma logsource and field names of Sentinel tables and columns,
//! and SigmaHQ's field list of each logsource, derived from pySigma's mappings, the SigmaHQ
//! corpus and SigmaHQ's `logsource.json` by `scripts/derive_sigma_profile.py`.

use super::forms::Form;
use crate::ir::detection::{Field, Match, MatchOp, Predicate, Quantifier, Span, Value as Literal};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
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
    /// A Sigma field test every event of a `table/value` entry meets, written in place of the
    /// selector's test (Defender's outbound connection actions are Sysmon's `Initiated: 'true'`).
    #[serde(default)]
    implies: BTreeMap<String, String>,
    /// Columns whose Sigma field the event's direction decides (Defender's Local*/Remote* ends
    /// are Sysmon's Source*/Destination* on connections the device opened, swapped on accepted
    /// ones): the table's map reads them as outbound.
    #[serde(default)]
    by_direction: Vec<String>,
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
    let mut parts = match filter {
        Predicate::And(parts) => parts.clone(),
        single => vec![single.clone()],
    };
    let selects = |p: &Predicate| match p {
        Predicate::Match(m) if m.field.name == *selector && m.field.path.is_empty() && m.op == MatchOp::Equals => Some(m.clone()),
        _ => None,
    };
    let Some((at, mut event)) = parts.iter().enumerate().find_map(|(i, p)| Some((i, selects(p)?))) else {
        return whole();
    };
    // Several tests of the selector (a logsource's actions, then the rule's own) hold together:
    // the values all allow, in one test.
    let later: Vec<usize> = (at + 1..parts.len()).filter(|i| selects(&parts[*i]).is_some()).collect();
    for i in later.into_iter().rev() {
        let Some(other) = selects(&parts.remove(i)) else { continue };
        event.values.retain(|v| other.values.contains(v));
    }
    let event = &event;
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
    let implying = |key: &str, tests: &BTreeMap<String, String>| {
        let mut parts = parts.clone();
        let test = |(field, value): (&String, &String)| {
            let values = vec![Literal::String(value.clone())];
            let field = Field::column(field);
            Predicate::Match(Match {
                field,
                op: MatchOp::Equals,
                values,
                quantifier: Quantifier::Any,
                case_sensitive: false,
                span: event.span,
            })
        };
        parts[at] = Predicate::And(tests.iter().map(test).collect());
        (key.to_string(), Predicate::And(parts))
    };
    let scoped = |v: &&Literal| {
        let key = own(v)?;
        let entry = &tables()[&key];
        Some(match (entry.implied, entry.implies.is_empty()) {
            (true, _) => implied(&key),
            (false, false) => implying(&key, &entry.implies),
            (false, true) => (key, with_values(vec![v])),
        })
    };
    let mut out: Vec<(String, Predicate)> = listed.iter().filter_map(scoped).collect();
    if !rest.is_empty() {
        out.push((table.to_string(), with_values(rest)));
    }
    // Values whose entries read alike (several outbound actions, one `Initiated: 'true'`) are one.
    let reading = |key: &str| {
        let entry = &tables()[key];
        if entry.fields.is_empty() { format!("{table} {:?} {:?}", entry.logsource, entry.implies) } else { key.to_string() }
    };
    let mut seen = Vec::new();
    out.retain(|(key, filter)| {
        let id = (reading(key), filter.clone());
        let new = !seen.contains(&id);
        seen.push(id);
        new
    });
    out
}

/// A table's columns that the filter reads where the scope does not choose the direction (the
/// whole table): each is read as on connections the device opened, with the reason it may not be.
pub fn direction_losses(scope: &str, filter: &Predicate) -> Vec<(Span, String)> {
    let Some(entry) = tables().get(scope).filter(|e| !e.by_direction.is_empty()) else { return Vec::new() };
    // The other reading: the entry of the table's events whose own map swaps the ends (the
    // first by name, so that the message is the same on every run).
    let inbound = |column: &str| {
        let mut keys: Vec<&String> = tables().keys().filter(|key| key.starts_with(&format!("{scope}/"))).collect();
        keys.sort();
        keys.into_iter().map(|key| &tables()[key]).filter(|e| !e.implies.is_empty()).find_map(|e| match e.fields.get(column)? {
            SigmaField::Renamed(name) => Some(name.clone()),
            SigmaField::Formed { field, .. } => Some(field.clone()),
        })
    };
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for m in filter.matches() {
        let column = m.field.name.as_str();
        if !m.field.path.is_empty() || !entry.by_direction.iter().any(|c| c == column) || !seen.insert(column) {
            continue;
        }
        let outbound = field_name(scope, &m.field);
        let other = inbound(column).map_or_else(|| "another field".to_string(), |name| format!("`{name}`"));
        out.push((
            m.span,
            format!(
                "`{column}` is Sigma's `{outbound}` on connections the device opened; the rule does not choose a direction \
                 (`ActionType`), and on an accepted inbound connection it is {other}, so there the Sigma rule tests the other end"
            ),
        ));
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
    fn a_connections_direction_is_sysmons_initiated_and_decides_its_ends() {
        let test = |column: &str, values: &[&str], case_sensitive: bool| {
            let values = values.iter().map(|v| Literal::String(v.to_string())).collect();
            let field = Field::column(column);
            let span = Span::default();
            Predicate::Match(Match { field, op: MatchOp::Equals, values, quantifier: Quantifier::Any, case_sensitive, span })
        };
        let port = test("RemotePort", &["4444"], true);
        // Outbound actions read alike: one scope, the action's test written as `Initiated`.
        let actions = test("ActionType", &["ConnectionSuccess", "ConnectionFailed", "InboundConnectionAccepted"], true);
        let split = scopes("DeviceNetworkEvents", &Predicate::And(vec![actions, port.clone()]));
        let names: Vec<&str> = split.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(names, ["DeviceNetworkEvents/ConnectionSuccess", "DeviceNetworkEvents/InboundConnectionAccepted"]);
        let initiated = |value: &str| Predicate::And(vec![test("Initiated", &[value], false)]);
        assert_eq!(split[0].1, Predicate::And(vec![initiated("true"), port.clone()]));
        assert_eq!(split[1].1, Predicate::And(vec![initiated("false"), port.clone()]));
        // The ends swap on an accepted connection; a chosen direction loses nothing.
        assert_eq!(field_name("DeviceNetworkEvents/ConnectionSuccess", &Field::column("RemotePort")), "DestinationPort");
        assert_eq!(field_name("DeviceNetworkEvents/InboundConnectionAccepted", &Field::column("RemotePort")), "SourcePort");
        assert!(direction_losses("DeviceNetworkEvents/ConnectionSuccess", &split[0].1).is_empty());
        // Two tests of the action (the category's, then the rule's) hold together: `--to kql`
        // writes Sigma's `Initiated: 'true'` under network_connection's actions so.
        let all = test("ActionType", &["ConnectionSuccess", "InboundConnectionAccepted"], true);
        let outbound = test("ActionType", &["ConnectionSuccess", "ConnectionFailed"], true);
        let split = scopes("DeviceNetworkEvents", &Predicate::And(vec![all, outbound, port.clone()]));
        assert_eq!(split, [("DeviceNetworkEvents/ConnectionSuccess".to_string(), Predicate::And(vec![initiated("true"), port.clone()]))]);
        // Without a direction, an end is read as outbound, with the reason it may not be.
        let open = Predicate::And(vec![port, test("InitiatingProcessFileName", &["a.exe"], false)]);
        let losses = direction_losses("DeviceNetworkEvents", &open);
        assert_eq!(losses.len(), 1, "{losses:?}");
        assert!(losses[0].1.contains("`RemotePort` is Sigma's `DestinationPort`") && losses[0].1.contains("`SourcePort`"), "{losses:?}");
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
