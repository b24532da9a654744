//! Hostile input: every byte of a capture is untrusted.
//!
//! 1. Property tests of the whole pipeline: [`Analyzer`] fed (a) mutated packets of
//!    real captures (flipped bytes, truncations, duplicates, reordering, packets
//!    spliced from other files, overwritten words, moved timestamps, random link
//!    types, tiny bounds) and (b) random WebSocket streams after a real upgrade
//!    (any header bits and lengths, lying lengths, deflate, segments cut anywhere,
//!    reordered or lost): it never panics, and every string of every event, every
//!    warning, text timeline line and stats row is safe to print on a terminal.
//!    `HOSTILE_CASES=N` runs more cases.
//! 2. The binary on the crafted hostile captures of `captures/hostile/`
//!    (`captures/make/hostile.py`): exit status 0, the expected events, bounded
//!    peak memory (measured with `/usr/bin/time -f %M` where it exists) and, for
//!    the escape-sequence capture, no escape reaching the terminal (text, NDJSON,
//!    stats, and the TUI in tmux).
//! 3. Regression tests for what these found.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use proptest::prelude::*;
use serde_json::Value;
use wsscope::analysis::{Analyzer, Config, Event, Sink, Warning};
use wsscope::output::{warning_text, Lang};
use wsscope::types::Timestamp;

// ---------------------------------------------------------------- terminal safety

/// A character that must never reach a terminal raw: C0 (all of them, even
/// newline: one event is one line), DEL, C1, and the bidi controls that reorder text.
fn unsafe_char(c: char) -> bool {
    let u = c as u32;
    u < 0x20
        || u == 0x7f
        || (0x80..=0x9f).contains(&u)
        || matches!(
            c,
            '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

fn check_str(s: &str, ctx: &dyn Fn() -> String) -> Result<(), String> {
    match s.chars().find(|&c| unsafe_char(c)) {
        Some(c) => Err(format!(
            "unsafe char U+{:04X} in {s:?} ({})",
            c as u32,
            ctx()
        )),
        None => Ok(()),
    }
}

/// Every string in a JSON value (object keys included) is terminal-safe.
fn check_json(v: &Value, ctx: &dyn Fn() -> String) -> Result<(), String> {
    match v {
        Value::String(s) => check_str(s, ctx),
        Value::Array(a) => a.iter().try_for_each(|x| check_json(x, ctx)),
        Value::Object(o) => o.iter().try_for_each(|(k, x)| {
            check_str(k, ctx)?;
            check_json(x, ctx)
        }),
        _ => Ok(()),
    }
}

/// A line printed on a terminal: no ESC byte, no C1, no bidi control (newlines
/// separate lines, tabs are harmless layout).
fn check_terminal_text(what: &str, bytes: &[u8]) {
    assert!(
        !bytes.contains(&0x1b),
        "{what}: an ESC byte reached the output"
    );
    let text = std::str::from_utf8(bytes).unwrap_or_else(|e| panic!("{what}: not UTF-8: {e}"));
    for (n, line) in text.lines().enumerate() {
        if let Some(c) = line.chars().find(|&c| c != '\t' && unsafe_char(c)) {
            panic!("{what}: line {} has U+{:04X}: {line:?}", n + 1, c as u32);
        }
    }
}

// ---------------------------------------------------------------- 1. property test

/// The events and the warnings of one analyzer run.
#[derive(Default)]
struct Collect {
    events: Vec<Event>,
    warnings: Vec<String>,
}

impl Sink for Collect {
    fn event(&mut self, e: Event) {
        self.events.event(e);
    }
    fn warning(&mut self, warning: Warning) {
        // As every view words it: the English line, checked like any text printed.
        self.warnings.push(warning_text(Lang::En, &warning));
    }
}

struct Pkt {
    ts: Timestamp,
    data: Vec<u8>,
}

struct CapFile {
    linktype: i32,
    packets: Vec<Pkt>,
}

fn captures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("captures")
}

fn hostile(name: &str) -> PathBuf {
    captures_dir().join("hostile").join(name)
}

fn read_capture(path: &Path) -> CapFile {
    let mut cap =
        pcap::Capture::from_file(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    let linktype = cap.get_datalink().0;
    let mut packets = Vec::new();
    while let Ok(p) = cap.next_packet() {
        packets.push(Pkt {
            ts: Timestamp::from_parts(p.header.ts.tv_sec, p.header.ts.tv_usec),
            data: p.data.to_vec(),
        });
    }
    CapFile { linktype, packets }
}

/// Small captures of many kinds: link layers, IPv6, reassembly corner cases,
/// violations, deflate (with context takeover), mid-stream, HTTP, escapes.
const PROP_FILES: &[&str] = &[
    "crafted-basic.pcap",
    "crafted-ipv6.pcap",
    "crafted-qinq.pcap",
    "crafted-linktype-sll2.pcap",
    "crafted-linktype-null.pcap",
    "crafted-linktype-raw.pcap",
    "crafted-tcp-coalesced-split.pcap",
    "crafted-tcp-overlap.pcap",
    "crafted-tcp-seq-wrap.pcap",
    "crafted-midstream.pcap",
    "crafted-violation-opcode-rsv.pcap",
    "crafted-violation-utf8.pcap",
    "crafted-violation-length.pcap",
    "crafted-violation-close.pcap",
    "node-ws-deflate.pcap",
    "chromium-python-websockets.pcap",
    "http-sse.pcap",
    "hostile/hostile-terminal-escapes.pcap",
    "hostile/hostile-huge-length.pcap",
];

fn prop_files() -> &'static [CapFile] {
    static FILES: OnceLock<Vec<CapFile>> = OnceLock::new();
    FILES.get_or_init(|| {
        PROP_FILES
            .iter()
            .map(|n| read_capture(&captures_dir().join(n)))
            .collect()
    })
}

/// One mutation; indices are taken modulo the current sizes.
#[derive(Clone, Debug)]
enum Op {
    /// XOR a byte of a packet.
    Flip { pkt: usize, at: usize, xor: u8 },
    /// Cut a packet to a length.
    Truncate { pkt: usize, len: usize },
    /// Repeat a packet right after itself.
    Duplicate { pkt: usize },
    /// Swap two packets.
    Swap { a: usize, b: usize },
    /// Insert a packet of another file.
    Splice { file: usize, src: usize, at: usize },
    /// Insert random bytes as a packet.
    Garbage { at: usize, bytes: Vec<u8> },
    /// Overwrite a 32-bit field (TCP seq/ack, lengths) with a value.
    Word { pkt: usize, at: usize, value: u32 },
    /// Move a packet's timestamp (backwards, far away, to the extremes).
    Time { pkt: usize, ts: i64 },
}

fn op() -> impl Strategy<Value = Op> {
    let i = || 0usize..10_000;
    prop_oneof![
        4 => (i(), i(), 1u8..=255).prop_map(|(pkt, at, xor)| Op::Flip { pkt, at, xor }),
        2 => (i(), 0usize..200).prop_map(|(pkt, len)| Op::Truncate { pkt, len }),
        1 => i().prop_map(|pkt| Op::Duplicate { pkt }),
        2 => (i(), i()).prop_map(|(a, b)| Op::Swap { a, b }),
        2 => (i(), i(), i()).prop_map(|(file, src, at)| Op::Splice { file, src, at }),
        1 => (i(), proptest::collection::vec(any::<u8>(), 0..120))
            .prop_map(|(at, bytes)| Op::Garbage { at, bytes }),
        2 => (i(), i(), prop_oneof![Just(0u32), Just(u32::MAX), Just(0x8000_0000), any::<u32>()])
            .prop_map(|(pkt, at, value)| Op::Word { pkt, at, value }),
        1 => (i(), prop_oneof![Just(i64::MIN), Just(i64::MAX), Just(0i64), Just(-1i64), any::<i64>()])
            .prop_map(|(pkt, ts)| Op::Time { pkt, ts }),
    ]
}

fn apply(ops: &[Op], files: &[CapFile], pkts: &mut Vec<Pkt>) {
    for op in ops {
        let n = pkts.len();
        match op {
            Op::Flip { pkt, at, xor } if n > 0 => {
                let d = &mut pkts[pkt % n].data;
                if !d.is_empty() {
                    let at = at % d.len();
                    d[at] ^= xor;
                }
            }
            Op::Truncate { pkt, len } if n > 0 => {
                let d = &mut pkts[pkt % n].data;
                d.truncate(*len);
            }
            Op::Duplicate { pkt } if n > 0 => {
                let p = &pkts[pkt % n];
                let copy = Pkt {
                    ts: p.ts,
                    data: p.data.clone(),
                };
                pkts.insert(pkt % n + 1, copy);
            }
            Op::Swap { a, b } if n > 0 => pkts.swap(a % n, b % n),
            Op::Splice { file, src, at } => {
                let f = &files[file % files.len()];
                if !f.packets.is_empty() {
                    let p = &f.packets[src % f.packets.len()];
                    let ts = pkts.get(at % (n + 1)).map_or(p.ts, |q| q.ts);
                    pkts.insert(
                        at % (n + 1),
                        Pkt {
                            ts,
                            data: p.data.clone(),
                        },
                    );
                }
            }
            Op::Garbage { at, bytes } => {
                let ts = pkts.first().map_or(Timestamp(0), |p| p.ts);
                pkts.insert(
                    at % (n + 1),
                    Pkt {
                        ts,
                        data: bytes.clone(),
                    },
                );
            }
            Op::Word { pkt, at, value } if n > 0 => {
                let d = &mut pkts[pkt % n].data;
                if d.len() >= 4 {
                    let at = at % (d.len() - 3);
                    d[at..at + 4].copy_from_slice(&value.to_be_bytes());
                }
            }
            Op::Time { pkt, ts } if n > 0 => pkts[pkt % n].ts = Timestamp(*ts),
            _ => {}
        }
    }
}

/// Runs the analyzer on packets and checks every event and warning.
fn analyze_and_check(linktype: i32, pkts: &[Pkt], cfg: Config) -> Result<Collect, String> {
    let mut an = Analyzer::new(cfg);
    let mut sink = Collect::default();
    let mut last = Timestamp(0);
    for p in pkts {
        an.packet(linktype, p.ts, &p.data, &mut sink);
        last = p.ts;
    }
    an.finish(last, &mut sink);
    for (i, e) in sink.events.iter().enumerate() {
        let v = serde_json::to_value(e).map_err(|err| format!("event {i}: {err}"))?;
        // serialise and parse again: what NDJSON consumers see
        let v: Value = serde_json::from_str(&v.to_string()).map_err(|err| err.to_string())?;
        check_json(&v, &|| format!("event {i}: {v}"))?;
        // `print --json` writes the line serde writes (its frequent events field by field).
        let mut line = Vec::new();
        wsscope::output::push_json_line(&mut line, e).map_err(|err| err.to_string())?;
        let want = serde_json::to_string(e).map_err(|err| err.to_string())? + "\n";
        if line != want.as_bytes() {
            return Err(format!(
                "event {i}: print --json wrote {} for {want}",
                String::from_utf8_lossy(&line)
            ));
        }
    }
    for w in &sink.warnings {
        check_str(w, &|| "a warning".into())?;
    }
    // the text timeline and the stats of the same events: no panic, safe lines
    let mut text = wsscope::output::TextTimeline::new();
    let mut stats = wsscope::output::StatsBuilder::new();
    for e in &sink.events {
        let line = text.line(e);
        check_str(&line, &|| format!("text line of {e:?}"))?;
        stats.event(e.clone());
    }
    let rows = stats.finish();
    if rows.is_empty() != sink.events.is_empty() {
        return Err(format!(
            "{} stats rows for {} events",
            rows.len(),
            sink.events.len()
        ));
    }
    for row in &rows {
        let line = wsscope::output::stats::table_row(row);
        check_str(&line, &|| "stats row".into())?;
        let v = serde_json::to_value(row).map_err(|e| e.to_string())?;
        check_json(&v, &|| format!("stats row {v}"))?;
    }
    Ok(sink)
}

/// Link types: each file's own, and others the decoder knows or does not.
fn linktype_for(choice: u8, own: i32) -> i32 {
    match choice % 10 {
        0 => 0,
        1 => 1,
        2 => 101,
        3 => 113,
        4 => 276,
        5 => 228,
        6 => -1,
        7 => i32::MAX,
        _ => own,
    }
}

/// Cases per run: `HOSTILE_CASES` or 4000 (about 6 s in a debug build).
fn cases() -> u32 {
    std::env::var("HOSTILE_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4000)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn mutated_captures_never_panic_and_stay_terminal_safe(
        file in 0usize..PROP_FILES.len(),
        extra in proptest::option::of(0usize..PROP_FILES.len()),
        link in any::<u8>(),
        ops in proptest::collection::vec(op(), 0..24),
        tiny_bounds in any::<bool>(),
    ) {
        let files = prop_files();
        let f = &files[file];
        let mut pkts: Vec<Pkt> = f.packets.iter().map(|p| Pkt { ts: p.ts, data: p.data.clone() }).collect();
        if let Some(x) = extra {
            // interleave a second file: two conversations at once, same link type or not
            for (i, p) in files[x].packets.iter().enumerate() {
                let at = (i * 2 + 1).min(pkts.len());
                pkts.insert(at, Pkt { ts: p.ts, data: p.data.clone() });
            }
        }
        apply(&ops, files, &mut pkts);
        let mut cfg = Config::default();
        if tiny_bounds {
            // every bound hit early: reassembly, flows, fragments, messages, hunting
            cfg.tcp.max_buffered_per_direction = 300;
            cfg.tcp.max_flows = 2;
            cfg.wire.max_fragment_groups = 2;
            cfg.wire.max_fragment_bytes = 600;
            cfg.ws.max_message_bytes = 100;
            cfg.ws.inflate_ratio_floor = 10;
            cfg.ws.max_inflate_ratio = 2;
            cfg.ws.max_hunt_bytes = 50;
            cfg.ws.max_pending_pings = 1;
            cfg.ws.max_samples = 1;
            cfg.ws.preview_bytes = 3;
        }
        let r = analyze_and_check(linktype_for(link, f.linktype), &pkts, cfg);
        prop_assert!(r.is_ok(), "{}", r.err().unwrap_or_default());
    }
}

// ---------------------------------------------------------------- 1b. random WebSocket streams

/// An IPv4 + TCP packet (LINKTYPE_RAW; checksums are not checked by wsscope).
fn tcp_packet(c2s: bool, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    tcp_packet_port(50000, c2s, seq, ack, flags, payload)
}

/// [`tcp_packet`] with the client's port.
fn tcp_packet_port(
    cport: u16,
    c2s: bool,
    seq: u32,
    ack: u32,
    flags: u8,
    payload: &[u8],
) -> Vec<u8> {
    let (src, dst, sp, dp) = if c2s {
        ([10, 0, 0, 1], [10, 0, 0, 2], cport, 8080u16)
    } else {
        ([10, 0, 0, 2], [10, 0, 0, 1], 8080, cport)
    };
    let total = (40 + payload.len()) as u16;
    let mut p = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 6, 0, 0];
    p[2..4].copy_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend_from_slice(&sp.to_be_bytes());
    p.extend_from_slice(&dp.to_be_bytes());
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&ack.to_be_bytes());
    p.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    p.extend_from_slice(payload);
    p
}

/// A frame header with any bits, any length form, and the payload bytes given
/// (fewer or more than the header announces, on purpose).
#[derive(Clone, Debug)]
struct RawFrame {
    b0: u8,
    masked: bool,
    len: u64,
    form: u8,
    key: [u8; 4],
    payload: Vec<u8>,
}

impl RawFrame {
    fn bytes(&self) -> Vec<u8> {
        let m = if self.masked { 0x80 } else { 0 };
        let mut out = vec![self.b0];
        match self.form % 3 {
            0 => out.push(m | (self.len.min(125) as u8)),
            1 => {
                out.push(m | 126);
                out.extend_from_slice(&(self.len as u16).to_be_bytes());
            }
            _ => {
                out.push(m | 127);
                out.extend_from_slice(&self.len.to_be_bytes());
            }
        }
        if self.masked {
            out.extend_from_slice(&self.key);
            out.extend(
                self.payload
                    .iter()
                    .enumerate()
                    .map(|(i, b)| b ^ self.key[i % 4]),
            );
        } else {
            out.extend_from_slice(&self.payload);
        }
        out
    }
}

fn raw_frame() -> impl Strategy<Value = RawFrame> {
    let payload = prop_oneof![
        3 => proptest::collection::vec(any::<u8>(), 0..40),
        // compressed-looking: a stored block, or the start of a dynamic one
        1 => proptest::collection::vec(any::<u8>(), 0..20).prop_map(|d| {
            let mut v = vec![0x00, d.len() as u8, 0, !(d.len() as u8), 0xff];
            v.extend_from_slice(&d);
            v
        }),
        1 => Just(vec![0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]),
        1 => Just(b"\x1b]52;c;AAAA\x07\xc2\x9b\xe2\x80\xae".to_vec()),
    ];
    (
        prop_oneof![
            // mostly plausible first bytes: FIN/RSV1 with data and control opcodes
            4 => prop::sample::select(vec![0x81u8, 0x82, 0x01, 0x00, 0x80, 0xc1, 0xc2, 0x41, 0x88, 0x89, 0x8a, 0x09]),
            1 => any::<u8>(),
        ],
        any::<bool>(),
        prop_oneof![3 => 0u64..200, 1 => any::<u64>(), 1 => Just(1u64 << 62)],
        any::<u8>(),
        any::<[u8; 4]>(),
        payload,
    )
        .prop_map(|(b0, masked, len, form, key, payload)| {
            // usually an honest length, sometimes a lie
            let len = if len < 200 && form % 5 != 4 { payload.len() as u64 } else { len };
            RawFrame { b0, masked, len, form, key, payload }
        })
}

/// (client sends, bytes, cut into segments of this size, out of order, the
/// segment lost from the capture (then acknowledged by the peer, so a gap), if any)
type Send = (bool, Vec<u8>, usize, bool, Option<usize>);

fn send() -> impl Strategy<Value = Send> {
    (
        any::<bool>(),
        prop_oneof![
            6 => proptest::collection::vec(raw_frame(), 1..4)
                .prop_map(|fs| fs.iter().flat_map(|f| f.bytes()).collect::<Vec<u8>>()),
            1 => proptest::collection::vec(any::<u8>(), 0..64),
        ],
        1usize..64,
        prop::bool::weighted(0.1),
        proptest::option::weighted(0.2, 0usize..8),
    )
}

/// The packets of a connection: handshake, upgrade (with or without
/// permessage-deflate), then the sends, each cut into segments, then FINs.
fn ws_connection(ext: &str, sends: &[Send]) -> Vec<Vec<u8>> {
    let (mut cseq, mut sseq) = (1000u32, 5000u32);
    let mut pkts = vec![
        tcp_packet(true, cseq, 0, 0x02, b""),
        tcp_packet(false, sseq, cseq + 1, 0x12, b""),
    ];
    cseq += 1;
    sseq += 1;
    pkts.push(tcp_packet(true, cseq, sseq, 0x10, b""));
    let key = "dGhlIHNhbXBsZSBub25jZQ==";
    let req = format!(
        "GET /r HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{ext}\r\n"
    );
    let resp = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n{ext}\r\n",
        wsscope::http::accept_for(key)
    );
    pkts.push(tcp_packet(true, cseq, sseq, 0x18, req.as_bytes()));
    cseq = cseq.wrapping_add(req.len() as u32);
    pkts.push(tcp_packet(false, sseq, cseq, 0x18, resp.as_bytes()));
    sseq = sseq.wrapping_add(resp.len() as u32);
    for (c2s, bytes, seg, reorder, lost) in sends {
        let (seq, ack) = if *c2s {
            (&mut cseq, sseq)
        } else {
            (&mut sseq, cseq)
        };
        let mut segs: Vec<Vec<u8>> = bytes
            .chunks(*seg)
            .map(|ch| {
                let p = tcp_packet(*c2s, *seq, ack, 0x18, ch);
                *seq = seq.wrapping_add(ch.len() as u32);
                p
            })
            .collect();
        if let Some(k) = lost.filter(|k| *k < segs.len()) {
            segs.remove(k);
            // the peer acknowledges everything: the hole is a gap at once
            let (me, peer) = if *c2s { (sseq, cseq) } else { (cseq, sseq) };
            segs.push(tcp_packet(!*c2s, me, peer, 0x10, b""));
        }
        if *reorder {
            segs.reverse();
        }
        pkts.extend(segs);
    }
    pkts.push(tcp_packet(false, sseq, cseq, 0x11, b""));
    pkts.push(tcp_packet(true, cseq, sseq + 1, 0x11, b""));
    pkts.push(tcp_packet(false, sseq + 1, cseq + 1, 0x10, b""));
    pkts
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases() / 2, ..ProptestConfig::default() })]

    #[test]
    fn random_websocket_streams_never_panic_and_stay_terminal_safe(
        ext in prop::sample::select(vec![
            "",
            "Sec-WebSocket-Extensions: permessage-deflate\r\n",
            "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=9; client_no_context_takeover\r\n",
            "Sec-WebSocket-Protocol: chat\r\n",
        ]),
        sends in proptest::collection::vec(send(), 0..12),
        tiny_bounds in any::<bool>(),
    ) {
        let pkts: Vec<Pkt> = ws_connection(ext, &sends)
            .into_iter()
            .enumerate()
            .map(|(i, data)| Pkt { ts: Timestamp(1_700_000_000_000_000 + i as i64 * 1000), data })
            .collect();
        let mut cfg = Config::default();
        if tiny_bounds {
            cfg.tcp.max_buffered_per_direction = 64;
            cfg.ws.max_message_bytes = 30;
            cfg.ws.max_hunt_bytes = 16;
            cfg.ws.max_pending_pings = 1;
            cfg.ws.preview_bytes = 2;
        }
        let r = analyze_and_check(101, &pkts, cfg);
        prop_assert!(r.is_ok(), "{}", r.err().unwrap_or_default());
        let c = r.unwrap_or_default();
        // the upgrade is always seen, whatever follows
        prop_assert!(c.events.iter().any(|e| e.kind.name() == "ws_handshake"));
    }
}

/// The unmutated files through the same checks (so a failure above is the mutation's).
#[test]
fn unmutated_property_files_are_terminal_safe() {
    for (name, f) in PROP_FILES.iter().zip(prop_files()) {
        let r = analyze_and_check(f.linktype, &f.packets, Config::default());
        let c = r.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!c.events.is_empty(), "{name}: no events");
    }
}

// ---------------------------------------------------------------- 2. hostile captures

/// Peak memory bound for every hostile capture (the bomb inflates to 1 GiB, the
/// flood would hold 17000 pieces, ...): far above a normal run, far below the attack.
const PEAK_KB: u64 = 64 * 1024;

struct Run {
    out: Output,
    /// Peak resident set size in KiB, where `/usr/bin/time` is there to measure it.
    peak_kb: Option<u64>,
}

impl Run {
    fn stdout(&self) -> String {
        String::from_utf8(self.out.stdout.clone()).expect("utf-8 stdout")
    }
    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }
    fn json(&self) -> Vec<Value> {
        self.stdout()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
            .collect()
    }
}

/// Runs wsscope under `/usr/bin/time -f %M -o FILE` (GNU time: peak RSS in KiB),
/// or plainly where it is missing; asserts exit 0 and the memory bound.
fn run_hostile(args: &[&str]) -> Run {
    let (out, peak_kb) = common::run_with_peak(args);
    let run = Run { out, peak_kb };
    assert_eq!(
        run.out.status.code(),
        Some(0),
        "wsscope {args:?}: {}",
        run.stderr()
    );
    match run.peak_kb {
        Some(kb) => {
            eprintln!("wsscope {args:?}: peak RSS {kb} KiB");
            assert!(kb < PEAK_KB, "wsscope {args:?}: peak RSS {kb} KiB");
        }
        None => eprintln!("note: peak memory of wsscope {args:?} not measured"),
    }
    run
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn violations<'a>(ev: &'a [Value], conn: u64, dir: &str) -> Vec<&'a str> {
    ev.iter()
        .filter(|e| e["event"] == "violation" && e["conn"] == conn)
        .filter(|e| dir.is_empty() || e["dir"] == dir)
        .filter_map(|e| e["code"].as_str())
        .collect()
}

fn message_previews(ev: &[Value], conn: u64, dir: &str) -> Vec<String> {
    ev.iter()
        .filter(|e| e["event"] == "ws_message" && e["conn"] == conn && e["dir"] == dir)
        .filter_map(|e| e["preview"].as_str().map(String::from))
        .collect()
}

fn json_of(file: &str, extra: &[&str]) -> (Run, Vec<Value>) {
    let p = hostile(file);
    let mut args = vec!["print", "--json", "-r", path_str(&p)];
    args.extend_from_slice(extra);
    let run = run_hostile(&args);
    let ev = run.json();
    for (i, e) in ev.iter().enumerate() {
        check_json(e, &|| format!("{file} event {i}")).unwrap();
    }
    check_terminal_text(&format!("{file} stderr"), &run.out.stderr);
    (run, ev)
}

#[test]
fn deflate_bomb_is_cut_short_and_the_stream_goes_on() {
    let (_, ev) = json_of("hostile-deflate-bomb.pcap", &[]);
    // the 1 GiB server message: stopped by the ratio bound after a few MiB
    assert_eq!(violations(&ev, 0, "s2c"), ["inflate_ratio_exceeded"]);
    // the 75 MiB client message (ratio 775): stopped by the 64 MiB size bound
    assert_eq!(violations(&ev, 0, "c2s"), ["message_too_big"]);
    let lens: Vec<u64> = ev
        .iter()
        .filter(|e| e["event"] == "ws_message" && e["kind"] == "binary")
        .map(|e| e["len"].as_u64().unwrap())
        .collect();
    assert_eq!(lens.len(), 2, "{lens:?}");
    assert!(
        lens.iter().all(|&l| l <= (64 << 20) + (16 << 10)),
        "{lens:?}"
    );
    assert_eq!(
        message_previews(&ev, 0, "s2c")
            .into_iter()
            .filter(|p| !p.starts_with("0000"))
            .collect::<Vec<_>>(),
        ["after the big bomb", "bye now"]
    );
    assert_eq!(
        message_previews(&ev, 0, "c2s")
            .into_iter()
            .filter(|p| !p.starts_with("0000"))
            .collect::<Vec<_>>(),
        ["send the bomb", "after the size bomb"]
    );
    let close = ev.iter().find(|e| e["event"] == "ws_close").unwrap();
    assert_eq!(
        (close["code"].as_u64(), close["clean"].as_bool()),
        (Some(1000), Some(true))
    );
}

#[test]
fn frame_announcing_2_pow_62_bytes_allocates_nothing() {
    let (_, ev) = json_of("hostile-huge-length.pcap", &[]);
    let unfinished: Vec<&Value> = ev
        .iter()
        .filter(|e| e["event"] == "violation" && e["code"] == "unfinished_frame")
        .collect();
    assert_eq!(unfinished.len(), 3, "{unfinished:?}");
    assert!(unfinished.iter().all(|e| e["message"]
        .as_str()
        .unwrap()
        .contains("4611686018427387904")));
    assert_eq!(message_previews(&ev, 0, "c2s"), ["hello"]);
    // the compressed one is also a bomb: cut by the ratio bound
    assert_eq!(
        violations(&ev, 1, "s2c"),
        ["inflate_ratio_exceeded", "unfinished_frame"]
    );
}

#[test]
fn out_of_order_flood_becomes_gaps_not_memory() {
    for extra in [&[][..], &["--max-flow-buffer", "65536"][..]] {
        let (run, ev) = json_of("hostile-ooo-flood.pcap", extra);
        let gaps: u64 = ev
            .iter()
            .filter(|e| e["event"] == "gap" && e["dir"] == "c2s")
            .map(|e| e["bytes"].as_u64().unwrap())
            .sum();
        assert!(gaps > 0, "{extra:?}: no gap");
        assert!(
            run.stderr().contains("the hole was declared a gap"),
            "{extra:?}: {}",
            run.stderr()
        );
        assert_eq!(
            message_previews(&ev, 0, "c2s"),
            ["before the flood"],
            "{extra:?}"
        );
        assert_eq!(
            message_previews(&ev, 0, "s2c"),
            ["still alive"],
            "{extra:?}"
        );
        let close = ev.iter().find(|e| e["event"] == "ws_close").unwrap();
        assert_eq!(close["clean"], true, "{extra:?}");
    }
}

#[test]
fn syn_flood_is_bounded_by_max_flows() {
    let (run, ev) = json_of("hostile-syn-flood.pcap", &["--max-flows", "1000"]);
    let err = run.stderr();
    assert!(
        err.contains("flow table full (1000 open connections)"),
        "{err}"
    );
    // one line per eviction would be 19000 lines: the analyzer shows 100 and counts the rest
    assert!(
        err.lines().count() <= 102,
        "{} warning lines",
        err.lines().count()
    );
    assert!(err.contains("more warnings were not shown"), "{err}");
    let opens = ev.iter().filter(|e| e["event"] == "conn_open").count();
    assert_eq!(opens, 20_001);
    // the real connection after the flood is followed in full
    let last = ev.last().unwrap()["conn"].as_u64().unwrap();
    assert_eq!(last, 20_000);
    assert_eq!(
        message_previews(&ev, last, "c2s"),
        ["hello server", "000102030405060708090a0b0c0d0e0f", "thanks"]
    );
    // and without the flag: 20000 flows fit under the default bound, still in bounded memory
    run_hostile(&["stats", "-r", path_str(&hostile("hostile-syn-flood.pcap"))]);
}

#[test]
fn endless_http_heads_stop_at_64_kib() {
    let (_, ev) = json_of("hostile-http-endless-head.pcap", &[]);
    assert_eq!(violations(&ev, 0, "c2s"), ["http_head_too_large"]);
    assert_eq!(violations(&ev, 1, "s2c"), ["http_head_too_large"]);
    assert!(!ev
        .iter()
        .any(|e| e["event"] == "http_request" && e["conn"] == 0));
    assert_eq!(violations(&ev, 2, ""), Vec::<&str>::new());
    assert_eq!(message_previews(&ev, 2, "c2s").len(), 3);
}

#[test]
fn escape_sequences_never_reach_the_terminal() {
    let p = hostile("hostile-terminal-escapes.pcap");
    let p = path_str(&p);
    for args in [
        vec!["print", "-r", p],
        vec!["stats", "-r", p],
        vec!["print", "--format", "json", "-r", p],
    ] {
        let run = run_hostile(&args);
        check_terminal_text(&format!("{args:?} stdout"), &run.out.stdout);
        check_terminal_text(&format!("{args:?} stderr"), &run.out.stderr);
    }
    let (run, ev) = json_of("hostile-terminal-escapes.pcap", &[]);
    // the hostile text is there, made visible, not dropped
    let text = common::run(&["print", "-r", p]);
    let text = String::from_utf8(text.stdout).unwrap();
    for shown in [
        "\\x1b]52;c;cm0gLXJmIH4K\\x07",
        "\\u{202e}evil",
        "\\x9b31m",
        "\\x1b]8;;http://evil/\\x07bye",
    ] {
        assert!(text.contains(shown), "{shown} not shown in\n{text}");
    }
    assert!(
        run.stdout().contains("\\\\x1b[6n"),
        "json keeps the escaped text"
    );
    let heads: Vec<&Value> = ev.iter().filter(|e| e["event"] == "http_request").collect();
    assert_eq!(heads.len(), 1);
    assert!(heads[0]["headers"].to_string().contains("\\\\x9b2J"));
    assert_eq!(violations(&ev, 1, "c2s"), ["http_malformed"]);
    assert_eq!(message_previews(&ev, 2, "s2c").len(), 1);
}

#[test]
fn ipv4_fragment_flood_is_bounded_and_the_connection_decodes() {
    let (run, ev) = json_of("hostile-ipv4-fragment-flood.pcap", &[]);
    let err = run.stderr();
    for w in [
        "more than 256 datagrams in reassembly",
        "more than 2048 fragments",
        "past the 65535-byte reassembly limit",
    ] {
        assert!(err.contains(w), "{w} not in {err}");
    }
    assert!(
        err.lines().count() <= 102,
        "{} warning lines",
        err.lines().count()
    );
    // every data packet of the conversation came in 64-byte fragments
    assert_eq!(
        message_previews(&ev, 0, "c2s"),
        ["hello server", "000102030405060708090a0b0c0d0e0f", "thanks"]
    );
    assert_eq!(message_previews(&ev, 0, "s2c").len(), 3);
    assert_eq!(violations(&ev, 0, ""), Vec::<&str>::new());
}

/// Regression: the first payload of a connection decided its mode at once, so a
/// request whose first segment was shorter than its method and space (`G`, `GE`,
/// `HT`...) made the whole connection opaque: no HTTP, no WebSocket.
#[test]
fn http_sent_one_byte_per_segment_is_still_decoded() {
    let (_, ev) = json_of("hostile-http-bytewise.pcap", &[]);
    let kinds: Vec<&str> = ev.iter().filter_map(|e| e["event"].as_str()).collect();
    for k in ["http_request", "http_response", "ws_handshake", "ws_close"] {
        assert!(kinds.contains(&k), "no {k}: {kinds:?}");
    }
    let hs = ev.iter().find(|e| e["event"] == "ws_handshake").unwrap();
    assert_eq!(hs["ok"], true);
    assert_eq!(message_previews(&ev, 0, "c2s"), ["one byte at a time"]);
    assert_eq!(message_previews(&ev, 0, "s2c"), ["and back"]);
    assert_eq!(violations(&ev, 0, ""), Vec::<&str>::new());

    // the same through the library: held prefix bytes, the other side speaking
    // in between (the held bytes are then taken as they are), and a gap
    let req = b"GET /r HTTP/1.1\r\nHost: x\r\n\r\n";
    let resp = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    let mut pkts = vec![
        tcp_packet(true, 1000, 0, 0x02, b""),
        tcp_packet(false, 5000, 1001, 0x12, b""),
        tcp_packet(true, 1001, 5001, 0x10, b""),
    ];
    let mut seq = 1001u32;
    for chunk in req.chunks(3) {
        pkts.push(tcp_packet(true, seq, 5001, 0x18, chunk));
        seq += chunk.len() as u32;
    }
    pkts.push(tcp_packet(false, 5001, seq, 0x18, &resp[..2]));
    pkts.push(tcp_packet(false, 5003, seq, 0x18, &resp[2..]));
    let pkts: Vec<Pkt> = pkts
        .into_iter()
        .enumerate()
        .map(|(i, data)| Pkt {
            ts: Timestamp(1_700_000_000_000_000 + i as i64),
            data,
        })
        .collect();
    let c = analyze_and_check(101, &pkts, Config::default()).unwrap();
    let names: Vec<&str> = c.events.iter().map(|e| e.kind.name()).collect();
    assert!(names.contains(&"http_request"), "{names:?}");
    assert!(names.contains(&"http_response"), "{names:?}");

    // "G" from the client, then the server talks: "G" alone is not HTTP, nothing breaks
    let pkts: Vec<Pkt> = [
        tcp_packet(true, 1000, 0, 0x02, b""),
        tcp_packet(false, 5000, 1001, 0x12, b""),
        tcp_packet(true, 1001, 5001, 0x18, b"G"),
        tcp_packet(false, 5001, 1002, 0x18, b"HTTP/1.1 200 OK\r\n\r\n"),
        tcp_packet(true, 1002, 5020, 0x18, b"ET / HTTP/1.1\r\n\r\n"),
    ]
    .into_iter()
    .map(|data| Pkt {
        ts: Timestamp(1_700_000_000_000_000),
        data,
    })
    .collect();
    analyze_and_check(101, &pkts, Config::default()).unwrap();

    // bytes held to classify the connection still count when it ends right after them
    let mut an = Analyzer::new(Config::default());
    let mut st = wsscope::output::StatsBuilder::new();
    for p in [
        tcp_packet(true, 1000, 0, 0x02, b""),
        tcp_packet(false, 5000, 1001, 0x12, b""),
        tcp_packet(true, 1001, 5001, 0x10, b""),
        tcp_packet(true, 1001, 5001, 0x18, b"GE"),
        tcp_packet(true, 1003, 5001, 0x11, b""),
        tcp_packet(false, 5001, 1004, 0x11, b""),
        tcp_packet(true, 1004, 5002, 0x10, b""),
    ] {
        an.packet(101, Timestamp(1_700_000_000_000_000), &p, &mut st);
    }
    an.finish(Timestamp(1_700_000_000_000_000), &mut st);
    let rows = st.finish();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].bytes.wire, 2);
}

/// Every hostile capture, every output mode: exit 0, bounded memory, safe text.
#[test]
fn every_hostile_capture_in_every_mode() {
    let dir = captures_dir().join("hostile");
    let caps = common::captures_in(&dir);
    assert_eq!(caps.len(), 8, "{caps:?}");
    for cap in &caps {
        let p = path_str(cap);
        for args in [
            vec!["print", "-r", p],
            vec!["stats", "-r", p],
            vec!["stats", "--json", "-r", p],
        ] {
            let run = run_hostile(&args);
            check_terminal_text(&format!("{args:?} stdout"), &run.out.stdout);
            check_terminal_text(&format!("{args:?} stderr"), &run.out.stderr);
        }
    }
}

/// Regression: a capture's file name was printed raw in error messages (and the
/// TUI's title): a file named with an escape sequence could drive the terminal.
#[test]
fn file_names_with_escapes_are_shown_safely() {
    let dir = std::env::temp_dir().join(format!("wsscope-hostile-names-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let not_capture = dir.join("evil\x1b]0;pwned\x07\u{9b}31m\u{202e}.pcap");
    std::fs::write(&not_capture, b"not a capture").unwrap();
    let missing = dir.join("missing\x1b[2J.pcap");
    for p in [&not_capture, &missing] {
        let out = common::run(&["print", "-r", path_str(p)]);
        assert_eq!(out.status.code(), Some(1));
        check_terminal_text("stderr", &out.stderr);
        assert!(String::from_utf8_lossy(&out.stderr).contains("\\x1b"));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The terminal UI on the escape-sequence capture, in a real terminal (tmux, where
/// installed): the window title is not changed (OSC 0), nothing reaches tmux's
/// clipboard (OSC 52 with `set-clipboard on`), and the hostile text is shown escaped.
#[test]
fn tui_shows_escapes_without_obeying_them() {
    let tmux = ["/usr/bin/tmux", "/usr/local/bin/tmux", "/bin/tmux"]
        .into_iter()
        .find(|p| Path::new(p).exists());
    let Some(tmux) = tmux else {
        eprintln!("note: tmux is missing: the TUI escape test is skipped");
        return;
    };
    let sock = format!("wsscope-hostile-{}", std::process::id());
    let t = |args: &[&str]| {
        std::process::Command::new(tmux)
            .args(["-L", &sock, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("run tmux")
    };
    let cap = hostile("hostile-terminal-escapes.pcap");
    let cmd = format!(
        // the pause lets the clipboard and title settings below be in force first
        "sleep 1; {} view --speed 1000 -r '{}'; sleep 5",
        env!("CARGO_BIN_EXE_wsscope"),
        path_str(&cap)
    );
    let started = t(&[
        "new-session",
        "-d",
        "-s",
        "h",
        "-x",
        "200",
        "-y",
        "50",
        &cmd,
    ]);
    assert!(started.status.success(), "{started:?}");
    t(&["set", "-g", "set-clipboard", "on"]);
    let title_before = "h";
    t(&["select-pane", "-t", "h", "-T", title_before]);
    let mut screen = String::new();
    for _ in 0..50 {
        std::thread::sleep(std::time::Duration::from_millis(200));
        t(&["send-keys", "-t", "h", "End"]);
        screen =
            String::from_utf8_lossy(&t(&["capture-pane", "-p", "-t", "h"]).stdout).into_owned();
        if screen.contains("close by client") {
            break;
        }
    }
    let title = String::from_utf8_lossy(&t(&["display", "-p", "-t", "h", "#{pane_title}"]).stdout)
        .trim()
        .to_string();
    let buffers = t(&["list-buffers"]).stdout;
    t(&["send-keys", "-t", "h", "q"]);
    t(&["kill-server"]);
    assert!(
        screen.contains("close by client"),
        "the replay did not finish:\n{screen}"
    );
    assert!(screen.contains("\\x1b]52;c;"), "{screen}");
    assert!(screen.contains("\\u{202e}evil"), "{screen}");
    assert_eq!(title, title_before, "the pane title was changed");
    assert!(
        buffers.is_empty(),
        "something reached the clipboard: {:?}",
        String::from_utf8_lossy(&buffers)
    );
}

/// Regression: `stats` kept the row of every ended connection while an earlier one
/// was still open (rows go out in connection order), so a long-lived connection
/// followed by many short ones made memory grow with the input, without bound in a
/// long live capture. Past `MAX_WAITING_ROWS` rows go out of order.
#[test]
fn stats_rows_do_not_pile_up_behind_a_long_lived_connection() {
    use wsscope::output::stats::MAX_WAITING_ROWS;
    use wsscope::output::StatsBuilder;
    let short = MAX_WAITING_ROWS + 1000;
    let mut an = Analyzer::new(Config::default());
    let mut st = StatsBuilder::new();
    let ts = Timestamp(1_700_000_000_000_000);
    an.packet(
        101,
        ts,
        &tcp_packet_port(1000, true, 7, 0, 0x02, b""),
        &mut st,
    );
    let mut released = Vec::new();
    for i in 0..short {
        let p = 2000 + i as u16;
        for pkt in [
            tcp_packet_port(p, true, 100, 0, 0x02, b""),
            tcp_packet_port(p, false, 900, 101, 0x12, b""),
            tcp_packet_port(p, true, 101, 901, 0x10, b""),
            tcp_packet_port(p, true, 101, 901, 0x11, b""),
            tcp_packet_port(p, false, 901, 102, 0x11, b""),
            tcp_packet_port(p, true, 102, 902, 0x10, b""),
        ] {
            an.packet(101, ts, &pkt, &mut st);
        }
        released.extend(st.ready().into_iter().map(|r| r.conn));
        assert!(
            (i + 1) - released.len() <= MAX_WAITING_ROWS + 1,
            "{} rows waiting after {} connections",
            (i + 1) - released.len(),
            i + 1
        );
    }
    an.finish(ts, &mut st);
    released.extend(st.finish().into_iter().map(|r| r.conn));
    released.sort_unstable();
    assert_eq!(released, (0..=short as u64).collect::<Vec<_>>());
}
