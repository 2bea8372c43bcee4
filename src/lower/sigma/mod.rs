//! Lowering Sigma: a parsed Sigma document → `Detection`.
//!
//! One `EventSource` per Sigma rule: no tables, its `logsource` as written, and its detection
//! as the source's filter, fields named as the rule names them. A correlation adds the rules it
//! names as sources and aggregates or joins them (`correlation`). Filter documents that name
//! the rule are ANDed into its filter (a filter's condition carries its own `not`).
//!
//! Decisions:
//! - One meaning, one shape: nested `and`s (and `or`s) are flattened and a group of one part is
//!   that part, however the rule groups its searches (`joined`), so a rule and its normalized
//!   Sigma (`--to sigma`) lower alike.
//! - Keyword searches (values with no field) match anywhere in the event, which no `Match`
//!   expresses: they stay `Opaque` and are listed in `unmodelled`, so every target sees them.
//! - Conditions: a list of conditions means any of them; `1 of`/`all of` expand to `Or`/`And`
//!   of the searches they cover, in document order; `them` skips names starting with `_`.
//! - `timeframe` (Sigma v1) has no place in the Detection (a plain rule has no window): listed
//!   in `unmodelled`. A correlation's `timespan` is a time bin or a join window.

mod correlation;
mod values;

use crate::ir::LogSource;
use crate::ir::detection::{Detection, EventSource, Input, Output, OutputOrigin, Outputs, Predicate, Span, Unmodelled};
use crate::sigma::{Condition, DetectionSection, Document, DocumentKind, Filter, Search, SearchBody};

/// Lowers a Sigma rule, correlation or filter document, with the documents of its file that
/// it names (`correlated`, in its order) or that name it (`filters`).
pub fn lower(document: &Document, correlated: &[&Document], filters: &[&Filter]) -> Detection {
    let mut lowering = Lowering { detection: Detection::default() };
    let result = match &document.kind {
        DocumentKind::Rule(_) => {
            let at = lowering.rule_source(document, filters);
            lowering.detection.outputs = lowering.outputs(document, at);
            Some(at)
        }
        DocumentKind::Correlation(correlation) => Some(lowering.correlation(correlation, correlated, document.span)),
        DocumentKind::Filter(_) => {
            lowering.unmodelled("filter", "a filter document is applied to the rules it names; alone it detects nothing", document.span);
            None
        }
    };
    lowering.detection.result = result;
    lowering.detection.unmodelled.sort_by_key(|u| (u.span.start, u.span.end));
    lowering.detection
}

struct Lowering {
    detection: Detection,
}

impl Lowering {
    fn unmodelled(&mut self, construct: &str, reason: &str, span: Span) {
        let item = Unmodelled { construct: construct.to_string(), reason: reason.to_string(), changes_rows: true, span };
        self.detection.unmodelled.push(item);
    }

    /// The source of one detection rule, with the filters that name it; a document that is
    /// not a detection rule matches nothing (the caller reported why).
    fn rule_source(&mut self, document: &Document, filters: &[&Filter]) -> Input {
        let name = document.name.clone().unwrap_or_else(|| document.title.clone());
        let DocumentKind::Rule(rule) = &document.kind else { return self.source(name, Predicate::Or(Vec::new()), None, document.span) };
        let mut parts = vec![self.section(&rule.detection)];
        parts.extend(filters.iter().map(|f| self.section(&f.detection)));
        let filter = joined(true, parts);
        self.source(name, filter, Some(rule.logsource.clone()), document.span)
    }

    fn source(&mut self, name: String, filter: Predicate, logsource: Option<LogSource>, span: Span) -> Input {
        let source = EventSource { name, tables: Vec::new(), filter, computed: Vec::new(), columns: None, logsource, span };
        self.detection.sources.push(source);
        Input::Source(self.detection.sources.len() - 1)
    }

    /// A rule's `fields`, as outputs of its (unnarrowed) events.
    fn outputs(&self, document: &Document, at: Input) -> Outputs {
        let DocumentKind::Rule(rule) = &document.kind else { return Outputs { all_columns: true, fields: Vec::new() } };
        let fields = rule
            .fields
            .iter()
            .map(|(name, span)| Output {
                name: name.clone(),
                origin: OutputOrigin::Field(crate::ir::detection::Field::column(name)),
                made_by: at,
                span: *span,
            })
            .collect();
        Outputs { all_columns: true, fields }
    }

    fn section(&mut self, section: &DetectionSection) -> Predicate {
        if let Some((timeframe, span)) = &section.timeframe {
            let reason = format!("the rule counts only within {timeframe}; the Detection has no time window for a plain rule");
            self.unmodelled("timeframe", &reason, *span);
        }
        let conditions = section.conditions.iter().map(|c| self.condition(c, &section.searches)).collect();
        joined(false, conditions)
    }

    fn condition(&mut self, condition: &Condition, searches: &[Search]) -> Predicate {
        match condition {
            Condition::And(parts) => joined(true, parts.iter().map(|p| self.condition(p, searches)).collect()),
            Condition::Or(parts) => joined(false, parts.iter().map(|p| self.condition(p, searches)).collect()),
            Condition::Not(inner) => Predicate::Not(Box::new(self.condition(inner, searches))),
            // The reader checked that every name exists; a missing one matches nothing.
            Condition::Search { name, .. } => match searches.iter().find(|s| &s.name == name) {
                Some(search) => self.search(&search.body),
                None => Predicate::Or(Vec::new()),
            },
            Condition::Of { all, target, .. } => {
                let parts = searches.iter().filter(|s| target.covers(&s.name)).map(|s| self.search(&s.body)).collect();
                joined(*all, parts)
            }
        }
    }

    fn search(&mut self, body: &SearchBody) -> Predicate {
        match body {
            SearchBody::All(tests) => joined(true, tests.iter().map(|t| self.field_test(t)).collect()),
            SearchBody::Any(bodies) => joined(false, bodies.iter().map(|b| self.search(b)).collect()),
            SearchBody::Keywords(test) => self.field_test(test),
        }
    }
}

/// Parts joined by `and` (`all`) or `or`, flattened into their nested groups of the same kind;
/// one part stands alone.
pub(super) fn joined(all: bool, parts: Vec<Predicate>) -> Predicate {
    let mut flat = Vec::new();
    for part in parts {
        match part {
            Predicate::And(inner) if all => flat.extend(inner),
            Predicate::Or(inner) if !all => flat.extend(inner),
            other => flat.push(other),
        }
    }
    match flat.len() {
        1 => flat.remove(0),
        _ if all => Predicate::And(flat),
        _ => Predicate::Or(flat),
    }
}
