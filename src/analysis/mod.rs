//! Per-connection analysis: the timeline model and the analyzer that builds it.

mod analyzer;
pub mod contract;
mod event;

pub use analyzer::{Analyzer, Config, Sink};
pub use event::*;
