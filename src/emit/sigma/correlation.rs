//! Correlation stages → Sigma correlation rules: count and distinct-count thresholds become
//! `event_count` / `value_count`, inner and semi joins (and chains of them) become `temporal`. Everything else
//! (anti and outer joins, sums, filters after a join, stages over stages) is a loss.

use super::profile;
use crate::diag::Code;
use crate::ir::detection::{AggFunction, Aggregate, EVENT_TIME, Input, Join, JoinKind, MatchOp, Predicate, Span, Stage, Value};
use crate::ir::{Detection, Rule, Timespan};
use serde_json::{Map, Value as Json, json};

/// A difference from the query, or why a stage has no correlation, at the construct it is about.
pub type Note = (Span, Code, String);

/// Per source: its Sigma rule ids, the table whose field names its rules use, and the columns
/// the query computes on its events.
pub struct Bases<'a> {
    pub ids: &'a [Vec<String>],
    pub tables: &'a [String],
    pub computed: &'a [Vec<String>],
}

/// The `correlation` blocks of a detection's stages, and what could not be expressed.
pub fn translate(rule: &Rule, detection: &Detection, bases: &Bases) -> (Vec<Json>, Vec<Note>) {
    let query_period = rule.sentinel.as_ref().and_then(|s| s.schedule.query_period.as_ref());
    let period = query_period.and_then(|d| Timespan::from_seconds(i64::try_from(d.total_seconds()).ok()?));
    let mut blocks = Vec::new();
    let mut losses = Vec::new();
    for (index, stage) in detection.stages.iter().enumerate() {
        let outcome = match stage {
            Stage::Aggregate(aggregate) => aggregation(aggregate, detection, period, bases),
            // A join that a later join extends is part of that join's correlation.
            Stage::Join(_) if detection.stages.iter().any(|s| matches!(s, Stage::Join(next) if next.left == Input::Stage(index))) => {
                Ok(None)
            }
            Stage::Join(join) => temporal(join, detection, period, bases),
            Stage::Union { inputs, span } => match inputs.iter().all(|i| matches!(i, Input::Source(_))) {
                // Each source is its own Sigma rule already, and any of them alerts.
                true => Ok(None),
                false => Err((*span, Code::CorrelationUnsupported, "`union` of derived rows has no Sigma form".to_string())),
            },
            Stage::Filter { span, .. } => {
                Err((*span, Code::CorrelationUnsupported, "a condition on combined or aggregated rows has no Sigma form".into()))
            }
            // Computed columns: conditions and keys on them are reported where they are used.
            Stage::Extend { .. } => Ok(None),
        };
        match outcome {
            Ok(Some((block, notes))) => {
                blocks.push(block);
                losses.extend(notes);
            }
            Ok(None) => {}
            Err(loss) => losses.push(loss),
        }
    }
    (blocks, losses)
}

/// A correlation block and how it differs from the stage; or why there is none.
type Outcome = Result<Option<(Json, Vec<Note>)>, Note>;

fn source_of(input: Input, bases: &Bases, what: &str, span: Span) -> Result<usize, Note> {
    match input {
        Input::Source(i) if bases.ids.get(i).is_some_and(|ids| !ids.is_empty()) => Ok(i),
        Input::Source(_) => Err((span, Code::CorrelationUnsupported, format!("{what} reads a source with no Sigma detection"))),
        Input::Stage(_) => Err((span, Code::CorrelationUnsupported, format!("{what} over the result of another step has no Sigma form"))),
    }
}

/// The sources an aggregation counts: one, or a union of sources (a Sigma correlation of
/// several rules); the first names the fields.
fn sources_of(input: Input, detection: &Detection, bases: &Bases, span: Span) -> Result<Vec<usize>, Note> {
    match input {
        Input::Stage(j) => match detection.stages.get(j) {
            Some(Stage::Union { inputs, .. }) => inputs.iter().map(|i| source_of(*i, bases, "the aggregation", span)).collect(),
            _ => Err((span, Code::CorrelationUnsupported, "the aggregation over the result of another step has no Sigma form".into())),
        },
        source => source_of(source, bases, "the aggregation", span).map(|s| vec![s]),
    }
}

/// `summarize count() / dcount(x) by keys | where ... > N` → `event_count` / `value_count`.
fn aggregation(aggregate: &Aggregate, detection: &Detection, period: Option<Timespan>, bases: &Bases) -> Outcome {
    let Some(threshold) = &aggregate.threshold else {
        // Without a threshold every group is a result row: each matching event still alerts.
        return Ok(None);
    };
    let sources = sources_of(aggregate.input, detection, bases, aggregate.span)?;
    let source = sources[0];
    let table = &bases.tables[source];
    let unsupported = |why: &str| Err((aggregate.span, Code::CorrelationUnsupported, format!("the threshold is not translated: {why}")));
    let Predicate::Match(test) = threshold else { return unsupported("it combines several tests") };
    let Some(aggregation) = aggregate.aggregations.iter().find(|a| a.name == test.field.name) else {
        return unsupported("it tests a column that is not an aggregation");
    };
    let Some(condition) = condition(test.op, &test.values) else {
        return unsupported("Sigma thresholds compare a count with a whole number");
    };
    if aggregation.condition.is_some() {
        return unsupported("a conditional count (`countif`, `dcountif`) counts other events than the rule matches");
    }
    let (kind, mut condition) = match (aggregation.function, &aggregation.field) {
        (AggFunction::Count, _) => ("event_count", condition),
        (AggFunction::DistinctCount, Some(field)) => {
            let mut condition = condition;
            condition.insert("field".into(), Json::String(profile::field_name(table, field)));
            ("value_count", condition)
        }
        _ => return unsupported("Sigma correlations count events or distinct values only"),
    };
    condition.sort_keys();
    let mut group_by = Vec::new();
    let mut notes = Vec::new();
    let mut bin = None;
    for key in &aggregate.group_by {
        match key.bin {
            Some(size) if is_time(&key.field.name) => bin = Some(size),
            Some(_) => return unsupported("it groups by bins of a field other than the event time"),
            None if bases.computed[source].contains(&key.field.name) => {
                // Widen rather than group by a field the events do not have.
                let message = format!("the count is not grouped by `{}`: it is computed by the query, not an event field", key.name);
                notes.push((aggregate.span, Code::ComputedColumn, message));
            }
            None => group_by.push(Json::String(profile::field_name(table, &key.field))),
        }
    }
    let (timespan, rounded) = timespan(bin.or(period), aggregate.span)?;
    notes.extend(rounded);
    let mut block = Map::new();
    block.insert("type".into(), json!(kind));
    block.insert("rules".into(), json!(sources.iter().flat_map(|s| &bases.ids[*s]).collect::<Vec<_>>()));
    if !group_by.is_empty() {
        block.insert("group-by".into(), Json::Array(group_by));
    }
    block.insert("timespan".into(), json!(timespan));
    block.insert("condition".into(), Json::Object(condition));
    Ok(Some((Json::Object(block), notes)))
}

/// `a | join kind=inner b on key` → `temporal`: every rule matches with equal keys in the
/// window. A left-deep chain of such joins (`(a ⋈ b) ⋈ c`), each on the first rule's fields and
/// with one window, is one `temporal` of all its rules.
fn temporal(last: &Join, detection: &Detection, period: Option<Timespan>, bases: &Bases) -> Outcome {
    let mut chain = vec![last];
    while let Input::Stage(j) = chain[0].left
        && let Some(Stage::Join(join)) = detection.stages.get(j)
    {
        chain.insert(0, join);
    }
    let first = chain[0];
    for join in &chain {
        if !matches!(join.kind, JoinKind::Inner | JoinKind::InnerUnique | JoinKind::LeftSemi | JoinKind::RightSemi) {
            return Err((
                join.span,
                Code::CorrelationUnsupported,
                format!("a `{:?}` join has no Sigma correlation (correlations need every side to match)", join.kind),
            ));
        }
    }
    // The sides in order: the first rule, then the rule each join adds.
    let mut sides = vec![source_of(first.left, bases, "the join", first.span)?];
    for join in &chain {
        sides.push(source_of(join.right, bases, "the join", join.span)?);
    }
    for join in &chain {
        if join.keys.is_empty() {
            return Err((join.span, Code::CorrelationUnsupported, "a join without keys has no Sigma correlation".into()));
        }
        let same_fields = join.keys.len() == first.keys.len() && join.keys.iter().zip(&first.keys).all(|(k, f)| k.left == f.left);
        if !same_fields || join.window != first.window || join.ordered != first.ordered {
            return Err((
                join.span,
                Code::CorrelationUnsupported,
                "joins on other fields, windows or order than the first join have no Sigma correlation".into(),
            ));
        }
    }
    let mut group_by = Vec::new();
    let mut aliases = Map::new();
    for (k, key) in first.keys.iter().enumerate() {
        let name = profile::field_name(&bases.tables[sides[0]], &key.left);
        let fields: Vec<String> =
            chain.iter().zip(&sides[1..]).map(|(join, side)| profile::field_name(&bases.tables[*side], &join.keys[k].right)).collect();
        if fields.iter().any(|f| *f != name) {
            let mut per_rule = Map::new();
            let named = std::iter::once(&name).chain(&fields);
            for (side, field) in sides.iter().zip(named) {
                bases.ids[*side].iter().for_each(|id| drop(per_rule.insert(id.clone(), json!(field))));
            }
            aliases.insert(name.clone(), Json::Object(per_rule));
        }
        group_by.push(Json::String(name));
    }
    let (timespan, rounded) = timespan(first.window.or(period), last.span)?;
    let mut notes: Vec<_> = rounded.into_iter().collect();
    if first.window.is_none() {
        notes.push((
            last.span,
            Code::WindowChanged,
            "the join has no time window; the correlation uses the rule's query period".to_string(),
        ));
    }
    let rules: Vec<&String> = sides.iter().flat_map(|side| &bases.ids[*side]).collect();
    let mut block = Map::new();
    block.insert("type".into(), json!(if first.ordered { "temporal_ordered" } else { "temporal" }));
    block.insert("rules".into(), json!(rules));
    block.insert("group-by".into(), Json::Array(group_by));
    block.insert("timespan".into(), json!(timespan));
    if !aliases.is_empty() {
        block.insert("aliases".into(), Json::Object(aliases));
    }
    Ok(Some((Json::Object(block), notes)))
}

fn is_time(column: &str) -> bool {
    matches!(column, EVENT_TIME | "TimeGenerated" | "timestamp" | "Timestamp" | "EventTime")
}

/// `count_ > 5` → `{gt: 5}`.
fn condition(op: MatchOp, values: &[Value]) -> Option<Map<String, Json>> {
    let name = match op {
        MatchOp::Gt => "gt",
        MatchOp::Ge => "gte",
        MatchOp::Lt => "lt",
        MatchOp::Le => "lte",
        MatchOp::Equals => "eq",
        _ => return None,
    };
    match values {
        [Value::Int(n)] => Some(Map::from_iter([(name.to_string(), json!(n))])),
        _ => None,
    }
}

/// A window as Sigma writes it (`90s`, `5m`, `1h`, `14d`).
fn timespan(window: Option<Timespan>, span: Span) -> Result<(String, Option<Note>), Note> {
    let unsupported = |why: &str| (span, Code::CorrelationUnsupported, why.to_string());
    let window = window.ok_or_else(|| unsupported("no time window: neither the query nor the rule's query period gives one"))?;
    let (text, rounded) = window.to_sigma().ok_or_else(|| unsupported("a window under one second has no Sigma timespan"))?;
    Ok((text, rounded.then(|| (span, Code::WindowChanged, "the window is rounded down to whole seconds".to_string()))))
}
