//! Tactic names as Sentinel's API spells them (`InitialAccess`), from the free text of hunting
//! files (`Initial access`, `initial-access`).

/// The AlertRule tactic enum of the Microsoft.SecurityInsights API: the enterprise ATT&CK
/// tactics plus Sentinel's pre-attack and ICS ones.
const API_TACTICS: &[&str] = &[
    "Reconnaissance",
    "ResourceDevelopment",
    "InitialAccess",
    "Execution",
    "Persistence",
    "PrivilegeEscalation",
    "DefenseEvasion",
    "CredentialAccess",
    "Discovery",
    "LateralMovement",
    "Collection",
    "CommandAndControl",
    "Exfiltration",
    "Impact",
    "PreAttack",
    "ImpairProcessControl",
    "InhibitResponseFunction",
];

/// The API spelling of a tactic, when the text names one (ignoring case, spaces, `-` and `_`).
pub fn api_name(text: &str) -> Option<&'static str> {
    let squeezed: String = text.chars().filter(|c| !matches!(c, ' ' | '-' | '_')).collect();
    API_TACTICS.iter().copied().find(|t| t.eq_ignore_ascii_case(&squeezed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_text_tactics_normalize() {
        assert_eq!(api_name("Initial access"), Some("InitialAccess"));
        assert_eq!(api_name("command-and-control"), Some("CommandAndControl"));
        assert_eq!(api_name("Impact"), Some("Impact"));
        assert_eq!(api_name("Lateral Movment"), None);
    }
}
