//! Whole-session tests: scripted feeds, keys, mouse and clock, rendered into
//! ratatui's `TestBackend` and snapshotted with insta.

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::backend::TestBackend;
use ratatui::style::Color;
use ratatui::Terminal;

use wsscope::analysis::EventKind;
use wsscope::types::Direction;

use super::app::{App, Focus, Msg};
use super::fixtures::{self, session};
use super::timeline::ItemKind;
use super::{Feed, Said, ViewOptions};

fn opts(live: bool) -> ViewOptions {
    ViewOptions {
        source_label: if live {
            "eth0".into()
        } else {
            "chat.pcap".into()
        },
        live,
        speed: 1.0,
        no_color: false,
        lang: wsscope::output::Lang::En,
    }
}

/// A replay of the fixture, fully indexed, clock at zero.
fn replay() -> App {
    let mut app = App::new(opts(false));
    app.update(Msg::Feed(Feed::Progress {
        packets: 23,
        bytes_read: 4096,
        total_bytes: Some(4096),
    }));
    app.update(Msg::Feed(Feed::Events(session())));
    app.update(Msg::Feed(Feed::Done));
    app.update(Msg::Tick(Duration::ZERO));
    app
}

fn press(app: &mut App, code: KeyCode) {
    app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn keys(app: &mut App, codes: &[KeyCode]) {
    for &c in codes {
        press(app, c);
    }
}

fn typed(app: &mut App, s: &str) {
    for c in s.chars() {
        press(app, KeyCode::Char(c));
    }
}

fn terminal(w: u16, h: u16) -> Terminal<TestBackend> {
    Terminal::new(TestBackend::new(w, h)).expect("test backend")
}

fn screen(app: &mut App, w: u16, h: u16) -> String {
    let mut t = terminal(w, h);
    t.draw(|f| app.render(f)).expect("draw");
    t.backend().to_string()
}

fn kind_of(app: &App, i: Option<usize>) -> &'static str {
    i.and_then(|i| app.store().event(i))
        .map(|e| e.kind.name())
        .unwrap_or("none")
}

/// Steps forward until the selected event satisfies `want`.
fn step_until(app: &mut App, want: impl Fn(&EventKind) -> bool) {
    for _ in 0..64 {
        press(app, KeyCode::Right);
        let ev = app.selected_event().and_then(|i| app.store().event(i));
        if ev.is_some_and(|e| want(&e.kind)) {
            return;
        }
    }
    panic!("never reached the wanted event");
}

#[test]
fn opens_paused_on_the_first_websocket_event() {
    let mut app = replay();
    assert_eq!(app.selected_conn(), Some(1));
    assert!(!app.playing(), "a replay opens paused");
    // Everything before the WebSocket connection's first event is shown,
    // and that event (its connection_open) is selected.
    assert_eq!(app.store().revealed, 5);
    let sel = app.selected_event().unwrap();
    assert_eq!(app.store().event(sel).unwrap().conn, 1);
    assert_eq!(kind_of(&app, Some(sel)), "conn_open");
    let items = app.timeline_items().to_vec();
    assert!(matches!(items.last(), Some(it) if matches!(it.kind, ItemKind::More(n) if n > 20)));
    let s = screen(&mut app, 120, 40);
    assert!(s.contains("space to play"), "{s}");
    insta::assert_snapshot!("open_120x40", s);
}

#[test]
fn replay_reveals_at_the_recorded_pace_and_speed() {
    let mut app = replay();
    press(&mut app, KeyCode::Char(' '));
    assert!(app.playing());
    // From the first WebSocket event (t=100 ms), 30 ms: both handshakes.
    app.update(Msg::Tick(Duration::from_millis(30)));
    assert_eq!(app.store().revealed, 8);
    press(&mut app, KeyCode::Char('+'));
    assert_eq!(app.speed(), 2.0);
    // 50 ms more at 2x = 100 ms of capture: up to t=230 ms (the 101 and the outcome).
    app.update(Msg::Tick(Duration::from_millis(80)));
    assert_eq!(kind_of(&app, app.selected_event()), "ws_handshake");
    press(&mut app, KeyCode::Char('-'));
    press(&mut app, KeyCode::Char('-'));
    assert_eq!(app.speed(), 0.5);
    app.update(Msg::Tick(Duration::from_secs(20)));
    assert_eq!(app.store().revealed, app.store().len());
    assert!(!app.playing(), "stops at the end of a finished file");
    insta::assert_snapshot!("played_120x40", screen(&mut app, 120, 40));
}

#[test]
fn long_silences_are_shortened() {
    let mut events = session();
    // Move the close and teardown ten minutes later.
    for e in events.iter_mut().filter(|e| e.pkt >= 17) {
        e.ts.0 += 600_000_000;
    }
    let mut app = App::new(opts(false));
    app.update(Msg::Feed(Feed::Events(events)));
    app.update(Msg::Tick(Duration::ZERO));
    press(&mut app, KeyCode::Char(' '));
    app.update(Msg::Tick(Duration::from_millis(1300)));
    let before = app.store().revealed;
    app.update(Msg::Tick(Duration::from_millis(
        1300 + super::app::MAX_IDLE_US as u64 / 1000 + 50,
    )));
    assert!(
        app.store().revealed > before,
        "the silence did not stall the replay"
    );
}

#[test]
fn teacher_walks_one_connection_one_arrow_at_a_time() {
    let mut app = replay();
    press(&mut app, KeyCode::Home);
    assert!(!app.playing());
    assert_eq!(app.store().revealed, 0);
    press(&mut app, KeyCode::Right);
    assert_eq!(kind_of(&app, app.selected_event()), "conn_open");
    press(&mut app, KeyCode::Char('n'));
    assert_eq!(kind_of(&app, app.selected_event()), "tcp_handshake");
    let items = app.timeline_items().to_vec();
    assert_eq!(
        items[0].kind,
        ItemKind::Header(wsscope::analysis::Phase::TcpHandshake)
    );
    assert_eq!(
        items.iter().filter(|i| i.kind == ItemKind::Event).count(),
        2
    );
    insta::assert_snapshot!("step_syn_80x24", screen(&mut app, 80, 24));
    // Back one arrow: the SYN disappears again.
    press(&mut app, KeyCode::Left);
    assert_eq!(kind_of(&app, app.selected_event()), "conn_open");
    press(&mut app, KeyCode::Char('p'));
    assert_eq!(app.selected_event(), None);
    // Stepping never leaves the selected connection.
    step_until(&mut app, |k| matches!(k, EventKind::WsHandshake { .. }));
    assert_eq!(app.selected_conn(), Some(1));
    assert_eq!(
        app.store()
            .event(app.selected_event().unwrap())
            .unwrap()
            .conn,
        1
    );
}

#[test]
fn a_violation_is_revealed_with_its_frame() {
    let mut app = replay();
    press(&mut app, KeyCode::Home);
    step_until(&mut app, |k| {
        matches!(
            k,
            EventKind::WsFrame {
                masked: true,
                opcode: 1,
                len: 3,
                ..
            }
        )
    });
    let items = app.timeline_items().to_vec();
    let last_two: Vec<_> = items.iter().rev().skip(1).take(2).map(|i| i.kind).collect();
    assert_eq!(last_two, vec![ItemKind::Violation, ItemKind::Event]);
    let s = screen(&mut app, 120, 40);
    assert!(s.contains("⚠ masked_server_frame"), "{s}");
    // The frame's detail names the rule too.
    assert!(s.contains("RFC 6455 5.1"), "{s}");
    // And the violation line can be selected for its own detail.
    press(&mut app, KeyCode::Down);
    assert_eq!(kind_of(&app, app.selected_event()), "violation");
    press(&mut app, KeyCode::Right);
    assert_eq!(kind_of(&app, app.selected_event()), "ws_message");
    press(&mut app, KeyCode::Up);
    assert_eq!(kind_of(&app, app.selected_event()), "violation");
    insta::assert_snapshot!("violation_120x40", screen(&mut app, 120, 40));
}

#[test]
fn tab_jumps_phase_by_phase() {
    let mut app = replay();
    press(&mut app, KeyCode::Home);
    let mut seen = Vec::new();
    for _ in 0..8 {
        press(&mut app, KeyCode::Tab);
        let ev = app.selected_event().map(|i| app.store().event(i).unwrap());
        seen.push(ev.map(|e| (e.kind.name(), wsscope::analysis::Phase::of(&e.kind))));
    }
    use wsscope::analysis::Phase as P;
    assert_eq!(
        seen,
        [
            Some(("conn_open", P::TcpHandshake)),
            Some(("http_request", P::Http)),
            Some(("ws_handshake", P::Accept)),
            Some(("ws_frame", P::Data)),
            Some(("ws_frame", P::Heartbeat)),
            Some(("ws_frame", P::Data)),
            Some(("ws_frame", P::Close)),
            Some(("tcp_teardown", P::Teardown)),
        ]
    );
    // Back from the teardown: the first close frame, then the data before it.
    press(&mut app, KeyCode::BackTab);
    let sel = app.selected_event().unwrap();
    assert!(matches!(
        app.store().event(sel).unwrap().kind,
        EventKind::WsFrame { opcode: 8, .. }
    ));
    press(&mut app, KeyCode::BackTab);
    let sel = app.selected_event().unwrap();
    assert!(matches!(
        app.store().event(sel).unwrap().kind,
        EventKind::WsFrame { opcode: 1, .. }
    ));
    press(&mut app, KeyCode::End);
    assert_eq!(app.store().revealed, app.store().len());
    // With everything shown, Tab moves the selection between headers.
    keys(&mut app, &[KeyCode::Home]);
    press(&mut app, KeyCode::End);
    for _ in 0..30 {
        press(&mut app, KeyCode::Up);
    }
    assert_eq!(kind_of(&app, app.selected_event()), "conn_open");
    press(&mut app, KeyCode::Tab);
    assert_eq!(kind_of(&app, app.selected_event()), "http_request");
}

#[test]
fn handshake_detail_has_the_checklist_and_the_accept_steps() {
    let mut app = replay();
    press(&mut app, KeyCode::End);
    for _ in 0..40 {
        if kind_of(&app, app.selected_event()) == "ws_handshake" {
            break;
        }
        press(&mut app, KeyCode::Up);
    }
    assert_eq!(kind_of(&app, app.selected_event()), "ws_handshake");
    press(&mut app, KeyCode::Char('z'));
    let s = screen(&mut app, 120, 40);
    for want in [
        "✓ method is GET",
        "✓ Sec-WebSocket-Version: 13",
        "✓ status is 101 Switching Protocols",
        "1 key     dGhlIHNhbXBsZSBub25jZQ==",
        "2 + GUID  258EAFA5-E914-47DA-95CA-C5AB0DC85B11",
        "3 SHA-1   b37a4f2cc0624f1690f64606cf385945b2bec4ea",
        "4 base64  s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
    ] {
        assert!(s.contains(want), "missing {want:?}\n{s}");
    }
    insta::assert_snapshot!("handshake_zoom_120x40", s);
}

#[test]
fn frame_detail_has_the_bits_the_xor_and_the_hex() {
    let mut app = replay();
    press(&mut app, KeyCode::Home);
    step_until(&mut app, |k| {
        matches!(
            k,
            EventKind::WsFrame {
                opcode: 1,
                masked: true,
                ..
            }
        )
    });
    press(&mut app, KeyCode::Char('z'));
    let s = screen(&mut app, 80, 40);
    for want in [
        "|1|0|0|0|0 0 0 1|1|0 0 0 0 1 0 1|",
        "wire  7f 9f 4d 51 58",
        "key   37 fa 21 3d 37",
        "data  48 65 6c 6c 6f",
        "text \"Hello\"",
        "0000  81 85 37 fa 21 3d 7f 9f  4d 51 58",
    ] {
        assert!(s.contains(want), "missing {want:?}\n{s}");
    }
    insta::assert_snapshot!("frame_zoom_80x40", s);
    // At 80x24 the detail scrolls.
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.focus(), Focus::Detail);
    keys(&mut app, &[KeyCode::Down; 12]);
    insta::assert_snapshot!("frame_zoom_scrolled_80x24", screen(&mut app, 80, 24));
}

#[test]
fn close_detail_explains_the_code() {
    let mut app = replay();
    press(&mut app, KeyCode::Home);
    step_until(&mut app, |k| matches!(k, EventKind::WsClose { .. }));
    let s = screen(&mut app, 160, 50);
    // The teardown is not on screen yet: the story says it comes later.
    press(&mut app, KeyCode::Char('z'));
    let zoomed = screen(&mut app, 160, 50);
    assert!(zoomed.contains("It comes later in the capture"), "{zoomed}");
    // Step through it, then select the close again.
    keys(&mut app, &[KeyCode::Right; 4]);
    for _ in 0..4 {
        press(&mut app, KeyCode::Up);
    }
    assert_eq!(kind_of(&app, app.selected_event()), "ws_close");
    let zoomed = screen(&mut app, 160, 50);
    press(&mut app, KeyCode::Char('z'));
    for want in [
        "1. active close: the client sends a close frame, code 1000 (Normal Closure",
        "2. passive close: the server answers with its own close frame 20.000 ms later",
        "not a four-way exchange",
        "the server sends FIN",
        "the client acknowledges the FIN (ACK)",
        "the client sends FIN",
        "the server acknowledges the FIN (ACK)",
        "both FINs sent and acknowledged: the four-way teardown",
    ] {
        assert!(zoomed.contains(want), "missing {want:?}\n{zoomed}");
    }
    let wide = screen(&mut app, 220, 50);
    assert!(wide
        .lines()
        .next()
        .is_some_and(|l| l.contains("Timeline #1")));
    insta::assert_snapshot!("close_160x50", s);
}

#[test]
fn help_lists_every_key() {
    let mut app = replay();
    press(&mut app, KeyCode::Char('?'));
    assert!(app.help_open());
    let s = screen(&mut app, 80, 24);
    for (k, _) in super::help::KEYS {
        assert!(s.contains(k), "help misses {k}");
    }
    insta::assert_snapshot!("help_80x24", s);
    // Keys other than ?/Esc/q do nothing while help is open.
    press(&mut app, KeyCode::Char('+'));
    assert_eq!(app.speed(), 1.0);
    press(&mut app, KeyCode::Esc);
    assert!(!app.help_open());
}

#[test]
fn filter_narrows_connections_and_events() {
    let mut app = replay();
    press(&mut app, KeyCode::End);
    press(&mut app, KeyCode::Char('/'));
    typed(&mut app, "ping");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.filter(), "ping");
    assert_eq!(app.selected_conn(), Some(1));
    let items = app.timeline_items().to_vec();
    let shown: Vec<_> = items
        .iter()
        .filter(|i| i.kind == ItemKind::Event)
        .map(|i| app.store().event(i.ev).unwrap().kind.name())
        .collect();
    assert_eq!(shown, ["ws_frame", "ws_frame"]);
    insta::assert_snapshot!("filter_ping_120x40", screen(&mut app, 120, 40));
    // A filter on an address keeps that connection whole.
    press(&mut app, KeyCode::Char('/'));
    keys(&mut app, &[KeyCode::Backspace; 4]);
    typed(&mut app, ":50000");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.selected_conn(), Some(0));
    assert!(app.timeline_items().len() > 8);
    // Esc in the filter prompt clears it.
    press(&mut app, KeyCode::Char('/'));
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.filter(), "");
    // Nothing matching: empty, no panic.
    press(&mut app, KeyCode::Char('/'));
    typed(&mut app, "no such thing");
    let s = screen(&mut app, 80, 24);
    assert!(s.contains("Connections (0 of 2)"), "{s}");
}

#[test]
fn connection_list_moves_and_mouse_selects() {
    let mut app = replay();
    press(&mut app, KeyCode::End);
    let _ = screen(&mut app, 120, 50);
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.focus(), Focus::Connections);
    press(&mut app, KeyCode::Up);
    assert_eq!(app.selected_conn(), Some(0));
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(app.selected_conn(), Some(1));
    // Click the first row of the list (border at y=0, rows from y=1).
    let click = |x, y| {
        Msg::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: x,
            row: y,
            modifiers: KeyModifiers::NONE,
        })
    };
    app.update(click(10, 1));
    assert_eq!(app.selected_conn(), Some(0));
    let _ = screen(&mut app, 120, 50);
    app.update(click(10, 2));
    assert_eq!(app.selected_conn(), Some(1));
    // Click the third line of the timeline body (after the column header).
    let s = screen(&mut app, 120, 50);
    let tl_top = s.lines().position(|l| l.contains("Timeline #1")).unwrap() as u16;
    app.update(click(20, tl_top + 1 + 1 + 2));
    assert_eq!(app.focus(), Focus::Timeline);
    assert_eq!(kind_of(&app, app.selected_event()), "tcp_handshake");
    // The wheel moves the selection.
    app.update(Msg::Mouse(MouseEvent {
        kind: MouseEventKind::ScrollDown,
        column: 20,
        row: tl_top + 3,
        modifiers: KeyModifiers::NONE,
    }));
    assert_eq!(kind_of(&app, app.selected_event()), "tcp_handshake");
    app.update(Msg::Mouse(MouseEvent {
        kind: MouseEventKind::ScrollDown,
        column: 20,
        row: tl_top + 3,
        modifiers: KeyModifiers::NONE,
    }));
    assert_eq!(kind_of(&app, app.selected_event()), "tcp_handshake");
    app.update(Msg::Mouse(MouseEvent {
        kind: MouseEventKind::ScrollDown,
        column: 20,
        row: tl_top + 3,
        modifiers: KeyModifiers::NONE,
    }));
    assert_eq!(kind_of(&app, app.selected_event()), "http_request");
}

#[test]
fn resizes_from_80x24_to_120x40_and_below() {
    let mut app = replay();
    press(&mut app, KeyCode::End);
    let small = screen(&mut app, 80, 24);
    assert_eq!(small.lines().count(), 24);
    insta::assert_snapshot!("end_80x24", small);
    app.update(Msg::Resize(120, 40));
    insta::assert_snapshot!("end_120x40", screen(&mut app, 120, 40));
    // Absurdly small terminals draw what fits and never panic.
    for (w, h) in [(1, 1), (10, 3), (20, 5), (40, 10), (79, 23), (250, 80)] {
        let _ = screen(&mut app, w, h);
        press(&mut app, KeyCode::Char('?'));
        let _ = screen(&mut app, w, h);
        press(&mut app, KeyCode::Char('?'));
    }
}

#[test]
fn live_follows_the_newest_and_pausing_loses_nothing() {
    let mut app = App::new(opts(true));
    app.update(Msg::Tick(Duration::ZERO));
    let waiting = screen(&mut app, 80, 24);
    assert!(waiting.contains("Waiting for packets on eth0"), "{waiting}");
    let all = session();
    let (first, rest) = all.split_at(14);
    app.update(Msg::Feed(Feed::Events(first.to_vec())));
    app.update(Msg::Feed(Feed::Progress {
        packets: 11,
        bytes_read: 0,
        total_bytes: None,
    }));
    app.update(Msg::Feed(Feed::Dropped(3)));
    assert_eq!(app.selected_conn(), Some(1));
    assert_eq!(app.selected_event(), Some(13), "follows the newest event");
    // Pause the view: events keep arriving but the view stays.
    press(&mut app, KeyCode::Char(' '));
    app.update(Msg::Feed(Feed::Events(rest.to_vec())));
    app.update(Msg::Tick(Duration::from_millis(1500)));
    app.update(Msg::Feed(Feed::Progress {
        packets: 23,
        bytes_read: 0,
        total_bytes: None,
    }));
    app.update(Msg::Tick(Duration::from_millis(2500)));
    assert_eq!(app.store().len(), all.len());
    assert_eq!(app.store().revealed, 14);
    assert_eq!(app.selected_event(), Some(13));
    insta::assert_snapshot!("live_paused_80x24", screen(&mut app, 80, 24));
    press(&mut app, KeyCode::Char(' '));
    assert_eq!(app.store().revealed, all.len());
    assert_eq!(kind_of(&app, app.selected_event()), "tcp_teardown");
    // Moving up stops following; End follows again.
    press(&mut app, KeyCode::Up);
    let held = app.selected_event();
    app.update(Msg::Feed(Feed::Warning(
        "snaplen 96 cuts frames short".into(),
    )));
    assert_eq!(app.selected_event(), held);
    press(&mut app, KeyCode::End);
    assert_eq!(kind_of(&app, app.selected_event()), "tcp_teardown");
    // In live mode ←/→ move the selection, not time.
    press(&mut app, KeyCode::Left);
    assert_eq!(app.store().revealed, all.len());
    assert_eq!(kind_of(&app, app.selected_event()), "tcp_teardown");
    insta::assert_snapshot!("live_120x40", screen(&mut app, 120, 40));
}

#[test]
fn indexing_shows_progress_before_any_event() {
    let mut app = App::new(opts(false));
    app.update(Msg::Feed(Feed::Progress {
        packets: 1000,
        bytes_read: 25 << 20,
        total_bytes: Some(100 << 20),
    }));
    app.update(Msg::Tick(Duration::ZERO));
    let s = screen(&mut app, 80, 24);
    assert!(s.contains("Reading chat.pcap"), "{s}");
    assert!(s.contains("25%"), "{s}");
    insta::assert_snapshot!("indexing_80x24", s);
}

#[test]
fn wire_text_cannot_reach_the_terminal_raw() {
    let mut events = session();
    for e in &mut events {
        if let EventKind::HttpRequest {
            target, headers, ..
        } = &mut e.kind
        {
            // Not made safe upstream, on purpose: the TUI must still escape it.
            target.push_str("\x1b[2J\u{202e}");
            headers.push(("X-Evil".into(), "\x07\x1b]0;pwned\x07".into()));
        }
    }
    let mut app = App::new(opts(false));
    app.update(Msg::Feed(Feed::Events(events)));
    app.update(Msg::Feed(Feed::Warning("bad\x1bwarning".into())));
    press(&mut app, KeyCode::End);
    for _ in 0..30 {
        if kind_of(&app, app.selected_event()) == "http_request" {
            break;
        }
        press(&mut app, KeyCode::Up);
    }
    let mut t = terminal(120, 40);
    t.draw(|f| app.render(f)).expect("draw");
    let buf = t.backend().buffer();
    for cell in buf.content() {
        assert!(
            !cell
                .symbol()
                .chars()
                .any(|c| c.is_control() || c == '\u{202e}'),
            "raw control character on screen"
        );
    }
    let s = t.backend().to_string();
    assert!(s.contains("\\x1b[2J"), "{s}");
}

#[test]
fn no_color_uses_no_colours() {
    let mut o = opts(false);
    o.no_color = true;
    let mut app = App::new(o);
    app.update(Msg::Feed(Feed::Events(session())));
    press(&mut app, KeyCode::End);
    let mut t = terminal(120, 40);
    t.draw(|f| app.render(f)).expect("draw");
    assert!(t
        .backend()
        .buffer()
        .content()
        .iter()
        .all(|c| c.fg == Color::Reset && c.bg == Color::Reset));
    // With colours, arrows are coloured by direction.
    let mut app = replay();
    press(&mut app, KeyCode::End);
    let mut t = terminal(120, 40);
    t.draw(|f| app.render(f)).expect("draw");
    assert!(t
        .backend()
        .buffer()
        .content()
        .iter()
        .any(|c| c.fg == Color::Cyan));
}

#[test]
fn quit_keys() {
    for k in [
        KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE),
        KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL),
    ] {
        let mut app = replay();
        app.update(Msg::Key(k));
        assert!(app.should_quit());
    }
}

#[test]
fn badges_follow_the_replay() {
    let mut app = replay();
    press(&mut app, KeyCode::End);
    let c = app.store().conn(1).unwrap();
    let s = &c.stats;
    assert_eq!(
        (
            s.upgrade.as_ref().map(|u| u.ok),
            s.frames.total(),
            s.messages,
            s.pings,
            s.close.as_ref().and_then(|c| c.code),
            s.violations
        ),
        (Some(true), 8, 4, 1, Some(1000), 1)
    );
    assert!(c.progress.state.closed);
    assert_eq!(
        c.progress.state.phase,
        Some(wsscope::analysis::Phase::Teardown)
    );
    let theme = super::theme::Theme::new(true);
    let en = wsscope::output::Lang::En;
    assert_eq!(
        super::connections::row_text(c, en, &theme),
        "#1 192.0.2.10:51000 → 198.51.100.7:8080 closed WS✓ ⚠1 close 1000 4msg 8fr 1ping"
    );
    // Stepping back takes the badges back, and a replay never tells the
    // upgrade's outcome before its response is on screen.
    press(&mut app, KeyCode::Home);
    let row = |app: &App| super::connections::row_text(app.store().conn(1).unwrap(), en, &theme);
    assert!(row(&app).ends_with("not yet "), "{}", row(&app));
    step_until(&mut app, |k| matches!(k, EventKind::HttpRequest { .. }));
    assert!(row(&app).ends_with("HTTP awaiting 101"), "{}", row(&app));
    step_until(&mut app, |k| matches!(k, EventKind::WsMessage { .. }));
    let c = app.store().conn(1).unwrap();
    let s = &c.stats;
    assert_eq!(
        (
            s.frames.total(),
            s.messages,
            s.close.as_ref().and_then(|c| c.code)
        ),
        (1, 1, None)
    );
    assert_eq!(c.progress.state.phase, Some(wsscope::analysis::Phase::Data));
}

#[test]
fn events_of_unknown_connections_and_odd_order_do_not_panic() {
    let mut events = session();
    events.reverse();
    events.push(fixtures::ev(
        99,
        1,
        -5.0,
        None,
        EventKind::Gap { bytes: 1 << 40 },
    ));
    let mut app = App::new(opts(false));
    app.update(Msg::Feed(Feed::Events(events)));
    app.update(Msg::Feed(Feed::Error("capture failed".into())));
    for code in [
        KeyCode::End,
        KeyCode::Tab,
        KeyCode::BackTab,
        KeyCode::Left,
        KeyCode::Right,
        KeyCode::Home,
        KeyCode::PageDown,
        KeyCode::PageUp,
    ] {
        press(&mut app, code);
        let _ = screen(&mut app, 80, 24);
    }
    // Connections stay in order of first packet.
    let pkts: Vec<u64> = app.store().conns.iter().map(|c| c.first_pkt).collect();
    let mut sorted = pkts.clone();
    sorted.sort();
    assert_eq!(pkts, sorted);
}

#[test]
fn plain_http_gets_no_upgrade_checklist() {
    let mut app = replay();
    press(&mut app, KeyCode::End);
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Up);
    assert_eq!(app.selected_conn(), Some(0));
    press(&mut app, KeyCode::Enter);
    for _ in 0..10 {
        if kind_of(&app, app.selected_event()) == "http_request" {
            break;
        }
        press(&mut app, KeyCode::Up);
    }
    let s = screen(&mut app, 160, 50);
    assert!(s.contains("does not ask for an Upgrade"), "{s}");
    assert!(!s.contains("Upgrade checklist"), "{s}");
}

#[test]
fn a_large_capture_stays_responsive() {
    // 40 000 connections' worth of events would be slow to build here; one
    // long connection of 100 000 frames is the hard case for the timeline.
    let mut events = session();
    events.truncate(17);
    for n in 0..100_000u64 {
        let mut e = events[13].clone();
        e.pkt = 100 + n;
        e.ts.0 += 1000 * n as i64;
        events.push(e);
    }
    let mut app = App::new(opts(false));
    let t0 = std::time::Instant::now();
    app.update(Msg::Feed(Feed::Events(events)));
    press(&mut app, KeyCode::End);
    let _ = screen(&mut app, 120, 40);
    press(&mut app, KeyCode::Left);
    let _ = screen(&mut app, 120, 40);
    for _ in 0..20 {
        press(&mut app, KeyCode::Up);
        app.update(Msg::Tick(Duration::from_millis(50)));
        let _ = screen(&mut app, 120, 40);
    }
    // Generous: a debug build on a shared machine.
    assert!(t0.elapsed() < Duration::from_secs(20), "{:?}", t0.elapsed());
    eprintln!("large capture: {:?}", t0.elapsed());
}

#[test]
fn selection_is_reversed_and_arrows_are_coloured_by_direction() {
    use ratatui::style::Modifier;
    let mut app = replay();
    keys(
        &mut app,
        &[
            KeyCode::Home,
            KeyCode::Right,
            KeyCode::Right,
            KeyCode::Right,
        ],
    );
    let mut t = terminal(80, 24);
    t.draw(|f| app.render(f)).expect("draw");
    let buf = t.backend().buffer().clone();
    let text = t.backend().to_string();
    let row_of = |needle: &str| {
        text.lines()
            .position(|l| l.contains(needle))
            .expect("row on screen") as u16
    };
    let cell_at = |y: u16, needle: &str| {
        let line: String = (0..80).map(|x| buf[(x, y)].symbol().to_string()).collect();
        let col = line.find(needle).expect("needle");
        // Columns are characters here (every symbol is one column wide).
        let x = line[..col].chars().count() as u16;
        buf[(x, y)].clone()
    };
    let syn = cell_at(row_of("─ SYN ─"), "SYN");
    assert_eq!(syn.fg, Color::Cyan);
    assert!(!syn.modifier.contains(Modifier::REVERSED));
    let syn_ack = cell_at(row_of("SYN-ACK ─"), "SYN-ACK");
    assert_eq!(syn_ack.fg, Color::Magenta);
    assert!(
        syn_ack.modifier.contains(Modifier::REVERSED),
        "the selection"
    );
    let header = cell_at(row_of("── TCP three-way handshake"), "TCP");
    assert!(header.modifier.contains(Modifier::BOLD));
}

#[test]
fn the_growing_timeline_equals_a_fresh_build() {
    let fresh = |app: &mut App| {
        let id = app.selected_conn().expect("a connection");
        let store = app.store();
        let conn = store.conn(id).expect("known");
        super::timeline::build(store, conn, None)
    };
    // Live, one event per message.
    let mut app = App::new(opts(true));
    for e in session() {
        app.update(Msg::Feed(Feed::Events(vec![e])));
        let want = fresh(&mut app);
        assert_eq!(app.timeline_items(), want.as_slice());
    }
    // Replay, stepping both ways and jumping by phase.
    let mut app = replay();
    let script = [
        KeyCode::Home,
        KeyCode::Right,
        KeyCode::Right,
        KeyCode::Tab,
        KeyCode::Left,
        KeyCode::Tab,
        KeyCode::Tab,
        KeyCode::BackTab,
        KeyCode::Right,
        KeyCode::End,
        KeyCode::Left,
        KeyCode::Left,
        KeyCode::Home,
        KeyCode::Char(' '),
    ];
    for k in script {
        press(&mut app, k);
        let want = fresh(&mut app);
        assert_eq!(app.timeline_items(), want.as_slice(), "after {k:?}");
    }
    for ms in (0..3000).step_by(70) {
        app.update(Msg::Tick(Duration::from_millis(ms)));
        let want = fresh(&mut app);
        assert_eq!(app.timeline_items(), want.as_slice(), "at {ms} ms");
    }
}

#[test]
fn end_sticks_while_the_file_is_still_being_read() {
    let all = session();
    // The first part holds the WebSocket connection's request: the replay
    // has opened on it.
    let (first, rest) = all.split_at(12);
    let mut app = App::new(opts(false));
    app.update(Msg::Feed(Feed::Events(first.to_vec())));
    app.update(Msg::Tick(Duration::ZERO));
    press(&mut app, KeyCode::End);
    assert_eq!(app.store().revealed, 12);
    app.update(Msg::Feed(Feed::Events(rest.to_vec())));
    assert_eq!(app.store().revealed, all.len());
    // Without End, a paused replay shows nothing new.
    let mut app = App::new(opts(false));
    app.update(Msg::Feed(Feed::Events(first.to_vec())));
    assert!(!app.playing());
    let before = app.store().revealed;
    assert_eq!(
        before, 5,
        "opened on the WebSocket connection's first event"
    );
    app.update(Msg::Feed(Feed::Events(rest.to_vec())));
    assert_eq!(app.store().revealed, before);
}

#[test]
fn the_ping_badge_tells_the_heartbeat_as_the_summary_defines_it() {
    // The server pings at 0, 20, 40 and 50 s: gaps 20, 20, 10, median 20 s
    // (the latest gap, 10 s, is not the heartbeat); the client once in
    // between (another side's ping is not the same heartbeat).
    let s2c = Some(Direction::S2C);
    let ping = |pkt, ms, dir| {
        fixtures::ev(
            7,
            pkt,
            ms,
            dir,
            fixtures::frame(9, true, None, 0, b"", None, None),
        )
    };
    let events = vec![
        ping(1, 0.0, s2c),
        ping(2, 5_000.0, Some(Direction::C2S)),
        ping(3, 20_000.0, s2c),
        ping(4, 40_000.0, s2c),
        ping(5, 50_000.0, s2c),
    ];
    let mut summary = wsscope::analysis::Summary::new(7, events[0].ts);
    for e in &events {
        summary.add(e);
    }
    let want = summary.close(&Default::default());
    let mut store = super::store::Store::default();
    store.push(events);
    store.reveal_to(usize::MAX);
    let c = store.conn(7).unwrap();
    assert_eq!(c.stats.pings, 5);
    assert_eq!(c.stats.heartbeat_ms, Some(20_000.0));
    assert_eq!(c.stats.heartbeat_ms, want.heartbeat_ms);
    let theme = super::theme::Theme::new(true);
    let badges: Vec<String> = super::connections::badges(c, wsscope::output::Lang::En, &theme)
        .into_iter()
        .map(|(b, _)| b)
        .collect();
    assert!(badges.contains(&"5ping/20.00s".to_string()), "{badges:?}");
}

#[test]
fn the_checklist_rows_are_the_events_checks() {
    let mut app = replay();
    press(&mut app, KeyCode::End);
    for _ in 0..40 {
        if kind_of(&app, app.selected_event()) == "ws_handshake" {
            break;
        }
        press(&mut app, KeyCode::Up);
    }
    let sel = app.selected_event().unwrap();
    let EventKind::WsHandshake { checks, .. } = &app.store().event(sel).unwrap().kind else {
        panic!("not the handshake");
    };
    let checks = checks.clone();
    assert!(checks.len() >= 10, "{checks:?}");
    press(&mut app, KeyCode::Char('z'));
    let s = screen(&mut app, 160, 80);
    let rows: Vec<&str> = s
        .lines()
        .map(|l| l.trim_matches('"').trim_matches('│').trim_start())
        .skip_while(|l| !l.starts_with("Upgrade checklist"))
        .take_while(|l| !l.starts_with("Sec-WebSocket-Accept derivation"))
        .filter(|l| l.starts_with("✓ ") || l.starts_with("✗ "))
        .collect();
    // One row per check, in order, with its verdict and its rule.
    assert_eq!(rows.len(), checks.len(), "{s}");
    for (row, c) in rows.iter().zip(&checks) {
        let tick = if c.ok { "✓" } else { "✗" };
        assert!(
            row.starts_with(&format!("{tick} {}", c.name)),
            "{row} vs {c:?}"
        );
        assert!(row.trim_end().ends_with(c.rule), "{row} vs {c:?}");
    }
    // A broken check is shown broken: the same event with one check failed.
    let mut events = session();
    for e in events.iter_mut() {
        if let EventKind::WsHandshake { checks, .. } = &mut e.kind {
            checks[0].ok = false;
        }
    }
    let mut app = App::new(opts(false));
    app.update(Msg::Feed(Feed::Events(events)));
    app.update(Msg::Feed(Feed::Done));
    press(&mut app, KeyCode::End);
    for _ in 0..40 {
        if kind_of(&app, app.selected_event()) == "ws_handshake" {
            break;
        }
        press(&mut app, KeyCode::Up);
    }
    press(&mut app, KeyCode::Char('z'));
    let s = screen(&mut app, 160, 80);
    assert!(s.contains(&format!("✗ {}", checks[0].name)), "{s}");
}

#[test]
fn times_count_from_the_capture_s_first_packet() {
    let mut app = App::new(opts(false));
    // The capture's first packet came a second before the first event.
    app.update(Msg::Feed(Feed::FirstPacket(wsscope::types::Timestamp(
        fixtures::BASE - 1_000_000,
    ))));
    app.update(Msg::Feed(Feed::Events(session())));
    app.update(Msg::Feed(Feed::Done));
    assert_eq!(app.store().origin(), Some(fixtures::BASE - 1_000_000));
    // Opened on connection 1's first event, at 100 ms: 1.100 s into the capture.
    let s = screen(&mut app, 120, 40);
    assert!(s.contains("t=1.100s"), "{s}");
    assert!(s.contains("1.100s/3.500s"), "{s}");
}

#[test]
fn e_toggles_the_explanation_and_l_switches_the_language() {
    let mut app = replay();
    assert!(app.explain_open(), "on by default for a replay");
    step_until(&mut app, |k| matches!(k, EventKind::TcpHandshake { .. }));
    let s = screen(&mut app, 120, 40);
    assert!(s.contains("Explanation"), "{s}");
    assert!(s.contains("TCP three-way handshake: the client"), "{s}");
    press(&mut app, KeyCode::Char('e'));
    assert!(!app.explain_open());
    assert!(!screen(&mut app, 120, 40).contains("Explanation"));
    press(&mut app, KeyCode::Char('e'));
    press(&mut app, KeyCode::Char('L'));
    assert_eq!(app.lang(), wsscope::output::Lang::Zh);
    let s = screen(&mut app, 120, 40);
    for want in [
        "讲解",
        "TCP 三次握手：客户端",
        "连接",
        "时间线",
        "详情",
        "? 帮助",
    ] {
        assert!(s.contains(want), "missing {want:?}\n{s}");
    }
    insta::assert_snapshot!("zh_syn_120x40", s);
    press(&mut app, KeyCode::Char('L'));
    assert!(screen(&mut app, 120, 40).contains("Timeline #1"));
    // Live: the pane starts hidden.
    let app = App::new(opts(true));
    assert!(!app.explain_open());
}

/// A warning and an error come in both languages; the message line speaks the view's,
/// and `L` switches what was already received too.
#[test]
fn warnings_and_errors_follow_the_language() {
    use wsscope::analysis::Warning;
    use wsscope::output::warning_text;
    let mut app = App::new(opts(false));
    app.update(Msg::Feed(Feed::Events(session())));
    let snap = Warning::SnapLength {
        pkt: 4,
        kept: 42,
        wire: 187,
    };
    app.update(Msg::Feed(Feed::Warning(Said::new(|l| {
        warning_text(l, &snap)
    }))));
    let s = screen(&mut app, 200, 30);
    assert!(
        s.contains("⚠ packet 4 keeps 42 of its 187 TCP payload bytes"),
        "{s}"
    );
    press(&mut app, KeyCode::Char('L'));
    let s = screen(&mut app, 200, 30);
    assert!(s.contains("⚠ 第 4 个包的 TCP 载荷有 187 字节"), "{s}");
    assert!(!s.contains("payload bytes"), "{s}");
    app.update(Msg::Feed(Feed::Error(Said::new(|l| match l {
        wsscope::output::Lang::En => "the capture stopped".into(),
        wsscope::output::Lang::Zh => "抓包中止".into(),
    }))));
    assert!(screen(&mut app, 200, 30).contains("✗ 抓包中止"));
    press(&mut app, KeyCode::Char('L'));
    assert!(screen(&mut app, 200, 30).contains("✗ the capture stopped"));
}

#[test]
fn help_lists_the_explanation_and_language_keys() {
    let mut app = replay();
    press(&mut app, KeyCode::Char('?'));
    let s = screen(&mut app, 80, 30);
    assert!(s.contains(" e "), "{s}");
    assert!(s.contains("English / 中文"), "{s}");
}

#[test]
fn the_filter_matches_what_the_rows_show() {
    let mut app = replay();
    press(&mut app, KeyCode::End);
    press(&mut app, KeyCode::Char('/'));
    typed(&mut app, "close 1000");
    press(&mut app, KeyCode::Enter);
    let s = screen(&mut app, 120, 40);
    assert!(s.contains("Connections (1 of 2)"), "{s}");
    assert_eq!(app.selected_conn(), Some(1));
    // Only the row matches (no event's label says "close 1000"): the
    // timeline stays whole.
    assert!(app.timeline_items().len() > 20);
    // The phase word too.
    press(&mut app, KeyCode::Char('/'));
    keys(&mut app, &[KeyCode::Backspace; 10]);
    typed(&mut app, "ws✓");
    press(&mut app, KeyCode::Enter);
    assert!(screen(&mut app, 120, 40).contains("Connections (1 of 2)"));
    // In Chinese, the Chinese badge.
    press(&mut app, KeyCode::Char('L'));
    press(&mut app, KeyCode::Char('/'));
    keys(&mut app, &[KeyCode::Backspace; 10]);
    typed(&mut app, "关闭 1000");
    press(&mut app, KeyCode::Enter);
    assert!(screen(&mut app, 120, 40).contains("连接（1/2）"));
}

#[test]
fn the_status_bar_fits_80_columns_with_the_clock_and_help() {
    let theme = super::theme::Theme::new(true);
    for lang in [wsscope::output::Lang::En, wsscope::output::Lang::Zh] {
        for live in [false, true] {
            let info = super::status::Info {
                source: "/a/very/long/directory/name/that/goes/on/and/on/capture-with-a-long-name.pcapng".into(),
                live,
                packets: 123_456_789,
                conns: 65_536,
                playing: false,
                speed: 1.0 / 64.0,
                position: 3_600_000_000,
                duration: 7_200_000_000,
                rate: Some(12_345.0),
                dropped: 42,
                paused_new: None,
                progress: Some(0.5),
                done: false,
                overflow: 7,
                at_end: false,
            };
            for w in [80usize, 60, 40] {
                let parts = super::status::layout(&info, w, lang, &theme);
                let text: String = parts.iter().map(|(t, _)| t.as_str()).collect();
                assert!(super::fmt::width(&text) <= w, "{w} {text:?}");
                let help = if lang == wsscope::output::Lang::En {
                    "? help"
                } else {
                    "? 帮助"
                };
                assert!(text.ends_with(&format!("{help} ")), "{text:?}");
                if !live {
                    assert!(text.contains("60:00.000/120:00.000"), "{text:?}");
                }
            }
        }
    }
}

#[test]
fn every_catalogue_key_the_view_uses_exists() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let yml = std::fs::read_to_string(root.join("locales/tui.yml")).expect("tui.yml");
    let defined: std::collections::BTreeSet<&str> = yml
        .lines()
        .filter(|l| l.starts_with("tui."))
        .map(|l| l.trim_end_matches(':'))
        .collect();
    let mut used = 0;
    for entry in std::fs::read_dir(root.join("src/tui")).expect("src/tui") {
        let path = entry.expect("entry").path();
        let file = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if path.extension().map_or(true, |e| e != "rs") || file.ends_with("tests.rs") {
            continue;
        }
        let src = std::fs::read_to_string(&path).expect("source");
        for piece in src.split("\"tui.").skip(1) {
            let key = format!("tui.{}", piece.split('"').next().unwrap_or_default());
            used += 1;
            assert!(
                defined.contains(key.as_str()),
                "{}: {key} is not in locales/tui.yml",
                path.display()
            );
        }
    }
    assert!(used > 100, "{used}");
}
