//! A compact one-line rendering of a `Detection`, so a lowering test case fits on one line:
//! `T: A =~ 'x' and not(B has 'y')`, sources separated by `; `, then ` | stage` for each stage.

use ruleconv::ir::detection::{
    Aggregate, Detection, GroupKey, Input, Join, Match, MatchOp, OutputOrigin, Predicate, Quantifier, Stage, Value,
};

pub fn render(detection: &Detection) -> String {
    let several = detection.sources.len() > 1;
    let sources = detection.sources.iter().enumerate().map(|(i, source)| {
        let tables = source.tables.join(", ");
        let label = if source.name == tables { tables } else { format!("{}={}", source.name, tables) };
        let label = if several { format!("s{i} {label}") } else { label };
        format!("{label}: {}", predicate(&source.filter))
    });
    let mut text = sources.collect::<Vec<_>>().join("; ");
    for (i, stage) in detection.stages.iter().enumerate() {
        text.push_str(&format!(" | [{i}] {}", stage_text(stage)));
    }
    text
}

/// `*, A, B<-C, n<-count@[0]`: all columns, then each output with where it comes from when that
/// is not the event field of its own name on the first source.
pub fn outputs(detection: &Detection) -> String {
    let mut parts: Vec<String> = detection.outputs.all_columns.then(|| "*".to_string()).into_iter().collect();
    for output in &detection.outputs.fields {
        let origin = match &output.origin {
            OutputOrigin::Field(field) if field.to_string() == output.name => String::new(),
            OutputOrigin::Field(field) => format!("<-{field}"),
            OutputOrigin::Computed(text) => format!("<-`{text}`"),
            OutputOrigin::GroupKey => "<-key".to_string(),
            OutputOrigin::Aggregation(function) => format!("<-{}", serde_json::to_value(function).unwrap().as_str().unwrap()),
        };
        let made_by = if output.made_by == Input::Source(0) { String::new() } else { format!("@{}", input(output.made_by)) };
        parts.push(format!("{}{origin}{made_by}", output.name));
    }
    parts.join(", ")
}

pub fn unmodelled(detection: &Detection) -> Vec<String> {
    detection.unmodelled.iter().map(|u| u.construct.clone()).collect()
}

fn input(input: Input) -> String {
    match input {
        Input::Source(i) => format!("s{i}"),
        Input::Stage(i) => format!("[{i}]"),
    }
}

fn stage_text(stage: &Stage) -> String {
    match stage {
        Stage::Join(Join { kind, left, right, keys, window, .. }) => {
            let keys: Vec<String> = keys.iter().map(|k| format!("{} = {}", k.left, k.right)).collect();
            let window = window.map(|w| format!(" within {}", timespan(w.ticks()))).unwrap_or_default();
            format!(
                "join {} {} {} on {}{window}",
                serde_json::to_value(kind).unwrap().as_str().unwrap(),
                input(*left),
                input(*right),
                keys.join(", ")
            )
        }
        Stage::Aggregate(Aggregate { input: from, group_by, aggregations, threshold, .. }) => {
            let aggs: Vec<String> = aggregations
                .iter()
                .map(|a| {
                    let function = serde_json::to_value(a.function).unwrap().as_str().unwrap().to_string();
                    let field = a.field.as_ref().map(|f| f.to_string()).unwrap_or_default();
                    let condition = a.condition.as_ref().map(|c| format!(" if {}", predicate(c))).unwrap_or_default();
                    format!("{}={function}({field}){condition}", a.name)
                })
                .collect();
            let keys: Vec<String> = group_by.iter().map(group_key).collect();
            let by = if keys.is_empty() { String::new() } else { format!(" by {}", keys.join(", ")) };
            let threshold = threshold.as_ref().map(|t| format!(" having {}", predicate(t))).unwrap_or_default();
            format!("summarize {} {}{by}{threshold}", input(*from), aggs.join(", "))
        }
        Stage::Union { inputs, .. } => format!("union {}", inputs.iter().map(|i| input(*i)).collect::<Vec<_>>().join(", ")),
        Stage::Filter { input: from, predicate: p, .. } => format!("filter {}: {}", input(*from), predicate(p)),
        Stage::Extend { input: from, computed, .. } => {
            format!("extend {}: {}", input(*from), computed.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", "))
        }
    }
}

fn group_key(key: &GroupKey) -> String {
    let field = match key.bin {
        Some(size) => format!("bin({}, {})", key.field, timespan(size.ticks())),
        None => key.field.to_string(),
    };
    if key.name == key.field.to_string() { field } else { format!("{}={field}", key.name) }
}

pub fn predicate(predicate: &Predicate) -> String {
    match predicate {
        Predicate::And(parts) if parts.is_empty() => "true".into(),
        Predicate::Or(parts) if parts.is_empty() => "false".into(),
        Predicate::And(parts) => parts.iter().map(|p| grouped(p, matches!(p, Predicate::Or(_)))).collect::<Vec<_>>().join(" and "),
        Predicate::Or(parts) => parts.iter().map(|p| grouped(p, matches!(p, Predicate::And(_)))).collect::<Vec<_>>().join(" or "),
        Predicate::Not(inner) => format!("not({})", self::predicate(inner)),
        Predicate::Match(m) => match_text(m),
        Predicate::Opaque { text, .. } => format!("opaque({text})"),
    }
}

fn grouped(p: &Predicate, parens: bool) -> String {
    if parens { format!("({})", predicate(p)) } else { predicate(p) }
}

fn match_text(m: &Match) -> String {
    let cs = m.case_sensitive;
    let several = m.values.len() > 1;
    let values: Vec<String> = m.values.iter().map(value).collect();
    let list = format!("({})", values.join(", "));
    let one = values.first().cloned().unwrap_or_default();
    let word = |base: &str| if cs { format!("{base}_cs") } else { base.to_string() };
    let f = &m.field;
    match m.op {
        MatchOp::Equals if several => format!("{f} {} {list}", if cs { "in" } else { "in~" }),
        MatchOp::Equals => format!("{f} {} {one}", if cs { "==" } else { "=~" }),
        MatchOp::Has if several || m.quantifier == Quantifier::All => {
            format!("{f} {} {list}", word(if m.quantifier == Quantifier::All { "has_all" } else { "has_any" }))
        }
        MatchOp::IsEmpty => format!("isempty({f})"),
        MatchOp::IsNull => format!("isnull({f})"),
        MatchOp::Cidr => format!("{f} in cidr {list}"),
        MatchOp::Between => format!("{f} between ({} .. {})", values[0], values[1]),
        MatchOp::Lt => format!("{f} < {one}"),
        MatchOp::Le => format!("{f} <= {one}"),
        MatchOp::Gt => format!("{f} > {one}"),
        MatchOp::Ge => format!("{f} >= {one}"),
        MatchOp::Regex => format!("{f} matches regex {one}"),
        op => {
            let name = serde_json::to_value(op).unwrap().as_str().unwrap().replace('_', "");
            let quantifier = if m.quantifier == Quantifier::All { "all" } else { "any" };
            if several { format!("{f} {} {quantifier} {list}", word(&name)) } else { format!("{f} {} {one}", word(&name)) }
        }
    }
}

fn value(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(n) => n.to_string(),
        Value::Real(x) => x.to_string(),
        Value::String(s) => format!("'{s}'"),
        Value::Datetime(d) => format!("datetime({d})"),
        Value::Timespan(t) => timespan(*t),
        Value::Ago(t) => format!("ago({})", timespan(*t)),
        Value::Now => "now()".into(),
        Value::Field(f) => f.to_string(),
    }
}

fn timespan(ticks: i64) -> String {
    const UNITS: [(i64, &str); 4] = [(864_000_000_000, "d"), (36_000_000_000, "h"), (600_000_000, "m"), (10_000_000, "s")];
    UNITS
        .iter()
        .find(|(size, _)| ticks != 0 && ticks % size == 0)
        .map_or(format!("{ticks}tick"), |(size, unit)| format!("{}{unit}", ticks / size))
}
