//! The view of a replayed file from its index (issue 12): the producer reads
//! the capture as `wsscope view -r FILE` does, the view keeps the index and
//! decodes the connection on screen again from the file. Its screens are the
//! ones the whole events in memory give, a connection decoded again is
//! exactly its events of the first reading, and the index is small per event.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use wsscope::analysis::{Config, Event, EventKind, MessageBody};
use wsscope::output::select::Selection;
use wsscope::types::{Direction, Timestamp};

use super::app::{App, Msg};
use super::reload::{FileLoader, SharedSpans};
use super::store::{Loader, Store};
use super::{Feed, ViewOptions};

/// What the producer hands the view for the capture at `path`, and the
/// loader the view gets.
pub(super) fn produce(path: &Path) -> (Vec<Feed>, FileLoader) {
    produce_with(path, None)
}

/// [`produce`] with the key log at `keylog`.
fn produce_with(path: &Path, keylog: Option<&Path>) -> (Vec<Feed>, FileLoader) {
    let p = path.to_str().expect("utf-8 path").to_string();
    let source = crate::capture::Source::open(&crate::capture::SourceSpec::File(p.clone()), None)
        .expect("open capture");
    let keylog = keylog.map(|k| k.to_str().expect("utf-8 path"));
    let keys = crate::keys::Keys::load(keylog, Some(&p), false).expect("keys");
    let mut cfg = Config {
        keys: keys.shared(),
        ..Config::default()
    };
    cfg.ws.keep_payload = true;
    let spans = SharedSpans::default();
    let loader = FileLoader {
        path: p,
        filter: None,
        linktype: source.linktype(),
        cfg: cfg.clone(),
        conns: Vec::new(),
        grep: None,
        spans: spans.clone(),
    };
    assert!(
        source.position().is_some(),
        "{}: not indexed",
        path.display()
    );
    let size = std::fs::metadata(path).map(|m| m.len()).ok();
    let (tx, rx) = mpsc::channel();
    let tx = super::FeedTx::Unbounded(tx);
    crate::produce(
        source,
        cfg,
        keys,
        None,
        size,
        Selection::new(&[], None),
        Some(spans),
        &tx,
    );
    drop(tx);
    (rx.iter().collect(), loader)
}

fn copy(f: &Feed) -> Feed {
    match f {
        Feed::FirstPacket(t) => Feed::FirstPacket(*t),
        Feed::Events(e) => Feed::Events(e.clone()),
        Feed::Totals(t) => Feed::Totals(t.clone()),
        Feed::Progress {
            packets,
            bytes_read,
            total_bytes,
        } => Feed::Progress {
            packets: *packets,
            bytes_read: *bytes_read,
            total_bytes: *total_bytes,
        },
        Feed::Dropped(n) => Feed::Dropped(*n),
        Feed::Warning(w) => Feed::Warning(w.clone()),
        Feed::Done => Feed::Done,
        Feed::Error(e) => Feed::Error(e.clone()),
    }
}

fn opts(name: &str) -> ViewOptions {
    ViewOptions {
        source_label: name.to_string(),
        live: false,
        speed: 1.0,
        no_color: false,
        lang: wsscope::output::Lang::En,
    }
}

/// The view of `feeds`, with whole events in memory or (`loader`) from the index.
fn view(name: &str, feeds: &[Feed], loader: Option<FileLoader>) -> App {
    let mut app = match loader {
        Some(l) => App::with_loader(opts(name), Box::new(l)),
        None => App::new(opts(name)),
    };
    app.update(Msg::Tick(Duration::ZERO));
    for f in feeds {
        app.update(Msg::Feed(copy(f)));
    }
    app.update(Msg::Tick(Duration::ZERO));
    app
}

/// A capture in `captures/` opened from its index, as `wsscope FILE` does.
pub(super) fn open_indexed(name: &str, lang: wsscope::output::Lang) -> App {
    let path = captures().join(name);
    let (feeds, loader) = produce(&path);
    let mut app = App::with_loader(
        ViewOptions {
            source_label: format!("captures/{name}"),
            lang,
            ..opts(name)
        },
        Box::new(loader),
    );
    app.update(Msg::Tick(Duration::ZERO));
    for f in feeds {
        // The progress the tests' screens were taken with: the whole file read.
        let f = match f {
            Feed::Progress { packets, .. } => Feed::Progress {
                packets,
                bytes_read: 1,
                total_bytes: Some(1),
            },
            f => f,
        };
        app.update(Msg::Feed(f));
    }
    app.update(Msg::Tick(Duration::ZERO));
    app
}

fn captures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("captures")
}

/// The shared captures (`../shared/captures`; from a worktree in `wt/`, two up).
fn shared_captures() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    [
        root.join("../shared/captures"),
        root.join("../../shared/captures"),
    ]
    .into_iter()
    .find(|p| p.is_dir())
}

fn capture_files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    out.retain(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"));
    out.sort();
    out
}

fn press(app: &mut App, code: KeyCode) {
    app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn screen(app: &mut App) -> String {
    let mut t = Terminal::new(TestBackend::new(120, 40)).expect("test backend");
    t.draw(|f| app.render(f)).expect("draw");
    t.backend().to_string()
}

fn events_of(feeds: &[Feed]) -> Vec<Event> {
    feeds
        .iter()
        .filter_map(|f| match f {
            Feed::Events(e) => Some(e.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

fn json(e: &Event) -> String {
    serde_json::to_string(e).expect("json")
}

#[test]
fn a_connection_decoded_again_is_its_events_of_the_first_reading() {
    let mut files = capture_files(&captures());
    files.extend(
        shared_captures()
            .map(|d| capture_files(&d))
            .unwrap_or_default(),
    );
    let mut conns_checked = 0;
    for path in files {
        let (feeds, loader) = produce(&path);
        let events = events_of(&feeds);
        let mut ids: Vec<u64> = events.iter().map(|e| e.conn).collect();
        ids.sort_unstable();
        ids.dedup();
        for conn in ids {
            let want: Vec<String> = events.iter().filter(|e| e.conn == conn).map(json).collect();
            let got: Vec<String> = loader
                .decode(conn, usize::MAX)
                .unwrap_or_else(|e| panic!("{}: conn {conn}: {e:?}", path.display()))
                .iter()
                .map(json)
                .collect();
            assert_eq!(got, want, "{}: connection {conn}", path.display());
            // A part of it: its first events, decoded no further than needed.
            let half = want.len() / 2;
            let mut l = loader.clone();
            let part: Vec<String> = l
                .load(conn, 1.min(half), half)
                .expect("part")
                .iter()
                .map(json)
                .collect();
            assert_eq!(part, want.get(1.min(half)..half).unwrap_or(&[]));
            conns_checked += 1;
        }
    }
    assert!(
        conns_checked > 40,
        "only {conns_checked} connections checked"
    );
}

#[test]
fn the_index_gives_the_screens_the_whole_events_give() {
    let keys: &[&[KeyCode]] = &[
        &[],
        &[KeyCode::Right, KeyCode::Right, KeyCode::Right],
        &[KeyCode::Tab, KeyCode::Tab],
        &[KeyCode::End],
        &[KeyCode::Home, KeyCode::Tab],
        &[KeyCode::End, KeyCode::Up, KeyCode::Up, KeyCode::Enter],
        &[KeyCode::Esc, KeyCode::Esc, KeyCode::Down],
        &[
            KeyCode::Char('/'),
            KeyCode::Char('w'),
            KeyCode::Char('s'),
            KeyCode::Enter,
        ],
        &[KeyCode::Esc, KeyCode::Char('L'), KeyCode::End],
    ];
    let mut screens = 0;
    for path in capture_files(&captures()) {
        let name = path.display().to_string();
        let (feeds, loader) = produce(&path);
        let mut memory = view(&name, &feeds, None);
        let mut indexed = view(&name, &feeds, Some(loader));
        for (k, step) in keys.iter().enumerate() {
            for &code in *step {
                press(&mut memory, code);
                press(&mut indexed, code);
            }
            assert_eq!(
                screen(&mut indexed),
                screen(&mut memory),
                "{name}: after step {k} {step:?}"
            );
            screens += 1;
        }
        assert_eq!(indexed.store().load_error, None, "{name}");
    }
    assert!(screens > 100);
}

/// A loader that makes up a connection's frames (for the size of the index,
/// without a file).
struct Frames;

impl Loader for Frames {
    fn load(&mut self, conn: u64, from: usize, to: usize) -> Result<Vec<Event>, super::Said> {
        Ok((from..to).map(|k| frame(conn, k as u64)).collect())
    }
}

fn frame(conn: u64, k: u64) -> Event {
    Event {
        conn,
        pkt: k + 1,
        ts: Timestamp(1_000_000 + k as i64 * 10),
        dir: Some(if k % 2 == 0 {
            Direction::C2S
        } else {
            Direction::S2C
        }),
        stream: None,
        kind: if k % 3 == 2 {
            EventKind::WsMessage {
                kind: wsscope::analysis::MessageKind::Text,
                frames: 1,
                len: 40,
                wire_len: 40,
                compressed: false,
                preview: wsscope::analysis::MessagePreview::from_head(
                    b"a chat message of forty bytes, or so...",
                    wsscope::analysis::MessageKind::Text,
                    40,
                ),
                compressed_len: None,
                body: MessageBody::default(),
            }
        } else {
            EventKind::WsFrame {
                fin: true,
                rsv: 0,
                opcode: if k % 50 == 0 { 9 } else { 1 },
                opname: "text",
                masked: k % 2 == 0,
                mask_key: Some(wsscope::text::Hex::new(&[1, 2, 3, 4])),
                len: 40 + k % 7,
                header_len: 6,
                close_code: None,
                close_reason: None,
                payload_hex: wsscope::text::Hex::new(&[0x61; 40]),
                rtt_ms: None,
                mid_stream: false,
            }
        },
    }
}

#[test]
fn the_index_holds_a_few_bytes_per_event_and_no_whole_event() {
    assert_eq!(std::mem::size_of::<super::index::Rec>(), 24);
    let mut store = Store::with_loader(Box::new(Frames));
    let n = 300_000u64;
    let conns = 40;
    let mut batch = Vec::new();
    for k in 0..n {
        batch.push(frame(k % conns, k / conns));
        if batch.len() == 4096 {
            store.push(std::mem::take(&mut batch));
        }
    }
    store.push(batch);
    store.reveal_to(usize::MAX);
    assert_eq!(store.len(), n as usize);
    // No event is whole until the view asks for a connection's.
    assert!((0..store.len()).all(|i| store.event(i).is_none()));
    let per_event = store.heap_bytes() as f64 / n as f64;
    assert!(
        per_event <= 40.0,
        "{per_event:.1} bytes per event in the index"
    );
    // Asked for, a connection's events are there, at most MAX_LOADED of them.
    assert!(store.load((3, None), None));
    let c = store.conn(3).expect("conn 3");
    let first = *c.events.first().expect("events");
    let e = store.event(first).expect("decoded");
    assert_eq!((e.conn, e.pkt), (3, 1));
    assert!(store.loaded_len() <= super::store::MAX_LOADED);
    // The spans of the file's connections: a few bytes per connection.
    let spans = SharedSpans::default();
    {
        let mut s = spans.lock().expect("spans");
        let resume = crate::capture::Resume::default();
        for pkt in 1..=n {
            s.packet(pkt % conns, pkt, pkt * 100, &resume);
        }
        assert!(s.heap_bytes() as u64 <= conns * 128, "{}", s.heap_bytes());
    }
}

#[test]
fn huge_connection_counts_are_capped() {
    use super::store::MAX_ROWS;
    let mut store = Store::with_loader(Box::new(Frames));
    let extra = 25;
    let events: Vec<Event> = (0..(MAX_ROWS + extra) as u64)
        .map(|conn| Event {
            conn,
            pkt: conn + 1,
            ts: Timestamp(conn as i64),
            dir: None,
            stream: None,
            kind: EventKind::ConnOpen {
                client: format!("10.0.{}.{}:40000", conn / 256 % 256, conn % 256),
                server: "10.1.0.1:80".into(),
                mid_stream: false,
            },
        })
        .collect();
    store.push(events);
    store.reveal_to(usize::MAX);
    assert_eq!(store.conns.len(), MAX_ROWS);
    assert_eq!(store.overflow, extra as u64);
    assert_eq!(store.len(), MAX_ROWS);
    // About a kilobyte and a half a row, summaries included.
    let per_row = store.heap_bytes() / MAX_ROWS;
    assert!(per_row <= 1600, "{per_row} bytes per row");
}

/// A loader whose file has changed since it was indexed.
struct Changed;

impl Loader for Changed {
    fn load(&mut self, conn: u64, from: usize, to: usize) -> Result<Vec<Event>, super::Said> {
        // Other events than the index's: the times moved.
        Ok((from..to)
            .map(|k| {
                let mut e = frame(conn, k as u64);
                e.ts.0 += 1;
                e
            })
            .collect())
    }
}

#[test]
fn a_connection_that_decodes_differently_is_said_so_not_shown() {
    let mut app = App::with_loader(opts("changed.pcap"), Box::new(Changed));
    let events: Vec<Event> = (0..30).map(|k| frame(0, k)).collect();
    app.update(Msg::Feed(Feed::Events(events)));
    app.update(Msg::Feed(Feed::Done));
    press(&mut app, KeyCode::End);
    let s = screen(&mut app);
    assert!(
        s.contains("✗ #0: event 0 of the connection decoded differently"),
        "{s}"
    );
    assert!(app.store().events().next().is_none());
}

/// What the view reads of a summary (rows, badges, the detail panel).
fn shown(s: &wsscope::analysis::ConnStats) -> String {
    format!(
        "kind {} upgrade {:?} frames {:?} messages {} pings {} pongs {} violations {} close {:?} \
         heartbeat {:?} ping_rtt {:?} handshake_rtt {:?} duration {} requests {} teardown {} \
         gap {} tls {:?}",
        s.kind,
        s.upgrade.as_ref().map(|u| (u.status, u.ok, u.accept_ok)),
        s.frames,
        s.messages,
        s.pings,
        s.pongs,
        s.violations,
        s.close.as_ref().map(|c| (c.code, c.initiator, c.clean)),
        s.heartbeat_ms,
        s.ping_rtt_ms,
        s.handshake_rtt_ms,
        s.duration_ms,
        s.requests,
        s.teardown,
        s.gap_bytes,
        s.tls
            .as_ref()
            .map(|t| (t.version.clone(), t.decrypted, t.records, t.overhead_bytes)),
    )
}

#[test]
fn the_rows_summary_from_the_index_is_the_summary_of_the_events() {
    use wsscope::analysis::{ConnTotals, Summary};
    let shared = shared_captures();
    let mut files: Vec<(PathBuf, Option<PathBuf>)> = capture_files(&captures())
        .into_iter()
        .chain(shared.iter().flat_map(|d| capture_files(d)))
        .map(|p| (p, None))
        .collect();
    if let Some(tls) = shared
        .as_ref()
        .and_then(|d| d.parent())
        .map(|d| d.join("captures-tls"))
    {
        for p in capture_files(&tls) {
            let keylog = p.with_extension("keylog");
            files.push((p, keylog.is_file().then_some(keylog)));
        }
    }
    let mut checked = 0;
    for (path, keylog) in files {
        let (feeds, _) = produce_with(&path, keylog.as_deref());
        let events = events_of(&feeds);
        let totals: std::collections::HashMap<u64, ConnTotals> = feeds
            .iter()
            .filter_map(|f| match f {
                Feed::Totals(t) => Some(t.clone()),
                _ => None,
            })
            .flatten()
            .collect();
        let mut index = super::index::Index::default();
        for e in &events {
            index.push(e);
        }
        let mut ids: Vec<u64> = events.iter().map(|e| e.conn).collect();
        ids.sort_unstable();
        ids.dedup();
        for conn in ids {
            let mine: Vec<usize> = (0..events.len())
                .filter(|&i| events[i].conn == conn)
                .collect();
            let (client, server) = mine
                .iter()
                .find_map(|&i| match &events[i].kind {
                    EventKind::ConnOpen { client, server, .. } => {
                        Some((client.clone(), server.clone()))
                    }
                    _ => None,
                })
                .unwrap_or_default();
            let ts = events[mine[0]].ts;
            let (mut whole, mut lite) = (Summary::new(conn, ts), Summary::new(conn, ts));
            for &i in &mine {
                whole.add(&events[i]);
                lite.add(&index.lite(i, &client, &server).expect("lite"));
            }
            let t = totals.get(&conn).cloned().unwrap_or_default();
            assert_eq!(
                shown(&lite.close(&t)),
                shown(&whole.close(&t)),
                "{}: connection {conn}",
                path.display()
            );
            checked += 1;
        }
    }
    assert!(checked > 40, "{checked}");
}

#[test]
fn a_long_connection_is_decoded_again_in_a_window_around_the_selection() {
    use super::store::MAX_LOADED;
    let mut store = Store::with_loader(Box::new(Frames));
    let n = 2 * MAX_LOADED as u64 + 100;
    store.push((0..n).map(|k| frame(0, k)).collect());
    store.reveal_to(usize::MAX);
    let (first, last) = (0, n as usize - 1);
    // Following the newest: the window ends with it.
    assert!(store.load((0, None), None));
    assert_eq!(store.loaded_len(), MAX_LOADED);
    assert!(store.event(last).is_some() && store.event(first).is_none());
    assert_eq!(store.event(last).map(|e| e.pkt), Some(n));
    // Near it: the same window, not decoded again.
    assert!(!store.load((0, None), Some(last - 10)));
    // At the start: a window from the first event.
    assert!(store.load((0, None), Some(first)));
    assert!(store.event(first).is_some() && store.event(last).is_none());
    assert_eq!(store.event(first).map(|e| e.pkt), Some(1));
    // In the middle: around it.
    let mid = n as usize / 2;
    assert!(store.load((0, None), Some(mid)));
    assert!(store.event(mid - MAX_LOADED / 4).is_some());
    assert!(store.event(mid + MAX_LOADED / 4).is_some());
}
