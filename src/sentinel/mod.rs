//! Sentinel's vocabulary, shared by the readers and emitters of its two forms: `keys` holds
//! every key and value spelling (TARGETS.md), this module the ARM layout facts both
//! directions must agree on.

pub mod keys;
pub mod tables;

/// ARM resource type of analytic (alert) rules.
pub const ALERT_RULE_TYPE: &str = "Microsoft.OperationalInsights/workspaces/providers/alertRules";
/// ARM resource type of saved searches; hunting queries are saved searches in this category.
pub const SAVED_SEARCH_TYPE: &str = "Microsoft.OperationalInsights/workspaces/savedSearches";
pub const HUNTING_CATEGORY: &str = "Hunting Queries";

/// The default ARM apiVersion for alert rules: the first preview API with both NRT rules and
/// `subTechniques` (2023-12-01-preview); GA 2025-09-01 has no `subTechniques`. `--api-version`
/// overrides it.
pub const DEFAULT_ALERT_RULE_API_VERSION: &str = "2023-12-01-preview";
pub const DEFAULT_SAVED_SEARCH_API_VERSION: &str = "2020-08-01";

pub const DEPLOYMENT_SCHEMA: &str = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#";

/// Key of the template-level `metadata` object where ruleconv keeps, per rule id, the
/// repository fields ARM has no property for (`requiredDataConnectors`, `tags`, `metadata`,
/// unmodelled keys, and the description as written). ARM ignores template metadata, so the
/// template stays deployable and YAML → ARM → YAML loses nothing.
pub const ARM_METADATA_KEY: &str = "ruleconv";

/// Key, inside a rule's `metadata.ruleconv.<rule id>` object, listing (in YAML naming) the
/// properties our ARM emitter filled with the portal's defaults because ARM requires them and
/// the rule had none; our ARM reader unsets them again, so a rule that did not say them still
/// does not after a round trip.
pub const ARM_FILLED_KEY: &str = "filledByRuleconv";

/// Top-level custom attribute of a Sigma rule that carries the Sentinel settings Sigma has no
/// field for, keyed and valued as the repository YAML writes them. The Sigma specification
/// allows arbitrary custom fields (lowercase keys) and pySigma keeps them as
/// `custom_attributes` without a validation issue, so the rule stays valid Sigma.
pub const SIGMA_ATTRIBUTE: &str = "sentinel";

/// A description as Microsoft's packaging publishes it: the quotes many repository files wrap
/// inside a block scalar (`description: |` then `'text'`) removed, surrounding space trimmed.
pub fn clean_description(text: &str) -> String {
    let trimmed = text.trim();
    let unquoted =
        ['\'', '"'].iter().find_map(|q| trimmed.strip_prefix(*q)?.strip_suffix(*q)).filter(|_| trimmed.len() >= 2).unwrap_or(trimmed);
    unquoted.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_lose_wrapping_quotes_only() {
        assert_eq!(clean_description("'Detects things.'\n"), "Detects things.");
        assert_eq!(clean_description("It's 'quoted' inside\n"), "It's 'quoted' inside");
        assert_eq!(clean_description("'"), "'");
    }
}
