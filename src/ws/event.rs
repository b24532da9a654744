//! The WebSocket layer's own events: typed facts (header fields, the mask key
//! as bytes, raw close reasons and payload bytes), with no display text. The
//! contract mapping (`analysis::contract`) turns them into NDJSON fields.

use super::message::Preview;
use crate::rules::Violation;

/// Which kind of data message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageKind {
    /// Opcode 1.
    Text,
    /// Opcode 2.
    Binary,
}

impl MessageKind {
    /// `"text"` or `"binary"`.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Text => "text",
            MessageKind::Binary => "binary",
        }
    }
}

/// How many payload bytes a [`FrameEvent`] keeps (unmasked) for display.
pub const FRAME_HEAD_BYTES: usize = 32;

/// A close frame's payload, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClosePayload {
    /// The status code, or None for an empty payload (or one damaged by a gap).
    pub code: Option<u16>,
    /// The reason as sent (raw: views make it safe).
    pub reason: String,
}

/// One complete frame.
#[derive(Clone, Debug, PartialEq)]
pub struct FrameEvent {
    /// FIN bit.
    pub fin: bool,
    /// RSV1..3 as 0..7 (RSV1 = 4).
    pub rsv: u8,
    /// Opcode 0..15.
    pub opcode: u8,
    /// The opcode's name (`text`, `close`, ... or `reserved`).
    pub opname: &'static str,
    /// The masking key, when the MASK bit is set.
    pub mask: Option<[u8; 4]>,
    /// Payload length from the header.
    pub len: u64,
    /// Header length (2..14).
    pub header_len: u8,
    /// Close frames: the decoded payload.
    pub close: Option<ClosePayload>,
    /// The first payload bytes, unmasked: `head[..head_len]`.
    pub head: [u8; FRAME_HEAD_BYTES],
    /// How many of `head` are payload.
    pub head_len: u8,
    /// Pongs: the round trip from the ping they answer.
    pub rtt_ms: Option<f64>,
    /// Decoded without the handshake.
    pub mid_stream: bool,
}

impl FrameEvent {
    /// The first payload bytes kept, unmasked.
    pub fn head(&self) -> &[u8] {
        &self.head[..usize::from(self.head_len).min(FRAME_HEAD_BYTES)]
    }
}

/// One complete data message.
#[derive(Clone, Debug, PartialEq)]
pub struct MessageEvent {
    /// Text or binary.
    pub kind: MessageKind,
    /// Number of frames.
    pub frames: u32,
    /// Bytes after inflation.
    pub len: u64,
    /// Bytes on the wire, frame headers included.
    pub wire_len: u64,
    /// permessage-deflate (RSV1).
    pub compressed: bool,
    /// Compressed messages: payload bytes before inflation.
    pub compressed_len: Option<u64>,
    /// The first bytes of the (inflated) payload.
    pub preview: Preview,
    /// The whole payload after unmasking and inflation, when the session keeps
    /// payloads ([`super::WsConfig::keep_payload`]); at most
    /// [`super::WsConfig::max_payload_bytes`] of it.
    pub payload: Option<Vec<u8>>,
    /// The payload was cut at the bound (or its inflation stopped early).
    pub payload_truncated: bool,
}

/// What the WebSocket layer saw. Frames and messages are held inline: one
/// allocation per frame would be a tenth of the cost of decoding small frames.
#[derive(Clone, Debug, PartialEq)]
#[allow(clippy::large_enum_variant)]
pub enum WsEvent {
    /// A frame.
    Frame(FrameEvent),
    /// A data message (after its last frame).
    Message(MessageEvent),
    /// The close exchange as a whole.
    Close(super::CloseSummary),
    /// A rule broken, or a note.
    Violation(Violation),
}
