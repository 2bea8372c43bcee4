//! The Sigma reader over the shared SigmaHQ corpus (skipped when ../shared is absent): how
//! many rules read without error, how many lower with nothing unmodelled, and the top reasons
//! for the rest. Floors are the measured numbers, so a regression fails.

#[path = "support/shared.rs"]
mod shared;

use ruleconv::convert;
use ruleconv::lower::lower_rule;
use std::collections::BTreeMap;
use std::path::Path;

/// Measured: all 3,141 rules read without error; 3,055 fully modelled, the other 86 hold
/// keyword searches.
const MIN_READ: usize = 3141;
const MIN_FULLY_MODELLED: usize = 3055;

#[test]
fn corpus_rules_read_and_lower() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/sigma/rules");
    if !dir.is_dir() {
        shared::say_skipped(&format!("{} is absent", dir.display()));
        return;
    }
    let files = convert::expand_inputs(&[dir]);
    let read = convert::read_all(&files, None);
    let mut rules = 0;
    let mut errors = Vec::new();
    let mut fully = 0;
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for file in read.iter().filter(|f| !f.skipped()) {
        errors.extend(file.outcome.problems.iter().filter(|p| p.is_error()).map(|p| p.to_string()));
        for rule in &file.outcome.rules {
            rules += 1;
            let detection = lower_rule(rule);
            if detection.unmodelled.is_empty() {
                fully += 1;
            }
            let mut constructs: Vec<&str> = detection.unmodelled.iter().map(|u| u.construct.as_str()).collect();
            constructs.dedup();
            for construct in constructs {
                *reasons.entry(construct.to_string()).or_default() += 1;
            }
        }
    }
    let mut top: Vec<(usize, String)> = reasons.into_iter().map(|(r, n)| (n, r)).collect();
    top.sort_by(|a, b| b.cmp(a));
    eprintln!("sigma corpus: {} files, {rules} rules read, {} errors, {fully} fully modelled", files.len(), errors.len());
    eprintln!("top unmodelled (rules): {top:?}");
    errors.iter().take(10).for_each(|e| eprintln!("  {e}"));
    assert!(errors.is_empty(), "{} rules with errors", errors.len());
    assert!(rules >= MIN_READ, "{rules} rules read");
    assert!(fully >= MIN_FULLY_MODELLED, "{fully} fully modelled");
}
