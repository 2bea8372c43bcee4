//! The Arm reader on arbitrary text: never panics, problems point inside the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ruleconv::ir::SourceFormat;

fuzz_target!(|data: &[u8]| {
    if let Some(text) = ruleconv_fuzz::text(data) {
        ruleconv_fuzz::read_as(text, "rule.json", Some(SourceFormat::Arm));
    }
});
