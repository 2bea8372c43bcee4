//! The whole convert path on arbitrary text: detect the format (the first byte picks the file
//! name the detection sees), read, lower, emit to every target and join the outputs as stdout
//! would. Nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ruleconv::convert::{self, FileRules, InputFile};
use ruleconv::emit::{EmitOptions, Target};
use std::path::PathBuf;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let Some(text) = ruleconv_fuzz::text(rest) else { return };
    let name = ruleconv_fuzz::name(pick);
    let outcome = ruleconv_fuzz::read_as(text, name, None);
    let files = [FileRules { input: InputFile { path: PathBuf::from(name), root: None }, outcome }];
    let options = EmitOptions::default();
    let targets = Target::all();
    for (target, (_, converted)) in targets.iter().zip(convert::convert_to(&files, targets, &options)) {
        let _ = convert::combined_text(&converted, *target, &options);
    }
});
