//! The progress bar of a batch: drawn on stderr only when it is a terminal and not `--quiet`,
//! so piped and captured output never holds it.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;

pub struct Progress(ProgressBar);

impl Progress {
    /// A bar counting `total` rules, or a hidden one that draws nothing.
    pub fn new(total: usize, quiet: bool) -> Self {
        if quiet || !std::io::stderr().is_terminal() {
            return Progress(ProgressBar::hidden());
        }
        let style = ProgressStyle::with_template("{bar:40} {pos}/{len} rules {elapsed}").unwrap_or_else(|_| ProgressStyle::default_bar());
        Progress(ProgressBar::new(total as u64).with_style(style))
    }

    /// One more rule done; safe from any thread.
    pub fn tick(&self) {
        self.0.inc(1);
    }

    /// Removes the bar before the problems and the summary are printed.
    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}
