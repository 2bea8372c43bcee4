//! `broader`: the one judgment, for every target that translates a Detection, of whether the
//! output still detects what its source detects or only names where to look.
//!
//! A translation is broader when it keeps no discriminating condition of its source (only a
//! table, event type, product or logsource remains: every event of a kind would alert) or
//! loses a threshold or join that defines the rule. Such a rule is refused (`broader` error)
//! unless the user allows it (`--allow-broader`: written, with a `broader` loss).
//!
//! It is judged from the Detection and the losses the emitter reported: every emitter reports
//! a test it leaves out, or a join or threshold it cannot write, at the construct's span (see
//! `DROPPING`), so no emitter re-implements this.

use super::{Subject, loss_at};
use crate::diag::{Code, Kind, Position, Problem};
use crate::ir::detection::{Aggregate, Detection, Field, Join, JoinKind, Predicate, Span, Stage};

/// The codes of losses that mean "this construct is not in the output": a test left out, a
/// construct not translated, a column the target cannot compute, a join or threshold with no
/// form in the target, an event source with no condition the target can write. (An unknown
/// source is not among them: its tests are still written, on fields the user must check.)
const DROPPING: &[Code] =
    &[Code::ConditionDropped, Code::Unmodelled, Code::ComputedColumn, Code::CorrelationUnsupported, Code::NoDetection];

/// Fields that name the kind of event (which table partition, which event id, which operation)
/// rather than what is suspicious about it: a test of one alone keeps a rule's scope, not its
/// logic, so it counts as discriminating only in a rule that has no other test.
const SCOPE_FIELDS: &[&str] = &[
    "EventID",
    "ActionType",
    "Type",
    "Category",
    "OperationName",
    "Operation",
    "ResultType",
    "RecordType",
    "Workload",
    "EventType",
    "Channel",
    "Provider_Name",
];

/// Refuses a broader translation with a `broader` error, or (when `allow`) adds a `broader`
/// loss to `problems`; leaves a translation that keeps its logic alone.
pub fn judge(subject: &Subject, problems: &mut Vec<Problem>, allow: bool) -> Result<(), Vec<Problem>> {
    let Some((span, why)) = broader(subject, problems) else { return Ok(()) };
    if allow {
        problems.push(loss_at(subject, Code::Broader, span, format!("{why}; written because of --allow-broader")));
        return Ok(());
    }
    let message = format!("{why}; the output would alert on events the rule does not select (--allow-broader writes it)");
    Err(vec![Problem::in_logic(Kind::Error, Code::Broader, subject.rule, span.start, message)])
}

/// Where and why the output is broader than its source, if it is.
fn broader(subject: &Subject, problems: &[Problem]) -> Option<(Span, String)> {
    let dropped = Dropped { subject, positions: problems.iter().filter(|p| dropping(p)).map(|p| p.position).collect() };
    let detection = subject.detection;
    if let Some(lost) = detection.stages.iter().find_map(|stage| dropped.defining_stage(stage)) {
        return Some(lost);
    }
    let trees = trees(detection);
    let leaves: Vec<(Option<&Field>, Span)> = trees.iter().flat_map(|(_, tree)| leaves(tree)).collect();
    let Some(first) = leaves.first().map(|(_, span)| *span) else {
        // No test at all: broader when a source is one lowering could not see into (neither a
        // table nor a logsource: rows an operator makes, a correlation's missing base rule):
        // the output then reads events of any kind.
        let lost = detection.sources.iter().find(|source| source.tables.is_empty() && source.logsource.is_none())?;
        return Some((lost.span, format!("the events of `{}` are not known, so the output reads events of any kind", lost.name)));
    };
    // With a test beyond the rule's scope, only such tests discriminate; else its scope does.
    let beyond_scope = leaves.iter().any(|(field, _)| !field.is_some_and(is_scope));
    let keeps = |(holder, tree): &(Span, &Predicate)| !dropped.at(*holder) && dropped.keeps(tree, beyond_scope);
    if trees.iter().any(keeps) {
        return None;
    }
    Some((first, "no discriminating condition of the rule is kept".to_string()))
}

/// Every condition tree of the rule (as `Detection::predicates`), with the span of what holds
/// it (a source, a later filter, an aggregation): an emitter that drops the holder whole
/// reports it there, and the tree is gone with it.
fn trees(detection: &Detection) -> Vec<(Span, &Predicate)> {
    let sources = detection.sources.iter().map(|source| (source.span, &source.filter));
    let stages = detection.stages.iter().flat_map(|stage| match stage {
        Stage::Filter { predicate, span, .. } => vec![(*span, predicate)],
        Stage::Aggregate(aggregate) => aggregate
            .threshold
            .iter()
            .map(|threshold| (aggregate.span, threshold))
            .chain(aggregate.aggregations.iter().flat_map(|a| a.condition.as_ref().map(|c| (a.span, c))))
            .collect(),
        Stage::Join(_) | Stage::Union { .. } | Stage::Extend { .. } => Vec::new(),
    });
    sources.chain(stages).collect()
}

/// A loss that takes a construct out of the output.
fn dropping(problem: &Problem) -> bool {
    problem.kind == Kind::Loss && DROPPING.contains(&problem.code)
}

fn is_scope(field: &Field) -> bool {
    field.path.is_empty() && SCOPE_FIELDS.iter().any(|scope| field.name.eq_ignore_ascii_case(scope))
}

/// Every test of a tree, with the field it reads (an `Opaque` names none: it is beyond scope).
fn leaves(tree: &Predicate) -> Vec<(Option<&Field>, Span)> {
    match tree {
        Predicate::And(parts) | Predicate::Or(parts) => parts.iter().flat_map(leaves).collect(),
        Predicate::Not(inner) => leaves(inner),
        Predicate::Match(m) => vec![(Some(&m.field), m.span)],
        Predicate::Opaque { span, .. } => vec![(None, *span)],
    }
}

/// The file positions of the dropping losses the emitter reported for one rule.
struct Dropped<'s> {
    subject: &'s Subject<'s>,
    positions: Vec<Position>,
}

impl Dropped<'_> {
    fn at(&self, span: Span) -> bool {
        let rule = self.subject.rule;
        let position = rule.logic.as_ref().map_or(rule.origin.position, |logic| logic.position(span.start));
        self.positions.contains(&position)
    }

    /// Whether some test of `tree` that discriminates (any test, unless `beyond_scope`) is in
    /// the output. An `or` keeps its meaning only whole: an emitter leaves out a group with an
    /// untranslated part, reporting it at the group's first test.
    fn keeps(&self, tree: &Predicate, beyond_scope: bool) -> bool {
        match tree {
            Predicate::And(parts) => parts.iter().any(|p| self.keeps(p, beyond_scope)),
            Predicate::Or(parts) => {
                !parts.is_empty() && parts.iter().all(|p| self.whole(p)) && parts.iter().any(|p| self.keeps(p, beyond_scope))
            }
            Predicate::Not(inner) => self.keeps(inner, beyond_scope),
            Predicate::Match(m) => !(self.at(m.span) || (beyond_scope && is_scope(&m.field))),
            Predicate::Opaque { span, .. } => !self.at(*span),
        }
    }

    /// Whether no test of `tree` is left out.
    fn whole(&self, tree: &Predicate) -> bool {
        leaves(tree).iter().all(|(_, span)| !self.at(*span))
    }

    /// A join or a threshold that defines which rows alert, lost: where and what.
    fn defining_stage(&self, stage: &Stage) -> Option<(Span, String)> {
        match stage {
            Stage::Join(Join { kind, span, .. }) if filters_rows(*kind) && self.at(*span) => {
                Some((*span, "the join that defines the rule is not kept".to_string()))
            }
            Stage::Aggregate(Aggregate { threshold: Some(threshold), span, .. }) if self.at(*span) || !self.whole(threshold) => {
                Some((*span, "the threshold (the condition on aggregated rows) that defines the rule is not kept".to_string()))
            }
            _ => None,
        }
    }
}

/// Joins that select rows (an outer join only adds columns).
fn filters_rows(kind: JoinKind) -> bool {
    !matches!(kind, JoinKind::LeftOuter | JoinKind::RightOuter | JoinKind::FullOuter)
}
