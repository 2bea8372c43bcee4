//! Small random edits to a text, for property tests that mutate real inputs.

use proptest::sample::Index;

/// One edit: kind (0 delete, 1 insert the piece, else repeat), where, how many characters.
pub type Edit = (usize, Index, usize, &'static str);

/// `base` with each edit applied in turn, on characters (never splitting one).
pub fn apply(base: &str, edits: Vec<Edit>) -> String {
    let mut chars: Vec<char> = base.chars().collect();
    for (kind, at, len, piece) in edits {
        let at = at.index(chars.len() + 1);
        let end = (at + len).min(chars.len());
        match kind {
            0 => drop(chars.drain(at..end)),
            1 => drop(chars.splice(at..at, piece.chars())),
            _ => {
                let copy = chars[at..end].to_vec();
                chars.splice(at..at, copy);
            }
        }
    }
    chars.into_iter().collect()
}
