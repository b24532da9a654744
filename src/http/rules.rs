//! Every rule the HTTP layer checks: the request and response heads (RFC 9110,
//! RFC 9112) and the WebSocket opening handshake (RFC 6455 §4, RFC 7692 §7).

crate::rules! {
    /// The upgrade request is not a GET.
    UPGRADE_METHOD_NOT_GET = "upgrade_method_not_get", "RFC 6455 4.2.1";
    /// The upgrade request is older than HTTP/1.1.
    UPGRADE_HTTP_VERSION = "upgrade_http_version", "RFC 6455 4.2.1";
    /// The upgrade request has no Host.
    UPGRADE_MISSING_HOST = "upgrade_missing_host", "RFC 6455 4.2.1";
    /// The upgrade request's Upgrade header lacks `websocket`.
    UPGRADE_MISSING_UPGRADE_WEBSOCKET = "upgrade_missing_upgrade_websocket", "RFC 6455 4.2.1";
    /// The upgrade request's Connection header lacks `Upgrade`.
    UPGRADE_MISSING_CONNECTION_UPGRADE = "upgrade_missing_connection_upgrade", "RFC 6455 4.2.1";
    /// `Sec-WebSocket-Version` is not exactly 13.
    UPGRADE_BAD_VERSION = "upgrade_bad_version", "RFC 6455 4.2.1";
    /// No `Sec-WebSocket-Key`.
    UPGRADE_MISSING_KEY = "upgrade_missing_key", "RFC 6455 4.2.1";
    /// A key that is not the base64 of 16 bytes.
    UPGRADE_BAD_KEY = "upgrade_bad_key", "RFC 6455 4.2.1";
    /// More than one `Sec-WebSocket-Key`.
    UPGRADE_DUPLICATE_KEY = "upgrade_duplicate_key", "RFC 6455 11.3.1";
    /// The 101 does not say `Upgrade: websocket`.
    RESPONSE_MISSING_UPGRADE = "response_missing_upgrade", "RFC 6455 4.1";
    /// The 101's Connection header lacks `Upgrade`.
    RESPONSE_MISSING_CONNECTION = "response_missing_connection", "RFC 6455 4.1";
    /// The 101 has no `Sec-WebSocket-Accept`.
    ACCEPT_MISSING = "accept_missing", "RFC 6455 4.1";
    /// The Accept is not base64(SHA-1(key + GUID)).
    ACCEPT_MISMATCH = "accept_mismatch", "RFC 6455 4.1";
    /// More than one `Sec-WebSocket-Accept`.
    ACCEPT_DUPLICATE = "accept_duplicate", "RFC 6455 11.3.3";
    /// The server accepted an extension the client did not offer.
    EXTENSION_NOT_OFFERED = "extension_not_offered", "RFC 6455 4.1";
    /// The server chose a subprotocol the client did not offer.
    SUBPROTOCOL_NOT_OFFERED = "subprotocol_not_offered", "RFC 6455 4.1";
    /// Invalid permessage-deflate parameters in the response.
    DEFLATE_BAD_PARAMS = "deflate_bad_params", "RFC 7692 7.1";
    /// The client sent frames before the 101 arrived.
    DATA_BEFORE_UPGRADE = "data_before_upgrade", "RFC 6455 4.1";
    /// A head larger than wsscope's bound (a note: a limit of wsscope).
    HTTP_HEAD_TOO_LARGE = "http_head_too_large", "RFC 9110 5.4", note;
    /// More header fields than wsscope parses (a note: a limit of wsscope).
    HTTP_TOO_MANY_HEADERS = "http_too_many_headers", "RFC 9110 5.4", note;
    /// Not well-formed HTTP/1.x.
    HTTP_MALFORMED = "http_malformed", "RFC 9112 2.2";
    /// A body whose length cannot be delimited.
    HTTP_BAD_LENGTH = "http_malformed", "RFC 9112 6.3";
    /// Bad chunked encoding.
    HTTP_BAD_CHUNK = "http_bad_chunk", "RFC 9112 7.1";
    /// The stream ended inside a message.
    HTTP_INCOMPLETE_MESSAGE = "http_incomplete_message", "RFC 9112 8";
    /// Both Transfer-Encoding and Content-Length.
    HTTP_CONFLICTING_LENGTH = "http_conflicting_length", "RFC 9112 6.1";
}
