//! Problems: everything found wrong, lost or changed in a rule, each pinned to a file, line and
//! column and to the rule's place in its file.
//!
//! One type serves every stage: readers (errors and warnings about the file), `check` (KQL
//! syntax errors, Sentinel limits) and emitters (losses and changes). Each problem has a stable
//! `Code` that says what it is about, so that problems group by code, never by their wording. A
//! rule is named by its index among the rules of its file, never by its name: two rules may
//! share a name.

mod code;
mod line_index;

pub use code::Code;
pub use line_index::LineIndex;

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
    /// What the problem is about; summaries, SARIF and tests group by it.
    pub code: Code,
    pub file: PathBuf,
    pub position: Position,
    pub rule: Option<RuleRef>,
    pub message: String,
    /// The source text the problem is about, cut to one short line (see `quoting`): what an
    /// output file's header quotes instead of `position`, which any edit above it moves.
    pub construct: Option<String>,
}

impl Problem {
    /// `code` must allow `kind` (see `Code::kinds`).
    pub fn new(kind: Kind, code: Code, file: impl Into<PathBuf>, position: Position, message: impl Into<String>) -> Self {
        debug_assert!(code.kinds().contains(&kind), "a {} problem cannot be `{code}`", kind.name());
        Problem { kind, code, file: file.into(), position, rule: None, message: message.into(), construct: None }
    }

    /// The problem about `source`, the text of its construct: kept trimmed, its first line only,
    /// at most `CONSTRUCT_CHARS` characters, a cut marked `…`; blank text quotes nothing.
    pub fn quoting(mut self, source: &str) -> Self {
        let source = source.trim();
        self.construct = source.lines().next().map(|first| {
            let mut excerpt: String = first.trim_end().chars().take(CONSTRUCT_CHARS).collect();
            if excerpt.len() < source.len() {
                excerpt.truncate(excerpt.trim_end().len());
                excerpt.push('…');
            }
            excerpt
        });
        self
    }

    pub fn error(code: Code, file: impl Into<PathBuf>, position: Position, message: impl Into<String>) -> Self {
        Self::new(Kind::Error, code, file, position, message)
    }

    pub fn warning(code: Code, file: impl Into<PathBuf>, position: Position, message: impl Into<String>) -> Self {
        Self::new(Kind::Warning, code, file, position, message)
    }

    /// Assigns the problem to the rule at `index` in its file.
    pub fn for_rule(mut self, index: usize, label: Option<String>) -> Self {
        self.rule = Some(RuleRef { index, label: label.filter(|l| !l.is_empty()) });
        self
    }

    /// A problem with a read rule, at `position` of its file.
    pub fn about(kind: Kind, code: Code, rule: &Rule, position: Position, message: impl Into<String>) -> Self {
        Self::new(kind, code, &rule.origin.file, position, message).for_rule(rule.origin.index, Some(rule.label()))
    }

    /// A problem with a read rule, at the position of one of its keys (`tactics`), or at the
    /// rule's first line when the key's place is unknown; the key names its construct.
    pub fn at_key(kind: Kind, code: Code, rule: &Rule, key: &str, message: impl Into<String>) -> Self {
        Self::about(kind, code, rule, rule.origin.position_of(key), message).quoting(key)
    }

    /// A problem at byte `offset` of `query`'s text, placed in the rule file through the
    /// query's locator (a KQL syntax error, a construct lowering cannot model).
    pub fn in_query(kind: Kind, code: Code, rule: &Rule, query: &Query, offset: usize, message: impl Into<String>) -> Self {
        Self::about(kind, code, rule, query.locator.position(&query.text, offset), message)
    }

    /// A problem at byte `offset` of the rule's logic text (KQL query or Sigma file), placed
    /// through its locator; at the rule's first line when it has no logic.
    pub fn in_logic(kind: Kind, code: Code, rule: &Rule, offset: usize, message: impl Into<String>) -> Self {
        let position = rule.logic.as_ref().map_or(rule.origin.position, |logic| logic.position(offset));
        Self::about(kind, code, rule, position, message)
    }

    pub fn is_error(&self) -> bool {
        self.kind == Kind::Error
    }

    /// The index of the rule the problem belongs to, if any.
    pub fn rule_index(&self) -> Option<usize> {
        self.rule.as_ref().map(|r| r.index)
    }
}

/// How many rules have problems of one code.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CodeCount {
    pub code: Code,
    /// What the code means (`Code::about`), for readers of the report.
    pub about: &'static str,
    pub rules: usize,
}

/// The `limit` most frequent codes among the problems of each rule (a rule counts once per
/// code), most rules first, then in the order of `Code::ALL`: the same list whatever the order
/// of the rules.
pub fn top_codes<'a, R, P>(rules: R, limit: usize) -> Vec<CodeCount>
where
    R: IntoIterator<Item = P>,
    P: IntoIterator<Item = &'a Problem>,
{
    let mut counts: std::collections::BTreeMap<Code, usize> = std::collections::BTreeMap::new();
    for problems in rules {
        let codes: std::collections::BTreeSet<Code> = problems.into_iter().map(|p| p.code).collect();
        codes.into_iter().for_each(|code| *counts.entry(code).or_default() += 1);
    }
    let mut ranked: Vec<CodeCount> = counts.into_iter().map(|(code, rules)| CodeCount { code, about: code.about(), rules }).collect();
    // Stable: equal counts keep the order of `Code::ALL`.
    ranked.sort_by_key(|c| std::cmp::Reverse(c.rules));
    ranked.truncate(limit);
    ranked
}

impl fmt::Display for CodeCount {
    /// `code: what it means`, as summaries print it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.about)
    }
}

/// The most characters of its construct a problem quotes (see `Problem::quoting`).
const CONSTRUCT_CHARS: usize = 60;

/// The most characters an excerpt shows on either side of its column: the one line of a
/// minified, binary or huge file is cut around it.
const EXCERPT_REACH: usize = 120;

/// The file line a position is on, and a caret under its column, for showing a problem in
/// context; `None` when the position lies outside the text. Controls in the line are shown
/// escaped (see `printable`), the caret moved past their escapes; a long line is cut to
/// `EXCERPT_REACH` characters on either side, the cuts marked `…`.
pub fn excerpt(text: &str, position: Position) -> Option<String> {
    let line = text.lines().nth(position.line.checked_sub(1)?)?.trim_end_matches('\r');
    let (line, column) = nul_record(line, position.col.saturating_sub(1));
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

/// The NUL-separated record of `line` that char `column` is in (or ends), and the column within
/// it: a binary file such as `/proc/self/environ` is one "line" of NUL-separated secrets, and an
/// excerpt quotes only the record at fault.
fn nul_record(line: &str, column: usize) -> (&str, usize) {
    let mut start = 0;
    for record in line.split('\0') {
        let length = record.chars().count();
        if column <= start + length {
            return (record, column - start);
        }
        start += length + 1;
    }
    ("", 0)
}

/// `text` safe to print on a terminal: what could move the cursor, rewrite the screen or the
/// window title (C0 and C1 controls, DEL, so every escape sequence) or reorder what is shown
/// (bidirectional embeddings, overrides, isolates and marks, the "Trojan Source" characters)
/// is written as an escape: `\x1b`, `\u{202e}`; a line break as `\n`, and so are Unicode's line
/// and paragraph separators (`\u{2028}`), line breaks to C# and YAML 1.1 (so they would end a
/// `//` or `#` comment). Tabs stay.
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
    c.is_control()
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{2028}' | '\u{2029}')
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
    /// `{"kind", "code", "file", "line", "column", "rule", "message"}`; `rule` is the rule's
    /// index in its file (null for a problem with the whole file).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Problem", 7)?;
        s.serialize_field("kind", &self.kind)?;
        s.serialize_field("code", &self.code)?;
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

    /// Issue 19 item 20: a NUL-separated binary file (`/proc/self/environ`) is quoted one
    /// record at most, never its whole content.
    #[test]
    fn an_excerpt_of_nul_separated_records_quotes_one_record() {
        let text = "A=1\0TOKEN=secret\0B=2";
        assert_eq!(excerpt(text, Position::new(1, 4)).as_deref(), Some("A=1\n   ^"));
        assert_eq!(excerpt(text, Position::new(1, 7)).as_deref(), Some("TOKEN=secret\n  ^"));
    }

    #[test]
    fn a_quoted_construct_is_its_first_line_cut_at_a_char_boundary() {
        let quoted = |source: &str| Problem::error(Code::InvalidValue, "r", Position::new(1, 1), "m").quoting(source).construct;
        assert_eq!(quoted("  | where x has \"a\"  \n").as_deref(), Some("| where x has \"a\""));
        assert_eq!(quoted("join (\n  T\n)").as_deref(), Some("join (…"));
        let long = "é".repeat(CONSTRUCT_CHARS + 5);
        assert_eq!(quoted(&long), Some(format!("{}…", "é".repeat(CONSTRUCT_CHARS))));
        assert_eq!(quoted(&"é".repeat(CONSTRUCT_CHARS)), Some("é".repeat(CONSTRUCT_CHARS)));
        assert_eq!(quoted(" \n\t"), None);
    }

    #[test]
    fn controls_and_bidi_characters_print_escaped() {
        assert_eq!(printable("plain\ttext"), "plain\ttext");
        assert_eq!(printable("a\x1b[2J\x1b]0;t\x07b"), r"a\x1b[2J\x1b]0;t\x07b");
        assert_eq!(printable("\u{202e}txt.exe \u{2066}x\u{2069} \u{9b}\u{7f}"), r"\u{202e}txt.exe \u{2066}x\u{2069} \x9b\x7f");
        assert_eq!(printable("two\nlines\r"), r"two\nlines\r");
        assert_eq!(printable("a\u{2028}b\u{2029}"), r"a\u{2028}b\u{2029}");
        assert_eq!(printable_lines("a\x1b\nb\u{202e}"), "a\\x1b\nb\\u{202e}");
        let p = Problem::error(Code::InvalidValue, "r\x1b.yaml", Position::new(1, 2), "bad `\u{202e}x`").for_rule(0, Some("T\x07".into()));
        assert_eq!(p.to_string(), r"r\x1b.yaml:1:2: error: rule 'T\x07': bad `\u{202e}x`");
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
        let p = Problem::warning(Code::Ignored, "r.yaml", Position::new(3, 5), "odd").for_rule(1, Some("Same".into()));
        assert_eq!(p.to_string(), "r.yaml:3:5: warning: rule 'Same': odd");
        let json = serde_json::to_value(&p).unwrap();
        let expected = serde_json::json!({"kind": "warning", "code": "ignored", "file": "r.yaml", "line": 3, "column": 5, "rule": 1, "message": "odd"});
        assert_eq!(json, expected);
        assert_eq!(Problem::error(Code::YamlSyntax, "r.yaml", Position::new(1, 1), "bad").to_string(), "r.yaml:1:1: error: bad");
    }

    #[test]
    fn top_codes_count_rules_most_first_whatever_the_messages() {
        let p = |code: Code, m: &str| Problem::new(Kind::Loss, code, "r.yaml", Position::new(1, 1), m);
        let (term, dropped, unmodelled) = (Code::TermMatch, Code::ConditionDropped, Code::Unmodelled);
        let rules = [
            vec![p(dropped, "`a` dropped"), p(dropped, "`b` dropped"), p(term, "R1.yml")],
            vec![p(term, "R2.yml")],
            vec![p(dropped, "`c` dropped"), p(unmodelled, "rare")],
            vec![p(term, "other words")],
        ];
        let count = |code: Code, rules| CodeCount { code, about: code.about(), rules };
        assert_eq!(top_codes(rules.iter(), 2), [count(term, 3), count(dropped, 2)]);
        assert_eq!(count(term, 3).to_string(), format!("term-match: {}", term.about()));
    }

    #[test]
    fn query_problems_land_in_the_rule_file() {
        let mut rule = Rule::default();
        rule.origin.file = "r.yaml".into();
        rule.origin.index = 2;
        let query = Query::new("T\n| where".into(), crate::ir::Locator::at(Position::new(5, 3)));
        let p = Problem::in_query(Kind::Loss, Code::Unmodelled, &rule, &query, 4, "unmodelled");
        assert_eq!((p.position, p.rule_index()), (Position::new(6, 3), Some(2)));
    }
}
