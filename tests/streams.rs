//! Connection-level numbers against tshark's view of every stream
//! (`../shared/captures*/NAME.streams.tsv`, columns in `../shared/tools/tshark_truth.py`):
//! the first packet of each connection, the bytes on the wire, the duration, and
//! WebSocket exactly where tshark finds it. Also `-f`: a filter hides packets, it
//! does not renumber them.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

struct Stream {
    first_pkt: u64,
    first_payload_pkt: Option<u64>,
    payload_bytes: u64,
    duration_ms: f64,
    syn_seen: bool,
    websocket: bool,
}

fn streams(tsv: &Path) -> BTreeMap<u64, Stream> {
    let text = std::fs::read_to_string(tsv).unwrap_or_else(|e| panic!("{}: {e}", tsv.display()));
    text.lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            (
                c[0].parse().unwrap(),
                Stream {
                    first_pkt: c[1].parse().unwrap(),
                    first_payload_pkt: c[2].parse().ok(),
                    payload_bytes: c[3].parse().unwrap(),
                    duration_ms: c[4].parse().unwrap(),
                    syn_seen: c[5] == "1",
                    websocket: c[6] == "1",
                },
            )
        })
        .collect()
}

/// Every capture with tshark's streams beside it, in `../shared/captures`,
/// `captures-apps` and `captures-tls`.
fn shared_with_streams() -> Vec<PathBuf> {
    let base = common::shared_dir();
    let mut all = Vec::new();
    for dir in ["captures", "captures-apps", "captures-tls"] {
        let d = base.join("..").join(dir);
        for p in common::captures_in(&d) {
            if PathBuf::from(format!("{}.streams.tsv", p.display())).exists() {
                all.push(p);
            }
        }
    }
    assert!(
        all.len() >= 20,
        "shared captures not found under {}",
        base.display()
    );
    all
}

fn stats(path: &Path, extra: &[&str]) -> BTreeMap<u64, Value> {
    let mut args = vec!["stats", "--json", "-r", path.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = common::run(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        // The connections' rows (a WebSocket over HTTP/2 has a row of its own too).
        .filter(|v| v["stream"].is_null())
        .map(|v| (v["conn"].as_u64().unwrap(), v))
        .collect()
}

#[test]
fn connection_numbers_agree_with_tshark_on_every_shared_capture() {
    let mut checked = 0;
    for cap in shared_with_streams() {
        let name = cap.file_name().unwrap().to_string_lossy().to_string();
        let truth = streams(&PathBuf::from(format!("{}.streams.tsv", cap.display())));
        // tshark decrypted the wss captures with their key logs: so does wsscope.
        let keylog = cap.with_extension("keylog");
        let keylog = keylog.to_str().unwrap().to_string();
        let args: Vec<&str> = if Path::new(&keylog).exists() {
            vec!["--keylog", &keylog]
        } else {
            vec![]
        };
        let rows = stats(&cap, &args);
        let events = common::events_with(&cap, &args);
        assert_eq!(
            rows.keys().copied().collect::<Vec<_>>(),
            truth.keys().copied().collect::<Vec<_>>(),
            "{name}: connections"
        );
        for (conn, t) in &truth {
            let row = &rows[conn];
            let open = events
                .iter()
                .find(|e| e["conn"] == *conn && e["event"] == "conn_open")
                .unwrap_or_else(|| panic!("{name} #{conn}: no conn_open"));
            let open_pkt = open["pkt"].as_u64().unwrap();
            if t.syn_seen {
                assert_eq!(
                    open_pkt, t.first_pkt,
                    "{name} #{conn}: conn_open at the first packet"
                );
            } else {
                let latest = t.first_payload_pkt.unwrap_or(t.first_pkt);
                assert!(
                    open_pkt <= latest,
                    "{name} #{conn}: mid-stream conn_open at packet {open_pkt}, after the first payload ({latest})"
                );
            }
            assert_eq!(
                row["bytes"]["wire"].as_u64(),
                Some(t.payload_bytes),
                "{name} #{conn}: bytes.wire"
            );
            let d = row["duration_ms"].as_f64().unwrap();
            assert!(
                (d - t.duration_ms).abs() < 0.002,
                "{name} #{conn}: duration_ms {d} against tshark's {}",
                t.duration_ms
            );
            {
                let ws = row["kind"] == "websocket";
                // tshark marks a stream WebSocket when it dissects a frame; wsscope from
                // the successful upgrade on, frames or not (a 101 with nothing after it).
                let upgraded_without_frames = row["upgrade"]["ok"] == true
                    && row["frames"]["c2s"] == 0
                    && row["frames"]["s2c"] == 0;
                // tshark cannot decode frames without the handshake; wsscope recognises
                // them on a connection caught mid-stream (whole frames tiling the bytes).
                let recognised_mid_stream = !t.syn_seen && row["mid_stream"] == true;
                // tshark does not decode WebSocket inside HTTP/2 streams (RFC 8441).
                let over_h2 = row["upgrade"]["status"] == 200;
                assert!(
                    ws == t.websocket
                        || (ws && (upgraded_without_frames || recognised_mid_stream || over_h2)),
                    "{name} #{conn}: websocket? wsscope says kind {}, tshark {}",
                    row["kind"],
                    t.websocket
                );
            }
            if t.syn_seen && row["kind"] == "websocket" {
                assert!(
                    row["upgrade"]["status"] == 101 || row["upgrade"]["status"] == 200,
                    "{name} #{conn}: WebSocket only after a 101 (or an extended CONNECT's 200)"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 35, "{checked} connections checked");
}

#[test]
fn a_filter_hides_packets_without_renumbering_them() {
    // Three connections; the filter keeps only the third (its client port).
    let cap = common::shared_dir().join("websocket_test__websocket.pcap");
    let all = common::events(&cap);
    let third: Vec<&Value> = all.iter().filter(|e| e["conn"] == 2).collect();
    let client = third[0]["client"].as_str().unwrap();
    let port = client.rsplit(':').next().unwrap();
    let out = common::run(&[
        "print",
        "--json",
        "-r",
        cap.to_str().unwrap(),
        "-f",
        &format!("tcp port {port}"),
    ]);
    assert!(out.status.success());
    let filtered: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let key = |e: &Value| (e["pkt"].clone(), e["conn"].clone(), e["event"].clone());
    assert_eq!(
        filtered.iter().map(key).collect::<Vec<_>>(),
        third.iter().map(|e| key(e)).collect::<Vec<_>>(),
        "the same packet and connection numbers as without the filter"
    );
    assert!(filtered.iter().all(|e| e["conn"] == 2));
    assert!(filtered[0]["pkt"].as_u64().unwrap() > 3);
}
