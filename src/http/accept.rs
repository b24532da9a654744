//! The `Sec-WebSocket-Key` / `Sec-WebSocket-Accept` computation (RFC 6455 §1.3, §4.2.2).
//!
//! The Accept proves that the server read *this* request as a WebSocket handshake: it is
//! `base64(SHA-1(key + GUID))`, where the key is used as the text on the wire (it is not
//! base64-decoded first).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sha1::{Digest, Sha1};

/// The GUID every server appends to the client's key (RFC 6455 §1.3).
pub const WS_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The `Sec-WebSocket-Accept` a server must answer to `key`: `base64(SHA-1(key + GUID))`.
///
/// Leading and trailing spaces and tabs of `key` are ignored, as RFC 6455 §4.1 tells the
/// client to do; the key is otherwise used as given, valid or not.
pub fn accept_for(key: &str) -> String {
    accept_steps(key).accept
}

/// Each step of the Accept computation, for `wsscope accept --explain` and the TUI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AcceptSteps {
    /// The key as used (spaces and tabs around it removed).
    pub key: String,
    /// `key` followed by [`WS_GUID`].
    pub concatenated: String,
    /// SHA-1 of `concatenated`, 40 lower-case hex digits.
    pub sha1_hex: String,
    /// base64 of the 20 SHA-1 bytes: the `Sec-WebSocket-Accept` value.
    pub accept: String,
}

/// The Accept computation for `key`, step by step (see [`accept_for`]).
pub fn accept_steps(key: &str) -> AcceptSteps {
    let key = trim_ows(key).to_string();
    let concatenated = format!("{key}{WS_GUID}");
    let digest = Sha1::digest(concatenated.as_bytes());
    AcceptSteps {
        sha1_hex: crate::text::hex(&digest),
        accept: STANDARD.encode(digest),
        key,
        concatenated,
    }
}

/// Whether `key` is a valid `Sec-WebSocket-Key`: the canonical base64 (with padding) of
/// exactly 16 bytes, i.e. 24 characters ending in `==` (RFC 6455 §4.1, §11.3.1).
/// Surrounding spaces are not accepted here: callers trim header values first.
pub fn key_is_valid(key: &str) -> bool {
    key.len() == 24
        && key.ends_with("==")
        && STANDARD
            .decode(key.as_bytes())
            .is_ok_and(|bytes| bytes.len() == 16)
}

/// `s` without the optional whitespace (spaces, tabs) HTTP allows around a field value.
pub(crate) fn trim_ows(s: &str) -> &str {
    s.trim_matches(|c| c == ' ' || c == '\t')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6455_section_1_3_example() {
        assert_eq!(
            accept_for("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn steps_of_the_rfc_example() {
        // sha1_hex computed independently: printf '%s' 'dGhl...258EAFA5-...' | sha1sum
        let s = accept_steps(" dGhlIHNhbXBsZSBub25jZQ==\t");
        assert_eq!(s.key, "dGhlIHNhbXBsZSBub25jZQ==");
        assert_eq!(
            s.concatenated,
            "dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
        );
        assert_eq!(s.sha1_hex, "b37a4f2cc0624f1690f64606cf385945b2bec4ea");
        assert_eq!(s.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn key_validity() {
        let table: &[(&str, bool)] = &[
            ("dGhlIHNhbXBsZSBub25jZQ==", true),
            ("AAAAAAAAAAAAAAAAAAAAAA==", true),
            ("dGhlIHNhbXBsZSBub25jZQ", false),    // padding missing
            ("dGhlIHNhbXBsZSBub25jZR==", false),  // non-canonical last character
            ("c3VyaWNhdGEtdGVzdC1rZXkh", false),  // 18 bytes (suricata capture)
            ("dGhlIHNhbXBsZSBub25jZQ== ", false), // not trimmed
            ("dGhlIHNhbXBsZSBub25jZQ=!", false),  // not base64
            ("", false),
            ("dGhlIHNhbXBsZSBub25jZSE=", false), // 17 bytes
            ("ééééééééééééééééééééé==", false),  // non-ASCII
        ];
        for (key, want) in table {
            assert_eq!(key_is_valid(key), *want, "{key:?}");
        }
    }
}
