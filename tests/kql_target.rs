//! `--to kql` for Sigma rules, case by case: every modifier, wildcard shape and escape keeps
//! its meaning in the KQL operator chosen, correlations become `summarize` or joins, logsources map
//! through the chosen profile, and an unknown logsource is an error naming it.

use ruleconv::diag::Code;
use ruleconv::emit::{EmitOptions, Subject, Target, emit};
use ruleconv::ir::SourceFormat;
use ruleconv::lower::lower_rule;
use ruleconv::read::read_text;
use std::path::Path;

/// The emitted text for a Sigma file, with the profile given, or the error messages.
fn convert_with(text: &str, profile: Option<&str>) -> Result<String, Vec<(Code, String)>> {
    let out = read_text(text, Path::new("r.yml"), Some(SourceFormat::Sigma));
    assert!(out.problems.iter().all(|p| !p.is_error()), "{:?}", out.problems);
    let rules = out.rules;
    let detections: Vec<_> = rules.iter().map(lower_rule).collect();
    let subjects: Vec<Subject> = rules.iter().zip(&detections).map(|(rule, detection)| Subject::new(rule, detection)).collect();
    // A correlation file's last document is the correlation; its sources are in its Detection.
    let last = &subjects[subjects.len() - 1..];
    let options = EmitOptions { profile: profile.map(str::to_string), ..EmitOptions::default() };
    emit(Target::from_name("kql").expect("registered"), last, &options)
        .map(|e| e.text)
        .map_err(|problems| problems.into_iter().map(|p| (p.code, p.message)).collect())
}

/// The `where` condition of a windows process_creation rule with this detection.
fn condition(detection: &str) -> String {
    condition_in("  product: windows\n  category: process_creation", "DeviceProcessEvents", detection)
}

/// The `where` condition of a rule of this logsource with this detection, which reads `table`.
fn condition_in(logsource: &str, table: &str, detection: &str) -> String {
    let text = format!("title: t\nlogsource:\n{logsource}\ndetection:\n{detection}\n");
    let kql = convert_with(&text, None).unwrap_or_else(|e| panic!("{e:?}"));
    let query: Vec<&str> = kql.lines().filter(|l| !l.starts_with("//")).collect();
    assert_eq!(query[0], table);
    // The last stage: the rule's own condition, after the table's scoping and any `extend`.
    let last = query.last().expect("a query");
    last.strip_prefix("| where ").unwrap_or(last).to_string()
}

#[test]
fn each_modifier_and_wildcard_has_its_operator() {
    let cases = [
        // Plain values: case-insensitive equality; several: `in~`.
        ("  sel:\n    CommandLine: whoami\n  condition: sel", r#"ProcessCommandLine =~ "whoami""#),
        ("  sel:\n    CommandLine: [a, b]\n  condition: sel", r#"ProcessCommandLine in~ ("a", "b")"#),
        ("  sel:\n    CommandLine|cased: Ab\n  condition: sel", r#"ProcessCommandLine == "Ab""#),
        ("  sel:\n    CommandLine|contains: x\n  condition: sel", r#"ProcessCommandLine contains "x""#),
        ("  sel:\n    CommandLine|contains|cased: X\n  condition: sel", r#"ProcessCommandLine contains_cs "X""#),
        ("  sel:\n    CommandLine|startswith: x\n  condition: sel", r#"ProcessCommandLine startswith "x""#),
        ("  sel:\n    CommandLine|endswith: x\n  condition: sel", r#"ProcessCommandLine endswith "x""#),
        // Wildcards at the ends are substring tests; inside, an anchored regex with `(?i)`.
        ("  sel:\n    CommandLine: '*x*'\n  condition: sel", r#"ProcessCommandLine contains "x""#),
        ("  sel:\n    CommandLine: 'a*b?c'\n  condition: sel", r#"ProcessCommandLine matches regex "(?i)(?s)^a.*b.c$""#),
        (
            "  sel:\n    CommandLine|contains|all: [a, b]\n  condition: sel",
            r#"(ProcessCommandLine contains "a" and ProcessCommandLine contains "b")"#,
        ),
        ("  sel:\n    CommandLine|re: 'a\\d+'\n  condition: sel", r#"ProcessCommandLine matches regex "a\\d+""#),
        ("  sel:\n    CommandLine|re|i: 'ab'\n  condition: sel", r#"ProcessCommandLine matches regex "(?i)ab""#),
        ("  sel:\n    ProcessId|gt: 4\n  condition: sel", "ProcessId > 4"),
        ("  sel:\n    ProcessId: 4\n  condition: sel", "ProcessId == 4"),
        ("  sel:\n    CommandLine|exists: true\n  condition: sel", "not(isempty(ProcessCommandLine))"),
        ("  sel:\n    CommandLine: null\n  condition: sel", "isempty(ProcessCommandLine)"),
        ("  sel:\n    CommandLine|fieldref: Image\n  condition: sel", "ProcessCommandLine =~ FolderPath"),
        (
            "  sel:\n    CommandLine: a\n  f:\n    Image: b\n  condition: sel and not f",
            r#"(ProcessCommandLine =~ "a" and not(FolderPath =~ "b"))"#,
        ),
        // Escapes: a backslash, quotes, an escaped wildcard stay literal.
        ("  sel:\n    CommandLine: 'C:\\Windows\\'\n  condition: sel", r#"ProcessCommandLine =~ "C:\\Windows\\""#),
        ("  sel:\n    CommandLine: 'say \"hi\" ''x'''\n  condition: sel", r#"ProcessCommandLine =~ "say \"hi\" 'x'""#),
        ("  sel:\n    CommandLine: 'a\\*b'\n  condition: sel", r#"ProcessCommandLine =~ "a*b""#),
    ];
    for (detection, expected) in cases {
        assert_eq!(condition(detection), expected, "{detection}");
    }
    // A CIDR range tests an address: the destination is `RemoteIP` of an outbound connection and
    // `LocalIP` of an inbound one, which an `extend` chooses.
    let network = "  product: windows\n  category: network_connection";
    let cidr = [
        ("  sel:\n    DestinationIp|cidr: 10.0.0.0/8\n  condition: sel", r#"ipv4_is_in_range(DestinationIp, "10.0.0.0/8")"#),
        ("  sel:\n    DestinationIp|cidr: 'fe80::/10'\n  condition: sel", r#"ipv6_is_in_range(DestinationIp, "fe80::/10")"#),
    ];
    for (detection, expected) in cidr {
        assert!(condition_in(network, "DeviceNetworkEvents", detection).ends_with(expected), "{detection}");
    }
    // Unmapped fields keep their name, in brackets where it is no identifier (on a team's own
    // table, which the schema data does not know, so the name is not judged absent).
    let own = "  product: sentinel\n  service: Custom_CL";
    assert_eq!(condition_in(own, "Custom_CL", "  sel:\n    cs-method: GET\n  condition: sel"), r#"["cs-method"] =~ "GET""#);
}

#[test]
fn keyword_searches_are_refused_not_guessed() {
    let text = "title: t\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n  kw:\n    - evil\n  condition: kw\n";
    let errors = convert_with(text, None).unwrap_err();
    assert_eq!(errors[0].0, Code::ConditionDropped, "{errors:?}");
}

#[test]
fn logsources_map_through_the_chosen_profile() {
    let rule = |logsource: &str| {
        format!("title: t\nlogsource:\n{logsource}\ndetection:\n  sel:\n    Image|endswith: '\\x.exe'\n  condition: sel\n")
    };
    let process = rule("  product: windows\n  category: process_creation");
    assert!(convert_with(&process, None).unwrap().contains("DeviceProcessEvents\n| where FolderPath endswith \"\\\\x.exe\""));
    let asim = convert_with(&process, Some("asim")).unwrap();
    assert!(asim.contains("imProcessCreate\n| where TargetProcessName endswith"), "{asim}");
    let monitor = convert_with(&process, Some("azure-monitor")).unwrap();
    assert!(monitor.contains("SecurityEvent\n| where EventID == 4688 and NewProcessName endswith"), "{monitor}");
    let signin = rule("  product: azure\n  service: signinlogs").replace("Image|endswith: '\\x.exe'", "Application: Office");
    assert!(convert_with(&signin, None).unwrap().contains(
        r#"SigninLogs
| where AppDisplayName =~ "Office""#
    ));
    let trail = rule("  product: aws\n  service: cloudtrail").replace("Image|endswith: '\\x.exe'", "eventName: StopLogging");
    assert!(convert_with(&trail, None).unwrap().contains(
        r#"AWSCloudTrail
| where EventName =~ "StopLogging""#
    ));
    let unknown = convert_with(&rule("  product: zeek\n  service: dns"), None).unwrap_err();
    let message = "no table for logsource `product: zeek, service: dns` in the `sentinel` profile of targets/kql.yaml";
    assert_eq!(unknown, [(Code::UnknownSource, message.to_string())]);
    let bad = convert_with(&process, Some("nope")).unwrap_err();
    assert_eq!(bad[0].0, Code::UnknownProfile, "{bad:?}");
}

const FAILED_LOGON: &str = "\
title: failed logon
name: failed_logon
logsource:
  product: windows
  service: security
detection:
  sel:
    EventID: 4625
  condition: sel
";

#[test]
fn correlations_become_summarize_with_a_threshold() {
    let text = format!(
        "{FAILED_LOGON}---\n{}",
        "\
title: many failed logons
correlation:
  type: value_count
  rules: [failed_logon]
  group-by: [IpAddress]
  timespan: 10m
  condition:
    gte: 5
    field: TargetUserName
"
    );
    let kql = convert_with(&text, None).unwrap();
    // The timespan is a bin of the table's time column, which is not Sigma's sliding window.
    let expected = "\
SecurityEvent
| where EventID == 4625
| summarize value_count = dcount(TargetUserName) by bin(TimeGenerated, 10m), IpAddress
| where value_count >= 5
";
    assert!(
        kql.starts_with(
            "// ruleconv fidelity: approximate\n// ruleconv evidence: schema-checked\n//   loss: the timespan is written as fixed time bins"
        ),
        "{kql}"
    );
    assert!(kql.ends_with(expected), "{kql}");
}

/// `temporal`: inner joins on the group-by fields (each rule's own where `aliases` names one),
/// each followed by the window between the first rule's time and the joined rule's, named as
/// Kusto names clashing columns (`TimeGenerated1`, `TimeGenerated2`; `Timestamp` in Defender
/// XDR tables).
#[test]
fn temporal_correlations_become_joins_within_the_timespan() {
    let process = "---\ntitle: p\nname: whoami\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n  sel:\n    CommandLine|contains: whoami\n  condition: sel\n";
    let correlation = |rules: &str| {
        format!(
            "{FAILED_LOGON}---\n{}{process}---\ntitle: c\ncorrelation:\n  type: temporal\n  rules: [{rules}]\n  group-by: [user]\n  aliases:\n    user:\n      failed_logon: TargetUserName\n      again: TargetUserName\n      whoami: AccountName\n  timespan: 5m\n",
            FAILED_LOGON.replace("name: failed_logon", "name: again")
        )
    };
    let kql = convert_with(&correlation("failed_logon, again, whoami"), None).unwrap();
    let expected = "\
SecurityEvent
| where EventID == 4625
| join kind=inner (SecurityEvent
| where EventID == 4625) on $left.TargetUserName == $right.TargetUserName
| where abs(TimeGenerated - TimeGenerated1) <= 5m
| join kind=inner (DeviceProcessEvents
| where ProcessCommandLine contains \"whoami\") on $left.TargetUserName == $right.AccountName
| where abs(TimeGenerated - Timestamp) <= 5m
";
    assert!(kql.ends_with(expected), "{kql}");
    assert!(kql.contains("within the timespan of the first rule's event"), "{kql}");
    let three = convert_with(&correlation("failed_logon, again, again"), None).unwrap();
    assert!(three.contains("| where abs(TimeGenerated - TimeGenerated2) <= 5m"), "{three}");
    // Without a shared field there is nothing to join on.
    let unkeyed = correlation("failed_logon, whoami").replace("  group-by: [user]\n", "");
    let errors = convert_with(&unkeyed, None).unwrap_err();
    assert_eq!(errors, [(Code::CorrelationUnsupported, "the rules share no `group-by` field to join on".to_string())]);
}

#[test]
fn kql_rules_print_their_query_normalized() {
    let text = "id: 5b6e1c7a-3f2d-4a8e-9c41-0d2f7e8a9b10\nname: r\nseverity: Low\nquery: |\n  SecurityEvent|where EventID==4625\n";
    let out = read_text(text, Path::new("r.yaml"), None);
    let rule = &out.rules[0];
    let detection = lower_rule(rule);
    let emitted = emit(Target::from_name("kql").unwrap(), &[Subject::new(rule, &detection)], &EmitOptions::default()).unwrap();
    assert_eq!(emitted.text, "// ruleconv fidelity: exact\n// ruleconv evidence: unverified\nSecurityEvent\n| where EventID == 4625\n");
}

#[test]
fn sentinel_targets_carry_the_same_kql_as_a_scheduled_rule() {
    let text = "title: t\nid: 5b6e1c7a-3f2d-4a8e-9c41-0d2f7e8a9b10\nlevel: high\ntags:\n  - attack.privilege-escalation\n  - attack.t1078.004\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n  sel:\n    eventName: StopLogging\n  condition: sel\n";
    let out = read_text(text, Path::new("r.yml"), Some(SourceFormat::Sigma));
    let rule = &out.rules[0];
    let detection = lower_rule(rule);
    let subject = [Subject::new(rule, &detection)];
    let options = EmitOptions::default();
    let yaml = emit(Target::from_name("sentinel-yaml").unwrap(), &subject, &options).unwrap();
    let read = read_text(&yaml.text, Path::new("r.yaml"), None);
    let back = &read.rules[0];
    assert_eq!(back.kql().unwrap().text.trim_end(), "AWSCloudTrail\n| where EventName =~ \"StopLogging\"", "{}", yaml.text);
    let section = back.sentinel.as_ref().unwrap();
    assert_eq!(section.trigger.threshold, Some(0));
    assert!(yaml.text.contains("queryFrequency: 1h\nqueryPeriod: 1h\n"), "{}", yaml.text);
    assert!(yaml.text.contains("tactics:\n  - PrivilegeEscalation\nrelevantTechniques:\n  - T1078.004\n"), "{}", yaml.text);
    assert!(yaml.problems.iter().any(|p| p.code == ruleconv::diag::Code::DefaultAdded && p.message.contains("schedule")));
    let arm = emit(Target::from_name("sentinel").unwrap(), &subject, &options).unwrap();
    assert!(arm.text.contains(r#""query": "AWSCloudTrail\n| where EventName =~ \"StopLogging\"""#), "{}", arm.text);
}

/// Kusto cannot tell an absent string from an empty one: Sigma's `null` is written `isempty`
/// and reported as a loss at the test, so the rule is not `exact`; a rule without one is.
#[test]
fn a_test_for_absence_is_a_loss() {
    let rule = |value: &str| {
        format!(
            "title: t\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n  sel:\n    CommandLine: {value}\n  condition: sel\n"
        )
    };
    let header = |text: &str| text.lines().take_while(|l| l.starts_with("//")).collect::<Vec<_>>().join("\n");
    let absent = convert_with(&rule("null"), None).unwrap();
    assert!(header(&absent).contains("approximate"), "{absent}");
    assert!(header(&absent).contains("loss: `CommandLine` is tested for absence"), "{absent}");
    let present = convert_with(&rule("x"), None).unwrap();
    assert!(header(&present).contains("exact") && !header(&present).contains("loss"), "{present}");
}

/// SigmaHQ accepts `CommandLine` under `windows/file_event` only as an add-on other sensors
/// write (Sysmon's FileCreate has none): the test is written on the mapped column, with a loss.
#[test]
fn a_test_of_an_add_on_field_is_a_loss() {
    let rule = |category: &str| {
        format!(
            "title: t\nlogsource:\n  product: windows\n  category: {category}\ndetection:\n  sel:\n    CommandLine|contains: MSExchange\n  condition: sel\n"
        )
    };
    let header = |text: &str| text.lines().take_while(|l| l.starts_with("//")).collect::<Vec<_>>().join("\n");
    let file = convert_with(&rule("file_event"), None).unwrap();
    assert!(header(&file).contains("approximate"), "{file}");
    assert!(header(&file).contains("loss: `CommandLine` is a field SigmaHQ lists for windows/file_event only as an add-on"), "{file}");
    assert!(file.contains(r#"InitiatingProcessCommandLine contains "MSExchange""#), "{file}");
    // Sysmon's process creation has its own CommandLine.
    let process = convert_with(&rule("process_creation"), None).unwrap();
    assert!(header(&process).contains("exact") && !header(&process).contains("loss"), "{process}");
}

/// `azure-monitor` reads file events from event 4663, which Windows writes for any access a SACL
/// audits: the rule is approximate, with the reason, where process creation (4688) is exact.
#[test]
fn a_category_read_from_a_broader_audit_event_is_approximate() {
    let rule = |category: &str, field: &str| {
        format!(
            "title: t\nlogsource:\n  product: windows\n  category: {category}\ndetection:\n  sel:\n    {field}|endswith: '\\x.exe'\n  condition: sel\n"
        )
    };
    let header = |text: &str| text.lines().take_while(|l| l.starts_with("//")).collect::<Vec<_>>().join("\n");
    let file = convert_with(&rule("file_event", "TargetFilename"), Some("azure-monitor")).unwrap();
    assert!(header(&file).contains("approximate"), "{file}");
    assert!(header(&file).contains("loss: the logsource is read from SecurityEvent: event 4663"), "{file}");
    let process = convert_with(&rule("process_creation", "Image"), Some("azure-monitor")).unwrap();
    assert!(header(&process).contains("exact") && !header(&process).contains("loss"), "{process}");
}
