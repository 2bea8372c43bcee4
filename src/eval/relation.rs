//! Rows flowing between stages, with the columns they carry and which of those are unknown.

use super::cell::Row;
use std::collections::BTreeMap;

/// A set of rows plus the facts about their columns that the rows alone do not show.
#[derive(Clone, Debug, Default)]
pub struct Relation {
    pub rows: Vec<Row>,
    /// Every column, in first-seen order (rows may omit the ones they hold no value for).
    pub columns: Vec<String>,
    /// Columns whose values this evaluator cannot compute, with the expression that makes them.
    pub unknown: BTreeMap<String, String>,
    /// Whether `columns` is the whole schema (after `summarize`), rather than what events happen
    /// to carry: then a name outside it is a column this evaluator does not make.
    pub closed: bool,
}

impl Relation {
    /// Rows whose columns are the union of their keys, in order of first appearance.
    pub fn from_rows(rows: Vec<Row>) -> Relation {
        let mut columns: Vec<String> = Vec::new();
        for row in &rows {
            for key in row.keys() {
                if !columns.contains(key) {
                    columns.push(key.clone());
                }
            }
        }
        Relation { rows, columns, unknown: BTreeMap::new(), closed: false }
    }

    /// Adds a column this evaluator cannot compute.
    pub fn add_unknown(&mut self, name: &str, expression: &str) {
        if !self.columns.iter().any(|c| c == name) {
            self.columns.push(name.to_string());
        }
        self.unknown.insert(name.to_string(), expression.to_string());
    }
}
