//! A Detection as data without its spans, which index different texts: two readings of the
//! same meaning (a rule and its conversion read back) compare equal.

use ruleconv::ir::Detection;
use serde_json::Value as Json;

pub fn without_spans(detection: &Detection) -> Json {
    fn strip(value: &mut Json) {
        match value {
            Json::Object(map) => {
                map.remove("span");
                map.values_mut().for_each(strip);
            }
            Json::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut value = serde_json::to_value(detection).expect("serializes");
    strip(&mut value);
    value
}
