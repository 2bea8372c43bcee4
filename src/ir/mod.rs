//! The vendor-neutral intermediate representation every reader produces and every emitter reads.

mod attack;
pub mod attack_names;
pub mod detection;
mod duration;
mod position;
mod query;
mod rule;
mod sentinel;
mod sigma;
mod timespan;

pub use attack::*;
pub use detection::{Detection, LogSource};
pub use duration::{Duration, DurationError};
pub use position::Position;
pub use query::*;
pub use rule::*;
pub use sentinel::*;
pub use sigma::*;
pub use timespan::{TICKS_PER_SECOND, Timespan};
