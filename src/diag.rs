//! Problems: everything found wrong, lost or changed in a rule, each pinned to a file, line and
//! column and to the rule's place in its file.
//!
//! One type serves every stage: readers (errors and warnings about the file), `check` (KQL
//! syntax errors, Sentinel limits) and emitters (losses and changes). A rule is named by its
//! index among the rules of its file, never by its name: two rules may share a name.

use crate::ir::{Query, Rule};
use serde::ser::{Serialize, SerializeStruct, Serializer};
use std::fmt;
use std::path::PathBuf;

/// A 1-based line and column (columns count characters, not bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Position {
    pub line: usize,
    pub col: usize,
}

impl Position {
    pub fn new(line: usize, col: usize) -> Self {
        Position { line, col }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// The rule cannot be read, checked or converted as it is.
    Error,
    /// The rule is read, but something in it deserves a look.
    Warning,
    /// Something the rule says that the output does not carry (or carries only as data).
    Loss,
    /// Something the output says differently from the rule (a respelling, a derived id).
    Change,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Error => "error",
            Kind::Warning => "warning",
            Kind::Loss => "loss",
            Kind::Change => "change",
        }
    }
}

/// Which rule of its file a problem belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleRef {
    /// The rule's index among the rules of its file (documents, resources, catalog entries).
    pub index: usize,
    /// The rule's name (else its id) when known; only for printing.
    pub label: Option<String>,
}

/// One problem with one rule (or with a whole file when `rule` is `None`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub kind: Kind,
    pub file: PathBuf,
    pub position: Position,
    pub rule: Option<RuleRef>,
    pub message: String,
}

impl Problem {
    pub fn new(kind: Kind, file: impl Into<PathBuf>, position: Position, message: impl Into<String>) -> Self {
        Problem { kind, file: file.into(), position, rule: None, message: message.into() }
    }

    pub fn error(file: impl Into<PathBuf>, position: Position, message: impl Into<String>) -> Self {
        Self::new(Kind::Error, file, position, message)
    }

    pub fn warning(file: impl Into<PathBuf>, position: Position, message: impl Into<String>) -> Self {
        Self::new(Kind::Warning, file, position, message)
    }

    /// Assigns the problem to the rule at `index` in its file.
    pub fn for_rule(mut self, index: usize, label: Option<String>) -> Self {
        self.rule = Some(RuleRef { index, label: label.filter(|l| !l.is_empty()) });
        self
    }

    /// A problem with a read rule, at `position` of its file.
    pub fn about(kind: Kind, rule: &Rule, position: Position, message: impl Into<String>) -> Self {
        Self::new(kind, &rule.origin.file, position, message).for_rule(rule.origin.index, Some(rule.label()))
    }

    /// A problem with a read rule, at the position of one of its keys (`tactics`), or at the
    /// rule's first line when the key's place is unknown.
    pub fn at_key(kind: Kind, rule: &Rule, key: &str, message: impl Into<String>) -> Self {
        Self::about(kind, rule, rule.origin.position_of(key), message)
    }

    /// A problem at byte `offset` of `query`'s text, placed in the rule file through the
    /// query's locator (a KQL syntax error, a construct lowering cannot model).
    pub fn in_query(kind: Kind, rule: &Rule, query: &Query, offset: usize, message: impl Into<String>) -> Self {
        Self::about(kind, rule, query.locator.position(&query.text, offset), message)
    }

    /// A problem at byte `offset` of the rule's logic text (KQL query or Sigma file), placed
    /// through its locator; at the rule's first line when it has no logic.
    pub fn in_logic(kind: Kind, rule: &Rule, offset: usize, message: impl Into<String>) -> Self {
        let position = rule.logic.as_ref().map_or(rule.origin.position, |logic| logic.position(offset));
        Self::about(kind, rule, position, message)
    }

    pub fn is_error(&self) -> bool {
        self.kind == Kind::Error
    }

    /// The message with what is particular to one rule left out (quoted names and values,
    /// numbers, places), so that problems of many rules group by their reason.
    pub fn reason(&self) -> String {
        reason_of(&self.message)
    }

    /// The index of the rule the problem belongs to, if any.
    pub fn rule_index(&self) -> Option<usize> {
        self.rule.as_ref().map(|r| r.index)
    }
}

/// How many rules have problems of one reason (see `Problem::reason`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ReasonCount {
    pub reason: String,
    pub rules: usize,
}

/// The `limit` most frequent reasons among the problems of each rule (a rule counts once per
/// reason), most rules first, then by reason: the same list whatever the order of the rules.
pub fn top_reasons<'a, R, P>(rules: R, limit: usize) -> Vec<ReasonCount>
where
    R: IntoIterator<Item = P>,
    P: IntoIterator<Item = &'a Problem>,
{
    let mut counts: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for problems in rules {
        let reasons: std::collections::BTreeSet<String> = problems.into_iter().map(Problem::reason).collect();
        reasons.into_iter().for_each(|reason| *counts.entry(reason).or_default() += 1);
    }
    let mut ranked: Vec<ReasonCount> = counts.into_iter().map(|(reason, rules)| ReasonCount { reason, rules }).collect();
    ranked.sort_by(|a, b| b.rules.cmp(&a.rules).then_with(|| a.reason.cmp(&b.reason)));
    ranked.truncate(limit);
    ranked
}

/// `message` with quoted spans (`…`, '…', "…") emptied, `file:line:col` places and digit runs
/// replaced: the part of a message that is the same for every rule it is about.
fn reason_of(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut chars = message.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '`' | '"' => {
                out.push(c);
                out.push('…');
                out.extend(chars.by_ref().find(|&n| n == c));
            }
            // An apostrophe inside a word (`Sentinel's`) is not a quote.
            '\'' if !out.ends_with(|p: char| p.is_alphanumeric()) => {
                out.push_str("'…");
                out.extend(chars.by_ref().find(|&n| n == '\''));
            }
            c if c.is_ascii_digit() => {
                while chars.next_if(|n| n.is_ascii_digit() || *n == '.').is_some() {}
                out.push('N');
            }
            c if c.is_whitespace() => out.push(c),
            _ => {
                // A place (`dir/rule.yaml:12:5`) is a word with a `:digit` inside it.
                let mut word = String::from(c);
                while let Some(n) = chars.next_if(|n| !n.is_whitespace() && !matches!(n, '`' | '"' | ',' | ';' | ')')) {
                    word.push(n);
                }
                let is_place = word.split(':').skip(1).any(|part| part.starts_with(|d: char| d.is_ascii_digit()));
                if is_place { out.push_str("<place>") } else { out.push_str(&reason_of_word(&word)) }
            }
        }
    }
    out
}

/// A word's numbers replaced by `N` (`T1078.004` → `TN`).
fn reason_of_word(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    let mut chars = word.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            while chars.next_if(|n| n.is_ascii_digit() || *n == '.').is_some() {}
            out.push('N');
        } else {
            out.push(c);
        }
    }
    out
}

/// The file line a position is on, and a caret under its column, for showing a problem in
/// context; `None` when the position lies outside the text.
pub fn excerpt(text: &str, position: Position) -> Option<String> {
    let line = text.lines().nth(position.line.checked_sub(1)?)?.trim_end_matches('\r');
    // Tabs stay tabs so the caret lines up under them.
    let pad: String = line.chars().take(position.col.saturating_sub(1)).map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
    Some(format!("{line}\n{pad}^"))
}

impl fmt::Display for Problem {
    /// `file:line:col: kind: rule 'name': message`, the form editors and CI logs link to.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}: ", self.file.display(), self.position.line, self.position.col, self.kind.name())?;
        if let Some(label) = self.rule.as_ref().and_then(|r| r.label.as_ref()) {
            write!(f, "rule '{label}': ")?;
        }
        f.write_str(&self.message)
    }
}

impl Serialize for Problem {
    /// `{"kind", "file", "line", "column", "rule", "message"}`; `rule` is the rule's index in
    /// its file (null for a problem with the whole file).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Problem", 6)?;
        s.serialize_field("kind", &self.kind)?;
        s.serialize_field("file", &self.file)?;
        s.serialize_field("line", &self.position.line)?;
        s.serialize_field("column", &self.position.col)?;
        s.serialize_field("rule", &self.rule_index())?;
        s.serialize_field("message", &self.message)?;
        s.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_puts_a_caret_under_the_column() {
        let text = "query: |\r\n  T\n  | where x == (\n";
        assert_eq!(excerpt(text, Position::new(3, 16)).as_deref(), Some("  | where x == (\n               ^"));
        assert_eq!(excerpt(text, Position::new(9, 1)), None);
    }

    #[test]
    fn prints_and_serializes_with_the_rule_index() {
        let p = Problem::warning("r.yaml", Position::new(3, 5), "odd").for_rule(1, Some("Same".into()));
        assert_eq!(p.to_string(), "r.yaml:3:5: warning: rule 'Same': odd");
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json, serde_json::json!({"kind": "warning", "file": "r.yaml", "line": 3, "column": 5, "rule": 1, "message": "odd"}));
        assert_eq!(Problem::error("r.yaml", Position::new(1, 1), "bad").to_string(), "r.yaml:1:1: error: bad");
    }

    #[test]
    fn reasons_leave_out_what_is_particular_to_a_rule() {
        let reason = |m: &str| Problem::warning("r.yaml", Position::new(1, 1), m).reason();
        assert_eq!(reason("tactic `Initial access` written as `InitialAccess`, the API's spelling"), "tactic `…` written as `…`, the API's spelling");
        assert_eq!(
            reason("id `x` is also the id of rule 'A b' at dir/a b.yaml:12:5; deployed"),
            "id `…` is also the id of rule '…' at dir/a <place>; deployed"
        );
        assert_eq!(reason("more than 5 entity mappings (7) for T1078.004"), "more than N entity mappings (N) for TN");
        assert_eq!(reason("a \"quoted\" value"), "a \"…\" value");
        assert_eq!(reason("unclosed `quote"), "unclosed `…");
    }

    #[test]
    fn top_reasons_count_rules_most_first() {
        let p = |m: &str| Problem::warning("r.yaml", Position::new(1, 1), m);
        let rules = [
            vec![p("bad `a`"), p("bad `b`"), p("odd 1")],
            vec![p("odd 2")],
            vec![p("bad `c`"), p("rare")],
            vec![p("odd 3")],
        ];
        let top = top_reasons(rules.iter(), 2);
        assert_eq!(
            top,
            [ReasonCount { reason: "odd N".into(), rules: 3 }, ReasonCount { reason: "bad `…`".into(), rules: 2 }]
        );
    }

    #[test]
    fn query_problems_land_in_the_rule_file() {
        let mut rule = Rule::default();
        rule.origin.file = "r.yaml".into();
        rule.origin.index = 2;
        let query = Query { text: "T\n| where".into(), locator: crate::ir::Locator::at(Position::new(5, 3)) };
        let p = Problem::in_query(Kind::Loss, &rule, &query, 4, "unmodelled");
        assert_eq!((p.position, p.rule_index()), (Position::new(6, 3), Some(2)));
    }
}
