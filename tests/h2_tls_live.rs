//! WebSocket over HTTP/2 (RFC 8441) over TLS 1.3, captured live: a tokio-rustls
//! server (ALPN `h2`, an rcgen certificate) runs an `h2` server with extended
//! CONNECT enabled; a tokio-rustls client (ALPN `h2`, trusting that certificate,
//! writing its secrets to a key log as it goes, as SSLKEYLOGFILE does) runs an `h2`
//! client. The exchange is tests/h2_live.rs's (tests/common/h2ws.rs): two
//! WebSockets (`/a` closed cleanly with 1000, `/b` aborted with RST_STREAM CANCEL)
//! beside a plain GET, every RFC 6455 frame built with tungstenite's codec, while
//! `wsscope print --json --payload -i lo -f 'tcp port P' --keylog KEYS` (or
//! SSLKEYLOGFILE=KEYS) captures; wsscope must decrypt both directions, see ALPN h2
//! negotiated, and then decode the HTTP/2 and the WebSockets as the peers sent them.
//!
//! Needs CAP_NET_RAW (root in CI). Without it, wsscope must say so in one line with
//! the `setcap` remedy and exit 1, which is what the test then checks.

mod common;
#[path = "common/h2ws.rs"]
mod h2ws;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::live::{self, Capture};
use h2ws::Ids;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("wsscope-h2tlslive-{}-{name}", std::process::id()))
}

// ---------------------------------------------------------------------------
// Capture (as tests/wss_live.rs does it)

/// Starts `wsscope print --json --payload -i lo -f "tcp port PORT" ARGS...` (with
/// `env`); see [`live::start`].
fn start_capture(port: u16, args: &[&str], env: Option<(&str, &Path)>) -> Option<Capture> {
    let mut all = vec!["--json", "--payload"];
    all.extend_from_slice(args);
    live::start("lo", port, &all, env)
}

// ---------------------------------------------------------------------------
// TLS for the peers (as tests/wss_live.rs makes it)

/// A self-signed ECDSA certificate for `localhost` and its key.
fn certificate() -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    (
        cert.der().clone(),
        PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    )
}

/// rustls's `KeyLog`, writing the NSS key log format a line at a time, flushed at
/// once (`rustls::KeyLogFile` takes its file name from the process environment,
/// shared by parallel tests).
#[derive(Debug)]
struct KeyLogTo(Mutex<std::fs::File>);

impl rustls::KeyLog for KeyLogTo {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        let line = format!("{label} {} {}\n", hex(client_random), hex(secret));
        let mut f = self.0.lock().unwrap();
        f.write_all(line.as_bytes()).unwrap();
        f.flush().unwrap();
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Server and client configs, TLS 1.3 only, ALPN `h2` on both sides; the client
/// trusts the server's certificate and logs its secrets to `keylog`.
fn configs(keylog: &Path) -> (TlsAcceptor, TlsConnector) {
    let (cert, key) = certificate();
    let mut server = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    server.alpn_protocols = vec![b"h2".to_vec()];
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).unwrap();
    let mut client = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    client.alpn_protocols = vec![b"h2".to_vec()];
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(keylog)
        .unwrap();
    client.key_log = Arc::new(KeyLogTo(Mutex::new(file)));
    (
        TlsAcceptor::from(Arc::new(server)),
        TlsConnector::from(Arc::new(client)),
    )
}

// ---------------------------------------------------------------------------
// The exchange

async fn serve(listener: TcpListener, acceptor: TlsAcceptor) {
    let (tcp, _) = listener.accept().await.unwrap();
    let tls = acceptor.accept(tcp).await.unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    h2ws::serve(tls).await;
}

/// The client's view: its stream ids and its TCP port.
async fn client(port: u16, connector: TlsConnector) -> (Ids, u16) {
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let client_port = tcp.local_addr().unwrap().port();
    let tls = connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    let conn = tls.get_ref().1;
    assert_eq!(conn.alpn_protocol(), Some(&b"h2"[..]));
    assert_eq!(
        conn.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_3)
    );
    let ids = h2ws::client(tls, &format!("https://localhost:{port}")).await;
    (ids, client_port)
}

/// The whole exchange on 127.0.0.1:`port` (listener already bound).
fn scenario(listener: std::net::TcpListener, keylog: &Path) -> (Ids, u16) {
    let port = listener.local_addr().unwrap().port();
    let (acceptor, connector) = configs(keylog);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async move {
        listener.set_nonblocking(true).unwrap();
        let listener = TcpListener::from_std(listener).unwrap();
        let server = tokio::spawn(serve(listener, acceptor));
        let view = tokio::time::timeout(Duration::from_secs(30), client(port, connector))
            .await
            .expect("client finished in time");
        tokio::time::timeout(Duration::from_secs(10), server)
            .await
            .expect("server finished in time")
            .unwrap();
        view
    })
}

// ---------------------------------------------------------------------------
// The checks

/// The TLS layer: the hellos offered and chose h2 with TLS 1.3, the handshake is
/// done with ALPN h2, and both directions were decrypted; then tests/h2_live.rs's
/// checks of the HTTP/2 and the WebSockets.
fn check(events: &[Value], ids: &Ids, client_port: u16) {
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    let open = events
        .iter()
        .find(|e| e["event"] == "conn_open")
        .unwrap_or_else(|| panic!("no conn_open: {kinds:?}"));
    assert!(
        open["client"]
            .as_str()
            .unwrap()
            .ends_with(&format!(":{client_port}")),
        "{open}"
    );
    let step = |s: &str| -> Vec<&Value> {
        events
            .iter()
            .filter(|e| e["event"] == "tls_handshake" && e["step"] == s)
            .collect()
    };
    let ch = step("client_hello");
    assert_eq!(ch.len(), 1, "{kinds:?}");
    assert_eq!(ch[0]["dir"], "c2s", "{}", ch[0]);
    assert_eq!(ch[0]["sni"], "localhost", "{}", ch[0]);
    assert!(
        ch[0]["alpn"].as_array().unwrap().iter().any(|a| a == "h2"),
        "{}",
        ch[0]
    );
    assert!(
        ch[0]["versions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v == "TLS 1.3"),
        "{}",
        ch[0]
    );
    let sh = step("server_hello");
    assert_eq!(sh.len(), 1, "{kinds:?}");
    assert_eq!(sh[0]["dir"], "s2c", "{}", sh[0]);
    assert_eq!(sh[0]["version"], "TLS 1.3", "{}", sh[0]);
    assert_eq!(sh[0]["resumed"], false, "{}", sh[0]);
    assert_eq!(step("certificate").len(), 1, "{kinds:?}");
    let done = step("done");
    assert_eq!(done.len(), 1, "{kinds:?}");
    assert_eq!(done[0]["version"], "TLS 1.3", "{}", done[0]);
    assert_eq!(done[0]["alpn"], "h2", "{}", done[0]);
    assert_eq!(done[0]["cipher"], sh[0]["cipher"], "{}", done[0]);
    for dir in ["c2s", "s2c"] {
        let dec: Vec<&Value> = events
            .iter()
            .filter(|e| e["event"] == "tls_decrypt" && e["dir"] == dir)
            .collect();
        assert_eq!(dec.len(), 1, "{dir}: {dec:?}");
        assert_eq!(dec[0]["ok"], true, "{dir}: {}", dec[0]);
    }
    // Each side ended its TLS with close_notify (the h2 connections' shutdown), and
    // no other alert was sent.
    let alerts: Vec<(&str, &str, &str)> = events
        .iter()
        .filter(|e| e["event"] == "tls_alert")
        .map(|e| {
            (
                e["dir"].as_str().unwrap(),
                e["level"].as_str().unwrap(),
                e["description"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        alerts,
        [
            ("c2s", "warning", "close_notify"),
            ("s2c", "warning", "close_notify")
        ],
        "{kinds:?}"
    );
    h2ws::check(events, ids);
}

fn bind() -> std::net::TcpListener {
    std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap()
}

/// Captures the exchange with the key log given by `--keylog` or by SSLKEYLOGFILE.
fn run(keylog_by_env: bool) {
    let listener = bind();
    let port = listener.local_addr().unwrap().port();
    let keylog = temp(&format!("{port}.keylog"));
    let _ = std::fs::remove_file(&keylog);
    let keylog_s = keylog.to_str().unwrap().to_string();
    let capture = if keylog_by_env {
        start_capture(port, &[], Some(("SSLKEYLOGFILE", &keylog)))
    } else {
        start_capture(port, &["--keylog", &keylog_s], None)
    };
    let Some(capture) = capture else {
        return;
    };
    let (ids, client_port) = scenario(listener, &keylog);
    // Let the last packets reach the capture, and wsscope read the key log again.
    std::thread::sleep(Duration::from_millis(1500));
    let (out, stderr) = capture.stop();
    let events = live::ndjson(&out);
    // SSLKEYLOGFILE is said on stderr; --keylog is not.
    let announced = format!("using the TLS key log named by SSLKEYLOGFILE: {keylog_s}");
    assert_eq!(stderr.contains(&announced), keylog_by_env, "{stderr}");
    let lines = std::fs::read_to_string(&keylog).unwrap();
    let _ = std::fs::remove_file(&keylog);
    // The client's TLS 1.3 secrets: both handshake and both traffic secrets.
    for label in [
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
        "SERVER_HANDSHAKE_TRAFFIC_SECRET",
        "CLIENT_TRAFFIC_SECRET_0",
        "SERVER_TRAFFIC_SECRET_0",
    ] {
        assert!(lines.contains(label), "{label} not in the key log");
    }
    check(&events, &ids, client_port);
}

#[test]
fn live_h2_over_tls_websockets_are_decoded_with_keylog() {
    run(false);
}

/// With the key log named by SSLKEYLOGFILE instead of --keylog.
#[test]
fn live_h2_over_tls_websockets_are_decoded_with_sslkeylogfile() {
    run(true);
}
