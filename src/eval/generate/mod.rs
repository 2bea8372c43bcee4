//! Events to test a Detection with: for each source, one event meant to pass its filter, then
//! near misses that change one field at a time (other case, a term boundary moved, one character
//! changed, an excluded value, just outside and just inside a bound, an empty or null value).
//!
//! Which events pass is decided by whoever runs them; the generator only aims. Values follow
//! each column's type in the table schema, so another engine can load the same events, and every
//! event is complete (strings default to `""`, which is what Kusto stores for a missing string).

mod correlation;
mod event;
mod values;

use super::cell::Row;
use super::predicate::{self, Scope};
use super::time::{self, TICKS_PER_SECOND};
use crate::ir::detection::{Detection, Match, Predicate};
use correlation::{align_join_keys, distinct_copy, key_misses, threshold_copies};
use event::set;
use serde_json::{Value as Json, json};
use std::collections::{BTreeMap, BTreeSet};
use values::{aim, avoid, variants};

/// Column name → type, in the vocabulary of `kql-run` (`string`, `long`, `datetime`, `dynamic` ...).
pub type Columns = Vec<(String, String)>;

/// The schemas of the tables a Detection may read.
pub type Schemas = BTreeMap<String, Columns>;

/// At most this many events per scenario, to keep external runs fast.
const MAX_EVENTS: usize = 400;
/// At most this many copies of an event when testing a count threshold.
const MAX_COPIES: i64 = 60;

/// Sets of events to run the Detection on; each set is one scenario. Every event names its
/// table in `Type`. Empty when a source reads a table without a schema.
pub fn scenarios(detection: &Detection, schemas: &Schemas, now: i64) -> Vec<Vec<Row>> {
    let mut bases: Vec<Vec<Row>> = Vec::new();
    for source in &detection.sources {
        let tables: Vec<&String> = source.tables.iter().filter(|t| schemas.contains_key(*t)).take(3).collect();
        if tables.is_empty() {
            return Vec::new();
        }
        let mut scope = Scope::new(now);
        let _ = scope.prepare(&source.filter);
        bases.push(tables.iter().map(|t| base_event(t, &schemas[*t], &source.filter, &scope, now)).collect());
    }
    align_join_keys(detection, &mut bases);
    let mut misses = key_misses(detection, &bases);
    for (source, events) in detection.sources.iter().zip(&bases) {
        for base in events {
            let columns = &schemas[base["Type"].as_str().unwrap_or_default()];
            for leaf in leaves(&source.filter) {
                for value in variants(leaf, base, now) {
                    let mut event = base.clone();
                    if set(&mut event, &leaf.field, value, columns) {
                        misses.push(event);
                    }
                }
            }
        }
    }
    let all_bases: Vec<Row> = bases.iter().flatten().cloned().collect();
    let mut result = vec![dedupe(all_bases.iter().cloned().chain(misses).collect())];
    for copies in threshold_copies(detection) {
        let mut events = Vec::new();
        for j in 0..copies {
            events.extend(all_bases.iter().map(|e| distinct_copy(detection, e, j)));
        }
        result.push(events);
    }
    result
}

/// An event of `table` aimed at passing `filter`.
fn base_event(table: &str, columns: &Columns, filter: &Predicate, scope: &Scope, now: i64) -> Row {
    let mut event = Row::new();
    for (name, kind) in columns {
        let value = match kind.as_str() {
            "string" | "guid" => json!(""),
            "datetime" => json!(time::format_datetime(now - 60 * TICKS_PER_SECOND)),
            _ => Json::Null,
        };
        event.insert(name.clone(), value);
    }
    event.insert("Type".into(), json!(table));
    let mut solver = Solver { columns, scope, now };
    solver.solve(filter, true, &mut event);
    event
}

struct Solver<'a> {
    columns: &'a Columns,
    scope: &'a Scope,
    now: i64,
}

impl Solver<'_> {
    /// Changes `event` so that `predicate` evaluates to `want`, as far as simple choices allow.
    fn solve(&mut self, predicate: &Predicate, want: bool, event: &mut Row) -> bool {
        let ok = match (predicate, want) {
            (Predicate::Not(inner), _) => return self.solve(inner, !want, event),
            (Predicate::And(parts), true) | (Predicate::Or(parts), false) => {
                parts.iter().for_each(|p| {
                    self.solve(p, want, event);
                });
                true
            }
            (Predicate::And(parts), false) | (Predicate::Or(parts), true) => {
                // One part decides: take the first that can be made to.
                for part in parts {
                    let mut attempt = event.clone();
                    if self.solve(part, want, &mut attempt) && predicate::holds(predicate, &attempt, self.scope) == Some(want) {
                        *event = attempt;
                        return true;
                    }
                }
                false
            }
            (Predicate::Match(m), _) => {
                if predicate::holds(predicate, event, self.scope) == Some(want) {
                    return true;
                }
                let value = if want { aim(m, event, self.now) } else { avoid(m, self.now) };
                value.is_some_and(|v| set(event, &m.field, v, self.columns))
            }
            (Predicate::Opaque { .. }, _) => false,
        };
        ok && predicate::holds(predicate, event, self.scope) == Some(want)
    }
}

/// Every match in the tree, in order.
fn leaves(predicate: &Predicate) -> Vec<&Match> {
    match predicate {
        Predicate::And(parts) | Predicate::Or(parts) => parts.iter().flat_map(leaves).collect(),
        Predicate::Not(inner) => leaves(inner),
        Predicate::Match(m) => vec![m],
        Predicate::Opaque { .. } => Vec::new(),
    }
}

fn dedupe(events: Vec<Row>) -> Vec<Row> {
    let mut seen = BTreeSet::new();
    events.into_iter().filter(|e| seen.insert(Json::Object(e.clone()).to_string())).take(MAX_EVENTS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::evaluate;
    use crate::ir::detection::{EventSource, Field, Input, MatchOp, Outputs, Quantifier, Value};
    use crate::kql::Span;

    fn schemas() -> Schemas {
        let columns =
            [("TimeGenerated", "datetime"), ("EventID", "int"), ("CommandLine", "string"), ("IpAddress", "string"), ("Props", "dynamic")];
        BTreeMap::from([("SecurityEvent".to_string(), columns.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect())])
    }

    fn m(field: &str, op: MatchOp, values: Vec<Value>) -> Predicate {
        let mut parts = field.split('.');
        let field = Field { name: parts.next().unwrap().into(), path: parts.map(String::from).collect() };
        Predicate::Match(Match { field, op, values, quantifier: Quantifier::Any, case_sensitive: false, span: Span::default() })
    }

    fn detection(filter: Predicate) -> Detection {
        Detection {
            sources: vec![EventSource {
                name: "SecurityEvent".into(),
                tables: vec!["SecurityEvent".into()],
                filter,
                computed: vec![],
                columns: None,
                logsource: None,
                span: Span::default(),
            }],
            result: Some(Input::Source(0)),
            outputs: Outputs { all_columns: true, fields: vec![] },
            ..Detection::default()
        }
    }

    #[test]
    fn the_base_event_passes_and_some_near_misses_do_not() {
        let filter = Predicate::And(vec![
            m("EventID", MatchOp::Equals, vec![Value::Int(4688)]),
            m("CommandLine", MatchOp::Has, vec![Value::String("mimikatz".into())]),
            Predicate::Not(Box::new(m("IpAddress", MatchOp::Cidr, vec![Value::String("10.0.0.0/8".into())]))),
            m("Props.role", MatchOp::Equals, vec![Value::String("admin".into())]),
            m("TimeGenerated", MatchOp::Gt, vec![Value::Ago(3600 * TICKS_PER_SECOND)]),
        ]);
        let d = detection(filter);
        let now = time::parse_datetime("2024-05-01T12:00:00Z").unwrap();
        let sets = scenarios(&d, &schemas(), now);
        assert_eq!(sets.len(), 1);
        let events = &sets[0];
        assert!(events.len() > 20, "{} events", events.len());
        let kept = evaluate(&d, events, now).unwrap().rows.len();
        assert!(kept >= 1 && kept < events.len(), "{kept} of {} kept", events.len());
        assert!(events.iter().all(|e| e["EventID"].is_null() || e["EventID"].is_i64()), "ints stay ints");
        assert!(events.iter().any(|e| e["CommandLine"] == json!("xmimikatz")), "a boundary moved");
    }

    #[test]
    fn a_source_without_a_schema_gives_no_scenarios() {
        let mut d = detection(Predicate::always());
        d.sources[0].tables = vec!["Unknown_CL".into()];
        assert!(scenarios(&d, &schemas(), 0).is_empty());
    }
}
