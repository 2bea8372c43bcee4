//! `ruleconv list`: what the tool knows, one per line, for people and for scripts (`cut -f1`).

use super::{EXIT_OK, EXIT_PROBLEMS};
use crate::diag::Code;
use crate::emit::{Target, builtin_profiles};
use crate::ir::SourceFormat;

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Listing {
    /// Output formats for `--to`.
    Targets,
    /// Input formats for `--from`.
    Formats,
    /// Built-in `--profile`s, with the pySigma pipeline name each also answers to.
    Profiles,
    /// Problem codes: name, kinds (the usual one first) and meaning.
    Codes,
}

pub fn run(listing: Listing) -> i32 {
    let rows: Vec<String> = match listing {
        Listing::Targets => Target::all().iter().map(|t| format!("{}\t{}", t.name(), t.about())).collect(),
        Listing::Formats => SourceFormat::ALL.iter().map(|f| f.name().to_string()).collect(),
        Listing::Profiles => builtin_profiles()
            .into_iter()
            .map(|(name, about, pipeline)| match pipeline {
                Some(pipeline) => format!("{name}\t{about} (also `-p {pipeline}`)"),
                None => format!("{name}\t{about}"),
            })
            .collect(),
        Listing::Codes => Code::ALL
            .iter()
            .map(|code| {
                let kinds: Vec<&str> = code.kinds().iter().map(|k| k.name()).collect();
                format!("{}\t{}\t{}", code.name(), kinds.join(","), code.about())
            })
            .collect(),
    };
    let mut out = super::stdout::Stdout::lock();
    for row in &rows {
        out.line(row);
    }
    match out.finish() {
        Ok(()) => EXIT_OK,
        Err(message) => {
            say!("ruleconv: {message}");
            EXIT_PROBLEMS
        }
    }
}
