//! Writes that fail (a full device, a closed pipe, a file size limit), an output folder two
//! runs write at once, and output paths that are not regular files (issue 19 items 7, 9, 11
//! and 21). The inputs are generated here: each case needs its own device, pipe or folder.

use super::{TIME_BOUND, fresh_dir, with_every_line};
use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// A Sentinel rule every target converts.
const RULE: &str = "id: x\nname: Written rule\nquery: \"T | where a == 'x'\"\n";

/// What one run of ruleconv did.
struct Ran {
    code: i32,
    stderr: String,
}

/// Runs ruleconv in `dir` with `stdout` (read and dropped when `None`), after `setup` in the child;
/// kills it when it takes longer than the bound (a hang fails the test instead of blocking it).
fn ruleconv_with(dir: &Path, args: &[&str], stdout: Option<Stdio>, setup: Option<fn() -> std::io::Result<()>>) -> Ran {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ruleconv"));
    with_every_line(command.args(args)).current_dir(dir).stdin(Stdio::null()).stderr(Stdio::piped());
    let captured = stdout.is_none();
    command.stdout(stdout.unwrap_or_else(Stdio::piped));
    if let Some(setup) = setup {
        // SAFETY: `setup` only makes async-signal-safe calls (setrlimit, signal).
        unsafe { command.pre_exec(setup) };
    }
    let started = Instant::now();
    let mut child = command.spawn().expect("ruleconv starts");
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_string(&mut text);
            }
            text
        })
    };
    let out = drain(if captured { child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>) } else { None });
    let err = drain(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let status = loop {
        if let Some(status) = child.try_wait().expect("waits") {
            break status;
        }
        if started.elapsed() > TIME_BOUND {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{args:?}: still running after {TIME_BOUND:?} (hangs)\n{}", err.join().unwrap_or_default());
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    out.join().expect("stdout");
    let stderr = err.join().expect("stderr");
    let code = status.code().unwrap_or_else(|| panic!("{args:?}: killed by a signal ({status:?})\n{stderr}"));
    assert!(code == 0 || code == 1, "{args:?}: exit code {code}\n{stderr}");
    Ran { code, stderr }
}

fn ruleconv(dir: &Path, args: &[&str]) -> Ran {
    ruleconv_with(dir, args, None, None)
}

/// A fresh folder holding `rule.yaml`.
fn folder_with_rule(name: &str, rule: &str) -> PathBuf {
    let dir = fresh_dir(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("rule.yaml"), rule).unwrap();
    dir
}

/// Every file under `dir`, relative, sorted.
fn names_under(dir: &Path) -> Vec<String> {
    super::files_under(dir).iter().map(|f| f.strip_prefix(dir).unwrap().to_string_lossy().into_owned()).collect()
}

/// A pipe whose reading end is already closed: every write to it fails with EPIPE.
fn closed_pipe() -> Stdio {
    let mut fds = [0; 2];
    // SAFETY: `pipe` fills the two descriptors; the reading one is closed at once and the
    // writing one is owned by the returned `Stdio`.
    unsafe {
        assert_eq!(libc::pipe(fds.as_mut_ptr()), 0, "pipe");
        libc::close(fds[0]);
        Stdio::from(OwnedFd::from_raw_fd(fds[1]))
    }
}

fn dev_full() -> Stdio {
    Stdio::from(std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full"))
}

/// Issue 19 item 7: every command that prints to stdout fails (exit 1) when stdout cannot be
/// written (a full device, a closed pipe), saying why once; `convert` counts the rules it
/// could not write as failed, never as converted.
#[test]
fn writes_to_a_full_or_closed_stdout_fail_the_run_saying_why_once() {
    let dir = folder_with_rule("stdout", RULE);
    std::fs::write(dir.join("events.jsonl"), "{\"a\": \"x\"}\n").unwrap();
    std::fs::write(dir.join("other.yaml"), RULE.replace("Written rule", "Other rule")).unwrap();
    let commands: [&[&str]; 7] = [
        &["convert", "rule.yaml", "--to", "kql"],
        &["--to", "sentinel", "rule.yaml", "other.yaml"],
        &["check", "rule.yaml", "--format", "json"],
        &["explain", "rule.yaml"],
        &["test", "rule.yaml", "--events", "events.jsonl"],
        &["diff", "rule.yaml", "other.yaml"],
        &["report", "rule.yaml"],
    ];
    for args in commands {
        for (device, stdout) in [("/dev/full", dev_full()), ("a closed pipe", closed_pipe())] {
            let ran = ruleconv_with(&dir, args, Some(stdout), None);
            assert_eq!(ran.code, 1, "{args:?} > {device}: a failed write is a failed run\n{}", ran.stderr);
            let said = ran.stderr.matches("cannot write to standard output: ").count();
            assert_eq!(said, 1, "{args:?} > {device}: the reason, once\n{}", ran.stderr);
            if args.contains(&"--to") {
                let rules = if args.contains(&"other.yaml") { 2 } else { 1 };
                let summary = format!(": 0 converted, {rules} failed; fidelity: 0 exact");
                assert!(ran.stderr.contains(&summary), "{args:?} > {device}: expected `{summary}` in\n{}", ran.stderr);
            }
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A file size limit of 64 KiB in the child, with SIGXFSZ ignored so that a write past it
/// fails with EFBIG instead of killing the process: a full disk, for one output file.
fn limit_file_size() -> std::io::Result<()> {
    let limit = libc::rlimit { rlim_cur: 64 * 1024, rlim_max: 64 * 1024 };
    // SAFETY: plain system calls on this process, with valid arguments.
    unsafe {
        if libc::signal(libc::SIGXFSZ, libc::SIG_IGN) == libc::SIG_ERR || libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Issue 19 item 11: an output file the disk has no room for is a failed rule in the summary,
/// the `--report` record (no fidelity: nothing was written) and JUnit, never an exact one, and
/// leaves no temporary file, whether the run made the output folder or it existed.
#[test]
fn a_write_the_disk_refuses_is_a_failure_and_leaves_no_temporary_file() {
    let big = RULE.replace("'x'", &format!("'{}'", "x".repeat(100_000)));
    let dir = folder_with_rule("full_disk", &big);
    std::fs::create_dir_all(dir.join("existing")).unwrap();
    for out in ["new", "existing"] {
        let args = ["convert", "rule.yaml", "--to", "kql", "-o", out, "--report", "report.json", "--junit", "junit.xml"];
        let ran = ruleconv_with(&dir, &args, None, Some(limit_file_size));
        assert_eq!(ran.code, 1, "{out}\n{}", ran.stderr);
        assert!(ran.stderr.contains("error: rule 'Written rule': cannot write"), "{out}\n{}", ran.stderr);
        assert!(ran.stderr.contains("to kql: 0 converted, 1 failed; fidelity: 0 exact"), "{out}\n{}", ran.stderr);
        let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
        let record = &report["records"][0];
        assert_eq!(record["status"], "failed", "{out}: {record}");
        assert_eq!(record["fidelity"], serde_json::Value::Null, "{out}: {record}");
        assert_eq!(report["summary"]["exact"], 0, "{out}: {report}");
        let junit = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
        assert!(junit.contains("<failure") && !junit.contains("fidelity: exact"), "{out}: {junit}");
        assert_eq!(names_under(&dir.join(out)), Vec::<String>::new(), "{out}: nothing is left behind");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Makes a FIFO at `path`.
fn mkfifo(path: &Path) {
    let name = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0, "mkfifo {}", path.display());
}

/// Issue 19 item 21: a FIFO where an output file goes (a rule's file, a report file, the
/// `--report` file) is an error naming it, never read: reading a FIFO waits for a writer forever.
#[test]
fn a_fifo_at_an_output_path_is_an_error_not_a_hang() {
    let dir = folder_with_rule("fifo", RULE);
    let first = ruleconv(&dir, &["convert", "rule.yaml", "--to", "kql", "-o", "out"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let [output] = &names_under(&dir.join("out"))[..] else { panic!("one output file expected") };
    std::fs::remove_file(dir.join("out").join(output)).unwrap();
    mkfifo(&dir.join("out").join(output));
    let ran = ruleconv(&dir, &["convert", "rule.yaml", "--to", "kql", "-o", "out"]);
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    let wanted = format!("cannot write out/{output}: is a FIFO, not a regular file; not replaced");
    assert!(ran.stderr.contains(&wanted), "expected `{wanted}` in\n{}", ran.stderr);

    mkfifo(&dir.join("report.json"));
    let ran = ruleconv(&dir, &["convert", "rule.yaml", "--to", "kql", "--report", "report.json"]);
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    assert!(ran.stderr.contains("report report.json: is a FIFO, not a regular file; not replaced"), "{}", ran.stderr);

    std::fs::create_dir_all(dir.join("report")).unwrap();
    mkfifo(&dir.join("report/report.md"));
    let ran = ruleconv(&dir, &["report", "rule.yaml", "-o", "report"]);
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    assert!(ran.stderr.contains("cannot write report/report.md: is a FIFO, not a regular file; not replaced"), "{}", ran.stderr);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Holds the lock a ruleconv run takes on `dir` (an exclusive `flock` of `dir/.ruleconv.lock`)
/// until the returned file is dropped.
fn hold_lock(dir: &Path) -> std::fs::File {
    use std::os::fd::AsRawFd;
    std::fs::create_dir_all(dir).unwrap();
    let file = std::fs::File::create(dir.join(".ruleconv.lock")).unwrap();
    // SAFETY: a valid open descriptor.
    assert_eq!(unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) }, 0, "flock");
    file
}

/// Issue 19 item 9: while another run holds the output folder, `convert -o` and `report -o`
/// write nothing and say so; a run removes its lock at the end, also when rules failed.
#[test]
fn a_second_run_into_a_locked_output_folder_writes_nothing_and_says_so() {
    let dir = folder_with_rule("locked", RULE);
    let held = hold_lock(&dir.join("out"));
    for args in [&["convert", "rule.yaml", "--to", "kql", "-o", "out"][..], &["report", "rule.yaml", "-o", "out"]] {
        let ran = ruleconv(&dir, args);
        assert_eq!(ran.code, 1, "{args:?}\n{}", ran.stderr);
        assert!(ran.stderr.contains("another ruleconv run is writing to out"), "{args:?}\n{}", ran.stderr);
        assert_eq!(names_under(&dir.join("out")), [".ruleconv.lock"], "{args:?}: wrote while locked");
    }
    drop(held);
    std::fs::write(dir.join("bad.yaml"), "id: y\nname: Bad rule\nquery: \"T | where (\"\n").unwrap();
    let ran = ruleconv(&dir, &["convert", "rule.yaml", "bad.yaml", "--to", "kql", "-o", "out"]);
    assert_eq!(ran.code, 1, "the bad rule fails\n{}", ran.stderr);
    let names = names_under(&dir.join("out"));
    assert!(names.len() == 1 && names[0].ends_with(".kql"), "the good rule is written and the lock removed: {names:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Issue 19 item 9: two runs started together into one new output folder, each with its own
/// rules of the same names: each file holds what the run that reported it written wrote (the
/// run that made the folder does not write over the other's files), and no temporary or lock
/// file is left.
#[test]
fn two_runs_into_one_new_output_folder_never_write_over_each_other() {
    let dir = fresh_dir("two_runs");
    for side in ["a", "b"] {
        std::fs::create_dir_all(dir.join(side)).unwrap();
        for n in 0..150 {
            let rule = format!("id: r{n}\nname: Rule {n}\nquery: \"T | where a == '{side}{n}'\"\n");
            std::fs::write(dir.join(side).join(format!("r{n}.yaml")), rule).unwrap();
        }
    }
    let spawn = |side: &str| {
        Command::new(env!("CARGO_BIN_EXE_ruleconv"))
            .args(["convert", side, "--to", "kql", "-o", "out", "-q", "--report", &format!("{side}.json")])
            .current_dir(&dir)
            .stderr(Stdio::piped())
            .spawn()
            .expect("starts")
    };
    let runs = [("a", spawn("a")), ("b", spawn("b"))];
    for (side, child) in runs {
        let done = child.wait_with_output().expect("waits");
        let stderr = String::from_utf8_lossy(&done.stderr);
        assert!(matches!(done.status.code(), Some(0 | 1)), "{side}: {:?}\n{stderr}", done.status);
        let Ok(report) = std::fs::read_to_string(dir.join(format!("{side}.json"))) else {
            assert!(stderr.contains("another ruleconv run is writing to out"), "{side}: neither written nor locked out\n{stderr}");
            continue;
        };
        let report: serde_json::Value = serde_json::from_str(&report).unwrap();
        for record in report["records"].as_array().unwrap().iter().filter(|r| r["status"] == "converted") {
            let written = std::fs::read_to_string(dir.join(record["output"].as_str().unwrap())).unwrap();
            let index = record["rule_id"].as_str().unwrap().trim_start_matches('r');
            assert!(written.contains(&format!("\"{side}{index}\"")), "{side}: {record} was written over:\n{written}");
        }
    }
    let names = names_under(&dir.join("out"));
    assert!(names.iter().all(|n| n.ends_with(".kql")), "left behind: {names:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Issue 19 item 7: messages that stderr cannot take (`2>/dev/full`) are lost, never a panic:
/// the run ends with the exit code of its rules.
#[test]
fn a_full_stderr_loses_the_messages_not_the_run() {
    let dir = folder_with_rule("stderr", RULE);
    std::fs::write(dir.join("bad.yaml"), "id: y\nname: Bad rule\nquery: \"T | where (\"\n").unwrap();
    let commands: [(&[&str], i32); 3] = [
        (&["convert", "rule.yaml", "--to", "kql", "-o", "out"], 0),
        (&["convert", "bad.yaml", "--to", "kql", "-o", "out"], 1),
        (&["check", "bad.yaml"], 1),
    ];
    for (args, expected) in commands {
        let started = Instant::now();
        let status = Command::new(env!("CARGO_BIN_EXE_ruleconv"))
            .args(args)
            .current_dir(&dir)
            .stdout(Stdio::null())
            .stderr(dev_full())
            .status()
            .expect("runs");
        assert!(started.elapsed() < TIME_BOUND, "{args:?}: took {:?}", started.elapsed());
        assert_eq!(status.code(), Some(expected), "{args:?}: {status:?}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
