//! `ruleconv report` end to end: exact counts on a small pack written here, the JSON's shape,
//! the Navigator layer against the layer format's required fields and the ATT&CK data, the SVG
//! as well-formed XML with one cell per technique, the same bytes at any thread count, user
//! files kept without --force, and a run over the Sentinel and Sigma corpora.

#[path = "support/shared.rs"]
mod shared;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

fn ruleconv(args: &[&str], threads: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ruleconv"))
        .args(args)
        .env("RAYON_NUM_THREADS", threads)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A fresh scratch folder per test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ruleconv-report-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

/// A scheduled Sentinel rule; `metadata` holds its ATT&CK and connector keys.
fn sentinel_rule(number: u32, name: &str, metadata: &str, query: &str) -> String {
    format!(
        "id: 3b1e8d0e-1d1a-4c6b-9b7e-00000000000{number}\nname: {name}\ndescription: {name}.\nseverity: Low\n{metadata}\
         query: |\n  {query}\nqueryFrequency: 1h\nqueryPeriod: 1h\ntriggerOperator: gt\ntriggerThreshold: 0\nkind: Scheduled\n"
    )
}

fn spray() -> String {
    let metadata = "requiredDataConnectors:\n  - connectorId: AzureActiveDirectory\n    dataTypes:\n      - SigninLogs\n\
                    tactics:\n  - InitialAccess\n  - Persistence\nrelevantTechniques:\n  - T1078.004\n";
    sentinel_rule(
        1,
        "Password spray against the portal",
        metadata,
        r#"SigninLogs | where ResultType == "50126" and AppDisplayName has "Azure Portal""#,
    )
}

fn guessing() -> String {
    let metadata = "tactics:\n  - CredentialAccess\nrelevantTechniques:\n  - T1110.003\n  - T1110.001\n";
    sentinel_rule(2, "Password guessing", metadata, r#"SigninLogs | where ResultType in ("50126", "50053")"#)
}

fn logon_failures() -> String {
    sentinel_rule(3, "Logon failures", "tactics: []\nrelevantTechniques:\n  - T9999\n", "SecurityEvent | where EventID == 4625")
}

const POWERSHELL: &str = r#"title: PowerShell started
id: 3b1e8d0e-1d1a-4c6b-9b7e-000000000004
status: test
description: A PowerShell process starts.
tags:
  - attack.execution
  - attack.t1059.001
logsource:
  product: windows
  category: process_creation
detection:
  selection:
    Image|endswith: '\powershell.exe'
  condition: selection
level: low
"#;

/// Four readable rules (three Sentinel, one Sigma) and one file that is no rule.
fn pack(dir: &Path) -> PathBuf {
    let rules = dir.join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    for (name, content) in [
        ("spray.yaml", spray()),
        ("guessing.yaml", guessing()),
        ("logon_failures.yaml", logon_failures()),
        ("powershell.yml", POWERSHELL.to_string()),
        ("broken.yaml", "name: Broken\nquery: |\n  T\nseverity: [unclosed\n".to_string()),
    ] {
        std::fs::write(rules.join(name), content).unwrap();
    }
    rules
}

/// `ruleconv report RULES -o OUT` at this many threads; the four files' bytes by name.
fn report(rules: &Path, out: &Path, threads: &str) -> Vec<(&'static str, Vec<u8>)> {
    let run = ruleconv(&["report", rules.to_str().unwrap(), "-o", out.to_str().unwrap()], threads);
    assert_eq!(run.status.code(), Some(1), "the unreadable file is reported: {}", text(&run.stderr));
    assert!(text(&run.stderr).contains("broken.yaml:5:1: error"), "the bad file is named with its line: {}", text(&run.stderr));
    ["report.md", "report.json", "attack-layer.json", "coverage.svg"]
        .into_iter()
        .map(|name| (name, std::fs::read(out.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))))
        .collect()
}

/// The pack's report written under a fresh folder: the folder, and report.json.
fn reported(name: &str) -> (PathBuf, Value) {
    let dir = scratch(name);
    report(&pack(&dir), &dir.join("out"), "2");
    let report = json(&dir.join("out/report.json"));
    (dir, report)
}

fn json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).expect("written")).expect("JSON")
}

/// A technique id, its rules, and its sub-techniques' ids and rules.
type Row = (String, u64, Vec<(String, u64)>);

/// The techniques under a tactic of the report.
fn techniques(report: &Value, tactic: &str) -> Vec<Row> {
    let tactic = report["attack"]["tactics"].as_array().unwrap().iter().find(|t| t["short_name"] == tactic).expect("every tactic listed");
    let pair = |t: &Value| (t["id"].as_str().unwrap().to_string(), t["rules"].as_u64().unwrap());
    tactic["techniques"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let (id, rules) = pair(t);
            (id, rules, t["sub_techniques"].as_array().unwrap().iter().map(pair).collect())
        })
        .collect()
}

fn owned(id: &str, rules: u64, subs: &[(&str, u64)]) -> Row {
    (id.to_string(), rules, subs.iter().map(|(s, n)| (s.to_string(), *n)).collect())
}

#[test]
fn counts_of_a_small_pack_are_exact() {
    let (dir, report) = reported("counts");

    assert_eq!(report["summary"], serde_json::json!({ "files": 5, "rules": 4, "unreadable": 1 }));
    assert_eq!(report["attack"]["tactics"].as_array().unwrap().len(), 14, "every Enterprise tactic");
    assert_eq!(report["attack"]["tactics"][0]["short_name"], "reconnaissance", "kill-chain order");
    assert_eq!(techniques(&report, "initial-access"), vec![owned("T1078", 1, &[("T1078.004", 1)])]);
    assert_eq!(techniques(&report, "persistence"), vec![owned("T1078", 1, &[("T1078.004", 1)])]);
    assert_eq!(techniques(&report, "privilege-escalation"), vec![], "not a tactic the rule lists");
    assert_eq!(
        techniques(&report, "credential-access"),
        vec![owned("T1110", 1, &[("T1110.001", 1), ("T1110.003", 1)])],
        "two sub-techniques of one rule count once for their technique"
    );
    assert_eq!(techniques(&report, "execution"), vec![owned("T1059", 1, &[("T1059.001", 1)])], "Sigma tags");
    assert_eq!(report["attack"]["not_in_attack"], serde_json::json!([{ "id": "T9999", "rules": 1 }]));
    assert_eq!(report["attack"]["rules_without_techniques"], 1);

    let sources: Vec<(&str, &str, u64)> = report["data_sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["kind"].as_str().unwrap(), s["name"].as_str().unwrap(), s["rules"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        sources,
        vec![
            ("table", "SigninLogs", 2),
            ("connector", "AzureActiveDirectory", 1),
            ("logsource", "product:windows category:process_creation", 1),
            ("table", "SecurityEvent", 1),
        ]
    );

    let indicators: Vec<(&str, &str, &str, u64)> = report["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (i["field"].as_str().unwrap(), i["operator"].as_str().unwrap(), i["value"].as_str().unwrap(), i["rules"].as_u64().unwrap())
        })
        .collect();
    assert_eq!(
        indicators,
        vec![
            ("ResultType", "eq", "'50126'", 2),
            ("AppDisplayName", "has", "'Azure Portal'", 1),
            ("EventID", "eq", "4625", 1),
            ("Image", "ends_with", r"'\powershell.exe'", 1),
            ("ResultType", "eq", "'50053'", 1),
        ]
    );

    let targets: Vec<&str> = report["fidelity"].as_array().unwrap().iter().map(|t| t["target"].as_str().unwrap()).collect();
    assert_eq!(targets, ["sentinel", "sentinel-yaml", "kql", "sigma", "chronicle", "markdown"]);
    for target in report["fidelity"].as_array().unwrap() {
        let sum: u64 = ["exact", "approximate", "unsupported"].iter().map(|k| target[k].as_u64().unwrap()).sum();
        assert_eq!(sum, 4, "a verdict per read rule: {target}");
    }
    let markdown = &report["fidelity"].as_array().unwrap().iter().find(|t| t["target"] == "markdown").unwrap().clone();
    assert_eq!(markdown["unsupported"], 0, "a card is written for every rule");

    let page = std::fs::read_to_string(dir.join("out/report.md")).unwrap();
    assert!(page.contains("![Rules per ATT&CK technique, by tactic](coverage.svg)"), "the page shows the heatmap");
    assert!(page.contains(
        "| Credential Access (TA0006) | T1110 Brute Force | 1 | T1110.001 Password Guessing (1), T1110.003 Password Spraying (1) |"
    ));
    assert!(page.contains("| ResultType | eq | '50126' | 2 |"));
}

/// The layer format 4.5's required fields (name, domain, versions.navigator and .layer; a
/// technique's techniqueID; the gradient's colors, minValue < maxValue; a legend item's label
/// and color), and every technique and tactic as ATT&CK Enterprise files it.
fn check_layer(layer: &Value) -> usize {
    let attack: Value = serde_json::from_str(&std::fs::read_to_string("targets/attack.json").unwrap()).unwrap();
    assert!(layer["name"].as_str().is_some_and(|n| !n.is_empty()), "name");
    assert_eq!(layer["domain"], "enterprise-attack");
    assert_eq!(layer["versions"]["layer"], "4.5");
    assert!(layer["versions"]["navigator"].as_str().is_some(), "versions.navigator");
    assert!(layer["versions"]["attack"].as_str().is_some(), "versions.attack");
    let is_color =
        |v: &Value| v.as_str().is_some_and(|c| c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|d| d.is_ascii_hexdigit()));
    let gradient = &layer["gradient"];
    assert!(gradient["colors"].as_array().is_some_and(|c| c.len() >= 2 && c.iter().all(is_color)), "{gradient}");
    assert!(gradient["minValue"].as_f64().unwrap() < gradient["maxValue"].as_f64().unwrap(), "{gradient}");
    for item in layer["legendItems"].as_array().expect("legendItems") {
        assert!(item["label"].is_string() && is_color(&item["color"]), "{item}");
    }
    let techniques = layer["techniques"].as_array().expect("techniques");
    for technique in techniques {
        let id = technique["techniqueID"].as_str().expect("techniqueID");
        let known = &attack["techniques"][id];
        assert!(known.is_object(), "{id} is in the ATT&CK data");
        let tactic = technique["tactic"].as_str().expect("a tactic per entry");
        assert!(known["tactics"].as_array().unwrap().iter().any(|t| t == tactic), "{id} serves {tactic}");
        assert!(technique["score"].as_u64().is_some_and(|s| s >= 1), "{technique}");
    }
    techniques.len()
}

/// Parses the SVG as XML (an `<svg>` root, matching end tags, only XML's entities) and counts
/// its technique cells.
fn svg_cells(svg: &str) -> usize {
    use quick_xml::XmlVersion;
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(svg);
    let mut cells = 0;
    let mut root = None;
    loop {
        match reader.read_event().unwrap_or_else(|e| panic!("SVG at byte {}: {e}", reader.buffer_position())) {
            Event::Start(e) | Event::Empty(e) => {
                let name = e.name().0.to_string();
                for attribute in e.attributes() {
                    attribute.expect("well-formed attribute").normalized_value(XmlVersion::Implicit1_0).expect("escaped attribute value");
                }
                if name == "rect" && e.try_get_attribute("class").unwrap().is_some_and(|a| a.value == "cell") {
                    cells += 1;
                }
                root.get_or_insert(name);
            }
            Event::GeneralRef(r) => {
                let name = r.into_inner();
                assert!(["amp", "lt", "gt", "quot", "apos"].contains(&name.as_ref()), "entity &{name};");
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(root.as_deref(), Some("svg"));
    cells
}

/// Techniques (not sub-techniques) per tactic in the report: the heatmap's cells.
fn technique_cells(report: &Value) -> usize {
    report["attack"]["tactics"].as_array().unwrap().iter().map(|t| t["techniques"].as_array().unwrap().len()).sum()
}

#[test]
fn the_layer_loads_as_a_navigator_layer_and_the_svg_has_a_cell_per_technique() {
    let (dir, report) = reported("layer");
    // T1078 under two tactics with its sub-technique, T1110 with two, T1059 with one.
    assert_eq!(check_layer(&json(&dir.join("out/attack-layer.json"))), 2 + 2 + 3 + 2);
    let svg = std::fs::read_to_string(dir.join("out/coverage.svg")).unwrap();
    assert_eq!(technique_cells(&report), 4);
    assert_eq!(svg_cells(&svg), 4);
    assert!(svg.contains("Command and Control"), "every tactic is a column, covered or not");
}

#[test]
fn the_same_bytes_at_any_thread_count() {
    let dir = scratch("determinism");
    let rules = pack(&dir);
    let one = report(&rules, &dir.join("one"), "1");
    let four = report(&rules, &dir.join("four"), "4");
    for ((name, a), (_, b)) in one.iter().zip(&four) {
        assert!(a == b, "{name} differs between 1 and 4 threads");
    }
}

#[test]
fn without_output_the_markdown_goes_to_stdout_and_user_files_are_kept_without_force() {
    let dir = scratch("files");
    let rules = pack(&dir);
    let out = dir.join("out");
    let stdout = ruleconv(&["report", rules.to_str().unwrap()], "2");
    let page = text(&stdout.stdout);
    assert!(page.starts_with("# Rule pack report\n") && page.contains("## Indicator reuse"), "{page}");
    assert!(!page.contains("coverage.svg"), "no heatmap file to link without -o");

    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("report.md"), "my notes\n").unwrap();
    let kept = ruleconv(&["report", rules.to_str().unwrap(), "-o", out.to_str().unwrap()], "2");
    assert_eq!(kept.status.code(), Some(1));
    assert!(text(&kept.stderr).contains("report.md: exists with other content"), "{}", text(&kept.stderr));
    assert_eq!(std::fs::read_to_string(out.join("report.md")).unwrap(), "my notes\n");
    assert!(out.join("report.json").exists(), "the other files are still written");

    ruleconv(&["report", rules.to_str().unwrap(), "-o", out.to_str().unwrap(), "--force"], "2");
    assert!(std::fs::read_to_string(out.join("report.md")).unwrap().starts_with("# Rule pack report"));
}

#[test]
fn the_sentinel_and_sigma_corpora() {
    let Some(corpora) = shared::all_shared_or_skip(["corpus/sentinel", "corpus/sigma/rules"]) else { return };
    for (path, corpus) in corpora.iter().zip(["sentinel", "sigma"]) {
        let dir = scratch(corpus);
        let started = Instant::now();
        let run = ruleconv(&["report", path.to_str().unwrap(), "-o", dir.to_str().unwrap()], "2");
        eprintln!("report on {corpus}: {:.1?}", started.elapsed());
        assert!(run.status.code().is_some(), "no crash: {}", text(&run.stderr));
        let report = json(&dir.join("report.json"));
        let rules = report["summary"]["rules"].as_u64().unwrap();
        assert!(rules > 1000, "{corpus}: {rules} rules");
        for target in report["fidelity"].as_array().unwrap() {
            let sum: u64 = ["exact", "approximate", "unsupported"].iter().map(|k| target[k].as_u64().unwrap()).sum();
            assert_eq!(sum, rules, "{corpus}: {target}");
        }
        assert!(check_layer(&json(&dir.join("attack-layer.json"))) > 100, "{corpus}");
        let svg = std::fs::read_to_string(dir.join("coverage.svg")).unwrap();
        assert_eq!(svg_cells(&svg), technique_cells(&report), "{corpus}");
        assert!(report["indicators"].as_array().unwrap()[0]["rules"].as_u64().unwrap() > 10, "{corpus}: indicators are reused");
    }
}
