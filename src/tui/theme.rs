//! Colours that survive a projector, and a plain variant for `NO_COLOR`.
//!
//! Only the eight basic ANSI colours at full strength on the terminal's own
//! background: dim greys and dark blues wash out on a projector. Every role
//! also carries a modifier (bold, reverse, underline), so with `NO_COLOR`
//! nothing that matters is told by colour alone.

use ratatui::style::{Color, Modifier, Style};

/// The styles the panels draw with.
#[derive(Clone, Debug)]
pub struct Theme {
    /// Panel borders.
    pub border: Style,
    /// The border of the panel that has the keyboard.
    pub border_focus: Style,
    /// Panel titles.
    pub title: Style,
    /// The selected row.
    pub selected: Style,
    /// Phase headers in the timeline.
    pub phase: Style,
    /// Client-to-server arrows.
    pub c2s: Style,
    /// Server-to-client arrows.
    pub s2c: Style,
    /// Notes that are neither (messages, the handshake outcome).
    pub note: Style,
    /// Secondary text: times, counts, hints.
    pub dim: Style,
    /// Something that worked (✓).
    pub ok: Style,
    /// Something that did not (✗), violations.
    pub bad: Style,
    /// Warnings.
    pub warn: Style,
    /// The status bar.
    pub status: Style,
    /// Keys in the help overlay.
    pub key: Style,
}

impl Theme {
    /// The theme; `no_color` keeps only modifiers.
    pub fn new(no_color: bool) -> Theme {
        let fg = |c: Color| {
            if no_color {
                Style::new()
            } else {
                Style::new().fg(c)
            }
        };
        Theme {
            border: Style::new(),
            border_focus: fg(Color::Cyan).add_modifier(Modifier::BOLD),
            title: Style::new().add_modifier(Modifier::BOLD),
            selected: Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD),
            phase: fg(Color::Magenta).add_modifier(Modifier::BOLD),
            c2s: fg(Color::Cyan),
            s2c: fg(Color::Yellow),
            note: fg(Color::Green),
            dim: Style::new(),
            ok: fg(Color::Green).add_modifier(Modifier::BOLD),
            bad: fg(Color::Red).add_modifier(Modifier::BOLD),
            warn: fg(Color::Yellow).add_modifier(Modifier::BOLD),
            status: Style::new().add_modifier(Modifier::REVERSED),
            key: fg(Color::Cyan).add_modifier(Modifier::BOLD),
        }
    }
}
