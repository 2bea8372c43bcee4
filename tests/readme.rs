//! The README's guide, run: its first command, and every `$ ` line of its ```console blocks in
//! one scratch folder holding copies of `tests/fixtures` and `tests/fixtures-events`, in order.
//! Each command must exit as its `# exits N` comment says (0 without one), and every output line
//! shown under it must be a line of what it printed. So the guide cannot drift from the tool.
#![cfg(unix)] // the walkthroughs use `sh`, `cp` and `sed`

#[path = "support/scratch.rs"]
#[allow(dead_code)] // this test needs the folder only
mod scratch;

use scratch::Scratch;
use std::path::Path;
use std::process::Command;

const README: &str = include_str!("../README.md");

/// One `$ ` line of a console block and the output lines shown under it.
struct Step {
    command: String,
    exits: i32,
    shown: Vec<String>,
}

fn console_steps(readme: &str) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    let mut in_console = false;
    for line in readme.lines() {
        if line.starts_with("```") {
            in_console = !in_console && line == "```console";
            continue;
        }
        if !in_console {
            continue;
        }
        if let Some(command) = line.strip_prefix("$ ") {
            let exits = command.split_once("# exits ").map_or(0, |(_, rest)| {
                rest.split(|c: char| !c.is_ascii_digit()).next().and_then(|n| n.parse().ok()).expect("`# exits N` with a number")
            });
            steps.push(Step { command: command.to_string(), exits, shown: Vec::new() });
        } else {
            steps.last_mut().expect("output shown before any command").shown.push(line.trim_end().to_string());
        }
    }
    steps
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().map(|e| e.unwrap()) {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn the_walkthroughs_run_as_written() {
    let steps = console_steps(README);
    assert!(steps.len() >= 8, "only {} walkthrough commands found", steps.len());
    let scratch = Scratch::new("readme");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    for fixtures in ["tests/fixtures", "tests/fixtures-events"] {
        copy_tree(&repo.join(fixtures), &scratch.0.join(fixtures));
    }
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_ruleconv")).parent().unwrap();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    for step in steps {
        let output = Command::new("sh").arg("-c").arg(&step.command).current_dir(&scratch.0).env("PATH", &path).output().unwrap();
        let printed = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        assert_eq!(output.status.code(), Some(step.exits), "`{}` exited otherwise than the README says:\n{printed}", step.command);
        let lines: Vec<&str> = printed.lines().map(str::trim_end).collect();
        for shown in &step.shown {
            assert!(lines.contains(&shown.as_str()), "`{}`: the README shows\n{shown}\nbut it printed\n{printed}", step.command);
        }
    }
}

/// The first of "The two commands": a real conversion whose verdict the README states.
#[test]
fn the_first_command_converts_exactly_as_the_readme_says() {
    let section = README.split("\n## The two commands\n").nth(1).expect("README has The two commands");
    let command = section.lines().find_map(|l| l.trim().strip_prefix("cargo run --release -- ")).expect("a cargo run line");
    let output = Command::new(env!("CARGO_BIN_EXE_ruleconv"))
        .args(command.split_whitespace())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(section.contains("`exact, schema-checked`"), "the README no longer states the verdict");
    assert!(stdout.starts_with("// ruleconv fidelity: exact\n// ruleconv evidence: schema-checked\n"), "{stdout}");
}
