//! The UDM schema (`targets/udm.yaml`, derived by `scripts/derive_udm_schema.py` from the scrape
//! of Google's UDM field list): what a dotted path names, so every path the emitter writes is
//! known to exist and every literal compared with it has the field's type.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schema {
    /// Top-level Event fields → their type.
    roots: BTreeMap<String, String>,
    /// Message types → field → type (see the file's header for the type words).
    types: BTreeMap<String, BTreeMap<String, String>>,
    /// Enum name → its values; the first is the unset value.
    enums: BTreeMap<String, Vec<String>>,
}

/// What a UDM path holds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind<'s> {
    String,
    Int,
    Float,
    Bool,
    /// The enum's name and values (the first is the unset value).
    Enum(&'s str, &'s [String]),
    /// A message: it has fields, it is not a value.
    Message,
    /// A Struct or Label list, read with `["key"]`: its values have no known type.
    Map,
    /// A type Google's field list leaves empty: nothing under it is checked.
    Any,
}

impl Schema {
    /// The kind of a dotted path (`target.process.integrity_level_rid`), or why it names no field.
    pub fn resolve(&self, path: &str) -> Result<Kind<'_>, String> {
        let mut steps = path.split('.');
        let root = steps.next().unwrap_or_default();
        let Some(mut type_name) = self.roots.get(root).map(String::as_str) else {
            return Err(format!("`{root}` is not a top-level UDM field"));
        };
        let mut walked = root.to_string();
        for step in steps {
            let kind = self.kind(type_name);
            if matches!(kind, Kind::Any | Kind::Map) {
                return Ok(Kind::Any);
            }
            let Some(next) = self.types.get(type_name).and_then(|fields| fields.get(step)) else {
                return Err(format!("`{walked}` has no field `{step}` in UDM"));
            };
            type_name = next;
            walked = format!("{walked}.{step}");
        }
        Ok(self.kind(type_name))
    }

    fn kind<'s>(&'s self, type_name: &'s str) -> Kind<'s> {
        match type_name {
            "string" => Kind::String,
            "int" => Kind::Int,
            "float" => Kind::Float,
            "bool" => Kind::Bool,
            "map" | "labels" => Kind::Map,
            _ => match type_name.strip_prefix("enum:") {
                Some(name) => self.enums.get(name).map_or(Kind::Any, |values| Kind::Enum(name, values)),
                None if self.types.contains_key(type_name) => Kind::Message,
                None => Kind::Any,
            },
        }
    }
}

/// The embedded schema; it is derived and tested, so a broken one is a bug.
pub fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    crate::emit::profile_file::embedded(&SCHEMA, "targets/udm.yaml", include_str!("../../../targets/udm.yaml"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::chronicle::profile::profile;

    #[test]
    fn paths_resolve_to_the_types_googles_field_list_gives() {
        let schema = schema();
        assert_eq!(schema.resolve("target.process.integrity_level_rid"), Ok(Kind::Int));
        assert_eq!(schema.resolve("metadata.event_timestamp.seconds"), Ok(Kind::Int));
        assert_eq!(schema.resolve("principal.ip"), Ok(Kind::String));
        assert_eq!(schema.resolve("network.tls.established"), Ok(Kind::Bool));
        assert_eq!(schema.resolve("target.process"), Ok(Kind::Message));
        assert_eq!(schema.resolve("additional.fields"), Ok(Kind::Any));
        let Ok(Kind::Enum(name, values)) = schema.resolve("network.direction") else { panic!("network.direction is an enum") };
        assert_eq!((name, values.first().map(String::as_str)), ("network.direction", Some("UNKNOWN_DIRECTION")));
        for unknown in ["target.proces.pid", "nope.x", "principal.hostname.x", "metadata.event_type.x"] {
            assert!(schema.resolve(unknown).is_err(), "{unknown}");
        }
    }

    #[test]
    fn every_path_the_profile_writes_exists_in_udm() {
        let (schema, profile) = (schema(), profile());
        let entries = profile.tables.iter().chain(&profile.logsources);
        for (name, entry) in entries {
            let selectors = entry.selectors().into_iter().map(|(path, _)| path);
            for path in selectors.chain(entry.fields.values().map(String::as_str)) {
                let kind = schema.resolve(path);
                assert!(kind.as_ref().is_ok_and(|k| *k != Kind::Message), "{name}: {path}: {kind:?}");
            }
        }
        for path in profile.common_fields.values() {
            assert!(schema.resolve(path).is_ok(), "{path}");
        }
    }
}
