//! A rule-level review as text for a terminal, or as markdown to post on a pull request.

use super::{Change, RuleReview, TargetReview};
use crate::emit::Verdict;
use std::fmt::Write;

/// `2 changed, 1 added, 0 removed, 12 unchanged`.
fn counts(reviews: &[RuleReview]) -> String {
    let count = |change: Change| reviews.iter().filter(|r| r.change == change).count();
    format!(
        "{} changed, {} added, {} removed, {} unchanged",
        count(Change::Changed),
        count(Change::Added),
        count(Change::Removed),
        count(Change::Unchanged)
    )
}

fn verdict(v: Option<Verdict>) -> &'static str {
    v.map_or("none", Verdict::name)
}

/// `exact`, or `exact → approximate` when it moved.
fn verdict_change(t: &TargetReview) -> String {
    if t.old == t.new { verdict(t.new).to_string() } else { format!("{} → {}", verdict(t.old), verdict(t.new)) }
}

/// For a terminal: the counts, then each rule that is not unchanged.
pub fn text(reviews: &[RuleReview]) -> String {
    let mut out = format!("{}\n", counts(reviews));
    for review in reviews.iter().filter(|r| r.change != Change::Unchanged) {
        let _ = writeln!(out, "\n{:<9} {} [{}] ({})", review.change.name(), review.title, review.key, review.file);
        if !review.fields.is_empty() {
            let _ = writeln!(out, "  fields: {}", review.fields.join(", "));
        }
        for target in &review.targets {
            let _ = writeln!(out, "  {}: {}", target.target, verdict_change(target));
            for (sign, problems) in [('+', &target.added), ('-', &target.removed)] {
                for problem in problems {
                    let _ = writeln!(out, "    {sign} {problem}");
                }
            }
        }
        let diffs = std::iter::once(("source", &review.source_diff)).chain(review.targets.iter().map(|t| (t.target, &t.text_diff)));
        for (name, diff) in diffs.filter(|(_, d)| !d.is_empty()) {
            let _ = writeln!(out, "  --- {name}");
            for line in diff.lines() {
                let _ = writeln!(out, "  {line}");
            }
        }
    }
    out
}

/// For a pull-request comment: the counts, a table of the rules that moved, then each rule's
/// losses and diffs in a collapsed section.
pub fn markdown(reviews: &[RuleReview]) -> String {
    let moved: Vec<&RuleReview> = reviews.iter().filter(|r| r.change != Change::Unchanged).collect();
    let mut out = format!("### ruleconv review: {}\n", counts(reviews));
    if moved.is_empty() {
        return out;
    }
    let targets: Vec<&str> = moved[0].targets.iter().map(|t| t.target).collect();
    let _ = writeln!(out, "\n| rule | change | fields |{}", targets.iter().map(|t| format!(" {t} |")).collect::<String>());
    let _ = writeln!(out, "|---|---|---|{}", "---|".repeat(targets.len()));
    for review in &moved {
        let fields: Vec<String> = review.fields.iter().map(|f| format!("`{}`", cell(f))).collect();
        let verdicts: String = review.targets.iter().map(|t| format!(" {} |", target_cell(t))).collect();
        let _ = writeln!(out, "| {} | {} | {} |{verdicts}", cell(&review.title), review.change.name(), fields.join(", "));
    }
    for review in &moved {
        let _ = writeln!(out, "\n<details><summary>{} {}</summary>\n", review.change.name(), html(&review.title));
        let _ = writeln!(out, "`{}` in `{}`\n", cell(&review.key), cell(&review.file));
        for target in review.targets.iter().filter(|t| !t.added.is_empty() || !t.removed.is_empty()) {
            let _ = writeln!(out, "**{}**:\n", target.target);
            for (sign, problems) in [("added", &target.added), ("removed", &target.removed)] {
                for problem in problems {
                    let _ = writeln!(out, "- {sign}: {}", cell(problem));
                }
            }
            out.push('\n');
        }
        let diffs = std::iter::once(("source", &review.source_diff)).chain(review.targets.iter().map(|t| (t.target, &t.text_diff)));
        for (name, diff) in diffs.filter(|(_, d)| !d.is_empty()) {
            let fence = "`".repeat(diff.split(|c| c != '`').map(str::len).max().unwrap_or(0).max(2) + 1);
            let _ = writeln!(out, "{name}:\n\n{fence}diff\n{}{fence}\n", diff);
        }
        out.push_str("</details>\n");
    }
    out
}

/// A verdict cell: `exact`, or `exact → approximate (+1 −0)` with the losses added and removed.
fn target_cell(t: &TargetReview) -> String {
    let mut cell = verdict_change(t);
    if !t.added.is_empty() || !t.removed.is_empty() {
        let _ = write!(cell, " (+{} −{})", t.added.len(), t.removed.len());
    }
    cell
}

/// Rule text in a table cell: no line breaks, pipes and backticks escaped, no raw HTML.
fn cell(text: &str) -> String {
    html(text).replace('|', "\\|").replace('`', "'").replace(['\n', '\r'], " ")
}

fn html(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn review(change: Change, title: &str) -> RuleReview {
        RuleReview {
            title: title.into(),
            key: "k".into(),
            file: "rules/a.yml".into(),
            change,
            fields: vec!["level".into()],
            source_diff: "-level: low\n+level: high\n".into(),
            targets: vec![TargetReview {
                target: "kql",
                old: Some(Verdict::Exact),
                new: Some(Verdict::Approximate),
                added: vec!["loss unknown-field: `X` has no column".into()],
                removed: vec![],
                text_diff: String::new(),
            }],
        }
    }

    #[test]
    fn text_lists_moved_rules_with_verdicts_losses_and_diffs() {
        let text = text(&[review(Change::Changed, "A"), review(Change::Unchanged, "B")]);
        assert!(text.starts_with("1 changed, 0 added, 0 removed, 1 unchanged\n"), "{text}");
        assert!(
            text.contains("changed   A [k] (rules/a.yml)\n  fields: level\n  kql: exact → approximate\n    + loss unknown-field"),
            "{text}"
        );
        assert!(text.contains("  --- source\n  -level: low\n  +level: high\n"), "{text}");
        assert!(!text.contains(" B "), "unchanged rules are only counted: {text}");
    }

    #[test]
    fn markdown_is_a_table_and_collapsed_details_with_rule_text_escaped() {
        let md = markdown(&[review(Change::Changed, "A | <b>B</b>")]);
        assert!(md.contains("| rule | change | fields | kql |\n|---|---|---|---|\n"), "{md}");
        assert!(md.contains("| A \\| &lt;b&gt;B&lt;/b&gt; | changed | `level` | exact → approximate (+1 −0) |"), "{md}");
        assert!(md.contains("<details><summary>changed A | &lt;b&gt;B&lt;/b&gt;</summary>"), "{md}");
        assert!(md.contains("```diff\n-level: low\n+level: high\n```"), "{md}");
        assert_eq!(markdown(&[]), "### ruleconv review: 0 changed, 0 added, 0 removed, 0 unchanged\n");
    }
}
