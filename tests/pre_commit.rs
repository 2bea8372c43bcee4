//! The pre-commit hooks of `.pre-commit-hooks.yaml`, run by pre-commit itself (a pinned
//! `pre-commit` in a Python venv, cached beside the reference tools' venvs) on a temporary git
//! repository of rules.
//!
//! What it proves, and what it does not: pre-commit installs a `language: rust` hook with
//! `cargo install --bins --path .` into a fresh CARGO_HOME, which downloads and builds the whole
//! crate, minutes on two cores. So the hook repository served to pre-commit holds this
//! repository's `.pre-commit-hooks.yaml` with `language: rust` replaced by `language: system`,
//! and `ruleconv` on PATH is the binary cargo built for the tests. Everything else is
//! pre-commit's own reading of our manifest: the hook ids the user's config names, each
//! `entry`, the file filters, `pass_filenames` and the user's `args`. The install step itself is
//! not run here (`cargo install --path .` is the README's install command).
//!
//! Skipped, with one line, when python3 or the package registry is out of reach; on CI
//! (`CI` set) that is a failure instead, as CI reaches the registry.
#![cfg(unix)]

#[path = "support/run.rs"]
mod run;
#[path = "support/shared.rs"]
mod shared;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The pre-commit release the test runs (pinned, as the reference tools pin theirs).
const PRE_COMMIT: &str = "pre-commit==4.7.0";

const RULE: &str = "title: Encoded PowerShell
id: 5b4f6d2a-1c3e-4f5a-9b8c-7d6e5f4a3b2c
status: test
logsource:
  category: process_creation
  product: windows
detection:
  selection:
    Image|endswith: '\\powershell.exe'
    CommandLine|contains: ' -enc '
  condition: selection
level: medium
";

/// The venv's `pre-commit`, installed on first use; `Err` says why it cannot be had.
fn pre_commit() -> Result<PathBuf, String> {
    let venv = shared::tools_cache().ok_or("no cache folder (HOME unset)")?.join("pre-commit-venv");
    let bin = venv.join("bin/pre-commit");
    let ready = venv.join(format!(".ready-{PRE_COMMIT}"));
    if bin.exists() && ready.exists() {
        return Ok(bin);
    }
    let quiet = |command: &mut Command| command.output().map_err(|e| e.to_string());
    let made = quiet(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    if !made.status.success() {
        return Err(format!("python3 -m venv failed: {}", run::text(&made.stderr).trim()));
    }
    let pip = venv.join("bin/pip");
    let installed = quiet(Command::new(pip).args(["install", "--quiet", "--disable-pip-version-check", PRE_COMMIT]))?;
    if !installed.status.success() {
        return Err(format!("pip install {PRE_COMMIT} failed: {}", run::text(&installed.stderr).trim()));
    }
    std::fs::write(&ready, "").map_err(|e| e.to_string())?;
    Ok(bin)
}

/// `git ARGS` in `dir`, which must succeed.
fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git {args:?}: {}", run::text(&output.stderr));
    run::text(&output.stdout).trim().to_string()
}

/// The hook repository pre-commit clones: our manifest, its hooks run as `system` (see above).
fn hook_repository(dir: &Path) -> String {
    let manifest = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml")).expect("manifest");
    let hooks = manifest.lines().filter(|l| l.starts_with("- id: ")).count();
    assert_eq!(manifest.matches("  language: rust\n").count(), hooks, "every hook is `language: rust`");
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(".pre-commit-hooks.yaml"), manifest.replace("  language: rust\n", "  language: system\n")).unwrap();
    git(dir, &["init", "-q"]);
    git(dir, &["add", "."]);
    git(dir, &["commit", "-q", "-m", "hooks"]);
    git(dir, &["rev-parse", "HEAD"])
}

struct PreCommit {
    bin: PathBuf,
    repo: PathBuf,
    home: PathBuf,
}

impl PreCommit {
    /// `pre-commit run --all-files` in the rule repository, with the test's `ruleconv` on PATH.
    fn run(&self) -> (Output, String) {
        git(&self.repo, &["add", "-A"]);
        let bin_dir = Path::new(env!("CARGO_BIN_EXE_ruleconv")).parent().unwrap();
        let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
        let output = Command::new(&self.bin)
            .args(["run", "--all-files", "--color", "never"])
            .current_dir(&self.repo)
            .env("PATH", path)
            .env("PRE_COMMIT_HOME", &self.home)
            .output()
            .expect("pre-commit runs");
        let printed = format!("{}{}", run::text(&output.stdout), run::text(&output.stderr));
        (output, printed)
    }
}

#[test]
fn the_hooks_fail_on_a_bad_rule_and_a_stale_pack_and_pass_once_fixed() {
    let bin = match pre_commit() {
        Ok(bin) => bin,
        Err(why) => {
            assert!(std::env::var_os("CI").is_none(), "pre-commit cannot be installed on CI: {why}");
            let _ = writeln!(std::io::stderr().lock(), "skipped: pre_commit: {why}");
            return;
        }
    };
    let scratch = run::scratch("hooks");
    let rev = hook_repository(&scratch.join("hooks"));
    let repo = scratch.join("rules-repo");
    std::fs::create_dir_all(repo.join("rules")).unwrap();
    git(&repo, &["init", "-q"]);
    let config = format!(
        "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: ruleconv-check\n        files: ^rules/\n      \
         - id: ruleconv-sync-check\n        args: [rules/, --to, kql, -o, deploy/]\n        files: ^(rules|deploy)/\n",
        scratch.join("hooks").display()
    );
    std::fs::write(repo.join(".pre-commit-config.yaml"), config).unwrap();
    std::fs::write(repo.join("rules/good.yml"), RULE).unwrap();
    let broken = RULE
        .replace("condition: selection", "condition: selection and not filter")
        .replace("5b4f6d2a", "6c5f7e3b")
        .replace("title: Encoded PowerShell", "title: Encoded PowerShell Again");
    std::fs::write(repo.join("rules/bad.yml"), &broken).unwrap();
    let pre_commit = PreCommit { bin, repo: repo.clone(), home: scratch.join("pre-commit-home") };

    let (output, printed) = pre_commit.run();
    assert_ne!(output.status.code(), Some(0), "{printed}");
    assert!(printed.contains("- hook id: ruleconv-check") && printed.contains("rules/bad.yml:11:32: error:"), "{printed}");
    assert!(!printed.contains("rules/good.yml:"), "{printed}");

    // Fixed, but the committed pack (deploy/) is not written yet: only sync --check fails.
    std::fs::write(repo.join("rules/bad.yml"), broken.replace(" and not filter", "")).unwrap();
    let (output, printed) = pre_commit.run();
    assert_ne!(output.status.code(), Some(0), "{printed}");
    assert!(!printed.contains("- hook id: ruleconv-check"), "{printed}");
    assert!(printed.contains("- hook id: ruleconv-sync-check") && printed.contains("to add     deploy/"), "{printed}");

    let synced = Command::new(env!("CARGO_BIN_EXE_ruleconv"))
        .args(["sync", "rules/", "--to", "kql", "-o", "deploy/", "-q"])
        .current_dir(&repo)
        .output()
        .expect("ruleconv runs");
    assert!(synced.status.success(), "{}", run::text(&synced.stderr));
    let (output, printed) = pre_commit.run();
    assert_eq!(output.status.code(), Some(0), "{printed}");
    let _ = std::fs::remove_dir_all(&scratch);
}
