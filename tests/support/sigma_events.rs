//! Events aimed at a Sigma rule's only source, named with the rule's own field names.

use ruleconv::eval::Row;
use ruleconv::eval::generate::{self, Columns};
use ruleconv::ir::Detection;
use ruleconv::ir::detection::{MatchOp, Value};

/// The generator needs a table schema, so the source reads a made-up table whose columns are
/// the fields the rule tests (numbers where it compares with numbers); the table name is
/// removed from the events again. Returns those columns and at most `max` events.
pub fn events_for(detection: &Detection, now: i64, max: usize) -> (Columns, Vec<Row>) {
    let mut columns: Columns = Vec::new();
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
        return (columns, Vec::new());
    }
    let mut tabled = detection.clone();
    tabled.sources[0].tables = vec!["SigmaEvents".into()];
    let schemas = [("SigmaEvents".to_string(), columns.clone())].into_iter().collect();
    let mut events: Vec<Row> = generate::scenarios(&tabled, &schemas, now).into_iter().flatten().take(max).collect();
    events.iter_mut().for_each(|e| {
        e.remove("Type");
    });
    (columns, events)
}
