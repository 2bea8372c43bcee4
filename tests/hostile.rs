//! Hostile input: every file in `tests/hostile/` and a few huge generated ones are run through
//! `ruleconv check` and `ruleconv convert --to <each target> -o out` in a fresh folder. Each run
//! must end with exit code 0 or 1 (never a panic's 101 or a signal) within a time and a memory bound, write
//! nothing outside `out/` (the input stays as it was), and give the error (file:line:col and
//! message) or the output this file expects.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[path = "hostile_cases/blowups.rs"]
mod blowups;
#[path = "hostile_cases/detect.rs"]
mod detect;
#[path = "hostile_cases/meta.rs"]
mod meta;
#[path = "hostile_cases/roundtrip.rs"]
mod roundtrip;
#[path = "hostile_cases/values.rs"]
mod values;
#[path = "hostile_cases/writes.rs"]
mod writes;

const TARGETS: [&str; 6] = ["sentinel", "sentinel-yaml", "sigma", "chronicle", "markdown", "kql"];
/// Each run's bound; the slowest input (a 10 MB line) takes well under a second unloaded.
const TIME_BOUND: Duration = Duration::from_secs(5);
/// Each run's bound on its peak resident memory, in KiB (1 GiB).
const MEMORY_BOUND_KIB: i64 = 1 << 20;

/// What every run on an input must give.
enum Expect {
    /// Exit code 1 from `check` and every target, each printing this `line:col: error: message`
    /// start after the input's path.
    Error(&'static str),
    /// `check` and every target succeed; the `--to sigma` output holds this text.
    Converts(&'static str),
    /// A regex only a backtracking engine runs: `check` warns and the RE2 targets (KQL, the
    /// Sentinel forms, YARA-L) fail, each printing this `line:col: {kind}: message` start with
    /// its kind and its ending; Sigma and markdown succeed, the Sigma output holding this text.
    Re2Refuses(&'static str, &'static str),
    /// No regular expression at all: as `Re2Refuses`, but `check` gives an error.
    RegexInvalid(&'static str, &'static str),
}

/// What `check` (a warning, or an error for an `invalid` regex) and each RE2 target (an error)
/// add after a `Re2Refuses` or `RegexInvalid` message.
fn re2_verdict(what: &str, invalid: bool) -> Option<(i32, &'static str, &'static str)> {
    match what {
        "check" if invalid => Some((1, "error", "; no regex engine runs it")),
        "check" => Some((0, "warning", "; RE2 targets (KQL, YARA-L) will refuse it")),
        "kql" | "sentinel" | "sentinel-yaml" => Some((1, "error", ": Kusto's RE2 (`matches regex`) refuses it")),
        "chronicle" => Some((1, "error", ": YARA-L's RE2 (`re.regex`) refuses it")),
        _ => None,
    }
}

fn expectation(name: &str) -> Option<Expect> {
    use Expect::*;
    Some(match name {
        "arm_duplicate_key.json" => Error("13:9: error: invalid JSON: duplicate key `query`"),
        "arm_truncated.json" => Error("8:18: error: invalid JSON: while scanning a quoted scalar, found unexpected end of stream"),
        "markdown_front_matter_tabs.md" => Error("5:2: error: invalid YAML in the front matter: tabs disallowed"),
        "sentinel_alias_bomb_small.yaml" => Error("8:8: error: invalid YAML: aliases expand to too many nodes"),
        "sentinel_duplicate_query_key.yaml" => Error("7:1: error: invalid YAML: duplicate key `query`"),
        "sentinel_invalid_utf8.yaml" => Error("4:17: error: the file is not valid UTF-8: byte 0xC3 at offset 90"),
        "sentinel_nul_byte.yaml" => Error("2:16: error: the file holds a NUL byte"),
        "sentinel_tab_indentation.yaml" => Error("4:8: error: invalid YAML: a block scalar content cannot start with a tab"),
        "sentinel_kql_unterminated_string.yaml" => return None,
        "sentinel_mixed_line_endings.yaml" => return None,
        "sigma_condition_names_itself.yml" => {
            Error("9:30: error: rule 'Condition refers to itself': Sigma: the condition names `condition`, which is not a search")
        }
        "sigma_correlation_cycle.yml" => Error(
            "6:11: error: rule 'Correlation A': Sigma: the correlation refers back to itself through `corr_b`: correlations may not form a cycle",
        ),
        "sigma_correlation_self.yml" => {
            Error("17:11: error: rule 'Correlation on itself': Sigma: the correlation refers back to itself through `corr_self`")
        }
        "sigma_duplicate_selection.yml" => Error("9:5: error: YAML: duplicate key `selection`"),
        "sigma_missing_selection.yml" => Error("9:34: error: rule 'Missing selection': Sigma: the condition names `filter`"),
        "sigma_of_pattern_matches_nothing.yml" => {
            Error("9:34: error: rule 'Of pattern matching nothing': Sigma: this `of` covers no search")
        }
        "sigma_unbalanced_condition.yml" => Error("9:16: error: rule 'Unbalanced parentheses': Sigma: `(` is not closed"),
        "sentinel_utf8_bom.yaml" => Converts("title: UTF-8 BOM\n"),
        "sigma_flow_style.yml" => Converts("title: Flow style\n"),
        "sigma_quoted_keys.yml" => Converts("title: Quoted keys\n"),
        "sigma_single_quoted_keys.yml" => Converts("title: Single-quoted keys\n"),
        "sigma_fully_indented.yml" => Converts("title: Fully indented\n"),
        "sigma_space_before_colon.yml" => Converts("title: Space before colon\n"),
        "sigma_explicit_keys.yml" => Converts("title: Explicit keys\n"),
        "sentinel_json_mentions_resources.json" => Converts("title: Mentions resources\n"),
        "sentinel_utf16le_bom.yaml" | "sentinel_utf16be_bom.yaml" => Converts("title: UTF-16\n"),
        "sentinel_kql_regex_backtracking.yaml" => Converts("CommandLine|re: ^(a|aa)+$\n"),
        "sigma_catastrophic_regex.yml" => Converts("CommandLine|re: ^(a+)+$\n"),
        "sigma_backreference_regex.yml" => Re2Refuses(
            "8:9: {kind}: rule 'Backreference regex': the regex on `CommandLine` uses a backreference `\\1` at offset 6, so it runs only in backtracking engines",
            "CommandLine|re: (\\w+) \\1\n",
        ),
        "sigma_lookahead_regex.yml" => Re2Refuses(
            "8:9: {kind}: rule 'Lookahead regex': the regex on `CommandLine` uses a lookahead `(?!` at offset 3, so it runs only in backtracking engines",
            "CommandLine|re: cmd(?!\\.exe)\n",
        ),
        "sigma_invalid_regex.yml" => RegexInvalid(
            "8:9: {kind}: rule 'Invalid regex': the regex on `CommandLine` is not a valid regular expression (unclosed character class at offset 3)",
            "CommandLine|re: cmd[.exe\n",
        ),
        "sigma_escapes_in_title_and_field.yml" => Re2Refuses(
            "8:9: {kind}: rule 'Evil \\x1b[2J\\x1b]0;pwned\\x07 title \\u{202e}gnp.exe\\x9b end': the regex on `Command\\x1b]8;;http://x\\x1b\\Line\\u{202e}` uses a backreference `\\1` at offset 12, so it runs only in backtracking engines",
            "title: \"Evil \\u001B[2J\\u001B]0;pwned\\u0007 title",
        ),
        "sigma_yaml11_line_separator.yml" => Converts("    CommandLine|contains: \"powershell\\u2028# -enc\"\n"),
        "sigma_invalid_cidr.yml" => Error(
            "8:39: error: rule 'Invalid CIDR': Sigma: `10.0.0.0/33` is not a CIDR range (an IPv4 or IPv6 address, then `/` and a prefix length up to 32 or 128)",
        ),
        "sigma_re2_repeat_limit.yml" => Re2Refuses(
            "8:9: {kind}: rule 'Repetition over RE2 limit': the regex on `CommandLine` uses the repetition `{1001}` at offset 1, which RE2 refuses: it allows counts up to 1000",
            "CommandLine|re: a{1001}\n",
        ),
        "sigma_re2_nested_repeat.yml" => Re2Refuses(
            "8:9: {kind}: rule 'Nested repetitions over RE2 limit': the regex on `CommandLine` uses the repetition `{100}` at offset 2, which RE2 refuses: nested repetitions may multiply to 1000 at most",
            "CommandLine|re: (a{100}){100}\n",
        ),
        "sigma_re2_verbose_flag.yml" => Re2Refuses(
            "8:9: {kind}: rule 'Verbose flag': the regex on `CommandLine` uses the flag `x` at offset 2, which RE2 refuses: its flags are i, m, s and U",
            "CommandLine|re: '(?x) a # c'\n",
        ),
        "sigma_re2_repeated_repetition.yml" => RegexInvalid(
            "8:9: {kind}: rule 'Repeated repetition': the regex on `CommandLine` is not a valid regular expression (bad repetition operator `**`: a repetition cannot repeat a repetition at offset 1)",
            "CommandLine|re: a**\n",
        ),
        "sentinel_scheduled_without_kind.yaml" => Converts("title: Scheduled without kind\n"),
        "sentinel_case_variant_keys.yaml" => {
            Error("12:1: error: rule 'Case-variant keys': `Query` is `query` again in another case; Sentinel reads keys case-insensitively")
        }
        "sigma_list_title.yml" => Error("2:3: error: `title` must be text, found a list"),
        "sigma_metadata_shapes.yml" => Error("2:5: error: rule 'Metadata of the wrong shapes': `id` must be text, found a list"),
        "sigma_id_not_uuid.yml" => Converts("title: Id not a UUID\n"),
        "sigma_unknown_yaml_tag.yml" => Error(
            "9:14: error: YAML: unsupported YAML tag `!custom`: rules use only the core schema's !!str, !!int, !!float, !!bool, !!null, !!seq, !!map",
        ),
        "sigma_yaml_tags_and_anchors.yml" => Converts("    EventID: 4688\n    Level: 4688\n"),
        "page_content_hub_metadata.md" => Converts("title: Rare process on a domain controller\n"),
        "arm_quoted_description.json" => Converts("title: Quoted description\n"),
        "sentinel_wrapped_description.yaml" => Converts("title: Wrapped description\n"),
        "sigma_string_of_digits.yml" => Converts("    EventID: '4688'\n"),
        "arm_expression_and_bracket_names.json" => Converts("title: '[variables(''ruleName'')]'\n"),
        _ => return None,
    })
}

/// What one run did.
struct Run {
    code: i32,
    /// Standard output then standard error (`check` prints its problems on the first).
    printed: String,
    /// The `--to sigma` output files' text, joined.
    output: String,
}

/// Runs `args` (with `{input}` and `{out}` placeholders) on a copy of `input` in a fresh folder
/// and checks what `measured` checks and that nothing but `out/` changed.
fn run(input: &Path, args: &[&str]) -> Run {
    let bytes = std::fs::read(input).unwrap();
    let name = input.file_name().unwrap().to_str().unwrap();
    let root = fresh_dir(name);
    std::fs::create_dir_all(root.join("in")).unwrap();
    std::fs::create_dir_all(root.join("tmp")).unwrap();
    let copy = root.join("in").join(name);
    std::fs::write(&copy, &bytes).unwrap();
    let args: Vec<String> = args.iter().map(|a| a.replace("{input}", &format!("in/{name}")).replace("{out}", "out")).collect();
    let (code, printed) = measured(
        Command::new(env!("CARGO_BIN_EXE_ruleconv")).args(&args).current_dir(&root).env("TMPDIR", root.join("tmp")),
        &format!("{name} {args:?}"),
    );
    assert_eq!(std::fs::read(&copy).unwrap(), bytes, "{name} {args:?}: the input changed");
    let mut top: Vec<String> = std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    top.sort();
    top.retain(|f| f != "out");
    assert_eq!(top, ["in", "tmp"], "{name} {args:?}: wrote outside the output folder");
    assert_eq!(entries(&root.join("in")), [name], "{name} {args:?}: wrote beside the input");
    assert!(entries(&root.join("tmp")).is_empty(), "{name} {args:?}: left temporary files");
    let output = files_under(&root.join("out")).iter().map(|f| std::fs::read_to_string(f).unwrap_or_default()).collect();
    std::fs::remove_dir_all(&root).unwrap();
    Run { code, printed, output }
}

/// Runs `command` to its end and checks its exit code (0 or 1, never a panic or a signal), its
/// time, its peak memory and that what it printed is escaped; gives the code and what it printed
/// (standard output, then standard error).
fn measured(command: &mut Command, what: &str) -> (i32, String) {
    let finished = finish(with_every_line(command));
    let printed = format!("{}{}", String::from_utf8_lossy(&finished.stdout), String::from_utf8_lossy(&finished.stderr));
    let code = finished.status.code().unwrap_or_else(|| panic!("{what}: killed by a signal ({:?})\n{printed}", finished.status));
    assert!(code == 0 || code == 1, "{what}: exit code {code}\n{printed}");
    assert!(finished.took < TIME_BOUND, "{what}: took {:?}", finished.took);
    assert!(finished.peak_kib < MEMORY_BOUND_KIB, "{what}: peak memory {} MiB", finished.peak_kib >> 10);
    assert_printable(what, &printed);
    (code, printed)
}

/// A conversion (`convert`, `sync`, the short form `--to`) asked for every problem's line
/// (`--show all`): hostile inputs are judged by the lines their rules get.
fn with_every_line(command: &mut Command) -> &mut Command {
    let first = command.get_args().next().map(|a| a.to_string_lossy().into_owned()).unwrap_or_default();
    if ["convert", "sync"].contains(&first.as_str()) || first.starts_with('-') {
        command.args(["--show", "all"]);
    }
    command
}

/// A child that ended, with its wall time and its own peak resident memory.
struct Finished {
    status: std::process::ExitStatus,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    took: Duration,
    peak_kib: i64,
}

/// Runs `command`, reaping it with `wait4`, whose `ru_maxrss` is that one child's peak resident
/// set in KiB (Linux `getrusage(2)`); `getrusage(RUSAGE_CHILDREN)` would mix in every other
/// child this test process (running tests in parallel) ever waited for. Limits far above the
/// bounds (4 GiB of address space, 60 s of CPU) stop a runaway child before it takes the machine
/// down; it then fails as killed by a signal.
fn finish(command: &mut Command) -> Finished {
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    fn limit(resource: libc::__rlimit_resource_t, value: libc::rlim_t) -> std::io::Result<()> {
        let limit = libc::rlimit { rlim_cur: value, rlim_max: value };
        // SAFETY: setrlimit only reads `limit`, and is async-signal-safe (allowed after fork).
        if unsafe { libc::setrlimit(resource, &limit) } == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
    }
    // SAFETY: the closure only calls setrlimit, which is async-signal-safe.
    unsafe {
        command.pre_exec(|| {
            limit(libc::RLIMIT_AS, 4 << 30)?;
            limit(libc::RLIMIT_CPU, 60)
        });
    }
    let started = Instant::now();
    #[expect(clippy::zombie_processes, reason = "reaped by `wait4` below, which gives its resource usage too")]
    let mut child = command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `child` is ours and not yet waited for; the pointers are valid for the call.
    while unsafe { libc::wait4(pid, &mut status, 0, &mut usage) } < 0 {
        assert_eq!(std::io::Error::last_os_error().kind(), std::io::ErrorKind::Interrupted, "wait4 failed");
    }
    let took = started.elapsed();
    Finished {
        status: std::process::ExitStatus::from_raw(status),
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
        took,
        peak_kib: usage.ru_maxrss,
    }
}

/// A thread reading all of a child's pipe, so the child never blocks on a full one.
fn drain<R: std::io::Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            pipe.read_to_end(&mut bytes).unwrap();
        }
        bytes
    })
}

/// What a command printed holds no control character but line breaks and tabs, and no
/// bidirectional override or isolate: rule text in it is shown escaped.
fn assert_printable(what: &str, printed: &str) {
    let raw = printed
        .chars()
        .find(|&c| (c.is_control() && c != '\n' && c != '\t') || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'));
    assert!(raw.is_none(), "{what}: printed a raw {raw:?}\n{}", printed.escape_debug());
}

fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let Ok(read) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files = Vec::new();
    for entry in read.map(|e| e.unwrap().path()) {
        if entry.is_dir() { files.extend(files_under(&entry)) } else { files.push(entry) }
    }
    files.sort();
    files
}

/// A fresh folder for a generated input, and the input's path in it.
fn scratch(file: &str) -> (PathBuf, PathBuf) {
    let dir = fresh_dir(file);
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join(file);
    (dir, input)
}

fn fresh_dir(name: &str) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let n = COUNT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("ruleconv-hostile-{}-{n}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// `check` and every target on `input`, each asserted as `expect` says (or only the exit code,
/// time and writes when it says nothing).
fn check_all(input: &Path, expect: Option<&Expect>) {
    let name = input.file_name().unwrap().to_str().unwrap();
    let mut runs = vec![("check", run(input, &["check", "{input}"]))];
    for target in TARGETS {
        runs.push((target, run(input, &["convert", "{input}", "--to", target, "-o", "{out}"])));
    }
    for (what, result) in &runs {
        match expect {
            Some(Expect::Error(message)) => {
                assert_eq!(result.code, 1, "{name} {what}: expected an error\n{}", result.printed);
                let wanted = format!("in/{name}:{message}");
                assert!(result.printed.contains(&wanted), "{name} {what}: expected `{wanted}` in\n{}", result.printed);
            }
            Some(Expect::Converts(text)) => assert_converts(name, what, result, text),
            Some(Expect::Re2Refuses(message, kept) | Expect::RegexInvalid(message, kept)) => {
                match re2_verdict(what, matches!(expect, Some(Expect::RegexInvalid(..)))) {
                    Some((code, kind, ending)) => {
                        assert_eq!(result.code, code, "{name} {what}: exit code\n{}", result.printed);
                        let wanted = format!("in/{name}:{}{ending}", message.replace("{kind}", kind));
                        assert!(result.printed.contains(&wanted), "{name} {what}: expected `{wanted}` in\n{}", result.printed);
                    }
                    None => assert_converts(name, what, result, kept),
                }
            }
            None => {}
        }
    }
}

/// The run succeeded and, for `--to sigma`, its output holds `text`.
fn assert_converts(name: &str, what: &str, result: &Run, text: &str) {
    assert_eq!(result.code, 0, "{name} {what}: expected success\n{}", result.printed);
    if what == "sigma" {
        assert!(result.output.contains(text), "{name}: expected `{text}` in\n{}", result.output);
    }
}

#[test]
fn every_hostile_file_gets_a_clear_error_or_a_correct_conversion() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile");
    let inputs = files_under(&dir);
    assert!(inputs.len() >= 20, "tests/hostile/ has only {} files", inputs.len());
    for input in inputs {
        let name = input.file_name().unwrap().to_str().unwrap();
        let expect = expectation(name);
        // Files of the `inject` suite carry their own expectations; ours must all have one.
        let ours = !name.starts_with("inject_") && !name.starts_with("output_");
        assert!(!ours || expect.is_some() || UNASSERTED.contains(&name), "{name}: no expectation in tests/hostile.rs");
        check_all(&input, expect.as_ref());
    }
}

/// Inputs whose outcome differs by target (a query that does not parse fails `--to kql` and
/// `--to sigma` but is a loss elsewhere); their lines are asserted in their own tests below.
const UNASSERTED: [&str; 6] = [
    "sentinel_kql_unterminated_string.yaml",
    "sentinel_mixed_line_endings.yaml",
    "sentinel_escapes_in_query.yaml",
    "sigma_control_character_value.yml",
    "sigma_control_character_regex.yml",
    "sentinel_kql_undocumented_escape.yaml",
];

/// A rule whose name, query value and query text hold terminal escapes, C1 controls and bidi
/// characters: the message and the quoted line show them escaped, the caret under the ESC.
#[test]
fn controls_in_rule_text_print_escaped_with_the_caret_in_place() {
    let input = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile/sentinel_escapes_in_query.yaml");
    let result = run(&input, &["check", "{input}"]);
    assert_eq!(result.code, 1, "{}", result.printed);
    let wanted = [
        r"in/sentinel_escapes_in_query.yaml:7:41: error: rule 'Bidi \u{2066}name\u{2069} \x85 \x1b[2J': KQL: unexpected character `\x1b`",
        r#"      | where CommandLine == "\u{202e}exe.txt" and \x1b[2J Account == 1"#,
    ]
    .join("\n");
    // Under the ESC (column 41 of the line, indented by 4), shifted by what the bidi
    // override's escape adds.
    let caret = format!("{}^\n", " ".repeat(4 + 40 + r"\u{202e}".len() - 1));
    assert!(result.printed.contains(&format!("{wanted}\n{caret}")), "{}", result.printed);
    for command in [&["explain", "{input}"][..], &["convert", "{input}", "--to", "markdown", "-o", "{out}"]] {
        let result = run(&input, command);
        assert!(result.printed.contains(r"Bidi \u{2066}name\u{2069} \x85 \x1b[2J"), "{command:?}\n{}", result.printed);
    }
}

#[test]
fn mixed_line_endings_keep_positions_right() {
    let input = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile/sentinel_mixed_line_endings.yaml");
    let result = run(&input, &["convert", "{input}", "--to", "kql", "-o", "{out}"]);
    // Line 2 ends in a lone `\r`, a line break in YAML: the query's error is on line 6.
    assert_eq!(result.code, 1, "{}", result.printed);
    assert!(result.printed.contains("in/sentinel_mixed_line_endings.yaml:6:24: error: rule 'Mixed endings'"), "{}", result.printed);
}

#[test]
fn an_unterminated_kql_string_is_named_where_it_starts() {
    let input = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile/sentinel_kql_unterminated_string.yaml");
    let result = run(&input, &["check", "{input}"]);
    assert_eq!(result.code, 1, "{}", result.printed);
    assert!(result.printed.contains("in/sentinel_kql_unterminated_string.yaml:6:27: error:"), "{}", result.printed);
    assert!(result.printed.contains("unterminated string"), "{}", result.printed);
}

/// Huge inputs, generated here rather than committed: each with the error it must give.
#[test]
fn huge_generated_inputs_hit_their_limits() {
    let n = 100_000;
    let mut alias_bomb = String::from("id: x\nname: bomb\na0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        alias_bomb.push_str(&format!("a{i}: &a{i} [{}]\n", vec![format!("*a{}", i - 1); 10].join(", ")));
    }
    alias_bomb.push_str("query: T\n");
    let sigma = |condition: &str, searches: &str| {
        format!("title: d\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n{searches}  condition: {condition}\n")
    };
    let many_searches: String = (0..2000).map(|i| format!("  sel{i}:\n    a: {i}\n")).collect();
    let cases: Vec<(&str, String, &str, &str)> = vec![
        ("alias_bomb.yaml", alias_bomb, "7:45: error: invalid YAML", "aliases expand to too many nodes"),
        (
            "deep_flow.yaml",
            format!("id: x\nname: deep\nquery: T\nx: {}{}\n", "[".repeat(n), "]".repeat(n)),
            "4:259: error: invalid YAML",
            "recursion limit exceeded",
        ),
        (
            "deep_block.yaml",
            format!("id: x\nname: deep\nquery: T\nx:\n{}", (1..2000).map(|i| format!("{}- \n", " ".repeat(i))).collect::<String>()),
            "261:258: error: invalid YAML",
            "YAML nested deeper than 256 levels",
        ),
        (
            "deep.json",
            format!("{{\"resources\": [{}{}]}}", "[".repeat(n), "]".repeat(n)),
            "1:269: error: invalid JSON",
            "recursion limit exceeded",
        ),
        (
            "deep_kql.yaml",
            format!("id: x\nname: deep\nquery: \"T | where {}a{}\"\n", "(".repeat(n), ")".repeat(n)),
            "3:82: error: rule 'deep'",
            "query is nested too deeply (more than 64 levels)",
        ),
        (
            "long_pipeline.yaml",
            format!("id: x\nname: long\nquery: \"T{}\"\n", " | take 1".repeat(n)),
            "3:9011: error: rule 'long'",
            "the pipeline is too long (more than 1000 `|` operators)",
        ),
        (
            "deep_condition.yml",
            sigma(&format!("{}sel{}", "(".repeat(n), ")".repeat(n)), "  sel:\n    a: 1\n"),
            "8:78: error: rule 'd'",
            "Sigma: the condition is nested too deeply (more than 64 parentheses and `not`s)",
        ),
        (
            "deep_not.yml",
            sigma(&"not ".repeat(n), "  sel:\n    a: 1\n"),
            "8:270: error: rule 'd'",
            "Sigma: the condition is nested too deeply",
        ),
        (
            "many_of.yml",
            sigma(&vec!["1 of sel*"; 100].join(" and "), &many_searches),
            "4006:3: error: rule 'd'",
            "Sigma: the condition expands to more than 1000 searches",
        ),
    ];
    let dir = fresh_dir("generated");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text, at, says) in cases {
        let input = dir.join(name);
        std::fs::write(&input, text).unwrap();
        // Only the KQL target parses the query itself; the others report it as a loss.
        let targets: &[&str] = if name.ends_with("kql.yaml") || name == "long_pipeline.yaml" { &["kql"] } else { &TARGETS };
        for result in targets
            .iter()
            .map(|t| run(&input, &["convert", "{input}", "--to", t, "-o", "{out}"]))
            .chain([run(&input, &["check", "{input}"])])
        {
            assert_eq!(result.code, 1, "{name}\n{}", result.printed);
            let wanted = format!("in/{name}:{at}");
            let shown: String = result.printed.chars().take(2000).collect();
            assert!(
                result.printed.contains(&wanted) && result.printed.contains(says),
                "{name}: expected `{wanted}` and `{says}` in\n{shown}"
            );
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_ten_megabyte_line_converts() {
    let (dir, input) = scratch("long_line.yaml");
    std::fs::write(&input, format!("id: x\nname: long\nquery: \"T | where a == '{}'\"\n", "x".repeat(10_000_000))).unwrap();
    for target in TARGETS {
        let result = run(&input, &["convert", "{input}", "--to", target, "-o", "{out}"]);
        assert_eq!(result.code, 0, "{target}\n{}", result.printed);
        assert!(result.output.len() > 10_000_000, "{target}: the value was cut");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_file_over_the_size_limit_is_refused_unread() {
    let (dir, input) = scratch("huge.yaml");
    // Sparse: no disk space is used for the zeros.
    std::fs::File::create(&input).unwrap().set_len(ruleconv::read::MAX_FILE_BYTES + 1).unwrap();
    let result = run(&input, &["check", "{input}"]);
    assert_eq!(result.code, 1, "{}", result.printed);
    assert!(result.printed.contains("in/huge.yaml:1:1: error: the file is larger than 64 MiB"), "{}", result.printed);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `test` and `diff` print rule titles, event values and output lines: escaped too.
#[test]
fn test_and_diff_print_rule_text_escaped() {
    let (dir, rule) = scratch("escapes.yaml");
    std::fs::write(&rule, "id: x\nname: \"T \\e]0;pwned\\a \\u202E\"\nquery: \"T | where A == 'a\\e[2J'\"\n").unwrap();
    let events = dir.join("events.jsonl");
    std::fs::write(&events, "{\"A\": \"a\\u001b[2J\", \"B\": \"\\u202e\\u0085\"}\n").unwrap();
    let ruleconv = |args: &[&str]| {
        let result = Command::new(env!("CARGO_BIN_EXE_ruleconv")).args(args).current_dir(&dir).output().unwrap();
        format!("{}{}", String::from_utf8_lossy(&result.stdout), String::from_utf8_lossy(&result.stderr))
    };
    let tested = ruleconv(&["test", "escapes.yaml", "--events", "events.jsonl"]);
    assert_printable("test", &tested);
    assert!(tested.contains(r"== escapes.yaml: T \x1b]0;pwned\x07 \u{202e}: 1 row(s)"), "{tested}");
    assert!(tested.contains(r#""B":"\u{202e}\x85""#), "{tested}");
    for side in ["a", "b"] {
        std::fs::create_dir_all(dir.join(side)).unwrap();
        std::fs::write(dir.join(side).join("r.kql"), format!("T\n| where A == '{side}\x1b[2J\u{202e}'\n")).unwrap();
    }
    let diffed = ruleconv(&["diff", "a", "b", "--color", "never"]);
    assert_printable("diff", &diffed);
    assert!(diffed.contains(r"+| where A == 'b\x1b[2J\u{202e}'"), "{diffed}");
    std::fs::remove_dir_all(&dir).unwrap();
}
