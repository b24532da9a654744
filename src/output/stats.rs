//! `stats`: one row per connection (the [`Summary`] of each), released in
//! connection order as soon as every connection numbered before it has ended, so
//! memory holds only the connections still open (and finished ones waiting for an
//! older, longer one); and the text table.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::order::InOrder;
use super::Lang;
use crate::analysis::{ConnTotals, Event, Sink, Summary};
use crate::types::{ConnMap, Direction};

pub use crate::analysis::summary::{Bytes, CloseStats, ConnStats, PerDir, UpgradeStats};

/// Ended connections' rows held while an earlier connection is still open.
pub const MAX_WAITING_ROWS: usize = super::order::MAX_WAITING;

/// Builds [`ConnStats`] rows from events; a [`Sink`] itself. With
/// [`StatsBuilder::with_streams`], each WebSocket over HTTP/2 gets a row of its own
/// after its connection's (which sums every stream).
#[derive(Default)]
pub struct StatsBuilder {
    /// Boxed: a summary is large, and a table of them would hold twice their room
    /// (and three times while it grows).
    open: ConnMap<Box<Open>>,
    done: InOrder<Vec<ConnStats>>,
    streams: bool,
    /// Heap bytes of the open summaries, of the rows waiting and of the table (a
    /// running count, for the memory budget).
    held: usize,
    /// The table's part of `held`.
    table: usize,
}

/// One open connection: its summary, and its HTTP/2 streams'.
struct Open {
    conn: Summary,
    streams: BTreeMap<u32, Summary>,
    /// Its heap bytes counted in [`StatsBuilder::held`].
    charged: usize,
}

impl Open {
    fn heap_bytes(&self) -> usize {
        std::mem::size_of::<Open>()
            + crate::budget::ALLOC_OVERHEAD
            + self.conn.heap_bytes()
            + crate::budget::btree_bytes(self.streams.len(), std::mem::size_of::<(u32, Summary)>())
            + self
                .streams
                .values()
                .map(Summary::heap_bytes)
                .sum::<usize>()
    }
}

/// Heap bytes of finished rows waiting for their turn.
fn rows_bytes(rows: &[ConnStats]) -> usize {
    rows.iter()
        .map(|r| std::mem::size_of::<ConnStats>() + r.heap_bytes())
        .sum::<usize>()
        + crate::budget::ALLOC_OVERHEAD
}

impl StatsBuilder {
    /// An empty builder: one row per connection.
    pub fn new() -> StatsBuilder {
        StatsBuilder::default()
    }

    /// An empty builder that also gives each WebSocket over HTTP/2 its own row.
    pub fn with_streams() -> StatsBuilder {
        StatsBuilder {
            streams: true,
            ..StatsBuilder::default()
        }
    }

    /// Takes one event into account.
    pub fn add(&mut self, e: &Event) {
        let mut new = false;
        let o = self.open.entry(e.conn).or_insert_with(|| {
            new = true;
            Box::new(Open {
                conn: Summary::new(e.conn, e.ts),
                streams: BTreeMap::new(),
                charged: 0,
            })
        });
        o.conn.add(e);
        if let (true, Some(s)) = (self.streams, e.stream) {
            let row = o.conn.row();
            let (client, server) = (row.client.clone(), row.server.clone());
            o.streams
                .entry(s)
                .or_insert_with(|| Summary::for_stream(e.conn, s, e.ts, &client, &server))
                .add(e);
        }
        if new || e.stream.is_some() || Summary::may_grow(&e.kind) {
            let now = o.heap_bytes();
            crate::budget::recount(&mut self.held, &mut o.charged, now);
        }
        if new {
            self.recount_table();
        }
    }

    /// Counts the table again (a connection came or went).
    fn recount_table(&mut self) {
        let now = crate::budget::map_bytes(&self.open);
        crate::budget::recount(&mut self.held, &mut self.table, now);
    }

    /// Heap bytes held: the open connections' summaries, the rows waiting for an
    /// older connection to end, the table (for the memory budget).
    pub fn heap_bytes(&self) -> usize {
        self.held
    }

    /// Rows released: no longer counted.
    fn released(&mut self, out: Vec<(u64, Vec<ConnStats>)>) -> Vec<ConnStats> {
        let mut rows = Vec::new();
        for (_, r) in out {
            crate::budget::release(&mut self.held, rows_bytes(&r));
            rows.extend(r);
        }
        rows
    }

    /// The summary so far of an open connection.
    pub fn summary(&self, conn: u64) -> Option<&Summary> {
        self.open.get(&conn).map(|o| &o.conn)
    }

    /// Rows ready to print, in connection order (see [`InOrder`]: past
    /// [`MAX_WAITING_ROWS`] waiting, rows go out as their connections end).
    pub fn ready(&mut self) -> Vec<ConnStats> {
        let out = self.done.ready();
        self.released(out)
    }

    /// The end of the input: every row, in connection order; `totals` gives the
    /// packet-level numbers of connections still open.
    pub fn finish_with(&mut self, totals: impl Fn(u64) -> Option<ConnTotals>) -> Vec<ConnStats> {
        let open: Vec<u64> = self.open.keys().copied().collect();
        for conn in open {
            let t = totals(conn).unwrap_or_default();
            self.conn_closed(conn, &t);
        }
        let out = self.done.finish();
        self.released(out)
    }

    /// The end of the input: every row, in connection order.
    pub fn finish(&mut self) -> Vec<ConnStats> {
        self.finish_with(|_| None)
    }

    /// `conn` has ended: its rows now (the connection's, then each WebSocket over
    /// HTTP/2 of it), not kept for their turn; `None` for a connection without events.
    /// For a driver that puts rows of several builders in order itself.
    pub fn close_rows(&mut self, conn: u64, totals: &ConnTotals) -> Option<Vec<ConnStats>> {
        let o = self.open.remove(&conn)?;
        crate::budget::release(&mut self.held, o.charged);
        self.recount_table();
        let o = *o;
        let mut rows = vec![o.conn.close(totals)];
        // Streams that carried a WebSocket; plain requests count in the connection's row.
        rows.extend(
            o.streams
                .into_values()
                .map(|s| s.close(totals))
                .filter(|r| r.kind == "websocket"),
        );
        Some(rows)
    }
}

impl Sink for StatsBuilder {
    fn event(&mut self, e: Event) {
        self.add(&e);
    }

    fn conn_closed(&mut self, conn: u64, totals: &ConnTotals) {
        if let Some(rows) = self.close_rows(conn, totals) {
            self.held += rows_bytes(&rows);
            self.done.push(conn, rows);
        }
    }

    fn heap_bytes(&self) -> usize {
        StatsBuilder::heap_bytes(self)
    }
}

/// The text table's header line.
pub fn table_header() -> String {
    table_header_in(Lang::En)
}

/// The table's header line in `lang` (columns padded by display width).
pub fn table_header_in(lang: Lang) -> String {
    let cols = [
        (msg!(lang, "stats.conn"), 5usize, false),
        (msg!(lang, "stats.client"), 23, false),
        (msg!(lang, "stats.server"), 23, false),
        (msg!(lang, "stats.kind"), 17, false),
        (msg!(lang, "stats.rtt_ms"), 8, true),
        (msg!(lang, "stats.upgrade"), 8, false),
        (msg!(lang, "stats.frames"), 13, true),
        (msg!(lang, "stats.msgs"), 6, true),
        (msg!(lang, "stats.wire_b"), 10, true),
        (msg!(lang, "stats.payload_b"), 10, true),
        (msg!(lang, "stats.pings"), 5, true),
        (msg!(lang, "stats.close"), 12, false),
        (msg!(lang, "stats.teardown"), 8, false),
        (msg!(lang, "stats.viol"), 4, true),
    ];
    let cells: Vec<String> = cols
        .iter()
        .map(|(t, w, right)| {
            let pad = " ".repeat(w.saturating_sub(crate::text::width(t)));
            if *right {
                format!("{pad}{t}")
            } else {
                format!("{t}{pad}")
            }
        })
        .collect();
    cells.join(" ")
}

/// The line under the table that reads its close column (`1000 by c !`).
pub fn table_legend(lang: Lang) -> String {
    msg!(lang, "stats.legend")
}

/// One row of the text table.
pub fn table_row(r: &ConnStats) -> String {
    table_row_in(Lang::En, r)
}

/// One row of the table in `lang` (the words `none`, `by c`, `by s`; numbers and
/// addresses as they are).
pub fn table_row_in(lang: Lang, r: &ConnStats) -> String {
    let mut s = String::new();
    let rtt = r
        .handshake_rtt_ms
        .map(|v| format!("{v:.3}"))
        .unwrap_or_else(|| "-".into());
    let upgrade = match &r.upgrade {
        Some(u) if u.ok => format!("{} ✓", u.status),
        Some(u) if u.status == 0 => msg!(lang, "stats.none_failed"),
        Some(u) => format!("{} ✗", u.status),
        None => "-".into(),
    };
    let close = match &r.close {
        Some(c) => format!(
            "{}{}{}",
            c.code
                .map(|c| c.to_string())
                .unwrap_or_else(|| msg!(lang, "stats.none")),
            match c.initiator {
                Some(Direction::C2S) => msg!(lang, "stats.by_c"),
                Some(Direction::S2C) => msg!(lang, "stats.by_s"),
                None => String::new(),
            },
            if c.clean { "" } else { " !" }
        ),
        None => "-".into(),
    };
    // Padded by display width: the Chinese words are two columns wide.
    let fill =
        |t: &str, w: usize| format!("{t}{}", " ".repeat(w.saturating_sub(crate::text::width(t))));
    let (upgrade, close) = (fill(&upgrade, 8), fill(&close, 12));
    let _ = write!(
        s,
        "{:<5} {:<23} {:<23} {:<17} {:>8} {} {:>13} {:>6} {:>10} {:>10} {:>5} {} {:<8} {:>4}",
        match r.stream {
            Some(st) => format!("{}/s{st}", r.conn),
            None => r.conn.to_string(),
        },
        r.client,
        r.server,
        r.kind,
        rtt,
        upgrade,
        format!("{}/{}", r.frames.c2s, r.frames.s2c),
        r.messages,
        r.bytes.wire,
        r.bytes.payload,
        r.pings,
        close,
        r.teardown,
        r.violations
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{Event, EventKind};
    use crate::types::Timestamp;

    fn ping(conn: u64, secs: i64, dir: Direction) -> Event {
        Event {
            conn,
            pkt: 1,
            ts: Timestamp(secs * 1_000_000),
            dir: Some(dir),
            stream: None,
            kind: EventKind::WsFrame {
                fin: true,
                rsv: 0,
                opcode: 9,
                opname: "ping",
                masked: dir == Direction::C2S,
                mask_key: None,
                len: 0,
                header_len: 2,
                close_code: None,
                close_reason: None,
                payload_hex: Default::default(),
                rtt_ms: None,
                mid_stream: false,
            },
        }
    }

    #[test]
    fn the_heartbeat_is_the_median_gap_between_one_sides_pings() {
        let mut b = StatsBuilder::new();
        // The server pings every 15 s (one late at 50 s); the client once, in between.
        for (t, dir) in [
            (0, Direction::S2C),
            (15, Direction::S2C),
            (20, Direction::C2S),
            (30, Direction::S2C),
            (50, Direction::S2C),
        ] {
            b.event(ping(0, t, dir));
        }
        b.conn_closed(0, &ConnTotals::default());
        let rows = b.ready();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].pings, 5);
        assert_eq!(rows[0].heartbeat_ms, Some(15_000.0));
    }

    #[test]
    fn one_ping_is_no_heartbeat() {
        let mut b = StatsBuilder::new();
        b.event(ping(0, 3, Direction::C2S));
        b.conn_closed(0, &ConnTotals::default());
        assert_eq!(b.ready()[0].heartbeat_ms, None);
    }
}
