//! A source pack at a git revision (`main:rules/`), copied into a temporary folder so the rest
//! of the run reads it like any folder. The copy is removed when dropped.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Checkout {
    root: PathBuf,
    /// The pack inside `root`: the folder or file the spec names.
    pub path: PathBuf,
}

impl Drop for Checkout {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// `REV:PATH` (PATH relative to the repository's top; empty for the whole tree) when `spec` is
/// no existing path and holds a `:`; `None` when it is not such a spec.
pub fn checkout(spec: &str) -> Option<Result<Checkout, String>> {
    if Path::new(spec).exists() {
        return None;
    }
    let (rev, path) = spec.split_once(':')?;
    Some(copy_tree(rev, path.trim_end_matches('/')))
}

fn git(args: &[&str]) -> Result<Vec<u8>, String> {
    let output = Command::new("git").args(args).output().map_err(|e| format!("cannot run git: {e}"))?;
    if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(format!("git {}: {}", args.join(" "), String::from_utf8_lossy(&output.stderr).trim()))
    }
}

fn copy_tree(rev: &str, path: &str) -> Result<Checkout, String> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let listing = git(&["ls-tree", "-r", "-z", "--name-only", "--full-tree", rev, "--", if path.is_empty() { "." } else { path }])?;
    let files: Vec<&str> = listing.split(|b| *b == 0).filter(|f| !f.is_empty()).filter_map(|f| std::str::from_utf8(f).ok()).collect();
    if files.is_empty() {
        return Err(format!("{rev}:{path}: no such file or folder at that revision"));
    }
    let root = std::env::temp_dir().join(format!("ruleconv-rev-{}-{}", std::process::id(), COUNT.fetch_add(1, Ordering::Relaxed)));
    let checkout = Checkout { path: root.join(path), root };
    for file in files {
        let bytes = git(&["cat-file", "blob", &format!("{rev}:{file}")])?;
        let target = checkout.root.join(file);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::write(&target, bytes).map_err(|e| format!("{}: {e}", target.display()))?;
    }
    Ok(checkout)
}
