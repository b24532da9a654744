//! `print --format markdown`: a lesson per connection, written from the capture.
//!
//! For each connection: a section per phase (TCP handshake, HTTP Upgrade, the Accept,
//! data frames, heartbeat, closing handshake, TCP teardown) with a table of its events and
//! the explanations of [`Explainer`], the upgrade checklist, the close exchange
//! (主动关闭 / 被动关闭), the violations with their rules, a Mermaid sequence diagram,
//! and a summary with the connection's numbers (handshake RTT, frames, overhead). At the
//! end, when the capture holds more than one kind of connection, they are compared.
//!
//! Every cell is escaped for markdown ([`md`]); rows per phase are bounded.

use std::collections::{BTreeMap, HashMap};

use super::order::InOrder;
use std::fmt::Write as _;
use std::io::{self, Write};

use super::compare::{self, CompareRow};
use super::explain::{capitalise, check_name, close_meaning, Explainer, Lang, Phase};
use super::mermaid::{summary_of, ConnDiagram};
use super::stats::StatsBuilder;
use super::{Report, TextTimeline};
use crate::analysis::Check;
use crate::analysis::{ConnTotals, Event, EventKind, Sink};
use crate::http::RequestHead;
use crate::types::{Direction, Timestamp};

/// Event rows shown per phase of a connection; the rest are counted.
pub const MAX_ROWS_PER_PHASE: usize = 40;
/// Arrows in each connection's sequence diagram.
pub const MAX_DIAGRAM_ARROWS: usize = 120;
/// Violations listed per connection.
const MAX_VIOLATIONS: usize = 100;

/// `s` escaped for a markdown table cell or paragraph: characters with a markdown or
/// HTML meaning are backslash-escaped or written as entities; line breaks become spaces.
pub fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' | '|' | '`' | '*' | '_' | '[' | ']' | '#' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

struct Row {
    pkt: u64,
    ms: f64,
    dir: Option<Direction>,
    summary: String,
}

#[derive(Default)]
struct PhaseRows {
    rows: Vec<Row>,
    more: u64,
    notes: Vec<String>,
}

struct CloseStep {
    dir: Direction,
    code: Option<u16>,
    reason: String,
    ms: f64,
}

struct ConnLesson {
    first: Timestamp,
    client: String,
    server: String,
    phases: BTreeMap<Phase, PhaseRows>,
    upgrade_request: bool,
    request: Option<RequestHead>,
    /// The upgrade checklist, as the `ws_handshake` event carries it.
    checks: Vec<Check>,
    closes: Vec<CloseStep>,
    violations: Vec<(Row, String)>,
    violations_more: u64,
    diagram: ConnDiagram,
    data_responses: u64,
}

/// The markdown lesson, written connection by connection in connection order.
pub struct Lesson {
    lang: Lang,
    text: TextTimeline,
    explainer: Explainer,
    stats: StatsBuilder,
    open: HashMap<u64, ConnLesson>,
    done: InOrder<ConnLesson>,
    title_done: bool,
    compared: Vec<CompareRow>,
    /// Stats rows released before their lesson was (kept until it is).
    rows: HashMap<u64, super::ConnStats>,
}

impl Lesson {
    /// A lesson in `lang`.
    pub fn new(lang: Lang) -> Lesson {
        Lesson {
            lang,
            text: TextTimeline::new(),
            explainer: Explainer::new(lang),
            stats: StatsBuilder::new(),
            open: HashMap::new(),
            done: InOrder::new(),
            title_done: false,
            compared: Vec::new(),
            rows: HashMap::new(),
        }
    }

    fn write_ready(&mut self, out: &mut dyn Write, all: bool) -> io::Result<()> {
        let rows = if all {
            self.stats.finish()
        } else {
            self.stats.ready()
        };
        self.rows.extend(rows.into_iter().map(|r| (r.conn, r)));
        let ready = if all {
            self.done.finish()
        } else {
            self.done.ready()
        };
        for (k, c) in ready {
            if !self.title_done {
                self.title_done = true;
                let title = self
                    .lang
                    .pick("# WebSocket, packet by packet", "# 逐包看 WebSocket");
                let intro = self.lang.pick(
                    "A lesson written by wsscope from a capture: each connection, phase by phase, with the values it really carried.",
                    "由 wsscope 根据抓包生成的讲解：逐个连接、逐个阶段，用抓到的真实数据说明 WebSocket 的工作流程。",
                );
                writeln!(out, "{title}\n\n{intro}\n")?;
            }
            let Some(stats) = self.rows.remove(&k) else {
                continue;
            };
            let text = render_conn(self.lang, k, &c, &stats);
            out.write_all(text.as_bytes())?;
            self.compared.push(CompareRow {
                stats,
                responses_with_data: c.data_responses,
            });
        }
        Ok(())
    }
}

impl Report for Lesson {
    fn event(&mut self, e: &Event, _out: &mut dyn Write) -> io::Result<()> {
        let line = self.text.line(e);
        let summary = summary_of(&line).to_string();
        let notes = self.explainer.explain(e);
        let lang = self.lang;
        let c = self.open.entry(e.conn).or_insert_with(|| ConnLesson {
            first: e.ts,
            client: String::new(),
            server: String::new(),
            phases: BTreeMap::new(),
            upgrade_request: false,
            request: None,
            checks: Vec::new(),
            closes: Vec::new(),
            violations: Vec::new(),
            violations_more: 0,
            diagram: ConnDiagram::new(e.conn, lang, MAX_DIAGRAM_ARROWS),
            data_responses: 0,
        });
        c.diagram.event(e, &summary);
        let row = Row {
            pkt: e.pkt,
            ms: e.ts.millis_since(c.first),
            dir: e.dir,
            summary,
        };
        match &e.kind {
            EventKind::ConnOpen { client, server, .. } => {
                c.client.clone_from(client);
                c.server.clone_from(server);
            }
            EventKind::HttpRequest {
                method,
                target,
                version,
                headers,
                ..
            } if c.request.is_none() => {
                let req = RequestHead {
                    method: method.clone(),
                    target: target.clone(),
                    version: version.clone(),
                    headers: headers.clone(),
                };
                c.upgrade_request = req.is_upgrade_request();
                c.request = Some(req);
            }
            EventKind::HttpResponse {
                status, headers, ..
            } if compare::response_has_data(*status, headers) => {
                c.data_responses += 1;
            }
            EventKind::WsHandshake { checks, .. } if c.checks.is_empty() => {
                c.checks.clone_from(checks);
            }
            EventKind::WsFrame {
                opcode: 8,
                close_code,
                close_reason,
                ..
            } if c.closes.len() < 2 => {
                let dir = e.dir.unwrap_or(Direction::C2S);
                if !matches!(c.closes.first(), Some(f) if f.dir == dir) {
                    c.closes.push(CloseStep {
                        dir,
                        code: close_code.flatten(),
                        reason: close_reason.clone().unwrap_or_default(),
                        ms: row.ms,
                    });
                }
            }
            _ => {}
        }
        if let EventKind::Violation { .. } = e.kind {
            if c.violations.len() < MAX_VIOLATIONS {
                let rule = notes.join(" ");
                c.violations.push((row, rule));
            } else {
                c.violations_more += 1;
            }
        } else {
            let p = c.phases.entry(Phase::of(&e.kind)).or_default();
            p.notes.extend(notes);
            if p.rows.len() < MAX_ROWS_PER_PHASE {
                p.rows.push(row);
            } else {
                p.more += 1;
            }
        }
        self.stats.event(e.clone());
        Ok(())
    }

    fn conn_closed(
        &mut self,
        conn: u64,
        totals: &ConnTotals,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        self.explainer.conn_closed(conn);
        self.stats.conn_closed(conn, totals);
        if let Some(c) = self.open.remove(&conn) {
            self.done.push(conn, c);
        }
        self.write_ready(out, false)
    }

    fn finish(&mut self, out: &mut dyn Write) -> io::Result<()> {
        for (conn, c) in std::mem::take(&mut self.open) {
            self.done.push(conn, c);
        }
        self.write_ready(out, true)?;
        let cols = compare::compare(&self.compared);
        if cols.len() > 1 {
            let title = self
                .lang
                .pick("## The connections compared by kind", "## 按连接类型对比");
            let note = self.lang.pick(
                "Overhead is bytes on the wire per payload byte; polling pays an HTTP head for every request, WebSocket a few bytes of frame header per message.",
                "开销是每字节有效载荷在线上花费的字节数：轮询的每个请求都要带一整套 HTTP 头，WebSocket 每条消息只多几个字节的帧头。",
            );
            writeln!(
                out,
                "{title}\n\n{note}\n\n```text\n{}```\n",
                compare::table(&cols)
            )?;
        }
        Ok(())
    }
}

fn arrow(dir: Option<Direction>) -> &'static str {
    match dir {
        Some(Direction::C2S) => "→",
        Some(Direction::S2C) => "←",
        None => "·",
    }
}

fn render_conn(lang: Lang, conn: u64, c: &ConnLesson, s: &super::ConnStats) -> String {
    let mut out = String::new();
    let kind = s.kind;
    let _ = writeln!(
        out,
        "## {} #{conn}{} {} → {} ({kind})\n",
        lang.pick("Connection", "连接"),
        lang.pick(":", "："),
        md(&c.client),
        md(&c.server)
    );
    let mut n = 0;
    for (phase, rows) in &c.phases {
        n += 1;
        let title = match phase {
            Phase::Http if c.upgrade_request => lang.pick("HTTP Upgrade", "HTTP 升级"),
            Phase::Http => lang.pick("HTTP requests", "HTTP 请求"),
            p => p.title(lang),
        };
        let _ = writeln!(out, "### {n}. {}\n", capitalise(title));
        // The checklist items have a table of their own below.
        let notes: Vec<&String> = rows
            .notes
            .iter()
            .filter(|n| !n.starts_with("  ✓") && !n.starts_with("  ✗"))
            .collect();
        for note in &notes {
            let note = note.trim_start();
            let _ = writeln!(out, "- {}", md(note));
        }
        if !notes.is_empty() {
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "| {} | {} | | {} |\n|---:|---:|:-:|---|",
            lang.pick("pkt", "包"),
            lang.pick("ms", "毫秒"),
            lang.pick("event", "事件")
        );
        for r in &rows.rows {
            let _ = writeln!(
                out,
                "| {} | {:.3} | {} | {} |",
                r.pkt,
                r.ms,
                arrow(r.dir),
                md(&r.summary)
            );
        }
        if rows.more > 0 {
            let more = rows.more;
            let _ = writeln!(
                out,
                "| | | | {} |",
                match lang {
                    Lang::En => format!("… {more} more"),
                    Lang::Zh => format!("……另有 {more} 个"),
                }
            );
        }
        out.push('\n');
        if *phase == Phase::Http && c.upgrade_request {
            checklist(lang, c, &mut out);
        }
        if *phase == Phase::Close && !c.closes.is_empty() {
            close_exchange(lang, c, &mut out);
        }
    }
    if !c.violations.is_empty() {
        let _ = writeln!(
            out,
            "### {}\n\n| {} | {} | | {} | {} |\n|---:|---:|:-:|---|---|",
            lang.pick("Violations", "违规"),
            lang.pick("pkt", "包"),
            lang.pick("ms", "毫秒"),
            lang.pick("what happened", "发生了什么"),
            lang.pick("the rule", "规则")
        );
        for (r, rule) in &c.violations {
            let _ = writeln!(
                out,
                "| {} | {:.3} | {} | {} | {} |",
                r.pkt,
                r.ms,
                arrow(r.dir),
                md(&r.summary),
                md(rule)
            );
        }
        if c.violations_more > 0 {
            let _ = writeln!(out, "| | | | … {} | |", c.violations_more);
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "### {}\n\n```mermaid\n{}```\n",
        lang.pick("Sequence diagram", "时序图"),
        c.diagram.render()
    );
    summary(lang, c, s, &mut out);
    out
}

fn checklist(lang: Lang, c: &ConnLesson, out: &mut String) {
    if c.checks.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "**{}**\n\n| {} | {} | | {} |\n|---|---|:-:|---|",
        lang.pick("Upgrade checklist", "升级检查清单"),
        lang.pick("requirement", "要求"),
        lang.pick("seen", "实际"),
        lang.pick("rule", "规则")
    );
    for ch in &c.checks {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            md(check_name(lang, ch.name)),
            md(&ch.seen),
            if ch.ok { "✓" } else { "✗" },
            ch.rule
        );
    }
    out.push('\n');
}

fn close_exchange(lang: Lang, c: &ConnLesson, out: &mut String) {
    let _ = writeln!(
        out,
        "**{}**\n\n| {} | {} | {} | {} |\n|---|---|---|---:|",
        lang.pick("The close exchange", "关闭帧的交换"),
        lang.pick("step", "步骤"),
        lang.pick("who", "谁"),
        lang.pick("close frame", "关闭帧"),
        lang.pick("ms", "毫秒")
    );
    for (i, step) in c.closes.iter().enumerate() {
        let role = match (i, lang) {
            (0, Lang::En) => "active close (主动关闭)",
            (0, Lang::Zh) => "主动关闭",
            (_, Lang::En) => "passive close (被动关闭), the echo",
            (_, Lang::Zh) => "被动关闭（回送）",
        };
        let what = match step.code {
            Some(code) => format!("{code} ({})", close_meaning(lang, code)),
            None => lang.pick("no code", "没有状态码").to_string(),
        };
        let reason = if step.reason.is_empty() {
            String::new()
        } else {
            format!(" \"{}\"", step.reason)
        };
        let _ = writeln!(
            out,
            "| {role} | {} | {} | {:.3} |",
            lang.side(Some(step.dir)),
            md(&format!("{what}{reason}")),
            step.ms
        );
    }
    if c.closes.len() == 1 {
        let _ = writeln!(
            out,
            "| {} | | | |",
            lang.pick(
                "no echo: the other side never closed",
                "没有回送：对方一直没有发送关闭帧"
            )
        );
    }
    out.push('\n');
}

/// The framing bytes and the one overhead (bytes on the wire per payload byte), as
/// `stats` and `--compare` define them.
fn overhead_rows(
    lang: Lang,
    s: &super::ConnStats,
    framing_en: &str,
    framing_zh: &str,
    row: &mut impl FnMut(&str, String),
) {
    row(
        lang.pick(framing_en, framing_zh),
        s.framing_bytes.to_string(),
    );
    row(
        lang.pick(
            "overhead = bytes on the wire / payload bytes",
            "开销 = 线上字节数 / 载荷字节数",
        ),
        format!(
            "{} / {} = {}",
            s.bytes.wire,
            s.bytes.payload,
            s.overhead
                .map_or_else(|| "-".to_string(), |o| format!("{o:.3}"))
        ),
    );
}

/// What the connection's kind means, with its numbers.
fn kind_paragraph(lang: Lang, s: &super::ConnStats) -> Option<String> {
    let n = s.requests;
    let lat = s
        .http_latency_ms
        .map_or_else(|| "-".to_string(), |v| format!("{v:.3} ms"));
    let heads = s.bytes.wire.saturating_sub(s.bytes.payload);
    let wire = s.bytes.wire;
    let (m, h) = (s.messages, s.framing_bytes);
    Some(match (s.kind, lang) {
        ("websocket", Lang::En) => format!("WebSocket: one handshake, then {m} messages over the same connection, with {h} bytes of frame headers in all."),
        ("websocket", Lang::Zh) => format!("WebSocket：一次握手之后，双方在同一个连接上收发了 {m} 条消息，帧头一共只有 {h} 字节。"),
        ("http-polling", Lang::En) => format!("Polling: the client asked for the same resource {n} times; the answers came back in {lat} (median), and {heads} of the {wire} bytes on the wire were HTTP heads."),
        ("http-polling", Lang::Zh) => format!("轮询：客户端把同一个资源请求了 {n} 次；响应时间的中位数是 {lat}，线上 {wire} 字节中有 {heads} 字节是 HTTP 头。"),
        ("http-long-polling", Lang::En) => format!("Long polling: the server held each of the {n} requests ({lat}, median) until it had news, and the client asked again at once; {heads} of the {wire} bytes on the wire were HTTP heads."),
        ("http-long-polling", Lang::Zh) => format!("长轮询：{n} 个请求都被服务器挂起（中位数 {lat}），直到有新数据才响应，客户端随即再次请求；线上 {wire} 字节中有 {heads} 字节是 HTTP 头。"),
        ("http-streaming", Lang::En) => "Streaming: one response kept open, the server writing events into it as they happen (server-sent events).".to_string(),
        ("http-streaming", Lang::Zh) => "流式响应：一个响应一直不结束，服务器有事件就往里写（server-sent events）。".to_string(),
        _ => return None,
    })
}

fn summary(lang: Lang, c: &ConnLesson, s: &super::ConnStats, out: &mut String) {
    let _ = writeln!(out, "### {}\n", lang.pick("Summary", "小结"));
    if let Some(p) = kind_paragraph(lang, s) {
        let _ = writeln!(out, "{}\n", md(&p));
    }
    out.push_str("| | |\n|---|---|\n");
    let mut row = |k: &str, v: String| {
        let _ = writeln!(out, "| {} | {} |", k, md(&v));
    };
    let ms = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| format!("{v:.3} ms"));
    row(lang.pick("kind", "类型"), s.kind.to_string());
    row(
        lang.pick("TCP handshake RTT", "TCP 握手 RTT"),
        ms(s.handshake_rtt_ms),
    );
    row(
        lang.pick("bytes on the wire (TCP payload)", "线上字节数（TCP 载荷）"),
        s.bytes.wire.to_string(),
    );
    if s.kind == "websocket" {
        if let Some(u) = &s.upgrade {
            row(
                lang.pick("upgrade", "升级"),
                format!(
                    "{} {}, Accept {}",
                    u.status,
                    if u.ok { "✓" } else { "✗" },
                    if u.accept_ok { "✓" } else { "✗" }
                ),
            );
        }
        row(
            lang.pick(
                "frames client → server / server → client",
                "帧数 客户端→服务器 / 服务器→客户端",
            ),
            format!("{} / {}", s.frames.c2s, s.frames.s2c),
        );
        row(lang.pick("messages", "消息数"), s.messages.to_string());
        overhead_rows(lang, s, "frame header bytes", "帧头字节数", &mut row);
        row(
            lang.pick("heartbeat", "心跳"),
            match lang {
                Lang::En => format!(
                    "{} ping(s), {} pong(s), median RTT {}",
                    s.pings,
                    s.pongs,
                    ms(s.ping_rtt_ms)
                ),
                Lang::Zh => format!(
                    "{} 个 ping，{} 个 pong，往返时间中位数 {}",
                    s.pings,
                    s.pongs,
                    ms(s.ping_rtt_ms)
                ),
            },
        );
        if let Some(cl) = &s.close {
            let code = cl.code.map_or_else(|| "-".to_string(), |c| c.to_string());
            let by = match cl.initiator {
                Some(d) => lang.side(Some(d)),
                None => lang.pick("nobody (no close frame)", "无（没有关闭帧）"),
            };
            let clean = if cl.clean {
                lang.pick("clean", "干净")
            } else {
                lang.pick("not clean", "不干净")
            };
            row(
                lang.pick("close", "关闭"),
                match lang {
                    Lang::En => format!("{code}, begun by {by}, {clean}"),
                    Lang::Zh => format!("{code}，由{by}发起，{clean}"),
                },
            );
        }
    } else {
        row(
            lang.pick("HTTP requests", "HTTP 请求数"),
            s.requests.to_string(),
        );
        row(
            lang.pick("responses carrying data", "带数据的响应数"),
            c.data_responses.to_string(),
        );
        row(
            lang.pick("median request → response", "请求到响应的时间中位数"),
            ms(s.http_latency_ms),
        );
        overhead_rows(lang, s, "HTTP head bytes", "HTTP 头字节数", &mut row);
    }
    row(lang.pick("teardown", "TCP 结束"), s.teardown.to_string());
    row(lang.pick("violations", "违规"), s.violations.to_string());
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_cells_cannot_break_the_table() {
        assert_eq!(md("a|b"), "a\\|b");
        assert_eq!(md("<script>"), "&lt;script&gt;");
        assert_eq!(
            md("`x` *y* _z_ [l](u)"),
            "\\`x\\` \\*y\\* \\_z\\_ \\[l\\](u)"
        );
        assert_eq!(md("line\nnext"), "line next");
        assert_eq!(md("\\n"), "\\\\n");
        assert_eq!(md("心跳"), "心跳");
    }

    #[test]
    fn capitalises_only_the_first_letter() {
        assert_eq!(capitalise("data frames"), "Data frames");
        assert_eq!(capitalise("the Accept"), "The Accept");
        assert_eq!(capitalise("数据帧"), "数据帧");
    }
}
