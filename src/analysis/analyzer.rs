//! The analyzer: raw packets in, timeline events out.
//!
//! It owns the wire decoder and the TCP flow table, and for each connection
//! follows the phases: TCP → HTTP (requests, responses, the Upgrade) →
//! WebSocket (frames, messages, the close) → the TCP end. Everything it learns
//! goes out as [`Event`]s through a [`Sink`]; it never does I/O.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;

use super::contract::{handshake_event, request_event, response_event, unanswered_upgrade};
use crate::analysis::{Event, EventKind, TeardownStep};
use crate::http::{self, HttpItem, HttpParser, RequestHead, Role};
use crate::tcp::{CloseReason, FlowTable, SegmentInfo, TcpConfig, TcpEvent};
use crate::types::{ConnMap, Direction, Timestamp, Violation};
use crate::wire::{self, Decoded, WireLimits};
use crate::ws::{self, WsConfig, WsSession};

/// Where the analyzer's output goes.
pub trait Sink {
    /// A timeline event, in completion order.
    fn event(&mut self, event: Event);
    /// `n` bytes of TCP payload (new stream bytes) travelled `dir` on `conn`.
    fn tcp_bytes(&mut self, _conn: u64, _dir: Direction, _n: u64) {}
    /// A warning for the user (unsupported link type, buffer bound hit, ...),
    /// already deduplicated by the analyzer.
    fn warning(&mut self, _message: String) {}
    /// `conn` has ended: no event for it follows.
    fn conn_closed(&mut self, _conn: u64) {}
}

impl Sink for Vec<Event> {
    fn event(&mut self, event: Event) {
        self.push(event);
    }
}

/// Limits and options of the whole pipeline; every bound has a documented default.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// IPv4 fragment reassembly bounds.
    pub wire: WireLimits,
    /// Flow table and reassembly bounds.
    pub tcp: TcpConfig,
    /// WebSocket decoding bounds, and whether display strings are rendered
    /// ([`WsConfig::detail`]: a summary-only consumer sets it false).
    pub ws: WsConfig,
}

/// Bytes of a request stream held while the answer to an upgrade request is awaited.
const MAX_HELD_BYTES: usize = 1 << 20;
/// HTTP head size bound (request line / status line and headers).
const MAX_HTTP_HEAD: usize = 64 * 1024;
/// Requests remembered while their responses are awaited (pipelining).
const MAX_OUTSTANDING_REQUESTS: usize = 256;
/// Distinct warnings shown; the rest are counted.
const MAX_WARNINGS: usize = 100;

/// What a connection's bytes turned out to be.
enum Mode {
    /// No payload yet.
    Unknown,
    /// HTTP/1.x, possibly on its way to an upgrade.
    Http(Box<HttpState>),
    /// WebSocket frames (after a 101, or recognised mid-stream).
    WebSocket(Box<WsSession>),
    /// Something else: bytes are counted, not decoded.
    Opaque,
}

struct HttpState {
    requests: HttpParser,
    responses: HttpParser,
    /// Requests whose responses have not come yet, oldest first.
    /// (Only WebSocket upgrade requests are kept whole: the rest need no more than a place.)
    outstanding: VecDeque<Option<RequestHead>>,
    /// Index in `outstanding` of an upgrade request: while it is awaited, the
    /// client's further bytes are held, since they are WebSocket if the answer is 101.
    awaiting_upgrade: bool,
    held: Vec<u8>,
    /// Bytes that arrived after a 101 when no session could be made yet.
    held_overflow: bool,
}

struct Conn {
    /// True when the TCP layer's guess of the client must be turned round
    /// (mid-stream captures where HTTP or masking showed the other side is the client).
    swapped: bool,
    /// A mid-stream connection whose client is still unknown: its `conn_open` waits.
    pending_open: Option<(SocketAddr, SocketAddr)>,
    /// The capture began after the SYN.
    mid_stream: bool,
    /// Payload chunks looked at without recognising anything (mid-stream captures
    /// can begin inside a frame or a body, so a few are tried).
    probes: u8,
    mode: Mode,
    /// The first payload bytes while they are too few to classify (a strict prefix
    /// of a request method or of `HTTP/`, so at most 7 bytes), with their TCP
    /// direction: a request sent one byte at a time is still HTTP.
    first: Option<(Direction, Vec<u8>)>,
}

/// Payload chunks a mid-stream connection is given to show what it carries.
const MAX_PROBES: u8 = 8;

/// Turns packets into events. See the module docs.
pub struct Analyzer {
    wire: wire::Decoder,
    flows: FlowTable,
    conns: Conns,
    packets: u64,
}

/// The per-connection decoders, apart from the flow table so that the flow
/// table's events (which borrow its buffers) can be handled without a copy.
struct Conns {
    cfg: Config,
    map: ConnMap<Conn>,
    warned: HashMap<String, u32>,
    suppressed: u64,
    snaplen_warned: bool,
}

/// The packet being processed: its number and time, stamped on every event it completes.
#[derive(Clone, Copy)]
struct Here {
    pkt: u64,
    ts: Timestamp,
}

impl Analyzer {
    /// A new analyzer with the given limits.
    pub fn new(cfg: Config) -> Analyzer {
        Analyzer {
            wire: wire::Decoder::new(cfg.wire),
            flows: FlowTable::new(cfg.tcp),
            conns: Conns {
                cfg,
                map: ConnMap::default(),
                warned: HashMap::new(),
                suppressed: 0,
                snaplen_warned: false,
            },
            packets: 0,
        }
    }

    /// Packets seen so far.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// Feeds one captured packet (`linktype` is libpcap's DLT number).
    pub fn packet(&mut self, linktype: i32, ts: Timestamp, data: &[u8], sink: &mut impl Sink) {
        self.packets += 1;
        let here = Here {
            pkt: self.packets,
            ts,
        };
        let conns = &mut self.conns;
        match self.wire.decode(linktype, data, ts) {
            Decoded::Tcp(seg) => {
                if seg.payload.len() < seg.wire_payload_len as usize && !conns.snaplen_warned {
                    conns.snaplen_warned = true;
                    sink.warning(format!(
                        "packet {} keeps {} of its {} TCP payload bytes: the capture's snap length cut it; the missing bytes are reported as gaps (capture with tcpdump -s 0 to keep whole packets)",
                        here.pkt,
                        seg.payload.len(),
                        seg.wire_payload_len
                    ));
                }
                let info = SegmentInfo {
                    src: seg.src,
                    dst: seg.dst,
                    seq: seg.seq,
                    ack: seg.ack,
                    syn: seg.flags.syn(),
                    ack_flag: seg.flags.ack(),
                    fin: seg.flags.fin(),
                    rst: seg.flags.rst(),
                    payload: seg.payload,
                    wire_payload_len: seg.wire_payload_len,
                };
                self.flows.segment(here.pkt, ts, &info, &mut |ev| {
                    conns.tcp_event(here, ev, sink)
                });
            }
            Decoded::NotTcp | Decoded::FragmentHeld => {}
            Decoded::Problem(p) => conns.warn(sink, p.message),
        }
    }

    /// Live capture: ends connections idle for longer than the configured timeout.
    pub fn expire(&mut self, now: Timestamp, sink: &mut impl Sink) {
        let here = Here {
            pkt: self.packets,
            ts: now,
        };
        let conns = &mut self.conns;
        self.flows
            .expire(now, &mut |ev| conns.tcp_event(here, ev, sink));
    }

    /// The end of the capture: every open connection is ended and summarised.
    pub fn finish(&mut self, last_ts: Timestamp, sink: &mut impl Sink) {
        let here = Here {
            pkt: self.packets,
            ts: last_ts,
        };
        let conns = &mut self.conns;
        self.flows.finish(&mut |ev| conns.tcp_event(here, ev, sink));
        if conns.suppressed > 0 {
            sink.warning(format!("{} more warnings were not shown", conns.suppressed));
        }
    }
}

impl Conns {
    /// Passes a warning on, once per distinct text; past [`MAX_WARNINGS`] distinct
    /// texts, the rest are only counted (reported by `finish`).
    fn warn(&mut self, sink: &mut impl Sink, message: String) {
        if let Some(n) = self.warned.get_mut(&message) {
            *n += 1;
            return;
        }
        if self.warned.len() >= MAX_WARNINGS {
            self.suppressed += 1;
            return;
        }
        self.warned.insert(message.clone(), 1);
        sink.warning(message);
    }

    fn tcp_event(&mut self, here: Here, ev: TcpEvent<'_>, sink: &mut impl Sink) {
        match ev {
            TcpEvent::Open {
                conn,
                client,
                server,
                mid_stream,
            } => {
                let state = Conn {
                    swapped: false,
                    pending_open: mid_stream.then_some((client, server)),
                    mid_stream,
                    probes: 0,
                    mode: Mode::Unknown,
                    first: None,
                };
                self.map.insert(conn, state);
                if !mid_stream {
                    emit(
                        sink,
                        here,
                        conn,
                        None,
                        EventKind::ConnOpen {
                            client: addr(client),
                            server: addr(server),
                            mid_stream,
                        },
                    );
                }
            }
            TcpEvent::Handshake {
                conn,
                dir,
                step,
                rtt_ms,
                retransmission,
            } => {
                let dir = self.settle(here, conn, dir, sink);
                emit(
                    sink,
                    here,
                    conn,
                    Some(dir),
                    EventKind::TcpHandshake {
                        step,
                        rtt_ms,
                        retransmission,
                    },
                );
            }
            TcpEvent::Data { conn, dir, bytes } => {
                self.data(here, conn, dir, bytes, sink);
            }
            TcpEvent::Gap { conn, dir, bytes } => {
                // Bytes held to classify the connection are not joined across a gap.
                if let Some((d, held)) = self.map.get_mut(&conn).and_then(|c| c.first.take()) {
                    self.data_now(here, conn, d, &held, sink);
                }
                let dir = self.settle(here, conn, dir, sink);
                emit(sink, here, conn, Some(dir), EventKind::Gap { bytes });
                if let Some(c) = self.map.get_mut(&conn) {
                    match &mut c.mode {
                        Mode::Http(h) => match dir {
                            Direction::C2S => h.requests.gap(),
                            Direction::S2C => h.responses.gap(),
                        },
                        Mode::WebSocket(ws) => {
                            let mut out = WsOut::new(sink, here, conn, self.cfg.ws.detail);
                            ws.gap(dir, bytes, here.ts, &mut |d, k| out.push(d, k));
                        }
                        Mode::Unknown | Mode::Opaque => {}
                    }
                }
            }
            TcpEvent::Teardown {
                conn,
                dir,
                how,
                step,
            } => {
                let dir = self.settle(here, conn, dir, sink);
                if let Some(Conn {
                    mode: Mode::WebSocket(ws),
                    ..
                }) = self.map.get_mut(&conn)
                {
                    if step != Some(TeardownStep::Ack) {
                        ws.tcp_end(dir, here.ts);
                    }
                }
                emit(
                    sink,
                    here,
                    conn,
                    Some(dir),
                    EventKind::TcpTeardown { how, step },
                );
            }
            TcpEvent::Closed { conn, reason } => {
                if let Some((d, held)) = self.map.get_mut(&conn).and_then(|c| c.first.take()) {
                    self.data_now(here, conn, d, &held, sink);
                }
                self.settle(here, conn, Direction::C2S, sink);
                if let Some(c) = self.map.remove(&conn) {
                    let ended = matches!(reason, CloseReason::Fin | CloseReason::Rst);
                    self.end_conn(here, conn, c, ended, sink);
                }
                sink.conn_closed(conn);
            }
            TcpEvent::Warning { conn, message } => {
                self.warn(sink, format!("connection {conn}: {message}"));
            }
        }
    }

    /// Maps the TCP layer's direction to the connection's, and for a mid-stream
    /// connection whose client is still unknown, settles on the TCP layer's guess
    /// (emitting the waiting `conn_open`).
    fn settle(&mut self, here: Here, conn: u64, dir: Direction, sink: &mut impl Sink) -> Direction {
        let Some(c) = self.map.get_mut(&conn) else {
            return dir;
        };
        if let Some((client, server)) = c.pending_open.take() {
            let (client, server) = if c.swapped {
                (server, client)
            } else {
                (client, server)
            };
            emit(
                sink,
                here,
                conn,
                None,
                EventKind::ConnOpen {
                    client: addr(client),
                    server: addr(server),
                    mid_stream: true,
                },
            );
        }
        if c.swapped {
            dir.reverse()
        } else {
            dir
        }
    }

    fn data(
        &mut self,
        here: Here,
        conn: u64,
        tcp_dir: Direction,
        bytes: &[u8],
        sink: &mut impl Sink,
    ) {
        let Some(c) = self.map.get_mut(&conn) else {
            return;
        };
        if !matches!(c.mode, Mode::Unknown) {
            return self.data_now(here, conn, tcp_dir, bytes, sink);
        }
        let joined;
        let bytes = match c.first.take() {
            Some((d, mut held)) if d == tcp_dir => {
                held.extend_from_slice(bytes);
                joined = held;
                &joined[..]
            }
            Some((d, held)) => {
                // The other side spoke: the held bytes are classified as they are.
                self.data_now(here, conn, d, &held, sink);
                return self.data_now(here, conn, tcp_dir, bytes, sink);
            }
            None => bytes,
        };
        if could_become_http(bytes) {
            c.first = Some((tcp_dir, bytes.to_vec()));
            return;
        }
        self.data_now(here, conn, tcp_dir, bytes, sink);
    }

    fn data_now(
        &mut self,
        here: Here,
        conn: u64,
        tcp_dir: Direction,
        bytes: &[u8],
        sink: &mut impl Sink,
    ) {
        let Some(c) = self.map.get_mut(&conn) else {
            return;
        };
        if matches!(c.mode, Mode::Unknown) {
            // The first payload decides what the connection carries and, mid-stream, who the client is.
            let dir = if c.swapped {
                tcp_dir.reverse()
            } else {
                tcp_dir
            };
            let (mode, client_is_sender) = classify(&self.cfg.ws, bytes);
            if c.pending_open.is_some() {
                if let Some(sender_is_client) = client_is_sender {
                    c.swapped ^= sender_is_client != (dir == Direction::C2S);
                }
            }
            let unrecognised = matches!(mode, Mode::Opaque);
            if unrecognised && c.mid_stream && c.probes < MAX_PROBES {
                // Maybe the capture began inside a frame or a body: look again at the
                // next chunk, with the client still open to question.
                c.probes += 1;
                sink.tcp_bytes(conn, dir, bytes.len() as u64);
                return;
            }
            c.mode = mode;
        }
        let dir = self.settle(here, conn, tcp_dir, sink);
        sink.tcp_bytes(conn, dir, bytes.len() as u64);
        let Some(c) = self.map.get_mut(&conn) else {
            return;
        };
        let mut switch: Option<Mode> = None;
        let mut leftover: Vec<(Direction, Vec<u8>)> = Vec::new();
        match &mut c.mode {
            Mode::Unknown | Mode::Opaque => {}
            Mode::WebSocket(ws) => {
                let mut out = WsOut::new(sink, here, conn, self.cfg.ws.detail);
                ws.feed(dir, bytes, here.ts, &mut |d, k| out.push(d, k));
            }
            Mode::Http(h) => {
                http_data(
                    &self.cfg,
                    here,
                    conn,
                    dir,
                    bytes,
                    h,
                    sink,
                    &mut switch,
                    &mut leftover,
                );
            }
        }
        if let Some(mut mode) = switch {
            if let Mode::WebSocket(ws) = &mut mode {
                let mut out = WsOut::new(sink, here, conn, self.cfg.ws.detail);
                for (d, b) in leftover {
                    ws.feed(d, &b, here.ts, &mut |d, k| out.push(d, k));
                }
            }
            c.mode = mode;
        }
    }

    /// The connection's last word. `ended`: the TCP connection really ended (FIN or
    /// RST), as opposed to the capture stopping while it was open.
    fn end_conn(&mut self, here: Here, conn: u64, c: Conn, ended: bool, sink: &mut impl Sink) {
        match c.mode {
            Mode::WebSocket(mut ws) => {
                let mut out = WsOut::new(sink, here, conn, self.cfg.ws.detail);
                ws.end(here.ts, &mut |d, k| out.push(d, k));
            }
            Mode::Http(mut h) => {
                let mut items = Vec::new();
                if ended {
                    h.requests.end(&mut |i| items.push((Direction::C2S, i)));
                    h.responses.end(&mut |i| items.push((Direction::S2C, i)));
                }
                for (dir, item) in items {
                    if let HttpItem::Violation(v) = item {
                        emit_violation(sink, here, conn, Some(dir), v);
                    }
                }
                // Only a connection that really ended left the upgrade unanswered; a
                // capture that stops (or `-c`) just did not see the answer yet.
                if h.awaiting_upgrade && ended {
                    emit(
                        sink,
                        here,
                        conn,
                        None,
                        unanswered_upgrade(h.outstanding.back().and_then(Option::as_ref)),
                    );
                }
            }
            Mode::Unknown | Mode::Opaque => {}
        }
    }
}

/// What a 101 switches a connection to.
enum Switch {
    /// WebSocket.
    WebSocket {
        /// permessage-deflate, when it was accepted.
        deflate: Option<ws::DeflateParams>,
        /// The handshake passed every check.
        established: bool,
    },
    /// Another protocol (e.g. h2c): not decoded.
    Other,
}

/// Decides from a connection's first payload what it carries. Returns the mode and,
/// when the bytes show it, whether their sender is the client.
fn classify(cfg: &WsConfig, bytes: &[u8]) -> (Mode, Option<bool>) {
    let http = || {
        Mode::Http(Box::new(HttpState {
            requests: HttpParser::new(Role::Request, MAX_HTTP_HEAD),
            responses: HttpParser::new(Role::Response, MAX_HTTP_HEAD),
            outstanding: VecDeque::new(),
            awaiting_upgrade: false,
            held: Vec::new(),
            held_overflow: false,
        }))
    };
    if looks_like_request(bytes) {
        (http(), Some(true))
    } else if bytes.starts_with(b"HTTP/") {
        (http(), Some(false))
    } else if let Some(s) = ws::sniff(bytes) {
        let session = WsSession::new_mid_stream(cfg).with_confidence(s.confidence);
        (Mode::WebSocket(Box::new(session)), Some(s.masked))
    } else {
        (Mode::Opaque, None)
    }
}

/// An HTTP request line starts with a method token and a space.
fn looks_like_request(bytes: &[u8]) -> bool {
    http::REQUEST_STARTS.iter().any(|m| bytes.starts_with(m))
}

/// A first payload too short to tell: a strict prefix of a method token (with its
/// space) or of `HTTP/`, so the connection may still turn out to be HTTP.
fn could_become_http(bytes: &[u8]) -> bool {
    let prefix = |t: &[u8]| bytes.len() < t.len() && t.starts_with(bytes);
    !bytes.is_empty() && (http::REQUEST_STARTS.iter().any(|m| prefix(m)) || prefix(b"HTTP/"))
}

#[allow(clippy::too_many_arguments)]
fn http_data(
    cfg: &Config,
    here: Here,
    conn: u64,
    dir: Direction,
    bytes: &[u8],
    h: &mut HttpState,
    sink: &mut impl Sink,
    switch: &mut Option<Mode>,
    leftover: &mut Vec<(Direction, Vec<u8>)>,
) {
    match dir {
        Direction::C2S => {
            if h.awaiting_upgrade {
                hold(conn, h, bytes, sink);
                return;
            }
            feed_requests(here, conn, bytes, h, sink);
        }
        Direction::S2C => {
            let mut items = Vec::new();
            let used = h.responses.feed(bytes, &mut |i| items.push(i));
            let mut upgraded = None;
            for item in items {
                match item {
                    HttpItem::Response(resp) => {
                        emit(sink, here, conn, Some(dir), response_event(&resp));
                        if resp.status < 200 && resp.status != 101 {
                            continue; // 100 Continue and friends: the final answer is still to come
                        }
                        let req = h.outstanding.pop_front().flatten();
                        let answers_upgrade = h.awaiting_upgrade && h.outstanding.is_empty();
                        if !answers_upgrade && resp.status != 101 {
                            continue;
                        }
                        if let Some(req) = &req {
                            let up = http::check_upgrade(req, &resp);
                            emit_violations(
                                sink,
                                here,
                                conn,
                                Some(dir),
                                up.violations.iter().cloned(),
                            );
                            emit(sink, here, conn, Some(dir), handshake_event(&up));
                            if resp.status == 101 {
                                upgraded = Some(Switch::WebSocket {
                                    deflate: up.deflate,
                                    established: up.ok,
                                });
                            }
                        } else if resp.status == 101 {
                            // A 101 whose request was not seen (mid-stream) is taken at its
                            // word; one to another protocol (h2c) is not decoded.
                            upgraded = Some(if resp.has_token("upgrade", "websocket") {
                                Switch::WebSocket {
                                    deflate: None,
                                    established: true,
                                }
                            } else {
                                Switch::Other
                            });
                        }
                        if resp.status != 101 {
                            h.awaiting_upgrade = false;
                            h.requests.resume();
                        }
                    }
                    HttpItem::Violation(v) => emit_violation(sink, here, conn, Some(dir), v),
                    HttpItem::Request(_) | HttpItem::BodyDone { .. } => {}
                }
            }
            match upgraded {
                Some(Switch::Other) => *switch = Some(Mode::Opaque),
                Some(Switch::WebSocket {
                    deflate,
                    established,
                }) => {
                    let mut session = WsSession::new(&cfg.ws, deflate);
                    session.set_established(established);
                    if !h.held.is_empty() {
                        emit_violation(
                            sink,
                            here,
                            conn,
                            Some(Direction::C2S),
                            Violation::new(
                                http::rules::DATA_BEFORE_UPGRADE,
                                format!(
                                    "The client sent {} bytes after its upgrade request before the server's 101 arrived.",
                                    h.held.len()
                                ),
                            ),
                        );
                        leftover.push((Direction::C2S, std::mem::take(&mut h.held)));
                    }
                    if used < bytes.len() {
                        leftover.insert(0, (Direction::S2C, bytes[used..].to_vec()));
                    }
                    *switch = Some(Mode::WebSocket(Box::new(session)));
                }
                None => {
                    if !h.awaiting_upgrade && !h.held.is_empty() {
                        // A refused upgrade: what the client sent meanwhile is HTTP again.
                        let held = std::mem::take(&mut h.held);
                        feed_requests(here, conn, &held, h, sink);
                    }
                }
            }
        }
    }
}

fn feed_requests(here: Here, conn: u64, bytes: &[u8], h: &mut HttpState, sink: &mut impl Sink) {
    let mut rest = bytes;
    loop {
        let mut items = Vec::new();
        let used = h.requests.feed(rest, &mut |i| items.push(i));
        for item in items {
            match item {
                HttpItem::Request(req) => {
                    emit(sink, here, conn, Some(Direction::C2S), request_event(&req));
                    h.responses.expect_response_to(&req.method);
                    let upgrade = req.is_upgrade_request();
                    if upgrade {
                        let broken = http::check_request(&req);
                        emit_violations(sink, here, conn, Some(Direction::C2S), broken.into_iter());
                    }
                    if h.outstanding.len() == MAX_OUTSTANDING_REQUESTS {
                        h.outstanding.pop_front();
                    }
                    h.outstanding.push_back(upgrade.then_some(req));
                }
                HttpItem::Violation(v) => emit_violation(sink, here, conn, Some(Direction::C2S), v),
                HttpItem::Response(_) | HttpItem::BodyDone { .. } => {}
            }
        }
        rest = rest.get(used..).unwrap_or_default();
        // The parser stops after any request asking for an Upgrade: what the client
        // sends next is WebSocket (or another protocol) if the answer is 101.
        h.awaiting_upgrade = h.requests.is_stopped();
        if h.awaiting_upgrade {
            hold(conn, h, rest, sink);
            return;
        }
        if rest.is_empty() || used == 0 {
            return;
        }
    }
}

/// Holds client bytes sent while the answer to its upgrade request is awaited
/// (bounded by [`MAX_HELD_BYTES`]; the excess is dropped, with one warning).
fn hold(conn: u64, h: &mut HttpState, bytes: &[u8], sink: &mut impl Sink) {
    let room = MAX_HELD_BYTES.saturating_sub(h.held.len());
    if bytes.len() > room && !h.held_overflow {
        h.held_overflow = true;
        sink.warning(format!(
            "connection {conn}: the client sent more than {} KiB before the answer to its upgrade request; the rest is not decoded",
            MAX_HELD_BYTES / 1024
        ));
    }
    h.held.extend_from_slice(&bytes[..bytes.len().min(room)]);
}

fn addr(a: SocketAddr) -> String {
    a.to_string()
}

fn emit(sink: &mut impl Sink, here: Here, conn: u64, dir: Option<Direction>, kind: EventKind) {
    sink.event(Event {
        conn,
        pkt: here.pkt,
        ts: here.ts,
        dir,
        kind,
    });
}

/// Violations one HTTP head can give; a hostile head could give thousands.
const MAX_VIOLATIONS_PER_HEAD: usize = 16;

/// Emits the violations found in one head, at most [`MAX_VIOLATIONS_PER_HEAD`]; the
/// rest are counted in a warning.
fn emit_violations(
    sink: &mut impl Sink,
    here: Here,
    conn: u64,
    dir: Option<Direction>,
    violations: impl Iterator<Item = Violation>,
) {
    let mut more = 0usize;
    for (n, v) in violations.enumerate() {
        if n < MAX_VIOLATIONS_PER_HEAD {
            emit_violation(sink, here, conn, dir, v);
        } else {
            more += 1;
        }
    }
    if more > 0 {
        sink.warning(format!(
            "connection {conn}: {more} more violations in one HTTP head were not reported"
        ));
    }
}

fn emit_violation(
    sink: &mut impl Sink,
    here: Here,
    conn: u64,
    dir: Option<Direction>,
    v: Violation,
) {
    emit(sink, here, conn, dir, v.into());
}

/// Stamps the WebSocket layer's events with the connection and packet.
struct WsOut<'s, S: Sink> {
    sink: &'s mut S,
    here: Here,
    conn: u64,
    detail: bool,
}

impl<'s, S: Sink> WsOut<'s, S> {
    fn new(sink: &'s mut S, here: Here, conn: u64, detail: bool) -> Self {
        WsOut {
            sink,
            here,
            conn,
            detail,
        }
    }

    fn push(&mut self, dir: Option<Direction>, ev: ws::WsEvent) {
        let kind = super::contract::ws_event(ev, self.detail);
        emit(self.sink, self.here, self.conn, dir, kind);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// LINKTYPE_RAW: the packet starts with the IP header.
    const RAW: i32 = 101;
    const C: ([u8; 4], u16) = ([10, 0, 0, 1], 40000);
    const S: ([u8; 4], u16) = ([10, 0, 0, 2], 80);

    /// An IPv4/TCP packet from `from` to `to` (flags: 0x02 SYN, 0x10 ACK, 0x01 FIN).
    fn packet(
        from: ([u8; 4], u16),
        to: ([u8; 4], u16),
        seq: u32,
        ack: u32,
        flags: u8,
        payload: &[u8],
    ) -> Vec<u8> {
        let total = (40 + payload.len()) as u16;
        let mut p = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 6, 0, 0];
        p[2..4].copy_from_slice(&total.to_be_bytes());
        p.extend_from_slice(&from.0);
        p.extend_from_slice(&to.0);
        p.extend_from_slice(&from.1.to_be_bytes());
        p.extend_from_slice(&to.1.to_be_bytes());
        p.extend_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(&ack.to_be_bytes());
        p.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        p.extend_from_slice(payload);
        p
    }

    /// A WebSocket frame, masked with `key` when given.
    fn frame(opcode: u8, payload: &[u8], key: Option<[u8; 4]>) -> Vec<u8> {
        assert!(payload.len() < 126);
        let mut f = vec![
            0x80 | opcode,
            payload.len() as u8 | if key.is_some() { 0x80 } else { 0 },
        ];
        match key {
            Some(k) => {
                f.extend_from_slice(&k);
                f.extend(payload.iter().enumerate().map(|(i, b)| b ^ k[i % 4]));
            }
            None => f.extend_from_slice(payload),
        }
        f
    }

    /// Runs the analyzer over (sender is client, payload) segments of one connection,
    /// with or without the three-way handshake first.
    fn run(handshake: bool, segments: &[(bool, Vec<u8>)]) -> Vec<Event> {
        let mut a = Analyzer::new(Config::default());
        let mut events = Vec::new();
        let (mut cseq, mut sseq) = (1000u32, 5000u32);
        let mut ts = 1_000_000i64;
        let mut feed = |a: &mut Analyzer, p: Vec<u8>, events: &mut Vec<Event>| {
            ts += 1000;
            a.packet(RAW, Timestamp(ts), &p, events);
        };
        if handshake {
            feed(&mut a, packet(C, S, cseq - 1, 0, 0x02, b""), &mut events);
            feed(&mut a, packet(S, C, sseq - 1, cseq, 0x12, b""), &mut events);
            feed(&mut a, packet(C, S, cseq, sseq, 0x10, b""), &mut events);
        }
        for (from_client, data) in segments {
            let p = if *from_client {
                let p = packet(C, S, cseq, sseq, 0x18, data);
                cseq = cseq.wrapping_add(data.len() as u32);
                p
            } else {
                let p = packet(S, C, sseq, cseq, 0x18, data);
                sseq = sseq.wrapping_add(data.len() as u32);
                p
            };
            feed(&mut a, p, &mut events);
        }
        a.finish(Timestamp(ts + 1000), &mut events);
        events
    }

    fn names(events: &[Event]) -> Vec<&'static str> {
        events.iter().map(|e| e.kind.name()).collect()
    }

    const REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    const RESPONSE_101: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

    #[test]
    fn a_capture_that_begins_inside_a_frame_is_recognised_later() {
        // The server's side comes first, in the middle of a frame's payload; then
        // masked client frames show which side is the client.
        let events = run(
            false,
            &[
                (false, vec![0x17, 0x99, 0x42, 0x00, 0xff]),
                (true, frame(1, b"hi", Some([1, 2, 3, 4]))),
                (false, frame(1, b"hello", None)),
            ],
        );
        let open = events
            .iter()
            .find(|e| e.kind.name() == "conn_open")
            .expect("conn_open");
        match &open.kind {
            EventKind::ConnOpen {
                client, mid_stream, ..
            } => {
                assert_eq!(client, "10.0.0.1:40000");
                assert!(mid_stream);
            }
            _ => unreachable!(),
        }
        let frames: Vec<Option<Direction>> = events
            .iter()
            .filter(|e| e.kind.name() == "ws_frame")
            .map(|e| e.dir)
            .collect();
        assert_eq!(
            frames,
            [Some(Direction::C2S), Some(Direction::S2C)],
            "{:#?}",
            names(&events)
        );
    }

    #[test]
    fn client_bytes_before_the_101_are_held_then_decoded_and_named() {
        let mut early = REQUEST.to_vec();
        early.extend(frame(1, b"too soon", Some([9, 9, 9, 9])));
        let events = run(true, &[(true, early), (false, RESPONSE_101.to_vec())]);
        let n = names(&events);
        let at = |name: &str| {
            n.iter()
                .position(|x| *x == name)
                .unwrap_or_else(|| panic!("{name} in {n:?}"))
        };
        assert!(at("ws_handshake") < at("violation"), "{n:?}");
        assert!(events.iter().any(|e| matches!(
            e.kind,
            EventKind::Violation {
                code: "data_before_upgrade",
                ..
            }
        )));
        assert!(events.iter().any(
            |e| matches!(&e.kind, EventKind::WsMessage { preview, .. } if preview == "too soon")
        ));
    }

    #[test]
    fn after_a_refused_upgrade_the_connection_is_http_again() {
        let refused = b"HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n";
        let mut two = REQUEST.to_vec();
        two.extend_from_slice(b"GET /other HTTP/1.1\r\nHost: x\r\n\r\n");
        let events = run(
            true,
            &[
                (true, two),
                (false, refused.to_vec()),
                (
                    false,
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec(),
                ),
            ],
        );
        let requests = events
            .iter()
            .filter(|e| e.kind.name() == "http_request")
            .count();
        let responses = events
            .iter()
            .filter(|e| e.kind.name() == "http_response")
            .count();
        assert_eq!((requests, responses), (2, 2), "{:#?}", names(&events));
        assert!(events.iter().any(|e| matches!(
            e.kind,
            EventKind::WsHandshake {
                ok: false,
                status: 426,
                ..
            }
        )));
        assert!(!events.iter().any(|e| e.kind.name() == "ws_frame"));
    }

    #[test]
    fn a_101_to_another_protocol_is_not_decoded_as_websocket() {
        let h2c = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n";
        let switched =
            b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n";
        let events = run(
            true,
            &[
                (true, h2c.to_vec()),
                (false, switched.to_vec()),
                (false, vec![0, 0, 0x12, 4, 0, 0, 0, 0, 0]),
            ],
        );
        let n = names(&events);
        assert!(
            !n.contains(&"ws_handshake") && !n.contains(&"ws_frame") && !n.contains(&"violation"),
            "{n:?}"
        );
    }
}
