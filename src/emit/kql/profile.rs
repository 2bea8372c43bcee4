//! The `targets/kql.yaml` profiles: which table holds a Sigma logsource's events and which
//! column a Sigma field is. Embedded at build time; derived by `scripts/derive_kql_profile.py`.
//!
//! `--profile FILE` reads a team's own profile (`UserProfile`: its tables first, then those of
//! the built-in profile it `extends`), once per run, with errors at the file's line and column.

use super::transform::Transform;
use crate::emit::profile_file;
use crate::ir::detection::{EVENT_TIME, Field, LogSource};
use crate::kql::ast::{BinaryOp, Expr};
use serde::Deserialize;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profiles {
    pub default: String,
    /// Table → the column holding its event time, where that is not `TimeGenerated`.
    pub time_columns: BTreeMap<String, String>,
    pub profiles: BTreeMap<String, Arc<Profile>>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub about: String,
    /// The name sigma-cli gives the pySigma pipeline this profile follows (`microsoft_xdr`),
    /// which `--profile` accepts too.
    #[serde(default)]
    pub pysigma_pipeline: Option<String>,
    pub logsources: Vec<Entry>,
    /// Table → Sigma field → column (or a dotted path into a dynamic column).
    #[serde(default)]
    pub fields: BTreeMap<String, BTreeMap<String, Mapped>>,
    /// Table → its event time column, besides the built-in `time_columns` (a user's tables).
    #[serde(default)]
    pub time_columns: BTreeMap<String, String>,
}

/// A profile file a team writes for its own tables (`--profile FILE`), documented in the
/// README. Its logsources come before those of the profile it `extends` (so an entry as
/// specific as a built-in one wins), and its fields add to or replace that profile's per table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserProfile {
    about: String,
    /// A built-in profile whose tables apply where this file names none.
    extends: Option<String>,
    #[serde(default)]
    logsources: Vec<Entry>,
    #[serde(default)]
    fields: BTreeMap<String, BTreeMap<String, Mapped>>,
    #[serde(default)]
    time_columns: BTreeMap<String, String>,
}

/// A field's column, or its columns when it stands for several (a process that is either end
/// of an ASIM event): a test of the field then holds when it holds on one of them.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum Mapped {
    One(String),
    Several(Vec<String>),
    /// Held in another shape than the source writes it (`transform`).
    Transformed(Transform),
}

/// A logsource pattern: the keys it lists must equal the rule's.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub category: Option<String>,
    pub product: Option<String>,
    pub service: Option<String>,
    pub table: String,
    /// Column → the value it must equal for a row to be this logsource's event (`EventID:
    /// 4688`), where the table holds other events too.
    #[serde(default)]
    pub equals: BTreeMap<String, Constant>,
    /// The XML column (`EventData`) whose `<Data Name="X">` elements are the Sigma fields that
    /// are not columns of the table: a Windows event log's fields, as Sigma names them.
    #[serde(default)]
    pub event_data: Option<String>,
    /// Sigma field → column for this logsource's events, before the table's own map: where
    /// one table holds several kinds of event and a field is another column in each (Sysmon's
    /// `User` is the new process's account in event 4688, the acting one in event 4663).
    #[serde(default)]
    pub fields: BTreeMap<String, Mapped>,
    /// Why the table's rows are only nearly this logsource's events (an audit event written for
    /// more than the category's activity): a loss on every rule read from it.
    #[serde(default)]
    pub approximate: Option<String>,
}

/// Where a Sigma field is looked up: a table read as one logsource's events (its entry's own
/// fields first, then the table's), with the entry's XML column of event fields.
#[derive(Clone, Copy, Debug)]
pub struct Scope<'a> {
    pub table: &'a str,
    own: Option<&'a BTreeMap<String, Mapped>>,
    event_data: Option<&'a str>,
}

impl<'a> Scope<'a> {
    /// A table's rows with no logsource entry: the table's field map alone.
    pub fn table(table: &'a str) -> Self {
        Scope { table, own: None, event_data: None }
    }
}

/// A value a profile compares a column with.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum Constant {
    Int(i64),
    Text(String),
    /// Any of these (the `ActionType`s of one Sigma category).
    AnyOf(Vec<String>),
}

impl Constant {
    /// The test that `column` has this value.
    pub fn test(&self, column: &str) -> Expr {
        let column = Expr::name(column);
        match self {
            Constant::Int(i) => Expr::binary(BinaryOp::Eq, column, Expr::int(*i)),
            Constant::Text(s) => Expr::binary(BinaryOp::Eq, column, Expr::string(s.as_str())),
            Constant::AnyOf(values) => Expr::in_list(true, column, values.iter().map(|v| Expr::string(v.as_str())).collect()),
        }
    }
}

impl Entry {
    /// An entry reading a whole table, with the table's field map alone.
    pub fn of_table(table: &str) -> Entry {
        Entry {
            category: None,
            product: None,
            service: None,
            table: table.to_string(),
            equals: BTreeMap::new(),
            event_data: None,
            fields: BTreeMap::new(),
            approximate: None,
        }
    }

    /// The scope of the fields of this logsource's events.
    pub fn scope(&self) -> Scope<'_> {
        Scope { table: &self.table, own: Some(&self.fields), event_data: self.event_data.as_deref() }
    }

    /// How many keys it lists, when it matches the logsource.
    fn specificity(&self, logsource: &LogSource) -> Option<usize> {
        let pairs = [(&self.category, &logsource.category), (&self.product, &logsource.product), (&self.service, &logsource.service)];
        let mut keys = 0;
        for (wanted, actual) in pairs {
            if let Some(wanted) = wanted {
                actual.as_deref().filter(|a| a.eq_ignore_ascii_case(wanted))?;
                keys += 1;
            }
        }
        Some(keys)
    }
}

impl Profile {
    /// The most specific entry for the logsource (the first of equals); else, for the custom
    /// logsource `--to sigma` writes for a Sentinel table without a Sigma one (`product:
    /// sentinel`, the table as `service`), that table.
    pub fn entry(&self, logsource: &LogSource) -> Option<Cow<'_, Entry>> {
        let mut best: Option<(usize, &Entry)> = None;
        for entry in &self.logsources {
            if let Some(keys) = entry.specificity(logsource)
                && best.is_none_or(|(k, _)| keys > k)
            {
                best = Some((keys, entry));
            }
        }
        best.map(|(_, entry)| Cow::Borrowed(entry)).or_else(|| sentinel_table(logsource).map(Cow::Owned))
    }

    /// How a Sigma field is mapped in a scope: by its entry, else by its table.
    fn mapped<'a>(&'a self, scope: Scope<'a>, field: &str) -> Option<&'a Mapped> {
        scope.own.and_then(|own| own.get(field)).or_else(|| self.fields.get(scope.table)?.get(field))
    }

    /// The columns (or dotted paths) a Sigma field is in the scope's table: mapped, else its
    /// own name; the event time is the table's time column.
    pub fn columns<'a>(&'a self, scope: Scope<'a>, field: &'a str) -> Vec<&'a str> {
        match self.mapped(scope, field) {
            None if field == EVENT_TIME => vec![self.time_column(scope.table)],
            None => vec![field],
            Some(Mapped::One(column)) => vec![column],
            Some(Mapped::Several(columns)) => columns.iter().map(String::as_str).collect(),
            // A rebuilt field is the column its `extend` names; a rewritten one has no column.
            Some(Mapped::Transformed(_)) => vec![field],
        }
    }

    /// How the scope's table holds a field in another shape: its mapped transform, else, on an
    /// entry reading `event_data`, an element of that XML column when the field is no column.
    pub fn transform<'a>(&'a self, scope: Scope<'a>, field: &Field) -> Option<Cow<'a, Transform>> {
        if !field.path.is_empty() {
            return None;
        }
        match self.mapped(scope, &field.name) {
            Some(Mapped::Transformed(transform)) => Some(Cow::Borrowed(transform)),
            Some(_) => None,
            None => {
                // A field that is none of the table's columns (targets/kql-schemas.tsv) is an element.
                let column = scope.event_data?;
                let schema = crate::sentinel::tables::table(scope.table)?;
                let element = field.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                (element && !schema.has_column_any_case(&field.name)).then(|| Cow::Owned(Transform::XmlData { column: column.to_string() }))
            }
        }
    }
}

/// A custom logsource `product: sentinel, service: TABLE` reads that table, whatever the profile.
fn sentinel_table(logsource: &LogSource) -> Option<Entry> {
    let table = logsource.service.as_ref().filter(|_| logsource.product.as_deref() == Some("sentinel") && logsource.category.is_none())?;
    Some(Entry { product: Some("sentinel".into()), service: Some(table.clone()), ..Entry::of_table(table) })
}

/// The embedded profiles.
pub fn profiles() -> &'static Profiles {
    static PROFILES: OnceLock<Profiles> = OnceLock::new();
    profile_file::embedded(&PROFILES, "targets/kql.yaml", include_str!("../../../targets/kql.yaml"))
}

impl Profile {
    /// The column holding a table's event time: Log Analytics' `TimeGenerated` unless the
    /// profile or the built-in profiles name another (`Timestamp` in the Defender XDR tables).
    pub fn time_column<'a>(&'a self, table: &str) -> &'a str {
        let named = self.time_columns.get(table).or_else(|| profiles().time_columns.get(table));
        named.map_or("TimeGenerated", String::as_str)
    }
}

/// The profile `--profile` names (a built-in name, or a profile file), else the default, with
/// its name; `Err` says why none is found, naming the built-in ones.
pub fn named(name: Option<&str>) -> Result<(String, Arc<Profile>), String> {
    let profiles = profiles();
    let name = name.unwrap_or(&profiles.default);
    if let Some(profile) = profiles.profiles.get(name) {
        return Ok((name.to_string(), Arc::clone(profile)));
    }
    let by_pipeline = profiles.profiles.iter().find(|(_, p)| p.pysigma_pipeline.as_deref() == Some(name));
    if let Some((canonical, profile)) = by_pipeline {
        return Ok((canonical.clone(), Arc::clone(profile)));
    }
    if Path::new(name).is_file() || name.ends_with(".yaml") || name.ends_with(".yml") {
        return from_file(Path::new(name)).map(|profile| (name.to_string(), profile));
    }
    let known: Vec<String> = profiles.profiles.iter().map(|(name, p)| format!("`{name}`: {}", p.about)).collect();
    Err(format!("unknown --profile `{name}`: not a profile file, nor one of the built-in profiles {}", known.join("; ")))
}

/// Profile files read so far, by the path given: a profile, or why it cannot be used.
type ReadProfiles = Mutex<HashMap<PathBuf, Result<Arc<Profile>, String>>>;

/// A user's profile file, read once per run however many rules use it (errors included).
fn from_file(path: &Path) -> Result<Arc<Profile>, String> {
    static READ: OnceLock<ReadProfiles> = OnceLock::new();
    let mut read = READ.get_or_init(Mutex::default).lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    read.entry(path.to_path_buf()).or_insert_with(|| load(path)).clone()
}

fn load(path: &Path) -> Result<Arc<Profile>, String> {
    let user: UserProfile = profile_file::parse(&profile_file::read(path)?, path)?;
    let base = match &user.extends {
        Some(name) => profiles().profiles.get(name).map(|p| (**p).clone()).ok_or_else(|| {
            let known: Vec<&str> = profiles().profiles.keys().map(String::as_str).collect();
            format!("{}: `extends: {name}` names no built-in profile (they are {})", path.display(), known.join(", "))
        })?,
        None => Profile {
            about: String::new(),
            pysigma_pipeline: None,
            logsources: Vec::new(),
            fields: BTreeMap::new(),
            time_columns: BTreeMap::new(),
        },
    };
    let mut profile = Profile {
        about: user.about,
        pysigma_pipeline: None,
        logsources: user.logsources,
        fields: base.fields,
        time_columns: base.time_columns,
    };
    profile.logsources.extend(base.logsources);
    for (table, fields) in user.fields {
        profile.fields.entry(table).or_default().extend(fields);
    }
    profile.time_columns.extend(user.time_columns);
    Ok(Arc::new(profile))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logsource(category: Option<&str>, product: Option<&str>, service: Option<&str>) -> LogSource {
        let own = |s: Option<&str>| s.map(str::to_string);
        LogSource { category: own(category), product: own(product), service: own(service), definition: None }
    }

    #[test]
    fn the_default_profile_maps_endpoint_categories_and_cloud_services() {
        let (_, profile) = named(None).unwrap();
        let process = profile.entry(&logsource(Some("process_creation"), Some("windows"), None)).unwrap();
        assert_eq!(process.table, "DeviceProcessEvents");
        assert_eq!(profile.columns(Scope::table("DeviceProcessEvents"), "CommandLine"), ["ProcessCommandLine"]);
        assert_eq!(profile.columns(Scope::table("DeviceProcessEvents"), "Unmapped"), ["Unmapped"]);
        let (_, asim) = named(Some("asim")).unwrap();
        // The parent is ASIM's acting process; a field two columns may hold maps to both.
        assert_eq!(asim.columns(Scope::table("imProcessCreate"), "ParentImage"), ["ActingProcessName"]);
        assert_eq!(
            asim.columns(Scope::table("imProcessCreate"), "OriginalFileName"),
            ["TargetProcessFileOriginalName", "TargetProcessFilename"]
        );
        assert_eq!(profile.entry(&logsource(None, Some("azure"), Some("signinlogs"))).unwrap().table, "SigninLogs");
        assert_eq!(profile.entry(&logsource(None, Some("m365"), Some("threat_management"))).unwrap().table, "OfficeActivity");
        assert!(profile.entry(&logsource(None, Some("zeek"), Some("dns"))).is_none());
        assert_eq!(profile.entry(&logsource(None, Some("sentinel"), Some("ZoomLogs"))).unwrap().table, "ZoomLogs");
        // The event time is each table's own time column.
        assert_eq!(profile.columns(Scope::table("DeviceProcessEvents"), EVENT_TIME), ["Timestamp"]);
        assert_eq!(profile.columns(Scope::table("SigninLogs"), EVENT_TIME), ["TimeGenerated"]);
        assert_eq!(asim.columns(Scope::table("imProcessCreate"), EVENT_TIME), ["TimeGenerated"]);
    }

    #[test]
    fn every_profile_loads_and_unknown_names_are_refused() {
        for name in ["sentinel", "asim", "azure-monitor"] {
            assert!(!named(Some(name)).unwrap().1.logsources.is_empty(), "{name}");
        }
        assert!(named(Some("nope")).unwrap_err().contains("asim"));
        // A table holding other events too asks for this logsource's, by value.
        let (_, monitor) = named(Some("azure-monitor")).unwrap();
        let process = monitor.entry(&logsource(Some("process_creation"), Some("windows"), None)).unwrap();
        assert!(matches!(process.equals.get("EventID"), Some(Constant::Int(4688))), "{process:?}");
        let system = monitor.entry(&logsource(None, Some("windows"), Some("system"))).unwrap();
        assert!(matches!(system.equals.get("EventLog"), Some(Constant::Text(log)) if log == "System"), "{system:?}");
    }

    #[test]
    fn categories_sharing_a_table_are_told_apart_and_event_log_fields_are_read_from_event_data() {
        let (_, profile) = named(None).unwrap();
        let set = profile.entry(&logsource(Some("registry_set"), Some("windows"), None)).unwrap();
        assert!(matches!(set.equals.get("ActionType"), Some(Constant::AnyOf(types)) if types == &["RegistryValueSet"]), "{set:?}");
        let all = profile.entry(&logsource(Some("registry_event"), Some("windows"), None)).unwrap();
        assert!(all.equals.is_empty(), "{all:?}");
        let system = profile.entry(&logsource(None, Some("windows"), Some("system"))).unwrap();
        assert_eq!(system.event_data.as_deref(), Some("EventData"));
        // A field that is no column of Event is an EventData element; a column stays one.
        assert!(
            matches!(profile.transform(system.scope(), &Field::column("ImagePath")).as_deref(), Some(Transform::XmlData { column }) if column == "EventData")
        );
        assert!(profile.transform(system.scope(), &Field::column("EventID")).is_none());
        // Columns are the table's in targets/kql-schemas.tsv, whatever the case Sigma writes.
        let security = profile.entry(&logsource(None, Some("windows"), Some("security"))).unwrap();
        assert!(profile.transform(security.scope(), &Field::column("keywords")).is_none());
        assert!(profile.transform(security.scope(), &Field::column("ServiceSid")).is_some());
        assert!(profile.transform(Scope::table("Event"), &Field::column("ImagePath")).is_none());
        // One table, two logsources, two accounts: Sysmon's `User` is the new process's in event
        // 4688 (its target subject), the acting one's in event 4663 (the subject).
        let (_, monitor) = named(Some("azure-monitor")).unwrap();
        let account_name = |category: &str| {
            let entry = monitor.entry(&logsource(Some(category), Some("windows"), None)).unwrap();
            match monitor.transform(entry.scope(), &Field::column("User")).as_deref() {
                Some(Transform::Account(account)) => account.name.clone(),
                other => panic!("{category}: {other:?}"),
            }
        };
        assert_eq!(account_name("process_creation"), "TargetUserName");
        assert_eq!(account_name("file_event"), "SubjectUserName");
        // A process-creation rule's fields on the Defender table are not Windows event data.
        let process = profile.entry(&logsource(Some("process_creation"), Some("windows"), None)).unwrap();
        assert_eq!(process.event_data, None);
    }
}
