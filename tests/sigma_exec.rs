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
#[path = "support/sigma_run.rs"]
mod sigma_run;

use kql_run::{Answer, Request};
use ruleconv::convert;
use ruleconv::eval::{self, Row, Table, generate, time};
use ruleconv::ir::Detection;
use ruleconv::ir::detection::{Match, Predicate, Value};
use ruleconv::targets::{EmitOptions, Target, Verdict};
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
        eprintln!("skipped: ../shared (corpus and kql-run) is absent");
        return;
    }
    let cases = corpus_cases();
    assert!(!cases.is_empty(), "no case: are the table schemas in ../shared/design/reference?");
    let requests: Vec<(&str, &[Row])> = cases.iter().map(|c| (c.sigma.as_str(), c.sigma_events.as_slice())).collect();
    let sigma = sigma_run::verdicts(&kql_run::shared("tools/sigma-run/sigma-run"), &requests);
    let (kql, kql_refusals) = kql_rows(&cases);

    // (judge, exact) → (rules, agreeing on every event)
    let mut tally: BTreeMap<(Judge, bool), (usize, usize)> = BTreeMap::new();
    let mut disagreements = Vec::new();
    let mut events = 0;
    for ((case, sigma), kql) in cases.iter().zip(&sigma).zip(&kql) {
        events += case.events.len();
        let (judge, outcome) = match (sigma, kql) {
            (Err(e), _) => (if kql.is_some() { Judge::KqlRun } else { Judge::OurEvaluator }, Err(format!("sigma-run: {e}"))),
            (Ok(matches), Some((columns, rows))) => (Judge::KqlRun, same_selection(case, matches, columns, rows)),
            (Ok(matches), None) => (Judge::OurEvaluator, same_verdicts(case, matches)),
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

/// Floors from the measured run (see the README), less a small margin.
const MIN_AGAINST_KQL_RUN: usize = 240;
const MIN_AGREEMENT: f64 = 0.69;

/// The corpus rules this check can judge, with their events.
fn corpus_cases() -> Vec<Case> {
    let schemas = kql_run::schemas();
    let now = time::parse_datetime(NOW).expect("pinned now");
    let profile = SigmaProfile::load();
    let target = Target::from_name("sigma").expect("registered");
    let files = convert::expand_inputs(&[kql_run::shared("corpus/sentinel")]);
    let read = convert::read_all(&files, None);
    let (records, converted) = convert::convert(&read, target, &EmitOptions::default());
    let mut cases = Vec::new();
    for rule in &converted {
        let detection = &rule.detection;
        let single = detection.sources.len() == 1 && detection.stages.is_empty() && detection.sources[0].tables.len() == 1;
        // One Sigma document: a rule split per Windows event (or a correlation) is several.
        if !single || rule.text.contains("\n---\n") {
            continue;
        }
        let table = detection.sources[0].tables[0].clone();
        let look_back = look_back_columns(detection);
        let Some(renames) = profile.renames(&table, &rule.text) else { continue };
        let events: Vec<Row> = generate::scenarios(detection, &schemas, now)
            .into_iter()
            .flatten()
            .take(MAX_EVENTS)
            .map(|mut event| {
                look_back.iter().for_each(|column| _ = event.insert(column.clone(), json!(EVENT_TIME)));
                event
            })
            .collect();
        let unwindowed = without_look_back(detection);
        let Ok(ours) =
            events.iter().map(|e| eval::evaluate(&unwindowed, std::slice::from_ref(e), now).map(|t| !t.rows.is_empty())).collect()
        else {
            continue;
        };
        let tested = tested_columns(detection);
        let sigma_events = events.iter().map(|e| rename(e, &renames, &tested)).collect();
        let Some(query) = rule.rule.kql().map(|q| q.text.clone()) else { continue };
        cases.push(Case {
            label: rule.rule.label(),
            exact: records[rule.record].fidelity == Some(Verdict::Exact),
            sigma: rule.text.clone(),
            query,
            table: table.clone(),
            events,
            sigma_events,
            ours,
            columns: schemas.get(&table).into_iter().flatten().map(|(c, _)| c.clone()).collect(),
            computed: detection.sources[0].computed.iter().map(|c| c.name.clone()).collect(),
        });
    }
    cases
}

/// `targets/sigma.yaml`, read here rather than through the library so that the check does not
/// trust the code it checks: entries by table (or `table/EventID`), each a logsource and the
/// columns that take another name in Sigma.
struct SigmaProfile {
    entries: Vec<(String, Json, HashMap<String, String>)>,
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
                let fields = entry["fields"].as_object().into_iter().flatten();
                let fields = fields.filter_map(|(column, name)| Some((column.clone(), name.as_str()?.to_string()))).collect();
                (scope.clone(), entry["logsource"].clone(), fields)
            })
            .collect();
        SigmaProfile { entries }
    }

    /// The column renames of the profile entry whose logsource the emitted Sigma carries; none
    /// for the custom logsource of a table the profile does not list. `None` when the Sigma's
    /// logsource is neither (the check would not know how to name the fields).
    fn renames(&self, table: &str, sigma: &str) -> Option<HashMap<String, String>> {
        let document = ruleconv::yaml::parse_documents(sigma).ok()?.into_iter().next()?.to_json();
        let logsource = &document["logsource"];
        if logsource["product"] == "sentinel" {
            return Some(HashMap::new());
        }
        let own = |scope: &str| scope == table || scope.strip_prefix(table).is_some_and(|rest| rest.starts_with('/'));
        let same = |expected: &Json| expected.as_object().is_some_and(|e| e.iter().all(|(k, v)| &logsource[k] == v));
        self.entries.iter().find(|(scope, expected, _)| own(scope) && same(expected)).map(|(_, _, fields)| fields.clone())
    }
}

/// The event with its fields named as in Sigma. Where two columns take one Sigma name, the one
/// the rule tests keeps it.
fn rename(event: &Row, renames: &HashMap<String, String>, tested: &BTreeSet<String>) -> Row {
    let mut renamed = Row::new();
    let mut owner: HashMap<String, &String> = HashMap::new();
    for (column, value) in event {
        let name = renames.get(column).unwrap_or(column);
        if owner.get(name).is_some_and(|held| tested.contains(*held)) {
            continue;
        }
        owner.insert(name.clone(), column);
        renamed.insert(name.clone(), value.clone());
    }
    renamed
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

/// Against our evaluator: the same verdict on every event; else the first event judged apart.
fn same_verdicts(case: &Case, matches: &[bool]) -> Result<(), String> {
    let Some(first) = (0..case.ours.len()).find(|i| matches.get(*i) != case.ours.get(*i)) else { return Ok(()) };
    let event = &case.sigma_events[first];
    let shown = Json::Object(event.iter().filter(|(_, v)| !v.is_null() && *v != "").map(|(k, v)| (k.clone(), v.clone())).collect());
    Err(format!("sigma {:?}, query {:?} on {shown}", matches.get(first), case.ours[first]))
}

/// What kql-run returned: column names and rows.
type Rows = (Vec<String>, Vec<Vec<Json>>);

/// The rows the query returns in kql-run on all of a case's events (one request per case),
/// `None` for a case it cannot run; and how often each reason for that came up.
fn kql_rows(cases: &[Case]) -> (Vec<Option<Rows>>, HashMap<String, usize>) {
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
        let columns = columns.iter().filter(|(c, _)| named.contains(c.as_str()) || filled(c)).cloned().collect();
        let tables = BTreeMap::from([(case.table.clone(), (columns, case.events.clone()))]);
        request_of.push(Some(requests.len()));
        requests.push(Request { query: case.query.clone(), now: NOW.to_string(), tables });
    }
    let answers = kql_run::run_all(&requests);
    let mut refusals: HashMap<String, usize> = HashMap::new();
    let mut refused = |why: String| {
        *refusals.entry(why.chars().take(80).collect()).or_default() += 1;
        None
    };
    let rows = request_of
        .into_iter()
        .map(|request| match request.map(|r| &answers[r]) {
            None => refused("no table schema".into()),
            Some(Answer::Rows { columns, rows }) => Some((columns.clone(), rows.clone())),
            Some(Answer::Unsupported(why)) => refused(format!("unsupported: {why}")),
            Some(Answer::Error(why)) => refused(format!("error: {why}")),
        })
        .collect();
    (rows, refusals)
}

/// The identifier-like words of a query.
fn words(query: &str) -> BTreeSet<&str> {
    query.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| !w.is_empty()).collect()
}
