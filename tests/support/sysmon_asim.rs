//! Sysmon events (Sigma's field names, which are Sysmon's) as the rows Microsoft Sentinel's ASIM
//! parsers make of them: the tables of the `asim` KQL profile (`imProcessCreate`, `imFileEvent`,
//! `imRegistry`, `imNetworkSession`). Written from Microsoft's own Sysmon parsers and the ASIM
//! schema references, never from ruleconv's mapping (`targets/kql.yaml`), which it must not read:
//! it is the independent side of the cross-schema execution test.
//!
//! Sources (github.com/Azure/Azure-Sentinel, `Parsers/`; learn.microsoft.com/azure/sentinel/
//! `*-normalization-schema` for the fields' meaning):
//! - `ASimProcessEvent/Parsers/vimProcessCreateMicrosoftSysmon.yaml` (event 1): the new process
//!   is the target (`TargetProcessName` = Image, `TargetUsername` = User, `TargetUserSessionId` =
//!   LogonId, `TargetProcessFilename` = OriginalFileName, version information as
//!   `TargetProcessFile*`), its parent the acting process (`ActingProcessName` = ParentImage,
//!   `ActorUsername` = ParentUser). `ParentProcess*` is the acting process's own parent, which
//!   Sysmon does not record. `Hashes` is split into `TargetProcess{MD5,SHA1,SHA256,IMPHASH}` as
//!   printed; GUIDs lose their braces; ids stay text.
//! - `ASimFileEvent/Parsers/vimFileEventMicrosoftSysmon.yaml` (events 11, 23, 26): `EventType`
//!   FileCreated or FileDeleted; `TargetFilePath` is the whole path, `TargetFileName` its last
//!   part; the process that acted is `ActingProcessName`, its account `ActorUsername`. The ASIM
//!   file schema names a renamed file's old path `SrcFilePath` (Sysmon has no rename event).
//! - `ASimRegistryEvent/Parsers/vimRegistryEventMicrosoftSysmon.yaml` (events 12-14): `EventType`
//!   RegistryKeyCreated, RegistryKeyDeleted, RegistryValueDeleted, RegistryValueSet,
//!   RegistryKeyRenamed; the hive spelled out (`HKLM` → `HKEY_LOCAL_MACHINE`, `HKU` →
//!   `HKEY_USERS`, `HKCR` → `HKEY_LOCAL_MACHINE\Classes`); for a value event the key and the
//!   value name apart (`RegistryKey`, `RegistryValue`, the name as Sysmon prints it, `(Default)`
//!   included); `RegistryValueData` = Details as printed (`DWORD (0x00000001)`).
//! - `ASimNetworkSession/Parsers/vimNetworkSessionMicrosoftSysmon.yaml` (event 3): Sysmon's
//!   source and destination stay `Src*` and `Dst*`; `NetworkDirection` is Outbound when the
//!   process initiated the connection, else Inbound, and the process and its account are the
//!   source's (`SrcProcessName`, `SrcUsername`) or the destination's accordingly;
//!   `NetworkProtocol` in upper case; `NetworkProtocolVersion` IPv6 when either end is.

use super::sysmon_defender::{Category, RegistryOp, Shape, as_text, split_last, truthy};
use ruleconv::eval::Row;
use serde_json::json;

/// The ASIM table (parser) that holds a category's events; ASIM has no image-load schema.
pub fn table(category: Category) -> Option<&'static str> {
    Some(match category {
        Category::ProcessCreation => "imProcessCreate",
        Category::FileEvent | Category::FileDelete | Category::FileRename => "imFileEvent",
        Category::NetworkConnection => "imNetworkSession",
        Category::ImageLoad => return None,
        _ => "imRegistry",
    })
}

/// The row the ASIM parser makes of one event read as `shape`; fields with no ASIM column are
/// left out (`translated_fields` lists the others).
pub fn translate(category: Category, shape: Shape, event: &Row) -> Row {
    let mut row = Row::new();
    let text = |field: &str| event.get(field).map(as_text);
    if let Some(device) = text("Computer") {
        row.insert("DvcHostname".into(), json!(device));
        row.insert("Dvc".into(), json!(device));
    }
    row.insert("EventProduct".into(), json!("Sysmon"));
    row.insert("EventVendor".into(), json!("Microsoft"));
    match category {
        Category::ProcessCreation => process_creation(event, &mut row),
        Category::FileEvent | Category::FileDelete | Category::FileRename => file(category, event, &mut row),
        Category::NetworkConnection => {
            let Shape::Connection { outbound } = shape else { return row };
            connection(outbound, event, &mut row);
        }
        Category::ImageLoad => {}
        _ => {
            acting_process(event, &mut row, false);
            let Shape::Registry(op) = shape else { return row };
            registry(op, event, &mut row);
        }
    }
    row
}

/// The Sysmon fields of `category` the parsers keep in some column.
pub fn translated_fields(category: Category) -> &'static [&'static str] {
    match category {
        Category::ProcessCreation => &[
            "Computer",
            "Image",
            "CommandLine",
            "CurrentDirectory",
            "User",
            "LogonId",
            "IntegrityLevel",
            "Hashes",
            "ProcessId",
            "ProcessGuid",
            "ParentProcessId",
            "ParentProcessGuid",
            "ParentImage",
            "ParentCommandLine",
            "ParentUser",
            "OriginalFileName",
            "Description",
            "Product",
            "Company",
            "FileVersion",
        ],
        Category::FileEvent | Category::FileDelete | Category::FileRename => {
            &["Computer", "Image", "User", "ProcessId", "ProcessGuid", "TargetFilename", "SourceFilename", "Hashes"]
        }
        Category::NetworkConnection => &[
            "Computer",
            "Image",
            "User",
            "ProcessId",
            "ProcessGuid",
            "Protocol",
            "Initiated",
            "SourceIp",
            "SourcePort",
            "SourceHostname",
            "SourceIsIpv6",
            "DestinationIp",
            "DestinationPort",
            "DestinationHostname",
            "DestinationIsIpv6",
        ],
        Category::ImageLoad => &[],
        _ => &["Computer", "Image", "User", "ProcessId", "ProcessGuid", "EventType", "TargetObject", "Details", "NewName"],
    }
}

/// Columns the parsers write, and the ASIM schema references list, that the design reference's
/// ASIM schemas lack (it has no `imRegistry` at all: the registry schema's fields and the common
/// ones).
pub fn unlisted_columns(table: &str) -> Vec<(String, String)> {
    let names: &[&str] = match table {
        "imProcessCreate" => &[
            "TargetProcessCurrentDirectory",
            "TargetProcessFilename",
            "TargetProcessFileCompany",
            "TargetProcessFileOriginalName",
            "HashType",
        ],
        "imFileEvent" => &["FileName", "TargetFileIMPHASH", "HashType"],
        "imNetworkSession" => &[
            "NetworkProtocolVersion",
            "SrcProcessName",
            "SrcProcessId",
            "SrcProcessGuid",
            "DstProcessName",
            "DstProcessId",
            "DstProcessGuid",
        ],
        "imRegistry" => &[
            "RegistryKey",
            "RegistryValue",
            "RegistryValueType",
            "RegistryValueData",
            "RegistryPreviousKey",
            "RegistryPreviousValue",
            "RegistryPreviousValueType",
            "RegistryPreviousValueData",
            "ActorUsername",
            "ActorUserId",
            "ActorScope",
            "ActorSessionId",
            "ActingProcessName",
            "ActingProcessId",
            "ActingProcessGuid",
            "ParentProcessName",
            "ParentProcessId",
            "ParentProcessGuid",
            "User",
            "Process",
            "Dvc",
            "DvcHostname",
            "DvcIpAddr",
            "EventType",
            "EventOriginalType",
            "EventProduct",
            "EventVendor",
        ],
        _ => &[],
    };
    names.iter().map(|c| (c.to_string(), "string".to_string())).collect()
}

/// Event 1: the new process is the target, its parent the acting process.
fn process_creation(event: &Row, row: &mut Row) {
    row.insert("EventType".into(), json!("ProcessCreated"));
    row.insert("EventOriginalType".into(), json!("1"));
    copy(
        event,
        row,
        &[
            ("Image", "TargetProcessName"),
            ("Image", "Process"),
            ("CommandLine", "TargetProcessCommandLine"),
            ("CommandLine", "CommandLine"),
            ("CurrentDirectory", "TargetProcessCurrentDirectory"),
            ("User", "TargetUsername"),
            ("User", "User"),
            ("LogonId", "TargetUserSessionId"),
            ("ProcessId", "TargetProcessId"),
            ("IntegrityLevel", "TargetProcessIntegrityLevel"),
            ("OriginalFileName", "TargetProcessFilename"),
            ("Company", "TargetProcessFileCompany"),
            ("Description", "TargetProcessFileDescription"),
            ("FileVersion", "TargetProcessFileVersion"),
            ("Product", "TargetProcessFileProduct"),
            ("ParentProcessId", "ActingProcessId"),
            ("ParentCommandLine", "ActingProcessCommandLine"),
            ("ParentImage", "ActingProcessName"),
            ("ParentUser", "ActorUsername"),
        ],
    );
    guid(event, row, "ProcessGuid", "TargetProcessGuid");
    guid(event, row, "ParentProcessGuid", "ActingProcessGuid");
    if let Some(hashes) = event.get("Hashes").map(as_text) {
        hash_columns(row, "TargetProcess", &hashes);
    }
}

/// Events 11 (created) and 23/26 (deleted); a rename as the ASIM file schema describes one.
fn file(category: Category, event: &Row, row: &mut Row) {
    let (event_type, id) = match category {
        Category::FileDelete => ("FileDeleted", "23"),
        Category::FileRename => ("FileRenamed", ""),
        _ => ("FileCreated", "11"),
    };
    row.insert("EventType".into(), json!(event_type));
    if !id.is_empty() {
        row.insert("EventOriginalType".into(), json!(id));
    }
    acting_process(event, row, true);
    if let Some(path) = event.get("TargetFilename").map(as_text) {
        for column in ["TargetFilePath", "FilePath"] {
            row.insert(column.into(), json!(path));
        }
        for column in ["TargetFileName", "FileName"] {
            row.insert(column.into(), json!(split_last(&path).1));
        }
    }
    if let Some(path) = event.get("SourceFilename").map(as_text) {
        row.insert("SrcFilePath".into(), json!(path));
        row.insert("SrcFileName".into(), json!(split_last(&path).1));
    }
    if let Some(hashes) = event.get("Hashes").map(as_text) {
        hash_columns(row, "TargetFile", &hashes);
    }
}

/// Events 12-14.
fn registry(op: RegistryOp, event: &Row, row: &mut Row) {
    let (event_type, id) = match op {
        RegistryOp::CreateKey => ("RegistryKeyCreated", "12"),
        RegistryOp::DeleteKey => ("RegistryKeyDeleted", "12"),
        RegistryOp::DeleteValue => ("RegistryValueDeleted", "12"),
        RegistryOp::SetValue => ("RegistryValueSet", "13"),
        RegistryOp::RenameKey => ("RegistryKeyRenamed", "14"),
    };
    row.insert("EventType".into(), json!(event_type));
    row.insert("EventOriginalType".into(), json!(id));
    let text = |field: &str| event.get(field).map(as_text);
    let target = asim_key(&text("TargetObject").unwrap_or_default());
    if op == RegistryOp::RenameKey {
        row.insert("RegistryPreviousKey".into(), json!(target));
        row.insert("RegistryKey".into(), json!(asim_key(&text("NewName").unwrap_or_default())));
        return;
    }
    if op.names_value() {
        let (key, value) = split_last(&target);
        row.insert("RegistryKey".into(), json!(key));
        row.insert("RegistryValue".into(), json!(value));
    } else {
        row.insert("RegistryKey".into(), json!(target));
        row.insert("RegistryValue".into(), json!(""));
    }
    let data = text("Details").filter(|_| op == RegistryOp::SetValue).unwrap_or_default();
    row.insert("RegistryValueData".into(), json!(data));
}

/// A key as Sysmon prints it with the hive as the parser spells it; other keys as they are.
pub fn asim_key(key: &str) -> String {
    const HIVES: [(&str, &str); 3] = [("HKLM", "HKEY_LOCAL_MACHINE"), ("HKU", "HKEY_USERS"), ("HKCR", "HKEY_LOCAL_MACHINE\\Classes")];
    let (head, rest) = key.split_once('\\').map_or((key, None), |(h, r)| (h, Some(r)));
    match HIVES.iter().find(|(short, _)| short.eq_ignore_ascii_case(head)) {
        Some((_, long)) => rest.map_or_else(|| long.to_string(), |rest| format!("{long}\\{rest}")),
        None => key.to_string(),
    }
}

/// Event 3: the endpoints keep Sysmon's names; the process is the initiator's end.
fn connection(outbound: bool, event: &Row, row: &mut Row) {
    row.insert("EventType".into(), json!("EndpointNetworkSession"));
    row.insert("EventOriginalType".into(), json!("3"));
    row.insert("NetworkDirection".into(), json!(if outbound { "Outbound" } else { "Inbound" }));
    copy(
        event,
        row,
        &[
            ("SourceIp", "SrcIpAddr"),
            ("SourceIp", "Src"),
            ("SourceIp", "IpAddr"),
            ("SourceIp", "DvcIpAddr"),
            ("DestinationIp", "DstIpAddr"),
            ("DestinationIp", "Dst"),
            ("SourceHostname", "SrcHostname"),
            ("DestinationHostname", "DstHostname"),
        ],
    );
    // The `Hostname` alias: the source's name, or the destination's where the source has none.
    let source = event.get("SourceHostname").map(as_text).filter(|h| h != "-");
    if let Some(host) = source.or_else(|| event.get("DestinationHostname").map(as_text)) {
        row.insert("Hostname".into(), json!(host));
    }
    for (field, column) in [("SourcePort", "SrcPortNumber"), ("DestinationPort", "DstPortNumber")] {
        if let Some(port) = event.get(field).map(as_text).and_then(|p| p.trim().parse::<i64>().ok()) {
            row.insert(column.into(), json!(port));
        }
    }
    if let Some(protocol) = event.get("Protocol").map(as_text) {
        row.insert("NetworkProtocol".into(), json!(protocol.to_uppercase()));
    }
    let ipv6 = ["SourceIsIpv6", "DestinationIsIpv6"].iter().any(|f| event.get(*f).and_then(truthy) == Some(true));
    row.insert("NetworkProtocolVersion".into(), json!(if ipv6 { "IPv6" } else { "IPv4" }));
    let end = if outbound { "Src" } else { "Dst" };
    copy(
        event,
        row,
        &[
            ("Image", &format!("{end}ProcessName")),
            ("Image", &format!("{end}AppName")),
            ("User", &format!("{end}Username")),
            ("ProcessId", &format!("{end}ProcessId")),
        ],
    );
    guid(event, row, "ProcessGuid", &format!("{end}ProcessGuid"));
}

/// The process that acted (registry and file events), with its account.
fn acting_process(event: &Row, row: &mut Row, numeric_id: bool) {
    copy(event, row, &[("Image", "ActingProcessName"), ("Image", "Process"), ("User", "ActorUsername"), ("User", "User")]);
    guid(event, row, "ProcessGuid", "ActingProcessGuid");
    if let Some(id) = event.get("ProcessId").map(as_text) {
        // Text, as the parsers write it, except where the reference schema types the column
        // an int (imFileEvent).
        let number = id.trim().parse::<i64>().ok().filter(|_| numeric_id);
        row.insert("ActingProcessId".into(), number.map_or_else(|| json!(id), |n| json!(n)));
    }
}

/// Fields copied as they are, each to the columns listed for it.
fn copy(event: &Row, row: &mut Row, pairs: &[(&str, &str)]) {
    for (field, column) in pairs {
        if let Some(value) = event.get(*field).map(as_text) {
            row.insert(column.to_string(), json!(value));
        }
    }
}

/// A GUID without the braces Sysmon prints around it.
fn guid(event: &Row, row: &mut Row, field: &str, column: &str) {
    if let Some(value) = event.get(field).map(as_text) {
        row.insert(column.into(), json!(value.trim_start_matches('{').trim_end_matches('}')));
    }
}

/// `SHA1=..,MD5=..` as a column per algorithm, the digests as printed (the parsers' `parse-kv`),
/// and the `Hash` alias: the first of SHA256, SHA1, IMPHASH, MD5 present.
fn hash_columns(row: &mut Row, prefix: &str, hashes: &str) {
    let mut found = Vec::new();
    for part in hashes.split(',') {
        let Some((algorithm, value)) = part.split_once('=') else { continue };
        let algorithm = algorithm.trim().to_ascii_uppercase();
        if ["MD5", "SHA1", "SHA256", "IMPHASH"].contains(&algorithm.as_str()) {
            row.insert(format!("{prefix}{algorithm}"), json!(value.trim()));
            found.push((algorithm, value.trim().to_string()));
        }
    }
    let first = ["SHA256", "SHA1", "IMPHASH", "MD5"].iter().find_map(|a| found.iter().find(|(f, _)| f == a));
    if let Some((algorithm, value)) = first {
        row.insert("Hash".into(), json!(value));
        row.insert("HashType".into(), json!(algorithm));
    }
}
