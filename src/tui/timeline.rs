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

use super::fmt::{clean, delta, fit, unhex, width};
use super::store::{phase_of, Conn, Phase, Store};
use super::theme::Theme;
use super::upgrade::close_code_meaning;

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
    pub fn push(&mut self, items: &mut Vec<Item>, store: &Store, i: usize, filter: Option<&str>) {
        self.taken += 1;
        let Some(ev) = store.events.get(i) else {
            return;
        };
        let Some(p) = phase_of(ev, self.phase) else {
            self.pending.push(i);
            return;
        };
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
        filter: Option<&str>,
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
        filter: Option<&str>,
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

fn is_violation(e: &Event) -> bool {
    matches!(e.kind, EventKind::Violation { .. })
}

fn matches(store: &Store, i: usize, filter: Option<&str>) -> bool {
    match (filter, store.events.get(i)) {
        (None, _) => true,
        (Some(f), Some(ev)) => label(ev).to_lowercase().contains(f),
        (Some(_), None) => false,
    }
}

/// The event a violation concerns: the connection's next event (a
/// violation is emitted before the event it is found in completes), else,
/// for one found at the end, the event before it. `v` indexes the store's
/// events; `None` when `v` is not a violation of `conn`.
pub fn violation_owner(store: &Store, conn: &Conn, v: usize) -> Option<usize> {
    let pos = conn.events.binary_search(&v).ok()?;
    if !store.events.get(v).is_some_and(is_violation) {
        return None;
    }
    let not_violation = |j: &&usize| store.events.get(**j).is_some_and(|e| !is_violation(e));
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
        .take_while(|&&j| store.events.get(j).is_some_and(is_violation))
        .copied()
        .collect();
    out.reverse();
    // Trailing violations (no event after them) belong to the last event.
    let after: Vec<usize> = conn
        .events
        .get(pos + 1..)
        .unwrap_or(&[])
        .iter()
        .take_while(|&&j| store.events.get(j).is_some_and(is_violation))
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
pub fn build(store: &Store, conn: &Conn, filter: Option<&str>) -> Vec<Item> {
    let mut items = Vec::new();
    Builder::default().update(&mut items, store, conn, filter);
    items
}

fn frame_preview(opcode: u8, payload_hex: &str, len: u64) -> String {
    let bytes = unhex(payload_hex);
    if bytes.is_empty() {
        return String::new();
    }
    let cut = (bytes.len() as u64) < len;
    let textual =
        matches!(opcode, 1 | 9 | 10) || (opcode == 0 && std::str::from_utf8(&bytes).is_ok());
    if textual && std::str::from_utf8(&bytes).is_ok() || opcode == 1 {
        let mut s = wsscope::text::preview_text(&bytes, 24);
        if cut && !s.ends_with('…') {
            s.push('…');
        }
        format!(" \"{s}\"")
    } else {
        let shown = bytes.get(..8).unwrap_or(&bytes);
        let more = if cut || bytes.len() > 8 { "…" } else { "" };
        format!(" 0x{}{more}", wsscope::text::hex(shown))
    }
}

fn dir_word(d: Option<Direction>) -> &'static str {
    match d {
        Some(Direction::C2S) => "client",
        Some(Direction::S2C) => "server",
        None => "nobody",
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
pub fn label(ev: &Event) -> String {
    label_in(ev, false)
}

/// How far back [`in_compressed_message`] looks for a message's first frame.
const MAX_FRAGMENT_LOOKBACK: usize = 256;

/// True when event `i` is a continuation frame of a compressed message:
/// only the message's first frame carries RSV1 (RFC 7692 §6), so the
/// continuations' bytes are deflate output too.
fn in_compressed_message(store: &Store, conn: &Conn, i: usize) -> bool {
    let Some(Event {
        kind: EventKind::WsFrame { opcode: 0, .. },
        dir,
        ..
    }) = store.events.get(i)
    else {
        return false;
    };
    let pos = conn.events.partition_point(|&j| j < i);
    conn.events
        .get(..pos)
        .unwrap_or(&[])
        .iter()
        .rev()
        .take(MAX_FRAGMENT_LOOKBACK)
        .filter_map(|&j| store.events.get(j))
        .filter(|e| e.dir == *dir)
        .find_map(|e| match e.kind {
            EventKind::WsFrame {
                opcode: 1 | 2, rsv, ..
            } => Some(rsv & 4 != 0),
            _ => None,
        })
        .unwrap_or(false)
}

/// [`label`], told whether a continuation frame belongs to a compressed
/// message (whose bytes then say nothing and are not previewed).
fn label_in(ev: &Event, compressed_continuation: bool) -> String {
    let s = match &ev.kind {
        EventKind::ConnOpen {
            client,
            server,
            mid_stream,
        } => {
            let mid = if *mid_stream {
                " (capture began mid-stream)"
            } else {
                ""
            };
            format!("connection #{} {client} → {server}{mid}", ev.conn)
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
                s.push_str(&format!("  rtt {rtt:.2} ms"));
            }
            if *retransmission {
                s.push_str(" (retransmitted)");
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
            ..
        } => {
            if *ok {
                let mut s = format!("✓ WebSocket open, Accept {}", tick(*accept_ok));
                if !extensions.is_empty() {
                    s.push_str(&format!(", ext {}", extensions.join("; ")));
                }
                if let Some(p) = subprotocol {
                    s.push_str(&format!(", protocol {p}"));
                }
                s
            } else {
                let why = reason.clone().unwrap_or_else(|| format!("status {status}"));
                format!("✗ upgrade failed: {why}")
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
                s.push_str(" (compressed)");
            } else if *opcode == 8 {
                match close_code {
                    Some(Some(c)) => s.push_str(&format!(" code {c}")),
                    Some(None) => s.push_str(" (no code)"),
                    None => {}
                }
                if let Some(r) = close_reason.as_deref().filter(|r| !r.is_empty()) {
                    s.push_str(&format!(" \"{r}\""));
                }
            } else {
                s.push_str(&frame_preview(*opcode, payload_hex, *len));
            }
            if let Some(rtt) = rtt_ms {
                s.push_str(&format!("  rtt {rtt:.2} ms"));
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
                MessageKind::Text => format!("\"{}\"", fit_preview(preview, 24)),
                MessageKind::Binary => format!("0x{}", fit_preview(preview, 16)),
            };
            let mut sizes = format!("{len} B");
            if *compressed {
                sizes.push_str(&format!(", {wire_len} B on the wire"));
            }
            if *frames != 1 {
                sizes.push_str(&format!(", {frames} frames"));
            }
            format!("⤷ {k} message {preview} ({sizes})")
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
                    let meaning = close_code_meaning(*c);
                    let short = meaning.split(':').next().unwrap_or(meaning);
                    format!("{c} {short}")
                }
                None => "no code".into(),
            };
            let reason = if reason.is_empty() {
                String::new()
            } else {
                format!(" \"{reason}\"")
            };
            format!(
                "close by {}: {code}{reason}, echoed {} clean {}",
                dir_word(*initiator),
                tick(*echoed),
                tick(*clean)
            )
        }
        EventKind::TcpTeardown { how, step } => match (how, step) {
            (TeardownHow::Rst, _) => "RST".into(),
            (TeardownHow::Fin, Some(TeardownStep::Ack)) => "ACK of FIN".into(),
            (TeardownHow::Fin, _) => "FIN".into(),
        },
        EventKind::Violation { code, message, rfc } => format!("⚠ {code}: {message} ({rfc})"),
        EventKind::TlsHandshake { .. }
        | EventKind::TlsDecrypt { .. }
        | EventKind::TlsAlert { .. } => {
            let mut s = String::new();
            wsscope::output::text::tls_line(&ev.kind, &mut s);
            s
        }
        EventKind::Gap { bytes } => {
            format!(
                "⚠ gap: {bytes} B missing from the {} stream",
                dir_word(ev.dir)
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
}

/// The panel's title line for a connection.
fn title(conn: Option<&Conn>) -> String {
    match conn {
        Some(c) => format!(" Timeline #{} ", c.id),
        None => " Timeline ".into(),
    }
}

/// Draws the panel; `scroll` (first line shown) is moved to keep the
/// selection in view.
pub fn render(f: &mut Frame, area: Rect, v: &View, scroll: &mut usize, theme: &Theme) {
    let block = Block::bordered()
        .title(Span::styled(title(v.conn), theme.title))
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
        lines.push(column_header(conn, g, w, theme));
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
            let mut line = row(v.store, v.conn, item, g, w, flagged, theme);
            if v.selected == Some(idx) {
                line = line.patch_style(theme.selected);
            }
            lines.push(line);
        }
    }
    f.render_widget(Paragraph::new(lines), inner);
}

fn column_header<'a>(conn: &Conn, g: Geometry, w: usize, theme: &Theme) -> Line<'a> {
    let room = (g.server + 1).saturating_sub(g.client);
    let (mut left, mut right) = (
        format!("client {}", clean(&conn.client)),
        format!("server {}", clean(&conn.server)),
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
            .find(|&&i| store.events.get(i).is_some_and(|e| !is_violation(e)))
    });
    let text = match (
        store.events.get(ev),
        prev.and_then(|&p| store.events.get(p)),
    ) {
        (Some(e), Some(p)) => delta(e.ts.0.saturating_sub(p.ts.0)),
        (Some(e), None) => match store.origin() {
            Some(o) => format!("@{}", super::fmt::clock(e.ts.0.saturating_sub(o))),
            None => String::new(),
        },
        _ => String::new(),
    };
    format!("{:>w$} ", fit(&text, g.gutter - 1), w = g.gutter - 1)
}

fn row<'a>(
    store: &Store,
    conn: Option<&Conn>,
    item: &Item,
    g: Geometry,
    w: usize,
    flagged: bool,
    theme: &Theme,
) -> Line<'a> {
    let lifeline = Span::styled("│", theme.dim);
    let blank_gutter = Span::raw(" ".repeat(g.gutter));
    match item.kind {
        ItemKind::Header(p) => {
            let t = format!("── {} ", p.title());
            let fill = w.saturating_sub(width(&t));
            Line::styled(format!("{t}{}", "─".repeat(fill)), theme.phase)
        }
        ItemKind::More(n) => {
            let t = format!(
                "{}⋯ {n} more event{} (→ step, space play, End all)",
                " ".repeat(g.gutter),
                if n == 1 { "" } else { "s" }
            );
            Line::styled(fit(&t, w), theme.dim)
        }
        ItemKind::Violation => {
            let text = store.events.get(item.ev).map(label).unwrap_or_default();
            let span = g.span();
            Line::from(vec![
                blank_gutter,
                lifeline.clone(),
                Span::styled(pad(&format!(" {text}"), span), theme.bad),
                lifeline,
            ])
        }
        ItemKind::Event => {
            let Some(ev) = store.events.get(item.ev) else {
                return Line::raw("");
            };
            let text = match conn {
                Some(c) => label_in(ev, in_compressed_message(store, c, item.ev)),
                None => label(ev),
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
        assert_eq!(frame_preview(1, "48656c6c6f", 5), " \"Hello\"");
        assert_eq!(frame_preview(1, "48656c6c6f", 500), " \"Hello…\"");
        assert_eq!(frame_preview(2, "0102", 2), " 0x0102");
        assert_eq!(
            frame_preview(2, "000102030405060708", 9),
            " 0x0001020304050607…"
        );
        assert_eq!(frame_preview(1, "1b5b326a", 4), " \"\\x1b[2j\"");
        assert_eq!(frame_preview(9, "", 0), "");
    }
}
