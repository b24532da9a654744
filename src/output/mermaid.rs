//! `print --format mermaid`: one Mermaid `sequenceDiagram` per connection, one arrow
//! per event (`Client->>Server: SYN`), notes for the phases, the close roles and the
//! violations.
//!
//! Text from the wire is escaped with Mermaid's entity codes (`#59;` for `;`, ...), so
//! that no request target, header or message can end a statement, start a comment or a
//! directive, or inject HTML. Each diagram stops after a bounded number of arrows and
//! says how many events it left out.

use std::collections::{BTreeMap, HashMap};

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
    /// A WebSocket over HTTP/2: its stream (the diagram shows that stream alone).
    stream: Option<u32>,
    client: String,
    server: String,
    lines: Vec<String>,
    /// The same statements as drawing items, for [`ConnDiagram::svg`].
    items: Vec<Item>,
    arrows: usize,
    max_arrows: usize,
    left_out: u64,
    noted: Vec<Phase>,
    first_close: Option<Direction>,
}

impl ConnDiagram {
    /// Heap bytes held (for the memory budget): its lines and arrows.
    pub(crate) fn heap_bytes(&self) -> usize {
        use crate::budget::{string_bytes, vec_bytes};
        let items: usize = self
            .items
            .iter()
            .map(|i| match i {
                Item::Arrow { text, .. } | Item::Note { text, .. } => string_bytes(text),
            })
            .sum();
        string_bytes(&self.client)
            + string_bytes(&self.server)
            + vec_bytes(&self.lines)
            + self.lines.iter().map(string_bytes).sum::<usize>()
            + vec_bytes(&self.items)
            + items
            + vec_bytes(&self.noted)
    }

    /// How many lines and arrows it holds: its heap bytes are counted again when this
    /// changes (they stop changing at the bound on arrows).
    pub(crate) fn shape(&self) -> usize {
        self.lines.len() + self.items.len() + self.noted.len()
    }

    /// An empty diagram for connection `conn`, at most `max_arrows` arrows.
    pub fn new(conn: u64, lang: Lang, max_arrows: usize) -> ConnDiagram {
        ConnDiagram {
            lang,
            conn,
            stream: None,
            client: String::new(),
            server: String::new(),
            lines: Vec::new(),
            items: Vec::new(),
            arrows: 0,
            max_arrows,
            left_out: 0,
            noted: Vec::new(),
            first_close: None,
        }
    }

    /// An empty diagram for stream `stream` of connection `conn` (between the
    /// connection's `client` and `server`), at most `max_arrows` arrows.
    pub fn for_stream(
        conn: u64,
        stream: u32,
        client: &str,
        server: &str,
        lang: Lang,
        max_arrows: usize,
    ) -> ConnDiagram {
        ConnDiagram {
            stream: Some(stream),
            client: client.to_string(),
            server: server.to_string(),
            ..ConnDiagram::new(conn, lang, max_arrows)
        }
    }

    fn full(&self) -> bool {
        self.arrows >= self.max_arrows
    }

    fn note(&mut self, over: &str, text: &str) {
        self.items.push(Item::Note {
            over: match over {
                "Client" => Some(true),
                "Server" => Some(false),
                _ => None,
            },
            text: text.to_string(),
        });
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
                    msg!(lang, "diagram.http_upgrade")
                }
                (EventKind::H2Settings { .. }, Phase::Http) => msg!(lang, "diagram.h2_connection"),
                (
                    EventKind::HttpRequest {
                        method, version, ..
                    },
                    Phase::Http,
                ) if method == "CONNECT" && version == "HTTP/2" => {
                    msg!(lang, "lesson.h2_connect_phase")
                }
                (_, Phase::Http) => msg!(lang, "diagram.http_requests"),
                (
                    EventKind::WsHandshake {
                        transport: "h2", ..
                    },
                    _,
                ) => msg!(lang, "lesson.h2_answer_phase"),
                _ => phase.title(lang),
            };
            self.note("Client,Server", &title);
        }
        let (from, to) = match e.dir {
            Some(Direction::S2C) => ("Server", "Client"),
            _ => ("Client", "Server"),
        };
        let sender = from;
        match &e.kind {
            EventKind::ConnOpen { mid_stream, .. } => {
                if *mid_stream {
                    let t = msg!(lang, "diagram.capture_began_mid_stream");
                    self.note("Client,Server", &t);
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
                self.items.push(Item::Arrow {
                    c2s: from == "Client",
                    dashed: arrow == "-->>",
                    cross: arrow == "-x",
                    text: summary.to_string(),
                });
                self.lines
                    .push(format!("    {from}{arrow}{to}: {}", escape(summary)));
                self.arrows += 1;
                if let EventKind::WsFrame { opcode: 8, .. } = kind {
                    let dir = e.dir.unwrap_or(Direction::C2S);
                    match self.first_close {
                        None => {
                            self.first_close = Some(dir);
                            let t = msg!(lang, "diagram.active_close");
                            self.note(sender, &t);
                        }
                        Some(d) if d != dir => {
                            self.first_close = Some(dir);
                            let t = msg!(lang, "diagram.passive_close");
                            self.note(sender, &t);
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
        let comment = match self.stream {
            Some(st) => msg!(self.lang, "diagram.comment_stream", n = self.conn, s = st),
            None => msg!(self.lang, "diagram.comment", n = self.conn),
        };
        let _ = writeln!(s, "%% {comment}");
        s.push_str("sequenceDiagram\n");
        let (client, server) = (
            msg!(self.lang, "diagram.client"),
            msg!(self.lang, "diagram.server"),
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
            let t = msg!(self.lang, "diagram.left_out", n = n, max = max);
            let _ = writeln!(s, "    Note over Client,Server: {}", escape(&t));
        }
        s
    }
}

/// One statement of a diagram, for drawing it.
enum Item {
    /// An arrow between the two lifelines: a message (dashed) or a reset (cross).
    Arrow {
        c2s: bool,
        dashed: bool,
        cross: bool,
        text: String,
    },
    /// A note over the client (`Some(true)`), the server, or both (`None`).
    Note { over: Option<bool>, text: String },
}

/// `s` escaped for XML/HTML text and attribute values.
pub fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// At most `max` characters of `s`, cut with `…`.
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

impl ConnDiagram {
    /// The diagram drawn as inline SVG by wsscope itself (no script, no font, nothing
    /// fetched): two lifelines, one arrow per event, notes across them.
    pub fn svg(&self) -> String {
        const W: i64 = 1000;
        const CX: i64 = 170;
        const SX: i64 = 830;
        const ROW: i64 = 30;
        let top = 60;
        let rows = self.items.len() as i64 + i64::from(self.left_out > 0);
        let h = top + rows * ROW + 40;
        let mut s = String::new();
        let _ = write!(
            s,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"seq\" width=\"{W}\" height=\"{h}\" viewBox=\"0 0 {W} {h}\" role=\"img\" font-family=\"sans-serif\" font-size=\"12\">"
        );
        s.push_str("<defs><marker id=\"ah\" markerWidth=\"10\" markerHeight=\"8\" refX=\"9\" refY=\"4\" orient=\"auto\"><path d=\"M0,0 L10,4 L0,8 z\" fill=\"#333\"/></marker></defs>");
        let (client, server) = (
            format!("{} {}", msg!(self.lang, "diagram.client"), self.client),
            format!("{} {}", msg!(self.lang, "diagram.server"), self.server),
        );
        for (x, name) in [(CX, &client), (SX, &server)] {
            let _ = write!(
                s,
                "<rect x=\"{}\" y=\"10\" width=\"300\" height=\"30\" rx=\"4\" fill=\"#eef\" stroke=\"#336\"/><text x=\"{x}\" y=\"30\" text-anchor=\"middle\">{}</text><line x1=\"{x}\" y1=\"40\" x2=\"{x}\" y2=\"{}\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>",
                x - 150,
                xml(&clip(name, 44)),
                h - 10
            );
        }
        let mut y = top;
        for it in &self.items {
            match it {
                Item::Arrow {
                    c2s,
                    dashed,
                    cross,
                    text,
                } => {
                    let (x1, x2) = if *c2s { (CX, SX) } else { (SX, CX) };
                    let dash = if *dashed {
                        " stroke-dasharray=\"6 3\""
                    } else {
                        ""
                    };
                    let color = if *cross { "#b00" } else { "#333" };
                    let _ = write!(
                        s,
                        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text><line x1=\"{x1}\" y1=\"{}\" x2=\"{x2}\" y2=\"{}\" stroke=\"{color}\"{dash} marker-end=\"url(#ah)\"/>",
                        (CX + SX) / 2,
                        y + 10,
                        xml(&clip(text, 100)),
                        y + 16,
                        y + 16
                    );
                }
                Item::Note { over, text } => {
                    let (x, w) = match over {
                        Some(true) => (CX - 160, 320),
                        Some(false) => (SX - 160, 320),
                        None => (CX - 40, SX - CX + 80),
                    };
                    let chars = (w / 7) as usize;
                    let fill = if text.starts_with('⚠') {
                        "#fdd"
                    } else {
                        "#ffc"
                    };
                    let _ = write!(
                        s,
                        "<rect x=\"{x}\" y=\"{}\" width=\"{w}\" height=\"22\" fill=\"{fill}\" stroke=\"#aa8\"/><text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                        y + 2,
                        x + w / 2,
                        y + 17,
                        xml(&clip(text, chars))
                    );
                }
            }
            y += ROW;
        }
        if self.left_out > 0 {
            let t = msg!(
                self.lang,
                "diagram.left_out",
                n = self.left_out,
                max = self.max_arrows
            );
            let _ = write!(
                s,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-style=\"italic\">{}</text>",
                (CX + SX) / 2,
                y + 15,
                xml(&t)
            );
        }
        s.push_str("</svg>");
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
    /// Each open connection's diagram (its shared phases) and its streams'.
    open: HashMap<u64, (ConnDiagram, BTreeMap<u32, ConnDiagram>)>,
    done: InOrder<String>,
    written: usize,
    /// Per open connection: its diagrams' shape and heap bytes when last counted.
    charges: HashMap<u64, (usize, usize)>,
    /// Heap bytes of the open diagrams and of the rendered ones waiting (for the
    /// memory budget).
    held: usize,
}

impl Diagrams {
    /// Diagrams in `lang`, at most `max_arrows` arrows each.
    pub fn new(lang: Lang, max_arrows: usize) -> Diagrams {
        Diagrams {
            lang,
            max_arrows,
            text: TextTimeline::with_lang(lang),
            open: HashMap::new(),
            done: InOrder::new(),
            written: 0,
            charges: HashMap::new(),
            held: 0,
        }
    }

    fn write_ready(&mut self, out: &mut dyn Write, all: bool) -> io::Result<()> {
        let ready = if all {
            self.done.finish()
        } else {
            self.done.ready()
        };
        for (_, d) in ready {
            crate::budget::release(&mut self.held, d.capacity());
            if self.written > 0 {
                out.write_all(b"\n")?;
            }
            out.write_all(d.as_bytes())?;
            self.written += 1;
        }
        Ok(())
    }
}

/// An RFC 8441 extended CONNECT: the event that gives an HTTP/2 stream a section (and a
/// diagram) of its own. Other streams' requests stay with their connection, as in `stats`.
pub(crate) fn opens_h2_websocket(kind: &EventKind) -> bool {
    matches!(kind, EventKind::HttpRequest { method, version, .. }
        if method == "CONNECT" && version == "HTTP/2")
}

/// A connection's diagram, then one per HTTP/2 stream, separated by a blank line.
fn render_all((conn, streams): &(ConnDiagram, BTreeMap<u32, ConnDiagram>)) -> String {
    let mut s = conn.render();
    for d in streams.values() {
        s.push('\n');
        s.push_str(&d.render());
    }
    s
}

impl Report for Diagrams {
    fn event(&mut self, e: &Event, _out: &mut dyn Write) -> io::Result<()> {
        let line = self.text.line(e);
        let (lang, max) = (self.lang, self.max_arrows);
        let (conn, streams) = self
            .open
            .entry(e.conn)
            .or_insert_with(|| (ConnDiagram::new(e.conn, lang, max), BTreeMap::new()));
        match e.stream {
            Some(s) if streams.contains_key(&s) || opens_h2_websocket(&e.kind) => streams
                .entry(s)
                .or_insert_with(|| {
                    ConnDiagram::for_stream(e.conn, s, &conn.client, &conn.server, lang, max)
                })
                .event(e, summary_of(&line)),
            _ => conn.event(e, summary_of(&line)),
        }
        let shape = conn.shape() + streams.values().map(ConnDiagram::shape).sum::<usize>();
        let charge = self.charges.entry(e.conn).or_default();
        if charge.0 != shape || charge.1 == 0 {
            let bytes = std::mem::size_of::<ConnDiagram>()
                + conn.heap_bytes()
                + streams
                    .values()
                    .map(|d| std::mem::size_of::<(u32, ConnDiagram)>() + d.heap_bytes())
                    .sum::<usize>();
            charge.0 = shape;
            crate::budget::recount(&mut self.held, &mut charge.1, bytes);
        }
        Ok(())
    }

    fn heap_bytes(&self) -> usize {
        self.held
            + crate::budget::map_bytes(&self.open)
            + crate::budget::map_bytes(&self.charges)
            + self.text.heap_bytes()
    }

    fn conn_closed(
        &mut self,
        conn: u64,
        _totals: &crate::analysis::ConnTotals,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        self.text.conn_closed(conn);
        if let Some((_, charged)) = self.charges.remove(&conn) {
            crate::budget::release(&mut self.held, charged);
        }
        if let Some(d) = self.open.remove(&conn) {
            let text = render_all(&d);
            // Waiting for its turn: counted until written.
            self.held += text.capacity();
            self.done.push(conn, text);
        }
        self.write_ready(out, false)
    }

    fn finish(&mut self, out: &mut dyn Write) -> io::Result<()> {
        for (conn, d) in std::mem::take(&mut self.open) {
            let text = render_all(&d);
            self.held += text.capacity();
            self.done.push(conn, text);
        }
        for (_, (_, charged)) in self.charges.drain() {
            crate::budget::release(&mut self.held, charged);
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
    fn the_svg_diagram_keeps_wire_text_inert() {
        let mut d = ConnDiagram::new(0, Lang::Zh, 10);
        d.event(
            &ev(
                0,
                None,
                EventKind::ConnOpen {
                    client: "<b>c</b>:1".into(),
                    server: "s:2".into(),
                    mid_stream: false,
                },
            ),
            "",
        );
        let req = EventKind::HttpRequest {
            method: "GET".into(),
            target: "/<script>alert(1)</script>".into(),
            version: "HTTP/1.1".into(),
            headers: vec![],
            checks: None,
            body: Default::default(),
        };
        d.event(
            &ev(0, Some(Direction::C2S), req),
            "GET /<script>alert(1)</script>\" onload=\"x HTTP/1.1",
        );
        let svg = d.svg();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"), "{svg}");
        assert!(!svg.contains("<script") && !svg.contains("<b>"), "{svg}");
        assert!(
            svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot; onload"),
            "{svg}"
        );
        assert!(svg.contains("客户端 &lt;b&gt;c&lt;/b&gt;:1"), "{svg}");
        // One arrow line with its arrowhead, and the phase note.
        assert_eq!(svg.matches("marker-end=").count(), 1, "{svg}");
        assert!(svg.contains("HTTP 请求"), "{svg}");
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
            stream: None,
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
