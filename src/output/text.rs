//! The text timeline: one readable line per event.
//!
//! ```text
//!     0.000000  #0  →  tcp   SYN
//!     0.000412  #0  ←  tcp   SYN-ACK
//!     0.000530  #0  →  tcp   ACK (handshake RTT 0.530 ms)
//!     0.001200  #0  →  http  GET /chat HTTP/1.1 (Upgrade: websocket)
//! ```
//!
//! Times are relative to the capture's first packet ([`TextTimeline::set_origin`]). All strings in events are already
//! made safe for a terminal by the analyzer.

use std::collections::HashMap;
use std::fmt::Write;

use crate::analysis::{Event, EventKind, HandshakeStep, TeardownHow, TeardownStep, TlsStep};
use crate::types::{Direction, Timestamp};

/// Formats events as text lines; remembers what a line needs from earlier events
/// (the first timestamp, each connection's last request target).
#[derive(Default)]
pub struct TextTimeline {
    start: Option<Timestamp>,
    targets: HashMap<u64, String>,
}

impl TextTimeline {
    /// A new timeline.
    pub fn new() -> TextTimeline {
        TextTimeline::default()
    }

    /// Time zero: the capture's first packet (before it is set, the first event).
    pub fn set_origin(&mut self, ts: Timestamp) {
        self.start.get_or_insert(ts);
    }

    /// The phase an event belongs to, as shown in the text timeline.
    pub fn phase(kind: &EventKind) -> &'static str {
        match kind {
            EventKind::ConnOpen { .. }
            | EventKind::TcpHandshake { .. }
            | EventKind::TcpTeardown { .. }
            | EventKind::Gap { .. } => "tcp",
            EventKind::TlsHandshake { .. }
            | EventKind::TlsDecrypt { .. }
            | EventKind::TlsAlert { .. } => "tls",
            EventKind::HttpRequest { .. } | EventKind::HttpResponse { .. } => "http",
            EventKind::H2Settings { .. }
            | EventKind::H2RstStream { .. }
            | EventKind::H2Goaway { .. } => "h2",
            EventKind::WsHandshake { .. } => "upgr",
            EventKind::WsFrame { .. } | EventKind::WsMessage { .. } => "ws",
            EventKind::WsClose { .. } => "close",
            EventKind::Violation { .. } => "VIOL",
        }
    }

    /// The line for `e`, without a trailing newline.
    pub fn line(&mut self, e: &Event) -> String {
        let start = *self.start.get_or_insert(e.ts);
        let rel = e.ts.0.saturating_sub(start.0);
        let arrow = match e.dir {
            Some(Direction::C2S) => "→",
            Some(Direction::S2C) => "←",
            None => "·",
        };
        let mut out = String::with_capacity(96);
        // `#3`, or `#3/s5` for HTTP/2 stream 5 of connection 3.
        let conn = match e.stream {
            Some(s) => format!("{}/s{s}", e.conn),
            None => e.conn.to_string(),
        };
        let _ = write!(
            out,
            "{:>4}.{:06}  #{:<3} {}  {:<5} ",
            rel.div_euclid(1_000_000),
            rel.rem_euclid(1_000_000),
            conn,
            arrow,
            Self::phase(&e.kind)
        );
        self.summary(e, &mut out);
        out
    }

    fn summary(&mut self, e: &Event, out: &mut String) {
        match &e.kind {
            EventKind::ConnOpen {
                client,
                server,
                mid_stream,
            } => {
                let _ = write!(out, "connection {client} → {server}");
                if *mid_stream {
                    out.push_str(" (capture began mid-stream)");
                }
            }
            EventKind::TcpHandshake {
                step,
                rtt_ms,
                retransmission,
            } => {
                out.push_str(match step {
                    HandshakeStep::Syn => "SYN",
                    HandshakeStep::SynAck => "SYN-ACK",
                    HandshakeStep::Ack => "ACK",
                });
                if *retransmission {
                    out.push_str(" (retransmission)");
                }
                if let Some(rtt) = rtt_ms {
                    let _ = write!(out, " (handshake RTT {rtt:.3} ms)");
                }
            }
            EventKind::HttpRequest {
                method,
                target,
                version,
                headers,
                ..
            } => {
                let _ = write!(out, "{method} {target} {version}");
                if let Some((_, v)) = headers
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case("upgrade"))
                {
                    let _ = write!(out, " (Upgrade: {v})");
                }
                self.targets.insert(e.conn, format!("{method} {target}"));
            }
            EventKind::HttpResponse {
                status,
                reason,
                version,
                ..
            } => {
                let _ = write!(out, "{version} {status} {reason}");
            }
            EventKind::TlsHandshake { .. }
            | EventKind::TlsDecrypt { .. }
            | EventKind::TlsAlert { .. } => tls_line(&e.kind, out),
            EventKind::H2Settings { .. }
            | EventKind::H2RstStream { .. }
            | EventKind::H2Goaway { .. } => h2_line(&e.kind, out),
            EventKind::WsHandshake {
                accept_ok,
                ok,
                status,
                extensions,
                subprotocol,
                reason,
                accept,
                ..
            } => {
                let request = self
                    .targets
                    .get(&e.conn)
                    .map(String::as_str)
                    .unwrap_or("upgrade");
                if *status == 0 {
                    let _ = write!(out, "{request} → no answer");
                } else {
                    let _ = write!(out, "{request} → {status}");
                }
                if *ok {
                    out.push_str(" upgraded ✓");
                } else {
                    out.push_str(" not upgraded ✗");
                }
                if accept.is_some() {
                    out.push_str(if *accept_ok {
                        ", Accept ✓"
                    } else {
                        ", Accept ✗"
                    });
                }
                if let Some(p) = subprotocol {
                    let _ = write!(out, ", subprotocol {p}");
                }
                for x in extensions {
                    let _ = write!(out, ", extension {x}");
                }
                if let Some(r) = reason {
                    let _ = write!(out, ": {r}");
                }
            }
            EventKind::WsFrame {
                fin,
                rsv,
                opname,
                masked,
                mask_key,
                len,
                close_code,
                close_reason,
                rtt_ms,
                ..
            } => {
                let _ = write!(out, "frame {opname}");
                out.push_str(if *fin { " FIN" } else { " (more)" });
                if *rsv != 0 {
                    let _ = write!(out, " RSV={rsv:03b}");
                }
                let _ = write!(out, " len {len}");
                if *masked {
                    let _ = write!(out, " mask {}", mask_key.as_deref().unwrap_or("?"));
                }
                if let Some(code) = close_code {
                    match code {
                        Some(c) => {
                            let _ = write!(out, " code {c}");
                        }
                        None => out.push_str(" (no code)"),
                    }
                    if let Some(r) = close_reason.as_deref().filter(|r| !r.is_empty()) {
                        let _ = write!(out, " \"{r}\"");
                    }
                }
                if let Some(rtt) = rtt_ms {
                    let _ = write!(out, " (RTT {rtt:.3} ms)");
                }
            }
            EventKind::WsMessage {
                kind,
                frames,
                len,
                wire_len,
                compressed,
                preview,
                ..
            } => {
                let kind = kind.as_str();
                let _ = write!(
                    out,
                    "message {kind} {len} B in {frames} frame{}",
                    if *frames == 1 { "" } else { "s" }
                );
                if *compressed {
                    let _ = write!(out, " ({wire_len} B on the wire, deflated)");
                }
                if kind == "text" {
                    let _ = write!(out, ": \"{preview}\"");
                } else if !preview.is_empty() {
                    let _ = write!(out, ": {preview}");
                }
            }
            EventKind::WsClose {
                initiator,
                code,
                reason,
                echoed,
                clean,
                ..
            } => {
                match code {
                    Some(c) => {
                        let _ = write!(out, "close {c}");
                    }
                    None => out.push_str("close (no code)"),
                }
                if !reason.is_empty() {
                    let _ = write!(out, " \"{reason}\"");
                }
                match initiator {
                    Some(Direction::C2S) => out.push_str(", begun by the client"),
                    Some(Direction::S2C) => out.push_str(", begun by the server"),
                    None => out.push_str(", no close frame"),
                }
                out.push_str(if *echoed { ", echoed" } else { ", not echoed" });
                out.push_str(if *clean { ", clean" } else { ", not clean" });
            }
            EventKind::TcpTeardown { how, step } => match (how, step) {
                (TeardownHow::Rst, _) => out.push_str("RST"),
                (TeardownHow::Fin, Some(TeardownStep::Ack)) => out.push_str("ACK of FIN"),
                (TeardownHow::Fin, _) => out.push_str("FIN"),
            },
            EventKind::Violation { code, message, rfc } => {
                let _ = write!(out, "{code}: {message} ({rfc})");
            }
            EventKind::Gap { bytes } => {
                let _ = write!(out, "gap: {bytes} bytes missing from the capture");
            }
        }
    }
}
/// An HTTP/2 control frame's line (the text timeline's and the terminal view's).
pub fn h2_line(kind: &EventKind, out: &mut String) {
    match kind {
        EventKind::H2Settings { ack: true, .. } => out.push_str("SETTINGS ACK"),
        EventKind::H2Settings { settings, .. } => {
            out.push_str("SETTINGS");
            for (name, v) in settings {
                let _ = write!(out, " {name}={v}");
            }
        }
        EventKind::H2RstStream { code } => {
            let _ = write!(out, "RST_STREAM {code}");
        }
        EventKind::H2Goaway { last_stream, code } => {
            let _ = write!(out, "GOAWAY last stream {last_stream} {code}");
        }
        _ => {}
    }
}

/// A TLS event's line (the text timeline's and the terminal view's).
pub fn tls_line(kind: &EventKind, out: &mut String) {
    match kind {
        EventKind::TlsHandshake { step } => tls_step(step, out),
        EventKind::TlsDecrypt { ok: true, .. } => out.push_str("decrypted with the key log ✓"),
        EventKind::TlsDecrypt { ok: false, reason } => {
            let _ = write!(out, "not decrypted ✗ ({})", reason.unwrap_or("unknown"));
            if *reason == Some("no_key") {
                out.push_str(
                    ": no key for this session; capture with SSLKEYLOGFILE set and pass --keylog",
                );
            }
        }
        EventKind::TlsAlert { level, description } => {
            let _ = write!(out, "alert {level} {description}");
        }
        _ => {}
    }
}

/// One TLS handshake step as a line.
fn tls_step(step: &TlsStep, out: &mut String) {
    match step {
        TlsStep::ClientHello {
            sni,
            alpn,
            versions,
            ..
        } => {
            out.push_str("ClientHello");
            if let Some(sni) = sni {
                let _ = write!(out, " SNI {sni}");
            }
            if !alpn.is_empty() {
                let _ = write!(out, " ALPN {}", alpn.join(","));
            }
            let _ = write!(out, " ({})", versions.join(", "));
        }
        TlsStep::ServerHello {
            version,
            cipher,
            alpn,
            resumed,
            retry,
        } => {
            out.push_str(if *retry {
                "HelloRetryRequest"
            } else {
                "ServerHello"
            });
            let _ = write!(out, " {version} {cipher}");
            if let Some(a) = alpn {
                let _ = write!(out, " ALPN {a}");
            }
            if *resumed {
                out.push_str(" (resumed)");
            }
        }
        TlsStep::Certificate { subject, issuer } => {
            let _ = write!(
                out,
                "Certificate {} (issuer {})",
                subject.as_deref().unwrap_or("?"),
                issuer.as_deref().unwrap_or("?")
            );
        }
        TlsStep::Done {
            version,
            cipher,
            alpn,
        } => {
            let _ = write!(out, "handshake done: {version} {cipher}");
            if let Some(a) = alpn {
                let _ = write!(out, ", ALPN {a}");
            }
        }
    }
}
