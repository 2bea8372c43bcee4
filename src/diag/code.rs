//! `Code`: the stable name of every kind of problem, so that summaries, SARIF and tests group
//! problems by what they are, never by their wording.

use super::Kind;

/// Declares `Code` from one table: variant, kebab-case name, the kinds a problem of it may
/// have, and what it means; the README's "Problem codes" table lists the same rows.
macro_rules! codes {
    ($($variant:ident $name:literal [$($kind:ident),+] $about:literal;)+) => {
        /// What a problem is about, independent of its message.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $($variant,)+
        }

        impl Code {
            /// Every code, in the order of the table.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)+];

            /// The code's stable kebab-case name (`computed-column`).
            pub fn name(self) -> &'static str {
                match self {
                    $(Code::$variant => $name,)+
                }
            }

            /// The kinds a problem with this code may have; the first is the usual one.
            pub fn kinds(self) -> &'static [Kind] {
                match self {
                    $(Code::$variant => &[$(Kind::$kind),+],)+
                }
            }

            /// What a problem with this code means, in one line.
            pub fn about(self) -> &'static str {
                match self {
                    $(Code::$variant => $about,)+
                }
            }
        }
    };
}

codes! {
    // Reading
    UnreadableFile "unreadable-file" [Error] "The file cannot be read: missing, too large, or not valid text.";
    NotARule "not-a-rule" [Error] "The file, or a document in it, holds something other than a rule.";
    YamlSyntax "yaml-syntax" [Error] "The YAML (a rule file, a front matter, a Sigma file) does not parse.";
    JsonSyntax "json-syntax" [Error] "The JSON (an ARM template) does not parse.";
    SigmaSyntax "sigma-syntax" [Error] "A Sigma document breaks the Sigma specification.";
    PageRebuild "page-rebuild" [Error] "The rule definition of a copied rule page cannot be rebuilt.";
    MissingKey "missing-key" [Error, Warning] "A key the rule's format or the target needs is missing.";
    InvalidValue "invalid-value" [Error, Warning] "A key or value has the wrong type or is not one the format allows.";
    ConflictingValue "conflicting-value" [Warning] "Two places of the input say different things; the one read is named.";
    UnclosedFence "unclosed-fence" [Warning] "A markdown code fence around the query is never closed.";
    Ignored "ignored" [Warning] "Part of the input is not part of the rule and is ignored.";
    // Checking
    KqlSyntax "kql-syntax" [Error, Warning] "A KQL query does not parse.";
    UnknownColumn "unknown-column" [Warning] "A query reads a column its table does not have (Microsoft's analyzer refuses it, KS142).";
    ColumnType "column-type" [Warning] "A query compares a column with an operator or value its type does not take (Microsoft's analyzer refuses it, KS106/KS107).";
    Re2Refused "re2-refused" [Error, Warning] "A regular expression that RE2 engines (KQL, YARA-L) refuse, or no engine runs.";
    LimitExceeded "limit-exceeded" [Warning] "The rule breaks one of Sentinel's limits (counts, intervals).";
    InvalidEntityMapping "invalid-entity-mapping" [Warning] "An entity mapping Sentinel does not accept.";
    ScheduleGap "schedule-gap" [Warning] "The query period is shorter than the query frequency: some events are never looked at.";
    DuplicateId "duplicate-id" [Warning, Error] "Rules of one run share an id and would replace each other when deployed (in `check`, an error for a Sigma rule).";
    DuplicateTitle "duplicate-title" [Warning] "Sigma rules of one `check` run share a title.";
    UnknownTag "unknown-tag" [Warning] "A Sigma tag outside the Sigma tag specification, or an ATT&CK tactic or id that the ATT&CK release in `targets/attack.json` lacks.";
    DuplicateTag "duplicate-tag" [Warning] "A Sigma rule lists the same tag twice.";
    UnlistedField "unlisted-field" [Warning] "A Sigma rule tests a field that SigmaHQ's field list (`targets/sigmahq-fields.json`) lacks for its logsource.";
    // Converting: errors
    SigmaUnsupportedTarget "sigma-unsupported-target" [Error] "The target does not yet convert Sigma input.";
    UnknownProfile "unknown-profile" [Error] "The `--profile` is neither a built-in profile nor a readable, well-formed profile file.";
    UnknownSource "unknown-source" [Error, Loss] "A table or logsource has no counterpart in the target's profile.";
    NoDetection "no-detection" [Error, Loss] "No condition of the rule, or of one of its event sources, can be written in the target.";
    Broader "broader" [Error, Loss] "The output keeps no discriminating condition, or loses a defining threshold or join (`--allow-broader` writes it).";
    OutputFailed "output-failed" [Error] "The output could not be produced (a template failed, or written KQL does not parse).";
    WriteFailed "write-failed" [Error] "The output file could not be written.";
    // Converting: losses
    Unmodelled "unmodelled" [Loss] "A construct of the query that ruleconv does not model is not translated.";
    ComputedColumn "computed-column" [Loss] "A column the query computes is used where the target reads event fields only.";
    UnknownField "unknown-field" [Loss] "A field has no counterpart in the target's schema or profile.";
    TypeMismatch "type-mismatch" [Loss] "A value is compared in a type or format the target's field does not store.";
    ConditionDropped "condition-dropped" [Loss, Error] "A test the target cannot express is left out (or, when it is the rule's only test, fails it).";
    Reshaped "reshaped" [Loss] "A test moved to a field of another shape (a file name to a path, an account name to domain and name) matches slightly more or less.";
    TermMatch "term-match" [Loss] "A whole-term match (`has`) is written as a substring match.";
    NullSemantics "null-semantics" [Loss] "Absent, empty or malformed values match differently in the target.";
    BoolAsNumber "bool-as-number" [Loss] "A comparison with 0 or 1 that KQL also applies to bool columns.";
    DynamicPath "dynamic-path" [Loss] "A test inside a dynamic column is found only when events carry it as an object.";
    CorrelationUnsupported "correlation-unsupported" [Loss, Error] "A join, aggregation, threshold or union has no form in the target.";
    WindowChanged "window-changed" [Loss] "A time window or bin is written differently (rounded, capped, binned).";
    EntityColumn "entity-column" [Loss, Change] "An entity mapping reads a column the written rule lacks or names otherwise.";
    Untagged "untagged" [Loss] "An ATT&CK tactic, technique or tag the target's tools do not know is not tagged.";
    KeptAsData "kept-as-data" [Loss] "The target has no place for a setting; it is kept only as data (metadata, an attribute).";
    NotCarried "not-carried" [Loss] "Something the rule says is not carried into the output.";
    // Converting: changes
    Respelled "respelled" [Change] "A value is written in the target's spelling or nearest value (a tactic, a severity).";
    DerivedId "derived-id" [Change] "The rule's id is derived, as the target needs one of its own form.";
    DefaultAdded "default-added" [Change] "A setting the rule lacks is filled with a default (schedule, entities, required keys).";
    SetByOption "set-by-option" [Change] "A setting is replaced by `--set`.";
    CustomLogsource "custom-logsource" [Change] "The target has no logsource for a table; one of ruleconv's own names it, which tools know only through a pipeline of their own.";
    LookbackLeft "lookback-left" [Change] "A time look-back is left to the target's schedule or run window.";
}

impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_kebab_case_and_each_code_says_what_it_means() {
        let mut names: Vec<&str> = Code::ALL.iter().map(|c| c.name()).collect();
        assert!(names.iter().all(|n| n.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')), "{names:?}");
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Code::ALL.len());
        assert!(Code::ALL.iter().all(|c| !c.kinds().is_empty() && c.about().ends_with('.')));
    }

    #[test]
    fn the_readme_table_lists_exactly_these_codes() {
        let readme = include_str!("../../README.md");
        let section = readme.split("\n### Problem codes\n").nth(1).expect("README has a Problem codes section");
        let section = section.split("\n#").next().unwrap_or_default();
        let rows: Vec<&str> = section.lines().filter(|l| l.starts_with("| `")).collect();
        let expected: Vec<String> = Code::ALL
            .iter()
            .map(|c| {
                let kinds: Vec<&str> = c.kinds().iter().map(|k| k.name()).collect();
                format!("| `{}` | {} | {} |", c.name(), kinds.join(", "), c.about())
            })
            .collect();
        assert_eq!(rows, expected, "the README's Problem codes table and `Code` differ");
    }
}
