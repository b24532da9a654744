//! What tests/h2_live.rs (h2c) and tests/h2_tls_live.rs (h2 over TLS) share: the
//! RFC 6455 scripts played on two extended-CONNECT streams beside a plain GET, the
//! `h2` peers playing them over any byte stream, and the checks of wsscope's events
//! against what the peers sent. Included with `#[path]` by those two tests only.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use base64::Engine;
use bytes::Bytes;
use h2::ext::Protocol;
use h2::{Reason, RecvStream, SendStream};
use http::{Method, Request, Response};
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite};
use tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tungstenite::protocol::frame::{CloseFrame, Frame};

// ---------------------------------------------------------------------------
// The WebSocket scripts

/// What one side writes on a stream at one step: RFC 6455 frames (possibly none),
/// then END_STREAM or not; and the data message those frames make, if any.
struct Step {
    from: Dir,
    bytes: Vec<u8>,
    end: bool,
    message: Option<(&'static str, Vec<u8>)>,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Dir {
    C2S,
    S2C,
}

impl Dir {
    fn name(self) -> &'static str {
        match self {
            Dir::C2S => "c2s",
            Dir::S2C => "s2c",
        }
    }
}

/// A frame; masked with `mask` (the client's frames) or not (the server's).
fn frame(opcode: OpCode, payload: &[u8], fin: bool, mask: Option<[u8; 4]>) -> Vec<u8> {
    wire(
        Frame::message(Bytes::copy_from_slice(payload), opcode, fin),
        mask,
    )
}

fn close(code: u16, reason: &str, mask: Option<[u8; 4]>) -> Vec<u8> {
    let f = Frame::close(Some(CloseFrame {
        code: CloseCode::from(code),
        reason: reason.into(),
    }));
    wire(f, mask)
}

/// The frame's bytes on the wire, masked with `mask` if any.
fn wire(mut f: Frame, mask: Option<[u8; 4]>) -> Vec<u8> {
    f.header_mut().mask = mask;
    let mut v = Vec::new();
    f.format(&mut v).unwrap();
    v
}

const TEXT: OpCode = OpCode::Data(Data::Text);
const BINARY: OpCode = OpCode::Data(Data::Binary);
const CONTINUE: OpCode = OpCode::Data(Data::Continue);

fn msg(from: Dir, opcode: OpCode, payload: &[u8], mask: Option<[u8; 4]>) -> Step {
    let kind = if opcode == TEXT { "text" } else { "binary" };
    Step {
        from,
        bytes: frame(opcode, payload, true, mask),
        end: false,
        message: Some((kind, payload.to_vec())),
    }
}

fn control(from: Dir, bytes: Vec<u8>, end: bool) -> Step {
    Step {
        from,
        bytes,
        end,
        message: None,
    }
}

/// Server's big binary message: more than one HTTP/2 DATA frame (16384 bytes each).
const BIG: usize = 40_000;

/// `/a`: text and binary both ways (one text fragmented in two frames, one binary
/// cut into several DATA frames), a ping answered by a pong, the client's close 1000
/// echoed by the server, which ends its stream, then the client ends its own.
fn script_a() -> Vec<Step> {
    use Dir::*;
    let medium: Vec<u8> = (0..300u32).map(|i| i as u8).collect();
    let big: Vec<u8> = (0..BIG as u32).map(|i| (i * 7 % 251) as u8).collect();
    let mut fragmented = frame(TEXT, b"frag", false, Some([0xa1, 0xb2, 0xc3, 0xd4]));
    fragmented.extend(frame(CONTINUE, b"mented", true, Some([5, 6, 7, 8])));
    vec![
        msg(C2S, TEXT, b"hello a", Some([1, 2, 3, 4])),
        msg(S2C, TEXT, b"welcome to /a", None),
        msg(C2S, BINARY, &medium, Some([9, 8, 7, 6])),
        msg(S2C, BINARY, &big, None),
        Step {
            from: C2S,
            bytes: fragmented,
            end: false,
            message: Some(("text", b"fragmented".to_vec())),
        },
        msg(S2C, TEXT, b"echo: fragmented", None),
        control(
            C2S,
            wire(Frame::ping(&b"hb"[..]), Some([0x11, 0x22, 0x33, 0x44])),
            false,
        ),
        control(S2C, wire(Frame::pong(&b"hb"[..]), None), false),
        control(
            C2S,
            close(1000, "bye", Some([0x55, 0x66, 0x77, 0x88])),
            false,
        ),
        control(S2C, close(1000, "bye", None), true),
        control(C2S, Vec::new(), true),
    ]
}

/// `/b`: one message each way; the client then resets the stream (CANCEL).
fn script_b() -> Vec<Step> {
    use Dir::*;
    vec![
        msg(C2S, TEXT, b"hello b", Some([0xde, 0xad, 0xbe, 0xef])),
        msg(S2C, BINARY, &[1, 2, 3, 4, 5], None),
    ]
}

const PLAIN_BODY: &[u8] = b"plain old HTTP/2 body";

/// Plays `steps` as side `me`: writes its own steps, and reads each of the peer's,
/// which must arrive exactly as written (then END_STREAM if the step ends).
async fn play(me: Dir, steps: &[Step], send: &mut SendStream<Bytes>, recv: &mut RecvStream) {
    let mut buf: Vec<u8> = Vec::new();
    for step in steps {
        if step.from == me {
            send.send_data(Bytes::from(step.bytes.clone()), step.end)
                .unwrap();
            continue;
        }
        while buf.len() < step.bytes.len() {
            let d = recv
                .data()
                .await
                .expect("peer's data, not the end")
                .unwrap();
            recv.flow_control().release_capacity(d.len()).unwrap();
            buf.extend_from_slice(&d);
        }
        assert!(buf.starts_with(&step.bytes), "{me:?} got other bytes");
        buf.drain(..step.bytes.len());
        if step.end {
            assert!(buf.is_empty());
            // An empty DATA with END_STREAM may still come as one empty chunk.
            while let Some(d) = recv.data().await {
                assert!(d.unwrap().is_empty(), "data after the end");
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The peers

async fn handle(req: Request<RecvStream>, mut respond: h2::server::SendResponse<Bytes>) {
    let proto = req
        .extensions()
        .get::<Protocol>()
        .map(|p| p.as_str().to_string());
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    let mut body = req.into_body();
    let ok = || Response::builder().status(200).body(()).unwrap();
    match (proto.as_deref(), path.as_str()) {
        (None, "/plain") => {
            assert_eq!(method, Method::GET);
            let mut s = respond.send_response(ok(), false).unwrap();
            s.send_data(Bytes::from_static(PLAIN_BODY), true).unwrap();
        }
        (Some("websocket"), "/a") => {
            assert_eq!(method, Method::CONNECT);
            let mut s = respond.send_response(ok(), false).unwrap();
            play(Dir::S2C, &script_a(), &mut s, &mut body).await;
        }
        (Some("websocket"), "/b") => {
            let mut s = respond.send_response(ok(), false).unwrap();
            play(Dir::S2C, &script_b(), &mut s, &mut body).await;
            // Then the client's RST_STREAM.
            match body.data().await {
                Some(Ok(d)) => panic!("unexpected data on /b: {d:?}"),
                Some(Err(e)) => assert_eq!(e.reason(), Some(Reason::CANCEL), "{e}"),
                None => panic!("/b ended without a reset"),
            }
        }
        _ => {
            let resp = Response::builder().status(404).body(()).unwrap();
            respond.send_response(resp, true).unwrap();
        }
    }
}

/// The server side of one connection on `io` (TCP, or TLS over it): extended CONNECT
/// enabled, each request handled as it comes; returns when the connection has ended
/// and every handler is done.
pub async fn serve<T>(io: T)
where
    T: AsyncRead + AsyncWrite + Unpin,
{
    let mut conn = h2::server::Builder::new()
        .enable_connect_protocol()
        .handshake::<_, Bytes>(io)
        .await
        .unwrap();
    let mut handlers = Vec::new();
    while let Some(r) = conn.accept().await {
        let (req, respond) = r.unwrap();
        handlers.push(tokio::spawn(handle(req, respond)));
    }
    for h in handlers {
        h.await.unwrap();
    }
}

fn connect(origin: &str, path: &str) -> Request<()> {
    Request::builder()
        .method(Method::CONNECT)
        .uri(format!("{origin}{path}"))
        .extension(Protocol::from_static("websocket"))
        .header("sec-websocket-version", "13")
        .body(())
        .unwrap()
}

/// The stream ids the client got.
#[derive(Debug)]
pub struct Ids {
    pub a: u32,
    pub b: u32,
    pub get: u32,
}

/// The client side of one connection on `io` (TCP with prior knowledge, or TLS with
/// ALPN h2), its requests for `origin` (`http://127.0.0.1:PORT`, `https://...`): the
/// two WebSockets and the GET, then the end of the connection.
pub async fn client<T>(io: T, origin: &str) -> Ids
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    // The handshake writes the client preface at once.
    let (client, conn) = h2::client::handshake(io).await.unwrap();
    let conn_task = tokio::spawn(conn);
    let mut client = client.ready().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !client.is_extended_connect_protocol_enabled() {
        assert!(Instant::now() < deadline, "server never enabled CONNECT");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }

    let (ra, mut sa) = client.send_request(connect(origin, "/a"), false).unwrap();
    let mut client = client.ready().await.unwrap();
    let (rb, mut sb) = client.send_request(connect(origin, "/b"), false).unwrap();
    let mut client = client.ready().await.unwrap();
    let get = Request::builder()
        .method(Method::GET)
        .uri(format!("{origin}/plain"))
        .body(())
        .unwrap();
    let (rg, sg) = client.send_request(get, true).unwrap();
    let ids = Ids {
        a: sa.stream_id().as_u32(),
        b: sb.stream_id().as_u32(),
        get: sg.stream_id().as_u32(),
    };

    let a = async {
        let resp = ra.await.unwrap();
        assert_eq!(resp.status(), 200);
        play(Dir::C2S, &script_a(), &mut sa, &mut resp.into_body()).await;
    };
    let b = async {
        let resp = rb.await.unwrap();
        assert_eq!(resp.status(), 200);
        let mut body = resp.into_body();
        play(Dir::C2S, &script_b(), &mut sb, &mut body).await;
        sb.send_reset(Reason::CANCEL);
    };
    let g = async {
        let resp = rg.await.unwrap();
        assert_eq!(resp.status(), 200);
        let mut body = resp.into_body();
        let mut v = Vec::new();
        while let Some(d) = body.data().await {
            let d = d.unwrap();
            body.flow_control().release_capacity(d.len()).unwrap();
            v.extend_from_slice(&d);
        }
        assert_eq!(v, PLAIN_BODY);
    };
    tokio::join!(a, b, g);
    // Every handle gone, the client's connection ends (GOAWAY, then the stream's
    // shutdown: TCP FIN, after close_notify over TLS).
    drop((client, sa, sb, sg));
    tokio::time::timeout(Duration::from_secs(10), conn_task)
        .await
        .expect("client connection ended")
        .unwrap()
        .unwrap();
    ids
}

// ---------------------------------------------------------------------------
// The checks

fn payload(m: &Value) -> Vec<u8> {
    let p = m["payload"].as_str().expect("payload with --payload");
    match m["payload_encoding"].as_str() {
        Some("utf8") => p.as_bytes().to_vec(),
        Some("base64") => base64::engine::general_purpose::STANDARD
            .decode(p)
            .expect("base64"),
        other => panic!("payload_encoding {other:?} in {m}"),
    }
}

/// wsscope's events of the exchange (one connection) against what the peers sent.
pub fn check(events: &[Value], ids: &Ids) {
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    // No rule broken, no bytes missed; the one exception is by design: an aborted
    // WebSocket (here /b's RST_STREAM, like a TCP RST) is `abnormal_closure` (1006).
    let bad: Vec<&Value> = events
        .iter()
        .filter(|e| {
            e["event"] == "gap"
                || e["event"] == "violation"
                    && !(e["code"] == "abnormal_closure" && e["stream"] == ids.b)
        })
        .collect();
    assert!(bad.is_empty(), "{bad:?}");
    let abnormal: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "violation")
        .collect();
    assert_eq!(abnormal.len(), 1, "{abnormal:#?}");
    // It says the stream ended, not the TCP connection (which stays open).
    let said = abnormal[0]["message"].as_str().unwrap();
    assert!(said.contains("HTTP/2 stream"), "{said}");
    // One connection, opened on camera.
    let opens: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "conn_open")
        .collect();
    assert_eq!(opens.len(), 1, "{kinds:?}");
    assert_eq!(opens[0]["mid_stream"], false);

    // The server enabled extended CONNECT.
    assert!(
        events.iter().any(|e| e["event"] == "h2_settings"
            && e["dir"] == "s2c"
            && e["ack"] == false
            && e["settings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s[0] == "SETTINGS_ENABLE_CONNECT_PROTOCOL" && s[1] == 1)),
        "{:#?}",
        events
            .iter()
            .filter(|e| e["event"] == "h2_settings")
            .collect::<Vec<_>>()
    );

    // Two WebSockets, on the client's two CONNECT streams, every check passed.
    let hs: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "ws_handshake")
        .collect();
    assert_eq!(hs.len(), 2, "{hs:#?}");
    for h in &hs {
        assert_eq!(h["transport"], "h2", "{h}");
        assert_eq!(h["status"], 200, "{h}");
        assert_eq!(h["ok"], true, "{h}");
        assert_eq!(h["dir"], "s2c", "{h}");
        let checks = h["checks"].as_array().unwrap();
        assert!(
            checks.len() >= 8 && checks.iter().all(|c| c["ok"] == true),
            "{checks:#?}"
        );
    }
    let streams: BTreeSet<u64> = hs.iter().map(|h| h["stream"].as_u64().unwrap()).collect();
    assert_eq!(
        streams,
        BTreeSet::from([ids.a as u64, ids.b as u64]),
        "{ids:?}"
    );

    // Each WebSocket's messages, in order, as the peers sent them.
    for (stream, script) in [(ids.a, script_a()), (ids.b, script_b())] {
        let want: Vec<(&str, &str, usize, Vec<u8>)> = script
            .iter()
            .filter_map(|s| {
                s.message
                    .as_ref()
                    .map(|(k, p)| (s.from.name(), *k, p.len(), p.clone()))
            })
            .collect();
        let got: Vec<(&str, &str, usize, Vec<u8>)> = events
            .iter()
            .filter(|e| e["event"] == "ws_message" && e["stream"] == stream)
            .map(|e| {
                (
                    e["dir"].as_str().unwrap(),
                    e["kind"].as_str().unwrap(),
                    e["len"].as_u64().unwrap() as usize,
                    payload(e),
                )
            })
            .collect();
        let show = |v: &[(&str, &str, usize, Vec<u8>)]| {
            v.iter()
                .map(|(d, k, l, _)| format!("{d} {k} {l}"))
                .collect::<Vec<_>>()
        };
        assert_eq!(show(&got), show(&want), "stream {stream}");
        assert!(got == want, "stream {stream}: payloads differ");
    }
    let messages: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "ws_message")
        .collect();
    assert_eq!(messages.len(), 8, "no message outside the two streams");
    let frag = messages
        .iter()
        .find(|m| m["len"] == 10 && m["dir"] == "c2s")
        .unwrap();
    assert_eq!(frag["frames"], 2, "{frag}");

    // Client frames masked, server frames not; every frame on one of the two streams.
    let frames: Vec<&Value> = events.iter().filter(|e| e["event"] == "ws_frame").collect();
    // /a: 6 data + 1 continuation + ping, pong, 2 closes; /b: 2.
    assert_eq!(frames.len(), 13, "{frames:#?}");
    for f in &frames {
        assert_eq!(f["masked"], f["dir"] == "c2s", "{f}");
        let s = f["stream"].as_u64().unwrap() as u32;
        assert!(s == ids.a || s == ids.b, "{f}");
    }
    let ping = frames.iter().find(|f| f["opname"] == "ping").expect("ping");
    assert_eq!(ping["stream"], ids.a);
    assert_eq!(ping["dir"], "c2s");
    let pong = frames.iter().find(|f| f["opname"] == "pong").expect("pong");
    assert_eq!(pong["stream"], ids.a);
    assert_eq!(pong["dir"], "s2c");
    assert!(pong["rtt_ms"].is_f64(), "{pong}");

    // /a: the close handshake, begun by the client, echoed, clean; nothing after it.
    let closes: Vec<(usize, &Value)> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| e["event"] == "ws_close")
        .collect();
    assert_eq!(closes.len(), 2, "{closes:#?}");
    let (at_a, close_a) = closes
        .iter()
        .find(|(_, c)| c["stream"] == ids.a)
        .copied()
        .expect("ws_close of /a");
    assert_eq!(close_a["code"], 1000, "{close_a}");
    assert_eq!(close_a["reason"], "bye", "{close_a}");
    assert_eq!(close_a["initiator"], "c2s", "{close_a}");
    assert_eq!(close_a["echoed"], true, "{close_a}");
    assert_eq!(close_a["clean"], true, "{close_a}");
    assert!(
        !events[at_a + 1..]
            .iter()
            .any(|e| e["stream"] == ids.a && e["event"].as_str().unwrap().starts_with("ws_")),
        "WebSocket events of /a after its close"
    );

    // /b: RST_STREAM CANCEL from the client, then the WebSocket ends abnormally.
    let rsts: Vec<(usize, &Value)> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| e["event"] == "h2_rst_stream")
        .collect();
    assert_eq!(rsts.len(), 1, "{rsts:#?}");
    let (at_rst, rst) = rsts[0];
    assert_eq!(rst["stream"], ids.b, "{rst}");
    assert_eq!(rst["dir"], "c2s", "{rst}");
    assert_eq!(rst["code"], "CANCEL", "{rst}");
    let (at_b, close_b) = closes
        .iter()
        .find(|(_, c)| c["stream"] == ids.b)
        .copied()
        .expect("ws_close of /b");
    assert!(at_b > at_rst, "ws_close of /b before the RST_STREAM");
    assert_eq!(close_b["code"], 1006, "{close_b}");
    assert_eq!(close_b["clean"], false, "{close_b}");
    assert_eq!(close_b["echoed"], false, "{close_b}");
    assert!(close_b["initiator"].is_null(), "{close_b}");
    assert_eq!(
        close_b["pkt"], rst["pkt"],
        "the abort is the RST_STREAM's packet"
    );
    assert_eq!(abnormal[0]["pkt"], rst["pkt"], "{}", abnormal[0]);

    // The plain GET, on its own stream, answered 200.
    let req = events
        .iter()
        .find(|e| e["event"] == "http_request" && e["method"] == "GET")
        .expect("the GET");
    assert_eq!(req["version"], "HTTP/2", "{req}");
    assert_eq!(req["stream"], ids.get, "{req}");
    assert_eq!(req["target"], "/plain", "{req}");
    let resp = events
        .iter()
        .find(|e| e["event"] == "http_response" && e["stream"] == ids.get)
        .expect("the GET's response");
    assert_eq!(resp["status"], 200, "{resp}");
    assert_eq!(resp["version"], "HTTP/2", "{resp}");

    // The TCP connection ended with FINs.
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "tcp_teardown" && e["how"] == "fin"),
        "{kinds:?}"
    );
}
