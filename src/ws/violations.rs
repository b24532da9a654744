//! Every rule this module checks: a stable code and its RFC section.
//!
//! The codes are part of the NDJSON contract; the sentences are built where
//! the violation is found, with the facts of the case.

pub use crate::rules::Rule;

crate::rules! {
    /// A client frame without the MASK bit.
    UNMASKED_CLIENT_FRAME = "unmasked_client_frame", "RFC 6455 5.1";
    /// A server frame with the MASK bit.
    MASKED_SERVER_FRAME = "masked_server_frame", "RFC 6455 5.1";
    /// RSV bits set with no extension negotiated that defines them.
    RSV_WITHOUT_EXTENSION = "rsv_without_extension", "RFC 6455 5.2";
    /// RSV1 on a continuation frame under permessage-deflate.
    RSV1_ON_CONTINUATION = "rsv1_on_continuation", "RFC 7692 6.1";
    /// RSV1 on a control frame under permessage-deflate.
    RSV1_ON_CONTROL = "rsv1_on_control", "RFC 7692 6.1";
    /// Opcodes 3-7 and 11-15.
    RESERVED_OPCODE = "reserved_opcode", "RFC 6455 5.2";
    /// A 16- or 64-bit length where a shorter form would do.
    NON_MINIMAL_LENGTH = "non_minimal_length", "RFC 6455 5.2";
    /// A 64-bit length with its most significant bit set.
    LENGTH_TOP_BIT_SET = "length_top_bit_set", "RFC 6455 5.2";
    /// A control frame with more than 125 payload bytes.
    CONTROL_FRAME_TOO_LONG = "control_frame_too_long", "RFC 6455 5.5";
    /// A control frame with FIN clear.
    CONTROL_FRAME_FRAGMENTED = "control_frame_fragmented", "RFC 6455 5.5";
    /// A continuation frame with no fragmented message open.
    CONTINUATION_WITHOUT_MESSAGE = "continuation_without_message", "RFC 6455 5.4";
    /// A text or binary frame while a fragmented message is still open.
    DATA_INSIDE_FRAGMENTED_MESSAGE = "data_inside_fragmented_message", "RFC 6455 5.4";
    /// A text message that is not UTF-8.
    INVALID_UTF8_TEXT = "invalid_utf8_text", "RFC 6455 5.6";
    /// A close reason that is not UTF-8.
    INVALID_UTF8_CLOSE_REASON = "invalid_utf8_close_reason", "RFC 6455 5.5.1";
    /// A close code not allowed on the wire.
    INVALID_CLOSE_CODE = "invalid_close_code", "RFC 6455 7.4";
    /// A close payload of exactly one byte.
    CLOSE_PAYLOAD_ONE_BYTE = "close_payload_one_byte", "RFC 6455 5.5.1";
    /// A frame sent after the sender's own close frame.
    FRAME_AFTER_CLOSE = "frame_after_close", "RFC 6455 5.5.1";
    /// A pong whose payload matches no outstanding ping (a note: unsolicited pongs are allowed).
    UNSOLICITED_PONG = "unsolicited_pong", "RFC 6455 5.5.3", note;
    /// Pings never answered by the end of the connection.
    UNANSWERED_PING = "unanswered_ping", "RFC 6455 5.5.2";
    /// permessage-deflate data that does not inflate.
    DECOMPRESSION_FAILED = "decompression_failed", "RFC 7692 7.2.2";
    /// An inflated message larger than the configured bound.
    MESSAGE_TOO_BIG = "message_too_big", "RFC 6455 10.4", note;
    /// A message inflating more than the configured ratio.
    INFLATE_RATIO_EXCEEDED = "inflate_ratio_exceeded", "RFC 6455 10.4", note;
    /// The TCP connection ended without a close frame.
    ABNORMAL_CLOSURE = "abnormal_closure", "RFC 6455 7.1.5";
    /// Bytes lost from the stream; what was skipped and where decoding resumed.
    GAP_RESYNC = "gap_resync", "RFC 6455 5.2", note;
    /// The connection ended inside a fragmented message.
    UNFINISHED_MESSAGE = "unfinished_message", "RFC 6455 5.4";
    /// The connection (or capture) ended inside a frame.
    UNFINISHED_FRAME = "unfinished_frame", "RFC 6455 5.2";
    /// Decoding began without the handshake (a note on confidence).
    MID_STREAM = "mid_stream", "RFC 6455 5.2", note;
    /// permessage-deflate in use but its parameters unknown (mid-stream capture).
    DEFLATE_PARAMS_UNKNOWN = "deflate_params_unknown", "RFC 7692 7.1", note;
}
