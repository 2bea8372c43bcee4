//! The vendor-neutral intermediate representation every reader produces and every emitter reads.

mod attack;
pub mod detection;
mod duration;
mod query;
mod rule;
mod sentinel;

pub use attack::*;
pub use detection::Detection;
pub use duration::{Duration, DurationError};
pub use query::*;
pub use rule::*;
pub use sentinel::*;
