//! `../shared/tools/sigma-run` (rsigma, independent of ruleconv) as a judge: one process for
//! every case, and per case the first detection rule's verdict on each event.

use ruleconv::eval::Row;
use serde_json::{Value as Json, json};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

/// `cases`: (the Sigma text, its events).
pub fn verdicts(tool: &Path, cases: &[(&str, &[Row])]) -> Vec<Result<Vec<bool>, String>> {
    let mut child = Command::new(tool).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("sigma-run starts");
    let input: String = cases
        .iter()
        .enumerate()
        .map(|(i, (rule, events))| format!("{}\n", json!({"id": i.to_string(), "rule": rule, "events": events})))
        .collect();
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let answers: Vec<Result<Vec<bool>, String>> = BufReader::new(child.stdout.take().expect("stdout"))
        .lines()
        .map(|line| {
            let answer: Json = serde_json::from_str(&line.map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
            let matches = answer["rules"][0]["matches"].as_array().ok_or_else(|| answer.to_string())?;
            Ok(matches.iter().map(|m| m.as_bool() == Some(true)).collect())
        })
        .collect();
    writer.join().expect("writer").expect("written");
    child.wait().expect("sigma-run exits");
    assert_eq!(answers.len(), cases.len(), "one answer per case");
    answers
}
