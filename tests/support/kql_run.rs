//! The independent KQL engine `../shared/tools/kql-run` (duckdb-kql): one process per batch,
//! JSON lines in and out; and the Sentinel table schemas its tables are declared with.

use ruleconv::eval::Row;
use ruleconv::eval::generate::{Columns, Schemas};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub fn shared(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared").join(path)
}

/// What the engine answered for one query.
pub enum Answer {
    Rows {
        columns: Vec<String>,
        rows: Vec<Vec<Json>>,
    },
    /// The engine lacks a construct of the query: says nothing about the query.
    Unsupported(String),
    /// A syntax, schema or runtime error.
    Error(String),
}

/// One query over tables of events.
pub struct Request {
    pub query: String,
    pub now: String,
    /// Table name → (declared columns, rows).
    pub tables: BTreeMap<String, (Columns, Vec<Row>)>,
}

impl Request {
    fn to_json(&self, id: usize) -> Json {
        let tables: serde_json::Map<String, Json> = self
            .tables
            .iter()
            .map(|(name, (columns, rows))| {
                let declared: serde_json::Map<String, Json> = columns.iter().map(|(c, t)| (c.clone(), json!(t))).collect();
                // Only declared columns: the engine refuses others (`Type` is not in every schema).
                let rows: Vec<Json> = rows
                    .iter()
                    .map(|r| {
                        Json::Object(r.iter().filter(|(k, _)| declared.contains_key(*k)).map(|(k, v)| (k.clone(), v.clone())).collect())
                    })
                    .collect();
                (name.clone(), json!({ "columns": declared, "rows": rows }))
            })
            .collect();
        json!({ "id": id, "query": self.query, "now": self.now, "tables": tables })
    }
}

/// Runs every request in one engine process; answers in request order.
pub fn run_all(requests: &[Request]) -> Vec<Answer> {
    let tool = shared("tools/kql-run/kql-run");
    let mut child = Command::new(&tool)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", tool.display()));
    let input: String = requests.iter().enumerate().map(|(i, r)| format!("{}\n", r.to_json(i))).collect();
    let mut stdin = child.stdin.take().expect("kql-run stdin");
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let mut answers: Vec<Option<Answer>> = requests.iter().map(|_| None).collect();
    for line in BufReader::new(child.stdout.take().expect("kql-run stdout")).lines() {
        let line = line.expect("kql-run output");
        let v: Json = serde_json::from_str(&line).unwrap_or_else(|e| panic!("kql-run answered {line:?}: {e}"));
        let id = v["id"].as_u64().expect("answer id") as usize;
        let error = || v["error"].as_str().unwrap_or_default().to_string();
        answers[id] = Some(if v["ok"].as_bool() == Some(true) {
            let columns = v["columns"].as_array().into_iter().flatten().filter_map(|c| c.as_str().map(String::from)).collect();
            let rows = v["rows"].as_array().into_iter().flatten().map(|r| r.as_array().cloned().unwrap_or_default()).collect();
            Answer::Rows { columns, rows }
        } else if v["unsupported"].as_bool() == Some(true) {
            Answer::Unsupported(error())
        } else {
            Answer::Error(error())
        });
    }
    writer.join().expect("writer thread").expect("write to kql-run");
    assert!(child.wait().expect("kql-run exit").success(), "kql-run failed");
    answers.into_iter().enumerate().map(|(i, a)| a.unwrap_or_else(|| panic!("no answer for request {i}"))).collect()
}

/// Column types of the Sentinel tables: the design reference first, then the connector tables.
pub fn schemas() -> Schemas {
    let mut schemas = Schemas::new();
    let path = shared("design/reference/sentinel-table-schemas.json");
    let reference = read_json(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    for (table, spec) in reference.as_object().into_iter().flatten() {
        let columns = spec["columns"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| Some((c[0].as_str()?.to_string(), engine_type(c[1].as_str()?))));
        schemas.insert(table.clone(), columns.collect());
    }
    let dir = shared("corpus/sentinel-tables");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).into_iter().flatten().filter_map(|e| e.ok().map(|e| e.path())).collect();
    files.sort();
    for file in files {
        // A few connector files are not strict JSON (trailing commas); the reference covers most tables.
        let Ok(spec) = read_json(&file) else { continue };
        let Some(table) = spec["Name"].as_str() else { continue };
        let columns = spec["Properties"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| Some((c["Name"].as_str()?.to_string(), engine_type(c["Type"].as_str()?))));
        schemas.entry(table.to_string()).or_insert_with(|| columns.collect());
    }
    // Every Log Analytics table also has the standard columns, which the schema files leave out.
    for columns in schemas.values_mut() {
        for standard in ["Type", "TenantId", "_ResourceId", "_ItemId", "_SubscriptionId"] {
            if !columns.iter().any(|(name, _)| name == standard) {
                columns.push((standard.to_string(), "string".to_string()));
            }
        }
    }
    schemas
}

fn read_json(path: &Path) -> Result<Json, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    serde_json::from_str(&text).map_err(|e| e.to_string())
}

/// A schema's type name in the engine's vocabulary.
fn engine_type(name: &str) -> String {
    match name.to_ascii_lowercase().as_str() {
        "string" | "uri" => "string",
        "int" | "int32" => "int",
        "long" | "int64" => "long",
        "real" | "double" | "float" | "decimal" => "real",
        "bool" | "boolean" => "bool",
        "datetime" => "datetime",
        "timespan" => "timespan",
        "guid" => "guid",
        _ => "dynamic",
    }
    .to_string()
}
