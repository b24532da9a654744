//! `h2`: the HTTP/2 layer (`h2::H2Layer`): frames, HPACK, streams, and RFC 8441
//! WebSockets. The bytes are a real conversation between the `h2` crate's client
//! and server over an in-memory duplex, recorded as each side wrote them (as
//! `tests/h2_layer.rs` does): 64 GETs answered with 8 KiB JSON bodies, 16 POSTs of
//! 4 KiB, and an extended CONNECT WebSocket carrying 400 chat messages (the
//! client's masked). Throughput: HTTP/2 stream bytes.

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, Throughput};
use h2::ext::Protocol;
use http::{Method, Request, Response};
use wsscope::h2::{Entry, H2Event, H2Layer};
use wsscope::types::Direction;
use wsscope::ws::frame::encode_frame;

use crate::gen::{self, Rng};

#[path = "../../tests/support/tap.rs"]
mod tap;
use tap::{Log, Tap};

const GETS: usize = 64;
const POSTS: usize = 16;
const WS_MESSAGES: usize = 200;

async fn read_all(mut body: h2::RecvStream) -> Vec<u8> {
    let mut v = Vec::new();
    while let Some(d) = body.data().await {
        let d = d.unwrap();
        body.flow_control().release_capacity(d.len()).unwrap();
        v.extend_from_slice(&d);
    }
    v
}

/// WebSocket messages, one frame each; masked for the client.
fn ws_messages(seed: u64, masked: bool) -> Vec<Bytes> {
    let mut rng = Rng::new(seed);
    (0..WS_MESSAGES)
        .map(|i| {
            let n = rng.range(10, 170);
            let msg = gen::chat_json(&mut rng, i, n);
            let mask = masked.then(|| rng.mask());
            Bytes::from(encode_frame(true, 0, 1, mask, msg.as_bytes()))
        })
        .collect()
}

async fn handle(req: Request<h2::RecvStream>, mut respond: h2::server::SendResponse<Bytes>) {
    let websocket = req.extensions().get::<Protocol>().is_some();
    let method = req.method().clone();
    let body = read_or_keep(req.into_body(), websocket).await;
    if websocket {
        let resp = Response::builder().status(200).body(()).unwrap();
        let mut s = respond.send_response(resp, false).unwrap();
        for f in ws_messages(2, false) {
            s.send_data(f, false).unwrap();
        }
        if let Some(b) = body {
            read_all(b).await;
        }
        s.send_data(Bytes::new(), true).unwrap();
        return;
    }
    let (status, len) = if method == Method::POST {
        (201, 64)
    } else {
        (200, 8 << 10)
    };
    let resp = Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("cache-control", "no-store")
        .header("server", "h2-bench")
        .body(())
        .unwrap();
    let mut s = respond.send_response(resp, false).unwrap();
    let mut rng = Rng::new(len as u64);
    s.send_data(Bytes::from(gen::quotes_json(&mut rng, len)), true)
        .unwrap();
}

/// A request's body read whole, or (a WebSocket) kept to be read while answering.
async fn read_or_keep(body: h2::RecvStream, websocket: bool) -> Option<h2::RecvStream> {
    if websocket {
        return Some(body);
    }
    read_all(body).await;
    None
}

async fn serve(io: Tap) {
    let mut conn = h2::server::Builder::new()
        .enable_connect_protocol()
        .handshake::<_, Bytes>(io)
        .await
        .unwrap();
    while let Some(r) = conn.accept().await {
        let (req, respond) = r.unwrap();
        tokio::spawn(handle(req, respond));
    }
}

fn request(method: Method, path: String) -> Request<()> {
    Request::builder()
        .method(method)
        .uri(format!("https://api.example.test{path}"))
        .header("user-agent", "wsscope-bench/1")
        .header("accept", "application/json")
        .header("authorization", "Bearer 3q2+7w==")
        .body(())
        .unwrap()
}

async fn client(io: Tap) {
    let (client, conn) = h2::client::handshake(io).await.unwrap();
    let conn_task = tokio::spawn(conn);
    let client = client.ready().await.unwrap();
    while !client.is_extended_connect_protocol_enabled() {
        tokio::task::yield_now().await;
    }
    let mut rng = Rng::new(1);
    for i in 0..GETS + POSTS {
        let mut c = client.clone().ready().await.unwrap();
        let resp = if i < GETS {
            let (resp, _) = c
                .send_request(request(Method::GET, format!("/quotes/{i}")), true)
                .unwrap();
            resp
        } else {
            let r = request(Method::POST, format!("/orders/{i}"));
            let (resp, mut send) = c.send_request(r, false).unwrap();
            send.send_data(Bytes::from(rng.bytes(4 << 10)), true)
                .unwrap();
            resp
        };
        read_all(resp.await.unwrap().into_body()).await;
    }
    let ws = Request::builder()
        .method(Method::CONNECT)
        .uri("https://api.example.test/feed")
        .extension(Protocol::from_static("websocket"))
        .header("sec-websocket-version", "13")
        .body(())
        .unwrap();
    let mut c = client.ready().await.unwrap();
    let (resp, mut send) = c.send_request(ws, false).unwrap();
    let resp = resp.await.unwrap();
    for f in ws_messages(3, true) {
        send.send_data(f, false).unwrap();
    }
    send.send_data(Bytes::new(), true).unwrap();
    read_all(resp.into_body()).await;
    // Everything each side meant to say has been written (the server ends its
    // stream only after the client's end came). The connections are not waited
    // for: with every stream closed, h2's client and server each wait for the
    // other to close the transport.
    drop(c);
    conn_task.abort();
}

/// The recorded conversation: what each side wrote, in order.
fn record() -> Vec<(Direction, Vec<u8>)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio runtime");
    let log: Log = Log::default();
    rt.block_on(async {
        let (c, s) = tokio::io::duplex(1 << 16);
        let tap = |inner, dir| Tap {
            inner,
            dir,
            log: log.clone(),
        };
        let server = tokio::spawn(serve(tap(s, Direction::S2C)));
        client(tap(c, Direction::C2S)).await;
        server.abort();
    });
    let v = log.lock().unwrap().clone();
    v
}

/// The conversation through the layer; returns (DATA bytes, WebSocket bytes).
fn run(chunks: &[(Direction, Vec<u8>)]) -> (u64, u64) {
    let mut l = H2Layer::new(Entry::Alpn);
    let (mut data, mut ws) = (0, 0);
    let mut out = |e: H2Event<'_>| {
        if let H2Event::Data {
            bytes, websocket, ..
        } = &e
        {
            data += bytes.len() as u64;
            if *websocket {
                ws += bytes.len() as u64;
            }
        }
        black_box(e);
    };
    for (dir, b) in chunks {
        l.feed(*dir, b, &mut out);
    }
    l.end(Direction::C2S, &mut out);
    l.end(Direction::S2C, &mut out);
    (data, ws)
}

pub fn bench(c: &mut Criterion) {
    let chunks = record();
    let (data, ws) = run(&chunks);
    let frames: u64 = [ws_messages(2, false), ws_messages(3, true)]
        .iter()
        .flatten()
        .map(|f| f.len() as u64)
        .sum();
    // Every body and every WebSocket byte came through.
    let bodies = (GETS * gen::quotes_json(&mut Rng::new(8 << 10), 8 << 10).len()
        + POSTS * ((4 << 10) + gen::quotes_json(&mut Rng::new(64), 64).len()))
        as u64;
    assert_eq!((data, ws), (bodies + frames, frames));
    let mut g = crate::group(c, "h2");
    g.throughput(Throughput::Bytes(
        chunks.iter().map(|(_, b)| b.len() as u64).sum(),
    ));
    g.bench_function("requests_and_websocket", |b| {
        b.iter(|| run(black_box(&chunks)))
    });
    g.finish();
}
