//! `ruleconv diff EXPECTED ACTUAL [--stat]`: for folders a summary of the files that differ,
//! then each changed file's unified diff. `--rules`: a rule-level review of two versions of a
//! source pack (`review`).

use super::git_tree;
use super::stdout::Stdout;
use super::{EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE};
use crate::convert;
use crate::diff;
use crate::emit::{EmitOptions, Target};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

pub struct RuleReviewArgs<'a> {
    pub old: &'a str,
    pub new: &'a str,
    pub to: &'a [Target],
    pub markdown: bool,
    pub profile: Option<String>,
    /// Exit 1 only when a translation gains a loss or an error (`--fail-on losses`).
    pub fail_on_losses: bool,
}

/// `diff --rules`: both packs read, each rule converted to every `--to` target, the review
/// printed; exit 1 when a rule was added, removed or changed (with `fail_on_losses`: when a
/// translation gained a loss or an error).
pub fn run_rules(args: RuleReviewArgs) -> i32 {
    let options = EmitOptions { profile: args.profile, ..EmitOptions::default() };
    if let Err(message) = options.check_profile() {
        say!("ruleconv: {message}");
        return EXIT_USAGE;
    }
    let mut checkouts = Vec::new();
    let mut sides = Vec::new();
    for spec in [args.old, args.new] {
        let path = match git_tree::checkout(spec) {
            Some(Ok(checkout)) => {
                let path = checkout.path.clone();
                checkouts.push(checkout);
                path
            }
            Some(Err(message)) => {
                say!("ruleconv diff: {message}");
                return EXIT_USAGE;
            }
            None if Path::new(spec).exists() => PathBuf::from(spec),
            None => {
                say!("ruleconv diff: {spec}: no such file or folder (nor a git `REV:PATH`)");
                return EXIT_USAGE;
            }
        };
        sides.push(convert::read_all(&convert::expand_inputs(&[path]), None));
    }
    let reviews = crate::review::review(&sides[0], &sides[1], args.to, &options);
    let text = if args.markdown { crate::review::markdown(&reviews) } else { crate::review::text(&reviews) };
    let text = if args.markdown { text } else { crate::diag::printable_lines(&text) };
    let mut out = Stdout::lock();
    out.text(&text);
    if let Err(message) = out.finish() {
        say!("ruleconv diff: {message}");
        return EXIT_PROBLEMS;
    }
    let failed = if args.fail_on_losses {
        reviews.iter().any(crate::review::RuleReview::gains_losses)
    } else {
        reviews.iter().any(|r| r.change != crate::review::Change::Unchanged)
    };
    if failed { EXIT_PROBLEMS } else { EXIT_OK }
}

pub fn run(expected: &Path, actual: &Path, color: &str, stat: bool) -> i32 {
    for path in [expected, actual] {
        if !path.exists() {
            say!("ruleconv diff: {}: no such file or folder", path.display());
            return EXIT_USAGE;
        }
    }
    let report = match diff::diff_paths(expected, actual) {
        Ok(report) => report,
        Err(e) => {
            say!("ruleconv diff: {e}");
            return EXIT_USAGE;
        }
    };
    if report.is_empty() {
        return EXIT_OK;
    }
    let mut text = report.summary.map(|summary| summary.to_string()).unwrap_or_default();
    if !stat && !report.diffs.is_empty() {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&report.diffs);
    }
    let colored = color == "always" || (color == "auto" && std::io::stdout().is_terminal());
    // The outputs hold rule text: shown escaped, so only our colors reach the terminal.
    let text = crate::diag::printable_lines(&text);
    let text = if colored { diff::colorize(&text) } else { text };
    let mut out = Stdout::lock();
    out.text(&text);
    if let Err(message) = out.finish() {
        say!("ruleconv diff: {message}");
    }
    EXIT_PROBLEMS
}
