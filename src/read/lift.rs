//! Lifts facts Sentinel keeps in free-form places into the rule's neutral layer, each with the
//! place it came from. The section keeps the data as written (emitters write that), so a round
//! trip is unchanged; only what is clearly structured is lifted, nothing is guessed.

use crate::ir::{Lifted, Rule};
use serde_json::Value;

pub fn lift(rule: &mut Rule) {
    let Some(section) = &rule.sentinel else { return };
    let mut authors = Vec::new();
    let mut tags = Vec::new();
    let mut references = Vec::new();
    let mut status = None;
    // Content Hub metadata: `author: {name: ...}`, the name sometimes a list.
    match section.metadata.as_ref().and_then(|m| m.get("author")).and_then(|a| a.get("name")) {
        Some(Value::String(name)) => authors.push(Lifted::new(name.clone(), "metadata.author.name")),
        Some(Value::Array(names)) => {
            authors.extend(names.iter().filter_map(Value::as_str).map(|n| Lifted::new(n.to_string(), "metadata.author.name")))
        }
        _ => {}
    }
    // String tags (`Log4Shell`); mapping tags (`Schema: ASIMDns`) are Sentinel's own.
    if let Some(Value::Array(items)) = &section.tags {
        tags.extend(items.iter().filter_map(Value::as_str).map(|t| Lifted::new(t.to_string(), "tags")));
    }
    for (key, value) in section.extensions.iter().chain(&section.arm_extensions) {
        if key.eq_ignore_ascii_case("references") {
            references.extend(urls(value).into_iter().map(|url| Lifted::new(url, key.clone())));
        } else if key == "status"
            && let Value::String(text) = value
        {
            status = Some(Lifted::new(text.clone(), key.clone()));
        }
    }
    rule.authors.extend(authors);
    rule.tags.extend(tags);
    rule.references.extend(references);
    rule.status = rule.status.take().or(status);
}

/// The URLs of a references value: a list of URLs, or text that is URLs separated by
/// whitespace; anything else (prose) gives none.
fn urls(value: &Value) -> Vec<String> {
    let items: Vec<&str> = match value {
        Value::String(text) => text.split_whitespace().collect(),
        Value::Array(items) => items.iter().map(|i| i.as_str().map(str::trim)).collect::<Option<_>>().unwrap_or_default(),
        _ => Vec::new(),
    };
    let all_urls = items.iter().all(|i| i.starts_with("https://") || i.starts_with("http://"));
    if all_urls { items.into_iter().map(str::to_string).collect() } else { Vec::new() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::SentinelSection;
    use serde_json::json;

    #[test]
    fn lifts_structured_facts_with_their_origin() {
        let mut section = SentinelSection {
            metadata: Some(json!({"author": {"name": "Contoso"}, "source": {"kind": "Community"}})),
            tags: Some(json!(["Log4Shell", {"Schema": "ASIMDns"}])),
            ..Default::default()
        };
        section.extensions.insert("References".into(), json!("https://a.example/x\n  https://b.example/y"));
        section.extensions.insert("status".into(), json!("Available"));
        let mut rule = Rule { sentinel: Some(section), ..Default::default() };
        lift(&mut rule);
        assert_eq!(rule.authors, [Lifted::new("Contoso".to_string(), "metadata.author.name")]);
        assert_eq!(rule.tags, [Lifted::new("Log4Shell".to_string(), "tags")]);
        assert_eq!(rule.references.iter().map(|r| r.value.as_str()).collect::<Vec<_>>(), ["https://a.example/x", "https://b.example/y"]);
        assert_eq!(rule.status.map(|s| s.value), Some("Available".into()));
    }

    #[test]
    fn prose_is_not_taken_for_references() {
        assert!(urls(&json!("see https://a.example/x for details")).is_empty());
        assert!(urls(&json!(["https://a.example", 3])).is_empty());
    }
}
