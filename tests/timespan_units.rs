//! A Sigma correlation's `timespan`, in each unit Sigma writes (`s`, `m`, `h`, `d`, `w`), keeps
//! the same window in every target: one `ir::Timespan` read once by lowering, written by each
//! target in its own syntax. YARA-L's match window stops at 48 hours: a longer one is written
//! as 48 hours and reported as a loss that names the window, never silently shortened.

use ruleconv::convert::emit_rules;
use ruleconv::diag::Code;
use ruleconv::emit::{EmitOptions, Emitted, Settings, Target};
use ruleconv::ir::SourceFormat;
use ruleconv::read::read_text;
use std::path::Path;

const RULES: &str = "\
title: failed logon
name: failed
logsource:
  product: windows
  service: security
detection:
  selection:
    EventID: 4625
  condition: selection
---
title: logon
name: logon
logsource:
  product: windows
  service: security
detection:
  selection:
    EventID: 4624
  condition: selection
";

/// (as written in Sigma, as Sigma and KQL write it back, as YARA-L writes it when it fits)
const UNITS: [(&str, &str, Option<&str>); 6] = [
    ("30s", "30s", Some("30s")),
    ("5m", "5m", Some("5m")),
    ("1h", "1h", Some("1h")),
    ("2d", "2d", Some("2d")),
    ("36h", "36h", Some("36h")),
    ("1w", "7d", None),
];

fn emit(correlation: &str, target: &str) -> Emitted {
    emit_with(correlation, target, &EmitOptions::default())
}

fn emit_with(correlation: &str, target: &str, options: &EmitOptions) -> Emitted {
    let text = format!("{RULES}---\ntitle: correlated\nlevel: medium\ncorrelation:\n  {correlation}\n");
    let read = read_text(&text, Path::new("c.yml"), Some(SourceFormat::Sigma));
    assert!(read.problems.iter().all(|p| !p.is_error()), "{:?}", read.problems);
    let rule = read.rules.last().expect("the correlation");
    let target = Target::from_name(target).expect("registered");
    emit_rules(target, &[rule], options).unwrap_or_else(|e| panic!("{}: {e:?}", target.name()))
}

fn assert_window(correlation: &str, written: &str, kql_window: &str, yaral: Option<&str>) {
    for target in ["kql", "sentinel-yaml", "sentinel"] {
        let text = emit(correlation, target).text;
        assert!(text.contains(kql_window), "{target} for `{written}` lacks `{kql_window}`:\n{text}");
    }
    let sigma = emit(correlation, "sigma").text;
    let expected = format!("timespan: {}", UNITS.iter().find(|u| u.0 == written).unwrap().1);
    assert!(sigma.contains(&expected), "sigma for `{written}` lacks `{expected}`:\n{sigma}");
    let chronicle = emit(correlation, "chronicle");
    match yaral {
        Some(window) => {
            assert!(chronicle.text.contains(&format!(" over {window}\n")), "chronicle for `{written}`:\n{}", chronicle.text);
            assert!(!chronicle.problems.iter().any(|p| p.code == Code::WindowChanged), "{:?}", chronicle.problems);
        }
        None => {
            assert!(chronicle.text.contains(" over 2d\n"), "chronicle for `{written}`:\n{}", chronicle.text);
            let named = format!("the {} window is longer than YARA-L's 48h", UNITS.iter().find(|u| u.0 == written).unwrap().1);
            let capped = chronicle.problems.iter().any(|p| p.code == Code::WindowChanged && p.message.contains(&named));
            assert!(capped, "no window-changed loss `{named}`: {:?}", chronicle.problems);
        }
    }
    // The card shows the correlation as written: the user's own window.
    let markdown = emit(correlation, "markdown").text;
    assert!(markdown.contains(&format!("timespan: {written}")), "markdown for `{written}`:\n{markdown}");
}

#[test]
fn event_count_windows_agree_in_every_target() {
    for (written, window, yaral) in UNITS {
        let correlation =
            format!("type: event_count\n  rules: [failed]\n  group-by: [TargetUserName]\n  timespan: {written}\n  condition:\n    gte: 10");
        assert_window(&correlation, written, &format!("bin(TimeGenerated, {window})"), yaral);
    }
}

#[test]
fn temporal_windows_agree_in_every_target() {
    for (written, window, yaral) in UNITS {
        let correlation = format!("type: temporal\n  rules: [failed, logon]\n  group-by: [TargetUserName]\n  timespan: {written}");
        assert_window(&correlation, written, &format!("<= {window}"), yaral);
    }
}

#[test]
fn a_timespan_in_no_known_unit_is_a_loss_not_a_guess() {
    let correlation = "type: event_count\n  rules: [failed]\n  group-by: [TargetUserName]\n  timespan: 1M\n  condition:\n    gte: 10";
    for target in ["kql", "chronicle"] {
        let emitted = emit(correlation, target);
        let unread = emitted.problems.iter().any(|p| p.code == Code::Unmodelled && p.message.contains("`1M` is no time span"));
        assert!(unread, "{target}: {:?}", emitted.problems);
    }
}

#[test]
fn a_sentinel_rule_looks_back_over_the_whole_window_or_says_it_does_not() {
    let weekly = "type: event_count\n  rules: [failed]\n  group-by: [TargetUserName]\n  timespan: 1w\n  condition:\n    gte: 50";
    let short = |emitted: &Emitted| emitted.problems.iter().any(|p| p.code == Code::WindowChanged && p.message.contains("7d window"));
    // By default the rule runs hourly over the last week, so each run sees the whole window.
    let default = emit(weekly, "sentinel-yaml");
    assert!(default.text.contains("queryFrequency: 1h\nqueryPeriod: 7d\n"), "{}", default.text);
    assert!(!short(&default), "{:?}", default.problems);
    // A window within the default hour keeps the hourly lookback.
    let hourly = emit(&weekly.replace("1w", "10m"), "sentinel-yaml");
    assert!(hourly.text.contains("queryPeriod: 1h\n"), "{}", hourly.text);
    // A shorter queryPeriod set by the user is a loss naming the window.
    let settings = Settings::parse(&["queryPeriod=1h".to_string()]).expect("a valid setting");
    let options = EmitOptions { settings, ..EmitOptions::default() };
    let cut = emit_with(weekly, "sentinel-yaml", &options);
    assert!(cut.text.contains("queryPeriod: 1h\n"), "{}", cut.text);
    assert!(short(&cut), "no window-changed loss: {:?}", cut.problems);
    // Past Sentinel's 14 days the lookback stops at 14d, and says so.
    let long = emit(&weekly.replace("1w", "3w"), "sentinel-yaml");
    assert!(long.text.contains("queryPeriod: 14d\n"), "{}", long.text);
    assert!(long.problems.iter().any(|p| p.code == Code::WindowChanged && p.message.contains("21d window")), "{:?}", long.problems);
}
