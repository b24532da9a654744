//! The TUI's copy of the timeline: every event received, the connections in
//! order of first packet, and per-connection counters over the events
//! *revealed* so far (a replay shows a prefix of the capture; so do the
//! counters, so that stepping back takes a badge back too).

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

/// One TCP connection.
#[derive(Clone, Debug)]
pub struct Conn {
    /// The connection number (`conn` of its events).
    pub id: u64,
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
    /// Indices into [`Store::events`] of its events, in order.
    pub events: Vec<usize>,
    /// The state machine and the upgrade's moments, over its revealed events.
    pub progress: Progress,
    /// The one summary ([`Summary`]) of its revealed events.
    pub summary: Summary,
    /// [`Summary::close`] of it as it stands (kind, heartbeat and ping RTT
    /// medians, close verdict, duration): every number a badge or a panel
    /// shows comes from here.
    pub stats: ConnStats,
}

impl Conn {
    /// Brings [`Conn::stats`] up to date with [`Conn::summary`].
    fn restat(&mut self) {
        self.stats = self.summary.clone().close(&ConnTotals::default());
    }
}

/// Every event received, and the connections they belong to.
#[derive(Debug, Default)]
pub struct Store {
    /// The events, in capture order.
    pub events: Vec<Event>,
    /// Connections in order of first packet.
    pub conns: Vec<Conn>,
    by_id: HashMap<u64, usize>,
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
            let pos = match self.by_id.get(&ev.conn) {
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
            self.events.push(ev);
        }
        self.generation += 1;
    }

    fn add_conn(&mut self, id: u64, first_pkt: u64, ts: Timestamp) -> usize {
        let summary = Summary::new(id, ts);
        let stats = summary.clone().close(&ConnTotals::default());
        let conn = Conn {
            id,
            client: "?".into(),
            server: "?".into(),
            mid_stream: false,
            first_pkt,
            websocket: false,
            events: Vec::new(),
            progress: Progress::default(),
            summary,
            stats,
        };
        // Events complete in capture order, so a new connection almost always
        // goes last; a connection whose first event completes late is moved
        // to its place by first packet.
        let pos = self
            .conns
            .partition_point(|c| (c.first_pkt, c.id) <= (first_pkt, id));
        self.conns.insert(pos, conn);
        if pos + 1 == self.conns.len() {
            self.by_id.insert(id, pos);
        } else {
            self.by_id = self
                .conns
                .iter()
                .enumerate()
                .map(|(i, c)| (c.id, i))
                .collect();
        }
        pos
    }

    /// Position in [`Store::conns`] of connection `id`.
    pub fn conn_pos(&self, id: u64) -> Option<usize> {
        self.by_id.get(&id).copied()
    }

    /// Connection `id`.
    pub fn conn(&self, id: u64) -> Option<&Conn> {
        self.conn_pos(id).and_then(|p| self.conns.get(p))
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
                let ts = c
                    .events
                    .first()
                    .and_then(|&i| self.events.get(i))
                    .map_or(Timestamp(0), |e| e.ts);
                c.summary = Summary::new(c.id, ts);
            }
            touched.fill(true);
            self.revealed = 0;
        }
        for i in self.revealed..n {
            let Some(ev) = self.events.get(i) else { break };
            if let Some(&pos) = self.by_id.get(&ev.conn) {
                if let Some(c) = self.conns.get_mut(pos) {
                    c.progress.apply(ev);
                    c.summary.add(ev);
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
        self.conns.iter().find(|c| c.websocket)
    }

    /// The first WebSocket connection, else the first connection.
    pub fn first_websocket(&self) -> Option<u64> {
        self.conns
            .iter()
            .find(|c| c.websocket)
            .or(self.conns.first())
            .map(|c| c.id)
    }

    /// The newest WebSocket connection, else the newest connection.
    pub fn last_websocket(&self) -> Option<u64> {
        self.conns
            .iter()
            .rev()
            .find(|c| c.websocket)
            .or(self.conns.last())
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
