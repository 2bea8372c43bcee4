//! What the benchmarks share: timing, and finding the peers they are compared with (pySigma in
//! the sigma-check venv, Microsoft's KQL parser). Its includer declares the `shared` module
//! (tests/support/shared.rs) beside it.

use super::shared;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

pub fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let value = f();
    (value, start.elapsed())
}

pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The Python of the sigma-check venv (pySigma 1.5.1 with the kusto backend), set up by the
/// sigma-check wrapper on first use; `None` when it cannot be.
pub fn venv_python(shared: &Path) -> Option<PathBuf> {
    let cache = shared::tools_cache()?;
    let venv = cache.join("sigma-venv");
    if !venv.join(".ready").exists() {
        // the wrapper installs the pinned venv on first use
        let wrapper = shared.join("tools/sigma-check/sigma");
        let _ = Command::new(wrapper).args(["list", "targets"]).stdout(Stdio::null()).status();
    }
    let python = venv.join("bin/python");
    python.exists().then_some(python)
}

/// A number from the flat JSON object `scripts/compare_pysigma.py --pysigma-only` prints.
pub fn json_number(json: &str, key: &str) -> Option<f64> {
    let rest = &json[json.find(&format!("\"{key}\":"))? + key.len() + 3..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end].trim().parse().ok()
}
