//! The memory budget (`--max-memory`): captures built to hold memory across many
//! connections (a SYN flood, HTTP heads that never end, out-of-order bytes held for
//! reassembly, WebSocket messages begun and never finished, permessage-deflate state),
//! as `bench/gen_hostile.py` writes them, made here small enough for a test.
//!
//! 1. Through the library: with a budget far above what the capture holds, the
//!    high-water mark shows how much it holds (so each shape's bytes are counted);
//!    with a small budget, the bytes held never pass it after any packet, connections
//!    are ended (the least recently used) with a warning, and every connection still
//!    gets its summary; the same capture, analysed again, ends the same connections
//!    (the hash tables' random seeds do not change what is counted).
//! 2. The binary under `/usr/bin/time`: peak resident memory with `--max-memory` and
//!    with the default, on a capture that holds several times more without a budget;
//!    one pipeline's output and warnings, the same in every run.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use wsscope::analysis::{Analyzer, Config, ConnTotals, Event, Sink, Warning};
use wsscope::budget::Budget;
use wsscope::output::{warning_text, ConnStats, Lang, StatsBuilder};
use wsscope::types::Timestamp;

/// LINKTYPE_RAW: packets start with the IPv4 header.
const RAW: i32 = 101;
const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const PSH: u8 = 0x08;
const MSS: usize = 1460;
const SERVER: [u8; 4] = [192, 168, 200, 1];

/// One connection of a generated capture: client 10.a.b.c:port to SERVER:80.
struct Conn {
    client: [u8; 4],
    cport: u16,
    /// Next sequence number, client then server.
    nxt: [u32; 2],
}

impl Conn {
    fn new(i: u32) -> Conn {
        Conn {
            client: [10, (i >> 16) as u8, (i >> 8) as u8, i as u8],
            cport: 1024 + (i.wrapping_mul(7919) % 64000) as u16,
            nxt: [i.wrapping_mul(2_654_435_761), i.wrapping_mul(40503) + 7],
        }
    }
}

/// Packets in capture order, 10 µs apart.
#[derive(Default)]
struct Capture {
    packets: Vec<(Timestamp, Vec<u8>)>,
}

impl Capture {
    fn packet(&mut self, c: &Conn, c2s: bool, seq: u32, ack: u32, flags: u8, data: &[u8]) {
        let (src, dst, sp, dp) = if c2s {
            (c.client, SERVER, c.cport, 80)
        } else {
            (SERVER, c.client, 80, c.cport)
        };
        let mut p = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 6, 0, 0];
        p[2..4].copy_from_slice(&((40 + data.len()) as u16).to_be_bytes());
        p.extend_from_slice(&src);
        p.extend_from_slice(&dst);
        p.extend_from_slice(&sp.to_be_bytes());
        p.extend_from_slice(&dp.to_be_bytes());
        p.extend_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(&ack.to_be_bytes());
        p.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        p.extend_from_slice(data);
        let ts = Timestamp(1_700_000_000_000_000 + 10 * self.packets.len() as i64);
        self.packets.push((ts, p));
    }

    /// A segment at the sender's next sequence number (which `data` advances).
    fn seg(&mut self, c: &mut Conn, c2s: bool, flags: u8, data: &[u8]) {
        let (d, o) = if c2s { (0, 1) } else { (1, 0) };
        let ack = if flags & ACK != 0 { c.nxt[o] } else { 0 };
        self.packet(c, c2s, c.nxt[d], ack, flags, data);
        c.nxt[d] = c.nxt[d].wrapping_add(data.len() as u32);
    }

    fn syn(&mut self, c: &mut Conn) {
        self.seg(c, true, SYN, b"");
        c.nxt[0] = c.nxt[0].wrapping_add(1);
    }

    fn handshake(&mut self, c: &mut Conn) {
        self.syn(c);
        self.seg(c, false, SYN | ACK, b"");
        c.nxt[1] = c.nxt[1].wrapping_add(1);
        self.seg(c, true, ACK, b"");
    }

    fn send(&mut self, c: &mut Conn, c2s: bool, data: &[u8]) {
        for chunk in data.chunks(MSS) {
            self.seg(c, c2s, PSH | ACK, chunk);
        }
    }

    fn upgrade(&mut self, c: &mut Conn, i: u32, deflate: bool) {
        use base64::Engine;
        use sha1::Digest;
        let b64 = base64::engine::general_purpose::STANDARD;
        let key = b64.encode(&sha1::Sha1::digest(i.to_be_bytes())[..16]);
        let ext = if deflate {
            "Sec-WebSocket-Extensions: permessage-deflate\r\n"
        } else {
            ""
        };
        let req = format!(
            "GET /ws HTTP/1.1\r\nHost: s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{ext}\r\n"
        );
        self.send(c, true, req.as_bytes());
        let accept = b64.encode(sha1::Sha1::digest(format!(
            "{key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
        )));
        let resp = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {accept}\r\n{ext}\r\n"
        );
        self.send(c, false, resp.as_bytes());
    }
}

/// A WebSocket frame (masked with `key` when given; `rsv1`: compressed).
fn ws_frame(opcode: u8, payload: &[u8], fin: bool, key: Option<[u8; 4]>, rsv1: bool) -> Vec<u8> {
    let mut f = vec![u8::from(fin) << 7 | u8::from(rsv1) << 6 | opcode];
    let m = if key.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => f.push(m | n as u8),
        n if n < 65536 => {
            f.push(m | 126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            f.push(m | 127);
            f.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    match key {
        Some(k) => {
            f.extend_from_slice(&k);
            f.extend(payload.iter().enumerate().map(|(i, b)| b ^ k[i % 4]));
        }
        None => f.extend_from_slice(payload),
    }
    f
}

fn text(n: usize, seed: u32) -> Vec<u8> {
    format!("message {seed}: the quick brown fox jumps over the lazy dog. ")
        .into_bytes()
        .into_iter()
        .cycle()
        .take(n)
        .collect()
}

/// RFC 7692 compression: raw DEFLATE, sync flush, the 00 00 ff ff tail removed.
fn deflate(data: &[u8]) -> Vec<u8> {
    let mut c = flate2::Compress::new(flate2::Compression::best(), false);
    let mut out = Vec::with_capacity(data.len() + 64);
    c.compress_vec(data, &mut out, flate2::FlushCompress::Sync)
        .expect("deflate");
    assert!(out.ends_with(&[0, 0, 0xff, 0xff]));
    out.truncate(out.len() - 4);
    out
}

/// The shapes of `bench/gen_hostile.py`.
#[derive(Clone, Copy, Debug)]
enum Shape {
    /// SYNs from distinct addresses and ports, never answered.
    SynFlood,
    /// Each connection sends `bytes` of a request head that never ends.
    HttpHeads,
    /// Each connection sends `bytes` after a first byte that never comes.
    OutOfOrder,
    /// Each WebSocket begins a message of `bytes` (frames without FIN), never finished.
    WsHalf,
    /// Each WebSocket with permessage-deflate sends one compressed message each way.
    WsDeflate,
}

fn capture(shape: Shape, conns: u32, bytes: usize) -> Capture {
    let mut cap = Capture::default();
    for i in 0..conns {
        let mut c = Conn::new(i);
        match shape {
            Shape::SynFlood => cap.syn(&mut c),
            Shape::HttpHeads => {
                cap.handshake(&mut c);
                let mut head = format!("GET /held/{i} HTTP/1.1\r\nHost: s\r\n").into_bytes();
                let mut k = 0;
                while head.len() < bytes {
                    head.extend_from_slice(
                        format!("X-Filler-{k:05}: {}\r\n", "a".repeat(64)).as_bytes(),
                    );
                    k += 1;
                }
                head.truncate(bytes);
                cap.send(&mut c, true, &head);
            }
            Shape::OutOfOrder => {
                cap.handshake(&mut c);
                let data = text(bytes + 1, i);
                let start = c.nxt[0];
                let mut off = 1;
                while off < data.len() {
                    let end = (off + MSS).min(data.len());
                    let seq = start.wrapping_add(off as u32);
                    cap.packet(&c, true, seq, c.nxt[1], PSH | ACK, &data[off..end]);
                    off = end;
                }
            }
            Shape::WsHalf => {
                cap.handshake(&mut c);
                cap.upgrade(&mut c, i, false);
                let data = text(bytes, i);
                let mut frames = Vec::new();
                for (n, piece) in data.chunks(16384).enumerate() {
                    let op = if n == 0 { 1 } else { 0 };
                    frames.extend(ws_frame(
                        op,
                        piece,
                        false,
                        Some([0x11, 0x22, 0x33, 0x44]),
                        false,
                    ));
                }
                cap.send(&mut c, true, &frames);
            }
            Shape::WsDeflate => {
                cap.handshake(&mut c);
                cap.upgrade(&mut c, i, true);
                let body = deflate(&text(bytes, i));
                let key = Some([0x55, 0x66, 0x77, 0x88]);
                cap.send(&mut c, true, &ws_frame(1, &body, true, key, true));
                cap.send(&mut c, false, &ws_frame(1, &body, true, None, true));
            }
        }
    }
    cap
}

/// The stats rows and the warnings of one run.
#[derive(Default)]
struct Out {
    stats: StatsBuilder,
    rows: Vec<ConnStats>,
    warnings: Vec<String>,
}

impl Sink for Out {
    fn event(&mut self, e: Event) {
        self.stats.add(&e);
    }
    fn warning(&mut self, warning: Warning) {
        self.warnings.push(warning_text(Lang::En, &warning));
    }
    fn conn_closed(&mut self, conn: u64, totals: &ConnTotals) {
        self.stats.conn_closed(conn, totals);
        let ready = self.stats.ready();
        self.rows.extend(ready);
    }
    fn heap_bytes(&self) -> usize {
        self.stats.heap_bytes()
    }
}

/// Runs the analyzer as `print` does (whole payloads kept) with a budget of `limit`
/// bytes; returns the budget at the end, the most held after any packet's eviction,
/// and the output.
fn analyze(cap: &Capture, limit: usize) -> (Budget, usize, Out) {
    let mut cfg = Config {
        budget: Budget::new(limit),
        ..Config::default()
    };
    cfg.ws.keep_payload = true;
    let mut a = Analyzer::new(cfg);
    let mut out = Out::default();
    let mut held_after = 0;
    for (ts, p) in &cap.packets {
        a.packet(RAW, *ts, p, &mut out);
        held_after = held_after.max(a.budget().used());
    }
    let last = cap.packets.last().map(|(t, _)| *t).unwrap_or_default();
    a.finish(last, &mut out);
    let rest = out.stats.finish();
    out.rows.extend(rest);
    (a.budget(), held_after, out)
}

const MIB: usize = 1 << 20;

/// Each shape, small: (shape, connections, bytes per connection).
const SHAPES: &[(Shape, u32, usize)] = &[
    (Shape::SynFlood, 12_000, 0),
    (Shape::HttpHeads, 300, 48 * 1024),
    (Shape::OutOfOrder, 100, 128 * 1024),
    (Shape::WsHalf, 100, 128 * 1024),
    (Shape::WsDeflate, 200, 64),
];

#[test]
fn every_hostile_shape_is_counted_and_held_under_the_budget() {
    let small = 2 * MIB;
    for &(shape, conns, bytes) in SHAPES {
        let cap = capture(shape, conns, bytes);
        // Room for everything: the high-water mark is what the capture holds, several
        // times the small budget (so the bytes of this shape are counted).
        let (roomy, _, out) = analyze(&cap, usize::MAX / 2);
        assert_eq!(roomy.evicted(), 0, "{shape:?}");
        assert!(
            roomy.peak() > 4 * small,
            "{shape:?}: the capture holds only {} bytes",
            roomy.peak()
        );
        assert_eq!(out.rows.len(), conns as usize, "{shape:?}");

        let (b, held_after, out) = analyze(&cap, small);
        assert!(
            held_after <= small,
            "{shape:?}: {held_after} bytes held after a packet, past the budget of {small}"
        );
        // One packet may add a table's growth or a segment before connections are ended.
        assert!(
            b.peak() <= small + small / 4,
            "{shape:?}: peak {}",
            b.peak()
        );
        assert!(b.evicted() > 0, "{shape:?}");
        let warned = out
            .warnings
            .iter()
            .filter(|w| w.contains("memory budget of 2 MiB reached (--max-memory)"))
            .count();
        assert!(
            warned > 0,
            "{shape:?}: {:?}",
            &out.warnings[..3.min(out.warnings.len())]
        );
        assert!(
            out.warnings.iter().any(|w| w.contains(&format!(
                "{} connection(s) were ended early to keep the memory held under the budget of 2 MiB",
                b.evicted()
            ))),
            "{shape:?}: {:?}",
            out.warnings.last()
        );
        // Every connection is summarised once, in connection order as far as they waited.
        let mut seen: Vec<u64> = out.rows.iter().map(|r| r.conn).collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..u64::from(conns)).collect::<Vec<_>>(), "{shape:?}");
    }
}

#[test]
fn the_budget_ends_the_least_recently_used_connections() {
    // 40 WebSockets each begin a 128 KiB message; with room for about ten, the last
    // connections are those still followed when the capture ends.
    let cap = capture(Shape::WsHalf, 40, 128 * 1024);
    let (b, _, out) = analyze(&cap, 2 * MIB);
    let evicted: Vec<u64> = out
        .warnings
        .iter()
        .filter(|w| w.contains("memory budget"))
        .filter_map(|w| {
            w.strip_prefix("connection ")?
                .split(':')
                .next()?
                .parse()
                .ok()
        })
        .collect();
    assert_eq!(evicted.len() as u64, b.evicted());
    assert!(evicted.windows(2).all(|w| w[0] < w[1]), "{evicted:?}");
    assert_eq!(evicted.first(), Some(&0));
    assert!(!evicted.contains(&39), "{evicted:?}");
    // Those still open at the end kept their whole message so far; the evicted ones
    // are summarised as they stood.
    let last = out
        .rows
        .iter()
        .find(|r| r.conn == 39)
        .expect("row of conn 39");
    assert_eq!(last.kind, "websocket");
}

#[test]
fn the_same_flood_is_evicted_the_same_in_every_run() {
    // The flow table is seeded anew for every analyzer; the bytes counted, and with
    // them which connections are ended and when, must not depend on the seed (they
    // did while the tables were counted from `capacity()`, which the tombstones left
    // by removed entries, placed by the seed, take from).
    let cap = capture(Shape::SynFlood, 12_000, 0);
    let runs: Vec<(Budget, usize, Vec<String>)> = (0..5)
        .map(|_| {
            let (b, held_after, out) = analyze(&cap, MIB);
            (b, held_after, out.warnings)
        })
        .collect();
    assert!(runs[0].0.evicted() > 0, "the budget was never reached");
    for (i, run) in runs.iter().enumerate().skip(1) {
        assert_eq!(
            (run.0, run.1),
            (runs[0].0, runs[0].1),
            "run {i}: another budget than run 0's"
        );
        assert!(run.2 == runs[0].2, "run {i}: other warnings than run 0's");
    }
}

// ---------------------------------------------------------------- the binary

fn write_pcap(path: &Path, cap: &Capture) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).expect("create pcap"));
    let mut hdr = 0xa1b2_c3d4u32.to_le_bytes().to_vec();
    hdr.extend_from_slice(&2u16.to_le_bytes());
    hdr.extend_from_slice(&4u16.to_le_bytes());
    for v in [0u32, 0, 262_144, RAW as u32] {
        hdr.extend_from_slice(&v.to_le_bytes());
    }
    f.write_all(&hdr).unwrap();
    for (ts, p) in &cap.packets {
        for v in [
            (ts.0 / 1_000_000) as u32,
            (ts.0 % 1_000_000) as u32,
            p.len() as u32,
            p.len() as u32,
        ] {
            f.write_all(&v.to_le_bytes()).unwrap();
        }
        f.write_all(p).unwrap();
    }
    f.flush().unwrap();
}

fn temp_capture(name: &str, cap: &Capture) -> PathBuf {
    let p = std::env::temp_dir().join(format!("wsscope-budget-{}-{name}.pcap", std::process::id()));
    write_pcap(&p, cap);
    p
}

/// Runs wsscope under GNU time: its exit status, stderr, and peak RSS in KiB (None
/// where `/usr/bin/time` is missing).
fn peak(args: &[&str]) -> (Option<i32>, String, Option<u64>) {
    let (out, kb) = common::run_with_peak(args);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into(),
        kb,
    )
}

#[test]
fn deflate_state_of_many_websockets_stays_under_max_memory() {
    // 2500 WebSockets with permessage-deflate: 2 MiB of capture, about 110 KiB of
    // inflate state each (over 250 MiB without a budget).
    let cap = capture(Shape::WsDeflate, 2500, 64);
    let path = temp_capture("deflate", &cap);
    let file = path.to_str().unwrap();
    for cmd in [&["stats"][..], &["print"], &["print", "--json"]] {
        let mut args = cmd.to_vec();
        args.extend(["-r", file, "--max-memory", "16M"]);
        let (code, err, kb) = peak(&args);
        assert_eq!(code, Some(0), "{args:?}: {err}");
        assert!(
            err.contains("memory budget of 16 MiB reached"),
            "{args:?}: {err}"
        );
        if let Some(kb) = kb {
            eprintln!("wsscope {args:?}: peak RSS {kb} KiB");
            assert!(kb < 64 * 1024, "{args:?}: peak RSS {kb} KiB");
        }
    }
    let _ = std::fs::remove_file(&path);
}

#[test]
fn one_pipeline_ends_the_same_connections_in_every_run() {
    // A SYN flood through `stats` with one decoding pipeline, five times: the same
    // rows and the same warnings (which connections the budget ended, how many, the
    // most held). Tables counted from `capacity()` gave from 6,295 to 10,156
    // evictions here, the seed deciding.
    let file =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/hostile/hostile-syn-flood.pcap");
    let args = ["--json", "--max-memory", "20M"];
    let first = common::stats_decoders(&file, &args, true);
    assert_eq!(first.status.code(), Some(0));
    let err = String::from_utf8_lossy(&first.stderr);
    assert!(err.contains("memory budget of 20 MiB reached"), "{err}");
    for i in 1..5 {
        let again = common::stats_decoders(&file, &args, true);
        assert!(
            again.stdout == first.stdout,
            "run {i}: other rows than run 0's"
        );
        let again = String::from_utf8_lossy(&again.stderr);
        let last = |s: &str| s.lines().rev().nth(1).unwrap_or_default().to_string();
        assert!(
            again == err,
            "run {i}: other warnings than run 0's: {:?} then {:?}",
            last(&err),
            last(&again)
        );
    }
}

#[test]
fn a_syn_flood_stays_under_128_mib_by_default() {
    // 100,000 SYNs: with the default flags (the flow table full at 65,536; the
    // comparison and the lesson once kept a row per connection: 130 MiB and more), and
    // with no bound on the number of connections but the budget's (180 MiB and more
    // without it).
    let cap = capture(Shape::SynFlood, 100_000, 0);
    let path = temp_capture("syn", &cap);
    let file = path.to_str().unwrap();
    let teaching: [&[&str]; 3] = [
        &["stats", "--compare"],
        &["print", "--format", "markdown"],
        &["print", "--format", "mermaid"],
    ];
    for flows in [None, Some("1000000")] {
        let mut cmds: Vec<&[&str]> = vec![&["stats"], &["print"], &["print", "--json"]];
        if flows.is_none() {
            // The teaching views keep per connection too (a lesson, a diagram, the
            // comparison's numbers): counted as well.
            cmds.extend(teaching);
        }
        for cmd in cmds {
            let mut args = cmd.to_vec();
            args.extend(["-r", file]);
            if let Some(n) = flows {
                args.extend(["--max-flows", n]);
            }
            let (code, err, kb) = peak(&args);
            assert_eq!(code, Some(0), "{args:?}: {err}");
            if flows.is_some() {
                assert!(
                    err.contains("memory budget of 64 MiB reached"),
                    "{args:?}: {err}"
                );
            }
            if let Some(kb) = kb {
                eprintln!("wsscope {args:?}: peak RSS {kb} KiB");
                assert!(kb < 128 * 1024, "{args:?}: peak RSS {kb} KiB");
            }
        }
    }
    let _ = std::fs::remove_file(&path);
}

#[test]
fn max_memory_takes_sizes_and_refuses_nonsense() {
    let cap = capture(Shape::SynFlood, 10, 0);
    let path = temp_capture("flag", &cap);
    let file = path.to_str().unwrap();
    for ok in ["256M", "1G", "65536", "512KiB"] {
        let out = common::run(&["stats", "-r", file, "--max-memory", ok]);
        assert_eq!(out.status.code(), Some(0), "--max-memory {ok}");
    }
    for bad in ["0", "12X", "-1", "lots"] {
        let flag = format!("--max-memory={bad}");
        let out = common::run(&["stats", "-r", file, &flag]);
        assert_eq!(out.status.code(), Some(2), "--max-memory {bad}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--max-memory"), "{err}");
    }
    for cmd in ["print", "stats", "view", "export"] {
        let out = common::run(&[cmd, "--help"]);
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(help.contains("--max-memory <SIZE>"), "{cmd} --help: {help}");
    }
    let _ = std::fs::remove_file(&path);
}
