//! The TUI's copy of the timeline: an index of every event received (a
//! compact [`Rec`] each, see [`super::index`]), the connections in order of
//! first packet, and per-connection counters over the events *revealed* so
//! far (a replay shows a prefix of the capture; so do the counters, so that
//! stepping back takes a badge back too).
//!
//! Whole events are kept in memory for a live capture (at most
//! [`MAX_EVENTS`]); a replayed file keeps only the index, and the events of
//! the connection on screen are decoded again from the file by a [`Loader`]
//! ([`Store::load`]), at most [`MAX_LOADED`] of them at a time.
//!
//! A WebSocket over HTTP/2 (RFC 8441) gets a row of its own right under its
//! connection's: its events are the connection's shared ones (TCP, TLS,
//! HTTP/2 settings: `stream: None`) and its stream's, and its summary is fed
//! its stream's events only ([`Summary::for_stream`]).

use std::collections::HashMap;

use wsscope::analysis::{
    ConnStats, ConnTotals, Event, EventKind, Phase, Summary, TeardownHow, TeardownStep,
};
use wsscope::types::Timestamp;

use super::index::{Index, Rec};

/// At most this many whole events are kept in memory (a live capture: about a
/// few hundred MB); later events are counted in [`Store::overflow`] but not
/// stored, so a live capture left running cannot exhaust memory.
pub const MAX_EVENTS: usize = 1_000_000;

/// At most this many events are indexed for a replayed file (24 bytes each,
/// 8 in their connection's list, and their rows' summaries: about 80 MB, so
/// that the view stays under 128 MiB); later events are counted in
/// [`Store::overflow`].
pub const MAX_INDEXED: usize = 1_500_000;

/// At most this many rows (connections, and WebSockets over HTTP/2 in them)
/// are kept (about 1 KB each, with their summaries); the events of later
/// connections are counted in [`Store::overflow`].
pub const MAX_ROWS: usize = 30_000;

/// At most this many events of the connection on screen are decoded at once
/// (a window around the selection for a longer one).
pub const MAX_LOADED: usize = 50_000;

/// Decodes a connection's events again, from the capture (a replayed file).
pub trait Loader {
    /// Events `from..to` of connection `conn` (numbered from 0 within the
    /// connection, in the order the index has them); fewer than asked for
    /// when the capture has fewer.
    fn load(&mut self, conn: u64, from: usize, to: usize) -> Result<Vec<Event>, super::Said>;
}

/// The events of one connection decoded again: `events[k]` is its event
/// `from + k`.
struct Loaded {
    conn: u64,
    from: usize,
    events: Vec<Event>,
}

/// A heartbeat is said to have stopped when the connection goes on this many
/// heartbeat periods after one side's last ping.
pub const HEARTBEAT_STOPPED_PERIODS: f64 = 3.0;

/// True when header `name` (any case) lists `token` (any case) among its
/// comma-separated values.
pub fn header_has_token(headers: &[(String, String)], name: &str, token: &str) -> bool {
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .flat_map(|(_, v)| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// Where a connection stands: the [`Phase`] of its last revealed event (a
/// state machine over [`Phase::of`]; violations and gaps do not move it), and
/// whether TCP has finished with it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConnState {
    /// The phase of the last revealed event (`None`: nothing yet).
    pub phase: Option<Phase>,
    /// Both FINs acknowledged, or a reset.
    pub closed: bool,
}

/// What the view follows over a connection's revealed events that the one
/// summary ([`Summary`]) does not hold: the state machine and the moments of
/// the upgrade, so that a replay does not tell an outcome before it shows it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Progress {
    /// Events revealed.
    pub events: usize,
    /// The state machine.
    pub state: ConnState,
    /// A request asking for the WebSocket upgrade has been revealed.
    pub upgrade_asked: bool,
    /// The status of the upgrade's response, once it is seen.
    pub upgrade_status: Option<u16>,
    /// The code of the first close frame (before the close exchange is summed up).
    pub close_frame_code: Option<u16>,
    /// Pings that never got their pong (the analyzer's `unanswered_ping`).
    pub unanswered_pings: u64,
    /// Gaps in the streams.
    pub gaps: u64,
    /// The last ping of each side, and the last event.
    last_ping: [Option<Timestamp>; 2],
    last_ts: Option<Timestamp>,
    fins_acked: [bool; 2],
    rst: bool,
}

impl Progress {
    pub(crate) fn apply(&mut self, ev: &Event) {
        self.events += 1;
        self.last_ts = Some(self.last_ts.map_or(ev.ts, |t| t.max(ev.ts)));
        match Phase::of(&ev.kind) {
            Phase::Violation | Phase::Gap => {}
            p => self.state.phase = Some(p),
        }
        match &ev.kind {
            EventKind::HttpRequest { headers, .. }
                if header_has_token(headers, "upgrade", "websocket") =>
            {
                self.upgrade_asked = true
            }
            EventKind::HttpResponse { status, .. }
                if self.upgrade_asked && self.upgrade_status.is_none() =>
            {
                self.upgrade_status = Some(*status)
            }
            EventKind::WsHandshake { status, .. } => self.upgrade_status = Some(*status),
            EventKind::WsFrame { opcode: 9, .. } => {
                if let Some(d) = ev.dir {
                    self.last_ping[d.index()] = Some(ev.ts);
                }
            }
            EventKind::WsFrame {
                opcode: 8,
                close_code,
                ..
            } => self.close_frame_code = self.close_frame_code.or(close_code.flatten()),
            EventKind::Violation { code, .. } if *code == "unanswered_ping" => {
                self.unanswered_pings += 1
            }
            EventKind::Gap { .. } => self.gaps += 1,
            EventKind::TcpTeardown { how, step } => match (how, step) {
                (TeardownHow::Rst, _) => self.rst = true,
                // The ACK of a FIN is sent by the other side.
                (TeardownHow::Fin, Some(TeardownStep::Ack)) => {
                    if let Some(d) = ev.dir {
                        self.fins_acked[d.reverse().index()] = true;
                    }
                }
                _ => {}
            },
            _ => {}
        }
        self.state.closed = self.rst || self.fins_acked == [true, true];
    }

    /// How long the connection went on after the last ping of the side
    /// that pinged last, when that is more than
    /// [`HEARTBEAT_STOPPED_PERIODS`] times its heartbeat: the heartbeat
    /// stopped. `None` while it beats (or never did).
    pub fn heartbeat_silence_ms(&self, heartbeat_ms: Option<f64>) -> Option<f64> {
        let period = heartbeat_ms.filter(|p| *p > 0.0)?;
        let last_ping = self.last_ping.iter().flatten().max()?;
        let silence = self.last_ts?.millis_since(*last_ping);
        (silence > HEARTBEAT_STOPPED_PERIODS * period).then_some(silence)
    }
}

/// What names a row: the connection, and for a WebSocket over HTTP/2 its stream.
pub type RowKey = (u64, Option<u32>);

/// The events that make a stream row a WebSocket's (the extended CONNECT's
/// outcome, or frames).
fn opens_stream_row(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::WsHandshake { .. } | EventKind::WsFrame { .. }
    )
}

/// One TCP connection, or one WebSocket over HTTP/2 inside one.
#[derive(Clone, Debug)]
pub struct Conn {
    /// The connection number (`conn` of its events).
    pub id: u64,
    /// For the row of a WebSocket over HTTP/2: its stream (`None`: the
    /// connection's own row).
    pub stream: Option<u32>,
    /// `ip:port` of the client (`?` until known).
    pub client: String,
    /// `ip:port` of the server.
    pub server: String,
    /// The capture began after the SYN.
    pub mid_stream: bool,
    /// Packet number of its first event.
    pub first_pkt: u64,
    /// An upgrade to WebSocket was asked for (over all its events, revealed or not).
    pub websocket: bool,
    /// Indices into [`Store::events`] of its events, in order (a stream
    /// row: the connection's shared events and its stream's).
    pub events: Vec<usize>,
    /// The state machine and the upgrade's moments, over its revealed events.
    pub progress: Progress,
    /// The one summary ([`Summary`]) of its revealed events (a stream row:
    /// of its stream's revealed events).
    pub summary: Summary,
    /// [`Summary::close`] of it as it stands (kind, heartbeat and ping RTT
    /// medians, close verdict, duration): every number a badge or a panel
    /// shows comes from here.
    pub stats: ConnStats,
    /// The connection's packet-level numbers, once it has ended (bytes on the
    /// wire, packet times, TLS records).
    pub totals: Option<Box<ConnTotals>>,
}

impl Conn {
    /// Brings [`Conn::stats`] up to date with [`Conn::summary`].
    fn restat(&mut self) {
        let none = ConnTotals::default();
        let totals = self.totals.as_deref().unwrap_or(&none);
        self.stats = self.summary.clone().close(totals);
    }

    /// What names the row.
    pub fn key(&self) -> RowKey {
        (self.id, self.stream)
    }

    /// Its number as the views write it after `#`: `3`, or `3/s5` for stream 5.
    pub fn number(&self) -> String {
        match self.stream {
            Some(s) => format!("{}/s{s}", self.id),
            None => self.id.to_string(),
        }
    }

    /// Takes a revealed event into account: every event moves the state
    /// machine; a stream row's summary takes only its stream's.
    fn reveal(&mut self, ev: &Event) {
        self.progress.apply(ev);
        if self.stream.is_none() || ev.stream == self.stream {
            self.summary.add(ev);
        }
    }

    /// A summary with nothing revealed.
    fn empty_summary(&self, index: &Index) -> Summary {
        let ts = self
            .events
            .iter()
            .copied()
            .find(|&i| self.stream.is_none() || index.stream(i) == self.stream)
            .and_then(|i| index.get(i))
            .map_or(Timestamp(0), |r| Timestamp(r.ts));
        match self.stream {
            Some(s) => Summary::for_stream(self.id, s, ts, &self.client, &self.server),
            None => Summary::new(self.id, ts),
        }
    }
}

/// Every event received, and the connections they belong to.
#[derive(Default)]
pub struct Store {
    /// The index of the events, in capture order.
    index: Index,
    /// The events themselves, when kept in memory (no [`Loader`]).
    events: Vec<Event>,
    /// Decodes events again (a replayed file): then only the index is kept.
    loader: Option<Box<dyn Loader>>,
    /// The events of the connection on screen, decoded again.
    loaded: Option<Loaded>,
    /// Why the connection on screen could not be decoded again.
    pub load_error: Option<(u64, super::Said)>,
    /// Connections in order of first packet, each followed by the rows of
    /// its WebSockets over HTTP/2 in stream order.
    pub conns: Vec<Conn>,
    by_id: HashMap<RowKey, usize>,
    /// The streams that have a row, per connection.
    streams: HashMap<u64, Vec<u32>>,
    /// How many of [`Store::events`] are shown (a prefix).
    pub revealed: usize,
    /// Events not kept because [`MAX_EVENTS`] was reached.
    pub overflow: u64,
    /// Bumped on every change, so views can cache what they derive.
    pub generation: u64,
    /// The highest packet number seen in an event.
    pub max_pkt: u64,
    /// Bumped each time the revealed prefix shrinks (a replay stepped
    /// back), so views built incrementally know to start over.
    pub rewinds: u64,
    /// The capture's first packet (every time shown is relative to it).
    pub first_packet: Option<Timestamp>,
}

impl Store {
    /// A store that keeps only the index, and decodes the events on screen
    /// again with `loader`.
    pub fn with_loader(loader: Box<dyn Loader>) -> Store {
        Store {
            loader: Some(loader),
            ..Store::default()
        }
    }

    /// How many events there are.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// No event yet.
    pub fn is_empty(&self) -> bool {
        self.index.len() == 0
    }

    /// The index of event `i`.
    pub fn rec(&self, i: usize) -> Option<&Rec> {
        self.index.get(i)
    }

    /// The time of event `i` (µs).
    pub fn ts(&self, i: usize) -> Option<i64> {
        self.index.get(i).map(|r| r.ts)
    }

    /// The time of the last event (µs).
    pub fn last_ts(&self) -> Option<i64> {
        self.index.last().map(|r| r.ts)
    }

    /// Event `i` is a violation.
    pub fn is_violation(&self, i: usize) -> bool {
        self.index.get(i).is_some_and(|r| r.is_violation())
    }

    /// Event `i` whole: from memory, or (a replayed file) when its
    /// connection is the one decoded again ([`Store::load`]).
    pub fn event(&self, i: usize) -> Option<&Event> {
        if self.loader.is_none() {
            return self.events.get(i);
        }
        let l = self.loaded.as_ref()?;
        let r = self.index.get(i)?;
        if u64::from(r.conn) != l.conn {
            return None;
        }
        let c = self.conn(l.conn)?;
        let k = c.events.binary_search(&i).ok()?;
        l.events.get(k.checked_sub(l.from)?)
    }

    /// Bytes the store holds for its events (the index, the connections'
    /// lists of events, the events whole), for the tests of its bound.
    #[cfg(test)]
    pub fn heap_bytes(&self) -> usize {
        self.index.heap_bytes()
            + self
                .conns
                .iter()
                .map(|c| c.events.capacity() * 8 + std::mem::size_of::<Conn>())
                .sum::<usize>()
            + self.events.capacity() * std::mem::size_of::<Event>()
    }

    /// How many events are decoded again.
    #[cfg(test)]
    pub fn loaded_len(&self) -> usize {
        self.loaded.as_ref().map_or(0, |l| l.events.len())
    }

    /// The events whole at hand, in order (all of them in memory; a replayed
    /// file: those of the connection decoded again).
    #[cfg(test)]
    pub fn events(&self) -> impl Iterator<Item = &Event> {
        (0..self.len()).filter_map(|i| self.event(i))
    }

    /// Makes the events of row `key` whole (a replayed file: decodes its
    /// connection again, or the [`MAX_LOADED`] of them around its event
    /// `focus` for a longer one). True when that changed what
    /// [`Store::event`] gives.
    pub fn load(&mut self, key: RowKey, focus: Option<usize>) -> bool {
        let Some(loader) = self.loader.as_mut() else {
            return false;
        };
        let Some(c) = self
            .by_id
            .get(&(key.0, None))
            .and_then(|&p| self.conns.get(p))
        else {
            return false;
        };
        let n = c.events.len();
        let k = focus.map_or(n, |f| c.events.partition_point(|&i| i < f));
        let from = if n <= MAX_LOADED {
            0
        } else {
            k.saturating_sub(MAX_LOADED / 2).min(n - MAX_LOADED)
        };
        let to = (from + MAX_LOADED).min(n);
        if let Some(l) = &self.loaded {
            // Still in the middle half of the window, or the window covers it all.
            let covers = l.conn == key.0 && l.from <= from && l.from + l.events.len() >= to;
            let near = l.conn == key.0
                && n > MAX_LOADED
                && l.events.len() == MAX_LOADED
                && k >= l.from + MAX_LOADED / 4
                && k < l.from + 3 * MAX_LOADED / 4;
            // A connection still being read grows: decoded again each time
            // it has doubled, and once more when it has ended, so that a long
            // one costs a few readings rather than one per batch of events.
            let growing = l.conn == key.0
                && l.from == from
                && c.totals.is_none()
                && !l.events.is_empty()
                && l.events.len() * 2 >= to - from;
            if covers || near || growing {
                return false;
            }
        }
        if self.load_error.as_ref().is_some_and(|(c, _)| *c == key.0) {
            return false;
        }
        let result = loader.load(key.0, from, to).and_then(|events| {
            // The same events as the index's, or none.
            for (k, e) in events.iter().enumerate() {
                let r = c.events.get(from + k).and_then(|&i| self.index.get(i));
                if !r.is_some_and(|r| r.ts == e.ts.0 && r.name() == e.kind.name()) {
                    let n = from + k;
                    return Err(super::Said::new(|lang| {
                        tr!(lang, "tui.reload.differs", n = n)
                    }));
                }
            }
            Ok(events)
        });
        match result {
            Ok(events) => {
                self.loaded = Some(Loaded {
                    conn: key.0,
                    from,
                    events,
                });
            }
            Err(e) => {
                self.load_error = Some((key.0, e));
                self.loaded = None;
            }
        }
        self.generation += 1;
        true
    }

    /// Appends events (not revealed yet).
    pub fn push(&mut self, events: Vec<Event>) {
        for ev in events {
            let max = if self.loader.is_some() {
                MAX_INDEXED
            } else {
                MAX_EVENTS
            };
            if self.index.len() >= max {
                self.overflow += 1;
                continue;
            }
            let pos = match self.by_id.get(&(ev.conn, None)) {
                Some(&p) => p,
                None if self.conns.len() >= MAX_ROWS => {
                    self.overflow += 1;
                    continue;
                }
                None => self.add_conn(ev.conn, ev.pkt, ev.ts),
            };
            let idx = self.index.push(&ev);
            self.max_pkt = self.max_pkt.max(ev.pkt);
            if let Some(conn) = self.conns.get_mut(pos) {
                match &ev.kind {
                    EventKind::ConnOpen {
                        client,
                        server,
                        mid_stream,
                    } => {
                        conn.client = client.clone();
                        conn.server = server.clone();
                        conn.mid_stream = *mid_stream;
                    }
                    EventKind::HttpRequest { headers, .. }
                        if header_has_token(headers, "upgrade", "websocket") =>
                    {
                        conn.websocket = true
                    }
                    EventKind::WsHandshake { .. } | EventKind::WsFrame { .. } => {
                        conn.websocket = true
                    }
                    _ => {}
                }
                conn.events.push(idx);
            }
            let (id, stream) = (ev.conn, ev.stream);
            let opens = opens_stream_row(&ev.kind);
            if self.loader.is_none() {
                self.events.push(ev);
            }
            match stream {
                Some(s) => match self.by_id.get(&(id, Some(s))) {
                    Some(&p) => {
                        if let Some(row) = self.conns.get_mut(p) {
                            row.events.push(idx);
                        }
                    }
                    None if opens => self.add_stream_row(id, s),
                    None => {}
                },
                None => {
                    for s in self.streams.get(&id).into_iter().flatten() {
                        if let Some(row) = self.by_id.get(&(id, Some(*s))).copied() {
                            if let Some(row) = self.conns.get_mut(row) {
                                row.events.push(idx);
                            }
                        }
                    }
                }
            }
        }
        self.generation += 1;
    }

    /// Gives stream `s` of connection `id` its row, under the connection's
    /// (after its rows of lower streams), with the events so far and, for
    /// those already revealed, its counters.
    fn add_stream_row(&mut self, id: u64, s: u32) {
        let Some(parent) = self.conn(id) else { return };
        let events: Vec<usize> = parent
            .events
            .iter()
            .copied()
            .filter(|&i| {
                let st = self.index.stream(i);
                st.is_none() || st == Some(s)
            })
            .collect();
        let mut row = Conn {
            id,
            stream: Some(s),
            client: parent.client.clone(),
            server: parent.server.clone(),
            mid_stream: parent.mid_stream,
            first_pkt: parent.first_pkt,
            websocket: true,
            events,
            progress: Progress::default(),
            summary: Summary::new(id, Timestamp(0)),
            stats: parent.stats.clone(),
            totals: None,
        };
        row.summary = row.empty_summary(&self.index);
        let revealed = row.events.partition_point(|&i| i < self.revealed);
        let shown = row.events.get(..revealed).unwrap_or(&[]).to_vec();
        for i in shown {
            if let Some(ev) = self.index.lite(i, &row.client, &row.server) {
                row.reveal(&ev);
            }
        }
        row.restat();
        let streams = self.streams.entry(id).or_default();
        let below = streams.iter().filter(|&&t| t < s).count();
        streams.push(s);
        streams.sort_unstable();
        let pos = self
            .conn_pos(id)
            .map_or(self.conns.len(), |p| p + 1 + below);
        self.conns.insert(pos.min(self.conns.len()), row);
        self.reindex();
    }

    /// Connection `conn` has ended: its packet-level numbers join its summary.
    pub fn set_totals(&mut self, conn: u64, totals: ConnTotals) {
        if let Some(&i) = self.by_id.get(&(conn, None)) {
            if let Some(c) = self.conns.get_mut(i) {
                c.totals = Some(Box::new(totals));
                c.restat();
                self.generation += 1;
            }
        }
    }

    fn reindex(&mut self) {
        self.by_id = self
            .conns
            .iter()
            .enumerate()
            .map(|(i, c)| (c.key(), i))
            .collect();
    }

    fn add_conn(&mut self, id: u64, first_pkt: u64, ts: Timestamp) -> usize {
        let summary = Summary::new(id, ts);
        let stats = summary.clone().close(&ConnTotals::default());
        let conn = Conn {
            id,
            stream: None,
            client: "?".into(),
            server: "?".into(),
            mid_stream: false,
            first_pkt,
            websocket: false,
            events: Vec::new(),
            progress: Progress::default(),
            summary,
            stats,
            totals: None,
        };
        // Events complete in capture order, so a new connection almost always
        // goes last; a connection whose first event completes late is moved
        // to its place by first packet.
        let pos = self
            .conns
            .partition_point(|c| (c.first_pkt, c.id) <= (first_pkt, id));
        self.conns.insert(pos, conn);
        if pos + 1 == self.conns.len() {
            self.by_id.insert((id, None), pos);
        } else {
            self.reindex();
        }
        pos
    }

    /// Position in [`Store::conns`] of connection `id`'s own row.
    pub fn conn_pos(&self, id: u64) -> Option<usize> {
        self.row_pos((id, None))
    }

    /// Connection `id` (its own row).
    pub fn conn(&self, id: u64) -> Option<&Conn> {
        self.conn_pos(id).and_then(|p| self.conns.get(p))
    }

    /// Position in [`Store::conns`] of row `key`.
    pub fn row_pos(&self, key: RowKey) -> Option<usize> {
        self.by_id.get(&key).copied()
    }

    /// Row `key`: a connection, or a WebSocket over HTTP/2 in one.
    pub fn row(&self, key: RowKey) -> Option<&Conn> {
        self.row_pos(key).and_then(|p| self.conns.get(p))
    }

    /// How many TCP connections there are (rows of streams left out).
    pub fn tcp_conns(&self) -> usize {
        self.conns.iter().filter(|c| c.stream.is_none()).count()
    }

    /// Shows exactly the first `n` events (clamped), updating the counters.
    pub fn reveal_to(&mut self, n: usize) {
        let n = n.min(self.index.len());
        if n == self.revealed {
            return;
        }
        let mut touched = vec![false; self.conns.len()];
        if n < self.revealed {
            self.rewinds += 1;
            for c in &mut self.conns {
                c.progress = Progress::default();
                c.summary = c.empty_summary(&self.index);
            }
            touched.fill(true);
            self.revealed = 0;
        }
        for i in self.revealed..n {
            let Some(r) = self.index.get(i) else { break };
            let (client, server) = match self.by_id.get(&(u64::from(r.conn), None)) {
                Some(&p) => self
                    .conns
                    .get(p)
                    .map_or(("", ""), |c| (c.client.as_str(), c.server.as_str())),
                None => ("", ""),
            };
            let Some(ev) = self.index.lite(i, client, server) else {
                break;
            };
            let ev = &ev;
            let streams: &[u32] = match ev.stream {
                // A shared event is every stream row's too.
                None => self.streams.get(&ev.conn).map_or(&[], |v| v.as_slice()),
                Some(ref s) => std::slice::from_ref(s),
            };
            let rows = std::iter::once(None).chain(streams.iter().map(|&s| Some(s)));
            for key in rows {
                let Some(&pos) = self.by_id.get(&(ev.conn, key)) else {
                    continue;
                };
                if let Some(c) = self.conns.get_mut(pos) {
                    c.reveal(ev);
                    if let Some(t) = touched.get_mut(pos) {
                        *t = true;
                    }
                }
            }
        }
        // The medians and the kind once per connection and call, not per event.
        for (c, t) in self.conns.iter_mut().zip(touched) {
            if t {
                c.restat();
            }
        }
        self.revealed = n;
        self.generation += 1;
    }

    /// The revealed events of a connection: a prefix of `conn.events`.
    pub fn revealed_of<'a>(&self, conn: &'a Conn) -> &'a [usize] {
        let k = conn.events.partition_point(|&i| i < self.revealed);
        conn.events.get(..k).unwrap_or(&[])
    }

    /// The first WebSocket connection (an upgrade asked for), if any yet.
    pub fn first_websocket_conn(&self) -> Option<&Conn> {
        self.conns
            .iter()
            .find(|c| c.websocket && c.stream.is_none())
    }

    /// The first WebSocket connection, else the first connection.
    pub fn first_websocket(&self) -> Option<u64> {
        self.conns
            .iter()
            .find(|c| c.websocket && c.stream.is_none())
            .or(self.conns.first())
            .map(|c| c.id)
    }

    /// The newest WebSocket connection, else the newest connection.
    pub fn last_websocket(&self) -> Option<u64> {
        self.conns
            .iter()
            .rev()
            .find(|c| c.websocket && c.stream.is_none())
            .or(self.conns.iter().rev().find(|c| c.stream.is_none()))
            .map(|c| c.id)
    }

    /// The time every view counts from, in microseconds: the capture's
    /// first packet, else (before it is known) the first event.
    pub fn origin(&self) -> Option<i64> {
        self.first_packet
            .map(|t| t.0)
            .or_else(|| self.index.get(0).map(|r| r.ts))
    }
}

/// The title of phase `p` on a connection of `kind` (`Summary`'s kind), in
/// `lang`: HTTP is named for what the connection does with it (an Upgrade,
/// polling, long polling, server-sent events).
pub fn phase_title(p: Phase, kind: &str, lang: wsscope::output::Lang) -> String {
    match p {
        Phase::TcpHandshake => tr!(lang, "tui.phase.tcp_handshake"),
        Phase::Tls => tr!(lang, "tui.phase.tls"),
        Phase::Http => match kind {
            "websocket" => tr!(lang, "tui.phase.http_upgrade"),
            "http-polling" => tr!(lang, "tui.phase.http_polling"),
            "http-long-polling" => tr!(lang, "tui.phase.http_long_polling"),
            "http-streaming" => tr!(lang, "tui.phase.http_streaming"),
            _ => tr!(lang, "tui.phase.http"),
        },
        Phase::Accept => tr!(lang, "tui.phase.accept"),
        Phase::Data => tr!(lang, "tui.phase.data"),
        Phase::Heartbeat => tr!(lang, "tui.phase.heartbeat"),
        Phase::Close => tr!(lang, "tui.phase.close"),
        Phase::Teardown => tr!(lang, "tui.phase.teardown"),
        Phase::Violation => tr!(lang, "tui.phase.violation"),
        Phase::Gap => tr!(lang, "tui.phase.gap"),
    }
}
