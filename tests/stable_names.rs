//! Outputs stay stable under unrelated edits, so a pull request's diff shows only the edit:
//! adding an exclusion renames no other Sigma selection, and inserting or moving a stage
//! renumbers nothing else in the markdown card.

use ruleconv::convert::emit_rules;
use ruleconv::emit::{EmitOptions, Target};
use ruleconv::read::read_text;
use similar::{ChangeTag, TextDiff};
use std::path::Path;

/// A scheduled rule around `query` (lines joined as written, indented under `query: |`).
fn rule_yaml(query: &[&str]) -> String {
    let body: String = query.iter().map(|line| format!("  {line}\n")).collect();
    format!(
        "id: 5b6e1c7a-3f2d-4a8e-9c41-0d2f7e8a9b10\nname: Stable names\nseverity: High\nqueryPeriod: 1h\nqueryFrequency: 1h\nquery: |\n{body}"
    )
}

fn emit(target: &str, query: &[&str]) -> String {
    let rules = read_text(&rule_yaml(query), Path::new("rule.yaml"), None).rules;
    let rules: Vec<_> = rules.iter().collect();
    assert!(!rules.is_empty(), "the test rule reads");
    let target = Target::from_name(target).expect("a registered target");
    emit_rules(target, &rules, &EmitOptions::default()).unwrap_or_else(|e| panic!("{query:?}: {e:?}")).text
}

/// The lines `new` removed from `old`, and the lines it added.
fn changed_lines(old: &str, new: &str) -> (Vec<String>, Vec<String>) {
    let diff = TextDiff::from_lines(old, new);
    let lines = |tag| diff.iter_all_changes().filter(|c| c.tag() == tag).map(|c| c.value().trim_end().to_string()).collect();
    (lines(ChangeTag::Delete), lines(ChangeTag::Insert))
}

const PROCESS: &str = "DeviceProcessEvents";
const SELECT: &str = "| where FileName =~ 'powershell.exe' and ProcessCommandLine contains '-enc'";
const EXCLUDE_PARENT: &str = "| where not(InitiatingProcessFileName =~ 'ccmexec.exe')";
const EXCLUDE_ACCOUNT: &str = "| where not(AccountName =~ 'svc_backup')";

#[test]
fn adding_an_exclusion_to_sigma_adds_its_filter_and_changes_only_the_condition() {
    let old = emit("sigma", &[PROCESS, SELECT, EXCLUDE_PARENT]);
    let new = emit("sigma", &[PROCESS, SELECT, EXCLUDE_PARENT, EXCLUDE_ACCOUNT]);
    let (removed, added) = changed_lines(&old, &new);
    let condition = |lines: &[String]| lines.iter().filter(|l| l.starts_with("  condition: ")).count();
    assert_eq!((removed.len(), condition(&removed)), (1, 1), "only the condition line changes:\n{old}\n---\n{new}");
    assert_eq!(condition(&added), 1, "{new}");
    let filter: Vec<&String> = added.iter().filter(|l| !l.starts_with("  condition: ")).collect();
    assert_eq!(filter.len(), 2, "the new filter's name and its one item: {filter:?}");
    assert!(filter[0].starts_with("  filter_") && filter[1].contains("svc_backup"), "{filter:?}");
    let new_condition = added.iter().find(|l| l.starts_with("  condition: ")).expect("a condition");
    let name = filter[0].trim().trim_end_matches(':');
    assert!(new_condition.contains(&format!("not {name}")), "the condition excludes the new filter: {new_condition}");
}

/// Each selection of a Sigma text by its name: its lines, as written.
fn selections(text: &str) -> Vec<(String, String)> {
    let mut selections: Vec<(String, String)> = Vec::new();
    let block = text.lines().skip_while(|l| *l != "detection:").skip(1).take_while(|l| l.starts_with("  "));
    for line in block.filter(|l| !l.starts_with("  condition:")) {
        match selections.last_mut() {
            Some((_, items)) if line.starts_with("    ") => items.push_str(line),
            _ => selections.push((line.trim().to_string(), String::new())),
        }
    }
    selections.sort();
    selections
}

#[test]
fn reordering_exclusions_renames_no_selection() {
    let before = selections(&emit("sigma", &[PROCESS, SELECT, EXCLUDE_PARENT, EXCLUDE_ACCOUNT]));
    assert_eq!(before.len(), 3, "{before:?}");
    assert_eq!(before, selections(&emit("sigma", &[PROCESS, SELECT, EXCLUDE_ACCOUNT, EXCLUDE_PARENT])));
}

const CARD: [&str; 5] =
    [PROCESS, SELECT, "| extend Encoded = ProcessCommandLine", "| where AccountName != 'system'", "| project Encoded, AccountName"];
const INSERTED: &str = "| where DeviceName startswith 'srv-'";

/// Changed lines that are not of the card's `## Rule body` (the query as written, which the
/// edit changes by definition).
fn card_changes(old: &str, new: &str) -> (Vec<String>, Vec<String>) {
    let without_body = |card: &str| {
        let start = card.find("## Rule body").expect("a rule body");
        let end = card.find("## Stages and predicates").expect("stages");
        format!("{}{}", &card[..start], &card[end..])
    };
    changed_lines(&without_body(old), &without_body(new))
}

/// The lines a card gives one stage whose text is `stage`: its heading (naming `column`), its
/// code block, blanks.
fn of_stage(line: &str, stage: &str, column: &str) -> bool {
    line.is_empty() || line.starts_with("```") || line == stage || (line.starts_with("**Stage") && line.contains(column))
}

#[test]
fn inserting_a_stage_into_a_card_adds_only_that_stage() {
    let old = emit("markdown", &CARD);
    let mut edited = CARD.to_vec();
    edited.insert(2, INSERTED);
    let new = emit("markdown", &edited);
    let (removed, added) = card_changes(&old, &new);
    assert_eq!(removed, Vec::<String>::new(), "no line of the card is removed:\n{old}\n---\n{new}");
    // The stage, and the indicator it adds.
    let stray: Vec<&String> =
        added.iter().filter(|l| !of_stage(l, INSERTED, "tests DeviceName") && !l.starts_with("| DeviceName |")).collect();
    assert_eq!(stray, Vec::<&String>::new(), "{new}");
    assert!(added.iter().any(|l| l == INSERTED), "{added:?}");
}

#[test]
fn moving_a_stage_in_a_card_changes_only_that_stage() {
    let old = emit("markdown", &CARD);
    let moved = [CARD[0], CARD[3], CARD[1], CARD[2], CARD[4]];
    let new = emit("markdown", &moved);
    let (removed, added) = card_changes(&old, &new);
    for line in removed.iter().chain(&added) {
        assert!(of_stage(line, CARD[3], "tests AccountName"), "`{line}` changed, which is not of the moved stage:\n{old}\n---\n{new}");
    }
    assert!(removed.iter().any(|l| l == CARD[3]) && added.iter().any(|l| l == CARD[3]), "{removed:?} {added:?}");
}
