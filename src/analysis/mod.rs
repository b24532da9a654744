//! Per-connection analysis: the timeline model and the analyzer that builds it.

mod event;

pub use event::*;
