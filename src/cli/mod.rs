//! The `ruleconv` command line: argument definitions and dispatch to one module per command.

/// `eprintln!` that never panics: a message that stderr cannot take (`2>/dev/full`) is lost,
/// there being nowhere else to say it, and the run goes on to its exit code.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod check_cmd;
mod convert_cmd;
mod diff_cmd;
mod explain_cmd;
mod git_tree;
mod junit;
mod list_cmd;
mod manifest;
mod output_file;
mod output_lock;
mod problem_summary;
mod progress;
mod report_cmd;
mod sarif;
mod stdout;
mod suggest;
mod sync_cmd;
mod test_cmd;

use crate::emit::Target;
use crate::ir::SourceFormat;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, CommandFactory, Parser, Subcommand};
use std::path::PathBuf;

/// Exit codes: the same for every command.
pub const EXIT_OK: i32 = 0;
/// Some rules failed (the others were still written), or `diff` found differences.
pub const EXIT_PROBLEMS: i32 = 1;
/// The command line itself was wrong.
pub const EXIT_USAGE: i32 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "ruleconv",
    version,
    about = "Convert SIEM detection rules between formats, and say what could not be translated.",
    long_about = "Convert SIEM detection rules between formats, and say what could not be translated.\n\n\
        Reads Microsoft Sentinel analytic rules and hunting queries (repository YAML), Sentinel ARM \
        templates (portal exports, Content Hub packages), markdown rule documents (YAML front \
        matter), markdown rule catalogs, rule pages copied from catalog sites, and Sigma rules \
        (with correlation and filter rules). The input format is detected from each file's \
        content; --from overrides it. `ruleconv list targets|formats|profiles|codes` says what is \
        known; exit codes: 0 all converted, 1 some rules failed, 2 usage or setup error.",
    after_help = "Examples:\n  \
        ruleconv --to sentinel rule.yaml                       ARM template on stdout\n  \
        ruleconv convert rules/ --to sentinel -o out/          one file per rule, folders mirrored\n  \
        ruleconv convert pack.json --to sentinel-yaml -o yaml/ ARM pack back to reviewable YAML\n  \
        ruleconv convert rules/ --to sigma,chronicle -o out/   out/sigma/ and out/chronicle/, rules read once\n  \
        ruleconv check rules/ --format sarif > check.sarif     problems for code scanning (--junit FILE for CI)\n  \
        ruleconv diff golden/ out/                             review what a new conversion changed (--stat: summary)\n  \
        ruleconv explain rule.yaml                             what a rule detects, in plain words\n  \
        ruleconv test rule.yaml --events events.jsonl          rows the rule returns on these events\n  \
        ruleconv --to kql -p microsoft_xdr sigma/rules/         Sigma to Defender XDR KQL (sigma-cli's pipeline names work)\n  \
        ruleconv completions bash > ~/.local/share/bash-completion/completions/ruleconv",
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// The short form `ruleconv --to TARGET INPUT...` is `convert`.
    #[command(flatten)]
    convert: ConvertArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Convert rules to a target format.
    Convert(ConvertArgs),
    /// Bring a committed output folder up to date: write changed outputs, add new ones, remove
    /// those whose rule is gone (only files ruleconv wrote, listed in DIR/.ruleconv-manifest.json).
    /// With --check, change nothing and exit 1 if anything would change (for CI).
    #[command(after_help = "Example: `ruleconv sync rules/ --to sentinel -o deploy/`, then in CI \
        `ruleconv sync rules/ --to sentinel -o deploy/ --check` fails when deploy/ is stale. Files in DIR that \
        ruleconv did not write are never replaced (unless --force) or removed.")]
    Sync(SyncArgs),
    /// Parse every rule and its KQL; report each problem as file:line:col. Exit 1 on any error.
    #[command(after_help = "Run it in CI over a rule repository: `ruleconv check rules/` (or `--format json` for tools, \
        `--format sarif > check.sarif` for code scanning, `--junit check.xml` for test reports). Rules of the run \
        that share an id are warned about, naming each other.")]
    Check(CheckArgs),
    /// Say what each rule detects: sources, conditions, thresholds, joins, outputs, and what was
    /// not modelled (file:line:col). Exit 1 if a rule cannot be read.
    #[command(after_help = "Example: `ruleconv explain rules/brute_force.yaml`, or `--format json` for one record per rule.")]
    Explain(ExplainArgs),
    /// Show how two outputs differ (files or folders); exit 1 when they do. Folders are
    /// summarized first (files changed, added, removed, with counts), then diffed file by file.
    #[command(after_help = "Typical use: convert again into a fresh folder, then `ruleconv diff golden/ out/` and review \
        (`--stat` for the summary alone).")]
    Diff(DiffArgs),
    /// Run rules over events (JSON Lines) and print the rows each returns. Exit 1 if any rule is unsupported.
    #[command(after_help = "Example:\n  \
        ruleconv test rules/spray.yaml --events events.jsonl --now 2024-05-01T12:00:00Z\n\n\
        Each line of the events file is one JSON object named by the table's columns; a `Type` field \
        names the table when a rule reads several (an event without one belongs to every table). \
        A rule whose query has a part the evaluator cannot run faithfully is reported as unsupported, \
        with the reason; output columns computed by expressions are listed as not evaluated.")]
    Test(TestArgs),
    /// A pack report: ATT&CK coverage, data sources, fidelity per target, indicator reuse.
    #[command(after_help = "Without -o the markdown report goes to stdout; with -o DIR it is written as DIR/report.md, \
        with DIR/report.json (every count), DIR/attack-layer.json (an ATT&CK Navigator layer) and DIR/coverage.svg \
        (the heatmap the markdown shows).")]
    Report(ReportArgs),
    /// List what ruleconv knows: targets, input formats, built-in profiles or problem codes
    /// (tab-separated: name, then what it is).
    List {
        #[arg(value_enum)]
        what: list_cmd::Listing,
    },
    /// Print a completion script for a shell, e.g. `ruleconv completions bash >
    /// ~/.local/share/bash-completion/completions/ruleconv` or `ruleconv completions zsh >
    /// ~/.zfunc/_ruleconv`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `ruleconv man > ~/.local/share/man/man1/ruleconv.1`.
    Man,
}

#[derive(Args, Debug)]
pub struct ConvertArgs {
    /// Rule files, folders (searched recursively for .yaml .yml .json .md), or `-` for stdin.
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<PathBuf>,
    /// Output format; several, comma-separated, write OUT/<target>/ each (needs -o).
    #[arg(long, short = 't', required = true, value_name = "TARGET", long_help = targets_help(), value_delimiter = ',',
          value_parser = PossibleValuesParser::new(Target::all().iter().map(|t| t.name())).map(|s| Target::from_name(&s).expect("listed")))]
    to: Vec<Target>,
    /// Write one file per rule under DIR (created if needed) instead of stdout.
    #[arg(long, short = 'o', value_name = "DIR")]
    output: Option<PathBuf>,
    /// Read every input as this format instead of detecting it from the content.
    #[arg(long, value_name = "FORMAT",
          value_parser = PossibleValuesParser::new(SourceFormat::ALL.map(SourceFormat::name)).map(|s| SourceFormat::from_name(&s).expect("listed")))]
    from: Option<SourceFormat>,
    /// Replace existing output files whose content differs (inputs are never replaced).
    #[arg(long)]
    force: bool,
    /// Write a JSON report: one record per rule (source, id, title, status, problems) and a summary.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// ARM apiVersion for alert rules (default: the first preview API with NRT rules and sub-techniques).
    #[arg(long, value_name = "VERSION")]
    api_version: Option<String>,
    /// For --to kql, sentinel and sentinel-yaml with Sigma input: the profile mapping Sigma
    /// logsources to tables and fields to columns: a built-in one (sentinel, the default; asim;
    /// azure-monitor; or sigma-cli's pipeline names microsoft_xdr, sentinel_asim, azure_monitor)
    /// or a profile file of your own tables (see the README's "Profiles").
    #[arg(long, short = 'p', value_name = "NAME|FILE")]
    profile: Option<String>,
    /// For --to sentinel and sentinel-yaml: set queryFrequency, queryPeriod, triggerOperator or
    /// triggerThreshold of every rule written (repeatable), e.g. `--set queryFrequency=1h`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Write a translation that keeps none of its rule's discriminating conditions (only a
    /// table, event type or logsource), or loses the threshold or join that defines it, as
    /// approximate with a `broader` loss; by default it is refused (unsupported).
    #[arg(long)]
    allow_broader: bool,
    /// Also print every problem's line (`file:line:col: kind: message`) of these kinds:
    /// errors, losses, warnings, changes or all (comma-separated or repeated), before the
    /// summary and in its order: kind by kind, code by code, each code's lines in input order.
    #[arg(long, value_enum, value_name = "KIND", value_delimiter = ',')]
    show: Vec<problem_summary::Show>,
    #[command(flatten)]
    batch: BatchArgs,
}

#[derive(Args, Debug)]
struct SyncArgs {
    #[command(flatten)]
    convert: ConvertArgs,
    /// Change nothing; print what would change and exit 1 if anything would.
    #[arg(long)]
    check: bool,
}

/// What every batch over many rules takes (`convert`, `check`).
#[derive(Args, Debug)]
struct BatchArgs {
    /// Worker threads (default: RAYON_NUM_THREADS, else one per core); the output is the same
    /// byte for byte whatever the count.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,
    /// Less on stderr, and no progress bar. `convert` and `sync`: the summary's counts only (a
    /// line per problem code and the totals; no examples, no skipped files). `check`: only
    /// the errors, and no summary.
    #[arg(long, short = 'q')]
    quiet: bool,
    /// Also write FILE as JUnit XML: one test case per rule (and target), failed rules as
    /// failures, so CI systems list them.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
}

impl BatchArgs {
    /// Sizes the thread pool every parallel step of the run uses; only the first call counts.
    fn use_threads(&self) {
        if let Some(threads) = self.threads {
            let _ = rayon::ThreadPoolBuilder::new().num_threads(usize::from(threads)).build_global();
        }
    }
}

#[derive(Args, Debug)]
struct CheckArgs {
    /// Rule files or folders (searched recursively), or `-` for stdin.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Output format: text (one `file:line:col: message` per problem), json (one record per
    /// rule) or sarif (SARIF 2.1.0 for code-scanning tools).
    #[arg(long, default_value = "text", value_parser = ["text", "json", "sarif"])]
    format: String,
    /// Read every input as this format instead of detecting it from the content.
    #[arg(long, value_name = "FORMAT",
          value_parser = PossibleValuesParser::new(SourceFormat::ALL.map(SourceFormat::name)).map(|s| SourceFormat::from_name(&s).expect("listed")))]
    from: Option<SourceFormat>,
    #[command(flatten)]
    batch: BatchArgs,
}

#[derive(Args, Debug)]
struct ExplainArgs {
    /// Rule files or folders (searched recursively), or `-` for stdin.
    #[arg(required = true, value_name = "RULE")]
    rules: Vec<PathBuf>,
    /// Output format: text (for a person) or json (one record per rule).
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    format: String,
    /// Read every input as this format instead of detecting it from the content.
    #[arg(long, value_name = "FORMAT",
          value_parser = PossibleValuesParser::new(SourceFormat::ALL.map(SourceFormat::name)).map(|s| SourceFormat::from_name(&s).expect("listed")))]
    from: Option<SourceFormat>,
}

#[derive(Args, Debug)]
struct DiffArgs {
    /// The reviewed output (a file or a folder); with --rules, the old source pack (a file, a
    /// folder, or `REV:PATH` at a git revision, e.g. `main:rules/`).
    expected: String,
    /// The new output to compare with it; with --rules, the new source pack.
    actual: String,
    /// Color the diff: auto (on a terminal), always or never.
    #[arg(long, default_value = "auto", value_parser = ["auto", "always", "never"])]
    color: String,
    /// Folders: print only the summary (files changed, added, removed), not the diffs.
    #[arg(long)]
    stat: bool,
    /// Review two versions of a source pack rule by rule: rules paired by id (else by place),
    /// each with the fields that changed and, per --to target, its verdict, the losses added
    /// or removed and the output diff. Exit 1 when a rule changed.
    #[arg(long)]
    rules: bool,
    /// With --rules: the targets whose translations are compared (comma-separated).
    #[arg(long, short = 't', requires = "rules", value_name = "TARGET", value_delimiter = ',',
          value_parser = PossibleValuesParser::new(Target::all().iter().map(|t| t.name())).map(|s| Target::from_name(&s).expect("listed")))]
    to: Vec<Target>,
    /// With --rules: text (a terminal) or markdown (a pull-request comment).
    #[arg(long, default_value = "text", value_parser = ["text", "markdown"])]
    format: String,
    /// With --rules: the profile for Sigma rules going to kql, sentinel or sentinel-yaml.
    #[arg(long, short = 'p', requires = "rules", value_name = "NAME|FILE")]
    profile: Option<String>,
    /// With --rules and --to: what exits 1: `changes` (the default: a rule added, removed or
    /// changed) or `losses` (only a translation that gains a loss or an error; an added rule's
    /// own count), so CI fails on new losses and lets other edits pass.
    #[arg(long, requires = "to", value_name = "WHAT", value_parser = ["changes", "losses"])]
    fail_on: Option<String>,
}

#[derive(Args, Debug)]
struct TestArgs {
    /// Rule files or folders (searched recursively), or `-` for stdin.
    #[arg(required = true, value_name = "RULE")]
    rules: Vec<PathBuf>,
    /// The events: one JSON object per line.
    #[arg(long, required = true, value_name = "FILE.jsonl")]
    events: PathBuf,
    /// What now() and ago() count from, RFC 3339 (default: the clock).
    #[arg(long, value_name = "TIME")]
    now: Option<String>,
    /// Output format: text (a heading per rule, one JSON row per line) or json (one record per rule).
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    format: String,
    /// Read every input as this format instead of detecting it from the content.
    #[arg(long, value_name = "FORMAT",
          value_parser = PossibleValuesParser::new(SourceFormat::ALL.map(SourceFormat::name)).map(|s| SourceFormat::from_name(&s).expect("listed")))]
    from: Option<SourceFormat>,
}

#[derive(Args, Debug)]
struct ReportArgs {
    /// Rule files or folders (searched recursively), or `-` for stdin.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Write report.md, report.json, attack-layer.json and coverage.svg under DIR.
    #[arg(long, short = 'o', value_name = "DIR")]
    output: Option<PathBuf>,
    /// Replace existing report files whose content differs (inputs are never replaced).
    #[arg(long)]
    force: bool,
    /// Read every input as this format instead of detecting it from the content.
    #[arg(long, value_name = "FORMAT",
          value_parser = PossibleValuesParser::new(SourceFormat::ALL.map(SourceFormat::name)).map(|s| SourceFormat::from_name(&s).expect("listed")))]
    from: Option<SourceFormat>,
}

/// `--to`'s long help: every registered target with what it writes.
fn targets_help() -> String {
    let lines: Vec<String> = Target::all().iter().map(|t| format!("  {:<14} {}", t.name(), t.about())).collect();
    format!(
        "Output format:\n{}\n\nSeveral targets, comma-separated (`--to sigma,chronicle,markdown -o out/`), are converted in \
         one run that reads and lowers each rule once, and write out/<target>/ each.",
        lines.join("\n")
    )
}

/// Runs the command line and returns the process exit code.
pub fn run() -> i32 {
    let first = std::env::args().nth(1).unwrap_or_default();
    let command = Cli::command();
    if let Some(message) = suggest::mistyped_subcommand(&first, command.get_subcommands().map(|c| c.get_name())) {
        say!("{message}");
        return EXIT_USAGE;
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
        }
    };
    if let Some(message) = missing_inputs(cli.named_inputs()) {
        say!("{message}");
        return EXIT_USAGE;
    }
    match cli.command {
        Some(Command::Convert(args)) => convert_cmd::run(args),
        Some(Command::Sync(args)) if args.convert.output.is_none() => {
            say!("ruleconv sync: -o DIR is required: the output folder to bring up to date");
            EXIT_USAGE
        }
        Some(Command::Sync(args)) => convert_cmd::run_with(args.convert, Some(args.check)),
        Some(Command::Check(args)) => check_cmd::run(&args),
        Some(Command::Explain(args)) => explain_cmd::run(&args.rules, args.from, args.format == "json"),
        Some(Command::Diff(args)) if args.rules => diff_cmd::run_rules(diff_cmd::RuleReviewArgs {
            old: &args.expected,
            new: &args.actual,
            to: &args.to,
            markdown: args.format == "markdown",
            profile: args.profile,
            fail_on_losses: args.fail_on.as_deref() == Some("losses"),
        }),
        Some(Command::Diff(args)) => diff_cmd::run(args.expected.as_ref(), args.actual.as_ref(), &args.color, args.stat),
        Some(Command::Test(args)) => test_cmd::run(test_cmd::TestArgs {
            rules: &args.rules,
            events: &args.events,
            now: args.now.as_deref(),
            from: args.from,
            json: args.format == "json",
        }),
        Some(Command::Report(args)) => report_cmd::run(&args.paths, args.output.as_deref(), args.force, args.from),
        Some(Command::List { what }) => list_cmd::run(what),
        Some(Command::Completions { shell }) => print_generated(|out| {
            clap_complete::generate(shell, &mut Cli::command(), "ruleconv", out);
            Ok(())
        }),
        Some(Command::Man) => print_generated(|out| clap_mangen::Man::new(Cli::command()).render(out)),
        None => convert_cmd::run(cli.convert),
    }
}

impl Cli {
    /// The rule files and folders the command reads.
    fn named_inputs(&self) -> &[PathBuf] {
        match &self.command {
            Some(Command::Convert(args)) => &args.inputs,
            Some(Command::Sync(args)) => &args.convert.inputs,
            Some(Command::Check(CheckArgs { paths, .. }) | Command::Report(ReportArgs { paths, .. })) => paths,
            Some(Command::Explain(ExplainArgs { rules, .. }) | Command::Test(TestArgs { rules, .. })) => rules,
            Some(Command::Diff(_) | Command::List { .. } | Command::Completions { .. } | Command::Man) => &[],
            None => &self.convert.inputs,
        }
    }
}

/// The named inputs that do not exist, as the one line of a setup error (exit 2, before any
/// work): a mistyped path is the command line's error, not a rule that failed.
fn missing_inputs(inputs: &[PathBuf]) -> Option<String> {
    let missing: Vec<String> = inputs
        .iter()
        .filter(|path| path.as_os_str() != crate::convert::STDIN)
        .filter(|path| matches!(std::fs::metadata(path), Err(e) if e.kind() == std::io::ErrorKind::NotFound))
        .map(|path| crate::diag::printable(&path.display().to_string()).into_owned())
        .collect();
    (!missing.is_empty()).then(|| format!("ruleconv: no such file or folder: {}", missing.join(", ")))
}

/// Writes what `generate` makes (a completion script, the man page) to stdout; a write error
/// is exit 1 with the reason.
fn print_generated(generate: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> i32 {
    let mut text = Vec::new();
    if let Err(e) = generate(&mut text) {
        say!("ruleconv: {e}");
        return EXIT_PROBLEMS;
    }
    let mut out = stdout::Stdout::lock();
    out.text(&String::from_utf8_lossy(&text));
    match out.finish() {
        Ok(()) => EXIT_OK,
        Err(message) => {
            say!("ruleconv: {message}");
            EXIT_PROBLEMS
        }
    }
}
