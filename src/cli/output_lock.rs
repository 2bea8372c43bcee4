//! The lock a run holds on its output folder (`-o DIR`), so that two runs never write into one
//! folder at once: an exclusive `flock` of `DIR/.ruleconv.lock`. The kernel releases it when the
//! process ends, however it ends, so a killed run never leaves the folder locked; the file
//! itself is removed when the run ends.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

/// The lock file's name in the output folder; no output file is named so (names never start
/// with a dot, see `convert::safe_file_stem`).
pub const LOCK_NAME: &str = ".ruleconv.lock";

/// A held lock on an output folder; released and its file removed when dropped.
pub struct FolderLock {
    dir: PathBuf,
    /// Kept open: closing it releases the lock.
    _file: File,
}

impl FolderLock {
    /// Locks `dir`, making it (and its parents) when missing. Returns the lock and whether the
    /// folder is fresh: made by this call and holding nothing but the lock file, so nothing in
    /// it predates the run. Fails at once when another run holds the folder.
    pub fn take(dir: &Path) -> Result<(FolderLock, bool), String> {
        let cannot = |e: std::io::Error| format!("cannot lock the output folder {}: {e}", dir.display());
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(cannot)?;
        }
        let made = match std::fs::create_dir(dir) {
            Ok(()) => true,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => false,
            Err(e) => return Err(cannot(e)),
        };
        let path = dir.join(LOCK_NAME);
        // A run that ends removes its lock file; one that opened it just before then locks a
        // file no longer in the folder, and opens the new one again.
        for _ in 0..3 {
            if std::fs::symlink_metadata(&path).is_ok_and(|m| !m.is_file()) {
                return Err(format!("{} is not a regular file; remove it to write into {}", path.display(), dir.display()));
            }
            let file = OpenOptions::new().write(true).create(true).truncate(false).open(&path).map_err(cannot)?;
            match file.try_lock() {
                Ok(()) if is_at(&file, &path) => {
                    let fresh = made && holds_only_lock(dir);
                    return Ok((FolderLock { dir: dir.to_path_buf(), _file: file }, fresh));
                }
                Ok(()) => continue,
                Err(TryLockError::WouldBlock) => break,
                Err(TryLockError::Error(e)) => return Err(cannot(e)),
            }
        }
        Err(format!("another ruleconv run is writing to {}; run again when it has ended", dir.display()))
    }

    /// The locked folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for FolderLock {
    /// Removes the lock file while the lock is still held (the file closes after this).
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.dir.join(LOCK_NAME));
    }
}

/// Whether the open `file` is the one at `path` now.
#[cfg(unix)]
fn is_at(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::symlink_metadata(path)) {
        (Ok(open), Ok(named)) => open.dev() == named.dev() && open.ino() == named.ino(),
        _ => false,
    }
}

/// Elsewhere an open file cannot be removed, so it is still the one at its path.
#[cfg(not(unix))]
fn is_at(_: &File, _: &Path) -> bool {
    true
}

fn holds_only_lock(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| entries.flatten().all(|e| e.file_name() == LOCK_NAME))
}
