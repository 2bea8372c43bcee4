//! A Sigma document's metadata → the neutral `Rule` (title, id, status, description,
//! references, authors, dates, tags as ATT&CK tactics and techniques, level as severity, false
//! positives), its `sigma` section (logsource, fields, related, name, unknown keys), and the
//! Sentinel settings its `sentinel` custom attribute carries.

use crate::diag::{Code, Problem};
use crate::ir::{AttackId, AttackRef, Lifted, Origin, Rule, Severity, SigmaSection, SourceFormat, Tactic, Technique};
use crate::read::fields::Decoder;
use crate::read::locate::LineIndex;
use crate::sentinel::SIGMA_ATTRIBUTE;
use crate::sentinel::keys::{Key, Naming};
use crate::sigma::{logsource, scalar_text as scalar};
use crate::yaml::{Node, Value};
use std::path::Path;

/// Keys this reader models; the others go to `SigmaSection::extensions`.
const KNOWN: [&str; 21] = [
    "title",
    "id",
    "name",
    "status",
    "description",
    "references",
    "author",
    "date",
    "modified",
    "tags",
    "level",
    "falsepositives",
    "fields",
    "related",
    "logsource",
    "detection",
    "correlation",
    "filter",
    "license",
    "taxonomy",
    SIGMA_ATTRIBUTE,
];

/// The rule a Sigma document's metadata says (`file_text` for positions).
pub fn rule(node: &Node, file_text: &str, file: &Path, index: usize) -> (Rule, Vec<Problem>) {
    let mut problems = misshapen(node, file);
    let mut rule = Rule { origin: Origin::new(file, node.position, index, SourceFormat::Sigma), ..Rule::default() };
    let text = |key: &str| node.get(key).and_then(scalar);
    let lifted = |key: &str| text(key).map(|v| Lifted::new(v, key));
    let list = |key: &str| -> Vec<Lifted<String>> { strings(node.get(key)).into_iter().map(|v| Lifted::new(v, key)).collect() };
    rule.title = text("title").unwrap_or_default();
    rule.id = text("id");
    rule.description = text("description");
    rule.status = lifted("status");
    rule.created = lifted("date");
    rule.modified = lifted("modified");
    rule.references = list("references");
    rule.false_positives = list("falsepositives");
    rule.tags = list("tags");
    // `author: A, B (Org)`: one name per comma.
    rule.authors = text("author")
        .map(|a| a.split(',').map(str::trim).filter(|a| !a.is_empty()).map(|a| Lifted::new(a.to_string(), "author")).collect())
        .unwrap_or_default();
    let (tactics, techniques) = attack(&rule.tags);
    rule.tactics = (!tactics.is_empty()).then_some(tactics);
    rule.techniques = (!techniques.is_empty()).then_some(techniques);
    if let Some(level) = node.get("level") {
        let written = scalar(level).unwrap_or_default();
        rule.severity = Severity::ALL.into_iter().find(|s| s.name().eq_ignore_ascii_case(&written));
        if rule.severity.is_none() {
            problems.push(Problem::warning(
                Code::InvalidValue,
                file,
                level.position,
                format!("`level: {written}` is not a Sigma level (informational, low, medium, high, critical)"),
            ));
        }
    }
    let entries = node.entries().unwrap_or_default();
    rule.origin.key_positions = entries.iter().map(|e| (e.key.clone(), e.key_position)).collect();
    let related = match node.get("related").map(|r| &r.value) {
        Some(Value::Seq(items)) => {
            items.iter().filter_map(|i| Some((i.get("type").and_then(scalar)?, i.get("id").and_then(scalar)?))).collect()
        }
        _ => Vec::new(),
    };
    rule.sigma = Some(SigmaSection {
        logsource: logsource(node.get("logsource")),
        fields: strings(node.get("fields")),
        related,
        name: text("name"),
        extensions: entries.iter().filter(|e| !KNOWN.contains(&e.key.as_str())).map(|e| (e.key.clone(), e.value.to_json())).collect(),
    });
    if let Some(attribute) = node.get(SIGMA_ATTRIBUTE) {
        problems.extend(sentinel_settings(attribute, file_text, file, &mut rule));
    }
    (rule, problems)
}

/// Keys the Sigma specification defines as one text, and as a list of texts (or one text).
const TEXT_KEYS: [&str; 10] = ["title", "id", "name", "status", "description", "author", "date", "modified", "level", "license"];
const LIST_KEYS: [&str; 4] = ["references", "falsepositives", "tags", "fields"];

/// Metadata of another shape than the specification's (a list `title`, a mapping
/// `falsepositives`): an error at its line and column, never a value dropped or emptied.
fn misshapen(node: &Node, file: &Path) -> Vec<Problem> {
    let collection = |n: &&Node| matches!(n.value, Value::Seq(_) | Value::Map(_));
    let wrong = |key: &str, what: &str, n: &Node| {
        Problem::error(Code::InvalidValue, file, n.position, format!("`{key}` must be {what}, found {}", n.kind_name()))
    };
    let mut problems: Vec<Problem> =
        TEXT_KEYS.iter().filter_map(|key| node.get(key).filter(collection).map(|n| wrong(key, "text", n))).collect();
    for key in LIST_KEYS {
        let items = match node.get(key) {
            Some(n) if matches!(n.value, Value::Map(_)) => vec![n],
            Some(Node { value: Value::Seq(items), .. }) => items.iter().filter(collection).collect(),
            _ => Vec::new(),
        };
        problems.extend(items.into_iter().map(|n| wrong(key, "a list of texts", n)));
    }
    problems
}

/// The `sentinel` attribute into the rule's Sentinel section, read by the decoder of Sentinel's
/// repository YAML, so a bad value is an error at its line and column as in a Sentinel file.
/// A neutral key (`severity`, `name` ...) is the Sigma rule's own field to say: ignored, with
/// a warning, unless kept as written (null, or a list with an empty item); but `tactics` and
/// `relevantTechniques` add what Sigma tags cannot say.
fn sentinel_settings(attribute: &Node, text: &str, file: &Path, rule: &mut Rule) -> Vec<Problem> {
    let lines = LineIndex::new(text);
    let mut decoder = Decoder::new(&lines, Naming::Yaml, file);
    let Some(entries) = decoder.mapping(SIGMA_ATTRIBUTE, attribute) else { return decoder.problems };
    let mut read = Rule::default();
    decoder.decode_into(attribute, &mut read);
    let section = read.sentinel.unwrap_or_default();
    // The tactics and techniques Sigma has no tag for (see the Sigma target's `untagged`).
    let carried = [Key::Tactics.yaml(), Key::Techniques.yaml()];
    rule.tactics = merged(rule.tactics.take(), read.tactics);
    rule.techniques = merged(rule.techniques.take(), read.techniques);
    for entry in entries {
        let neutral = Key::from_name(Naming::Yaml, &entry.key).is_some_and(Key::is_neutral);
        if neutral && !section.extensions.contains_key(&entry.key) && !carried.contains(&entry.key.as_str()) {
            let message = format!("`{SIGMA_ATTRIBUTE}.{}` is ignored: the Sigma rule's own fields say it", entry.key);
            decoder.warning(Code::Ignored, entry.key_position, message);
        } else {
            rule.origin.key_positions.entry(entry.key.clone()).or_insert(entry.key_position);
        }
    }
    rule.sentinel = Some(section);
    decoder.problems
}
/// The tags' ATT&CK references, then those the attribute carries.
fn merged<T>(tagged: Option<Vec<AttackRef<T>>>, carried: Option<Vec<AttackRef<T>>>) -> Option<Vec<AttackRef<T>>> {
    match (tagged, carried) {
        (Some(mut tagged), Some(carried)) => {
            tagged.extend(carried);
            Some(tagged)
        }
        (tagged, carried) => tagged.or(carried),
    }
}

/// `attack.t1059.001` → technique, `attack.execution` → tactic; other tags (`cve.*`,
/// `attack.g0032` groups, `detection.*`) stay tags only.
fn attack(tags: &[Lifted<String>]) -> (Vec<AttackRef<Tactic>>, Vec<AttackRef<Technique>>) {
    let mut tactics = Vec::new();
    let mut techniques = Vec::new();
    for tag in tags {
        let Some(name) = tag.value.strip_prefix("attack.") else { continue };
        if let Some(technique) = Technique::parse(name) {
            techniques.push(AttackRef { id: Some(technique), written: name.to_string() });
        } else if let Some(tactic) = Tactic::parse(name) {
            tactics.push(AttackRef { id: Some(tactic), written: name.to_string() });
        }
    }
    (tactics, techniques)
}

/// A list of scalars, or one scalar, as texts.
fn strings(node: Option<&Node>) -> Vec<String> {
    match node.map(|n| &n.value) {
        Some(Value::Seq(items)) => items.iter().filter_map(scalar).collect(),
        Some(_) => node.and_then(scalar).into_iter().collect(),
        None => Vec::new(),
    }
}
