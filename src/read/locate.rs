//! Locator builders: where each byte of an extracted text (a query) sits in its file.
//!
//! A YAML reader hands us a scalar's *value*; KQL diagnostics need file positions. The value
//! differs from the file text by indentation (block scalars), line folding (plain, quoted and
//! folded scalars), escapes (`\n`, `\"`, `''`) and fences (markdown). We rebuild the mapping
//! by walking the value and the file text side by side, dropping an anchor wherever the two
//! stop advancing together.

pub use crate::diag::LineIndex;

use crate::diag::Position;
use crate::ir::Locator;
use crate::yaml::{Node, Style};

/// Locator for the string value of `node`, read from `lines` (the file it was parsed from).
/// Falls back to a 1:1 mapping from the node's position when the file text does not line up
/// (never expected; it keeps positions approximate rather than failing the read).
pub fn scalar(lines: &LineIndex, node: &Node, value: &str) -> Locator {
    let built = match node.style {
        Style::Literal => literal(lines, node.position, value),
        Style::DoubleQuoted | Style::SingleQuoted => {
            let quote = Position::new(node.position.line, node.position.col + 1);
            lines.offset(quote).map(|start| align(lines.text(), start, quote, value, node.style))
        }
        Style::Plain | Style::Folded => {
            lines.offset(node.position).map(|start| align(lines.text(), start, node.position, value, node.style))
        }
    };
    built.unwrap_or_else(|| Locator::at(node.position))
}

/// A literal block (`|`, `|-`, `|2`, `|+`): value line k is file line `header + 1 + k`, and
/// its text is the end of that file line, so the column is what is left before it.
fn literal(lines: &LineIndex, first: Position, value: &str) -> Option<Locator> {
    // The parser reports the first non-empty content line; leading empty lines come before it.
    let leading = value.bytes().take_while(|&b| b == b'\n').count();
    let value_lines: Vec<&str> = value.split('\n').collect();
    let candidates = [first.line.checked_sub(1 + leading)?, first.line.checked_sub(1)?];
    'candidate: for header in candidates {
        let mut anchors = Locator::default();
        let mut offset = 0;
        let mut col = first.col;
        for (k, text) in value_lines.iter().enumerate() {
            let line = header + 1 + k;
            if !text.is_empty() {
                let Some(source) = lines.line(line) else { continue 'candidate };
                if !source.ends_with(text) {
                    continue 'candidate;
                }
                col = source[..source.len() - text.len()].chars().count() + 1;
            }
            if offset < value.len() || k == 0 {
                anchors.push(offset, Position::new(line, col));
            }
            offset += text.len() + 1;
        }
        return Some(anchors);
    }
    None
}

/// Walks `value` and the file text from `start` together. Equal characters advance both;
/// whitespace the value lacks (indentation, folded line breaks) is skipped in the file; an
/// escape is decoded and must produce the next value characters. An anchor is dropped after
/// every skip or escape. Stops quietly at anything unexpected, keeping the anchors so far.
fn align(source: &str, start: usize, start_position: Position, value: &str, style: Style) -> Locator {
    let mut anchors = Locator::at(start_position);
    let (mut vi, mut si) = (0usize, start);
    let (mut line, mut col) = (start_position.line, start_position.col);
    let mut resync = false;
    while vi < value.len() && si < source.len() {
        let rest = &source[si..];
        let Some(sc) = rest.chars().next() else { break };
        let Some(vc) = value[vi..].chars().next() else { break };
        if style == Style::DoubleQuoted && sc == '\\' {
            match escape(rest) {
                Some(Escape::LineBreak(len)) => {
                    si += len;
                    line += 1;
                    col = 1;
                    resync = true;
                }
                Some(Escape::Char(decoded, len)) if value[vi..].starts_with(decoded) => {
                    vi += decoded.len_utf8();
                    si += len;
                    col += rest[..len].chars().count();
                    anchors.push(vi, Position::new(line, col));
                    resync = false;
                }
                _ => break,
            }
            continue;
        }
        if style == Style::SingleQuoted && vc == '\'' && rest.starts_with("''") {
            vi += 1;
            si += 2;
            col += 2;
            anchors.push(vi, Position::new(line, col));
            continue;
        }
        if sc == vc {
            if resync {
                anchors.push(vi, Position::new(line, col));
                resync = false;
            }
            vi += vc.len_utf8();
            si += sc.len_utf8();
            if sc == '\n' {
                line += 1;
                col = 1;
            } else {
                col += 1;
            }
            continue;
        }
        if matches!(sc, ' ' | '\t' | '\r' | '\n') {
            si += 1;
            if sc == '\n' {
                line += 1;
                col = 1;
            } else {
                col += 1;
            }
            resync = true;
            continue;
        }
        break;
    }
    anchors
}

enum Escape {
    /// The decoded character and the escape's length in the file.
    Char(char, usize),
    /// `\` at the end of a line: the line break (and the next line's indentation) vanish.
    LineBreak(usize),
}

/// Decodes the YAML double-quoted escape at the start of `text` (JSON's are a subset).
fn escape(text: &str) -> Option<Escape> {
    let mut chars = text.chars();
    chars.next()?; // the backslash
    let c = chars.next()?;
    let simple = match c {
        '0' => '\0',
        'a' => '\u{7}',
        'b' => '\u{8}',
        't' | '\t' => '\t',
        'n' => '\n',
        'v' => '\u{b}',
        'f' => '\u{c}',
        'r' => '\r',
        'e' => '\u{1b}',
        ' ' => ' ',
        '"' => '"',
        '/' => '/',
        '\\' => '\\',
        'N' => '\u{85}',
        '_' => '\u{a0}',
        'L' => '\u{2028}',
        'P' => '\u{2029}',
        '\n' => return Some(Escape::LineBreak(2)),
        '\r' => return Some(Escape::LineBreak(if text[2..].starts_with('\n') { 3 } else { 2 })),
        'x' | 'u' | 'U' => {
            let digits = match c {
                'x' => 2,
                'u' => 4,
                _ => 8,
            };
            let hex = text.get(2..2 + digits)?;
            let decoded = char::from_u32(u32::from_str_radix(hex, 16).ok()?)?;
            return Some(Escape::Char(decoded, 2 + digits));
        }
        _ => return None,
    };
    Some(Escape::Char(simple, 1 + c.len_utf8()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_documents;

    /// The file position of the first occurrence of `needle` in the query of `doc`.
    fn locate(doc: &str, needle: &str) -> Position {
        let lines = LineIndex::new(doc);
        let root = &parse_documents(doc).unwrap()[0];
        let node = root.get("query").unwrap();
        let value = node.as_str().unwrap();
        let offset = value.find(needle).unwrap_or_else(|| panic!("{needle:?} not in {value:?}"));
        scalar(&lines, node, value).position(value, offset)
    }

    fn position_in(doc: &str, line_contains: &str, needle: &str) -> Position {
        let (i, line) = doc.lines().enumerate().find(|(_, l)| l.contains(line_contains)).unwrap();
        let byte = line.find(needle).unwrap();
        Position::new(i + 1, line[..byte].chars().count() + 1)
    }

    #[test]
    fn literal_blocks_with_every_header() {
        for doc in [
            "name: x\nquery: |\n  T\n  | where A == 1\n    | where é == 2\nkind: NRT\n",
            "name: x\r\nquery: |-\r\n  T\r\n\r\n  | where A == 1\r\n    | where é == 2\r\nkind: NRT\r\n",
            "name: x\nquery: |2-\n    T\n  | where A == 1\n    | where é == 2\n",
            "name: x\nquery: |  # comment\n\n\n      T\n      | where A == 1\n        | where é == 2\n",
        ] {
            assert_eq!(locate(doc, "A == 1"), position_in(doc, "A == 1", "A == 1"), "{doc:?}");
            assert_eq!(locate(doc, "== 2"), position_in(doc, "== 2", "== 2"), "{doc:?}");
            assert_eq!(locate(doc, "T"), position_in(doc, "  T", "T"), "{doc:?}");
        }
    }

    #[test]
    fn double_quoted_escapes_and_folds() {
        let doc = "query: \"T\\n| where X == \\\"a\\\"\\n| extend é = 1\n  | where Y\"\n";
        assert_eq!(locate(doc, "where X"), position_in(doc, "where X", "where X"));
        assert_eq!(locate(doc, "== \"a"), position_in(doc, "where X", "== \\\"a"));
        assert_eq!(locate(doc, "a\"\n"), position_in(doc, "where X", "a\\\""));
        assert_eq!(locate(doc, "= 1"), position_in(doc, "extend", "= 1"));
        assert_eq!(locate(doc, "where Y"), position_in(doc, "where Y", "where Y"));
    }

    #[test]
    fn json_strings_with_crlf_and_tabs() {
        let doc = "{\r\n\t\"name\": \"x\",\r\n\t\"query\": \"T\\r\\n| where A == \\\"\\u00e9\\\"\\r\\n| take 1\"\r\n}\r\n";
        assert_eq!(locate(doc, "where A"), position_in(doc, "where A", "where A"));
        assert_eq!(locate(doc, "take"), position_in(doc, "take", "take"));
        assert_eq!(locate(doc, "é"), position_in(doc, "where A", "u00e9").with_col_minus(1));
    }

    #[test]
    fn plain_single_quoted_and_folded() {
        let doc = "query:\n  T\n  | extend x = 'a'\nz: 1\n";
        assert_eq!(locate(doc, "| extend"), position_in(doc, "| extend", "| extend"));
        let doc = "query: 'T\n  | where s == ''it''s'' and t'\n";
        assert_eq!(locate(doc, "and t"), position_in(doc, "and t", "and t"));
        let doc = "query: >-\n  T\n  | where a\n\n  | where b\n";
        assert_eq!(locate(doc, "where b"), position_in(doc, "where b", "where b"));
    }

    #[test]
    fn slicing_rebases_offsets() {
        let doc = "query: \"```kusto\\nT\\n| where A\\n```\"\n";
        let lines = LineIndex::new(doc);
        let node = parse_documents(doc).unwrap()[0].get("query").unwrap().clone();
        let value = node.as_str().unwrap();
        let start = value.find('T').unwrap();
        let end = value.rfind("```").unwrap();
        let inner = &value[start..end];
        let locator = scalar(&lines, &node, value).slice(value, start, end);
        assert_eq!(locator.position(inner, 0), position_in(doc, "query", "T\\n"));
        assert_eq!(locator.position(inner, inner.find("where").unwrap()), position_in(doc, "query", "where"));
    }

    trait ColMinus {
        fn with_col_minus(self, n: usize) -> Position;
    }
    impl ColMinus for Position {
        fn with_col_minus(self, n: usize) -> Position {
            Position::new(self.line, self.col - n)
        }
    }
}
