//! WebSocket over HTTP/2 (RFC 8441), captured live: an `h2` server with extended
//! CONNECT enabled and an `h2` client (prior knowledge, h2c over plain TCP) talk on
//! loopback while `wsscope print --json -i lo -f 'tcp port P'` captures them. Two
//! WebSockets share the connection (`/a` closed cleanly, `/b` aborted with
//! RST_STREAM CANCEL) beside a plain GET; every RFC 6455 frame is built with
//! tungstenite's codec, each stream played in lockstep so that its order on the wire
//! is known, and wsscope's events are checked against what the peers sent.
//!
//! Needs CAP_NET_RAW (root in CI). Without it, wsscope must say so in one line with
//! the `setcap` remedy and exit 1, which is what the test then checks.

mod common;
#[path = "common/h2ws.rs"]
mod h2ws;

use std::collections::HashMap;
use std::time::Duration;

use common::live::{self, Capture};

use h2ws::{check, Ids};
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};

/// Starts `wsscope print --json -i lo -f "tcp port PORT" EXTRA...` (see [`live::start`]).
fn start_capture(port: u16, extra: &[&str]) -> Option<Capture> {
    let mut args = vec!["--json"];
    args.extend_from_slice(extra);
    live::start("lo", port, &args, None)
}

// ---------------------------------------------------------------------------
// The peers (tests/common/h2ws.rs), over plain TCP with prior knowledge

async fn serve(listener: TcpListener) {
    let (tcp, _) = listener.accept().await.unwrap();
    h2ws::serve(tcp).await;
}

async fn client(port: u16) -> Ids {
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    h2ws::client(tcp, &format!("http://127.0.0.1:{port}")).await
}

/// The whole exchange on 127.0.0.1:`port` (listener already bound).
fn scenario(listener: std::net::TcpListener) -> Ids {
    let port = listener.local_addr().unwrap().port();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async move {
        listener.set_nonblocking(true).unwrap();
        let server = tokio::spawn(serve(TcpListener::from_std(listener).unwrap()));
        let ids = tokio::time::timeout(Duration::from_secs(30), client(port))
            .await
            .expect("client finished in time");
        tokio::time::timeout(Duration::from_secs(10), server)
            .await
            .expect("server finished in time")
            .unwrap();
        ids
    })
}

fn bind() -> std::net::TcpListener {
    std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap()
}

#[test]
fn live_h2_websockets_are_decoded_as_the_peers_sent_them() {
    let listener = bind();
    let port = listener.local_addr().unwrap().port();
    let Some(capture) = start_capture(port, &["--payload"]) else {
        return;
    };
    let ids = scenario(listener);
    // Let the last packets reach the capture.
    std::thread::sleep(Duration::from_millis(500));
    let events = capture.stop_events();
    check(&events, &ids);
}

/// `-w FILE` while capturing the same exchange: read back, the file gives the very
/// events the live run gave.
#[test]
fn live_h2_websockets_written_with_w_read_back_the_same() {
    let listener = bind();
    let port = listener.local_addr().unwrap().port();
    let file = std::env::temp_dir().join(format!("wsscope-h2live-w-{}.pcapng", std::process::id()));
    let _ = std::fs::remove_file(&file);
    let Some(capture) = start_capture(port, &["--payload", "-w", file.to_str().unwrap()]) else {
        return;
    };
    let ids = scenario(listener);
    std::thread::sleep(Duration::from_millis(500));
    let live = capture.stop_events();
    let read = common::events_with(&file, &["--payload"]);
    let _ = std::fs::remove_file(&file);
    check(&live, &ids);
    check(&read, &ids);
    let by_kind = |v: &[Value]| {
        let mut m: HashMap<String, usize> = HashMap::new();
        for e in v {
            *m.entry(e["event"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
        m
    };
    assert_eq!(by_kind(&read), by_kind(&live));
    assert_eq!(read, live, "the file's events are the live ones");
}
