//! Joins, aggregations and outputs → the `match`, `outcome` and `condition` sections, and the
//! placeholder lines in `events` that tie event variables together.
//!
//! - a join key is a placeholder both sides equal (`$e1.… = $account`, `$e2.… = $account`);
//!   an anti join is the absence of the other side (`!$e2`);
//! - a `summarize … by` key is a placeholder, a `bin(TimeGenerated, …)` key the window;
//! - a count threshold is `#e > N`, other thresholds compare outcome variables;
//! - the window is the join's or bin's, else the rule's query period, capped at YARA-L's 48h.

use super::events::{self, EventVar};
use super::notes::Notes;
use super::predicate::Scope;
use super::profile::Profile;
use super::text;
use crate::diag::Code;
use crate::ir::detection::{
    AggFunction, Aggregate, Aggregation, Field, Input, Join, JoinKind, MatchOp, OutputOrigin, Predicate, Span, Stage, Value,
};
use crate::ir::{Detection, Rule, Severity};

const TICKS_PER_SECOND: i64 = 10_000_000;
/// The longest match window YARA-L accepts.
const MAX_WINDOW: i64 = 48 * 3_600 * TICKS_PER_SECOND;
/// Sentinel's default query period, for rules that state none.
const DEFAULT_WINDOW: i64 = 3_600 * TICKS_PER_SECOND;

#[derive(Default)]
pub struct Sections {
    /// `events` lines per variable name, after the variable's own.
    pub bindings: Vec<(String, String)>,
    pub match_line: Option<String>,
    pub outcome: Vec<String>,
    pub condition: String,
}

struct Builder<'a> {
    detection: &'a Detection,
    vars: &'a [EventVar],
    profile: &'a Profile,
    sections: Sections,
    placeholders: Vec<String>,
    window: Option<i64>,
    /// Each variable's term in `condition` (`$e`, `!$e2`, `#e > 5`).
    terms: Vec<String>,
    /// Thresholds on outcome variables.
    thresholds: Vec<String>,
    /// Outcome variables of the aggregation, (name, expression).
    aggregations: Vec<(String, String)>,
}

pub fn sections(detection: &Detection, vars: &[EventVar], profile: &Profile, rule: &Rule, notes: &mut Notes) -> Sections {
    let query_period = rule
        .sentinel
        .as_ref()
        .and_then(|s| s.schedule.query_period)
        .map(|d| i64::try_from(d.total_seconds()).unwrap_or(i64::MAX).saturating_mul(TICKS_PER_SECOND));
    let terms = vars.iter().map(|v| format!("${}", v.name)).collect();
    let mut b = Builder {
        detection,
        vars,
        profile,
        sections: Sections::default(),
        placeholders: Vec::new(),
        window: None,
        terms,
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
        b.sections.match_line = Some(format!(
            "{} over {}",
            b.placeholders.iter().map(|p| format!("${p}")).collect::<Vec<_>>().join(", "),
            text::window(window.min(MAX_WINDOW))
        ));
    } else if vars.len() > 1 || !b.thresholds.is_empty() || b.terms.iter().any(|t| t.starts_with('#')) {
        notes.todo(
            Code::CorrelationUnsupported,
            detection.stages.first().map_or(Span { start: 0, end: 0 }, stage_span),
            "no key to group events by; the correlation needs a match variable",
        );
        // Counts need a match section; without one, each variable is just required.
        b.thresholds.clear();
        for (term, var) in b.terms.iter_mut().zip(vars) {
            if term.starts_with('#') {
                *term = format!("${}", var.name);
            }
        }
    }
    b.outcomes(matched, rule.severity, notes);
    let mut condition: Vec<String> = b.terms.iter().filter(|t| !t.is_empty()).cloned().collect();
    condition.extend(b.thresholds.clone());
    b.sections.condition = condition.join(" and ");
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
            var: &events::variable_of(self.vars, source).name,
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

    /// A fresh placeholder name from a column name.
    fn placeholder(&mut self, name: &str) -> String {
        let base = text::snake_case(name, "key");
        let mut candidate = base.clone();
        let mut n = 2;
        while self.placeholders.contains(&candidate) || candidate == "risk_score" {
            candidate = format!("{base}_{n}");
            n += 1;
        }
        self.placeholders.push(candidate.clone());
        candidate
    }

    fn bind(&mut self, source: Option<usize>, field: &Field, placeholder: &str, span: Span, notes: &mut Notes) {
        let scope = self.scope_of(source);
        let line = format!("{} = ${placeholder}", scope.path(field, span, notes));
        let var = scope.var.to_string();
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
        match join.kind {
            // YARA-L states absence as `!$e2` in the condition; the side stays in `events`.
            JoinKind::LeftAnti | JoinKind::RightAnti => {
                let absent = if join.kind == JoinKind::LeftAnti { right } else { left };
                if let Some(i) = self.vars.iter().position(|v| absent.is_some_and(|s| v.sources.contains(&s))) {
                    let name = &self.vars[i].name;
                    notes.todo(Code::CorrelationUnsupported, join.span, format!("the anti join means no matching ${name}: add `and !${name}` to the condition (left out: our YARA-L validator cannot parse `!`)"));
                    self.terms[i].clear();
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
        let var = scope.var.to_string();
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
                Some(bin) if bin > 0 => self.window = Some(bin),
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
                let symbol = match m.op {
                    MatchOp::Gt => ">",
                    MatchOp::Ge => ">=",
                    MatchOp::Lt => "<",
                    MatchOp::Le => "<=",
                    MatchOp::Equals => "=",
                    _ => {
                        return notes.todo(
                            Code::CorrelationUnsupported,
                            m.span,
                            format!("the threshold on `{}` is not translated", m.field),
                        );
                    }
                };
                let number = match &m.values[0] {
                    Value::Int(i) => i.to_string(),
                    Value::Real(r) if r.is_finite() => r.to_string(),
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
                        let var = events::variable_of(self.vars, self.first_source(a.input));
                        let i = self.vars.iter().position(|v| v.name == var.name).unwrap_or(0);
                        self.terms[i] = format!("#{} {symbol} {number}", var.name);
                    }
                    Some(_) if self.aggregations.iter().any(|(name, _)| *name == text::snake_case(&m.field.name, "value")) => {
                        self.thresholds.push(format!("${} {symbol} {number}", text::snake_case(&m.field.name, "value")))
                    }
                    _ => notes.todo(Code::CorrelationUnsupported, m.span, format!("the threshold on `{}` is not translated", m.field)),
                }
            }
            _ => notes.todo(Code::CorrelationUnsupported, span, "a condition on aggregated rows is not translated"),
        }
    }

    /// An aggregation as an outcome aggregate, when YARA-L has its function.
    fn aggregation_outcome(&self, a: &Aggregate, g: &Aggregation, notes: &mut Notes) -> Option<String> {
        let source = g.field.as_ref().map_or_else(|| self.first_source(a.input), |f| self.source_for(a.input, f));
        let scope = self.scope_of(source);
        let function = match (g.function, &g.condition) {
            (_, Some(_)) => None,
            (AggFunction::Count, None) => return Some(format!("count(${}.metadata.id)", scope.var)),
            (AggFunction::DistinctCount, None) => Some("count_distinct"),
            (AggFunction::Sum, None) => Some("sum"),
            (AggFunction::Min, None) => Some("min"),
            (AggFunction::Max, None) => Some("max"),
            (AggFunction::MakeSet | AggFunction::TakeAny, None) => Some("array_distinct"),
            (AggFunction::MakeList, None) => Some("array"),
            _ => None,
        };
        match (function, &g.field) {
            (Some(function), Some(field)) => Some(format!("{function}({})", scope.path(field, g.span, notes))),
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
                self.aggregations.push((text::snake_case(&g.name, "value"), expression));
            }
        }
    }

    /// `$risk_score`, the aggregations (when events are grouped), then the output fields.
    fn outcomes(&mut self, matched: bool, severity: Option<Severity>, notes: &mut Notes) {
        let score = risk_score(severity);
        let mut named: Vec<String> = self.placeholders.clone();
        let mut lines = vec![if matched { format!("$risk_score = max({score})") } else { format!("$risk_score = {score}") }];
        named.push("risk_score".to_string());
        if matched {
            for (name, expression) in &self.aggregations {
                if !named.contains(name) {
                    lines.push(format!("${name} = {expression}"));
                    named.push(name.clone());
                }
            }
        }
        let mut unmapped = Vec::new();
        for output in &self.detection.outputs.fields {
            let name = text::snake_case(&output.name, "value");
            if named.contains(&name) {
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
            lines.push(if matched { format!("${name} = array_distinct({path})") } else { format!("${name} = {path}") });
            named.push(name);
        }
        if let Some(first) = self.detection.outputs.fields.iter().find(|o| unmapped.contains(&o.name.as_str())) {
            notes.todo(Code::UnknownField, first.span, format!("outputs without a UDM field are left out: {}", unmapped.join(", ")));
        }
        self.sections.outcome = lines;
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
