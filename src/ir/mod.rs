//! The vendor-neutral intermediate representation every reader produces and every emitter reads.

pub mod detection;
mod duration;
mod rule;

pub use detection::Detection;
pub use duration::{Duration, DurationError};
pub use rule::*;
