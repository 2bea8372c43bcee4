//! The query as a reader follows it: its `let` parameters with their values, and each pipeline
//! stage in order, let-pipelines apart from the outer pipeline. The Detection holds what the
//! query means, not how it is laid out, so this comes from the parsed KQL: the syntax tree says
//! where each statement and operator is, and their spans give the text as written.

use super::subject;
use crate::ir::Query;
use crate::kql::Span;
use crate::kql::ast::{Expr, ExprKind, LetValue, Operator, OperatorKind, Script, StatementKind};

/// The layout of one query.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Structure {
    /// `let name = value;` of every let that is not a pipeline (constants, lists, functions).
    pub parameters: Vec<String>,
    pub pipelines: Vec<Pipeline>,
}

/// The stages of one let-bound pipeline or of the outer pipeline.
#[derive(Clone, Debug, PartialEq)]
pub struct Pipeline {
    /// The let name it is bound to; `None` for the outer pipeline.
    pub let_name: Option<String>,
    /// The let it runs on, when its source is one.
    pub runs_on: Option<String>,
    pub stages: Vec<StageText>,
}

/// One stage: an operator (consecutive `extend`s as one), or the table a pipeline starts from.
/// Stages carry no ordinal: a card names each by its operator, so inserting or moving one
/// stage changes no other stage's lines.
#[derive(Clone, Debug, PartialEq)]
pub struct StageText {
    /// `source`, `where`, `join` ...
    pub operator: &'static str,
    /// How many operators it groups (consecutive `extend`s).
    pub steps: usize,
    /// What it acts on (`subject`), for an operator whose text does not say it all.
    pub subject: Option<String>,
    pub text: String,
    pub span: Span,
}

impl Structure {
    pub fn of_query(query: &Query) -> Structure {
        let text = query.text.as_str();
        Reader { text, lets: Vec::new(), structure: Structure::default() }.script(&query.parsed().ast)
    }

    /// The stage whose text holds `span` (a column made by `project`, say).
    pub fn stage_at(&self, span: Span) -> Option<&StageText> {
        self.pipelines.iter().flat_map(|p| &p.stages).find(|s| s.span.start <= span.start && span.end <= s.span.end)
    }
}

struct Reader<'a> {
    text: &'a str,
    /// Let names bound so far, so a pipeline starting from one runs on it rather than a table.
    lets: Vec<&'a str>,
    structure: Structure,
}

impl<'a> Reader<'a> {
    fn script(mut self, script: &'a Script) -> Structure {
        for statement in &script.statements {
            match &statement.kind {
                StatementKind::Let { name, value } => {
                    match value {
                        LetValue::Expr(expr) if pipeline_of(expr).is_some() => self.pipeline(Some(name.name.clone()), expr),
                        _ => self.structure.parameters.push(format!("{};", self.text_of(statement.span).trim_end_matches(';'))),
                    }
                    self.lets.push(&name.name);
                }
                StatementKind::Query(expr) => self.pipeline(None, expr),
                _ => {}
            }
        }
        self.structure
    }

    fn pipeline(&mut self, let_name: Option<String>, expr: &'a Expr) {
        let (source, operators) = pipeline_of(expr).unwrap_or((Some(expr), &[]));
        let mut stages = Vec::new();
        let runs_on = match source.map(|s| &s.kind) {
            Some(ExprKind::Name(name)) if self.lets.contains(&name.name.as_str()) => Some(name.name.clone()),
            _ => {
                if let Some(source) = source {
                    let text = self.text_of(source.span).to_string();
                    stages.push(StageText { operator: "source", steps: 1, subject: None, text, span: source.span });
                }
                None
            }
        };
        let mut rest = operators;
        while let Some(first) = rest.first() {
            let run = if matches!(first.kind, OperatorKind::Extend(_)) {
                rest.iter().take_while(|op| matches!(op.kind, OperatorKind::Extend(_))).count()
            } else {
                1
            };
            let (group, after) = rest.split_at(run);
            // A pipeline without a source starts with an operator that makes rows: no pipe.
            let piped = source.is_some() || rest.len() < operators.len();
            stages.push(self.operators(group, piped));
            rest = after;
        }
        self.structure.pipelines.push(Pipeline { let_name, runs_on, stages });
    }

    /// One stage from one operator, or from a run of `extend`s.
    fn operators(&self, group: &[Operator], piped: bool) -> StageText {
        let pipe = if piped { "| " } else { "" };
        let text: Vec<String> =
            group.iter().map(|op| format!("{pipe}{}", self.text_of(op.span).trim_start_matches('|').trim_start())).collect();
        let span = group.iter().map(|op| op.span).reduce(Span::to).unwrap_or_default();
        let keyword = group.first().map_or("", |op| op.kind.keyword());
        let kinds: Vec<&OperatorKind> = group.iter().map(|op| &op.kind).collect();
        StageText { operator: keyword, steps: group.len(), subject: subject::of_operators(&kinds, &self.lets), text: text.join("\n"), span }
    }

    fn text_of(&self, span: Span) -> &'a str {
        self.text.get(span.start..span.end).unwrap_or_default()
    }
}

/// The source and operators of a pipeline (through parentheses and `materialize()`), or `None`
/// when the expression is not one.
fn pipeline_of(expr: &Expr) -> Option<(Option<&Expr>, &[Operator])> {
    match &expr.kind {
        ExprKind::Pipeline { source, operators } => Some((source.as_deref(), operators)),
        ExprKind::Paren(inner) => pipeline_of(inner),
        ExprKind::Call { target: None, name, args } if name.name == "materialize" && args.len() == 1 => pipeline_of(&args[0].expr),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stages(structure: &Structure) -> Vec<(&'static str, usize, &str)> {
        structure.pipelines.iter().flat_map(|p| &p.stages).map(|s| (s.operator, s.steps, s.text.as_str())).collect()
    }

    #[test]
    fn lets_and_pipelines_read_in_order() {
        let query = "let n = 5; // five\nlet f = (x:string) { x };\nlet L = materialize(datatable(A:int)[1] | where A > n);\nL | extend B = 1 | extend C = 2 | project B";
        let structure = Structure::of_query(&Query::new(query.into(), Default::default()));
        assert_eq!(structure.parameters, vec!["let n = 5;", "let f = (x:string) { x };"]);
        assert_eq!(
            structure.pipelines.iter().map(|p| (p.let_name.as_deref(), p.runs_on.as_deref())).collect::<Vec<_>>(),
            vec![(Some("L"), None), (None, Some("L"))]
        );
        assert_eq!(
            stages(&structure),
            vec![
                ("datatable", 1, "datatable(A:int)[1]"),
                ("where", 1, "| where A > n"),
                ("extend", 2, "| extend B = 1\n| extend C = 2"),
                ("project", 1, "| project B"),
            ]
        );
    }

    #[test]
    fn broken_queries_still_give_what_parsed() {
        let structure = Structure::of_query(&Query::new("T | where (".into(), Default::default()));
        assert_eq!(stages(&structure).first().map(|s| s.0), Some("source"));
        assert_eq!(Structure::of_query(&Query::default()), Structure::default());
    }
}
