//! Every rule the application-protocol decoders check: a stable code and the
//! section of the protocol's specification it comes from.
//!
//! Declared with [`crate::rules!`] like every layer's rules (the [`Rule`]'s
//! `rfc` field here names the specification: MQTT 3.1.1 / 5.0 section numbers,
//! STOMP 1.2, JSON-RPC 2.0, Socket.IO protocol v5, Engine.IO protocol v4, the
//! graphql-ws `PROTOCOL.md` documents). The sentences are built where the
//! violation is found, with the facts of the case.

pub use crate::rules::Rule;

crate::rules! {
    // ---- Engine.IO / Socket.IO ----
    /// An Engine.IO packet whose type is not one of 0-6, or an empty packet.
    EIO_BAD_PACKET_TYPE = "eio_bad_packet_type", "Engine.IO protocol v4, Packet encoding";
    /// The `open` packet's handshake is not a JSON object with a string `sid`.
    EIO_BAD_HANDSHAKE = "eio_bad_handshake", "Engine.IO protocol v4, Handshake";
    /// A long-polling payload that cannot be split into packets (v3 lengths, v4 separators).
    EIO_BAD_PAYLOAD = "eio_bad_payload", "Engine.IO protocol v4, Payload encoding";
    /// A binary packet in a polling payload whose base64 does not decode.
    EIO_BAD_BASE64 = "eio_bad_base64", "Engine.IO protocol v4, Packet encoding";
    /// A Socket.IO packet type that is not one of 0-6.
    SIO_BAD_PACKET_TYPE = "sio_bad_packet_type", "Socket.IO protocol v5, Packet types";
    /// The Socket.IO header (attachments, namespace, ack id) is malformed.
    SIO_BAD_HEADER = "sio_bad_header", "Socket.IO protocol v5, Packet format";
    /// The Socket.IO payload is not JSON, or not the shape its packet type requires.
    SIO_BAD_PAYLOAD = "sio_bad_payload", "Socket.IO protocol v5, Packet types";
    /// A binary message with no BINARY_EVENT/BINARY_ACK waiting for attachments.
    SIO_UNEXPECTED_ATTACHMENT = "sio_unexpected_attachment", "Socket.IO protocol v5, BINARY_EVENT";
    /// A packet arrived while the previous binary packet still waited for attachments.
    SIO_MISSING_ATTACHMENT = "sio_missing_attachment", "Socket.IO protocol v5, BINARY_EVENT";

    // ---- MQTT ----
    /// Packet type 0 (reserved), or 15 (AUTH) before MQTT 5.
    MQTT_RESERVED_TYPE = "mqtt_reserved_type", "MQTT 3.1.1 2.2.1 / MQTT 5.0 2.1.2";
    /// Fixed-header flag bits that the packet type reserves.
    MQTT_BAD_FLAGS = "mqtt_bad_flags", "MQTT 3.1.1 2.2.2 / MQTT 5.0 2.1.3";
    /// A Remaining Length (or Variable Byte Integer) longer than four bytes.
    MQTT_BAD_REMAINING_LENGTH = "mqtt_bad_remaining_length", "MQTT 3.1.1 2.2.3 / MQTT 5.0 1.5.5";
    /// A packet shorter than its fields, or with bytes left over.
    MQTT_MALFORMED = "mqtt_malformed", "MQTT 3.1.1 4.8 / MQTT 5.0 4.13";
    /// PUBLISH with both QoS bits set.
    MQTT_BAD_QOS = "mqtt_bad_qos", "MQTT 3.1.1 3.3.1.2 / MQTT 5.0 3.3.1.2";
    /// A UTF-8 string field that is not UTF-8 or holds U+0000.
    MQTT_BAD_UTF8 = "mqtt_bad_utf8", "MQTT 3.1.1 1.5.3 / MQTT 5.0 1.5.4";
    /// A packet that needs a non-zero packet identifier carries 0.
    MQTT_ZERO_PACKET_ID = "mqtt_zero_packet_id", "MQTT 3.1.1 2.3.1 / MQTT 5.0 2.2.1";
    /// SUBSCRIBE or UNSUBSCRIBE with no topic filter.
    MQTT_NO_TOPIC_FILTER = "mqtt_no_topic_filter", "MQTT 3.1.1 3.8.3 / MQTT 5.0 3.8.3";
    /// CONNECT whose protocol name is not `MQTT` (or `MQIsdp` for 3.1) or level unknown.
    MQTT_BAD_PROTOCOL = "mqtt_bad_protocol", "MQTT 3.1.1 3.1.2.1 / MQTT 5.0 3.1.2.1";
    /// A PUBLISH topic name with wildcard characters.
    MQTT_WILDCARD_IN_TOPIC = "mqtt_wildcard_in_topic", "MQTT 3.1.1 4.7.1 / MQTT 5.0 4.7.1";
    /// Bytes that are not an MQTT packet on an MQTT WebSocket (text message, or a
    /// packet announced beyond what the decoder holds; the stream was resynchronised).
    MQTT_NOT_BINARY = "mqtt_not_binary", "MQTT 3.1.1 6.0 / MQTT 5.0 6.0";

    // ---- GraphQL over WebSocket ----
    /// A message that is not a JSON object with a string `type`, or an unknown type.
    GQL_BAD_MESSAGE = "gql_bad_message", "graphql-ws PROTOCOL.md, Message types";
    /// A message type of the other GraphQL-over-WebSocket protocol.
    GQL_WRONG_PROTOCOL = "gql_wrong_protocol", "graphql-ws PROTOCOL.md, Communication";
    /// An operation message without its `id`.
    GQL_MISSING_ID = "gql_missing_id", "graphql-ws PROTOCOL.md, Subscribe";
    /// Subscribe/start without a `payload.query` string.
    GQL_MISSING_QUERY = "gql_missing_query", "graphql-ws PROTOCOL.md, Subscribe";
    /// Subscribe with an id that is still in use (close 4409).
    GQL_DUPLICATE_ID = "gql_duplicate_id", "graphql-ws PROTOCOL.md, Subscribe";
    /// A client message the protocol only allows from the server, or the reverse.
    GQL_WRONG_DIRECTION = "gql_wrong_direction", "graphql-ws PROTOCOL.md, Message types";

    // ---- STOMP ----
    /// A command line that is not a STOMP command.
    STOMP_UNKNOWN_COMMAND = "stomp_unknown_command", "STOMP 1.2 Frames";
    /// A header line without a colon, or with an undefined escape.
    STOMP_BAD_HEADER = "stomp_bad_header", "STOMP 1.2 Value Encoding";
    /// The body is not followed by the NUL octet (content-length wrong, or no NUL at all).
    STOMP_MISSING_NUL = "stomp_missing_nul", "STOMP 1.2 Body";
    /// A header the command requires is missing.
    STOMP_MISSING_HEADER = "stomp_missing_header", "STOMP 1.2 Client Frames";
    /// A `heart-beat` header that is not two comma-separated integers.
    STOMP_BAD_HEART_BEAT = "stomp_bad_heart_beat", "STOMP 1.2 Heart-beating";
    /// A frame larger than the decoder holds (its rest was skipped).
    STOMP_FRAME_TOO_LARGE = "stomp_frame_too_large", "STOMP 1.2 Size Limits";

    // ---- JSON-RPC 2.0 ----
    /// Not a JSON object (or a batch of them), or not JSON at all.
    JSONRPC_NOT_OBJECT = "jsonrpc_not_object", "JSON-RPC 2.0 4";
    /// `jsonrpc` missing or not exactly "2.0".
    JSONRPC_BAD_VERSION = "jsonrpc_bad_version", "JSON-RPC 2.0 4";
    /// `method` not a string.
    JSONRPC_BAD_METHOD = "jsonrpc_bad_method", "JSON-RPC 2.0 4";
    /// `id` neither a string, a number nor null.
    JSONRPC_BAD_ID = "jsonrpc_bad_id", "JSON-RPC 2.0 4";
    /// `params` neither an array nor an object.
    JSONRPC_BAD_PARAMS = "jsonrpc_bad_params", "JSON-RPC 2.0 4.2";
    /// A response with both or neither of `result` and `error`, or without `id`.
    JSONRPC_BAD_RESPONSE = "jsonrpc_bad_response", "JSON-RPC 2.0 5";
    /// An error object without an integer `code` and a string `message`.
    JSONRPC_BAD_ERROR = "jsonrpc_bad_error", "JSON-RPC 2.0 5.1";
    /// An empty batch array.
    JSONRPC_EMPTY_BATCH = "jsonrpc_empty_batch", "JSON-RPC 2.0 6";

    // ---- shared ----
    /// More application packets in one WebSocket message or HTTP body than the
    /// decoder reports (`MAX_PACKETS_PER_MESSAGE`); the rest was skipped. An
    /// implementation limit, as RFC 6455 10.4 allows.
    APP_TOO_MANY_PACKETS = "app_too_many_packets", "RFC 6455 10.4";
    /// A text message that should be JSON and is not.
    APP_BAD_JSON = "app_bad_json", "RFC 8259 2";
}

#[cfg(test)]
mod tests {
    #[test]
    fn codes_are_unique_snake_case_with_a_spec() {
        let mut seen = std::collections::HashSet::new();
        for r in super::ALL {
            assert!(seen.insert(r.code), "duplicate {}", r.code);
            assert!(r
                .code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit()));
            assert!(!r.rfc.is_empty());
        }
        // No clash with the WebSocket layer's codes.
        for r in crate::ws::violations::ALL {
            assert!(!seen.contains(r.code), "{} also a ws rule", r.code);
        }
    }
}
