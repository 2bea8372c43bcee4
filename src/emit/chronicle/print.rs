//! The printer: the one place a YARA-L rule becomes text. Literals go through the escaping
//! helpers of `text`, so each stays one token whatever it holds.

use super::model::{CmpOp, Expr, FieldRef, Logic, Match, Rule, UdmPath};
use super::names::{RuleName, Var, VarName};
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

impl<K> Display for VarName<K> {
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

#[cfg(test)]
mod tests {
    use super::super::model::{CmpOp, Expr, FieldRef, Logic, Match, Rule, UdmPath};
    use super::super::names::{EventVar, Names, RuleName, Var};

    #[test]
    fn a_rule_prints_every_section_with_literals_escaped() {
        let (mut names, events) = Names::new(2);
        let (e1, e2) = (events[0].clone(), events[1].clone());
        let user = names.placeholder("User");
        let hosts = names.outcome("Hosts").expect("a fresh name");
        let field = |var: &EventVar, path: UdmPath| Expr::Field(FieldRef { var: var.clone(), path });
        let udm = |path: &str| UdmPath::Udm(path.to_string());
        let rule = Rule {
            header: vec!["ruleconv fidelity: approximate".into(), "  loss: a\nb".into()],
            name: RuleName::from_title("Match"),
            meta: vec![("description", "say \"hi\"\n".into())],
            todos: vec!["check\nthis".into()],
            events: vec![
                (
                    e1.clone(),
                    vec![
                        Expr::compare(field(&e1, udm("target.user.userid")), CmpOp::Eq, Expr::Var(Var::Placeholder(user.clone()))),
                        Expr::Not(Box::new(
                            Expr::call("re.regex", vec![field(&e1, udm("target.hostname")), Expr::Regex("a/b`c".into())]).nocase(true),
                        )),
                    ],
                ),
                (
                    e2.clone(),
                    vec![Expr::Group(
                        Logic::Or,
                        vec![
                            Expr::Not(Box::new(Expr::compare(
                                field(&e2, UdmPath::Additional("Odd \"key\"".into())),
                                CmpOp::Eq,
                                Expr::String(String::new()),
                            ))),
                            Expr::compare(field(&e2, udm("target.port")), CmpOp::Ge, Expr::Int(1024)),
                        ],
                    )],
                ),
            ],
            matching: Some(Match { placeholders: vec![user], window: crate::ir::Timespan::from_seconds(600).unwrap() }),
            outcome: vec![
                (names.risk_score(), Expr::call("max", vec![Expr::Int(75)])),
                (hosts, Expr::call("array_distinct", vec![field(&e1, udm("principal.hostname"))])),
            ],
            condition: vec![Expr::compare(Expr::Count(e1), CmpOp::Gt, Expr::Real(2.5)), Expr::Var(Var::Event(e2))],
        };
        assert_eq!(
            rule.to_string(),
            r#"// ruleconv fidelity: approximate
//   loss: a b
rule match_rule {
  meta:
    description = "say \"hi\"\n"

  events:
    // TODO: check this
    $e1.target.user.userid = $user
    not re.regex($e1.target.hostname, `a\/b\x60c`) nocase
    (not $e2.additional.fields["Odd \"key\""] = "" or $e2.target.port >= 1024)

  match:
    $user over 10m

  outcome:
    $risk_score = max(75)
    $hosts = array_distinct($e1.principal.hostname)

  condition:
    #e1 > 2.5 and $e2
}
"#
        );
    }
}
