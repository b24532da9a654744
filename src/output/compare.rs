//! `stats --compare`: the connections of a capture side by side by how they were used
//! (`kind`: websocket, http-polling, http-long-polling, http-streaming, http, tcp), to
//! see on real bytes what WebSocket saves over polling: bytes on the wire per payload
//! byte, requests per message, latency.
//!
//! Built from [`ConnStats`] rows (the `stats` view's own numbers), plus one count that
//! rows do not keep: the HTTP responses that carried data.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::io::{self, Write};

use serde::Serialize;

use super::explain::header;
use super::stats::{ConnStats, StatsBuilder};
use super::{Lang, Report};
use crate::analysis::{ConnTotals, Event, EventKind, Sink};

/// The kinds, in the order of the table's columns.
pub const KINDS: [&str; 6] = [
    "websocket",
    "http-polling",
    "http-long-polling",
    "http-streaming",
    "http",
    "tcp",
];

/// One connection as compared: its stats row and the responses that carried data.
#[derive(Clone, Debug)]
pub struct CompareRow {
    /// The `stats` row.
    pub stats: ConnStats,
    /// HTTP responses with a body (not 1xx, 204, 304, nor `Content-Length: 0`).
    pub responses_with_data: u64,
}

/// One kind's column: the `stats --compare --json` object.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct KindSummary {
    /// `websocket`, `http-polling`, ...
    pub kind: &'static str,
    /// Connections of this kind.
    pub connections: u64,
    /// WebSocket messages (websocket), HTTP requests (HTTP kinds), 0 (tcp).
    pub messages_or_requests: u64,
    /// WebSocket messages.
    pub messages: u64,
    /// HTTP requests (the WebSocket upgrade request included).
    pub requests: u64,
    /// HTTP responses that carried data.
    pub responses_with_data: u64,
    /// TCP payload bytes, both directions.
    pub wire_bytes: u64,
    /// Application payload bytes (frame payloads, or HTTP bodies).
    pub payload_bytes: u64,
    /// Wire bytes per payload byte (null without payload).
    pub overhead: Option<f64>,
    /// Bytes that were not payload, per message or request (null without any).
    pub overhead_bytes_per_message: Option<f64>,
    /// HTTP kinds: requests per response that carried data; websocket: 0 (null when
    /// it means nothing: tcp, or no response carried data).
    pub requests_per_message: Option<f64>,
    /// Median over the connections of each one's median latency: ping→pong for
    /// websocket (null without pings), request→response for HTTP kinds.
    pub median_latency_ms: Option<f64>,
    /// What the latency measures: `ping_rtt`, `request_response` or null.
    pub latency: Option<&'static str>,
    /// The median heartbeat interval (ms) of the connections of this kind that have
    /// one (`heartbeat_ms` of the summary: the gap between one side's pings).
    pub heartbeat_ms: Option<f64>,
}

/// The columns for `rows`, one per kind present, in [`KINDS`] order.
pub fn compare(rows: &[CompareRow]) -> Vec<KindSummary> {
    let mut t = KindTotals::default();
    for r in rows {
        t.add(&r.stats, r.responses_with_data);
    }
    t.summaries()
}

/// What the comparison needs of each kind's connections, folded as each row comes:
/// sums, and the latencies and heartbeats whose medians it gives. A row is not kept
/// (a capture can have millions), only its few numbers.
#[derive(Clone, Debug, Default)]
pub struct KindTotals {
    kinds: [Folded; KINDS.len()],
}

#[derive(Clone, Debug, Default)]
struct Folded {
    connections: u64,
    messages: u64,
    requests: u64,
    responses_with_data: u64,
    wire_bytes: u64,
    payload_bytes: u64,
    latencies: Vec<f64>,
    beats: Vec<f64>,
}

impl KindTotals {
    /// One connection's row, with its responses that carried data.
    pub fn add(&mut self, r: &ConnStats, responses_with_data: u64) {
        let Some(i) = KINDS.iter().position(|k| *k == r.kind) else {
            return;
        };
        let f = &mut self.kinds[i];
        f.connections += 1;
        f.messages += r.messages;
        f.requests += r.requests;
        f.responses_with_data += responses_with_data;
        f.wire_bytes += r.bytes.wire;
        f.payload_bytes += r.bytes.payload;
        let latency = if r.kind == "websocket" {
            r.ping_rtt_ms
        } else {
            r.http_latency_ms
        };
        f.latencies.extend(latency);
        f.beats.extend(r.heartbeat_ms);
    }

    /// Heap bytes held (for the memory budget): the latencies and heartbeats kept.
    pub fn heap_bytes(&self) -> usize {
        use crate::budget::vec_bytes;
        self.kinds
            .iter()
            .map(|f| vec_bytes(&f.latencies) + vec_bytes(&f.beats))
            .sum()
    }

    /// The columns, one per kind present, in [`KINDS`] order.
    pub fn summaries(&self) -> Vec<KindSummary> {
        let mut out = Vec::new();
        for (kind, f) in KINDS.into_iter().zip(&self.kinds) {
            if f.connections == 0 {
                continue;
            }
            let ws = kind == "websocket";
            let http = kind.starts_with("http");
            let messages_or_requests = match (ws, http) {
                (true, _) => f.messages,
                (_, true) => f.requests,
                _ => 0,
            };
            let ratio = |a: u64, b: u64| (b > 0).then(|| a as f64 / b as f64);
            let requests_per_message = if ws {
                Some(0.0)
            } else if http {
                ratio(f.requests, f.responses_with_data)
            } else {
                None
            };
            let median_latency_ms = median(&mut f.latencies.clone());
            out.push(KindSummary {
                kind,
                connections: f.connections,
                messages_or_requests,
                messages: f.messages,
                requests: f.requests,
                responses_with_data: f.responses_with_data,
                wire_bytes: f.wire_bytes,
                payload_bytes: f.payload_bytes,
                overhead: crate::analysis::summary::overhead(f.wire_bytes, f.payload_bytes),
                overhead_bytes_per_message: ratio(
                    f.wire_bytes.saturating_sub(f.payload_bytes),
                    messages_or_requests,
                ),
                requests_per_message,
                median_latency_ms,
                latency: median_latency_ms
                    .map(|_| if ws { "ping_rtt" } else { "request_response" }),
                heartbeat_ms: median(&mut f.beats.clone()),
            });
        }
        out
    }
}

fn median(v: &mut [f64]) -> Option<f64> {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied()
}

/// The text table: one row per measure, one column per kind.
pub fn table(cols: &[KindSummary]) -> String {
    table_in(Lang::En, cols)
}

/// The comparison as a text table with labels in `lang` (kinds are the `kind` values).
pub fn table_in(lang: Lang, cols: &[KindSummary]) -> String {
    let mut s = String::new();
    let num = |v: Option<f64>, digits: usize| match v {
        Some(x) => format!("{x:.digits$}"),
        None => "-".to_string(),
    };
    let mut row = |label: String, cells: Vec<String>| {
        let pad = 34usize.saturating_sub(crate::text::width(&label));
        let _ = write!(s, "{label}{:pad$}", "");
        for c in cells {
            let _ = write!(s, " {c:>18}");
        }
        s.push('\n');
    };
    row(
        String::new(),
        cols.iter().map(|c| c.kind.to_string()).collect(),
    );
    row(
        msg!(lang, "compare.connections"),
        cols.iter().map(|c| c.connections.to_string()).collect(),
    );
    row(
        msg!(lang, "compare.messages_or_requests"),
        cols.iter()
            .map(|c| c.messages_or_requests.to_string())
            .collect(),
    );
    row(
        msg!(lang, "compare.wire_bytes"),
        cols.iter().map(|c| c.wire_bytes.to_string()).collect(),
    );
    row(
        msg!(lang, "compare.payload_bytes"),
        cols.iter().map(|c| c.payload_bytes.to_string()).collect(),
    );
    row(
        msg!(lang, "compare.overhead"),
        cols.iter().map(|c| num(c.overhead, 3)).collect(),
    );
    row(
        msg!(lang, "compare.overhead_per_message"),
        cols.iter()
            .map(|c| num(c.overhead_bytes_per_message, 1))
            .collect(),
    );
    row(
        msg!(lang, "compare.requests_per_message"),
        cols.iter()
            .map(|c| num(c.requests_per_message, 2))
            .collect(),
    );
    row(
        msg!(lang, "compare.median_latency"),
        cols.iter()
            .map(|c| match (c.median_latency_ms, c.latency) {
                (Some(ms), Some("ping_rtt")) => msg!(lang, "compare.latency_ping", ms = ms : {:.3}),
                (Some(ms), _) => msg!(lang, "compare.latency_request", ms = ms : {:.3}),
                _ => "-".to_string(),
            })
            .collect(),
    );
    row(
        msg!(lang, "compare.heartbeat"),
        cols.iter().map(|c| num(c.heartbeat_ms, 3)).collect(),
    );
    s
}

/// Whether a response carries data: a body that is not empty by its status or its
/// `Content-Length` (chunked and read-to-close bodies count as data).
pub fn response_has_data(status: u16, headers: &[(String, String)]) -> bool {
    if status < 200 || status == 204 || status == 304 {
        return false;
    }
    match header(headers, "content-length").map(|v| v.trim().parse::<u64>()) {
        Some(Ok(n)) => n > 0,
        _ => true,
    }
}

/// `stats --compare`: a [`StatsBuilder`] plus the count of responses carrying data.
pub struct CompareBuilder {
    stats: StatsBuilder,
    data_responses: HashMap<u64, u64>,
    /// Ended connections `--grep` does not show, until their rows come out.
    hidden: HashSet<u64>,
    totals: KindTotals,
    json: bool,
    lang: Lang,
}

impl CompareBuilder {
    /// Rows released by the stats builder go into the totals; only their numbers stay.
    fn fold(&mut self, rows: Vec<ConnStats>) {
        for r in rows {
            let with_data = self.data_responses.remove(&r.conn).unwrap_or(0);
            // Hidden connections are held only until their row comes out.
            if !self.hidden.remove(&r.conn) {
                self.totals.add(&r, with_data);
            }
        }
    }

    /// A builder printing a text table, or JSON objects when `json`.
    pub fn new(json: bool) -> CompareBuilder {
        CompareBuilder::with_lang(json, Lang::En)
    }

    /// A comparison whose text table is labelled in `lang`.
    pub fn with_lang(json: bool, lang: Lang) -> CompareBuilder {
        CompareBuilder {
            stats: StatsBuilder::new(),
            data_responses: HashMap::new(),
            hidden: HashSet::new(),
            totals: KindTotals::default(),
            json,
            lang,
        }
    }
}

impl Report for CompareBuilder {
    fn event(&mut self, e: &Event, _out: &mut dyn Write) -> io::Result<()> {
        if let EventKind::HttpResponse {
            status, headers, ..
        } = &e.kind
        {
            if response_has_data(*status, headers) {
                *self.data_responses.entry(e.conn).or_insert(0) += 1;
            }
        }
        self.stats.event(e.clone());
        Ok(())
    }

    fn conn_closed(
        &mut self,
        conn: u64,
        totals: &ConnTotals,
        _out: &mut dyn Write,
    ) -> io::Result<()> {
        self.stats.conn_closed(conn, totals);
        let rows = self.stats.ready();
        self.fold(rows);
        Ok(())
    }

    fn hide_conn(&mut self, conn: u64) {
        self.hidden.insert(conn);
    }

    fn heap_bytes(&self) -> usize {
        self.stats.heap_bytes()
            + crate::budget::map_bytes(&self.data_responses)
            + crate::budget::set_bytes(&self.hidden)
            + self.totals.heap_bytes()
    }

    fn finish(&mut self, out: &mut dyn Write) -> io::Result<()> {
        let rows = self.stats.finish();
        self.fold(rows);
        let cols = self.totals.summaries();
        if self.json {
            for c in &cols {
                serde_json::to_writer(&mut *out, c)?;
                out.write_all(b"\n")?;
            }
            Ok(())
        } else {
            out.write_all(table_in(self.lang, &cols).as_bytes())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::stats::{Bytes, PerDir};

    fn row(
        conn: u64,
        kind: &'static str,
        (wire, payload): (u64, u64),
        (messages, requests, with_data): (u64, u64, u64),
        latency: Option<f64>,
    ) -> CompareRow {
        let ws = kind == "websocket";
        CompareRow {
            stats: ConnStats {
                conn,
                stream: None,
                client: "c".into(),
                server: "s".into(),
                handshake_rtt_ms: None,
                upgrade: None,
                frames: PerDir::default(),
                messages,
                bytes: Bytes { wire, payload },
                close: None,
                teardown: "fin",
                violations: 0,
                kind,
                mid_stream: false,
                pings: 0,
                pongs: 0,
                ping_rtt_ms: if ws { latency } else { None },
                heartbeat_ms: None,
                requests,
                http_latency_ms: if ws { None } else { latency },
                gap_bytes: 0,
                duration_ms: 0.0,
                framing_bytes: 0,
                overhead: None,
                tls: None,
            },
            responses_with_data: with_data,
        }
    }

    #[test]
    fn columns_sum_and_divide() {
        let rows = [
            row(0, "http-polling", (2000, 200), (0, 10, 4), Some(1.0)),
            row(1, "websocket", (1100, 1000), (20, 1, 0), Some(0.5)),
            row(2, "http-polling", (1000, 100), (0, 6, 4), Some(3.0)),
            row(3, "http-polling", (500, 0), (0, 4, 0), None),
            row(4, "tcp", (10, 0), (0, 0, 0), None),
        ];
        let cols = compare(&rows);
        // Columns follow KINDS, whatever the order of the rows.
        let kinds: Vec<&str> = cols.iter().map(|c| c.kind).collect();
        assert_eq!(kinds, ["websocket", "http-polling", "tcp"]);

        let ws = &cols[0];
        assert_eq!((ws.connections, ws.messages_or_requests), (1, 20));
        assert_eq!(ws.overhead, Some(1.1));
        assert_eq!(ws.overhead_bytes_per_message, Some(5.0));
        assert_eq!(ws.requests_per_message, Some(0.0));
        assert_eq!(ws.median_latency_ms, Some(0.5));
        assert_eq!(ws.latency, Some("ping_rtt"));

        let poll = &cols[1];
        assert_eq!(poll.connections, 3);
        assert_eq!(poll.messages_or_requests, 20);
        assert_eq!((poll.wire_bytes, poll.payload_bytes), (3500, 300));
        assert_eq!(poll.overhead, Some(3500.0 / 300.0));
        assert_eq!(poll.overhead_bytes_per_message, Some(160.0));
        // 20 requests for 8 responses that carried data
        assert_eq!(poll.requests_per_message, Some(2.5));
        // the median of the connections' medians that exist: [1, 3] -> upper median 3
        assert_eq!(poll.median_latency_ms, Some(3.0));
        assert_eq!(poll.latency, Some("request_response"));

        let tcp = &cols[2];
        assert_eq!(tcp.overhead, None);
        assert_eq!(tcp.overhead_bytes_per_message, None);
        assert_eq!(tcp.requests_per_message, None);
        assert_eq!(tcp.median_latency_ms, None);
        assert_eq!(tcp.latency, None);
    }

    #[test]
    fn nothing_in_nothing_out() {
        assert!(compare(&[]).is_empty());
        assert_eq!(table(&[]).lines().count(), 10);
    }

    #[test]
    fn which_responses_carry_data() {
        let h = |v: &str| vec![("Content-Length".to_string(), v.to_string())];
        type Case<'a> = (&'a str, u16, Vec<(String, String)>, bool);
        let cases: &[Case] = &[
            ("200 with a body", 200, h("54"), true),
            ("200 empty", 200, h("0"), false),
            ("204", 204, vec![], false),
            ("304", 304, vec![], false),
            ("101", 101, vec![], false),
            ("chunked or read to close", 200, vec![], true),
            ("unparsable length", 200, h("x"), true),
            ("404 page", 404, h("9"), true),
        ];
        for (name, status, headers, want) in cases {
            assert_eq!(response_has_data(*status, headers), *want, "{name}");
        }
    }
}
