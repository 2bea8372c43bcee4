//! Execution check of `--to sigma` (skipped when ../shared is absent): the Sigma we emit and the
//! query it came from, run by engines that are not ours, on the same generated events.
//!
//! For corpus rules with one event source on one table and no correlation stage, events are
//! generated from the rule's Detection (matches and near misses, typed by the table schemas).
//! The Sigma rule runs in `../shared/tools/sigma-run` (rsigma) on the events with their fields
//! renamed as `targets/sigma.yaml` names them; the ORIGINAL query runs in
//! `../shared/tools/kql-run` (duckdb-kql) on the same events, and must return exactly the events
//! the Sigma rule matched (compared as rows, see `same_selection`). Where kql-run cannot run the
//! query, the Sigma is compared with our evaluator on the rule's Detection instead, counted
//! apart. Every `exact` rule must agree on every event; the agreement of the others is reported.
//!
//! The Sigma leaves the look-back (`TimeGenerated > ago(1d)`) to the backend's schedule, a
//! reported change, so every event is stamped inside any look-back.

#[path = "support/kql_run.rs"]
mod kql_run;
#[path = "support/same_rows.rs"]
mod same_rows;
#[path = "support/shared.rs"]
mod shared;
#[path = "support/sigma_run.rs"]
mod sigma_run;

use kql_run::{Answer, Request};
use ruleconv::convert;
use ruleconv::emit::{EmitOptions, Target, Verdict};
use ruleconv::eval::generate::{self, Columns, Schemas};
use ruleconv::eval::{self, Row, Table, time};
use ruleconv::ir::Detection;
use ruleconv::ir::detection::{Aggregate, Match, Predicate, Stage, Value};
use serde_json::{Value as Json, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};

const NOW: &str = "2024-05-01T12:00:00Z";
/// When every event happened: a minute before `NOW`, inside any look-back a rule has.
const EVENT_TIME: &str = "2024-05-01T11:59:00Z";
/// At most this many events per rule, to keep the run short.
const MAX_EVENTS: usize = 40;

struct Case {
    label: String,
    exact: bool,
    sigma: String,
    query: String,
    table: String,
    /// Named as the table's columns (for the query and our evaluator).
    events: Vec<Row>,
    /// The same events named as the Sigma rule names fields.
    sigma_events: Vec<Row>,
    /// Our evaluator's verdicts, the fallback judge where kql-run cannot run the query.
    ours: Vec<bool>,
    /// The query summarizes its events, so kql-run judges them one at a time.
    grouped: bool,
    /// The table's columns, and those the query computes (its rows' other columns).
    columns: BTreeSet<String>,
    computed: BTreeSet<String>,
}

/// Who judged the query's side of a case.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Judge {
    KqlRun,
    OurEvaluator,
}

#[test]
fn sigma_rules_match_the_events_their_queries_match() {
    if !kql_run::shared("corpus/sentinel").is_dir() || !kql_run::shared("tools/kql-run/kql-run").is_file() {
        shared::say_skipped("../shared (corpus and kql-run) is absent");
        return;
    }
    let (cases, exact_skipped) = corpus_cases();
    assert!(!cases.is_empty(), "no case: are the table schemas in ../shared/design/reference?");
    let requests: Vec<(&str, &[Row])> = cases.iter().map(|c| (c.sigma.as_str(), c.sigma_events.as_slice())).collect();
    let sigma = sigma_run::verdicts(&kql_run::shared("tools/sigma-run/sigma-run"), &requests);
    let (kql, kql_refusals) = kql_answers(&cases);

    // (judge, exact) → (rules, agreeing on every event)
    let mut tally: BTreeMap<(Judge, bool), (usize, usize)> = BTreeMap::new();
    let mut disagreements = Vec::new();
    let mut events = 0;
    for ((case, sigma), kql) in cases.iter().zip(&sigma).zip(&kql) {
        events += case.events.len();
        let (judge, outcome) = match (sigma, kql) {
            (Err(e), _) => (if kql.is_some() { Judge::KqlRun } else { Judge::OurEvaluator }, Err(format!("sigma-run: {e}"))),
            (Ok(matches), Some(KqlAnswer::Rows(columns, rows))) => (Judge::KqlRun, same_selection(case, matches, columns, rows)),
            (Ok(matches), Some(KqlAnswer::Verdicts(verdicts))) => (Judge::KqlRun, same_verdicts(case, matches, verdicts)),
            (Ok(matches), None) => (Judge::OurEvaluator, same_verdicts(case, matches, &case.ours)),
        };
        let entry = tally.entry((judge, case.exact)).or_default();
        entry.0 += 1;
        entry.1 += usize::from(outcome.is_ok());
        if let Err(detail) = outcome {
            let detail: String = format!("{}: {detail}", case.label).chars().take(400).collect();
            disagreements.push((case.exact, judge, detail));
        }
    }
    let (rules, agreeing): (usize, usize) = tally.values().fold((0, 0), |(r, a), (rr, aa)| (r + rr, a + aa));
    eprintln!(
        "sigma exec: {rules} rules on {events} events; {agreeing} agree on every event ({:.1}%)",
        100.0 * agreeing as f64 / rules as f64
    );
    for ((judge, exact), (rules, agreeing)) in &tally {
        let verdict = if *exact { "exact" } else { "approximate" };
        eprintln!("  against {judge:?}, {verdict}: {rules} rules, {agreeing} agree");
    }
    exact_skipped.iter().for_each(|(why, n)| eprintln!("  exact rules not executed x{n}: {why}"));
    let mut refusals: Vec<(&String, &usize)> = kql_refusals.iter().collect();
    refusals.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    refusals.iter().take(6).for_each(|(why, n)| eprintln!("  kql-run could not run x{n}: {why}"));
    disagreements.iter().for_each(|(exact, judge, detail)| eprintln!("  disagree ({judge:?}, exact: {exact}): {detail}"));

    let exact_failures: Vec<&String> = disagreements.iter().filter(|(exact, _, _)| *exact).map(|(_, _, d)| d).collect();
    assert!(exact_failures.is_empty(), "exact rules that disagree: {exact_failures:#?}");
    let against_kql_run: usize = tally.iter().filter(|((j, _), _)| *j == Judge::KqlRun).map(|(_, (r, _))| r).sum();
    assert!(against_kql_run >= MIN_AGAINST_KQL_RUN, "{against_kql_run} rules compared against kql-run");
    assert!(
        agreeing as f64 >= MIN_AGREEMENT * rules as f64,
        "agreement {agreeing} of {rules} below the floor {:.0}%",
        MIN_AGREEMENT * 100.0
    );
}

/// Floors from the measured run (see docs/evidence.md), less a small margin.
const MIN_AGAINST_KQL_RUN: usize = 290;
const MIN_AGREEMENT: f64 = 0.67;

/// The corpus rules this check can judge, with their events.
fn corpus_cases() -> (Vec<Case>, BTreeMap<&'static str, usize>) {
    let schemas = kql_run::schemas();
    let now = time::parse_datetime(NOW).expect("pinned now");
    let profile = SigmaProfile::load();
    let target = Target::from_name("sigma").expect("registered");
    let files = convert::expand_inputs(&[kql_run::shared("corpus/sentinel")]);
    let read = convert::read_all(&files, None);
    let (records, converted) = convert::convert(&read, target, &EmitOptions::default());
    let mut cases = Vec::new();
    // Why `exact` rules were left out, so the note on what is proven stays honest.
    let mut exact_skipped: BTreeMap<&'static str, usize> = BTreeMap::new();
    for rule in &converted {
        let exact = records[rule.record].fidelity == Some(Verdict::Exact);
        match corpus_case(rule, &profile, &schemas, now) {
            Ok(case) => cases.push(Case { exact, ..case }),
            Err(why) if exact => *exact_skipped.entry(why).or_default() += 1,
            Err(_) => {}
        }
    }
    (cases, exact_skipped)
}

/// The case of one converted rule, or why the check cannot judge it.
fn corpus_case(rule: &convert::Converted, profile: &SigmaProfile, schemas: &Schemas, now: i64) -> Result<Case, &'static str> {
    let detection = &rule.detection;
    if detection.sources.len() != 1 || detection.sources[0].tables.len() != 1 {
        return Err("several event sources or tables");
    }
    // A summarize without a threshold returns a row when any event matches: the Sigma base
    // rule's meaning, judged event by event. A threshold or a join is a Sigma correlation.
    let grouped = match detection.stages.as_slice() {
        [] => false,
        stages if stages.iter().all(|s| matches!(s, Stage::Extend { .. } | Stage::Aggregate(Aggregate { threshold: None, .. }))) => true,
        _ => return Err("a correlation or a later condition (sigma-run does not evaluate correlations)"),
    };
    // One Sigma document: a rule split per Windows event is several, each named its own way.
    if rule.text.contains("\n---\n") {
        return Err("several Sigma documents");
    }
    let table = detection.sources[0].tables[0].clone();
    let view = profile.view(&table, &rule.text).ok_or("a logsource the profile does not list")?;
    let look_back = look_back_columns(detection);
    let events: Vec<Row> = generate::scenarios(detection, schemas, now)
        .into_iter()
        .flatten()
        .filter_map(|event| view.realistic(event))
        .take(MAX_EVENTS)
        .map(|mut event| {
            look_back.iter().for_each(|column| _ = event.insert(column.clone(), json!(EVENT_TIME)));
            event
        })
        .collect();
    if events.is_empty() {
        return Err("no table schema to type events with");
    }
    let unwindowed = without_look_back(detection);
    let ours = events
        .iter()
        .map(|e| eval::evaluate(&unwindowed, std::slice::from_ref(e), now).map(|t| !t.rows.is_empty()))
        .collect::<Result<Vec<bool>, _>>()
        .map_err(|_| "our evaluator cannot run the Detection")?;
    let tested = tested_columns(detection);
    let sigma_events = events.iter().map(|e| rename(e, &view.renames, &tested)).collect();
    let query = rule.rule.kql().map(|q| q.text.clone()).ok_or("no query")?;
    Ok(Case {
        label: rule.rule.label(),
        exact: false,
        grouped,
        sigma: rule.text.clone(),
        query,
        columns: schemas.get(&table).into_iter().flatten().map(|(c, _)| c.clone()).collect(),
        computed: detection.sources[0].computed.iter().map(|c| c.name.clone()).collect(),
        table,
        events,
        sigma_events,
        ours,
    })
}

/// A column's Sigma name, and the form its value takes there (`None`: as it is).
type SigmaName = (String, Option<String>);

/// `targets/sigma.yaml`, read here rather than through the library so that the check does not
/// trust the code it checks: entries by table (or `table/value`), each a logsource and the
/// columns that take another name in Sigma.
struct SigmaProfile {
    entries: Vec<(String, Json, HashMap<String, SigmaName>)>,
    /// The column telling a table's events apart, for tables with `table/value` entries.
    selectors: HashMap<String, String>,
}

/// How the Sigma side sees a table's events: field names and forms, and, for an entry whose
/// logsource is one value of a column (`Event/Application`), that column and value: events
/// with another value are in another log, which the Sigma rule never reads.
struct SigmaView {
    renames: HashMap<String, SigmaName>,
    log: Option<(String, String)>,
}

impl SigmaView {
    /// The event as Defender or Windows could log it, or `None` when it is in another log than
    /// the entry's: a path column then ends with the file name a column of the same event gives
    /// (Defender's `FolderPath` holds the file's whole path; generated events may not).
    fn realistic(&self, mut event: Row) -> Option<Row> {
        let text = |event: &Row, column: &str| event.get(column).and_then(Json::as_str).map(str::to_string);
        // The log's value may be a number (SecurityEvent's `EventID`).
        let logged = |event: &Row, column: &str| {
            event.get(column).filter(|v| !v.is_null()).map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
        };
        // An event without the log's value is in no log of the entry's either.
        if self.log.as_ref().is_some_and(|(column, value)| logged(&event, column).is_none_or(|v| !v.eq_ignore_ascii_case(value))) {
            return None;
        }
        for (column, (field, _)) in self.renames.iter().filter(|(_, (_, form))| form.as_deref() == Some("basename")) {
            let path = self.renames.iter().find(|(_, (f, form))| f == field && form.is_none()).map(|(p, _)| p.clone());
            let Some((path, name)) = path.zip(text(&event, column)) else { continue };
            if let Some(folder) = text(&event, &path).filter(|p| !p.to_lowercase().ends_with(&format!("\\{}", name.to_lowercase()))) {
                event.insert(path, json!(format!("{folder}\\{name}")));
            }
        }
        Some(event)
    }
}

impl SigmaProfile {
    fn load() -> SigmaProfile {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/targets/sigma.yaml")).expect("profile");
        let data = ruleconv::yaml::parse_documents(&text).expect("profile parses")[0].to_json();
        let entries = data["tables"]
            .as_object()
            .expect("tables")
            .iter()
            .map(|(scope, entry)| {
                // A `table/value` entry without fields takes the table's.
                let table = scope.split('/').next().unwrap_or(scope);
                let fields = entry["fields"].as_object().or_else(|| data["tables"][table]["fields"].as_object()).into_iter().flatten();
                let fields = fields
                    .filter_map(|(column, name)| {
                        let named = match name {
                            Json::String(field) => (field.clone(), None),
                            _ => (name["field"].as_str()?.to_string(), Some(name["form"].as_str()?.to_string())),
                        };
                        Some((column.clone(), named))
                    })
                    .collect();
                (scope.clone(), entry["logsource"].clone(), fields)
            })
            .collect();
        let selectors = data["selectors"].as_object().into_iter().flatten();
        let selectors = selectors.filter_map(|(table, column)| Some((table.clone(), column.as_str()?.to_string()))).collect();
        SigmaProfile { entries, selectors }
    }

    /// The column renames of the profile entry whose logsource the emitted Sigma carries; none
    /// for the custom logsource of a table the profile does not list. `None` when the Sigma's
    /// logsource is neither (the check would not know how to name the fields).
    fn view(&self, table: &str, sigma: &str) -> Option<SigmaView> {
        let document = ruleconv::yaml::parse_documents(sigma).ok()?.into_iter().next()?.to_json();
        let logsource = &document["logsource"];
        if logsource["product"] == "sentinel" {
            return Some(SigmaView { renames: HashMap::new(), log: None });
        }
        let own = |scope: &str| scope == table || scope.strip_prefix(table).is_some_and(|rest| rest.starts_with('/'));
        let same = |expected: &Json| expected.as_object().is_some_and(|e| e.iter().all(|(k, v)| &logsource[k] == v));
        let (scope, _, fields) = self.entries.iter().find(|(scope, expected, _)| own(scope) && same(expected))?;
        let value = scope.strip_prefix(table).and_then(|rest| rest.strip_prefix('/'));
        let log = value.and_then(|value| Some((self.selectors.get(table)?.clone(), value.to_string())));
        Some(SigmaView { renames: fields.clone(), log })
    }
}

/// The event with its fields named as in Sigma, each value in the form Sysmon writes it. Where
/// two columns take one Sigma name, a whole value (a path) keeps it over a part of one (a file
/// name), else the one the rule tests keeps it.
fn rename(event: &Row, renames: &HashMap<String, SigmaName>, tested: &BTreeSet<String>) -> Row {
    let mut renamed = Row::new();
    let mut owner: HashMap<String, (&String, bool)> = HashMap::new();
    for (column, value) in event {
        let (name, form) = renames.get(column).map(|(name, form)| (name, form.as_deref())).unwrap_or((column, None));
        let keeps = |(held, whole): &(&String, bool)| (*whole && form.is_some()) || (*whole == form.is_none() && tested.contains(*held));
        if owner.get(name).is_some_and(keeps) {
            continue;
        }
        owner.insert(name.clone(), (column, form.is_none()));
        let value = match (form, value.as_str()) {
            (Some(form), Some(text)) => json!(sysmon_form(form, text)),
            _ => value.clone(),
        };
        renamed.insert(name.clone(), value);
    }
    renamed
}

/// A Defender value as Sysmon's field holds it, from the two vendors' documentation (Defender's
/// advanced hunting schema; Sysmon's event fields): a file name inside a full path, an account
/// inside `DOMAIN\name`, one hash inside `Hashes`, a registry key with short hive names and
/// then a value name.
fn sysmon_form(form: &str, value: &str) -> String {
    const HIVES: [(&str, &str); 4] =
        [("HKEY_LOCAL_MACHINE", "HKLM"), ("HKEY_USERS", "HKU"), ("HKEY_CURRENT_USER", "HKU"), ("HKEY_CLASSES_ROOT", "HKCR")];
    match form {
        "basename" => format!(r"C:\Folder\{value}"),
        "account-name" | "security-account-name" => format!(r"DOMAIN\{value}"),
        "account-domain" => format!(r"{value}\user"),
        "sha256" | "sha1" | "md5" => format!("{}={value}", form.to_ascii_uppercase()),
        "registry-key" => {
            let upper = value.to_ascii_uppercase();
            let short =
                HIVES.iter().find(|(long, _)| upper.starts_with(long)).map(|(long, short)| format!("{short}{}", &value[long.len()..]));
            format!(r"{}\Value", short.unwrap_or_else(|| value.to_string()))
        }
        "registry-value-name" => format!(r"HKLM\Key\{value}"),
        _ => value.to_string(),
    }
}

/// The columns the Detection's filter tests.
fn tested_columns(detection: &Detection) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    detection.sources.iter().for_each(|s| walk_matches(&s.filter, &mut |m| _ = out.insert(m.field.name.clone())));
    out
}

/// The columns tested against `ago(...)` or `now()`: the look-back's time columns.
fn look_back_columns(detection: &Detection) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    detection.sources.iter().for_each(|s| {
        walk_matches(&s.filter, &mut |m| {
            if m.values.iter().any(|v| matches!(v, Value::Ago(_) | Value::Now)) {
                out.insert(m.field.name.clone());
            }
        })
    });
    out
}

/// Calls `visit` on every field test of a predicate.
fn walk_matches(predicate: &Predicate, visit: &mut impl FnMut(&Match)) {
    match predicate {
        Predicate::Match(m) => visit(m),
        Predicate::And(parts) | Predicate::Or(parts) => parts.iter().for_each(|p| walk_matches(p, visit)),
        Predicate::Not(inner) => walk_matches(inner, visit),
        Predicate::Opaque { .. } => {}
    }
}

/// The detection without its time-window tests (`TimeGenerated > ago(1d)` and the like).
fn without_look_back(detection: &Detection) -> Detection {
    fn strip(predicate: &Predicate) -> Predicate {
        match predicate {
            Predicate::Match(m) if m.values.iter().any(|v| matches!(v, Value::Ago(_) | Value::Now)) => Predicate::always(),
            Predicate::And(parts) => Predicate::And(parts.iter().map(strip).collect()),
            Predicate::Or(parts) => Predicate::Or(parts.iter().map(strip).collect()),
            Predicate::Not(inner) => Predicate::Not(Box::new(strip(inner))),
            other => other.clone(),
        }
    }
    let mut unwindowed = detection.clone();
    unwindowed.sources.iter_mut().for_each(|source| source.filter = strip(&source.filter));
    unwindowed
}

/// Against kql-run: the query returned the events the Sigma rule matched. The returned rows
/// are compared as multisets with the matched events on the event columns the query returns
/// (a column it computes is left out), so the check holds however the query projects.
fn same_selection(case: &Case, matches: &[bool], columns: &[String], rows: &[Vec<Json>]) -> Result<(), String> {
    let schema = &case.columns;
    let kept = columns.iter().filter(|c| schema.contains(*c) && !case.computed.contains(*c)).cloned().collect();
    let matched = case.events.iter().zip(matches).filter(|(_, m)| **m).map(|(e, _)| e.clone()).collect();
    let selected = Table { columns: kept, not_evaluated: Vec::new(), rows: matched };
    same_rows::compare(&selected, columns, rows).map_err(|difference| difference.replace("ours", "sigma"))
}

/// The same verdict on every event; else the first event judged apart.
fn same_verdicts(case: &Case, matches: &[bool], expected: &[bool]) -> Result<(), String> {
    let Some(first) = (0..expected.len()).find(|i| matches.get(*i) != expected.get(*i)) else { return Ok(()) };
    let event = &case.sigma_events[first];
    let shown = Json::Object(event.iter().filter(|(_, v)| !v.is_null() && *v != "").map(|(k, v)| (k.clone(), v.clone())).collect());
    Err(format!("sigma {:?}, query {:?} on {shown}", matches.get(first), expected[first]))
}

/// What kql-run said of a case's events.
enum KqlAnswer {
    /// The rows the query returned on all the events (column names and rows).
    Rows(Vec<String>, Vec<Vec<Json>>),
    /// Whether it returned a row on each event alone (for a query that summarizes).
    Verdicts(Vec<bool>),
}

/// kql-run's answer for each case (`None` where it cannot run the query), and how often each
/// reason for that came up. One request per case with all its events, or per event for a
/// query that summarizes (its rows no longer name the events).
fn kql_answers(cases: &[Case]) -> (Vec<Option<KqlAnswer>>, HashMap<String, usize>) {
    let schemas = kql_run::schemas();
    let mut requests = Vec::new();
    let mut request_of = Vec::new();
    for case in cases {
        let Some(columns) = schemas.get(&case.table) else {
            request_of.push(None);
            continue;
        };
        // Only the columns the query names or an event fills: a wide table costs the engine
        // time, and a column neither names nor fills cannot decide anything.
        let named = words(&case.query);
        let filled = |c: &str| case.events.iter().any(|e| e.get(c).is_some_and(|v| !v.is_null()));
        let columns: Columns = columns.iter().filter(|(c, _)| named.contains(c.as_str()) || filled(c)).cloned().collect();
        let batches: Vec<Vec<Row>> =
            if case.grouped { case.events.iter().map(|e| vec![e.clone()]).collect() } else { vec![case.events.clone()] };
        request_of.push(Some(requests.len()..requests.len() + batches.len()));
        for events in batches {
            let tables = BTreeMap::from([(case.table.clone(), (columns.clone(), events))]);
            requests.push(Request { query: case.query.clone(), now: NOW.to_string(), tables });
        }
    }
    let answers = kql_run::run_all(&requests);
    let mut refusals: HashMap<String, usize> = HashMap::new();
    let kql = cases
        .iter()
        .zip(request_of)
        .map(|(case, requests)| {
            let Some(requests) = requests else {
                *refusals.entry("no table schema".into()).or_default() += 1;
                return None;
            };
            let answers = &answers[requests];
            let mut returned = Vec::new();
            for answer in answers {
                let why = match answer {
                    Answer::Rows { columns, rows } => {
                        returned.push((columns, rows));
                        continue;
                    }
                    Answer::Unsupported(why) => format!("unsupported: {why}"),
                    Answer::Error(why) => format!("error: {why}"),
                };
                *refusals.entry(why.chars().take(80).collect()).or_default() += 1;
                return None;
            }
            Some(match returned.as_slice() {
                [(columns, rows)] if !case.grouped => KqlAnswer::Rows(columns.to_vec(), rows.to_vec()),
                each => KqlAnswer::Verdicts(each.iter().map(|(_, rows)| !rows.is_empty()).collect()),
            })
        })
        .collect();
    (kql, refusals)
}

/// The identifier-like words of a query.
fn words(query: &str) -> BTreeSet<&str> {
    query.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| !w.is_empty()).collect()
}
