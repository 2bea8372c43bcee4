//! Correlation stages of a Sigma rule's Detection as KQL trees, in the forms KQL lowering reads
//! back into the same stages (`src/lower/correlate.rs`):
//!
//! - an aggregation: `summarize n = count() by bin(<time column>, 10m), X | where n >= 5`;
//! - a join: `A | join kind=inner (B) on $left.a == $right.b | where abs(T - T1) <= 10m`, the
//!   window comparing the first rule's event time with the joined rule's. Kusto names a right
//!   column that clashes with a left one `X1` (`X2` when that is taken too), so the joined
//!   rule's time column is named by how many sides before it have that column.
//!
//! Fixed bins and a window measured from the first rule only differ from Sigma's `timespan`:
//! both are reported as losses (`losses`).

use super::Writer;
use super::condition::Columns;
use super::profile::Profile;
use crate::diag::{Code, Problem};
use crate::emit::{Subject, loss_at};
use crate::ir::detection::{AggFunction, Aggregate, Detection, GroupKey, Input, Join, JoinKind, Stage};
use crate::kql::ast::{BinaryOp, Expr, NamedExpr, OperatorKind, OptionParam, call};

/// Every Log Analytics table has it, besides its own time column.
const INGESTION_TIME: &str = "TimeGenerated";

impl Writer<'_> {
    pub(super) fn aggregate(&self, aggregate: &Aggregate) -> Result<Expr, Vec<Problem>> {
        let entry = self.first_entry(aggregate.input)?;
        let columns = Columns::of_entry(self.profile, &entry);
        let rows = self.input(aggregate.input)?;
        let aggregates: Vec<NamedExpr> = aggregate
            .aggregations
            .iter()
            .map(|a| {
                let field = a.field.as_ref().map(|f| columns.column(f));
                match (a.function, field) {
                    (AggFunction::Count, None) => Ok(NamedExpr::named(a.name.as_str(), call("count", []))),
                    (AggFunction::DistinctCount, Some(f)) => Ok(NamedExpr::named(a.name.as_str(), call("dcount", [f]))),
                    _ => Err(self.error(
                        Code::CorrelationUnsupported,
                        a.span.start,
                        format!("the aggregation `{}` has no KQL translation here", a.name),
                    )),
                }
            })
            .collect::<Result<_, _>>()?;
        let key = |k: &GroupKey| {
            let column = columns.column(&k.field);
            NamedExpr::from(match k.bin {
                Some(size) => call("bin", [column, Expr::timespan(size.ticks())]),
                None => column,
            })
        };
        let by = aggregate.group_by.iter().map(key).collect();
        let mut out = rows.pipe(OperatorKind::Summarize { params: Vec::new(), aggregates, by });
        if let Some(threshold) = &aggregate.threshold {
            // The threshold reads the summarize's own columns, which no table maps.
            let counts = Columns::new(self.profile, "");
            let test = counts.predicate(threshold).map_err(|u| self.error(Code::CorrelationUnsupported, u.at, u.reason))?;
            out = out.pipe(OperatorKind::Where(test.into()));
        }
        Ok(out)
    }

    pub(super) fn join(&self, join: &Join) -> Result<Expr, Vec<Problem>> {
        let at = join.span.start;
        if join.kind != JoinKind::Inner {
            return Err(self.error(
                Code::CorrelationUnsupported,
                at,
                format!("a `{:?}` join has no KQL translation from Sigma", join.kind),
            ));
        }
        if join.keys.is_empty() {
            return Err(self.error(Code::CorrelationUnsupported, at, "the rules share no `group-by` field to join on".into()));
        }
        let (left_entry, right_entry) = (self.first_entry(join.left)?, self.first_entry(join.right)?);
        let left = Columns::of_entry(self.profile, &left_entry);
        let right = Columns::of_entry(self.profile, &right_entry);
        let mut on = Vec::new();
        for key in &join.keys {
            match (left.whole_column(&key.left), right.whole_column(&key.right)) {
                (Some(l), Some(r)) => on.push(Expr::binary(BinaryOp::Eq, Expr::name("$left").member(l), Expr::name("$right").member(r))),
                _ => {
                    return Err(self.error(
                        Code::CorrelationUnsupported,
                        at,
                        format!("the join key `{}` = `{}` is not a whole column on both sides", key.left, key.right),
                    ));
                }
            }
        }
        let params = vec![OptionParam::word("kind", "inner")];
        let joined = Expr::paren(self.input(join.right)?);
        let mut out = self.input(join.left)?.pipe(OperatorKind::Join { params, right: joined, on });
        if let Some(window) = join.window {
            let first = self.profile.time_column(left.table);
            let time = self.profile.time_column(&right_entry.table);
            let clashes = self.sides(join.left)?.iter().filter(|table| has_column(self.profile, table, time)).count();
            let joined = if clashes == 0 { time.to_string() } else { format!("{time}{clashes}") };
            let apart = call("abs", [Expr::binary(BinaryOp::Sub, Expr::name(first), Expr::name(joined))]);
            out = out.pipe(OperatorKind::Where(Expr::binary(BinaryOp::Le, apart, Expr::timespan(window.ticks())).into()));
        }
        Ok(out)
    }

    /// The tables of a chain of joins, first side first.
    fn sides(&self, input: Input) -> Result<Vec<String>, Vec<Problem>> {
        match chained(self.subject.detection, input) {
            Some(join) => {
                let mut tables = self.sides(join.left)?;
                tables.push(self.table(join.right)?);
                Ok(tables)
            }
            None => Ok(vec![self.table(input)?]),
        }
    }
}

/// The join whose rows `input` is.
fn chained(detection: &Detection, input: Input) -> Option<&Join> {
    match input {
        Input::Stage(i) => match detection.stages.get(i) {
            Some(Stage::Join(join)) => Some(join),
            _ => None,
        },
        Input::Source(_) => None,
    }
}

/// Whether the table has that time column: its own, or the ingestion time every table has.
fn has_column(profile: &Profile, table: &str, column: &str) -> bool {
    column == INGESTION_TIME || profile.time_column(table) == column
}

/// How the KQL written for a Sigma correlation differs from it.
pub(super) fn losses(subject: &Subject) -> Vec<Problem> {
    let detection = subject.detection;
    let binned = detection.stages.iter().filter_map(|stage| match stage {
        Stage::Aggregate(aggregate) if aggregate.group_by.iter().any(|k| k.bin.is_some()) => Some(aggregate.span),
        _ => None,
    });
    let bins = binned.map(|span| {
        let message = "the timespan is written as fixed time bins: events of one timespan that straddle a bin boundary are counted apart, so some groups Sigma counts are missed";
        loss_at(subject, Code::WindowChanged, span, message)
    });
    // One loss for a chain of three or more rules, at its first join that extends a join.
    let extended = detection.stages.iter().find_map(|stage| match stage {
        Stage::Join(join) if join.window.is_some() && chained(detection, join.left).is_some() => Some(join.span),
        _ => None,
    });
    let chain = extended.map(|span| {
        let message = "the third and later rules must match within the timespan of the first rule's event, not of each other: their events may spread over twice the timespan";
        loss_at(subject, Code::WindowChanged, span, message)
    });
    // A join window has no direction: `abs(a - b) <= window` lets the rules match in any order.
    let ordered = detection.stages.iter().find_map(|stage| match stage {
        Stage::Join(join) if join.ordered => Some(join.span),
        _ => None,
    });
    // The join is kept: its window is written without a direction (not a lost join).
    let order = ordered.map(|span| {
        loss_at(
            subject,
            Code::WindowChanged,
            span,
            "the rules must match in the order listed: the join window has no direction, so any order matches",
        )
    });
    bins.chain(chain).chain(order).collect()
}
