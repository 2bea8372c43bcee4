//! Rule file bytes → text, refusing what no rule file holds with an error at its line and column.
//!
//! - Files (and standard input) larger than `MAX_FILE_BYTES` are refused before they are read
//!   whole, so a stray log or disk image cannot exhaust memory.
//! - A UTF-8 byte order mark is dropped; a UTF-16 one (what Windows tools often write) is decoded.
//! - Invalid UTF-8 and NUL bytes are errors: the first bad byte is named with its position.
//! - A lone `\r` (old Mac line ending) becomes `\n`, as YAML reads it, so that every reader and
//!   every position counts lines alike whatever the mix of endings.

use crate::diag::Position;
use std::io::Read;

/// The largest rule file read (64 MiB): far above any real rule or rule pack.
pub const MAX_FILE_BYTES: u64 = 64 << 20;

/// Why a file's bytes are not a rule file's text, and where.
#[derive(Debug, PartialEq, Eq)]
pub struct Refused {
    pub position: Position,
    pub message: String,
}

/// Reads at most `MAX_FILE_BYTES` from `reader`; `Ok(None)` when there is more. `expected` is
/// the size the reader is likely to hold (a file's length): reserved up front, it saves the
/// dozen small reads and copies of a growing buffer.
pub fn read_limited(reader: impl Read, expected: u64) -> std::io::Result<Option<Vec<u8>>> {
    let mut bytes = Vec::with_capacity(expected.min(MAX_FILE_BYTES) as usize + 1);
    reader.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= MAX_FILE_BYTES).then_some(bytes))
}

/// The message for a file `read_limited` refused.
pub fn too_large() -> String {
    format!("the file is larger than {} MiB, the most ruleconv reads", MAX_FILE_BYTES >> 20)
}

/// The text of a rule file's bytes.
pub fn decode(bytes: &[u8]) -> Result<String, Refused> {
    let text = if let Some(rest) = bytes.strip_prefix(b"\xff\xfe") {
        utf16(rest, u16::from_le_bytes)?
    } else if let Some(rest) = bytes.strip_prefix(b"\xfe\xff") {
        utf16(rest, u16::from_be_bytes)?
    } else {
        let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
        match std::str::from_utf8(bytes) {
            Ok(text) => text.to_string(),
            Err(e) => {
                let at = e.valid_up_to();
                let message = format!("the file is not valid UTF-8: byte 0x{:02X} at offset {at} (save it as UTF-8)", bytes[at]);
                return Err(Refused { position: position_at(&bytes[..at]), message });
            }
        }
    };
    if let Some(at) = text.find('\0') {
        let message = "the file holds a NUL byte: a binary file, or text in an encoding other than UTF-8 or UTF-16 with a byte order mark";
        return Err(Refused { position: position_at(&text.as_bytes()[..at]), message: message.into() });
    }
    Ok(lone_carriage_returns_as_newlines(text))
}

/// Decodes UTF-16 code units (after the byte order mark) read by `unit`.
fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, Refused> {
    let units = bytes.chunks(2).map(|pair| match pair {
        [a, b] => Ok(unit([*a, *b])),
        _ => Err(()),
    });
    let mut text = String::with_capacity(bytes.len() / 2);
    for decoded in char::decode_utf16(units.map_while(Result::ok)) {
        match decoded {
            Ok(c) => text.push(c),
            Err(e) => {
                let message = format!("the file is not valid UTF-16: unpaired surrogate 0x{:04X}", e.unpaired_surrogate());
                return Err(Refused { position: position_at(text.as_bytes()), message });
            }
        }
    }
    if bytes.len() % 2 == 1 {
        return Err(Refused {
            position: position_at(text.as_bytes()),
            message: "the file is not valid UTF-16: it ends in half a character".into(),
        });
    }
    Ok(text)
}

/// The line and column just after `before`, the valid text preceding a bad byte.
fn position_at(before: &[u8]) -> Position {
    let before = String::from_utf8_lossy(before);
    let line_start = before.rfind(['\n', '\r']).map_or(0, |i| i + 1);
    let lines =
        before.matches('\n').count() + before.match_indices('\r').filter(|(i, _)| before.as_bytes().get(i + 1) != Some(&b'\n')).count();
    Position::new(lines + 1, before[line_start..].chars().count() + 1)
}

fn lone_carriage_returns_as_newlines(text: String) -> String {
    if !text.contains('\r') {
        return text;
    }
    let bytes = text.as_bytes();
    let mut out = text.clone().into_bytes();
    for (i, byte) in out.iter_mut().enumerate() {
        if *byte == b'\r' && bytes.get(i + 1) != Some(&b'\n') {
            *byte = b'\n';
        }
    }
    // Only ASCII `\r` bytes were replaced by ASCII `\n`: still UTF-8.
    String::from_utf8(out).unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(bytes: &[u8]) -> Refused {
        decode(bytes).unwrap_err()
    }

    #[test]
    fn boms_are_read() {
        assert_eq!(decode(b"\xef\xbb\xbfa: 1\n").unwrap(), "a: 1\n");
        assert_eq!(decode(b"\xff\xfea\x00:\x00 \x001\x00").unwrap(), "a: 1");
        assert_eq!(decode(b"\xfe\xff\x00a\x00:\x00 \x001").unwrap(), "a: 1");
        assert_eq!(refused(b"\xff\xfea\x00:").message, "the file is not valid UTF-16: it ends in half a character");
        assert!(refused(b"\xff\xfea\x00\x00\xd8").message.contains("unpaired surrogate 0xD800"));
    }

    #[test]
    fn bad_bytes_are_named_at_their_position() {
        let e = refused(b"a: 1\r\nb: caf\xc3 x\n");
        assert_eq!(e.position, Position::new(2, 7));
        assert_eq!(e.message, "the file is not valid UTF-8: byte 0xC3 at offset 12 (save it as UTF-8)");
        let e = refused("a: 1\nb: é\0\n".as_bytes());
        assert_eq!(e.position, Position::new(2, 5));
        assert!(e.message.contains("NUL byte"));
    }

    #[test]
    fn lone_carriage_returns_break_lines() {
        assert_eq!(decode(b"a\rb\r\nc\n\r").unwrap(), "a\nb\r\nc\n\n");
        assert_eq!(refused(b"a\rb\r\n\xff").position, Position::new(3, 1));
    }

    #[test]
    fn reading_stops_past_the_limit() {
        let big = std::io::repeat(b'x').take(MAX_FILE_BYTES + 10);
        assert_eq!(read_limited(big, 0).unwrap(), None);
        assert_eq!(read_limited(&b"abc"[..], 1).unwrap(), Some(b"abc".to_vec()));
    }
}
