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
use crate::ws::close_code_meaning;

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

    /// Picks the English or the Chinese text.
    pub fn pick<'a>(self, en: &'a str, zh: &'a str) -> &'a str {
        match self {
            Lang::En => en,
            Lang::Zh => zh,
        }
    }

    /// "the client" / "客户端" for the sender `dir`.
    pub fn side(self, dir: Option<Direction>) -> &'static str {
        match (self, dir) {
            (Lang::En, Some(Direction::S2C)) => "the server",
            (Lang::En, _) => "the client",
            (Lang::Zh, Some(Direction::S2C)) => "服务器",
            (Lang::Zh, _) => "客户端",
        }
    }
}

/// `format!` of the English or the Chinese literal (both may name the same variables).
macro_rules! tr {
    ($lang:expr, $en:literal, $zh:literal) => {
        match $lang {
            Lang::En => format!($en),
            Lang::Zh => format!($zh),
        }
    };
}

pub use crate::analysis::Phase;

impl Phase {
    /// The phase's title.
    pub fn title(self, lang: Lang) -> &'static str {
        match self {
            Phase::TcpHandshake => lang.pick("TCP three-way handshake", "TCP 三次握手"),
            Phase::Tls => lang.pick("TLS handshake", "TLS 握手"),
            Phase::Http => lang.pick("HTTP", "HTTP"),
            Phase::Accept => lang.pick("the Accept", "Accept 校验"),
            Phase::Data => lang.pick("data frames", "数据帧"),
            Phase::Heartbeat => lang.pick("heartbeat (ping/pong)", "心跳（ping/pong）"),
            Phase::Close => lang.pick("closing handshake", "关闭握手"),
            Phase::Teardown => lang.pick("TCP teardown", "TCP 四次挥手"),
            Phase::Violation => lang.pick("violations", "违规"),
            Phase::Gap => lang.pick("capture gaps", "抓包缺口"),
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
}

/// What the explanations of one connection need from its earlier events.
#[derive(Default)]
struct Conn {
    client: String,
    server: String,
    seen: u32,
    upgrade_request: bool,
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
                    out.push(tr!(lang,
                        "The capture began after this connection was set up: no SYN, no Upgrade request. wsscope takes the side whose frames are masked for the client and decodes from the first frame it can find.",
                        "抓包开始时这个连接已经建立：没有看到 SYN，也没有看到升级请求。wsscope 把发送带掩码帧的一方当作客户端，并从能识别的第一个帧开始解码。"));
                }
            }
            EventKind::TcpHandshake { step, .. } => {
                if first(c, topic::TCP_HANDSHAKE) {
                    let (client, server) = (&c.client, &c.server);
                    out.push(tr!(lang,
                        "TCP three-way handshake: the client {client} sends SYN, the server {server} answers SYN-ACK, the client confirms with ACK.",
                        "TCP 三次握手：客户端 {client} 发送 SYN，服务器 {server} 回复 SYN-ACK，客户端再回 ACK 确认。"));
                    out.push(tr!(lang,
                        "Everything above TCP (an HTTP request, the WebSocket handshake) waits for it; SYN to ACK is one round trip (the handshake RTT on the ACK line).",
                        "建立了 TCP 连接之后，上面的 HTTP 请求、WebSocket 握手才能开始；从 SYN 到 ACK 正好是一个往返（ACK 那一行的握手 RTT）。"));
                    if *step != HandshakeStep::Syn {
                        out.push(tr!(lang,
                            "(The capture missed the SYN: it shows the handshake from its second step.)",
                            "（抓包没有捕获到 SYN，握手从第二步开始显示。）"));
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
                    } else {
                        out.push(tr!(lang,
                            "A plain HTTP request ({method} {target}, {head} bytes of head), no Upgrade: the server answers once and the exchange is over.",
                            "普通的 HTTP 请求（{method} {target}，请求头 {head} 字节），没有升级：服务器回复一次，这次交换就结束了。"));
                        out.push(tr!(lang,
                            "To hear of news the client must ask again: polling asks at intervals; long polling asks and lets the server hold the request until it has news.",
                            "客户端想知道有没有新数据就得再问一次：轮询是定期发请求；长轮询是发出请求后由服务器挂起，直到有新数据才响应。"));
                    }
                } else if !c.upgrade_request && first(c, topic::REQUEST_AGAIN) {
                    match idle {
                        Some(ms) => out.push(tr!(lang,
                            "The client asks again {ms:.3} ms after the last answer, with {head} bytes of request head: every poll repeats the HTTP headers.",
                            "客户端在上次响应后 {ms:.3} ms 再次请求，请求头 {head} 字节：每次轮询都要重复一遍 HTTP 头。")),
                        None => out.push(tr!(lang,
                            "Another request ({head} bytes of head) before the last was answered: every request repeats the HTTP headers.",
                            "上一个请求还没得到响应就又发了一个请求（请求头 {head} 字节）：每个请求都要重复一遍 HTTP 头。")),
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
                if first(c, topic::RESPONSE) {
                    if *status == 101 {
                        out.push(tr!(lang,
                            "Status 101 Switching Protocols: the server agrees. After the blank line that ends this response, the bytes on this connection are WebSocket frames, no longer HTTP.",
                            "状态码 101 Switching Protocols：服务器同意升级。这个响应结束之后，连接上传输的不再是 HTTP，而是 WebSocket 帧。"));
                    } else if c.upgrade_request {
                        out.push(tr!(lang,
                            "Status {status}: the server did not switch protocols, so this stays an HTTP connection (HTTP allows refusing an upgrade: it is not a protocol violation).",
                            "状态码 {status}：服务器没有切换协议，连接仍然是 HTTP（HTTP 允许拒绝升级，这不算违反协议）。"));
                    } else {
                        let body = header(headers, "content-length")
                            .map(|n| match lang {
                                Lang::En => format!(", then a body of {} bytes", n.trim()),
                                Lang::Zh => format!("，正文 {} 字节", n.trim()),
                            })
                            .unwrap_or_default();
                        let ms = waited.unwrap_or(0.0);
                        out.push(tr!(lang,
                            "The server answers {status} {ms:.3} ms after the request: {head} bytes of response head{body}.",
                            "服务器在请求后 {ms:.3} ms 回复 {status}：响应头 {head} 字节{body}。"));
                        let stream = header(headers, "content-type").is_some_and(|v| {
                            v.trim()
                                .to_ascii_lowercase()
                                .starts_with("text/event-stream")
                        });
                        if stream {
                            out.push(tr!(lang,
                                "Content-Type: text/event-stream: this response does not end; the server keeps writing events into it (server-sent events), one way only.",
                                "Content-Type 是 text/event-stream：这个响应不会结束，服务器持续往里写事件（server-sent events），只能单向推送。"));
                        }
                        if ms >= 100.0 {
                            out.push(tr!(lang,
                                "A request held that long is long polling: the answer waits until there is news.",
                                "请求被挂起这么久，正是长轮询：服务器等到有新数据才响应。"));
                        }
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
                        out.push(tr!(lang,
                            "Upgrade done: from now on either side may send a frame at any time (full duplex), with no request needed.",
                            "升级完成：从现在起双方可以随时发送帧（全双工），不再需要请求。"));
                        for x in extensions {
                            out.push(tr!(lang, "Extension agreed: {x}.", "协商好的扩展：{x}。"));
                        }
                        if let Some(p) = subprotocol {
                            out.push(tr!(
                                lang,
                                "Subprotocol agreed: {p}.",
                                "协商好的子协议：{p}。"
                            ));
                        }
                    } else {
                        let why = reason.as_deref().unwrap_or("");
                        out.push(tr!(
                            lang,
                            "The upgrade failed ({status}): {why}",
                            "升级失败（{status}）：{why}"
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
                        let mask = mask_key.as_deref().unwrap_or("?");
                        if first(c, topic::DATA) {
                            c.seen |= match dir {
                                Direction::C2S => topic::DATA_C2S,
                                Direction::S2C => topic::DATA_S2C,
                            };
                            let fin_bit = u8::from(*fin);
                            out.push(tr!(lang,
                                "A data frame from {sender}: FIN={fin_bit}, opcode {opcode} ({opname}), {len} bytes of payload behind a {header_len}-byte header.",
                                "{sender}发出的数据帧：FIN={fin_bit}，opcode {opcode}（{opname}），载荷 {len} 字节，帧头只有 {header_len} 字节。"));
                            out.push(explain_mask(lang, dir, *masked, mask, *header_len));
                            out.push(explain_length(lang, *len, form));
                            out.push(if *fin {
                                tr!(
                                    lang,
                                    "FIN=1: this frame is a whole message.",
                                    "FIN=1：这一个帧就是一条完整的消息。"
                                )
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
                                out.push(explain_mask(lang, dir, *masked, mask, *header_len));
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
                            out.push(tr!(lang,
                                "RSV1=1: the payload is compressed with permessage-deflate (only a message's first frame carries the bit).",
                                "RSV1=1：载荷经过 permessage-deflate 压缩（只有消息的第一个帧带这个标志位）。"));
                        }
                    }
                    9 if first(c, topic::PING) => {
                        out.push(tr!(lang,
                            "Heartbeat: a ping (opcode 9) from {sender} with {len} bytes of payload checks that the connection is alive; the other side must answer with a pong carrying the same payload.",
                            "心跳：{sender}发出 ping（opcode 9），载荷 {len} 字节，用来检测连接是否仍然有效；对方必须回一个载荷相同的 pong。"));
                    }
                    10 if first(c, topic::PONG) => {
                        match rtt_ms {
                            Some(rtt) => out.push(tr!(lang,
                                "The pong (opcode 10) echoes the ping's payload {rtt:.3} ms after it: the heartbeat's round trip, measured on the WebSocket itself.",
                                "pong（opcode 10）带着与 ping 相同的载荷，相隔 {rtt:.3} ms：这就是在 WebSocket 上测得的心跳往返时间。")),
                            None => out.push(tr!(lang,
                                "A pong (opcode 10) that answers no ping seen: allowed, as a one-way heartbeat.",
                                "没有对应 ping 的 pong（opcode 10）：协议允许，相当于单向心跳。")),
                        }
                    }
                    8 => {
                        let code = close_code.flatten();
                        let reason = close_reason.as_deref().unwrap_or("");
                        let what = close_words(lang, code, reason);
                        let first_close = c.first_close;
                        match first_close {
                            None => {
                                c.first_close = Some((dir, e.ts));
                                c.seen |= topic::CLOSE_ACTIVE;
                                out.push(tr!(lang,
                                    "Closing handshake, step 1: {sender} closes actively (主动关闭) with a close frame (opcode 8): {what}.",
                                    "关闭握手第一步：{sender}主动关闭，发送关闭帧（opcode 8）：{what}。"));
                                out.push(tr!(lang,
                                    "From now on it sends no more data frames; it waits for the other side's close frame.",
                                    "此后它不再发送数据帧，等待对方回送关闭帧。"));
                            }
                            Some((d, t)) if d != dir && first(c, topic::CLOSE_PASSIVE) => {
                                let ms = e.ts.millis_since(t);
                                out.push(tr!(lang,
                                    "Step 2: {sender} closes passively (被动关闭): it answers with its own close frame {ms:.3} ms later: {what}.",
                                    "第二步：{sender}被动关闭，{ms:.3} ms 后回送自己的关闭帧：{what}。"));
                                out.push(tr!(lang,
                                    "Two close frames, one each way, end the WebSocket: there is no four-way exchange at this level; TCP's own four-way teardown comes after.",
                                    "WebSocket 的关闭只交换两个关闭帧，一来一回，并没有四次挥手；关闭握手完成后，底层 TCP 才进行四次挥手。"));
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
                let kind = match (lang, kind.as_str()) {
                    (Lang::Zh, "text") => "文本",
                    (Lang::Zh, _) => "二进制",
                    (Lang::En, k) => k,
                };
                let req = c.request_head_bytes;
                let plural = if *frames == 1 { "" } else { "s" };
                if first(c, topic::MESSAGE) {
                    c.seen |= if *frames > 1 {
                        topic::MESSAGE_FRAGMENTED
                    } else {
                        0
                    };
                    out.push(tr!(lang,
                        "A {kind} message of {len} bytes, in {frames} frame{plural}: {wire_len} bytes on the wire, so {framing} bytes of framing.",
                        "一条 {len} 字节的{kind}消息，由 {frames} 个帧组成：线上共 {wire_len} 字节，帧头开销只有 {framing} 字节。"));
                    if req > 0 {
                        out.push(tr!(lang,
                            "Compare: this connection's HTTP Upgrade request head alone was {req} bytes; over HTTP every message would pay for such a head.",
                            "对比：这个连接的 HTTP 升级请求头就有 {req} 字节；如果用 HTTP 传输，每条消息都要付出这样的头部开销。"));
                    }
                } else if *frames > 1 && first(c, topic::MESSAGE_FRAGMENTED) {
                    out.push(tr!(lang,
                        "This message was sent as {frames} frames and reassembled by the receiver: {len} bytes of {kind}.",
                        "这条消息被切分成 {frames} 个帧发送，接收端重新组装成完整的 {len} 字节{kind}消息。"));
                }
                if *compressed && first(c, topic::COMPRESSED_MESSAGE) {
                    let wire = compressed_len.unwrap_or(*wire_len);
                    out.push(tr!(lang,
                        "Compressed with permessage-deflate: {wire} bytes of payload on the wire became {len} bytes.",
                        "经过 permessage-deflate 压缩：线上 {wire} 字节的载荷解压后是 {len} 字节。"));
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
                                out.push(tr!(lang,
                                    "The close exchange is complete (code {code}): {active} closed actively, {passive} echoed {echo} ms later (passive close).",
                                    "关闭握手完成（状态码 {code}）：{active}主动关闭，{passive}在 {echo} ms 后回应（被动关闭）。"));
                            } else {
                                let active = capitalise(active);
                                out.push(tr!(lang,
                                    "{active} sent a close frame (code {code}) but {passive} never answered with its own.",
                                    "{active}发送了关闭帧（状态码 {code}），但{passive}一直没有回送关闭帧。"));
                            }
                            out.push(if *clean {
                                match fin_ms {
                                    Some(m) => tr!(lang,
                                        "Clean: both close frames came before the TCP end, which followed {m:.3} ms after the first close.",
                                        "干净的关闭：两个关闭帧都在 TCP 结束之前到达，第一个关闭帧之后 {m:.3} ms TCP 开始关闭。"),
                                    None => tr!(lang,
                                        "Clean: both close frames came before the TCP end.",
                                        "干净的关闭：两个关闭帧都在 TCP 结束之前到达。"),
                                }
                            } else {
                                tr!(lang,
                                    "Not clean: TCP ended before the two close frames were exchanged.",
                                    "不干净的关闭：两个关闭帧还没交换完，TCP 就结束了。")
                            });
                        }
                        None => out.push(tr!(lang,
                            "The connection ended without any close frame: applications report code 1006 (abnormal closure), a code that never travels on the wire.",
                            "连接在没有任何关闭帧的情况下结束了：应用层会报告状态码 1006（异常关闭），这个状态码永远不会出现在线路上。")),
                    }
                }
            }
            EventKind::TcpTeardown { how, step } => {
                // Each step as it happens: nothing is said of steps not (yet) seen.
                let sender = lang.side(e.dir);
                let sender_cap = capitalise(sender);
                let other = lang.side(e.dir.map(Direction::reverse));
                let side = e.dir.unwrap_or(Direction::C2S).index();
                let t = &mut c.teardown;
                match (how, step) {
                    (TeardownHow::Fin, Some(TeardownStep::Fin)) if !t.fin[side] => {
                        t.fin[side] = true;
                        if !t.fin[1 - side] {
                            out.push(tr!(lang,
                                "{sender_cap} sends FIN: it has nothing more to send. This half of the connection is closed; {other} may still send until it sends its own FIN (a half-close).",
                                "{sender}发送 FIN：表示自己没有数据要发送了。连接的这一半关闭了；在{other}发出自己的 FIN 之前，它仍然可以继续发送数据（半关闭）。"));
                            if c.seen & topic::CLOSE_ACTIVE != 0 {
                                out.push(if e.dir == Some(Direction::S2C) {
                                    tr!(lang,
                                        "The server closing TCP first is what RFC 6455 7.1.1 recommends: the TIME_WAIT state then stays with the server, not the client.",
                                        "由服务器先关闭 TCP 正是 RFC 6455 7.1.1 的建议：这样 TIME_WAIT 状态留在服务器一侧，而不是客户端。")
                                } else {
                                    tr!(lang,
                                        "Here the client closes TCP first; RFC 6455 7.1.1 would have the server do it, so that the server, not the client, holds TIME_WAIT.",
                                        "这里是客户端先关闭 TCP；RFC 6455 7.1.1 建议由服务器先关闭，让服务器而不是客户端承担 TIME_WAIT。")
                                });
                            }
                        } else {
                            out.push(tr!(lang,
                                "{sender_cap} sends its own FIN: now both directions are closed, once it is acknowledged.",
                                "{sender}也发送了自己的 FIN：等它被确认后，两个方向就都关闭了。"));
                        }
                    }
                    (TeardownHow::Fin, Some(TeardownStep::Ack)) => {
                        t.acks = t.acks.saturating_add(1);
                        let both = t.fin[0] && t.fin[1];
                        if both && t.acks >= 2 {
                            out.push(tr!(lang,
                                "{sender_cap} acknowledges the last FIN: FIN and ACK each way, the TCP four-way teardown, is complete.",
                                "{sender}确认了最后一个 FIN：双方各发一个 FIN、各确认一次，TCP 四次挥手完成。"));
                        } else if t.acks == 1 {
                            out.push(tr!(
                                lang,
                                "{sender_cap} acknowledges {other}'s FIN.",
                                "{sender}确认了{other}的 FIN。"
                            ));
                        }
                    }
                    (TeardownHow::Rst, _) if !t.rst => {
                        t.rst = true;
                        if t.fin[0] || t.fin[1] {
                            out.push(tr!(lang,
                                "{sender_cap} resets the connection (RST) instead of finishing the teardown with FIN and ACK: TCP ends at once; the four-way teardown never completes.",
                                "{sender}发送 RST 重置连接，而不是用 FIN 和 ACK 完成关闭：TCP 立即终止，四次挥手没有完成。"));
                        } else {
                            out.push(tr!(lang,
                                "{sender_cap} resets the connection (RST): TCP ends at once, without the four-way teardown; data not yet delivered may be lost.",
                                "{sender}发送 RST 直接重置连接：没有四次挥手，TCP 立即终止，尚未送达的数据可能丢失。"));
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
                    out.push(tr!(lang,
                        "TLS handshake (wss://): before any HTTP, the client says hello in clear: the server name it wants (SNI {sni}), the protocols it can speak over TLS (ALPN {alpn}), its TLS versions and cipher suites, and its key share.",
                        "TLS 握手（wss://）：在任何 HTTP 之前，客户端先用明文打招呼：要访问的服务器名（SNI {sni}）、TLS 之上能说的协议（ALPN {alpn}）、支持的 TLS 版本和加密套件，以及它的密钥交换参数。"));
                    out.push(tr!(lang,
                        "TLS is what makes wss secure: it encrypts and authenticates every byte. The Sec-WebSocket-Key/Accept exchange only proves the server understood the WebSocket handshake; it gives no security.",
                        "wss 的安全来自 TLS：它对每个字节加密并校验完整性。Sec-WebSocket-Key/Accept 的交换只证明服务器读懂了 WebSocket 握手，本身不提供任何安全性。"));
                }
                TlsStep::ServerHello {
                    version, cipher, ..
                } if first(c, topic::TLS_SERVER) => {
                    out.push(tr!(lang,
                        "The server chooses {version} with {cipher}. Both sides now derive the same secret keys from the key exchange; from here on (in TLS 1.3 even the rest of the handshake) the records are encrypted.",
                        "服务器选择了 {version} 和 {cipher}。双方根据密钥交换算出同样的会话密钥；从这里开始（TLS 1.3 连握手的后半部分也是），记录都是加密的。"));
                }
                TlsStep::Done { alpn, .. } if first(c, topic::TLS_DONE) => {
                    let alpn = alpn.as_deref().unwrap_or("http/1.1");
                    out.push(tr!(lang,
                        "Both Finished messages are in: the TLS handshake is over, and the connection speaks {alpn} inside TLS. What follows (the HTTP Upgrade, the frames) is exactly what ws:// would carry, only encrypted.",
                        "双方的 Finished 消息都已到达：TLS 握手完成，连接在 TLS 里说 {alpn}。接下来的内容（HTTP 升级、各种帧）和 ws:// 完全一样，只是被加密了。"));
                }
                _ => {}
            },
            EventKind::TlsDecrypt { ok: true, .. } => {
                if first(c, topic::TLS_DECRYPT) {
                    out.push(tr!(lang,
                        "wsscope decrypts it with the session's secrets from the key log (SSLKEYLOGFILE): browsers, curl, OpenSSL, Python and Node can write them. Whoever holds the key log can read the traffic, so keep it private.",
                        "wsscope 用密钥日志（SSLKEYLOGFILE）里这个会话的密钥把它解密：浏览器、curl、OpenSSL、Python 和 Node 都可以输出这个文件。拿到密钥日志的人就能读取流量，所以要妥善保管。"));
                    out.push(tr!(lang,
                        "Each TLS record adds a 5-byte header and, with AEAD ciphers, a 16-byte tag (TLS 1.3 one more byte for the inner type): the price of security on top of the WebSocket frame header.",
                        "每个 TLS 记录要额外加上 5 字节的记录头，用 AEAD 加密时还有 16 字节的认证标签（TLS 1.3 再多 1 字节的内部类型）：这是在 WebSocket 帧头之外为安全付出的开销。"));
                }
            }
            EventKind::TlsDecrypt { ok: false, reason } => {
                if first(c, topic::TLS_NO_KEY) {
                    let reason = reason.unwrap_or("unknown");
                    out.push(tr!(lang,
                        "The records stay encrypted ({reason}): without this session's secrets nobody in the middle can read them, wsscope included. To see inside, run the client with SSLKEYLOGFILE=/path/keys.log and give wsscope --keylog /path/keys.log.",
                        "这些记录无法解密（{reason}）：没有这个会话的密钥，中间的任何人（包括 wsscope）都读不到内容。想看到里面的内容，请在运行客户端时设置 SSLKEYLOGFILE=/path/keys.log，再用 --keylog /path/keys.log 交给 wsscope。"));
                }
            }
            EventKind::TlsAlert { .. } => {}
            EventKind::Violation { code, rfc, .. } => {
                let rule = violation_rule(lang, code);
                out.push(if is_note(code) {
                    tr!(lang, "Note ({rfc}): {rule}", "提示（{rfc}）：{rule}")
                } else {
                    tr!(
                        lang,
                        "Rule broken ({rfc}): {rule}",
                        "违反规则（{rfc}）：{rule}"
                    )
                });
            }
            EventKind::Gap { bytes } => {
                if first(c, topic::GAP) {
                    out.push(tr!(lang,
                        "{bytes} bytes of this direction's stream are missing from the capture (a packet it did not see), not necessarily from the connection; decoding resumes where it can.",
                        "抓包中缺少这个方向的 {bytes} 字节（有包没有被捕获到），连接本身未必丢了数据；解码会在能恢复的地方继续。"));
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
    out.push(tr!(lang,
        "HTTP Upgrade: the WebSocket handshake reuses HTTP. With {method} {target} {version} ({head} bytes of head) the client asks to switch this TCP connection to WebSocket. What the request must hold:",
        "HTTP 升级：WebSocket 复用了 HTTP 的握手通道。客户端用 {method} {target} {version}（请求头 {head} 字节）请求把这条 TCP 连接升级为 WebSocket。请求必须满足："));
    for ch in checks {
        let mark = if ch.ok { "✓" } else { "✗" };
        let name = check_name(lang, ch.name);
        let detail = &ch.seen;
        let sep = lang.pick(": ", "：");
        out.push(format!("  {mark} {name}{sep}{detail}"));
    }
    if let Some(key) = req.header("sec-websocket-key") {
        let key = key.trim();
        out.push(tr!(lang,
            "The key {key} is 16 random bytes in base64: the server must prove it read it, with the Accept.",
            "key {key} 是随机生成的 16 字节的 Base64 编码：服务器要用它算出 Accept，证明自己读懂了这个请求。"));
    }
    let offers: Vec<&str> = req.headers_all("sec-websocket-extensions").collect();
    if !offers.is_empty() {
        let offers = offers.join(", ");
        out.push(tr!(
            lang,
            "The client offers the extensions: {offers}.",
            "客户端提议的扩展：{offers}。"
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
        out.push(tr!(
            lang,
            "No Sec-WebSocket-Key in the request: there is no Accept to check.",
            "请求里没有 Sec-WebSocket-Key，也就无从校验 Accept。"
        ));
        return;
    };
    let steps = accept_steps(key);
    let sha1 = &steps.sha1_hex;
    let expected = expected.unwrap_or(&steps.accept);
    let verdict = match (accept, ok) {
        (Some(_), true) => lang
            .pick(
                "matches the server's Sec-WebSocket-Accept ✓",
                "与服务器的 Sec-WebSocket-Accept 一致 ✓",
            )
            .to_string(),
        (Some(a), false) => tr!(lang, "but the server sent {a} ✗", "但服务器发来的是 {a} ✗"),
        (None, _) => lang
            .pick(
                "but the response has no Sec-WebSocket-Accept ✗",
                "但响应里没有 Sec-WebSocket-Accept ✗",
            )
            .to_string(),
    };
    out.push(tr!(lang,
        "The Accept: the client's key {key} + the GUID {WS_GUID}, SHA-1 = {sha1}, base64 = {expected}: {verdict}.",
        "Accept 的计算：客户端的 key {key} 拼接 GUID {WS_GUID}，做 SHA-1 得 {sha1}，再 Base64 编码得 {expected}：{verdict}。"));
    out.push(tr!(lang,
        "It proves only that the server understood a WebSocket request (and that no cache replayed an old answer); it is no security.",
        "这只能证明服务器理解 WebSocket 握手（也防止缓存返回旧的响应），并不提供安全保证。"));
}

fn explain_mask(lang: Lang, dir: Direction, masked: bool, mask: &str, header_len: u8) -> String {
    match (dir, masked) {
        (Direction::C2S, true) => tr!(lang,
            "Client frames are masked: the 4-byte key {mask} (in the header) is XORed over the payload, so that proxies cannot be tricked into caching it; it hides nothing from a capture.",
            "客户端发出的帧都带掩码：帧头里 4 字节的掩码 {mask} 与载荷逐字节异或，目的是防止代理缓存被污染，并不能对抓包隐藏内容。"),
        (Direction::S2C, false) => tr!(lang,
            "Server frames are never masked: this header is only {header_len} bytes.",
            "服务器发出的帧从不加掩码：这个帧头只有 {header_len} 字节。"),
        (Direction::C2S, false) => tr!(lang,
            "This client frame is not masked: a rule is broken (see the violation).",
            "这个客户端的帧没有掩码：违反了协议（见违规说明）。"),
        (Direction::S2C, true) => tr!(lang,
            "This server frame is masked: a rule is broken (see the violation).",
            "这个服务器的帧加了掩码：违反了协议（见违规说明）。"),
    }
}

fn explain_fragment(lang: Lang) -> String {
    tr!(lang,
        "FIN=0: the message is cut into fragments; continuation frames (opcode 0) follow, the last with FIN=1, and the receiver reassembles them.",
        "FIN=0：这条消息被切分成多个帧，后面跟着 continuation 帧（opcode 0），最后一帧 FIN=1，接收端再把它们重新组装成完整的消息。")
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
        LengthForm::Bits7 => tr!(lang,
            "The length {len} fits the 7-bit field of the header's second byte (up to 125).",
            "长度 {len} 直接放进帧头第二个字节的 7 位长度字段（最大 125）。"),
        LengthForm::Bits16 => tr!(lang,
            "A length of {len}: the 7-bit field says 126 and the real length follows in 2 bytes (up to 65535).",
            "长度 {len}：7 位长度字段写 126，真实长度放在后面的 2 个字节里（最大 65535）。"),
        LengthForm::Bits64 => tr!(lang,
            "A length of {len}: the 7-bit field says 127 and the real length follows in 8 bytes.",
            "长度 {len}：7 位长度字段写 127，真实长度放在后面的 8 个字节里。"),
    }
}

/// "code 1000 (Normal Closure: ...), reason "bye"".
fn close_words(lang: Lang, code: Option<u16>, reason: &str) -> String {
    let mut s = match code {
        Some(c) => {
            let meaning = close_meaning(lang, c);
            tr!(lang, "code {c} ({meaning})", "状态码 {c}（{meaning}）")
        }
        None => lang
            .pick(
                "an empty payload (no code, read as 1005)",
                "载荷为空（没有状态码，按 1005 处理）",
            )
            .to_string(),
    };
    if !reason.is_empty() {
        s.push_str(&tr!(
            lang,
            ", reason \"{reason}\"",
            "，关闭原因 \"{reason}\""
        ));
    }
    s
}

/// What a close code means, in `lang`.
pub fn close_meaning(lang: Lang, code: u16) -> &'static str {
    if lang == Lang::En {
        return close_code_meaning(code);
    }
    match code {
        1000 => "正常关闭：连接的目的已经完成",
        1001 => "离开：服务器关闭或浏览器离开页面",
        1002 => "协议错误：收到了违反协议的帧",
        1003 => "不支持的数据：收到了无法处理的数据类型",
        1004 => "保留：没有定义含义，不能发送",
        1005 => "没有状态码：代表空的关闭帧，不能发送",
        1006 => "异常关闭：连接在没有关闭帧的情况下结束，不能发送",
        1007 => "无效的载荷数据：例如不是 UTF-8 的文本",
        1008 => "违反策略：消息违反了对方的策略",
        1009 => "消息太大：无法处理的大消息",
        1010 => "缺少扩展：客户端期望的扩展服务器没有同意",
        1011 => "内部错误：服务器遇到了意外情况",
        1012 => "服务重启（IANA）",
        1013 => "稍后再试（IANA）",
        1014 => "网关错误（IANA）",
        1015 => "TLS 握手失败：不能发送",
        0..=999 => "未使用：小于 1000 的状态码无效",
        1016..=2999 => "为协议及其扩展保留（尚未分配）",
        3000..=3999 => "在 IANA 注册，供库、框架和应用使用",
        4000..=4999 => "私有：由双方应用自行约定",
        _ => "无效：不是状态码",
    }
}

/// A handshake requirement's name (as `crate::http::Check::name`), in `lang`.
pub fn check_name(lang: Lang, name: &'static str) -> &'static str {
    if lang == Lang::En {
        return name;
    }
    match name {
        "method is GET" => "请求方式是 GET",
        "HTTP version is 1.1 or later" => "HTTP 版本是 1.1 或更高",
        "Host header present" => "包含 Host 头",
        "Upgrade: websocket" => "包含 Upgrade: websocket，表示要升级到 websocket 协议",
        "Connection: Upgrade" => "包含 Connection: Upgrade，表示要升级协议",
        "Sec-WebSocket-Version: 13" => "包含 Sec-WebSocket-Version: 13",
        "Sec-WebSocket-Key present" => "包含 Sec-WebSocket-Key",
        "Sec-WebSocket-Key is the base64 of 16 bytes" => {
            "Sec-WebSocket-Key 是 16 字节的 Base64 编码"
        }
        "Sec-WebSocket-Key appears once" => "Sec-WebSocket-Key 只出现一次",
        "status is 101 Switching Protocols" => "状态码是 101 Switching Protocols",
        "response Upgrade: websocket" => "响应包含 Upgrade: websocket",
        "response Connection: Upgrade" => "响应包含 Connection: Upgrade",
        "Sec-WebSocket-Accept present" => "响应包含 Sec-WebSocket-Accept",
        "Sec-WebSocket-Accept matches the key" => "Sec-WebSocket-Accept 与 key 相符",
        "Sec-WebSocket-Accept appears once" => "Sec-WebSocket-Accept 只出现一次",
        "accepted extension was offered" => "接受的扩展是客户端提议过的",
        "accepted subprotocol was offered" => "选择的子协议是客户端提议过的",
        other => other,
    }
}

/// Violation codes that record a limit of the capture or of wsscope, or something the
/// RFC allows, rather than a peer breaking a rule: the rule's own flag.
fn is_note(code: &str) -> bool {
    crate::rules::find(code).is_some_and(|r| r.note)
}

/// The rule a violation code stands for, in plain words, in `lang`.
pub fn violation_rule(lang: Lang, code: &str) -> &'static str {
    let (en, zh) = match code {
        "unmasked_client_frame" => ("Every frame a client sends must be masked; a server that gets an unmasked one must close the connection (1002).", "客户端发送的每个帧都必须加掩码；服务器收到没有掩码的帧时必须关闭连接（1002）。"),
        "masked_server_frame" => ("A server must never mask its frames; a client that sees a masked one must close the connection.", "服务器发送的帧绝不能加掩码；客户端看到带掩码的帧时必须关闭连接。"),
        "rsv_without_extension" => ("RSV1-3 must be 0 unless an extension agreed in the handshake gives them a meaning.", "除非握手时协商的扩展定义了它们的含义，RSV1-3 必须为 0。"),
        "rsv1_on_continuation" => ("With permessage-deflate, RSV1 marks a compressed message on its first frame only, never on a continuation frame.", "使用 permessage-deflate 时，RSV1 只出现在消息的第一个帧上，不能出现在 continuation 帧上。"),
        "rsv1_on_control" => ("Control frames (close, ping, pong) are never compressed: their RSV1 must be 0.", "控制帧（close、ping、pong）从不压缩，RSV1 必须为 0。"),
        "reserved_opcode" => ("Only opcodes 0, 1, 2 (data) and 8, 9, 10 (control) are defined; the others are reserved, and receiving one fails the connection.", "只定义了 opcode 0、1、2（数据帧）和 8、9、10（控制帧）；其余都是保留值，收到就必须断开连接。"),
        "non_minimal_length" => ("The payload length must use the shortest form: 7 bits up to 125, 16 bits up to 65535, 64 bits only beyond.", "载荷长度必须用最短的形式：125 以内用 7 位，65535 以内用 16 位，更大才用 64 位。"),
        "length_top_bit_set" => ("In the 64-bit length form the most significant bit must be 0.", "64 位长度的最高位必须为 0。"),
        "control_frame_too_long" => ("A control frame carries at most 125 bytes of payload, so its length always fits the 7-bit field.", "控制帧的载荷最多 125 字节，所以长度总能放进 7 位字段。"),
        "control_frame_fragmented" => ("Control frames cannot be fragmented: their FIN must be 1.", "控制帧不能分片，FIN 必须为 1。"),
        "continuation_without_message" => ("A continuation frame (opcode 0) may only follow a text or binary frame with FIN=0.", "continuation 帧（opcode 0）只能跟在 FIN=0 的文本帧或二进制帧之后。"),
        "data_inside_fragmented_message" => ("While a fragmented message is open only its continuation frames (and control frames) may come; a new text or binary frame must wait.", "分片消息还没结束时，只能发送它的 continuation 帧（以及控制帧），不能开始新的文本或二进制消息。"),
        "invalid_utf8_text" => ("A text message must be valid UTF-8; the receiver fails the connection (1007).", "文本消息必须是合法的 UTF-8，否则接收方要断开连接（1007）。"),
        "invalid_utf8_close_reason" => ("A close reason is text: it must be valid UTF-8.", "关闭原因是文本，必须是合法的 UTF-8。"),
        "invalid_close_code" => ("Only some close codes may be sent: 1000-1003, 1007-1014 and 3000-4999; 1005, 1006 and 1015 only report, they never go on the wire.", "只有部分状态码可以发送：1000-1003、1007-1014 和 3000-4999；1005、1006、1015 只用于本地报告，不能出现在线路上。"),
        "close_payload_one_byte" => ("A close payload is empty or starts with a 2-byte code: one byte is impossible.", "关闭帧的载荷要么为空，要么以 2 字节的状态码开头，不可能只有 1 字节。"),
        "frame_after_close" => ("After sending its close frame an endpoint must send no more data frames.", "发出关闭帧之后，这一方不能再发送任何数据帧。"),
        "unsolicited_pong" => ("A pong that answers no ping: allowed (a one-way heartbeat), only noted.", "不对应任何 ping 的 pong：协议允许（单向心跳），仅作提示。"),
        "unanswered_ping" => ("A ping must be answered with a pong as soon as practical; this one never was.", "收到 ping 应尽快回复 pong；这个 ping 一直没有得到回应。"),
        "decompression_failed" => ("A message marked compressed (RSV1) must inflate with permessage-deflate; this one does not.", "标记为压缩（RSV1）的消息必须能用 permessage-deflate 解压，这条消息解压失败。"),
        "message_too_big" => ("The message is larger than wsscope's bound; a receiver may refuse such messages with code 1009.", "这条消息超过了 wsscope 的上限；接收方可以用状态码 1009 拒绝这样的消息。"),
        "inflate_ratio_exceeded" => ("The message inflates far beyond its compressed size (a possible decompression bomb); receivers must bound what they inflate.", "这条消息解压后远大于压缩前（可能是解压炸弹）；接收方必须限制解压的大小。"),
        "abnormal_closure" => ("The TCP connection ended without a WebSocket close frame: applications see code 1006 (abnormal closure).", "TCP 连接在没有 WebSocket 关闭帧的情况下结束了：应用层看到的是状态码 1006（异常关闭）。"),
        "gap_resync" => ("Bytes missing from the capture broke the sequence of frames; decoding skipped to the next point where frames make sense.", "抓包缺少的字节打断了帧序列，解码跳到下一个能识别帧的位置继续。"),
        "unfinished_message" => ("The connection ended in the middle of a fragmented message: its last frame (FIN=1) never came.", "连接在分片消息的中途结束，最后一帧（FIN=1）没有到来。"),
        "unfinished_frame" => ("The connection (or the capture) ended in the middle of a frame.", "连接（或抓包）在一个帧的中途结束。"),
        "mid_stream" => ("Decoding began without the handshake: who is the client and which extensions apply are guesses.", "解码开始时没有看到握手：谁是客户端、启用了哪些扩展，都是推测的。"),
        "deflate_params_unknown" => ("The frames are compressed but the handshake that set the permessage-deflate parameters was not captured.", "帧是压缩的，但协商 permessage-deflate 参数的握手没有被抓到。"),
        "data_before_upgrade" => ("The client must wait for the server's 101 before it sends frames.", "客户端必须等到服务器的 101 响应之后才能发送帧。"),
        "upgrade_method_not_get" => ("The upgrade request must be a GET.", "升级请求的方式必须是 GET。"),
        "upgrade_http_version" => ("The upgrade request must be HTTP/1.1 or later.", "升级请求的 HTTP 版本必须是 1.1 或更高。"),
        "upgrade_missing_host" => ("The upgrade request must carry a Host header.", "升级请求必须带 Host 头。"),
        "upgrade_missing_upgrade_websocket" => ("The upgrade request must say Upgrade: websocket.", "请求头必须包含 Upgrade: websocket，表示要升级到 websocket 协议。"),
        "upgrade_missing_connection_upgrade" => ("The upgrade request's Connection header must hold the token Upgrade.", "请求头的 Connection 字段必须包含 Upgrade，表示要升级协议。"),
        "upgrade_bad_version" => ("The upgrade request must say Sec-WebSocket-Version: 13.", "请求头必须包含 Sec-WebSocket-Version: 13。"),
        "upgrade_missing_key" => ("The upgrade request must carry a Sec-WebSocket-Key.", "升级请求必须带 Sec-WebSocket-Key 头。"),
        "upgrade_bad_key" => ("Sec-WebSocket-Key must be 16 random bytes in base64 (24 characters ending in ==).", "Sec-WebSocket-Key 必须是随机生成的 16 字节的 Base64 编码（24 个字符，以 == 结尾）。"),
        "upgrade_duplicate_key" => ("Sec-WebSocket-Key may appear only once.", "Sec-WebSocket-Key 只能出现一次。"),
        "response_missing_upgrade" => ("The 101 response must say Upgrade: websocket.", "101 响应必须包含 Upgrade: websocket。"),
        "response_missing_connection" => ("The 101 response's Connection header must hold the token Upgrade.", "101 响应的 Connection 字段必须包含 Upgrade。"),
        "accept_missing" => ("The 101 response must carry Sec-WebSocket-Accept, computed from the client's key.", "101 响应必须带 Sec-WebSocket-Accept，它由客户端的 Sec-WebSocket-Key 计算得出。"),
        "accept_mismatch" => ("Sec-WebSocket-Accept must be base64(SHA-1(key + GUID)); otherwise the client must fail the connection.", "Sec-WebSocket-Accept 必须等于 base64(SHA-1(key + GUID))，否则客户端必须断开连接。"),
        "accept_duplicate" => ("Sec-WebSocket-Accept may appear only once.", "Sec-WebSocket-Accept 只能出现一次。"),
        "extension_not_offered" => ("A server may only accept extensions the client offered.", "服务器只能接受客户端提议过的扩展。"),
        "subprotocol_not_offered" => ("A server may only choose a subprotocol the client offered.", "服务器只能选择客户端提议过的子协议。"),
        "deflate_bad_params" => ("The permessage-deflate parameters must be valid: known names, window bits 8 to 15, none repeated.", "permessage-deflate 的参数必须合法：参数名已知、窗口位数在 8 到 15 之间、不能重复。"),
        "http_head_too_large" | "http_too_many_headers" => ("The HTTP head is bigger than wsscope's bound; servers limit head sizes too.", "HTTP 头超出了 wsscope 的上限；服务器一般也会限制头部大小。"),
        "http_malformed" => ("This is not well-formed HTTP/1.1.", "这不是格式正确的 HTTP/1.1。"),
        "http_bad_chunk" => ("A chunked body is a series of hex sizes and chunks of data, ending with a chunk of size 0.", "分块传输的正文由十六进制长度和数据块组成，以长度为 0 的块结束。"),
        "http_incomplete_message" => ("The connection ended before the HTTP message was complete.", "HTTP 消息还没结束，连接就断了。"),
        "http_conflicting_length" => ("Content-Length and Transfer-Encoding must not disagree about the body's length.", "Content-Length 和 Transfer-Encoding 对正文长度的说法不能矛盾。"),
        _ => ("see the message above.", "见上面的说明。"),
    };
    lang.pick(en, zh)
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
            text: TextTimeline::new(),
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
