//! The release shape: the Dockerfile's build stage and the package manifest agree with the
//! crate as it is.
//!
//! What this proves without a docker daemon (our machines have the docker client only): the
//! builder installs the same Rust target it builds for, a musl one (static); it builds this
//! crate's binary with the lock file; it copies every folder the build reads (the sources, the
//! files they embed with `include_str!`, the benches Cargo.toml declares), and `.dockerignore`
//! keeps none of them out; its Rust is at least the crate's `rust-version`; the final stage is
//! empty but for that binary, its entry point. What it does not prove: that the image builds
//! and runs. That smoke test runs only where `docker info` answers (else one `skipped:` line).

#[path = "support/run.rs"]
mod run;

use std::io::Write;
use std::path::{Component, Path};
use std::process::Command;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(relative: &str) -> String {
    std::fs::read_to_string(repo().join(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

/// The Dockerfile's instructions (continuation lines joined, comments left out), by stage.
fn stages(dockerfile: &str) -> Vec<Vec<String>> {
    let mut stages: Vec<Vec<String>> = Vec::new();
    let mut pending = String::new();
    for line in dockerfile.lines().map(str::trim).filter(|l| !l.starts_with('#') && !l.is_empty()) {
        match line.strip_suffix('\\') {
            Some(head) => pending.push_str(head),
            None => {
                let instruction = std::mem::take(&mut pending) + line;
                if instruction.starts_with("FROM ") {
                    stages.push(Vec::new());
                }
                stages.last_mut().expect("FROM first").push(instruction);
            }
        }
    }
    stages
}

/// The words of the stage's instructions that start with `keyword`, after it.
fn arguments<'a>(stage: &'a [String], keyword: &str) -> Vec<Vec<&'a str>> {
    stage.iter().filter_map(|i| i.strip_prefix(keyword)).map(|rest| rest.split_whitespace().collect()).collect()
}

/// `major.minor` as a comparable pair.
fn version(text: &str) -> (u32, u32) {
    let mut parts = text.split('.').map(|p| p.parse::<u32>().unwrap_or_else(|_| panic!("version {text}")));
    (parts.next().unwrap(), parts.next().unwrap_or(0))
}

/// The folders (first path component) of every file `src/` embeds with `include_str!`.
fn embedded_folders() -> Vec<String> {
    let mut folders = Vec::new();
    let mut pending = vec![repo().join("src")];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()) {
            if entry.is_dir() {
                pending.push(entry);
                continue;
            }
            let text = std::fs::read_to_string(&entry).unwrap_or_default();
            // The README is embedded by a unit test only (the problem-code table check).
            let text = text.split("#[cfg(test)]").next().unwrap_or_default();
            for quoted in text.split("include_str!(\"").skip(1).filter_map(|rest| rest.split('"').next()) {
                let mut file = entry.parent().unwrap().to_path_buf();
                for part in Path::new(quoted).components() {
                    match part {
                        Component::ParentDir => _ = file.pop(),
                        other => file.push(other),
                    }
                }
                let relative = file.strip_prefix(repo()).expect("embedded from inside the repository").to_path_buf();
                folders.push(relative.components().next().unwrap().as_os_str().to_string_lossy().into_owned());
            }
        }
    }
    folders.sort();
    folders.dedup();
    folders
}

#[test]
fn the_docker_build_stage_builds_this_crate_statically() {
    let dockerfile = read("Dockerfile");
    let stages = stages(&dockerfile);
    assert_eq!(stages.len(), 2, "a builder stage and a final one");
    let (builder, last) = (&stages[0], &stages[1]);

    let from = arguments(builder, "FROM ")[0].clone();
    assert_eq!(from[1..], ["AS", "builder"], "{from:?}");
    let image_rust = from[0].strip_prefix("rust:").expect("the official rust image").split('-').next().unwrap();
    let manifest = read("Cargo.toml");
    let rust_version = manifest.lines().find_map(|l| l.strip_prefix("rust-version = \"")?.strip_suffix('"')).expect("rust-version");
    assert!(version(image_rust) >= version(rust_version), "rust:{image_rust} is older than rust-version {rust_version}");

    let run: Vec<Vec<&str>> = arguments(builder, "RUN ");
    let added: Vec<&str> = run.iter().filter(|w| w.starts_with(&["rustup", "target", "add"])).flat_map(|w| w[3..].to_vec()).collect();
    let build = run.iter().find(|w| w.starts_with(&["cargo", "build"])).expect("a cargo build");
    let flag = |name: &str| build.iter().position(|w| *w == name).map(|i| build[i + 1]);
    let target = flag("--target").expect("--target");
    assert!(target.ends_with("-linux-musl"), "{target}: not a static (musl) target");
    assert_eq!(added, [target], "the target added is the one built for");
    assert!(build.contains(&"--release") && build.contains(&"--locked"), "{build:?}");
    assert_eq!(flag("--bin"), Some(env!("CARGO_PKG_NAME")), "{build:?}");
    assert!(Path::new(env!("CARGO_BIN_EXE_ruleconv")).ends_with(env!("CARGO_PKG_NAME")));

    let workdir = arguments(builder, "WORKDIR ")[0][0];
    let copied: Vec<&str> = arguments(builder, "COPY ").iter().flat_map(|w| w[..w.len() - 1].to_vec()).collect();
    let declared_benches = manifest.matches("[[bench]]").count();
    let mut needed = vec!["Cargo.toml".to_string(), "Cargo.lock".to_string(), "src".to_string()];
    needed.extend(embedded_folders());
    if declared_benches > 0 {
        needed.push("benches".to_string());
    }
    assert!(needed.contains(&"targets".to_string()) && needed.contains(&"templates".to_string()), "{needed:?}");
    let dockerignore = read(".dockerignore");
    let ignored: Vec<&str> = dockerignore.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).collect();
    for path in &needed {
        assert!(copied.contains(&path.as_str()), "the builder does not copy {path}: {copied:?}");
        assert!(!ignored.iter().any(|i| i.trim_end_matches('/') == path), ".dockerignore leaves out {path}");
        assert!(repo().join(path).exists(), "{path}");
    }
    assert!(ignored.contains(&"target/"), "the build folder must stay out of the context");

    let final_from = arguments(last, "FROM ")[0].clone();
    assert!(final_from[0] == "scratch" || final_from[0].starts_with("gcr.io/distroless/static"), "{final_from:?}");
    let binary = format!("{workdir}/target/{target}/release/{}", env!("CARGO_PKG_NAME"));
    let copy = arguments(last, "COPY ").into_iter().find(|w| w.first() == Some(&"--from=builder")).expect("the binary copied");
    assert_eq!(copy[1], binary);
    let entrypoint = last.iter().find_map(|i| i.strip_prefix("ENTRYPOINT ")).expect("ENTRYPOINT");
    assert_eq!(entrypoint, format!("[\"{}\"]", copy[2]));
}

#[test]
fn the_package_manifest_has_what_a_release_needs() {
    let manifest = read("Cargo.toml");
    let value = |key: &str| manifest.lines().find_map(|l| l.strip_prefix(&format!("{key} = "))).unwrap_or_else(|| panic!("no {key}"));
    assert_eq!(value("license"), "\"MIT OR Apache-2.0\"");
    for file in ["LICENSE-MIT", "LICENSE-APACHE", "README.md"] {
        assert!(repo().join(file).is_file(), "{file}");
        assert!(manifest.contains(&format!("\"/{file}\"")), "{file} is not packaged");
    }
    for key in ["description", "repository", "readme", "rust-version"] {
        assert!(value(key).len() > 2, "{key}");
    }
    let keywords = value("keywords").matches('"').count() / 2;
    assert!((1..=5).contains(&keywords), "crates.io takes at most 5 keywords, not {keywords}");
    // The packaged crate builds only if what the sources embed is packaged.
    for folder in embedded_folders() {
        assert!(manifest.contains(&format!("\"/{folder}/\"")), "{folder}/ is embedded but not packaged");
    }
}

/// Builds the image and runs it, where a docker daemon answers.
#[test]
fn the_image_runs_where_docker_is() {
    let daemon = Command::new("docker").args(["info", "--format", "{{.ServerVersion}}"]).output();
    if !daemon.as_ref().is_ok_and(|o| o.status.success()) {
        let _ = writeln!(std::io::stderr().lock(), "skipped: the_image_runs_where_docker_is: no docker daemon");
        return;
    }
    let tag = format!("ruleconv-smoke-{}", std::process::id());
    let built = Command::new("docker").args(["build", "-q", "-t", &tag, "."]).current_dir(repo()).output().expect("docker");
    assert!(built.status.success(), "{}", run::text(&built.stderr));
    let ran = Command::new("docker").args(["run", "--rm", &tag, "--version"]).output().expect("docker");
    let _ = Command::new("docker").args(["rmi", "-f", &tag]).output();
    assert!(ran.status.success(), "{}", run::text(&ran.stderr));
    assert_eq!(run::text(&ran.stdout).trim(), format!("ruleconv {}", env!("CARGO_PKG_VERSION")));
}
