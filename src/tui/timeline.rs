//! The timeline panel: the selected connection as a sequence diagram.
//!
//! A client lifeline on the left, a server lifeline on the right, one arrow
//! per event in time order, grouped under phase headers, with the time since
//! the previous event in a gutter. Events without a sender (the upgrade's
//! outcome, a message, the close exchange) are notes between the lifelines;
//! a violation is a red line under the event it concerns, which also gets a
//! `⚠` mark.

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

use wsscope::analysis::{Event, EventKind, HandshakeStep, MessageKind, TeardownHow, TeardownStep};
use wsscope::types::Direction;

use wsscope::analysis::Phase;
use wsscope::output::explain::{close_meaning, violation_rule};
use wsscope::output::Lang;

use super::fmt::{clean, delta, fit, width};
use super::store::{phase_title, Conn, Store};
use super::theme::Theme;

/// What one line of the timeline shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemKind {
    /// A phase header, before event `ev`.
    Header(Phase),
    /// An event (arrow or note).
    Event,
    /// A violation, shown under the event it concerns.
    Violation,
    /// `n` events of the connection not revealed yet (replay).
    More(usize),
}

/// One line of the timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Item {
    /// What it shows.
    pub kind: ItemKind,
    /// Index into the store's events (for a header, the event it precedes).
    pub ev: usize,
    /// Where the line sorts: `ev`, except for a violation shown under the
    /// event it concerns, which sorts with that event. Lines are in order
    /// of `at`, so a line is found by binary search.
    pub at: usize,
}

impl Item {
    /// Events and violations can be selected; headers and hints cannot.
    pub fn selectable(&self) -> bool {
        matches!(self.kind, ItemKind::Event | ItemKind::Violation)
    }
}

/// Builds a connection's timeline lines event by event, so that a growing
/// timeline (live, or a replay playing) is extended rather than rebuilt.
///
/// The analyzer emits a violation when it finds it, which is before the
/// event it concerns completes (a frame's header breaks a rule before its
/// payload has arrived). The timeline shows it *under* that event: a
/// violation waits for the connection's next event, and one with no event
/// after it (found at the end, e.g. an unanswered ping) stays under the
/// event before it. While its event is not revealed yet it is shown at the
/// end (provisionally: taken off and placed again on the next update).
#[derive(Clone, Debug, Default)]
pub struct Builder {
    phase: Option<Phase>,
    pending_header: Option<Item>,
    /// Violations waiting for their event.
    pending: Vec<usize>,
    /// Items at the end of the list that are pending violations shown
    /// before their event (taken off on the next update).
    provisional: usize,
    /// How many of the connection's events have been taken.
    pub taken: usize,
}

impl Builder {
    /// Takes event `i`. With a filter (already lower-case), only events (or
    /// violations) whose label contains it, and the headers above them.
    pub fn push(
        &mut self,
        items: &mut Vec<Item>,
        store: &Store,
        i: usize,
        filter: Option<&Filter>,
    ) {
        self.taken += 1;
        let Some(rec) = store.rec(i) else {
            return;
        };
        let p = rec.phase();
        if p == Phase::Violation {
            self.pending.push(i);
            return;
        }
        if self.phase != Some(p) {
            self.pending_header = Some(Item {
                kind: ItemKind::Header(p),
                ev: i,
                at: i,
            });
            self.phase = Some(p);
        }
        let shown = matches(store, i, filter);
        let violations = std::mem::take(&mut self.pending);
        self.place(items, shown.then_some(i), &violations, shown, store, filter);
    }

    /// Pushes event `ev` (if any) and its violations (all of them when the
    /// event is shown, else those the filter matches), under the pending
    /// header when something is pushed.
    fn place(
        &mut self,
        items: &mut Vec<Item>,
        ev: Option<usize>,
        violations: &[usize],
        parent_shown: bool,
        store: &Store,
        filter: Option<&Filter>,
    ) -> usize {
        let shown: Vec<usize> = violations
            .iter()
            .copied()
            .filter(|&v| parent_shown || matches(store, v, filter))
            .collect();
        let before = items.len();
        if ev.is_some() || !shown.is_empty() {
            if let Some(h) = self.pending_header.take() {
                items.push(h);
            }
        }
        if let Some(i) = ev {
            items.push(Item {
                kind: ItemKind::Event,
                ev: i,
                at: i,
            });
        }
        items.extend(shown.into_iter().map(|v| Item {
            kind: ItemKind::Violation,
            ev: v,
            at: ev.unwrap_or(v),
        }));
        items.len() - before
    }

    /// Brings `items` up to date with `conn`'s revealed events: takes the
    /// ones not taken yet and puts the "more events" line at the end.
    /// Returns false (and does nothing) when the revealed events shrank:
    /// the caller starts over with a new builder.
    pub fn update(
        &mut self,
        items: &mut Vec<Item>,
        store: &Store,
        conn: &Conn,
        filter: Option<&Filter>,
    ) -> bool {
        let revealed = store.revealed_of(conn);
        if revealed.len() < self.taken {
            return false;
        }
        if items
            .last()
            .is_some_and(|it| matches!(it.kind, ItemKind::More(_)))
        {
            items.pop();
        }
        items.truncate(items.len().saturating_sub(self.provisional));
        self.provisional = 0;
        for &i in revealed.get(self.taken..).unwrap_or(&[]) {
            self.push(items, store, i, filter);
        }
        if !self.pending.is_empty() {
            // Shown at the end until their event comes (or for good, when
            // none does: then they are under the event before them).
            let pending = std::mem::take(&mut self.pending);
            self.provisional = self.place(items, None, &pending, filter.is_none(), store, filter);
            self.pending = pending;
        }
        let hidden = conn.events.len().saturating_sub(revealed.len());
        if hidden > 0 {
            let last = conn.events.last().copied().unwrap_or(0);
            items.push(Item {
                kind: ItemKind::More(hidden),
                ev: last,
                at: last,
            });
        }
        true
    }
}

/// A filter on the timeline's lines: lower-case text, matched against the
/// labels in the language they are shown in.
#[derive(Clone, Copy, Debug)]
pub struct Filter<'a> {
    /// The text, lower case.
    pub text: &'a str,
    /// The language of the labels.
    pub lang: Lang,
}

fn matches(store: &Store, i: usize, filter: Option<&Filter>) -> bool {
    match (filter, store.event(i)) {
        (None, _) => true,
        (Some(f), Some(ev)) => label(ev, f.lang).to_lowercase().contains(f.text),
        (Some(_), None) => false,
    }
}

/// The event a violation concerns: the connection's next event (a
/// violation is emitted before the event it is found in completes), else,
/// for one found at the end, the event before it. `v` indexes the store's
/// events; `None` when `v` is not a violation of `conn`.
pub fn violation_owner(store: &Store, conn: &Conn, v: usize) -> Option<usize> {
    let pos = conn.events.binary_search(&v).ok()?;
    if !store.is_violation(v) {
        return None;
    }
    let not_violation = |j: &&usize| store.rec(**j).is_some_and(|r| !r.is_violation());
    conn.events
        .get(pos + 1..)
        .unwrap_or(&[])
        .iter()
        .find(not_violation)
        .or_else(|| {
            conn.events
                .get(..pos)
                .unwrap_or(&[])
                .iter()
                .rev()
                .find(not_violation)
        })
        .copied()
}

/// The violations that concern event `ev` of `conn` (see [`violation_owner`]),
/// among the first `revealed` events.
pub fn violations_of(store: &Store, conn: &Conn, ev: usize) -> Vec<usize> {
    let Ok(pos) = conn.events.binary_search(&ev) else {
        return Vec::new();
    };
    let mut out: Vec<usize> = conn
        .events
        .get(..pos)
        .unwrap_or(&[])
        .iter()
        .rev()
        .take_while(|&&j| store.is_violation(j))
        .copied()
        .collect();
    out.reverse();
    // Trailing violations (no event after them) belong to the last event.
    let after: Vec<usize> = conn
        .events
        .get(pos + 1..)
        .unwrap_or(&[])
        .iter()
        .take_while(|&&j| store.is_violation(j))
        .copied()
        .collect();
    if after
        .last()
        .is_some_and(|&l| conn.events.last() == Some(&l))
    {
        out.extend(after);
    }
    out.retain(|&j| j < store.revealed);
    out
}

/// The lines of `conn`'s timeline over the revealed events (see [`Builder`]);
/// the tests check the incremental builder against it.
#[cfg(test)]
pub fn build(store: &Store, conn: &Conn, filter: Option<&Filter>) -> Vec<Item> {
    let mut items = Vec::new();
    Builder::default().update(&mut items, store, conn, filter);
    items
}

fn frame_preview(opcode: u8, bytes: &[u8], len: u64) -> String {
    if bytes.is_empty() {
        return String::new();
    }
    let cut = (bytes.len() as u64) < len;
    let textual =
        matches!(opcode, 1 | 9 | 10) || (opcode == 0 && std::str::from_utf8(bytes).is_ok());
    if textual && std::str::from_utf8(bytes).is_ok() || opcode == 1 {
        let mut s = wsscope::text::preview_text(bytes, 24);
        if cut && !s.ends_with('…') {
            s.push('…');
        }
        format!(" \"{s}\"")
    } else {
        let shown = bytes.get(..8).unwrap_or(bytes);
        let more = if cut || bytes.len() > 8 { "…" } else { "" };
        format!(" 0x{}{more}", wsscope::text::hex(shown))
    }
}

/// "client" / "客户端" for the side `d`.
pub fn dir_word(d: Option<Direction>, lang: Lang) -> String {
    match d {
        Some(Direction::C2S) => tr!(lang, "tui.side.client"),
        Some(Direction::S2C) => tr!(lang, "tui.side.server"),
        None => tr!(lang, "tui.side.nobody"),
    }
}

fn tick(b: bool) -> &'static str {
    if b {
        "✓"
    } else {
        "✗"
    }
}

/// The one-line description of an event (already safe for a terminal).
pub fn label(ev: &Event, lang: Lang) -> String {
    label_in(ev, false, lang)
}

/// How far back [`in_compressed_message`] looks for a message's first frame.
const MAX_FRAGMENT_LOOKBACK: usize = 256;

/// True when event `i` is a continuation frame of a compressed message:
/// only the message's first frame carries RSV1 (RFC 7692 §6), so the
/// continuations' bytes are deflate output too.
fn in_compressed_message(store: &Store, conn: &Conn, i: usize) -> bool {
    let Some(r) = store.rec(i).filter(|r| r.opcode() == Some(0)) else {
        return false;
    };
    let dir = r.dir();
    let pos = conn.events.partition_point(|&j| j < i);
    conn.events
        .get(..pos)
        .unwrap_or(&[])
        .iter()
        .rev()
        .take(MAX_FRAGMENT_LOOKBACK)
        .filter_map(|&j| store.rec(j))
        .filter(|r| r.dir() == dir)
        .find_map(|r| match r.opcode() {
            Some(1 | 2) => Some(r.rsv() & 4 != 0),
            _ => None,
        })
        .unwrap_or(false)
}

/// [`label`], told whether a continuation frame belongs to a compressed
/// message (whose bytes then say nothing and are not previewed).
fn label_in(ev: &Event, compressed_continuation: bool, lang: Lang) -> String {
    let s = match &ev.kind {
        EventKind::ConnOpen {
            client,
            server,
            mid_stream,
        } => {
            let mut s = tr!(
                lang,
                "tui.label.conn",
                conn = ev.conn,
                client = client,
                server = server
            );
            if *mid_stream {
                s.push_str(&tr!(lang, "tui.label.mid_stream"));
            }
            s
        }
        EventKind::TcpHandshake {
            step,
            rtt_ms,
            retransmission,
        } => {
            let mut s = match step {
                HandshakeStep::Syn => "SYN".to_string(),
                HandshakeStep::SynAck => "SYN-ACK".to_string(),
                HandshakeStep::Ack => "ACK".to_string(),
            };
            if let Some(rtt) = rtt_ms {
                s.push_str(&format!("  RTT {rtt:.2} ms"));
            }
            if *retransmission {
                s.push_str(&tr!(lang, "tui.label.retransmitted"));
            }
            s
        }
        EventKind::HttpRequest {
            method,
            target,
            version,
            ..
        } => format!("{method} {target} {version}"),
        EventKind::HttpResponse { status, reason, .. } => format!("{status} {reason}"),
        EventKind::WsHandshake {
            ok,
            accept_ok,
            extensions,
            subprotocol,
            status,
            reason,
            transport,
            ..
        } => {
            if *ok {
                // Over HTTP/2 (RFC 8441) there is no Key and no Accept.
                let mut s = match ev.stream {
                    Some(stream) if *transport == "h2" => {
                        tr!(lang, "tui.label.ws_open_h2", stream = stream)
                    }
                    _ => tr!(lang, "tui.label.ws_open", accept = tick(*accept_ok)),
                };
                if !extensions.is_empty() {
                    s.push_str(&format!(", ext {}", extensions.join("; ")));
                }
                if let Some(p) = subprotocol {
                    s.push_str(&tr!(lang, "tui.label.subprotocol", p = p));
                }
                s
            } else {
                match reason {
                    // The analyzer's reason is English; Chinese names the status.
                    Some(why) if lang == Lang::En => {
                        tr!(lang, "tui.label.upgrade_failed", why = why)
                    }
                    _ => tr!(lang, "tui.label.upgrade_failed_status", status = status),
                }
            }
        }
        EventKind::WsFrame {
            fin,
            rsv,
            opcode,
            opname,
            masked,
            len,
            close_code,
            close_reason,
            payload_hex,
            rtt_ms,
            ..
        } => {
            let mut s = format!(
                "{opname} FIN={} MASK={} len={len}",
                u8::from(*fin),
                u8::from(*masked)
            );
            if *rsv != 0 {
                s.push_str(&format!(" RSV={rsv:03b}"));
            }
            if (*rsv & 4 != 0 && matches!(opcode, 1 | 2))
                || (compressed_continuation && *opcode == 0)
            {
                // The payload is deflated: its bytes say nothing; the
                // message line below shows the data.
                s.push_str(&tr!(lang, "tui.label.compressed"));
            } else if *opcode == 8 {
                match close_code {
                    Some(Some(c)) => s.push_str(&tr!(lang, "tui.label.code", code = c)),
                    Some(None) => s.push_str(&tr!(lang, "tui.label.no_code")),
                    None => {}
                }
                if let Some(r) = close_reason.as_deref().filter(|r| !r.is_empty()) {
                    s.push_str(&format!(" \"{r}\""));
                }
            } else {
                s.push_str(&frame_preview(*opcode, payload_hex.bytes(), *len));
            }
            if let Some(rtt) = rtt_ms {
                s.push_str(&format!("  RTT {rtt:.2} ms"));
            }
            s
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
            let k = kind.as_str();
            // The preview first (what a person wants to read), then the
            // sizes; a single frame is the usual case and goes unsaid.
            let preview = match kind {
                MessageKind::Text => format!("\"{}\"", fit_preview(&preview.render(), 24)),
                MessageKind::Binary => format!("0x{}", fit_preview(&preview.render(), 16)),
            };
            let mut sizes = format!("{len} B");
            if *compressed {
                sizes.push_str(&tr!(lang, "tui.label.on_the_wire", n = wire_len));
            }
            if *frames != 1 {
                sizes.push_str(&tr!(lang, "tui.label.n_frames", n = frames));
            }
            tr!(
                lang,
                "tui.label.message",
                kind = k,
                preview = preview,
                sizes = sizes
            )
        }
        EventKind::WsClose {
            initiator,
            code,
            reason,
            echoed,
            clean,
            ..
        } => {
            let code = match code {
                Some(c) => {
                    let meaning = close_meaning(lang, *c);
                    let short = meaning.split([':', '：']).next().unwrap_or(&meaning);
                    format!("{c} {short}")
                }
                None => tr!(lang, "tui.label.close_no_code"),
            };
            let reason = if reason.is_empty() {
                String::new()
            } else {
                format!(" \"{reason}\"")
            };
            tr!(
                lang,
                "tui.label.close",
                side = dir_word(*initiator, lang),
                code = code,
                reason = reason,
                echoed = tick(*echoed),
                clean = tick(*clean)
            )
        }
        EventKind::TcpTeardown { how, step } => match (how, step) {
            (TeardownHow::Rst, _) => "RST".into(),
            (TeardownHow::Fin, Some(TeardownStep::Ack)) => tr!(lang, "tui.label.ack_of_fin"),
            (TeardownHow::Fin, _) => "FIN".into(),
        },
        EventKind::Violation { code, message, rfc } => {
            // The analyzer's message is English; Chinese gives the rule instead.
            let text = match lang {
                Lang::En => message.clone(),
                Lang::Zh => violation_rule(lang, code),
            };
            format!("⚠ {code}: {text} ({rfc})")
        }
        EventKind::TlsHandshake { .. }
        | EventKind::TlsDecrypt { .. }
        | EventKind::TlsAlert { .. } => {
            let mut s = String::new();
            wsscope::output::text::tls_line(&ev.kind, &mut s);
            s
        }
        EventKind::H2Settings { .. }
        | EventKind::H2RstStream { .. }
        | EventKind::H2Goaway { .. } => {
            let mut s = String::new();
            wsscope::output::text::h2_line(&ev.kind, &mut s);
            s
        }
        EventKind::Gap { bytes } => {
            tr!(
                lang,
                "tui.label.gap",
                n = bytes,
                side = dir_word(ev.dir, lang)
            )
        }
    };
    clean(&s)
}

/// A preview cut to `max` columns (with `…`), unless it is cut already.
fn fit_preview(p: &str, max: usize) -> String {
    if p.ends_with('…') && width(p) <= max + 1 {
        return p.to_string();
    }
    fit(p, max)
}

/// Events drawn as arrows (they have a sender and are one packet's worth).
pub fn is_arrow(ev: &Event) -> bool {
    ev.dir.is_some()
        && matches!(
            ev.kind,
            EventKind::TcpHandshake { .. }
                | EventKind::HttpRequest { .. }
                | EventKind::HttpResponse { .. }
                | EventKind::WsFrame { .. }
                | EventKind::TcpTeardown { .. }
        )
}

/// Columns of the diagram for an inner width `w`.
#[derive(Clone, Copy, Debug)]
struct Geometry {
    gutter: usize,
    client: usize,
    server: usize,
}

impl Geometry {
    fn new(w: usize) -> Geometry {
        let gutter = if w >= 40 { 9 } else { 0 };
        Geometry {
            gutter,
            client: gutter,
            server: w.saturating_sub(3).max(gutter + 4),
        }
    }
    fn span(&self) -> usize {
        self.server.saturating_sub(self.client + 1)
    }
}

/// What the timeline panel needs to draw itself.
pub struct View<'a> {
    /// The events.
    pub store: &'a Store,
    /// The selected connection.
    pub conn: Option<&'a Conn>,
    /// Its lines.
    pub items: &'a [Item],
    /// The selected line.
    pub selected: Option<usize>,
    /// The keyboard is here.
    pub focused: bool,
    /// Shown when there is nothing to draw.
    pub empty_hint: &'a str,
    /// The language of the labels.
    pub lang: Lang,
}

/// The panel's title line for a connection.
fn title(conn: Option<&Conn>, lang: Lang) -> String {
    match conn {
        Some(c) => tr!(lang, "tui.timeline.title_conn", conn = c.number()),
        None => tr!(lang, "tui.timeline.title"),
    }
}

/// Draws the panel; `scroll` (first line shown) is moved to keep the
/// selection in view.
pub fn render(f: &mut Frame, area: Rect, v: &View, scroll: &mut usize, theme: &Theme) {
    let block = Block::bordered()
        .title(Span::styled(title(v.conn, v.lang), theme.title))
        .border_style(if v.focused {
            theme.border_focus
        } else {
            theme.border
        });
    let inner = block.inner(area);
    f.render_widget(block, area);
    if inner.height == 0 || inner.width == 0 {
        return;
    }
    let w = inner.width as usize;
    let g = Geometry::new(w);
    let mut lines: Vec<Line> = Vec::new();
    if let Some(conn) = v.conn {
        lines.push(column_header(conn, g, w, v.lang, theme));
    }
    let body_h = (inner.height as usize).saturating_sub(lines.len());
    if v.items.is_empty() {
        lines.push(Line::styled(fit(v.empty_hint, w), theme.dim));
    } else if body_h > 0 {
        if let Some(sel) = v.selected {
            // The selection's violations (the lines just under it) come
            // into view with it when there is room.
            let mut last = sel;
            while v
                .items
                .get(last + 1)
                .is_some_and(|n| n.kind == ItemKind::Violation)
            {
                last += 1;
            }
            if sel < *scroll {
                *scroll = sel;
            } else if last >= *scroll + body_h {
                *scroll = (last + 1 - body_h).min(sel);
            }
        }
        *scroll = (*scroll).min(v.items.len().saturating_sub(body_h));
        let end = (*scroll + body_h).min(v.items.len());
        for idx in *scroll..end {
            let Some(item) = v.items.get(idx) else { break };
            let flagged = v
                .items
                .get(idx + 1)
                .is_some_and(|n| n.kind == ItemKind::Violation)
                && item.kind == ItemKind::Event;
            let mut line = row(v.store, v.conn, item, g, w, flagged, v.lang, theme);
            if v.selected == Some(idx) {
                line = line.patch_style(theme.selected);
            }
            lines.push(line);
        }
    }
    f.render_widget(Paragraph::new(lines), inner);
}

fn column_header<'a>(conn: &Conn, g: Geometry, w: usize, lang: Lang, theme: &Theme) -> Line<'a> {
    let room = (g.server + 1).saturating_sub(g.client);
    let (mut left, mut right) = (
        format!("{} {}", tr!(lang, "tui.side.client"), clean(&conn.client)),
        format!("{} {}", tr!(lang, "tui.side.server"), clean(&conn.server)),
    );
    if width(&left) + width(&right) + 2 > room {
        // Narrow: the addresses whole rather than the words and cut addresses.
        left = clean(&conn.client);
        right = clean(&conn.server);
    }
    let half = room / 2;
    let left = fit(&left, half.saturating_sub(1));
    let right = fit(&right, room.saturating_sub(width(&left) + 1));
    let gap = room.saturating_sub(width(&left) + width(&right));
    let mut s = " ".repeat(g.client);
    s.push_str(&left);
    s.push_str(&" ".repeat(gap));
    s.push_str(&right);
    Line::styled(fit(&s, w), theme.title)
}

/// The time since the previous event of the connection.
fn gutter(store: &Store, conn: Option<&Conn>, ev: usize, g: Geometry) -> String {
    if g.gutter == 0 {
        return String::new();
    }
    // The previous event that is not a violation: a violation is shown
    // under its event, after it.
    let prev = conn.and_then(|c| {
        let pos = c.events.partition_point(|&i| i < ev);
        c.events
            .get(..pos)
            .unwrap_or(&[])
            .iter()
            .rev()
            .find(|&&i| store.rec(i).is_some_and(|r| !r.is_violation()))
    });
    let text = match (store.ts(ev), prev.and_then(|&p| store.ts(p))) {
        (Some(e), Some(p)) => delta(e.saturating_sub(p)),
        (Some(e), None) => match store.origin() {
            Some(o) => format!("@{}", super::fmt::clock(e.saturating_sub(o))),
            None => String::new(),
        },
        _ => String::new(),
    };
    format!("{:>w$} ", fit(&text, g.gutter - 1), w = g.gutter - 1)
}

#[allow(clippy::too_many_arguments)]
fn row<'a>(
    store: &Store,
    conn: Option<&Conn>,
    item: &Item,
    g: Geometry,
    w: usize,
    flagged: bool,
    lang: Lang,
    theme: &Theme,
) -> Line<'a> {
    let lifeline = Span::styled("│", theme.dim);
    let blank_gutter = Span::raw(" ".repeat(g.gutter));
    match item.kind {
        ItemKind::Header(p) => {
            let kind = conn.map_or("tcp", |c| c.stats.kind);
            let t = format!("── {} ", phase_title(p, kind, lang));
            let fill = w.saturating_sub(width(&t));
            Line::styled(format!("{t}{}", "─".repeat(fill)), theme.phase)
        }
        ItemKind::More(n) => {
            let t = format!(
                "{}⋯ {}",
                " ".repeat(g.gutter),
                tr!(lang, "tui.timeline.more", n = n)
            );
            Line::styled(fit(&t, w), theme.dim)
        }
        ItemKind::Violation => {
            let text = store
                .event(item.ev)
                .map(|e| label(e, lang))
                .unwrap_or_default();
            let span = g.span();
            Line::from(vec![
                blank_gutter,
                lifeline.clone(),
                Span::styled(pad(&format!(" {text}"), span), theme.bad),
                lifeline,
            ])
        }
        ItemKind::Event => {
            let Some(ev) = store.event(item.ev) else {
                return Line::raw("");
            };
            let text = match conn {
                Some(c) => label_in(ev, in_compressed_message(store, c, item.ev), lang),
                None => label(ev, lang),
            };
            // On a connection's own row, a line of one of its HTTP/2 streams
            // says which (the stream's row shows only its own).
            let text = match (conn, ev.stream) {
                (Some(c), Some(s)) if c.stream.is_none() => format!("s{s} {text}"),
                _ => text,
            };
            let span = g.span();
            let mark = if flagged {
                Span::styled(" ⚠", theme.bad)
            } else {
                Span::raw("  ")
            };
            if is_arrow(ev) {
                let (arrow, style) = match ev.dir {
                    Some(Direction::S2C) => (arrow_s2c(&text, span), theme.s2c),
                    _ => (arrow_c2s(&text, span), theme.c2s),
                };
                Line::from(vec![
                    Span::styled(gutter(store, conn, item.ev, g), theme.dim),
                    lifeline.clone(),
                    Span::styled(arrow, style),
                    lifeline,
                    mark,
                ])
            } else {
                let body = match (&ev.kind, ev.dir) {
                    (EventKind::WsMessage { .. }, Some(Direction::S2C)) => {
                        let t = fit(&text, span.saturating_sub(3));
                        format!("{}{t}  ", " ".repeat(span.saturating_sub(width(&t) + 2)))
                    }
                    (EventKind::WsMessage { .. }, _) => pad(&format!("  {text}"), span),
                    _ => pad(&format!(" {text}"), span),
                };
                let style = match &ev.kind {
                    EventKind::Gap { .. } => theme.warn,
                    EventKind::WsHandshake { ok: false, .. } => theme.bad,
                    EventKind::WsClose { clean: false, .. } => theme.warn,
                    _ => theme.note,
                };
                Line::from(vec![
                    blank_gutter,
                    lifeline.clone(),
                    Span::styled(body, style),
                    lifeline,
                    mark,
                ])
            }
        }
    }
}

fn pad(s: &str, w: usize) -> String {
    super::fmt::pad(s, w)
}

/// `─ label ─────▶` in exactly `span` columns.
fn arrow_c2s(label: &str, span: usize) -> String {
    let l = fit(label, span.saturating_sub(4));
    if l.is_empty() {
        return format!(
            "{}{}",
            "─".repeat(span.saturating_sub(1)),
            "▶".repeat(span.min(1))
        );
    }
    let body = format!("─ {l} ");
    let fill = span.saturating_sub(width(&body) + 1);
    format!("{body}{}▶", "─".repeat(fill))
}

/// `◀───── label ─` in exactly `span` columns.
fn arrow_s2c(label: &str, span: usize) -> String {
    let l = fit(label, span.saturating_sub(4));
    if l.is_empty() {
        return format!(
            "{}{}",
            "◀".repeat(span.min(1)),
            "─".repeat(span.saturating_sub(1))
        );
    }
    let body = format!(" {l} ─");
    let fill = span.saturating_sub(width(&body) + 1);
    format!("◀{}{body}", "─".repeat(fill))
}

/// The style of an item's text, for widgets that list items elsewhere.
pub fn style_of(ev: &Event, theme: &Theme) -> Style {
    match ev.dir {
        Some(Direction::C2S) => theme.c2s,
        Some(Direction::S2C) => theme.s2c,
        None => theme.note,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrows_fill_their_span_exactly() {
        for span in [3usize, 4, 10, 40] {
            assert_eq!(
                width(&arrow_c2s("GET /chat HTTP/1.1", span)),
                span,
                "{span}"
            );
            assert_eq!(
                width(&arrow_s2c("101 Switching Protocols", span)),
                span,
                "{span}"
            );
        }
        assert_eq!(arrow_c2s("SYN", 12), "─ SYN ─────▶");
        assert_eq!(arrow_s2c("SYN-ACK", 14), "◀─── SYN-ACK ─");
    }

    #[test]
    fn frame_previews() {
        assert_eq!(frame_preview(1, b"Hello", 5), " \"Hello\"");
        assert_eq!(frame_preview(1, b"Hello", 500), " \"Hello…\"");
        assert_eq!(frame_preview(2, &[1, 2], 2), " 0x0102");
        assert_eq!(
            frame_preview(2, &[0, 1, 2, 3, 4, 5, 6, 7, 8], 9),
            " 0x0001020304050607…"
        );
        assert_eq!(frame_preview(1, b"\x1b[2j", 4), " \"\\x1b[2j\"");
        assert_eq!(frame_preview(9, b"", 0), "");
    }
}
