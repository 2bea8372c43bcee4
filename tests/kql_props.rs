//! Property tests: `kql::parse` never panics or overflows the stack, its
//! error spans are valid, and whatever it accepts prints to text that
//! parses back to the same tree. Raise `PROPTEST_CASES` for a long run:
//!
//!     PROPTEST_CASES=200000 cargo test --release --test kql_props

#[path = "support/edits.rs"]
mod edits;
#[path = "support/kql_corpus.rs"]
mod kql_corpus;
#[path = "support/shared.rs"]
mod shared;

use proptest::prelude::*;
use ruleconv::kql;
use std::sync::OnceLock;

/// Pieces real queries are made of, plus broken ones.
const PIECES: &[&str] = &[
    "T",
    "x",
    "$left",
    "$right",
    "['a b']",
    "[\"c\"]",
    "|",
    "where",
    "extend",
    "project",
    "summarize",
    "by",
    "join",
    "kind=inner",
    "on",
    "union",
    "mv-expand",
    "mv-apply",
    "parse",
    "with",
    "let",
    "=",
    "==",
    "!=",
    "=~",
    "!~",
    "<",
    "<=",
    ">",
    ">=",
    "+",
    "-",
    "*",
    "/",
    "%",
    "and",
    "or",
    "not",
    "has",
    "!has",
    "has_any",
    "in",
    "!in~",
    "between",
    "..",
    "contains_cs",
    "matches regex",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ";",
    ":",
    ".",
    "1",
    "1.5",
    "0x1F",
    "5m",
    "1.5h",
    "1e5",
    "'s'",
    "\"d\\\"q\"",
    "@'v'",
    "h'o'",
    "```m\nl```",
    "'unterminated",
    "\"bad\\q\"",
    "datetime(2024-01-01)",
    "dynamic([1, {\"a\": null}])",
    "dynamic(",
    "guid(",
    "typeof(string)",
    "to typeof(long)",
    "count()",
    "bin(t, 1h)",
    "toscalar(",
    "materialize(",
    "view",
    "()",
    "//c\n",
    "\n",
    " ",
    "\t",
    "é",
    "🦀",
    "\u{feff}",
    "!",
    "@",
    "#",
    "~",
    "`",
    "\\",
    "asc",
    "desc",
    "nulls first",
    "top",
    "10",
    "take",
    "datatable(a:string)[",
    "externaldata(",
    "range",
    "from",
    "to",
    "step",
    "print",
    "render",
    "timechart",
    "invoke",
    "evaluate",
    "bag_unpack(x)",
    "make-series",
    "default",
    "partition",
    "top-nested",
    "of",
    "fork",
    "facet",
    "find",
    "search",
    "*",
    "project-smart",
    "scan",
    "declare",
    "step",
    "output=last",
    "=>",
    "set",
    "query_parameters",
    "alias database",
    "reduce",
    "consume",
    "top-hitters",
    "make-graph",
];

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec((prop::sample::select(PIECES), prop::bool::ANY), 0..60)
        .prop_map(|parts| parts.into_iter().map(|(p, space)| if space { format!("{p} ") } else { p.to_string() }).collect())
}

fn corpus() -> &'static [String] {
    static CORPUS: OnceLock<Vec<String>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let corpus = kql_corpus::corpus_queries().unwrap_or_default().into_iter().map(|q| q.text);
        corpus.chain(kql_corpus::constructs()).collect()
    })
}

/// A corpus or construct query with a few characters deleted, inserted or repeated.
fn mutated() -> impl Strategy<Value = String> {
    let edit = (0..3usize, any::<prop::sample::Index>(), 0..20usize, prop::sample::select(PIECES));
    (any::<prop::sample::Index>(), prop::collection::vec(edit, 1..4)).prop_map(|(which, edits)| {
        let Some(base) = (!corpus().is_empty()).then(|| which.get(corpus())) else { return String::new() };
        edits::apply(base, edits)
    })
}

fn check(text: &str) -> Result<(), TestCaseError> {
    // Lowering is total on the same inputs: a panic fails the property.
    let _ = ruleconv::lower::lower_query(text);
    let parsed = kql::parse(text);
    for error in &parsed.errors {
        prop_assert!(error.span.start <= error.span.end && error.span.end <= text.len(), "span {:?} out of range", error.span);
        prop_assert!(
            text.is_char_boundary(error.span.start) && text.is_char_boundary(error.span.end),
            "span {:?} splits a char",
            error.span
        );
        let rendered = kql::render_error(text, error);
        prop_assert!(rendered.contains(&error.message));
    }
    if parsed.is_ok() {
        let printed = kql::print(&parsed.ast);
        let reparsed = kql::parse(&printed);
        prop_assert!(reparsed.is_ok(), "printed text fails to parse: {printed:?} {:?}", reparsed.errors);
        prop_assert_eq!(kql_corpus::without_spans(&reparsed.ast), kql_corpus::without_spans(&parsed.ast), "printed: {}", printed);
    }
    Ok(())
}

proptest! {
    #[test]
    fn token_soup_never_panics(text in soup()) {
        check(&text)?;
    }

    #[test]
    fn any_text_never_panics(text in "\\PC{0,200}") {
        check(&text)?;
    }

    #[test]
    fn mutated_corpus_queries_never_panic(text in mutated()) {
        check(&text)?;
    }
}

/// Unfinished openers: repeated, each leaves the query incomplete.
const OPENERS: &[&str] = &["(", "[", "{", "f(", "dynamic([", "(T | where x in (", "-", "a+", "x.", "a[", "not(", "let x = (", "| "];

/// Deep nesting and long chains (up to 100,000 openers) get an error, not
/// a stack overflow. Runs on the test harness's 2 MiB thread.
#[test]
fn deep_input_is_an_error_not_a_crash() {
    for opener in OPENERS {
        for n in [1, 63, 64, 65, 1_999, 2_001, 100_000] {
            for prefix in ["", "print "] {
                let text = format!("{prefix}{}", opener.repeat(n));
                assert!(!kql::parse(&text).errors.is_empty(), "{prefix}{opener} x {n}");
                assert!(!ruleconv::lower::lower_query(&text).unmodelled.is_empty(), "{prefix}{opener} x {n}");
            }
        }
    }
}
