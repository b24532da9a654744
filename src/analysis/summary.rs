//! The one summary of a connection: a fold over its events and its packet-level
//! totals, read by every view (`stats`, `--compare`, the lesson, `--explain`,
//! Mermaid and the terminal view). One overhead, one heartbeat, one duration, one
//! close verdict, one kind: defined here once.

use std::collections::{HashMap, VecDeque};

use serde::Serialize;

use super::{ConnTotals, Event, EventKind, HandshakeStep, TeardownHow, TlsStep};
use crate::types::{Direction, Timestamp};

/// A count per direction.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq, Eq)]
pub struct PerDir {
    /// Client to server.
    pub c2s: u64,
    /// Server to client.
    pub s2c: u64,
}

impl PerDir {
    fn add(&mut self, dir: Option<Direction>, n: u64) {
        match dir {
            Some(Direction::S2C) => self.s2c += n,
            _ => self.c2s += n,
        }
    }

    /// Both directions.
    pub fn total(&self) -> u64 {
        self.c2s + self.s2c
    }
}

/// The opening handshake's outcome.
#[derive(Clone, Debug, Serialize)]
pub struct UpgradeStats {
    /// Status of the response (0 when none came).
    pub status: u16,
    /// The Accept matched the key.
    pub accept_ok: bool,
    /// The upgrade succeeded (extension).
    pub ok: bool,
}

/// Bytes of the connection.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Bytes {
    /// TCP payload bytes, both directions (everything above TCP).
    pub wire: u64,
    /// Application payload: WebSocket frame payloads, or HTTP bodies (wire minus heads).
    pub payload: u64,
}

/// The close exchange.
#[derive(Clone, Debug, Serialize)]
pub struct CloseStats {
    /// Who sent the first close frame (null for an abnormal end).
    pub initiator: Option<Direction>,
    /// The code (1006 for an abnormal end).
    pub code: Option<u16>,
    /// Both closes seen before the TCP end.
    pub clean: bool,
}

/// TLS on a connection (`stats --json`'s `tls` object).
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct TlsStats {
    /// Negotiated version, e.g. `"TLS 1.3"`.
    pub version: Option<String>,
    /// Cipher suite by IANA name.
    pub cipher: Option<String>,
    /// Server Name Indication.
    pub sni: Option<String>,
    /// ALPN chosen.
    pub alpn: Option<String>,
    /// Every direction whose outcome is known decrypts.
    pub decrypted: bool,
    /// Why a direction does not decrypt (extension).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    /// Records per direction (extension).
    pub records: PerDir,
    /// Bytes TLS adds: record bytes minus the plaintext they carried (extension;
    /// only when decrypted, else 0).
    pub overhead_bytes: u64,
}

/// One connection's summary: the `stats --json` object.
#[derive(Clone, Debug, Serialize)]
pub struct ConnStats {
    /// Connection number.
    pub conn: u64,
    /// A WebSocket over HTTP/2: its stream (the row is that WebSocket's; the
    /// connection has a row of its own).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<u32>,
    /// `ip:port` of the client.
    pub client: String,
    /// `ip:port` of the server.
    pub server: String,
    /// SYN to ACK.
    pub handshake_rtt_ms: Option<f64>,
    /// The WebSocket upgrade, when one was asked for.
    pub upgrade: Option<UpgradeStats>,
    /// WebSocket frames per direction.
    pub frames: PerDir,
    /// WebSocket messages.
    pub messages: u64,
    /// Bytes.
    pub bytes: Bytes,
    /// The close exchange, for WebSocket connections.
    pub close: Option<CloseStats>,
    /// `fin`, `rst` or `none`.
    pub teardown: &'static str,
    /// Number of violations.
    pub violations: u64,
    /// `websocket`, `http-polling`, `http-long-polling`, `http-streaming`, `http` or `tcp`.
    pub kind: &'static str,
    /// The capture began after the SYN (extension).
    pub mid_stream: bool,
    /// Pings sent (extension).
    pub pings: u64,
    /// Pongs sent (extension).
    pub pongs: u64,
    /// Median ping→pong round trip (extension).
    pub ping_rtt_ms: Option<f64>,
    /// The heartbeat: median time between one side's successive pings (extension).
    pub heartbeat_ms: Option<f64>,
    /// HTTP requests (extension).
    pub requests: u64,
    /// Median request→response latency (extension).
    pub http_latency_ms: Option<f64>,
    /// Bytes missing from the capture (extension).
    pub gap_bytes: u64,
    /// Latest minus earliest packet time (extension).
    pub duration_ms: f64,
    /// The bytes that are not payload: WebSocket frame headers, or HTTP heads
    /// (`bytes.wire - bytes.payload` for HTTP) (extension).
    pub framing_bytes: u64,
    /// The one overhead: bytes on the wire per payload byte, null without payload
    /// (extension). `stats --compare` and the lesson read it.
    pub overhead: Option<f64>,
    /// TLS (wss), or null.
    pub tls: Option<Box<TlsStats>>,
}

/// Bytes on the wire per payload byte, the one definition of overhead.
pub fn overhead(wire: u64, payload: u64) -> Option<f64> {
    (payload > 0).then(|| wire as f64 / payload as f64)
}

impl ConnStats {
    /// Heap bytes of the row's strings and TLS facts (for the memory budget).
    pub fn heap_bytes(&self) -> usize {
        use crate::budget::{string_bytes, ALLOC_OVERHEAD};
        string_bytes(&self.client)
            + string_bytes(&self.server)
            + self.tls.as_ref().map_or(0, |t| {
                std::mem::size_of::<TlsStats>()
                    + ALLOC_OVERHEAD
                    + [&t.version, &t.cipher, &t.sni, &t.alpn]
                        .into_iter()
                        .flatten()
                        .map(string_bytes)
                        .sum::<usize>()
            })
    }

    fn new(conn: u64) -> ConnStats {
        ConnStats {
            conn,
            stream: None,
            client: String::new(),
            server: String::new(),
            handshake_rtt_ms: None,
            upgrade: None,
            frames: PerDir::default(),
            messages: 0,
            bytes: Bytes::default(),
            close: None,
            teardown: "none",
            violations: 0,
            kind: "tcp",
            mid_stream: false,
            pings: 0,
            pongs: 0,
            ping_rtt_ms: None,
            heartbeat_ms: None,
            requests: 0,
            http_latency_ms: None,
            gap_bytes: 0,
            duration_ms: 0.0,
            framing_bytes: 0,
            overhead: None,
            tls: None,
        }
    }
}

/// The summary of one connection while its events come: [`Summary::add`] each,
/// then [`Summary::close`] with its totals.
#[derive(Clone, Debug)]
pub struct Summary {
    row: ConnStats,
    first: Timestamp,
    last: Timestamp,
    ws: bool,
    event_stream: bool,
    head_bytes: u64,
    request_times: VecDeque<Timestamp>,
    latencies: Vec<f64>,
    /// Time from each response to the next request: how long the client waited.
    idles: Vec<f64>,
    last_response: Option<Timestamp>,
    ping_rtts: Vec<f64>,
    /// The last ping of each direction, and the gaps between successive ones.
    last_ping: [Option<Timestamp>; 2],
    ping_gaps: Vec<f64>,
    targets: HashMap<String, u32>,
    /// Heap bytes of the keys of `targets`.
    target_bytes: usize,
}

/// Requests remembered for latency while their responses are awaited.
const MAX_PENDING_REQUESTS: usize = 256;

/// Latency samples kept per connection (for the median).
const MAX_SAMPLES: usize = 4096;

impl Summary {
    /// The summary of connection `conn`, before its first event (at `ts`).
    pub fn new(conn: u64, ts: Timestamp) -> Summary {
        Summary {
            row: ConnStats::new(conn),
            first: ts,
            last: ts,
            ws: false,
            event_stream: false,
            head_bytes: 0,
            request_times: VecDeque::new(),
            latencies: Vec::new(),
            idles: Vec::new(),
            last_response: None,
            ping_rtts: Vec::new(),
            last_ping: [None, None],
            ping_gaps: Vec::new(),
            targets: HashMap::new(),
            target_bytes: 0,
        }
    }

    /// The summary of one WebSocket over HTTP/2: stream `stream` of connection `conn`,
    /// between the connection's `client` and `server`.
    pub fn for_stream(
        conn: u64,
        stream: u32,
        ts: Timestamp,
        client: &str,
        server: &str,
    ) -> Summary {
        let mut s = Summary::new(conn, ts);
        s.row.stream = Some(stream);
        s.row.client = client.to_string();
        s.row.server = server.to_string();
        s
    }

    /// False for the events that never add to what the summary holds (data frames and
    /// messages, the bulk of a capture): its heap bytes need not be counted again.
    #[inline]
    pub fn may_grow(kind: &EventKind) -> bool {
        match kind {
            EventKind::WsMessage { .. } => false,
            EventKind::WsFrame { opcode, rtt_ms, .. } => *opcode == 9 || rtt_ms.is_some(),
            _ => true,
        }
    }

    /// Heap bytes this summary holds (for the memory budget, [`crate::budget`]): the
    /// row's strings, the samples kept for medians, the request targets counted.
    pub fn heap_bytes(&self) -> usize {
        use crate::budget::{deque_bytes, map_bytes, vec_bytes};
        self.row.heap_bytes()
            + deque_bytes(&self.request_times)
            + vec_bytes(&self.latencies)
            + vec_bytes(&self.idles)
            + vec_bytes(&self.ping_rtts)
            + vec_bytes(&self.ping_gaps)
            + map_bytes(&self.targets)
            + self.target_bytes
    }

    /// The row as it stands (counts so far; medians, kind and totals only after [`Summary::close`]).
    pub fn row(&self) -> &ConnStats {
        &self.row
    }

    /// Takes one event of the connection into account (by reference: an event is
    /// large, and each move of it is a copy).
    pub fn add(&mut self, e: &Event) {
        let o = self;
        if e.ts < o.first {
            o.first = e.ts;
        }
        if e.ts > o.last {
            o.last = e.ts;
        }
        let row = &mut o.row;
        // By reference: the event is large, and moving it out costs a copy per event.
        match &e.kind {
            EventKind::ConnOpen {
                client,
                server,
                mid_stream,
            } => {
                row.client.clone_from(client);
                row.server.clone_from(server);
                row.mid_stream = *mid_stream;
            }
            EventKind::TcpHandshake {
                step: HandshakeStep::Ack,
                rtt_ms,
                ..
            } => {
                if row.handshake_rtt_ms.is_none() {
                    row.handshake_rtt_ms = *rtt_ms;
                }
            }
            EventKind::TcpHandshake { .. } => {}
            EventKind::HttpRequest {
                method,
                target,
                version,
                headers,
                ..
            } => {
                row.requests += 1;
                o.head_bytes += head_len(&[method, target, version], headers);
                if o.request_times.len() < MAX_PENDING_REQUESTS {
                    o.request_times.push_back(e.ts);
                }
                if let Some(t) = o.last_response.take() {
                    if o.idles.len() < MAX_SAMPLES {
                        o.idles.push(e.ts.millis_since(t));
                    }
                }
                let path = resource_path(target);
                let key = format!("{method} {path}");
                if let Some(n) = o.targets.get_mut(&key) {
                    *n += 1;
                } else if o.targets.len() < 64 {
                    o.target_bytes += crate::budget::string_bytes(&key);
                    o.targets.insert(key, 1);
                }
            }
            EventKind::HttpResponse {
                status,
                reason,
                version,
                headers,
                ..
            } => {
                o.head_bytes += head_len(&[version, "000", reason], headers);
                if is_event_stream(headers) {
                    o.event_stream = true;
                }
                if *status >= 200 || *status == 101 {
                    o.last_response = Some(e.ts);
                    if let Some(t) = o.request_times.pop_front() {
                        if o.latencies.len() < MAX_SAMPLES {
                            o.latencies.push(e.ts.millis_since(t));
                        }
                    }
                }
            }
            EventKind::WsHandshake {
                status,
                accept_ok,
                ok,
                ..
            } => {
                row.upgrade = Some(UpgradeStats {
                    status: *status,
                    accept_ok: *accept_ok,
                    ok: *ok,
                });
                o.ws |= *ok;
            }
            EventKind::WsFrame {
                opcode,
                len,
                rtt_ms,
                header_len,
                ..
            } => {
                o.ws = true;
                row.frames.add(e.dir, 1);
                row.framing_bytes += u64::from(*header_len);
                row.bytes.payload += len;
                match *opcode {
                    9 => {
                        row.pings += 1;
                        let side = e.dir.unwrap_or(Direction::C2S).index();
                        if let Some(prev) = o.last_ping[side].replace(e.ts) {
                            if o.ping_gaps.len() < MAX_SAMPLES {
                                o.ping_gaps.push(e.ts.millis_since(prev));
                            }
                        }
                    }
                    10 => row.pongs += 1,
                    _ => {}
                }
                if let Some(rtt) = *rtt_ms {
                    if o.ping_rtts.len() < MAX_SAMPLES {
                        o.ping_rtts.push(rtt);
                    }
                }
            }
            EventKind::WsMessage { .. } => row.messages += 1,
            EventKind::WsClose {
                initiator,
                code,
                clean,
                ..
            } => {
                row.close = Some(CloseStats {
                    initiator: *initiator,
                    code: *code,
                    clean: *clean,
                });
            }
            EventKind::TcpTeardown { how, .. } => {
                row.teardown = match (*how, row.teardown) {
                    (TeardownHow::Rst, _) => "rst",
                    (TeardownHow::Fin, "rst") => "rst",
                    (TeardownHow::Fin, _) => "fin",
                };
            }
            EventKind::TlsHandshake { step } => {
                let t = row.tls.get_or_insert_with(Box::default);
                match step {
                    TlsStep::ClientHello { sni, .. } => t.sni.clone_from(sni),
                    TlsStep::ServerHello {
                        version,
                        cipher,
                        alpn,
                        ..
                    } => {
                        t.version = Some(version.clone());
                        t.cipher = Some(cipher.clone());
                        if alpn.is_some() {
                            t.alpn.clone_from(alpn);
                        }
                    }
                    TlsStep::Done { alpn, .. } if alpn.is_some() => t.alpn.clone_from(alpn),
                    _ => {}
                }
            }
            EventKind::TlsDecrypt { ok, reason } => {
                let t = row.tls.get_or_insert_with(Box::default);
                if *ok && t.reason.is_none() {
                    t.decrypted = true;
                } else if !*ok {
                    t.decrypted = false;
                    t.reason = *reason;
                }
            }
            EventKind::TlsAlert { .. }
            | EventKind::H2Settings { .. }
            | EventKind::H2RstStream { .. }
            | EventKind::H2Goaway { .. } => {}
            EventKind::Violation { .. } => row.violations += 1,
            EventKind::Gap { bytes } => row.gap_bytes += *bytes,
        }
    }

    /// The connection has ended (or the input): the final row, with the packet-level
    /// `totals` (bytes on the wire, duration).
    pub fn close(self, totals: &ConnTotals) -> ConnStats {
        let mut o = self;
        // A stream's WebSocket: its frames are its bytes, its events its time.
        if o.row.stream.is_some() {
            o.row.bytes.wire = o.row.framing_bytes + o.row.bytes.payload;
            o.row.duration_ms = o.last.millis_since(o.first).max(0.0);
            o.row.overhead = overhead(o.row.bytes.wire, o.row.bytes.payload);
            o.row.ping_rtt_ms = median(&mut o.ping_rtts);
            o.row.heartbeat_ms = median(&mut o.ping_gaps);
            o.row.kind = classify(&o);
            return o.row;
        }
        // The packets' times when the analyzer counted them, else the events'.
        o.row.duration_ms = if totals.packets > 0 {
            totals.duration_ms()
        } else {
            o.last.millis_since(o.first).max(0.0)
        };
        o.row.bytes.wire = totals.wire_bytes();
        o.row.ping_rtt_ms = median(&mut o.ping_rtts);
        o.row.heartbeat_ms = median(&mut o.ping_gaps);
        o.row.http_latency_ms = median(&mut o.latencies);
        if !o.ws {
            // HTTP bodies: the stream minus the heads; over decrypted TLS the stream is
            // the plaintext (the records' own bytes are framing too).
            let decrypted = o.row.tls.as_ref().is_some_and(|t| t.decrypted);
            let stream = match totals.tls.as_ref() {
                Some(tt) if decrypted => tt.plaintext_bytes.iter().sum(),
                _ => o.row.bytes.wire,
            };
            o.row.bytes.payload = stream.saturating_sub(o.head_bytes);
            o.row.framing_bytes = o.row.bytes.wire - o.row.bytes.payload;
        }
        o.row.overhead = overhead(o.row.bytes.wire, o.row.bytes.payload);
        if let (Some(t), Some(tt)) = (o.row.tls.as_mut(), totals.tls.as_ref()) {
            t.records = PerDir {
                c2s: tt.records[0],
                s2c: tt.records[1],
            };
            if t.decrypted {
                let records: u64 = tt.record_bytes.iter().sum();
                let plain: u64 = tt.plaintext_bytes.iter().sum();
                t.overhead_bytes = records.saturating_sub(plain);
            }
        }
        o.row.kind = classify(&o);
        o.row
    }
}

/// Approximate size of an HTTP head from its parts: the start line, each
/// `name: value` line and the blank line.
/// A response that opens a server-sent event stream (`Content-Type: text/event-stream`).
pub fn is_event_stream(headers: &[(String, String)]) -> bool {
    headers.iter().any(|(n, v)| {
        n.eq_ignore_ascii_case("content-type")
            && v.to_ascii_lowercase().starts_with("text/event-stream")
    })
}

/// The resource a request target names, as polls are counted: its path without the
/// query (polls repeat a resource; the query string often changes, `?since=N`).
pub fn resource_path(target: &str) -> &str {
    target.split('?').next().unwrap_or_default()
}

fn head_len(start: &[&str], headers: &[(String, String)]) -> u64 {
    let line: usize = start.iter().map(|s| s.len()).sum::<usize>() + start.len() - 1 + 2;
    let hs: usize = headers.iter().map(|(n, v)| n.len() + 2 + v.len() + 2).sum();
    (line + hs + 2) as u64
}

/// How the connection was used: see `stats --compare`.
fn classify(o: &Summary) -> &'static str {
    if o.ws {
        return "websocket";
    }
    if o.row.requests == 0 {
        return "tcp";
    }
    if o.event_stream {
        return "http-streaming";
    }
    let repeated = o.targets.values().copied().max().unwrap_or(0);
    if repeated < 2 {
        return "http";
    }
    // Long polling: the server holds each request until it has something, and the
    // client asks again at once. Polling: quick answers, and the client waits.
    let held = median_of(&o.latencies).unwrap_or(0.0);
    let waited = median_of(&o.idles).unwrap_or(f64::INFINITY);
    if held >= LONG_POLL_MIN_HOLD_MS && held > LONG_POLL_RATIO * waited {
        return "http-long-polling";
    }
    if repeated >= 3 {
        return "http-polling";
    }
    "http"
}

/// A response held at least this long, much longer than the client then waits, is a long poll.
const LONG_POLL_MIN_HOLD_MS: f64 = 100.0;
/// How many times longer the server holds a request than the client waits before the next.
const LONG_POLL_RATIO: f64 = 4.0;

fn median_of(v: &[f64]) -> Option<f64> {
    let mut v = v.to_vec();
    median(&mut v)
}

fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    Some(v[v.len() / 2])
}
