//! `ruleconv explain`: what a rule detects, in words a person reads, or as one JSON record per
//! rule. Built from the rule's `Detection` (see `lower`).

use crate::convert::Lowered;
use crate::ir::Timespan;
use crate::ir::detection::{
    AggFunction, Aggregate, Detection, Input, Join, JoinKind, Match, MatchOp, OutputOrigin, Predicate, Quantifier, Stage, Value,
};
use serde::Serialize;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// One rule, explained: the JSON record of `explain --format json`.
#[derive(Clone, Debug, Serialize)]
pub struct Explained {
    pub file: PathBuf,
    pub rule_id: Option<String>,
    pub title: String,
    pub detection: Detection,
    /// What lowering could not model, with its place in the file; empty when nothing.
    pub unmodelled: Vec<Located>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Located {
    pub construct: String,
    pub reason: String,
    pub line: usize,
    pub column: usize,
}

/// A lowered rule in words, with what was not modelled placed in its file. `file` is the path
/// to report.
pub fn explain(lowered: &Lowered, file: &Path) -> Explained {
    let (rule, detection) = (lowered.rule, (*lowered.detection).clone());
    let unmodelled = detection
        .unmodelled
        .iter()
        .map(|u| {
            let position = rule.logic.as_ref().map_or(rule.origin.position, |logic| logic.position(u.span.start));
            Located { construct: u.construct.clone(), reason: u.reason.clone(), line: position.line, column: position.col }
        })
        .collect();
    Explained { file: file.to_path_buf(), rule_id: rule.id.clone(), title: rule.title.clone(), detection, unmodelled }
}

/// The plain-words explanation of one rule.
pub fn render_text(explained: &Explained) -> String {
    let mut out = String::new();
    let d = &explained.detection;
    let id = explained.rule_id.as_deref().map(|id| format!(" [{id}]")).unwrap_or_default();
    let _ = writeln!(out, "{}{id}\n  file: {}", explained.title, explained.file.display());
    for (i, source) in d.sources.iter().enumerate() {
        let tables = match &source.logsource {
            Some(logsource) => format!("the Sigma logsource {}", logsource_text(logsource)),
            None if source.tables.is_empty() => "no table".to_string(),
            None => source.tables.join(", "),
        };
        let named = if source.tables.first() == Some(&source.name) { String::new() } else { format!(" as {}", source.name) };
        let _ = writeln!(out, "  source {}: events of {tables}{named}", i + 1);
        source_filter(&source.filter, &mut out);
        for computed in &source.computed {
            let _ = writeln!(out, "    computes {} = {}", computed.name, computed.expression);
        }
    }
    for (i, stage) in d.stages.iter().enumerate() {
        let _ = writeln!(out, "  step {}: {}", i + 1, stage_text(stage, d));
        match stage {
            Stage::Filter { predicate, .. } => tree(predicate, 2, &mut out),
            Stage::Aggregate(aggregate @ Aggregate { threshold: Some(threshold), .. }) => match threshold_words(aggregate) {
                Some(words) => {
                    let _ = writeln!(out, "    alert when {words}");
                }
                None => {
                    let _ = writeln!(out, "    alert when:");
                    tree(threshold, 3, &mut out);
                }
            },
            _ => {}
        }
    }
    let _ = writeln!(out, "  {}", outputs_text(d));
    for entity in &d.entities {
        let missing = if entity.column_in_output { "" } else { " (not in the output!)" };
        let _ = writeln!(out, "  entity {}.{} from column {}{missing}", entity.entity_type, entity.identifier, entity.column);
    }
    if explained.unmodelled.is_empty() {
        let _ = writeln!(out, "  fully modelled");
    } else {
        let _ = writeln!(out, "  not modelled:");
        for u in &explained.unmodelled {
            let _ = writeln!(out, "    {}:{}:{}: {}: {}", explained.file.display(), u.line, u.column, u.construct, u.reason);
        }
    }
    out
}

/// A source's filter: the conditions, then the exclusions (negated top-level conditions).
fn source_filter(filter: &Predicate, out: &mut String) {
    let parts: Vec<&Predicate> = match filter {
        Predicate::And(parts) => parts.iter().collect(),
        other => vec![other],
    };
    let (exclusions, conditions): (Vec<&Predicate>, Vec<&Predicate>) = parts.into_iter().partition(|p| matches!(p, Predicate::Not(_)));
    if conditions.is_empty() {
        let _ = writeln!(out, "    every event");
    } else {
        let _ = writeln!(out, "    where all of:");
        for condition in conditions {
            tree(condition, 3, out);
        }
    }
    if !exclusions.is_empty() {
        let _ = writeln!(out, "    excluding any where:");
        for exclusion in exclusions {
            if let Predicate::Not(inner) = exclusion {
                tree(inner, 3, out);
            }
        }
    }
}

/// A predicate as an indented tree: "all of:", "any of:", "not:", one test per line.
fn tree(predicate: &Predicate, depth: usize, out: &mut String) {
    let pad = "  ".repeat(depth);
    match predicate {
        Predicate::And(parts) if parts.is_empty() => {
            let _ = writeln!(out, "{pad}always");
        }
        Predicate::Or(parts) if parts.is_empty() => {
            let _ = writeln!(out, "{pad}never");
        }
        Predicate::And(parts) | Predicate::Or(parts) => {
            let _ = writeln!(out, "{pad}{}", if matches!(predicate, Predicate::And(_)) { "all of:" } else { "any of:" });
            parts.iter().for_each(|p| tree(p, depth + 1, out));
        }
        Predicate::Not(inner) => match inner.as_ref() {
            Predicate::Match(m) => {
                let _ = writeln!(out, "{pad}not: {}", match_words(m));
            }
            inner => {
                let _ = writeln!(out, "{pad}not:");
                tree(inner, depth + 1, out);
            }
        },
        Predicate::Match(m) => {
            let _ = writeln!(out, "{pad}{}", match_words(m));
        }
        Predicate::Opaque { text, .. } => {
            let _ = writeln!(out, "{pad}(not modelled) {}", text.split_whitespace().collect::<Vec<_>>().join(" "));
        }
    }
}

/// One field test in words: `CommandLine contains (case-insensitive) 'x'`.
pub fn match_words(m: &Match) -> String {
    let field = &m.field;
    let case = if m.case_sensitive { " (case-sensitive)" } else { " (case-insensitive)" };
    let values = values_words(&m.values, m.quantifier);
    match m.op {
        MatchOp::IsEmpty => format!("{field} is empty"),
        MatchOp::IsNull => format!("{field} is null"),
        MatchOp::Gt | MatchOp::Ge if matches!(m.values.as_slice(), [Value::Ago(_)]) => {
            format!("{field} in the last {}", values.trim_start_matches("ago "))
        }
        MatchOp::Between => match m.values.as_slice() {
            [Value::Ago(t), Value::Now] => format!("{field} in the last {}", Timespan::from_ticks(*t)),
            [low, high] => format!("{field} is between {} and {}", value_words(low), value_words(high)),
            _ => format!("{field} is in a range"),
        },
        MatchOp::Lt => format!("{field} is less than {values}"),
        MatchOp::Le => format!("{field} is at most {values}"),
        MatchOp::Gt => format!("{field} is more than {values}"),
        MatchOp::Ge => format!("{field} is at least {values}"),
        MatchOp::Cidr => format!("{field} is an IPv4 address in {values}"),
        MatchOp::Equals if m.values.iter().all(|v| !matches!(v, Value::String(_))) => format!("{field} equals {values}"),
        op => {
            let verb = match op {
                MatchOp::Equals => "equals",
                MatchOp::Contains => "contains",
                MatchOp::StartsWith => "starts with",
                MatchOp::EndsWith => "ends with",
                MatchOp::Has => "has the term",
                MatchOp::HasPrefix => "has a term starting with",
                MatchOp::HasSuffix => "has a term ending with",
                MatchOp::Regex => "matches the regular expression",
                _ => "is like",
            };
            format!("{field} {verb}{case} {values}")
        }
    }
}

fn values_words(values: &[Value], quantifier: Quantifier) -> String {
    match values {
        [one] => value_words(one),
        many => {
            let list: Vec<String> = many.iter().map(value_words).collect();
            let which = if quantifier == Quantifier::All { "all of" } else { "any of" };
            format!("{which} ({})", list.join(", "))
        }
    }
}

pub fn value_words(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(n) => n.to_string(),
        Value::Real(x) => x.to_string(),
        Value::String(s) => format!("'{s}'"),
        Value::Datetime(d) => d.clone(),
        Value::Timespan(t) => Timespan::from_ticks(*t).to_string(),
        Value::Ago(t) => format!("ago {}", Timespan::from_ticks(*t)),
        Value::Now => "now".into(),
        Value::Field(f) => format!("the field {f}"),
    }
}

fn input_words(input: Input, detection: &Detection) -> String {
    match input {
        Input::Source(i) => format!("source {} ({})", i + 1, detection.sources.get(i).map_or("?", |s| s.name.as_str())),
        Input::Stage(i) => format!("step {}", i + 1),
    }
}

fn stage_text(stage: &Stage, d: &Detection) -> String {
    match stage {
        Stage::Join(Join { kind, left, right, keys, window, ordered, .. }) => {
            let keys: Vec<String> =
                keys.iter().map(|k| if k.left == k.right { k.left.to_string() } else { format!("{} = {}", k.left, k.right) }).collect();
            let keys = if keys.is_empty() { "keys not modelled".to_string() } else { keys.join(", ") };
            let window = window.map(|w| format!(", within {} of each other", w)).unwrap_or_default();
            let order = if *ordered { format!(", {} first", input_words(*left, d)) } else { String::new() };
            format!("{} {} with {} on {keys}{window}{order}", join_words(*kind), input_words(*left, d), input_words(*right, d))
        }
        Stage::Aggregate(Aggregate { input, group_by, aggregations, .. }) => {
            let per: Vec<String> = group_by
                .iter()
                .map(|k| match k.bin {
                    Some(size) => format!("{} in {} bins", k.field, size),
                    None => k.field.to_string(),
                })
                .collect();
            let per = if per.is_empty() { String::new() } else { format!(" per {}", per.join(", ")) };
            let computes: Vec<String> =
                aggregations.iter().map(|a| format!("{} = {}", a.name, aggregation_words(a.function, a.field.as_ref()))).collect();
            let computes = if computes.is_empty() { "nothing".to_string() } else { computes.join(", ") };
            format!("group {}{per}, computing {computes}", input_words(*input, d))
        }
        Stage::Union { inputs, .. } => format!("all rows of {}", inputs.iter().map(|i| input_words(*i, d)).collect::<Vec<_>>().join(", ")),
        Stage::Filter { input, .. } => format!("rows of {} where:", input_words(*input, d)),
        Stage::Extend { input, computed, .. } => {
            let columns: Vec<String> = computed.iter().map(|c| format!("{} = {}", c.name, c.expression)).collect();
            format!("rows of {} with {}", input_words(*input, d), columns.join(", "))
        }
    }
}

fn join_words(kind: JoinKind) -> &'static str {
    match kind {
        JoinKind::InnerUnique => "match (inner join, left side deduplicated on the keys)",
        JoinKind::Inner => "match (inner join)",
        JoinKind::LeftOuter => "enrich (left outer join)",
        JoinKind::RightOuter => "enrich (right outer join)",
        JoinKind::FullOuter => "combine (full outer join)",
        JoinKind::LeftSemi => "keep those (left semi join)",
        JoinKind::RightSemi => "keep those (right semi join)",
        JoinKind::LeftAnti => "keep those without a match (left anti join)",
        JoinKind::RightAnti => "keep those without a match (right anti join)",
    }
}

fn aggregation_words(function: AggFunction, field: Option<&crate::ir::detection::Field>) -> String {
    let field = field.map(|f| f.to_string()).unwrap_or_default();
    match function {
        AggFunction::Count => "number of events".into(),
        AggFunction::DistinctCount => format!("number of distinct {field}"),
        AggFunction::Sum => format!("sum of {field}"),
        AggFunction::Min => format!("smallest {field}"),
        AggFunction::Max => format!("largest {field}"),
        AggFunction::Avg => format!("average {field}"),
        AggFunction::MakeSet => format!("set of {field}"),
        AggFunction::MakeList => format!("list of {field}"),
        AggFunction::TakeAny => format!("any {field}"),
        AggFunction::ArgMax => format!("the row with the latest (largest) {field}"),
        AggFunction::ArgMin => format!("the row with the earliest (smallest) {field}"),
    }
}

/// A threshold that is one comparison of an aggregation with a number, as a sentence:
/// "more than 5 events per Account within 1h"; `None` for anything else (shown as a tree).
fn threshold_words(aggregate: &Aggregate) -> Option<String> {
    let Some(Predicate::Match(m)) = &aggregate.threshold else { return None };
    let aggregation = aggregate.aggregations.iter().find(|a| m.field.path.is_empty() && a.name == m.field.name)?;
    let [number @ (Value::Int(_) | Value::Real(_))] = m.values.as_slice() else { return None };
    let comparison = match m.op {
        MatchOp::Gt => "more than",
        MatchOp::Ge => "at least",
        MatchOp::Lt => "fewer than",
        MatchOp::Le => "at most",
        MatchOp::Equals => "exactly",
        _ => return None,
    };
    let number = value_words(number);
    let what = match aggregation.function {
        AggFunction::Count => format!("{comparison} {number} events"),
        AggFunction::DistinctCount => {
            format!("{comparison} {number} distinct {}", aggregation.field.as_ref().map(|f| f.to_string()).unwrap_or_default())
        }
        function => format!("{} {comparison} {number}", aggregation_words(function, aggregation.field.as_ref())),
    };
    let keys: Vec<String> = aggregate.group_by.iter().filter(|k| k.bin.is_none()).map(|k| k.field.to_string()).collect();
    let per = if keys.is_empty() { String::new() } else { format!(" per {}", keys.join(", ")) };
    let within = aggregate.group_by.iter().find_map(|k| k.bin).map(|size| format!(" within {}", size)).unwrap_or_default();
    Some(format!("{what}{per}{within}"))
}

fn outputs_text(d: &Detection) -> String {
    let fields: Vec<String> = d
        .outputs
        .fields
        .iter()
        .map(|o| match &o.origin {
            OutputOrigin::Field(f) if f.to_string() == o.name => o.name.clone(),
            OutputOrigin::Field(f) => format!("{} (from {f})", o.name),
            OutputOrigin::Computed(text) => format!("{} (computed: {})", o.name, text.split_whitespace().collect::<Vec<_>>().join(" ")),
            OutputOrigin::GroupKey => format!("{} (group key)", o.name),
            OutputOrigin::Aggregation(_) => format!("{} (aggregate)", o.name),
        })
        .collect();
    match (d.outputs.all_columns, fields.is_empty()) {
        (true, true) => "output: every column of the events".into(),
        (true, false) => format!("output: every column, and {}", fields.join(", ")),
        (false, _) => format!("output: {}", fields.join(", ")),
    }
}

/// `product: windows, category: process_creation`, the keys a logsource sets.
fn logsource_text(logsource: &crate::ir::LogSource) -> String {
    let keys = [
        ("product", &logsource.product),
        ("category", &logsource.category),
        ("service", &logsource.service),
        ("definition", &logsource.definition),
    ];
    let set: Vec<String> = keys.iter().filter_map(|(key, value)| value.as_ref().map(|v| format!("{key}: {v}"))).collect();
    if set.is_empty() { "(empty)".to_string() } else { set.join(", ") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn explained(query: &str) -> String {
        let detection = crate::lower::lower_query(query);
        render_text(&Explained { file: PathBuf::from("r.yaml"), rule_id: None, title: "R".into(), detection, unmodelled: Vec::new() })
    }

    #[test]
    fn conditions_read_as_words_with_exclusions_apart() {
        let text = explained(
            "T | where TimeGenerated > ago(1d) and CommandLine contains 'x' and (A has_cs 'y' or B in ('p', 'q')) and not(C startswith 'z')",
        );
        for line in [
            "    where all of:",
            "      TimeGenerated in the last 1d",
            "      CommandLine contains (case-insensitive) 'x'",
            "      any of:",
            "        A has the term (case-sensitive) 'y'",
            "        B equals (case-sensitive) any of ('p', 'q')",
            "    excluding any where:",
            "      C starts with (case-insensitive) 'z'",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
        }
    }

    #[test]
    fn thresholds_and_windows_read_as_sentences() {
        let text = explained("T | summarize count() by Account, bin(TimeGenerated, 1h) | where count_ > 5");
        assert!(text.contains("    alert when more than 5 events per Account within 1h\n"), "{text}");
        let text = explained("T | join (U) on A | where abs(datetime_diff('minute', T1, T2)) <= 30");
        assert!(text.contains("on A, within 30m of each other"), "{text}");
        let text = explained("T | summarize n = count() by A | where n > 5 or n < 2");
        assert!(text.contains("    alert when:\n      any of:\n        n is more than 5\n"), "{text}");
    }
}
