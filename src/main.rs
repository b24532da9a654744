//! The `wsscope` command line: parsing arguments and wiring the packet source,
//! the analyzer and a view together. No decoding happens here.

mod capture;
mod help;
mod json_writer;
mod keys;
mod shards;
#[cfg(test)]
mod test_captures;
mod tui;

// The message catalogue (`locales/*.yml`), shared with the library.
rust_i18n::i18n!("locales", fallback = "en");

use rust_i18n::t;

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::{Args, Parser, Subcommand, ValueEnum};
use wsscope::analysis::{Analyzer, Config, ConnTotals, Event, EventKind, Sink, Warning};
use wsscope::output::select::Selection;
use wsscope::output::{self, stats, StatsBuilder, TeachMode, TextTimeline};
use wsscope::types::Timestamp;
use wsscope::ws::WsConfig;

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
    Interfaces(InterfacesArgs),
    /// Write the WebSockets of a capture as HAR 1.2 (as Chrome DevTools), or their
    /// messages as NDJSON with whole payloads.
    Export(ExportArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `wsscope man > wsscope.1`; with a command,
    /// that command's page (`wsscope man print > wsscope-print.1`).
    Man {
        /// A command (print, stats, view, export, ...).
        command: Option<String>,
    },
}

#[derive(Args)]
#[command(group(
    clap::ArgGroup::new("out")
        .args(["har", "ndjson"])
        .required(true)
        .multiple(true)
))]
struct ExportArgs {
    #[command(flatten)]
    input: InputArgs,
    /// HAR 1.2 file to write: one entry per WebSocket with `_webSocketMessages`.
    #[arg(long, value_name = "OUT.har")]
    har: Option<String>,
    /// NDJSON file to write: the `ws_message` events alone, each with its whole payload.
    #[arg(long, value_name = "OUT")]
    ndjson: Option<String>,
    /// Language of the messages (default: from LC_ALL, LC_MESSAGES, LANG); the files are never translated.
    #[arg(long, value_parser = ["en", "zh"])]
    lang: Option<String>,
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
    /// Memory held at most across all connections (open connections, reassembly
    /// buffers, held HTTP heads, messages, inflate state, summaries waiting), e.g.
    /// 256M or 1G: past it the least recently active connections are ended, with a
    /// warning. The default keeps every command under 128 MiB.
    #[arg(long, value_name = "SIZE", default_value = "64M", value_parser = wsscope::budget::parse_size)]
    max_memory: usize,
    /// Live capture: end connections idle for this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    idle_timeout: u64,
    /// TLS secrets (NSS key log, as SSLKEYLOGFILE writes) to decrypt wss; default:
    /// the SSLKEYLOGFILE environment variable. Re-read as it grows while live.
    #[arg(long, value_name = "FILE")]
    keylog: Option<String>,
    /// Only these connections, numbered as in the unfiltered capture (e.g. `--conn 0,3`).
    #[arg(long = "conn", value_name = "N[,M...]", value_delimiter = ',')]
    conns: Vec<u64>,
    /// Only the WebSocket messages whose payload contains TEXT (and their connections).
    #[arg(long, value_name = "TEXT")]
    grep: Option<String>,
    /// Bytes kept of one message's payload (for --payload, --grep, the protocols riding
    /// on WebSocket, export); past it the payload is cut and says so.
    #[arg(long, value_name = "BYTES", default_value_t = WsConfig::default().max_payload_bytes)]
    max_payload: u64,
    /// Live: also write the captured packets to FILE (pcapng, as `tcpdump -w` writes pcap).
    #[arg(
        short = 'w',
        value_name = "FILE",
        requires = "iface",
        conflicts_with = "read"
    )]
    write: Option<String>,
}

impl InputArgs {
    fn spec(&self) -> SourceSpec {
        match (&self.read, &self.iface) {
            (Some(f), _) if f == "-" => SourceSpec::Stdin,
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
        cfg.budget = wsscope::budget::Budget::new(self.max_memory);
        cfg.tcp.idle_timeout_us =
            i64::try_from(self.idle_timeout.saturating_mul(1_000_000)).unwrap_or(i64::MAX);
        cfg.ws.max_payload_bytes = self.max_payload;
        // `--grep` searches whole payloads.
        cfg.ws.keep_payload = self.grep.is_some();
        cfg
    }

    /// `--conn` and `--grep`.
    fn selection(&self) -> Selection {
        Selection::new(&self.conns, self.grep.as_deref())
    }

    /// The capture file, for what else it holds (pcapng Decryption Secrets Blocks):
    /// none for standard input.
    fn file(&self) -> Option<&str> {
        self.read.as_deref().filter(|f| *f != "-")
    }

    /// Opens the packet source (`-w`: with the file the live packets also go to).
    fn open(&self) -> Result<Source, SourceError> {
        let mut source = Source::open(&self.spec(), self.filter.as_deref())?;
        if let Some(w) = &self.write {
            source.write_to(w)?;
        }
        Ok(source)
    }

    /// As given with only a file to read (`wsscope FILE`).
    fn file_only(file: String) -> InputArgs {
        InputArgs {
            read: Some(file),
            iface: None,
            filter: None,
            count: None,
            max_flow_buffer: Config::default().tcp.max_buffered_per_direction,
            max_flows: Config::default().tcp.max_flows,
            max_memory: wsscope::budget::DEFAULT_MAX_MEMORY,
            idle_timeout: 300,
            keylog: None,
            conns: Vec::new(),
            grep: None,
            max_payload: WsConfig::default().max_payload_bytes,
            write: None,
        }
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
    /// Language of the timeline, explanations and lessons (default: from LC_ALL, LC_MESSAGES, LANG); --json is never translated.
    #[arg(long, value_parser = ["en", "zh"])]
    lang: Option<String>,
    /// Under each message its whole payload (text; JSON pretty-printed; binary as a
    /// hex + ASCII dump); with --json, `payload` and `payload_encoding` fields.
    #[arg(long)]
    payload: bool,
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
            (_, Format::Html) => Mode::Teach(TeachMode::Html(lang)),
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
    /// The lesson as one self-contained HTML page (diagrams as inline SVG).
    Html,
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
        Ok(_) => Err(t!("cli.bad_speed", s = s).into_owned()),
        Err(e) => Err(t!("cli.not_a_number", s = s, e = e).into_owned()),
    }
}

#[derive(Args)]
#[command(
    after_help = "The close column: the code, who began the close (by c = the client, by s = the server), and ! when it was not clean (TCP ended before both close frames)."
)]
struct StatsArgs {
    #[command(flatten)]
    input: InputArgs,
    /// One JSON object per connection.
    #[arg(long)]
    json: bool,
    /// The connections side by side by kind (websocket, http-polling, ...).
    #[arg(long)]
    compare: bool,
    /// Language of the table and its labels (default: from LC_ALL, LC_MESSAGES, LANG).
    #[arg(long, value_parser = ["en", "zh"])]
    lang: Option<String>,
}

#[derive(Args)]
struct InterfacesArgs {
    /// Language of the messages (default: from LC_ALL, LC_MESSAGES, LANG).
    #[arg(long, value_parser = ["en", "zh"])]
    lang: Option<String>,
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
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // While the command line is read, its messages (`--help`, a bad value) speak the
    // language asked for.
    let early = early_lang(&args);
    rust_i18n::set_locale(early.code());
    let cli = help::localized(<Cli as clap::CommandFactory>::command(), early)
        .try_get_matches_from(&args)
        .and_then(|m| <Cli as clap::FromArgMatches>::from_arg_matches(&m))
        .unwrap_or_else(|e| help::exit_with(e, early));
    // The language of the messages not tied to one view (the capture's errors).
    let flag = match &cli.command {
        Some(Command::Print(a)) => a.lang.as_deref(),
        Some(Command::Stats(a)) => a.lang.as_deref(),
        Some(Command::Accept(a)) => a.lang.as_deref(),
        Some(Command::View(a)) => a.lang.as_deref(),
        Some(Command::Export(a)) => a.lang.as_deref(),
        Some(Command::Interfaces(a)) => a.lang.as_deref(),
        _ => None,
    };
    rust_i18n::set_locale(lang_of(flag).code());
    let result = match cli.command {
        Some(Command::View(a)) => view(&a.input, a.speed, a.no_color, lang_of(a.lang.as_deref())),
        Some(Command::Print(a)) => {
            run_input(&a.input, a.mode(), lang_of(a.lang.as_deref()), a.payload)
        }
        Some(Command::Stats(a)) => run_input(
            &a.input,
            if a.compare {
                Mode::Teach(TeachMode::Compare {
                    json: a.json,
                    lang: lang_of(a.lang.as_deref()),
                })
            } else if a.json {
                Mode::StatsJson
            } else {
                Mode::StatsTable
            },
            lang_of(a.lang.as_deref()),
            false,
        ),
        Some(Command::Export(a)) => export(&a),
        Some(Command::Completions { shell }) => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "wsscope", &mut io::stdout());
            Ok(())
        }
        Some(Command::Man { command }) => return man_page(command.as_deref()),
        Some(Command::Accept(a)) => return accept(&a),
        Some(Command::Interfaces(_)) => list_interfaces(),
        None => match cli.file {
            Some(file) => view(&InputArgs::file_only(file), 1.0, false, lang_of(None)),
            None => {
                let l = output::Lang::from_env().code();
                eprintln!("wsscope: {}", t!("cli.no_input", locale = l));
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

/// `wsscope man [COMMAND]`: the manual page, generated from the command line's definition.
fn man_page(command: Option<&str>) -> ExitCode {
    let mut cmd = <Cli as clap::CommandFactory>::command();
    cmd.build();
    let page = match command {
        None => cmd,
        Some(name) => match cmd.find_subcommand(name) {
            Some(sub) => {
                let sub = sub.clone();
                let full = format!("wsscope-{}", sub.get_name());
                sub.display_name(full).bin_name(format!("wsscope {}", name))
            }
            None => {
                let names: Vec<&str> = cmd.get_subcommands().map(|c| c.get_name()).collect();
                let name = format!("{:?}", wsscope::text::safe(name));
                eprintln!(
                    "wsscope: {}",
                    t!("cli.no_command", name = name, list = names.join(", "))
                );
                return ExitCode::from(2);
            }
        },
    };
    let mut out = io::stdout().lock();
    match clap_mangen::Man::new(page).render(&mut out) {
        Ok(()) => ExitCode::SUCCESS,
        // `wsscope man | head`: the reader has what it wanted.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            let e = capture::os_error(&e);
            eprintln!("wsscope: {}", t!("cli.cannot_write_man", e = e));
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

/// The language the command line asks for before it is parsed (`--lang X` or
/// `--lang=X`, before any `--`), else the locale variables'.
fn early_lang(args: &[std::ffi::OsString]) -> output::Lang {
    let mut it = args.iter().skip(1).filter_map(|a| a.to_str());
    while let Some(a) = it.next() {
        if a == "--" {
            break;
        }
        let value = if a == "--lang" {
            it.next()
        } else {
            a.strip_prefix("--lang=")
        };
        if let Some(l) = value.and_then(output::Lang::from_code) {
            return l;
        }
    }
    output::Lang::from_env()
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
    lang: output::Lang,
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
    /// `--conn`, `--grep`.
    sel: Selection,
    /// `print --payload`: each message's whole payload under it (text), or as fields (JSON).
    show_payload: bool,
    /// `print --json`: the lines are written on a thread of their own.
    json: Option<json_writer::JsonWriter>,
}

impl<W: Write> CliSink<W> {
    fn write_rows(&mut self, rows: Vec<output::ConnStats>) {
        for row in rows {
            if !self.sel.shows_conn(row.conn) {
                continue;
            }
            let res = match self.mode {
                Mode::StatsJson => serde_json::to_writer(&mut self.out, &row)
                    .map_err(io::Error::from)
                    .and_then(|()| self.out.write_all(b"\n")),
                _ => {
                    if !self.header_done {
                        self.header_done = true;
                        let _ = writeln!(self.out, "{}", stats::table_header_in(self.lang));
                    }
                    writeln!(self.out, "{}", stats::table_row_in(self.lang, &row))
                }
            };
            self.broken |= res.is_err();
        }
    }
}

impl<W: Write> CliSink<W> {
    /// True for the modes that summarise connections (`--grep` then picks rows).
    fn summarises(&self) -> bool {
        matches!(
            self.mode,
            Mode::StatsTable | Mode::StatsJson | Mode::Teach(TeachMode::Compare { .. })
        )
    }
}

impl<W: Write> Sink for CliSink<W> {
    fn event(&mut self, e: Event) {
        if self.broken {
            return;
        }
        if self.sel.is_all() {
            return self.show(e);
        }
        if self.summarises() {
            // Every event counts in the stats rows (picked when written); the
            // comparison counts the connections kept.
            if !self.sel.summary(&e) && matches!(self.mode, Mode::Teach(_)) {
                return;
            }
            return self.show(e);
        }
        for e in self.sel.timeline(e) {
            self.show(e);
        }
    }

    fn first_packet(&mut self, ts: Timestamp) {
        self.text.set_origin(ts);
        if let Some(t) = self.teach.as_mut() {
            t.first_packet(ts);
        }
    }

    fn warning(&mut self, warning: Warning) {
        warn(self.lang, &output::warning_text(self.lang, &warning));
    }

    fn conn_closed(&mut self, conn: u64, totals: &ConnTotals) {
        self.sel.conn_closed(conn);
        if matches!(self.mode, Mode::Teach(_)) && !self.sel.keeps_conn(conn) {
            return;
        }
        self.closed(conn, totals);
    }

    fn heap_bytes(&self) -> usize {
        self.stats.heap_bytes()
            + self.text.heap_bytes()
            + self.teach.as_ref().map_or(0, |t| t.heap_bytes())
    }
}

impl<W: Write> CliSink<W> {
    /// One event the selection kept.
    fn show(&mut self, mut e: Event) {
        if !self.show_payload {
            if let EventKind::WsMessage { body, .. } = &mut e.kind {
                body.payload = None;
            }
        }
        let res = match self.mode {
            Mode::Text => {
                // Live: kept for the summary of a capture stopped with Ctrl-C.
                if self.live {
                    self.stats.add(&e);
                }
                writeln!(self.out, "{}", self.text.line(&e)).and_then(|()| {
                    for l in output::payload::message_lines(&e, self.show_payload, self.lang) {
                        writeln!(self.out, "{l}")?;
                    }
                    Ok(())
                })
            }
            Mode::Json => match self.json.as_mut() {
                Some(j) => {
                    j.event(e);
                    if j.broken() {
                        Err(io::ErrorKind::BrokenPipe.into())
                    } else {
                        Ok(())
                    }
                }
                None => output::write_json_line(&mut self.out, &e),
            },
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

    fn closed(&mut self, conn: u64, totals: &ConnTotals) {
        if let Some(t) = self.teach.as_mut() {
            if !self.sel.shows_conn(conn) {
                t.hide_conn(conn);
            }
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
                self.text.conn_closed(conn);
            }
            Mode::Json | Mode::Teach(_) => {}
        }
    }
}

impl<W: Write> Driver for CliSink<W> {
    fn tick(&mut self, source: &mut Source, _packets: u64, _bytes_read: u64) -> bool {
        // Live, or a capture coming on standard input: shown as packets arrive.
        if source.is_live() || source.is_stream() {
            let _ = self.out.flush();
            if let Some(j) = self.json.as_mut() {
                j.hand_over();
            }
        }
        !self.broken
    }

    fn damaged(&mut self, say: &dyn Fn(output::Lang) -> String, _live: bool) {
        warn(self.lang, &say(self.lang));
    }
}

/// One warning line on stderr, in `lang`.
fn warn(lang: output::Lang, message: &str) {
    eprintln!(
        "wsscope: {}",
        t!("cli.warning", locale = lang.code(), message = message)
    );
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
    /// In both languages: the view switches with `L`.
    warnings: Vec<tui::Said>,
    /// Connections ended since the last hand-over, with their totals.
    totals: Vec<(u64, ConnTotals)>,
}

impl Sink for Batch {
    fn event(&mut self, e: Event) {
        self.events.push(e);
    }

    fn warning(&mut self, warning: Warning) {
        self.warnings
            .push(tui::Said::new(|l| output::warning_text(l, &warning)));
    }
}

/// How often the producer hands the TUI what it has.
const FEED_INTERVAL: Duration = Duration::from_millis(30);
/// Events of a file handed over at once, at most (about 1.5 MB).
const FEED_BATCH: usize = 4096;

fn view(
    input: &InputArgs,
    speed: f64,
    no_color: bool,
    lang: output::Lang,
) -> Result<(), SourceError> {
    let spec = input.spec();
    if matches!(spec, SourceSpec::Stdin) {
        return Err(SourceError(t!("cli.view_stdin").into_owned()));
    }
    // Opened here so that a bad input is one line and status 1, before the screen changes.
    let source = input.open()?;
    {
        use std::io::IsTerminal;
        if !io::stdout().is_terminal() || !io::stdin().is_terminal() {
            return Err(SourceError(t!("cli.view_needs_terminal").into_owned()));
        }
    }
    let total_bytes = match &spec {
        SourceSpec::File(p) => std::fs::metadata(p).ok().map(|m| m.len()),
        SourceSpec::Live(_) | SourceSpec::Stdin => None,
    };
    let (tx, rx) = tui::feed(source.is_live());
    let opts = tui::ViewOptions {
        // The status bar says "● live" itself: the file or the interface only.
        source_label: match &spec {
            SourceSpec::File(p) => p.clone(),
            SourceSpec::Live(i) => i.clone(),
            SourceSpec::Stdin => "-".into(),
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
    let keys = keys::Keys::load(input.keylog.as_deref(), input.file(), live)?;
    let mut cfg = input.config(&keys, live);
    // Each message's protocol is decoded from its whole payload (not kept by the view).
    cfg.ws.keep_payload = true;
    let count = input.count;
    let sel = input.selection();
    // A file read without libpcap is indexed: the view keeps where each
    // connection's packets are and decodes those on screen again.
    let loader = match (&spec, source.position()) {
        (SourceSpec::File(path), Some(_)) => Some(tui::reload::FileLoader {
            path: path.clone(),
            filter: input.filter.clone(),
            linktype: source.linktype(),
            cfg: cfg.clone(),
            conns: input.conns.clone(),
            grep: input.grep.clone(),
            spans: tui::reload::SharedSpans::default(),
        }),
        _ => None,
    };
    let spans = loader.as_ref().map(|l| l.spans.clone());
    let producer =
        std::thread::spawn(move || produce(source, cfg, keys, count, total_bytes, sel, spans, &tx));
    let result = tui::run(
        rx,
        opts,
        loader.map(|l| Box::new(l) as Box<dyn tui::store::Loader>),
    );
    // The receiver is gone: the producer stops at its next send, which comes
    // within FEED_INTERVAL even on a quiet interface (live reads do not block).
    let _ = producer.join();
    result
        .map_err(|e| SourceError(t!("cli.terminal_failed", e = capture::os_error(&e)).into_owned()))
}

/// How long a stopped live capture goes on reading what the kernel already holds.
const DRAIN: Duration = Duration::from_millis(1000);

/// What drives [`pump`]: a sink for the analyzer's output, told after each read.
trait Driver: Sink {
    /// After each read (a packet, a filtered one, or a live timeout): false stops the capture.
    fn tick(&mut self, source: &mut Source, packets: u64, bytes_read: u64) -> bool;
    /// The capture cannot go on (a damaged file, a failed interface): `say` words
    /// it in a language.
    fn damaged(&mut self, say: &dyn Fn(output::Lang) -> String, live: bool);
    /// Packet `pkt` has been analysed (a view's index notes which connection it was).
    fn analysed(&mut self, _source: &Source, _analyzer: &Analyzer, _pkt: u64) {}
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
    let (mut packets, mut bytes_read) = (0u64, 0u64);
    let mut last_ts = Timestamp::default();
    let mut last_expire = now();
    if source.hides_packets() {
        analyzer.hide_packets();
    }
    // Ctrl-C live: what the kernel already captured is still read (until the buffer
    // is empty, for at most DRAIN), so the last packets of a session are not lost.
    let mut drain_until: Option<Instant> = None;
    loop {
        if stop.load(Ordering::Relaxed) {
            if !live {
                break;
            }
            let until = *drain_until.get_or_insert_with(|| Instant::now() + DRAIN);
            if Instant::now() >= until {
                break;
            }
        }
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
                analyzer.packet(p.linktype, p.ts, p.data, driver);
                driver.analysed(source, analyzer, packets);
                if count.is_some_and(|c| packets >= c) {
                    break;
                }
            }
            Next::Filtered(p) => {
                packets += 1;
                last_ts = p.ts;
                analyzer.skip_packet(p.linktype, p.ts, p.data, driver);
            }
            // Nothing more waiting: a stopped capture is drained.
            Next::Timeout if drain_until.is_some() => break,
            Next::Timeout => {}
            Next::End => break,
            Next::Damaged(why) => {
                driver.damaged(&damage_text(&why, packets, live), live);
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

/// What to say when the packets stop before the end (`packets` read so far).
fn damage_text(
    why: &capture::Damage,
    packets: u64,
    live: bool,
) -> impl Fn(output::Lang) -> String + '_ {
    move |lang: output::Lang| {
        let (l, why) = (lang.code(), why.text(lang));
        if live {
            t!("cli.capture_stopped", locale = l, why = why).into_owned()
        } else {
            t!(
                "cli.capture_damaged",
                locale = l,
                packets = packets,
                why = why
            )
            .into_owned()
        }
    }
}

/// The TUI's side of the loop: events batched and handed over every
/// [`FEED_INTERVAL`] (live: at once), progress and drops reported.
struct TuiDriver<'t> {
    batch: Batch,
    tx: &'t tui::FeedTx,
    total_bytes: Option<u64>,
    last_send: Instant,
    /// The UI has quit.
    gone: bool,
    /// `--conn`, `--grep`.
    sel: Selection,
    /// Where each connection's packets are (a file the view indexes).
    spans: Option<tui::reload::SharedSpans>,
    /// A live capture (events handed over per packet, not in batches).
    live: bool,
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
        if !self.batch.totals.is_empty() {
            let totals = std::mem::take(&mut self.batch.totals);
            ok &= self.tx.send(tui::Feed::Totals(totals)).is_ok();
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
        for mut e in self.sel.timeline(e) {
            // The view shows each message's protocol, not its payload: not kept.
            if let EventKind::WsMessage { body, .. } = &mut e.kind {
                body.payload = None;
            }
            self.batch.event(e);
        }
        // A file read fast hands its events over in bounded batches: the
        // channel's bound then bounds the memory waiting for the view.
        if !self.live && self.batch.events.len() >= FEED_BATCH && !self.gone {
            let events = std::mem::take(&mut self.batch.events);
            self.gone |= self.tx.send(tui::Feed::Events(events)).is_err();
        }
    }

    fn conn_closed(&mut self, conn: u64, totals: &ConnTotals) {
        self.sel.conn_closed(conn);
        self.batch.totals.push((conn, totals.clone()));
    }

    fn first_packet(&mut self, ts: Timestamp) {
        // At once: the view counts every time from it.
        self.gone |= self.tx.send(tui::Feed::FirstPacket(ts)).is_err();
    }

    fn warning(&mut self, warning: Warning) {
        self.batch.warning(warning);
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

    fn analysed(&mut self, source: &Source, analyzer: &Analyzer, pkt: u64) {
        if let (Some(spans), Some(conn), Some((offset, resume))) =
            (&self.spans, analyzer.last_conn(), source.position())
        {
            if let Ok(mut s) = spans.lock() {
                s.packet(conn, pkt, offset, resume);
            }
        }
    }

    fn damaged(&mut self, say: &dyn Fn(output::Lang) -> String, live: bool) {
        let said = tui::Said::new(say);
        if live {
            let _ = self.tx.send(tui::Feed::Error(said));
        } else {
            self.batch.warnings.push(said);
        }
    }
}

/// The TUI's producer thread: capture and analysis, never blocking the UI.
#[allow(clippy::too_many_arguments)]
fn produce(
    mut source: Source,
    cfg: Config,
    mut keys: keys::Keys,
    count: Option<u64>,
    total_bytes: Option<u64>,
    sel: Selection,
    spans: Option<tui::reload::SharedSpans>,
    tx: &tui::FeedTx,
) {
    let live = source.is_live();
    let mut analyzer = Analyzer::new(cfg);
    let mut driver = TuiDriver {
        batch: Batch::default(),
        tx,
        total_bytes,
        last_send: Instant::now(),
        gone: false,
        sel,
        spans,
        live,
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
    let end = if live { now() } else { done.last_ts };
    if let Some(s) = driver.spans.as_ref() {
        if let Ok(mut s) = s.lock() {
            s.finish(done.packets, end);
        }
    }
    analyzer.finish(end, &mut driver);
    if driver.flush(done.packets, 0, &mut source) {
        let _ = tx.send(tui::Feed::Done);
    }
}

fn run_input(
    input: &InputArgs,
    mode: Mode,
    lang: output::Lang,
    show_payload: bool,
) -> Result<(), SourceError> {
    let l = lang.code();
    let spec = input.spec();
    let mut source = input.open()?;
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        // Ctrl-C ends the capture; what was seen so far is summarised.
        let _ = ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst));
    }
    let live = source.is_live();
    if let SourceSpec::Live(iface) = &spec {
        let filter = input
            .filter
            .as_deref()
            .map(|f| t!("cli.filter", locale = l, filter = f).into_owned())
            .unwrap_or_default();
        eprintln!(
            "wsscope: {}",
            t!("cli.capturing", locale = l, iface = iface, filter = filter)
        );
    }
    // Not locked for the whole run: `--json` writes on a thread of its own.
    let mut sink = CliSink {
        out: BufWriter::with_capacity(1 << 16, io::stdout()),
        mode,
        lang,
        text: TextTimeline::with_lang(lang),
        stats: if matches!(mode, Mode::StatsTable | Mode::StatsJson) {
            StatsBuilder::with_streams()
        } else {
            StatsBuilder::new()
        },
        header_done: false,
        live,
        broken: false,
        teach: match mode {
            Mode::Teach(m) => Some(m.report()),
            _ => None,
        },
        sel: input.selection(),
        show_payload,
        json: match mode {
            Mode::Json => json_writer::JsonWriter::stdout().ok(),
            _ => None,
        },
    };
    let mut keys = keys::Keys::load(input.keylog.as_deref(), input.file(), live)?;
    let mut cfg = input.config(&keys, live);
    // The stats never read the display strings of frames and messages.
    cfg.ws.detail = !sink.summarises();
    // The timelines show each message's protocol (decoded from whole payloads);
    // the stats keep payloads only for `--grep`.
    cfg.ws.keep_payload |= matches!(mode, Mode::Text | Mode::Json);
    if sharded(&spec, &source, mode, &sink.sel)
        && shards::stats(&mut source, &cfg, input.count, &stop, &mut sink).is_some()
    {
        keys.finish();
        if sink.header_done && !sink.broken {
            let _ = writeln!(sink.out, "{}", stats::table_legend(lang));
        }
        let _ = sink.out.flush();
        return Ok(());
    }
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
            let m = t!("cli.dropped", locale = l, dropped = dropped);
            eprintln!("wsscope: {}", t!("cli.warning", locale = l, message = m));
        }
    }
    let interrupted = stop.load(Ordering::Relaxed);
    if interrupted && matches!(mode, Mode::Text) {
        // Ctrl-C: say what was still going on before the open connections are ended.
        let open = sink.stats.finish_with(|c| analyzer.totals(c));
        if !open.is_empty() && !sink.broken {
            let n = open.len();
            let _ = writeln!(
                sink.out,
                "{}",
                t!("cli.stopped", locale = l, seen = seen, open = n)
            );
            let _ = writeln!(sink.out, "{}", stats::table_header_in(lang));
            for row in &open {
                let _ = writeln!(sink.out, "{}", stats::table_row_in(lang, row));
            }
        }
    }
    analyzer.finish(if live { now() } else { last_ts }, &mut sink);
    if matches!(mode, Mode::StatsTable | Mode::StatsJson) {
        let rows = sink.stats.finish();
        sink.write_rows(rows);
        if sink.header_done && !sink.broken {
            let _ = writeln!(sink.out, "{}", stats::table_legend(lang));
        }
    }
    if let Some(t) = sink.teach.as_mut() {
        let _ = t.finish(&mut sink.out);
    }
    if let Some(j) = sink.json.as_mut() {
        sink.broken |= !j.finish();
    }
    let _ = sink.out.flush();
    Ok(())
}

/// `stats` of a whole file read on its own thread (not libpcap's), with no `--conn`,
/// `--grep` or filter, is decoded on both cores ([`shards`]), where there are two;
/// `WSSCOPE_DECODERS=1` keeps one pipeline.
fn sharded(spec: &SourceSpec, source: &Source, mode: Mode, sel: &Selection) -> bool {
    matches!(mode, Mode::StatsTable | Mode::StatsJson)
        && matches!(spec, SourceSpec::File(_))
        && !source.is_stream()
        && source.gives_batches()
        && sel.is_all()
        && std::thread::available_parallelism().map_or(1, |n| n.get()) >= 2
        && std::env::var("WSSCOPE_DECODERS").map_or(true, |v| v.trim() != "1")
}

impl<W: Write> shards::RowsOut for CliSink<W> {
    fn rows(&mut self, rows: Vec<output::ConnStats>) {
        self.write_rows(rows);
    }

    fn warning(&mut self, warning: Warning) {
        Sink::warning(self, warning);
    }

    fn broken(&self) -> bool {
        self.broken
    }

    fn damaged(&mut self, why: capture::Damage, packets: u64) {
        Driver::damaged(self, &damage_text(&why, packets, false), false);
    }
}

/// Where `export` sends the analyzer's output: the HAR writer and the NDJSON file.
struct ExportSink {
    har: Option<output::har::HarWriter<BufWriter<std::fs::File>>>,
    ndjson: Option<BufWriter<std::fs::File>>,
    sel: Selection,
    /// The first write error (the export stops).
    error: Option<io::Error>,
    /// The language of the warnings.
    lang: output::Lang,
}

impl Sink for ExportSink {
    fn event(&mut self, e: Event) {
        if self.error.is_some() {
            return;
        }
        // `--conn` picks the connections; `--grep` the messages of the NDJSON and the
        // WebSockets of the HAR (those with a match).
        if !self.sel.summary(&e) {
            return;
        }
        if let Some(h) = self.har.as_mut() {
            h.event(&e);
        }
        if let (Some(out), EventKind::WsMessage { .. }) = (self.ndjson.as_mut(), &e.kind) {
            if self.sel.greps() && !self.sel.matches(&e) {
                return;
            }
            if let Err(err) = output::write_json_line(out, &e) {
                self.error = Some(err);
            }
        }
    }

    fn warning(&mut self, warning: Warning) {
        warn(self.lang, &output::warning_text(self.lang, &warning));
    }

    fn heap_bytes(&self) -> usize {
        self.har.as_ref().map_or(0, |h| h.heap_bytes())
    }

    fn conn_closed(&mut self, conn: u64, _totals: &ConnTotals) {
        if let Some(h) = self.har.as_mut() {
            let res = if self.sel.shows_conn(conn) {
                h.conn_closed(conn)
            } else {
                h.forget(conn);
                Ok(())
            };
            if let Err(err) = res {
                self.error.get_or_insert(err);
            }
        }
    }
}

impl Driver for ExportSink {
    fn tick(&mut self, _source: &mut Source, _packets: u64, _bytes_read: u64) -> bool {
        self.error.is_none()
    }

    fn damaged(&mut self, say: &dyn Fn(output::Lang) -> String, _live: bool) {
        warn(self.lang, &say(self.lang));
    }
}

/// `wsscope export`: HAR 1.2 and/or NDJSON messages with whole payloads.
fn export(a: &ExportArgs) -> Result<(), SourceError> {
    let input = &a.input;
    let mut source = input.open()?;
    let cannot_write = |path: &str, e: &io::Error| {
        let (path, e) = (wsscope::text::safe(path), capture::os_error(e));
        SourceError(t!("cli.cannot_write", path = path, e = e).into_owned())
    };
    let create = |path: &str| {
        std::fs::File::create(path)
            .map(BufWriter::new)
            .map_err(|e| cannot_write(path, &e))
    };
    let har = match &a.har {
        Some(p) => Some(output::har::HarWriter::new(create(p)?).map_err(|e| cannot_write(p, &e))?),
        None => None,
    };
    let ndjson = a.ndjson.as_deref().map(create).transpose()?;
    let mut sink = ExportSink {
        har,
        ndjson,
        sel: input.selection(),
        error: None,
        lang: lang_of(a.lang.as_deref()),
    };
    let live = source.is_live();
    let mut keys = keys::Keys::load(input.keylog.as_deref(), input.file(), live)?;
    let mut cfg = input.config(&keys, live);
    cfg.ws.keep_payload = true;
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        let _ = ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst));
    }
    let mut analyzer = Analyzer::new(cfg);
    let done = pump(
        &mut source,
        &mut analyzer,
        &mut sink,
        &mut keys,
        input.count,
        &stop,
    );
    analyzer.finish(if live { now() } else { done.last_ts }, &mut sink);
    let fail = |e: io::Error| {
        SourceError(t!("cli.cannot_write_export", e = capture::os_error(&e)).into_owned())
    };
    if let Some(e) = sink.error.take() {
        return Err(fail(e));
    }
    if let Some(h) = sink.har.take() {
        let n = h.entries();
        h.finish().map_err(fail)?;
        let path = wsscope::text::safe(a.har.as_deref().unwrap_or(""));
        eprintln!("wsscope: {}", t!("cli.har_written", n = n, path = path));
    }
    if let Some(mut out) = sink.ndjson.take() {
        out.flush().map_err(fail)?;
    }
    Ok(())
}
