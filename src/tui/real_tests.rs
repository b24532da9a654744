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
}

impl wsscope::analysis::Sink for Collect {
    fn event(&mut self, e: Event) {
        self.events.push(e);
    }
    fn first_packet(&mut self, ts: Timestamp) {
        self.first.get_or_insert(ts);
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
    let mut cap = pcap::Capture::from_file(&path).expect("open capture");
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
pub(super) fn open_in(name: &str, lang: wsscope::output::Lang) -> App {
    open_collected(capture_of(name), name, lang)
}

/// The view of what the pipeline gave for capture `name`.
fn open_collected(c: Collect, name: &str, lang: wsscope::output::Lang) -> App {
    let Collect { events, first } = c;
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
        .and_then(|i| app.store().events.get(i))
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
    assert_eq!(app.store().revealed, app.store().events.len());
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
    for _ in 0..app.store().events.len() {
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
