//! WebSocket after the HTTP 101: RFC 6455 frames, messages, ping/pong and the
//! close, RFC 7692 permessage-deflate, and mid-stream recognition.
//!
//! - [`frame`]: header coding (all three length forms, mask key), chunked unmasking.
//! - [`message`]: incremental UTF-8 checking and bounded previews.
//! - [`deflate`]: the negotiated parameters and a streaming, bounded inflater.
//! - [`close`]: close payloads and the RFC 6455 7.4 code ranges.
//! - [`session`]: [`WsSession`], both directions of one connection, emitting
//!   [`WsEvent`]s ([`event`]) as frames complete.
//! - [`sniff`]: does a byte stream look like WebSocket frames?
//! - [`violations`]: every rule checked, with its stable code and RFC section.
//!
//! Nothing here buffers a whole payload unless asked ([`WsConfig::keep_payload`],
//! bounded by [`WsConfig::max_payload_bytes`]): payload bytes are unmasked, checked
//! and inflated as they arrive, and only previews and control payloads (at most 125
//! bytes) are kept.

pub mod close;
pub mod deflate;
pub mod event;
pub mod frame;
pub mod message;
pub mod session;
pub mod sniff;
pub mod violations;

pub use close::close_code_meaning;
pub use deflate::DeflateParams;
pub use event::{ClosePayload, FrameEvent, MessageEvent, MessageKind, WsEvent};
pub use session::{CloseSummary, WsSession, WsStats};
pub use sniff::{sniff, Confidence, Sniffed};

/// Limits and display sizes for a [`WsSession`]. Every buffer the session keeps is bounded by one of these.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WsConfig {
    /// Largest inflated message followed to its end (default 64 MiB); past it,
    /// `message_too_big` is reported and the rest of the message is not inflated.
    pub max_message_bytes: u64,
    /// Largest inflated/compressed ratio for a message (default 1000), checked once the
    /// message has inflated past [`WsConfig::inflate_ratio_floor`]; past it,
    /// `inflate_ratio_exceeded` and the rest is not inflated.
    pub max_inflate_ratio: u64,
    /// Inflated size below which the ratio is not checked (default 1 MiB): small messages
    /// under context takeover legitimately inflate from a few bytes.
    pub inflate_ratio_floor: u64,
    /// Message bytes kept for the `preview` (default 64, at most
    /// [`message::PREVIEW_MAX`]).
    pub preview_bytes: usize,
    /// Pings remembered per direction while awaiting their pong (default 64); older ones
    /// are forgotten and counted as unanswered.
    pub max_pending_pings: usize,
    /// Bytes held while hunting for a frame header after a gap (default 64 KiB).
    pub max_hunt_bytes: usize,
    /// RTT and heartbeat samples kept for the stats (default 4096).
    pub max_samples: usize,
    /// Render the display-only strings of frame and message events (default true):
    /// `mask_key`, `payload_hex` and `preview`. With false they are left empty
    /// (`None`, `""`) and the payload bytes they would need are not unmasked or kept;
    /// everything else (counts, lengths, checks, violations, close codes, ping RTTs) is
    /// the same. For views that never show them, such as the per-connection stats.
    pub detail: bool,
    /// Keep each data message's whole payload (after unmasking and inflation) and hand
    /// it over with the message (default false: nothing is kept, as the stats need).
    /// For views that show payloads, search them, or decode protocols riding on them.
    pub keep_payload: bool,
    /// With `keep_payload`: the most bytes kept of one message (default 16 MiB); past
    /// it the payload is cut there and the message says so (`payload_truncated`).
    pub max_payload_bytes: u64,
}

impl Default for WsConfig {
    fn default() -> Self {
        WsConfig {
            max_message_bytes: 64 << 20,
            max_inflate_ratio: 1000,
            inflate_ratio_floor: 1 << 20,
            preview_bytes: 64,
            max_pending_pings: 64,
            max_hunt_bytes: 64 << 10,
            max_samples: 4096,
            detail: true,
            keep_payload: false,
            max_payload_bytes: 16 << 20,
        }
    }
}
