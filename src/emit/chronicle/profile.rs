//! The `targets/chronicle.yaml` profile: for each Sentinel table, and each Sigma logsource, how
//! UDM marks its events and where its columns (fields) live. Embedded at build time; derived and
//! checked by `scripts/derive_chronicle_profile.py`.

use crate::ir::LogSource;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Names a source writes for a number a UDM integer field holds, by the field's last step
    /// (`integrity_level_rid`: `High` → 12288).
    pub named_numbers: BTreeMap<String, BTreeMap<String, i64>>,
    /// A source's own words for a UDM enum's values, by the enum's name (`SetValue` →
    /// `REGISTRY_MODIFICATION`).
    pub enum_values: BTreeMap<String, BTreeMap<String, String>>,
    /// Columns of every table (the time column), used where a table's own list is silent.
    pub common_fields: BTreeMap<String, String>,
    pub tables: BTreeMap<String, TableProfile>,
    /// Sigma logsources by `category`, `product/service` or `product` (see `logsource_key`).
    pub logsources: BTreeMap<String, TableProfile>,
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
    /// A Sentinel table's entry, or a Sigma logsource's by its key.
    pub fn entry(&self, table: &str) -> Option<&TableProfile> {
        self.tables.get(table).or_else(|| self.logsources.get(table))
    }

    /// The UDM path of a column (or dotted path) of a table, if the profile knows it.
    pub fn udm(&self, table: &str, field: &str) -> Option<&str> {
        let own = self.entry(table).and_then(|t| t.fields.get(field));
        own.or_else(|| self.common_fields.get(field)).map(String::as_str)
    }

    /// Whether the column holds only the last segment of the path it maps to.
    pub fn is_file_name(&self, table: &str, field: &str) -> bool {
        self.entry(table).is_some_and(|t| t.file_names.iter().any(|c| c == field))
    }

    /// The profile's key for a Sigma logsource: its category, else `product/service`, else
    /// its product, whichever the profile lists first.
    pub fn logsource_key(&self, logsource: &LogSource) -> Option<&str> {
        let product_service = logsource.product.as_ref().zip(logsource.service.as_ref()).map(|(p, s)| format!("{p}/{s}"));
        let candidates = [logsource.category.clone(), product_service, logsource.product.clone()];
        candidates.into_iter().flatten().find_map(|key| self.logsources.get_key_value(&key).map(|(k, _)| k.as_str()))
    }
}

/// The embedded profile; it is ours and tested, so a broken one is a bug.
pub fn profile() -> &'static Profile {
    static PROFILE: OnceLock<Profile> = OnceLock::new();
    crate::emit::profile_file::embedded(&PROFILE, "targets/chronicle.yaml", include_str!("../../../targets/chronicle.yaml"))
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
        for (key, logsource) in &profile.logsources {
            assert!(!logsource.fields.is_empty(), "{key} maps no field");
        }
        let process = LogSource { category: Some("process_creation".into()), product: Some("windows".into()), ..LogSource::default() };
        assert_eq!(profile.logsource_key(&process), Some("process_creation"));
        let trail = LogSource { product: Some("aws".into()), service: Some("cloudtrail".into()), ..LogSource::default() };
        assert_eq!(profile.udm(profile.logsource_key(&trail).unwrap_or_default(), "eventName"), Some("metadata.product_event_type"));
        assert_eq!(profile.logsource_key(&LogSource { product: Some("nope".into()), ..LogSource::default() }), None);
        assert_eq!(
            profile.tables["SigninLogs"].selectors(),
            vec![("metadata.event_type", "USER_LOGIN"), ("metadata.product_name", "Azure AD")]
        );
    }
}
