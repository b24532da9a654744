//! The status bar: source, packets, connections, the replay clock or the
//! live capture rate and libpcap's drop count, indexing progress.

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::fmt::{clean, clock, fit, width};
use super::theme::Theme;

/// Everything the status bar shows.
#[derive(Clone, Debug, Default)]
pub struct Info {
    /// File name or interface.
    pub source: String,
    /// Live capture.
    pub live: bool,
    /// Packets read or captured.
    pub packets: u64,
    /// Connections seen.
    pub conns: usize,
    /// Replay: playing (else paused).
    pub playing: bool,
    /// Replay speed.
    pub speed: f64,
    /// Replay clock since the first packet, µs.
    pub position: i64,
    /// Time of the last event received since the first packet, µs.
    pub duration: i64,
    /// Live: packets per second.
    pub rate: Option<f64>,
    /// Live: libpcap's drop count.
    pub dropped: u64,
    /// Live: the view is paused; events received since.
    pub paused_new: Option<usize>,
    /// File: fraction read while indexing (`None` when done or unknown).
    pub progress: Option<f64>,
    /// The source has finished (file read, or capture stopped).
    pub done: bool,
    /// Events not kept because the store is full.
    pub overflow: u64,
}

/// `▕████░░░░▏ 45%` in `cells` cells.
pub fn progress_bar(fraction: f64, cells: usize) -> String {
    let f = if fraction.is_finite() {
        fraction.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let full = ((f * cells as f64).round() as usize).min(cells);
    format!(
        "▕{}{}▏{:>3.0}%",
        "█".repeat(full),
        "░".repeat(cells - full),
        f * 100.0
    )
}

fn speed_text(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.0}×")
    } else {
        format!("1/{:.0}×", 1.0 / s)
    }
}

/// The parts of the bar, left to right.
pub fn spans(i: &Info, theme: &Theme) -> Vec<(String, Style)> {
    let mut out: Vec<(String, Style)> = Vec::new();
    let sep = || (" │ ".to_string(), Style::new());
    if i.live {
        out.push((format!(" ● live {}", clean(&i.source)), Style::new()));
    } else {
        out.push((format!(" {}", clean(&i.source)), Style::new()));
    }
    out.push(sep());
    out.push((format!("{} pkts", i.packets), Style::new()));
    out.push(sep());
    let plural = if i.conns == 1 { "" } else { "s" };
    out.push((format!("{} conn{plural}", i.conns), Style::new()));
    out.push(sep());
    if i.live {
        if let Some(r) = i.rate {
            out.push((format!("{r:.0} pkt/s"), Style::new()));
            out.push(sep());
        }
        let drop_style = if i.dropped > 0 {
            theme.warn
        } else {
            Style::new()
        };
        out.push((format!("{} dropped", i.dropped), drop_style));
        out.push(sep());
        match i.paused_new {
            Some(n) => out.push((format!("⏸ paused +{n}"), theme.warn)),
            None if i.done => out.push(("capture stopped".into(), theme.warn)),
            None => out.push(("▶ following".into(), Style::new())),
        }
    } else {
        let state = if i.playing { "▶" } else { "⏸" };
        out.push((
            format!(
                "{state} {} {}/{}",
                speed_text(i.speed),
                clock(i.position),
                clock(i.duration)
            ),
            Style::new(),
        ));
        if let Some(p) = i.progress {
            out.push(sep());
            out.push((format!("indexing {}", progress_bar(p, 6)), Style::new()));
        } else if !i.done {
            out.push(sep());
            out.push(("indexing…".into(), Style::new()));
        }
    }
    if i.overflow > 0 {
        out.push(sep());
        out.push((
            format!("{} events not kept (store full)", i.overflow),
            theme.warn,
        ));
    }
    out
}

/// Draws the bar on one line, `? help` on the right.
pub fn render(f: &mut Frame, area: Rect, i: &Info, theme: &Theme) {
    let w = area.width as usize;
    let mut parts = spans(i, theme);
    let mut needed: usize = parts.iter().map(|(t, _)| width(t)).sum();
    if needed + 8 > w && !i.live {
        // A narrow terminal: the file's name without its directory, so the
        // clock at the end stays whole.
        if let (Some(first), Some((_, name))) = (parts.first_mut(), i.source.rsplit_once('/')) {
            first.0 = format!(" {}", clean(name));
            needed = parts.iter().map(|(t, _)| width(t)).sum();
        }
    }
    // The hint gives way to the facts on a narrow terminal.
    let help = if needed + 8 <= w { " ? help " } else { "" };
    let mut used = 0;
    let mut line: Vec<Span> = Vec::new();
    let room = w.saturating_sub(width(help));
    for (text, style) in parts {
        let left = room.saturating_sub(used);
        if left == 0 {
            break;
        }
        let t = fit(&text, left);
        used += width(&t);
        line.push(Span::styled(t, style));
    }
    line.push(Span::raw(" ".repeat(room.saturating_sub(used))));
    line.push(Span::raw(help));
    f.render_widget(Paragraph::new(Line::from(line)).style(theme.status), area);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_bars() {
        assert_eq!(progress_bar(0.0, 4), "▕░░░░▏  0%");
        assert_eq!(progress_bar(0.5, 4), "▕██░░▏ 50%");
        assert_eq!(progress_bar(1.5, 4), "▕████▏100%");
        assert_eq!(progress_bar(f64::NAN, 4), "▕░░░░▏  0%");
    }

    #[test]
    fn speeds() {
        assert_eq!(speed_text(1.0), "1×");
        assert_eq!(speed_text(8.0), "8×");
        assert_eq!(speed_text(0.25), "1/4×");
    }
}
