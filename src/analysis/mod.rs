//! Per-connection analysis: the timeline model and the analyzer that builds it.

mod analyzer;
mod event;

pub use analyzer::{Analyzer, Config, Sink};
pub use event::*;
