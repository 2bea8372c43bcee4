//! An event translator from Windows/Sysmon events, with the field names Sigma uses (which are
//! Sysmon's), to Microsoft Defender XDR advanced-hunting rows. Written from the vendors'
//! documentation and checked on their sample rows (`tests/cross_schema.rs`), never from
//! ruleconv's own field mapping (`targets/kql.yaml`, `src/emit/kql`), which it must not read:
//! it is the independent side of the cross-schema execution test.
//!
//! Sources:
//! - Sysmon: https://learn.microsoft.com/sysinternals/downloads/sysmon (events 1 process
//!   creation, 3 network connection, 7 image loaded, 11 file create, 12/13/14 registry
//!   create-delete / value set / rename with `EventType` CreateKey, DeleteKey, DeleteValue,
//!   SetValue, RenameKey, 23/26 file delete); SigmaHQ's regression events
//!   (`tests/fixtures-events/cross_schema/sysmon_events.jsonl`) show the value formats: `HKLM\...`,
//!   `DWORD (0x00000001)`, `Hashes: SHA1=..,MD5=..,SHA256=..,IMPHASH=..` in upper case, `User:
//!   DOMAIN\name`, `Initiated: true`, `LogonId: 0x529ae3`.
//! - Defender XDR: https://learn.microsoft.com/defender-xdr/advanced-hunting-deviceprocessevents-table
//!   and the -devicefileevents-, -deviceregistryevents-, -devicenetworkevents- and
//!   -deviceimageloadevents-table pages (columns and types; the "initiating process" is the
//!   process that acted, and for a new process its parent); Azure-Sentinel's
//!   `Sample Data/ASIM/M365_ProcessEvents_InesgtedLogs.csv` (real DeviceProcessEvents rows:
//!   `FolderPath` is the whole path including the file name, `FileName` the last part, hashes in
//!   lower case); public Defender hunting queries for registry rows (`RegistryKey ==
//!   @"HKEY_LOCAL_MACHINE\SOFTWARE\..."` with the value in `RegistryValueName`, `RegistryValueType
//!   == "Dword"` with `RegistryValueData == "1"`, `ActionType == "RegistryValueSet"`).

use ruleconv::eval::Row;
use serde_json::{Value as Json, json};

/// The Defender tables the translator writes.
pub const TABLES: [&str; 5] =
    ["DeviceProcessEvents", "DeviceFileEvents", "DeviceRegistryEvents", "DeviceNetworkEvents", "DeviceImageLoadEvents"];

/// The `ActionType` a table's rows most often have: the one of Sysmon's matching event.
pub fn usual_action(table: &str) -> &'static str {
    match table {
        "DeviceProcessEvents" => "ProcessCreated",
        "DeviceFileEvents" => "FileCreated",
        "DeviceRegistryEvents" => "RegistryValueSet",
        "DeviceNetworkEvents" => "ConnectionSuccess",
        _ => "ImageLoaded",
    }
}

/// Whether a Sigma rule of category `rule` sees events of category `event`.
pub fn sees(rule: Category, event: Category) -> bool {
    rule == event || (rule == RegistryEvent && event.table() == "DeviceRegistryEvents")
}

/// The Sigma logsource categories the translator covers, with the Sysmon event each names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Category {
    ProcessCreation,
    FileEvent,
    FileDelete,
    FileRename,
    RegistryAdd,
    RegistryDelete,
    RegistrySet,
    RegistryRename,
    /// Any of Sysmon's registry events (12, 13, 14): the event's `EventType` says which.
    RegistryEvent,
    NetworkConnection,
    ImageLoad,
}

use Category::*;

impl Category {
    pub fn from_sigma(name: &str) -> Option<Category> {
        Some(match name {
            "process_creation" => ProcessCreation,
            "file_event" => FileEvent,
            "file_delete" => FileDelete,
            "file_rename" => FileRename,
            "registry_add" => RegistryAdd,
            "registry_delete" => RegistryDelete,
            "registry_set" => RegistrySet,
            "registry_rename" => RegistryRename,
            "registry_event" => RegistryEvent,
            "network_connection" => NetworkConnection,
            "image_load" => ImageLoad,
            _ => return None,
        })
    }

    /// The Defender table that records this kind of event.
    pub fn table(self) -> &'static str {
        match self {
            ProcessCreation => "DeviceProcessEvents",
            FileEvent | FileDelete | FileRename => "DeviceFileEvents",
            RegistryAdd | RegistryDelete | RegistrySet | RegistryRename | RegistryEvent => "DeviceRegistryEvents",
            NetworkConnection => "DeviceNetworkEvents",
            ImageLoad => "DeviceImageLoadEvents",
        }
    }

    /// The other Sigma categories whose events share this category's table: a rule of this
    /// category must not fire on them.
    pub fn neighbours(self) -> &'static [Category] {
        match self {
            FileEvent => &[FileDelete, FileRename],
            FileDelete => &[FileEvent, FileRename],
            FileRename => &[FileEvent, FileDelete],
            RegistryAdd => &[RegistrySet, RegistryDelete, RegistryRename],
            RegistrySet => &[RegistryAdd, RegistryDelete, RegistryRename],
            RegistryDelete => &[RegistryAdd, RegistrySet, RegistryRename],
            RegistryRename => &[RegistryAdd, RegistrySet, RegistryDelete],
            _ => &[],
        }
    }

    /// The shapes an event of this category can have when the event does not say which
    /// (`EventType`, `Initiated`): each is a real Sysmon event the Sigma rule also sees.
    pub fn shapes(self, event: &Row) -> Vec<Shape> {
        let mut shapes = self.possible_shapes(event);
        shapes.retain(|shape| loggable(*shape, event));
        shapes
    }

    fn possible_shapes(self, event: &Row) -> Vec<Shape> {
        let given = |field: &str| event.get(field).and_then(Json::as_str).filter(|s| !s.is_empty()).map(str::to_string);
        match self {
            RegistryAdd => vec![Shape::Registry(RegistryOp::CreateKey)],
            RegistrySet => vec![Shape::Registry(RegistryOp::SetValue)],
            RegistryRename => vec![Shape::Registry(RegistryOp::RenameKey)],
            RegistryDelete | RegistryEvent => match given("EventType").and_then(|t| RegistryOp::from_event_type(&t)) {
                Some(op) => vec![Shape::Registry(op)],
                None if self == RegistryDelete => vec![Shape::Registry(RegistryOp::DeleteKey), Shape::Registry(RegistryOp::DeleteValue)],
                // Only a value set carries `Details`.
                None if given("Details").is_some() => vec![Shape::Registry(RegistryOp::SetValue)],
                None => vec![
                    Shape::Registry(RegistryOp::SetValue),
                    Shape::Registry(RegistryOp::CreateKey),
                    Shape::Registry(RegistryOp::DeleteValue),
                ],
            },
            NetworkConnection => match event.get("Initiated").map(truthy) {
                Some(Some(outbound)) => vec![Shape::Connection { outbound }],
                Some(None) => Vec::new(),
                None => vec![Shape::Connection { outbound: true }, Shape::Connection { outbound: false }],
            },
            _ => vec![Shape::Plain],
        }
    }

    /// The shape a neighbour category's event has.
    pub fn own_shape(self) -> Shape {
        match self {
            RegistryAdd => Shape::Registry(RegistryOp::CreateKey),
            RegistrySet => Shape::Registry(RegistryOp::SetValue),
            RegistryDelete => Shape::Registry(RegistryOp::DeleteValue),
            RegistryRename => Shape::Registry(RegistryOp::RenameKey),
            _ => Shape::Plain,
        }
    }
}

/// Whether Sysmon can log the event in this shape: generated near misses may write values Sysmon
/// never prints, which have no Defender row to translate to.
/// - A registry value event's `TargetObject` is the key, `\`, then the value name, and Sysmon
///   names a key's unnamed value `(Default)` (Sysmon events 12-14: "TargetObject: complete path
///   of the registry key/value"; SigmaHQ's regression events end in `\(Default)`).
/// - Registry numbers are printed `DWORD (0x%08x)`, `QWORD (0x%08x-0x%08x)`, hex digits in lower
///   case (the regression events: `DWORD (0x00000001)`).
/// - A registry event's `EventType` is one of CreateKey, DeleteKey, DeleteValue, SetValue,
///   RenameKey (Sysmon events 12-14).
/// - `Hashes` lists `ALGORITHM=digest` pairs of the algorithms Sysmon's `HashAlgorithms` option
///   names (MD5, SHA1, SHA256, IMPHASH).
fn loggable(shape: Shape, event: &Row) -> bool {
    let text = |field: &str| event.get(field).map(as_text).unwrap_or_default();
    let value_path = |path: &str| split_last(path).0.chars().any(|c| c != '\\') && !split_last(path).1.is_empty();
    let names_value = matches!(shape, Shape::Registry(op) if op.names_value());
    let details = text("Details");
    let number = details.get(..7).filter(|head| head.eq_ignore_ascii_case("DWORD (") || head.eq_ignore_ascii_case("QWORD ("));
    let hashes = text("Hashes");
    let event_type = matches!(shape, Shape::Registry(_)) && event.contains_key("EventType");
    (!event_type || RegistryOp::from_event_type(&text("EventType")).is_some())
        && (!names_value || value_path(&text("TargetObject")))
        && (number.is_none() || registry_data(&details).0.is_some())
        && (hashes.is_empty()
            || hashes
                .split(',')
                .all(|pair| pair.split_once('=').is_some_and(|(algorithm, _)| ["MD5", "SHA1", "SHA256", "IMPHASH"].contains(&algorithm))))
}

/// What a Sysmon registry event did (its `EventType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegistryOp {
    CreateKey,
    DeleteKey,
    DeleteValue,
    SetValue,
    RenameKey,
}

impl RegistryOp {
    fn from_event_type(text: &str) -> Option<RegistryOp> {
        Some(match text {
            "CreateKey" => RegistryOp::CreateKey,
            "DeleteKey" => RegistryOp::DeleteKey,
            "DeleteValue" => RegistryOp::DeleteValue,
            "SetValue" => RegistryOp::SetValue,
            "RenameKey" => RegistryOp::RenameKey,
            _ => return None,
        })
    }

    /// Defender's `ActionType` for it (DeviceRegistryEvents).
    fn action_type(self) -> &'static str {
        match self {
            RegistryOp::CreateKey => "RegistryKeyCreated",
            RegistryOp::DeleteKey => "RegistryKeyDeleted",
            RegistryOp::DeleteValue => "RegistryValueDeleted",
            RegistryOp::SetValue => "RegistryValueSet",
            RegistryOp::RenameKey => "RegistryKeyRenamed",
        }
    }

    /// Whether `TargetObject` names a value (`key\value`) rather than a key.
    pub fn names_value(self) -> bool {
        matches!(self, RegistryOp::DeleteValue | RegistryOp::SetValue)
    }
}

/// Which real event an incomplete event is taken to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Plain,
    Registry(RegistryOp),
    /// Sysmon's `Initiated`: whether the process opened the connection.
    Connection {
        outbound: bool,
    },
}

/// The Defender row of `category`'s table for one event, read as `shape`. Fields with no
/// Defender column are left out (`untranslated` names them).
pub fn translate(category: Category, shape: Shape, event: &Row) -> Row {
    let mut row = Row::new();
    let text = |field: &str| event.get(field).map(as_text);
    if let Some(device) = text("Computer") {
        row.insert("DeviceName".into(), json!(device));
    }
    match category {
        ProcessCreation => process_creation(event, &mut row),
        FileEvent | FileDelete | FileRename => {
            acting_process(event, &mut row);
            let action = match category {
                FileDelete => "FileDeleted",
                FileRename => "FileRenamed",
                _ => "FileCreated",
            };
            row.insert("ActionType".into(), json!(action));
            if let Some(path) = text("TargetFilename") {
                path_columns(&mut row, "", &path);
            }
            if let Some(path) = text("SourceFilename") {
                path_columns(&mut row, "Previous", &path);
            }
            if let Some(hashes) = text("Hashes") {
                hash_columns(&mut row, "", &hashes);
            }
        }
        RegistryAdd | RegistryDelete | RegistrySet | RegistryRename | RegistryEvent => {
            acting_process(event, &mut row);
            let Shape::Registry(op) = shape else { return row };
            registry(op, event, &mut row);
        }
        NetworkConnection => {
            acting_process(event, &mut row);
            let Shape::Connection { outbound } = shape else { return row };
            connection(outbound, event, &mut row);
        }
        ImageLoad => {
            acting_process(event, &mut row);
            row.insert("ActionType".into(), json!("ImageLoaded"));
            if let Some(path) = text("ImageLoaded") {
                path_columns(&mut row, "", &path);
            }
            // The loaded file's hashes; its version information and signature have no column.
            if let Some(hashes) = text("Hashes") {
                hash_columns(&mut row, "", &hashes);
            }
        }
    }
    row
}

/// The Sysmon fields of `category` the translator writes somewhere; others have no column.
pub fn translated_fields(category: Category) -> &'static [&'static str] {
    match category {
        ProcessCreation => &[
            "Computer",
            "Image",
            "CommandLine",
            "User",
            "LogonId",
            "IntegrityLevel",
            "Hashes",
            "ProcessId",
            "ParentProcessId",
            "ParentImage",
            "ParentCommandLine",
            "ParentUser",
            "OriginalFileName",
            "Description",
            "Product",
            "Company",
        ],
        FileEvent | FileDelete | FileRename => &["Computer", "Image", "User", "ProcessId", "TargetFilename", "SourceFilename", "Hashes"],
        RegistryAdd | RegistryDelete | RegistrySet | RegistryRename | RegistryEvent => {
            &["Computer", "Image", "User", "ProcessId", "EventType", "TargetObject", "Details", "NewName"]
        }
        NetworkConnection => &[
            "Computer",
            "Image",
            "User",
            "ProcessId",
            "Protocol",
            "Initiated",
            "SourceIp",
            "SourcePort",
            "DestinationIp",
            "DestinationPort",
            "DestinationHostname",
        ],
        ImageLoad => &["Computer", "Image", "User", "ProcessId", "ImageLoaded", "Hashes"],
    }
}

/// The columns the translator writes in `table`, typed as Microsoft documents them; every one
/// is in the table's documentation (the version-info columns also in the sample rows).
pub fn written_columns(table: &str) -> Vec<(String, String)> {
    let mut columns: Vec<(&str, &str)> = vec![
        ("ActionType", "string"),
        ("DeviceName", "string"),
        ("InitiatingProcessFolderPath", "string"),
        ("InitiatingProcessFileName", "string"),
        ("InitiatingProcessAccountDomain", "string"),
        ("InitiatingProcessAccountName", "string"),
        ("InitiatingProcessId", "long"),
    ];
    let more: &[(&str, &str)] = match table {
        "DeviceProcessEvents" => &[
            ("FolderPath", "string"),
            ("FileName", "string"),
            ("ProcessCommandLine", "string"),
            ("AccountDomain", "string"),
            ("AccountName", "string"),
            ("LogonId", "long"),
            ("ProcessIntegrityLevel", "string"),
            ("SHA1", "string"),
            ("MD5", "string"),
            ("SHA256", "string"),
            ("ProcessId", "long"),
            ("InitiatingProcessCommandLine", "string"),
            ("ProcessVersionInfoOriginalFileName", "string"),
            ("ProcessVersionInfoFileDescription", "string"),
            ("ProcessVersionInfoProductName", "string"),
            ("ProcessVersionInfoCompanyName", "string"),
        ],
        "DeviceFileEvents" => &[
            ("FolderPath", "string"),
            ("FileName", "string"),
            ("PreviousFolderPath", "string"),
            ("PreviousFileName", "string"),
            ("SHA1", "string"),
            ("MD5", "string"),
            ("SHA256", "string"),
        ],
        "DeviceRegistryEvents" => &[
            ("RegistryKey", "string"),
            ("RegistryValueName", "string"),
            ("RegistryValueData", "string"),
            ("RegistryValueType", "string"),
            ("PreviousRegistryKey", "string"),
        ],
        "DeviceNetworkEvents" => &[
            ("Protocol", "string"),
            ("LocalIP", "string"),
            ("LocalPort", "int"),
            ("RemoteIP", "string"),
            ("RemotePort", "int"),
            ("RemoteUrl", "string"),
        ],
        "DeviceImageLoadEvents" => {
            &[("FolderPath", "string"), ("FileName", "string"), ("SHA1", "string"), ("MD5", "string"), ("SHA256", "string")]
        }
        _ => &[],
    };
    columns.extend_from_slice(more);
    columns.into_iter().map(|(c, t)| (c.to_string(), t.to_string())).collect()
}

/// Documented columns the translator leaves empty (no Sysmon field holds their data) and the
/// design reference's table schemas lack: version information and signature columns, in
/// Microsoft's table pages and in the header of Azure-Sentinel's DeviceProcessEvents sample.
pub fn unwritten_columns(table: &str) -> Vec<(String, String)> {
    const VERSION_INFO: [&str; 6] =
        ["CompanyName", "ProductName", "ProductVersion", "InternalFileName", "OriginalFileName", "FileDescription"];
    let mut columns: Vec<String> = VERSION_INFO.iter().map(|c| format!("InitiatingProcessVersionInfo{c}")).collect();
    columns.extend(["InitiatingProcessSignerType", "InitiatingProcessSignatureStatus"].map(String::from));
    if table == "DeviceProcessEvents" {
        columns.extend(VERSION_INFO.iter().map(|c| format!("ProcessVersionInfo{c}")));
    }
    columns.into_iter().map(|c| (c, "string".to_string())).collect()
}

/// Sysmon event 1 → DeviceProcessEvents: the new process is the row's own columns, its parent
/// the initiating process.
fn process_creation(event: &Row, row: &mut Row) {
    row.insert("ActionType".into(), json!("ProcessCreated"));
    let text = |field: &str| event.get(field).map(as_text);
    if let Some(path) = text("Image") {
        path_columns(row, "", &path);
    }
    if let Some(path) = text("ParentImage") {
        path_columns(row, "InitiatingProcess", &path);
    }
    if let Some(user) = text("User") {
        account_columns(row, "", &user);
    }
    if let Some(user) = text("ParentUser") {
        account_columns(row, "InitiatingProcess", &user);
    }
    if let Some(hashes) = text("Hashes") {
        hash_columns(row, "", &hashes);
    }
    // Sysmon prints the logon id in hexadecimal (`0x3e7`); Defender's `LogonId` is a long.
    if let Some(id) = text("LogonId").and_then(|t| number(&t)) {
        row.insert("LogonId".into(), json!(id));
    }
    for (field, column) in [
        ("CommandLine", "ProcessCommandLine"),
        ("ParentCommandLine", "InitiatingProcessCommandLine"),
        // Sysmon and Defender both name the levels Low, Medium, High, System.
        ("IntegrityLevel", "ProcessIntegrityLevel"),
        ("OriginalFileName", "ProcessVersionInfoOriginalFileName"),
        ("Description", "ProcessVersionInfoFileDescription"),
        ("Product", "ProcessVersionInfoProductName"),
        ("Company", "ProcessVersionInfoCompanyName"),
    ] {
        if let Some(value) = text(field) {
            row.insert(column.into(), json!(value));
        }
    }
    for (field, column) in [("ProcessId", "ProcessId"), ("ParentProcessId", "InitiatingProcessId")] {
        if let Some(id) = text(field).and_then(|t| number(&t)) {
            row.insert(column.into(), json!(id));
        }
    }
}

/// The process that acted (Sysmon's `Image`, `User`, `ProcessId`) as Defender's initiating
/// process.
fn acting_process(event: &Row, row: &mut Row) {
    let text = |field: &str| event.get(field).map(as_text);
    if let Some(path) = text("Image") {
        path_columns(row, "InitiatingProcess", &path);
    }
    if let Some(user) = text("User") {
        account_columns(row, "InitiatingProcess", &user);
    }
    if let Some(id) = text("ProcessId").and_then(|t| number(&t)) {
        row.insert("InitiatingProcessId".into(), json!(id));
    }
}

/// Sysmon events 12-14 → DeviceRegistryEvents.
fn registry(op: RegistryOp, event: &Row, row: &mut Row) {
    row.insert("ActionType".into(), json!(op.action_type()));
    let text = |field: &str| event.get(field).map(as_text);
    let target = text("TargetObject").unwrap_or_default();
    if op == RegistryOp::RenameKey {
        // Sysmon 14: `TargetObject` is the old key, `NewName` the new one.
        row.insert("PreviousRegistryKey".into(), json!(defender_key(&target)));
        row.insert("RegistryKey".into(), json!(defender_key(&text("NewName").unwrap_or_default())));
        return;
    }
    if op.names_value() {
        let (key, value) = split_last(&target);
        row.insert("RegistryKey".into(), json!(defender_key(key)));
        // Sysmon prints a key's unnamed (default) value as `(Default)`; the registry API names it
        // with the empty string (RegSetValueExW: "If lpValueName is NULL or an empty string,
        // the function sets the type and data for the key's unnamed or default value").
        let value = if value == "(Default)" { "" } else { value };
        row.insert("RegistryValueName".into(), json!(value));
    } else {
        row.insert("RegistryKey".into(), json!(defender_key(&target)));
    }
    // Only a value set (Sysmon 13) carries the data.
    if let Some(details) = text("Details").filter(|_| op == RegistryOp::SetValue) {
        let (kind, data) = registry_data(&details);
        row.insert("RegistryValueData".into(), json!(data));
        if let Some(kind) = kind {
            row.insert("RegistryValueType".into(), json!(kind));
        }
    }
}

/// A key as Sysmon prints it (`HKLM\...`, `HKU\<sid>\...`) spelled as Defender stores it
/// (`HKEY_LOCAL_MACHINE\...`): the predefined keys' full names (Win32 "Predefined Keys").
/// Defender files a user's hive as `HKEY_CURRENT_USER\<sid>\...` (public hunting queries test
/// `RegistryKey startswith "HKEY_CURRENT_USER"` on user Run keys).
pub fn defender_key(key: &str) -> String {
    const HIVES: [(&str, &str); 5] = [
        ("HKLM", "HKEY_LOCAL_MACHINE"),
        ("HKU", "HKEY_CURRENT_USER"),
        ("HKCU", "HKEY_CURRENT_USER"),
        ("HKCR", "HKEY_CLASSES_ROOT"),
        ("HKCC", "HKEY_CURRENT_CONFIG"),
    ];
    let (head, rest) = key.split_once('\\').map_or((key, None), |(h, r)| (h, Some(r)));
    match HIVES.iter().find(|(short, _)| short.eq_ignore_ascii_case(head)) {
        Some((_, long)) => rest.map_or_else(|| long.to_string(), |rest| format!("{long}\\{rest}")),
        None => key.to_string(),
    }
}

/// Sysmon's `Details` as Defender's value type and data: `DWORD (0x00000001)` is a Dword
/// stored as its decimal number; `QWORD (0x00000000-0x00000001)` (high-low) likewise.
pub fn registry_data(details: &str) -> (Option<&'static str>, String) {
    let inner = |prefix: &str| details.strip_prefix(prefix).and_then(|r| r.strip_suffix(')'));
    // Sysmon's digits: `0x`, then lower-case hexadecimal.
    fn hex(h: &str) -> Option<&str> {
        h.strip_prefix("0x").filter(|d| !d.is_empty() && d.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')))
    }
    if let Some(n) = inner("DWORD (").and_then(hex).and_then(|digits| u32::from_str_radix(digits, 16).ok()) {
        return (Some("Dword"), n.to_string());
    }
    if let Some((high, low)) = inner("QWORD (").and_then(|r| r.split_once('-')) {
        let part = |h: &str| hex(h).and_then(|digits| u64::from_str_radix(digits, 16).ok());
        if let (Some(high), Some(low)) = (part(high), part(low)) {
            return (Some("Qword"), ((high << 32) | low).to_string());
        }
    }
    (None, details.to_string())
}

/// Sysmon event 3 → DeviceNetworkEvents. Sysmon names the endpoints by who opened the
/// connection (source = the initiator); Defender by where the sensor is (local, remote).
fn connection(outbound: bool, event: &Row, row: &mut Row) {
    let text = |field: &str| event.get(field).map(as_text);
    // Defender's ActionType for an accepted inbound connection and for an outbound one.
    row.insert("ActionType".into(), json!(if outbound { "ConnectionSuccess" } else { "InboundConnectionAccepted" }));
    let (local, remote) = if outbound { ("Source", "Destination") } else { ("Destination", "Source") };
    if let Some(ip) = text(&format!("{local}Ip")) {
        row.insert("LocalIP".into(), json!(ip));
    }
    if let Some(ip) = text(&format!("{remote}Ip")) {
        row.insert("RemoteIP".into(), json!(ip));
    }
    if let Some(port) = text(&format!("{local}Port")).and_then(|t| number(&t)) {
        row.insert("LocalPort".into(), json!(port));
    }
    if let Some(port) = text(&format!("{remote}Port")).and_then(|t| number(&t)) {
        row.insert("RemotePort".into(), json!(port));
    }
    // Sysmon's destination host name is the remote end's only when the process connected out.
    if let Some(host) = text("DestinationHostname").filter(|_| outbound) {
        row.insert("RemoteUrl".into(), json!(host));
    }
    // Sysmon writes `tcp`/`udp`; Defender `Tcp`/`Udp`.
    if let Some(protocol) = text("Protocol") {
        let mut letters = protocol.chars();
        let spelled: String =
            letters.next().map(|f| f.to_uppercase().chain(letters.flat_map(char::to_lowercase)).collect()).unwrap_or_default();
        row.insert("Protocol".into(), json!(spelled));
    }
}

/// A path as Defender's `<prefix>FolderPath` (the whole path) and `<prefix>FileName` (its last
/// part), as the sample rows have them.
fn path_columns(row: &mut Row, prefix: &str, path: &str) {
    row.insert(format!("{prefix}FolderPath"), json!(path));
    row.insert(format!("{prefix}FileName"), json!(split_last(path).1));
}

/// `DOMAIN\name` as `<prefix>AccountDomain` and `<prefix>AccountName`.
fn account_columns(row: &mut Row, prefix: &str, user: &str) {
    let (domain, name) = user.split_once('\\').unwrap_or(("", user));
    row.insert(format!("{prefix}AccountDomain"), json!(domain));
    row.insert(format!("{prefix}AccountName"), json!(name));
}

/// Sysmon's `SHA1=..,MD5=..,SHA256=..,IMPHASH=..` as Defender's per-algorithm columns, in
/// lower case as the sample rows have them; the import hash has no column.
fn hash_columns(row: &mut Row, prefix: &str, hashes: &str) {
    for part in hashes.split(',') {
        let Some((algorithm, value)) = part.split_once('=') else { continue };
        let column = match algorithm.trim().to_ascii_uppercase().as_str() {
            "SHA1" => "SHA1",
            "MD5" => "MD5",
            "SHA256" => "SHA256",
            _ => continue,
        };
        row.insert(format!("{prefix}{column}"), json!(value.trim().to_ascii_lowercase()));
    }
}

/// Splits at the last path separator (`\` or `/`): (parent, last part).
pub fn split_last(path: &str) -> (&str, &str) {
    match path.rfind(['\\', '/']) {
        Some(at) => (&path[..at], &path[at + 1..]),
        None => ("", path),
    }
}

/// A decimal or `0x` hexadecimal integer.
fn number(text: &str) -> Option<i64> {
    let text = text.trim();
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => i64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// Sysmon's `Initiated` (`true`/`false`, as text or JSON): `None` when it is neither.
pub fn truthy(value: &Json) -> Option<bool> {
    match value {
        Json::Bool(b) => Some(*b),
        Json::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Json::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

pub fn as_text(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        Json::Null => String::new(),
        other => other.to_string(),
    }
}

/// The other way: a Defender row as the Sysmon event that records the same activity, with the
/// category it belongs to; `None` for an `ActionType` Sysmon has no event for. The inverse of
/// `translate`, from the same documentation.
pub fn to_sysmon(table: &str, row: &Row) -> Option<(Category, Row)> {
    let text = |column: &str| row.get(column).map(as_text).filter(|t| !t.is_empty());
    let mut event = Row::new();
    put(&mut event, "Computer", text("DeviceName"));
    let path = |prefix: &str| text(&format!("{prefix}FolderPath"));
    let user = |prefix: &str| {
        let name = text(&format!("{prefix}AccountName"))?;
        Some(text(&format!("{prefix}AccountDomain")).map_or(name.clone(), |domain| format!("{domain}\\{name}")))
    };
    let hashes = |prefix: &str| {
        let parts: Vec<String> = ["SHA1", "MD5", "SHA256"]
            .iter()
            .filter_map(|a| Some(format!("{a}={}", text(&format!("{prefix}{a}"))?.to_ascii_uppercase())))
            .collect();
        (!parts.is_empty()).then(|| parts.join(","))
    };
    let action = text("ActionType").unwrap_or_default();
    let category = match table {
        "DeviceProcessEvents" => {
            put(&mut event, "Image", path(""));
            put(&mut event, "CommandLine", text("ProcessCommandLine"));
            put(&mut event, "User", user(""));
            put(&mut event, "Hashes", hashes(""));
            put(&mut event, "IntegrityLevel", text("ProcessIntegrityLevel"));
            put(&mut event, "LogonId", row.get("LogonId").and_then(Json::as_i64).map(|id| format!("0x{id:x}")));
            put(&mut event, "ProcessId", text("ProcessId"));
            put(&mut event, "ParentImage", path("InitiatingProcess"));
            put(&mut event, "ParentCommandLine", text("InitiatingProcessCommandLine"));
            put(&mut event, "ParentUser", user("InitiatingProcess"));
            put(&mut event, "ParentProcessId", text("InitiatingProcessId"));
            put(&mut event, "OriginalFileName", text("ProcessVersionInfoOriginalFileName"));
            put(&mut event, "Description", text("ProcessVersionInfoFileDescription"));
            put(&mut event, "Product", text("ProcessVersionInfoProductName"));
            put(&mut event, "Company", text("ProcessVersionInfoCompanyName"));
            return (action == "ProcessCreated").then_some((ProcessCreation, event));
        }
        "DeviceFileEvents" => {
            put(&mut event, "TargetFilename", path(""));
            put(&mut event, "SourceFilename", path("Previous"));
            match action.as_str() {
                "FileCreated" => FileEvent,
                "FileDeleted" => {
                    put(&mut event, "Hashes", hashes(""));
                    FileDelete
                }
                "FileRenamed" => FileRename,
                _ => return None,
            }
        }
        "DeviceRegistryEvents" => {
            let key = sysmon_key(&text("RegistryKey").unwrap_or_default());
            let op = [RegistryOp::CreateKey, RegistryOp::DeleteKey, RegistryOp::DeleteValue, RegistryOp::SetValue, RegistryOp::RenameKey]
                .into_iter()
                .find(|op| op.action_type() == action)?;
            put(&mut event, "EventType", Some(format!("{op:?}")));
            if op.names_value() {
                let value = text("RegistryValueName").unwrap_or_else(|| "(Default)".into());
                put(&mut event, "TargetObject", Some(format!("{key}\\{value}")));
            } else if op == RegistryOp::RenameKey {
                put(&mut event, "TargetObject", text("PreviousRegistryKey").map(|k| sysmon_key(&k)));
                put(&mut event, "NewName", Some(key));
            } else {
                put(&mut event, "TargetObject", Some(key));
            }
            if op == RegistryOp::SetValue {
                let data = text("RegistryValueData").unwrap_or_default();
                let dword = text("RegistryValueType").as_deref() == Some("Dword");
                put(&mut event, "Details", Some(data.parse::<u32>().ok().filter(|_| dword).map_or(data, |n| format!("DWORD (0x{n:08x})"))));
            }
            match op {
                RegistryOp::CreateKey => RegistryAdd,
                RegistryOp::DeleteKey | RegistryOp::DeleteValue => RegistryDelete,
                RegistryOp::SetValue => RegistrySet,
                RegistryOp::RenameKey => RegistryRename,
            }
        }
        "DeviceNetworkEvents" => {
            let outbound = match action.as_str() {
                "ConnectionSuccess" | "ConnectionAttempt" | "ConnectionFailed" => true,
                "InboundConnectionAccepted" => false,
                _ => return None,
            };
            let (local, remote) = if outbound { ("Source", "Destination") } else { ("Destination", "Source") };
            put(&mut event, "Initiated", Some(outbound.to_string()));
            put(&mut event, &format!("{local}Ip"), text("LocalIP"));
            put(&mut event, &format!("{local}Port"), text("LocalPort"));
            put(&mut event, &format!("{remote}Ip"), text("RemoteIP"));
            put(&mut event, &format!("{remote}Port"), text("RemotePort"));
            put(&mut event, "DestinationHostname", text("RemoteUrl").filter(|_| outbound));
            put(&mut event, "Protocol", text("Protocol").map(|p| p.to_ascii_lowercase()));
            NetworkConnection
        }
        "DeviceImageLoadEvents" => {
            put(&mut event, "ImageLoaded", path(""));
            put(&mut event, "Hashes", hashes(""));
            (action == "ImageLoaded").then_some(ImageLoad)?
        }
        _ => return None,
    };
    put(&mut event, "Image", path("InitiatingProcess"));
    put(&mut event, "User", user("InitiatingProcess"));
    put(&mut event, "ProcessId", text("InitiatingProcessId"));
    Some((category, event))
}

/// A key as Defender stores it, with the hive as Sysmon prints it (`HKLM\...`).
fn sysmon_key(key: &str) -> String {
    const HIVES: [(&str, &str); 4] =
        [("HKEY_LOCAL_MACHINE", "HKLM"), ("HKEY_CURRENT_USER", "HKU"), ("HKEY_USERS", "HKU"), ("HKEY_CLASSES_ROOT", "HKCR")];
    let (head, rest) = key.split_once('\\').map_or((key, None), |(h, r)| (h, Some(r)));
    match HIVES.iter().find(|(long, _)| long.eq_ignore_ascii_case(head)) {
        Some((_, short)) => rest.map_or_else(|| short.to_string(), |rest| format!("{short}\\{rest}")),
        None => key.to_string(),
    }
}

/// Sets a field when there is a value.
fn put(event: &mut Row, field: &str, value: Option<String>) {
    if let Some(value) = value {
        event.insert(field.into(), json!(value));
    }
}
