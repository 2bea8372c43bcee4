//! Converts the shared Sentinel corpus in-process to sigma, chronicle and markdown, through the
//! same library calls as `ruleconv convert`, and prints the time of each step: reading and
//! parsing every file, then per target the lowering and emitting of every rule. The first
//! conversion to a target also loads its profile or template, so it is shown apart (cold)
//! from the best of `CONVERT_BENCH_ITERS` further runs (default 10). Writing files is left to
//! the end-to-end hyperfine run in docs/evidence.md. Threads: `RAYON_NUM_THREADS` (default: all cores).
//! Skipped when ../shared is absent.
//!
//!     cargo bench --bench convert_corpus

use ruleconv::convert;
use ruleconv::emit::{EmitOptions, Target};
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

const TARGETS: [&str; 3] = ["sigma", "chronicle", "markdown"];

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let value = f();
    (value, start.elapsed())
}

fn main() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/sentinel");
    if !corpus.is_dir() {
        eprintln!("skipped: ../shared/corpus/sentinel is absent");
        return;
    }
    let iters: usize = std::env::var("CONVERT_BENCH_ITERS").ok().and_then(|v| v.parse().ok()).unwrap_or(10);
    let options = EmitOptions::default();
    println!("convert_corpus: {} thread(s), best of {iters} after a cold run", rayon::current_num_threads());

    let (read, cold_read) = timed(|| convert::read_all(&convert::expand_inputs(std::slice::from_ref(&corpus)), None));
    let best_read = (0..iters)
        .map(|_| timed(|| black_box(convert::read_all(&convert::expand_inputs(std::slice::from_ref(&corpus)), None))).1)
        .min()
        .unwrap_or(cold_read);
    let rules: usize = read.iter().map(|f| f.outcome.rules.len()).sum();
    println!("  read    {:4} files, {rules} rules: cold {:7.1} ms, best {:7.1} ms", read.len(), ms(cold_read), ms(best_read));

    let (mut cold_total, mut best_total) = (cold_read, best_read);
    for name in TARGETS {
        let target = Target::from_name(name).expect("registered");
        let ((_, converted), cold) = timed(|| convert::convert(&read, target, &options));
        let converted = converted.len();
        let best = (0..iters).map(|_| timed(|| black_box(convert::convert(&read, target, &options))).1).min().unwrap_or(cold);
        println!("  {name:9} {converted:4} converted:    cold {:7.1} ms, best {:7.1} ms", ms(cold), ms(best));
        cold_total += cold;
        best_total += best;
    }
    println!("  total (one read, three targets):   cold {:7.1} ms, best {:7.1} ms", ms(cold_total), ms(best_total));
}
