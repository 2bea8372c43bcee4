//! `--to sigma` and `--to chronicle` for Sigma input: small cases, each a Sigma rule and what
//! the output must (and must not) say. Sigma output also reads back into the same Detection.

#[path = "support/without_spans.rs"]
mod without_spans;

use ruleconv::convert::emit_rules;
use ruleconv::emit::{EmitOptions, Target};
use ruleconv::ir::{Rule, SourceFormat};
use ruleconv::lower::lower_rule;
use ruleconv::read::read_text;
use std::path::Path;
use without_spans::without_spans;

fn rules(text: &str) -> Vec<Rule> {
    let out = read_text(text, Path::new("r.yml"), Some(SourceFormat::Sigma));
    assert!(out.problems.iter().all(|p| !p.is_error()), "{:?}", out.problems);
    out.rules
}

fn rule(logsource: &str, detection: &str) -> String {
    format!(
        "title: Test rule\nid: 6f7e3a8c-1d2b-4c5d-9e8f-0a1b2c3d4e5f\nstatus: test\nauthor: A, B\ndate: 2024-01-02\n\
         tags:\n  - attack.execution\n  - attack.t1059.001\n  - attack.stealth\n\
         logsource:\n{logsource}\ndetection:\n{detection}\nfields:\n  - CommandLine\nfalsepositives:\n  - Admins\nlevel: high\n"
    )
}

const PROCESS: &str = "  category: process_creation\n  product: windows";

fn emit(target: &str, text: &str) -> String {
    let rules = rules(text);
    let target = Target::from_name(target).expect("registered");
    let refs: Vec<&Rule> = rules.iter().collect();
    emit_rules(target, &refs, &EmitOptions::default()).unwrap_or_else(|e| panic!("{e:?}")).text
}

#[test]
fn sigma_input_normalizes_to_sigma() {
    let cases: &[(&str, &str, &[&str], &[&str])] = &[
        // (logsource, detection, in the output, not in the output)
        (
            PROCESS,
            "  selection:\n    Image|endswith: '\\cmd.exe'\n    CommandLine|contains|all: ['/c', 'whoami']\n  condition: selection",
            &[
                "logsource:\n  category: process_creation\n  product: windows\n",
                "Image|endswith: \\\\cmd.exe",
                "CommandLine|contains|all:",
                "id: 6f7e3a8c-1d2b-4c5d-9e8f-0a1b2c3d4e5f",
                "status: test",
                "author: A, B",
                "date: '2024-01-02'",
                "  - attack.t1059.001\n  - attack.defense-evasion\n",
                "fields:\n  - CommandLine\n",
                "falsepositives:\n  - Admins\n",
                "level: high",
            ],
            &["attack.stealth", "related:"],
        ),
        (
            PROCESS,
            "  sel:\n    CommandLine: 'a*b?c'\n  filter:\n    User|cased: SYSTEM\n  condition: sel and not filter",
            &["CommandLine: a*b?c", "User|cased: SYSTEM", "condition: selection_commandline and not filter_user"],
            &["|re"],
        ),
        (
            "  product: aws\n  service: cloudtrail",
            "  sel:\n    eventName: [A, B]\n    requestParameters.x|exists: true\n  condition: sel",
            &["service: cloudtrail", "eventName:\n      - A\n      - B", "requestParameters.x: null"],
            &["sentinel"],
        ),
        (
            PROCESS,
            "  sel:\n    Keywords: '0x8010'\n    DestinationIp|cidr: 10.0.0.0/8\n  condition: sel",
            &["'0x8010'", "|cidr: 10.0.0.0/8"],
            &[],
        ),
        (
            "  product: linux",
            "  keywords:\n    - 'evil*'\n    - bad\n  sel:\n    User: root\n  condition: keywords and not sel",
            &["selection_keywords:\n    - evil*\n    - bad\n", "condition: selection_keywords and not filter_user", "fidelity: exact"],
            &[],
        ),
    ];
    for (logsource, detection, present, absent) in cases {
        let text = rule(logsource, detection);
        let out = emit("sigma", &text);
        present.iter().for_each(|p| assert!(out.contains(p), "`{p}` missing in:\n{out}"));
        absent.iter().for_each(|a| assert!(!out.contains(a), "`{a}` present in:\n{out}"));
        assert_eq!(emit("sigma", &out), out, "normalizing twice changes the text");
        let original = lower_rule(&rules(&text)[0]);
        let again = lower_rule(&rules(&out)[0]);
        assert_eq!(without_spans(&again), without_spans(&original), "{out}");
    }
}

#[test]
fn sigma_correlations_stay_correlations() {
    let text = format!(
        "{}---\ntitle: Brute force\nid: 0e95725d-7320-415d-80f7-004da920fc11\nstatus: test\ncorrelation:\n  type: event_count\n  \
         rules:\n    - base\n  group-by:\n    - User\n  timespan: 5m\n  condition:\n    gte: 10\nlevel: high\n",
        rule(PROCESS, "  sel:\n    Image|endswith: '\\x.exe'\n  condition: sel")
            .replace("title: Test rule\n", "title: Test rule\nname: base\n")
    );
    let out = emit("sigma", &text);
    // Nothing is lost; nothing ran the correlation, which its evidence says.
    let expected = ["type: event_count", "group-by:\n    - User", "timespan: 5m", "gte: 10", "name: base", "ruleconv evidence: unverified"];
    for expected in expected {
        assert!(out.contains(expected), "`{expected}` missing in:\n{out}");
    }
    assert!(!out.contains("  loss: "), "{out}");
}

#[test]
fn sigma_input_becomes_yaral_on_udm() {
    let cases: &[(&str, &str, &[&str])] = &[
        (
            PROCESS,
            "  selection:\n    Image|endswith: '\\cmd.exe'\n    ParentImage|endswith: '\\excel.exe'\n  condition: selection",
            &[
                "$e.metadata.event_type = \"PROCESS_LAUNCH\"",
                "$e.target.process.file.full_path",
                "$e.principal.process.file.full_path",
                "source = \"Sigma (converted by ruleconv)\"",
            ],
        ),
        (
            "  product: aws\n  service: cloudtrail",
            "  sel:\n    eventName: CreateUser\n  condition: sel",
            &["$e.metadata.product_name = \"AWS CloudTrail\"", "$e.metadata.product_event_type = \"CreateUser\" nocase"],
        ),
        (
            "  product: windows\n  service: security",
            "  sel:\n    EventID: 4625\n    TargetUserName: admin\n  condition: sel",
            &["$e.metadata.product_event_type = \"4625\"", "$e.target.user.userid = \"admin\" nocase"],
        ),
    ];
    for (logsource, detection, present) in cases {
        // `fields: CommandLine` is an output only process events have.
        let text = rule(logsource, detection);
        let out = emit("chronicle", &if *logsource == PROCESS { text } else { text.replace("fields:\n  - CommandLine\n", "") });
        present.iter().for_each(|p| assert!(out.contains(p), "`{p}` missing in:\n{out}"));
        assert!(!out.contains("// TODO"), "{out}");
    }
    let unknown = emit("chronicle", &rule("  product: acme\n  service: widget", "  sel:\n    Color: red\n  condition: sel"));
    assert!(
        unknown.contains("// TODO: the Sigma logsource {\"product\":\"acme\",\"service\":\"widget\"} has no UDM log source"),
        "{unknown}"
    );
    assert!(unknown.contains("$e.additional.fields[\"Color\"] = \"red\" nocase"), "{unknown}");
}

/// A test of a field SigmaHQ lists for the logsource only as an add-on (Sysmon's FileCreate has
/// no `CommandLine`) is a loss in YARA-L as in KQL, not an exact translation: the UDM profile
/// maps the field for the logsources whose own events have it, so the add-on has no UDM field.
#[test]
fn an_add_on_field_is_a_loss_in_yaral() {
    let text = |category: &str| {
        rule(&format!("  category: {category}\n  product: windows"), "  sel:\n    CommandLine|contains: MSExchange\n  condition: sel")
            .replace("fields:\n  - CommandLine\n", "")
    };
    let file = emit("chronicle", &text("file_event"));
    assert!(file.contains("fidelity: approximate"), "{file}");
    assert!(file.contains("loss: `CommandLine` of file_event has no UDM field in the profile"), "{file}");
    let process = emit("chronicle", &text("process_creation"));
    assert!(process.contains("fidelity: exact") && process.contains("$e.target.process.command_line"), "{process}");
}
