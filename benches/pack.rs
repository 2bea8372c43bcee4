//! The pack benchmark: what a user waits for when converting a whole rule repository, next to
//! the peers on the same rules, in one run.
//!
//! Each measurement is a separate process, timed by wall clock, with its peak resident memory
//! (the kernel's `ru_maxrss` for that process, from `wait4`):
//! - `ruleconv convert ../shared/corpus/sentinel --to sigma,sentinel,chronicle,markdown -o DIR`
//!   (reading, lowering, emitting and writing every file);
//! - `ruleconv convert ../shared/corpus/sigma/rules --to kql -o DIR`;
//! - pySigma 1.5.1 (kusto backend, `microsoft_xdr` pipeline) converting the same Sigma rules
//!   (`scripts/compare_pysigma.py --pysigma-only`, in the sigma-check venv);
//! - Microsoft's KQL parser (`../shared/tools/kusto-oracle`, Kusto.Language on Node) parsing
//!   the Sentinel corpus's queries in one batch: the peer has no conversion, so this is the
//!   cost of only reading the queries the way Microsoft does.
//!
//! ruleconv: best wall clock of `PACK_BENCH_ITERS` runs (default 5) after a warm-up run, and
//! the largest peak memory seen. Peers: one run each (`PACK_BENCH_PEER_ITERS`), best kept.
//! Every run writes every file, into a new folder of its own; the folders are removed only
//! when the benchmark ends, because ext4 without a journal (this machine's) creates files
//! slowly for one to five minutes after thousands were deleted (it skips each recently freed
//! inode), which would time the file system's bookkeeping of an earlier run, not ruleconv.
//! Threads: ruleconv's default (all cores); `RAYON_NUM_THREADS` sets it.
//! Skipped when ../shared is absent; a peer is skipped when it cannot be set up.
//!
//!     cargo bench --bench pack

#[path = "../tests/support/kql_corpus.rs"]
mod kql_corpus;
#[allow(dead_code)] // it times whole processes, not closures
#[path = "support/peers.rs"]
mod peers;
#[path = "../tests/support/shared.rs"]
mod shared;

use peers::{env_usize, json_number, ms, venv_python};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One process run: its wall clock and peak resident memory.
#[derive(Clone, Copy)]
struct Run {
    wall: Duration,
    peak_mib: f64,
}

/// Runs `command` to its end with its output discarded unless `stdout` is given, and measures
/// it. `None` when it cannot start or is killed; an exit code is not a failure here (ruleconv
/// exits 1 when some corpus rules do not convert, which the corpus has).
fn measure(command: &mut Command, stdin: Option<&Path>) -> Option<(Run, Vec<u8>)> {
    let input = match stdin {
        Some(path) => Stdio::from(std::fs::File::open(path).ok()?),
        None => Stdio::null(),
    };
    let output = tempfile_path("stdout");
    let started = Instant::now();
    let child = command.stdin(input).stdout(std::fs::File::create(&output).ok()?).stderr(Stdio::null()).spawn().ok()?;
    let mut status = 0;
    // SAFETY: an all-zero `rusage` is a valid value, and `wait4` only writes into the two
    // out-parameters for our own child, which `Child` never waits for after this.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    let wall = started.elapsed();
    let stdout = std::fs::read(&output).unwrap_or_default();
    let _ = std::fs::remove_file(&output);
    (waited > 0 && libc::WIFEXITED(status)).then_some((Run { wall, peak_mib: usage.ru_maxrss as f64 / 1024.0 }, stdout))
}

fn tempfile_path(what: &str) -> PathBuf {
    std::env::temp_dir().join(format!("ruleconv-pack-bench-{}-{what}", std::process::id()))
}

/// The best wall clock and the largest peak of `iters` runs.
fn best_of(runs: impl Iterator<Item = Option<Run>>) -> Option<Run> {
    runs.flatten().reduce(|a, b| Run { wall: a.wall.min(b.wall), peak_mib: a.peak_mib.max(b.peak_mib) })
}

/// `ruleconv convert INPUT --to TARGETS -o DIR --report FILE`, measured `iters` times after a
/// warm-up, each into a new folder (added to `outs`); also the number of rules read, from the report.
fn ruleconv(corpus: &Path, targets: &str, iters: usize, outs: &mut Vec<PathBuf>) -> Option<(Run, f64)> {
    let first = outs.len();
    outs.extend((first..=first + iters).map(|n| tempfile_path(&format!("out-{n}"))));
    let report = tempfile_path("report.json");
    let mut unused = outs[first..].iter();
    let mut run = || {
        let out = unused.next()?;
        let mut command = Command::new(env!("CARGO_BIN_EXE_ruleconv"));
        command.arg("convert").arg(corpus).args(["--to", targets, "-o"]).arg(out).arg("--report").arg(&report);
        measure(&mut command, None).map(|(run, _)| run)
    };
    run()?;
    let best = best_of((0..iters).map(|_| run()));
    let summary = std::fs::read_to_string(&report).unwrap_or_default();
    let _ = std::fs::remove_file(&report);
    let report: serde_json::Value = serde_json::from_str(&summary).ok()?;
    // One target has a `summary`; several have `summaries` by target, each counting every rule.
    let counts = report.get("summary").or_else(|| report.get("summaries")?.as_object()?.values().next())?;
    let rules = counts.get("rules")?.as_f64()?;
    best.map(|run| (run, rules))
}

fn print(name: &str, run: Run, count: f64, unit: &str) {
    let rate = count / run.wall.as_secs_f64();
    println!("  {name:46} {:8.1} ms  {:8.0} {unit}/s  peak {:6.1} MiB", ms(run.wall), rate, run.peak_mib);
}

/// pySigma converting the Sigma corpus: its best run, and the rules it read.
fn pysigma(shared: &Path, corpus: &Path, iters: usize) -> Option<(Run, f64)> {
    let python = venv_python(shared)?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/compare_pysigma.py");
    let mut report = String::new();
    let best = best_of((0..iters).map(|_| {
        let (run, stdout) = measure(Command::new(&python).arg(&script).arg("--pysigma-only").arg(corpus), None)?;
        report = String::from_utf8_lossy(&stdout).into_owned();
        Some(run)
    }))?;
    Some((best, json_number(&report, "rules")?))
}

/// Microsoft's parser reading every Sentinel corpus query in one batch, and its start-up alone.
fn oracle(iters: usize) -> Option<(Run, Run, f64)> {
    let queries = kql_corpus::corpus_queries()?;
    let lines: String =
        queries.iter().enumerate().map(|(id, q)| format!("{}\n", serde_json::json!({ "id": id, "query": q.text }))).collect();
    let (batch, one) = (tempfile_path("queries.jsonl"), tempfile_path("one.jsonl"));
    std::fs::write(&batch, lines).ok()?;
    std::fs::write(&one, "{\"id\":0,\"query\":\"print 1\"}\n").ok()?;
    let run = |input: &Path| {
        let mut command = Command::new(kql_corpus::oracle_path());
        command.arg("--jsonl");
        measure(&mut command, Some(input)).map(|(run, _)| run)
    };
    run(&one)?; // installs the parser on first use
    let startup = best_of((0..iters).map(|_| run(&one)));
    let whole = best_of((0..iters).map(|_| run(&batch)));
    let _ = std::fs::remove_file(&batch);
    let _ = std::fs::remove_file(&one);
    Some((whole?, startup?, queries.len() as f64))
}

fn main() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    let (sentinel, sigma) = (shared.join("corpus/sentinel"), shared.join("corpus/sigma/rules"));
    if !sentinel.is_dir() || !sigma.is_dir() {
        eprintln!("skipped: ../shared/corpus is absent");
        return;
    }
    let iters = env_usize("PACK_BENCH_ITERS", 5).max(1);
    let peer_iters = env_usize("PACK_BENCH_PEER_ITERS", 1).max(1);
    println!("pack: whole processes, wall clock (ruleconv best of {iters}, peers best of {peer_iters}) and peak memory");

    let targets = "sigma,sentinel,chronicle,markdown";
    let mut outs = Vec::new();
    let pack = ruleconv(&sentinel, targets, iters, &mut outs);
    match pack {
        Some((run, rules)) => print(&format!("ruleconv sentinel corpus -> {targets}"), run, rules, "rules"),
        None => println!("  ruleconv sentinel corpus: failed to run"),
    }
    match oracle(peer_iters) {
        Some((whole, startup, queries)) => {
            print("kusto-oracle parsing the same queries", whole, queries, "queries");
            let parsing = whole.wall.saturating_sub(startup.wall).max(Duration::from_millis(1));
            println!("    of which start-up {:.1} ms; parsing alone {:.0} queries/s", ms(startup.wall), queries / parsing.as_secs_f64());
            if let Some((run, _)) = pack {
                println!("    ruleconv's whole conversion takes {:.2}x the oracle's batch wall clock", ms(run.wall) / ms(whole.wall));
            }
        }
        None => println!("  kusto-oracle: skipped (it could not be set up)"),
    }

    let kql = ruleconv(&sigma, "kql", iters, &mut outs);
    match kql {
        Some((run, rules)) => print("ruleconv sigma corpus -> kql", run, rules, "rules"),
        None => println!("  ruleconv sigma corpus: failed to run"),
    }
    match pysigma(&shared, &sigma, peer_iters) {
        Some((run, rules)) => {
            print("pySigma 1.5.1 kusto/microsoft_xdr, same rules", run, rules, "rules");
            if let Some((ours, our_rules)) = kql {
                let ratio = (our_rules / ours.wall.as_secs_f64()) / (rules / run.wall.as_secs_f64());
                println!("    ruleconv is {ratio:.1}x pySigma's rate (whole processes, files written by ruleconv only)");
            }
        }
        None => println!("  pySigma: skipped (no sigma-check venv; run ../shared/tools/sigma-check/sigma once)"),
    }
    outs.iter().for_each(|out| {
        let _ = std::fs::remove_dir_all(out);
    });
}
