//! `check --format sarif`: problems as SARIF 2.1.0, the format code-scanning tools read.
//!
//! One run; the tool's rules are the problem kinds, each result is one problem at its file
//! (a URI relative to the folder ruleconv ran in), line and column.

use crate::diag::{Kind, Problem};
use serde_json::{Value, json};
use std::path::{Component, Path};

const SCHEMA: &str = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The SARIF rules, by problem kind: (kind, id, what it means).
const RULES: [(Kind, &str, &str); 4] = [
    (Kind::Error, "ruleconv/error", "The rule cannot be read, checked or converted as it is."),
    (Kind::Warning, "ruleconv/warning", "The rule is read, but something in it deserves a look."),
    (Kind::Loss, "ruleconv/loss", "Something the rule says that the output does not carry."),
    (Kind::Change, "ruleconv/change", "Something the output says differently from the rule."),
];

/// The SARIF log of `problems`; relative URIs are relative to `base` (the working folder).
pub fn document(problems: &[&Problem], base: &Path) -> Value {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|(kind, id, about)| {
            json!({"id": id, "name": kind.name(), "shortDescription": {"text": about}, "defaultConfiguration": {"level": level(*kind)}})
        })
        .collect();
    let results: Vec<Value> = problems.iter().map(|p| result(p, base)).collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "ruleconv", "version": env!("CARGO_PKG_VERSION"), "rules": rules}},
            "results": results,
        }],
    })
}

fn result(problem: &Problem, base: &Path) -> Value {
    let rule_index = RULES.iter().position(|(kind, ..)| *kind == problem.kind).unwrap_or_default();
    let text = match problem.rule.as_ref().and_then(|r| r.label.as_ref()) {
        Some(label) => format!("rule '{label}': {}", problem.message),
        None => problem.message.clone(),
    };
    json!({
        "ruleId": RULES[rule_index].1,
        "ruleIndex": rule_index,
        "level": level(problem.kind),
        "message": {"text": text},
        "locations": [{"physicalLocation": {
            "artifactLocation": artifact(&problem.file, base),
            "region": {"startLine": problem.position.line.max(1), "startColumn": problem.position.col.max(1)},
        }}],
    })
}

fn level(kind: Kind) -> &'static str {
    match kind {
        Kind::Error => "error",
        Kind::Warning => "warning",
        Kind::Loss | Kind::Change => "note",
    }
}

/// A relative URI (against `%SRCROOT%`) for a file under `base` or named relatively, else an
/// absolute `file://` URI.
fn artifact(file: &Path, base: &Path) -> Value {
    let relative = if file.is_absolute() { file.strip_prefix(base).ok() } else { Some(file) };
    match relative {
        Some(relative) => json!({"uri": uri_path(relative), "uriBaseId": "%SRCROOT%"}),
        None => json!({"uri": format!("file://{}", uri_path(file))}),
    }
}

/// The path's components joined by `/`, each percent-encoded but for URI-unreserved bytes.
fn uri_path(path: &Path) -> String {
    let mut parts = Vec::new();
    for component in path.components() {
        match component {
            Component::RootDir => parts.push(String::new()),
            Component::CurDir => {}
            other => parts.push(percent_encode(&other.as_os_str().to_string_lossy())),
        }
    }
    if parts == [""] { "/".into() } else { parts.join("/") }
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Position;

    #[test]
    fn uris_are_relative_and_encoded() {
        let base = Path::new("/work/repo");
        assert_eq!(artifact(Path::new("Hunting Queries/a#1.yaml"), base)["uri"], "Hunting%20Queries/a%231.yaml");
        assert_eq!(artifact(Path::new("./x.yaml"), base)["uri"], "x.yaml");
        assert_eq!(artifact(Path::new("/work/repo/r/x.yaml"), base), json!({"uri": "r/x.yaml", "uriBaseId": "%SRCROOT%"}));
        assert_eq!(artifact(Path::new("/elsewhere/x y.yaml"), base), json!({"uri": "file:///elsewhere/x%20y.yaml"}));
    }

    #[test]
    fn each_problem_is_a_result_of_its_kinds_rule() {
        let p = Problem::warning("r.yaml", Position::new(3, 5), "odd").for_rule(0, Some("Name".into()));
        let log = document(&[&p], Path::new("/"));
        let result = &log["runs"][0]["results"][0];
        assert_eq!(result["ruleId"], "ruleconv/warning");
        assert_eq!(log["runs"][0]["tool"]["driver"]["rules"][result["ruleIndex"].as_u64().unwrap() as usize]["id"], "ruleconv/warning");
        assert_eq!(result["message"]["text"], "rule 'Name': odd");
        assert_eq!(result["locations"][0]["physicalLocation"]["region"], json!({"startLine": 3, "startColumn": 5}));
    }
}
