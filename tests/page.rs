//! Rule pages copied from catalog sites (`--from page`): the two seed pages and our own
//! (tests/fixtures/pages/), read by content, their definitions rebuilt (as written or
//! flattened), their facts carried, every position in the page, and every target written
//! (checked by sigma-check, yaral-check and Microsoft's KQL parser when ../shared is present).

#[path = "support/kql_corpus.rs"]
mod kql_corpus;
#[path = "support/shared.rs"]
mod shared;

use ruleconv::diag::{Code, Kind, Position};
use ruleconv::ir::{Rule, SourceFormat};
use ruleconv::read::{self, ReadOutcome};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SEEDS: [&str; 2] = ["hunting-feed-page.txt", "rule-card-ti-ip-keyvault.txt"];

fn page(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pages").join(name)
}

fn read(name: &str) -> ReadOutcome {
    read::read_path(&page(name))
}

fn read_one(name: &str) -> Rule {
    let outcome = read(name);
    assert!(outcome.problems.iter().all(|p| !p.is_error()), "{name}: {:#?}", outcome.problems);
    assert_eq!(outcome.rules.len(), 1, "{name}");
    outcome.rules.into_iter().next().unwrap()
}

fn values(items: &[ruleconv::ir::Lifted<String>]) -> Vec<&str> {
    items.iter().map(|i| i.value.as_str()).collect()
}

/// The page position of the first `needle` on a line at or after `from` (1-based).
fn position_in(name: &str, from: usize, needle: &str) -> Position {
    let text = std::fs::read_to_string(page(name)).unwrap();
    let (i, line) = text.lines().enumerate().skip(from - 1).find(|(_, l)| l.contains(needle)).unwrap();
    Position::new(i + 1, line[..line.find(needle).unwrap()].chars().count() + 1)
}

fn ruleconv(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ruleconv")).args(args).output().expect("runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn pages_are_detected_by_content() {
    for name in SEEDS.iter().chain(&["flattened-key-order.txt", "indented-with-fence.md", "ambiguous-enabled.txt"]) {
        let text = std::fs::read_to_string(page(name)).unwrap();
        assert_eq!(read::detect(&text, &page(name)), Some(SourceFormat::Page), "{name}");
    }
    assert_eq!(SourceFormat::from_name("page"), Some(SourceFormat::Page));
    // A repository rule stays repository YAML, even with a comment before it.
    let yaml = "# Source: somewhere\nid: 1\nname: a\nquery: |\n  T\n";
    assert_eq!(read::detect(yaml, Path::new("x.yaml")), Some(SourceFormat::SentinelYaml));
}

#[test]
fn the_feed_page_keeps_its_definition_and_facts() {
    let rule = read_one("hunting-feed-page.txt");
    assert_eq!(rule.origin.format, SourceFormat::Page);
    assert_eq!(rule.title, "File footprint (1)");
    assert_eq!(rule.id.as_deref(), Some("1f80f1cf-97e1-4fb8-ad5a-e573fac7b9e3"));
    let query = rule.kql().unwrap();
    assert!(query.text.starts_with("// Query # 2") && query.text.ends_with("| distinct IP, DNS\n"), "{:?}", query.text);
    // The query of the definition, not the copy in the page's `KQL Query` section.
    let distinct = query.text.find("| distinct").unwrap();
    assert_eq!(query.locator.position(&query.text, distinct), position_in("hunting-feed-page.txt", 30, "| distinct"));
    assert_eq!(
        values(&rule.references),
        [
            "https://github.com/Azure/Azure-Sentinel/blob/main/Hunting Queries/Microsoft 365 Defender/General queries/File footprint (1).yaml"
        ]
    );
    assert_eq!(rule.references[0].from, "Original source");
    assert!(rule.false_positives.is_empty(), "an empty section takes nothing: {:?}", rule.false_positives);
    let note = rule.note.as_ref().unwrap();
    assert!(note.value.starts_with("Adversaries may be using") && note.value.ends_with("significant damage occurs."));
    assert_eq!(note.from, "Hunt Hypothesis");
    assert_eq!(rule.retrieved.as_ref().unwrap().value, "2026-05-22T11:00:00Z");
    assert_eq!(rule.confidence.as_ref().unwrap().value, "medium");
    assert_eq!(rule.origin.position_of("retrieved"), position_in("hunting-feed-page.txt", 1, "2026-05-22"));
}

#[test]
fn the_flattened_card_is_rebuilt() {
    let name = "rule-card-ti-ip-keyvault.txt";
    let rule = read_one(name);
    let sentinel = rule.sentinel.as_ref().unwrap();
    assert_eq!(rule.description.as_deref(), Some("Identifies a match in Azure Key Vault logs from any IP IOC from TI\n"));
    let connectors: Vec<(&str, Vec<&str>)> = sentinel
        .required_data_connectors
        .as_ref()
        .unwrap()
        .iter()
        .map(|c| (c.connector_id.as_str(), c.data_types.iter().map(String::as_str).collect()))
        .collect();
    assert_eq!(
        connectors,
        [
            ("ThreatIntelligence", vec!["ThreatIntelligenceIndicator"]),
            ("ThreatIntelligenceTaxii", vec!["ThreatIntelligenceIndicator"]),
            ("AzureKeyVault", vec!["KeyVaultData"]),
            ("MicrosoftDefenderThreatIntelligence", vec!["ThreatIntelligenceIndicator"]),
        ]
    );
    let mappings: Vec<(&str, &str, &str)> = sentinel
        .entity_mappings
        .as_ref()
        .unwrap()
        .iter()
        .flat_map(|m| m.field_mappings.iter().map(move |f| (m.entity_type.as_str(), f.identifier.as_str(), f.column_name.as_str())))
        .collect();
    assert_eq!(mappings, [("IP", "Address", "ClientIP"), ("AzureResource", "ResourceId", "ResourceId")]);
    assert_eq!(sentinel.version.as_deref(), Some("1.3.4"));
    let query = rule.kql().unwrap();
    // The query runs from the line after `query: |` to the line before `entityMappings:`.
    assert!(query.text.starts_with("let dt_lookBack = 1h;"));
    assert!(query.text.ends_with("| extend timestamp = KeyVaultEvents_TimeGenerated\n"));
    assert_eq!(query.text.lines().count(), 32);
    let on = query.text.find("on $left").unwrap();
    assert_eq!(query.locator.position(&query.text, on), position_in(name, 1, "on $left"));
    assert_eq!(rule.origin.position_of("entityMappings"), position_in(name, 1, "entityMappings:"));
}

#[test]
fn a_flattened_page_in_another_key_order() {
    let name = "flattened-key-order.txt";
    let rule = read_one(name);
    assert_eq!(rule.title, "Password spray from one address");
    assert_eq!(rule.description.as_deref(), Some("Many failed sign-ins with a wrong password for different accounts from one address.\n"));
    let query = rule.kql().unwrap();
    // The blank line inside the query is kept: the line after it is KQL (`| where`).
    assert!(query.text.ends_with("bin(TimeGenerated, 1h)\n\n| where Accounts > 20\n"), "{:?}", query.text);
    let accounts = query.text.find("Accounts > 20").unwrap();
    assert_eq!(query.locator.position(&query.text, accounts), position_in(name, 1, "Accounts > 20"));
    let sentinel = rule.sentinel.as_ref().unwrap();
    assert_eq!(sentinel.entity_mappings.as_ref().unwrap()[0].field_mappings[0].column_name, "IPAddress");
    assert_eq!(rule.techniques.as_ref().unwrap()[0].written, "T1110.003");
    assert_eq!(
        values(&rule.references),
        ["https://attack.mitre.org/techniques/T1110/003/", "https://rules.example.org/identity/password-spray"]
    );
    assert_eq!(values(&rule.false_positives), ["A misconfigured service retrying an old password", "Load tests of the sign-in page"]);
    assert_eq!(rule.note.as_ref().unwrap().value, "an attacker tries one common password against many accounts from a single IP address.");
    assert_eq!(rule.confidence.as_ref().unwrap().value, "high");
    // The page's own KQL block, another revision of the query, is pointed out, not read.
    let warnings: Vec<Position> = read(name).problems.iter().filter(|p| p.kind == Kind::Warning).map(|p| p.position).collect();
    assert_eq!(warnings, [position_in(name, 1, "```kql")]);
    // The page's facts are kept as keys of the Sentinel rule too, so its targets carry them.
    assert_eq!(sentinel.extensions["confidence"], "high");
    assert_eq!(sentinel.extensions["falsePositives"][1], "Load tests of the sign-in page");
}

#[test]
fn an_indented_definition_takes_the_query_from_the_kql_block() {
    let name = "indented-with-fence.md";
    let rule = read_one(name);
    assert_eq!(rule.title, "Service installed from a temp folder");
    assert_eq!(rule.sentinel.as_ref().unwrap().required_data_connectors.as_ref().unwrap()[0].data_types, ["SecurityEvent"]);
    let query = rule.kql().unwrap();
    assert!(query.text.starts_with("SecurityEvent\n| where EventID == 7045\n"));
    let temp = query.text.find("has").unwrap();
    assert_eq!(query.locator.position(&query.text, temp), position_in(name, 1, "has \""));
    assert_eq!(rule.origin.position_of("severity"), position_in(name, 1, "severity:"));
    assert_eq!(values(&rule.false_positives), ["Installers that unpack to a temporary folder first."]);
    assert_eq!(rule.note.as_ref().unwrap().value, "Attackers install services to keep access after a reboot.");
    assert_eq!(rule.retrieved.as_ref().unwrap().value, "2026-03-15T08:00:00Z");
}

#[test]
fn a_definition_that_cannot_be_rebuilt_is_an_error_at_its_line() {
    let outcome = read("ambiguous-enabled.txt");
    assert!(outcome.rules.is_empty());
    let error = outcome.problems.iter().find(|p| p.is_error()).expect("an error");
    assert_eq!(error.position, Position::new(11, 1));
    assert!(error.message.contains("ambiguous: `enabled`"), "{}", error.message);
    assert_eq!(error.rule_index(), Some(0));
}

#[test]
fn a_kql_error_points_into_the_page() {
    let out = ruleconv(&["check", page("flattened-bad-kql.txt").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr) + &text(&out.stdout);
    // Line 6 of the page, past `==`; in the page, not in the rebuilt definition.
    assert!(stderr.contains("flattened-bad-kql.txt:6:22: error:") && stderr.contains("KQL"), "{stderr}");
}

#[test]
fn flattened_lines_that_fit_nowhere_are_errors() {
    let cases = [
        (
            "Page\nname: a\ndescription: |\nText\nkind: Scheduled\n- CredentialAccess\nquery: T\n",
            Position::new(6, 1),
            "no key above it holds a list",
        ),
        (
            "Page\nname: a\nquery: |\nT\nrequiredDataConnectors:\n- connectorId: X\nmatchingMethod: AllEntities\n",
            Position::new(7, 1),
            "cannot place",
        ),
    ];
    for (text, position, message) in cases {
        let outcome = read::read_text(text, Path::new("p.txt"), Some(SourceFormat::Page));
        let error = outcome.problems.iter().find(|p| p.is_error()).unwrap_or_else(|| panic!("{text}: no error"));
        assert_eq!(error.position, position, "{text}");
        assert!(error.message.contains(message), "{}", error.message);
    }
    let none = read::read_text("Just prose.\nNothing here.\n", Path::new("p.txt"), Some(SourceFormat::Page));
    assert!(none.not_a_rule && none.problems[0].code == Code::NotARule);
}

#[test]
fn the_query_ends_where_the_page_goes_on() {
    // The query is the last key: prose after a blank line is the page's, not the query's.
    let text = "Card\nname: a\nquery: |\nT\n| take 1\n\nStages and predicates\nmore prose\n";
    let outcome = read::read_text(text, Path::new("p.txt"), Some(SourceFormat::Page));
    assert_eq!(outcome.rules[0].kql().unwrap().text, "T\n| take 1\n");
}

#[test]
fn seeds_check_clean_and_convert_to_every_target() {
    let seeds: Vec<String> = SEEDS.iter().map(|s| page(s).to_string_lossy().into_owned()).collect();
    let mut args = vec!["check"];
    args.extend(seeds.iter().map(String::as_str));
    let check = ruleconv(&args);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
    assert!(!text(&check.stderr).contains(": error:"), "{}", text(&check.stderr));

    let out = std::env::temp_dir().join(format!("ruleconv-pages-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    // The TI-map card's join defines it, so Sigma and YARA-L are broader than the rule: written
    // here all the same (refusing them by default is tests/broader.rs's case).
    let mut args =
        vec!["convert", "--allow-broader", "--to", "sigma,sentinel,sentinel-yaml,chronicle,markdown,kql", "-o", out.to_str().unwrap()];
    args.extend(seeds.iter().map(String::as_str));
    let converted = ruleconv(&args);
    assert_eq!(converted.status.code(), Some(0), "{}", text(&converted.stderr));
    for target in ["sigma", "sentinel", "sentinel-yaml", "chronicle", "markdown", "kql"] {
        let files = std::fs::read_dir(out.join(target)).unwrap().count();
        assert_eq!(files, 2, "{target}");
    }
    // The Sentinel YAML written reads back as the same rule, facts included.
    for entry in std::fs::read_dir(out.join("sentinel-yaml")).unwrap() {
        let back = read::read_path(&entry.unwrap().path());
        assert!(back.problems.iter().all(|p| !p.is_error()), "{:?}", back.problems);
        let back = &back.rules[0];
        let original = SEEDS.iter().map(|s| read_one(s)).find(|r| r.title == back.title).expect("same title");
        assert_eq!(back.kql().unwrap().text, original.kql().unwrap().text);
        assert_eq!(values(&back.references), values(&original.references));
    }
    validate(&out);
    std::fs::remove_dir_all(&out).unwrap();
}

/// The outputs through the reference tools, when ../shared has them.
fn validate(out: &Path) {
    let tools = kql_corpus::shared("tools");
    if !tools.is_dir() {
        shared::say_skipped("the validators: ../shared/tools is absent");
        return;
    }
    let sigma = Command::new(tools.join("sigma-check/sigma-check")).arg(out.join("sigma")).output().expect("sigma-check runs");
    let report = text(&sigma.stdout) + &text(&sigma.stderr);
    assert!(sigma.status.success() && report.contains("Found 0 errors, 0 condition errors and 0 issues"), "{report}");
    let yaral = Command::new(tools.join("yaral-check/yaral-check")).arg(out.join("chronicle")).output().expect("yaral-check runs");
    let report = text(&yaral.stdout);
    assert!(report.lines().last().is_some_and(|l| l.split_whitespace().filter_map(|w| w.parse::<usize>().ok()).eq([2, 0])), "{report}");
    let queries: Vec<String> =
        std::fs::read_dir(out.join("kql")).unwrap().map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap()).collect();
    let verdicts = kql_corpus::oracle(&queries.iter().map(String::as_str).collect::<Vec<_>>());
    for (query, verdict) in queries.iter().zip(&verdicts) {
        let messages: Vec<&str> = verdict.diagnostics.iter().map(|d| d.message.as_str()).collect();
        assert!(verdict.ok, "{messages:?} in:\n{query}");
    }
}
