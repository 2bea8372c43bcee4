//! Golden tests: every input in tests/fixtures/, converted to every target, must equal the
//! reviewed output in golden/<target>/. A mismatch prints the diff; `RULECONV_BLESS=1 cargo test`
//! rewrites the files (review `git diff golden/` before committing).

use ruleconv::convert::{self, Lowered};
use ruleconv::emit::{EmitOptions, Target};
use std::path::{Path, PathBuf};

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Every fixture file (recursively, sorted), except the folder's README.
fn fixtures() -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![fixtures_dir()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("fixtures folder readable") {
            let path = entry.expect("readable entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.file_name().is_some_and(|n| n != "README.md") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The converted text, and the problems a reviewer should see next to it.
fn convert_fixture(path: &Path, target: Target) -> (String, String) {
    let files = convert::expand_inputs(&[path.to_path_buf()]);
    let read = convert::read_all(&files, None);
    let options = EmitOptions::default();
    let (records, converted) = convert::convert(&read, target, &options);
    // Each problem's kind is one its code allows (`Problem::new` asserts it in debug builds only).
    let misfits: Vec<_> = records.iter().flat_map(|r| &r.problems).filter(|p| !p.code.kinds().contains(&p.kind)).collect();
    assert!(misfits.is_empty(), "{}: {misfits:?}", path.display());
    let text = convert::combined_text(&converted, target, &options).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
    let root = format!("{}/", env!("CARGO_MANIFEST_DIR"));
    let problems: String = records.iter().flat_map(|r| &r.problems).map(|p| p.to_string().replace(&root, "") + "\n").collect();
    (text, problems)
}

/// Compares with the golden file (or writes it when blessing); returns a failure message.
fn check_golden(path: &Path, actual: &str, bless: bool) -> Option<String> {
    let expected = std::fs::read_to_string(path).ok();
    if bless {
        if actual.is_empty() {
            let _ = std::fs::remove_file(path);
        } else if expected.as_deref() != Some(actual) {
            std::fs::create_dir_all(path.parent().expect("golden folder")).expect("create golden folder");
            std::fs::write(path, actual).expect("write golden file");
        }
        return None;
    }
    let expected = expected.unwrap_or_default();
    (expected != actual).then(|| {
        let name = path.display().to_string();
        format!("{name} differs:\n{}", ruleconv::diff::unified(&expected, actual, &name, "actual"))
    })
}

#[test]
fn fixtures_match_golden_outputs() {
    let bless = std::env::var_os("RULECONV_BLESS").is_some_and(|v| v == "1");
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("golden");
    let fixtures = fixtures();
    assert!(fixtures.len() >= 12, "expected the seed documents and at least 10 corpus rules, found {}", fixtures.len());
    let mut failures = Vec::new();
    for fixture in &fixtures {
        // golden/<target>/<path under tests/fixtures>, with the target's extension.
        let relative = fixture.strip_prefix(fixtures_dir()).expect("under fixtures").with_extension("");
        for &target in Target::all() {
            let (text, problems) = convert_fixture(fixture, target);
            // A target may refuse a rule it cannot express; its golden problems then say why.
            let refused = problems.contains(": error: ");
            assert!(!text.is_empty() || refused, "{} produced no {} output and no error", fixture.display(), target.name());
            let base = golden.join(target.name()).join(&relative);
            failures.extend(check_golden(&base.with_extension(target.extension()), &text, bless));
            failures.extend(check_golden(&base.with_extension("problems.txt"), &problems, bless));
        }
    }
    assert!(
        failures.is_empty(),
        "{} golden mismatch(es); if every change is intended, rerun with RULECONV_BLESS=1 and review git diff golden/\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The Detection of every rule of every fixture, as `explain --format json` records: reviewed
/// output like the conversions, in golden/detection/<path under tests/fixtures, extension .json>.
#[test]
fn fixtures_match_golden_detections() {
    let bless = std::env::var_os("RULECONV_BLESS").is_some_and(|v| v == "1");
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("golden/detection");
    let mut failures = Vec::new();
    for fixture in fixtures() {
        let relative = fixture.strip_prefix(fixtures_dir()).expect("under fixtures");
        let rules = ruleconv::read::read_path(&fixture).rules;
        let records: Vec<_> = rules
            .iter()
            .map(|rule| ruleconv::explain::explain(&Lowered { rule, detection: ruleconv::lower::lower_rule(rule) }, relative))
            .collect();
        let text = serde_json::to_string_pretty(&records).expect("serializable") + "\n";
        failures.extend(check_golden(&golden.join(relative).with_extension("json"), &text, bless));
    }
    assert!(
        failures.is_empty(),
        "{} golden mismatch(es); if every change is intended, rerun with RULECONV_BLESS=1 and review git diff golden/\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}
