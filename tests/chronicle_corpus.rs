//! `--to chronicle` over the Sentinel corpus (`../shared/corpus/sentinel`): every rule with a
//! query gets a YARA-L rule with non-empty `events` and a `condition`, every one passes
//! `../shared/tools/yaral-check`, and floors hold for rules without a TODO and for the share
//! of tables and predicate fields the profile maps.
//! `cargo test --release --test chronicle_corpus -- --nocapture` prints the numbers.

#[path = "support/shared.rs"]
mod shared;

use ruleconv::emit::{EmitOptions, Subject, Target, emit};
use ruleconv::ir::detection::Predicate;
use ruleconv::ir::{Detection, Logic, Query, Rule};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Raise them as the profile and the emitter improve; they guard against regressions.
const FLOOR_NO_TODO: f64 = 0.10;
const FLOOR_TABLES_MAPPED: f64 = 0.60;
const FLOOR_FIELDS_MAPPED: f64 = 0.60;

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared")
}

#[test]
fn corpus_rules_become_valid_yaral() {
    let corpus = shared().join("corpus/sentinel");
    if !corpus.is_dir() {
        shared::say_skipped(&format!("{} is absent", corpus.display()));
        return;
    }
    let target = Target::from_name("chronicle").expect("chronicle is registered");
    let profile = Profile::load();
    let out = std::env::temp_dir().join(format!("ruleconv-chronicle-corpus-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).expect("temp folder");
    let mut files = ruleconv::read::discover(&corpus);
    files.sort();
    let (mut emitted, mut no_todo, mut refused) = (0usize, 0usize, 0usize);
    // Every rule written, those broader than their rule too (as --allow-broader writes them):
    // what is checked here is the validity of what is written.
    let options = EmitOptions { allow_broader: true, ..EmitOptions::default() };
    let mut coverage = Coverage::default();
    for file in &files {
        for rule in ruleconv::read::read_path(file).rules.iter().filter(|r| r.kql().is_some()) {
            let detection = ruleconv::lower::lower_rule(rule);
            let text = match emit(target, &[Subject::new(rule, &detection)], &options) {
                Ok(emitted) => emitted.text,
                Err(errors) => {
                    assert!(errors.iter().filter(|e| e.kind == ruleconv::diag::Kind::Error).all(refusal), "{}: {errors:?}", file.display());
                    refused += 1;
                    continue;
                }
            };
            let again = emit(target, &[Subject::new(rule, &detection)], &options).map(|e| e.text);
            assert_eq!(again.as_ref(), Ok(&text), "{}: output is not deterministic", file.display());
            emit_cut_versions(rule, target);
            assert!(has_section_body(&text, "events:"), "{}: no events\n{text}", file.display());
            assert!(has_section_body(&text, "condition:"), "{}: no condition\n{text}", file.display());
            no_todo += usize::from(!text.contains("// TODO:"));
            coverage.add(&detection, &profile);
            std::fs::write(out.join(format!("rule_{emitted:04}.yaral")), &text).expect("write rule");
            emitted += 1;
        }
    }
    let (passed, failed) = yaral_check(&out);
    let flagged = yaral_udm(&out);
    let _ = std::fs::remove_dir_all(&out);
    let share = |n: usize, of: usize| n as f64 / of.max(1) as f64;
    println!(
        "rules emitted: {emitted}, refused: {refused}; yaral-check: {passed} passed, {failed} failed; yaral-udm flags {}",
        flagged.len()
    );
    println!("rules with no TODO: {no_todo} ({:.1}%)", share(no_todo, emitted) * 100.0);
    coverage.print();
    assert!(emitted > 1000, "expected the corpus's rules, emitted {emitted}");
    assert_eq!((passed, failed), (emitted, 0), "every emitted rule passes yaral-check");
    assert!(flagged.is_empty(), "every emitted rule checks clean against UDM: {flagged:#?}");
    assert!(share(no_todo, emitted) >= FLOOR_NO_TODO, "rules with no TODO fell below {FLOOR_NO_TODO}");
    assert!(share(coverage.rules_mapped, coverage.rules) >= FLOOR_TABLES_MAPPED, "rules with mapped tables fell below the floor");
    assert!(share(coverage.fields_mapped, coverage.fields) >= FLOOR_FIELDS_MAPPED, "mapped predicate fields fell below the floor");
}

/// Totality on broken input: the query cut at a few places still gives a rule with events and
/// a condition (a panic fails the test).
fn emit_cut_versions(rule: &Rule, target: Target) {
    let text = rule.kql().map_or("", |q| q.text.as_str());
    for quarter in 1..4 {
        let mut cut = text.len() * quarter / 4;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        let mut shortened = rule.clone();
        shortened.logic = Some(Logic::Kql(Query::new(text[..cut].to_string(), Default::default())));
        let detection = ruleconv::lower::lower_rule(&shortened);
        match emit(target, &[Subject::new(&shortened, &detection)], &EmitOptions::default()) {
            Ok(out) => {
                let out = out.text;
                assert!(has_section_body(&out, "events:") && has_section_body(&out, "condition:"), "cut query gave\n{out}");
            }
            // A cut through a regex literal leaves a pattern RE2 refuses, a cut join an unjoined
            // event variable, a cut before the conditions only the table (`broader`): the rule is refused.
            Err(problems) => {
                assert!(problems.iter().filter(|p| p.kind == ruleconv::diag::Kind::Error).all(refusal), "{problems:?}")
            }
        }
    }
}

/// The section header is followed by at least one line that is not a comment.
fn has_section_body(text: &str, header: &str) -> bool {
    let mut lines = text.lines().skip_while(|l| l.trim() != header).skip(1);
    lines.any(|l| !l.trim().is_empty() && !l.trim().starts_with("//") && !l.trim().ends_with(':')) && text.contains(header)
}

/// An error the YARA-L emitter refuses a rule with: a regex RE2 refuses, a shape Google's
/// compiler rejects (an event variable with no test, event variables not joined), or a rule
/// left broader than its source (`broader`, where the run does not allow it).
fn refusal(problem: &ruleconv::diag::Problem) -> bool {
    use ruleconv::diag::Code;
    matches!(problem.code, Code::Re2Refused | Code::CorrelationUnsupported | Code::ConditionDropped | Code::Broader)
}

/// Runs yaral-udm on the folder; the rules it flags, one JSON object each.
fn yaral_udm(folder: &Path) -> Vec<serde_json::Value> {
    let tool = shared().join("tools/yaral-udm/yaral-udm");
    let output = Command::new(&tool).arg("--json").arg(folder).output().unwrap_or_else(|e| panic!("{}: {e}", tool.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let rules = stdout.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).expect("a JSON line"));
    rules.filter(|r| r["problems"].as_array().is_none_or(|p| !p.is_empty())).collect()
}

/// Runs yaral-check on the folder; (passed, failed) from its last line.
fn yaral_check(folder: &Path) -> (usize, usize) {
    let tool = shared().join("tools/yaral-check/yaral-check");
    let output = Command::new(&tool).arg(folder).output().unwrap_or_else(|e| panic!("{}: {e}", tool.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    for line in stdout.lines().filter(|l| l.contains("error")).take(20) {
        println!("{line}");
    }
    let last = stdout.lines().last().unwrap_or_default();
    let numbers: Vec<usize> = last.split_whitespace().filter_map(|w| w.parse().ok()).collect();
    match numbers.as_slice() {
        [passed, failed] => (*passed, *failed),
        _ => panic!("unexpected yaral-check output: {stdout}\n{}", String::from_utf8_lossy(&output.stderr)),
    }
}

/// The profile's tables and their mapped columns, read from targets/chronicle.yaml.
struct Profile {
    tables: BTreeMap<String, BTreeSet<String>>,
    common: BTreeSet<String>,
}

impl Profile {
    fn load() -> Profile {
        let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("targets/chronicle.yaml")).expect("profile");
        let json = ruleconv::yaml::parse_documents(&text).expect("profile parses")[0].to_json();
        let keys = |v: &serde_json::Value| v.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
        let tables = json["tables"].as_object().expect("tables").iter().map(|(name, t)| (name.clone(), keys(&t["fields"]))).collect();
        Profile { tables, common: keys(&json["common_fields"]) }
    }

    fn maps(&self, table: &str, field: &str) -> bool {
        self.common.contains(field) || self.tables.get(table).is_some_and(|t| t.contains(field))
    }
}

/// How much of the corpus the profile maps: rules whose tables all have a UDM source, and
/// field tests (in source filters) whose column has a UDM path.
#[derive(Default)]
struct Coverage {
    rules: usize,
    rules_mapped: usize,
    fields: usize,
    fields_mapped: usize,
    unmapped_tables: BTreeMap<String, usize>,
}

impl Coverage {
    fn add(&mut self, detection: &Detection, profile: &Profile) {
        self.rules += 1;
        let tables: BTreeSet<&String> = detection.sources.iter().flat_map(|s| &s.tables).collect();
        let unmapped: Vec<&&String> = tables.iter().filter(|t| !profile.tables.contains_key(t.as_str())).collect();
        self.rules_mapped += usize::from(unmapped.is_empty() && !tables.is_empty());
        unmapped.into_iter().for_each(|t| *self.unmapped_tables.entry(t.to_string()).or_default() += 1);
        for source in &detection.sources {
            let table = source.tables.first().map_or("", String::as_str);
            let mut fields = Vec::new();
            collect_fields(&source.filter, &mut fields);
            self.fields += fields.len();
            self.fields_mapped += fields.iter().filter(|f| profile.maps(table, f)).count();
        }
    }

    fn print(&self) {
        let pct = |n: usize, of: usize| 100.0 * n as f64 / of.max(1) as f64;
        println!(
            "rules whose tables the profile maps: {} of {} ({:.1}%)",
            self.rules_mapped,
            self.rules,
            pct(self.rules_mapped, self.rules)
        );
        println!(
            "predicate fields mapped to UDM: {} of {} ({:.1}%)",
            self.fields_mapped,
            self.fields,
            pct(self.fields_mapped, self.fields)
        );
        let mut top: Vec<_> = self.unmapped_tables.iter().collect();
        top.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        println!("most used unmapped tables: {:?}", top.iter().take(10).collect::<Vec<_>>());
    }
}

fn collect_fields(predicate: &Predicate, out: &mut Vec<String>) {
    match predicate {
        Predicate::And(parts) | Predicate::Or(parts) => parts.iter().for_each(|p| collect_fields(p, out)),
        Predicate::Not(inner) => collect_fields(inner, out),
        Predicate::Match(m) => out.push(m.field.to_string()),
        Predicate::Opaque { .. } => {}
    }
}

#[test]
fn google_rules_pass_yaral_check() {
    let rules = shared().join("corpus/chronicle/rules");
    if !rules.is_dir() {
        shared::say_skipped(&format!("{} is absent", rules.display()));
        return;
    }
    let (passed, failed) = yaral_check(&rules);
    println!("Google's rules: {passed} passed, {failed} failed");
    assert!(passed >= 880 && failed == 0, "yaral-check should accept Google's own rules");
}
