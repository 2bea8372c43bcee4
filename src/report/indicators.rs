//! Indicator reuse: for each field, operator and value a rule looks for, how many rules of the
//! pack look for it too. Indicators are the rule card's (`emit::markdown::predicates`), one
//! per value, so a rule testing `EventID in (4624, 4625)` shares each of its two values.

use crate::emit::markdown::predicates;
use crate::ir::Detection;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IndicatorCount {
    pub field: String,
    pub operator: String,
    /// As the card words it (strings quoted); empty for a test without values (`is_not_empty`).
    pub value: String,
    pub rules: usize,
}

/// Every indicator, the most used first, ties in field, operator and value order.
pub fn reuse(detections: &[&Detection]) -> Vec<IndicatorCount> {
    let mut users: BTreeMap<(String, String, String), BTreeSet<usize>> = BTreeMap::new();
    for (number, detection) in detections.iter().enumerate() {
        for row in predicates::tables(detection).indicators {
            let values = if row.each_value.is_empty() { vec![String::new()] } else { row.each_value };
            for value in values {
                users.entry((row.field.clone(), row.kind.clone(), value)).or_default().insert(number);
            }
        }
    }
    let mut counts: Vec<IndicatorCount> =
        users.into_iter().map(|((field, operator, value), rules)| IndicatorCount { field, operator, value, rules: rules.len() }).collect();
    // Stable: ties keep the map's key order.
    counts.sort_by_key(|c| std::cmp::Reverse(c.rules));
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_value_counts_the_rules_that_test_it() {
        let detections: Vec<Detection> =
            ["T | where EventID in (4624, 4625) and User has 'x'", "T | where EventID == 4625", "T | where EventID == 4625"]
                .iter()
                .map(|q| crate::lower::lower_query(q))
                .collect();
        let counts = reuse(&detections.iter().collect::<Vec<_>>());
        let seen: Vec<(&str, &str, &str, usize)> =
            counts.iter().map(|c| (c.field.as_str(), c.operator.as_str(), c.value.as_str(), c.rules)).collect();
        assert_eq!(seen, vec![("EventID", "eq", "4625", 3), ("EventID", "eq", "4624", 1), ("User", "has", "'x'", 1)]);
    }
}
