//! Engine.IO (protocol v4, and v3 where it differs) and Socket.IO (protocol v5
//! over Engine.IO v4; v4 over Engine.IO v3).
//!
//! Over WebSocket each message is one Engine.IO packet: a type digit
//! (`0` open, `1` close, `2` ping, `3` pong, `4` message, `5` upgrade, `6` noop)
//! and its data; binary messages are message packets (v3 prefixes them with a
//! `\x04` byte). Over HTTP long-polling a body holds several packets: v4 separates
//! them with `\x1e` and writes binary ones as `b<base64>`; v3 prefixes each with
//! its length (`<len>:<packet>`, or the binary XHR2 form `\x00<digits>\xff`).
//!
//! A Socket.IO packet rides in an Engine.IO message:
//! `<type>[<attachments>-][<namespace>,][<ack id>][<JSON>]`; a BINARY_EVENT or
//! BINARY_ACK is followed, in the same direction, by its attachments as binary
//! Engine.IO messages, each joined here to its placeholder.

use serde_json::Value;

use super::rules::{self, Rule};
use super::{AppId, AppMessage, Detail, Protocol, Violation};
use crate::types::Direction;

/// Attachments announced by one BINARY_EVENT/BINARY_ACK that the decoder will wait for.
pub const MAX_ATTACHMENTS: u32 = 1024;

/// The transport an Engine.IO packet travelled on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// A WebSocket message.
    WebSocket,
    /// An HTTP long-polling request or response body.
    Polling,
}

/// The `open` packet's handshake.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Handshake {
    /// Session id.
    pub sid: Option<String>,
    /// Transports the client may upgrade to.
    pub upgrades: Vec<String>,
    /// `pingInterval` in ms.
    pub ping_interval_ms: Option<u64>,
    /// `pingTimeout` in ms.
    pub ping_timeout_ms: Option<u64>,
    /// `maxPayload` in bytes (v4).
    pub max_payload: Option<u64>,
}

/// Fields of an Engine.IO packet that carries no Socket.IO packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineIoDetail {
    /// Engine.IO protocol version (3 or 4).
    pub version: u8,
    /// WebSocket or long-polling.
    pub transport: Transport,
    /// `2probe` / `3probe` of the upgrade.
    pub probe: bool,
    /// A binary message packet.
    pub binary: bool,
    /// Bytes of data after the type.
    pub data_len: usize,
    /// The `open` packet's handshake.
    pub handshake: Option<Handshake>,
}

/// A binary attachment joined to the packet that announced it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    /// Its index (`num` of the placeholder), from 0.
    pub index: u32,
    /// How many the packet announced.
    pub of_total: u32,
    /// The packet type that announced it: `BINARY_EVENT` or `BINARY_ACK`.
    pub of: &'static str,
    /// Its length in bytes.
    pub len: usize,
}

/// Fields of a Socket.IO packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SocketIoDetail {
    /// Engine.IO protocol version (3 or 4).
    pub eio_version: u8,
    /// WebSocket or long-polling.
    pub transport: Transport,
    /// The namespace (`/` when absent).
    pub namespace: String,
    /// The ack id (also in [`AppMessage::id`]).
    pub ack_id: Option<u64>,
    /// Attachments announced by a BINARY_EVENT/BINARY_ACK.
    pub attachments: Option<u32>,
    /// Arguments: of an EVENT after its name; of an ACK all of them.
    pub args: Option<usize>,
    /// The `sid` of a CONNECT answered by the server.
    pub sid: Option<String>,
    /// The message of a CONNECT_ERROR.
    pub error: Option<String>,
    /// For a binary attachment: which one, of what.
    pub attachment: Option<Attachment>,
}

struct Pending {
    of: &'static str,
    namespace: String,
    event: Option<String>,
    ack_id: Option<u64>,
    total: u32,
    next: u32,
}

/// Engine.IO/Socket.IO state of one session (a WebSocket, or a polling session).
pub struct EioState {
    version: u8,
    /// Engine.IO messages carry Socket.IO packets.
    socketio: bool,
    /// Not known from the path: decide per message whether it is Socket.IO.
    auto: bool,
    pending: [Option<Pending>; 2],
}

const EIO_TYPES: [&str; 7] = [
    "open", "close", "ping", "pong", "message", "upgrade", "noop",
];

impl EioState {
    /// Heap bytes held (for the memory budget): a packet awaiting its attachments,
    /// per direction (its names counted at [`crate::budget::KEY_GUESS`] bytes each).
    pub(crate) fn heap_bytes(&self) -> usize {
        self.pending.iter().flatten().count() * 2 * crate::budget::KEY_GUESS
    }

    /// For Engine.IO `version` (3 or 4); `socketio` when the path is `/socket.io/`.
    pub fn new(version: u8, socketio: bool) -> EioState {
        EioState {
            version,
            socketio,
            auto: !socketio,
            pending: [None, None],
        }
    }

    /// Whether the session carries Socket.IO (known or seen).
    pub fn socketio(&self) -> bool {
        self.socketio
    }

    /// One WebSocket message.
    pub fn ws_message(
        &mut self,
        dir: Direction,
        text: bool,
        payload: &[u8],
        ts: i64,
    ) -> Vec<AppMessage> {
        if text {
            let s = String::from_utf8_lossy(payload);
            vec![self.text_packet(dir, &s, Transport::WebSocket, ts)]
        } else if self.version == 3 {
            match payload.split_first() {
                Some((4, data)) => vec![self.binary(dir, data, Transport::WebSocket, ts)],
                _ => vec![AppMessage::malformed(
                    Protocol::EngineIo,
                    dir,
                    ts,
                    Violation::new(
                        rules::EIO_BAD_PACKET_TYPE,
                        format!(
                            "An Engine.IO v3 binary message must begin with the message type byte 4; it begins with {}.",
                            payload.first().map_or("nothing".to_string(), |b| b.to_string())
                        ),
                    ),
                )],
            }
        } else {
            vec![self.binary(dir, payload, Transport::WebSocket, ts)]
        }
    }

    /// One HTTP long-polling body (request `C2S`, response `S2C`).
    pub fn polling_body(&mut self, dir: Direction, body: &[u8], ts: i64) -> Vec<AppMessage> {
        if body.is_empty() {
            return Vec::new();
        }
        // The answer to a POST is the transport's acknowledgement, not a payload.
        if dir == Direction::S2C && body.eq_ignore_ascii_case(b"ok") {
            return Vec::new();
        }
        if self.version == 3 {
            return self.polling_v3(dir, body, ts);
        }
        let text = String::from_utf8_lossy(body);
        let mut out = Vec::new();
        let mut offset = 0;
        for record in text.split('\x1e') {
            if out.len() >= super::MAX_PACKETS_PER_MESSAGE {
                out.push(AppMessage::too_many(
                    Protocol::EngineIo,
                    dir,
                    ts,
                    text.len() - offset,
                ));
                break;
            }
            offset += record.len() + 1;
            if record.is_empty() {
                out.push(AppMessage::malformed(
                    Protocol::EngineIo,
                    dir,
                    ts,
                    Violation::new(
                        rules::EIO_BAD_PAYLOAD,
                        "An empty packet in an Engine.IO v4 polling payload (two \\x1e separators in a row, or one at an end).",
                    ),
                ));
            } else if let Some(b64) = record.strip_prefix('b') {
                out.push(self.base64_binary(dir, b64, ts));
            } else {
                out.push(self.text_packet(dir, record, Transport::Polling, ts));
            }
        }
        out
    }

    fn base64_binary(&mut self, dir: Direction, b64: &str, ts: i64) -> AppMessage {
        use base64::Engine as _;
        match base64::engine::general_purpose::STANDARD.decode(b64) {
            Ok(data) => self.binary(dir, &data, Transport::Polling, ts),
            Err(e) => AppMessage::malformed(
                Protocol::EngineIo,
                dir,
                ts,
                Violation::new(
                    rules::EIO_BAD_BASE64,
                    format!("A binary packet in a polling payload is not base64 ({e})."),
                ),
            ),
        }
    }

    fn polling_v3(&mut self, dir: Direction, body: &[u8], ts: i64) -> Vec<AppMessage> {
        let mut out = Vec::new();
        let bad = |msg: String| {
            AppMessage::malformed(
                Protocol::EngineIo,
                dir,
                ts,
                Violation::new(rules::EIO_BAD_PAYLOAD, msg),
            )
        };
        if matches!(body.first(), Some(0 | 1)) {
            // XHR2 binary payload: <0|1><length digits as bytes 0-9><0xff><packet>.
            let mut rest = body;
            while !rest.is_empty() && out.len() < super::MAX_PACKETS_PER_MESSAGE {
                if rest[0] > 1 {
                    // Also keeps the search for 0xFF below past the type byte.
                    out.push(bad(format!(
                        "An Engine.IO v3 binary payload record begins with {:#04x}, not 0 (string) or 1 (binary).",
                        rest[0]
                    )));
                    break;
                }
                let is_binary = rest[0] == 1;
                let Some(end) = rest.iter().position(|&b| b == 0xff) else {
                    out.push(bad(
                        "An Engine.IO v3 binary payload record has no 0xFF after its length."
                            .into(),
                    ));
                    break;
                };
                let digits = &rest[1..end];
                let mut len: usize = 0;
                let mut ok = !digits.is_empty() && digits.len() <= 10;
                for &d in digits {
                    ok &= d <= 9;
                    len = len.saturating_mul(10).saturating_add(usize::from(d));
                }
                let start = end + 1;
                if !ok || rest.len() - start < len {
                    out.push(bad(format!(
                        "An Engine.IO v3 binary payload record announces {len} bytes; {} remain.",
                        rest.len() - start
                    )));
                    break;
                }
                let packet = &rest[start..start + len];
                if is_binary {
                    match packet.split_first() {
                        Some((4, data)) => out.push(self.binary(dir, data, Transport::Polling, ts)),
                        _ => out.push(bad("An Engine.IO v3 binary record must begin with the message type byte 4.".into())),
                    }
                } else {
                    let s = String::from_utf8_lossy(packet);
                    out.push(self.text_packet(dir, &s, Transport::Polling, ts));
                }
                rest = &rest[start + len..];
            }
            if !rest.is_empty() && out.len() >= super::MAX_PACKETS_PER_MESSAGE {
                out.push(AppMessage::too_many(
                    Protocol::EngineIo,
                    dir,
                    ts,
                    rest.len(),
                ));
            }
            return out;
        }
        let text = String::from_utf8_lossy(body);
        let mut rest: &str = &text;
        while !rest.is_empty() && out.len() < super::MAX_PACKETS_PER_MESSAGE {
            let Some((len_s, after)) = rest.split_once(':') else {
                out.push(bad(format!(
                    "An Engine.IO v3 polling payload record lacks its `<length>:` prefix (at {:?}).",
                    rest.chars().take(16).collect::<String>()
                )));
                break;
            };
            let Ok(len) = len_s.parse::<usize>() else {
                out.push(bad(format!(
                    "An Engine.IO v3 polling payload length is not a number: {:?}.",
                    len_s.chars().take(16).collect::<String>()
                )));
                break;
            };
            // The length counts characters as JavaScript does (UTF-16 code units).
            let mut units = 0usize;
            let mut end = after.len();
            for (i, c) in after.char_indices() {
                if units >= len {
                    end = i;
                    break;
                }
                units += c.len_utf16();
            }
            if units != len {
                out.push(bad(format!(
                    "An Engine.IO v3 polling payload record announces {len} characters; {units} remain."
                )));
                break;
            }
            let packet = &after[..end];
            if let Some(b64) = packet.strip_prefix("b4") {
                out.push(self.base64_binary(dir, b64, ts));
            } else {
                out.push(self.text_packet(dir, packet, Transport::Polling, ts));
            }
            rest = &after[end..];
        }
        if !rest.is_empty() && out.len() >= super::MAX_PACKETS_PER_MESSAGE {
            out.push(AppMessage::too_many(
                Protocol::EngineIo,
                dir,
                ts,
                rest.len(),
            ));
        }
        out
    }

    fn eio_detail(&self, transport: Transport) -> EngineIoDetail {
        EngineIoDetail {
            version: self.version,
            transport,
            probe: false,
            binary: false,
            data_len: 0,
            handshake: None,
        }
    }

    fn binary(&mut self, dir: Direction, data: &[u8], transport: Transport, ts: i64) -> AppMessage {
        if let Some(p) = &mut self.pending[dir.index()] {
            let index = p.next;
            p.next += 1;
            let mut m = AppMessage::new(Protocol::SocketIo, "attachment", dir, ts);
            m.name = p.event.clone();
            m.id = p.ack_id.map(|a| AppId::Num(a as i64));
            m.detail = Detail::SocketIo(Box::new(SocketIoDetail {
                eio_version: self.version,
                transport,
                namespace: p.namespace.clone(),
                ack_id: p.ack_id,
                attachments: None,
                args: None,
                sid: None,
                error: None,
                attachment: Some(Attachment {
                    index,
                    of_total: p.total,
                    of: p.of,
                    len: data.len(),
                }),
            }));
            if p.next >= p.total {
                self.pending[dir.index()] = None;
            }
            return m;
        }
        let mut m = AppMessage::new(Protocol::EngineIo, "message", dir, ts);
        let mut d = self.eio_detail(transport);
        d.binary = true;
        d.data_len = data.len();
        m.detail = Detail::EngineIo(Box::new(d));
        if self.socketio {
            m.violations.push(Violation::new(
                rules::SIO_UNEXPECTED_ATTACHMENT,
                format!(
                    "A {}-byte binary message with no BINARY_EVENT or BINARY_ACK waiting for an attachment.",
                    data.len()
                ),
            ));
        }
        m
    }

    fn text_packet(
        &mut self,
        dir: Direction,
        s: &str,
        transport: Transport,
        ts: i64,
    ) -> AppMessage {
        let mut chars = s.chars();
        let t = chars
            .next()
            .and_then(|c| c.to_digit(10))
            .map(|d| d as usize);
        let data = chars.as_str();
        let Some(kind) = t.and_then(|t| EIO_TYPES.get(t)) else {
            return AppMessage::malformed(
                Protocol::EngineIo,
                dir,
                ts,
                Violation::new(
                    rules::EIO_BAD_PACKET_TYPE,
                    if s.is_empty() {
                        "An empty Engine.IO packet (no type digit).".to_string()
                    } else {
                        format!(
                            "An Engine.IO packet must begin with a type digit 0-6; it begins with {:?}.",
                            s.chars().next().unwrap_or(' ')
                        )
                    },
                ),
            );
        };
        if *kind == "message" && (self.socketio || self.auto) {
            let sio = self.sio_packet(dir, data, transport, ts);
            if self.socketio || sio.violations.is_empty() {
                if self.auto && sio.violations.is_empty() {
                    self.socketio = true;
                }
                return sio;
            }
        }
        let mut m = AppMessage::new(Protocol::EngineIo, *kind, dir, ts);
        let mut d = self.eio_detail(transport);
        d.data_len = data.len();
        d.probe = matches!(*kind, "ping" | "pong") && data == "probe";
        if *kind == "open" {
            match serde_json::from_str::<Value>(data) {
                Ok(Value::Object(o)) => {
                    let num = |k: &str| o.get(k).and_then(Value::as_u64);
                    let hs = Handshake {
                        sid: o.get("sid").and_then(Value::as_str).map(str::to_owned),
                        upgrades: o
                            .get("upgrades")
                            .and_then(Value::as_array)
                            .map(|a| {
                                a.iter()
                                    .filter_map(Value::as_str)
                                    .take(16)
                                    .map(str::to_owned)
                                    .collect()
                            })
                            .unwrap_or_default(),
                        ping_interval_ms: num("pingInterval"),
                        ping_timeout_ms: num("pingTimeout"),
                        max_payload: num("maxPayload"),
                    };
                    if hs.sid.is_none() {
                        m.violations.push(Violation::new(
                            rules::EIO_BAD_HANDSHAKE,
                            "The Engine.IO open packet's handshake has no string `sid`.",
                        ));
                    }
                    m.id = hs.sid.clone().map(AppId::Text);
                    d.handshake = Some(hs);
                }
                _ => m.violations.push(Violation::new(
                    rules::EIO_BAD_HANDSHAKE,
                    "The Engine.IO open packet's data is not a JSON object.",
                )),
            }
        }
        m.detail = Detail::EngineIo(Box::new(d));
        m
    }

    fn sio_packet(&mut self, dir: Direction, s: &str, transport: Transport, ts: i64) -> AppMessage {
        let mut viol: Vec<Violation> = Vec::new();
        let v = |rule: Rule, msg: String| Violation::new(rule, msg);
        let mut detail = SocketIoDetail {
            eio_version: self.version,
            transport,
            namespace: "/".into(),
            ack_id: None,
            attachments: None,
            args: None,
            sid: None,
            error: None,
            attachment: None,
        };
        // A Socket.IO packet while attachments are still awaited in this direction.
        if let Some(p) = self.pending[dir.index()].take() {
            viol.push(v(
                rules::SIO_MISSING_ATTACHMENT,
                format!(
                    "A {} announced {} attachments; only {} arrived before the next packet.",
                    p.of, p.total, p.next
                ),
            ));
        }
        let bytes = s.as_bytes();
        let kind: &'static str = match bytes.first() {
            Some(b'0') => "CONNECT",
            Some(b'1') => "DISCONNECT",
            Some(b'2') => "EVENT",
            Some(b'3') => "ACK",
            Some(b'4') if self.version == 3 => "ERROR",
            Some(b'4') => "CONNECT_ERROR",
            Some(b'5') => "BINARY_EVENT",
            Some(b'6') => "BINARY_ACK",
            _ => {
                let mut m = AppMessage::malformed(
                    Protocol::SocketIo,
                    dir,
                    ts,
                    v(
                        rules::SIO_BAD_PACKET_TYPE,
                        format!(
                            "A Socket.IO packet must begin with a type digit 0-6; it begins with {:?}.",
                            s.chars().next().map_or(String::from("nothing"), String::from)
                        ),
                    ),
                );
                m.violations.extend(viol);
                return m;
            }
        };
        let mut m = AppMessage::new(Protocol::SocketIo, kind, dir, ts);
        let mut i = 1;
        let binary = matches!(kind, "BINARY_EVENT" | "BINARY_ACK");
        if binary {
            let digits = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
            if digits == 0 || bytes.get(i + digits) != Some(&b'-') {
                viol.push(v(
                    rules::SIO_BAD_HEADER,
                    format!("A {kind} must give its attachment count followed by '-'."),
                ));
            } else {
                match s[i..i + digits].parse::<u32>() {
                    Ok(n) => detail.attachments = Some(n),
                    Err(_) => viol.push(v(
                        rules::SIO_BAD_HEADER,
                        format!("A {kind}'s attachment count is out of range."),
                    )),
                }
                i += digits + 1;
            }
        }
        if bytes.get(i) == Some(&b'/') {
            let end = s[i..].find(',').map_or(s.len(), |p| i + p);
            detail.namespace = s[i..end].to_owned();
            i = (end + 1).min(s.len());
        }
        let digits = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        if digits > 0 {
            match s[i..i + digits].parse::<u64>() {
                Ok(a) => {
                    detail.ack_id = Some(a);
                    m.id = Some(AppId::Num(a.min(i64::MAX as u64) as i64));
                }
                Err(_) => viol.push(v(
                    rules::SIO_BAD_HEADER,
                    "The ack id is out of range.".to_string(),
                )),
            }
            i += digits;
        }
        let rest = &s[i..];
        let data: Option<Value> = if rest.is_empty() {
            None
        } else {
            match serde_json::from_str::<Value>(rest) {
                Ok(v) => Some(v),
                Err(e) => {
                    viol.push(v(
                        rules::SIO_BAD_PAYLOAD,
                        format!("The {kind} payload is not JSON ({e})."),
                    ));
                    None
                }
            }
        };
        match kind {
            "CONNECT" => match &data {
                None => {}
                Some(Value::Object(o)) => {
                    detail.sid = o.get("sid").and_then(Value::as_str).map(str::to_owned);
                }
                Some(other) => viol.push(v(
                    rules::SIO_BAD_PAYLOAD,
                    format!(
                        "A CONNECT payload must be an object; this one is a {}.",
                        super::json::type_name(other)
                    ),
                )),
            },
            "DISCONNECT" => {}
            "EVENT" | "BINARY_EVENT" => match &data {
                Some(Value::Array(a)) => match a.first() {
                    Some(Value::String(name)) => {
                        m.name = Some(name.clone());
                        detail.args = Some(a.len() - 1);
                    }
                    _ => viol.push(v(
                        rules::SIO_BAD_PAYLOAD,
                        format!("A {kind} payload must be an array beginning with the event name."),
                    )),
                },
                Some(_) => viol.push(v(
                    rules::SIO_BAD_PAYLOAD,
                    format!("A {kind} payload must be an array."),
                )),
                None if rest.is_empty() => viol.push(v(
                    rules::SIO_BAD_PAYLOAD,
                    format!("A {kind} has no payload (the event name is missing)."),
                )),
                None => {}
            },
            "ACK" | "BINARY_ACK" => {
                match &data {
                    Some(Value::Array(a)) => detail.args = Some(a.len()),
                    Some(_) => viol.push(v(
                        rules::SIO_BAD_PAYLOAD,
                        format!("A {kind} payload must be an array."),
                    )),
                    None if rest.is_empty() => viol.push(v(
                        rules::SIO_BAD_PAYLOAD,
                        format!("A {kind} has no payload."),
                    )),
                    None => {}
                }
                if detail.ack_id.is_none() {
                    viol.push(v(
                        rules::SIO_BAD_HEADER,
                        format!("A {kind} must carry the ack id it answers."),
                    ));
                }
            }
            _ => {
                // CONNECT_ERROR (v5: {"message", "data"}) / ERROR (v4: a string or object).
                detail.error = match &data {
                    Some(Value::Object(o)) => {
                        o.get("message").and_then(Value::as_str).map(str::to_owned)
                    }
                    Some(Value::String(s)) => Some(s.clone()),
                    _ => None,
                };
            }
        }
        if binary {
            let found = data.as_ref().map_or(0, |d| count_placeholders(d, 0));
            if let Some(n) = detail.attachments {
                if found != n as usize {
                    viol.push(v(
                        rules::SIO_BAD_HEADER,
                        format!("A {kind} announces {n} attachments; its payload has {found} placeholders."),
                    ));
                }
                if n > 0 {
                    self.pending[dir.index()] = Some(Pending {
                        of: kind,
                        namespace: detail.namespace.clone(),
                        event: m.name.clone(),
                        ack_id: detail.ack_id,
                        total: n.min(MAX_ATTACHMENTS),
                        next: 0,
                    });
                }
            }
        }
        if !detail.namespace.starts_with('/') {
            viol.push(v(
                rules::SIO_BAD_HEADER,
                "A namespace must begin with '/'.".into(),
            ));
        }
        m.detail = Detail::SocketIo(Box::new(detail));
        m.violations = viol;
        m
    }
}

/// Placeholders `{"_placeholder":true,"num":N}` in a Socket.IO payload.
fn count_placeholders(v: &Value, depth: usize) -> usize {
    if depth > 64 {
        return 0;
    }
    match v {
        Value::Object(o) => {
            if o.get("_placeholder") == Some(&Value::Bool(true))
                && o.get("num").is_some_and(Value::is_u64)
            {
                1
            } else {
                o.values().map(|x| count_placeholders(x, depth + 1)).sum()
            }
        }
        Value::Array(a) => a.iter().map(|x| count_placeholders(x, depth + 1)).sum(),
        _ => 0,
    }
}

/// Whether a text message with no telling path looks like Engine.IO: an `open`
/// handshake, a probe, or a message carrying a Socket.IO packet with JSON data.
pub(crate) fn looks_like(payload: &[u8]) -> bool {
    // Every form below begins with one of these (checked before the whole
    // payload is validated as UTF-8).
    if !matches!(payload.first(), Some(b'0' | b'2' | b'3' | b'4')) {
        return false;
    }
    let Ok(s) = std::str::from_utf8(payload) else {
        return false;
    };
    if s == "2probe" || s == "3probe" {
        return true;
    }
    if let Some(hs) = s.strip_prefix('0') {
        return matches!(serde_json::from_str::<Value>(hs), Ok(Value::Object(o)) if o.get("sid").is_some_and(Value::is_string));
    }
    if let Some(sio) = s.strip_prefix('4') {
        let mut st = EioState::new(4, true);
        let m = st.sio_packet(Direction::C2S, sio, Transport::WebSocket, 0);
        let has_data = sio.contains(['[', '{']);
        return m.violations.is_empty() && m.kind != "malformed" && has_data;
    }
    false
}
