//! Entity mappings of the Sentinel rules written for Sigma input (`targets/entities.yaml`):
//! they name columns the query's rows have (the table's after a filter, the group keys after a
//! summarize), in the table's schema, within Sentinel's limits (`check` has no warning).

#[path = "support/kql_run.rs"]
#[allow(dead_code)]
mod kql_run;
#[path = "support/shared.rs"]
mod shared;

use ruleconv::check::{max_entity_mappings, metadata_problems};
use ruleconv::convert::{self, emit_rules};
use ruleconv::emit::{EmitOptions, Target};
use ruleconv::ir::{Rule, SourceFormat};
use ruleconv::lower::lower_rule;
use ruleconv::read::read_text;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Measured: 2,443 of the 3,141 SigmaHQ rules give a Sentinel rule (the others have no KQL
/// form or no table for their logsource); 2,388 of them have entity mappings.
const MIN_MAPPED: usize = 2_200;

/// The Sentinel rules (read back from `--to sentinel-yaml`) written for a Sigma file's rules.
fn sentinel_rules(sigma: &str) -> Vec<Rule> {
    let read = read_text(sigma, Path::new("r.yml"), Some(SourceFormat::Sigma));
    assert!(read.problems.iter().all(|p| !p.is_error()), "{:?}", read.problems);
    let refs: Vec<&Rule> = read.rules.iter().collect();
    let target = Target::from_name("sentinel-yaml").expect("registered");
    let yaml = emit_rules(target, &refs, &EmitOptions::default()).unwrap_or_else(|e| panic!("{e:?}")).text;
    read_text(&yaml, Path::new("r.yaml"), Some(SourceFormat::SentinelYaml)).rules
}

/// (entity type, identifier, column) of each mapping.
fn mapped(rule: &Rule) -> Vec<(String, String, String)> {
    let mappings = rule.sentinel.as_ref().and_then(|s| s.entity_mappings.clone()).unwrap_or_default();
    mappings
        .iter()
        .flat_map(|m| m.field_mappings.iter().map(|f| (m.entity_type.clone(), f.identifier.clone(), f.column_name.clone())))
        .collect()
}

/// The columns of each table in ../shared's schemas, when present.
fn schemas() -> Option<BTreeMap<String, BTreeSet<String>>> {
    let text = std::fs::read_to_string(kql_run::shared("design/reference/sentinel-table-schemas.json")).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).expect("schemas parse");
    let tables = json.as_object()?.iter().map(|(table, schema)| {
        let columns = schema["columns"].as_array().into_iter().flatten().filter_map(|c| c[0].as_str().map(str::to_string)).collect();
        (table.clone(), columns)
    });
    Some(tables.collect())
}

/// Whether every mapped column is a column of the rule's rows: of a table it reads (in the
/// schema) while no projection narrows them, else one the query names as an output.
fn columns_are_in_the_output(rule: &Rule, schemas: &BTreeMap<String, BTreeSet<String>>) -> Result<(), String> {
    let detection = lower_rule(rule);
    for (_, _, column) in mapped(rule) {
        let named = detection.outputs.fields.iter().any(|f| f.name == column);
        let in_table = detection.sources.iter().flat_map(|s| &s.tables).any(|t| schemas.get(t).is_some_and(|c| c.contains(&column)));
        if !(named || detection.outputs.all_columns && in_table) {
            return Err(format!("`{column}` is not a column of the rows of {:?}", rule.kql().map(|q| &q.text)));
        }
    }
    Ok(())
}

#[test]
fn a_process_creation_rule_maps_host_account_and_process() {
    let sigma = "title: Whoami\nid: 929a690e-bef0-4204-a928-ef5e620d6fcc\nlogsource:\n  category: process_creation\n  product: windows\n\
                 detection:\n  selection:\n    Image|endswith: '\\whoami.exe'\n  condition: selection\nlevel: high\n";
    let rules = sentinel_rules(sigma);
    let mapped = mapped(&rules[0]);
    let types: BTreeSet<&str> = mapped.iter().map(|(entity, _, _)| entity.as_str()).collect();
    for wanted in ["Account", "Host", "Process"] {
        assert!(types.contains(wanted), "{wanted} not in {mapped:?}");
    }
    assert!(mapped.len() <= max_entity_mappings());
    assert_eq!(metadata_problems(&rules[0]), []);
    if let Some(schemas) = schemas() {
        let table = &schemas["DeviceProcessEvents"];
        assert!(mapped.iter().all(|(_, _, column)| table.contains(column)), "{mapped:?}");
        columns_are_in_the_output(&rules[0], &schemas).unwrap();
    }
}

#[test]
fn a_correlation_maps_only_its_group_keys() {
    let sigma = "title: Failed logon\nid: 0e95725d-7320-415d-80f7-004da920fc11\nname: failed_logon\n\
                 logsource:\n  product: windows\n  service: security\ndetection:\n  selection:\n    EventID: 4625\n  condition: selection\n\
                 ---\ntitle: Many failed logons\nid: 0e95725d-7320-415d-80f7-004da920fc12\n\
                 correlation:\n  type: event_count\n  rules:\n    - failed_logon\n  group-by:\n    - TargetUserName\n    - Computer\n\
                 \x20 timespan: 1h\n  condition:\n    gte: 10\n";
    let rules = sentinel_rules(sigma);
    let correlation = mapped(&rules[1]);
    let expected = [("Account", "FullName", "TargetUserName"), ("Host", "FullName", "Computer")];
    assert_eq!(correlation, expected.map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())));
    // The base rule keeps every column of SecurityEvent, so it maps more.
    assert!(mapped(&rules[0]).len() > correlation.len(), "{:?}", mapped(&rules[0]));
    assert!(rules.iter().all(|r| metadata_problems(r).is_empty()));
}

#[test]
fn every_mapped_column_is_in_the_output_over_the_sigma_corpus() {
    let dir = kql_run::shared("corpus/sigma/rules");
    let Some(schemas) = schemas().filter(|_| dir.is_dir()) else {
        shared::say_skipped("../shared/corpus/sigma/rules is absent");
        return;
    };
    let read = convert::read_all(&convert::expand_inputs(&[dir]), None);
    let target = Target::from_name("sentinel-yaml").expect("registered");
    let (_, converted) = convert::convert(&read, target, &EmitOptions::default());
    let (mut mapped_rules, mut wrong) = (0, Vec::new());
    for output in &converted {
        for rule in read_text(&output.text, Path::new("r.yaml"), Some(SourceFormat::SentinelYaml)).rules {
            mapped_rules += usize::from(!mapped(&rule).is_empty());
            let warnings = metadata_problems(&rule);
            if let Err(why) = columns_are_in_the_output(&rule, &schemas) {
                wrong.push(format!("{}: {why}", rule.title));
            } else if !warnings.is_empty() {
                wrong.push(format!("{}: {warnings:?}", rule.title));
            }
        }
    }
    eprintln!("{} Sigma rules give a Sentinel rule; {mapped_rules} have entity mappings", converted.len());
    assert!(wrong.is_empty(), "{} rules map what they lack:\n{}", wrong.len(), wrong[..wrong.len().min(5)].join("\n"));
    assert!(mapped_rules >= MIN_MAPPED, "only {mapped_rules} rules have entity mappings");
}
