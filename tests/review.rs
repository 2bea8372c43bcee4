//! `ruleconv diff OLD NEW --rules`: a change to a source pack reviewed rule by rule, from
//! folders and from git revisions.

#[path = "support/run.rs"]
mod run;

use run::{scratch, text};
use std::path::Path;
use std::process::Command;

/// A threshold rule; the one logical edit raises its threshold and adds an exclusion.
const THRESHOLD: &str = r#"id: 0b7c4a52-1d9e-4f0a-9c3b-2a6e8d1f5c70
name: Many failed sign-ins for one account
severity: Medium
queryFrequency: 1h
queryPeriod: 1h
triggerOperator: gt
triggerThreshold: 0
query: |
  SigninLogs
  | where ResultType != "0"
  | summarize failures = count() by UserPrincipalName
  | where failures > 1
kind: Scheduled
"#;

/// A rule with a loss in `--to sigma` (`has`), whose file gains lines above the query: its
/// loss moves to another line, which must not count as a change.
const TERM: &str = r#"id: 6f2b8e14-3c5a-4d7e-b1f0-9a8c7d6e5b43
name: Encoded PowerShell
severity: High
query: |
  DeviceProcessEvents
  | where ProcessCommandLine has "-enc"
"#;

const UNTOUCHED: &str = r#"id: 1c9d7e35-5a2b-4f68-8e0d-3b4a6c2f1e97
name: Console sign-in
severity: Low
query: |
  AWSCloudTrail
  | where EventName == "ConsoleLogin"
"#;

fn edited_threshold() -> String {
    THRESHOLD
        .replace("| where failures > 1", "| where failures > 3")
        .replace("  | where ResultType != \"0\"\n", "  | where ResultType != \"0\"\n  | where AppDisplayName !has \"Legacy\"\n")
}

fn write_pack(dir: &Path, rules: &[(&str, &str)]) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    for (name, text) in rules {
        std::fs::write(dir.join(name), text).unwrap();
    }
}

fn ruleconv_in(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ruleconv")).args(args).current_dir(dir).output().unwrap();
    (out.status.code().unwrap(), format!("{}{}", text(&out.stdout), text(&out.stderr)))
}

fn old_and_new(dir: &Path) {
    write_pack(&dir.join("old"), &[("threshold.yaml", THRESHOLD), ("term.yaml", TERM), ("untouched.yaml", UNTOUCHED)]);
    let moved = format!("# Reviewed by the detection team.\n# Owner: identity.\n\n{TERM}");
    write_pack(&dir.join("new"), &[("threshold.yaml", &edited_threshold()), ("term.yaml", &moved), ("untouched.yaml", UNTOUCHED)]);
}

#[test]
fn one_logical_edit_is_one_rule_entry_with_its_verdict_and_loss_changes() {
    let dir = scratch("one-edit");
    old_and_new(&dir);
    let (code, printed) = ruleconv_in(&dir, &["diff", "--rules", "old", "new", "--to", "sigma,chronicle,kql"]);
    assert_eq!(code, 1, "{printed}");
    assert!(printed.starts_with("1 changed, 0 added, 0 removed, 2 unchanged\n"), "{printed}");
    assert_eq!(printed.matches("\nchanged ").count(), 1, "{printed}");
    assert!(printed.contains("changed   Many failed sign-ins for one account [0b7c4a52-1d9e-4f0a-9c3b-2a6e8d1f5c70]"), "{printed}");
    assert!(printed.contains("\n  fields: query\n  sigma: exact → approximate\n    + loss term-match: "), "{printed}");
    assert!(printed.contains("  -    gt: 1\n  +    gt: 3\n"), "the threshold in the Sigma diff: {printed}");
    assert!(printed.contains("  -    #e > 1\n  +    #e > 3\n"), "the threshold in the YARA-L diff: {printed}");
    assert!(!printed.contains("Encoded PowerShell"), "the rule whose loss moved lines is unchanged: {printed}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn added_and_removed_rules_and_a_markdown_comment() {
    let dir = scratch("add-remove");
    write_pack(&dir.join("old"), &[("term.yaml", TERM), ("untouched.yaml", UNTOUCHED)]);
    write_pack(&dir.join("new"), &[("threshold.yaml", THRESHOLD), ("untouched.yaml", UNTOUCHED)]);
    let (code, printed) = ruleconv_in(&dir, &["diff", "--rules", "old", "new", "--to", "sigma", "--format", "markdown"]);
    assert_eq!(code, 1, "{printed}");
    assert!(printed.starts_with("### ruleconv review: 0 changed, 1 added, 1 removed, 1 unchanged\n"), "{printed}");
    assert!(printed.contains("| rule | change | fields | sigma |\n|---|---|---|---|\n"), "{printed}");
    assert!(printed.contains("| Many failed sign-ins for one account | added |"), "{printed}");
    assert!(printed.contains("| Encoded PowerShell | removed |"), "{printed}");
    assert!(printed.contains("<details><summary>added Many failed sign-ins for one account</summary>"), "{printed}");
    let (same, quiet) = ruleconv_in(&dir, &["diff", "--rules", "old", "old", "--to", "sigma"]);
    assert_eq!((same, quiet.as_str()), (0, "0 changed, 0 added, 0 removed, 2 unchanged\n"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn two_git_revisions_of_a_pack_are_reviewed_like_two_folders() {
    let dir = scratch("git-revisions");
    let git = |args: &[&str]| {
        let out = Command::new("git").args(args).current_dir(&dir).output().expect("git runs");
        assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
    };
    old_and_new(&dir);
    std::fs::rename(dir.join("old"), dir.join("rules")).unwrap();
    git(&["init", "-q"]);
    git(&["add", "rules"]);
    git(&["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "pack"]);
    std::fs::remove_dir_all(dir.join("rules")).unwrap();
    std::fs::rename(dir.join("new"), dir.join("rules")).unwrap();
    git(&["add", "-A", "rules"]);
    git(&["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "edit"]);
    let (code, printed) = ruleconv_in(&dir, &["diff", "--rules", "HEAD~1:rules", "HEAD:rules", "--to", "sigma"]);
    assert_eq!(code, 1, "{printed}");
    assert!(printed.starts_with("1 changed, 0 added, 0 removed, 2 unchanged\n"), "{printed}");
    assert!(printed.contains("  sigma: exact → approximate\n"), "{printed}");
    let (bad, message) = ruleconv_in(&dir, &["diff", "--rules", "HEAD~1:nowhere", "HEAD:rules"]);
    assert_eq!(bad, 2, "{message}");
    assert!(message.contains("HEAD~1:nowhere: no such file or folder at that revision"), "{message}");
    std::fs::remove_dir_all(&dir).unwrap();
}
