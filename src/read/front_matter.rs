//! Markdown with the rule as YAML front matter (`---` ... `---`), as rule sites publish them.
//!
//! The front matter is a Sentinel YAML rule, except that its `query` is often wrapped in a
//! ```kusto / ```kql fence; the fence is stripped and the locator still points into the file.
//! A query may also be given as the first kql/kusto fence of the body when the front matter
//! has none. Other keys (`description-detailed` ...) are kept as extensions, as in YAML.

use super::ReadOutcome;
use super::catalog::{find_fence, read_fence};
use super::locate::{self, LineIndex};
use super::sentinel_yaml;
use crate::diag::{Code, Kind, Position, Problem};
use crate::ir::{Logic, Query, SourceFormat};
use crate::sentinel::keys::Key;
use crate::yaml::{self, Value};
use std::path::Path;

/// A markdown file split at its front matter.
pub struct Split<'a> {
    /// From the opening `---` up to the closing line, so YAML positions are file positions.
    pub yaml: &'a str,
    pub body: &'a str,
    /// The 1-based file line where `body` starts.
    pub body_line: usize,
}

/// Splits `text` if it opens with a `---` line that a later `---` (or `...`) line closes.
pub fn split(text: &str) -> Option<Split<'_>> {
    let mut lines = text.split_inclusive('\n');
    if lines.next()?.trim_end() != "---" {
        return None;
    }
    let mut offset = text.find('\n')? + 1;
    for (i, line) in lines.enumerate() {
        if matches!(line.trim_end(), "---" | "...") {
            return Some(Split { yaml: &text[..offset], body: &text[offset + line.len()..], body_line: i + 3 });
        }
        offset += line.len();
    }
    None
}

pub fn read(text: &str, file: &Path, out: &mut ReadOutcome) {
    let Some(split) = split(text) else {
        out.file_error(
            Code::NotARule,
            file,
            Position::new(1, 1),
            "no front matter: a markdown rule starts with a `---` line and ends its YAML with another `---` line",
        );
        return;
    };
    let documents = match yaml::parse_documents(split.yaml) {
        Ok(documents) => documents,
        Err(e) => {
            out.rule_error(Code::YamlSyntax, file, e.position, 0, format!("invalid YAML in the front matter: {}", e.message));
            return;
        }
    };
    let Some(document) = documents.iter().find(|d| d.value != Value::Null) else {
        out.file_error(Code::NotARule, file, Position::new(1, 1), "the front matter is empty");
        return;
    };
    let lines = LineIndex::new(text);
    let body_lines: Vec<&str> = split.body.lines().collect();
    let body_fence = find_fence(&body_lines, 0);
    let mut used_body = false;
    let read = sentinel_yaml::read_document(document, &lines, file, 0, SourceFormat::MarkdownFrontMatter, out, |decoder, rule| {
        if let (Some(Logic::Kql(query)), Some(node)) = (rule.logic.as_mut(), document.get(Key::Query.yaml())) {
            let value = query.text.clone();
            if let Some((start, end, closed)) = fence_bounds(&value) {
                if !closed {
                    decoder.warning(
                        Code::UnclosedFence,
                        node.position,
                        "the query's ``` fence is never closed; read to the end of the value",
                    );
                }
                query.text = value[start..end].to_string();
                query.locator = locate::scalar(&lines, node, &value).slice(&value, start, end);
            }
        } else if let (None, Some(open)) = (&rule.logic, body_fence) {
            let fence = read_fence(&body_lines, open, split.body_line - 1);
            if !fence.closed {
                decoder.warning(
                    Code::UnclosedFence,
                    Position::new(split.body_line + open, 1),
                    "the query's ``` fence is never closed; read to the end of the file",
                );
            }
            rule.logic = Some(Logic::Kql(Query::new(fence.text, fence.locator)));
            used_body = true;
        }
    });
    if let Some(read) = read
        && !used_body
        && !split.body.trim().is_empty()
    {
        let message = "markdown after the front matter is not part of the rule; ignored";
        let problem = Problem::about(Kind::Warning, Code::Ignored, &out.rules[read], Position::new(split.body_line, 1), message);
        out.problems.push(problem);
    }
}

/// Where the code inside a ``` fence wrapping `value` starts and ends (byte offsets), and
/// whether the fence is closed. `None` when the value is not fenced.
fn fence_bounds(value: &str) -> Option<(usize, usize, bool)> {
    let lead = value.len() - value.trim_start().len();
    if !value[lead..].starts_with("```") {
        return None;
    }
    let start = lead + value[lead..].find('\n')? + 1;
    let trimmed = value.trim_end();
    match trimmed.strip_suffix("```") {
        Some(inner) if inner.len() >= start && (inner.len() == start || inner.ends_with('\n')) => Some((start, inner.len(), true)),
        _ => Some((start, value.len(), false)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_the_closing_line() {
        let s = split("---\r\na: 1\r\n---\r\n# Body\r\n").unwrap();
        assert_eq!(s.yaml, "---\r\na: 1\r\n");
        assert_eq!(s.body, "# Body\r\n");
        assert_eq!(s.body_line, 4);
        assert!(split("a: 1\n---\n").is_none());
        assert!(split("---\na: 1\n").is_none());
    }

    #[test]
    fn fence_bounds_keep_the_code_lines() {
        let v = "```kusto\nT\n| take 1\n```";
        let (s, e, closed) = fence_bounds(v).unwrap();
        assert_eq!(&v[s..e], "T\n| take 1\n");
        assert!(closed);
        assert_eq!(fence_bounds("T\n| take 1\n"), None);
        let (s, e, closed) = fence_bounds("```kql\nT\n").unwrap();
        assert_eq!((s, e, closed), (7, 9, false));
    }
}
