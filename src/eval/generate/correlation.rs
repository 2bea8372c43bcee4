//! Events for correlation stages: join keys that meet (and some that do not), and copies of
//! events around count thresholds.

use super::MAX_COPIES;
use super::leaves;
use super::values::{shift, swap_case};
use crate::eval::cell::{self, Row};
use crate::ir::detection::{AggFunction, Detection, Field, Input, Stage, Value};
use serde_json::{Value as Json, json};
use std::collections::BTreeSet;

/// Copies each join key value of the left side's base event into the right side's, so the
/// sides meet.
pub(super) fn align_join_keys(detection: &Detection, bases: &mut [Vec<Row>]) {
    for stage in &detection.stages {
        let Stage::Join(join) = stage else { continue };
        for key in &join.keys {
            let (Some((l, lf)), Some((r, rf))) = (origin(detection, join.left, &key.left), origin(detection, join.right, &key.right))
            else {
                continue;
            };
            if l >= bases.len() || r >= bases.len() {
                continue;
            }
            let Some(mut value) = bases[l].first().map(|e| cell::lookup(e, &lf).into_owned()) else { continue };
            // An empty key would join on nothing meaningful: give both sides a real one.
            if value == json!("") && lf.path.is_empty() {
                value = json!("key-1");
                bases[l].iter_mut().for_each(|e| {
                    e.insert(lf.name.clone(), value.clone());
                });
            }
            for event in &mut bases[r] {
                if rf.path.is_empty() && event.contains_key(&rf.name) {
                    event.insert(rf.name.clone(), value.clone());
                }
            }
        }
    }
}

/// Base events with a join key changed (other case, another value), so some rows find no partner.
pub(super) fn key_misses(detection: &Detection, bases: &[Vec<Row>]) -> Vec<Row> {
    let mut out = Vec::new();
    for stage in &detection.stages {
        let Stage::Join(join) = stage else { continue };
        for key in &join.keys {
            let sides = [origin(detection, join.left, &key.left), origin(detection, join.right, &key.right)];
            // Each side changes differently, or the changed keys would meet again.
            for (side, (source, field)) in
                sides.into_iter().enumerate().filter_map(|(i, s)| Some((i, s?))).filter(|(_, (_, f))| f.path.is_empty())
            {
                for base in bases.get(source).into_iter().flatten() {
                    let changed: Vec<Json> = match base.get(&field.name) {
                        Some(Json::String(s)) if side == 0 => vec![json!(swap_case(s)), json!(format!("{s}-left"))],
                        Some(Json::String(s)) => vec![json!(format!("{s}-right"))],
                        Some(number @ Json::Number(_)) => shift(number, if side == 0 { 1 } else { -1 }).into_iter().collect(),
                        _ => Vec::new(),
                    };
                    for value in changed {
                        let mut event = base.clone();
                        event.insert(field.name.clone(), value);
                        out.push(event);
                    }
                }
            }
        }
    }
    out
}

/// The source and event field a column of `input` comes from, through filters and group keys.
fn origin(detection: &Detection, input: Input, field: &Field) -> Option<(usize, Field)> {
    match input {
        Input::Source(i) => Some((i, field.clone())),
        Input::Stage(i) => match detection.stages.get(i)? {
            Stage::Filter { input, .. } => origin(detection, *input, field),
            Stage::Aggregate(a) => {
                let key = a.group_by.iter().find(|k| k.name == field.name && k.bin.is_none())?;
                origin(detection, a.input, &key.field)
            }
            Stage::Join(j) => origin(detection, j.left, field),
            Stage::Union { .. } => None,
        },
    }
}

/// How many copies of the base events to try against each count threshold: the bound and one more.
pub(super) fn threshold_copies(detection: &Detection) -> Vec<i64> {
    let mut copies = BTreeSet::new();
    for stage in &detection.stages {
        let Stage::Aggregate(a) = stage else { continue };
        copies.insert(2);
        for m in a.threshold.iter().flat_map(leaves) {
            for value in &m.values {
                if let Value::Int(n) = value {
                    copies.extend([*n, *n + 1].into_iter().filter(|c| (2..=MAX_COPIES).contains(c)));
                }
            }
        }
    }
    copies.into_iter().collect()
}

/// The `j`th copy of an event: fields counted by `dcount` get a distinct value when they are text,
/// so distinct counts grow with the copies too.
pub(super) fn distinct_copy(detection: &Detection, event: &Row, j: i64) -> Row {
    let mut copy = event.clone();
    if j == 0 {
        return copy;
    }
    for stage in &detection.stages {
        let Stage::Aggregate(a) = stage else { continue };
        for agg in a.aggregations.iter().filter(|g| g.function == AggFunction::DistinctCount) {
            if let Some(Json::String(s)) = agg.field.as_ref().filter(|f| f.path.is_empty()).and_then(|f| copy.get_mut(&f.name)) {
                s.push_str(&format!("-{j}"));
            }
        }
    }
    copy
}
