//! Issue 19 items 8, 10, 13, 15 and 16: rules whose meaning was changed or dropped without a
//! word (a detection read as a hunting query, Sigma metadata of the wrong shape, a page's
//! Content Hub metadata, ARM expressions and escaped names).

use super::{run, scratch};
use std::path::{Path, PathBuf};

fn hostile(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile").join(name)
}

/// Issue 19 item 8: a rule with no `kind` but a schedule and a trigger is a scheduled alert
/// rule in ARM, said with a change note, never a saved search that never alerts.
#[test]
fn a_scheduled_rule_without_kind_stays_a_detection() {
    let result = run(&hostile("sentinel_scheduled_without_kind.yaml"), &["convert", "{input}", "--to", "sentinel", "-o", "{out}"]);
    assert_eq!(result.code, 0, "{}", result.printed);
    assert!(result.output.contains("/alertRules") && result.output.contains("\"kind\": \"Scheduled\""), "{}", result.output);
    assert!(!result.output.contains("savedSearches"), "{}", result.output);
    assert!(
        result.printed.contains(":5:1: change: rule 'Scheduled without kind': the rule has no `kind` but a schedule"),
        "{}",
        result.printed
    );
}

/// Issue 19 item 10: every metadata key of another shape than Sigma's is an error at its line
/// and column (not only the first), and the rule is not converted.
#[test]
fn misshapen_sigma_metadata_is_an_error_at_each_key() {
    let result = run(&hostile("sigma_metadata_shapes.yml"), &["check", "{input}"]);
    assert_eq!(result.code, 1, "{}", result.printed);
    for (at, key, what) in [
        ("2:5", "id", "text"),
        ("3:9", "author", "text"),
        ("5:3", "description", "text"),
        ("6:7", "date", "text"),
        ("9:3", "falsepositives", "a list of texts"),
    ] {
        let wanted = format!(":{at}: error: rule 'Metadata of the wrong shapes': `{key}` must be {what}, found");
        assert!(result.printed.contains(&wanted), "expected `{wanted}` in\n{}", result.printed);
    }
}

/// Issue 19 item 10: Sigma → Sigma replaces an id that is not a UUID, and says so.
#[test]
fn a_sigma_id_that_is_not_a_uuid_is_replaced_with_a_note() {
    let result = run(&hostile("sigma_id_not_uuid.yml"), &["convert", "{input}", "--to", "sigma", "-o", "{out}"]);
    assert_eq!(result.code, 0, "{}", result.printed);
    let id = result.output.lines().find_map(|l| l.strip_prefix("id: ")).expect("an id");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{}", result.output);
    let wanted =
        format!(":2:1: change: rule 'Id not a UUID': id `not-a-uuid` is not a UUID, as Sigma ids are; using {id}, derived from it");
    assert!(result.printed.contains(&wanted), "expected `{wanted}` in\n{}", result.printed);
}

/// Issue 19 item 13: a flattened page definition with the Content Hub `metadata` block
/// (`source: kind`, `author: name`, `support: tier`, `categories: domains`) is rebuilt nested.
#[test]
fn a_page_with_content_hub_metadata_is_rebuilt() {
    let result = run(&hostile("page_content_hub_metadata.md"), &["convert", "{input}", "--to", "sentinel-yaml", "-o", "{out}"]);
    assert_eq!(result.code, 0, "{}", result.printed);
    let block = "kind: Scheduled\nmetadata:\n  source:\n    kind: Community\n  author:\n    name: Contoso Security Research\n  support:\n    tier: Community\n  categories:\n    domains:\n      - Security - Threat Protection\n      - Identity\n";
    assert!(result.output.contains(block), "expected\n{block}in\n{}", result.output);
}

/// Issue 19 item 15: ARM → YAML → ARM keeps the meaning of brackets both ways: an escaped name
/// (`[[Lit]`) is the text `[Lit]` in YAML and escaped again in ARM; a real expression is named
/// as a loss, since it is carried as its text.
#[test]
fn arm_brackets_keep_their_meaning_both_ways() {
    let to_yaml = run(&hostile("arm_expression_and_bracket_names.json"), &["convert", "{input}", "--to", "sentinel-yaml", "-o", "{out}"]);
    assert_eq!(to_yaml.code, 0, "{}", to_yaml.printed);
    assert!(to_yaml.output.contains("\n  '[Lit]': EventID\n"), "{}", to_yaml.output);
    let wanted = ":13:24: loss: rule '[variables('ruleName')]': `[variables('ruleName')]` is an ARM template expression, which ruleconv does not evaluate";
    assert!(to_yaml.printed.contains(wanted), "expected `{wanted}` in\n{}", to_yaml.printed);
    let (_dir, yaml) = scratch("brackets.yaml");
    std::fs::write(&yaml, &to_yaml.output).unwrap();
    let to_arm = run(&yaml, &["convert", "{input}", "--to", "sentinel", "-o", "{out}"]);
    assert_eq!(to_arm.code, 0, "{}", to_arm.printed);
    assert!(to_arm.output.contains("\"[[Lit]\": \"EventID\""), "{}", to_arm.output);
}
