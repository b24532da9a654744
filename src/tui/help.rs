//! The help overlay (`?`): every key, in one table that the key handler's
//! documentation and the tests share.

use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;

use wsscope::output::Lang;

use super::theme::Theme;

/// Every key binding: (keys, the catalogue key of what it does).
pub const KEYS: &[(&str, &str)] = &[
    ("space", "tui.help.space"),
    ("→ n l", "tui.help.step"),
    ("← p h", "tui.help.step_back"),
    ("Tab", "tui.help.next_phase"),
    ("Shift-Tab", "tui.help.prev_phase"),
    ("+ -", "tui.help.speed"),
    ("Home End g G", "tui.help.home_end"),
    ("↑↓ k j", "tui.help.move"),
    ("PgUp PgDn", "tui.help.page"),
    ("Enter", "tui.help.enter"),
    ("Esc", "tui.help.esc"),
    ("e", "tui.help.explain"),
    ("L", "tui.help.lang"),
    ("z", "tui.help.zoom"),
    ("/", "tui.help.filter"),
    ("mouse", "tui.help.mouse"),
    ("?", "tui.help.help"),
    ("q Ctrl-C", "tui.help.quit"),
];

/// A key's name padded to `w` columns; the mouse is named in `lang`.
fn key_label(k: &str, w: usize, lang: Lang) -> String {
    let name = if k == "mouse" {
        tr!(lang, "tui.help.mouse_key")
    } else {
        k.to_string()
    };
    super::fmt::pad(&name, w)
}

/// The overlay's lines.
pub fn lines(lang: Lang, theme: &Theme) -> Vec<Line<'static>> {
    let key_w = KEYS
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let mut lines: Vec<Line> = KEYS
        .iter()
        .map(|(k, what)| {
            Line::from(vec![
                Span::styled(format!(" {}  ", key_label(k, key_w, lang)), theme.key),
                Span::raw(tr!(lang, *what)),
            ])
        })
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::styled(tr!(lang, "tui.help.replay_note"), theme.dim));
    lines
}

/// Draws the overlay centred in `area`.
pub fn render(f: &mut Frame, area: Rect, lang: Lang, theme: &Theme) {
    let lines = lines(lang, theme);
    let h = (lines.len() as u16 + 2).min(area.height);
    let w = 78u16.min(area.width);
    let popup = area.centered(Constraint::Length(w), Constraint::Length(h));
    f.render_widget(Clear, popup);
    f.render_widget(
        Paragraph::new(lines).block(
            Block::bordered()
                .title(Span::styled(tr!(lang, "tui.help.title"), theme.title))
                .border_style(theme.border_focus),
        ),
        popup,
    );
}
