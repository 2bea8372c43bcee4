//! Events for a Sigma rule's lowered Detection, fields named as the rule names them.

use ruleconv::eval::{Row, generate};
use ruleconv::ir::Detection;
use ruleconv::ir::detection::{MatchOp, Value};

const MAX_EVENTS: usize = 40;

/// Events aimed at the rule's only source: the generator needs a table schema, so the source
/// reads a made-up table whose columns are the fields the rule tests (numbers where it compares
/// with numbers); the table name is removed from the events again.
pub fn events_for(detection: &Detection, now: i64) -> Vec<Row> {
    let mut columns: Vec<(String, String)> = Vec::new();
    for m in detection.sources[0].filter.matches() {
        let numeric = matches!(m.op, MatchOp::Gt | MatchOp::Ge | MatchOp::Lt | MatchOp::Le)
            || m.values.iter().any(|v| matches!(v, Value::Int(_) | Value::Real(_)));
        let kind = if numeric { "long" } else { "string" };
        let referenced = m.values.iter().filter_map(|v| if let Value::Field(f) = v { Some(f.name.clone()) } else { None });
        for name in std::iter::once(m.field.name.clone()).chain(referenced) {
            if !columns.iter().any(|(c, _)| *c == name) {
                columns.push((name, kind.to_string()));
            }
        }
    }
    // The generator names each event's table in `Type`: a rule testing a `Type` field is left out.
    if columns.iter().any(|(c, _)| c == "Type") {
        return Vec::new();
    }
    let mut tabled = detection.clone();
    tabled.sources[0].tables = vec!["SigmaEvents".into()];
    let schemas = [("SigmaEvents".to_string(), columns)].into_iter().collect();
    let mut events: Vec<Row> = generate::scenarios(&tabled, &schemas, now).into_iter().flatten().take(MAX_EVENTS).collect();
    events.iter_mut().for_each(|e| {
        e.remove("Type");
    });
    events
}
