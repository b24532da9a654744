//! `http`: the HTTP/1.1 layer. `upgrade_heads`: the opening handshakes of every
//! project capture (request and response heads as the peers sent them: Chromium,
//! Node ws, Python websockets, the crafted ones) through `http::HttpParser` and the
//! upgrade checks (`check_request`, `check_upgrade`). `http1_layer`: whole HTTP/1.1
//! connections (keep-alive, polling bodies, SSE, upgrades) through the stack's
//! `stack::http1::Http1` until it hands the stream over. Throughput: HTTP bytes.

use std::hint::black_box;

use criterion::{Criterion, Throughput};
use wsscope::http::{
    check_request, check_upgrade, HttpItem, HttpParser, RequestHead, ResponseHead, Role,
    DEFAULT_MAX_HEAD_BYTES,
};
use wsscope::stack::http1::Http1;
use wsscope::types::{Direction, Timestamp};

use crate::capture::{self, Conn};

/// The project's captures, top level (the hostile and TLS ones aside).
fn own_captures() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(capture::path(""))
        .expect("captures/")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".pcap") || n.ends_with(".pcapng"))
        .collect();
    v.sort();
    v
}

/// `dir`'s first head (through its blank line), if the stream has one.
fn head(conn: &Conn, dir: Direction) -> Option<Vec<u8>> {
    let s = conn.prefix(dir, DEFAULT_MAX_HEAD_BYTES);
    let end = s.windows(4).position(|w| w == b"\r\n\r\n")?;
    Some(s[..end + 4].to_vec())
}

fn parse<T>(
    role: Role,
    bytes: &[u8],
    method: Option<&str>,
    pick: fn(HttpItem) -> Option<T>,
) -> Option<T> {
    let mut p = HttpParser::new(role, DEFAULT_MAX_HEAD_BYTES);
    if let Some(m) = method {
        p.expect_response_to(m);
    }
    let mut got = None;
    p.feed(bytes, &mut |i| {
        if got.is_none() {
            got = pick(i);
        }
    });
    got
}

fn request(i: HttpItem) -> Option<RequestHead> {
    match i {
        HttpItem::Request(r) => Some(r),
        _ => None,
    }
}

fn response(i: HttpItem) -> Option<ResponseHead> {
    match i {
        HttpItem::Response(r) => Some(r),
        _ => None,
    }
}

/// Parses and checks one handshake, as the HTTP/1 layer does; `None` when the
/// heads are not an upgrade request and its response.
fn handshake(req: &[u8], resp: &[u8]) -> Option<()> {
    let r = parse(Role::Request, req, None, request).filter(|r| r.is_upgrade_request())?;
    black_box(check_request(&r));
    let s = parse(Role::Response, resp, Some(&r.method), response)?;
    black_box(check_upgrade(&r, &s));
    Some(())
}

/// A connection through the HTTP/1 layer until a 101 hands it over.
fn http1(conn: &Conn) -> u64 {
    let mut l = Http1::new();
    let mut fed = 0;
    let mut out = |d, e| {
        black_box((d, e));
    };
    for (dir, bytes) in &conn.chunks {
        fed += bytes.len() as u64;
        if l.feed(*dir, bytes, Timestamp(0), &mut out).is_some() {
            return fed;
        }
    }
    l.end(true, Timestamp(0), &mut out);
    fed
}

pub fn bench(c: &mut Criterion) {
    let mut heads = Vec::new();
    let mut conns = Vec::new();
    for name in own_captures() {
        for conn in capture::connections(&capture::packets(&name)) {
            let (Some(req), Some(resp)) =
                (head(&conn, Direction::C2S), head(&conn, Direction::S2C))
            else {
                continue;
            };
            if handshake(&req, &resp).is_some() {
                heads.push((req, resp));
            }
            if name.starts_with("http-") || name.starts_with("compare-") {
                conns.push(conn);
            }
        }
    }
    assert!(heads.len() >= 20, "handshakes found: {}", heads.len());
    let head_bytes: u64 = heads.iter().map(|(a, b)| (a.len() + b.len()) as u64).sum();
    let layer_bytes: u64 = conns.iter().map(http1).sum();
    let mut g = crate::group(c, "http");
    g.throughput(Throughput::Bytes(head_bytes));
    g.bench_function("upgrade_heads", |b| {
        b.iter(|| {
            for (req, resp) in &heads {
                black_box(handshake(black_box(req), black_box(resp)));
            }
        })
    });
    g.throughput(Throughput::Bytes(layer_bytes));
    g.bench_function("http1_layer", |b| {
        b.iter(|| conns.iter().map(http1).sum::<u64>())
    });
    g.finish();
}
