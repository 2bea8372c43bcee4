//! Issue 19 items 14, 17, 18 and 19: values that mean something else once written. YAML a
//! YAML 1.1 reader reads otherwise, regexes RE2 refuses, CIDR ranges that are no ranges, and
//! KQL string escapes Kusto does not document. The independent tools (PyYAML in the
//! sigma-check venv, kql-run, kusto-oracle) judge; a test whose tool is absent says so and
//! passes.

use super::{Path, TARGETS, run, scratch};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

#[path = "../support/kql_run.rs"]
#[allow(dead_code)]
mod kql_run;
#[path = "../support/shared.rs"]
mod shared;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile").join(name)
}

/// Runs `program` with `stdin`, returning its standard output; panics with its error output
/// when it fails.
fn piped(program: &Path, args: &[&str], stdin: &str) -> String {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
    let mut input = child.stdin.take().expect("stdin");
    let text = stdin.to_string();
    let writer = std::thread::spawn(move || input.write_all(text.as_bytes()));
    let out = child.wait_with_output().expect("output");
    writer.join().expect("writer").expect("write stdin");
    assert!(out.status.success(), "{} failed:\n{}", program.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// The Python of the sigma-check venv (PyYAML 6, as pySigma reads rules), if installed.
fn pyyaml_python() -> Option<PathBuf> {
    shared::shared_or_skip("tools/sigma-check")?;
    let cache = shared::tools_cache()?;
    let python = cache.join("sigma-venv/bin/python");
    if !python.exists() {
        eprintln!("skipped: the sigma-check venv is not installed (run ../shared/tools/sigma-check/sigma once)");
        return None;
    }
    Some(python)
}

/// Strings a YAML 1.1 reader takes for something else when written plain: its line breaks
/// (NEL, LS, PS), booleans, nulls, numbers in its forms, and YAML's indicators.
const YAML_TRICKY: &[&str] = &[
    "powershell\u{2028}# -enc",
    "a\u{2029}b",
    "x\u{85}y",
    "\u{2028}",
    "multi\nline\u{2028}text\n",
    "yes",
    "No",
    "ON",
    "off",
    "y",
    "N",
    "~",
    "null",
    "NULL",
    "True",
    "false",
    "=",
    "<<",
    "0o17",
    "0x1F",
    "-0b101",
    "0777",
    "0_7",
    "1_000",
    "1:20",
    "190:20:30.15",
    "1.",
    ".5",
    ".1_0",
    "1_0.e+3",
    "1._5",
    "+.inf",
    "-.Inf",
    ".NaN",
    "1e3",
    "1.0.3",
    "2001-12-14",
    "2001-12-14t21:59:43.10-05:00",
    "- a",
    "? a",
    ": a",
    "#a",
    "a #b",
    "a: b",
    "!tag",
    "&a",
    "*a",
    "|",
    "> x",
    "'q'",
    "\"q\"",
    "%x",
    "@x",
    "`x",
    "  lead",
    "trail ",
    "\t",
    "x\r\ny",
    "esc\u{1b}[2J",
    "del\u{7f}",
    "c1\u{9b}",
    "",
];

/// Issue 19 item 14: every string our YAML writer writes, as a key and as a value, reads back
/// in PyYAML (YAML 1.1) as the same string: line breaks YAML 1.1 has (U+2028, U+2029, U+0085)
/// are escaped, and what it reads as a boolean, null or number is quoted.
#[test]
fn written_yaml_reads_back_as_the_same_strings_in_pyyaml() {
    let Some(python) = pyyaml_python() else { return };
    let mut values: Vec<String> = YAML_TRICKY.iter().map(|s| s.to_string()).collect();
    // Every string of one to three characters over the alphabet of YAML 1.1's numbers,
    // booleans and nulls.
    let alphabet: Vec<String> = "0179._:+-eExXbBoOyYnN~".chars().map(String::from).collect();
    let mut short = alphabet.clone();
    for _ in 0..2 {
        short = short.iter().flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}"))).collect();
        values.extend(short.iter().cloned());
    }
    values.extend(alphabet);
    let items: Vec<Json> = values.iter().map(|v| json!({ v.as_str(): v })).collect();
    let yaml = ruleconv::yaml::to_yaml_string(&Json::Array(items));
    let (dir, file) = scratch("written.yaml");
    std::fs::write(&file, &yaml).unwrap();
    let expected = dir.join("expected.json");
    std::fs::write(&expected, serde_json::to_string(&values).unwrap()).unwrap();
    let script = "import json, sys, yaml\n\
        doc = yaml.safe_load(open(sys.argv[1], encoding='utf-8'))\n\
        want = json.load(open(sys.argv[2], encoding='utf-8'))\n\
        assert len(doc) == len(want), (len(doc), len(want))\n\
        for item, w in zip(doc, want):\n\
        \x20   (k, v), = item.items()\n\
        \x20   if not (type(k) is str and type(v) is str and k == w and v == w): print(repr((w, k, v)))\n";
    let args = ["-c", script, file.to_str().unwrap(), expected.to_str().unwrap()];
    let differing = piped(&python, &args, "");
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(differing.is_empty(), "PyYAML reads these (written, key, value) otherwise:\n{differing}");
}

/// Issue 19 item 14: the line separator in a Sigma value is written escaped, so pySigma reads
/// the rule's value, not `powershell` and a comment.
#[test]
fn a_line_separator_in_a_sigma_value_reads_back_in_pyyaml() {
    let result = run(&fixture("sigma_yaml11_line_separator.yml"), &["convert", "{input}", "--to", "sigma", "-o", "{out}"]);
    assert_eq!(result.code, 0, "{}", result.printed);
    let Some(python) = pyyaml_python() else { return };
    // The rule's one selection, which its condition names.
    let script = "import json, sys, yaml\nd = yaml.safe_load(sys.stdin.read())['detection']\nprint(json.dumps(d[d['condition']]))";
    let selection: Json = serde_json::from_str(&piped(&python, &["-c", script], &result.output)).unwrap();
    assert_eq!(selection, json!({ "CommandLine|contains": "powershell\u{2028}# -enc" }), "{}", result.output);
}

/// Patterns with what ruleconv decides of them and what RE2 (kql-run's engine) does.
const REGEXES: &[&str] = &[
    // RE2's counted repetitions: at most 1000, alone or multiplied through nesting.
    "a{1000}",
    "a{1001}",
    "x{0,1001}",
    "a{1001,}",
    "x{1000,}",
    "(a{10}){100}",
    "(a{100}){100}",
    "(a{30}){100}",
    "((a{10}){10}){10}",
    "(a{2}){1000}",
    "(a{0}){1000}",
    // A repetition of a repetition.
    "a**",
    "a+*",
    "a*?*",
    "a{2}{3}",
    "a{2}*",
    "(?s).**",
    "a*?",
    "a??",
    "a{2}?",
    "(a*)*",
    "a*{x}",
    // Flags: i, m, s and U only.
    "(?x) a # c",
    "(?x:a)",
    "(?u)a",
    "(?i)a",
    "(?s)a.b",
    "(?m)^a",
    "(?U)a+",
    "(?i-s:a)",
    // Escapes.
    r"\C",
    r"a\Cb",
    r"\u0041",
    r"\x41",
    r"\x{41}",
    r"\pL",
    r"\p{Greek}",
    r"\PL",
    r"\d\s\w\D\S\W",
    r"\z",
    r"\A",
    r"\Z",
    r"\0",
    r"\012",
    r"\Qa.b\E",
    r"\h",
    r"\e",
    // Groups and classes.
    "[[:alpha:]]",
    "[[:word:]]",
    "(?P<n>a)",
    "(?<n>a)",
    "(?:a|b)+",
    "[z-a]",
    "a{2,1}",
    "SIMBAR={7DB0}",
    "a{,3}",
    "^(a+)+$",
    // What only a backtracking engine runs, and what no engine reads.
    r"(\w+) \1",
    "a(?=b)",
    "(?<=a)b",
    "(?>a)",
    "a*+",
    "(?",
    "a(b",
    "cmd[.exe",
];

/// Issue 19 item 17: ruleconv refuses a regex exactly when RE2 does, for each rule of RE2's
/// grammar and limits (https://github.com/google/re2/wiki/Syntax), both ways.
#[test]
fn ruleconv_refuses_a_regex_exactly_when_re2_does() {
    if shared::shared_or_skip("tools/kql-run").is_none() {
        return;
    }
    let columns = vec![("A".to_string(), "string".to_string())];
    let rows = vec![json!({ "A": "a" }).as_object().unwrap().clone()];
    let requests: Vec<kql_run::Request> = REGEXES
        .iter()
        .map(|p| kql_run::Request {
            query: format!("T | where A matches regex {}", ruleconv::kql::quote(p)),
            now: "2024-05-01T12:00:00Z".into(),
            tables: BTreeMap::from([("T".to_string(), (columns.clone(), rows.clone()))]),
        })
        .collect();
    let answers = kql_run::run_all(&requests);
    let mut differing = Vec::new();
    for (pattern, answer) in REGEXES.iter().zip(answers) {
        let re2 = match answer {
            kql_run::Answer::Rows { .. } => "accepts".to_string(),
            kql_run::Answer::Error(e) => format!("refuses ({e})"),
            // The wrapper refuses lookaround itself, saying RE2 rejects the whole pattern.
            kql_run::Answer::Unsupported(e) if e.contains("RE2") => format!("refuses ({e})"),
            kql_run::Answer::Unsupported(e) => panic!("{pattern}: kql-run cannot judge it: {e}"),
        };
        let ours = ruleconv::re2::refusal(pattern);
        if ours.is_some() != re2.starts_with("refuses") {
            differing.push(format!("{pattern}: ruleconv {ours:?}, RE2 {re2}"));
        }
    }
    assert!(differing.is_empty(), "ruleconv and RE2 disagree:\n{}", differing.join("\n"));
}

/// Issue 19 item 18: a `|cidr` value that is no IPv4 or IPv6 range is an error at the value,
/// in `check` and every target, rather than a test that never matches.
#[test]
fn an_invalid_cidr_range_is_an_error_at_the_value() {
    for (i, range) in ["abc", "10.0.0.0/33", "999.1.1.1/8", "fe80::/129", "10.0.0.0/+8", "10.0.0.0/"].iter().enumerate() {
        let name = format!("invalid_cidr_{i}.yml");
        let (dir, input) = scratch(&name);
        let rule = format!(
            "title: Range {i}\nlogsource:\n    product: windows\n    category: network_connection\ndetection:\n    selection:\n        DestinationIp|cidr: '{range}'\n    condition: selection\n"
        );
        std::fs::write(&input, rule).unwrap();
        let wanted = format!("in/{name}:7:29: error: rule 'Range {i}': Sigma: `{range}` is not a CIDR range");
        let runs = TARGETS.iter().map(|t| run(&input, &["convert", "{input}", "--to", t, "-o", "{out}"]));
        for result in runs.chain([run(&input, &["check", "{input}"])]) {
            assert_eq!(result.code, 1, "{range}\n{}", result.printed);
            assert!(result.printed.contains(&wanted), "{range}: expected `{wanted}` in\n{}", result.printed);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// Issue 19 item 18: in a KQL query, `ipv4_is_in_range` with a range that is not IPv4 never
/// holds in Kusto; it is not translated as a range test, and the loss says why.
#[test]
fn an_invalid_kql_ipv4_range_is_not_translated_as_a_range() {
    let (dir, input) = scratch("kql_invalid_range.yaml");
    std::fs::write(
        &input,
        "id: x\nname: Bad range\nseverity: Low\nquery: |\n  SecurityEvent\n  | where Account == \"admin\" and ipv4_is_in_range(IpAddress, \"10.0.0.0/33\")\n",
    )
    .unwrap();
    let result = run(&input, &["convert", "{input}", "--to", "sigma", "-o", "{out}"]);
    assert!(result.printed.contains("`10.0.0.0/33` is not an IPv4 range, so the test never holds"), "{}", result.printed);
    assert!(!result.output.contains("|cidr"), "{}", result.output);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Issue 19 item 19: a Sigma value with a control character Kusto has no escape for is refused
/// by the KQL targets with its code point named; Sigma keeps it.
#[test]
fn a_control_character_in_a_value_is_refused_by_the_kql_targets() {
    let input = fixture("sigma_control_character_value.yml");
    for target in ["kql", "sentinel", "sentinel-yaml"] {
        let result = run(&input, &["convert", "{input}", "--to", target, "-o", "{out}"]);
        assert_eq!(result.code, 1, "{target}\n{}", result.printed);
        let wanted = "in/sigma_control_character_value.yml:8:9: error: rule 'Escape character in a value': the value holds U+001B";
        assert!(result.printed.contains(wanted), "{target}: expected `{wanted}` in\n{}", result.printed);
    }
    for command in [&["check", "{input}"][..], &["convert", "{input}", "--to", "sigma", "-o", "{out}"]] {
        assert_eq!(run(&input, command).code, 0, "{command:?}");
    }
}

/// Issue 19 item 19: a KQL query whose string holds an escape Kusto does not document
/// (`\u001b`) is not written back as KQL: the error names where.
#[test]
fn an_undocumented_escape_in_a_kql_query_is_not_written() {
    let result = run(&fixture("sentinel_kql_undocumented_escape.yaml"), &["convert", "{input}", "--to", "kql", "-o", "{out}"]);
    assert_eq!(result.code, 1, "{}", result.printed);
    let wanted = "in/sentinel_kql_undocumented_escape.yaml:6:27: error: rule 'Undocumented KQL escape': KQL: this string holds U+001B";
    assert!(result.printed.contains(wanted), "expected `{wanted}` in\n{}", result.printed);
}

/// Issue 19 item 19: what the printer writes in a KQL string reads back as the same value in
/// kql-run and parses in Microsoft's parser (kusto-oracle); a control character in a regex is
/// written as RE2's `\x{1b}`, which matches it. `\u0041`, which Kusto does not document, is
/// read by kql-run as `u0041`: the reason ruleconv never writes it.
#[test]
fn kql_strings_use_only_escapes_kusto_documents() {
    let Some([_, oracle]) = shared::all_shared_or_skip(["tools/kql-run", "tools/kusto-oracle/kusto-oracle"]) else { return };
    let values = ["a\tb", "a\nb", "a\rb", "say \"hi\"", r"C:\Windows\", "it's", "ünï ☃", "x\u{2028}y"];
    for value in values {
        assert_eq!(ruleconv::kql::unwritable_char(value), None, "{value:?}");
    }
    let columns = vec![("A".to_string(), "string".to_string())];
    let rows = ["a\u{1b}b", "axb"].map(|a| json!({ "A": a }).as_object().unwrap().clone()).to_vec();
    let request = |query: String| kql_run::Request {
        query,
        now: "2024-05-01T12:00:00Z".into(),
        tables: BTreeMap::from([("T".to_string(), (columns.clone(), rows.clone()))]),
    };
    let mut queries: Vec<String> =
        values.iter().map(|v| format!("T | take 1 | extend x = {} | project x", ruleconv::kql::quote(v))).collect();
    // The pattern as the KQL emitter writes a Sigma `|re: "a\eb"`.
    let regex = run(&fixture("sigma_control_character_regex.yml"), &["convert", "{input}", "--to", "kql", "-o", "{out}"]);
    assert!(regex.output.contains(r#"matches regex "a\\x{1b}b""#), "{}", regex.output);
    queries.push(r#"T | where A matches regex "a\\x{1b}b" | project A"#.to_string());
    queries.push(r#"T | take 1 | extend x = "a\u0041b" | project x"#.to_string());
    let answers = kql_run::run_all(&queries.iter().cloned().map(request).collect::<Vec<_>>());
    let rows_of = |answer: &kql_run::Answer| match answer {
        kql_run::Answer::Rows { rows, .. } => rows.clone(),
        kql_run::Answer::Unsupported(e) | kql_run::Answer::Error(e) => panic!("kql-run: {e}"),
    };
    for (value, answer) in values.iter().zip(&answers) {
        assert_eq!(rows_of(answer), [[json!(value)]], "{value:?}");
    }
    assert_eq!(rows_of(&answers[values.len()]), [[json!("a\u{1b}b")]], "the regex matches the escape character only");
    assert_eq!(rows_of(&answers[values.len() + 1]), [[json!("au0041b")]], "kql-run reads `\\u` otherwise");
    let lines: String = queries.iter().enumerate().map(|(i, q)| format!("{}\n", json!({ "id": i, "query": q }))).collect();
    for line in piped(&oracle, &["--jsonl"], &lines).lines() {
        let answer: Json = serde_json::from_str(line).unwrap();
        assert_eq!(answer["ok"], true, "Microsoft's parser refuses {}", queries[answer["id"].as_u64().unwrap() as usize]);
    }
}
