//! The pipeline's one-way dependencies, checked on the source's own paths: read → Rule →
//! lower → Detection → emit. A module that reaches across a layer fails here with the file,
//! line and path it names, before it reaches review.
//!
//! - the IR (`src/ir/`) depends on nothing above it;
//! - emitters (`src/emit/`) never reach into readers, Sigma's syntax or lowering: they get
//!   the `Rule` and the `Detection` the job lowered;
//! - readers (`src/read/`) know no targets;
//! - `src/kql/` is a leaf: it names nothing else of the crate.

use std::path::{Path, PathBuf};

/// (folder under src/, crate paths its code may not name, why)
const RULES: &[(&str, &[&str], &str)] = &[
    (
        "ir",
        &["crate::diag", "crate::read", "crate::emit", "crate::lower", "crate::sigma", "crate::convert", "crate::cli", "crate::check"],
        "the IR depends on nothing above it",
    ),
    (
        "emit",
        &["crate::read", "crate::sigma", "crate::lower", "crate::kql::parser", "crate::kql::parse", "kql::parse"],
        "emitters get the Rule and the Detection",
    ),
    ("read", &["crate::emit"], "readers know no targets"),
    ("kql", &["crate::ir", "crate::diag", "crate::read", "crate::emit", "crate::lower", "crate::sigma", "crate::convert"], "kql is a leaf"),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable source folder").flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every forbidden crate path a line of code names, `use crate::x::{...}` or inline
/// `crate::x::y`, up to the file's unit tests.
fn violations(file: &Path, forbidden: &[&str]) -> Vec<String> {
    let text = std::fs::read_to_string(file).expect("readable source");
    let mut found = Vec::new();
    // Unit tests may build their inputs through any layer: the rules hold for the code.
    if file.file_name().is_some_and(|name| name == "tests.rs") {
        return found;
    }
    for (n, line) in text.lines().enumerate().take_while(|(_, line)| line.trim() != "#[cfg(test)]") {
        let code = line.split("//").next().unwrap_or_default();
        for path in forbidden {
            let named = code.match_indices(path).any(|(at, _)| {
                let next = code[at + path.len()..].chars().next();
                matches!(next, None | Some(':' | ';' | ',' | '}' | ' ' | ')' | '('))
            });
            // `use crate::kql::{self, parse}` names the parser too.
            let grouped = path.rsplit_once("::").is_some_and(|(parent, leaf)| {
                code.contains(&format!("{parent}::{{")) && code.split(['{', ',', '}']).any(|part| part.trim() == leaf)
            });
            if named || grouped {
                found.push(format!("{}:{}: names `{path}`", file.display(), n + 1));
            }
        }
    }
    found
}

#[test]
fn every_layer_names_only_what_it_may() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut broken = Vec::new();
    for (folder, forbidden, why) in RULES {
        let mut files = Vec::new();
        rust_files(&src.join(folder), &mut files);
        assert!(!files.is_empty(), "src/{folder} has no Rust files");
        for file in files {
            broken.extend(violations(&file, forbidden).into_iter().map(|v| format!("{v} ({why})")));
        }
    }
    assert!(broken.is_empty(), "layer rules broken:\n{}", broken.join("\n"));
}

#[test]
fn the_checker_sees_each_way_of_naming_a_module() {
    let dir = std::env::temp_dir().join(format!("ruleconv-layers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("sample.rs");
    let sample = "use crate::lower::lower_rule;\nuse crate::kql::{self, parser};\nlet d = crate::sigma::parse_file(t);\nlet p = kql::parse(q);\n// crate::read in a comment\nuse crate::lowering_free::x;\n#[cfg(test)]\nuse crate::read::read;\n";
    std::fs::write(&file, sample).expect("written");
    let found = violations(&file, &["crate::lower", "crate::kql::parser", "crate::sigma", "kql::parse", "crate::read"]);
    std::fs::remove_dir_all(&dir).ok();
    let lines: Vec<&str> = found.iter().map(|f| f.rsplit_once(": names ").map_or("", |(_, p)| p)).collect();
    assert_eq!(lines, ["`crate::lower`", "`crate::kql::parser`", "`crate::sigma`", "`kql::parse`"], "{found:?}");
}
