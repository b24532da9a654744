//! The HTTP/2 layer: one connection's two byte streams in, typed [`H2Event`]s out,
//! including RFC 8441 WebSockets (extended CONNECT) over HTTP/2.
//!
//! Sans-IO like the rest of the library: [`H2Layer`] is fed each direction's
//! reassembled bytes (TCP payload for h2c, TLS plaintext for h2) with
//! [`H2Layer::feed`], told of holes with [`H2Layer::gap`] and of the end of a
//! direction with [`H2Layer::end`]; it calls `out` with each event as soon as it is
//! complete. Nothing is read from a file or a clock.
//!
//! ```text
//! C2S bytes ─┐                       ┌─ Frame (timeline), Settings, Ping, GoAway, …
//!            ├─ preface ─ frames ────┼─ Headers ─ Request / Response (per stream)
//! S2C bytes ─┘   (9-byte headers,    ├─ WebSocketOpen (extended CONNECT → 2xx)
//!                 padding removed,   ├─ Data { websocket: true } → per-stream WS decoder
//!                 header blocks      └─ Violation (rules in [`rules`])
//!                 joined, HPACK)
//! ```
//!
//! - Frames are decoded whole: a frame's payload is held until its last byte comes
//!   (at most 2^24 - 1 bytes, the 24-bit length field), so events never depend on how
//!   the stream was cut into segments. Bytes are only copied as they arrive; a length
//!   field allocates nothing.
//! - HPACK: one decoder per direction ([`loona_hpack`]), with the dynamic-table size
//!   bounded by what the receiver announced (and by [`MAX_HPACK_TABLE`]). A header
//!   block is bounded by [`MAX_HEADER_BLOCK`] compressed and [`MAX_HEADER_LIST`]
//!   decoded (RFC 9113 §10.5.1 sizes): an HPACK bomb costs its compressed size.
//! - Feed both directions in capture order (interleaved as they happened): whether
//!   `:protocol` was allowed depends on whether the server's SETTINGS came first.
//! - Gaps: a hole inside a frame whose length is known skips exactly to the end of
//!   that frame (a lost DATA frame becomes a [`H2Event::StreamGap`] of known size; a
//!   lost header-block frame loses HPACK context). A hole at an unknown position loses
//!   the frame boundaries: the layer hunts for two consecutive plausible frame headers
//!   and resumes there ([`H2Event::Resync`]). Without HPACK context
//!   ([`H2Event::HpackLost`]) each header block is still decoded when it refers only
//!   to the static table and to entries it adds itself (a fresh decoder proves it, or
//!   fails); a block that begins with a dynamic-table size update to 0 restores the
//!   context ([`H2Event::HpackRecovered`]). DATA of known streams is decoded throughout.
//! - RFC 8441: the server's `SETTINGS_ENABLE_CONNECT_PROTOCOL = 1` is tracked; a
//!   client `CONNECT` with `:protocol websocket` and its final response make a
//!   [`H2Event::WebSocketOpen`] (`ok` when 2xx); after a successful one the stream's
//!   DATA is tagged `websocket: true` and carries RFC 6455 frames (DATA boundaries are
//!   unrelated to WebSocket frame boundaries). END_STREAM ends the WebSocket stream in
//!   that direction in order, RST_STREAM aborts it ([`H2Event::WebSocketEnd`]).
//!
//! Header names and values are bytes from the wire; the [`Request`] and [`Response`]
//! views decode them lossily. They must pass [`crate::text::safe`] before a terminal.

pub mod frame;
pub mod rules;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use loona_hpack::Decoder;

use crate::http::{parse_extensions, Extension};
use crate::types::Direction;
use frame::*;
use rules::Rule;

/// The largest compressed header block (HEADERS or PUSH_PROMISE with its
/// CONTINUATIONs) kept for decoding: 256 KiB.
pub const MAX_HEADER_BLOCK: usize = 256 * 1024;
/// The largest decoded header list kept, counted as RFC 9113 §6.5.2 does (name +
/// value + 32 per field): 256 KiB. Fields past it are decoded (to keep the HPACK
/// table right) but not kept.
pub const MAX_HEADER_LIST: u64 = 256 * 1024;
/// The largest HPACK dynamic table accepted, whatever the receiver announced: 1 MiB.
pub const MAX_HPACK_TABLE: usize = 1024 * 1024;
/// Streams remembered at once; past it the lowest-numbered are forgotten.
pub const MAX_STREAMS: usize = 4096;
/// Violations reported from one header block.
pub const MAX_VIOLATIONS_PER_BLOCK: usize = 16;

/// How the connection came to speak HTTP/2: what the first bytes of each direction are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// h2c with prior knowledge (RFC 9113 §3.3): the client begins with the preface.
    PriorKnowledge,
    /// After TLS negotiated ALPN `h2` (RFC 9113 §3.2): the same bytes as prior knowledge.
    Alpn,
    /// After an HTTP/1.1 `101 Switching Protocols` with `Upgrade: h2c` (RFC 7540
    /// §3.2): the bytes after the 101 (server) and after the request (client). The
    /// request became stream 1, so the server's response comes as HEADERS on stream 1.
    /// `http2_settings` is the value of the request's `HTTP2-Settings` header
    /// (base64url of a SETTINGS payload), if known: it is reported as the client's
    /// first SETTINGS.
    H2cUpgrade {
        /// The `HTTP2-Settings` header value as on the wire.
        http2_settings: Option<Vec<u8>>,
    },
}

/// Timeline facts about one frame, reported before what the frame means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameInfo {
    /// Who sent it.
    pub dir: Direction,
    /// Frame type (see [`frame::frame_type_name`]).
    pub kind: u8,
    /// Flags as on the wire.
    pub flags: u8,
    /// Payload length.
    pub length: u32,
    /// Stream identifier.
    pub stream: u32,
}

/// A request as its pseudo-header fields say (RFC 9113 §8.3.1, RFC 8441 §4).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Request {
    /// `:method`.
    pub method: Option<String>,
    /// `:scheme`.
    pub scheme: Option<String>,
    /// `:path`.
    pub path: Option<String>,
    /// `:authority`.
    pub authority: Option<String>,
    /// `:protocol` (extended CONNECT, RFC 8441).
    pub protocol: Option<String>,
    /// The other fields in wire order, decoded lossily.
    pub headers: Vec<(String, String)>,
}

impl Request {
    /// Heap bytes of its fields (for the memory budget).
    pub fn heap_bytes(&self) -> usize {
        use crate::budget::{headers_bytes, string_bytes};
        [
            &self.method,
            &self.scheme,
            &self.path,
            &self.authority,
            &self.protocol,
        ]
        .into_iter()
        .flatten()
        .map(string_bytes)
        .sum::<usize>()
            + headers_bytes(&self.headers)
    }

    /// The first value of regular header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// Whether this is an extended CONNECT for `websocket` (RFC 8441 §4, §5).
    pub fn is_websocket_connect(&self) -> bool {
        self.method.as_deref() == Some("CONNECT")
            && self
                .protocol
                .as_deref()
                .is_some_and(|p| p.eq_ignore_ascii_case("websocket"))
    }
}

/// A response as its `:status` says (RFC 9113 §8.3.2).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Response {
    /// `:status`, when present and a number.
    pub status: Option<u16>,
    /// The other fields in wire order, decoded lossily.
    pub headers: Vec<(String, String)>,
}

impl Response {
    /// The first value of regular header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// An RFC 8441 WebSocket handshake: the extended CONNECT and its final answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebSocketOpen {
    /// The stream that carries the WebSocket.
    pub stream: u32,
    /// The client's extended CONNECT.
    pub request: Request,
    /// The final response's status.
    pub status: Option<u16>,
    /// The response's other fields.
    pub response_headers: Vec<(String, String)>,
    /// `sec-websocket-protocol` chosen by the server.
    pub subprotocol: Option<String>,
    /// `sec-websocket-extensions` accepted by the server.
    pub extensions: Vec<Extension>,
    /// `sec-websocket-protocol` values the client offered.
    pub offered_subprotocols: Vec<String>,
    /// `sec-websocket-extensions` the client offered.
    pub offered_extensions: Vec<Extension>,
    /// A 2xx answer: the stream now carries WebSocket frames. Otherwise the handshake
    /// failed (not necessarily anyone's fault).
    pub ok: bool,
}

/// How one direction of an RFC 8441 WebSocket stream ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WsStreamEnd {
    /// END_STREAM: the orderly end of that direction.
    EndStream,
    /// RST_STREAM with this error code: the stream was aborted (both directions).
    Reset(u32),
    /// The connection's direction ended with the stream still open.
    ConnectionEnded,
}

/// Why one direction's HPACK state was lost ([`H2Event::HpackLost`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HpackLoss {
    /// A gap hid where frames begin and end.
    GapHidFrames,
    /// A gap took part of a header block.
    GapInBlock,
    /// A header block was never finished.
    Unfinished,
    /// A header block could not be read (bad padding).
    BadPadding,
    /// A header block could not be read.
    Unreadable,
    /// A header block too large to decode.
    TooLarge,
    /// A CONTINUATION without its HEADERS.
    OrphanContinuation,
    /// A header block did not decode.
    DidNotDecode,
}

/// What the HTTP/2 layer reports. Borrowed slices point into the fed bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum H2Event<'a> {
    /// The client's 24-byte connection preface.
    Preface {
        /// Always C2S.
        dir: Direction,
    },
    /// Any frame, before its meaning (for a timeline).
    Frame(FrameInfo),
    /// SETTINGS, or the h2c `HTTP2-Settings` header (`from_upgrade_header`).
    Settings {
        /// Who announced them.
        dir: Direction,
        /// An acknowledgement (no parameters).
        ack: bool,
        /// (identifier, value) in wire order; see `frame::SETTINGS_*`.
        params: Vec<(u16, u32)>,
        /// Carried by the h2c upgrade request's `HTTP2-Settings` header.
        from_upgrade_header: bool,
    },
    /// A decoded header block of HEADERS (+CONTINUATION).
    Headers {
        /// Who sent it.
        dir: Direction,
        /// Stream.
        stream: u32,
        /// Every field in wire order, pseudo-headers included, as bytes.
        fields: Vec<(Vec<u8>, Vec<u8>)>,
        /// END_STREAM was set.
        end_stream: bool,
        /// Fields past [`MAX_HEADER_LIST`] were not kept.
        truncated: bool,
    },
    /// A header block that could not be decoded (HPACK context lost, or an HPACK error).
    HeadersUndecoded {
        /// Who sent it.
        dir: Direction,
        /// Stream.
        stream: u32,
        /// END_STREAM was set.
        end_stream: bool,
        /// Compressed size.
        block_len: usize,
    },
    /// The request view of a stream's first client HEADERS (or of a PUSH_PROMISE).
    Request {
        /// Stream (for a push, the promised stream).
        stream: u32,
        /// The request.
        request: Request,
        /// END_STREAM was set (no body).
        end_stream: bool,
        /// For a pushed request: the stream whose PUSH_PROMISE carried it.
        pushed_on: Option<u32>,
    },
    /// The response view of a stream's server HEADERS (1xx ones too, then the final one).
    Response {
        /// Stream.
        stream: u32,
        /// The response.
        response: Response,
        /// END_STREAM was set.
        end_stream: bool,
    },
    /// DATA payload, padding removed.
    Data {
        /// Who sent it.
        dir: Direction,
        /// Stream.
        stream: u32,
        /// The payload.
        bytes: &'a [u8],
        /// END_STREAM was set.
        end_stream: bool,
        /// The stream is an open RFC 8441 WebSocket: these are WebSocket bytes for that
        /// stream's decoder in this direction.
        websocket: bool,
    },
    /// DATA bytes of a stream lost in a gap (`None`: how many is unknown).
    StreamGap {
        /// Direction.
        dir: Direction,
        /// Stream.
        stream: u32,
        /// Lost payload bytes, when known.
        bytes: Option<u64>,
        /// The stream is an open WebSocket.
        websocket: bool,
    },
    /// An RFC 8441 handshake completed (successfully or not).
    WebSocketOpen(Box<WebSocketOpen>),
    /// One direction (or, for a reset, both) of a WebSocket stream ended.
    WebSocketEnd {
        /// Stream.
        stream: u32,
        /// Which direction ended (for a reset: who sent it).
        dir: Direction,
        /// How.
        how: WsStreamEnd,
    },
    /// RST_STREAM.
    RstStream {
        /// Who sent it.
        dir: Direction,
        /// Stream.
        stream: u32,
        /// Error code (see `frame::error_code_name`).
        code: u32,
    },
    /// GOAWAY.
    GoAway {
        /// Who sent it.
        dir: Direction,
        /// Last stream identifier.
        last_stream: u32,
        /// Error code.
        code: u32,
        /// Additional debug data.
        debug: &'a [u8],
    },
    /// PING.
    Ping {
        /// Who sent it.
        dir: Direction,
        /// ACK flag.
        ack: bool,
        /// Opaque data (zero-filled if the frame was short).
        payload: [u8; 8],
    },
    /// WINDOW_UPDATE.
    WindowUpdate {
        /// Who sent it.
        dir: Direction,
        /// Stream (0 for the connection).
        stream: u32,
        /// Window size increment.
        increment: u32,
    },
    /// PRIORITY, or the priority fields of a HEADERS frame.
    Priority {
        /// Who sent it.
        dir: Direction,
        /// Stream.
        stream: u32,
        /// Stream dependency.
        dependency: u32,
        /// Exclusive flag.
        exclusive: bool,
        /// Weight as on the wire (0-255, meaning 1-256).
        weight: u8,
    },
    /// PUSH_PROMISE with its decoded header block.
    PushPromise {
        /// Who sent it (the server).
        dir: Direction,
        /// Associated stream.
        stream: u32,
        /// Promised stream.
        promised: u32,
        /// Fields in wire order (empty if undecodable).
        fields: Vec<(Vec<u8>, Vec<u8>)>,
    },
    /// A frame of a type this layer does not know (skipped, RFC 9113 §4.1).
    UnknownFrame(FrameInfo),
    /// HPACK context of this direction is lost: later header blocks are decoded only
    /// when provably right.
    HpackLost {
        /// Direction.
        dir: Direction,
        /// Why.
        reason: HpackLoss,
    },
    /// A header block reset the dynamic table: HPACK context is known again.
    HpackRecovered {
        /// Direction.
        dir: Direction,
    },
    /// Bytes missing from a direction's stream (as the layer below said).
    Gap {
        /// Direction.
        dir: Direction,
        /// How many.
        bytes: u64,
        /// Frame boundaries were lost (the layer hunts for the next frame).
        boundary_lost: bool,
    },
    /// Frame decoding resumed after a lost boundary.
    Resync {
        /// Direction.
        dir: Direction,
        /// Bytes received but skipped while hunting.
        skipped: u64,
    },
    /// A broken rule (or a note, see [`rules`]).
    Violation {
        /// Whose bytes.
        dir: Direction,
        /// The stream, if the rule is about one.
        stream: Option<u32>,
        /// The rule.
        rule: Rule,
        /// One sentence with the facts.
        message: String,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Expecting the client preface; `seen` bytes of it matched so far.
    Preface { seen: usize },
    /// At or inside a frame (`buf` holds a partial frame).
    Frames,
    /// Skipping the rest of a frame damaged by a gap.
    Skip(u64),
    /// Frame boundary lost; hunting (`buf` holds candidates); bytes skipped so far.
    Hunt { skipped: u64 },
    /// Not HTTP/2 (bad preface) or ended: bytes are ignored.
    Dead,
}

#[derive(Clone, Debug)]
enum BlockKind {
    Headers { end_stream: bool },
    Push { promised: u32 },
}

#[derive(Clone, Debug)]
struct Block {
    stream: u32,
    kind: BlockKind,
    buf: Vec<u8>,
    /// Too large to keep, or a frame of it lost: it cannot be decoded.
    lost: bool,
}

struct DirState {
    mode: Mode,
    buf: Vec<u8>,
    first_frame_seen: bool,
    hpack: Decoder<'static>,
    hpack_synced: bool,
    /// Largest dynamic table the receiver allowed.
    hpack_allowed: usize,
    block: Option<Block>,
    /// Largest frame the receiver announced it accepts.
    max_frame: u32,
}

impl DirState {
    fn new(mode: Mode) -> DirState {
        let mut hpack = Decoder::new();
        hpack.set_max_allowed_table_size(DEFAULT_HEADER_TABLE_SIZE as usize);
        DirState {
            mode,
            buf: Vec::new(),
            first_frame_seen: false,
            hpack,
            hpack_synced: true,
            hpack_allowed: DEFAULT_HEADER_TABLE_SIZE as usize,
            block: None,
            max_frame: DEFAULT_MAX_FRAME_SIZE,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ws {
    No,
    Pending,
    Open,
    Failed,
}

#[derive(Clone, Debug)]
struct Stream {
    request: Option<Request>,
    final_response: bool,
    ws: Ws,
    ended: [bool; 2],
}

impl Stream {
    fn new() -> Stream {
        Stream {
            request: None,
            final_response: false,
            ws: Ws::No,
            ended: [false; 2],
        }
    }
}

/// The HTTP/2 decoder of one connection. See the [module docs](self).
pub struct H2Layer {
    dirs: [DirState; 2],
    streams: BTreeMap<u32, Stream>,
    /// Highest stream opened by the client (odd) and promised by the server (even).
    highest: [u32; 2],
    connect_protocol: Option<u32>,
    push_enabled: bool,
    pending_upgrade_settings: Option<Vec<u8>>,
    /// Heap bytes of the requests the streams keep (a running count, for the memory
    /// budget: the streams are not walked for every packet).
    request_bytes: usize,
}

/// Heap bytes of the request a stream keeps.
fn kept_request(s: &Stream) -> usize {
    s.request.as_ref().map_or(0, Request::heap_bytes)
}

impl H2Layer {
    /// A layer for a connection that entered HTTP/2 as `entry` says.
    pub fn new(entry: Entry) -> H2Layer {
        let mut layer = H2Layer {
            dirs: [
                DirState::new(Mode::Preface { seen: 0 }),
                DirState::new(Mode::Frames),
            ],
            streams: BTreeMap::new(),
            highest: [0, 0],
            connect_protocol: None,
            push_enabled: true,
            pending_upgrade_settings: None,
            request_bytes: 0,
        };
        if let Entry::H2cUpgrade { http2_settings } = entry {
            let mut s = Stream::new();
            s.ended[Direction::C2S.index()] = true;
            s.request = Some(Request::default());
            layer.streams.insert(1, s);
            layer.highest[0] = 1;
            layer.pending_upgrade_settings = Some(http2_settings.unwrap_or_default());
        }
        layer
    }

    /// Whether the server has enabled extended CONNECT (RFC 8441 §3).
    pub fn connect_protocol_enabled(&self) -> bool {
        self.connect_protocol == Some(1)
    }

    /// Whether HPACK context of `dir` is known.
    pub fn hpack_synced(&self, dir: Direction) -> bool {
        self.dirs[dir.index()].hpack_synced
    }

    /// Streams currently open as RFC 8441 WebSockets.
    pub fn websocket_streams(&self) -> Vec<u32> {
        self.streams
            .iter()
            .filter(|(_, s)| s.ws == Ws::Open)
            .map(|(id, _)| *id)
            .collect()
    }

    /// Feeds the next bytes of `dir`'s stream.
    pub fn feed(&mut self, dir: Direction, data: &[u8], out: &mut impl FnMut(H2Event<'_>)) {
        self.emit_pending(out);
        self.feed_inner(dir, data, out);
    }

    /// Says that `bytes` bytes of `dir`'s stream are missing (after what was fed).
    pub fn gap(&mut self, dir: Direction, bytes: u64, out: &mut impl FnMut(H2Event<'_>)) {
        self.emit_pending(out);
        if bytes == 0 {
            return;
        }
        let i = dir.index();
        let mode = self.dirs[i].mode;
        let boundary_lost = match mode {
            Mode::Dead => return,
            Mode::Preface { seen } => {
                let rest = (CLIENT_PREFACE.len() - seen) as u64;
                if bytes < rest {
                    self.dirs[i].mode = Mode::Preface {
                        seen: seen + bytes as usize,
                    };
                    false
                } else {
                    self.dirs[i].first_frame_seen = bytes > rest;
                    self.dirs[i].mode = Mode::Frames;
                    bytes > rest
                }
            }
            Mode::Skip(n) => {
                if bytes <= n {
                    self.dirs[i].mode = if bytes == n {
                        Mode::Frames
                    } else {
                        Mode::Skip(n - bytes)
                    };
                    false
                } else {
                    true
                }
            }
            Mode::Hunt { .. } => true,
            Mode::Frames => match FrameHeader::parse(&self.dirs[i].buf) {
                Some(h) => {
                    let total = FRAME_HEADER_LEN as u64 + h.length as u64;
                    let have = self.dirs[i].buf.len() as u64;
                    let rest = total - have;
                    let buf = std::mem::take(&mut self.dirs[i].buf);
                    out(H2Event::Gap {
                        dir,
                        bytes,
                        boundary_lost: bytes > rest,
                    });
                    self.frame_lost(dir, h, &buf[FRAME_HEADER_LEN..], out);
                    self.dirs[i].first_frame_seen = true;
                    if bytes < rest {
                        self.dirs[i].mode = Mode::Skip(rest - bytes);
                        return;
                    } else if bytes == rest {
                        return;
                    }
                    self.lose_boundary(dir, bytes - rest, false, out);
                    return;
                }
                None => true,
            },
        };
        out(H2Event::Gap {
            dir,
            bytes,
            boundary_lost,
        });
        if boundary_lost {
            self.lose_boundary(dir, bytes, true, out);
        }
    }

    /// Says that `dir`'s stream ended (FIN, RST or the end of the capture).
    pub fn end(&mut self, dir: Direction, out: &mut impl FnMut(H2Event<'_>)) {
        self.emit_pending(out);
        let i = dir.index();
        match self.dirs[i].mode {
            Mode::Preface { seen } if seen > 0 => self.violation(
                dir,
                None,
                rules::UNFINISHED_FRAME,
                format!("The stream ended after {seen} of the 24 bytes of the client preface."),
                out,
            ),
            Mode::Frames if !self.dirs[i].buf.is_empty() => {
                let have = self.dirs[i].buf.len();
                let msg = match FrameHeader::parse(&self.dirs[i].buf) {
                    Some(h) => format!(
                        "The stream ended inside a {} frame on stream {}: {} of its {} payload bytes came.",
                        type_name(h.kind),
                        h.stream,
                        have - FRAME_HEADER_LEN,
                        h.length
                    ),
                    None => format!("The stream ended inside a frame header ({have} of 9 bytes)."),
                };
                self.violation(dir, None, rules::UNFINISHED_FRAME, msg, out);
            }
            Mode::Skip(n) => self.violation(
                dir,
                None,
                rules::UNFINISHED_FRAME,
                format!("The stream ended {n} bytes before the end of a frame damaged by a gap."),
                out,
            ),
            Mode::Hunt { skipped } => {
                let skipped = skipped + self.dirs[i].buf.len() as u64;
                self.violation(
                    dir,
                    None,
                    rules::GAP_RESYNC,
                    format!("After a gap no frame boundary was found again: {skipped} bytes skipped to the end of the stream."),
                    out,
                )
            }
            _ => {}
        }
        if let Some(b) = self.dirs[i].block.take() {
            if !b.lost {
                self.violation(
                    dir,
                    Some(b.stream),
                    rules::UNFINISHED_FRAME,
                    format!(
                        "The stream ended inside a header block on stream {} (no END_HEADERS).",
                        b.stream
                    ),
                    out,
                );
            }
        }
        self.dirs[i].buf = Vec::new();
        self.dirs[i].mode = Mode::Dead;
        for (&id, s) in self.streams.iter_mut() {
            if s.ws == Ws::Open && !s.ended[i] {
                s.ended[i] = true;
                out(H2Event::WebSocketEnd {
                    stream: id,
                    dir,
                    how: WsStreamEnd::ConnectionEnded,
                });
            }
        }
    }

    fn emit_pending(&mut self, out: &mut impl FnMut(H2Event<'_>)) {
        let Some(value) = self.pending_upgrade_settings.take() else {
            return;
        };
        if value.is_empty() {
            return;
        }
        use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
        use base64::engine::DecodePaddingMode;
        use base64::Engine;
        let engine = GeneralPurpose::new(
            &base64::alphabet::URL_SAFE,
            GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
        );
        let trimmed = value.trim_ascii();
        match engine.decode(trimmed) {
            Ok(payload) if payload.len() % 6 == 0 => {
                let params = parse_settings(&payload);
                out(H2Event::Settings {
                    dir: Direction::C2S,
                    ack: false,
                    params: params.clone(),
                    from_upgrade_header: true,
                });
                self.apply_settings(Direction::C2S, &params, out);
            }
            Ok(payload) => self.violation(
                Direction::C2S,
                None,
                rules::BAD_HTTP2_SETTINGS_HEADER,
                format!(
                    "The HTTP2-Settings header decodes to {} bytes, not a multiple of 6.",
                    payload.len()
                ),
                out,
            ),
            Err(e) => self.violation(
                Direction::C2S,
                None,
                rules::BAD_HTTP2_SETTINGS_HEADER,
                format!("The HTTP2-Settings header is not base64url: {e}."),
                out,
            ),
        }
    }

    fn feed_inner(&mut self, dir: Direction, data: &[u8], out: &mut impl FnMut(H2Event<'_>)) {
        let i = dir.index();
        let mut input = data;
        while !input.is_empty() {
            match self.dirs[i].mode {
                Mode::Dead => return,
                Mode::Preface { seen } => {
                    let want = &CLIENT_PREFACE[seen..];
                    let n = want.len().min(input.len());
                    if let Some(k) = (0..n).find(|&k| input[k] != want[k]) {
                        // Where the bytes part from the preface, however they were segmented.
                        let at = seen + k;
                        let shown: String = input[k..n.min(k + 16)]
                            .iter()
                            .map(|&b| {
                                if b.is_ascii_graphic() || b == b' ' {
                                    b as char
                                } else {
                                    '.'
                                }
                            })
                            .collect();
                        self.violation(
                            dir,
                            None,
                            rules::BAD_PREFACE,
                            format!(
                                "The client's bytes at offset {at} of the preface are not \"PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n\" (they begin {shown:?}): HTTP/2 decoding of this direction stops."
                            ),
                            out,
                        );
                        self.dirs[i].mode = Mode::Dead;
                        return;
                    }
                    input = &input[n..];
                    if seen + n == CLIENT_PREFACE.len() {
                        self.dirs[i].mode = Mode::Frames;
                        out(H2Event::Preface { dir });
                    } else {
                        self.dirs[i].mode = Mode::Preface { seen: seen + n };
                    }
                }
                Mode::Skip(n) => {
                    let k = (input.len() as u64).min(n);
                    input = &input[k as usize..];
                    self.dirs[i].mode = if k == n {
                        Mode::Frames
                    } else {
                        Mode::Skip(n - k)
                    };
                }
                Mode::Hunt { skipped } => {
                    let mut buf = std::mem::take(&mut self.dirs[i].buf);
                    buf.extend_from_slice(input);
                    input = &[];
                    let (at, found) = self.hunt(dir, &buf);
                    let skipped = skipped + at as u64;
                    if found {
                        let h = FrameHeader::parse(&buf[at..]).expect("hunt found a header");
                        self.violation(
                            dir,
                            Some(h.stream).filter(|&s| s != 0),
                            rules::GAP_RESYNC,
                            format!(
                                "After a gap {skipped} bytes were skipped; decoding resumed at a {} frame on stream {}.",
                                type_name(h.kind),
                                h.stream
                            ),
                            out,
                        );
                        out(H2Event::Resync { dir, skipped });
                        self.dirs[i].mode = Mode::Frames;
                        self.feed_inner(dir, &buf[at..], out);
                    } else {
                        buf.drain(..at);
                        self.dirs[i].buf = buf;
                        self.dirs[i].mode = Mode::Hunt { skipped };
                    }
                }
                Mode::Frames => {
                    if self.dirs[i].buf.is_empty() {
                        // Whole frames straight from the input, without copying.
                        while let Some(h) = FrameHeader::parse(input) {
                            let total = FRAME_HEADER_LEN + h.length as usize;
                            if input.len() < total {
                                break;
                            }
                            self.frame(dir, h, &input[FRAME_HEADER_LEN..total], out);
                            input = &input[total..];
                            if self.dirs[i].mode != Mode::Frames {
                                break;
                            }
                        }
                        if self.dirs[i].mode == Mode::Frames && !input.is_empty() {
                            self.dirs[i].buf.extend_from_slice(input);
                            input = &[];
                        }
                    } else {
                        let d = &mut self.dirs[i];
                        let want = match FrameHeader::parse(&d.buf) {
                            Some(h) => FRAME_HEADER_LEN + h.length as usize,
                            None => FRAME_HEADER_LEN,
                        };
                        let n = (want - d.buf.len()).min(input.len());
                        d.buf.extend_from_slice(&input[..n]);
                        input = &input[n..];
                        if let Some(h) = FrameHeader::parse(&d.buf) {
                            if d.buf.len() == FRAME_HEADER_LEN + h.length as usize {
                                let mut buf = std::mem::take(&mut d.buf);
                                self.frame(dir, h, &buf[FRAME_HEADER_LEN..], out);
                                buf.clear();
                                if buf.capacity() <= 64 * 1024 && self.dirs[i].buf.is_empty() {
                                    self.dirs[i].buf = buf;
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Where in `buf` decoding can resume: (offset, found). Not found: `offset` is
    /// where the earliest candidate still waiting for bytes begins (or the bytes that
    /// can be dropped).
    fn hunt(&self, dir: Direction, buf: &[u8]) -> (usize, bool) {
        let mut at = 0;
        while buf.len() - at >= FRAME_HEADER_LEN {
            let h = FrameHeader::parse(&buf[at..]).expect("9 bytes");
            if !self.plausible(dir, &h) {
                at += 1;
                continue;
            }
            let next = at + FRAME_HEADER_LEN + h.length as usize;
            match buf.get(next..) {
                Some(rest) if rest.len() >= FRAME_HEADER_LEN => {
                    let h2 = FrameHeader::parse(rest).expect("9 bytes");
                    if self.plausible(dir, &h2) {
                        return (at, true);
                    }
                    at += 1;
                }
                _ => return (at, false),
            }
        }
        (at, false)
    }

    /// Whether `h` looks like a real frame header of `dir` (for hunting after a gap).
    fn plausible(&self, dir: Direction, h: &FrameHeader) -> bool {
        let d = &self.dirs[dir.index()];
        if h.length > d.max_frame || h.reserved {
            return false;
        }
        let s = h.stream;
        match h.kind {
            DATA => s != 0 && self.streams.contains_key(&s) && h.flags & !0x09 == 0,
            HEADERS => {
                s != 0
                    && h.flags & !0x2d == 0
                    && (dir == Direction::S2C || s % 2 == 1)
                    && h.length > 0
            }
            PRIORITY => s != 0 && h.length == 5 && h.flags == 0,
            RST_STREAM => s != 0 && h.length == 4 && h.flags == 0,
            SETTINGS => {
                s == 0
                    && h.length % 6 == 0
                    && h.flags & !FLAG_ACK == 0
                    && (!h.has(FLAG_ACK) || h.length == 0)
            }
            PING => s == 0 && h.length == 8 && h.flags & !FLAG_ACK == 0,
            GOAWAY => s == 0 && h.length >= 8 && h.flags == 0,
            WINDOW_UPDATE => h.length == 4 && h.flags == 0,
            _ => false,
        }
    }

    fn lose_boundary(
        &mut self,
        dir: Direction,
        _bytes: u64,
        drop_partial: bool,
        out: &mut impl FnMut(H2Event<'_>),
    ) {
        let i = dir.index();
        let partial = if drop_partial {
            std::mem::take(&mut self.dirs[i].buf).len() as u64
        } else {
            0
        };
        let skipped = match self.dirs[i].mode {
            Mode::Hunt { skipped } => skipped + std::mem::take(&mut self.dirs[i].buf).len() as u64,
            _ => partial,
        };
        self.dirs[i].buf.clear();
        self.dirs[i].first_frame_seen = true;
        self.dirs[i].mode = Mode::Hunt { skipped };
        self.dirs[i].block = None;
        self.lose_hpack(dir, HpackLoss::GapHidFrames, out);
        for (&id, s) in self.streams.iter() {
            if !s.ended[i] && (s.ws == Ws::Open || s.request.is_some()) {
                out(H2Event::StreamGap {
                    dir,
                    stream: id,
                    bytes: None,
                    websocket: s.ws == Ws::Open,
                });
            }
        }
    }

    fn lose_hpack(&mut self, dir: Direction, reason: HpackLoss, out: &mut impl FnMut(H2Event<'_>)) {
        let d = &mut self.dirs[dir.index()];
        if d.hpack_synced {
            d.hpack_synced = false;
            out(H2Event::HpackLost { dir, reason });
        }
    }

    /// A frame whose header came but part of whose payload a gap took.
    fn frame_lost(
        &mut self,
        dir: Direction,
        h: FrameHeader,
        partial: &[u8],
        out: &mut impl FnMut(H2Event<'_>),
    ) {
        let i = dir.index();
        out(H2Event::Frame(FrameInfo {
            dir,
            kind: h.kind,
            flags: h.flags,
            length: h.length,
            stream: h.stream,
        }));
        match h.kind {
            DATA => {
                let bytes = if h.has(FLAG_PADDED) {
                    partial
                        .first()
                        .and_then(|&p| h.length.checked_sub(1 + p as u32))
                        .map(u64::from)
                } else {
                    Some(h.length as u64)
                };
                let ws = self.streams.get(&h.stream).map(|s| s.ws == Ws::Open);
                if let Some(ws) = ws {
                    out(H2Event::StreamGap {
                        dir,
                        stream: h.stream,
                        bytes,
                        websocket: ws,
                    });
                    if h.has(FLAG_END_STREAM) {
                        self.stream_end(dir, h.stream, out);
                    }
                }
            }
            HEADERS | PUSH_PROMISE | CONTINUATION => {
                if h.kind == HEADERS {
                    self.open_stream(dir, h.stream, out);
                }
                self.lose_hpack(dir, HpackLoss::GapInBlock, out);
                let end_headers = h.has(FLAG_END_HEADERS);
                if end_headers {
                    self.dirs[i].block = None;
                } else {
                    let kind = if h.kind == PUSH_PROMISE {
                        BlockKind::Push { promised: 0 }
                    } else {
                        BlockKind::Headers {
                            end_stream: h.has(FLAG_END_STREAM),
                        }
                    };
                    self.dirs[i].block = Some(Block {
                        stream: h.stream,
                        kind,
                        buf: Vec::new(),
                        lost: true,
                    });
                }
            }
            SETTINGS => self.violation(
                dir,
                None,
                rules::GAP_RESYNC,
                "A gap took part of a SETTINGS frame: its parameters are unknown.".to_string(),
                out,
            ),
            _ => {}
        }
    }

    fn violation(
        &mut self,
        dir: Direction,
        stream: Option<u32>,
        rule: Rule,
        message: String,
        out: &mut impl FnMut(H2Event<'_>),
    ) {
        out(H2Event::Violation {
            dir,
            stream,
            rule,
            message,
        });
    }

    /// One whole frame.
    fn frame(
        &mut self,
        dir: Direction,
        h: FrameHeader,
        payload: &[u8],
        out: &mut impl FnMut(H2Event<'_>),
    ) {
        let i = dir.index();
        let info = FrameInfo {
            dir,
            kind: h.kind,
            flags: h.flags,
            length: h.length,
            stream: h.stream,
        };
        out(H2Event::Frame(info));
        if !self.dirs[i].first_frame_seen {
            self.dirs[i].first_frame_seen = true;
            if h.kind != SETTINGS || h.has(FLAG_ACK) {
                self.violation(
                    dir,
                    Some(h.stream).filter(|&s| s != 0),
                    rules::PREFACE_NOT_SETTINGS,
                    format!(
                        "The {}'s first frame is {}, not SETTINGS.",
                        side(dir),
                        type_name(h.kind)
                    ),
                    out,
                );
            }
        }
        if h.length > self.dirs[i].max_frame {
            let max = self.dirs[i].max_frame;
            self.violation(
                dir,
                Some(h.stream).filter(|&s| s != 0),
                rules::FRAME_TOO_LARGE,
                format!(
                    "A {} frame of {} bytes exceeds the {} bytes the {} allowed (SETTINGS_MAX_FRAME_SIZE).",
                    type_name(h.kind),
                    h.length,
                    max,
                    side(dir.reverse())
                ),
                out,
            );
        }
        // Inside a header block only its CONTINUATIONs may come.
        if let Some(b) = &self.dirs[i].block {
            if h.kind != CONTINUATION || h.stream != b.stream {
                let (bs, lost) = (b.stream, b.lost);
                self.dirs[i].block = None;
                if !lost {
                    self.violation(
                        dir,
                        Some(bs),
                        rules::CONTINUATION_OUT_OF_SEQUENCE,
                        format!(
                            "A {} frame on stream {} came inside the header block of stream {}, which was never finished.",
                            type_name(h.kind),
                            h.stream,
                            bs
                        ),
                        out,
                    );
                    self.lose_hpack(dir, HpackLoss::Unfinished, out);
                }
            }
        }
        let stream_frame = matches!(
            h.kind,
            DATA | HEADERS | PRIORITY | RST_STREAM | PUSH_PROMISE | CONTINUATION
        );
        let conn_frame = matches!(h.kind, SETTINGS | PING | GOAWAY);
        if stream_frame && h.stream == 0 {
            self.violation(
                dir,
                None,
                rules::STREAM_FRAME_ON_STREAM_ZERO,
                format!(
                    "A {} frame on stream 0 (RFC 9113 {}).",
                    type_name(h.kind),
                    section(h.kind)
                ),
                out,
            );
            return;
        }
        if conn_frame && h.stream != 0 {
            self.violation(
                dir,
                Some(h.stream),
                rules::CONNECTION_FRAME_ON_STREAM,
                format!(
                    "A {} frame on stream {}: it belongs on stream 0 (RFC 9113 {}).",
                    type_name(h.kind),
                    h.stream,
                    section(h.kind)
                ),
                out,
            );
        }
        match h.kind {
            DATA => self.data(dir, h, payload, out),
            HEADERS => self.headers(dir, h, payload, out),
            PRIORITY => {
                if self.fixed_len(dir, &h, 5, out) {
                    self.priority(dir, h.stream, payload, out);
                }
            }
            RST_STREAM => {
                if self.fixed_len(dir, &h, 4, out) {
                    let code = u32::from_be_bytes(payload[..4].try_into().expect("4 bytes"));
                    out(H2Event::RstStream {
                        dir,
                        stream: h.stream,
                        code,
                    });
                    if let Some(s) = self.streams.remove(&h.stream) {
                        self.request_bytes = self.request_bytes.saturating_sub(kept_request(&s));
                        if s.ws == Ws::Open {
                            out(H2Event::WebSocketEnd {
                                stream: h.stream,
                                dir,
                                how: WsStreamEnd::Reset(code),
                            });
                        }
                    }
                }
            }
            SETTINGS => self.settings(dir, h, payload, out),
            PUSH_PROMISE => self.push_promise(dir, h, payload, out),
            PING => {
                if self.fixed_len(dir, &h, 8, out) {
                    out(H2Event::Ping {
                        dir,
                        ack: h.has(FLAG_ACK),
                        payload: payload[..8].try_into().expect("8 bytes"),
                    });
                }
            }
            GOAWAY => {
                if payload.len() < 8 {
                    self.violation(
                        dir,
                        None,
                        rules::BAD_FRAME_LENGTH,
                        format!(
                            "A GOAWAY frame of {} bytes: at least 8 are needed (RFC 9113 6.8).",
                            payload.len()
                        ),
                        out,
                    );
                } else {
                    out(H2Event::GoAway {
                        dir,
                        last_stream: u32::from_be_bytes(payload[..4].try_into().expect("4"))
                            & 0x7fff_ffff,
                        code: u32::from_be_bytes(payload[4..8].try_into().expect("4")),
                        debug: &payload[8..],
                    });
                }
            }
            WINDOW_UPDATE => {
                if self.fixed_len(dir, &h, 4, out) {
                    let increment =
                        u32::from_be_bytes(payload[..4].try_into().expect("4")) & 0x7fff_ffff;
                    out(H2Event::WindowUpdate {
                        dir,
                        stream: h.stream,
                        increment,
                    });
                    if increment == 0 {
                        self.violation(
                            dir,
                            Some(h.stream).filter(|&s| s != 0),
                            rules::WINDOW_UPDATE_ZERO,
                            format!(
                                "A WINDOW_UPDATE on stream {} with an increment of 0.",
                                h.stream
                            ),
                            out,
                        );
                    }
                }
            }
            CONTINUATION => self.continuation(dir, h, payload, out),
            _ => out(H2Event::UnknownFrame(info)),
        }
    }

    fn fixed_len(
        &mut self,
        dir: Direction,
        h: &FrameHeader,
        want: u32,
        out: &mut impl FnMut(H2Event<'_>),
    ) -> bool {
        if h.length == want {
            return true;
        }
        self.violation(
            dir,
            Some(h.stream).filter(|&s| s != 0),
            rules::BAD_FRAME_LENGTH,
            format!(
                "A {} frame of {} bytes: it must be {} (RFC 9113 {}).",
                type_name(h.kind),
                h.length,
                want,
                section(h.kind)
            ),
            out,
        );
        false
    }

    fn priority(
        &mut self,
        dir: Direction,
        stream: u32,
        p: &[u8],
        out: &mut impl FnMut(H2Event<'_>),
    ) {
        let dep = u32::from_be_bytes(p[..4].try_into().expect("4 bytes"));
        let dependency = dep & 0x7fff_ffff;
        out(H2Event::Priority {
            dir,
            stream,
            dependency,
            exclusive: dep & 0x8000_0000 != 0,
            weight: p[4],
        });
        if dependency == stream {
            self.violation(
                dir,
                Some(stream),
                rules::SELF_DEPENDENCY,
                format!("Stream {stream} depends on itself."),
                out,
            );
        }
    }

    /// Removes padding (RFC 9113 §6.1, §6.2, §6.6); `None` after reporting a violation.
    fn unpad<'p>(
        &mut self,
        dir: Direction,
        h: &FrameHeader,
        payload: &'p [u8],
        out: &mut impl FnMut(H2Event<'_>),
    ) -> Option<&'p [u8]> {
        if !h.has(FLAG_PADDED) {
            return Some(payload);
        }
        let pad = payload.first().copied().map(usize::from);
        match pad {
            Some(pad) if pad < payload.len() => Some(&payload[1..payload.len() - pad]),
            _ => {
                self.violation(
                    dir,
                    Some(h.stream),
                    rules::PADDING_TOO_LONG,
                    format!(
                        "A {} frame on stream {} has {} bytes of padding in a {}-byte payload.",
                        type_name(h.kind),
                        h.stream,
                        pad.map_or("an unknown number of".to_string(), |p| p.to_string()),
                        payload.len()
                    ),
                    out,
                );
                None
            }
        }
    }

    fn data(
        &mut self,
        dir: Direction,
        h: FrameHeader,
        payload: &[u8],
        out: &mut impl FnMut(H2Event<'_>),
    ) {
        let Some(bytes) = self.unpad(dir, &h, payload, out) else {
            return;
        };
        let end_stream = h.has(FLAG_END_STREAM);
        let websocket = match self.streams.get(&h.stream) {
            Some(s) => s.ws == Ws::Open,
            None => {
                let initiator = (h.stream % 2 == 0) as usize;
                if h.stream > self.highest[initiator] {
                    self.violation(
                        dir,
                        Some(h.stream),
                        rules::DATA_ON_IDLE_STREAM,
                        format!("DATA on stream {}, which no HEADERS opened.", h.stream),
                        out,
                    );
                }
                false
            }
        };
        out(H2Event::Data {
            dir,
            stream: h.stream,
            bytes,
            end_stream,
            websocket,
        });
        if end_stream {
            self.stream_end(dir, h.stream, out);
        }
    }

    fn stream_end(&mut self, dir: Direction, stream: u32, out: &mut impl FnMut(H2Event<'_>)) {
        let Some(s) = self.streams.get_mut(&stream) else {
            return;
        };
        if s.ended[dir.index()] {
            return;
        }
        s.ended[dir.index()] = true;
        if s.ws == Ws::Open {
            out(H2Event::WebSocketEnd {
                stream,
                dir,
                how: WsStreamEnd::EndStream,
            });
        }
        if s.ended == [true, true] {
            if let Some(s) = self.streams.remove(&stream) {
                self.request_bytes = self.request_bytes.saturating_sub(kept_request(&s));
            }
        }
    }

    /// A stream opened by `dir`'s HEADERS (or known to exist); checks its number.
    fn open_stream(&mut self, dir: Direction, stream: u32, out: &mut impl FnMut(H2Event<'_>)) {
        if self.streams.contains_key(&stream) {
            return;
        }
        if dir == Direction::C2S {
            if stream % 2 == 0 {
                self.violation(
                    dir,
                    Some(stream),
                    rules::BAD_STREAM_ID,
                    format!("The client opened stream {stream}: client streams are odd."),
                    out,
                );
            } else if stream <= self.highest[0] {
                self.violation(
                    dir,
                    Some(stream),
                    rules::BAD_STREAM_ID,
                    format!(
                        "The client opened stream {stream} after stream {}: new streams must be numbered higher.",
                        self.highest[0]
                    ),
                    out,
                );
            }
            self.highest[0] = self.highest[0].max(stream);
        } else if stream % 2 == 0 {
            self.highest[1] = self.highest[1].max(stream);
        }
        self.insert_stream(stream, Stream::new());
    }

    fn insert_stream(&mut self, id: u32, s: Stream) {
        self.request_bytes += kept_request(&s);
        if let Some(old) = self.streams.insert(id, s) {
            self.request_bytes = self.request_bytes.saturating_sub(kept_request(&old));
        }
        while self.streams.len() > MAX_STREAMS {
            if let Some((_, old)) = self.streams.pop_first() {
                self.request_bytes = self.request_bytes.saturating_sub(kept_request(&old));
            }
        }
    }

    /// Heap bytes this layer holds (for the memory budget): frame and header-block
    /// buffers, the HPACK tables (counted at the size the receiver allowed), and the
    /// streams followed with the requests they keep.
    pub fn heap_bytes(&self) -> usize {
        use crate::budget::{btree_bytes, vec_bytes};
        let dir = |d: &DirState| {
            vec_bytes(&d.buf) + d.hpack_allowed + d.block.as_ref().map_or(0, |b| vec_bytes(&b.buf))
        };
        dir(&self.dirs[0])
            + dir(&self.dirs[1])
            + btree_bytes(self.streams.len(), std::mem::size_of::<(u32, Stream)>())
            + self.request_bytes
            + self.pending_upgrade_settings.as_ref().map_or(0, vec_bytes)
    }

    fn headers(
        &mut self,
        dir: Direction,
        h: FrameHeader,
        payload: &[u8],
        out: &mut impl FnMut(H2Event<'_>),
    ) {
        let Some(mut frag) = self.unpad(dir, &h, payload, out) else {
            // The block cannot be found: its HPACK updates are lost.
            self.open_stream(dir, h.stream, out);
            self.lose_hpack(dir, HpackLoss::BadPadding, out);
            return;
        };
        if h.has(FLAG_PRIORITY) {
            if frag.len() < 5 {
                self.violation(
                    dir,
                    Some(h.stream),
                    rules::BAD_FRAME_LENGTH,
                    format!(
                        "A HEADERS frame with the PRIORITY flag and only {} bytes of fragment.",
                        frag.len()
                    ),
                    out,
                );
                self.open_stream(dir, h.stream, out);
                self.lose_hpack(dir, HpackLoss::Unreadable, out);
                return;
            }
            self.priority(dir, h.stream, &frag[..5], out);
            frag = &frag[5..];
        }
        self.open_stream(dir, h.stream, out);
        self.start_block(
            dir,
            h,
            BlockKind::Headers {
                end_stream: h.has(FLAG_END_STREAM),
            },
            frag,
            out,
        );
    }

    fn push_promise(
        &mut self,
        dir: Direction,
        h: FrameHeader,
        payload: &[u8],
        out: &mut impl FnMut(H2Event<'_>),
    ) {
        if dir == Direction::C2S || !self.push_enabled {
            self.violation(
                dir,
                Some(h.stream),
                rules::PUSH_NOT_ALLOWED,
                if dir == Direction::C2S {
                    "The client sent a PUSH_PROMISE: only servers push.".to_string()
                } else {
                    "A PUSH_PROMISE after the client disabled push (SETTINGS_ENABLE_PUSH = 0)."
                        .to_string()
                },
                out,
            );
        }
        let Some(frag) = self.unpad(dir, &h, payload, out) else {
            self.lose_hpack(dir, HpackLoss::BadPadding, out);
            return;
        };
        if frag.len() < 4 {
            self.violation(
                dir,
                Some(h.stream),
                rules::BAD_FRAME_LENGTH,
                format!(
                    "A PUSH_PROMISE with {} bytes: the promised stream needs 4 (RFC 9113 6.6).",
                    frag.len()
                ),
                out,
            );
            self.lose_hpack(dir, HpackLoss::Unreadable, out);
            return;
        }
        let promised = u32::from_be_bytes(frag[..4].try_into().expect("4")) & 0x7fff_ffff;
        self.highest[1] = self.highest[1].max(promised);
        let mut s = Stream::new();
        s.ended[Direction::C2S.index()] = true;
        self.insert_stream(promised, s);
        self.start_block(dir, h, BlockKind::Push { promised }, &frag[4..], out);
    }

    fn start_block(
        &mut self,
        dir: Direction,
        h: FrameHeader,
        kind: BlockKind,
        frag: &[u8],
        out: &mut impl FnMut(H2Event<'_>),
    ) {
        let mut block = Block {
            stream: h.stream,
            kind,
            buf: Vec::new(),
            lost: false,
        };
        self.extend_block(dir, &mut block, frag, out);
        if h.has(FLAG_END_HEADERS) {
            self.finish_block(dir, block, out);
        } else {
            self.dirs[dir.index()].block = Some(block);
        }
    }

    fn extend_block(
        &mut self,
        dir: Direction,
        block: &mut Block,
        frag: &[u8],
        out: &mut impl FnMut(H2Event<'_>),
    ) {
        if block.lost {
            return;
        }
        if block.buf.len() + frag.len() > MAX_HEADER_BLOCK {
            block.lost = true;
            block.buf = Vec::new();
            self.violation(
                dir,
                Some(block.stream),
                rules::HEADER_BLOCK_TOO_LARGE,
                format!(
                    "The header block of stream {} grew past {} bytes: it is not decoded.",
                    block.stream, MAX_HEADER_BLOCK
                ),
                out,
            );
            self.lose_hpack(dir, HpackLoss::TooLarge, out);
            return;
        }
        block.buf.extend_from_slice(frag);
    }

    fn continuation(
        &mut self,
        dir: Direction,
        h: FrameHeader,
        payload: &[u8],
        out: &mut impl FnMut(H2Event<'_>),
    ) {
        let i = dir.index();
        let Some(mut block) = self.dirs[i].block.take() else {
            self.violation(
                dir,
                Some(h.stream),
                rules::CONTINUATION_OUT_OF_SEQUENCE,
                format!(
                    "A CONTINUATION on stream {} with no header block open.",
                    h.stream
                ),
                out,
            );
            self.lose_hpack(dir, HpackLoss::OrphanContinuation, out);
            return;
        };
        self.extend_block(dir, &mut block, payload, out);
        if h.has(FLAG_END_HEADERS) {
            self.finish_block(dir, block, out);
        } else {
            self.dirs[i].block = Some(block);
        }
    }

    /// Decodes a complete header block and reports what it says.
    fn finish_block(&mut self, dir: Direction, block: Block, out: &mut impl FnMut(H2Event<'_>)) {
        let i = dir.index();
        let (stream, end_stream) = match block.kind {
            BlockKind::Headers { end_stream } => (block.stream, end_stream),
            BlockKind::Push { .. } => (block.stream, false),
        };
        let decoded = if block.lost {
            None
        } else if self.dirs[i].hpack_synced {
            match decode_block(&mut self.dirs[i].hpack, &block.buf) {
                Ok(d) => Some(d),
                Err(e) => {
                    self.violation(
                        dir,
                        Some(stream),
                        rules::HPACK_ERROR,
                        format!("The header block of stream {stream} does not decode: {e}."),
                        out,
                    );
                    self.lose_hpack(dir, HpackLoss::DidNotDecode, out);
                    None
                }
            }
        } else {
            // Context lost: a fresh decoder either decodes the block right or fails.
            let allowed = self.dirs[i].hpack_allowed;
            let mut fresh = Decoder::new();
            fresh.set_max_allowed_table_size(allowed);
            fresh.set_max_table_size(allowed);
            match decode_block(&mut fresh, &block.buf) {
                Ok(d) => {
                    if block.buf.first() == Some(&0x20) {
                        self.dirs[i].hpack = fresh;
                        self.dirs[i].hpack_synced = true;
                        out(H2Event::HpackRecovered { dir });
                    }
                    Some(d)
                }
                Err(_) => None,
            }
        };
        let Some((fields, truncated, size)) = decoded else {
            // The client's first block opened a request, even unread: a later block
            // from the client on that stream is its trailers.
            if dir == Direction::C2S && matches!(block.kind, BlockKind::Headers { .. }) {
                if let Some(s) = self.streams.get_mut(&stream) {
                    s.request.get_or_insert_with(Request::default);
                }
            }
            match block.kind {
                BlockKind::Headers { .. } => out(H2Event::HeadersUndecoded {
                    dir,
                    stream,
                    end_stream,
                    block_len: block.buf.len(),
                }),
                BlockKind::Push { promised } => out(H2Event::PushPromise {
                    dir,
                    stream,
                    promised,
                    fields: Vec::new(),
                }),
            }
            if end_stream {
                self.stream_end(dir, stream, out);
            }
            return;
        };
        if truncated {
            self.violation(
                dir,
                Some(stream),
                rules::HEADER_LIST_TOO_LARGE,
                format!(
                    "The header block of stream {stream} ({} bytes) decodes to {size} bytes of header list; only the first {MAX_HEADER_LIST} are kept.",
                    block.buf.len()
                ),
                out,
            );
        }
        match block.kind {
            BlockKind::Headers { end_stream } => {
                out(H2Event::Headers {
                    dir,
                    stream,
                    fields: fields.clone(),
                    end_stream,
                    truncated,
                });
                self.head_view(dir, stream, &fields, end_stream, None, out);
                if end_stream {
                    self.stream_end(dir, stream, out);
                }
            }
            BlockKind::Push { promised } => {
                out(H2Event::PushPromise {
                    dir,
                    stream,
                    promised,
                    fields: fields.clone(),
                });
                self.head_view(Direction::C2S, promised, &fields, true, Some(stream), out);
            }
        }
    }

    /// The request/response view of a decoded header block, and its checks.
    fn head_view(
        &mut self,
        dir: Direction,
        stream: u32,
        fields: &[(Vec<u8>, Vec<u8>)],
        end_stream: bool,
        pushed_on: Option<u32>,
        out: &mut impl FnMut(H2Event<'_>),
    ) {
        let mut v = Checks::new(dir, stream);
        let st = self
            .streams
            .get(&stream)
            .cloned()
            .unwrap_or_else(Stream::new);
        let trailers = match dir {
            Direction::C2S => st.request.is_some() && pushed_on.is_none(),
            Direction::S2C => st.final_response,
        };
        v.fields(fields, trailers);
        if trailers {
            v.flush(out);
            return;
        }
        if dir == Direction::C2S {
            let req = request_of(fields, &mut v);
            if req.protocol.is_some() {
                if req.method.as_deref() != Some("CONNECT") {
                    v.push(
                        rules::PROTOCOL_WITHOUT_CONNECT,
                        format!(
                            "Stream {stream}: :protocol {:?} on a {} request: only an extended CONNECT carries it.",
                            req.protocol.as_deref().unwrap_or(""),
                            req.method.as_deref().unwrap_or("(no :method)")
                        ),
                    );
                } else {
                    if !self.connect_protocol_enabled() && pushed_on.is_none() {
                        v.push(
                            rules::PROTOCOL_NOT_ENABLED,
                            format!(
                                "Stream {stream}: an extended CONNECT (:protocol {:?}) before the server sent SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC 8441 3).",
                                req.protocol.as_deref().unwrap_or("")
                            ),
                        );
                    }
                    let missing: Vec<&str> = [(":path", &req.path), (":scheme", &req.scheme)]
                        .iter()
                        .filter(|(_, v)| v.is_none())
                        .map(|(n, _)| *n)
                        .collect();
                    if !missing.is_empty() {
                        v.push(
                            rules::EXTENDED_CONNECT_INCOMPLETE,
                            format!(
                                "Stream {stream}: an extended CONNECT without {}.",
                                missing.join(" or ")
                            ),
                        );
                    }
                }
            }
            if req.method.as_deref() != Some("CONNECT") {
                let missing: Vec<&str> = [
                    (":method", &req.method),
                    (":scheme", &req.scheme),
                    (":path", &req.path),
                ]
                .iter()
                .filter(|(_, v)| v.is_none())
                .map(|(n, _)| *n)
                .collect();
                if !missing.is_empty() {
                    v.push(
                        rules::MISSING_PSEUDO_HEADER,
                        format!("Stream {stream}: a request without {}.", missing.join(", ")),
                    );
                }
            }
            let websocket = req.is_websocket_connect();
            if websocket && req.header("sec-websocket-version") != Some("13") {
                v.push(
                    rules::WEBSOCKET_VERSION,
                    format!(
                        "Stream {stream}: a WebSocket extended CONNECT with sec-websocket-version {:?}, not \"13\".",
                        req.header("sec-websocket-version").unwrap_or("(absent)")
                    ),
                );
            }
            v.flush(out);
            out(H2Event::Request {
                stream,
                request: req.clone(),
                end_stream,
                pushed_on,
            });
            if let Some(s) = self.streams.get_mut(&stream) {
                self.request_bytes += req.heap_bytes();
                if let Some(old) = s.request.replace(req) {
                    self.request_bytes = self.request_bytes.saturating_sub(old.heap_bytes());
                }
                if websocket && pushed_on.is_none() {
                    s.ws = Ws::Pending;
                }
            }
        } else {
            let resp = response_of(fields, &mut v);
            v.flush(out);
            let status = resp.status;
            let is_final = !matches!(status, Some(100..=199));
            out(H2Event::Response {
                stream,
                response: resp.clone(),
                end_stream,
            });
            let Some(s) = self.streams.get_mut(&stream) else {
                return;
            };
            if !is_final {
                return;
            }
            s.final_response = true;
            if s.ws != Ws::Pending {
                return;
            }
            let ok = matches!(status, Some(200..=299));
            s.ws = if ok { Ws::Open } else { Ws::Failed };
            let request = s.request.clone().unwrap_or_default();
            let offered_subprotocols = request
                .headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case("sec-websocket-protocol"))
                .flat_map(|(_, v)| v.split(','))
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect();
            let offered_extensions = parse_extensions(
                request
                    .headers
                    .iter()
                    .filter(|(n, _)| n.eq_ignore_ascii_case("sec-websocket-extensions"))
                    .map(|(_, v)| v.as_str()),
            );
            let extensions = parse_extensions(
                resp.headers
                    .iter()
                    .filter(|(n, _)| n.eq_ignore_ascii_case("sec-websocket-extensions"))
                    .map(|(_, v)| v.as_str()),
            );
            out(H2Event::WebSocketOpen(Box::new(WebSocketOpen {
                stream,
                subprotocol: resp
                    .header("sec-websocket-protocol")
                    .map(|s| s.trim().to_string()),
                request,
                status,
                response_headers: resp.headers,
                extensions,
                offered_subprotocols,
                offered_extensions,
                ok,
            })));
        }
    }

    fn settings(
        &mut self,
        dir: Direction,
        h: FrameHeader,
        payload: &[u8],
        out: &mut impl FnMut(H2Event<'_>),
    ) {
        let ack = h.has(FLAG_ACK);
        if ack && !payload.is_empty() {
            self.violation(
                dir,
                None,
                rules::SETTINGS_ACK_WITH_PAYLOAD,
                format!("A SETTINGS ACK with {} bytes of payload.", payload.len()),
                out,
            );
            return;
        }
        if payload.len() % 6 != 0 {
            self.violation(
                dir,
                None,
                rules::BAD_FRAME_LENGTH,
                format!(
                    "A SETTINGS frame of {} bytes: not a multiple of 6 (RFC 9113 6.5).",
                    payload.len()
                ),
                out,
            );
            return;
        }
        let params = parse_settings(payload);
        out(H2Event::Settings {
            dir,
            ack,
            params: params.clone(),
            from_upgrade_header: false,
        });
        self.apply_settings(dir, &params, out);
    }

    /// Settings announced by `dir` govern what the other side sends.
    fn apply_settings(
        &mut self,
        dir: Direction,
        params: &[(u16, u32)],
        out: &mut impl FnMut(H2Event<'_>),
    ) {
        let peer = dir.reverse().index();
        for &(id, value) in params {
            let bad =
                |what: &str| format!("{} = {value}: {what}.", setting_name(id).unwrap_or("?"));
            match id {
                SETTINGS_HEADER_TABLE_SIZE => {
                    let allowed = (value as usize).min(MAX_HPACK_TABLE);
                    let d = &mut self.dirs[peer];
                    if allowed > d.hpack_allowed {
                        d.hpack_allowed = allowed;
                        d.hpack.set_max_allowed_table_size(allowed);
                    }
                }
                SETTINGS_ENABLE_PUSH => {
                    if value > 1 {
                        self.violation(
                            dir,
                            None,
                            rules::BAD_SETTING_VALUE,
                            bad("only 0 and 1 are allowed"),
                            out,
                        );
                    } else if dir == Direction::C2S {
                        self.push_enabled = value == 1;
                    }
                }
                SETTINGS_INITIAL_WINDOW_SIZE if value > 0x7fff_ffff => self.violation(
                    dir,
                    None,
                    rules::BAD_SETTING_VALUE,
                    bad("above 2^31 - 1"),
                    out,
                ),
                SETTINGS_MAX_FRAME_SIZE => {
                    if !(DEFAULT_MAX_FRAME_SIZE..=MAX_ALLOWED_FRAME_SIZE).contains(&value) {
                        self.violation(
                            dir,
                            None,
                            rules::BAD_SETTING_VALUE,
                            bad("outside 16384..=16777215"),
                            out,
                        );
                    } else {
                        // The largest size either announced: lenient while an update is in flight.
                        let d = &mut self.dirs[peer];
                        d.max_frame = d.max_frame.max(value);
                    }
                }
                SETTINGS_ENABLE_CONNECT_PROTOCOL => {
                    if value > 1 {
                        self.violation(
                            dir,
                            None,
                            rules::BAD_CONNECT_PROTOCOL_SETTING,
                            bad("only 0 and 1 are allowed"),
                            out,
                        );
                    } else if dir == Direction::S2C {
                        if self.connect_protocol == Some(1) && value == 0 {
                            self.violation(
                                dir,
                                None,
                                rules::BAD_CONNECT_PROTOCOL_SETTING,
                                bad("the server had already sent 1, and must not take it back"),
                                out,
                            );
                        } else {
                            self.connect_protocol = Some(value);
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

/// Decodes one header block: (fields, truncated, RFC 9113 list size).
type Decoded = (Vec<(Vec<u8>, Vec<u8>)>, bool, u64);

fn decode_block(
    dec: &mut Decoder<'static>,
    block: &[u8],
) -> Result<Decoded, loona_hpack::decoder::DecoderError> {
    let mut fields = Vec::new();
    let mut size = 0u64;
    let mut truncated = false;
    dec.decode_with_cb(block, |n, v| {
        size += n.len() as u64 + v.len() as u64 + 32;
        if size <= MAX_HEADER_LIST {
            fields.push((n.into_owned(), v.into_owned()));
        } else {
            truncated = true;
        }
    })?;
    Ok((fields, truncated, size))
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn request_of(fields: &[(Vec<u8>, Vec<u8>)], v: &mut Checks) -> Request {
    let mut r = Request::default();
    for (n, val) in fields {
        let slot = match n.as_slice() {
            b":method" => &mut r.method,
            b":scheme" => &mut r.scheme,
            b":path" => &mut r.path,
            b":authority" => &mut r.authority,
            b":protocol" => &mut r.protocol,
            n if n.starts_with(b":") => {
                v.push(
                    rules::BAD_PSEUDO_HEADER,
                    format!(
                        "Stream {}: pseudo-header {:?} in a request.",
                        v.stream,
                        lossy(n)
                    ),
                );
                continue;
            }
            _ => {
                r.headers.push((lossy(n), lossy(val)));
                continue;
            }
        };
        if slot.is_some() {
            v.push(
                rules::BAD_PSEUDO_HEADER,
                format!("Stream {}: pseudo-header {} repeated.", v.stream, lossy(n)),
            );
        } else {
            *slot = Some(lossy(val));
        }
    }
    r
}

fn response_of(fields: &[(Vec<u8>, Vec<u8>)], v: &mut Checks) -> Response {
    let mut r = Response::default();
    let mut seen_status = false;
    for (n, val) in fields {
        if n.as_slice() == b":status" {
            if seen_status {
                v.push(
                    rules::BAD_PSEUDO_HEADER,
                    format!("Stream {}: :status repeated.", v.stream),
                );
            } else {
                seen_status = true;
                r.status = std::str::from_utf8(val)
                    .ok()
                    .filter(|s| s.len() == 3)
                    .and_then(|s| s.parse().ok());
            }
        } else if n.starts_with(b":") {
            v.push(
                rules::BAD_PSEUDO_HEADER,
                format!(
                    "Stream {}: pseudo-header {:?} in a response.",
                    v.stream,
                    lossy(n)
                ),
            );
        } else {
            r.headers.push((lossy(n), lossy(val)));
        }
    }
    if r.status.is_none() {
        v.push(
            rules::MISSING_PSEUDO_HEADER,
            format!("Stream {}: a response without a valid :status.", v.stream),
        );
    }
    r
}

/// Violations found in one header block, bounded.
struct Checks {
    dir: Direction,
    stream: u32,
    found: Vec<(Rule, String)>,
    more: usize,
}

impl Checks {
    fn new(dir: Direction, stream: u32) -> Checks {
        Checks {
            dir,
            stream,
            found: Vec::new(),
            more: 0,
        }
    }

    fn push(&mut self, rule: Rule, message: String) {
        if self.found.len() < MAX_VIOLATIONS_PER_BLOCK {
            self.found.push((rule, message));
        } else {
            self.more += 1;
        }
    }

    /// Field-level checks common to every header block.
    fn fields(&mut self, fields: &[(Vec<u8>, Vec<u8>)], trailers: bool) {
        let stream = self.stream;
        let mut regular_seen = false;
        for (n, val) in fields {
            if n.starts_with(b":") {
                if trailers {
                    self.push(
                        rules::BAD_PSEUDO_HEADER,
                        format!("Stream {stream}: pseudo-header {:?} in trailers.", lossy(n)),
                    );
                } else if regular_seen {
                    self.push(
                        rules::BAD_PSEUDO_HEADER,
                        format!(
                            "Stream {stream}: pseudo-header {:?} after a regular field.",
                            lossy(n)
                        ),
                    );
                }
                continue;
            }
            regular_seen = true;
            if n.iter().any(u8::is_ascii_uppercase) {
                self.push(
                    rules::UPPERCASE_HEADER_NAME,
                    format!(
                        "Stream {stream}: field name {:?} has uppercase letters.",
                        lossy(n)
                    ),
                );
            }
            let lower = n.to_ascii_lowercase();
            match lower.as_slice() {
                b"connection" | b"upgrade" | b"keep-alive" | b"proxy-connection"
                | b"transfer-encoding" => self.push(
                    rules::CONNECTION_SPECIFIC_HEADER,
                    format!(
                        "Stream {stream}: connection-specific field {:?} in HTTP/2.",
                        lossy(n)
                    ),
                ),
                b"te" if !val.eq_ignore_ascii_case(b"trailers") => self.push(
                    rules::CONNECTION_SPECIFIC_HEADER,
                    format!("Stream {stream}: te {:?}: only \"trailers\" is allowed in HTTP/2.", lossy(val)),
                ),
                b"sec-websocket-key" | b"sec-websocket-accept" => self.push(
                    rules::WEBSOCKET_KEY_IN_H2,
                    format!(
                        "Stream {stream}: {:?} in HTTP/2, where the extended CONNECT replaces the key and accept.",
                        lossy(n)
                    ),
                ),
                _ => {}
            }
        }
    }

    fn flush(&mut self, out: &mut impl FnMut(H2Event<'_>)) {
        for (rule, message) in self.found.drain(..) {
            out(H2Event::Violation {
                dir: self.dir,
                stream: Some(self.stream),
                rule,
                message,
            });
        }
        if self.more > 0 {
            out(H2Event::Violation {
                dir: self.dir,
                stream: Some(self.stream),
                rule: rules::BAD_PSEUDO_HEADER,
                message: format!(
                    "Stream {}: {} more problems in this header block were not reported.",
                    self.stream, self.more
                ),
            });
            self.more = 0;
        }
    }
}

fn type_name(kind: u8) -> String {
    frame_type_name(kind).map_or_else(|| format!("type-{kind:#04x}"), str::to_string)
}

fn side(dir: Direction) -> &'static str {
    match dir {
        Direction::C2S => "client",
        Direction::S2C => "server",
    }
}

fn section(kind: u8) -> &'static str {
    match kind {
        DATA => "6.1",
        HEADERS => "6.2",
        PRIORITY => "6.3",
        RST_STREAM => "6.4",
        SETTINGS => "6.5",
        PUSH_PROMISE => "6.6",
        PING => "6.7",
        GOAWAY => "6.8",
        WINDOW_UPDATE => "6.9",
        CONTINUATION => "6.10",
        _ => "4.1",
    }
}
