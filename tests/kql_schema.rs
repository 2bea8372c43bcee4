//! The KQL written for a Sigma rule against its tables' schemas (`targets/kql-schemas.tsv`):
//! a column the table lacks is an `unknown-field` loss naming the field, the column and the
//! table, in every KQL target and with a profile file; a team's own table is not judged; values
//! are written in the column's type. A test of such a column is written as on events without the
//! field, so `check` finds no unknown column in the rules we write; a rule whose condition then
//! never holds is refused.

#[path = "support/scratch.rs"]
mod scratch;

use scratch::{Scratch, ruleconv, stdout};

fn sigma(logsource: &str, selection: &str) -> String {
    format!("title: t\nlevel: high\nlogsource:\n{logsource}\ndetection:\n  selection:\n{selection}\n  condition: selection\n")
}

const PROCESS: &str = "  category: process_creation\n  product: windows";

/// A process-creation rule selecting `x` in the command line, unless run from a `Temp` folder:
/// Defender's DeviceProcessEvents has no Sysmon `CurrentDirectory`.
fn cwd_filtered() -> String {
    format!(
        "title: t\nlevel: high\nlogsource:\n{PROCESS}\ndetection:\n  selection:\n    CommandLine|contains: x\n  filter:\n    CurrentDirectory|contains: 'Temp'\n  condition: selection and not filter\n"
    )
}

#[test]
fn a_column_the_table_lacks_is_an_unknown_field_loss_in_every_kql_target() {
    let scratch = Scratch::new("schema-unknown");
    let rule = scratch.file("cwd.yml", &cwd_filtered());
    for target in ["kql", "sentinel", "sentinel-yaml"] {
        let out = stdout(&ruleconv(&["--to", target], &[&rule]));
        assert!(!out.contains("fidelity: exact"), "{target}: {out}");
        let report = scratch.0.join(format!("{target}.json"));
        let output = ruleconv(
            &["--to", target, "-o", scratch.0.join(target).to_str().unwrap(), "--report", report.to_str().unwrap(), "-q"],
            &[&rule],
        );
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let report = std::fs::read_to_string(&report).expect("report");
        assert!(
            report.contains("unknown-field") && report.contains("`CurrentDirectory`") && report.contains("`DeviceProcessEvents`"),
            "{target}: {report}"
        );
        assert!(!report.contains("`CommandLine`"), "a mapped column the table has is no loss: {report}");
    }
    // In the built-in profiles whose table lacks it (ASIM's imProcessCreate has TargetProcessCurrentDirectory).
    for profile in ["sentinel", "azure-monitor"] {
        let out = stdout(&ruleconv(&["--to", "kql", "--profile", profile], &[&rule]));
        assert!(out.contains("loss") && out.contains("`CurrentDirectory`"), "{profile}: {out}");
    }
}

#[test]
fn a_table_the_schema_data_lacks_is_not_judged_and_a_profile_files_known_tables_are() {
    let scratch = Scratch::new("schema-profile");
    let profile = scratch.file(
        "ours.yaml",
        "about: ours\nextends: sentinel\nlogsources:\n  - category: process_creation\n    product: windows\n    table: MyEdr_CL\n  - category: network_connection\n    product: windows\n    table: DeviceNetworkEvents\nfields:\n  MyEdr_CL:\n    Image: ProcessPath_s\n  DeviceNetworkEvents:\n    Bogus: NoSuchColumn\n",
    );
    let profile = profile.to_str().unwrap();
    let own = scratch.file("own.yml", &sigma(PROCESS, "    Image|endswith: '\\x.exe'"));
    let out = stdout(&ruleconv(&["--to", "kql", "--profile", profile], &[&own]));
    assert!(out.contains("fidelity: exact") && out.contains("ProcessPath_s endswith"), "{out}");
    let network = "title: t\nlevel: high\nlogsource:\n  category: network_connection\n  product: windows\ndetection:\n  selection:\n    DestinationPort: 445\n  filter:\n    Bogus: 1\n  condition: selection and not filter\n";
    let network = scratch.file("net.yml", network);
    let out = stdout(&ruleconv(&["--to", "kql", "--profile", profile], &[&network]));
    assert!(out.contains("`Bogus` is written as column `NoSuchColumn`, which table `DeviceNetworkEvents` does not have "), "{out}");
}

#[test]
fn values_are_written_in_the_columns_type() {
    let scratch = Scratch::new("schema-typed");
    let profile = scratch.file(
        "logon.yaml",
        "about: logons\nextends: sentinel\nlogsources:\n  - category: logon\n    product: windows\n    table: DeviceLogonEvents\n",
    );
    let profile = profile.to_str().unwrap();
    let logon = |selection: &str| {
        let rule = scratch.file("logon.yml", &sigma("  category: logon\n  product: windows", selection));
        stdout(&ruleconv(&["--to", "kql", "--profile", profile], &[&rule]))
    };
    // A long column: hexadecimal and decimal text are its numbers; a text test reads its text.
    let out = logon("    LogonId: '0x3e7'");
    assert!(out.contains("LogonId == 999") && out.contains("fidelity: exact"), "{out}");
    let out = logon("    LogonId|startswith: '99'");
    assert!(out.contains("tostring(LogonId) startswith \"99\"") && out.contains("fidelity: exact"), "{out}");
    // Text that is no number cannot match a number: said, never exact.
    let out = logon("    LogonId: 'SYSTEM'");
    assert!(out.contains("type-mismatch") || out.contains("never matches"), "{out}");
    assert!(!out.contains("fidelity: exact"), "{out}");
    // A number compared with a string column is its text.
    let signin = scratch.file("signin.yml", &sigma("  product: azure\n  service: signinlogs", "    ResultType: 50126"));
    let out = stdout(&ruleconv(&["--to", "kql"], &[&signin]));
    assert!(out.contains("ResultType == \"50126\""), "{out}");
}

#[test]
fn a_test_of_a_column_the_table_lacks_is_what_sigma_makes_of_a_missing_field() {
    let scratch = Scratch::new("schema-absent");
    // On rows without `CurrentDirectory` the filter never holds: the query keeps the selection
    // and names no column the table lacks, which `check` (as Microsoft's analyzer) would refuse.
    let rule = scratch.file("cwd.yml", &cwd_filtered());
    let out = stdout(&ruleconv(&["--to", "kql"], &[&rule]));
    assert!(out.contains("DeviceProcessEvents\n| where (ProcessCommandLine contains \"x\")\n"), "{out}");
    assert!(out.contains("loss") && !out.contains("where CurrentDirectory") && !out.contains(" CurrentDirectory contains"), "{out}");
    let written = scratch.0.join("out");
    let converted = ruleconv(&["--to", "sentinel-yaml", "-o", written.to_str().unwrap(), "-q"], &[&rule]);
    assert!(converted.status.success(), "{}", String::from_utf8_lossy(&converted.stderr));
    let checked = ruleconv(&["check"], &[&written]);
    let text = String::from_utf8_lossy(&checked.stdout);
    assert!(!text.contains("unknown-column") && !text.contains("is no column of"), "{text}");
    // A rule that needs the field to have a value would never alert: refused, naming the field.
    let needs = scratch.file("needs.yml", &sigma(PROCESS, "    CurrentDirectory|contains: 'Temp'\n    CommandLine|contains: x"));
    let refused = ruleconv(&["--to", "kql", "--show", "errors"], &[&needs]);
    let errors = String::from_utf8_lossy(&refused.stderr);
    assert!(errors.contains("no-detection") && errors.contains("`CurrentDirectory`") && errors.contains("never alert"), "{errors}");
}
