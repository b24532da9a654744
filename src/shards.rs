//! `stats` of a file on both cores: the connections are shared between two decoding
//! threads, each a whole pipeline (an [`Analyzer`] and a [`StatsBuilder`]) for the
//! connections whose packets it is given; their rows are put back in connection
//! order, numbered as one pipeline numbers them.
//!
//! The file's reader thread parses its records in batches, each record with the hash
//! of its outermost IP addresses (either way round, [`wsscope::wire::ip_pair_hash`]);
//! each batch is shared whole with every decoding thread, which takes the packets
//! whose hash is its own: every packet of a connection, its IP
//! fragments and a tunnel's packets included, goes to the same thread, and no packet
//! is copied. The caller's thread numbers the batches' packets and merges. A decoding thread numbers its own connections in the order they begin and
//! says at which packet each began (a packet begins at most one): merged by packet,
//! that order gives each connection the number one pipeline gives it. Rows and
//! warnings, each with the packet that brought it, are merged the same way.
//!
//! Each decoding thread holds two fifths of the memory budget and half the flow table
//! (`--max-memory`, `--max-flows`): within them the rows are those of one pipeline;
//! past them, which connections are ended early can differ. Each batch (2 MiB of the
//! file or 8192 packets) is a round, at most [`ROUNDS_AHEAD`] + 1 of them not yet merged back.
//!
//! A connection whose packets do not all have the same outermost addresses (seen both
//! in a tunnel and outside it, say) is split between the threads; packets the hash
//! does not read (MPLS, PPPoE, more than four VLAN tags) all go to the first thread.
//! Past [`MAX_WARNINGS`] distinct warnings, the count of those not shown is one per
//! thread for a warning repeated there; the budget's peak said at the end is the sum
//! of both threads' peaks.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;

use wsscope::analysis::{Analyzer, Config, ConnTotals, Event, Sink, Warning, MAX_WARNINGS};
use wsscope::budget::Budget;
use wsscope::output::order::InOrder;
use wsscope::output::{ConnStats, StatsBuilder};
use wsscope::tcp::TcpWarning;
use wsscope::types::Timestamp;

use crate::capture::{Batch, Damage, Source};

/// Decoding threads.
pub const SHARDS: usize = 2;
/// Rounds (batches) handed over and not yet merged back, at most (one more waits to be).
const ROUNDS_AHEAD: usize = 2;

/// Where the merged rows and warnings go.
pub trait RowsOut {
    /// Rows whose turn has come, in connection order.
    fn rows(&mut self, rows: Vec<ConnStats>);
    /// A warning for the user.
    fn warning(&mut self, warning: Warning);
    /// The output is gone: stop reading.
    fn broken(&self) -> bool;
    /// The file is damaged after `packets` packets (said where one pipeline says it:
    /// before the connections still open are ended).
    fn damaged(&mut self, why: Damage, packets: u64);
}

/// A batch of the file: its packets numbered from `first`, the first `len` of them
/// (`-c N` can stop inside a batch).
struct Part {
    batch: Arc<Batch>,
    first: u64,
    len: usize,
}

enum Work {
    /// A batch for every decoding thread, each taking its own packets of it.
    Round(Part),
    /// The end of the input: end the connections still open.
    Finish { packets: u64, last_ts: Timestamp },
}

/// What a decoding thread made of a round, in the order it happened.
#[derive(Default)]
struct Done {
    /// Its connections begun: (packet, its own number).
    opened: Vec<(u64, u64)>,
    /// Rows and warnings, each with the packet that brought it.
    items: Vec<(u64, Item)>,
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

/// Decoding thread `me` of `shards`: its packets of each batch in, rows out.
fn decode(me: usize, shards: usize, cfg: Config, work: Receiver<Work>, done: SyncSender<Done>) {
    let mut analyzer = Analyzer::new(cfg);
    let mut sink = ShardSink {
        stats: StatsBuilder::with_streams(),
        pkt: 0,
        items: Vec::new(),
    };
    while let Ok(w) = work.recv() {
        let mut out = Done::default();
        match w {
            Work::Round(part) => {
                for i in 0..part.len {
                    if part.batch.key(i) % shards != me {
                        continue;
                    }
                    let Some((linktype, ts, data)) = part.batch.packet(i) else {
                        break;
                    };
                    let pkt = part.first + i as u64;
                    let before = analyzer.conns_seen();
                    sink.pkt = pkt;
                    // Numbered as in the whole file.
                    analyzer.set_packets(pkt.saturating_sub(1));
                    analyzer.packet(linktype, ts, data, &mut sink);
                    out.opened
                        .extend((before..analyzer.conns_seen()).map(|c| (pkt, c)));
                }
                // Let go before saying so: the batch's buffer can then be reused.
                drop(part);
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
/// memory budget, the last fifth left (not counted) for what waits between the
/// threads (rounds, rows not yet in their turn, the numbers of open connections).
fn shard_config(cfg: &Config) -> Config {
    let mut c = cfg.clone();
    c.budget = Budget::new(cfg.budget.limit() * 2 / 5);
    c.tcp.max_flows = cfg.tcp.max_flows.div_ceil(SHARDS).max(1);
    c
}

/// Reads `source` to its end (or `count` packets, or `stop`) with [`SHARDS`]
/// decoding threads, and gives `out` the rows of every connection in connection
/// order and the warnings. See the module docs. `None`, before anything is read, when
/// the threads cannot be started (one pipeline then does it).
pub fn stats(
    source: &mut Source,
    cfg: &Config,
    count: Option<u64>,
    stop: &AtomicBool,
    out: &mut impl RowsOut,
) -> Option<()> {
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
                .spawn_scoped(scope, move || decode(i, SHARDS, c, work_rx, done_tx));
            if spawned.is_err() {
                return None;
            }
            to.push(work_tx);
            from.push(done_rx);
        }
        let mut merge = Merge::new(cfg.budget.limit(), cfg.tcp.max_flows);
        // The batches being decoded (given back to the reader once merged).
        let mut held: VecDeque<Arc<Batch>> = VecDeque::new();
        let (mut packets, mut last_ts, mut damage) = (0u64, Timestamp::default(), None);
        let mut ended = false;
        // A decoding thread is gone (it failed): nothing more is read or written.
        let mut failed = false;
        while !ended && !failed {
            // Stopped: what was handed over is still decoded.
            let next = if stop.load(Ordering::Relaxed) || out.broken() {
                None
            } else {
                source.next_batch()
            };
            let Some(batch) = next else {
                ended = true;
                continue;
            };
            let left = count.map_or(usize::MAX, |c| {
                usize::try_from(c.saturating_sub(packets)).unwrap_or(usize::MAX)
            });
            let len = batch.len().min(left);
            if let Some((_, ts, _)) = len.checked_sub(1).and_then(|i| batch.packet(i)) {
                last_ts = ts;
            }
            let first = packets + 1;
            packets += len as u64;
            if count.is_some_and(|c| packets >= c) {
                // Stopped at `-c N`: what follows, damage or not, is not read.
                ended = true;
            } else if let Some(why) = batch.end() {
                damage = why;
                ended = true;
            }
            for t in &to {
                let part = Part {
                    batch: batch.clone(),
                    first,
                    len,
                };
                let _ = t.send(Work::Round(part));
            }
            held.push_back(batch);
            if held.len() > ROUNDS_AHEAD {
                failed = !merge.round(&from, false, out);
                if let Some(b) = held.pop_front() {
                    source.give_back(b);
                }
            }
        }
        if failed {
            // The thread's panic ends the run when the scope joins it.
            return Some(());
        }
        for t in &to {
            let _ = t.send(Work::Finish { packets, last_ts });
        }
        // Every round in flight, then the ends, merged in turn.
        for _ in 0..held.len() {
            if !merge.round(&from, false, out) {
                return Some(());
            }
        }
        if let Some(why) = damage {
            out.damaged(why, packets);
        }
        if merge.round(&from, true, out) {
            merge.finish(out);
        }
        Some(())
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

    /// The next round of every decoding thread, merged by packet; `end`: the round of
    /// the end, where one pipeline ends the connections still open in their order.
    /// False when a decoding thread is gone (it failed): nothing of this round is
    /// written.
    fn round(&mut self, from: &[Receiver<Done>], end: bool, out: &mut impl RowsOut) -> bool {
        let mut done: Vec<Done> = Vec::with_capacity(from.len());
        for rx in from {
            match rx.recv() {
                Ok(d) => done.push(d),
                Err(_) => return false,
            }
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
        if end {
            // All of the same packet: in the order of the connections they are about
            // (a connection's warnings come before its rows), the end's counts last.
            let mut keys = Vec::with_capacity(items.len());
            let mut next_rows: HashMap<usize, u64> = HashMap::new();
            for (_, i, item) in items.iter().rev() {
                let key = match item {
                    Item::Rows(c, _) => {
                        let g = self.numbers.get(&(*i, *c)).copied().unwrap_or(u64::MAX);
                        next_rows.insert(*i, g);
                        g
                    }
                    Item::Warning(Warning::Tcp { conn, .. } | Warning::Layer { conn, .. }) => self
                        .numbers
                        .get(&(*i, *conn))
                        .copied()
                        .unwrap_or_else(|| next_rows.get(i).copied().unwrap_or(u64::MAX)),
                    Item::Warning(_) => u64::MAX,
                };
                keys.push(key);
            }
            keys.reverse();
            let mut keyed: Vec<(u64, (u64, usize, Item))> = keys.into_iter().zip(items).collect();
            keyed.sort_by_key(|(k, _)| *k);
            items = keyed.into_iter().map(|(_, it)| it).collect();
        } else {
            // Stable: within a packet, in the order the thread made them.
            items.sort_by_key(|&(pkt, i, _)| (pkt, i));
        }
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
        true
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

    /// Shown as one pipeline shows it: a layer's each time; the snap length's the
    /// first time; the others once each, at most [`MAX_WARNINGS`] distinct; the
    /// budget's and the count of those not shown summed up for the end.
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
            // Said once, and not among those counted.
            Warning::SnapLength { .. } => {
                if !std::mem::replace(&mut self.snaplen_said, true) {
                    out.warning(w);
                }
                return;
            }
            // One pipeline says every one of these (the layers keep their own count).
            Warning::Layer { .. } => {
                out.warning(w);
                return;
            }
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
