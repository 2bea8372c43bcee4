//! Execution check of `--to sigma` on generated events (skipped when ../shared is absent): for
//! corpus rules with one event source and no correlation stage, on a table whose columns keep
//! their names in Sigma (a custom logsource), every generated event is judged by the Sigma rule
//! in `../shared/tools/sigma-run` (rsigma, independent of ruleconv) and by the rule's Detection
//! in our evaluator (`ruleconv::eval`, itself checked against kql-run in exec_kql_run.rs).
//! Every `exact` rule must agree on every event; the agreement of the others is reported.

// Only the shared paths and the table schemas are used here, not the engine.
#[path = "support/kql_run.rs"]
#[allow(dead_code)]
mod kql_run;
#[path = "support/sigma_run.rs"]
mod sigma_run;

use ruleconv::convert;
use ruleconv::eval::{self, Row, generate, time};
use ruleconv::ir::Detection;
use ruleconv::ir::detection::{Predicate, Value};
use ruleconv::targets::{EmitOptions, Target, Verdict};
use serde_json::Value as Json;

const NOW: &str = "2024-05-01T12:00:00Z";
/// At most this many events per rule, to keep the run short.
const MAX_EVENTS: usize = 60;

struct Case {
    label: String,
    exact: bool,
    sigma: String,
    events: Vec<Row>,
    /// Our evaluator's verdict per event.
    expected: Vec<bool>,
}

#[test]
fn sigma_rules_match_the_events_their_queries_match() {
    if !kql_run::shared("corpus/sentinel").is_dir() {
        eprintln!("skipped: ../shared/corpus/sentinel is absent");
        return;
    }
    let schemas = kql_run::schemas();
    let now = time::parse_datetime(NOW).expect("pinned now");
    let target = Target::from_name("sigma").expect("registered");
    let files = convert::expand_inputs(&[kql_run::shared("corpus/sentinel")]);
    let read = convert::read_all(&files, None);
    let (records, converted) = convert::convert(&read, target, &EmitOptions::default());
    let mut cases = Vec::new();
    for rule in &converted {
        let detection = &rule.detection;
        let single = detection.sources.len() == 1 && detection.stages.is_empty() && detection.sources[0].tables.len() == 1;
        if !single || !rule.text.contains("  product: sentinel\n") || rule.text.contains("\n---\n") {
            continue;
        }
        let events: Vec<Row> = generate::scenarios(detection, &schemas, now).into_iter().flatten().take(MAX_EVENTS).collect();
        // The Sigma leaves the look-back to the backend's schedule (a reported change), so the
        // query is judged without it too.
        let unwindowed = without_look_back(detection);
        let Ok(expected) =
            events.iter().map(|e| eval::evaluate(&unwindowed, std::slice::from_ref(e), now).map(|t| !t.rows.is_empty())).collect()
        else {
            continue;
        };
        let verdict = records[rule.record].fidelity;
        cases.push(Case { label: rule.rule.label(), exact: verdict == Some(Verdict::Exact), sigma: rule.text.clone(), events, expected });
    }
    if cases.is_empty() {
        eprintln!("skipped: no case (no schemas?)");
        return;
    }
    let requests: Vec<(&str, &[Row])> = cases.iter().map(|c| (c.sigma.as_str(), c.events.as_slice())).collect();
    let answers = sigma_run::verdicts(&kql_run::shared("tools/sigma-run/sigma-run"), &requests);
    let (mut agreeing, mut exact_failures, mut events) = (0, Vec::new(), 0);
    for (case, answer) in cases.iter().zip(&answers) {
        events += case.events.len();
        let agrees = answer.as_ref().is_ok_and(|m| *m == case.expected);
        agreeing += usize::from(agrees);
        if case.exact && !agrees {
            let first = answer.as_ref().ok().and_then(|m| diff(m, &case.expected).first().copied());
            let event = first.and_then(|i| case.events.get(i)).map(|e| Json::Object(e.clone()).to_string()).unwrap_or_default();
            exact_failures.push(format!("{}: {:?} (ours {:?}) first: {event}", case.label, answer, case.expected));
        }
    }
    let exact = cases.iter().filter(|c| c.exact).count();
    eprintln!(
        "sigma exec: {} rules ({exact} exact) on {events} events, against our evaluator: {agreeing} agree on every event ({:.1}%)",
        cases.len(),
        100.0 * agreeing as f64 / cases.len() as f64
    );
    exact_failures.iter().for_each(|f| eprintln!("  exact but disagrees: {}", f.chars().take(300).collect::<String>()));
    // Every disagreement seen so far (bool columns compared with `1`, paths into dynamic
    // columns, the look-back) is a reported loss or change; an `exact` rule must agree.
    assert!(exact_failures.is_empty(), "exact rules that disagree:\n{}", exact_failures.join("\n"));
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

/// Indexes of the events judged differently.
fn diff(sigma: &[bool], ours: &[bool]) -> Vec<usize> {
    (0..sigma.len().max(ours.len())).filter(|i| sigma.get(*i) != ours.get(*i)).collect()
}
