//! `--to chronicle`: Google SecOps (Chronicle) YARA-L 2.0 rules.
//!
//! The emitter builds a typed rule (`model`, with its variables from `names`) and `print`
//! writes it, the only place that makes text: every piece of it (string and regex literals,
//! names, conditions) needs escaping of its own, which typed values make exact and testable,
//! while a template engine's escaping is HTML's.
//!
//! Tables and columns, or a Sigma rule's logsource and fields, become UDM selectors and paths
//! through the `targets/chronicle.yaml` profile. What needs a human (an unmapped table or field, a construct lowering did not
//! model, a test YARA-L cannot state) is a `// TODO:` line in the rule and a loss in the
//! report; every rule still gets its understood predicates, a non-empty `events` and a
//! `condition`. The fidelity header opens each rule as `//` comments.

mod correlate;
mod events;
mod model;
mod names;
mod notes;
mod predicate;
mod print;
mod profile;
mod structure;
mod text;
mod typed;
mod udm;

use super::{
    EmitOptions, Emitted, Emitter, Evidence, Subject, broader, computed_column_losses, header_lines, join_documents, refused_regex_errors,
    unmodelled_losses,
};
use crate::diag::{Kind, Problem};
use crate::ir::Rule;
use model::Expr;
use names::{EventVar, RuleName};
use notes::Notes;

pub struct Chronicle;

impl Emitter for Chronicle {
    fn name(&self) -> &'static str {
        "chronicle"
    }

    fn extension(&self) -> &'static str {
        "yaral"
    }

    fn about(&self) -> &'static str {
        "Google SecOps (Chronicle) YARA-L 2.0 rules; several rules are separated by a blank line"
    }

    fn reads_sigma(&self) -> bool {
        true
    }

    fn emit(&self, subjects: &[Subject], options: &EmitOptions) -> Result<Emitted, Vec<Problem>> {
        join_documents(subjects, "\n", |subject| {
            // YARA-L's regexes are RE2: a rule the engine refuses must not be written as if it ran.
            let refused = refused_regex_errors(subject, "YARA-L's RE2 (`re.regex`)");
            if refused.is_empty() { rule(subject, options) } else { Err(refused) }
        })
    }
}

/// The rule, or the errors saying why YARA-L cannot state it.
fn rule(subject: &Subject, options: &EmitOptions) -> Result<Emitted, Vec<Problem>> {
    let (detection, profile) = (subject.detection, profile::profile());
    let mut notes = Notes::new(subject);
    // What the Detection lacks, and computed columns (written as fields of that name): each is a
    // loss in the report and a TODO line in the rule.
    let mut problems = unmodelled_losses(subject);
    problems.extend(computed_column_losses(subject));
    let mut todos: Vec<String> = problems.iter().map(|p| p.message.clone()).collect();
    let (names, vars) = events::variables(detection);
    let mut events: Vec<(EventVar, Vec<Expr>)> =
        vars.iter().map(|v| (v.var.clone(), events::lines(detection, v, profile, &mut notes))).collect();
    let sections = correlate::sections(detection, &vars, names, profile, subject.rule, &mut notes);
    for (var, line) in sections.bindings {
        if let Some((_, lines)) = events.iter_mut().find(|(v, _)| *v == var) {
            lines.push(line);
        }
    }
    // Every path and literal as UDM types it; what cannot be is left out with a loss.
    let typing = typed::Typing { schema: udm::schema(), profile };
    for (_, lines) in &mut events {
        *lines = std::mem::take(lines).into_iter().filter_map(|line| typing.expr(line, &mut notes)).collect();
    }
    let outcome = sections.outcome.into_iter().filter_map(|(var, e)| typing.expr(e, &mut notes).map(|e| (var, e))).collect();
    problems.extend(notes.problems);
    todos.extend(notes.todos);
    broader::judge(subject, &mut problems, options.allow_broader)?;
    // Every path and literal was checked against UDM and the shape against the compiler's rules.
    let evidence = Evidence::SchemaChecked;
    let rule = model::Rule {
        header: header_lines(subject, &problems, evidence),
        name: RuleName::from_title(subject.rule.title()),
        meta: meta(subject.rule),
        todos,
        events,
        matching: sections.matching,
        outcome,
        condition: sections.condition,
    };
    // Refused, with what was found lost on the way (which often says why).
    if let Some((code, reason)) = structure::refusal(&rule) {
        return Err(std::iter::once(Problem::in_logic(Kind::Error, code, subject.rule, 0, reason)).chain(problems).collect());
    }
    Ok(Emitted { text: rule.to_string(), problems, evidence })
}

/// A description without the single quotes repository files often wrap it in.
fn unquoted(description: &str) -> String {
    let trimmed = description.trim();
    let inner = trimmed.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')).unwrap_or(trimmed);
    inner.trim().to_string()
}

/// The `meta` entries, in Google's usual order; only what the rule states.
fn meta(rule: &Rule) -> Vec<(&'static str, String)> {
    let joined = |values: Vec<&str>| (!values.is_empty()).then(|| values.join(", "));
    [
        ("author", joined(rule.authors.iter().map(|a| a.value.as_str()).collect())),
        ("description", rule.description.as_deref().map(unquoted)),
        ("rule_id", rule.id.clone()),
        ("rule_name", Some(rule.title.clone()).filter(|t| !t.is_empty())),
        ("severity", rule.severity.map(|s| s.name().to_string())),
        (
            "mitre_attack_tactic",
            rule.tactics.as_ref().and_then(|t| joined(t.iter().map(|t| t.id.map_or(t.written.as_str(), |id| id.name())).collect())),
        ),
        (
            "mitre_attack_technique",
            rule.techniques
                .as_ref()
                .and_then(|t| joined(t.iter().map(|t| t.id.as_ref().map_or(t.written.as_str(), |id| id.as_str())).collect())),
        ),
        ("reference", joined(rule.references.iter().map(|r| r.value.as_str()).collect())),
        // What a page published beside the rule.
        ("note", rule.note.as_ref().map(|n| n.value.clone())),
        ("retrieved", rule.retrieved.as_ref().map(|r| r.value.clone())),
        ("confidence", rule.confidence.as_ref().map(|c| c.value.clone())),
        ("source", Some(format!("{} (converted by ruleconv)", if rule.sigma.is_some() { "Sigma" } else { "Microsoft Sentinel" }))),
    ]
    .into_iter()
    .filter_map(|(key, value)| value.map(|v| (key, v)))
    .collect()
}

#[cfg(test)]
mod tests;
