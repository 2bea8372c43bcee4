//! MITRE ATT&CK references: tactics (`TA0001`, "Initial Access") and techniques (`T1078`,
//! sub-technique `T1078.004`), typed, with the text the rule wrote kept beside them.

/// An ATT&CK reference as a rule wrote it: the typed id when the text names one, and the text
/// itself, which formats that keep free text (hunting queries' `Initial access`) write back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttackRef<T> {
    pub id: Option<T>,
    pub written: String,
}

impl<T: AttackId> AttackRef<T> {
    pub fn parse(text: &str) -> Self {
        AttackRef { id: T::parse(text), written: text.to_string() }
    }
}

/// A kind of ATT&CK id that can be read from a rule's text.
pub trait AttackId: Sized {
    fn parse(text: &str) -> Option<Self>;
}

/// The enterprise tactics, and the ICS tactics Sentinel's API also lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tactic {
    Reconnaissance,
    ResourceDevelopment,
    InitialAccess,
    Execution,
    Persistence,
    PrivilegeEscalation,
    DefenseEvasion,
    CredentialAccess,
    Discovery,
    LateralMovement,
    Collection,
    CommandAndControl,
    Exfiltration,
    Impact,
    ImpairProcessControl,
    InhibitResponseFunction,
}

impl Tactic {
    pub const ALL: [Tactic; 16] = [
        Self::Reconnaissance,
        Self::ResourceDevelopment,
        Self::InitialAccess,
        Self::Execution,
        Self::Persistence,
        Self::PrivilegeEscalation,
        Self::DefenseEvasion,
        Self::CredentialAccess,
        Self::Discovery,
        Self::LateralMovement,
        Self::Collection,
        Self::CommandAndControl,
        Self::Exfiltration,
        Self::Impact,
        Self::ImpairProcessControl,
        Self::InhibitResponseFunction,
    ];

    /// The ATT&CK id (`TA0001`) and name ("Initial Access").
    pub fn attack(self) -> (&'static str, &'static str) {
        match self {
            Self::Reconnaissance => ("TA0043", "Reconnaissance"),
            Self::ResourceDevelopment => ("TA0042", "Resource Development"),
            Self::InitialAccess => ("TA0001", "Initial Access"),
            Self::Execution => ("TA0002", "Execution"),
            Self::Persistence => ("TA0003", "Persistence"),
            Self::PrivilegeEscalation => ("TA0004", "Privilege Escalation"),
            Self::DefenseEvasion => ("TA0005", "Defense Evasion"),
            Self::CredentialAccess => ("TA0006", "Credential Access"),
            Self::Discovery => ("TA0007", "Discovery"),
            Self::LateralMovement => ("TA0008", "Lateral Movement"),
            Self::Collection => ("TA0009", "Collection"),
            Self::CommandAndControl => ("TA0011", "Command and Control"),
            Self::Exfiltration => ("TA0010", "Exfiltration"),
            Self::Impact => ("TA0040", "Impact"),
            Self::ImpairProcessControl => ("TA0106", "Impair Process Control"),
            Self::InhibitResponseFunction => ("TA0107", "Inhibit Response Function"),
        }
    }

    pub fn id(self) -> &'static str {
        self.attack().0
    }

    pub fn name(self) -> &'static str {
        self.attack().1
    }
}

/// Letters and digits only, for comparing spellings (`Initial access`, `initial-access`).
pub fn squeeze(text: &str) -> String {
    text.chars().filter(|c| !matches!(c, ' ' | '-' | '_')).collect()
}

impl AttackId for Tactic {
    /// An id (`TA0001`) or a name in any case, with or without spaces, `-` or `_`.
    fn parse(text: &str) -> Option<Tactic> {
        let squeezed = squeeze(text.trim());
        Self::ALL.into_iter().find(|t| t.id().eq_ignore_ascii_case(&squeezed) || squeeze(t.name()).eq_ignore_ascii_case(&squeezed))
    }
}

/// A technique or sub-technique id, validated: `T` and four digits, optionally `.` and three.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Technique(String);

impl Technique {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `T1078` for `T1078.004`; itself for a technique.
    pub fn parent(&self) -> &str {
        self.0.split('.').next().unwrap_or(&self.0)
    }

    pub fn is_sub_technique(&self) -> bool {
        self.0.contains('.')
    }
}

impl AttackId for Technique {
    fn parse(text: &str) -> Option<Technique> {
        let upper = text.trim().to_ascii_uppercase();
        let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        let (main, sub) = match upper.strip_prefix('T')?.split_once('.') {
            Some((main, sub)) => (main, Some(sub)),
            None => (upper.strip_prefix('T')?, None),
        };
        (digits(main, 4) && sub.is_none_or(|s| digits(s, 3))).then(|| Technique(upper.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tactics_parse_from_ids_and_free_text() {
        assert_eq!(Tactic::parse("Initial access"), Some(Tactic::InitialAccess));
        assert_eq!(Tactic::parse("command-and-control"), Some(Tactic::CommandAndControl));
        assert_eq!(Tactic::parse("TA0040"), Some(Tactic::Impact));
        assert_eq!(Tactic::parse("Lateral Movment"), None);
        assert_eq!(Tactic::InitialAccess.attack(), ("TA0001", "Initial Access"));
    }

    #[test]
    fn techniques_are_validated() {
        let sub = Technique::parse("t1078.004").expect("valid");
        assert_eq!((sub.as_str(), sub.parent(), sub.is_sub_technique()), ("T1078.004", "T1078", true));
        assert_eq!(Technique::parse("T1078").map(|t| t.is_sub_technique()), Some(false));
        for bad in ["", "T107", "T1078.4", "1078", "T1078.004.1", "TA0001"] {
            assert_eq!(Technique::parse(bad), None, "{bad}");
        }
        assert_eq!(AttackRef::<Technique>::parse("T1078 ").written, "T1078 ");
    }
}
