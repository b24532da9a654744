//! The interface's state and its one update function.
//!
//! [`App::update`] takes every input as a [`Msg`] (keys, mouse, resize, the
//! clock, the producer's feed) and [`App::render`] draws a snapshot of the
//! state; there is no clock, no I/O and no terminal inside, so scripted
//! sessions run in tests.
//!
//! Replay and live share one mechanism: the store holds every event received
//! and shows a prefix of them (`revealed`). A replay moves that prefix with
//! its clock (or one event at a time); a live view shows everything unless
//! paused, and a paused view only stops moving the prefix, so no event is
//! ever lost.

use std::collections::VecDeque;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Constraint, Layout, Margin, Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use wsscope::analysis::Phase;
use wsscope::output::Lang;

use super::fmt::{clean, fit};
use super::store::{Conn, RowKey, Store};
use super::theme::Theme;
use super::timeline::{self, Item, ItemKind};
use super::{connections, detail, explain, help, status, Feed, Said, ViewOptions};

/// Everything that can happen to the interface.
#[derive(Debug)]
pub enum Msg {
    /// A key press.
    Key(KeyEvent),
    /// A mouse click or wheel.
    Mouse(MouseEvent),
    /// The terminal's new size.
    Resize(u16, u16),
    /// The clock: time since the interface started.
    Tick(Duration),
    /// Something from the producer.
    Feed(Feed),
    /// The producer hung up (its thread ended).
    Disconnected,
}

/// Which panel has the keyboard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Focus {
    /// The connection list.
    Connections,
    /// The timeline.
    Timeline,
    /// The detail panel.
    Detail,
}

/// A replay shortens any silence longer than this (capture time, µs) to it,
/// so an idle minute in a capture does not stall a lesson.
pub const MAX_IDLE_US: i64 = 2_000_000;
/// Slowest and fastest replay speeds.
pub const SPEED_RANGE: (f64, f64) = (1.0 / 64.0, 64.0);
/// Warnings kept (the newest).
const MAX_WARNINGS: usize = 100;
/// Filter text kept, in characters.
const MAX_FILTER: usize = 200;

#[derive(Clone, Copy, Debug, Default)]
struct Areas {
    conns: Rect,
    timeline: Rect,
    detail: Rect,
}

/// The interface's state.
pub struct App {
    opts: ViewOptions,
    theme: Theme,
    store: Store,
    packets: u64,
    bytes_read: u64,
    total_bytes: Option<u64>,
    dropped: u64,
    done: bool,
    warnings: VecDeque<Said>,
    warning_count: u64,
    error: Option<Said>,
    now: Option<Duration>,
    playing: bool,
    speed: f64,
    pos: Option<i64>,
    live_paused: bool,
    at_end: bool,
    rate: Option<f64>,
    rate_sample: Option<(Duration, u64)>,
    /// The selected row: a connection, or a WebSocket over HTTP/2 in one.
    sel_conn: Option<RowKey>,
    conn_chosen: bool,
    sel_event: Option<usize>,
    follow: bool,
    focus: Focus,
    conn_scroll: usize,
    tl_scroll: usize,
    detail_scroll: u16,
    filter: String,
    filter_editing: bool,
    help: bool,
    zoom: bool,
    quit: bool,
    size: (u16, u16),
    areas: Areas,
    conn_rows: Vec<usize>,
    conn_key: Option<(u64, String)>,
    tl_items: Vec<Item>,
    tl_key: Option<(Option<RowKey>, u64, String, Lang, bool)>,
    tl_builder: timeline::Builder,
    lang: Lang,
    explain: bool,
    /// A replay has been opened on its first WebSocket event.
    opened: bool,
    #[allow(clippy::type_complexity)]
    match_cache: Option<((u64, usize, String, Lang), bool)>,
    #[allow(clippy::type_complexity)]
    explain_cache: Option<(
        (Option<RowKey>, Option<usize>, u64, usize, Lang),
        Vec<Line<'static>>,
    )>,
}

impl App {
    /// A new interface, before any feed.
    pub fn new(opts: ViewOptions) -> App {
        let speed = if opts.speed.is_finite() && opts.speed > 0.0 {
            opts.speed.clamp(SPEED_RANGE.0, SPEED_RANGE.1)
        } else {
            1.0
        };
        App {
            theme: Theme::new(opts.no_color),
            // A replay opens paused on its first WebSocket event, as a
            // lesson does; space plays.
            playing: false,
            speed,
            lang: opts.lang,
            explain: !opts.live,
            opened: opts.live,
            match_cache: None,
            explain_cache: None,
            opts,
            store: Store::default(),
            packets: 0,
            bytes_read: 0,
            total_bytes: None,
            dropped: 0,
            done: false,
            warnings: VecDeque::new(),
            warning_count: 0,
            error: None,
            now: None,
            pos: None,
            live_paused: false,
            at_end: false,
            rate: None,
            rate_sample: None,
            sel_conn: None,
            conn_chosen: false,
            sel_event: None,
            follow: true,
            focus: Focus::Timeline,
            conn_scroll: 0,
            tl_scroll: 0,
            detail_scroll: 0,
            filter: String::new(),
            filter_editing: false,
            help: false,
            zoom: false,
            quit: false,
            size: (80, 24),
            areas: Areas::default(),
            conn_rows: Vec::new(),
            conn_key: None,
            tl_items: Vec::new(),
            tl_key: None,
            tl_builder: timeline::Builder::default(),
        }
    }

    /// A new interface for a replayed file that keeps only the index of its
    /// events and decodes those on screen again with `loader`.
    pub fn with_loader(opts: ViewOptions, loader: Box<dyn super::store::Loader>) -> App {
        let mut app = App::new(opts);
        app.store = Store::with_loader(loader);
        app
    }

    /// The panels are drawn (some event has come).
    pub fn has_panels(&self) -> bool {
        !self.store.is_empty()
    }

    /// The user asked to quit.
    pub fn should_quit(&self) -> bool {
        self.quit
    }
}

/// Read-only views of the state, for tests and for the lead's wiring.
#[cfg_attr(not(test), allow(dead_code))]
impl App {
    /// The events and connections.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The selected connection's number (of a stream row too).
    pub fn selected_conn(&self) -> Option<u64> {
        self.sel_conn.map(|k| k.0)
    }

    /// The selected row's HTTP/2 stream (`None`: a connection's own row).
    pub fn selected_stream(&self) -> Option<u32> {
        self.sel_conn.and_then(|k| k.1)
    }

    /// The selected event (index into the store's events).
    pub fn selected_event(&self) -> Option<usize> {
        self.sel_event
    }

    /// Which panel has the keyboard.
    pub fn focus(&self) -> Focus {
        self.focus
    }

    /// The replay is playing.
    pub fn playing(&self) -> bool {
        self.playing
    }

    /// The replay speed.
    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// The help overlay is open.
    pub fn help_open(&self) -> bool {
        self.help
    }

    /// The filter text.
    pub fn filter(&self) -> &str {
        &self.filter
    }

    /// The language of the view.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// The explanation pane is shown.
    pub fn explain_open(&self) -> bool {
        self.explain
    }

    /// The timeline's lines for the selected connection.
    pub fn timeline_items(&mut self) -> &[Item] {
        self.refresh();
        &self.tl_items
    }
}

impl App {
    /// Handles one input.
    pub fn update(&mut self, msg: Msg) {
        match msg {
            Msg::Key(k) => self.key(k),
            Msg::Mouse(m) => self.mouse(m),
            Msg::Resize(w, h) => self.size = (w, h),
            Msg::Tick(now) => self.tick(now),
            Msg::Feed(f) => self.feed(f),
            Msg::Disconnected => self.done = true,
        }
        self.refresh();
    }

    fn feed(&mut self, f: Feed) {
        match f {
            Feed::FirstPacket(ts) => {
                if self.store.first_packet.is_none() {
                    self.store.first_packet = Some(ts);
                    self.store.generation += 1;
                }
            }
            Feed::Totals(totals) => {
                for (conn, t) in totals {
                    self.store.set_totals(conn, t);
                }
            }
            Feed::Events(events) => {
                self.store.push(events);
                if self.opts.live {
                    if !self.live_paused {
                        self.store.reveal_to(usize::MAX);
                    }
                } else {
                    if self.pos.is_none() {
                        self.pos = self.store.origin();
                    }
                    if self.at_end {
                        self.store.reveal_to(usize::MAX);
                        self.pos = self.store.last_ts().or(self.pos);
                    } else if self.playing {
                        self.reveal_by_time();
                    }
                }
            }
            Feed::Progress {
                packets,
                bytes_read,
                total_bytes,
            } => {
                self.packets = packets;
                self.bytes_read = bytes_read;
                self.total_bytes = total_bytes;
            }
            Feed::Dropped(n) => self.dropped = n,
            Feed::Warning(w) => {
                self.warning_count += 1;
                if self.warnings.len() >= MAX_WARNINGS {
                    self.warnings.pop_front();
                }
                self.warnings.push_back(w);
            }
            Feed::Done => self.done = true,
            Feed::Error(e) => {
                self.error = Some(e);
                self.done = true;
            }
        }
        self.open_replay();
    }

    /// A replay opens paused on the first event of its first WebSocket
    /// connection (everything before it in the capture shown), or, when the
    /// whole capture has none, on its first event.
    fn open_replay(&mut self) {
        if self.opened || self.store.is_empty() {
            return;
        }
        let first = match self.store.first_websocket_conn() {
            Some(c) => c.events.first().copied(),
            None if self.done => Some(0),
            None => return,
        };
        self.opened = true;
        if let Some(i) = first {
            if self.store.revealed <= i {
                self.reveal_through(i);
            }
        }
    }

    fn reveal_by_time(&mut self) {
        let Some(pos) = self.pos else { return };
        let mut n = self.store.revealed;
        while self.store.ts(n).is_some_and(|t| t <= pos) {
            n += 1;
        }
        self.store.reveal_to(n);
    }

    fn tick(&mut self, now: Duration) {
        let dt = self.now.map(|t| now.saturating_sub(t)).unwrap_or_default();
        self.now = Some(now);
        if self.opts.live {
            match self.rate_sample {
                Some((t0, p0)) if now.saturating_sub(t0) >= Duration::from_secs(1) => {
                    let secs = now.saturating_sub(t0).as_secs_f64();
                    self.rate = Some(self.packets.saturating_sub(p0) as f64 / secs);
                    self.rate_sample = Some((now, self.packets));
                }
                Some(_) => {}
                None => self.rate_sample = Some((now, self.packets)),
            }
            return;
        }
        if !self.playing {
            return;
        }
        let Some(pos) = self.pos else { return };
        let adv = (dt.as_secs_f64() * 1e6 * self.speed) as i64;
        self.pos = Some(pos.saturating_add(adv));
        self.reveal_by_time();
        let n = self.store.revealed;
        if let (Some(next), Some(p)) = (self.store.ts(n), self.pos) {
            if next.saturating_sub(p) > MAX_IDLE_US {
                self.pos = Some(next - MAX_IDLE_US);
            }
        } else if let (Some(last), Some(p)) = (self.store.last_ts(), self.pos) {
            self.pos = Some(p.min(last));
            if self.done {
                self.playing = false;
            }
        }
    }

    // ---- derived views -------------------------------------------------

    fn conn(&self) -> Option<&Conn> {
        self.sel_conn.and_then(|k| self.store.row(k))
    }

    /// Brings the derived views (the filtered connection rows, the
    /// timeline's lines, the selection) up to date. Cheap when nothing
    /// changed, and incremental as a timeline grows, because it runs after
    /// every message.
    fn refresh(&mut self) {
        let f = self.filter.to_lowercase();
        // Unfiltered rows only change when connections are added.
        let stamp = if f.is_empty() {
            self.store.conns.len() as u64
        } else {
            self.store.generation
        };
        let key = (stamp, format!("{}\u{0}{f}", self.lang.code()));
        if self.conn_key.as_ref() != Some(&key) {
            self.conn_rows = (0..self.store.conns.len())
                .filter(|&p| f.is_empty() || self.conn_matches(p, &f))
                .collect();
            self.conn_key = Some(key);
        }
        // Choose a connection until the user does: the first WebSocket one
        // for a file, the newest for a live capture.
        if !self.conn_chosen && f.is_empty() {
            let auto = if self.opts.live {
                self.store.last_websocket()
            } else {
                self.store.first_websocket()
            };
            let auto = auto.map(|id| (id, None));
            if auto != self.sel_conn {
                self.select_conn(auto);
            }
        }
        let hidden = match self.sel_conn.and_then(|k| self.store.row_pos(k)) {
            None => true,
            Some(p) => !f.is_empty() && !self.conn_rows.contains(&p),
        };
        if hidden {
            let first = self
                .conn_rows
                .first()
                .and_then(|&p| self.store.conns.get(p))
                .map(|c| c.key());
            self.select_conn(first);
        }
        // The timeline is narrowed to the matching events unless the filter
        // names the connection itself, or only its row (a badge, its phase)
        // matches and none of its events.
        let sel_pos = self.sel_conn.and_then(|k| self.store.row_pos(k));
        let whole = f.is_empty()
            || sel_pos.map_or(true, |pos| {
                self.store
                    .conns
                    .get(pos)
                    .is_some_and(|c| connections::filter_text(c).to_lowercase().contains(&f))
                    || !self.events_match(pos, &f)
            });
        let tl_key = (
            self.sel_conn,
            self.store.rewinds,
            f.clone(),
            self.lang,
            whole,
        );
        if self.tl_key.as_ref() != Some(&tl_key) {
            self.tl_items.clear();
            self.tl_builder = timeline::Builder::default();
            self.tl_key = Some(tl_key);
        }
        if let Some(k) = self.sel_conn {
            self.store.load(k, self.sel_event);
        }
        if let Some(pos) = self.sel_conn.and_then(|k| self.store.row_pos(k)) {
            if let Some(c) = self.store.conns.get(pos) {
                let tf = timeline::Filter {
                    text: f.as_str(),
                    lang: self.lang,
                };
                let filter = if whole { None } else { Some(&tf) };
                if !self
                    .tl_builder
                    .update(&mut self.tl_items, &self.store, c, filter)
                {
                    self.tl_items.clear();
                    self.tl_builder = timeline::Builder::default();
                    self.tl_builder
                        .update(&mut self.tl_items, &self.store, c, filter);
                }
            }
        } else {
            self.tl_items.clear();
        }
        self.sync_selection();
    }

    /// Some revealed event of the connection at `pos` matches filter `f`
    /// (cached per store generation, filter and language).
    fn events_match(&mut self, pos: usize, f: &str) -> bool {
        let key = (self.store.generation, pos, f.to_string(), self.lang);
        if let Some((k, v)) = &self.match_cache {
            if *k == key {
                return *v;
            }
        }
        let v = self.store.conns.get(pos).is_some_and(|c| {
            self.store
                .revealed_of(c)
                .iter()
                .filter_map(|&i| self.store.event(i))
                .any(|e| timeline::label(e, self.lang).to_lowercase().contains(f))
        });
        self.match_cache = Some((key, v));
        v
    }

    fn conn_matches(&self, pos: usize, f: &str) -> bool {
        let Some(c) = self.store.conns.get(pos) else {
            return false;
        };
        // What the row shows, not its events: those of a replayed file are
        // not in memory (the timeline of the selected row is narrowed to the
        // events that match).
        connections::row_text(c, self.lang, &self.theme)
            .to_lowercase()
            .contains(f)
    }

    fn selectable(&self) -> impl Iterator<Item = (usize, &Item)> {
        self.tl_items
            .iter()
            .enumerate()
            .filter(|(_, it)| it.selectable())
    }

    /// Index into the timeline's items of the selection.
    fn selected_item(&self) -> Option<usize> {
        let sel = self.sel_event?;
        // A violation sorts with the event it concerns, which comes after
        // it: the first group of lines at or after `sel` holds it.
        let start = self.tl_items.partition_point(|it| it.at < sel);
        let group = self.tl_items.get(start)?.at;
        self.tl_items
            .iter()
            .enumerate()
            .skip(start)
            .take_while(|(_, it)| it.at == group)
            .find(|(_, it)| it.ev == sel && it.selectable())
            .map(|(i, _)| i)
    }

    fn sync_selection(&mut self) {
        if self.follow {
            self.sel_event = self.newest();
            return;
        }
        if self.selected_item().is_some() {
            return;
        }
        // The selection was hidden (a rewind or the filter): the nearest
        // earlier line, else the first.
        let sel = self.sel_event.unwrap_or(0);
        self.sel_event = self
            .selectable()
            .filter(|(_, it)| it.ev <= sel)
            .last()
            .or_else(|| self.selectable().next())
            .map(|(_, it)| it.ev);
    }

    /// The newest event of the timeline (its violations stay in view just
    /// below it), which a following view selects.
    fn newest(&self) -> Option<usize> {
        self.tl_items
            .iter()
            .rev()
            .find(|it| it.kind == ItemKind::Event)
            .or_else(|| self.tl_items.iter().rev().find(|it| it.selectable()))
            .map(|it| it.ev)
    }

    fn select_conn(&mut self, id: Option<RowKey>) {
        if self.sel_conn != id {
            self.sel_conn = id;
            self.sel_event = None;
            self.follow = true;
            self.tl_scroll = 0;
            self.detail_scroll = 0;
        }
    }

    // ---- keys ----------------------------------------------------------

    fn key(&mut self, k: KeyEvent) {
        if k.modifiers.contains(KeyModifiers::CONTROL) && k.code == KeyCode::Char('c') {
            self.quit = true;
            return;
        }
        if self.filter_editing {
            self.filter_key(k);
            return;
        }
        if self.help {
            match k.code {
                KeyCode::Char('q') => self.quit = true,
                KeyCode::Char('?') | KeyCode::Esc | KeyCode::Enter => self.help = false,
                _ => {}
            }
            return;
        }
        match k.code {
            KeyCode::Char('q') => self.quit = true,
            KeyCode::Char('?') => self.help = true,
            KeyCode::Char('/') => self.filter_editing = true,
            KeyCode::Char('z') => self.zoom = !self.zoom,
            KeyCode::Char('e') => self.explain = !self.explain,
            KeyCode::Char('L') => {
                self.lang = match self.lang {
                    Lang::En => Lang::Zh,
                    Lang::Zh => Lang::En,
                }
            }
            KeyCode::Char(' ') => self.play_pause(),
            KeyCode::Char('+') | KeyCode::Char('=') => self.set_speed(self.speed * 2.0),
            KeyCode::Char('-') | KeyCode::Char('_') => self.set_speed(self.speed / 2.0),
            KeyCode::Right | KeyCode::Char('n') | KeyCode::Char('l') => self.step_forward(),
            KeyCode::Left | KeyCode::Char('p') | KeyCode::Char('h') => self.step_back(),
            KeyCode::Tab => self.next_phase(),
            KeyCode::BackTab => self.prev_phase(),
            KeyCode::Home | KeyCode::Char('g') => self.home(),
            KeyCode::End | KeyCode::Char('G') => self.end(),
            KeyCode::Up | KeyCode::Char('k') => self.move_sel(-1),
            KeyCode::Down | KeyCode::Char('j') => self.move_sel(1),
            KeyCode::PageUp => self.move_sel(-(self.page() as isize)),
            KeyCode::PageDown => self.move_sel(self.page() as isize),
            KeyCode::Enter => {
                self.focus = match self.focus {
                    Focus::Connections => Focus::Timeline,
                    Focus::Timeline | Focus::Detail => Focus::Detail,
                }
            }
            KeyCode::Esc => {
                if self.zoom {
                    self.zoom = false;
                } else if self.focus == Focus::Detail {
                    self.focus = Focus::Timeline;
                } else if self.focus == Focus::Timeline {
                    self.focus = Focus::Connections;
                } else if !self.filter.is_empty() {
                    self.filter.clear();
                }
            }
            _ => {}
        }
    }

    fn filter_key(&mut self, k: KeyEvent) {
        match k.code {
            KeyCode::Enter => self.filter_editing = false,
            KeyCode::Esc => {
                self.filter_editing = false;
                self.filter.clear();
            }
            KeyCode::Backspace => {
                self.filter.pop();
            }
            KeyCode::Char(c) if !c.is_control() && self.filter.chars().count() < MAX_FILTER => {
                self.filter.push(c)
            }
            _ => {}
        }
    }

    fn page(&self) -> usize {
        let h = match self.focus {
            Focus::Connections => self.areas.conns.height,
            Focus::Timeline => self.areas.timeline.height,
            Focus::Detail => self.areas.detail.height,
        };
        (h as usize).saturating_sub(3).max(1)
    }

    fn set_speed(&mut self, s: f64) {
        if !self.opts.live {
            self.speed = s.clamp(SPEED_RANGE.0, SPEED_RANGE.1);
        }
    }

    fn play_pause(&mut self) {
        if self.opts.live {
            self.live_paused = !self.live_paused;
            if !self.live_paused {
                self.store.reveal_to(usize::MAX);
            }
            return;
        }
        if !self.playing && self.done && self.store.revealed >= self.store.len() {
            // Play at the end starts over.
            self.home();
        }
        self.playing = !self.playing;
        self.at_end = false;
        if self.pos.is_none() {
            self.pos = self.store.origin();
        }
    }

    fn move_sel(&mut self, delta: isize) {
        match self.focus {
            Focus::Connections => {
                let cur = self
                    .sel_conn
                    .and_then(|k| self.store.row_pos(k))
                    .and_then(|p| self.conn_rows.iter().position(|&r| r == p));
                let n = self.conn_rows.len();
                if n == 0 {
                    return;
                }
                let next = match cur {
                    Some(c) => c.saturating_add_signed(delta).min(n - 1),
                    None => 0,
                };
                let id = self
                    .conn_rows
                    .get(next)
                    .and_then(|&p| self.store.conns.get(p))
                    .map(|c| c.key());
                self.conn_chosen = true;
                self.select_conn(id);
            }
            Focus::Timeline => self.move_event(delta),
            Focus::Detail => {
                self.detail_scroll = if delta < 0 {
                    self.detail_scroll
                        .saturating_sub(delta.unsigned_abs() as u16)
                } else {
                    self.detail_scroll.saturating_add(delta as u16)
                }
            }
        }
    }

    fn move_event(&mut self, delta: isize) {
        let sel: Vec<usize> = self.selectable().map(|(_, it)| it.ev).collect();
        if sel.is_empty() {
            return;
        }
        let cur = self
            .sel_event
            .and_then(|e| sel.iter().position(|&x| x == e))
            .unwrap_or(sel.len() - 1);
        let next = cur.saturating_add_signed(delta).min(sel.len() - 1);
        self.sel_event = sel.get(next).copied();
        self.follow = self.sel_event == self.newest() && next + 1 >= sel.len().saturating_sub(2);
        self.detail_scroll = 0;
    }

    /// In a replay, `←`/`→`, Tab and Home/End move time; everywhere else
    /// they move the selection.
    fn replaying(&self) -> bool {
        !self.opts.live
    }

    /// Reveals through event `i` (with the violations found before it
    /// completed, which come before it; and, for the connection's last
    /// event, the violations found at the end), pauses, and selects it.
    fn reveal_through(&mut self, i: usize) {
        let mut end = i + 1;
        if let Some(c) = self.conn() {
            let pos = c.events.partition_point(|&j| j <= i);
            let rest = c.events.get(pos..).unwrap_or(&[]);
            let trailing = rest.iter().all(|&j| self.store.is_violation(j));
            if trailing {
                if let Some(&l) = rest.last() {
                    end = l + 1;
                }
            }
        }
        self.at_end = false;
        self.store.reveal_to(end);
        self.playing = false;
        self.pos = self.store.ts(end.saturating_sub(1)).or(self.pos);
        self.sel_event = Some(i);
        self.follow = true;
        self.detail_scroll = 0;
    }

    /// Hides event `i` and everything after it, pauses.
    fn rewind_to(&mut self, i: usize) {
        self.at_end = false;
        self.store.reveal_to(i);
        self.playing = false;
        self.pos = match i.checked_sub(1).and_then(|p| self.store.ts(p)) {
            Some(t) => Some(t),
            None => self.store.origin(),
        };
        self.follow = true;
        self.detail_scroll = 0;
    }

    fn step_forward(&mut self) {
        if !self.replaying() {
            self.move_event(1);
            return;
        }
        let next = match self.conn() {
            // The next event that is not a violation: a violation is
            // revealed with the event it concerns.
            Some(c) => {
                let rest = c
                    .events
                    .get(c.events.partition_point(|&i| i < self.store.revealed)..)
                    .unwrap_or(&[]);
                rest.iter()
                    .find(|&&i| !self.is_violation(i))
                    .or(rest.last())
                    .copied()
            }
            None => (self.store.revealed < self.store.len()).then_some(self.store.revealed),
        };
        if let Some(i) = next {
            self.reveal_through(i);
        }
    }

    fn last_revealed_event(&self) -> Option<usize> {
        let c = self.conn()?;
        self.store
            .revealed_of(c)
            .iter()
            .rev()
            .copied()
            .find(|&i| !self.is_violation(i))
    }

    fn is_violation(&self, i: usize) -> bool {
        self.store.is_violation(i)
    }

    fn step_back(&mut self) {
        if !self.replaying() {
            self.move_event(-1);
            return;
        }
        match self.conn() {
            Some(_) => {
                if let Some(i) = self.last_revealed_event() {
                    self.rewind_to(i);
                }
            }
            None => {
                let n = self.store.revealed.saturating_sub(1);
                self.rewind_to(n);
            }
        }
    }

    /// The selected connection's events (violations left out) with their phases.
    fn phases(&self) -> Vec<(usize, Phase)> {
        let Some(c) = self.conn() else {
            return Vec::new();
        };
        let mut out = Vec::with_capacity(c.events.len());
        for &i in &c.events {
            match self.store.rec(i).map(|r| r.phase()) {
                Some(Phase::Violation) | None => {}
                Some(p) => out.push((i, p)),
            }
        }
        out
    }

    fn next_phase(&mut self) {
        let has_hidden = self
            .conn()
            .is_some_and(|c| c.events.last().is_some_and(|&l| l >= self.store.revealed));
        if self.replaying() && has_hidden {
            let phases = self.phases();
            let current = self
                .last_revealed_event()
                .and_then(|l| phases.iter().find(|(i, _)| *i == l).map(|(_, p)| *p));
            let target = phases
                .iter()
                .find(|(i, p)| *i >= self.store.revealed && Some(*p) != current)
                .or(phases.last())
                .map(|(i, _)| *i);
            if let Some(i) = target {
                self.reveal_through(i);
            }
            return;
        }
        // Select the first line under the next header.
        let cur = self.selected_item().unwrap_or(0);
        let target = self
            .tl_items
            .iter()
            .enumerate()
            .skip(cur + 1)
            .skip_while(|(_, it)| !matches!(it.kind, ItemKind::Header(_)))
            .find(|(_, it)| it.selectable())
            .map(|(_, it)| it.ev);
        if let Some(ev) = target {
            self.select_event(ev);
        }
    }

    fn prev_phase(&mut self) {
        if self.replaying() && self.conn().is_some_and(|c| !c.events.is_empty()) {
            let phases = self.phases();
            let Some(last) = self.last_revealed_event() else {
                return;
            };
            let Some(k) = phases.iter().position(|(i, _)| *i == last) else {
                return;
            };
            // The start of the run of the current phase.
            let start_of = |k: usize| {
                let p = phases.get(k).map(|(_, p)| *p);
                let mut s = k;
                while s > 0 && phases.get(s - 1).map(|(_, p)| *p) == p {
                    s -= 1;
                }
                s
            };
            let mut s = start_of(k);
            if s == k && k > 0 {
                s = start_of(k - 1);
            }
            if let Some(&(i, _)) = phases.get(s) {
                self.rewind_to(i);
                self.reveal_through(i);
            }
            return;
        }
        let cur = self.selected_item().unwrap_or(0);
        // The header above the selection, then the one above that.
        let headers: Vec<usize> = self
            .tl_items
            .iter()
            .enumerate()
            .take(cur)
            .filter(|(_, it)| matches!(it.kind, ItemKind::Header(_)))
            .map(|(i, _)| i)
            .collect();
        let target = match headers.as_slice() {
            [.., a, b] if cur == b + 1 => Some(*a),
            [.., b] if cur != b + 1 => Some(*b),
            [.., a, _] => Some(*a),
            [b] => Some(*b),
            [] => None,
        };
        if let Some(h) = target {
            let ev = self
                .tl_items
                .iter()
                .skip(h)
                .find(|it| it.selectable())
                .map(|it| it.ev);
            if let Some(ev) = ev {
                self.select_event(ev);
            }
        }
    }

    fn select_event(&mut self, ev: usize) {
        self.sel_event = Some(ev);
        self.follow = self.newest() == Some(ev);
        self.detail_scroll = 0;
    }

    fn home(&mut self) {
        if self.replaying() {
            self.rewind_to(0);
            self.sel_event = None;
        } else {
            let first = self.selectable().next().map(|(_, it)| it.ev);
            self.sel_event = first;
            self.follow = false;
        }
        self.tl_scroll = 0;
    }

    fn end(&mut self) {
        if self.replaying() {
            // Stays at the end while the file is still being read.
            self.at_end = true;
            self.store.reveal_to(usize::MAX);
            self.playing = false;
            self.pos = self.store.last_ts().or(self.pos);
        } else {
            self.live_paused = false;
            self.store.reveal_to(usize::MAX);
        }
        self.follow = true;
    }

    // ---- mouse ---------------------------------------------------------

    fn mouse(&mut self, m: MouseEvent) {
        let p = Position::new(m.column, m.row);
        let inner = |r: Rect| r.inner(Margin::new(1, 1));
        let a = self.areas;
        let over = if a.conns.contains(p) {
            Some(Focus::Connections)
        } else if a.timeline.contains(p) {
            Some(Focus::Timeline)
        } else if a.detail.contains(p) {
            Some(Focus::Detail)
        } else {
            None
        };
        let Some(over) = over else { return };
        match m.kind {
            MouseEventKind::Down(MouseButton::Left) => {
                self.focus = over;
                match over {
                    Focus::Connections => {
                        let r = inner(a.conns);
                        if r.contains(p) {
                            let row = (p.y - r.y) as usize + self.conn_scroll;
                            if let Some(c) = self
                                .conn_rows
                                .get(row)
                                .and_then(|&pos| self.store.conns.get(pos))
                            {
                                let id = c.key();
                                self.conn_chosen = true;
                                self.select_conn(Some(id));
                            }
                        }
                    }
                    Focus::Timeline => {
                        let r = inner(a.timeline);
                        // The first line is the column header.
                        if r.contains(p) && p.y > r.y {
                            let row = (p.y - r.y - 1) as usize + self.tl_scroll;
                            if let Some(it) = self.tl_items.get(row).filter(|it| it.selectable()) {
                                let ev = it.ev;
                                self.select_event(ev);
                            }
                        }
                    }
                    Focus::Detail => {}
                }
            }
            MouseEventKind::ScrollUp | MouseEventKind::ScrollDown => {
                let d: isize = if m.kind == MouseEventKind::ScrollUp {
                    -1
                } else {
                    1
                };
                let saved = self.focus;
                self.focus = over;
                self.move_sel(if over == Focus::Detail { 3 * d } else { d });
                self.focus = saved;
            }
            _ => {}
        }
    }

    // ---- drawing -------------------------------------------------------

    fn status_info(&self) -> status::Info {
        let origin = self.store.origin().unwrap_or(0);
        let last = self.store.last_ts().unwrap_or(origin);
        let progress = match (self.done, self.total_bytes) {
            (false, Some(t)) if t > 0 => Some(self.bytes_read as f64 / t as f64),
            _ => None,
        };
        let packets = if self.packets > 0 {
            self.packets
        } else {
            self.store.max_pkt
        };
        status::Info {
            source: self.opts.source_label.clone(),
            live: self.opts.live,
            packets,
            conns: self.store.tcp_conns(),
            playing: self.playing,
            speed: self.speed,
            position: self.pos.unwrap_or(origin).saturating_sub(origin),
            duration: last.saturating_sub(origin),
            rate: self.rate,
            dropped: self.dropped,
            paused_new: self
                .live_paused
                .then(|| self.store.len().saturating_sub(self.store.revealed)),
            progress,
            done: self.done,
            overflow: self.store.overflow,
            at_end: self.done && self.store.revealed >= self.store.len(),
        }
    }

    fn message_line(&self) -> Option<Line<'static>> {
        if self.filter_editing {
            return Some(Line::from(vec![
                Span::styled("/", self.theme.key),
                Span::raw(clean(&self.filter)),
                Span::styled("█", self.theme.key),
                Span::styled(tr!(self.lang, "tui.msg.filter_editing"), self.theme.dim),
            ]));
        }
        if !self.filter.is_empty() {
            return Some(Line::from(vec![
                Span::styled(tr!(self.lang, "tui.msg.filter"), self.theme.key),
                Span::raw(clean(&self.filter)),
                Span::styled(tr!(self.lang, "tui.msg.filter_keys"), self.theme.dim),
            ]));
        }
        if let Some(e) = &self.error {
            let e = clean(e.get(self.lang));
            return Some(Line::styled(format!("✗ {e}"), self.theme.bad));
        }
        // The selected connection could not be decoded again from the file.
        if let Some((c, e)) = &self.store.load_error {
            if self.selected_conn() == Some(*c) {
                return Some(Line::styled(
                    format!("✗ #{c}: {}", clean(e.get(self.lang))),
                    self.theme.bad,
                ));
            }
        }
        self.warnings.back().map(|w| {
            let more = if self.warning_count > 1 {
                tr!(self.lang, "tui.msg.warnings", n = self.warning_count)
            } else {
                String::new()
            };
            let w = clean(w.get(self.lang));
            Line::styled(format!("⚠ {w}{more}"), self.theme.warn)
        })
    }

    /// Draws the whole screen.
    pub fn render(&mut self, f: &mut Frame) {
        self.refresh();
        let area = f.area();
        self.size = (area.width, area.height);
        let message = self.message_line();
        let [body, msg_area, status_area] = Layout::vertical([
            Constraint::Fill(1),
            Constraint::Length(u16::from(message.is_some())),
            Constraint::Length(1),
        ])
        .areas(area);
        status::render(f, status_area, &self.status_info(), self.lang, &self.theme);
        if let Some(m) = message {
            f.render_widget(Paragraph::new(m), msg_area);
        }
        if self.store.is_empty() {
            self.areas = Areas::default();
            self.render_waiting(f, body);
        } else {
            self.render_panels(f, body);
        }
        if self.help {
            help::render(f, area, self.lang, &self.theme);
        }
    }

    fn render_waiting(&self, f: &mut Frame, area: Rect) {
        let lang = self.lang;
        let text = if self.opts.live {
            tr!(
                lang,
                "tui.msg.waiting_live",
                source = clean(&self.opts.source_label)
            )
        } else if self.done {
            tr!(lang, "tui.msg.no_tcp")
        } else {
            let p = match self.total_bytes {
                Some(t) if t > 0 => status::progress_bar(self.bytes_read as f64 / t as f64, 20),
                _ => tr!(lang, "tui.status.pkts", n = self.packets),
            };
            tr!(
                lang,
                "tui.msg.reading",
                source = clean(&self.opts.source_label),
                progress = p
            )
        };
        let line = fit(&text, area.width as usize);
        let [mid] = Layout::vertical([Constraint::Length(1)])
            .flex(ratatui::layout::Flex::Center)
            .areas(area);
        f.render_widget(
            Paragraph::new(line).alignment(ratatui::layout::Alignment::Center),
            mid,
        );
    }

    fn render_panels(&mut self, f: &mut Frame, body: Rect) {
        let (conns_area, tl_area, detail_area) = if self.zoom {
            (Rect::default(), Rect::default(), body)
        } else if body.width >= 200 {
            let [c, t, d] = Layout::horizontal([
                Constraint::Length(44),
                Constraint::Fill(1),
                Constraint::Length(66),
            ])
            .areas(body);
            (c, t, d)
        } else {
            let cap = if body.height >= 36 { 10 } else { 6 };
            let want = (self.conn_rows.len() as u16)
                .saturating_add(2)
                .clamp(3, cap);
            let [c, rest] =
                Layout::vertical([Constraint::Length(want), Constraint::Fill(1)]).areas(body);
            // Side by side only when the timeline keeps about 60 columns:
            // narrower, its arrows cut their labels short.
            let [t, d] = if rest.width >= 110 {
                Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
                    .areas(rest)
            } else {
                Layout::vertical([Constraint::Percentage(55), Constraint::Percentage(45)])
                    .areas(rest)
            };
            (c, t, d)
        };
        self.areas = Areas {
            conns: conns_area,
            timeline: tl_area,
            detail: detail_area,
        };
        let sel_pos = self.sel_conn.and_then(|k| self.store.row_pos(k));
        let conn_view = connections::View {
            rows: self
                .conn_rows
                .iter()
                .filter_map(|&p| self.store.conns.get(p))
                .collect(),
            selected: sel_pos.and_then(|p| self.conn_rows.iter().position(|&r| r == p)),
            focused: self.focus == Focus::Connections,
            total: self.store.conns.len(),
            streams: self.store.conns.len() - self.store.tcp_conns(),
        };
        let lang = self.lang;
        if !conns_area.is_empty() {
            connections::render(
                f,
                conns_area,
                &conn_view,
                &mut self.conn_scroll,
                lang,
                &self.theme,
            );
        }
        let conn = self.sel_conn.and_then(|k| self.store.row(k));
        let hint = match conn {
            None if !self.filter.is_empty() => tr!(lang, "tui.msg.nothing_matches"),
            None => tr!(lang, "tui.msg.no_conn"),
            Some(_) if !self.filter.is_empty() => tr!(lang, "tui.msg.no_events_match"),
            Some(_) => tr!(lang, "tui.msg.no_events"),
        };
        let selected = self.selected_item();
        if !tl_area.is_empty() {
            let view = timeline::View {
                store: &self.store,
                conn,
                items: &self.tl_items,
                selected,
                focused: self.focus == Focus::Timeline,
                empty_hint: &hint,
                lang,
            };
            timeline::render(f, tl_area, &view, &mut self.tl_scroll, &self.theme);
        }
        let detail_hint =
            if self.replaying() && conn.is_some_and(|c| self.store.revealed_of(c).is_empty()) {
                tr!(lang, "tui.msg.nothing_shown")
            } else {
                tr!(lang, "tui.msg.select_event")
            };
        // The explanation pane sits above the detail (not when zoomed).
        let detail_area = if self.explain && !self.zoom && detail_area.height >= 8 {
            let w = usize::from(detail_area.width.saturating_sub(2));
            let key = (
                self.sel_conn,
                selected.and(self.sel_event),
                self.store.generation,
                w,
                lang,
            );
            let lines = match &self.explain_cache {
                Some((k, l)) if *k == key => l.clone(),
                _ => {
                    let l = explain::lines(
                        &self.store,
                        conn,
                        selected.and(self.sel_event),
                        w,
                        lang,
                        &self.theme,
                    );
                    self.explain_cache = Some((key, l.clone()));
                    l
                }
            };
            // As tall as the explanation, at most 45% of the column.
            let most = (u32::from(detail_area.height) * 45 / 100) as u16;
            let h = (lines.len() as u16).saturating_add(2).min(most).max(3);
            let [e, d] =
                Layout::vertical([Constraint::Length(h), Constraint::Fill(1)]).areas(detail_area);
            explain::render(f, e, lines, lang, &self.theme);
            d
        } else {
            detail_area
        };
        self.areas.detail = detail_area;
        detail::render(
            f,
            detail_area,
            &self.store,
            conn,
            selected.and(self.sel_event),
            &mut self.detail_scroll,
            self.focus == Focus::Detail,
            &detail_hint,
            lang,
            &self.theme,
        );
    }
}
