//! The command line's contract: outputs and exit statuses (CONTRACT.md).

mod common;

use common::run;

#[test]
fn accept_prints_the_rfc_example() {
    let out = run(&["accept", "dGhlIHNhbXBsZSBub25jZQ=="]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\n"
    );
}

#[test]
fn accept_explain_shows_every_step() {
    let out = run(&["accept", "dGhlIHNhbXBsZSBub25jZQ==", "--explain"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11"),
        "{text}"
    );
    assert!(
        text.contains("b37a4f2cc0624f1690f64606cf385945b2bec4ea"),
        "{text}"
    );
    assert!(text.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "{text}");
}

#[test]
fn accept_expect_match_and_mismatch() {
    let ok = run(&[
        "accept",
        "dGhlIHNhbXBsZSBub25jZQ==",
        "--expect",
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
    ]);
    assert_eq!(ok.status.code(), Some(0));
    let bad = run(&[
        "accept",
        "dGhlIHNhbXBsZSBub25jZQ==",
        "--expect",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    ]);
    assert_eq!(bad.status.code(), Some(1));
    let text = String::from_utf8_lossy(&bad.stdout);
    assert!(text.contains("AAAAAAAAAAAAAAAAAAAAAAAAAAA="), "{text}");
    assert!(text.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "{text}");
}

#[test]
fn accept_rejects_a_key_that_is_not_16_bytes() {
    for key in [
        "abc",
        "dGhlIHNhbXBsZSBub25jZQ",
        "dGhlIHNhbXBsZSBub25jZWVl",
        "!!!!!!!!!!!!!!!!!!!!!!==",
    ] {
        let out = run(&["accept", key]);
        assert_eq!(out.status.code(), Some(2), "key {key:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr).lines().count(),
            1,
            "one line for {key:?}"
        );
    }
}

#[test]
fn unusable_inputs_exit_1_with_one_line() {
    let dir = std::env::temp_dir().join(format!("wsscope-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let not_a_capture = dir.join("notes.txt");
    std::fs::write(&not_a_capture, "hello, this is not a pcap\n").unwrap();
    for args in [
        vec!["print", "-r", "/nonexistent/file.pcap"],
        vec!["print", "-r", not_a_capture.to_str().unwrap()],
        vec!["stats", "-r", dir.to_str().unwrap()],
        vec!["print", "-i", "no-such-interface-xyz"],
    ] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(run(&["print"]).status.code(), Some(2));
    assert_eq!(
        run(&["print", "-r", "a", "-i", "lo"]).status.code(),
        Some(2)
    );
    assert_eq!(run(&["frobnicate", "--x"]).status.code(), Some(2));
}

#[test]
fn a_bad_filter_is_one_line_exit_1() {
    let caps = common::captures_in(&common::shared_dir());
    let cap = caps.first().expect("../shared/captures holds captures");
    let out = run(&["print", "-r", cap.to_str().unwrap(), "-f", "tcp port port"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);
}

/// `ws_handshake` carries the upgrade checklist every view renders (CONTRACT "Additions").
#[test]
fn the_handshake_event_carries_its_checks() {
    let basic = common::events(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/crafted-basic.pcap"),
    );
    let hs = basic
        .iter()
        .find(|e| e["event"] == "ws_handshake")
        .expect("ws_handshake");
    let checks = hs["checks"].as_array().expect("checks");
    assert!(checks.len() >= 10, "{checks:?}");
    assert!(checks
        .iter()
        .all(|c| c["ok"] == true && c["rule"].as_str().unwrap().starts_with("RFC ")));
    assert!(checks.iter().any(|c| c["name"] == "method is GET"
        && c["seen"] == "\"GET\""
        && c["rule"] == "RFC 6455 4.2.1"));
    let wrong = common::events(&common::shared_dir().join("zeek__wrong-accept-header.pcap"));
    let hs = wrong
        .iter()
        .find(|e| e["event"] == "ws_handshake")
        .expect("ws_handshake");
    let failed: Vec<&str> = hs["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["Sec-WebSocket-Accept matches the key"]);
}
