//! Two axes of one emitted rule: its `Verdict` (fidelity: how faithfully it says what its source
//! said) and its `Evidence` (how we know).
//!
//! The verdict is judged from the problems of the conversion (`conversion_problems`: those found
//! reading the rule, then the emitter's): a `loss` makes it approximate, an error (the rule could
//! not be emitted) makes it unsupported. Emitters report every loss at the construct it is about,
//! and the output's header and the run's record list the same problems, so the verdict and its
//! reasons always agree. The evidence is what the emitter could check of its output; unchecked
//! output is `unverified` whatever its verdict, so the verdict never stands in for a proof it
//! does not have.

use super::Subject;
use crate::diag::{Code, Kind, Problem};
use crate::ir::Rule;
use crate::ir::detection::{Field, Predicate, Span, Stage, Value};
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Everything the rule means is in the output.
    Exact,
    /// The output is the rule minus the listed losses.
    Approximate,
    /// No output: the target cannot express the rule.
    Unsupported,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Exact => "exact",
            Verdict::Approximate => "approximate",
            Verdict::Unsupported => "unsupported",
        }
    }

    /// The verdict for an emitted rule with these problems.
    pub fn of_emitted(problems: &[Problem]) -> Verdict {
        if problems.iter().any(|p| p.kind == Kind::Loss) { Verdict::Approximate } else { Verdict::Exact }
    }
}

/// How we know an emitted rule means what its verdict says, weakest first: a document of
/// several rules has the weakest evidence of its rules (`Ord`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Evidence {
    /// Nothing outside ruleconv has looked at the output.
    #[default]
    Unverified,
    /// Every field and value the output names was checked against the target's schema.
    SchemaChecked,
    /// The output was run in an independent engine of the target and agreed with its source.
    Executed,
}

impl Evidence {
    pub fn name(self) -> &'static str {
        match self {
            Evidence::Unverified => "unverified",
            Evidence::SchemaChecked => "schema-checked",
            Evidence::Executed => "executed",
        }
    }
}

/// A loss at a place in the rule's logic text (the file position comes through its locator),
/// quoting the text there.
pub fn loss_at(subject: &Subject, code: Code, span: Span, message: impl Into<String>) -> Problem {
    let source = subject.rule.logic.as_ref().and_then(|logic| logic.text().get(span.start..span.end)).unwrap_or_default();
    Problem::in_logic(Kind::Loss, code, subject.rule, span.start, message).quoting(source)
}

/// The notes a page gave beside a rule (hypothesis, retrieval date, confidence) that a target
/// has no field for: one loss each, at the page line it was read from, saying where the
/// output still keeps them (`kept`).
pub fn unplaced_page_notes(rule: &Rule, target: &str, kept: &str) -> Vec<Problem> {
    [("note", &rule.note), ("retrieved", &rule.retrieved), ("confidence", &rule.confidence)]
        .into_iter()
        .filter_map(|(key, fact)| {
            let fact = fact.as_ref()?;
            Some(Problem::at_key(
                Kind::Loss,
                Code::KeptAsData,
                rule,
                key,
                format!("{target} has no field for the page's `{}`; {kept}", fact.from),
            ))
        })
        .collect()
}

/// One loss for every construct lowering could not model: a target that translates the
/// Detection cannot carry what the Detection does not hold. Every Detection-based target
/// reports these, so no rule is `exact` while something of its query was not understood.
pub fn unmodelled_losses(subject: &Subject) -> Vec<Problem> {
    let unmodelled = &subject.detection.unmodelled;
    unmodelled
        .iter()
        .map(|u| loss_at(subject, Code::Unmodelled, u.span, format!("`{}` is not translated: {}", u.construct, u.reason)))
        .collect()
}

/// One error for every regex test of the rule that an automaton engine refuses (what only a
/// backtracking engine runs, or no regular expression at all), for a target whose engine is
/// RE2 (`engine` names it): a deployed rule whose regex the engine refuses fails at run time
/// or never matches, so the rule is not written at all.
pub fn refused_regex_errors(subject: &Subject, engine: &str) -> Vec<Problem> {
    let found = crate::re2::refused_regexes(subject.detection);
    found
        .into_iter()
        .map(|r| Problem::in_logic(Kind::Error, Code::Re2Refused, subject.rule, r.span.start, format!("{}: {engine} refuses it", r.what)))
        .collect()
}

/// One loss for every use of a column the query computes with an expression (a condition,
/// a join or group-by key, an aggregated field): the Detection holds the expression (the
/// evaluator computes it), but a target that reads event fields cannot, so that use is not
/// translated as written.
pub fn computed_column_losses(subject: &Subject) -> Vec<Problem> {
    let detection = subject.detection;
    let mut uses: Vec<(&Field, Span, &str)> = Vec::new();
    for m in detection.predicates().into_iter().flat_map(Predicate::matches) {
        uses.push((&m.field, m.span, "a condition on it"));
        uses.extend(m.values.iter().filter_map(|v| if let Value::Field(f) = v { Some((f, m.span, "a condition on it")) } else { None }));
    }
    for stage in &detection.stages {
        match stage {
            Stage::Join(join) => {
                uses.extend(join.keys.iter().flat_map(|k| [(&k.left, join.span, "a join on it"), (&k.right, join.span, "a join on it")]))
            }
            Stage::Aggregate(aggregate) => {
                uses.extend(aggregate.group_by.iter().map(|k| (&k.field, aggregate.span, "grouping by it")));
                uses.extend(aggregate.aggregations.iter().filter_map(|a| a.field.as_ref().map(|f| (f, a.span, "aggregating it"))));
            }
            Stage::Union { .. } | Stage::Filter { .. } | Stage::Extend { .. } => {}
        }
    }
    let mut losses: Vec<Problem> = Vec::new();
    for (field, span, what) in uses {
        if let Some(computed) = detection.computed_column(&field.name) {
            let message = format!("`{}` is computed (`{}`); {what} is not translated", computed.name, computed.expression);
            let loss = loss_at(subject, Code::ComputedColumn, span, message);
            if !losses.contains(&loss) {
                losses.push(loss);
            }
        }
    }
    losses
}

/// The problems of converting one rule to one target: those found while reading it (a loss
/// there is as much a loss of the output), then those of its emitter. The run's record and the
/// output file's header both list these, so the two never disagree.
pub fn conversion_problems(read: &[Problem], emitted: impl IntoIterator<Item = Problem>) -> Vec<Problem> {
    read.iter().cloned().chain(emitted).collect()
}

/// A loss as an output file shows it: the message, and the construct it is about quoted (not
/// its line and column, which an edit anywhere above would change in every output).
pub fn loss_text(loss: &Problem) -> String {
    match &loss.construct {
        Some(construct) => format!("{} (at `{construct}`)", loss.message),
        None => loss.message.clone(),
    }
}

/// The review header of the rule of `subject` emitted with the emitter's `problems`, as plain
/// lines for the target's comment syntax: the verdict, the evidence, then each loss of the
/// conversion (see `conversion_problems`) as `loss_text` shows it.
pub fn header_lines(subject: &Subject, problems: &[Problem], evidence: Evidence) -> Vec<String> {
    let problems = conversion_problems(subject.read, problems.iter().cloned());
    let verdict = Verdict::of_emitted(&problems);
    let mut lines = vec![format!("ruleconv fidelity: {}", verdict.name()), format!("ruleconv evidence: {}", evidence.name())];
    for loss in problems.iter().filter(|p| p.kind == Kind::Loss) {
        // Shown escaped like every message, on one line: whoever reads the output file may `cat`
        // it, and a line break would end the comment.
        lines.push(format!("  loss: {}", crate::diag::printable(&loss_text(loss))));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Position;

    #[test]
    fn a_loss_makes_a_rule_approximate_and_a_change_does_not() {
        let change = Problem::new(Kind::Change, Code::Respelled, "r.yaml", Position::new(1, 1), "respelled");
        let loss = Problem::new(Kind::Loss, Code::NotCarried, "r.yaml", Position::new(2, 1), "dropped");
        assert_eq!(Verdict::of_emitted(std::slice::from_ref(&change)), Verdict::Exact);
        assert_eq!(Verdict::of_emitted(&[change, loss]), Verdict::Approximate);
    }

    #[test]
    fn header_lines_show_controls_from_rule_text_escaped() {
        let loss = Problem::new(Kind::Loss, Code::NotCarried, "r.yaml", Position::new(2, 3), "`a\x1b[2J\u{202e}` dropped")
            .quoting("x\u{2028}y\rz");
        let (rule, detection) = (Rule::default(), crate::ir::Detection::default());
        assert_eq!(
            header_lines(&Subject::new(&rule, &detection), &[loss], Evidence::SchemaChecked),
            [
                "ruleconv fidelity: approximate",
                "ruleconv evidence: schema-checked",
                r"  loss: `a\x1b[2J\u{202e}` dropped (at `x\u{2028}y\rz`)"
            ]
        );
    }

    #[test]
    fn header_lines_list_the_losses_found_reading_the_rule_first() {
        let (rule, detection) = (Rule::default(), crate::ir::Detection::default());
        let read = [Problem::new(Kind::Loss, Code::NotCarried, "r.json", Position::new(9, 1), "metadata dropped")];
        let emitted = [Problem::new(Kind::Loss, Code::Unmodelled, "r.json", Position::new(3, 1), "`take`").quoting("take 5")];
        let lines = header_lines(&Subject { rule: &rule, detection: &detection, read: &read }, &emitted, Evidence::Unverified);
        assert_eq!(lines[0], "ruleconv fidelity: approximate");
        assert_eq!(lines[2..], ["  loss: metadata dropped", "  loss: `take` (at `take 5`)"]);
        let only_read = header_lines(&Subject { rule: &rule, detection: &detection, read: &read }, &[], Evidence::Unverified);
        assert_eq!(only_read[0], "ruleconv fidelity: approximate");
    }
}
