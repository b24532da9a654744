//! STOMP 1.0-1.2 over WebSocket: frames (`COMMAND`, `name:value` headers, a
//! blank line, a body ended by NUL), several per message or one split over
//! several (a per-direction buffer bounded by [`MAX_FRAME`]), and heart-beats
//! (an EOL between frames), compared with what CONNECT/CONNECTED negotiated.

use std::collections::HashMap;

use super::rules;
use super::{AppId, AppMessage, Detail, Protocol, Violation};
use crate::types::Direction;

/// Bytes held per direction for one incomplete frame; past it the frame is
/// reported as too large and skipped up to its NUL.
pub const MAX_FRAME: usize = 1 << 20;
/// Headers kept per frame (the rest are counted in [`StompDetail::header_count`]).
pub const MAX_HEADERS: usize = 64;
/// Receipts awaited at once (for the latency of RECEIPT).
pub const MAX_PENDING: usize = 1024;

/// STOMP commands (client and server frames).
pub const COMMANDS: &[&str] = &[
    "CONNECT",
    "STOMP",
    "CONNECTED",
    "SEND",
    "SUBSCRIBE",
    "UNSUBSCRIBE",
    "ACK",
    "NACK",
    "BEGIN",
    "COMMIT",
    "ABORT",
    "DISCONNECT",
    "MESSAGE",
    "RECEIPT",
    "ERROR",
];

/// Heart-beat intervals negotiated by CONNECT and CONNECTED (0 = none).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeartBeats {
    /// Client to server, ms.
    pub c2s_ms: u32,
    /// Server to client, ms.
    pub s2c_ms: u32,
}

/// Fields of a STOMP frame, or of a heart-beat (type `HEARTBEAT`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StompDetail {
    /// Headers in order, decoded (at most [`MAX_HEADERS`]).
    pub headers: Vec<(String, String)>,
    /// Number of header lines.
    pub header_count: usize,
    /// Body length in bytes.
    pub body_len: usize,
    /// The `content-length` header, parsed.
    pub content_length: Option<usize>,
    /// The `heart-beat` header of CONNECT/CONNECTED, as (can send, wants to receive) ms.
    pub heart_beat: Option<(u32, u32)>,
    /// The negotiated heart-beats (known once CONNECT and CONNECTED were both seen).
    pub negotiated: Option<HeartBeats>,
    /// For a heart-beat: time since the previous frame or heart-beat in the same direction, µs.
    pub since_previous_us: Option<i64>,
    /// RECEIPT: time since the frame that asked for it; CONNECTED: since CONNECT. µs.
    pub latency_us: Option<i64>,
    /// The frame was larger than [`MAX_FRAME`] and was skipped after its headers.
    pub skipped: bool,
}

impl StompDetail {
    /// The first value of header `name` (STOMP 1.2: repeated headers, the first wins).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// STOMP state of one WebSocket.
pub struct StompState {
    buf: [Vec<u8>; 2],
    /// Skipping a too-large frame up to its NUL.
    discarding: [bool; 2],
    /// Bytes still to skip of a too-large frame whose content-length is known.
    skip: [usize; 2],
    last_seen: [Option<i64>; 2],
    connect: Option<(i64, Option<(u32, u32)>)>,
    negotiated: Option<HeartBeats>,
    version: Option<String>,
    receipts: HashMap<String, i64>,
}

impl Default for StompState {
    fn default() -> Self {
        StompState::new()
    }
}

fn skip_eols(b: &[u8]) -> &[u8] {
    let mut b = b;
    loop {
        if let Some(r) = b.strip_prefix(b"\r\n") {
            b = r;
        } else if let Some(r) = b.strip_prefix(b"\n") {
            b = r;
        } else {
            return b;
        }
    }
}

/// Whether a message begins (after EOLs) with a STOMP command line and holds a NUL.
pub(crate) fn looks_like_frame(p: &[u8]) -> bool {
    let b = skip_eols(p);
    // This runs on every message of a WebSocket not yet recognised: the command line
    // is looked for only as far as the longest command (and a CR) could reach.
    let longest = COMMANDS.iter().map(|c| c.len()).max().unwrap_or(0) + 1;
    let Some(nl) = memchr::memchr(b'\n', &b[..b.len().min(longest + 1)]) else {
        return false;
    };
    let line = b[..nl].strip_suffix(b"\r").unwrap_or(&b[..nl]);
    COMMANDS.iter().any(|c| c.as_bytes() == line) && memchr::memchr(0, b).is_some()
}

fn parse_heart_beat(v: &str) -> Option<(u32, u32)> {
    let (a, b) = v.split_once(',')?;
    Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
}

/// STOMP 1.2 header value decoding; `None` on an undefined escape.
fn unescape(s: &str) -> Option<String> {
    if !s.contains('\\') {
        return Some(s.to_owned());
    }
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            out.push(match it.next()? {
                'r' => '\r',
                'n' => '\n',
                'c' => ':',
                '\\' => '\\',
                _ => return None,
            });
        } else {
            out.push(c);
        }
    }
    Some(out)
}

enum Parsed {
    Incomplete,
    /// The head is complete and `content-length` says the frame ends at `total`.
    NeedBody {
        m: Box<AppMessage>,
        d: Box<StompDetail>,
        command: String,
        total: usize,
    },
    Frame(Box<AppMessage>, usize),
}

impl StompState {
    /// Heap bytes held (for the memory budget): partial frames, receipts awaited
    /// (their ids counted at [`crate::budget::KEY_GUESS`] bytes each).
    pub(crate) fn heap_bytes(&self) -> usize {
        use crate::budget::{map_bytes, vec_bytes, KEY_GUESS};
        vec_bytes(&self.buf[0])
            + vec_bytes(&self.buf[1])
            + map_bytes(&self.receipts)
            + self.receipts.len() * KEY_GUESS
            + self.version.as_ref().map_or(0, crate::budget::string_bytes)
    }

    /// A fresh state.
    pub fn new() -> StompState {
        StompState {
            buf: [Vec::new(), Vec::new()],
            discarding: [false, false],
            skip: [0, 0],
            last_seen: [None, None],
            connect: None,
            negotiated: None,
            version: None,
            receipts: HashMap::new(),
        }
    }

    /// One WebSocket message (text or binary): the frames and heart-beats it completes.
    pub fn message(&mut self, dir: Direction, payload: &[u8], ts: i64) -> Vec<AppMessage> {
        let d = dir.index();
        let mut payload = payload;
        if self.skip[d] > 0 {
            let n = self.skip[d].min(payload.len());
            self.skip[d] -= n;
            payload = &payload[n..];
            if self.skip[d] > 0 {
                return Vec::new();
            }
        }
        if self.discarding[d] {
            match payload.iter().position(|&b| b == 0) {
                Some(p) => {
                    self.discarding[d] = false;
                    payload = &payload[p + 1..];
                }
                None => return Vec::new(),
            }
        }
        let mut buf = std::mem::take(&mut self.buf[d]);
        buf.extend_from_slice(payload);
        let mut out = Vec::new();
        let mut pos = 0;
        while pos < buf.len() {
            if out.len() >= super::MAX_PACKETS_PER_MESSAGE {
                out.push(AppMessage::too_many(
                    Protocol::Stomp,
                    dir,
                    ts,
                    buf.len() - pos,
                ));
                pos = buf.len();
                break;
            }
            let b = &buf[pos..];
            // A heart-beat: an EOL between frames.
            let eol = if b.starts_with(b"\r\n") {
                2
            } else if b.starts_with(b"\n") {
                1
            } else if b == b"\r" {
                break;
            } else {
                0
            };
            if eol > 0 {
                let mut m = AppMessage::new(Protocol::Stomp, "HEARTBEAT", dir, ts);
                let det = StompDetail {
                    since_previous_us: self.last_seen[d].map(|t| ts.saturating_sub(t)),
                    negotiated: self.negotiated,
                    ..StompDetail::default()
                };
                m.detail = Detail::Stomp(Box::new(det));
                self.last_seen[d] = Some(ts);
                out.push(m);
                pos += eol;
                continue;
            }
            match self.frame(dir, b, ts) {
                Parsed::Incomplete => {
                    if b.len() > MAX_FRAME {
                        let mut m = AppMessage::malformed(
                            Protocol::Stomp,
                            dir,
                            ts,
                            Violation::new(
                                rules::STOMP_FRAME_TOO_LARGE,
                                format!(
                                    "A frame not finished after {} bytes; skipped up to its NUL.",
                                    b.len()
                                ),
                            ),
                        );
                        let line_end = b.iter().position(|&c| c == b'\n').unwrap_or(0);
                        let cmd = String::from_utf8_lossy(&b[..line_end.min(64)]);
                        if COMMANDS.contains(&cmd.trim_end_matches('\r')) {
                            m.kind = cmd.trim_end_matches('\r').to_owned();
                            m.detail = Detail::Stomp(Box::new(StompDetail {
                                skipped: true,
                                ..StompDetail::default()
                            }));
                        }
                        out.push(m);
                        self.discarding[d] = true;
                        pos = buf.len();
                    }
                    break;
                }
                Parsed::NeedBody {
                    mut m,
                    mut d,
                    command,
                    total,
                } => {
                    if total > MAX_FRAME {
                        // Reported now from its head; its body is skipped, never held.
                        self.semantics(dir, &command, &mut m, &mut d, ts);
                        d.skipped = true;
                        m.violations.push(Violation::new(
                            rules::STOMP_FRAME_TOO_LARGE,
                            format!(
                                "A {}-byte body (content-length) is more than the {MAX_FRAME} bytes held; it was skipped.",
                                d.body_len
                            ),
                        ));
                        m.detail = Detail::Stomp(d);
                        self.last_seen[dir.index()] = Some(ts);
                        out.push(*m);
                        self.skip[dir.index()] = total - b.len();
                        pos = buf.len();
                    }
                    break;
                }
                Parsed::Frame(m, used) => {
                    self.last_seen[d] = Some(ts);
                    out.push(*m);
                    pos += used;
                }
            }
        }
        buf.drain(..pos);
        self.buf[d] = buf;
        out
    }

    fn frame(&mut self, dir: Direction, b: &[u8], ts: i64) -> Parsed {
        // The head: command line, header lines, blank line.
        let mut lines: Vec<&[u8]> = Vec::new();
        let mut i = 0;
        let body_start = loop {
            let Some(nl) = b[i..].iter().position(|&c| c == b'\n') else {
                return Parsed::Incomplete;
            };
            let line = &b[i..i + nl];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            i += nl + 1;
            if line.is_empty() {
                break i;
            }
            lines.push(line);
        };
        let command = String::from_utf8_lossy(lines[0]).into_owned();
        let mut m = AppMessage::new(Protocol::Stomp, command.clone(), dir, ts);
        let mut d = StompDetail::default();
        if !COMMANDS.contains(&command.as_str()) {
            m.violations.push(Violation::new(
                rules::STOMP_UNKNOWN_COMMAND,
                format!(
                    "{:?} is not a STOMP command.",
                    command.chars().take(64).collect::<String>()
                ),
            ));
        }
        let escapes = !matches!(command.as_str(), "CONNECT" | "CONNECTED")
            && self.version.as_deref() != Some("1.0");
        for line in &lines[1..] {
            d.header_count += 1;
            let text = String::from_utf8_lossy(line);
            let Some((k, v)) = text.split_once(':') else {
                m.violations.push(Violation::new(
                    rules::STOMP_BAD_HEADER,
                    format!(
                        "Header line {:?} has no colon.",
                        text.chars().take(64).collect::<String>()
                    ),
                ));
                continue;
            };
            let (k, v) = if escapes {
                match (unescape(k), unescape(v)) {
                    (Some(k), Some(v)) => (k, v),
                    _ => {
                        m.violations.push(Violation::new(
                            rules::STOMP_BAD_HEADER,
                            format!(
                                "Header {:?} uses an undefined escape sequence.",
                                k.chars().take(64).collect::<String>()
                            ),
                        ));
                        (k.to_owned(), v.to_owned())
                    }
                }
            } else {
                (k.to_owned(), v.to_owned())
            };
            if d.headers.len() < MAX_HEADERS {
                d.headers.push((k, v));
            }
        }
        d.content_length = d
            .header("content-length")
            .and_then(|v| v.trim().parse().ok());
        let used = match d.content_length {
            Some(len) => {
                let Some(end) = body_start.checked_add(len) else {
                    return Parsed::Incomplete;
                };
                if b.len() <= end {
                    d.body_len = len;
                    return Parsed::NeedBody {
                        m: Box::new(m),
                        d: Box::new(d),
                        command,
                        total: end.saturating_add(1),
                    };
                }
                d.body_len = len;
                if b[end] == 0 {
                    end + 1
                } else {
                    m.violations.push(Violation::new(
                        rules::STOMP_MISSING_NUL,
                        format!(
                            "The body is not followed by NUL after content-length {len} bytes."
                        ),
                    ));
                    match b[end..].iter().position(|&c| c == 0) {
                        Some(p) => end + p + 1,
                        None => return Parsed::Incomplete,
                    }
                }
            }
            None => match b[body_start..].iter().position(|&c| c == 0) {
                Some(p) => {
                    d.body_len = p;
                    body_start + p + 1
                }
                None => return Parsed::Incomplete,
            },
        };
        self.semantics(dir, &command, &mut m, &mut d, ts);
        m.detail = Detail::Stomp(Box::new(d));
        Parsed::Frame(Box::new(m), used)
    }

    fn semantics(
        &mut self,
        dir: Direction,
        command: &str,
        m: &mut AppMessage,
        d: &mut StompDetail,
        ts: i64,
    ) {
        let h = |d: &StompDetail, name: &str| d.header(name).map(str::to_owned);
        m.name = h(d, "destination");
        let id_header = match command {
            "SUBSCRIBE" | "UNSUBSCRIBE" => "id",
            "ACK" | "NACK" => {
                if d.header("id").is_some() {
                    "id"
                } else {
                    "message-id"
                }
            }
            "MESSAGE" => "message-id",
            "RECEIPT" => "receipt-id",
            "BEGIN" | "COMMIT" | "ABORT" => "transaction",
            "CONNECTED" => "session",
            "ERROR" => "receipt-id",
            _ => "receipt",
        };
        m.id = h(d, id_header).map(AppId::Text);
        if command == "ERROR" {
            m.name = h(d, "message");
        }
        let required: &[&str] = match command {
            "SEND" => &["destination"],
            "SUBSCRIBE" if self.version.as_deref() == Some("1.0") => &["destination"],
            "SUBSCRIBE" => &["destination", "id"],
            "UNSUBSCRIBE" if self.version.as_deref() == Some("1.0") => &[],
            "UNSUBSCRIBE" => &["id"],
            "BEGIN" | "COMMIT" | "ABORT" => &["transaction"],
            "MESSAGE" => &["destination", "message-id"],
            "RECEIPT" => &["receipt-id"],
            _ => &[],
        };
        for r in required {
            if d.header(r).is_none() {
                m.violations.push(Violation::new(
                    rules::STOMP_MISSING_HEADER,
                    format!("{command} without the required {r} header."),
                ));
            }
        }
        if matches!(command, "ACK" | "NACK")
            && d.header("id").is_none()
            && d.header("message-id").is_none()
        {
            m.violations.push(Violation::new(
                rules::STOMP_MISSING_HEADER,
                format!("{command} without the id (1.2) or message-id (1.1) header."),
            ));
        }
        if let Some(hb) = h(d, "heart-beat") {
            if matches!(command, "CONNECT" | "STOMP" | "CONNECTED") {
                d.heart_beat = parse_heart_beat(&hb);
                if d.heart_beat.is_none() {
                    m.violations.push(Violation::new(
                        rules::STOMP_BAD_HEART_BEAT,
                        format!(
                            "heart-beat {:?} is not two comma-separated integers.",
                            hb.chars().take(32).collect::<String>()
                        ),
                    ));
                }
            }
        }
        match command {
            "CONNECT" | "STOMP" if dir == Direction::C2S => {
                self.connect = Some((ts, d.heart_beat));
            }
            "CONNECTED" => {
                self.version = h(d, "version").or_else(|| Some("1.0".into()));
                if let Some((t0, client)) = self.connect {
                    d.latency_us = Some(ts.saturating_sub(t0));
                    let (cx, cy) = client.unwrap_or((0, 0));
                    let (sx, sy) = d.heart_beat.unwrap_or((0, 0));
                    let nego = |send: u32, recv: u32| {
                        if send == 0 || recv == 0 {
                            0
                        } else {
                            send.max(recv)
                        }
                    };
                    self.negotiated = Some(HeartBeats {
                        c2s_ms: nego(cx, sy),
                        s2c_ms: nego(sx, cy),
                    });
                    d.negotiated = self.negotiated;
                }
            }
            "RECEIPT" => {
                if let Some(id) = d.header("receipt-id") {
                    d.latency_us = self.receipts.remove(id).map(|t0| ts.saturating_sub(t0));
                }
            }
            _ => {}
        }
        if command != "MESSAGE" {
            if let Some(r) = d.header("receipt") {
                if self.receipts.len() >= MAX_PENDING {
                    // Receipts never answered are forgotten at once past the bound.
                    self.receipts.clear();
                }
                self.receipts.insert(r.to_owned(), ts);
            }
        }
    }
}
