//! The KQL front end against Microsoft's parser on the Sentinel corpus:
//! same accept/reject verdicts, errors at the same place, and printed
//! queries that the oracle accepts and that re-parse to the same tree.
//! Needs Node.js (the oracle installs its npm package on first use).

#[path = "support/kql_corpus.rs"]
mod kql_corpus;
#[path = "support/shared.rs"]
mod shared;

use kql_corpus::{corpus_queries, oracle, without_spans};
use ruleconv::kql;

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

#[test]
fn accepts_and_rejects_what_the_oracle_does() {
    let Some(queries) = corpus_queries() else { return };
    assert_eq!(queries.len(), 1221, "corpus queries");
    let texts: Vec<&str> = queries.iter().map(|q| q.text.as_str()).collect();
    let verdicts = oracle(&texts);

    let mut disagreements = Vec::new();
    let mut misplaced = Vec::new();
    let (mut accepted, mut rejected, mut positions_match) = (0, 0, 0);
    for (query, verdict) in queries.iter().zip(&verdicts) {
        let parsed = kql::parse(&query.text);
        if parsed.is_ok() != verdict.ok {
            let ours = parsed.errors.first().map(|e| kql::render_error(&query.text, e));
            disagreements.push(format!("{}: oracle ok={}, ours: {ours:?}", query.id, verdict.ok));
            continue;
        }
        if verdict.ok {
            accepted += 1;
            continue;
        }
        rejected += 1;
        // Our first error must sit where the oracle's first one does: same
        // line, at most a few characters away.
        let theirs = verdict.diagnostics[0].start;
        let ours = parsed.errors[0].span.start;
        if line_of(&query.text, ours) == line_of(&query.text, theirs) && ours.abs_diff(theirs) <= 3 {
            positions_match += 1;
        } else {
            misplaced.push(format!(
                "{}: oracle at {theirs} ({}), ours:\n{}",
                query.id,
                verdict.diagnostics[0].message,
                kql::render_error(&query.text, &parsed.errors[0])
            ));
        }
    }
    eprintln!("accepted {accepted}, rejected {rejected}, error positions matching {positions_match}/{rejected}");
    assert!(disagreements.is_empty(), "{} verdicts differ:\n{}", disagreements.len(), disagreements.join("\n"));
    assert!(misplaced.is_empty(), "{} errors misplaced:\n{}", misplaced.len(), misplaced.join("\n"));
    assert_eq!((accepted, rejected), (1211, 10));
}

#[test]
fn printed_queries_are_accepted_and_reparse_to_the_same_tree() {
    let Some(queries) = corpus_queries() else { return };
    let mut printed = Vec::new();
    let mut changed = Vec::new();
    for query in &queries {
        let parsed = kql::parse(&query.text);
        if !parsed.is_ok() {
            continue;
        }
        let text = kql::print(&parsed.ast);
        let reparsed = kql::parse(&text);
        if !reparsed.is_ok() {
            changed.push(format!("{}: printed text does not parse: {}", query.id, kql::render_error(&text, &reparsed.errors[0])));
        } else if without_spans(&reparsed.ast) != without_spans(&parsed.ast) {
            changed.push(format!("{}: printed text parses to a different tree:\n{text}", query.id));
        }
        printed.push((query, parsed, text));
    }
    assert_eq!(printed.len(), 1211, "queries we accept");
    assert!(changed.is_empty(), "{} round trips failed:\n{}", changed.len(), changed.join("\n"));

    let texts: Vec<&str> = printed.iter().map(|(_, _, text)| text.as_str()).collect();
    let verdicts = oracle(&texts);
    let originals: Vec<&str> = printed.iter().map(|(q, _, _)| q.text.as_str()).collect();
    let original_verdicts = oracle(&originals);
    let mut refused = Vec::new();
    for (((query, _, text), verdict), original) in printed.iter().zip(&verdicts).zip(&original_verdicts) {
        if !verdict.ok {
            refused.push(format!("{}: {}\n{text}", query.id, verdict.diagnostics[0].message));
        } else if verdict.operators != original.operators {
            refused.push(format!("{}: operators {:?} became {:?}", query.id, original.operators, verdict.operators));
        }
    }
    eprintln!("printed {}, oracle accepts {}, same tree {}", printed.len(), printed.len() - refused.len(), printed.len() - changed.len());
    assert!(refused.is_empty(), "{} printed queries refused or changed:\n{}", refused.len(), refused.join("\n"));
}
