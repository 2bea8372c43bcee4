//! Rule text with every character that means something in an output language (quotes,
//! backslashes, newlines, `|`, backticks, fences, wildcards, `{{ }}`, HTML, YAML, JSON, KQL and
//! YARA-L syntax) comes out escaped: each output passes its validator, reads back to the same
//! text, and a markdown card keeps its table columns and shows no raw HTML from a rule.
//! Inputs: `tests/hostile/inject_*`.

#[path = "support/kql_corpus.rs"]
mod kql_corpus;
#[path = "support/run.rs"]
mod run;
#[path = "support/shared.rs"]
mod shared;
#[path = "support/without_spans.rs"]
mod without_spans;

use ruleconv::convert::emit_rules;
use ruleconv::emit::{EmitOptions, Target};
use ruleconv::ir::{Rule, SourceFormat};
use ruleconv::lower::lower_rule;
use ruleconv::read::read_text;
use run::{ruleconv, scratch, text};
use std::path::{Path, PathBuf};
use without_spans::without_spans;

const TARGETS: [&str; 6] = ["sigma", "sentinel", "sentinel-yaml", "chronicle", "markdown", "kql"];

fn inject_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/hostile")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("inject_")))
        .collect();
    files.sort();
    assert!(files.len() >= 4, "the injection inputs are missing");
    files
}

fn read(text: &str, name: &str, from: Option<SourceFormat>) -> Vec<Rule> {
    let out = read_text(text, Path::new(name), from);
    assert!(out.problems.iter().all(|p| !p.is_error()), "{name}: {:?}", out.problems);
    assert!(!out.rules.is_empty(), "{name}: no rule read");
    out.rules
}

/// Every injection rule, with the file it came from.
fn inject_rules() -> Vec<(String, Rule)> {
    inject_files()
        .iter()
        .flat_map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let rules = read(&std::fs::read_to_string(path).expect("readable"), &name, None);
            rules.into_iter().map(move |r| (name.clone(), r))
        })
        .collect()
}

fn emit(target: &str, rule: &Rule) -> String {
    let target = Target::from_name(target).expect("registered");
    emit_rules(target, &[rule], &EmitOptions::default()).unwrap_or_else(|e| panic!("{}: {e:?}", rule.title)).text
}

/// The first rule of `tests/hostile/<file>` converted to `target`.
fn emit_from(file: &str, target: &str) -> String {
    let rules = inject_rules();
    let (_, rule) = rules.iter().find(|(f, _)| f == file).unwrap_or_else(|| panic!("{file} is missing"));
    emit(target, rule)
}

/// Title, description and the tags a format carries are the input's, character for character.
fn assert_same_text(back: &Rule, rule: &Rule, what: &str) {
    assert_eq!(back.title, rule.title, "{what}: title");
    assert_eq!(back.description.as_deref().map(str::trim_end), rule.description.as_deref().map(str::trim_end), "{what}: description");
}

#[test]
fn sigma_output_reads_back_to_the_same_text_and_detection() {
    for (file, rule) in inject_rules() {
        let out = emit("sigma", &rule);
        let back = read(&out, "back.yml", Some(SourceFormat::Sigma));
        assert_same_text(&back[0], &rule, &format!("{file} --to sigma"));
        if rule.sigma_logic().is_some() {
            same_matches(&without_spans(&lower_rule(&back[0])), &without_spans(&lower_rule(&rule)), &format!("{file}\n{out}"));
        }
    }
}

#[test]
fn sentinel_outputs_read_back_to_the_same_text_and_query() {
    for (file, rule) in inject_rules() {
        let yaml = emit("sentinel-yaml", &rule);
        let arm = emit("sentinel", &rule);
        let from_yaml = read(&yaml, "back.yaml", Some(SourceFormat::SentinelYaml));
        let from_arm = read(&arm, "back.json", Some(SourceFormat::Arm));
        for (back, what) in [(&from_yaml[0], "sentinel-yaml"), (&from_arm[0], "sentinel")] {
            assert_same_text(back, &rule, &format!("{file} --to {what}"));
            let query = back.kql().map(|q| q.text.trim_end());
            match rule.kql() {
                Some(original) => assert_eq!(query, Some(original.text.trim_end()), "{file} --to {what}: query"),
                None => {
                    // The query without its `// ruleconv` header lines.
                    let kql = emit("kql", &rule);
                    let body = kql.lines().skip_while(|l| l.starts_with("//")).collect::<Vec<_>>().join("\n");
                    assert_eq!(query, Some(body.trim_end()), "{file}")
                }
            }
        }
        if rule.kql().is_some() {
            let tags = |r: &Rule| r.tags.iter().map(|t| t.value.clone()).collect::<Vec<_>>();
            assert_eq!(tags(&from_yaml[0]), tags(&rule), "{file} --to sentinel-yaml: tags");
        }
    }
}

/// The read-back Detection is the input's, except that a text with a literal `*` or `?` (Sigma's
/// tools flag escaped wildcards) or a control character is written as the regular expression of
/// that text: it must match the text in any case and not the text with those characters replaced.
fn same_matches(back: &serde_json::Value, original: &serde_json::Value, what: &str) {
    let tests = |d: &serde_json::Value| d["sources"][0]["filter"]["and"].as_array().cloned().expect("an `and` of matches");
    let (back_tests, original_tests) = (tests(back), tests(original));
    assert_eq!(back_tests.len(), original_tests.len(), "{what}");
    for (b, o) in back_tests.iter().zip(&original_tests) {
        if b == o {
            continue;
        }
        let (b, o) = (&b["match"], &o["match"]);
        assert_eq!((&b["field"], b["op"].as_str()), (&o["field"], Some("regex")), "{what}");
        let text = o["values"][0]["string"].as_str().expect("text value");
        let special = |c: char| matches!(c, '*' | '?') || c.is_control();
        assert!(text.contains(special), "{what}: only a literal wildcard or a control character turns into a regex");
        let regex = regex::Regex::new(b["values"][0]["string"].as_str().expect("pattern")).expect("a valid regex");
        assert!(regex.is_match(text) && regex.is_match(&text.to_uppercase()), "{what}: {regex} misses {text:?}");
        assert!(!regex.is_match(&text.replace(special, "X")), "{what}: {regex} reads {text:?} as a pattern");
    }
    assert_eq!(back["sources"][0]["logsource"], original["sources"][0]["logsource"], "{what}");
}

/// Sigma read from KQL: a wildcard or a quote meant literally stays literal.
#[test]
fn kql_values_become_literal_sigma_values() {
    let out = emit_from("inject_sentinel.yaml", "sigma");
    for line in [
        "    CommandLine|re: ^a\\*b\\?c$\n",
        "    Image|contains: x\"; drop table\n",
        "    ParentImage|cased: C:\\\\Windows\\\\$e.x /s/\n",
        "    Image|contains: '|`{{x}}`<script>'\n",
        "title: 'Quote \" back\\slash | pipe `tick` {{Computer}} <script>alert(1)</script> a: b #x'\n",
    ] {
        assert!(out.contains(line), "missing {line:?} in\n{out}");
    }
}

/// KQL from Sigma: every value is one string literal matching the same text; odd field names are quoted.
#[test]
fn sigma_values_become_kql_string_literals() {
    let out = emit_from("inject_sigma_fields.yml", "kql");
    let expected = r#"| where (["Field With Space"] =~ "a\nb" and ["Quo\"ted"] contains "tab\there ``` fence" and ["Dot.Field"] =~ "end\\" and ["New\nLine"] =~ "x")"#;
    assert!(out.lines().any(|l| l == expected), "{out}");
}

/// YARA-L: a meta string and a regex stay one token, whatever the rule's text holds.
#[test]
fn yaral_strings_and_regexes_stay_one_token() {
    let out = emit_from("inject_sentinel.yaml", "chronicle");
    for line in [
        r#"    rule_name = "Quote \" back\\slash | pipe `tick` {{Computer}} <script>alert(1)</script> a: b #x""#,
        r#"    $e.principal.process.file.full_path = "C:\\Windows\\$e.x /s/""#,
        r#"    re.regex($e.principal.process.file.full_path, `\|\x60\{\{x\}\}\x60<script>`) nocase"#,
    ] {
        assert!(out.lines().any(|l| l == line), "missing {line:?} in\n{out}");
    }
}

/// Cells of a table row, split at `|` not escaped by a backslash.
fn cells(row: &str) -> usize {
    let mut count = 0;
    let mut escaped = false;
    for c in row.chars() {
        match c {
            '\\' => escaped = !escaped,
            '|' if !escaped => count += 1,
            _ => escaped = false,
        }
        if c != '\\' {
            escaped = false;
        }
    }
    count - 1
}

#[test]
fn markdown_cards_keep_their_columns_and_show_no_raw_html() {
    for (file, rule) in inject_rules() {
        let out = emit("markdown", &rule);
        let mut fence: Option<String> = None;
        let mut columns = None;
        let mut in_comment = false;
        for line in out.lines() {
            let ticks: String = line.chars().take_while(|&c| c == '`').collect();
            if ticks.len() >= 3 {
                match &fence {
                    Some(open) if *open == ticks && line.trim_end() == ticks => fence = None,
                    None => fence = Some(ticks),
                    _ => {}
                }
                continue;
            }
            if fence.is_some() {
                continue;
            }
            in_comment = (in_comment || line.starts_with("<!--")) && !line.starts_with("-->");
            if line.starts_with("<!--") || line.starts_with("-->") || in_comment {
                continue;
            }
            assert!(!line.contains('<'), "{file}: raw `<` outside code in the card: {line:?}\n{out}");
            if line.starts_with('|') {
                let n = cells(line);
                let expected = *columns.get_or_insert(n);
                assert_eq!(n, expected, "{file}: a table row with other columns: {line:?}\n{out}");
            } else {
                columns = None;
            }
        }
        assert!(fence.is_none(), "{file}: a code fence is left open\n{out}");
    }
}

#[test]
fn markdown_card_fences_outlast_the_fences_in_the_rule() {
    let out = emit_from("inject_sentinel_query.yaml", "markdown");
    assert!(out.contains("````kql\n| where CommandLine has \"```\""), "{out}");
}

/// The CLI writes every target for every injection rule; each validator accepts its files.
#[test]
fn every_target_passes_its_validator() {
    let Some(tools) = shared::shared_or_skip("tools") else { return };
    let dir = scratch("validators");
    let files = inject_files();
    let mut args = vec!["convert", "--to", "sigma,sentinel,sentinel-yaml,chronicle,markdown,kql", "-o", dir.to_str().unwrap(), "-q"];
    args.extend(files.iter().map(|f| f.to_str().unwrap()));
    let out = ruleconv(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for target in TARGETS {
        let written = std::fs::read_dir(dir.join(target)).map(|d| d.count()).unwrap_or(0);
        assert!(written >= inject_rules().len(), "--to {target} wrote {written} files");
    }

    let sigma = std::process::Command::new(tools.join("sigma-check/sigma-check")).arg(dir.join("sigma")).output().expect("sigma-check");
    assert!(sigma.status.success(), "sigma-check:\n{}{}", text(&sigma.stdout), text(&sigma.stderr));
    let yaral = std::process::Command::new(tools.join("yaral-check/yaral-check")).arg(dir.join("chronicle")).output().expect("yaral-check");
    assert!(yaral.status.success(), "yaral-check:\n{}{}", text(&yaral.stdout), text(&yaral.stderr));

    let mut queries = Vec::new();
    for entry in std::fs::read_dir(dir.join("kql")).expect("kql folder") {
        queries.push(std::fs::read_to_string(entry.expect("entry").path()).expect("kql file"));
    }
    for entry in std::fs::read_dir(dir.join("sentinel")).expect("sentinel folder") {
        let arm: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(entry.expect("entry").path()).unwrap()).expect("ARM is JSON");
        arm["resources"]
            .as_array()
            .expect("resources")
            .iter()
            .for_each(|r| queries.push(r["properties"]["query"].as_str().expect("query").into()));
    }
    let refs: Vec<&str> = queries.iter().map(String::as_str).collect();
    for (query, verdict) in queries.iter().zip(kql_corpus::oracle(&refs)) {
        assert!(verdict.ok, "kusto-oracle rejects\n{query}\n{:?}", verdict.diagnostics.iter().map(|d| &d.message).collect::<Vec<_>>());
    }
}

// Output safety: file names, symbolic links, leftovers and a killed batch.

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).expect("folder").map(|e| e.expect("entry").file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

/// `tests/hostile/output_names.yml` to Sigma files in `out`.
fn convert_names_pack(out: &Path) {
    let input = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile/output_names.yml");
    let run = ruleconv(&["convert", input.to_str().unwrap(), "--to", "sigma", "-o", out.to_str().unwrap(), "-q"]);
    assert!(run.status.success(), "{}", text(&run.stderr));
}

/// Names that climb out, name a drive, a Windows device, differ only by case or run long all
/// become distinct plain names inside the output folder, the same on every run.
#[test]
fn output_names_stay_in_the_folder_and_distinct() {
    let dir = scratch("names");
    let out = dir.join("out");
    convert_names_pack(&out);
    let long = "A_very_long_rule_name_that_goes_on_and_on_past_what_any_file_system_likes_in_a_single_name";
    let names = names_in(&out);
    assert_eq!(
        names[2..],
        [
            "C_Windows_system32.yml",
            "NAME_rule-2.yml",
            "Name_rule.yml",
            "_CON_rule.yml",
            "_con_rule-2.yml",
            "_lpt1.txt.yml",
            "escape_passwd.yml",
            "etc_cron.d_x.yml",
            "rule-7.yml"
        ],
    );
    // SigmaHQ's file names are 10 to 90 characters: short names gain `_rule`, long ones are cut.
    let cut = &long[..long.len() - 17];
    assert!(names[..2].iter().all(|n| n.starts_with(&format!("{cut}-")) && n.len() <= 90), "{names:?}");
    assert_ne!(names[0], names[1]);
    assert_eq!(names_in(&dir), ["out"], "nothing written beside the output folder");
    // The first run made the folder (and skipped the checks a new folder cannot need); a
    // second run into it takes the checked way and finds every file already as it would write it.
    convert_names_pack(&out);
    assert_eq!(names_in(&out), names);
}

#[cfg(unix)]
#[test]
fn output_symlinks_are_never_followed_out_of_the_folder() {
    let dir = scratch("symlinks");
    let (input, out, outside) = (dir.join("in"), dir.join("out"), dir.join("outside"));
    for d in [input.join("sub"), out.clone(), outside.clone()] {
        std::fs::create_dir_all(d).unwrap();
    }
    let rule = |title: &str| {
        format!(
            "title: {title}\nstatus: test\nlogsource: {{category: process_creation, product: windows}}\ndetection: {{selection: {{Image: x}}, condition: selection}}\n"
        )
    };
    std::fs::write(input.join("top.yml"), rule("Linked")).unwrap();
    std::fs::write(input.join("sub/deep.yml"), rule("Deep")).unwrap();
    std::fs::write(outside.join("victim.yml"), "mine\n").unwrap();
    std::os::unix::fs::symlink(outside.join("victim.yml"), out.join("Linked.yml")).unwrap();
    std::os::unix::fs::symlink(&outside, out.join("sub")).unwrap();
    let run = ruleconv(&["convert", input.to_str().unwrap(), "--to", "sigma", "-o", out.to_str().unwrap(), "--force", "--show", "errors"]);
    let stderr = text(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("Linked.yml is a symbolic link out of the output folder; not followed"), "{stderr}");
    assert!(stderr.contains("sub is a symbolic link out of the output folder; not followed"), "{stderr}");
    assert_eq!(std::fs::read_to_string(outside.join("victim.yml")).unwrap(), "mine\n");
    assert_eq!(names_in(&outside), ["victim.yml"]);

    // `report -o`: the same for its fixed names.
    std::os::unix::fs::symlink(outside.join("victim.yml"), out.join("report.md")).unwrap();
    let report = ruleconv(&["report", input.to_str().unwrap(), "-o", out.to_str().unwrap(), "--force"]);
    assert_eq!(report.status.code(), Some(1));
    assert!(
        text(&report.stderr).contains("report.md is a symbolic link out of the output folder; not followed"),
        "{}",
        text(&report.stderr)
    );
    assert_eq!(std::fs::read_to_string(outside.join("victim.yml")).unwrap(), "mine\n");
    assert!(out.join("report.json").is_file(), "the other report files are still written");
}

/// A temporary file left by a killed run (even a link planted in its place) is removed, never written through.
#[cfg(unix)]
#[test]
fn output_leftover_temporary_files_are_replaced_not_followed() {
    let dir = scratch("leftover");
    let (out, outside) = (dir.join("out"), dir.join("outside"));
    std::fs::create_dir_all(&out).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("victim"), "mine\n").unwrap();
    std::os::unix::fs::symlink(outside.join("victim"), out.join("Name_rule.yml.ruleconv-tmp")).unwrap();
    convert_names_pack(&out);
    assert_eq!(std::fs::read_to_string(outside.join("victim")).unwrap(), "mine\n");
    assert!(names_in(&out).iter().all(|n| !n.ends_with(".ruleconv-tmp")), "{:?}", names_in(&out));
    assert!(std::fs::read_to_string(out.join("Name_rule.yml")).unwrap().contains("title: Name\n"));
}

/// Every file under `dir` (relative name, content).
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).expect("folder") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push((path.strip_prefix(dir).unwrap().to_string_lossy().into_owned(), std::fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

/// SIGKILL mid-batch: every output file present is whole (what a full run writes); the only
/// other files are `*.ruleconv-tmp` leftovers and the lock file, which the next run removes.
#[test]
fn output_killed_batch_leaves_no_partial_file() {
    let dir = scratch("killed");
    let input = dir.join("pack");
    std::fs::create_dir_all(&input).unwrap();
    for n in 0..1500 {
        let rule = format!(
            "title: Generated rule {n}\nstatus: test\ndescription: {}\nlogsource: {{category: process_creation, product: windows}}\n\
             detection: {{selection: {{Image|endswith: '\\tool{n}.exe', CommandLine|contains: ['-a {n}', '-b']}}, condition: selection}}\nlevel: low\n",
            "padding ".repeat(200)
        );
        std::fs::write(input.join(format!("r{n}.yml")), rule).unwrap();
    }
    let targets = "sigma,sentinel,chronicle,markdown,kql";
    let full = dir.join("full");
    let done = ruleconv(&["convert", input.to_str().unwrap(), "--to", targets, "-o", full.to_str().unwrap(), "-q"]);
    assert!(done.status.success(), "{}", text(&done.stderr));
    let expected: std::collections::HashMap<_, _> = tree(&full).into_iter().collect();

    let killed = dir.join("killed");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ruleconv"))
        .args(["convert", input.to_str().unwrap(), "--to", targets, "-o", killed.to_str().unwrap(), "-q"])
        .spawn()
        .expect("starts");
    while !killed.join("sigma").exists() {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    child.kill().expect("SIGKILL");
    let status = child.wait().expect("waits");
    assert!(status.code().is_none(), "the batch ended before it was killed; make the pack bigger");
    let left = tree(&killed);
    assert!(left.len() < expected.len(), "the batch was killed mid-way");
    for (name, content) in &left {
        match expected.get(name) {
            Some(whole) => assert!(content == whole, "{name} is not what a full run writes"),
            // The lock file of the run: its lock died with it, the next run removes the file.
            None => assert!(name.ends_with(".ruleconv-tmp") || name == ".ruleconv.lock", "unexpected file {name}"),
        }
    }

    let again = ruleconv(&["convert", input.to_str().unwrap(), "--to", targets, "-o", killed.to_str().unwrap(), "-q"]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(tree(&killed) == tree(&full), "the next run completes the folder and removes the leftovers");
}

/// ARM would evaluate rule text shaped like `[expression]` at deployment: it is written `[[...]`.
#[test]
fn arm_strings_never_become_expressions() {
    let arm: serde_json::Value = serde_json::from_str(&emit_from("inject_arm_expression.yaml", "sentinel")).expect("JSON");
    let properties = &arm["resources"][0]["properties"];
    assert_eq!(properties["displayName"], "[[concat('evil', parameters('workspace'))]");
    // A schedule and a trigger without `kind` make a Scheduled rule (issue 19 item 8), whose
    // description is a property of its own.
    assert_eq!(properties["description"], "[[deployment().name]");
}
