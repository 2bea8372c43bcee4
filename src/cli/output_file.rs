//! Files ruleconv writes (outputs, reports): never an input, never a user's file by surprise,
//! never a file outside the output folder, never half a file.

use crate::convert::InputFile;
use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The ending of the temporary file each output is written to before it is renamed into place.
/// A killed run can leave one behind; the next run that writes the same file removes it.
pub const TEMPORARY_ENDING: &str = ".ruleconv-tmp";

/// Writes output files without losing anything the user had.
pub struct Writer {
    /// The input files, canonicalized: never replaced.
    inputs: HashSet<PathBuf>,
    /// Replace existing files whose content differs (`--force`).
    force: bool,
}

impl Writer {
    /// A writer that refuses to replace any of `inputs`.
    pub fn new(inputs: &[InputFile], force: bool) -> Self {
        Writer { inputs: inputs.iter().filter_map(|f| f.path.canonicalize().ok()).collect(), force }
    }

    /// Writes `path`, a file under the output folder `root`, refusing when a symbolic link
    /// between them (a folder or the file itself) would lead the write out of `root`.
    pub fn write_under(&self, root: &Path, path: &Path, text: &str) -> Result<(), String> {
        let relative = path.strip_prefix(root).map_err(|_| format!("is outside the output folder {}", root.display()))?;
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
        if path.canonicalize().is_ok_and(|p| self.inputs.contains(&p)) {
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
        let mut temporary = path.as_os_str().to_owned();
        temporary.push(TEMPORARY_ENDING);
        let temporary = PathBuf::from(temporary);
        write_new(&temporary, text).map_err(|e| format!("cannot write: {e}"))?;
        std::fs::rename(&temporary, path).map_err(|e| {
            let _ = std::fs::remove_file(&temporary);
            format!("cannot write: {e}")
        })
    }
}

/// Creates `path` afresh: a leftover of a killed run (or a link planted in its place) is
/// removed first, never written through.
fn write_new(path: &Path, text: &str) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
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
