//! Emitters: a rule and what it detects → text of one target format, plus the problems a
//! reviewer should know of (losses and changes), each at the construct it is about.
//!
//! Every target is one module implementing `Emitter` and one entry in `REGISTRY`; the CLI,
//! the convert job and the golden tests find targets only through the registry.
//!
//! - `sentinel_arm`: deployable ARM templates in the Sentinel portal's export form,
//! - `sentinel_yaml`: the Azure-Sentinel repository's YAML form,
//!
//! both built as data from the encoders in `sentinel_fields` and serialized, so the output is
//! valid by construction and the same rules always give the same bytes;
//!
//! - `sigma`: Sigma rules and correlation rules, logsources and field names from `targets/sigma.yaml`;
//! - `chronicle`: Google SecOps YARA-L 2.0 text, written by escaping functions;
//! - `kql`: the query alone; Sigma rules through the table and column profiles of `targets/kql.yaml`;
//! - `markdown`: a rule card for people, laid out by a handlebars template.

mod addon_fields;
mod broader;
mod chronicle;
mod fidelity;
mod kql;
pub(crate) mod markdown;
pub(crate) mod profile_file;
mod sentinel_arm;
mod sentinel_fields;
mod sentinel_yaml;
mod settings;
mod sigma;

pub use fidelity::{
    Evidence, Verdict, computed_column_losses, conversion_problems, header_lines, loss_at, loss_text, refused_regex_errors,
    unmodelled_losses, unplaced_page_notes,
};
pub use settings::Settings;

use crate::diag::{Code, Kind, Problem};
use crate::ir::{Detection, Rule};
use std::fmt;

/// What an emitter is given for one rule: its metadata, what its logic detects, and the
/// problems found while reading it (its output's header lists their losses too).
#[derive(Clone, Copy, Debug)]
pub struct Subject<'a> {
    pub rule: &'a Rule,
    pub detection: &'a Detection,
    pub read: &'a [Problem],
}

impl<'a> Subject<'a> {
    /// A rule with no problems from reading it (one made in code, or read by the caller).
    pub fn new(rule: &'a Rule, detection: &'a Detection) -> Subject<'a> {
        Subject { rule, detection, read: &[] }
    }
}

/// One output format.
pub trait Emitter: Sync {
    /// The name users pass to `--to`.
    fn name(&self) -> &'static str;
    /// File extension of the output files, without the dot.
    fn extension(&self) -> &'static str;
    /// One line for `--help`.
    fn about(&self) -> &'static str;
    /// The `EmitOptions` this target reads, by their flag names; the CLI refuses the others.
    fn options(&self) -> &'static [&'static str] {
        &[]
    }
    /// Whether it reads `Subject::detection`; the Sentinel targets carry the query as written,
    /// so the convert job skips lowering for them.
    fn reads_detection(&self) -> bool {
        true
    }
    /// Whether it handles a Detection lowered from Sigma (a logsource and no tables). Targets
    /// that map tables refuse such rules with a clear error rather than guess.
    fn reads_sigma(&self) -> bool {
        false
    }
    /// The shortest and longest file name (extension included) the target's tools accept, if
    /// they check one.
    fn file_name_length(&self) -> Option<(usize, usize)> {
        None
    }
    /// Rules → one document of the format. It is called with one rule per output file, and
    /// with every rule for stdout, so it decides how several rules combine (one ARM template,
    /// YAML documents separated by `---` ...). Fails with every error of every rule it cannot
    /// express.
    fn emit(&self, subjects: &[Subject], options: &EmitOptions) -> Result<Emitted, Vec<Problem>>;
}

/// A registered target; cheap to copy and compare.
#[derive(Clone, Copy)]
pub struct Target(&'static dyn Emitter);

/// Every target, in the order `--help` lists them.
pub static REGISTRY: &[Target] = &[
    Target(&sentinel_arm::SentinelArm),
    Target(&sentinel_yaml::SentinelYaml),
    Target(&kql::Kql),
    Target(&sigma::Sigma),
    Target(&chronicle::Chronicle),
    Target(&markdown::Markdown),
];

impl Target {
    pub fn all() -> &'static [Target] {
        REGISTRY
    }

    pub fn from_name(name: &str) -> Option<Target> {
        REGISTRY.iter().copied().find(|t| t.name() == name)
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }

    pub fn extension(self) -> &'static str {
        self.0.extension()
    }

    pub fn about(self) -> &'static str {
        self.0.about()
    }

    pub fn file_name_length(self) -> Option<(usize, usize)> {
        self.0.file_name_length()
    }

    pub fn options(self) -> &'static [&'static str] {
        self.0.options()
    }

    /// Whether it reads this rule's Detection (see `Emitter::reads_detection`): a Sigma rule has
    /// no query to carry as written, so a target that reads Sigma always does.
    pub fn reads_detection_of(self, rule: &Rule) -> bool {
        self.0.reads_detection() || (self.0.reads_sigma() && rule.sigma_logic().is_some())
    }
}

impl PartialEq for Target {
    fn eq(&self, other: &Target) -> bool {
        self.name() == other.name()
    }
}

impl Eq for Target {}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Target({})", self.name())
    }
}

#[derive(Clone, Debug, Default)]
pub struct EmitOptions {
    /// ARM apiVersion for alert rules, overriding the rule's own and the default (`--api-version`).
    pub api_version: Option<String>,
    /// The `targets/kql.yaml` profile that maps Sigma logsources and fields (`--profile`).
    pub profile: Option<String>,
    /// Schedule and trigger of the Sentinel rules written (`--set KEY=VALUE`).
    pub settings: Settings,
    /// Write a translation that keeps none of its rule's discriminating conditions, or loses
    /// its defining threshold or join, as approximate instead of refusing it (`--allow-broader`).
    pub allow_broader: bool,
}

/// The built-in `--profile`s of the KQL and Sentinel targets: name, what each maps, and the
/// pySigma pipeline name each also answers to.
pub fn builtin_profiles() -> Vec<(&'static str, &'static str, Option<&'static str>)> {
    kql::builtin_profiles()
}

impl EmitOptions {
    /// Reads the `--profile` (a built-in name or a profile file) the KQL and Sentinel targets
    /// will use; `Err` says why it cannot be used, at the file's line and column for a file.
    pub fn check_profile(&self) -> Result<(), String> {
        self.profile.as_deref().map_or(Ok(()), kql::profile_named)
    }

    /// The flag names of the options that are set, to check them against a target's `options`.
    pub fn set_flags(&self) -> Vec<&'static str> {
        let flags =
            [(self.api_version.is_some(), "--api-version"), (self.profile.is_some(), "--profile"), (!self.settings.is_empty(), "--set")];
        flags.into_iter().filter_map(|(set, flag)| set.then_some(flag)).collect()
    }
}

/// The output text, the problems (losses, changes, warnings) a reviewer should see, and how
/// the emitter knows the output means what its verdict says.
#[derive(Clone, Debug, Default)]
pub struct Emitted {
    pub text: String,
    pub problems: Vec<Problem>,
    /// What the emitter checked its output against; `unverified` unless it says otherwise.
    pub evidence: Evidence,
}

/// Converts rules to one document of the target format.
pub fn emit(target: Target, subjects: &[Subject], options: &EmitOptions) -> Result<Emitted, Vec<Problem>> {
    let refused: Vec<Problem> = subjects
        .iter()
        .filter(|s| s.rule.sigma_logic().is_some() && !target.0.reads_sigma())
        .map(|s| {
            Problem::at_key(
                Kind::Error,
                Code::SigmaUnsupportedTarget,
                s.rule,
                "logsource",
                format!("converting to {} is not yet supported for Sigma input", target.name()),
            )
        })
        .collect();
    if !refused.is_empty() {
        return Err(refused);
    }
    target.0.emit(subjects, options)
}

/// Several rules as documents of a text format, each emitted on its own and joined by
/// `separator`: the way most formats combine rules on stdout.
pub fn join_documents(
    subjects: &[Subject],
    separator: &str,
    mut one: impl FnMut(&Subject) -> Result<Emitted, Vec<Problem>>,
) -> Result<Emitted, Vec<Problem>> {
    let mut texts = Vec::new();
    let mut problems = Vec::new();
    let mut errors = Vec::new();
    let mut evidence = Vec::new();
    for subject in subjects {
        match one(subject) {
            Ok(emitted) => {
                texts.push(emitted.text);
                problems.extend(emitted.problems);
                evidence.push(emitted.evidence);
            }
            Err(e) => errors.extend(e),
        }
    }
    // The document is as proven as its least proven rule.
    let evidence = evidence.into_iter().min().unwrap_or_default();
    if errors.is_empty() { Ok(Emitted { text: texts.join(separator), problems, evidence }) } else { Err(errors) }
}
