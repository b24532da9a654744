//! Colours that survive a projector, and a plain variant for `NO_COLOR`.
//!
//! Only basic ANSI colours, on the terminal's own background, and only those
//! that read on both a dark and a light (projector) background: no yellow
//! (lost on white), no blue (lost on black), no dim greys. Headers and
//! selection use bold, underline and reverse, and every meaning is also in
//! the text (arrows point, ✓/✗/⚠ are characters), so with `NO_COLOR`
//! nothing is told by colour alone.

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
            phase: Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            c2s: fg(Color::Cyan).add_modifier(Modifier::BOLD),
            s2c: fg(Color::Magenta).add_modifier(Modifier::BOLD),
            note: fg(Color::Green),
            dim: Style::new(),
            ok: fg(Color::Green).add_modifier(Modifier::BOLD),
            bad: fg(Color::Red).add_modifier(Modifier::BOLD),
            warn: fg(Color::Red),
            status: Style::new().add_modifier(Modifier::REVERSED),
            key: Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
        }
    }
}
