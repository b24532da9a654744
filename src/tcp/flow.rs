//! The flow table: which connection a segment belongs to, who is the client,
//! and each connection's handshake, data and teardown.

use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::net::{IpAddr, SocketAddr};

use super::lru::Lru;
use super::reassembly::{Chunk, Reassembler};
use super::seq::SeqNum;
use super::{CloseReason, SegmentInfo, TcpConfig, TcpEvent, TcpWarning};
use super::{HandshakeStep, TeardownHow, TeardownStep};
use crate::types::{Direction, Timestamp};

/// One end of a connection as plain integers: the address (IPv4 in the low 32
/// bits) and the address family with the port.
type End = (u128, u32);

fn pack(a: SocketAddr) -> End {
    match a.ip() {
        IpAddr::V4(ip) => (u128::from(u32::from(ip)), 4 << 16 | u32::from(a.port())),
        IpAddr::V6(ip) => (u128::from(ip), 6 << 16 | u32::from(a.port())),
    }
}

/// A 4-tuple with its two ends in a fixed order, so both directions find it.
/// Plain integers rather than `SocketAddr`s: the table is looked up for every
/// packet, and comparing and hashing `SocketAddr`'s many small fields cost
/// several times more. (Addresses from the wire never carry an IPv6 flow label
/// or scope id, so nothing that told two `SocketAddr`s apart is lost.)
///
/// The traffic chooses these keys, so the table's hash is keyed with secret
/// seeds ([`flow_hash`]) against crafted collisions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    lo: End,
    hi: End,
}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // As few, and as wide, integer writes as the key allows: IPv4 in one.
        let ports = u64::from(self.lo.1) << 32 | u64::from(self.hi.1);
        match (u32::try_from(self.lo.0), u32::try_from(self.hi.0)) {
            (Ok(lo), Ok(hi)) => {
                state.write_u128(u128::from(lo) << 96 | u128::from(hi) << 64 | u128::from(ports))
            }
            _ => {
                state.write_u128(self.lo.0);
                state.write_u128(self.hi.0);
                state.write_u64(ports);
            }
        }
    }
}

fn key_of(a: SocketAddr, b: SocketAddr) -> Key {
    let (a, b) = (pack(a), pack(b));
    if a <= b {
        Key { lo: a, hi: b }
    } else {
        Key { lo: b, hi: a }
    }
}

/// The flow table's hasher, looked up for every packet: foldhash, keyed with secret
/// seeds since the traffic chooses the 4-tuples. Without the seeds a sender cannot
/// aim for collisions, and nothing wsscope prints depends on the table's order, so
/// they cannot be learned from its output. std's SipHash-1-3 is the stronger choice
/// against an attacker who could also time wsscope; it cost 4-5% more of `stats`
/// on the benchmarks (8% of the profile).
type FlowHash = foldhash::fast::SeedableRandomState;

fn flow_hash() -> FlowHash {
    use std::hash::BuildHasher;
    use std::sync::OnceLock;
    static SHARED: OnceLock<foldhash::SharedSeed> = OnceLock::new();
    // Seeds from the OS entropy behind std's RandomState (foldhash's own global seed
    // comes from address-space layout and the clock).
    let entropy = || std::collections::hash_map::RandomState::new().hash_one(0u8);
    let shared = SHARED.get_or_init(|| foldhash::SharedSeed::from_u64(entropy()));
    FlowHash::with_seed(entropy(), shared)
}

/// Ports that mark a server when the capture missed the SYN.
const SERVER_PORTS: &[u16] = &[
    1080, 1883, 2375, 3000, 3001, 4000, 4200, 4443, 5000, 5001, 5173, 5432, 5672, 6379, 8000, 8008,
    8080, 8081, 8088, 8443, 8765, 8888, 9000, 9001, 9090, 9443,
];

fn is_server_port(p: u16) -> bool {
    p < 1024 || SERVER_PORTS.contains(&p)
}

/// Who is the client of a connection whose first packet (`src` to `dst`) is not a SYN.
fn guess_client(src: SocketAddr, dst: SocketAddr) -> (SocketAddr, SocketAddr) {
    let (sp, dp) = (src.port(), dst.port());
    let (ws, wd) = (is_server_port(sp), is_server_port(dp));
    if ws != wd {
        return if ws { (dst, src) } else { (src, dst) };
    }
    let (es, ed) = (sp >= 32768, dp >= 32768);
    if es != ed {
        return if es { (src, dst) } else { (dst, src) };
    }
    (src, dst)
}

/// tshark starts a new `tcp.stream` on a pure SYN whose sequence number differs
/// from the base it has recorded for that direction (tshark 4.0, checked
/// against it on crafted captures: FIN or RST make no difference).
fn starts_new(base: &[Option<SeqNum>; 2], d: usize, seg: &SegmentInfo<'_>) -> bool {
    seg.syn && !seg.ack_flag && matches!(base[d], Some(b) if b != SeqNum(seg.seq))
}

/// How tshark learns a direction's base sequence number: from its first
/// segment (the seq of a SYN, seq - 1 otherwise), or from the first ACK the
/// other side sends (ack - 1), whichever comes first.
fn note_bases(base: &mut [Option<SeqNum>; 2], d: usize, seg: &SegmentInfo<'_>) {
    let seq = SeqNum(seg.seq);
    if base[d].is_none() {
        base[d] = Some(if seg.syn { seq } else { seq + u32::MAX });
    }
    if seg.ack_flag && base[1 - d].is_none() {
        base[1 - d] = Some(SeqNum(seg.ack) + u32::MAX);
    }
}

fn chunk_event(conn: u64, dir: Direction, c: Chunk<'_>) -> TcpEvent<'_> {
    match c {
        Chunk::Data(bytes) => TcpEvent::Data { conn, dir, bytes },
        Chunk::Gap(bytes) => TcpEvent::Gap { conn, dir, bytes },
    }
}

const DIRS: [Direction; 2] = [Direction::C2S, Direction::S2C];

/// One open connection.
#[derive(Debug)]
struct Flow {
    conn: u64,
    client: SocketAddr,
    last_seen: Timestamp,
    /// Slot in the LRU order.
    lru: usize,
    /// tshark's base sequence numbers, for numbering only.
    base: [Option<SeqNum>; 2],
    isn: [Option<SeqNum>; 2],
    syn_sent: [bool; 2],
    synack_sent: [bool; 2],
    first_syn: Option<Timestamp>,
    handshake_acked: bool,
    /// Sequence number of each side's FIN (just past its last byte).
    fin_seq: [Option<SeqNum>; 2],
    fin_acked: [bool; 2],
    rx: [Reassembler; 2],
    warned_overflow: [bool; 2],
    /// The reassembly bytes counted in [`FlowTable::rx_bytes`] for this flow.
    charged: usize,
}

impl Flow {
    /// Brings the table's count of reassembly bytes up to date with this flow's.
    #[inline]
    fn recount(&mut self, rx_bytes: &mut usize) {
        let now = self.rx[0].heap_bytes() + self.rx[1].heap_bytes();
        if now != self.charged {
            crate::budget::recount(rx_bytes, &mut self.charged, now);
        }
    }

    fn dir_of(&self, src: SocketAddr) -> Direction {
        if src == self.client {
            Direction::C2S
        } else {
            Direction::S2C
        }
    }

    /// Follow one segment; `Some` when the connection has ended with it.
    fn on_segment(
        &mut self,
        ts: Timestamp,
        seg: &SegmentInfo<'_>,
        max_buffered: usize,
        out: &mut impl FnMut(TcpEvent<'_>),
    ) -> Option<CloseReason> {
        let conn = self.conn;
        let dir = self.dir_of(seg.src);
        let (d, p) = (dir.index(), dir.reverse().index());
        let seq = SeqNum(seg.seq);
        self.last_seen = ts;
        note_bases(&mut self.base, d, seg);

        if seg.rst {
            out(TcpEvent::Teardown {
                conn,
                dir,
                how: TeardownHow::Rst,
                step: None,
            });
            return Some(CloseReason::Rst);
        }

        if seg.syn {
            let (step, sent) = if seg.ack_flag {
                (HandshakeStep::SynAck, &mut self.synack_sent[d])
            } else {
                (HandshakeStep::Syn, &mut self.syn_sent[d])
            };
            let retransmission = *sent && self.isn[d] == Some(seq);
            *sent = true;
            if step == HandshakeStep::Syn && dir == Direction::C2S && self.first_syn.is_none() {
                self.first_syn = Some(ts);
            }
            self.isn[d] = Some(seq);
            self.rx[d].set_next(seq + 1);
            out(TcpEvent::Handshake {
                conn,
                dir,
                step,
                rtt_ms: None,
                retransmission,
            });
        } else if seg.ack_flag
            && dir == Direction::C2S
            && !self.handshake_acked
            && self.synack_sent[p]
            && self.isn[p].map(|i| i + 1) == Some(SeqNum(seg.ack))
        {
            self.handshake_acked = true;
            out(TcpEvent::Handshake {
                conn,
                dir,
                step: HandshakeStep::Ack,
                rtt_ms: self.first_syn.map(|t| ts.millis_since(t)),
                retransmission: false,
            });
        }

        if seg.ack_flag {
            // The peer has what it acknowledges: a hole before that point in
            // the other stream was lost from the capture, declare it now
            // (stamped with this packet) rather than at the end.
            let rdir = dir.reverse();
            self.rx[p].ack(SeqNum(seg.ack), &mut |c| out(chunk_event(conn, rdir, c)));
        }

        if seg.ack_flag && !self.fin_acked[p] {
            if let Some(fin) = self.fin_seq[p] {
                if SeqNum(seg.ack) - (fin + 1) >= 0 {
                    self.fin_acked[p] = true;
                    out(TcpEvent::Teardown {
                        conn,
                        dir,
                        how: TeardownHow::Fin,
                        step: Some(TeardownStep::Ack),
                    });
                }
            }
        }

        // Data on a SYN starts after the SYN's own sequence number.
        let data_seq = if seg.syn { seq + 1 } else { seq };
        let wire_len = (seg.wire_payload_len as usize).max(seg.payload.len());
        if wire_len > 0 {
            let missing = (wire_len - seg.payload.len()) as u64;
            let rx = &mut self.rx[d];
            rx.set_time(ts);
            let before = rx.overflows();
            rx.push_truncated(data_seq, seg.payload, missing, &mut |c| {
                out(chunk_event(conn, dir, c))
            });
            if rx.overflows() > before && !self.warned_overflow[d] {
                self.warned_overflow[d] = true;
                out(TcpEvent::Warning {
                    conn,
                    warning: TcpWarning::BufferFull {
                        dir,
                        max_bytes: max_buffered,
                        max_segments: rx.max_pieces(),
                    },
                });
            }
        }

        if seg.fin && self.fin_seq[d].is_none() {
            self.fin_seq[d] = Some(data_seq + wire_len as u32);
            out(TcpEvent::Teardown {
                conn,
                dir,
                how: TeardownHow::Fin,
                step: Some(TeardownStep::Fin),
            });
        }

        (self.fin_acked[0] && self.fin_acked[1]).then_some(CloseReason::Fin)
    }

    /// Hand out what each direction still holds, then `Closed`.
    fn close(mut self, reason: CloseReason, out: &mut impl FnMut(TcpEvent<'_>)) -> Ended {
        let conn = self.conn;
        for dir in DIRS {
            let d = dir.index();
            let mut emit = |c: Chunk<'_>| out(chunk_event(conn, dir, c));
            match self.fin_seq[d] {
                Some(end) => self.rx[d].flush_to(end, &mut emit),
                None => self.rx[d].flush(&mut emit),
            }
        }
        out(TcpEvent::Closed { conn, reason });
        Ended {
            conn,
            client: self.client,
            base: self.base,
            last_seen: self.last_seen,
        }
    }
}

/// What is kept of a connection that ended by FIN or RST, so that its late
/// packets are not taken for a new connection (tshark keeps them in the same
/// stream).
#[derive(Debug)]
struct Ended {
    conn: u64,
    client: SocketAddr,
    base: [Option<SeqNum>; 2],
    last_seen: Timestamp,
}

#[derive(Debug)]
enum Slot {
    Live(Box<Flow>),
    Ended(Ended),
}

/// All TCP connections of a capture.
///
/// Connections are numbered from 0 in the order of their first packet, like
/// tshark's `tcp.stream` (4.0): a 4-tuple stays one connection until a pure SYN
/// arrives whose sequence number differs from the base recorded for that
/// direction (a retransmitted SYN keeps the number). The base is the first
/// SYN's seq, else the first segment's seq - 1, else the peer's first ACK - 1.
/// Whether FINs or a RST were seen does not matter to tshark, so a new SYN on
/// a connection still open ends it ([`CloseReason::PortReused`]).
///
/// A connection that ended by FIN or RST is remembered (its number and bases)
/// so that its late packets are not taken for a new one; they produce no
/// events ([`late_packets`](Self::late_packets) counts them). One that ended
/// by idle expiry or eviction is forgotten: its next packet opens a new,
/// mid-stream connection.
///
/// Memory is bounded: at most `max_flows` open connections (the least recently
/// used is evicted) and as many ended ones remembered, each direction holding
/// at most `max_buffered_per_direction` out-of-order bytes.
#[derive(Debug)]
pub struct FlowTable {
    cfg: TcpConfig,
    map: HashMap<Key, Slot, FlowHash>,
    /// Open connections by last use.
    lru: Lru<Key>,
    next_conn: u64,
    /// Ended connections, oldest first, to bound how many are remembered.
    ended: VecDeque<(Key, u64)>,
    late_packets: u64,
    /// Bytes held by every open flow's reassembly (for the memory budget).
    rx_bytes: usize,
    /// Bytes of the tables (the map, the ended list, the LRU order) and of the open
    /// flows' state, as of their last change: counted where connections come and go,
    /// not for every packet.
    table_bytes: usize,
}

/// What an open connection costs besides its reassembly buffers: its boxed state.
const FLOW_BYTES: usize = std::mem::size_of::<Flow>() + crate::budget::ALLOC_OVERHEAD;

impl FlowTable {
    /// An empty table.
    pub fn new(cfg: TcpConfig) -> Self {
        FlowTable {
            cfg,
            map: HashMap::with_hasher(flow_hash()),
            lru: Lru::new(),
            next_conn: 0,
            ended: VecDeque::new(),
            late_packets: 0,
            rx_bytes: 0,
            table_bytes: 0,
        }
    }

    /// Counts the tables and the open flows' state again (they changed).
    fn recount_tables(&mut self) {
        self.table_bytes = self.lru.len() * FLOW_BYTES
            + crate::budget::map_bytes(&self.map)
            + crate::budget::deque_bytes(&self.ended)
            + self.lru.heap_bytes();
    }

    /// Heap bytes the table holds (for the memory budget, [`crate::budget`]): each
    /// open connection's state and reassembly buffers, the table itself (ended
    /// connections remembered included) and the LRU order. O(1).
    #[inline]
    pub fn heap_bytes(&self) -> usize {
        self.rx_bytes + self.table_bytes
    }

    /// Memory budget: forgets the oldest ended connection remembered for its late
    /// packets (a late packet of it will open a new, mid-stream connection); false
    /// when none is remembered.
    pub fn forget_oldest_ended(&mut self) -> bool {
        while let Some((k, conn)) = self.ended.pop_front() {
            if matches!(self.map.get(&k), Some(Slot::Ended(e)) if e.conn == conn) {
                self.map.remove(&k);
                self.recount_tables();
                return true;
            }
        }
        false
    }

    /// Memory budget: ends the least recently used open connection, with `why` as
    /// its warning (its held bytes are handed out first, then `Closed` with
    /// [`CloseReason::Evicted`]); false when none is open.
    pub fn evict_oldest(&mut self, why: TcpWarning, out: &mut impl FnMut(TcpEvent<'_>)) -> bool {
        self.evict_lru(why, out)
    }

    /// Memory budget: gives back the tables' room left empty by connections that
    /// ended (a table a quarter full or less is halved, or more), so that their
    /// memory is not held any longer (the map is counted from its entries,
    /// [`crate::budget::map_bytes`], which never counted that room).
    pub fn shrink(&mut self) {
        if self.map.len() <= self.map.capacity() / 4 {
            self.map.shrink_to(self.map.len() * 2);
        }
        if self.ended.len() <= self.ended.capacity() / 4 {
            self.ended.shrink_to(self.ended.len() * 2);
        }
        self.recount_tables();
    }

    /// Open connections.
    pub fn open_flows(&self) -> usize {
        self.lru.len()
    }

    /// Connections numbered so far.
    pub fn conns_seen(&self) -> u64 {
        self.next_conn
    }

    /// Packets that belonged to a connection already closed (after its RST or
    /// final ACK); they are counted, not followed.
    pub fn late_packets(&self) -> u64 {
        self.late_packets
    }

    /// Follow one segment (packet number `pkt`, captured at `ts`); returns the
    /// number of the connection it belongs to.
    pub fn segment(
        &mut self,
        pkt: u64,
        ts: Timestamp,
        seg: &SegmentInfo<'_>,
        out: &mut impl FnMut(TcpEvent<'_>),
    ) -> u64 {
        let key = key_of(seg.src, seg.dst);
        match self.map.get_mut(&key) {
            Some(Slot::Live(f)) => {
                let d = f.dir_of(seg.src).index();
                if starts_new(&f.base, d, seg) {
                    if let Some(Slot::Live(old)) = self.map.remove(&key) {
                        self.lru.remove(old.lru);
                        crate::budget::release(&mut self.rx_bytes, old.charged);
                        let reason = if old.fin_seq.iter().all(Option::is_some) {
                            CloseReason::Fin
                        } else {
                            CloseReason::PortReused
                        };
                        old.close(reason, out);
                    }
                    self.open(key, pkt, ts, seg, out)
                } else {
                    // The common path: one lookup, nothing allocated.
                    self.lru.touch(f.lru);
                    let conn = f.conn;
                    let max = self.cfg.max_buffered_per_direction;
                    let ended = f.on_segment(ts, seg, max, out);
                    f.recount(&mut self.rx_bytes);
                    if let Some(reason) = ended {
                        self.end(key, reason, out);
                    }
                    conn
                }
            }
            Some(Slot::Ended(e)) => {
                let d = if seg.src == e.client { 0 } else { 1 };
                if starts_new(&e.base, d, seg) {
                    self.open(key, pkt, ts, seg, out)
                } else {
                    note_bases(&mut e.base, d, seg);
                    e.last_seen = ts;
                    self.late_packets += 1;
                    e.conn
                }
            }
            None => self.open(key, pkt, ts, seg, out),
        }
    }

    /// Start a new connection with this segment.
    fn open(
        &mut self,
        key: Key,
        pkt: u64,
        ts: Timestamp,
        seg: &SegmentInfo<'_>,
        out: &mut impl FnMut(TcpEvent<'_>),
    ) -> u64 {
        while self.lru.len() >= self.cfg.max_flows.max(1) {
            let why = TcpWarning::FlowTableFull {
                max_flows: self.cfg.max_flows,
                pkt,
            };
            if !self.evict_lru(why, out) {
                break;
            }
        }
        let conn = self.next_conn;
        self.next_conn += 1;
        let (client, server, mid_stream) = if seg.syn && !seg.ack_flag {
            (seg.src, seg.dst, false)
        } else if seg.syn {
            (seg.dst, seg.src, true)
        } else {
            let (c, s) = guess_client(seg.src, seg.dst);
            (c, s, true)
        };
        out(TcpEvent::Open {
            conn,
            client,
            server,
            mid_stream,
        });
        let max = self.cfg.max_buffered_per_direction;
        let flow = Flow {
            conn,
            client,
            last_seen: ts,
            lru: 0,
            base: [None; 2],
            isn: [None; 2],
            syn_sent: [false; 2],
            synack_sent: [false; 2],
            first_syn: None,
            handshake_acked: false,
            fin_seq: [None; 2],
            fin_acked: [false; 2],
            rx: [Reassembler::new(max), Reassembler::new(max)],
            warned_overflow: [false; 2],
            charged: 0,
        };
        let mut flow = Box::new(flow);
        let ended = flow.on_segment(ts, seg, max, out);
        flow.recount(&mut self.rx_bytes);
        flow.lru = self.lru.push(key);
        self.map.insert(key, Slot::Live(flow));
        self.recount_tables();
        if let Some(reason) = ended {
            self.end(key, reason, out);
        }
        conn
    }

    /// Drop an open connection that has ended by FIN or RST, remembering it.
    fn end(&mut self, key: Key, reason: CloseReason, out: &mut impl FnMut(TcpEvent<'_>)) {
        if let Some(Slot::Live(flow)) = self.map.remove(&key) {
            self.lru.remove(flow.lru);
            crate::budget::release(&mut self.rx_bytes, flow.charged);
            let e = flow.close(reason, out);
            self.remember_ended(key, e);
            self.recount_tables();
        }
    }

    fn remember_ended(&mut self, key: Key, e: Ended) {
        self.ended.push_back((key, e.conn));
        self.map.insert(key, Slot::Ended(e));
        while self.ended.len() > self.cfg.max_flows.max(1) {
            let Some((k, conn)) = self.ended.pop_front() else {
                break;
            };
            if matches!(self.map.get(&k), Some(Slot::Ended(e)) if e.conn == conn) {
                self.map.remove(&k);
            }
        }
    }

    /// Evict the least recently used open connection, warning with `why`; false if
    /// there is none.
    fn evict_lru(&mut self, why: TcpWarning, out: &mut impl FnMut(TcpEvent<'_>)) -> bool {
        let Some(key) = self.lru.pop_oldest() else {
            return false;
        };
        if let Some(Slot::Live(flow)) = self.map.remove(&key) {
            crate::budget::release(&mut self.rx_bytes, flow.charged);
            out(TcpEvent::Warning {
                conn: flow.conn,
                warning: why,
            });
            flow.close(CloseReason::Evicted, out);
        }
        self.recount_tables();
        true
    }

    /// Live mode: end connections idle for longer than the idle timeout
    /// (emits Closed for each), and in the others declare a gap any hole that
    /// has had bytes waiting behind it for longer than the hole timeout (the
    /// held bytes are delivered). Connections are visited in conn order.
    pub fn expire(&mut self, now: Timestamp, out: &mut impl FnMut(TcpEvent<'_>)) {
        let limit = self.cfg.idle_timeout_us;
        let idle = |t: Timestamp| now.0.saturating_sub(t.0) > limit;
        let hole_limit = Timestamp(now.0.saturating_sub(self.cfg.hole_timeout_us));
        let mut holding: Vec<&mut Flow> = self
            .map
            .values_mut()
            .filter_map(|s| match s {
                Slot::Live(f) if !idle(f.last_seen) && f.rx.iter().any(|r| r.is_holding()) => {
                    Some(&mut **f)
                }
                _ => None,
            })
            .collect();
        holding.sort_unstable_by_key(|f| f.conn);
        for f in holding {
            let conn = f.conn;
            for dir in DIRS {
                f.rx[dir.index()].expire_holes(hole_limit, &mut |c| out(chunk_event(conn, dir, c)));
            }
            f.recount(&mut self.rx_bytes);
        }
        let mut stale: Vec<(u64, Key)> = self
            .map
            .iter()
            .filter_map(|(k, s)| match s {
                Slot::Live(f) if idle(f.last_seen) => Some((f.conn, *k)),
                _ => None,
            })
            .collect();
        stale.sort_unstable();
        for (_, key) in stale {
            if let Some(Slot::Live(flow)) = self.map.remove(&key) {
                self.lru.remove(flow.lru);
                crate::budget::release(&mut self.rx_bytes, flow.charged);
                flow.close(CloseReason::Idle, out);
            }
        }
        self.map
            .retain(|_, s| !matches!(s, Slot::Ended(e) if idle(e.last_seen)));
        self.recount_tables();
    }

    /// End of capture: flush every open flow (gaps, held data) and emit Closed for each, in conn order.
    pub fn finish(&mut self, out: &mut impl FnMut(TcpEvent<'_>)) {
        let mut flows: Vec<Box<Flow>> = self
            .map
            .drain()
            .filter_map(|(_, s)| match s {
                Slot::Live(f) => Some(f),
                Slot::Ended(_) => None,
            })
            .collect();
        flows.sort_unstable_by_key(|f| f.conn);
        for flow in flows {
            flow.close(CloseReason::EndOfCapture, out);
        }
        self.lru.clear();
        self.ended.clear();
        self.rx_bytes = 0;
        self.recount_tables();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn keys_are_the_same_both_ways_and_tell_tuples_apart() {
        let k = |a: &str, b: &str| key_of(sa(a), sa(b));
        let table = [
            (
                "10.0.0.1:51000",
                "10.0.0.2:80",
                "10.0.0.2:80",
                "10.0.0.1:51000",
                true,
            ),
            (
                "[2001:db8::1]:443",
                "[2001:db8::2]:5000",
                "[2001:db8::2]:5000",
                "[2001:db8::1]:443",
                true,
            ),
            (
                "10.0.0.1:51000",
                "10.0.0.2:80",
                "10.0.0.1:51001",
                "10.0.0.2:80",
                false,
            ),
            (
                "10.0.0.1:80",
                "10.0.0.2:51000",
                "10.0.0.1:51000",
                "10.0.0.2:80",
                false,
            ),
            // An IPv4 address and the same bits as IPv6 (mapped or compatible) are different hosts.
            (
                "1.2.3.4:80",
                "5.6.7.8:9",
                "[::ffff:1.2.3.4]:80",
                "[::ffff:5.6.7.8]:9",
                false,
            ),
            (
                "1.2.3.4:80",
                "5.6.7.8:9",
                "[::1.2.3.4]:80",
                "[::5.6.7.8]:9",
                false,
            ),
        ];
        for (a, b, c, d, same) in table {
            assert_eq!(k(a, b) == k(c, d), same, "{a} {b} / {c} {d}");
            assert_eq!(k(a, b), k(b, a));
        }
    }

    #[test]
    fn client_guess_without_a_syn() {
        let table = [
            ("10.0.0.1:51000", "10.0.0.2:80", "10.0.0.1:51000"),
            ("10.0.0.2:80", "10.0.0.1:51000", "10.0.0.1:51000"),
            ("10.0.0.2:8080", "10.0.0.1:3333", "10.0.0.1:3333"),
            ("10.0.0.1:59720", "10.0.0.2:9696", "10.0.0.1:59720"),
            ("10.0.0.2:9696", "10.0.0.1:59720", "10.0.0.1:59720"),
            // Nothing to go by: the sender of the first packet.
            ("10.0.0.1:40000", "10.0.0.2:50000", "10.0.0.1:40000"),
            ("10.0.0.1:2000", "10.0.0.2:3333", "10.0.0.1:2000"),
            // Both well known, neither ephemeral.
            ("10.0.0.1:443", "10.0.0.2:80", "10.0.0.1:443"),
        ];
        for (src, dst, client) in table {
            let (c, s) = guess_client(sa(src), sa(dst));
            assert_eq!(c, sa(client), "{src} -> {dst}");
            assert_ne!(c, s);
        }
    }
}
