//! `../shared` (the corpus and tools beside the repository): present on CI, perhaps not in a
//! user's clone. A test that needs it and finds it absent says so where `cargo test` shows it.

use std::io::Write;
use std::path::{Path, PathBuf};

/// `../shared/<relative>` when it exists; else `None`, after printing
/// `skipped: <test>: ../shared/<relative> not found`. The line is written to the process's
/// stderr directly, past the test harness's capture, so a passing run shows it too.
pub fn shared_or_skip(relative: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared").join(relative);
    if path.exists() {
        return Some(path);
    }
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    let _ = writeln!(std::io::stderr().lock(), "skipped: {test}: ../shared/{relative} not found");
    None
}
