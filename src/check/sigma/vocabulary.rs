//! A Sigma rule's metadata values against the Sigma specification's vocabularies (Sigma rules
//! specification: `status`, `id`, `date`/`modified`, `related`, `title`). A value outside a
//! vocabulary the specification fixes, which pySigma refuses to load the rule for, is an error;
//! what the specification only recommends (an `id` that is a UUID, dates written `YYYY-MM-DD`
//! rather than pySigma's `YYYY/MM/DD`) is a warning, as is a missing `id`. `level` is the
//! reader's.

use crate::diag::{Code, Kind, Problem};
use crate::ir::Rule;
use crate::sigma::scalar_text;
use crate::yaml::{Node, Value};

const STATUSES: [&str; 5] = ["stable", "test", "experimental", "deprecated", "unsupported"];
const RELATION_TYPES: [&str; 5] = ["derived", "obsolete", "merged", "renamed", "similar"];
/// pySigma refuses a longer title.
const MAX_TITLE: usize = 256;

pub fn problems(rule: &Rule, node: &Node) -> Vec<Problem> {
    let error = |at: &Node, message: String| Problem::about(Kind::Error, Code::InvalidValue, rule, at.position, message);
    let warning = |at: &Node, message: String| Problem::about(Kind::Warning, Code::InvalidValue, rule, at.position, message);
    let mut out = Vec::new();
    let text = |key: &str| node.get(key).and_then(|n| Some((n, scalar_text(n)?)));
    if let Some((at, status)) = text("status")
        && !STATUSES.iter().any(|s| s.eq_ignore_ascii_case(&status))
    {
        out.push(error(at, format!("`status: {status}` is not a Sigma status ({})", STATUSES.join(", "))));
    }
    match text("id") {
        Some((at, id)) if !is_uuid(&id) => {
            out.push(warning(at, format!("`id: {id}` is not a UUID, as the Sigma specification recommends")))
        }
        Some(_) => {}
        None => out.push(Problem::about(
            Kind::Warning,
            Code::MissingKey,
            rule,
            rule.origin.position,
            "the rule has no `id`: Sigma identifies rules by a UUID",
        )),
    }
    for key in ["date", "modified"] {
        let Some((at, date)) = text(key) else { continue };
        match date_form(&date) {
            DateForm::Specified => {}
            DateForm::Slashed => out.push(warning(at, format!("`{key}: {date}`: the Sigma specification writes dates YYYY-MM-DD"))),
            DateForm::Invalid => out.push(error(at, format!("`{key}: {date}` is not a date (YYYY-MM-DD)"))),
        }
    }
    if let Some(related) = node.get("related") {
        out.extend(
            relations(related)
                .into_iter()
                .map(|(kind, at, message)| if kind == Kind::Error { error(at, message) } else { warning(at, message) }),
        );
    }
    if let Some((at, title)) = text("title")
        && title.chars().count() > MAX_TITLE
    {
        out.push(error(at, format!("the title has {} characters; Sigma tools allow {MAX_TITLE}", title.chars().count())));
    }
    out
}

/// What is wrong in `related`: a list of `{id, type: one of RELATION_TYPES}`, the id a UUID
/// (recommended: a warning).
fn relations(related: &Node) -> Vec<(Kind, &Node, String)> {
    let Value::Seq(items) = &related.value else {
        return vec![(Kind::Error, related, "`related` must be a list of `id` and `type`".into())];
    };
    let mut out = Vec::new();
    for item in items {
        match item.get("id").and_then(scalar_text) {
            Some(id) if is_uuid(&id) => {}
            Some(id) => out.push((Kind::Warning, item.get("id").unwrap_or(item), format!("related `id: {id}` is not a UUID"))),
            None => out.push((Kind::Error, item, "a related rule needs an `id`".into())),
        }
        match item.get("type").and_then(scalar_text) {
            Some(kind) if RELATION_TYPES.contains(&kind.as_str()) => {}
            Some(kind) => out.push((
                Kind::Error,
                item.get("type").unwrap_or(item),
                format!("related `type: {kind}` is not a Sigma relation ({})", RELATION_TYPES.join(", ")),
            )),
            None => out.push((Kind::Error, item, "a related rule needs a `type`".into())),
        }
    }
    out
}

/// `8-4-4-4-12` hexadecimal digits, or the 32 digits alone (as pySigma reads them).
fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    let hex = |g: &str| g.bytes().all(|b| b.is_ascii_hexdigit());
    let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    groups.iter().all(|g| hex(g)) && (lengths == [8, 4, 4, 4, 12] || lengths == [32])
}

enum DateForm {
    Specified,
    /// `YYYY/MM/DD` (one-digit month and day too): read by pySigma, not the specification's.
    Slashed,
    Invalid,
}

fn date_form(text: &str) -> DateForm {
    let parts = |separator: char| -> Option<(u32, u32, u32, [usize; 3])> {
        let fields: Vec<&str> = text.split(separator).collect();
        let [y, m, d] = fields.as_slice() else { return None };
        let number = |f: &str| f.bytes().all(|b| b.is_ascii_digit()).then(|| f.parse().ok()).flatten();
        Some((number(y)?, number(m)?, number(d)?, [y.len(), m.len(), d.len()]))
    };
    let real =
        |(y, m, d, _): (u32, u32, u32, [usize; 3])| (1000..=3999).contains(&y) && (1..=12).contains(&m) && (1..=days_in(y, m)).contains(&d);
    match (parts('-'), parts('/')) {
        (Some(p), _) if p.3 == [4, 2, 2] && real(p) => DateForm::Specified,
        (_, Some(p)) if p.3[0] == 4 && p.3[1] <= 2 && p.3[2] <= 2 && real(p) => DateForm::Slashed,
        _ => DateForm::Invalid,
    }
}

fn days_in(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_uuids() {
        assert!(matches!(date_form("2024-02-29"), DateForm::Specified));
        assert!(matches!(date_form("2024/2/9"), DateForm::Slashed));
        for bad in ["2023-02-29", "2024-13-01", "24-01-01", "2024-1-01", "yesterday", "2024/02/30"] {
            assert!(matches!(date_form(bad), DateForm::Invalid), "{bad}");
        }
        assert!(is_uuid("5f1e8b72-3c4d-4a5e-9f60-718293a4b5c6") && is_uuid("5F1E8B723C4D4A5E9F60718293A4B5C6"));
        assert!(!is_uuid("5f1e8b72-3c4d-4a5e-9f60") && !is_uuid("rule-1") && !is_uuid("5g1e8b72-3c4d-4a5e-9f60-718293a4b5c6"));
    }
}
