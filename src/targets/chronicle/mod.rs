//! `--to chronicle`: Google SecOps (Chronicle) YARA-L 2.0 rules.
//!
//! The rule text is written by a small writer in Rust rather than a template: every piece of
//! it (string and regex literals, names, conditions) needs escaping of its own, which typed
//! functions make exact and testable, while a template engine's escaping is HTML's.
//!
//! Tables and columns, or a Sigma rule's logsource and fields, become UDM selectors and paths
//! through the `targets/chronicle.yaml` profile. What needs a human (an unmapped table or field, a construct lowering did not
//! model, a test YARA-L cannot state) is a `// TODO:` line in the rule and a loss in the
//! report; every rule still gets its understood predicates, a non-empty `events` and a
//! `condition`. The fidelity header opens each rule as `//` comments.

mod correlate;
mod events;
mod notes;
mod predicate;
mod profile;
mod text;

use super::{
    EmitOptions, Emitted, Emitter, Subject, computed_column_losses, header_lines, join_documents, refused_regex_errors, unmodelled_losses,
    unverified,
};
use crate::diag::Problem;
use crate::ir::Rule;
use crate::ir::detection::Span;
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

    fn emit(&self, subjects: &[Subject], _options: &EmitOptions) -> Result<Emitted, Vec<Problem>> {
        join_documents(subjects, "\n", |subject| {
            // YARA-L's regexes are RE2: a rule the engine refuses must not be written as if it ran.
            let refused = refused_regex_errors(subject, "YARA-L's RE2 (`re.regex`)");
            if refused.is_empty() { Ok(rule(subject)) } else { Err(refused) }
        })
    }
}

fn rule(subject: &Subject) -> Emitted {
    let (detection, profile) = (subject.detection, profile::profile());
    let mut notes = Notes::new(subject);
    // What the Detection lacks, and computed columns (written as fields of that name): each is a
    // loss in the report and a TODO line in the rule.
    let mut problems = unmodelled_losses(subject);
    problems.extend(computed_column_losses(subject));
    let unmodelled: Vec<String> = problems.iter().map(|p| p.message.clone()).collect();
    let vars = events::variables(detection);
    let mut events: Vec<(String, Vec<String>)> =
        vars.iter().map(|v| (v.name.clone(), events::lines(detection, v, profile, &mut notes))).collect();
    let sections = correlate::sections(detection, &vars, profile, subject.rule, &mut notes);
    for (var, line) in sections.bindings {
        if let Some((_, lines)) = events.iter_mut().find(|(name, _)| *name == var) {
            lines.push(line);
        }
    }
    problems.extend(notes.problems);
    let what = "no engine here runs YARA-L, so the rule's meaning on UDM events (and the field mapping it rests on) is unproven";
    unverified(subject, &mut problems, Span::default(), what);
    let mut out = String::new();
    header_lines(&problems).iter().for_each(|line| out.push_str(&format!("// {}\n", text::comment_keeping_indent(line))));
    out.push_str(&format!("rule {} {{\n  meta:\n", text::snake_case(subject.rule.title(), "converted_rule")));
    for (key, value) in meta(subject.rule) {
        out.push_str(&format!("    {key} = {}\n", text::string(&value)));
    }
    out.push_str("\n  events:\n");
    for todo in unmodelled.iter().chain(&notes.todos) {
        out.push_str(&format!("    // TODO: {}\n", text::comment(todo)));
    }
    for (_, lines) in &events {
        lines.iter().for_each(|line| out.push_str(&format!("    {line}\n")));
    }
    if let Some(line) = &sections.match_line {
        out.push_str(&format!("\n  match:\n    {line}\n"));
    }
    out.push_str("\n  outcome:\n");
    sections.outcome.iter().for_each(|line| out.push_str(&format!("    {line}\n")));
    out.push_str(&format!("\n  condition:\n    {}\n}}\n", sections.condition));
    Emitted { text: out, problems }
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
