//! HTTP/2 in a connection's stack: the `h2` layer's frames, requests and
//! responses, and the WebSockets it carries (RFC 8441), one WebSocket layer per
//! extended-CONNECT stream.
//!
//! Entered by TLS ALPN `h2` (the plaintext begins with the client preface), by
//! the h2c upgrade (a 101 to `h2c`), or by a cleartext connection that begins with
//! the preface (prior knowledge). Every event of a WebSocket over HTTP/2 goes out
//! inside [`LayerEvent::InStream`] with its stream id.

use std::collections::BTreeMap;

use super::{ws_out, LayerEvent, LayerWarning};
use crate::app::{AppContext, AppDecoder};
use crate::h2::{self as h2layer, Entry, H2Event, H2Layer, WebSocketOpen, WsStreamEnd};
use crate::http::{self, Check};
use crate::rules::Violation;
use crate::types::{Direction, Timestamp};
use crate::ws::{WsConfig, WsSession};

/// WebSockets followed at once on one HTTP/2 connection (the `h2` layer bounds its
/// streams too); past it, new ones are not decoded, with one warning.
pub const MAX_WEBSOCKETS: usize = 256;

/// An extended CONNECT and its answer, with the requirements checked.
#[derive(Debug)]
pub struct H2Open {
    /// What the `h2` layer saw.
    pub open: WebSocketOpen,
    /// The RFC 8441 requirements, passed or not.
    pub checks: Vec<Check>,
}

/// One WebSocket over HTTP/2: its WebSocket layer and, when payloads are kept, the
/// decoder of the protocol riding on it.
struct Ws {
    session: WsSession,
    decoder: Option<Box<AppDecoder>>,
}

/// HTTP/2 and its WebSockets.
pub struct H2Session {
    layer: H2Layer,
    ws: BTreeMap<u32, Ws>,
    warned: bool,
}

impl H2Session {
    /// HTTP/2 entered as `entry` says.
    pub fn new(entry: Entry) -> H2Session {
        H2Session {
            layer: H2Layer::new(entry),
            ws: BTreeMap::new(),
            warned: false,
        }
    }

    /// Heap bytes held (for the memory budget): the HTTP/2 layer's, and each
    /// WebSocket's session and decoder (at most [`MAX_WEBSOCKETS`]).
    pub fn heap_bytes(&self) -> usize {
        self.layer.heap_bytes()
            + crate::budget::btree_bytes(self.ws.len(), std::mem::size_of::<(u32, Ws)>())
            + self
                .ws
                .values()
                .map(|w| {
                    w.session.heap_bytes()
                        + w.decoder
                            .as_ref()
                            .map_or(0, |d| std::mem::size_of::<AppDecoder>() + d.heap_bytes())
                })
                .sum::<usize>()
    }

    /// Bytes of `dir`'s stream.
    pub fn feed(
        &mut self,
        dir: Direction,
        bytes: &[u8],
        ts: Timestamp,
        cfg: &WsConfig,
        out: &mut impl FnMut(Option<Direction>, LayerEvent),
    ) {
        let H2Session { layer, ws, warned } = self;
        let enabled = layer.connect_protocol_enabled();
        layer.feed(dir, bytes, &mut |ev| {
            event(ws, warned, enabled, ev, ts, cfg, out)
        });
    }

    /// A hole in `dir`'s stream.
    pub fn gap(
        &mut self,
        dir: Direction,
        bytes: u64,
        ts: Timestamp,
        cfg: &WsConfig,
        out: &mut impl FnMut(Option<Direction>, LayerEvent),
    ) {
        let H2Session { layer, ws, warned } = self;
        let enabled = layer.connect_protocol_enabled();
        layer.gap(dir, bytes, &mut |ev| {
            event(ws, warned, enabled, ev, ts, cfg, out)
        });
    }

    /// `dir` ended (TCP FIN or RST).
    pub fn tcp_end(&mut self, dir: Direction, ts: Timestamp) {
        for s in self.ws.values_mut() {
            s.session.tcp_end(dir, ts);
        }
    }

    /// The connection is over.
    pub fn end(
        &mut self,
        ts: Timestamp,
        cfg: &WsConfig,
        out: &mut impl FnMut(Option<Direction>, LayerEvent),
    ) {
        let H2Session { layer, ws, warned } = self;
        let enabled = layer.connect_protocol_enabled();
        for dir in [Direction::C2S, Direction::S2C] {
            layer.end(dir, &mut |ev| event(ws, warned, enabled, ev, ts, cfg, out));
        }
        for (stream, mut s) in std::mem::take(ws) {
            let dec = &mut s.decoder;
            s.session.end(ts, &mut |d, e| {
                ws_out(dec, d, e, ts, &mut |d, e| out(d, in_stream(stream, e)))
            });
        }
    }
}

fn in_stream(stream: u32, e: LayerEvent) -> LayerEvent {
    LayerEvent::InStream(stream, Box::new(e))
}

/// One `h2` event.
fn event(
    ws: &mut BTreeMap<u32, Ws>,
    warned: &mut bool,
    connect_enabled: bool,
    ev: H2Event<'_>,
    ts: Timestamp,
    cfg: &WsConfig,
    out: &mut impl FnMut(Option<Direction>, LayerEvent),
) {
    match ev {
        H2Event::Request {
            stream, request, ..
        } => out(
            Some(Direction::C2S),
            in_stream(stream, LayerEvent::H2Request(Box::new(request))),
        ),
        H2Event::Response {
            stream, response, ..
        } => out(
            Some(Direction::S2C),
            in_stream(stream, LayerEvent::H2Response(Box::new(response))),
        ),
        H2Event::WebSocketOpen(open) => {
            let stream = open.stream;
            let checks = checks(&open, connect_enabled);
            let deflate = open
                .extensions
                .iter()
                .find(|e| e.name.eq_ignore_ascii_case("permessage-deflate"))
                .map(|e| http::deflate_params(e, &open.offered_extensions).0);
            let ok = open.ok;
            let subprotocol = open.subprotocol.clone();
            let path = open.request.path.clone().unwrap_or_default();
            out(
                Some(Direction::S2C),
                in_stream(
                    stream,
                    LayerEvent::H2Handshake(Box::new(H2Open {
                        open: *open,
                        checks,
                    })),
                ),
            );
            if !ok {
                return;
            }
            if ws.len() >= MAX_WEBSOCKETS {
                if !*warned {
                    *warned = true;
                    out(
                        None,
                        LayerEvent::Warning(LayerWarning::TooManyH2WebSockets {
                            max: MAX_WEBSOCKETS,
                        }),
                    );
                }
                return;
            }
            ws.insert(
                stream,
                Ws {
                    session: WsSession::new(cfg, deflate).over_h2_stream(),
                    decoder: cfg
                        .keep_payload
                        .then(|| Box::new(AppDecoder::new(AppContext { subprotocol, path }))),
                },
            );
        }
        H2Event::Data {
            dir,
            stream,
            bytes,
            websocket: true,
            ..
        } => {
            if let Some(s) = ws.get_mut(&stream) {
                let dec = &mut s.decoder;
                s.session.feed(dir, bytes, ts, &mut |d, e| {
                    ws_out(dec, d, e, ts, &mut |d, e| out(d, in_stream(stream, e)))
                });
            }
        }
        H2Event::StreamGap {
            dir,
            stream,
            bytes,
            websocket: true,
        } => {
            if let Some(s) = ws.get_mut(&stream) {
                // An unknown size loses the frame boundary: a large gap makes the
                // WebSocket layer hunt for the next plausible header.
                let n = bytes.unwrap_or(u64::MAX / 2);
                let dec = &mut s.decoder;
                s.session.gap(dir, n, ts, &mut |d, e| {
                    ws_out(dec, d, e, ts, &mut |d, e| out(d, in_stream(stream, e)))
                });
            }
        }
        H2Event::WebSocketEnd { stream, dir, how } => match how {
            // END_STREAM: that side is done, as a TCP FIN would say.
            WsStreamEnd::EndStream => {
                if let Some(s) = ws.get_mut(&stream) {
                    s.session.tcp_end(dir, ts);
                }
            }
            // RST_STREAM aborts the WebSocket, as a TCP RST its connection.
            WsStreamEnd::Reset(_) | WsStreamEnd::ConnectionEnded => {
                if let Some(mut s) = ws.remove(&stream) {
                    s.session.tcp_end(dir, ts);
                    s.session.tcp_end(dir.reverse(), ts);
                    let dec = &mut s.decoder;
                    s.session.end(ts, &mut |d, e| {
                        ws_out(dec, d, e, ts, &mut |d, e| out(d, in_stream(stream, e)))
                    });
                }
            }
        },
        H2Event::Settings {
            dir, ack, params, ..
        } => out(Some(dir), LayerEvent::H2Settings { ack, params }),
        H2Event::RstStream { dir, stream, code } => {
            out(Some(dir), in_stream(stream, LayerEvent::H2Reset { code }))
        }
        H2Event::GoAway {
            dir,
            last_stream,
            code,
            ..
        } => out(Some(dir), LayerEvent::H2GoAway { last_stream, code }),
        H2Event::HpackLost { dir, reason } => out(
            Some(dir),
            LayerEvent::Warning(LayerWarning::HpackLost { dir, reason }),
        ),
        H2Event::Violation {
            dir,
            stream,
            rule,
            message,
        } => {
            let v = LayerEvent::Violation(Violation::new(rule, message));
            out(
                Some(dir),
                match stream {
                    Some(s) => in_stream(s, v),
                    None => v,
                },
            );
        }
        _ => {}
    }
}

/// The RFC 8441 requirements of an extended CONNECT and its answer.
fn checks(open: &WebSocketOpen, connect_enabled: bool) -> Vec<Check> {
    let r = &open.request;
    let shown = |v: &Option<String>| {
        v.as_deref()
            .map_or_else(|| "absent".to_string(), crate::text::safe)
    };
    let mut c = vec![
        check(
            "server enabled extended CONNECT (SETTINGS_ENABLE_CONNECT_PROTOCOL = 1)",
            "RFC 8441 3",
            connect_enabled,
            if connect_enabled { "1" } else { "not sent" }.to_string(),
        ),
        check(
            ":method is CONNECT",
            "RFC 8441 4",
            r.method.as_deref() == Some("CONNECT"),
            shown(&r.method),
        ),
        check(
            ":protocol is websocket",
            "RFC 8441 4",
            r.protocol
                .as_deref()
                .is_some_and(|p| p.eq_ignore_ascii_case("websocket")),
            shown(&r.protocol),
        ),
        check(
            ":scheme present",
            "RFC 8441 4",
            r.scheme.is_some(),
            shown(&r.scheme),
        ),
        check(
            ":path present",
            "RFC 8441 4",
            r.path.is_some(),
            shown(&r.path),
        ),
        check(
            ":authority present",
            "RFC 9113 8.5",
            r.authority.is_some(),
            shown(&r.authority),
        ),
        check(
            "sec-websocket-version: 13",
            "RFC 8441 5",
            r.header("sec-websocket-version").map(str::trim) == Some("13"),
            r.header("sec-websocket-version")
                .map_or_else(|| "absent".to_string(), crate::text::safe),
        ),
        check(
            "no Sec-WebSocket-Key (HTTP/2 has no Key and no Accept)",
            "RFC 8441 5",
            r.header("sec-websocket-key").is_none(),
            r.header("sec-websocket-key")
                .map_or_else(|| "absent".to_string(), crate::text::safe),
        ),
        check(
            "response is 2xx",
            "RFC 8441 5",
            open.status.is_some_and(|s| (200..300).contains(&s)),
            open.status
                .map_or_else(|| "no answer".to_string(), |s| s.to_string()),
        ),
    ];
    if let Some(p) = &open.subprotocol {
        c.push(check(
            "accepted subprotocol was offered",
            "RFC 6455 4.1",
            open.offered_subprotocols.iter().any(|o| o == p),
            crate::text::safe(p),
        ));
    }
    c
}

fn check(name: &'static str, rfc: &'static str, ok: bool, detail: String) -> Check {
    Check {
        name,
        rfc,
        ok,
        detail,
    }
}

/// The client connection preface that begins HTTP/2 (RFC 9113 3.4).
pub const PREFACE: &[u8] = h2layer::frame::CLIENT_PREFACE;
