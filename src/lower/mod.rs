//! Lowering: a KQL query's syntax tree → `Detection`, the meaning a detection engineer reads
//! (Sigma documents lower in `sigma`).
//!
//! ```text
//!  statements ─▶ scope (let constants, lists, tabular lets, functions)
//!  query ─▶ pipeline: sources and operators ─▶ predicates (where), stages (join, lookup,
//!           summarize + threshold, union, later filters), columns (renames, computed), outputs
//! ```
//!
//! Lowering is total: it always returns a `Detection`, never panics, and lists with its span
//! whatever it could not express (`Detection::unmodelled`). A condition it cannot express stays in
//! the predicate tree as `Predicate::Opaque`, so no event filter is ever silently widened.
//!
//! Decisions, each where the meaning is kept:
//! - A column computed by `extend` reads its field through renames, `tostring()`,
//!   `column_ifexists("X", ...)` and `parse_json()`/`todynamic()` (a path into it is a path into
//!   the field's JSON value, dynamic column or JSON string alike); `tolower`/`toupper` only under
//!   a case-insensitive operator, or a case-sensitive one whose values are already in that case.
//!   Else an expression `Scalar` holds (see `scalar`) makes a column of its own, computed by the
//!   source (or by an extend stage after a stage) and read by name like an event field; on a
//!   source, not when its name is a field the source's filter already read (the source computes
//!   its columns before its filter). Anything else used in a condition, group key or join key is
//!   opaque and listed.
//! - `X in (subquery)` / `X !in (subquery)` as a top-level condition is a left semi / anti join
//!   with the subquery's single column; `in~`, `has_any` over a subquery stay opaque.
//! - `distinct A, B` is `summarize by A, B`; `arg_max`/`arg_min` are aggregations; `parse`
//!   keeps every row (its columns are opaque), `parse-where`, `mv-expand`, `take`, `top`,
//!   `evaluate`... change the rows and are listed; `sort`, `render`, `project-reorder`, `as`
//!   change nothing that is detected and are ignored.
//! - A `let` used twice is lowered twice (two sources), so each use carries its own filter.
//! - After a join or union, a column one input defined keeps reading its field only where the
//!   stage's rows surely hold that field by name (a right field comes back as `X1` when the left
//!   side may have `X`); otherwise a condition on it is opaque. A source records the columns a
//!   `project` keeps (`EventSource::columns`), which decide those names.

mod columns;
mod correlate;
mod outputs;
mod pipeline;
mod predicate;
mod scalar;
mod scope;
mod sigma;
mod values;

use crate::ir::detection::{Detection, EntityUse, Predicate, Unmodelled};
use crate::ir::{Logic, Rule};
use crate::kql::{self, Span, ast};
use crate::sigma::{Document, Filter};
use scope::Scope;
use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Parses and lowers one query.
pub fn lower_query(text: &str) -> Detection {
    lower_parsed(text, &kql::parse(text))
}

/// Lowers one query already parsed (`parsed` is `text`'s parse).
fn lower_parsed(text: &str, parsed: &kql::Parsed) -> Detection {
    let mut lowerer = Lowerer::new(text);
    for error in &parsed.errors {
        lowerer.unmodelled("syntax error", &error.message, error.span);
    }
    for escape in kql::octal_escapes(text) {
        let reason = "Kusto documents no meaning for an octal escape in a string; engines read it differently";
        lowerer.unmodelled("octal escape", reason, escape);
    }
    lowerer.script(&parsed.ast);
    lowerer.finish()
}

/// How many rules this process has lowered (KQL queries of rules, Sigma documents as read):
/// lets a test prove that a run lowers each rule once, however many targets read it.
static LOWERED: AtomicUsize = AtomicUsize::new(0);

pub fn rules_lowered() -> usize {
    LOWERED.load(Ordering::Relaxed)
}

/// Lowers a Sigma document with the documents of its file it names or that name it: the Sigma
/// reader's call, made as it reads the rule (see `ir::SigmaLogic`).
pub fn lower_sigma(document: &Document, correlated: &[&Document], filters: &[&Filter]) -> Detection {
    LOWERED.fetch_add(1, Ordering::Relaxed);
    sigma::lower(document, correlated, filters)
}

/// What a rule detects, with which output columns its entity mappings read: a KQL rule's query
/// lowered now, a Sigma rule's Detection as its reader lowered it.
pub fn lower_rule(rule: &Rule) -> Arc<Detection> {
    let mut detection = match &rule.logic {
        Some(Logic::Kql(query)) => {
            LOWERED.fetch_add(1, Ordering::Relaxed);
            Arc::new(lower_parsed(&query.text, query.parsed()))
        }
        Some(Logic::Sigma(logic)) => Arc::clone(&logic.detection),
        None => {
            let missing =
                Unmodelled { construct: "query".into(), reason: "the rule has no query".into(), changes_rows: true, span: Span::default() };
            Arc::new(Detection { unmodelled: vec![missing], ..Detection::default() })
        }
    };
    let entities = entity_uses(rule, &detection);
    if entities != detection.entities {
        Arc::make_mut(&mut detection).entities = entities;
    }
    detection
}

/// One `EntityUse` per field mapping. When the result keeps all input columns, a mapped column
/// the query never names may still be an event field, so it counts as present.
fn entity_uses(rule: &Rule, detection: &Detection) -> Vec<EntityUse> {
    let mappings = rule.sentinel.iter().flat_map(|s| s.entity_mappings.iter().flatten());
    mappings
        .flat_map(|mapping| {
            mapping.field_mappings.iter().map(|field| EntityUse {
                entity_type: mapping.entity_type.clone(),
                identifier: field.identifier.clone(),
                column: field.column_name.clone(),
                column_in_output: detection.outputs.all_columns || detection.outputs.fields.iter().any(|o| o.name == field.column_name),
            })
        })
        .collect()
}

/// The span of a `computed_tests` entry: that of its `Match`.
fn computed_test_span(test: &Predicate) -> Option<Span> {
    match test {
        Predicate::Not(inner) => computed_test_span(inner),
        Predicate::Match(m) => Some(m.span),
        _ => None,
    }
}

/// Nesting deeper than this (let bodies calling each other) is reported instead of followed.
const MAX_DEPTH: usize = 64;

/// The state of one lowering: the Detection being built and the `let` bindings in scope.
struct Lowerer<'a> {
    text: &'a str,
    scope: Scope<'a>,
    detection: Detection,
    /// Nesting of tabular expressions being lowered (let bodies, functions, subqueries).
    depth: usize,
    /// Nesting of let bindings being read for a value (see `through_let`).
    let_depth: Cell<usize>,
}

impl<'a> Lowerer<'a> {
    fn new(text: &'a str) -> Self {
        Lowerer { text, scope: Scope::default(), detection: Detection::default(), depth: 0, let_depth: Cell::new(0) }
    }

    fn finish(mut self) -> Detection {
        // Source order, so the list reads like the query; a let used twice is lowered twice but
        // what it cannot model is listed once.
        let unmodelled = &mut self.detection.unmodelled;
        unmodelled
            .sort_by(|a, b| (a.span.start, a.span.end, &a.construct, &a.reason).cmp(&(b.span.start, b.span.end, &b.construct, &b.reason)));
        unmodelled.dedup();
        let tests = &mut self.detection.computed_tests;
        tests.sort_by_key(|test| computed_test_span(test).map(|span| (span.start, span.end)));
        tests.dedup();
        self.detection
    }

    /// The statements of a query: `let`s go into scope; the last tabular statement is the result.
    fn script(&mut self, script: &'a ast::Script) {
        let upto = self.statements(&script.statements);
        let queries: Vec<&ast::Expr> =
            script.statements.iter().filter_map(|s| if let ast::StatementKind::Query(e) = &s.kind { Some(e) } else { None }).collect();
        let Some((last, earlier)) = queries.split_last() else {
            self.unmodelled("query", "no tabular expression: the query returns nothing", script.span);
            return;
        };
        for extra in earlier {
            self.unmodelled("several results", "only the last tabular statement is lowered", extra.span);
        }
        let rows = self.tabular(last, upto);
        self.detection.result = Some(rows.at);
        self.detection.outputs = rows.outputs;
    }

    /// Binds `let`s in order; reports statements that are neither lets nor queries. Returns the
    /// scope size after the last binding.
    fn statements(&mut self, statements: &'a [ast::Statement]) -> usize {
        for statement in statements {
            match &statement.kind {
                ast::StatementKind::Let { name, value } => self.scope.bind(&name.name, value),
                // Queries are lowered by the caller; errors are reported already; `set` options
                // tune execution, not which rows match.
                ast::StatementKind::Query(_) | ast::StatementKind::Error | ast::StatementKind::Set { .. } => {}
                ast::StatementKind::QueryParameters(_) | ast::StatementKind::AliasDatabase { .. } => {
                    self.unmodelled("declaration", "query parameters and database aliases are not modelled", statement.span)
                }
            }
        }
        self.scope.len()
    }

    /// Something lowering cannot express that may change which rows come back.
    fn unmodelled(&mut self, construct: &str, reason: &str, span: Span) {
        self.note_unmodelled(construct, reason, span, true);
    }

    /// Something lowering cannot express that only makes column values (the rows stay the same).
    fn unmodelled_values(&mut self, construct: &str, reason: &str, span: Span) {
        self.note_unmodelled(construct, reason, span, false);
    }

    fn note_unmodelled(&mut self, construct: &str, reason: &str, span: Span, changes_rows: bool) {
        let item = Unmodelled { construct: construct.to_string(), reason: reason.to_string(), changes_rows, span };
        self.detection.unmodelled.push(item);
    }

    /// The query text a span covers; empty when the span is out of range.
    fn text_of(&self, span: Span) -> &'a str {
        self.text.get(span.start..span.end).unwrap_or_default()
    }
}
