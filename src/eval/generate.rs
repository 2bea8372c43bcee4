//! Events to test a Detection with: for each source, one event meant to pass its filter, then
//! near misses that change one field at a time (other case, a term boundary moved, one character
//! changed, an excluded value, just outside and just inside a bound, an empty or null value).
//!
//! Which events pass is decided by whoever runs them; the generator only aims. Values follow
//! each column's type in the table schema, so another engine can load the same events, and every
//! event is complete (strings default to `""`, which is what Kusto stores for a missing string).

use super::cell::Row;
use super::cidr;
use super::predicate::{self, Scope};
use super::time::{self, TICKS_PER_SECOND};
use crate::ir::detection::{AggFunction, Detection, Field, Input, Match, MatchOp, Predicate, Quantifier, Stage, Value};
use serde_json::{Value as Json, json};
use std::collections::{BTreeMap, BTreeSet};

/// Column name → type, in the vocabulary of `kql-run` (`string`, `long`, `datetime`, `dynamic` ...).
pub type Columns = Vec<(String, String)>;

/// The schemas of the tables a Detection may read.
pub type Schemas = BTreeMap<String, Columns>;

/// At most this many events per scenario, to keep external runs fast.
const MAX_EVENTS: usize = 400;
/// At most this many copies of an event when testing a count threshold.
const MAX_COPIES: i64 = 60;

/// Sets of events to run the Detection on; each set is one scenario. Every event names its
/// table in `Type`. Empty when a source reads a table without a schema.
pub fn scenarios(detection: &Detection, schemas: &Schemas, now: i64) -> Vec<Vec<Row>> {
    let mut bases: Vec<Vec<Row>> = Vec::new();
    for source in &detection.sources {
        let tables: Vec<&String> = source.tables.iter().filter(|t| schemas.contains_key(*t)).take(3).collect();
        if tables.is_empty() {
            return Vec::new();
        }
        let mut scope = Scope::new(now);
        let _ = scope.prepare(&source.filter);
        bases.push(tables.iter().map(|t| base_event(t, &schemas[*t], &source.filter, &scope, now)).collect());
    }
    align_join_keys(detection, &mut bases);
    let mut misses = key_misses(detection, &bases);
    for (source, events) in detection.sources.iter().zip(&bases) {
        for base in events {
            let columns = &schemas[base["Type"].as_str().unwrap_or_default()];
            for leaf in leaves(&source.filter) {
                for value in variants(leaf, base, now) {
                    let mut event = base.clone();
                    if set(&mut event, &leaf.field, value, columns) {
                        misses.push(event);
                    }
                }
            }
        }
    }
    let all_bases: Vec<Row> = bases.iter().flatten().cloned().collect();
    let mut result = vec![dedupe(all_bases.iter().cloned().chain(misses).collect())];
    for copies in threshold_copies(detection) {
        let mut events = Vec::new();
        for j in 0..copies {
            events.extend(all_bases.iter().map(|e| distinct_copy(detection, e, j)));
        }
        result.push(events);
    }
    result
}

/// An event of `table` aimed at passing `filter`.
fn base_event(table: &str, columns: &Columns, filter: &Predicate, scope: &Scope, now: i64) -> Row {
    let mut event = Row::new();
    for (name, kind) in columns {
        let value = match kind.as_str() {
            "string" | "guid" => json!(""),
            "datetime" => json!(time::format_datetime(now - 60 * TICKS_PER_SECOND)),
            _ => Json::Null,
        };
        event.insert(name.clone(), value);
    }
    event.insert("Type".into(), json!(table));
    let mut solver = Solver { columns, scope, now };
    solver.solve(filter, true, &mut event);
    event
}

struct Solver<'a> {
    columns: &'a Columns,
    scope: &'a Scope,
    now: i64,
}

impl Solver<'_> {
    /// Changes `event` so that `predicate` evaluates to `want`, as far as simple choices allow.
    fn solve(&mut self, predicate: &Predicate, want: bool, event: &mut Row) -> bool {
        let ok = match (predicate, want) {
            (Predicate::Not(inner), _) => return self.solve(inner, !want, event),
            (Predicate::And(parts), true) | (Predicate::Or(parts), false) => {
                parts.iter().for_each(|p| {
                    self.solve(p, want, event);
                });
                true
            }
            (Predicate::And(parts), false) | (Predicate::Or(parts), true) => {
                // One part decides: take the first that can be made to.
                for part in parts {
                    let mut attempt = event.clone();
                    if self.solve(part, want, &mut attempt) && predicate::holds(predicate, &attempt, self.scope) == Some(want) {
                        *event = attempt;
                        return true;
                    }
                }
                false
            }
            (Predicate::Match(m), _) => {
                if predicate::holds(predicate, event, self.scope) == Some(want) {
                    return true;
                }
                let value = if want { aim(m, event, self.now) } else { avoid(m, self.now) };
                value.is_some_and(|v| set(event, &m.field, v, self.columns))
            }
            (Predicate::Opaque { .. }, _) => false,
        };
        ok && predicate::holds(predicate, event, self.scope) == Some(want)
    }
}

/// A value meant to make the match hold.
fn aim(m: &Match, event: &Row, now: i64) -> Option<Json> {
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
fn avoid(m: &Match, now: i64) -> Option<Json> {
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
fn variants(leaf: &Match, base: &Row, now: i64) -> Vec<Json> {
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

fn swap_case(s: &str) -> String {
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
fn literal(value: &Value, event: &Row, now: i64) -> Option<Json> {
    Some(match value {
        Value::String(s) => json!(s),
        Value::Int(i) => json!(i),
        Value::Real(r) => json!(r),
        Value::Bool(b) => json!(b),
        Value::Datetime(s) => json!(time::format_datetime(time::parse_datetime(s)?)),
        Value::Timespan(t) => json!(*t as f64 / TICKS_PER_SECOND as f64),
        Value::Ago(t) => json!(time::format_datetime(now - t)),
        Value::Now => json!(time::format_datetime(now)),
        Value::Field(f) => super::cell::lookup(event, f).into_owned(),
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
fn shift(value: &Json, step: i64) -> Option<Json> {
    match value {
        Json::Number(n) if n.is_i64() => n.as_i64().map(|i| json!(i.saturating_add(step))),
        Json::Number(n) => n.as_f64().map(|f| json!(f + step as f64)),
        Json::String(s) => time::parse_datetime(s).map(|t| json!(time::format_datetime(t + step * TICKS_PER_SECOND))),
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

/// Every match in the tree, in order.
fn leaves(predicate: &Predicate) -> Vec<&Match> {
    match predicate {
        Predicate::And(parts) | Predicate::Or(parts) => parts.iter().flat_map(leaves).collect(),
        Predicate::Not(inner) => leaves(inner),
        Predicate::Match(m) => vec![m],
        Predicate::Opaque { .. } => Vec::new(),
    }
}

/// Sets `field` (a column, or a path inside a dynamic or JSON-text column) to `value`, coerced to
/// the column's type; false when the column is unknown or the value does not fit its type.
fn set(event: &mut Row, field: &Field, value: Json, columns: &Columns) -> bool {
    let Some((_, kind)) = columns.iter().find(|(name, _)| *name == field.name) else { return false };
    if field.path.is_empty() {
        return match coerce(value, kind) {
            Some(v) => {
                event.insert(field.name.clone(), v);
                true
            }
            None => false,
        };
    }
    let current = event.get(&field.name).cloned().unwrap_or(Json::Null);
    let mut root = match current {
        Json::String(s) => serde_json::from_str(&s).unwrap_or(Json::Null),
        other => other,
    };
    if !root.is_object() {
        root = json!({});
    }
    let mut slot = &mut root;
    for step in &field.path {
        if !slot.is_object() {
            *slot = json!({});
        }
        slot = slot.as_object_mut().map(|o| o.entry(step.clone()).or_insert(Json::Null)).expect("made an object above");
    }
    *slot = value;
    let stored = if kind == "dynamic" { root } else { Json::String(root.to_string()) };
    event.insert(field.name.clone(), stored);
    true
}

/// `value` as a value of a column of type `kind`; `None` when it cannot be one.
fn coerce(value: Json, kind: &str) -> Option<Json> {
    if value.is_null() {
        // Kusto strings are never null: a missing string is empty.
        return Some(if kind == "string" { json!("") } else { value });
    }
    match kind {
        "string" | "guid" => Some(match value {
            Json::String(_) => value,
            other => Json::String(other.to_string()),
        }),
        "long" | "int" => super::cell::number(&value).filter(|f| f.fract() == 0.0 && f.abs() < 9e15).map(|f| json!(f as i64)),
        "real" => super::cell::number(&value).map(Json::from),
        "bool" => super::cell::boolean(&value).map(Json::from),
        "datetime" => super::cell::datetime(&value).map(|t| json!(time::format_datetime(t))),
        "timespan" => super::cell::number(&value).map(Json::from),
        _ => Some(value),
    }
}

fn dedupe(events: Vec<Row>) -> Vec<Row> {
    let mut seen = BTreeSet::new();
    events.into_iter().filter(|e| seen.insert(Json::Object(e.clone()).to_string())).take(MAX_EVENTS).collect()
}

/// Copies each join key value of the left side's base event into the right side's, so the
/// sides meet.
fn align_join_keys(detection: &Detection, bases: &mut [Vec<Row>]) {
    for stage in &detection.stages {
        let Stage::Join(join) = stage else { continue };
        for key in &join.keys {
            let (Some((l, lf)), Some((r, rf))) = (origin(detection, join.left, &key.left), origin(detection, join.right, &key.right))
            else {
                continue;
            };
            let Some(mut value) = bases[l].first().map(|e| super::cell::lookup(e, &lf).into_owned()) else { continue };
            // An empty key would join on nothing meaningful: give both sides a real one.
            if value == json!("") && lf.path.is_empty() {
                value = json!("key-1");
                bases[l].iter_mut().for_each(|e| {
                    e.insert(lf.name.clone(), value.clone());
                });
            }
            for event in &mut bases[r] {
                if rf.path.is_empty() && event.contains_key(&rf.name) {
                    event.insert(rf.name.clone(), value.clone());
                }
            }
        }
    }
}

/// Base events with a join key changed (other case, another value), so some rows find no partner.
fn key_misses(detection: &Detection, bases: &[Vec<Row>]) -> Vec<Row> {
    let mut out = Vec::new();
    for stage in &detection.stages {
        let Stage::Join(join) = stage else { continue };
        for key in &join.keys {
            let sides = [origin(detection, join.left, &key.left), origin(detection, join.right, &key.right)];
            // Each side changes differently, or the changed keys would meet again.
            for (side, (source, field)) in
                sides.into_iter().enumerate().filter_map(|(i, s)| Some((i, s?))).filter(|(_, (_, f))| f.path.is_empty())
            {
                for base in &bases[source] {
                    let changed: Vec<Json> = match base.get(&field.name) {
                        Some(Json::String(s)) if side == 0 => vec![json!(swap_case(s)), json!(format!("{s}-left"))],
                        Some(Json::String(s)) => vec![json!(format!("{s}-right"))],
                        Some(number @ Json::Number(_)) => shift(number, if side == 0 { 1 } else { -1 }).into_iter().collect(),
                        _ => Vec::new(),
                    };
                    for value in changed {
                        let mut event = base.clone();
                        event.insert(field.name.clone(), value);
                        out.push(event);
                    }
                }
            }
        }
    }
    out
}

/// The source and event field a column of `input` comes from, through filters and group keys.
fn origin(detection: &Detection, input: Input, field: &Field) -> Option<(usize, Field)> {
    match input {
        Input::Source(i) => Some((i, field.clone())),
        Input::Stage(i) => match detection.stages.get(i)? {
            Stage::Filter { input, .. } => origin(detection, *input, field),
            Stage::Aggregate(a) => {
                let key = a.group_by.iter().find(|k| k.name == field.name && k.bin.is_none())?;
                origin(detection, a.input, &key.field)
            }
            Stage::Join(j) => origin(detection, j.left, field),
            Stage::Union { .. } => None,
        },
    }
}

/// How many copies of the base events to try against each count threshold: the bound and one more.
fn threshold_copies(detection: &Detection) -> Vec<i64> {
    let mut copies = BTreeSet::new();
    for stage in &detection.stages {
        let Stage::Aggregate(a) = stage else { continue };
        copies.insert(2);
        for m in a.threshold.iter().flat_map(leaves) {
            for value in &m.values {
                if let Value::Int(n) = value {
                    copies.extend([*n, *n + 1].into_iter().filter(|c| (2..=MAX_COPIES).contains(c)));
                }
            }
        }
    }
    copies.into_iter().collect()
}

/// The `j`th copy of an event: fields counted by `dcount` get a distinct value when they are text,
/// so distinct counts grow with the copies too.
fn distinct_copy(detection: &Detection, event: &Row, j: i64) -> Row {
    let mut copy = event.clone();
    if j == 0 {
        return copy;
    }
    for stage in &detection.stages {
        let Stage::Aggregate(a) = stage else { continue };
        for agg in a.aggregations.iter().filter(|g| g.function == AggFunction::DistinctCount) {
            if let Some(Json::String(s)) = agg.field.as_ref().filter(|f| f.path.is_empty()).and_then(|f| copy.get_mut(&f.name)) {
                s.push_str(&format!("-{j}"));
            }
        }
    }
    copy
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::evaluate;
    use crate::ir::detection::{EventSource, Outputs};
    use crate::kql::Span;

    fn schemas() -> Schemas {
        let columns =
            [("TimeGenerated", "datetime"), ("EventID", "int"), ("CommandLine", "string"), ("IpAddress", "string"), ("Props", "dynamic")];
        BTreeMap::from([("SecurityEvent".to_string(), columns.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect())])
    }

    fn m(field: &str, op: MatchOp, values: Vec<Value>) -> Predicate {
        let mut parts = field.split('.');
        let field = Field { name: parts.next().unwrap().into(), path: parts.map(String::from).collect() };
        Predicate::Match(Match { field, op, values, quantifier: Quantifier::Any, case_sensitive: false, span: Span::default() })
    }

    fn detection(filter: Predicate) -> Detection {
        Detection {
            sources: vec![EventSource {
                name: "SecurityEvent".into(),
                tables: vec!["SecurityEvent".into()],
                filter,
                computed: vec![],
                span: Span::default(),
            }],
            result: Some(Input::Source(0)),
            outputs: Outputs { all_columns: true, fields: vec![] },
            ..Detection::default()
        }
    }

    #[test]
    fn the_base_event_passes_and_some_near_misses_do_not() {
        let filter = Predicate::And(vec![
            m("EventID", MatchOp::Equals, vec![Value::Int(4688)]),
            m("CommandLine", MatchOp::Has, vec![Value::String("mimikatz".into())]),
            Predicate::Not(Box::new(m("IpAddress", MatchOp::Cidr, vec![Value::String("10.0.0.0/8".into())]))),
            m("Props.role", MatchOp::Equals, vec![Value::String("admin".into())]),
            m("TimeGenerated", MatchOp::Gt, vec![Value::Ago(3600 * TICKS_PER_SECOND)]),
        ]);
        let d = detection(filter);
        let now = time::parse_datetime("2024-05-01T12:00:00Z").unwrap();
        let sets = scenarios(&d, &schemas(), now);
        assert_eq!(sets.len(), 1);
        let events = &sets[0];
        assert!(events.len() > 20, "{} events", events.len());
        let kept = evaluate(&d, events, now).unwrap().rows.len();
        assert!(kept >= 1 && kept < events.len(), "{kept} of {} kept", events.len());
        assert!(events.iter().all(|e| e["EventID"].is_null() || e["EventID"].is_i64()), "ints stay ints");
        assert!(events.iter().any(|e| e["CommandLine"] == json!("xmimikatz")), "a boundary moved");
    }

    #[test]
    fn a_source_without_a_schema_gives_no_scenarios() {
        let mut d = detection(Predicate::always());
        d.sources[0].tables = vec!["Unknown_CL".into()];
        assert!(scenarios(&d, &schemas(), 0).is_empty());
    }

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
