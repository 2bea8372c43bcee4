//! Emitters: `Rule`s → text of one target format, plus the problems a reviewer should know of
//! (losses and changes), each at the rule field it is about.
//!
//! - `sentinel_arm`: deployable ARM templates in the Sentinel portal's export form,
//! - `sentinel_yaml`: the Azure-Sentinel repository's YAML form,
//!
//! both built as data from the encoders in `sentinel_fields` and serialized, so the output is
//! valid by construction and the same rules always give the same bytes.

mod sentinel_arm;
mod sentinel_fields;
mod sentinel_yaml;

use crate::diag::Problem;
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

/// The output text and the problems (losses, changes, warnings) a reviewer should see.
#[derive(Clone, Debug, Default)]
pub struct Emitted {
    pub text: String,
    pub problems: Vec<Problem>,
}

/// Converts rules to one document of the target format (one ARM template, or YAML documents
/// separated by `---`); fails with every error of every rule that cannot be expressed.
pub fn emit(target: Target, rules: &[&Rule], options: &EmitOptions) -> Result<Emitted, Vec<Problem>> {
    match target {
        Target::Sentinel => sentinel_arm::emit(rules, options),
        Target::SentinelYaml => Ok(sentinel_yaml::emit(rules)),
    }
}
