//! Emitters: `Rule`s → text of one target format, plus notes on what a reviewer should know.
//!
//! - `sentinel_arm`: deployable ARM templates in the Sentinel portal's export form,
//! - `sentinel_yaml`: the Azure-Sentinel repository's YAML form,
//!
//! both built as data from the encoders in `sentinel_fields` and serialized, so the output is
//! valid by construction and the same rules always give the same bytes.

mod sentinel_arm;
mod sentinel_fields;
mod sentinel_yaml;
mod tactics;

use crate::ir::Rule;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// Deployable ARM JSON.
    Sentinel,
    /// Repository YAML.
    SentinelYaml,
}

impl Target {
    pub const ALL: [Target; 2] = [Target::Sentinel, Target::SentinelYaml];

    /// The name users pass to `--to`.
    pub fn name(self) -> &'static str {
        match self {
            Target::Sentinel => "sentinel",
            Target::SentinelYaml => "sentinel-yaml",
        }
    }

    pub fn from_name(name: &str) -> Option<Target> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }

    /// File extension of the target's output files.
    pub fn extension(self) -> &'static str {
        match self {
            Target::Sentinel => "json",
            Target::SentinelYaml => "yaml",
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct EmitOptions {
    /// ARM apiVersion for alert rules, overriding the rule's own and the default.
    pub api_version: Option<String>,
}

/// The output text and the notes (changes and losses) a reviewer should see.
#[derive(Clone, Debug, Default)]
pub struct Emitted {
    pub text: String,
    pub notes: Vec<Note>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// Index of the rule in the slice given to `emit`.
    pub rule_index: usize,
    pub message: String,
}

/// A rule the target cannot express.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmitError {
    pub rule_index: usize,
    pub message: String,
}

/// Converts rules to one document of the target format (one ARM template, or YAML documents
/// separated by `---`); fails with every error of every rule that cannot be expressed.
pub fn emit(target: Target, rules: &[&Rule], options: &EmitOptions) -> Result<Emitted, Vec<EmitError>> {
    match target {
        Target::Sentinel => sentinel_arm::emit(rules, options),
        Target::SentinelYaml => Ok(sentinel_yaml::emit(rules)),
    }
}
