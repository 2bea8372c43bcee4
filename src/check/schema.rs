//! Columns a Sentinel rule's query reads that its table does not have, as Microsoft's analyzer
//! finds them (KS142) when a rule is created, from the schema data of `crate::sentinel::tables`,
//! and comparisons of a column its type refuses (KS106, KS107; `super::types`).
//!
//! A column is judged only where the table in force is certain: a pipeline whose source is a
//! known table (no `let` of that name), followed through `where` and `take`, `extend` (its
//! names join the columns) and `project` (its names become the columns); `summarize` is read,
//! then ends the walk; every other operator ends it before it is read (`join`, `union`,
//! `lookup`, `mv-expand`, `parse`, `evaluate`, `project-away`, ...: their columns are not
//! tracked). Names bound by `let` or `declare query_parameters` are never columns; nested
//! queries inside an expression (`toscalar`, `in (T | ...)`) are not judged.

use super::types::{Mistyped, mistyped};
use crate::kql::Span;
use crate::kql::ast::{Expr, ExprKind, LetValue, NamedExpr, OperatorKind, Script, StatementKind};
use crate::sentinel::tables::{self, ColumnType, Table};
use std::collections::HashSet;

/// A column a query reads that its table lacks.
#[derive(Debug, PartialEq, Eq)]
pub struct UnknownColumn {
    pub column: String,
    pub table: String,
    pub span: Span,
}

/// What the schema says of a script's queries.
#[derive(Debug, Default)]
pub struct Findings {
    /// Every column the script reads that its table, known and certain, lacks; once per column
    /// and table, at its first read.
    pub unknown_columns: Vec<UnknownColumn>,
    /// Every `where` comparison of a table column with an operator or literal its type refuses.
    pub mistyped: Vec<Mistyped>,
}

/// What the schema says of each query of the script (`let` values included).
pub fn findings(script: &Script) -> Findings {
    let mut bound = HashSet::new();
    let mut queries = Vec::new();
    for statement in &script.statements {
        match &statement.kind {
            StatementKind::Let { name, value } => {
                bound.insert(name.name.as_str());
                if let LetValue::Expr(expr) = value {
                    queries.push(expr);
                }
            }
            StatementKind::QueryParameters(params) => bound.extend(params.iter().map(|p| p.name.name.as_str())),
            StatementKind::Query(expr) => queries.push(expr),
            _ => {}
        }
    }
    let mut walk = Walk { bound, found: Vec::new(), mistyped: Vec::new() };
    for expr in queries {
        walk.tabular(expr);
    }
    let mut seen = HashSet::new();
    walk.found.retain(|f| seen.insert((f.column.clone(), f.table.clone())));
    Findings { unknown_columns: walk.found, mistyped: walk.mistyped }
}

/// The columns in force after the operators walked so far.
enum Columns<'a> {
    /// The table's, and those `extend` added.
    Table(&'a Table, HashSet<String>),
    /// Exactly these (after `project`).
    Only(HashSet<String>),
}

impl Columns<'_> {
    fn add(&mut self, names: HashSet<String>) {
        match self {
            Columns::Table(_, added) | Columns::Only(added) => added.extend(names),
        }
    }

    fn has(&self, name: &str) -> bool {
        match self {
            Columns::Table(table, added) => table.column(name).is_some() || added.contains(name),
            Columns::Only(names) => names.contains(name),
        }
    }

    /// The type of a column of the table, while no `extend` or `project` has remade it.
    fn table_type(&self, name: &str) -> Option<ColumnType> {
        match self {
            Columns::Table(table, added) if !added.contains(name) => table.column(name),
            _ => None,
        }
    }
}

struct Walk<'a> {
    /// Names `let` and query parameters bind: never columns, and no table when a source.
    bound: HashSet<&'a str>,
    found: Vec<UnknownColumn>,
    mistyped: Vec<Mistyped>,
}

impl Walk<'_> {
    /// A tabular expression: a pipeline from a known table is judged; the sides of `join`
    /// and `union` and parenthesized queries are walked in turn.
    fn tabular(&mut self, expr: &Expr) {
        match &expr.kind {
            ExprKind::Paren(inner) => self.tabular(inner),
            ExprKind::Pipeline { source, operators } => {
                if let Some(source) = source {
                    self.tabular(source);
                }
                for operator in operators {
                    match &operator.kind {
                        OperatorKind::Join { right, .. } | OperatorKind::Lookup { right, .. } => self.tabular(right),
                        OperatorKind::Union { tables, .. } => tables.iter().for_each(|t| self.tabular(t)),
                        _ => {}
                    }
                }
                let table = source.as_deref().and_then(|s| match &s.kind {
                    ExprKind::Name(name) if !self.bound.contains(name.name.as_str()) => Some(name.name.as_str()),
                    _ => None,
                });
                if let Some((name, table)) = table.and_then(|name| Some((name, tables::table(name)?))) {
                    self.judge(name, table, operators.iter().map(|o| &o.kind));
                }
            }
            _ => {}
        }
    }

    fn judge<'o>(&mut self, name: &str, table: &Table, operators: impl Iterator<Item = &'o OperatorKind>) {
        let mut columns = Columns::Table(table, HashSet::new());
        for operator in operators {
            let mut reads = Vec::new();
            let next = match operator {
                OperatorKind::Where(test) => {
                    let read = names(&test.expr, &mut reads);
                    if read {
                        mistyped(&test.expr, &|name| columns.table_type(name), &mut self.mistyped);
                    }
                    read.then_some(None)
                }
                OperatorKind::Take(_) | OperatorKind::Sample(_) => Some(None),
                OperatorKind::Extend(items) => extended(items, &mut reads).map(|added| {
                    columns.add(added);
                    None
                }),
                OperatorKind::Project(items) => projected(items, &mut reads).map(|names| Some(Columns::Only(names))),
                OperatorKind::Summarize { aggregates, by, .. } => {
                    let read = aggregates.iter().chain(by).all(|item| names(&item.expr, &mut reads));
                    if read {
                        self.report(name, &columns, &reads);
                    }
                    return;
                }
                _ => None,
            };
            let Some(changed) = next else { return };
            self.report(name, &columns, &reads);
            if let Some(changed) = changed {
                columns = changed;
            }
        }
    }

    /// Each read that is no column in force, nor a bound name.
    fn report(&mut self, table: &str, columns: &Columns, reads: &[&Expr]) {
        for read in reads {
            let ExprKind::Name(name) = &read.kind else { continue };
            // Kusto spells its bool literals in any case (`True`); a table name is a query, not a column.
            let literal = name.name.eq_ignore_ascii_case("true") || name.name.eq_ignore_ascii_case("false");
            if literal || columns.has(&name.name) || self.bound.contains(name.name.as_str()) || tables::table(&name.name).is_some() {
                continue;
            }
            self.found.push(UnknownColumn { column: name.name.clone(), table: table.to_string(), span: name.span });
        }
    }
}

/// The names `extend` gives, each readable by the items after it (not reported as reads);
/// `None` when one is Kusto's to make up.
fn extended<'e>(items: &'e [NamedExpr], reads: &mut Vec<&'e Expr>) -> Option<HashSet<String>> {
    let mut added = HashSet::new();
    for item in items {
        let mut own = Vec::new();
        if !names(&item.expr, &mut own) {
            return None;
        }
        reads.extend(own.into_iter().filter(|read| !matches!(&read.kind, ExprKind::Name(n) if added.contains(&n.name))));
        match (&item.names[..], &item.expr.kind) {
            ([], ExprKind::Name(_)) => {}
            ([], _) => return None,
            (given, _) => added.extend(given.iter().map(|n| n.name.clone())),
        }
    }
    Some(added)
}

/// The names `project` leaves; `None` when one is Kusto's to make up.
fn projected<'e>(items: &'e [NamedExpr], reads: &mut Vec<&'e Expr>) -> Option<HashSet<String>> {
    let mut out = HashSet::new();
    for item in items {
        if !names(&item.expr, reads) {
            return None;
        }
        match (&item.names[..], &item.expr.kind) {
            ([], ExprKind::Name(name)) => out.insert(name.name.clone()),
            ([], _) => return None,
            (given, _) => {
                out.extend(given.iter().map(|n| n.name.clone()));
                true
            }
        };
    }
    Some(out)
}

/// Pushes every name the expression reads as a value (not a function's or a member's name,
/// nor inside a nested query); `false` when it holds text that did not parse.
fn names<'e>(expr: &'e Expr, out: &mut Vec<&'e Expr>) -> bool {
    match &expr.kind {
        ExprKind::Name(_) => {
            out.push(expr);
            true
        }
        ExprKind::Literal(_) | ExprKind::Pattern(_) | ExprKind::Star | ExprKind::TypeOf(_) | ExprKind::Pipeline { .. } => true,
        ExprKind::Paren(inner) | ExprKind::Unary { operand: inner, .. } | ExprKind::Member { target: inner, .. } => names(inner, out),
        ExprKind::Binary { left, right, .. } | ExprKind::Index { target: left, index: right } => names(left, out) && names(right, out),
        ExprKind::InList { left, items, .. } => names(left, out) && items.iter().all(|i| names(i, out)),
        ExprKind::Between { left, low, high, .. } => names(left, out) && names(low, out) && names(high, out),
        // `database('x').T` and the like name no column of the rows.
        ExprKind::Call { target: Some(_), .. } => true,
        ExprKind::Call { target: None, args, .. } => args.iter().all(|a| names(&a.expr, out)),
        ExprKind::Error => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (query, the unknown columns as `table.column`) from published Sentinel rules
    /// (../shared/corpus/sentinel), cut to the lines that matter.
    const CASES: &[(&str, &[&str])] = &[
        // Hunting Queries/ZoomLogs/HighCPURoom.yaml: names of a table whose schema lacks them.
        (
            "ZoomLogs\n| where Event =~ \"zoomroom.alert\"\n| extend AlertType = toint(parse_json(RoomEvents).AlertType)\n| extend RoomName = payload_object_room_name_s\n| where AlertType == 1 and RoomName != \"\"",
            &["ZoomLogs.RoomEvents", "ZoomLogs.payload_object_room_name_s"],
        ),
        // Hunting Queries/MultipleDataSources/LogonwithExpiredAccount.yaml: SigninLogs has no `Computer`.
        (
            "(union isfuzzy=true (SigninLogs\n| where ResultType == \"50057\"\n| extend Reason = case(ResultType == '50057', 'disabled', 'Unknown'), Account = UserPrincipalName\n| project Computer, Account, Reason, TimeGenerated))\n| summarize count() by Computer",
            &["SigninLogs.Computer"],
        ),
        // Detections/SecurityEvent: a `let` constant and standard columns are no unknown columns.
        (
            "let threshold = 5;\nSecurityEvent\n| where EventID == 4625 and AccountType =~ \"User\" and _ResourceId != \"\"\n| summarize n = count() by Account, bin(TimeGenerated, 1h)\n| where n > threshold",
            &[],
        ),
        // A bool literal in any case, a `project` that renames, and `extend` names read later.
        (
            "SigninLogs\n| extend Trust = tostring(DeviceDetail.trustType), Ok = iff(Trust == \"x\", True, False)\n| project User = UserPrincipalName, Trust, Ok\n| where Ok and User != \"\" and Trust != \"\"",
            &[],
        ),
        // After `project`, only its names are columns: the analyzer refuses the rest.
        ("SigninLogs\n| project UserPrincipalName\n| where IPAddress != \"\"", &["SigninLogs.IPAddress"]),
        // Not judged: a table a `let` shadows, a team's own table, after `join`/`parse`/`mv-expand`.
        ("let SigninLogs = datatable(X:string)[\"a\"];\nSigninLogs | where X == \"a\"", &[]),
        ("MyTeam_CL | where Anything_s == \"a\"", &[]),
        ("SigninLogs\n| join (AuditLogs | where OperationName == \"x\") on CorrelationId\n| where OperationName1 != \"\"", &[]),
        ("SecurityEvent\n| parse EventData with * 'Status\">' Status2 \"<\" *\n| where Status2 == '0x12'", &[]),
        // A nested query inside an expression is not judged from the outer table's columns.
        ("SigninLogs\n| where UserPrincipalName in ((AuditLogs | project Name = tostring(InitiatedBy)))", &[]),
        // The right side of a join is judged on its own table.
        ("SigninLogs\n| join (AuditLogs | where NoSuchColumn == 1) on CorrelationId", &["AuditLogs.NoSuchColumn"]),
    ];

    #[test]
    fn unknown_columns_of_known_tables_are_found_where_the_table_is_certain() {
        for (query, expected) in CASES {
            let parsed = crate::kql::parse(query);
            assert!(parsed.errors.is_empty(), "{query}: {:?}", parsed.errors);
            let found: Vec<String> = findings(&parsed.ast).unknown_columns.iter().map(|c| format!("{}.{}", c.table, c.column)).collect();
            assert_eq!(found, *expected, "{query}");
        }
    }

    #[test]
    fn a_finding_is_at_the_name_it_reads() {
        let query = "SigninLogs | where Nope == 1 or Nope == 2";
        let found = findings(&crate::kql::parse(query).ast).unknown_columns;
        assert_eq!(found.len(), 1, "once per column");
        assert_eq!(&query[found[0].span.start..found[0].span.end], "Nope");
        assert_eq!(found[0].span.start, 19);
        // A refused comparison is at its column, as the analyzer places it; after an `extend` that
        // remakes the column, its type is no longer the table's, and it is not judged.
        let query = "DeviceNetworkEvents | where RemotePort contains \"80\" | extend RemoteIP = 1 | where RemoteIP > 0";
        let found = findings(&crate::kql::parse(query).ast).mistyped;
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(&query[found[0].span.start..found[0].span.end], "RemotePort");
        assert!(found[0].message.starts_with("`contains` is not defined for `RemotePort`, an integer column"), "{}", found[0].message);
    }
}
