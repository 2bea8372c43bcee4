//! Joins, aggregations and outputs → the `match`, `outcome` and `condition` sections, and the
//! placeholder lines in `events` that tie event variables together.
//!
//! - a join key is a placeholder both sides equal (`$e1.… = $account`, `$e2.… = $account`);
//!   an anti join is the absence of the other side (`!$e2`); an ordered join (Sigma's
//!   `temporal_ordered`) compares the two events' times (`$e1…seconds <= $e2…seconds`);
//! - a `summarize … by` key is a placeholder, a `bin(TimeGenerated, …)` key the window;
//! - a count threshold is `#e > N`, other thresholds compare outcome variables;
//! - the window is the join's or bin's, else the rule's query period, capped at YARA-L's 48h.

use super::events::{self, Variable};
use super::model::{CmpOp, Expr, FieldRef, Match, UdmPath};
use super::names::{self, EventVar, Names, OutcomeVar, Placeholder, Var};
use super::notes::Notes;
use super::predicate::{self, Scope};
use super::profile::Profile;
use super::text;
use crate::diag::Code;
use crate::ir::detection::{
    AggFunction, Aggregate, Aggregation, Field, Input, Join, JoinKind, MatchOp, OutputOrigin, Predicate, Span, Stage, Value,
};
use crate::ir::{Detection, Rule, Severity, TICKS_PER_SECOND, Timespan};

/// The longest match window YARA-L accepts.
const MAX_WINDOW: Timespan = Timespan::from_ticks(48 * 3_600 * TICKS_PER_SECOND);
/// Sentinel's default query period, for rules that state none.
const DEFAULT_WINDOW: Timespan = Timespan::from_ticks(3_600 * TICKS_PER_SECOND);

#[derive(Default)]
pub struct Sections {
    /// `events` lines per event variable, after the variable's own.
    pub bindings: Vec<(EventVar, Expr)>,
    pub matching: Option<Match>,
    pub outcome: Vec<(OutcomeVar, Expr)>,
    pub condition: Vec<Expr>,
}

/// An event variable's part in `condition`.
#[derive(Clone)]
enum Term {
    /// `$e`: such an event exists.
    Exists,
    /// Left out: the anti join's absent side, which only a TODO states.
    Absent,
    /// `#e > 5`.
    Count(CmpOp, Expr),
}

struct Builder<'a> {
    detection: &'a Detection,
    vars: &'a [Variable],
    profile: &'a Profile,
    names: Names,
    sections: Sections,
    placeholders: Vec<Placeholder>,
    window: Option<Timespan>,
    /// Each variable's term in `condition`.
    terms: Vec<Term>,
    /// Thresholds on outcome variables, by the aggregation's column name; the variable is
    /// named once outcomes are.
    thresholds: Vec<(String, CmpOp, Expr)>,
    /// The aggregation's outcomes, (column name, expression).
    aggregations: Vec<(String, Expr)>,
}

pub fn sections(detection: &Detection, vars: &[Variable], names: Names, profile: &Profile, rule: &Rule, notes: &mut Notes) -> Sections {
    let query_period = rule
        .sentinel
        .as_ref()
        .and_then(|s| s.schedule.query_period)
        .map(|d| Timespan::from_ticks(i64::try_from(d.total_seconds()).unwrap_or(i64::MAX).saturating_mul(TICKS_PER_SECOND)));
    let mut b = Builder {
        detection,
        vars,
        profile,
        names,
        sections: Sections::default(),
        placeholders: Vec::new(),
        window: None,
        terms: vec![Term::Exists; vars.len()],
        thresholds: Vec::new(),
        aggregations: Vec::new(),
    };
    let mut aggregated = false;
    for stage in &detection.stages {
        match stage {
            Stage::Join(join) => b.join(join, notes),
            Stage::Aggregate(aggregate) if !aggregated => {
                aggregated = true;
                b.aggregate(aggregate, notes);
            }
            Stage::Aggregate(aggregate) => {
                notes.todo(Code::CorrelationUnsupported, aggregate.span, "a second aggregation is not translated")
            }
            Stage::Filter { input, predicate, span } if b.after_aggregate(*input) => b.threshold(predicate, None, *span, notes),
            Stage::Filter { input, predicate, span } => b.filter(*input, predicate, *span, notes),
            // The rule's one event variable reads every part alike: a part's join or aggregation
            // would apply to the others too.
            Stage::Union { inputs, span } if inputs.iter().any(|i| matches!(i, Input::Stage(_))) => notes.todo(
                Code::CorrelationUnsupported,
                *span,
                "a `union` of joined or aggregated rows is not translated; its parts are read as one event stream",
            ),
            // Columns computed after a stage: conditions on them are reported as losses.
            Stage::Union { .. } | Stage::Extend { .. } => {}
        }
    }
    let matched = !b.placeholders.is_empty();
    if matched {
        let window = b.window.or(query_period).unwrap_or(DEFAULT_WINDOW);
        if window > MAX_WINDOW {
            let span = detection.stages.first().map_or(Span { start: 0, end: 0 }, stage_span);
            notes.todo(Code::WindowChanged, span, format!("the {} window is longer than YARA-L's 48h; 48h is used", text::window(window)));
        }
        b.sections.matching = Some(Match { placeholders: b.placeholders.clone(), window: window.min(MAX_WINDOW) });
    } else if vars.len() > 1 || !b.thresholds.is_empty() || b.terms.iter().any(|t| matches!(t, Term::Count(..))) {
        notes.todo(
            Code::CorrelationUnsupported,
            detection.stages.first().map_or(Span { start: 0, end: 0 }, stage_span),
            "no key to group events by; the correlation needs a match variable",
        );
        // Counts need a match section; without one, each variable is just required.
        b.thresholds.clear();
        for term in &mut b.terms {
            if matches!(term, Term::Count(..)) {
                *term = Term::Exists;
            }
        }
    }
    b.outcomes(matched, rule.severity, notes);
    b.condition();
    b.sections
}

fn stage_span(stage: &Stage) -> Span {
    match stage {
        Stage::Join(j) => j.span,
        Stage::Aggregate(a) => a.span,
        Stage::Union { span, .. } | Stage::Filter { span, .. } | Stage::Extend { span, .. } => *span,
    }
}

/// Risk score per severity, on Google's 0–100 scale.
pub fn risk_score(severity: Option<Severity>) -> u8 {
    match severity {
        Some(Severity::Informational) => 10,
        Some(Severity::Low) => 35,
        Some(Severity::Medium) | None => 50,
        Some(Severity::High) => 75,
        Some(Severity::Critical) => 95,
    }
}

impl Builder<'_> {
    fn first_source(&self, input: Input) -> Option<usize> {
        events::sources_of(self.detection, input).first().copied()
    }

    /// The source of an input whose table maps the field (after a join, a column can come from
    /// either side), else the first.
    fn source_for(&self, input: Input, field: &Field) -> Option<usize> {
        let sources = events::sources_of(self.detection, input);
        let key = field.to_string();
        let mapping = sources.iter().find(|&&s| self.profile.udm(events::table_of(self.detection, self.profile, Some(s)), &key).is_some());
        mapping.or(sources.first()).copied()
    }

    fn scope_of(&self, source: Option<usize>) -> Scope<'_> {
        Scope {
            var: &events::variable_of(self.vars, source).var,
            table: events::table_of(self.detection, self.profile, source),
            profile: self.profile,
        }
    }

    fn after_aggregate(&self, input: Input) -> bool {
        let Input::Stage(j) = input else { return false };
        match self.detection.stages.get(j) {
            Some(Stage::Aggregate(_)) => true,
            Some(Stage::Filter { input, .. }) => self.after_aggregate(*input),
            _ => false,
        }
    }

    /// A new placeholder named after a column; `match` groups by it.
    fn placeholder(&mut self, column: &str) -> Placeholder {
        let placeholder = self.names.placeholder(column);
        self.placeholders.push(placeholder.clone());
        placeholder
    }

    fn bind(&mut self, source: Option<usize>, field: &Field, placeholder: &Placeholder, span: Span, notes: &mut Notes) {
        let scope = self.scope_of(source);
        if scope.is_file_name(field) {
            // UDM has the full path only: events are tied by it, which splits one file name's group.
            let path = scope.path(field, span, notes);
            notes.todo(
                Code::TypeMismatch,
                span,
                format!("`{field}` holds a file name; events are grouped by its full path `{path}` instead"),
            );
        }
        let line = Expr::compare(scope.path(field, span, notes), CmpOp::Eq, Expr::Var(Var::Placeholder(placeholder.clone())));
        let var = scope.var.clone();
        self.sections.bindings.push((var, line));
    }

    fn join(&mut self, join: &Join, notes: &mut Notes) {
        let (left, right) = (self.first_source(join.left), self.first_source(join.right));
        if join.keys.is_empty() {
            notes.todo(Code::CorrelationUnsupported, join.span, "a join without keys is not translated");
        }
        for key in &join.keys {
            let placeholder = self.placeholder(&key.left.name);
            self.bind(left, &key.left, &placeholder, join.span, notes);
            self.bind(right, &key.right, &placeholder, join.span, notes);
        }
        self.window = self.window.or(join.window);
        if join.ordered {
            self.order(join);
        }
        match join.kind {
            // YARA-L states absence as `!$e2` in the condition; the side stays in `events`.
            JoinKind::LeftAnti | JoinKind::RightAnti => {
                let absent = if join.kind == JoinKind::LeftAnti { right } else { left };
                if let Some(i) = self.vars.iter().position(|v| absent.is_some_and(|s| v.sources.contains(&s))) {
                    let var = &self.vars[i].var;
                    notes.todo(Code::CorrelationUnsupported, join.span, format!("the anti join means no matching {var}: add `and !{var}` to the condition (left out: our YARA-L validator cannot parse `!`)"));
                    self.terms[i] = Term::Absent;
                }
            }
            JoinKind::LeftOuter | JoinKind::RightOuter | JoinKind::FullOuter => {
                notes.todo(
                    Code::CorrelationUnsupported,
                    join.span,
                    format!("the {:?} join needs both sides here; rows without a match are not alerted", join.kind),
                );
            }
            _ => {}
        }
    }

    /// An ordered join (Sigma's `temporal_ordered`): the joined rule's event comes no earlier
    /// than the event of the rule before it, to the second UDM event times carry.
    fn order(&mut self, join: &Join) {
        let (Some(&before), Some(after)) = (events::sources_of(self.detection, join.left).last(), self.first_source(join.right)) else {
            return;
        };
        let time = |source| {
            let var = events::variable_of(self.vars, Some(source)).var.clone();
            Expr::Field(FieldRef { var, path: UdmPath::Udm("metadata.event_timestamp.seconds".into()) })
        };
        let line = Expr::compare(time(before), CmpOp::Le, time(after));
        self.sections.bindings.push((events::variable_of(self.vars, Some(after)).var.clone(), line));
    }

    /// A later `where` on raw events joins its variable's `events`. After a join, a column
    /// may come from either side (renamed or not), so only parts whose fields all belong to
    /// the left table are written; the rest is a TODO.
    fn filter(&mut self, input: Input, predicate: &Predicate, span: Span, notes: &mut Notes) {
        let scope = self.scope_of(self.first_source(input));
        let joined = self.after_join(input);
        let parts = match predicate {
            Predicate::And(parts) => parts.as_slice(),
            other => std::slice::from_ref(other),
        };
        let mut lines = Vec::new();
        for part in parts {
            let mut fields = Vec::new();
            fields_of(part, &mut fields);
            if joined && !fields.iter().all(|f| self.profile.udm(scope.table, &f.to_string()).is_some()) {
                notes.todo(
                    Code::CorrelationUnsupported,
                    span,
                    "a condition on joined rows, whose columns may come from either side, is not translated",
                );
                continue;
            }
            lines.extend(events::conjuncts(part, &scope, notes));
        }
        let var = scope.var.clone();
        self.sections.bindings.extend(lines.into_iter().map(|l| (var.clone(), l)));
    }

    fn after_join(&self, input: Input) -> bool {
        let Input::Stage(j) = input else { return false };
        match self.detection.stages.get(j) {
            Some(Stage::Join(_)) => true,
            Some(Stage::Filter { input, .. }) => self.after_join(*input),
            _ => false,
        }
    }

    fn aggregate(&mut self, aggregate: &Aggregate, notes: &mut Notes) {
        for key in &aggregate.group_by {
            match key.bin {
                Some(bin) if bin.ticks() > 0 => self.window = Some(bin),
                _ => {
                    let placeholder = self.placeholder(&key.name);
                    self.bind(self.source_for(aggregate.input, &key.field), &key.field, &placeholder, aggregate.span, notes);
                }
            }
        }
        self.aggregate_outcomes(aggregate, notes);
        if let Some(threshold) = &aggregate.threshold {
            self.threshold(threshold, Some(aggregate), aggregate.span, notes);
        }
    }

    /// `count_ > 5` after an aggregation: `#e > 5` for a plain count, else the comparison of
    /// the aggregation's outcome variable.
    fn threshold(&mut self, predicate: &Predicate, aggregate: Option<&Aggregate>, span: Span, notes: &mut Notes) {
        let aggregate =
            aggregate.or_else(|| self.detection.stages.iter().find_map(|s| if let Stage::Aggregate(a) = s { Some(a) } else { None }));
        match predicate {
            Predicate::And(parts) => parts.iter().for_each(|p| self.threshold(p, aggregate, span, notes)),
            Predicate::Match(m) if m.field.path.is_empty() && m.values.len() == 1 => {
                let op = match m.op {
                    MatchOp::Gt => CmpOp::Gt,
                    MatchOp::Ge => CmpOp::Ge,
                    MatchOp::Lt => CmpOp::Lt,
                    MatchOp::Le => CmpOp::Le,
                    MatchOp::Equals => CmpOp::Eq,
                    _ => {
                        return notes.todo(
                            Code::CorrelationUnsupported,
                            m.span,
                            format!("the threshold on `{}` is not translated", m.field),
                        );
                    }
                };
                let number = match &m.values[0] {
                    Value::Int(i) => Expr::Int(*i),
                    Value::Real(r) if r.is_finite() => Expr::Real(*r),
                    _ => {
                        return notes.todo(
                            Code::CorrelationUnsupported,
                            m.span,
                            format!("the threshold on `{}` is not translated", m.field),
                        );
                    }
                };
                let found = aggregate.and_then(|a| a.aggregations.iter().find(|g| g.name == m.field.name).map(|g| (a, g)));
                match found {
                    Some((a, g)) if g.function == AggFunction::Count && g.condition.is_none() => {
                        // The count replaces the variable's own term: `#e > 5` implies `$e`.
                        let var = &events::variable_of(self.vars, self.first_source(a.input)).var;
                        let i = self.vars.iter().position(|v| v.var == *var).unwrap_or(0);
                        self.terms[i] = Term::Count(op, number);
                    }
                    Some(_) if self.aggregations.iter().any(|(name, _)| names::same_name(name, &m.field.name)) => {
                        self.thresholds.push((m.field.name.clone(), op, number))
                    }
                    _ => notes.todo(Code::CorrelationUnsupported, m.span, format!("the threshold on `{}` is not translated", m.field)),
                }
            }
            _ => notes.todo(Code::CorrelationUnsupported, span, "a condition on aggregated rows is not translated"),
        }
    }

    /// An aggregation as an outcome aggregate, when YARA-L has its function.
    fn aggregation_outcome(&self, a: &Aggregate, g: &Aggregation, notes: &mut Notes) -> Option<Expr> {
        let source = g.field.as_ref().map_or_else(|| self.first_source(a.input), |f| self.source_for(a.input, f));
        let scope = self.scope_of(source);
        // `countif(p)`: the events meeting `p`, counted as Google's rules do, `sum(if(p, 1, 0))`.
        if let (AggFunction::Count, Some(condition)) = (g.function, &g.condition)
            && let Some(test) = predicate::condition(condition, &scope, notes)
        {
            return Some(Expr::call("sum", vec![Expr::call("if", vec![test, Expr::Int(1), Expr::Int(0)])]));
        }
        let function = match (g.function, &g.condition) {
            (_, Some(_)) => None,
            (AggFunction::Count, None) => {
                let id = FieldRef { var: scope.var.clone(), path: UdmPath::Udm("metadata.id".to_string()) };
                return Some(Expr::call("count", vec![Expr::Field(id)]));
            }
            (AggFunction::DistinctCount, None) => Some("count_distinct"),
            (AggFunction::Sum, None) => Some("sum"),
            (AggFunction::Min, None) => Some("min"),
            (AggFunction::Max, None) => Some("max"),
            (AggFunction::MakeSet | AggFunction::TakeAny, None) => Some("array_distinct"),
            (AggFunction::MakeList, None) => Some("array"),
            _ => None,
        };
        match (function, &g.field) {
            (Some(function), Some(field)) => Some(Expr::call(function, vec![scope.path(field, g.span, notes)])),
            _ => {
                notes.todo(
                    Code::CorrelationUnsupported,
                    g.span,
                    format!("the aggregation `{}` ({:?}) has no YARA-L outcome form", g.name, g.function),
                );
                None
            }
        }
    }

    fn aggregate_outcomes(&mut self, a: &Aggregate, notes: &mut Notes) {
        for g in &a.aggregations {
            if let Some(expression) = self.aggregation_outcome(a, g, notes) {
                self.aggregations.push((g.name.clone(), expression));
            }
        }
    }

    /// `$risk_score`, the aggregations (when events are grouped), then the output fields. A
    /// value a placeholder or an earlier outcome already holds is not repeated.
    fn outcomes(&mut self, matched: bool, severity: Option<Severity>, notes: &mut Notes) {
        let score = Expr::Int(i64::from(risk_score(severity)));
        let mut outcome = vec![(self.names.risk_score(), if matched { Expr::call("max", vec![score]) } else { score })];
        if matched {
            for (name, expression) in std::mem::take(&mut self.aggregations) {
                if let Some(var) = self.names.outcome(&name) {
                    outcome.push((var, expression));
                }
            }
        }
        let mut unmapped = Vec::new();
        for output in &self.detection.outputs.fields {
            if self.names.value_named(&output.name).is_some() {
                continue;
            }
            let source = match &output.origin {
                OutputOrigin::Field(field) => self.source_for(output.made_by, field),
                _ => self.first_source(output.made_by),
            };
            let field = match &output.origin {
                OutputOrigin::Field(field)
                    if self.profile.udm(events::table_of(self.detection, self.profile, source), &field.to_string()).is_some() =>
                {
                    field
                }
                OutputOrigin::Field(_) | OutputOrigin::Computed(_) => {
                    unmapped.push(output.name.as_str());
                    continue;
                }
                OutputOrigin::GroupKey | OutputOrigin::Aggregation(_) => continue,
            };
            let path = self.scope_of(source).path(field, output.span, notes);
            if let Some(var) = self.names.outcome(&output.name) {
                outcome.push((var, if matched { Expr::call("array_distinct", vec![path]) } else { path }));
            }
        }
        if let Some(first) = self.detection.outputs.fields.iter().find(|o| unmapped.contains(&o.name.as_str())) {
            notes.todo(Code::UnknownField, first.span, format!("outputs without a UDM field are left out: {}", unmapped.join(", ")));
        }
        self.sections.outcome = outcome;
    }

    /// Each variable's term, then the thresholds on the outcome variables now named.
    fn condition(&mut self) {
        let terms = self.vars.iter().zip(&self.terms).filter_map(|(v, term)| match term {
            Term::Exists => Some(Expr::Var(Var::Event(v.var.clone()))),
            Term::Absent => None,
            Term::Count(op, number) => Some(Expr::compare(Expr::Count(v.var.clone()), *op, number.clone())),
        });
        let mut condition: Vec<Expr> = terms.collect();
        for (name, op, number) in &self.thresholds {
            if let Some(var) = self.names.value_named(name) {
                condition.push(Expr::compare(Expr::Var(var), *op, number.clone()));
            }
        }
        self.sections.condition = condition;
    }
}

/// Every field a predicate reads, on either side of a comparison.
fn fields_of<'p>(predicate: &'p Predicate, out: &mut Vec<&'p Field>) {
    match predicate {
        Predicate::And(parts) | Predicate::Or(parts) => parts.iter().for_each(|p| fields_of(p, out)),
        Predicate::Not(inner) => fields_of(inner, out),
        Predicate::Match(m) => {
            out.push(&m.field);
            out.extend(m.values.iter().filter_map(|v| if let Value::Field(f) = v { Some(f) } else { None }));
        }
        Predicate::Opaque { .. } => {}
    }
}
