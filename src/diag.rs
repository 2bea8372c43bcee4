//! Problems: everything found wrong, lost or changed in a rule, each pinned to a file, line and
//! column and to the rule's place in its file.
//!
//! One type serves every stage: readers (errors and warnings about the file), `check` (KQL
//! syntax errors, Sentinel limits) and emitters (losses and changes). A rule is named by its
//! index among the rules of its file, never by its name: two rules may share a name.

pub use crate::ir::Position;
use crate::ir::{Query, Rule};
use serde::ser::{Serialize, SerializeStruct, Serializer};
use std::fmt;
use std::path::PathBuf;

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
        printable(&reason_of(&self.message)).into_owned()
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

/// A word's numbers replaced by `N` (`T1078.004` → `TN`), but for one last digit after a
/// letter, which names a thing rather than counts (`RE2`, `IPv6`).
fn reason_of_word(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    let mut chars = word.chars().peekable();
    while let Some(c) = chars.next() {
        let names = out.ends_with(|p: char| p.is_alphabetic()) && chars.peek().is_none_or(|n| !n.is_alphanumeric() && *n != '.');
        if c.is_ascii_digit() && names {
            out.push(c);
        } else if c.is_ascii_digit() {
            while chars.next_if(|n| n.is_ascii_digit() || *n == '.').is_some() {}
            out.push('N');
        } else {
            out.push(c);
        }
    }
    out
}

/// The most characters an excerpt shows on either side of its column: the one line of a
/// minified, binary or huge file is cut around it.
const EXCERPT_REACH: usize = 120;

/// The file line a position is on, and a caret under its column, for showing a problem in
/// context; `None` when the position lies outside the text. Controls in the line are shown
/// escaped (see `printable`), the caret moved past their escapes; a long line is cut to
/// `EXCERPT_REACH` characters on either side, the cuts marked `…`.
pub fn excerpt(text: &str, position: Position) -> Option<String> {
    let line = text.lines().nth(position.line.checked_sub(1)?)?.trim_end_matches('\r');
    let column = position.col.saturating_sub(1);
    let first = column.saturating_sub(EXCERPT_REACH);
    let width = column - first + EXCERPT_REACH;
    let mut shown_chars: Vec<char> = line.chars().skip(first).take(width + 1).collect();
    let cut_end = shown_chars.len() > width;
    shown_chars.truncate(width);
    let before = shown_chars.iter().take(column - first);
    // Tabs stay tabs so the caret lines up under them.
    let mut pad: String = before.map(|&c| if c == '\t' { "\t".to_string() } else { " ".repeat(shown(c).chars().count()) }).collect();
    let (lead, trail) = (if first > 0 { "…" } else { "" }, if cut_end { "…" } else { "" });
    pad.insert_str(0, &" ".repeat(lead.chars().count()));
    let body: String = shown_chars.into_iter().map(shown).collect();
    Some(format!("{lead}{body}{trail}\n{pad}^"))
}

/// `text` safe to print on a terminal: what could move the cursor, rewrite the screen or the
/// window title (C0 and C1 controls, DEL, so every escape sequence) or reorder what is shown
/// (bidirectional embeddings, overrides, isolates and marks, the "Trojan Source" characters)
/// is written as an escape: `\x1b`, `\u{202e}`; a line break as `\n`. Tabs stay.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if text.chars().all(|c| c == '\t' || !needs_escape(c)) {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(text.chars().map(shown).collect())
}

/// `text` of several lines safe to print on a terminal: each line as `printable` makes it.
pub fn printable_lines(text: &str) -> String {
    text.split('\n').map(printable).collect::<Vec<_>>().join("\n")
}

fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
}

/// How one character is shown by `printable`.
fn shown(c: char) -> String {
    match c {
        '\t' => c.to_string(),
        '\n' => "\\n".to_string(),
        '\r' => "\\r".to_string(),
        c if c.is_control() && (c as u32) < 0x100 => format!("\\x{:02x}", c as u32),
        c if needs_escape(c) => format!("\\u{{{:x}}}", c as u32),
        c => c.to_string(),
    }
}

impl fmt::Display for Problem {
    /// `file:line:col: kind: rule 'name': message`, the form editors and CI logs link to.
    /// Rule text in it (the file name, the rule's name, names and values in the message) is
    /// shown `printable`: a rule cannot drive the terminal or reorder the line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.display().to_string();
        write!(f, "{}:{}:{}: {}: ", printable(&file), self.position.line, self.position.col, self.kind.name())?;
        if let Some(label) = self.rule.as_ref().and_then(|r| r.label.as_ref()) {
            write!(f, "rule '{}': ", printable(label))?;
        }
        f.write_str(&printable(&self.message))
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
    fn a_long_line_is_cut_around_the_column() {
        let line = format!("{}x{}", "a".repeat(500), "b".repeat(500));
        let shown = excerpt(&line, Position::new(1, 501)).unwrap();
        let caret = format!("{}^", " ".repeat(1 + EXCERPT_REACH));
        assert_eq!(shown, format!("…{}x{}…\n{caret}", "a".repeat(EXCERPT_REACH), "b".repeat(EXCERPT_REACH - 1)));
        assert_eq!(excerpt("short", Position::new(1, 3)).as_deref(), Some("short\n  ^"));
    }

    #[test]
    fn controls_and_bidi_characters_print_escaped() {
        assert_eq!(printable("plain\ttext"), "plain\ttext");
        assert_eq!(printable("a\x1b[2J\x1b]0;t\x07b"), r"a\x1b[2J\x1b]0;t\x07b");
        assert_eq!(printable("\u{202e}txt.exe \u{2066}x\u{2069} \u{9b}\u{7f}"), r"\u{202e}txt.exe \u{2066}x\u{2069} \x9b\x7f");
        assert_eq!(printable("two\nlines\r"), r"two\nlines\r");
        assert_eq!(printable_lines("a\x1b\nb\u{202e}"), "a\\x1b\nb\\u{202e}");
        let p = Problem::error("r\x1b.yaml", Position::new(1, 2), "bad `\u{202e}x`").for_rule(0, Some("T\x07".into()));
        assert_eq!(p.to_string(), r"r\x1b.yaml:1:2: error: rule 'T\x07': bad `\u{202e}x`");
        assert_eq!(p.reason(), "bad `…`");
        assert_eq!(Problem::error("r", Position::new(1, 1), "odd \x1b[2J").reason(), r"odd \x1b[NJ");
    }

    #[test]
    fn excerpt_escapes_controls_and_keeps_the_caret_under_the_column() {
        let text = "q: \"\u{202e}a\"\tx\x1b[2J y\n";
        // Column 15 is `y`: past a bidi override (shown in 8 characters), a tab and an ESC (in 4).
        let caret = format!("{}\t{}^", " ".repeat(14), " ".repeat(9));
        assert_eq!(excerpt(text, Position::new(1, 15)), Some(format!("q: \"\\u{{202e}}a\"\tx\\x1b[2J y\n{caret}")));
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
        assert_eq!(
            reason("tactic `Initial access` written as `InitialAccess`, the API's spelling"),
            "tactic `…` written as `…`, the API's spelling"
        );
        assert_eq!(
            reason("id `x` is also the id of rule 'A b' at dir/a b.yaml:12:5; deployed"),
            "id `…` is also the id of rule '…' at dir/a <place>; deployed"
        );
        assert_eq!(reason("more than 5 entity mappings (7) for T1078.004"), "more than N entity mappings (N) for TN");
        assert_eq!(reason("Kusto's RE2 and IPv6 ranges, T1 and T12"), "Kusto's RE2 and IPv6 ranges, T1 and TN");
        assert_eq!(reason("a \"quoted\" value"), "a \"…\" value");
        assert_eq!(reason("unclosed `quote"), "unclosed `…");
    }

    #[test]
    fn top_reasons_count_rules_most_first() {
        let p = |m: &str| Problem::warning("r.yaml", Position::new(1, 1), m);
        let rules = [vec![p("bad `a`"), p("bad `b`"), p("odd 1")], vec![p("odd 2")], vec![p("bad `c`"), p("rare")], vec![p("odd 3")]];
        let top = top_reasons(rules.iter(), 2);
        assert_eq!(top, [ReasonCount { reason: "odd N".into(), rules: 3 }, ReasonCount { reason: "bad `…`".into(), rules: 2 }]);
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
