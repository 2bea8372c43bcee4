//! Shared by the KQL corpus tests and the `kql_parse` benchmark: the
//! Sentinel corpus queries (read through `ruleconv::read`), our own
//! construct queries, and the Kusto oracle (Microsoft's parser, run once per batch). Its
//! includer declares the `shared` module (support/shared.rs) beside it.
#![allow(dead_code)] // each user needs a different part

use super::shared;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub struct CorpusQuery {
    /// File path relative to the corpus, plus `#n` if a file has several.
    pub id: String,
    pub text: String,
}

pub fn shared(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared").join(path)
}

/// Every query of the Sentinel corpus, in file order; `None` if the
/// corpus is not on this machine.
pub fn corpus_queries() -> Option<Vec<CorpusQuery>> {
    let dir = shared("corpus/sentinel");
    if !dir.is_dir() {
        shared::say_skipped(&format!("{} is absent", dir.display()));
        return None;
    }
    let mut files = ruleconv::read::discover(&dir);
    files.sort();
    let mut queries = Vec::new();
    for file in files {
        let name = file.strip_prefix(&dir).unwrap_or(&file).display().to_string();
        let rules = ruleconv::read::read_path(&file).rules;
        let several = rules.len() > 1;
        for (i, rule) in rules.into_iter().enumerate() {
            if let Some(query) = rule.kql() {
                let id = if several { format!("{name}#{i}") } else { name.clone() };
                queries.push(CorpusQuery { id, text: query.text.clone() });
            }
        }
    }
    Some(queries)
}

/// The queries of tests/kql/constructs.kql: blocks separated by a
/// `----` line, after the file's leading comment.
pub fn constructs() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kql/constructs.kql");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let body: String = text.lines().skip_while(|l| l.starts_with("//")).map(|l| format!("{l}\n")).collect();
    body.split("\n----\n").map(|block| block.trim_end().to_string()).filter(|b| !b.is_empty()).collect()
}

/// One oracle diagnostic, its offset converted from UTF-16 units to bytes.
pub struct OracleDiagnostic {
    pub message: String,
    pub start: usize,
}

pub struct Verdict {
    pub ok: bool,
    pub diagnostics: Vec<OracleDiagnostic>,
    pub operators: Vec<String>,
}

pub fn oracle_path() -> PathBuf {
    shared("tools/kusto-oracle/kusto-oracle")
}

/// Runs the oracle once over all `queries` and returns its verdicts in order.
pub fn oracle(queries: &[&str]) -> Vec<Verdict> {
    let mut input = String::new();
    for (id, query) in queries.iter().enumerate() {
        input.push_str(&serde_json::json!({ "id": id, "query": query }).to_string());
        input.push('\n');
    }
    let mut child = Command::new(oracle_path())
        .arg("--jsonl")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", oracle_path().display()));
    let mut stdin = child.stdin.take().expect("oracle stdin");
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().expect("oracle output");
    writer.join().expect("writer thread").expect("write to oracle");
    assert!(output.status.success(), "oracle failed: {:?}", output.status);
    let mut verdicts: Vec<Option<Verdict>> = queries.iter().map(|_| None).collect();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("oracle JSON line");
        let id = v["id"].as_u64().expect("oracle id") as usize;
        let text = queries[id];
        let diagnostics = v["diagnostics"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|d| OracleDiagnostic {
                message: d["message"].as_str().unwrap_or_default().to_string(),
                start: utf16_to_byte(text, d["start"].as_u64().unwrap_or(0) as usize),
            })
            .collect();
        let operators = v["operators"].as_array().into_iter().flatten().filter_map(|o| o.as_str().map(String::from)).collect();
        verdicts[id] = Some(Verdict { ok: v["ok"].as_bool().expect("oracle ok"), diagnostics, operators });
    }
    verdicts.into_iter().enumerate().map(|(i, v)| v.unwrap_or_else(|| panic!("no oracle verdict for query {i}"))).collect()
}

/// Byte offset of the character at `units` UTF-16 code units into `text`.
pub fn utf16_to_byte(text: &str, units: usize) -> usize {
    let mut seen = 0;
    for (byte, c) in text.char_indices() {
        if seen >= units {
            return byte;
        }
        seen += c.len_utf16();
    }
    text.len()
}

/// The tree as JSON without any `span`: equal for trees that differ only
/// in where their text sat.
pub fn without_spans(script: &ruleconv::kql::ast::Script) -> serde_json::Value {
    fn strip(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                map.remove("span");
                map.values_mut().for_each(strip);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut value = serde_json::to_value(script).expect("AST serializes");
    strip(&mut value);
    value
}
