//! Converts the shared SigmaHQ corpus (../shared/corpus/sigma/rules) to KQL in-process, through
//! the same library calls as `ruleconv convert --to kql` (default `sentinel` profile): reading
//! and parsing every file, then lowering and emitting every rule; writing files is left out.
//! In the same run it times pySigma 1.5.1 (kusto backend, `microsoft_xdr` pipeline) converting
//! the same files, and prints both rates in rules per second and their ratio.
//!
//! ruleconv: a cold run (it loads the profile), then the best of `SIGMA_BENCH_ITERS` (default
//! 10) read + convert runs, on all cores (`RAYON_NUM_THREADS`) and on one thread.
//! pySigma: `scripts/compare_pysigma.py --pysigma-only DIR` run by the sigma-check venv's Python
//! (installed by `../shared/tools/sigma-check/sigma` on first use), wall clock of the whole
//! process, `SIGMA_BENCH_PY_ITERS` times (default 1), best kept; the script also reports its
//! in-process load and convert times, and Python's start-up with the pySigma imports is timed
//! on its own. The script converts rule by rule with errors collected, as
//! `sigma convert -t kusto -p microsoft_xdr -s` does, because sigma-cli 3.1.0 stops the whole
//! batch at the first rule that raises an error pySigma does not collect (a field reference).
//! Skipped when ../shared is absent; the pySigma half is skipped when its venv cannot be set up.
//!
//!     cargo bench --bench sigma_corpus

#[path = "support/peers.rs"]
mod peers;
#[path = "../tests/support/shared.rs"]
mod shared;

use peers::{env_usize, json_number, ms, timed, venv_python};
use ruleconv::convert;
use ruleconv::emit::{EmitOptions, Target};
use std::hint::black_box;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Reads the corpus and converts it to KQL: (rules read, rules converted).
fn ruleconv_once(corpus: &Path, options: &EmitOptions) -> (usize, usize) {
    let read = convert::read_all(&convert::expand_inputs(&[corpus.to_path_buf()]), None);
    let rules = read.iter().map(|f| f.outcome.rules.len()).sum();
    let (_, converted) = convert::convert(&read, Target::from_name("kql").expect("registered"), options);
    (rules, black_box(converted).len())
}

fn ruleconv_best(corpus: &Path, options: &EmitOptions, iters: usize) -> Duration {
    (0..iters).map(|_| timed(|| black_box(ruleconv_once(corpus, options))).1).min().unwrap_or_default()
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared = root.join("../shared");
    let corpus = shared.join("corpus/sigma/rules");
    if !corpus.is_dir() {
        eprintln!("skipped: ../shared/corpus/sigma/rules is absent");
        return;
    }
    let iters = env_usize("SIGMA_BENCH_ITERS", 10);
    let py_iters = env_usize("SIGMA_BENCH_PY_ITERS", 1).max(1);
    let options = EmitOptions::default();
    let threads = rayon::current_num_threads();
    println!("sigma_corpus: {} to kql (sentinel profile), best of {iters} after a cold run", corpus.display());

    let ((rules, converted), cold) = timed(|| ruleconv_once(&corpus, &options));
    let best = ruleconv_best(&corpus, &options, iters);
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("thread pool");
    let best_one = one.install(|| ruleconv_best(&corpus, &options, iters));
    let rate = |d: Duration| rules as f64 / d.as_secs_f64();
    println!("  ruleconv: {rules} rules, {converted} converted (read + lower + emit, no file writes)");
    println!("    cold, {threads} thread(s):  {:8.1} ms  {:9.0} rules/s", ms(cold), rate(cold));
    println!("    best, {threads} thread(s):  {:8.1} ms  {:9.0} rules/s", ms(best), rate(best));
    println!("    best, 1 thread:     {:8.1} ms  {:9.0} rules/s", ms(best_one), rate(best_one));

    let Some(python) = venv_python(&shared) else {
        println!("  pySigma: skipped (no sigma-check venv; run ../shared/tools/sigma-check/sigma once)");
        return;
    };
    let script = root.join("scripts/compare_pysigma.py");
    let (_, startup) = timed(|| {
        Command::new(&python).args(["-c", "import sigma.backends.kusto, sigma.pipelines.microsoftxdr, sigma.collection"]).status()
    });
    let mut py_best: Option<(Duration, String)> = None;
    for _ in 0..py_iters {
        let (output, wall) = timed(|| Command::new(&python).arg(&script).arg("--pysigma-only").arg(&corpus).stderr(Stdio::null()).output());
        let Ok(output) = output.map_err(|e| println!("  pySigma: skipped ({e})")) else { return };
        if !output.status.success() {
            println!("  pySigma: skipped (the script failed: {})", output.status);
            return;
        }
        if py_best.as_ref().is_none_or(|(d, _)| wall < *d) {
            py_best = Some((wall, String::from_utf8_lossy(&output.stdout).into_owned()));
        }
    }
    let (py_wall, report) = py_best.expect("at least one run");
    let py_rules = json_number(&report, "rules").unwrap_or(rules as f64);
    let py_converted = json_number(&report, "converted").unwrap_or(f64::NAN);
    let load = json_number(&report, "load_s").unwrap_or(f64::NAN);
    let conv = json_number(&report, "convert_s").unwrap_or(f64::NAN);
    let py_rate = py_rules / py_wall.as_secs_f64();
    let py_inproc = py_rules / (load + conv);
    println!("  pySigma 1.5.1 kusto/microsoft_xdr: {py_rules} rules, {py_converted} converted, 1 thread, best of {py_iters}");
    println!("    wall clock, whole process: {:8.1} ms  {:9.0} rules/s", ms(py_wall), py_rate);
    println!("      of which Python start-up + imports ~{:.1} ms", ms(startup));
    println!("    in-process (load {:.1} ms + convert {:.1} ms): {:9.0} rules/s", load * 1e3, conv * 1e3, py_inproc);
    println!("  ratio (rules/s, ruleconv / pySigma):");
    println!("    best {threads} thread(s) vs pySigma wall clock:  {:6.1}x", rate(best) / py_rate);
    println!("    best 1 thread vs pySigma wall clock:     {:6.1}x", rate(best_one) / py_rate);
    println!("    cold {threads} thread(s) vs pySigma wall clock:  {:6.1}x", rate(cold) / py_rate);
    println!("    best 1 thread vs pySigma in-process:     {:6.1}x", rate(best_one) / py_inproc);
}
