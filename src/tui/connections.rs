//! The connections panel: one row per TCP connection, in order of first
//! packet: `client → server`, the current phase, and badges (upgrade ✓/✗,
//! frames, messages, pings, close code, violations). Under an HTTP/2
//! connection, one row per WebSocket over it (`└ #0/s1`), with that
//! WebSocket's own phase and badges.

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

use wsscope::output::Lang;

use super::fmt::{clean, fit};
use super::store::{phase_title, Conn};
use super::theme::Theme;

/// The badges of a connection, each with its style: what its revealed
/// events show, with the numbers of its [`wsscope::analysis::Summary`].
pub fn badges(c: &Conn, lang: Lang, theme: &Theme) -> Vec<(String, Style)> {
    let s = &c.stats;
    let p = &c.progress;
    let mut out = Vec::new();
    // Only what the revealed events show: a replay does not tell the
    // upgrade's outcome before its response is on screen.
    match (&s.upgrade, p.upgrade_asked) {
        (Some(u), _) if u.ok => out.push(("WS✓".to_string(), theme.ok)),
        (Some(u), _) => {
            let status = if u.status != 101 && u.status != 0 {
                format!(" {}", u.status)
            } else {
                String::new()
            };
            out.push((format!("WS✗{status}"), theme.bad))
        }
        // The response is on screen, its verdict (the next step) not yet.
        (None, true) => match p.upgrade_status {
            Some(st) => out.push((tr!(lang, "tui.badge.got", status = st), theme.warn)),
            None => out.push((tr!(lang, "tui.badge.awaiting_101"), theme.warn)),
        },
        (None, false) => {}
    }
    // Most telling first: a narrow row keeps these and drops the counts.
    if s.violations > 0 {
        out.push((format!("⚠{}", s.violations), theme.bad));
    }
    if p.gaps > 0 {
        out.push((tr!(lang, "tui.badge.gaps", n = p.gaps), theme.warn));
    }
    if p.unanswered_pings > 0 {
        out.push((
            tr!(lang, "tui.badge.unanswered", n = p.unanswered_pings),
            theme.warn,
        ));
    }
    if p.heartbeat_silence_ms(s.heartbeat_ms).is_some() {
        out.push((tr!(lang, "tui.badge.heartbeat_stopped"), theme.warn));
    }
    if let Some(code) = s.close.as_ref().and_then(|c| c.code).or(p.close_frame_code) {
        let style = if code == 1000 { theme.ok } else { theme.warn };
        out.push((tr!(lang, "tui.badge.close", code = code), style));
    }
    if s.messages > 0 {
        out.push((tr!(lang, "tui.badge.messages", n = s.messages), theme.dim));
    }
    let frames = s.frames.total();
    if frames > 0 {
        out.push((tr!(lang, "tui.badge.frames", n = frames), theme.dim));
    }
    if s.pings > 0 {
        let badge = match s.heartbeat_ms {
            // The heartbeat's period (the median gap between one side's
            // pings), as the seed article's 心跳 is explained.
            Some(ms) => {
                let every = super::fmt::delta((ms * 1e3) as i64);
                let every = every.trim_start_matches('+');
                tr!(lang, "tui.badge.pings_every", n = s.pings, every = every)
            }
            None => tr!(lang, "tui.badge.pings", n = s.pings),
        };
        out.push((badge, theme.dim));
    }
    out
}

/// The phase word of a connection (`not yet` when a replay has not
/// reached its first packet).
pub fn phase_word(c: &Conn, lang: Lang) -> String {
    match c.progress.state {
        s if s.closed => tr!(lang, "tui.state.closed"),
        s => match s.phase {
            Some(p) => phase_title(p, c.stats.kind, lang),
            None => tr!(lang, "tui.state.not_yet"),
        },
    }
}

/// What keeps a connection's timeline whole under a filter: its number and
/// addresses.
pub fn filter_text(c: &Conn) -> String {
    format!(
        "#{} {} → {}",
        c.number(),
        clean(&c.client),
        clean(&c.server)
    )
}

/// The row as plain text: what the filter matches a connection by (its
/// number, addresses, phase and badges, as the row shows them).
pub fn row_text(c: &Conn, lang: Lang, theme: &Theme) -> String {
    let badges: Vec<String> = badges(c, lang, theme).into_iter().map(|(b, _)| b).collect();
    format!(
        "#{} {} → {} {} {}",
        c.number(),
        clean(&c.client),
        clean(&c.server),
        phase_word(c, lang),
        badges.join(" ")
    )
}

fn row<'a>(c: &Conn, w: usize, lang: Lang, theme: &Theme) -> Line<'a> {
    // A stream row's addresses are its connection's, just above it.
    let head = match c.stream {
        Some(_) => format!("    └ #{} ", c.number()),
        None => format!("{:>3} {} → {} ", c.id, clean(&c.client), clean(&c.server)),
    };
    let mut spans = vec![Span::raw(head)];
    let phase_style = if c.progress.state.phase.is_none() {
        theme.dim
    } else {
        theme.phase
    };
    spans.push(Span::styled(
        super::fmt::pad(&phase_word(c, lang), 13),
        phase_style,
    ));
    let mut used: usize = spans.iter().map(|s| s.width()).sum();
    for (b, style) in badges(c, lang, theme) {
        // Whole badges only: a cut one ("close 10…") misleads.
        let bw = 1 + super::fmt::width(&b);
        if used + bw > w {
            break;
        }
        used += bw;
        spans.push(Span::raw(" "));
        spans.push(Span::styled(b, style));
    }
    let line = Line::from(spans);
    if line.width() > w {
        // Cut as plain text: spans do not clip themselves.
        let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
        return Line::raw(fit(&text, w));
    }
    line
}

/// What the panel needs to draw itself.
pub struct View<'a> {
    /// Rows to show (already filtered), in order.
    pub rows: Vec<&'a Conn>,
    /// Index into `rows` of the selection.
    pub selected: Option<usize>,
    /// The keyboard is here.
    pub focused: bool,
    /// All rows, before the filter.
    pub total: usize,
    /// Of them, rows of WebSockets over HTTP/2.
    pub streams: usize,
}

/// Draws the panel; `scroll` is moved to keep the selection in view.
pub fn render(f: &mut Frame, area: Rect, v: &View, scroll: &mut usize, lang: Lang, theme: &Theme) {
    let title = if v.streams > 0 {
        if v.rows.len() == v.total {
            tr!(
                lang,
                "tui.conns.title_streams",
                n = v.total - v.streams,
                streams = v.streams
            )
        } else {
            tr!(
                lang,
                "tui.conns.title_filtered_rows",
                shown = v.rows.len(),
                n = v.total
            )
        }
    } else if v.rows.len() == v.total {
        tr!(lang, "tui.conns.title", n = v.total)
    } else {
        tr!(
            lang,
            "tui.conns.title_filtered",
            shown = v.rows.len(),
            n = v.total
        )
    };
    let block = Block::bordered()
        .title(Span::styled(title, theme.title))
        .border_style(if v.focused {
            theme.border_focus
        } else {
            theme.border
        });
    let inner = block.inner(area);
    f.render_widget(block, area);
    let h = inner.height as usize;
    if h == 0 {
        return;
    }
    if let Some(sel) = v.selected {
        if sel < *scroll {
            *scroll = sel;
        } else if sel >= *scroll + h {
            *scroll = sel + 1 - h;
        }
    }
    *scroll = (*scroll).min(v.rows.len().saturating_sub(h));
    let w = inner.width as usize;
    let lines: Vec<Line> = if v.rows.is_empty() {
        vec![Line::styled(tr!(lang, "tui.conns.none"), theme.dim)]
    } else {
        v.rows
            .iter()
            .enumerate()
            .skip(*scroll)
            .take(h)
            .map(|(i, c)| {
                let l = row(c, w, lang, theme);
                if v.selected == Some(i) {
                    l.patch_style(theme.selected)
                } else {
                    l
                }
            })
            .collect()
    };
    f.render_widget(Paragraph::new(lines), inner);
}
