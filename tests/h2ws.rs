//! WebSocket over HTTP/2 (RFC 8441) in a real capture: hypercorn serving two
//! WebSockets over one HTTP/2 connection over TLS 1.3 to an `h2` + `wsproto` client
//! (`../shared/captures-tls/h2_rfc8441_hypercorn_tls.*`). tshark cannot decode these
//! frames; `NAME.h2ws.tsv` lists every one, parsed out of tshark's HTTP/2 DATA, and
//! agreeing with the peers' logs.

mod common;

use serde_json::Value;

#[test]
fn every_websocket_frame_over_http2_is_decoded() {
    let dir = common::shared_dir().join("../captures-tls");
    let cap = dir.join("h2_rfc8441_hypercorn_tls.pcap");
    let keylog = dir.join("h2_rfc8441_hypercorn_tls.keylog");
    let events = common::events_with(&cap, &["--keylog", keylog.to_str().unwrap()]);
    let tsv = std::fs::read_to_string(dir.join("h2_rfc8441_hypercorn_tls.h2ws.tsv")).unwrap();
    let client_port = events
        .iter()
        .find(|e| e["event"] == "conn_open")
        .and_then(|e| e["client"].as_str())
        .and_then(|c| c.rsplit(':').next())
        .unwrap()
        .to_string();
    let theirs: Vec<String> = tsv
        .lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            let dir = if c[2] == client_port { "c2s" } else { "s2c" };
            // frame pkt stream dir fin rsv opcode mask length close
            format!(
                "pkt {} conn {} s{} {dir} fin {} rsv {} op {} mask {} len {} code {}",
                c[0], c[1], c[3], c[4], c[5], c[6], c[7], c[8], c[9]
            )
        })
        .collect();
    let ours: Vec<String> = events
        .iter()
        .filter(|e| e["event"] == "ws_frame")
        .map(|e| {
            let code = match &e["close_code"] {
                Value::Number(n) => n.to_string(),
                _ => String::new(),
            };
            format!(
                "pkt {} conn {} s{} {} fin {} rsv {} op {} mask {} len {} code {}",
                e["pkt"],
                e["conn"],
                e["stream"],
                e["dir"].as_str().unwrap(),
                e["fin"].as_bool().unwrap() as u8,
                e["rsv"],
                e["opcode"],
                e["masked"].as_bool().unwrap() as u8,
                e["len"],
                code
            )
        })
        .collect();
    assert_eq!(ours, theirs);
    assert_eq!(theirs.len(), 26);

    // Two WebSockets opened by extended CONNECT, each a 200 over h2, no Key/Accept,
    // every RFC 8441 check passed; the server enabled the CONNECT protocol.
    let hs: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "ws_handshake")
        .collect();
    assert_eq!(hs.len(), 2);
    for h in &hs {
        assert_eq!(h["transport"], "h2");
        assert_eq!(h["status"], 200);
        assert_eq!(h["ok"], true);
        assert!(h["key"].is_null() && h["accept"].is_null() && h["accept_ok"] == false);
        assert!(h["stream"].as_u64().is_some());
        let checks = h["checks"].as_array().unwrap();
        assert!(
            checks.len() >= 8 && checks.iter().all(|c| c["ok"] == true),
            "{checks:?}"
        );
    }
    assert!(hs.iter().any(|h| h["extensions"][0]
        .as_str()
        .unwrap_or("")
        .starts_with("permessage-deflate")));
    assert!(events.iter().any(|e| e["event"] == "h2_settings"
        && e["dir"] == "s2c"
        && e["settings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s[0] == "SETTINGS_ENABLE_CONNECT_PROTOCOL" && s[1] == 1)));
    // The deflated stream's messages inflate; the close of each WebSocket is its own.
    let closes: Vec<&Value> = events.iter().filter(|e| e["event"] == "ws_close").collect();
    assert_eq!(closes.len(), 2, "{closes:?}");
    assert!(closes
        .iter()
        .all(|c| c["code"] == 1000 && c["clean"] == true));
    assert!(
        !events.iter().any(|e| e["event"] == "violation"),
        "{:?}",
        events
            .iter()
            .filter(|e| e["event"] == "violation")
            .collect::<Vec<_>>()
    );

    // stats: the connection's row, then one row per WebSocket.
    let out = common::run(&[
        "stats",
        "--json",
        "-r",
        cap.to_str().unwrap(),
        "--keylog",
        keylog.to_str().unwrap(),
    ]);
    let rows: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let streams: Vec<u64> = rows.iter().filter_map(|r| r["stream"].as_u64()).collect();
    assert_eq!(streams, [1, 3], "{rows:?}");
    assert!(rows[0]["stream"].is_null() && rows[0]["tls"]["alpn"] == "h2");
    for r in &rows[1..] {
        let s = r["stream"].as_u64().unwrap();
        let frames = |d: &str| {
            theirs
                .iter()
                .filter(|t| t.contains(&format!(" s{s} {d} ")))
                .count() as u64
        };
        assert_eq!(r["frames"]["c2s"].as_u64(), Some(frames("c2s")), "s{s}");
        assert_eq!(r["frames"]["s2c"].as_u64(), Some(frames("s2c")), "s{s}");
        assert_eq!(r["kind"], "websocket");
    }
}
