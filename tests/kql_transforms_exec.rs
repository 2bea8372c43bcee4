//! The KQL profile's value transforms, proven by execution (skipped when ../shared is absent):
//! each Sigma fixture below runs in `../shared/tools/sigma-run` on events as Sysmon and the
//! Windows event log write them, and its `--to kql` output runs in `../shared/tools/kql-run` on
//! the same events as Defender XDR and Log Analytics store them. The target rows are written
//! by hand from Microsoft's documentation of the tables (DeviceRegistryEvents,
//! DeviceProcessEvents, DeviceNetworkEvents, Event; `HKEY_CURRENT_USER\<SID>` as Microsoft's
//! "Baseline Comparison" hunting query shows it), never from ruleconv's mapping, so a wrong
//! mapping fails here. Both engines must select the same events, and the expected ones.

#[path = "support/kql_run.rs"]
#[allow(dead_code)]
mod kql_run;
#[path = "support/shared.rs"]
mod shared;
#[path = "support/sigma_run.rs"]
mod sigma_run;

use kql_run::{Answer, Request};
use ruleconv::convert;
use ruleconv::emit::{EmitOptions, Target};
use ruleconv::eval::Row;
use serde_json::{Value as Json, json};
use std::path::Path;

/// The column numbering the target rows, so the rows kql-run returns say which events matched.
const EVENT: &str = "ruleconv_event";

/// One fixture: each event as the Sigma rule's source writes it, beside the same event as the
/// target's table holds it, and the events the rule is meant to select.
struct Case {
    fixture: &'static str,
    table: &'static str,
    events: Vec<(Json, Json)>,
    selected: Vec<bool>,
}

fn row(value: Json) -> Row {
    value.as_object().cloned().expect("an event is an object")
}

fn cases() -> Vec<Case> {
    let run = r"\SOFTWARE\Microsoft\Windows\CurrentVersion\Run";
    let uac = r"\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System\EnableLUA";
    let registry = |action: &str, key: &str, value: &str, data: &str, domain: &str, name: &str| {
        json!({"ActionType": action, "RegistryKey": key, "RegistryValueName": value, "RegistryValueData": data,
               "InitiatingProcessAccountDomain": domain, "InitiatingProcessAccountName": name})
    };
    let sysmon_registry = |event_type: &str, target: String, details: &str, user: &str| json!({"EventType": event_type, "TargetObject": target, "Details": details, "User": user});
    let service_xml = |name: &str, path: &str| {
        format!(
            r#"<DataItem type="System.XmlData" time="2024-05-01T11:00:00Z"><EventData xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><Data Name="ServiceName">{name}</Data><Data Name="ImagePath">{path}</Data><Data Name="ServiceType">user mode service</Data><Data Name="StartType">demand start</Data><Data Name="AccountName">LocalSystem</Data></EventData></DataItem>"#
        )
    };
    let sha256 = "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9";
    let md5 = "00112233445566778899aabbccddeeff";
    let hashes = |sha256: &str, md5: &str| {
        format!("SHA1=AA,MD5={},SHA256={},IMPHASH=0123456789ABCDEF0123456789ABCDEF", md5.to_uppercase(), sha256.to_uppercase())
    };
    vec![
        Case {
            fixture: "registry_run_key_value.yml",
            table: "DeviceRegistryEvents",
            events: vec![
                // A machine Run value: Sysmon abbreviates the hive and ends the path with the value name.
                (
                    sysmon_registry("SetValue", format!(r"HKLM{run}\Updater"), r"wscript.exe C:\x.vbs", r"CONTOSO\alice"),
                    registry(
                        "RegistryValueSet",
                        &format!("HKEY_LOCAL_MACHINE{run}"),
                        "Updater",
                        r"wscript.exe C:\x.vbs",
                        "contoso",
                        "alice",
                    ),
                ),
                // A user's Run value: Sysmon writes HKU\<SID>, Defender HKEY_CURRENT_USER\<SID>.
                (
                    sysmon_registry("SetValue", format!(r"HKU\S-1-5-21-1-2-3-1001{run}\Evil"), "mshta http://x", r"CONTOSO\bob"),
                    registry(
                        "RegistryValueSet",
                        &format!(r"HKEY_CURRENT_USER\S-1-5-21-1-2-3-1001{run}"),
                        "Evil",
                        "mshta http://x",
                        "contoso",
                        "bob",
                    ),
                ),
                // Written by SYSTEM: excluded by the filter on `User`.
                (
                    sysmon_registry("SetValue", format!(r"HKLM{run}\Updater"), "wscript.exe a.vbs", r"NT AUTHORITY\SYSTEM"),
                    registry(
                        "RegistryValueSet",
                        &format!("HKEY_LOCAL_MACHINE{run}"),
                        "Updater",
                        "wscript.exe a.vbs",
                        "NT AUTHORITY",
                        "SYSTEM",
                    ),
                ),
                // The MRUList value: excluded by the filter on the value name.
                (
                    sysmon_registry("SetValue", format!(r"HKLM{run}\MRUList"), "wscript", r"CONTOSO\alice"),
                    registry("RegistryValueSet", &format!("HKEY_LOCAL_MACHINE{run}"), "MRUList", "wscript", "contoso", "alice"),
                ),
                // A value deleted is a registry_delete event, not a registry_set one.
                (
                    sysmon_registry("DeleteValue", format!(r"HKLM{run}\Updater"), "", r"CONTOSO\alice"),
                    registry(
                        "RegistryValueDeleted",
                        &format!("HKEY_LOCAL_MACHINE{run}"),
                        "Updater",
                        "wscript.exe x.vbs",
                        "contoso",
                        "alice",
                    ),
                ),
            ],
            selected: vec![true, true, false, false, false],
        },
        Case {
            fixture: "registry_uac_disabled.yml",
            table: "DeviceRegistryEvents",
            events: vec![
                // Sysmon writes a DWORD as `DWORD (0x…)`; Defender the number in decimal, typed "Dword".
                (
                    sysmon_registry("SetValue", format!(r"HKLM{uac}"), "DWORD (0x00000000)", r"CONTOSOlice"),
                    json!({"ActionType": "RegistryValueSet", "RegistryKey": format!("HKEY_LOCAL_MACHINE{}", uac.trim_end_matches(r"\EnableLUA")),
                           "RegistryValueName": "EnableLUA", "RegistryValueType": "Dword", "RegistryValueData": "0"}),
                ),
                (
                    sysmon_registry("SetValue", format!(r"HKLM{uac}"), "DWORD (0x00000001)", r"CONTOSOlice"),
                    json!({"ActionType": "RegistryValueSet", "RegistryKey": format!("HKEY_LOCAL_MACHINE{}", uac.trim_end_matches(r"\EnableLUA")),
                           "RegistryValueName": "EnableLUA", "RegistryValueType": "Dword", "RegistryValueData": "1"}),
                ),
            ],
            selected: vec![true, false],
        },
        Case {
            fixture: "process_creation_hashes.yml",
            table: "DeviceProcessEvents",
            events: vec![
                (
                    json!({"Hashes": hashes(sha256, "99"), "User": r"CONTOSO\bob"}),
                    json!({"SHA256": sha256, "MD5": "99", "SHA1": "aa", "AccountDomain": "contoso", "AccountName": "bob"}),
                ),
                (
                    json!({"Hashes": hashes("11", md5), "User": r"NT AUTHORITY\SYSTEM"}),
                    json!({"SHA256": "11", "MD5": md5, "SHA1": "aa", "AccountDomain": "nt authority", "AccountName": "system"}),
                ),
                (
                    json!({"Hashes": hashes("11", md5), "User": r"NT AUTHORITY\NETWORK SERVICE"}),
                    json!({"SHA256": "11", "MD5": md5, "SHA1": "aa", "AccountDomain": "nt authority", "AccountName": "network service"}),
                ),
                (
                    json!({"Hashes": hashes("11", "22"), "User": r"CONTOSO\bob"}),
                    json!({"SHA256": "11", "MD5": "22", "SHA1": "aa", "AccountDomain": "contoso", "AccountName": "bob"}),
                ),
            ],
            selected: vec![true, false, true, false],
        },
        Case {
            fixture: "network_connection_outbound.yml",
            table: "DeviceNetworkEvents",
            events: vec![
                (
                    json!({"Image": r"C:\Windows\System32\wscript.exe", "Initiated": "true", "DestinationPort": 443}),
                    json!({"ActionType": "ConnectionSuccess", "InitiatingProcessFolderPath": r"C:\Windows\System32\wscript.exe", "RemotePort": 443}),
                ),
                (
                    json!({"Image": r"C:\Windows\System32\wscript.exe", "Initiated": "false", "DestinationPort": 443}),
                    json!({"ActionType": "InboundConnectionAccepted", "InitiatingProcessFolderPath": r"C:\Windows\System32\wscript.exe", "LocalPort": 443}),
                ),
                (
                    json!({"Image": r"C:\Windows\System32\cscript.exe", "Initiated": "true", "DestinationPort": 8080}),
                    json!({"ActionType": "ConnectionSuccess", "InitiatingProcessFolderPath": r"C:\Windows\System32\cscript.exe", "RemotePort": 8080}),
                ),
            ],
            selected: vec![true, false, false],
        },
        // Sysmon's destination is the end that accepted the connection: this device when it
        // was inbound (Defender's LocalPort), the remote end otherwise (RemotePort).
        Case {
            fixture: "network_connection_either_direction.yml",
            table: "DeviceNetworkEvents",
            events: vec![
                (
                    json!({"Image": r"C:\Windows\notepad.exe", "Initiated": "true", "SourcePort": 50000, "DestinationPort": 9100}),
                    json!({"ActionType": "ConnectionSuccess", "InitiatingProcessFolderPath": r"C:\Windows\notepad.exe", "LocalPort": 50000, "RemotePort": 9100}),
                ),
                (
                    json!({"Image": r"C:\Windows\notepad.exe", "Initiated": "false", "SourcePort": 50000, "DestinationPort": 9100}),
                    json!({"ActionType": "InboundConnectionAccepted", "InitiatingProcessFolderPath": r"C:\Windows\notepad.exe", "LocalPort": 9100, "RemotePort": 50000}),
                ),
                (
                    json!({"Image": r"C:\Windows\notepad.exe", "Initiated": "false", "SourcePort": 9100, "DestinationPort": 5000}),
                    json!({"ActionType": "InboundConnectionAccepted", "InitiatingProcessFolderPath": r"C:\Windows\notepad.exe", "LocalPort": 5000, "RemotePort": 9100}),
                ),
                (
                    json!({"Image": r"C:\Windows\notepad.exe", "Initiated": "true", "SourcePort": 50001, "DestinationPort": 443}),
                    json!({"ActionType": "ConnectionSuccess", "InitiatingProcessFolderPath": r"C:\Windows\notepad.exe", "LocalPort": 50001, "RemotePort": 443}),
                ),
            ],
            selected: vec![false, false, true, true],
        },
        Case {
            fixture: "system_service_installed.yml",
            table: "Event",
            events: vec![
                (
                    json!({"Provider_Name": "Service Control Manager", "EventID": 7045, "ServiceName": "Updater", "ImagePath": r"C:\Users\bob\AppData\Local\Temp\upd.exe"}),
                    json!({"EventLog": "System", "Source": "Service Control Manager", "EventID": 7045, "EventData": service_xml("Updater", r"C:\Users\bob\AppData\Local\Temp\upd.exe")}),
                ),
                (
                    json!({"Provider_Name": "Service Control Manager", "EventID": 7045, "ServiceName": "MpKslDrv", "ImagePath": r"C:\Windows\Temp\MpKslDrv.sys"}),
                    json!({"EventLog": "System", "Source": "Service Control Manager", "EventID": 7045, "EventData": service_xml("MpKslDrv", r"C:\Windows\Temp\MpKslDrv.sys")}),
                ),
                // An ampersand is escaped in the XML and compared unescaped.
                (
                    json!({"Provider_Name": "Service Control Manager", "EventID": 7045, "ServiceName": "A&B", "ImagePath": r#""C:\Windows\Temp\a&b.exe" -k"#}),
                    json!({"EventLog": "System", "Source": "Service Control Manager", "EventID": 7045, "EventData": service_xml("A&amp;B", r#""C:\Windows\Temp\a&amp;b.exe" -k"#)}),
                ),
                (
                    json!({"Provider_Name": "Service Control Manager", "EventID": 7045, "ServiceName": "Updater", "ImagePath": r"C:\Program Files\upd.exe"}),
                    json!({"EventLog": "System", "Source": "Service Control Manager", "EventID": 7045, "EventData": service_xml("Updater", r"C:\Program Files\upd.exe")}),
                ),
            ],
            selected: vec![true, false, true, false],
        },
    ]
}

#[test]
fn transformed_fields_select_on_the_targets_rows_what_the_sigma_rule_selects_on_its_own() {
    if !kql_run::shared("tools/sigma-run/sigma-run").is_file() || !kql_run::shared("tools/kql-run/kql-run").is_file() {
        shared::say_skipped("../shared tools are absent");
        return;
    }
    let schemas = kql_run::schemas();
    let cases = cases();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sigma");
    let mut sigma = Vec::new();
    let mut requests = Vec::new();
    for case in &cases {
        let path = fixtures.join(case.fixture);
        sigma.push(std::fs::read_to_string(&path).expect("fixture"));
        let read = convert::read_all(&convert::expand_inputs(&[path]), None);
        let (_, converted) = convert::convert(&read, Target::from_name("kql").expect("registered"), &EmitOptions::default());
        let query: String = converted[0].text.lines().filter(|l| !l.starts_with("//")).collect::<Vec<_>>().join("\n");
        let rows: Vec<Row> = case
            .events
            .iter()
            .enumerate()
            .map(|(i, (_, target))| row(json!({EVENT: i})).into_iter().chain(row(target.clone())).collect())
            .collect();
        let mut columns: Vec<(String, String)> = schemas[case.table]
            .iter()
            .filter(|(c, _)| rows.iter().any(|r| r.contains_key(c)) || query.contains(c.as_str()))
            .cloned()
            .collect();
        columns.push((EVENT.into(), "long".into()));
        requests.push(Request { query, now: "2024-05-01T12:00:00Z".into(), tables: [(case.table.to_string(), (columns, rows))].into() });
    }
    let source_events: Vec<Vec<Row>> = cases.iter().map(|c| c.events.iter().map(|(source, _)| row(source.clone())).collect()).collect();
    let judged: Vec<(&str, &[Row])> = sigma.iter().zip(&source_events).map(|(s, e)| (s.as_str(), e.as_slice())).collect();
    let by_sigma = sigma_run::verdicts(&kql_run::shared("tools/sigma-run/sigma-run"), &judged);
    let by_kql = kql_run::run_all(&requests);
    for ((case, by_sigma), (by_kql, request)) in cases.iter().zip(by_sigma).zip(by_kql.iter().zip(&requests)) {
        let by_sigma = by_sigma.unwrap_or_else(|e| panic!("{}: sigma-run: {e}", case.fixture));
        assert_eq!(by_sigma, case.selected, "{}: sigma-run on the source's events", case.fixture);
        let Answer::Rows { columns, rows } = by_kql else { panic!("{}: kql-run cannot run\n{}", case.fixture, request.query) };
        let at = columns.iter().position(|c| c == EVENT).expect("event numbers in the rows");
        let mut selected = vec![false; case.events.len()];
        rows.iter().filter_map(|r| r[at].as_u64()).for_each(|i| selected[i as usize] = true);
        assert_eq!(selected, case.selected, "{}: kql-run on the target's rows\n{}", case.fixture, request.query);
    }
}
