//! Per-connection analysis: the timeline model and the analyzer that builds it.

mod analyzer;
pub mod contract;
mod event;
mod phase;
pub mod summary;
mod warning;

pub use analyzer::{Analyzer, Config, ConnTotals, Sink, MAX_WARNINGS};
pub use event::*;
pub use phase::Phase;
pub use summary::{ConnStats, Summary};
pub use warning::Warning;
