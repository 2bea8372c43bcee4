//! Stages that combine or reduce rows: `summarize` (with its threshold), `join`/`lookup` (with
//! a time window stated right after), `union`.

use super::Lowerer;
use super::columns::{Columns, FieldRef, Fold, NotField};
use super::outputs::{self, column_name};
use super::pipeline::{After, Rows, conjoin};
use crate::ir::Timespan;
use crate::ir::detection::{
    AggFunction, Aggregate, Aggregation, EventSource, Field, GroupKey, Input, Join, JoinKey, JoinKind, Output, OutputOrigin, Outputs,
    Predicate, Stage, Value,
};
use crate::kql::Span;
use crate::kql::ast::{BinaryOp, Expr, ExprKind, NamedExpr, Operator, OperatorKind, OptionParam};
use crate::kql::operators::StrTest;

impl<'a> Lowerer<'a> {
    pub(super) fn summarize(&mut self, rows: &mut Rows, aggregates: &'a [NamedExpr], by: &'a [NamedExpr], span: Span, upto: usize) {
        let stage = self.detection.stages.len();
        let made_by = Input::Stage(stage);
        let mut outputs = Outputs::default();
        let mut group_by = Vec::new();
        for key in by {
            let (default_name, field, bin) = self.group_key(key, &rows.columns, upto);
            let name = key.names.first().map_or(default_name, |n| n.name.clone());
            let name = outputs::add_unique(&mut outputs, Output { name, origin: OutputOrigin::GroupKey, made_by, span: key.span });
            group_by.push(GroupKey { name, field, bin: bin.map(Timespan::from_ticks) });
        }
        let mut aggregations = Vec::new();
        for item in aggregates {
            if let Some(aggregation) = self.aggregation(item, &rows.columns, &mut outputs, made_by, upto) {
                aggregations.push(aggregation);
            }
        }
        let input = rows.at;
        self.detection.stages.push(Stage::Aggregate(Aggregate { input, group_by, aggregations, threshold: None, span }));
        *rows = Rows::of_stage(stage, outputs, After::Aggregate(stage));
    }

    /// A `by` item: its default column name, the field it reads and its `bin()` size.
    fn group_key(&mut self, key: &'a NamedExpr, columns: &Columns, upto: usize) -> (String, Field, Option<i64>) {
        let (target, bin) = match &key.expr.kind {
            ExprKind::Call { target: None, name, args } if matches!(name.name.as_str(), "bin" | "floor") && args.len() == 2 => {
                match self.constant(&args[1].expr, upto) {
                    Some(Value::Timespan(size)) => (&args[0].expr, Some(size)),
                    _ => (&key.expr, None),
                }
            }
            _ => (&key.expr, None),
        };
        let default_name = Some(column_name(target)).filter(|n| !n.is_empty()).unwrap_or_else(|| "Column1".to_string());
        let field = match self.field_ref(target, columns, upto) {
            Ok(FieldRef { field, fold: Fold::Keep }) => field,
            Ok(FieldRef { field, .. }) => {
                self.unmodelled(
                    "case-folded group key",
                    "groups by a case-folded value; the Detection groups by the field as is",
                    key.span,
                );
                field
            }
            Err(not_field) => {
                self.unmodelled(&format!("group key {}", not_field.construct), &not_field.reason, key.span);
                Field::column(&default_name)
            }
        };
        (default_name, field, bin)
    }

    /// One aggregation of `summarize`; `None` (and an unmodelled entry) when it is not one the
    /// Detection holds. Its output column is added either way.
    fn aggregation(
        &mut self,
        item: &'a NamedExpr,
        columns: &Columns,
        outputs: &mut Outputs,
        made_by: Input,
        upto: usize,
    ) -> Option<Aggregation> {
        let span = item.span;
        let text = self.text_of(item.expr.span).to_string();
        let ExprKind::Call { target: None, name, args } = &item.expr.kind else {
            self.unmodelled_values("aggregation", "an expression over aggregates is not modelled", span);
            let name = item.names.first().map_or_else(|| "Column1".to_string(), |n| n.name.clone());
            outputs::add_unique(outputs, Output { name, origin: OutputOrigin::Computed(text), made_by, span });
            return None;
        };
        let function_name = name.name.as_str();
        let (base, conditional) = match function_name.strip_suffix("if") {
            Some(base) => (base.strip_suffix('_').unwrap_or(base), true),
            None => (function_name, false),
        };
        let field_arg = if base == "count" { None } else { args.first() };
        let named = |outputs: &mut Outputs, default: String, origin: OutputOrigin| {
            let name = item.names.first().map_or(default, |n| n.name.clone());
            outputs::add_unique(outputs, Output { name, origin, made_by, span })
        };
        let column = field_arg.map(|a| column_name(&a.expr)).unwrap_or_default();
        let default_name = match base {
            "make_set" | "makeset" => format!("set_{column}"),
            "make_list" | "makelist" => format!("list_{column}"),
            "take_any" | "arg_max" | "arg_min" => column.clone(),
            _ => format!("{function_name}_{column}"),
        };
        let Some(function) = agg_function(base) else {
            self.unmodelled_values(&format!("{function_name}()"), "an aggregation the Detection does not hold", span);
            named(outputs, default_name, OutputOrigin::Computed(text));
            return None;
        };
        let field = match field_arg.map(|a| self.field_ref(&a.expr, columns, upto)) {
            None => None,
            Some(Ok(FieldRef { field, fold: Fold::Keep })) => Some(field),
            Some(_) => {
                self.unmodelled_values(&format!("{function_name}() of a computed value"), "aggregates a computed value, not a field", span);
                named(outputs, default_name, OutputOrigin::Computed(text));
                return None;
            }
        };
        let condition_at = usize::from(field_arg.is_some());
        let condition = match (conditional, args.get(condition_at)) {
            (true, Some(arg)) => Some(self.predicate(&arg.expr, columns, upto)),
            (true, None) => {
                self.unmodelled_values(&format!("{function_name}()"), "a conditional aggregation without a condition", span);
                None
            }
            (false, _) => None,
        };
        let name = named(outputs, default_name, OutputOrigin::Aggregation(function));
        if matches!(function, AggFunction::ArgMax | AggFunction::ArgMin) {
            selected_row_outputs(args.get(1..).unwrap_or_default(), function, outputs, made_by, span);
        }
        Some(Aggregation { name, function, field, condition, span })
    }

    /// `join` or `lookup` (a left outer join by default).
    pub(super) fn join(&mut self, rows: &mut Rows, operator: &'a Operator, upto: usize) {
        let (params, right, on, lookup) = match &operator.kind {
            OperatorKind::Join { params, right, on } => (params, right, on, false),
            OperatorKind::Lookup { params, right, on } => (params, right, on, true),
            _ => return,
        };
        let span = operator.span;
        let kind = self.join_kind(params, lookup);
        let right_rows = self.tabular(right, upto);
        let mut keys = Vec::new();
        for key in on {
            if let Some(key) = self.join_key(key, &rows.columns, &right_rows.columns) {
                keys.push(key);
            }
        }
        if on.is_empty() {
            self.unmodelled(if lookup { "lookup" } else { "join" }, "no `on` keys", span);
        }
        // `lookup` leaves out the right side's key columns, by the names the query gives them.
        let dropped: Vec<&str> =
            if lookup { on.iter().filter_map(|key| key_names(key).map(|(_, right)| right)).collect() } else { Vec::new() };
        let outputs = join_outputs(kind, &rows.outputs, &right_rows.outputs, &dropped);
        let columns = join_columns(kind, rows, &right_rows);
        let stage = self.detection.stages.len();
        self.detection.stages.push(Stage::Join(Join {
            kind,
            left: rows.at,
            right: right_rows.at,
            keys,
            window: None,
            ordered: false,
            span,
        }));
        *rows = Rows::of_stage(stage, outputs, After::Join(stage));
        rows.columns = columns;
    }

    fn join_kind(&mut self, params: &'a [OptionParam], lookup: bool) -> JoinKind {
        let default = if lookup { JoinKind::LeftOuter } else { JoinKind::InnerUnique };
        let Some(param) = params.iter().find(|p| p.name.name == "kind") else { return default };
        let ExprKind::Name(kind) = &param.value.kind else { return default };
        let known = match (kind.name.as_str(), lookup) {
            ("leftouter", _) => Some(JoinKind::LeftOuter),
            ("inner", _) => Some(JoinKind::Inner),
            ("innerunique", false) => Some(JoinKind::InnerUnique),
            ("rightouter", false) => Some(JoinKind::RightOuter),
            ("fullouter", false) => Some(JoinKind::FullOuter),
            ("leftsemi", false) => Some(JoinKind::LeftSemi),
            ("rightsemi", false) => Some(JoinKind::RightSemi),
            ("leftanti" | "anti" | "leftantisemi", false) => Some(JoinKind::LeftAnti),
            ("rightanti" | "rightantisemi", false) => Some(JoinKind::RightAnti),
            _ => None,
        };
        known.unwrap_or_else(|| {
            self.unmodelled(&format!("kind={}", kind.name), "an unknown join kind; lowered as the default", param.span);
            default
        })
    }

    /// `on X`, or `on $left.A == $right.B` (either way round).
    fn join_key(&mut self, key: &'a Expr, left: &Columns, right: &Columns) -> Option<JoinKey> {
        let Some((left_name, right_name)) = key_names(key) else {
            self.unmodelled("join key", "a key that is not a column or `$left.A == $right.B`", key.span);
            return None;
        };
        let resolve = |this: &mut Self, name: &str, columns: &Columns| match columns.field_named(name) {
            Ok(FieldRef { field, fold: Fold::Keep }) => Some(field),
            Ok(FieldRef { field, .. }) => {
                this.unmodelled("case-folded join key", "joins on a case-folded value; the Detection compares the field as is", key.span);
                Some(field)
            }
            Err(not_field) => {
                this.unmodelled(&format!("join key {}", not_field.construct), &not_field.reason, key.span);
                None
            }
        };
        let left_field = resolve(self, left_name, left)?;
        let right_field = resolve(self, right_name, right)?;
        Some(JoinKey { left: left_field, right: right_field })
    }

    /// The `where` right after a join: a conjunct stating a time window between the sides
    /// becomes `Join::window`; the rest is returned as a filter.
    pub(super) fn join_window(&mut self, join: usize, condition: &'a Expr, columns: &Columns, upto: usize) -> Option<Predicate> {
        let mut rest = Predicate::always();
        let mut window = None;
        for conjunct in conjuncts(condition) {
            match (window, self.window_of(conjunct, upto)) {
                (None, Some(found)) => window = Some(found),
                _ => rest = conjoin(rest, self.predicate(conjunct, columns, upto)),
            }
        }
        if let (Some(found), Some(Stage::Join(stage))) = (window, self.detection.stages.get_mut(join)) {
            stage.window = Some(Timespan::from_ticks(found));
        }
        (!rest.is_always()).then_some(rest)
    }

    /// `T1 between (T2 - d .. T2 + d)`, `abs(T1 - T2) <= d`, or
    /// `abs(datetime_diff('unit', T1, T2)) <= n`: the window in ticks.
    fn window_of(&self, expr: &'a Expr, upto: usize) -> Option<i64> {
        match &expr.kind {
            ExprKind::Paren(inner) => self.window_of(inner, upto),
            ExprKind::Between { negated: false, low, high, .. } => {
                let (
                    ExprKind::Binary { op: BinaryOp::Sub, left: a, right: d1 },
                    ExprKind::Binary { op: BinaryOp::Add, left: b, right: d2 },
                ) = (&low.kind, &high.kind)
                else {
                    return None;
                };
                let same_time = self.text_of(a.span) == self.text_of(b.span);
                match (same_time, self.constant(d1, upto)?, self.constant(d2, upto)?) {
                    (true, Value::Timespan(x), Value::Timespan(y)) if x == y && x >= 0 => Some(x),
                    _ => None,
                }
            }
            ExprKind::Binary { op: BinaryOp::Le, left, right } => {
                let ExprKind::Call { target: None, name, args } = &left.kind else { return None };
                let [difference] = args.as_slice() else { return None };
                if name.name != "abs" {
                    return None;
                }
                match (&difference.expr.kind, self.constant(right, upto)?) {
                    (ExprKind::Binary { op: BinaryOp::Sub, .. }, Value::Timespan(t)) => Some(t),
                    (ExprKind::Call { target: None, name, args }, Value::Int(n)) if name.name == "datetime_diff" && args.len() == 3 => {
                        let Value::String(unit) = self.constant(&args[0].expr, upto)? else { return None };
                        unit_ticks(&unit)?.checked_mul(n)
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// `where X in (subquery)` (or `!in`) as a top-level condition: a left semi (anti) join
    /// with the subquery's one output column. Returns false, having changed nothing, when the
    /// condition is not that or the subquery's column cannot be named.
    pub(super) fn membership_join(&mut self, rows: &mut Rows, condition: &'a Expr, upto: usize) -> bool {
        let ExprKind::InList { op, left, items } = &condition.kind else { return false };
        let [list] = items.as_slice() else { return false };
        if op.test != StrTest::In || !op.case_sensitive || !self.is_tabular(list, upto) {
            return false;
        }
        let Ok(FieldRef { field: left_field, fold: Fold::Keep }) = self.field_ref(left, &rows.columns, upto) else { return false };
        let before = (self.detection.sources.len(), self.detection.stages.len(), self.detection.unmodelled.len());
        let right = self.tabular(list, upto);
        let right_field = match (right.outputs.all_columns, right.outputs.fields.as_slice()) {
            (false, [only]) => match (&only.origin, right.at) {
                (OutputOrigin::Field(field), Input::Source(_)) => Some(field.clone()),
                (_, Input::Stage(_)) => Some(Field::column(&only.name)),
                _ => None,
            },
            _ => None,
        };
        let Some(right_field) = right_field else {
            // Undo the subquery's sources and stages: the condition stays one opaque test.
            self.detection.sources.truncate(before.0);
            self.detection.stages.truncate(before.1);
            self.detection.unmodelled.truncate(before.2);
            return false;
        };
        let kind = if op.negated { JoinKind::LeftAnti } else { JoinKind::LeftSemi };
        let keys = vec![JoinKey { left: left_field, right: right_field }];
        self.detection.stages.push(Stage::Join(Join {
            kind,
            left: rows.at,
            right: right.at,
            keys,
            window: None,
            ordered: false,
            span: condition.span,
        }));
        // The rows are still the left side's, with the same columns.
        rows.at = Input::Stage(self.detection.stages.len() - 1);
        rows.after = After::Other;
        true
    }

    fn is_tabular(&self, expr: &'a Expr, upto: usize) -> bool {
        match &expr.kind {
            ExprKind::Pipeline { .. } => true,
            ExprKind::Paren(inner) => self.is_tabular(inner, upto),
            ExprKind::Call { target: None, name, .. } if name.name == "materialize" => true,
            ExprKind::Name(name) => {
                self.scope.function(&name.name, upto).is_some()
                    || self.through_let(&name.name, upto, |bound, at| Some(self.is_tabular(bound, at))).unwrap_or(false)
            }
            _ => false,
        }
    }

    /// `union A, B`: one source over several tables when every operand is a plain table (or a
    /// wildcard); otherwise a union stage over each operand's rows. `isfuzzy` and `kind` do not
    /// change which events match; `withsource=C` adds the column `C` (the table's name).
    pub(super) fn union(&mut self, left: Option<Rows>, operator: &'a Operator, upto: usize) -> Rows {
        let OperatorKind::Union { params, tables } = &operator.kind else {
            return self.opaque_source("union", "not a union", operator.span);
        };
        let span = operator.span;
        let plain: Option<Vec<String>> = match left {
            Some(_) => None,
            None => tables.iter().map(|t| self.plain_table(t, upto)).collect(),
        };
        let mut rows = match plain {
            Some(names) => {
                let source = EventSource {
                    name: "union".to_string(),
                    tables: names,
                    filter: Predicate::always(),
                    computed: Vec::new(),
                    columns: None,
                    logsource: None,
                    span,
                };
                self.push_source(source)
            }
            None => {
                let mut parts: Vec<Rows> = left.into_iter().collect();
                for table in tables {
                    parts.push(self.tabular(table, upto));
                }
                let stage = self.detection.stages.len();
                let mut outputs = Outputs { all_columns: parts.iter().any(|p| p.outputs.all_columns), fields: Vec::new() };
                for field in parts.iter().flat_map(|p| &p.outputs.fields) {
                    if !outputs.fields.iter().any(|o| o.name == field.name) {
                        outputs.fields.push(field.clone());
                    }
                }
                self.detection.stages.push(Stage::Union { inputs: parts.iter().map(|p| p.at).collect(), span });
                let columns = Columns::union_of(&parts.iter().map(|p| &p.columns).collect::<Vec<_>>());
                let mut rows = Rows::of_stage(stage, outputs, After::Other);
                rows.columns = columns;
                rows
            }
        };
        let with_source = params.iter().find(|p| matches!(p.name.name.as_str(), "withsource" | "with_source"));
        if let Some(ExprKind::Name(column)) = with_source.map(|p| &p.value.kind) {
            let origin = OutputOrigin::Computed(self.text_of(with_source.map_or(span, |p| p.span)).to_string());
            outputs::set(&mut rows.outputs, Output { name: column.name.clone(), origin, made_by: rows.at, span });
            let reason = format!("`{}` holds the name of each row's table", column.name);
            rows.columns.define(&column.name, Err(NotField { construct: "withsource column".to_string(), reason }));
        }
        rows
    }

    /// The table a union operand names, when it is just a table (not a let, not a pipeline).
    fn plain_table(&self, expr: &'a Expr, upto: usize) -> Option<String> {
        match &expr.kind {
            ExprKind::Name(name) if !self.scope.is_bound(&name.name, upto) => Some(name.name.clone()),
            ExprKind::Name(name) => self.through_let(&name.name, upto, |bound, at| match bound.kind {
                ExprKind::Name(_) | ExprKind::Pattern(_) => self.plain_table(bound, at),
                _ => None,
            }),
            ExprKind::Pattern(pattern) => Some(pattern.clone()),
            _ => None,
        }
    }
}

/// The columns `arg_max(T, A, B)` carries besides `T`: `A`, `B`; with `*`, every input column.
fn selected_row_outputs(columns: &[NamedExpr], function: AggFunction, outputs: &mut Outputs, made_by: Input, span: Span) {
    for column in columns {
        match &column.expr.kind {
            ExprKind::Star => outputs.all_columns = true,
            _ => {
                let name = column.names.first().map_or_else(|| column_name(&column.expr), |n| n.name.clone());
                if !name.is_empty() {
                    outputs::add_unique(outputs, Output { name, origin: OutputOrigin::Aggregation(function), made_by, span });
                }
            }
        }
    }
}

/// The column names a join key compares: `on X`, or `on $left.A == $right.B` either way round.
fn key_names(key: &Expr) -> Option<(&str, &str)> {
    match &key.kind {
        ExprKind::Name(name) => Some((name.name.as_str(), name.name.as_str())),
        ExprKind::Binary { op: BinaryOp::Eq, left, right } => match (side_of(left)?, side_of(right)?) {
            (("$left", a), ("$right", b)) | (("$right", b), ("$left", a)) => Some((a, b)),
            _ => None,
        },
        _ => None,
    }
}

/// `$left.A` → ("$left", "A").
fn side_of(expr: &Expr) -> Option<(&str, &str)> {
    let ExprKind::Member { target, name } = &expr.kind else { return None };
    match &target.kind {
        ExprKind::Name(side) if side.name == "$left" || side.name == "$right" => Some((side.name.as_str(), name.name.as_str())),
        _ => None,
    }
}

/// The parts of an `and` chain (through parentheses).
pub(super) fn conjuncts(expr: &Expr) -> Vec<&Expr> {
    match &expr.kind {
        ExprKind::Binary { op: BinaryOp::And, left, right } => conjuncts(left).into_iter().chain(conjuncts(right)).collect(),
        ExprKind::Paren(inner) if matches!(inner.kind, ExprKind::Binary { op: BinaryOp::And, .. }) => conjuncts(inner),
        _ => vec![expr],
    }
}

/// `datetime_diff` units, in ticks; months and years have no fixed length.
fn unit_ticks(unit: &str) -> Option<i64> {
    const SECOND: i64 = crate::ir::TICKS_PER_SECOND;
    Some(match unit {
        "week" => 7 * 86_400 * SECOND,
        "day" => 86_400 * SECOND,
        "hour" => 3_600 * SECOND,
        "minute" => 60 * SECOND,
        "second" => SECOND,
        "millisecond" => 10_000,
        "microsecond" => 10,
        "nanosecond" => 0,
        _ => return None,
    })
}

fn agg_function(base: &str) -> Option<AggFunction> {
    Some(match base {
        "count" => AggFunction::Count,
        "dcount" | "count_distinct" => AggFunction::DistinctCount,
        "sum" => AggFunction::Sum,
        "min" => AggFunction::Min,
        "max" => AggFunction::Max,
        "avg" => AggFunction::Avg,
        "make_set" | "makeset" => AggFunction::MakeSet,
        "make_list" | "makelist" => AggFunction::MakeList,
        "take_any" | "any" => AggFunction::TakeAny,
        "arg_max" => AggFunction::ArgMax,
        "arg_min" => AggFunction::ArgMin,
        _ => return None,
    })
}

/// What names mean on a join's rows: each side's definitions, a rename still reading its field
/// where the rows surely hold it by that name (a right field is renamed `X1` when the left side
/// has `X`, so only when the left side's columns are listed without it). A name the left side
/// lists or defines means the left's column: the right one of that name becomes `Name1`.
fn join_columns(kind: JoinKind, left: &Rows, right: &Rows) -> Columns {
    let has = |outputs: &Outputs, name: &str| outputs.all_columns || outputs.fields.iter().any(|o| o.name == name);
    let listed = |outputs: &Outputs, name: &str| outputs.fields.iter().any(|o| o.name == name);
    let (keeps_left, keeps_right) = match kind {
        JoinKind::LeftSemi | JoinKind::LeftAnti => (true, false),
        JoinKind::RightSemi | JoinKind::RightAnti => (false, true),
        _ => (true, true),
    };
    let mut columns = Columns::default();
    if keeps_right {
        let unclashed = |name: &str| !keeps_left || !has(&left.outputs, name);
        let shadowed = |name: &str| keeps_left && listed(&left.outputs, name);
        right.columns.carry_into(
            &mut columns,
            "join",
            shadowed,
            |field| has(&right.outputs, &field.name) && unclashed(&field.name),
            |name| listed(&right.outputs, name) && !has(&left.outputs, name),
        );
    }
    if keeps_left {
        left.columns.carry_into(
            &mut columns,
            "join",
            |_| false,
            |field| has(&left.outputs, &field.name),
            |name| listed(&left.outputs, name),
        );
    }
    columns
}

/// The join's columns: one side for semi and anti joins, else both, the right side's repeated
/// names suffixed as Kusto does, without the right columns named in `dropped`.
fn join_outputs(kind: JoinKind, left: &Outputs, right: &Outputs, dropped: &[&str]) -> Outputs {
    match kind {
        JoinKind::LeftSemi | JoinKind::LeftAnti => left.clone(),
        JoinKind::RightSemi | JoinKind::RightAnti => right.clone(),
        _ => {
            let mut outputs = left.clone();
            outputs.all_columns |= right.all_columns;
            for field in right.fields.iter().filter(|f| !dropped.contains(&f.name.as_str())) {
                outputs::add_unique(&mut outputs, field.clone());
            }
            outputs
        }
    }
}
