//! The TUI's copy of the timeline: every event received, the connections in
//! order of first packet, and per-connection counters over the events
//! *revealed* so far (a replay shows a prefix of the capture; so do the
//! counters, so that stepping back takes a badge back too).
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

/// At most this many events are kept (about a few hundred MB); later events
/// are counted in [`Store::overflow`] but not stored, so a live capture left
/// running cannot exhaust memory.
pub const MAX_EVENTS: usize = 1_000_000;

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
    fn empty_summary(&self, events: &[Event]) -> Summary {
        let ts = self
            .events
            .iter()
            .filter_map(|&i| events.get(i))
            .find(|e| self.stream.is_none() || e.stream == self.stream)
            .map_or(Timestamp(0), |e| e.ts);
        match self.stream {
            Some(s) => Summary::for_stream(self.id, s, ts, &self.client, &self.server),
            None => Summary::new(self.id, ts),
        }
    }
}

/// Every event received, and the connections they belong to.
#[derive(Debug, Default)]
pub struct Store {
    /// The events, in capture order.
    pub events: Vec<Event>,
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
    /// Appends events (not revealed yet).
    pub fn push(&mut self, events: Vec<Event>) {
        for ev in events {
            if self.events.len() >= MAX_EVENTS {
                self.overflow += 1;
                continue;
            }
            let idx = self.events.len();
            self.max_pkt = self.max_pkt.max(ev.pkt);
            let pos = match self.by_id.get(&(ev.conn, None)) {
                Some(&p) => p,
                None => self.add_conn(ev.conn, ev.pkt, ev.ts),
            };
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
            self.events.push(ev);
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
                self.events
                    .get(i)
                    .is_some_and(|e| e.stream.is_none() || e.stream == Some(s))
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
        row.summary = row.empty_summary(&self.events);
        let revealed = row.events.partition_point(|&i| i < self.revealed);
        let shown = row.events.get(..revealed).unwrap_or(&[]).to_vec();
        for i in shown {
            if let Some(ev) = self.events.get(i) {
                row.reveal(ev);
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
        let n = n.min(self.events.len());
        if n == self.revealed {
            return;
        }
        let mut touched = vec![false; self.conns.len()];
        if n < self.revealed {
            self.rewinds += 1;
            for c in &mut self.conns {
                c.progress = Progress::default();
                c.summary = c.empty_summary(&self.events);
            }
            touched.fill(true);
            self.revealed = 0;
        }
        for i in self.revealed..n {
            let Some(ev) = self.events.get(i) else { break };
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
            .or_else(|| self.events.first().map(|e| e.ts.0))
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
