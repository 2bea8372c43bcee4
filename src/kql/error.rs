//! Syntax errors and their rendering with a caret under the offending text.

use super::span::Span;

/// One syntax error. `span` is a byte range in the query text; it is empty
/// when something is missing (it then sits where the missing text belongs).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SyntaxError {
    pub span: Span,
    pub message: String,
    /// What the parser wanted, when it wanted something specific.
    pub expected: Option<String>,
    /// What it found instead.
    pub found: Option<String>,
}

impl SyntaxError {
    pub fn new(span: Span, message: String) -> Self {
        SyntaxError { span, message, expected: None, found: None }
    }

    pub fn expected(span: Span, expected: &str, found: String) -> Self {
        SyntaxError {
            span,
            message: format!("expected {expected} but found {found}"),
            expected: Some(expected.to_string()),
            found: Some(found),
        }
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(text, offset);
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut at = offset.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// `line:col: message`, the offending line, and a caret line underneath.
pub fn render_error(text: &str, err: &SyntaxError) -> String {
    let start = floor_char_boundary(text, err.span.start);
    let (line, col) = line_col(text, start);
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let source_line = text[line_start..line_end].trim_end_matches('\r');
    // Underline the span's part on this line; at least one caret.
    let end = floor_char_boundary(text, err.span.end.clamp(start, line_end));
    let width = text[start..end].chars().count().max(1);
    // Tabs keep their width so the caret lines up under them.
    let pad: String = text[line_start..start].chars().map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
    format!("{line}:{col}: {}\n{source_line}\n{pad}{}", err.message, "^".repeat(width))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_points_at_span() {
        let text = "T\n| where x ==\n| take 1";
        let err = SyntaxError::expected(Span::new(14, 14), "expression", "`|`".into());
        assert_eq!(render_error(text, &err), "2:13: expected expression but found `|`\n| where x ==\n            ^");
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let text = "print 'é', )";
        let at = text.find(')').unwrap();
        let err = SyntaxError::new(Span::new(at, at + 1), "unexpected `)`".into());
        assert_eq!(render_error(text, &err), "1:12: unexpected `)`\nprint 'é', )\n           ^");
    }

    #[test]
    fn span_past_end_and_inside_char_is_clamped() {
        let text = "é";
        let err = SyntaxError::new(Span::new(1, 99), "x".into());
        assert_eq!(render_error(text, &err), "1:1: x\né\n^");
    }
}
