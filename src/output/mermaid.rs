//! `print --format mermaid`: one Mermaid `sequenceDiagram` per connection, one arrow
//! per event (`Client->>Server: SYN`), notes for the phases, the close roles and the
//! violations.
//!
//! Text from the wire is escaped with Mermaid's entity codes (`#59;` for `;`, ...), so
//! that no request target, header or message can end a statement, start a comment or a
//! directive, or inject HTML. Each diagram stops after a bounded number of arrows and
//! says how many events it left out.

use std::collections::HashMap;

use super::order::InOrder;
use std::fmt::Write as _;
use std::io::{self, Write};

use super::explain::{Lang, Phase};
use super::{Report, TextTimeline};
use crate::analysis::{Event, EventKind, TeardownHow};
use crate::types::Direction;

/// Arrows drawn per connection before the rest are left out (with a note saying how many).
pub const DEFAULT_MAX_ARROWS: usize = 500;

/// `s` made safe inside a Mermaid statement: every character that Mermaid's grammar or
/// its HTML labels give a meaning (`;` `#` `:` `%` `<` `>` `&` `"` `{` `}`), and the
/// backquote (so that a diagram can sit in a markdown code fence), becomes its `#NN;`
/// entity code; line breaks and other control characters become spaces.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            ';' | '#' | ':' | '%' | '<' | '>' | '&' | '"' | '{' | '}' | '`' => {
                let _ = write!(out, "#{};", c as u32);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// One connection's diagram being built.
pub struct ConnDiagram {
    lang: Lang,
    conn: u64,
    client: String,
    server: String,
    lines: Vec<String>,
    arrows: usize,
    max_arrows: usize,
    left_out: u64,
    noted: Vec<Phase>,
    first_close: Option<Direction>,
}

impl ConnDiagram {
    /// An empty diagram for connection `conn`, at most `max_arrows` arrows.
    pub fn new(conn: u64, lang: Lang, max_arrows: usize) -> ConnDiagram {
        ConnDiagram {
            lang,
            conn,
            client: String::new(),
            server: String::new(),
            lines: Vec::new(),
            arrows: 0,
            max_arrows,
            left_out: 0,
            noted: Vec::new(),
            first_close: None,
        }
    }

    fn full(&self) -> bool {
        self.arrows >= self.max_arrows
    }

    fn note(&mut self, over: &str, text: &str) {
        self.lines
            .push(format!("    Note over {over}: {}", escape(text)));
    }

    /// Adds `e`; `summary` is its text-timeline summary (already terminal-safe).
    pub fn event(&mut self, e: &Event, summary: &str) {
        let lang = self.lang;
        if let EventKind::ConnOpen { client, server, .. } = &e.kind {
            self.client.clone_from(client);
            self.server.clone_from(server);
        }
        if self.full() {
            if !matches!(e.kind, EventKind::ConnOpen { .. }) {
                self.left_out += 1;
            }
            return;
        }
        let phase = Phase::of(&e.kind);
        if !matches!(phase, Phase::Violation | Phase::Gap) && !self.noted.contains(&phase) {
            self.noted.push(phase);
            let title = match (&e.kind, phase) {
                (EventKind::HttpRequest { headers, .. }, Phase::Http)
                    if headers
                        .iter()
                        .any(|(n, _)| n.eq_ignore_ascii_case("upgrade")) =>
                {
                    lang.pick("HTTP Upgrade", "HTTP 升级")
                }
                (_, Phase::Http) => lang.pick("HTTP requests", "HTTP 请求"),
                _ => phase.title(lang),
            };
            self.note("Client,Server", title);
        }
        let (from, to) = match e.dir {
            Some(Direction::S2C) => ("Server", "Client"),
            _ => ("Client", "Server"),
        };
        let sender = from;
        match &e.kind {
            EventKind::ConnOpen { mid_stream, .. } => {
                if *mid_stream {
                    let t = lang.pick("capture began mid-stream", "抓包开始时连接已经建立");
                    self.note("Client,Server", t);
                }
            }
            EventKind::WsHandshake { .. } => self.note("Client,Server", summary),
            EventKind::WsClose { .. } | EventKind::Gap { .. } => {
                self.note("Client,Server", summary)
            }
            EventKind::Violation { .. } => {
                let text = format!("⚠ {summary}");
                self.note(sender, &text);
            }
            kind => {
                let arrow = match kind {
                    EventKind::WsMessage { .. } => "-->>",
                    EventKind::TcpTeardown {
                        how: TeardownHow::Rst,
                        ..
                    } => "-x",
                    _ => "->>",
                };
                self.lines
                    .push(format!("    {from}{arrow}{to}: {}", escape(summary)));
                self.arrows += 1;
                if let EventKind::WsFrame { opcode: 8, .. } = kind {
                    let dir = e.dir.unwrap_or(Direction::C2S);
                    match self.first_close {
                        None => {
                            self.first_close = Some(dir);
                            let t = lang.pick("active close (主动关闭)", "主动关闭");
                            self.note(sender, t);
                        }
                        Some(d) if d != dir => {
                            self.first_close = Some(dir);
                            let t = lang.pick("passive close (被动关闭)", "被动关闭");
                            self.note(sender, t);
                        }
                        _ => {}
                    }
                }
            }
        }
    }

    /// The diagram's text, starting with `sequenceDiagram`.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "%% wsscope: connection {}", self.conn);
        s.push_str("sequenceDiagram\n");
        let (client, server) = (
            self.lang.pick("client", "客户端"),
            self.lang.pick("server", "服务器"),
        );
        let _ = writeln!(
            s,
            "    participant Client as {}",
            escape(&format!("{client} {}", self.client))
        );
        let _ = writeln!(
            s,
            "    participant Server as {}",
            escape(&format!("{server} {}", self.server))
        );
        for l in &self.lines {
            s.push_str(l);
            s.push('\n');
        }
        if self.left_out > 0 {
            let n = self.left_out;
            let max = self.max_arrows;
            let t = match self.lang {
                Lang::En => format!("{n} more events left out (at most {max} arrows drawn)"),
                Lang::Zh => format!("省略了其余 {n} 个事件（最多画 {max} 个箭头）"),
            };
            let _ = writeln!(s, "    Note over Client,Server: {}", escape(&t));
        }
        s
    }
}

/// The text-timeline summary of a line made by [`TextTimeline::line`]: what follows the
/// time, the connection, the arrow and the phase (four fields without spaces).
pub fn summary_of(line: &str) -> &str {
    let mut rest = line;
    for _ in 0..4 {
        rest = rest.trim_start();
        rest = rest.find(' ').map_or("", |i| &rest[i..]);
    }
    rest.trim_start()
}

/// `print --format mermaid`: the diagrams, written in connection order as connections end.
pub struct Diagrams {
    lang: Lang,
    max_arrows: usize,
    text: TextTimeline,
    open: HashMap<u64, ConnDiagram>,
    done: InOrder<String>,
    written: usize,
}

impl Diagrams {
    /// Diagrams in `lang`, at most `max_arrows` arrows each.
    pub fn new(lang: Lang, max_arrows: usize) -> Diagrams {
        Diagrams {
            lang,
            max_arrows,
            text: TextTimeline::new(),
            open: HashMap::new(),
            done: InOrder::new(),
            written: 0,
        }
    }

    fn write_ready(&mut self, out: &mut dyn Write, all: bool) -> io::Result<()> {
        let ready = if all {
            self.done.finish()
        } else {
            self.done.ready()
        };
        for (_, d) in ready {
            if self.written > 0 {
                out.write_all(b"\n")?;
            }
            out.write_all(d.as_bytes())?;
            self.written += 1;
        }
        Ok(())
    }
}

impl Report for Diagrams {
    fn event(&mut self, e: &Event, _out: &mut dyn Write) -> io::Result<()> {
        let line = self.text.line(e);
        let (lang, max) = (self.lang, self.max_arrows);
        self.open
            .entry(e.conn)
            .or_insert_with(|| ConnDiagram::new(e.conn, lang, max))
            .event(e, summary_of(&line));
        Ok(())
    }

    fn conn_closed(
        &mut self,
        conn: u64,
        _totals: &crate::analysis::ConnTotals,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        if let Some(d) = self.open.remove(&conn) {
            self.done.push(conn, d.render());
        }
        self.write_ready(out, false)
    }

    fn finish(&mut self, out: &mut dyn Write) -> io::Result<()> {
        for (conn, d) in std::mem::take(&mut self.open) {
            self.done.push(conn, d.render());
        }
        self.write_ready(out, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Timestamp;

    #[test]
    fn hostile_text_cannot_break_a_statement() {
        let hostile = "a;b#c<script>alert(1)</script>%%{init: {\"theme\":\"dark\"}}%%\nNote over Client: x & y";
        let e = escape(hostile);
        for bad in [';', '<', '>', '\n', '"', '{', '}', '%'] {
            // Every special character survives only inside an entity code `#NN;`.
            let without_entities: String = {
                let mut s = String::new();
                let mut rest = e.as_str();
                while let Some(i) = rest.find('#') {
                    s.push_str(&rest[..i]);
                    let tail = &rest[i + 1..];
                    let end = tail.find(';').expect("entity ends with ;");
                    assert!(tail[..end].bytes().all(|b| b.is_ascii_digit()), "{e}");
                    rest = &tail[end + 1..];
                }
                s.push_str(rest);
                s
            };
            assert!(!without_entities.contains(bad), "{bad:?} in {e}");
            assert!(!without_entities.contains(':'), "{e}");
        }
        assert_eq!(escape("a;b"), "a#59;b");
        assert_eq!(escape("#1"), "#35;1");
        assert_eq!(escape("<br>"), "#60;br#62;");
        assert_eq!(escape("你好"), "你好");
    }

    #[test]
    fn summary_skips_the_four_fields() {
        assert_eq!(
            summary_of("   0.000600  #0   →  tcp   ACK (handshake RTT 0.600 ms)"),
            "ACK (handshake RTT 0.600 ms)"
        );
        assert_eq!(
            summary_of("  12.000001  #123 ·  close close 1000"),
            "close 1000"
        );
        assert_eq!(summary_of("short"), "");
    }

    fn ev(conn: u64, dir: Option<Direction>, kind: EventKind) -> Event {
        Event {
            conn,
            pkt: 1,
            ts: Timestamp(0),
            dir,
            kind,
        }
    }

    #[test]
    fn a_hostile_request_stays_one_statement_and_arrows_are_capped() {
        let mut d = ConnDiagram::new(0, Lang::En, 3);
        d.event(
            &ev(
                0,
                None,
                EventKind::ConnOpen {
                    client: "1.2.3.4:5".into(),
                    server: "[::1]:80".into(),
                    mid_stream: false,
                },
            ),
            "",
        );
        let req = EventKind::HttpRequest {
            method: "GET".into(),
            target: "/x;\nClient->>Server: injected %%{init}%%".into(),
            version: "HTTP/1.1".into(),
            headers: vec![],
            checks: None,
            body: Default::default(),
        };
        for _ in 0..5 {
            d.event(
                &ev(0, Some(Direction::C2S), req.clone()),
                "GET /x;\\nClient->>Server: injected %%{init}%% HTTP/1.1",
            );
        }
        let out = d.render();
        let arrows: Vec<&str> = out.lines().filter(|l| l.contains("->>")).collect();
        assert_eq!(arrows.len(), 3, "{out}");
        for a in arrows {
            assert!(a.starts_with("    Client->>Server: GET /x#59;"), "{a}");
            // Only our own arrow: the one in the text lost its `>`.
            assert_eq!(a.matches("->>").count(), 1, "{a}");
            assert!(a.contains("Client-#62;#62;Server#58;"), "{a}");
            assert!(a.contains("#37;#37;#123;init#125;#37;#37;"), "{a}");
        }
        assert!(out.contains("2 more events left out"), "{out}");
        assert!(
            out.contains("participant Server as server [#58;#58;1]#58;80"),
            "{out}"
        );
        // Every `;` left ends an entity code.
        for (i, _) in out.match_indices(';') {
            let before = &out[..i];
            let hash = before.rfind('#').expect("entity start");
            assert!(
                before[hash + 1..].bytes().all(|b| b.is_ascii_digit()),
                "{out}"
            );
        }
    }
}
