//! Runs a `Detection` over events: which rows would the rule return?
//!
//! Events are JSON objects named by the table's columns; a `Type` field says which table an
//! event belongs to (an event without one belongs to every source). Semantics follow Kusto:
//! three-valued logic with nulls, a missing string is `""`, term rules for `has`, innerunique
//! joins, `X1` names for clashing right columns (see the submodules).
//!
//! Columns with a `Scalar` are computed (see `scalar`): a source's before its filter, an extend
//! stage's on its input rows.
//!
//! Honesty over coverage: anything the Detection holds only as text (an opaque condition, an
//! unmodelled stage that can change which rows come back, a filter or key over a column computed
//! by an expression it has no `Scalar` for) makes the whole result `Unsupported` with the reason.
//! Output columns computed by such expressions do not stop evaluation: they are listed as not
//! evaluated.

mod aggregate;
mod cell;
pub mod cidr;
mod events;
pub mod generate;
mod join;
mod predicate;
mod relation;
mod scalar;
mod terms;
pub mod time;

pub use cell::Row;
pub use events::{BadLine, parse_events};

use crate::ir::detection::{Computed, Detection, EventSource, Input, OutputOrigin, Predicate, Stage, Value};
use predicate::{Absent, Scope};
use relation::Relation;
use scalar::Computer;
use std::collections::HashMap;
use std::fmt;

/// The rows a rule returns.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// Output columns in order, evaluated or not.
    pub columns: Vec<String>,
    /// Columns whose values need an expression this evaluator does not compute; rows omit them.
    pub not_evaluated: Vec<String>,
    pub rows: Vec<Row>,
}

/// Why a Detection cannot be evaluated faithfully.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsupported(pub String);

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Evaluates `detection` over `events`, with `now()` and `ago()` counting from `now` (ticks
/// since the Unix epoch; see [`time`]).
pub fn evaluate(detection: &Detection, events: &[Row], now: i64) -> Result<Table, Unsupported> {
    if let Some(item) = detection.unmodelled.iter().find(|u| u.changes_rows) {
        return Err(Unsupported(format!("`{}` is not modelled: {}", item.construct, item.reason)));
    }
    let result = detection.result.ok_or_else(|| Unsupported("the query has no tabular result".into()))?;
    let mut run = Run { detection, events, scope: Scope::new(now), computer: Computer::default(), done: HashMap::new() };
    let relation = run.relation(result, usize::MAX)?;
    Ok(project(detection, relation))
}

/// One evaluation: each source and stage is computed once, when first read.
struct Run<'a> {
    detection: &'a Detection,
    events: &'a [Row],
    scope: Scope,
    computer: Computer,
    /// Rows already computed, keyed by (is a stage, index).
    done: HashMap<(bool, usize), Relation>,
}

impl Run<'_> {
    /// The rows of `input`; `before` is the index of the stage asking, which may only read earlier ones.
    fn relation(&mut self, input: Input, before: usize) -> Result<Relation, Unsupported> {
        let key = match input {
            Input::Source(i) => (false, i),
            Input::Stage(i) if i < before => (true, i),
            Input::Stage(i) => return Err(Unsupported(format!("stage {i} is read before it is made"))),
        };
        if let Some(done) = self.done.get(&key) {
            return Ok(done.clone());
        }
        let relation = match input {
            Input::Source(i) => {
                let source = self.detection.sources.get(i).ok_or_else(|| Unsupported(format!("source {i} does not exist")))?;
                self.source(source)?
            }
            Input::Stage(i) => {
                let stage = self.detection.stages.get(i).ok_or_else(|| Unsupported(format!("stage {i} does not exist")))?;
                self.stage(stage, i)?
            }
        };
        self.done.insert(key, relation.clone());
        Ok(relation)
    }

    fn source(&mut self, source: &EventSource) -> Result<Relation, Unsupported> {
        // A Sigma source names a logsource, not tables: every event given is one of its events.
        let events = self.events.iter().filter(|e| source.logsource.is_some() || belongs_to(e, &source.tables)).cloned().collect();
        // Lowering lets a computed column hide no event field the filter reads, so computing the
        // columns first changes nothing the filter sees.
        let relation = self.extend(Relation::from_rows(events), &source.computed);
        // A Sigma source's field tests follow Sigma: a field the event lacks matches no value.
        self.scope.absent = if source.logsource.is_some() { Absent::NoValue } else { Absent::EmptyText };
        let filtered = self.filter(relation, &source.filter);
        self.scope.absent = Absent::EmptyText;
        let mut relation = filtered?;
        // A column the query projected away is not there for a join to clash with (rows keep
        // the event's fields, which the source's own outputs read).
        if let Some(kept) = &source.columns {
            relation.columns.retain(|c| kept.contains(c));
            relation.unknown.retain(|c, _| kept.contains(c));
        }
        Ok(relation)
    }

    /// Adds computed columns in order: the value of each with a `Scalar`, else an unknown.
    fn extend(&mut self, mut relation: Relation, computed: &[Computed]) -> Relation {
        for column in computed {
            match &column.expr {
                Some(expr) => {
                    for row in &mut relation.rows {
                        let value = self.computer.value(expr, row);
                        row.insert(column.name.clone(), value);
                    }
                    if !relation.columns.contains(&column.name) {
                        relation.columns.push(column.name.clone());
                    }
                    relation.unknown.remove(&column.name);
                }
                None => relation.add_unknown(&column.name, &column.expression),
            }
        }
        relation
    }

    fn stage(&mut self, stage: &Stage, index: usize) -> Result<Relation, Unsupported> {
        match stage {
            Stage::Filter { input, predicate, .. } => {
                let rows = self.relation(*input, index)?;
                self.filter(rows, predicate)
            }
            Stage::Extend { input, computed, .. } => {
                let rows = self.relation(*input, index)?;
                Ok(self.extend(rows, computed))
            }
            Stage::Union { inputs, .. } => {
                let mut rows = Vec::new();
                let mut unknown = std::collections::BTreeMap::new();
                for input in inputs {
                    let part = self.relation(*input, index)?;
                    rows.extend(part.rows);
                    unknown.extend(part.unknown);
                }
                let mut relation = Relation::from_rows(rows);
                for (name, expression) in unknown {
                    relation.add_unknown(&name, &expression);
                }
                Ok(relation)
            }
            Stage::Join(spec) => {
                if spec.window.is_some() {
                    return Err(Unsupported("a join with a time window between its sides is not evaluated".into()));
                }
                let left = self.relation(spec.left, index)?;
                let right = self.relation(spec.right, index)?;
                for key in &spec.keys {
                    known(&left, &key.left.name, "a join key")?;
                    known(&right, &key.right.name, "a join key")?;
                }
                Ok(join::join(spec.kind, &left, &right, &spec.keys))
            }
            Stage::Aggregate(spec) => {
                let input = self.relation(spec.input, index)?;
                for key in &spec.group_by {
                    known(&input, &key.field.name, "a group-by key")?;
                }
                for condition in spec.aggregations.iter().filter_map(|a| a.condition.as_ref()) {
                    self.check(&input, condition)?;
                }
                let mut aggregated = aggregate::aggregate(spec, &input, &self.scope).map_err(Unsupported)?;
                // Exactly the keys and the aggregations come out: any other name a later condition
                // reads is an aggregation this evaluator does not compute.
                aggregated.closed = true;
                match &spec.threshold {
                    Some(threshold) => self.filter(aggregated, threshold),
                    None => Ok(aggregated),
                }
            }
        }
    }

    /// Keeps the rows on which `predicate` is true.
    fn filter(&mut self, mut relation: Relation, predicate: &Predicate) -> Result<Relation, Unsupported> {
        self.check(&relation, predicate)?;
        relation.rows.retain(|row| predicate::holds(predicate, row, &self.scope) == Some(true));
        Ok(relation)
    }

    /// Refuses a predicate this evaluator cannot decide faithfully on these rows.
    fn check(&mut self, relation: &Relation, predicate: &Predicate) -> Result<(), Unsupported> {
        match predicate {
            Predicate::And(parts) | Predicate::Or(parts) => parts.iter().try_for_each(|p| self.check(relation, p)),
            Predicate::Not(inner) => self.check(relation, inner),
            Predicate::Opaque { text, .. } => Err(Unsupported(format!("the condition `{text}` is not modelled"))),
            Predicate::Match(m) => {
                known(relation, &m.field.name, "a condition")?;
                for value in &m.values {
                    if let Value::Field(f) = value {
                        known(relation, &f.name, "a condition")?;
                    }
                }
                self.scope.prepare(predicate).map_err(Unsupported)
            }
        }
    }
}

/// An error when `column` holds values only an expression this evaluator lacks could compute.
fn known(relation: &Relation, column: &str, role: &str) -> Result<(), Unsupported> {
    match relation.unknown.get(column) {
        Some(expression) => Err(Unsupported(format!("{role} reads `{column}`, computed by `{expression}`, which is not evaluated"))),
        None if relation.closed && !relation.columns.iter().any(|c| c == column) => Err(Unsupported(format!(
            "{role} reads `{column}`, which the rows before it do not carry (an aggregation or column not modelled)"
        ))),
        None => Ok(()),
    }
}

/// Whether an event belongs to a source reading `tables` (names may end in a `*` wildcard).
fn belongs_to(event: &Row, tables: &[String]) -> bool {
    let Some(kind) = event.get("Type").and_then(|t| t.as_str()) else { return true };
    tables.iter().any(|t| match t.strip_suffix('*') {
        Some(prefix) => kind.starts_with(prefix),
        None => t == kind,
    })
}

/// Where an output column's values come from in the final rows.
enum Source<'a> {
    /// A field read through the origin's path (the output was made at the result itself).
    Field(&'a crate::ir::detection::Field),
    /// The column of that name, carried through the stages.
    Column,
    /// An expression held only as text, or a column the final rows do not carry.
    NotEvaluated,
}

/// Whether the source or extend stage `at` computes the column `name` with a `Scalar`.
fn computes(detection: &Detection, at: Input, name: &str) -> bool {
    let computed = match at {
        Input::Source(i) => detection.sources.get(i).map(|s| s.computed.as_slice()),
        Input::Stage(i) => match detection.stages.get(i) {
            Some(Stage::Extend { computed, .. }) => Some(computed.as_slice()),
            _ => None,
        },
    };
    computed.and_then(|c| c.iter().rev().find(|c| c.name == name)).is_some_and(|c| c.expr.is_some())
}

/// The rule's output columns, from the final rows.
fn project(detection: &Detection, relation: Relation) -> Table {
    let outputs = &detection.outputs;
    let mut columns: Vec<(String, Source)> = Vec::new();
    if outputs.all_columns {
        for c in &relation.columns {
            let source = if relation.unknown.contains_key(c) { Source::NotEvaluated } else { Source::Column };
            columns.push((c.clone(), source));
        }
    }
    for output in &outputs.fields {
        let source = match &output.origin {
            OutputOrigin::Computed(_) if computes(detection, output.made_by, &output.name) && relation.columns.contains(&output.name) => {
                Source::Column
            }
            OutputOrigin::Computed(_) => Source::NotEvaluated,
            OutputOrigin::Field(f) if Some(output.made_by) == detection.result => Source::Field(f),
            _ if relation.unknown.contains_key(&output.name) => Source::NotEvaluated,
            _ if relation.columns.contains(&output.name) => Source::Column,
            _ => Source::NotEvaluated,
        };
        match columns.iter_mut().find(|(c, _)| *c == output.name) {
            Some(slot) => slot.1 = source,
            None => columns.push((output.name.clone(), source)),
        }
    }
    let rows = relation
        .rows
        .iter()
        .map(|row| {
            let value = |name: &String, source: &Source| match source {
                Source::Field(f) => Some(cell::lookup(row, f).into_owned()),
                Source::Column => Some(row.get(name).cloned().unwrap_or(serde_json::Value::Null)),
                Source::NotEvaluated => None,
            };
            columns.iter().filter_map(|(name, source)| Some((name.clone(), value(name, source)?))).collect()
        })
        .collect();
    let not_evaluated = columns.iter().filter(|(_, s)| matches!(s, Source::NotEvaluated)).map(|(c, _)| c.clone()).collect();
    Table { columns: columns.into_iter().map(|(c, _)| c).collect(), not_evaluated, rows }
}

#[cfg(test)]
mod tests;
