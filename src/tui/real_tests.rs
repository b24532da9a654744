//! Whole-screen snapshots over real captures: the events come from the real
//! pipeline (libpcap reads the file, [`wsscope::analysis::Analyzer`] turns
//! it into events), and the screens are what a person sees after the keys.
//! Nothing is redacted: a capture's timestamps are fixed.

use std::path::Path;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use wsscope::analysis::{Analyzer, Config, Event, EventKind};
use wsscope::types::Timestamp;

use super::app::{App, Focus, Msg};
use super::timeline::ItemKind;
use super::{Feed, ViewOptions};

/// What the analyzer hands the view: the events, and the first packet.
#[derive(Default)]
struct Collect {
    events: Vec<Event>,
    first: Option<Timestamp>,
    /// Each ended connection's packet-level numbers, as the producer sends them.
    totals: Vec<(u64, wsscope::analysis::ConnTotals)>,
}

impl wsscope::analysis::Sink for Collect {
    fn event(&mut self, e: Event) {
        self.events.push(e);
    }
    fn first_packet(&mut self, ts: Timestamp) {
        self.first.get_or_insert(ts);
    }
    fn conn_closed(&mut self, conn: u64, totals: &wsscope::analysis::ConnTotals) {
        self.totals.push((conn, totals.clone()));
    }
}

/// The events of a capture in `captures/`, as `wsscope print --json` has them.
pub(super) fn events_of(name: &str) -> Vec<Event> {
    capture_of(name).events
}

/// The events of a capture in `captures/` and its first packet.
fn capture_of(name: &str) -> Collect {
    capture_with(name, Config::default())
}

/// [`capture_of`] with the pipeline's options `cfg`.
fn capture_with(name: &str, cfg: Config) -> Collect {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join(name);
    capture_at(&path, cfg)
}

/// The events of the capture at `path` with the pipeline's options `cfg`.
fn capture_at(path: &Path, cfg: Config) -> Collect {
    let name = path.display();
    let mut cap = pcap::Capture::from_file(path).expect("open capture");
    let linktype = cap.get_datalink().0;
    let mut analyzer = Analyzer::new(cfg);
    let mut out = Collect::default();
    let mut last = Timestamp::default();
    while let Ok(p) = cap.next_packet() {
        let ts = Timestamp::from_parts(p.header.ts.tv_sec, p.header.ts.tv_usec);
        last = ts;
        analyzer.packet(linktype, ts, p.data, &mut out);
    }
    analyzer.finish(last, &mut out);
    assert!(!out.events.is_empty(), "{name}: no events");
    out
}

/// A replay of capture `name`, fully read, clock at zero (as `wsscope FILE`
/// shows it when it opens).
fn open(name: &str) -> App {
    open_in(name, wsscope::output::Lang::En)
}

/// [`open`] in language `lang`.
/// The view keeps the capture's index and decodes the connection on
/// screen again from the file, as `wsscope FILE` does.
pub(super) fn open_in(name: &str, lang: wsscope::output::Lang) -> App {
    super::index_tests::open_indexed(name, lang)
}

/// The view of what the pipeline gave for capture `name`.
fn open_collected(c: Collect, name: &str, lang: wsscope::output::Lang) -> App {
    let Collect {
        events,
        first,
        totals,
    } = c;
    let packets = events.iter().map(|e| e.pkt).max().unwrap_or(0);
    let mut app = App::new(ViewOptions {
        source_label: format!("captures/{name}"),
        live: false,
        speed: 1.0,
        no_color: false,
        lang,
    });
    app.update(Msg::Tick(Duration::ZERO));
    if let Some(ts) = first {
        app.update(Msg::Feed(Feed::FirstPacket(ts)));
    }
    app.update(Msg::Feed(Feed::Events(events)));
    for (conn, t) in totals {
        app.update(Msg::Feed(Feed::Totals(vec![(conn, t)])));
    }
    app.update(Msg::Feed(Feed::Progress {
        packets,
        bytes_read: 1,
        total_bytes: Some(1),
    }));
    app.update(Msg::Feed(Feed::Done));
    app.update(Msg::Tick(Duration::ZERO));
    app
}

fn press(app: &mut App, code: KeyCode) {
    app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn screen(app: &mut App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("test backend");
    t.draw(|f| app.render(f)).expect("draw");
    t.backend().to_string()
}

fn selected(app: &App) -> Option<&EventKind> {
    app.selected_event()
        .and_then(|i| app.store().event(i))
        .map(|e| &e.kind)
}

/// Moves the timeline selection (Up/Down) until `want` holds.
fn select_where(app: &mut App, key: KeyCode, want: impl Fn(&EventKind) -> bool) {
    for _ in 0..200 {
        if selected(app).is_some_and(&want) {
            return;
        }
        press(app, key);
    }
    panic!("never selected the wanted event");
}

/// Steps the replay (→) until the selected event satisfies `want`.
fn step_until(app: &mut App, want: impl Fn(&EventKind) -> bool) {
    for _ in 0..200 {
        press(app, KeyCode::Right);
        if selected(app).is_some_and(&want) {
            return;
        }
    }
    panic!("never reached the wanted event");
}

/// Every requirement of the checklist is one line when the panel is wide
/// enough: no line of the screen is a wrapped tail of one.
fn assert_checklist_unwrapped(s: &str) {
    for line in s.lines() {
        for tail in ["(2)]", "(9)]", "[§4.1", "[§4.2.2"] {
            assert!(
                !line.trim_start_matches('│').trim_start().starts_with(tail),
                "a wrapped checklist line: {line}\n{s}"
            );
        }
    }
}

#[test]
fn basic_walk_through_every_phase() {
    let mut app = open("crafted-basic.pcap");
    insta::assert_snapshot!("real_basic_open_120x40", screen(&mut app, 120, 40));
    press(&mut app, KeyCode::Home);
    assert_eq!(app.store().revealed, 0);
    let s = screen(&mut app, 120, 40);
    // Nothing revealed yet: no verdict on the upgrade can show.
    assert!(!s.contains("WS"), "{s}");
    insta::assert_snapshot!("real_basic_home_80x24", screen(&mut app, 80, 24));

    // → → : the connection, then the SYN.
    press(&mut app, KeyCode::Right);
    press(&mut app, KeyCode::Right);
    assert!(matches!(
        selected(&app),
        Some(EventKind::TcpHandshake { .. })
    ));
    insta::assert_snapshot!("real_basic_syn_120x40", screen(&mut app, 120, 40));
    insta::assert_snapshot!("real_basic_syn_80x24", screen(&mut app, 80, 24));

    // Tab: the next phase (the upgrade request, with its checklist).
    press(&mut app, KeyCode::Tab);
    assert!(matches!(
        selected(&app),
        Some(EventKind::HttpRequest { .. })
    ));
    let s = screen(&mut app, 120, 40);
    assert!(s.contains("awaiting 101"), "{s}");
    assert_checklist_unwrapped(&s);
    insta::assert_snapshot!("real_basic_request_120x40", s);

    // → : the 101; → : the outcome, whose detail derives the Accept.
    step_until(&mut app, |k| matches!(k, EventKind::HttpResponse { .. }));
    let s = screen(&mut app, 80, 24);
    assert!(s.contains("got 101"), "{s}");
    insta::assert_snapshot!("real_basic_101_80x24", s);
    step_until(&mut app, |k| matches!(k, EventKind::WsHandshake { .. }));
    let s = screen(&mut app, 120, 40);
    assert!(s.contains("WS✓"), "{s}");
    assert_checklist_unwrapped(&s);
    insta::assert_snapshot!("real_basic_upgraded_120x40", s);

    // Tab: the data phase; its first frame with the bit diagram.
    press(&mut app, KeyCode::Tab);
    assert!(matches!(
        selected(&app),
        Some(EventKind::WsFrame { opcode: 1, .. })
    ));
    insta::assert_snapshot!("real_basic_data_120x40", screen(&mut app, 120, 40));
    // Enter: the detail has the keyboard; z zooms it.
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.focus(), Focus::Detail);
    press(&mut app, KeyCode::Char('z'));
    let s = screen(&mut app, 80, 24);
    assert!(s.contains("|F|R|R|R| opcode|M| Payload len |"), "{s}");
    insta::assert_snapshot!("real_basic_frame_zoom_80x24", s);
    // Esc: back to the three panels and the timeline.
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.focus(), Focus::Timeline);

    // Tab by Tab: the heartbeat (a phase of its own), then the closing handshake.
    let mut stops = Vec::new();
    for _ in 0..8 {
        press(&mut app, KeyCode::Tab);
        let op = match selected(&app) {
            Some(EventKind::WsFrame { opcode, .. }) => Some(*opcode),
            _ => None,
        };
        stops.push(op);
        if op == Some(8) {
            break;
        }
    }
    assert!(stops.contains(&Some(9)), "{stops:?}");
    assert_eq!(stops.last(), Some(&Some(8)), "{stops:?}");
    step_until(&mut app, |k| matches!(k, EventKind::WsClose { .. }));
    let s = screen(&mut app, 120, 40);
    assert!(s.contains("1000"), "{s}");
    insta::assert_snapshot!("real_basic_close_120x40", s);

    // Tab: the teardown, then the end of the connection.
    press(&mut app, KeyCode::Tab);
    assert!(matches!(
        selected(&app),
        Some(EventKind::TcpTeardown { .. })
    ));
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Tab);
    assert_eq!(app.store().revealed, app.store().len());
    let s = screen(&mut app, 120, 40);
    assert!(s.contains("closed"), "{s}");
    insta::assert_snapshot!("real_basic_end_120x40", s);
    insta::assert_snapshot!("real_basic_end_80x24", screen(&mut app, 80, 24));

    // ? : the help over it all; ? again closes it.
    press(&mut app, KeyCode::Char('?'));
    insta::assert_snapshot!("real_basic_help_80x24", screen(&mut app, 80, 24));
    press(&mut app, KeyCode::Char('?'));
    assert!(!app.help_open());

    // / : the filter keeps the pings and pongs.
    press(&mut app, KeyCode::Char('/'));
    for c in "ping".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    insta::assert_snapshot!("real_basic_filter_editing_80x24", screen(&mut app, 80, 24));
    press(&mut app, KeyCode::Enter);
    let items = app.timeline_items().to_vec();
    let shown = items.iter().filter(|it| it.kind == ItemKind::Event).count();
    assert_eq!(shown, 2, "a ping and its pong");
    insta::assert_snapshot!("real_basic_filter_120x40", screen(&mut app, 120, 40));
}

#[test]
fn a_masking_violation_is_marked_and_explained() {
    let mut app = open("crafted-violation-masking.pcap");
    press(&mut app, KeyCode::End);
    select_where(&mut app, KeyCode::Up, |k| {
        matches!(k, EventKind::Violation { .. })
    });
    let s = screen(&mut app, 120, 40);
    assert!(s.contains("⚠"), "{s}");
    insta::assert_snapshot!("real_masking_violation_120x40", s);
    // Up: the frame it concerns, with the rule in its detail.
    press(&mut app, KeyCode::Up);
    assert!(matches!(selected(&app), Some(EventKind::WsFrame { .. })));
    let s = screen(&mut app, 80, 24);
    assert!(s.contains("⚠"), "{s}");
    insta::assert_snapshot!("real_masking_frame_80x24", s);
}

#[test]
fn compressed_messages_say_so() {
    let mut app = open("python-websockets-deflate.pcap");
    press(&mut app, KeyCode::End);
    let s = screen(&mut app, 120, 40);
    assert!(s.contains("(compressed)"), "{s}");
    // Continuations of a compressed message carry deflate output too: no
    // preview of those bytes as if they were the data.
    assert!(
        s.contains("continuation FIN=1 MASK=1 len=1 (compressed)"),
        "{s}"
    );
    assert!(!s.contains("\\x00"), "{s}");
    insta::assert_snapshot!("real_deflate_end_120x40", s);
    select_where(&mut app, KeyCode::Up, |k| {
        matches!(k, EventKind::WsHandshake { .. })
    });
    let s = screen(&mut app, 120, 40);
    assert!(s.contains("permessage-deflate"), "{s}");
    insta::assert_snapshot!("real_deflate_handshake_120x40", s);
    press(&mut app, KeyCode::End);
    select_where(&mut app, KeyCode::Up, |k| {
        matches!(
            k,
            EventKind::WsMessage {
                compressed: true,
                ..
            }
        )
    });
    let s = screen(&mut app, 120, 40);
    assert!(s.contains("compressed with permessage-deflate"), "{s}");
    insta::assert_snapshot!("real_deflate_message_120x40", s);
    insta::assert_snapshot!("real_deflate_message_80x24", screen(&mut app, 80, 24));
}

#[test]
fn a_message_detail_names_the_protocol_riding_on_it() {
    // As `wsscope view` runs the pipeline: whole payloads decoded, not kept.
    let mut cfg = Config::default();
    cfg.ws.keep_payload = true;
    let mut c = capture_with("chromium-python-websockets.pcap", cfg);
    for e in &mut c.events {
        if let EventKind::WsMessage { body, .. } = &mut e.kind {
            body.payload = None;
        }
    }
    let mut app = open_collected(
        c,
        "chromium-python-websockets.pcap",
        wsscope::output::Lang::En,
    );
    press(&mut app, KeyCode::End);
    select_where(
        &mut app,
        KeyCode::Up,
        |k| matches!(k, EventKind::WsMessage { body, .. } if body.app.is_some()),
    );
    let s = screen(&mut app, 120, 40);
    assert!(s.contains("Protocol riding on WebSocket"), "{s}");
    assert!(s.contains("json object \"subscribe\" (2 keys)"), "{s}");
    // The other messages are no protocol's.
    select_where(
        &mut app,
        KeyCode::Up,
        |k| matches!(k, EventKind::WsMessage { body, .. } if body.app.is_none()),
    );
    assert!(!screen(&mut app, 120, 40).contains("Protocol riding"));
}

#[test]
fn a_refused_upgrade_shows_its_checklist() {
    let mut app = open("python-websockets-refused-426.pcap");
    press(&mut app, KeyCode::Home);
    step_until(&mut app, |k| matches!(k, EventKind::WsHandshake { .. }));
    let s = screen(&mut app, 120, 40);
    assert!(s.contains("WS✗ 426"), "{s}");
    assert!(s.contains("✗ status is 101 Switching Protocols"), "{s}");
    assert_checklist_unwrapped(&s);
    insta::assert_snapshot!("real_refused_120x40", s);
    insta::assert_snapshot!("real_refused_80x24", screen(&mut app, 80, 24));
}

/// Words that stay as they are in Chinese: protocol tokens (TCP flags, HTTP
/// and WebSocket names, header names, opcode names, the RFC's field names in
/// its header figure), units and the names of keys.
const PROTOCOL_TOKENS: &[&str] = &[
    "SYN",
    "ACK",
    "FIN",
    "RST",
    "RTT",
    "TCP",
    "HTTP",
    "GET",
    "WebSocket",
    "Accept",
    "Upgrade",
    "websocket",
    "Connection",
    "Sec",
    "Key",
    "Version",
    "Host",
    "Extensions",
    "Protocol",
    "Switching",
    "Protocols",
    "GUID",
    "SHA",
    "base",
    "key",
    "RFC",
    "UTC",
    "ms",
    "µs",
    "hex",
    "opcode",
    "FIN",
    "RSV",
    "MASK",
    "len",
    "text",
    "binary",
    "ping",
    "pong",
    "close",
    "continuation",
    "Payload",
    "Extended",
    "payload",
    "length",
    "Masking",
    "XOR",
    "mod",
    "conn_open",
    "tcp_handshake",
    "http_request",
    "http_response",
    "ws_handshake",
    "ws_frame",
    "ws_message",
    "ws_close",
    "tcp_teardown",
    "Tab",
    "End",
    "Enter",
    "Esc",
    "pcap",
    "captures",
    "crafted",
    "basic",
    "permessage",
    "deflate",
    "SSE",
    "Ctrl",
    "PgUp",
    "PgDn",
    "Home",
    "Shift",
    "space",
    "English",
    "WS",
    "TIME_WAIT",
];

/// The ASCII words (two letters or more, no digits: hex, base64 and
/// addresses are values, not words) of `s`, leaving out the test backend's
/// own notes on wide characters.
fn ascii_words(s: &str) -> Vec<String> {
    s.lines()
        .map(|l| {
            l.split(" Hidden by multi-width symbols")
                .next()
                .unwrap_or_default()
        })
        // A hex dump's rows (`0010  64 57 …  dW;N`S`) are wire bytes.
        .flat_map(|l| l.split('│'))
        .filter(|cell| {
            let t = cell.trim_start();
            !(t.len() > 6
                && t.get(..4)
                    .is_some_and(|h| h.chars().all(|c| c.is_ascii_hexdigit()))
                && t.get(4..6) == Some("  "))
        })
        .flat_map(|l| {
            l.split(|c: char| !(c.is_ascii_alphanumeric() || "_+/=-".contains(c)))
                .filter(|w| !w.chars().any(|c| c.is_ascii_digit()))
                .flat_map(|w| w.split(['-', '/', '+', '=']))
                .filter(|w| w.chars().filter(|c| c.is_ascii_alphabetic()).count() >= 2)
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn the_chinese_view_has_no_english_outside_protocol_tokens_and_wire_text() {
    let name = "crafted-basic.pcap";
    // Wire text: every string the capture itself carries (headers, targets,
    // reasons, previews, addresses), as the NDJSON has it.
    let mut wire: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for e in events_of(name) {
        let json = serde_json::to_value(&e).expect("json");
        let mut stack = vec![json];
        while let Some(v) = stack.pop() {
            match v {
                serde_json::Value::String(s) => wire.extend(ascii_words(&s)),
                serde_json::Value::Array(a) => stack.extend(a),
                serde_json::Value::Object(o) => {
                    // Values only: the field names are ours, not the wire's.
                    for (k, v) in o {
                        if !matches!(
                            k.as_str(),
                            "event" | "opname" | "dir" | "kind" | "name" | "rule" | "how" | "step"
                        ) {
                            stack.push(v);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    // A hex byte of a dump, or a piece of wire text cut short (a preview
    // cut with `…`, a value broken across rows) is wire text too.
    let allowed = |w: &str| {
        PROTOCOL_TOKENS.contains(&w)
            || wire.contains(w)
            || (w.len() == 2 && w.chars().all(|c| c.is_ascii_hexdigit()))
            || (w.len() <= 5 && wire.iter().any(|x| x.contains(w)))
    };
    let mut app = open_in(name, wsscope::output::Lang::Zh);
    press(&mut app, KeyCode::End);
    let mut screens = vec![screen(&mut app, 160, 60)];
    // Every event's detail and explanation, the help.
    for _ in 0..app.store().len() {
        press(&mut app, KeyCode::Up);
        screens.push(screen(&mut app, 160, 60));
        press(&mut app, KeyCode::Char('z'));
        screens.push(screen(&mut app, 160, 100));
        press(&mut app, KeyCode::Char('z'));
    }
    press(&mut app, KeyCode::Char('?'));
    screens.push(screen(&mut app, 100, 30));
    let mut english: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for s in &screens {
        for w in ascii_words(s) {
            if !allowed(&w) {
                if std::env::var_os("WSSCOPE_DEBUG_ZH").is_some() {
                    let line = s
                        .lines()
                        .find(|l| l.contains(w.as_str()))
                        .unwrap_or_default();
                    eprintln!("{w}: {line}");
                }
                english.insert(w);
            }
        }
    }
    assert!(
        english.is_empty(),
        "English words in the Chinese view: {english:?}"
    );
    // And the article's terms are there.
    let all = screens.join("\n");
    for term in [
        "握手",
        "帧",
        "掩码",
        "心跳",
        "主动关闭",
        "被动关闭",
        "四次挥手",
        "全双工",
    ] {
        assert!(all.contains(term), "{term} missing");
    }
}

/// The RFC 8441 capture (two WebSockets, streams 1 and 3, over one TLS
/// HTTP/2 connection), decrypted with its key log.
fn open_h2() -> App {
    open_collected(
        h2_capture(),
        "h2_rfc8441_hypercorn_tls.pcap",
        wsscope::output::Lang::En,
    )
}

/// `../shared/captures-tls` (`../../shared` from a git worktree one level further down).
fn shared_tls() -> std::path::PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let near = root.join("../shared/captures-tls");
    if near.is_dir() {
        return near;
    }
    root.join("../../shared/captures-tls")
}

/// The events of the RFC 8441 capture, decrypted with its key log.
fn h2_capture() -> Collect {
    let dir = shared_tls();
    let keylog =
        std::fs::read_to_string(dir.join("h2_rfc8441_hypercorn_tls.keylog")).expect("key log");
    let cfg = Config {
        keys: std::sync::Arc::new(wsscope::tls::KeyLog::parse(&keylog).0),
        ..Config::default()
    };
    capture_at(&dir.join("h2_rfc8441_hypercorn_tls.pcap"), cfg)
}

/// The streams of the events the timeline shows, and how many of them are
/// the connection's shared ones.
fn timeline_streams(app: &mut App) -> (Vec<Option<u32>>, usize) {
    let evs: Vec<usize> = app
        .timeline_items()
        .iter()
        .filter(|it| it.kind == ItemKind::Event)
        .map(|it| it.ev)
        .collect();
    let streams: Vec<Option<u32>> = evs
        .iter()
        .filter_map(|&i| app.store().event(i))
        .map(|e| e.stream)
        .collect();
    let shared = streams.iter().filter(|s| s.is_none()).count();
    (streams, shared)
}

#[test]
fn h2_websockets_get_their_own_rows_and_timelines() {
    let mut app = open_h2();
    press(&mut app, KeyCode::End);
    let keys: Vec<_> = app.store().conns.iter().map(|c| c.key()).collect();
    assert_eq!(keys, vec![(0, None), (0, Some(1)), (0, Some(3))]);
    // Each WebSocket's badges are its own (`wsscope stats`: 9/7 and 5/5
    // frames, 10 and 8 messages).
    let frames_msgs = |app: &App, s: u32| {
        let c = app.store().row((0, Some(s))).expect("stream row");
        (
            c.stats.frames.total(),
            c.stats.messages,
            c.stats.upgrade.as_ref().map(|u| u.ok),
        )
    };
    assert_eq!(frames_msgs(&app, 1), (16, 10, Some(true)));
    assert_eq!(frames_msgs(&app, 3), (10, 8, Some(true)));
    let all_shared = app
        .store()
        .events()
        .filter(|e| e.conn == 0 && e.stream.is_none())
        .count();
    assert!(app
        .store()
        .events()
        .any(|e| matches!(e.kind, EventKind::H2Settings { .. })));

    // The connection's row: everything, both streams.
    let (streams, shared) = timeline_streams(&mut app);
    assert_eq!(app.selected_stream(), None);
    assert!(streams.contains(&Some(1)) && streams.contains(&Some(3)));
    assert_eq!(shared, all_shared);
    // There, a stream's lines say which stream; under `#0/s1` they need not.
    let s = screen(&mut app, 120, 40);
    assert!(s.contains("│ s3 ") && s.contains("s1 close FIN=1"), "{s}");

    // Down the list: `#0/s1`, then `#0/s3`; each timeline holds the shared
    // phases once, then only its own stream's events, all of them.
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.focus(), Focus::Connections);
    for s in [1, 3] {
        press(&mut app, KeyCode::Down);
        assert_eq!(app.selected_conn(), Some(0));
        assert_eq!(app.selected_stream(), Some(s));
        let (streams, shared) = timeline_streams(&mut app);
        assert_eq!(shared, all_shared, "stream {s}: the shared events, once");
        let own = streams.iter().filter(|&&t| t == Some(s)).count();
        let want = app.store().events().filter(|e| e.stream == Some(s)).count();
        assert!(own > 0);
        assert_eq!(own, want, "stream {s}: all of its events");
        assert_eq!(
            streams.len(),
            shared + own,
            "stream {s}: nothing of another stream"
        );
        let screen_s = screen(&mut app, 120, 40);
        assert!(
            screen_s.contains(&format!("Timeline #0/s{s}")),
            "{screen_s}"
        );
        assert!(
            screen_s.contains("└ #0/s1") && screen_s.contains("└ #0/s3"),
            "{screen_s}"
        );
        if s == 1 {
            // The top of `#0/s1`'s timeline: the shared TCP, TLS and
            // HTTP/2 phases, then its extended CONNECT.
            press(&mut app, KeyCode::Enter);
            for _ in 0..10 {
                press(&mut app, KeyCode::PageUp);
            }
            let top = screen(&mut app, 120, 40);
            assert!(top.contains("SETTINGS"), "{top}");
            // RFC 8441 has no Accept: the open line does not fault one.
            assert!(top.contains("WebSocket open (RFC 8441, stream 1)"), "{top}");
            assert!(!top.contains("Accept ✗"), "{top}");
            assert!(!top.contains("│ s1 "), "{top}");
            insta::assert_snapshot!("real_h2_stream1_120x40", top);
            press(&mut app, KeyCode::Esc);
            assert_eq!(app.selected_stream(), Some(1));
        }
    }
    press(&mut app, KeyCode::Up);
    press(&mut app, KeyCode::Up);
    assert_eq!(app.selected_stream(), None);

    // The filter matches a stream's row by its name.
    press(&mut app, KeyCode::Char('/'));
    for ch in "#0/s3".chars() {
        press(&mut app, KeyCode::Char(ch));
    }
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.selected_stream(), Some(3));
    let s = screen(&mut app, 120, 40);
    assert!(s.contains("Connections (1 of 3 rows)"), "{s}");
    assert!(s.contains("└ #0/s3") && !s.contains("└ #0/s1"), "{s}");
    press(&mut app, KeyCode::Char('L'));
    let s = screen(&mut app, 120, 40);
    assert!(s.contains("连接（1/3 行）"), "{s}");
    // Esc from the list clears the filter: every row again.
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.focus(), Focus::Connections);
    let s = screen(&mut app, 120, 40);
    assert!(s.contains("连接（1；HTTP/2 上的 WebSocket 2 个）"), "{s}");
    assert_eq!(app.selected_stream(), Some(3));
}

#[test]
fn h2_stream_rows_live_match_the_replay() {
    // Live, events come a few at a time and are shown at once: a stream's
    // row, made at its handshake, takes in the shared events shown before.
    let mut replay = open_h2();
    press(&mut replay, KeyCode::End);
    let c = h2_capture();
    let mut live = App::new(ViewOptions {
        source_label: "lo".into(),
        live: true,
        speed: 1.0,
        no_color: false,
        lang: wsscope::output::Lang::En,
    });
    for e in c.events {
        live.update(Msg::Feed(Feed::Events(vec![e])));
    }
    let rows = |app: &App| {
        app.store()
            .conns
            .iter()
            .map(|c| {
                (
                    c.key(),
                    c.events.clone(),
                    c.progress.clone(),
                    c.stats.frames.total(),
                    c.stats.messages,
                    c.stats.close.as_ref().and_then(|c| c.code),
                )
            })
            .collect::<Vec<_>>()
    };
    let want = rows(&replay);
    assert_eq!(want.len(), 3);
    assert_eq!(rows(&live), want);

    // Stepping back through `#0/s3` in the replay stays on its events and
    // the shared ones, its counters going back with it.
    press(&mut replay, KeyCode::Esc);
    press(&mut replay, KeyCode::Down);
    press(&mut replay, KeyCode::Down);
    assert_eq!(replay.selected_stream(), Some(3));
    press(&mut replay, KeyCode::Home);
    let s3 = |app: &App| app.store().row((0, Some(3))).expect("row").stats.messages;
    assert_eq!(s3(&replay), 0);
    let mut seen = 0;
    for _ in 0..200 {
        press(&mut replay, KeyCode::Right);
        let stream = replay
            .selected_event()
            .and_then(|i| replay.store().event(i))
            .map(|e| e.stream);
        assert!(matches!(stream, Some(None) | Some(Some(3))), "{stream:?}");
        seen += 1;
        if replay.store().revealed == replay.store().len() {
            break;
        }
    }
    assert!(seen > 10);
    assert_eq!(s3(&replay), 8);
}

/// A wss capture with its key log: the TLS events' detail tells the hello's fields,
/// the server's choice, which secrets decrypt it, and the records and bytes TLS added.
#[test]
fn tls_detail_tells_the_handshake_the_secrets_and_the_records() {
    let dir = shared_tls();
    let keylog = std::fs::read_to_string(dir.join("py_tls13_std.keylog")).expect("key log");
    let cfg = Config {
        keys: std::sync::Arc::new(wsscope::tls::KeyLog::parse(&keylog).0),
        ..Config::default()
    };
    let c = capture_at(&dir.join("py_tls13_std.pcap"), cfg);
    assert!(!c.totals.is_empty());
    let mut app = open_collected(c, "py_tls13_std.pcap", wsscope::output::Lang::En);
    press(&mut app, KeyCode::End);
    let theme = super::theme::Theme::new(true);
    let store = app.store();
    let conn = store.conn(0);
    let text_of = |pred: &dyn Fn(&EventKind) -> bool| -> String {
        let i = store.events().position(|e| pred(&e.kind)).expect("event");
        super::detail::lines(store, conn, i, 100, wsscope::output::Lang::En, &theme)
            .iter()
            .map(|l| l.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let hello = text_of(&|k| {
        matches!(
            k,
            EventKind::TlsHandshake {
                step: wsscope::analysis::TlsStep::ClientHello { .. }
            }
        )
    });
    assert!(hello.contains("versions: TLS 1.3, TLS 1.2"), "{hello}");
    assert!(hello.contains("cipher suites offered:"), "{hello}");
    let server = text_of(&|k| {
        matches!(
            k,
            EventKind::TlsHandshake {
                step: wsscope::analysis::TlsStep::ServerHello { .. }
            }
        )
    });
    assert!(
        server.contains("cipher suite: TLS_AES_256_GCM_SHA384"),
        "{server}"
    );
    let decrypted = text_of(&|k| matches!(k, EventKind::TlsDecrypt { ok: true, .. }));
    assert!(
        decrypted.contains("TLS 1.3 handshake and traffic secrets"),
        "{decrypted}"
    );
    let tls = conn
        .and_then(|c| c.stats.tls.as_deref())
        .expect("tls summary");
    assert!(tls.records.c2s > 0 && tls.records.s2c > 0 && tls.overhead_bytes > 0);
    assert!(
        decrypted.contains(&format!("{} / {}", tls.records.c2s, tls.records.s2c)),
        "{decrypted}"
    );
    assert!(
        decrypted.contains(&format!(
            "added (record headers, tags, padding): {}",
            tls.overhead_bytes
        )),
        "{decrypted}"
    );
    // The connection's numbers are the packets' once it has ended (not 0 bytes).
    assert!(conn.unwrap().stats.bytes.wire > 100_000);
}
