//! A Sigma file's documents: detection rules, correlation rules and filters, parsed from our
//! YAML tree and checked (modifiers known, conditions naming searches that exist), with spans.

use super::condition::{self, Condition};
use super::pattern::{self, MAX_VARIANTS, Pattern, Unexpanded};
use super::{DetectionSection, FieldTest, Modifier, RuleLogic, Scalar, Search, SearchBody, SigmaError, SigmaValue};
use crate::diag::{LineIndex, Position};
use crate::ir::LogSource;
use crate::ir::detection::MatchOp;
use crate::kql::Span;
use crate::yaml::{self, Node, Style, Value};

/// One document of the file, parsed.
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    /// Its index among the file's (non-empty) documents.
    pub index: usize,
    pub title: String,
    pub id: Option<String>,
    /// `name:`, by which correlations may refer to it.
    pub name: Option<String>,
    pub kind: DocumentKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum DocumentKind {
    Rule(RuleLogic),
    Correlation(Correlation),
    Filter(Filter),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Correlation {
    pub kind: CorrelationKind,
    /// The rules correlated, by name or id, as written.
    pub rules: Vec<(String, Span)>,
    pub group_by: Vec<String>,
    pub timespan: Option<(String, Span)>,
    pub threshold: Option<Threshold>,
    /// `aliases`: one group-by name for differently named fields per rule.
    pub aliases: Option<Aliases>,
    pub span: Span,
}

/// A correlation's `aliases`, in document order.
#[derive(Clone, Debug, PartialEq)]
pub struct Aliases {
    /// Each group-by name with, per rule (by name or id, as written), the field it stands for.
    pub names: Vec<(String, Vec<(String, String)>)>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CorrelationKind {
    EventCount,
    ValueCount,
    Temporal,
    TemporalOrdered,
}

impl CorrelationKind {
    pub fn name(self) -> &'static str {
        match self {
            CorrelationKind::EventCount => "event_count",
            CorrelationKind::ValueCount => "value_count",
            CorrelationKind::Temporal => "temporal",
            CorrelationKind::TemporalOrdered => "temporal_ordered",
        }
    }
}

/// `condition: {field: X, gte: 10, lt: 20}`: bounds on the count.
#[derive(Clone, Debug, PartialEq)]
pub struct Threshold {
    /// The field whose distinct values `value_count` counts.
    pub field: Option<String>,
    pub bounds: Vec<(MatchOp, i64)>,
    pub span: Span,
}

/// A filter document: a condition the named rules' events must also meet.
#[derive(Clone, Debug, PartialEq)]
pub struct Filter {
    pub rules: Vec<(String, Span)>,
    pub logsource: LogSource,
    pub detection: DetectionSection,
    pub span: Span,
}

/// A document as read: its YAML (for metadata) and what it means, or why it cannot be read.
pub struct Parsed {
    pub node: Node,
    pub document: Result<Document, SigmaError>,
}

/// Parses every document of a Sigma file; a YAML syntax error fails the whole file.
pub fn parse_file(text: &str) -> Result<Vec<Parsed>, SigmaError> {
    read_documents(text, yaml::parse_documents(text))
}

/// As `parse_file`, from the file's YAML parse when it was made already (format detection).
pub fn read_documents(text: &str, parse: Result<Vec<Node>, yaml::YamlError>) -> Result<Vec<Parsed>, SigmaError> {
    let lines = Lines::new(text);
    let nodes = parse.map_err(|e| {
        let at = lines.offset(e.position);
        SigmaError::new(Span { start: at, end: at }, e.message)
    })?;
    let nodes = nodes.into_iter().filter(|node| node.value != Value::Null);
    let mut parsed: Vec<Parsed> = nodes
        .enumerate()
        .map(|(index, node)| {
            let document = Reader { lines: &lines }.document(&node, index);
            Parsed { node, document }
        })
        .collect();
    refuse_cycles(&mut parsed);
    Ok(parsed)
}

/// A correlation that reaches itself through the rules it names (`a` names `b`, `b` names `a`)
/// means nothing: each correlation on a cycle is refused at its reference into the cycle.
fn refuse_cycles(parsed: &mut [Parsed]) {
    fn correlation(p: &Parsed) -> Option<&Correlation> {
        match &p.document {
            Ok(Document { kind: DocumentKind::Correlation(c), .. }) => Some(c),
            _ => None,
        }
    }
    let named = |reference: &str| {
        parsed.iter().position(|p| {
            correlation(p).is_some()
                && p.document.as_ref().is_ok_and(|d| d.name.as_deref() == Some(reference) || d.id.as_deref() == Some(reference))
        })
    };
    // The correlations each one names, with the reference's text and span.
    let edges: Vec<Vec<(usize, &str, Span)>> = parsed
        .iter()
        .map(|p| {
            correlation(p).map_or_else(Vec::new, |c| c.rules.iter().filter_map(|(r, at)| Some((named(r)?, r.as_str(), *at))).collect())
        })
        .collect();
    let reaches = |from: usize, target: usize| {
        let mut seen = vec![false; edges.len()];
        let mut pending = vec![from];
        while let Some(at) = pending.pop() {
            if at == target {
                return true;
            }
            if !std::mem::replace(&mut seen[at], true) {
                pending.extend(edges[at].iter().map(|(next, _, _)| *next));
            }
        }
        false
    };
    let refused: Vec<(usize, SigmaError)> = (0..edges.len())
        .filter_map(|start| {
            let (_, reference, at) = edges[start].iter().find(|(next, _, _)| reaches(*next, start))?;
            let message = format!("the correlation refers back to itself through `{reference}`: correlations may not form a cycle");
            Some((start, SigmaError::new(*at, message)))
        })
        .collect();
    for (index, error) in refused {
        parsed[index].document = Err(error);
    }
}

/// The file's text with its line index, to turn YAML positions into byte offsets.
struct Lines<'a>(LineIndex<'a>);

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Lines<'a> {
        Lines(LineIndex::new(text))
    }

    fn text(&self) -> &'a str {
        self.0.text()
    }

    /// The byte offset of a position (whose column counts characters); the text's end for
    /// one past it.
    fn offset(&self, position: Position) -> usize {
        self.0.offset(position).unwrap_or(self.text().len())
    }
}

struct Reader<'a> {
    lines: &'a Lines<'a>,
}

impl Reader<'_> {
    /// The span of a node: its start, and for a one-line string scalar its length.
    fn span_of(&self, node: &Node) -> Span {
        let start = self.lines.offset(node.position);
        let len = match &node.value {
            Value::Str(s) if matches!(node.style, Style::Plain | Style::SingleQuoted | Style::DoubleQuoted) => {
                s.len() + if node.style == Style::Plain { 0 } else { 2 }
            }
            _ => 0,
        };
        Span { start, end: start + len }
    }

    /// A plain scalar's text as written in the file; `None` for an alias (`*name`), whose value
    /// is written at its anchor.
    fn raw(&self, node: &Node) -> Option<&str> {
        let rest = self.lines.text().get(self.span_of(node).start..).unwrap_or_default();
        let end = rest.find(|c: char| c.is_whitespace() || matches!(c, ',' | ']' | '}' | '#')).unwrap_or(rest.len());
        Some(&rest[..end]).filter(|raw| !raw.starts_with('*'))
    }

    fn key_span(&self, entry: &yaml::Entry) -> Span {
        let key = Node { value: Value::Str(entry.key.clone()), position: entry.key_position, style: Style::Plain };
        self.span_of(&key)
    }

    fn document(&self, node: &Node, index: usize) -> Result<Document, SigmaError> {
        let span = self.span_of(node);
        let text = |key: &str| node.get(key).and_then(scalar_text);
        let head = |kind| Document { index, title: text("title").unwrap_or_default(), id: text("id"), name: text("name"), kind, span };
        if node.entries().is_none() {
            return Err(SigmaError::new(span, format!("a Sigma document is a mapping, not {}", node.kind_name())));
        }
        if let Some(action) = node.get("action") {
            return Err(SigmaError::new(
                self.span_of(action),
                "Sigma v1 rule collections (`action:`) are not supported; write one rule per document",
            ));
        }
        let kind = if let Some(correlation) = node.get("correlation") {
            DocumentKind::Correlation(self.correlation(correlation)?)
        } else if let Some(filter) = node.get("filter") {
            DocumentKind::Filter(self.filter(node, filter)?)
        } else if let Some(detection) = node.get("detection") {
            let fields =
                seq_of_text(node.get("fields")).into_iter().map(|f| (scalar_text(f).unwrap_or_default(), self.span_of(f))).collect();
            DocumentKind::Rule(RuleLogic {
                logsource: logsource(node.get("logsource")),
                detection: self.detection(detection, &[])?,
                fields,
            })
        } else {
            return Err(SigmaError::new(span, "a Sigma document needs `detection`, `correlation` or `filter`"));
        };
        Ok(head(kind))
    }

    /// The `detection` map, without the keys in `skip` (a filter's `rules`).
    fn detection(&self, node: &Node, skip: &[&str]) -> Result<DetectionSection, SigmaError> {
        let span = self.span_of(node);
        let Some(entries) = node.entries() else {
            return Err(SigmaError::new(span, format!("`detection` must be a mapping, not {}", node.kind_name())));
        };
        let mut searches = Vec::new();
        let mut conditions = Vec::new();
        let mut timeframe = None;
        let mut condition_span = None;
        for entry in entries.iter().filter(|e| !skip.contains(&e.key.as_str())) {
            match entry.key.as_str() {
                "condition" => {
                    condition_span = Some(self.key_span(entry));
                    for item in one_or_many(&entry.value) {
                        let Some(text) = item.as_str() else {
                            return Err(SigmaError::new(self.span_of(item), "a condition must be a string"));
                        };
                        let base = self.span_of(item).start + usize::from(item.style != Style::Plain);
                        conditions.push(condition::parse(text, base)?);
                    }
                }
                "timeframe" => timeframe = scalar_text(&entry.value).map(|t| (t, self.span_of(&entry.value))),
                name => searches.push(Search { name: name.to_string(), body: self.search(&entry.value)?, span: self.key_span(entry) }),
            }
        }
        let Some(condition_span) = condition_span else { return Err(SigmaError::new(span, "`detection` has no `condition`")) };
        if conditions.is_empty() {
            return Err(SigmaError::new(condition_span, "the condition is empty"));
        }
        conditions.iter().try_for_each(|c| check_names(c, &searches))?;
        let uses_of = |weights: &[u64]| total(conditions.iter().map(|c| uses(c, &searches, weights)));
        if uses_of(&vec![1; searches.len()]) > MAX_EXPANDED_SEARCHES {
            let message = format!(
                "the condition expands to more than {MAX_EXPANDED_SEARCHES} searches (counting each `of` as the searches it covers)"
            );
            return Err(SigmaError::new(condition_span, message));
        }
        if uses_of(&searches.iter().map(|s| body_values(&s.body)).collect::<Vec<_>>()) > MAX_LOWERED_VALUES {
            let message =
                format!("the condition expands to more than {MAX_LOWERED_VALUES} values (counting each search's values once per use)");
            return Err(SigmaError::new(condition_span, message));
        }
        Ok(DetectionSection { searches, conditions, timeframe, span })
    }

    fn search(&self, node: &Node) -> Result<SearchBody, SigmaError> {
        match &node.value {
            Value::Map(entries) => Ok(SearchBody::All(entries.iter().map(|e| self.field_test(e)).collect::<Result<_, _>>()?)),
            Value::Seq(items) if items.iter().all(|i| !matches!(i.value, Value::Map(_) | Value::Seq(_))) => {
                Ok(SearchBody::Keywords(FieldTest {
                    field: None,
                    modifiers: Vec::new(),
                    values: self.values(node)?,
                    span: self.span_of(node),
                }))
            }
            Value::Seq(items) => Ok(SearchBody::Any(items.iter().map(|i| self.search(i)).collect::<Result<_, _>>()?)),
            _ => Ok(SearchBody::Keywords(FieldTest {
                field: None,
                modifiers: Vec::new(),
                values: self.values(node)?,
                span: self.span_of(node),
            })),
        }
    }

    /// `field|mod|mod: values`; an empty field name makes keywords with modifiers.
    fn field_test(&self, entry: &yaml::Entry) -> Result<FieldTest, SigmaError> {
        let span = self.key_span(entry);
        let mut parts = entry.key.split('|');
        let field = parts.next().filter(|f| !f.is_empty()).map(str::to_string);
        let modifiers = parts
            .map(|name| Modifier::parse(name).ok_or_else(|| SigmaError::new(span, format!("unknown modifier `{name}` in `{}`", entry.key))))
            .collect::<Result<Vec<_>, _>>()?;
        let values = self.values(&entry.value)?;
        check_modifiers(&modifiers, &values, span)?;
        expanded_values(&modifiers, &values).map_err(|(value, count)| {
            let message = format!(
                "the modifiers of `{}` expand its values to more than {MAX_VARIANTS} variants (at least {count} for this one)",
                entry.key
            );
            SigmaError::new(value.span, message)
        })?;
        Ok(FieldTest { field, modifiers, values, span })
    }

    fn values(&self, node: &Node) -> Result<Vec<SigmaValue>, SigmaError> {
        one_or_many(node)
            .into_iter()
            .map(|item| {
                let value = match &item.value {
                    Value::Null => Scalar::Null,
                    Value::Bool(b) => Scalar::Bool(*b),
                    // A number written unlike its value (`00000429`, `0x1F`, `1.50`) is text to
                    // Sigma tools, whose YAML 1.1 reads leading zeros as no number.
                    Value::Int(i) => {
                        self.raw(item).filter(|raw| *raw != i.to_string()).map_or(Scalar::Int(*i), |raw| Scalar::Str(raw.to_string()))
                    }
                    Value::Float(f) => {
                        self.raw(item).filter(|raw| *raw != f.to_string()).map_or(Scalar::Float(*f), |raw| Scalar::Str(raw.to_string()))
                    }
                    Value::Str(s) => Scalar::Str(s.clone()),
                    Value::Seq(_) | Value::Map(_) => {
                        return Err(SigmaError::new(self.span_of(item), format!("a value must be a scalar, not {}", item.kind_name())));
                    }
                };
                Ok(SigmaValue { value, span: self.span_of(item) })
            })
            .collect()
    }

    fn correlation(&self, node: &Node) -> Result<Correlation, SigmaError> {
        let span = self.span_of(node);
        let kind = match node.get("type").and_then(Node::as_str) {
            Some("event_count") => CorrelationKind::EventCount,
            Some("value_count") => CorrelationKind::ValueCount,
            Some("temporal") => CorrelationKind::Temporal,
            Some("temporal_ordered") => CorrelationKind::TemporalOrdered,
            Some(other) => return Err(SigmaError::new(span, format!("unknown correlation type `{other}`"))),
            None => return Err(SigmaError::new(span, "a correlation needs a `type`")),
        };
        let rules = self.names(node.get("rules"));
        if rules.is_empty() {
            return Err(SigmaError::new(span, "a correlation needs `rules`"));
        }
        let group_by = seq_of_text(node.get("group-by")).into_iter().filter_map(scalar_text).collect();
        let timespan = node.get("timespan").and_then(|t| scalar_text(t).map(|s| (s, self.span_of(t))));
        let threshold = node.get("condition").map(|c| self.threshold(c)).transpose()?;
        if threshold.is_none() && matches!(kind, CorrelationKind::EventCount | CorrelationKind::ValueCount) {
            return Err(SigmaError::new(span, format!("a `{}` correlation needs a `condition`", kind.name())));
        }
        let aliases = node.get("aliases").map(|a| Aliases { names: alias_names(a), span: self.span_of(a) });
        Ok(Correlation { kind, rules, group_by, timespan, threshold, aliases, span })
    }

    fn threshold(&self, node: &Node) -> Result<Threshold, SigmaError> {
        let span = self.span_of(node);
        let Some(entries) = node.entries() else {
            return Err(SigmaError::new(span, "a correlation condition is a mapping such as `gte: 10`"));
        };
        let mut threshold = Threshold { field: None, bounds: Vec::new(), span };
        for entry in entries {
            let op = match entry.key.as_str() {
                "field" => {
                    threshold.field = scalar_text(&entry.value);
                    continue;
                }
                "gt" => MatchOp::Gt,
                "gte" => MatchOp::Ge,
                "lt" => MatchOp::Lt,
                "lte" => MatchOp::Le,
                "eq" => MatchOp::Equals,
                other => return Err(SigmaError::new(self.key_span(entry), format!("unknown correlation condition `{other}`"))),
            };
            let Value::Int(n) = entry.value.value else {
                return Err(SigmaError::new(self.span_of(&entry.value), "a correlation bound is an integer"));
            };
            threshold.bounds.push((op, n));
        }
        Ok(threshold)
    }

    fn filter(&self, document: &Node, node: &Node) -> Result<Filter, SigmaError> {
        let detection = self.detection(node, &["rules"])?;
        Ok(Filter {
            rules: self.names(node.get("rules")),
            logsource: logsource(document.get("logsource")),
            detection,
            span: self.span_of(node),
        })
    }

    /// Rule references: one string or a list of them.
    fn names(&self, node: Option<&Node>) -> Vec<(String, Span)> {
        node.map(one_or_many).unwrap_or_default().into_iter().filter_map(|n| scalar_text(n).map(|s| (s, self.span_of(n)))).collect()
    }
}

/// `aliases:` as (name, [(rule, field)]); entries that are not text are left out.
fn alias_names(node: &Node) -> Vec<(String, Vec<(String, String)>)> {
    let pairs = |n: &Node| -> Vec<(String, String)> {
        n.entries().unwrap_or_default().iter().filter_map(|e| Some((e.key.clone(), scalar_text(&e.value)?))).collect()
    };
    node.entries().unwrap_or_default().iter().map(|e| (e.key.clone(), pairs(&e.value))).collect()
}

/// A scalar's text, as written (numbers too); `None` for null and collections.
pub fn scalar_text(node: &Node) -> Option<String> {
    match &node.value {
        Value::Str(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Float(f) => Some(f.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null | Value::Seq(_) | Value::Map(_) => None,
    }
}

fn one_or_many(node: &Node) -> Vec<&Node> {
    match &node.value {
        Value::Seq(items) => items.iter().collect(),
        _ => vec![node],
    }
}

fn seq_of_text(node: Option<&Node>) -> Vec<&Node> {
    node.map(one_or_many).unwrap_or_default().into_iter().filter(|n| scalar_text(n).is_some()).collect()
}

/// A document's `logsource`, as written; every key unset when it has none.
pub fn logsource(node: Option<&Node>) -> LogSource {
    let text = |key: &str| node.and_then(|n| n.get(key)).and_then(scalar_text);
    LogSource { category: text("category"), product: text("product"), service: text("service"), definition: text("definition") }
}

/// Modifier combinations the specification rules out, so lowering never guesses.
fn check_modifiers(modifiers: &[Modifier], values: &[SigmaValue], span: Span) -> Result<(), SigmaError> {
    let has = |m: Modifier| modifiers.contains(&m);
    let bad = |message: &str| Err(SigmaError::new(span, message.to_string()));
    if has(Modifier::Exists) && !values.iter().all(|v| matches!(v.value, Scalar::Bool(_))) {
        return bad("`exists` takes `true` or `false`");
    }
    if modifiers.iter().any(|m| matches!(m, Modifier::ReFlag(_))) && !has(Modifier::Re) {
        return bad("the regex flags `i`, `m`, `s` need `re`");
    }
    let kinds = [has(Modifier::Re), has(Modifier::Cidr), has(Modifier::Exists), has(Modifier::FieldRef)];
    let compares = modifiers.iter().any(|m| matches!(m, Modifier::Lt | Modifier::Lte | Modifier::Gt | Modifier::Gte));
    if kinds.iter().filter(|k| **k).count() + usize::from(compares) > 1 {
        return bad("`re`, `cidr`, `exists`, `fieldref` and comparisons do not combine");
    }
    if has(Modifier::Cidr) {
        check_cidr_ranges(values)?;
    }
    let shapes = [Modifier::Contains, Modifier::StartsWith, Modifier::EndsWith].iter().filter(|m| has(**m)).count();
    if shapes > 1 {
        return bad("`contains`, `startswith` and `endswith` do not combine");
    }
    Ok(())
}

/// How many values lowering makes of a field test's values, its encodings (`windash`,
/// `base64offset`...) counted before any value is built; the value that would take them past
/// `MAX_VARIANTS`, and its own count, when one would. An encoding that cannot apply makes one
/// (opaque) test, which lowering reports.
fn expanded_values<'v>(modifiers: &[Modifier], values: &'v [SigmaValue]) -> Result<u64, (&'v SigmaValue, u64)> {
    if !modifiers.iter().any(|m| matches!(m, Modifier::Windash | Modifier::Base64Offset)) {
        return Ok(values.len() as u64);
    }
    let mut made = 0u64;
    for value in values {
        let Some(pattern) = Pattern::of_scalar(&value.value) else {
            made += 1;
            continue;
        };
        match pattern::expand(&pattern, modifiers, MAX_VARIANTS.saturating_sub(made)) {
            Ok(variants) => made += variants.len() as u64,
            Err(Unexpanded::TooMany(count)) => return Err((value, count)),
            Err(Unexpanded::Refused(_)) => made += 1,
        }
    }
    Ok(made)
}

/// The values lowering makes of a search, once.
fn body_values(body: &SearchBody) -> u64 {
    let test_values = |test: &FieldTest| expanded_values(&test.modifiers, &test.values).unwrap_or(u64::MAX);
    match body {
        SearchBody::All(tests) => total(tests.iter().map(test_values)),
        SearchBody::Any(bodies) => total(bodies.iter().map(body_values)),
        SearchBody::Keywords(test) => test_values(test),
    }
}

/// Every `|cidr` value is an IPv4 or IPv6 range: a target would write one that is not as a test
/// that never matches (Kusto's `ipv4_is_in_range` gives null), and pySigma refuses it.
fn check_cidr_ranges(values: &[SigmaValue]) -> Result<(), SigmaError> {
    for value in values {
        let text = match &value.value {
            Scalar::Str(s) => s.clone(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::Bool(b) => b.to_string(),
            Scalar::Null => "null".to_string(),
        };
        if crate::eval::cidr::Range::parse(&text).is_none() {
            let message = format!("`{text}` is not a CIDR range (an IPv4 or IPv6 address, then `/` and a prefix length up to 32 or 128)");
            return Err(SigmaError::new(value.span, message));
        }
    }
    Ok(())
}

/// Searches a detection's conditions may use in all, each `of` counting the searches it covers:
/// lowering copies a search once per use, so `1 of sel*` written a thousand times over a thousand
/// searches would build a million. Real rules use a few dozen.
const MAX_EXPANDED_SEARCHES: u64 = 1000;

/// Values a detection's conditions may make in all, each search's values counted once per use:
/// a search at `MAX_VARIANTS` used 900 times made 9 million (11 s, 900 MB).
const MAX_LOWERED_VALUES: u64 = 100_000;

/// The searches a condition uses, each weighing its `weights` entry (in `searches` order), once
/// per use; an `of` uses every search it covers.
fn uses(condition: &Condition, searches: &[Search], weights: &[u64]) -> u64 {
    let weighed = |used: &dyn Fn(&Search) -> bool| total(searches.iter().zip(weights).filter(|(s, _)| used(s)).map(|(_, w)| *w));
    match condition {
        Condition::And(parts) | Condition::Or(parts) => total(parts.iter().map(|p| uses(p, searches, weights))),
        Condition::Not(inner) => uses(inner, searches, weights),
        Condition::Search { name, .. } => weighed(&|s| &s.name == name),
        Condition::Of { target, .. } => weighed(&|s| target.covers(&s.name)),
    }
}

/// A saturating sum: counts of what would be built may be astronomical.
fn total(counts: impl Iterator<Item = u64>) -> u64 {
    counts.fold(0, u64::saturating_add)
}

/// Every search a condition names exists, and every `of` pattern covers one.
fn check_names(condition: &Condition, searches: &[Search]) -> Result<(), SigmaError> {
    match condition {
        Condition::And(parts) | Condition::Or(parts) => parts.iter().try_for_each(|p| check_names(p, searches)),
        Condition::Not(inner) => check_names(inner, searches),
        Condition::Search { name, span } if !searches.iter().any(|s| &s.name == name) => {
            Err(SigmaError::new(*span, format!("the condition names `{name}`, which is not a search of this rule")))
        }
        Condition::Of { target, span, .. } if !searches.iter().any(|s| target.covers(&s.name)) => {
            Err(SigmaError::new(*span, "this `of` covers no search of the rule"))
        }
        Condition::Search { .. } | Condition::Of { .. } => Ok(()),
    }
}
