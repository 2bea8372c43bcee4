//! What needs a human in one emitted rule: `// TODO:` lines for the rule text and the problems
//! for the report, collected while the rule is written; each TODO is listed once.

use crate::diag::{Code, Kind, Problem};
use crate::emit::{Subject, loss_at};
use crate::ir::detection::Span;

pub struct Notes<'a> {
    pub subject: &'a Subject<'a>,
    pub todos: Vec<String>,
    pub problems: Vec<Problem>,
}

impl<'a> Notes<'a> {
    pub fn new(subject: &'a Subject<'a>) -> Self {
        Notes { subject, todos: Vec::new(), problems: Vec::new() }
    }

    /// A TODO line in the rule and the loss it stands for in the report.
    pub fn todo(&mut self, code: Code, span: Span, text: impl Into<String>) {
        let text = super::text::comment(&text.into());
        if !self.todos.contains(&text) {
            self.problems.push(loss_at(self.subject, code, span, text.clone()));
            self.todos.push(text);
        }
    }

    /// A change the reviewer should know of that loses nothing.
    pub fn change(&mut self, code: Code, span: Span, text: impl Into<String>) {
        let change = Problem::in_logic(Kind::Change, code, self.subject.rule, span.start, text);
        if !self.problems.contains(&change) {
            self.problems.push(change);
        }
    }
}
