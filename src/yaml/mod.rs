//! YAML as a tree of nodes that remember where they were written.
//!
//! Built on `saphyr-parser` events (see README for why): readers need the line and column of
//! every value so that an error, or a KQL problem inside a `query: |` block, points into the
//! rule file. Keys keep their order; aliases are expanded with a budget.

mod write;

pub use write::{to_yaml_string, to_yaml_string_styled};

use crate::diag::Position;
use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};
use std::collections::HashMap;

/// A parsed YAML value with the position where it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub position: Position,
    /// How a scalar was written; `Plain` for collections.
    pub style: Style,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_position: Position,
    pub value: Node,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

/// A YAML syntax error with the position the parser stopped at.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct YamlError {
    pub position: Position,
    pub message: String,
}

/// Nodes aliases may expand to, in total, before the stream is refused
/// (guards against "billion laughs" documents).
const ALIAS_BUDGET: usize = 100_000;
/// Text (scalars and keys) aliases may expand to, in total: a few nodes can hold a lot of it
/// (one 100 KB string referenced 10,000 times is 1 GB).
const ALIAS_BYTES_BUDGET: usize = 16 << 20;
/// Collections nested deeper than this are refused rather than risking the stack.
const MAX_DEPTH: usize = 256;

/// Parses every document of a YAML stream.
pub fn parse_documents(text: &str) -> Result<Vec<Node>, YamlError> {
    let mut builder =
        Builder { events: Parser::new_from_str(text), anchors: HashMap::new(), alias_nodes: 0, alias_bytes: 0, last: Position::new(1, 1) };
    builder.stream()
}

impl Node {
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn entries(&self) -> Option<&[Entry]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries()?.iter().find(|e| e.key == key).map(|e| &e.value)
    }

    /// A short name for the kind of value, for error messages.
    pub fn kind_name(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// The generic data value, for keys the IR keeps without modelling them.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map(J::Number).unwrap_or_else(|| J::String(f.to_string())),
            Value::Str(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(entries.iter().map(|e| (e.key.clone(), e.value.to_json())).collect()),
        }
    }
}

struct Builder<'a> {
    events: Parser<'a, saphyr_parser::StrInput<'a>>,
    anchors: HashMap<usize, Node>,
    alias_nodes: usize,
    alias_bytes: usize,
    last: Position,
}

fn position_of(span: &Span) -> Position {
    Position::new(span.start.line(), span.start.col() + 1)
}

impl<'a> Builder<'a> {
    fn next(&mut self) -> Result<(Event<'a>, Position), YamlError> {
        match self.events.next() {
            Some(Ok((event, span))) => {
                self.last = position_of(&span);
                let position = text_position(&event, &span).unwrap_or(self.last);
                Ok((event, position))
            }
            Some(Err(e)) => {
                Err(YamlError { position: Position::new(e.marker().line(), e.marker().col() + 1), message: e.info().to_string() })
            }
            None => Err(YamlError { position: self.last, message: "unexpected end of YAML".into() }),
        }
    }

    fn stream(&mut self) -> Result<Vec<Node>, YamlError> {
        let mut documents = Vec::new();
        loop {
            match self.next()?.0 {
                Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
                Event::StreamEnd => return Ok(documents),
                Event::DocumentStart(_) => {
                    let (event, position) = self.next()?;
                    documents.push(self.node(event, position, 0)?);
                }
                _ => return Err(self.error("unexpected YAML event outside a document")),
            }
        }
    }

    fn error(&self, message: impl Into<String>) -> YamlError {
        YamlError { position: self.last, message: message.into() }
    }

    fn node(&mut self, event: Event<'a>, position: Position, depth: usize) -> Result<Node, YamlError> {
        if depth > MAX_DEPTH {
            return Err(self.error(format!("YAML nested deeper than {MAX_DEPTH} levels")));
        }
        let (node, anchor) = match event {
            Event::Scalar(text, style, anchor, tag) => {
                let style = match style {
                    ScalarStyle::Plain => Style::Plain,
                    ScalarStyle::SingleQuoted => Style::SingleQuoted,
                    ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
                    ScalarStyle::Literal => Style::Literal,
                    ScalarStyle::Folded => Style::Folded,
                };
                let value = match tag.as_deref().map(core_tag) {
                    None if style == Style::Plain => resolve_plain(&text),
                    None => Value::Str(text.into_owned()),
                    Some(Ok(tag)) => {
                        tagged(tag, &text).ok_or_else(|| YamlError { position, message: format!("`{text}` is not a valid `!!{tag}`") })?
                    }
                    // The tag is where the event started, before the text.
                    Some(Err(tag)) => return Err(unsupported_tag(&tag, self.last)),
                };
                (Node { value, position, style }, anchor)
            }
            Event::SequenceStart(anchor, tag) => {
                collection_tag(tag.as_deref(), "seq", position)?;
                let mut items = Vec::new();
                loop {
                    let (event, item_position) = self.next()?;
                    if matches!(event, Event::SequenceEnd) {
                        break;
                    }
                    items.push(self.node(event, item_position, depth + 1)?);
                }
                (Node { value: Value::Seq(items), position, style: Style::Plain }, anchor)
            }
            Event::MappingStart(anchor, tag) => {
                collection_tag(tag.as_deref(), "map", position)?;
                let mut entries: Vec<Entry> = Vec::new();
                loop {
                    let (event, key_position) = self.next()?;
                    if matches!(event, Event::MappingEnd) {
                        break;
                    }
                    let key_node = self.node(event, key_position, depth + 1)?;
                    let key = scalar_key(&key_node)
                        .ok_or_else(|| YamlError { position: key_position, message: "mapping keys must be scalars".into() })?;
                    if entries.iter().any(|e| e.key == key) {
                        return Err(YamlError { position: key_position, message: format!("duplicate key `{key}`") });
                    }
                    let (event, value_position) = self.next()?;
                    let value = self.node(event, value_position, depth + 1)?;
                    entries.push(Entry { key, key_position, value });
                }
                (Node { value: Value::Map(entries), position, style: Style::Plain }, anchor)
            }
            Event::Alias(id) => {
                let anchored = self.anchors.get(&id).ok_or_else(|| self.error("alias to an unknown anchor"))?;
                // Counted before the copy is made.
                let (nodes, bytes) = expanded_size(anchored);
                self.alias_nodes += nodes;
                self.alias_bytes += bytes;
                if self.alias_nodes > ALIAS_BUDGET {
                    return Err(self.error("aliases expand to too many nodes"));
                }
                if self.alias_bytes > ALIAS_BYTES_BUDGET {
                    return Err(self.error(format!("aliases expand to more than {} MiB of text", ALIAS_BYTES_BUDGET >> 20)));
                }
                return Ok(Node { position, ..anchored.clone() });
            }
            _ => return Err(self.error("unexpected YAML event")),
        };
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        Ok(node)
    }
}

/// Where a scalar's own text starts. Its event starts at its tag or anchor (`!!int 12`,
/// `&a 12`), which is not the value a reader quotes or measures: for a one-line plain scalar,
/// the text ends where the event ends. Other scalars keep the event's start.
fn text_position(event: &Event, span: &Span) -> Option<Position> {
    let Event::Scalar(text, ScalarStyle::Plain, ..) = event else { return None };
    let start = span.end.col().checked_sub(text.chars().count())?;
    (span.end.line() == span.start.line() && start > span.start.col()).then(|| Position::new(span.end.line(), start + 1))
}

/// The YAML 1.2 core schema's scalar tags, the ones a rule can mean
/// (<https://yaml.org/spec/1.2.2/#103-core-schema>); `Err` names any other tag.
fn core_tag(tag: &Tag) -> Result<&'static str, String> {
    const SCALARS: [&str; 5] = ["str", "int", "float", "bool", "null"];
    match SCALARS.iter().find(|s| tag.is_yaml_core_schema() && tag.suffix == **s) {
        Some(name) => Ok(name),
        // The non-specific tag `!` makes a scalar a string (YAML 1.2, section 6.9.1).
        None if tag.handle.is_empty() && tag.suffix == "!" || tag.handle == "!" && tag.suffix.is_empty() => Ok("str"),
        None => Err(tag_text(tag)),
    }
}

/// A tag as written: `!!binary` for the core schema's, else as resolved.
fn tag_text(tag: &Tag) -> String {
    if tag.is_yaml_core_schema() { format!("!!{}", tag.suffix) } else { tag.to_string() }
}

/// A scalar's value under an explicit core tag; `None` when the text is not of that type.
fn tagged(tag: &str, text: &str) -> Option<Value> {
    let resolved = resolve_plain(text);
    match (tag, resolved) {
        ("str", _) => Some(Value::Str(text.to_string())),
        ("int", value @ Value::Int(_)) | ("float", value @ Value::Float(_)) | ("bool", value @ Value::Bool(_)) => Some(value),
        ("float", Value::Int(i)) => Some(Value::Float(i as f64)),
        ("null", Value::Null) => Some(Value::Null),
        _ => None,
    }
}

/// A collection's tag: none, or the core schema's own for its kind.
fn collection_tag(tag: Option<&Tag>, kind: &str, position: Position) -> Result<(), YamlError> {
    match tag {
        Some(tag) if !(tag.is_yaml_core_schema() && tag.suffix == kind) => Err(unsupported_tag(&tag_text(tag), position)),
        _ => Ok(()),
    }
}

fn unsupported_tag(tag: &str, position: Position) -> YamlError {
    let message =
        format!("unsupported YAML tag `{tag}`: rules use only the core schema's !!str, !!int, !!float, !!bool, !!null, !!seq, !!map");
    YamlError { position, message }
}

/// What copying a node costs: its nodes, and the bytes of its scalars' and keys' text.
fn expanded_size(node: &Node) -> (usize, usize) {
    let add = |(n, b): (usize, usize), (m, c): (usize, usize)| (n + m, b + c);
    match &node.value {
        Value::Seq(items) => items.iter().map(expanded_size).fold((1, 0), add),
        Value::Map(entries) => entries.iter().map(|e| add(expanded_size(&e.value), (0, e.key.len()))).fold((1, 0), add),
        Value::Str(text) => (1, text.len()),
        // Other scalars are small and fixed in size: the node budget counts them.
        _ => (1, 0),
    }
}

fn scalar_key(node: &Node) -> Option<String> {
    Some(match &node.value {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Str(s) => s.clone(),
        Value::Seq(_) | Value::Map(_) => return None,
    })
}

/// Resolves a plain scalar by the YAML 1.2 core schema.
fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Value::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    if let Some(int) = parse_int(text) {
        return Value::Int(int);
    }
    if is_float(text)
        && let Ok(f) = text.parse::<f64>()
    {
        return Value::Float(f);
    }
    Value::Str(text.to_string())
}

fn parse_int(text: &str) -> Option<i64> {
    if let Some(hex) = text.strip_prefix("0x") {
        return i64::from_str_radix(hex, 16).ok();
    }
    if let Some(oct) = text.strip_prefix("0o") {
        return i64::from_str_radix(oct, 8).ok();
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// `[-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?`
fn is_float(text: &str) -> bool {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (mantissa, None),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match fraction {
        Some(f) => digits(whole) && digits(f) && !(whole.is_empty() && f.is_empty()),
        None => !whole.is_empty() && digits(whole),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_types_and_positions() {
        let docs = parse_documents("b: 1\na: 'x'\nc:\n  - true\n  - ~\nd: 1.5\ne: 1.0.3\n").unwrap();
        let root = &docs[0];
        let keys: Vec<_> = root.entries().unwrap().iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["b", "a", "c", "d", "e"]);
        assert_eq!(root.get("b").unwrap().value, Value::Int(1));
        assert_eq!(root.get("a").unwrap().style, Style::SingleQuoted);
        assert_eq!(root.get("a").unwrap().position, Position::new(2, 4));
        assert_eq!(root.get("d").unwrap().value, Value::Float(1.5));
        assert_eq!(root.get("e").unwrap().as_str(), Some("1.0.3"));
        let Value::Seq(items) = &root.get("c").unwrap().value else { panic!("expected a list") };
        assert_eq!(items[0].value, Value::Bool(true));
        assert_eq!(items[1].value, Value::Null);
    }

    #[test]
    fn syntax_error_has_a_position() {
        let err = parse_documents("a: 1\nb: [1, 2\nc: 3\n").unwrap_err();
        assert!(err.position.line >= 2, "{err:?}");
    }

    #[test]
    fn duplicate_keys_are_refused() {
        let err = parse_documents("a: 1\na: 2\n").unwrap_err();
        assert_eq!(err.position, Position::new(2, 1));
        assert!(err.message.contains("duplicate key"));
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..8 {
            let p = i - 1;
            text.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
        }
        assert!(parse_documents(&text).unwrap_err().message.contains("aliases"));
    }

    /// Issue 19 item 10: explicit core-schema tags decide the type; others are refused.
    #[test]
    fn core_tags_decide_the_type_and_other_tags_are_errors() {
        let docs = parse_documents("a: !!str 4688\nb: !!int 12\nc: !!float 3\nd: !!bool true\ne: !!null ''\nf: !!seq [x]\n").unwrap();
        let value = |key: &str| docs[0].get(key).unwrap().value.clone();
        assert_eq!(value("a"), Value::Str("4688".into()));
        assert_eq!(value("b"), Value::Int(12));
        assert_eq!(value("c"), Value::Float(3.0));
        assert_eq!(value("d"), Value::Bool(true));
        assert_eq!(value("e"), Value::Null);
        // The value's position is its text, after the tag.
        assert_eq!(docs[0].get("b").unwrap().position, Position::new(2, 10));
        let err = parse_documents("a: !!int twelve\n").unwrap_err();
        assert_eq!((err.position, err.message.as_str()), (Position::new(1, 10), "`twelve` is not a valid `!!int`"));
        let err = parse_documents("a: !!binary aGk=\n").unwrap_err();
        assert_eq!(err.position, Position::new(1, 4));
        assert!(err.message.starts_with("unsupported YAML tag `!!binary`"), "{err:?}");
        assert!(parse_documents("a: !!map [x]\n").is_err());
    }

    #[test]
    fn aliases_of_long_text_are_refused() {
        let text = format!("a: &a {}\nb: [{}]\n", "x".repeat(1 << 20), vec!["*a"; 17].join(", "));
        assert_eq!(parse_documents(&text).unwrap_err().message, "aliases expand to more than 16 MiB of text");
        let text = format!("a: &a {}\nb: [{}]\n", "x".repeat(1 << 20), vec!["*a"; 16].join(", "));
        assert!(parse_documents(&text).is_ok());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = "[".repeat(10_000);
        assert!(parse_documents(&text).is_err());
    }
}
