//! The `targets/entities.yaml` profile: which columns of each Sentinel table identify an
//! Account, Host, IP, Process or File, for the entity mappings of the Sentinel rule written for
//! a Sigma rule. Embedded at build time; derived by `scripts/derive_entity_profile.py`.

use crate::emit::profile_file;
use crate::ir::{EntityMapping, FieldMapping};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Profile {
    /// Table → its identifying columns, entity types in the profile's order.
    tables: BTreeMap<String, Vec<Identifying>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Identifying {
    column: String,
    entity: String,
    identifier: String,
}

/// The profile embedded at build time; it is ours and tested, so a broken one is a bug.
fn profile() -> &'static Profile {
    static PROFILE: OnceLock<Profile> = OnceLock::new();
    profile_file::embedded(&PROFILE, "targets/entities.yaml", include_str!("../../../targets/entities.yaml"))
}

/// Entity mappings for the identifying columns of `tables` that `output` says the query's
/// rows have, within Sentinel's limit: one per entity type first (in the profile's order), then
/// the next column of each, so a rule maps as many kinds of entity as it can. A column is
/// mapped once.
pub fn mappings(tables: &[&str], output: impl Fn(&str) -> bool) -> Vec<EntityMapping> {
    let profile = profile();
    let mut by_entity: Vec<(&str, Vec<&Identifying>)> = Vec::new();
    for identifying in tables.iter().filter_map(|t| profile.tables.get(*t)).flatten().filter(|i| output(&i.column)) {
        match by_entity.iter_mut().find(|(entity, _)| *entity == identifying.entity) {
            Some((_, columns)) => columns.push(identifying),
            None => by_entity.push((&identifying.entity, vec![identifying])),
        }
    }
    let mut chosen: Vec<&Identifying> = Vec::new();
    let deepest = by_entity.iter().map(|(_, columns)| columns.len()).max().unwrap_or(0);
    for round in 0..deepest {
        for identifying in by_entity.iter().filter_map(|(_, columns)| columns.get(round)) {
            if !chosen.iter().any(|c| c.column == identifying.column) {
                chosen.push(identifying);
            }
        }
    }
    chosen.truncate(crate::check::max_entity_mappings());
    chosen
        .into_iter()
        .map(|i| EntityMapping {
            entity_type: i.entity.clone(),
            field_mappings: vec![FieldMapping { identifier: i.identifier.clone(), column_name: i.column.clone(), ..Default::default() }],
            ..Default::default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mappings_cover_entity_types_first_and_keep_to_the_output() {
        for (table, columns) in &profile().tables {
            let chosen = mappings(&[table], |_| true);
            assert!(!chosen.is_empty() && chosen.len() <= crate::check::max_entity_mappings(), "{table}");
            for identifying in columns {
                assert!(["Account", "Host", "IP", "Process", "File"].contains(&identifying.entity.as_str()), "{table}");
            }
        }
        let only_host = mappings(&["SecurityEvent"], |column| column == "Computer");
        assert_eq!(only_host.len(), 1);
        assert_eq!((only_host[0].entity_type.as_str(), only_host[0].field_mappings[0].column_name.as_str()), ("Host", "Computer"));
    }
}
