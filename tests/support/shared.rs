//! `../shared` (the corpus and tools beside the repository): present on CI, perhaps not in a
//! user's clone. A test that needs it and finds it absent says so where `cargo test` shows it.

#![allow(dead_code)] // each user needs a different part

use std::io::Write;
use std::path::{Path, PathBuf};

/// Where the reference tools install their pinned packages (`ruleconv-tools` in the user's cache,
/// or `RULECONV_TOOLS_CACHE`), as their wrappers choose it.
pub fn tools_cache() -> Option<PathBuf> {
    std::env::var_os("RULECONV_TOOLS_CACHE").map(PathBuf::from).or_else(|| {
        let base = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
        Some(base.join("ruleconv-tools"))
    })
}

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
