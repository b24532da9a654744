//! The project's own capture corpus (`captures/`, described in `captures/README.md`):
//! for every file, what the README says it shows must be visible in the NDJSON events
//! of `wsscope print --json` and in `wsscope stats --json`.
//!
//! These are per-file expectations written from the README and from the scripts that made
//! the files (`captures/make/crafted.py`, `peers.py`, `node_ws.js`, `browser.html`), not
//! snapshots: golden snapshots of the text timeline live in `tests/golden.rs`.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;

// ------------------------------------------------------------------ helpers

fn cap(name: &str) -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join(name);
    assert!(p.exists(), "missing capture {}", p.display());
    p
}

fn evs(name: &str) -> Vec<Value> {
    common::events(&cap(name))
}

fn stats(name: &str) -> Vec<Value> {
    let path = cap(name);
    let out = common::run(&["stats", "--json", "-r", path.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "stats {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{name}: bad line {l}: {e}")))
        .collect()
}

fn of<'a>(evs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    evs.iter().filter(|e| e["event"] == kind).collect()
}

fn of_conn<'a>(evs: &'a [Value], kind: &str, conn: u64) -> Vec<&'a Value> {
    evs.iter()
        .filter(|e| e["event"] == kind && e["conn"] == conn)
        .collect()
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A frame as `(conn, dir, opcode, fin, rsv, len)`.
type F = (u64, &'static str, u64, bool, u64, u64);

fn frames(evs: &[Value]) -> Vec<(u64, String, u64, bool, u64, u64)> {
    of(evs, "ws_frame")
        .iter()
        .map(|e| {
            (
                u(&e["conn"]),
                s(&e["dir"]).to_string(),
                u(&e["opcode"]),
                e["fin"].as_bool().unwrap(),
                u(&e["rsv"]),
                u(&e["len"]),
            )
        })
        .collect()
}

fn assert_frames(name: &str, evs: &[Value], want: &[F]) {
    let got = frames(evs);
    let want: Vec<_> = want
        .iter()
        .map(|&(c, d, o, f, r, l)| (c, d.to_string(), o, f, r, l))
        .collect();
    assert_eq!(
        got, want,
        "{name}: ws_frame events (conn, dir, opcode, fin, rsv, len)"
    );
}

/// A message as `(conn, dir, kind, frames, len, preview)`.
type M = (u64, &'static str, &'static str, u64, u64, &'static str);

fn messages(evs: &[Value]) -> Vec<(u64, String, String, u64, u64, String)> {
    of(evs, "ws_message")
        .iter()
        .map(|e| {
            (
                u(&e["conn"]),
                s(&e["dir"]).to_string(),
                s(&e["kind"]).to_string(),
                u(&e["frames"]),
                u(&e["len"]),
                s(&e["preview"]).to_string(),
            )
        })
        .collect()
}

/// Messages must match exactly, except that the preview only has to start with the
/// expected text (previews are cut to a terminal-friendly length).
fn assert_messages(name: &str, evs: &[Value], want: &[M]) {
    let got = messages(evs);
    let show = || format!("{name}: got messages {got:#?}");
    assert_eq!(got.len(), want.len(), "{}", show());
    for (g, w) in got.iter().zip(want) {
        assert_eq!(
            (g.0, g.1.as_str(), g.2.as_str(), g.3, g.4),
            (w.0, w.1, w.2, w.3, w.4),
            "{}",
            show()
        );
        assert!(
            g.5.starts_with(w.5),
            "{name}: preview {:?} should start with {:?}",
            g.5,
            w.5
        );
    }
}

/// A ws_close as `(conn, initiator, code, reason, echoed, clean)`.
type C = (u64, Option<String>, Option<u64>, String, bool, bool);

/// Every ws_close.
fn closes(evs: &[Value]) -> Vec<C> {
    of(evs, "ws_close")
        .iter()
        .map(|e| {
            (
                u(&e["conn"]),
                e["initiator"].as_str().map(str::to_string),
                e["code"].as_u64(),
                s(&e["reason"]).to_string(),
                e["echoed"].as_bool().unwrap(),
                e["clean"].as_bool().unwrap(),
            )
        })
        .collect()
}

fn close(
    conn: u64,
    initiator: Option<&str>,
    code: Option<u64>,
    reason: &str,
    echoed: bool,
    clean: bool,
) -> C {
    (
        conn,
        initiator.map(str::to_string),
        code,
        reason.to_string(),
        echoed,
        clean,
    )
}

fn gaps(evs: &[Value]) -> Vec<(u64, String, u64)> {
    of(evs, "gap")
        .iter()
        .map(|e| (u(&e["conn"]), s(&e["dir"]).to_string(), u(&e["bytes"])))
        .collect()
}

/// Who sent the first FIN/RST of each connection, and how.
fn first_teardown(evs: &[Value], conn: u64) -> (String, String) {
    let t = of_conn(evs, "tcp_teardown", conn);
    let t = t
        .first()
        .unwrap_or_else(|| panic!("conn {conn}: no tcp_teardown"));
    (s(&t["dir"]).to_string(), s(&t["how"]).to_string())
}

/// The events with addresses taken out (for link/IP variants of one conversation).
fn without_addresses(evs: &[Value]) -> Vec<Value> {
    evs.iter()
        .cloned()
        .map(|mut e| {
            if let Some(o) = e.as_object_mut() {
                o.remove("client");
                o.remove("server");
            }
            e
        })
        .collect()
}

fn header<'a>(e: &'a Value, name: &str) -> Option<&'a str> {
    e["headers"]
        .as_array()?
        .iter()
        .find(|h| h[0].as_str().is_some_and(|n| n.eq_ignore_ascii_case(name)))
        .and_then(|h| h[1].as_str())
}

fn accept_for(key: &str) -> String {
    let out = common::run(&["accept", key]);
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

// ------------------------------------------------------------------ the table of files

/// Every file in `captures/`: a file added without expectations fails `every_file_is_known`.
const FILES: &[&str] = &[
    "chromium-python-websockets.pcap",
    "compare-polling-vs-websocket.pcap",
    "crafted-basic-bigendian-nsec.pcap",
    "crafted-basic.pcap",
    "crafted-basic.pcapng",
    "crafted-handshake-bad-accept.pcap",
    "crafted-handshake-no-connection-upgrade.pcap",
    "crafted-handshake-version-8.pcap",
    "crafted-ipv6.pcap",
    "crafted-linktype-null.pcap",
    "crafted-linktype-raw.pcap",
    "crafted-linktype-sll2.pcap",
    "crafted-midstream.pcap",
    "crafted-qinq.pcap",
    "crafted-snaplen96.pcap",
    "crafted-tcp-coalesced-split.pcap",
    "crafted-tcp-gap.pcap",
    "crafted-tcp-out-of-order.pcap",
    "crafted-tcp-overlap.pcap",
    "crafted-tcp-retransmission.pcap",
    "crafted-tcp-seq-wrap.pcap",
    "crafted-violation-close.pcap",
    "crafted-violation-control.pcap",
    "crafted-violation-length.pcap",
    "crafted-violation-masking.pcap",
    "crafted-violation-opcode-rsv.pcap",
    "crafted-violation-utf8.pcap",
    "crafted-vlan.pcap",
    "damaged-bad-record-length.pcap",
    "damaged-truncated.pcap",
    "http-long-polling.pcap",
    "http-short-polling.pcap",
    "http-sse.pcap",
    "node-ws-any-sll2.pcap",
    "node-ws-basic.pcap",
    "node-ws-deflate.pcap",
    "python-websockets-client-rst.pcap",
    "python-websockets-deflate.pcap",
    "python-websockets-nocompress.pcap",
    "python-websockets-refused-426.pcap",
];

#[test]
fn every_file_is_known() {
    let on_disk: Vec<String> = common::own_captures()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        on_disk, FILES,
        "captures/ and this test's table differ: add expectations for new files"
    );
}

/// A violation as `(conn, dir, code, rfc)`; dir "" for none.
type V = (u64, &'static str, &'static str, &'static str);

const A: &str = "RFC 6455 5.2";

/// The violations each file must show: exactly these, as a multiset, and nothing else.
const VIOLATIONS: &[(&str, &[V])] = &[
    ("chromium-python-websockets.pcap", &[]),
    // mergecap of http-short-polling, http-long-polling, python-websockets-nocompress
    ("compare-polling-vs-websocket.pcap", &[]),
    ("crafted-basic-bigendian-nsec.pcap", &[]),
    ("crafted-basic.pcap", &[]),
    ("crafted-basic.pcapng", &[]),
    (
        "crafted-handshake-bad-accept.pcap",
        &[
            (0, "s2c", "accept_mismatch", "RFC 6455 4.1"),
            // the client then fails the connection by closing TCP, as RFC 6455 4.1 says
            // it must: no abnormal_closure for that
            (1, "s2c", "accept_mismatch", "RFC 6455 4.1"),
        ],
    ),
    (
        "crafted-handshake-no-connection-upgrade.pcap",
        &[
            (
                0,
                "c2s",
                "upgrade_missing_connection_upgrade",
                "RFC 6455 4.2.1",
            ),
            (
                1,
                "c2s",
                "upgrade_missing_connection_upgrade",
                "RFC 6455 4.2.1",
            ),
        ],
    ),
    (
        "crafted-handshake-version-8.pcap",
        &[
            (0, "c2s", "upgrade_bad_version", "RFC 6455 4.2.1"),
            (1, "c2s", "upgrade_bad_version", "RFC 6455 4.2.1"),
        ],
    ),
    ("crafted-ipv6.pcap", &[]),
    ("crafted-linktype-null.pcap", &[]),
    ("crafted-linktype-raw.pcap", &[]),
    ("crafted-linktype-sll2.pcap", &[]),
    // not an RFC breach, but how the analyzer flags frames it decodes without a handshake
    ("crafted-midstream.pcap", &[(0, "", "mid_stream", A)]),
    ("crafted-qinq.pcap", &[]),
    ("crafted-snaplen96.pcap", &[]),
    ("crafted-tcp-coalesced-split.pcap", &[]),
    (
        "crafted-tcp-gap.pcap",
        &[(0, "c2s", "gap_resync", A), (0, "s2c", "gap_resync", A)],
    ),
    ("crafted-tcp-out-of-order.pcap", &[]),
    ("crafted-tcp-overlap.pcap", &[]),
    ("crafted-tcp-retransmission.pcap", &[]),
    ("crafted-tcp-seq-wrap.pcap", &[]),
    (
        "crafted-violation-close.pcap",
        &[
            (0, "c2s", "invalid_close_code", "RFC 6455 7.4"), // 1005 on the wire
            (1, "s2c", "invalid_close_code", "RFC 6455 7.4"), // 999
            (1, "c2s", "invalid_close_code", "RFC 6455 7.4"), // 5000
            (2, "c2s", "close_payload_one_byte", "RFC 6455 5.5.1"),
            // conn 3: empty close payloads both ways are legal
            (4, "c2s", "frame_after_close", "RFC 6455 5.5.1"), // client text after its close
            (4, "s2c", "frame_after_close", "RFC 6455 5.5.1"), // server text after its close
        ],
    ),
    (
        "crafted-violation-control.pcap",
        &[
            (0, "c2s", "control_frame_too_long", "RFC 6455 5.5"), // ping of 130 bytes
            (1, "c2s", "control_frame_fragmented", "RFC 6455 5.5"), // FIN=0 ping
            // ... whose continuation then has no data message to continue
            (1, "c2s", "continuation_without_message", "RFC 6455 5.4"),
            (2, "s2c", "control_frame_too_long", "RFC 6455 5.5"), // close of 202 bytes
                                                                  // conn 3: ping between two fragments is legal
        ],
    ),
    (
        "crafted-violation-length.pcap",
        &[
            (0, "c2s", "non_minimal_length", A),
            (0, "s2c", "non_minimal_length", A),
            (0, "c2s", "non_minimal_length", A),
            (1, "s2c", "length_top_bit_set", A),
            // the stream then ends inside that (impossible) frame
            (1, "s2c", "unfinished_frame", A),
        ],
    ),
    (
        "crafted-violation-masking.pcap",
        &[
            (0, "c2s", "unmasked_client_frame", "RFC 6455 5.1"),
            (1, "s2c", "masked_server_frame", "RFC 6455 5.1"),
        ],
    ),
    (
        "crafted-violation-opcode-rsv.pcap",
        &[
            (0, "c2s", "reserved_opcode", A),
            (1, "s2c", "reserved_opcode", A),
            (2, "c2s", "rsv_without_extension", A),
            (3, "s2c", "rsv_without_extension", A),
            (4, "c2s", "continuation_without_message", "RFC 6455 5.4"),
            (5, "c2s", "data_inside_fragmented_message", "RFC 6455 5.4"),
        ],
    ),
    (
        "crafted-violation-utf8.pcap",
        &[
            (0, "c2s", "invalid_utf8_text", "RFC 6455 5.6"),
            (1, "s2c", "invalid_utf8_text", "RFC 6455 5.6"), // only the second message
            (2, "c2s", "invalid_utf8_text", "RFC 6455 5.6"),
            (3, "c2s", "invalid_utf8_close_reason", "RFC 6455 5.5.1"),
        ],
    ),
    ("crafted-vlan.pcap", &[]),
    ("damaged-bad-record-length.pcap", &[]),
    ("damaged-truncated.pcap", &[]),
    ("http-long-polling.pcap", &[]),
    ("http-short-polling.pcap", &[]),
    ("http-sse.pcap", &[]),
    ("node-ws-any-sll2.pcap", &[]),
    ("node-ws-basic.pcap", &[]),
    ("node-ws-deflate.pcap", &[]),
    (
        "python-websockets-client-rst.pcap",
        &[(0, "", "abnormal_closure", "RFC 6455 7.1.5")],
    ),
    ("python-websockets-deflate.pcap", &[]),
    ("python-websockets-nocompress.pcap", &[]),
    ("python-websockets-refused-426.pcap", &[]),
];

fn violations_of(evs: &[Value]) -> Vec<(u64, String, String, String)> {
    let mut v: Vec<_> = of(evs, "violation")
        .iter()
        .map(|e| {
            (
                u(&e["conn"]),
                e["dir"].as_str().unwrap_or("").to_string(),
                s(&e["code"]).to_string(),
                s(&e["rfc"]).to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn violations_exactly_as_expected() {
    assert_eq!(
        VIOLATIONS.iter().map(|v| v.0).collect::<Vec<_>>(),
        FILES,
        "the violation table must list every file"
    );
    let mut failures = Vec::new();
    for (name, want) in VIOLATIONS {
        let evs = evs(name);
        for e in of(&evs, "violation") {
            assert!(
                !s(&e["message"]).is_empty(),
                "{name}: violation without a message: {e}"
            );
        }
        let got = violations_of(&evs);
        let mut want: Vec<_> = want
            .iter()
            .map(|&(c, d, code, rfc)| (c, d.to_string(), code.to_string(), rfc.to_string()))
            .collect();
        want.sort();
        if got != want {
            failures.push(format!("{name}:\n  got  {got:?}\n  want {want:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `stats --json` kind of each connection of each file (src/output/stats.rs classify()).
const KINDS: &[(&str, &[&str])] = &[
    ("chromium-python-websockets.pcap", &["websocket"]),
    (
        "compare-polling-vs-websocket.pcap",
        &["websocket", "http-polling", "http-long-polling"],
    ),
    ("crafted-basic-bigendian-nsec.pcap", &["websocket"]),
    ("crafted-basic.pcap", &["websocket"]),
    ("crafted-basic.pcapng", &["websocket"]),
    // conn 0: the client gave up after the bad Accept, no WebSocket ran
    ("crafted-handshake-bad-accept.pcap", &["http", "websocket"]),
    (
        "crafted-handshake-no-connection-upgrade.pcap",
        &["websocket", "websocket"],
    ),
    ("crafted-handshake-version-8.pcap", &["http", "websocket"]),
    ("crafted-ipv6.pcap", &["websocket"]),
    ("crafted-linktype-null.pcap", &["websocket"]),
    ("crafted-linktype-raw.pcap", &["websocket"]),
    ("crafted-linktype-sll2.pcap", &["websocket"]),
    ("crafted-midstream.pcap", &["websocket"]),
    ("crafted-qinq.pcap", &["websocket"]),
    // nothing above TCP can be read: the Upgrade and the 101 are cut by the snap length
    ("crafted-snaplen96.pcap", &["tcp"]),
    ("crafted-tcp-coalesced-split.pcap", &["websocket"]),
    ("crafted-tcp-gap.pcap", &["websocket"]),
    ("crafted-tcp-out-of-order.pcap", &["websocket"]),
    ("crafted-tcp-overlap.pcap", &["websocket"]),
    ("crafted-tcp-retransmission.pcap", &["websocket"]),
    ("crafted-tcp-seq-wrap.pcap", &["websocket"]),
    ("crafted-violation-close.pcap", &["websocket"; 5]),
    ("crafted-violation-control.pcap", &["websocket"; 4]),
    ("crafted-violation-length.pcap", &["websocket"; 2]),
    ("crafted-violation-masking.pcap", &["websocket"; 2]),
    ("crafted-violation-opcode-rsv.pcap", &["websocket"; 6]),
    ("crafted-violation-utf8.pcap", &["websocket"; 4]),
    ("crafted-vlan.pcap", &["websocket"]),
    ("damaged-bad-record-length.pcap", &["websocket"]),
    ("damaged-truncated.pcap", &["websocket"]),
    ("http-long-polling.pcap", &["http-long-polling"]),
    ("http-short-polling.pcap", &["http-polling"]),
    ("http-sse.pcap", &["http-streaming"]),
    ("node-ws-any-sll2.pcap", &["websocket"]),
    ("node-ws-basic.pcap", &["websocket"]),
    ("node-ws-deflate.pcap", &["websocket"]),
    ("python-websockets-client-rst.pcap", &["websocket"]),
    ("python-websockets-deflate.pcap", &["websocket"]),
    ("python-websockets-nocompress.pcap", &["websocket"]),
    ("python-websockets-refused-426.pcap", &["http"]),
];

/// Files whose kind is wrong today (see `long_polling_is_classified`).
const KNOWN_WRONG_KIND: &[&str] = &["http-long-polling.pcap"];

#[test]
fn stats_kind_per_connection() {
    assert_eq!(KINDS.iter().map(|k| k.0).collect::<Vec<_>>(), FILES);
    let mut failures = Vec::new();
    for (name, want) in KINDS {
        if KNOWN_WRONG_KIND.contains(name) {
            continue;
        }
        let got: Vec<String> = stats(name)
            .iter()
            .map(|r| s(&r["kind"]).to_string())
            .collect();
        if got != *want {
            failures.push(format!("{name}: got {got:?}, want {want:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn long_polling_is_classified() {
    let got: Vec<String> = stats("http-long-polling.pcap")
        .iter()
        .map(|r| s(&r["kind"]).to_string())
        .collect();
    assert_eq!(got, ["http-long-polling"]);
}

/// `stats --json` and `print --json` tell the same story for every connection of every file.
#[test]
fn stats_agree_with_events() {
    for name in FILES {
        let evs = evs(name);
        let rows = stats(name);
        let conns: Vec<u64> = of(&evs, "conn_open")
            .iter()
            .map(|e| u(&e["conn"]))
            .collect();
        let row_conns: Vec<u64> = rows.iter().map(|r| u(&r["conn"])).collect();
        assert_eq!(row_conns, conns, "{name}: one stats row per conn_open");
        for r in &rows {
            let c = u(&r["conn"]);
            let ctx = format!("{name} conn {c}: {r}");
            let fr = of_conn(&evs, "ws_frame", c);
            let n_dir = |d: &str| fr.iter().filter(|e| e["dir"] == d).count() as u64;
            assert_eq!(u(&r["frames"]["c2s"]), n_dir("c2s"), "{ctx}");
            assert_eq!(u(&r["frames"]["s2c"]), n_dir("s2c"), "{ctx}");
            assert_eq!(
                u(&r["messages"]),
                of_conn(&evs, "ws_message", c).len() as u64,
                "{ctx}"
            );
            assert_eq!(
                u(&r["violations"]),
                of_conn(&evs, "violation", c).len() as u64,
                "{ctx}"
            );
            let payload: u64 = fr.iter().map(|e| u(&e["len"])).sum();
            // for a WebSocket, bytes.payload counts frame payloads (a frame cut by a gap is
            // counted whole); other kinds count their HTTP/TCP payload
            if r["kind"] == "websocket" {
                assert_eq!(u(&r["bytes"]["payload"]), payload, "{ctx}");
            }
            let gap: u64 = of_conn(&evs, "gap", c).iter().map(|e| u(&e["bytes"])).sum();
            assert_eq!(u(&r["gap_bytes"]), gap, "{ctx}");
            let wc = of_conn(&evs, "ws_close", c);
            match wc.first() {
                None => assert!(r["close"].is_null(), "{ctx}"),
                Some(e) => {
                    assert_eq!(wc.len(), 1, "{ctx}");
                    assert_eq!(r["close"]["initiator"], e["initiator"], "{ctx}");
                    assert_eq!(r["close"]["code"], e["code"], "{ctx}");
                    assert_eq!(r["close"]["clean"], e["clean"], "{ctx}");
                }
            }
            let td = of_conn(&evs, "tcp_teardown", c);
            let want_td = if td.iter().any(|e| e["how"] == "rst") {
                "rst"
            } else if td.is_empty() {
                "none"
            } else {
                "fin"
            };
            assert_eq!(s(&r["teardown"]), want_td, "{ctx}");
            let hs = of_conn(&evs, "ws_handshake", c);
            match hs.first() {
                None => assert!(r["upgrade"].is_null(), "{ctx}"),
                Some(h) => {
                    assert_eq!(r["upgrade"]["status"], h["status"], "{ctx}");
                    assert_eq!(r["upgrade"]["accept_ok"], h["accept_ok"], "{ctx}");
                }
            }
        }
    }
}

// ------------------------------------------------------------------ masking, everywhere

#[test]
fn client_frames_masked_server_frames_not() {
    // The only exceptions in the whole corpus are the two offences of the masking file.
    let mut exceptions = Vec::new();
    for name in FILES {
        for e in of(&evs(name), "ws_frame") {
            let masked = e["masked"].as_bool().unwrap();
            let key_ok = match e["mask_key"].as_str() {
                Some(k) => masked && k.len() == 8 && k.chars().all(|c| c.is_ascii_hexdigit()),
                None => !masked && e["mask_key"].is_null(),
            };
            assert!(key_ok, "{name}: mask_key inconsistent with masked: {e}");
            let expect = e["dir"] == "c2s";
            if masked != expect {
                exceptions.push((
                    name.to_string(),
                    u(&e["conn"]),
                    s(&e["dir"]).to_string(),
                    u(&e["pkt"]),
                ));
            }
        }
    }
    assert_eq!(
        exceptions,
        [
            (
                "crafted-violation-masking.pcap".to_string(),
                0,
                "c2s".to_string(),
                12
            ),
            (
                "crafted-violation-masking.pcap".to_string(),
                1,
                "s2c".to_string(),
                32
            ),
        ]
    );
}

#[test]
fn frame_headers_are_consistent() {
    // header_len follows from the length form and the mask; opname from the opcode
    for name in FILES {
        for e in of(&evs(name), "ws_frame") {
            let h = u(&e["header_len"]);
            let m = if e["masked"] == true { 4 } else { 0 };
            assert!(
                [2 + m, 4 + m, 10 + m].contains(&h),
                "{name}: header_len {h}: {e}"
            );
            let want = match u(&e["opcode"]) {
                0 => "continuation",
                1 => "text",
                2 => "binary",
                8 => "close",
                9 => "ping",
                10 => "pong",
                _ => "reserved",
            };
            assert_eq!(s(&e["opname"]), want, "{name}: {e}");
            assert!(u(&e["rsv"]) <= 7, "{name}: {e}");
        }
    }
}

// ------------------------------------------------------------------ crafted-basic and its variants

const BIG_TEXT_START: &str = "line 0000: the quick brown fox jumps over the lazy dog";

/// crafted-basic's frames: text both ways, 16-byte binary, 300-byte server binary, ping/pong,
/// 3.3 KB server text, text, close 1000 "bye" both ways.
const BASIC_FRAMES: &[F] = &[
    (0, "c2s", 1, true, 0, 12),
    (0, "s2c", 1, true, 0, 12),
    (0, "c2s", 2, true, 0, 16),
    (0, "s2c", 2, true, 0, 300),
    (0, "c2s", 9, true, 0, 6),
    (0, "s2c", 10, true, 0, 6),
    (0, "s2c", 1, true, 0, 3300),
    (0, "c2s", 1, true, 0, 6),
    (0, "c2s", 8, true, 0, 5),
    (0, "s2c", 8, true, 0, 5),
];

const BASIC_MESSAGES: &[M] = &[
    (0, "c2s", "text", 1, 12, "hello server"),
    (0, "s2c", "text", 1, 12, "hello client"),
    (
        0,
        "c2s",
        "binary",
        1,
        16,
        "000102030405060708090a0b0c0d0e0f",
    ),
    (
        0,
        "s2c",
        "binary",
        1,
        300,
        "000102030405060708090a0b0c0d0e0f10",
    ),
    (0, "s2c", "text", 1, 3300, "line 0000: the quick brown fox"),
    (0, "c2s", "text", 1, 6, "thanks"),
];

#[test]
fn crafted_basic_reference_conversation() {
    let name = "crafted-basic.pcap";
    let e = evs(name);
    let open = of(&e, "conn_open");
    assert_eq!(open.len(), 1);
    assert_eq!(open[0]["client"], "10.0.0.1:50000");
    assert_eq!(open[0]["server"], "10.0.0.2:8080");
    assert_eq!(open[0]["mid_stream"], false);
    // first packet at 2023-11-14 22:13:20 UTC
    assert_eq!(open[0]["ts"].as_f64(), Some(1_700_000_000.0));
    let steps: Vec<&str> = of(&e, "tcp_handshake")
        .iter()
        .map(|h| s(&h["step"]))
        .collect();
    assert_eq!(steps, ["syn", "syn_ack", "ack"]);
    let req = of(&e, "http_request");
    assert_eq!(req.len(), 1);
    assert_eq!(
        (s(&req[0]["method"]), s(&req[0]["target"])),
        ("GET", "/chat")
    );
    let hs = of(&e, "ws_handshake");
    assert_eq!(hs.len(), 1);
    let key = s(&hs[0]["key"]);
    assert_eq!(hs[0]["accept"], accept_for(key).as_str());
    assert_eq!(hs[0]["expected_accept"], accept_for(key).as_str());
    assert_eq!(hs[0]["accept_ok"], true);
    assert_eq!(hs[0]["ok"], true);
    assert_eq!(hs[0]["version"], "13");
    assert_frames(name, &e, BASIC_FRAMES);
    assert_messages(name, &e, BASIC_MESSAGES);
    // the 16-bit length forms
    let f = of(&e, "ws_frame");
    assert_eq!(u(&f[3]["header_len"]), 4);
    assert_eq!(u(&f[6]["header_len"]), 4);
    assert_eq!(
        s(&f[6]["payload_hex"]),
        hex(&BIG_TEXT_START.as_bytes()[..32])
    );
    assert_eq!(f[4]["payload_hex"], hex(b"ping-1"));
    assert_eq!(f[5]["payload_hex"], hex(b"ping-1"));
    for c in [&f[8], &f[9]] {
        assert_eq!((u(&c["close_code"]), s(&c["close_reason"])), (1000, "bye"));
    }
    // the 3.3 KB frame completes in the third of its segments (pkt 20, 21, 22)
    assert_eq!(u(&f[6]["pkt"]), 22);
    assert_eq!(
        closes(&e),
        [close(0, Some("c2s"), Some(1000), "bye", true, true)]
    );
    // the server closes TCP first
    assert_eq!(first_teardown(&e, 0), ("s2c".into(), "fin".into()));
    assert!(gaps(&e).is_empty());
}

#[test]
fn link_and_file_format_variants_match_crafted_basic() {
    // byte-identical TCP payloads: the same events, apart from the addresses for IPv6
    let basic = evs("crafted-basic.pcap");
    for name in [
        "crafted-basic.pcapng",
        "crafted-basic-bigendian-nsec.pcap",
        "crafted-linktype-sll2.pcap",
        "crafted-linktype-null.pcap",
        "crafted-linktype-raw.pcap",
        "crafted-vlan.pcap",
        "crafted-qinq.pcap",
    ] {
        assert_eq!(evs(name), basic, "{name}");
    }
    let v6 = evs("crafted-ipv6.pcap");
    assert_eq!(without_addresses(&v6), without_addresses(&basic));
    let open = of(&v6, "conn_open");
    assert_eq!(open[0]["client"], "[fd00::1]:50000");
    assert_eq!(open[0]["server"], "[fd00::2]:8080");
}

#[test]
fn seq_wrap_decodes_like_crafted_basic() {
    // same conversation, ISNs just below 2^32: both directions wrap mid-stream
    let name = "crafted-tcp-seq-wrap.pcap";
    let e = evs(name);
    assert_frames(name, &e, BASIC_FRAMES);
    assert_messages(name, &e, BASIC_MESSAGES);
    assert_eq!(of(&e, "ws_handshake")[0]["ok"], true);
    assert_eq!(
        closes(&e),
        [close(0, Some("c2s"), Some(1000), "bye", true, true)]
    );
    assert!(gaps(&e).is_empty());
    let basic = evs("crafted-basic.pcap");
    let pkts = |v: &[Value]| -> Vec<u64> { v.iter().map(|e| u(&e["pkt"])).collect() };
    assert_eq!(pkts(&e), pkts(&basic), "same events in the same packets");
}

// ------------------------------------------------------------------ TCP troubles

#[test]
fn out_of_order_segments_are_reassembled() {
    let name = "crafted-tcp-out-of-order.pcap";
    let e = evs(name);
    assert_frames(
        name,
        &e,
        &[
            (0, "c2s", 1, true, 0, 19),
            (0, "s2c", 1, true, 0, 3300),
            (0, "c2s", 1, true, 0, 11),
            (0, "c2s", 1, true, 0, 12),
            (0, "s2c", 1, true, 0, 8),
            (0, "c2s", 8, true, 0, 5),
            (0, "s2c", 8, true, 0, 5),
        ],
    );
    assert_messages(
        name,
        &e,
        &[
            (0, "c2s", "text", 1, 19, "send me the big one"),
            (0, "s2c", "text", 1, 3300, BIG_TEXT_START),
            (0, "c2s", "text", 1, 11, "first frame"),
            (0, "c2s", "text", 1, 12, "second frame"),
            (0, "s2c", "text", 1, 8, "got both"),
        ],
    );
    // the big frame completes with segment 2, captured last (pkt 12); both client frames
    // with the late first segment (pkt 15)
    let f = of(&e, "ws_frame");
    assert_eq!(u(&f[1]["pkt"]), 12);
    assert_eq!((u(&f[2]["pkt"]), u(&f[3]["pkt"])), (15, 15));
    assert!(gaps(&e).is_empty());
    assert_eq!(
        closes(&e),
        [close(0, Some("c2s"), Some(1000), "bye", true, true)]
    );
}

#[test]
fn retransmissions_are_decoded_once() {
    let name = "crafted-tcp-retransmission.pcap";
    let e = evs(name);
    assert_eq!(of(&e, "http_response").len(), 1, "the 101 sent twice");
    assert_eq!(of(&e, "ws_handshake").len(), 1);
    assert_eq!(of(&e, "ws_handshake")[0]["ok"], true);
    assert_frames(
        name,
        &e,
        &[
            (0, "c2s", 1, true, 0, 12),
            (0, "s2c", 1, true, 0, 3300),
            (0, "c2s", 1, true, 0, 14),
            (0, "s2c", 1, true, 0, 3),
            (0, "c2s", 8, true, 0, 5),
            (0, "s2c", 8, true, 0, 5),
        ],
    );
    assert_messages(
        name,
        &e,
        &[
            (0, "c2s", "text", 1, 12, "hello server"),
            (0, "s2c", "text", 1, 3300, BIG_TEXT_START),
            (0, "c2s", "text", 1, 14, "are you there?"),
            (0, "s2c", "text", 1, 3, "yes"),
        ],
    );
    // the big frame's three segments are captured (pkt 11, 12, 13) before the middle one is
    // fast-retransmitted (pkt 16): it completes at pkt 13, and the copy changes nothing
    assert_eq!(u(&of(&e, "ws_frame")[1]["pkt"]), 13);
    assert!(gaps(&e).is_empty());
    assert_eq!(
        closes(&e),
        [close(0, Some("c2s"), Some(1000), "bye", true, true)]
    );
}

#[test]
fn overlaps_keep_the_first_copy() {
    let name = "crafted-tcp-overlap.pcap";
    let e = evs(name);
    assert_frames(
        name,
        &e,
        &[
            (0, "c2s", 1, true, 0, 12),
            (0, "s2c", 1, true, 0, 3300),
            (0, "c2s", 1, true, 0, 11),
            (0, "c2s", 1, true, 0, 11),
            (0, "s2c", 1, true, 0, 2),
            (0, "c2s", 8, true, 0, 5),
            (0, "s2c", 8, true, 0, 5),
        ],
    );
    // "XXXXX" in the overlapping copy would garble the end of overlap-one
    assert_messages(
        name,
        &e,
        &[
            (0, "c2s", "text", 1, 12, "hello server"),
            (0, "s2c", "text", 1, 3300, BIG_TEXT_START),
            (0, "c2s", "text", 1, 11, "overlap-one"),
            (0, "c2s", "text", 1, 11, "overlap-two"),
            (0, "s2c", "text", 1, 2, "ok"),
        ],
    );
    let m = messages(&e);
    assert_eq!(m[2].5, "overlap-one");
    assert_eq!(m[3].5, "overlap-two");
    assert!(gaps(&e).is_empty());
    assert_eq!(
        closes(&e),
        [close(0, Some("c2s"), Some(1000), "bye", true, true)]
    );
}

#[test]
fn coalesced_and_split_segments() {
    let name = "crafted-tcp-coalesced-split.pcap";
    let e = evs(name);
    assert_eq!(of(&e, "http_request").len(), 1, "request split mid-line");
    assert_frames(
        name,
        &e,
        &[
            (0, "s2c", 1, true, 0, 7),   // welcome, in the 101's segment
            (0, "s2c", 9, true, 0, 3),   // ping, same segment
            (0, "c2s", 10, true, 0, 3),  // pong
            (0, "c2s", 1, true, 0, 3),   // one
            (0, "c2s", 1, true, 0, 3),   // two
            (0, "c2s", 2, true, 0, 200), // finished in the next segment
            (0, "s2c", 1, true, 0, 33),  // header split after its first byte
            (0, "s2c", 2, true, 0, 300), // split inside the 16-bit length
            (0, "c2s", 1, true, 0, 28),  // split inside the masking key
            (0, "c2s", 1, false, 0, 1),  // a
            (0, "c2s", 0, false, 0, 1),  // b
            (0, "c2s", 0, true, 0, 1),   // c
            (0, "s2c", 1, true, 0, 10),  // last words
            (0, "s2c", 8, true, 0, 5),   // close, same segment
            (0, "c2s", 8, true, 0, 5),
        ],
    );
    assert_messages(
        name,
        &e,
        &[
            (0, "s2c", "text", 1, 7, "welcome"),
            (0, "c2s", "text", 1, 3, "one"),
            (0, "c2s", "text", 1, 3, "two"),
            (0, "c2s", "binary", 1, 200, "000102030405"),
            (0, "s2c", "text", 1, 33, "split after the first header byte"),
            (0, "s2c", "binary", 1, 300, "000000"),
            (0, "c2s", "text", 1, 28, "split inside the masking key"),
            (0, "c2s", "text", 3, 3, "abc"),
            (0, "s2c", "text", 1, 10, "last words"),
        ],
    );
    // 101 + text + ping in one packet; three client frames in one packet
    let hs = u(&of(&e, "ws_handshake")[0]["pkt"]);
    let f = of(&e, "ws_frame");
    assert_eq!((u(&f[0]["pkt"]), u(&f[1]["pkt"])), (hs, hs));
    assert_eq!(u(&f[3]["pkt"]), u(&f[4]["pkt"]));
    assert_eq!(u(&f[5]["pkt"]), u(&f[4]["pkt"]) + 1);
    assert_eq!(u(&f[9]["pkt"]), u(&f[11]["pkt"]));
    assert_eq!(u(&f[12]["pkt"]), u(&f[13]["pkt"]));
    assert!(gaps(&e).is_empty());
    assert_eq!(
        closes(&e),
        [close(0, Some("s2c"), Some(1000), "bye", true, true)]
    );
}

#[test]
fn gaps_are_reported_and_decoding_resumes() {
    let name = "crafted-tcp-gap.pcap";
    let e = evs(name);
    let mut g = gaps(&e);
    g.sort();
    // the 3.3 KB frame's middle segment (1448 bytes); a whole client frame (2 + 4 + 27)
    assert_eq!(g, [(0, "c2s".into(), 33), (0, "s2c".into(), 1448)]);
    let m = messages(&e);
    let texts =
        |d: &str| -> Vec<String> { m.iter().filter(|x| x.1 == d).map(|x| x.5.clone()).collect() };
    assert_eq!(
        texts("c2s"),
        ["hello server", "still here", "but this one was"]
    );
    // the big message is lost, decoding resumes exactly at the next frame
    assert_eq!(texts("s2c"), ["after the gap", "ack"]);
    // the frame with the hole is still reported with its full length
    assert!(frames(&e)
        .iter()
        .any(|f| f.1 == "s2c" && f.2 == 1 && f.5 == 3300));
    let c = closes(&e);
    assert_eq!(c.len(), 1);
    assert_eq!((c[0].1.as_deref(), c[0].2), (Some("c2s"), Some(1000)));
}

#[test]
fn gap_does_not_hold_back_what_follows() {
    let e = evs("crafted-tcp-gap.pcap");
    let fin = u(&of(&e, "tcp_teardown")[0]["pkt"]);
    for m in of(&e, "ws_message") {
        assert!(u(&m["pkt"]) < fin, "message after the FIN: {m}");
    }
    // "after the gap" travels in pkt 13; the client's ACK in pkt 12 already covers the hole
    // (the host got those bytes, the capture did not), so nothing needs to wait for them
    let after = of(&e, "ws_message")
        .into_iter()
        .find(|m| m["preview"] == "after the gap")
        .unwrap();
    assert_eq!(u(&after["pkt"]), 13);
    assert_eq!(
        closes(&e),
        [close(0, Some("c2s"), Some(1000), "bye", true, true)]
    );
}

#[test]
fn midstream_capture() {
    let name = "crafted-midstream.pcap";
    let e = evs(name);
    let open = of(&e, "conn_open");
    assert_eq!(open.len(), 1);
    assert_eq!(open[0]["mid_stream"], true);
    // the first packet comes from the server; the client is the side whose frames are masked
    assert_eq!(open[0]["client"], "10.0.0.1:50015");
    assert_eq!(open[0]["server"], "10.0.0.2:8080");
    for k in [
        "tcp_handshake",
        "http_request",
        "http_response",
        "ws_handshake",
    ] {
        assert!(of(&e, k).is_empty(), "{name}: no {k} expected");
    }
    for f in of(&e, "ws_frame") {
        assert_eq!(f["mid_stream"], true, "{f}");
    }
    assert_frames(
        name,
        &e,
        &[
            (0, "s2c", 1, true, 0, 11),
            (0, "c2s", 1, true, 0, 10),
            (0, "s2c", 1, true, 0, 11),
            (0, "c2s", 2, true, 0, 40),
            (0, "s2c", 9, true, 0, 9),
            (0, "c2s", 10, true, 0, 9),
            (0, "s2c", 1, true, 0, 11),
            (0, "c2s", 8, true, 0, 5),
            (0, "s2c", 8, true, 0, 5),
        ],
    );
    assert_messages(
        name,
        &e,
        &[
            (0, "s2c", "text", 1, 11, "{\"tick\":41}"),
            (0, "c2s", "text", 1, 10, "{\"ack\":41}"),
            (0, "s2c", "text", 1, 11, "{\"tick\":42}"),
            (0, "c2s", "binary", 1, 40, "000102030405"),
            (0, "s2c", "text", 1, 11, "{\"tick\":43}"),
        ],
    );
    // the very first packet is decoded
    assert_eq!(u(&of(&e, "ws_frame")[0]["pkt"]), 1);
    assert_eq!(
        closes(&e),
        [close(0, Some("c2s"), Some(1000), "bye", true, true)]
    );
    assert_eq!(first_teardown(&e, 0), ("s2c".into(), "fin".into()));
}

#[test]
fn snaplen96_reports_gaps() {
    let name = "crafted-snaplen96.pcap";
    let out = common::run(&["print", "--json", "-r", cap(name).to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let e = evs(name);
    // 54 header bytes + 42 payload bytes captured per packet: what is missing is reported
    // (request 187 B, 101 129 B, 300 B binary 304 B, 3.3 KB text 1448 + 1448 + 408 B)
    assert_eq!(
        gaps(&e),
        [
            (0, "c2s".into(), 187 - 42),
            (0, "s2c".into(), 129 - 42),
            (0, "s2c".into(), 304 - 42),
            (0, "s2c".into(), 1448 - 42),
            (0, "s2c".into(), 1448 - 42),
            (0, "s2c".into(), 408 - 42),
        ]
    );
    let steps: Vec<&str> = of(&e, "tcp_handshake")
        .iter()
        .map(|h| s(&h["step"]))
        .collect();
    assert_eq!(steps, ["syn", "syn_ack", "ack"]);
    assert_eq!(first_teardown(&e, 0), ("s2c".into(), "fin".into()));
    // nothing is made up from the cut Upgrade
    assert!(of(&e, "ws_handshake").is_empty());
    assert!(of(&e, "http_request").is_empty());
}

#[test]
fn damaged_files_report_what_precedes_the_damage() {
    let basic = evs("crafted-basic.pcap");
    let before: Vec<Value> = basic
        .iter()
        .filter(|e| u(&e["pkt"]) <= 11)
        .cloned()
        .collect();
    assert!(!before.is_empty());
    for name in ["damaged-truncated.pcap", "damaged-bad-record-length.pcap"] {
        for args in [
            &["print", "--json", "-r"][..],
            &["print", "-r"][..],
            &["stats", "-r"][..],
            &["stats", "--json", "-r"][..],
        ] {
            let mut a = args.to_vec();
            let p = cap(name);
            a.push(p.to_str().unwrap());
            let out = common::run(&a);
            assert_eq!(out.status.code(), Some(0), "{name} {args:?}");
            let err = String::from_utf8_lossy(&out.stderr);
            let lines: Vec<&str> = err.lines().collect();
            assert_eq!(lines.len(), 1, "{name} {args:?}: one warning line: {err}");
            assert!(lines[0].contains("warning"), "{name}: {err}");
            assert!(
                lines[0].contains("packet 11"),
                "{name}: names where it stopped: {err}"
            );
        }
        // exactly crafted-basic's events of the 11 good packets; no made-up close
        assert_eq!(evs(name), before, "{name}");
    }
}

// ------------------------------------------------------------------ handshakes

#[test]
fn handshake_bad_accept() {
    let name = "crafted-handshake-bad-accept.pcap";
    let e = evs(name);
    let hs = of(&e, "ws_handshake");
    assert_eq!(hs.len(), 2);
    for h in &hs {
        assert_eq!(h["ok"], false, "{h}");
        assert_eq!(h["accept_ok"], false, "{h}");
        assert_eq!(u(&h["status"]), 101);
        assert_eq!(h["expected_accept"], accept_for(s(&h["key"])).as_str());
        assert_ne!(h["accept"], h["expected_accept"]);
    }
    assert_eq!(hs[0]["accept"], "AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    assert_eq!(hs[1]["accept"], "dGhlIHNhbXBsZSBub25jZQ==");
    // conn 0: the client gives up at once, FIN and no frames
    assert!(of_conn(&e, "ws_frame", 0).is_empty());
    assert_eq!(first_teardown(&e, 0), ("c2s".into(), "fin".into()));
    // conn 1: a lenient client carries on
    assert_frames(
        name,
        &of_conn(&e, "ws_frame", 1)
            .into_iter()
            .cloned()
            .collect::<Vec<_>>(),
        &[
            (1, "c2s", 1, true, 0, 12),
            (1, "s2c", 1, true, 0, 12),
            (1, "c2s", 2, true, 0, 16),
            (1, "s2c", 2, true, 0, 300),
            (1, "c2s", 9, true, 0, 6),
            (1, "s2c", 10, true, 0, 6),
            (1, "c2s", 1, true, 0, 6),
            (1, "c2s", 8, true, 0, 5),
            (1, "s2c", 8, true, 0, 5),
        ],
    );
    assert_eq!(
        closes(&e),
        [
            close(0, None, Some(1006), "", false, false),
            close(1, Some("c2s"), Some(1000), "bye", true, true),
        ]
    );
}

#[test]
fn handshake_without_connection_upgrade() {
    let name = "crafted-handshake-no-connection-upgrade.pcap";
    let e = evs(name);
    let req = of(&e, "http_request");
    assert_eq!(req.len(), 2);
    assert_eq!(header(req[0], "Connection"), None);
    assert_eq!(header(req[1], "Connection"), Some("keep-alive"));
    let hs = of(&e, "ws_handshake");
    assert_eq!(hs.len(), 2);
    for h in hs {
        assert_eq!(
            (&h["ok"], &h["accept_ok"]),
            (&Value::Bool(true), &Value::Bool(true))
        );
    }
    for c in 0..2 {
        assert_eq!(of_conn(&e, "ws_frame", c).len(), 9, "conn {c}");
        assert_eq!(of_conn(&e, "ws_message", c).len(), 5, "conn {c}");
    }
    assert_eq!(
        closes(&e),
        [
            close(0, Some("c2s"), Some(1000), "bye", true, true),
            close(1, Some("c2s"), Some(1000), "bye", true, true),
        ]
    );
}

#[test]
fn handshake_version_8() {
    let name = "crafted-handshake-version-8.pcap";
    let e = evs(name);
    let hs = of(&e, "ws_handshake");
    assert_eq!(hs.len(), 2);
    assert_eq!(hs[0]["version"], "8");
    assert_eq!(hs[1]["version"], "8");
    // refused with 426, no frames
    assert_eq!(
        (&hs[0]["ok"], u(&hs[0]["status"])),
        (&Value::Bool(false), 426)
    );
    let resp = of_conn(&e, "http_response", 0);
    assert_eq!(u(&resp[0]["status"]), 426);
    assert_eq!(header(resp[0], "Sec-WebSocket-Version"), Some("13"));
    assert!(of_conn(&e, "ws_frame", 0).is_empty());
    assert!(of_conn(&e, "ws_close", 0).is_empty());
    // accepted by a lenient server
    assert_eq!(
        (&hs[1]["ok"], u(&hs[1]["status"])),
        (&Value::Bool(true), 101)
    );
    assert_eq!(hs[1]["accept_ok"], true);
    assert_eq!(of_conn(&e, "ws_frame", 1).len(), 9);
    assert_eq!(
        closes(&e),
        [close(1, Some("c2s"), Some(1000), "bye", true, true)]
    );
}

#[test]
fn refused_426() {
    let name = "python-websockets-refused-426.pcap";
    let e = evs(name);
    let hs = of(&e, "ws_handshake");
    assert_eq!(hs.len(), 1);
    assert_eq!(hs[0]["ok"], false);
    assert_eq!(hs[0]["accept_ok"], false);
    assert_eq!(u(&hs[0]["status"]), 426);
    assert!(hs[0]["accept"].is_null());
    let resp = of(&e, "http_response");
    assert_eq!(resp.len(), 1);
    assert_eq!(s(&resp[0]["reason"]), "Upgrade Required");
    assert_eq!(header(resp[0], "Sec-WebSocket-Version"), Some("13"));
    assert_eq!(header(resp[0], "Connection"), Some("close"));
    assert_eq!(s(&of(&e, "http_request")[0]["target"]), "/v12-only");
    for k in ["ws_frame", "ws_message", "ws_close"] {
        assert!(of(&e, k).is_empty(), "{name}: no {k}");
    }
    assert_eq!(first_teardown(&e, 0), ("s2c".into(), "fin".into()));
}

#[test]
fn client_rst_is_an_abnormal_closure() {
    let name = "python-websockets-client-rst.pcap";
    let e = evs(name);
    assert_eq!(of(&e, "ws_handshake")[0]["ok"], true);
    assert_messages(
        name,
        &e,
        &[
            (0, "c2s", "text", 1, 27, "last words before the reset"),
            (0, "s2c", "text", 1, 27, "last words before the reset"),
        ],
    );
    assert!(frames(&e).iter().all(|f| f.2 != 8), "no close frame");
    assert_eq!(closes(&e), [close(0, None, Some(1006), "", false, false)]);
    let td = of(&e, "tcp_teardown");
    assert_eq!(td.len(), 1, "{td:?}");
    assert_eq!((s(&td[0]["how"]), s(&td[0]["dir"])), ("rst", "c2s"));
    assert!(td[0].get("step").is_none());
}

// ------------------------------------------------------------------ live WebSocket peers

/// The python websockets tour (peers.py ws_tour): each client message and its echo.
/// `big`: the big binary's size and the server's answer to it.
fn python_tour(big: (u64, &'static str)) -> Vec<M> {
    let emoji = "émoji ✓ 日本語";
    let mut m: Vec<M> = Vec::new();
    let both = |m: &mut Vec<M>, kind, c2s_frames, len, p| {
        m.push((0, "c2s", kind, c2s_frames, len, p));
        m.push((0, "s2c", kind, 1, len, p));
    };
    both(&mut m, "text", 1, 21, "hello from the client");
    both(&mut m, "binary", 1, 11, "0001020362696e617279ff");
    both(&mut m, "text", 1, 2000, "");
    both(&mut m, "binary", 1, 5000, "");
    m.push((0, "c2s", "binary", 1, big.0, ""));
    m.push((0, "s2c", "text", 1, big.1.len() as u64, big.1));
    both(&mut m, "text", 4, 28, "frag-one frag-two frag-three");
    both(&mut m, "binary", 3, 4, "10111213");
    both(&mut m, "text", 1, emoji.len() as u64, emoji);
    m
}

fn check_python_tour(name: &str, big: (u64, &'static str), deflate: bool) -> Vec<Value> {
    let e = evs(name);
    let hs = of(&e, "ws_handshake");
    assert_eq!(hs.len(), 1);
    assert_eq!(hs[0]["ok"], true);
    assert_eq!(s(&of(&e, "http_request")[0]["target"]), "/tour");
    let ext: Vec<&str> = hs[0]["extensions"]
        .as_array()
        .unwrap()
        .iter()
        .map(s)
        .collect();
    if deflate {
        assert_eq!(
            ext,
            ["permessage-deflate; server_max_window_bits=12; client_max_window_bits=12"]
        );
    } else {
        assert!(ext.is_empty(), "{ext:?}");
    }
    assert_messages(name, &e, &python_tour(big));
    for m in of(&e, "ws_message") {
        assert_eq!(m["compressed"], deflate, "{name}: {m}");
        if deflate {
            assert!(m["compressed_len"].is_u64(), "{m}");
        }
    }
    // each echo carries the bytes it was sent: same preview both ways
    let m = messages(&e);
    for pair in [(0, 1), (2, 3), (4, 5), (6, 7), (10, 11), (12, 13), (14, 15)] {
        assert_eq!(m[pair.0].5, m[pair.1].5, "{name}: {pair:?}");
    }
    // RSV1 on the first frame of each compressed message only; never on control frames
    let mut in_msg = false;
    for f in of(&e, "ws_frame") {
        let op = u(&f["opcode"]);
        let want_rsv = if deflate && (op == 1 || op == 2) {
            4
        } else {
            0
        };
        assert_eq!(u(&f["rsv"]), want_rsv, "{name}: {f}");
        if op == 0 {
            assert!(in_msg, "{f}");
        }
        if op <= 2 {
            in_msg = f["fin"] == false;
        }
    }
    // the fragmented messages: text 3 frames + an empty FIN continuation, binary 2 + empty
    let frag: Vec<u64> = frames(&e)
        .iter()
        .filter(|f| f.1 == "c2s" && (f.2 == 0 || !f.3))
        .map(|f| f.2)
        .collect();
    assert_eq!(frag, [1, 0, 0, 0, 2, 0, 0]);
    // ping/pong "ping-1"
    let pp: Vec<(String, String)> = of(&e, "ws_frame")
        .iter()
        .filter(|f| f["opcode"] == 9 || f["opcode"] == 10)
        .map(|f| (s(&f["dir"]).to_string(), s(&f["payload_hex"]).to_string()))
        .collect();
    assert_eq!(
        pp,
        [
            ("c2s".into(), hex(b"ping-1")),
            ("s2c".into(), hex(b"ping-1"))
        ]
    );
    assert_eq!(
        closes(&e),
        [close(
            0,
            Some("c2s"),
            Some(1000),
            "tour finished",
            true,
            true
        )]
    );
    e
}

#[test]
fn python_websockets_deflate() {
    let name = "python-websockets-deflate.pcap";
    let e = check_python_tour(name, (1 << 20, "got 1048576 bytes"), true);
    // the 1 MiB random message does not compress: still a 64-bit length (masked: 14 bytes)
    let big = of(&e, "ws_frame")
        .into_iter()
        .find(|f| u(&f["len"]) > 65535)
        .expect("the big frame");
    assert_eq!(u(&big["header_len"]), 14);
    assert_eq!(big["dir"], "c2s");
    // the hex text stays in the 16-bit form even compressed
    let f = of(&e, "ws_frame");
    assert_eq!(u(&f[4]["header_len"]), 8);
    assert!(u(&f[4]["len"]) < 2000 && u(&f[4]["len"]) >= 126);
    // a fragmented compressed message: 4 frames, one inflation of the whole
    let frag = of(&e, "ws_message")
        .into_iter()
        .find(|m| m["frames"] == 4)
        .unwrap();
    assert_eq!(u(&frag["len"]), 28);
    // the payloads come from a fixed seed: the same previews as without compression
    let plain = messages(&evs("python-websockets-nocompress.pcap"));
    let m = messages(&e);
    for i in [4, 6] {
        assert_eq!(m[i].5, plain[i].5, "message {i}");
    }
}

#[test]
fn python_websockets_nocompress() {
    let name = "python-websockets-nocompress.pcap";
    let e = check_python_tour(name, (70000, "got 70000 bytes"), false);
    let lens: Vec<u64> = frames(&e)
        .iter()
        .filter(|f| f.1 == "c2s" && (f.2 == 0 || !f.3))
        .map(|f| f.5)
        .collect();
    assert_eq!(lens, [9, 9, 10, 0, 2, 2, 0], "fragment sizes as sent");
    let big = of(&e, "ws_frame")
        .into_iter()
        .find(|f| u(&f["len"]) == 70000)
        .expect("the 70000-byte frame");
    assert_eq!(u(&big["header_len"]), 14);
}

const NODE_TEXT_350: &str = "xxxxxxxxxx";

fn node_messages() -> Vec<M> {
    vec![
        (0, "c2s", "text", 1, 18, "hello from node ws"),
        (0, "s2c", "text", 1, 18, "hello from node ws"),
        (0, "c2s", "binary", 1, 8, "deadbeef00010203"),
        (0, "s2c", "binary", 1, 8, "deadbeef00010203"),
        (0, "c2s", "text", 1, 350, NODE_TEXT_350),
        (0, "s2c", "text", 1, 350, NODE_TEXT_350),
        (0, "c2s", "text", 1, 14, "please ping me"),
        (0, "s2c", "text", 1, 14, "please ping me"),
    ]
}

fn check_node(name: &str, deflate: bool) -> Vec<Value> {
    let e = evs(name);
    assert_eq!(
        ("x".repeat(300) + " (300 repeated x, 16-bit length unless compressed)").len(),
        350
    );
    let hs = of(&e, "ws_handshake");
    assert_eq!(hs[0]["ok"], true);
    let ext: Vec<&str> = hs[0]["extensions"]
        .as_array()
        .unwrap()
        .iter()
        .map(s)
        .collect();
    if deflate {
        assert_eq!(ext, ["permessage-deflate"]);
    } else {
        assert!(ext.is_empty());
    }
    assert_messages(name, &e, &node_messages());
    for m in of(&e, "ws_message") {
        assert_eq!(m["compressed"], deflate, "{name}: {m}");
    }
    for f in of(&e, "ws_frame") {
        let data = matches!(u(&f["opcode"]), 1 | 2);
        assert_eq!(
            u(&f["rsv"]),
            if deflate && data { 4 } else { 0 },
            "{name}: {f}"
        );
    }
    // client ping "node-ping" answered; server ping "server-ping" answered by the client
    let pp: Vec<(String, u64, String)> = of(&e, "ws_frame")
        .iter()
        .filter(|f| f["opcode"] == 9 || f["opcode"] == 10)
        .map(|f| {
            (
                s(&f["dir"]).to_string(),
                u(&f["opcode"]),
                s(&f["payload_hex"]).to_string(),
            )
        })
        .collect();
    assert_eq!(
        pp,
        [
            ("c2s".into(), 9, hex(b"node-ping")),
            ("s2c".into(), 10, hex(b"node-ping")),
            ("s2c".into(), 9, hex(b"server-ping")),
            ("c2s".into(), 10, hex(b"server-ping")),
        ]
    );
    assert_eq!(
        closes(&e),
        [close(0, Some("c2s"), Some(1001), "going away", true, true)]
    );
    e
}

#[test]
fn node_ws_basic_and_any_sll2() {
    let basic = check_node("node-ws-basic.pcap", false);
    let sll2 = check_node("node-ws-any-sll2.pcap", false);
    // another run of the same script: the same frames and messages
    assert_eq!(frames(&sll2), frames(&basic));
    assert_eq!(messages(&sll2), messages(&basic));
    // the 350-byte text: 16-bit length form
    let f = of(&basic, "ws_frame")
        .into_iter()
        .find(|f| u(&f["len"]) == 350)
        .unwrap();
    assert_eq!(u(&f["header_len"]), 8);
}

#[test]
fn node_ws_deflate() {
    let e = check_node("node-ws-deflate.pcap", true);
    // the 350-byte text compresses far below 126: 7-bit length on the wire
    let m = of(&e, "ws_message")
        .into_iter()
        .find(|m| u(&m["len"]) == 350 && m["dir"] == "c2s")
        .unwrap();
    assert!(u(&m["compressed_len"]) < 126, "{m}");
}

#[test]
fn chromium_python_websockets() {
    let name = "chromium-python-websockets.pcap";
    let e = evs(name);
    let req = of(&e, "http_request");
    assert_eq!(req.len(), 1);
    assert_eq!(s(&req[0]["target"]), "/browser");
    assert_eq!(header(req[0], "Origin"), Some("http://127.0.0.1:20107"));
    assert!(header(req[0], "User-Agent").is_some_and(|ua| ua.contains("Chrome")));
    let hs = of(&e, "ws_handshake");
    assert_eq!(hs[0]["ok"], true);
    let ext: Vec<&str> = hs[0]["extensions"]
        .as_array()
        .unwrap()
        .iter()
        .map(s)
        .collect();
    assert_eq!(
        ext,
        ["permessage-deflate; server_max_window_bits=12; client_max_window_bits=12"]
    );
    let longer = format!(
        "a longer message from the browser: {}",
        "abcdefghij".repeat(30)
    );
    let json = r#"{"type":"subscribe","channel":"ticks"}"#;
    let want: Vec<(String, String, u64, String)> = vec![
        (
            "c2s".into(),
            "text".into(),
            19,
            "hello from chromium".into(),
        ),
        (
            "s2c".into(),
            "text".into(),
            25,
            "echo: hello from chromium".into(),
        ),
        (
            "c2s".into(),
            "text".into(),
            longer.len() as u64,
            longer[..30].into(),
        ),
        (
            "s2c".into(),
            "text".into(),
            6 + longer.len() as u64,
            format!("echo: {}", &longer[..24]),
        ),
        ("c2s".into(), "binary".into(), 8, "0102030405fafbfc".into()),
        ("s2c".into(), "binary".into(), 8, "0102030405fafbfc".into()),
        ("c2s".into(), "text".into(), json.len() as u64, json.into()),
        (
            "s2c".into(),
            "text".into(),
            6 + json.len() as u64,
            format!("echo: {json}"),
        ),
    ];
    let got = messages(&e);
    assert_eq!(got.len(), want.len(), "{got:?}");
    for (g, w) in got.iter().zip(&want) {
        assert_eq!((&g.1, &g.2, g.4), (&w.0, &w.1, w.2), "{g:?}");
        assert!(g.5.starts_with(&w.3), "{g:?} vs {w:?}");
    }
    for m in of(&e, "ws_message") {
        assert_eq!(m["compressed"], true, "{m}");
    }
    assert_eq!(
        closes(&e),
        [close(0, Some("c2s"), Some(1000), "page done", true, true)]
    );
}

#[test]
fn no_decompression_trouble_in_deflate_captures() {
    // every compressed message inflates to what was sent: no violation of any kind and
    // compressed_len equals the frames' payload lengths summed
    for name in [
        "python-websockets-deflate.pcap",
        "node-ws-deflate.pcap",
        "chromium-python-websockets.pcap",
    ] {
        let e = evs(name);
        assert!(of(&e, "violation").is_empty(), "{name}");
        let mut pending: BTreeMap<String, u64> = BTreeMap::new();
        for ev in &e {
            match s(&ev["event"]) {
                "ws_frame" if u(&ev["opcode"]) <= 2 => {
                    *pending.entry(s(&ev["dir"]).to_string()).or_default() += u(&ev["len"]);
                }
                "ws_message" => {
                    let d = s(&ev["dir"]).to_string();
                    let wire = pending.remove(&d).unwrap_or(0);
                    assert_eq!(u(&ev["compressed_len"]), wire, "{name}: {ev}");
                }
                _ => {}
            }
        }
    }
}

// ------------------------------------------------------------------ HTTP for comparison

#[test]
fn http_short_polling() {
    let e = evs("http-short-polling.pcap");
    let req = of(&e, "http_request");
    let resp = of(&e, "http_response");
    assert_eq!(req.len(), 10);
    assert_eq!(resp.len(), 10);
    for r in &req {
        assert_eq!((s(&r["method"]), s(&r["target"])), ("GET", "/status"));
    }
    for r in &resp {
        assert_eq!(u(&r["status"]), 200);
        assert_eq!(header(r, "Content-Type"), Some("application/json"));
    }
    assert_eq!(of(&e, "conn_open").len(), 1, "one keep-alive connection");
    assert!(of(&e, "ws_handshake").is_empty());
    assert_eq!(first_teardown(&e, 0), ("c2s".into(), "fin".into()));
}

#[test]
fn http_long_polling() {
    let e = evs("http-long-polling.pcap");
    let targets: Vec<&str> = of(&e, "http_request")
        .iter()
        .map(|r| s(&r["target"]))
        .collect();
    assert_eq!(
        targets,
        (0..5)
            .map(|i| format!("/events?since={i}"))
            .collect::<Vec<_>>()
    );
    let resp = of(&e, "http_response");
    assert_eq!(resp.len(), 5);
    // each response held 300..700 ms after its request
    let req = of(&e, "http_request");
    for (q, r) in req.iter().zip(&resp) {
        assert_eq!(u(&r["status"]), 200);
        let held = r["ts"].as_f64().unwrap() - q["ts"].as_f64().unwrap();
        assert!((0.25..0.8).contains(&held), "held {held} s");
    }
    assert_eq!(of(&e, "conn_open").len(), 1);
}

#[test]
fn http_sse() {
    let e = evs("http-sse.pcap");
    let req = of(&e, "http_request");
    assert_eq!(req.len(), 1);
    assert_eq!(s(&req[0]["target"]), "/stream");
    let resp = of(&e, "http_response");
    assert_eq!(resp.len(), 1);
    assert_eq!(u(&resp[0]["status"]), 200);
    assert_eq!(header(resp[0], "Content-Type"), Some("text/event-stream"));
    assert_eq!(header(resp[0], "Content-Length"), None);
    assert_eq!(first_teardown(&e, 0), ("s2c".into(), "fin".into()));
    assert!(of(&e, "ws_frame").is_empty());
}

// ------------------------------------------------------------------ the offences themselves

#[test]
fn violation_files_close_as_described() {
    let pe = "protocol error";
    let iu = "invalid utf-8";
    let table: &[(&str, Vec<C>)] = &[
        (
            "crafted-violation-masking.pcap",
            vec![
                close(0, Some("s2c"), Some(1002), pe, true, true),
                close(1, Some("c2s"), Some(1002), pe, true, true),
            ],
        ),
        (
            "crafted-violation-opcode-rsv.pcap",
            (0..6)
                .map(|c| {
                    let who = if c == 1 || c == 3 { "c2s" } else { "s2c" };
                    close(c, Some(who), Some(1002), pe, true, true)
                })
                .collect(),
        ),
        (
            "crafted-violation-control.pcap",
            vec![
                close(0, Some("s2c"), Some(1002), pe, true, true),
                close(1, Some("s2c"), Some(1002), pe, true, true),
                // the oversized close's reason: the analyzer keeps the 125 payload bytes a control
                // frame may have (code + 123), a bounded buffer
                close(2, Some("s2c"), Some(1000), &"r".repeat(123), true, true),
                close(3, Some("s2c"), Some(1000), "all fine", true, true),
            ],
        ),
        (
            "crafted-violation-close.pcap",
            vec![
                close(0, Some("c2s"), Some(1005), "", true, true),
                close(1, Some("s2c"), Some(999), "below range", true, true),
                close(2, Some("c2s"), None, "", true, true),
                close(3, Some("c2s"), None, "", true, true),
                close(4, Some("c2s"), Some(1000), "done", true, true),
            ],
        ),
        (
            "crafted-violation-length.pcap",
            vec![
                close(0, Some("s2c"), Some(1002), pe, true, true),
                // the server never answers: its direction is stuck in the impossible frame
                close(1, Some("c2s"), Some(1002), "bad length", false, false),
            ],
        ),
    ];
    for (name, want) in table {
        assert_eq!(&closes(&evs(name)), want, "{name}");
    }
    // utf8: the close reason with invalid UTF-8 is shown made safe
    let c = closes(&evs("crafted-violation-utf8.pcap"));
    assert_eq!(c.len(), 4);
    for (i, who) in ["s2c", "c2s", "s2c"].iter().enumerate() {
        assert_eq!(c[i], close(i as u64, Some(who), Some(1007), iu, true, true));
    }
    assert_eq!((c[3].1.as_deref(), c[3].2), (Some("c2s"), Some(1000)));
    assert!(
        c[3].3.starts_with("bye ") && !c[3].3.contains('\u{ff}'),
        "{:?}",
        c[3]
    );
}

#[test]
fn violation_offences_are_decoded() {
    let e = evs("crafted-violation-opcode-rsv.pcap");
    let odd: Vec<(u64, String, u64, u64, String)> = of(&e, "ws_frame")
        .iter()
        .filter(|f| !matches!(u(&f["opcode"]), 1 | 2 | 8) || u(&f["rsv"]) != 0 || f["fin"] == false)
        .map(|f| {
            (
                u(&f["conn"]),
                s(&f["dir"]).to_string(),
                u(&f["opcode"]),
                u(&f["rsv"]),
                s(&f["opname"]).to_string(),
            )
        })
        .collect();
    assert_eq!(
        odd,
        [
            (0, "c2s".into(), 3, 0, "reserved".into()),
            (1, "s2c".into(), 11, 0, "reserved".into()),
            (2, "c2s".into(), 1, 4, "text".into()),
            (3, "s2c".into(), 2, 3, "binary".into()),
            (4, "c2s".into(), 0, 0, "continuation".into()),
            (5, "c2s".into(), 1, 0, "text".into()), // "part one ", FIN clear
        ]
    );

    // control: the legal interleaved ping gives one 2-frame message
    let e = evs("crafted-violation-control.pcap");
    let m: Vec<_> = messages(&e)
        .into_iter()
        .filter(|m| m.0 == 3 && m.1 == "c2s")
        .collect();
    assert_eq!(
        m.last().map(|m| (m.3, m.4, m.5.as_str())),
        Some((2, 13, "frag A frag B"))
    );
    let big_ping = of_conn(&e, "ws_frame", 0)
        .into_iter()
        .find(|f| f["opcode"] == 9)
        .unwrap();
    assert_eq!((u(&big_ping["len"]), u(&big_ping["header_len"])), (130, 8));

    // utf8: "€" split across two fragments is legal, the message ending mid-character is not
    let e = evs("crafted-violation-utf8.pcap");
    let m: Vec<_> = messages(&e)
        .into_iter()
        .filter(|m| m.0 == 1 && m.1 == "s2c")
        .collect();
    assert_eq!(m[1].3, 2);
    assert_eq!(m[1].5, "price: 5€ ok");
    let v = of_conn(&e, "violation", 1);
    let bad = of_conn(&e, "ws_message", 1)
        .into_iter()
        .find(|m| s(&m["preview"]).starts_with("truncated"))
        .unwrap();
    assert_eq!(
        u(&v[0]["pkt"]),
        u(&bad["pkt"]),
        "flagged on the bad message's packet"
    );

    // length: non-minimal forms are decoded with their real lengths; the impossible
    // 64-bit length yields no frame
    let e = evs("crafted-violation-length.pcap");
    let f: Vec<(String, u64, u64)> = of_conn(&e, "ws_frame", 0)
        .iter()
        .filter(|f| u(&f["opcode"]) != 8)
        .skip(2)
        .map(|f| (s(&f["dir"]).to_string(), u(&f["len"]), u(&f["header_len"])))
        .collect();
    assert_eq!(
        f,
        [
            ("c2s".into(), 5, 8),
            ("s2c".into(), 200, 10),
            ("c2s".into(), 300, 14)
        ]
    );
    assert!(of_conn(&e, "ws_frame", 1)
        .iter()
        .all(|f| f["dir"] == "c2s" || u(&f["len"]) < 1 << 32));

    // close: 1005, 999, 5000 and the 1-byte payload are shown as they are on the wire
    let e = evs("crafted-violation-close.pcap");
    let codes: Vec<(u64, String, Value)> = of(&e, "ws_frame")
        .iter()
        .filter(|f| f["opcode"] == 8)
        .map(|f| {
            (
                u(&f["conn"]),
                s(&f["dir"]).to_string(),
                f["close_code"].clone(),
            )
        })
        .collect();
    assert_eq!(
        codes,
        [
            (0, "c2s".into(), Value::from(1005)),
            (0, "s2c".into(), Value::from(1002)),
            (1, "s2c".into(), Value::from(999)),
            (1, "c2s".into(), Value::from(5000)),
            (2, "c2s".into(), Value::Null),
            (2, "s2c".into(), Value::from(1002)),
            (3, "c2s".into(), Value::Null),
            (3, "s2c".into(), Value::Null),
            (4, "c2s".into(), Value::from(1000)),
            (4, "s2c".into(), Value::from(1000)),
        ]
    );
    // conn 4: after its close the client still sent a text and a ping, the server a text
    let after: Vec<(String, u64)> = of_conn(&e, "ws_frame", 4)
        .iter()
        .skip(2)
        .map(|f| (s(&f["dir"]).to_string(), u(&f["opcode"])))
        .collect();
    assert_eq!(
        after,
        [
            ("c2s".into(), 8),
            ("c2s".into(), 1),
            ("c2s".into(), 9),
            ("s2c".into(), 8),
            ("s2c".into(), 1),
        ]
    );
}

// ------------------------------------------------------------------ structure, everywhere

#[test]
fn messages_match_their_frames_and_events_come_in_capture_order() {
    for name in FILES {
        let e = evs(name);
        let mut prev = (0u64, 0f64);
        // the data frames of the message in progress, per (conn, dir)
        let mut pending: BTreeMap<(u64, String), Vec<&Value>> = BTreeMap::new();
        for ev in &e {
            let at = (u(&ev["pkt"]), ev["ts"].as_f64().unwrap());
            assert!(
                at.0 >= prev.0 && at.1 >= prev.1,
                "{name}: out of order: {ev}"
            );
            prev = at;
            let key = || (u(&ev["conn"]), s(&ev["dir"]).to_string());
            match s(&ev["event"]) {
                "ws_frame" => match u(&ev["opcode"]) {
                    1 | 2 => {
                        pending.insert(key(), vec![ev]);
                    }
                    0 => pending.entry(key()).or_default().push(ev),
                    _ => {}
                },
                "ws_message" => {
                    let fr = pending.remove(&key()).unwrap_or_default();
                    assert_eq!(u(&ev["frames"]), fr.len() as u64, "{name}: {ev}");
                    let wire: u64 = fr.iter().map(|f| u(&f["len"]) + u(&f["header_len"])).sum();
                    assert_eq!(u(&ev["wire_len"]), wire, "{name}: {ev}");
                    assert_eq!(
                        fr.first().map(|f| u(&f["opcode"])),
                        Some(if ev["kind"] == "text" { 1 } else { 2 }),
                        "{name}: {ev}"
                    );
                    assert!(fr.last().is_some_and(|f| f["fin"] == true), "{name}: {ev}");
                    if ev["compressed"] == false {
                        let payload: u64 = fr.iter().map(|f| u(&f["len"])).sum();
                        assert_eq!(u(&ev["len"]), payload, "{name}: {ev}");
                    }
                }
                _ => {}
            }
        }
    }
}

#[test]
fn connections_are_numbered_in_order_of_first_packet() {
    for name in FILES {
        let e = evs(name);
        let opens = of(&e, "conn_open");
        let nums: Vec<u64> = opens.iter().map(|o| u(&o["conn"])).collect();
        assert_eq!(nums, (0..opens.len() as u64).collect::<Vec<_>>(), "{name}");
        for ev in &e {
            let c = u(&ev["conn"]);
            let open = opens[c as usize];
            assert!(
                u(&open["pkt"]) <= u(&ev["pkt"]),
                "{name}: event before its conn_open: {ev}"
            );
        }
        // a full 3-way handshake gives syn, syn_ack, ack with the RTT on the ack
        for o in &opens {
            let hs = of_conn(&e, "tcp_handshake", u(&o["conn"]));
            if o["mid_stream"] == false {
                let steps: Vec<&str> = hs.iter().map(|h| s(&h["step"])).collect();
                assert_eq!(steps, ["syn", "syn_ack", "ack"], "{name}");
                assert!(hs[2]["rtt_ms"].as_f64().is_some_and(|r| r >= 0.0), "{name}");
            } else {
                assert!(hs.is_empty(), "{name}");
            }
        }
    }
}
