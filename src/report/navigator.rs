//! Coverage as an ATT&CK Navigator layer (layer format 4.5), which the Navigator imports: one
//! technique entry per tactic a technique or sub-technique is covered under, scored with its
//! rule count, on the heatmap's colors.

use super::{Report, palette, rules_words};
use serde_json::{Value, json};

/// The layer format this writes, and the Navigator release that reads it.
const LAYER_FORMAT: &str = "4.5";
const NAVIGATOR: &str = "5.1.0";
/// The ATT&CK release of `targets/attack.json` (a mitre/cti snapshot of November 2025).
const ATTACK_RELEASE: &str = "18";

pub fn layer(report: &Report, name: &str) -> String {
    let coverage = &report.attack;
    let max_rules = coverage.max_rules();
    let (min_value, max_value) = palette::range(max_rules);
    let techniques: Vec<Value> = coverage
        .cells()
        .map(|(tactic, technique)| {
            let mut entry = json!({
                "techniqueID": technique.id,
                "tactic": tactic.short_name,
                "score": technique.rules,
                "comment": rules_words(technique.rules),
                "enabled": true,
            });
            if !technique.sub_techniques.is_empty() {
                entry["showSubtechniques"] = json!(true);
            }
            entry
        })
        .collect();
    let layer = json!({
        "name": name,
        "versions": { "attack": ATTACK_RELEASE, "navigator": NAVIGATOR, "layer": LAYER_FORMAT },
        "domain": "enterprise-attack",
        "description": format!("Rules per technique: {} rule(s) from {} file(s), written by ruleconv report.", report.summary.rules, report.summary.files),
        "sorting": 3,
        "layout": { "layout": "side", "showID": true, "showName": true },
        "hideDisabled": false,
        "techniques": techniques,
        "gradient": { "colors": [palette::LOW, palette::HIGH], "minValue": min_value, "maxValue": max_value },
        "legendItems": [
            { "label": rules_words(min_value), "color": palette::LOW },
            { "label": rules_words(max_value), "color": palette::HIGH },
        ],
        "showTacticRowBackground": false,
        "selectTechniquesAcrossTactics": true,
        "selectSubtechniquesWithParent": false,
    });
    serde_json::to_string_pretty(&layer).unwrap_or_default() + "\n"
}
