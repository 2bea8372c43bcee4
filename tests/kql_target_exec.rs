//! Proof by execution of `--to kql` for Sigma rules (skipped when ../shared is absent): for
//! every converted single-source rule without a correlation, events generated from its
//! Detection (matches and near misses) are judged by `../shared/tools/sigma-run` (rsigma) on
//! the rule as written, and by `../shared/tools/kql-run` (duckdb-kql) running the generated
//! query on the same events with their fields renamed to the profile's columns. Where kql-run
//! cannot run the query (or fails on it), our evaluator runs the Detection read back from it,
//! counted apart.

#[path = "support/kql_run.rs"]
#[allow(dead_code)]
mod kql_run;
#[path = "support/shared.rs"]
mod shared;
#[path = "support/sigma_events.rs"]
mod sigma_events;
#[path = "support/sigma_run.rs"]
mod sigma_run;

use kql_run::{Answer, Request};
use ruleconv::convert;
use ruleconv::emit::{EmitOptions, Target, Verdict};
use ruleconv::eval::{self, Row, generate::Columns, time};
use ruleconv::ir::detection::LogSource;
use ruleconv::sentinel::tables;
use serde_json::{Value as Json, json};

const NOW: &str = "2024-05-01T12:00:00Z";
const MAX_EVENTS: usize = 40;
/// The column that numbers the events, so the rows kql-run returns say which events matched.
const EVENT: &str = "ruleconv_event";
/// Measured after both changes (a field the table lacks is tested as absent; image-load version
/// information unmapped): see the merge commit; the rules that disagree, none exact, test a
/// field's absence, which Kusto cannot tell from empty, or a field no column holds (`Signed`,
/// `CurrentDirectory`, image-load version information), which the generated events carry and
/// the query reads as absent: reported losses.
const MIN_AGREEING: usize = 1980;

struct Case {
    label: String,
    sigma: String,
    query: String,
    table: String,
    exact: bool,
    /// Events with the Sigma rule's field names, for sigma-run.
    events: Vec<Row>,
    /// The same events with the profile's column names, numbered in `EVENT`.
    renamed: Vec<Row>,
    columns: Columns,
}

#[test]
fn converted_sigma_selects_what_the_sigma_selects() {
    let dir = kql_run::shared("corpus/sigma/rules");
    if !dir.is_dir() || !kql_run::shared("tools/sigma-run/sigma-run").is_file() {
        shared::say_skipped("../shared sigma corpus or sigma-run is absent");
        return;
    }
    let now = time::parse_datetime(NOW).expect("pinned now");
    let root = ruleconv::yaml::parse_documents(include_str!("../targets/kql.yaml")).expect("profile")[0].to_json();
    let profile = &root["profiles"]["sentinel"];
    let read = convert::read_all(&convert::expand_inputs(&[dir]), None);
    let (records, converted) = convert::convert(&read, Target::from_name("kql").expect("registered"), &EmitOptions::default());
    let mut cases = Vec::new();
    let mut skipped = 0;
    for rule in &converted {
        let (detection, Some(logic)) = (&rule.detection, rule.rule.sigma_logic()) else { continue };
        if detection.sources.len() != 1 || !detection.stages.is_empty() {
            continue;
        }
        let query: String = rule.text.lines().filter(|l| !l.starts_with("//")).collect::<Vec<_>>().join("\n");
        let table = query.lines().next().unwrap_or_default().to_string();
        let (columns, events) = sigma_events::events_for(detection, now, MAX_EVENTS);
        let Some(renames) = renames(profile, &table, &columns) else {
            skipped += 1;
            continue;
        };
        if events.is_empty() {
            continue;
        }
        let logsource = detection.sources[0].logsource.clone().unwrap_or_default();
        let fixed = table_condition(profile, &logsource);
        let elements = event_data(profile, &logsource, &table);
        let renamed = events
            .iter()
            .enumerate()
            .map(|(i, event)| {
                let mut row: Row =
                    event.iter().map(|(k, v)| (renames.iter().find(|(s, _)| s == k).map_or(k, |(_, c)| c).clone(), v.clone())).collect();
                if let Some((column, is_column)) = &elements {
                    let xml = event.iter().filter(|(k, _)| !is_column(k)).map(|(k, v)| data_element(k, v)).collect::<String>();
                    row.retain(|k, _| is_column(k));
                    row.insert(column.clone(), json!(format!("<EventData>{xml}</EventData>")));
                }
                row.insert(EVENT.into(), json!(i));
                row.extend(fixed.iter().map(|(c, v)| (c.clone(), v.clone())));
                row
            })
            .collect();
        let mut columns: Columns =
            columns.iter().map(|(c, t)| (renames.iter().find(|(s, _)| s == c).map_or(c, |(_, k)| k).clone(), t.clone())).collect();
        if let Some((column, is_column)) = &elements {
            columns.retain(|(c, _)| is_column(c));
            columns.push((column.clone(), "string".into()));
        }
        columns.push((EVENT.into(), "long".into()));
        columns.extend(fixed.iter().map(|(c, _)| (c.clone(), "string".to_string())));
        let exact = records[rule.record].fidelity == Some(Verdict::Exact);
        cases.push(Case { label: rule.rule.label(), sigma: logic.text.clone(), query, table, exact, events, renamed, columns });
    }

    let judged: Vec<(&str, &[Row])> = cases.iter().map(|c| (c.sigma.as_str(), c.events.as_slice())).collect();
    let expected = sigma_run::verdicts(&kql_run::shared("tools/sigma-run/sigma-run"), &judged);
    let requests: Vec<Request> = cases
        .iter()
        .map(|c| Request {
            query: c.query.clone(),
            now: NOW.into(),
            tables: [(c.table.clone(), (c.columns.clone(), c.renamed.clone()))].into_iter().collect(),
        })
        .collect();
    let answers = kql_run::run_all(&requests);

    let (mut agree, mut agree_ours, mut ours, mut unjudged) = (0, 0, 0, 0);
    let mut disagreements = Vec::new();
    for ((case, expected), answer) in cases.iter().zip(&expected).zip(&answers) {
        let Ok(expected) = expected else { continue };
        let (selected, by_us) = match answer {
            Answer::Rows { columns, rows } => (selected_events(case, columns, rows), false),
            // An engine error (a limit of duckdb-kql, or a column typed from generated events)
            // is judged like an unsupported construct.
            Answer::Unsupported(_) | Answer::Error(_) => match read_back(case, now) {
                Some(selected) => (Ok(selected), true),
                None => {
                    unjudged += 1;
                    continue;
                }
            },
        };
        ours += usize::from(by_us);
        match selected {
            Ok(selected) if selected == *expected => {
                if by_us {
                    agree_ours += 1
                } else {
                    agree += 1
                }
            }
            other => {
                let first = other.as_ref().ok().and_then(|s| (0..s.len()).find(|i| s[*i] != expected[*i]));
                let event = first.map(|i| Json::Object(case.events[i].clone()).to_string()).unwrap_or_else(|| format!("{other:?}"));
                disagreements.push((
                    case.exact,
                    format!("{}: {}\n    {}", case.label, event.chars().take(300).collect::<String>(), case.query.replace('\n', " ")),
                ));
            }
        }
    }
    let run = cases.len() - ours - unjudged;
    eprintln!(
        "kql exec: {} rules ({skipped} skipped: a field maps to a path or to several columns); kql-run runs {run}: {agree} agree on every event; our evaluator on the read-back Detection for {ours} more: {agree_ours} agree; {unjudged} neither can run",
        cases.len()
    );
    disagreements.iter().take(20).for_each(|(_, d)| eprintln!("  {}", d.chars().take(700).collect::<String>()));
    let exact_disagreeing: Vec<&String> = disagreements.iter().filter(|(exact, _)| *exact).map(|(_, d)| d).collect();
    eprintln!("{} disagree, {} of them exact", disagreements.len(), exact_disagreeing.len());
    assert!(exact_disagreeing.is_empty(), "{} exact rules disagree", exact_disagreeing.len());
    assert!(agree >= MIN_AGREEING, "only {agree} rules agree in kql-run");
}

/// Sigma field → column for the fields the events carry; `None` when one maps to a path into
/// a dynamic column or to several columns (the events would need another shape).
fn renames(profile: &Json, table: &str, columns: &Columns) -> Option<Vec<(String, String)>> {
    columns
        .iter()
        .map(|(field, _)| match &profile["fields"][table][field] {
            Json::Null => Some((field.clone(), field.clone())),
            Json::String(column) if !column.contains('.') => Some((field.clone(), column.clone())),
            _ => None,
        })
        .collect()
}

/// The column and value the logsource's entry requires (`equals: {"EventLog": "System"}`; the
/// first of a list, `{"ActionType": ["FileCreated", ...]}`), which every event of that
/// logsource has.
fn table_condition(profile: &Json, logsource: &LogSource) -> Option<(String, Json)> {
    let keys = [("category", &logsource.category), ("product", &logsource.product), ("service", &logsource.service)];
    let entry = profile["logsources"].as_array()?.iter().find(|e| {
        e["equals"].is_object()
            && keys.iter().all(|(k, v)| e[*k].as_str().is_none_or(|w| v.as_deref().is_some_and(|v| v.eq_ignore_ascii_case(w))))
    })?;
    let (column, value) = entry["equals"].as_object()?.iter().next()?;
    let value = value.as_array().and_then(|values| values.first()).unwrap_or(value);
    Some((column.clone(), value.clone()))
}

/// Whether a field is a column of the table.
type IsColumn = Box<dyn Fn(&str) -> bool>;

/// For a logsource whose fields are a Windows event's EventData (`event_data`), that XML column
/// and which fields are columns of the table instead.
fn event_data(profile: &Json, logsource: &LogSource, table: &str) -> Option<(String, IsColumn)> {
    let keys = [("category", &logsource.category), ("product", &logsource.product), ("service", &logsource.service)];
    let entry = profile["logsources"].as_array()?.iter().find(|e| {
        e["table"] == table
            && keys.iter().all(|(k, v)| e[*k].as_str().is_none_or(|w| v.as_deref().is_some_and(|v| v.eq_ignore_ascii_case(w))))
    })?;
    let column = entry["event_data"].as_str()?.to_string();
    // The table's columns as the schema data lists them (targets/kql-schemas.tsv).
    let schema = tables::table(table)?;
    Some((column, Box::new(move |field: &str| field == EVENT || schema.has_column_any_case(field))))
}

/// A field as the Windows event log writes it in EventData: `<Data Name="X">value</Data>`, the
/// value's XML special characters escaped.
fn data_element(name: &str, value: &Json) -> String {
    let text = match value {
        Json::String(s) => s.clone(),
        Json::Null => String::new(),
        other => other.to_string(),
    };
    let escaped = text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    format!(r#"<Data Name="{name}">{escaped}</Data>"#)
}

/// Which events the returned rows are, by their number.
fn selected_events(case: &Case, columns: &[String], rows: &[Vec<Json>]) -> Result<Vec<bool>, String> {
    let at = columns.iter().position(|c| c == EVENT).ok_or("no event numbers in the rows")?;
    let mut selected = vec![false; case.renamed.len()];
    rows.iter().filter_map(|r| r[at].as_u64()).for_each(|i| selected[i as usize] = true);
    Ok(selected)
}

/// Our evaluator's verdict on each event, for the Detection read back from the query; `None`
/// when it cannot evaluate it either (`ipv6_is_in_range`).
fn read_back(case: &Case, now: i64) -> Option<Vec<bool>> {
    let detection = ruleconv::lower::lower_query(&case.query);
    case.renamed
        .iter()
        .map(|event| {
            let mut event = event.clone();
            event.insert("Type".into(), json!(case.table));
            eval::evaluate(&detection, &[event], now).map(|t| !t.rows.is_empty()).ok()
        })
        .collect()
}
