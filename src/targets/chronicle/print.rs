//! The printer: the one place a YARA-L rule becomes text. Literals go through the escaping
//! helpers of `text`, so each stays one token whatever it holds.

use super::model::{CmpOp, Expr, FieldRef, Logic, Match, Rule, UdmPath};
use super::names::{EventVar, OutcomeVar, Placeholder, RuleName, Var};
use super::text;
use std::fmt::{self, Display, Formatter};

impl Display for Rule {
    fn fmt(&self, f: &mut Formatter) -> fmt::Result {
        for line in &self.header {
            writeln!(f, "// {}", text::comment_keeping_indent(line))?;
        }
        writeln!(f, "rule {} {{\n  meta:", self.name)?;
        for (key, value) in &self.meta {
            writeln!(f, "    {key} = {}", text::string(value))?;
        }
        writeln!(f, "\n  events:")?;
        for todo in &self.todos {
            writeln!(f, "    // TODO: {}", text::comment(todo))?;
        }
        for line in self.events.iter().flat_map(|(_, lines)| lines) {
            writeln!(f, "    {line}")?;
        }
        if let Some(matching) = &self.matching {
            writeln!(f, "\n  match:\n    {matching}")?;
        }
        writeln!(f, "\n  outcome:")?;
        for (var, value) in &self.outcome {
            writeln!(f, "    {var} = {value}")?;
        }
        writeln!(f, "\n  condition:\n    {}\n}}", Joined(&self.condition, " and "))
    }
}

impl Display for Match {
    fn fmt(&self, f: &mut Formatter) -> fmt::Result {
        write!(f, "{} over {}", Joined(&self.placeholders, ", "), text::window(self.window))
    }
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter) -> fmt::Result {
        match self {
            Expr::Field(field) => field.fmt(f),
            Expr::Var(var) => var.fmt(f),
            Expr::Count(var) => write!(f, "#{}", var.name()),
            Expr::String(value) => f.write_str(&text::string(value)),
            Expr::Regex(pattern) => f.write_str(&text::regex(pattern)),
            Expr::Int(i) => i.fmt(f),
            Expr::Real(r) => r.fmt(f),
            Expr::Bool(b) => b.fmt(f),
            Expr::Compare { left, op, right, nocase } => write!(f, "{left} {op} {right}{}", Nocase(*nocase)),
            Expr::Call { function, args, nocase } => write!(f, "{function}({}){}", Joined(args, ", "), Nocase(*nocase)),
            Expr::Not(inner) => write!(f, "not {inner}"),
            Expr::Group(logic, parts) => write!(f, "({})", Joined(parts, if *logic == Logic::And { " and " } else { " or " })),
        }
    }
}

impl Display for CmpOp {
    fn fmt(&self, f: &mut Formatter) -> fmt::Result {
        f.write_str(match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        })
    }
}

impl Display for FieldRef {
    fn fmt(&self, f: &mut Formatter) -> fmt::Result {
        match &self.path {
            UdmPath::Udm(path) => write!(f, "{}.{path}", self.var),
            UdmPath::Additional(key) => write!(f, "{}.additional.fields[{}]", self.var, text::string(key)),
        }
    }
}

impl Display for RuleName {
    fn fmt(&self, f: &mut Formatter) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Display for Var {
    fn fmt(&self, f: &mut Formatter) -> fmt::Result {
        write!(f, "${}", self.name())
    }
}

impl Display for EventVar {
    fn fmt(&self, f: &mut Formatter) -> fmt::Result {
        write!(f, "${}", self.name())
    }
}

impl Display for Placeholder {
    fn fmt(&self, f: &mut Formatter) -> fmt::Result {
        write!(f, "${}", self.name())
    }
}

impl Display for OutcomeVar {
    fn fmt(&self, f: &mut Formatter) -> fmt::Result {
        write!(f, "${}", self.name())
    }
}

/// Items written one after another with a separator.
struct Joined<'a, T>(&'a [T], &'a str);

impl<T: Display> Display for Joined<'_, T> {
    fn fmt(&self, f: &mut Formatter) -> fmt::Result {
        for (i, item) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(self.1)?;
            }
            item.fmt(f)?;
        }
        Ok(())
    }
}

/// ` nocase` after a test that ignores case.
struct Nocase(bool);

impl Display for Nocase {
    fn fmt(&self, f: &mut Formatter) -> fmt::Result {
        if self.0 { f.write_str(" nocase") } else { Ok(()) }
    }
}
