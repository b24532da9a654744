//! Golden timelines: the text timeline of every capture in `captures/` (the
//! project's own corpus) and in `../shared/captures`, snapshotted with insta.
//! Times in the text timeline are relative, so the snapshots are stable.

mod common;

use std::path::Path;

fn timeline(path: &Path) -> String {
    let out = common::run(&["print", "-r", path.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut text = String::from_utf8(out.stdout).expect("utf-8");
    let warnings = String::from_utf8_lossy(&out.stderr);
    if !warnings.is_empty() {
        text.push_str("--- stderr ---\n");
        text.push_str(&warnings);
    }
    text
}

fn snapshot_all(caps: Vec<std::path::PathBuf>, prefix: &str) {
    assert!(!caps.is_empty(), "no captures for {prefix}");
    for cap in caps {
        let name = cap.file_name().unwrap().to_string_lossy().replace('.', "_");
        insta::assert_snapshot!(format!("{prefix}__{name}"), timeline(&cap));
    }
}

#[test]
fn own_captures_timelines() {
    snapshot_all(common::own_captures(), "own");
}

#[test]
fn shared_captures_timelines() {
    snapshot_all(common::captures_in(&common::shared_dir()), "shared");
}

#[test]
fn json_events_follow_the_contract() {
    // Every event of every capture has the common fields with the right types,
    // and the fields its kind requires (CONTRACT.md).
    let mut caps = common::own_captures();
    caps.extend(common::captures_in(&common::shared_dir()));
    for cap in caps {
        for e in common::events(&cap) {
            let ctx = format!("{}: {e}", cap.display());
            assert!(e["conn"].is_u64(), "{ctx}");
            assert!(e["pkt"].as_u64().is_some_and(|p| p >= 1), "{ctx}");
            assert!(e["ts"].is_f64(), "{ctx}");
            if let Some(d) = e.get("dir") {
                assert!(d == "c2s" || d == "s2c", "{ctx}");
            }
            let need: &[&str] = match e["event"].as_str().unwrap() {
                "conn_open" => &["client", "server", "mid_stream"],
                "tcp_handshake" => &["step"],
                "http_request" => &["method", "target", "version", "headers"],
                "http_response" => &["status", "reason", "version", "headers"],
                "ws_handshake" => &[
                    "key",
                    "accept",
                    "expected_accept",
                    "accept_ok",
                    "version",
                    "extensions",
                    "subprotocol",
                    "ok",
                ],
                "ws_frame" => &[
                    "fin",
                    "rsv",
                    "opcode",
                    "opname",
                    "masked",
                    "mask_key",
                    "len",
                    "header_len",
                ],
                "ws_message" => &["kind", "frames", "len", "wire_len", "compressed", "preview"],
                "ws_close" => &["initiator", "code", "reason", "echoed", "clean"],
                "tcp_teardown" => &["how"],
                "violation" => &["code", "message", "rfc"],
                "gap" => &["bytes"],
                other => panic!("unknown event {other}: {ctx}"),
            };
            for f in need {
                assert!(e.get(*f).is_some(), "{ctx}: missing {f}");
            }
            if e["event"] == "ws_frame" && e["opcode"] == 8 {
                assert!(
                    e.get("close_code").is_some() && e.get("close_reason").is_some(),
                    "{ctx}"
                );
            }
            if e["event"] == "tcp_handshake" && e["step"] == "ack" {
                assert!(e["rtt_ms"].is_f64(), "{ctx}");
            }
        }
    }
}
