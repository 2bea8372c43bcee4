//! `ruleconv check` on Sigma rules covers what pySigma's `sigma check` validates, with current
//! data: tags (the Sigma tag specification, ATT&CK from `targets/attack.json`), the
//! specification's vocabularies, ids and titles across the rules of a run, and SigmaHQ's field
//! list per logsource. Each check has a rule that fails it and `good.yml`, which passes them all.

#[path = "support/run.rs"]
mod run;
#[path = "support/shared.rs"]
mod shared;

use run::{ruleconv, text};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures-check-sigma").join(name)
}

/// One problem as `check --format json` gives it: kind, code, line, column, message.
type Found = (String, String, u64, u64, String);

/// `check --format json` over `paths`: the exit code, and per file name its problems.
fn check(paths: &[PathBuf]) -> (Option<i32>, BTreeMap<String, Vec<Found>>) {
    let mut args = vec!["check", "--format", "json"];
    args.extend(paths.iter().map(|p| p.to_str().unwrap()));
    let out = ruleconv(&args);
    let records: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out.stderr)));
    let mut by_file: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for record in &records {
        let name = Path::new(record["file"].as_str().unwrap()).file_name().unwrap().to_string_lossy().into_owned();
        let problems = by_file.entry(name).or_default();
        for p in record["errors"].as_array().unwrap().iter().chain(record["warnings"].as_array().unwrap()) {
            let field = |key: &str| p[key].as_str().unwrap().to_string();
            problems.push((field("kind"), field("code"), p["line"].as_u64().unwrap(), p["column"].as_u64().unwrap(), field("message")));
        }
    }
    (out.status.code(), by_file)
}

/// (kind, code, line, column) of each problem.
fn places(problems: &[Found]) -> Vec<(&str, &str, u64, u64)> {
    problems.iter().map(|(kind, code, line, col, _)| (kind.as_str(), code.as_str(), *line, *col)).collect()
}

#[test]
fn tags_outside_the_specification_or_the_attack_data_are_warned_at_the_tag() {
    let (code, found) = check(&[fixture("good.yml"), fixture("bad-tags.yml")]);
    assert_eq!(code, Some(0), "warnings do not fail the check: {found:?}");
    // good.yml tags attack.stealth and attack.defense-impairment (which pySigma's ATT&CK data
    // flags), a group, CAR, CVE, detection, STP and TLP tags: none is warned about.
    assert_eq!(found["good.yml"], [], "{found:?}");
    let bad = &found["bad-tags.yml"];
    let mut expected: Vec<(&str, &str, u64, u64)> = (7..=14).map(|line| ("warning", "unknown-tag", line, 7)).collect();
    expected.push(("warning", "duplicate-tag", 15, 7));
    assert_eq!(places(bad), expected, "{bad:?}");
    assert!(bad[0].4.contains("`attack.t9999`") && bad[0].4.contains("targets/attack.json"), "{bad:?}");
    assert!(bad[1].4.contains("`attack.defence-evasion`"), "{bad:?}");
    assert!(bad[2].4.contains("`foo` is no namespace"), "{bad:?}");
}

#[test]
fn values_outside_the_vocabularies_are_errors_where_they_are_written() {
    let (code, found) = check(&[fixture("good.yml"), fixture("bad-vocabulary.yml")]);
    assert_eq!(code, Some(1), "{found:?}");
    assert_eq!(found["good.yml"], [], "good.yml has a UUID, a status, dates and a relation of the specification's");
    let mut bad = places(&found["bad-vocabulary.yml"]);
    bad.sort_by_key(|&(_, _, line, col)| (line, col));
    assert_eq!(
        bad,
        [
            ("warning", "invalid-value", 2, 5),  // id: not-a-uuid (recommended)
            ("warning", "invalid-value", 4, 11), // related id (recommended)
            ("error", "invalid-value", 5, 13),   // related type: cousin
            ("error", "invalid-value", 6, 9),    // status: production
            ("error", "invalid-value", 7, 7),    // date: 2024-13-01
            ("warning", "invalid-value", 8, 11), // modified: 2024/02/01
        ]
    );
}

#[test]
fn a_rule_without_an_id_is_warned_about() {
    let (code, found) = check(&[fixture("good.yml"), fixture("no-id.yml")]);
    assert_eq!(code, Some(0));
    assert_eq!(found["good.yml"], []);
    assert_eq!(places(&found["no-id.yml"]), [("warning", "missing-key", 1, 1)]);
}

#[test]
fn a_field_sigmahq_does_not_list_for_the_logsource_is_warned_at_its_first_test() {
    let (code, found) = check(&[fixture("good.yml"), fixture("unlisted-field.yml"), fixture("own-logsource.yml")]);
    assert_eq!(code, Some(0));
    // good.yml tests ParentImage and CommandLine, both listed for windows/process_creation.
    assert_eq!(found["good.yml"], []);
    let unlisted = &found["unlisted-field.yml"];
    assert_eq!(places(unlisted), [("warning", "unlisted-field", 12, 11)], "{unlisted:?}");
    assert!(unlisted[0].4.contains("`TargetFilename`") && unlisted[0].4.contains("product: windows, category: process_creation"));
    // A product SigmaHQ keeps no list for is not judged.
    assert_eq!(found["own-logsource.yml"], []);
}

#[test]
fn sigma_rules_sharing_an_id_fail_naming_both_files_and_a_shared_title_is_warned() {
    let folder = fixture("duplicates");
    let (code, found) = check(&[folder.clone(), fixture("good.yml")]);
    assert_eq!(code, Some(1), "{found:?}");
    assert_eq!(found["good.yml"], []);
    for (this, other) in [("first.yml", "second.yml"), ("second.yml", "first.yml")] {
        let problems = &found[this];
        assert_eq!(places(problems), [("error", "duplicate-id", 2, 1), ("warning", "duplicate-title", 1, 1)], "{problems:?}");
        let other = folder.join(other).display().to_string();
        assert!(problems[0].4.contains(&format!("at `{other}:2:1`")), "{problems:?}");
        assert!(problems[1].4.contains(&format!("at `{other}:1:1`")), "{problems:?}");
    }
}

/// SigmaHQ's own rules pass SigmaHQ's CI: no errors, no unlisted field, no shared id or title.
/// The only warnings are the technique tags that `targets/attack.json` lacks (T1685, T1686 ...
/// of a newer ATT&CK release, which pySigma's ATT&CK data lacks too), each one of them, counted
/// here from the files' tag lines.
#[test]
fn sigmahq_rules_check_without_errors() {
    let Some(corpus) = shared::shared_or_skip("corpus/sigma/rules") else { return };
    let (code, found) = check(std::slice::from_ref(&corpus));
    assert_eq!(code, Some(0));
    let problems: Vec<_> = found.values().flatten().collect();
    assert!(
        problems.iter().all(|(kind, code, ..)| kind == "warning" && code == "unknown-tag"),
        "{:?}",
        problems.iter().find(|p| p.1 != "unknown-tag")
    );
    let attack: Value = serde_json::from_str(include_str!("../targets/attack.json")).unwrap();
    let unknown_techniques = yml_files(&corpus)
        .iter()
        .flat_map(|file| std::fs::read_to_string(file).unwrap().lines().map(str::trim).map(str::to_string).collect::<Vec<_>>())
        .filter_map(|line| {
            line.strip_prefix("- attack.t").filter(|id| id.starts_with(|c: char| c.is_ascii_digit())).map(|id| format!("T{id}"))
        })
        .filter(|id| attack["techniques"].get(id).is_none())
        .count();
    assert!(unknown_techniques > 0);
    assert_eq!(problems.len(), unknown_techniques, "{problems:?}");
}

fn yml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(yml_files(&path));
        } else if path.extension().is_some_and(|e| e == "yml") {
            out.push(path);
        }
    }
    out
}
