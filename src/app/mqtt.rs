//! MQTT 3.1, 3.1.1 and 5.0 over WebSocket binary messages (MQTT 3.1.1 section 6,
//! MQTT 5.0 section 6): a WebSocket message may carry several control packets,
//! and a packet may span several messages, so each direction has a reassembly
//! buffer (bounded by [`MAX_PACKET`]).
//!
//! The protocol level comes from the CONNECT; MQTT 5 properties are parsed by
//! their identifiers (MQTT 5.0 2.2.2.2), so a malformed property is found and the
//! fields after them are read from the right place.

use std::collections::HashMap;

use super::rules;
use super::{AppId, AppMessage, Detail, Protocol, Violation};
use crate::types::Direction;

/// Bytes held for one incomplete packet per direction. A packet announcing more
/// is reported from its fixed header and its bytes are skipped, never held.
pub const MAX_PACKET: usize = 1 << 20;
/// Requests (CONNECT, PINGREQ, PUBLISH QoS>0, PUBREL, SUBSCRIBE, UNSUBSCRIBE)
/// remembered while their answer is awaited, for the latency.
pub const MAX_PENDING: usize = 1024;
/// Topic aliases (MQTT 5) remembered per direction.
pub const MAX_ALIASES: usize = 1024;
/// Topic filters listed per SUBSCRIBE/UNSUBSCRIBE.
pub const MAX_TOPICS: usize = 64;

/// The packet type names, by the fixed header's high nibble.
pub const TYPES: [&str; 16] = [
    "RESERVED",
    "CONNECT",
    "CONNACK",
    "PUBLISH",
    "PUBACK",
    "PUBREC",
    "PUBREL",
    "PUBCOMP",
    "SUBSCRIBE",
    "SUBACK",
    "UNSUBSCRIBE",
    "UNSUBACK",
    "PINGREQ",
    "PINGRESP",
    "DISCONNECT",
    "AUTH",
];

/// A topic filter of a SUBSCRIBE (with its requested QoS) or UNSUBSCRIBE.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MqttTopic {
    /// The topic filter.
    pub filter: String,
    /// Requested maximum QoS (SUBSCRIBE only).
    pub qos: Option<u8>,
}

/// Fields of an MQTT control packet (those its type has).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MqttDetail {
    /// Protocol level in effect (3 = 3.1, 4 = 3.1.1, 5 = 5.0) when known.
    pub level: Option<u8>,
    /// The fixed header's Remaining Length.
    pub remaining_length: u32,
    /// The fixed header's flag nibble.
    pub flags: u8,
    /// PUBLISH QoS.
    pub qos: Option<u8>,
    /// PUBLISH RETAIN.
    pub retain: bool,
    /// PUBLISH DUP.
    pub dup: bool,
    /// Packet identifier (also in [`AppMessage::id`]).
    pub packet_id: Option<u16>,
    /// CONNECT protocol name (`MQTT`, `MQIsdp`).
    pub protocol_name: Option<String>,
    /// CONNECT client identifier.
    pub client_id: Option<String>,
    /// CONNECT keep-alive, seconds.
    pub keep_alive: Option<u16>,
    /// CONNECT Clean Session / Clean Start.
    pub clean_start: Option<bool>,
    /// CONNECT will flag.
    pub will: Option<bool>,
    /// CONNECT user name present.
    pub username: Option<bool>,
    /// CONNECT password present.
    pub password: Option<bool>,
    /// CONNACK session present.
    pub session_present: Option<bool>,
    /// CONNACK return code; MQTT 5 reason code of PUBACK…PUBCOMP, DISCONNECT, AUTH.
    pub reason_code: Option<u8>,
    /// SUBACK return codes; MQTT 5 UNSUBACK reason codes.
    pub reason_codes: Vec<u8>,
    /// SUBSCRIBE/UNSUBSCRIBE topic filters (at most [`MAX_TOPICS`]).
    pub topics: Vec<MqttTopic>,
    /// MQTT 5 property length.
    pub properties_len: Option<u32>,
    /// MQTT 5 topic alias of a PUBLISH.
    pub topic_alias: Option<u16>,
    /// MQTT 5 reason string.
    pub reason_string: Option<String>,
    /// MQTT 5 content type of a PUBLISH.
    pub content_type: Option<String>,
    /// MQTT 5 user properties.
    pub user_properties: usize,
    /// PUBLISH application payload length.
    pub payload_len: Option<usize>,
    /// Time since the request this packet answers (CONNACK, PINGRESP, PUBACK, …), µs.
    pub latency_us: Option<i64>,
    /// The packet was larger than [`MAX_PACKET`]: only its fixed header was read.
    pub skipped: bool,
}

/// MQTT state of one WebSocket.
pub struct MqttState {
    level: Option<u8>,
    buf: [Vec<u8>; 2],
    skip: [usize; 2],
    pending: HashMap<(usize, u8, u16), i64>,
    aliases: [HashMap<u16, String>; 2],
}

impl Default for MqttState {
    fn default() -> Self {
        MqttState::new()
    }
}

/// Whether a binary message begins with an MQTT CONNECT (protocol name `MQTT` or `MQIsdp`).
pub(crate) fn looks_like_connect(p: &[u8]) -> bool {
    if p.first() != Some(&0x10) {
        return false;
    }
    let mut i = 1;
    while i < p.len() && i < 5 && p[i] & 0x80 != 0 {
        i += 1;
    }
    let rest = p.get(i + 1..).unwrap_or(&[]);
    rest.starts_with(b"\x00\x04MQTT") || rest.starts_with(b"\x00\x06MQIsdp")
}

enum Header {
    Incomplete,
    Bad,
    Ok { header_len: usize, remaining: usize },
}

fn fixed_header(b: &[u8]) -> Header {
    let mut value = 0usize;
    for i in 0..4 {
        let Some(&byte) = b.get(1 + i) else {
            return Header::Incomplete;
        };
        value |= usize::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Header::Ok {
                header_len: 2 + i,
                remaining: value,
            };
        }
    }
    Header::Bad
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

type R<T> = Result<T, Violation>;

fn short(what: &str) -> Violation {
    Violation::new(
        rules::MQTT_MALFORMED,
        format!("The packet ends inside its {what}."),
    )
}

impl<'a> Reader<'a> {
    fn left(&self) -> usize {
        self.b.len() - self.pos
    }
    fn u8(&mut self, what: &str) -> R<u8> {
        let v = *self.b.get(self.pos).ok_or_else(|| short(what))?;
        self.pos += 1;
        Ok(v)
    }
    fn u16(&mut self, what: &str) -> R<u16> {
        let s = self.bytes(2, what)?;
        Ok(u16::from_be_bytes([s[0], s[1]]))
    }
    fn u32(&mut self, what: &str) -> R<u32> {
        let s = self.bytes(4, what)?;
        Ok(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn bytes(&mut self, n: usize, what: &str) -> R<&'a [u8]> {
        if self.left() < n {
            return Err(short(what));
        }
        let s = &self.b[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn bin(&mut self, what: &str) -> R<&'a [u8]> {
        let n = self.u16(what)?;
        self.bytes(usize::from(n), what)
    }
    fn string(&mut self, what: &str) -> R<String> {
        let raw = self.bin(what)?;
        match std::str::from_utf8(raw) {
            Ok(s) if !s.contains('\0') => Ok(s.to_owned()),
            _ => Err(Violation::new(
                rules::MQTT_BAD_UTF8,
                format!("The {what} is not well-formed UTF-8 (or holds U+0000)."),
            )),
        }
    }
    fn varint(&mut self, what: &str) -> R<u32> {
        let mut v = 0u32;
        for i in 0..4 {
            let b = self.u8(what)?;
            v |= u32::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(Violation::new(
            rules::MQTT_BAD_REMAINING_LENGTH,
            format!("The {what} (a Variable Byte Integer) is longer than four bytes."),
        ))
    }
    fn rest(&mut self) -> &'a [u8] {
        let s = &self.b[self.pos..];
        self.pos = self.b.len();
        s
    }
}

/// MQTT 5 properties (MQTT 5.0 2.2.2): read by identifier, the useful ones kept.
fn properties(r: &mut Reader<'_>, d: &mut MqttDetail) -> R<()> {
    let len = r.varint("property length")?;
    d.properties_len = Some(len);
    let block = r.bytes(len as usize, "properties")?;
    let mut p = Reader { b: block, pos: 0 };
    while p.left() > 0 {
        let id = p.varint("property identifier")?;
        match id {
            0x01 | 0x17 | 0x19 | 0x24 | 0x25 | 0x28 | 0x29 | 0x2A => {
                p.u8("property")?;
            }
            0x02 | 0x11 | 0x18 | 0x27 => {
                p.u32("property")?;
            }
            0x13 | 0x21 | 0x22 => {
                p.u16("property")?;
            }
            0x23 => d.topic_alias = Some(p.u16("Topic Alias")?),
            0x0B => {
                p.varint("Subscription Identifier")?;
            }
            0x03 => d.content_type = Some(p.string("Content Type")?),
            0x1F => d.reason_string = Some(p.string("Reason String")?),
            0x08 | 0x12 | 0x15 | 0x1A | 0x1C => {
                p.string("property")?;
            }
            0x09 | 0x16 => {
                p.bin("property")?;
            }
            0x26 => {
                p.string("User Property name")?;
                p.string("User Property value")?;
                d.user_properties += 1;
            }
            other => {
                return Err(Violation::new(
                    rules::MQTT_MALFORMED,
                    format!("Unknown MQTT 5 property identifier 0x{other:02x}."),
                ))
            }
        }
    }
    Ok(())
}

impl MqttState {
    /// Heap bytes held (for the memory budget): partial packets, pending ids, topic
    /// aliases (their topics counted at [`crate::budget::KEY_GUESS`] bytes each).
    pub(crate) fn heap_bytes(&self) -> usize {
        use crate::budget::{map_bytes, vec_bytes, KEY_GUESS};
        vec_bytes(&self.buf[0])
            + vec_bytes(&self.buf[1])
            + map_bytes(&self.pending)
            + self
                .aliases
                .iter()
                .map(|a| map_bytes(a) + a.len() * KEY_GUESS)
                .sum::<usize>()
    }

    /// A fresh state (protocol level unknown until the CONNECT).
    pub fn new() -> MqttState {
        MqttState {
            level: None,
            buf: [Vec::new(), Vec::new()],
            skip: [0, 0],
            pending: HashMap::new(),
            aliases: [HashMap::new(), HashMap::new()],
        }
    }

    /// Bytes held in `dir`'s reassembly buffer (an incomplete packet).
    pub fn held(&self, dir: Direction) -> usize {
        self.buf[dir.index()].len()
    }

    /// One WebSocket message: the packets it completes.
    pub fn message(
        &mut self,
        dir: Direction,
        text: bool,
        payload: &[u8],
        ts: i64,
    ) -> Vec<AppMessage> {
        let d = dir.index();
        let mut out = Vec::new();
        if text {
            out.push(AppMessage::malformed(
                Protocol::Mqtt,
                dir,
                ts,
                Violation::new(
                    rules::MQTT_NOT_BINARY,
                    "MQTT control packets must be sent in binary WebSocket messages; this one is text.",
                ),
            ));
            return out;
        }
        let mut payload = payload;
        if self.skip[d] > 0 {
            let n = self.skip[d].min(payload.len());
            self.skip[d] -= n;
            payload = &payload[n..];
        }
        self.buf[d].extend_from_slice(payload);
        let buf = std::mem::take(&mut self.buf[d]);
        let mut pos = 0;
        while pos < buf.len() {
            if out.len() >= super::MAX_PACKETS_PER_MESSAGE {
                out.push(AppMessage::too_many(
                    Protocol::Mqtt,
                    dir,
                    ts,
                    buf.len() - pos,
                ));
                pos = buf.len();
                break;
            }
            let b = &buf[pos..];
            match fixed_header(b) {
                Header::Incomplete => break,
                Header::Bad => {
                    out.push(AppMessage::malformed(
                        Protocol::Mqtt,
                        dir,
                        ts,
                        Violation::new(
                            rules::MQTT_BAD_REMAINING_LENGTH,
                            format!(
                                "The Remaining Length of a {} packet runs past four bytes; the {} bytes held in this direction were skipped.",
                                TYPES[usize::from(b[0] >> 4)],
                                b.len()
                            ),
                        ),
                    ));
                    pos = buf.len();
                    break;
                }
                Header::Ok {
                    header_len,
                    remaining,
                } => {
                    let total = header_len + remaining;
                    if b.len() >= total {
                        out.push(self.packet(dir, b[0], remaining, &b[header_len..total], ts));
                        pos += total;
                    } else if remaining > MAX_PACKET {
                        let mut m =
                            AppMessage::new(Protocol::Mqtt, TYPES[usize::from(b[0] >> 4)], dir, ts);
                        m.detail = Detail::Mqtt(Box::new(MqttDetail {
                            level: self.level,
                            remaining_length: remaining as u32,
                            flags: b[0] & 0x0f,
                            skipped: true,
                            ..MqttDetail::default()
                        }));
                        out.push(m);
                        self.skip[d] = total - b.len();
                        pos = buf.len();
                    } else {
                        break;
                    }
                }
            }
        }
        let mut buf = buf;
        buf.drain(..pos);
        self.buf[d] = buf;
        out
    }

    fn pair_request(&mut self, dir: Direction, answer: u8, id: u16, ts: i64) {
        if self.pending.len() >= MAX_PENDING {
            // Unanswered requests are forgotten at once past the bound.
            self.pending.clear();
        }
        self.pending.insert((dir.index(), answer, id), ts);
    }

    fn pair_answer(&mut self, dir: Direction, answer: u8, id: u16, ts: i64) -> Option<i64> {
        self.pending
            .remove(&(dir.reverse().index(), answer, id))
            .map(|t0| ts.saturating_sub(t0))
    }

    fn packet(
        &mut self,
        dir: Direction,
        first: u8,
        remaining: usize,
        body: &[u8],
        ts: i64,
    ) -> AppMessage {
        let t = first >> 4;
        let flags = first & 0x0f;
        let kind = TYPES[usize::from(t)];
        let mut m = AppMessage::new(Protocol::Mqtt, kind, dir, ts);
        let mut d = MqttDetail {
            remaining_length: remaining as u32,
            flags,
            ..MqttDetail::default()
        };
        let expected_flags = match t {
            3 => None,
            6 | 8 | 10 => Some(2),
            _ => Some(0),
        };
        if let Some(f) = expected_flags {
            if f != flags {
                m.violations.push(Violation::new(
                    rules::MQTT_BAD_FLAGS,
                    format!(
                        "{kind} must have the fixed-header flags {f:04b}; they are {flags:04b}."
                    ),
                ));
            }
        }
        let mut r = Reader { b: body, pos: 0 };
        if let Err(v) = self.fields(dir, t, flags, &mut r, &mut d, &mut m, ts) {
            m.violations.push(v);
        } else if r.left() > 0 && t != 3 && (self.level.is_some() || t == 1) {
            m.violations.push(Violation::new(
                rules::MQTT_MALFORMED,
                format!("{kind} has {} bytes after its last field.", r.left()),
            ));
        }
        d.level = self.level;
        if let Some(id) = d.packet_id {
            m.id = Some(AppId::Num(i64::from(id)));
        }
        m.detail = Detail::Mqtt(Box::new(d));
        m
    }

    #[allow(clippy::too_many_arguments)]
    fn fields(
        &mut self,
        dir: Direction,
        t: u8,
        flags: u8,
        r: &mut Reader<'_>,
        d: &mut MqttDetail,
        m: &mut AppMessage,
        ts: i64,
    ) -> R<()> {
        let v5 = self.level == Some(5);
        match t {
            0 => {
                return Err(Violation::new(
                    rules::MQTT_RESERVED_TYPE,
                    "Packet type 0 is reserved.",
                ))
            }
            1 => {
                let name = r.string("protocol name")?;
                let level = r.u8("protocol level")?;
                let cflags = r.u8("connect flags")?;
                d.keep_alive = Some(r.u16("keep alive")?);
                let ok = matches!((name.as_str(), level), ("MQTT", 4 | 5) | ("MQIsdp", 3));
                d.protocol_name = Some(name.clone());
                if !ok {
                    m.violations.push(Violation::new(
                        rules::MQTT_BAD_PROTOCOL,
                        format!("CONNECT names protocol {name:?} level {level}; expected \"MQTT\" level 4 or 5 (or \"MQIsdp\" level 3)."),
                    ));
                }
                self.level = Some(level);
                d.clean_start = Some(cflags & 0x02 != 0);
                d.will = Some(cflags & 0x04 != 0);
                d.username = Some(cflags & 0x80 != 0);
                d.password = Some(cflags & 0x40 != 0);
                if level == 5 {
                    properties(r, d)?;
                }
                d.client_id = Some(r.string("client identifier")?);
                if cflags & 0x04 != 0 {
                    if level == 5 {
                        let mut wd = MqttDetail::default();
                        properties(r, &mut wd)?;
                    }
                    r.string("will topic")?;
                    r.bin("will payload")?;
                }
                if cflags & 0x80 != 0 {
                    r.string("user name")?;
                }
                if cflags & 0x40 != 0 {
                    r.bin("password")?;
                }
                self.pair_request(dir, 2, 0, ts);
            }
            2 => {
                d.session_present = Some(r.u8("acknowledge flags")? & 1 != 0);
                d.reason_code = Some(r.u8("return code")?);
                if v5 {
                    properties(r, d)?;
                }
                d.latency_us = self.pair_answer(dir, 2, 0, ts);
            }
            3 => {
                let qos = (flags >> 1) & 3;
                d.qos = Some(qos);
                d.retain = flags & 1 != 0;
                d.dup = flags & 8 != 0;
                if qos == 3 {
                    m.violations.push(Violation::new(
                        rules::MQTT_BAD_QOS,
                        "PUBLISH with QoS 3 (both QoS bits set).",
                    ));
                }
                let topic = r.string("topic name")?;
                if topic.contains(['+', '#']) {
                    m.violations.push(Violation::new(
                        rules::MQTT_WILDCARD_IN_TOPIC,
                        format!("PUBLISH topic name {topic:?} contains a wildcard."),
                    ));
                }
                if qos > 0 {
                    let id = r.u16("packet identifier")?;
                    self.check_id(id, m);
                    d.packet_id = Some(id);
                    self.pair_request(dir, if qos == 1 { 4 } else { 5 }, id, ts);
                }
                if v5 {
                    properties(r, d)?;
                }
                let aliases = &mut self.aliases[dir.index()];
                let name = match d.topic_alias {
                    Some(a) if topic.is_empty() => aliases.get(&a).cloned().unwrap_or_default(),
                    Some(a) => {
                        if aliases.len() < MAX_ALIASES || aliases.contains_key(&a) {
                            aliases.insert(a, topic.clone());
                        }
                        topic
                    }
                    None => topic,
                };
                m.name = Some(name);
                d.payload_len = Some(r.rest().len());
            }
            4..=7 => {
                let id = r.u16("packet identifier")?;
                self.check_id(id, m);
                d.packet_id = Some(id);
                if v5 && r.left() > 0 {
                    d.reason_code = Some(r.u8("reason code")?);
                    if r.left() > 0 {
                        properties(r, d)?;
                    }
                }
                d.latency_us = self.pair_answer(dir, t, id, ts);
                match t {
                    5 => self.pair_request(dir, 6, id, ts),
                    6 => self.pair_request(dir, 7, id, ts),
                    _ => {}
                }
            }
            8 | 10 => {
                let id = r.u16("packet identifier")?;
                self.check_id(id, m);
                d.packet_id = Some(id);
                if v5 {
                    properties(r, d)?;
                }
                let mut count = 0usize;
                while r.left() > 0 {
                    let filter = r.string("topic filter")?;
                    let qos = if t == 8 {
                        Some(r.u8("subscription options")? & 3)
                    } else {
                        None
                    };
                    count += 1;
                    if d.topics.len() < MAX_TOPICS {
                        d.topics.push(MqttTopic { filter, qos });
                    }
                }
                if count == 0 {
                    m.violations.push(Violation::new(
                        rules::MQTT_NO_TOPIC_FILTER,
                        format!("{} without a topic filter.", TYPES[usize::from(t)]),
                    ));
                }
                m.name = Some(
                    d.topics
                        .iter()
                        .map(|t| t.filter.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                )
                .filter(|s| !s.is_empty());
                self.pair_request(dir, t + 1, id, ts);
            }
            9 | 11 => {
                let id = r.u16("packet identifier")?;
                d.packet_id = Some(id);
                if v5 {
                    properties(r, d)?;
                }
                if t == 9 || v5 {
                    d.reason_codes = r.rest().iter().copied().take(MAX_TOPICS).collect();
                }
                d.latency_us = self.pair_answer(dir, t, id, ts);
            }
            12 => self.pair_request(dir, 13, 0, ts),
            13 => d.latency_us = self.pair_answer(dir, 13, 0, ts),
            14 | 15 => {
                if t == 15 && self.level.is_some_and(|l| l < 5) {
                    return Err(Violation::new(
                        rules::MQTT_RESERVED_TYPE,
                        "AUTH (type 15) is reserved before MQTT 5.",
                    ));
                }
                if (v5 || t == 15) && r.left() > 0 {
                    d.reason_code = Some(r.u8("reason code")?);
                    if r.left() > 0 {
                        properties(r, d)?;
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn check_id(&self, id: u16, m: &mut AppMessage) {
        if id == 0 {
            m.violations.push(Violation::new(
                rules::MQTT_ZERO_PACKET_ID,
                format!("{} carries packet identifier 0.", m.kind),
            ));
        }
    }
}
