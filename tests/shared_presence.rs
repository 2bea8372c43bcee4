//! Whether `../shared` (the corpus and the reference tools beside the repository) is here.
//!
//! The corpus and tool tests pass without reading anything when it is absent (a user's clone),
//! and `cargo test` hides what a passing test prints. This test says, where `cargo test` shows
//! it, which test files needed it; on CI (`CI` set) its absence is a failure.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The test files that read `../shared`, directly or through a support module, by name.
fn files_needing_shared(tests: &Path) -> Vec<String> {
    let mentions = |path: &Path| std::fs::read_to_string(path).is_ok_and(|text| text.contains("../shared"));
    let mut needing: Vec<String> = std::fs::read_dir(tests)
        .expect("tests/")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "rs") && !path.ends_with("shared_presence.rs"))
        .filter(|path| {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            mentions(path)
                || text.lines().filter_map(|l| l.trim().strip_prefix("#[path = \"")?.strip_suffix("\"]")).any(|m| mentions(&tests.join(m)))
        })
        .filter_map(|path| Some(path.file_stem()?.to_string_lossy().into_owned()))
        .collect();
    needing.sort();
    needing
}

#[test]
fn says_which_tests_ran_without_the_shared_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared: PathBuf = root.join("../shared");
    let needing = files_needing_shared(&root.join("tests"));
    assert!(needing.iter().any(|n| n == "roundtrip") && needing.iter().any(|n| n == "kql_target_exec"), "{needing:?}");
    if shared.join("corpus").is_dir() {
        return;
    }
    let message = format!(
        "skipped: ../shared not found (looked for {}): the corpus and tool checks of these test files did not run: {}",
        shared.display(),
        needing.join(", ")
    );
    assert!(std::env::var_os("CI").is_none(), "{message}; CI must have it");
    // Past the test harness's capture, so a passing run shows it.
    let _ = writeln!(std::io::stderr().lock(), "{message}");
}
