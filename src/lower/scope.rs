//! `let` bindings in scope: constants, lists, tabular expressions, functions, and the
//! arguments a function body sees.
//!
//! Bindings are only ever appended, so "the bindings visible here" is a prefix length
//! (`upto`): a binding's own value sees only those before it, and a function body's lets,
//! appended when it is lowered, stay invisible to the caller.

use crate::kql::ast::{Expr, FunctionDef, LetValue};

#[derive(Clone, Copy)]
enum Bound<'a> {
    Let(&'a LetValue),
    /// A function parameter: the caller's argument, read in the caller's scope.
    Arg {
        value: &'a Expr,
        upto: usize,
    },
}

#[derive(Default)]
pub(super) struct Scope<'a> {
    bindings: Vec<(&'a str, Bound<'a>)>,
}

impl<'a> Scope<'a> {
    pub fn bind(&mut self, name: &'a str, value: &'a LetValue) {
        self.bindings.push((name, Bound::Let(value)));
    }

    /// Binds a function parameter to an argument that is read with the first `upto` bindings.
    pub fn bind_arg(&mut self, name: &'a str, value: &'a Expr, upto: usize) {
        self.bindings.push((name, Bound::Arg { value, upto }));
    }

    pub fn len(&self) -> usize {
        self.bindings.len()
    }

    pub fn is_bound(&self, name: &str, upto: usize) -> bool {
        self.find(name, upto).is_some()
    }

    /// The expression a name is bound to, with the `upto` to read it in.
    pub fn expr(&self, name: &str, upto: usize) -> Option<(&'a Expr, usize)> {
        match self.find(name, upto)? {
            (index, Bound::Let(LetValue::Expr(value))) => Some((value, index)),
            (_, Bound::Arg { value, upto }) => Some((value, upto)),
            (_, Bound::Let(LetValue::Function(_))) => None,
        }
    }

    pub fn function(&self, name: &str, upto: usize) -> Option<&'a FunctionDef> {
        match self.find(name, upto)? {
            (_, Bound::Let(LetValue::Function(function))) => Some(function),
            _ => None,
        }
    }

    /// The latest binding of `name` among the first `upto`, with its index.
    fn find(&self, name: &str, upto: usize) -> Option<(usize, Bound<'a>)> {
        let visible = self.bindings.get(..upto).unwrap_or(&self.bindings);
        visible.iter().enumerate().rev().find(|(_, (bound, _))| *bound == name).map(|(index, (_, value))| (index, *value))
    }
}
