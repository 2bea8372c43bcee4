//! The problems of a `convert` or `sync` run, for a person: a summary that groups them by code,
//! with counts and examples, on one screen; and, for the kinds `--show` asks for, every
//! problem's line in the summary's order (kind by kind, code by code as the summary lists them,
//! each code's lines in input order), so the lines read as the summary's detail.

use crate::diag::{self, Code, Kind, Problem};
use std::collections::{HashSet, hash_map::HashMap};
use std::path::Path;

/// The lines a default summary may take, with the totals and the skipped files, on a terminal
/// of the usual height.
pub const SCREEN: usize = 40;

/// The examples a code's heading may show: one or two rules.
const EXAMPLES: usize = 2;

/// The most characters of an example's message: the line stays one terminal line or so.
const EXAMPLE_MESSAGE: usize = 100;

/// The kinds in the order the summary lists them: what stops a rule first, what is only a
/// respelling last.
const KINDS: [Kind; 4] = [Kind::Error, Kind::Loss, Kind::Warning, Kind::Change];

/// What `--show` prints per rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Show {
    Errors,
    Losses,
    Warnings,
    Changes,
    All,
}

impl Show {
    fn covers(self, kind: Kind) -> bool {
        match self {
            Show::Errors => kind == Kind::Error,
            Show::Losses => kind == Kind::Loss,
            Show::Warnings => kind == Kind::Warning,
            Show::Changes => kind == Kind::Change,
            Show::All => true,
        }
    }

    /// The `--show` value that prints the lines of `kind`.
    fn of(kind: Kind) -> &'static str {
        match kind {
            Kind::Error => "errors",
            Kind::Loss => "losses",
            Kind::Warning => "warnings",
            Kind::Change => "changes",
        }
    }
}

/// The problems of one kind and code, each once, in input order.
struct Group<'a> {
    kind: Kind,
    code: Code,
    problems: Vec<&'a Problem>,
    /// How many rules (or whole files) have one.
    rules: usize,
    /// The first problem of each of the first rules: the heading's examples.
    examples: Vec<&'a Problem>,
}

/// The problems of a run, grouped in the summary's order.
pub struct Grouped<'a> {
    groups: Vec<Group<'a>>,
}

impl<'a> Grouped<'a> {
    /// Groups `problems`, given in input order; a problem met twice (a reading problem is in
    /// every target's record) is one problem.
    pub fn new(problems: impl IntoIterator<Item = &'a Problem>) -> Self {
        let mut printed = HashSet::new();
        let mut at: HashMap<(&str, Code), usize> = HashMap::new();
        let mut groups: Vec<Group> = Vec::new();
        let mut rules: Vec<HashSet<(&Path, Option<usize>)>> = Vec::new();
        for problem in problems {
            if !printed.insert(problem.to_string()) {
                continue;
            }
            let index = *at.entry((problem.kind.name(), problem.code)).or_insert_with(|| {
                groups.push(Group { kind: problem.kind, code: problem.code, problems: Vec::new(), rules: 0, examples: Vec::new() });
                rules.push(HashSet::new());
                groups.len() - 1
            });
            let group = &mut groups[index];
            group.problems.push(problem);
            if rules[index].insert((problem.file.as_path(), problem.rule_index())) {
                group.rules += 1;
                if group.examples.len() < EXAMPLES {
                    group.examples.push(problem);
                }
            }
        }
        // Stable: codes with as many rules keep the order of `Code::ALL`.
        groups.sort_by_key(|g| g.code);
        groups.sort_by_key(|g| (KINDS.iter().position(|k| *k == g.kind), std::cmp::Reverse(g.rules)));
        Grouped { groups }
    }

    /// Every problem's line of the kinds `show` names, in the summary's order.
    pub fn lines(&self, show: &[Show]) -> Vec<String> {
        let shown = self.groups.iter().filter(|g| show.iter().any(|s| s.covers(g.kind)));
        shown.flat_map(|g| &g.problems).map(|p| p.to_string()).collect()
    }

    /// The summary's lines in at most `budget` lines (fewer when `examples` is false): a
    /// heading per code, errors always all of them; a kind whose codes do not fit is one line
    /// that still counts each code; then examples, the first of every code before any second.
    pub fn summary(&self, budget: usize, examples: bool, show: &[Show]) -> Vec<String> {
        let kinds: Vec<Kind> = KINDS.into_iter().filter(|k| self.of_kind(*k).next().is_some()).collect();
        let (listed, used) = self.listed_kinds(&kinds, budget);
        let shown_examples = if examples { self.examples_shown(&listed, budget.saturating_sub(used)) } else { vec![0; self.groups.len()] };
        let mut lines = Vec::new();
        for kind in kinds {
            if !listed.contains(&kind) {
                lines.push(collapsed(kind, self.of_kind(kind)));
                continue;
            }
            for (g, group) in self.groups.iter().enumerate().filter(|(_, g)| g.kind == kind) {
                lines.push(format!("{}[{}] in {} rule(s): {}", kind.name(), group.code, group.rules, group.code.about()));
                lines.extend(group.examples[..shown_examples[g]].iter().map(|p| example(p)));
            }
        }
        if examples && let Some(hint) = self.hint(show) {
            lines.push(hint);
        }
        lines
    }

    /// The groups of one kind, in the summary's order.
    fn of_kind(&self, kind: Kind) -> impl Iterator<Item = &Group<'a>> {
        self.groups.iter().filter(move |g| g.kind == kind)
    }

    /// The kinds whose codes get a heading each within `budget` lines (errors always), and the
    /// lines the headings and the other kinds' collapsed lines take.
    fn listed_kinds(&self, kinds: &[Kind], budget: usize) -> (Vec<Kind>, usize) {
        let mut listed = vec![Kind::Error];
        let mut used = self.of_kind(Kind::Error).count();
        for (at, kind) in kinds.iter().enumerate().filter(|(_, k)| **k != Kind::Error) {
            let headings = self.of_kind(*kind).count();
            // Each kind after this one needs its collapsed line at least.
            let later = kinds.len() - at - 1;
            if used + headings + later <= budget {
                listed.push(*kind);
                used += headings;
            } else {
                used += 1;
            }
        }
        (listed, used)
    }

    /// How many examples each group shows in `room` lines: the first of every listed code
    /// before any second.
    fn examples_shown(&self, listed: &[Kind], mut room: usize) -> Vec<usize> {
        let mut shown = vec![0; self.groups.len()];
        for round in 0..EXAMPLES {
            for (g, group) in self.groups.iter().enumerate().filter(|(_, g)| listed.contains(&g.kind)) {
                if room > 0 && group.examples.len() > round {
                    shown[g] += 1;
                    room -= 1;
                }
            }
        }
        shown
    }

    /// How to see the lines the summary leaves out, naming the kinds that have some.
    fn hint(&self, show: &[Show]) -> Option<String> {
        let hidden: Vec<(Kind, usize)> = KINDS
            .into_iter()
            .filter(|k| !show.iter().any(|s| s.covers(*k)))
            .map(|k| (k, self.groups.iter().filter(|g| g.kind == k).map(|g| g.problems.len()).sum()))
            .filter(|(_, count)| *count > 0)
            .collect();
        if hidden.is_empty() {
            return None;
        }
        let counts: Vec<String> = hidden.iter().map(|(kind, count)| format!("{count} {}", kind.name())).collect();
        let values: Vec<&str> = hidden.iter().map(|(kind, _)| Show::of(*kind)).collect();
        Some(format!("ruleconv: every line ({}): --show {} (or --show all)", counts.join(", "), values.join(",")))
    }
}

/// A kind's codes on one line: `change: 7069 problem(s) of 2 code(s): default-added in 2359 rule(s), respelled in 40 rule(s)`.
fn collapsed<'a>(kind: Kind, groups: impl Iterator<Item = &'a Group<'a>>) -> String {
    let groups: Vec<&Group> = groups.collect();
    let problems: usize = groups.iter().map(|g| g.problems.len()).sum();
    let codes: Vec<String> = groups.iter().map(|g| format!("{} in {} rule(s)", g.code, g.rules)).collect();
    format!("{}: {problems} problem(s) of {} code(s): {}", kind.name(), groups.len(), codes.join(", "))
}

/// An example under its code's heading: where, and the start of what.
fn example(problem: &Problem) -> String {
    let file = problem.file.display().to_string();
    let message = diag::printable(&problem.message);
    let mut short: String = message.chars().take(EXAMPLE_MESSAGE).collect();
    if short.len() < message.len() {
        // Cut at a word, where one is near enough.
        let word = short.rfind(' ').filter(|at| *at > short.len() / 2).unwrap_or(short.len());
        short.truncate(word);
        short.push_str(" …");
    }
    format!("    {}:{}:{}: {short}", diag::printable(&file), problem.position.line, problem.position.col)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Position;

    fn problem(kind: Kind, code: Code, file: &str, message: &str) -> Problem {
        Problem::new(kind, code, file, Position::new(1, 1), message).for_rule(0, None)
    }

    fn pack() -> Vec<Problem> {
        vec![
            problem(Kind::Change, Code::DefaultAdded, "a.yml", "schedule"),
            problem(Kind::Loss, Code::NullSemantics, "a.yml", "nulls"),
            problem(Kind::Error, Code::UnknownSource, "b.yml", "no table"),
            problem(Kind::Change, Code::DefaultAdded, "b.yml", "schedule"),
            problem(Kind::Error, Code::NoDetection, "c.yml", "nothing"),
            problem(Kind::Error, Code::UnknownSource, "d.yml", "no table"),
            problem(Kind::Error, Code::UnknownSource, "d.yml", "no table"),
        ]
    }

    #[test]
    fn codes_group_errors_first_most_rules_first_each_problem_once() {
        let problems = pack();
        let grouped = Grouped::new(&problems);
        let order: Vec<(Kind, Code, usize, usize)> = grouped.groups.iter().map(|g| (g.kind, g.code, g.rules, g.problems.len())).collect();
        assert_eq!(
            order,
            [
                (Kind::Error, Code::UnknownSource, 2, 2),
                (Kind::Error, Code::NoDetection, 1, 1),
                (Kind::Loss, Code::NullSemantics, 1, 1),
                (Kind::Change, Code::DefaultAdded, 2, 2)
            ]
        );
        let lines = grouped.lines(&[Show::Errors, Show::Changes]);
        assert_eq!(lines.iter().map(|l| &l[..5]).collect::<Vec<_>>(), ["b.yml", "d.yml", "c.yml", "a.yml", "b.yml"]);
    }

    #[test]
    fn a_small_screen_keeps_every_error_code_and_collapses_the_rest() {
        let problems = pack();
        let grouped = Grouped::new(&problems);
        let full = grouped.summary(SCREEN, true, &[]);
        assert_eq!(full.iter().filter(|l| !l.starts_with(' ')).count(), 5, "four headings and the hint: {full:#?}");
        assert_eq!(full.iter().filter(|l| l.starts_with("    ")).count(), 6, "two examples of two codes, one of two: {full:#?}");
        let tight = grouped.summary(3, true, &[]);
        assert_eq!(tight[..2].iter().map(|l| &l[..20]).collect::<Vec<_>>(), ["error[unknown-source", "error[no-detection] "]);
        assert!(
            tight[2] == "loss: 1 problem(s) of 1 code(s): null-semantics in 1 rule(s)"
                && tight[3] == "change: 2 problem(s) of 1 code(s): default-added in 2 rule(s)",
            "{tight:#?}"
        );
        let quiet = grouped.summary(SCREEN, false, &[]);
        assert_eq!(quiet.len(), 4, "headings only: {quiet:#?}");
        let hint = grouped.summary(SCREEN, true, &[Show::Losses, Show::Changes]).pop().unwrap();
        assert_eq!(hint, "ruleconv: every line (3 error): --show errors (or --show all)");
    }
}
