//! Profiles are data: YAML files, the built-in ones embedded at build time and a user's read
//! from disk (`--profile FILE`). One loader for all of them: a YAML error or a value of the
//! wrong shape is named at its file, line and column, found by following the path serde
//! reports into the positioned YAML tree.

use crate::diag::Position;
use crate::yaml::{self, Node, Value};
use serde::de::DeserializeOwned;
use serde_path_to_error::Segment;
use std::path::Path;
use std::sync::OnceLock;

/// A built-in profile, read once. It is ours and tested, so a broken one is a bug.
pub fn embedded<T: DeserializeOwned>(cell: &'static OnceLock<T>, name: &str, text: &'static str) -> &'static T {
    cell.get_or_init(|| parse(text, Path::new(name)).unwrap_or_else(|e| panic!("built-in profile {e}")))
}

/// A profile is a few hundred kilobytes; a larger file is no profile.
const MAX_PROFILE_BYTES: u64 = 16 << 20;

/// A user's profile file as text, refused unread past `MAX_PROFILE_BYTES`.
pub fn read(path: &Path) -> Result<String, String> {
    let cannot = |e: std::io::Error| format!("{}: cannot read the profile: {e}", path.display());
    let length = std::fs::metadata(path).map_err(cannot)?.len();
    if length > MAX_PROFILE_BYTES {
        return Err(format!("{}: the profile is {length} bytes, more than a profile's {MAX_PROFILE_BYTES}", path.display()));
    }
    std::fs::read_to_string(path).map_err(cannot)
}

/// A profile file's first YAML document as `T`; `Err` is `FILE:LINE:COL: what is wrong`.
pub fn parse<T: DeserializeOwned>(text: &str, file: &Path) -> Result<T, String> {
    let at = |position: Position, message: &str| format!("{}:{}:{}: {message}", file.display(), position.line, position.col);
    let documents = yaml::parse_documents(text).map_err(|e| at(e.position, &format!("YAML: {}", e.message)))?;
    let Some(document) = documents.first() else { return Err(at(Position::new(1, 1), "the profile is empty")) };
    serde_path_to_error::deserialize(document.to_json()).map_err(|e| {
        let position = position_of(document, e.path().iter().peekable());
        at(position, &e.inner().to_string())
    })
}

/// Where the value at `path` is written: the deepest node the path reaches, a map's value
/// by its key (an unknown field, or a value of the wrong type, is named where its key is).
fn position_of<'a>(node: &Node, mut path: std::iter::Peekable<impl Iterator<Item = &'a Segment>>) -> Position {
    let Some(segment) = path.next() else { return node.position };
    match (segment, &node.value) {
        (Segment::Map { key }, Value::Map(entries)) => match entries.iter().find(|e| &e.key == key) {
            Some(entry) if path.peek().is_none() => entry.key_position,
            Some(entry) => position_of(&entry.value, path),
            None => node.position,
        },
        (Segment::Seq { index }, Value::Seq(items)) => items.get(*index).map_or(node.position, |item| position_of(item, path)),
        _ => node.position,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use std::collections::BTreeMap;

    // The fields are read only to check the shape.
    #[allow(dead_code)]
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Shape {
        name: String,
        #[serde(default)]
        items: Vec<Item>,
        #[serde(default)]
        map: BTreeMap<String, u32>,
    }

    #[allow(dead_code)]
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Item {
        table: String,
    }

    fn error(text: &str) -> String {
        parse::<Shape>(text, Path::new("p.yaml")).unwrap_err()
    }

    #[test]
    fn errors_name_the_line_and_column_of_what_is_wrong() {
        assert!(parse::<Shape>("name: x\nitems:\n  - table: T\n", Path::new("p.yaml")).is_ok());
        let unknown = error("name: x\nitems:\n  - table: T\n  - tabel: U\n");
        assert!(unknown.starts_with("p.yaml:4:5: unknown field `tabel`"), "{unknown}");
        let wrong_type = error("name: x\nmap:\n  a: 1\n  b: many\n");
        assert!(wrong_type.starts_with("p.yaml:4:3: invalid type: string \"many\""), "{wrong_type}");
        let missing = error("items: []\n");
        assert!(missing.starts_with("p.yaml:1:1: missing field `name`"), "{missing}");
        let syntax = error("name: [x\n");
        assert!(syntax.starts_with("p.yaml:") && syntax.contains("YAML:"), "{syntax}");
        assert_eq!(error(""), "p.yaml:1:1: the profile is empty");
    }
}
