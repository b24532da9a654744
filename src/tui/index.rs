//! The view's compact index of a capture: one fixed-size [`Rec`] per event
//! (24 bytes: its time, connection, kind, side and the few numbers the rows
//! and the replay need), from which the rows' state machine and summary are
//! folded ([`Index::lite`]). Whole events are decoded again on demand, one
//! connection at a time (see [`super::store::Loader`]), for what is on screen.
//!
//! What an event gives the index is what the view reads from the summary and
//! the state machine: the upgrade's outcome, frames (opcode, length, header
//! length, ping RTT, close code), messages, pings, the close, the teardown,
//! violations (an unanswered ping among them), gaps, the TLS version and
//! decryption, and for HTTP the status, whether a request asks for the
//! WebSocket upgrade, whether a response streams events, and which resource a
//! request asks for (a hash of its method and path, so polls of one resource
//! are counted together as the summary does). Texts (headers, previews,
//! reasons) are not kept: they come with the decoded events.

use wsscope::analysis::{
    Event, EventKind, HandshakeStep, MessageBody, MessageKind, TeardownHow, TeardownStep, TlsStep,
};
use wsscope::types::{Direction, Timestamp};

use super::store::header_has_token;
use wsscope::analysis::summary;

/// One event in the index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rec {
    /// Its time (µs).
    pub ts: i64,
    /// A number of the event (a frame's length, a gap's bytes, a request's
    /// resource hash, a TLS version's entry in the table of texts).
    pub val: u64,
    /// Its connection.
    pub conn: u32,
    /// Its kind ([`Tag`]).
    pub tag: u8,
    /// Its side (bits 0-1: 0 none, 1 client, 2 server) and flags (bits 2-7).
    pub bits: u8,
    /// A small number of the event (a status, an opcode and its bits, a step).
    pub a: u16,
}

/// Kinds of events, as [`Rec::tag`] numbers them.
#[allow(missing_docs)]
pub mod tag {
    pub const CONN_OPEN: u8 = 0;
    pub const TCP_HANDSHAKE: u8 = 1;
    pub const HTTP_REQUEST: u8 = 2;
    pub const HTTP_RESPONSE: u8 = 3;
    pub const WS_HANDSHAKE: u8 = 4;
    pub const WS_FRAME: u8 = 5;
    pub const WS_MESSAGE: u8 = 6;
    pub const WS_CLOSE: u8 = 7;
    pub const TCP_TEARDOWN: u8 = 8;
    pub const TLS_HANDSHAKE: u8 = 9;
    pub const TLS_DECRYPT: u8 = 10;
    pub const TLS_ALERT: u8 = 11;
    pub const H2_SETTINGS: u8 = 12;
    pub const H2_RST_STREAM: u8 = 13;
    pub const H2_GOAWAY: u8 = 14;
    pub const VIOLATION: u8 = 15;
    pub const GAP: u8 = 16;
}

// Flags (bits 2-7 of `Rec::bits`), by kind.
const F1: u8 = 1 << 2;
const F2: u8 = 1 << 3;
const F3: u8 = 1 << 4;

/// What does not fit in a [`Rec`]: rare numbers, kept aside by event.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Extra {
    /// A handshake's or a pong's round trip.
    Rtt(f64),
    /// A close frame's code (`None`: a close frame without one).
    CloseCode(Option<u16>),
    /// A close's code.
    Code(u16),
    /// The HTTP/2 stream.
    Stream(u32),
}

/// Texts kept once for all events (TLS versions, decryption failures): few
/// distinct ones, and past [`MAX_TEXTS`] the rest are not kept.
const MAX_TEXTS: usize = 1024;

/// The index: the records, and what is kept aside.
#[derive(Debug, Default)]
pub struct Index {
    /// The records, in blocks (no reallocation of the whole as it grows).
    blocks: Vec<Vec<Rec>>,
    len: usize,
    /// Rare numbers, by event (in event order).
    extras: Vec<(u32, Extra)>,
    texts: Vec<String>,
    reasons: Vec<&'static str>,
}

/// Records per block of [`Index::blocks`].
const BLOCK: usize = 1 << 16;

fn dir_bits(d: Option<Direction>) -> u8 {
    match d {
        None => 0,
        Some(Direction::C2S) => 1,
        Some(Direction::S2C) => 2,
    }
}

fn dir_of(bits: u8) -> Option<Direction> {
    match bits & 3 {
        1 => Some(Direction::C2S),
        2 => Some(Direction::S2C),
        _ => None,
    }
}

fn flag(b: bool, f: u8) -> u8 {
    if b {
        f
    } else {
        0
    }
}

/// The resource a request asks for, as the summary counts polls: its method
/// and its path without the query.
fn resource_hash(method: &str, target: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let path = summary::resource_path(target);
    let mut h = std::hash::DefaultHasher::new();
    method.hash(&mut h);
    path.hash(&mut h);
    h.finish()
}

impl Index {
    /// Events indexed.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Record `i`.
    pub fn get(&self, i: usize) -> Option<&Rec> {
        self.blocks.get(i / BLOCK)?.get(i % BLOCK)
    }

    /// The last record.
    pub fn last(&self) -> Option<&Rec> {
        self.len.checked_sub(1).and_then(|i| self.get(i))
    }

    /// Bytes the index holds (records and what is kept aside), for the tests
    /// of its bound.
    #[cfg(test)]
    pub fn heap_bytes(&self) -> usize {
        self.blocks.iter().map(|b| b.capacity()).sum::<usize>() * std::mem::size_of::<Rec>()
            + self.extras.capacity() * std::mem::size_of::<(u32, Extra)>()
            + self.texts.iter().map(|t| t.capacity() + 24).sum::<usize>()
            + self.reasons.capacity() * 16
    }

    fn text(&mut self, t: &str) -> u64 {
        if let Some(i) = self.texts.iter().position(|x| x == t) {
            return i as u64;
        }
        if self.texts.len() >= MAX_TEXTS {
            return u64::MAX;
        }
        self.texts.push(t.to_string());
        (self.texts.len() - 1) as u64
    }

    fn reason(&mut self, r: Option<&'static str>) -> u16 {
        let Some(r) = r else { return 0 };
        if let Some(i) = self.reasons.iter().position(|x| *x == r) {
            return i as u16 + 1;
        }
        if self.reasons.len() >= MAX_TEXTS {
            return u16::MAX;
        }
        self.reasons.push(r);
        self.reasons.len() as u16
    }

    /// Appends the record of `ev`; returns its number.
    pub fn push(&mut self, ev: &Event) -> usize {
        let i = self.len;
        let at = i as u32;
        let extra = |x: Extra, v: &mut Vec<(u32, Extra)>| v.push((at, x));
        let mut extras = std::mem::take(&mut self.extras);
        if let Some(s) = ev.stream {
            extra(Extra::Stream(s), &mut extras);
        }
        let (tag, bits, a, val) = match &ev.kind {
            EventKind::ConnOpen { mid_stream, .. } => (tag::CONN_OPEN, flag(*mid_stream, F1), 0, 0),
            EventKind::TcpHandshake {
                step,
                rtt_ms,
                retransmission,
            } => {
                if let Some(r) = rtt_ms {
                    extra(Extra::Rtt(*r), &mut extras);
                }
                let s = match step {
                    HandshakeStep::Syn => 0,
                    HandshakeStep::SynAck => 1,
                    HandshakeStep::Ack => 2,
                };
                (tag::TCP_HANDSHAKE, flag(*retransmission, F1), s, 0)
            }
            EventKind::HttpRequest {
                method,
                target,
                headers,
                ..
            } => (
                tag::HTTP_REQUEST,
                flag(header_has_token(headers, "upgrade", "websocket"), F1),
                0,
                resource_hash(method, target),
            ),
            EventKind::HttpResponse {
                status, headers, ..
            } => {
                let stream = summary::is_event_stream(headers);
                (tag::HTTP_RESPONSE, flag(stream, F1), *status, 0)
            }
            EventKind::WsHandshake {
                status,
                accept_ok,
                ok,
                ..
            } => (
                tag::WS_HANDSHAKE,
                flag(*ok, F1) | flag(*accept_ok, F2),
                *status,
                0,
            ),
            EventKind::WsFrame {
                fin,
                rsv,
                opcode,
                masked,
                len,
                header_len,
                close_code,
                rtt_ms,
                mid_stream,
                ..
            } => {
                if let Some(r) = rtt_ms {
                    extra(Extra::Rtt(*r), &mut extras);
                }
                if let Some(c) = close_code {
                    extra(Extra::CloseCode(*c), &mut extras);
                }
                let a = u16::from(opcode & 15)
                    | (u16::from(rsv & 7) << 4)
                    | (u16::from(*header_len) << 8);
                (
                    tag::WS_FRAME,
                    flag(*fin, F1) | flag(*masked, F2) | flag(*mid_stream, F3),
                    a,
                    *len,
                )
            }
            EventKind::WsMessage { .. } => (tag::WS_MESSAGE, 0, 0, 0),
            EventKind::WsClose {
                initiator,
                code,
                echoed,
                clean,
                ..
            } => {
                if let Some(c) = code {
                    extra(Extra::Code(*c), &mut extras);
                }
                (
                    tag::WS_CLOSE,
                    flag(*echoed, F1) | flag(*clean, F2),
                    u16::from(dir_bits(*initiator)),
                    0,
                )
            }
            EventKind::TcpTeardown { how, step } => {
                let a = match how {
                    TeardownHow::Fin => 0,
                    TeardownHow::Rst => 1,
                } | match step {
                    None => 0,
                    Some(TeardownStep::Fin) => 2,
                    Some(TeardownStep::Ack) => 4,
                };
                (tag::TCP_TEARDOWN, 0, a, 0)
            }
            EventKind::TlsHandshake { step } => match step {
                TlsStep::ClientHello { .. } => (tag::TLS_HANDSHAKE, 0, 0, 0),
                TlsStep::ServerHello { version, .. } => {
                    (tag::TLS_HANDSHAKE, 0, 1, self.text(version))
                }
                TlsStep::Certificate { .. } => (tag::TLS_HANDSHAKE, 0, 2, 0),
                TlsStep::Done { .. } => (tag::TLS_HANDSHAKE, 0, 3, 0),
            },
            EventKind::TlsDecrypt { ok, reason } => {
                (tag::TLS_DECRYPT, flag(*ok, F1), self.reason(*reason), 0)
            }
            EventKind::TlsAlert { .. } => (tag::TLS_ALERT, 0, 0, 0),
            EventKind::H2Settings { .. } => (tag::H2_SETTINGS, 0, 0, 0),
            EventKind::H2RstStream { .. } => (tag::H2_RST_STREAM, 0, 0, 0),
            EventKind::H2Goaway { .. } => (tag::H2_GOAWAY, 0, 0, 0),
            EventKind::Violation { code, .. } => {
                (tag::VIOLATION, flag(*code == "unanswered_ping", F1), 0, 0)
            }
            EventKind::Gap { bytes } => (tag::GAP, 0, 0, *bytes),
        };
        self.extras = extras;
        let rec = Rec {
            ts: ev.ts.0,
            val,
            conn: u32::try_from(ev.conn).unwrap_or(u32::MAX),
            tag,
            bits: bits | dir_bits(ev.dir),
            a,
        };
        if !self.blocks.last().is_some_and(|b| b.len() < BLOCK) {
            self.blocks.push(Vec::with_capacity(BLOCK.min(1024)));
        }
        if let Some(b) = self.blocks.last_mut() {
            if b.len() == b.capacity() && b.capacity() < BLOCK {
                b.reserve_exact((b.capacity() * 2).min(BLOCK) - b.len());
            }
            b.push(rec);
        }
        self.len += 1;
        i
    }

    fn extras_of(&self, i: usize) -> &[(u32, Extra)] {
        let i = i as u32;
        let from = self.extras.partition_point(|(j, _)| *j < i);
        let to = self.extras.partition_point(|(j, _)| *j <= i);
        self.extras.get(from..to).unwrap_or(&[])
    }

    /// The HTTP/2 stream of event `i`.
    pub fn stream(&self, i: usize) -> Option<u32> {
        self.extras_of(i).iter().find_map(|(_, x)| match x {
            Extra::Stream(s) => Some(*s),
            _ => None,
        })
    }

    /// Event `i` as far as the index knows it: every field the rows'
    /// summary and state machine read ([`wsscope::analysis::Summary::add`],
    /// [`super::store::Progress`]) is the event's; texts are empty, and a
    /// request's target is its resource's hash. `client` and `server` are
    /// the connection's.
    pub fn lite(&self, i: usize, client: &str, server: &str) -> Option<Event> {
        let r = *self.get(i)?;
        let f = |b: u8| r.bits & b != 0;
        let x = self.extras_of(i);
        let rtt = x.iter().find_map(|(_, x)| match x {
            Extra::Rtt(r) => Some(*r),
            _ => None,
        });
        let kind = match r.tag {
            tag::CONN_OPEN => EventKind::ConnOpen {
                client: client.to_string(),
                server: server.to_string(),
                mid_stream: f(F1),
            },
            tag::TCP_HANDSHAKE => EventKind::TcpHandshake {
                step: match r.a {
                    0 => HandshakeStep::Syn,
                    1 => HandshakeStep::SynAck,
                    _ => HandshakeStep::Ack,
                },
                rtt_ms: rtt,
                retransmission: f(F1),
            },
            tag::HTTP_REQUEST => EventKind::HttpRequest {
                method: String::new(),
                target: format!("{:x}", r.val),
                version: String::new(),
                headers: if f(F1) {
                    vec![("upgrade".into(), "websocket".into())]
                } else {
                    Vec::new()
                },
                checks: None,
                body: MessageBody::default(),
            },
            tag::HTTP_RESPONSE => EventKind::HttpResponse {
                status: r.a,
                reason: String::new(),
                version: String::new(),
                headers: if f(F1) {
                    vec![("content-type".into(), "text/event-stream".into())]
                } else {
                    Vec::new()
                },
                body: MessageBody::default(),
            },
            tag::WS_HANDSHAKE => EventKind::WsHandshake {
                key: None,
                accept: None,
                expected_accept: None,
                accept_ok: f(F2),
                version: None,
                extensions: Vec::new(),
                subprotocol: None,
                ok: f(F1),
                status: r.a,
                reason: None,
                offered_extensions: Vec::new(),
                offered_subprotocols: Vec::new(),
                checks: Vec::new(),
                transport: "",
            },
            tag::WS_FRAME => EventKind::WsFrame {
                fin: f(F1),
                rsv: ((r.a >> 4) & 7) as u8,
                opcode: (r.a & 15) as u8,
                opname: "",
                masked: f(F2),
                mask_key: None,
                len: r.val,
                header_len: (r.a >> 8) as u8,
                close_code: x.iter().find_map(|(_, x)| match x {
                    Extra::CloseCode(c) => Some(*c),
                    _ => None,
                }),
                close_reason: None,
                payload_hex: Default::default(),
                rtt_ms: rtt,
                mid_stream: f(F3),
            },
            tag::WS_MESSAGE => EventKind::WsMessage {
                kind: MessageKind::Text,
                frames: 0,
                len: 0,
                wire_len: 0,
                compressed: false,
                preview: Default::default(),
                compressed_len: None,
                body: MessageBody::default(),
            },
            tag::WS_CLOSE => EventKind::WsClose {
                initiator: dir_of(r.a as u8),
                code: x.iter().find_map(|(_, x)| match x {
                    Extra::Code(c) => Some(*c),
                    _ => None,
                }),
                reason: String::new(),
                echoed: f(F1),
                clean: f(F2),
                echo_ms: None,
                fin_ms: None,
            },
            tag::TCP_TEARDOWN => EventKind::TcpTeardown {
                how: if r.a & 1 != 0 {
                    TeardownHow::Rst
                } else {
                    TeardownHow::Fin
                },
                step: match r.a & 6 {
                    2 => Some(TeardownStep::Fin),
                    4 => Some(TeardownStep::Ack),
                    _ => None,
                },
            },
            tag::TLS_HANDSHAKE => EventKind::TlsHandshake {
                step: match r.a {
                    0 => TlsStep::ClientHello {
                        sni: None,
                        alpn: Vec::new(),
                        versions: Vec::new(),
                        cipher_suites: 0,
                        resumption: false,
                    },
                    1 => TlsStep::ServerHello {
                        version: usize::try_from(r.val)
                            .ok()
                            .and_then(|v| self.texts.get(v))
                            .cloned()
                            .unwrap_or_default(),
                        cipher: String::new(),
                        alpn: None,
                        resumed: false,
                        retry: false,
                    },
                    2 => TlsStep::Certificate {
                        subject: None,
                        issuer: None,
                    },
                    _ => TlsStep::Done {
                        version: String::new(),
                        cipher: String::new(),
                        alpn: None,
                    },
                },
            },
            tag::TLS_DECRYPT => EventKind::TlsDecrypt {
                ok: f(F1),
                reason: match r.a {
                    0 => None,
                    n => Some(self.reasons.get(usize::from(n) - 1).copied().unwrap_or("?")),
                },
            },
            tag::TLS_ALERT => EventKind::TlsAlert {
                level: "",
                description: "",
            },
            tag::H2_SETTINGS => EventKind::H2Settings {
                ack: false,
                settings: Vec::new(),
            },
            tag::H2_RST_STREAM => EventKind::H2RstStream {
                code: String::new(),
            },
            tag::H2_GOAWAY => EventKind::H2Goaway {
                last_stream: 0,
                code: String::new(),
            },
            tag::VIOLATION => EventKind::Violation {
                code: if f(F1) { "unanswered_ping" } else { "" },
                message: String::new(),
                rfc: "",
            },
            _ => EventKind::Gap { bytes: r.val },
        };
        Some(Event {
            conn: u64::from(r.conn),
            pkt: 0,
            ts: Timestamp(r.ts),
            dir: dir_of(r.bits),
            stream: self.stream(i),
            kind,
        })
    }
}

impl Rec {
    /// A violation.
    pub fn is_violation(&self) -> bool {
        self.tag == tag::VIOLATION
    }

    /// Its sender.
    pub fn dir(&self) -> Option<Direction> {
        dir_of(self.bits)
    }

    /// A frame's opcode.
    pub fn opcode(&self) -> Option<u8> {
        (self.tag == tag::WS_FRAME).then_some((self.a & 15) as u8)
    }

    /// A frame's RSV bits.
    pub fn rsv(&self) -> u8 {
        ((self.a >> 4) & 7) as u8
    }

    /// Its phase, as [`wsscope::analysis::Phase::of`] gives it.
    pub fn phase(&self) -> wsscope::analysis::Phase {
        use wsscope::analysis::Phase;
        match self.tag {
            tag::CONN_OPEN | tag::TCP_HANDSHAKE => Phase::TcpHandshake,
            tag::TLS_HANDSHAKE | tag::TLS_DECRYPT | tag::TLS_ALERT => Phase::Tls,
            tag::HTTP_REQUEST | tag::HTTP_RESPONSE | tag::H2_SETTINGS | tag::H2_GOAWAY => {
                Phase::Http
            }
            tag::H2_RST_STREAM => Phase::Close,
            tag::WS_HANDSHAKE => Phase::Accept,
            tag::WS_FRAME => match self.a & 15 {
                9 | 10 => Phase::Heartbeat,
                8 => Phase::Close,
                _ => Phase::Data,
            },
            tag::WS_MESSAGE => Phase::Data,
            tag::WS_CLOSE => Phase::Close,
            tag::TCP_TEARDOWN => Phase::Teardown,
            tag::VIOLATION => Phase::Violation,
            _ => Phase::Gap,
        }
    }

    /// Its kind's name, as [`EventKind::name`].
    pub fn name(&self) -> &'static str {
        const NAMES: [&str; 17] = [
            "conn_open",
            "tcp_handshake",
            "http_request",
            "http_response",
            "ws_handshake",
            "ws_frame",
            "ws_message",
            "ws_close",
            "tcp_teardown",
            "tls_handshake",
            "tls_decrypt",
            "tls_alert",
            "h2_settings",
            "h2_rst_stream",
            "h2_goaway",
            "violation",
            "gap",
        ];
        NAMES.get(usize::from(self.tag)).copied().unwrap_or("gap")
    }
}
