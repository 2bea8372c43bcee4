//! The convert job: inputs → rules → targets → outputs, with a record per rule and target.
//!
//! Shared by the CLI and the golden tests so both exercise the same path. Reading and emitting
//! run in parallel; results are collected in input order, so output bytes never depend on the
//! thread count.

use crate::diag::{CodeCount, Kind, Position, Problem};
use crate::emit::{self, EmitOptions, Evidence, Subject, Target, Verdict, conversion_problems};
use crate::ir::Detection;
use crate::ir::{Rule, SourceFormat};
use crate::read::{self, Entry, ReadOutcome};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One rule file to read, and the folder it was found under (kept to mirror the layout).
#[derive(Clone, Debug)]
pub struct InputFile {
    pub path: PathBuf,
    /// The folder the user named, when the file was found by searching it.
    pub root: Option<PathBuf>,
}

/// Expands the user's inputs: files stay as they are, folders are searched for rule files.
/// Each file comes once, however many times it is named or found (see `search_inputs`).
pub fn expand_inputs(inputs: &[PathBuf]) -> Vec<InputFile> {
    search_inputs(inputs).files
}

/// The user's inputs searched: the files to read, and the files a folder search left unread
/// (each an outcome saying why, so that runs report them).
#[derive(Default)]
pub struct Inputs {
    pub files: Vec<InputFile>,
    pub left_out: Vec<FileRules>,
}

/// Expands the user's inputs, each file once by its canonical path (a file named twice, or a
/// folder and its subfolder, is read once, under the first input that holds it). A symbolic
/// link named on the command line is followed: the user chose it; one met in a folder search is
/// followed only into the folders named (see `read::search`).
pub fn search_inputs(inputs: &[PathBuf]) -> Inputs {
    let within: Vec<PathBuf> = inputs.iter().filter(|p| p.is_dir()).filter_map(|p| p.canonicalize().ok()).collect();
    let mut seen = HashSet::new();
    let mut found = Inputs::default();
    for input in inputs {
        if !input.is_dir() {
            if seen.insert(identity(input)) {
                found.files.push(InputFile { path: input.clone(), root: None });
            }
            continue;
        }
        let search = read::search(input, &within);
        for path in search.files {
            if seen.insert(identity(&path)) {
                found.files.push(InputFile { path, root: Some(input.clone()) });
            }
        }
        for (path, reason) in search.skipped {
            // A link left out is known by where it is, not by where it points.
            let place = path.parent().map(identity).unwrap_or_default().join(path.file_name().unwrap_or_default());
            if seen.insert(place) {
                let outcome = ReadOutcome::left_out(&path, reason);
                found.left_out.push(FileRules { input: InputFile { path, root: Some(input.clone()) }, outcome });
            }
        }
    }
    found
}

/// What makes two paths the same file: the canonical path, else the path as given (a file that
/// does not exist is reported by the read).
fn identity(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

/// The rules read from one file, with that file's problems.
pub struct FileRules {
    pub input: InputFile,
    pub outcome: ReadOutcome,
}

impl FileRules {
    /// A file met while searching a folder that turned out to hold no rule (a README, a
    /// workbook): left alone rather than reported, since the user never named it.
    pub fn skipped(&self) -> bool {
        self.input.root.is_some() && self.outcome.not_a_rule && self.outcome.rules.is_empty()
    }
}

/// The input name that means standard input.
pub const STDIN: &str = "-";

/// A file a folder search left out, and why: a line on the command line, a record of the
/// `--report` file.
#[derive(Clone, Debug, Serialize)]
pub struct Skipped {
    pub source: PathBuf,
    pub reason: String,
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: warning: skipped: {}",
            crate::diag::printable(&self.source.display().to_string()),
            crate::diag::printable(&self.reason)
        )
    }
}

/// Every file of `files` a folder search skipped, with the reason its reader gave (or the
/// search's own), sorted by path.
pub fn skipped(files: &[FileRules]) -> Vec<Skipped> {
    let reason = |f: &FileRules| f.outcome.problems.iter().map(|p| p.message.clone()).next().unwrap_or_else(|| "no rule in it".into());
    let mut skipped: Vec<Skipped> =
        files.iter().filter(|f| f.skipped()).map(|f| Skipped { source: f.input.path.clone(), reason: reason(f) }).collect();
    skipped.sort_by(|a, b| a.source.cmp(&b.source));
    skipped
}

/// Reads every input file, and appends those the search left out (see `skipped`).
pub fn read_inputs(inputs: Inputs, from: Option<SourceFormat>) -> Vec<FileRules> {
    let mut read = read_all(&inputs.files, from);
    read.extend(inputs.left_out);
    read
}

pub fn read_all(files: &[InputFile], from: Option<SourceFormat>) -> Vec<FileRules> {
    files
        .par_iter()
        .map(|input| {
            let outcome = if input.path == Path::new(STDIN) { read_stdin(from) } else { read::read_file(&input.path, from) };
            FileRules { input: input.clone(), outcome }
        })
        .collect()
}

/// Warns on every rule whose id another rule of the run also has (see
/// `check::duplicate_id_warnings`): each warning joins the rule's own problems, so `check`,
/// every target's record and the report carry it.
pub fn warn_duplicate_ids(files: &mut [FileRules]) {
    add_run_problems(files, |rules| crate::check::duplicate_id_warnings(rules).into_iter().map(|w| w.into_iter().collect()).collect());
}

/// Joins problems about the run's rules taken together to each rule's own: `problems` gives,
/// for the read rules in order, each one's.
pub fn add_run_problems(files: &mut [FileRules], problems: impl FnOnce(&[&Rule]) -> Vec<Vec<Problem>>) {
    let read = read_files(files);
    let rules: Vec<&Rule> = read.iter().flat_map(|f| &f.outcome.rules).collect();
    let mut found = problems(&rules).into_iter();
    for file in files.iter_mut().filter(|f| !f.skipped()) {
        let count = file.outcome.rules.len();
        file.outcome.problems.extend(found.by_ref().take(count).flatten());
    }
}

fn read_stdin(from: Option<SourceFormat>) -> ReadOutcome {
    let name = Path::new("<stdin>");
    match read::read_limited(std::io::stdin(), 0) {
        Ok(Some(bytes)) => read::read_bytes(&bytes, name, from),
        Ok(None) => ReadOutcome::refused(name, Position::new(1, 1), read::too_large()),
        Err(e) => ReadOutcome::refused(name, Position::new(1, 1), format!("cannot read standard input: {e}")),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Converted,
    Failed,
}

/// What happened to one rule; serialized as one record of the `--report` file.
#[derive(Clone, Debug, Serialize)]
pub struct Record {
    pub source: PathBuf,
    /// The rule's index among the rules of its file; `None` for a problem with the whole file.
    pub rule_index: Option<usize>,
    pub rule_id: Option<String>,
    pub title: Option<String>,
    pub target: &'static str,
    pub status: Status,
    /// How faithfully the output says what the rule says; `None` when the rule was not read,
    /// or its output could not be written.
    pub fidelity: Option<Verdict>,
    /// How we know the output means what its fidelity says; `None` when nothing was written.
    pub evidence: Option<Evidence>,
    /// Where the rule was written, when it was written to a file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<PathBuf>,
    /// Errors, warnings, losses and changes, each at its line and column in `source`.
    pub problems: Vec<Problem>,
}

/// A rule that converted, with its output text.
pub struct Converted<'a> {
    pub rule: &'a Rule,
    /// Shared by every target's output of the rule: a pack's Detections are its largest data.
    pub detection: Arc<Detection>,
    pub input: &'a InputFile,
    /// The problems found while reading the rule: its output's header lists their losses.
    pub read: Vec<Problem>,
    pub text: String,
    pub record: usize,
}

/// Converts every readable rule on its own, so one rule's failure never hides the others.
/// Records come per file in rule order, one per rule, read or not.
pub fn convert<'a>(files: &'a [FileRules], target: Target, options: &EmitOptions) -> (Vec<Record>, Vec<Converted<'a>>) {
    convert_to(files, &[target], options).pop().expect("one result per target")
}

/// A rule read and lowered: what the job hands every consumer (emitters, `check`, `explain`,
/// `test`, `report`), so that each rule is lowered once per run.
#[derive(Clone, Debug)]
pub struct Lowered<'a> {
    pub rule: &'a Rule,
    /// Shared by every consumer of the rule: a pack's Detections are its largest data.
    pub detection: Arc<Detection>,
}

/// Lowers every rule `wanted` says needs it, once, in parallel; the others get an empty
/// Detection. One list per file in rule order, whatever the thread count.
pub fn lower_all<'a>(files: &[&'a FileRules], wanted: &(dyn Fn(&Rule) -> bool + Sync)) -> Vec<Vec<Lowered<'a>>> {
    // Parallel over files as well as rules: most files hold one rule, so parallel over the rules
    // of each file alone would run the corpus on one thread.
    files
        .par_iter()
        .map(|file| {
            let lower = |rule| Lowered { rule, detection: if wanted(rule) { crate::lower::lower_rule(rule) } else { Arc::default() } };
            file.outcome.rules.par_iter().map(lower).collect()
        })
        .collect()
}

/// The files a run reads rules from: those a folder search did not skip.
pub fn read_files(files: &[FileRules]) -> Vec<&FileRules> {
    files.iter().filter(|f| !f.skipped()).collect()
}

/// What one rule became in each target.
type RuleResults = Vec<Option<Result<emit::Emitted, Vec<Problem>>>>;

/// `convert` to several targets at once, one result per target in the order given: each rule
/// is read and lowered once, however many targets there are.
pub fn convert_to<'a>(files: &'a [FileRules], to: &[Target], options: &EmitOptions) -> Vec<(Vec<Record>, Vec<Converted<'a>>)> {
    convert_observed(files, to, options, &|| {})
}

/// `convert_to`, calling `done` (from any thread) as each rule is converted to every target:
/// a progress bar's tick.
pub fn convert_observed<'a>(
    files: &'a [FileRules],
    to: &[Target],
    options: &EmitOptions,
    done: &(dyn Fn() + Sync),
) -> Vec<(Vec<Record>, Vec<Converted<'a>>)> {
    let files = read_files(files);
    let lowered = lower_all(&files, &|rule| to.iter().any(|t| t.reads_detection_of(rule)));
    emit_lowered(&files, &lowered, to, options, done)
}

/// Emits rules the job lowered (`lower_all` over the same `files`) to each target in `to`.
pub fn emit_lowered<'a>(
    files: &[&'a FileRules],
    lowered: &[Vec<Lowered<'a>>],
    to: &[Target],
    options: &EmitOptions,
    done: &(dyn Fn() + Sync),
) -> Vec<(Vec<Record>, Vec<Converted<'a>>)> {
    let unlowered = Detection::default();
    let mut results: Vec<Vec<RuleResults>> = files
        .par_iter()
        .zip(lowered)
        .map(|(file, rules)| {
            rules
                .par_iter()
                .map(|lowered| {
                    let read = read_problems(file, lowered.rule);
                    let emitted = to
                        .iter()
                        .map(|target| {
                            let detection = if target.reads_detection_of(lowered.rule) { &*lowered.detection } else { &unlowered };
                            Some(emit::emit(*target, &[Subject { rule: lowered.rule, detection, read: &read }], options))
                        })
                        .collect();
                    done();
                    emitted
                })
                .collect()
        })
        .collect();
    to.iter().enumerate().map(|(at, target)| assemble(files, lowered, &mut results, at, *target)).collect()
}

/// The problems found while reading `rule` of `file`.
fn read_problems(file: &FileRules, rule: &Rule) -> Vec<Problem> {
    file.outcome.problems_of(rule.origin.index).cloned().collect()
}

/// The records and outputs of the `at`-th target, in input order.
fn assemble<'a>(
    files: &[&'a FileRules],
    lowered: &[Vec<Lowered<'a>>],
    results: &mut [Vec<RuleResults>],
    at: usize,
    target: Target,
) -> (Vec<Record>, Vec<Converted<'a>>) {
    let mut records = Vec::new();
    let mut converted = Vec::new();
    for ((file, results), lowered) in files.iter().zip(results.iter_mut()).zip(lowered) {
        let outcome = &file.outcome;
        for entry in outcome.entries() {
            let (slot, rule) = match entry {
                Entry::Unread(unread) => {
                    records.push(Record {
                        source: file.input.path.clone(),
                        rule_index: unread.index,
                        rule_id: None,
                        title: unread.label.map(str::to_string),
                        target: target.name(),
                        status: Status::Failed,
                        fidelity: None,
                        evidence: None,
                        output: None,
                        problems: unread.problems.into_iter().cloned().collect(),
                    });
                    continue;
                }
                Entry::Read(slot, rule) => (slot, rule),
            };
            let (Some(emitted), Some(lowered)) = (results.get_mut(slot), lowered.get(slot)) else { continue };
            let Some(result) = emitted.get_mut(at).and_then(Option::take) else { continue };
            let read = read_problems(file, rule);
            let mut record = Record {
                source: file.input.path.clone(),
                rule_index: Some(rule.origin.index),
                rule_id: rule.id.clone(),
                title: Some(rule.title.clone()),
                target: target.name(),
                status: Status::Converted,
                fidelity: None,
                evidence: None,
                output: None,
                problems: Vec::new(),
            };
            match result {
                Ok(emitted) => {
                    record.evidence = Some(emitted.evidence);
                    // The problems and verdict the output's header shows (`emit::header_lines`).
                    record.problems = conversion_problems(&read, emitted.problems);
                    record.fidelity = Some(Verdict::of_emitted(&record.problems));
                    let detection = if target.reads_detection_of(rule) { Arc::clone(&lowered.detection) } else { Arc::default() };
                    converted.push(Converted { rule, detection, input: &file.input, read, text: emitted.text, record: records.len() });
                }
                Err(errors) => {
                    record.status = Status::Failed;
                    record.fidelity = Some(Verdict::Unsupported);
                    record.problems = conversion_problems(&read, errors);
                }
            }
            records.push(record);
        }
    }
    (records, converted)
}

#[derive(Debug, Serialize, Default, PartialEq, Eq)]
pub struct Summary {
    /// Files read (those holding no rule, met in a folder search, are counted apart).
    pub files: usize,
    pub skipped_files: usize,
    pub rules: usize,
    pub converted: usize,
    pub failed: usize,
    /// Converted rules that still carry warnings or losses worth a review.
    pub with_problems: usize,
    /// Fidelity verdicts of the rules that were read.
    pub exact: usize,
    pub approximate: usize,
    pub unsupported: usize,
    /// Evidence of the converted rules.
    pub evidence: EvidenceCounts,
    /// The most frequent codes of losses (over converted rules) and of failures.
    pub top_losses: Vec<CodeCount>,
    pub top_failures: Vec<CodeCount>,
}

/// How many converted rules have each `Evidence`.
#[derive(Debug, Serialize, Default, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub struct EvidenceCounts {
    pub executed: usize,
    pub schema_checked: usize,
    pub unverified: usize,
}

impl EvidenceCounts {
    fn of(records: &[Record]) -> EvidenceCounts {
        let count = |evidence: Evidence| records.iter().filter(|r| r.evidence == Some(evidence)).count();
        EvidenceCounts {
            executed: count(Evidence::Executed),
            schema_checked: count(Evidence::SchemaChecked),
            unverified: count(Evidence::Unverified),
        }
    }
}

/// How many codes a summary lists for losses and for failures.
pub const TOP_CODES: usize = 5;

pub fn summarize(files: &[FileRules], records: &[Record]) -> Summary {
    let converted = records.iter().filter(|r| r.status == Status::Converted);
    let skipped_files = files.iter().filter(|f| f.skipped()).count();
    let verdicts = |verdict: Verdict| records.iter().filter(|r| r.fidelity == Some(verdict)).count();
    Summary {
        files: files.len() - skipped_files,
        skipped_files,
        rules: records.len(),
        converted: converted.clone().count(),
        failed: records.iter().filter(|r| r.status == Status::Failed).count(),
        with_problems: converted.filter(|r| !r.problems.is_empty()).count(),
        exact: verdicts(Verdict::Exact),
        approximate: verdicts(Verdict::Approximate),
        unsupported: verdicts(Verdict::Unsupported),
        evidence: EvidenceCounts::of(records),
        top_losses: top_codes(records, Status::Converted, Kind::Loss),
        top_failures: top_codes(records, Status::Failed, Kind::Error),
    }
}

/// The top codes of the `kind` problems of the records with `status`.
fn top_codes(records: &[Record], status: Status, kind: Kind) -> Vec<CodeCount> {
    let problems = records.iter().filter(|r| r.status == status).map(|r| r.problems.iter().filter(|p| p.kind == kind));
    crate::diag::top_codes(problems, TOP_CODES)
}

/// All converted rules as one document, as stdout shows them: a single rule's own text, or one
/// ARM template with every resource, or YAML documents separated by `---`.
pub fn combined_text(converted: &[Converted], target: Target, options: &EmitOptions) -> Result<String, Vec<Problem>> {
    match converted {
        [] => Ok(String::new()),
        [one] => Ok(one.text.clone()),
        many => {
            let subjects: Vec<_> = many.iter().map(|c| Subject { rule: c.rule, detection: &c.detection, read: &c.read }).collect();
            emit::emit(target, &subjects, options).map(|emitted| emitted.text)
        }
    }
}

/// Lowers each rule (for targets that read the Detection) and emits them all as one document: the library's one-call conversion.
pub fn emit_rules(target: Target, rules: &[&Rule], options: &EmitOptions) -> Result<emit::Emitted, Vec<Problem>> {
    let detections: Vec<Arc<Detection>> =
        rules.iter().map(|rule| if target.reads_detection_of(rule) { crate::lower::lower_rule(rule) } else { Arc::default() }).collect();
    let subjects: Vec<Subject> = rules.iter().zip(&detections).map(|(rule, detection)| Subject::new(rule, detection)).collect();
    emit::emit(target, &subjects, options)
}

/// The longest file stem written; longer names are cut and end with a hash of the whole name.
const MAX_STEM: usize = 100;

/// A file name made from the rule's name (else its id): letters, digits, `-`, `_`, `.` only,
/// so it can never leave the output folder (no slash, backslash, colon or `..`), never a name Windows
/// reserves (`CON`, `NUL.txt`, `COM1`: prefixed `_`) and at most `max` characters (a long name
/// keeps its first part and a hash of the whole, so two long names stay distinct).
pub fn safe_file_stem(rule: &Rule, max: usize) -> String {
    let source = if rule.title.trim().is_empty() { rule.id.clone().unwrap_or_default() } else { rule.title.clone() };
    let mut stem = String::new();
    for c in source.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
            stem.push(c);
        } else if !stem.ends_with('_') {
            stem.push('_');
        }
    }
    let mut stem = stem.trim_matches(['_', '.']).to_string();
    if stem.len() > max {
        let hash = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, source.as_bytes()).simple().to_string();
        stem = format!("{}-{}", stem[..max.saturating_sub(9)].trim_end_matches(['_', '.']), &hash[..8]);
    }
    if is_reserved_on_windows(&stem) {
        stem.insert(0, '_');
    }
    if stem.is_empty() { format!("rule-{}", rule.origin.index + 1) } else { stem }
}

/// Device names Windows reserves in any folder, with any extension (`nul.yml` is `NUL`).
fn is_reserved_on_windows(stem: &str) -> bool {
    let base = stem.split('.').next().unwrap_or_default().to_ascii_uppercase();
    matches!(base.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || ["COM", "LPT"]
            .iter()
            .any(|device| base.strip_prefix(device).is_some_and(|n| n.len() == 1 && n.as_bytes()[0].is_ascii_digit() && n != "0"))
}

/// The rule's file stem within the target's file name limits: room is left for the extension
/// and a collision number (`-12`); a short stem ends with `_rule` until long enough.
fn file_stem(rule: &Rule, target: Target) -> String {
    let extension = target.extension().len() + 1;
    let Some((min, max)) = target.file_name_length() else { return safe_file_stem(rule, MAX_STEM) };
    let mut stem = safe_file_stem(rule, max.saturating_sub(extension + 3).min(MAX_STEM));
    while stem.len() + extension < min {
        stem.push_str("_rule");
    }
    stem
}

/// Chooses each converted rule's output path under `out_dir`, mirroring folder inputs and
/// numbering names that would collide (`name-2.json`), deterministically in input order.
pub fn output_paths(converted: &[Converted], out_dir: &Path, target: Target) -> Vec<PathBuf> {
    let mut taken = HashSet::new();
    converted
        .iter()
        .map(|c| {
            let folder = match &c.input.root {
                Some(root) => c.input.path.parent().and_then(|p| p.strip_prefix(root).ok()).map(|rel| out_dir.join(rel)),
                None => None,
            }
            .unwrap_or_else(|| out_dir.to_path_buf());
            let stem = file_stem(c.rule, target);
            let mut candidate = folder.join(format!("{stem}.{}", target.extension()));
            let mut n = 2;
            while !taken.insert(candidate.to_string_lossy().to_lowercase()) {
                candidate = folder.join(format!("{stem}-{n}.{}", target.extension()));
                n += 1;
            }
            candidate
        })
        .collect()
}
