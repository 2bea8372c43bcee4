//! One KQL match → Sigma detection items (`Field|modifiers: values`), or why it cannot be one.

use super::{forms, profile};
use crate::diag::Code;
use crate::ir::detection::{Match, MatchOp, Quantifier, Value};
use serde_json::Value as Json;

/// A match as Sigma items; `approximations` say how they differ from the match, if they do.
pub struct Items {
    pub items: Vec<(String, Json)>,
    pub approximations: Vec<(Code, String)>,
}

/// The column of an event's time, which every Sigma event has beside its fields.
pub fn is_event_time(column: &str) -> bool {
    matches!(column, "TimeGenerated" | "Timestamp")
}

/// `TimeGenerated > ago(1d)`: a lookback, which in Sigma is the backend's schedule rather than
/// part of the rule.
pub fn is_lookback(m: &Match) -> bool {
    is_event_time(&m.field.name) && matches!(m.op, MatchOp::Gt | MatchOp::Ge) && matches!(m.values.as_slice(), [Value::Ago(_)])
}

/// The Sigma items of a match on a field of `table` (a profile scope); `Err` says why there
/// are none, with the problem's code. A field SigmaHQ does not list for the scope's logsource
/// is not written (`unknown-field`): no Sigma tool would find it in the events.
pub fn items(m: &Match, table: &str) -> Result<Items, (Code, String)> {
    let dropped = |reason| (Code::ConditionDropped, reason);
    if let Some(step) = m.field.path.iter().find(|s| s.starts_with('[')) {
        return Err(dropped(format!("`{}` indexes an array (`{step}`); Sigma field names cannot", m.field)));
    }
    if m.values.is_empty() && !matches!(m.op, MatchOp::IsNull | MatchOp::IsEmpty) {
        return Err(dropped("its list of values is empty, which a Sigma value list cannot be".into()));
    }
    let (field, form) = profile::sigma_field(table, &m.field);
    let other = match m.values.as_slice() {
        [Value::Field(other)] => Some(profile::field_name(table, other)),
        _ => None,
    };
    let listed = profile::listed_fields(table);
    let unknown =
        listed.as_ref().and_then(|(fields, _)| [Some(&field), other.as_ref()].into_iter().flatten().find(|f| !fields.contains(*f)));
    if let (Some(unknown), Some((_, logsource))) = (unknown, &listed) {
        let reason = format!("SigmaHQ lists no field `{unknown}` for the logsource {logsource}, so Sigma's tools would never find it");
        return Err((Code::UnknownField, reason));
    }
    let addon = listed.as_ref().filter(|(_, logsource)| profile::is_addon_field(logsource, &field)).map(|(_, logsource)| {
        let reason = format!(
            "SigmaHQ lists `{field}` for {logsource} only as an add-on field other sensors write: the logsource's own event (Sysmon's, on Windows) has none, so on that log the test never holds"
        );
        (Code::UnknownField, reason)
    });
    let (moved, reshaped) = forms::apply(form, &m.field.name, m).map_err(dropped)?;
    let mut items = written(&moved, &field, other).map_err(dropped)?;
    items.approximations.extend(reshaped.map(|why| (Code::Reshaped, why)).into_iter().chain(addon));
    Ok(items)
}

/// The Sigma items of a match on `field` (its Sigma name), the other field's name for a
/// comparison of two fields.
fn written(m: &Match, field: &str, other: Option<String>) -> Result<Items, String> {
    let exact = |items| Ok(Items { items, approximations: Vec::new() });
    match m.op {
        MatchOp::Equals => match other {
            Some(other) => exact(vec![(format!("{field}|fieldref"), Json::String(other))]),
            None => exact(text_match(field, m, Anchor::Whole)?),
        },
        MatchOp::Contains => exact(text_match(field, m, Anchor::Inside)?),
        MatchOp::StartsWith => exact(text_match(field, m, Anchor::Start)?),
        MatchOp::EndsWith => exact(text_match(field, m, Anchor::End)?),
        MatchOp::Like => exact(like_match(field, m)?),
        MatchOp::Has | MatchOp::HasPrefix | MatchOp::HasSuffix => Ok(Items {
            items: text_match(field, m, Anchor::Inside)?,
            approximations: vec![(
                Code::TermMatch,
                format!(
                    "`{}` matches whole terms; Sigma `contains` matches any substring, so the rule also fires inside longer words",
                    term_operator(m.op)
                ),
            )],
        }),
        // A regex stays as written, backreferences and lookaround included: the Sigma
        // specification (modifier appendix, v2.0.0) leaves `re` values to the backends'
        // regex engines and names no flavour, and pySigma passes them through unchanged.
        MatchOp::Regex => match m.values.iter().map(wildcard_of).collect::<Option<Vec<Json>>>() {
            Some(wildcards) => {
                exact(each_or_all(if m.case_sensitive { format!("{field}|cased") } else { field.to_string() }, wildcards, m))
            }
            None => exact(each_or_all(format!("{field}|re"), regex_values(m)?, m)),
        },
        MatchOp::Cidr => {
            exact(vec![(format!("{field}|cidr"), list(m.values.iter().map(|v| text_of(v).map(Json::String)).collect::<Result<_, _>>()?))])
        }
        MatchOp::IsNull => exact(vec![(field.to_string(), Json::Null)]),
        MatchOp::IsEmpty => exact(vec![(field.to_string(), Json::Array(vec![Json::String(String::new()), Json::Null]))]),
        MatchOp::Lt => exact(vec![(format!("{field}|lt"), number(m, 0)?)]),
        MatchOp::Le => exact(vec![(format!("{field}|lte"), number(m, 0)?)]),
        MatchOp::Gt => exact(vec![(format!("{field}|gt"), number(m, 0)?)]),
        MatchOp::Ge => exact(vec![(format!("{field}|gte"), number(m, 0)?)]),
        MatchOp::Between => exact(vec![(format!("{field}|gte"), number(m, 0)?), (format!("{field}|lte"), number(m, 1)?)]),
    }
}

/// Where a text value must sit in the field's value.
#[derive(Clone, Copy, PartialEq)]
enum Anchor {
    Whole,
    Inside,
    Start,
    End,
    /// A `like` pattern: `%` any text, `_` one character, anchored at both ends.
    Pattern,
}

/// A text match in Sigma's plain form (`Field|contains: value`), or as a regular expression
/// when a value holds what plain values cannot keep literal: the wildcards `*` `?` (Sigma's
/// tools flag escaped ones as likely mistakes), control characters, or numbers beside `cased`
/// text.
fn text_match(field: &str, m: &Match, anchor: Anchor) -> Result<Vec<(String, Json)>, String> {
    let modifier = match anchor {
        Anchor::Whole | Anchor::Pattern => None,
        Anchor::Inside => Some("contains"),
        Anchor::Start => Some("startswith"),
        Anchor::End => Some("endswith"),
    };
    // Whole-value equality keeps typed values, and text stays text: `'4688'` compares as a
    // string, which a backend would not do with the number 4688. The other modifiers test text.
    let typed = anchor == Anchor::Whole;
    let mut plain = Vec::new();
    let mut needs_regex = anchor == Anchor::Pattern;
    for value in &m.values {
        match value {
            Value::Int(_) | Value::Real(_) | Value::Bool(_) | Value::Null if typed => plain.push(scalar(value)?),
            _ => {
                let text = text_of(value)?;
                needs_regex |= text.chars().any(|c| c.is_control()) || text.contains(['*', '?']);
                plain.push(Json::String(escape(&text)));
            }
        }
    }
    // Sigma matches text case-insensitively unless told `cased`, which takes text values only
    // and means nothing for text without letters that have a case (`'4688'`).
    let cased = m.case_sensitive && plain.iter().any(|v| v.as_str().is_some_and(has_case));
    needs_regex |= cased && plain.iter().any(|v| !v.is_string());
    if needs_regex {
        let patterns =
            m.values.iter().map(|v| Ok(Json::String(regex_for(&text_of(v)?, anchor, m.case_sensitive)))).collect::<Result<_, String>>()?;
        return Ok(each_or_all(format!("{field}|re"), patterns, m));
    }
    let mut key = std::iter::once(field).chain(modifier).collect::<Vec<_>>().join("|");
    if cased {
        key.push_str("|cased");
    }
    Ok(each_or_all(key, plain, m))
}

/// Whether `text` has a letter whose case a comparison could ignore.
fn has_case(text: &str) -> bool {
    text.chars().any(|c| c.is_lowercase() || c.is_uppercase())
}

/// A `like` match: patterns that are a text with `%` at an end become `contains`,
/// `startswith`, `endswith` or equality; others a regular expression.
fn like_match(field: &str, m: &Match) -> Result<Vec<(String, Json)>, String> {
    let mut anchors = Vec::new();
    let mut texts = Vec::new();
    for value in &m.values {
        let pattern = text_of(value)?;
        let (leading, rest) = pattern.strip_prefix('%').map_or((false, pattern.as_str()), |r| (true, r));
        let (trailing, middle) = rest.strip_suffix('%').map_or((false, rest), |r| (true, r));
        anchors.push(match (leading, trailing) {
            _ if middle.contains(['%', '_']) || middle.is_empty() => Anchor::Pattern,
            (true, true) => Anchor::Inside,
            (true, false) => Anchor::End,
            (false, true) => Anchor::Start,
            (false, false) => Anchor::Whole,
        });
        texts.push(Value::String(middle.to_string()));
    }
    match anchors.first() {
        Some(&anchor) if anchor != Anchor::Pattern && anchors.iter().all(|a| *a == anchor) => {
            text_match(field, &Match { values: texts, ..m.clone() }, anchor)
        }
        _ => text_match(field, m, Anchor::Pattern),
    }
}

/// Several values that must all hold: `|all` where Sigma's tools accept it (with `contains`,
/// `startswith`, `endswith`), else one item per value, which the selection ANDs.
fn each_or_all(key: String, values: Vec<Json>, m: &Match) -> Vec<(String, Json)> {
    let substring = ["|contains", "|startswith", "|endswith"].iter().any(|k| key.contains(k));
    match m.quantifier {
        Quantifier::All if values.len() > 1 && substring => vec![(key + "|all", Json::Array(values))],
        Quantifier::All if values.len() > 1 => values.into_iter().map(|v| (key.clone(), v)).collect(),
        _ => vec![(key, list(values))],
    }
}

fn term_operator(op: MatchOp) -> &'static str {
    match op {
        MatchOp::HasPrefix => "hasprefix",
        MatchOp::HasSuffix => "hassuffix",
        _ => "has",
    }
}

/// One value is written bare, several as a list.
fn list(mut values: Vec<Json>) -> Json {
    if values.len() == 1 { values.remove(0) } else { Json::Array(values) }
}

fn scalar(value: &Value) -> Result<Json, String> {
    match value {
        Value::Int(i) => Ok(Json::from(*i)),
        Value::Real(r) => serde_json::Number::from_f64(*r).map(Json::Number).ok_or_else(|| "a non-finite number has no Sigma form".into()),
        Value::Bool(b) => Ok(Json::Bool(*b)),
        Value::Null => Ok(Json::Null),
        other => text_of(other).map(Json::String),
    }
}

/// A value as the text a text operator compares with.
fn text_of(value: &Value) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Int(i) => Ok(i.to_string()),
        Value::Real(r) => Ok(r.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Null => Err("a text comparison with null has no Sigma form".into()),
        Value::Field(f) => Err(format!("a comparison with the field `{f}` other than equality has no Sigma form")),
        Value::Datetime(_) | Value::Timespan(_) | Value::Ago(_) | Value::Now => {
            Err("a time value (datetime, timespan, `ago()`, `now()`): Sigma leaves time ranges to the backend".into())
        }
    }
}

fn number(m: &Match, index: usize) -> Result<Json, String> {
    match m.values.get(index) {
        Some(value @ (Value::Int(_) | Value::Real(_))) => scalar(value),
        Some(value @ (Value::Datetime(_) | Value::Timespan(_) | Value::Ago(_) | Value::Now)) => text_of(value).map(Json::String),
        _ => Err("`gt`/`lt` in Sigma compare numbers only; this compares another kind of value".into()),
    }
}

/// Text matched literally: Sigma's wildcards and its escape character are escaped.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A literal text match as a regular expression both RE2 and Python read the same way.
fn regex_for(text: &str, anchor: Anchor, case_sensitive: bool) -> String {
    let mut out = String::from(if case_sensitive { "" } else { "(?i)" });
    if matches!(anchor, Anchor::Whole | Anchor::Start | Anchor::Pattern) {
        out.push('^');
    }
    for c in text.chars() {
        match c {
            '%' if anchor == Anchor::Pattern => out.push_str(".*"),
            '_' if anchor == Anchor::Pattern => out.push('.'),
            c if c.is_control() && (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            // Only metacharacters are escaped: Rust's regex refuses some other escapes (`\<`).
            c if "\\.+*?()|[]{}^$".contains(c) => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    if matches!(anchor, Anchor::Whole | Anchor::End | Anchor::Pattern) {
        out.push('$');
    }
    out
}

/// A regular expression that says what a Sigma wildcard value says (`(?s)^a.*b.$`, the form
/// the Sigma reader lowers `a*b?` to) as that value, so Sigma input keeps its wildcards.
fn wildcard_of(value: &Value) -> Option<Json> {
    let Value::String(pattern) = value else { return None };
    let body = pattern.strip_prefix("(?s)^")?.strip_suffix('$')?;
    let mut out = String::new();
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            // An escaped Sigma wildcard reads as a likely mistake to Sigma's tools: a regex then.
            '\\' => match chars.next()? {
                '*' | '?' => return None,
                c => out.push_str(&escape(&c.to_string())),
            },
            // `**` says what `*` says, and the tools flag it.
            '.' if chars.next_if_eq(&'*').is_some() => {
                if !out.ends_with('*') {
                    out.push('*');
                }
            }
            '.' => out.push('?'),
            c if "+*?()|[]{}^$".contains(c) => return None,
            c => out.push(c),
        }
    }
    // Digits alone would read as a number; a value without a wildcard as plain text.
    out.contains(['*', '?']).then_some(Json::String(out))
}

/// `matches regex` patterns pass through; a case-insensitive match gets `(?i)`. RE2 syntax
/// that Python's `re` (pySigma) rejects or reads differently is refused.
fn regex_values(m: &Match) -> Result<Vec<Json>, String> {
    let mut out = Vec::new();
    for value in &m.values {
        let pattern = text_of(value)?;
        let (flags, body) = leading_flags(&pattern);
        if body.contains("(?i)") || body.contains("(?s)") || body.contains("(?m)") || body.contains("(?U)") {
            return Err("the regular expression sets flags after its start, which Sigma's regular expressions reject".into());
        }
        if ["\\p{", "\\P{", "\\pL", "\\z", "\\C", "[[:"].iter().any(|s| body.contains(s)) {
            return Err(
                "the regular expression uses RE2 syntax (Unicode or POSIX classes, `\\z`) Sigma's regular expressions read differently"
                    .into(),
            );
        }
        let flags = if m.case_sensitive || flags.contains('i') { flags.to_string() } else { format!("i{flags}") };
        out.push(Json::String(if flags.is_empty() { body.to_string() } else { format!("(?{flags}){body}") }));
    }
    Ok(out)
}

/// A pattern's leading flag group (`(?is)`), if any, and the rest.
fn leading_flags(pattern: &str) -> (&str, &str) {
    let group = pattern.strip_prefix("(?").and_then(|rest| rest.split_once(')'));
    match group {
        Some((flags, rest)) if !flags.is_empty() && flags.chars().all(|c| c.is_ascii_alphabetic()) => (flags, rest),
        _ => ("", pattern),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::detection::{Field, Span};

    fn m(op: MatchOp, values: Vec<Value>, case_sensitive: bool) -> Match {
        Match { field: Field::column("CommandLine"), op, values, quantifier: Quantifier::Any, case_sensitive, span: Span::default() }
    }

    fn text(m: &Match) -> Vec<(String, Json)> {
        items(m, "Syslog").map(|i| i.items).unwrap_or_default()
    }

    #[test]
    fn backslashes_are_escaped_and_wildcards_become_regex_text() {
        let path = m(MatchOp::Equals, vec![Value::String(r"C:\a.exe".into())], false);
        assert_eq!(text(&path), vec![("CommandLine".into(), Json::String(r"C:\\a.exe".into()))]);
        let star = m(MatchOp::EndsWith, vec![Value::String("a*b\tc".into())], true);
        assert_eq!(text(&star), vec![("CommandLine|re".into(), Json::String(r"a\*b\x09c$".into()))]);
    }

    /// Issue 19 item 10: a string of digits stays a string (`'4688'`, `'0042'`), a number a number.
    #[test]
    fn digits_keep_their_type_and_numbers_in_text_matches_are_text() {
        assert_eq!(
            text(&m(MatchOp::Equals, vec![Value::String("4688".into())], true)),
            vec![("CommandLine".into(), Json::String("4688".into()))]
        );
        let strings = m(MatchOp::Equals, vec![Value::String("0042".into()), Value::String("42".into())], false);
        assert_eq!(text(&strings), vec![("CommandLine".into(), serde_json::json!(["0042", "42"]))]);
        assert_eq!(text(&m(MatchOp::Equals, vec![Value::Int(4688)], false)), vec![("CommandLine".into(), Json::from(4688))]);
        assert_eq!(
            text(&m(MatchOp::Contains, vec![Value::Int(200)], false)),
            vec![("CommandLine|contains".into(), Json::String("200".into()))]
        );
    }

    #[test]
    fn case_sensitive_text_is_cased_and_all_values_are_all() {
        let mut has_all = m(MatchOp::Contains, vec![Value::String("a".into()), Value::String("b".into())], true);
        has_all.quantifier = Quantifier::All;
        assert_eq!(text(&has_all)[0].0, "CommandLine|contains|cased|all");
        assert_eq!(text(&m(MatchOp::Equals, vec![Value::Int(4)], true))[0].0, "CommandLine");
        let mut equal_all = m(MatchOp::Equals, vec![Value::String("a".into()), Value::String("b".into())], false);
        equal_all.quantifier = Quantifier::All;
        assert_eq!(
            text(&equal_all),
            vec![("CommandLine".into(), Json::String("a".into())), ("CommandLine".into(), Json::String("b".into()))]
        );
    }

    #[test]
    fn terms_widen_to_substrings_and_what_sigma_cannot_say_is_refused() {
        let has = items(&m(MatchOp::Has, vec![Value::String("x".into())], false), "Syslog").ok().unwrap();
        assert_eq!(has.approximations.iter().map(|(code, _)| *code).collect::<Vec<_>>(), [Code::TermMatch]);
        assert!(items(&m(MatchOp::Gt, vec![Value::Ago(10)], false), "Syslog").is_err());
        assert!(items(&m(MatchOp::Regex, vec![Value::String("a(?i)b".into())], true), "Syslog").is_err());
        assert_eq!(
            text(&m(MatchOp::Like, vec![Value::String("%a.b%".into())], false))[0],
            ("CommandLine|contains".into(), Json::String("a.b".into()))
        );
        assert_eq!(text(&m(MatchOp::Like, vec![Value::String("a%b_".into())], false))[0].1, Json::String("(?i)^a.*b.$".into()));
        assert_eq!(text(&m(MatchOp::Regex, vec![Value::String("a.b".into())], false))[0].1, Json::String("(?i)a.b".into()));
    }

    fn on(column: &str, op: MatchOp, value: &str) -> Match {
        Match { field: Field::column(column), ..m(op, vec![Value::String(value.into())], false) }
    }

    #[test]
    fn defender_columns_take_sysmon_fields_in_their_form() {
        let written = |column, op, value, table| items(&on(column, op, value), table).map(|i| (i.items, i.approximations));
        let (items, losses) = written("InitiatingProcessFileName", MatchOp::Equals, "wsreset.exe", "DeviceProcessEvents").unwrap();
        assert_eq!(items, vec![("ParentImage|endswith".into(), Json::String(r"\\wsreset.exe".into()))]);
        assert!(losses.is_empty());
        let (items, _) = written("SHA256", MatchOp::Equals, "abc", "DeviceProcessEvents").unwrap();
        assert_eq!(items, vec![("Hashes|contains".into(), Json::String("SHA256=abc".into()))]);
        let (items, losses) = written("FileName", MatchOp::Contains, "mimi", "DeviceFileEvents").unwrap();
        assert_eq!(items[0].0, "TargetFilename|contains");
        assert_eq!(losses.iter().map(|(code, _)| *code).collect::<Vec<_>>(), [Code::Reshaped]);
    }

    #[test]
    fn a_field_sigmahq_does_not_list_for_the_logsource_is_not_written() {
        let (code, reason) = items(&on("FileOriginUrl", MatchOp::Contains, "x"), "DeviceFileEvents").err().unwrap();
        assert_eq!(code, Code::UnknownField);
        assert!(reason.contains("`FileOriginUrl`") && reason.contains("windows/file_event"), "{reason}");
        // Hashes is listed for file deletion, not file creation.
        assert!(items(&on("SHA1", MatchOp::Equals, "ab"), "DeviceFileEvents").is_err());
        assert!(items(&on("SHA1", MatchOp::Equals, "ab"), "DeviceFileEvents/FileDeleted").is_ok());
        // Where SigmaHQ keeps no list (a custom logsource), names are written as they are.
        assert!(items(&on("FileOriginUrl", MatchOp::Contains, "x"), "DeviceEvents").is_ok());
    }

    #[test]
    fn an_add_on_field_is_written_with_a_loss() {
        // The process's command line is in Defender's network rows, not in Sysmon's event 3.
        let written = items(&on("InitiatingProcessCommandLine", MatchOp::Contains, "-enc"), "DeviceNetworkEvents").unwrap();
        assert_eq!(written.items, vec![("CommandLine|contains".into(), Json::String("-enc".into()))]);
        let [(code, reason)] = written.approximations.as_slice() else { panic!("{:?}", written.approximations) };
        assert_eq!(*code, Code::UnknownField);
        assert!(reason.contains("add-on") && reason.contains("windows/network_connection"), "{reason}");
        assert!(
            items(&on("InitiatingProcessCommandLine", MatchOp::Contains, "-enc"), "DeviceProcessEvents").unwrap().approximations.is_empty()
        );
    }
}
