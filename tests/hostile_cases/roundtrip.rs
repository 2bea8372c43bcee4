//! Issue 19 items 10 and 13b: values that came back changed from a round trip (a description's
//! own quotes, a string of digits written as a number).

use super::{run, scratch};
use ruleconv::yaml;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn hostile(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile").join(name)
}

/// `input` converted `--to` each target in turn, each output the next step's input; gives every
/// step's output.
fn through(input: &Path, targets: &[&str]) -> Vec<String> {
    let mut outputs: Vec<String> = Vec::new();
    let mut current = input.to_path_buf();
    for (step, target) in targets.iter().enumerate() {
        let result = run(&current, &["convert", "{input}", "--to", target, "-o", "{out}"]);
        assert_eq!(result.code, 0, "step {step} --to {target}\n{}", result.printed);
        let extension = if *target == "sentinel" { "json" } else { "yaml" };
        let (_, next) = scratch(&format!("step{step}.{extension}"));
        std::fs::write(&next, &result.output).unwrap();
        outputs.push(result.output);
        current = next;
    }
    outputs
}

fn arm_description(template: &str) -> Value {
    let data: Value = serde_json::from_str(template).unwrap_or_else(|e| panic!("{e}\n{template}"));
    data["resources"][0]["properties"]["description"].clone()
}

fn yaml_description(text: &str) -> Option<String> {
    yaml::parse_documents(text).unwrap()[0].get("description").and_then(|d| d.as_str()).map(str::to_string)
}

/// Issue 19 item 13b: an ARM description whose quotes are its own text (`"'Identifies ...'\n"`,
/// as portal exports have them) comes back with them, ARM → YAML → ARM and YAML → ARM → YAML.
#[test]
fn an_arm_description_keeps_its_own_quotes_both_ways() {
    let input = hostile("arm_quoted_description.json");
    let original = std::fs::read_to_string(&input).unwrap();
    let [yaml_once, arm_again, yaml_again]: [String; 3] =
        through(&input, &["sentinel-yaml", "sentinel", "sentinel-yaml"]).try_into().unwrap();
    assert_eq!(arm_description(&arm_again), "'Identifies a thing.'\n", "{yaml_once}\n{arm_again}");
    let same: Value = serde_json::from_str(&original).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&arm_again).unwrap(), same, "ARM → YAML → ARM changed the template");
    assert_eq!(yaml_description(&yaml_once).as_deref(), Some("'Identifies a thing.'\n"));
    assert_eq!(yaml_again, yaml_once, "YAML → ARM → YAML changed the YAML");
}

/// Issue 19 item 13b: the repository's wrapper quotes (`description: |` then `'text'`) are
/// dropped in ARM, as Microsoft's packaging publishes them, and come back as the repository's
/// block, YAML → ARM → YAML and ARM → YAML → ARM.
#[test]
fn a_repository_description_keeps_its_wrapper_both_ways() {
    let input = hostile("sentinel_wrapped_description.yaml");
    let [arm_once, yaml_again, arm_again]: [String; 3] = through(&input, &["sentinel", "sentinel-yaml", "sentinel"]).try_into().unwrap();
    assert_eq!(arm_description(&arm_once), "Identifies a thing.", "{arm_once}");
    assert!(yaml_again.contains("description: |\n  'Identifies a thing.'\nseverity:"), "{yaml_again}");
    assert_eq!(yaml_description(&yaml_again), yaml_description(&std::fs::read_to_string(&input).unwrap()));
    assert_eq!(arm_again, arm_once, "ARM → YAML → ARM changed the template");
}

/// Issue 19 item 10: a string of digits (`!!str 4688`, `'4688'`) stays a string in `--to sigma`,
/// and a number stays a number.
#[test]
fn a_string_of_digits_stays_quoted_in_sigma() {
    let result = run(&hostile("sigma_string_of_digits.yml"), &["convert", "{input}", "--to", "sigma", "-o", "{out}"]);
    assert_eq!(result.code, 0, "{}", result.printed);
    assert!(result.output.contains("    EventID: '4688'\n    Status: '0'\n    Level: 4\n"), "{}", result.output);
}
