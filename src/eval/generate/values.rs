//! The values the generator tries: ones meant to make a match hold or fail, and near misses
//! around a match's literals.

use crate::eval::cell::{self, Row};
use crate::eval::cidr;
use crate::eval::time::{self, TICKS_PER_SECOND};
use crate::ir::detection::{Match, MatchOp, Quantifier, Value};
use serde_json::{Value as Json, json};

/// A value meant to make the match hold.
pub(super) fn aim(m: &Match, event: &Row, now: i64) -> Option<Json> {
    let first = m.values.first();
    Some(match m.op {
        MatchOp::IsEmpty => json!(""),
        MatchOp::IsNull => Json::Null,
        MatchOp::Between => literal(first?, event, now)?,
        MatchOp::Cidr => json!(inside(text_of(first?)?)?),
        MatchOp::Lt => shift(&literal(first?, event, now)?, -1)?,
        MatchOp::Gt => shift(&literal(first?, event, now)?, 1)?,
        MatchOp::Le | MatchOp::Ge | MatchOp::Equals => literal(first?, event, now)?,
        MatchOp::Regex => json!(regex_sample(text_of(first?)?)),
        MatchOp::Like => json!(text_of(first?)?.replace('%', "x").replace('_', "y")),
        // For has_all and friends, every value in one text.
        _ if m.quantifier == Quantifier::All => {
            json!(m.values.iter().filter_map(text_of).collect::<Vec<_>>().join(" "))
        }
        _ => json!(text_of(first?)?),
    })
}

/// A value meant to make the match fail.
pub(super) fn avoid(m: &Match, now: i64) -> Option<Json> {
    let first = m.values.first();
    let value_of = |v: &Value| literal(v, &Row::new(), now);
    Some(match m.op {
        MatchOp::IsEmpty | MatchOp::IsNull => json!("x"),
        MatchOp::Lt | MatchOp::Le | MatchOp::Between if first.is_some() => shift(&value_of(m.values.last()?)?, 1)?,
        MatchOp::Gt | MatchOp::Ge => shift(&value_of(first?)?, -1)?,
        MatchOp::Cidr => json!("198.51.100.77"),
        MatchOp::Equals => match value_of(first?)? {
            Json::String(s) if s.is_empty() => json!("x"),
            other => shift(&other, 1).unwrap_or(json!("zq")),
        },
        _ => json!("zq"),
    })
}

/// Near misses (and near hits) around one match's values.
pub(super) fn variants(leaf: &Match, base: &Row, now: i64) -> Vec<Json> {
    let mut out = vec![Json::Null, json!("")];
    match leaf.op {
        MatchOp::Cidr => {
            for range in leaf.values.iter().filter_map(text_of) {
                out.extend([inside(range), outside(range)].into_iter().flatten().map(Json::from));
            }
        }
        MatchOp::IsEmpty | MatchOp::IsNull => out.push(json!("x")),
        _ => {
            for value in &leaf.values {
                let Some(center) = literal(value, base, now) else { continue };
                match &center {
                    Json::String(s) if time::parse_datetime(s).is_some() || matches!(value, Value::Datetime(_)) => {
                        out.extend([-1, 0, 1].iter().filter_map(|d| shift(&center, *d)));
                    }
                    Json::String(s) => out.extend(text_variants(s, leaf.op).into_iter().map(Json::from)),
                    Json::Number(_) => out.extend([-1, 0, 1].iter().filter_map(|d| shift(&center, *d))),
                    other => out.push(other.clone()),
                }
            }
        }
    }
    out
}

/// The text near misses of `s`: the same in other cases, inside other text, a boundary moved,
/// one character changed, one character short.
fn text_variants(s: &str, op: MatchOp) -> Vec<String> {
    let mut out = vec![s.to_string(), s.to_uppercase(), s.to_lowercase(), swap_case(s)];
    if op == MatchOp::Regex {
        out.push(regex_sample(s));
        return out;
    }
    if op == MatchOp::Like {
        out.push(s.replace('%', "x").replace('_', "y"));
        out.push(s.replace(['%', '_'], ""));
        return out;
    }
    out.extend([format!("x{s}"), format!("{s}x"), format!("a {s} b"), format!("a_{s}.b"), format!("1{s}2")]);
    if let Some(changed) = change_one(s) {
        out.push(changed);
    }
    let mut chars = s.chars();
    chars.next_back();
    out.push(chars.as_str().to_string());
    let mut chars = s.chars();
    chars.next();
    out.push(chars.as_str().to_string());
    out
}

pub(super) fn swap_case(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_uppercase() { c.to_ascii_lowercase() } else { c.to_ascii_uppercase() }).collect()
}

/// `s` with its first letter or digit changed to another.
fn change_one(s: &str) -> Option<String> {
    let at = s.char_indices().find(|(_, c)| c.is_ascii_alphanumeric())?.0;
    let c = s.as_bytes()[at];
    let replacement = match c {
        b'z' => 'y',
        b'Z' => 'Y',
        b'9' => '8',
        _ => (c + 1) as char,
    };
    Some(format!("{}{replacement}{}", &s[..at], &s[at + 1..]))
}

/// A text the pattern likely matches: escapes undone, a class as its first member, the first
/// branch of an alternation, optional parts kept once.
fn regex_sample(pattern: &str) -> String {
    let mut out = String::new();
    let mut chars = pattern.trim_start_matches("(?i)").chars().peekable();
    let mut depth = 0usize;
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(escaped_sample(chars.next())),
            '[' => {
                let negated = chars.next_if_eq(&'^').is_some();
                let first = match chars.next() {
                    Some('\\') => escaped_sample(chars.next()),
                    Some(c) => c,
                    None => break,
                };
                // Skip the rest of the class, escapes included.
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        ']' => break,
                        _ => {}
                    }
                }
                out.push(if negated { if first == 'q' { 'z' } else { 'q' } } else { first });
            }
            '{' => {
                for c in chars.by_ref() {
                    if c == '}' {
                        break;
                    }
                }
            }
            '|' => {
                // Take the first branch: skip to the end of the group (or the pattern).
                let mut inner = 0usize;
                for c in chars.by_ref() {
                    match c {
                        '(' => inner += 1,
                        ')' if inner == 0 && depth > 0 => {
                            depth -= 1;
                            break;
                        }
                        ')' => inner = inner.saturating_sub(1),
                        _ => {}
                    }
                }
            }
            '(' => {
                depth += 1;
                // A group's `?:` or `?i)` flags are syntax, not text.
                if chars.next_if_eq(&'?').is_some() {
                    while chars.next_if(|c| *c != ':' && *c != ')').is_some() {}
                    if chars.next_if_eq(&')').is_some() {
                        depth -= 1;
                    } else {
                        chars.next_if_eq(&':');
                    }
                }
            }
            ')' => depth = depth.saturating_sub(1),
            '^' | '$' | '?' | '*' | '+' => {}
            '.' => out.push('a'),
            other => out.push(other),
        }
    }
    out
}

/// A character matching the escape `\\c`.
fn escaped_sample(c: Option<char>) -> char {
    match c {
        Some('d') => '1',
        Some('s') => ' ',
        Some('w') => 'a',
        Some('D' | 'S' | 'W' | 'b' | 'B') | None => '-',
        Some(other) => other,
    }
}

/// A literal as an event value; `None` for operands with no single value.
pub(super) fn literal(value: &Value, event: &Row, now: i64) -> Option<Json> {
    Some(match value {
        Value::String(s) => json!(s),
        Value::Int(i) => json!(i),
        Value::Real(r) => json!(r),
        Value::Bool(b) => json!(b),
        Value::Datetime(s) => json!(time::format_datetime(time::parse_datetime(s)?)),
        Value::Timespan(t) => json!(*t as f64 / TICKS_PER_SECOND as f64),
        Value::Ago(t) => json!(time::format_datetime(now.saturating_sub(*t))),
        Value::Now => json!(time::format_datetime(now)),
        Value::Field(f) => cell::lookup(event, f).into_owned(),
        Value::Null => return None,
    })
}

fn text_of(value: &Value) -> Option<&str> {
    match value {
        Value::String(s) => Some(s),
        _ => None,
    }
}

/// A number moved by `step`, or a datetime moved by `step` seconds.
pub(super) fn shift(value: &Json, step: i64) -> Option<Json> {
    match value {
        Json::Number(n) if n.is_i64() => n.as_i64().map(|i| json!(i.saturating_add(step))),
        Json::Number(n) => n.as_f64().map(|f| json!(f + step as f64)),
        Json::String(s) => time::parse_datetime(s).map(|t| json!(time::format_datetime(t.saturating_add(step * TICKS_PER_SECOND)))),
        _ => None,
    }
}

/// An address inside the range (its network address plus one, or itself for a single host).
fn inside(range: &str) -> Option<String> {
    let (address, _) = range.split_once('/').unwrap_or((range, ""));
    let parsed: std::net::Ipv4Addr = address.parse().ok()?;
    let candidate = std::net::Ipv4Addr::from(u32::from(parsed).wrapping_add(1)).to_string();
    let parsed_range = cidr::Range::parse(range)?;
    Some(if parsed_range.contains(&candidate) == Some(true) { candidate } else { address.to_string() })
}

/// The first address after the range.
fn outside(range: &str) -> Option<String> {
    let (address, bits) = range.split_once('/').unwrap_or((range, "32"));
    let bits: u32 = bits.parse().ok().filter(|b| *b <= 32)?;
    let start = u32::from(address.parse::<std::net::Ipv4Addr>().ok()?);
    let size = 1u64 << (32 - bits);
    let after = (u64::from(start) & !(size - 1)) + size;
    u32::try_from(after).ok().map(|a| std::net::Ipv4Addr::from(a).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_samples() {
        assert_eq!(inside("10.0.0.0/8").as_deref(), Some("10.0.0.1"));
        assert_eq!(outside("10.0.0.0/8").as_deref(), Some("11.0.0.0"));
        assert_eq!(outside("255.255.255.255/32"), None);
        assert_eq!(regex_sample(r"^cmd\.exe\s+/c$"), "cmd.exe /c");
        assert_eq!(regex_sample(r"^adm[0-9]+@(?:corp|lab)\.com"), "adm0@corp.com");
        assert_eq!(regex_sample(r"[^a-z]{2,3}(x|y)z"), "qxz");
        assert_eq!(change_one("-enc").as_deref(), Some("-fnc"));
    }
}
