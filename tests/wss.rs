//! wss: the captures of real TLS peers in `../shared/captures-tls`, decrypted with
//! their key logs (or the keys embedded in a pcapng), against what the peers logged
//! (`NAME.facts.json`: the TLS version and cipher each side reported, every frame).

mod common;

use std::path::{Path, PathBuf};

use serde_json::Value;

fn dir() -> PathBuf {
    common::shared_dir().join("../captures-tls")
}

fn facts(name: &str) -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(dir().join(format!("{name}.facts.json"))).unwrap(),
    )
    .unwrap()
}

fn stats(cap: &Path, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["stats", "--json", "-r", cap.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = common::wsscope()
        .env_remove("SSLKEYLOGFILE")
        .args(&args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// OpenSSL's names of the TLS 1.2 suites in these captures, and their IANA names.
fn iana(openssl: &str) -> &str {
    match openssl {
        "ECDHE-RSA-AES128-GCM-SHA256" => "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "ECDHE-RSA-AES128-SHA" => "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        other => other,
    }
}

/// Every HTTP/1.1 wss capture with its key log: each connection the peers logged is
/// WebSocket, decrypted, with the version and cipher they reported, and as many frames
/// each way as they logged.
#[test]
fn wss_captures_decrypt_to_what_the_peers_logged() {
    let mut checked = 0;
    for name in [
        "py_tls13_std",
        "tls12_ecdhe_rsa_aes128_gcm_py",
        "tls12_ecdhe_rsa_aes128_sha_cbc_etm_py",
        "tls13_chacha20_py_server_node_client",
        "chromium_wss_node",
    ] {
        let cap = dir().join(format!("{name}.pcap"));
        let keylog = dir().join(format!("{name}.keylog"));
        let rows = stats(&cap, &["--keylog", keylog.to_str().unwrap()]);
        let f = facts(name);
        for c in f["connections"].as_array().unwrap() {
            let port = c["client_port"].as_u64().unwrap().to_string();
            let row = rows
                .iter()
                .find(|r| r["client"].as_str().unwrap().ends_with(&format!(":{port}")))
                .unwrap_or_else(|| panic!("{name}: no connection from port {port}"));
            let tls = &row["tls"];
            let version = c["tls"]["version"]
                .as_str()
                .unwrap()
                .replace("TLSv", "TLS ");
            assert_eq!(tls["version"], version.as_str(), "{name}:{port}");
            assert_eq!(
                tls["cipher"],
                iana(c["tls"]["cipher"].as_str().unwrap()),
                "{name}:{port}"
            );
            assert_eq!(tls["decrypted"], true, "{name}:{port}");
            assert_eq!(row["kind"], "websocket", "{name}:{port}");
            for (d, key) in [("c2s", "c2s"), ("s2c", "s2c")] {
                let logged = c["frames"][key].as_array().map_or(0, Vec::len) as u64;
                assert_eq!(
                    row["frames"][d].as_u64(),
                    Some(logged),
                    "{name}:{port} {d} frames"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 5, "{checked} connections");
}

/// Without keys the TLS phase still shows, nothing is taken for WebSocket, and the
/// line says how to get a key log; a key log of another session decrypts nothing.
#[test]
fn without_the_right_keys_tls_shows_and_nothing_is_guessed() {
    let cap = dir().join("py_tls13_std.pcap");
    let events = common::events(&cap);
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["event"].as_str()).collect();
    assert!(kinds.contains(&"tls_handshake"), "{kinds:?}");
    assert!(
        !kinds
            .iter()
            .any(|k| k.starts_with("ws_") || k.starts_with("http_")),
        "{kinds:?}"
    );
    let no_key: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "tls_decrypt")
        .collect();
    assert!(
        !no_key.is_empty()
            && no_key
                .iter()
                .all(|e| e["ok"] == false && e["reason"] == "no_key")
    );
    let hello = events
        .iter()
        .find(|e| e["event"] == "tls_handshake" && e["step"] == "client_hello")
        .unwrap();
    assert!(hello["versions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v == "TLS 1.3"));
    let text = common::run(&["print", "-r", cap.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("--keylog"));

    let wrong = dir().join("tls13_wrong_keylog_other_session.pcap");
    let keylog = dir().join("tls13_wrong_keylog_other_session.keylog");
    let rows = stats(&wrong, &["--keylog", keylog.to_str().unwrap()]);
    assert!(rows.iter().all(|r| r["kind"] != "websocket"));
    assert!(rows
        .iter()
        .filter(|r| !r["tls"].is_null())
        .all(|r| r["tls"]["decrypted"] == false && r["tls"]["reason"] == "no_key"));
}

/// A pcapng with a Decryption Secrets Block decrypts with no flag; SSLKEYLOGFILE is
/// used when --keylog is not given (and stderr says so); a --keylog that cannot be
/// read is an error.
#[test]
fn keys_come_from_the_capture_or_the_environment() {
    let dsb = dir().join("py_tls13_std-dsb.pcapng");
    let rows = stats(&dsb, &[]);
    assert!(
        rows.iter()
            .any(|r| r["kind"] == "websocket" && r["tls"]["decrypted"] == true),
        "{rows:?}"
    );

    let cap = dir().join("py_tls13_std.pcap");
    let keylog = dir().join("py_tls13_std.keylog");
    let out = common::wsscope()
        .env("SSLKEYLOGFILE", &keylog)
        .args(["stats", "--json", "-r", cap.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("SSLKEYLOGFILE"));
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"kind\":\"websocket\""));

    let missing = common::run(&[
        "stats",
        "-r",
        cap.to_str().unwrap(),
        "--keylog",
        "/nonexistent/keys.log",
    ]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read the key log"));
}

/// Bad key log lines are reported once each with their number, and the good ones used.
#[test]
fn bad_key_log_lines_are_reported_with_their_number() {
    let cap = dir().join("py_tls13_std.pcap");
    let good = std::fs::read_to_string(dir().join("py_tls13_std.keylog")).unwrap();
    let tmp = std::env::temp_dir().join(format!("wsscope-bad-keylog-{}.log", std::process::id()));
    std::fs::write(&tmp, format!("# a comment\nCLIENT_RANDOM nothex\n{good}")).unwrap();
    let out = common::run(&[
        "stats",
        "--json",
        "-r",
        cap.to_str().unwrap(),
        "--keylog",
        tmp.to_str().unwrap(),
    ]);
    let _ = std::fs::remove_file(&tmp);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 2"), "{err}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"kind\":\"websocket\""));
}

/// `captures/tls/`: the suites rustls does not offer (TLS 1.2 AES-CBC with
/// HMAC-SHA1/SHA256/SHA384, with and without encrypt-then-MAC; DHE key exchange)
/// and permessage-deflate over TLS, made by Python `ssl` (OpenSSL) with
/// `websockets` (`captures/tls/make.py`). Every message each peer sent is decoded
/// (kind, length, preview, compressed), with the version and cipher the peers
/// reported, both directions decrypted, no violation.
#[test]
fn own_tls_captures_decode_every_message_the_peers_sent() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/tls");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let n = e.unwrap().file_name().into_string().unwrap();
            n.strip_suffix(".facts.json").map(str::to_string)
        })
        .collect();
    names.sort();
    assert!(names.len() >= 11, "{names:?}");
    let (mut cbc, mut etm, mut mte, mut dhe, mut deflate) = (0, 0, 0, 0, 0);
    for name in &names {
        let f: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(format!("{name}.facts.json"))).unwrap(),
        )
        .unwrap();
        let keylog = dir.join(format!("{name}.keylog"));
        let events = common::events_with(
            &dir.join(format!("{name}.pcap")),
            &["--keylog", keylog.to_str().unwrap()],
        );
        let bad: Vec<&Value> = events
            .iter()
            .filter(|e| e["event"] == "violation" || e["event"] == "gap")
            .collect();
        assert!(bad.is_empty(), "{name}: {bad:#?}");
        let conns = f["connections"].as_array().unwrap();
        assert_eq!(conns.len(), 1, "{name}");
        let c = &conns[0];
        let tls = &c["tls"];
        // The corpus is what its name says.
        let uses_etm = tls["encrypt_then_mac"].as_bool().unwrap();
        if name.ends_with("_etm") || name.contains("_etm_") {
            assert!(uses_etm, "{name}");
            etm += 1;
        }
        if name.ends_with("_mte") {
            assert!(!uses_etm, "{name}");
            mte += 1;
        }
        let iana = tls["iana"].as_str().unwrap();
        cbc += usize::from(iana.contains("_CBC_"));
        dhe += usize::from(iana.starts_with("TLS_DHE_"));
        let version = tls["version"].as_str().unwrap().replace("TLSv", "TLS ");
        let port = c["client_port"].as_u64().unwrap();
        let open = events
            .iter()
            .find(|e| {
                e["event"] == "conn_open"
                    && e["client"].as_str().unwrap().ends_with(&format!(":{port}"))
            })
            .unwrap_or_else(|| panic!("{name}: no connection from port {port}"));
        let ev: Vec<&Value> = events
            .iter()
            .filter(|e| e["conn"] == open["conn"])
            .collect();
        for step in ["server_hello", "done"] {
            let s: Vec<&&Value> = ev
                .iter()
                .filter(|e| e["event"] == "tls_handshake" && e["step"] == step)
                .collect();
            assert_eq!(s.len(), 1, "{name} {step}");
            assert_eq!(s[0]["version"], version.as_str(), "{name} {step}");
            assert_eq!(s[0]["cipher"], iana, "{name} {step}");
        }
        let hs = ev
            .iter()
            .find(|e| e["event"] == "ws_handshake")
            .unwrap_or_else(|| panic!("{name}: no ws_handshake"));
        assert_eq!(hs["ok"], true, "{name}");
        let compressed = c["ws_extensions"].is_string();
        deflate += usize::from(compressed);
        if compressed {
            assert_eq!(hs["extensions"][0], c["ws_extensions"], "{name}");
        }
        for dir in ["c2s", "s2c"] {
            let dec: Vec<&&Value> = ev
                .iter()
                .filter(|e| e["event"] == "tls_decrypt" && e["dir"] == dir)
                .collect();
            assert_eq!(dec.len(), 1, "{name} {dir}");
            assert_eq!(dec[0]["ok"], true, "{name} {dir}");
            let got: Vec<(&Value, &Value, &Value, &Value)> = ev
                .iter()
                .filter(|e| e["event"] == "ws_message" && e["dir"] == dir)
                .map(|e| (&e["kind"], &e["len"], &e["preview"], &e["compressed"]))
                .collect();
            let want: Vec<(&Value, &Value, &Value, Value)> = c["messages"][dir]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| {
                    (
                        &m["kind"],
                        &m["len"],
                        &m["preview"],
                        Value::Bool(compressed),
                    )
                })
                .collect();
            assert_eq!(want.len(), 5, "{name} {dir}");
            let want: Vec<(&Value, &Value, &Value, &Value)> =
                want.iter().map(|(k, l, p, z)| (*k, *l, *p, z)).collect();
            assert_eq!(got, want, "{name} {dir}");
        }
        let close = ev
            .iter()
            .find(|e| e["event"] == "ws_close")
            .unwrap_or_else(|| panic!("{name}: no ws_close"));
        assert_eq!(close["code"], c["close"]["code"], "{name}");
        assert_eq!(close["reason"], c["close"]["reason"], "{name}");
        assert_eq!(close["clean"], true, "{name}");
    }
    assert!(
        cbc >= 7 && etm >= 4 && mte >= 4 && dhe >= 3 && deflate >= 2,
        "cbc {cbc} etm {etm} mte {mte} dhe {dhe} deflate {deflate}"
    );
}
