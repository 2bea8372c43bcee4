//! Finds the Sentinel rule definition inside a page and rebuilds it as YAML.
//!
//! A page copied from a site keeps the definition either as YAML (indented as written) or
//! flattened: every line moved to one column, so nesting and block scalars are gone. The
//! flattened form is rebuilt from what Sentinel's keys are: which keys exist at the top
//! level and inside connectors, entity mappings, incident settings ..., which of them hold
//! lists, and that a `query: |` block runs until the next key. Whatever could belong to two
//! places is an error at its line, never a guess.
//!
//! The rebuilt text keeps the page's line numbers (lines outside the definition are empty);
//! `shifts` says how many columns each line moved, so positions map back into the page.

use crate::diag::Position;
use crate::sentinel::keys::{Key, Naming, nested};

/// The rebuilt definition: YAML text whose line `i` is page line `i`, moved by `shifts[i]`.
pub struct Rebuilt {
    pub text: String,
    shifts: Vec<isize>,
    /// Page lines (0-based) the definition spans: `start..end`.
    pub start: usize,
    pub end: usize,
}

impl Rebuilt {
    /// The page position of a position in the rebuilt text.
    pub fn to_page(&self, position: Position) -> Position {
        let shift = self.shifts.get(position.line.wrapping_sub(1)).copied().unwrap_or(0);
        let col = (position.col as isize - shift).max(1) as usize;
        Position::new(position.line, col)
    }
}

/// A line the definition cannot be rebuilt from, and why (page position).
#[derive(Debug)]
pub struct RebuildError {
    pub position: Position,
    pub message: String,
}

/// What a key's value holds, as far as rebuilding needs to know.
enum Shape {
    Text,
    List(&'static Shape),
    Map(&'static [(&'static str, Shape)]),
    /// Keys chosen by the rule's author (custom details, metadata): any key that is not a rule key.
    Open,
    /// The rule itself.
    Rule,
}

const CONNECTOR: Shape = Shape::Map(&[(nested::CONNECTOR_ID, Shape::Text), (nested::DATA_TYPES, Shape::List(&Shape::Text))]);
const FIELD_MAPPING: Shape = Shape::Map(&[(nested::IDENTIFIER, Shape::Text), (nested::COLUMN_NAME, Shape::Text)]);
const ENTITY_MAPPING: Shape = Shape::Map(&[(nested::ENTITY_TYPE, Shape::Text), (nested::FIELD_MAPPINGS, Shape::List(&FIELD_MAPPING))]);
const DYNAMIC_PROPERTY: Shape = Shape::Map(&[(nested::ALERT_PROPERTY, Shape::Text), (nested::VALUE, Shape::Text)]);
const ALERT_DETAILS: Shape = Shape::Map(&[
    (nested::ALERT_DISPLAY_NAME_FORMAT, Shape::Text),
    (nested::ALERT_DESCRIPTION_FORMAT, Shape::Text),
    (nested::ALERT_TACTICS_COLUMN_NAME, Shape::Text),
    (nested::ALERT_SEVERITY_COLUMN_NAME, Shape::Text),
    (nested::ALERT_DYNAMIC_PROPERTIES, Shape::List(&DYNAMIC_PROPERTY)),
]);
const GROUPING: Shape = Shape::Map(&[
    (nested::GROUPING_ENABLED, Shape::Text),
    (nested::REOPEN_CLOSED_INCIDENT, Shape::Text),
    (nested::LOOKBACK_DURATION, Shape::Text),
    (nested::MATCHING_METHOD, Shape::Text),
    (nested::GROUP_BY_ENTITIES, Shape::List(&Shape::Text)),
    (nested::GROUP_BY_ALERT_DETAILS, Shape::List(&Shape::Text)),
    (nested::GROUP_BY_CUSTOM_DETAILS, Shape::List(&Shape::Text)),
]);
const INCIDENT: Shape = Shape::Map(&[(nested::CREATE_INCIDENT, Shape::Text), (nested::GROUPING_CONFIGURATION, GROUPING)]);
const EVENT_GROUPING: Shape = Shape::Map(&[(nested::AGGREGATION_KIND, Shape::Text)]);
/// Content Hub `metadata` (Azure-Sentinel Solutions rules): the Sentinel API's content
/// metadata objects `source`, `author`, `support` and `categories`
/// (<https://learn.microsoft.com/javascript/api/@azure/arm-securityinsight/metadatasource>,
/// `metadataauthor`, `metadatasupport`, `metadatacategories`).
const METADATA: Shape = Shape::Map(&[
    ("source", Shape::Map(&[("kind", Shape::Text), ("name", Shape::Text), ("sourceId", Shape::Text)])),
    ("author", Shape::Map(&[("name", Shape::Text), ("email", Shape::Text), ("link", Shape::Text)])),
    ("support", Shape::Map(&[("tier", Shape::Text), ("name", Shape::Text), ("email", Shape::Text), ("link", Shape::Text)])),
    ("categories", Shape::Map(&[("domains", Shape::List(&Shape::Text)), ("verticals", Shape::List(&Shape::Text))])),
]);
const SENTINEL_ENTITY: Shape = Shape::Map(&[(nested::COLUMN_NAME, Shape::Text)]);
const RULE: Shape = Shape::Rule;
const OPEN: Shape = Shape::Open;
const TEXT: Shape = Shape::Text;

/// The shape of a top-level rule key's value.
fn rule_key_shape(key: Key) -> &'static Shape {
    match key {
        Key::Connectors => &Shape::List(&CONNECTOR),
        Key::Tactics | Key::Techniques | Key::SubTechniques => &Shape::List(&Shape::Text),
        Key::EntityMappings => &Shape::List(&ENTITY_MAPPING),
        Key::SentinelEntitiesMappings => &Shape::List(&SENTINEL_ENTITY),
        Key::AlertDetailsOverride => &ALERT_DETAILS,
        Key::EventGrouping => &EVENT_GROUPING,
        Key::Incident => &INCIDENT,
        Key::Metadata => &METADATA,
        Key::CustomDetails | Key::Tags => &OPEN,
        _ => &TEXT,
    }
}

fn rule_key(name: &str) -> Option<Key> {
    Key::from_name(Naming::Yaml, name)
}

/// Keys that exist only inside a rule's nested objects (`dataTypes`, `columnName` ...).
fn is_nested_key(name: &str) -> bool {
    fn walk(shape: &Shape, name: &str) -> bool {
        match shape {
            Shape::List(item) => walk(item, name),
            Shape::Map(fields) => fields.iter().any(|(key, value)| *key == name || walk(value, name)),
            _ => false,
        }
    }
    rule_key(name).is_none()
        && [&CONNECTOR, &ENTITY_MAPPING, &ALERT_DETAILS, &INCIDENT, &EVENT_GROUPING, &METADATA].iter().any(|s| walk(s, name))
}

/// One line's YAML shape, from its text without indentation.
#[derive(Debug, PartialEq)]
enum Line<'a> {
    Blank,
    /// `- rest`.
    Item(&'a str),
    /// `key: value` (value trimmed, maybe empty).
    Key(&'a str, &'a str),
    Other,
}

fn classify(text: &str) -> Line<'_> {
    let text = text.trim();
    if text.is_empty() {
        return Line::Blank;
    }
    if text == "-" || text.starts_with("- ") {
        return Line::Item(text[1..].trim_start());
    }
    key_value(text).map_or(Line::Other, |(key, value)| Line::Key(key, value))
}

/// `key: value` with a plain key of letters, digits, `_`, `-` or `.`, starting with a letter.
fn key_value(text: &str) -> Option<(&str, &str)> {
    let (key, value) = text.split_once(':')?;
    let plain = key.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    (plain && (value.is_empty() || value.starts_with(' '))).then(|| (key, value.trim()))
}

fn indentation(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// A block scalar header value: `|`, `>-`, `|2` ... (maybe followed by a comment).
fn is_block_header(value: &str) -> bool {
    let head = value.split(" #").next().unwrap_or("").trim();
    head.starts_with(['|', '>']) && head[1..].chars().all(|c| matches!(c, '-' | '+' | '1'..='9'))
}

/// A line that is not YAML: prose, or a `Label:` written capitalised as pages do.
pub fn is_prose(text: &str) -> bool {
    match classify(text) {
        Line::Other => true,
        Line::Key(key, _) => key.starts_with(|c: char| c.is_ascii_uppercase()),
        _ => false,
    }
}

/// A rule key at the start of a definition: a Sentinel key that is lower-case, as Sentinel
/// spells them (page labels such as `Source:` are capitalised).
fn is_rule_key_line(text: &str) -> bool {
    matches!(classify(text), Line::Key(key, _) if rule_key(key).is_some())
}

/// Finds the definition and rebuilds it: the first run of lines that starts with a rule key and
/// holds a `name` or `query`. `None` when the page has none.
pub fn find(lines: &[&str]) -> Option<Result<Rebuilt, RebuildError>> {
    let mut from = 0;
    while let Some(start) = (from..lines.len()).find(|&i| is_rule_key_line(lines[i])) {
        let column = indentation(lines[start]);
        let (end, flattened) = yaml_extent(lines, start, column);
        let result = if flattened { flattened_rebuild(lines, start) } else { Ok(as_written(lines, start, end)) };
        let holds_rule = |end: usize| {
            lines[start..end].iter().any(|l| indentation(l) == column && matches!(classify(l), Line::Key("name" | "query", _)))
        };
        match result {
            Ok(rebuilt) if holds_rule(rebuilt.end) => return Some(Ok(rebuilt)),
            Err(e) if holds_rule(lines.len()) => return Some(Err(e)),
            _ => from = start + 1,
        }
    }
    None
}

/// Where a definition written as YAML (keys at `column`, nesting deeper) ends, and whether it
/// is in fact flattened: a block scalar with nothing indented under it before prose, or a key
/// that only exists nested (`dataTypes`) at the top column.
fn yaml_extent(lines: &[&str], start: usize, column: usize) -> (usize, bool) {
    let mut end = start + 1;
    let mut after_block_header = false;
    for (i, line) in lines.iter().enumerate().skip(start + 1) {
        let kind = classify(line);
        if kind == Line::Blank {
            continue;
        }
        let indent = indentation(line);
        let continues = indent > column
            || indent == column
                && match kind {
                    Line::Item(_) => true,
                    Line::Key(key, _) => rule_key(key).is_some() || key.starts_with(|c: char| c.is_ascii_lowercase()),
                    _ => false,
                };
        if !continues {
            return (end, after_block_header);
        }
        if indent == column && matches!(kind, Line::Key(key, _) if is_nested_key(key)) {
            return (end, true);
        }
        after_block_header = indent == column && matches!(kind, Line::Key(_, value) if is_block_header(value));
        end = i + 1;
    }
    (end, false)
}

/// A definition written as YAML: taken as it is.
fn as_written(lines: &[&str], start: usize, end: usize) -> Rebuilt {
    let mut text = "\n".repeat(start);
    for line in &lines[start..end] {
        text.push_str(line);
        text.push('\n');
    }
    Rebuilt { text, shifts: vec![0; end], start, end }
}

/// An open mapping or list while rebuilding, and the column its lines are written at.
struct Frame {
    shape: &'static Shape,
    /// What it is, for messages: "`entityMappings`", "an item of `entityMappings`".
    name: String,
    column: usize,
    /// The keys it already has (a second one belongs further out).
    keys: Vec<String>,
}

impl Frame {
    fn new(shape: &'static Shape, name: String, column: usize) -> Self {
        Frame { shape, name, column, keys: Vec::new() }
    }

    fn takes_key(&self, key: &str, innermost: bool) -> bool {
        let fits = match self.shape {
            Shape::Map(fields) => fields.iter().any(|(k, _)| *k == key),
            Shape::Open => rule_key(key).is_none(),
            // Unknown lower-case keys are the rule's own extensions, unless something nested is open.
            Shape::Rule => rule_key(key).is_some() || innermost && key.starts_with(|c: char| c.is_ascii_lowercase()),
            Shape::Text | Shape::List(_) => false,
        };
        fits && !self.keys.iter().any(|k| k == key)
    }

    /// The shape of the value of `key` in this frame.
    fn value_shape(&self, key: &str) -> &'static Shape {
        match self.shape {
            Shape::Map(fields) => fields.iter().find(|(k, _)| *k == key).map_or(&TEXT, |(_, s)| s),
            Shape::Rule => rule_key(key).map_or(&OPEN, rule_key_shape),
            _ => &OPEN,
        }
    }

    /// Whether a list item (its first key, if it is a mapping) belongs here.
    fn takes_item(&self, first_key: Option<&str>) -> bool {
        match self.shape {
            Shape::List(Shape::Map(fields)) => first_key.is_some_and(|k| fields.iter().any(|(f, _)| *f == k)),
            Shape::List(Shape::Text) => first_key.is_none(),
            Shape::List(_) | Shape::Open => true,
            _ => false,
        }
    }

    fn item_shape(&self) -> &'static Shape {
        match self.shape {
            Shape::List(item) => item,
            _ => &OPEN,
        }
    }
}

/// The state of a flattened rebuild.
struct Flattened<'a> {
    lines: &'a [&'a str],
    frames: Vec<Frame>,
    out: Vec<String>,
    shifts: Vec<isize>,
    /// Inside a block scalar: the column its lines go to, and whether it is the query.
    block: Option<(usize, bool)>,
}

/// Rebuilds a flattened definition starting at page line `start`.
fn flattened_rebuild(lines: &[&str], start: usize) -> Result<Rebuilt, RebuildError> {
    let mut state = Flattened {
        lines,
        frames: vec![Frame::new(&RULE, "the rule itself".into(), 0)],
        out: vec![String::new(); start],
        shifts: vec![0; start],
        block: None,
    };
    let mut end = lines.len();
    for i in start..lines.len() {
        if !state.line(i)? {
            end = i;
            break;
        }
    }
    // Blank lines before the end belong to the page, not to the last value.
    while end > start && lines[end - 1].trim().is_empty() {
        end -= 1;
    }
    state.out.truncate(end);
    state.shifts.truncate(end);
    let mut text = state.out.join("\n");
    text.push('\n');
    Ok(Rebuilt { text, shifts: state.shifts, start, end })
}

impl Flattened<'_> {
    /// Places page line `i`; `false` when the definition ended before it.
    fn line(&mut self, i: usize) -> Result<bool, RebuildError> {
        let text = self.lines[i];
        let kind = classify(text);
        if let Some((column, is_query)) = self.block {
            match kind {
                Line::Blank => return Ok(self.blank_continues(i, is_query)),
                Line::Key(key, _) if is_known(key) && self.placement(key).map_err(|e| self.ambiguous(e, i, text))?.is_some() => {
                    self.block = None
                }
                _ => {
                    self.emit(text, column);
                    return Ok(true);
                }
            }
        }
        match kind {
            Line::Blank => Ok(self.blank_continues(i, false)),
            Line::Key(key, value) => {
                let Some(frame) = self.placement(key).map_err(|e| self.ambiguous(e, i, text))? else {
                    if is_known(key) || key.starts_with(|c: char| c.is_ascii_lowercase()) {
                        return Err(error(i, text, format!("cannot place `{key}`: none of the keys above can hold it here")));
                    }
                    return Ok(false);
                };
                self.frames.truncate(frame + 1);
                let column = self.frames[frame].column;
                self.emit(text, column);
                self.open_value(key, value, frame);
                Ok(true)
            }
            Line::Item(rest) => {
                let first_key = key_value(rest).map(|(k, _)| k);
                let lists: Vec<usize> = (0..self.frames.len()).rev().filter(|&f| self.frames[f].takes_item(first_key)).collect();
                let Some(&list) = lists.first() else {
                    return Err(error(i, text, "a list item, but no key above it holds a list of such items".to_string()));
                };
                self.frames.truncate(list + 1);
                let column = self.frames[list].column;
                self.emit(text, column);
                let mut item = Frame::new(self.frames[list].item_shape(), format!("an item of {}", self.frames[list].name), column + 2);
                if let Some((key, value)) = key_value(rest) {
                    item.keys.push(key.to_string());
                    let shape = item.value_shape(key);
                    self.frames.push(item);
                    self.open_shape(key, shape, value, column + 4);
                } else {
                    self.frames.push(item);
                }
                Ok(true)
            }
            Line::Other => Ok(false),
        }
    }

    /// The frame a key line goes to; an error when two open frames could take it.
    fn placement(&self, key: &str) -> Result<Option<usize>, Ambiguity> {
        let innermost = self.frames.len() - 1;
        let takers: Vec<usize> = (0..self.frames.len()).rev().filter(|&f| self.frames[f].takes_key(key, f == innermost)).collect();
        match takers[..] {
            [] => Ok(None),
            [one] => Ok(Some(one)),
            [inner, outer, ..] => Err(Ambiguity { key: key.to_string(), inner, outer }),
        }
    }

    /// Records `key` in frame `frame` and opens what its value holds.
    fn open_value(&mut self, key: &str, value: &str, frame: usize) {
        self.frames[frame].keys.push(key.to_string());
        let shape = self.frames[frame].value_shape(key);
        let column = self.frames[frame].column + 2;
        if is_block_header(value) {
            self.block = Some((column, key == Key::Query.yaml()));
        } else {
            self.open_shape(key, shape, value, column);
        }
    }

    /// After a key whose value is on the following lines, the frame those lines go to.
    fn open_shape(&mut self, key: &str, shape: &'static Shape, value: &str, column: usize) {
        if is_block_header(value) {
            self.block = Some((column, false));
        } else if value.is_empty() && !matches!(shape, Shape::Text) {
            self.frames.push(Frame::new(shape, format!("`{key}`"), column));
        }
    }

    /// Whether the definition goes on after the blank line at `i`: the next line is a key or
    /// item that has a place, or (in the query) more KQL.
    fn blank_continues(&mut self, i: usize, in_query: bool) -> bool {
        let Some(next) = self.lines[i + 1..].iter().find(|l| !l.trim().is_empty()) else { return false };
        let continues = match classify(next) {
            Line::Key(key, _) => matches!(self.placement(key), Ok(Some(_))) && (self.block.is_none() || is_known(key)),
            Line::Item(rest) => self.block.is_none() && self.frames.iter().any(|f| f.takes_item(key_value(rest).map(|(k, _)| k))),
            _ => in_query && looks_like_kql(next),
        };
        if continues {
            self.out.push(String::new());
            self.shifts.push(0);
        }
        continues
    }

    fn ambiguous(&self, Ambiguity { key, inner, outer }: Ambiguity, i: usize, text: &str) -> RebuildError {
        let (inner, outer) = (&self.frames[inner].name, &self.frames[outer].name);
        error(i, text, format!("ambiguous: `{key}` could belong to {inner} or to {outer}; indent the definition to say which"))
    }

    fn emit(&mut self, text: &str, column: usize) {
        let trimmed = text.trim_start();
        self.out.push(format!("{}{}", " ".repeat(column), trimmed.trim_end()));
        self.shifts.push(column as isize - indentation(text) as isize);
    }
}

/// A key two open frames could take.
struct Ambiguity {
    key: String,
    inner: usize,
    outer: usize,
}

fn is_known(key: &str) -> bool {
    rule_key(key).is_some() || is_nested_key(key)
}

/// A line that continues a KQL query after a blank line: a pipe, a comment, a closing
/// parenthesis, a `let`, or an indented line.
fn looks_like_kql(line: &str) -> bool {
    let trimmed = line.trim_start();
    indentation(line) > 0 || trimmed.starts_with(['|', ')']) || trimmed.starts_with("//") || trimmed.starts_with("let ")
}

fn error(i: usize, text: &str, message: String) -> RebuildError {
    RebuildError { position: Position::new(i + 1, indentation(text) + 1), message }
}
