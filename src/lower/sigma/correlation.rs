//! Correlation rules → the rules they name as sources, united, then aggregated.
//!
//! `event_count` counts rows and `value_count` counts distinct values of a field, per
//! `group-by` key, kept when the count meets the condition: an `Aggregate` with a threshold.
//! `aliases` (a group-by name standing for other fields per rule) are listed, not applied.
//! The `timespan` window has no place in an `Aggregate` (it counts over the whole look-back)
//! and `temporal`/`temporal_ordered` need every named rule to match within it: both are listed
//! in `unmodelled`.

use super::Lowering;
use crate::ir::detection::{AggFunction, Aggregate, Aggregation, Field, GroupKey, Input, Match, Predicate, Quantifier, Span, Stage, Value};
use crate::sigma::{Correlation, CorrelationKind, Document, Threshold};

impl Lowering {
    pub(super) fn correlation(&mut self, correlation: &Correlation, correlated: &[Document], span: Span) -> Input {
        let mut inputs = Vec::new();
        for (reference, at) in &correlation.rules {
            match correlated.iter().find(|d| d.name.as_deref() == Some(reference) || d.id.as_deref() == Some(reference)) {
                Some(document) => inputs.push(self.rule_source(document, &[])),
                None => self.unmodelled("correlated rule", &format!("`{reference}` is not a rule of this file"), *at),
            }
        }
        let input = match inputs.len() {
            0 => return self.source("no correlated rule".into(), Predicate::Or(Vec::new()), None, span),
            1 => inputs[0],
            _ => self.stage(Stage::Union { inputs, span }),
        };
        if let Some(at) = correlation.aliases {
            let reason = "group-by names that stand for differently named fields per rule: the aggregation groups by the names as fields";
            self.unmodelled("aliases", reason, at);
        }
        if let Some((timespan, at)) = &correlation.timespan {
            let reason = format!("the correlation counts within {timespan}; the Detection's aggregation counts over the whole look-back");
            self.unmodelled("timespan", &reason, *at);
        }
        let (function, name) = match correlation.kind {
            CorrelationKind::EventCount => (AggFunction::Count, "event_count"),
            CorrelationKind::ValueCount => (AggFunction::DistinctCount, "value_count"),
            CorrelationKind::Temporal | CorrelationKind::TemporalOrdered => {
                let reason =
                    "every named rule must match within the timespan (in order, for temporal_ordered): no Detection stage says that";
                self.unmodelled(correlation.kind.name(), reason, span);
                return input;
            }
        };
        let field = correlation.threshold.as_ref().and_then(|t| t.field.as_deref()).map(Field::column);
        let aggregation = Aggregation { name: name.to_string(), function, field, condition: None, span };
        let group_by =
            correlation.group_by.iter().map(|key| GroupKey { name: key.clone(), field: Field::column(key.as_str()), bin: None }).collect();
        let threshold = correlation.threshold.as_ref().map(|t| bounds(t, name));
        self.stage(Stage::Aggregate(Aggregate { input, group_by, aggregations: vec![aggregation], threshold, span }))
    }

    fn stage(&mut self, stage: Stage) -> Input {
        self.detection.stages.push(stage);
        Input::Stage(self.detection.stages.len() - 1)
    }
}

/// `gte: 10` on the count column.
fn bounds(threshold: &Threshold, column: &str) -> Predicate {
    let mut parts: Vec<Predicate> = threshold
        .bounds
        .iter()
        .map(|(op, n)| {
            Predicate::Match(Match {
                field: Field::column(column),
                op: *op,
                values: vec![Value::Int(*n)],
                quantifier: Quantifier::Any,
                case_sensitive: false,
                span: threshold.span,
            })
        })
        .collect();
    if parts.len() == 1 { parts.remove(0) } else { Predicate::And(parts) }
}
