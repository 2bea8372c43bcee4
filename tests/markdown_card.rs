//! The markdown rule card: the seed card's facts (stages, exclusions, indicators, output
//! fields) come out of the seed rule; rule text cannot break the page; every corpus rule gives
//! a card.

#[path = "support/shared.rs"]
mod shared;

use ruleconv::convert::emit_rules;
use ruleconv::emit::{EmitOptions, Target};
use ruleconv::read::read_text;
use std::path::Path;

fn markdown() -> Target {
    Target::from_name("markdown").expect("markdown is registered")
}

fn cards_of(yaml: &str, file: &str) -> String {
    let rules = read_text(yaml, Path::new(file), None).rules;
    assert!(!rules.is_empty(), "the test rule reads");
    let rules: Vec<_> = rules.iter().collect();
    emit_rules(markdown(), &rules, &EmitOptions::default()).expect("a card").text
}

/// The rows of the table under `### {section}`, as trimmed cells (escapes kept).
fn table(card: &str, section: &str) -> Vec<Vec<String>> {
    let heading = format!("### {section}");
    let body = card.split(&heading).nth(1).unwrap_or_else(|| panic!("no {heading} in\n{card}"));
    let body = body.split("\n### ").next().unwrap_or_default();
    body.lines()
        .filter(|line| line.starts_with("| ") && !line.starts_with("|---"))
        .skip(1)
        .map(|line| split_row(line).into_iter().map(|c| c.trim().to_string()).collect())
        .collect()
}

/// A table row split on its unescaped `|`, the way a markdown renderer splits it.
fn split_row(line: &str) -> Vec<String> {
    let mut cells = vec![String::new()];
    let mut escaped = false;
    for c in line.trim().trim_start_matches('|').trim_end_matches('|').chars() {
        match (c, escaped) {
            ('|', false) => cells.push(String::new()),
            _ => cells.last_mut().expect("a cell").push(c),
        }
        escaped = c == '\\' && !escaped;
    }
    cells
}

#[test]
fn the_seed_rule_gives_the_seed_cards_facts() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sentinel/ti_ip_keyvault.yaml");
    let card = cards_of(&std::fs::read_to_string(fixture).expect("fixture"), "ti_ip_keyvault.yaml");

    let stages: Vec<&str> = card.lines().filter(|l| l.starts_with("**Stage")).map(|l| l.split(" — ").next().unwrap_or(l)).collect();
    let seed_stages = [
        "source",
        "where",
        "where",
        "extend (3 consecutive steps)",
        "where",
        "summarize",
        "where",
        "join",
        "where",
        "summarize",
        "project",
        "extend",
    ];
    let expected: Vec<String> = seed_stages.iter().map(|op| format!("**Stage: {op}**")).collect();
    assert_eq!(stages, expected);
    assert!(card.contains("The stages below define let IP_Indicators.\n"), "{card}");
    assert!(card.contains("The stages below run on IP_Indicators (the outer pipeline).\n"), "{card}");
    assert!(card.contains("```kql\nlet dt_lookBack = 1h;\nlet ioc_lookBack = 14d;\n```"), "parameters:\n{card}");

    // The seed lists 169.254.0.0/16 and 127.0.0.0/8 too; Kusto's ipv4_is_private is RFC 1918.
    let private = "'10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'";
    let rows = |cells: &[[&str; 3]]| -> Vec<Vec<String>> { cells.iter().map(|r| r.iter().map(|c| c.to_string()).collect()).collect() };
    assert_eq!(
        table(&card, "Exclusions"),
        rows(&[
            ["TI_ipEntity", "cidr_match", private],
            ["TI_ipEntity", "starts_with", "'127.'"],
            ["TI_ipEntity", "starts_with", "'::'"],
            ["TI_ipEntity", "starts_with", "'fe80'"],
        ])
    );
    // The seed calls `isnotempty` is_not_null; the Detection tells empty from null.
    assert_eq!(
        table(&card, "Indicators"),
        rows(&[
            ["Active", "eq", "true"],
            ["EmailSourceIpAddress", "is_not_empty", ""],
            ["KeyVaultEvents_TimeGenerated", "lt", "the field ExpirationDateTime"],
            ["NetworkDestinationIP", "is_not_empty", ""],
            ["NetworkIP", "is_not_empty", ""],
            ["NetworkSourceIP", "is_not_empty", ""],
            ["ResourceType", "eq", "'VAULTS'"],
        ])
    );

    let outputs = table(&card, "Output fields");
    let mut fields: Vec<&str> = outputs.iter().map(|r| r[0].as_str()).collect();
    fields.sort();
    let mut seed_fields = vec![
        "ActivityGroupNames",
        "ClientIP",
        "ConfidenceScore",
        "CorrelationId",
        "Description",
        "ExpirationDateTime",
        "IndicatorId",
        "KeyVaultEvents_TimeGenerated",
        "OperationName",
        "ResourceId",
        "ResultType",
        "SubscriptionId",
        "TI_ipEntity",
        "ThreatType",
        "Type",
        "Url",
        "clientInfo_s",
        "httpStatusCode_d",
        "id_s",
        "identity_claim_appid_g",
        "identity_claim_http_schemas_microsoft_com_identity_claims_objectidentifier_g",
        "timestamp",
    ];
    seed_fields.sort();
    assert_eq!(fields, seed_fields);
    let made_by = |field: &str| outputs.iter().find(|r| r[0] == field).map(|r| r[1].clone()).unwrap_or_default();
    assert_eq!(made_by("Description"), "project");
    assert_eq!(made_by("timestamp"), "extend");
    // The seed says `project`; the Detection knows the summarize made it (project keeps it).
    assert_eq!(made_by("ClientIP"), "summarize");

    assert!(card.contains("| Command and Control (TA0011) | T1071 Application Layer Protocol |\n"), "{card}");
    assert!(card.starts_with("<!--\nruleconv fidelity: approximate\nruleconv evidence: unverified\n  loss: `computed column` "), "{card}");
    assert!(card.contains("\n- \\`computed column\\` is not translated"), "{card}");
}

/// A rule whose every text tries to break the page.
const HOSTILE: &str = r#"id: 4f1c2b7e-0000-4000-8000-000000000001
name: "Pipes | and `ticks` <script>alert(1)</script> {{title}}\nsecond line"
description: |
  # Not a heading
  ```
  a fence that must not open
  <img src=x onerror=alert(1)> | --> {{#each x}}
severity: High
tactics:
  - Execution
relevantTechniques:
  - T1059
query: |
  let bad = "a|b";
  T
  | where A == "x|y" and B has "```" and C == "<b>`z`</b>" and D != "{{ x }}"
  | extend E = strcat("line", "\n")
  | project A, ['weird|name'] = B
entityMappings:
  - entityType: Account
    fieldMappings:
      - identifier: Name
        columnName: "a|b<i>"
"#;

/// The card without its fenced code blocks and its fidelity comment: the text a renderer reads
/// as markdown.
fn outside_code(card: &str) -> String {
    let mut out = String::new();
    let mut fence: Option<String> = None;
    for line in card.lines() {
        let ticks: String = line.chars().take_while(|c| *c == '`').collect();
        match &fence {
            Some(open) if ticks.len() >= open.len() && line.trim_end() == ticks => fence = None,
            Some(_) => {}
            None if ticks.len() >= 3 => fence = Some(ticks),
            None => out.push_str(&format!("{line}\n")),
        }
    }
    let comment_end = out.find("-->\n").map_or(0, |i| i + 4);
    out[comment_end..].to_string()
}

#[test]
fn rule_text_keeps_tables_whole_and_raw_html_out() {
    let card = cards_of(HOSTILE, "hostile.yaml");
    let markdown = outside_code(&card);
    assert!(!markdown.contains('<'), "raw HTML outside code blocks:\n{markdown}");
    assert!(
        markdown.starts_with("# Pipes \\| and \\`ticks\\` &lt;script&gt;alert(1)&lt;/script&gt; {{title}} second line\n"),
        "{markdown}"
    );
    assert!(markdown.contains("\\# Not a heading\\\n\\`\\`\\`\\\na fence that must not open\\\n&lt;img"), "{markdown}");
    // Every table row has as many cells as its header.
    let mut columns = None;
    for line in markdown.lines() {
        if !line.starts_with('|') {
            columns = None;
            continue;
        }
        let cells = split_row(line).len();
        match columns {
            None => columns = Some(cells),
            Some(n) => assert_eq!(cells, n, "row {line:?} breaks its table in\n{markdown}"),
        }
    }
    assert!(markdown.contains("| A | eq | 'x\\|y' |"), "{markdown}");
    assert!(markdown.contains("| Account | Name | a\\|b&lt;i&gt; (not in the output) |"), "{markdown}");
    // The fences around rule text outlast its backticks: the code is intact and closed.
    assert!(card.contains("````kql\nlet bad = \"a|b\";\nT\n| where A == \"x|y\" and B has \"```\""), "{card}");
    // The fidelity comment cannot be closed early by a loss message.
    let comment = card.split("-->\n").next().unwrap_or_default();
    assert!(!comment[4..].contains("--"), "{comment}");
}

#[test]
fn several_rules_are_cards_separated_by_a_rule() {
    let one = HOSTILE.replace("4f1c2b7e-0000-4000-8000-000000000001", "4f1c2b7e-0000-4000-8000-000000000002");
    let rules: Vec<_> = [HOSTILE, one.as_str()].iter().flat_map(|y| read_text(y, Path::new("r.yaml"), None).rules).collect();
    let refs: Vec<_> = rules.iter().collect();
    let text = emit_rules(markdown(), &refs, &EmitOptions::default()).expect("cards").text;
    assert_eq!(text.matches("\n\n---\n\n<!--\n").count(), 1, "{text}");
    assert_eq!(text, emit_rules(markdown(), &refs, &EmitOptions::default()).expect("cards").text, "deterministic");
}

#[test]
fn every_corpus_rule_gives_a_card() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/sentinel");
    if !dir.is_dir() {
        shared::say_skipped(&format!("{} is absent", dir.display()));
        return;
    }
    let mut files = ruleconv::read::discover(&dir);
    files.sort();
    let mut cards = 0;
    for file in &files {
        for rule in &ruleconv::read::read_path(file).rules {
            let emitted = emit_rules(markdown(), &[rule], &EmitOptions::default());
            let card = emitted.unwrap_or_else(|e| panic!("{}: {e:?}", file.display())).text;
            assert!(card.contains("\n# ") && card.ends_with('\n'), "{}", file.display());
            cards += 1;
        }
    }
    println!("cards: {cards}");
    assert!(cards > 1000, "expected the corpus's rules, carded {cards}");
}
