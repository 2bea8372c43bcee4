//! Lowering over the Sentinel corpus: every rule (and its query cut short) lowers without
//! panicking, and at least a floor share is fully modelled.
//! `cargo test --release --test lower_corpus -- --nocapture` prints the numbers and the biggest
//! unmodelled buckets; with `LOWER_SAMPLE=<construct>` it also prints each occurrence of that
//! construct, to see what a bucket holds.

#[path = "support/shared.rs"]
mod shared;

use std::collections::BTreeMap;
use std::path::Path;

/// Raise it as lowering improves; it guards against regressions.
const FLOOR_FULLY_MODELLED: f64 = 0.43;

#[test]
fn corpus_rules_lower_and_enough_are_fully_modelled() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/sentinel");
    if !dir.is_dir() {
        shared::say_skipped(&format!("{} is absent", dir.display()));
        return;
    }
    let mut files = ruleconv::read::discover(&dir);
    files.sort();
    let (mut rules, mut fully) = (0usize, 0usize);
    // construct → (occurrences, rules with it)
    let mut buckets: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let sample = std::env::var("LOWER_SAMPLE").ok();
    for file in &files {
        for rule in ruleconv::read::read_path(file).rules.iter().filter(|r| r.kql().is_some()) {
            let detection = ruleconv::lower::lower_rule(rule);
            lower_cut_versions(rule.kql().map_or("", |q| q.text.as_str()));
            rules += 1;
            fully += usize::from(detection.unmodelled.is_empty());
            let mut seen = std::collections::BTreeSet::new();
            for item in &detection.unmodelled {
                if sample.as_deref() == Some(item.construct.as_str()) {
                    let text = rule.kql().map_or("", |q| q.text.get(item.span.start..item.span.end).unwrap_or_default());
                    println!("{}: {}: {text}", rule.title, item.reason);
                }
                let bucket = buckets.entry(item.construct.clone()).or_default();
                bucket.0 += 1;
                if seen.insert(item.construct.clone()) {
                    bucket.1 += 1;
                }
            }
        }
    }
    let share = fully as f64 / rules.max(1) as f64;
    println!("rules lowered: {rules}; fully modelled: {fully} ({:.1}%)", share * 100.0);
    let mut top: Vec<_> = buckets.into_iter().collect();
    top.sort_by(|a, b| b.1.1.cmp(&a.1.1).then(b.1.0.cmp(&a.1.0)).then(a.0.cmp(&b.0)));
    println!("top unmodelled constructs (rules, occurrences):");
    for (construct, (occurrences, in_rules)) in top.iter().take(15) {
        println!("  {in_rules:5} {occurrences:6}  {construct}");
    }
    assert!(rules > 1000, "expected the corpus's rules, lowered {rules}");
    assert!(share >= FLOOR_FULLY_MODELLED, "fully modelled share {share:.3} fell below {FLOOR_FULLY_MODELLED}");
}

/// Totality on broken input: the query cut at a few places still lowers (a panic fails the test).
fn lower_cut_versions(text: &str) {
    for quarter in 1..4 {
        let mut cut = text.len() * quarter / 4;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        let _ = ruleconv::lower::lower_query(&text[..cut]);
    }
}
