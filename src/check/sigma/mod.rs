//! What pySigma's `sigma check` validates in one Sigma rule, with our data: tags against the
//! Sigma tag specification and the ATT&CK release of `targets/attack.json` (`tags`), metadata
//! values against the specification's vocabularies (`vocabulary`), and the fields tested
//! against SigmaHQ's field list for the logsource (`fields`). Checks across the rules of a run
//! (shared ids and titles) are `check::duplicates`'.

mod fields;
mod tags;
mod vocabulary;

use crate::diag::Problem;
use crate::ir::Rule;
use crate::sigma::{self, DocumentKind};

/// The problems of a Sigma rule (none for another rule). Its file is parsed again for the
/// positions of single tags and values, which the rule does not keep.
pub fn rule_problems(rule: &Rule) -> Vec<Problem> {
    let Some(logic) = rule.sigma_logic() else { return Vec::new() };
    let Ok(parsed) = sigma::parse_file(&logic.text) else { return Vec::new() };
    let Some(document) = parsed.get(rule.origin.index) else { return Vec::new() };
    let mut problems = tags::problems(rule, &document.node);
    problems.extend(vocabulary::problems(rule, &document.node));
    if let Ok(sigma::Document { kind: DocumentKind::Rule(logic), .. }) = &document.document {
        problems.extend(fields::problems(rule, logic));
    }
    problems
}
