//! A YARA-L 2.0 rule as data: its sections and expressions, built by the emitter and written
//! only by `print`. Literals hold their raw values; escaping them is the printer's job.

use super::names::{EventVar, OutcomeVar, Placeholder, RuleName, Var};
use crate::ir::Timespan;

pub struct Rule {
    /// The fidelity header, one `//` line each.
    pub header: Vec<String>,
    pub name: RuleName,
    /// (key, value) in the order written.
    pub meta: Vec<(&'static str, String)>,
    /// What needs a human, `// TODO:` lines opening `events`.
    pub todos: Vec<String>,
    /// Each event variable's lines, in order; the variable is named in them.
    pub events: Vec<(EventVar, Vec<Expr>)>,
    pub matching: Option<Match>,
    pub outcome: Vec<(OutcomeVar, Expr)>,
    /// The parts of the condition, joined by `and`.
    pub condition: Vec<Expr>,
}

/// `match: $a, $b over 10m`.
pub struct Match {
    pub placeholders: Vec<Placeholder>,
    pub window: Timespan,
}

/// A UDM field of an event variable.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldRef {
    pub var: EventVar,
    pub path: UdmPath,
}

#[derive(Clone, Debug, PartialEq)]
pub enum UdmPath {
    /// A dotted UDM path (`target.process.command_line`).
    Udm(String),
    /// A key under `additional.fields`, where parsers put what UDM has no place for.
    Additional(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Logic {
    And,
    Or,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Field(FieldRef),
    /// `$name`; an event variable alone means "such an event exists".
    Var(Var),
    /// `#e`: how many events the variable matched.
    Count(EventVar),
    String(String),
    /// An RE2 pattern.
    Regex(String),
    Int(i64),
    Real(f64),
    Bool(bool),
    Compare {
        left: Box<Expr>,
        op: CmpOp,
        right: Box<Expr>,
        nocase: bool,
    },
    /// A function (`re.regex`, `net.ip_in_range_cidr`, `max`), with `nocase` after its call.
    Call {
        function: &'static str,
        args: Vec<Expr>,
        nocase: bool,
    },
    Not(Box<Expr>),
    /// Parts in parentheses, joined by `and` or `or`.
    Group(Logic, Vec<Expr>),
}

impl Expr {
    pub fn compare(left: Expr, op: CmpOp, right: Expr) -> Expr {
        Expr::Compare { left: Box::new(left), op, right: Box::new(right), nocase: false }
    }

    pub fn call(function: &'static str, args: Vec<Expr>) -> Expr {
        Expr::Call { function, args, nocase: false }
    }

    /// The same test ignoring case, when `nocase` holds; other expressions are unchanged.
    pub fn nocase(self, nocase: bool) -> Expr {
        match self {
            Expr::Compare { left, op, right, .. } => Expr::Compare { left, op, right, nocase },
            Expr::Call { function, args, .. } => Expr::Call { function, args, nocase },
            other => other,
        }
    }
}
