//! Synthetic workloads from the reference generator (`../shared/tools/gen_ws_pcap.py`):
//! the facts it prints on stderr (connections, frames per opcode, payload bytes, packets,
//! file size) must agree exactly with `wsscope stats --json` and `wsscope print --json`.
//!
//! The generator writes Ethernet/IPv4/TCP without options (54 header bytes per packet),
//! every connection complete: 3-way handshake, Upgrade/101, data messages (some
//! fragmented), pings answered by pongs, close 1000 "bye" from the client echoed by the
//! server, FIN from both sides. Skipped (with a message) only when python3 is absent.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The generator beside the repository (`../shared`); from a git worktree under
/// `wt/NAME` the same directory is two levels up.
const GEN_CANDIDATES: &[&str] = &[
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/tools/gen_ws_pcap.py"
    ),
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/tools/gen_ws_pcap.py"
    ),
];

fn generator() -> &'static str {
    GEN_CANDIDATES
        .iter()
        .copied()
        .find(|p| Path::new(p).exists())
        .unwrap_or_else(|| panic!("generator missing: tried {GEN_CANDIDATES:?}"))
}

/// What the generator says it wrote.
#[derive(Debug)]
struct Facts {
    connections: u64,
    frames: u64,
    messages: u64,
    payload_bytes: u64,
    by_opcode: BTreeMap<u64, u64>,
    packets: u64,
    file_bytes: u64,
}

impl Facts {
    fn op(&self, op: u64) -> u64 {
        self.by_opcode.get(&op).copied().unwrap_or(0)
    }
}

/// A generated capture, removed when dropped.
struct Synth {
    path: PathBuf,
    facts: Facts,
}

impl Drop for Synth {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn python3_available() -> bool {
    Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs the generator; None (after saying so) when python3 is absent.
fn generate(tag: &str, args: &[&str]) -> Option<Synth> {
    let gen = generator();
    if !python3_available() {
        eprintln!("SKIPPED: python3 is not installed, cannot run {gen}");
        return None;
    }
    let path = std::env::temp_dir().join(format!(
        "wsscope-synthetic-{}-{tag}.pcap",
        std::process::id()
    ));
    let out = Command::new("python3")
        .arg(gen)
        .arg("--out")
        .arg(&path)
        .args(args)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "{gen} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8(out.stderr).expect("utf-8 facts");
    let line = stderr
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .unwrap_or_else(|| panic!("no facts JSON on stderr: {stderr}"));
    let v: Value = serde_json::from_str(line).expect("facts JSON");
    let n = |k: &str| {
        v[k].as_u64()
            .unwrap_or_else(|| panic!("facts: no {k}: {v}"))
    };
    let by_opcode = v["frames_by_opcode"]
        .as_object()
        .expect("frames_by_opcode")
        .iter()
        .map(|(k, c)| (k.parse().expect("opcode"), c.as_u64().expect("count")))
        .collect();
    let facts = Facts {
        connections: n("connections"),
        frames: n("frames"),
        messages: n("messages"),
        payload_bytes: n("payload_bytes"),
        by_opcode,
        packets: n("packets"),
        file_bytes: n("file_bytes"),
    };
    assert_eq!(
        std::fs::metadata(&path).expect("generated file").len(),
        facts.file_bytes
    );
    Some(Synth { path, facts })
}

fn stats(path: &Path) -> Vec<Value> {
    let out = common::run(&["stats", "--json", "-r", path.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "stats: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn of<'a>(evs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    evs.iter().filter(|e| e["event"] == kind).collect()
}

/// Everything the facts pin down, checked against both outputs.
fn check(tag: &str, syn: &Synth) {
    let f = &syn.facts;
    let ctx = |what: &str| format!("{tag}: {what} (facts {f:?})");
    assert!(
        f.connections > 0 && f.messages > 0,
        "{}",
        ctx("empty workload")
    );

    // ---------------------------------------------------------- stats --json
    let rows = stats(&syn.path);
    assert_eq!(rows.len() as u64, f.connections, "{}", ctx("stats rows"));
    let sum = |get: &dyn Fn(&Value) -> u64| -> u64 { rows.iter().map(get).sum() };
    assert_eq!(
        sum(&|r| u(&r["frames"]["c2s"]) + u(&r["frames"]["s2c"])),
        f.frames,
        "{}",
        ctx("stats frames")
    );
    assert_eq!(
        sum(&|r| u(&r["messages"])),
        f.messages,
        "{}",
        ctx("stats messages")
    );
    assert_eq!(sum(&|r| u(&r["pings"])), f.op(9), "{}", ctx("stats pings"));
    assert_eq!(sum(&|r| u(&r["pongs"])), f.op(10), "{}", ctx("stats pongs"));
    // frame payloads: the messages, 8-byte pings and pongs, 5-byte closes (1000 "bye")
    assert_eq!(
        sum(&|r| u(&r["bytes"]["payload"])),
        f.payload_bytes + 8 * (f.op(9) + f.op(10)) + 5 * f.op(8),
        "{}",
        ctx("stats bytes.payload")
    );
    // wire: every TCP payload byte; each record is 16 + 14 + 20 + 20 bytes before its payload
    assert_eq!(
        sum(&|r| u(&r["bytes"]["wire"])),
        f.file_bytes - 24 - f.packets * (16 + 54),
        "{}",
        ctx("stats bytes.wire")
    );
    for r in &rows {
        let c = format!("{tag}: {r}");
        assert_eq!(r["kind"], "websocket", "{c}");
        assert_eq!(u(&r["violations"]), 0, "{c}");
        assert_eq!(u(&r["gap_bytes"]), 0, "{c}");
        assert_eq!(r["mid_stream"], false, "{c}");
        assert_eq!(r["upgrade"]["status"], 101, "{c}");
        assert_eq!(r["upgrade"]["accept_ok"], true, "{c}");
        assert_eq!(r["close"]["initiator"], "c2s", "{c}");
        assert_eq!(r["close"]["code"], 1000, "{c}");
        assert_eq!(r["close"]["clean"], true, "{c}");
        assert_eq!(r["teardown"], "fin", "{c}");
        assert!(r["handshake_rtt_ms"].is_f64(), "{c}");
        // one request: the Upgrade
        assert_eq!(u(&r["requests"]), 1, "{c}");
    }

    // ---------------------------------------------------------- print --json
    let evs = common::events(&syn.path);
    assert_eq!(
        of(&evs, "conn_open").len() as u64,
        f.connections,
        "{}",
        ctx("conn_open")
    );
    let conns: Vec<u64> = of(&evs, "conn_open")
        .iter()
        .map(|e| u(&e["conn"]))
        .collect();
    assert_eq!(
        conns,
        (0..f.connections).collect::<Vec<_>>(),
        "{}",
        ctx("conn numbers")
    );
    let hs = of(&evs, "ws_handshake");
    assert_eq!(hs.len() as u64, f.connections, "{}", ctx("ws_handshake"));
    assert!(
        hs.iter().all(|h| h["ok"] == true && h["accept_ok"] == true),
        "{}",
        ctx("upgrades ok")
    );
    let acks = of(&evs, "tcp_handshake")
        .iter()
        .filter(|e| e["step"] == "ack")
        .count() as u64;
    assert_eq!(acks, f.connections, "{}", ctx("3-way handshakes"));

    let frames = of(&evs, "ws_frame");
    assert_eq!(frames.len() as u64, f.frames, "{}", ctx("ws_frame events"));
    let mut by_op: BTreeMap<u64, u64> = BTreeMap::new();
    for fr in &frames {
        *by_op.entry(u(&fr["opcode"])).or_default() += 1;
        let client = fr["dir"] == "c2s";
        assert_eq!(fr["masked"], client, "{tag}: masking {fr}");
        assert_eq!(u(&fr["rsv"]), 0, "{tag}: {fr}");
    }
    assert_eq!(by_op, f.by_opcode, "{}", ctx("frames per opcode"));
    let frame_payload: u64 = frames.iter().map(|e| u(&e["len"])).sum();
    assert_eq!(
        frame_payload,
        f.payload_bytes + 8 * (f.op(9) + f.op(10)) + 5 * f.op(8),
        "{}",
        ctx("frame payload bytes")
    );

    let msgs = of(&evs, "ws_message");
    assert_eq!(
        msgs.len() as u64,
        f.messages,
        "{}",
        ctx("ws_message events")
    );
    let msg_bytes: u64 = msgs.iter().map(|m| u(&m["len"])).sum();
    assert_eq!(msg_bytes, f.payload_bytes, "{}", ctx("message bytes"));
    let kind = |k: &str| msgs.iter().filter(|m| m["kind"] == k).count() as u64;
    assert_eq!(kind("text"), f.op(1), "{}", ctx("text messages"));
    assert_eq!(kind("binary"), f.op(2), "{}", ctx("binary messages"));
    let msg_frames: u64 = msgs.iter().map(|m| u(&m["frames"])).sum();
    assert_eq!(
        msg_frames,
        f.op(0) + f.op(1) + f.op(2),
        "{}",
        ctx("data frames in messages")
    );
    for m in &msgs {
        assert_eq!(m["compressed"], false, "{tag}: {m}");
        assert!(
            u(&m["wire_len"]) > u(&m["len"]),
            "{tag}: headers count: {m}"
        );
        if m["kind"] == "text" {
            // text payloads are all 'x'
            let p = m["preview"].as_str().unwrap();
            assert!(
                p.trim_end_matches('…').chars().all(|c| c == 'x'),
                "{tag}: {m}"
            );
        }
    }

    // each ping is answered by a pong with the same payload, from the other side
    for c in 0..f.connections {
        let mut open: Vec<(String, String)> = Vec::new();
        for fr in frames.iter().filter(|e| u(&e["conn"]) == c) {
            let dir = fr["dir"].as_str().unwrap().to_string();
            let hex = fr["payload_hex"].as_str().unwrap().to_string();
            match u(&fr["opcode"]) {
                9 => open.push((dir, hex)),
                10 => {
                    let (pd, ph) = open
                        .pop()
                        .unwrap_or_else(|| panic!("{tag}: pong without ping {fr}"));
                    assert_ne!(pd, dir, "{tag}: {fr}");
                    assert_eq!(ph, hex, "{tag}: {fr}");
                    assert!(fr["rtt_ms"].is_f64(), "{tag}: pong rtt: {fr}");
                }
                _ => {}
            }
        }
        assert!(open.is_empty(), "{tag}: conn {c}: unanswered pings");
    }

    let closes = of(&evs, "ws_close");
    assert_eq!(closes.len() as u64, f.connections, "{}", ctx("ws_close"));
    for c in closes {
        assert_eq!(
            (
                &c["initiator"],
                &c["code"],
                &c["reason"],
                &c["echoed"],
                &c["clean"]
            ),
            (
                &Value::from("c2s"),
                &Value::from(1000),
                &Value::from("bye"),
                &Value::from(true),
                &Value::from(true)
            ),
            "{tag}: {c}"
        );
    }
    assert!(of(&evs, "violation").is_empty(), "{}", ctx("no violations"));
    assert!(of(&evs, "gap").is_empty(), "{}", ctx("no gaps"));

    // capture order: packet numbers never go back, and the last packet (the final ACK of
    // the last teardown) is the last one the generator wrote
    let pkts: Vec<u64> = evs.iter().map(|e| u(&e["pkt"])).collect();
    assert!(
        pkts.windows(2).all(|w| w[0] <= w[1]),
        "{}",
        ctx("pkt order")
    );
    assert_eq!(
        pkts.last().copied(),
        Some(f.packets),
        "{}",
        ctx("last packet")
    );

    // stats rows and events agree per connection too
    for r in &rows {
        let c = u(&r["conn"]);
        let n = |d: &str| {
            frames
                .iter()
                .filter(|e| u(&e["conn"]) == c && e["dir"] == d)
                .count() as u64
        };
        assert_eq!(u(&r["frames"]["c2s"]), n("c2s"), "{tag}: {r}");
        assert_eq!(u(&r["frames"]["s2c"]), n("s2c"), "{tag}: {r}");
        let m = msgs.iter().filter(|e| u(&e["conn"]) == c).count() as u64;
        assert_eq!(u(&r["messages"]), m, "{tag}: {r}");
    }
}

#[test]
fn chat_seed_7() {
    // the workload of the brief: 6 connections, 30 messages each, 3 at a time
    let args = [
        "--conns",
        "6",
        "--messages",
        "30",
        "--concurrent",
        "3",
        "--seed",
        "7",
    ];
    if let Some(s) = generate("chat7", &args) {
        assert_eq!(s.facts.connections, 6);
        assert_eq!(s.facts.messages, 180);
        // the workload exercises fragmentation and ping/pong
        assert!(s.facts.op(0) > 0 && s.facts.op(9) > 0, "{:?}", s.facts);
        check("chat seed 7", &s);
    }
}

#[test]
fn chat_many_concurrent() {
    // 20 connections all open at once: many interleaved flows
    let args = [
        "--conns",
        "20",
        "--messages",
        "12",
        "--concurrent",
        "20",
        "--seed",
        "42",
    ];
    if let Some(s) = generate("chat42", &args) {
        check("chat seed 42, 20 concurrent", &s);
    }
}

#[test]
fn small_messages() {
    let args = [
        "--conns",
        "8",
        "--messages",
        "40",
        "--concurrent",
        "4",
        "--seed",
        "3",
        "--mix",
        "small",
    ];
    if let Some(s) = generate("small3", &args) {
        check("small seed 3", &s);
    }
}

#[test]
fn bulk_messages() {
    // up to 1 MiB messages: 64-bit lengths, frames over hundreds of TCP segments
    let args = [
        "--conns",
        "3",
        "--messages",
        "8",
        "--concurrent",
        "3",
        "--seed",
        "11",
        "--mix",
        "bulk",
    ];
    if let Some(s) = generate("bulk11", &args) {
        check("bulk seed 11", &s);
        let evs = common::events(&s.path);
        assert!(
            of(&evs, "ws_frame")
                .iter()
                .any(|f| u(&f["len"]) >= 65536 && u(&f["header_len"]) >= 10),
            "the bulk mix should hold 64-bit-length frames"
        );
    }
}

#[test]
fn two_decoding_threads_agree_with_one_pipeline() {
    // 60 clients, each its own IP address: the connections go to both threads, in
    // rounds of many connections opening, ending and interleaving.
    let args = [
        "--conns",
        "60",
        "--messages",
        "30",
        "--concurrent",
        "25",
        "--seed",
        "5",
        "--mix",
        "small",
    ];
    let Some(s) = generate("shards5", &args) else {
        return;
    };
    check("small seed 5, 60 connections", &s);
    for extra in [&[][..], &["--json"][..]] {
        let one = common::stats_decoders(&s.path, extra, true);
        let two = common::stats_decoders(&s.path, extra, false);
        assert!(one.status.success() && two.status.success());
        assert_eq!(
            String::from_utf8_lossy(&two.stdout),
            String::from_utf8_lossy(&one.stdout),
            "{extra:?}"
        );
        assert_eq!(two.stderr, one.stderr, "{extra:?}");
    }
    // Pressed: the same every run, the connections ended early said once.
    let pressed = ["--json", "--max-flows", "6"];
    let first = common::stats_decoders(&s.path, &pressed, false);
    let again = common::stats_decoders(&s.path, &pressed, false);
    assert_eq!(first.stdout, again.stdout);
    assert_eq!(first.stderr, again.stderr);
    let warned = String::from_utf8_lossy(&first.stderr);
    assert!(
        warned.contains("flow table") || warned.contains("max-flows"),
        "{warned}"
    );
}
