//! `wsscope export --har`: the WebSockets of a capture as HAR 1.2, as Chrome DevTools
//! writes them: one entry per WebSocket, its Upgrade request and response, and
//! `_webSocketMessages` (`type` `send`/`receive`, `time` in seconds since the epoch,
//! `opcode`, `data`: the text of a text message, base64 for binary).
//!
//! The structs are plain serde (no HAR crate: the ones published model HAR 1.2 without
//! Chrome's `_webSocketMessages` / `_resourceType` extensions, which are the point here).
//! Entries are written as their connections end, so memory holds only the open
//! connections' messages.

use std::collections::HashMap;
use std::io::{self, Write};

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::analysis::{Event, EventKind, MessageKind};
use crate::types::{Direction, Timestamp};

/// A HAR header or query parameter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameValue {
    /// Name.
    pub name: String,
    /// Value.
    pub value: String,
}

/// The request of an entry: the Upgrade request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    /// `GET`.
    pub method: String,
    /// `ws://host/path` (or `wss://`).
    pub url: String,
    /// `HTTP/1.1`.
    pub http_version: String,
    /// Always empty (cookies stay in the headers).
    pub cookies: Vec<NameValue>,
    /// Headers in wire order.
    pub headers: Vec<NameValue>,
    /// The query of the target.
    pub query_string: Vec<NameValue>,
    /// The head's size is not kept: -1.
    pub headers_size: i64,
    /// 0.
    pub body_size: i64,
}

/// The response's (empty) content.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Content {
    /// 0.
    pub size: i64,
    /// `x-unknown`, as Chrome.
    pub mime_type: String,
}

/// The response of an entry: the 101.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Response {
    /// 101.
    pub status: u16,
    /// `Switching Protocols`.
    pub status_text: String,
    /// `HTTP/1.1`.
    pub http_version: String,
    /// Always empty.
    pub cookies: Vec<NameValue>,
    /// Headers in wire order.
    pub headers: Vec<NameValue>,
    /// Empty.
    pub content: Content,
    /// Empty.
    #[serde(rename = "redirectURL")]
    pub redirect_url: String,
    /// -1.
    pub headers_size: i64,
    /// 0.
    pub body_size: i64,
}

/// HAR timings (ms; -1 where not known).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    /// -1.
    pub blocked: f64,
    /// -1.
    pub dns: f64,
    /// -1.
    pub connect: f64,
    /// 0.
    pub send: f64,
    /// Request to response.
    pub wait: f64,
    /// 0.
    pub receive: f64,
    /// -1.
    pub ssl: f64,
}

/// One WebSocket message as Chrome DevTools writes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WsMessage {
    /// `send` (client to server) or `receive`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Seconds since the epoch.
    pub time: f64,
    /// 1 text, 2 binary.
    pub opcode: u8,
    /// The text, or base64 of the bytes of a binary message.
    pub data: String,
    /// The payload was cut at `--max-payload` (wsscope's; absent when whole).
    #[serde(
        rename = "_payloadTruncated",
        default,
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub truncated: bool,
}

/// One HAR entry: a WebSocket.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    /// When the Upgrade request was sent (ISO 8601, UTC).
    pub started_date_time: String,
    /// Request to response, ms.
    pub time: f64,
    /// The Upgrade request.
    pub request: Request,
    /// The response.
    pub response: Response,
    /// Empty.
    pub cache: serde_json::Map<String, serde_json::Value>,
    /// Timings.
    pub timings: Timings,
    /// The server's address.
    #[serde(rename = "serverIPAddress")]
    pub server_ip_address: String,
    /// The client's port (Chrome: the connection id).
    pub connection: String,
    /// `websocket`.
    #[serde(rename = "_resourceType")]
    pub resource_type: String,
    /// The messages, in capture order.
    #[serde(rename = "_webSocketMessages")]
    pub web_socket_messages: Vec<WsMessage>,
}

/// The creator of the log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Creator {
    /// `wsscope`.
    pub name: String,
    /// Its version.
    pub version: String,
}

/// The HAR log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Log {
    /// `1.2`.
    pub version: String,
    /// wsscope.
    pub creator: Creator,
    /// Empty.
    pub pages: Vec<serde_json::Value>,
    /// One per WebSocket.
    pub entries: Vec<Entry>,
}

/// A HAR file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Har {
    /// The log.
    pub log: Log,
}

/// The last request seen: time, headers, method, target, version.
type Req = (Timestamp, Vec<(String, String)>, String, String, String);
/// The last response seen: time, status, reason, version, headers.
type Resp = (Timestamp, u16, String, String, Vec<(String, String)>);

#[derive(Default)]
struct Conn {
    server: String,
    client_port: String,
    tls: bool,
    request: Option<Req>,
    response: Option<Resp>,
    upgraded: Option<Entry>,
    /// Heap bytes of the messages kept in `upgraded`.
    msg_bytes: usize,
    /// Its heap bytes counted in [`HarWriter::held`].
    charged: usize,
}

impl Conn {
    /// Heap bytes held for this connection's entry (for the memory budget).
    fn heap_bytes(&self) -> usize {
        use crate::budget::{headers_bytes, string_bytes};
        let req = |r: &Req| {
            headers_bytes(&r.1) + string_bytes(&r.2) + string_bytes(&r.3) + string_bytes(&r.4)
        };
        let resp = |r: &Resp| string_bytes(&r.2) + string_bytes(&r.3) + headers_bytes(&r.4);
        let heads = self.request.as_ref().map_or(0, req) + self.response.as_ref().map_or(0, resp);
        std::mem::size_of::<Conn>()
            + string_bytes(&self.server)
            + string_bytes(&self.client_port)
            + heads
            + self.upgraded.as_ref().map_or(0, |e| {
                // The entry copies the heads.
                heads + crate::budget::vec_bytes(&e.web_socket_messages) + self.msg_bytes
            })
    }
}

/// Builds HAR entries from the events and writes them as connections end.
pub struct HarWriter<W: Write> {
    out: W,
    conns: HashMap<u64, Conn>,
    entries: usize,
    /// Heap bytes of the open connections' entries (a running count, for the memory
    /// budget: every message of a WebSocket is kept until it ends).
    held: usize,
}

impl<W: Write> HarWriter<W> {
    /// Starts the file (the log's head).
    pub fn new(mut out: W) -> io::Result<HarWriter<W>> {
        write!(
            out,
            "{{\"log\":{{\"version\":\"1.2\",\"creator\":{{\"name\":\"wsscope\",\"version\":\"{}\"}},\"pages\":[],\"entries\":[",
            env!("CARGO_PKG_VERSION")
        )?;
        Ok(HarWriter {
            out,
            conns: HashMap::new(),
            entries: 0,
            held: 0,
        })
    }

    /// WebSockets written so far.
    pub fn entries(&self) -> usize {
        self.entries
    }

    /// Heap bytes held for the connections still open (for the memory budget).
    pub fn heap_bytes(&self) -> usize {
        self.held + crate::budget::map_bytes(&self.conns)
    }

    /// One event of the capture (its message payloads must be kept).
    pub fn event(&mut self, e: &Event) {
        let c = self.conns.entry(e.conn).or_default();
        Self::add(c, e);
        let now = c.heap_bytes();
        crate::budget::recount(&mut self.held, &mut c.charged, now);
    }

    fn add(c: &mut Conn, e: &Event) {
        match &e.kind {
            EventKind::ConnOpen { client, server, .. } => {
                c.server = host_of(server).to_string();
                c.client_port = client.rsplit(':').next().unwrap_or("").to_string();
                if c.server.is_empty() {
                    c.server.clone_from(server);
                }
            }
            EventKind::TlsHandshake { .. } => c.tls = true,
            EventKind::HttpRequest {
                method,
                target,
                version,
                headers,
                ..
            } => {
                c.request = Some((
                    e.ts,
                    headers.clone(),
                    method.clone(),
                    target.clone(),
                    version.clone(),
                ));
            }
            EventKind::HttpResponse {
                status,
                reason,
                version,
                headers,
                ..
            } => {
                c.response = Some((
                    e.ts,
                    *status,
                    reason.clone(),
                    version.clone(),
                    headers.clone(),
                ))
            }
            EventKind::WsHandshake { ok: true, .. } => {
                if let (Some(req), Some(resp)) = (&c.request, &c.response) {
                    c.upgraded = Some(entry(c, req, resp));
                }
            }
            EventKind::WsMessage { kind, body, .. } => {
                let (Some(entry), Some(p)) = (c.upgraded.as_mut(), &body.payload) else {
                    return;
                };
                let text = *kind == MessageKind::Text;
                let data = if text {
                    String::from_utf8_lossy(&p.bytes).into_owned()
                } else {
                    base64::engine::general_purpose::STANDARD.encode(&p.bytes)
                };
                c.msg_bytes += crate::budget::string_bytes(&data) + 8;
                entry.web_socket_messages.push(WsMessage {
                    kind: if e.dir == Some(Direction::S2C) {
                        "receive"
                    } else {
                        "send"
                    }
                    .into(),
                    time: e.ts.0 as f64 / 1e6,
                    opcode: if text { 1 } else { 2 },
                    data,
                    truncated: p.truncated,
                });
            }
            _ => {}
        }
    }

    /// `conn` ended: its entry (if it was a WebSocket) is written.
    pub fn conn_closed(&mut self, conn: u64) -> io::Result<()> {
        let Some(c) = self.conns.remove(&conn) else {
            return Ok(());
        };
        crate::budget::release(&mut self.held, c.charged);
        let Some(entry) = c.upgraded else {
            return Ok(());
        };
        if self.entries > 0 {
            self.out.write_all(b",")?;
        }
        self.out.write_all(b"\n")?;
        serde_json::to_writer(&mut self.out, &entry)?;
        self.entries += 1;
        Ok(())
    }

    /// `conn` ended and is not exported.
    pub fn forget(&mut self, conn: u64) {
        if let Some(c) = self.conns.remove(&conn) {
            crate::budget::release(&mut self.held, c.charged);
        }
    }

    /// Ends the file (connections still open are written first, in number order).
    pub fn finish(mut self) -> io::Result<W> {
        let mut open: Vec<u64> = self.conns.keys().copied().collect();
        open.sort_unstable();
        for c in open {
            self.conn_closed(c)?;
        }
        self.out.write_all(b"\n]}}\n")?;
        self.out.flush()?;
        Ok(self.out)
    }
}

fn host_of(addr: &str) -> &str {
    match addr.rsplit_once(':') {
        Some((h, _)) => h.trim_start_matches('[').trim_end_matches(']'),
        None => addr,
    }
}

fn pairs(h: &[(String, String)]) -> Vec<NameValue> {
    h.iter()
        .map(|(n, v)| NameValue {
            name: n.clone(),
            value: v.clone(),
        })
        .collect()
}

fn entry(c: &Conn, req: &Req, resp: &Resp) -> Entry {
    let (req_ts, headers, method, target, version) = req;
    let (resp_ts, status, reason, resp_version, resp_headers) = resp;
    let host = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("host"))
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| c.server.clone());
    let scheme = if c.tls { "wss" } else { "ws" };
    let url = if target.starts_with('/') {
        format!("{scheme}://{host}{target}")
    } else {
        target.clone()
    };
    let query_string = target
        .split_once('?')
        .map(|(_, q)| {
            q.split('&')
                .filter(|kv| !kv.is_empty())
                .map(|kv| {
                    let (n, v) = kv.split_once('=').unwrap_or((kv, ""));
                    NameValue {
                        name: n.into(),
                        value: v.into(),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let wait = resp_ts.millis_since(*req_ts).max(0.0);
    Entry {
        started_date_time: iso8601(*req_ts),
        time: wait,
        request: Request {
            method: method.clone(),
            url,
            http_version: version.clone(),
            cookies: Vec::new(),
            headers: pairs(headers),
            query_string,
            headers_size: -1,
            body_size: 0,
        },
        response: Response {
            status: *status,
            status_text: reason.clone(),
            http_version: resp_version.clone(),
            cookies: Vec::new(),
            headers: pairs(resp_headers),
            content: Content {
                size: 0,
                mime_type: "x-unknown".into(),
            },
            redirect_url: String::new(),
            headers_size: -1,
            body_size: 0,
        },
        cache: serde_json::Map::new(),
        timings: Timings {
            blocked: -1.0,
            dns: -1.0,
            connect: -1.0,
            send: 0.0,
            wait,
            receive: 0.0,
            ssl: -1.0,
        },
        server_ip_address: c.server.clone(),
        connection: c.client_port.clone(),
        resource_type: "websocket".into(),
        web_socket_messages: Vec::new(),
    }
}

/// `2026-12-01T05:01:34.123Z` for a capture time.
pub fn iso8601(ts: Timestamp) -> String {
    let secs = ts.0.div_euclid(1_000_000);
    let micros = ts.0.rem_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60,
        micros / 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_iso8601_utc() {
        assert_eq!(iso8601(Timestamp(0)), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            iso8601(Timestamp(1_700_000_000_002_100)),
            "2023-11-14T22:13:20.002Z"
        );
        assert_eq!(
            iso8601(Timestamp(951_782_400_000_000)),
            "2000-02-29T00:00:00.000Z"
        );
    }
}
