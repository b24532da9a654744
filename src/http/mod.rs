//! The HTTP layer: incremental HTTP/1.x parsing of each direction of a connection, the
//! RFC 6455 §4 opening-handshake requirements, and the `Sec-WebSocket-Accept` computation.
//!
//! - [`HttpParser`] (in `parse`): one direction's bytes in, [`HttpItem`]s out; bodies are
//!   skipped by counting, only heads are buffered.
//! - [`check_request`] and [`check_upgrade`] (in `upgrade`): the handshake checklist.
//! - [`accept_for`] and [`accept_steps`] (in `accept`): `base64(SHA-1(key + GUID))`.
//!
//! Header names and values are kept as they were on the wire (decoded lossily from bytes);
//! they must go through [`crate::text::safe`] before reaching a terminal.

mod accept;
mod parse;
pub mod rules;
mod upgrade;

pub use accept::{accept_for, accept_steps, key_is_valid, AcceptSteps, WS_GUID};
pub use parse::{
    HttpItem, HttpParser, ParserState, Role, DEFAULT_MAX_HEAD_BYTES, MAX_HEADERS, REQUEST_STARTS,
};
pub use upgrade::{
    check_request, check_upgrade, deflate_params, parse_extensions, request_checks,
    request_checks_and_violations, Check, DeflateParams, Extension, Upgrade,
};

use accept::trim_ows;

/// An HTTP request head (start line and header fields).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestHead {
    /// The method, e.g. `GET`.
    pub method: String,
    /// The request target, e.g. `/chat?room=1`.
    pub target: String,
    /// `HTTP/1.0` or `HTTP/1.1`.
    pub version: String,
    /// Header fields in wire order; values decoded lossily from their bytes.
    pub headers: Vec<(String, String)>,
}

/// An HTTP response head (status line and header fields).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseHead {
    /// The status code, e.g. 101.
    pub status: u16,
    /// The reason phrase (empty when absent or not valid UTF-8).
    pub reason: String,
    /// `HTTP/1.0` or `HTTP/1.1`.
    pub version: String,
    /// Header fields in wire order; values decoded lossily from their bytes.
    pub headers: Vec<(String, String)>,
}

/// The first value of header `name` (any case), if present.
impl RequestHead {
    /// Heap bytes of its strings and headers (for the memory budget).
    pub fn heap_bytes(&self) -> usize {
        use crate::budget::{headers_bytes, string_bytes};
        string_bytes(&self.method)
            + string_bytes(&self.target)
            + string_bytes(&self.version)
            + headers_bytes(&self.headers)
    }
}

impl ResponseHead {
    /// Heap bytes of its strings and headers (for the memory budget).
    pub fn heap_bytes(&self) -> usize {
        use crate::budget::{headers_bytes, string_bytes};
        string_bytes(&self.reason) + string_bytes(&self.version) + headers_bytes(&self.headers)
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Every value of header `name` (any case), in wire order.
fn headers_all<'a>(
    headers: &'a [(String, String)],
    name: &'a str,
) -> impl Iterator<Item = &'a str> + 'a {
    headers
        .iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Whether any value of header `name` is a comma-separated list holding `token` (any case).
fn has_token(headers: &[(String, String)], name: &str, token: &str) -> bool {
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .flat_map(|(_, v)| v.split(','))
        .any(|t| trim_ows(t).eq_ignore_ascii_case(token))
}

macro_rules! header_helpers {
    ($t:ty) => {
        impl $t {
            /// The first value of header `name` (compared in any case), if present.
            pub fn header(&self, name: &str) -> Option<&str> {
                header(&self.headers, name)
            }

            /// Every value of header `name` (compared in any case), in wire order.
            pub fn headers_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
                headers_all(&self.headers, name)
            }

            /// Whether header `name` holds `token` in one of its comma-separated lists
            /// (compared in any case), as in `Connection: keep-alive, Upgrade`.
            pub fn has_token(&self, name: &str, token: &str) -> bool {
                has_token(&self.headers, name, token)
            }
        }
    };
}

header_helpers!(RequestHead);
header_helpers!(ResponseHead);

impl RequestHead {
    /// Whether this is a WebSocket upgrade request: its `Upgrade` header lists `websocket`.
    pub fn is_upgrade_request(&self) -> bool {
        self.has_token("upgrade", "websocket")
    }

    /// Whether the request asks to switch protocols at all (a non-empty `Upgrade` header,
    /// any protocol, e.g. `h2c`): after such a request the bytes that follow may not be HTTP.
    pub fn wants_upgrade(&self) -> bool {
        self.headers_all("upgrade").any(|v| !trim_ows(v).is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(headers: &[(&str, &str)]) -> RequestHead {
        RequestHead {
            method: "GET".into(),
            target: "/".into(),
            version: "HTTP/1.1".into(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn header_lookup_is_case_insensitive_and_first_wins() {
        let r = req(&[("X-A", "1"), ("x-a", "2"), ("Upgrade", "WebSocket")]);
        assert_eq!(r.header("X-a"), Some("1"));
        assert_eq!(r.headers_all("X-A").collect::<Vec<_>>(), ["1", "2"]);
        assert_eq!(r.header("missing"), None);
        assert!(r.is_upgrade_request());
        assert!(r.wants_upgrade());
    }

    #[test]
    fn tokens_in_comma_lists() {
        let r = req(&[
            ("Connection", "keep-alive,  UPGRADE "),
            ("Connection", "close"),
            ("Upgrade", "h2c"),
        ]);
        assert!(r.has_token("connection", "upgrade"));
        assert!(r.has_token("connection", "Close"));
        assert!(!r.has_token("connection", "keep"));
        assert!(!r.is_upgrade_request());
        assert!(r.wants_upgrade());
        let r = req(&[("Connection", "upgraded")]);
        assert!(!r.has_token("connection", "upgrade"));
    }
}
