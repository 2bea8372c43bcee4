//! Every UDM path the rule writes, and every literal compared with one, checked against the UDM
//! schema before the rule is printed: Google's compiler type-checks them ("`$e.target.port` is
//! of type integer which cannot be compared to a string"; an event type outside its enum is
//! "not a valid event_type enum value", YARA-L 2.0 overview).
//!
//! A literal in another format than the field stores is converted where that is exact: a number
//! quoted on a string field, a numeric string (decimal or `0x` hex) on a number field, a named
//! value on a numeric field (`integrity_level_rid`: `High` is RID 12288), an enum value in
//! another case or under a source's name for it (`SetValue`), `""` on an enum as its unset
//! value and on a number as 0 (UDM has no null: an absent field reads as its zero value).
//! Otherwise the test is left out with a `type-mismatch` loss (an unknown path with an
//! `unknown-field` loss): never written broken. A test left out of an `or` drops the whole
//! `or`, so the rule matches more, never less.

use super::model::{CmpOp, Expr, FieldRef, Logic, UdmPath};
use super::notes::Notes;
use super::profile::Profile;
use super::udm::{Kind, Schema};
use crate::diag::Code;
use crate::ir::detection::Span;

/// Functions whose first argument is a string.
const TEXT_FUNCTIONS: &[&str] = &["re.regex", "net.ip_in_range_cidr"];

pub struct Typing<'a> {
    pub schema: &'a Schema,
    pub profile: &'a Profile,
}

impl Typing<'_> {
    /// The expression with its literals in the fields' types, or `None` when a part of it cannot
    /// be written (the loss is in `notes`).
    pub fn expr(&self, expr: Expr, notes: &mut Notes) -> Option<Expr> {
        match expr {
            Expr::Group(Logic::And, parts) => {
                let kept: Vec<Expr> = parts.into_iter().filter_map(|p| self.expr(p, notes)).collect();
                match kept.len() {
                    0 => None,
                    1 => kept.into_iter().next(),
                    _ => Some(Expr::Group(Logic::And, kept)),
                }
            }
            Expr::Group(Logic::Or, parts) => {
                let kept: Option<Vec<Expr>> = parts.into_iter().map(|p| self.expr(p, notes)).collect();
                kept.map(|parts| Expr::Group(Logic::Or, parts))
            }
            Expr::Not(inner) => self.expr(*inner, notes).map(|e| Expr::Not(Box::new(e))),
            Expr::Compare { left, op, right, nocase } => self.compare(*left, op, *right, nocase, notes),
            Expr::Call { function, args, nocase } => self.call(function, args, nocase, notes),
            Expr::Field(field) => self.kind(&field, notes).map(|_| Expr::Field(field)),
            other => Some(other),
        }
    }

    /// The kind of a field's path; an unknown path is an `unknown-field` loss.
    fn kind(&self, field: &FieldRef, notes: &mut Notes) -> Option<Kind<'_>> {
        let UdmPath::Udm(path) = &field.path else { return Some(Kind::Any) };
        match self.schema.resolve(path) {
            Ok(kind) => Some(kind),
            Err(why) => {
                notes.todo(Code::UnknownField, Span::default(), format!("`{path}` is left out: {why}"));
                None
            }
        }
    }

    fn compare(&self, left: Expr, op: CmpOp, right: Expr, nocase: bool, notes: &mut Notes) -> Option<Expr> {
        let Expr::Field(field) = &left else {
            return Some(Expr::Compare { left: Box::new(left), op, right: Box::new(right), nocase });
        };
        let kind = self.kind(field, notes)?;
        if let Expr::Field(other) = &right {
            self.kind(other, notes)?;
        }
        if matches!(right, Expr::Field(_) | Expr::Var(_)) {
            return Some(Expr::Compare { left: Box::new(left), op, right: Box::new(right), nocase });
        }
        let path = field.to_string();
        match self.literal(kind, &path, op, &right) {
            Ok(converted) => {
                if let Some(shared) = self.shared_enum_value(kind, &right) {
                    notes.todo(Code::TypeMismatch, Span::default(), format!("`{path}`: {shared}; the test matches all of them"));
                }
                let nocase = nocase && matches!(kind, Kind::String | Kind::Map | Kind::Any);
                Some(Expr::Compare { left: Box::new(left), op, right: Box::new(converted), nocase })
            }
            Err(why) => {
                notes.todo(
                    Code::TypeMismatch,
                    Span::default(),
                    format!("the test of `{path}` against {} is left out: {why}", shown(&right)),
                );
                None
            }
        }
    }

    /// A function and its arguments (an outcome's `sum(if(test, 1, 0))` holds tests); the text
    /// functions (`re.regex`, `net.ip_in_range_cidr`) take a string ("Param data types: STRING,
    /// STRING", re.regex's reference).
    fn call(&self, function: &'static str, args: Vec<Expr>, nocase: bool, notes: &mut Notes) -> Option<Expr> {
        let args: Vec<Expr> = args.into_iter().map(|arg| self.expr(arg, notes)).collect::<Option<_>>()?;
        if let Some(Expr::Field(field)) = args.first() {
            let kind = self.kind(field, notes)?;
            let reads_text = TEXT_FUNCTIONS.contains(&function);
            if reads_text && !matches!(kind, Kind::String | Kind::Map | Kind::Any | Kind::Enum(..)) {
                let path = field.to_string();
                notes.todo(
                    Code::TypeMismatch,
                    Span::default(),
                    format!("`{function}` on `{path}` is left out: {} is not a string", describe(kind)),
                );
                return None;
            }
        }
        Some(Expr::Call { function, args, nocase })
    }

    /// The literal as the field's type stores it, or why it cannot be.
    fn literal(&self, kind: Kind, path: &str, op: CmpOp, literal: &Expr) -> Result<Expr, String> {
        let equality = op == CmpOp::Eq;
        let converted = match (kind, literal) {
            (Kind::Map | Kind::Any, literal) => Some(literal.clone()),
            (Kind::String, Expr::String(_)) | (Kind::Int, Expr::Int(_)) | (Kind::Bool, Expr::Bool(_)) => Some(literal.clone()),
            (Kind::Float, Expr::Int(_) | Expr::Real(_)) => Some(literal.clone()),
            (Kind::String, Expr::Int(i)) if equality => Some(Expr::String(i.to_string())),
            (Kind::String, Expr::Real(r)) if equality => Some(Expr::String(r.to_string())),
            (Kind::Int, Expr::Real(r)) => whole(*r).map(Expr::Int),
            (Kind::Int, Expr::String(s)) if s.is_empty() && equality => Some(Expr::Int(0)),
            (Kind::Int, Expr::String(s)) => self.number(path, s).map(Expr::Int),
            (Kind::Float, Expr::String(s)) => s.trim().parse::<f64>().ok().filter(|r| r.is_finite()).map(Expr::Real),
            (Kind::Bool, Expr::String(s)) if equality => s.trim().to_ascii_lowercase().parse::<bool>().ok().map(Expr::Bool),
            (Kind::Enum(name, values), Expr::String(s)) if equality => self.enum_value(name, values, s).map(Expr::String),
            _ => None,
        };
        converted.ok_or_else(|| format!("{} holds no such value", describe(kind)))
    }

    /// A number written as text: decimal, `0x` hex, or a name the profile gives a number (an
    /// integrity level's RID); a mandatory-label SID (`S-1-16-12288`) is its RID.
    fn number(&self, path: &str, text: &str) -> Option<i64> {
        let text = text.trim();
        let leaf = path.rsplit('.').next().unwrap_or(path);
        let named = self.profile.named_numbers.get(leaf).and_then(|names| names.iter().find(|(n, _)| n.eq_ignore_ascii_case(text)));
        if let Some((_, number)) = named {
            return Some(*number);
        }
        if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
            return i64::from_str_radix(hex, 16).ok();
        }
        let text = if leaf == "integrity_level_rid" { text.strip_prefix("S-1-16-").unwrap_or(text) } else { text };
        text.parse().ok()
    }

    /// An enum value: itself in any case, the profile's name for it (a source's own word), or
    /// `""` as the enum's unset value.
    fn enum_value(&self, name: &str, values: &[String], written: &str) -> Option<String> {
        if written.is_empty() {
            return values.first().cloned();
        }
        let synonym = self.profile.enum_values.get(name).and_then(|names| names.iter().find(|(n, _)| n.eq_ignore_ascii_case(written)));
        let wanted = synonym.map_or(written, |(_, value)| value.as_str());
        values.iter().find(|v| v.eq_ignore_ascii_case(wanted)).cloned()
    }
}

impl Typing<'_> {
    /// For a source's word converted to an enum value that other words share, which.
    fn shared_enum_value(&self, kind: Kind, written: &Expr) -> Option<String> {
        let (Kind::Enum(name, _), Expr::String(written)) = (kind, written) else { return None };
        let words = self.profile.enum_values.get(name)?;
        let value = words.iter().find(|(w, _)| w.eq_ignore_ascii_case(written)).map(|(_, v)| v)?;
        let sharing: Vec<&str> = words.iter().filter(|(_, v)| *v == value).map(|(w, _)| w.as_str()).collect();
        (sharing.len() > 1).then(|| format!("{} are all {value} in UDM", sharing.join(", ")))
    }
}

fn whole(real: f64) -> Option<i64> {
    // Exact in an i64 only within ±2^53; beyond, a float's integer part is already rounded.
    (real.fract() == 0.0 && real.abs() < 9.0e15).then_some(real as i64)
}

fn describe(kind: Kind) -> String {
    match kind {
        Kind::String => "a string field".into(),
        Kind::Int => "an integer field".into(),
        Kind::Float => "a number field".into(),
        Kind::Bool => "a boolean field".into(),
        Kind::Enum(name, _) => format!("the enum {name}"),
        Kind::Message => "a message (not a value)".into(),
        Kind::Map | Kind::Any => "a field of any type".into(),
    }
}

fn shown(literal: &Expr) -> String {
    match literal {
        Expr::String(s) => format!("\"{s}\""),
        Expr::Regex(r) => format!("/{r}/"),
        Expr::Int(i) => i.to_string(),
        Expr::Real(r) => r.to_string(),
        Expr::Bool(b) => b.to_string(),
        _ => "a value".into(),
    }
}
