//! The views that are not the TUI: the text timeline, NDJSON and per-connection
//! stats, and the teaching views (`print --explain`, the markdown lesson, Mermaid
//! sequence diagrams, `stats --compare`). All of them read the same
//! [`crate::analysis::Event`]s; [`warning_text`] words the analyzer's warnings.

/// A message of the catalogue (`locales/output.yml`) in `lang`, its `%{placeholders}`
/// filled from `name = value` arguments (`name = value : {:.3}` formats a number).
macro_rules! msg {
    ($lang:expr, $key:literal $(, $($args:tt)*)?) => {
        rust_i18n::t!($key, locale = $lang.code() $(, $($args)*)?).into_owned()
    };
}

pub mod compare;
pub mod explain;
pub mod har;
pub mod html;
pub mod lesson;
pub mod mermaid;
mod ndjson;
pub mod order;
pub mod payload;
pub mod select;
pub mod stats;
pub mod text;
pub mod warning;

use std::io::{self, Write};

use crate::analysis::{ConnTotals, Event};

pub use stats::{ConnStats, StatsBuilder};
pub use text::TextTimeline;
pub use warning::warning_text;

pub use compare::CompareBuilder;
pub use explain::{ExplainedTimeline, Explainer, Lang, Phase};
pub use lesson::Lesson;
pub use mermaid::Diagrams;

/// A view that writes as events arrive, when connections end, and at the end of the
/// input: how the command line drives the teaching views.
pub trait Report {
    /// A timeline event, in capture order.
    fn event(&mut self, e: &Event, out: &mut dyn Write) -> io::Result<()>;
    /// The capture's first packet: time zero.
    fn first_packet(&mut self, _ts: crate::types::Timestamp) {}
    /// `conn` has ended, with its packet-level `totals`.
    fn conn_closed(
        &mut self,
        _conn: u64,
        _totals: &ConnTotals,
        _out: &mut dyn Write,
    ) -> io::Result<()> {
        Ok(())
    }
    /// The end of the input.
    fn finish(&mut self, _out: &mut dyn Write) -> io::Result<()> {
        Ok(())
    }
    /// The selection (`--grep`) does not show `conn`: a summary leaves it out.
    /// Said when the connection ends, before [`Report::conn_closed`].
    fn hide_conn(&mut self, _conn: u64) {}
    /// Heap bytes kept per connection, counted in the memory budget ([`crate::budget`]).
    fn heap_bytes(&self) -> usize {
        0
    }
}

/// Which teaching view to build (see [`TeachMode::report`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TeachMode {
    /// `print --explain`: the text timeline with explanations.
    Explain(Lang),
    /// `print --format markdown`: a lesson per connection.
    Markdown(Lang),
    /// `print --format html`: the lesson as one self-contained HTML page.
    Html(Lang),
    /// `print --format mermaid`: a sequence diagram per connection.
    Mermaid(Lang),
    /// `stats --compare`: the connections side by side by kind; `json`: one object per kind.
    Compare {
        /// One JSON object per kind instead of the text table.
        json: bool,
        /// The language of the table's labels (the JSON is not translated).
        lang: Lang,
    },
}

impl TeachMode {
    /// A fresh view of this kind.
    pub fn report(self) -> Box<dyn Report> {
        match self {
            TeachMode::Explain(lang) => Box::new(ExplainedTimeline::new(lang)),
            TeachMode::Markdown(lang) => Box::new(Lesson::new(lang)),
            TeachMode::Html(lang) => Box::new(Lesson::html(lang)),
            TeachMode::Mermaid(lang) => Box::new(Diagrams::new(lang, mermaid::DEFAULT_MAX_ARROWS)),
            TeachMode::Compare { json, lang } => Box::new(CompareBuilder::with_lang(json, lang)),
        }
    }
}

/// Writes `event` as one NDJSON line.
pub fn write_json_line(w: &mut impl Write, event: &Event) -> io::Result<()> {
    let mut line = Vec::with_capacity(256);
    push_json_line(&mut line, event)?;
    w.write_all(&line)
}

/// Appends `event` as one NDJSON line to `buf`: the bytes `serde_json::to_writer`
/// and a newline would write (see [`push_json`]).
pub fn push_json_line(buf: &mut Vec<u8>, event: &Event) -> io::Result<()> {
    if !ndjson::push_frequent(buf, event) {
        push_json(buf, event)?;
    }
    buf.push(b'\n');
    Ok(())
}

/// Appends `value` as compact JSON to `buf`, byte for byte as `serde_json::to_writer`
/// writes it, only cheaper: most of what the NDJSON costs to write is its strings
/// (long hex, previews) with nothing to escape, which `serde_json` looks at byte by
/// byte; here they are scanned eight bytes at a time and copied whole. Numbers are
/// written by `serde_json`'s own formatter.
pub fn push_json<T: serde::Serialize + ?Sized>(buf: &mut Vec<u8>, value: &T) -> io::Result<()> {
    value
        .serialize(ndjson::Json { out: buf })
        .map_err(io::Error::other)
}
