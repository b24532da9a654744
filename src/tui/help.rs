//! The help overlay (`?`): every key, in one table that the key handler's
//! documentation and the tests share.

use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;

use super::theme::Theme;

/// Every key binding: (keys, what it does).
pub const KEYS: &[(&str, &str)] = &[
    (
        "space",
        "play / pause (live: pause the view; capture goes on)",
    ),
    (
        "→ n l",
        "step: next event of this connection (live: next event)",
    ),
    ("← p h", "step back (live: previous event)"),
    ("Tab", "next phase"),
    ("Shift-Tab", "previous phase"),
    ("+ -", "replay speed ×2 / ÷2"),
    ("Home End g G", "start / end (live: oldest / follow newest)"),
    ("↑↓ k j", "move the selection in the focused panel"),
    ("PgUp PgDn", "move a page"),
    (
        "Enter",
        "focus the next panel (connections → timeline → detail)",
    ),
    ("Esc", "back: close help, clear the filter, previous panel"),
    ("z", "zoom the detail panel to the whole screen"),
    ("/", "filter connections and events by text (Esc clears)"),
    ("mouse", "click selects, wheel scrolls"),
    ("?", "this help"),
    ("q Ctrl-C", "quit"),
];

/// Draws the overlay centred in `area`.
pub fn render(f: &mut Frame, area: Rect, theme: &Theme) {
    let key_w = KEYS
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let mut lines: Vec<Line> = KEYS
        .iter()
        .map(|(k, what)| {
            Line::from(vec![
                Span::styled(format!(" {k:<key_w$}  "), theme.key),
                Span::raw(*what),
            ])
        })
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        " Replay: ←/→ move time, ↑/↓ move the selection.",
        theme.dim,
    ));
    let h = (lines.len() as u16 + 2).min(area.height);
    let w = 78u16.min(area.width);
    let popup = area.centered(Constraint::Length(w), Constraint::Length(h));
    f.render_widget(Clear, popup);
    f.render_widget(
        Paragraph::new(lines).block(
            Block::bordered()
                .title(Span::styled(" Keys (? or Esc to close) ", theme.title))
                .border_style(theme.border_focus),
        ),
        popup,
    );
}
