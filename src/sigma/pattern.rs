//! Sigma string values: wildcards (`*`, `?`) with their escapes, and the modifiers that
//! re-encode a value (`base64`, `base64offset`, `wide`/`utf16*`, `windash`), computed as
//! pySigma computes them so the expanded values match the same bytes.

use super::{Modifier, Scalar};

/// A string value as pieces: text, and wildcards that were not escaped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern(pub Vec<Piece>);

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    /// Encoded bytes (after `wide`, `base64`...): matched as UTF-8 text when they are UTF-8,
    /// else byte for byte as Latin-1 characters.
    Bytes(Vec<u8>),
    /// `*`: any run of characters.
    Any,
    /// `?`: one character.
    One,
}

impl Piece {
    /// The text a piece matches literally; `None` for a wildcard.
    pub fn text(&self) -> Option<String> {
        match self {
            Piece::Text(text) => Some(text.clone()),
            Piece::Bytes(bytes) => {
                Some(String::from_utf8(bytes.clone()).unwrap_or_else(|_| bytes.iter().map(|&b| char::from(b)).collect()))
            }
            Piece::Any | Piece::One => None,
        }
    }

    fn bytes(&self) -> Option<Vec<u8>> {
        match self {
            Piece::Text(text) => Some(text.as_bytes().to_vec()),
            Piece::Bytes(bytes) => Some(bytes.clone()),
            Piece::Any | Piece::One => None,
        }
    }
}

impl Pattern {
    /// A value as Sigma reads it: `*` and `?` are wildcards; `\*`, `\?` and `\\` stand for the
    /// character itself; any other backslash is a plain backslash.
    pub fn parse(raw: &str) -> Pattern {
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut chars = raw.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' if matches!(chars.peek(), Some('*' | '?' | '\\')) => text.push(chars.next().unwrap_or('\\')),
                '*' | '?' => {
                    if !text.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut text)));
                    }
                    pieces.push(if c == '*' { Piece::Any } else { Piece::One });
                }
                _ => text.push(c),
            }
        }
        if !text.is_empty() || pieces.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Pattern(pieces)
    }

    /// A written value as its modifiers see it: text with its wildcards, or a number's or
    /// boolean's text as it is; `None` for null.
    pub fn of_scalar(value: &Scalar) -> Option<Pattern> {
        Some(match value {
            Scalar::Null => return None,
            Scalar::Str(s) => Pattern::parse(s),
            Scalar::Int(i) => Pattern::literal(i.to_string()),
            Scalar::Float(f) => Pattern::literal(f.to_string()),
            Scalar::Bool(b) => Pattern::literal(b.to_string()),
        })
    }

    /// Text without wildcards (a number's digits, a `re` or `cidr` value).
    pub fn literal(text: impl Into<String>) -> Pattern {
        Pattern(vec![Piece::Text(text.into())])
    }

    /// The whole value's text when it has no wildcard.
    pub fn plain(&self) -> Option<String> {
        self.0.iter().map(Piece::text).collect()
    }

    fn bytes(&self) -> Option<Vec<u8>> {
        self.0.iter().map(Piece::bytes).try_fold(Vec::new(), |mut all, part| {
            all.extend(part?);
            Some(all)
        })
    }
}

/// The most values the encodings of one field test may make of its values, in all. `windash`
/// makes 5^n variants of a value with n option dashes: SigmaHQ's rules have at most 2 (25
/// variants); 14 would make six billion.
pub const MAX_VARIANTS: u64 = 10_000;

/// Why `expand` made no values.
#[derive(Debug, PartialEq, Eq)]
pub enum Unexpanded {
    /// An encoding step would make this many values (saturating), more than the budget.
    TooMany(u64),
    /// An encoding cannot apply to the value (see `encode`).
    Refused(String),
}

/// The values the encodings among `modifiers` (`windash`, `base64offset`, `wide`...) make of
/// `pattern`, applied in order as pySigma applies them. Each step's values are counted before
/// they are built, so no step makes more than `budget`.
pub fn expand(pattern: &Pattern, modifiers: &[Modifier], budget: u64) -> Result<Vec<Pattern>, Unexpanded> {
    let mut patterns = vec![pattern.clone()];
    for &modifier in modifiers.iter().filter(|m| m.is_encoding() || **m == Modifier::Windash) {
        let count = patterns.iter().fold(0u64, |sum, p| sum.saturating_add(variant_count(p, modifier)));
        if count > budget {
            return Err(Unexpanded::TooMany(count));
        }
        let encoded: Result<Vec<Vec<Pattern>>, String> = patterns.iter().map(|p| encode(p, modifier)).collect();
        patterns = encoded.map_err(Unexpanded::Refused)?.into_iter().flatten().collect();
    }
    Ok(patterns)
}

/// How many values `encode` makes of `pattern` under `modifier`, without making them.
fn variant_count(pattern: &Pattern, modifier: Modifier) -> u64 {
    match modifier {
        Modifier::Windash => {
            let options: usize =
                pattern.0.iter().map(|piece| if let Piece::Text(text) = piece { option_dashes(text).count() } else { 0 }).sum();
            (DASHES.len() as u64).saturating_pow(u32::try_from(options).unwrap_or(u32::MAX))
        }
        Modifier::Base64Offset => 3,
        _ => 1,
    }
}

/// The values one encoding modifier makes of `pattern`; an error when it cannot apply.
fn encode(pattern: &Pattern, modifier: Modifier) -> Result<Vec<Pattern>, String> {
    if modifier == Modifier::Windash {
        return Ok(windash(pattern));
    }
    let wildcard = || format!("`{}` cannot encode a value with wildcards", name(modifier));
    let bytes = pattern.bytes().ok_or_else(wildcard);
    let one = |bytes: Vec<u8>| vec![Pattern(vec![Piece::Bytes(bytes)])];
    Ok(match modifier {
        Modifier::Base64 => one(base64(&bytes?).into_bytes()),
        Modifier::Base64Offset => base64_offsets(&bytes?).into_iter().map(|s| Pattern(vec![Piece::Text(s)])).collect(),
        // Wildcards stay wildcards: only the text between them is re-encoded.
        Modifier::Utf16Le | Modifier::Utf16Be | Modifier::Utf16 => {
            let mut pieces: Vec<Piece> = pattern
                .0
                .iter()
                .map(|piece| match piece.text() {
                    Some(text) if !matches!(piece, Piece::Any | Piece::One) => Piece::Bytes(utf16(&text, modifier == Modifier::Utf16Be)),
                    _ => piece.clone(),
                })
                .collect();
            if modifier == Modifier::Utf16 {
                pieces.insert(0, Piece::Bytes(vec![0xFF, 0xFE]));
            }
            vec![Pattern(pieces)]
        }
        _ => vec![pattern.clone()],
    })
}

fn name(modifier: Modifier) -> &'static str {
    match modifier {
        Modifier::Base64 => "base64",
        Modifier::Base64Offset => "base64offset",
        Modifier::Utf16Le => "wide",
        Modifier::Utf16Be => "utf16be",
        Modifier::Utf16 => "utf16",
        _ => "modifier",
    }
}

fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
    text.encode_utf16().flat_map(|unit| if big_endian { unit.to_be_bytes() } else { unit.to_le_bytes() }).collect()
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            let sextet = (n >> (18 - 6 * i)) & 63;
            out.push(if i <= chunk.len() { char::from(BASE64[sextet as usize]) } else { '=' });
        }
    }
    out
}

/// The three texts a value's base64 contains wherever it starts in a longer input: encode it
/// after 0, 1 and 2 filler bytes and keep only the characters that do not depend on the
/// neighbours (pySigma's offsets).
fn base64_offsets(bytes: &[u8]) -> Vec<String> {
    const START: [usize; 3] = [0, 2, 3];
    const END_TRIM: [usize; 3] = [0, 3, 2];
    (0..3)
        .map(|shift| {
            let mut shifted = vec![b' '; shift];
            shifted.extend_from_slice(bytes);
            let encoded = base64(&shifted);
            let end = encoded.len().saturating_sub(END_TRIM[(bytes.len() + shift) % 3]);
            encoded.get(START[shift]..end.max(START[shift])).unwrap_or_default().to_string()
        })
        .collect()
}

/// The five dashes Windows command lines accept for an option's leading `-` or `/`.
const DASHES: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];

/// The character indices of a text's option characters: a `-` or `/` that starts a word
/// (pySigma's `\B[-/]\b`).
fn option_dashes(text: &str) -> impl Iterator<Item = usize> {
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    let chars: Vec<char> = text.chars().collect();
    (0..chars.len()).filter(move |&i| {
        let before = i.checked_sub(1).map(|j| chars[j]);
        (chars[i] == '-' || chars[i] == '/') && !word(before) && word(chars.get(i + 1).copied())
    })
}

/// Every variant of the value with each option character replaced by each of the five dashes.
fn windash(pattern: &Pattern) -> Vec<Pattern> {
    let mut variants = vec![Vec::new()];
    for piece in &pattern.0 {
        let Piece::Text(text) = piece else {
            variants.iter_mut().for_each(|v: &mut Vec<Piece>| v.push(piece.clone()));
            continue;
        };
        // Each piece of text splits at its option characters into alternatives.
        let options: Vec<usize> = option_dashes(text).collect();
        let mut texts = vec![String::new()];
        for (i, c) in text.chars().enumerate() {
            texts = if options.contains(&i) {
                texts.iter().flat_map(|t| DASHES.iter().map(move |d| format!("{t}{d}"))).collect()
            } else {
                texts
                    .into_iter()
                    .map(|mut t| {
                        t.push(c);
                        t
                    })
                    .collect()
            };
        }
        variants = variants.iter().flat_map(|v| texts.iter().map(move |t| [v.clone(), vec![Piece::Text(t.clone())]].concat())).collect();
    }
    variants.into_iter().map(Pattern).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_wildcards() {
        assert_eq!(
            Pattern::parse(r"a\*b*c?\\d\e").0,
            vec![Piece::Text("a*b".into()), Piece::Any, Piece::Text("c".into()), Piece::One, Piece::Text(r"\d\e".into())]
        );
        assert_eq!(Pattern::parse("").plain().as_deref(), Some(""));
    }

    #[test]
    fn base64_as_pysigma() {
        assert_eq!(base64(b"ping"), "cGluZw==");
        // pySigma's documented example values for `base64offset` of "/bin/bash".
        assert_eq!(base64_offsets(b"/bin/bash"), ["L2Jpbi9iYXNo", "9iaW4vYmFza", "vYmluL2Jhc2"]);
    }

    #[test]
    fn windash_expands_option_characters() {
        let variants: Vec<String> = windash(&Pattern::parse("-a x-y")).iter().filter_map(Pattern::plain).collect();
        assert_eq!(variants, ["-a x-y", "/a x-y", "\u{2013}a x-y", "\u{2014}a x-y", "\u{2015}a x-y"]);
    }

    #[test]
    fn wide_keeps_wildcards() {
        let wide = encode(&Pattern::parse("a*"), Modifier::Utf16Le).unwrap();
        assert_eq!(wide[0].0, vec![Piece::Bytes(vec![b'a', 0]), Piece::Any]);
        assert!(encode(&Pattern::parse("a*"), Modifier::Base64).is_err());
    }

    #[test]
    fn expansions_are_counted_before_they_are_built() {
        let two = Pattern::parse("-a /b");
        let both = [Modifier::Windash, Modifier::Base64Offset];
        assert_eq!(expand(&two, &both, 75).map(|v| v.len()), Ok(75));
        assert_eq!(expand(&two, &both, 74), Err(Unexpanded::TooMany(75)));
        let many = Pattern::parse(&"-a ".repeat(40));
        assert_eq!(expand(&many, &[Modifier::Windash], MAX_VARIANTS), Err(Unexpanded::TooMany(u64::MAX)));
    }
}
