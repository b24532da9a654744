//! The one mapping from the layers' typed events to the NDJSON contract
//! (`../shared/CONTRACT.md`): every hex string, every terminal-safe text and
//! every contract field name is made here, and nowhere in the layers.

use serde::{Serialize, Serializer};

use super::event::{AppInfo, Check, EventKind, MessageBody, MessagePreview, Payload, TlsStep};
use crate::app::{AppId, AppMessage};
use crate::http::{self, RequestHead, ResponseHead};
use crate::rules::Violation;
use crate::stack::h2::H2Open;
use crate::stack::{LayerEvent, PolledHead, TlsNote};
use crate::tcp::{HandshakeStep, TeardownHow, TeardownStep};
use crate::text::{safe, Hex};
use crate::tls;
use crate::ws::{self, MessageKind, WsEvent};

macro_rules! serialize_as_str {
    ($($t:ty => { $($v:path => $s:literal),* $(,)? })*) => {$(
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(match self { $($v => $s),* })
            }
        }
    )*};
}

serialize_as_str! {
    HandshakeStep => { HandshakeStep::Syn => "syn", HandshakeStep::SynAck => "syn_ack", HandshakeStep::Ack => "ack" }
    TeardownHow => { TeardownHow::Fin => "fin", TeardownHow::Rst => "rst" }
    TeardownStep => { TeardownStep::Fin => "fin", TeardownStep::Ack => "ack" }
    MessageKind => { MessageKind::Text => "text", MessageKind::Binary => "binary" }
}

/// A violation or note as the contract has it. Its message is a sentence the layer
/// wrote; wire text in it was already quoted through [`crate::text::safe`] there.
pub fn violation(v: Violation) -> EventKind {
    EventKind::Violation {
        code: v.code,
        message: v.message,
        rfc: v.rfc,
    }
}

/// A WebSocket layer event. `detail` false leaves out the display strings (mask
/// key, preview) that only the timelines read.
#[inline]
pub fn ws_event(ev: WsEvent, detail: bool) -> EventKind {
    match ev {
        WsEvent::Frame(f) => {
            let (close_code, close_reason) = match &f.close {
                Some(c) => (Some(c.code), Some(safe(&c.reason))),
                None => (None, None),
            };
            EventKind::WsFrame {
                fin: f.fin,
                rsv: f.rsv,
                opcode: f.opcode,
                opname: f.opname,
                masked: f.mask.is_some(),
                mask_key: f.mask.filter(|_| detail).map(|k| Hex::new(&k)),
                len: f.len,
                header_len: f.header_len,
                close_code,
                close_reason,
                // Empty without detail (nothing of the payload was kept for it).
                payload_hex: if detail {
                    Hex::new(f.head())
                } else {
                    Hex::default()
                },
                rtt_ms: f.rtt_ms,
                mid_stream: f.mid_stream,
            }
        }
        WsEvent::Message(m) => EventKind::WsMessage {
            kind: m.kind,
            frames: m.frames,
            len: m.len,
            wire_len: m.wire_len,
            compressed: m.compressed,
            preview: if detail {
                MessagePreview::new(m.preview, m.kind, m.len)
            } else {
                MessagePreview::default()
            },
            compressed_len: m.compressed_len,
            body: MessageBody::default(),
        },
        WsEvent::Close(c) => close_event(&c),
        WsEvent::Violation(v) => violation(v),
    }
}

/// A WebSocket message with its whole payload and the application packets it
/// completed; the packets' broken rules follow it as `violation` events.
pub fn message_event(
    m: ws::MessageEvent,
    apps: &[AppMessage],
    detail: bool,
) -> (EventKind, Vec<EventKind>) {
    let mut m = m;
    let payload = m.payload.take().map(|bytes| Payload {
        bytes,
        text: m.kind == MessageKind::Text,
        truncated: m.payload_truncated,
    });
    let infos: Vec<AppInfo> = apps.iter().map(app_info).collect();
    let violations = app_violations(apps);
    let mut kind = ws_event(WsEvent::Message(m), detail);
    if let EventKind::WsMessage { body, .. } = &mut kind {
        *body = MessageBody {
            payload,
            app: infos.first().cloned().map(Box::new),
            apps: if infos.len() > 1 { infos } else { Vec::new() },
        };
    }
    (kind, violations)
}

/// An Engine.IO long-polling request or response with the packets its body carried;
/// their broken rules follow as `violation` events.
pub fn polled_event(head: PolledHead, apps: &[AppMessage]) -> (EventKind, Vec<EventKind>) {
    let mut kind = match head {
        PolledHead::Request(r) => request_event(&r, None),
        PolledHead::Response(r) => response_event(&r),
    };
    let infos: Vec<AppInfo> = apps.iter().map(app_info).collect();
    if let EventKind::HttpRequest { body, .. } | EventKind::HttpResponse { body, .. } = &mut kind {
        body.app = infos.first().cloned().map(Box::new);
        if infos.len() > 1 {
            body.apps = infos;
        }
    }
    (kind, app_violations(apps))
}

fn app_violations(apps: &[AppMessage]) -> Vec<EventKind> {
    apps.iter()
        .flat_map(|a| a.violations.iter())
        .map(|v| violation(v.to_types()))
        .collect()
}

/// One application packet as `ws_message`'s `app` has it.
pub fn app_info(a: &AppMessage) -> AppInfo {
    AppInfo {
        protocol: a.protocol.as_str(),
        kind: safe(&a.kind),
        name: a.name.as_deref().map(safe),
        id: a.id.as_ref().map(|id| match id {
            AppId::Num(n) => serde_json::Value::from(*n),
            AppId::Text(t) => serde_json::Value::String(safe(t)),
            AppId::Null => serde_json::Value::Null,
        }),
        summary: safe(&a.summary()),
    }
}

/// A TLS event of the stack.
pub fn tls_event(n: TlsNote) -> EventKind {
    let version = |v: u16| tls::version_name(v).to_string();
    let cipher = |id: u16, name: Option<&str>| {
        name.or_else(|| tls::crypto::suite_name(id))
            .map_or_else(|| format!("0x{id:04x}"), str::to_string)
    };
    match n {
        TlsNote::ClientHello(h) => EventKind::TlsHandshake {
            step: TlsStep::ClientHello {
                sni: h.sni.as_deref().map(safe),
                alpn: h.alpn.iter().map(|a| safe(a)).collect(),
                versions: if h.supported_versions.is_empty() {
                    vec![version(h.legacy_version)]
                } else {
                    h.supported_versions
                        .iter()
                        .map(|v| version(*v))
                        .filter(|v| v != "GREASE")
                        .collect()
                },
                cipher_suites: h.cipher_suites.len(),
                resumption: h.psk_offered,
            },
        },
        TlsNote::ServerHello(h, retry) => EventKind::TlsHandshake {
            step: TlsStep::ServerHello {
                version: version(h.version),
                cipher: cipher(h.cipher_suite, h.cipher_name),
                alpn: h.alpn.as_deref().map(safe),
                resumed: h.resumed,
                retry,
            },
        },
        TlsNote::Certificate { subject, issuer } => EventKind::TlsHandshake {
            step: TlsStep::Certificate {
                subject: subject.as_deref().map(safe),
                issuer: issuer.as_deref().map(safe),
            },
        },
        TlsNote::Done {
            version: v,
            cipher_suite,
            alpn,
        } => EventKind::TlsHandshake {
            step: TlsStep::Done {
                version: version(v),
                cipher: cipher(cipher_suite, None),
                alpn: alpn.as_deref().map(safe),
            },
        },
        TlsNote::Alert { level, name } => EventKind::TlsAlert {
            level: if level == 2 { "fatal" } else { "warning" },
            description: name,
        },
        TlsNote::Decrypt { ok, reason } => EventKind::TlsDecrypt { ok, reason },
    }
}

/// The close exchange as a whole.
pub fn close_event(c: &ws::CloseSummary) -> EventKind {
    EventKind::WsClose {
        initiator: c.initiator,
        code: c.code,
        reason: safe(&c.reason),
        echoed: c.echoed,
        clean: c.clean,
        echo_ms: c.echo_ms,
        fin_ms: c.fin_ms,
    }
}

fn safe_headers(headers: &[(String, String)]) -> Vec<(String, String)> {
    headers.iter().map(|(n, v)| (safe(n), safe(v))).collect()
}

/// An HTTP request head, with an upgrade request's checklist.
pub fn request_event(req: &RequestHead, request_checks: Option<&[http::Check]>) -> EventKind {
    EventKind::HttpRequest {
        method: safe(&req.method),
        target: safe(&req.target),
        version: safe(&req.version),
        headers: safe_headers(&req.headers),
        checks: request_checks.map(checks),
        body: MessageBody::default(),
    }
}

/// An HTTP response head.
pub fn response_event(resp: &ResponseHead) -> EventKind {
    EventKind::HttpResponse {
        status: resp.status,
        reason: safe(&resp.reason),
        version: safe(&resp.version),
        headers: safe_headers(&resp.headers),
        body: MessageBody::default(),
    }
}

/// The outcome of an HTTP/1.1 opening handshake, with every check.
pub fn handshake_event(up: &http::Upgrade) -> EventKind {
    let list = |v: &[String]| v.iter().map(|s| safe(s)).collect();
    EventKind::WsHandshake {
        key: up.key.as_deref().map(safe),
        accept: up.accept.as_deref().map(safe),
        expected_accept: up.expected_accept.clone(),
        accept_ok: up.accept_ok,
        version: up.version.as_deref().map(safe),
        extensions: list(&up.extensions),
        subprotocol: up.subprotocol.as_deref().map(safe),
        ok: up.ok,
        status: up.status,
        reason: up.reason.as_deref().map(safe),
        offered_extensions: list(&up.offered_extensions),
        offered_subprotocols: list(&up.offered_subprotocols),
        checks: checks(&up.checks),
        transport: "http/1.1",
    }
}

/// A WebSocket opened over HTTP/2 (RFC 8441): no Key, no Accept, a 2xx.
pub fn h2_handshake_event(h: &H2Open) -> EventKind {
    let o = &h.open;
    let raw = |v: &[crate::http::Extension]| v.iter().map(|e| safe(&e.raw)).collect();
    EventKind::WsHandshake {
        key: None,
        accept: None,
        expected_accept: None,
        accept_ok: false,
        version: o.request.header("sec-websocket-version").map(safe),
        extensions: raw(&o.extensions),
        subprotocol: o.subprotocol.as_deref().map(safe),
        ok: o.ok,
        status: o.status.unwrap_or(0),
        reason: (!o.ok).then(|| match o.status {
            Some(s) => format!("the server answered the extended CONNECT with {s}, not 2xx"),
            None => "the server never answered the extended CONNECT".to_string(),
        }),
        offered_extensions: raw(&o.offered_extensions),
        offered_subprotocols: o.offered_subprotocols.iter().map(|s| safe(s)).collect(),
        checks: checks(&h.checks),
        transport: "h2",
    }
}

/// An HTTP/2 request as `http_request` (pseudo-headers as method, target, version).
pub fn h2_request_event(r: &crate::h2::Request) -> EventKind {
    EventKind::HttpRequest {
        method: safe(r.method.as_deref().unwrap_or("")),
        target: safe(r.path.as_deref().unwrap_or("")),
        version: "HTTP/2".into(),
        headers: safe_headers(&r.headers),
        checks: None,
        body: MessageBody::default(),
    }
}

/// An HTTP/2 response as `http_response`.
pub fn h2_response_event(r: &crate::h2::Response) -> EventKind {
    EventKind::HttpResponse {
        status: r.status.unwrap_or(0),
        reason: String::new(),
        version: "HTTP/2".into(),
        headers: safe_headers(&r.headers),
        body: MessageBody::default(),
    }
}

/// An HTTP/2 control frame of the timeline.
pub fn h2_event(ev: &LayerEvent) -> Option<EventKind> {
    let code = |c: u32| {
        crate::h2::frame::error_code_name(c).map_or_else(|| format!("0x{c:x}"), str::to_string)
    };
    Some(match ev {
        LayerEvent::H2Settings { ack, params } => EventKind::H2Settings {
            ack: *ack,
            settings: params
                .iter()
                .map(|(id, v)| {
                    let name = crate::h2::frame::setting_name(*id)
                        .map_or_else(|| format!("0x{id:x}"), str::to_string);
                    (name, *v)
                })
                .collect(),
        },
        LayerEvent::H2Reset { code: c } => EventKind::H2RstStream { code: code(*c) },
        LayerEvent::H2GoAway {
            last_stream,
            code: c,
        } => EventKind::H2Goaway {
            last_stream: *last_stream,
            code: code(*c),
        },
        _ => return None,
    })
}

/// The checklist as the contract has it (details already quoted safely by the layer).
fn checks(list: &[http::Check]) -> Vec<Check> {
    list.iter()
        .map(|c| Check {
            name: c.name,
            ok: c.ok,
            seen: c.detail.clone(),
            rule: c.rfc,
        })
        .collect()
}

/// An upgrade request the server never answered (the connection ended first).
pub fn unanswered_upgrade(req: Option<&RequestHead>) -> EventKind {
    let key = req.and_then(|r| r.header("sec-websocket-key"));
    EventKind::WsHandshake {
        key: key.map(safe),
        accept: None,
        expected_accept: key.filter(|k| http::key_is_valid(k)).map(http::accept_for),
        accept_ok: false,
        version: req
            .and_then(|r| r.header("sec-websocket-version"))
            .map(safe),
        extensions: Vec::new(),
        subprotocol: None,
        ok: false,
        status: 0,
        reason: Some("the server never answered the upgrade request".into()),
        offered_extensions: Vec::new(),
        offered_subprotocols: Vec::new(),
        checks: req
            .map(|r| checks(&http::request_checks(r)))
            .unwrap_or_default(),
        transport: "http/1.1",
    }
}
