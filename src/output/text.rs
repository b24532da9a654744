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

use super::explain::{check_name, frames_word, violation_rule};
use super::Lang;
use crate::analysis::{Check, Event, EventKind, HandshakeStep, TeardownHow, TeardownStep, TlsStep};
use crate::types::{Direction, Timestamp};

/// Formats events as text lines; remembers what a line needs from earlier events
/// (the first timestamp, each connection's last request target).
#[derive(Default)]
pub struct TextTimeline {
    lang: Lang,
    start: Option<Timestamp>,
    /// Each open connection's last request (`GET /chat`), for its upgrade's line.
    targets: HashMap<u64, String>,
    /// Heap bytes of the strings of `targets` (for the memory budget).
    target_bytes: usize,
    /// Heap bytes of the table `targets`, as of its last insertion.
    table_bytes: usize,
}

impl TextTimeline {
    /// A new timeline.
    pub fn new() -> TextTimeline {
        TextTimeline::default()
    }

    /// A new timeline whose lines are in `lang`.
    pub fn with_lang(lang: Lang) -> TextTimeline {
        TextTimeline {
            lang,
            ..TextTimeline::default()
        }
    }

    /// The phase column in `lang`: [`TextTimeline::phase`], or its Chinese word for the
    /// columns that are not protocol names.
    pub fn phase_label(lang: Lang, kind: &EventKind) -> String {
        match Self::phase(kind) {
            "upgr" => msg!(lang, "text.phase_upgr"),
            "close" => msg!(lang, "text.phase_close"),
            "VIOL" => msg!(lang, "text.phase_viol"),
            other => other.to_string(),
        }
    }

    /// `conn` has ended: its last request is forgotten.
    pub fn conn_closed(&mut self, conn: u64) {
        if let Some(t) = self.targets.remove(&conn) {
            crate::budget::release(&mut self.target_bytes, crate::budget::string_bytes(&t));
        }
    }

    /// Heap bytes kept per open connection (for the memory budget).
    #[inline]
    pub fn heap_bytes(&self) -> usize {
        self.target_bytes + self.table_bytes
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
        let phase = Self::phase_label(self.lang, &e.kind);
        let pad = 5usize.saturating_sub(crate::text::width(&phase));
        let _ = write!(
            out,
            "{:>4}.{:06}  #{:<3} {}  {phase}{:pad$} ",
            rel.div_euclid(1_000_000),
            rel.rem_euclid(1_000_000),
            conn,
            arrow,
            ""
        );
        self.summary(e, &mut out);
        out
    }

    fn summary(&mut self, e: &Event, out: &mut String) {
        let lang = self.lang;
        match &e.kind {
            EventKind::ConnOpen {
                client,
                server,
                mid_stream,
            } => {
                out.push_str(&msg!(
                    lang,
                    "text.connection",
                    client = client,
                    server = server
                ));
                if *mid_stream {
                    out.push_str(&msg!(lang, "text.mid_stream"));
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
                    out.push_str(&msg!(lang, "text.retransmission"));
                }
                if let Some(rtt) = rtt_ms {
                    out.push_str(&msg!(lang, "text.handshake_rtt", rtt = rtt : {:.3}));
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
                let t = format!("{method} {target}");
                self.target_bytes += crate::budget::string_bytes(&t);
                if let Some(old) = self.targets.insert(e.conn, t) {
                    let old = crate::budget::string_bytes(&old);
                    crate::budget::release(&mut self.target_bytes, old);
                }
                self.table_bytes = crate::budget::map_bytes(&self.targets);
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
            | EventKind::TlsAlert { .. } => tls_line_in(lang, &e.kind, out),
            EventKind::H2Settings { .. }
            | EventKind::H2RstStream { .. }
            | EventKind::H2Goaway { .. } => h2_line_in(lang, &e.kind, out),
            EventKind::WsHandshake {
                accept_ok,
                ok,
                status,
                extensions,
                subprotocol,
                reason,
                accept,
                checks,
                key,
                ..
            } => {
                let request = self
                    .targets
                    .get(&e.conn)
                    .cloned()
                    .unwrap_or_else(|| msg!(lang, "text.upgrade"));
                if *status == 0 {
                    out.push_str(&msg!(lang, "text.no_answer", request = request));
                } else {
                    let _ = write!(out, "{request} → {status}");
                }
                if *ok {
                    out.push_str(&msg!(lang, "text.upgraded"));
                } else {
                    out.push_str(&msg!(lang, "text.not_upgraded"));
                }
                if accept.is_some() {
                    out.push_str(&if *accept_ok {
                        msg!(lang, "text.accept_ok")
                    } else {
                        msg!(lang, "text.accept_bad")
                    });
                }
                if let Some(p) = subprotocol {
                    out.push_str(&msg!(lang, "text.subprotocol", p = p));
                }
                for x in extensions {
                    out.push_str(&msg!(lang, "text.extension", x = x));
                }
                if let Some(r) =
                    handshake_reason(lang, reason.as_deref(), *status, checks, key.is_some())
                {
                    let _ = write!(out, "{}{r}", msg!(lang, "punct.colon"));
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
                out.push_str(&msg!(lang, "text.frame", op = opname));
                if *fin {
                    out.push_str(" FIN");
                } else {
                    out.push_str(&msg!(lang, "text.more"));
                }
                if *rsv != 0 {
                    let _ = write!(out, " RSV={rsv:03b}");
                }
                out.push_str(&msg!(lang, "text.len", len = len));
                if *masked {
                    let key = mask_key.map_or_else(|| "?".to_string(), |k| k.to_string());
                    out.push_str(&msg!(lang, "text.mask", key = key));
                }
                if let Some(code) = close_code {
                    match code {
                        Some(c) => out.push_str(&msg!(lang, "text.code", c = c)),
                        None => out.push_str(&msg!(lang, "text.no_code")),
                    }
                    if let Some(r) = close_reason.as_deref().filter(|r| !r.is_empty()) {
                        let _ = write!(out, " \"{r}\"");
                    }
                }
                if let Some(rtt) = rtt_ms {
                    out.push_str(&msg!(lang, "text.pong_rtt", rtt = rtt : {:.3}));
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
                let word = match kind {
                    "text" => msg!(lang, "word.text"),
                    _ => msg!(lang, "word.binary"),
                };
                let frames = frames_word(lang, u64::from(*frames));
                out.push_str(&msg!(
                    lang,
                    "text.message",
                    kind = word,
                    len = len,
                    frames = frames
                ));
                if *compressed {
                    out.push_str(&msg!(lang, "text.deflated", wire_len = wire_len));
                }
                if kind == "text" {
                    let _ = write!(out, "{}\"{preview}\"", msg!(lang, "punct.colon"));
                } else if !preview.is_empty() {
                    let _ = write!(out, "{}{preview}", msg!(lang, "punct.colon"));
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
                    Some(c) => out.push_str(&msg!(lang, "text.close", c = c)),
                    None => out.push_str(&msg!(lang, "text.close_no_code")),
                }
                if !reason.is_empty() {
                    let _ = write!(out, " \"{reason}\"");
                }
                out.push_str(&match initiator {
                    Some(Direction::C2S) => msg!(lang, "text.begun_by_client"),
                    Some(Direction::S2C) => msg!(lang, "text.begun_by_server"),
                    None => msg!(lang, "text.no_close_frame"),
                });
                out.push_str(&if *echoed {
                    msg!(lang, "text.echoed")
                } else {
                    msg!(lang, "text.not_echoed")
                });
                out.push_str(&if *clean {
                    msg!(lang, "text.clean")
                } else {
                    msg!(lang, "text.not_clean")
                });
            }
            EventKind::TcpTeardown { how, step } => match (how, step) {
                (TeardownHow::Rst, _) => out.push_str("RST"),
                (TeardownHow::Fin, Some(TeardownStep::Ack)) => {
                    out.push_str(&msg!(lang, "text.ack_of_fin"))
                }
                (TeardownHow::Fin, _) => out.push_str("FIN"),
            },
            EventKind::Violation { code, message, rfc } => {
                let what = violation_headline(lang, code, message);
                out.push_str(&msg!(
                    lang,
                    "text.violation",
                    code = code,
                    what = what,
                    rfc = rfc
                ));
            }
            EventKind::Gap { bytes } => {
                out.push_str(&msg!(lang, "text.gap", bytes = bytes));
            }
        }
    }
}
/// An HTTP/2 control frame's line (the terminal view's), in English.
pub fn h2_line(kind: &EventKind, out: &mut String) {
    h2_line_in(Lang::En, kind, out)
}

/// An HTTP/2 control frame's line in `lang` (frame and setting names stay as RFC 9113
/// spells them).
pub fn h2_line_in(lang: Lang, kind: &EventKind, out: &mut String) {
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
            out.push_str(&msg!(
                lang,
                "text.h2_goaway",
                last = last_stream,
                code = code
            ));
        }
        _ => {}
    }
}

/// A TLS event's line (the terminal view's), in English.
pub fn tls_line(kind: &EventKind, out: &mut String) {
    tls_line_in(Lang::En, kind, out)
}

/// A TLS event's line in `lang` (message, version and suite names stay as the RFCs
/// spell them).
pub fn tls_line_in(lang: Lang, kind: &EventKind, out: &mut String) {
    match kind {
        EventKind::TlsHandshake { step } => tls_step(lang, step, out),
        EventKind::TlsDecrypt { ok: true, .. } => out.push_str(&msg!(lang, "text.tls_decrypted")),
        EventKind::TlsDecrypt { ok: false, reason } => {
            let reason = reason.unwrap_or("unknown");
            out.push_str(&msg!(lang, "text.tls_not_decrypted", reason = reason));
            if reason == "no_key" {
                out.push_str(&msg!(lang, "text.tls_no_key"));
            }
        }
        EventKind::TlsAlert { level, description } => {
            let level = match *level {
                "warning" => msg!(lang, "text.tls_alert_warning"),
                "fatal" => msg!(lang, "text.tls_alert_fatal"),
                other => other.to_string(),
            };
            out.push_str(&msg!(
                lang,
                "text.tls_alert",
                level = level,
                description = description
            ));
        }
        _ => {}
    }
}

/// One TLS handshake step as a line.
fn tls_step(lang: Lang, step: &TlsStep, out: &mut String) {
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
                out.push(' ');
                out.push_str(&msg!(lang, "text.tls_resumed"));
            }
        }
        TlsStep::Certificate { subject, issuer } => {
            out.push_str(&msg!(
                lang,
                "text.tls_certificate",
                subject = subject.as_deref().unwrap_or("?"),
                issuer = issuer.as_deref().unwrap_or("?")
            ));
        }
        TlsStep::Done {
            version,
            cipher,
            alpn,
        } => {
            out.push_str(&msg!(
                lang,
                "text.tls_done",
                version = version,
                cipher = cipher
            ));
            if let Some(a) = alpn {
                let _ = write!(out, ", ALPN {a}");
            }
        }
    }
}

/// A violation's headline: in English the message the layer wrote (with its facts), in
/// Chinese the rule's own words ([`violation_rule`]).
pub fn violation_headline(lang: Lang, code: &str, message: &str) -> String {
    match lang {
        Lang::En => message.to_string(),
        Lang::Zh => violation_rule(lang, code),
    }
}

/// Why an upgrade failed: in English the layer's sentence; in Chinese told again from
/// the event (the refusal's status, else the first requirement not met).
pub fn handshake_reason(
    lang: Lang,
    reason: Option<&str>,
    status: u16,
    checks: &[Check],
    has_key: bool,
) -> Option<String> {
    let reason = reason?;
    if lang == Lang::En {
        return Some(reason.to_string());
    }
    Some(if status != 101 {
        msg!(lang, "text.refused", status = status)
    } else if let Some(ch) = checks.iter().find(|c| !c.ok) {
        msg!(
            lang,
            "text.requirement_not_met",
            what = check_name(lang, ch.name)
        )
    } else if !has_key {
        msg!(lang, "text.no_key")
    } else {
        msg!(lang, "text.accept_wrong")
    })
}
