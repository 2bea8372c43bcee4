//! A deterministic YAML writer for ordered data values.
//!
//! Our outputs are built as data and written here, never through a generic serializer whose
//! quoting and key order we do not control: the same value always gives the same bytes, keys
//! stay in the order the value holds them, multi-line text becomes a literal block (as in the
//! Azure-Sentinel repository), and a string is quoted only when plain YAML would read it back
//! as something else.

use super::{Style, Value as Resolved, resolve_plain};
use regex::Regex;
use serde_json::Value;
use std::fmt::Write;
use std::sync::LazyLock;

const INDENT: usize = 2;

/// Writes one YAML document (no `---` marker) ending with a newline.
pub fn to_yaml_string(value: &Value) -> String {
    to_yaml_string_styled(value, &[])
}

/// As `to_yaml_string`, with the string value of each named top-level key written in the given
/// style (`Literal` or `DoubleQuoted`) where that style can hold it, since a reader may take
/// meaning from the style (`read::fields` does for a description's quotes).
pub fn to_yaml_string_styled(value: &Value, styles: &[(&str, Style)]) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_map(&mut out, map, 0, styles),
        Value::Array(items) if !items.is_empty() => write_seq(&mut out, items, 0),
        scalar => {
            write_inline(&mut out, scalar, INDENT);
            out.push('\n');
        }
    }
    out
}

fn write_map(out: &mut String, map: &serde_json::Map<String, Value>, indent: usize, styles: &[(&str, Style)]) {
    for (key, value) in map {
        out.push_str(&" ".repeat(indent));
        out.push_str(&scalar_text(key));
        out.push(':');
        let style = styles.iter().find(|(k, _)| k == key).map(|(_, style)| *style);
        match (style, value) {
            (Some(Style::Literal), Value::String(s)) if fits_literal_block(s) && !s.trim().is_empty() => {
                out.push(' ');
                write_literal_block(out, s, indent + INDENT);
                out.push('\n');
            }
            (Some(Style::DoubleQuoted), Value::String(s)) => {
                out.push(' ');
                out.push_str(&double_quoted(s));
                out.push('\n');
            }
            _ => write_after_key(out, value, indent),
        }
    }
}

/// Sequences are indented under their key, the style of the Azure-Sentinel repository.
fn write_seq(out: &mut String, items: &[Value], indent: usize) {
    for item in items {
        out.push_str(&" ".repeat(indent));
        out.push_str("- ");
        match item {
            Value::Object(map) if !map.is_empty() => {
                // The first key shares the dash's line; the rest align under it.
                let mut first = String::new();
                write_map(&mut first, map, indent + INDENT, &[]);
                out.push_str(&first[indent + INDENT..]);
            }
            Value::Array(inner) if !inner.is_empty() => {
                let mut nested = String::new();
                write_seq(&mut nested, inner, indent + INDENT);
                out.push_str(&nested[indent + INDENT..]);
            }
            scalar => {
                write_inline(out, scalar, indent + INDENT);
                out.push('\n');
            }
        }
    }
}

fn write_after_key(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            write_map(out, map, indent + INDENT, &[]);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_seq(out, items, indent + INDENT);
        }
        scalar => {
            out.push(' ');
            write_inline(out, scalar, indent + INDENT);
            out.push('\n');
        }
    }
}

/// A scalar or empty collection; multi-line strings become literal blocks at `block_indent`.
fn write_inline(out: &mut String, value: &Value, block_indent: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) if is_block_friendly(s) => write_literal_block(out, s, block_indent),
        Value::String(s) => out.push_str(&scalar_text(s)),
        Value::Array(_) => out.push_str("[]"),
        Value::Object(_) => out.push_str("{}"),
    }
}

/// Multi-line text a literal block can hold.
fn is_block_friendly(s: &str) -> bool {
    s.trim_end_matches('\n').contains('\n') && fits_literal_block(s)
}

/// Text without characters a literal block cannot hold: only printable ones, line breaks and
/// tabs, and no line of blanks alone (the block would read it as indentation).
fn fits_literal_block(s: &str) -> bool {
    s.chars().all(|c| c == '\n' || c == '\t' || is_printable(c))
        && !s.lines().any(|l| l.ends_with([' ', '\t']) && l.trim().is_empty() && !l.is_empty())
}

fn write_literal_block(out: &mut String, s: &str, indent: usize) {
    out.push('|');
    // An explicit indentation indicator when the first line's own spaces would be misread.
    if s.starts_with([' ', '\n']) {
        let _ = write!(out, "{INDENT}");
    }
    let body = s.trim_end_matches('\n');
    match s.len() - body.len() {
        0 => out.push('-'),
        1 => {}
        _ => out.push('+'),
    }
    for line in s.strip_suffix('\n').unwrap_or(s).split('\n') {
        out.push('\n');
        if !line.is_empty() {
            out.push_str(&" ".repeat(indent));
            out.push_str(line);
        }
    }
}

/// A single-line scalar: plain when that reads back as the same string, else quoted.
fn scalar_text(s: &str) -> String {
    if is_plain_safe(s) {
        s.to_string()
    } else if s.chars().all(is_printable) {
        format!("'{}'", s.replace('\'', "''"))
    } else {
        double_quoted(s)
    }
}

fn is_plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else { return false };
    let indicator = "-?:,[]{}#&*!|>'\"%@`".contains(first);
    let dash_ok = first == '-' && s.len() > 1 && !s.starts_with("- ") && !s.starts_with("---");
    (!indicator || dash_ok)
        && !s.starts_with(char::is_whitespace)
        && !s.ends_with(char::is_whitespace)
        && !s.ends_with(':')
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.contains(['\n', '\t'])
        && s.chars().all(is_printable)
        && matches!(resolve_plain(s), Resolved::Str(_))
        && !reads_differently_in_yaml_1_1(s)
}

/// Strings a YAML 1.1 reader (PyYAML, many SIEM tools) would take for a boolean, a date, a
/// number in another base or with `_` or `:` (`0x8010`, `1_000`, `1:20`, `.1_0`), or its `=`
/// value key and `<<` merge key: quoted so every reader agrees they are text.
fn reads_differently_in_yaml_1_1(s: &str) -> bool {
    const BOOLEANS: &[&str] = &["y", "yes", "n", "no", "on", "off", "=", "<<"];
    let date_like = s.len() >= 8 && s.as_bytes()[..4].iter().all(u8::is_ascii_digit) && s.as_bytes()[4] == b'-';
    // Broader than YAML 1.1's forms below, and kept so: what we wrote before stays written so.
    let unsigned = s.trim_start_matches(['+', '-']);
    let based = ["0x", "0o", "0b"].iter().any(|p| unsigned.strip_prefix(p).is_some_and(|d| !d.is_empty()));
    let digits = unsigned.starts_with(|c: char| c.is_ascii_digit())
        && unsigned.contains(['_', ':'])
        && unsigned.chars().all(|c| c.is_ascii_digit() || matches!(c, '_' | ':' | '.'));
    BOOLEANS.iter().any(|b| b.eq_ignore_ascii_case(s)) || date_like || based || digits || YAML_1_1_NUMBER.is_match(s)
}

/// YAML 1.1's int and float forms (https://yaml.org/type/int.html, float.html) as PyYAML
/// reads them (its float fraction is `[0-9_]*`, so a version `1.0.3` stays text).
static YAML_1_1_NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)^(?:
            [-+]?0b[01_]+ | [-+]?0[0-7_]+ | [-+]?(?:0|[1-9][0-9_]*) | [-+]?0x[0-9a-fA-F_]+
          | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?
          | [-+]?(?:[0-9][0-9_]*\.[0-9_]*|\.[0-9][0-9_]*)(?:[eE][-+][0-9]+)?
          | [-+]?\.(?:inf|Inf|INF) | \.(?:nan|NaN|NAN)
        )$",
    )
    .expect("a valid regex")
});

/// YAML's printable set, minus the byte order mark (which may not appear inside a document)
/// and the three characters YAML 1.1 reads as line breaks (NEL U+0085, LS U+2028, PS U+2029;
/// YAML 1.1 spec, 5.4 "Line Break Characters"): PyYAML, and so pySigma, would end a plain
/// scalar or a block line there (`powershell\u{2028}# -enc` read as `powershell` and a
/// comment). Anything else must be escaped in a double-quoted scalar.
fn is_printable(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{7E}' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
        && !matches!(c, '\u{FEFF}' | '\u{2028}' | '\u{2029}')
}

fn double_quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if !is_printable(c) => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_documents;
    use proptest::prelude::*;

    fn round_trip(value: &Value) -> Value {
        let text = to_yaml_string(value);
        let docs = parse_documents(&text).unwrap_or_else(|e| panic!("{e:?} in\n{text}"));
        docs[0].to_json()
    }

    #[test]
    fn sentinel_shape() {
        let value = serde_json::json!({
            "id": "abc", "severity": "Medium", "version": "1.0.3", "threshold": 0,
            "requiredDataConnectors": [{"connectorId": "X", "dataTypes": ["T"]}],
            "query": "T\n| where A == 'b'\n", "empty": [], "quoted": "a: b", "num": "1.0", "date": "2022-08-07", "yes": "yes",
        });
        let text = to_yaml_string(&value);
        assert_eq!(
            text,
            "id: abc\nseverity: Medium\nversion: 1.0.3\nthreshold: 0\nrequiredDataConnectors:\n  - connectorId: X\n    dataTypes:\n      - T\nquery: |\n  T\n  | where A == 'b'\nempty: []\nquoted: 'a: b'\nnum: '1.0'\ndate: '2022-08-07'\n'yes': 'yes'\n"
        );
        assert_eq!(round_trip(&value), value);
    }

    #[test]
    fn a_top_level_string_takes_the_style_asked_for_where_it_fits() {
        let value = serde_json::json!({"a": "'x'\n", "b": "'x'\n", "c": "bell\u{7}\n", "d": {"a": "'x'\n"}});
        let styles = [("a", Style::Literal), ("b", Style::DoubleQuoted), ("c", Style::Literal)];
        let text = to_yaml_string_styled(&value, &styles);
        assert_eq!(text, "a: |\n  'x'\nb: \"'x'\\n\"\nc: \"bell\\u0007\\n\"\nd:\n  a: \"'x'\\n\"\n");
        let docs = parse_documents(&text).unwrap();
        assert_eq!(docs[0].to_json(), value);
        assert_eq!(docs[0].get("a").unwrap().style, Style::Literal);
        assert_eq!(docs[0].get("b").unwrap().style, Style::DoubleQuoted);
    }

    #[test]
    fn what_yaml_1_1_reads_otherwise_is_quoted() {
        let written = |s: &str| to_yaml_string(&Value::String(s.to_string()));
        assert_eq!(written("powershell\u{2028}# -enc"), "\"powershell\\u2028# -enc\"\n");
        assert_eq!(written("a\u{85}b\u{2029}"), "\"a\\u0085b\\u2029\"\n");
        for number in [".1_0", "1_0.e+3", "1._5", "0_7", "190:20:30.15", "-0b1_0"] {
            assert_eq!(written(number), format!("'{number}'\n"));
        }
        for text in ["1.0.3", ".", "1.2e3.4", "a.5"] {
            assert_eq!(written(text), format!("{text}\n"));
        }
    }

    fn arb_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            "(?s).{0,40}".prop_map(Value::String),
            "[ a-z:#'\"\\n-]{0,30}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 40, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::vec(("[a-zA-Z :'-]{0,8}", inner), 0..5).prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn written_yaml_reads_back_as_the_same_data(value in arb_value()) {
            prop_assert_eq!(round_trip(&value), value);
        }
    }
}
