use proptest::prelude::*;

use super::*;

/// A compact, comparable form of an item.
fn summary(item: &HttpItem) -> String {
    match item {
        HttpItem::Request(r) => format!("REQ {} {} {}", r.method, r.target, r.version),
        HttpItem::Response(r) => format!("RESP {} {}", r.status, r.version),
        HttpItem::Violation(v) => format!("VIOL {}", v.code),
        HttpItem::BodyDone { bytes } => format!("BODY {bytes}"),
    }
}

/// Feeds `chunks` the way a caller must: unconsumed bytes are fed again, and every stop is
/// answered with `resume` (a refused upgrade), recorded as `STOP`. Ends the stream when `end`.
fn drive(p: &mut HttpParser, chunks: &[&[u8]], end: bool) -> Vec<String> {
    let mut items = Vec::new();
    let mut pending: Vec<u8> = Vec::new();
    for chunk in chunks {
        pending.extend_from_slice(chunk);
        loop {
            let n = p.feed(&pending, &mut |i| items.push(summary(&i)));
            assert!(n <= pending.len());
            pending.drain(..n);
            if p.is_stopped() {
                items.push("STOP".to_string());
                p.resume();
            } else {
                assert!(pending.is_empty(), "a running parser consumes everything");
                break;
            }
        }
    }
    if end {
        p.end(&mut |i| items.push(summary(&i)));
    }
    items
}

fn whole(role: Role, bytes: &[u8], end: bool) -> Vec<String> {
    drive(
        &mut HttpParser::new(role, DEFAULT_MAX_HEAD_BYTES),
        &[bytes],
        end,
    )
}

fn items_of(role: Role, bytes: &[u8]) -> Vec<HttpItem> {
    let mut p = HttpParser::new(role, DEFAULT_MAX_HEAD_BYTES);
    let mut items = Vec::new();
    let n = p.feed(bytes, &mut |i| items.push(i));
    assert_eq!(n, bytes.len());
    items
}

#[test]
fn one_request_head() {
    let items = items_of(
        Role::Request,
        b"GET /chat?x=1 HTTP/1.1\r\nHost: example.com\r\nX-Two: a\r\nx-two: b\r\n\r\n",
    );
    let [HttpItem::Request(r)] = items.as_slice() else {
        panic!("{items:?}")
    };
    assert_eq!(r.method, "GET");
    assert_eq!(r.target, "/chat?x=1");
    assert_eq!(r.version, "HTTP/1.1");
    assert_eq!(
        r.headers,
        [
            ("Host".to_string(), "example.com".to_string()),
            ("X-Two".to_string(), "a".to_string()),
            ("x-two".to_string(), "b".to_string()),
        ]
    );
}

#[test]
fn non_utf8_values_are_decoded_lossily() {
    let items = items_of(
        Role::Response,
        b"HTTP/1.0 200 OK\r\nX-Bin: a\xff\xfeb\r\nContent-Length: 0\r\n\r\n",
    );
    let HttpItem::Response(r) = &items[0] else {
        panic!("{items:?}")
    };
    assert_eq!(r.version, "HTTP/1.0");
    assert_eq!(r.header("x-bin"), Some("a\u{fffd}\u{fffd}b"));
    assert_eq!(items[1], HttpItem::BodyDone { bytes: 0 });
}

#[test]
fn keep_alive_requests_with_bodies_and_pipelining() {
    let stream = b"\r\nPOST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nab\r\n\r\
GET /b HTTP/1.1\r\nHost: h\r\n\r\n\
POST /c HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n\
3;ext=\"a;b\"\r\nabc\r\n10\r\n0123456789abcdef\r\n0 ; last\r\nX-Trailer: 1\r\nY: 2\r\n\r\n\
GET /d HTTP/1.0\n\n";
    assert_eq!(
        whole(Role::Request, stream, true),
        [
            "REQ POST /a HTTP/1.1",
            "BODY 5",
            "REQ GET /b HTTP/1.1",
            "REQ POST /c HTTP/1.1",
            "BODY 19",
            "REQ GET /d HTTP/1.0",
        ]
    );
}

#[test]
fn responses_framed_by_the_request_method_and_status() {
    let mut p = HttpParser::new(Role::Response, DEFAULT_MAX_HEAD_BYTES);
    for m in ["HEAD", "GET", "GET", "GET", "POST", "GET"] {
        p.expect_response_to(m);
    }
    let stream = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n\
HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n\
HTTP/1.1 304 Not Modified\r\n\r\n\
HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n0\r\n\r\n\
HTTP/1.1 100 Continue\r\n\r\n\
HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok\
HTTP/1.1 200 OK\r\n\r\nread until close HTTP/1.1 200 OK\r\n\r\n";
    assert_eq!(
        drive(&mut p, &[stream], true),
        [
            "RESP 200 HTTP/1.1",
            "RESP 204 HTTP/1.1",
            "RESP 304 HTTP/1.1",
            "RESP 200 HTTP/1.1",
            "BODY 4",
            "RESP 100 HTTP/1.1",
            "RESP 201 HTTP/1.1",
            "BODY 2",
            "RESP 200 HTTP/1.1",
            "BODY 36",
        ]
    );
    assert_eq!(p.state(), ParserState::Ended);
}

#[test]
fn connect_tunnels_are_read_until_the_end() {
    let mut p = HttpParser::new(Role::Response, DEFAULT_MAX_HEAD_BYTES);
    p.expect_response_to("CONNECT");
    let items = drive(
        &mut p,
        &[b"HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01tls"],
        true,
    );
    assert_eq!(items, ["RESP 200 HTTP/1.1", "BODY 6"]);
    let items = whole(
        Role::Request,
        b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n\x16\x03\x01",
        true,
    );
    assert_eq!(items, ["REQ CONNECT example.com:443 HTTP/1.1", "BODY 3"]);
}

#[test]
fn stops_after_an_upgrade_request_and_resumes() {
    let req = b"GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
    let mut stream = req.to_vec();
    stream.extend_from_slice(b"GET /next HTTP/1.1\r\n\r\n");
    let mut p = HttpParser::new(Role::Request, DEFAULT_MAX_HEAD_BYTES);
    let mut items = Vec::new();
    let n = p.feed(&stream, &mut |i| items.push(summary(&i)));
    assert_eq!(n, req.len());
    assert!(p.is_stopped());
    assert_eq!(p.state(), ParserState::Stopped);
    assert_eq!(p.feed(&stream[n..], &mut |i| items.push(summary(&i))), 0);
    p.resume();
    assert_eq!(
        p.feed(&stream[n..], &mut |i| items.push(summary(&i))),
        stream.len() - n
    );
    assert_eq!(items, ["REQ GET /ws HTTP/1.1", "REQ GET /next HTTP/1.1"]);
}

#[test]
fn upgrade_request_with_a_body_skips_it_after_resume() {
    let stream =
        b"POST /ws HTTP/1.1\r\nUpgrade: h2c\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\n\r\n";
    assert_eq!(
        whole(Role::Request, stream, false),
        [
            "REQ POST /ws HTTP/1.1",
            "STOP",
            "BODY 3",
            "REQ GET / HTTP/1.1"
        ]
    );
}

#[test]
fn stops_after_101_leaving_the_websocket_bytes() {
    let head =
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
    let mut stream = head.to_vec();
    stream.extend_from_slice(&[0x89, 0x00, 0x81, 0x02, b'h', b'i']);
    // Whatever the split, the parser stops exactly at the end of the head.
    for split in 0..=stream.len() {
        let mut p = HttpParser::new(Role::Response, DEFAULT_MAX_HEAD_BYTES);
        let mut items = Vec::new();
        let a = p.feed(&stream[..split], &mut |i| items.push(summary(&i)));
        let consumed = if p.is_stopped() {
            a
        } else {
            assert_eq!(a, split);
            a + p.feed(&stream[split..], &mut |i| items.push(summary(&i)))
        };
        assert!(p.is_stopped(), "split {split}");
        assert_eq!(consumed, head.len(), "split {split}");
        assert_eq!(items, ["RESP 101 HTTP/1.1"]);
    }
}

#[test]
fn head_too_large_gives_up() {
    let mut p = HttpParser::new(Role::Request, 64);
    let mut items = Vec::new();
    // Valid header lines only: a head that went bad would be malformed instead.
    let mut total = p.feed(b"GET / HTTP/1.1\r\n", &mut |i| items.push(summary(&i)));
    for _ in 0..10 {
        total += p.feed(b"X: aaaaaaaaaaaa\r\n", &mut |i| items.push(summary(&i)));
    }
    assert_eq!(total, 186);
    assert_eq!(items, ["VIOL http_head_too_large"]);
    assert_eq!(p.state(), ParserState::Failed);
    // A head of exactly the bound is fine.
    let head = b"GET / HTTP/1.1\r\nHost: h\r\n\r\n";
    let mut p = HttpParser::new(Role::Request, head.len());
    let mut items = Vec::new();
    p.feed(head, &mut |i| items.push(summary(&i)));
    assert_eq!(items, ["REQ GET / HTTP/1.1"]);
}

#[test]
fn too_many_headers_is_a_violation() {
    let mut head = b"GET / HTTP/1.1\r\n".to_vec();
    for i in 0..=MAX_HEADERS {
        head.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
    }
    head.extend_from_slice(b"\r\n");
    assert_eq!(
        whole(Role::Request, &head, false),
        ["VIOL http_too_many_headers"]
    );
}

#[test]
fn malformed_heads() {
    let table: &[(&str, Role, &[u8], &[&str])] = &[
        (
            "tls is not http",
            Role::Request,
            b"\x16\x03\x01\x02\x00\x01\x00",
            &["VIOL http_malformed"],
        ),
        (
            "bad header name",
            Role::Request,
            b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
            &["VIOL http_malformed"],
        ),
        (
            "http/2 preface",
            Role::Request,
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
            &["VIOL http_malformed"],
        ),
        (
            "bad status",
            Role::Response,
            b"HTTP/1.1 2x0 OK\r\n\r\n",
            &["VIOL http_malformed"],
        ),
        (
            "bad content-length",
            Role::Request,
            b"POST / HTTP/1.1\r\nContent-Length: 5x\r\n\r\n",
            &["REQ POST / HTTP/1.1", "VIOL http_malformed"],
        ),
        (
            "differing content-lengths",
            Role::Request,
            b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            &["REQ POST / HTTP/1.1", "VIOL http_malformed"],
        ),
        (
            "request te not chunked",
            Role::Request,
            b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nxx",
            &["REQ POST / HTTP/1.1", "VIOL http_malformed"],
        ),
        (
            "bad chunk size",
            Role::Request,
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            &["REQ POST / HTTP/1.1", "VIOL http_bad_chunk"],
        ),
        (
            "chunk longer than its size",
            Role::Request,
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n",
            &["REQ POST / HTTP/1.1", "VIOL http_bad_chunk"],
        ),
        (
            "chunk size overflow",
            Role::Request,
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n",
            &["REQ POST / HTTP/1.1", "VIOL http_bad_chunk"],
        ),
    ];
    for (name, role, bytes, want) in table {
        let got = whole(*role, bytes, false);
        assert_eq!(got, *want, "{name}");
        // Also byte by byte.
        let chunks: Vec<&[u8]> = bytes.chunks(1).collect();
        let got = drive(
            &mut HttpParser::new(*role, DEFAULT_MAX_HEAD_BYTES),
            &chunks,
            false,
        );
        assert_eq!(got, *want, "{name}, byte by byte");
    }
}

#[test]
fn te_and_cl_together_is_flagged_and_chunked_wins() {
    let stream = b"POST / HTTP/1.1\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n";
    assert_eq!(
        whole(Role::Request, stream, false),
        [
            "REQ POST / HTTP/1.1",
            "VIOL http_conflicting_length",
            "BODY 1"
        ]
    );
}

#[test]
fn repeated_identical_content_length_is_fine() {
    let stream = b"POST / HTTP/1.1\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nab";
    assert_eq!(
        whole(Role::Request, stream, false),
        ["REQ POST / HTTP/1.1", "BODY 2"]
    );
}

#[test]
fn end_inside_a_message() {
    let table: &[(&str, Role, &[u8], &[&str])] = &[
        (
            "inside a head",
            Role::Request,
            b"GET / HTTP/1.1\r\nHo",
            &["VIOL http_incomplete_message"],
        ),
        (
            "inside a body",
            Role::Request,
            b"POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\nab",
            &["REQ POST / HTTP/1.1", "VIOL http_incomplete_message"],
        ),
        (
            "inside chunks",
            Role::Response,
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
            &["RESP 200 HTTP/1.1", "VIOL http_incomplete_message"],
        ),
        (
            "until close",
            Role::Response,
            b"HTTP/1.0 200 OK\r\n\r\nabc",
            &["RESP 200 HTTP/1.0", "BODY 3"],
        ),
        (
            "between messages",
            Role::Request,
            b"GET / HTTP/1.1\r\n\r\n\r\n",
            &["REQ GET / HTTP/1.1"],
        ),
    ];
    for (name, role, bytes, want) in table {
        assert_eq!(whole(*role, bytes, true), *want, "{name}");
    }
}

#[test]
fn gap_resynchronises_at_the_next_start_line() {
    let mut p = HttpParser::new(Role::Request, DEFAULT_MAX_HEAD_BYTES);
    let mut items = Vec::new();
    p.feed(
        b"POST /a HTTP/1.1\r\nContent-Length: 1000\r\n\r\nsome body",
        &mut |i| items.push(summary(&i)),
    );
    p.gap();
    assert_eq!(p.state(), ParserState::Resync);
    // The rest of the lost body, with a line that mentions GET but does not start with it.
    p.feed(b"dy GET /no HTTP/1.1\r\nGE", &mut |i| {
        items.push(summary(&i))
    });
    p.feed(b"T /b HTTP/1.1\r\n\r\n", &mut |i| items.push(summary(&i)));
    assert_eq!(items, ["REQ POST /a HTTP/1.1", "REQ GET /b HTTP/1.1"]);

    // Right after a gap, the first byte counts as a line start.
    let mut p = HttpParser::new(Role::Response, DEFAULT_MAX_HEAD_BYTES);
    let mut items = Vec::new();
    p.feed(b"HTTP/1.1 200 OK\r\nContent-", &mut |i| {
        items.push(summary(&i))
    });
    p.gap();
    p.feed(
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
        &mut |i| items.push(summary(&i)),
    );
    assert_eq!(items, ["RESP 404 HTTP/1.1", "BODY 0"]);

    // A body read until the end goes on across a gap.
    let mut p = HttpParser::new(Role::Response, DEFAULT_MAX_HEAD_BYTES);
    let mut items = Vec::new();
    p.feed(b"HTTP/1.0 200 OK\r\n\r\nab", &mut |i| {
        items.push(summary(&i))
    });
    p.gap();
    p.feed(b"HTTP/1.1 200 OK\r\n\r\n", &mut |i| items.push(summary(&i)));
    p.end(&mut |i| items.push(summary(&i)));
    assert_eq!(items, ["RESP 200 HTTP/1.0", "BODY 21"]);

    // A failed parser gets a new chance after a gap.
    let mut p = HttpParser::new(Role::Request, DEFAULT_MAX_HEAD_BYTES);
    let mut items = Vec::new();
    p.feed(b"\x16\x03\x01", &mut |i| items.push(summary(&i)));
    p.gap();
    p.feed(b"GET / HTTP/1.1\r\n\r\n", &mut |i| items.push(summary(&i)));
    assert_eq!(items, ["VIOL http_malformed", "REQ GET / HTTP/1.1"]);
}

#[test]
fn bodies_are_not_buffered() {
    // A 1 GiB Content-Length with a small head bound: the body is counted, never stored.
    let mut p = HttpParser::new(Role::Response, 256);
    let mut items = Vec::new();
    p.feed(
        b"HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\n",
        &mut |i| items.push(summary(&i)),
    );
    let block = vec![b'x'; 1 << 20];
    for _ in 0..1024 {
        assert_eq!(
            p.feed(&block, &mut |i| items.push(summary(&i))),
            block.len()
        );
    }
    assert!(p.head.capacity() <= 1024);
    assert_eq!(items, ["RESP 200 HTTP/1.1", "BODY 1073741824"]);
}

// ---- property: any split gives the same items ----

#[derive(Clone, Debug)]
enum Body {
    None,
    Len(Vec<u8>),
    Chunked(Vec<Vec<u8>>, bool),
}

fn body_strategy() -> impl Strategy<Value = Body> {
    let bytes = proptest::collection::vec(
        prop_oneof![any::<u8>(), Just(b'\r'), Just(b'\n'), Just(b'H')],
        0..40,
    );
    prop_oneof![
        Just(Body::None),
        bytes.clone().prop_map(Body::Len),
        (
            proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..20), 0..4),
            any::<bool>()
        )
            .prop_map(|(c, t)| Body::Chunked(c, t)),
    ]
}

fn write_body(out: &mut Vec<u8>, body: &Body, send: bool) -> Option<u64> {
    match body {
        Body::None => {
            out.extend_from_slice(b"\r\n");
            None
        }
        Body::Len(b) => {
            out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", b.len()).as_bytes());
            if !send {
                return None;
            }
            out.extend_from_slice(b);
            Some(b.len() as u64)
        }
        Body::Chunked(chunks, trailers) => {
            out.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
            if !send {
                return None;
            }
            for (i, c) in chunks.iter().enumerate() {
                let ext = if i % 2 == 1 { ";name=\"v;\"" } else { "" };
                out.extend_from_slice(format!("{:X}{ext}\r\n", c.len()).as_bytes());
                out.extend_from_slice(c);
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b"0\r\n");
            if *trailers {
                out.extend_from_slice(b"Expires: never\r\nX-T: 1\r\n");
            }
            out.extend_from_slice(b"\r\n");
            Some(chunks.iter().map(|c| c.len() as u64).sum())
        }
    }
}

#[derive(Clone, Debug)]
struct Exchange {
    method: &'static str,
    upgrade: bool,
    req_body: Body,
    interim: bool,
    status: u16,
    resp_body: Body,
}

fn exchange_strategy() -> impl Strategy<Value = Exchange> {
    (
        prop_oneof![Just("GET"), Just("POST"), Just("HEAD"), Just("PUT")],
        any::<bool>(),
        body_strategy(),
        any::<bool>(),
        prop_oneof![Just(200u16), Just(204), Just(304), Just(404), Just(426)],
        body_strategy(),
    )
        .prop_map(
            |(method, upgrade, req_body, interim, status, resp_body)| Exchange {
                method,
                upgrade,
                req_body,
                interim,
                status,
                resp_body,
            },
        )
}

/// Both streams of a keep-alive connection (pipelined: all requests first), with the items
/// each parser must produce; the last response, when `until_close`, has no length.
fn build(ex: &[Exchange], until_close: bool) -> (Vec<u8>, Vec<String>, Vec<u8>, Vec<String>) {
    let (mut c2s, mut s2c) = (Vec::new(), Vec::new());
    let (mut want_c, mut want_s) = (Vec::new(), Vec::new());
    for (i, e) in ex.iter().enumerate() {
        c2s.extend_from_slice(format!("{} /r{i} HTTP/1.1\r\nHost: h\r\n", e.method).as_bytes());
        if e.upgrade {
            c2s.extend_from_slice(b"Upgrade: websocket\r\nConnection: Upgrade\r\n");
        }
        want_c.push(format!("REQ {} /r{i} HTTP/1.1", e.method));
        if e.upgrade {
            want_c.push("STOP".to_string());
        }
        if let Some(n) = write_body(&mut c2s, &e.req_body, true) {
            want_c.push(format!("BODY {n}"));
        }

        if e.interim {
            s2c.extend_from_slice(b"HTTP/1.1 100 Continue\r\nX: y\r\n\r\n");
            want_s.push("RESP 100 HTTP/1.1".to_string());
        }
        s2c.extend_from_slice(format!("HTTP/1.1 {} Whatever\r\n", e.status).as_bytes());
        want_s.push(format!("RESP {} HTTP/1.1", e.status));
        let bodyless = e.method == "HEAD" || e.status == 204 || e.status == 304;
        let last = i + 1 == ex.len();
        if until_close && last && !bodyless {
            s2c.extend_from_slice(b"\r\nthe rest until close\r\n\r\nHTTP/1.1 200 OK\r\n\r\n");
            want_s.push("BODY 43".to_string());
        } else if let Some(n) = write_body(&mut s2c, &e.resp_body, !bodyless) {
            want_s.push(format!("BODY {n}"));
        } else if matches!(e.resp_body, Body::None) && !bodyless {
            // No length and not the last: read until the end would swallow the rest; the
            // generator gives such responses an explicit empty length instead.
            s2c.truncate(s2c.len() - 2);
            s2c.extend_from_slice(b"Content-Length: 0\r\n\r\n");
            want_s.push("BODY 0".to_string());
        }
    }
    (c2s, want_c, s2c, want_s)
}

fn split<'a>(bytes: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    cuts.sort_unstable();
    let mut out = Vec::new();
    let mut at = 0;
    for c in cuts {
        out.push(&bytes[at..c]);
        at = c;
    }
    out.push(&bytes[at..]);
    out
}

fn run_responses(ex: &[Exchange], chunks: &[&[u8]]) -> Vec<String> {
    let mut p = HttpParser::new(Role::Response, DEFAULT_MAX_HEAD_BYTES);
    for e in ex {
        p.expect_response_to(e.method);
    }
    drive(&mut p, chunks, true)
}

proptest! {
    #[test]
    fn any_split_gives_the_same_items(
        ex in proptest::collection::vec(exchange_strategy(), 1..6),
        until_close in any::<bool>(),
        cuts_c in proptest::collection::vec(any::<usize>(), 0..12),
        cuts_s in proptest::collection::vec(any::<usize>(), 0..12),
    ) {
        let (c2s, want_c, s2c, want_s) = build(&ex, until_close);
        let whole_c = drive(&mut HttpParser::new(Role::Request, DEFAULT_MAX_HEAD_BYTES), &[&c2s], true);
        prop_assert_eq!(&whole_c, &want_c);
        let split_c = drive(&mut HttpParser::new(Role::Request, DEFAULT_MAX_HEAD_BYTES), &split(&c2s, &cuts_c), true);
        prop_assert_eq!(&split_c, &want_c);

        prop_assert_eq!(&run_responses(&ex, &[&s2c]), &want_s);
        prop_assert_eq!(&run_responses(&ex, &split(&s2c, &cuts_s)), &want_s);
        let bytewise: Vec<&[u8]> = s2c.chunks(1).collect();
        prop_assert_eq!(&run_responses(&ex, &bytewise), &want_s);
    }

    #[test]
    fn garbage_never_panics(
        bytes in proptest::collection::vec(
            prop_oneof![any::<u8>(), Just(b'\r'), Just(b'\n'), Just(b' '), Just(b':')], 0..400),
        prefix in prop_oneof![Just(&b""[..]), Just(&b"GET / HTTP/1.1\r\n"[..]), Just(&b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"[..])],
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
        gap_at in any::<usize>(),
    ) {
        let mut stream = prefix.to_vec();
        stream.extend_from_slice(&bytes);
        for role in [Role::Request, Role::Response] {
            let mut p = HttpParser::new(role, 128);
            let chunks = split(&stream, &cuts);
            let mut items = Vec::new();
            for (k, c) in chunks.iter().enumerate() {
                if k == gap_at % (chunks.len() + 1) {
                    p.gap();
                }
                let mut pending = c.to_vec();
                while !pending.is_empty() {
                    let n = p.feed(&pending, &mut |i| items.push(i));
                    prop_assert!(n <= pending.len());
                    pending.drain(..n);
                    if p.is_stopped() { p.resume(); } else { prop_assert!(pending.is_empty()); }
                }
            }
            p.end(&mut |i| items.push(i));
            prop_assert!(p.head.len() <= 129);
            prop_assert!(p.line.len() <= MAX_CHUNK_LINE);
        }
    }
}

/// Found by the `http1` fuzz target (chunking oracle): a head cut short after bytes that
/// cannot be HTTP was `http_incomplete_message` when the bad byte came in a later
/// segment than the first, `http_malformed` when in the same one.
#[test]
fn a_malformed_head_is_malformed_however_it_is_segmented() {
    let whole = drive(&mut HttpParser::new(Role::Request, 4096), &[b"n\0"], true);
    assert_eq!(whole, ["VIOL http_malformed"]);
    let split = drive(
        &mut HttpParser::new(Role::Request, 4096),
        &[b"n", b"\0"],
        true,
    );
    assert_eq!(split, whole);
    // A bad header line cut short, the same.
    let head: &[u8] = b"GET / HTTP/1.1\r\nHo\0st";
    let whole = drive(&mut HttpParser::new(Role::Request, 4096), &[head], true);
    assert_eq!(whole, ["VIOL http_malformed"]);
    let split = drive(
        &mut HttpParser::new(Role::Request, 4096),
        &[&head[..16], &head[16..]],
        true,
    );
    assert_eq!(split, whole);
}

/// What is plainly not HTTP is rejected early whatever the segmentation: a plausible
/// first segment followed by binary bytes without a newline was buffered up to the head
/// bound (64 KiB) instead.
#[test]
fn garbage_after_a_plausible_first_segment_is_rejected_early() {
    let mut p = HttpParser::new(Role::Request, DEFAULT_MAX_HEAD_BYTES);
    let mut items = Vec::new();
    p.feed(b"G", &mut |i| items.push(summary(&i)));
    for _ in 0..4 {
        p.feed(&[0u8; 16], &mut |i| items.push(summary(&i)));
    }
    assert_eq!(items, ["VIOL http_malformed"]);
    assert_eq!(p.state(), ParserState::Failed);
}

/// A bad header line in a later segment, then more than the head bound: malformed (as
/// when it all comes at once), not `http_head_too_large`.
#[test]
fn a_head_that_went_bad_is_malformed_not_too_large() {
    let first: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n";
    let bad: &[u8] = b"X: \0\r\n";
    let filler = vec![b'a'; 200];
    let mut all = first.to_vec();
    all.extend_from_slice(bad);
    all.extend_from_slice(&filler);
    let whole = drive(&mut HttpParser::new(Role::Request, 128), &[&all], false);
    assert_eq!(whole, ["VIOL http_malformed"]);
    let split = drive(
        &mut HttpParser::new(Role::Request, 128),
        &[first, bad, &filler],
        false,
    );
    assert_eq!(split, whole);
}

/// Many header lines in a head that never ends: `http_head_too_large` (the bound), in
/// one segment as in many; it was `http_too_many_headers` when the first segment held
/// more than `MAX_HEADERS` lines.
#[test]
fn many_header_lines_in_an_endless_head_are_too_large_however_segmented() {
    let mut head = b"GET / HTTP/1.1\r\n".to_vec();
    for _ in 0..MAX_HEADERS + 50 {
        head.extend_from_slice(b"X: y\r\n");
    }
    head.resize(4096, b'a');
    let whole = drive(&mut HttpParser::new(Role::Request, 2048), &[&head], false);
    assert_eq!(whole, ["VIOL http_head_too_large"]);
    let chunks: Vec<&[u8]> = head.chunks(100).collect();
    let split = drive(&mut HttpParser::new(Role::Request, 2048), &chunks, false);
    assert_eq!(split, whole);
    // A whole head with too many fields is still said to have them.
    let mut full = head[..16 + 6 * (MAX_HEADERS + 50)].to_vec();
    full.extend_from_slice(b"\r\n");
    let items = drive(&mut HttpParser::new(Role::Request, 2048), &[&full], false);
    assert_eq!(items, ["VIOL http_too_many_headers"]);
}

/// Feeds `data` one byte at a time; every `BodyDone` takes its body.
fn kept_bodies(p: &mut HttpParser, data: &[u8]) -> Vec<Option<(Vec<u8>, bool)>> {
    let mut bodies = Vec::new();
    for b in data {
        let mut done = 0;
        p.feed(std::slice::from_ref(b), &mut |i| {
            if matches!(i, HttpItem::BodyDone { .. }) {
                done += 1;
            }
        });
        for _ in 0..done {
            bodies.push(p.take_body());
        }
    }
    bodies
}

#[test]
fn bodies_are_kept_whole_only_for_the_targets_asked_and_bounded() {
    fn polling(t: &str) -> bool {
        t.starts_with("/socket.io/")
    }
    let mut p = HttpParser::new(Role::Request, DEFAULT_MAX_HEAD_BYTES);
    p.keep_bodies(8, polling);
    let data = b"POST /socket.io/?EIO=4 HTTP/1.1\r\nContent-Length: 5\r\n\r\n40abc\
POST /other HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyz\
POST /socket.io/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n42[\r\n2\r\n1]\r\n0\r\n\r\n\
POST /socket.io/ HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789";
    assert_eq!(
        kept_bodies(&mut p, data),
        [
            Some((b"40abc".to_vec(), false)),
            None,
            Some((b"42[1]".to_vec(), false)),
            Some((b"01234567".to_vec(), true)),
        ]
    );
    // Responses: kept for the requests announced so, in order.
    let mut r = HttpParser::new(Role::Response, DEFAULT_MAX_HEAD_BYTES);
    r.keep_bodies(64, |_| false);
    r.expect_kept_response_to("GET");
    r.expect_response_to("GET");
    r.expect_kept_response_to("GET");
    let data = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n6\x1e\
HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nno\
HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n3probe";
    let mut got = kept_bodies(&mut r, data);
    let mut done = 0;
    r.end(&mut |i| done += usize::from(matches!(i, HttpItem::BodyDone { .. })));
    assert_eq!(done, 1);
    got.push(r.take_body());
    assert_eq!(
        got,
        [
            Some((b"6\x1e".to_vec(), false)),
            None,
            Some((b"3probe".to_vec(), false))
        ]
    );
    // A gap loses the body being kept.
    let mut p = HttpParser::new(Role::Request, DEFAULT_MAX_HEAD_BYTES);
    p.keep_bodies(64, polling);
    p.feed(
        b"POST /socket.io/ HTTP/1.1\r\nContent-Length: 4\r\n\r\n40",
        &mut |_| {},
    );
    p.gap();
    assert_eq!(p.take_body(), None);
    // Without keep_bodies nothing is kept or queued.
    let mut p = HttpParser::new(Role::Request, DEFAULT_MAX_HEAD_BYTES);
    assert_eq!(kept_bodies(&mut p, &data[..0]), []);
    p.feed(
        b"POST /socket.io/ HTTP/1.1\r\nContent-Length: 2\r\n\r\n40",
        &mut |_| {},
    );
    assert_eq!(p.take_body(), None);
    assert!(p.done_bodies.is_empty());
}
