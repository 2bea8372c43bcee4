//! `Detection`: what a rule detects, independent of the language it was written in.
//!
//! A small relational plan a detection engineer can read: event sources with predicate trees,
//! then correlation stages (joins, aggregations with thresholds, unions, later filters) in
//! evaluation order, then the fields the rule outputs. Lowering is total, so whatever a query
//! does that this model cannot hold is listed in `unmodelled`, each item with its span.
//!
//! Computed columns: an `extend` whose expression `Scalar` can hold carries it in
//! `Computed::expr`, and the column then counts as a column of the rows like any event field:
//! matches, group keys and join keys name it. While rows are still a source's events the source
//! computes its columns, in order, before its filter; after a stage, `Stage::Extend` computes
//! them. An expression `Scalar` cannot hold keeps `expr: None` and stays opaque.
//!
//! Spans are byte ranges into the rule's query text; `ir::Locator` turns them into file lines
//! and columns.

use super::Timespan;
pub use crate::kql::Span;
use serde::Serialize;
use std::fmt;

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Detection {
    /// Event sources, in the order the query introduces them; `Input::Source(i)` indexes here.
    pub sources: Vec<EventSource>,
    /// Correlation stages in evaluation order; a stage only refers to sources and earlier stages.
    pub stages: Vec<Stage>,
    /// What the rule returns; `None` when lowering found no tabular result at all.
    pub result: Option<Input>,
    /// The fields of the returned rows.
    pub outputs: Outputs,
    /// The rule's entity mappings and the output columns they read.
    pub entities: Vec<EntityUse>,
    /// Everything lowering could not express, in source order.
    pub unmodelled: Vec<Unmodelled>,
    /// Field tests of columns the query computes with an expression lowering does not model
    /// (`extend ip = iff(...)` then `where ip !startswith "10."`), in source order. No event
    /// field holds such a column, so in the predicate trees they stay `Opaque` (an engine cannot
    /// run them); here they are the tests a reader sees (`Not(Match)` or `Match`), each `Match`
    /// with the span of the `Opaque` it reads, for documentation targets such as the rule card.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub computed_tests: Vec<Predicate>,
    /// Keyword searches (values matched anywhere in the event, Sigma's field-less lists), in
    /// source order. No field holds them, so in the predicate trees each is the `Opaque` with
    /// its span and no engine here runs it; here are its values as written, for a target that
    /// has keyword searches of its own.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<KeywordSearch>,
}

/// A keyword search: any of `values` anywhere in the event. Text values are written as Sigma
/// writes them (`*` and `?` wildcards, `\\` escapes), with no modifier.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KeywordSearch {
    pub values: Vec<Value>,
    pub span: Span,
}

/// A reference to rows: those of an event source or of an earlier stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Input {
    Source(usize),
    Stage(usize),
}

/// Events of one table (or a union of tables) and the condition they must meet.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EventSource {
    /// How the query names it: the `let` name that binds it, else the table name.
    pub name: String,
    /// The tables read; several for `union` or a wildcard.
    pub tables: Vec<String>,
    /// Which events pass; `Predicate::And(vec![])` when all do.
    pub filter: Predicate,
    /// Columns the query computes from event fields before the source's rows leave it.
    pub computed: Vec<Computed>,
    /// The source's columns when the query lists them (`project`, `project-keep`), in order;
    /// `None` when its rows keep every event field. A join names a clashing right column `X1`
    /// only when the left side still has `X`, so this decides the names after a join.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<String>>,
    /// A Sigma rule's `logsource`, as written: the events it reads when it names no tables.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logsource: Option<LogSource>,
    pub span: Span,
}

/// Sigma's description of the events a rule reads; a target maps it to its own tables.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LogSource {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub definition: Option<String>,
}

/// `extend name = expression` (or a computed `project` item), as written.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Computed {
    pub name: String,
    /// The KQL expression text, as written.
    pub expression: String,
    /// The expression, when `Scalar` can hold it; `None` leaves the column opaque.
    pub expr: Option<Scalar>,
    pub span: Span,
}

/// A value computed from one row, vendor-neutral.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scalar {
    Field(Field),
    Value(Value),
    Call {
        function: ScalarFunction,
        args: Vec<Scalar>,
    },
    /// A path into a dynamic value, with `Field::path`'s steps (`"[0]"`, `"[-1]"`, `"key"`).
    Path {
        target: Box<Scalar>,
        path: Vec<String>,
    },
}

/// The functions `Scalar` computes, with Kusto's meaning (the names are Kusto's).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScalarFunction {
    /// Text of any value; null is `""`.
    ToString,
    ToLower,
    ToUpper,
    /// The texts of all arguments, joined.
    Strcat,
    /// `split(text, delimiter)`: a dynamic array of strings.
    Split,
    /// `extract(regex, group, text)`: the group's text, `""` without a match.
    Extract,
    /// A string holding JSON, parsed; other values as they are.
    ParseJson,
    /// Length in characters.
    Strlen,
    /// `substring(text, start[, length])`, in characters.
    Substring,
    ToLong,
    ToReal,
    IsEmpty,
    IsNotEmpty,
    /// The first argument that is not null (nor an empty string).
    Coalesce,
    ArrayLength,
    /// `replace_string(text, lookup, rewrite)`: every occurrence, no regex.
    ReplaceString,
}

/// A boolean condition over one row.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Predicate {
    /// Every part holds; the empty conjunction is true.
    And(Vec<Predicate>),
    /// Some part holds; the empty disjunction is false.
    Or(Vec<Predicate>),
    /// The one place negation lives: `!=`, `!has`, `!in~`, `not(...)` all lower to it.
    Not(Box<Predicate>),
    Match(Match),
    /// A condition lowering could not express, kept as written; it is also in `unmodelled`.
    Opaque {
        text: String,
        span: Span,
    },
}

/// One test of a field against values.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Match {
    pub field: Field,
    pub op: MatchOp,
    /// `let` constants and `dynamic([...])` lists are resolved into these.
    pub values: Vec<Value>,
    /// With several values: whether any (`in`, `has_any`) or all (`has_all`) must hold.
    pub quantifier: Quantifier,
    /// `==`, `has_cs`, `in` are case-sensitive; `=~`, `has`, `in~`, `contains` are not.
    pub case_sensitive: bool,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchOp {
    /// The whole value equals one of the values.
    Equals,
    /// Substring anywhere (`contains`).
    Contains,
    StartsWith,
    EndsWith,
    /// A whole term, by Kusto's term rules (`has`): not the same as `contains`.
    Has,
    /// A term starts with the value (`hasprefix`).
    HasPrefix,
    /// A term ends with the value (`hassuffix`).
    HasSuffix,
    /// Regular expression, RE2 syntax (`matches regex`).
    Regex,
    /// SQL-style `like` pattern (`%` and `_`).
    Like,
    /// An IP address inside one of the CIDR ranges: IPv4 from KQL (`ipv4_is_in_range`,
    /// `ipv4_is_private`), IPv4 or IPv6 from Sigma (`|cidr`).
    Cidr,
    /// Null or the empty string (`isempty`); under `Not` it is `isnotempty`.
    IsEmpty,
    /// Null (`isnull`); under `Not` it is `isnotnull`.
    IsNull,
    Lt,
    Le,
    Gt,
    Ge,
    /// Inclusive range: values are `[low, high]`.
    Between,
}

impl MatchOp {
    /// Whether the test reads the value's text: a substring, term, pattern (regex, `like`)
    /// test, which a target writes on the field's text whatever its type.
    pub fn is_text_test(self) -> bool {
        matches!(
            self,
            MatchOp::Contains
                | MatchOp::StartsWith
                | MatchOp::EndsWith
                | MatchOp::Has
                | MatchOp::HasPrefix
                | MatchOp::HasSuffix
                | MatchOp::Regex
                | MatchOp::Like
        )
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantifier {
    #[default]
    Any,
    All,
}

/// A column, or a path inside a dynamic column (`Properties.role` is `Properties` + `["role"]`).
/// An array index is a step in brackets: `Targets[0].name` is `Targets` + `["[0]", "name"]`;
/// `[-1]` counts from the end.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Field {
    pub name: String,
    pub path: Vec<String>,
}

/// The neutral name of an event's time, for rules that name no table (a Sigma correlation's
/// `timespan` bins it): each target maps it to its table's time column.
pub const EVENT_TIME: &str = "@timestamp";

impl Field {
    pub fn column(name: impl Into<String>) -> Field {
        Field { name: name.into(), path: Vec::new() }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        self.path.iter().try_for_each(|step| if step.starts_with('[') { f.write_str(step) } else { write!(f, ".{step}") })
    }
}

/// Serialized as its dotted text, the form people and tools read.
impl Serialize for Field {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Real(f64),
    String(String),
    /// ISO 8601 text, as written inside `datetime(...)`.
    Datetime(String),
    /// A length in ticks of 100 ns.
    Timespan(i64),
    /// `ago(timespan)`: that many ticks before the evaluation's `now`.
    Ago(i64),
    Now,
    /// Another field of the same row (`where A == B`).
    Field(Field),
}

/// A step that combines or reduces rows.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Join(Join),
    Aggregate(Aggregate),
    Union {
        inputs: Vec<Input>,
        span: Span,
    },
    /// Columns computed on rows that are no longer raw events, in order (each may read the last).
    Extend {
        input: Input,
        computed: Vec<Computed>,
        span: Span,
    },
    /// A condition on rows that are no longer raw events (after a join, say).
    Filter {
        input: Input,
        predicate: Predicate,
        span: Span,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Join {
    pub kind: JoinKind,
    pub left: Input,
    pub right: Input,
    pub keys: Vec<JoinKey>,
    /// A time window between the two sides, when the query states one.
    pub window: Option<Timespan>,
    /// The right side's rows must come after the left side's (Sigma's `temporal_ordered`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ordered: bool,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JoinKind {
    /// Kusto's default: inner join over the left side deduplicated on the keys.
    InnerUnique,
    Inner,
    LeftOuter,
    RightOuter,
    FullOuter,
    LeftSemi,
    RightSemi,
    LeftAnti,
    RightAnti,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct JoinKey {
    pub left: Field,
    pub right: Field,
}

/// `summarize aggregations by keys`, with the filter on its results that forms a threshold.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Aggregate {
    pub input: Input,
    pub group_by: Vec<GroupKey>,
    pub aggregations: Vec<Aggregation>,
    /// `| where count_ > 5` right after the aggregation.
    pub threshold: Option<Predicate>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GroupKey {
    /// The output column's name.
    pub name: String,
    pub field: Field,
    /// `bin(field, size)`.
    pub bin: Option<Timespan>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Aggregation {
    /// The output column's name (`count_` when the query names none).
    pub name: String,
    pub function: AggFunction,
    /// The field aggregated; `None` for `count()`.
    pub field: Option<Field>,
    /// `countif(p)`, `dcountif(x, p)`: only rows meeting it count.
    pub condition: Option<Predicate>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AggFunction {
    Count,
    DistinctCount,
    Sum,
    Min,
    Max,
    Avg,
    MakeSet,
    MakeList,
    TakeAny,
    /// `arg_max(field, columns...)`: per group, the row with the largest `field`. The output
    /// carries that row's listed columns (every column for `*`, see `Outputs::all_columns`),
    /// each with this origin; `Aggregation::name` is the column of `field` itself.
    ArgMax,
    /// `arg_min(field, columns...)`: as `ArgMax`, with the smallest `field`.
    ArgMin,
}

/// The fields of the rows a rule returns.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Outputs {
    /// True when the result keeps every column of its input (no `project` narrows it); `fields`
    /// then lists only what the query added or renamed.
    pub all_columns: bool,
    pub fields: Vec<Output>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Output {
    pub name: String,
    pub origin: OutputOrigin,
    /// The stage (or source) whose rows first carry it.
    pub made_by: Input,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputOrigin {
    /// An event field passed through, possibly under another name.
    Field(Field),
    /// Computed by an expression, kept as written.
    Computed(String),
    /// A group-by key of an aggregation.
    GroupKey,
    /// An aggregation's result.
    Aggregation(AggFunction),
}

/// An entity mapping's identifier and the output column it reads.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EntityUse {
    pub entity_type: String,
    pub identifier: String,
    pub column: String,
    /// Whether the rule's output has that column (a mapping to a missing column is a bug).
    pub column_in_output: bool,
}

/// A stage or expression lowering could not express.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Unmodelled {
    /// Short name of the construct: `mv-expand`, `parse_json()`, `join kind=leftanti` ...
    pub construct: String,
    /// Why it is not modelled, and what that means for the Detection.
    pub reason: String,
    /// Whether it may change which rows come back (`mv-expand`, `take`, an opaque condition);
    /// false when it only makes column values the Detection does not hold (an aggregation).
    pub changes_rows: bool,
    pub span: Span,
}

impl Predicate {
    /// The condition that always holds.
    pub fn always() -> Predicate {
        Predicate::And(Vec::new())
    }

    pub fn is_always(&self) -> bool {
        matches!(self, Predicate::And(parts) if parts.is_empty())
    }

    /// The test an `Opaque` condition reads over a computed column, from `computed_tests`.
    pub fn computed_test<'d>(&self, detection: &'d Detection) -> Option<&'d Predicate> {
        let Predicate::Opaque { span, .. } = self else { return None };
        detection.computed_tests.iter().find(|test| match test {
            Predicate::Not(inner) => matches!(inner.as_ref(), Predicate::Match(m) if m.span == *span),
            Predicate::Match(m) => m.span == *span,
            _ => false,
        })
    }
}

impl Detection {
    /// The longest time window the rule correlates over: a join's window or a time bin. A
    /// scheduled rule must look back at least this far to see what the rule counts.
    pub fn longest_window(&self) -> Option<Timespan> {
        let windows = self.stages.iter().flat_map(|stage| match stage {
            Stage::Join(join) => join.window.into_iter().collect(),
            Stage::Aggregate(aggregate) => aggregate.group_by.iter().filter_map(|key| key.bin).collect(),
            _ => Vec::new(),
        });
        windows.max()
    }

    /// The keyword search the `Opaque` part at `span` stands for.
    pub fn keyword_search(&self, span: Span) -> Option<&KeywordSearch> {
        self.keywords.iter().find(|k| k.span == span)
    }

    /// A column the query computes (with an expression, or as a rename): a condition on one,
    /// past the source where lowering reads renames through to their field, tests a value of
    /// the row, not an event field, which a target must compute (or report as lost) instead of
    /// reading a field of that name.
    pub fn computed_column(&self, name: &str) -> Option<&Computed> {
        let in_sources = self.sources.iter().flat_map(|source| &source.computed);
        let in_stages = self.stages.iter().flat_map(|stage| match stage {
            Stage::Extend { computed, .. } => computed.as_slice(),
            _ => &[],
        });
        in_sources.chain(in_stages).find(|c| c.name == name)
    }

    /// `predicate` with every test that reads a computed column made `Opaque`: the form for a
    /// target that can only test event fields (which reports those tests as losses).
    pub fn on_event_fields(&self, predicate: &Predicate) -> Predicate {
        let computed = |field: &Field| self.computed_column(&field.name).is_some();
        match predicate {
            Predicate::And(parts) => Predicate::And(parts.iter().map(|p| self.on_event_fields(p)).collect()),
            Predicate::Or(parts) => Predicate::Or(parts.iter().map(|p| self.on_event_fields(p)).collect()),
            Predicate::Not(inner) => Predicate::Not(Box::new(self.on_event_fields(inner))),
            Predicate::Match(m) if computed(&m.field) || m.values.iter().any(|v| matches!(v, Value::Field(f) if computed(f))) => {
                Predicate::Opaque { text: format!("a test of the computed column `{}`", m.field), span: m.span }
            }
            other => other.clone(),
        }
    }

    /// Every condition tree of the rule: source filters, later filters, thresholds and the
    /// conditions of conditional aggregations.
    pub fn predicates(&self) -> Vec<&Predicate> {
        let sources = self.sources.iter().map(|s| &s.filter);
        let stages = self.stages.iter().flat_map(|stage| match stage {
            Stage::Filter { predicate, .. } => vec![predicate],
            Stage::Aggregate(aggregate) => {
                aggregate.threshold.iter().chain(aggregate.aggregations.iter().flat_map(|a| &a.condition)).collect()
            }
            Stage::Join(_) | Stage::Union { .. } | Stage::Extend { .. } => Vec::new(),
        });
        sources.chain(stages).collect()
    }
}

impl Stage {
    /// Where an aggregation or a join is written: the stages a Sigma correlation stands for.
    pub fn correlation_span(&self) -> Option<Span> {
        match self {
            Stage::Aggregate(aggregate) => Some(aggregate.span),
            Stage::Join(join) => Some(join.span),
            _ => None,
        }
    }
}

impl Predicate {
    /// Every `Match` in the tree, depth first.
    pub fn matches(&self) -> Vec<&Match> {
        match self {
            Predicate::And(parts) | Predicate::Or(parts) => parts.iter().flat_map(Predicate::matches).collect(),
            Predicate::Not(inner) => inner.matches(),
            Predicate::Match(m) => vec![m],
            Predicate::Opaque { .. } => Vec::new(),
        }
    }
}
