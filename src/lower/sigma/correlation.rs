//! Correlation rules → the rules they name as sources, then the stages that correlate them,
//! in the shapes a KQL rule's own correlations lower to, so both directions agree.
//!
//! - `event_count` / `value_count`: the sources (united when several) aggregated per
//!   `group-by` key and per `timespan` bin of the event time (`EVENT_TIME`), as
//!   `summarize ... by bin(TimeGenerated, 10m), X` lowers; the condition is the threshold.
//!   `aliases` would need a per-rule rename before the union: listed, not applied.
//! - `temporal`: inner joins on the group-by fields (each rule's own field where `aliases`
//!   names one), left-deep over the rules in order, each with the `timespan` as its window.
//! - `temporal_ordered`: the same joins, marked `ordered` (each joined rule's event comes after
//!   the one before it); a target that cannot say so reports the loss.

use super::Lowering;
use crate::ir::Timespan;
use crate::ir::detection::{
    AggFunction, Aggregate, Aggregation, EVENT_TIME, Field, GroupKey, Input, Join, JoinKey, JoinKind, Match, Output, OutputOrigin, Outputs,
    Predicate, Quantifier, Span, Stage, Value,
};
use crate::sigma::{Correlation, CorrelationKind, Document, Threshold};

impl Lowering {
    pub(super) fn correlation(&mut self, correlation: &Correlation, correlated: &[&Document], span: Span) -> Input {
        let mut inputs = Vec::new();
        for (reference, at) in &correlation.rules {
            match correlated.iter().find(|d| d.name.as_deref() == Some(reference) || d.id.as_deref() == Some(reference)) {
                Some(document) => inputs.push((reference.as_str(), *document, self.rule_source(document, &[]))),
                None => self.unmodelled("correlated rule", &format!("`{reference}` is not a rule of this file"), *at),
            }
        }
        let window = self.window(correlation);
        match correlation.kind {
            CorrelationKind::EventCount | CorrelationKind::ValueCount => {
                let sources: Vec<Input> = inputs.iter().map(|(_, _, input)| *input).collect();
                if sources.is_empty() {
                    return self.source("no correlated rule".into(), Predicate::Or(Vec::new()), None, span);
                }
                self.count(correlation, sources, window, span)
            }
            CorrelationKind::Temporal | CorrelationKind::TemporalOrdered => {
                self.temporal(correlation, &inputs, window, span, correlation.kind == CorrelationKind::TemporalOrdered)
            }
        }
    }

    /// The `timespan`; one that does not parse is unmodelled (the rows are then not
    /// bound in time).
    fn window(&mut self, correlation: &Correlation) -> Option<Timespan> {
        let (text, at) = correlation.timespan.as_ref()?;
        let window = Timespan::parse_sigma(text);
        if window.is_none() {
            let reason = format!("`{text}` is no time span (`30s`, `5m`, `1h`, `2d`, `1w`): the rules are not bound in time");
            self.unmodelled("timespan", &reason, *at);
        }
        window
    }

    /// `event_count` / `value_count`: count (distinct values of the condition's field) per
    /// window bin and group-by key, kept when the threshold holds.
    fn count(&mut self, correlation: &Correlation, sources: Vec<Input>, window: Option<Timespan>, span: Span) -> Input {
        let input = match sources.as_slice() {
            [one] => *one,
            _ => self.stage(Stage::Union { inputs: sources, span }),
        };
        if let Some(aliases) = &correlation.aliases {
            let reason = "group-by names that stand for differently named fields per rule: the aggregation groups by the names as fields";
            self.unmodelled("aliases", reason, aliases.span);
        }
        let (function, name) = match correlation.kind {
            CorrelationKind::ValueCount => (AggFunction::DistinctCount, "value_count"),
            _ => (AggFunction::Count, "event_count"),
        };
        let field = correlation.threshold.as_ref().and_then(|t| t.field.as_deref()).map(Field::column);
        let aggregation = Aggregation { name: name.to_string(), function, field, condition: None, span };
        let time = window.map(|size| GroupKey { name: EVENT_TIME.to_string(), field: Field::column(EVENT_TIME), bin: Some(size) });
        let keys = correlation.group_by.iter().map(|key| GroupKey { name: key.clone(), field: Field::column(key.as_str()), bin: None });
        let group_by: Vec<GroupKey> = time.into_iter().chain(keys).collect();
        let threshold = correlation.threshold.as_ref().map(|t| bounds(t, name));
        let made_by = Input::Stage(self.detection.stages.len());
        let output = |name: &str, origin| Output { name: name.to_string(), origin, made_by, span };
        let mut fields: Vec<Output> = group_by.iter().map(|k| output(&k.name, OutputOrigin::GroupKey)).collect();
        fields.push(output(name, OutputOrigin::Aggregation(function)));
        self.detection.outputs = Outputs { all_columns: false, fields };
        self.stage(Stage::Aggregate(Aggregate { input, group_by, aggregations: vec![aggregation], threshold, span }))
    }

    /// `temporal`: the first rule joined with each next one on the group-by fields, within the
    /// window; a rule's field is its alias where `aliases` names one.
    fn temporal(
        &mut self,
        correlation: &Correlation,
        inputs: &[(&str, &Document, Input)],
        window: Option<Timespan>,
        span: Span,
        ordered: bool,
    ) -> Input {
        let field_of = |key: &str, (reference, document, _): &(&str, &Document, Input)| {
            let aliases = correlation.aliases.iter().flat_map(|a| &a.names).filter(|(name, _)| name == key);
            let names_rule =
                |rule: &str| rule == *reference || document.name.as_deref() == Some(rule) || document.id.as_deref() == Some(rule);
            let own = aliases.flat_map(|(_, fields)| fields).find(|(rule, _)| names_rule(rule)).map(|(_, field)| field.as_str());
            Field::column(own.unwrap_or(key))
        };
        let Some((first, rest)) = inputs.split_first() else {
            return self.source("no correlated rule".into(), Predicate::Or(Vec::new()), None, span);
        };
        let mut left = first.2;
        for next in rest {
            let keys = correlation.group_by.iter().map(|key| JoinKey { left: field_of(key, first), right: field_of(key, next) }).collect();
            left = self.stage(Stage::Join(Join { kind: JoinKind::Inner, left, right: next.2, keys, window, ordered, span }));
        }
        self.detection.outputs = Outputs { all_columns: true, fields: Vec::new() };
        left
    }

    fn stage(&mut self, stage: Stage) -> Input {
        self.detection.stages.push(stage);
        Input::Stage(self.detection.stages.len() - 1)
    }
}

/// `gte: 10` on the count column; case plays no part in comparing numbers, and it is marked
/// case-sensitive as KQL's `>=` lowers.
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
                case_sensitive: true,
                span: threshold.span,
            })
        })
        .collect();
    if parts.len() == 1 { parts.remove(0) } else { Predicate::And(parts) }
}
