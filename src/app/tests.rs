//! Unit tests of the application-protocol decoders: hand-built packets of the
//! cases the real captures do not show (MQTT 3.1.1, legacy graphql-ws, Engine.IO
//! v3, STOMP split and batched, JSON-RPC batches and errors) and hostile input.

use proptest::prelude::*;

use super::*;
use crate::types::Direction::{C2S, S2C};

fn dec(sub: Option<&str>, path: &str) -> AppDecoder {
    AppDecoder::new(AppContext {
        subprotocol: sub.map(str::to_owned),
        path: path.to_owned(),
    })
}

fn codes(m: &AppMessage) -> Vec<&'static str> {
    m.violations.iter().map(|v| v.rule.code).collect()
}

fn mqtt(m: &AppMessage) -> &mqtt::MqttDetail {
    match &m.detail {
        Detail::Mqtt(d) => d,
        other => panic!("not MQTT: {other:?}"),
    }
}

fn sio(m: &AppMessage) -> &socketio::SocketIoDetail {
    match &m.detail {
        Detail::SocketIo(d) => d,
        other => panic!("not Socket.IO: {other:?}"),
    }
}

fn stomp(m: &AppMessage) -> &stomp::StompDetail {
    match &m.detail {
        Detail::Stomp(d) => d,
        other => panic!("not STOMP: {other:?}"),
    }
}

fn rpc(m: &AppMessage) -> &jsonrpc::JsonRpcDetail {
    match &m.detail {
        Detail::JsonRpc(d) => d,
        other => panic!("not JSON-RPC: {other:?}"),
    }
}

fn gql(m: &AppMessage) -> &graphql::GraphqlDetail {
    match &m.detail {
        Detail::Graphql(d) => d,
        other => panic!("not GraphQL: {other:?}"),
    }
}

/// An MQTT packet: fixed header byte, Remaining Length, body.
fn packet(first: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![first];
    let mut n = body.len();
    loop {
        let mut b = (n % 128) as u8;
        n /= 128;
        if n > 0 {
            b |= 0x80;
        }
        out.push(b);
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(body);
    out
}

fn mstr(s: &str) -> Vec<u8> {
    let mut v = (s.len() as u16).to_be_bytes().to_vec();
    v.extend_from_slice(s.as_bytes());
    v
}

fn connect_311(client: &str, keep_alive: u16) -> Vec<u8> {
    let mut body = mstr("MQTT");
    body.push(4); // level 3.1.1
    body.push(0x02); // clean session
    body.extend_from_slice(&keep_alive.to_be_bytes());
    body.extend(mstr(client));
    packet(0x10, &body)
}

// ------------------------------------------------------------------ MQTT 3.1.1

#[test]
fn mqtt_311_connect_publish_subscribe_ping() {
    let mut d = dec(Some("mqttv3.1"), "/mqtt");
    let out = d.message(C2S, false, &connect_311("dev-7", 60), 1_000);
    assert_eq!(out.len(), 1);
    let c = &out[0];
    assert_eq!((c.protocol, c.kind.as_str()), (Protocol::Mqtt, "CONNECT"));
    assert!(c.violations.is_empty(), "{:?}", c.violations);
    let cd = mqtt(c);
    assert_eq!(cd.level, Some(4));
    assert_eq!(cd.client_id.as_deref(), Some("dev-7"));
    assert_eq!(cd.keep_alive, Some(60));
    assert_eq!(cd.clean_start, Some(true));
    assert_eq!(
        c.summary(),
        "mqtt CONNECT client \"dev-7\" MQTT 3.1.1 keep-alive 60 s"
    );

    let out = d.message(S2C, false, &packet(0x20, &[0, 0]), 1_500);
    assert_eq!(out[0].kind, "CONNACK");
    assert_eq!(mqtt(&out[0]).latency_us, Some(500));
    assert_eq!(mqtt(&out[0]).session_present, Some(false));

    // PUBLISH QoS 1 retain, id 10, and SUBSCRIBE in ONE WebSocket message.
    let mut publish = mstr("a/b");
    publish.extend_from_slice(&10u16.to_be_bytes());
    publish.extend_from_slice(b"hello");
    let mut sub = 11u16.to_be_bytes().to_vec();
    sub.extend(mstr("a/#"));
    sub.push(1);
    sub.extend(mstr("c/+"));
    sub.push(0);
    let mut both = packet(0x33, &publish);
    both.extend(packet(0x82, &sub));
    let out = d.message(C2S, false, &both, 2_000);
    assert_eq!(out.len(), 2);
    let p = &out[0];
    assert_eq!(
        (p.kind.as_str(), p.name.as_deref(), p.id.clone()),
        ("PUBLISH", Some("a/b"), Some(AppId::Num(10)))
    );
    let pd = mqtt(p);
    assert_eq!(
        (pd.qos, pd.retain, pd.dup, pd.payload_len),
        (Some(1), true, false, Some(5))
    );
    assert!(p.violations.is_empty());
    let s = &out[1];
    assert_eq!(s.kind, "SUBSCRIBE");
    assert_eq!(s.name.as_deref(), Some("a/#, c/+"));
    let topics: Vec<_> = mqtt(s)
        .topics
        .iter()
        .map(|t| (t.filter.as_str(), t.qos))
        .collect();
    assert_eq!(topics, [("a/#", Some(1)), ("c/+", Some(0))]);

    // PUBACK and SUBACK answer them, with latencies.
    let mut answers = packet(0x40, &10u16.to_be_bytes());
    answers.extend(packet(0x90, &[0, 11, 1, 0x80]));
    let out = d.message(S2C, false, &answers, 2_750);
    assert_eq!(out[0].kind, "PUBACK");
    assert_eq!(mqtt(&out[0]).latency_us, Some(750));
    assert_eq!(out[1].kind, "SUBACK");
    assert_eq!(mqtt(&out[1]).reason_codes, [1, 0x80]);
    assert!(out.iter().all(|m| m.violations.is_empty()));

    // PINGREQ / PINGRESP paired.
    assert_eq!(d.message(C2S, false, &[0xC0, 0], 10_000)[0].kind, "PINGREQ");
    let out = d.message(S2C, false, &[0xD0, 0], 10_250);
    assert_eq!(out[0].kind, "PINGRESP");
    assert_eq!(mqtt(&out[0]).latency_us, Some(250));
    assert!(
        out[0].summary().ends_with("after 0.250 ms"),
        "{}",
        out[0].summary()
    );
}

#[test]
fn mqtt_packet_spanning_messages_byte_by_byte() {
    let mut d = dec(Some("mqtt"), "/");
    d.message(C2S, false, &connect_311("x", 10), 0);
    let mut body = mstr("t");
    body.extend_from_slice(&[b'z'; 300]); // two-byte Remaining Length
    let p = packet(0x30, &body);
    let mut got = Vec::new();
    for (i, b) in p.iter().enumerate() {
        let out = d.message(C2S, false, std::slice::from_ref(b), i as i64);
        if i + 1 < p.len() {
            assert!(out.is_empty(), "nothing before the last byte ({i})");
        }
        got.extend(out);
    }
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].name.as_deref(), Some("t"));
    assert_eq!(mqtt(&got[0]).payload_len, Some(300));
    assert_eq!(mqtt(&got[0]).remaining_length, 303);
    assert_eq!(
        got[0].ts_micros,
        p.len() as i64 - 1,
        "stamped with the completing message"
    );
}

#[test]
fn mqtt5_properties_are_skipped_and_read() {
    let mut d = dec(Some("mqtt"), "/");
    let mut body = mstr("MQTT");
    body.extend_from_slice(&[5, 0x02, 0, 30]);
    body.extend_from_slice(&[5, 0x11, 0, 0, 0, 9]); // properties: session expiry
    body.extend(mstr("c5"));
    let out = d.message(C2S, false, &packet(0x10, &body), 0);
    assert!(out[0].violations.is_empty(), "{:?}", out[0].violations);
    assert_eq!(mqtt(&out[0]).level, Some(5));
    // PUBLISH with topic alias 3, a user property and a content type.
    let mut props = vec![0x23, 0, 3, 0x26];
    props.extend(mstr("k"));
    props.extend(mstr("v"));
    props.push(0x03);
    props.extend(mstr("text/plain"));
    let mut body = mstr("long/topic");
    body.push(props.len() as u8);
    body.extend(&props);
    body.extend_from_slice(b"data");
    let out = d.message(C2S, false, &packet(0x30, &body), 1);
    let pd = mqtt(&out[0]);
    assert_eq!(pd.topic_alias, Some(3));
    assert_eq!(pd.user_properties, 1);
    assert_eq!(pd.content_type.as_deref(), Some("text/plain"));
    assert_eq!(pd.payload_len, Some(4));
    // Then the alias alone: the topic is remembered.
    let mut body = mstr("");
    body.extend_from_slice(&[3, 0x23, 0, 3]);
    body.extend_from_slice(b"xy");
    let out = d.message(C2S, false, &packet(0x30, &body), 2);
    assert_eq!(out[0].name.as_deref(), Some("long/topic"));
    assert!(out[0].violations.is_empty());
    // An unknown property identifier is a malformed packet.
    let mut body = mstr("t");
    body.extend_from_slice(&[2, 0x7f, 0]);
    let out = d.message(C2S, false, &packet(0x30, &body), 3);
    assert_eq!(codes(&out[0]), ["mqtt_malformed"]);
}

#[test]
fn mqtt_violations() {
    let mut d = dec(Some("mqtt"), "/");
    d.message(C2S, false, &connect_311("x", 10), 0);
    // QoS 3.
    let mut body = mstr("t");
    body.extend_from_slice(&[0, 1]);
    assert_eq!(
        codes(&d.message(C2S, false, &packet(0x36, &body), 1)[0]),
        ["mqtt_bad_qos"]
    );
    // Wildcard in a PUBLISH topic.
    assert_eq!(
        codes(&d.message(C2S, false, &packet(0x30, &mstr("a/+")), 1)[0]),
        ["mqtt_wildcard_in_topic"]
    );
    // SUBSCRIBE with flags 0000 and no topic.
    let out = d.message(C2S, false, &packet(0x80, &[0, 1]), 2);
    assert_eq!(codes(&out[0]), ["mqtt_bad_flags", "mqtt_no_topic_filter"]);
    // Packet id 0 on PUBACK.
    assert_eq!(
        codes(&d.message(S2C, false, &packet(0x40, &[0, 0]), 3)[0]),
        ["mqtt_zero_packet_id"]
    );
    // Reserved type 0.
    assert_eq!(
        codes(&d.message(S2C, false, &[0x00, 0x00], 3)[0]),
        ["mqtt_reserved_type"]
    );
    // A packet shorter than its fields.
    assert_eq!(
        codes(&d.message(S2C, false, &packet(0x40, &[0]), 3)[0]),
        ["mqtt_malformed"]
    );
    // Text message.
    assert_eq!(
        codes(&d.message(S2C, true, b"hi", 3)[0]),
        ["mqtt_not_binary"]
    );
    // Five-byte Remaining Length: reported, the direction's bytes dropped.
    let out = d.message(C2S, false, &[0x30, 0xff, 0xff, 0xff, 0xff, 0x01, 9, 9], 4);
    assert_eq!(codes(&out[0]), ["mqtt_bad_remaining_length"]);
    // Decoding resumes at the next message.
    assert_eq!(d.message(C2S, false, &[0xC0, 0], 5)[0].kind, "PINGREQ");
}

#[test]
fn mqtt_huge_remaining_length_is_skipped_not_held() {
    let mut d = dec(Some("mqtt"), "/");
    // PUBLISH announcing 268 435 455 bytes (the maximum), then 1000 of them.
    let mut first = vec![0x30, 0xff, 0xff, 0xff, 0x7f];
    first.extend(mstr("t"));
    let out = d.message(C2S, false, &first, 0);
    assert_eq!(out.len(), 1);
    assert!(mqtt(&out[0]).skipped);
    assert_eq!(mqtt(&out[0]).remaining_length, 268_435_455);
    assert!(out[0].summary().contains("skipped"));
    for i in 0..10 {
        assert!(d.message(C2S, false, &[0u8; 100_000], i).is_empty());
    }
    let State::Mqtt(s) = &d.state else { panic!() };
    assert!(s.held(C2S) == 0, "nothing held while skipping");
    // The other direction is unaffected.
    assert_eq!(d.message(S2C, false, &[0xD0, 0], 11)[0].kind, "PINGRESP");
}

// ------------------------------------------------------------------ GraphQL legacy

#[test]
fn graphql_ws_legacy_flow() {
    let mut d = dec(Some("graphql-ws"), "/graphql");
    let send = |d: &mut AppDecoder, dir, s: &str, ts| {
        let out = d.message(dir, true, s.as_bytes(), ts);
        assert_eq!(out.len(), 1);
        out.into_iter().next().unwrap()
    };
    let m = send(&mut d, C2S, r#"{"type":"connection_init","payload":{}}"#, 0);
    assert_eq!(
        (m.protocol, m.kind.as_str()),
        (Protocol::GraphqlWs, "connection_init")
    );
    let m = send(&mut d, S2C, r#"{"type":"connection_ack"}"#, 100);
    assert_eq!(gql(&m).latency_us, Some(100));
    assert_eq!(send(&mut d, S2C, r#"{"type":"ka"}"#, 150).kind, "ka");
    let m = send(
        &mut d,
        C2S,
        r##"{"id":"1","type":"start","payload":{"query":"# comment\nsubscription OnMessage($c: ID!) { message(channel: $c) { text } }","variables":{"c":"x"}}}"##,
        200,
    );
    assert_eq!(m.kind, "start");
    assert_eq!(m.name.as_deref(), Some("OnMessage"));
    assert_eq!(gql(&m).operation_type.as_deref(), Some("subscription"));
    assert_eq!(m.id, Some(AppId::Text("1".into())));
    assert!(m.violations.is_empty(), "{:?}", m.violations);
    for n in 1..=2 {
        let m = send(
            &mut d,
            S2C,
            r#"{"id":"1","type":"data","payload":{"data":{"message":{"text":"hi"}}}}"#,
            300,
        );
        assert_eq!(m.name.as_deref(), Some("OnMessage"));
        assert_eq!(gql(&m).results, Some(n));
        assert_eq!(gql(&m).data_keys, ["message"]);
    }
    let m = send(&mut d, C2S, r#"{"id":"1","type":"stop"}"#, 1_200);
    assert_eq!(m.name.as_deref(), Some("OnMessage"));
    assert_eq!(gql(&m).results, Some(2));
    assert_eq!(gql(&m).elapsed_us, Some(1_000));
    assert!(m.violations.is_empty());
    // An anonymous query, then a transport-ws type on a legacy connection.
    let m = send(
        &mut d,
        C2S,
        r#"{"id":"2","type":"start","payload":{"query":"{ a }"}}"#,
        1_300,
    );
    assert_eq!(
        (m.name.clone(), gql(&m).operation_type.as_deref()),
        (None, Some("query"))
    );
    let m = send(
        &mut d,
        C2S,
        r#"{"id":"3","type":"subscribe","payload":{"query":"{ a }"}}"#,
        1_400,
    );
    assert!(codes(&m).contains(&"gql_wrong_protocol"));
    // Duplicate id, missing query, wrong direction, not an object.
    let m = send(
        &mut d,
        C2S,
        r#"{"id":"2","type":"start","payload":{}}"#,
        1_500,
    );
    assert_eq!(codes(&m), ["gql_missing_query", "gql_duplicate_id"]);
    assert_eq!(
        codes(&send(&mut d, C2S, r#"{"id":"2","type":"data"}"#, 1_600)),
        ["gql_wrong_direction"]
    );
    assert_eq!(
        codes(&send(&mut d, C2S, r#"[1]"#, 1_700)),
        ["gql_bad_message"]
    );
    assert_eq!(
        codes(&send(&mut d, C2S, r#"{"type":"#, 1_700)),
        ["app_bad_json"]
    );
}

#[test]
fn graphql_flavour_sniffed_without_subprotocol() {
    let mut d = dec(None, "/graphql");
    let m = &d.message(C2S, true, br#"{"type":"connection_init"}"#, 0)[0];
    assert_eq!(m.protocol, Protocol::GraphqlTransportWs);
    let m = &d.message(
        C2S,
        true,
        br#"{"id":"1","type":"start","payload":{"query":"query Q { a }"}}"#,
        1,
    )[0];
    assert_eq!(
        m.protocol,
        Protocol::GraphqlWs,
        "a legacy-only type settles the flavour"
    );
    assert!(m.violations.is_empty());
    assert_eq!(d.protocol(), Some(Protocol::GraphqlWs));
}

#[test]
fn graphql_operation_names_from_query_text() {
    use graphql::operation_of;
    assert_eq!(
        operation_of("subscription Foo { x }"),
        Some(("subscription".into(), Some("Foo".into())))
    );
    assert_eq!(operation_of("mutation{x}"), Some(("mutation".into(), None)));
    assert_eq!(
        operation_of("fragment F on T { a { b } }\nquery Named($v: Int) { ...F }"),
        Some(("query".into(), Some("Named".into())))
    );
    assert_eq!(operation_of("  { a }"), Some(("query".into(), None)));
    assert_eq!(operation_of("type X { a: Int }"), None);
    assert_eq!(operation_of(""), None);
}

// ------------------------------------------------------------------ Engine.IO v3 / Socket.IO

#[test]
fn engine_io_v3_polling_payloads() {
    let path = "/socket.io/?EIO=3&transport=polling&t=N1";
    let mut d = dec(None, path);
    // v3 length-prefixed records; the length counts UTF-16 units ("é" is 1, "😀" is 2).
    let open = r#"0{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000}"#;
    let event = r#"42["é😀"]"#;
    let body = format!(
        "{}:{open}2:40{}:{event}",
        open.chars().count(),
        event.encode_utf16().count()
    );
    let out = d.http_body(S2C, path, body.as_bytes(), 0);
    let kinds: Vec<_> = out.iter().map(|m| (m.protocol, m.kind.as_str())).collect();
    assert_eq!(
        kinds,
        [
            (Protocol::EngineIo, "open"),
            (Protocol::SocketIo, "CONNECT"),
            (Protocol::SocketIo, "EVENT")
        ]
    );
    assert!(out.iter().all(|m| m.violations.is_empty()), "{out:?}");
    assert_eq!(out[2].name.as_deref(), Some("é😀"));
    // v3's type 4 is ERROR (CONNECT_ERROR in v5).
    let out = d.http_body(S2C, path, b"18:44\"Not authorized\"", 1);
    assert_eq!(out[0].kind, "ERROR");
    assert_eq!(sio(&out[0]).error.as_deref(), Some("Not authorized"));
    // A wrong length is a broken payload.
    let out = d.http_body(S2C, path, b"5:40", 2);
    assert_eq!(codes(&out[0]), ["eio_bad_payload"]);
    // XHR2 binary payload: a string record "2" (ping) then a binary record \x04 + 3 bytes.
    let mut bin = vec![0u8, 1, 0xff, b'2'];
    bin.extend_from_slice(&[1, 4, 0xff, 4, 7, 8, 9]);
    let out = d.http_body(S2C, path, &bin, 3);
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].kind, "ping");
    assert_eq!(out[1].kind, "message");
    match &out[1].detail {
        Detail::EngineIo(e) => assert!(e.binary && e.data_len == 3),
        other => panic!("{other:?}"),
    }
    // Not an Engine.IO path: nothing.
    assert!(d.http_body(S2C, "/api/x", b"2", 4).is_empty());
}

/// Found by the `app` fuzz target: a later record of an XHR2 binary payload beginning
/// with 0xFF (instead of 0 or 1) panicked (slice index starts at 1 but ends at 0).
#[test]
fn engine_io_v3_binary_payload_record_with_a_bad_type_byte() {
    let path = "/socket.io/?EIO=3&transport=polling";
    let mut d = dec(None, path);
    let out = d.http_body(S2C, path, &[0, 1, 0xff, b'2', 0xff, 1, 0xff], 0);
    assert_eq!(out.len(), 2, "{out:?}");
    assert_eq!(out[0].kind, "ping");
    assert_eq!(codes(&out[1]), ["eio_bad_payload"]);
    let out = d.http_body(S2C, path, &[1, 1, 0xff, 4, 7, 0xff], 1);
    assert_eq!(codes(out.last().unwrap()), ["eio_bad_payload"]);
}

#[test]
fn engine_io_v3_websocket_binary_attachment() {
    let mut d = dec(None, "/socket.io/?EIO=3&transport=websocket");
    let out = d.message(
        C2S,
        true,
        br#"451-7["up",{"_placeholder":true,"num":0}]"#,
        0,
    );
    assert_eq!(
        (out[0].kind.as_str(), out[0].id.clone()),
        ("BINARY_EVENT", Some(AppId::Num(7)))
    );
    assert!(out[0].violations.is_empty(), "{:?}", out[0].violations);
    // v3 prefixes binary messages with the type byte 4.
    let out = d.message(C2S, false, &[4, 1, 2, 3], 1);
    let a = &out[0];
    assert_eq!(
        (a.kind.as_str(), a.name.as_deref(), a.id.clone()),
        ("attachment", Some("up"), Some(AppId::Num(7)))
    );
    let att = sio(a).attachment.clone().unwrap();
    assert_eq!(
        (att.index, att.of_total, att.of, att.len),
        (0, 1, "BINARY_EVENT", 3)
    );
    assert_eq!(
        a.summary(),
        "socket.io attachment 1 of 1 for BINARY_EVENT \"up\" (3 B) nsp / ack 7"
    );
    // Without the 4: a violation.
    assert_eq!(
        codes(&d.message(C2S, false, &[9, 1], 2)[0]),
        ["eio_bad_packet_type"]
    );
}

#[test]
fn engine_io_v4_polling_with_binary_and_separators() {
    let path = "/socket.io/?EIO=4&transport=polling";
    let mut d = dec(None, path);
    let body = "451-[\"pic\",{\"_placeholder\":true,\"num\":0}]\x1ebAQID\x1e2";
    let out = d.http_body(C2S, path, body.as_bytes(), 0);
    let kinds: Vec<_> = out.iter().map(|m| m.kind.as_str()).collect();
    assert_eq!(kinds, ["BINARY_EVENT", "attachment", "ping"]);
    assert!(out.iter().all(|m| m.violations.is_empty()), "{out:?}");
    assert_eq!(sio(&out[1]).attachment.as_ref().unwrap().len, 3);
    assert_eq!(
        codes(&d.http_body(C2S, path, b"2\x1e\x1e3", 1)[1]),
        ["eio_bad_payload"]
    );
    assert_eq!(
        codes(&d.http_body(C2S, path, b"b!!!", 1)[0]),
        ["eio_bad_base64"]
    );
    assert!(
        d.http_body(S2C, path, b"ok", 2).is_empty(),
        "the POST's answer"
    );
}

#[test]
fn socketio_attachment_violations_and_namespaces() {
    let mut d = dec(None, "/socket.io/?EIO=4&transport=websocket");
    // A binary message with nothing waiting.
    let out = d.message(S2C, false, b"\x01\x02", 0);
    assert_eq!(codes(&out[0]), ["sio_unexpected_attachment"]);
    // Two announced, one sent, then a text packet.
    d.message(
        S2C,
        true,
        br#"452-/admin,["two",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
        1,
    );
    let a = &d.message(S2C, false, b"x", 2)[0];
    assert_eq!(
        (sio(a).namespace.as_str(), a.name.as_deref()),
        ("/admin", Some("two"))
    );
    let out = d.message(S2C, true, br#"42["next"]"#, 3);
    assert_eq!(codes(&out[0]), ["sio_missing_attachment"]);
    // Count that disagrees with the placeholders; bad payloads; bad types.
    assert_eq!(
        codes(&d.message(C2S, true, br#"452-["a",{"_placeholder":true,"num":0}]"#, 4)[0]),
        ["sio_bad_header"]
    );
    d = dec(None, "/socket.io/?EIO=4&transport=websocket");
    assert_eq!(
        codes(&d.message(C2S, true, br#"42{"a":1}"#, 5)[0]),
        ["sio_bad_payload"]
    );
    assert_eq!(
        codes(&d.message(C2S, true, br#"42[1]"#, 5)[0]),
        ["sio_bad_payload"]
    );
    assert_eq!(
        codes(&d.message(C2S, true, b"42[", 5)[0]),
        ["sio_bad_payload"]
    );
    assert_eq!(
        codes(&d.message(C2S, true, b"43[]", 5)[0]),
        ["sio_bad_header"]
    );
    assert_eq!(
        codes(&d.message(C2S, true, b"49", 5)[0]),
        ["sio_bad_packet_type"]
    );
    assert_eq!(
        codes(&d.message(C2S, true, b"7", 5)[0]),
        ["eio_bad_packet_type"]
    );
    assert_eq!(
        codes(&d.message(C2S, true, b"", 5)[0]),
        ["eio_bad_packet_type"]
    );
    let m = &d.message(S2C, true, br#"44/admin,{"message":"Not authorized"}"#, 6)[0];
    assert_eq!(
        (m.kind.as_str(), sio(m).error.as_deref()),
        ("CONNECT_ERROR", Some("Not authorized"))
    );
    assert_eq!(
        m.summary(),
        "socket.io CONNECT_ERROR nsp /admin: Not authorized"
    );
}

// ------------------------------------------------------------------ STOMP

#[test]
fn stomp_frames_split_and_batched() {
    let mut d = dec(Some("v12.stomp"), "/ws");
    let connect = b"CONNECT\naccept-version:1.2\nhost:/\nheart-beat:5000,0\n\n\0";
    assert_eq!(d.message(C2S, true, connect, 0)[0].kind, "CONNECT");
    // CONNECTED and a heart-beat in one message; negotiated: client sends every
    // max(5000, 2000); the server does not (the client wants none).
    let out = d.message(
        S2C,
        true,
        b"CONNECTED\r\nversion:1.2\r\nheart-beat:0,2000\r\n\r\n\0\r\n",
        100,
    );
    assert_eq!(
        out.iter().map(|m| m.kind.as_str()).collect::<Vec<_>>(),
        ["CONNECTED", "HEARTBEAT"]
    );
    let n = stomp(&out[0]).negotiated.unwrap();
    assert_eq!((n.c2s_ms, n.s2c_ms), (5000, 0));
    assert_eq!(stomp(&out[0]).latency_us, Some(100));
    // A SEND split over three messages, content-length with a NUL inside the body.
    let frame = b"SEND\ndestination:/queue/a\nreceipt:r1\ncontent-length:5\n\nab\0cd\0";
    assert!(d.message(C2S, true, &frame[..10], 200).is_empty());
    assert!(d.message(C2S, true, &frame[10..52], 201).is_empty());
    let out = d.message(C2S, true, &frame[52..], 202);
    assert_eq!(out.len(), 1);
    let s = &out[0];
    assert_eq!(
        (s.kind.as_str(), s.name.as_deref(), s.id.clone()),
        ("SEND", Some("/queue/a"), Some(AppId::Text("r1".into())))
    );
    assert_eq!(stomp(s).body_len, 5);
    assert!(s.violations.is_empty(), "{:?}", s.violations);
    // Two frames and heart-beats in one message; escaped header values (1.2).
    let batch = b"RECEIPT\nreceipt-id:r1\n\n\0\nMESSAGE\ndestination:/queue/a\nmessage-id:m\\c1\nsubscription:s\n\nhi\0\n\n";
    let out = d.message(S2C, true, batch, 500);
    assert_eq!(
        out.iter().map(|m| m.kind.as_str()).collect::<Vec<_>>(),
        ["RECEIPT", "HEARTBEAT", "MESSAGE", "HEARTBEAT", "HEARTBEAT"]
    );
    assert_eq!(stomp(&out[0]).latency_us, Some(298));
    assert_eq!(out[2].id, Some(AppId::Text("m:1".into())));
    assert_eq!(stomp(&out[2]).body_len, 2);
    assert_eq!(stomp(&out[4]).since_previous_us, Some(0));
    assert!(out.iter().all(|m| m.violations.is_empty()));
    // The client's heart-beat, with the time since its previous frame.
    let out = d.message(C2S, true, b"\n", 5_202);
    assert_eq!(stomp(&out[0]).since_previous_us, Some(5_000));
    assert_eq!(
        out[0].summary(),
        "stomp HEARTBEAT (negotiated every 5000 ms) 5.000 ms since the previous"
    );
}

#[test]
fn stomp_violations() {
    let mut d = dec(Some("v12.stomp"), "/");
    let v = |d: &mut AppDecoder, f: &[u8]| codes(&d.message(C2S, true, f, 0)[0]);
    assert_eq!(v(&mut d, b"FOO\n\n\0"), ["stomp_unknown_command"]);
    assert_eq!(
        v(&mut d, b"SEND\nnocolon\ndestination:/a\n\n\0"),
        ["stomp_bad_header"]
    );
    assert_eq!(
        v(&mut d, b"SEND\ndestination:/a\\t\n\n\0"),
        ["stomp_bad_header"]
    );
    assert_eq!(v(&mut d, b"SEND\n\n\0"), ["stomp_missing_header"]);
    assert_eq!(
        v(&mut d, b"SUBSCRIBE\ndestination:/a\n\n\0"),
        ["stomp_missing_header"]
    );
    assert_eq!(
        v(&mut d, b"SEND\ndestination:/a\ncontent-length:1\n\nabc\0"),
        ["stomp_missing_nul"]
    );
    assert_eq!(
        v(&mut d, b"CONNECT\nheart-beat:x\n\n\0"),
        ["stomp_bad_heart_beat"]
    );
    // A frame that never ends: held up to MAX_FRAME, then reported and skipped.
    let mut d = dec(Some("v12.stomp"), "/");
    let mut all = Vec::new();
    all.extend(d.message(C2S, true, b"SEND\ndestination:/big\n\n", 0));
    for _ in 0..(stomp::MAX_FRAME / 65_536 + 1) {
        all.extend(d.message(C2S, true, &[b'x'; 65_536], 1));
    }
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].kind, "SEND");
    assert_eq!(codes(&all[0]), ["stomp_frame_too_large"]);
    assert!(d.message(C2S, true, b"yyy", 2).is_empty(), "still skipping");
    let out = d.message(C2S, true, b"zz\0SEND\ndestination:/a\n\n\0", 3);
    assert_eq!(out.len(), 1, "resumes after the NUL: {out:?}");
    assert!(out[0].violations.is_empty());
    // A content-length beyond MAX_FRAME: reported at once from its head, the body
    // skipped by count (NULs inside it do not matter), never held.
    let mut d = dec(Some("v12.stomp"), "/");
    let len = stomp::MAX_FRAME * 3;
    let head = format!("SEND\ndestination:/huge\ncontent-length:{len}\n\n");
    let out = d.message(C2S, true, head.as_bytes(), 0);
    assert_eq!(
        (out[0].kind.as_str(), out[0].name.as_deref()),
        ("SEND", Some("/huge"))
    );
    assert_eq!(codes(&out[0]), ["stomp_frame_too_large"]);
    assert!(stomp(&out[0]).skipped);
    for _ in 0..3 {
        assert!(d
            .message(C2S, true, &vec![0u8; stomp::MAX_FRAME], 1)
            .is_empty());
    }
    let out = d.message(C2S, true, b"\0\n", 2);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].kind, "HEARTBEAT");
}

// ------------------------------------------------------------------ JSON-RPC

#[test]
fn jsonrpc_batches_and_errors() {
    let mut d = dec(None, "/rpc");
    let out = d.message(
        C2S,
        true,
        br#"[{"jsonrpc":"2.0","method":"sum","params":[1,2],"id":"a"},{"jsonrpc":"2.0","method":"note"},{"jsonrpc":"2.0","method":"get","id":2}]"#,
        0,
    );
    let kinds: Vec<_> = out
        .iter()
        .map(|m| (m.kind.as_str(), m.name.as_deref()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("request", Some("sum")),
            ("notification", Some("note")),
            ("request", Some("get"))
        ]
    );
    assert_eq!(rpc(&out[2]).batch, Some((2, 3)));
    assert!(out.iter().all(|m| m.violations.is_empty()));
    let out = d.message(
        S2C,
        true,
        br#"[{"jsonrpc":"2.0","result":3,"id":"a"},{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"},"id":2}]"#,
        1_000,
    );
    assert_eq!(
        (out[0].kind.as_str(), out[0].name.as_deref()),
        ("response", Some("sum"))
    );
    assert_eq!(rpc(&out[0]).latency_us, Some(1_000));
    assert_eq!(
        (out[1].kind.as_str(), out[1].name.as_deref()),
        ("error", Some("get"))
    );
    assert_eq!(rpc(&out[1]).error_code, Some(-32601));
    assert_eq!(
        out[1].summary(),
        "json-rpc error get id 2 code -32601 \"Method not found\" [batch 2/2] after 1.000 ms"
    );
    // A string id and a numeric id with the same text are different requests.
    let r = &d.message(
        S2C,
        true,
        br#"{"jsonrpc":"2.0","result":1,"id":"2"}"#,
        2_000,
    )[0];
    assert_eq!(r.name, None);
    // Broken ones.
    let c = |d: &mut AppDecoder, s: &str| codes(&d.message(C2S, true, s.as_bytes(), 0)[0]);
    assert_eq!(c(&mut d, "[]"), ["jsonrpc_empty_batch"]);
    assert_eq!(c(&mut d, "[1]"), ["jsonrpc_not_object"]);
    assert_eq!(
        c(&mut d, r#"{"jsonrpc":"1.0","method":"m"}"#),
        ["jsonrpc_bad_version"]
    );
    assert_eq!(
        c(&mut d, r#"{"jsonrpc":"2.0","method":1}"#),
        ["jsonrpc_bad_method"]
    );
    assert_eq!(
        c(&mut d, r#"{"jsonrpc":"2.0","method":"m","id":{}}"#),
        ["jsonrpc_bad_id"]
    );
    assert_eq!(
        c(&mut d, r#"{"jsonrpc":"2.0","method":"m","params":3}"#),
        ["jsonrpc_bad_params"]
    );
    assert_eq!(
        c(
            &mut d,
            r#"{"jsonrpc":"2.0","result":1,"error":{"code":1,"message":"x"},"id":1}"#
        ),
        ["jsonrpc_bad_response"]
    );
    assert_eq!(
        c(&mut d, r#"{"jsonrpc":"2.0","result":1}"#),
        ["jsonrpc_bad_response"]
    );
    assert_eq!(
        c(
            &mut d,
            r#"{"jsonrpc":"2.0","error":{"message":"x"},"id":null}"#
        ),
        ["jsonrpc_bad_error"]
    );
    assert_eq!(c(&mut d, "{"), ["app_bad_json"]);
    let m = &d.message(
        S2C,
        true,
        br#"{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"},"id":null}"#,
        0,
    )[0];
    assert_eq!(m.id, Some(AppId::Null));
    assert!(m.violations.is_empty());
}

// ------------------------------------------------------------------ selection

#[test]
fn selection_by_subprotocol_path_and_payload() {
    assert_eq!(dec(Some("MQTT"), "/").protocol(), Some(Protocol::Mqtt));
    assert_eq!(
        dec(Some("v11.stomp"), "/").protocol(),
        Some(Protocol::Stomp)
    );
    assert_eq!(
        dec(Some("graphql-transport-ws"), "/").protocol(),
        Some(Protocol::GraphqlTransportWs)
    );
    assert_eq!(
        dec(None, "/socket.io/?EIO=4&transport=websocket").protocol(),
        Some(Protocol::SocketIo)
    );
    assert_eq!(
        dec(None, "/engine.io/?EIO=4&transport=websocket").protocol(),
        Some(Protocol::EngineIo)
    );
    assert_eq!(
        engine_io_version("/socket.io/?EIO=3&transport=polling"),
        Some(3)
    );
    assert_eq!(engine_io_version("/chat?x=1"), None);

    let first = |p: &[u8], text: bool| {
        let mut d = dec(None, "/");
        let out = d.message(C2S, text, p, 0);
        (
            d.protocol(),
            out.first().map(|m| (m.protocol, m.kind.clone())),
        )
    };
    assert_eq!(first(&connect_311("a", 1), false).0, Some(Protocol::Mqtt));
    assert_eq!(
        first(b"\nCONNECT\naccept-version:1.2\n\n\0", true).0,
        Some(Protocol::Stomp)
    );
    assert_eq!(
        first(br#"{"jsonrpc":"2.0","method":"m","id":1}"#, true).0,
        Some(Protocol::JsonRpc)
    );
    assert_eq!(
        first(br#"[{"jsonrpc":"2.0","method":"m"}]"#, true).0,
        Some(Protocol::JsonRpc)
    );
    assert_eq!(first(br#"42["chat",1]"#, true).0, Some(Protocol::SocketIo));
    assert_eq!(
        first(br#"0{"sid":"x","upgrades":[]}"#, true).0,
        Some(Protocol::EngineIo)
    );
    // Plain JSON stays generic (and the decoder keeps sniffing).
    let (p, m) = first(br#"{"event":"tick","n":1}"#, true);
    assert_eq!((p, m), (None, Some((Protocol::Json, "object".to_string()))));
    let (_, m) = first(b"42", true);
    assert_eq!(
        m,
        Some((Protocol::Json, "number".to_string())),
        "a bare number is JSON, not Engine.IO"
    );
    assert_eq!(first(b"hello", true), (None, None));
    assert_eq!(first(b"\x00\x01", false), (None, None));
    let mut d = dec(None, "/");
    let m = &d.message(C2S, true, br#"{"type":"sub","channel":"x"}"#, 0)[0];
    assert_eq!(m.name.as_deref(), Some("sub"));
    assert_eq!(m.summary(), "json object \"sub\" (2 keys)");
}

// ------------------------------------------------------------------ hostile input

fn all_decoders() -> Vec<AppDecoder> {
    vec![
        dec(None, "/"),
        dec(Some("mqtt"), "/"),
        dec(Some("v12.stomp"), "/"),
        dec(Some("graphql-transport-ws"), "/"),
        dec(Some("graphql-ws"), "/"),
        dec(Some("jsonrpc"), "/"),
        dec(None, "/socket.io/?EIO=4&transport=websocket"),
        dec(None, "/socket.io/?EIO=3&transport=websocket"),
    ]
}

#[test]
fn deep_json_never_panics() {
    let deep_array = "[".repeat(100_000);
    let deep_obj = r#"{"a":"#.repeat(50_000);
    let nested_ok = format!("{}1{}", "[".repeat(120), "]".repeat(120));
    for payload in [
        deep_array.clone(),
        deep_obj.clone(),
        nested_ok,
        format!("42{deep_array}"),
        format!("451-{deep_array}"),
    ] {
        for mut d in all_decoders() {
            let _ = d.message(C2S, true, payload.as_bytes(), 0);
            let _ = d.http_body(
                C2S,
                "/socket.io/?EIO=4&transport=polling",
                payload.as_bytes(),
                0,
            );
        }
    }
}

#[test]
fn packets_per_message_are_capped() {
    let mut d = dec(Some("v12.stomp"), "/");
    let out = d.message(S2C, true, &vec![b'\n'; MAX_PACKETS_PER_MESSAGE + 500], 0);
    assert_eq!(out.len(), MAX_PACKETS_PER_MESSAGE + 1);
    let last = out.last().unwrap();
    assert_eq!(
        (last.kind.as_str(), codes(last)),
        ("skipped", vec!["app_too_many_packets"])
    );
    assert!(last.violations[0].message.contains("remaining 500 bytes"));
    // The next message is decoded as usual.
    assert_eq!(d.message(S2C, true, b"\n", 1).len(), 1);

    let mut d = dec(Some("mqtt"), "/");
    let out = d.message(
        C2S,
        false,
        &[0xC0, 0].repeat(MAX_PACKETS_PER_MESSAGE + 3),
        0,
    );
    assert_eq!(out.len(), MAX_PACKETS_PER_MESSAGE + 1);
    assert_eq!(out.last().unwrap().kind, "skipped");

    let batch = format!(
        "[{}]",
        vec![r#"{"jsonrpc":"2.0","method":"m"}"#; MAX_PACKETS_PER_MESSAGE + 2].join(",")
    );
    let out = dec(Some("jsonrpc"), "/").message(C2S, true, batch.as_bytes(), 0);
    assert_eq!(out.len(), MAX_PACKETS_PER_MESSAGE + 1);
    assert_eq!(codes(out.last().unwrap()), ["app_too_many_packets"]);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn random_messages_never_panic(
        msgs in proptest::collection::vec(
            (any::<bool>(), any::<bool>(), proptest::collection::vec(any::<u8>(), 0..300)),
            1..12,
        )
    ) {
        for mut d in all_decoders() {
            for (i, (c2s, text, p)) in msgs.iter().enumerate() {
                let dir = if *c2s { C2S } else { S2C };
                for m in d.message(dir, *text, p, i as i64) {
                    let _ = m.summary();
                }
                let _ = d.http_body(dir, "/socket.io/?EIO=3&transport=polling", p, i as i64);
            }
        }
    }

    #[test]
    fn mqtt_any_split_gives_the_same_packets(
        cut in proptest::collection::vec(1usize..40, 1..10),
    ) {
        let mut stream = connect_311("split", 5);
        let mut body = mstr("x/y");
        body.extend_from_slice(&7u16.to_be_bytes());
        body.extend_from_slice(&[b'p'; 150]);
        stream.extend(packet(0x32, &body));
        stream.extend_from_slice(&[0xC0, 0, 0xE0, 0]);
        let mut d = dec(Some("mqtt"), "/");
        let mut kinds = Vec::new();
        let mut rest = &stream[..];
        let mut i = 0;
        while !rest.is_empty() {
            let n = cut[i % cut.len()].min(rest.len());
            for m in d.message(C2S, false, &rest[..n], 0) {
                prop_assert!(m.violations.is_empty(), "{:?}", m.violations);
                kinds.push(m.kind);
            }
            rest = &rest[n..];
            i += 1;
        }
        prop_assert_eq!(kinds, ["CONNECT", "PUBLISH", "PINGREQ", "DISCONNECT"]);
    }

    #[test]
    fn stomp_any_split_gives_the_same_frames(
        cut in proptest::collection::vec(1usize..30, 1..10),
    ) {
        let stream = b"CONNECT\naccept-version:1.2\n\n\0\nSEND\ndestination:/a\ncontent-length:3\n\na\0b\0\r\nSUBSCRIBE\nid:1\ndestination:/b\n\n\0";
        let mut d = dec(Some("v12.stomp"), "/");
        let mut kinds = Vec::new();
        let mut rest = &stream[..];
        let mut i = 0;
        while !rest.is_empty() {
            let n = cut[i % cut.len()].min(rest.len());
            for m in d.message(C2S, true, &rest[..n], 0) {
                prop_assert!(m.violations.is_empty(), "{:?}", m.violations);
                kinds.push(m.kind);
            }
            rest = &rest[n..];
            i += 1;
        }
        prop_assert_eq!(kinds, ["CONNECT", "HEARTBEAT", "SEND", "HEARTBEAT", "SUBSCRIBE"]);
    }
}

#[test]
fn what_serde_json_reads_is_never_turned_down_by_the_json_sniff() {
    let mut texts: Vec<Vec<u8>> = [
        "true",
        "false",
        "null",
        "0",
        "-1",
        "12.5e3",
        "\"s\"",
        "{}",
        "[]",
        " \t\r\n[1]",
        "{\"jsonrpc\":\"2.0\"}",
        "xxxx",
        "42[\"a\"]",
        "2probe",
        "",
        " ",
        "tru",
        "\u{feff}{}",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    // Every first byte, before a JSON value or alone.
    for b in 0..=255u8 {
        texts.push(vec![b]);
        texts.push(vec![b, b'1']);
        texts.push([&[b][..], b"{}"].concat());
    }
    let mut read = 0;
    for t in &texts {
        if serde_json::from_slice::<serde_json::Value>(t).is_ok() {
            read += 1;
            assert!(super::could_be_json(t), "{:?}", String::from_utf8_lossy(t));
        }
    }
    assert!(read > 20, "{read}");
    assert!(!super::could_be_json(b"xxxx"));
    assert!(!super::could_be_json(b"  hello"));
}
