//! Names in a YARA-L rule: the rule's identifier, which is never a keyword, and its `$`
//! variables. Event, placeholder and outcome variables share one namespace (`$e` cannot be
//! both an event and a placeholder), so one registry hands them all out and never gives a name
//! twice.

use std::marker::PhantomData;

/// Words YARA-L reads as keywords where a rule name stands: the grammar's section names,
/// operators, aggregate functions and UDM roots, as the yaraast parser behind yaral-check lists
/// them, with the `re` function prefix. Google's compiler rejects `rule not {`.
const RESERVED: &[&str] = &[
    "additional",
    "after",
    "all",
    "and",
    "any",
    "array",
    "array_distinct",
    "avg",
    "before",
    "by",
    "cidr",
    "condition",
    "count",
    "count_distinct",
    "earliest",
    "else",
    "events",
    "every",
    "false",
    "if",
    "in",
    "is",
    "latest",
    "match",
    "max",
    "meta",
    "metadata",
    "min",
    "network",
    "nocase",
    "not",
    "null",
    "options",
    "or",
    "outcome",
    "over",
    "principal",
    "re",
    "regex",
    "rule",
    "security_result",
    "sum",
    "target",
    "true",
    "udm",
    "within",
];

/// A rule's name: a YARA-L identifier (ASCII letter first, then letters, digits and `_`) that
/// is not a keyword.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleName(String);

impl RuleName {
    /// The title in `snake_case`; `converted_rule` when nothing of it is left, and `_rule`
    /// appended to a keyword.
    pub fn from_title(title: &str) -> RuleName {
        let name = snake_case(title, "converted_rule");
        if RESERVED.contains(&name.as_str()) { RuleName(format!("{name}_rule")) } else { RuleName(name) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `snake_case` from any text (a title, a column name): ASCII letters and digits, lowercased,
/// runs of anything else as one `_`; prefixed so it starts with a letter; `fallback` if empty.
fn snake_case(text: &str, fallback: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_end_matches('_');
    match out.chars().next() {
        None => fallback.to_string(),
        Some(c) if c.is_ascii_digit() => format!("r_{out}"),
        Some(_) => out.to_string(),
    }
}

/// Whether two columns give variables of the same name (`FailedCount`, `failedcount`).
pub fn same_name(a: &str, b: &str) -> bool {
    snake_case(a, "value") == snake_case(b, "value")
}

/// A `$` variable's name; its kind (below) keeps event variables, placeholders and outcome
/// variables apart, so one cannot be written where the other belongs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VarName<K>(String, PhantomData<K>);

/// An event variable (`$e`, `$e1`): one stream of UDM events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventKind {}
/// A placeholder (`$account`): a value events are tied by and grouped on in `match`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlaceholderKind {}
/// An outcome variable (`$risk_score`): a value the detection reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutcomeKind {}

pub type EventVar = VarName<EventKind>;
pub type Placeholder = VarName<PlaceholderKind>;
pub type OutcomeVar = VarName<OutcomeKind>;

impl<K> VarName<K> {
    /// Only the registry names variables.
    fn new(name: impl Into<String>) -> Self {
        VarName(name.into(), PhantomData)
    }

    pub fn name(&self) -> &str {
        &self.0
    }
}

/// Any `$` variable, for expressions that may name either kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Var {
    Event(EventVar),
    Placeholder(Placeholder),
    Outcome(OutcomeVar),
}

impl Var {
    pub fn name(&self) -> &str {
        match self {
            Var::Event(v) => v.name(),
            Var::Placeholder(v) => v.name(),
            Var::Outcome(v) => v.name(),
        }
    }
}

/// The outcome every rule reports.
const RISK_SCORE: &str = "risk_score";

/// The one source of a rule's variables. Each entry keeps the name it was asked for, so a
/// value renamed away from a clash (`e` → `e_2`) is still found by its column's name.
pub struct Names {
    vars: Vec<(String, Var)>,
}

impl Names {
    /// `count` event variables, `$e` alone or `$e1` … `$eN`, and the `$risk_score` outcome
    /// every rule reports.
    pub fn new(count: usize) -> (Names, Vec<EventVar>) {
        let events: Vec<EventVar> =
            (1..=count.max(1)).map(|i| EventVar::new(if count <= 1 { "e".to_string() } else { format!("e{i}") })).collect();
        let mut vars: Vec<(String, Var)> = events.iter().map(|v| (v.0.clone(), Var::Event(v.clone()))).collect();
        vars.push((RISK_SCORE.to_string(), Var::Outcome(OutcomeVar::new(RISK_SCORE))));
        (Names { vars }, events)
    }

    pub fn risk_score(&self) -> OutcomeVar {
        OutcomeVar::new(RISK_SCORE)
    }

    fn taken(&self, name: &str) -> bool {
        self.vars.iter().any(|(_, v)| v.name() == name)
    }

    /// `base`, else `base_2`, `base_3` … whichever no variable has.
    fn fresh(&self, base: &str) -> String {
        let mut candidate = base.to_string();
        let mut n = 2;
        while self.taken(&candidate) {
            candidate = format!("{base}_{n}");
            n += 1;
        }
        candidate
    }

    /// A new placeholder named after a column; renamed when any variable has that name.
    pub fn placeholder(&mut self, column: &str) -> Placeholder {
        let wanted = snake_case(column, "key");
        let placeholder = Placeholder::new(self.fresh(&wanted));
        self.vars.push((wanted, Var::Placeholder(placeholder.clone())));
        placeholder
    }

    /// A new outcome variable named after a column; `None` when a placeholder or outcome
    /// already holds a value of that name (a group key, an earlier output), and renamed when
    /// only an event variable has it.
    pub fn outcome(&mut self, column: &str) -> Option<OutcomeVar> {
        let wanted = snake_case(column, "value");
        if self.value_named(column).is_some() {
            return None;
        }
        let outcome = OutcomeVar::new(self.fresh(&wanted));
        self.vars.push((wanted, Var::Outcome(outcome.clone())));
        Some(outcome)
    }

    /// The placeholder or outcome variable holding the value of a column, by the column's name.
    pub fn value_named(&self, column: &str) -> Option<Var> {
        let wanted = snake_case(column, "value");
        self.vars.iter().find(|(w, v)| *w == wanted && !matches!(v, Var::Event(_))).map(|(_, v)| v.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_names_are_snake_case_identifiers_that_start_with_a_letter() {
        assert_eq!(RuleName::from_title("Brute force (Azure AD) - 2").as_str(), "brute_force_azure_ad_2");
        assert_eq!(RuleName::from_title("3CX supply chain").as_str(), "r_3cx_supply_chain");
        assert_eq!(RuleName::from_title("").as_str(), "converted_rule");
        assert_eq!(RuleName::from_title("¿? — ").as_str(), "converted_rule");
        // Letters outside ASCII are not identifier characters in YARA-L: each run is one `_`.
        assert_eq!(RuleName::from_title("Détection ünïcode 日本").as_str(), "d_tection_n_code");
    }

    #[test]
    fn keyword_titles_get_a_suffix() {
        for (title, name) in [("All", "all_rule"), ("Not", "not_rule"), ("RULE", "rule_rule"), ("  over! ", "over_rule"), ("re", "re_rule")]
        {
            assert_eq!(RuleName::from_title(title).as_str(), name, "{title}");
        }
        // Only a whole name is a keyword.
        assert_eq!(RuleName::from_title("Not all").as_str(), "not_all");
        for word in RESERVED {
            let name = RuleName::from_title(word);
            assert!(!RESERVED.contains(&name.as_str()), "{word}");
            assert!(name.as_str().starts_with(|c: char| c.is_ascii_lowercase()), "{word}");
        }
    }

    #[test]
    fn event_variables_are_e_alone_or_numbered() {
        let names = |count| Names::new(count).1.iter().map(|v| v.name().to_string()).collect::<Vec<_>>();
        assert_eq!(names(0), ["e"]);
        assert_eq!(names(1), ["e"]);
        assert_eq!(names(3), ["e1", "e2", "e3"]);
    }

    #[test]
    fn a_placeholder_never_takes_an_event_variables_or_outcomes_name() {
        let (mut names, events) = Names::new(2);
        assert_eq!(names.placeholder("E1").name(), "e1_2");
        assert_eq!(names.placeholder("e2").name(), "e2_2");
        assert_eq!(names.placeholder("risk_score").name(), "risk_score_2");
        assert_eq!(names.placeholder("Account").name(), "account");
        assert_eq!(names.placeholder("account").name(), "account_2");
        assert_eq!(names.placeholder("").name(), "key");
        assert!(events.iter().all(|e| e.name() != "e1_2" && e.name() != "e2_2"));
    }

    #[test]
    fn an_outcome_is_skipped_for_a_value_already_held_and_renamed_away_from_an_event_variable() {
        let (mut names, _) = Names::new(1);
        let account = names.placeholder("Account");
        assert_eq!(names.outcome("account"), None);
        assert_eq!(names.value_named("Account"), Some(Var::Placeholder(account)));
        assert_eq!(names.outcome("risk_score"), None);
        let renamed = names.outcome("e").expect("a fresh name");
        assert_eq!(renamed.name(), "e_2");
        assert_eq!(names.value_named("e"), Some(Var::Outcome(renamed)));
        assert_eq!(names.outcome("E"), None);
        assert_eq!(names.outcome("Count").map(|o| o.name().to_string()), Some("count".to_string()));
        assert!(same_name("FailedCount", "failedcount") && !same_name("Failed", "FailedCount"));
    }
}
