//! Every rule the HTTP/2 layer checks: a stable code and its RFC section.
//!
//! Declared with [`crate::rules!`] like every layer's rules:
//! the codes are stable; the sentences are built where the violation is found.
//! Codes start with `h2_` so that they never collide with the WebSocket rules.

pub use crate::rules::Rule;

crate::rules! {
    /// The client's first 24 bytes are not the connection preface.
    BAD_PREFACE = "h2_bad_preface", "RFC 9113 3.4";
    /// A side's first frame is not SETTINGS.
    PREFACE_NOT_SETTINGS = "h2_preface_not_settings", "RFC 9113 3.4";
    /// A frame longer than the receiver's SETTINGS_MAX_FRAME_SIZE.
    FRAME_TOO_LARGE = "h2_frame_too_large", "RFC 9113 4.2";
    /// A fixed-size frame (PRIORITY, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE)
    /// with the wrong length.
    BAD_FRAME_LENGTH = "h2_bad_frame_length", "RFC 9113 6";
    /// A stream frame (DATA, HEADERS, PRIORITY, RST_STREAM, PUSH_PROMISE, CONTINUATION)
    /// on stream 0; the message names the frame's own section.
    STREAM_FRAME_ON_STREAM_ZERO = "h2_stream_frame_on_stream_zero", "RFC 9113 6";
    /// A connection frame (SETTINGS, PING, GOAWAY) on a stream other than 0.
    CONNECTION_FRAME_ON_STREAM = "h2_connection_frame_on_stream", "RFC 9113 6";
    /// A CONTINUATION that follows no open header block, or another frame inside one.
    CONTINUATION_OUT_OF_SEQUENCE = "h2_continuation_out_of_sequence", "RFC 9113 6.10";
    /// A pad length that is not smaller than the payload.
    PADDING_TOO_LONG = "h2_padding_too_long", "RFC 9113 6.1";
    /// A SETTINGS ACK with a payload.
    SETTINGS_ACK_WITH_PAYLOAD = "h2_settings_ack_with_payload", "RFC 9113 6.5";
    /// A setting value out of its range.
    BAD_SETTING_VALUE = "h2_bad_setting_value", "RFC 9113 6.5.2";
    /// SETTINGS_ENABLE_CONNECT_PROTOCOL not 0 or 1, or set back to 0 after 1.
    BAD_CONNECT_PROTOCOL_SETTING = "h2_bad_connect_protocol_setting", "RFC 8441 3";
    /// A WINDOW_UPDATE with an increment of 0.
    WINDOW_UPDATE_ZERO = "h2_window_update_zero", "RFC 9113 6.9";
    /// A stream that depends on itself.
    SELF_DEPENDENCY = "h2_self_dependency", "RFC 9113 5.3.1";
    /// A client-initiated stream with an even identifier, or a new stream whose
    /// identifier is not larger than every earlier one.
    BAD_STREAM_ID = "h2_bad_stream_id", "RFC 9113 5.1.1";
    /// DATA on a stream that was never opened.
    DATA_ON_IDLE_STREAM = "h2_data_on_idle_stream", "RFC 9113 5.1";
    /// PUSH_PROMISE from the client, or after the client disabled push.
    PUSH_NOT_ALLOWED = "h2_push_not_allowed", "RFC 9113 6.6";
    /// A header block the HPACK decoder rejects (a COMPRESSION_ERROR).
    HPACK_ERROR = "h2_hpack_error", "RFC 9113 4.3";
    /// A header block (HEADERS or PUSH_PROMISE and its CONTINUATIONs) larger than
    /// wsscope keeps; it cannot be decoded, and HPACK context is lost with it.
    HEADER_BLOCK_TOO_LARGE = "h2_header_block_too_large", "RFC 9113 10.5.1";
    /// A header list decoding to more than wsscope keeps (an HPACK bomb); the rest of
    /// its fields are counted, not kept.
    HEADER_LIST_TOO_LARGE = "h2_header_list_too_large", "RFC 9113 10.5.1";
    /// A header field name with uppercase letters.
    UPPERCASE_HEADER_NAME = "h2_uppercase_header_name", "RFC 9113 8.2.1";
    /// A connection-specific header field (`connection`, `upgrade`, `keep-alive`,
    /// `proxy-connection`, `transfer-encoding`, or `te` other than `trailers`).
    CONNECTION_SPECIFIC_HEADER = "h2_connection_specific_header", "RFC 9113 8.2.2";
    /// `sec-websocket-key` or `sec-websocket-accept` in HTTP/2: RFC 8441 replaces the
    /// key/accept exchange with the extended CONNECT.
    WEBSOCKET_KEY_IN_H2 = "h2_websocket_key_in_h2", "RFC 8441 5";
    /// A pseudo-header after a regular field, repeated, unknown, or of the wrong kind
    /// (a request pseudo-header in a response or the reverse, any in trailers).
    BAD_PSEUDO_HEADER = "h2_bad_pseudo_header", "RFC 9113 8.3";
    /// A request without `:method`, `:scheme` or `:path` (not CONNECT), or a response
    /// without `:status`.
    MISSING_PSEUDO_HEADER = "h2_missing_pseudo_header", "RFC 9113 8.3";
    /// `:protocol` before the server sent SETTINGS_ENABLE_CONNECT_PROTOCOL = 1.
    PROTOCOL_NOT_ENABLED = "h2_protocol_not_enabled", "RFC 8441 4";
    /// `:protocol` on a request whose method is not CONNECT.
    PROTOCOL_WITHOUT_CONNECT = "h2_protocol_without_connect", "RFC 8441 4";
    /// An extended CONNECT without `:path` or `:scheme`.
    EXTENDED_CONNECT_INCOMPLETE = "h2_extended_connect_incomplete", "RFC 8441 4";
    /// An extended CONNECT for `websocket` without `sec-websocket-version: 13`.
    WEBSOCKET_VERSION = "h2_websocket_version", "RFC 8441 5";
    /// A note: bytes were lost; what was skipped and where frame decoding resumed.
    GAP_RESYNC = "h2_gap_resync", "RFC 9113 4.1", note;
    /// The direction ended inside a frame or inside a header block.
    UNFINISHED_FRAME = "h2_unfinished_frame", "RFC 9113 4.1";
    /// The HTTP2-Settings header of an h2c upgrade is not base64url of a SETTINGS payload.
    BAD_HTTP2_SETTINGS_HEADER = "h2_bad_http2_settings_header", "RFC 7540 3.2.1";
}

#[cfg(test)]
mod tests {
    #[test]
    fn codes_are_unique_snake_case_and_distinct_from_ws() {
        let mut seen = std::collections::HashSet::new();
        for r in crate::ws::violations::ALL {
            seen.insert(r.code);
        }
        for r in super::ALL {
            assert!(seen.insert(r.code), "duplicate {}", r.code);
            assert!(r.code.starts_with("h2_"));
            assert!(r
                .code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit()));
            assert!(r.rfc.starts_with("RFC "));
        }
    }
}
