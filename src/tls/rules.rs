//! Every rule the TLS layer checks: a stable snake_case code and its RFC section.
//!
//! Declared with [`crate::rules!`] like every layer's rules;
//! the sentences are built where the violation is found, with the facts of the case.

pub use crate::rules::Rule;

crate::rules! {
    /// A record whose length field exceeds 2^14 + 2048 (the largest TLSCiphertext).
    RECORD_TOO_LONG = "tls_record_too_long", "RFC 5246 6.2.3";
    /// A decrypted record whose plaintext exceeds 2^14 bytes.
    RECORD_OVERFLOW = "tls_record_overflow", "RFC 8446 5.4";
    /// A record with a content type that is not 20-24.
    UNKNOWN_CONTENT_TYPE = "tls_unknown_content_type", "RFC 8446 5.1";
    /// A record whose protocol version major byte is not 3.
    BAD_RECORD_VERSION = "tls_bad_record_version", "RFC 8446 5.1";
    /// A zero-length handshake or alert record.
    EMPTY_RECORD = "tls_empty_record", "RFC 8446 5.1";
    /// A ChangeCipherSpec record that is not the single byte 1.
    MALFORMED_CHANGE_CIPHER_SPEC = "tls_malformed_change_cipher_spec", "RFC 8446 5";
    /// An alert record that is not two bytes.
    MALFORMED_ALERT = "tls_malformed_alert", "RFC 8446 6";
    /// A handshake message that does not parse.
    MALFORMED_HANDSHAKE = "tls_malformed_handshake", "RFC 8446 4";
    /// A handshake message longer than this layer holds.
    HANDSHAKE_TOO_LONG = "tls_handshake_too_long", "RFC 8446 4";
    /// A TLS 1.3 record whose decrypted content is all zeros (no inner content type).
    NO_INNER_CONTENT_TYPE = "tls_no_inner_content_type", "RFC 8446 5.4";
    /// A record after the sender's close_notify.
    DATA_AFTER_CLOSE_NOTIFY = "tls_data_after_close_notify", "RFC 8446 6.1";
    /// Application data before the handshake set up encryption.
    UNEXPECTED_APPLICATION_DATA = "tls_unexpected_application_data", "RFC 8446 5.1";
    /// The connection ended inside a record.
    UNFINISHED_RECORD = "tls_unfinished_record", "RFC 8446 5.1";
    /// Bytes lost from the stream: what was skipped and where decoding resumed (a note).
    GAP_RESYNC = "tls_gap_resync", "RFC 8446 5.1", note;
    /// Early data (0-RTT) that this layer cannot decrypt (a note).
    EARLY_DATA_SKIPPED = "tls_early_data_skipped", "RFC 8446 4.2.10", note;
}
