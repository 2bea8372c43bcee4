//! `let` bindings in scope: constants, lists, tabular expressions and functions.
//!
//! Bindings are only ever appended, so "the bindings visible here" is a prefix length
//! (`upto`): a binding's own value sees only those before it, and a function body's lets,
//! appended when it is lowered, stay invisible to the caller.

use crate::kql::ast::LetValue;

#[derive(Default)]
pub(super) struct Scope<'a> {
    bindings: Vec<(&'a str, &'a LetValue)>,
}

impl<'a> Scope<'a> {
    pub fn bind(&mut self, name: &'a str, value: &'a LetValue) {
        self.bindings.push((name, value));
    }

    pub fn len(&self) -> usize {
        self.bindings.len()
    }

    /// The latest binding of `name` among the first `upto`, with its index (which is the
    /// `upto` its value is lowered with).
    pub fn lookup(&self, name: &str, upto: usize) -> Option<(usize, &'a LetValue)> {
        let visible = self.bindings.get(..upto).unwrap_or(&self.bindings);
        visible.iter().enumerate().rev().find(|(_, (bound, _))| *bound == name).map(|(index, (_, value))| (index, *value))
    }
}
