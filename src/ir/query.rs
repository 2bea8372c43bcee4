//! A rule's logic: the query text exactly as written, and where each byte of it sits in the
//! rule file.

use super::Position;
use crate::kql;
use std::sync::{Arc, OnceLock};

/// What a rule detects, in the language it was written in.
#[derive(Clone, Debug, PartialEq)]
pub enum Logic {
    Kql(Query),
    Sigma(Box<super::SigmaLogic>),
}

impl Logic {
    /// The logic's text as written: what spans of its Detection index into.
    pub fn text(&self) -> &str {
        match self {
            Logic::Kql(query) => &query.text,
            Logic::Sigma(sigma) => &sigma.text,
        }
    }

    /// The file position of byte `offset` of `text()`.
    pub fn position(&self, offset: usize) -> Position {
        match self {
            Logic::Kql(query) => query.locator.position(&query.text, offset),
            Logic::Sigma(sigma) => sigma.locator.position(&sigma.text, offset),
        }
    }
}

/// A rule's query: the text exactly as written (never rewritten), where it sits in its file,
/// and its syntax tree, parsed once by whichever step first needs it (lowering, `check`, the
/// targets that print or describe the query), so a query is parsed once per run.
#[derive(Clone, Debug, Default)]
pub struct Query {
    pub text: String,
    pub locator: Locator,
    parsed: OnceLock<Arc<kql::Parsed>>,
}

impl Query {
    pub fn new(text: String, locator: Locator) -> Query {
        Query { text, locator, parsed: OnceLock::new() }
    }

    /// The text parsed: a tree (with error nodes where it does not parse) and the errors.
    pub fn parsed(&self) -> &kql::Parsed {
        self.parsed.get_or_init(|| Arc::new(kql::parse(&self.text)))
    }
}

/// Two queries are equal when they are written alike, parsed yet or not.
impl PartialEq for Query {
    fn eq(&self, other: &Query) -> bool {
        self.text == other.text && self.locator == other.locator
    }
}

/// Maps a byte offset in an extracted text (a query) back to a line and column of its file.
///
/// Holds one anchor per place where the mapping jumps: each line start of a block scalar or a
/// fenced code block, and each escape of a quoted string. Between anchors, text maps 1:1.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Locator {
    /// (offset in the text, file position of that offset), sorted by offset.
    anchors: Vec<(usize, Position)>,
}

impl Locator {
    /// A text whose byte 0 is at `start` and which continues 1:1 from there.
    pub fn at(start: Position) -> Locator {
        Locator { anchors: vec![(0, start)] }
    }

    /// Adds an anchor. Anchors come in increasing offset order: one at the same offset as the
    /// last replaces it, one before it is ignored.
    pub fn push(&mut self, offset: usize, position: Position) {
        match self.anchors.last_mut() {
            Some(last) if last.0 == offset => last.1 = position,
            Some(last) if last.0 > offset => {}
            _ => self.anchors.push((offset, position)),
        }
    }

    /// The same text placed elsewhere: every anchor moved by `to`.
    pub fn moved(&mut self, to: impl Fn(Position) -> Position) {
        self.anchors.iter_mut().for_each(|(_, position)| *position = to(*position));
    }

    /// The locator of `text[start..end]`, re-based so that `start` becomes offset 0.
    pub fn slice(&self, text: &str, start: usize, end: usize) -> Locator {
        let mut out = Locator::at(self.position(text, start));
        for &(offset, position) in &self.anchors {
            if offset > start && offset < end {
                out.push(offset - start, position);
            }
        }
        out
    }

    /// The file position of `offset` within `text` (the text this locator was built for).
    pub fn position(&self, text: &str, offset: usize) -> Position {
        let index = self.anchors.partition_point(|(o, _)| *o <= offset);
        let Some(&(anchor, start)) = index.checked_sub(1).and_then(|i| self.anchors.get(i)) else {
            return Position::new(1, 1);
        };
        let between = text.get(anchor..offset.min(text.len())).unwrap_or("");
        match between.rfind('\n') {
            // Past the last anchor's line (a text mapped 1:1 across lines): count lines on.
            Some(nl) => Position::new(start.line + between.matches('\n').count(), between[nl + 1..].chars().count() + 1),
            None => Position::new(start.line, start.col + between.chars().count()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locator_maps_block_lines_and_one_to_one_text() {
        // A block scalar indented by 2 whose first content line is file line 5.
        let text = "T\n| where A\n";
        let mut locator = Locator::at(Position::new(5, 3));
        locator.push(2, Position::new(6, 3));
        assert_eq!(locator.position(text, 0), Position::new(5, 3));
        assert_eq!(locator.position(text, 4), Position::new(6, 5));
        let one_to_one = Locator::at(Position::new(10, 1));
        assert_eq!(one_to_one.position(text, 4), Position::new(11, 3));
    }
}
