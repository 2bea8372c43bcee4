//! The fields a Sigma rule's detection tests against SigmaHQ's field list for its logsource
//! (`targets/sigmahq-fields.json`, derived from SigmaHQ/sigma's tests/logsource.json by
//! scripts/derive_sigmahq_fields.py): a field the list lacks is a warning, since SigmaHQ's CI
//! refuses it, but a team's own sensors may well log it. A logsource SigmaHQ keeps no list for
//! has its fields left unjudged, as SigmaHQ's test does.

use crate::diag::{Code, Kind, Problem};
use crate::ir::{LogSource, Rule};
use crate::sigma::{RuleLogic, SearchBody};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::LazyLock;

#[derive(Default, Deserialize)]
struct FieldLists {
    version: String,
    /// Product (`""` for none) → its lists.
    products: BTreeMap<String, ProductLists>,
}

#[derive(Default, Deserialize)]
struct ProductLists {
    category: BTreeMap<String, BTreeSet<String>>,
    service: BTreeMap<String, BTreeSet<String>>,
    /// For a rule with neither category nor service.
    none: Option<BTreeSet<String>>,
}

/// Empty if the embedded file were unreadable; a test proves it is not.
static LISTS: LazyLock<FieldLists> =
    LazyLock::new(|| serde_json::from_str(include_str!("../../../targets/sigmahq-fields.json")).unwrap_or_default());

/// SigmaHQ's field list for a logsource, looked up as its test does: the product's table (none
/// for an unknown product), then the category's list, else the service's, else (neither given)
/// the product's own.
fn listed(logsource: &LogSource) -> Option<&'static BTreeSet<String>> {
    let product = LISTS.products.get(logsource.product.as_deref().unwrap_or_default())?;
    let in_kind = |lists: &'static BTreeMap<String, BTreeSet<String>>, name: &Option<String>| name.as_ref().and_then(|n| lists.get(n));
    match (&logsource.category, &logsource.service) {
        (None, None) => product.none.as_ref(),
        (category, service) => in_kind(&product.category, category).or_else(|| in_kind(&product.service, service)),
    }
}

/// One warning per field the rule tests that SigmaHQ does not list for its logsource, at its
/// first test.
pub fn problems(rule: &Rule, logic: &RuleLogic) -> Vec<Problem> {
    let Some(allowed) = listed(&logic.logsource) else { return Vec::new() };
    let mut tests = Vec::new();
    for search in &logic.detection.searches {
        field_tests(&search.body, &mut tests);
    }
    let mut warned = HashSet::new();
    tests
        .into_iter()
        .filter(|(field, _)| !allowed.contains(*field) && warned.insert(*field))
        .map(|(field, offset)| {
            let message = format!(
                "field `{field}` is not in SigmaHQ's field list for {} (tests/logsource.json {}, targets/sigmahq-fields.json)",
                describe(&logic.logsource),
                LISTS.version
            );
            Problem::in_logic(Kind::Warning, Code::UnlistedField, rule, offset, message)
        })
        .collect()
}

/// Every named field of a search with the offset of its key, in document order.
fn field_tests<'a>(body: &'a SearchBody, out: &mut Vec<(&'a str, usize)>) {
    match body {
        SearchBody::All(tests) => out.extend(tests.iter().filter_map(|t| Some((t.field.as_deref()?, t.span.start)))),
        SearchBody::Any(bodies) => bodies.iter().for_each(|b| field_tests(b, out)),
        SearchBody::Keywords(_) => {}
    }
}

/// `product: windows, category: process_creation`.
fn describe(logsource: &LogSource) -> String {
    let parts: Vec<String> = [("product", &logsource.product), ("category", &logsource.category), ("service", &logsource.service)]
        .into_iter()
        .filter_map(|(key, value)| Some(format!("{key}: {}", value.as_deref()?)))
        .collect();
    if parts.is_empty() { "a rule without logsource".into() } else { parts.join(", ") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logsource(product: Option<&str>, category: Option<&str>, service: Option<&str>) -> LogSource {
        let text = |v: Option<&str>| v.map(str::to_string);
        LogSource { product: text(product), category: text(category), service: text(service), ..LogSource::default() }
    }

    #[test]
    fn lists_are_found_as_sigmahq_finds_them() {
        assert!(!LISTS.version.is_empty() && LISTS.products.len() > 20);
        let process = listed(&logsource(Some("windows"), Some("process_creation"), None)).expect("listed");
        // The logsource's own field, the product's common one, and an add-on field.
        assert!(["CommandLine", "EventID", "GrandparentCommandLine"].iter().all(|f| process.contains(*f)));
        assert!(!process.contains("TargetFilename"));
        // A service's list when the category has none.
        assert!(listed(&logsource(Some("windows"), None, Some("dns-client"))).is_some_and(|l| l.contains("QueryName")));
        // Unknown product or logsource: no list, nothing judged.
        assert!(listed(&logsource(Some("sentinel"), Some("process_creation"), None)).is_none());
        assert!(listed(&logsource(Some("windows"), Some("no_such_category"), None)).is_none());
    }
}
