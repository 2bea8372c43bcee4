//! `ruleconv sync`: a committed output folder brought up to date with its pack, only files
//! ruleconv wrote replaced or removed, and `--check` for CI.

#[path = "support/run.rs"]
mod run;

use run::{scratch, text};
use std::path::Path;
use std::process::Command;

const RULES: [&str; 3] = ["registry_run_key_value.yml", "process_creation_encoded.yml", "cloud_signin.yml"];

fn sync(dir: &Path, extra: &[&str]) -> (i32, String) {
    let mut args = vec!["sync", "rules", "--to", "kql", "-o", "out"];
    args.extend_from_slice(extra);
    let out = Command::new(env!("CARGO_BIN_EXE_ruleconv")).args(&args).current_dir(dir).output().unwrap();
    (out.status.code().unwrap(), text(&out.stdout))
}

fn pack(name: &str) -> std::path::PathBuf {
    let dir = scratch(name);
    std::fs::create_dir_all(dir.join("rules")).unwrap();
    for rule in RULES {
        std::fs::copy(Path::new("tests/fixtures/sigma").join(rule), dir.join("rules").join(rule)).unwrap();
    }
    dir
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{from} not in {}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[test]
fn sync_adds_changes_and_removes_only_its_own_files_and_check_says_so_first() {
    let dir = pack("sync-cycle");
    let (code, printed) = sync(&dir, &[]);
    assert_eq!(code, 0, "{printed}");
    assert!(printed.ends_with("ruleconv sync: out synced: 3 added, 0 changed, 0 removed, 0 unchanged, 0 kept\n"), "{printed}");
    std::fs::write(dir.join("out/NOTES.md"), "ours, not ruleconv's\n").unwrap();
    assert_eq!(
        sync(&dir, &["--check"]),
        (0, "ruleconv sync: out is up to date: 0 to add, 0 to change, 0 to remove, 3 unchanged, 0 kept\n".into())
    );

    // One rule edited, one deleted, one renamed (a new output name).
    edit(&dir.join("rules/registry_run_key_value.yml"), "- 'mshta'", "- 'mshta'\n      - 'cscript'");
    std::fs::remove_file(dir.join("rules/process_creation_encoded.yml")).unwrap();
    edit(&dir.join("rules/cloud_signin.yml"), "title: Sign-In From A Legacy Authentication Client", "title: Legacy Client Sign-In");
    let before = files(&dir.join("out"));
    let (code, printed) = sync(&dir, &["--check"]);
    assert_eq!(code, 1, "{printed}");
    assert!(printed.contains("to change  out/Run_Key_Value_Written_To_Start_A_Script_Host.kql\n"), "{printed}");
    assert!(printed.contains("to add     out/Legacy_Client_Sign-In.kql\n"), "{printed}");
    assert!(printed.contains("to remove  out/Encoded_PowerShell_Started_By_An_Office_Application.kql\n"), "{printed}");
    assert!(printed.ends_with("out is out of date: 1 to add, 1 to change, 2 to remove, 0 unchanged, 0 kept\n"), "{printed}");
    assert_eq!(files(&dir.join("out")), before, "--check changed the folder");

    let (code, printed) = sync(&dir, &[]);
    assert_eq!(code, 0, "{printed}");
    assert!(printed.ends_with("out synced: 1 added, 1 changed, 2 removed, 0 unchanged, 0 kept\n"), "{printed}");
    assert_eq!(
        files(&dir.join("out")),
        [".ruleconv-manifest.json", "Legacy_Client_Sign-In.kql", "NOTES.md", "Run_Key_Value_Written_To_Start_A_Script_Host.kql"]
    );
    assert!(std::fs::read_to_string(dir.join("out/Run_Key_Value_Written_To_Start_A_Script_Host.kql")).unwrap().contains("cscript"));
    assert_eq!(sync(&dir, &["--check"]).0, 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn files_ruleconv_did_not_write_or_that_were_edited_are_kept() {
    let dir = pack("sync-foreign");
    std::fs::create_dir_all(dir.join("out")).unwrap();
    let foreign = dir.join("out/Run_Key_Value_Written_To_Start_A_Script_Host.kql");
    std::fs::write(&foreign, "// hand-written\n").unwrap();
    let (code, printed) = sync(&dir, &["--check"]);
    assert_eq!(code, 1, "{printed}");
    assert!(printed.contains("it is not in .ruleconv-manifest.json"), "{printed}");
    let (code, printed) = sync(&dir, &[]);
    assert_eq!(code, 1, "a file ruleconv did not write is not replaced: {printed}");
    assert_eq!(std::fs::read_to_string(&foreign).unwrap(), "// hand-written\n");
    assert_eq!(sync(&dir, &["--force"]).0, 0, "--force replaces it");

    // An output edited by hand whose rule is then deleted: kept, and no longer ruleconv's.
    let edited = dir.join("out/Encoded_PowerShell_Started_By_An_Office_Application.kql");
    std::fs::write(&edited, "// tuned by hand\n").unwrap();
    std::fs::remove_file(dir.join("rules/process_creation_encoded.yml")).unwrap();
    let (code, printed) = sync(&dir, &[]);
    assert_eq!(code, 0, "{printed}");
    assert!(printed.contains("edited since ruleconv wrote it; not removed"), "{printed}");
    assert_eq!(std::fs::read_to_string(&edited).unwrap(), "// tuned by hand\n");
    let manifest = std::fs::read_to_string(dir.join("out/.ruleconv-manifest.json")).unwrap();
    assert!(!manifest.contains("Encoded_PowerShell"), "{manifest}");

    // A rule that fails to convert keeps its last output.
    edit(&dir.join("rules/cloud_signin.yml"), "service: signinlogs", "service: no_such_service");
    let (code, printed) = sync(&dir, &[]);
    assert_eq!(code, 1, "{printed}");
    assert!(printed.contains("kept       out/Sign-In_From_A_Legacy_Authentication_Client.kql: its rule did not convert"), "{printed}");
    assert!(dir.join("out/Sign-In_From_A_Legacy_Authentication_Client.kql").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn sync_needs_an_output_folder() {
    let out = Command::new(env!("CARGO_BIN_EXE_ruleconv")).args(["sync", "tests/fixtures/sigma", "--to", "kql"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("-o DIR is required"), "{}", text(&out.stderr));
}
