//! The analyzer: raw packets in, timeline events out.
//!
//! It owns the wire decoder and the TCP flow table, and gives each connection a
//! [`Stack`] of protocol layers above TCP (recognition, HTTP/1.1, WebSocket; see
//! [`crate::stack`]). It maps TCP directions to the connection's client and server,
//! keeps each connection's packet-level totals, and turns every layer's typed
//! events into [`Event`]s through the one contract mapping
//! ([`super::contract`]), handed to a [`Sink`]. It never does I/O.

use std::collections::HashMap;
use std::net::SocketAddr;

use super::contract;
use crate::analysis::{Event, EventKind, TeardownStep, Warning};
use crate::budget::Budget;
use crate::stack::{LayerEvent, Stack, StackConfig};
use crate::tcp::{CloseReason, FlowTable, SegmentInfo, TcpConfig, TcpEvent, TcpWarning};
use crate::tls::{KeyLog, TlsConfig};
use crate::types::{ConnMap, Direction, Timestamp};
use crate::wire::{self, Decoded, WireLimits};
use crate::ws::WsConfig;
use std::sync::Arc;

/// Where the analyzer's output goes: the one sink every view implements.
pub trait Sink {
    /// A timeline event, in completion order.
    fn event(&mut self, event: Event);
    /// The capture's first packet (filtered out or not): time zero of the timelines.
    fn first_packet(&mut self, _ts: Timestamp) {}
    /// A warning for the user (unsupported link type, buffer bound hit, ...),
    /// already deduplicated by the analyzer; a view words it in its language
    /// (`output::warning_text`: the library holds no prose for them).
    fn warning(&mut self, _warning: Warning) {}
    /// `conn` has ended: no event for it follows. `totals`: its packet-level numbers.
    fn conn_closed(&mut self, _conn: u64, _totals: &ConnTotals) {}
    /// Heap bytes the sink keeps per connection (summaries of open connections, rows
    /// waiting for their turn, ...): they count in the memory budget
    /// ([`crate::budget`]). Asked after every packet: keep a running count.
    fn heap_bytes(&self) -> usize {
        0
    }
}

impl Sink for Vec<Event> {
    fn event(&mut self, event: Event) {
        self.push(event);
    }
}

/// A connection's packet-level numbers, whatever it carries.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConnTotals {
    /// The number of its first packet.
    pub first_pkt: u64,
    /// The earliest and latest capture times of its packets (files are not always in
    /// time order: these are the minimum and the maximum, not the first and last).
    pub first_ts: Timestamp,
    /// See `first_ts`.
    pub last_ts: Timestamp,
    /// Its packets.
    pub packets: u64,
    /// TCP payload bytes per direction (`[c2s, s2c]`), each byte of the stream once:
    /// retransmissions and keep-alive probes are not counted again.
    pub bytes: [u64; 2],
    /// TLS records and bytes, for a TLS connection.
    pub tls: Option<Box<crate::stack::TlsTotals>>,
}

impl ConnTotals {
    /// One more packet, captured at `ts`.
    fn count(&mut self, ts: Timestamp) {
        self.packets += 1;
        if ts < self.first_ts {
            self.first_ts = ts;
        }
        if ts > self.last_ts {
            self.last_ts = ts;
        }
    }

    /// Both directions' payload bytes.
    pub fn wire_bytes(&self) -> u64 {
        self.bytes[0] + self.bytes[1]
    }

    /// Latest minus earliest packet time, never negative.
    pub fn duration_ms(&self) -> f64 {
        self.last_ts.millis_since(self.first_ts).max(0.0)
    }
}

/// Limits and options of the whole pipeline; every bound has a documented default.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// IPv4 fragment reassembly bounds.
    pub wire: WireLimits,
    /// Flow table and reassembly bounds.
    pub tcp: TcpConfig,
    /// WebSocket decoding bounds, and whether display strings are rendered
    /// ([`WsConfig::detail`]: a summary-only consumer sets it false).
    pub ws: WsConfig,
    /// TLS bounds; `wait_for_keys` (live capture: the key log may still grow).
    pub tls: TlsConfig,
    /// TLS secrets (a key log, a pcapng's Decryption Secrets Blocks).
    pub keys: Arc<KeyLog>,
    /// The memory budget across every connection and the sink (`--max-memory`;
    /// default [`crate::budget::DEFAULT_MAX_MEMORY`]): past it the least recently used
    /// connections are ended.
    pub budget: Budget,
}

/// Distinct warnings shown; the rest are counted.
pub const MAX_WARNINGS: usize = 100;

struct Conn {
    /// True when the TCP layer's guess of the client must be turned round
    /// (mid-stream captures where HTTP, TLS or masking showed the other side is the client).
    swapped: bool,
    /// A mid-stream connection whose client is still unknown: its `conn_open` waits
    /// (at the latest until its first payload).
    pending_open: Option<(SocketAddr, SocketAddr)>,
    stack: Stack,
    totals: ConnTotals,
    /// The stack's heap bytes counted in [`Conns::stack_bytes`].
    charged: usize,
}

/// Turns packets into events. See the module docs.
pub struct Analyzer {
    wire: wire::Decoder,
    flows: FlowTable,
    conns: Conns,
    packets: u64,
    /// With a filter hiding packets of a file: the connections numbered as without
    /// the filter (see [`Analyzer::skip_packet`]).
    numbering: Option<Numbering>,
    /// The connection the last packet was a segment of.
    last_conn: Option<u64>,
    /// The memory budget and its high-water mark.
    budget: Budget,
}

/// Connection numbers as in the unfiltered capture: a second flow table sees every
/// TCP packet, without its payload (only SYN, FIN, RST and sequence numbers decide
/// where a connection begins), and the analysing table's numbers are mapped to it.
struct Numbering {
    wire: wire::Decoder,
    flows: FlowTable,
    /// Analysing table's number → the unfiltered number.
    map: ConnMap<u64>,
    /// The unfiltered number of the packet being analysed.
    current: u64,
}

/// The per-connection stacks, apart from the flow table so that the flow
/// table's events (which borrow its buffers) can be handled without a copy.
struct Conns {
    cfg: Config,
    /// What every new connection's stack starts with (shared by all).
    stack_cfg: Arc<StackConfig>,
    /// Boxed: a table of large entries holds twice their room (three times while it
    /// grows), and a flood of connections fills it.
    map: ConnMap<Box<Conn>>,
    /// Heap bytes of every connection's stack (a running count).
    stack_bytes: usize,
    /// Bytes of the table and the connections' own state, as of the last change.
    table_bytes: usize,
    warned: HashMap<Warning, u32>,
    suppressed: u64,
    snaplen_warned: bool,
}

/// The packet being processed: its number and time, stamped on every event it completes.
#[derive(Clone, Copy)]
struct Here {
    pkt: u64,
    ts: Timestamp,
}

impl Analyzer {
    /// A new analyzer with the given limits.
    pub fn new(cfg: Config) -> Analyzer {
        let budget = cfg.budget;
        Analyzer {
            wire: wire::Decoder::new(cfg.wire),
            flows: FlowTable::new(cfg.tcp),
            conns: Conns {
                stack_cfg: Arc::new(StackConfig {
                    ws: cfg.ws.clone(),
                    tls: cfg.tls,
                    keys: cfg.keys.clone(),
                }),
                cfg,
                map: ConnMap::default(),
                stack_bytes: 0,
                table_bytes: 0,
                warned: HashMap::new(),
                suppressed: 0,
                snaplen_warned: false,
            },
            packets: 0,
            numbering: None,
            last_conn: None,
            budget,
        }
    }

    /// The memory budget: its limit, the bytes held after the last packet, the most
    /// ever held (its high-water mark), and the connections ended to stay under it.
    pub fn budget(&self) -> Budget {
        self.budget
    }

    /// Heap bytes held now across the flow tables, the connections' stacks and the
    /// sink (see [`crate::budget`]).
    fn heap_bytes(&self, sink: &impl Sink) -> usize {
        held(&self.flows, &self.conns, self.numbering.as_ref(), sink)
    }

    /// After each packet: past the budget, end the least recently used connections
    /// (first forgetting the ended ones remembered for their late packets) until the
    /// bytes held are back under the budget's target.
    #[inline]
    fn keep_to_budget(&mut self, here: Here, sink: &mut impl Sink) {
        let used = self.heap_bytes(sink);
        if self.budget.set_used(used) {
            self.shrink_to_budget(here, sink);
        }
    }

    #[cold]
    #[inline(never)]
    fn shrink_to_budget(&mut self, here: Here, sink: &mut impl Sink) {
        let target = self.budget.target();
        let why = TcpWarning::MemoryBudget {
            limit: self.budget.limit(),
            pkt: here.pkt,
        };
        let conns = &mut self.conns;
        let numbering = &mut self.numbering;
        loop {
            if held(&self.flows, conns, numbering.as_ref(), sink) <= target {
                break;
            }
            if self.flows.forget_oldest_ended() {
                continue;
            }
            let evicted = self.flows.evict_oldest(why, &mut |ev| {
                conns.tcp_event(here, renumber(numbering, ev), sink)
            });
            if !evicted {
                break;
            }
            self.budget.count_eviction();
        }
        self.flows.shrink();
        conns.shrink();
        let used = self.heap_bytes(sink);
        self.budget.set_used(used);
    }

    /// The connection the last packet fed was a segment of (`None`: not a TCP
    /// segment, or a fragment held). A view that indexes a file keeps, per
    /// connection, where its packets are, to decode it again alone.
    pub fn last_conn(&self) -> Option<u64> {
        self.last_conn
    }

    /// Numbers the next packet `packets + 1`: decoding one connection again from
    /// its own packets only, they keep their numbers in the file.
    pub fn set_packets(&mut self, packets: u64) {
        self.packets = packets;
    }

    /// Packets seen so far (those filtered out included).
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// Connections numbered so far: the next one is numbered this. A packet opens at
    /// most one connection, so a driver that feeds a share of the packets can tell,
    /// packet by packet, where each of its connections began.
    pub fn conns_seen(&self) -> u64 {
        self.flows.conns_seen()
    }

    /// The packet-level numbers of an open connection.
    pub fn totals(&self, conn: u64) -> Option<ConnTotals> {
        self.conns.map.get(&conn).map(|c| {
            let mut t = c.totals.clone();
            t.tls = c.stack.tls_totals().map(Box::new);
            t
        })
    }

    /// A packet the filter hid: it keeps its number, so the packets after it are
    /// numbered as in the unfiltered capture, and it still counts in the numbering of
    /// connections (once any packet is hidden, every packet is numbered this way).
    pub fn skip_packet(&mut self, linktype: i32, ts: Timestamp, data: &[u8], sink: &mut impl Sink) {
        self.packets += 1;
        if self.packets == 1 {
            sink.first_packet(ts);
        }
        let pkt = self.packets;
        self.hide_packets();
        if let Some(n) = self.numbering.as_mut() {
            n.number(linktype, pkt, ts, data);
        }
    }

    /// Packets will be hidden ([`Analyzer::skip_packet`]): from now on connections are
    /// numbered as in the unfiltered capture. Call it before the first packet.
    pub fn hide_packets(&mut self) {
        if self.numbering.is_none() {
            self.numbering = Some(Numbering {
                wire: wire::Decoder::new(self.conns.cfg.wire),
                flows: FlowTable::new(self.conns.cfg.tcp),
                map: ConnMap::default(),
                current: 0,
            });
        }
    }

    /// Feeds one captured packet (`linktype` is libpcap's DLT number).
    pub fn packet(&mut self, linktype: i32, ts: Timestamp, data: &[u8], sink: &mut impl Sink) {
        self.packets += 1;
        if self.packets == 1 {
            sink.first_packet(ts);
        }
        let here = Here {
            pkt: self.packets,
            ts,
        };
        if let Some(n) = self.numbering.as_mut() {
            n.number(linktype, here.pkt, ts, data);
        }
        let conns = &mut self.conns;
        let numbering = &mut self.numbering;
        self.last_conn = None;
        match self.wire.decode(linktype, data, ts) {
            Decoded::Tcp(seg) => {
                if seg.payload.len() < seg.wire_payload_len as usize && !conns.snaplen_warned {
                    conns.snaplen_warned = true;
                    sink.warning(Warning::SnapLength {
                        pkt: here.pkt,
                        kept: seg.payload.len(),
                        wire: seg.wire_payload_len,
                    });
                }
                let info = SegmentInfo::from(&seg);
                let conn = self.flows.segment(here.pkt, ts, &info, &mut |ev| {
                    conns.tcp_event(here, renumber(numbering, ev), sink)
                });
                let conn = match numbering.as_ref() {
                    Some(n) => n.map.get(&conn).copied().unwrap_or(conn),
                    None => conn,
                };
                if let Some(c) = conns.map.get_mut(&conn) {
                    c.totals.count(ts);
                }
                self.last_conn = Some(conn);
            }
            Decoded::NotTcp | Decoded::FragmentHeld => {}
            Decoded::Problem(p) => conns.warn(sink, Warning::Wire(p)),
        }
        self.keep_to_budget(here, sink);
    }

    /// The key log grew (live capture): every connection uses the new keys from now
    /// on, and those holding TLS records for their keys decrypt them now.
    pub fn keys_updated(&mut self, keys: Arc<KeyLog>, now: Timestamp, sink: &mut impl Sink) {
        let here = Here {
            pkt: self.packets,
            ts: now,
        };
        let conns = &mut self.conns;
        Arc::make_mut(&mut conns.stack_cfg).keys = keys.clone();
        let detail = conns.cfg.ws.detail;
        // Every connection, not only those holding records: one whose secrets were
        // written before its ClientHello or its first encrypted record was read
        // still has the old key log, and would wait for keys that never come again.
        let mut all: Vec<u64> = conns.map.keys().copied().collect();
        all.sort_unstable();
        for conn in all {
            if let Some(c) = conns.map.get_mut(&conn) {
                c.stack.keys_updated(&conns.stack_cfg, now, &mut |d, e| {
                    layer_event(sink, here, conn, detail, d, e)
                });
            }
            conns.recharge(conn);
        }
    }

    /// Live capture: ends connections idle for longer than the configured timeout.
    pub fn expire(&mut self, now: Timestamp, sink: &mut impl Sink) {
        let here = Here {
            pkt: self.packets,
            ts: now,
        };
        let conns = &mut self.conns;
        let numbering = &mut self.numbering;
        self.flows.expire(now, &mut |ev| {
            conns.tcp_event(here, renumber(numbering, ev), sink)
        });
    }

    /// The end of the capture: every open connection is ended and summarised.
    pub fn finish(&mut self, last_ts: Timestamp, sink: &mut impl Sink) {
        let here = Here {
            pkt: self.packets,
            ts: last_ts,
        };
        let conns = &mut self.conns;
        let numbering = &mut self.numbering;
        self.flows
            .finish(&mut |ev| conns.tcp_event(here, renumber(numbering, ev), sink));
        let b = self.budget;
        if b.evicted() > 0 {
            sink.warning(Warning::Evicted {
                count: b.evicted(),
                limit: b.limit(),
                peak: b.peak(),
            });
        }
        if conns.suppressed > 0 {
            sink.warning(Warning::NotShown {
                count: conns.suppressed,
            });
        }
    }
}

/// `ev` under the unfiltered capture's connection number, when packets are hidden.
fn renumber<'a>(numbering: &mut Option<Numbering>, ev: TcpEvent<'a>) -> TcpEvent<'a> {
    match numbering.as_mut() {
        Some(n) => n.renumber(ev),
        None => ev,
    }
}

impl Numbering {
    /// Heap bytes of its flow table and map (for the memory budget).
    fn heap_bytes(&self) -> usize {
        self.flows.heap_bytes() + crate::budget::map_bytes(&self.map)
    }

    /// Numbers one packet's connection as the unfiltered capture does.
    fn number(&mut self, linktype: i32, pkt: u64, ts: Timestamp, data: &[u8]) {
        if let Decoded::Tcp(seg) = self.wire.decode(linktype, data, ts) {
            // The headers alone: no payload is held or reassembled here.
            let info = SegmentInfo {
                payload: &[],
                wire_payload_len: 0,
                ..SegmentInfo::from(&seg)
            };
            self.current = self.flows.segment(pkt, ts, &info, &mut |_| {});
        }
    }

    /// The analysing table's event under the unfiltered number.
    fn renumber<'a>(&mut self, ev: TcpEvent<'a>) -> TcpEvent<'a> {
        if let TcpEvent::Open { conn, .. } = ev {
            self.map.insert(conn, self.current);
        }
        let to = self.map.get(&ev.conn()).copied().unwrap_or(ev.conn());
        if let TcpEvent::Closed { conn, .. } = ev {
            self.map.remove(&conn);
        }
        ev.renumbered(to)
    }
}

/// Heap bytes held across the flow tables, the connections' stacks, the numbering
/// table and the sink: what the budget counts ([`Analyzer::heap_bytes`], also while
/// connections are being ended and the parts are borrowed apart).
fn held(
    flows: &FlowTable,
    conns: &Conns,
    numbering: Option<&Numbering>,
    sink: &impl Sink,
) -> usize {
    flows.heap_bytes()
        + conns.heap_bytes()
        + numbering.map_or(0, Numbering::heap_bytes)
        + sink.heap_bytes()
}

impl Conns {
    /// Heap bytes of the connections' state and stacks (for the memory budget).
    #[inline]
    fn heap_bytes(&self) -> usize {
        self.stack_bytes + self.table_bytes
    }

    /// Counts the table and the connections' own state again (a connection came or went).
    fn recount_table(&mut self) {
        self.table_bytes = self.map.len()
            * (std::mem::size_of::<Conn>() + crate::budget::ALLOC_OVERHEAD)
            + crate::budget::map_bytes(&self.map);
    }

    /// Gives back the table's room left empty by ended connections (a quarter full
    /// or less).
    fn shrink(&mut self) {
        if self.map.len() <= self.map.capacity() / 4 {
            self.map.shrink_to(self.map.len() * 2);
        }
        self.recount_table();
    }

    /// Brings the count of `conn`'s stack bytes up to date.
    fn recharge(&mut self, conn: u64) {
        if let Some(c) = self.map.get_mut(&conn) {
            crate::budget::recount(&mut self.stack_bytes, &mut c.charged, c.stack.heap_bytes());
        }
    }

    /// Passes a warning on, once per distinct warning; past [`MAX_WARNINGS`]
    /// distinct ones, the rest are only counted (reported by `finish`).
    fn warn(&mut self, sink: &mut impl Sink, warning: Warning) {
        if let Some(n) = self.warned.get_mut(&warning) {
            *n += 1;
            return;
        }
        if self.warned.len() >= MAX_WARNINGS {
            self.suppressed += 1;
            return;
        }
        self.warned.insert(warning.clone(), 1);
        sink.warning(warning);
    }

    fn tcp_event(&mut self, here: Here, ev: TcpEvent<'_>, sink: &mut impl Sink) {
        match ev {
            TcpEvent::Open {
                conn,
                client,
                server,
                mid_stream,
            } => {
                let state = Conn {
                    swapped: false,
                    pending_open: mid_stream.then_some((client, server)),
                    stack: Stack::new(mid_stream, &self.stack_cfg),
                    totals: ConnTotals {
                        first_pkt: here.pkt,
                        first_ts: here.ts,
                        last_ts: here.ts,
                        ..ConnTotals::default()
                    },
                    charged: 0,
                };
                self.map.insert(conn, Box::new(state));
                self.recount_table();
                if !mid_stream {
                    emit(
                        sink,
                        here,
                        conn,
                        None,
                        EventKind::ConnOpen {
                            client: client.to_string(),
                            server: server.to_string(),
                            mid_stream,
                        },
                    );
                }
            }
            TcpEvent::Handshake {
                conn,
                dir,
                step,
                rtt_ms,
                retransmission,
            } => {
                let dir = self.settle(here, conn, dir, sink);
                emit(
                    sink,
                    here,
                    conn,
                    Some(dir),
                    EventKind::TcpHandshake {
                        step,
                        rtt_ms,
                        retransmission,
                    },
                );
            }
            TcpEvent::Data { conn, dir, bytes } => self.data(here, conn, dir, bytes, false, sink),
            TcpEvent::Gap { conn, dir, bytes } => {
                // Bytes held to recognise the connection are not joined across a gap.
                self.flush_held(here, conn, sink);
                let dir = self.settle(here, conn, dir, sink);
                emit(sink, here, conn, Some(dir), EventKind::Gap { bytes });
                let detail = self.cfg.ws.detail;
                if let Some(c) = self.map.get_mut(&conn) {
                    c.stack.gap(dir, bytes, here.ts, &mut |d, e| {
                        layer_event(sink, here, conn, detail, d, e)
                    });
                }
                self.recharge(conn);
            }
            TcpEvent::Teardown {
                conn,
                dir,
                how,
                step,
            } => {
                let dir = self.settle(here, conn, dir, sink);
                if step != Some(TeardownStep::Ack) {
                    if let Some(c) = self.map.get_mut(&conn) {
                        c.stack.tcp_end(dir, here.ts);
                    }
                }
                emit(
                    sink,
                    here,
                    conn,
                    Some(dir),
                    EventKind::TcpTeardown { how, step },
                );
            }
            TcpEvent::Closed { conn, reason } => {
                self.flush_held(here, conn, sink);
                self.settle(here, conn, Direction::C2S, sink);
                let detail = self.cfg.ws.detail;
                if let Some(mut c) = self.map.remove(&conn) {
                    crate::budget::release(&mut self.stack_bytes, c.charged);
                    self.recount_table();
                    let ended = matches!(reason, CloseReason::Fin | CloseReason::Rst);
                    if ended {
                        // The packet that ended it (the last ACK, the RST) is its last.
                        c.totals.count(here.ts);
                    }
                    c.stack.end(ended, here.ts, &mut |d, e| {
                        layer_event(sink, here, conn, detail, d, e)
                    });
                    c.totals.tls = c.stack.tls_totals().map(Box::new);
                    sink.conn_closed(conn, &c.totals);
                } else {
                    sink.conn_closed(conn, &ConnTotals::default());
                }
            }
            TcpEvent::Warning { conn, mut warning } => {
                // The TCP layer's direction, as the connection's (a mid-stream
                // connection's client may have turned out to be the other side).
                if let TcpWarning::BufferFull { dir, .. } = &mut warning {
                    if self.map.get(&conn).is_some_and(|c| c.swapped) {
                        *dir = dir.reverse();
                    }
                }
                self.warn(sink, Warning::Tcp { conn, warning });
            }
        }
    }

    /// Bytes held while recognising are decided as they are (a gap or the end came).
    fn flush_held(&mut self, here: Here, conn: u64, sink: &mut impl Sink) {
        let held = self.map.get_mut(&conn).and_then(|c| c.stack.take_held());
        if let Some((d, held)) = held {
            // Already counted in the totals when they arrived.
            self.data(here, conn, d, &held, true, sink);
        }
    }

    /// Maps the TCP layer's direction to the connection's, and for a mid-stream
    /// connection whose client is still unknown, settles on the current guess
    /// (emitting the waiting `conn_open`).
    fn settle(&mut self, here: Here, conn: u64, dir: Direction, sink: &mut impl Sink) -> Direction {
        let Some(c) = self.map.get_mut(&conn) else {
            return dir;
        };
        if let Some((client, server)) = c.pending_open.take() {
            let (client, server) = if c.swapped {
                (server, client)
            } else {
                (client, server)
            };
            emit(
                sink,
                here,
                conn,
                None,
                EventKind::ConnOpen {
                    client: client.to_string(),
                    server: server.to_string(),
                    mid_stream: true,
                },
            );
        }
        if c.swapped {
            dir.reverse()
        } else {
            dir
        }
    }

    /// The next bytes of one direction's stream. `again`: bytes given back after
    /// being held to recognise the connection (counted when they first arrived).
    fn data(
        &mut self,
        here: Here,
        conn: u64,
        tcp_dir: Direction,
        bytes: &[u8],
        again: bool,
        sink: &mut impl Sink,
    ) {
        let detail = self.cfg.ws.detail;
        let Some(c) = self.map.get_mut(&conn) else {
            return;
        };
        if !again {
            c.totals.bytes[tcp_dir.index() ^ usize::from(c.swapped)] += bytes.len() as u64;
        }
        let mut held = Vec::new();
        if c.stack.recognising() {
            let dir = if c.swapped {
                tcp_dir.reverse()
            } else {
                tcp_dir
            };
            let Some((roles, before)) = c.stack.recognise(dir, bytes, again) else {
                // Held: too few bytes to tell.
                return self.recharge(conn);
            };
            let mut turned = false;
            if c.pending_open.is_some() {
                if let Some(sender_is_client) = roles.sender_is_client {
                    if sender_is_client != (dir == Direction::C2S) {
                        c.swapped = !c.swapped;
                        turned = true;
                        // The bytes were counted under the guess: move them.
                        c.totals.bytes.swap(0, 1);
                    }
                }
            }
            // Held bytes carry the direction they had under the guess.
            held = before
                .into_iter()
                .map(|(d, b)| (if turned { d.reverse() } else { d }, b))
                .collect();
        }
        // The first payload settles who the client is, at the latest.
        let dir = self.settle(here, conn, tcp_dir, sink);
        let Some(c) = self.map.get_mut(&conn) else {
            return;
        };
        for (d, b) in held {
            c.stack.feed(d, &b, here.ts, &mut |d, e| {
                layer_event(sink, here, conn, detail, d, e)
            });
        }
        c.stack.feed(dir, bytes, here.ts, &mut |d, e| {
            layer_event(sink, here, conn, detail, d, e)
        });
        crate::budget::recount(&mut self.stack_bytes, &mut c.charged, c.stack.heap_bytes());
    }
}

/// Stamps a layer's event with the connection and packet, through the contract mapping.
#[inline]
fn layer_event(
    sink: &mut impl Sink,
    here: Here,
    conn: u64,
    detail: bool,
    dir: Option<Direction>,
    ev: LayerEvent,
) {
    stream_event(sink, here, conn, detail, dir, None, ev);
}

/// [`layer_event`] within an HTTP/2 stream (or none).
#[inline]
fn stream_event(
    sink: &mut impl Sink,
    here: Here,
    conn: u64,
    detail: bool,
    dir: Option<Direction>,
    stream: Option<u32>,
    ev: LayerEvent,
) {
    let kind = match ev {
        LayerEvent::InStream(s, inner) => {
            return stream_event(sink, here, conn, detail, dir, Some(s), *inner)
        }
        LayerEvent::Request(r, checks) => contract::request_event(&r, checks.as_deref()),
        LayerEvent::Response(r) => contract::response_event(&r),
        LayerEvent::Handshake(up) => contract::handshake_event(&up),
        LayerEvent::Unanswered(req) => contract::unanswered_upgrade(req.as_deref()),
        LayerEvent::Ws(e) => contract::ws_event(e, detail),
        LayerEvent::Polled(head, apps) => {
            let (head, violations) = contract::polled_event(head, &apps);
            emit_in(sink, here, conn, dir, stream, head);
            for v in violations {
                emit_in(sink, here, conn, dir, stream, v);
            }
            return;
        }
        LayerEvent::Message(m, apps) => {
            let (message, violations) = contract::message_event(m, &apps, detail);
            emit_in(sink, here, conn, dir, stream, message);
            for v in violations {
                emit_in(sink, here, conn, dir, stream, v);
            }
            return;
        }
        LayerEvent::Violation(v) => contract::violation(v),
        LayerEvent::Tls(n) => contract::tls_event(n),
        LayerEvent::H2Request(r) => contract::h2_request_event(&r),
        LayerEvent::H2Response(r) => contract::h2_response_event(&r),
        LayerEvent::H2Handshake(h) => contract::h2_handshake_event(&h),
        LayerEvent::Warning(warning) => {
            sink.warning(Warning::Layer { conn, warning });
            return;
        }
        other => match contract::h2_event(&other) {
            Some(k) => k,
            None => return,
        },
    };
    emit_in(sink, here, conn, dir, stream, kind);
}

fn emit(sink: &mut impl Sink, here: Here, conn: u64, dir: Option<Direction>, kind: EventKind) {
    emit_in(sink, here, conn, dir, None, kind);
}

/// An event of `conn` (and of HTTP/2 stream `stream`), stamped with the packet.
fn emit_in(
    sink: &mut impl Sink,
    here: Here,
    conn: u64,
    dir: Option<Direction>,
    stream: Option<u32>,
    kind: EventKind,
) {
    sink.event(Event {
        conn,
        pkt: here.pkt,
        ts: here.ts,
        dir,
        stream,
        kind,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// LINKTYPE_RAW: the packet starts with the IP header.
    const RAW: i32 = 101;
    const C: ([u8; 4], u16) = ([10, 0, 0, 1], 40000);
    const S: ([u8; 4], u16) = ([10, 0, 0, 2], 80);

    /// An IPv4/TCP packet from `from` to `to` (flags: 0x02 SYN, 0x10 ACK, 0x01 FIN).
    fn packet(
        from: ([u8; 4], u16),
        to: ([u8; 4], u16),
        seq: u32,
        ack: u32,
        flags: u8,
        payload: &[u8],
    ) -> Vec<u8> {
        let total = (40 + payload.len()) as u16;
        let mut p = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 6, 0, 0];
        p[2..4].copy_from_slice(&total.to_be_bytes());
        p.extend_from_slice(&from.0);
        p.extend_from_slice(&to.0);
        p.extend_from_slice(&from.1.to_be_bytes());
        p.extend_from_slice(&to.1.to_be_bytes());
        p.extend_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(&ack.to_be_bytes());
        p.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        p.extend_from_slice(payload);
        p
    }

    /// A WebSocket frame, masked with `key` when given.
    fn frame(opcode: u8, payload: &[u8], key: Option<[u8; 4]>) -> Vec<u8> {
        assert!(payload.len() < 126);
        let mut f = vec![
            0x80 | opcode,
            payload.len() as u8 | if key.is_some() { 0x80 } else { 0 },
        ];
        match key {
            Some(k) => {
                f.extend_from_slice(&k);
                f.extend(payload.iter().enumerate().map(|(i, b)| b ^ k[i % 4]));
            }
            None => f.extend_from_slice(payload),
        }
        f
    }

    /// Runs the analyzer over (sender is client, payload) segments of one connection,
    /// with or without the three-way handshake first.
    fn run(handshake: bool, segments: &[(bool, Vec<u8>)]) -> Vec<Event> {
        run_with(Config::default(), handshake, segments, false)
    }

    /// [`run`] with options `cfg`; `fin`: both sides end with a FIN before the capture ends.
    fn run_with(
        cfg: Config,
        handshake: bool,
        segments: &[(bool, Vec<u8>)],
        fin: bool,
    ) -> Vec<Event> {
        let mut a = Analyzer::new(cfg);
        let mut events = Vec::new();
        let (mut cseq, mut sseq) = (1000u32, 5000u32);
        let mut ts = 1_000_000i64;
        let mut feed = |a: &mut Analyzer, p: Vec<u8>, events: &mut Vec<Event>| {
            ts += 1000;
            a.packet(RAW, Timestamp(ts), &p, events);
        };
        if handshake {
            feed(&mut a, packet(C, S, cseq - 1, 0, 0x02, b""), &mut events);
            feed(&mut a, packet(S, C, sseq - 1, cseq, 0x12, b""), &mut events);
            feed(&mut a, packet(C, S, cseq, sseq, 0x10, b""), &mut events);
        }
        for (from_client, data) in segments {
            let p = if *from_client {
                let p = packet(C, S, cseq, sseq, 0x18, data);
                cseq = cseq.wrapping_add(data.len() as u32);
                p
            } else {
                let p = packet(S, C, sseq, cseq, 0x18, data);
                sseq = sseq.wrapping_add(data.len() as u32);
                p
            };
            feed(&mut a, p, &mut events);
        }
        if fin {
            feed(&mut a, packet(S, C, sseq, cseq, 0x11, b""), &mut events);
            feed(&mut a, packet(C, S, cseq, sseq + 1, 0x11, b""), &mut events);
            feed(
                &mut a,
                packet(S, C, sseq + 1, cseq + 1, 0x10, b""),
                &mut events,
            );
        }
        a.finish(Timestamp(ts + 1000), &mut events);
        events
    }

    #[test]
    fn a_websockets_protocol_comes_from_its_subprotocol_and_its_rules_are_checked() {
        let req = String::from_utf8(REQUEST.to_vec())
            .unwrap()
            .replace("\r\n\r\n", "\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n");
        let resp = String::from_utf8(RESPONSE_101.to_vec())
            .unwrap()
            .replace("\r\n\r\n", "\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n");
        // A PINGREQ, then a packet of the reserved type 0.
        let segments = [
            (true, req.into_bytes()),
            (false, resp.into_bytes()),
            (true, frame(2, &[0xc0, 0x00], Some([1, 2, 3, 4]))),
            (true, frame(2, &[0x00, 0x00], Some([5, 6, 7, 8]))),
        ];
        let mut cfg = Config::default();
        cfg.ws.keep_payload = true;
        let events = run_with(cfg, true, &segments, false);
        let tail: Vec<String> = events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::WsMessage { body, .. } => {
                    let a = body.app.as_ref()?;
                    Some(format!("{} {}", a.protocol, a.kind))
                }
                EventKind::Violation { code, rfc, .. } => Some(format!("{code} [{rfc}]")),
                _ => None,
            })
            .collect();
        assert_eq!(
            tail,
            [
                "mqtt PINGREQ",
                "mqtt RESERVED",
                "mqtt_reserved_type [MQTT 3.1.1 2.2.1 / MQTT 5.0 2.1.2]"
            ],
            "{:#?}",
            names(&events)
        );
        // Payloads not kept: no decoding.
        let events = run_with(Config::default(), true, &segments, false);
        assert!(events
            .iter()
            .all(|e| e.kind.body().map_or(true, |b| b.app.is_none())));
        assert!(!events.iter().any(|e| e.kind.name() == "violation"));
    }

    #[test]
    fn engine_io_polling_bodies_are_decoded_when_payloads_are_kept() {
        let segments = [
            (
                true,
                b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
            ),
            (
                false,
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec(),
            ),
            (false, b"1\r\n6\r\n0\r\n\r\n".to_vec()),
            (
                true,
                b"POST /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nContent-Length: 2\r\n\r\n40"
                    .to_vec(),
            ),
            (
                false,
                b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec(),
            ),
            (
                true,
                b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
            ),
            (
                false,
                b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n3".to_vec(),
            ),
        ];
        let mut cfg = Config::default();
        cfg.ws.keep_payload = true;
        let events = run_with(cfg, true, &segments, true);
        let http: Vec<(u64, &str, Option<String>)> = events
            .iter()
            .filter(|e| {
                matches!(
                    e.kind,
                    EventKind::HttpRequest { .. } | EventKind::HttpResponse { .. }
                )
            })
            .map(|e| {
                let app = e.kind.body().and_then(|b| b.app.as_ref());
                (
                    e.pkt,
                    e.kind.name(),
                    app.map(|a| format!("{} {}", a.protocol, a.kind)),
                )
            })
            .collect();
        assert_eq!(
            http,
            [
                (4, "http_request", None),
                // Its body came in the next segment: the head waits for it.
                (6, "http_response", Some("engine.io noop".into())),
                (7, "http_request", Some("socket.io CONNECT".into())),
                (8, "http_response", None),
                (9, "http_request", None),
                // Read until the end of the stream: complete when the connection ends.
                (13, "http_response", Some("engine.io pong".into())),
            ],
            "{:#?}",
            names(&events)
        );
        // Without kept payloads, heads go out as they come and nothing is decoded.
        let events = run_with(Config::default(), true, &segments, true);
        let pkts: Vec<u64> = events
            .iter()
            .filter(|e| e.kind.body().is_some_and(|b| b.app.is_none()))
            .map(|e| e.pkt)
            .collect();
        assert_eq!(pkts, [4, 5, 7, 8, 9, 10]);
    }

    fn names(events: &[Event]) -> Vec<&'static str> {
        events.iter().map(|e| e.kind.name()).collect()
    }

    const REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    const RESPONSE_101: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

    #[test]
    fn a_capture_that_begins_inside_a_frame_is_recognised_later() {
        // The server's side comes first, in the middle of a frame's payload; then
        // masked client frames show which side is the client.
        let events = run(
            false,
            &[
                (false, vec![0x17, 0x99, 0x42, 0x00, 0xff]),
                (true, frame(1, b"hi", Some([1, 2, 3, 4]))),
                (false, frame(1, b"hello", None)),
            ],
        );
        let open = events
            .iter()
            .find(|e| e.kind.name() == "conn_open")
            .expect("conn_open");
        match &open.kind {
            EventKind::ConnOpen {
                client, mid_stream, ..
            } => {
                assert_eq!(client, "10.0.0.1:40000");
                assert!(mid_stream);
            }
            _ => unreachable!(),
        }
        let frames: Vec<Option<Direction>> = events
            .iter()
            .filter(|e| e.kind.name() == "ws_frame")
            .map(|e| e.dir)
            .collect();
        assert_eq!(
            frames,
            [Some(Direction::C2S), Some(Direction::S2C)],
            "{:#?}",
            names(&events)
        );
    }

    #[test]
    fn client_bytes_before_the_101_are_held_then_decoded_and_named() {
        let mut early = REQUEST.to_vec();
        early.extend(frame(1, b"too soon", Some([9, 9, 9, 9])));
        let events = run(true, &[(true, early), (false, RESPONSE_101.to_vec())]);
        let n = names(&events);
        let at = |name: &str| {
            n.iter()
                .position(|x| *x == name)
                .unwrap_or_else(|| panic!("{name} in {n:?}"))
        };
        assert!(at("ws_handshake") < at("violation"), "{n:?}");
        assert!(events.iter().any(|e| matches!(
            e.kind,
            EventKind::Violation {
                code: "data_before_upgrade",
                ..
            }
        )));
        assert!(events.iter().any(
            |e| matches!(&e.kind, EventKind::WsMessage { preview, .. } if preview.render() == "too soon")
        ));
    }

    #[test]
    fn after_a_refused_upgrade_the_connection_is_http_again() {
        let refused = b"HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n";
        let mut two = REQUEST.to_vec();
        two.extend_from_slice(b"GET /other HTTP/1.1\r\nHost: x\r\n\r\n");
        let events = run(
            true,
            &[
                (true, two),
                (false, refused.to_vec()),
                (
                    false,
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec(),
                ),
            ],
        );
        let requests = events
            .iter()
            .filter(|e| e.kind.name() == "http_request")
            .count();
        let responses = events
            .iter()
            .filter(|e| e.kind.name() == "http_response")
            .count();
        assert_eq!((requests, responses), (2, 2), "{:#?}", names(&events));
        assert!(events.iter().any(|e| matches!(
            e.kind,
            EventKind::WsHandshake {
                ok: false,
                status: 426,
                ..
            }
        )));
        assert!(!events.iter().any(|e| e.kind.name() == "ws_frame"));
    }

    #[test]
    fn a_101_to_h2c_is_http2_not_websocket() {
        let h2c = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n";
        let switched =
            b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n";
        let events = run(
            true,
            &[
                (true, h2c.to_vec()),
                (false, switched.to_vec()),
                // The server's SETTINGS, empty.
                (false, vec![0, 0, 0, 4, 0, 0, 0, 0, 0]),
            ],
        );
        let n = names(&events);
        assert!(
            !n.contains(&"ws_handshake") && !n.contains(&"ws_frame") && !n.contains(&"violation"),
            "{n:?}"
        );
        // The client's settings from its HTTP2-Settings header, then the server's.
        assert_eq!(
            n.iter().filter(|e| **e == "h2_settings").count(),
            2,
            "{n:?}"
        );
    }
}
