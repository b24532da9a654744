//! A connection's stack of protocol layers, above TCP.
//!
//! Each TCP connection's two byte streams (per direction: data, gaps, the end)
//! feed a [`Stack`]. Its layers are what the connection has shown itself to be:
//!
//! ```text
//!   TCP stream ─▶ Recognise ─▶ HTTP/1.1 ─101─▶ WebSocket
//!                     │
//!                     ├─▶ TLS ─plaintext─▶ Recognise ─▶ HTTP/1.1 ─101─▶ WebSocket
//!                     ├─▶ WebSocket (caught mid-stream: frames recognised)
//!                     └─▶ Opaque (other protocols: counted, not decoded)
//! ```
//!
//! What a layer learns chooses the next one: the first bytes choose TLS or HTTP
//! (or, mid-stream, WebSocket frames); TLS hands its plaintext to a new
//! recognition; a 101 hands the stream to WebSocket with the bytes that already
//! belong to it. Recognising is itself a layer that replaces itself. Layers emit
//! typed [`LayerEvent`]s; the contract mapping (`analysis::contract`) turns them
//! into timeline events. Nothing here imports the analysis, the views or the binary.

pub mod h2;
pub mod http1;
pub mod recognise;

use std::sync::Arc;

use crate::app::{AppContext, AppDecoder, AppMessage};
use crate::http::{Check, RequestHead, ResponseHead, Upgrade};
use crate::rules::Violation;
use crate::tls::{ClientHello, KeyLog, ServerHello, TlsConfig, TlsEvent, TlsLayer};
use crate::types::{Direction, Timestamp};
use crate::ws::{MessageEvent, MessageKind, WsConfig, WsEvent, WsSession};

use http1::{Handover, Http1};
use recognise::{Recognised, Recogniser};

/// What a layer of the stack saw (the layer's own typed events).
#[derive(Debug)]
pub enum LayerEvent {
    /// An HTTP/1.x request head; for an upgrade request, its checklist.
    Request(Box<RequestHead>, Option<Vec<Check>>),
    /// An HTTP/1.x response head.
    Response(Box<ResponseHead>),
    /// The outcome of the WebSocket opening handshake, with every check.
    Handshake(Box<Upgrade>),
    /// An upgrade request the server never answered (the connection ended first).
    Unanswered(Option<Box<RequestHead>>),
    /// An HTTP/1.x head whose body carried Engine.IO long-polling packets, emitted once
    /// the body is complete, with those packets (decoded when payloads are kept).
    Polled(PolledHead, Vec<AppMessage>),
    /// A WebSocket event.
    Ws(WsEvent),
    /// A WebSocket data message with its whole payload, and the packets of the
    /// protocol riding on the WebSocket that it completed (in order; empty when none
    /// is recognised). Emitted instead of `Ws(WsEvent::Message)` when payloads are
    /// kept ([`WsConfig::keep_payload`]): then every whole message also goes to the
    /// WebSocket's [`AppDecoder`].
    Message(MessageEvent, Vec<AppMessage>),
    /// A TLS event.
    Tls(TlsNote),
    /// A rule broken, or a note.
    Violation(Violation),
    /// Something to warn the user about (a bound hit).
    Warning(LayerWarning),
    /// An event of one HTTP/2 stream (its id first).
    InStream(u32, Box<LayerEvent>),
    /// An HTTP/2 request (not an extended CONNECT).
    H2Request(Box<crate::h2::Request>),
    /// An HTTP/2 response.
    H2Response(Box<crate::h2::Response>),
    /// An extended CONNECT (RFC 8441) and its answer, with the checks.
    H2Handshake(Box<h2::H2Open>),
    /// A SETTINGS frame.
    H2Settings {
        /// An acknowledgement.
        ack: bool,
        /// (identifier, value) pairs.
        params: Vec<(u16, u32)>,
    },
    /// RST_STREAM (inside [`LayerEvent::InStream`]).
    H2Reset {
        /// Error code.
        code: u32,
    },
    /// GOAWAY.
    H2GoAway {
        /// The last stream the sender processed.
        last_stream: u32,
        /// Error code.
        code: u32,
    },
}

/// A bound of a layer above TCP was hit, or a layer lost its footing (the views
/// word it; see `output::warning_text`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LayerWarning {
    /// The client sent more than `max_kib` KiB before the answer to its upgrade
    /// request; the rest is not decoded.
    HeldTooMuch {
        /// The bound, KiB.
        max_kib: usize,
    },
    /// More violations in one HTTP head than are reported; `more` were not.
    MoreViolations {
        /// How many were left out.
        more: usize,
    },
    /// More WebSockets at once on one HTTP/2 connection than are decoded.
    TooManyH2WebSockets {
        /// The bound.
        max: usize,
    },
    /// One direction's HTTP/2 header compression state was lost: later headers may
    /// not decode.
    HpackLost {
        /// The direction.
        dir: Direction,
        /// Why.
        reason: crate::h2::HpackLoss,
    },
}

/// The head of an HTTP/1.x message whose body was decoded ([`LayerEvent::Polled`]).
#[derive(Debug)]
pub enum PolledHead {
    /// A request (`POST /socket.io/?EIO=4&transport=polling…`).
    Request(Box<RequestHead>),
    /// A response (to a polling request).
    Response(Box<ResponseHead>),
}

/// What the TLS layer saw, as the layers above and the views need it (owned; the
/// per-record events are counted in [`TlsTotals`] instead).
#[derive(Debug)]
pub enum TlsNote {
    /// The client's offer.
    ClientHello(Box<ClientHello>),
    /// The server's choice (or a HelloRetryRequest: `retry`).
    ServerHello(Box<ServerHello>, bool),
    /// A certificate's names.
    Certificate {
        /// Subject.
        subject: Option<String>,
        /// Issuer.
        issuer: Option<String>,
    },
    /// Both Finished messages seen.
    Done {
        /// Negotiated version.
        version: u16,
        /// Negotiated cipher suite.
        cipher_suite: u16,
        /// The ALPN protocol chosen (ServerHello in TLS 1.2, EncryptedExtensions in 1.3).
        alpn: Option<String>,
    },
    /// An alert.
    Alert {
        /// 1 warning, 2 fatal.
        level: u8,
        /// Its RFC name.
        name: &'static str,
    },
    /// A direction's decryption outcome.
    Decrypt {
        /// Decryption works.
        ok: bool,
        /// Why not.
        reason: Option<&'static str>,
    },
}

/// TLS records per direction (`[c2s, s2c]`): how many, and the bytes TLS adds
/// (record headers, and for decrypted records the expansion: tag, padding, type).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsTotals {
    /// Records seen.
    pub records: [u64; 2],
    /// Record bytes, headers included.
    pub record_bytes: [u64; 2],
    /// Plaintext bytes handed to the layer above.
    pub plaintext_bytes: [u64; 2],
    /// The ALPN protocol the server chose.
    pub alpn: Option<String>,
}

/// What the stack has recognised the connection to carry (its top layer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Carries {
    /// Not known yet.
    Unknown,
    /// HTTP/1.x (possibly upgraded later).
    Http,
    /// WebSocket frames.
    WebSocket,
    /// TLS records.
    Tls,
    /// HTTP/2.
    Http2,
    /// Something else: bytes counted, not decoded.
    Other,
}

/// Options of every connection's stack.
#[derive(Clone, Debug, Default)]
pub struct StackConfig {
    /// WebSocket bounds.
    pub ws: WsConfig,
    /// TLS bounds, and whether records wait for keys (live capture).
    pub tls: TlsConfig,
    /// The TLS secrets known so far.
    pub keys: Arc<KeyLog>,
}

enum Top {
    Recognise(Recogniser),
    Http1(Box<Http1>),
    WebSocket(Box<WsSession>),
    H2(Box<h2::H2Session>),
    Opaque(Carries),
}

/// The layers that read a byte stream: TCP's, or TLS's plaintext.
struct App {
    top: Top,
    /// The decoder of the protocol riding on the WebSocket (when payloads are kept),
    /// made from the handshake's subprotocol and request target.
    decoder: Option<Box<AppDecoder>>,
}

/// TLS and what it counted.
struct Tls {
    layer: TlsLayer,
    totals: TlsTotals,
}

/// One connection's layers above TCP. Small: a flood of connections costs little
/// until they carry something (the options are shared, TLS boxed).
pub struct Stack {
    app: App,
    tls: Option<Box<Tls>>,
    cfg: Arc<StackConfig>,
}

/// Stream bytes held while recognising, with their direction.
pub type Held = (Direction, Vec<u8>);

/// What recognising the first bytes settled about the roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Roles {
    /// The sender of the bytes that decided is the client (`None`: they do not tell).
    pub sender_is_client: Option<bool>,
}

impl Stack {
    /// A new stack. `mid_stream`: the capture began after the SYN, so the stream may
    /// begin inside a message and WebSocket frames may be recognised without a handshake.
    pub fn new(mid_stream: bool, cfg: &Arc<StackConfig>) -> Stack {
        Stack {
            app: App {
                top: Top::Recognise(Recogniser::new(mid_stream)),
                decoder: None,
            },
            tls: None,
            cfg: cfg.clone(),
        }
    }

    /// What the connection has shown itself to carry (TLS when it is TLS, whatever
    /// the plaintext carries).
    pub fn carries(&self) -> Carries {
        if self.tls.is_some() {
            return Carries::Tls;
        }
        self.app.carries()
    }

    /// Heap bytes this connection's layers hold (for the memory budget,
    /// [`crate::budget`]): every layer's buffers and state, the boxed layers' own size.
    /// A few loads for a WebSocket or HTTP/1.1 connection: it is asked after every
    /// chunk of the stream.
    #[inline]
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        let tls = self.tls.as_ref().map_or(0, |t| {
            size_of::<Tls>()
                + t.layer.heap_bytes()
                + t.totals
                    .alpn
                    .as_ref()
                    .map_or(0, crate::budget::string_bytes)
        });
        self.app.heap_bytes() + tls
    }

    /// TLS records and bytes, when the connection is TLS.
    pub fn tls_totals(&self) -> Option<TlsTotals> {
        self.tls.as_ref().map(|t| t.totals.clone())
    }

    /// True while the first bytes are still being looked at.
    pub fn recognising(&self) -> bool {
        self.tls.is_none() && matches!(self.app.top, Top::Recognise(_))
    }

    /// True when the TLS layer holds records waiting for their keys.
    pub fn waiting_for_keys(&self) -> bool {
        self.tls
            .as_ref()
            .is_some_and(|t| t.layer.waiting_for_keys())
    }

    /// Recognition step: looks at `bytes` (the next chunk of `dir`'s stream) before
    /// they are fed. Returns `None` when the bytes are held (too few to tell); else
    /// the roles they show, after which [`Stack::feed`] must be called with the same
    /// bytes (after the held ones, returned as the second value).
    /// `force`: decide now, holding nothing (a gap or the end follows).
    pub fn recognise(
        &mut self,
        dir: Direction,
        bytes: &[u8],
        force: bool,
    ) -> Option<(Roles, Vec<Held>)> {
        let Top::Recognise(r) = &mut self.app.top else {
            return Some((
                Roles {
                    sender_is_client: None,
                },
                Vec::new(),
            ));
        };
        if self.tls.is_some() {
            return Some((
                Roles {
                    sender_is_client: None,
                },
                Vec::new(),
            ));
        }
        match r.look(dir, bytes, force) {
            Recognised::Hold => None,
            Recognised::Undecided { held } => Some((
                Roles {
                    sender_is_client: None,
                },
                held,
            )),
            Recognised::Decided {
                what,
                sender_is_client,
                held,
                confidence,
            } => {
                if what == Carries::Tls {
                    self.tls = Some(Box::new(Tls {
                        layer: TlsLayer::with_config(self.cfg.keys.clone(), self.cfg.tls),
                        totals: TlsTotals::default(),
                    }));
                    // The plaintext begins at the start of its stream.
                    self.app.top = Top::Recognise(Recogniser::new(false));
                } else {
                    self.app.decided(what, confidence, &self.cfg.ws);
                }
                Some((Roles { sender_is_client }, held))
            }
        }
    }

    /// Bytes held while recognising (a strict prefix of an HTTP start), to be decided
    /// as they are when a gap or the end comes first.
    pub fn take_held(&mut self) -> Option<Held> {
        if self.tls.is_some() {
            return None;
        }
        match &mut self.app.top {
            Top::Recognise(r) => r.take_held(),
            _ => None,
        }
    }

    /// The next bytes of `dir`'s stream (after [`Stack::recognise`] let them through).
    pub fn feed(
        &mut self,
        dir: Direction,
        bytes: &[u8],
        ts: Timestamp,
        out: &mut impl FnMut(Option<Direction>, LayerEvent),
    ) {
        let ws = &self.cfg.ws;
        let Some(tls) = self.tls.as_mut() else {
            return self.app.feed(dir, bytes, ts, ws, out);
        };
        let Tls { layer, totals } = &mut **tls;
        let app = &mut self.app;
        layer.feed(dir, bytes, &mut |ev| {
            tls_event(app, totals, ev, ts, ws, out)
        });
    }

    /// `bytes` missing from `dir`'s stream.
    pub fn gap(
        &mut self,
        dir: Direction,
        bytes: u64,
        ts: Timestamp,
        out: &mut impl FnMut(Option<Direction>, LayerEvent),
    ) {
        let ws = &self.cfg.ws;
        let Some(tls) = self.tls.as_mut() else {
            return self.app.gap(dir, bytes, ts, ws, out);
        };
        let Tls { layer, totals } = &mut **tls;
        let app = &mut self.app;
        layer.gap(dir, bytes, &mut |ev| {
            tls_event(app, totals, ev, ts, ws, out)
        });
    }

    /// The key log grew (`cfg` is the configuration with the new keys): records
    /// held for their keys are decrypted now if it has them, and a TLS layer not
    /// made yet (the ClientHello still to come) will start with the new keys.
    pub fn keys_updated(
        &mut self,
        cfg: &Arc<StackConfig>,
        ts: Timestamp,
        out: &mut impl FnMut(Option<Direction>, LayerEvent),
    ) {
        self.cfg = cfg.clone();
        let keys = &cfg.keys;
        let ws = &cfg.ws;
        if let Some(tls) = self.tls.as_mut() {
            let Tls { layer, totals } = &mut **tls;
            let app = &mut self.app;
            layer.keys_updated(keys.clone(), &mut |ev| {
                tls_event(app, totals, ev, ts, ws, out)
            });
        }
    }

    /// `dir` sent its FIN or RST (not its ACK).
    pub fn tcp_end(&mut self, dir: Direction, ts: Timestamp) {
        self.app.tcp_end(dir, ts);
    }

    /// The connection's last word. `ended`: the TCP connection really ended (FIN or
    /// RST), as opposed to the capture stopping while it was open.
    pub fn end(
        &mut self,
        ended: bool,
        ts: Timestamp,
        out: &mut impl FnMut(Option<Direction>, LayerEvent),
    ) {
        let ws = &self.cfg.ws;
        if let Some(tls) = self.tls.as_mut() {
            let Tls { layer, totals } = &mut **tls;
            let app = &mut self.app;
            for dir in [Direction::C2S, Direction::S2C] {
                layer.end(dir, &mut |ev| tls_event(app, totals, ev, ts, ws, out));
            }
        }
        self.app.end(ended, ts, ws, out);
    }
}

/// One TLS event: plaintext goes up to the application layers, the rest out.
fn tls_event(
    app: &mut App,
    totals: &mut TlsTotals,
    ev: TlsEvent<'_>,
    ts: Timestamp,
    ws: &WsConfig,
    out: &mut impl FnMut(Option<Direction>, LayerEvent),
) {
    let note =
        |dir: Option<Direction>, n: TlsNote, out: &mut dyn FnMut(Option<Direction>, LayerEvent)| {
            out(dir, LayerEvent::Tls(n))
        };
    let c2s = Some(Direction::C2S);
    let s2c = Some(Direction::S2C);
    match ev {
        TlsEvent::Record {
            dir,
            content_type: _,
            len,
        } => {
            totals.records[dir.index()] += 1;
            totals.record_bytes[dir.index()] += 5 + u64::from(len);
        }
        TlsEvent::Plaintext { dir, bytes } => {
            totals.plaintext_bytes[dir.index()] += bytes.len() as u64;
            app.feed_recognising(dir, bytes, ts, ws, out);
        }
        // The TCP gap itself is reported by the analyzer; the plaintext loses it too.
        TlsEvent::Gap { dir, bytes } => app.gap(dir, bytes, ts, ws, out),
        TlsEvent::ClientHello(h) => note(c2s, TlsNote::ClientHello(h), out),
        TlsEvent::ServerHello(h) => {
            if h.alpn.is_some() {
                totals.alpn.clone_from(&h.alpn);
            }
            note(s2c, TlsNote::ServerHello(h, false), out)
        }
        TlsEvent::HelloRetryRequest(h) => note(s2c, TlsNote::ServerHello(h, true), out),
        TlsEvent::EncryptedExtensions { alpn } => {
            if alpn.is_some() {
                totals.alpn = alpn;
            }
        }
        TlsEvent::Certificate {
            dir,
            subject,
            issuer,
            ..
        } => note(Some(dir), TlsNote::Certificate { subject, issuer }, out),
        TlsEvent::HandshakeDone {
            version,
            cipher_suite,
        } => note(
            None,
            TlsNote::Done {
                version,
                cipher_suite,
                alpn: totals.alpn.clone(),
            },
            out,
        ),
        TlsEvent::Alert {
            dir, level, name, ..
        } => note(Some(dir), TlsNote::Alert { level, name }, out),
        TlsEvent::Decrypt { dir, ok, reason } => {
            note(Some(dir), TlsNote::Decrypt { ok, reason }, out)
        }
        TlsEvent::Violation { dir, rule, message } => out(
            Some(dir),
            LayerEvent::Violation(Violation::new(rule, message)),
        ),
        TlsEvent::Finished { .. }
        | TlsEvent::NewSessionTicket { .. }
        | TlsEvent::KeyUpdate { .. }
        | TlsEvent::ChangeCipherSpec { .. }
        | TlsEvent::CloseNotify { .. } => {}
    }
}

/// A WebSocket event out of the stack: a message with its whole payload goes to the
/// WebSocket's application decoder and out with what it decoded.
pub(crate) fn ws_out(
    decoder: &mut Option<Box<AppDecoder>>,
    dir: Option<Direction>,
    ev: WsEvent,
    ts: Timestamp,
    out: &mut impl FnMut(Option<Direction>, LayerEvent),
) {
    match ev {
        WsEvent::Message(m) if m.payload.is_some() => {
            let apps = match (decoder.as_mut(), dir, m.payload.as_deref()) {
                // A cut payload is not a whole message: it is not decoded.
                (Some(dec), Some(d), Some(p)) if !m.payload_truncated => {
                    dec.message(d, m.kind == MessageKind::Text, p, ts.0)
                }
                _ => Vec::new(),
            };
            out(dir, LayerEvent::Message(m, apps))
        }
        ev => out(dir, LayerEvent::Ws(ev)),
    }
}

impl App {
    #[inline]
    fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        let top = match &self.top {
            Top::Recognise(r) => r.heap_bytes(),
            Top::Http1(h) => size_of::<Http1>() + h.heap_bytes(),
            Top::WebSocket(s) => size_of::<WsSession>() + s.heap_bytes(),
            Top::H2(h) => size_of::<h2::H2Session>() + h.heap_bytes(),
            Top::Opaque(_) => 0,
        };
        top + self
            .decoder
            .as_ref()
            .map_or(0, |d| size_of::<AppDecoder>() + d.heap_bytes())
    }

    fn carries(&self) -> Carries {
        match &self.top {
            Top::Recognise(_) => Carries::Unknown,
            Top::Http1(_) => Carries::Http,
            Top::WebSocket(_) => Carries::WebSocket,
            Top::H2(_) => Carries::Http2,
            Top::Opaque(c) => *c,
        }
    }

    /// Recognition chose `what`: the new top layer.
    fn decided(&mut self, what: Carries, confidence: Option<crate::ws::Confidence>, ws: &WsConfig) {
        self.top = match what {
            Carries::Http => {
                let mut h = Box::<Http1>::default();
                if ws.keep_payload {
                    h.decode_polling(usize::try_from(ws.max_payload_bytes).unwrap_or(usize::MAX));
                }
                Top::Http1(h)
            }
            // A TLS plaintext or a cleartext stream beginning with the client preface:
            // ALPN h2, or prior knowledge.
            Carries::Http2 => Top::H2(Box::new(h2::H2Session::new(
                crate::h2::Entry::PriorKnowledge,
            ))),
            Carries::WebSocket => {
                let mut s = WsSession::new_mid_stream(ws);
                if let Some(c) = confidence {
                    s = s.with_confidence(c);
                }
                // No handshake: the protocol is sniffed from the messages.
                self.decoder = ws
                    .keep_payload
                    .then(|| Box::new(AppDecoder::new(AppContext::default())));
                Top::WebSocket(Box::new(s))
            }
            other => Top::Opaque(other),
        };
    }

    /// Bytes whose roles are known (TLS plaintext): recognised here, then fed.
    fn feed_recognising(
        &mut self,
        dir: Direction,
        bytes: &[u8],
        ts: Timestamp,
        ws: &WsConfig,
        out: &mut impl FnMut(Option<Direction>, LayerEvent),
    ) {
        if let Top::Recognise(r) = &mut self.top {
            let held = match r.look(dir, bytes, false) {
                Recognised::Hold => return,
                Recognised::Undecided { held } => held,
                Recognised::Decided {
                    what,
                    held,
                    confidence,
                    ..
                } => {
                    self.decided(what, confidence, ws);
                    held
                }
            };
            for (d, b) in held {
                self.feed(d, &b, ts, ws, out);
            }
        }
        self.feed(dir, bytes, ts, ws, out);
    }

    fn feed(
        &mut self,
        dir: Direction,
        bytes: &[u8],
        ts: Timestamp,
        ws_cfg: &WsConfig,
        out: &mut impl FnMut(Option<Direction>, LayerEvent),
    ) {
        let handover = match &mut self.top {
            Top::Recognise(_) | Top::Opaque(_) => None,
            Top::WebSocket(ws) => {
                let dec = &mut self.decoder;
                ws.feed(dir, bytes, ts, &mut |d, e| ws_out(dec, d, e, ts, out));
                None
            }
            Top::H2(h) => {
                h.feed(dir, bytes, ts, ws_cfg, out);
                None
            }
            Top::Http1(h) => h.feed(dir, bytes, ts, out),
        };
        match handover {
            None => {}
            Some(Handover::Other) => self.top = Top::Opaque(Carries::Other),
            Some(Handover::H2c { settings, leftover }) => {
                let mut s = h2::H2Session::new(crate::h2::Entry::H2cUpgrade {
                    http2_settings: settings,
                });
                for (d, b) in leftover {
                    s.feed(d, &b, ts, ws_cfg, out);
                }
                self.top = Top::H2(Box::new(s));
            }
            Some(Handover::WebSocket {
                deflate,
                established,
                leftover,
                app,
            }) => {
                let mut session = WsSession::new(ws_cfg, deflate);
                session.set_established(established);
                self.decoder = ws_cfg.keep_payload.then(|| Box::new(AppDecoder::new(app)));
                let dec = &mut self.decoder;
                for (d, b) in leftover {
                    session.feed(d, &b, ts, &mut |d, e| ws_out(dec, d, e, ts, out));
                }
                self.top = Top::WebSocket(Box::new(session));
            }
        }
    }

    fn gap(
        &mut self,
        dir: Direction,
        bytes: u64,
        ts: Timestamp,
        ws_cfg: &WsConfig,
        out: &mut impl FnMut(Option<Direction>, LayerEvent),
    ) {
        match &mut self.top {
            Top::Http1(h) => h.gap(dir, out),
            Top::WebSocket(ws) => {
                let dec = &mut self.decoder;
                ws.gap(dir, bytes, ts, &mut |d, e| ws_out(dec, d, e, ts, out))
            }
            Top::H2(h) => h.gap(dir, bytes, ts, ws_cfg, out),
            Top::Recognise(_) | Top::Opaque(_) => {}
        }
    }

    fn tcp_end(&mut self, dir: Direction, ts: Timestamp) {
        match &mut self.top {
            Top::WebSocket(ws) => ws.tcp_end(dir, ts),
            Top::H2(h) => h.tcp_end(dir, ts),
            _ => {}
        }
    }

    fn end(
        &mut self,
        ended: bool,
        ts: Timestamp,
        ws_cfg: &WsConfig,
        out: &mut impl FnMut(Option<Direction>, LayerEvent),
    ) {
        match &mut self.top {
            Top::WebSocket(ws) => {
                let dec = &mut self.decoder;
                ws.end(ts, &mut |d, e| ws_out(dec, d, e, ts, out))
            }
            Top::H2(h) => h.end(ts, ws_cfg, out),
            Top::Http1(h) => h.end(ended, ts, out),
            Top::Recognise(_) | Top::Opaque(_) => {}
        }
    }
}
