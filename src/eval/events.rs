//! Reading events: one JSON object per line (JSON Lines); blank lines are skipped.

use super::cell::Row;
use std::fmt;

/// A line that is not a JSON object.
#[derive(Debug, PartialEq, Eq)]
pub struct BadLine {
    /// 1-based.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for BadLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

pub fn parse_events(text: &str) -> Result<Vec<Row>, BadLine> {
    let mut events = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |message: String| BadLine { line: index + 1, message };
        match serde_json::from_str::<serde_json::Value>(line) {
            Ok(serde_json::Value::Object(event)) => events.push(event),
            Ok(_) => return Err(bad("an event must be a JSON object ({...})".into())),
            Err(e) => return Err(bad(format!("not JSON: {e}"))),
        }
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_per_line_and_the_first_bad_line_named() {
        assert_eq!(parse_events("{\"A\": 1}\n\n{\"B\": 2}\n").unwrap().len(), 2);
        assert_eq!(parse_events("{\"A\": 1}\n[1]\n").unwrap_err().line, 2);
        let err = parse_events("{\"A\": 1}\n{\"A\": \n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.to_string().starts_with("line 2: not JSON"), "{err}");
    }
}
