//! Lossless round trips over the whole Sentinel corpus (`../shared/corpus/sentinel`):
//! repository YAML → ARM → YAML keeps every key and value (compared as data), and
//! ARM → YAML → ARM reproduces the template byte for byte.

use ruleconv::convert::emit_rules;
use ruleconv::ir::{Rule, SourceFormat};
use ruleconv::sources;
use ruleconv::targets::{EmitOptions, Target};
use ruleconv::yaml;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/sentinel");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipped: {} not present", dir.display());
        None
    }
}

fn sentinel() -> Target {
    Target::from_name("sentinel").expect("registered")
}

fn sentinel_yaml() -> Target {
    Target::from_name("sentinel-yaml").expect("registered")
}

fn emit(rule: &Rule, target: Target) -> String {
    emit_rules(target, &[rule], &EmitOptions::default()).unwrap_or_else(|e| panic!("{}: {e:?}", rule.origin.file.display())).text
}

/// The rule as ARM, or `None` for the few corpus files marked `kind: Scheduled` that lack what
/// a scheduled rule needs (hunting queries with a stray `kind`); those must fail loudly, naming
/// the missing field, rather than deploy with invented values.
fn arm_or_refused(rule: &Rule) -> Option<String> {
    match emit_rules(sentinel(), &[rule], &EmitOptions::default()) {
        Ok(emitted) => Some(emitted.text),
        Err(errors) => {
            assert!(errors.iter().all(|e| e.message.contains("needs `")), "{}: {errors:?}", rule.origin.file.display());
            None
        }
    }
}

/// Reads back exactly one rule from emitted text.
fn read_back(text: &str, name: &str, format: SourceFormat) -> Rule {
    let outcome = sources::read_text(text, Path::new(name), Some(format));
    let errors: Vec<_> = outcome.problems.iter().filter(|p| p.is_error()).collect();
    assert!(errors.is_empty() && outcome.rules.len() == 1, "{name}: {errors:?}\n{text}");
    outcome.rules.into_iter().next().expect("one rule")
}

fn data(text: &str) -> Value {
    yaml::parse_documents(text).expect("YAML parses")[0].to_json()
}

/// Keys of `original` that are missing or different in `result`, as `path: why` lines.
fn lost(original: &Value, result: &Value, path: &str, out: &mut Vec<String>) {
    match (original, result) {
        (Value::Object(o), Value::Object(r)) => {
            for (key, value) in o {
                match r.get(key) {
                    Some(other) => lost(value, other, &format!("{path}.{key}"), out),
                    None => out.push(format!("{path}.{key}: missing")),
                }
            }
        }
        _ if original == result => {}
        _ => out.push(format!("{path}: {original} became {result}")),
    }
}

#[test]
fn corpus_yaml_to_arm_to_yaml_keeps_every_key_and_value() {
    let Some(dir) = corpus() else { return };
    let (mut rules, mut refused, mut added_keys, mut failures) = (0, 0, 0, Vec::new());
    let mut added = std::collections::BTreeMap::new();
    for file in sources::discover(&dir) {
        let outcome = sources::read_path(&file);
        for rule in &outcome.rules {
            rules += 1;
            let original = data(&std::fs::read_to_string(&file).expect("readable").replace('\u{feff}', ""));
            let Some(arm) = arm_or_refused(rule) else {
                refused += 1;
                continue;
            };
            let yaml_again = emit(&read_back(&arm, "roundtrip.json", SourceFormat::Arm), sentinel_yaml());
            let result = data(&yaml_again);
            let mut problems = Vec::new();
            lost(&original, &result, "", &mut problems);
            if let (Value::Object(o), Value::Object(r)) = (&original, &result) {
                for key in r.keys().filter(|k| !o.contains_key(*k)) {
                    added_keys += 1;
                    *added.entry(key.clone()).or_insert(0) += 1;
                }
            }
            if !problems.is_empty() {
                failures.push(format!("{}: {}", file.display(), problems.join("; ")));
            }
        }
    }
    println!(
        "YAML → ARM → YAML: {rules} rules, {refused} refused by ARM, {} lossless, {added_keys} keys added {added:?}",
        rules - refused - failures.len()
    );
    assert_eq!(rules, 1221, "every corpus rule with a query reads");
    assert!(refused <= 6, "only the 6 hunting files with a stray `kind: Scheduled` may be refused, {refused} were");
    assert!(failures.is_empty(), "{} rule(s) lost data:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn corpus_arm_to_yaml_to_arm_is_identical() {
    let Some(dir) = corpus() else { return };
    let (mut rules, mut failures) = (0, Vec::new());
    for file in sources::discover(&dir) {
        for rule in sources::read_path(&file).rules {
            let Some(arm) = arm_or_refused(&rule) else { continue };
            rules += 1;
            let yaml = emit(&read_back(&arm, "a.json", SourceFormat::Arm), sentinel_yaml());
            let arm_again = emit(&read_back(&yaml, "b.yaml", SourceFormat::SentinelYaml), sentinel());
            if arm != arm_again {
                failures.push(format!("{}:\n{}", file.display(), ruleconv::diff::unified(&arm, &arm_again, "arm", "arm again")));
            }
        }
    }
    println!("ARM → YAML → ARM: {rules} rules, {} identical", rules - failures.len());
    assert!(
        failures.is_empty(),
        "{} rule(s) changed:\n{}",
        failures.len(),
        failures.iter().take(5).cloned().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn fixture_arm_exports_round_trip_through_yaml() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/arm");
    for file in sources::discover(&dir) {
        let rules = sources::read_path(&file).rules;
        assert!(!rules.is_empty(), "{}", file.display());
        let refs: Vec<_> = rules.iter().collect();
        let arm = emit_rules(sentinel(), &refs, &EmitOptions::default()).expect("emits").text;
        let yaml = emit_rules(sentinel_yaml(), &refs, &EmitOptions::default()).expect("emits").text;
        let again = sources::read_text(&yaml, Path::new("x.yaml"), Some(SourceFormat::SentinelYaml)).rules;
        let again_refs: Vec<_> = again.iter().collect();
        let arm_again = emit_rules(sentinel(), &again_refs, &EmitOptions::default()).expect("emits").text;
        assert_eq!(arm, arm_again, "{}:\n{}", file.display(), ruleconv::diff::unified(&arm, &arm_again, "arm", "again"));
    }
}
