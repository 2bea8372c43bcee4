//! `check --format sarif`: problems as SARIF 2.1.0, the format code-scanning tools read.
//!
//! One run; the tool's rules are the problem codes (`ruleconv/<code>`), each result is one
//! problem at its file (a URI relative to the folder ruleconv ran in), line and column, with
//! the level of its kind.

use crate::diag::{Code, Kind, Problem};
use serde_json::{Value, json};
use std::path::{Component, Path};

const SCHEMA: &str = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The SARIF rule id of a code.
fn rule_id(code: Code) -> String {
    format!("ruleconv/{code}")
}

/// The SARIF log of `problems`; relative URIs are relative to `base` (the working folder).
/// Its rules are every code, in the order of `Code::ALL`, each at its usual kind's level.
pub fn document(problems: &[&Problem], base: &Path) -> Value {
    let rules: Vec<Value> = Code::ALL
        .iter()
        .map(|code| {
            let level = level(code.kinds()[0]);
            json!({"id": rule_id(*code), "name": code.name(), "shortDescription": {"text": code.about()}, "defaultConfiguration": {"level": level}})
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
    let rule_index = Code::ALL.iter().position(|code| *code == problem.code).unwrap_or_default();
    let text = match problem.rule.as_ref().and_then(|r| r.label.as_ref()) {
        Some(label) => format!("rule '{label}': {}", problem.message),
        None => problem.message.clone(),
    };
    json!({
        "ruleId": rule_id(problem.code),
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
    fn each_problem_is_a_result_of_its_codes_rule() {
        let p = Problem::warning(Code::DuplicateId, "r.yaml", Position::new(3, 5), "odd").for_rule(0, Some("Name".into()));
        let log = document(&[&p], Path::new("/"));
        let result = &log["runs"][0]["results"][0];
        assert_eq!((&result["ruleId"], &result["level"]), (&json!("ruleconv/duplicate-id"), &json!("warning")));
        let rule = &log["runs"][0]["tool"]["driver"]["rules"][result["ruleIndex"].as_u64().unwrap() as usize];
        assert_eq!(rule["id"], "ruleconv/duplicate-id");
        assert_eq!(rule["shortDescription"]["text"], Code::DuplicateId.about());
        assert_eq!(log["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap().len(), Code::ALL.len());
        assert_eq!(result["message"]["text"], "rule 'Name': odd");
        assert_eq!(result["locations"][0]["physicalLocation"]["region"], json!({"startLine": 3, "startColumn": 5}));
    }
}
