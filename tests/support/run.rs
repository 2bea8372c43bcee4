//! Running the `ruleconv` binary from a CLI test, and scratch folders for its files.
#![allow(dead_code)] // each user needs a different part

use std::path::PathBuf;
use std::process::{Command, Output};

/// `ruleconv ARGS...` run in the repository's root.
pub fn ruleconv(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ruleconv")).args(args).current_dir(env!("CARGO_MANIFEST_DIR")).output().expect("runs")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A fresh scratch folder per test (named after the test file and `name`).
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ruleconv-{}-{name}-{}", env!("CARGO_CRATE_NAME"), std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}
