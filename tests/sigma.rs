//! `--to sigma`, construct by construct: a Sentinel rule in, the exact Sigma text out, and
//! every loss reported with the verdict it implies.

use ruleconv::convert::emit_rules;
use ruleconv::diag::{Code, Kind};
use ruleconv::emit::{EmitOptions, Target, Verdict};
use ruleconv::read::read_text;
use std::path::Path;

const ID: &str = "5b6e1c7a-3f2d-4a8e-9c41-0d2f7e8a9b10";

/// A scheduled rule around `query` (a one-line query), with `extra` repository-YAML keys.
fn rule_yaml(query: &str, extra: &str) -> String {
    format!("id: {ID}\nname: Test rule\nseverity: High\nqueryPeriod: 1h\nqueryFrequency: 1h\n{extra}query: |\n  {query}\n")
}

/// Problems as their codes and messages.
type Coded = Vec<(Code, String)>;

/// The Sigma text, or the errors; and the losses. Written even when broader than the rule
/// (`--allow-broader`): these tests look at each construct's loss (`tests/broader.rs` at the
/// refusal).
fn sigma(query: &str, extra: &str) -> (Result<String, Coded>, Coded) {
    let outcome = read_text(&rule_yaml(query, extra), Path::new("rule.yaml"), None);
    let rule = outcome.rules.first().expect("the rule reads");
    let target = Target::from_name("sigma").expect("sigma is registered");
    match emit_rules(target, &[rule], &EmitOptions { allow_broader: true, ..EmitOptions::default() }) {
        Ok(emitted) => {
            let losses = emitted.problems.iter().filter(|p| p.kind == Kind::Loss).map(|p| (p.code, p.message.clone())).collect();
            assert_eq!(Verdict::of_emitted(&emitted.problems) == Verdict::Exact, emitted.text.starts_with("# ruleconv fidelity: exact"));
            (Ok(emitted.text), losses)
        }
        Err(errors) => (Err(errors.iter().map(|e| (e.code, e.message.clone())).collect()), Vec::new()),
    }
}

/// The `detection:` block of the only (or last) document, and the losses.
fn detection(query: &str) -> (String, Coded) {
    let (text, losses) = sigma(query, "");
    let text = text.unwrap_or_else(|e| panic!("{query}: {e:?}"));
    let document = text.rsplit("---\n").next().unwrap_or_default();
    let block: Vec<&str> =
        document.lines().skip_while(|l| !l.starts_with("detection:")).take_while(|l| *l == "detection:" || l.starts_with(' ')).collect();
    (block.join("\n") + "\n", losses)
}

#[test]
fn a_whole_single_source_rule() {
    let extra = "tactics:\n  - InitialAccess\nrelevantTechniques:\n  - T1078.004\ndescription: |\n  'Finds x.'\n";
    let (text, losses) = sigma("SigninLogs | where ResultType == '50126' and AppDisplayName =~ 'Azure Portal'", extra);
    assert_eq!(losses, Coded::new());
    assert_eq!(
        text.unwrap(),
        format!(
            "# ruleconv fidelity: exact\n# ruleconv evidence: unverified\ntitle: Test rule\nid: {ID}\nstatus: experimental\ndescription: Finds x.\ntags:\n  - attack.initial-access\n  \
             - attack.t1078.004\nlogsource:\n  product: azure\n  service: signinlogs\ndetection:\n  selection_resulttype_application:\n    ResultType: '50126'\n    \
             Application: Azure Portal\n  condition: selection_resulttype_application\nlevel: high\nsentinel:\n  queryFrequency: 1h\n  queryPeriod: 1h\n"
        )
    );
}

#[test]
fn evidence_is_schema_checked_where_sigmahq_lists_the_logsources_fields() {
    // windows/process_creation has a SigmaHQ field list, which every field written is checked against.
    let (text, _) = sigma("DeviceProcessEvents | where ProcessCommandLine contains 'x'", "");
    assert!(text.as_ref().unwrap().contains("# ruleconv evidence: schema-checked\n"), "{text:?}");
    // No list to check against: a custom logsource (`product: sentinel`), a logsource SigmaHQ lists no fields for.
    for query in ["MyApp_CL | where Message_s contains 'x'", "SigninLogs | where ResultType == '50126'"] {
        let (text, _) = sigma(query, "");
        assert!(text.as_ref().unwrap().contains("# ruleconv evidence: unverified\n"), "{query}: {text:?}");
    }
}

#[test]
fn text_operators_take_modifiers_and_case_sensitivity_takes_cased() {
    let (block, losses) = detection(
        "DeviceProcessEvents | where ProcessCommandLine contains 'x' and FolderPath startswith_cs 'C:\\\\a*' and FileName in~ ('a.exe', 'b.exe') and ProcessVersionInfoCompanyName == 'Admin'",
    );
    assert_eq!(losses, Coded::new());
    assert_eq!(
        block,
        "detection:\n  selection_commandline_image:\n    CommandLine|contains: x\n    Image|re: ^C:\\\\a\\*\n    Image|endswith:\n      - \\\\a.exe\n      - \\\\b.exe\n    \
         Company|cased: Admin\n  condition: selection_commandline_image\n"
    );
}

#[test]
fn exclusions_are_negated_filters_and_structure_is_kept() {
    let (block, _) =
        detection("SecurityEvent | where EventID == 4625 and (Account =~ 'a' or Account =~ 'b') and not(Computer endswith '.lab')");
    assert_eq!(
        block,
        "detection:\n  selection_eventid:\n    EventID: 4625\n  selection_account_3c51:\n    Account: a\n  selection_account_ffe0:\n    \
         Account: b\n  filter_computer:\n    Computer|endswith: .lab\n  condition: selection_eventid and (selection_account_3c51 or \
         selection_account_ffe0) and not filter_computer\n"
    );
}

#[test]
fn has_widens_to_contains_with_a_loss() {
    let (block, losses) = detection("Syslog | where SyslogMessage has 'sudo'");
    assert!(block.contains("SyslogMessage|contains: sudo"), "{block}");
    assert!(losses.iter().any(|(code, _)| *code == Code::TermMatch), "{losses:?}");
}

#[test]
fn numbers_regexes_cidrs_fieldrefs_and_emptiness() {
    let (block, losses) = detection(
        "CommonSecurityLog | where DestinationPort > 1024 and RequestURL matches regex 'a+b' and ipv4_is_in_range(SourceIP, '10.0.0.0/8') and SourceUserName == DestinationUserName and isnotempty(DeviceAction)",
    );
    assert_eq!(losses, Coded::new());
    assert_eq!(
        block,
        "detection:\n  selection_destinationport_requesturl:\n    DestinationPort|gt: 1024\n    RequestURL|re: a+b\n    SourceIP|cidr: 10.0.0.0/8\n    \
         SourceUserName|fieldref: DestinationUserName\n  filter_deviceaction:\n    DeviceAction:\n      - ''\n      - null\n  condition: \
         selection_destinationport_requesturl and not filter_deviceaction\n"
    );
}

#[test]
fn has_all_is_all() {
    let (block, _) = detection("Syslog | where SyslogMessage has_all ('a', 'b')");
    assert!(block.contains("SyslogMessage|contains|all:\n      - a\n      - b"), "{block}");
}

#[test]
fn what_sigma_cannot_say_is_dropped_with_a_loss_and_the_rule_widens() {
    let (block, losses) = detection("SigninLogs | where TimeGenerated < ago(1d) and ResultType == '0' and array_length(split(A, ',')) > 2");
    assert_eq!(block, "detection:\n  selection_resulttype:\n    ResultType: '0'\n  condition: selection_resulttype\n");
    assert!(losses.iter().any(|(code, l)| *code == Code::ConditionDropped && l.contains("`TimeGenerated`")), "{losses:?}");
    assert!(losses.iter().any(|(code, _)| *code == Code::Unmodelled), "unmodelled items are losses: {losses:?}");
}

#[test]
fn a_lookback_is_the_backends_schedule_not_a_loss() {
    let (text, losses) = sigma("SigninLogs | where TimeGenerated > ago(1h) and ResultType == '0'", "");
    assert!(text.unwrap().starts_with("# ruleconv fidelity: exact\n"));
    assert_eq!(losses, Coded::new());
}

#[test]
fn a_rule_without_any_condition_sigma_can_test_is_unsupported() {
    let (text, _) = sigma("SigninLogs | where TimeGenerated > ago(1d)", "");
    let errors = text.expect_err("nothing to detect");
    assert_eq!(errors[0].0, Code::NoDetection, "{errors:?}");
}

#[test]
fn a_count_threshold_is_an_event_count_correlation() {
    let (text, losses) =
        sigma("SigninLogs | where ResultType == '50126' | summarize count() by IPAddress, bin(TimeGenerated, 10m) | where count_ > 20", "");
    let text = text.unwrap();
    assert!(
        text.ends_with(
            "correlation:\n  type: event_count\n  rules:\n    - b0f0f1c0-e3d6-5c23-8657-36e05cf591a6\n  group-by:\n    - IPAddress\n  timespan: 10m\n  \
             condition:\n    gt: 20\nlevel: high\nsentinel:\n  queryFrequency: 1h\n  queryPeriod: 1h\n"
        ),
        "{text}"
    );
    assert!(text.contains("id: b0f0f1c0-e3d6-5c23-8657-36e05cf591a6\nrelated:\n  - id: 5b6e1c7a"), "{text}");
    // Nothing is lost: the correlation says what the query says (nothing ran it: that is
    // the evidence's business, not the verdict's).
    assert!(losses.is_empty(), "{losses:?}");
}

#[test]
fn a_distinct_count_is_a_value_count_over_the_query_period() {
    let (text, _) =
        sigma("SigninLogs | where ResultType == '50126' | summarize n = dcount(UserPrincipalName) by IPAddress | where n >= 10", "");
    let text = text.unwrap();
    assert!(text.contains("  type: value_count\n"), "{text}");
    assert!(text.contains("  timespan: 1h\n  condition:\n    field: TargetUserName\n    gte: 10\n"), "{text}");
}

#[test]
fn an_inner_join_is_a_temporal_correlation_with_aliases() {
    let query = "SigninLogs | where ResultType == '0' | join kind=inner (AuditLogs | where OperationName == 'Add member to role') on $left.CorrelationId == $right.Id";
    let (text, losses) = sigma(query, "");
    let text = text.unwrap();
    assert!(
        text.ends_with(
            "correlation:\n  type: temporal\n  rules:\n    - b0f0f1c0-e3d6-5c23-8657-36e05cf591a6\n    - 8e0a3d38-3806-5f29-95e7-e7ab9619f9af\n  \
             group-by:\n    - CorrelationId\n  timespan: 1h\n  aliases:\n    CorrelationId:\n      b0f0f1c0-e3d6-5c23-8657-36e05cf591a6: \
             CorrelationId\n      8e0a3d38-3806-5f29-95e7-e7ab9619f9af: Id\nlevel: high\nsentinel:\n  queryFrequency: 1h\n  queryPeriod: 1h\n"
        ),
        "{text}"
    );
    assert!(losses.iter().any(|(code, _)| *code == Code::WindowChanged), "{losses:?}");
}

#[test]
fn an_anti_join_is_a_loss() {
    let query = "SigninLogs | where ResultType == '0' | join kind=leftanti (AuditLogs | where OperationName == 'x') on CorrelationId";
    let (text, losses) = sigma(query, "");
    assert!(text.is_ok());
    assert!(losses.iter().any(|(code, _)| *code == Code::CorrelationUnsupported), "{losses:?}");
    // The anti join is what the rule detects (a sign-in with no such audit event).
    assert!(losses.iter().any(|(code, _)| *code == Code::Broader), "{losses:?}");
}

#[test]
fn output_is_deterministic() {
    let query = "SigninLogs | where ResultType == '50126' | summarize count() by IPAddress | where count_ > 5";
    assert_eq!(sigma(query, "").0, sigma(query, "").0);
}

#[test]
fn a_test_of_a_computed_column_is_dropped_and_reported() {
    let (block, losses) =
        detection("DeviceEvents | extend Host = tostring(split(DeviceName, '.')[0]) | where Host == 'vm1' and ActionType == 'x'");
    assert!(!block.contains("Host"), "{block}");
    assert!(block.contains("ActionType"), "{block}");
    let expected = "`Host` is computed (`tostring(split(DeviceName, '.')[0])`); a condition on it is not translated";
    assert!(losses.iter().any(|(code, l)| *code == Code::ComputedColumn && l == expected), "{losses:?}");
}

#[test]
fn a_test_inside_a_dynamic_column_is_reported() {
    let (_, losses) = detection("AuditLogs | where TargetResources.modifiedProperties == 'x'");
    let expected = "`TargetResources.modifiedProperties` is read inside a dynamic column; Sigma tools find it only when events carry that column as an object";
    assert!(losses.iter().any(|(code, l)| *code == Code::DynamicPath && l == expected), "{losses:?}");
}

#[test]
fn a_comparison_with_one_is_reported_as_a_possible_bool() {
    let (_, losses) = detection("DeviceFileCertificateInfo | where IsSigned == 1");
    let expected = "`IsSigned` is compared with 0 or 1; if it is a bool column, KQL matches true or false and Sigma does not";
    assert!(losses.iter().any(|(code, l)| *code == Code::BoolAsNumber && l == expected), "{losses:?}");
}

#[test]
fn defender_columns_are_written_as_sigmahq_fields_with_their_values_reshaped() {
    let (block, losses) = detection(r#"DeviceProcessEvents | where InitiatingProcessFileName =~ "wsreset.exe" and SHA256 =~ "abc""#);
    assert_eq!(
        block,
        "detection:\n  selection_parentimage_hashes:\n    ParentImage|endswith: \\\\wsreset.exe\n    Hashes|contains: SHA256=abc\n  condition: selection_parentimage_hashes\n"
    );
    assert_eq!(losses, Coded::new());
    let (block, losses) = detection(
        r#"DeviceRegistryEvents | where ActionType == "RegistryValueSet" and RegistryKey startswith @"HKEY_LOCAL_MACHINE\SOFTWARE\Run""#,
    );
    assert_eq!(
        block,
        "detection:\n  selection_targetobject:\n    TargetObject|startswith: HKLM\\\\SOFTWARE\\\\Run\n  condition: selection_targetobject\n"
    );
    assert_eq!(losses.iter().map(|(code, _)| *code).collect::<Vec<_>>(), [Code::Reshaped]);
    let (text, _) = sigma(r#"DeviceRegistryEvents | where ActionType == "RegistryValueSet" and RegistryValueName == "x""#, "");
    assert!(text.unwrap().contains("logsource:\n  category: registry_set\n  product: windows\n"));
}

#[test]
fn a_column_sigmahq_does_not_list_for_the_logsource_is_dropped_with_an_unknown_field_loss() {
    let (block, losses) = detection(r#"DeviceFileEvents | where FileName =~ "a.exe" and FileOriginUrl has "evil""#);
    assert_eq!(
        block,
        "detection:\n  selection_targetfilename:\n    TargetFilename|endswith: \\\\a.exe\n  condition: selection_targetfilename\n"
    );
    let unknown: Vec<&String> = losses.iter().filter(|(code, _)| *code == Code::UnknownField).map(|(_, message)| message).collect();
    assert_eq!(unknown.len(), 1, "{losses:?}");
    assert!(unknown[0].contains("`FileOriginUrl`") && unknown[0].contains("windows/file_event"), "{}", unknown[0]);
}

#[test]
fn a_table_without_a_sigmahq_logsource_says_so_and_ics_tactics_are_not_tagged() {
    let outcome = read_text(
        &rule_yaml("DeviceEvents | where ActionType == 'x'", "tactics:\n  - InhibitResponseFunction\n  - Execution\n"),
        Path::new("rule.yaml"),
        None,
    );
    let emitted = emit_rules(Target::from_name("sigma").unwrap(), &[outcome.rules.first().unwrap()], &EmitOptions::default()).unwrap();
    let codes: Vec<(Kind, Code)> = emitted.problems.iter().map(|p| (p.kind, p.code)).collect();
    assert!(codes.contains(&(Kind::Change, Code::CustomLogsource)), "{codes:?}");
    assert!(codes.contains(&(Kind::Loss, Code::Untagged)), "{codes:?}");
    assert!(emitted.text.contains("  - attack.execution\n") && !emitted.text.contains("attack.inhibit"), "{}", emitted.text);
}

/// Event 4688 is Sigma's `process_creation`, whose events Sysmon writes as its event 1: the
/// event id is the logsource's, not a test; the creator subject is Sysmon's `ParentUser`; the
/// hexadecimal process id has no Sysmon field in its form (Microsoft's event 4688 reference).
#[test]
fn a_process_creation_security_event_speaks_sysmon() {
    let (block, losses) =
        detection("SecurityEvent | where EventID == 4688 and SubjectUserName =~ 'admin' and NewProcessName endswith '\\\\x.exe'");
    assert_eq!(
        block,
        "detection:\n  selection_parentuser_image:\n    ParentUser|endswith: \\\\admin\n    Image|endswith: \\\\x.exe\n  condition: selection_parentuser_image\n"
    );
    assert_eq!(losses, Coded::new());
    let (_, losses) = detection("SecurityEvent | where EventID == 4688 and NewProcessId == '0x1f4' and CommandLine has 'x'");
    assert!(losses.iter().any(|(code, m)| *code == Code::UnknownField && m.contains("`NewProcessId`")), "{losses:?}");
    // The log names the local system account by the computer's, where Sysmon writes NT AUTHORITY\SYSTEM.
    let (_, losses) = detection("SecurityEvent | where EventID == 4688 and SubjectUserName !endswith '$' and CommandLine has 'x'");
    assert!(losses.iter().any(|(code, m)| *code == Code::Reshaped && m.contains("NT AUTHORITY")), "{losses:?}");
}
