//! Application protocols riding on WebSocket: Socket.IO / Engine.IO, MQTT,
//! GraphQL over WebSocket (`graphql-transport-ws` and the legacy `graphql-ws`),
//! STOMP, JSON-RPC 2.0, and any other JSON.
//!
//! Sans-IO like the rest of the library: an [`AppDecoder`] per WebSocket is fed
//! whole WebSocket messages (unmasked, inflated) with their direction and
//! timestamp, and returns typed [`AppMessage`]s. Engine.IO long-polling bodies
//! (plain HTTP, before the upgrade) go through [`AppDecoder::http_body`].
//!
//! The decoder is chosen by the negotiated `Sec-WebSocket-Protocol`, then by the
//! path (`/socket.io/`, an `EIO=` query), then by the payload itself (an MQTT
//! CONNECT, a STOMP command line, `"jsonrpc":"2.0"`, a GraphQL `connection_init`,
//! an Engine.IO packet digit followed by Socket.IO/JSON); until a specific protocol
//! is recognised, JSON messages are reported as generic `json`.
//!
//! Malformed input becomes a [`Violation`] (rules in [`rules`]), never a panic;
//! every piece of state is bounded (see the `MAX_*` constants).

pub mod graphql;
pub mod jsonrpc;
pub mod mqtt;
pub mod rules;
pub mod socketio;
pub mod stomp;

mod json;
mod summary;

use std::fmt;

use crate::types::Direction;
pub use rules::Rule;

/// Application packets reported from one WebSocket message or HTTP body (MQTT,
/// STOMP heart-beats and frames, polling payloads, JSON-RPC batches); the rest is
/// skipped and reported once as type `skipped` with an `app_too_many_packets`
/// violation.
pub const MAX_PACKETS_PER_MESSAGE: usize = 4096;

/// What the WebSocket handshake said about the application protocol.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AppContext {
    /// The negotiated `Sec-WebSocket-Protocol` (the server's choice), if any.
    pub subprotocol: Option<String>,
    /// The request target of the Upgrade request (path and query), e.g.
    /// `/socket.io/?EIO=4&transport=websocket&sid=…`.
    pub path: String,
}

/// The application protocols recognised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// Socket.IO (v5 over Engine.IO v4; v4 over Engine.IO v3).
    SocketIo,
    /// Engine.IO packets that carry no Socket.IO packet (open, ping, upgrade, …).
    EngineIo,
    /// MQTT 3.1, 3.1.1 or 5.0.
    Mqtt,
    /// The `graphql-transport-ws` subprotocol (library `graphql-ws`).
    GraphqlTransportWs,
    /// The legacy `graphql-ws` subprotocol (library `subscriptions-transport-ws`).
    GraphqlWs,
    /// STOMP 1.0-1.2.
    Stomp,
    /// JSON-RPC 2.0.
    JsonRpc,
    /// Any other JSON.
    Json,
}

impl Protocol {
    /// The name used in the `app.protocol` field (CONTRACT.md, Additions).
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::SocketIo => "socket.io",
            Protocol::EngineIo => "engine.io",
            Protocol::Mqtt => "mqtt",
            Protocol::GraphqlTransportWs => "graphql-transport-ws",
            Protocol::GraphqlWs => "graphql-ws",
            Protocol::Stomp => "stomp",
            Protocol::JsonRpc => "json-rpc",
            Protocol::Json => "json",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An identifier carried by a packet: a Socket.IO ack id, an MQTT packet id, a
/// GraphQL operation id, a STOMP receipt/subscription/message id, a JSON-RPC id.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AppId {
    /// A whole number.
    Num(i64),
    /// A string (or, for a JSON-RPC id that is a fraction, its JSON text).
    Text(String),
    /// A JSON-RPC `null` id (the answer to a request that could not be read).
    Null,
}

impl fmt::Display for AppId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppId::Num(n) => write!(f, "{n}"),
            AppId::Text(s) => f.write_str(s),
            AppId::Null => f.write_str("null"),
        }
    }
}

/// A broken rule of an application protocol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The rule (stable code and specification section).
    pub rule: Rule,
    /// One sentence with the facts of the case.
    pub message: String,
}

impl Violation {
    /// A violation of `rule`.
    pub fn new(rule: Rule, message: impl Into<String>) -> Violation {
        Violation {
            rule,
            message: message.into(),
        }
    }

    /// As the crate-wide violation type (code, message, section).
    pub fn to_types(&self) -> crate::types::Violation {
        crate::rules::Violation::new(self.rule, self.message.clone())
    }
}

/// One application-level packet, frame or message.
#[derive(Clone, Debug, PartialEq)]
pub struct AppMessage {
    /// The protocol.
    pub protocol: Protocol,
    /// The type as the protocol names it (`EVENT`, `PUBLISH`, `next`, `SEND`,
    /// `request`, `ping`, …); `malformed` when nothing could be decoded.
    pub kind: String,
    /// Event name, topic, destination, method or operation name.
    pub name: Option<String>,
    /// Ack id, packet id, subscription/operation id, request id.
    pub id: Option<AppId>,
    /// Direction of the WebSocket message (or HTTP body) that carried it.
    pub dir: Direction,
    /// Timestamp (µs since the epoch) of the message that completed it.
    pub ts_micros: i64,
    /// Protocol-specific fields.
    pub detail: Detail,
    /// Rules this packet broke.
    pub violations: Vec<Violation>,
}

impl AppMessage {
    pub(crate) fn new(
        protocol: Protocol,
        kind: impl Into<String>,
        dir: Direction,
        ts: i64,
    ) -> Self {
        AppMessage {
            protocol,
            kind: kind.into(),
            name: None,
            id: None,
            dir,
            ts_micros: ts,
            detail: Detail::None,
            violations: Vec::new(),
        }
    }

    /// A `malformed` message of `protocol` carrying one violation.
    pub(crate) fn malformed(protocol: Protocol, dir: Direction, ts: i64, v: Violation) -> Self {
        let mut m = AppMessage::new(protocol, "malformed", dir, ts);
        m.violations.push(v);
        m
    }

    /// The `skipped` message closing a message or body that held more than
    /// [`MAX_PACKETS_PER_MESSAGE`] packets.
    pub(crate) fn too_many(protocol: Protocol, dir: Direction, ts: i64, rest: usize) -> Self {
        let mut m = AppMessage::new(protocol, "skipped", dir, ts);
        m.violations.push(Violation::new(
            rules::APP_TOO_MANY_PACKETS,
            format!(
                "More than {MAX_PACKETS_PER_MESSAGE} packets in one message; the remaining {rest} bytes were not decoded."
            ),
        ));
        m
    }

    /// One line of plain English for the text timeline, e.g.
    /// `socket.io EVENT "hello" nsp / (1 arg)` or `mqtt PUBLISH app/q1 QoS 1 id 4 (27 B)`.
    ///
    /// Wire strings are included as they are: views pass the line through
    /// [`crate::text::safe`] like any other text from the wire.
    pub fn summary(&self) -> String {
        summary::summary(self)
    }
}

/// Protocol-specific fields of an [`AppMessage`].
#[derive(Clone, Debug, PartialEq)]
pub enum Detail {
    /// Nothing beyond the common fields.
    None,
    /// An Engine.IO packet.
    EngineIo(Box<socketio::EngineIoDetail>),
    /// A Socket.IO packet (or one of its binary attachments).
    SocketIo(Box<socketio::SocketIoDetail>),
    /// An MQTT control packet.
    Mqtt(Box<mqtt::MqttDetail>),
    /// A GraphQL-over-WebSocket message.
    Graphql(Box<graphql::GraphqlDetail>),
    /// A STOMP frame (or a heart-beat).
    Stomp(Box<stomp::StompDetail>),
    /// A JSON-RPC request, notification or response.
    JsonRpc(Box<jsonrpc::JsonRpcDetail>),
    /// Generic JSON.
    Json(json::JsonDetail),
}

pub use json::JsonDetail;

/// Which decoder a WebSocket uses, once known.
enum State {
    /// Nothing recognised yet: sniff each message.
    Undecided,
    Eio(socketio::EioState),
    Mqtt(mqtt::MqttState),
    Graphql(graphql::GraphqlState),
    Stomp(stomp::StompState),
    JsonRpc(jsonrpc::JsonRpcState),
}

/// The application-protocol decoder of one WebSocket (or of one Engine.IO
/// long-polling session over plain HTTP).
pub struct AppDecoder {
    ctx: AppContext,
    state: State,
}

impl fmt::Debug for AppDecoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match &self.state {
            State::Undecided => "undecided",
            State::Eio(_) => "engine.io",
            State::Mqtt(_) => "mqtt",
            State::Graphql(g) => g.protocol().as_str(),
            State::Stomp(_) => "stomp",
            State::JsonRpc(_) => "json-rpc",
        };
        f.debug_struct("AppDecoder")
            .field("ctx", &self.ctx)
            .field("state", &s)
            .finish()
    }
}

/// The Engine.IO version named by a request target's `EIO=` query parameter, or 4
/// for a `/socket.io/` path without one; `None` if the target is not Engine.IO.
pub fn engine_io_version(path: &str) -> Option<u8> {
    let query = path.split_once('?').map(|(_, q)| q).unwrap_or("");
    let eio = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("EIO="))
        .and_then(|v| v.parse::<u8>().ok());
    match eio {
        Some(v @ 2..=4) => Some(v.max(3)),
        Some(_) => Some(4),
        None if path.split('?').next().unwrap_or("").contains("/socket.io/") => Some(4),
        None => None,
    }
}

impl AppDecoder {
    /// Heap bytes this decoder holds (for the memory budget).
    pub fn heap_bytes(&self) -> usize {
        use crate::budget::string_bytes;
        let ctx =
            self.ctx.subprotocol.as_ref().map_or(0, string_bytes) + string_bytes(&self.ctx.path);
        ctx + match &self.state {
            State::Undecided => 0,
            State::Eio(s) => s.heap_bytes(),
            State::Mqtt(s) => s.heap_bytes(),
            State::Graphql(s) => s.heap_bytes(),
            State::Stomp(s) => s.heap_bytes(),
            State::JsonRpc(s) => s.heap_bytes(),
        }
    }

    /// A decoder for one WebSocket, chosen by its subprotocol, then its path.
    pub fn new(ctx: AppContext) -> AppDecoder {
        let sub = ctx
            .subprotocol
            .as_deref()
            .map(|s| s.trim().to_ascii_lowercase());
        let state = match sub.as_deref() {
            Some("mqtt" | "mqttv3.1" | "mqttv3.1.1" | "mqttv5" | "mqttv5.0") => {
                State::Mqtt(mqtt::MqttState::new())
            }
            Some("graphql-transport-ws") => State::Graphql(graphql::GraphqlState::new(
                Protocol::GraphqlTransportWs,
                true,
            )),
            Some("graphql-ws") => {
                State::Graphql(graphql::GraphqlState::new(Protocol::GraphqlWs, true))
            }
            Some("v10.stomp" | "v11.stomp" | "v12.stomp" | "stomp") => {
                State::Stomp(stomp::StompState::new())
            }
            Some("jsonrpc" | "json-rpc" | "jsonrpc-2.0" | "jsonrpc2") => {
                State::JsonRpc(jsonrpc::JsonRpcState::new())
            }
            _ => match engine_io_version(&ctx.path) {
                Some(v) => State::Eio(socketio::EioState::new(v, is_socketio_path(&ctx.path))),
                None => State::Undecided,
            },
        };
        AppDecoder { ctx, state }
    }

    /// The context the decoder was made with.
    pub fn context(&self) -> &AppContext {
        &self.ctx
    }

    /// The protocol decided on so far (`None` while still sniffing).
    pub fn protocol(&self) -> Option<Protocol> {
        match &self.state {
            State::Undecided => None,
            State::Eio(s) => Some(if s.socketio() {
                Protocol::SocketIo
            } else {
                Protocol::EngineIo
            }),
            State::Mqtt(_) => Some(Protocol::Mqtt),
            State::Graphql(g) => Some(g.protocol()),
            State::Stomp(_) => Some(Protocol::Stomp),
            State::JsonRpc(_) => Some(Protocol::JsonRpc),
        }
    }

    /// One whole WebSocket message (`text` for opcode 1, else binary): the
    /// application packets it completes, in order. Empty when the message is part
    /// of a packet still incomplete (MQTT, STOMP) or no protocol is recognised.
    pub fn message(
        &mut self,
        dir: Direction,
        text: bool,
        payload: &[u8],
        ts_micros: i64,
    ) -> Vec<AppMessage> {
        if let State::Undecided = self.state {
            match sniff(text, payload) {
                Sniffed::Nothing => return Vec::new(),
                Sniffed::Json(v) => return vec![json::generic(&v, dir, ts_micros)],
                Sniffed::State(s) => self.state = s,
            }
        }
        match &mut self.state {
            State::Undecided => Vec::new(),
            State::Eio(s) => s.ws_message(dir, text, payload, ts_micros),
            State::Mqtt(s) => s.message(dir, text, payload, ts_micros),
            State::Graphql(s) => s.message(dir, payload, ts_micros),
            State::Stomp(s) => s.message(dir, payload, ts_micros),
            State::JsonRpc(s) => s.message(dir, payload, ts_micros),
        }
    }

    /// The body of an HTTP request (`C2S`) or response (`S2C`) to `path`: an
    /// Engine.IO long-polling payload when `path` is an Engine.IO polling target
    /// (`/socket.io/?EIO=4&transport=polling…`), else nothing. The decoder keeps
    /// Socket.IO state (namespaces, attachments) across bodies, so one decoder
    /// can follow a whole polling session.
    pub fn http_body(
        &mut self,
        dir: Direction,
        path: &str,
        body: &[u8],
        ts_micros: i64,
    ) -> Vec<AppMessage> {
        let Some(v) = engine_io_version(path) else {
            return Vec::new();
        };
        match self.state {
            State::Eio(_) => {}
            State::Undecided => {
                self.state = State::Eio(socketio::EioState::new(v, is_socketio_path(path)))
            }
            // A WebSocket already speaking another protocol has no polling bodies.
            _ => return Vec::new(),
        }
        match &mut self.state {
            State::Eio(s) => s.polling_body(dir, body, ts_micros),
            _ => Vec::new(),
        }
    }
}

fn is_socketio_path(path: &str) -> bool {
    path.split('?').next().unwrap_or("").contains("/socket.io")
}

enum Sniffed {
    Nothing,
    Json(serde_json::Value),
    State(State),
}

/// Recognise a protocol from the first bytes of a WebSocket with no subprotocol
/// and no telling path.
fn sniff(text: bool, payload: &[u8]) -> Sniffed {
    if !text && mqtt::looks_like_connect(payload) {
        return Sniffed::State(State::Mqtt(mqtt::MqttState::new()));
    }
    if stomp::looks_like_frame(payload) {
        return Sniffed::State(State::Stomp(stomp::StompState::new()));
    }
    if !text {
        return Sniffed::Nothing;
    }
    if could_be_json(payload) {
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(payload) {
            if jsonrpc::looks_like(&v) {
                return Sniffed::State(State::JsonRpc(jsonrpc::JsonRpcState::new()));
            }
            if graphql::looks_like_init(&v) {
                return Sniffed::State(State::Graphql(graphql::GraphqlState::new(
                    Protocol::GraphqlTransportWs,
                    false,
                )));
            }
            return Sniffed::Json(v);
        }
    }
    if socketio::looks_like(payload) {
        return Sniffed::State(State::Eio(socketio::EioState::new(4, false)));
    }
    Sniffed::Nothing
}

/// Whether `payload` may be a JSON text: its first byte after whitespace can
/// begin a JSON value. Anything else is turned down here, before serde_json
/// builds an error for it (the sniff runs on every message of an undecided
/// connection).
fn could_be_json(payload: &[u8]) -> bool {
    let first = payload
        .iter()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
    matches!(
        first,
        Some(b'{' | b'[' | b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n')
    )
}

#[cfg(test)]
mod tests;
