//! `ruleconv test` on arbitrary input: a rule, a NUL byte, then events as JSON Lines (at most
//! `MAX_EVENTS`). Beyond no panic: each rule read is evaluated twice with the same rows; run
//! with `-timeout=10` so a slow evaluation is reported as a timeout.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(at) = data.iter().position(|&b| b == 0) else { return };
    let (Some(rule), Some(events)) = (ruleconv_fuzz::text(&data[..at]), ruleconv_fuzz::text(&data[at + 1..])) else { return };
    ruleconv_fuzz::test_rule(rule, events);
});
