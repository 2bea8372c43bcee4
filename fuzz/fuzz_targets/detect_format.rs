//! Format detection as a folder search runs it: any bytes (every encoding `read_bytes` takes)
//! under the file name the first byte picks. Beyond no panic: the same text always gets the
//! same format, reading it as that format named gives the same outcome, and every problem
//! points inside the input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else { return };
    if bytes.len() <= ruleconv_fuzz::MAX_LEN {
        ruleconv_fuzz::detect_and_read(bytes, ruleconv_fuzz::name(pick));
    }
});
