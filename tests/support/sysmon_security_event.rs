//! Sysmon's process creation (event 1, Sigma's `process_creation` field names) as the Windows
//! Security event 4688 that records the same process, in the columns of Sentinel's
//! `SecurityEvent` table: the target of the `azure-monitor` KQL profile. Written from
//! Microsoft's documentation of event 4688 ("A new process has been created",
//! learn.microsoft.com/windows/security/threat-protection/auditing/event-4688): the subject
//! (`SubjectUserName`, `SubjectDomainName`, `SubjectLogonId`) is the account that asked for the
//! process, the target (`TargetUserName`, `TargetDomainName`, `TargetLogonId`) the new
//! process's account; `NewProcessName` and `ParentProcessName` are full paths; `NewProcessId`
//! and the creator's `ProcessId` are hexadecimal; `MandatoryLabel` is the integrity level's SID
//! (S-1-16-4096 Low, S-1-16-8192 Medium, S-1-16-12288 High, S-1-16-16384 System). The event has
//! no hashes, version information, current directory or parent command line. Never written
//! from ruleconv's own mapping.

use ruleconv::eval::Row;
use serde_json::{Value as Json, json};

/// The 4688 row of one Sysmon process creation event.
pub fn translate(event: &Row) -> Row {
    let text = |field: &str| event.get(field).map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string));
    let mut row = Row::new();
    row.insert("EventID".into(), json!(4688));
    for (field, column) in [
        ("Computer", "Computer"),
        ("Image", "NewProcessName"),
        ("CommandLine", "CommandLine"),
        ("ParentImage", "ParentProcessName"),
        ("LogonId", "TargetLogonId"),
    ] {
        if let Some(value) = text(field) {
            row.insert(column.into(), json!(value));
        }
    }
    for (field, column) in [("ProcessId", "NewProcessId"), ("ParentProcessId", "ProcessId")] {
        if let Some(id) = text(field).and_then(|t| t.trim().parse::<u64>().ok()) {
            row.insert(column.into(), json!(format!("0x{id:x}")));
        }
    }
    if let Some(user) = text("User") {
        let (domain, name) = user.split_once('\\').unwrap_or(("", &user));
        row.insert("TargetDomainName".into(), json!(domain));
        row.insert("TargetUserName".into(), json!(name));
    }
    if let Some(user) = text("ParentUser") {
        let (domain, name) = user.split_once('\\').unwrap_or(("", &user));
        row.insert("SubjectDomainName".into(), json!(domain));
        row.insert("SubjectUserName".into(), json!(name));
        row.insert("Account".into(), json!(user));
    }
    if let Some(level) = text("IntegrityLevel") {
        let rid = match level.to_ascii_lowercase().as_str() {
            "low" => Some(4096),
            "medium" => Some(8192),
            "high" => Some(12288),
            "system" => Some(16384),
            _ => None,
        };
        row.insert("MandatoryLabel".into(), rid.map_or(Json::String(level), |rid| json!(format!("S-1-16-{rid}"))));
    }
    row
}

/// The Sysmon fields the 4688 event records.
pub const TRANSLATED: [&str; 10] =
    ["Computer", "Image", "CommandLine", "ParentImage", "LogonId", "ProcessId", "ParentProcessId", "User", "ParentUser", "IntegrityLevel"];
