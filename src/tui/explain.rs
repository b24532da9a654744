//! The explanation pane (`e`): what `print --explain` says about the
//! selected event, with this connection's numbers, in the view's language.
//!
//! [`Explainer`] speaks once per phase (and per topic) of a connection, so
//! the pane feeds it the connection's events up to the selected one and
//! shows what it said about that event; for an event it has nothing new to
//! say about, the lesson of the latest event of the same phase that had one.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

use wsscope::analysis::Phase;
use wsscope::output::{Explainer, Lang};

use super::detail::wrap;
use super::fmt::clean;
use super::store::{Conn, Store};
use super::theme::Theme;

/// The explanation of event `idx` (an index into the store) of `conn`:
/// (the event the lines were said about, the lines).
pub fn explanation(
    store: &Store,
    conn: &Conn,
    idx: usize,
    lang: Lang,
) -> (Option<usize>, Vec<String>) {
    let mut ex = Explainer::new(lang);
    let phase = store.event(idx).map(|e| Phase::of(&e.kind));
    let mut last: (Option<usize>, Vec<String>) = (None, Vec::new());
    for &i in &conn.events {
        let Some(e) = store.event(i) else {
            continue;
        };
        let same = Some(Phase::of(&e.kind)) == phase;
        if i > idx && (!last.1.is_empty() || !same) {
            break;
        }
        let lines = ex.explain(e);
        if i == idx && !lines.is_empty() {
            return (Some(i), lines);
        }
        if !lines.is_empty() && same {
            last = (Some(i), lines);
        } else if !same {
            last = (None, Vec::new());
        }
    }
    // Nothing said up to the selected event: the lesson of its phase as it
    // is said a little later (the SYN's, for the connection's first sight).
    last
}

/// The pane's lines for the selected event (`None`: a hint), `w` columns wide.
pub fn lines(
    store: &Store,
    conn: Option<&Conn>,
    selected: Option<usize>,
    w: usize,
    lang: Lang,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let mut lines: Vec<Line<'static>> = Vec::new();
    match (conn, selected) {
        (Some(c), Some(i)) => {
            let (about, said) = explanation(store, c, i, lang);
            if said.is_empty() {
                lines.extend(wrap(
                    Line::styled(tr!(lang, "tui.explain.nothing"), theme.dim),
                    w,
                    0,
                ));
            } else {
                if let Some(a) = about.filter(|&a| a != i) {
                    let pkt = store.event(a).map_or(0, |e| e.pkt);
                    lines.push(Line::styled(
                        tr!(lang, "tui.explain.from", pkt = pkt),
                        theme.dim,
                    ));
                }
                for s in said {
                    lines.extend(wrap(Line::raw(format!("• {}", clean(&s))), w, 2));
                }
            }
        }
        _ => lines.push(Line::styled(tr!(lang, "tui.explain.select"), theme.dim)),
    }
    lines
}

/// Draws the pane with `lines` (see [`lines`]).
pub fn render(f: &mut Frame, area: Rect, lines: Vec<Line<'static>>, lang: Lang, theme: &Theme) {
    let block = Block::bordered()
        .title(Span::styled(tr!(lang, "tui.explain.title"), theme.title))
        .border_style(theme.border);
    f.render_widget(Paragraph::new(lines).block(block), area);
}
