//! The typed syntax tree. Every node carries the byte span of its source
//! text; `Serialize` lets callers dump it (and tests compare trees while
//! ignoring spans).

use serde::Serialize;

pub use super::build::call;
pub use super::operators::{StrOp, StrTest};
use super::span::Span;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Script {
    pub statements: Vec<Statement>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Statement {
    pub kind: StatementKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum StatementKind {
    /// `let name = value`
    Let { name: Ident, value: LetValue },
    /// A tabular or scalar expression: the query itself.
    Query(Expr),
    /// `set name [= value]`: a request property for the query.
    Set { name: Ident, value: Option<Expr> },
    /// `declare query_parameters(name:type [= default], ...)`
    QueryParameters(Vec<Param>),
    /// `alias database name = cluster(...).database(...)`
    AliasDatabase { name: Ident, value: Expr },
    /// Text that could not be parsed; its errors are in `Parsed::errors`.
    Error,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum LetValue {
    Expr(Expr),
    Function(FunctionDef),
}

/// `(a:string, T:(*)) { body }` or `view (...) { body }`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FunctionDef {
    pub view: bool,
    pub params: Vec<Param>,
    /// `let` statements followed by the result expression.
    pub body: Vec<Statement>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Param {
    pub name: Ident,
    pub ty: ParamType,
    pub default: Option<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum ParamType {
    Scalar(Ident),
    Tabular(TableSchema),
}

/// `(*)`, `(a:string, b:long)`, `(*, a:string)` or `()`: a tabular
/// parameter's type, or the declared output of `evaluate plugin(...) : (...)`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TableSchema {
    pub wildcard: bool,
    pub columns: Vec<ColumnDecl>,
}

/// `name:type`, as in `datatable(name:type)` or a tabular parameter.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ColumnDecl {
    pub name: Ident,
    pub ty: Ident,
    pub span: Span,
}

/// A name; brackets and quotes of `['x y']` are gone, `name` is the value.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum ExprKind {
    Literal(Literal),
    Name(Ident),
    /// A name with `*` wildcards: `Security*` in `union`, `Col*` in `project-away`.
    Pattern(String),
    /// `*` as a function argument or `distinct *`.
    Star,
    /// `typeof(string)`: a type used as a value.
    TypeOf(Ident),
    Paren(Box<Expr>),
    Unary {
        op: UnaryOp,
        operand: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    /// `x in (a, b)`, `x has_any (a, b)` and friends.
    InList {
        op: StrOp,
        left: Box<Expr>,
        items: Vec<Expr>,
    },
    /// `x between (low .. high)` or `x !between (...)`.
    Between {
        negated: bool,
        left: Box<Expr>,
        low: Box<Expr>,
        high: Box<Expr>,
    },
    /// `name(args)` or `target.name(args)` (`database('x').T`).
    Call {
        target: Option<Box<Expr>>,
        name: Ident,
        args: Vec<NamedExpr>,
    },
    Member {
        target: Box<Expr>,
        name: Ident,
    },
    Index {
        target: Box<Expr>,
        index: Box<Expr>,
    },
    /// `source | op | op`. Without a source the first operator produces
    /// rows itself (`union`, `print`, `datatable`, `range`, ...).
    Pipeline {
        source: Option<Box<Expr>>,
        operators: Vec<Operator>,
    },
    /// Text that could not be parsed.
    Error,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum UnaryOp {
    Neg,
    Plus,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    NotEq,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    /// String operators: `=~`, `has`, `!contains_cs`, `matches regex`...
    Str(StrOp),
    /// `Column:"term"`, the search shorthand for `has`; Kusto's parser takes it anywhere.
    SearchHas,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Literal {
    Null,
    Bool(bool),
    Int(i64),
    Real(f64),
    /// Length in ticks of 100 ns: `1.5h` is 54,000,000,000.
    Timespan(i64),
    String {
        value: String,
        obfuscated: bool,
    },
    /// `datetime(2024-01-01)`, `guid(...)`, `long(5)`: type and raw contents.
    Typed {
        ty: String,
        raw: String,
    },
    Dynamic(Box<DynamicValue>),
}

/// The JSON-like contents of `dynamic(...)`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DynamicValue {
    pub kind: DynamicKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum DynamicKind {
    Null,
    Scalar(Literal),
    Array(Vec<DynamicValue>),
    Object(Vec<(String, DynamicValue)>),
}

/// An expression with an optional result name: `x`, `n = x`, `(a, b) = f()`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NamedExpr {
    pub names: Vec<Ident>,
    /// Names were written as a tuple: `(a, b) = ...`.
    pub tuple: bool,
    pub expr: Expr,
    pub span: Span,
}

/// `kind=inner`, `hint.strategy=broadcast`, `isfuzzy=true`, `title="x"`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OptionParam {
    pub name: Ident,
    pub value: Expr,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum SortOrder {
    Asc,
    Desc,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum NullsOrder {
    First,
    Last,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SortKey {
    pub expr: Expr,
    pub order: Option<SortOrder>,
    pub nulls: Option<NullsOrder>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Operator {
    pub kind: OperatorKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum OperatorKind {
    /// `where p`; Kusto also accepts `where name = p` (a named expression).
    Where(NamedExpr),
    Extend(Vec<NamedExpr>),
    Project(Vec<NamedExpr>),
    /// Names or wildcard patterns.
    ProjectAway(Vec<Expr>),
    ProjectKeep(Vec<Expr>),
    ProjectReorder(Vec<SortKey>),
    /// `new = old` pairs.
    ProjectRename(Vec<NamedExpr>),
    Summarize {
        params: Vec<OptionParam>,
        aggregates: Vec<NamedExpr>,
        by: Vec<NamedExpr>,
    },
    Distinct {
        params: Vec<OptionParam>,
        columns: Vec<NamedExpr>,
    },
    Count,
    GetSchema,
    /// `take n` or `limit n`.
    Take(Expr),
    Sample(Expr),
    SampleDistinct {
        count: Expr,
        column: Expr,
    },
    Top {
        count: Expr,
        by: SortKey,
    },
    TopNested(Vec<TopNestedClause>),
    /// `sort by` or `order by`.
    Sort {
        params: Vec<OptionParam>,
        keys: Vec<SortKey>,
    },
    /// `on` is empty when the query omits it.
    Join {
        params: Vec<OptionParam>,
        right: Expr,
        on: Vec<Expr>,
    },
    Lookup {
        params: Vec<OptionParam>,
        right: Expr,
        on: Vec<Expr>,
    },
    Union {
        params: Vec<OptionParam>,
        tables: Vec<Expr>,
    },
    MvExpand {
        params: Vec<OptionParam>,
        items: Vec<MvItem>,
        limit: Option<Expr>,
    },
    MvApply {
        params: Vec<OptionParam>,
        items: Vec<MvItem>,
        limit: Option<Expr>,
        subquery: Vec<Operator>,
    },
    /// `parse` and `parse-where`.
    Parse {
        filter: bool,
        params: Vec<OptionParam>,
        source: Expr,
        pattern: Vec<ParsePart>,
    },
    ParseKv {
        source: Expr,
        columns: Vec<ColumnDecl>,
        with: Vec<OptionParam>,
    },
    MakeSeries(Box<MakeSeries>),
    Evaluate {
        params: Vec<OptionParam>,
        call: Expr,
        /// `: (a:string, ...)`, the plugin's declared output.
        schema: Option<TableSchema>,
    },
    Serialize(Vec<NamedExpr>),
    Invoke(Expr),
    Render {
        chart: Ident,
        with: Vec<RenderProperty>,
    },
    As {
        params: Vec<OptionParam>,
        name: Ident,
    },
    Partition {
        params: Vec<OptionParam>,
        by: Ident,
        body: PartitionBody,
    },
    Fork(Vec<ForkBranch>),
    Facet {
        by: Vec<Expr>,
        with: Option<Vec<Operator>>,
    },
    Find {
        params: Vec<OptionParam>,
        tables: Option<Vec<Expr>>,
        predicate: Expr,
        project: Option<FindProjection>,
    },
    Search {
        params: Vec<OptionParam>,
        tables: Option<Vec<Expr>>,
        predicate: Expr,
    },
    Print(Vec<NamedExpr>),
    Range {
        column: Ident,
        from: Expr,
        to: Expr,
        step: Expr,
    },
    Datatable {
        columns: Vec<ColumnDecl>,
        values: Vec<Expr>,
    },
    ExternalData {
        columns: Vec<ColumnDecl>,
        uris: Vec<Expr>,
        with: Vec<OptionParam>,
    },
    /// `scan [with_match_id=m] [declare (...)] with (step ...; ...)`
    Scan {
        params: Vec<OptionParam>,
        declare: Vec<Param>,
        steps: Vec<ScanStep>,
    },
    /// `reduce [kind=k] by expr [with threshold=t, characters=c]`
    Reduce {
        params: Vec<OptionParam>,
        by: Expr,
        with: Vec<OptionParam>,
    },
    Consume(Vec<OptionParam>),
    /// `top-hitters n of expr [by expr]`
    TopHitters {
        count: Expr,
        of: Expr,
        by: Option<Expr>,
    },
    /// An operator that could not be parsed.
    Error,
}

impl OperatorKind {
    /// The operator's keyword as a query writes it (`where`, `mv-expand`, `parse-where`).
    pub fn keyword(&self) -> &'static str {
        use OperatorKind::*;
        match self {
            Where(_) => "where",
            Extend(_) => "extend",
            Project(_) => "project",
            ProjectAway(_) => "project-away",
            ProjectKeep(_) => "project-keep",
            ProjectReorder(_) => "project-reorder",
            ProjectRename(_) => "project-rename",
            Summarize { .. } => "summarize",
            Distinct { .. } => "distinct",
            Count => "count",
            GetSchema => "getschema",
            Take(_) => "take",
            Sample(_) => "sample",
            SampleDistinct { .. } => "sample-distinct",
            Top { .. } => "top",
            TopNested(_) => "top-nested",
            Sort { .. } => "sort",
            Join { .. } => "join",
            Lookup { .. } => "lookup",
            Union { .. } => "union",
            MvExpand { .. } => "mv-expand",
            MvApply { .. } => "mv-apply",
            Parse { filter: false, .. } => "parse",
            Parse { filter: true, .. } => "parse-where",
            ParseKv { .. } => "parse-kv",
            MakeSeries(_) => "make-series",
            Evaluate { .. } => "evaluate",
            Serialize(_) => "serialize",
            Invoke(_) => "invoke",
            Render { .. } => "render",
            As { .. } => "as",
            Partition { .. } => "partition",
            Fork(_) => "fork",
            Facet { .. } => "facet",
            Find { .. } => "find",
            Search { .. } => "search",
            Print(_) => "print",
            Range { .. } => "range",
            Datatable { .. } => "datatable",
            ExternalData { .. } => "externaldata",
            Scan { .. } => "scan",
            Reduce { .. } => "reduce",
            Consume(_) => "consume",
            TopHitters { .. } => "top-hitters",
            Error => "syntax error",
        }
    }
}

/// `title="x"`, or a column list: `ycolumns=a, b`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RenderProperty {
    pub name: Ident,
    pub values: Vec<Expr>,
    pub span: Span,
}

/// `[name =] ( op | op )` of `fork`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ForkBranch {
    pub name: Option<Ident>,
    pub operators: Vec<Operator>,
    pub span: Span,
}

/// What `find` outputs besides the matching rows' source.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum FindProjection {
    /// `project a, b*`
    Columns(Vec<Expr>),
    /// `project-smart`
    Smart,
}

/// `step name [output=all|last|none]: condition [=> col = value, ...];`
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScanStep {
    pub name: Ident,
    pub output: Option<Ident>,
    pub condition: Expr,
    pub assignments: Vec<NamedExpr>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum PartitionBody {
    /// `( top 3 by x )`: operators applied to each partition.
    Operators(Vec<Operator>),
    /// `{ T | ... }`: a whole query per partition.
    Query(Box<Expr>),
}

/// `[name =] expr [to typeof(type)]` in `mv-expand` and `mv-apply`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MvItem {
    pub expr: NamedExpr,
    pub to_type: Option<Ident>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum ParsePart {
    /// `*`: skip any text.
    Star { span: Span },
    /// Literal text to match (a string literal, possibly concatenated).
    Text(Expr),
    /// `Column` or `Column:type`.
    Column { name: Ident, ty: Option<Ident>, span: Span },
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MakeSeries {
    pub params: Vec<OptionParam>,
    pub aggregates: Vec<SeriesAggregate>,
    pub on: Expr,
    pub range: SeriesRange,
    pub by: Vec<NamedExpr>,
}

/// `[name =] aggregate [default = value]`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SeriesAggregate {
    pub expr: NamedExpr,
    pub default: Option<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum SeriesRange {
    /// `[from a] [to b] step c`
    FromTo { from: Option<Expr>, to: Option<Expr>, step: Expr },
    /// `in range(a, b, c)`
    InRange { start: Expr, stop: Expr, step: Expr },
}

/// `top-nested [n] of expr [with others = v] by aggregate [asc|desc]`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TopNestedClause {
    pub count: Option<Expr>,
    pub of: NamedExpr,
    pub others: Option<Expr>,
    pub by: NamedExpr,
    pub order: Option<SortOrder>,
    pub span: Span,
}
