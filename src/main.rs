//! The `wsscope` command line: parsing arguments and wiring the packet source,
//! the analyzer and a view together. No decoding happens here.

mod capture;
mod keys;
mod tui;

// The message catalogue (`locales/*.yml`), shared with the library.
rust_i18n::i18n!("locales", fallback = "en");

use rust_i18n::t;

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::{Args, Parser, Subcommand, ValueEnum};
use wsscope::analysis::{Analyzer, Config, ConnTotals, Event, Sink};
use wsscope::output::{self, stats, StatsBuilder, TeachMode, TextTimeline};
use wsscope::types::Timestamp;

use crate::capture::{Next, Source, SourceError, SourceSpec};

/// A packet-level WebSocket inspector: every phase of every connection, from the
/// TCP handshake through the HTTP Upgrade and the frames to the close.
#[derive(Parser)]
#[command(name = "wsscope", version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// A capture file to open in the terminal timeline (same as `view -r FILE`).
    file: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// The terminal timeline: replay a capture phase by phase, or watch live.
    View(ViewArgs),
    /// The timeline as text lines (or NDJSON with --json) on stdout.
    Print(PrintArgs),
    /// One summary per connection.
    Stats(StatsArgs),
    /// Compute the Sec-WebSocket-Accept for a Sec-WebSocket-Key.
    Accept(AcceptArgs),
    /// List the interfaces that can be captured on.
    Interfaces,
}

/// Where packets come from, and which.
#[derive(Args, Clone)]
struct InputArgs {
    /// Read packets from a pcap or pcapng file.
    #[arg(
        short = 'r',
        value_name = "FILE",
        conflicts_with = "iface",
        required_unless_present = "iface"
    )]
    read: Option<String>,
    /// Capture live on an interface (`lo`, `any`, `eth0`, ...).
    #[arg(short = 'i', value_name = "IFACE")]
    iface: Option<String>,
    /// BPF capture filter, as in tcpdump (applied to files too).
    #[arg(short = 'f', value_name = "FILTER")]
    filter: Option<String>,
    /// Stop after N packets (N ≥ 1).
    #[arg(short = 'c', value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    count: Option<u64>,
    /// Bytes held per direction of a connection while waiting for a missing segment
    /// (past it, the hole is reported as a gap).
    #[arg(long, value_name = "BYTES", default_value_t = Config::default().tcp.max_buffered_per_direction)]
    max_flow_buffer: usize,
    /// Connections tracked at once (past it, the least recently active is dropped).
    #[arg(long, value_name = "N", default_value_t = Config::default().tcp.max_flows)]
    max_flows: usize,
    /// Live capture: end connections idle for this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    idle_timeout: u64,
    /// TLS secrets (NSS key log, as SSLKEYLOGFILE writes) to decrypt wss; default:
    /// the SSLKEYLOGFILE environment variable. Re-read as it grows while live.
    #[arg(long, value_name = "FILE")]
    keylog: Option<String>,
}

impl InputArgs {
    fn spec(&self) -> SourceSpec {
        match (&self.read, &self.iface) {
            (Some(f), _) => SourceSpec::File(f.clone()),
            (None, Some(i)) => SourceSpec::Live(i.clone()),
            (None, None) => SourceSpec::File(String::new()),
        }
    }

    /// The pipeline's options, with the TLS secrets known so far.
    fn config(&self, keys: &keys::Keys, live: bool) -> Config {
        let mut cfg = Config {
            keys: keys.shared(),
            ..Config::default()
        };
        // Live, a key log may still receive a connection's secrets: records wait.
        cfg.tls.wait_for_keys = live;
        cfg.tcp.max_buffered_per_direction = self.max_flow_buffer;
        cfg.tcp.max_flows = self.max_flows.max(1);
        cfg.tcp.idle_timeout_us =
            i64::try_from(self.idle_timeout.saturating_mul(1_000_000)).unwrap_or(i64::MAX);
        cfg
    }
}

#[derive(Args)]
struct PrintArgs {
    #[command(flatten)]
    input: InputArgs,
    /// NDJSON events (same as --format json).
    #[arg(long)]
    json: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Explain each phase under its first event, and every violation (text format).
    #[arg(long)]
    explain: bool,
    /// Language of explanations and lessons (default: from LC_ALL, LC_MESSAGES, LANG).
    #[arg(long, value_parser = ["en", "zh"])]
    lang: Option<String>,
}

impl PrintArgs {
    fn mode(&self) -> Mode {
        let lang = self
            .lang
            .as_deref()
            .and_then(output::Lang::from_code)
            .unwrap_or_else(output::Lang::from_env);
        match (self.json, self.format) {
            (true, _) | (_, Format::Json) => Mode::Json,
            (_, Format::Markdown) => Mode::Teach(TeachMode::Markdown(lang)),
            (_, Format::Mermaid) => Mode::Teach(TeachMode::Mermaid(lang)),
            (_, Format::Text) if self.explain => Mode::Teach(TeachMode::Explain(lang)),
            (_, Format::Text) => Mode::Text,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// One readable line per event.
    Text,
    /// One JSON object per event (NDJSON).
    Json,
    /// A lesson per connection: phases, tables, explanations, checklist, summary.
    Markdown,
    /// A Mermaid sequenceDiagram per connection.
    Mermaid,
}

#[derive(Args)]
#[command(group(
    clap::ArgGroup::new("source")
        .args(["read", "iface"])
        .required(true)
))]
struct ViewArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Replay speed: 1 is the recorded pace, 2 twice as fast (more than 0).
    #[arg(long, default_value_t = 1.0, value_parser = parse_speed)]
    speed: f64,
    /// No colours (also with the NO_COLOR environment variable).
    #[arg(long)]
    no_color: bool,
    /// Language of the view (default: from LC_ALL, LC_MESSAGES, LANG); `L` switches it.
    #[arg(long, value_parser = ["en", "zh"])]
    lang: Option<String>,
}

/// `--speed`: a finite number above 0.
fn parse_speed(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        Ok(_) => Err(format!(
            "{s} is not a speed: give a number above 0 (1 is the recorded pace)"
        )),
        Err(e) => Err(format!("{s} is not a number: {e}")),
    }
}

#[derive(Args)]
struct StatsArgs {
    #[command(flatten)]
    input: InputArgs,
    /// One JSON object per connection.
    #[arg(long)]
    json: bool,
    /// The connections side by side by kind (websocket, http-polling, ...).
    #[arg(long)]
    compare: bool,
}

#[derive(Args)]
struct AcceptArgs {
    /// The Sec-WebSocket-Key (the base64 of 16 bytes).
    key: String,
    /// The Sec-WebSocket-Accept seen; exit status 1 if it is not the right one.
    #[arg(long, value_name = "ACCEPT")]
    expect: Option<String>,
    /// Show each step of the computation.
    #[arg(long)]
    explain: bool,
    /// Language of the labels (default: from LC_ALL, LC_MESSAGES, LANG).
    #[arg(long, value_parser = ["en", "zh"])]
    lang: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::View(a)) => view(&a.input, a.speed, a.no_color, lang_of(a.lang.as_deref())),
        Some(Command::Print(a)) => run_input(&a.input, a.mode()),
        Some(Command::Stats(a)) => run_input(
            &a.input,
            if a.compare {
                Mode::Teach(TeachMode::Compare { json: a.json })
            } else if a.json {
                Mode::StatsJson
            } else {
                Mode::StatsTable
            },
        ),
        Some(Command::Accept(a)) => return accept(&a),
        Some(Command::Interfaces) => list_interfaces(),
        None => match cli.file {
            Some(file) => view(
                &InputArgs {
                    read: Some(file),
                    iface: None,
                    filter: None,
                    count: None,
                    max_flow_buffer: Config::default().tcp.max_buffered_per_direction,
                    max_flows: Config::default().tcp.max_flows,
                    idle_timeout: 300,
                    keylog: None,
                },
                1.0,
                false,
                lang_of(None),
            ),
            None => {
                eprintln!("wsscope: give a capture file or a command; try `wsscope --help`");
                return ExitCode::from(2);
            }
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wsscope: {e}");
            ExitCode::from(1)
        }
    }
}

fn accept(a: &AcceptArgs) -> ExitCode {
    let lang = lang_of(a.lang.as_deref());
    let l = lang.code();
    let key = a.key.trim();
    if !wsscope::http::key_is_valid(key) {
        let shown = format!("{:?}", wsscope::text::safe(key));
        eprintln!("wsscope: {}", t!("accept.bad_key", locale = l, key = shown));
        return ExitCode::from(2);
    }
    let steps = wsscope::http::accept_steps(key);
    let mut out = io::stdout().lock();
    // Labels padded to one column, whatever their width on screen.
    let labels = [
        "accept.key",
        "accept.key_guid",
        "accept.sha1",
        "accept.base64",
        "accept.expected",
        "accept.computed",
    ]
    .map(|k| t!(k, locale = l).to_string());
    let width = labels
        .iter()
        .map(|s| wsscope::text::width(s))
        .max()
        .unwrap_or(0)
        + 1;
    let label = |i: usize| {
        let s = &labels[i];
        format!("{s}{}", " ".repeat(width - wsscope::text::width(s)))
    };
    if a.explain {
        let _ = writeln!(out, "{}{}", label(0), steps.key);
        let _ = writeln!(out, "{}{}", label(1), steps.concatenated);
        let _ = writeln!(out, "{}{}", label(2), steps.sha1_hex);
        let _ = writeln!(out, "{}{}", label(3), steps.accept);
    } else {
        let _ = writeln!(out, "{}", steps.accept);
    }
    if let Some(expect) = &a.expect {
        if expect.trim() == steps.accept {
            if a.explain {
                let _ = writeln!(
                    out,
                    "{}{} {}",
                    label(4),
                    expect.trim(),
                    t!("accept.matches", locale = l)
                );
            }
        } else {
            let _ = writeln!(
                out,
                "{}{} {}",
                label(4),
                wsscope::text::safe(expect),
                t!("accept.differs", locale = l)
            );
            let _ = writeln!(out, "{}{}", label(5), steps.accept);
            return ExitCode::from(1);
        }
    }
    ExitCode::SUCCESS
}

/// `--lang`, else the locale variables.
fn lang_of(flag: Option<&str>) -> output::Lang {
    flag.and_then(output::Lang::from_code)
        .unwrap_or_else(output::Lang::from_env)
}

fn list_interfaces() -> Result<(), SourceError> {
    let mut out = io::stdout().lock();
    for (name, info) in capture::interfaces()? {
        let _ = if info.is_empty() {
            writeln!(out, "{name}")
        } else {
            writeln!(out, "{name}\t{info}")
        };
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Mode {
    Text,
    Json,
    StatsTable,
    StatsJson,
    /// `print --explain`, `--format markdown|mermaid`, `stats --compare`.
    Teach(TeachMode),
}

/// Where `print` and `stats` send the analyzer's output.
struct CliSink<W: Write> {
    out: W,
    mode: Mode,
    text: TextTimeline,
    stats: StatsBuilder,
    header_done: bool,
    /// A live capture (text mode then keeps stats for the Ctrl-C summary).
    live: bool,
    /// Set when stdout is gone (e.g. `| head`): stop quietly.
    broken: bool,
    /// The teaching view, in `Mode::Teach`.
    teach: Option<Box<dyn output::Report>>,
}

impl<W: Write> CliSink<W> {
    fn write_rows(&mut self, rows: Vec<output::ConnStats>) {
        for row in rows {
            let res = match self.mode {
                Mode::StatsJson => serde_json::to_writer(&mut self.out, &row)
                    .map_err(io::Error::from)
                    .and_then(|()| self.out.write_all(b"\n")),
                _ => {
                    if !self.header_done {
                        self.header_done = true;
                        let _ = writeln!(self.out, "{}", stats::table_header());
                    }
                    writeln!(self.out, "{}", stats::table_row(&row))
                }
            };
            self.broken |= res.is_err();
        }
    }
}

impl<W: Write> Sink for CliSink<W> {
    fn event(&mut self, e: Event) {
        if self.broken {
            return;
        }
        let res = match self.mode {
            Mode::Text => {
                // Live: kept for the summary of a capture stopped with Ctrl-C.
                if self.live {
                    self.stats.add(&e);
                }
                writeln!(self.out, "{}", self.text.line(&e))
            }
            Mode::Json => output::write_json_line(&mut self.out, &e),
            Mode::StatsTable | Mode::StatsJson => {
                self.stats.add(&e);
                Ok(())
            }
            Mode::Teach(_) => match self.teach.as_mut() {
                Some(t) => t.event(&e, &mut self.out),
                None => Ok(()),
            },
        };
        self.broken |= res.is_err();
    }

    fn first_packet(&mut self, ts: Timestamp) {
        self.text.set_origin(ts);
        if let Some(t) = self.teach.as_mut() {
            t.first_packet(ts);
        }
    }

    fn warning(&mut self, message: String) {
        eprintln!("wsscope: warning: {message}");
    }

    fn conn_closed(&mut self, conn: u64, totals: &ConnTotals) {
        if let Some(t) = self.teach.as_mut() {
            self.broken |= t.conn_closed(conn, totals, &mut self.out).is_err();
        }
        match self.mode {
            Mode::StatsTable | Mode::StatsJson => {
                self.stats.conn_closed(conn, totals);
                let rows = self.stats.ready();
                self.write_rows(rows);
            }
            Mode::Text => {
                // Its lines are printed: only open connections are summarised at Ctrl-C.
                self.stats.conn_closed(conn, totals);
                self.stats.ready();
            }
            Mode::Json | Mode::Teach(_) => {}
        }
    }
}

impl<W: Write> Driver for CliSink<W> {
    fn tick(&mut self, source: &mut Source, _packets: u64, _bytes_read: u64) -> bool {
        if source.is_live() {
            let _ = self.out.flush();
        }
        !self.broken
    }

    fn damaged(&mut self, message: String, _live: bool) {
        eprintln!("wsscope: warning: {message}");
    }
}

fn now() -> Timestamp {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp(i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// Collects a batch of events for the TUI.
#[derive(Default)]
struct Batch {
    events: Vec<Event>,
    warnings: Vec<String>,
}

impl Sink for Batch {
    fn event(&mut self, e: Event) {
        self.events.push(e);
    }

    fn warning(&mut self, message: String) {
        self.warnings.push(message);
    }
}

/// How often the producer hands the TUI what it has.
const FEED_INTERVAL: Duration = Duration::from_millis(30);

fn view(
    input: &InputArgs,
    speed: f64,
    no_color: bool,
    lang: output::Lang,
) -> Result<(), SourceError> {
    let spec = input.spec();
    // Opened here so that a bad input is one line and status 1, before the screen changes.
    let source = Source::open(&spec, input.filter.as_deref())?;
    {
        use std::io::IsTerminal;
        if !io::stdout().is_terminal() || !io::stdin().is_terminal() {
            return Err(SourceError(
                "the view needs a terminal; use `wsscope print` for text on stdout".into(),
            ));
        }
    }
    let total_bytes = match &spec {
        SourceSpec::File(p) => std::fs::metadata(p).ok().map(|m| m.len()),
        SourceSpec::Live(_) => None,
    };
    let (tx, rx) = mpsc::channel();
    let opts = tui::ViewOptions {
        // The status bar says "● live" itself: the file or the interface only.
        source_label: match &spec {
            SourceSpec::File(p) => p.clone(),
            SourceSpec::Live(i) => i.clone(),
        },
        live: source.is_live(),
        speed: if speed.is_finite() && speed > 0.0 {
            speed
        } else {
            1.0
        },
        no_color,
        lang,
    };
    let live = source.is_live();
    let keys = keys::Keys::load(input.keylog.as_deref(), input.read.as_deref(), live)?;
    let cfg = input.config(&keys, live);
    let count = input.count;
    let producer = std::thread::spawn(move || produce(source, cfg, keys, count, total_bytes, &tx));
    let result = tui::run(rx, opts);
    // The receiver is gone: the producer stops at its next send, which comes
    // within FEED_INTERVAL even on a quiet interface (live reads do not block).
    let _ = producer.join();
    result.map_err(|e| SourceError(format!("the terminal failed: {e}")))
}

/// What drives [`pump`]: a sink for the analyzer's output, told after each read.
trait Driver: Sink {
    /// After each read (a packet, a filtered one, or a live timeout): false stops the capture.
    fn tick(&mut self, source: &mut Source, packets: u64, bytes_read: u64) -> bool;
    /// The capture cannot go on (a damaged file, a failed interface).
    fn damaged(&mut self, message: String, live: bool);
}

/// How [`pump`] ended.
struct Pumped {
    /// Packets read (those the filter hid included).
    packets: u64,
    /// The last packet's time.
    last_ts: Timestamp,
}

/// The one packet loop, for files and live capture: reads packets (numbered as in
/// the unfiltered file), feeds the analyzer, ends idle connections while live, and
/// stops at the end, at `-c N`, on `stop`, or when the driver says so. The caller
/// then calls `analyzer.finish`.
fn pump(
    source: &mut Source,
    analyzer: &mut Analyzer,
    driver: &mut impl Driver,
    keys: &mut keys::Keys,
    count: Option<u64>,
    stop: &AtomicBool,
) -> Pumped {
    let live = source.is_live();
    let linktype = source.linktype();
    let (mut packets, mut bytes_read) = (0u64, 0u64);
    let mut last_ts = Timestamp::default();
    let mut last_expire = now();
    if source.hides_packets() {
        analyzer.hide_packets();
    }
    while !stop.load(Ordering::Relaxed) {
        match source.next_packet() {
            Next::Packet(p) => {
                packets += 1;
                // A record header (16 bytes) and the bytes, as in a pcap file.
                bytes_read += 16 + p.data.len() as u64;
                last_ts = p.ts;
                // Live, the key log is looked at before every packet: this packet
                // may end a connection whose records wait for keys written since.
                if live && keys.follows_file() && keys.poll() {
                    analyzer.keys_updated(keys.shared(), p.ts, driver);
                }
                analyzer.packet(linktype, p.ts, p.data, driver);
                if count.is_some_and(|c| packets >= c) {
                    break;
                }
            }
            Next::Filtered(p) => {
                packets += 1;
                last_ts = p.ts;
                analyzer.skip_packet(linktype, p.ts, p.data, driver);
            }
            Next::Timeout => {}
            Next::End => break,
            Next::Damaged(why) => {
                driver.damaged(
                    if live {
                        format!("the capture stopped: {why}")
                    } else {
                        format!("the capture is damaged after packet {packets} ({why}); everything before it is reported")
                    },
                    live,
                );
                break;
            }
        }
        if live {
            let t = now();
            if t.0 - last_expire.0 > 1_000_000 {
                last_expire = t;
                if keys.poll() {
                    analyzer.keys_updated(keys.shared(), t, driver);
                }
                analyzer.expire(t, driver);
            }
        }
        if !driver.tick(source, packets, bytes_read) {
            break;
        }
    }
    // Stopped (Ctrl-C, -c N): secrets written since the last look still decrypt
    // the records waiting for them, before the open connections are ended.
    if live && keys.poll() {
        analyzer.keys_updated(keys.shared(), now(), driver);
    }
    keys.finish();
    Pumped { packets, last_ts }
}

/// The TUI's side of the loop: events batched and handed over every
/// [`FEED_INTERVAL`] (live: at once), progress and drops reported.
struct TuiDriver<'t> {
    batch: Batch,
    tx: &'t mpsc::Sender<tui::Feed>,
    total_bytes: Option<u64>,
    last_send: Instant,
    /// The UI has quit.
    gone: bool,
}

impl TuiDriver<'_> {
    fn flush(&mut self, packets: u64, bytes_read: u64, source: &mut Source) -> bool {
        let mut ok = true;
        for w in self.batch.warnings.drain(..) {
            ok &= self.tx.send(tui::Feed::Warning(w)).is_ok();
        }
        if !self.batch.events.is_empty() {
            ok &= self
                .tx
                .send(tui::Feed::Events(std::mem::take(&mut self.batch.events)))
                .is_ok();
        }
        ok &= self
            .tx
            .send(tui::Feed::Progress {
                packets,
                bytes_read,
                total_bytes: self.total_bytes,
            })
            .is_ok();
        if source.is_live() {
            ok &= self.tx.send(tui::Feed::Dropped(source.dropped())).is_ok();
        }
        self.gone |= !ok;
        ok
    }
}

impl Sink for TuiDriver<'_> {
    fn event(&mut self, e: Event) {
        self.batch.event(e);
    }

    fn first_packet(&mut self, ts: Timestamp) {
        // At once: the view counts every time from it.
        self.gone |= self.tx.send(tui::Feed::FirstPacket(ts)).is_err();
    }

    fn warning(&mut self, message: String) {
        self.batch.warning(message);
    }
}

impl Driver for TuiDriver<'_> {
    fn tick(&mut self, source: &mut Source, packets: u64, bytes_read: u64) -> bool {
        // Live: what a packet completed is shown now.
        if source.is_live()
            && !self.batch.events.is_empty()
            && self
                .tx
                .send(tui::Feed::Events(std::mem::take(&mut self.batch.events)))
                .is_err()
        {
            self.gone = true;
            return false; // the UI has quit
        }
        if self.last_send.elapsed() >= FEED_INTERVAL {
            self.last_send = Instant::now();
            return self.flush(packets, bytes_read, source);
        }
        true
    }

    fn damaged(&mut self, message: String, live: bool) {
        if live {
            let _ = self.tx.send(tui::Feed::Error(message));
        } else {
            self.batch.warnings.push(message);
        }
    }
}

/// The TUI's producer thread: capture and analysis, never blocking the UI.
fn produce(
    mut source: Source,
    cfg: Config,
    mut keys: keys::Keys,
    count: Option<u64>,
    total_bytes: Option<u64>,
    tx: &mpsc::Sender<tui::Feed>,
) {
    let live = source.is_live();
    let mut analyzer = Analyzer::new(cfg);
    let mut driver = TuiDriver {
        batch: Batch::default(),
        tx,
        total_bytes,
        last_send: Instant::now(),
        gone: false,
    };
    let done = pump(
        &mut source,
        &mut analyzer,
        &mut driver,
        &mut keys,
        count,
        &AtomicBool::new(false),
    );
    if driver.gone {
        return;
    }
    analyzer.finish(if live { now() } else { done.last_ts }, &mut driver);
    if driver.flush(done.packets, 0, &mut source) {
        let _ = tx.send(tui::Feed::Done);
    }
}

fn run_input(input: &InputArgs, mode: Mode) -> Result<(), SourceError> {
    let spec = input.spec();
    let mut source = Source::open(&spec, input.filter.as_deref())?;
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        // Ctrl-C ends the capture; what was seen so far is summarised.
        let _ = ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst));
    }
    let live = source.is_live();
    if let SourceSpec::Live(iface) = &spec {
        eprintln!(
            "wsscope: capturing on {iface}{}; Ctrl-C to stop",
            input
                .filter
                .as_deref()
                .map(|f| format!(" (filter: {f})"))
                .unwrap_or_default()
        );
    }
    let stdout = io::stdout();
    let mut sink = CliSink {
        out: BufWriter::with_capacity(1 << 16, stdout.lock()),
        mode,
        text: TextTimeline::new(),
        stats: StatsBuilder::new(),
        header_done: false,
        live,
        broken: false,
        teach: match mode {
            Mode::Teach(m) => Some(m.report()),
            _ => None,
        },
    };
    let mut keys = keys::Keys::load(input.keylog.as_deref(), input.read.as_deref(), live)?;
    let mut cfg = input.config(&keys, live);
    // The stats never read the display strings of frames and messages.
    cfg.ws.detail = !matches!(
        mode,
        Mode::StatsTable | Mode::StatsJson | Mode::Teach(TeachMode::Compare { .. })
    );
    let mut analyzer = Analyzer::new(cfg);
    let done = pump(
        &mut source,
        &mut analyzer,
        &mut sink,
        &mut keys,
        input.count,
        &stop,
    );
    let seen = done.packets;
    let last_ts = done.last_ts;
    if live {
        let dropped = source.dropped();
        if dropped > 0 {
            eprintln!("wsscope: warning: libpcap dropped {dropped} packets");
        }
    }
    let interrupted = stop.load(Ordering::Relaxed);
    if interrupted && matches!(mode, Mode::Text) {
        // Ctrl-C: say what was still going on before the open connections are ended.
        let open = sink.stats.finish_with(|c| analyzer.totals(c));
        if !open.is_empty() && !sink.broken {
            let _ = writeln!(
                sink.out,
                "--- stopped after {seen} packets; {} connection(s) still open:",
                open.len()
            );
            let _ = writeln!(sink.out, "{}", stats::table_header());
            for row in &open {
                let _ = writeln!(sink.out, "{}", stats::table_row(row));
            }
        }
    }
    analyzer.finish(if live { now() } else { last_ts }, &mut sink);
    if matches!(mode, Mode::StatsTable | Mode::StatsJson) {
        let rows = sink.stats.finish();
        sink.write_rows(rows);
    }
    if let Some(t) = sink.teach.as_mut() {
        let _ = t.finish(&mut sink.out);
    }
    let _ = sink.out.flush();
    Ok(())
}
