//! `--to sigma` over the shared corpus of real Sentinel rules (skipped when ../shared is absent):
//! the share of rules that give Sigma with a real detection, the top problem codes of the rest, and
//! every emitted Sigma rule passing the reference tooling's `sigma check` with no error and no
//! issue.
//!
//! The corpus holds the same rule more than once (a detection and a hunting query with one
//! title and id), so the collection-wide checks (duplicate titles, ids, file names) are left out
//! of the `sigma check` run; uniqueness inside each emitted file is checked here instead.

#[path = "support/shared.rs"]
mod shared;

use ruleconv::convert;
use ruleconv::emit::{EmitOptions, Target};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn shared() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    dir.join("corpus/sentinel").is_dir().then_some(dir)
}

#[test]
fn corpus_rules_become_valid_sigma() {
    let Some(shared) = shared() else {
        shared::say_skipped("../shared/corpus/sentinel is absent");
        return;
    };
    let target = Target::from_name("sigma").expect("registered");
    let files = convert::expand_inputs(&[shared.join("corpus/sentinel")]);
    let read = convert::read_all(&files, None);
    // Every rule written, those broader than their rule too (as --allow-broader writes them):
    // what is checked here is the validity of what is written.
    let options = EmitOptions { allow_broader: true, ..EmitOptions::default() };
    let (records, converted) = convert::convert(&read, target, &options);

    let out = std::env::temp_dir().join(format!("ruleconv-sigma-corpus-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).expect("temp folder");
    for (index, rule) in converted.iter().enumerate() {
        assert_unique_within_file(&rule.text);
        // Short fixed names: `sigma check` judges file names too.
        std::fs::write(out.join(format!("sentinel_rule_{index:04}.yml")), &rule.text).expect("write");
    }

    let errors = records.iter().map(|r| r.problems.iter().filter(|p| p.is_error()));
    let total = records.len();
    let share = converted.len() as f64 / total as f64;
    eprintln!("sigma: {} of {total} rules ({:.1}%) give Sigma with a detection; the rest:", converted.len(), share * 100.0);
    ruleconv::diag::top_codes(errors, 5).iter().for_each(|top| eprintln!("  {:5}  {top}", top.rules));
    assert!(share >= 0.90, "only {:.1}% of the corpus converts", share * 100.0);

    let check = shared.join("tools/sigma-check/sigma-check");
    // `number_as_string` notes a string of digits, which a rule comparing text (`ResultType ==
    // "0"`) is written as, so that a backend compares it as text too.
    let excluded = ["duplicate_title", "duplicate_filename", "identifier_uniqueness", "filename_length", "number_as_string"];
    let mut command = Command::new(&check);
    command.arg(&out);
    for validator in excluded {
        command.args(["-x", validator]);
    }
    let output = command.output().expect("sigma-check runs");
    let report = String::from_utf8_lossy(&output.stdout).to_string() + &String::from_utf8_lossy(&output.stderr);
    let _ = std::fs::remove_dir_all(&out);
    assert!(output.status.success() && report.contains("Found 0 errors, 0 condition errors and 0 issues"), "{report}");
}

/// Each document's id and title are its own within the file (correlations name rules by id).
fn assert_unique_within_file(text: &str) {
    for key in ["id: ", "title: "] {
        let values: Vec<&str> = text.lines().filter(|l| l.starts_with(key)).collect();
        let distinct: HashSet<&&str> = values.iter().collect();
        assert_eq!(distinct.len(), values.len(), "repeated `{key}` in:\n{text}");
    }
}
