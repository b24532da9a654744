//! `print --explain`: the text timeline with a short lesson under the first event of
//! each phase of each connection, and under every violation.
//!
//! The phases are those of a WebSocket's life as the usual introductions tell it (TCP
//! three-way handshake, HTTP Upgrade, the Accept, data frames, the ping/pong heartbeat,
//! the two-step close, TCP teardown); every explanation quotes the values of *this*
//! connection (addresses, key and Accept, mask key, lengths, close code, timings), so a
//! reader sees the claims of the textbook on real bytes. English and Chinese.
//!
//! Wire text reaches here already made safe by the analyzer ([`crate::text::safe`]);
//! what is added is our own text.

use std::collections::HashMap;
use std::io::{self, Write};

use super::{Report, TextTimeline};
use crate::analysis::{
    Event, EventKind, HandshakeStep, Header, TeardownHow, TeardownStep, TlsStep,
};
use crate::http::{accept_steps, RequestHead, WS_GUID};
use crate::types::{Direction, Timestamp};

/// The language of explanations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// Chinese (simplified).
    Zh,
}

impl Lang {
    /// `"en"` or `"zh"` (any case, region allowed: `zh_CN.UTF-8`); None otherwise.
    pub fn from_code(code: &str) -> Option<Lang> {
        let c = code.trim().to_ascii_lowercase();
        if c.starts_with("zh") {
            Some(Lang::Zh)
        } else if c.starts_with("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The language from the locale variables as POSIX orders them: the first of
    /// `LC_ALL`, `LC_MESSAGES`, `LANG` that is set and not empty decides; `zh*` is
    /// Chinese, anything else (including `C` and `POSIX`) English.
    pub fn from_env_values(
        lc_all: Option<&str>,
        lc_messages: Option<&str>,
        lang: Option<&str>,
    ) -> Lang {
        let chosen = [lc_all, lc_messages, lang]
            .into_iter()
            .flatten()
            .map(str::trim)
            .find(|v| !v.is_empty());
        match chosen {
            Some(v) if v.to_ascii_lowercase().starts_with("zh") => Lang::Zh,
            _ => Lang::En,
        }
    }

    /// [`Lang::from_env_values`] on this process's environment.
    pub fn from_env() -> Lang {
        let var = |n: &str| std::env::var(n).ok();
        Lang::from_env_values(
            var("LC_ALL").as_deref(),
            var("LC_MESSAGES").as_deref(),
            var("LANG").as_deref(),
        )
    }

    /// The message catalogue's locale (`locales/*.yml`): `"en"` or `"zh"`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }

    /// "the client" / "客户端" for the sender `dir`.
    pub fn side(self, dir: Option<Direction>) -> String {
        match dir {
            Some(Direction::S2C) => msg!(self, "side.the_server"),
            _ => msg!(self, "side.the_client"),
        }
    }
}

pub use crate::analysis::Phase;

impl Phase {
    /// The phase's title.
    pub fn title(self, lang: Lang) -> String {
        match self {
            Phase::TcpHandshake => msg!(lang, "explain.tcp_three_way_handshake"),
            Phase::Tls => msg!(lang, "explain.tls_handshake_phase"),
            Phase::Http => msg!(lang, "explain.http"),
            Phase::Accept => msg!(lang, "explain.accept"),
            Phase::Data => msg!(lang, "explain.data_frames"),
            Phase::Heartbeat => msg!(lang, "explain.heartbeat_ping_pong"),
            Phase::Close => msg!(lang, "explain.closing_handshake"),
            Phase::Teardown => msg!(lang, "explain.tcp_teardown"),
            Phase::Violation => msg!(lang, "explain.violations"),
            Phase::Gap => msg!(lang, "explain.capture_gaps"),
        }
    }
}

/// Topics explained once per connection (bits of `Conn::seen`).
mod topic {
    pub const MID_STREAM: u32 = 1 << 0;
    pub const TCP_HANDSHAKE: u32 = 1 << 1;
    pub const REQUEST: u32 = 1 << 2;
    pub const REQUEST_AGAIN: u32 = 1 << 3;
    pub const RESPONSE: u32 = 1 << 4;
    pub const ACCEPT: u32 = 1 << 5;
    pub const DATA: u32 = 1 << 6;
    pub const DATA_C2S: u32 = 1 << 7;
    pub const DATA_S2C: u32 = 1 << 8;
    pub const LEN16: u32 = 1 << 9;
    pub const LEN64: u32 = 1 << 10;
    pub const FRAGMENT: u32 = 1 << 11;
    pub const RSV1: u32 = 1 << 12;
    pub const MESSAGE: u32 = 1 << 13;
    pub const MESSAGE_FRAGMENTED: u32 = 1 << 14;
    pub const PING: u32 = 1 << 15;
    pub const PONG: u32 = 1 << 16;
    pub const CLOSE_ACTIVE: u32 = 1 << 17;
    pub const CLOSE_PASSIVE: u32 = 1 << 18;
    pub const CLOSE_DONE: u32 = 1 << 19;
    pub const GAP: u32 = 1 << 21;
    pub const COMPRESSED_MESSAGE: u32 = 1 << 22;
    pub const TLS_HELLO: u32 = 1 << 23;
    pub const TLS_SERVER: u32 = 1 << 24;
    pub const TLS_DONE: u32 = 1 << 25;
    pub const TLS_DECRYPT: u32 = 1 << 26;
    pub const TLS_NO_KEY: u32 = 1 << 27;
    pub const H2_CONNECT: u32 = 1 << 28;
    pub const H2_SETTINGS: u32 = 1 << 29;
    pub const H2_RESET: u32 = 1 << 30;
    pub const H2_WEBSOCKET: u32 = 1 << 31;
}

/// What the explanations of one connection need from its earlier events.
#[derive(Default)]
struct Conn {
    client: String,
    server: String,
    seen: u32,
    upgrade_request: bool,
    /// An RFC 8441 extended CONNECT (its answer is explained with `ws_handshake`).
    h2_connect: bool,
    request_head_bytes: u64,
    last_request: Option<Timestamp>,
    last_response: Option<Timestamp>,
    first_close: Option<(Direction, Timestamp)>,
    /// The TCP end as it happened so far: FINs sent, ACKs of FINs, a reset.
    teardown: Teardown,
}

/// The TCP end of one connection, as its events showed it.
#[derive(Default)]
struct Teardown {
    /// FIN sent, per side (`[client, server]`).
    fin: [bool; 2],
    /// ACKs of FINs seen.
    acks: u8,
    /// A reset was seen.
    rst: bool,
}

/// Explains events: the lines to show under each one (usually none).
#[derive(Default)]
pub struct Explainer {
    lang: Lang,
    conns: HashMap<u64, Conn>,
}

impl Explainer {
    /// An explainer writing in `lang`.
    pub fn new(lang: Lang) -> Explainer {
        Explainer {
            lang,
            conns: HashMap::new(),
        }
    }

    /// The explainer's language.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// Forgets a connection that has ended.
    pub fn conn_closed(&mut self, conn: u64) {
        self.conns.remove(&conn);
    }

    /// What changes when WebSockets ride on HTTP/2: one sentence per line, for the
    /// connection's `streams` (`(stream, status, ok)` of each extended CONNECT), `tls`
    /// when the connection is inside TLS. Empty without a WebSocket.
    pub fn h2_lesson(&self, streams: &[(u32, u16, bool)], tls: bool) -> Vec<String> {
        let lang = self.lang;
        let ws: Vec<String> = streams
            .iter()
            .filter(|(_, _, ok)| *ok)
            .map(|(s, _, _)| s.to_string())
            .collect();
        let Some(&(stream, status, _)) = streams.iter().find(|(_, _, ok)| *ok) else {
            return Vec::new();
        };
        let mut out = vec![
            msg!(
                lang,
                "explain.x_a_websocket_over_http_2",
                status = status,
                stream = stream
            ),
            msg!(lang, "lesson.h2_200_not_101", status = status),
            msg!(lang, "explain.x_from_now_on_the_stream"),
            msg!(lang, "lesson.h2_data_frames"),
        ];
        let (n, list) = (ws.len(), ws.join(&msg!(lang, "lesson.list_separator")));
        out.push(if tls {
            msg!(lang, "lesson.h2_shared_tls", n = n, streams = list)
        } else {
            msg!(lang, "lesson.h2_shared", n = n, streams = list)
        });
        out
    }

    /// The explanation of `e`, one sentence or item per line; empty when `e` is not
    /// the first of its phase (or of a new topic) on its connection and not a violation.
    pub fn explain(&mut self, e: &Event) -> Vec<String> {
        let lang = self.lang;
        let c = self.conns.entry(e.conn).or_default();
        let mut out = Vec::new();
        // True the first time `bit` is asked for on this connection.
        let first = |c: &mut Conn, bit: u32| {
            let new = c.seen & bit == 0;
            c.seen |= bit;
            new
        };
        match &e.kind {
            EventKind::ConnOpen {
                client,
                server,
                mid_stream,
            } => {
                c.client.clone_from(client);
                c.server.clone_from(server);
                if *mid_stream && first(c, topic::MID_STREAM) {
                    out.push(msg!(lang, "explain.capture_began_after_connection_was"));
                }
            }
            EventKind::TcpHandshake { step, .. } => {
                if first(c, topic::TCP_HANDSHAKE) {
                    let (client, server) = (&c.client, &c.server);
                    out.push(msg!(
                        lang,
                        "explain.tcp_three_way_handshake_client",
                        client = client,
                        server = server
                    ));
                    out.push(msg!(lang, "explain.everything_above_tcp_http_request"));
                    if *step != HandshakeStep::Syn {
                        out.push(msg!(lang, "explain.capture_missed_syn_shows_handshake"));
                    }
                }
            }
            EventKind::HttpRequest {
                method,
                target,
                version,
                headers,
                checks,
                ..
            } => {
                let head = head_bytes(&[method, target, version], headers);
                let req = RequestHead {
                    method: method.clone(),
                    target: target.clone(),
                    version: version.clone(),
                    headers: headers.clone(),
                };
                let idle = c.last_response.map(|t| e.ts.millis_since(t));
                c.last_request = Some(e.ts);
                if first(c, topic::REQUEST) {
                    c.request_head_bytes = head;
                    c.upgrade_request = req.is_upgrade_request();
                    if c.upgrade_request {
                        let checks = checks.as_deref().unwrap_or_default();
                        explain_upgrade_request(lang, &req, checks, head, &mut out);
                    } else if method == "CONNECT" && version == "HTTP/2" {
                        // RFC 8441: the answer (`ws_handshake`) tells the rest.
                        c.h2_connect = true;
                        let stream = e.stream.unwrap_or(0);
                        out.push(msg!(
                            lang,
                            "explain.x_h2_extended_connect",
                            stream = stream,
                            target = target
                        ));
                    } else {
                        out.push(msg!(
                            lang,
                            "explain.plain_http_request_method_target",
                            method = method,
                            target = target,
                            head = head
                        ));
                        out.push(msg!(lang, "explain.hear_news_client_must_ask"));
                    }
                } else if !c.upgrade_request && !c.h2_connect && first(c, topic::REQUEST_AGAIN) {
                    match idle {
                        Some(ms) => out.push(msg!(lang, "explain.client_asks_again_ms_ms", ms = ms : {:.3}, head = head)),
                        None => out.push(msg!(lang, "explain.another_request_head_bytes_head", head = head)),
                    }
                }
            }
            EventKind::HttpResponse {
                status,
                headers,
                version,
                reason,
                ..
            } => {
                let head = head_bytes(&[version, "000", reason], headers);
                let waited = c.last_request.map(|t| e.ts.millis_since(t));
                if *status >= 200 || *status == 101 {
                    c.last_response = Some(e.ts);
                }
                if c.h2_connect {
                    // The extended CONNECT's answer: `ws_handshake` explains it.
                } else if first(c, topic::RESPONSE) {
                    if *status == 101 {
                        out.push(msg!(lang, "explain.status_101_switching_protocols_server"));
                    } else if c.upgrade_request {
                        out.push(msg!(
                            lang,
                            "explain.status_status_server_did_not",
                            status = status
                        ));
                    } else {
                        let body = header(headers, "content-length")
                            .map(|n| msg!(lang, "explain.then_a_body", n = n.trim()))
                            .unwrap_or_default();
                        let ms = waited.unwrap_or(0.0);
                        out.push(msg!(lang, "explain.server_answers_status_ms_ms", status = status, ms = ms : {:.3}, head = head, body = body));
                        let stream = header(headers, "content-type").is_some_and(|v| {
                            v.trim()
                                .to_ascii_lowercase()
                                .starts_with("text/event-stream")
                        });
                        if stream {
                            out.push(msg!(lang, "explain.content_type_text_event_stream"));
                        }
                        if ms >= 100.0 {
                            out.push(msg!(lang, "explain.request_held_that_long_long"));
                        }
                    }
                }
            }
            EventKind::WsHandshake {
                transport: "h2",
                ok,
                status,
                ..
            } => {
                if first(c, topic::H2_WEBSOCKET) {
                    let stream = e.stream.unwrap_or(0);
                    if *ok {
                        out.push(msg!(
                            lang,
                            "explain.x_a_websocket_over_http_2",
                            status = status,
                            stream = stream
                        ));
                        out.push(msg!(lang, "explain.x_from_now_on_the_stream"));
                    } else {
                        out.push(msg!(
                            lang,
                            "explain.x_the_server_refused_the_extended",
                            status = status
                        ));
                    }
                }
            }
            EventKind::WsHandshake {
                key,
                accept,
                expected_accept,
                accept_ok,
                extensions,
                subprotocol,
                ok,
                status,
                reason,
                checks,
                ..
            } => {
                if first(c, topic::ACCEPT) {
                    // A refusal has no Accept to check: the failure says it all.
                    if *status == 101 {
                        explain_accept(
                            lang,
                            key.as_deref(),
                            accept.as_deref(),
                            expected_accept.as_deref(),
                            *accept_ok,
                            &mut out,
                        );
                    }
                    if *ok {
                        out.push(msg!(lang, "explain.upgrade_done_now_either_side"));
                        for x in extensions {
                            out.push(msg!(lang, "explain.extension_agreed_x", x = x));
                        }
                        if let Some(p) = subprotocol {
                            out.push(msg!(lang, "explain.subprotocol_agreed_p", p = p));
                        }
                    } else {
                        let why = super::text::handshake_reason(
                            lang,
                            reason.as_deref(),
                            *status,
                            checks,
                            key.is_some(),
                        )
                        .unwrap_or_default();
                        out.push(msg!(
                            lang,
                            "explain.upgrade_failed_status_why",
                            status = status,
                            why = why
                        ));
                    }
                }
            }
            EventKind::WsFrame {
                fin,
                rsv,
                opcode,
                opname,
                masked,
                mask_key,
                len,
                header_len,
                close_code,
                close_reason,
                rtt_ms,
                ..
            } => {
                let dir = e.dir.unwrap_or(Direction::C2S);
                let sender = lang.side(Some(dir));
                let form = length_form(*header_len, *masked);
                match opcode {
                    0..=2 => {
                        let mask = mask_key.map_or_else(|| "?".to_string(), |k| k.to_string());
                        if first(c, topic::DATA) {
                            c.seen |= match dir {
                                Direction::C2S => topic::DATA_C2S,
                                Direction::S2C => topic::DATA_S2C,
                            };
                            let fin_bit = u8::from(*fin);
                            out.push(msg!(
                                lang,
                                "explain.data_frame_sender_fin_fin",
                                sender = sender,
                                fin_bit = fin_bit,
                                opcode = opcode,
                                opname = opname,
                                len = len,
                                header_len = header_len
                            ));
                            out.push(explain_mask(lang, dir, *masked, &mask, *header_len));
                            out.push(explain_length(lang, *len, form));
                            out.push(if *fin {
                                msg!(lang, "explain.fin_1_frame_whole_message")
                            } else {
                                c.seen |= topic::FRAGMENT;
                                explain_fragment(lang)
                            });
                        } else {
                            let bit = match dir {
                                Direction::C2S => topic::DATA_C2S,
                                Direction::S2C => topic::DATA_S2C,
                            };
                            if first(c, bit) {
                                out.push(explain_mask(lang, dir, *masked, &mask, *header_len));
                            }
                            if !*fin && first(c, topic::FRAGMENT) {
                                out.push(explain_fragment(lang));
                            }
                        }
                        let len_bit = match form {
                            LengthForm::Bits16 => topic::LEN16,
                            LengthForm::Bits64 => topic::LEN64,
                            LengthForm::Bits7 => 0,
                        };
                        if len_bit != 0 && first(c, len_bit) {
                            out.push(explain_length(lang, *len, form));
                        }
                        if rsv & 4 != 0 && *opcode != 0 && first(c, topic::RSV1) {
                            out.push(msg!(lang, "explain.rsv1_1_payload_compressed_permessage"));
                        }
                    }
                    9 if first(c, topic::PING) => {
                        out.push(msg!(
                            lang,
                            "explain.heartbeat_ping_opcode_9_sender",
                            sender = sender,
                            len = len
                        ));
                    }
                    10 if first(c, topic::PONG) => match rtt_ms {
                        Some(rtt) => out.push(
                            msg!(lang, "explain.pong_opcode_10_echoes_ping", rtt = rtt : {:.3}),
                        ),
                        None => out.push(msg!(lang, "explain.pong_opcode_10_that_answers")),
                    },
                    8 => {
                        let code = close_code.flatten();
                        let reason = close_reason.as_deref().unwrap_or("");
                        let what = close_words(lang, code, reason);
                        let first_close = c.first_close;
                        match first_close {
                            None => {
                                c.first_close = Some((dir, e.ts));
                                c.seen |= topic::CLOSE_ACTIVE;
                                out.push(msg!(
                                    lang,
                                    "explain.closing_handshake_step_1_sender",
                                    sender = sender,
                                    what = what
                                ));
                                out.push(msg!(lang, "explain.now_sends_no_more_data"));
                            }
                            Some((d, t)) if d != dir && first(c, topic::CLOSE_PASSIVE) => {
                                let ms = e.ts.millis_since(t);
                                out.push(msg!(lang, "explain.step_2_sender_closes_passively", sender = sender, ms = ms : {:.3}, what = what));
                                out.push(msg!(lang, "explain.two_close_frames_one_each"));
                            }
                            _ => {}
                        }
                    }
                    _ => {}
                }
            }
            EventKind::WsMessage {
                kind,
                frames,
                len,
                wire_len,
                compressed,
                compressed_len,
                ..
            } => {
                let framing = wire_len.saturating_sub(compressed_len.unwrap_or(*len));
                let kind = match kind.as_str() {
                    "text" => msg!(lang, "word.text"),
                    _ => msg!(lang, "word.binary"),
                };
                let req = c.request_head_bytes;
                let in_frames = frames_word(lang, u64::from(*frames));
                if first(c, topic::MESSAGE) {
                    c.seen |= if *frames > 1 {
                        topic::MESSAGE_FRAGMENTED
                    } else {
                        0
                    };
                    out.push(msg!(
                        lang,
                        "explain.kind_message_len_bytes_frames",
                        kind = kind,
                        len = len,
                        frames = in_frames,
                        wire_len = wire_len,
                        framing = framing
                    ));
                    if req > 0 {
                        out.push(msg!(
                            lang,
                            "explain.compare_connection_s_http_upgrade",
                            req = req
                        ));
                    }
                } else if *frames > 1 && first(c, topic::MESSAGE_FRAGMENTED) {
                    out.push(msg!(
                        lang,
                        "explain.message_was_sent_as_frames",
                        frames = frames,
                        len = len,
                        kind = kind
                    ));
                }
                if *compressed && first(c, topic::COMPRESSED_MESSAGE) {
                    let wire = compressed_len.unwrap_or(*wire_len);
                    out.push(msg!(
                        lang,
                        "explain.compressed_permessage_deflate_wire_bytes",
                        wire = wire,
                        len = len
                    ));
                }
            }
            EventKind::WsClose {
                initiator,
                code,
                echoed,
                clean,
                echo_ms,
                fin_ms,
                ..
            } => {
                if first(c, topic::CLOSE_DONE) {
                    match initiator {
                        Some(d) => {
                            let active = lang.side(Some(*d));
                            let passive = lang.side(Some(d.reverse()));
                            let code = code.map_or_else(|| "-".to_string(), |c| c.to_string());
                            if *echoed {
                                let echo = echo_ms.map(|m| format!("{m:.3}")).unwrap_or_default();
                                out.push(msg!(
                                    lang,
                                    "explain.close_exchange_complete_code_code",
                                    code = code,
                                    active = active,
                                    passive = passive,
                                    echo = echo
                                ));
                            } else {
                                let active = capitalise(&active);
                                out.push(msg!(
                                    lang,
                                    "explain.active_sent_close_frame_code",
                                    active = active,
                                    code = code,
                                    passive = passive
                                ));
                            }
                            out.push(if *clean {
                                match fin_ms {
                                    Some(m) => msg!(lang, "explain.clean_both_close_frames_came", m = m : {:.3}),
                                    None => msg!(lang, "explain.clean_both_close_frames_came_2"),
                                }
                            } else {
                                msg!(lang, "explain.not_clean_tcp_ended_before")
                            });
                        }
                        None => out.push(msg!(lang, "explain.connection_ended_without_any_close")),
                    }
                }
            }
            EventKind::TcpTeardown { how, step } => {
                // Each step as it happens: nothing is said of steps not (yet) seen.
                let sender = lang.side(e.dir);
                let sender_cap = capitalise(&sender);
                let other = lang.side(e.dir.map(Direction::reverse));
                let side = e.dir.unwrap_or(Direction::C2S).index();
                let t = &mut c.teardown;
                match (how, step) {
                    (TeardownHow::Fin, Some(TeardownStep::Fin)) if !t.fin[side] => {
                        t.fin[side] = true;
                        if !t.fin[1 - side] {
                            out.push(msg!(
                                lang,
                                "explain.sender_cap_sends_fin_has",
                                sender_cap = sender_cap,
                                other = other,
                                sender = sender
                            ));
                            if c.seen & topic::CLOSE_ACTIVE != 0 {
                                out.push(if e.dir == Some(Direction::S2C) {
                                    msg!(lang, "explain.server_closing_tcp_first_what")
                                } else {
                                    msg!(lang, "explain.here_client_closes_tcp_first")
                                });
                            }
                        } else {
                            out.push(msg!(
                                lang,
                                "explain.sender_cap_sends_own_fin",
                                sender_cap = sender_cap,
                                sender = sender
                            ));
                        }
                    }
                    (TeardownHow::Fin, Some(TeardownStep::Ack)) => {
                        t.acks = t.acks.saturating_add(1);
                        let both = t.fin[0] && t.fin[1];
                        if both && t.acks >= 2 {
                            out.push(msg!(
                                lang,
                                "explain.sender_cap_acknowledges_last_fin",
                                sender_cap = sender_cap,
                                sender = sender
                            ));
                        } else if t.acks == 1 {
                            out.push(msg!(
                                lang,
                                "explain.sender_cap_acknowledges_other_s",
                                sender_cap = sender_cap,
                                other = other,
                                sender = sender
                            ));
                        }
                    }
                    (TeardownHow::Rst, _) if !t.rst => {
                        t.rst = true;
                        if t.fin[0] || t.fin[1] {
                            out.push(msg!(
                                lang,
                                "explain.sender_cap_resets_connection_rst",
                                sender_cap = sender_cap,
                                sender = sender
                            ));
                        } else {
                            out.push(msg!(
                                lang,
                                "explain.sender_cap_resets_connection_rst_2",
                                sender_cap = sender_cap,
                                sender = sender
                            ));
                        }
                    }
                    _ => {}
                }
            }
            EventKind::TlsHandshake { step } => match step {
                TlsStep::ClientHello { sni, alpn, .. } if first(c, topic::TLS_HELLO) => {
                    let sni = sni.as_deref().unwrap_or("-");
                    let alpn = if alpn.is_empty() {
                        "-".to_string()
                    } else {
                        alpn.join(", ")
                    };
                    out.push(msg!(
                        lang,
                        "explain.x_tls_handshake_wss_before_any",
                        alpn = alpn,
                        sni = sni
                    ));
                    out.push(msg!(lang, "explain.x_tls_is_what_makes_wss"));
                }
                TlsStep::ServerHello {
                    version, cipher, ..
                } if first(c, topic::TLS_SERVER) => {
                    out.push(msg!(
                        lang,
                        "explain.x_the_server_chooses_version_with",
                        cipher = cipher,
                        version = version
                    ));
                }
                TlsStep::Done { alpn, .. } if first(c, topic::TLS_DONE) => {
                    let alpn = alpn.as_deref().unwrap_or("http/1.1");
                    out.push(msg!(
                        lang,
                        "explain.x_both_finished_messages_are_in",
                        alpn = alpn
                    ));
                }
                _ => {}
            },
            EventKind::TlsDecrypt { ok: true, .. } => {
                if first(c, topic::TLS_DECRYPT) {
                    out.push(msg!(lang, "explain.x_wsscope_decrypts_it_with_the"));
                    out.push(msg!(lang, "explain.x_each_tls_record_adds_a"));
                }
            }
            EventKind::TlsDecrypt { ok: false, reason } => {
                if first(c, topic::TLS_NO_KEY) {
                    let reason = reason.unwrap_or("unknown");
                    out.push(msg!(
                        lang,
                        "explain.x_the_records_stay_encrypted_reason",
                        reason = reason
                    ));
                }
            }
            EventKind::TlsAlert { .. } | EventKind::H2Goaway { .. } => {}
            EventKind::H2Settings {
                ack: false,
                settings,
            } => {
                let enables = settings
                    .iter()
                    .any(|(n, v)| n == "SETTINGS_ENABLE_CONNECT_PROTOCOL" && *v == 1);
                if enables && first(c, topic::H2_CONNECT) {
                    out.push(msg!(lang, "explain.x_http_2_the_server_announces"));
                } else if first(c, topic::H2_SETTINGS) {
                    out.push(msg!(lang, "explain.x_http_2_begins_with_each"));
                }
            }
            EventKind::H2Settings { .. } => {}
            EventKind::H2RstStream { code } => {
                if first(c, topic::H2_RESET) {
                    out.push(msg!(
                        lang,
                        "explain.x_rst_stream_code_aborts_this",
                        code = code
                    ));
                }
            }
            EventKind::Violation { code, rfc, .. } => {
                let rule = violation_rule(lang, code);
                out.push(if is_note(code) {
                    msg!(lang, "explain.note_rfc_rule", rfc = rfc, rule = rule)
                } else {
                    msg!(lang, "explain.rule_broken_rfc_rule", rfc = rfc, rule = rule)
                });
            }
            EventKind::Gap { bytes } => {
                if first(c, topic::GAP) {
                    out.push(msg!(
                        lang,
                        "explain.bytes_bytes_direction_s_stream",
                        bytes = bytes
                    ));
                }
            }
        }
        out
    }
}

fn explain_upgrade_request(
    lang: Lang,
    req: &RequestHead,
    checks: &[crate::analysis::Check],
    head: u64,
    out: &mut Vec<String>,
) {
    let (method, target, version) = (&req.method, &req.target, &req.version);
    out.push(msg!(
        lang,
        "explain.http_upgrade_websocket_handshake_reuses",
        method = method,
        target = target,
        version = version,
        head = head
    ));
    for ch in checks {
        let mark = if ch.ok { "✓" } else { "✗" };
        let name = check_name(lang, ch.name);
        let detail = check_seen(lang, &ch.seen);
        let sep = msg!(lang, "punct.colon");
        out.push(format!("  {mark} {name}{sep}{detail}"));
    }
    if let Some(key) = req.header("sec-websocket-key") {
        let key = key.trim();
        out.push(msg!(lang, "explain.key_key_16_random_bytes", key = key));
    }
    let offers: Vec<&str> = req.headers_all("sec-websocket-extensions").collect();
    if !offers.is_empty() {
        let offers = offers.join(", ");
        out.push(msg!(
            lang,
            "explain.client_offers_extensions_offers",
            offers = offers
        ));
    }
}

fn explain_accept(
    lang: Lang,
    key: Option<&str>,
    accept: Option<&str>,
    expected: Option<&str>,
    ok: bool,
    out: &mut Vec<String>,
) {
    let Some(key) = key else {
        out.push(msg!(lang, "explain.no_sec_websocket_key_request"));
        return;
    };
    let steps = accept_steps(key);
    let sha1 = &steps.sha1_hex;
    let expected = expected.unwrap_or(&steps.accept);
    let verdict = match (accept, ok) {
        (Some(_), true) => msg!(lang, "explain.matches_server_s_sec_websocket").to_string(),
        (Some(a), false) => msg!(lang, "explain.but_server_sent", a = a),
        (None, _) => msg!(lang, "explain.but_response_has_no_sec").to_string(),
    };
    out.push(msg!(
        lang,
        "explain.accept_client_s_key_key",
        key = key,
        WS_GUID = WS_GUID,
        sha1 = sha1,
        expected = expected,
        verdict = verdict
    ));
    out.push(msg!(lang, "explain.proves_only_that_server_understood"));
}

fn explain_mask(lang: Lang, dir: Direction, masked: bool, mask: &str, header_len: u8) -> String {
    match (dir, masked) {
        (Direction::C2S, true) => msg!(lang, "explain.client_frames_are_masked_4", mask = mask),
        (Direction::S2C, false) => msg!(
            lang,
            "explain.server_frames_are_never_masked",
            header_len = header_len
        ),
        (Direction::C2S, false) => msg!(lang, "explain.client_frame_not_masked_rule"),
        (Direction::S2C, true) => msg!(lang, "explain.server_frame_masked_rule_broken"),
    }
}

fn explain_fragment(lang: Lang) -> String {
    msg!(lang, "explain.fin_0_message_cut_into")
}

/// Which of the three payload-length encodings a header used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LengthForm {
    Bits7,
    Bits16,
    Bits64,
}

/// The form, from the header's size: 2 bytes, plus 2 or 8 for the longer lengths,
/// plus 4 for a mask key. The header says what was on the wire, minimal or not.
fn length_form(header_len: u8, masked: bool) -> LengthForm {
    match header_len.saturating_sub(if masked { 4 } else { 0 }) {
        0..=3 => LengthForm::Bits7,
        4..=9 => LengthForm::Bits16,
        _ => LengthForm::Bits64,
    }
}

fn explain_length(lang: Lang, len: u64, form: LengthForm) -> String {
    match form {
        LengthForm::Bits7 => msg!(lang, "explain.length_len_fits_7_bit", len = len),
        LengthForm::Bits16 => msg!(lang, "explain.length_len_7_bit_field", len = len),
        LengthForm::Bits64 => msg!(lang, "explain.length_len_7_bit_field_2", len = len),
    }
}

/// "1 frame", "3 frames": a count of frames, in `lang`.
pub fn frames_word(lang: Lang, n: u64) -> String {
    if n == 1 {
        msg!(lang, "unit.one_frame")
    } else {
        msg!(lang, "unit.frames", n = n)
    }
}

/// "code 1000 (Normal Closure: ...), reason "bye"".
fn close_words(lang: Lang, code: Option<u16>, reason: &str) -> String {
    let mut s = match code {
        Some(c) => {
            let meaning = close_meaning(lang, c);
            msg!(lang, "explain.code_c_meaning", c = c, meaning = meaning)
        }
        None => msg!(lang, "explain.empty_payload_no_code_read").to_string(),
    };
    if !reason.is_empty() {
        s.push_str(&msg!(lang, "explain.reason_reason", reason = reason));
    }
    s
}

/// What a close code means, in `lang`.
pub fn close_meaning(lang: Lang, code: u16) -> String {
    match code {
        1000 => msg!(lang, "close_code.1000"),
        1001 => msg!(lang, "close_code.1001"),
        1002 => msg!(lang, "close_code.1002"),
        1003 => msg!(lang, "close_code.1003"),
        1004 => msg!(lang, "close_code.1004"),
        1005 => msg!(lang, "close_code.1005"),
        1006 => msg!(lang, "close_code.1006"),
        1007 => msg!(lang, "close_code.1007"),
        1008 => msg!(lang, "close_code.1008"),
        1009 => msg!(lang, "close_code.1009"),
        1010 => msg!(lang, "close_code.1010"),
        1011 => msg!(lang, "close_code.1011"),
        1012 => msg!(lang, "close_code.1012"),
        1013 => msg!(lang, "close_code.1013"),
        1014 => msg!(lang, "close_code.1014"),
        1015 => msg!(lang, "close_code.1015"),
        0..=999 => msg!(lang, "close_code.below_1000"),
        1016..=2999 => msg!(lang, "close_code.reserved_range"),
        3000..=3999 => msg!(lang, "close_code.registered"),
        4000..=4999 => msg!(lang, "close_code.private"),
        _ => msg!(lang, "close_code.invalid"),
    }
}

/// A handshake requirement's name (as `crate::http::Check::name`), in `lang`.
pub fn check_name(lang: Lang, name: &str) -> String {
    match name {
        "method is GET" => msg!(lang, "check.method_is_get"),
        "HTTP version is 1.1 or later" => msg!(lang, "check.http_version_is_1_1_or_later"),
        "Host header present" => msg!(lang, "check.host_header_present"),
        "Upgrade: websocket" => msg!(lang, "check.upgrade_websocket"),
        "Connection: Upgrade" => msg!(lang, "check.connection_upgrade"),
        "Sec-WebSocket-Version: 13" => msg!(lang, "check.sec_websocket_version_13"),
        "Sec-WebSocket-Key present" => msg!(lang, "check.sec_websocket_key_present"),
        "Sec-WebSocket-Key is the base64 of 16 bytes" => {
            msg!(lang, "check.sec_websocket_key_is_the_base64_of_16_bytes")
        }
        "Sec-WebSocket-Key appears once" => msg!(lang, "check.sec_websocket_key_appears_once"),
        "status is 101 Switching Protocols" => {
            msg!(lang, "check.status_is_101_switching_protocols")
        }
        "response Upgrade: websocket" => msg!(lang, "check.response_upgrade_websocket"),
        "response Connection: Upgrade" => msg!(lang, "check.response_connection_upgrade"),
        "Sec-WebSocket-Accept present" => msg!(lang, "check.sec_websocket_accept_present"),
        "Sec-WebSocket-Accept matches the key" => {
            msg!(lang, "check.sec_websocket_accept_matches_the_key")
        }
        "Sec-WebSocket-Accept appears once" => {
            msg!(lang, "check.sec_websocket_accept_appears_once")
        }
        "accepted extension was offered" => msg!(lang, "check.accepted_extension_was_offered"),
        "accepted subprotocol was offered" => msg!(lang, "check.accepted_subprotocol_was_offered"),
        "permessage-deflate parameters valid" => {
            msg!(lang, "check.permessage_deflate_parameters_valid")
        }
        "server enabled extended CONNECT (SETTINGS_ENABLE_CONNECT_PROTOCOL = 1)" => {
            msg!(lang, "check.h2_connect_enabled")
        }
        ":method is CONNECT" => msg!(lang, "check.h2_method_connect"),
        ":protocol is websocket" => msg!(lang, "check.h2_protocol_websocket"),
        ":scheme present" => msg!(lang, "check.h2_scheme_present"),
        ":path present" => msg!(lang, "check.h2_path_present"),
        ":authority present" => msg!(lang, "check.h2_authority_present"),
        "sec-websocket-version: 13" => msg!(lang, "check.sec_websocket_version_13"),
        "no Sec-WebSocket-Key (HTTP/2 has no Key and no Accept)" => {
            msg!(lang, "check.h2_no_key")
        }
        "response is 2xx" => msg!(lang, "check.h2_response_2xx"),
        other => other.to_string(),
    }
}

/// What a check saw, in `lang`: the words the layer writes (`absent`, `2 header(s)`)
/// translated, wire values (quoted) as they are.
pub fn check_seen(lang: Lang, seen: &str) -> String {
    if seen == "absent" {
        return msg!(lang, "check.seen_absent");
    }
    if seen == "not sent" {
        return msg!(lang, "check.seen_not_sent");
    }
    if seen == "no answer" {
        return msg!(lang, "check.seen_no_answer");
    }
    if let Some(n) = seen
        .strip_suffix(" header(s)")
        .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
    {
        return msg!(lang, "check.seen_headers", n = n);
    }
    if let Some((got, want)) = seen
        .strip_suffix(')')
        .and_then(|s| s.split_once(" (expected "))
    {
        return msg!(lang, "check.seen_expected", got = got, want = want);
    }
    seen.to_string()
}

/// Violation codes that record a limit of the capture or of wsscope, or something the
/// RFC allows, rather than a peer breaking a rule: the rule's own flag.
fn is_note(code: &str) -> bool {
    crate::rules::find(code).is_some_and(|r| r.note)
}

/// The rule a violation code stands for, in plain words, in `lang`.
pub fn violation_rule(lang: Lang, code: &str) -> String {
    // Every rule's words are the catalogue's `rule.<code>` (tests check each rule has them).
    crate::_rust_i18n_try_translate(lang.code(), format!("rule.{code}"))
        .map_or_else(|| msg!(lang, "rule.unknown"), |t| t.into_owned())
}

/// `s` with its first letter in upper case (for a sentence that starts with a value).
pub(crate) fn capitalise(s: &str) -> String {
    let mut cs = s.chars();
    match cs.next() {
        Some(f) => f.to_uppercase().chain(cs).collect(),
        None => String::new(),
    }
}

/// The first value of header `name` (any case).
pub(crate) fn header<'a>(headers: &'a [Header], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The size of an HTTP head from its parts: the start line (parts joined by spaces),
/// each `name: value` line, and the blank line, all ending in CRLF. The parsed head
/// loses optional spaces, so this can be a few bytes short of the wire.
pub(crate) fn head_bytes(start: &[&str], headers: &[Header]) -> u64 {
    let line: usize = start.iter().map(|s| s.len()).sum::<usize>() + start.len().saturating_sub(1);
    let fields: usize = headers.iter().map(|(n, v)| n.len() + 2 + v.len() + 2).sum();
    (line + 2 + fields + 2) as u64
}

/// `print --explain`: the text timeline, each explanation line indented under its event.
pub struct ExplainedTimeline {
    text: TextTimeline,
    explainer: Explainer,
}

/// What starts an explanation line, so it stands apart from the event lines.
pub const EXPLAIN_INDENT: &str = "                    │ ";

impl ExplainedTimeline {
    /// A timeline explained in `lang`.
    pub fn new(lang: Lang) -> ExplainedTimeline {
        ExplainedTimeline {
            text: TextTimeline::with_lang(lang),
            explainer: Explainer::new(lang),
        }
    }
}

impl Report for ExplainedTimeline {
    fn first_packet(&mut self, ts: Timestamp) {
        self.text.set_origin(ts);
    }

    fn event(&mut self, e: &Event, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "{}", self.text.line(e))?;
        for line in self.explainer.explain(e) {
            writeln!(out, "{EXPLAIN_INDENT}{line}")?;
        }
        Ok(())
    }

    fn conn_closed(
        &mut self,
        conn: u64,
        _totals: &crate::analysis::ConnTotals,
        _out: &mut dyn Write,
    ) -> io::Result<()> {
        self.explainer.conn_closed(conn);
        self.text.conn_closed(conn);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_follows_posix_precedence() {
        type Case<'a> = (
            &'a str,
            Option<&'a str>,
            Option<&'a str>,
            Option<&'a str>,
            Lang,
        );
        let cases: &[Case] = &[
            ("nothing set", None, None, None, Lang::En),
            ("LANG zh", None, None, Some("zh_CN.UTF-8"), Lang::Zh),
            ("LANG en", None, None, Some("en_US.UTF-8"), Lang::En),
            ("LANG C", None, None, Some("C"), Lang::En),
            (
                "LC_ALL beats LANG",
                Some("en_GB.UTF-8"),
                None,
                Some("zh_CN.UTF-8"),
                Lang::En,
            ),
            (
                "LC_ALL zh",
                Some("zh_TW.UTF-8"),
                Some("en_US"),
                Some("en_US"),
                Lang::Zh,
            ),
            (
                "LC_MESSAGES beats LANG",
                None,
                Some("zh_CN"),
                Some("en_US"),
                Lang::Zh,
            ),
            (
                "empty LC_ALL is unset",
                Some(""),
                None,
                Some("zh_CN.UTF-8"),
                Lang::Zh,
            ),
            ("upper case", None, None, Some("ZH_cn"), Lang::Zh),
            ("POSIX", Some("POSIX"), None, Some("zh_CN"), Lang::En),
        ];
        for (name, all, msgs, lang, want) in cases {
            assert_eq!(Lang::from_env_values(*all, *msgs, *lang), *want, "{name}");
        }
    }

    #[test]
    fn language_codes() {
        assert_eq!(Lang::from_code("zh"), Some(Lang::Zh));
        assert_eq!(Lang::from_code("EN"), Some(Lang::En));
        assert_eq!(Lang::from_code("fr"), None);
    }

    #[test]
    fn length_form_from_header_size() {
        assert_eq!(length_form(2, false), LengthForm::Bits7);
        assert_eq!(length_form(6, true), LengthForm::Bits7);
        assert_eq!(length_form(4, false), LengthForm::Bits16);
        assert_eq!(length_form(8, true), LengthForm::Bits16);
        assert_eq!(length_form(10, false), LengthForm::Bits64);
        assert_eq!(length_form(14, true), LengthForm::Bits64);
    }

    #[test]
    fn every_rule_of_every_layer_has_plain_words_in_both_languages() {
        for r in crate::rules::all() {
            for lang in [Lang::En, Lang::Zh] {
                let words = violation_rule(lang, r.code);
                assert_ne!(words, violation_rule(lang, "no_such_rule"), "{}", r.code);
            }
        }
    }

    #[test]
    fn head_bytes_counts_crlfs() {
        let h = vec![("Host".to_string(), "a".to_string())];
        // "GET / HTTP/1.1\r\n" + "Host: a\r\n" + "\r\n"
        assert_eq!(head_bytes(&["GET", "/", "HTTP/1.1"], &h), 16 + 9 + 2);
    }
}
