//! Files ruleconv writes (outputs, reports): never an input, never a user's file by surprise.

use crate::convert::InputFile;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

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

    /// Writes through a temporary file and a rename, so an interrupted run leaves no half file.
    /// An existing file with the same content is left as is; one with other content is only
    /// replaced with `--force`; an input is never replaced.
    pub fn write(&self, path: &Path, text: &str) -> Result<(), String> {
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
        let temporary = path.with_extension("ruleconv-tmp");
        std::fs::write(&temporary, text).map_err(|e| format!("cannot write: {e}"))?;
        std::fs::rename(&temporary, path).map_err(|e| {
            let _ = std::fs::remove_file(&temporary);
            format!("cannot write: {e}")
        })
    }
}
