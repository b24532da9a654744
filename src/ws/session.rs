//! Both directions of one WebSocket connection: frames, messages, ping/pong and the close.
//!
//! Each direction has its own incremental decoder. Bytes are handled where they
//! arrive: a header may be split anywhere (at most 14 bytes are held), payloads
//! stream through unmasking, UTF-8 checking and inflation without being kept, unless
//! [`WsConfig::keep_payload`] asks for each message's whole payload (bounded).

use std::collections::VecDeque;

use super::close::{close_code_class, close_code_meaning, parse_close_payload, CloseCodeClass};
use super::deflate::{DeflateParams, InflateStop, Inflater};
use super::event::{
    ClosePayload, FrameEvent, MessageEvent, MessageKind, WsEvent, FRAME_HEAD_BYTES,
};
use super::frame::{
    header_len_from_prefix, parse_header, unmask_into, FrameHeader, HeaderParse, Opcode,
    MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN,
};
use super::message::{Preview, Utf8Checker};
use super::sniff::{plausible, Confidence};
use super::violations::{self as rule, Rule};
use super::WsConfig;
use crate::rules::Violation;
use crate::types::{Direction, Timestamp};

/// Frame payload bytes shown as `payload_hex`.
const FRAME_HEX_BYTES: usize = 32;
/// Masked payload is unmasked through a scratch buffer of at most this size.
const SCRATCH: usize = 64 * 1024;

type Out<'a> = dyn FnMut(Option<Direction>, WsEvent) + 'a;

/// The close exchange as the stats see it.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct CloseSummary {
    /// Who sent the first close; `None` for an abnormal end.
    pub initiator: Option<Direction>,
    /// The first close's code (1006 for an abnormal end, which is never on the wire).
    pub code: Option<u16>,
    /// The first close's reason (raw; make it safe before display).
    pub reason: String,
    /// The peer answered with a close.
    pub echoed: bool,
    /// Both closes were seen before the TCP connection ended (both sides' FIN, or a RST
    /// reported for both); a half-close by the initiator before the echo is still clean.
    pub clean: bool,
    /// First close to its echo.
    pub echo_ms: Option<f64>,
    /// First close to the first TCP FIN or RST.
    pub fin_ms: Option<f64>,
}

/// Per-connection counters; arrays are indexed by [`Direction::index`] (`[c2s, s2c]`).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct WsStats {
    /// Frames per direction.
    pub frames: [u64; 2],
    /// Complete data messages per direction.
    pub messages: [u64; 2],
    /// Of those, permessage-deflate ones.
    pub compressed_messages: [u64; 2],
    /// Frame bytes on the wire, headers included.
    pub wire_bytes: [u64; 2],
    /// Payload bytes as the headers announce them.
    pub payload_bytes: [u64; 2],
    /// Bytes produced by inflation.
    pub inflated_bytes: [u64; 2],
    /// Pings sent.
    pub pings: [u64; 2],
    /// Pongs sent.
    pub pongs: [u64; 2],
    /// Pongs that matched no ping.
    pub unsolicited_pongs: u64,
    /// Pings never answered.
    pub unanswered_pings: u64,
    /// Ping-to-pong round trips in ms (the first `max_samples`).
    pub ping_rtts_ms: Vec<f64>,
    /// Gaps between consecutive pings of one direction in ms (the first `max_samples`).
    pub ping_gaps_ms: Vec<f64>,
    /// Violations and notes emitted.
    pub violations: u64,
    /// Messages lost to gaps or abandoned by a new message.
    pub lost_messages: u64,
    /// Stream gaps reported.
    pub gaps: u64,
    /// Bytes skipped while hunting for a frame boundary after a gap.
    pub skipped_bytes: u64,
    /// The close exchange, once it is known.
    pub close: Option<CloseSummary>,
}

impl WsStats {
    /// The heartbeat interval: the median gap between pings of one direction.
    pub fn heartbeat_interval_ms(&self) -> Option<f64> {
        median(&self.ping_gaps_ms)
    }

    /// The median ping round trip.
    pub fn median_rtt_ms(&self) -> Option<f64> {
        median(&self.ping_rtts_ms)
    }
}

fn median(v: &[f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let n = s.len();
    Some(if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    })
}

/// What the payload of the frame being read is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// Part of the open data message.
    Data,
    /// Close, ping, pong, reserved control: payload kept (at most 125 bytes).
    Control,
    /// Read past (reserved data opcode, orphan continuation).
    Skip,
}

struct FrameState {
    h: FrameHeader,
    pos: u64,
    role: Role,
    /// The first payload bytes (unmasked) for `payload_hex`: `hex[..hex_len]`.
    hex: [u8; FRAME_HEX_BYTES],
    hex_len: usize,
    control: Vec<u8>,
    /// Some payload bytes were lost to a gap.
    damaged: bool,
}

struct MsgState {
    kind: MessageKind,
    compressed: bool,
    frames: u32,
    len: u64,
    wire_len: u64,
    compressed_len: u64,
    comp_seen: u64,
    preview: Preview,
    utf8: Option<Utf8Checker>,
    utf8_reported: bool,
    inflating: bool,
    damaged: bool,
    /// The whole payload, when kept (bounded by `max_payload_bytes`).
    payload: Option<Vec<u8>>,
    /// Bytes of the payload were not kept (the bound, or inflation stopped).
    payload_truncated: bool,
}

impl MsgState {
    /// Keeps `bytes` of the payload, within `limit`.
    fn keep(&mut self, bytes: &[u8], limit: u64) {
        if let Some(p) = self.payload.as_mut() {
            let room = usize::try_from(limit.saturating_sub(p.len() as u64)).unwrap_or(usize::MAX);
            if bytes.len() > room {
                self.payload_truncated = true;
            }
            p.extend_from_slice(&bytes[..bytes.len().min(room)]);
        }
    }

    /// True while payload bytes are still kept.
    fn keeps(&self) -> bool {
        self.payload.is_some() && !self.payload_truncated
    }
}

enum Sync {
    /// At a known position in the frame structure.
    Synced,
    /// Skipping exactly this many bytes to the next frame boundary.
    Skip(u64),
    /// Looking for a plausible header; `skipped` bytes dropped so far.
    Hunting { skipped: u64, why: &'static str },
}

struct DirState {
    sync: Sync,
    hdr: [u8; MAX_HEADER_LEN],
    hdr_len: usize,
    frame: Option<FrameState>,
    hunt: Vec<u8>,
    msg: Option<MsgState>,
    /// Fragment state unknown (mid-stream start or after a resync): continuations are not violations.
    orphan: bool,
    inflater: Option<Inflater>,
    /// The inflater's window no longer matches the sender's (gap, error, bound): reset it.
    context_lost: bool,
    /// The window was reset without the sender knowing (or never known: mid-stream).
    window_unknown: bool,
    deflate_note: bool,
    /// The MASK bit of this direction's last frame, for hunting.
    last_masked: Option<bool>,
    close_sent: Option<Timestamp>,
    after_close_reported: bool,
    /// Pings awaiting a pong: payload, time, and whether a pong is owed at all.
    pings: VecDeque<(Vec<u8>, Timestamp, bool)>,
    last_ping: Option<Timestamp>,
    scratch: Vec<u8>,
}

impl DirState {
    /// Heap bytes of this direction's buffers (for the memory budget).
    #[inline]
    fn heap_bytes(&self) -> usize {
        use crate::budget::{deque_bytes, vec_bytes};
        self.frame.as_ref().map_or(0, |f| vec_bytes(&f.control))
            + vec_bytes(&self.hunt)
            + self.msg.as_ref().map_or(0, |m| m.payload.as_ref().map_or(0, vec_bytes))
            + self.inflater.as_ref().map_or(0, Inflater::heap_bytes)
            // A ping's payload is at most 125 bytes: counted at that, not walked.
            + deque_bytes(&self.pings)
            + self.pings.len() * (MAX_CONTROL_PAYLOAD as usize + crate::budget::ALLOC_OVERHEAD)
            + vec_bytes(&self.scratch)
    }

    fn new(sync: Sync) -> Self {
        DirState {
            orphan: matches!(sync, Sync::Hunting { .. }),
            sync,
            hdr: [0; MAX_HEADER_LEN],
            hdr_len: 0,
            frame: None,
            hunt: Vec::new(),
            msg: None,
            inflater: None,
            context_lost: false,
            window_unknown: false,
            deflate_note: false,
            last_masked: None,
            close_sent: None,
            after_close_reported: false,
            pings: VecDeque::new(),
            last_ping: None,
            scratch: Vec::new(),
        }
    }
}

struct FirstClose {
    dir: Direction,
    ts: Timestamp,
}

/// Both directions of one WebSocket connection.
pub struct WsSession {
    cfg: WsConfig,
    deflate: Option<DeflateParams>,
    mid_stream: bool,
    mid_note_done: bool,
    confidence: Option<Confidence>,
    dirs: [DirState; 2],
    first_close: Option<FirstClose>,
    close_emitted: bool,
    /// The first FIN or RST of either side.
    tcp_end: Option<Timestamp>,
    /// FIN or RST per side: the connection is over when both are set.
    tcp_ends: [Option<Timestamp>; 2],
    ended: bool,
    /// The opening handshake succeeded; when it did not, the client was right to drop
    /// the connection without a close frame (RFC 6455 4.1: _Fail the WebSocket Connection_).
    established: bool,
    /// Carried by an HTTP/2 stream (RFC 8441), which may end on its own.
    over_h2: bool,
    stats: WsStats,
}

fn dir_of(i: usize) -> Direction {
    if i == 0 {
        Direction::C2S
    } else {
        Direction::S2C
    }
}

fn violation(r: Rule, message: String) -> WsEvent {
    WsEvent::Violation(Violation::new(r, message))
}

fn kind_name(k: MessageKind) -> &'static str {
    match k {
        MessageKind::Text => "text",
        MessageKind::Binary => "binary",
    }
}

impl WsSession {
    /// Heap bytes this session holds (for the memory budget): both directions'
    /// buffers (a message's payload when kept, the inflate state, pings awaiting
    /// pongs, bytes held while hunting for a frame) and the samples kept for medians.
    #[inline]
    pub fn heap_bytes(&self) -> usize {
        use crate::budget::{string_bytes, vec_bytes};
        self.dirs[0].heap_bytes()
            + self.dirs[1].heap_bytes()
            + vec_bytes(&self.stats.ping_rtts_ms)
            + vec_bytes(&self.stats.ping_gaps_ms)
            + self
                .stats
                .close
                .as_ref()
                .map_or(0, |c| string_bytes(&c.reason))
    }

    /// Marks the opening handshake as failed (the 101 broke a rule, e.g. a wrong
    /// Accept): the client then fails the connection, so ending it without a close
    /// frame is no `abnormal_closure`.
    pub fn set_established(&mut self, established: bool) {
        self.established = established;
    }

    /// After a successful upgrade. `deflate` is Some when permessage-deflate was accepted.
    pub fn new(cfg: &WsConfig, deflate: Option<DeflateParams>) -> Self {
        WsSession {
            cfg: cfg.clone(),
            deflate,
            mid_stream: false,
            mid_note_done: true,
            confidence: None,
            dirs: [DirState::new(Sync::Synced), DirState::new(Sync::Synced)],
            first_close: None,
            close_emitted: false,
            tcp_end: None,
            tcp_ends: [None, None],
            ended: false,
            established: true,
            over_h2: false,
            stats: WsStats::default(),
        }
    }

    /// The WebSocket rides an HTTP/2 stream (RFC 8441): its end is the stream's,
    /// not the TCP connection's.
    pub fn over_h2_stream(mut self) -> Self {
        self.over_h2 = true;
        self
    }

    /// Mid-stream: no handshake seen. Each direction first hunts for a plausible
    /// header (the capture may begin inside a frame), continuation frames of a message
    /// begun before the capture are not violations, and frames carry `mid_stream`.
    /// Whether permessage-deflate was negotiated is unknown: RSV1 is accepted, inflation
    /// is tried with a fresh window, and a failure is said plainly.
    pub fn new_mid_stream(cfg: &WsConfig) -> Self {
        let hunting = || Sync::Hunting {
            skipped: 0,
            why: "the capture began after the handshake",
        };
        WsSession {
            mid_stream: true,
            mid_note_done: false,
            dirs: [DirState::new(hunting()), DirState::new(hunting())],
            ..WsSession::new(cfg, None)
        }
    }

    /// How sure the mid-stream recognition ([`crate::ws::sniff`]) was, for the note
    /// emitted with the first bytes.
    pub fn with_confidence(mut self, confidence: Confidence) -> Self {
        self.confidence = Some(confidence);
        self
    }

    /// True when decoding without the handshake.
    pub fn is_mid_stream(&self) -> bool {
        self.mid_stream
    }

    /// Stats for the connection.
    pub fn stats(&self) -> &WsStats {
        &self.stats
    }

    /// True when RSV1 means "compressed" for this connection.
    fn deflate_active(&self) -> bool {
        self.deflate.is_some() || self.mid_stream
    }

    fn emit(&mut self, out: &mut Out<'_>, dir: Option<Direction>, r: Rule, message: String) {
        self.stats.violations += 1;
        out(dir, violation(r, message));
    }

    /// Stream bytes from one direction; `ts` = capture time of the packet that carried them.
    pub fn feed(
        &mut self,
        dir: Direction,
        data: &[u8],
        ts: Timestamp,
        out: &mut impl FnMut(Option<Direction>, WsEvent),
    ) {
        self.feed_dyn(dir, data, ts, out);
    }

    fn feed_dyn(&mut self, dir: Direction, mut data: &[u8], ts: Timestamp, out: &mut Out<'_>) {
        if !self.mid_note_done && !data.is_empty() {
            self.mid_note_done = true;
            let sure = match self.confidence {
                Some(Confidence::High) => " (high confidence: several consistent frames)",
                Some(Confidence::Medium) => " (medium confidence: one or two frames)",
                Some(Confidence::Low) => " (low confidence: a single plausible header)",
                None => "",
            };
            let msg = format!("The capture began after the WebSocket handshake: frames are recognised from their structure{sure}, and whether permessage-deflate was negotiated, and with which window, is unknown.");
            self.emit(out, None, rule::MID_STREAM, msg);
        }
        let i = dir.index();
        while !data.is_empty() {
            match self.dirs[i].sync {
                Sync::Synced => {}
                Sync::Skip(n) => {
                    let take = n.min(data.len() as u64);
                    data = &data[take as usize..];
                    self.dirs[i].sync = if take == n {
                        Sync::Synced
                    } else {
                        Sync::Skip(n - take)
                    };
                    continue;
                }
                Sync::Hunting { .. } => {
                    data = self.hunt(dir, data, ts, out);
                    continue;
                }
            }
            if self.dirs[i].frame.is_some() {
                data = self.payload(dir, data, ts, out);
                continue;
            }
            // A header: parse in place when it is whole, else gather it (at most 14 bytes).
            let d = &mut self.dirs[i];
            if d.hdr_len == 0 {
                match parse_header(data) {
                    HeaderParse::Done(h) => {
                        data = &data[usize::from(h.header_len)..];
                        self.start_frame(dir, h, ts, out);
                    }
                    HeaderParse::NeedMore(_) => {
                        d.hdr[..data.len()].copy_from_slice(data);
                        d.hdr_len = data.len();
                        data = &[];
                    }
                }
                continue;
            }
            let need = header_len_from_prefix(&d.hdr[..d.hdr_len]).unwrap_or(2);
            if d.hdr_len < need {
                let take = (need - d.hdr_len).min(data.len());
                d.hdr[d.hdr_len..d.hdr_len + take].copy_from_slice(&data[..take]);
                d.hdr_len += take;
                data = &data[take..];
            }
            // The second byte may have announced a longer header: complete only when whole.
            let need = header_len_from_prefix(&d.hdr[..d.hdr_len]).unwrap_or(2);
            if d.hdr_len >= need {
                let parsed = parse_header(&d.hdr[..d.hdr_len]);
                d.hdr_len = 0;
                if let HeaderParse::Done(h) = parsed {
                    self.start_frame(dir, h, ts, out);
                }
            }
        }
    }

    /// Hunts for a plausible frame header in `data` (after what is already held).
    /// Returns what is left to decode normally once one is found.
    fn hunt<'a>(
        &mut self,
        dir: Direction,
        data: &'a [u8],
        ts: Timestamp,
        out: &mut Out<'_>,
    ) -> &'a [u8] {
        let i = dir.index();
        let d = &mut self.dirs[i];
        let Sync::Hunting { mut skipped, why } = d.sync else {
            return data;
        };
        let expect = d.last_masked.or(if self.mid_stream {
            Some(dir == Direction::C2S)
        } else {
            None
        });
        // Only what fits in the hunt buffer is taken now; the rest comes back through feed.
        let cap = self.cfg.max_hunt_bytes.max(2 * MAX_HEADER_LEN);
        let room = cap.saturating_sub(d.hunt.len());
        let take = room.min(data.len());
        d.hunt.extend_from_slice(&data[..take]);
        let rest = &data[take..];
        let buf = &d.hunt;
        let mut found = None;
        let mut wait_at = None;
        for at in 0..buf.len() {
            match parse_header(&buf[at..]) {
                HeaderParse::NeedMore(_) => {
                    wait_at = Some(at);
                    break;
                }
                HeaderParse::Done(h) => {
                    if !plausible(&h, expect) {
                        continue;
                    }
                    // A candidate is taken when the next header, right after its frame, is
                    // plausible too, or when its frame ends exactly where the bytes do (segments
                    // often end on frame boundaries). While the frame could still fit in the
                    // buffer, wait for its end; a frame too long for the buffer is taken on trust.
                    let end = (at as u64).saturating_add(h.wire_len());
                    let full = buf.len() >= cap;
                    let verdict = match usize::try_from(end).ok().and_then(|e| buf.get(e..)) {
                        Some([]) => Some(true),
                        Some(next) => match parse_header(next) {
                            HeaderParse::Done(h2) => Some(plausible(&h2, Some(h.mask.is_some()))),
                            HeaderParse::NeedMore(_) => None,
                        },
                        None if end - at as u64 > cap as u64 => Some(true),
                        None => None,
                    };
                    match verdict {
                        Some(true) => {
                            found = Some(at);
                            break;
                        }
                        Some(false) => {}
                        None if full => {
                            found = Some(at);
                            break;
                        }
                        None => {
                            wait_at = Some(at);
                            break;
                        }
                    }
                }
            }
        }
        match found {
            Some(at) => {
                skipped += at as u64;
                let held = std::mem::take(&mut d.hunt);
                d.sync = Sync::Synced;
                d.orphan = true;
                self.stats.skipped_bytes += skipped;
                if skipped > 0 || !self.mid_stream {
                    let msg = format!(
                        "{why}: skipped {skipped} bytes of the {dir} stream and resumed at the first plausible frame header (a frame boundary that is likely, not proven)."
                    );
                    self.emit(out, Some(dir), rule::GAP_RESYNC, msg);
                }
                self.feed_dyn(dir, &held[at..], ts, out);
            }
            None => {
                // Keep the bytes that could still begin a header; drop the rest.
                // Every position before `wait_at` was rejected; a header may begin there.
                let keep_from = wait_at.unwrap_or(buf.len());
                skipped += keep_from as u64;
                d.hunt.drain(..keep_from);
                d.sync = Sync::Hunting { skipped, why };
            }
        }
        rest
    }

    fn start_frame(&mut self, dir: Direction, h: FrameHeader, ts: Timestamp, out: &mut Out<'_>) {
        let i = dir.index();
        let s = &mut self.stats;
        s.frames[i] += 1;
        s.wire_bytes[i] = s.wire_bytes[i].saturating_add(h.wire_len());
        s.payload_bytes[i] = s.payload_bytes[i].saturating_add(h.len);
        self.dirs[i].last_masked = Some(h.mask.is_some());
        let op = h.opcode;
        let d = Some(dir);

        match (dir, h.mask.is_some()) {
            (Direction::C2S, false) => {
                self.emit(out, d, rule::UNMASKED_CLIENT_FRAME, format!("The client sent a {op} frame without a mask; every client frame must be masked."))
            }
            (Direction::S2C, true) => {
                self.emit(out, d, rule::MASKED_SERVER_FRAME, format!("The server sent a masked {op} frame; server frames must not be masked."))
            }
            _ => {}
        }
        if h.non_minimal_length {
            self.emit(
                out,
                d,
                rule::NON_MINIMAL_LENGTH,
                format!(
                    "A {dir} {op} frame encodes its length {} with more bytes than needed.",
                    h.len
                ),
            );
        }
        if h.length_top_bit {
            self.emit(
                out,
                d,
                rule::LENGTH_TOP_BIT_SET,
                format!(
                    "A {dir} {op} frame has a 64-bit length with the most significant bit set."
                ),
            );
        }
        if let Opcode::Reserved(v) = op {
            self.emit(
                out,
                d,
                rule::RESERVED_OPCODE,
                format!("A {dir} frame uses the reserved opcode 0x{v:x}."),
            );
        }
        let allowed_rsv = if self.deflate_active() { 4 } else { 0 };
        if h.rsv & !allowed_rsv != 0 {
            let what = if allowed_rsv == 0 {
                "no extension was negotiated"
            } else {
                "only permessage-deflate (RSV1) was negotiated"
            };
            self.emit(
                out,
                d,
                rule::RSV_WITHOUT_EXTENSION,
                format!("A {dir} {op} frame sets RSV bits {:03b} but {what}.", h.rsv),
            );
        } else if h.rsv1() && op.is_control() {
            self.emit(out, d, rule::RSV1_ON_CONTROL, format!("A {dir} {op} frame sets RSV1, which permessage-deflate allows only on the first frame of a data message."));
        } else if h.rsv1() && op == Opcode::Continuation {
            self.emit(out, d, rule::RSV1_ON_CONTINUATION, format!("A {dir} continuation frame sets RSV1, which permessage-deflate allows only on the first frame of a message."));
        }
        if op.is_control() {
            if h.len > MAX_CONTROL_PAYLOAD {
                self.emit(out, d, rule::CONTROL_FRAME_TOO_LONG, format!("A {dir} {op} frame carries {} payload bytes; control frames carry at most 125.", h.len));
            }
            if !h.fin {
                self.emit(
                    out,
                    d,
                    rule::CONTROL_FRAME_FRAGMENTED,
                    format!(
                        "A {dir} {op} frame has FIN clear; control frames must not be fragmented."
                    ),
                );
            }
        }
        // RFC 6455 5.5.1 forbids data frames (and so a second close) after a close; a ping
        // or pong is not data, so it is not reported.
        let after_close_counts = !matches!(op, Opcode::Ping | Opcode::Pong);
        if after_close_counts
            && self.dirs[i].close_sent.is_some()
            && !self.dirs[i].after_close_reported
        {
            self.dirs[i].after_close_reported = true;
            self.emit(
                out,
                d,
                rule::FRAME_AFTER_CLOSE,
                format!("The {dir} side sent a {op} frame after its own close frame."),
            );
        }

        let role = match op {
            Opcode::Text | Opcode::Binary => {
                let kind = if op == Opcode::Text {
                    MessageKind::Text
                } else {
                    MessageKind::Binary
                };
                if let Some(old) = self.dirs[i].msg.take() {
                    self.stats.lost_messages += 1;
                    let msg = format!(
                        "A {dir} {op} frame began a new message while a fragmented {} message ({} frames) was unfinished; that message is abandoned.",
                        kind_name(old.kind),
                        old.frames
                    );
                    self.emit(out, d, rule::DATA_INSIDE_FRAGMENTED_MESSAGE, msg);
                }
                self.dirs[i].orphan = false;
                let compressed = h.rsv1() && self.deflate_active();
                if compressed {
                    self.prepare_inflater(dir, out);
                }
                self.dirs[i].msg = Some(MsgState {
                    kind,
                    compressed,
                    frames: 0,
                    len: 0,
                    wire_len: 0,
                    compressed_len: 0,
                    comp_seen: 0,
                    preview: Preview::new(if self.cfg.detail {
                        self.cfg.preview_bytes
                    } else {
                        0
                    }),
                    utf8: (kind == MessageKind::Text).then(Utf8Checker::new),
                    utf8_reported: false,
                    inflating: compressed,
                    damaged: false,
                    payload: self.cfg.keep_payload.then(Vec::new),
                    payload_truncated: false,
                });
                Role::Data
            }
            Opcode::Continuation => {
                if self.dirs[i].msg.is_some() {
                    Role::Data
                } else if self.dirs[i].orphan {
                    if h.fin {
                        self.dirs[i].orphan = false;
                    }
                    Role::Skip
                } else {
                    self.emit(out, d, rule::CONTINUATION_WITHOUT_MESSAGE, format!("A {dir} continuation frame arrived with no fragmented message to continue."));
                    Role::Skip
                }
            }
            Opcode::Reserved(v) if v < 8 => Role::Skip,
            _ => Role::Control,
        };
        if role == Role::Data {
            if let Some(m) = self.dirs[i].msg.as_mut() {
                m.frames = m.frames.saturating_add(1);
                m.wire_len = m.wire_len.saturating_add(h.wire_len());
                if m.compressed {
                    m.compressed_len = m.compressed_len.saturating_add(h.len);
                } else {
                    m.len = m.len.saturating_add(h.len);
                }
            }
        }
        self.dirs[i].frame = Some(FrameState {
            h,
            pos: 0,
            role,
            hex: [0; FRAME_HEX_BYTES],
            hex_len: 0,
            control: Vec::new(),
            damaged: false,
        });
        if h.len == 0 {
            self.end_frame(dir, ts, out);
        }
    }

    fn prepare_inflater(&mut self, dir: Direction, out: &mut Out<'_>) {
        let i = dir.index();
        let (no_takeover, bits) = match (self.deflate, dir) {
            (Some(p), Direction::C2S) => (p.client_no_context_takeover, p.client_max_window_bits),
            (Some(p), Direction::S2C) => (p.server_no_context_takeover, p.server_max_window_bits),
            (None, _) => (false, None),
        };
        if self.mid_stream && !self.dirs[i].deflate_note {
            self.dirs[i].deflate_note = true;
            self.emit(
                out,
                Some(dir),
                rule::DEFLATE_PARAMS_UNKNOWN,
                format!("{dir} frames set RSV1 but the handshake was not captured: inflating with a fresh 32 KiB window, so messages that refer to data sent before the capture cannot be inflated."),
            );
        }
        let mid = self.mid_stream;
        let d = &mut self.dirs[i];
        match d.inflater.as_mut() {
            None => {
                d.inflater = Some(Inflater::with_window_bits(bits.unwrap_or(15)));
                d.window_unknown = mid;
            }
            Some(inf) => {
                if no_takeover || inf.ended() || d.context_lost {
                    inf.reset();
                }
            }
        }
        if d.context_lost {
            d.context_lost = false;
            d.window_unknown = true;
        }
    }

    /// Streams payload bytes of the current frame; returns the bytes after the frame.
    fn payload<'a>(
        &mut self,
        dir: Direction,
        data: &'a [u8],
        ts: Timestamp,
        out: &mut Out<'_>,
    ) -> &'a [u8] {
        let i = dir.index();
        let Some(f) = self.dirs[i].frame.as_ref() else {
            return data;
        };
        let remaining = f.h.len - f.pos;
        let take = remaining.min(data.len() as u64) as usize;
        let (chunk, rest) = data.split_at(take);
        let mut done = 0;
        while done < chunk.len() {
            let piece = &chunk[done..(done + SCRATCH).min(chunk.len())];
            self.payload_piece(dir, piece, out);
            done += piece.len();
        }
        let finished = self.dirs[i]
            .frame
            .as_ref()
            .is_some_and(|f| f.pos == f.h.len);
        if finished {
            self.end_frame(dir, ts, out);
        }
        rest
    }

    fn payload_piece(&mut self, dir: Direction, piece: &[u8], out: &mut Out<'_>) {
        let i = dir.index();
        let cfg = &self.cfg;
        let DirState {
            frame,
            msg,
            scratch,
            inflater,
            context_lost,
            window_unknown,
            ..
        } = &mut self.dirs[i];
        let Some(f) = frame.as_mut() else { return };
        let offset = f.pos;
        f.pos += piece.len() as u64;
        // How many bytes of this piece are looked at: all of them while a text message is
        // checked or a message inflated, otherwise only what the previews still want.
        let hex_room = if cfg.detail {
            FRAME_HEX_BYTES - f.hex_len
        } else {
            0
        };
        let mut want = hex_room;
        if f.role == Role::Control {
            want = want.max(
                MAX_CONTROL_PAYLOAD as usize - f.control.len().min(MAX_CONTROL_PAYLOAD as usize),
            );
        }
        let data_msg = if f.role == Role::Data {
            msg.as_mut().filter(|m| !m.damaged)
        } else {
            None
        };
        if let Some(m) = data_msg.as_ref() {
            if m.inflating
                || (!m.compressed && m.keeps())
                || (!m.compressed && m.utf8.is_some() && !m.utf8_reported)
            {
                want = piece.len();
            } else if !m.compressed && m.preview.wants_more() {
                want = want.max(cfg.preview_bytes);
            }
        }
        let want = want.min(piece.len());
        if want == 0 {
            return;
        }
        let bytes: &[u8] = match f.h.mask {
            Some(key) => {
                unmask_into(scratch, &piece[..want], key, offset);
                scratch
            }
            None => &piece[..want],
        };
        if hex_room > 0 {
            let n = hex_room.min(bytes.len());
            f.hex[f.hex_len..f.hex_len + n].copy_from_slice(&bytes[..n]);
            f.hex_len += n;
        }
        if f.role == Role::Control && f.control.len() < MAX_CONTROL_PAYLOAD as usize {
            let n = (MAX_CONTROL_PAYLOAD as usize - f.control.len()).min(bytes.len());
            f.control.extend_from_slice(&bytes[..n]);
        }
        let Some(m) = data_msg else { return };
        let mut events: Vec<(Rule, String)> = Vec::new();
        if m.compressed {
            if !m.inflating {
                return;
            }
            m.comp_seen += bytes.len() as u64;
            if let Some(inf) = inflater.as_mut() {
                let r = inflate_into(inf, m, bytes, cfg, false);
                if let Some(ev) = inflate_outcome(r, m, dir, context_lost, *window_unknown) {
                    events.push(ev);
                }
            }
        } else {
            m.preview.push(bytes);
            m.keep(bytes, cfg.max_payload_bytes);
            if let Some(u) = m.utf8.as_mut() {
                u.push(bytes);
            }
        }
        if let Some(ev) = utf8_event(m, dir, false) {
            events.push(ev);
        }
        for (r, msg) in events {
            self.emit(out, Some(dir), r, msg);
        }
    }

    fn end_frame(&mut self, dir: Direction, ts: Timestamp, out: &mut Out<'_>) {
        let i = dir.index();
        let Some(f) = self.dirs[i].frame.take() else {
            return;
        };
        let h = f.h;
        let mut close = None;
        let mut rtt_ms = None;
        let mut close_completes = false;
        if f.role == Role::Control && !f.damaged {
            match h.opcode {
                Opcode::Close => {
                    let p = parse_close_payload(&f.control);
                    if p.one_byte {
                        self.emit(out, Some(dir), rule::CLOSE_PAYLOAD_ONE_BYTE, format!("A {dir} close frame has a 1-byte payload; a close payload is empty or starts with a 2-byte code."));
                    }
                    if let Some(code) = p.code {
                        if close_code_class(code) == CloseCodeClass::Invalid {
                            self.emit(out, Some(dir), rule::INVALID_CLOSE_CODE, format!("A {dir} close frame carries code {code} ({}), which must not appear on the wire.", close_code_meaning(code)));
                        }
                    }
                    if let Some(at) = p.invalid_utf8_at {
                        // A reason cut at the 125 kept bytes of an oversized frame may end mid-character.
                        let cut = h.len > MAX_CONTROL_PAYLOAD && at + 2 + 4 > f.control.len();
                        if !cut {
                            self.emit(out, Some(dir), rule::INVALID_UTF8_CLOSE_REASON, format!("A {dir} close reason is not valid UTF-8 at byte {at} of the reason."));
                        }
                    }
                    close = Some(ClosePayload {
                        code: p.code,
                        reason: p.reason.clone(),
                    });
                    close_completes = self.on_close(dir, ts, p.code, p.reason);
                }
                Opcode::Ping => {
                    // No pong is owed for a ping that broke the rules (the peer fails
                    // the connection, RFC 6455 7.1.7) or came after the sender's own
                    // close (its peer has received a Close, 5.5.2).
                    let owed =
                        h.fin && h.len <= MAX_CONTROL_PAYLOAD && self.dirs[i].close_sent.is_none();
                    self.on_ping(dir, ts, f.control.clone(), owed)
                }
                Opcode::Pong => rtt_ms = self.on_pong(dir, ts, &f.control, out),
                _ => {}
            }
        } else if h.opcode == Opcode::Close {
            // Damaged by a gap: the close happened, its contents are lost.
            close = Some(ClosePayload {
                code: None,
                reason: String::new(),
            });
            close_completes = self.on_close(dir, ts, None, String::new());
        }
        // Finish a message whose last frame this is (before the frame event, so that a
        // violation found at the end is emitted when it is detected).
        let mut message = None;
        if f.role == Role::Data && h.fin {
            if let Some(mut m) = self.dirs[i].msg.take() {
                let mut events: Vec<(Rule, String)> = Vec::new();
                if m.compressed && m.inflating && !m.damaged {
                    let DirState {
                        inflater,
                        context_lost,
                        window_unknown,
                        ..
                    } = &mut self.dirs[i];
                    if let Some(inf) = inflater.as_mut() {
                        let r = inflate_into(inf, &mut m, &[], &self.cfg, true);
                        if let Some(ev) =
                            inflate_outcome(r, &mut m, dir, context_lost, *window_unknown)
                        {
                            events.push(ev);
                        }
                    }
                }
                if !m.damaged {
                    if let Some(ev) = utf8_event(&mut m, dir, true) {
                        events.push(ev);
                    }
                }
                for (r, msg) in events {
                    self.emit(out, Some(dir), r, msg);
                }
                message = Some(m);
            }
        }
        let mut head = [0u8; FRAME_HEAD_BYTES];
        let n = f.hex_len.min(FRAME_HEAD_BYTES);
        head[..n].copy_from_slice(&f.hex[..n]);
        out(
            Some(dir),
            WsEvent::Frame(FrameEvent {
                fin: h.fin,
                rsv: h.rsv,
                opcode: h.opcode.value(),
                opname: h.opcode.name(),
                mask: h.mask,
                len: h.len,
                header_len: h.header_len,
                close,
                head,
                head_len: n as u8,
                rtt_ms,
                mid_stream: self.mid_stream,
            }),
        );
        if let Some(m) = message {
            if m.damaged {
                self.stats.lost_messages += 1;
            } else {
                self.stats.messages[i] += 1;
                if m.compressed {
                    self.stats.compressed_messages[i] += 1;
                }
                out(
                    Some(dir),
                    WsEvent::Message(MessageEvent {
                        kind: m.kind,
                        frames: m.frames,
                        len: m.len,
                        wire_len: m.wire_len,
                        compressed: m.compressed,
                        compressed_len: m.compressed.then_some(m.compressed_len),
                        preview: m.preview,
                        // A compressed message whose inflation stopped is cut there.
                        payload_truncated: m.payload_truncated
                            || (m.payload.is_some() && m.compressed && !m.inflating),
                        payload: m.payload,
                    }),
                );
            }
        }
        if close_completes {
            self.emit_close(ts, out);
        }
    }

    /// Records a close frame; true when it completes the exchange (the echo).
    fn on_close(
        &mut self,
        dir: Direction,
        ts: Timestamp,
        code: Option<u16>,
        reason: String,
    ) -> bool {
        let i = dir.index();
        if self.dirs[i].close_sent.is_none() {
            self.dirs[i].close_sent = Some(ts);
        }
        // Closing is an answer too: an endpoint may close (e.g. 1009 over a ping too
        // big for it) instead of answering the pings it had received.
        for p in self.dirs[dir.reverse().index()].pings.iter_mut() {
            p.2 = false;
        }
        match &self.first_close {
            None => {
                self.first_close = Some(FirstClose { dir, ts });
                self.stats.close = Some(CloseSummary {
                    initiator: Some(dir),
                    code,
                    reason,
                    ..CloseSummary::default()
                });
                false
            }
            Some(first) if first.dir != dir && !self.close_emitted => {
                let echo_ms = ts.millis_since(first.ts);
                let fin_ms = self
                    .tcp_end
                    .filter(|t| *t >= first.ts)
                    .map(|t| t.millis_since(first.ts));
                if let Some(c) = self.stats.close.as_mut() {
                    c.echoed = true;
                    // A half-close (the initiator's FIN before the echo) is still a clean
                    // exchange; an echo seen only after both sides ended is not.
                    c.clean = self.tcp_ends.iter().any(Option::is_none);
                    c.echo_ms = Some(echo_ms);
                    c.fin_ms = fin_ms;
                }
                true
            }
            Some(_) => false,
        }
    }

    fn emit_close(&mut self, _ts: Timestamp, out: &mut Out<'_>) {
        if self.close_emitted {
            return;
        }
        self.close_emitted = true;
        let c = self.stats.close.clone().unwrap_or_default();
        out(c.initiator, WsEvent::Close(c));
    }

    fn on_ping(&mut self, dir: Direction, ts: Timestamp, payload: Vec<u8>, owed: bool) {
        let i = dir.index();
        self.stats.pings[i] += 1;
        let d = &mut self.dirs[i];
        if let Some(prev) = d.last_ping.replace(ts) {
            if self.stats.ping_gaps_ms.len() < self.cfg.max_samples {
                self.stats.ping_gaps_ms.push(ts.millis_since(prev));
            }
        }
        if d.pings.len() >= self.cfg.max_pending_pings.max(1) {
            if let Some((_, _, true)) = d.pings.pop_front() {
                self.stats.unanswered_pings += 1;
            }
        }
        d.pings.push_back((payload, ts, owed));
    }

    fn on_pong(
        &mut self,
        dir: Direction,
        ts: Timestamp,
        payload: &[u8],
        out: &mut Out<'_>,
    ) -> Option<f64> {
        self.stats.pongs[dir.index()] += 1;
        let pings = &mut self.dirs[dir.reverse().index()].pings;
        // The most recent matching ping: RFC 6455 5.5.3 lets a pong answer only the latest
        // of several pings, so the earlier ones are answered by it too.
        match pings.iter().rposition(|(p, _, _)| p.as_slice() == payload) {
            Some(at) => {
                let sent = pings.get(at).map(|(_, t, _)| *t).unwrap_or(ts);
                pings.drain(..=at);
                let rtt = ts.millis_since(sent);
                if self.stats.ping_rtts_ms.len() < self.cfg.max_samples {
                    self.stats.ping_rtts_ms.push(rtt);
                }
                Some(rtt)
            }
            None => {
                self.stats.unsolicited_pongs += 1;
                let msg = format!(
                    "A {dir} pong (payload {}) matches no ping awaiting an answer; unsolicited pongs are allowed as a heartbeat (a note, not an error).",
                    if payload.is_empty() { "empty".to_string() } else { crate::text::hex(&payload[..payload.len().min(16)]) }
                );
                self.emit(out, Some(dir), rule::UNSOLICITED_PONG, msg);
                None
            }
        }
    }

    /// `bytes` missing from `dir`'s stream: lose what must be lost and resume at the
    /// next frame boundary that can be proven (skipping exactly to the end of a frame
    /// whose length is known), or else hunt for a plausible header and say so.
    pub fn gap(
        &mut self,
        dir: Direction,
        bytes: u64,
        ts: Timestamp,
        out: &mut impl FnMut(Option<Direction>, WsEvent),
    ) {
        self.gap_dyn(dir, bytes, ts, out);
    }

    fn gap_dyn(&mut self, dir: Direction, bytes: u64, ts: Timestamp, out: &mut Out<'_>) {
        if bytes == 0 {
            return;
        }
        self.stats.gaps += 1;
        let i = dir.index();
        let lost_msg = self.dirs[i].msg.is_some();
        match self.dirs[i].sync {
            Sync::Hunting { skipped, why } => {
                let d = &mut self.dirs[i];
                let held = d.hunt.len() as u64;
                d.hunt.clear();
                d.sync = Sync::Hunting {
                    skipped: skipped + held + bytes,
                    why,
                };
                return;
            }
            Sync::Skip(n) => {
                if bytes <= n {
                    self.dirs[i].sync = Sync::Skip(n - bytes);
                    return;
                }
                self.start_hunt(dir, bytes - n, out);
                return;
            }
            Sync::Synced => {}
        }
        if let Some(f) = self.dirs[i].frame.as_mut() {
            let h = f.h;
            let remaining = h.len - f.pos;
            f.damaged = true;
            if f.role == Role::Data {
                self.damage_message(dir);
            }
            let op = h.opcode;
            if bytes <= remaining {
                if let Some(f) = self.dirs[i].frame.as_mut() {
                    f.pos += bytes;
                }
                let lost = if lost_msg && f_role_is_data(&self.dirs[i]) {
                    "; the message it belongs to is lost"
                } else {
                    ""
                };
                let msg = format!(
                    "{bytes} bytes of the {dir} stream were lost inside the payload of a {op} frame of {} bytes; its end is known, so decoding resumes exactly at the next frame{lost}.",
                    h.len
                );
                self.emit(out, Some(dir), rule::GAP_RESYNC, msg);
                if bytes == remaining {
                    self.end_frame(dir, ts, out);
                }
                return;
            }
            if let Some(f) = self.dirs[i].frame.as_mut() {
                f.pos = h.len;
            }
            self.end_frame(dir, ts, out);
            self.start_hunt(dir, bytes - remaining, out);
            return;
        }
        let d = &mut self.dirs[i];
        if d.hdr_len >= 2 {
            // The length field may be complete even if the mask key is not: the frame's end is known.
            let ext = match d.hdr[1] & 0x7f {
                126 => 2,
                127 => 8,
                _ => 0,
            };
            if d.hdr_len >= 2 + ext {
                let mut lenbuf = d.hdr;
                let need = header_len_from_prefix(&d.hdr[..d.hdr_len]).unwrap_or(2);
                for b in &mut lenbuf[d.hdr_len..need] {
                    *b = 0;
                }
                if let HeaderParse::Done(h) = parse_header(&lenbuf[..need]) {
                    let left = h.wire_len() - d.hdr_len as u64;
                    d.hdr_len = 0;
                    self.lose_whole_frame(dir, &h);
                    if bytes <= left {
                        self.dirs[i].sync = if bytes == left {
                            Sync::Synced
                        } else {
                            Sync::Skip(left - bytes)
                        };
                        let msg = format!(
                            "{bytes} bytes of the {dir} stream were lost inside a {} frame whose header gave its length ({} bytes); the frame is lost and decoding resumes exactly at the next frame.",
                            h.opcode,
                            h.len
                        );
                        self.emit(out, Some(dir), rule::GAP_RESYNC, msg);
                        return;
                    }
                    self.start_hunt(dir, bytes - left, out);
                    return;
                }
            }
        }
        self.dirs[i].hdr_len = 0;
        self.start_hunt(dir, bytes, out);
    }

    /// A frame of known header fields was lost whole: keep the fragment state right.
    fn lose_whole_frame(&mut self, dir: Direction, h: &FrameHeader) {
        match h.opcode {
            Opcode::Continuation if h.fin => {
                let d = &mut self.dirs[dir.index()];
                if let Some(m) = d.msg.take() {
                    if m.compressed {
                        d.context_lost = true;
                    }
                    self.stats.lost_messages += 1;
                }
                d.orphan = false;
            }
            Opcode::Continuation => self.damage_message(dir),
            Opcode::Text | Opcode::Binary => {
                let d = &mut self.dirs[dir.index()];
                if d.msg.take().is_some() {
                    self.stats.lost_messages += 1;
                }
                if h.rsv1() {
                    d.context_lost = true;
                }
                self.stats.lost_messages += 1;
                d.orphan = !h.fin;
            }
            _ => {}
        }
    }

    fn damage_message(&mut self, dir: Direction) {
        let d = &mut self.dirs[dir.index()];
        if let Some(m) = d.msg.as_mut() {
            m.damaged = true;
            if m.compressed {
                d.context_lost = true;
            }
        }
    }

    /// Frame boundaries are lost: the open message is lost and the stream is searched for a header.
    fn start_hunt(&mut self, dir: Direction, skipped: u64, _out: &mut Out<'_>) {
        let d = &mut self.dirs[dir.index()];
        if let Some(m) = d.msg.take() {
            if m.compressed || d.inflater.is_some() {
                d.context_lost = true;
            }
            self.stats.lost_messages += 1;
        }
        if d.inflater.is_some() {
            d.context_lost = true;
        }
        d.frame = None;
        d.hdr_len = 0;
        d.hunt.clear();
        d.sync = Sync::Hunting {
            skipped,
            why: "bytes were lost where no frame length was known",
        };
    }

    /// The TCP side `dir` sent FIN or RST at `ts` (for the close-to-FIN time).
    pub fn tcp_end(&mut self, dir: Direction, ts: Timestamp) {
        self.tcp_ends[dir.index()].get_or_insert(ts);
        if self.tcp_end.is_some() {
            return;
        }
        self.tcp_end = Some(ts);
        if let (Some(first), Some(c)) = (&self.first_close, self.stats.close.as_mut()) {
            if ts >= first.ts {
                c.fin_ms = Some(ts.millis_since(first.ts));
            }
        }
    }

    /// The connection is over: emits what is still open (an unfinished frame or
    /// message, unanswered pings) and the `ws_close` for the exchange if it was not
    /// yet emitted (1006, never on the wire, with a null initiator when no close
    /// frame was seen). Calling it again does nothing.
    pub fn end(&mut self, ts: Timestamp, out: &mut impl FnMut(Option<Direction>, WsEvent)) {
        self.end_dyn(ts, out);
    }

    fn end_dyn(&mut self, _ts: Timestamp, out: &mut Out<'_>) {
        if self.ended {
            return;
        }
        self.ended = true;
        for i in 0..2 {
            let dir = dir_of(i);
            if let Sync::Hunting { skipped, why } = self.dirs[i].sync {
                let skipped = skipped + self.dirs[i].hunt.len() as u64;
                if skipped > 0 {
                    self.stats.skipped_bytes += skipped;
                    let msg = format!("{why}: the {dir} stream ended after {skipped} more bytes without a plausible frame header.");
                    self.emit(out, Some(dir), rule::GAP_RESYNC, msg);
                }
            }
            let mut in_last_frame = false;
            if let Some(f) = self.dirs[i].frame.take() {
                in_last_frame = f.role == Role::Data && f.h.fin;
                let msg = format!(
                    "The {dir} stream ended {} bytes into the payload of a {} frame of {} bytes.",
                    f.pos, f.h.opcode, f.h.len
                );
                self.emit(out, Some(dir), rule::UNFINISHED_FRAME, msg);
            } else if self.dirs[i].hdr_len > 0 && matches!(self.dirs[i].sync, Sync::Synced) {
                let msg = format!(
                    "The {dir} stream ended inside a frame header ({} bytes of it).",
                    self.dirs[i].hdr_len
                );
                self.emit(out, Some(dir), rule::UNFINISHED_FRAME, msg);
            }
            if let Some(m) = self.dirs[i].msg.take() {
                self.stats.lost_messages += 1;
                if !in_last_frame {
                    let msg = format!("The connection ended inside a fragmented {dir} {} message ({} frames so far).", kind_name(m.kind), m.frames);
                    self.emit(out, Some(dir), rule::UNFINISHED_MESSAGE, msg);
                }
            }
            let n = self.dirs[i]
                .pings
                .iter()
                .filter(|(_, _, owed)| *owed)
                .count();
            // After a failed handshake the client fails the connection: it owes no pong.
            if n > 0 && self.established {
                self.stats.unanswered_pings += n as u64;
                self.dirs[i].pings.clear();
                let msg = format!("{n} {dir} ping(s) were never answered by a pong.");
                self.emit(out, Some(dir), rule::UNANSWERED_PING, msg);
            }
        }
        if self.close_emitted {
            return;
        }
        if self.first_close.is_none() {
            if self.tcp_end.is_none() {
                // The capture stopped while the connection was open: nothing was closed.
                return;
            }
            if self.established {
                let what = if self.over_h2 {
                    "The HTTP/2 stream carrying the WebSocket ended (reset, or the connection under it ended)"
                } else {
                    "The TCP connection ended"
                };
                let msg = format!("{what} without a close frame from either side (reported as 1006, which is never sent on the wire).");
                self.emit(out, None, rule::ABNORMAL_CLOSURE, msg);
            }
            self.stats.close = Some(CloseSummary {
                initiator: None,
                code: Some(1006),
                ..CloseSummary::default()
            });
        }
        self.emit_close(_ts, out);
    }
}

fn f_role_is_data(d: &DirState) -> bool {
    d.frame.as_ref().is_some_and(|f| f.role == Role::Data)
}

/// Inflates `input` into the message's preview, UTF-8 check and length, within the bounds.
fn inflate_into(
    inf: &mut Inflater,
    m: &mut MsgState,
    input: &[u8],
    cfg: &WsConfig,
    last: bool,
) -> Result<(), (InflateStop, Option<Rule>)> {
    let mut refused = None;
    let comp = m.comp_seen.saturating_add(4);
    let mut sink = |b: &[u8]| {
        m.len = m.len.saturating_add(b.len() as u64);
        m.preview.push(b);
        m.keep(b, cfg.max_payload_bytes);
        if let Some(u) = m.utf8.as_mut() {
            u.push(b);
        }
        if m.len > cfg.max_message_bytes {
            refused = Some(rule::MESSAGE_TOO_BIG);
            return false;
        }
        if m.len > cfg.inflate_ratio_floor && m.len / comp > cfg.max_inflate_ratio {
            refused = Some(rule::INFLATE_RATIO_EXCEEDED);
            return false;
        }
        true
    };
    let r = if last {
        inf.finish(&mut sink)
    } else {
        inf.push(input, &mut sink)
    };
    r.map_err(|e| (e, refused))
}

/// Turns an inflation failure into its violation and stops inflating the message.
fn inflate_outcome(
    r: Result<(), (InflateStop, Option<Rule>)>,
    m: &mut MsgState,
    dir: Direction,
    context_lost: &mut bool,
    window_unknown: bool,
) -> Option<(Rule, String)> {
    let (stop, bound) = r.err()?;
    m.inflating = false;
    *context_lost = true;
    let kind = kind_name(m.kind);
    Some(match (stop, bound) {
        (InflateStop::Refused, Some(r)) if r == rule::MESSAGE_TOO_BIG => (
            r,
            format!("A compressed {dir} {kind} message inflates past the configured bound (to more than {} bytes); the rest of it is not inflated and its size is reported as far as inflated.", m.len.saturating_sub(1)),
        ),
        (InflateStop::Refused, _) => (
            rule::INFLATE_RATIO_EXCEEDED,
            format!("A compressed {dir} {kind} message inflates {} bytes from {} compressed bytes, past the ratio bound; the rest of it is not inflated.", m.len, m.comp_seen),
        ),
        (InflateStop::Corrupt, _) => {
            let why = if window_unknown { " (the decompression window was already lost: a gap, an earlier failure, or a capture begun mid-stream)" } else { "" };
            (rule::DECOMPRESSION_FAILED, format!("A compressed {dir} {kind} message does not inflate after {} bytes of output: deflate decompression error{why}.", m.len))
        }
    })
}

/// The UTF-8 violation of a text message, reported once, at the byte where it is found.
fn utf8_event(m: &mut MsgState, dir: Direction, last: bool) -> Option<(Rule, String)> {
    if m.utf8_reported || (m.compressed && !m.inflating && !last) {
        return None;
    }
    let u = m.utf8.as_mut()?;
    let at = if last && (!m.compressed || m.inflating) {
        u.finish()
    } else {
        u.invalid_at()
    }?;
    m.utf8_reported = true;
    let after = if m.compressed { " after inflation" } else { "" };
    Some((rule::INVALID_UTF8_TEXT, format!("A {dir} text message is not valid UTF-8{after}: the first invalid byte is at offset {at}.")))
}

#[cfg(test)]
mod captures;
#[cfg(test)]
mod tests;
