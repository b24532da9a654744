//! `print --format markdown`: a lesson per connection, written from the capture.
//!
//! For each connection: a section per phase (TCP handshake, HTTP Upgrade, the Accept,
//! data frames, heartbeat, closing handshake, TCP teardown) with a table of its events and
//! the explanations of [`Explainer`], the upgrade checklist, the close exchange
//! (主动关闭 / 被动关闭), the violations with their rules, a Mermaid sequence diagram,
//! and a summary with the connection's numbers (handshake RTT, frames, overhead). At the
//! end, when the capture holds more than one kind of connection, they are compared.
//!
//! A WebSocket over HTTP/2 (RFC 8441) is a section of its own (`connection N, stream S`)
//! with only its stream's events, its own explanations, diagram and summary, after its
//! connection's section, which has the shared phases (TCP, TLS, HTTP/2 SETTINGS, teardown)
//! once and what changes over HTTP/2. Other HTTP/2 requests stay with their connection,
//! as in `stats`. The TLS phase ends with a table of what the hellos said, whether the
//! key log decrypted it, and what TLS adds per record.
//!
//! Every cell is escaped for markdown ([`md`]); rows per phase are bounded.

use std::collections::{BTreeMap, HashMap};

use super::order::InOrder;
use std::fmt::Write as _;
use std::io::{self, Write};

use super::compare;
use super::explain::{capitalise, check_name, close_meaning, Explainer, Lang, Phase};
use super::mermaid::{opens_h2_websocket, summary_of, ConnDiagram};
use super::stats::StatsBuilder;
use super::{Report, TextTimeline};
use crate::analysis::summary::TlsStats;
use crate::analysis::Check;
use crate::analysis::{ConnTotals, Event, EventKind, Sink};
use crate::analysis::{Summary, TlsStep};
use crate::http::RequestHead;
use crate::types::{Direction, Timestamp};

/// Event rows shown per phase of a connection; the rest are counted.
pub const MAX_ROWS_PER_PHASE: usize = 40;
/// Arrows in each connection's sequence diagram.
pub const MAX_DIAGRAM_ARROWS: usize = 120;
/// TCP teardown segments shown after the close frames (FIN, ACK, FIN, ACK, or a reset).
const MAX_TEARDOWN_ROWS: usize = 8;
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
    /// The TCP end as it happened (FIN, ACK of FIN, RST), after the close frames.
    teardown: Vec<Row>,
    violations: Vec<(Row, String)>,
    violations_more: u64,
    diagram: ConnDiagram,
    data_responses: u64,
    /// The connection speaks HTTP/2 (a SETTINGS frame was seen).
    h2: bool,
    /// An HTTP/2 stream's extended CONNECT (RFC 8441).
    h2_connect: bool,
    /// What the client offered in its hello, for the TLS section (the rest of the
    /// handshake is the summary's `tls`).
    tls_offer: TlsOffer,
    /// A WebSocket (or request) over HTTP/2: its stream, and its own summary.
    stream: Option<(u32, Summary)>,
    /// The connection's HTTP/2 streams, each a lesson of its own.
    streams: BTreeMap<u32, ConnLesson>,
}

/// What the client's hello offered: ALPN protocols and TLS versions.
#[derive(Default)]
struct TlsOffer {
    alpn: Vec<String>,
    versions: Vec<String>,
}

impl ConnLesson {
    /// How many rows, notes and arrows it holds: its heap bytes are counted again when
    /// this changes (they stop changing at the bounds on rows).
    fn shape(&self) -> usize {
        self.phases
            .values()
            .map(|p| p.rows.len() + p.notes.len())
            .sum::<usize>()
            + self.checks.len()
            + self.closes.len()
            + self.teardown.len()
            + self.violations.len()
            + self.diagram.shape()
            + usize::from(self.request.is_some())
            + self.tls_offer.alpn.len()
            + self.tls_offer.versions.len()
            + self.streams.values().map(|s| 1 + s.shape()).sum::<usize>()
    }

    /// Heap bytes held (for the memory budget): its rows and their text, the request,
    /// the diagram, its streams' lessons.
    fn heap_bytes(&self) -> usize {
        use crate::budget::{btree_bytes, string_bytes, vec_bytes};
        let rows =
            |v: &Vec<Row>| vec_bytes(v) + v.iter().map(|r| string_bytes(&r.summary)).sum::<usize>();
        std::mem::size_of::<ConnLesson>()
            + string_bytes(&self.client)
            + string_bytes(&self.server)
            + btree_bytes(self.phases.len(), std::mem::size_of::<(Phase, PhaseRows)>())
            + self
                .phases
                .values()
                .map(|p| {
                    rows(&p.rows)
                        + vec_bytes(&p.notes)
                        + p.notes.iter().map(string_bytes).sum::<usize>()
                })
                .sum::<usize>()
            + self.request.as_ref().map_or(0, RequestHead::heap_bytes)
            + vec_bytes(&self.checks)
            + vec_bytes(&self.closes)
            + self
                .closes
                .iter()
                .map(|c| string_bytes(&c.reason))
                .sum::<usize>()
            + rows(&self.teardown)
            + vec_bytes(&self.violations)
            + self
                .violations
                .iter()
                .map(|(r, s)| string_bytes(&r.summary) + string_bytes(s))
                .sum::<usize>()
            + self.diagram.heap_bytes()
            + vec_bytes(&self.tls_offer.alpn)
            + vec_bytes(&self.tls_offer.versions)
            + self.stream.as_ref().map_or(0, |(_, s)| s.heap_bytes())
            + self
                .streams
                .values()
                .map(ConnLesson::heap_bytes)
                .sum::<usize>()
    }

    fn new(conn: u64, first: Timestamp, lang: Lang) -> ConnLesson {
        ConnLesson {
            first,
            client: String::new(),
            server: String::new(),
            phases: BTreeMap::new(),
            upgrade_request: false,
            request: None,
            checks: Vec::new(),
            closes: Vec::new(),
            teardown: Vec::new(),
            violations: Vec::new(),
            violations_more: 0,
            diagram: ConnDiagram::new(conn, lang, MAX_DIAGRAM_ARROWS),
            data_responses: 0,
            h2: false,
            h2_connect: false,
            tls_offer: TlsOffer::default(),
            stream: None,
            streams: BTreeMap::new(),
        }
    }

    /// Takes `e` into this lesson (the connection's or one stream's).
    fn add(&mut self, e: &Event, summary: String, notes: Vec<String>) {
        self.diagram.event(e, &summary);
        if let Some((_, s)) = &mut self.stream {
            s.add(e);
        }
        let row = Row {
            pkt: e.pkt,
            ms: e.ts.millis_since(self.first),
            dir: e.dir,
            summary,
        };
        let c = self;
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
                c.h2_connect = method == "CONNECT" && version == "HTTP/2";
                c.request = Some(req);
            }
            EventKind::HttpResponse {
                status, headers, ..
            } if compare::response_has_data(*status, headers) => {
                c.data_responses += 1;
            }
            EventKind::TcpTeardown { .. } if c.teardown.len() < MAX_TEARDOWN_ROWS => {
                c.teardown.push(Row {
                    pkt: row.pkt,
                    ms: row.ms,
                    dir: row.dir,
                    summary: row.summary.clone(),
                });
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
            EventKind::H2Settings { .. } => c.h2 = true,
            EventKind::TlsHandshake {
                step: TlsStep::ClientHello { alpn, versions, .. },
            } => {
                c.tls_offer.alpn.clone_from(alpn);
                c.tls_offer.versions.clone_from(versions);
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
    }
}

/// The markdown lesson, written connection by connection in connection order.
pub struct Lesson {
    lang: Lang,
    text: TextTimeline,
    explainer: Explainer,
    /// Each HTTP/2 stream is explained as a connection of its own.
    stream_explainers: HashMap<(u64, u32), Explainer>,
    stats: StatsBuilder,
    /// Boxed: a table of large entries holds twice their room, three times while it grows.
    open: HashMap<u64, Box<ConnLesson>>,
    done: InOrder<Box<ConnLesson>>,
    title_done: bool,
    /// Written as one HTML page ([`super::html`]) instead of Markdown.
    html: bool,
    compared: compare::KindTotals,
    /// Per connection with a lesson open or waiting: its shape and heap bytes when
    /// last counted.
    charges: HashMap<u64, (usize, usize)>,
    /// Heap bytes of the lessons open or waiting for their turn (for the memory budget).
    held: usize,
    /// Stats rows released before their lesson was (kept until it is).
    rows: HashMap<u64, super::ConnStats>,
}

impl Lesson {
    /// A lesson in `lang`.
    pub fn new(lang: Lang) -> Lesson {
        Lesson {
            lang,
            text: TextTimeline::with_lang(lang),
            explainer: Explainer::new(lang),
            stream_explainers: HashMap::new(),
            stats: StatsBuilder::new(),
            open: HashMap::new(),
            done: InOrder::new(),
            title_done: false,
            html: false,
            compared: compare::KindTotals::default(),
            rows: HashMap::new(),
            charges: HashMap::new(),
            held: 0,
        }
    }

    /// The lesson as one self-contained HTML page, in `lang`.
    pub fn html(lang: Lang) -> Lesson {
        Lesson {
            html: true,
            ..Lesson::new(lang)
        }
    }

    /// Writes a block of the lesson: Markdown as it is, or turned into HTML (the
    /// connection's diagram as SVG in place of its Mermaid fence).
    fn emit(&self, out: &mut dyn Write, md: &str, svg: Option<&str>) -> io::Result<()> {
        if self.html {
            out.write_all(super::html::from_markdown(md, svg).as_bytes())
        } else {
            out.write_all(md.as_bytes())
        }
    }

    /// The title and introduction, once, before the first connection (or at the end).
    fn title(&mut self, out: &mut dyn Write) -> io::Result<()> {
        if self.title_done {
            return Ok(());
        }
        self.title_done = true;
        if self.html {
            out.write_all(super::html::head(self.lang).as_bytes())?;
        }
        let title = msg!(self.lang, "lesson.websocket_packet_packet");
        let intro = msg!(self.lang, "lesson.lesson_written_wsscope_capture_each");
        self.emit(out, &format!("{title}\n\n{intro}\n\n"), None)
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
            if let Some((_, charged)) = self.charges.remove(&k) {
                crate::budget::release(&mut self.held, charged);
            }
            self.title(out)?;
            let Some(stats) = self.rows.remove(&k) else {
                continue;
            };
            let text = render_conn(self.lang, k, &c, &stats);
            let svg = self.html.then(|| c.diagram.svg());
            self.emit(out, &text, svg.as_deref())?;
            for st in c.streams.values() {
                let Some((_, summary)) = &st.stream else {
                    continue;
                };
                let row = summary.clone().close(&ConnTotals::default());
                let text = render_conn(self.lang, k, st, &row);
                let svg = self.html.then(|| st.diagram.svg());
                self.emit(out, &text, svg.as_deref())?;
            }
            self.compared.add(&stats, c.data_responses);
        }
        Ok(())
    }
}

impl Report for Lesson {
    fn event(&mut self, e: &Event, _out: &mut dyn Write) -> io::Result<()> {
        let line = self.text.line(e);
        let summary = summary_of(&line).to_string();
        let lang = self.lang;
        let c = self
            .open
            .entry(e.conn)
            .or_insert_with(|| Box::new(ConnLesson::new(e.conn, e.ts, lang)));
        // A WebSocket's stream is a lesson of its own; other requests stay with the connection.
        let own = e
            .stream
            .filter(|s| c.streams.contains_key(s) || opens_h2_websocket(&e.kind));
        let notes = match own {
            Some(s) => self
                .stream_explainers
                .entry((e.conn, s))
                .or_insert_with(|| Explainer::new(lang))
                .explain(e),
            None => self.explainer.explain(e),
        };
        match own {
            Some(s) => {
                // A stream's times count from its connection's start, as the shared phases'.
                let first = c.first;
                let (client, server) = (c.client.clone(), c.server.clone());
                let st = c.streams.entry(s).or_insert_with(|| {
                    let mut l = ConnLesson::new(e.conn, first, lang);
                    l.stream = Some((s, Summary::for_stream(e.conn, s, e.ts, &client, &server)));
                    l.diagram = ConnDiagram::for_stream(
                        e.conn,
                        s,
                        &client,
                        &server,
                        lang,
                        MAX_DIAGRAM_ARROWS,
                    );
                    l.client = client;
                    l.server = server;
                    l
                });
                st.add(e, summary, notes);
            }
            None => c.add(e, summary, notes),
        }
        let shape = c.shape();
        let charge = self.charges.entry(e.conn).or_default();
        if charge.0 != shape || charge.1 == 0 {
            charge.0 = shape;
            crate::budget::recount(&mut self.held, &mut charge.1, c.heap_bytes());
        }
        self.stats.event(e.clone());
        Ok(())
    }

    fn heap_bytes(&self) -> usize {
        use crate::budget::map_bytes;
        self.held
            + map_bytes(&self.open)
            + map_bytes(&self.charges)
            // Rows waiting for their lesson: their strings (two addresses) estimated.
            + map_bytes(&self.rows)
            + self.rows.len() * 2 * crate::budget::KEY_GUESS
            + self.stats.heap_bytes()
            + self.text.heap_bytes()
            + self.compared.heap_bytes()
    }

    fn conn_closed(
        &mut self,
        conn: u64,
        totals: &ConnTotals,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        self.explainer.conn_closed(conn);
        self.text.conn_closed(conn);
        self.stream_explainers.retain(|(c, _), _| *c != conn);
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
        let cols = self.compared.summaries();
        if cols.len() > 1 {
            let title = msg!(self.lang, "lesson.connections_compared_kind");
            let note = msg!(self.lang, "lesson.overhead_bytes_wire_per_payload");
            let text = format!(
                "{title}\n\n{note}\n\n```text\n{}```\n\n",
                compare::table_in(self.lang, &cols)
            );
            self.emit(out, &text, None)?;
        }
        if self.html {
            self.title(out)?;
            out.write_all(super::html::TAIL.as_bytes())?;
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
    let heading = match &c.stream {
        Some((stream, _)) => msg!(
            lang,
            "lesson.stream_heading",
            conn = conn,
            stream = stream,
            client = md(&c.client),
            server = md(&c.server),
            kind = kind
        ),
        None => msg!(
            lang,
            "lesson.connection_heading",
            conn = conn,
            client = md(&c.client),
            server = md(&c.server),
            kind = kind
        ),
    };
    let _ = writeln!(out, "## {heading}\n");
    if c.stream.is_some() {
        let _ = writeln!(out, "{}\n", md(&msg!(lang, "lesson.stream_intro")));
    }
    let mut n = 0;
    for (phase, rows) in &c.phases {
        n += 1;
        let title = match phase {
            Phase::Http if c.upgrade_request => msg!(lang, "lesson.http_upgrade"),
            Phase::Http if c.h2_connect => msg!(lang, "lesson.h2_connect_phase"),
            Phase::Http if c.h2 => msg!(lang, "lesson.h2_connection_phase"),
            Phase::Accept if c.h2_connect => msg!(lang, "lesson.h2_answer_phase"),
            Phase::Http => msg!(lang, "lesson.http_requests"),
            p => p.title(lang),
        };
        let _ = writeln!(out, "### {n}. {}\n", capitalise(&title));
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
            msg!(lang, "lesson.pkt"),
            msg!(lang, "lesson.ms"),
            msg!(lang, "lesson.event")
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
                msg!(lang, "lesson.more_rows", more = more)
            );
        }
        out.push('\n');
        if *phase == Phase::Http && (c.upgrade_request || c.h2_connect) {
            checklist(lang, c, &mut out);
        }
        if *phase == Phase::Tls {
            if let Some(tls) = &s.tls {
                tls_section(lang, &c.tls_offer, tls, &mut out);
            }
        }
        if *phase == Phase::Close && !c.closes.is_empty() {
            close_exchange(lang, c, &mut out);
        }
    }
    if !c.streams.is_empty() {
        h2_section(lang, c, s.tls.is_some(), &mut out);
    }
    if !c.violations.is_empty() {
        let _ = writeln!(
            out,
            "### {}\n\n| {} | {} | | {} | {} |\n|---:|---:|:-:|---|---|",
            msg!(lang, "lesson.violations"),
            msg!(lang, "lesson.pkt"),
            msg!(lang, "lesson.ms"),
            msg!(lang, "lesson.what_happened"),
            msg!(lang, "lesson.rule")
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
        msg!(lang, "lesson.sequence_diagram"),
        c.diagram.render()
    );
    summary(lang, c, s, &mut out);
    out
}

/// What TLS said and what it costs: the hellos, the decryption, the bytes per record.
fn tls_section(lang: Lang, offer: &TlsOffer, t: &TlsStats, out: &mut String) {
    let _ = writeln!(
        out,
        "**{}**\n\n| | |\n|---|---|",
        msg!(lang, "lesson.tls_facts")
    );
    let mut row = |k: String, v: String| {
        let _ = writeln!(out, "| {} | {} |", k, md(&v));
    };
    let or_dash = |v: Option<&str>| v.unwrap_or("-").to_string();
    let list = |v: &[String]| {
        if v.is_empty() {
            "-".to_string()
        } else {
            v.join(", ")
        }
    };
    row(msg!(lang, "lesson.tls_sni"), or_dash(t.sni.as_deref()));
    row(msg!(lang, "lesson.tls_alpn_offered"), list(&offer.alpn));
    row(
        msg!(lang, "lesson.tls_versions_offered"),
        list(&offer.versions),
    );
    row(
        msg!(lang, "lesson.tls_version"),
        or_dash(t.version.as_deref()),
    );
    row(
        msg!(lang, "lesson.tls_cipher"),
        or_dash(t.cipher.as_deref()),
    );
    row(msg!(lang, "lesson.tls_alpn"), or_dash(t.alpn.as_deref()));
    // A direction that fails always says why, so no reason and not decrypted is
    // no outcome seen yet.
    let decrypted = match (t.decrypted, t.reason) {
        (true, _) => msg!(lang, "lesson.tls_decrypted_yes"),
        (false, Some(reason)) => msg!(lang, "lesson.tls_decrypted_no", reason = reason),
        (false, None) => "-".to_string(),
    };
    row(msg!(lang, "lesson.tls_decrypted"), decrypted);
    if let Some(per) = tls_record_cost(lang, t) {
        row(msg!(lang, "lesson.tls_per_record"), per);
    }
    let records = t.records.total();
    row(
        msg!(lang, "lesson.tls_records"),
        format!("{} / {}", t.records.c2s, t.records.s2c),
    );
    if t.decrypted && records > 0 {
        let per = t.overhead_bytes as f64 / records as f64;
        row(
            msg!(lang, "lesson.tls_overhead"),
            msg!(
                lang,
                "lesson.tls_overhead_value",
                bytes = t.overhead_bytes,
                records = records,
                per = per : {:.1}
            ),
        );
    }
    out.push('\n');
}

/// What TLS adds to each record, for the suites whose record shape is fixed (AEAD).
fn tls_record_cost(lang: Lang, t: &TlsStats) -> Option<String> {
    let (version, cipher) = (t.version.as_deref()?, t.cipher.as_deref()?);
    Some(match version {
        "TLS 1.3" => msg!(lang, "lesson.tls_record_13"),
        "TLS 1.2" if cipher.contains("_GCM_") || cipher.ends_with("_GCM") => {
            msg!(lang, "lesson.tls_record_12_gcm")
        }
        "TLS 1.2" if cipher.contains("CHACHA20_POLY1305") => {
            msg!(lang, "lesson.tls_record_12_chacha")
        }
        _ => return None,
    })
}

/// What changes when WebSockets ride on HTTP/2, with this connection's streams.
/// `tls`: the connection is TLS.
fn h2_section(lang: Lang, c: &ConnLesson, tls: bool, out: &mut String) {
    let streams: Vec<(u32, u16, bool)> = c
        .streams
        .iter()
        .filter_map(|(n, st)| {
            let (_, sum) = st.stream.as_ref()?;
            let up = sum.row().upgrade.as_ref()?;
            Some((*n, up.status, up.ok))
        })
        .collect();
    let notes = Explainer::new(lang).h2_lesson(&streams, tls);
    if notes.is_empty() {
        return;
    }
    let _ = writeln!(out, "### {}\n", msg!(lang, "lesson.h2_changes"));
    for n in notes {
        let _ = writeln!(out, "- {}", md(&n));
    }
    out.push('\n');
}

fn checklist(lang: Lang, c: &ConnLesson, out: &mut String) {
    if c.checks.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "**{}**\n\n| {} | {} | | {} |\n|---|---|:-:|---|",
        msg!(lang, "lesson.upgrade_checklist"),
        msg!(lang, "lesson.requirement"),
        msg!(lang, "lesson.seen"),
        msg!(lang, "lesson.rule_2")
    );
    for ch in &c.checks {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            md(&check_name(lang, ch.name)),
            md(&super::explain::check_seen(lang, &ch.seen)),
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
        if c.stream.is_some() {
            msg!(lang, "lesson.close_exchange_stream")
        } else {
            msg!(lang, "lesson.close_exchange")
        },
        msg!(lang, "lesson.step"),
        msg!(lang, "lesson.who"),
        msg!(lang, "lesson.close_frame_or_segment"),
        msg!(lang, "lesson.ms")
    );
    for (i, step) in c.closes.iter().enumerate() {
        let role = if i == 0 {
            msg!(lang, "lesson.role_active_close")
        } else {
            msg!(lang, "lesson.role_passive_close")
        };
        let what = match step.code {
            Some(code) => msg!(
                lang,
                "lesson.code_meaning",
                code = code,
                meaning = close_meaning(lang, code)
            ),
            None => msg!(lang, "lesson.no_code").to_string(),
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
            msg!(lang, "lesson.no_echo_other_side_never")
        );
    }
    // Then the TCP segments of the teardown, as they happened.
    for t in &c.teardown {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.3} |",
            if t.summary == "RST" {
                msg!(lang, "lesson.role_tcp_reset")
            } else {
                msg!(lang, "lesson.role_tcp_teardown")
            },
            lang.side(t.dir),
            md(&t.summary),
            t.ms
        );
    }
    out.push('\n');
}

/// The size of the connection's first HTTP request head (what a request costs).
fn request_head_bytes(c: &ConnLesson) -> Option<u64> {
    c.request
        .as_ref()
        .map(|r| super::explain::head_bytes(&[&r.method, &r.target, &r.version], &r.headers))
}

/// The framing bytes and the one overhead (bytes on the wire per payload byte), as
/// `stats` and `--compare` define them.
fn overhead_rows(
    lang: Lang,
    s: &super::ConnStats,
    framing: String,
    row: &mut impl FnMut(String, String),
) {
    row(framing, s.framing_bytes.to_string());
    row(
        msg!(lang, "lesson.overhead_bytes_wire_payload_bytes"),
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
    Some(match s.kind {
        "websocket" => msg!(lang, "lesson.kind_websocket", m = m, h = h),
        "http-polling" => msg!(
            lang,
            "lesson.kind_polling",
            n = n,
            lat = lat,
            heads = heads,
            wire = wire
        ),
        "http-long-polling" => msg!(
            lang,
            "lesson.kind_long_polling",
            n = n,
            lat = lat,
            heads = heads,
            wire = wire
        ),
        "http-streaming" => msg!(lang, "lesson.kind_streaming"),
        _ => return None,
    })
}

fn summary(lang: Lang, c: &ConnLesson, s: &super::ConnStats, out: &mut String) {
    let _ = writeln!(out, "### {}\n", msg!(lang, "lesson.summary"));
    if let Some(p) = kind_paragraph(lang, s) {
        let _ = writeln!(out, "{}\n", md(&p));
    }
    out.push_str("| | |\n|---|---|\n");
    let mut row = |k: String, v: String| {
        let _ = writeln!(out, "| {} | {} |", k, md(&v));
    };
    let ms = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| format!("{v:.3} ms"));
    let stream = c.stream.is_some();
    row(msg!(lang, "lesson.kind"), s.kind.to_string());
    if stream {
        row(
            msg!(lang, "lesson.bytes_ws_frames"),
            s.bytes.wire.to_string(),
        );
    } else {
        row(
            msg!(lang, "lesson.tcp_handshake_rtt"),
            ms(s.handshake_rtt_ms),
        );
        row(
            msg!(lang, "lesson.bytes_wire_tcp_payload"),
            s.bytes.wire.to_string(),
        );
    }
    if s.kind == "websocket" {
        if let Some(u) = &s.upgrade {
            let ok = if u.ok { "✓" } else { "✗" };
            let value = if c.h2_connect || (c.h2 && !c.upgrade_request) {
                msg!(lang, "lesson.upgrade_h2", status = u.status, ok = ok)
            } else {
                format!(
                    "{} {ok}, Accept {}",
                    u.status,
                    if u.accept_ok { "✓" } else { "✗" }
                )
            };
            row(msg!(lang, "lesson.upgrade"), value);
        }
        row(
            msg!(lang, "lesson.frames_client_server_server_client"),
            format!("{} / {}", s.frames.c2s, s.frames.s2c),
        );
        row(msg!(lang, "lesson.messages"), s.messages.to_string());
        overhead_rows(lang, s, msg!(lang, "lesson.frame_header_bytes"), &mut row);
        // The article's claim: a few bytes of frame header per message, where HTTP pays
        // a whole request head.
        if s.messages > 0 {
            let per = s.framing_bytes as f64 / s.messages as f64;
            let value = match request_head_bytes(c) {
                Some(head) => msg!(lang, "lesson.framing_vs_head", per = per : {:.1}, head = head),
                None => msg!(lang, "lesson.framing_only", per = per : {:.1}),
            };
            row(msg!(lang, "lesson.framing_per_message"), value);
        }
        row(msg!(lang, "lesson.heartbeat_interval"), ms(s.heartbeat_ms));
        row(
            msg!(lang, "lesson.heartbeat"),
            msg!(
                lang,
                "lesson.heartbeat_counts",
                pings = s.pings,
                pongs = s.pongs,
                rtt = ms(s.ping_rtt_ms)
            ),
        );
        if let Some(cl) = &s.close {
            let code = cl.code.map_or_else(|| "-".to_string(), |c| c.to_string());
            let by = match cl.initiator {
                Some(d) => lang.side(Some(d)),
                None => msg!(lang, "lesson.nobody_no_close_frame"),
            };
            let clean = if cl.clean {
                msg!(lang, "lesson.clean")
            } else {
                msg!(lang, "lesson.not_clean")
            };
            row(
                msg!(lang, "lesson.close"),
                msg!(
                    lang,
                    "lesson.close_summary",
                    code = code,
                    by = by,
                    clean = clean
                ),
            );
        }
    } else {
        row(msg!(lang, "lesson.http_requests_2"), s.requests.to_string());
        row(
            msg!(lang, "lesson.responses_carrying_data"),
            c.data_responses.to_string(),
        );
        row(
            msg!(lang, "lesson.median_request_response"),
            ms(s.http_latency_ms),
        );
        overhead_rows(lang, s, msg!(lang, "lesson.http_head_bytes"), &mut row);
        // The article's claim about polling: a request (and its head) for every answer.
        if s.requests > 0 {
            let heads = s.bytes.wire.saturating_sub(s.bytes.payload) as f64 / s.requests as f64;
            row(msg!(lang, "lesson.head_per_request"), format!("{heads:.1}"));
        }
        if c.data_responses > 0 {
            let per = s.requests as f64 / c.data_responses as f64;
            row(msg!(lang, "lesson.requests_per_data"), format!("{per:.2}"));
        }
    }
    if !stream {
        row(msg!(lang, "lesson.teardown"), s.teardown.to_string());
    }
    row(msg!(lang, "lesson.duration"), ms(Some(s.duration_ms)));
    row(msg!(lang, "lesson.violations_2"), s.violations.to_string());
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
