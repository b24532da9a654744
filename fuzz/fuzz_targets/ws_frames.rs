//! `WsSession` (after a handshake, with permessage-deflate, or mid-stream) fed
//! arbitrary bytes in arbitrary chunks per direction, with gaps and ends.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use wsscope::types::{Direction, Timestamp};
use wsscope::ws::{Confidence, DeflateParams, WsConfig, WsEvent, WsSession, WsStats};
use wsscope_fuzz::{assert_same, coalesced, dir, script, Owned, Step};

#[derive(Arbitrary, Debug)]
enum Mode {
    Plain,
    Deflate {
        server_no_context_takeover: bool,
        client_no_context_takeover: bool,
        server_max_window_bits: Option<u8>,
        client_max_window_bits: Option<u8>,
    },
    DeflateDefault,
    MidStream(Option<u8>),
}

#[derive(Arbitrary, Debug)]
struct Header {
    mode: Mode,
    /// Tiny bounds, so that every bound is reached with small inputs.
    small_limits: bool,
    no_detail: bool,
    not_established: bool,
}

/// Window bits as a negotiation can give them: 8..=15.
fn bits(b: Option<u8>) -> Option<u8> {
    b.map(|b| 8 + b % 8)
}

/// Events of a session fed `steps` (data as given, or coalesced), all at one time.
fn run(
    new: &dyn Fn() -> WsSession,
    steps: &[Step<'_>],
    coalesce: bool,
) -> (Vec<(Option<Direction>, WsEvent)>, WsStats) {
    let mut s = new();
    let mut ev = Vec::new();
    let mut out = |d, e| ev.push((d, e));
    let t = Timestamp(1_700_000_000_000_000);
    let step = |s: &mut WsSession,
                st: Step<'_>,
                out: &mut dyn FnMut(Option<Direction>, WsEvent)| match st {
        Step::Data(s2c, b) | Step::Extra(s2c, b) | Step::Extra2(s2c, b) => {
            s.feed(dir(s2c), b, t, &mut |d, e| out(d, e))
        }
        Step::Gap(s2c, n) => s.gap(dir(s2c), n, t, &mut |d, e| out(d, e)),
        Step::End(s2c) => s.tcp_end(dir(s2c), t),
    };
    if coalesce {
        for o in coalesced(steps) {
            match o {
                Owned::Data(s2c, b) => step(&mut s, Step::Data(s2c, &b), &mut out),
                Owned::Other(i) => step(&mut s, steps[i], &mut out),
            }
        }
    } else {
        for &st in steps {
            step(&mut s, st, &mut out);
        }
    }
    s.end(t, &mut out);
    (ev, s.stats().clone())
}

fuzz_target!(|data: &[u8]| {
    let (header, steps) = script::parse(data);
    let Ok(h) = Header::arbitrary(&mut Unstructured::new(&header)) else {
        return;
    };
    let steps: Vec<Step<'_>> = steps.collect();
    let mut cfg = WsConfig {
        detail: !h.no_detail,
        ..WsConfig::default()
    };
    if h.small_limits {
        cfg.max_message_bytes = 4096;
        cfg.max_inflate_ratio = 4;
        cfg.inflate_ratio_floor = 256;
        cfg.preview_bytes = 5;
        cfg.max_pending_pings = 2;
        cfg.max_hunt_bytes = 64;
        cfg.max_samples = 3;
    }
    let new = |cfg: &WsConfig| match h.mode {
        Mode::Plain => WsSession::new(cfg, None),
        Mode::DeflateDefault => WsSession::new(cfg, Some(DeflateParams::default())),
        Mode::Deflate {
            server_no_context_takeover,
            client_no_context_takeover,
            server_max_window_bits,
            client_max_window_bits,
        } => WsSession::new(
            cfg,
            Some(DeflateParams {
                server_no_context_takeover,
                client_no_context_takeover,
                server_max_window_bits: bits(server_max_window_bits),
                client_max_window_bits: bits(client_max_window_bits),
            }),
        ),
        Mode::MidStream(c) => {
            let s = WsSession::new_mid_stream(cfg);
            match c.map(|c| c % 3) {
                None => s,
                Some(0) => s.with_confidence(Confidence::Low),
                Some(1) => s.with_confidence(Confidence::Medium),
                Some(_) => s.with_confidence(Confidence::High),
            }
        }
    };
    let new = |cfg: &WsConfig| {
        let mut s = new(cfg);
        if h.not_established {
            s.set_established(false);
        }
        s
    };
    // The chunking oracle: the same streams in bigger chunks give the same events.
    // Not while hunting for a header (mid-stream, or after a gap): a candidate whose
    // frame ends exactly where a segment does is taken by design (segments often end
    // on frame boundaries), so there the segmentation is evidence.
    let (split, stats) = run(&|| new(&cfg), &steps, false);
    let hunts =
        matches!(h.mode, Mode::MidStream(_)) || steps.iter().any(|s| matches!(s, Step::Gap(..)));
    if !hunts {
        let (joined, _) = run(&|| new(&cfg), &steps, true);
        // The inflation bounds are checked on line, against the compressed bytes seen so
        // far and per output chunk: where they trip depends on the cuts (see the report).
        let bound = |ev: &[(Option<Direction>, WsEvent)]| {
            ev.iter().any(|(_, e)| {
                matches!(e, WsEvent::Violation(v)
                    if v.code == "inflate_ratio_exceeded" || v.code == "message_too_big")
            })
        };
        if !bound(&split) && !bound(&joined) {
            assert_same(&split, &joined, "WebSocket events");
        }
    }
    // `detail: false` changes display strings only: the stats are the same.
    let plain = WsConfig {
        detail: !cfg.detail,
        ..cfg.clone()
    };
    let (_, other) = run(&|| new(&plain), &steps, false);
    assert_eq!(stats, other, "the stats depend on WsConfig::detail");
    let mut s = new(&cfg);
    let mut events = 0usize;
    let mut out = |_d, e| {
        std::hint::black_box(&e);
        events += 1;
    };
    let mut ts = 1_700_000_000_000_000i64;
    for &step in &steps {
        ts += 1_000;
        let t = Timestamp(ts);
        match step {
            Step::Data(s2c, b) | Step::Extra(s2c, b) | Step::Extra2(s2c, b) => {
                // What the analyzer does with the first bytes of a mid-stream connection.
                if s.is_mid_stream() {
                    std::hint::black_box(wsscope::ws::sniff(b));
                }
                s.feed(dir(s2c), b, t, &mut out)
            }
            Step::Gap(s2c, n) => s.gap(dir(s2c), n, t, &mut out),
            Step::End(s2c) => s.tcp_end(dir(s2c), t),
        }
    }
    s.end(Timestamp(ts + 1), &mut out);
    // A second end does nothing.
    let before = events;
    s.end(Timestamp(ts + 2), &mut |_d, _e| events += 1);
    assert_eq!(events, before, "a second end() emitted events");
    let st = s.stats();
    std::hint::black_box((st.heartbeat_interval_ms(), st.median_rtt_ms()));
});
