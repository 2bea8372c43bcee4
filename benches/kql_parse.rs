//! Parses every Sentinel corpus query `KQL_BENCH_ITERS` times (default 20)
//! and reports MB/s and queries/s, next to the Kusto oracle's rate on the
//! same queries (one batch run, minus its start-up time measured on a
//! one-query batch). Set `KQL_BENCH_NO_ORACLE=1` to skip the oracle.
//!
//!     cargo bench --bench kql_parse

#[path = "../tests/support/kql_corpus.rs"]
mod kql_corpus;
#[path = "../tests/support/shared.rs"]
mod shared;

use std::hint::black_box;
use std::time::{Duration, Instant};

fn rate(count: f64, elapsed: Duration) -> f64 {
    count / elapsed.as_secs_f64()
}

fn main() {
    let Some(queries) = kql_corpus::corpus_queries() else { return };
    let texts: Vec<&str> = queries.iter().map(|q| q.text.as_str()).collect();
    let bytes: usize = texts.iter().map(|t| t.len()).sum();
    let iters: usize = std::env::var("KQL_BENCH_ITERS").ok().and_then(|v| v.parse().ok()).unwrap_or(20);

    for text in &texts {
        black_box(ruleconv::kql::parse(text)); // warm-up
    }
    let start = Instant::now();
    for _ in 0..iters {
        for text in &texts {
            black_box(ruleconv::kql::parse(black_box(text)));
        }
    }
    let ours = start.elapsed();
    let total_queries = (texts.len() * iters) as f64;
    let our_qps = rate(total_queries, ours);
    println!(
        "ruleconv::kql::parse: {} queries ({:.2} MB) x {iters} in {:.3} s: {:.1} MB/s, {:.0} queries/s",
        texts.len(),
        bytes as f64 / 1e6,
        ours.as_secs_f64(),
        rate((bytes * iters) as f64 / 1e6, ours),
        our_qps
    );

    if std::env::var_os("KQL_BENCH_NO_ORACLE").is_some() {
        return;
    }
    let timed = |batch: &[&str]| {
        let start = Instant::now();
        black_box(kql_corpus::oracle(batch));
        start.elapsed()
    };
    let startup = timed(&["print 1"]);
    let whole = timed(&texts);
    let work = whole.saturating_sub(startup).max(Duration::from_millis(1));
    let oracle_qps = rate(texts.len() as f64, work);
    println!(
        "kusto-oracle (Kusto.Language on Node): batch {:.2} s, start-up {:.2} s, parsing {:.2} s: {:.2} MB/s, {:.0} queries/s",
        whole.as_secs_f64(),
        startup.as_secs_f64(),
        work.as_secs_f64(),
        rate(bytes as f64 / 1e6, work),
        oracle_qps
    );
    println!("ruleconv is {:.1}x the oracle's parsing rate (start-up excluded)", our_qps / oracle_qps);
}
