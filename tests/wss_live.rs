//! wss for real on `lo`: a rustls client and server (tokio-rustls) talk WebSocket
//! (tokio-tungstenite) while `wsscope print --json -i lo --keylog KEYS` captures.
//! The client writes its secrets to the key log as the handshake goes (as
//! SSLKEYLOGFILE does), so the records wait for keys that come while the capture
//! runs. The same packets are written to a pcap (libpcap, as `tcpdump -w`) and
//! `wsscope print --json -r FILE --keylog KEYS` must tell the same story.
//!
//! One test per suite rustls offers (TLS 1.3: AES-128-GCM, AES-256-GCM,
//! ChaCha20-Poly1305; TLS 1.2 ECDHE with ECDSA and RSA certificates: the same
//! three), and resumed sessions (TLS 1.3 tickets, TLS 1.2 session ids).
//!
//! Needs CAP_NET_RAW (root in CI). Without it, wsscope must say so in one line
//! with the `setcap` remedy and exit 1, which is what the test then checks.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use common::live::{self, Capture};
use futures_util::{SinkExt, StreamExt};
use rustls::crypto::ring::cipher_suite as cs;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{HandshakeKind, SupportedCipherSuite, SupportedProtocolVersion};
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

/// A port of this test process's own, `salt` telling the tests apart.
fn port(salt: u32) -> u16 {
    20000 + ((std::process::id().wrapping_mul(31) + salt * 7919) % 20000) as u16
}

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("wsscope-wsslive-{}-{name}", std::process::id()))
}

// ---------------------------------------------------------------------------
// The capture side: wsscope live, and a pcap written beside it.

/// Starts `wsscope print --json -i lo -f "tcp port PORT" ARGS...` (with `env`); see
/// [`live::start`].
fn start_wsscope(port: u16, args: &[&str], env: Option<(&str, &Path)>) -> Option<Capture> {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    live::start("lo", port, &all, env)
}

/// Writes what `lo` carries on `port` to a pcap file, as `tcpdump -i lo -w` would.
struct PcapWriter {
    stop: Arc<AtomicBool>,
    /// The TCP connections seen to their end, by client port.
    ended: Arc<(Mutex<BTreeMap<u16, Teardown>>, Condvar)>,
    /// Packets written, and packets the kernel dropped (libpcap's counts).
    thread: std::thread::JoinHandle<(u64, u64)>,
}

/// The writer's kernel ring. On `lo` every packet fills two slots of it (the copy
/// going out and the one coming in; libpcap drops the outgoing one only when it
/// reads the ring), and with whole packets a slot is 64 KiB: 8 MiB held 64 packets,
/// fewer than the 68 to 74 of the resumed case's two connections, which pass in
/// about 5 ms, so the kernel dropped the last ones whenever the writer thread did
/// not run meanwhile (asleep between polls, or waiting for a core). 32 MiB, as
/// wsscope's own live capture, holds 256: every packet of any case here, however
/// late the thread reads them.
const PCAP_RING_BYTES: i32 = 32 << 20;

/// One TCP segment of the exchange, as the pcap writer sees it.
struct Segment {
    client_port: u16,
    /// 0 sent by the client, 1 by the server.
    from: usize,
    flags: u8,
    seq: u32,
    ack: u32,
    /// Payload bytes.
    len: u32,
}

impl Segment {
    /// An IPv4 TCP packet on `lo` (Ethernet framing) to or from `server_port`.
    fn parse(frame: &[u8], server_port: u16) -> Option<Segment> {
        let ip = frame.get(14..)?;
        if frame.get(12..14)? != [0x08, 0x00] || ip.first()? >> 4 != 4 || *ip.get(9)? != 6 {
            return None;
        }
        let ip_len = usize::from(u16::from_be_bytes([*ip.get(2)?, *ip.get(3)?]));
        let tcp = ip.get(usize::from(ip[0] & 0x0f) * 4..)?;
        let tcp_len = ip_len.checked_sub(usize::from(ip[0] & 0x0f) * 4)?;
        let be16 = |i: usize| Some(u16::from_be_bytes([*tcp.get(i)?, *tcp.get(i + 1)?]));
        let be32 = |i: usize| Some(u32::from_be_bytes(tcp.get(i..i + 4)?.try_into().ok()?));
        let (src, dst) = (be16(0)?, be16(2)?);
        let (client_port, from) = match (src == server_port, dst == server_port) {
            (false, true) => (src, 0),
            (true, false) => (dst, 1),
            _ => return None,
        };
        Some(Segment {
            client_port,
            from,
            flags: *tcp.get(13)?,
            seq: be32(4)?,
            ack: be32(8)?,
            len: u32::try_from(tcp_len.checked_sub(usize::from(tcp.get(12)? >> 4) * 4)?).ok()?,
        })
    }
}

/// How far one TCP connection has come to its end.
#[derive(Debug, Default)]
struct Teardown {
    /// FIN seen from the client, from the server.
    fin: [bool; 2],
    /// Once both FINs came: the side whose FIN came second (0 client, 1 server),
    /// and the acknowledgment number that acknowledges it.
    second_fin: Option<(usize, u32)>,
    /// Its last packet seen: the ACK of the second FIN, or a RST.
    ended: bool,
}

impl Teardown {
    fn packet(&mut self, s: &Segment) {
        const FIN: u8 = 0x01;
        const RST: u8 = 0x04;
        const ACK: u8 = 0x10;
        if s.flags & RST != 0 {
            self.ended = true;
            return;
        }
        if s.flags & FIN != 0 {
            self.fin[s.from] = true;
            if self.fin == [true, true] && self.second_fin.is_none() {
                // The FIN takes one sequence number, after the payload.
                self.second_fin = Some((s.from, s.seq.wrapping_add(s.len).wrapping_add(1)));
            }
        }
        if let Some((by, acked)) = self.second_fin {
            if s.from != by && s.flags & ACK != 0 && s.ack == acked {
                self.ended = true;
            }
        }
    }
}

impl PcapWriter {
    fn start(port: u16, path: &Path) -> PcapWriter {
        let mut cap = pcap::Capture::from_device("lo")
            .unwrap()
            .immediate_mode(true)
            // Loopback segments reach 64 KiB plus headers: nothing may be cut.
            .snaplen(262_144)
            .buffer_size(PCAP_RING_BYTES)
            .open()
            .expect("wsscope could capture, so may this")
            // In immediate mode the read timeout does not apply: poll instead.
            .setnonblock()
            .unwrap();
        cap.filter(&format!("tcp port {port}"), true).unwrap();
        let mut save = cap.savefile(path).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let ended: Arc<(Mutex<BTreeMap<u16, Teardown>>, Condvar)> = Arc::default();
        let seen = ended.clone();
        let thread = std::thread::spawn(move || {
            let mut n = 0;
            loop {
                match cap.next_packet() {
                    Ok(p) => {
                        save.write(&p);
                        n += 1;
                        if let Some(s) = Segment::parse(p.data, port) {
                            let mut conns = seen.0.lock().unwrap();
                            let t = conns.entry(s.client_port).or_default();
                            t.packet(&s);
                            if t.ended {
                                seen.1.notify_all();
                            }
                        }
                    }
                    Err(pcap::Error::TimeoutExpired) if flag.load(Ordering::Relaxed) => break,
                    Err(pcap::Error::TimeoutExpired) => {
                        std::thread::sleep(Duration::from_millis(5))
                    }
                    Err(e) => panic!("pcap: {e}"),
                }
            }
            save.flush().unwrap();
            let stats = cap.stats().unwrap();
            (n, u64::from(stats.dropped) + u64::from(stats.if_dropped))
        });
        PcapWriter {
            stop,
            ended,
            thread,
        }
    }

    /// Waits until the writer has seen the end of the TCP connection from each of
    /// `client_ports` (the ACK of its second FIN, or a RST): the last packet of the
    /// exchange. wsscope's packet socket is handed the same packets as the
    /// writer's, so its ring then holds them all too (and it reads what its ring
    /// holds when stopped). Fails after `timeout`.
    fn wait_ended(&self, client_ports: &[u16], timeout: Duration) {
        let until = Instant::now() + timeout;
        let (lock, cv) = &*self.ended;
        let mut conns = lock.lock().unwrap();
        while !client_ports
            .iter()
            .all(|p| conns.get(p).is_some_and(|t| t.ended))
        {
            let left = until.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "the pcap writer did not see the connections from {client_ports:?} end \
                 within {timeout:?}: {conns:?}"
            );
            conns = cv.wait_timeout(conns, left).unwrap().0;
        }
    }

    /// Stops after the packets already captured; how many were written. The kernel
    /// must have dropped none: a pcap missing packets tells another story than the
    /// live capture, and the comparison would blame wsscope.
    fn finish(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        let (written, dropped) = self.thread.join().unwrap();
        assert_eq!(
            dropped, 0,
            "the pcap writer's kernel ring overflowed: {dropped} packet copies dropped, \
             {written} packets written"
        );
        written
    }
}

// ---------------------------------------------------------------------------
// The peers.

#[derive(Clone, Copy, Debug)]
enum CertKind {
    Ecdsa,
    Rsa,
}

/// A self-signed certificate for `localhost` and its key.
fn certificate(kind: CertKind) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    let key = match kind {
        CertKind::Ecdsa => rcgen::KeyPair::generate().unwrap(),
        // ring cannot make RSA keys: a throwaway test key, made with openssl genpkey.
        CertKind::Rsa => rcgen::KeyPair::from_pem(
            &std::fs::read_to_string(
                Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/rsa2048-test-key.pem"),
            )
            .unwrap(),
        )
        .unwrap(),
    };
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    (
        cert.der().clone(),
        PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    )
}

/// rustls's `KeyLog`, writing the NSS key log format SSLKEYLOGFILE names, a line
/// at a time and flushed at once, as `rustls::KeyLogFile` does (which can only
/// take its file name from the process environment, shared by parallel tests).
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

/// What one session is made of.
struct Case {
    version: &'static SupportedProtocolVersion,
    suite: SupportedCipherSuite,
    cert: CertKind,
    /// The IANA names wsscope must report.
    version_name: &'static str,
    cipher_name: &'static str,
    /// Connections made one after the other with the same client config (the
    /// later ones resume the first one's session).
    connections: usize,
}

/// What the peers saw of one connection.
#[derive(Debug)]
struct PeerView {
    client_port: u16,
    kind: HandshakeKind,
    suite: u16,
    version: u16,
}

/// The messages the client sends; the server echoes each one back.
fn messages() -> Vec<Message> {
    let long_text: String = (0..20_000)
        .map(|i| (b'a' + (i % 26) as u8) as char)
        .collect();
    vec![
        Message::Text("hello over TLS".into()),
        Message::Text("wsscope ✓ déchiffre ".repeat(10).into()),
        Message::Binary(
            (0..300u32)
                .map(|i| (i * 7) as u8)
                .collect::<Vec<u8>>()
                .into(),
        ),
        // Bigger than a TLS record (16 KiB): spread over several.
        Message::Binary(
            (0..70_000u32)
                .map(|i| (i % 251) as u8)
                .collect::<Vec<u8>>()
                .into(),
        ),
        Message::Text(long_text.into()),
    ]
}

/// The provider with only `suite` (and all of ring's key exchange groups).
fn provider(suite: SupportedCipherSuite) -> Arc<CryptoProvider> {
    let mut p = rustls::crypto::ring::default_provider();
    p.cipher_suites = vec![suite];
    Arc::new(p)
}

/// The server (every suite, both versions) and `case.connections` client
/// connections offering only the case's suite and version; the client logs its
/// secrets to `keylog` as it goes.
async fn talk(case: &Case, port: u16, keylog: &Path) -> Vec<PeerView> {
    let (cert, key) = certificate(case.cert);
    let server_cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(rustls::ALL_VERSIONS)
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert.clone()], key)
    .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(server_cfg));
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).unwrap();
    let mut client_cfg = rustls::ClientConfig::builder_with_provider(provider(case.suite))
        .with_protocol_versions(&[case.version])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(keylog)
        .unwrap();
    client_cfg.key_log = Arc::new(KeyLogTo(Mutex::new(file)));
    let connector = TlsConnector::from(Arc::new(client_cfg));

    let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    let n = case.connections;
    let server = tokio::spawn(async move {
        for _ in 0..n {
            let (tcp, _) = listener.accept().await.unwrap();
            let tls = acceptor.accept(tcp).await.unwrap();
            let mut ws = tokio_tungstenite::accept_async(tls).await.unwrap();
            while let Some(Ok(msg)) = ws.next().await {
                if msg.is_text() || msg.is_binary() {
                    ws.send(msg).await.unwrap();
                }
            }
        }
    });
    let mut views = Vec::new();
    for _ in 0..n {
        let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let client_port = tcp.local_addr().unwrap().port();
        let tls = connector
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await
            .unwrap();
        let conn = tls.get_ref().1;
        let view = PeerView {
            client_port,
            kind: conn.handshake_kind().unwrap(),
            suite: u16::from(conn.negotiated_cipher_suite().unwrap().suite()),
            version: u16::from(conn.protocol_version().unwrap()),
        };
        let (mut ws, resp) =
            tokio_tungstenite::client_async(format!("wss://localhost:{port}/chat"), tls)
                .await
                .unwrap();
        assert_eq!(resp.status(), 101);
        for m in messages() {
            ws.send(m.clone()).await.unwrap();
            assert_eq!(ws.next().await.unwrap().unwrap(), m);
        }
        // tungstenite queues its automatic pong without flushing it: over TLS it
        // leaves with the server's next write, its close frame; so no waiting for it.
        ws.send(Message::Ping(b"hb".to_vec().into())).await.unwrap();
        ws.close(Some(CloseFrame {
            code: CloseCode::Normal,
            reason: "bye".into(),
        }))
        .await
        .unwrap();
        let mut pongs = 0;
        while let Some(Ok(m)) = ws.next().await {
            pongs += usize::from(matches!(m, Message::Pong(_)));
        }
        assert_eq!(pongs, 1, "the pong did not come");
        views.push(view);
    }
    server.await.unwrap();
    views
}

// ---------------------------------------------------------------------------
// The checks.

/// wsscope's preview of a message: the first 64 bytes, text as it is (cut at a
/// character boundary), binary as hex; `…` when cut.
fn preview(m: &Message) -> String {
    let data: &[u8] = match m {
        Message::Text(t) => t.as_bytes(),
        Message::Binary(b) => b,
        _ => unreachable!(),
    };
    let mut end = data.len().min(64);
    let mut s = match m {
        Message::Text(t) => {
            while !t.is_char_boundary(end) {
                end -= 1;
            }
            t[..end].to_string()
        }
        _ => data[..end].iter().map(|x| format!("{x:02x}")).collect(),
    };
    if data.len() > 64 {
        s.push('…');
    }
    s
}

/// Checks one capture's events against what the peers did; returns the events of
/// each connection, by client port.
fn check_events(case: &Case, views: &[PeerView], events: &[Value], source: &str) {
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    let violations: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "violation" || e["event"] == "gap")
        .collect();
    assert!(violations.is_empty(), "{source}: {violations:#?}");
    let sent = messages();
    for (i, view) in views.iter().enumerate() {
        let ctx = format!("{source}, connection {i} from port {}", view.client_port);
        let open = events
            .iter()
            .find(|e| {
                e["event"] == "conn_open"
                    && e["client"]
                        .as_str()
                        .unwrap()
                        .ends_with(&format!(":{}", view.client_port))
            })
            .unwrap_or_else(|| panic!("{ctx}: no conn_open: {kinds:?}"));
        assert_eq!(open["mid_stream"], false, "{ctx}");
        let conn = open["conn"].as_u64().unwrap();
        let ev: Vec<&Value> = events.iter().filter(|e| e["conn"] == conn).collect();
        let step = |s: &str| -> Vec<&Value> {
            ev.iter()
                .copied()
                .filter(|e| e["event"] == "tls_handshake" && e["step"] == s)
                .collect()
        };
        // What the peers negotiated is what the case asked for...
        assert_eq!(
            view.suite,
            u16::from(case.suite.suite()),
            "{ctx}: the peers chose another suite"
        );
        assert_eq!(view.version, u16::from(case.version.version), "{ctx}");
        let resumed = i > 0;
        assert_eq!(
            view.kind,
            if resumed {
                HandshakeKind::Resumed
            } else {
                HandshakeKind::Full
            },
            "{ctx}: the peers did not (or did) resume"
        );
        // ... and what wsscope saw.
        let ch = step("client_hello");
        assert_eq!(ch.len(), 1, "{ctx}: {ev:#?}");
        assert!(
            ch[0]["versions"]
                .as_array()
                .unwrap()
                .iter()
                .any(|v| v == case.version_name),
            "{ctx}: {}",
            ch[0]
        );
        assert_eq!(ch[0]["sni"], "localhost", "{ctx}");
        let sh = step("server_hello");
        assert_eq!(sh.len(), 1, "{ctx}: {ev:#?}");
        assert_eq!(sh[0]["version"], case.version_name, "{ctx}");
        assert_eq!(sh[0]["cipher"], case.cipher_name, "{ctx}");
        assert_eq!(sh[0]["resumed"], resumed, "{ctx}: {}", sh[0]);
        let done = step("done");
        assert_eq!(done.len(), 1, "{ctx}: {ev:#?}");
        assert_eq!(done[0]["version"], case.version_name, "{ctx}");
        assert_eq!(done[0]["cipher"], case.cipher_name, "{ctx}");
        // A resumed session shows no certificate; a full one shows it.
        assert_eq!(step("certificate").len(), usize::from(!resumed), "{ctx}");
        for dir in ["c2s", "s2c"] {
            let dec: Vec<&&Value> = ev
                .iter()
                .filter(|e| e["event"] == "tls_decrypt" && e["dir"] == dir)
                .collect();
            assert_eq!(dec.len(), 1, "{ctx} {dir}: {dec:?}");
            assert_eq!(dec[0]["ok"], true, "{ctx} {dir}: {}", dec[0]);
            let got: Vec<(String, u64, String)> = ev
                .iter()
                .filter(|e| e["event"] == "ws_message" && e["dir"] == dir)
                .map(|e| {
                    (
                        e["kind"].as_str().unwrap().to_string(),
                        e["len"].as_u64().unwrap(),
                        e["preview"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            let want: Vec<(String, u64, String)> = sent
                .iter()
                .map(|m| {
                    (
                        if m.is_text() { "text" } else { "binary" }.to_string(),
                        m.len() as u64,
                        preview(m),
                    )
                })
                .collect();
            assert_eq!(got, want, "{ctx} {dir}");
        }
        let hs = ev
            .iter()
            .find(|e| e["event"] == "ws_handshake")
            .unwrap_or_else(|| panic!("{ctx}: no ws_handshake"));
        assert_eq!(hs["ok"], true, "{ctx}");
        assert_eq!(hs["accept_ok"], true, "{ctx}");
        assert!(
            ev.iter()
                .any(|e| e["event"] == "ws_frame" && e["opname"] == "pong" && e["dir"] == "s2c"),
            "{ctx}: no pong"
        );
        let close = ev
            .iter()
            .find(|e| e["event"] == "ws_close")
            .unwrap_or_else(|| panic!("{ctx}: no ws_close"));
        assert_eq!(close["code"], 1000, "{ctx}");
        assert_eq!(close["reason"], "bye", "{ctx}");
        assert_eq!(close["clean"], true, "{ctx}");
    }
}

/// An event without what depends on when it was read: its packet, its time and
/// the durations measured from them.
fn timeless(e: &Value) -> Value {
    let mut e = e.clone();
    if let Some(o) = e.as_object_mut() {
        for k in ["pkt", "ts", "rtt_ms", "echo_ms", "fin_ms"] {
            o.remove(k);
        }
    }
    e
}

/// The events of each connection, timeless, in order.
fn by_conn(events: &[Value]) -> BTreeMap<u64, Vec<Value>> {
    let mut m: BTreeMap<u64, Vec<Value>> = BTreeMap::new();
    for e in events {
        m.entry(e["conn"].as_u64().unwrap_or(u64::MAX))
            .or_default()
            .push(timeless(e));
    }
    m
}

/// Runs a case: live capture with the key log growing, then the pcap of the same
/// packets read with the finished key log.
fn run_case(case: Case, salt: u32, keylog_by_env: bool) {
    let port = port(salt);
    let keylog = temp(&format!("{port}.keylog"));
    let pcap = temp(&format!("{port}.pcap"));
    let _ = std::fs::remove_file(&keylog);
    let keylog_s = keylog.to_str().unwrap().to_string();
    let capture = if keylog_by_env {
        start_wsscope(port, &[], Some(("SSLKEYLOGFILE", &keylog)))
    } else {
        start_wsscope(port, &["--keylog", &keylog_s], None)
    };
    let Some(capture) = capture else {
        return;
    };
    let writer = PcapWriter::start(port, &pcap);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let started = Instant::now();
    let views = rt.block_on(talk(&case, port, &keylog));
    let talked = started.elapsed();
    // The last packets reach the captures. wsscope then needs no more time: when
    // stopped it reads what its ring holds and looks at the key log once more.
    let ports: Vec<u16> = views.iter().map(|v| v.client_port).collect();
    writer.wait_ended(&ports, Duration::from_secs(10));
    let (out, err) = capture.stop();
    // wsscope's ring is as big as the writer's; if it overflowed all the same, say
    // so rather than let the comparison below blame the decoders.
    assert!(!err.contains("libpcap dropped"), "live: {err}");
    let live = live::ndjson(&out);
    let written = writer.finish();
    assert!(written > 20, "{written} packets written");
    eprintln!(
        "{} {}: {} connection(s) in {talked:?}, {written} packets",
        case.version_name, case.cipher_name, case.connections
    );
    check_events(&case, &views, &live, "live");

    let file = common::events_with(&pcap, &["--keylog", &keylog_s]);
    check_events(&case, &views, &file, "pcap");
    let (live_c, file_c) = (by_conn(&live), by_conn(&file));
    for (conn, evs) in &file_c {
        let l = live_c.get(conn).cloned().unwrap_or_default();
        let mut a = l.iter().map(Value::to_string).collect::<Vec<_>>();
        let mut b = evs.iter().map(Value::to_string).collect::<Vec<_>>();
        // Live, the records that waited for their keys come out later than the
        // events of the packets behind them: the same events, maybe in another order.
        a.sort();
        b.sort();
        assert_eq!(a, b, "connection {conn}: live and from the file differ");
    }
    assert_eq!(live_c.len(), file_c.len());
    let _ = std::fs::remove_file(&keylog);
    let _ = std::fs::remove_file(&pcap);
}

fn tls13(suite: SupportedCipherSuite, name: &'static str) -> Case {
    Case {
        version: &rustls::version::TLS13,
        suite,
        cert: CertKind::Ecdsa,
        version_name: "TLS 1.3",
        cipher_name: name,
        connections: 1,
    }
}

fn tls12(suite: SupportedCipherSuite, cert: CertKind, name: &'static str) -> Case {
    Case {
        version: &rustls::version::TLS12,
        suite,
        cert,
        version_name: "TLS 1.2",
        cipher_name: name,
        connections: 1,
    }
}

#[test]
fn tls13_aes_128_gcm() {
    run_case(
        tls13(cs::TLS13_AES_128_GCM_SHA256, "TLS_AES_128_GCM_SHA256"),
        1,
        false,
    );
}

#[test]
fn tls13_aes_256_gcm() {
    run_case(
        tls13(cs::TLS13_AES_256_GCM_SHA384, "TLS_AES_256_GCM_SHA384"),
        2,
        false,
    );
}

/// With the key log named by SSLKEYLOGFILE instead of --keylog.
#[test]
fn tls13_chacha20_poly1305_keys_from_sslkeylogfile() {
    run_case(
        tls13(
            cs::TLS13_CHACHA20_POLY1305_SHA256,
            "TLS_CHACHA20_POLY1305_SHA256",
        ),
        3,
        true,
    );
}

#[test]
fn tls12_ecdhe_ecdsa_aes_128_gcm() {
    run_case(
        tls12(
            cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            CertKind::Ecdsa,
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        ),
        4,
        false,
    );
}

#[test]
fn tls12_ecdhe_ecdsa_aes_256_gcm() {
    run_case(
        tls12(
            cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            CertKind::Ecdsa,
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        ),
        5,
        false,
    );
}

#[test]
fn tls12_ecdhe_ecdsa_chacha20_poly1305() {
    run_case(
        tls12(
            cs::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
            CertKind::Ecdsa,
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        ),
        6,
        false,
    );
}

#[test]
fn tls12_ecdhe_rsa_aes_128_gcm() {
    run_case(
        tls12(
            cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            CertKind::Rsa,
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        ),
        7,
        false,
    );
}

#[test]
fn tls12_ecdhe_rsa_aes_256_gcm() {
    run_case(
        tls12(
            cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            CertKind::Rsa,
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        ),
        8,
        false,
    );
}

/// SSLKEYLOGFILE again, with TLS 1.2.
#[test]
fn tls12_ecdhe_rsa_chacha20_poly1305_keys_from_sslkeylogfile() {
    run_case(
        tls12(
            cs::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
            CertKind::Rsa,
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        ),
        9,
        true,
    );
}

/// A second connection resumes the first one's session with a TLS 1.3 ticket
/// (PSK with (EC)DHE): no certificate, and it still decrypts.
#[test]
fn tls13_resumed_session_decrypts() {
    let mut case = tls13(cs::TLS13_AES_128_GCM_SHA256, "TLS_AES_128_GCM_SHA256");
    case.connections = 2;
    run_case(case, 10, false);
}

/// A second connection resumes the first one's TLS 1.2 session (the abbreviated
/// handshake: the server's Finished comes first) and still decrypts.
#[test]
fn tls12_resumed_session_decrypts() {
    let mut case = tls12(
        cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        CertKind::Ecdsa,
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    );
    case.connections = 2;
    run_case(case, 11, false);
}

/// A client whose key log reaches the file only when told (a browser writing it
/// late, or a key log copied in by hand during the capture).
#[derive(Debug, Default)]
struct KeyLogLater(Mutex<String>);

impl rustls::KeyLog for KeyLogLater {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        let mut s = self.0.lock().unwrap();
        s.push_str(&format!("{label} {} {}\n", hex(client_random), hex(secret)));
    }
}

/// The whole exchange passes with no key in the key log (every record is held),
/// the keys are written, and wsscope is stopped at once, the connection still
/// open: no packet comes after the keys, and no periodic re-read is due, so only
/// the look at the key log when the capture stops can decrypt the held records.
#[test]
fn keys_written_just_before_the_stop_still_decrypt_the_held_records() {
    let port = port(12);
    let keylog = temp(&format!("{port}.keylog"));
    let _ = std::fs::remove_file(&keylog);
    let keylog_s = keylog.to_str().unwrap().to_string();
    let Some(capture) = start_wsscope(port, &["--keylog", &keylog_s], None) else {
        return;
    };
    let started = Instant::now();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let late = Arc::new(KeyLogLater::default());
    let (cert, key) = certificate(CertKind::Ecdsa);
    let log = late.clone();
    let (mut ws, server) = rt.block_on(async move {
        let server_cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
        let acceptor = TlsAcceptor::from(Arc::new(server_cfg));
        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert).unwrap();
        let mut client_cfg = rustls::ClientConfig::builder_with_provider(provider(
            cs::TLS13_CHACHA20_POLY1305_SHA256,
        ))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        client_cfg.key_log = log;
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let tls = acceptor.accept(tcp).await.unwrap();
            let mut ws = tokio_tungstenite::accept_async(tls).await.unwrap();
            while let Some(Ok(msg)) = ws.next().await {
                if msg.is_text() || msg.is_binary() {
                    ws.send(msg).await.unwrap();
                }
            }
        });
        let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let tls = TlsConnector::from(Arc::new(client_cfg))
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await
            .unwrap();
        let (mut ws, _) =
            tokio_tungstenite::client_async(format!("wss://localhost:{port}/chat"), tls)
                .await
                .unwrap();
        for m in messages() {
            ws.send(m.clone()).await.unwrap();
            assert_eq!(ws.next().await.unwrap().unwrap(), m);
        }
        (ws, server)
    });
    // Let wsscope read the packets (and hold the records), then the keys come.
    std::thread::sleep(Duration::from_millis(200));
    std::fs::write(&keylog, late.0.lock().unwrap().as_bytes()).unwrap();
    let events = capture.stop_events();
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "too slow to be sure no periodic re-read of the key log came first: {:?}",
        started.elapsed()
    );
    rt.block_on(async move {
        ws.close(None).await.unwrap();
        while let Some(Ok(_)) = ws.next().await {}
        server.await.unwrap();
    });
    let _ = std::fs::remove_file(&keylog);
    for dir in ["c2s", "s2c"] {
        let dec: Vec<&Value> = events
            .iter()
            .filter(|e| e["event"] == "tls_decrypt" && e["dir"] == dir)
            .collect();
        assert_eq!(dec.len(), 1, "{dir}: {events:#?}");
        assert_eq!(dec[0]["ok"], true, "{dir}: {}", dec[0]);
        let got: Vec<(u64, String)> = events
            .iter()
            .filter(|e| e["event"] == "ws_message" && e["dir"] == dir)
            .map(|e| {
                (
                    e["len"].as_u64().unwrap(),
                    e["preview"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let want: Vec<(u64, String)> = messages()
            .iter()
            .map(|m| (m.len() as u64, preview(m)))
            .collect();
        assert_eq!(got, want, "{dir}");
    }
    let bad: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "violation" || e["event"] == "gap")
        .collect();
    assert!(bad.is_empty(), "{bad:#?}");
}
