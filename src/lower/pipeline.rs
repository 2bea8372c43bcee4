//! Tabular expressions: event sources (tables, `let`-bound pipelines, functions, `materialize`)
//! and the operators applied to their rows, one at a time.

use super::columns::{Columns, FieldRef, Fold, NotField};
use super::correlate::conjuncts;
use super::outputs;
use super::{Lowerer, MAX_DEPTH};
use crate::ir::detection::{Computed, EventSource, Field, Input, Output, OutputOrigin, Outputs, Predicate, Stage, Value};
use crate::kql::Span;
use crate::kql::ast::{Expr, ExprKind, FunctionDef, NamedExpr, Operator, OperatorKind, ParsePart, StatementKind};

/// Rows flowing through a pipeline: where they come from and what their columns are.
pub(super) struct Rows {
    pub at: Input,
    pub columns: Columns,
    pub outputs: Outputs,
    /// The stage a following `where` belongs to (an aggregate's threshold, a join's window).
    pub after: After,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum After {
    Other,
    Aggregate(usize),
    Join(usize),
}

impl Rows {
    /// Rows of a stage that made new columns: names now mean the stage's columns.
    pub fn of_stage(stage: usize, outputs: Outputs, after: After) -> Rows {
        Rows { at: Input::Stage(stage), columns: Columns::default(), outputs, after }
    }
}

impl<'a> Lowerer<'a> {
    pub(super) fn tabular(&mut self, expr: &'a Expr, upto: usize) -> Rows {
        if self.depth >= MAX_DEPTH {
            return self.opaque_source("nesting", "nested too deep to follow", expr.span);
        }
        self.depth += 1;
        let rows = self.tabular_kind(expr, upto);
        self.depth -= 1;
        rows
    }

    fn tabular_kind(&mut self, expr: &'a Expr, upto: usize) -> Rows {
        match &expr.kind {
            ExprKind::Paren(inner) => self.tabular(inner, upto),
            ExprKind::Name(name) => self.named_rows(&name.name, &[], expr.span, upto),
            ExprKind::Pattern(pattern) => self.table_source(pattern, pattern, expr.span),
            ExprKind::Call { target: None, name, args } => match (name.name.as_str(), args.as_slice()) {
                ("materialize", [arg]) => self.tabular(&arg.expr, upto),
                ("table", [arg]) => match self.constant(&arg.expr, upto) {
                    Some(Value::String(table)) => self.table_source(&table, &table, expr.span),
                    _ => self.opaque_source("table()", "a table named by a computed value is not modelled", expr.span),
                },
                _ => self.named_rows(&name.name, args, expr.span, upto),
            },
            ExprKind::Call { target: Some(_), .. } | ExprKind::Member { .. } => {
                self.opaque_source("cross-workspace", "a table in another workspace or database is not modelled", expr.span)
            }
            ExprKind::Pipeline { source, operators } => {
                let (mut rows, rest) = match (source, operators.split_first()) {
                    (Some(source), _) => (self.tabular(source, upto), operators.as_slice()),
                    (None, Some((first, rest))) => (self.source_operator(first, upto), rest),
                    (None, None) => return self.opaque_source("empty pipeline", "no rows", expr.span),
                };
                for operator in rest {
                    self.operator(&mut rows, operator, upto);
                    self.record_source_columns(&rows);
                }
                rows
            }
            _ => self.opaque_source("tabular expression", "not modelled as an event source", expr.span),
        }
    }

    /// A name used as rows: a `let`-bound pipeline, a `let` function, else a table (or a stored
    /// function such as an ASIM parser, which reads like one).
    fn named_rows(&mut self, name: &str, args: &'a [NamedExpr], span: Span, upto: usize) -> Rows {
        let first_new = self.detection.sources.len();
        let rows = match (self.scope.expr(name, upto), self.scope.function(name, upto)) {
            (Some((bound, at)), _) => self.tabular(bound, at),
            (None, Some(function)) => self.function_rows(name, function, args, span, upto),
            (None, None) => {
                if !args.is_empty() {
                    self.unmodelled("function arguments", "arguments of a stored function or parser are not modelled", span);
                }
                return self.table_source(name, name, span);
            }
        };
        // The let name names the one source it reads (the innermost let, when lets chain).
        if self.detection.sources.len() == first_new + 1
            && let Some(source) = self.detection.sources.last_mut()
            && (source.tables.first() == Some(&source.name) || source.name == "union")
        {
            source.name = name.to_string();
        }
        rows
    }

    /// A `let` function's body, its parameters bound to the call's arguments (by position or
    /// name, else their defaults).
    fn function_rows(&mut self, name: &str, function: &'a FunctionDef, args: &'a [NamedExpr], span: Span, upto: usize) -> Rows {
        let defaults_upto = self.scope.len();
        for (i, param) in function.params.iter().enumerate() {
            let named = args.iter().find(|a| a.names.first().is_some_and(|n| n.name == param.name.name));
            let positional = args.get(i).filter(|a| a.names.is_empty());
            match (named.or(positional), &param.default) {
                (Some(arg), _) => self.scope.bind_arg(&param.name.name, &arg.expr, upto),
                (None, Some(default)) => self.scope.bind_arg(&param.name.name, default, defaults_upto),
                (None, None) => return self.opaque_source(&format!("{name}()"), "a call that leaves a parameter without a value", span),
            }
        }
        // The body's lets go after every binding so far: it may also see lets written after the
        // function, a harmless widening since a name it uses resolves the same way in practice.
        let body_upto = self.statements(&function.body);
        let result = function.body.iter().rev().find_map(|s| if let StatementKind::Query(e) = &s.kind { Some(e) } else { None });
        match result {
            Some(result) => self.tabular(result, body_upto),
            None => self.opaque_source(&format!("{name}()"), "the function body has no tabular result", span),
        }
    }

    fn table_source(&mut self, name: &str, table: &str, span: Span) -> Rows {
        let source = EventSource {
            name: name.to_string(),
            tables: vec![table.to_string()],
            filter: Predicate::always(),
            computed: Vec::new(),
            columns: None,
            logsource: None,
            span,
        };
        self.push_source(source)
    }

    pub(super) fn push_source(&mut self, source: EventSource) -> Rows {
        self.detection.sources.push(source);
        let at = Input::Source(self.detection.sources.len() - 1);
        Rows { at, columns: Columns::default(), outputs: Outputs { all_columns: true, fields: Vec::new() }, after: After::Other }
    }

    /// Rows lowering cannot see into: a source with no tables whose columns are all unknown.
    pub(super) fn opaque_source(&mut self, construct: &str, reason: &str, span: Span) -> Rows {
        self.unmodelled(construct, reason, span);
        let source = EventSource {
            name: construct.to_string(),
            tables: Vec::new(),
            filter: Predicate::always(),
            computed: Vec::new(),
            columns: None,
            logsource: None,
            span,
        };
        let mut rows = self.push_source(source);
        rows.columns.make_unknown(construct);
        rows
    }

    /// An operator that produces rows itself, at the start of a pipeline.
    fn source_operator(&mut self, operator: &'a Operator, upto: usize) -> Rows {
        match &operator.kind {
            OperatorKind::Union { .. } => self.union(None, operator, upto),
            OperatorKind::Datatable { .. } => self.opaque_source("datatable", "inline rows, not events", operator.span),
            _ => {
                let construct = operator.kind.keyword();
                self.opaque_source(construct, "an operator that makes rows itself is not modelled as an event source", operator.span)
            }
        }
    }

    fn operator(&mut self, rows: &mut Rows, operator: &'a Operator, upto: usize) {
        let after = rows.after;
        rows.after = After::Other;
        let span = operator.span;
        match &operator.kind {
            OperatorKind::Where(condition) => {
                rows.after = after;
                self.filter(rows, &condition.expr, upto);
            }
            OperatorKind::Extend(items) => {
                for item in items {
                    self.define(rows, item, upto);
                }
            }
            OperatorKind::Project(items) => {
                let kept = std::mem::take(&mut rows.outputs.fields);
                rows.outputs.all_columns = false;
                for item in items {
                    match (&item.expr.kind, item.names.is_empty()) {
                        (ExprKind::Name(name), true) => {
                            let passed = kept.iter().find(|o| o.name == name.name).cloned();
                            let output = passed.unwrap_or_else(|| self.field_output(rows, &name.name, &item.expr, upto));
                            outputs::set(&mut rows.outputs, output);
                        }
                        _ => self.define(rows, item, upto),
                    }
                }
            }
            OperatorKind::ProjectAway(names) => {
                for pattern in names.iter().filter_map(outputs::pattern_text) {
                    outputs::remove_matching(&mut rows.outputs, &pattern);
                }
            }
            OperatorKind::ProjectKeep(names) => {
                let patterns: Vec<String> = names.iter().filter_map(outputs::pattern_text).collect();
                outputs::keep_matching(&mut rows.outputs, &patterns);
            }
            OperatorKind::ProjectRename(pairs) => {
                for pair in pairs {
                    self.rename(rows, pair, upto);
                }
            }
            // Order, layout and naming of the result: no effect on what is detected.
            OperatorKind::Sort { .. } | OperatorKind::ProjectReorder(_) | OperatorKind::Render { .. } | OperatorKind::As { .. } => {
                rows.after = after;
            }
            OperatorKind::Serialize(items) => {
                for item in items {
                    self.define(rows, item, upto);
                }
            }
            OperatorKind::Summarize { aggregates, by, .. } => self.summarize(rows, aggregates, by, span, upto),
            OperatorKind::Join { .. } | OperatorKind::Lookup { .. } => self.join(rows, operator, upto),
            OperatorKind::Union { .. } => {
                let left = std::mem::replace(rows, self.placeholder_rows());
                *rows = self.union(Some(left), operator, upto);
            }
            OperatorKind::Take(_) | OperatorKind::Top { .. } | OperatorKind::Sample(_) | OperatorKind::SampleDistinct { .. } => {
                self.unmodelled(operator.kind.keyword(), "keeps only some rows; the Detection matches all of them", span);
            }
            OperatorKind::Distinct { columns, .. } if !columns.iter().any(|c| matches!(c.expr.kind, ExprKind::Star)) => {
                // `distinct A, B` is `summarize by A, B`.
                self.summarize(rows, &[], columns, span, upto);
            }
            OperatorKind::Distinct { .. } => {
                self.unmodelled("distinct *", "removes duplicate rows; the Detection keeps them", span);
            }
            OperatorKind::MvExpand { items, .. } => {
                self.unmodelled("mv-expand", "expands arrays into rows; conditions on the expanded values are opaque", span);
                for item in items {
                    let name = item.expr.names.first().map(|n| n.name.clone()).unwrap_or_else(|| outputs::column_name(&item.expr.expr));
                    self.opaque_column(rows, &name, "mv-expanded column", item.span);
                }
            }
            OperatorKind::Parse { filter, pattern, .. } => {
                // Plain `parse` keeps every row; `parse-where` drops those that do not match.
                if *filter {
                    self.unmodelled("parse-where", "keeps only rows whose text matches the pattern", span);
                }
                for part in pattern {
                    if let ParsePart::Column { name, span, .. } = part {
                        self.opaque_column(rows, &name.name, "parsed column", *span);
                    }
                }
            }
            // Already reported as a syntax error.
            OperatorKind::Error => {}
            OperatorKind::Count => {
                self.unmodelled("count", "replaces the rows by their count", span);
                rows.columns.make_unknown("count");
                rows.outputs = Outputs::default();
            }
            kind => {
                let construct = kind.keyword();
                self.unmodelled(construct, "not modelled; columns it makes are opaque", span);
                rows.columns.make_unknown(construct);
                rows.outputs.all_columns = true;
            }
        }
    }

    /// `where`: into the source's filter while rows are events, an aggregate's threshold right
    /// after it, a join's window right after it, else a filter stage.
    fn filter(&mut self, rows: &mut Rows, condition: &'a Expr, upto: usize) {
        if let After::Join(join) = rows.after {
            rows.after = After::Other;
            let rest = self.join_window(join, condition, &rows.columns, upto);
            if let Some(rest) = rest {
                self.add_filter(rows, rest);
            }
            return;
        }
        for conjunct in conjuncts(condition) {
            if !self.membership_join(rows, conjunct, upto) {
                let predicate = self.predicate(conjunct, &rows.columns, upto);
                self.add_filter(rows, predicate);
            }
        }
    }

    pub(super) fn add_filter(&mut self, rows: &mut Rows, predicate: Predicate) {
        if let After::Aggregate(stage) = rows.after
            && let Some(Stage::Aggregate(aggregate)) = self.detection.stages.get_mut(stage)
        {
            aggregate.threshold = Some(conjoin(aggregate.threshold.take().unwrap_or_else(Predicate::always), predicate));
            return;
        }
        match rows.at {
            Input::Source(i) => {
                if let Some(source) = self.detection.sources.get_mut(i) {
                    source.filter = conjoin(std::mem::replace(&mut source.filter, Predicate::always()), predicate);
                }
            }
            Input::Stage(i) => match self.detection.stages.get_mut(i) {
                // A filter right after a filter: one condition.
                Some(Stage::Filter { predicate: earlier, .. }) => {
                    *earlier = conjoin(std::mem::replace(earlier, Predicate::always()), predicate)
                }
                _ => {
                    let span = predicate_span(&predicate);
                    self.detection.stages.push(Stage::Filter { input: rows.at, predicate, span });
                    rows.at = Input::Stage(self.detection.stages.len() - 1);
                }
            },
        }
    }

    /// `extend name = expr` (also a computed `project` item): a column that reads a field
    /// through renames and case folds, or an opaque one; recorded on the source while rows are
    /// still its events.
    fn define(&mut self, rows: &mut Rows, item: &'a NamedExpr, upto: usize) {
        let name = match item.names.as_slice() {
            [only] => only.name.clone(),
            [] => match outputs::column_name(&item.expr) {
                name if name.is_empty() => self.text_of(item.expr.span).to_string(),
                name => name,
            },
            _ => {
                for name in &item.names {
                    self.opaque_column(rows, &name.name, "tuple-assigned column", item.span);
                }
                return;
            }
        };
        let text = self.text_of(item.expr.span).to_string();
        let field = self.field_ref(&item.expr, &rows.columns, upto);
        // Computing the column replaces any input field of that name: not while something already
        // lowered reads that field (the source's filter, another column, a path into itself).
        let reads_itself = matches!(&field, Ok(FieldRef { field, .. }) if field.name == name && !field.path.is_empty());
        let shadows_a_test = self.source_reads(rows.at, &name);
        let hides_a_read = reads_itself || rows.columns.reads(&name) || shadows_a_test;
        let expr = if hides_a_read { None } else { self.scalar(&item.expr, &rows.columns, upto) };
        // A column `Scalar` computes is a column of the rows from here on, like an event field.
        let meaning = match (field, &expr) {
            (Ok(field), _) => Ok(field),
            (Err(_), Some(_)) => Ok(FieldRef { field: Field::column(&name), fold: Fold::Keep }),
            (Err(inner), None) => {
                Err(NotField { construct: "computed column".to_string(), reason: format!("`{name} = {text}`: {}", inner.reason) })
            }
        };
        // A rename is recorded too, so rows that leave the source (into a join) carry the new name.
        // A column of a name the source's filter already tested is not: the source computes its
        // columns before its filter, so recording it would make that earlier test read it (a name
        // means the definition in force where it is used); later uses read `meaning`.
        if !shadows_a_test && !matches!(&item.expr.kind, ExprKind::Name(old) if old.name == name) {
            let computed = Computed { name: name.clone(), expression: text.clone(), expr, span: item.span };
            self.add_computed(rows, computed);
        }
        // `a = b` of an output column carries b's origin (say, an aggregation) under a new name.
        let copied = match &item.expr.kind {
            ExprKind::Name(source) => rows.outputs.fields.iter().find(|o| o.name == source.name).cloned(),
            _ => None,
        };
        let output = match (copied, &meaning) {
            (Some(copied), _) => Output { name: name.clone(), span: item.span, ..copied },
            (None, Ok(FieldRef { field, fold: Fold::Keep })) => {
                Output { name: name.clone(), origin: OutputOrigin::Field(field.clone()), made_by: rows.at, span: item.span }
            }
            (None, _) => Output { name: name.clone(), origin: OutputOrigin::Computed(text), made_by: rows.at, span: item.span },
        };
        outputs::set(&mut rows.outputs, output);
        rows.columns.define(&name, meaning);
    }

    /// Records a computed column where the rows are: on the source while they are its events,
    /// else on an extend stage when it is computable.
    fn add_computed(&mut self, rows: &mut Rows, computed: Computed) {
        match rows.at {
            Input::Source(i) => {
                if let Some(source) = self.detection.sources.get_mut(i) {
                    source.computed.push(computed);
                }
            }
            Input::Stage(_) if computed.expr.is_none() => {}
            Input::Stage(i) => match self.detection.stages.get_mut(i) {
                Some(Stage::Extend { computed: earlier, span, .. }) => {
                    *span = span.to(computed.span);
                    earlier.push(computed);
                }
                _ => {
                    let span = computed.span;
                    self.detection.stages.push(Stage::Extend { input: rows.at, computed: vec![computed], span });
                    rows.at = Input::Stage(self.detection.stages.len() - 1);
                }
            },
        }
    }

    /// Whether the filter of the source the rows are at reads a column of that name (the source
    /// computes its columns before its filter).
    fn source_reads(&self, at: Input, name: &str) -> bool {
        let Input::Source(i) = at else { return false };
        self.detection.sources.get(i).is_some_and(|source| reads(&source.filter, name))
    }

    /// `project-rename new = old`.
    fn rename(&mut self, rows: &mut Rows, pair: &'a NamedExpr, upto: usize) {
        let Some(new) = pair.names.first() else { return };
        let meaning = self.field_ref(&pair.expr, &rows.columns, upto);
        let old = outputs::column_name(&pair.expr);
        let output = match rows.outputs.fields.iter().position(|o| o.name == old) {
            Some(at) => Output { name: new.name.clone(), ..rows.outputs.fields.remove(at) },
            None => self.field_output(rows, &old, &pair.expr, upto),
        };
        outputs::set(&mut rows.outputs, Output { name: new.name.clone(), span: pair.span, ..output });
        rows.columns.define(&new.name, meaning);
    }

    /// An input column passed through under its own name; computed (as its name) when it is
    /// not a field lowering can follow.
    fn field_output(&self, rows: &Rows, name: &str, expr: &'a Expr, upto: usize) -> Output {
        let origin = match self.field_ref(expr, &rows.columns, upto) {
            Ok(FieldRef { field, fold: Fold::Keep }) => OutputOrigin::Field(field),
            _ => OutputOrigin::Computed(name.to_string()),
        };
        Output { name: name.to_string(), origin, made_by: rows.at, span: expr.span }
    }

    /// A column whose values lowering cannot follow (`parse`, `mv-expand`), recorded on the
    /// source while rows are its events.
    fn opaque_column(&mut self, rows: &mut Rows, name: &str, construct: &str, span: Span) {
        let reason = format!("`{name}` is a {construct}, not an event field");
        rows.columns.define(name, Err(NotField { construct: construct.to_string(), reason }));
        let text = self.text_of(span).to_string();
        // Not on a source whose filter already read the name: that test keeps the event field.
        if let Input::Source(i) = rows.at
            && !self.source_reads(rows.at, name)
            && let Some(source) = self.detection.sources.get_mut(i)
        {
            source.computed.push(Computed { name: name.to_string(), expression: text.clone(), expr: None, span });
        }
        let origin = OutputOrigin::Computed(text);
        outputs::set(&mut rows.outputs, Output { name: name.to_string(), origin, made_by: rows.at, span });
    }

    /// While rows are a source's events, the columns they keep when the query lists them.
    fn record_source_columns(&mut self, rows: &Rows) {
        if let Input::Source(i) = rows.at
            && let Some(source) = self.detection.sources.get_mut(i)
        {
            source.columns = (!rows.outputs.all_columns).then(|| rows.outputs.fields.iter().map(|o| o.name.clone()).collect());
        }
    }

    /// Stand-in while rows are moved into a stage that consumes them.
    fn placeholder_rows(&self) -> Rows {
        Rows { at: Input::Source(0), columns: Columns::default(), outputs: Outputs::default(), after: After::Other }
    }
}

/// `a and b`, flattening and dropping the always-true side.
pub(super) fn conjoin(left: Predicate, right: Predicate) -> Predicate {
    match (left, right) {
        (left, right) if right.is_always() => left,
        (left, right) if left.is_always() => right,
        (Predicate::And(mut parts), Predicate::And(more)) => {
            parts.extend(more);
            Predicate::And(parts)
        }
        (Predicate::And(mut parts), right) => {
            parts.push(right);
            Predicate::And(parts)
        }
        (left, Predicate::And(more)) => Predicate::And(std::iter::once(left).chain(more).collect()),
        (left, right) => Predicate::And(vec![left, right]),
    }
}

/// Whether a predicate reads the column `name` (as the field tested or a value).
fn reads(predicate: &Predicate, name: &str) -> bool {
    match predicate {
        Predicate::And(parts) | Predicate::Or(parts) => parts.iter().any(|p| reads(p, name)),
        Predicate::Not(inner) => reads(inner, name),
        Predicate::Match(m) => m.field.name == name || m.values.iter().any(|v| matches!(v, Value::Field(f) if f.name == name)),
        Predicate::Opaque { text, .. } => text.contains(name),
    }
}

fn predicate_span(predicate: &Predicate) -> Span {
    match predicate {
        Predicate::And(parts) | Predicate::Or(parts) => parts.iter().map(predicate_span).reduce(Span::to).unwrap_or_default(),
        Predicate::Not(inner) => predicate_span(inner),
        Predicate::Match(m) => m.span,
        Predicate::Opaque { span, .. } => *span,
    }
}
