//! The terminal interface: `wsscope view` and `wsscope FILE`.
//!
//! The TUI never touches libpcap. Everything it shows arrives through one
//! [`Receiver<Feed>`] (events in capture order, progress, drop counts,
//! warnings), and every side effect (keys, mouse, resize, the clock) enters
//! [`App::update`] as a [`Msg`], so a whole session runs in tests against
//! ratatui's `TestBackend` (the gitui/trippy habit).
//!
//! Layout of the module: [`app`] holds the state and the update function;
//! [`store`] the events and connections; one file per panel
//! ([`connections`], [`timeline`], [`detail`], [`status`], [`help`]);
//! [`theme`] the colours (and `NO_COLOR`); [`terminal`] setup, restore and
//! the panic hook; [`run`] the loop that ties them together.

/// A message of the view's catalogue (`locales/tui.yml`) in `lang` (a
/// [`wsscope::output::Lang`]), as an owned `String`; arguments as in
/// `rust_i18n::t!` (`name = value`, `name = value : {:.3}`).
macro_rules! tr {
    ($lang:expr, $key:expr) => {
        rust_i18n::t!($key, locale = $lang.code()).into_owned()
    };
    ($lang:expr, $key:expr, $($args:tt)*) => {
        rust_i18n::t!($key, locale = $lang.code(), $($args)*).into_owned()
    };
}

pub mod app;
pub mod connections;
pub mod detail;
pub mod explain;
pub mod fmt;
pub mod help;
pub mod index;
pub mod reload;
pub mod status;
pub mod store;
pub mod terminal;
pub mod theme;
pub mod timeline;
pub mod upgrade;

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod index_tests;
#[cfg(test)]
mod real_tests;
#[cfg(test)]
mod tests;

use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::{Duration, Instant};

pub use app::{App, Msg};

/// What the producer (capture + analysis, on its own thread) sends the TUI.
#[derive(Debug)]
pub enum Feed {
    /// The capture's first packet: every time shown counts from it.
    FirstPacket(wsscope::types::Timestamp),
    /// Timeline events, in capture order.
    Events(Vec<wsscope::analysis::Event>),
    /// Connections have ended: their packet-level numbers (bytes, times, TLS
    /// records), in the order they ended.
    Totals(Vec<(u64, wsscope::analysis::ConnTotals)>),
    /// File indexing progress, or the live packet counters.
    Progress {
        /// Packets read so far.
        packets: u64,
        /// Bytes of the file read so far.
        bytes_read: u64,
        /// The file's size, when known (never for live captures).
        total_bytes: Option<u64>,
    },
    /// libpcap's count of packets dropped by the kernel (live).
    Dropped(u64),
    /// Something worth telling the user that does not stop the capture.
    Warning(Said),
    /// The file has been read to its end.
    Done,
    /// The source failed; what was received so far stays on screen.
    Error(Said),
}

/// A message for the user in every language the view speaks: it shows the one it
/// speaks now, and `L` switches them all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Said {
    en: String,
    zh: String,
}

impl Said {
    /// The message `say` words in each language.
    pub fn new(say: impl Fn(wsscope::output::Lang) -> String) -> Said {
        Said {
            en: say(wsscope::output::Lang::En),
            zh: say(wsscope::output::Lang::Zh),
        }
    }

    /// The message in `lang`.
    pub fn get(&self, lang: wsscope::output::Lang) -> &str {
        match lang {
            wsscope::output::Lang::En => &self.en,
            wsscope::output::Lang::Zh => &self.zh,
        }
    }
}

impl From<&str> for Said {
    /// The same text in every language (wire text, a name).
    fn from(s: &str) -> Said {
        Said::new(|_| s.to_string())
    }
}

/// Feed messages a file's producer may have waiting for the view: past them it
/// waits, so a producer faster than the view does not queue events in memory.
const FEED_AHEAD: usize = 8;

/// The producer's end of the feed: bounded for a file, unbounded for a live
/// capture (which must not stop reading the interface).
pub enum FeedTx {
    /// A file: the producer waits for the view.
    Bounded(std::sync::mpsc::SyncSender<Feed>),
    /// Live.
    Unbounded(std::sync::mpsc::Sender<Feed>),
}

impl FeedTx {
    /// Sends `f` (a file: waits while [`FEED_AHEAD`] messages wait); an error
    /// when the view is gone.
    pub fn send(&self, f: Feed) -> Result<(), std::sync::mpsc::SendError<Feed>> {
        match self {
            FeedTx::Bounded(tx) => tx.send(f),
            FeedTx::Unbounded(tx) => tx.send(f),
        }
    }
}

/// The feed's two ends: bounded unless `live`.
pub fn feed(live: bool) -> (FeedTx, Receiver<Feed>) {
    if live {
        let (tx, rx) = std::sync::mpsc::channel();
        (FeedTx::Unbounded(tx), rx)
    } else {
        let (tx, rx) = std::sync::mpsc::sync_channel(FEED_AHEAD);
        (FeedTx::Bounded(tx), rx)
    }
}

/// How the view was asked for on the command line.
#[derive(Clone, Debug)]
pub struct ViewOptions {
    /// The file name or the interface, for the status bar.
    pub source_label: String,
    /// A live capture (`-i`) rather than a replayed file.
    pub live: bool,
    /// Replay speed: 1.0 is the recorded pace.
    pub speed: f64,
    /// No colours, only bold/reverse/underline (`NO_COLOR` or a flag).
    pub no_color: bool,
    /// The language of every word the view shows (`L` switches it).
    pub lang: wsscope::output::Lang,
}

/// How long the loop waits for a key before drawing again.
const INPUT_TIMEOUT: Duration = Duration::from_millis(50);
/// How long the loop waits for a key after taking some of the feed.
const FED_TIMEOUT: Duration = Duration::from_millis(5);
/// Draining the feed stops after this long, so a fast producer (a large file
/// being indexed) cannot starve the keyboard or the screen; what is left is
/// taken on the next turn, without waiting for input.
const MAX_DRAIN_TIME: Duration = Duration::from_millis(30);

/// Runs the interface until the user quits: sets up the terminal, then loops
/// (drain `rx` without blocking, advance the clock, draw, wait up to 50 ms for
/// input). The terminal is restored on return, on error and on panic.
pub fn run(
    rx: Receiver<Feed>,
    mut opts: ViewOptions,
    loader: Option<Box<dyn store::Loader>>,
) -> std::io::Result<()> {
    if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        opts.no_color = true;
    }
    let mut term = terminal::Tui::enter()?;
    let start = Instant::now();
    let mut app = match loader {
        Some(l) => App::with_loader(opts, l),
        None => App::new(opts),
    };
    if let Ok(size) = term.size() {
        app.update(Msg::Resize(size.width, size.height));
    }
    let mut connected = true;
    let mut trace = Trace::from_env(start);
    let mut key_at: Option<Instant> = None;
    loop {
        if terminal::panicked() {
            // The hook has restored the terminal and printed the message.
            return Err(std::io::Error::other("a thread panicked; the view stopped"));
        }
        let mut pending = false;
        let mut fed = false;
        if connected {
            let drain_start = Instant::now();
            loop {
                match rx.try_recv() {
                    Ok(feed) => {
                        fed = true;
                        app.update(Msg::Feed(feed))
                    }
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        connected = false;
                        app.update(Msg::Disconnected);
                        break;
                    }
                }
                if drain_start.elapsed() > MAX_DRAIN_TIME {
                    pending = true;
                    break;
                }
            }
        }
        app.update(Msg::Tick(start.elapsed()));
        term.draw(|f| app.render(f))?;
        if let Some(t) = trace.as_mut() {
            t.drawn(app.has_panels(), key_at.take());
        }
        if app.should_quit() {
            break;
        }
        // A file being read: its producer waits for the feed to be taken
        // (a bounded channel), so the loop comes back soon.
        let wait = if pending {
            Duration::ZERO
        } else if fed {
            FED_TIMEOUT
        } else {
            INPUT_TIMEOUT
        };
        for msg in terminal::read_input(wait)? {
            if matches!(msg, Msg::Key(_)) {
                key_at.get_or_insert_with(Instant::now);
            }
            app.update(msg);
        }
        if app.should_quit() {
            break;
        }
    }
    term.leave()
}

/// Timings for benchmarks (`bench/view.sh`), when `WSSCOPE_VIEW_TRACE` names a
/// file: `first_screen MS` (from the start of the view to the first screen
/// with the panels) and `key MS` per key (from reading it to the next screen
/// drawn). Never used by the tests.
struct Trace {
    out: std::fs::File,
    start: Instant,
    first: bool,
}

impl Trace {
    fn from_env(start: Instant) -> Option<Trace> {
        let path = std::env::var_os("WSSCOPE_VIEW_TRACE")?;
        let out = std::fs::File::create(path).ok()?;
        Some(Trace {
            out,
            start,
            first: false,
        })
    }

    fn drawn(&mut self, panels: bool, key: Option<Instant>) {
        use std::io::Write;
        if panels && !self.first {
            self.first = true;
            let ms = self.start.elapsed().as_secs_f64() * 1e3;
            let _ = writeln!(self.out, "first_screen {ms:.1}");
        }
        if let Some(k) = key {
            let _ = writeln!(self.out, "key {:.1}", k.elapsed().as_secs_f64() * 1e3);
        }
    }
}
