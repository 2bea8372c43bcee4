//! Sigma files (YAML with top-level `detection`/`logsource`, `correlation` or `filter`): each
//! detection or correlation document becomes a `Rule` whose logic is `Logic::Sigma`; filter
//! documents are applied to the rules of the file they name and make no rule of their own.
//!
//! The language is parsed by `crate::sigma`; this reader adds the metadata (`metadata`) and
//! reports what cannot be read as errors at the file's line and column, document by document.

mod metadata;

use super::ReadOutcome;
use super::documents::Parse;
use crate::diag::{Code, Kind, Position, Problem};
use crate::ir::{Locator, Logic, SigmaLogic};
use crate::sigma::{self, Document, DocumentKind, Filter};
use std::path::Path;
use std::sync::Arc;

/// Whether `text` has Sigma's shape: top-level `detection:` and `logsource:` keys, or a
/// correlation or filter document.
pub fn looks_like_sigma(text: &str) -> bool {
    let top_level = |key: &str| text.lines().any(|l| l.strip_prefix(key).is_some_and(|rest| rest.starts_with(':')));
    (top_level("detection") && top_level("logsource")) || (top_level("correlation") || top_level("filter")) && top_level("title")
}

/// Reads the rules of `text`, whose YAML parse is `parse`.
pub fn read(text: &str, parse: Parse, file: &Path, out: &mut ReadOutcome) {
    // Spans index the whole file, so the locator is the identity from line 1, column 1.
    let locator = Locator::at(Position::new(1, 1));
    let position = |offset: usize| locator.position(text, offset);
    let parsed = match sigma::read_documents(text, parse) {
        Ok(parsed) => parsed,
        Err(e) => return out.rule_error(Code::YamlSyntax, file, position(e.span.start), 0, format!("YAML: {}", e.message)),
    };
    let documents: Vec<&Document> = parsed.iter().filter_map(|p| p.document.as_ref().ok()).collect();
    let filters: Vec<(&Document, &Filter)> =
        documents.iter().filter_map(|d| if let DocumentKind::Filter(f) = &d.kind { Some((*d, f)) } else { None }).collect();
    let names =
        |document: &Document, reference: &str| document.id.as_deref() == Some(reference) || document.name.as_deref() == Some(reference);
    for (index, item) in parsed.iter().enumerate() {
        let document = match &item.document {
            Ok(document) => document,
            Err(e) => {
                let title = item.node.get("title").and_then(|t| t.as_str()).map(str::to_string);
                out.problems.push(
                    Problem::error(Code::SigmaSyntax, file, position(e.span.start), format!("Sigma: {}", e.message)).for_rule(index, title),
                );
                continue;
            }
        };
        let mut correlated = Vec::new();
        match &document.kind {
            DocumentKind::Filter(filter) => {
                for (reference, span) in filter.rules.iter().filter(|(r, _)| !documents.iter().any(|d| names(d, r))) {
                    let message = format!("the filter names `{reference}`, which is not a rule of this file: it is not applied");
                    out.problems.push(
                        Problem::new(Kind::Warning, Code::Ignored, file, position(span.start), message)
                            .for_rule(index, Some(document.title.clone())),
                    );
                }
                continue;
            }
            DocumentKind::Correlation(correlation) => {
                correlated = correlation.rules.iter().filter_map(|(r, _)| documents.iter().find(|d| names(d, r)).copied()).collect();
            }
            DocumentKind::Rule(_) => {}
        }
        let applied: Vec<&Filter> =
            filters.iter().filter(|(_, f)| f.rules.iter().any(|(r, _)| names(document, r))).map(|(_, f)| *f).collect();
        let (mut rule, problems) = metadata::rule(&item.node, text, file, index);
        let unreadable = problems.iter().any(Problem::is_error);
        out.report(problems, index, Some(&rule.title.clone()));
        if unreadable {
            continue;
        }
        let detection = Arc::new(crate::lower::lower_sigma(document, &correlated, &applied));
        let logic = SigmaLogic { text: text.to_string(), locator: locator.clone(), detection };
        rule.logic = Some(Logic::Sigma(Box::new(logic)));
        out.rules.push(rule);
    }
}
