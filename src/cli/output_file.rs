//! Files ruleconv writes (outputs, reports): never an input, never a user's file by surprise,
//! never a file outside the output folder, never half a file.

use crate::convert::InputFile;
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// The ending of the temporary file each output is written to before it is renamed into place.
/// A killed run can leave one behind; the next run that writes the same file removes it.
pub const TEMPORARY_ENDING: &str = ".ruleconv-tmp";

/// Writes output files without losing anything the user had.
pub struct Writer {
    /// The input files: never replaced.
    inputs: Vec<PathBuf>,
    /// The input files canonicalized, worked out when a write first needs them.
    canonical_inputs: OnceLock<HashSet<PathBuf>>,
    /// Replace existing files whose content differs (`--force`).
    force: bool,
    /// Output folders seen so far, and whether this run created them.
    roots: Mutex<HashMap<PathBuf, bool>>,
    /// Folders this run created under those roots.
    made: Mutex<HashSet<PathBuf>>,
}

impl Writer {
    /// A writer that refuses to replace any of `inputs`.
    pub fn new(inputs: &[InputFile], force: bool) -> Self {
        Writer {
            inputs: inputs.iter().map(|f| f.path.clone()).collect(),
            canonical_inputs: OnceLock::new(),
            force,
            roots: Mutex::default(),
            made: Mutex::default(),
        }
    }

    /// Writes `path`, a file under the output folder `root`, refusing when a symbolic link
    /// between them (a folder or the file itself) would lead the write out of `root`.
    ///
    /// A root this run created holds nothing that predates the run (no input, no user's
    /// file, no link), so its files skip those checks: a pack of thousands of rules is then
    /// written with a create, a write and a rename per file.
    pub fn write_under(&self, root: &Path, path: &Path, text: &str) -> Result<(), String> {
        let relative = path.strip_prefix(root).map_err(|_| format!("is outside the output folder {}", root.display()))?;
        if relative.components().any(|c| !matches!(c, std::path::Component::Normal(_))) {
            return Err(format!("is outside the output folder {}", root.display()));
        }
        if self.created(root) {
            return self.write_fresh(root, path, text);
        }
        let mut walked = root.to_path_buf();
        for part in relative.components() {
            walked.push(part);
            let Ok(meta) = std::fs::symlink_metadata(&walked) else { break };
            if meta.file_type().is_symlink() && !leads_inside(&walked, root) {
                return Err(format!("{} is a symbolic link out of the output folder; not followed", walked.display()));
            }
        }
        self.write(path, text)
    }

    /// Writes through a temporary file and a rename, so an interrupted run leaves no half file.
    /// An existing file with the same content is left as is; one with other content is only
    /// replaced with `--force`; an input is never replaced, nor a symbolic link (whatever it
    /// points to, the link is the user's).
    pub fn write(&self, path: &Path, text: &str) -> Result<(), String> {
        if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err("is a symbolic link; not replaced".into());
        }
        if path.canonicalize().is_ok_and(|p| self.is_input(&p)) {
            return Err("refusing to overwrite an input file; choose another output folder".into());
        }
        if let Ok(existing) = std::fs::read(path) {
            if existing == text.as_bytes() {
                return Ok(());
            }
            if !self.force {
                return Err("exists with other content; not replaced (use --force to replace it)".into());
            }
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("cannot create folder {}: {e}", parent.display()))?;
        }
        replace_atomically(path, text, remove_leftover)
    }

    /// Whether `canonical`, a canonicalized path, is one of the input files.
    fn is_input(&self, canonical: &Path) -> bool {
        let inputs = self.canonical_inputs.get_or_init(|| self.inputs.iter().filter_map(|p| p.canonicalize().ok()).collect());
        inputs.contains(canonical)
    }

    /// Whether this run created the output folder `root` (it is created here when missing).
    fn created(&self, root: &Path) -> bool {
        let mut roots = self.roots.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(created) = roots.get(root) {
            return *created;
        }
        // `create_dir` of the last part claims the folder: it fails when the folder exists,
        // even one another process made a moment ago.
        let parent_ready = root.parent().is_none_or(|p| p.as_os_str().is_empty() || std::fs::create_dir_all(p).is_ok());
        let created = parent_ready && std::fs::create_dir(root).is_ok();
        roots.insert(root.to_path_buf(), created);
        created
    }

    /// Writes `path` under `root`, a folder this run created: its folders are made once each,
    /// and there is no leftover temporary file to remove.
    fn write_fresh(&self, root: &Path, path: &Path, text: &str) -> Result<(), String> {
        if let Some(parent) = path.parent().filter(|p| *p != root) {
            let mut made = self.made.lock().unwrap_or_else(|e| e.into_inner());
            if !made.contains(parent) {
                std::fs::create_dir_all(parent).map_err(|e| format!("cannot create folder {}: {e}", parent.display()))?;
                made.insert(parent.to_path_buf());
            }
        }
        replace_atomically(path, text, |_| Ok(()))
    }
}

/// Writes `text` to a temporary file beside `path` and renames it into place, so an
/// interrupted run leaves no half file. `clear` readies the temporary file's name.
fn replace_atomically(path: &Path, text: &str, clear: fn(&Path) -> std::io::Result<()>) -> Result<(), String> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(TEMPORARY_ENDING);
    let temporary = PathBuf::from(temporary);
    clear(&temporary).and_then(|()| write_new(&temporary, text)).map_err(|e| format!("cannot write: {e}"))?;
    std::fs::rename(&temporary, path).map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        format!("cannot write: {e}")
    })
}

/// Removes a leftover of a killed run (or a link planted in its place), so the temporary
/// file is created afresh, never written through.
fn remove_leftover(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Creates `path`, which must not exist, with `text`.
fn write_new(path: &Path, text: &str) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(path)?;
    file.write_all(text.as_bytes())
}

/// Whether the link at `link` resolves to a place inside `root`.
fn leads_inside(link: &Path, root: &Path) -> bool {
    match (link.canonicalize(), root.canonicalize()) {
        (Ok(target), Ok(root)) => target.starts_with(root),
        _ => false,
    }
}
