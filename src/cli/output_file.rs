//! Files ruleconv writes (outputs, reports): never an input, never a user's file by surprise,
//! never a file outside the output folder, never half a file.

use super::output_lock::FolderLock;
use crate::convert::InputFile;
use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

/// The ending of the temporary file each output is written to before it is renamed into place.
/// A killed run can leave one behind; the next run into the same output folder removes it.
pub const TEMPORARY_ENDING: &str = ".ruleconv-tmp";

/// Writes output files without losing anything the user had.
pub struct Writer {
    /// The input files: never replaced.
    inputs: Vec<PathBuf>,
    /// The input files canonicalized, worked out when a write first needs them.
    canonical_inputs: OnceLock<HashSet<PathBuf>>,
    /// Replace existing files whose content differs (`--force`).
    force: bool,
    /// The output folder this run holds (`claim`): only under it are folders trusted as fresh
    /// and leftover temporary files removed.
    lock: Option<FolderLock>,
    /// Output folders seen so far, and whether this run created them under its lock.
    roots: Mutex<HashMap<PathBuf, bool>>,
    /// Folders this run created under those roots.
    made: Mutex<HashSet<PathBuf>>,
    /// Folders whose leftover temporary files were removed.
    swept: Mutex<HashSet<PathBuf>>,
}

impl Writer {
    /// A writer that refuses to replace any of `inputs`.
    pub fn new(inputs: &[InputFile], force: bool) -> Self {
        Writer {
            inputs: inputs.iter().map(|f| f.path.clone()).collect(),
            canonical_inputs: OnceLock::new(),
            force,
            lock: None,
            roots: Mutex::default(),
            made: Mutex::default(),
            swept: Mutex::default(),
        }
    }

    /// Whether existing files with other content are replaced (`--force`).
    pub fn forced(&self) -> bool {
        self.force
    }

    /// Takes the output folder `dir` for this run (see `FolderLock`), making it when missing;
    /// fails when another run holds it. Released when the writer is dropped.
    pub fn claim(&mut self, dir: &Path) -> Result<(), String> {
        let (lock, fresh) = FolderLock::take(dir)?;
        self.roots.get_mut().unwrap_or_else(|e| e.into_inner()).insert(dir.to_path_buf(), fresh);
        self.lock = Some(lock);
        Ok(())
    }

    /// Writes `path`, a file under the output folder `root`, refusing when a symbolic link
    /// between them (a folder or the file itself) would lead the write out of `root`.
    ///
    /// A root this run created under its lock holds nothing that predates the run (no input,
    /// no user's file, no link), so its files skip those checks: a pack of thousands of rules
    /// is then written with a create, a write and a rename per file.
    pub fn write_under(&self, root: &Path, path: &Path, text: &str) -> Result<(), String> {
        self.write_under_as(root, path, text, self.force)
    }

    /// `write_under`, replacing the file when its content differs: for a file this tool wrote
    /// before (`sync` knows them from its manifest), whatever `--force` says.
    pub fn replace_under(&self, root: &Path, path: &Path, text: &str) -> Result<(), String> {
        self.write_under_as(root, path, text, true)
    }

    /// Removes `path`, a regular file under the output folder `root` (never a link or a folder).
    pub fn remove_under(&self, root: &Path, path: &Path) -> Result<(), String> {
        self.inside(root, path)?;
        match std::fs::symlink_metadata(path) {
            Ok(meta) if meta.file_type().is_file() => std::fs::remove_file(path).map_err(|e| format!("cannot remove: {e}")),
            Ok(meta) => Err(format!("is {}, not a regular file; not removed", kind_of(meta.file_type()))),
            Err(_) => Ok(()),
        }
    }

    /// Refuses `path` unless it is under `root` with no symbolic link leading out between them.
    fn inside(&self, root: &Path, path: &Path) -> Result<(), String> {
        let relative = under(root, path)?;
        let mut walked = root.to_path_buf();
        for part in relative.components() {
            walked.push(part);
            let Ok(meta) = std::fs::symlink_metadata(&walked) else { break };
            if meta.file_type().is_symlink() && !leads_inside(&walked, root) {
                return Err(format!("{} is a symbolic link out of the output folder; not followed", walked.display()));
            }
        }
        Ok(())
    }

    fn write_under_as(&self, root: &Path, path: &Path, text: &str, replace: bool) -> Result<(), String> {
        if self.created(root) {
            under(root, path)?;
            return self.write_fresh(root, path, text);
        }
        self.inside(root, path)?;
        if let Some(parent) = path.parent() {
            self.sweep(parent);
        }
        self.write_as(path, text, replace)
    }

    /// Writes through a temporary file and a rename, so an interrupted run leaves no half file.
    /// An existing file with the same content is left as is; one with other content is only
    /// replaced with `--force`; an input is never replaced, nor a symbolic link (whatever it
    /// points to, the link is the user's).
    /// Anything else than a regular file there (a FIFO, a device, a folder) is refused unread:
    /// reading a FIFO waits for a writer that may never come.
    pub fn write(&self, path: &Path, text: &str) -> Result<(), String> {
        self.write_as(path, text, self.force)
    }

    /// `write`, replacing a file with other content when `replace` says so.
    fn write_as(&self, path: &Path, text: &str, replace: bool) -> Result<(), String> {
        let existing = std::fs::symlink_metadata(path).ok().map(|m| m.file_type());
        if existing.is_some_and(|t| t.is_symlink()) {
            return Err("is a symbolic link; not replaced".into());
        }
        if let Some(other) = existing.filter(|t| !t.is_file()) {
            return Err(format!("is {}, not a regular file; not replaced", kind_of(other)));
        }
        if path.canonicalize().is_ok_and(|p| self.is_input(&p)) {
            return Err("refusing to overwrite an input file; choose another output folder".into());
        }
        if existing.is_some()
            && let Ok(existing) = std::fs::read(path)
        {
            if existing == text.as_bytes() {
                return Ok(());
            }
            if !replace {
                return Err("exists with other content; not replaced (use --force to replace it)".into());
            }
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("cannot create folder {}: {e}", parent.display()))?;
        }
        replace_atomically(path, text)
    }

    /// Whether `canonical`, a canonicalized path, is one of the input files.
    fn is_input(&self, canonical: &Path) -> bool {
        let inputs = self.canonical_inputs.get_or_init(|| self.inputs.iter().filter_map(|p| p.canonicalize().ok()).collect());
        inputs.contains(canonical)
    }

    /// Whether this run created the output folder `root` under its lock (it is created here
    /// when missing). Without the lock another run could be writing into a folder this run made.
    fn created(&self, root: &Path) -> bool {
        let mut roots = self.roots.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(created) = roots.get(root) {
            return *created;
        }
        if !self.holds(root) {
            return false;
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
        replace_atomically(path, text)
    }

    /// Whether `path` is in the folder this run holds.
    fn holds(&self, path: &Path) -> bool {
        self.lock.as_ref().is_some_and(|lock| path.starts_with(lock.dir()))
    }

    /// Removes the temporary files killed runs left in `folder` (or links planted in their
    /// place), once, before this run writes there; only in the folder this run holds, where no
    /// other run is writing. Under the same mutex, so no file of this run is in `folder` yet.
    fn sweep(&self, folder: &Path) {
        if !self.holds(folder) {
            return;
        }
        let mut swept = self.swept.lock().unwrap_or_else(|e| e.into_inner());
        if !swept.insert(folder.to_path_buf()) {
            return;
        }
        let Ok(entries) = std::fs::read_dir(folder) else { return };
        for entry in entries.flatten() {
            let leftover = entry.file_name().to_string_lossy().ends_with(TEMPORARY_ENDING);
            if leftover && entry.file_type().is_ok_and(|t| !t.is_dir()) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// `path` relative to `root`, refused when it is not plainly under it (no `..`, not absolute).
fn under<'a>(root: &Path, path: &'a Path) -> Result<&'a Path, String> {
    let relative = path.strip_prefix(root).map_err(|_| format!("is outside the output folder {}", root.display()))?;
    if relative.components().any(|c| !matches!(c, std::path::Component::Normal(_))) {
        return Err(format!("is outside the output folder {}", root.display()));
    }
    Ok(relative)
}

/// What a file type is, in words.
fn kind_of(file_type: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO";
        }
        if file_type.is_socket() {
            return "a socket";
        }
        if file_type.is_block_device() || file_type.is_char_device() {
            return "a device";
        }
    }
    if file_type.is_dir() { "a folder" } else { "not a file" }
}

/// Writes `text` to a temporary file beside `path` and renames it into place, so an
/// interrupted run leaves no half file. The temporary file is removed when either step fails
/// (a full disk), so a failed write leaves nothing behind.
fn replace_atomically(path: &Path, text: &str) -> Result<(), String> {
    let temporary = temporary_path(path);
    // `create_new`: never written through a file or link already there.
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(&temporary).map_err(|e| format!("cannot write: {e}"))?;
    let written = file.write_all(text.as_bytes());
    drop(file);
    written.and_then(|()| std::fs::rename(&temporary, path)).map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        format!("cannot write: {e}")
    })
}

/// `path` with the process id, a counter and a random number, then `TEMPORARY_ENDING`: a name
/// no other write, of this run or another, uses.
fn temporary_path(path: &Path) -> PathBuf {
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let count = COUNT.fetch_add(1, Ordering::Relaxed);
    let random = std::hash::RandomState::new().hash_one(count) as u32;
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{}-{count}-{random:08x}{TEMPORARY_ENDING}", std::process::id()));
    PathBuf::from(name)
}

/// Whether the link at `link` resolves to a place inside `root`.
fn leads_inside(link: &Path, root: &Path) -> bool {
    match (link.canonicalize(), root.canonicalize()) {
        (Ok(target), Ok(root)) => target.starts_with(root),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_differ_for_one_path() {
        let path = Path::new("out/rule.yml");
        let (a, b) = (temporary_path(path), temporary_path(path));
        assert_ne!(a, b);
        for name in [a, b] {
            let name = name.to_string_lossy().into_owned();
            assert!(name.starts_with(&format!("out/rule.yml.{}-", std::process::id())), "{name}");
            assert!(name.ends_with(TEMPORARY_ENDING), "{name}");
        }
    }
}
