//! The KQL parser on arbitrary text: never panics, error spans lie on character boundaries
//! inside the query, and lowering whatever parsed never panics either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ruleconv::kql;

fuzz_target!(|data: &[u8]| {
    let Some(text) = ruleconv_fuzz::text(data) else { return };
    let parsed = kql::parse(text);
    for error in &parsed.errors {
        let span = error.span;
        assert!(span.start <= span.end && span.end <= text.len(), "span {span:?} outside the query");
        assert!(text.is_char_boundary(span.start) && text.is_char_boundary(span.end), "span {span:?} splits a character");
    }
    ruleconv::lower::lower_query(text);
});
