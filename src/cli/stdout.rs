//! Standard output with every write and the final flush checked. A full device (`> /dev/full`,
//! a full disk) or a closed pipe (`| head -c 100`: Rust ignores SIGPIPE, so the write returns
//! EPIPE) fails the command, said once, instead of a run that exits 0 having lost its output.

use std::io::{BufWriter, StdoutLock, Write};

/// Buffered standard output that keeps its first write error; later writes are skipped.
pub struct Stdout {
    out: BufWriter<StdoutLock<'static>>,
    failed: Option<std::io::Error>,
}

impl Stdout {
    pub fn lock() -> Self {
        Stdout { out: BufWriter::new(std::io::stdout().lock()), failed: None }
    }

    /// Writes `text` as it is.
    pub fn text(&mut self, text: &str) {
        if self.failed.is_none()
            && let Err(e) = self.out.write_all(text.as_bytes())
        {
            self.failed = Some(e);
        }
    }

    /// Writes `text` and a line break.
    pub fn line(&mut self, text: &str) {
        self.text(text);
        self.text("\n");
    }

    /// Flushes what is buffered; the first error of the writes and the flush, as the message
    /// each command prints once.
    pub fn finish(self) -> Result<(), String> {
        let Stdout { mut out, failed } = self;
        let result = match failed {
            Some(e) => Err(e),
            None => out.flush(),
        };
        // Not flushed again on drop: after an error, what is left would only fail again.
        let _ = out.into_parts();
        result.map_err(|e| format!("cannot write to standard output: {e}"))
    }
}
