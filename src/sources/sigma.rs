//! Sigma rules (YAML with top-level `detection` and `logsource`): recognised so that they are
//! not misread as Sentinel YAML, and refused with a clear error until a Sigma reader lands.

use super::ReadOutcome;
use crate::diag::{Position, Problem};
use crate::yaml::{self, Node, Value};
use std::path::Path;

const UNSUPPORTED: &str =
    "Sigma rules are not supported yet; ruleconv reads Sentinel YAML, ARM templates and markdown rules (Sigma input is planned)";

/// Whether `text` has Sigma's shape: top-level `detection:` and `logsource:` keys.
pub fn looks_like_sigma(text: &str) -> bool {
    let top_level = |key: &str| text.lines().any(|l| l.strip_prefix(key).is_some_and(|rest| rest.starts_with(':')));
    top_level("detection") && top_level("logsource")
}

/// One error per Sigma document (each is a rule), at its `detection` key.
pub fn read(text: &str, file: &Path, out: &mut ReadOutcome) {
    let Ok(documents) = yaml::parse_documents(text) else {
        // Still say what the file is, at the first `detection` line.
        let line = text.lines().position(|l| l.starts_with("detection:")).map_or(1, |i| i + 1);
        out.rule_error(file, Position::new(line, 1), 0, UNSUPPORTED);
        return;
    };
    for (index, document) in documents.iter().filter(|d| d.value != Value::Null).enumerate() {
        let entries = document.entries().unwrap_or_default();
        let position = entries.iter().find(|e| e.key == "detection").map_or(document.position, |e| e.key_position);
        let title = document.get("title").and_then(Node::as_str).map(str::to_string);
        out.problems.push(Problem::error(file, position, UNSUPPORTED).for_rule(index, title));
    }
}
