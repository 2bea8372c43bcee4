//! Rule-level review of a change to a source pack (`ruleconv diff OLD NEW --rules`): rules are
//! paired across the two versions (by id, else by place), and for each pair this says what
//! changed in the source (which top-level fields) and, per target, what changed in the
//! translation: the verdict, the losses added or removed, and the output text.

mod render;

pub use render::{markdown, text};

use crate::convert::{self, FileRules, Record};
use crate::diag::Kind;
use crate::emit::{EmitOptions, Target, Verdict};
use crate::ir::Rule;
use std::collections::{BTreeMap, BTreeSet};

/// What happened to one rule between the two versions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    Changed,
    Added,
    Removed,
    Unchanged,
}

impl Change {
    pub fn name(self) -> &'static str {
        match self {
            Change::Changed => "changed",
            Change::Added => "added",
            Change::Removed => "removed",
            Change::Unchanged => "unchanged",
        }
    }
}

/// One rule's review.
#[derive(Debug)]
pub struct RuleReview {
    pub title: String,
    /// The id, else the rule's place (`folder/file.yaml#0`): how the two versions were paired.
    pub key: String,
    /// The file of the new version (the old one for a removed rule).
    pub file: String,
    pub change: Change,
    /// Top-level fields of the rule (as `sentinel-yaml` or Sigma writes it) that differ.
    pub fields: Vec<String>,
    /// The unified diff of the rule as written in its own format, normalized.
    pub source_diff: String,
    pub targets: Vec<TargetReview>,
}

impl RuleReview {
    /// Whether a translation of the rule gained a loss or an error (every one of an added rule's).
    pub fn gains_losses(&self) -> bool {
        self.targets.iter().any(|t| !t.added.is_empty())
    }
}

/// What changed in one target's translation of a rule.
#[derive(Debug)]
pub struct TargetReview {
    pub target: &'static str,
    pub old: Option<Verdict>,
    pub new: Option<Verdict>,
    /// Losses and errors (`code: message`) the new version has and the old one had not.
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// The unified diff of the outputs, their verdict headers left out (the verdict and losses
    /// above say it without line:col churn).
    pub text_diff: String,
}

impl TargetReview {
    pub fn changed(&self) -> bool {
        self.old != self.new || !self.added.is_empty() || !self.removed.is_empty() || !self.text_diff.is_empty()
    }
}

/// One version of a rule, as the review compares it.
struct Version<'a> {
    rule: &'a Rule,
    file: String,
    /// The rule as written in its own format by ruleconv (so layout and key order do not count).
    normalized: String,
    /// Per target: the verdict, the losses and errors, the output without its header.
    outputs: Vec<(Option<Verdict>, BTreeSet<String>, String)>,
}

/// Reviews every rule of `old` against its counterpart in `new`, converting both to `to`.
/// Rules come in the new version's order, then the removed ones in the old order.
pub fn review(old: &[FileRules], new: &[FileRules], to: &[Target], options: &EmitOptions) -> Vec<RuleReview> {
    let old = versions(old, to, options);
    let new = versions(new, to, options);
    let mut old_by_key: BTreeMap<&str, &Version> = old.iter().map(|(key, v)| (key.as_str(), v)).collect();
    let mut reviews = Vec::new();
    for (key, version) in &new {
        let before = old_by_key.remove(key.as_str());
        reviews.push(compare(key, before, Some(version), to));
    }
    for (key, version) in &old {
        if old_by_key.contains_key(key.as_str()) {
            reviews.push(compare(key, Some(version), None, to));
        }
    }
    reviews
}

/// Every read rule of a pack with its key, normalized text and outputs, in file order.
fn versions<'a>(files: &'a [FileRules], to: &[Target], options: &EmitOptions) -> Vec<(String, Version<'a>)> {
    let formats = [Target::from_name("sentinel-yaml").expect("registered"), Target::from_name("sigma").expect("registered")];
    let per_target = convert::convert_to(files, &[&formats[..], to].concat(), options);
    let outputs_of = |index: usize| -> Vec<(Option<Verdict>, BTreeSet<String>, String)> {
        per_target[formats.len()..].iter().map(|(records, converted)| output(&records[index], converted, index)).collect()
    };
    let (records, _) = &per_target[0];
    let by_path: BTreeMap<&std::path::Path, &FileRules> =
        convert::read_files(files).into_iter().map(|f| (f.input.path.as_path(), f)).collect();
    let mut versions = Vec::new();
    for (index, record) in records.iter().enumerate() {
        let Some(rule_index) = record.rule_index else { continue };
        let Some(file) = by_path.get(record.source.as_path()) else { continue };
        let Some(rule) = file.outcome.rules.get(rule_index) else { continue };
        let own_format = usize::from(rule.sigma_logic().is_some());
        let (own_records, own_converted) = &per_target[own_format];
        let normalized = output(&own_records[index], own_converted, index).2;
        let key = rule_key(rule, file, rule_index);
        let place = file.input.path.display().to_string();
        versions.push((key, Version { rule, file: place, normalized, outputs: outputs_of(index) }));
    }
    versions
}

/// The verdict, losses and errors, and header-less text of record `index` of one target.
fn output(record: &Record, converted: &[convert::Converted], index: usize) -> (Option<Verdict>, BTreeSet<String>, String) {
    let problems = record
        .problems
        .iter()
        .filter(|p| matches!(p.kind, Kind::Loss | Kind::Error))
        .map(|p| format!("{} {}: {}", p.kind.name(), p.code.name(), p.message))
        .collect();
    let text = converted.iter().find(|c| c.record == index).map(|c| without_header(&c.text)).unwrap_or_default();
    (record.fidelity, problems, text)
}

/// An output without the verdict headers every target writes (`fidelity::header_lines` in
/// the target's comment syntax: `# `, `// `, or a markdown card's `<!--` block).
fn without_header(text: &str) -> String {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let is_header = |line: &str| {
        let body = line.trim_end().trim_start_matches(['#', '/']).strip_prefix(' ').unwrap_or(line.trim_end());
        body.starts_with("ruleconv fidelity: ") || body.starts_with("ruleconv evidence: ") || body.starts_with("  loss: ")
    };
    let kept = lines.iter().enumerate().filter(|&(i, line)| {
        let opens = line.trim_end() == "<!--" && lines.get(i + 1).is_some_and(|next| is_header(next));
        let closes = line.trim_end() == "-->" && i > 0 && is_header(lines[i - 1]);
        !(is_header(line) || opens || closes)
    });
    kept.map(|(_, line)| *line).collect()
}

/// How a rule is paired across versions: its id when it has one (case and spaces ignored), else
/// its file's place under the folder searched and its index in the file.
fn rule_key(rule: &Rule, file: &FileRules, index: usize) -> String {
    if let Some(id) = rule.id.as_deref().map(str::trim).filter(|id| !id.is_empty()) {
        return id.to_lowercase();
    }
    let place = match &file.input.root {
        Some(root) => file.input.path.strip_prefix(root).unwrap_or(&file.input.path).display().to_string(),
        None => String::new(),
    };
    format!("{place}#{index}")
}

fn compare(key: &str, old: Option<&Version>, new: Option<&Version>, to: &[Target]) -> RuleReview {
    let shown = new.or(old).expect("a rule on one side at least");
    let old_text = old.map_or("", |v| v.normalized.as_str());
    let new_text = new.map_or("", |v| v.normalized.as_str());
    let targets: Vec<TargetReview> = to
        .iter()
        .enumerate()
        .map(|(i, target)| {
            let before = old.map(|v| &v.outputs[i]);
            let after = new.map(|v| &v.outputs[i]);
            let losses = |side: Option<&(Option<Verdict>, BTreeSet<String>, String)>| side.map(|o| o.1.clone()).unwrap_or_default();
            let (was, is) = (losses(before), losses(after));
            TargetReview {
                target: target.name(),
                old: before.and_then(|o| o.0),
                new: after.and_then(|o| o.0),
                added: is.difference(&was).cloned().collect(),
                removed: was.difference(&is).cloned().collect(),
                text_diff: crate::diff::unified(before.map_or("", |o| &o.2), after.map_or("", |o| &o.2), "old", "new"),
            }
        })
        .collect();
    let change = match (old, new) {
        (None, _) => Change::Added,
        (_, None) => Change::Removed,
        _ if old_text != new_text || targets.iter().any(TargetReview::changed) => Change::Changed,
        _ => Change::Unchanged,
    };
    RuleReview {
        title: shown.rule.title.clone(),
        key: key.to_string(),
        file: shown.file.clone(),
        change,
        fields: changed_fields(old_text, new_text),
        source_diff: crate::diff::unified(old_text, new_text, "old", "new"),
        targets,
    }
}

/// The top-level keys whose blocks differ between two YAML texts ruleconv wrote (a block is a
/// line starting at column 0 with `key:` and the indented lines under it).
fn changed_fields(old: &str, new: &str) -> Vec<String> {
    let (old, new) = (blocks(old), blocks(new));
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let mut changed: Vec<(usize, String)> = keys
        .into_iter()
        .filter(|k| old.get(*k) != new.get(*k))
        .map(|k| (new.get(k).or(old.get(k)).map_or(0, |b| b.0), k.clone()))
        .collect();
    changed.sort();
    changed.into_iter().map(|(_, key)| key).collect()
}

/// Top-level key → (its order in the text, its block).
fn blocks(text: &str) -> BTreeMap<String, (usize, String)> {
    let mut blocks: BTreeMap<String, (usize, String)> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let top_key =
            (!line.starts_with([' ', '-', '#'])).then(|| line.split_once(':')).flatten().map(|(k, _)| k.trim_matches(['"', '\'']));
        if let Some(key) = top_key.filter(|k| !k.is_empty()) {
            current = Some(key.to_string());
            let order = blocks.len();
            blocks.entry(key.to_string()).or_insert((order, String::new()));
        }
        if let Some(block) = current.as_ref().and_then(|k| blocks.get_mut(k)) {
            block.1.push_str(line);
            block.1.push('\n');
        }
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_fields_are_the_top_level_blocks_that_differ_in_order() {
        let old = "title: A\nseverity: Medium\nquery: |\n  T\n  | where x\ntags:\n  - a\n";
        let new = "title: A\nseverity: High\nquery: |\n  T\n  | where y\ntags:\n  - a\nstatus: new\n";
        assert_eq!(changed_fields(old, new), ["severity", "query", "status"]);
        assert!(changed_fields(old, old).is_empty());
    }

    #[test]
    fn headers_are_left_out_of_the_compared_text() {
        let sigma = "# ruleconv fidelity: approximate\n# ruleconv evidence: unverified\n#   loss: x (at `y`)\ntitle: A\n# a comment\n";
        assert_eq!(without_header(sigma), "title: A\n# a comment\n");
        assert_eq!(without_header("// ruleconv evidence: schema-checked\n//   loss: y\nT\n"), "T\n");
        let card = "<!--\nruleconv fidelity: exact\nruleconv evidence: unverified\n-->\n# Card\n<!--\nnot ours\n-->\n";
        assert_eq!(without_header(card), "# Card\n<!--\nnot ours\n-->\n");
    }
}
