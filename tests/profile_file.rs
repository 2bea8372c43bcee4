//! `--profile FILE`: a team maps Sigma logsources and fields to its own tables for `--to kql`
//! and the Sentinel targets, on top of a built-in profile or alone; a malformed profile is
//! refused once, at its file's line and column, before any rule is converted.

#[path = "support/scratch.rs"]
mod scratch;

use scratch::{Scratch, ruleconv, stdout};

const RULE: &str = "\
title: Encoded PowerShell
level: high
logsource:
  category: process_creation
  product: windows
detection:
  selection:
    Image|endswith: '\\powershell.exe'
    CommandLine|contains: ' -enc '
  condition: selection
";

const SIGNIN: &str = "\
title: Legacy sign-in
level: medium
logsource:
  product: azure
  service: signinlogs
detection:
  selection:
    ClientAppUsed: IMAP4
  condition: selection
";

const COUNT: &str = "\
title: process start
name: started
level: low
logsource:
  category: process_creation
  product: windows
detection:
  selection:
    Image|endswith: '\\whoami.exe'
  condition: selection
---
title: many starts
level: medium
correlation:
  type: event_count
  rules: [started]
  group-by: [User]
  timespan: 1h
  condition:
    gte: 5
";

const PROFILE: &str = "\
about: Our EDR's process events
extends: sentinel
time_columns:
  MyEdr_CL: EventTime_t
logsources:
  - category: process_creation
    product: windows
    table: MyEdr_CL
    equals:
      EventType_s: ProcessStart
fields:
  MyEdr_CL:
    Image: ProcessPath_s
    CommandLine: CommandLine_s
    User: UserName_s
";

#[test]
fn a_profile_file_maps_logsources_and_fields_to_a_teams_tables() {
    let scratch = Scratch::new("profile-maps");
    let profile = scratch.file("our-tables.yaml", PROFILE);
    let profile = profile.to_str().expect("utf-8 path");
    let rule = scratch.file("rule.yml", RULE);
    let kql = stdout(&ruleconv(&["--to", "kql", "--profile", profile], &[&rule]));
    let expected = r#"MyEdr_CL
| where EventType_s == "ProcessStart" and (ProcessPath_s endswith "\\powershell.exe" and CommandLine_s contains " -enc ")"#;
    assert!(kql.contains(expected), "{kql}");
    // The Sentinel targets write the same query around it.
    let yaml = stdout(&ruleconv(&["--to", "sentinel-yaml", "--profile", profile], &[&rule]));
    assert!(yaml.contains("MyEdr_CL") && yaml.contains("ProcessPath_s endswith"), "{yaml}");
    let arm = stdout(&ruleconv(&["--to", "sentinel", "--profile", profile], &[&rule]));
    assert!(arm.contains("MyEdr_CL") && arm.contains("ProcessPath_s endswith"), "{arm}");
    // A logsource the file does not map comes from the profile it extends.
    let signin = scratch.file("signin.yml", SIGNIN);
    let kql = stdout(&ruleconv(&["--to", "kql", "--profile", profile], &[&signin]));
    assert!(kql.contains("SigninLogs\n| where ClientAppUsed =~ \"IMAP4\""), "{kql}");
    // A correlation bins the table's own time column and groups by the mapped column.
    let count = scratch.file("count.yml", COUNT);
    let kql = stdout(&ruleconv(&["--to", "kql", "--profile", profile], &[&count]));
    assert!(kql.contains("by bin(EventTime_t, 1h), UserName_s"), "{kql}");
}

#[test]
fn a_profile_without_extends_maps_only_its_own_tables() {
    let scratch = Scratch::new("profile-alone");
    let profile = scratch.file("alone.yml", "about: only ours\nlogsources:\n  - category: process_creation\n    table: MyEdr_CL\n");
    let signin = scratch.file("signin.yml", SIGNIN);
    let output = ruleconv(&["--to", "kql", "--profile", profile.to_str().unwrap()], &[&signin]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no table for logsource `product: azure, service: signinlogs`"), "{stderr}");
}

#[test]
fn a_malformed_profile_is_refused_at_its_line_and_column_before_any_rule() {
    let scratch = Scratch::new("profile-malformed");
    let rule = scratch.file("rule.yml", RULE);
    let cases = [
        (
            "typo.yaml",
            "about: x\nlogsources:\n  - category: process_creation\n    tabel: MyEdr_CL\n",
            "typo.yaml:4:5: unknown field `tabel`",
        ),
        ("type.yaml", "about: x\nlogsources: []\nfields:\n  T:\n    Image: [1, {a: b}]\n", "type.yaml:5:5:"),
        ("syntax.yaml", "about: [x\n", "syntax.yaml:"),
        ("extends.yaml", "about: x\nextends: sentinal\n", "`extends: sentinal` names no built-in profile"),
    ];
    for (name, text, expected) in cases {
        let profile = scratch.file(name, text);
        let output = ruleconv(&["--to", "kql", "--profile", profile.to_str().unwrap()], &[&rule]);
        assert_eq!(output.status.code(), Some(2), "{name}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{name}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "said once, not per rule: {stderr}");
        assert!(output.stdout.is_empty(), "{name}: nothing converted");
    }
    let missing = ruleconv(&["--to", "kql", "--profile", "no-such-profile.yaml"], &[&rule]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no-such-profile.yaml: cannot read the profile"));
    let unknown = ruleconv(&["--to", "kql", "--profile", "sentinal"], &[&rule]);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unknown --profile `sentinal`"));
}
