//! Issue 19 items 1–5: inputs that cost one rule exponential or quadratic time, or gigabytes,
//! and with them the whole batch. Each is generated here and must end within the bounds
//! `measured` asserts (5 s, 1 GiB), with a clear error where one is due.

use super::{TARGETS, measured, run, scratch};
use std::process::Command;

fn ruleconv(dir: &std::path::Path, args: &[&str]) -> (i32, String) {
    measured(Command::new(env!("CARGO_BIN_EXE_ruleconv")).args(args).current_dir(dir), &format!("{args:?}"))
}

fn sigma_rule(title: &str, value: &str) -> String {
    format!(
        "title: {title}\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n  selection:\n    CommandLine|windash|contains: '{value}'\n  condition: selection\n"
    )
}

/// Issue 19 item 1: `windash` makes 5 variants of each option dash, so 14 options would make
/// 5^14 values (3.4 GB before the fix). The variants are counted before they are built: that
/// rule fails at its value, and the file's other rule still converts.
#[test]
fn windash_variants_are_counted_before_they_are_built() {
    let (dir, input) = scratch("windash_bomb.yml");
    let text = format!("{}---\n{}", sigma_rule("Bomb", "-a -b -c -d -e -f -g -h -i -j -k -l -m -n"), sigma_rule("Fine", "-a /b"));
    std::fs::write(&input, text).unwrap();
    let wanted = "in/windash_bomb.yml:7:35: error: rule 'Bomb': Sigma: the modifiers of `CommandLine|windash|contains` expand its values to more than 10000 variants (at least 6103515625 for this one)";
    let mut runs = vec![("check", run(&input, &["check", "{input}"]))];
    runs.extend(TARGETS.iter().map(|&t| (t, run(&input, &["convert", "{input}", "--to", t, "-o", "{out}"]))));
    for (what, result) in runs {
        assert_eq!(result.code, 1, "{what}\n{}", result.printed);
        assert!(result.printed.contains(wanted), "{what}: expected `{wanted}` in\n{}", result.printed);
        if what == "sigma" {
            assert!(result.output.contains("title: Fine\n") && !result.output.contains("title: Bomb"), "{}", result.output);
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Issue 19 item 1: lowering copies a search once per use, so 400 `windash` values (10,000
/// variants, the most one field test may make) used 900 times made 9 million values (11 s,
/// 900 MB). The condition is refused: it expands to more than 100,000 values.
#[test]
fn windash_variants_are_counted_once_per_use_of_their_search() {
    let (dir, input) = scratch("windash_uses.yml");
    let values: String = (0..400).map(|i| format!("      - '-a /b {i}'\n")).collect();
    let condition = vec!["sel"; 900].join(" or ");
    let text = format!(
        "title: Uses\nlogsource:\n  product: windows\ndetection:\n  sel:\n    CommandLine|windash|contains:\n{values}  condition: {condition}\n"
    );
    std::fs::write(&input, text).unwrap();
    let wanted = "in/windash_uses.yml:407:3: error: rule 'Uses': Sigma: the condition expands to more than 100000 values (counting each search's values once per use)";
    for args in [&["check", "{input}"][..], &["convert", "{input}", "--to", "kql", "-o", "{out}"]] {
        let result = run(&input, args);
        assert_eq!(result.code, 1, "{args:?}\n{}", result.printed);
        assert!(result.printed.contains(wanted), "{args:?}: expected `{wanted}` in\n{}", result.printed);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Issue 19 item 2: one 100 KB anchored string under an unknown key, referenced 10,000 times
/// (a 1 GB expansion of a 160 KB file). The alias budget counts expanded bytes as well as
/// nodes, in the YAML layer every format reads through: each fails at the alias that crosses
/// 16 MiB (the 168th, at column 1010 of its line).
#[test]
fn aliases_are_limited_by_the_bytes_they_expand_to() {
    let big = "x".repeat(100_000);
    let bomb = format!("big: &big {big}\nrefs: [{}]\n", vec!["*big"; 10_000].join(", "));
    let sentinel = format!("id: x\nname: bomb\nquery: T\n{bomb}");
    let sigma = format!("{}{bomb}", sigma_rule("Bomb", "x"));
    let cases = [
        ("alias_bytes.yaml", sentinel.clone(), 5),
        ("alias_bytes.yml", sigma, 10),
        ("alias_bytes.md", format!("---\n{sentinel}---\n\n# Bomb\n"), 6),
    ];
    for (name, text, line) in cases {
        let (dir, input) = scratch(name);
        std::fs::write(&input, text).unwrap();
        let wanted = format!("in/{name}:{line}:1010: error: ");
        let targets: &[&str] = if name == "alias_bytes.yaml" { &TARGETS } else { &["sentinel-yaml"] };
        let mut runs = vec![run(&input, &["check", "{input}"])];
        runs.extend(targets.iter().map(|t| run(&input, &["convert", "{input}", "--to", t, "-o", "{out}"])));
        for result in runs {
            assert_eq!(result.code, 1, "{name}\n{}", result.printed);
            assert!(
                result.printed.contains(&wanted) && result.printed.contains("aliases expand to more than 16 MiB of text"),
                "{name}: expected `{wanted}` in\n{}",
                result.printed
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// Issue 19 item 3: `check` quoted the line of a problem by reading the whole file again,
/// past the 64 MiB limit: a sparse 2 GB file took 4 GB, and `/dev/zero` never ended. Both are
/// refused as too large, and nothing is read past the limit.
#[test]
fn check_never_reads_past_the_size_limit() {
    let (dir, input) = scratch("sparse.yaml");
    std::fs::File::create(&input).unwrap().set_len(2 << 30).unwrap();
    for (path, shown) in [("sparse.yaml", "sparse.yaml"), ("/dev/zero", "/dev/zero")] {
        let (code, printed) = ruleconv(&dir, &["check", path]);
        assert_eq!(code, 1, "{printed}");
        let wanted = format!("{shown}:1:1: error: the file is larger than 64 MiB");
        assert!(printed.contains(&wanted), "expected `{wanted}` in\n{printed}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Issue 19 item 4: 10,000 rules in one ARM template written on one line (as exported
/// templates often are) took 30 s: each position was turned into a byte offset by walking its
/// line from the start. A non-ASCII character early in the line keeps the walk honest.
#[test]
fn a_one_line_arm_template_of_ten_thousand_rules_reads_in_linear_time() {
    let (dir, input) = scratch("arm_one_line.json");
    let resource = |i: usize| {
        format!(
            r#"{{"type":"Microsoft.OperationalInsights/workspaces/providers/alertRules","apiVersion":"2023-02-01","name":"r{i}","kind":"Scheduled","properties":{{"displayName":"Rule {i}","description":"Détecte {i}","severity":"Medium","enabled":true,"query":"SecurityEvent | where EventID == {i}","queryFrequency":"PT1H","queryPeriod":"PT1H","triggerOperator":"GreaterThan","triggerThreshold":0}}}}"#
        )
    };
    let resources: Vec<String> = (0..10_000).map(resource).collect();
    std::fs::write(&input, format!(r#"{{"contentVersion":"1.0.0.0","resources":[{}]}}"#, resources.join(","))).unwrap();
    let checked = run(&input, &["check", "{input}"]);
    assert_eq!(checked.code, 0, "{}", checked.printed);
    assert!(checked.printed.contains("10000 rule(s) in 1 file(s): 0 with errors"), "{}", checked.printed);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Issue 19 item 4: the same walk in the Sigma reader: a flow-style rule on one line with
/// 50,000 values took 19 s.
#[test]
fn a_one_line_sigma_rule_of_fifty_thousand_values_reads_in_linear_time() {
    let (dir, input) = scratch("sigma_one_line.yml");
    let values: Vec<String> = (0..50_000).map(|i| format!("v{i}")).collect();
    let text = format!(
        "{{title: One line, logsource: {{product: windows}}, detection: {{sel: {{CommandLine|contains: [é, {}]}}, condition: sel}}}}\n",
        values.join(", ")
    );
    std::fs::write(&input, text).unwrap();
    let checked = run(&input, &["check", "--from", "sigma", "{input}"]);
    assert_eq!(checked.code, 0, "{}", checked.printed);
    assert!(checked.printed.contains("1 rule(s) in 1 file(s): 0 with errors"), "{}", checked.printed);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Issue 19 item 5: `in~` with 20,000 values over 10,000 events compared every value with
/// every event (30 s); the values become a set once. Events spell the values in upper case, so
/// the set folds case as `in~` does.
#[test]
fn a_long_in_list_is_a_set_built_once() {
    let (dir, rule) = scratch("in_list.yaml");
    let items: Vec<String> = (0..20_000).map(|i| format!("\"item{i}\"")).collect();
    std::fs::write(&rule, format!("id: x\nname: big in\nquery: |\n  SecurityEvent | where Account in~ ({})\n", items.join(", "))).unwrap();
    let events: String = (0..10_000).map(|i| format!("{{\"Type\": \"SecurityEvent\", \"Account\": \"ITEM{}\"}}\n", i * 3)).collect();
    std::fs::write(dir.join("events.jsonl"), events).unwrap();
    let (code, printed) = ruleconv(&dir, &["test", "in_list.yaml", "--events", "events.jsonl", "--now", "2024-05-01T12:00:00Z"]);
    assert_eq!(code, 0, "{printed}");
    // Accounts ITEM0, ITEM3 ... ITEM19998 are in the list: 6667 of them.
    assert!(printed.contains("1 rule(s) on 10000 event(s): 6667 row(s) returned"), "{printed}");
    std::fs::remove_dir_all(&dir).unwrap();
}
