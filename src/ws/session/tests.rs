use super::*;
use crate::analysis::EventKind;
use crate::ws::frame::encode_frame;
use proptest::prelude::*;

const C: Direction = Direction::C2S;
const S: Direction = Direction::S2C;
const KEY: Option<[u8; 4]> = Some([0x37, 0xfa, 0x21, 0x3d]);

type Ev = (Option<Direction>, EventKind);

/// The tests read the layer's events in their contract form (with every display
/// string), so that they check the mapping too.
fn kind(ev: WsEvent) -> EventKind {
    crate::analysis::contract::ws_event(ev, true)
}

fn ts(ms: i64) -> Timestamp {
    Timestamp(1_700_000_000_000_000 + ms * 1000)
}

/// Feeds each chunk at 1 ms intervals (times are the chunk index in ms), then ends.
fn run_with(mut s: WsSession, chunks: &[(Direction, Vec<u8>)], end: bool) -> (Vec<Ev>, WsSession) {
    let mut ev = Vec::new();
    let detail = s.cfg.detail;
    let map = |k| crate::analysis::contract::ws_event(k, detail);
    for (n, (d, b)) in chunks.iter().enumerate() {
        s.feed(*d, b, ts(n as i64), &mut |d, k| ev.push((d, map(k))));
    }
    if end {
        s.end(ts(chunks.len() as i64), &mut |d, k| ev.push((d, map(k))));
    }
    (ev, s)
}

fn run(chunks: &[(Direction, Vec<u8>)]) -> Vec<Ev> {
    run_with(WsSession::new(&WsConfig::default(), None), chunks, false).0
}

fn run_deflate(p: DeflateParams, chunks: &[(Direction, Vec<u8>)]) -> Vec<Ev> {
    run_with(WsSession::new(&WsConfig::default(), Some(p)), chunks, false).0
}

fn violations(ev: &[Ev]) -> Vec<&'static str> {
    ev.iter()
        .filter_map(|(_, k)| match k {
            EventKind::Violation { code, .. } => Some(*code),
            _ => None,
        })
        .collect()
}

fn messages(ev: &[Ev]) -> Vec<(Direction, MessageKind, u32, u64, bool, String)> {
    ev.iter()
        .filter_map(|(d, k)| match k {
            EventKind::WsMessage {
                kind,
                frames,
                len,
                compressed,
                preview,
                ..
            } => Some(((*d)?, *kind, *frames, *len, *compressed, preview.render())),
            _ => None,
        })
        .collect()
}

fn frames(ev: &[Ev]) -> Vec<(Direction, u8, bool, u64)> {
    ev.iter()
        .filter_map(|(d, k)| match k {
            EventKind::WsFrame {
                opcode, fin, len, ..
            } => Some(((*d)?, *opcode, *fin, *len)),
            _ => None,
        })
        .collect()
}

fn json(ev: &[Ev]) -> Vec<String> {
    ev.iter()
        .map(|(d, k)| format!("{:?} {}", d, serde_json::to_string(k).unwrap_or_default()))
        .collect()
}

fn text_msg(
    d: Direction,
    len: u64,
    frames: u32,
    preview: &str,
) -> (Direction, MessageKind, u32, u64, bool, String) {
    (
        d,
        MessageKind::Text,
        frames,
        len,
        false,
        preview.to_string(),
    )
}

#[test]
fn rfc6455_5_7_single_frames() {
    let ev = run(&[(S, vec![0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f])]);
    assert_eq!(messages(&ev), [text_msg(S, 5, 1, "Hello")]);
    assert!(violations(&ev).is_empty());
    let ev = run(&[(
        C,
        vec![
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ],
    )]);
    assert_eq!(messages(&ev), [text_msg(C, 5, 1, "Hello")]);
    match &ev[0].1 {
        EventKind::WsFrame {
            mask_key,
            header_len,
            payload_hex,
            ..
        } => {
            assert_eq!(mask_key.map(|k| k.to_string()).as_deref(), Some("37fa213d"));
            assert_eq!(*header_len, 6);
            assert_eq!(payload_hex.to_string(), "48656c6c6f");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn rfc6455_5_7_fragmented_and_ping_pong() {
    let ev = run(&[
        (S, vec![0x01, 0x03, 0x48, 0x65, 0x6c]),
        (S, vec![0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]),
        (S, vec![0x80, 0x02, 0x6c, 0x6f]),
        (
            C,
            vec![
                0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
            ],
        ),
    ]);
    assert_eq!(
        frames(&ev),
        [
            (S, 1, false, 3),
            (S, 9, true, 5),
            (S, 0, true, 2),
            (C, 10, true, 5)
        ]
    );
    assert_eq!(messages(&ev), [text_msg(S, 5, 2, "Hello")]);
    assert!(violations(&ev).is_empty(), "{:?}", violations(&ev));
    let rtt = ev.iter().find_map(|(_, k)| match k {
        EventKind::WsFrame {
            rtt_ms, opcode: 10, ..
        } => *rtt_ms,
        _ => None,
    });
    assert_eq!(rtt, Some(2.0));
}

#[test]
fn rfc6455_5_7_long_binary() {
    for len in [256usize, 65536] {
        let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let ev = run(&[(S, encode_frame(true, 0, 2, None, &payload))]);
        let m = messages(&ev);
        assert_eq!(m.len(), 1);
        assert_eq!((m[0].1, m[0].3), (MessageKind::Binary, len as u64));
        assert!(m[0].5.starts_with("000102030405"));
        assert!(m[0].5.ends_with('…'));
        let ev = run(&[(C, encode_frame(true, 0, 2, KEY, &payload))]);
        assert_eq!(
            messages(&ev)[0].5,
            messages(&run(&[(S, encode_frame(true, 0, 2, None, &payload))]))[0].5
        );
    }
}

#[test]
fn violation_table() {
    let m = KEY;
    let close = |code: u16, reason: &[u8]| [&code.to_be_bytes()[..], reason].concat();
    type Case<'a> = (
        &'a str,
        Option<DeflateParams>,
        Vec<(Direction, Vec<u8>)>,
        Vec<&'a str>,
    );
    let table: Vec<Case> = vec![
        (
            "clean",
            None,
            vec![
                (C, encode_frame(true, 0, 1, m, b"hi")),
                (S, encode_frame(true, 0, 1, None, b"yo")),
            ],
            vec![],
        ),
        (
            "unmasked client",
            None,
            vec![(C, encode_frame(true, 0, 1, None, b"hi"))],
            vec!["unmasked_client_frame"],
        ),
        (
            "masked server",
            None,
            vec![(S, encode_frame(true, 0, 1, m, b"hi"))],
            vec!["masked_server_frame"],
        ),
        (
            "rsv no ext",
            None,
            vec![(S, encode_frame(true, 4, 1, None, b"hi"))],
            vec!["rsv_without_extension"],
        ),
        (
            "rsv2 with pmd",
            Some(DeflateParams::default()),
            vec![(S, encode_frame(true, 2, 2, None, b"hi"))],
            vec!["rsv_without_extension"],
        ),
        (
            "rsv1 continuation",
            Some(DeflateParams::default()),
            vec![
                (S, encode_frame(false, 0, 2, None, b"a")),
                (S, encode_frame(true, 4, 0, None, b"b")),
            ],
            vec!["rsv1_on_continuation"],
        ),
        (
            "rsv1 control",
            Some(DeflateParams::default()),
            vec![(S, encode_frame(true, 4, 9, None, b""))],
            vec!["rsv1_on_control", "unanswered_ping"],
        ),
        (
            "reserved data opcode",
            None,
            vec![(S, encode_frame(true, 0, 3, None, b"x"))],
            vec!["reserved_opcode"],
        ),
        (
            "reserved control opcode",
            None,
            vec![(S, encode_frame(true, 0, 0xb, None, b"x"))],
            vec!["reserved_opcode"],
        ),
        (
            "non-minimal 16",
            None,
            vec![(S, vec![0x82, 0x7e, 0x00, 0x01, 0xaa])],
            vec!["non_minimal_length"],
        ),
        (
            "non-minimal 64",
            None,
            vec![(
                S,
                [&[0x82, 0x7f, 0, 0, 0, 0, 0, 0, 0, 1][..], &[0xaa]].concat(),
            )],
            vec!["non_minimal_length"],
        ),
        (
            "top bit",
            None,
            vec![(S, vec![0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3])],
            vec!["length_top_bit_set", "unfinished_frame"],
        ),
        (
            "long control",
            None,
            vec![(S, encode_frame(true, 0, 9, None, &[7; 126]))],
            // The peer fails the connection over it (RFC 6455 7.1.7): no pong is owed.
            vec!["control_frame_too_long"],
        ),
        (
            "ping after the sender's own close owes no pong",
            None,
            vec![
                (S, encode_frame(true, 0, 8, None, &[0x03, 0xe8])),
                (S, encode_frame(true, 0, 9, None, b"late")),
            ],
            vec![],
        ),
        (
            "a valid ping left unanswered",
            None,
            vec![(S, encode_frame(true, 0, 9, None, b"hb"))],
            vec!["unanswered_ping"],
        ),
        (
            "fragmented control",
            None,
            vec![(S, encode_frame(false, 0, 10, None, b""))],
            vec!["control_frame_fragmented", "unsolicited_pong"],
        ),
        (
            "orphan continuation",
            None,
            vec![(S, encode_frame(true, 0, 0, None, b"x"))],
            vec!["continuation_without_message"],
        ),
        (
            "data inside fragmented",
            None,
            vec![
                (S, encode_frame(false, 0, 1, None, b"a")),
                (S, encode_frame(true, 0, 2, None, b"b")),
            ],
            vec!["data_inside_fragmented_message"],
        ),
        (
            "invalid utf8",
            None,
            vec![(S, encode_frame(true, 0, 1, None, b"ok\xff"))],
            vec!["invalid_utf8_text"],
        ),
        (
            "utf8 split across fragments",
            None,
            vec![
                (S, encode_frame(false, 0, 1, None, b"\xe2\x82")),
                (S, encode_frame(true, 0, 0, None, b"\xac")),
            ],
            vec![],
        ),
        (
            "utf8 cut at message end",
            None,
            vec![
                (S, encode_frame(false, 0, 1, None, b"a")),
                (S, encode_frame(true, 0, 0, None, b"\xe2\x82")),
            ],
            vec!["invalid_utf8_text"],
        ),
        (
            "bad close reason",
            None,
            vec![(S, encode_frame(true, 0, 8, None, &close(1000, b"\xff")))],
            vec!["invalid_utf8_close_reason"],
        ),
        (
            "close 1005",
            None,
            vec![(S, encode_frame(true, 0, 8, None, &close(1005, b"")))],
            vec!["invalid_close_code"],
        ),
        (
            "close 999",
            None,
            vec![(S, encode_frame(true, 0, 8, None, &close(999, b"")))],
            vec!["invalid_close_code"],
        ),
        (
            "close 2000",
            None,
            vec![(S, encode_frame(true, 0, 8, None, &close(2000, b"")))],
            vec!["invalid_close_code"],
        ),
        (
            "close 4000",
            None,
            vec![(S, encode_frame(true, 0, 8, None, &close(4000, b"")))],
            vec![],
        ),
        (
            "close 1014",
            None,
            vec![(S, encode_frame(true, 0, 8, None, &close(1014, b"")))],
            vec![],
        ),
        (
            "close one byte",
            None,
            vec![(S, encode_frame(true, 0, 8, None, &[3]))],
            vec!["close_payload_one_byte"],
        ),
        (
            "frame after close",
            None,
            vec![
                (S, encode_frame(true, 0, 8, None, &close(1000, b""))),
                (S, encode_frame(true, 0, 1, None, b"late")),
            ],
            vec!["frame_after_close"],
        ),
        (
            "unsolicited pong",
            None,
            vec![(S, encode_frame(true, 0, 10, None, b"x"))],
            vec!["unsolicited_pong"],
        ),
        (
            "pong mismatch",
            None,
            vec![
                (S, encode_frame(true, 0, 9, None, b"a")),
                (C, encode_frame(true, 0, 10, m, b"b")),
            ],
            vec!["unsolicited_pong", "unanswered_ping"],
        ),
        (
            "unanswered ping",
            None,
            vec![(C, encode_frame(true, 0, 9, m, b"p"))],
            vec!["unanswered_ping"],
        ),
        (
            "pong answers latest ping",
            None,
            vec![
                (C, encode_frame(true, 0, 9, m, b"1")),
                (C, encode_frame(true, 0, 9, m, b"2")),
                (S, encode_frame(true, 0, 10, None, b"2")),
            ],
            vec![],
        ),
        (
            "decompression failed",
            Some(DeflateParams::default()),
            vec![(S, encode_frame(true, 4, 1, None, &[0xff, 0xff, 0xff]))],
            vec!["decompression_failed"],
        ),
        (
            "inflated text invalid utf8",
            Some(DeflateParams::default()),
            // A stored block holding "a\xff".
            vec![(
                S,
                encode_frame(
                    true,
                    4,
                    1,
                    None,
                    &[0x00, 0x02, 0x00, 0xfd, 0xff, b'a', 0xff],
                ),
            )],
            vec!["invalid_utf8_text"],
        ),
        (
            "unfinished message",
            None,
            vec![(S, encode_frame(false, 0, 2, None, b"part"))],
            vec!["unfinished_message"],
        ),
    ];
    for (name, deflate, chunks, want) in table {
        let (ev, _) = run_with(WsSession::new(&WsConfig::default(), deflate), &chunks, true);
        assert_eq!(violations(&ev), want, "{name}: {:#?}", json(&ev));
        // Every event is emitted with its sender, except the whole-connection ones.
        for (d, k) in &ev {
            let undirected = matches!(
                k,
                EventKind::WsClose {
                    initiator: None,
                    ..
                }
            ) || matches!(
                k,
                EventKind::Violation {
                    code: "abnormal_closure" | "mid_stream",
                    ..
                }
            );
            assert_eq!(d.is_none(), undirected, "{name}: {k:?}");
        }
    }
}

#[test]
fn invalid_utf8_reports_offset_across_fragments() {
    let ev = run(&[
        (S, encode_frame(false, 0, 1, None, b"abc")),
        (S, encode_frame(true, 0, 0, None, b"de\xc0\x80")),
    ]);
    let msg = ev.iter().find_map(|(_, k)| match k {
        EventKind::Violation {
            code: "invalid_utf8_text",
            message,
            ..
        } => Some(message.clone()),
        _ => None,
    });
    assert!(msg.is_some_and(|m| m.contains("offset 5")));
}

#[test]
fn close_exchange_clean_and_timed() {
    let close = encode_frame(true, 0, 8, KEY, &[0x03, 0xe8, b'b', b'y', b'e']);
    let echo = encode_frame(true, 0, 8, None, &[0x03, 0xe8]);
    let mut s = WsSession::new(&WsConfig::default(), None);
    let mut ev = Vec::new();
    s.feed(C, &close, ts(10), &mut |d, k| ev.push((d, kind(k))));
    s.feed(S, &echo, ts(35), &mut |d, k| ev.push((d, kind(k))));
    s.tcp_end(S, ts(40));
    s.end(ts(50), &mut |d, k| ev.push((d, kind(k))));
    let closes: Vec<_> = ev
        .iter()
        .filter(|(_, k)| matches!(k, EventKind::WsClose { .. }))
        .collect();
    assert_eq!(closes.len(), 1);
    match &closes[0] {
        (
            Some(C),
            EventKind::WsClose {
                initiator,
                code,
                reason,
                echoed,
                clean,
                echo_ms,
                fin_ms,
            },
        ) => {
            assert_eq!(
                (*initiator, *code, reason.as_str(), *echoed, *clean),
                (Some(C), Some(1000), "bye", true, true)
            );
            assert_eq!((*echo_ms, *fin_ms), (Some(25.0), None));
        }
        other => panic!("{other:?}"),
    }
    let c = s.stats().close.clone().unwrap_or_default();
    assert_eq!(c.fin_ms, Some(30.0));
    assert!(violations(&ev).is_empty());
}

#[test]
fn half_close_before_echo_is_clean() {
    let mut s = WsSession::new(&WsConfig::default(), None);
    let mut ev = Vec::new();
    s.feed(
        S,
        &encode_frame(true, 0, 8, None, &[0x03, 0xe8]),
        ts(0),
        &mut |d, k| ev.push((d, kind(k))),
    );
    s.tcp_end(S, ts(1));
    s.feed(
        C,
        &encode_frame(true, 0, 8, KEY, &[0x03, 0xe8]),
        ts(3),
        &mut |d, k| ev.push((d, kind(k))),
    );
    assert!(
        matches!(ev.last(), Some((Some(S), EventKind::WsClose { clean: true, echoed: true, fin_ms: Some(f), .. })) if *f == 1.0)
    );

    let mut s = WsSession::new(&WsConfig::default(), None);
    let mut ev = Vec::new();
    s.feed(
        S,
        &encode_frame(true, 0, 8, None, &[0x03, 0xe8]),
        ts(0),
        &mut |d, k| ev.push((d, kind(k))),
    );
    s.tcp_end(S, ts(1));
    s.tcp_end(C, ts(2));
    s.feed(
        C,
        &encode_frame(true, 0, 8, KEY, &[0x03, 0xe8]),
        ts(3),
        &mut |d, k| ev.push((d, kind(k))),
    );
    assert!(matches!(
        ev.last(),
        Some((
            Some(S),
            EventKind::WsClose {
                clean: false,
                echoed: true,
                ..
            }
        ))
    ));
}

#[test]
fn close_without_echo_and_abnormal_end() {
    let mut s = WsSession::new(&WsConfig::default(), None);
    let mut ev = Vec::new();
    s.feed(
        S,
        &encode_frame(true, 0, 8, None, &[0x03, 0xf1]),
        ts(0),
        &mut |d, k| ev.push((d, kind(k))),
    );
    s.tcp_end(S, ts(5));
    s.end(ts(6), &mut |d, k| ev.push((d, kind(k))));
    s.end(ts(7), &mut |d, k| ev.push((d, kind(k))));
    let got: Vec<_> = ev
        .iter()
        .filter_map(|(_, k)| match k {
            EventKind::WsClose {
                initiator,
                code,
                echoed,
                clean,
                fin_ms,
                ..
            } => Some((*initiator, *code, *echoed, *clean, *fin_ms)),
            _ => None,
        })
        .collect();
    assert_eq!(got, [(Some(S), Some(1009), false, false, Some(5.0))]);

    let mut s = WsSession::new(&WsConfig::default(), None);
    let mut ev = Vec::new();
    s.feed(
        S,
        &encode_frame(true, 0, 1, None, b"hi"),
        ts(0),
        &mut |d, k| ev.push((d, kind(k))),
    );
    s.tcp_end(C, ts(5));
    s.end(ts(6), &mut |d, k| ev.push((d, kind(k))));
    assert_eq!(violations(&ev), ["abnormal_closure"]);
    assert!(matches!(
        ev.last(),
        Some((
            None,
            EventKind::WsClose {
                initiator: None,
                code: Some(1006),
                echoed: false,
                clean: false,
                ..
            }
        ))
    ));
}

#[test]
fn heartbeat_and_rtt_stats() {
    let mut chunks = Vec::new();
    for n in 0..4u8 {
        chunks.push((S, encode_frame(true, 0, 9, None, &[n])));
        chunks.push((C, encode_frame(true, 0, 10, KEY, &[n])));
    }
    let (ev, s) = run_with(WsSession::new(&WsConfig::default(), None), &chunks, true);
    assert!(violations(&ev).is_empty(), "{:?}", violations(&ev));
    let st = s.stats();
    assert_eq!((st.pings, st.pongs), ([0, 4], [4, 0]));
    assert_eq!(st.heartbeat_interval_ms(), Some(2.0));
    assert_eq!(st.median_rtt_ms(), Some(1.0));
    assert_eq!(st.frames, [4, 4]);
}

// RFC 7692 7.2.3.1: "Hello" in one block, unfragmented then fragmented.
#[test]
fn rfc7692_hello_single_and_fragmented() {
    let p = DeflateParams::default();
    let ev = run_deflate(
        p,
        &[(
            S,
            vec![0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00],
        )],
    );
    assert_eq!(
        messages(&ev),
        [(S, MessageKind::Text, 1, 5, true, "Hello".into())]
    );
    let ev = run_deflate(
        p,
        &[
            (S, vec![0x41, 0x03, 0xf2, 0x48, 0xcd]),
            (S, vec![0x80, 0x04, 0xc9, 0xc9, 0x07, 0x00]),
        ],
    );
    assert_eq!(
        messages(&ev),
        [(S, MessageKind::Text, 2, 5, true, "Hello".into())]
    );
    assert!(violations(&ev).is_empty());
    // 7.2.3.3 (stored block), 7.2.3.4 (BFINAL), 7.2.3.5 (two blocks) then a second message.
    let ev = run_deflate(
        p,
        &[
            (
                S,
                vec![
                    0xc1, 0x0b, 0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
                ],
            ),
            (
                S,
                vec![0xc1, 0x08, 0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00],
            ),
            (
                S,
                vec![
                    0xc1, 0x0d, 0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9,
                    0x07, 0x00,
                ],
            ),
        ],
    );
    assert_eq!(
        messages(&ev)
            .iter()
            .map(|m| m.5.as_str())
            .collect::<Vec<_>>(),
        ["Hello", "Hello", "Hello"]
    );
    assert!(violations(&ev).is_empty(), "{:?}", json(&ev));
}

// RFC 7692 7.2.3.2: the second "Hello" refers to the first through the shared window.
#[test]
fn rfc7692_context_takeover_and_reset() {
    let first = vec![0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
    let second = vec![0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00];
    let ev = run_deflate(
        DeflateParams::default(),
        &[(S, first.clone()), (S, second.clone())],
    );
    assert_eq!(
        messages(&ev)
            .iter()
            .map(|m| m.5.as_str())
            .collect::<Vec<_>>(),
        ["Hello", "Hello"]
    );
    // server_no_context_takeover: the server's window is reset, so the second cannot inflate.
    let p = DeflateParams {
        server_no_context_takeover: true,
        ..DeflateParams::default()
    };
    let ev = run_deflate(p, &[(S, first.clone()), (S, second.clone())]);
    assert_eq!(violations(&ev), ["decompression_failed"]);
    // client_no_context_takeover does not touch the server's window.
    let p = DeflateParams {
        client_no_context_takeover: true,
        ..DeflateParams::default()
    };
    let ev = run_deflate(p, &[(S, first), (S, second)]);
    assert!(violations(&ev).is_empty());
    // Windows are per direction: a client message between does not disturb the server's.
    let c1 = encode_frame(true, 4, 1, KEY, &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
    let ev = run_deflate(
        DeflateParams::default(),
        &[
            (
                S,
                vec![0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00],
            ),
            (C, c1),
            (S, vec![0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00]),
        ],
    );
    assert_eq!(messages(&ev).len(), 3);
    assert!(violations(&ev).is_empty(), "{:?}", json(&ev));
}

fn deflate_messages(msgs: &[Vec<u8>], takeover: bool) -> Vec<Vec<u8>> {
    let mut c = flate2::Compress::new(flate2::Compression::default(), false);
    msgs.iter()
        .map(|m| {
            if !takeover {
                c.reset();
            }
            let mut out = Vec::with_capacity(m.len() + 64);
            let before = c.total_in();
            loop {
                let done = (c.total_in() - before) as usize;
                out.reserve(1024);
                c.compress_vec(&m[done..], &mut out, flate2::FlushCompress::Sync)
                    .unwrap_or(flate2::Status::Ok);
                if (c.total_in() - before) as usize == m.len() && out.len() < out.capacity() {
                    break;
                }
            }
            if out.ends_with(&[0, 0, 0xff, 0xff]) {
                out.truncate(out.len() - 4);
            }
            out
        })
        .collect()
}

#[test]
fn decompression_bomb_is_bounded_and_the_stream_goes_on() {
    let bomb = deflate_messages(&[vec![0u8; 8 << 20]], false).remove(0);
    let hello = vec![0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
    let cfg = WsConfig {
        max_message_bytes: 1 << 20,
        ..WsConfig::default()
    };
    let chunks = [
        (S, encode_frame(true, 4, 2, None, &bomb)),
        (S, encode_frame(true, 4, 1, None, &hello)),
    ];
    let (ev, _) = run_with(
        WsSession::new(&cfg, Some(DeflateParams::default())),
        &chunks,
        false,
    );
    assert_eq!(violations(&ev), ["message_too_big"]);
    let m = messages(&ev);
    assert_eq!(m.len(), 2);
    assert!(
        m[0].3 > 1 << 20 && m[0].3 < (1 << 20) + 64 * 1024,
        "{}",
        m[0].3
    );
    assert_eq!(m[1].5, "Hello");

    let cfg = WsConfig {
        max_inflate_ratio: 100,
        ..WsConfig::default()
    };
    let (ev, _) = run_with(
        WsSession::new(&cfg, Some(DeflateParams::default())),
        &chunks,
        false,
    );
    assert_eq!(violations(&ev), ["inflate_ratio_exceeded"]);
}

#[test]
fn gap_inside_known_frame_skips_exactly() {
    let big = encode_frame(true, 0, 2, None, &[9u8; 1000]);
    let next = encode_frame(true, 0, 1, None, b"after");
    let mut s = WsSession::new(&WsConfig::default(), None);
    let mut ev = Vec::new();
    s.feed(S, &big[..100], ts(0), &mut |d, k| ev.push((d, kind(k))));
    s.gap(S, 500, ts(1), &mut |d, k| ev.push((d, kind(k))));
    s.feed(S, &[&big[600..], &next[..]].concat(), ts(2), &mut |d, k| {
        ev.push((d, kind(k)))
    });
    assert_eq!(violations(&ev), ["gap_resync"]);
    assert_eq!(frames(&ev), [(S, 2, true, 1000), (S, 1, true, 5)]);
    assert_eq!(messages(&ev), [text_msg(S, 5, 1, "after")]);
    assert_eq!(s.stats().lost_messages, 1);

    // A gap that ends exactly at the frame's end.
    let mut s = WsSession::new(&WsConfig::default(), None);
    let mut ev = Vec::new();
    s.feed(S, &big[..100], ts(0), &mut |d, k| ev.push((d, kind(k))));
    s.gap(S, 904, ts(1), &mut |d, k| ev.push((d, kind(k))));
    s.feed(S, &next, ts(2), &mut |d, k| ev.push((d, kind(k))));
    assert_eq!(frames(&ev).len(), 2);
    assert_eq!(messages(&ev).len(), 1);
}

#[test]
fn gap_at_boundary_hunts_for_a_header() {
    let mut s = WsSession::new(&WsConfig::default(), None);
    let mut ev = Vec::new();
    let f1 = encode_frame(true, 0, 1, KEY, b"one");
    let lost = encode_frame(false, 0, 1, KEY, b"lost fragment start");
    let f3 = encode_frame(true, 0, 0, KEY, b"continued");
    let f4 = encode_frame(true, 0, 1, KEY, b"four");
    s.feed(C, &f1, ts(0), &mut |d, k| ev.push((d, kind(k))));
    s.gap(C, lost.len() as u64, ts(1), &mut |d, k| {
        ev.push((d, kind(k)))
    });
    s.feed(C, &[&f3[..], &f4[..]].concat(), ts(2), &mut |d, k| {
        ev.push((d, kind(k)))
    });
    // The orphan continuation after the resync is not a violation.
    assert_eq!(violations(&ev), ["gap_resync"]);
    assert_eq!(
        messages(&ev)
            .iter()
            .map(|m| m.5.as_str())
            .collect::<Vec<_>>(),
        ["one", "four"]
    );
}

#[test]
fn gap_in_header_with_known_length() {
    let mut s = WsSession::new(&WsConfig::default(), None);
    let mut ev = Vec::new();
    let f1 = encode_frame(true, 0, 2, KEY, &[1; 300]);
    let f2 = encode_frame(true, 0, 1, KEY, b"next");
    s.feed(C, &f1[..4], ts(0), &mut |d, k| ev.push((d, kind(k))));
    s.gap(C, 10, ts(1), &mut |d, k| ev.push((d, kind(k))));
    s.feed(C, &[&f1[14..], &f2[..]].concat(), ts(2), &mut |d, k| {
        ev.push((d, kind(k)))
    });
    assert_eq!(violations(&ev), ["gap_resync"]);
    assert_eq!(
        messages(&ev)
            .iter()
            .map(|m| m.5.as_str())
            .collect::<Vec<_>>(),
        ["next"]
    );
}

#[test]
fn mid_stream_starts_inside_a_frame() {
    let cfg = WsConfig::default();
    let tail_of_previous = encode_frame(true, 0, 2, None, &[0x55; 40]);
    let f1 = encode_frame(true, 0, 1, None, b"hello");
    let f2 = encode_frame(true, 0, 0, None, b"!");
    let mut s = WsSession::new_mid_stream(&cfg);
    let mut ev = Vec::new();
    // Start 12 bytes into a binary frame (0x55 bytes do not parse as plausible headers).
    s.feed(
        S,
        &[&tail_of_previous[12..], &f1[..], &f2[..]].concat(),
        ts(0),
        &mut |d, k| ev.push((d, kind(k))),
    );
    let v = violations(&ev);
    assert_eq!(
        v,
        ["mid_stream", "gap_resync", "continuation_without_message"],
        "{:#?}",
        json(&ev)
    );
    assert!(ev.iter().all(|(_, k)| !matches!(
        k,
        EventKind::WsFrame {
            mid_stream: false,
            ..
        }
    )));
    assert_eq!(
        messages(&ev)
            .iter()
            .map(|m| m.5.as_str())
            .collect::<Vec<_>>(),
        ["hello"]
    );

    // A compressed message that refers to data from before the capture fails plainly.
    let mut s = WsSession::new_mid_stream(&cfg);
    let mut ev = Vec::new();
    s.feed(
        S,
        &[0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00],
        ts(0),
        &mut |d, k| ev.push((d, kind(k))),
    );
    assert_eq!(
        violations(&ev),
        [
            "mid_stream",
            "deflate_params_unknown",
            "decompression_failed"
        ]
    );
    let ok = [0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
    let mut s = WsSession::new_mid_stream(&cfg);
    let mut ev = Vec::new();
    s.feed(S, &ok, ts(0), &mut |d, k| ev.push((d, kind(k))));
    assert_eq!(messages(&ev)[0].5, "Hello");
}

#[test]
fn header_split_byte_by_byte() {
    let stream = [
        encode_frame(true, 0, 2, KEY, &[3; 70000]),
        encode_frame(true, 0, 1, KEY, b"x"),
    ]
    .concat();
    let chunks: Vec<_> = stream.iter().map(|b| (C, vec![*b])).collect();
    let mut s = WsSession::new(&WsConfig::default(), None);
    let mut ev = Vec::new();
    for (d, b) in &chunks {
        s.feed(*d, b, ts(0), &mut |d, k| ev.push((d, kind(k))));
    }
    assert_eq!(frames(&ev), [(C, 2, true, 70000), (C, 1, true, 1)]);
}

#[test]
fn oversized_close_keeps_its_code() {
    let payload = [&[0x03, 0xe8][..], &[b'x'; 256]].concat();
    let ev = run(&[(S, encode_frame(true, 0, 8, None, &payload))]);
    assert_eq!(violations(&ev), ["control_frame_too_long"]);
    assert!(ev.iter().any(|(_, k)| matches!(
        k,
        EventKind::WsFrame {
            close_code: Some(Some(1000)),
            ..
        }
    )));
}

/// A mixed stream: fragmented text and binary, controls between fragments, both directions.
fn sample_stream(masked: bool) -> Vec<u8> {
    let k = if masked { KEY } else { None };
    [
        encode_frame(true, 0, 1, k, "héllo wörld ✓".as_bytes()),
        encode_frame(false, 0, 1, k, &"ü".as_bytes()[..1]),
        encode_frame(true, 0, 9, k, b"ping"),
        encode_frame(false, 0, 0, k, &"ü".as_bytes()[1..]),
        encode_frame(true, 0, 0, k, b"tail"),
        encode_frame(
            true,
            0,
            2,
            k,
            &(0..300u32).map(|i| i as u8).collect::<Vec<_>>(),
        ),
        encode_frame(true, 0, 2, k, &[7; 70_000]),
        encode_frame(true, 0, 10, k, b""),
        encode_frame(true, 0, 8, k, &[0x03, 0xe8, b'o', b'k']),
    ]
    .concat()
}

fn split_run(
    stream: &[u8],
    dir: Direction,
    cuts: &[usize],
    deflate: Option<DeflateParams>,
) -> Vec<String> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (stream.len() + 1)).collect();
    cuts.sort_unstable();
    let mut s = WsSession::new(&WsConfig::default(), deflate);
    let mut ev = Vec::new();
    let mut prev = 0;
    for c in cuts.into_iter().chain([stream.len()]) {
        s.feed(dir, &stream[prev..c], ts(0), &mut |d, k| {
            ev.push((d, kind(k)))
        });
        prev = c;
    }
    s.end(ts(1), &mut |d, k| ev.push((d, kind(k))));
    json(&ev)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn any_split_gives_the_same_events(cuts in proptest::collection::vec(0usize..80_000, 0..20)) {
        for (masked, dir) in [(true, C), (false, S)] {
            let stream = sample_stream(masked);
            let whole = split_run(&stream, dir, &[], None);
            prop_assert_eq!(split_run(&stream, dir, &cuts, None), whole);
        }
    }

    #[test]
    fn any_split_of_a_deflate_stream_gives_the_same_events(
        cuts in proptest::collection::vec(0usize..4_000, 0..12),
        takeover in any::<bool>(),
    ) {
        let msgs: Vec<Vec<u8>> = vec![
            b"{\"type\":\"hello\",\"id\":1}".to_vec(),
            b"{\"type\":\"hello\",\"id\":2}".to_vec(),
            (0..3000u32).map(|i| b'a' + (i % 7) as u8).collect(),
            "多字节文本".repeat(20).into_bytes(),
        ];
        let comp = deflate_messages(&msgs, takeover);
        let mut stream = Vec::new();
        for (n, c) in comp.iter().enumerate() {
            if n == 2 {
                // Fragmented: RSV1 only on the first frame.
                let mid = c.len() / 2;
                stream.extend(encode_frame(false, 4, 1, KEY, &c[..mid]));
                stream.extend(encode_frame(true, 0, 9, KEY, b"hb"));
                stream.extend(encode_frame(true, 0, 0, KEY, &c[mid..]));
            } else {
                stream.extend(encode_frame(true, 4, 1, KEY, c));
            }
        }
        let p = DeflateParams { client_no_context_takeover: !takeover, ..DeflateParams::default() };
        let whole = split_run(&stream, C, &[], Some(p));
        let expected_previews: Vec<String> = msgs.iter().map(|m| {
            let mut pv = Preview::new(64);
            pv.push(m);
            pv.render(true, m.len() as u64)
        }).collect();
        let got_previews: Vec<String> = whole.iter().filter(|l| l.contains("\"ws_message\"")).map(|l| {
            let j: serde_json::Value = serde_json::from_str(l.split_once(' ').map(|x| x.1).unwrap_or("")).unwrap_or_default();
            j["preview"].as_str().unwrap_or("").to_string()
        }).collect();
        prop_assert_eq!(got_previews, expected_previews);
        prop_assert!(!whole.iter().any(|l| l.contains("decompression_failed")));
        prop_assert_eq!(split_run(&stream, C, &cuts, Some(p)), whole);
    }
}

#[test]
fn stream_ending_while_hunting_says_so() {
    let mut s = WsSession::new(&WsConfig::default(), None);
    let mut ev = Vec::new();
    s.gap(S, 100, ts(0), &mut |d, k| ev.push((d, kind(k))));
    // Reserved opcodes with RSV bits: nothing plausible.
    s.feed(S, &[0x7f; 50], ts(1), &mut |d, k| ev.push((d, kind(k))));
    s.end(ts(2), &mut |d, k| ev.push((d, kind(k))));
    assert_eq!(violations(&ev), ["gap_resync"]);
    assert_eq!(s.stats().skipped_bytes, 150);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Any bytes, cut anywhere, with gaps, in any mode: no panic, and the stats stay bounded.
    #[test]
    fn arbitrary_input_never_panics(
        ops in proptest::collection::vec((any::<bool>(), proptest::collection::vec(any::<u8>(), 0..300), 0u64..50), 0..30),
        mode in 0u8..3,
    ) {
        let cfg = WsConfig { max_hunt_bytes: 64, max_pending_pings: 4, ..WsConfig::default() };
        let mut s = match mode {
            0 => WsSession::new(&cfg, None),
            1 => WsSession::new(&cfg, Some(DeflateParams { server_max_window_bits: Some(8), ..DeflateParams::default() })),
            _ => WsSession::new_mid_stream(&cfg),
        };
        let mut n = 0usize;
        for (i, (c2s, bytes, gap)) in ops.iter().enumerate() {
            let d = if *c2s { C } else { S };
            s.feed(d, bytes, ts(i as i64), &mut |_, _| n += 1);
            if *gap % 7 == 0 {
                s.gap(d, *gap, ts(i as i64), &mut |_, _| n += 1);
            }
        }
        s.tcp_end(C, ts(1000));
        s.end(ts(1001), &mut |_, _| n += 1);
        prop_assert!(s.dirs.iter().all(|d| d.pings.len() <= 4 && d.hunt.len() <= 64 && d.hdr_len <= MAX_HEADER_LEN));
    }
}

fn split_run_mid(stream: &[u8], dir: Direction, cuts: &[usize]) -> Vec<String> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (stream.len() + 1)).collect();
    cuts.sort_unstable();
    let mut s = WsSession::new_mid_stream(&WsConfig::default());
    let mut ev = Vec::new();
    let mut prev = 0;
    for c in cuts.into_iter().chain([stream.len()]) {
        s.feed(dir, &stream[prev..c], ts(0), &mut |d, k| {
            ev.push((d, kind(k)))
        });
        prev = c;
    }
    s.end(ts(1), &mut |d, k| ev.push((d, kind(k))));
    json(&ev)
}

#[test]
fn mid_stream_large_frame_split_over_segments() {
    // The capture starts 5 bytes into a 100 KiB frame; the next frames must be found.
    let big = encode_frame(true, 0, 2, KEY, &[0x11; 100_000]);
    let after = [
        encode_frame(true, 0, 1, KEY, b"first"),
        encode_frame(true, 0, 9, KEY, b"hb"),
        encode_frame(true, 0, 1, KEY, b"second"),
    ]
    .concat();
    let stream = [&big[5..], &after[..]].concat();
    let mut s = WsSession::new_mid_stream(&WsConfig::default());
    let mut ev = Vec::new();
    for chunk in stream.chunks(1448) {
        s.feed(C, chunk, ts(0), &mut |d, k| ev.push((d, kind(k))));
    }
    assert_eq!(
        messages(&ev)
            .iter()
            .map(|m| m.5.as_str())
            .collect::<Vec<_>>(),
        ["first", "second"],
        "{:#?}",
        json(&ev)
    );
    assert_eq!(s.stats().skipped_bytes, big.len() as u64 - 5);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn mid_stream_from_a_frame_boundary_decodes_like_the_handshake_case(cuts in proptest::collection::vec(0usize..80_000, 0..12)) {
        let stream = sample_stream(true);
        let whole = split_run_mid(&stream, C, &[]);
        prop_assert_eq!(split_run_mid(&stream, C, &cuts), whole.clone());
        let frames_mid: Vec<_> = whole.iter().filter(|l| l.contains("ws_frame")).count().to_string().into_bytes();
        let frames_ok: Vec<_> = split_run(&stream, C, &[], None).iter().filter(|l| l.contains("ws_frame")).count().to_string().into_bytes();
        prop_assert_eq!(frames_mid, frames_ok);
    }
}

/// `cargo test --release --lib ws::session::tests::throughput -- --ignored --nocapture`
#[test]
#[ignore = "a measurement, not a check: run in release"]
fn throughput() {
    for (name, frame) in [
        (
            "masked text 16 KiB",
            encode_frame(true, 0, 1, KEY, &[b'a'; 16 << 10]),
        ),
        (
            "unmasked binary 64 KiB",
            encode_frame(true, 0, 2, None, &[7; 64 << 10]),
        ),
        (
            "masked binary 1 MiB",
            encode_frame(true, 0, 2, KEY, &[7; 1 << 20]),
        ),
        (
            "masked text 100 B",
            encode_frame(true, 0, 1, KEY, &[b'a'; 100]),
        ),
    ] {
        let dir = if name.starts_with("masked") { C } else { S };
        let stream: Vec<u8> = frame
            .iter()
            .copied()
            .cycle()
            .take(frame.len() * (64 << 20) / frame.len().max(1))
            .collect();
        let mut s = WsSession::new(&WsConfig::default(), None);
        let start = std::time::Instant::now();
        let mut n = 0u64;
        for chunk in stream.chunks(64 << 10) {
            s.feed(dir, chunk, ts(0), &mut |_, _| n += 1);
        }
        let secs = start.elapsed().as_secs_f64();
        eprintln!(
            "{name}: {:.2} GB/s, {n} events",
            stream.len() as f64 / secs / 1e9
        );
    }
}

/// Blanks the display-only strings that `WsConfig::detail = false` leaves empty.
fn without_detail(ev: &[Ev]) -> Vec<Ev> {
    ev.iter()
        .cloned()
        .map(|(d, mut k)| {
            match &mut k {
                EventKind::WsFrame {
                    mask_key,
                    payload_hex,
                    ..
                } => {
                    *mask_key = None;
                    *payload_hex = Default::default();
                }
                EventKind::WsMessage { preview, .. } => *preview = Default::default(),
                _ => {}
            }
            (d, k)
        })
        .collect()
}

#[test]
fn without_detail_only_the_display_strings_differ() {
    let deflated = deflate_messages(&[b"Hello, compressed".to_vec()], false).remove(0);
    let big: Vec<u8> = (0..300u32).map(|i| b'a' + (i % 26) as u8).collect();
    let stream = [
        (
            C,
            encode_frame(true, 0, 1, KEY, "héllo wörld, a text message".as_bytes()),
        ),
        (
            S,
            encode_frame(true, 0, 2, None, &[0xde, 0xad, 0xbe, 0xef, 1, 2, 3]),
        ),
        // A fragmented text message split across chunks, with invalid UTF-8 at the end.
        (C, encode_frame(false, 0, 1, KEY, &big)[..100].to_vec()),
        (
            C,
            [
                &encode_frame(false, 0, 1, KEY, &big)[100..],
                &encode_frame(true, 0, 0, KEY, b"\xff tail")[..],
            ]
            .concat(),
        ),
        (S, encode_frame(true, 4, 1, None, &deflated)),
        (C, encode_frame(true, 0, 9, KEY, b"ping-1")),
        (S, encode_frame(true, 0, 10, None, b"ping-1")),
        (S, encode_frame(true, 0, 10, None, b"unasked")),
        (C, encode_frame(true, 0, 2, None, b"unmasked binary")),
        (C, encode_frame(true, 0, 8, KEY, b"\x03\xe8bye")),
        (S, encode_frame(true, 0, 8, None, b"\x03\xe8bye")),
    ];
    let detailed = WsConfig::default();
    let summary = WsConfig {
        detail: false,
        ..WsConfig::default()
    };
    let p = Some(DeflateParams::default());
    let (full, fs) = run_with(WsSession::new(&detailed, p), &stream, true);
    let (bare, bs) = run_with(WsSession::new(&summary, p), &stream, true);
    assert!(
        violations(&full).contains(&"invalid_utf8_text"),
        "{:?}",
        violations(&full)
    );
    assert!(full.iter().any(
        |(_, k)| matches!(k, EventKind::WsFrame { payload_hex, .. } if !payload_hex.is_empty())
    ));
    assert!(bare.iter().all(|(_, k)| !matches!(k, EventKind::WsFrame { payload_hex, mask_key, .. } if !payload_hex.is_empty() || mask_key.is_some())));
    assert_eq!(json(&without_detail(&full)), json(&bare));
    assert_eq!(fs.stats(), bs.stats());
}

/// The whole payloads the session hands over with each message when asked to keep them.
fn kept_payloads(
    cfg: &WsConfig,
    deflate: bool,
    chunks: &[(Direction, Vec<u8>)],
) -> Vec<(Option<Vec<u8>>, bool)> {
    let mut s = WsSession::new(cfg, deflate.then(DeflateParams::default));
    let mut out = Vec::new();
    for (n, (d, b)) in chunks.iter().enumerate() {
        s.feed(*d, b, ts(n as i64), &mut |_, e| {
            if let WsEvent::Message(m) = e {
                out.push((m.payload, m.payload_truncated));
            }
        });
    }
    out
}

#[test]
fn whole_payloads_are_kept_only_when_asked_unmasked_inflated_and_bounded() {
    let keep = WsConfig {
        keep_payload: true,
        ..WsConfig::default()
    };
    // A masked text message in three frames, fed one byte at a time.
    let text = "héllo, wörld: a fragmented and masked message".as_bytes();
    let mut wire = Vec::new();
    wire.extend(encode_frame(false, 0, 1, KEY, &text[..7]));
    wire.extend(encode_frame(false, 0, 0, KEY, &text[7..20]));
    wire.extend(encode_frame(true, 0, 0, KEY, &text[20..]));
    let bytewise: Vec<_> = wire.iter().map(|b| (C, vec![*b])).collect();
    assert_eq!(
        kept_payloads(&keep, false, &bytewise),
        [(Some(text.to_vec()), false)]
    );
    // Not asked: nothing kept.
    assert_eq!(
        kept_payloads(&WsConfig::default(), false, &bytewise),
        [(None, false)]
    );
    // Compressed server messages (context takeover) come out inflated.
    let msgs = [
        vec![7u8; 5000],
        b"second, compressed against the first".to_vec(),
    ];
    let comp = deflate_messages(&msgs, true);
    let chunks: Vec<_> = comp
        .iter()
        .map(|c| (S, encode_frame(true, 4, 2, None, c)))
        .collect();
    let got = kept_payloads(&keep, true, &chunks);
    assert_eq!(
        got,
        [
            (Some(msgs[0].clone()), false),
            (Some(msgs[1].clone()), false)
        ]
    );
    // The bound cuts the payload and says so; the next message is whole again.
    let small = WsConfig {
        max_payload_bytes: 10,
        ..keep.clone()
    };
    let got = kept_payloads(&small, true, &chunks);
    assert_eq!(got[0], (Some(vec![7u8; 10]), true));
    let chunks = [
        (C, encode_frame(true, 0, 2, KEY, &[1u8; 11])),
        (C, encode_frame(true, 0, 2, KEY, &[2u8; 10])),
    ];
    assert_eq!(
        kept_payloads(&small, false, &chunks),
        [(Some(vec![1u8; 10]), true), (Some(vec![2u8; 10]), false)]
    );
}
