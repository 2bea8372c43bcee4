//! A scratch folder for a test's files (removed when dropped), and `ruleconv` run on them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Scratch(pub PathBuf);

impl Scratch {
    /// `ruleconv-<name>-<pid>` in the temporary folder; `name` tells the tests apart.
    pub fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("ruleconv-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch folder");
        Scratch(dir)
    }

    pub fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).expect("written");
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn ruleconv(args: &[&str], files: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ruleconv")).args(args).args(files).output().expect("ruleconv runs")
}

/// The run's standard output, which must have succeeded.
pub fn stdout(output: &Output) -> String {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout.clone()).expect("utf-8")
}
