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

/// Says `skipped: <test>: <why>` once, where `cargo test` shows it: written to the process's
/// stderr directly, past the test harness's capture, so a passing run shows it too.
pub fn say_skipped(why: &str) {
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    let _ = writeln!(std::io::stderr().lock(), "skipped: {test}: {why}");
}

/// `../shared/<relative>` when it exists; else `None`, after saying
/// `skipped: <test>: ../shared/<relative> not found`.
pub fn shared_or_skip(relative: &str) -> Option<PathBuf> {
    all_shared_or_skip([relative]).map(|[path]| path)
}

/// Every `../shared/<relative>` when all exist; else `None`, after one skip line naming the
/// first one missing.
pub fn all_shared_or_skip<const N: usize>(relatives: [&str; N]) -> Option<[PathBuf; N]> {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    if let Some(missing) = relatives.iter().find(|relative| !shared.join(relative).exists()) {
        say_skipped(&format!("../shared/{missing} not found"));
        return None;
    }
    Some(relatives.map(|relative| shared.join(relative)))
}
