//! The HTTP/1.1 layer of a connection's stack: requests and responses (keep-alive,
//! pipelining, bodies), the WebSocket upgrade checked, and the hand-over.
//!
//! While an upgrade request awaits its answer, the client's further bytes are held
//! (they are WebSocket if the answer is 101). A 101 to `websocket` hands the stream,
//! with what was held and what followed the 101, to the WebSocket layer; a 101 to
//! anything else (h2c) leaves it undecoded; any other answer makes it HTTP again.

use std::collections::VecDeque;

use super::{LayerEvent, LayerWarning, PolledHead};
use crate::app::{self, AppContext, AppDecoder};
use crate::http::{self, HttpItem, HttpParser, ParserState, RequestHead, ResponseHead, Role};
use crate::rules::Violation;
use crate::types::{Direction, Timestamp};
use crate::ws::DeflateParams;

/// Bytes of a request stream held while the answer to an upgrade request is awaited.
pub const MAX_HELD_BYTES: usize = 1 << 20;
/// HTTP head size bound (request line / status line and headers).
pub const MAX_HTTP_HEAD: usize = 64 * 1024;
/// Requests remembered while their responses are awaited (pipelining).
pub const MAX_OUTSTANDING_REQUESTS: usize = 256;
/// Violations one HTTP head can give; a hostile head could give thousands.
pub const MAX_VIOLATIONS_PER_HEAD: usize = 16;

/// What a 101 hands the stream to.
#[derive(Debug)]
pub enum Handover {
    /// WebSocket, with the bytes that already belong to it (in order, per direction).
    WebSocket {
        /// permessage-deflate, when it was accepted.
        deflate: Option<DeflateParams>,
        /// The handshake passed every check.
        established: bool,
        /// Stream bytes that followed the 101 (server) and were held (client).
        leftover: Vec<(Direction, Vec<u8>)>,
        /// The negotiated subprotocol and the request target, for the decoder of
        /// the protocol riding on the WebSocket.
        app: AppContext,
    },
    /// HTTP/2 over cleartext (RFC 7540 3.2's h2c upgrade).
    H2c {
        /// The request's `HTTP2-Settings` header value.
        settings: Option<Vec<u8>>,
        /// Stream bytes that followed the 101 (server) and were held (client).
        leftover: Vec<(Direction, Vec<u8>)>,
    },
    /// Another protocol: not decoded here.
    Other,
}

/// One connection's HTTP/1.x state.
pub struct Http1 {
    requests: HttpParser,
    responses: HttpParser,
    /// Requests whose responses have not come yet, oldest first (only upgrade
    /// requests kept whole: the rest need no more than a place).
    outstanding: VecDeque<Option<RequestHead>>,
    /// An upgrade request awaits its answer: client bytes are held.
    awaiting_upgrade: bool,
    held: Vec<u8>,
    held_overflow: bool,
    /// The last request asked for h2c: its `HTTP2-Settings`.
    h2c_settings: Option<Option<Vec<u8>>>,
    /// Engine.IO long polling, when bodies are decoded ([`Http1::decode_polling`]).
    polling: Option<Box<Polling>>,
}

/// Engine.IO long-polling bodies: kept whole (bounded) for `/socket.io/` targets and
/// fed to one decoder for the connection. A head whose body is kept is emitted once
/// the body is complete, with what it carried.
struct Polling {
    decoder: Option<AppDecoder>,
    /// The polling target of each outstanding request (in step with `outstanding`).
    targets: VecDeque<Option<String>>,
    /// A request head waiting for its body, with its target.
    request: Option<(Box<RequestHead>, String)>,
    /// A response head waiting for its body, with its request's target.
    response: Option<(Box<ResponseHead>, String)>,
}

/// A request target whose bodies carry Engine.IO packets (long polling).
fn polling_target(target: &str) -> bool {
    app::engine_io_version(target).is_some()
}

impl Default for Http1 {
    fn default() -> Self {
        Http1::new()
    }
}

impl Http1 {
    /// A fresh HTTP/1.x layer.
    pub fn new() -> Http1 {
        Http1 {
            requests: HttpParser::new(Role::Request, MAX_HTTP_HEAD),
            responses: HttpParser::new(Role::Response, MAX_HTTP_HEAD),
            outstanding: VecDeque::new(),
            awaiting_upgrade: false,
            held: Vec::new(),
            held_overflow: false,
            h2c_settings: None,
            polling: None,
        }
    }

    /// Heap bytes this layer holds (for the memory budget): both parsers (heads being
    /// read, bodies kept), the upgrade requests awaiting answers, the client bytes held
    /// while an upgrade is answered, and the long-polling state.
    pub fn heap_bytes(&self) -> usize {
        use crate::budget::{deque_bytes, string_bytes, vec_bytes};
        let polling = self.polling.as_ref().map_or(0, |p| {
            std::mem::size_of::<Polling>()
                + p.decoder.as_ref().map_or(0, AppDecoder::heap_bytes)
                + deque_bytes(&p.targets)
                + p.targets.iter().flatten().map(string_bytes).sum::<usize>()
                + p.request.as_ref().map_or(0, |(r, t)| {
                    std::mem::size_of::<RequestHead>() + r.heap_bytes() + string_bytes(t)
                })
                + p.response.as_ref().map_or(0, |(r, t)| {
                    std::mem::size_of::<ResponseHead>() + r.heap_bytes() + string_bytes(t)
                })
        });
        self.requests.heap_bytes()
            + self.responses.heap_bytes()
            + deque_bytes(&self.outstanding)
            + self
                .outstanding
                .iter()
                .flatten()
                .map(RequestHead::heap_bytes)
                .sum::<usize>()
            + vec_bytes(&self.held)
            + self
                .h2c_settings
                .as_ref()
                .map_or(0, |s| s.as_ref().map_or(0, vec_bytes))
            + polling
    }

    /// Decodes Engine.IO long-polling bodies (requests and responses to `/socket.io/`
    /// targets, each kept whole up to `max_body` bytes): their heads are emitted once
    /// the body is complete, as [`LayerEvent::Polled`].
    pub fn decode_polling(&mut self, max_body: usize) {
        self.requests.keep_bodies(max_body, polling_target);
        self.responses.keep_bodies(max_body, |_| false);
        self.polling = Some(Box::new(Polling {
            decoder: None,
            targets: VecDeque::new(),
            request: None,
            response: None,
        }));
    }

    /// A head waiting for its body goes out as it is (no body came, or it was lost).
    fn flush(&mut self, dir: Direction, out: &mut impl FnMut(Option<Direction>, LayerEvent)) {
        let Some(p) = self.polling.as_mut() else {
            return;
        };
        match dir {
            Direction::C2S => {
                if let Some((req, _)) = p.request.take() {
                    out(Some(dir), LayerEvent::Request(req, None));
                }
            }
            Direction::S2C => {
                if let Some((resp, _)) = p.response.take() {
                    out(Some(dir), LayerEvent::Response(resp));
                }
            }
        }
    }

    /// A body is complete: the head waiting for it goes out with the packets it carried.
    fn body_done(
        &mut self,
        dir: Direction,
        ts: Timestamp,
        out: &mut impl FnMut(Option<Direction>, LayerEvent),
    ) {
        let parser = match dir {
            Direction::C2S => &mut self.requests,
            Direction::S2C => &mut self.responses,
        };
        let body = parser.take_body();
        let Some(p) = self.polling.as_mut() else {
            return;
        };
        let head = match dir {
            Direction::C2S => p.request.take().map(|(r, t)| (PolledHead::Request(r), t)),
            Direction::S2C => p.response.take().map(|(r, t)| (PolledHead::Response(r), t)),
        };
        let Some((head, target)) = head else {
            return;
        };
        let apps = match body {
            // A cut body is not decoded.
            Some((bytes, false)) => p
                .decoder
                .get_or_insert_with(|| {
                    AppDecoder::new(AppContext {
                        subprotocol: None,
                        path: target.clone(),
                    })
                })
                .http_body(dir, &target, &bytes, ts.0),
            _ => Vec::new(),
        };
        out(Some(dir), LayerEvent::Polled(head, apps));
    }

    /// Bytes of `dir`'s stream. Returns the hand-over when a 101 switched protocols.
    pub fn feed(
        &mut self,
        dir: Direction,
        bytes: &[u8],
        ts: Timestamp,
        out: &mut impl FnMut(Option<Direction>, LayerEvent),
    ) -> Option<Handover> {
        match dir {
            Direction::C2S => {
                if self.awaiting_upgrade {
                    self.hold(bytes, out);
                } else {
                    self.feed_requests(bytes, ts, out);
                }
                None
            }
            Direction::S2C => self.feed_responses(bytes, ts, out),
        }
    }

    /// A hole in `dir`'s stream: the parser resynchronises at the next head.
    pub fn gap(&mut self, dir: Direction, out: &mut impl FnMut(Option<Direction>, LayerEvent)) {
        self.flush(dir, out);
        match dir {
            Direction::C2S => self.requests.gap(),
            Direction::S2C => self.responses.gap(),
        }
    }

    /// The connection is over. `ended`: it really ended (FIN or RST), as opposed to the
    /// capture stopping while it was open.
    pub fn end(
        &mut self,
        ended: bool,
        ts: Timestamp,
        out: &mut impl FnMut(Option<Direction>, LayerEvent),
    ) {
        if ended {
            let mut items = Vec::new();
            self.requests.end(&mut |i| items.push((Direction::C2S, i)));
            self.responses.end(&mut |i| items.push((Direction::S2C, i)));
            for (dir, item) in items {
                match item {
                    HttpItem::Violation(v) => {
                        // A head waiting for the body cut short goes out before the news.
                        self.flush(dir, out);
                        out(Some(dir), LayerEvent::Violation(v));
                    }
                    // A body read until the end of the stream.
                    HttpItem::BodyDone { .. } => self.body_done(dir, ts, out),
                    HttpItem::Request(_) | HttpItem::Response(_) => {}
                }
            }
        }
        self.flush(Direction::C2S, out);
        self.flush(Direction::S2C, out);
        if !ended {
            return;
        }
        // Only a connection that really ended left the upgrade unanswered; a capture
        // that stops (or `-c`) just did not see the answer yet.
        if self.awaiting_upgrade {
            let req = self
                .outstanding
                .back()
                .and_then(Option::clone)
                .map(Box::new);
            out(None, LayerEvent::Unanswered(req));
        }
    }

    fn feed_responses(
        &mut self,
        bytes: &[u8],
        ts: Timestamp,
        out: &mut impl FnMut(Option<Direction>, LayerEvent),
    ) -> Option<Handover> {
        let dir = Some(Direction::S2C);
        let mut items = Vec::new();
        let used = self.responses.feed(bytes, &mut |i| items.push(i));
        let mut upgraded = None;
        let mut app = AppContext::default();
        for item in items {
            match item {
                HttpItem::Response(resp) => {
                    let status = resp.status;
                    let to_websocket = resp.has_token("upgrade", "websocket");
                    if status < 200 && status != 101 {
                        out(dir, LayerEvent::Response(Box::new(resp)));
                        continue; // 100 Continue and friends: the final answer is still to come
                    }
                    let req = self.outstanding.pop_front().flatten();
                    let polled = self
                        .polling
                        .as_mut()
                        .and_then(|p| p.targets.pop_front())
                        .flatten();
                    let answers_upgrade = self.awaiting_upgrade && self.outstanding.is_empty();
                    if let Some(target) = polled.filter(|_| status != 101 && req.is_none()) {
                        // Its body (if any) is kept: the head waits for it.
                        self.flush(Direction::S2C, out);
                        if let Some(p) = self.polling.as_mut() {
                            p.response = Some((Box::new(resp), target));
                        }
                        continue;
                    }
                    if !answers_upgrade && status != 101 {
                        out(dir, LayerEvent::Response(Box::new(resp)));
                        continue;
                    }
                    if let Some(req) = &req {
                        let up = http::check_upgrade(req, &resp);
                        out(dir, LayerEvent::Response(Box::new(resp)));
                        violations(dir, up.violations.iter().cloned(), out);
                        if status == 101 {
                            upgraded = Some((up.deflate, up.ok, true));
                            app = AppContext {
                                subprotocol: up.subprotocol.clone(),
                                path: req.target.clone(),
                            };
                        }
                        out(dir, LayerEvent::Handshake(Box::new(up)));
                    } else {
                        app.subprotocol = resp.header("sec-websocket-protocol").map(str::to_string);
                        out(dir, LayerEvent::Response(Box::new(resp)));
                        if status == 101 {
                            // A 101 whose request was not seen (mid-stream) is taken at its
                            // word; one to another protocol (h2c) is not decoded.
                            upgraded = Some((None, true, to_websocket));
                        }
                    }
                    if status != 101 {
                        self.awaiting_upgrade = false;
                        self.requests.resume();
                    }
                }
                HttpItem::Violation(v) => out(dir, LayerEvent::Violation(v)),
                HttpItem::BodyDone { .. } => self.body_done(Direction::S2C, ts, out),
                HttpItem::Request(_) => {}
            }
        }
        if self.responses.state() != ParserState::Body {
            self.flush(Direction::S2C, out);
        }
        match upgraded {
            Some((_, _, false)) if self.h2c_settings.is_some() => {
                let mut leftover = Vec::new();
                if used < bytes.len() {
                    leftover.push((Direction::S2C, bytes[used..].to_vec()));
                }
                if !self.held.is_empty() {
                    leftover.push((Direction::C2S, std::mem::take(&mut self.held)));
                }
                Some(Handover::H2c {
                    settings: self.h2c_settings.take().flatten(),
                    leftover,
                })
            }
            Some((_, _, false)) => Some(Handover::Other),
            Some((deflate, established, true)) => {
                let mut leftover = Vec::new();
                if used < bytes.len() {
                    leftover.push((Direction::S2C, bytes[used..].to_vec()));
                }
                if !self.held.is_empty() {
                    out(
                        Some(Direction::C2S),
                        LayerEvent::Violation(Violation::new(
                            http::rules::DATA_BEFORE_UPGRADE,
                            format!(
                                "The client sent {} bytes after its upgrade request before the server's 101 arrived.",
                                self.held.len()
                            ),
                        )),
                    );
                    leftover.push((Direction::C2S, std::mem::take(&mut self.held)));
                }
                Some(Handover::WebSocket {
                    deflate,
                    established,
                    leftover,
                    app,
                })
            }
            None => {
                if !self.awaiting_upgrade && !self.held.is_empty() {
                    // A refused upgrade: what the client sent meanwhile is HTTP again.
                    let held = std::mem::take(&mut self.held);
                    self.feed_requests(&held, ts, out);
                }
                None
            }
        }
    }

    fn feed_requests(
        &mut self,
        bytes: &[u8],
        ts: Timestamp,
        out: &mut impl FnMut(Option<Direction>, LayerEvent),
    ) {
        let dir = Some(Direction::C2S);
        let mut rest = bytes;
        loop {
            let mut items = Vec::new();
            let used = self.requests.feed(rest, &mut |i| items.push(i));
            for item in items {
                match item {
                    HttpItem::Request(req) => {
                        if req.has_token("upgrade", "h2c") {
                            self.h2c_settings = Some(
                                req.header("http2-settings")
                                    .map(|v| v.trim().as_bytes().to_vec()),
                            );
                        }
                        let upgrade = req.is_upgrade_request();
                        let polled =
                            (self.polling.is_some() && !upgrade && polling_target(&req.target))
                                .then(|| req.target.clone());
                        if polled.is_some() {
                            self.responses.expect_kept_response_to(&req.method);
                        } else {
                            self.responses.expect_response_to(&req.method);
                        }
                        let (checks, broken) = if upgrade {
                            let (c, v) = http::request_checks_and_violations(&req);
                            (Some(c), v)
                        } else {
                            (None, Vec::new())
                        };
                        if self.outstanding.len() == MAX_OUTSTANDING_REQUESTS {
                            self.outstanding.pop_front();
                            if let Some(p) = self.polling.as_mut() {
                                p.targets.pop_front();
                            }
                        }
                        self.outstanding.push_back(upgrade.then(|| req.clone()));
                        self.flush(Direction::C2S, out);
                        if let Some(p) = self.polling.as_mut() {
                            p.targets.push_back(polled.clone());
                            if let Some(target) = polled {
                                // Its body (if any) is kept: the head waits for it.
                                p.request = Some((Box::new(req), target));
                                continue;
                            }
                        }
                        out(dir, LayerEvent::Request(Box::new(req), checks));
                        violations(dir, broken.into_iter(), out);
                    }
                    HttpItem::Violation(v) => out(dir, LayerEvent::Violation(v)),
                    HttpItem::BodyDone { .. } => self.body_done(Direction::C2S, ts, out),
                    HttpItem::Response(_) => {}
                }
            }
            if self.requests.state() != ParserState::Body {
                self.flush(Direction::C2S, out);
            }
            rest = rest.get(used..).unwrap_or_default();
            // The parser stops after any request asking for an Upgrade: what the client
            // sends next is WebSocket (or another protocol) if the answer is 101.
            self.awaiting_upgrade = self.requests.is_stopped();
            if self.awaiting_upgrade {
                self.hold(rest, out);
                return;
            }
            if rest.is_empty() || used == 0 {
                return;
            }
        }
    }

    /// Holds client bytes sent while the answer to its upgrade request is awaited
    /// (bounded by [`MAX_HELD_BYTES`]; the excess is dropped, with one warning).
    fn hold(&mut self, bytes: &[u8], out: &mut impl FnMut(Option<Direction>, LayerEvent)) {
        let room = MAX_HELD_BYTES.saturating_sub(self.held.len());
        if bytes.len() > room && !self.held_overflow {
            self.held_overflow = true;
            out(
                None,
                LayerEvent::Warning(LayerWarning::HeldTooMuch {
                    max_kib: MAX_HELD_BYTES / 1024,
                }),
            );
        }
        self.held.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }
}

/// Passes on the violations found in one head, at most [`MAX_VIOLATIONS_PER_HEAD`];
/// the rest are counted in a warning.
fn violations(
    dir: Option<Direction>,
    vs: impl Iterator<Item = Violation>,
    out: &mut impl FnMut(Option<Direction>, LayerEvent),
) {
    let mut more = 0usize;
    for (n, v) in vs.enumerate() {
        if n < MAX_VIOLATIONS_PER_HEAD {
            out(dir, LayerEvent::Violation(v));
        } else {
            more += 1;
        }
    }
    if more > 0 {
        out(
            None,
            LayerEvent::Warning(LayerWarning::MoreViolations { more }),
        );
    }
}
