//! The KQL front end against Microsoft's parser on hand-written queries
//! that reach past the shared corpus (tests/kql/constructs.kql):
//! rules we have never seen use operators, options and literal forms the
//! corpus does not. Needs Node.js, like tests/kql_oracle.rs.

#[path = "support/kql_corpus.rs"]
mod kql_corpus;
#[path = "support/shared.rs"]
mod shared;

use kql_corpus::{constructs, oracle, without_spans};
use ruleconv::kql;

fn oracle_available() -> bool {
    let present = kql_corpus::oracle_path().is_file();
    if !present {
        shared::say_skipped(&format!("{} is absent", kql_corpus::oracle_path().display()));
    }
    present
}

#[test]
fn same_verdicts_as_the_oracle_and_printed_text_round_trips() {
    if !oracle_available() {
        return;
    }
    let queries = constructs();
    assert!(queries.len() >= 180, "constructs file has {} blocks", queries.len());
    let texts: Vec<&str> = queries.iter().map(String::as_str).collect();
    let verdicts = oracle(&texts);

    let mut problems = Vec::new();
    let mut printed = Vec::new();
    let (mut accepted, mut rejected) = (0, 0);
    for (query, verdict) in queries.iter().zip(&verdicts) {
        let parsed = kql::parse(query);
        if parsed.is_ok() != verdict.ok {
            let ours = parsed.errors.first().map(|e| kql::render_error(query, e)).unwrap_or_else(|| "accepted".into());
            let theirs = verdict.diagnostics.first().map_or("accepted".into(), |d| format!("{} at {}", d.message, d.start));
            problems.push(format!("{query}\n  oracle: {theirs}\n  ours: {ours}"));
            continue;
        }
        if !verdict.ok {
            rejected += 1;
            continue;
        }
        accepted += 1;
        let text = kql::print(&parsed.ast);
        let reparsed = kql::parse(&text);
        if !reparsed.is_ok() || without_spans(&reparsed.ast) != without_spans(&parsed.ast) {
            problems.push(format!("{query}\n  printed as a different query:\n{text}"));
        } else {
            printed.push(text);
        }
    }
    let printed_texts: Vec<&str> = printed.iter().map(String::as_str).collect();
    for (text, verdict) in printed_texts.iter().zip(oracle(&printed_texts)) {
        if !verdict.ok {
            problems.push(format!("printed text refused by the oracle ({}):\n{text}", verdict.diagnostics[0].message));
        }
    }
    eprintln!("constructs: {accepted} accepted, {rejected} rejected, {} problems", problems.len());
    assert!(problems.is_empty(), "{} constructs handled unlike the oracle:\n\n{}", problems.len(), problems.join("\n\n"));
    assert!(rejected >= 20, "the file's broken queries: only {rejected} rejected");
}
