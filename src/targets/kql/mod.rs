//! `--to kql`: the rule's query alone, as KQL.
//!
//! A KQL rule's query is printed as written, normalized by the printer. A Sigma rule's
//! Detection is written as KQL: each source is the table its logsource maps to in the chosen
//! profile (`targets/kql.yaml`, `--profile`), filtered by its predicate over the mapped
//! columns; a correlation is a `summarize` (over a `union` of its rules) with a `where` on the
//! count, or a chain of joins (`correlation`). An unknown logsource, a test with no KQL form
//! (a keyword search) or a regex only a backtracking engine runs (`re2`: Kusto's engine is
//! RE2) makes the rule unsupported; what lowering could not model is a loss. The text is
//! generated plainly, then parsed and printed, so every output is normalized and parses.

mod condition;
mod correlation;
mod entities;
mod profile;
mod sentinel_rule;

use super::{EmitOptions, Emitted, Emitter, Subject, refused_regex_errors, header_lines, join_documents, loss_at, unmodelled_losses, unverified};
use crate::diag::{Code, Kind, Problem};
use crate::ir::detection::{Input, MatchOp, Stage};
use condition::Columns;
use profile::Profile;
use std::borrow::Cow;
pub(super) use sentinel_rule::sentinel_form;

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
            let (text, problems) = query(subject, options)?;
            let mut out: String = header_lines(&problems).iter().map(|line| format!("// {line}\n")).collect();
            out.push_str(&text);
            out.push('\n');
            Ok(Emitted { text: out, problems })
        })
    }
}

/// The rule's query, printed, and its losses.
fn query(subject: &Subject, options: &EmitOptions) -> Result<(String, Vec<Problem>), Vec<Problem>> {
    let (text, problems) = match subject.rule.kql() {
        Some(query) => {
            if let Some(error) = unparsed(subject.rule, query, Kind::Error, "") {
                return Err(vec![error]);
            }
            (query.text.clone(), Vec::new())
        }
        None => {
            let (name, profile) = profile::named(options.profile.as_deref())
                .map_err(|e| vec![Problem::at_key(Kind::Error, Code::UnknownProfile, subject.rule, "logsource", e)])?;
            // Kusto's regexes are RE2, which refuses such a pattern whole (as kql-run's RE2 does).
            let refused = refused_regex_errors(subject, "Kusto's RE2 (`matches regex`)");
            if !refused.is_empty() {
                return Err(refused);
            }
            let writer = Writer { name, profile, subject };
            let result = subject.detection.result.ok_or_else(|| writer.error(Code::NoDetection, 0, "the rule selects no events".into()))?;
            let mut losses = unmodelled_losses(subject);
            losses.extend(null_test_losses(subject));
            let text = writer.input(result)?;
            losses.extend(correlation::losses(subject));
            if let Some(span) = subject.detection.stages.iter().find_map(Stage::correlation_span) {
                let what = "no independent engine evaluates the Sigma correlation (sigma-run counts them only), so the summarize or join it became is unproven";
                unverified(subject, &mut losses, span, what);
            }
            (text, losses)
        }
    };
    let parsed = crate::kql::parse(&text);
    if let Some(e) = parsed.errors.first() {
        let message = format!("the generated KQL does not parse ({}): {text}", e.message);
        return Err(vec![Problem::in_logic(Kind::Error, Code::OutputFailed, subject.rule, 0, message)]);
    }
    Ok((crate::kql::print(&parsed.ast), problems))
}

/// The first parse error of a rule's own query, as a problem of `kind` ending in `consequence`.
fn unparsed(rule: &crate::ir::Rule, query: &crate::ir::Query, kind: Kind, consequence: &str) -> Option<Problem> {
    let parsed = crate::kql::parse(&query.text);
    let e = parsed.errors.first()?;
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
}

impl Writer<'_> {
    fn error(&self, code: Code, at: usize, message: String) -> Vec<Problem> {
        vec![Problem::in_logic(Kind::Error, code, self.subject.rule, at, message)]
    }

    /// The rows of a source or stage, as a tabular expression.
    fn input(&self, input: Input) -> Result<String, Vec<Problem>> {
        let detection = self.subject.detection;
        match input {
            Input::Source(i) => self.source(i),
            Input::Stage(i) => match &detection.stages[i] {
                Stage::Union { inputs, .. } => {
                    let branches: Result<Vec<String>, _> = inputs.iter().map(|i| self.input(*i).map(|t| format!("({t})"))).collect();
                    Ok(format!("union {}", branches?.join(", ")))
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
        let detection = self.subject.detection;
        match input {
            Input::Source(i) => Ok(self.entry(i)?.table.clone()),
            Input::Stage(i) => match &detection.stages[i] {
                Stage::Union { inputs, .. } => {
                    self.table(*inputs.first().ok_or_else(|| self.error(Code::CorrelationUnsupported, 0, "an empty union".into()))?)
                }
                Stage::Aggregate(a) => self.table(a.input),
                Stage::Join(join) => self.table(join.left),
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

    fn source(&self, index: usize) -> Result<String, Vec<Problem>> {
        let entry = self.entry(index)?;
        let columns = Columns { profile: self.profile, table: &entry.table };
        let filter = &self.subject.detection.sources[index].filter;
        let condition = columns.predicate(filter).map_err(|u| self.error(Code::ConditionDropped, u.at, u.reason))?;
        let tests: Vec<String> = entry.condition.iter().cloned().chain(Some(condition).filter(|c| c != "true")).collect();
        let table = condition::name(&entry.table);
        Ok(if tests.is_empty() { table } else { format!("{table}\n| where {}", tests.join(" and ")) })
    }
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
