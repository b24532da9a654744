//! One line of plain English per application message, for the text timeline.

use std::fmt::Write as _;

use super::socketio::Transport;
use super::{AppMessage, Detail, Protocol};

fn ms(us: i64) -> String {
    format!("{:.3} ms", us as f64 / 1000.0)
}

fn plural(n: usize, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

pub(super) fn summary(m: &AppMessage) -> String {
    let mut s = format!("{} {}", m.protocol, m.kind);
    let w = &mut s;
    match &m.detail {
        Detail::SocketIo(d) => {
            if let Some(a) = &d.attachment {
                let _ = write!(w, " {} of {} for {}", a.index + 1, a.of_total, a.of);
                if let Some(n) = &m.name {
                    let _ = write!(w, " {n:?}");
                }
                let _ = write!(w, " ({} B)", a.len);
            } else if let Some(n) = &m.name {
                let _ = write!(w, " {n:?}");
            }
            let _ = write!(w, " nsp {}", d.namespace);
            if let Some(a) = d.ack_id {
                let _ = write!(w, " ack {a}");
            }
            if let Some(n) = d.args {
                let _ = write!(w, " ({})", plural(n, "arg"));
            }
            if let Some(n) = d.attachments {
                let _ = write!(w, " +{}", plural(n as usize, "attachment"));
            }
            if let Some(sid) = &d.sid {
                let _ = write!(w, " sid {sid}");
            }
            if let Some(e) = &d.error {
                let _ = write!(w, ": {e}");
            }
            if d.transport == Transport::Polling {
                w.push_str(" [polling]");
            }
        }
        Detail::EngineIo(d) => {
            if d.probe {
                w.push_str(" probe");
            }
            if d.binary {
                let _ = write!(w, " binary {} B", d.data_len);
            } else if m.kind == "message" {
                let _ = write!(w, " {} B", d.data_len);
            }
            if let Some(h) = &d.handshake {
                if let Some(sid) = &h.sid {
                    let _ = write!(w, " sid {sid}");
                }
                if !h.upgrades.is_empty() {
                    let _ = write!(w, " upgrades [{}]", h.upgrades.join(", "));
                }
                if let (Some(i), Some(t)) = (h.ping_interval_ms, h.ping_timeout_ms) {
                    let _ = write!(w, " ping every {i} ms, timeout {t} ms");
                }
            }
            if d.transport == Transport::Polling {
                w.push_str(" [polling]");
            }
        }
        Detail::Mqtt(d) => {
            if let Some(n) = &m.name {
                let _ = write!(w, " {n}");
            }
            if let Some(q) = d.qos {
                let _ = write!(w, " QoS {q}");
            }
            if let Some(id) = d.packet_id {
                let _ = write!(w, " id {id}");
            }
            if d.retain {
                w.push_str(" retain");
            }
            if d.dup {
                w.push_str(" dup");
            }
            if let Some(c) = &d.client_id {
                let _ = write!(w, " client {c:?}");
            }
            if let Some(l) = d.level.filter(|_| m.kind == "CONNECT") {
                let v = match l {
                    3 => "3.1",
                    4 => "3.1.1",
                    5 => "5.0",
                    _ => "?",
                };
                let _ = write!(w, " MQTT {v}");
            }
            if let Some(k) = d.keep_alive {
                let _ = write!(w, " keep-alive {k} s");
            }
            if let Some(sp) = d.session_present {
                let _ = write!(w, " session {}", if sp { "present" } else { "new" });
            }
            if let Some(rc) = d.reason_code {
                let _ = write!(w, " rc {rc}");
            }
            if m.kind == "SUBSCRIBE" {
                let q: Vec<String> = d
                    .topics
                    .iter()
                    .filter_map(|t| t.qos)
                    .map(|q| q.to_string())
                    .collect();
                let _ = write!(w, " (max QoS {})", q.join(", "));
            }
            if !d.reason_codes.is_empty() {
                let r: Vec<String> = d.reason_codes.iter().map(u8::to_string).collect();
                let _ = write!(w, " [{}]", r.join(", "));
            }
            if let Some(p) = d.payload_len {
                let _ = write!(w, " ({p} B)");
            }
            if let Some(l) = d.latency_us {
                let _ = write!(w, " after {}", ms(l));
            }
            if d.skipped {
                let _ = write!(w, " ({} B, too large: skipped)", d.remaining_length);
            }
        }
        Detail::Graphql(d) => {
            if let Some(id) = &m.id {
                let _ = write!(w, " id {id}");
            }
            match (&d.operation_type, &m.name) {
                (Some(t), Some(n)) => {
                    let _ = write!(w, " {t} {n}");
                }
                (Some(t), None) => {
                    let _ = write!(w, " anonymous {t}");
                }
                (None, Some(n)) => {
                    let _ = write!(w, " {n}");
                }
                (None, None) => {}
            }
            if !d.data_keys.is_empty() {
                let _ = write!(w, " data {{{}}}", d.data_keys.join(", "));
            }
            if let Some(e) = d.errors {
                let _ = write!(w, " {}", plural(e, "error"));
                if let Some(msg) = &d.error_message {
                    let _ = write!(w, " ({msg:?})");
                }
            }
            if let Some(r) = d.results {
                if matches!(m.kind.as_str(), "next" | "data") {
                    let _ = write!(w, " #{r}");
                } else {
                    let _ = write!(w, " after {}", plural(r as usize, "result"));
                }
            }
            if let Some(e) = d.elapsed_us {
                let _ = write!(w, " +{}", ms(e));
            }
            if let Some(l) = d.latency_us {
                let _ = write!(w, " after {}", ms(l));
            }
        }
        Detail::Stomp(d) => {
            if let Some(n) = &m.name {
                let _ = write!(w, " {n}");
            }
            if let Some(id) = &m.id {
                let _ = write!(w, " id {id}");
            }
            if let Some((x, y)) = d.heart_beat {
                let _ = write!(w, " heart-beat {x},{y}");
            }
            if let Some(n) = d.negotiated {
                if m.kind == "HEARTBEAT" {
                    let every = match m.dir {
                        crate::types::Direction::C2S => n.c2s_ms,
                        crate::types::Direction::S2C => n.s2c_ms,
                    };
                    let _ = write!(w, " (negotiated every {every} ms)");
                } else {
                    let _ = write!(w, " → heart-beats c2s {} ms, s2c {} ms", n.c2s_ms, n.s2c_ms);
                }
            }
            if let Some(p) = d.since_previous_us {
                let _ = write!(w, " {} since the previous", ms(p));
            }
            if m.kind != "HEARTBEAT" && d.body_len > 0 {
                let _ = write!(w, " ({} B body)", d.body_len);
            }
            if let Some(l) = d.latency_us {
                let _ = write!(w, " after {}", ms(l));
            }
            if d.skipped {
                w.push_str(" (too large: skipped)");
            }
        }
        Detail::JsonRpc(d) => {
            if let Some(n) = &m.name {
                let _ = write!(w, " {n}");
            }
            if let Some(id) = &m.id {
                let _ = write!(w, " id {id}");
            }
            if let Some(c) = d.error_code {
                let _ = write!(w, " code {c}");
            }
            if let Some(msg) = &d.error_message {
                let _ = write!(w, " {msg:?}");
            }
            if let Some((i, n)) = d.batch {
                let _ = write!(w, " [batch {}/{n}]", i + 1);
            }
            if let Some(l) = d.latency_us {
                let _ = write!(w, " after {}", ms(l));
            }
            if let Some(dia) = d.dialect {
                let _ = write!(w, " ({dia})");
            }
        }
        Detail::Json(d) => {
            if let Some(n) = &m.name {
                let _ = write!(w, " {n:?}");
            }
            if m.kind == "object" {
                let _ = write!(w, " ({})", plural(d.len, "key"));
            } else if m.kind == "array" {
                let _ = write!(w, " ({})", plural(d.len, "element"));
            }
        }
        Detail::None => {
            if let Some(n) = &m.name {
                let _ = write!(w, " {n}");
            }
            if let Some(id) = &m.id {
                let _ = write!(w, " id {id}");
            }
        }
    }
    if m.protocol == Protocol::Json && m.violations.is_empty() {
        return s;
    }
    if let Some(v) = m.violations.first() {
        let _ = write!(s, " — {}: {}", v.rule.code, v.message);
        if m.violations.len() > 1 {
            let _ = write!(s, " (+{} more)", m.violations.len() - 1);
        }
    }
    s
}
