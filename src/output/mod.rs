//! The views that are not the TUI: the text timeline, NDJSON and per-connection
//! stats. All of them read the same [`crate::analysis::Event`]s.

pub mod stats;
pub mod text;

use std::io::{self, Write};

use crate::analysis::Event;

pub use stats::{ConnStats, StatsBuilder};
pub use text::TextTimeline;

/// Writes `event` as one NDJSON line.
pub fn write_json_line(w: &mut impl Write, event: &Event) -> io::Result<()> {
    serde_json::to_writer(&mut *w, event)?;
    w.write_all(b"\n")
}
