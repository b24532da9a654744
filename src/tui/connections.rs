//! The connections panel: one row per TCP connection, in order of first
//! packet: `client → server`, the current phase, and badges (upgrade ✓/✗,
//! frames, messages, pings, close code, violations).

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

use super::fmt::{clean, fit};
use super::store::{Conn, Phase};
use super::theme::Theme;

/// The badges of a connection, each with its style.
pub fn badges(c: &Conn, theme: &Theme) -> Vec<(String, Style)> {
    let s = &c.stats;
    let mut out = Vec::new();
    // Only what the revealed events show: a replay does not tell the
    // upgrade's outcome before its response is on screen.
    match (s.upgrade_asked, s.upgrade) {
        (_, Some(true)) => out.push(("WS✓".to_string(), theme.ok)),
        (_, Some(false)) => {
            let status = match s.upgrade_status {
                Some(st) if st != 101 => format!(" {st}"),
                _ => String::new(),
            };
            out.push((format!("WS✗{status}"), theme.bad))
        }
        // The response is on screen, its verdict (the next step) not yet.
        (true, None) => match s.upgrade_status {
            Some(st) => out.push((format!("got {st}"), theme.warn)),
            None => out.push(("awaiting 101".to_string(), theme.warn)),
        },
        (false, None) => {}
    }
    // Most telling first: a narrow row keeps these and drops the counts.
    if s.violations > 0 {
        out.push((format!("⚠{}", s.violations), theme.bad));
    }
    if s.gaps > 0 {
        out.push((format!("gap×{}", s.gaps), theme.warn));
    }
    if let Some(code) = s.close_code {
        let style = if code == 1000 { theme.ok } else { theme.warn };
        out.push((format!("close {code}"), style));
    }
    if s.messages > 0 {
        out.push((format!("{}msg", s.messages), theme.dim));
    }
    if s.frames > 0 {
        out.push((format!("{}fr", s.frames), theme.dim));
    }
    if s.pings > 0 {
        let badge = match s.heartbeat_ms {
            // The heartbeat's period, as the seed article's 心跳 is explained.
            Some(ms) => {
                let every = super::fmt::delta((ms * 1e3) as i64);
                format!("{}ping/{}", s.pings, every.trim_start_matches('+'))
            }
            None => format!("{}ping", s.pings),
        };
        out.push((badge, theme.dim));
    }
    out
}

/// The phase word of a connection (`not yet` when a replay has not
/// reached its first packet).
pub fn phase_word(c: &Conn) -> &'static str {
    match c.stats.phase {
        Some(Phase::Closed) => "closed",
        Some(p) => p.title(),
        None => "not yet",
    }
}

/// What the filter matches a connection by (besides its events): its
/// number and addresses.
pub fn filter_text(c: &Conn) -> String {
    format!("#{} {} → {}", c.id, clean(&c.client), clean(&c.server))
}

/// The row as plain text.
#[cfg(test)]
pub fn row_text(c: &Conn, theme: &Theme) -> String {
    let badges: Vec<String> = badges(c, theme).into_iter().map(|(b, _)| b).collect();
    format!(
        "#{} {} → {} {} {}",
        c.id,
        clean(&c.client),
        clean(&c.server),
        phase_word(c),
        badges.join(" ")
    )
}

fn row<'a>(c: &Conn, w: usize, theme: &Theme) -> Line<'a> {
    let head = format!("{:>3} {} → {} ", c.id, clean(&c.client), clean(&c.server));
    let mut spans = vec![Span::raw(head)];
    let phase_style = if c.stats.phase.is_none() {
        theme.dim
    } else {
        theme.phase
    };
    spans.push(Span::styled(format!("{:<13}", phase_word(c)), phase_style));
    let mut used: usize = spans.iter().map(|s| s.width()).sum();
    for (b, style) in badges(c, theme) {
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
    /// All connections, before the filter.
    pub total: usize,
}

/// Draws the panel; `scroll` is moved to keep the selection in view.
pub fn render(f: &mut Frame, area: Rect, v: &View, scroll: &mut usize, theme: &Theme) {
    let title = if v.rows.len() == v.total {
        format!(" Connections ({}) ", v.total)
    } else {
        format!(" Connections ({} of {}) ", v.rows.len(), v.total)
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
        vec![Line::styled("No connections yet.", theme.dim)]
    } else {
        v.rows
            .iter()
            .enumerate()
            .skip(*scroll)
            .take(h)
            .map(|(i, c)| {
                let l = row(c, w, theme);
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
