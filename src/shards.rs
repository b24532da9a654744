//! `stats` of a file on both cores: the connections are shared between two decoding
//! threads, each a whole pipeline (an [`Analyzer`] and a [`StatsBuilder`]) for the
//! connections whose packets it is given; their rows are put back in connection
//! order, numbered as one pipeline numbers them.
//!
//! The reading thread (the caller's) numbers the packets and gives each to the
//! thread chosen by its outermost IP addresses, either way round: every packet of a
//! connection, its IP fragments and a tunnel's packets included, goes to the same
//! thread. A decoding thread numbers its own connections in the order they begin and
//! says at which packet each began (a packet begins at most one): merged by packet,
//! that order gives each connection the number one pipeline gives it. Rows and
//! warnings, each with the packet that brought it, are merged the same way.
//!
//! Each decoding thread holds two fifths of the memory budget and half the flow table
//! (`--max-memory`, `--max-flows`): within them the rows are those of one pipeline;
//! past them, which connections are ended early can differ. Packets go in rounds (a
//! few hundred KiB), at most [`ROUNDS_AHEAD`] ahead of the rows written.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use wsscope::analysis::{Analyzer, Config, ConnTotals, Event, Sink, Warning};
use wsscope::budget::Budget;
use wsscope::output::order::InOrder;
use wsscope::output::{ConnStats, StatsBuilder};
use wsscope::tcp::TcpWarning;
use wsscope::types::Timestamp;
use wsscope::wire::dlt;

use crate::capture::{Damage, Next, Source};

/// Decoding threads.
pub const SHARDS: usize = 2;
/// Packet bytes gathered before a round is handed over.
const ROUND_BYTES: usize = 1 << 19;
/// Packets gathered before a round is handed over.
const ROUND_PACKETS: usize = 8192;
/// Rounds handed over and not yet merged back, at most.
const ROUNDS_AHEAD: usize = 2;
/// Distinct warnings shown (as one pipeline shows them); the rest are counted.
const MAX_WARNINGS: usize = 100;

/// Where the merged rows and warnings go.
pub trait RowsOut {
    /// Rows whose turn has come, in connection order.
    fn rows(&mut self, rows: Vec<ConnStats>);
    /// A warning for the user.
    fn warning(&mut self, warning: Warning);
    /// The output is gone: stop reading.
    fn broken(&self) -> bool;
}

/// How the reading ended.
pub struct Outcome {
    /// Packets read.
    pub packets: u64,
    /// The file is damaged after `packets` packets.
    pub damage: Option<Damage>,
}

/// One packet handed to a decoding thread: where its bytes are in the round's buffer.
struct Pkt {
    pkt: u64,
    linktype: i32,
    ts: Timestamp,
    start: usize,
    end: usize,
}

/// A decoding thread's share of a round of packets.
#[derive(Default)]
struct Round {
    data: Vec<u8>,
    packets: Vec<Pkt>,
}

impl Round {
    fn clear(&mut self) {
        self.data.clear();
        self.packets.clear();
    }
}

enum Work {
    Round(Round),
    /// The end of the input: end the connections still open.
    Finish {
        packets: u64,
        last_ts: Timestamp,
    },
}

/// What a decoding thread made of a round, in the order it happened.
#[derive(Default)]
struct Done {
    /// Its connections begun: (packet, its own number).
    opened: Vec<(u64, u64)>,
    /// Rows and warnings, each with the packet that brought it.
    items: Vec<(u64, Item)>,
    /// The round's buffers, to be filled again.
    round: Round,
}

enum Item {
    /// A connection (by the thread's own number) ended, with its rows (none when it
    /// had no events).
    Rows(u64, Vec<ConnStats>),
    Warning(Warning),
}

/// A decoding thread's sink: the stats of its connections, rows taken at their end.
struct ShardSink {
    stats: StatsBuilder,
    /// The packet being decoded.
    pkt: u64,
    items: Vec<(u64, Item)>,
}

impl Sink for ShardSink {
    fn event(&mut self, e: Event) {
        self.stats.add(&e);
    }

    fn warning(&mut self, warning: Warning) {
        self.items.push((self.pkt, Item::Warning(warning)));
    }

    fn conn_closed(&mut self, conn: u64, totals: &ConnTotals) {
        let rows = self.stats.close_rows(conn, totals).unwrap_or_default();
        self.items.push((self.pkt, Item::Rows(conn, rows)));
    }

    fn heap_bytes(&self) -> usize {
        self.stats.heap_bytes()
    }
}

/// The decoding thread: packets in, rows out, round by round.
fn decode(cfg: Config, work: Receiver<Work>, done: SyncSender<Done>) {
    let mut analyzer = Analyzer::new(cfg);
    let mut sink = ShardSink {
        stats: StatsBuilder::with_streams(),
        pkt: 0,
        items: Vec::new(),
    };
    while let Ok(w) = work.recv() {
        let mut out = Done::default();
        match w {
            Work::Round(round) => {
                for p in &round.packets {
                    let before = analyzer.conns_seen();
                    sink.pkt = p.pkt;
                    // Numbered as in the whole file.
                    analyzer.set_packets(p.pkt.saturating_sub(1));
                    let data = round.data.get(p.start..p.end).unwrap_or_default();
                    analyzer.packet(p.linktype, p.ts, data, &mut sink);
                    out.opened
                        .extend((before..analyzer.conns_seen()).map(|c| (p.pkt, c)));
                }
                out.round = round;
            }
            Work::Finish { packets, last_ts } => {
                sink.pkt = packets;
                analyzer.set_packets(packets);
                analyzer.finish(last_ts, &mut sink);
            }
        }
        out.items = std::mem::take(&mut sink.items);
        if done.send(out).is_err() {
            return;
        }
    }
}

/// A decoding thread's share of the limits: half the flow table; two fifths of the
/// memory budget, the last fifth left for what waits between the threads (rounds,
/// rows not yet in their turn, the numbers of open connections).
fn shard_config(cfg: &Config) -> Config {
    let mut c = cfg.clone();
    c.budget = Budget::new(cfg.budget.limit() * 2 / 5);
    c.tcp.max_flows = cfg.tcp.max_flows.div_ceil(SHARDS).max(1);
    c
}

/// Reads `source` to its end (or `count` packets, or `stop`) with [`SHARDS`]
/// decoding threads, and gives `out` the rows of every connection in connection
/// order and the warnings. See the module docs.
pub fn stats(
    source: &mut Source,
    cfg: &Config,
    count: Option<u64>,
    stop: &AtomicBool,
    out: &mut impl RowsOut,
) -> Outcome {
    std::thread::scope(|scope| {
        let mut to = Vec::with_capacity(SHARDS);
        let mut from = Vec::with_capacity(SHARDS);
        for i in 0..SHARDS {
            let (work_tx, work_rx) = sync_channel::<Work>(ROUNDS_AHEAD);
            // Room for every round in flight: a decoding thread never waits to give back.
            let (done_tx, done_rx) = sync_channel::<Done>(ROUNDS_AHEAD + 2);
            let c = shard_config(cfg);
            let spawned = std::thread::Builder::new()
                .name(format!("wsscope-decode-{i}"))
                .spawn_scoped(scope, move || decode(c, work_rx, done_tx));
            if spawned.is_err() {
                // No thread to be had: the other threads still take every packet.
                break;
            }
            to.push(work_tx);
            from.push(done_rx);
        }
        let mut merge = Merge::new(cfg.budget.limit(), cfg.tcp.max_flows);
        let mut rounds: Vec<Round> = (0..to.len()).map(|_| Round::default()).collect();
        let mut spare: Vec<Vec<Round>> = (0..to.len()).map(|_| Vec::new()).collect();
        let mut in_flight = 0usize;
        let (mut packets, mut last_ts, mut damage) = (0u64, Timestamp::default(), None);
        let (mut bytes, mut gathered) = (0usize, 0usize);
        let hand_over = |rounds: &mut Vec<Round>, spare: &mut Vec<Vec<Round>>| {
            for (i, r) in rounds.iter_mut().enumerate() {
                let next = spare[i].pop().unwrap_or_default();
                let _ = to[i].send(Work::Round(std::mem::replace(r, next)));
            }
        };
        while !to.is_empty() {
            if stop.load(Ordering::Relaxed) || out.broken() {
                break;
            }
            match source.next_packet() {
                // Not given while a filter hides packets (see the caller): counted only.
                Next::Filtered(p) => {
                    packets += 1;
                    last_ts = p.ts;
                }
                Next::Packet(p) => {
                    packets += 1;
                    last_ts = p.ts;
                    let r = &mut rounds[ip_pair_hash(p.linktype, p.data) % to.len()];
                    let start = r.data.len();
                    r.data.extend_from_slice(p.data);
                    r.packets.push(Pkt {
                        pkt: packets,
                        linktype: p.linktype,
                        ts: p.ts,
                        start,
                        end: r.data.len(),
                    });
                    bytes += p.data.len();
                    gathered += 1;
                    if bytes >= ROUND_BYTES || gathered >= ROUND_PACKETS {
                        (bytes, gathered) = (0, 0);
                        hand_over(&mut rounds, &mut spare);
                        in_flight += 1;
                        if in_flight > ROUNDS_AHEAD {
                            merge.round(&from, &mut spare, out);
                            in_flight -= 1;
                        }
                    }
                    if count.is_some_and(|c| packets >= c) {
                        break;
                    }
                }
                Next::Timeout => {}
                Next::End => break,
                Next::Damaged(d) => {
                    damage = Some(d);
                    break;
                }
            }
        }
        if gathered > 0 {
            hand_over(&mut rounds, &mut spare);
            in_flight += 1;
        }
        for t in &to {
            let _ = t.send(Work::Finish { packets, last_ts });
        }
        // Every round then the ends, merged in turn.
        for _ in 0..in_flight {
            merge.round(&from, &mut spare, out);
        }
        if !to.is_empty() {
            merge.round(&from, &mut spare, out);
        }
        drop(to);
        merge.finish(out);
        Outcome { packets, damage }
    })
}

/// Puts the decoding threads' output back together.
struct Merge {
    /// (decoding thread, its number) → the connection's number.
    numbers: HashMap<(usize, u64), u64>,
    next: u64,
    order: InOrder<Vec<ConnStats>>,
    warned: HashSet<Warning>,
    snaplen_said: bool,
    suppressed: u64,
    evicted: u64,
    peak: usize,
    /// The bounds as given (`--max-memory`, `--max-flows`).
    limit: usize,
    max_flows: usize,
}

impl Merge {
    fn new(limit: usize, max_flows: usize) -> Merge {
        Merge {
            numbers: HashMap::new(),
            next: 0,
            order: InOrder::new(),
            warned: HashSet::new(),
            snaplen_said: false,
            suppressed: 0,
            evicted: 0,
            peak: 0,
            limit,
            max_flows,
        }
    }

    /// The next round of every decoding thread, merged by packet.
    fn round(&mut self, from: &[Receiver<Done>], spare: &mut [Vec<Round>], out: &mut impl RowsOut) {
        let mut done: Vec<Done> = Vec::with_capacity(from.len());
        for (i, rx) in from.iter().enumerate() {
            let mut d = rx.recv().unwrap_or_default();
            let mut r = std::mem::take(&mut d.round);
            r.clear();
            spare[i].push(r);
            done.push(d);
        }
        // Numbers first: a connection can begin and end within one round.
        let mut opened: Vec<(u64, usize, u64)> = done
            .iter()
            .enumerate()
            .flat_map(|(i, d)| d.opened.iter().map(move |&(pkt, c)| (pkt, i, c)))
            .collect();
        opened.sort_by_key(|&(pkt, i, _)| (pkt, i));
        for (_, i, c) in opened {
            self.numbers.insert((i, c), self.next);
            self.next += 1;
        }
        let mut items: Vec<(u64, usize, Item)> = done
            .into_iter()
            .enumerate()
            .flat_map(|(i, d)| d.items.into_iter().map(move |(pkt, it)| (pkt, i, it)))
            .collect();
        // Stable: within a packet, in the order the thread made them.
        items.sort_by_key(|&(pkt, i, _)| (pkt, i));
        for (_, i, item) in items {
            match item {
                Item::Rows(c, mut rows) => {
                    let conn = self.numbers.remove(&(i, c)).unwrap_or(c);
                    if rows.is_empty() {
                        continue;
                    }
                    for r in &mut rows {
                        r.conn = conn;
                    }
                    self.order.push(conn, rows);
                    let ready = self.order.ready();
                    out.rows(ready.into_iter().flat_map(|(_, r)| r).collect());
                }
                Item::Warning(w) => {
                    let w = self.renumber(i, w);
                    self.warning(w, out);
                }
            }
        }
    }

    /// A warning about a connection, under its number, with the bounds the user gave
    /// (a decoding thread holds half of each).
    fn renumber(&self, shard: usize, mut w: Warning) -> Warning {
        if let Warning::Tcp { conn, .. } | Warning::Layer { conn, .. } = &mut w {
            if let Some(&n) = self.numbers.get(&(shard, *conn)) {
                *conn = n;
            }
        }
        if let Warning::Tcp { warning, .. } = &mut w {
            match warning {
                TcpWarning::MemoryBudget { limit, .. } => *limit = self.limit,
                TcpWarning::FlowTableFull { max_flows, .. } => *max_flows = self.max_flows,
                _ => {}
            }
        }
        w
    }

    /// Shown as one pipeline shows it: once, the snap length's only the first time,
    /// at most [`MAX_WARNINGS`] distinct; the budget's and the count of those not
    /// shown summed up for the end.
    fn warning(&mut self, w: Warning, out: &mut impl RowsOut) {
        match w {
            Warning::Evicted { count, peak, .. } => {
                self.evicted += count;
                self.peak += peak;
                return;
            }
            Warning::NotShown { count } => {
                self.suppressed += count;
                return;
            }
            Warning::SnapLength { .. } if self.snaplen_said => return,
            Warning::SnapLength { .. } => self.snaplen_said = true,
            _ => {}
        }
        if self.warned.contains(&w) {
            return;
        }
        if self.warned.len() >= MAX_WARNINGS {
            self.suppressed += 1;
            return;
        }
        self.warned.insert(w.clone());
        out.warning(w);
    }

    /// The end: the budget's and the unshown warnings' counts, then every row left.
    fn finish(&mut self, out: &mut impl RowsOut) {
        if self.evicted > 0 {
            out.warning(Warning::Evicted {
                count: self.evicted,
                limit: self.limit,
                peak: self.peak,
            });
        }
        if self.suppressed > 0 {
            out.warning(Warning::NotShown {
                count: self.suppressed,
            });
        }
        let rows = self.order.finish();
        out.rows(rows.into_iter().flat_map(|(_, r)| r).collect());
    }
}

/// What picks a packet's decoding thread: a hash of its outermost IP addresses
/// (either way round, so both directions agree); 0 for a packet without IP.
fn ip_pair_hash(linktype: i32, data: &[u8]) -> usize {
    let Some(ip) = outer_ip(linktype, data) else {
        return 0;
    };
    let (a, b) = match ip.first().map(|v| v >> 4) {
        Some(4) => (ip.get(12..16), ip.get(16..20)),
        Some(6) => (ip.get(8..24), ip.get(24..40)),
        _ => return 0,
    };
    let (Some(a), Some(b)) = (a, b) else {
        return 0;
    };
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    // FNV-1a: the same threads for the same file, every run.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in lo.iter().chain(hi) {
        h = (h ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    (h ^ (h >> 32)) as usize
}

/// The outermost IP header of a packet, for the link types the decoder reads.
fn outer_ip(linktype: i32, data: &[u8]) -> Option<&[u8]> {
    const IPV4: u16 = 0x0800;
    const IPV6: u16 = 0x86dd;
    let be16 = |d: &[u8], at: usize| d.get(at..at + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    let ip_at = |ethertype: Option<u16>, at: usize| match ethertype {
        Some(IPV4 | IPV6) => data.get(at..),
        _ => None,
    };
    match linktype {
        dlt::EN10MB => {
            let mut at = 12;
            // 802.1Q / 802.1ad tags, stacked.
            for _ in 0..4 {
                match be16(data, at)? {
                    0x8100 | 0x88a8 | 0x9100 => at += 4,
                    _ => break,
                }
            }
            ip_at(be16(data, at), at + 2)
        }
        dlt::RAW | dlt::RAW_OPENBSD | dlt::LINKTYPE_RAW | dlt::IPV4 | dlt::IPV6 => Some(data),
        dlt::NULL | dlt::LOOP => data.get(4..),
        dlt::LINUX_SLL => ip_at(be16(data, 14), 16),
        dlt::LINUX_SLL2 => ip_at(be16(data, 0), 20),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eth_ipv4(src: [u8; 4], dst: [u8; 4], vlan: bool) -> Vec<u8> {
        let mut p = vec![0u8; 12];
        if vlan {
            p.extend_from_slice(&[0x81, 0x00, 0x00, 0x05]);
        }
        p.extend_from_slice(&[0x08, 0x00]);
        let mut ip = vec![0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0];
        ip.extend_from_slice(&src);
        ip.extend_from_slice(&dst);
        p.extend_from_slice(&ip);
        p.extend_from_slice(&[0u8; 20]);
        p
    }

    #[test]
    fn both_directions_and_vlan_tags_go_to_one_thread() {
        let (a, b) = ([10, 1, 0, 7], [10, 2, 0, 1]);
        let s = ip_pair_hash(dlt::EN10MB, &eth_ipv4(a, b, false));
        assert_eq!(ip_pair_hash(dlt::EN10MB, &eth_ipv4(b, a, false)), s);
        assert_eq!(ip_pair_hash(dlt::EN10MB, &eth_ipv4(a, b, true)), s);
        // The same IP packet without a link layer.
        let raw = &eth_ipv4(a, b, false)[14..];
        assert_eq!(ip_pair_hash(dlt::RAW, raw), s);
    }

    #[test]
    fn clients_spread_over_threads() {
        let used: HashSet<usize> = (0..16u8)
            .map(|i| {
                ip_pair_hash(dlt::EN10MB, &eth_ipv4([10, 1, 0, i], [10, 2, 0, 1], false)) % SHARDS
            })
            .collect();
        assert_eq!(used.len(), SHARDS);
    }

    #[test]
    fn short_or_foreign_packets_go_to_the_first_thread() {
        for len in 0..54 {
            let p = eth_ipv4([10, 1, 0, 7], [10, 2, 0, 1], true);
            let _ = ip_pair_hash(dlt::EN10MB, &p[..len.min(p.len())]);
        }
        assert_eq!(ip_pair_hash(dlt::EN10MB, &[0u8; 10]), 0);
        assert_eq!(ip_pair_hash(dlt::PPP, &[0x45; 60]), 0);
        assert_eq!(ip_pair_hash(dlt::EN10MB, &[0xffu8; 60]), 0);
    }
}
