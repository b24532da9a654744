//! The TUI's copy of the timeline: every event received, the connections in
//! order of first packet, and per-connection counters over the events
//! *revealed* so far (a replay shows a prefix of the capture; so do the
//! counters, so that stepping back takes a badge back too).

use std::collections::HashMap;

use wsscope::analysis::{Event, EventKind, TeardownHow, TeardownStep};

/// At most this many events are kept (about a few hundred MB); later events
/// are counted in [`Store::overflow`] but not stored, so a live capture left
/// running cannot exhaust memory.
pub const MAX_EVENTS: usize = 1_000_000;

/// The phases of a connection's life, as the timeline groups them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// SYN, SYN-ACK, ACK.
    TcpHandshake,
    /// The TLS handshake (wss).
    TlsHandshake,
    /// The HTTP request and response that ask for and grant the upgrade.
    HttpUpgrade,
    /// Plain HTTP (no upgrade asked for).
    Http,
    /// WebSocket frames and messages.
    Data,
    /// Close frames.
    Closing,
    /// FIN, ACK, RST.
    TcpTeardown,
    /// Both FINs acknowledged, or a reset.
    Closed,
}

impl Phase {
    /// The header shown in the timeline.
    pub fn title(self) -> &'static str {
        match self {
            Phase::TcpHandshake => "TCP handshake",
            Phase::TlsHandshake => "TLS handshake",
            Phase::HttpUpgrade => "HTTP Upgrade",
            Phase::Http => "HTTP",
            Phase::Data => "Data",
            Phase::Closing => "Closing",
            Phase::TcpTeardown => "TCP teardown",
            Phase::Closed => "Closed",
        }
    }
}

/// The phase an event belongs to, given the phase of the event before it on
/// the same connection (`None` for a violation, which belongs to its event).
pub fn phase_of(ev: &Event, prev: Option<Phase>) -> Option<Phase> {
    Some(match &ev.kind {
        EventKind::ConnOpen { mid_stream, .. } => {
            if *mid_stream {
                Phase::Data
            } else {
                Phase::TcpHandshake
            }
        }
        EventKind::TcpHandshake { .. } => Phase::TcpHandshake,
        EventKind::TlsHandshake { .. } | EventKind::TlsDecrypt { .. } => match prev {
            Some(p) if p > Phase::TlsHandshake => p,
            _ => Phase::TlsHandshake,
        },
        EventKind::TlsAlert { .. } => prev.unwrap_or(Phase::TlsHandshake),
        EventKind::HttpRequest { headers, .. } => {
            if header_has_token(headers, "upgrade", "websocket") {
                Phase::HttpUpgrade
            } else {
                Phase::Http
            }
        }
        EventKind::HttpResponse { status, .. } => match prev {
            Some(Phase::HttpUpgrade) => Phase::HttpUpgrade,
            _ if *status == 101 => Phase::HttpUpgrade,
            _ => Phase::Http,
        },
        EventKind::WsHandshake { .. } => Phase::HttpUpgrade,
        EventKind::WsFrame { opcode: 8, .. } | EventKind::WsClose { .. } => Phase::Closing,
        EventKind::WsFrame { .. } | EventKind::WsMessage { .. } => match prev {
            Some(Phase::Closing) => Phase::Closing,
            _ => Phase::Data,
        },
        EventKind::TcpTeardown { .. } => Phase::TcpTeardown,
        EventKind::Gap { .. } => prev.unwrap_or(Phase::Data),
        EventKind::Violation { .. } => return None,
    })
}

/// True when header `name` (any case) lists `token` (any case) among its
/// comma-separated values.
pub fn header_has_token(headers: &[(String, String)], name: &str, token: &str) -> bool {
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .flat_map(|(_, v)| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// Counters over a connection's revealed events, for the badges.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConnStats {
    /// Events revealed.
    pub events: usize,
    /// The phase of the last revealed event (`None`: nothing yet).
    pub phase: Option<Phase>,
    /// A request asking for the WebSocket upgrade has been revealed.
    pub upgrade_asked: bool,
    /// The upgrade's outcome, once the handshake is seen.
    pub upgrade: Option<bool>,
    /// The status of the upgrade's response, once it is seen.
    pub upgrade_status: Option<u16>,
    /// WebSocket frames.
    pub frames: u64,
    /// WebSocket messages.
    pub messages: u64,
    /// Pings.
    pub pings: u64,
    /// Pongs.
    pub pongs: u64,
    /// The heartbeat: the latest gap between one side's successive pings.
    pub heartbeat_ms: Option<f64>,
    last_ping: [Option<wsscope::types::Timestamp>; 2],
    /// The close code (of the close exchange, else of the first close frame).
    pub close_code: Option<u16>,
    /// Violations.
    pub violations: u64,
    /// Gaps in the streams.
    pub gaps: u64,
    fins_acked: [bool; 2],
    rst: bool,
}

impl ConnStats {
    pub(crate) fn apply(&mut self, ev: &Event) {
        self.events += 1;
        if let Some(p) = phase_of(ev, self.phase) {
            self.phase = Some(p);
        }
        match &ev.kind {
            EventKind::HttpRequest { headers, .. }
                if header_has_token(headers, "upgrade", "websocket") =>
            {
                self.upgrade_asked = true
            }
            EventKind::HttpResponse { status, .. }
                if self.upgrade_asked && self.upgrade.is_none() =>
            {
                self.upgrade_status = Some(*status)
            }
            EventKind::WsHandshake { ok, status, .. } => {
                self.upgrade = Some(*ok);
                self.upgrade_status = Some(*status);
            }
            EventKind::WsFrame {
                opcode, close_code, ..
            } => {
                self.frames += 1;
                match opcode {
                    9 => {
                        self.pings += 1;
                        if let Some(d) = ev.dir {
                            if let Some(prev) = self.last_ping[d.index()].replace(ev.ts) {
                                self.heartbeat_ms = Some(ev.ts.millis_since(prev));
                            }
                        }
                    }
                    10 => self.pongs += 1,
                    8 => self.close_code = self.close_code.or(close_code.flatten()),
                    _ => {}
                }
            }
            EventKind::WsMessage { .. } => self.messages += 1,
            EventKind::WsClose { code, .. } => {
                self.close_code = code.or(self.close_code);
            }
            EventKind::Violation { .. } => self.violations += 1,
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
        if self.rst || self.fins_acked == [true, true] {
            self.phase = Some(Phase::Closed);
        }
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
    /// Counters over its revealed events.
    pub stats: ConnStats,
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
                None => self.add_conn(ev.conn, ev.pkt),
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

    fn add_conn(&mut self, id: u64, first_pkt: u64) -> usize {
        let conn = Conn {
            id,
            client: "?".into(),
            server: "?".into(),
            mid_stream: false,
            first_pkt,
            websocket: false,
            events: Vec::new(),
            stats: ConnStats::default(),
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
        if n < self.revealed {
            self.rewinds += 1;
            for c in &mut self.conns {
                c.stats = ConnStats::default();
            }
            self.revealed = 0;
        }
        for i in self.revealed..n {
            let Some(ev) = self.events.get(i) else { break };
            if let Some(pos) = self.by_id.get(&ev.conn) {
                if let Some(c) = self.conns.get_mut(*pos) {
                    c.stats.apply(ev);
                }
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

    /// The capture time of the first event, in microseconds.
    pub fn origin(&self) -> Option<i64> {
        self.events.first().map(|e| e.ts.0)
    }
}
