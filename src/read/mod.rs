//! Readers: rule files (bytes) → `Rule`s plus problems.
//!
//! One module per input format, all decoding fields through `fields` so the forms agree:
//! - `sentinel_yaml`: Azure-Sentinel repository YAML (analytic rules and hunting queries),
//! - `front_matter`: markdown with the rule as YAML front matter,
//! - `catalog`: markdown rule catalogs (`## title`, a `|Name | Value |` table, a ```kql block),
//! - `arm`: ARM templates (alert rules and hunting saved searches),
//! - `sigma`: Sigma rules, correlation rules and filters (the language itself is `crate::sigma`),
//! - `page`: rule pages copied from catalog sites (prose, labelled facts, a rule definition).
//!
//! A rule that cannot be read is left out of `rules` and explained in `problems`, which name it
//! by its index in the file; the other rules of the file (and of the batch) are read regardless.
//! Nothing here panics on any input.

mod arm;
mod catalog;
mod decode;
mod detect;
mod documents;
mod fields;
mod front_matter;
mod lift;
mod locate;
mod page;
mod sentinel_yaml;
mod sigma;
mod walk;

use crate::diag::{Code, Position, Problem};
use crate::ir::{Rule, SourceFormat};
use std::path::Path;

pub use decode::{MAX_FILE_BYTES, read_limited, too_large};
pub use walk::{Found, discover, search};

/// The rules of one file and every problem found reading it (errors and warnings).
#[derive(Clone, Debug, Default)]
pub struct ReadOutcome {
    pub rules: Vec<Rule>,
    /// Each belongs to a rule (by its index in the file, also for rules that could not be
    /// read) or, when it is about the file as a whole, to none.
    pub problems: Vec<Problem>,
    /// Some content of the file is not a rule at all (a README, a workbook, a template of other
    /// resources), as opposed to a rule with problems. A folder search skips files holding only
    /// such content; a file the user named is an error.
    pub not_a_rule: bool,
}

/// A rule of a file that could not be read (or the file itself, when `index` is `None`).
#[derive(Debug)]
pub struct Unread<'a> {
    pub index: Option<usize>,
    pub label: Option<&'a str>,
    pub problems: Vec<&'a Problem>,
}

/// One entry of a file in rule order: a rule that was read, or one that could not be.
pub enum Entry<'a> {
    /// A rule that was read, and its place in `rules`.
    Read(usize, &'a Rule),
    Unread(Unread<'a>),
}

impl ReadOutcome {
    /// The outcome of a file that could not be read at all.
    pub fn refused(file: &Path, position: Position, message: impl Into<String>) -> ReadOutcome {
        let mut outcome = ReadOutcome::default();
        outcome.file_error(Code::UnreadableFile, file, position, message);
        outcome
    }

    /// A file a folder search leaves unread (see `walk::search`), and why.
    pub fn left_out(file: &Path, reason: impl Into<String>) -> ReadOutcome {
        let mut outcome = ReadOutcome::default();
        outcome.not_a_rule(file, Position::new(1, 1), reason);
        outcome
    }

    fn file_error(&mut self, code: Code, file: &Path, position: Position, message: impl Into<String>) {
        self.problems.push(Problem::error(code, file, position, message));
    }

    /// An error that makes rule `index` unreadable before it could be decoded at all.
    fn rule_error(&mut self, code: Code, file: &Path, position: Position, index: usize, message: impl Into<String>) {
        self.problems.push(Problem::error(code, file, position, message).for_rule(index, None));
    }

    /// The file (or one of its documents) holds something other than a rule.
    fn not_a_rule(&mut self, file: &Path, position: Position, message: impl Into<String>) {
        self.not_a_rule = true;
        self.file_error(Code::NotARule, file, position, message);
    }

    /// Reports the problems of rule `index`; `label` names it (its name, else its id) when known.
    fn report(&mut self, problems: Vec<Problem>, index: usize, label: Option<&str>) {
        let label = label.filter(|l| !l.is_empty()).map(str::to_string);
        self.problems.extend(problems.into_iter().map(|p| p.for_rule(index, label.clone())));
    }

    /// The problems of the rule at `index` in the file.
    pub fn problems_of(&self, index: usize) -> impl Iterator<Item = &Problem> {
        self.problems.iter().filter(move |p| p.rule_index() == Some(index))
    }

    /// The file's entries in order: problems with the file as a whole first (if any), then each
    /// rule by its index, read or not. Rules are never merged, even when they share a name.
    pub fn entries(&self) -> Vec<Entry<'_>> {
        let mut unread: Vec<Unread> = Vec::new();
        for problem in &self.problems {
            let index = problem.rule_index();
            if index.is_some_and(|i| self.rules.iter().any(|r| r.origin.index == i)) {
                continue;
            }
            match unread.iter_mut().find(|u| u.index == index) {
                Some(entry) => entry.problems.push(problem),
                None => {
                    let label = problem.rule.as_ref().and_then(|r| r.label.as_deref());
                    unread.push(Unread { index, label, problems: vec![problem] });
                }
            }
        }
        let mut entries: Vec<(Option<usize>, Entry)> = unread.into_iter().map(|u| (u.index, Entry::Unread(u))).collect();
        entries.extend(self.rules.iter().enumerate().map(|(slot, r)| (Some(r.origin.index), Entry::Read(slot, r))));
        // Stable: `None` (the whole file) sorts first.
        entries.sort_by_key(|(index, _)| *index);
        entries.into_iter().map(|(_, entry)| entry).collect()
    }
}

/// Reads a file, detecting its format by content.
pub fn read_path(path: &Path) -> ReadOutcome {
    read_file(path, None)
}

/// Reads a file; `from` overrides format detection.
pub fn read_file(path: &Path, from: Option<SourceFormat>) -> ReadOutcome {
    match read_bounded(path) {
        Ok(Some(bytes)) => read_bytes(&bytes, path, from),
        Ok(None) => ReadOutcome::refused(path, Position::new(1, 1), decode::too_large()),
        Err(e) => ReadOutcome::refused(path, Position::new(1, 1), format!("cannot read file: {e}")),
    }
}

/// A file's bytes, or `None` when it holds more than `MAX_FILE_BYTES`: a file already known to
/// be larger is refused unread, and no more than the limit is ever read (`/dev/zero` ends).
pub fn read_bounded(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    let file = std::fs::File::open(path)?;
    let length = file.metadata().map_or(0, |m| m.len());
    if length > MAX_FILE_BYTES { Ok(None) } else { decode::read_limited(file, length) }
}

/// Reads rules from a file's bytes (see `decode` for the encodings taken); `file` names it.
pub fn read_bytes(bytes: &[u8], file: &Path, from: Option<SourceFormat>) -> ReadOutcome {
    match decode::decode(bytes) {
        Ok(text) => read_text(&text, file, from),
        Err(refused) => ReadOutcome::refused(file, refused.position, refused.message),
    }
}

/// Reads rules from text (standard input, or a file already in memory); `file` names it in
/// problems and origins.
pub fn read_text(text: &str, file: &Path, from: Option<SourceFormat>) -> ReadOutcome {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut outcome = ReadOutcome::default();
    let documents = documents::Documents::new(text);
    let format = match from.map_or_else(|| detect::classify_documents(&documents, file), Ok) {
        Ok(format) => format,
        Err(undetected) => {
            outcome.not_a_rule(file, Position::new(1, 1), undetected_message(undetected));
            return outcome;
        }
    };
    match format {
        SourceFormat::SentinelYaml => sentinel_yaml::read(text, documents.into_parse(), file, &mut outcome),
        SourceFormat::MarkdownFrontMatter => front_matter::read(text, file, &mut outcome),
        SourceFormat::MarkdownCatalog => catalog::read(text, file, &mut outcome),
        SourceFormat::Arm => arm::read(text, documents.into_parse(), file, &mut outcome),
        SourceFormat::Sigma => sigma::read(text, documents.into_parse(), file, &mut outcome),
        SourceFormat::Page => page::read(text, file, &mut outcome),
    }
    outcome
}

fn undetected_message(undetected: detect::Undetected) -> &'static str {
    match undetected {
        detect::Undetected::NoRuleKeys => {
            "YAML or JSON without the keys of any rule format (Sigma: `title`, `logsource`, `detection`; Sentinel: `name`, `query`; ARM: `resources`); name the format with --from"
        }
        detect::Undetected::Unknown => {
            "cannot tell the rule format of this file (expected Sigma, Sentinel YAML, an ARM template, markdown with front matter or a rule catalog, or a rule page); name it with --from"
        }
    }
}

/// The format of `text`, judged by its content (see `detect::classify`).
pub fn detect(text: &str, file: &Path) -> Option<SourceFormat> {
    detect::classify(text, file).ok()
}
