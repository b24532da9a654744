//! Hand-built timelines for the tests: a plain HTTP connection and, after
//! it, a complete WebSocket connection (handshake, text, binary, ping/pong,
//! a violation, the close both ways, the FIN teardown). Fixed timestamps, so
//! snapshots are stable.

use wsscope::analysis::{
    Event, EventKind, HandshakeStep, MessageKind, MessagePreview, TeardownHow, TeardownStep,
};
use wsscope::text::Hex;
use wsscope::types::{Direction, Timestamp};

use Direction::{C2S, S2C};

/// 2023-11-14 22:13:20 UTC, in µs.
pub const BASE: i64 = 1_700_000_000_000_000;

/// An event `ms` milliseconds after [`BASE`].
pub fn ev(conn: u64, pkt: u64, ms: f64, dir: Option<Direction>, kind: EventKind) -> Event {
    Event {
        conn,
        pkt,
        ts: Timestamp(BASE + (ms * 1000.0) as i64),
        dir,
        stream: None,
        kind,
    }
}

fn hs(step: HandshakeStep, rtt_ms: Option<f64>) -> EventKind {
    EventKind::TcpHandshake {
        step,
        rtt_ms,
        retransmission: false,
    }
}

fn headers(h: &[(&str, &str)]) -> Vec<(String, String)> {
    h.iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

/// A frame event; `payload` is the unmasked payload (its first 32 bytes go
/// into `payload_hex`).
#[allow(clippy::too_many_arguments)]
pub fn frame(
    opcode: u8,
    fin: bool,
    mask_key: Option<[u8; 4]>,
    len: u64,
    payload: &[u8],
    close: Option<(Option<u16>, &str)>,
    rtt_ms: Option<f64>,
) -> EventKind {
    let ext = if len <= 125 {
        0
    } else if len <= 0xffff {
        2
    } else {
        8
    };
    let opname = match opcode {
        0 => "continuation",
        1 => "text",
        2 => "binary",
        8 => "close",
        9 => "ping",
        10 => "pong",
        _ => "reserved",
    };
    EventKind::WsFrame {
        fin,
        rsv: 0,
        opcode,
        opname,
        masked: mask_key.is_some(),
        mask_key: mask_key.map(|k| Hex::new(&k)),
        len,
        header_len: 2 + ext + if mask_key.is_some() { 4 } else { 0 },
        close_code: close.map(|(c, _)| c),
        close_reason: close.map(|(_, r)| r.to_string()),
        payload_hex: Hex::new(payload),
        rtt_ms,
        mid_stream: false,
    }
}

/// A message event; `head` its first bytes (its preview).
fn message(kind: MessageKind, len: u64, wire_len: u64, head: &[u8]) -> EventKind {
    EventKind::WsMessage {
        kind,
        frames: 1,
        len,
        wire_len,
        compressed: false,
        compressed_len: None,
        preview: MessagePreview::from_head(head, kind, len),
        body: Default::default(),
    }
}

fn teardown(how: TeardownHow, step: Option<TeardownStep>) -> EventKind {
    EventKind::TcpTeardown { how, step }
}

/// RFC 6455 §1.3's opening handshake request.
pub fn request_head() -> wsscope::http::RequestHead {
    wsscope::http::RequestHead {
        method: "GET".into(),
        target: "/chat".into(),
        version: "HTTP/1.1".into(),
        headers: headers(&[
            ("Host", "server.example.com"),
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ("Origin", "http://example.com"),
            ("Sec-WebSocket-Protocol", "chat, superchat"),
            ("Sec-WebSocket-Version", "13"),
        ]),
    }
}

/// RFC 6455 §1.3's answer.
pub fn response_head() -> wsscope::http::ResponseHead {
    wsscope::http::ResponseHead {
        status: 101,
        reason: "Switching Protocols".into(),
        version: "HTTP/1.1".into(),
        headers: headers(&[
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
            ("Sec-WebSocket-Protocol", "chat"),
        ]),
    }
}

fn upgrade_request() -> EventKind {
    let r = request_head();
    let checks = wsscope::http::request_checks(&r);
    wsscope::analysis::contract::request_event(&r, Some(&checks))
}

fn upgrade_response() -> EventKind {
    let r = response_head();
    EventKind::HttpResponse {
        status: r.status,
        reason: r.reason,
        version: r.version,
        headers: r.headers,
        body: Default::default(),
    }
}

/// The `ws_handshake` of [`request_head`] and [`response_head`], built by the
/// HTTP layer's checks and the contract's event, as the analyzer builds it.
pub fn upgrade_outcome() -> EventKind {
    let up = wsscope::http::check_upgrade(&request_head(), &response_head());
    wsscope::analysis::contract::handshake_event(&up)
}

/// The whole capture: connection 0 is plain HTTP, connection 1 WebSocket.
pub fn session() -> Vec<Event> {
    let binary: Vec<u8> = (0..=255u8).collect();
    let http = |pkt, ms, dir, kind| ev(0, pkt, ms, dir, kind);
    let ws = |pkt, ms, dir, kind| ev(1, pkt, ms, dir, kind);
    vec![
        http(
            1,
            0.0,
            None,
            EventKind::ConnOpen {
                client: "192.0.2.10:50000".into(),
                server: "198.51.100.7:80".into(),
                mid_stream: false,
            },
        ),
        http(1, 0.0, Some(C2S), hs(HandshakeStep::Syn, None)),
        http(2, 20.0, Some(S2C), hs(HandshakeStep::SynAck, None)),
        http(3, 40.0, Some(C2S), hs(HandshakeStep::Ack, Some(40.0))),
        ws(
            4,
            100.0,
            None,
            EventKind::ConnOpen {
                client: "192.0.2.10:51000".into(),
                server: "198.51.100.7:8080".into(),
                mid_stream: false,
            },
        ),
        ws(4, 100.0, Some(C2S), hs(HandshakeStep::Syn, None)),
        ws(5, 112.0, Some(S2C), hs(HandshakeStep::SynAck, None)),
        ws(6, 124.0, Some(C2S), hs(HandshakeStep::Ack, Some(24.0))),
        http(
            7,
            150.0,
            Some(C2S),
            EventKind::HttpRequest {
                method: "GET".into(),
                target: "/index.html".into(),
                version: "HTTP/1.1".into(),
                headers: headers(&[("Host", "198.51.100.7"), ("User-Agent", "curl/8.5.0")]),
                checks: None,
                body: Default::default(),
            },
        ),
        http(
            8,
            190.0,
            Some(S2C),
            EventKind::HttpResponse {
                status: 200,
                reason: "OK".into(),
                version: "HTTP/1.1".into(),
                headers: headers(&[("Content-Type", "text/html"), ("Content-Length", "1256")]),
                body: Default::default(),
            },
        ),
        ws(9, 200.0, Some(C2S), upgrade_request()),
        ws(10, 230.0, Some(S2C), upgrade_response()),
        // The outcome as the HTTP layer computes it: its checks are real.
        ws(10, 230.0, None, upgrade_outcome()),
        ws(
            11,
            300.0,
            Some(C2S),
            frame(
                1,
                true,
                Some([0x37, 0xfa, 0x21, 0x3d]),
                5,
                b"Hello",
                None,
                None,
            ),
        ),
        ws(
            11,
            300.0,
            Some(C2S),
            message(MessageKind::Text, 5, 11, b"Hello"),
        ),
        ws(
            12,
            330.0,
            Some(S2C),
            frame(1, true, None, 10, b"Hello back", None, None),
        ),
        ws(
            12,
            330.0,
            Some(S2C),
            message(MessageKind::Text, 10, 12, b"Hello back"),
        ),
        ws(
            13,
            500.0,
            Some(C2S),
            frame(
                2,
                true,
                Some([0xa1, 0xb2, 0xc3, 0xd4]),
                256,
                &binary,
                None,
                None,
            ),
        ),
        ws(
            13,
            500.0,
            Some(C2S),
            message(MessageKind::Binary, 256, 264, &binary[..64]),
        ),
        ws(
            14,
            1000.0,
            Some(S2C),
            frame(9, true, None, 4, b"ping", None, None),
        ),
        ws(
            15,
            1015.0,
            Some(C2S),
            frame(
                10,
                true,
                Some([0x0b, 0xad, 0xf0, 0x0d]),
                4,
                b"ping",
                None,
                Some(15.0),
            ),
        ),
        // As the analyzer does: a violation is emitted when it is found,
        // before the frame it concerns completes.
        ws(
            16,
            1200.0,
            Some(S2C),
            EventKind::Violation {
                code: "masked_server_frame",
                message: "The server sent a masked frame.".into(),
                rfc: "RFC 6455 5.1",
            },
        ),
        ws(
            16,
            1200.0,
            Some(S2C),
            frame(1, true, Some([1, 2, 3, 4]), 3, b"bad", None, None),
        ),
        ws(
            16,
            1200.0,
            Some(S2C),
            message(MessageKind::Text, 3, 9, b"bad"),
        ),
        ws(
            17,
            2000.0,
            Some(C2S),
            frame(
                8,
                true,
                Some([0x5a; 4]),
                5,
                b"\x03\xe8bye",
                Some((Some(1000), "bye")),
                None,
            ),
        ),
        ws(
            18,
            2020.0,
            Some(S2C),
            frame(8, true, None, 2, b"\x03\xe8", Some((Some(1000), "")), None),
        ),
        ws(
            18,
            2020.0,
            None,
            EventKind::WsClose {
                initiator: Some(C2S),
                code: Some(1000),
                reason: "bye".into(),
                echoed: true,
                clean: true,
                echo_ms: Some(20.0),
                fin_ms: Some(50.0),
            },
        ),
        ws(
            19,
            2050.0,
            Some(S2C),
            teardown(TeardownHow::Fin, Some(TeardownStep::Fin)),
        ),
        ws(
            20,
            2060.0,
            Some(C2S),
            teardown(TeardownHow::Fin, Some(TeardownStep::Ack)),
        ),
        ws(
            21,
            2070.0,
            Some(C2S),
            teardown(TeardownHow::Fin, Some(TeardownStep::Fin)),
        ),
        ws(
            22,
            2080.0,
            Some(S2C),
            teardown(TeardownHow::Fin, Some(TeardownStep::Ack)),
        ),
        http(23, 2500.0, Some(C2S), teardown(TeardownHow::Rst, None)),
    ]
}
