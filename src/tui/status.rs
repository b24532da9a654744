//! The status bar: source, packets, connections, the replay clock or the
//! live capture rate and libpcap's drop count, indexing progress.

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use wsscope::output::Lang;

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
    /// Replay: everything is shown (no "space to play" hint).
    pub at_end: bool,
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

/// One part of the bar: its text, its style, and how soon it gives way on a
/// narrow terminal (0: never; higher goes first).
#[derive(Clone, Debug)]
pub struct Part {
    /// The text.
    pub text: String,
    /// Its style.
    pub style: Style,
    /// 0 for the parts that always stay (the source, cut if need be; the
    /// replay clock; the live state); higher numbers are dropped first.
    pub drop: u8,
}

fn part(text: String, style: Style, drop: u8) -> Part {
    Part { text, style, drop }
}

/// The parts of the bar, left to right.
pub fn parts(i: &Info, lang: Lang, theme: &Theme) -> Vec<Part> {
    let mut out: Vec<Part> = Vec::new();
    if i.live {
        out.push(part(
            format!(" ● {} {}", tr!(lang, "tui.status.live"), clean(&i.source)),
            Style::new(),
            0,
        ));
    } else {
        out.push(part(format!(" {}", clean(&i.source)), Style::new(), 0));
    }
    out.push(part(
        tr!(lang, "tui.status.pkts", n = i.packets),
        Style::new(),
        5,
    ));
    out.push(part(
        tr!(lang, "tui.status.conns", n = i.conns),
        Style::new(),
        4,
    ));
    if i.live {
        if let Some(r) = i.rate {
            out.push(part(
                tr!(lang, "tui.status.rate", r = r : {:.0}),
                Style::new(),
                3,
            ));
        }
        let drop_style = if i.dropped > 0 {
            theme.warn
        } else {
            Style::new()
        };
        out.push(part(
            tr!(lang, "tui.status.dropped", n = i.dropped),
            drop_style,
            2,
        ));
        match i.paused_new {
            Some(n) => out.push(part(tr!(lang, "tui.status.paused", n = n), theme.warn, 0)),
            None if i.done => out.push(part(tr!(lang, "tui.status.stopped"), theme.warn, 0)),
            None => out.push(part(tr!(lang, "tui.status.following"), Style::new(), 0)),
        }
    } else {
        let state = if i.playing { "▶" } else { "⏸" };
        out.push(part(
            format!(
                "{state} {} {}/{}",
                speed_text(i.speed),
                clock(i.position),
                clock(i.duration)
            ),
            Style::new(),
            0,
        ));
        if !i.playing && !i.at_end {
            out.push(part(tr!(lang, "tui.status.space_to_play"), theme.key, 1));
        }
        if let Some(p) = i.progress {
            out.push(part(
                format!(
                    "{} {}",
                    tr!(lang, "tui.status.indexing"),
                    progress_bar(p, 6)
                ),
                Style::new(),
                3,
            ));
        } else if !i.done {
            out.push(part(
                format!("{}…", tr!(lang, "tui.status.indexing")),
                Style::new(),
                3,
            ));
        }
    }
    if i.overflow > 0 {
        out.push(part(
            tr!(lang, "tui.status.overflow", n = i.overflow),
            theme.warn,
            2,
        ));
    }
    out
}

const SEP: &str = " │ ";

fn total(parts: &[Part]) -> usize {
    let texts: usize = parts.iter().map(|p| width(&p.text)).sum();
    texts + width(SEP) * parts.len().saturating_sub(1)
}

/// The bar's text and styles for a terminal `w` columns wide: the parts
/// that fit (the least needed give way first, then the source is cut), and
/// `? help` at the right edge, always.
pub fn layout(i: &Info, w: usize, lang: Lang, theme: &Theme) -> Vec<(String, Style)> {
    let help = format!(" {} ", tr!(lang, "tui.status.help"));
    let room = w.saturating_sub(width(&help));
    let mut parts = parts(i, lang, theme);
    while total(&parts) > room {
        let worst = parts
            .iter()
            .enumerate()
            .filter(|(_, p)| p.drop > 0)
            .max_by_key(|(k, p)| (p.drop, *k))
            .map(|(k, _)| k);
        match worst {
            Some(k) => {
                parts.remove(k);
            }
            None => break,
        }
    }
    if total(&parts) > room {
        // Still too wide: the file's name without its directory, then cut.
        if let (Some(first), false, Some((_, name))) =
            (parts.first_mut(), i.live, i.source.rsplit_once('/'))
        {
            first.text = format!(" {}", clean(name));
        }
        let rest = total(parts.get(1..).unwrap_or(&[])) + width(SEP);
        if let Some(first) = parts.first_mut() {
            first.text = fit(&first.text, room.saturating_sub(rest));
        }
    }
    let mut out: Vec<(String, Style)> = Vec::new();
    let mut used = 0;
    for (k, p) in parts.into_iter().enumerate() {
        if k > 0 && !p.text.is_empty() {
            let sep = fit(SEP, room.saturating_sub(used));
            used += width(&sep);
            out.push((sep, Style::new()));
        }
        let t = fit(&p.text, room.saturating_sub(used));
        used += width(&t);
        out.push((t, p.style));
    }
    out.push((" ".repeat(room.saturating_sub(used)), Style::new()));
    out.push((fit(&help, w), Style::new()));
    out
}

/// Draws the bar on one line, `? help` on the right.
pub fn render(f: &mut Frame, area: Rect, i: &Info, lang: Lang, theme: &Theme) {
    let line: Vec<Span> = layout(i, area.width as usize, lang, theme)
        .into_iter()
        .map(|(t, s)| Span::styled(t, s))
        .collect();
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
