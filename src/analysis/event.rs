//! The timeline model: one [`Event`] per thing that happened on a connection.
//!
//! Every view (text, NDJSON, stats, the TUI) reads these same events. The
//! serde form of [`Event`] *is* the NDJSON contract (`../shared/CONTRACT.md`):
//! fields may be added, never renamed or removed.

use serde::Serialize;

use crate::rules::Violation;
use crate::text::Hex;
use crate::types::{Direction, Timestamp};

/// One event of the timeline.
#[derive(Clone, Debug, Serialize)]
pub struct Event {
    /// TCP connection number, from 0 in order of first packet (tshark's `tcp.stream`).
    pub conn: u64,
    /// 1-based number of the packet in which the event completes.
    pub pkt: u64,
    /// That packet's capture time.
    pub ts: Timestamp,
    /// The sender, where the event has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dir: Option<Direction>,
    /// The HTTP/2 stream, for everything of a stream (a WebSocket over HTTP/2, a
    /// request); absent elsewhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<u32>,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

pub use crate::tcp::{HandshakeStep, TeardownHow, TeardownStep};
pub use crate::ws::MessageKind;

/// One requirement of the opening handshake, as `ws_handshake`'s `checks` list it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    /// The requirement, e.g. `"method is GET"`.
    pub name: &'static str,
    /// Whether the handshake met it.
    pub ok: bool,
    /// What was seen (terminal-safe), e.g. `"GET"` or `"1 header(s)"`.
    pub seen: String,
    /// The rule, e.g. `"RFC 6455 4.2.1"`.
    pub rule: &'static str,
}

/// A step of the TLS handshake, with the fields the contract gives it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum TlsStep {
    /// The client's offer.
    ClientHello {
        /// Server Name Indication.
        sni: Option<String>,
        /// ALPN protocols offered.
        alpn: Vec<String>,
        /// Versions offered (`"TLS 1.3"`, ...).
        versions: Vec<String>,
        /// Cipher suites offered (extension).
        cipher_suites: usize,
        /// A pre-shared key (session resumption) is offered (extension).
        resumption: bool,
    },
    /// The server's choice (a HelloRetryRequest has `retry`).
    ServerHello {
        /// Negotiated version, e.g. `"TLS 1.3"`.
        version: String,
        /// Cipher suite by IANA name.
        cipher: String,
        /// ALPN chosen (TLS 1.2; TLS 1.3 tells it encrypted, see `done`).
        alpn: Option<String>,
        /// The session is resumed (extension).
        resumed: bool,
        /// A HelloRetryRequest (extension).
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        retry: bool,
    },
    /// The server's certificate (extension).
    Certificate {
        /// Subject.
        subject: Option<String>,
        /// Issuer.
        issuer: Option<String>,
    },
    /// Both Finished messages seen: the handshake is over.
    Done {
        /// Negotiated version (extension).
        version: String,
        /// Cipher suite (extension).
        cipher: String,
        /// ALPN chosen, from either side of TLS 1.3's encryption (extension).
        alpn: Option<String>,
    },
}

/// A message's whole payload (after unmasking and inflation). Serialized as the
/// contract's `payload` (the exact text of a valid UTF-8 text message, else base64)
/// and `payload_encoding` (`"utf8"` or `"base64"`), with `payload_truncated: true`
/// when the payload was cut at its bound.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payload {
    /// The bytes (at most the bound).
    pub bytes: Vec<u8>,
    /// A text message.
    pub text: bool,
    /// Cut at the bound (or where inflation stopped).
    pub truncated: bool,
}

impl Payload {
    /// The payload as text, when it is a text message in valid UTF-8.
    pub fn as_utf8(&self) -> Option<&str> {
        if self.text {
            std::str::from_utf8(&self.bytes).ok()
        } else {
            None
        }
    }
}

impl Serialize for Payload {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use base64::Engine as _;
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        match self.as_utf8() {
            Some(t) => {
                m.serialize_entry("payload", t)?;
                m.serialize_entry("payload_encoding", "utf8")?;
            }
            None => {
                let b64 = base64::engine::general_purpose::STANDARD.encode(&self.bytes);
                m.serialize_entry("payload", &b64)?;
                m.serialize_entry("payload_encoding", "base64")?;
            }
        }
        if self.truncated {
            m.serialize_entry("payload_truncated", &true)?;
        }
        m.end()
    }
}

/// One packet of a protocol riding on WebSocket, as `ws_message`'s `app` gives it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AppInfo {
    /// `socket.io`, `engine.io`, `mqtt`, `graphql-transport-ws`, `graphql-ws`,
    /// `stomp`, `json-rpc` or `json`.
    pub protocol: &'static str,
    /// The packet, message or command type as the protocol names it.
    #[serde(rename = "type")]
    pub kind: String,
    /// Event name, topic, destination, method or operation name (made safe).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Ack id, packet id, operation id, request id: a number, a string or null.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<serde_json::Value>,
    /// One readable line (made safe), as the text timeline shows it (extension).
    pub summary: String,
}

/// What a `ws_message` carries beyond its counts, when payloads are kept.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct MessageBody {
    /// The whole payload.
    #[serde(flatten)]
    pub payload: Option<Payload>,
    /// The first packet of the protocol riding on WebSocket that the message completed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app: Option<Box<AppInfo>>,
    /// All of them, when the message completed more than one (`app` is the first).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub apps: Vec<AppInfo>,
}

impl MessageBody {
    /// Every packet of the protocol riding on the message: `apps`, or `app` alone.
    pub fn all_apps(&self) -> Vec<&AppInfo> {
        if self.apps.is_empty() {
            self.app.as_deref().into_iter().collect()
        } else {
            self.apps.iter().collect()
        }
    }
}

/// A message's preview: its first bytes, kept as they came and shown (text made
/// safe, binary as hex, `…` for a cut) where they are shown. `print --json` renders
/// it on its writer thread, not on the decoder's.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct MessagePreview {
    head: crate::ws::message::Preview,
    text: bool,
    len: u64,
}

impl MessagePreview {
    /// The first bytes `head` of a message of `len` bytes.
    pub fn new(head: crate::ws::message::Preview, kind: MessageKind, len: u64) -> Self {
        MessagePreview {
            head,
            text: kind == MessageKind::Text,
            len,
        }
    }

    /// A message of `len` bytes whose first bytes are `head`.
    pub fn from_head(head: &[u8], kind: MessageKind, len: u64) -> Self {
        let mut kept = crate::ws::message::Preview::new(head.len());
        kept.push(head);
        MessagePreview::new(kept, kind, len)
    }

    /// The preview as shown.
    pub fn render(&self) -> String {
        self.head.render(self.text, self.len)
    }

    /// Nothing to show.
    pub fn is_empty(&self) -> bool {
        self.head.bytes().is_empty() && self.len == 0
    }
}

impl std::fmt::Display for MessagePreview {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render())
    }
}

impl std::fmt::Debug for MessagePreview {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.render())
    }
}

/// A string, as shown.
impl Serialize for MessagePreview {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.render())
    }
}

/// An HTTP header as `[name, value]`, made safe for a terminal.
pub type Header = (String, String);

/// What happened, with the fields of the NDJSON contract.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// A new TCP connection.
    ConnOpen {
        /// `ip:port` (IPv6 as `[ip]:port`).
        client: String,
        /// `ip:port` (IPv6 as `[ip]:port`).
        server: String,
        /// True when the capture began after the SYN.
        mid_stream: bool,
    },
    /// A step of the three-way handshake.
    TcpHandshake {
        /// Which step.
        step: HandshakeStep,
        /// On `ack`: the time from SYN to ACK.
        #[serde(skip_serializing_if = "Option::is_none")]
        rtt_ms: Option<f64>,
        /// True for a SYN or SYN-ACK seen again (extension).
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        retransmission: bool,
    },
    /// An HTTP request head.
    HttpRequest {
        /// Request method.
        method: String,
        /// Request target.
        target: String,
        /// e.g. `HTTP/1.1`.
        version: String,
        /// Headers in wire order.
        headers: Vec<Header>,
        /// An upgrade request's checklist (its side of the handshake's requirements),
        /// as `ws_handshake`'s `checks` (extension; absent for other requests).
        #[serde(skip_serializing_if = "Option::is_none")]
        checks: Option<Vec<Check>>,
        /// Engine.IO long polling: the packets its body carried (`app`, `apps`;
        /// extension, emitted once the body is complete).
        #[serde(flatten)]
        body: MessageBody,
    },
    /// An HTTP response head.
    HttpResponse {
        /// Status code.
        status: u16,
        /// Reason phrase.
        reason: String,
        /// e.g. `HTTP/1.1`.
        version: String,
        /// Headers in wire order.
        headers: Vec<Header>,
        /// Engine.IO long polling: the packets its body carried (`app`, `apps`;
        /// extension, emitted once the body is complete).
        #[serde(flatten)]
        body: MessageBody,
    },
    /// The outcome of the WebSocket opening handshake.
    WsHandshake {
        /// `Sec-WebSocket-Key` of the request (or null).
        key: Option<String>,
        /// `Sec-WebSocket-Accept` of the response (or null).
        accept: Option<String>,
        /// The Accept the key calls for (or null without a valid key).
        expected_accept: Option<String>,
        /// The response's Accept equals the expected one.
        accept_ok: bool,
        /// `Sec-WebSocket-Version` of the request (or null).
        version: Option<String>,
        /// Extensions the server accepted.
        extensions: Vec<String>,
        /// Subprotocol the server accepted.
        subprotocol: Option<String>,
        /// The upgrade succeeded.
        ok: bool,
        /// Status code of the response (extension).
        status: u16,
        /// Why the upgrade failed, when `ok` is false (extension).
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// Extensions the client offered (extension).
        offered_extensions: Vec<String>,
        /// Subprotocols the client offered (extension).
        offered_subprotocols: Vec<String>,
        /// Every requirement of the handshake, request and response side, passed or
        /// not: what every view shows as the upgrade checklist (extension).
        checks: Vec<Check>,
        /// `"http/1.1"` (Upgrade, 101) or `"h2"` (RFC 8441 extended CONNECT, 2xx).
        transport: &'static str,
    },
    /// One WebSocket frame.
    WsFrame {
        /// FIN bit.
        fin: bool,
        /// RSV1..3 as a number 0..7 (RSV1 = 4).
        rsv: u8,
        /// Opcode 0..15.
        opcode: u8,
        /// `continuation` `text` `binary` `close` `ping` `pong` or `reserved`.
        opname: &'static str,
        /// MASK bit.
        masked: bool,
        /// Mask key (8 hex digits in the NDJSON).
        mask_key: Option<Hex<4>>,
        /// Payload length from the header.
        len: u64,
        /// Header length in bytes (2..14).
        header_len: u8,
        /// Close frames: the status code, or null for an empty payload.
        #[serde(skip_serializing_if = "Option::is_none")]
        close_code: Option<Option<u16>>,
        /// Close frames: the reason (made safe).
        #[serde(skip_serializing_if = "Option::is_none")]
        close_reason: Option<String>,
        /// The first payload bytes, unmasked, as hex (extension, at most 32 bytes).
        payload_hex: Hex<32>,
        /// Pongs: round trip from the matching ping (extension).
        #[serde(skip_serializing_if = "Option::is_none")]
        rtt_ms: Option<f64>,
        /// True when decoded without seeing the handshake (extension).
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        mid_stream: bool,
    },
    /// One complete WebSocket message.
    WsMessage {
        /// Text or binary.
        kind: MessageKind,
        /// Number of frames.
        frames: u32,
        /// Bytes after decompression.
        len: u64,
        /// Bytes on the wire, headers included.
        wire_len: u64,
        /// RSV1 / permessage-deflate.
        compressed: bool,
        /// First bytes, text made safe, binary as hex (a string in the NDJSON).
        preview: MessagePreview,
        /// permessage-deflate messages: payload bytes before inflation, headers excluded (extension).
        #[serde(skip_serializing_if = "Option::is_none")]
        compressed_len: Option<u64>,
        /// The whole payload and the protocol riding on it, when payloads are kept
        /// (`payload`, `payload_encoding`, `payload_truncated`, `app`, `apps`).
        #[serde(flatten)]
        body: MessageBody,
    },
    /// The close exchange as a whole.
    WsClose {
        /// Who sent the first close frame; for an abnormal end, null.
        initiator: Option<Direction>,
        /// Close code (1006 for an abnormal end, never on the wire).
        code: Option<u16>,
        /// Close reason.
        reason: String,
        /// The peer answered with a close.
        echoed: bool,
        /// Both closes seen before the TCP end.
        clean: bool,
        /// First close to its echo (extension).
        #[serde(skip_serializing_if = "Option::is_none")]
        echo_ms: Option<f64>,
        /// First close to the first TCP FIN or RST (extension).
        #[serde(skip_serializing_if = "Option::is_none")]
        fin_ms: Option<f64>,
    },
    /// A FIN or RST.
    TcpTeardown {
        /// FIN or RST.
        how: TeardownHow,
        /// For FINs: the FIN or its ACK.
        #[serde(skip_serializing_if = "Option::is_none")]
        step: Option<TeardownStep>,
    },
    /// A step of the TLS handshake.
    TlsHandshake {
        /// Which step, with its fields.
        #[serde(flatten)]
        step: TlsStep,
    },
    /// One direction's decryption outcome.
    TlsDecrypt {
        /// Decryption works.
        ok: bool,
        /// Why not (`no_key`, `bad_tag`, `unsupported_cipher`, ...).
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<&'static str>,
    },
    /// A TLS alert.
    TlsAlert {
        /// `warning` or `fatal`.
        level: &'static str,
        /// Its name, e.g. `close_notify`.
        description: &'static str,
    },
    /// An HTTP/2 SETTINGS frame (extension).
    H2Settings {
        /// An acknowledgement.
        ack: bool,
        /// The settings by name (or `0x..` for unknown ones) and value.
        settings: Vec<(String, u32)>,
    },
    /// An HTTP/2 RST_STREAM: the stream is aborted (extension).
    H2RstStream {
        /// Error code name (or number).
        code: String,
    },
    /// An HTTP/2 GOAWAY: the connection is closing (extension).
    H2Goaway {
        /// The last stream the sender processed.
        last_stream: u32,
        /// Error code name (or number).
        code: String,
    },
    /// A rule broken.
    Violation {
        /// Stable snake_case name.
        code: &'static str,
        /// One sentence.
        message: String,
        /// The rule, e.g. `RFC 6455 5.1`.
        rfc: &'static str,
    },
    /// Bytes missing from one direction's stream.
    Gap {
        /// How many.
        bytes: u64,
    },
}

impl EventKind {
    /// What a `ws_message` (or an Engine.IO long-polling `http_request` /
    /// `http_response`) carries beyond its counts: payload, app packets.
    pub fn body(&self) -> Option<&MessageBody> {
        match self {
            EventKind::WsMessage { body, .. }
            | EventKind::HttpRequest { body, .. }
            | EventKind::HttpResponse { body, .. } => Some(body),
            _ => None,
        }
    }

    /// The `event` name as in NDJSON.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::ConnOpen { .. } => "conn_open",
            EventKind::TcpHandshake { .. } => "tcp_handshake",
            EventKind::HttpRequest { .. } => "http_request",
            EventKind::HttpResponse { .. } => "http_response",
            EventKind::WsHandshake { .. } => "ws_handshake",
            EventKind::WsFrame { .. } => "ws_frame",
            EventKind::WsMessage { .. } => "ws_message",
            EventKind::WsClose { .. } => "ws_close",
            EventKind::TcpTeardown { .. } => "tcp_teardown",
            EventKind::TlsHandshake { .. } => "tls_handshake",
            EventKind::TlsDecrypt { .. } => "tls_decrypt",
            EventKind::TlsAlert { .. } => "tls_alert",
            EventKind::H2Settings { .. } => "h2_settings",
            EventKind::H2RstStream { .. } => "h2_rst_stream",
            EventKind::H2Goaway { .. } => "h2_goaway",
            EventKind::Violation { .. } => "violation",
            EventKind::Gap { .. } => "gap",
        }
    }
}

impl From<Violation> for EventKind {
    fn from(v: Violation) -> EventKind {
        super::contract::violation(v)
    }
}
