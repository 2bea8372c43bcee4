//! The vendor-neutral intermediate representation every reader produces and every emitter reads.

mod duration;
mod rule;

pub use duration::{Duration, DurationError};
pub use rule::*;
