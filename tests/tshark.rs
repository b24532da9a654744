//! Agreement with tshark's dissection of real captures from other software
//! (`../shared/captures/*.conns.tsv` and `*.frames.tsv`, written by
//! `../shared/tools/tshark_truth.py`, which documents the columns).
//!
//! Where tshark is wrong, the case is named here with the RFC text that says so.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

fn tsv(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

fn of_conn(events: &[Value], conn: u64) -> impl Iterator<Item = &Value> {
    events
        .iter()
        .filter(move |e| e["conn"].as_u64() == Some(conn))
}

fn has(events: &[Value], conn: u64, event: &str, pred: impl Fn(&Value) -> bool) -> bool {
    of_conn(events, conn).any(|e| e["event"] == event && pred(e))
}

/// Captures whose TCP runs inside a tunnel: tshark_truth.py records the outer IP addresses.
const TUNNELED: &[&str] = &["nDPI__false_positives.pcapng"];

fn captures() -> Vec<std::path::PathBuf> {
    let caps = common::captures_in(&common::shared_dir());
    assert!(
        caps.len() >= 10,
        "../shared/captures should hold the real captures"
    );
    caps
}

#[test]
fn connections_handshakes_teardowns_and_upgrades_agree_with_tshark() {
    let mut failures = Vec::new();
    for cap in captures() {
        let name = cap.file_name().unwrap().to_string_lossy().to_string();
        let events = common::events(&cap);
        let rows = tsv(&cap.with_file_name(format!("{name}.conns.tsv")));
        let opened: Vec<u64> = events
            .iter()
            .filter(|e| e["event"] == "conn_open")
            .map(|e| e["conn"].as_u64().unwrap())
            .collect();
        if opened.len() != rows.len() {
            failures.push(format!(
                "{name}: {} connections, tshark {}",
                opened.len(),
                rows.len()
            ));
        }
        for row in rows {
            let [stream, src, dst, comp, status, key, accept] = &row[..] else {
                panic!("{name}: bad row {row:?}");
            };
            let conn: u64 = stream.parse().unwrap();
            let comp: u32 = comp.parse().unwrap();
            let mut check = |what: &str, ok: bool| {
                if !ok {
                    failures.push(format!("{name} conn {conn}: {what}"));
                }
            };
            let open = of_conn(&events, conn).find(|e| e["event"] == "conn_open");
            check("conn_open present", open.is_some());
            let Some(open) = open else { continue };
            let ends = [
                open["client"].as_str().unwrap(),
                open["server"].as_str().unwrap(),
            ];
            let port = |a: &str| a.rsplit(':').next().unwrap_or("").to_string();
            let same = if TUNNELED.contains(&name.as_str()) {
                // tshark's ip.src is the tunnel's outer address; the connection is the inner one.
                let ports = [port(ends[0]), port(ends[1])];
                ports.contains(&port(src)) && ports.contains(&port(dst))
            } else {
                ends.contains(&src.as_str()) && ends.contains(&dst.as_str())
            };
            check(&format!("endpoints {ends:?} vs tshark {src} {dst}"), same);
            if comp & 1 != 0 {
                check("client is the SYN's sender", port(ends[0]) == port(src));
            }
            let step = |s: &'static str| move |e: &Value| e["step"] == s;
            check(
                "SYN as tshark",
                (comp & 1 != 0) == has(&events, conn, "tcp_handshake", step("syn")),
            );
            check(
                "SYN-ACK as tshark",
                (comp & 2 != 0) == has(&events, conn, "tcp_handshake", step("syn_ack")),
            );
            // tshark sets its ACK bit only for an ACK without data; ours may carry data.
            if comp & 7 == 7 {
                check(
                    "the handshake's ACK",
                    has(&events, conn, "tcp_handshake", step("ack")),
                );
            }
            check(
                "FIN as tshark",
                (comp & 16 != 0) == has(&events, conn, "tcp_teardown", |e| e["how"] == "fin"),
            );
            check(
                "RST as tshark",
                (comp & 32 != 0) == has(&events, conn, "tcp_teardown", |e| e["how"] == "rst"),
            );
            let first_status = of_conn(&events, conn)
                .find(|e| e["event"] == "http_response")
                .map(|e| e["status"].to_string())
                .unwrap_or_default();
            check(
                &format!("first HTTP status {first_status:?} vs {status:?}"),
                &first_status == status,
            );
            if !key.is_empty() {
                check(
                    "Sec-WebSocket-Key as tshark",
                    has(&events, conn, "ws_handshake", |e| e["key"] == key.as_str()),
                );
                check(
                    "Sec-WebSocket-Accept as tshark",
                    has(&events, conn, "ws_handshake", |e| {
                        e["accept"] == accept.as_str()
                    }),
                );
            }
            if status == "101" {
                check(
                    "a 101 upgrades",
                    has(&events, conn, "ws_handshake", |e| e["status"] == 101),
                );
            }
        }
    }
    assert!(
        failures.is_empty(),
        "disagreements with tshark:\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_frame_tshark_decodes_is_decoded_identically() {
    let failures: Vec<String> = captures()
        .iter()
        .filter_map(|cap| frames_differ(cap, &[]))
        .collect();
    assert!(
        failures.is_empty(),
        "frames differ from tshark:\n{}",
        failures.join("\n")
    );
}

/// The application captures (plain ws) and the wss captures, decrypted with their key
/// logs (tshark ran with the same key log): every frame as tshark has it. The DSB
/// pcapng carries its keys itself; the capture whose key log belongs to another
/// session decodes no frame, as tshark.
#[test]
fn every_frame_of_the_app_and_wss_captures_is_decoded_identically() {
    let base = common::shared_dir().join("..");
    let mut failures = Vec::new();
    let mut checked = 0;
    for dir in ["captures-apps", "captures-tls"] {
        for cap in common::captures_in(&base.join(dir)) {
            let keylog = cap.with_extension("keylog");
            let keylog = keylog.to_str().unwrap().to_string();
            let args: Vec<&str> = if std::path::Path::new(&keylog).exists() {
                vec!["--keylog", &keylog]
            } else {
                vec![]
            };
            checked += 1;
            failures.extend(frames_differ(&cap, &args));
        }
    }
    assert!(checked >= 12, "{checked} captures");
    assert!(
        failures.is_empty(),
        "frames differ from tshark:\n{}",
        failures.join("\n")
    );
}

/// Every WebSocket frame of `cap` against tshark's `NAME.frames.tsv`; the difference, if any.
fn frames_differ(cap: &Path, args: &[&str]) -> Option<String> {
    let name = cap.file_name().unwrap().to_string_lossy().to_string();
    let events = common::events_with(cap, args);
    let rows = tsv(&cap.with_file_name(format!("{name}.frames.tsv")));
    // Ports of each connection's client, to turn tshark's srcport into a direction.
    let mut client_port = BTreeMap::new();
    for e in events.iter().filter(|e| e["event"] == "conn_open") {
        let port = e["client"]
            .as_str()
            .unwrap()
            .rsplit(':')
            .next()
            .unwrap()
            .to_string();
        client_port.insert(e["conn"].as_u64().unwrap(), port);
    }
    let ours: Vec<String> = events
        .iter()
        .filter(|e| e["event"] == "ws_frame")
        .filter(|e| {
            rows.iter()
                .any(|r| r[1].parse::<u64>().ok() == e["conn"].as_u64())
        })
        .map(|e| {
            let conn = e["conn"].as_u64().unwrap();
            // tshark_truth.py records websocket.payload_length, the 7-bit length
            // field (126 and 127 announce the 16- and 64-bit forms): compare that.
            let masked = e["masked"].as_bool().unwrap();
            let len7 = match e["header_len"].as_u64().unwrap() - if masked { 4 } else { 0 } {
                2 => e["len"].as_u64().unwrap(),
                4 => 126,
                _ => 127,
            };
            let code = match &e["close_code"] {
                Value::Number(n) => n.to_string(),
                _ => String::new(),
            };
            format!(
                "pkt {} conn {} {} fin {} rsv {} op {} mask {} len {} code {}",
                e["pkt"],
                conn,
                e["dir"].as_str().unwrap_or("?"),
                e["fin"].as_bool().unwrap() as u8,
                e["rsv"],
                e["opcode"],
                masked as u8,
                len7,
                code
            )
        })
        .collect();
    let theirs: Vec<String> = rows
        .iter()
        .map(|r| {
            let conn: u64 = r[1].parse().unwrap();
            let dir = if client_port.get(&conn) == Some(&r[2]) {
                "c2s"
            } else {
                "s2c"
            };
            format!(
                "pkt {} conn {} {} fin {} rsv {} op {} mask {} len {} code {}",
                r[0], conn, dir, r[3], r[4], r[5], r[6], r[7], r[8]
            )
        })
        .collect();
    (ours != theirs).then(|| format!("{name}:\n  ours:   {ours:#?}\n  tshark: {theirs:#?}"))
}

/// What tshark decodes without a word, and the rule each breaks. tshark's frame
/// columns agree with ours on every one of these frames; it just does not judge them.
/// (connection, sender or "" for none, violation code)
type Broken = (u64, &'static str, &'static str);

const BROKEN_RULES: &[(&str, &[Broken])] = &[
    ("nDPI__false_positives.pcapng", &[]),
    ("ndn-tools__ipv6-websocket-segmented.pcap", &[]),
    // "The request MUST include a header field with the name Sec-WebSocket-Key. The value
    // of this header field MUST be a nonce consisting of a randomly selected 16-byte value
    // that has been base64-encoded" (RFC 6455 4.1): this key decodes to 18 bytes.
    (
        "suricata-verify__websocket-control-frag.pcap",
        &[(0, "c2s", "upgrade_bad_key")],
    ),
    // "a client MUST mask all frames that it sends to the server" (RFC 6455 5.1).
    (
        "suricata-verify__websocket-ping.pcap",
        &[
            (0, "c2s", "unmasked_client_frame"),
            (0, "", "abnormal_closure"),
        ],
    ),
    ("suricata-verify__websocket__basic_websockets.pcap", &[]),
    (
        "websocket_test__websocket.pcap",
        &[(0, "", "mid_stream"), (0, "", "abnormal_closure")],
    ),
    ("zeek__broker-websocket.pcap", &[]),
    ("zeek__fragmented-http-reply.pcap", &[]),
    ("zeek__jupyter-websocket.pcap", &[]),
    ("zeek__message-too-big-status.pcap", &[]),
    // "All control frames MUST have a payload length of 125 bytes or less" (RFC 6455 5.5),
    // and "the minimal number of bytes MUST be used to encode the length" (5.2): tshark
    // shows this 258-byte close with its code as if nothing were wrong.
    (
        "zeek__oversized-close-frame.pcapng",
        &[
            (0, "s2c", "non_minimal_length"),
            (0, "s2c", "control_frame_too_long"),
        ],
    ),
    ("zeek__reply-ping-coalesced.pcap", &[]),
    ("zeek__two-binary-fragments.pcap", &[]),
    ("zeek__websocket_compressed.pcap", &[]),
    // "If the response lacks a |Sec-WebSocket-Accept| header field or the
    // |Sec-WebSocket-Accept| contains a value other than the base64-encoded SHA-1 of the
    // concatenation of the |Sec-WebSocket-Key| ... the client MUST _Fail the WebSocket
    // Connection_" (RFC 6455 4.1); tshark dissects the frames that follow as valid.
    (
        "zeek__wrong-accept-header.pcap",
        // The client then fails the connection (no close frame, no pong): as it must.
        &[(0, "s2c", "accept_mismatch")],
    ),
    (
        "zeek__wstunnel-http.pcap",
        &[
            (0, "c2s", "unmasked_client_frame"),
            (0, "c2s", "unmasked_client_frame"),
        ],
    ),
];

#[test]
fn rules_tshark_does_not_judge_are_named() {
    let caps = captures();
    assert_eq!(
        caps.len(),
        BROKEN_RULES.len(),
        "every shared capture is in the table"
    );
    let mut failures = Vec::new();
    for cap in caps {
        let name = cap.file_name().unwrap().to_string_lossy().to_string();
        let want = BROKEN_RULES
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("{name} is not in BROKEN_RULES"))
            .1;
        let got: Vec<(u64, String, String)> = common::events(&cap)
            .iter()
            .filter(|e| e["event"] == "violation")
            .map(|e| {
                (
                    e["conn"].as_u64().unwrap(),
                    e["dir"].as_str().unwrap_or("").to_string(),
                    e["code"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let want: Vec<(u64, String, String)> = want
            .iter()
            .map(|(c, d, code)| (*c, d.to_string(), code.to_string()))
            .collect();
        if got != want {
            failures.push(format!("{name}:\n  ours: {got:?}\n  want: {want:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
