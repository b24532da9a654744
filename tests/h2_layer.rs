//! The HTTP/2 layer against real peers: the `h2` crate's client and server talk over an
//! in-memory duplex wrapped in a tap that records every byte each way, in the order it
//! was written; the recording is then fed to `H2Layer` and every event checked.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use h2::ext::Protocol;
use h2::Reason;
use http::{Method, Request, Response};
use tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tungstenite::protocol::frame::{CloseFrame, Frame, FrameHeader};
use wsscope::h2::frame::{self as fr, SETTINGS_ENABLE_CONNECT_PROTOCOL};
use wsscope::h2::{Entry, H2Event, H2Layer};
use wsscope::types::Direction::{self, C2S, S2C};

#[path = "support/tap.rs"]
mod tap;
use tap::{Log, Tap};

type Written = Arc<Mutex<HashMap<(u32, Direction), Vec<u8>>>>;

fn ws_frame(opcode: OpCode, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut f = Frame::message(Bytes::copy_from_slice(payload), opcode, true);
    f.header_mut().mask = mask;
    let mut v = Vec::new();
    f.format(&mut v).unwrap();
    v
}

fn ws_close(code: u16, reason: &str, mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut f = Frame::close(Some(CloseFrame {
        code: CloseCode::from(code),
        reason: reason.into(),
    }));
    f.header_mut().mask = mask;
    let mut v = Vec::new();
    f.format(&mut v).unwrap();
    v
}

const BODY_B_LEN: usize = 40_000;

async fn serve(io: Tap, written: Written) {
    let mut conn = h2::server::Builder::new()
        .enable_connect_protocol()
        .handshake::<_, Bytes>(io)
        .await
        .unwrap();
    let mut n = 0;
    while let Some(r) = conn.accept().await {
        let (req, respond) = r.unwrap();
        n += 1;
        tokio::spawn(handle(req, respond, written.clone()));
        if n == 6 {
            conn.graceful_shutdown();
        }
    }
}

async fn handle(
    req: Request<h2::RecvStream>,
    mut respond: h2::server::SendResponse<Bytes>,
    written: Written,
) {
    let id = respond.stream_id().as_u32();
    let proto = req
        .extensions()
        .get::<Protocol>()
        .map(|p| p.as_str().to_string());
    let path = req.uri().path().to_string();
    let mut body = req.into_body();
    match (proto.as_deref(), path.as_str()) {
        (None, "/a") => {
            let resp = Response::builder()
                .status(200)
                .header("content-type", "text/plain")
                .body(())
                .unwrap();
            let mut s = respond.send_response(resp, false).unwrap();
            s.send_data(Bytes::from_static(b"alpha body"), true)
                .unwrap();
        }
        (None, "/b") => {
            let resp = Response::builder().status(200).body(()).unwrap();
            let mut s = respond.send_response(resp, false).unwrap();
            s.send_data(Bytes::from(vec![b'b'; BODY_B_LEN]), true)
                .unwrap();
        }
        (None, "/refuse") => respond.send_reset(Reason::REFUSED_STREAM),
        (Some("websocket"), "/chat") => {
            let resp = Response::builder()
                .status(200)
                .header("sec-websocket-protocol", "chat")
                .body(())
                .unwrap();
            let mut s = respond.send_response(resp, false).unwrap();
            let hello = ws_frame(OpCode::Data(Data::Text), b"welcome to chat", None);
            written
                .lock()
                .unwrap()
                .entry((id, S2C))
                .or_default()
                .extend_from_slice(&hello);
            s.send_data(Bytes::from(hello), false).unwrap();
            while let Some(d) = body.data().await {
                let d = d.unwrap();
                body.flow_control().release_capacity(d.len()).unwrap();
            }
            let close = ws_close(1000, "bye", None);
            written
                .lock()
                .unwrap()
                .entry((id, S2C))
                .or_default()
                .extend_from_slice(&close);
            s.send_data(Bytes::from(close), true).unwrap();
        }
        (Some("websocket"), "/abort") => {
            let resp = Response::builder().status(200).body(()).unwrap();
            let mut s = respond.send_response(resp, false).unwrap();
            // Answer only once the client's frame came, so that it is on the wire
            // before the client's RST_STREAM.
            if let Some(Ok(d)) = body.data().await {
                body.flow_control().release_capacity(d.len()).unwrap();
            }
            let f = ws_frame(OpCode::Data(Data::Binary), &[1, 2, 3, 4, 5], None);
            written
                .lock()
                .unwrap()
                .entry((id, S2C))
                .or_default()
                .extend_from_slice(&f);
            s.send_data(Bytes::from(f), false).unwrap();
            while let Some(Ok(d)) = body.data().await {
                body.flow_control().release_capacity(d.len()).unwrap();
            }
        }
        _ => {
            let resp = Response::builder().status(404).body(()).unwrap();
            respond.send_response(resp, true).unwrap();
        }
    }
}

fn get(path: &str) -> Request<()> {
    Request::builder()
        .method(Method::GET)
        .uri(format!("http://example.test{path}"))
        .body(())
        .unwrap()
}

fn connect(path: &str) -> Request<()> {
    Request::builder()
        .method(Method::CONNECT)
        .uri(format!("http://example.test{path}"))
        .extension(Protocol::from_static("websocket"))
        .header("sec-websocket-version", "13")
        .header("sec-websocket-protocol", "chat, superchat")
        .header("sec-websocket-extensions", "permessage-deflate")
        .body(())
        .unwrap()
}

async fn read_all(mut body: h2::RecvStream) -> Vec<u8> {
    let mut v = Vec::new();
    while let Some(d) = body.data().await {
        let d = d.unwrap();
        body.flow_control().release_capacity(d.len()).unwrap();
        v.extend_from_slice(&d);
    }
    v
}

/// The client's WebSocket frames on the /chat stream (masked).
fn chat_client_frames() -> Vec<u8> {
    let mut v = ws_frame(
        OpCode::Data(Data::Text),
        b"hello over h2",
        Some([1, 2, 3, 4]),
    );
    let big: Vec<u8> = (0..300u32).map(|i| i as u8).collect();
    v.extend(ws_frame(
        OpCode::Data(Data::Binary),
        &big,
        Some([9, 8, 7, 6]),
    ));
    v.extend(ws_close(1000, "bye", Some([5, 5, 5, 5])));
    v
}

async fn client(io: Tap, written: Written) {
    let (client, conn) = h2::client::handshake(io).await.unwrap();
    let conn_task = tokio::spawn(conn);
    let mut client = client.ready().await.unwrap();
    for _ in 0..10_000 {
        if client.is_extended_connect_protocol_enabled() {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(client.is_extended_connect_protocol_enabled());

    let (ra, _) = client.send_request(get("/a"), true).unwrap();
    let mut client = client.ready().await.unwrap();
    let (rb, _) = client.send_request(get("/b"), true).unwrap();
    let mut client = client.ready().await.unwrap();
    let (rr, _) = client.send_request(get("/refuse"), true).unwrap();
    let a = ra.await.unwrap();
    assert_eq!(a.status(), 200);
    assert_eq!(read_all(a.into_body()).await, b"alpha body");
    let b = rb.await.unwrap();
    assert_eq!(read_all(b.into_body()).await.len(), BODY_B_LEN);
    assert!(rr.await.is_err());

    // WebSocket 1: frames cut into DATA frames of 7 bytes, then END_STREAM.
    let mut client = client.ready().await.unwrap();
    let (resp, mut send) = client.send_request(connect("/chat"), false).unwrap();
    let id = send.stream_id().as_u32();
    let resp = resp.await.unwrap();
    assert_eq!(resp.status(), 200);
    let frames = chat_client_frames();
    written.lock().unwrap().insert((id, C2S), frames.clone());
    let chunks: Vec<&[u8]> = frames.chunks(7).collect();
    for (k, c) in chunks.iter().enumerate() {
        send.send_data(Bytes::copy_from_slice(c), k + 1 == chunks.len())
            .unwrap();
    }
    let got = read_all(resp.into_body()).await;
    assert_eq!(got, written.lock().unwrap()[&(id, S2C)]);

    // WebSocket 2: one frame each way, then the client aborts with RST_STREAM.
    let mut client = client.ready().await.unwrap();
    let (resp, mut send) = client.send_request(connect("/abort"), false).unwrap();
    let id = send.stream_id().as_u32();
    let resp = resp.await.unwrap();
    assert_eq!(resp.status(), 200);
    let f = ws_frame(OpCode::Data(Data::Text), b"going away", Some([7, 7, 7, 7]));
    written.lock().unwrap().insert((id, C2S), f.clone());
    send.send_data(Bytes::from(f), false).unwrap();
    let mut body = resp.into_body();
    let d = body.data().await.unwrap().unwrap();
    body.flow_control().release_capacity(d.len()).unwrap();
    send.send_reset(Reason::CANCEL);

    // A refused WebSocket: 404.
    let mut client = client.ready().await.unwrap();
    let (resp, _send) = client.send_request(connect("/nope"), false).unwrap();
    assert_eq!(resp.await.unwrap().status(), 404);
    drop(client);
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), conn_task).await;
}

struct Recording {
    log: Vec<(Direction, Vec<u8>)>,
    written: HashMap<(u32, Direction), Vec<u8>>,
}

async fn record() -> Recording {
    let log: Log = Default::default();
    let written: Written = Default::default();
    let (c, s) = tokio::io::duplex(1 << 16);
    let c = Tap {
        inner: c,
        dir: C2S,
        log: log.clone(),
    };
    let s = Tap {
        inner: s,
        dir: S2C,
        log: log.clone(),
    };
    let server = tokio::spawn(serve(s, written.clone()));
    tokio::time::timeout(
        std::time::Duration::from_secs(20),
        client(c, written.clone()),
    )
    .await
    .expect("client finished");
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), server).await;
    let log = log.lock().unwrap().clone();
    let written = written.lock().unwrap().clone();
    Recording { log, written }
}

/// Events as owned strings, with the DATA of each (stream, dir) also collected.
#[derive(Default)]
struct Seen {
    events: Vec<String>,
    ws: HashMap<(u32, Direction), Vec<u8>>,
    bodies: HashMap<(u32, Direction), Vec<u8>>,
}

impl Seen {
    /// Takes one event: its debug line, and its DATA bytes by stream and direction.
    fn record(&mut self, e: &H2Event<'_>) {
        if let H2Event::Data {
            dir,
            stream,
            bytes,
            websocket,
            ..
        } = e
        {
            let m = if *websocket {
                &mut self.ws
            } else {
                &mut self.bodies
            };
            m.entry((*stream, *dir))
                .or_default()
                .extend_from_slice(bytes);
        }
        self.events.push(format!("{e:?}"));
    }
}

fn feed_all(chunks: &[(Direction, Vec<u8>)], split: impl Fn(usize, usize) -> Vec<usize>) -> Seen {
    let mut layer = H2Layer::new(Entry::PriorKnowledge);
    let mut seen = Seen::default();
    let mut out = |e: H2Event<'_>| seen.record(&e);
    for (k, (dir, bytes)) in chunks.iter().enumerate() {
        let mut at = 0;
        for cut in split(k, bytes.len()) {
            layer.feed(*dir, &bytes[at..cut], &mut out);
            at = cut;
        }
        layer.feed(*dir, &bytes[at..], &mut out);
    }
    layer.end(C2S, &mut out);
    layer.end(S2C, &mut out);
    seen
}

fn find<'a>(seen: &'a Seen, pat: &str) -> Vec<&'a String> {
    seen.events.iter().filter(|e| e.contains(pat)).collect()
}

fn whole(_: usize, _: usize) -> Vec<usize> {
    Vec::new()
}

#[tokio::test]
async fn real_h2_peers_every_event() {
    let rec = record().await;
    let seen = feed_all(&rec.log, whole);
    let ev = &seen.events;

    assert_eq!(ev[0], "Preface { dir: C2S }");
    // No rule broken by conformant peers, no HPACK trouble.
    let bad: Vec<_> = ev
        .iter()
        .filter(|e| {
            e.starts_with("Violation")
                || e.starts_with("HpackLost")
                || e.starts_with("HeadersUndecoded")
                || e.starts_with("UnknownFrame")
        })
        .collect();
    assert!(bad.is_empty(), "{bad:#?}");
    // The server enabled extended CONNECT.
    assert!(
        ev.iter()
            .any(|e| e.starts_with("Settings { dir: S2C, ack: false")
                && e.contains(&format!("({SETTINGS_ENABLE_CONNECT_PROTOCOL}, 1)"))),
        "{ev:#?}"
    );
    assert!(ev
        .iter()
        .any(|e| e.starts_with("Settings { dir: C2S, ack: true")));
    assert!(ev
        .iter()
        .any(|e| e.starts_with("Settings { dir: S2C, ack: true")));

    // Ordinary requests and responses with their bodies.
    let reqs = find(&seen, "Request { stream");
    assert_eq!(reqs.len(), 6, "{reqs:#?}");
    let by_path = |p: &str| -> u32 {
        let r = reqs
            .iter()
            .find(|r| r.contains(&format!("path: Some(\"{p}\")")))
            .unwrap_or_else(|| panic!("no request for {p}"));
        let s = r.split("stream: ").nth(1).unwrap();
        s[..s.find(',').unwrap()].parse().unwrap()
    };
    let (sa, sb, sr, sc, sx, sn) = (
        by_path("/a"),
        by_path("/b"),
        by_path("/refuse"),
        by_path("/chat"),
        by_path("/abort"),
        by_path("/nope"),
    );
    assert_eq!(
        [sa, sb, sr, sc, sx, sn].map(|s| s % 2),
        [1; 6],
        "client streams are odd"
    );
    assert!(reqs[0].contains("method: Some(\"GET\"), scheme: Some(\"http\")"));
    assert!(reqs[0].contains("authority: Some(\"example.test\")"));
    assert_eq!(seen.bodies[&(sa, S2C)], b"alpha body");
    assert_eq!(seen.bodies[&(sb, S2C)], vec![b'b'; BODY_B_LEN]);
    assert!(ev.iter().any(|e| e.starts_with(&format!(
        "Response {{ stream: {sa}, response: Response {{ status: Some(200), headers: [(\"content-type\", \"text/plain\")"
    ))));
    // The body of /b came in several DATA frames (16 KiB maximum).
    let b_frames = ev
        .iter()
        .filter(|e| {
            e.starts_with(&format!(
                "Frame(FrameInfo {{ dir: S2C, kind: 0, flags: 0, length: 16384, stream: {sb} }}"
            ))
        })
        .count();
    assert!(b_frames >= 2, "{b_frames}");
    assert!(ev.contains(&format!(
        "RstStream {{ dir: S2C, stream: {sr}, code: {} }}",
        fr::REFUSED_STREAM
    )));

    // RFC 8441: two WebSockets opened, one refused.
    let opens = find(&seen, "WebSocketOpen");
    assert_eq!(opens.len(), 3, "{opens:#?}");
    let open_of = |s: u32| {
        opens
            .iter()
            .find(|o| o.starts_with(&format!("WebSocketOpen(WebSocketOpen {{ stream: {s},")))
            .unwrap()
    };
    let chat = open_of(sc);
    assert!(chat.contains("protocol: Some(\"websocket\")"));
    assert!(chat.contains("method: Some(\"CONNECT\")"));
    assert!(chat.contains("path: Some(\"/chat\")"));
    assert!(chat.contains("status: Some(200)"));
    assert!(chat.contains("subprotocol: Some(\"chat\")"));
    assert!(chat.contains("offered_subprotocols: [\"chat\", \"superchat\"]"));
    assert!(chat.contains("name: \"permessage-deflate\""));
    assert!(chat.ends_with("ok: true })"));
    assert!(open_of(sx).ends_with("ok: true })"));
    let nope = open_of(sn);
    assert!(nope.contains("status: Some(404)") && nope.ends_with("ok: false })"));

    // The WebSocket bytes routed out of DATA are exactly what the peers wrote.
    for key in [(sc, C2S), (sc, S2C), (sx, C2S), (sx, S2C)] {
        assert_eq!(seen.ws.get(&key), rec.written.get(&key), "{key:?}");
    }
    assert_eq!(seen.ws.len(), 4);
    // ... and decode as RFC 6455 frames.
    let frames = ws_frames(&seen.ws[&(sc, C2S)]);
    assert_eq!(
        frames.iter().map(|(op, _)| *op).collect::<Vec<_>>(),
        [
            OpCode::Data(Data::Text),
            OpCode::Data(Data::Binary),
            OpCode::Control(tungstenite::protocol::frame::coding::Control::Close)
        ]
    );
    assert_eq!(frames[0].1, b"hello over h2");
    assert_eq!(frames[1].1.len(), 300);
    // DATA frames of 7 bytes: WebSocket frames cross DATA boundaries.
    let small = ev
        .iter()
        .filter(|e| e.starts_with(&format!("Data {{ dir: C2S, stream: {sc}, bytes: [")))
        .count();
    assert!(small >= chat_client_frames().len() / 7);

    // Orderly ends of /chat, the abort of /abort.
    assert!(ev.contains(&format!(
        "WebSocketEnd {{ stream: {sc}, dir: C2S, how: EndStream }}"
    )));
    assert!(ev.contains(&format!(
        "WebSocketEnd {{ stream: {sc}, dir: S2C, how: EndStream }}"
    )));
    assert!(ev.contains(&format!(
        "WebSocketEnd {{ stream: {sx}, dir: C2S, how: Reset({}) }}",
        fr::CANCEL
    )));
    assert_eq!(
        ev.iter().filter(|e| e.starts_with("WebSocketEnd")).count(),
        3,
        "{:#?}",
        find(&seen, "WebSocketEnd")
    );
    // The server's graceful shutdown: GOAWAY.
    let goaways = find(&seen, "GoAway { dir: S2C");
    assert!(!goaways.is_empty());
    assert!(goaways
        .last()
        .unwrap()
        .contains(&format!("last_stream: {sn}, code: 0")));
    assert!(ev
        .iter()
        .any(|e| e.starts_with("Ping { dir: S2C, ack: false")));
    assert!(ev
        .iter()
        .any(|e| e.starts_with("Ping { dir: C2S, ack: true")));
    assert!(ev.iter().any(|e| e.starts_with("WindowUpdate")));
}

fn ws_frames(mut b: &[u8]) -> Vec<(OpCode, Vec<u8>)> {
    let mut v = Vec::new();
    while !b.is_empty() {
        let mut cur = std::io::Cursor::new(b);
        let (h, len) = FrameHeader::parse(&mut cur).unwrap().unwrap();
        let at = cur.position() as usize;
        let mut payload = b[at..at + len as usize].to_vec();
        if let Some(m) = h.mask {
            for (i, x) in payload.iter_mut().enumerate() {
                *x ^= m[i % 4];
            }
        }
        v.push((h.opcode, payload));
        b = &b[at + len as usize..];
    }
    v
}

#[tokio::test]
async fn same_events_at_every_byte_boundary() {
    let rec = record().await;
    let reference = feed_all(&rec.log, whole).events;
    let bytewise = feed_all(&rec.log, |_, n| (1..n).collect()).events;
    assert_eq!(reference, bytewise);
}

#[tokio::test]
async fn same_events_at_random_boundaries() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    let rec = record().await;
    let reference = feed_all(&rec.log, whole).events;
    let mut runner = TestRunner::new(Config {
        cases: 64,
        ..Config::default()
    });
    let lens: Vec<usize> = rec.log.iter().map(|(_, b)| b.len()).collect();
    let strat = proptest::collection::vec(any::<proptest::sample::Index>(), 0..8);
    runner
        .run(&proptest::collection::vec(strat, lens.len()), |cuts| {
            let got = feed_all(&rec.log, |k, n| {
                let mut c: Vec<usize> = cuts[k].iter().map(|i| i.index(n + 1)).collect();
                c.sort();
                c
            })
            .events;
            prop_assert_eq!(&got, &reference);
            Ok(())
        })
        .unwrap();
}

#[tokio::test]
async fn merged_directions_chunks_match() {
    // Consecutive writes of one direction merged (as TCP segments coalesce).
    let rec = record().await;
    let reference = feed_all(&rec.log, whole).events;
    let mut merged: Vec<(Direction, Vec<u8>)> = Vec::new();
    for (d, b) in &rec.log {
        match merged.last_mut() {
            Some((ld, lb)) if ld == d => lb.extend_from_slice(b),
            _ => merged.push((*d, b.clone())),
        }
    }
    assert_eq!(feed_all(&merged, whole).events, reference);
}

/// Every frame of one direction's whole stream: (offset, header).
fn frames_of(log: &[(Direction, Vec<u8>)], dir: Direction) -> Vec<(usize, fr::FrameHeader)> {
    let stream: Vec<u8> = log
        .iter()
        .filter(|(d, _)| *d == dir)
        .flat_map(|(_, b)| b.iter().copied())
        .collect();
    let mut at = if dir == C2S { 24 } else { 0 };
    let mut v = Vec::new();
    while let Some(h) = fr::FrameHeader::parse(&stream[at..]) {
        v.push((at, h));
        at += 9 + h.length as usize;
    }
    assert_eq!(at, stream.len());
    v
}

/// Feeds the recording with bytes `start..start + len` of `hole_dir` missing (a gap).
fn feed_with_hole(
    log: &[(Direction, Vec<u8>)],
    hole_dir: Direction,
    start: usize,
    len: usize,
) -> Seen {
    let mut layer = H2Layer::new(Entry::PriorKnowledge);
    let mut seen = Seen::default();
    let mut out = |e: H2Event<'_>| seen.record(&e);
    let mut pos = 0;
    let mut gap_done = false;
    for (dir, b) in log {
        if *dir != hole_dir {
            layer.feed(*dir, b, &mut out);
            continue;
        }
        let (lo, hi) = (pos, pos + b.len());
        pos = hi;
        let before = hi.min(start).max(lo);
        layer.feed(*dir, &b[..before - lo], &mut out);
        if !gap_done && hi > start {
            layer.gap(*dir, len as u64, &mut out);
            gap_done = true;
        }
        let after = (start + len).max(lo).min(hi);
        if after > before || gap_done {
            layer.feed(*dir, &b[after.max(before) - lo..], &mut out);
        }
    }
    assert!(gap_done);
    layer.end(C2S, &mut out);
    layer.end(S2C, &mut out);
    seen
}

fn stream_of(seen: &Seen, path: &str) -> u32 {
    let e = seen
        .events
        .iter()
        .find(|e| e.starts_with("Request") && e.contains(&format!("path: Some(\"{path}\")")))
        .unwrap();
    let s = e.split("stream: ").nth(1).unwrap();
    s[..s.find(',').unwrap()].parse().unwrap()
}

#[tokio::test]
async fn gap_inside_websocket_data_frame_is_skipped_exactly() {
    let rec = record().await;
    let reference = feed_all(&rec.log, whole);
    let chat = stream_of(&reference, "/chat");
    let (off, h) = frames_of(&rec.log, C2S)
        .into_iter()
        .filter(|(_, h)| h.kind == fr::DATA && h.stream == chat)
        .nth(2)
        .unwrap();
    assert_eq!(h.length, 7);
    let full = &reference.ws[&(chat, C2S)];
    // A hole to the end of the frame, and one that ends inside it.
    for (from, len) in [(2, 5), (2, 2), (0, 7)] {
        let seen = feed_with_hole(&rec.log, C2S, off + 9 + from, len);
        let gaps: Vec<&String> = seen
            .events
            .iter()
            .filter(|e| e.starts_with("StreamGap") || e.starts_with("Gap"))
            .collect();
        assert_eq!(
            gaps,
            [
                &format!("Gap {{ dir: C2S, bytes: {len}, boundary_lost: false }}"),
                &format!(
                    "StreamGap {{ dir: C2S, stream: {chat}, bytes: Some(7), websocket: true }}"
                ),
            ]
        );
        // HPACK context survives a gap inside DATA; everything after is decoded.
        assert!(!seen
            .events
            .iter()
            .any(|e| e.starts_with("HpackLost") || e.starts_with("Violation")));
        // The WebSocket bytes are the full ones less that DATA frame's 7.
        let lost_at = 14; // two 7-byte frames before it
        let mut want = full[..lost_at].to_vec();
        want.extend_from_slice(&full[lost_at + 7..]);
        assert_eq!(seen.ws[&(chat, C2S)], want);
        let nope = stream_of(&reference, "/nope");
        assert!(seen
            .events
            .iter()
            .any(|e| e.starts_with(&format!("WebSocketOpen(WebSocketOpen {{ stream: {nope},"))));
    }
}

#[tokio::test]
async fn gap_at_unknown_position_resyncs_and_loses_hpack() {
    let rec = record().await;
    let reference = feed_all(&rec.log, whole);
    let a = stream_of(&reference, "/a");
    let b = stream_of(&reference, "/b");
    // The hole takes the whole HEADERS frame of /a's response and 3 bytes of the next
    // frame: the layer is at a frame boundary when it is told, so boundaries are lost.
    let frames = frames_of(&rec.log, S2C);
    let k = frames
        .iter()
        .position(|(_, h)| h.kind == fr::HEADERS && h.stream == a)
        .unwrap();
    let (off, h) = frames[k];
    let seen = feed_with_hole(&rec.log, S2C, off, 9 + h.length as usize + 3);
    let ev = &seen.events;
    assert!(ev
        .iter()
        .any(|e| e.starts_with("Gap { dir: S2C") && e.ends_with("boundary_lost: true }")));
    assert!(ev.iter().any(|e| e.starts_with("HpackLost { dir: S2C")));
    let resync = ev
        .iter()
        .position(|e| e.starts_with("Resync { dir: S2C"))
        .unwrap();
    assert!(ev[resync - 1].contains("h2_gap_resync"));
    // The client direction is untouched.
    assert!(!ev.iter().any(|e| e.starts_with("HpackLost { dir: C2S")));
    // No response view for /a; DATA of known streams is still decoded after the resync.
    assert!(!ev
        .iter()
        .any(|e| e.starts_with(&format!("Response {{ stream: {a},"))));
    assert_eq!(seen.bodies[&(b, S2C)].len(), BODY_B_LEN);
    // Header blocks that need only the static table and their own entries still decode
    // (fresh-decoder proof), the rest are reported undecoded; none are decoded wrong.
    for e in ev.iter().filter(|e| e.starts_with("Response")) {
        assert!(reference.events.contains(e), "{e}");
    }
    assert!(ev.iter().any(|e| e.starts_with("GoAway { dir: S2C")));
    // The WebSocket opened after the hole is still recognised and routed.
    let chat = stream_of(&reference, "/chat");
    assert_eq!(seen.ws[&(chat, S2C)], reference.ws[&(chat, S2C)]);
    assert_eq!(seen.ws[&(chat, C2S)], reference.ws[&(chat, C2S)]);
}

/// What the layer above will do: one wsscope WebSocket decoder per RFC 8441 stream,
/// fed the routed DATA, told of END_STREAM and RST_STREAM.
#[tokio::test]
async fn routed_websocket_bytes_decode_with_wsscope_sessions() {
    use wsscope::analysis::{contract, EventKind};
    use wsscope::h2::WsStreamEnd;
    use wsscope::types::Timestamp;
    use wsscope::ws::{WsConfig, WsSession};

    let rec = record().await;
    let mut layer = H2Layer::new(Entry::PriorKnowledge);
    let mut sessions: std::collections::BTreeMap<u32, WsSession> = Default::default();
    let mut ws_events: Vec<(u32, Option<Direction>, String)> = Vec::new();
    let ts = Timestamp(0);
    for (dir, bytes) in &rec.log {
        let mut h2_events = Vec::new();
        layer.feed(*dir, bytes, &mut |e| match e {
            H2Event::WebSocketOpen(o) if o.ok => h2_events.push((o.stream, None, Vec::new())),
            H2Event::Data {
                dir,
                stream,
                bytes,
                websocket: true,
                ..
            } => h2_events.push((stream, Some((dir, None)), bytes.to_vec())),
            H2Event::WebSocketEnd { stream, dir, how } => {
                h2_events.push((stream, Some((dir, Some(how))), Vec::new()))
            }
            _ => {}
        });
        for (stream, what, data) in h2_events {
            let mut out = |d: Option<Direction>, k: wsscope::ws::WsEvent| {
                let k: EventKind = contract::ws_event(k, true);
                ws_events.push((stream, d, format!("{k:?}")));
            };
            match what {
                None => {
                    sessions.insert(
                        stream,
                        WsSession::new(&WsConfig::default(), None).over_h2_stream(),
                    );
                }
                Some((d, None)) => sessions
                    .get_mut(&stream)
                    .unwrap()
                    .feed(d, &data, ts, &mut out),
                Some((d, Some(WsStreamEnd::Reset(_)))) => {
                    let s = sessions.get_mut(&stream).unwrap();
                    s.tcp_end(d, ts);
                    s.tcp_end(d.reverse(), ts);
                }
                Some((d, Some(_))) => sessions.get_mut(&stream).unwrap().tcp_end(d, ts),
            }
        }
    }
    assert_eq!(sessions.len(), 2);
    for (stream, s) in sessions.iter_mut() {
        let stream = *stream;
        s.end(ts, &mut |d, k| {
            let k: EventKind = contract::ws_event(k, true);
            ws_events.push((stream, d, format!("{k:?}")))
        });
    }
    let (chat, abort) = {
        let ids: Vec<u32> = sessions.keys().copied().collect();
        (ids[0], ids[1])
    };
    let frames = |s: u32, d: Direction| -> Vec<String> {
        ws_events
            .iter()
            .filter(|(st, dd, k)| *st == s && *dd == Some(d) && k.starts_with("WsFrame"))
            .map(|(_, _, k)| k.split(", masked").next().unwrap().to_string())
            .collect()
    };
    let ops = |v: Vec<String>| -> Vec<String> {
        v.iter()
            .map(|f| {
                f.split("opname: \"")
                    .nth(1)
                    .unwrap()
                    .split('"')
                    .next()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    assert_eq!(ops(frames(chat, C2S)), ["text", "binary", "close"]);
    assert_eq!(ops(frames(chat, S2C)), ["text", "close"]);
    assert_eq!(ops(frames(abort, C2S)), ["text"]);
    assert_eq!(ops(frames(abort, S2C)), ["binary"]);
    let close = ws_events
        .iter()
        .find(|(s, _, k)| *s == chat && k.starts_with("WsClose"))
        .unwrap();
    assert!(
        close.2.contains("initiator: Some(C2S), code: Some(1000)"),
        "{close:?}"
    );
    assert!(close.2.contains("echoed: true, clean: true"), "{close:?}");
    // The aborted one ended without a close exchange: abnormal (1006).
    let abnormal = ws_events
        .iter()
        .find(|(s, _, k)| *s == abort && k.starts_with("WsClose"))
        .unwrap();
    assert!(abnormal.2.contains("code: Some(1006)"), "{abnormal:?}");
    // ... and the rule says it was the stream that ended, not the TCP connection.
    let why = ws_events
        .iter()
        .find(|(s, _, k)| *s == abort && k.contains("abnormal_closure"))
        .unwrap();
    assert!(
        why.2.contains("HTTP/2 stream carrying the WebSocket ended"),
        "{why:?}"
    );
    let viols: Vec<_> = ws_events
        .iter()
        .filter(|(s, _, k)| *s == chat && k.starts_with("Violation"))
        .collect();
    assert!(viols.is_empty(), "{viols:#?}");
}
