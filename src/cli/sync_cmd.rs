//! `ruleconv sync SRC... --to T -o DIR [--check]`: brings a committed output folder up to date
//! with its source pack. Changed outputs are rewritten, new ones added, and outputs whose rule
//! is gone removed; only files the manifest (`manifest.rs`) says ruleconv wrote are replaced or
//! removed, so the user's own files in DIR stay. `--check` changes nothing and says what would.

use super::manifest::{self, MANIFEST, Manifest, Written};
use super::output_file::Writer;
use super::stdout::Stdout;
use crate::convert::{self, Converted, Record, Status};
use crate::emit::Target;
use std::path::{Path, PathBuf};

/// What sync does (or, with `--check`, would do) to one output file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Added,
    Changed,
    Removed,
    Unchanged,
    /// Left as it is, for the reason given with it.
    Kept,
}

impl Action {
    fn name(self, check: bool) -> &'static str {
        match (self, check) {
            (Action::Added, false) => "added",
            (Action::Added, true) => "to add",
            (Action::Changed, false) => "changed",
            (Action::Changed, true) => "to change",
            (Action::Removed, false) => "removed",
            (Action::Removed, true) => "to remove",
            (Action::Unchanged, _) => "unchanged",
            (Action::Kept, _) => "kept",
        }
    }
}

pub struct Entry {
    pub action: Action,
    pub path: PathBuf,
    pub why: Option<String>,
}

/// One output folder's sync.
pub struct Synced {
    pub dir: PathBuf,
    pub entries: Vec<Entry>,
    /// A failure of the whole folder (a manifest that does not read, one that cannot be written).
    pub failure: Option<String>,
}

impl Synced {
    /// Whether the folder was, or with `--check` is, out of date.
    pub fn out_of_date(&self) -> bool {
        self.failure.is_some() || self.entries.iter().any(|e| matches!(e.action, Action::Added | Action::Changed | Action::Removed))
    }
}

/// Syncs `dir` with the rules converted to `target`; `check` writes and removes nothing.
pub fn sync_target(converted: &[Converted], records: &mut [Record], dir: &Path, target: Target, writer: &Writer, check: bool) -> Synced {
    let mut synced = Synced { dir: dir.to_path_buf(), entries: Vec::new(), failure: None };
    let old = match Manifest::read(dir) {
        Ok(manifest) => manifest,
        Err(message) => {
            converted.iter().for_each(|c| super::convert_cmd::not_written(&mut records[c.record], c, message.clone()));
            synced.failure = Some(message);
            return synced;
        }
    };
    let mut new = Manifest::default();
    let paths = convert::output_paths(converted, dir, target);
    for (c, path) in converted.iter().zip(paths) {
        let key = relative_key(dir, &path);
        let owned = old.files.contains_key(&key);
        let existing = std::fs::symlink_metadata(&path).ok().filter(|m| m.is_file()).and_then(|_| std::fs::read(&path).ok());
        let action = match &existing {
            None => Action::Added,
            Some(bytes) if bytes == c.text.as_bytes() => Action::Unchanged,
            Some(_) => Action::Changed,
        };
        let written = match (action, check) {
            (Action::Unchanged, _) | (_, true) => Ok(()),
            (_, false) if owned => writer.replace_under(dir, &path, &c.text),
            (_, false) => writer.write_under(dir, &path, &c.text),
        };
        match written {
            Ok(()) if check && action == Action::Changed && !owned && !writer.forced() => {
                synced.entries.push(Entry { action, path, why: Some(not_ours()) });
                continue;
            }
            Ok(()) => {
                if !check {
                    records[c.record].output = Some(path.clone());
                }
                synced.entries.push(Entry { action, path, why: None });
            }
            Err(message) => {
                super::convert_cmd::not_written(&mut records[c.record], c, format!("cannot write {}: {message}", path.display()));
                continue;
            }
        }
        let written =
            Written { source: c.input.path.display().to_string(), rule: c.rule.origin.index, hash: manifest::hash(c.text.as_bytes()) };
        new.files.insert(key, written);
    }
    let failed: Vec<(String, usize)> = records
        .iter()
        .filter(|r| r.status == Status::Failed)
        .filter_map(|r| Some((r.source.display().to_string(), r.rule_index?)))
        .collect();
    let gone: Vec<(String, Written)> = old.files.into_iter().filter(|(key, _)| !new.files.contains_key(key)).collect();
    for (key, written) in gone {
        let path = dir.join(&key);
        let Ok(bytes) = std::fs::read(&path) else { continue };
        if failed.contains(&(written.source.clone(), written.rule)) {
            let why = "its rule did not convert this time; its last output is kept".to_string();
            synced.entries.push(Entry { action: Action::Kept, path, why: Some(why) });
            new.files.insert(key, written);
        } else if manifest::hash(&bytes) != written.hash {
            let why = "edited since ruleconv wrote it; not removed, and no longer in the manifest".to_string();
            synced.entries.push(Entry { action: Action::Kept, path, why: Some(why) });
        } else {
            let removed = if check { Ok(()) } else { writer.remove_under(dir, &path) };
            match removed {
                Ok(()) => synced.entries.push(Entry { action: Action::Removed, path, why: None }),
                Err(message) => {
                    synced.failure = Some(format!("cannot remove {}: {message}", path.display()));
                    new.files.insert(key, written);
                }
            }
        }
    }
    if !check && let Err(message) = writer.replace_under(dir, &dir.join(MANIFEST), &new.to_text()) {
        synced.failure = Some(format!("cannot write {}: {message}", dir.join(MANIFEST).display()));
    }
    synced
}

fn not_ours() -> String {
    format!("exists and ruleconv did not write it (it is not in {MANIFEST}); sync will not replace it without --force")
}

/// `path` under `dir`, `/`-separated whatever the platform, as the manifest keys it.
fn relative_key(dir: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(dir).unwrap_or(path);
    relative.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

/// Prints each file that moved (not the unchanged ones) and a count per folder; `Err` when a
/// folder failed as a whole or stdout did not take it.
pub fn print(synced: &[Synced], check: bool) -> Result<(), String> {
    let mut out = Stdout::lock();
    for folder in synced {
        for entry in folder.entries.iter().filter(|e| e.action != Action::Unchanged) {
            let why = entry.why.as_deref().map(|w| format!(": {w}")).unwrap_or_default();
            out.line(&crate::diag::printable(&format!("{:<10} {}{why}", entry.action.name(check), entry.path.display())));
        }
        let count = |action: Action| folder.entries.iter().filter(|e| e.action == action).count();
        let counts: Vec<String> = [Action::Added, Action::Changed, Action::Removed, Action::Unchanged, Action::Kept]
            .into_iter()
            .map(|a| format!("{} {}", count(a), a.name(check)))
            .collect();
        let state = match (check, folder.out_of_date()) {
            (true, true) => "is out of date",
            (true, false) => "is up to date",
            (false, _) => "synced",
        };
        out.line(&format!("ruleconv sync: {} {state}: {}", folder.dir.display(), counts.join(", ")));
    }
    out.finish()?;
    match synced.iter().find_map(|s| s.failure.as_deref()) {
        Some(failure) => Err(failure.to_string()),
        None => Ok(()),
    }
}
