//! `broader`: a translation that keeps no discriminating condition of its rule, or loses the
//! join or threshold that defines it, is refused (a `broader` error) unless `--allow-broader`,
//! which writes it with a `broader` loss. One table, every Detection-based target judged alike;
//! each row fails both ways (a rule that keeps its logic must be written without the loss).

use ruleconv::convert::emit_rules;
use ruleconv::diag::{Code, Kind, Problem};
use ruleconv::emit::{EmitOptions, Target, Verdict};
use ruleconv::ir::SourceFormat;
use ruleconv::read::read_text;
use std::path::Path;

/// A Sentinel rule in repository YAML around `query`.
fn sentinel(query: &str) -> String {
    let query = query.replace('\n', "\n  ");
    format!(
        "id: 5b6e1c7a-3f2d-4a8e-9c41-0d2f7e8a9b10\nname: Test rule\nseverity: High\nquery: |\n  {query}\nqueryFrequency: 1h\nqueryPeriod: 1d\n"
    )
}

/// A Sigma process-creation rule with this `detection`.
fn sigma(detection: &str) -> String {
    format!(
        "title: Test rule\nid: 9c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f\nstatus: test\nlogsource:\n  category: process_creation\n  product: windows\ndetection:\n{detection}\nlevel: high\n"
    )
}

/// (what, rule text, source format, targets, whether the output is broader than the rule).
fn rows() -> Vec<(&'static str, String, SourceFormat, &'static [&'static str], bool)> {
    const BOTH: &[&str] = &["sigma", "chronicle"];
    vec![
        (
            "a rule that keeps its test",
            sentinel("DeviceProcessEvents | where FileName =~ 'certutil.exe'"),
            SourceFormat::SentinelYaml,
            BOTH,
            false,
        ),
        (
            "the only test reads a computed column",
            sentinel("DeviceProcessEvents | extend Host = tostring(split(DeviceName, '.')[0]) | where Host == 'vm1'"),
            SourceFormat::SentinelYaml,
            // Sigma refuses it before: no source has a condition it can write (`no-detection`).
            &["chronicle"],
            true,
        ),
        (
            "one test kept of two",
            sentinel(
                "DeviceProcessEvents | extend Host = tostring(split(DeviceName, '.')[0]) | where Host == 'vm1' and FileName =~ 'x.exe'",
            ),
            SourceFormat::SentinelYaml,
            BOTH,
            false,
        ),
        (
            "only the operation (the rule's scope) is kept",
            sentinel(
                "OfficeActivity | where Operation == 'New-InboxRule'\n| extend Forward = tostring(parse_json(Parameters)[3].Value)\n| where Forward endswith '@contoso.com'",
            ),
            SourceFormat::SentinelYaml,
            // YARA-L reads the array element as a field (`additional.fields`); Sigma cannot.
            &["sigma"],
            true,
        ),
        (
            "a rule whose only test is its event id keeps it",
            sentinel("SecurityEvent | where EventID == 4720"),
            SourceFormat::SentinelYaml,
            BOTH,
            false,
        ),
        (
            "an anti join (a new value) lost",
            sentinel(
                "SigninLogs | where ResultType == '0'\n| join kind=leftanti (SigninLogs | where TimeGenerated < ago(1d) | where ResultType == '0') on UserPrincipalName",
            ),
            SourceFormat::SentinelYaml,
            &["sigma"],
            true,
        ),
        (
            "a count threshold kept as a correlation",
            sentinel(
                "SigninLogs | where ResultType == '50126' | summarize count() by UserPrincipalName, bin(TimeGenerated, 1h) | where count_ > 5",
            ),
            SourceFormat::SentinelYaml,
            &["sigma"],
            false,
        ),
        (
            "a threshold on a computed count lost",
            sentinel(
                "SigninLogs | where ResultType == '50126' | summarize n = dcount(IPAddress) by UserPrincipalName | extend m = n * 2 | where m > 5",
            ),
            SourceFormat::SentinelYaml,
            &["sigma"],
            true,
        ),
        (
            "a keyword-only Sigma rule in YARA-L",
            sigma("  keywords:\n    - 'whoami /all'\n  condition: keywords"),
            SourceFormat::Sigma,
            &["chronicle"],
            true,
        ),
        (
            "a correlation whose base rule is not in its file",
            "title: c\nid: 0e95725d-7320-415d-80f7-004da920fc11\nstatus: test\ncorrelation:\n  type: event_count\n  rules:\n    - elsewhere\n  group-by:\n    - User\n  timespan: 5m\n  condition:\n    gte: 10\nlevel: high\n".to_string(),
            SourceFormat::Sigma,
            &["chronicle"],
            true,
        ),
        (
            "a Sigma rule with a field test",
            sigma("  sel:\n    Image|endswith: '\\certutil.exe'\n    CommandLine|contains: ' -urlcache '\n  condition: sel"),
            SourceFormat::Sigma,
            &["chronicle", "kql", "sigma"],
            false,
        ),
    ]
}

fn emitted(target: &str, text: &str, from: SourceFormat, allow_broader: bool) -> Result<Vec<Problem>, Vec<Problem>> {
    let outcome = read_text(text, Path::new("rule.yaml"), Some(from));
    let rule = outcome.rules.first().unwrap_or_else(|| panic!("the rule reads: {:?}", outcome.problems));
    let options = EmitOptions { allow_broader, ..EmitOptions::default() };
    emit_rules(Target::from_name(target).expect("registered"), &[rule], &options).map(|e| e.problems)
}

fn has_broader(problems: &[Problem], kind: Kind) -> bool {
    problems.iter().any(|p| p.code == Code::Broader && p.kind == kind)
}

#[test]
fn a_translation_that_keeps_no_logic_is_refused_unless_allowed() {
    let mut failures = Vec::new();
    for (what, text, from, targets, broader) in rows() {
        for target in targets {
            let refused = emitted(target, &text, from, false);
            let allowed = emitted(target, &text, from, true);
            let ok = if broader {
                // Allowed, it is written with the loss, unless the target's own rules refuse what is
                // left (YARA-L has no rule with an event variable that nothing selects).
                matches!(&refused, Err(errors) if has_broader(errors, Kind::Error))
                    && match &allowed {
                        Ok(problems) => has_broader(problems, Kind::Loss) && Verdict::of_emitted(problems) == Verdict::Approximate,
                        Err(errors) => {
                            *target == "chronicle"
                                && errors.iter().any(|e| e.kind == Kind::Error && e.message.contains("would match every UDM event"))
                        }
                    }
            } else {
                matches!(&refused, Ok(problems) if !has_broader(problems, Kind::Loss)) && refused == allowed
            };
            if !ok {
                failures.push(format!("{what} ({target}): expected broader={broader}\n  default: {refused:?}\n  allowed: {allowed:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
