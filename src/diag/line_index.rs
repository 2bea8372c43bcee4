//! Positions in a text: a 1-based line and character column ↔ a byte offset.

use super::Position;

/// Byte offsets of line starts, to turn a `Position` into a byte offset of the file text.
/// A position's column counts characters, so the offset of every `STRIDE`-th character is kept
/// too: finding one walks at most `STRIDE` characters, not its whole line (an ARM template
/// written on one line would make every lookup walk megabytes).
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
    /// The characters before each line start.
    chars_before: Vec<usize>,
    /// The byte offset of characters 0, `STRIDE`, 2 × `STRIDE`... and of the text's end when
    /// its length in characters is a multiple of `STRIDE`.
    marks: Vec<usize>,
}

const STRIDE: usize = 64;

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> Self {
        let (mut starts, mut chars_before, mut marks) = (vec![0], vec![0], Vec::new());
        let mut count = 0;
        for (i, c) in text.char_indices() {
            if count % STRIDE == 0 {
                marks.push(i);
            }
            count += 1;
            if c == '\n' {
                starts.push(i + 1);
                chars_before.push(count);
            }
        }
        if count % STRIDE == 0 {
            marks.push(text.len());
        }
        LineIndex { text, starts, chars_before, marks }
    }

    /// The whole text.
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// Line `line` (1-based) without its line break (`\n` or `\r\n`).
    pub fn line(&self, line: usize) -> Option<&'a str> {
        let start = *self.starts.get(line.checked_sub(1)?)?;
        let end = self.starts.get(line).map_or(self.text.len(), |next| next - 1);
        let raw = self.text.get(start..end)?;
        Some(raw.strip_suffix('\r').unwrap_or(raw))
    }

    /// The byte offset of a 1-based line and character column (a column past the line's end
    /// counts on into the next lines; the text's end is the last offset).
    pub fn offset(&self, position: Position) -> Option<usize> {
        let target = self.chars_before.get(position.line.checked_sub(1)?)? + position.col.checked_sub(1)?;
        let mark = *self.marks.get(target / STRIDE)?;
        let rest = &self.text[mark..];
        let skip = target % STRIDE;
        match rest.char_indices().nth(skip) {
            Some((i, _)) => Some(mark + i),
            None if rest.chars().count() == skip => Some(self.text.len()),
            None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `offset` as the plain walk from the line start: its marks change the cost, not the answer.
    #[test]
    fn offsets_agree_with_walking_the_text() {
        let long = format!("{}é\nab\r\n\n{}", "x".repeat(130), "ü".repeat(70));
        for text in ["", "a", &"y".repeat(STRIDE), &format!("{}\n", "é".repeat(STRIDE - 1)), &long] {
            let lines = LineIndex::new(text);
            let starts: Vec<usize> = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
            for line in 1..=starts.len() + 1 {
                for col in 1..=2 * text.chars().count() + 2 {
                    let walked = starts.get(line - 1).and_then(|&start| {
                        let rest = &text[start..];
                        let found = rest.char_indices().nth(col - 1).map(|(i, _)| start + i);
                        found.or((rest.chars().count() == col - 1).then_some(text.len()))
                    });
                    assert_eq!(lines.offset(Position::new(line, col)), walked, "{text:?} {line}:{col}");
                }
            }
        }
    }
}
