//! The analyzer: raw packets in, timeline events out.
//!
//! It owns the wire decoder and the TCP flow table, and for each connection
//! follows the phases: TCP → HTTP (requests, responses, the Upgrade) →
//! WebSocket (frames, messages, the close) → the TCP end. Everything it learns
//! goes out as [`Event`]s through a [`Sink`]; it never does I/O.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;

use crate::analysis::{Event, EventKind, TeardownStep};
use crate::http::{self, HttpItem, HttpParser, RequestHead, Role};
use crate::tcp::{CloseReason, FlowTable, SegmentInfo, TcpConfig, TcpEvent};
use crate::text::safe;
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
    outstanding: VecDeque<RequestHead>,
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
    mode: Mode,
}

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
            sink.warning(format!(
                "{} more warnings of other kinds were not shown",
                conns.suppressed
            ));
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
                    mode: Mode::Unknown,
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
                let dir = self.settle(here, conn, dir, sink);
                emit(sink, here, conn, Some(dir), EventKind::Gap { bytes });
                if let Some(c) = self.map.get_mut(&conn) {
                    match &mut c.mode {
                        Mode::Http(h) => match dir {
                            Direction::C2S => h.requests.gap(),
                            Direction::S2C => h.responses.gap(),
                        },
                        Mode::WebSocket(ws) => {
                            let mut out = WsOut::new(sink, here, conn);
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
                let mut out = WsOut::new(sink, here, conn);
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
                let mut out = WsOut::new(sink, here, conn);
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
                let mut out = WsOut::new(sink, here, conn);
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
                if h.awaiting_upgrade {
                    emit(
                        sink,
                        here,
                        conn,
                        Some(Direction::S2C),
                        unanswered_upgrade(h.outstanding.back()),
                    );
                }
            }
            Mode::Unknown | Mode::Opaque => {}
        }
    }
}

/// What a 101 switches a connection to.
enum Switch {
    /// WebSocket, with permessage-deflate when it was accepted.
    WebSocket(Option<ws::DeflateParams>),
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
    const METHODS: [&[u8]; 9] = [
        b"GET ",
        b"POST ",
        b"PUT ",
        b"HEAD ",
        b"DELETE ",
        b"OPTIONS ",
        b"PATCH ",
        b"CONNECT ",
        b"TRACE ",
    ];
    METHODS.iter().any(|m| bytes.starts_with(m))
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
                hold(h, bytes);
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
                        let req = h.outstanding.pop_front();
                        let answers_upgrade = h.awaiting_upgrade && h.outstanding.is_empty();
                        if !answers_upgrade && resp.status != 101 {
                            continue;
                        }
                        let ws_request = req.as_ref().filter(|r| r.is_upgrade_request());
                        if let Some(req) = ws_request {
                            let up = http::check_upgrade(req, &resp);
                            for v in &up.violations {
                                emit_violation(sink, here, conn, Some(dir), v.clone());
                            }
                            emit(sink, here, conn, Some(dir), handshake_event(&up));
                            if resp.status == 101 {
                                upgraded = Some(Switch::WebSocket(up.deflate.map(ws_deflate)));
                            }
                        } else if resp.status == 101 {
                            // A 101 whose request was not seen (mid-stream) is taken at its
                            // word; one to another protocol (h2c) is not decoded.
                            upgraded = Some(if resp.has_token("upgrade", "websocket") {
                                Switch::WebSocket(None)
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
                Some(Switch::WebSocket(deflate)) => {
                    let session = WsSession::new(&cfg.ws, deflate);
                    if !h.held.is_empty() {
                        emit_violation(
                            sink,
                            here,
                            conn,
                            Some(Direction::C2S),
                            Violation::new(
                                "data_before_upgrade",
                                "RFC 6455 4.1",
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
                    if req.is_upgrade_request() {
                        for v in http::check_request(&req) {
                            emit_violation(sink, here, conn, Some(Direction::C2S), v);
                        }
                    }
                    if h.outstanding.len() == MAX_OUTSTANDING_REQUESTS {
                        h.outstanding.pop_front();
                    }
                    h.outstanding.push_back(req);
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
            hold(h, rest);
            return;
        }
        if rest.is_empty() || used == 0 {
            return;
        }
    }
}

fn hold(h: &mut HttpState, bytes: &[u8]) {
    let room = MAX_HELD_BYTES.saturating_sub(h.held.len());
    if bytes.len() > room {
        h.held_overflow = true;
    }
    h.held.extend_from_slice(&bytes[..bytes.len().min(room)]);
}

fn ws_deflate(p: http::DeflateParams) -> ws::DeflateParams {
    ws::DeflateParams {
        server_no_context_takeover: p.server_no_context_takeover,
        client_no_context_takeover: p.client_no_context_takeover,
        server_max_window_bits: p.server_max_window_bits,
        client_max_window_bits: p.client_max_window_bits,
    }
}

fn unanswered_upgrade(req: Option<&RequestHead>) -> EventKind {
    let key = req.and_then(|r| r.header("sec-websocket-key")).map(safe);
    let expected = req
        .and_then(|r| r.header("sec-websocket-key"))
        .filter(|k| http::key_is_valid(k))
        .map(http::accept_for);
    EventKind::WsHandshake {
        key,
        accept: None,
        expected_accept: expected,
        accept_ok: false,
        version: req
            .and_then(|r| r.header("sec-websocket-version"))
            .map(safe),
        extensions: Vec::new(),
        subprotocol: None,
        ok: false,
        status: 0,
        reason: Some("the server never answered the upgrade request".into()),
        offered_extensions: Vec::new(),
        offered_subprotocols: Vec::new(),
    }
}

fn safe_headers(headers: &[(String, String)]) -> Vec<(String, String)> {
    headers.iter().map(|(n, v)| (safe(n), safe(v))).collect()
}

fn request_event(req: &RequestHead) -> EventKind {
    EventKind::HttpRequest {
        method: safe(&req.method),
        target: safe(&req.target),
        version: safe(&req.version),
        headers: safe_headers(&req.headers),
    }
}

fn response_event(resp: &http::ResponseHead) -> EventKind {
    EventKind::HttpResponse {
        status: resp.status,
        reason: safe(&resp.reason),
        version: safe(&resp.version),
        headers: safe_headers(&resp.headers),
    }
}

fn handshake_event(up: &http::Upgrade) -> EventKind {
    let list = |v: &[String]| v.iter().map(|s| safe(s)).collect();
    EventKind::WsHandshake {
        key: up.key.as_deref().map(safe),
        accept: up.accept.as_deref().map(safe),
        expected_accept: up.expected_accept.clone(),
        accept_ok: up.accept_ok,
        version: up.version.as_deref().map(safe),
        extensions: list(&up.extensions),
        subprotocol: up.subprotocol.as_deref().map(safe),
        ok: up.ok,
        status: up.status,
        reason: up.reason.as_deref().map(safe),
        offered_extensions: list(&up.offered_extensions),
        offered_subprotocols: list(&up.offered_subprotocols),
    }
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
}

impl<'s, S: Sink> WsOut<'s, S> {
    fn new(sink: &'s mut S, here: Here, conn: u64) -> Self {
        WsOut { sink, here, conn }
    }

    fn push(&mut self, dir: Option<Direction>, kind: EventKind) {
        emit(self.sink, self.here, self.conn, dir, kind);
    }
}
