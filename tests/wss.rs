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
