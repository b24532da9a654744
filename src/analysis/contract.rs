//! The one mapping from the layers' typed events to the NDJSON contract
//! (`../shared/CONTRACT.md`): every hex string, every terminal-safe text and
//! every contract field name is made here, and nowhere in the layers.

use serde::{Serialize, Serializer};

use super::event::{Check, EventKind, TlsStep};
use crate::http::{self, RequestHead, ResponseHead};
use crate::rules::Violation;
use crate::stack::TlsNote;
use crate::tcp::{HandshakeStep, TeardownHow, TeardownStep};
use crate::text::{hex, safe};
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
                mask_key: f.mask.filter(|_| detail).map(|k| hex(&k)),
                len: f.len,
                header_len: f.header_len,
                close_code,
                close_reason,
                payload_hex: hex(f.head()),
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
                m.preview.render(m.kind == MessageKind::Text, m.len)
            } else {
                String::new()
            },
            compressed_len: m.compressed_len,
        },
        WsEvent::Close(c) => close_event(&c),
        WsEvent::Violation(v) => violation(v),
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
    }
}

/// An HTTP response head.
pub fn response_event(resp: &ResponseHead) -> EventKind {
    EventKind::HttpResponse {
        status: resp.status,
        reason: safe(&resp.reason),
        version: safe(&resp.version),
        headers: safe_headers(&resp.headers),
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
    }
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
    }
}
