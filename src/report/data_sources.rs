//! The data a pack reads: the tables of its queries, the logsources of its Sigma rules and the
//! data connectors its Sentinel rules require, each with how many rules use it.

use crate::ir::{Detection, LogSource, Rule};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SourceCount {
    /// `table`, `logsource` or `connector`.
    pub kind: &'static str,
    pub name: String,
    pub rules: usize,
}

/// Most used first; ties by kind and name.
pub fn data_sources(rules: &[(&Rule, &Detection)]) -> Vec<SourceCount> {
    let mut users: BTreeMap<(&'static str, String), BTreeSet<usize>> = BTreeMap::new();
    for (number, (rule, detection)) in rules.iter().enumerate() {
        let tables = detection.sources.iter().flat_map(|s| &s.tables).map(|t| ("table", t.clone()));
        let logsources = detection.sources.iter().filter_map(|s| s.logsource.as_ref()).map(|l| ("logsource", logsource_name(l)));
        let connectors =
            rule.sentinel.iter().flat_map(|s| s.required_data_connectors.iter().flatten()).map(|c| ("connector", c.connector_id.clone()));
        for key in tables.chain(logsources).chain(connectors) {
            users.entry(key).or_default().insert(number);
        }
    }
    let mut counts: Vec<SourceCount> =
        users.into_iter().map(|((kind, name), rules)| SourceCount { kind, name, rules: rules.len() }).collect();
    counts.sort_by_key(|c| std::cmp::Reverse(c.rules));
    counts
}

/// `product:windows category:process_creation`, in Sigma's key order.
fn logsource_name(logsource: &LogSource) -> String {
    let parts = [("product", &logsource.product), ("category", &logsource.category), ("service", &logsource.service)];
    let named: Vec<String> = parts.iter().filter_map(|(key, value)| value.as_ref().map(|v| format!("{key}:{v}"))).collect();
    if named.is_empty() { "(empty logsource)".to_string() } else { named.join(" ") }
}
