//! The labelled facts of a page around its rule: `Label: value` (several on a line may be
//! separated by `·`), or a heading line naming the label with the value in the paragraph
//! under it (up to a blank line or the next label).

use crate::diag::Position;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FactKind {
    Hypothesis,
    References,
    FalsePositives,
    /// The address the rule was copied from.
    Source,
    Retrieved,
    Confidence,
}

/// Labels as pages write them (compared case-insensitively, without a trailing colon).
const LABELS: [(FactKind, &[&str]); 6] = [
    (FactKind::Hypothesis, &["hypothesis", "hunt hypothesis", "hunting hypothesis"]),
    (FactKind::References, &["references", "reference"]),
    (FactKind::FalsePositives, &["false positives", "false positive", "false positive guidance", "falsepositives"]),
    (FactKind::Source, &["source", "original source", "original rule", "source url"]),
    (FactKind::Retrieved, &["retrieved", "retrieved on", "retrieval date", "date retrieved"]),
    (FactKind::Confidence, &["confidence"]),
];

/// One fact: its kind, the label as the page wrote it, the value and where the value starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Fact {
    pub kind: FactKind,
    pub label: String,
    pub value: String,
    pub position: Position,
}

fn label_kind(label: &str) -> Option<FactKind> {
    let label = label.trim().trim_end_matches(':').trim().to_ascii_lowercase();
    LABELS.iter().find(|(_, names)| names.contains(&label.as_str())).map(|(kind, _)| *kind)
}

/// A heading line that is a label, or a line starting `Label:`.
fn opens_label(line: &str) -> bool {
    label_kind(line).is_some() || line.split_once(':').is_some_and(|(label, _)| label_kind(label).is_some())
}

/// The facts of `lines`, skipping the lines `skip` says belong to the rule itself.
pub fn scan(lines: &[&str], skip: impl Fn(usize) -> bool) -> Vec<Fact> {
    let mut facts = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if skip(i) {
            i += 1;
            continue;
        }
        let line = lines[i];
        if let Some(kind) = label_kind(line) {
            i = section(lines, i, kind, &skip, &mut facts);
            continue;
        }
        inline(line, i, &mut facts);
        i += 1;
    }
    facts
}

/// `Label: value` pieces of one line.
fn inline(line: &str, i: usize, facts: &mut Vec<Fact>) {
    let mut offset = 0;
    for piece in line.split('·') {
        if let Some((label, value)) = piece.split_once(':')
            && let Some(kind) = label_kind(label)
            && !value.trim().is_empty()
        {
            let value_start = offset + label.len() + 1 + (value.len() - value.trim_start().len());
            let col = line[..value_start].chars().count() + 1;
            push(facts, kind, label.trim(), value.trim(), Position::new(i + 1, col));
        }
        offset += piece.len() + '·'.len_utf8();
    }
}

/// The paragraph under a heading at line `heading`; returns the line after it.
fn section(lines: &[&str], heading: usize, kind: FactKind, skip: &impl Fn(usize) -> bool, facts: &mut Vec<Fact>) -> usize {
    let label = lines[heading].trim().trim_end_matches(':').trim();
    let mut i = heading + 1;
    while i < lines.len() && lines[i].trim().is_empty() {
        i += 1;
    }
    let mut paragraph: Vec<(usize, &str)> = Vec::new();
    while i < lines.len() && !lines[i].trim().is_empty() && !skip(i) && !opens_label(lines[i]) {
        paragraph.push((i, lines[i]));
        i += 1;
    }
    let Some(&(first, first_text)) = paragraph.first() else { return i };
    let column = |text: &str, at: usize| Position::new(0, text[..at].chars().count() + 1);
    let lead = |text: &str| text.len() - text.trim_start().len();
    if kind == FactKind::Hypothesis {
        let text = paragraph.iter().map(|(_, l)| l.trim()).collect::<Vec<_>>().join("\n");
        push(facts, kind, label, &text, Position::new(first + 1, column(first_text, lead(first_text)).col));
        return i;
    }
    for (line, text) in paragraph {
        let item = text.trim_start().trim_start_matches(['-', '*', '•']).trim_start();
        let at = text.len() - item.len();
        push(facts, kind, label, item.trim_end(), Position::new(line + 1, column(text, at).col));
    }
    i
}

/// Adds a fact; references and sources keep only the addresses they hold.
fn push(facts: &mut Vec<Fact>, kind: FactKind, label: &str, value: &str, position: Position) {
    let fact = |value: &str, position| Fact { kind, label: label.to_string(), value: value.to_string(), position };
    match kind {
        FactKind::References | FactKind::Source => {
            let mut offset = 0;
            for word in value.split(' ') {
                if word.starts_with("https://") || word.starts_with("http://") {
                    let col = position.col + value[..offset].chars().count();
                    facts.push(fact(word, Position::new(position.line, col)));
                    // A source address may hold spaces (a file name): the rest of the value.
                    if kind == FactKind::Source {
                        facts.last_mut().expect("just pushed").value = value[offset..].trim_end().to_string();
                        return;
                    }
                }
                offset += word.len() + 1;
            }
        }
        _ => facts.push(fact(value, position)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds_and_values(text: &str) -> Vec<(FactKind, String, Position)> {
        let lines: Vec<&str> = text.lines().collect();
        scan(&lines, |_| false).into_iter().map(|f| (f.kind, f.value, f.position)).collect()
    }

    #[test]
    fn inline_labels_and_sections() {
        let text = "Retrieved: 2026-05-22 · Confidence: high\n\nHunt Hypothesis\n\nAttackers hide.\nThey persist.\n\nReferences\n- https://a.example/x\n* see https://b.example/y too\nFalse positives:\n- Admin tools\n\nOriginal source: https://github.com/o/r/blob/main/A B.yaml\n";
        assert_eq!(
            kinds_and_values(text),
            [
                (FactKind::Retrieved, "2026-05-22".to_string(), Position::new(1, 12)),
                (FactKind::Confidence, "high".to_string(), Position::new(1, 37)),
                (FactKind::Hypothesis, "Attackers hide.\nThey persist.".to_string(), Position::new(5, 1)),
                (FactKind::References, "https://a.example/x".to_string(), Position::new(9, 3)),
                (FactKind::References, "https://b.example/y".to_string(), Position::new(10, 7)),
                (FactKind::FalsePositives, "Admin tools".to_string(), Position::new(12, 3)),
                (FactKind::Source, "https://github.com/o/r/blob/main/A B.yaml".to_string(), Position::new(14, 18)),
            ]
        );
    }

    #[test]
    fn an_empty_section_takes_nothing_from_the_next_label() {
        let text = "References\n\nFalse Positive Guidance\n\nSource: not an address\n";
        assert!(kinds_and_values(text).is_empty());
    }
}
