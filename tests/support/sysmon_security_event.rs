//! Sysmon's process creation (event 1, Sigma's `process_creation` field names) as the Windows
//! Security event 4688 that records the same process, in the columns of Sentinel's
//! `SecurityEvent` table: the target of the `azure-monitor` KQL profile. Written from
//! Microsoft's documentation of event 4688 ("A new process has been created",
//! learn.microsoft.com/windows/security/threat-protection/auditing/event-4688), never from
//! ruleconv's own mapping:
//! - the creator subject (`SubjectUserName`, `SubjectDomainName`, `SubjectLogonId`) is the
//!   account that asked for the process (the creator process's, Sysmon's `ParentUser`); the
//!   target subject (`TargetUserName`, ...) is the new process's account, included only "when
//!   the creator and target do not share the same logon". Otherwise it is the null SID and `-`
//!   (`S-1-0-0`, `-`, `-`, `0x0`, as recorded 4688 events show it, e.g. APT-Hunter's
//!   `Samples/Sample_Process_Execution_Events.csv`), and the new process runs as the creator.
//!   A Sysmon event does not tell whether the two logons are one (it has no parent logon id),
//!   so where they may be, both shapes are written;
//! - the local system account (S-1-5-18) is named by the computer's account: Microsoft's
//!   sample has `SubjectUserSid` S-1-5-18 with `WIN-GG82ULGC9GO$` in `CONTOSO` for the computer
//!   `WIN-GG82ULGC9GO.contoso.local`; Sysmon writes it `NT AUTHORITY\SYSTEM` (in the system's
//!   language: SigmaHQ's rules test `AUTHORI` and `AUTORI`). Other `NT AUTHORITY` accounts
//!   keep their names (`LOCAL SERVICE` in `NT AUTHORITY`, S-1-5-19, in the samples);
//! - `NewProcessName` and `ParentProcessName` are full paths; `NewProcessId` and the creator's
//!   `ProcessId` are hexadecimal; `MandatoryLabel` is the integrity level's SID (S-1-16-4096
//!   Low, S-1-16-8192 Medium, S-1-16-12288 High, S-1-16-16384 System).
//!
//! The event has no hashes, version information, current directory or parent command line.

use ruleconv::eval::Row;
use serde_json::{Value as Json, json};

/// The 4688 rows of one Sysmon process creation event: one per way Windows may have written it.
pub fn translate(event: &Row) -> Vec<Row> {
    let text = |field: &str| event.get(field).map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string));
    let mut row = Row::new();
    row.insert("EventID".into(), json!(4688));
    for (field, column) in
        [("Computer", "Computer"), ("Image", "NewProcessName"), ("CommandLine", "CommandLine"), ("ParentImage", "ParentProcessName")]
    {
        if let Some(value) = text(field) {
            row.insert(column.into(), json!(value));
        }
    }
    for (field, column) in [("ProcessId", "NewProcessId"), ("ParentProcessId", "ProcessId")] {
        if let Some(id) = text(field).and_then(|t| t.trim().parse::<u64>().ok()) {
            row.insert(column.into(), json!(format!("0x{id:x}")));
        }
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
    let computer = text("Computer").unwrap_or_default();
    let (user, parent, logon) = (text("User"), text("ParentUser"), text("LogonId"));
    let mut rows = Vec::new();
    // The target's own logon: the new process's account is the target, the parent the creator.
    let mut own = row.clone();
    if let Some(user) = &user {
        subject(&mut own, "Target", user, &computer, logon.as_deref());
    }
    if let Some(parent) = &parent {
        subject(&mut own, "Subject", parent, &computer, None);
    }
    rows.push(own);
    // One logon for both: the creator is the new process's account, the target left out.
    let shared = user.as_ref().filter(|u| parent.as_ref().is_none_or(|p| p.eq_ignore_ascii_case(u)));
    if let Some(user) = shared {
        let mut one = row;
        subject(&mut one, "Subject", user, &computer, logon.as_deref());
        for (column, value) in [("TargetUserSid", "S-1-0-0"), ("TargetUserName", "-"), ("TargetDomainName", "-"), ("TargetLogonId", "0x0")]
        {
            one.insert(column.into(), json!(value));
        }
        rows.push(one);
    }
    rows
}

/// A subject (`Subject`, `Target`) of the event: Sysmon's `DOMAIN\name` as the security log
/// writes the account, with its SID and logon id.
fn subject(row: &mut Row, role: &str, user: &str, computer: &str, logon: Option<&str>) {
    let (sid, domain, name) = security_account(user, computer);
    row.insert(format!("{role}UserSid"), json!(sid));
    row.insert(format!("{role}DomainName"), json!(domain));
    row.insert(format!("{role}UserName"), json!(name));
    if let Some(logon) = logon {
        row.insert(format!("{role}LogonId"), json!(logon));
    }
    if role == "Subject" {
        // Log Analytics' `Account` is the subject's `DOMAIN\name`.
        row.insert("Account".into(), json!(format!("{domain}\\{name}")));
    }
}

/// The SID, domain and name the security log writes for an account Sysmon writes `user`.
fn security_account(user: &str, computer: &str) -> (String, String, String) {
    let (domain, name) = user.split_once('\\').unwrap_or(("", user));
    let upper = domain.to_uppercase();
    let nt_authority = upper.contains("AUTHORI") || upper.contains("AUTORI");
    match name.to_ascii_uppercase().as_str() {
        "SYSTEM" if nt_authority => {
            // The computer's account in its domain (Microsoft's sample), or its workgroup.
            let mut labels = computer.split('.');
            let host = labels.next().unwrap_or_default().to_uppercase();
            let domain = labels.next().map_or_else(|| "WORKGROUP".to_string(), str::to_uppercase);
            ("S-1-5-18".into(), domain, format!("{host}$"))
        }
        "LOCAL SERVICE" if nt_authority => ("S-1-5-19".into(), domain.into(), name.into()),
        "NETWORK SERVICE" if nt_authority => ("S-1-5-20".into(), domain.into(), name.into()),
        // Any account of a domain or computer: its SID is none of the well-known ones.
        _ => ("S-1-5-21-1004336348-1177238915-682003330-1001".into(), domain.into(), name.into()),
    }
}

/// The Sysmon fields the 4688 event records.
pub const TRANSLATED: [&str; 10] =
    ["Computer", "Image", "CommandLine", "ParentImage", "LogonId", "ProcessId", "ParentProcessId", "User", "ParentUser", "IntegrityLevel"];

/// The other way: a 4688 row as the Sysmon process creation that records the same process (the
/// inverse of `translate`, from the same documentation); `None` for any other event.
pub fn to_sysmon(row: &Row) -> Option<Row> {
    let text = |column: &str| row.get(column).map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string)).filter(|t| !t.is_empty());
    if row.get("EventID").and_then(Json::as_i64) != Some(4688) {
        return None;
    }
    let mut event = Row::new();
    for (column, field) in
        [("Computer", "Computer"), ("NewProcessName", "Image"), ("CommandLine", "CommandLine"), ("ParentProcessName", "ParentImage")]
    {
        if let Some(value) = text(column) {
            event.insert(field.into(), json!(value));
        }
    }
    // Process ids are hexadecimal in the security log, decimal in Sysmon's.
    for (column, field) in [("NewProcessId", "ProcessId"), ("ProcessId", "ParentProcessId")] {
        let id = text(column).and_then(|t| u64::from_str_radix(t.trim().trim_start_matches("0x").trim_start_matches("0X"), 16).ok());
        if let Some(id) = id {
            event.insert(field.into(), json!(id));
        }
    }
    if let Some(level) = text("MandatoryLabel") {
        let name = match level.to_ascii_uppercase().as_str() {
            "S-1-16-4096" => "Low".to_string(),
            "S-1-16-8192" => "Medium".to_string(),
            "S-1-16-12288" => "High".to_string(),
            "S-1-16-16384" => "System".to_string(),
            _ => level,
        };
        event.insert("IntegrityLevel".into(), json!(name));
    }
    let account = |role: &str| {
        let name = text(&format!("{role}UserName")).filter(|n| n != "-")?;
        if text(&format!("{role}UserSid")).as_deref() == Some("S-1-5-18") {
            return Some("NT AUTHORITY\\SYSTEM".to_string());
        }
        Some(format!("{}\\{name}", text(&format!("{role}DomainName")).unwrap_or_default()))
    };
    let logon = |role: &str| text(&format!("{role}LogonId")).filter(|l| l != "0x0");
    let creator = account("Subject");
    if let Some(parent) = &creator {
        event.insert("ParentUser".into(), json!(parent));
    }
    // The new process runs as the target, or, where the target is left out, as the creator.
    let (user, user_logon) = match account("Target") {
        Some(target) => (Some(target), logon("Target")),
        None => (creator, logon("Subject")),
    };
    if let Some(user) = user {
        event.insert("User".into(), json!(user));
    }
    if let Some(id) = user_logon {
        event.insert("LogonId".into(), json!(id));
    }
    Some(event)
}
