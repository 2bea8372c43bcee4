//! `--to kql`: the rule's query alone, as KQL.
//!
//! A KQL rule's query is printed as written, normalized by the printer. A Sigma rule's
//! Detection is written as KQL: each source is the table its logsource maps to in the chosen
//! profile (`targets/kql.yaml`, `--profile`), filtered by its predicate over the mapped
//! columns; a correlation is a `summarize` (over a `union` of its rules) with a `where` on the
//! count, or a chain of joins (`correlation`). An unknown logsource, a test with no KQL form
//! (a keyword search) or a regex only a backtracking engine runs (`re2`: Kusto's engine is
//! RE2) makes the rule unsupported; what lowering could not model is a loss. The query is built
//! as a KQL syntax tree and printed by the KQL printer, so it is written as every output is.

mod condition;
mod correlation;
mod entities;
mod profile;
mod schema;
mod sentinel_rule;
mod transform;

use super::{
    EmitOptions, Emitted, Emitter, Evidence, Subject, addon_fields, broader, header_lines, join_documents, loss_at, refused_regex_errors,
    unmodelled_losses,
};
use crate::diag::{Code, Kind, Problem};
use crate::ir::detection::{Field, Input, MatchOp, OutputOrigin, Predicate, Stage, Value};
use crate::kql::{
    self,
    ast::{BinaryOp, Expr, ExprKind, Literal, NamedExpr, OperatorKind, Script},
};
use condition::Columns;
use profile::Profile;
pub(super) use sentinel_rule::raise_sentinel_rule;
use std::cell::RefCell;

/// The KQL profile `--profile` names, read (see `profile::named`).
pub(super) fn profile_named(name: &str) -> Result<(), String> {
    profile::named(Some(name)).map(drop)
}

/// The built-in profiles in name order: name, what it maps, and the pySigma pipeline name
/// `--profile` accepts for it too.
pub(super) fn builtin_profiles() -> Vec<(&'static str, &'static str, Option<&'static str>)> {
    let profiles = profile::profiles();
    profiles.profiles.iter().map(|(name, p)| (name.as_str(), p.about.as_str(), p.pysigma_pipeline.as_deref())).collect()
}
use std::borrow::Cow;

pub struct Kql;

impl Emitter for Kql {
    fn name(&self) -> &'static str {
        "kql"
    }

    fn extension(&self) -> &'static str {
        "kql"
    }

    fn about(&self) -> &'static str {
        "the rule's KQL query alone; Sigma rules through a `targets/kql.yaml` profile (--profile)"
    }

    fn options(&self) -> &'static [&'static str] {
        &["--profile"]
    }

    fn reads_sigma(&self) -> bool {
        true
    }

    fn emit(&self, subjects: &[Subject], options: &EmitOptions) -> Result<Emitted, Vec<Problem>> {
        join_documents(subjects, "\n", |subject| {
            let Emitted { text, problems, evidence } = query(subject, options)?;
            let mut out: String = header_lines(subject, &problems, evidence).iter().map(|line| format!("// {line}\n")).collect();
            out.push_str(&text);
            out.push('\n');
            Ok(Emitted { text: out, problems, evidence })
        })
    }
}

/// The rule's query, printed (no header), its losses and what it was checked against.
fn query(subject: &Subject, options: &EmitOptions) -> Result<Emitted, Vec<Problem>> {
    match subject.rule.kql() {
        Some(query) => {
            if let Some(error) = unparsed(subject.rule, query, Kind::Error, "") {
                return Err(vec![error]);
            }
            if let Some((span, c)) = kql::unwritable_string(&query.text) {
                let message = format!(
                    "KQL: this string holds U+{:04X}, a control character Kusto documents no escape for; it is not written",
                    c as u32
                );
                return Err(vec![Problem::in_query(Kind::Error, Code::OutputFailed, subject.rule, query, span.start, message)]);
            }
            Ok(Emitted { text: kql::print(&query.parsed().ast), problems: Vec::new(), evidence: Evidence::Unverified })
        }
        None => {
            let (name, profile) = profile::named(options.profile.as_deref())
                .map_err(|e| vec![Problem::at_key(Kind::Error, Code::UnknownProfile, subject.rule, "logsource", e)])?;
            let (name, profile) = (name.as_str(), profile.as_ref());
            // Kusto's regexes are RE2, which refuses such a pattern whole (as kql-run's RE2 does).
            let refused = refused_regex_errors(subject, "Kusto's RE2 (`matches regex`)");
            if !refused.is_empty() {
                return Err(refused);
            }
            let writer = Writer { name, profile, subject, losses: RefCell::default(), allow_broader: options.allow_broader };
            let result = subject.detection.result.ok_or_else(|| writer.error(Code::NoDetection, 0, "the rule selects no events".into()))?;
            let mut losses = unmodelled_losses(subject);
            losses.extend(null_test_losses(subject));
            losses.extend(addon_fields::losses(subject));
            let tree = writer.input(result)?;
            losses.extend(writer.losses.take());
            // A table the schema data lacks leaves its columns unjudged (`Judged`), not lost.
            let (judged, unknown_columns) = writer.schema_losses();
            losses.extend(unknown_columns);
            losses.extend(correlation::losses(subject));
            broader::judge(subject, &mut losses, options.allow_broader)?;
            let evidence = if judged == schema::Judged::Checked { Evidence::SchemaChecked } else { Evidence::Unverified };
            Ok(Emitted { text: kql::print(&Script::query(tree)), problems: losses, evidence })
        }
    }
}

/// The rows the KQL written for a Sigma rule returns, as the Sentinel stage needs them to map
/// entities: the tables it reads, and its columns (the Detection's outputs named as the
/// profile maps them), taken from the Detection rather than from the printed query.
pub(super) struct WrittenRows {
    pub tables: Vec<String>,
    /// Every column of the tables read is kept (no aggregation narrows the rows).
    pub all_columns: bool,
    pub columns: Vec<String>,
}

impl WrittenRows {
    pub fn has(&self, column: &str) -> bool {
        self.all_columns || self.columns.iter().any(|c| c == column)
    }
}

/// The `WrittenRows` of a Sigma rule's KQL; fails as `query` does when a logsource has no table.
pub(super) fn written_rows(subject: &Subject, options: &EmitOptions) -> Result<WrittenRows, Vec<Problem>> {
    let (name, profile) = profile::named(options.profile.as_deref())
        .map_err(|e| vec![Problem::at_key(Kind::Error, Code::UnknownProfile, subject.rule, "logsource", e)])?;
    let (name, profile) = (name.as_str(), profile.as_ref());
    let writer = Writer { name, profile, subject, losses: RefCell::default(), allow_broader: options.allow_broader };
    let detection = subject.detection;
    let entries: Vec<Cow<profile::Entry>> = (0..detection.sources.len()).map(|i| writer.entry(i)).collect::<Result<_, _>>()?;
    let tables: Vec<String> = entries.iter().map(|e| e.table.clone()).collect();
    let first = entries.first().map_or_else(|| Cow::Owned(profile::Entry::of_table("")), |e| Cow::Borrowed(&**e));
    let columns = Columns::of_entry(profile, &first);
    // A group key keeps its column's name (a binned time, its time column); an aggregation
    // its own; a path into a dynamic column gets a name Kusto makes up, which no entity reads.
    let named = detection.outputs.fields.iter().filter_map(|output| match &output.origin {
        OutputOrigin::Field(field) => columns.whole_column(field).map(str::to_string),
        OutputOrigin::Aggregation(_) | OutputOrigin::Computed(_) => Some(output.name.clone()),
        OutputOrigin::GroupKey => columns.whole_column(&Field::column(output.name.as_str())).map(str::to_string),
    });
    Ok(WrittenRows { all_columns: detection.outputs.all_columns, columns: named.collect(), tables })
}

/// The first parse error of a rule's own query, as a problem of `kind` ending in `consequence`.
fn unparsed(rule: &crate::ir::Rule, query: &crate::ir::Query, kind: Kind, consequence: &str) -> Option<Problem> {
    let e = query.parsed().errors.first()?;
    Some(Problem::in_query(
        kind,
        Code::KqlSyntax,
        rule,
        query,
        e.span.start,
        format!("the query does not parse: {}{consequence}", e.message),
    ))
}

/// Sigma's `null` and `exists` test that a field is absent, which Kusto cannot tell from empty
/// for a string: the test is written `isempty`, and an empty value matches too.
fn null_test_losses(subject: &Subject) -> Vec<Problem> {
    let tests = subject.detection.sources.iter().flat_map(|source| source.filter.matches());
    tests
        .filter(|m| m.op == MatchOp::IsNull)
        .map(|m| {
            let message = format!(
                "`{}` is tested for absence (`null`/`exists`), written `isempty`: Kusto keeps an absent string as \"\", so an empty value matches too",
                m.field
            );
            loss_at(subject, Code::NullSemantics, m.span, message)
        })
        .collect()
}

/// Writes one Sigma rule's Detection with one profile.
struct Writer<'a> {
    name: &'a str,
    profile: &'a Profile,
    subject: &'a Subject<'a>,
    /// What the sources' rewritten tests lose.
    losses: RefCell<Vec<Problem>>,
    /// `--allow-broader`: a source whose condition always holds is written (with a loss).
    allow_broader: bool,
}

impl Writer<'_> {
    fn error(&self, code: Code, at: usize, message: String) -> Vec<Problem> {
        vec![Problem::in_logic(Kind::Error, code, self.subject.rule, at, message)]
    }

    /// The rows of a source or stage, as a tabular expression.
    fn input(&self, input: Input) -> Result<Expr, Vec<Problem>> {
        let detection = self.subject.detection;
        match input {
            Input::Source(i) => self.source(i),
            Input::Stage(i) => match &detection.stages[i] {
                Stage::Union { inputs, .. } => {
                    let tables = inputs.iter().map(|i| self.input(*i).map(Expr::paren)).collect::<Result<_, _>>()?;
                    Ok(Expr::rows(OperatorKind::Union { params: Vec::new(), tables }))
                }
                Stage::Aggregate(aggregate) => self.aggregate(aggregate),
                Stage::Join(join) => self.join(join),
                other => Err(self.error(
                    Code::CorrelationUnsupported,
                    0,
                    format!("a {} stage has no KQL translation from Sigma", stage_name(other)),
                )),
            },
        }
    }

    /// The table a source reads, or the first source's of a stage.
    fn table(&self, input: Input) -> Result<String, Vec<Problem>> {
        Ok(self.first_entry(input)?.table.clone())
    }

    /// The profile entry of a source, or of the first source of a stage: how its rows are named.
    fn first_entry(&self, input: Input) -> Result<Cow<'_, profile::Entry>, Vec<Problem>> {
        let detection = self.subject.detection;
        match input {
            Input::Source(i) => self.entry(i),
            Input::Stage(i) => match &detection.stages[i] {
                Stage::Union { inputs, .. } => {
                    self.first_entry(*inputs.first().ok_or_else(|| self.error(Code::CorrelationUnsupported, 0, "an empty union".into()))?)
                }
                Stage::Aggregate(a) => self.first_entry(a.input),
                Stage::Join(join) => self.first_entry(join.left),
                other => Err(self.error(
                    Code::CorrelationUnsupported,
                    0,
                    format!("a {} stage has no KQL translation from Sigma", stage_name(other)),
                )),
            },
        }
    }

    fn entry(&self, source: usize) -> Result<Cow<'_, profile::Entry>, Vec<Problem>> {
        let logsource = self.subject.detection.sources[source].logsource.clone().unwrap_or_default();
        self.profile.entry(&logsource).ok_or_else(|| {
            let keys = [("category", &logsource.category), ("product", &logsource.product), ("service", &logsource.service)];
            let written: Vec<String> = keys.iter().filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}: {v}"))).collect();
            let message = format!("no table for logsource `{}` in the `{}` profile of targets/kql.yaml", written.join(", "), self.name);
            vec![Problem::at_key(Kind::Error, Code::UnknownSource, self.subject.rule, "logsource", message)]
        })
    }

    /// The source's table, filtered by what the profile's entry requires of its rows and by
    /// the source's predicate. Fields the table holds in another shape are first rebuilt as
    /// the rule's source writes them (`extend`), between the two.
    fn source(&self, index: usize) -> Result<Expr, Vec<Problem>> {
        let entry = self.entry(index)?;
        let columns = Columns::of_entry(self.profile, &entry);
        let filter = &self.subject.detection.sources[index].filter;
        let condition = columns.predicate(filter).map_err(|u| self.error(Code::ConditionDropped, u.at, u.reason))?;
        if let Some(holds) = condition::constant(&condition) {
            let absent = columns.absent_fields(filter);
            if !absent.is_empty() {
                self.constant_source(index, &entry.table, &absent, holds)?;
            }
        }
        let rewritten = columns.take_losses().into_iter().map(|(span, code, message)| loss_at(self.subject, code, span, message));
        self.losses.borrow_mut().extend(rewritten);
        if let Some(why) = &entry.approximate {
            let message = format!("the logsource is read from {}: {why}", entry.table);
            self.losses.borrow_mut().push(Problem::at_key(Kind::Loss, Code::UnknownSource, self.subject.rule, "logsource", message));
        }
        let required: Vec<Expr> = entry.equals.iter().map(|(column, value)| value.test(column)).collect();
        // A predicate that holds for every row (no selection) filters nothing.
        let selects = !matches!(condition.kind, ExprKind::Literal(Literal::Bool(true)));
        let rebuilt = rebuilt_fields(&columns, filter);
        let mut rows = Expr::name(entry.table.as_str());
        let tests: Vec<Expr> = if rebuilt.is_empty() {
            required.into_iter().chain(selects.then_some(condition)).collect()
        } else {
            if let Some(test) = Expr::chain(BinaryOp::And, required) {
                rows = rows.pipe(OperatorKind::Where(test.into()));
            }
            rows = rows.pipe(OperatorKind::Extend(rebuilt));
            selects.then_some(condition).into_iter().collect()
        };
        Ok(match Expr::chain(BinaryOp::And, tests) {
            Some(test) => rows.pipe(OperatorKind::Where(test.into())),
            None => rows,
        })
    }
}

impl Writer<'_> {
    /// A source whose condition is a constant because the fields it tests are absent from its
    /// table: one that never holds would never alert (an error); one that always holds keeps no
    /// discriminating condition (`broader`: an error, or a loss with `--allow-broader`).
    fn constant_source(&self, index: usize, table: &str, absent: &[String], holds: bool) -> Result<(), Vec<Problem>> {
        let source = &self.subject.detection.sources[index];
        let fields = absent.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", ");
        let why = format!(
            "on `{table}`, the condition of `{}` depends on {fields}, which the table does not have (targets/kql-schemas.tsv)",
            source.name
        );
        let at = source.span.start;
        if !holds {
            let message = format!("{why}: it never holds, so the query would never alert");
            return Err(self.error(Code::NoDetection, at, message));
        }
        if !self.allow_broader {
            let message = format!("{why}: it always holds, so every event of the table would alert (--allow-broader writes it)");
            return Err(vec![Problem::in_logic(Kind::Error, Code::Broader, self.subject.rule, at, message)]);
        }
        let message = format!("{why}: it always holds; written because of --allow-broader");
        self.losses.borrow_mut().push(loss_at(self.subject, Code::Broader, source.span, message));
        Ok(())
    }
}

/// `Field = <its value as the source writes it>` for each field of the filter that the table
/// holds in another shape and that is rebuilt, once each, in the order the filter names them.
fn rebuilt_fields(columns: &Columns, filter: &Predicate) -> Vec<NamedExpr> {
    let mut named: Vec<&Field> = Vec::new();
    for m in filter.matches() {
        let compared = m.values.iter().filter_map(|v| if let Value::Field(f) = v { Some(f) } else { None });
        for field in std::iter::once(&m.field).chain(compared) {
            if !named.contains(&field) {
                named.push(field);
            }
        }
    }
    named
        .into_iter()
        .filter_map(|field| Some(NamedExpr::named(field.name.as_str(), columns.transform(field)?.rebuilt(&field.name)?)))
        .collect()
}

fn stage_name(stage: &Stage) -> &'static str {
    match stage {
        Stage::Join(_) => "join",
        Stage::Aggregate(_) => "summarize",
        Stage::Union { .. } => "union",
        Stage::Extend { .. } => "extend",
        Stage::Filter { .. } => "filter",
    }
}
