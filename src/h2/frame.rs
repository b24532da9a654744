//! The HTTP/2 frame vocabulary (RFC 9113 §4, §6, §7, §11): the 9-byte frame header,
//! frame types, flags, settings identifiers and error codes, with their names.

/// Length of the frame header (RFC 9113 §4.1).
pub const FRAME_HEADER_LEN: usize = 9;

/// The client connection preface (RFC 9113 §3.4).
pub const CLIENT_PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// `SETTINGS_MAX_FRAME_SIZE` before any SETTINGS (RFC 9113 §6.5.2).
pub const DEFAULT_MAX_FRAME_SIZE: u32 = 16_384;
/// The largest `SETTINGS_MAX_FRAME_SIZE` allowed (2^24 - 1, RFC 9113 §6.5.2).
pub const MAX_ALLOWED_FRAME_SIZE: u32 = (1 << 24) - 1;
/// `SETTINGS_HEADER_TABLE_SIZE` before any SETTINGS (RFC 9113 §6.5.2).
pub const DEFAULT_HEADER_TABLE_SIZE: u32 = 4096;

/// DATA (RFC 9113 §6.1).
pub const DATA: u8 = 0x0;
/// HEADERS (RFC 9113 §6.2).
pub const HEADERS: u8 = 0x1;
/// PRIORITY (RFC 9113 §6.3).
pub const PRIORITY: u8 = 0x2;
/// RST_STREAM (RFC 9113 §6.4).
pub const RST_STREAM: u8 = 0x3;
/// SETTINGS (RFC 9113 §6.5).
pub const SETTINGS: u8 = 0x4;
/// PUSH_PROMISE (RFC 9113 §6.6).
pub const PUSH_PROMISE: u8 = 0x5;
/// PING (RFC 9113 §6.7).
pub const PING: u8 = 0x6;
/// GOAWAY (RFC 9113 §6.8).
pub const GOAWAY: u8 = 0x7;
/// WINDOW_UPDATE (RFC 9113 §6.9).
pub const WINDOW_UPDATE: u8 = 0x8;
/// CONTINUATION (RFC 9113 §6.10).
pub const CONTINUATION: u8 = 0x9;

/// END_STREAM on DATA and HEADERS.
pub const FLAG_END_STREAM: u8 = 0x1;
/// ACK on SETTINGS and PING.
pub const FLAG_ACK: u8 = 0x1;
/// END_HEADERS on HEADERS, PUSH_PROMISE and CONTINUATION.
pub const FLAG_END_HEADERS: u8 = 0x4;
/// PADDED on DATA, HEADERS and PUSH_PROMISE.
pub const FLAG_PADDED: u8 = 0x8;
/// PRIORITY on HEADERS.
pub const FLAG_PRIORITY: u8 = 0x20;

/// The name of a frame type, e.g. `"HEADERS"`; `None` for an unknown type.
pub fn frame_type_name(kind: u8) -> Option<&'static str> {
    Some(match kind {
        DATA => "DATA",
        HEADERS => "HEADERS",
        PRIORITY => "PRIORITY",
        RST_STREAM => "RST_STREAM",
        SETTINGS => "SETTINGS",
        PUSH_PROMISE => "PUSH_PROMISE",
        PING => "PING",
        GOAWAY => "GOAWAY",
        WINDOW_UPDATE => "WINDOW_UPDATE",
        CONTINUATION => "CONTINUATION",
        _ => return None,
    })
}

/// SETTINGS_HEADER_TABLE_SIZE (RFC 9113 §6.5.2).
pub const SETTINGS_HEADER_TABLE_SIZE: u16 = 0x1;
/// SETTINGS_ENABLE_PUSH (RFC 9113 §6.5.2).
pub const SETTINGS_ENABLE_PUSH: u16 = 0x2;
/// SETTINGS_MAX_CONCURRENT_STREAMS (RFC 9113 §6.5.2).
pub const SETTINGS_MAX_CONCURRENT_STREAMS: u16 = 0x3;
/// SETTINGS_INITIAL_WINDOW_SIZE (RFC 9113 §6.5.2).
pub const SETTINGS_INITIAL_WINDOW_SIZE: u16 = 0x4;
/// SETTINGS_MAX_FRAME_SIZE (RFC 9113 §6.5.2).
pub const SETTINGS_MAX_FRAME_SIZE: u16 = 0x5;
/// SETTINGS_MAX_HEADER_LIST_SIZE (RFC 9113 §6.5.2).
pub const SETTINGS_MAX_HEADER_LIST_SIZE: u16 = 0x6;
/// SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3).
pub const SETTINGS_ENABLE_CONNECT_PROTOCOL: u16 = 0x8;
/// SETTINGS_NO_RFC7540_PRIORITIES (RFC 9218 §2.1).
pub const SETTINGS_NO_RFC7540_PRIORITIES: u16 = 0x9;

/// The name of a setting, e.g. `"SETTINGS_MAX_FRAME_SIZE"`; `None` if unknown.
pub fn setting_name(id: u16) -> Option<&'static str> {
    Some(match id {
        SETTINGS_HEADER_TABLE_SIZE => "SETTINGS_HEADER_TABLE_SIZE",
        SETTINGS_ENABLE_PUSH => "SETTINGS_ENABLE_PUSH",
        SETTINGS_MAX_CONCURRENT_STREAMS => "SETTINGS_MAX_CONCURRENT_STREAMS",
        SETTINGS_INITIAL_WINDOW_SIZE => "SETTINGS_INITIAL_WINDOW_SIZE",
        SETTINGS_MAX_FRAME_SIZE => "SETTINGS_MAX_FRAME_SIZE",
        SETTINGS_MAX_HEADER_LIST_SIZE => "SETTINGS_MAX_HEADER_LIST_SIZE",
        SETTINGS_ENABLE_CONNECT_PROTOCOL => "SETTINGS_ENABLE_CONNECT_PROTOCOL",
        SETTINGS_NO_RFC7540_PRIORITIES => "SETTINGS_NO_RFC7540_PRIORITIES",
        _ => return None,
    })
}

/// NO_ERROR (RFC 9113 §7).
pub const NO_ERROR: u32 = 0x0;
/// PROTOCOL_ERROR.
pub const PROTOCOL_ERROR: u32 = 0x1;
/// INTERNAL_ERROR.
pub const INTERNAL_ERROR: u32 = 0x2;
/// FLOW_CONTROL_ERROR.
pub const FLOW_CONTROL_ERROR: u32 = 0x3;
/// SETTINGS_TIMEOUT.
pub const SETTINGS_TIMEOUT: u32 = 0x4;
/// STREAM_CLOSED.
pub const STREAM_CLOSED: u32 = 0x5;
/// FRAME_SIZE_ERROR.
pub const FRAME_SIZE_ERROR: u32 = 0x6;
/// REFUSED_STREAM.
pub const REFUSED_STREAM: u32 = 0x7;
/// CANCEL.
pub const CANCEL: u32 = 0x8;
/// COMPRESSION_ERROR.
pub const COMPRESSION_ERROR: u32 = 0x9;
/// CONNECT_ERROR.
pub const CONNECT_ERROR: u32 = 0xa;
/// ENHANCE_YOUR_CALM.
pub const ENHANCE_YOUR_CALM: u32 = 0xb;
/// INADEQUATE_SECURITY.
pub const INADEQUATE_SECURITY: u32 = 0xc;
/// HTTP_1_1_REQUIRED.
pub const HTTP_1_1_REQUIRED: u32 = 0xd;

/// The name of an error code (RFC 9113 §7), e.g. `"CANCEL"`; `None` if unknown.
pub fn error_code_name(code: u32) -> Option<&'static str> {
    Some(match code {
        NO_ERROR => "NO_ERROR",
        PROTOCOL_ERROR => "PROTOCOL_ERROR",
        INTERNAL_ERROR => "INTERNAL_ERROR",
        FLOW_CONTROL_ERROR => "FLOW_CONTROL_ERROR",
        SETTINGS_TIMEOUT => "SETTINGS_TIMEOUT",
        STREAM_CLOSED => "STREAM_CLOSED",
        FRAME_SIZE_ERROR => "FRAME_SIZE_ERROR",
        REFUSED_STREAM => "REFUSED_STREAM",
        CANCEL => "CANCEL",
        COMPRESSION_ERROR => "COMPRESSION_ERROR",
        CONNECT_ERROR => "CONNECT_ERROR",
        ENHANCE_YOUR_CALM => "ENHANCE_YOUR_CALM",
        INADEQUATE_SECURITY => "INADEQUATE_SECURITY",
        HTTP_1_1_REQUIRED => "HTTP_1_1_REQUIRED",
        _ => return None,
    })
}

/// A frame header as on the wire (RFC 9113 §4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// Payload length (24 bits).
    pub length: u32,
    /// Frame type.
    pub kind: u8,
    /// Flags.
    pub flags: u8,
    /// The reserved bit (must be zero, ignored on receipt).
    pub reserved: bool,
    /// Stream identifier (31 bits).
    pub stream: u32,
}

impl FrameHeader {
    /// Parses the first 9 bytes of `buf`; `None` if fewer are there.
    pub fn parse(buf: &[u8]) -> Option<FrameHeader> {
        let b: &[u8; 9] = buf.get(..FRAME_HEADER_LEN)?.try_into().ok()?;
        let sid = u32::from_be_bytes([b[5], b[6], b[7], b[8]]);
        Some(FrameHeader {
            length: u32::from_be_bytes([0, b[0], b[1], b[2]]),
            kind: b[3],
            flags: b[4],
            reserved: sid & 0x8000_0000 != 0,
            stream: sid & 0x7fff_ffff,
        })
    }

    /// The header's 9 bytes.
    pub fn encode(&self) -> [u8; 9] {
        let l = self.length.to_be_bytes();
        let s = (self.stream | if self.reserved { 0x8000_0000 } else { 0 }).to_be_bytes();
        [
            l[1], l[2], l[3], self.kind, self.flags, s[0], s[1], s[2], s[3],
        ]
    }

    /// Whether `flag` is set.
    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

/// Encodes a whole frame (header and payload); for tests and examples.
pub fn encode_frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let h = FrameHeader {
        length: payload.len() as u32,
        kind,
        flags,
        reserved: false,
        stream,
    };
    let mut v = h.encode().to_vec();
    v.extend_from_slice(payload);
    v
}

/// Parses a SETTINGS payload into (identifier, value) pairs; a trailing partial entry
/// is ignored (the caller reports the length).
pub fn parse_settings(payload: &[u8]) -> Vec<(u16, u32)> {
    payload
        .chunks_exact(6)
        .map(|c| {
            (
                u16::from_be_bytes([c[0], c[1]]),
                u32::from_be_bytes([c[2], c[3], c[4], c[5]]),
            )
        })
        .collect()
}
