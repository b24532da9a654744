//! Whole payloads and the protocols riding on WebSocket, through the whole pipeline
//! (`print --json --payload`), against what the real peers logged.
//!
//! `../shared/captures-apps/NAME.facts.json` logs every message each peer sent or
//! received through its library's API (direction, kind, length, sha256, meaning);
//! `../shared/captures-tls/NAME.facts.json` logs the server's messages (`recv` from
//! the client, `send` to it) with their sha256. Every `ws_message` of each connection's
//! direction must carry exactly those payloads, byte for byte (sha256 of the decoded
//! `payload`), in order, and its `app` must say what the peers' `meaning` says.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::Value;
use sha2::{Digest, Sha256};

fn shared(sub: &str) -> PathBuf {
    common::shared_dir().join("..").join(sub)
}

fn facts(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The payload of a `ws_message`, decoded from its encoding (checked against the kind).
fn payload(m: &Value) -> Vec<u8> {
    let p = m["payload"].as_str().expect("payload with --payload");
    match m["payload_encoding"].as_str() {
        Some("utf8") => {
            assert_eq!(m["kind"], "text", "utf8 only for text messages: {m}");
            p.as_bytes().to_vec()
        }
        Some("base64") => base64::engine::general_purpose::STANDARD
            .decode(p)
            .expect("base64"),
        other => panic!("payload_encoding {other:?}"),
    }
}

/// `ws_message` events of a capture, per client port and direction, in capture order.
fn messages(cap: &Path, extra: &[&str]) -> HashMap<(u64, String), Vec<Value>> {
    let mut args = vec!["--payload"];
    args.extend_from_slice(extra);
    let events = common::events_with(cap, &args);
    let mut port_of = HashMap::new();
    let mut out: HashMap<(u64, String), Vec<Value>> = HashMap::new();
    for e in events {
        match e["event"].as_str() {
            Some("conn_open") => {
                let client = e["client"].as_str().unwrap();
                let port: u64 = client.rsplit(':').next().unwrap().parse().unwrap();
                port_of.insert(e["conn"].as_u64().unwrap(), port);
            }
            Some("ws_message") => {
                let port = port_of[&e["conn"].as_u64().unwrap()];
                let dir = e["dir"].as_str().unwrap().to_string();
                out.entry((port, dir)).or_default().push(e);
            }
            _ => {}
        }
    }
    out
}

fn app_captures() -> Vec<PathBuf> {
    let v = common::captures_in(&shared("captures-apps"));
    assert_eq!(v.len(), 5, "the five app captures");
    v
}

fn facts_of(cap: &Path) -> Value {
    let name = cap.file_name().unwrap().to_str().unwrap();
    let stem = name.trim_end_matches(".pcapng").trim_end_matches(".pcap");
    facts(&cap.with_file_name(format!("{stem}.facts.json")))
}

/// The logged data messages of one app-capture connection, per direction.
fn logged_app(conn: &Value) -> HashMap<String, Vec<Value>> {
    let mut by_dir: HashMap<String, Vec<Value>> = HashMap::new();
    for m in conn["messages"].as_array().unwrap() {
        if !matches!(m["kind"].as_str(), Some("text" | "binary")) {
            continue;
        }
        let dir = match m["dir"].as_str().unwrap() {
            "C->S" => "c2s",
            _ => "s2c",
        };
        by_dir.entry(dir.into()).or_default().push(m.clone());
    }
    by_dir
}

#[test]
fn app_captures_payloads_are_what_the_peers_sent_byte_for_byte() {
    let mut checked = 0;
    for cap in app_captures() {
        let f = facts_of(&cap);
        let got = messages(&cap, &[]);
        for conn in f["connections"].as_array().unwrap() {
            let port = conn["client_port"].as_u64().unwrap();
            for (dir, logged) in logged_app(conn) {
                let seen = got.get(&(port, dir.clone())).unwrap_or_else(|| {
                    panic!("{}: no {dir} messages on port {port}", cap.display())
                });
                assert_eq!(
                    seen.len(),
                    logged.len(),
                    "{} port {port} {dir}",
                    cap.display()
                );
                for (m, l) in seen.iter().zip(&logged) {
                    let p = payload(m);
                    assert_eq!(p.len() as u64, l["len"].as_u64().unwrap());
                    assert_eq!(
                        sha(&p),
                        l["sha256"].as_str().unwrap(),
                        "{} port {port} {dir} message {}",
                        cap.display(),
                        l["n"]
                    );
                    assert_eq!(m["kind"], l["kind"]);
                    assert!(m.get("payload_truncated").is_none());
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 140, "{checked} messages");
}

#[test]
fn wss_payloads_are_what_the_peers_sent_byte_for_byte() {
    let dir = shared("captures-tls");
    let mut checked = 0;
    let mut captures = 0;
    for cap in common::captures_in(&dir) {
        let name = cap.file_name().unwrap().to_str().unwrap().to_string();
        let stem = name.trim_end_matches(".pcapng").trim_end_matches(".pcap");
        let facts_path = dir.join(format!("{stem}.facts.json"));
        let keylog = dir.join(format!("{stem}.keylog"));
        // HTTP/2 (RFC 8441) is another layer's work; the wrong key log decrypts nothing.
        if !facts_path.exists()
            || !keylog.exists()
            || stem.starts_with("h2_")
            || stem.contains("wrong_keylog")
        {
            continue;
        }
        let f = facts(&facts_path);
        let got = messages(&cap, &["--keylog", keylog.to_str().unwrap()]);
        captures += 1;
        for conn in f["server"]["conns"].as_array().unwrap() {
            let port = conn["remote"]["port"].as_u64().unwrap();
            let mut logged: HashMap<&str, Vec<&Value>> = HashMap::new();
            for e in conn["events"].as_array().unwrap() {
                if !matches!(e["kind"].as_str(), Some("text" | "binary")) {
                    continue;
                }
                let d = if e["op"] == "recv" { "c2s" } else { "s2c" };
                logged.entry(d).or_default().push(e);
            }
            for (d, logged) in logged {
                let seen = &got[&(port, d.to_string())];
                assert_eq!(seen.len(), logged.len(), "{name} port {port} {d}");
                for (m, l) in seen.iter().zip(logged) {
                    let p = payload(m);
                    assert_eq!(
                        sha(&p),
                        l["sha256"].as_str().unwrap(),
                        "{name} port {port} {d}"
                    );
                    assert_eq!(m["kind"], l["kind"]);
                    if let Some(t) = l["text"].as_str() {
                        assert_eq!(m["payload"], t, "exact text");
                    }
                    checked += 1;
                }
            }
        }
    }
    assert!(captures >= 5, "{captures} wss captures");
    assert!(checked >= 40, "{checked} messages");
}

/// The `app` packets of a message: `apps` when several, else `app`.
fn apps(m: &Value) -> Vec<Value> {
    match m.get("apps") {
        Some(Value::Array(a)) => {
            assert!(a.len() > 1, "apps only for several packets");
            assert_eq!(m["app"], a[0], "app is the first of apps");
            a.clone()
        }
        _ => m.get("app").cloned().into_iter().collect(),
    }
}

/// Name and id as the pipeline must give them: absent fields are null.
fn opt(v: &Value, k: &str) -> Value {
    v.get(k).cloned().unwrap_or(Value::Null)
}

fn check_socketio(mean: &Value, a: &[Value], what: &str) {
    assert_eq!(a.len(), 1, "{what}");
    let a = &a[0];
    match mean.get("sio").and_then(Value::as_str) {
        Some(sio) => {
            assert_eq!(a["protocol"], "socket.io", "{what}");
            assert_eq!(a["type"], sio, "{what}");
            assert_eq!(opt(a, "name"), opt(mean, "event"), "{what}");
            if sio != "attachment" {
                assert_eq!(opt(a, "id"), opt(mean, "ack_id"), "{what}");
            }
        }
        None => {
            assert_eq!(a["protocol"], "engine.io", "{what}");
            assert_eq!(a["type"], mean["eio"], "{what}");
        }
    }
}

fn check_mqtt(mean: &Value, a: &[Value], what: &str) {
    let packets = mean["packets"].as_array().unwrap();
    assert_eq!(a.len(), packets.len(), "{what}");
    for (a, p) in a.iter().zip(packets) {
        assert_eq!(a["protocol"], "mqtt", "{what}");
        assert_eq!(a["type"], p["type"], "{what}");
        let name = p
            .get("topic")
            .cloned()
            .or_else(|| p.get("topics").map(|t| t[0]["filter"].clone()))
            .unwrap_or(Value::Null);
        assert_eq!(opt(a, "name"), name, "{what}");
        assert_eq!(opt(a, "id"), opt(p, "id"), "{what}");
    }
}

fn check_graphql(mean: &Value, a: &[Value], what: &str) {
    assert_eq!(a.len(), 1, "{what}");
    let a = &a[0];
    assert_eq!(a["protocol"], "graphql-transport-ws", "{what}");
    assert_eq!(a["type"], mean["type"], "{what}");
    assert_eq!(opt(a, "id"), opt(mean, "id"), "{what}");
    if mean["type"] == "subscribe" {
        assert_eq!(a["name"], mean["payload"]["operationName"], "{what}");
    }
}

fn check_stomp(mean: &Value, a: &[Value], what: &str) {
    let frames = mean["frames"].as_array().unwrap();
    assert_eq!(a.len(), frames.len(), "{what}");
    for (a, fr) in a.iter().zip(frames) {
        assert_eq!(a["protocol"], "stomp", "{what}");
        assert_eq!(a["type"], fr["command"], "{what}");
        assert_eq!(opt(a, "name"), opt(fr, "destination"), "{what}");
        if let Some(id) = ["receipt-id", "message-id", "id", "receipt"]
            .iter()
            .find_map(|k| fr.get(*k))
        {
            assert_eq!(&a["id"], id, "{what}");
        }
    }
}

fn check_jsonrpc(mean: &Value, a: &[Value], what: &str) {
    assert_eq!(a.len(), 1, "{what}");
    let a = &a[0];
    assert_eq!(a["protocol"], "json-rpc", "{what}");
    let (kind, name) = match mean["kind"].as_str().unwrap() {
        "result" => ("response", None),
        "rpc-websockets event" => ("event", mean.get("event")),
        k => (k, mean.get("method")),
    };
    assert_eq!(a["type"], kind, "{what}");
    if let Some(n) = name {
        assert_eq!(&a["name"], n, "{what}");
    }
    assert_eq!(opt(a, "id"), opt(mean, "id"), "{what}");
}

#[test]
fn every_app_message_says_what_the_peers_meant() {
    let mut checked = 0;
    for cap in app_captures() {
        let f = facts_of(&cap);
        let check: fn(&Value, &[Value], &str) = match f["protocol"].as_str().unwrap() {
            "socketio" => check_socketio,
            "mqtt" => check_mqtt,
            "graphql" | "graphql-transport-ws" => check_graphql,
            "stomp" => check_stomp,
            "jsonrpc" | "json-rpc" => check_jsonrpc,
            other => panic!("protocol {other}"),
        };
        let got = messages(&cap, &[]);
        for conn in f["connections"].as_array().unwrap() {
            let port = conn["client_port"].as_u64().unwrap();
            for (dir, logged) in logged_app(conn) {
                for (m, l) in got[&(port, dir.clone())].iter().zip(&logged) {
                    let what = format!(
                        "{} port {port} {dir} message {}: {m}",
                        cap.display(),
                        l["n"]
                    );
                    check(&l["meaning"], &apps(m), &what);
                    checked += 1;
                }
            }
        }
        // The peers broke no rule of their protocols.
        let events = common::events(&cap);
        let app_violations: Vec<&Value> = events
            .iter()
            .filter(|e| {
                e["event"] == "violation"
                    && e["rfc"]
                        .as_str()
                        .is_some_and(|r| !r.starts_with("RFC 6455"))
            })
            .collect();
        assert!(
            app_violations.is_empty(),
            "{}: {app_violations:?}",
            cap.display()
        );
    }
    assert!(checked >= 140, "{checked}");
}

#[test]
fn the_text_timeline_has_one_line_per_app_packet_and_the_payload_with_payload() {
    let cap = shared("captures-apps").join("jsonrpc_rpc_websockets.pcap");
    let out = common::run(&["print", "-r", cap.to_str().unwrap()]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("message text 58 B in 1 frame"), "{text}");
    assert!(
        text.contains("\n                    ↳ json-rpc request sum id 1\n"),
        "{text}"
    );
    assert!(!text.contains("│ "), "no payload without --payload");
    let out = common::run(&["print", "--payload", "-r", cap.to_str().unwrap()]);
    let text = String::from_utf8(out.stdout).unwrap();
    // The JSON-RPC request, pretty-printed under its line.
    assert!(
        text.contains("↳ json-rpc request sum id 1\n                    │ {\n                    │   \"jsonrpc\": \"2.0\",\n                    │   \"method\": \"sum\","),
        "{text}"
    );
    // Binary as a hex + ASCII dump (an MQTT CONNECT).
    let cap = shared("captures-apps").join("mqtt_paho_mosquitto.pcap");
    let out = common::run(&["print", "--payload", "-r", cap.to_str().unwrap()]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("│ 0x0000:  101c 0004 4d51 5454 0502 0002 0511 0000  ....MQTT........\n"),
        "{text}"
    );
    // Without --payload, --json has app but no payload.
    let events = common::events(&cap);
    let m = events.iter().find(|e| e["event"] == "ws_message").unwrap();
    assert!(
        m.get("payload").is_none() && m["app"]["type"] == "CONNECT",
        "{m}"
    );
}

#[test]
fn max_payload_cuts_and_says_so() {
    let cap = shared("captures-apps").join("socketio_polling_upgrade.pcap");
    let events = common::events_with(&cap, &["--payload", "--max-payload", "10"]);
    let msgs: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "ws_message")
        .collect();
    let mut cut = 0;
    for m in &msgs {
        let len = m["len"].as_u64().unwrap();
        let p = payload(m);
        if len > 10 {
            cut += 1;
            assert_eq!(p.len(), 10, "{m}");
            assert_eq!(m["payload_truncated"], true, "{m}");
            // A cut message is not decoded as a protocol packet.
            assert!(m.get("app").is_none(), "{m}");
        } else {
            assert_eq!(p.len() as u64, len);
            assert!(m.get("payload_truncated").is_none());
        }
    }
    assert!(cut > 5 && cut < msgs.len(), "{cut} of {}", msgs.len());
}

#[test]
fn engine_io_long_polling_bodies_say_what_the_server_logged() {
    let cap = shared("captures-apps").join("socketio_polling_upgrade.pcap");
    let f = facts_of(&cap);
    let events = common::events(&cap);
    let mut port_of = HashMap::new();
    for e in &events {
        if e["event"] == "conn_open" {
            let port: u64 = e["client"]
                .as_str()
                .unwrap()
                .rsplit(':')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            port_of.insert(port, e["conn"].clone());
        }
    }
    let mut checked = 0;
    for h in f["http"].as_array().unwrap() {
        if h.get("upgrade").is_some() {
            continue;
        }
        let conn = &port_of[&h["remote"]["port"].as_u64().unwrap()];
        let of_conn = |name: &str| {
            events
                .iter()
                .find(|e| &e["conn"] == conn && e["event"] == name)
                .unwrap_or_else(|| panic!("{name} on conn {conn}"))
                .clone()
        };
        let req = of_conn("http_request");
        assert_eq!(req["target"], h["path"]);
        assert_eq!(req["method"], h["method"]);
        let resp = of_conn("http_response");
        assert_eq!(resp["status"], h["status"]);
        for (e, key) in [(&req, "req_meaning"), (&resp, "resp_meaning")] {
            let got = apps(e);
            match h.get(key).and_then(Value::as_array) {
                Some(meanings) => {
                    assert_eq!(got.len(), meanings.len(), "{e}");
                    for (a, m) in got.iter().zip(meanings) {
                        check_socketio(m, std::slice::from_ref(a), &format!("{key} {e}"));
                        assert!(a["summary"].as_str().unwrap().ends_with("[polling]"), "{a}");
                        checked += 1;
                    }
                }
                // The "OK" answering a POST, and a GET's empty body, carry no packet.
                None => assert!(got.is_empty(), "{e}"),
            }
        }
    }
    assert!(checked >= 4, "{checked}");
    // The upgrade's own GET and 101 carry nothing.
    let upgrade = events
        .iter()
        .find(|e| {
            e["event"] == "http_request"
                && e["target"]
                    .as_str()
                    .unwrap()
                    .contains("transport=websocket")
        })
        .unwrap();
    assert!(upgrade.get("app").is_none());
}
