//! The application-protocol decoders against real peers.
//!
//! `../shared/captures-apps/NAME.facts.json` holds, per connection, every
//! WebSocket message the peers logged through their libraries' hooks (direction,
//! opcode, length, sha256, the payload) and its application-level meaning. Each
//! data message is fed, in order, to one `AppDecoder` per connection made from the
//! connection's URL and subprotocol, and what comes out is checked against the
//! meaning: protocol, type, name, id and every other field the meaning has (a
//! meaning key this test does not check fails the test). Engine.IO long-polling
//! bodies logged by the Socket.IO server are fed to `AppDecoder::http_body`.
//! Control frames (close) are not application messages and are counted apart.

use std::collections::HashMap;

use base64::Engine as _;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use wsscope::app::mqtt::MqttDetail;
use wsscope::app::stomp::StompDetail;
use wsscope::app::{AppContext, AppDecoder, AppId, AppMessage, Detail, Protocol};
use wsscope::types::Direction;

/// `../shared/captures-apps/` (`../../shared` from a git worktree one level further down).
fn dir() -> String {
    let near = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/captures-apps/");
    if std::path::Path::new(near).is_dir() {
        return near.to_string();
    }
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/captures-apps/").to_string()
}

fn load(name: &str) -> Value {
    let path = format!("{}{name}.facts.json", dir());
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// The request target of a `ws://host:port/path?query` URL (or a bare path).
fn target_of(url: &str) -> String {
    match url.split_once("://") {
        Some((_, rest)) => match rest.find('/') {
            Some(i) => rest[i..].to_owned(),
            None => "/".into(),
        },
        None => url.to_owned(),
    }
}

/// The negotiated subprotocol as the peers logged it (the annotator sometimes adds a
/// remark in parentheses after the token: `mqtt (paho always sends it)`).
fn subprotocol_of(conn: &Value) -> Option<String> {
    ["subprotocol_server_saw", "subprotocol_client_saw"]
        .iter()
        .filter_map(|k| conn[k].as_str())
        .filter_map(|s| s.split_whitespace().next())
        .map(str::to_owned)
        .next()
}

fn dir_of(s: &str) -> Direction {
    match s {
        "C->S" => Direction::C2S,
        "S->C" => Direction::S2C,
        other => panic!("direction {other}"),
    }
}

/// The payload bytes of a logged message, checked against its length and sha256.
fn payload_of(m: &Value) -> Vec<u8> {
    let bytes = if let Some(t) = m["text"].as_str() {
        t.as_bytes().to_vec()
    } else {
        base64::engine::general_purpose::STANDARD
            .decode(m["base64"].as_str().expect("text or base64"))
            .unwrap()
    };
    assert_eq!(
        bytes.len() as u64,
        m["len"].as_u64().unwrap(),
        "length of message {}",
        m["n"]
    );
    let sha: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        sha,
        m["sha256"].as_str().unwrap(),
        "sha256 of message {}",
        m["n"]
    );
    bytes
}

fn ts_of(m: &Value) -> i64 {
    (m["t"].as_f64().unwrap() * 1e6).round() as i64
}

fn num_id(v: &Value) -> Option<AppId> {
    v.as_i64().map(AppId::Num)
}

/// Fails on any key of `meaning` not in `checked`: every fact must be looked at.
fn all_checked(meaning: &Map<String, Value>, checked: &[&str], what: &str) {
    for k in meaning.keys() {
        assert!(
            checked.contains(&k.as_str()),
            "{what}: meaning key {k:?} is not checked by this test"
        );
    }
}

fn no_violations(m: &AppMessage, what: &str) {
    assert!(
        m.violations.is_empty(),
        "{what}: unexpected violations {:?}",
        m.violations
    );
    assert!(!m.summary().is_empty());
}

#[derive(Default)]
struct Tally {
    messages: usize,
    app_packets: usize,
    control: usize,
    http_bodies: usize,
}

/// Feeds every message of every connection of a capture; `check` compares one
/// message's output with its meaning.
fn run(name: &str, mut check: impl FnMut(&Value, &[AppMessage], &str)) -> Tally {
    let facts = load(name);
    let mut t = Tally::default();
    for conn in facts["connections"].as_array().unwrap() {
        let ctx = AppContext {
            subprotocol: subprotocol_of(conn),
            path: target_of(conn["url"].as_str().unwrap()),
        };
        let mut dec = AppDecoder::new(ctx);
        for m in conn["messages"].as_array().unwrap() {
            let kind = m["kind"].as_str().unwrap();
            if !matches!(kind, "text" | "binary") {
                assert!(matches!(kind, "close" | "ping" | "pong"), "kind {kind}");
                t.control += 1;
                continue;
            }
            let payload = payload_of(m);
            let out = dec.message(
                dir_of(m["dir"].as_str().unwrap()),
                kind == "text",
                &payload,
                ts_of(m),
            );
            let what = format!("{name} port {} message {}", conn["client_port"], m["n"]);
            for a in &out {
                no_violations(a, &what);
            }
            check(&m["meaning"], &out, &what);
            t.messages += 1;
            t.app_packets += out.len();
        }
    }
    eprintln!(
        "{name}: {} WebSocket messages verified ({} application packets), {} control frames, {} HTTP bodies",
        t.messages, t.app_packets, t.control, t.http_bodies
    );
    t
}

fn expected_messages(name: &str) -> usize {
    load(name)["connections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["messages"].as_array().unwrap())
        .filter(|m| matches!(m["kind"].as_str(), Some("text" | "binary")))
        .count()
}

// ---------------------------------------------------------------- Socket.IO

fn check_eio(meaning: &Value, a: &AppMessage, what: &str) {
    let mo = meaning.as_object().unwrap();
    let eio = mo["eio"].as_str().unwrap();
    if let Some(sio) = mo.get("sio").and_then(Value::as_str) {
        assert_eq!(a.protocol, Protocol::SocketIo, "{what}");
        let Detail::SocketIo(d) = &a.detail else {
            panic!("{what}: {:?}", a.detail)
        };
        assert_eq!(d.namespace, mo["nsp"].as_str().unwrap(), "{what} nsp");
        assert_eq!(
            a.name.as_deref(),
            mo.get("event").and_then(Value::as_str),
            "{what} event"
        );
        if sio != "attachment" || mo.contains_key("ack_id") {
            assert_eq!(a.id, mo.get("ack_id").and_then(num_id), "{what} ack id");
            assert_eq!(
                d.ack_id,
                mo.get("ack_id").and_then(Value::as_u64),
                "{what} ack id"
            );
        }
        if sio == "attachment" {
            // The facts leave the ack id out of attachments; the decoder carries the
            // ack id of the packet the attachment belongs to (checked in the unit tests).
            assert_eq!(eio, "message (binary)", "{what}");
            assert_eq!(a.kind, "attachment", "{what}");
            let att = d.attachment.as_ref().expect("joined to its placeholder");
            assert_eq!(
                u64::from(att.index),
                mo["attachment"].as_u64().unwrap(),
                "{what}"
            );
            assert_eq!(att.of, mo["of"].as_str().unwrap(), "{what}");
            all_checked(
                mo,
                &["eio", "sio", "of", "nsp", "attachment", "event", "ack_id"],
                what,
            );
        } else {
            assert_eq!(eio, "message", "{what}");
            assert_eq!(a.kind, sio, "{what}");
            assert_eq!(
                d.args.map(|n| n as u64),
                mo.get("nargs").and_then(Value::as_u64),
                "{what} nargs"
            );
            assert_eq!(
                d.attachments.map(u64::from),
                mo.get("attachments").and_then(Value::as_u64),
                "{what} attachments"
            );
            assert_eq!(
                d.sid.as_deref(),
                mo.get("sid").and_then(Value::as_str),
                "{what} sid"
            );
            all_checked(
                mo,
                &[
                    "eio",
                    "sio",
                    "nsp",
                    "event",
                    "ack_id",
                    "nargs",
                    "attachments",
                    "sid",
                ],
                what,
            );
        }
    } else {
        assert_eq!(a.protocol, Protocol::EngineIo, "{what}");
        assert_eq!(a.kind, eio, "{what}");
        let Detail::EngineIo(d) = &a.detail else {
            panic!("{what}: {:?}", a.detail)
        };
        assert_eq!(
            d.probe,
            mo.get("probe").and_then(Value::as_bool).unwrap_or(false),
            "{what} probe"
        );
        if let Some(h) = mo.get("handshake") {
            let got = d.handshake.as_ref().expect("open handshake");
            assert_eq!(got.sid.as_deref(), h["sid"].as_str(), "{what}");
            let ups: Vec<&str> = h["upgrades"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u.as_str().unwrap())
                .collect();
            assert_eq!(got.upgrades, ups, "{what}");
            assert_eq!(got.ping_interval_ms, h["pingInterval"].as_u64(), "{what}");
            assert_eq!(got.ping_timeout_ms, h["pingTimeout"].as_u64(), "{what}");
            assert_eq!(got.max_payload, h["maxPayload"].as_u64(), "{what}");
            assert_eq!(a.id, Some(AppId::Text(h["sid"].as_str().unwrap().into())));
        } else {
            assert!(d.handshake.is_none(), "{what}");
        }
        all_checked(mo, &["eio", "probe", "handshake"], what);
    }
}

#[test]
fn socketio_polling_then_websocket() {
    let name = "socketio_polling_upgrade";
    let mut t = run(name, |meaning, out, what| {
        assert_eq!(
            out.len(),
            1,
            "{what}: one Engine.IO packet per WebSocket message: {out:?}"
        );
        check_eio(meaning, &out[0], what);
    });
    // The polling phase: the bodies the server logged, in order, one decoder for the session.
    let facts = load(name);
    let http = facts["http"].as_array().unwrap();
    let mut dec: Option<AppDecoder> = None;
    let mut polled = 0;
    for h in http {
        let path = h["path"].as_str().unwrap();
        let ts = (h["t"].as_f64().unwrap() * 1e6) as i64;
        let dec = dec.get_or_insert_with(|| {
            AppDecoder::new(AppContext {
                subprotocol: None,
                path: path.to_owned(),
            })
        });
        for (body_key, meaning_key, dir) in [
            ("req_body", "req_meaning", Direction::C2S),
            ("resp_body", "resp_meaning", Direction::S2C),
        ] {
            let Some(body) = h[body_key].as_str() else {
                continue;
            };
            let out = dec.http_body(dir, path, body.as_bytes(), ts);
            let what = format!("{name} {} {path} {body_key}", h["method"]);
            for a in &out {
                no_violations(a, &what);
            }
            match h[meaning_key].as_array() {
                Some(meanings) => {
                    assert_eq!(out.len(), meanings.len(), "{what}: {out:?}");
                    for (a, m) in out.iter().zip(meanings) {
                        check_eio(m, a, &what);
                        let transport = match &a.detail {
                            Detail::EngineIo(d) => d.transport,
                            Detail::SocketIo(d) => d.transport,
                            other => panic!("{other:?}"),
                        };
                        assert_eq!(transport, wsscope::app::socketio::Transport::Polling);
                        polled += 1;
                    }
                }
                // The "OK" answering a POST is no Engine.IO payload.
                None => assert!(out.is_empty(), "{what}: {out:?}"),
            }
            t.http_bodies += 1;
        }
    }
    eprintln!(
        "{name}: {} polling bodies, {polled} Engine.IO packets verified",
        t.http_bodies
    );
    assert_eq!(t.messages, expected_messages(name));
    assert!(polled >= 4, "the open, the CONNECT and the noops");
}

// ---------------------------------------------------------------- MQTT

fn check_mqtt_packet(p: &Map<String, Value>, a: &AppMessage, what: &str) {
    assert_eq!(a.protocol, Protocol::Mqtt, "{what}");
    let kind = p["type"].as_str().unwrap();
    assert_eq!(a.kind, kind, "{what}");
    let Detail::Mqtt(d) = &a.detail else {
        panic!("{what}: {:?}", a.detail)
    };
    let d: &MqttDetail = d;
    let u = |k: &str| p.get(k).and_then(Value::as_u64);
    let b = |k: &str| p.get(k).and_then(Value::as_bool);
    assert_eq!(
        u64::from(d.remaining_length),
        u("remaining_length").unwrap(),
        "{what}"
    );
    assert_eq!(d.qos.map(u64::from), u("qos"), "{what} qos");
    if kind == "PUBLISH" {
        assert_eq!(d.retain, b("retain").unwrap(), "{what} retain");
        assert_eq!(d.dup, b("dup").unwrap(), "{what} dup");
        assert_eq!(a.name.as_deref(), p["topic"].as_str(), "{what} topic");
        assert_eq!(d.payload_len.map(|n| n as u64), u("payload_len"), "{what}");
        if let Some(text) = p.get("payload").and_then(Value::as_str) {
            assert_eq!(d.payload_len, Some(text.len()), "{what} payload");
        }
    }
    assert_eq!(a.id, p.get("id").and_then(num_id), "{what} id");
    assert_eq!(d.packet_id.map(u64::from), u("id"), "{what} id");
    if let Some(pl) = u("props_len") {
        assert_eq!(
            d.properties_len.map(u64::from),
            Some(pl),
            "{what} props_len"
        );
    }
    if kind == "CONNECT" {
        assert_eq!(d.protocol_name.as_deref(), p["protocol"].as_str(), "{what}");
        assert_eq!(d.level.map(u64::from), u("level"), "{what}");
        assert_eq!(d.clean_start, b("clean"), "{what}");
        assert_eq!(d.keep_alive.map(u64::from), u("keepalive"), "{what}");
        assert_eq!(d.will, b("will"), "{what}");
        assert_eq!(d.username, b("username"), "{what}");
        assert_eq!(d.password, b("password"), "{what}");
        assert_eq!(d.client_id.as_deref(), p["client_id"].as_str(), "{what}");
    }
    if kind == "CONNACK" {
        assert_eq!(d.session_present, b("session_present"), "{what}");
        assert_eq!(d.reason_code.map(u64::from), u("rc"), "{what}");
        assert!(
            d.latency_us.is_some(),
            "{what}: CONNACK paired with CONNECT"
        );
    }
    if kind == "PINGRESP" {
        assert!(
            d.latency_us.is_some_and(|l| l >= 0),
            "{what}: PINGRESP paired with PINGREQ"
        );
    }
    if let Some(r) = u("reason") {
        match kind {
            "UNSUBACK" => assert_eq!(d.reason_codes, vec![r as u8], "{what}"),
            _ => assert_eq!(d.reason_code.map(u64::from), Some(r), "{what}"),
        }
    }
    if let Some(g) = p.get("granted").and_then(Value::as_array) {
        let g: Vec<u8> = g.iter().map(|x| x.as_u64().unwrap() as u8).collect();
        assert_eq!(d.reason_codes, g, "{what} granted");
    }
    if let Some(topics) = p.get("topics").and_then(Value::as_array) {
        assert_eq!(d.topics.len(), topics.len(), "{what}");
        for (got, want) in d.topics.iter().zip(topics) {
            assert_eq!(got.filter, want["filter"].as_str().unwrap(), "{what}");
            assert_eq!(
                got.qos.map(u64::from),
                want.get("qos").and_then(Value::as_u64),
                "{what}"
            );
        }
    }
    all_checked(
        p,
        &[
            "type",
            "remaining_length",
            "qos",
            "retain",
            "dup",
            "topic",
            "id",
            "payload_len",
            "payload",
            "props_len",
            "protocol",
            "level",
            "clean",
            "keepalive",
            "will",
            "username",
            "password",
            "client_id",
            "session_present",
            "rc",
            "reason",
            "granted",
            "topics",
        ],
        what,
    );
}

#[test]
fn mqtt5_paho_and_mosquitto() {
    let name = "mqtt_paho_mosquitto";
    let t = run(name, |meaning, out, what| {
        let packets = meaning["packets"].as_array().unwrap();
        assert_eq!(out.len(), packets.len(), "{what}: {out:?}");
        for (a, p) in out.iter().zip(packets) {
            check_mqtt_packet(p.as_object().unwrap(), a, what);
        }
    });
    assert_eq!(t.messages, expected_messages(name));
    assert_eq!(t.app_packets, 33);
}

// ---------------------------------------------------------------- GraphQL

#[test]
fn graphql_transport_ws() {
    let name = "graphql_transport_ws";
    // Operations in progress by the facts: subscribe opens, complete/error closes.
    let mut active: HashMap<String, (String, String)> = HashMap::new();
    let t = run(name, |meaning, out, what| {
        assert_eq!(out.len(), 1, "{what}");
        let a = &out[0];
        let mo = meaning.as_object().unwrap();
        assert_eq!(a.protocol, Protocol::GraphqlTransportWs, "{what}");
        let kind = mo["type"].as_str().unwrap();
        assert_eq!(a.kind, kind, "{what}");
        let id = mo.get("id").and_then(Value::as_str);
        assert_eq!(a.id, id.map(|s| AppId::Text(s.into())), "{what}");
        let Detail::Graphql(d) = &a.detail else {
            panic!("{what}")
        };
        let payload = mo.get("payload");
        match kind {
            "subscribe" => {
                let p = payload.unwrap();
                let op_name = p["operationName"].as_str().unwrap();
                let op_type = p["operation"]
                    .as_str()
                    .unwrap()
                    .split_whitespace()
                    .next()
                    .unwrap();
                assert_eq!(a.name.as_deref(), Some(op_name), "{what}");
                assert_eq!(d.operation_type.as_deref(), Some(op_type), "{what}");
                active.insert(id.unwrap().into(), (op_name.into(), op_type.into()));
            }
            "next" | "complete" | "error" => {
                let op = active.get(id.unwrap()).cloned();
                assert_eq!(
                    a.name,
                    op.as_ref().map(|o| o.0.clone()),
                    "{what} operation name"
                );
                assert_eq!(d.operation_type, op.as_ref().map(|o| o.1.clone()), "{what}");
                if kind != "next" {
                    active.remove(id.unwrap());
                    assert!(
                        op.is_none() || d.results.is_some(),
                        "{what}: results counted"
                    );
                }
                if let Some(p) = payload {
                    if let Some(keys) = p.get("data_keys").and_then(Value::as_array) {
                        let keys: Vec<&str> = keys.iter().map(|k| k.as_str().unwrap()).collect();
                        assert_eq!(d.data_keys, keys, "{what}");
                    }
                    assert_eq!(
                        d.errors.map(|n| n as u64),
                        p.get("errors").and_then(Value::as_u64),
                        "{what}"
                    );
                    all_checked(p.as_object().unwrap(), &["data_keys", "errors"], what);
                }
            }
            "pong" => assert!(d.latency_us.is_some(), "{what}: pong paired with ping"),
            "connection_ack" => assert!(d.latency_us.is_some(), "{what}: ack paired with init"),
            _ => assert!(a.name.is_none(), "{what}"),
        }
        all_checked(mo, &["type", "id", "payload"], what);
    });
    assert_eq!(t.messages, expected_messages(name));
}

// ---------------------------------------------------------------- STOMP

#[test]
fn stomp_rabbitmq_and_stompjs() {
    let name = "stomp_rabbitmq_web_stomp";
    let mut negotiated_seen = false;
    let t = run(name, |meaning, out, what| {
        let frames = meaning["frames"].as_array().unwrap();
        assert_eq!(out.len(), frames.len(), "{what}: {out:?}");
        for (a, f) in out.iter().zip(frames) {
            let fo = f.as_object().unwrap();
            assert_eq!(a.protocol, Protocol::Stomp, "{what}");
            let command = fo["command"].as_str().unwrap();
            assert_eq!(a.kind, command, "{what}");
            let Detail::Stomp(d) = &a.detail else {
                panic!("{what}")
            };
            let d: &StompDetail = d;
            if command == "HEARTBEAT" {
                assert_eq!(fo["eol"], "\n", "{what}");
                assert!(d.headers.is_empty(), "{what}");
                assert!(
                    d.negotiated.is_some(),
                    "{what}: heart-beats negotiated before"
                );
                continue;
            }
            for (k, v) in fo {
                match k.as_str() {
                    "command" => {}
                    "body_len" => assert_eq!(d.body_len as u64, v.as_u64().unwrap(), "{what}"),
                    header => assert_eq!(d.header(header), v.as_str(), "{what} header {header}"),
                }
            }
            assert_eq!(
                a.name.as_deref(),
                fo.get("destination").and_then(Value::as_str),
                "{what}"
            );
            let id_header = match command {
                "SUBSCRIBE" | "UNSUBSCRIBE" | "ACK" => "id",
                "MESSAGE" => "message-id",
                "RECEIPT" => "receipt-id",
                "CONNECTED" => "session",
                _ => "receipt",
            };
            assert_eq!(
                a.id.as_ref().map(AppId::to_string).as_deref(),
                d.header(id_header),
                "{what}"
            );
            if let Some(cl) = fo.get("content-length") {
                assert_eq!(
                    d.content_length.map(|n| n.to_string()).as_deref(),
                    cl.as_str(),
                    "{what}"
                );
            }
            if let Some(hb) = fo.get("heart-beat").and_then(Value::as_str) {
                let (x, y) = hb.split_once(',').unwrap();
                assert_eq!(
                    d.heart_beat,
                    Some((x.parse().unwrap(), y.parse().unwrap())),
                    "{what}"
                );
            }
            if command == "CONNECTED" {
                let n = d
                    .negotiated
                    .expect("CONNECT then CONNECTED negotiate heart-beats");
                // Both offered 1000,1000: each side beats every max(1000, 1000) ms.
                assert_eq!((n.c2s_ms, n.s2c_ms), (1000, 1000), "{what}");
                negotiated_seen = true;
            }
            if command == "RECEIPT" {
                assert!(
                    d.latency_us.is_some(),
                    "{what}: receipt paired with its SEND"
                );
            }
        }
    });
    assert!(negotiated_seen);
    assert_eq!(t.messages, expected_messages(name));
}

// ---------------------------------------------------------------- JSON-RPC

#[test]
fn jsonrpc_rpc_websockets() {
    let name = "jsonrpc_rpc_websockets";
    let mut requests: HashMap<i64, String> = HashMap::new();
    let mut responses = 0;
    let t = run(name, |meaning, out, what| {
        assert_eq!(out.len(), 1, "{what}");
        let a = &out[0];
        let mo = meaning.as_object().unwrap();
        assert_eq!(a.protocol, Protocol::JsonRpc, "{what}");
        let kind = mo["kind"].as_str().unwrap();
        let Detail::JsonRpc(d) = &a.detail else {
            panic!("{what}")
        };
        let id = mo.get("id").and_then(Value::as_i64);
        assert_eq!(a.id, id.map(AppId::Num), "{what}");
        match kind {
            "request" | "notification" => {
                assert_eq!(a.kind, kind, "{what}");
                assert_eq!(a.name.as_deref(), mo["method"].as_str(), "{what}");
                if let Some(id) = id {
                    requests.insert(id, mo["method"].as_str().unwrap().into());
                }
            }
            "result" | "error" => {
                assert_eq!(
                    a.kind,
                    if kind == "result" {
                        "response"
                    } else {
                        "error"
                    },
                    "{what}"
                );
                // Paired with its request: the method and a latency.
                assert_eq!(a.name.as_ref(), requests.get(&id.unwrap()), "{what}");
                assert!(d.latency_us.is_some_and(|l| l >= 0), "{what}");
                assert_eq!(
                    d.error_code,
                    mo.get("code").and_then(Value::as_i64),
                    "{what}"
                );
                assert_eq!(
                    d.error_message.as_deref(),
                    mo.get("message").and_then(Value::as_str),
                    "{what}"
                );
                responses += 1;
            }
            "rpc-websockets event" => {
                assert_eq!(a.kind, "event", "{what}");
                assert_eq!(a.name.as_deref(), mo["event"].as_str(), "{what}");
                assert_eq!(d.dialect, Some("rpc-websockets"), "{what}");
            }
            other => panic!("{what}: kind {other}"),
        }
        all_checked(
            mo,
            &["kind", "method", "id", "code", "message", "event"],
            what,
        );
    });
    assert_eq!(responses, 10);
    assert_eq!(t.messages, expected_messages(name));
}

/// Every capture of the directory is covered by a test above.
#[test]
fn every_capture_is_checked() {
    let mut names: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|f| f.strip_suffix(".facts.json").map(str::to_owned))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "graphql_transport_ws",
            "jsonrpc_rpc_websockets",
            "mqtt_paho_mosquitto",
            "socketio_polling_upgrade",
            "stomp_rabbitmq_web_stomp"
        ]
    );
}
