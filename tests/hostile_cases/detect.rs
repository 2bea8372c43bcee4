//! Folder searches (issue 19 items 6, 12 and 20): every spelling of a rule is read, each file
//! once, and every file left out is named with the reason; a link out of the folder is not
//! followed, and a binary file is quoted one record at most.

use super::{TIME_BOUND, fresh_dir};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Runs ruleconv in `dir`, asserting exit code 0 or 1 within the time bound; returns the code
/// and what it printed (stdout then stderr).
fn ruleconv(dir: &Path, args: &[&str]) -> (i32, String) {
    let started = Instant::now();
    let result = Command::new(env!("CARGO_BIN_EXE_ruleconv")).args(args).current_dir(dir).output().unwrap();
    let printed = format!("{}{}", String::from_utf8_lossy(&result.stdout), String::from_utf8_lossy(&result.stderr));
    let code = result.status.code().unwrap_or_else(|| panic!("{args:?}: killed by a signal\n{printed}"));
    assert!(code == 0 || code == 1, "{args:?}: exit code {code}\n{printed}");
    assert!(started.elapsed() < TIME_BOUND, "{args:?}: took {:?}", started.elapsed());
    (code, printed)
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn sigma_rule(title: &str) -> String {
    format!(
        "title: {title}\nlevel: medium\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n  sel:\n    Image|endswith: '\\whoami.exe'\n  condition: sel\n"
    )
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
}

/// Issue 19 item 6: in a mixed folder, Sigma in every YAML spelling and a JSON Sentinel rule
/// that mentions `"resources"` are converted; `package.json`, `README.md` and YAML or JSON
/// without any rule format's keys are skipped with one warning line each and a `--report`
/// record each, and do not fail the run.
#[test]
fn a_folder_reads_every_spelling_and_names_each_file_it_skips() {
    let dir = fresh_dir("detect-mixed");
    let hostile = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile");
    let rules = [
        "sigma_flow_style.yml",
        "sigma_quoted_keys.yml",
        "sigma_single_quoted_keys.yml",
        "sigma_fully_indented.yml",
        "sigma_space_before_colon.yml",
        "sigma_explicit_keys.yml",
        "sentinel_json_mentions_resources.json",
    ];
    for name in rules {
        write(&dir.join("rules").join(name), &std::fs::read_to_string(hostile.join(name)).unwrap());
    }
    let skipped = ["package.json", "README.md", "settings.yaml", "tsconfig-like.json"];
    write(&dir.join("rules/package.json"), "{\"name\": \"rules\", \"version\": \"1.0.0\"}\n");
    write(&dir.join("rules/README.md"), "# Rules\n\nSee the folders.\n");
    write(&dir.join("rules/settings.yaml"), "retries: 3\nhosts: [a, b]\n");
    write(&dir.join("rules/tsconfig-like.json"), "{\"compilerOptions\": {\"strict\": true}}\n");

    let (code, printed) = ruleconv(&dir, &["convert", "rules", "--to", "sigma", "-o", "out", "--report", "report.json"]);
    assert_eq!(code, 0, "{printed}");
    assert!(printed.contains("7 rule(s) from 7 file(s), 4 file(s) without rules skipped"), "{printed}");
    assert_eq!(files_in(&dir.join("out")).len(), rules.len(), "{printed}");
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    let records = report["skipped"].as_array().unwrap();
    for name in skipped {
        let line = format!("rules/{name}: warning: skipped: ");
        assert_eq!(printed.matches(&line).count(), 1, "one line for {name} in\n{printed}");
        let record = records.iter().find(|r| r["source"] == format!("rules/{name}")).unwrap_or_else(|| panic!("{name}: no record"));
        assert!(!record["reason"].as_str().unwrap().is_empty(), "{record}");
    }
    assert_eq!(records.len(), skipped.len());

    let (code, printed) = ruleconv(&dir, &["check", "rules"]);
    assert_eq!(code, 0, "{printed}");
    assert!(printed.contains("7 rule(s)") && printed.contains("rules/settings.yaml: warning: skipped: "), "{printed}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Issue 19 item 12: a file named twice, by two spellings of its path, or found again through a
/// subfolder, is read and converted once.
#[test]
fn a_file_named_or_found_twice_is_converted_once() {
    let dir = fresh_dir("detect-twice");
    write(&dir.join("rules/sub/a.yml"), &sigma_rule("Rule A"));
    write(&dir.join("rules/b.yml"), &sigma_rule("Rule B"));
    let args = ["rules", "rules/sub", "rules/sub/a.yml", "./rules/b.yml", "rules/../rules/b.yml"];
    let (code, printed) = ruleconv(&dir, &[&["convert", "--to", "sigma", "-o", "out"][..], &args].concat());
    assert_eq!(code, 0, "{printed}");
    assert!(printed.contains("2 rule(s) from 2 file(s)"), "{printed}");
    assert_eq!(files_in(&dir.join("out")), [dir.join("out/Rule_B.yml"), dir.join("out/sub")], "{printed}");
    assert_eq!(files_in(&dir.join("out/sub")), [dir.join("out/sub/Rule_A.yml")]);
    let (_, printed) = ruleconv(&dir, &[&["check"][..], &args].concat());
    assert!(printed.contains("check: 2 rule(s)"), "{printed}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Issue 19 item 20: a link in the folder to a file outside it (here a NUL-separated file like
/// `/proc/self/environ`, and a rule) is not followed, and is named as skipped; the same link
/// named on the command line is followed, and the binary file is quoted one record at most.
#[cfg(unix)]
#[test]
fn a_link_out_of_the_folder_is_skipped_and_a_binary_file_quoted_one_record() {
    let dir = fresh_dir("detect-links");
    write(&dir.join("outside/environ"), "A=1\0TOKEN=secret-value\0B=2\0");
    write(&dir.join("outside/rule.yml"), &sigma_rule("Outside"));
    write(&dir.join("rules/ok.yml"), &sigma_rule("Inside"));
    std::os::unix::fs::symlink(dir.join("outside/environ"), dir.join("rules/leak.yml")).unwrap();
    std::os::unix::fs::symlink(dir.join("outside/rule.yml"), dir.join("rules/away.yml")).unwrap();
    std::os::unix::fs::symlink("ok.yml", dir.join("rules/alias.yml")).unwrap();

    let (code, printed) = ruleconv(&dir, &["check", "rules"]);
    assert_eq!(code, 0, "{printed}");
    assert!(!printed.contains("secret-value") && !printed.contains("Outside"), "{printed}");
    for name in ["leak.yml", "away.yml"] {
        assert!(printed.contains(&format!("rules/{name}: warning: skipped: a symbolic link to a file outside")), "{printed}");
    }
    // The link inside the folder is the same file as ok.yml: read once.
    assert!(printed.contains("check: 1 rule(s)"), "{printed}");

    let (code, printed) = ruleconv(&dir, &["check", "rules/away.yml"]);
    assert_eq!(code, 0, "a link named by the user is followed: {printed}");
    let (code, printed) = ruleconv(&dir, &["check", "rules/leak.yml"]);
    assert_eq!(code, 1, "{printed}");
    assert!(printed.contains("rules/leak.yml:1:4: error: the file holds a NUL byte"), "{printed}");
    assert!(!printed.contains("TOKEN") && !printed.contains("B=2"), "quoted more than the offending record:\n{printed}");
    std::fs::remove_dir_all(&dir).unwrap();
}
