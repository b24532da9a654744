//! Live capture, for real: wsscope captures on the loopback interface with a
//! port filter while a real WebSocket server and client (tokio-tungstenite)
//! talk; Ctrl-C (SIGINT) ends the capture and the events are checked.
//!
//! Needs CAP_NET_RAW (root in CI). Without it, wsscope must say so in one line
//! with the `setcap` remedy and exit 1, which is what the test then checks.

mod common;

use std::time::{Duration, Instant};

use common::live::{self, Capture};

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

/// Starts `wsscope print --json -i IFACE -f "tcp port PORT" EXTRA...` (see
/// [`live::start`]).
fn start_capture(iface: &str, port: u16, extra: &[&str]) -> Option<Capture> {
    let mut args = vec!["--json"];
    args.extend_from_slice(extra);
    live::start(iface, port, &args, None)
}

async fn talk(port: u16) {
    let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
        while let Some(Ok(msg)) = ws.next().await {
            match msg {
                Message::Text(t) => ws
                    .send(Message::Text(format!("echo: {t}").into()))
                    .await
                    .unwrap(),
                Message::Binary(b) => ws.send(Message::Binary(b)).await.unwrap(),
                // tungstenite answers the close itself; reading on until the end sends it.
                _ => {}
            }
        }
    });
    let (mut ws, resp) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/chat"))
        .await
        .unwrap();
    assert_eq!(resp.status(), 101);
    ws.send(Message::Text("hello".into())).await.unwrap();
    assert_eq!(
        ws.next().await.unwrap().unwrap(),
        Message::Text("echo: hello".into())
    );
    ws.send(Message::Binary(vec![7u8; 300].into()))
        .await
        .unwrap();
    ws.next().await.unwrap().unwrap();
    ws.send(Message::Ping(b"hb".to_vec().into())).await.unwrap();
    // The pong is answered automatically; read until it shows.
    while let Some(Ok(m)) = ws.next().await {
        if matches!(m, Message::Pong(_)) {
            break;
        }
    }
    ws.close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: "bye".into(),
    }))
    .await
    .unwrap();
    while let Some(Ok(_)) = ws.next().await {}
    server.await.unwrap();
}

#[test]
fn live_capture_on_loopback_sees_a_real_websocket() {
    let port = 20000 + (std::process::id() % 20000) as u16;
    check_exchange("lo", port);
}

/// `any` (Linux cooked SLL2) with the same exchange: nothing may be dropped.
#[test]
fn live_capture_on_any_sees_a_real_websocket() {
    let port = 20000 + ((std::process::id() + 3571) % 20000) as u16;
    check_exchange("any", port);
}

fn check_exchange(iface: &str, port: u16) {
    let Some(capture) = start_capture(iface, port, &[]) else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(talk(port));
    // Let the last packets reach the capture.
    std::thread::sleep(Duration::from_millis(500));
    let events = capture.stop_events();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    let find = |pred: &dyn Fn(&Value) -> bool| events.iter().find(|e| pred(e));
    assert!(
        find(&|e| e["event"] == "conn_open" && e["mid_stream"] == false).is_some(),
        "{kinds:?}"
    );
    for step in ["syn", "syn_ack", "ack"] {
        assert!(
            find(&|e| e["event"] == "tcp_handshake" && e["step"] == step).is_some(),
            "{step}: {kinds:?}"
        );
    }
    let req = find(&|e| e["event"] == "http_request").expect("request");
    assert_eq!(req["method"], "GET");
    assert_eq!(req["target"], "/chat");
    let hs = find(&|e| e["event"] == "ws_handshake").expect("handshake");
    assert_eq!(hs["ok"], true);
    assert_eq!(hs["accept_ok"], true);
    assert_eq!(hs["status"], 101);
    let texts: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "ws_message" && e["kind"] == "text")
        .collect();
    assert_eq!(texts.len(), 2, "{kinds:?}");
    assert_eq!(texts[0]["dir"], "c2s");
    assert_eq!(texts[0]["preview"], "hello");
    assert_eq!(texts[1]["dir"], "s2c");
    assert_eq!(texts[1]["preview"], "echo: hello");
    let bins: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "ws_message" && e["kind"] == "binary")
        .collect();
    assert_eq!(bins.len(), 2);
    assert_eq!(bins[0]["len"], 300);
    // Client frames masked, server frames not.
    for f in events.iter().filter(|e| e["event"] == "ws_frame") {
        assert_eq!(f["masked"], f["dir"] == "c2s", "{f}");
    }
    let pong = find(&|e| e["event"] == "ws_frame" && e["opname"] == "pong").expect("pong");
    assert!(pong["rtt_ms"].is_f64(), "{pong}");
    let close = find(&|e| e["event"] == "ws_close").expect("ws_close");
    assert_eq!(close["initiator"], "c2s");
    assert_eq!(close["code"], 1000);
    assert_eq!(close["reason"], "bye");
    assert_eq!(close["echoed"], true);
    assert_eq!(close["clean"], true);
    assert!(
        find(&|e| e["event"] == "tcp_teardown" && e["how"] == "fin").is_some(),
        "{kinds:?}"
    );
    assert!(!kinds.contains(&"violation"), "{events:#?}");
    assert!(!kinds.contains(&"gap"), "{events:#?}");
}

#[test]
fn live_capture_stops_after_count() {
    let port = 20000 + ((std::process::id() + 7919) % 20000) as u16;
    let Some(mut capture) = start_capture("lo", port, &["-c", "3"]) else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(talk(port));
    let deadline = Instant::now() + Duration::from_secs(5);
    while capture.child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "wsscope did not stop after -c 3");
        std::thread::sleep(Duration::from_millis(50));
    }
    let events = live::ndjson(&capture.output().0);
    assert!(
        events.iter().all(|e| e["pkt"].as_u64().unwrap() <= 3),
        "{events:#?}"
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| e["event"] == "tcp_handshake")
            .count(),
        3
    );
}

/// Ctrl-C while a connection is still open: the text timeline ends with a summary
/// of what was still going on.
#[test]
fn ctrl_c_summarises_the_connections_still_open() {
    let port = 20000 + ((std::process::id() + 9173) % 20000) as u16;
    let Some(capture) = live::start("lo", port, &[], None) else {
        return;
    };
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    let _client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let (_server, _) = listener.accept().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let (out, _) = capture.stop();
    assert!(out.contains("1 connection(s) still open"), "{out}");
    assert!(out.contains(&format!("127.0.0.1:{port}")), "{out}");
}

/// `-w FILE`: the packets captured live are written as a capture file; read back, it
/// gives the same timeline (same packets, same payloads) as the live view did.
#[test]
fn live_capture_writes_what_it_captured_with_w() {
    let port = 20000 + ((std::process::id() + 1777) % 20000) as u16;
    let file = std::env::temp_dir().join(format!("wsscope-live-w-{}.pcap", std::process::id()));
    let _ = std::fs::remove_file(&file);
    let Some(capture) = start_capture("lo", port, &["--payload", "-w", file.to_str().unwrap()])
    else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(talk(port));
    std::thread::sleep(Duration::from_millis(500));
    let live = capture.stop_events();
    let read = common::events_with(&file, &["--payload"]);
    let _ = std::fs::remove_file(&file);
    // Every event of the live run is in the file's, packet for packet; the file's
    // connection also ends (the live run ended it at Ctrl-C, maybe earlier).
    let key = |e: &Value| {
        let mut e = e.clone();
        e.as_object_mut().unwrap().remove("ts");
        e.to_string()
    };
    let live_msgs: Vec<String> = live
        .iter()
        .filter(|e| e["event"] != "ws_close" && e["event"] != "tcp_teardown")
        .map(key)
        .collect();
    let read_msgs: Vec<String> = read
        .iter()
        .filter(|e| e["event"] != "ws_close" && e["event"] != "tcp_teardown")
        .map(key)
        .collect();
    assert_eq!(read_msgs, live_msgs);
    let payloads: Vec<&str> = read
        .iter()
        .filter(|e| e["event"] == "ws_message")
        .map(|e| e["payload"].as_str().unwrap())
        .collect();
    assert_eq!(payloads[..2], ["hello", "echo: hello"]);
    assert_eq!(payloads.len(), 4);
    // Packet times are the capture's: the file's events carry the live ones' stamps.
    let ts = |v: &[Value]| -> Vec<f64> {
        v.iter()
            .filter(|e| e["event"] == "ws_message")
            .map(|e| e["ts"].as_f64().unwrap())
            .collect()
    };
    assert_eq!(ts(&read), ts(&live));
}
