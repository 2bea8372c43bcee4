//! Rule packs at scale, end to end: the same bytes whatever the thread count, duplicate ids,
//! `check --format sarif`, `--junit`, the pack summary and `--quiet`.

#[path = "support/run.rs"]
mod run;
#[path = "support/shared.rs"]
mod shared;

use quick_xml::XmlVersion;
use quick_xml::events::Event;
use ruleconv::diag::Code;
use run::{ruleconv, scratch, text};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Every file under `root`, by relative path, with its bytes.
fn tree(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.insert(path.strip_prefix(root).unwrap().to_path_buf(), std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

const SIGMA_SAMPLE: [(&str, &str); 3] = [
    (
        "proc.yml",
        "title: Whoami run\nid: 0e7163d4-9e19-4fa7-9be6-000000000001\nlogsource:\n  product: windows\n  category: process_creation\n\
         detection:\n  sel:\n    Image|endswith: '\\whoami.exe'\n  filter:\n    User|contains: 'SYSTEM'\n  condition: sel and not filter\nlevel: medium\n",
    ),
    (
        "many.yml",
        "title: Many failed logons\nid: 0e7163d4-9e19-4fa7-9be6-000000000002\nname: failed_logon\nlogsource:\n  product: windows\n  service: security\n\
         detection:\n  sel:\n    EventID: 4625\n  condition: sel\n---\ntitle: Many failed logons per user\ncorrelation:\n  type: event_count\n  \
         rules:\n    - failed_logon\n  group-by:\n    - TargetUserName\n  timespan: 10m\n  condition:\n    gte: 5\n",
    ),
    ("broken.yml", "title: Broken\nlogsource:\n  product: windows\ndetection:\n  sel:\n    Image: [unclosed\n"),
];

/// Converts `inputs` to every target with `--threads N`; the output tree, stderr, the report
/// and the JUnit file.
fn convert_all(inputs: &[&Path], threads: &str, out: &Path) -> (BTreeMap<PathBuf, Vec<u8>>, Vec<u8>) {
    let targets: Vec<&str> = ruleconv::emit::Target::all().iter().map(|t| t.name()).collect();
    let (report, junit) = (out.with_extension("report.json"), out.with_extension("junit.xml"));
    let mut args: Vec<&str> = vec!["convert", "--threads", threads];
    args.extend(inputs.iter().map(|p| p.to_str().unwrap()));
    let targets = targets.join(",");
    args.extend(["--to", &targets, "-o", out.to_str().unwrap(), "--report", report.to_str().unwrap()]);
    args.extend(["--junit", junit.to_str().unwrap()]);
    let run = ruleconv(&args);
    assert!(run.status.code().is_some_and(|c| c <= 1), "{}", text(&run.stderr));
    let mut files = tree(out);
    // The report names each output file, under a folder that differs between the runs.
    let report = std::fs::read_to_string(&report).unwrap().replace(out.to_str().unwrap(), "OUT");
    files.insert("report.json".into(), report.into_bytes());
    files.insert("junit.xml".into(), std::fs::read(&junit).unwrap());
    (files, run.stderr)
}

#[test]
fn output_is_identical_with_one_and_two_threads_for_all_targets() {
    let dir = scratch("threads");
    let sigma = dir.join("sigma");
    std::fs::create_dir_all(&sigma).unwrap();
    for (name, text) in SIGMA_SAMPLE {
        std::fs::write(sigma.join(name), text).unwrap();
    }
    let mut inputs = vec![sigma.clone(), Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")];
    inputs.extend(shared::all_shared_or_skip(["corpus/sentinel", "corpus/sigma/rules/cloud"]).into_iter().flatten());
    let inputs: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
    let (one, one_err) = convert_all(&inputs, "1", &dir.join("one"));
    let (two, two_err) = convert_all(&inputs, "2", &dir.join("two"));
    let targets = ruleconv::emit::Target::all();
    for target in targets {
        assert!(one.keys().filter(|p| p.starts_with(target.name())).count() >= 3, "{} wrote too little: {:?}", target.name(), one.keys());
    }
    assert_eq!(one.keys().collect::<Vec<_>>(), two.keys().collect::<Vec<_>>(), "the same files");
    let differing: Vec<_> = one.iter().filter(|(path, bytes)| two[*path] != **bytes).map(|(path, _)| path).collect();
    assert!(differing.is_empty(), "differ with 2 threads: {differing:?}");
    // Problems and the summary too.
    assert_eq!(text(&one_err), text(&two_err));
    // Every problem of every target has a code that allows its kind.
    let report: serde_json::Value = serde_json::from_slice(&one[Path::new("report.json")]).unwrap();
    let problems = report["records"].as_array().unwrap().iter().flat_map(|r| r["problems"].as_array().unwrap());
    let fits = |p: &&serde_json::Value| Code::ALL.iter().any(|c| p["code"] == c.name() && c.kinds().iter().any(|k| p["kind"] == k.name()));
    let misfits: Vec<_> = problems.filter(|p| !fits(p)).collect();
    assert!(misfits.is_empty(), "{misfits:?}");
    // Without -o: one document on stdout, the same bytes.
    let stdout = |threads: &str| ruleconv(&["--to", "sentinel", "--threads", threads, "tests/fixtures"]).stdout;
    let single = stdout("1");
    assert!(single.len() > 10_000);
    assert_eq!(single, stdout("2"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Two files share an id, and one ARM template holds two rules with the same id.
fn pack_with_duplicate_ids(dir: &Path) -> PathBuf {
    let pack = dir.join("pack");
    std::fs::create_dir_all(&pack).unwrap();
    let rule = |name: &str| {
        format!(
            "id: 6a7e8f00-0000-4000-8000-00000000000A\nname: {name}\nseverity: Low\nquery: |\n  SecurityEvent\n  | where EventID == 4625\n"
        )
    };
    std::fs::write(pack.join("a.yaml"), rule("First")).unwrap();
    std::fs::write(pack.join("b.yaml"), rule("Second").replace("0A\n", "0a\n")).unwrap();
    std::fs::write(pack.join("bad.yaml"), "id: c\nname: Bad KQL\nquery: |\n  SecurityEvent\n  | where EventID == (4625\n").unwrap();
    let resource = |name: &str| {
        format!(
            "{{\"type\": \"Microsoft.OperationalInsights/workspaces/providers/alertRules\", \"kind\": \"NRT\", \
             \"name\": \"[concat(parameters('workspace'),'/Microsoft.SecurityInsights/11111111-2222-4333-8444-555555555555')]\", \
             \"properties\": {{\"displayName\": \"{name}\", \"severity\": \"High\", \"query\": \"T | take 1\"}}}}"
        )
    };
    std::fs::write(pack.join("template.json"), format!("{{\"resources\": [\n{},\n{}\n]}}\n", resource("Twin one"), resource("Twin two")))
        .unwrap();
    pack
}

#[test]
fn rules_sharing_an_id_are_warned_about_naming_each_other() {
    let dir = scratch("duplicates");
    let pack = pack_with_duplicate_ids(&dir);
    let check = ruleconv(&["check", pack.to_str().unwrap()]);
    let stdout = text(&check.stdout);
    let warnings: Vec<&str> = stdout.lines().filter(|l| l.contains("is also the id of")).collect();
    assert_eq!(warnings.len(), 4, "{stdout}");
    let a = pack.join("a.yaml").display().to_string();
    let b = pack.join("b.yaml").display().to_string();
    assert!(warnings.contains(&format!("{a}:1:1: warning: rule 'First': id `6a7e8f00-0000-4000-8000-00000000000A` is also the id of rule 'Second' at `{b}:1:1`; deployed together, one rule replaces the other").as_str()), "{stdout}");
    assert!(warnings.iter().any(|w| w.starts_with(&b) && w.contains(&format!("rule 'First' at `{a}:1:1`"))), "{stdout}");
    // Two rules of one template: each names the other, in the same file.
    let template = pack.join("template.json").display().to_string();
    assert!(warnings.iter().any(|w| w.contains("rule 'Twin one'") && w.contains(&format!("rule 'Twin two' at `{template}:"))), "{stdout}");
    assert!(warnings.iter().any(|w| w.contains("rule 'Twin two'") && w.contains(&format!("rule 'Twin one' at `{template}:"))), "{stdout}");
    assert!(text(&check.stderr).contains("4 with warnings"), "{}", text(&check.stderr));

    // convert warns the same, once for all targets; the other rules still convert.
    let out = dir.join("out");
    let convert =
        ruleconv(&["convert", pack.to_str().unwrap(), "--to", "sentinel,sigma", "-o", out.to_str().unwrap(), "--show", "warnings"]);
    let stderr = text(&convert.stderr);
    assert_eq!(stderr.lines().filter(|l| l.contains(": warning: ") && l.contains("is also the id of")).count(), 4, "{stderr}");
    assert!(out.join("sentinel/First.json").exists() && out.join("sigma/Second.yml").exists(), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn check_writes_sarif_2_1_0_with_relative_locations() {
    let dir = scratch("sarif");
    pack_with_duplicate_ids(&dir);
    // Run from the scratch folder, so the files are named relative to it.
    let out = Command::new(env!("CARGO_BIN_EXE_ruleconv")).args(["check", "--format", "sarif", "pack"]).current_dir(&dir).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "bad.yaml has a KQL error: {}", text(&out.stderr));
    let log: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(log["version"], "2.1.0");
    assert!(log["$schema"].as_str().unwrap().ends_with("sarif-schema-2.1.0.json"));
    let runs = log["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], "ruleconv");
    assert!(driver["version"].is_string());
    let rules = driver["rules"].as_array().unwrap();
    assert!(rules.iter().all(|r| r["id"].is_string() && r["shortDescription"]["text"].is_string()), "{rules:?}");
    let results = runs[0]["results"].as_array().unwrap();
    // 4 duplicate-id warnings and the KQL error.
    assert_eq!(results.len(), 5, "{results:?}");
    for result in results {
        let rule = &rules[result["ruleIndex"].as_u64().unwrap() as usize];
        assert_eq!(result["ruleId"], rule["id"]);
        assert!(["error", "warning", "note"].contains(&result["level"].as_str().unwrap()), "{result}");
        assert!(!result["message"]["text"].as_str().unwrap().is_empty());
        let location = &result["locations"][0]["physicalLocation"];
        let uri = location["artifactLocation"]["uri"].as_str().unwrap();
        assert!(uri.starts_with("pack/") && !uri.contains(' '), "relative to where ruleconv ran: {uri}");
        assert_eq!(location["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert!(location["region"]["startLine"].as_u64().unwrap() >= 1 && location["region"]["startColumn"].as_u64().unwrap() >= 1);
    }
    let error = results.iter().find(|r| r["level"] == "error").expect("the KQL error");
    assert_eq!(error["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "pack/bad.yaml");
    assert_eq!(error["locations"][0]["physicalLocation"]["region"]["startLine"], 5, "the query's line in the file");
    assert_eq!(error["ruleId"], "ruleconv/kql-syntax", "{error}");
    assert!(error["message"]["text"].as_str().unwrap().starts_with("rule 'Bad KQL': "), "{error}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A JUnit document read back: each suite's name, its counts as written, and its cases as
/// (name, classname, failed, system-out).
#[derive(Debug, Default)]
struct JunitSuite {
    name: String,
    tests: usize,
    failures: usize,
    cases: Vec<(String, String, bool, String)>,
}

fn read_junit(xml: &str) -> ((usize, usize), Vec<JunitSuite>) {
    let mut reader = quick_xml::Reader::from_str(xml);
    let attribute = |e: &quick_xml::events::BytesStart, name: &str| -> String {
        e.try_get_attribute(name).unwrap().map(|a| a.normalized_value(XmlVersion::Implicit1_0).unwrap().into_owned()).unwrap_or_default()
    };
    let count = |s: String| s.parse::<usize>().expect("a count");
    let (mut totals, mut suites, mut stack) = ((0, 0), Vec::<JunitSuite>::new(), Vec::<String>::new());
    loop {
        let event = reader.read_event().expect("well-formed XML");
        let (start, empty) = match &event {
            Event::Start(e) => (Some(e.clone()), false),
            Event::Empty(e) => (Some(e.clone()), true),
            _ => (None, false),
        };
        if let Some(e) = start {
            let name = e.name().as_ref().to_string();
            let parent = stack.last().map(String::as_str);
            match (parent, name.as_str()) {
                (None, "testsuites") => totals = (count(attribute(&e, "tests")), count(attribute(&e, "failures"))),
                (Some("testsuites"), "testsuite") => suites.push(JunitSuite {
                    name: attribute(&e, "name"),
                    tests: count(attribute(&e, "tests")),
                    failures: count(attribute(&e, "failures")),
                    cases: Vec::new(),
                }),
                (Some("testsuite"), "testcase") => {
                    suites.last_mut().unwrap().cases.push((attribute(&e, "name"), attribute(&e, "classname"), false, String::new()))
                }
                (Some("testcase"), "failure") => {
                    assert!(!attribute(&e, "message").is_empty());
                    suites.last_mut().unwrap().cases.last_mut().unwrap().2 = true;
                }
                (Some("testcase"), "system-out") => {}
                other => panic!("unexpected element {other:?}"),
            }
            if !empty {
                stack.push(name);
            }
        }
        match event {
            Event::Text(t) if stack.last().map(String::as_str) == Some("system-out") => {
                suites.last_mut().unwrap().cases.last_mut().unwrap().3 += &t.xml10_content();
            }
            Event::GeneralRef(r) if stack.last().map(String::as_str) == Some("system-out") => {
                let entity = r.xml10_content();
                let resolved = quick_xml::escape::resolve_xml_entity(&entity).expect("a known entity");
                suites.last_mut().unwrap().cases.last_mut().unwrap().3 += resolved;
            }
            Event::End(_) => {
                stack.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(stack.is_empty(), "every element closed");
    (totals, suites)
}

#[test]
fn junit_has_a_case_per_rule_and_target_with_counts_that_match_the_report() {
    let dir = scratch("junit");
    let pack = pack_with_duplicate_ids(&dir);
    let (report, junit) = (dir.join("report.json"), dir.join("convert.xml"));
    let out = dir.join("out");
    let run = ruleconv(&[
        "convert",
        pack.to_str().unwrap(),
        "--to",
        "sentinel,sigma",
        "-o",
        out.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(1), "bad.yaml fails: {}", text(&run.stderr));
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let ((tests, failures), suites) = read_junit(&std::fs::read_to_string(&junit).unwrap());
    assert_eq!(suites.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["convert --to sentinel", "convert --to sigma"]);
    assert_eq!(tests, report["records"].as_array().unwrap().len());
    assert_eq!(tests, suites.iter().map(|s| s.cases.len()).sum::<usize>());
    assert_eq!(failures, suites.iter().map(|s| s.cases.iter().filter(|c| c.2).count()).sum::<usize>());
    for suite in &suites {
        let target = suite.name.trim_start_matches("convert --to ");
        let summary = &report["summaries"][target];
        assert_eq!((suite.tests, suite.cases.len()), (summary["rules"].as_u64().unwrap() as usize, suite.tests), "{target}");
        assert_eq!(suite.failures, summary["failed"].as_u64().unwrap() as usize, "{target}");
        assert_eq!(suite.failures, suite.cases.iter().filter(|c| c.2).count());
        // One case per rule, named by title and index, grouped by file; failed as the report says.
        for record in report["records"].as_array().unwrap().iter().filter(|r| r["target"] == target) {
            let name = format!("{} [rule {}]", record["title"].as_str().unwrap(), record["rule_index"]);
            let case = suite.cases.iter().find(|c| c.0 == name && c.1 == record["source"].as_str().unwrap());
            let case = case.unwrap_or_else(|| panic!("no case {name} in {target}: {:?}", suite.cases));
            assert_eq!(case.2, record["status"] == "failed", "{case:?} {record}");
        }
        let first = suite.cases.iter().find(|c| c.0 == "First [rule 0]").expect("a converted rule");
        assert!(!first.2 && first.3.contains("is also the id of rule 'Second'"), "its problems are its output: {first:?}");
        assert!(first.3.contains("fidelity: exact"), "{first:?}");
    }
    assert_eq!(suites[1].failures, 3, "the rules without conditions have no Sigma form");

    // check: one suite, a case per rule, the rule with a KQL error failed.
    let junit = dir.join("check.xml");
    let check = ruleconv(&["check", pack.to_str().unwrap(), "--junit", junit.to_str().unwrap(), "--quiet"]);
    assert_eq!(check.status.code(), Some(1));
    let ((tests, failures), suites) = read_junit(&std::fs::read_to_string(&junit).unwrap());
    assert_eq!((tests, failures, suites.len(), suites[0].name.as_str()), (5, 1, 1, "check"));
    assert!(suites[0].cases.iter().any(|c| c.0 == "Bad KQL [rule 0]" && c.2));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_summary_names_the_top_codes_and_quiet_prints_the_counts_only() {
    let dir = scratch("summary");
    let pack = pack_with_duplicate_ids(&dir);
    let report = dir.join("report.json");
    let run = ruleconv(&["convert", pack.to_str().unwrap(), "--to", "sigma", "--report", report.to_str().unwrap()]);
    let stderr = text(&run.stderr);
    assert!(stderr.contains("ruleconv: 5 rule(s) from 4 file(s) to sigma:"), "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let failures = report["summary"]["top_failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0]["rules"], 3);
    assert_eq!(failures[0]["code"], "no-detection", "{failures:?}");
    let about = failures[0]["about"].as_str().unwrap();
    assert!(stderr.lines().any(|l| l == format!("error[no-detection] in 3 rule(s): {about}")), "{stderr}");
    assert!(report["summary"]["top_losses"].is_array());
    // Piped: no progress bar drawn, ever.
    assert!(!stderr.contains('\r') && !stderr.contains('\x1b'), "{stderr:?}");

    let quiet = ruleconv(&["convert", pack.to_str().unwrap(), "--to", "sigma", "--quiet"]);
    let quiet_err = text(&quiet.stderr);
    assert_eq!(quiet.status.code(), run.status.code());
    let counts: Vec<&str> = stderr.lines().filter(|l| l.contains("] in ") || l.starts_with("ruleconv: 5 rule(s)")).collect();
    assert_eq!(quiet_err.lines().collect::<Vec<_>>(), counts, "a line per code and the totals: {quiet_err}");
    assert_eq!(quiet.stdout, run.stdout, "the output itself is the same");
    let check = ruleconv(&["check", pack.to_str().unwrap(), "-q"]);
    assert!(text(&check.stdout).lines().filter(|l| l.starts_with('/')).all(|l| l.contains(": error: ")), "{}", text(&check.stdout));
    assert!(check.stderr.is_empty(), "{}", text(&check.stderr));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn diff_on_folders_summarizes_first_and_stat_prints_only_the_summary() {
    let dir = scratch("diff");
    let (e, a) = (dir.join("expected"), dir.join("actual"));
    for folder in [&e, &a] {
        std::fs::create_dir_all(folder.join("sub")).unwrap();
        std::fs::write(folder.join("same.yaml"), "x: 1\n").unwrap();
    }
    std::fs::write(e.join("sub/rule.yaml"), "a: 1\nb: 2\n").unwrap();
    std::fs::write(a.join("sub/rule.yaml"), "a: 1\nb: 3\nc: 4\n").unwrap();
    std::fs::write(e.join("gone.yaml"), "g\n").unwrap();
    std::fs::write(a.join("new.yaml"), "n\n").unwrap();
    let diff = |extra: &[&str]| {
        let mut args = vec!["diff", e.to_str().unwrap(), a.to_str().unwrap()];
        args.extend_from_slice(extra);
        ruleconv(&args)
    };
    let full = diff(&[]);
    assert_eq!(full.status.code(), Some(1));
    let summary =
        "1 changed, 1 added, 1 removed, 1 unchanged\n  changed  sub/rule.yaml  +2 -1\n  added    new.yaml\n  removed  gone.yaml\n";
    let stdout = text(&full.stdout);
    assert!(stdout.starts_with(&format!("{summary}\n--- {}", e.join("sub/rule.yaml").display())), "{stdout}");
    assert!(stdout.contains("-b: 2\n+b: 3\n+c: 4\n"), "{stdout}");
    let stat = diff(&["--stat"]);
    assert_eq!((stat.status.code(), text(&stat.stdout)), (Some(1), summary.to_string()));
    // Equal folders: nothing to say, exit 0.
    let same = ruleconv(&["diff", e.to_str().unwrap(), e.to_str().unwrap(), "--stat"]);
    assert_eq!((same.status.code(), same.stdout.len()), (Some(0), 0));
    std::fs::remove_dir_all(&dir).unwrap();
}
