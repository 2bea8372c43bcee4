//! The tables a KQL query may read (Sentinel / Log Analytics, Defender XDR, ASIM parsers) with
//! their columns' KQL types: `targets/kql-schemas.tsv`, derived by
//! `scripts/derive_kql_schemas.py` from the same reference data Microsoft's analyzer is loaded
//! with in `kusto-oracle --schema`. A table missing here (a team's own `_CL` table) is not
//! known: nothing can be said about its columns.

use std::collections::HashMap;
use std::sync::OnceLock;

/// A column's KQL type, as far as which operators and literals it takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnType {
    String,
    /// `int`, `long`, `real`, `decimal`.
    Number {
        integral: bool,
    },
    Bool,
    Datetime,
    Timespan,
    Guid,
    Dynamic,
}

impl ColumnType {
    fn parse(name: &str) -> Option<ColumnType> {
        Some(match name {
            "string" => ColumnType::String,
            "int" | "long" => ColumnType::Number { integral: true },
            "real" | "decimal" => ColumnType::Number { integral: false },
            "bool" => ColumnType::Bool,
            "datetime" => ColumnType::Datetime,
            "timespan" => ColumnType::Timespan,
            "guid" => ColumnType::Guid,
            "dynamic" => ColumnType::Dynamic,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            ColumnType::String => "string",
            ColumnType::Number { integral: true } => "integer",
            ColumnType::Number { integral: false } => "real",
            ColumnType::Bool => "bool",
            ColumnType::Datetime => "datetime",
            ColumnType::Timespan => "timespan",
            ColumnType::Guid => "guid",
            ColumnType::Dynamic => "dynamic",
        }
    }
}

/// One table's columns.
#[derive(Debug, Default)]
pub struct Table {
    columns: HashMap<&'static str, ColumnType>,
}

/// The columns every Log Analytics table has, which the schema files leave out for some:
/// Microsoft's "Standard columns in Azure Monitor Logs"
/// (https://learn.microsoft.com/azure/azure-monitor/logs/log-standard-columns).
const STANDARD_COLUMNS: &[(&str, ColumnType)] = &[
    ("TenantId", ColumnType::String),
    ("TimeGenerated", ColumnType::Datetime),
    ("_TimeReceived", ColumnType::Datetime),
    ("Type", ColumnType::String),
    ("_ItemId", ColumnType::String),
    ("_ResourceId", ColumnType::String),
    ("_SubscriptionId", ColumnType::String),
    ("_IsBillable", ColumnType::String),
    ("_BilledSize", ColumnType::Number { integral: false }),
];

impl Table {
    /// The column's type; `None` when the table has no such column.
    pub fn column(&self, name: &str) -> Option<ColumnType> {
        let standard = || STANDARD_COLUMNS.iter().find(|(column, _)| *column == name).map(|(_, kind)| *kind);
        self.columns.get(name).copied().or_else(standard)
    }

    /// Whether it has a column of that name in any case (Sigma's field names are not cased).
    pub fn has_column_any_case(&self, name: &str) -> bool {
        self.columns.keys().chain(STANDARD_COLUMNS.iter().map(|(column, _)| column)).any(|column| column.eq_ignore_ascii_case(name))
    }
}

/// The table (or parser function) of that name, when the schema data knows it. Kusto's names
/// are case-sensitive.
pub fn table(name: &str) -> Option<&'static Table> {
    static TABLES: OnceLock<HashMap<&'static str, Table>> = OnceLock::new();
    TABLES.get_or_init(|| parse(include_str!("../../targets/kql-schemas.tsv"))).get(name)
}

/// `TABLE<TAB>TYPE=col,col<TAB>...` lines; `#` starts a comment line. The file is ours and
/// tested: a type it misspells is a bug, caught by the test below rather than at run time.
fn parse(text: &'static str) -> HashMap<&'static str, Table> {
    let lines = text.lines().filter(|line| !line.starts_with('#') && !line.is_empty());
    lines
        .filter_map(|line| {
            let mut fields = line.split('\t');
            let name = fields.next()?;
            let mut table = Table::default();
            for group in fields {
                let Some((kind, columns)) = group.split_once('=') else { continue };
                let Some(kind) = ColumnType::parse(kind) else { continue };
                table.columns.extend(columns.split(',').map(|column| (column, kind)));
            }
            Some((name, table))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_in_the_data_is_a_kql_type() {
        let text = include_str!("../../targets/kql-schemas.tsv");
        for line in text.lines().filter(|line| !line.starts_with('#')) {
            for group in line.split('\t').skip(1) {
                let kind = group.split_once('=').map(|(kind, _)| kind);
                assert!(kind.and_then(ColumnType::parse).is_some(), "{group}");
            }
        }
    }

    #[test]
    fn tables_of_every_source_are_known_with_their_types() {
        // Sentinel tables (Microsoft's validation schemas), Defender XDR and ASIM (pySigma).
        let signin = table("SigninLogs").unwrap();
        assert_eq!(signin.column("ResultType"), Some(ColumnType::String));
        assert_eq!(signin.column("DeviceDetail"), Some(ColumnType::Dynamic));
        assert_eq!(table("DeviceLogonEvents").unwrap().column("LogonId"), Some(ColumnType::Number { integral: true }));
        let process = table("DeviceProcessEvents").unwrap();
        assert_eq!(process.column("SHA256"), Some(ColumnType::String));
        assert_eq!(process.column("Hashes"), None);
        assert!(table("imProcessCreate").unwrap().column("TargetProcessName").is_some());
        // Every Log Analytics table has the standard columns, listed in its schema or not.
        assert_eq!(signin.column("_ItemId"), Some(ColumnType::String));
        assert_eq!(table("SecurityEvent").unwrap().column("EventID"), Some(ColumnType::Number { integral: true }));
        assert!(table("MyTeam_CL").is_none());
        assert!(table("securityevent").is_none());
    }
}
