//! The `targets/chronicle.yaml` profile: for each Sentinel table, how UDM marks its events and
//! where its columns live. Embedded at build time; derived and checked by
//! `scripts/derive_chronicle_profile.py`.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// UDM string fields that Sentinel rules compare with numbers (EventID).
    pub string_paths: Vec<String>,
    /// Columns of every table (the time column), used where a table's own list is silent.
    pub common_fields: BTreeMap<String, String>,
    pub tables: BTreeMap<String, TableProfile>,
}

#[derive(Debug, Default, Deserialize)]
pub struct TableProfile {
    pub event_type: Option<String>,
    pub product_name: Option<String>,
    pub vendor_name: Option<String>,
    pub log_type: Option<String>,
    /// Column (or dotted path inside a dynamic column) → UDM path.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// Columns holding only the file name of the full path they map to.
    #[serde(default)]
    pub file_names: Vec<String>,
}

impl TableProfile {
    /// The UDM tests that select this table's events, as (UDM path, value).
    pub fn selectors(&self) -> Vec<(&'static str, &str)> {
        [
            ("metadata.event_type", &self.event_type),
            ("metadata.log_type", &self.log_type),
            ("metadata.vendor_name", &self.vendor_name),
            ("metadata.product_name", &self.product_name),
        ]
        .into_iter()
        .filter_map(|(path, value)| value.as_deref().map(|v| (path, v)))
        .collect()
    }
}

impl Profile {
    /// The UDM path of a column (or dotted path) of a table, if the profile knows it.
    pub fn udm(&self, table: &str, field: &str) -> Option<&str> {
        let own = self.tables.get(table).and_then(|t| t.fields.get(field));
        own.or_else(|| self.common_fields.get(field)).map(String::as_str)
    }

    /// Whether the column holds only the last segment of the path it maps to.
    pub fn is_file_name(&self, table: &str, field: &str) -> bool {
        self.tables.get(table).is_some_and(|t| t.file_names.iter().any(|c| c == field))
    }
}

/// The embedded profile; it is ours and tested, so a broken one is a bug.
pub fn profile() -> &'static Profile {
    static PROFILE: OnceLock<Profile> = OnceLock::new();
    PROFILE.get_or_init(|| {
        let docs = crate::yaml::parse_documents(include_str!("../../../targets/chronicle.yaml")).expect("targets/chronicle.yaml parses");
        serde_json::from_value(docs[0].to_json()).expect("targets/chronicle.yaml has the profile's shape")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_profile_loads_and_every_table_selects_its_events_or_maps_columns() {
        let profile = profile();
        assert!(profile.tables.len() >= 25);
        for (name, table) in &profile.tables {
            assert!(!table.selectors().is_empty() || !table.fields.is_empty(), "{name} says nothing");
            for column in &table.file_names {
                assert!(table.fields.get(column).is_some_and(|p| p.ends_with("full_path")), "{name}.{column} is not mapped to a path");
            }
            for path in table.fields.values() {
                assert!(
                    path.split('.').all(|step| !step.is_empty() && step.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')),
                    "{path}"
                );
            }
        }
        assert_eq!(
            profile.tables["SigninLogs"].selectors(),
            vec![("metadata.event_type", "USER_LOGIN"), ("metadata.product_name", "Azure AD")]
        );
    }
}
