//! Each rule is lowered once per run, however many targets and consumers read it: the job
//! lowers (`convert::lower_all`) and hands the same Detection to every emitter; a KQL rule's
//! query is parsed once (`ir::Query::parsed`). Alone in its
//! test binary, because the count is the process's.

use ruleconv::convert;
use ruleconv::emit::{EmitOptions, Target};
use ruleconv::kql::queries_parsed;
use ruleconv::lower::rules_lowered;
use std::path::PathBuf;

#[test]
fn every_fixture_rule_is_lowered_once_for_six_targets() {
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let files = convert::expand_inputs(&[fixtures]);
    let before_reading = rules_lowered();
    let read = convert::read_all(&files, None);
    let rules: usize = convert::read_files(&read).iter().map(|f| f.outcome.rules.len()).sum();
    let sigma: usize = convert::read_files(&read).iter().flat_map(|f| &f.outcome.rules).filter(|r| r.sigma_logic().is_some()).count();
    assert!(rules > 20 && sigma > 5, "{rules} rules, {sigma} Sigma: the fixtures should exercise both languages");
    // Sigma rules are lowered by their reader, as they are read.
    assert_eq!(rules_lowered() - before_reading, sigma);

    let targets = Target::all();
    assert_eq!(targets.len(), 6);
    let (before, parsed_before) = (rules_lowered(), queries_parsed());
    let results = convert::convert_to(&read, targets, &EmitOptions::default());
    assert_eq!(results.len(), 6);
    let converted: usize = results.iter().map(|(_, converted)| converted.len()).sum();
    assert!(converted > rules, "each rule reaches several targets ({converted} outputs of {rules} rules)");
    // Every KQL rule once (some target reads each one's Detection); no Sigma rule again.
    assert_eq!(rules_lowered() - before, rules - sigma);
    // Each KQL rule's query is parsed once, for lowering, printing (kql), describing
    // (markdown) and checking it (the Sentinel targets) alike.
    assert_eq!(queries_parsed() - parsed_before, rules - sigma);
}
