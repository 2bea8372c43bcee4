//! Diagnostics: problems found in a rule file, each pinned to a file, line and column.

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
pub enum Level {
    Error,
    Warning,
}

/// One problem with one rule (or with a whole file when `rule` is `None`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    pub level: Level,
    pub file: PathBuf,
    pub position: Position,
    /// The rule's name or id, when the problem belongs to one rule.
    pub rule: Option<String>,
    pub message: String,
}

impl Diagnostic {
    pub fn error(file: impl Into<PathBuf>, position: Position, message: impl Into<String>) -> Self {
        Diagnostic { level: Level::Error, file: file.into(), position, rule: None, message: message.into() }
    }

    pub fn warning(file: impl Into<PathBuf>, position: Position, message: impl Into<String>) -> Self {
        Diagnostic { level: Level::Warning, ..Self::error(file, position, message) }
    }

    pub fn for_rule(mut self, rule: impl Into<String>) -> Self {
        self.rule = Some(rule.into());
        self
    }
}

/// The file line a position is on, and a caret under its column, for showing a problem in
/// context; `None` when the position lies outside the text.
pub fn excerpt(text: &str, position: Position) -> Option<String> {
    let line = text.lines().nth(position.line.checked_sub(1)?)?.trim_end_matches('\r');
    // Tabs stay tabs so the caret lines up under them.
    let pad: String = line.chars().take(position.col.saturating_sub(1)).map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
    Some(format!("{line}\n{pad}^"))
}

impl fmt::Display for Diagnostic {
    /// `file:line:col: error: [rule] message`, the form editors and CI logs link to.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.level {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        write!(f, "{}:{}:{}: {level}: ", self.file.display(), self.position.line, self.position.col)?;
        if let Some(rule) = &self.rule {
            write!(f, "rule '{rule}': ")?;
        }
        f.write_str(&self.message)
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
}
