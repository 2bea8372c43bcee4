//! `join` per kind, with Kusto's column naming: a right column whose name the left side already
//! has comes back as `Name1` (then `Name2` ...), the join keys included.

use super::cell::{self, Row};
use super::relation::Relation;
use crate::ir::detection::{Field, JoinKey, JoinKind};
use serde_json::Value as Json;
use std::collections::{HashMap, HashSet};

pub fn join(kind: JoinKind, left: &Relation, right: &Relation, keys: &[JoinKey]) -> Relation {
    let (left_keys, right_keys) = (Keys::of(left, keys, Side::Left), Keys::of(right, keys, Side::Right));
    let left_rows: Vec<&Row> = match kind {
        // innerunique keeps one left row per key value (the first), then joins like inner.
        JoinKind::InnerUnique => {
            let mut seen = HashSet::new();
            left.rows.iter().filter(|row| seen.insert(left_keys.of_row(row))).collect()
        }
        _ => left.rows.iter().collect(),
    };
    let mut right_by_key: HashMap<Option<String>, Vec<usize>> = HashMap::new();
    for (i, row) in right.rows.iter().enumerate() {
        right_by_key.entry(right_keys.of_row(row)).or_default().push(i);
    }
    // Null keys match nothing, as in SQL and duckdb-kql (a string key is never null: `""`).
    let matches_of = |row: &Row| -> &[usize] {
        match left_keys.of_row(row) {
            Some(k) => right_by_key.get(&Some(k)).map_or(&[], Vec::as_slice),
            None => &[],
        }
    };
    match kind {
        JoinKind::LeftSemi => return subset(left, left_rows.into_iter().filter(|r| !matches_of(r).is_empty())),
        JoinKind::LeftAnti => return subset(left, left_rows.into_iter().filter(|r| matches_of(r).is_empty())),
        JoinKind::RightSemi | JoinKind::RightAnti => {
            let matched: HashSet<usize> = left_rows.iter().flat_map(|r| matches_of(r).iter().copied()).collect();
            let want = kind == JoinKind::RightSemi;
            return subset(right, right.rows.iter().enumerate().filter(|(i, _)| matched.contains(i) == want).map(|(_, r)| r));
        }
        _ => {}
    }
    let names = RightNames::new(left, right);
    let mut out = Vec::new();
    let mut right_matched = vec![false; right.rows.len()];
    for row in &left_rows {
        let found = matches_of(row);
        for &i in found {
            right_matched[i] = true;
            out.push(names.combine(Some(row), Some(&right.rows[i])));
        }
        if found.is_empty() && matches!(kind, JoinKind::LeftOuter | JoinKind::FullOuter) {
            out.push(names.combine(Some(row), None));
        }
    }
    if matches!(kind, JoinKind::RightOuter | JoinKind::FullOuter) {
        for (row, _) in right.rows.iter().zip(&right_matched).filter(|(_, matched)| !**matched) {
            out.push(names.combine(None, Some(row)));
        }
    }
    let mut result =
        Relation { rows: out, columns: left.columns.clone(), unknown: left.unknown.clone(), closed: left.closed && right.closed };
    for column in &right.columns {
        let renamed = names.renamed(column);
        result.columns.push(renamed.clone());
        if let Some(expression) = right.unknown.get(column) {
            result.unknown.insert(renamed, expression.clone());
        }
    }
    result
}

#[derive(Clone, Copy)]
enum Side {
    Left,
    Right,
}

/// One side's key fields, each with whether it is a string column of that side's rows.
struct Keys<'k> {
    fields: Vec<(&'k Field, bool)>,
}

impl<'k> Keys<'k> {
    fn of(relation: &Relation, keys: &'k [JoinKey], side: Side) -> Keys<'k> {
        let field = |key: &'k JoinKey| match side {
            Side::Left => &key.left,
            Side::Right => &key.right,
        };
        Keys { fields: keys.iter().map(|k| (field(k), cell::string_column(&relation.rows, field(k)))).collect() }
    }

    /// The key values of a row as one comparable text; `None` when any is null.
    fn of_row(&self, row: &Row) -> Option<String> {
        let mut parts = Vec::with_capacity(self.fields.len());
        for (field, string_column) in &self.fields {
            parts.push(match &cell::key_value(row, field, *string_column) {
                Json::Null => return None,
                // 5 and 5.0 are the same key.
                Json::Number(n) => n.as_f64().map_or_else(|| n.to_string(), |f| f.to_string()),
                other => other.to_string(),
            });
        }
        Some(parts.join("\u{1f}"))
    }
}

fn subset<'a>(of: &Relation, rows: impl Iterator<Item = &'a Row>) -> Relation {
    Relation { rows: rows.cloned().collect(), columns: of.columns.clone(), unknown: of.unknown.clone(), closed: of.closed }
}

/// The output name of each right column.
struct RightNames {
    left_columns: Vec<String>,
    right_columns: Vec<(String, String)>,
}

impl RightNames {
    fn new(left: &Relation, right: &Relation) -> RightNames {
        let mut taken: HashSet<String> = left.columns.iter().cloned().collect();
        let right_columns = right
            .columns
            .iter()
            .map(|c| {
                let mut name = c.clone();
                let mut n = 1;
                while taken.contains(&name) {
                    name = format!("{c}{n}");
                    n += 1;
                }
                taken.insert(name.clone());
                (c.clone(), name)
            })
            .collect();
        RightNames { left_columns: left.columns.clone(), right_columns }
    }

    fn renamed(&self, column: &str) -> String {
        self.right_columns.iter().find(|(c, _)| c == column).map_or_else(|| column.to_string(), |(_, n)| n.clone())
    }

    /// One output row; a missing side contributes nulls.
    fn combine(&self, left: Option<&Row>, right: Option<&Row>) -> Row {
        let mut row = Row::new();
        for c in &self.left_columns {
            row.insert(c.clone(), left.and_then(|r| r.get(c)).cloned().unwrap_or(Json::Null));
        }
        for (c, name) in &self.right_columns {
            row.insert(name.clone(), right.and_then(|r| r.get(c)).cloned().unwrap_or(Json::Null));
        }
        row
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::detection::Field;
    use serde_json::json;

    fn relation(rows: Json) -> Relation {
        Relation::from_rows(rows.as_array().unwrap().iter().map(|r| r.as_object().unwrap().clone()).collect())
    }

    fn on(name: &str) -> Vec<JoinKey> {
        vec![JoinKey { left: Field::column(name), right: Field::column(name) }]
    }

    fn left() -> Relation {
        relation(json!([{"K": "a", "L": 1}, {"K": "a", "L": 2}, {"K": "b", "L": 3}, {"K": null, "L": 4}]))
    }

    fn right() -> Relation {
        relation(json!([{"K": "a", "R": 10}, {"K": "a", "R": 11}, {"K": "c", "R": 12}]))
    }

    fn column(r: &Relation, name: &str) -> Vec<Json> {
        r.rows.iter().map(|row| row.get(name).cloned().unwrap_or(Json::Null)).collect()
    }

    #[test]
    fn innerunique_dedupes_the_left_side_on_the_keys() {
        let out = join(JoinKind::InnerUnique, &left(), &right(), &on("K"));
        assert_eq!(column(&out, "L"), [json!(1), json!(1)]);
        assert_eq!(column(&out, "R"), [json!(10), json!(11)]);
        assert_eq!(out.columns, ["K", "L", "K1", "R"]);
    }

    #[test]
    fn inner_pairs_every_match() {
        let out = join(JoinKind::Inner, &left(), &right(), &on("K"));
        assert_eq!(column(&out, "L"), [json!(1), json!(1), json!(2), json!(2)]);
    }

    #[test]
    fn outer_joins_fill_the_missing_side_with_nulls() {
        let out = join(JoinKind::LeftOuter, &left(), &right(), &on("K"));
        assert_eq!(column(&out, "L"), [json!(1), json!(1), json!(2), json!(2), json!(3), json!(4)]);
        assert_eq!(column(&out, "R")[4..], [Json::Null, Json::Null]);
        let out = join(JoinKind::FullOuter, &left(), &right(), &on("K"));
        assert_eq!(out.rows.len(), 7);
        assert_eq!(column(&out, "K1")[6], json!("c"));
    }

    #[test]
    fn semi_and_anti_joins_keep_one_side() {
        assert_eq!(column(&join(JoinKind::LeftSemi, &left(), &right(), &on("K")), "L"), [json!(1), json!(2)]);
        assert_eq!(column(&join(JoinKind::LeftAnti, &left(), &right(), &on("K")), "L"), [json!(3), json!(4)]);
        assert_eq!(column(&join(JoinKind::RightSemi, &left(), &right(), &on("K")), "R"), [json!(10), json!(11)]);
        assert_eq!(column(&join(JoinKind::RightAnti, &left(), &right(), &on("K")), "R"), [json!(12)]);
    }
}
