//! A connection's stack of protocol layers, above TCP.
//!
//! Each TCP connection's two byte streams (per direction: data, gaps, the end)
//! feed a [`Stack`]. Its top layer is what the connection has shown itself to be:
//!
//! ```text
//!   TCP stream ─▶ Recognise ─▶ HTTP/1.1 ─101─▶ WebSocket
//!                     │
//!                     ├─▶ WebSocket (caught mid-stream: frames recognised)
//!                     └─▶ Opaque (TLS without keys, other protocols: counted, not decoded)
//! ```
//!
//! What a layer learns chooses the next one: the first bytes choose HTTP (or,
//! mid-stream, WebSocket frames); a 101 hands the stream to WebSocket with the
//! bytes that already belong to it. Recognising is itself a layer that replaces
//! itself. Layers emit typed [`LayerEvent`]s; the contract mapping
//! (`analysis::contract`) turns them into timeline events. Nothing here imports
//! the analysis, the views or the binary.

pub mod http1;
pub mod recognise;

use crate::http::{Check, RequestHead, ResponseHead, Upgrade};
use crate::rules::Violation;
use crate::types::{Direction, Timestamp};
use crate::ws::{WsConfig, WsEvent, WsSession};

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
    /// A WebSocket event.
    Ws(WsEvent),
    /// A rule broken, or a note.
    Violation(Violation),
    /// Something to warn the user about (a bound hit).
    Warning(String),
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
    /// TLS records (not decrypted).
    Tls,
    /// Something else: bytes counted, not decoded.
    Other,
}

enum Top {
    Recognise(Recogniser),
    Http1(Box<Http1>),
    WebSocket(Box<WsSession>),
    Opaque(Carries),
}

/// One connection's layers above TCP.
pub struct Stack {
    top: Top,
    ws_cfg: WsConfig,
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
    pub fn new(mid_stream: bool, ws_cfg: &WsConfig) -> Stack {
        Stack {
            top: Top::Recognise(Recogniser::new(mid_stream)),
            ws_cfg: ws_cfg.clone(),
        }
    }

    /// What the connection has shown itself to carry.
    pub fn carries(&self) -> Carries {
        match &self.top {
            Top::Recognise(_) => Carries::Unknown,
            Top::Http1(_) => Carries::Http,
            Top::WebSocket(_) => Carries::WebSocket,
            Top::Opaque(c) => *c,
        }
    }

    /// True while the first bytes are still being looked at.
    pub fn recognising(&self) -> bool {
        matches!(self.top, Top::Recognise(_))
    }

    /// Recognition step: looks at `bytes` (the next chunk of `dir`'s stream) before
    /// they are fed. Returns `None` when the bytes are held (too few to tell); else
    /// the roles they show, after which [`Stack::feed`] must be called with the same
    /// bytes (and any held ones, returned as the second value).
    /// `force`: decide now, holding nothing (a gap or the end follows).
    pub fn recognise(
        &mut self,
        dir: Direction,
        bytes: &[u8],
        force: bool,
    ) -> Option<(Roles, Vec<Held>)> {
        let Top::Recognise(r) = &mut self.top else {
            return Some((
                Roles {
                    sender_is_client: None,
                },
                Vec::new(),
            ));
        };
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
                self.top = match what {
                    Carries::Http => Top::Http1(Box::default()),
                    Carries::WebSocket => {
                        let mut s = WsSession::new_mid_stream(&self.ws_cfg);
                        if let Some(c) = confidence {
                            s = s.with_confidence(c);
                        }
                        Top::WebSocket(Box::new(s))
                    }
                    other => Top::Opaque(other),
                };
                Some((Roles { sender_is_client }, held))
            }
        }
    }

    /// Bytes held while recognising (a strict prefix of an HTTP start), to be decided
    /// as they are when a gap or the end comes first.
    pub fn take_held(&mut self) -> Option<(Direction, Vec<u8>)> {
        match &mut self.top {
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
        let handover = match &mut self.top {
            Top::Recognise(_) | Top::Opaque(_) => None,
            Top::WebSocket(ws) => {
                ws.feed(dir, bytes, ts, &mut |d, e| out(d, LayerEvent::Ws(e)));
                None
            }
            Top::Http1(h) => h.feed(dir, bytes, out),
        };
        match handover {
            None => {}
            Some(Handover::Other) => self.top = Top::Opaque(Carries::Other),
            Some(Handover::WebSocket {
                deflate,
                established,
                leftover,
            }) => {
                let mut session = WsSession::new(&self.ws_cfg, deflate);
                session.set_established(established);
                for (d, b) in leftover {
                    session.feed(d, &b, ts, &mut |d, e| out(d, LayerEvent::Ws(e)));
                }
                self.top = Top::WebSocket(Box::new(session));
            }
        }
    }

    /// `bytes` missing from `dir`'s stream.
    pub fn gap(
        &mut self,
        dir: Direction,
        bytes: u64,
        ts: Timestamp,
        out: &mut impl FnMut(Option<Direction>, LayerEvent),
    ) {
        match &mut self.top {
            Top::Http1(h) => h.gap(dir),
            Top::WebSocket(ws) => ws.gap(dir, bytes, ts, &mut |d, e| out(d, LayerEvent::Ws(e))),
            Top::Recognise(_) => {}
            Top::Opaque(_) => {}
        }
    }

    /// `dir` sent its FIN or RST (not its ACK).
    pub fn tcp_end(&mut self, dir: Direction, ts: Timestamp) {
        if let Top::WebSocket(ws) = &mut self.top {
            ws.tcp_end(dir, ts);
        }
    }

    /// The connection's last word. `ended`: the TCP connection really ended (FIN or
    /// RST), as opposed to the capture stopping while it was open.
    pub fn end(
        &mut self,
        ended: bool,
        ts: Timestamp,
        out: &mut impl FnMut(Option<Direction>, LayerEvent),
    ) {
        match &mut self.top {
            Top::WebSocket(ws) => ws.end(ts, &mut |d, e| out(d, LayerEvent::Ws(e))),
            Top::Http1(h) => h.end(ended, out),
            Top::Recognise(_) | Top::Opaque(_) => {}
        }
    }
}
