//! The TLS layer on real wss captures (../shared/captures-tls): the TCP streams
//! come from the crate's own wire decoder and flow table, the keys from the
//! peers' key logs; what comes out is checked against what the peers logged
//! (`*.facts.json`) and what tshark decrypted (`*.frames.tsv`).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use wsscope::analysis::{TeardownHow, TeardownStep};
use wsscope::tcp::{FlowTable, SegmentInfo, TcpConfig, TcpEvent};
use wsscope::tls::{crypto, ClientHello, KeyLog, ServerHello, TlsEvent, TlsLayer};
use wsscope::types::{Direction, Timestamp};
use wsscope::wire::{Decoded, Decoder, WireLimits};

/// `../shared/captures-tls` (`../../shared` from a git worktree one level further down).
fn dir_path() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let near = root.join("../shared/captures-tls");
    if near.is_dir() {
        return near;
    }
    root.join("../../shared/captures-tls")
}

/// What one connection's TLS layer reported.
#[derive(Default, Debug)]
struct Conn {
    client_port: u16,
    client_hello: Option<ClientHello>,
    server_hello: Option<ServerHello>,
    hrr: usize,
    ee_alpn: Option<Option<String>>,
    certificates: Vec<(Direction, Option<String>, Option<String>)>,
    decrypt: Vec<(Direction, bool, Option<&'static str>)>,
    plain: [Vec<u8>; 2],
    records: [usize; 2],
    record_bytes: [u64; 2],
    finished: [usize; 2],
    done: usize,
    close_notify: [bool; 2],
    alerts: Vec<(Direction, u8, u8)>,
    violations: Vec<String>,
    gaps: u64,
    tickets: usize,
}

impl Conn {
    fn add(&mut self, e: TlsEvent<'_>) {
        match e {
            TlsEvent::Record { dir, len, .. } => {
                self.records[dir.index()] += 1;
                self.record_bytes[dir.index()] += len as u64;
            }
            TlsEvent::ClientHello(ch) => self.client_hello = Some(*ch),
            TlsEvent::ServerHello(sh) => self.server_hello = Some(*sh),
            TlsEvent::HelloRetryRequest(_) => self.hrr += 1,
            TlsEvent::EncryptedExtensions { alpn } => self.ee_alpn = Some(alpn),
            TlsEvent::Certificate {
                dir,
                subject,
                issuer,
                ..
            } => self.certificates.push((dir, subject, issuer)),
            TlsEvent::Finished { dir } => self.finished[dir.index()] += 1,
            TlsEvent::HandshakeDone { .. } => self.done += 1,
            TlsEvent::NewSessionTicket { .. } => self.tickets += 1,
            TlsEvent::Alert {
                dir,
                level,
                description,
                ..
            } => self.alerts.push((dir, level, description)),
            TlsEvent::CloseNotify { dir } => self.close_notify[dir.index()] = true,
            TlsEvent::Decrypt { dir, ok, reason } => self.decrypt.push((dir, ok, reason)),
            TlsEvent::Plaintext { dir, bytes } => self.plain[dir.index()].extend_from_slice(bytes),
            TlsEvent::Gap { bytes, .. } => self.gaps += bytes,
            TlsEvent::Violation { rule, message, .. } => {
                self.violations.push(format!("{}: {message}", rule.code))
            }
            TlsEvent::KeyUpdate { .. } | TlsEvent::ChangeCipherSpec { .. } => {}
        }
    }
}

/// Every TCP event of a capture, from the crate's wire decoder and flow table
/// (as `Analyzer::packet` drives them).
fn tcp_events(capture: &Path, handle: &mut impl FnMut(TcpEvent<'_>)) {
    tcp_events_without(capture, 0, handle)
}

/// [`tcp_events`] with packet number `drop` (1-based) left out, as if the
/// capture had missed it.
fn tcp_events_without(capture: &Path, drop: u64, handle: &mut impl FnMut(TcpEvent<'_>)) {
    let mut cap = pcap::Capture::from_file(capture).expect("open capture");
    let linktype = cap.get_datalink().0;
    let mut wire = Decoder::new(WireLimits::default());
    let mut flows = FlowTable::new(TcpConfig::default());
    let mut pkt = 0;
    while let Ok(p) = cap.next_packet() {
        pkt += 1;
        if pkt == drop {
            continue;
        }
        let ts = Timestamp::from_parts(p.header.ts.tv_sec, p.header.ts.tv_usec);
        if let Decoded::Tcp(seg) = wire.decode(linktype, p.data, ts) {
            flows.segment(pkt, ts, &SegmentInfo::from(&seg), handle);
        }
    }
    flows.finish(handle);
}

/// Every TCP connection of a capture through the TLS layer.
fn run(capture: &Path, keys: Arc<KeyLog>) -> BTreeMap<u64, Conn> {
    run_without(capture, keys, 0)
}

/// [`run`] with one packet left out.
fn run_without(capture: &Path, keys: Arc<KeyLog>, drop: u64) -> BTreeMap<u64, Conn> {
    let mut conns: BTreeMap<u64, Conn> = BTreeMap::new();
    let mut layers: HashMap<u64, TlsLayer> = HashMap::new();
    let mut handle = |ev: TcpEvent<'_>| {
        let c = ev.conn();
        match ev {
            TcpEvent::Open { client, .. } => {
                conns.insert(
                    c,
                    Conn {
                        client_port: client.port(),
                        ..Conn::default()
                    },
                );
                layers.insert(c, TlsLayer::new(keys.clone()));
            }
            TcpEvent::Data { dir, bytes, .. } => {
                let conn = conns.get_mut(&c).unwrap();
                layers
                    .get_mut(&c)
                    .unwrap()
                    .feed(dir, bytes, &mut |e| conn.add(e));
            }
            TcpEvent::Gap { dir, bytes, .. } => {
                let conn = conns.get_mut(&c).unwrap();
                layers
                    .get_mut(&c)
                    .unwrap()
                    .gap(dir, bytes, &mut |e| conn.add(e));
            }
            TcpEvent::Teardown {
                dir,
                how: TeardownHow::Fin,
                step: Some(TeardownStep::Fin),
                ..
            } => {
                let conn = conns.get_mut(&c).unwrap();
                layers.get_mut(&c).unwrap().end(dir, &mut |e| conn.add(e));
            }
            TcpEvent::Closed { .. } => {
                let conn = conns.get_mut(&c).unwrap();
                let mut layer = layers.remove(&c).unwrap();
                layer.end(Direction::C2S, &mut |e| conn.add(e));
                layer.end(Direction::S2C, &mut |e| conn.add(e));
            }
            _ => {}
        }
    };
    tcp_events_without(capture, drop, &mut handle);
    conns
}

fn keylog(name: &str) -> Arc<KeyLog> {
    let text = std::fs::read_to_string(dir_path().join(format!("{name}.keylog"))).unwrap();
    let (k, bad) = KeyLog::parse(&text);
    assert!(bad.is_empty(), "{name}.keylog: {bad:?}");
    Arc::new(k)
}

fn facts(name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(dir_path().join(format!("{name}.facts.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// (fin, rsv, opcode, masked, payload length) of each WebSocket frame in a
/// decrypted HTTP/1.1 stream, after its head; panics on a torn frame.
fn ws_frames(stream: &[u8]) -> Vec<(u8, u8, u8, u8, u64)> {
    let head = stream
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP head")
        + 4;
    let mut r = &stream[head..];
    let mut out = Vec::new();
    while !r.is_empty() {
        assert!(r.len() >= 2, "a torn frame header");
        let (b0, b1) = (r[0], r[1]);
        let (len, mut at) = match b1 & 0x7f {
            126 => (u16::from_be_bytes([r[2], r[3]]) as u64, 4),
            127 => (u64::from_be_bytes(r[2..10].try_into().unwrap()), 10),
            n => (n as u64, 2),
        };
        if b1 & 0x80 != 0 {
            at += 4;
        }
        let end = at + len as usize;
        assert!(r.len() >= end, "a torn frame: {} of {} bytes", r.len(), end);
        out.push((b0 >> 7, (b0 >> 4) & 7, b0 & 0xf, b1 >> 7, len));
        r = &r[end..];
    }
    out
}

/// The data messages of a decrypted HTTP/1.1 WebSocket stream, after its head:
/// (kind, length, sha256 hex) with masks removed, fragments joined and
/// permessage-deflate (RFC 7692, context kept across messages) inflated.
fn ws_messages(stream: &[u8]) -> Msgs {
    use sha2::{Digest, Sha256};
    let head = stream.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let mut r = &stream[head..];
    let mut out = Vec::new();
    let mut inflate = flate2::Decompress::new(false);
    let mut msg: Option<(&'static str, bool, Vec<u8>)> = None;
    while !r.is_empty() {
        let (b0, b1) = (r[0], r[1]);
        let (len, mut at) = match b1 & 0x7f {
            126 => (u16::from_be_bytes([r[2], r[3]]) as usize, 4),
            127 => (
                u64::from_be_bytes(r[2..10].try_into().unwrap()) as usize,
                10,
            ),
            n => (n as usize, 2),
        };
        let mask = (b1 & 0x80 != 0).then(|| {
            at += 4;
            [r[at - 4], r[at - 3], r[at - 2], r[at - 1]]
        });
        let mut payload = r[at..at + len].to_vec();
        if let Some(m) = mask {
            payload
                .iter_mut()
                .enumerate()
                .for_each(|(i, b)| *b ^= m[i % 4]);
        }
        r = &r[at + len..];
        let opcode = b0 & 0xf;
        match opcode {
            1 | 2 => {
                let kind = if opcode == 1 { "text" } else { "binary" };
                msg = Some((kind, b0 & 0x40 != 0, payload));
            }
            0 => msg.as_mut().unwrap().2.extend(payload),
            _ => continue,
        }
        if b0 & 0x80 == 0 {
            continue;
        }
        let (kind, compressed, mut data) = msg.take().unwrap();
        if compressed {
            data.extend_from_slice(&[0, 0, 0xff, 0xff]);
            let mut plain = Vec::with_capacity(data.len() * 4 + 1024);
            let mut input = &data[..];
            loop {
                let before = inflate.total_in();
                inflate
                    .decompress_vec(input, &mut plain, flate2::FlushDecompress::Sync)
                    .unwrap();
                input = &input[(inflate.total_in() - before) as usize..];
                if input.is_empty() && plain.len() < plain.capacity() {
                    break;
                }
                plain.reserve(plain.capacity().max(1024));
            }
            data = plain;
        }
        out.push((kind, data.len(), format!("{:x}", Sha256::digest(&data))));
    }
    out
}

/// Data messages: (kind, length, sha256 hex).
type Msgs = Vec<(&'static str, usize, String)>;

/// The peers' own log of the data messages of one connection, from the
/// server's side: (messages it received = client to server, messages it sent).
fn logged_messages(facts: &serde_json::Value, client_port: u16) -> (Msgs, Msgs) {
    let conn = facts["server"]["conns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["remote"]["port"].as_u64() == Some(client_port as u64)
                && c["events"]
                    .as_array()
                    .is_some_and(|e| e.iter().any(|e| e["kind"] == "text"))
        })
        .expect("the server logged this connection");
    let (mut recv, mut send) = (Vec::new(), Vec::new());
    for e in conn["events"].as_array().unwrap() {
        let kind = match e["kind"].as_str() {
            Some("text") => "text",
            Some("binary") => "binary",
            _ => continue,
        };
        let len = e["len"].as_u64().unwrap() as usize;
        let m = (kind, len, e["sha256"].as_str().unwrap().to_string());
        if e["op"] == "recv" {
            recv.push(m)
        } else {
            send.push(m)
        }
    }
    (recv, send)
}

/// tshark's frames for one client port: (C2S frames, S2C frames).
type Frame = (u8, u8, u8, u8, u64);
fn tshark_frames(capture: &str, client_port: u16) -> (Vec<Frame>, Vec<Frame>) {
    let text = std::fs::read_to_string(dir_path().join(format!("{capture}.frames.tsv"))).unwrap();
    let (mut c2s, mut s2c) = (Vec::new(), Vec::new());
    let mut rows = text.lines();
    let header: Vec<&str> = rows.next().unwrap().split('\t').collect();
    let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
    let (srcport, stream) = (col("srcport"), col("stream"));
    let (fin, rsv, opcode, masked, len) = (
        col("fin"),
        col("rsv"),
        col("opcode"),
        col("masked"),
        col("payload_len"),
    );
    let streams: Vec<Vec<String>> = rows
        .map(|l| l.split('\t').map(String::from).collect())
        .collect();
    // The TCP stream of this client port: the one whose client-side rows use it.
    let ours: Vec<&String> = streams
        .iter()
        .filter(|r| r[srcport] == client_port.to_string())
        .map(|r| &r[stream])
        .collect();
    for r in &streams {
        if !ours.contains(&&r[stream]) {
            continue;
        }
        let b = |s: &str| -> u8 {
            match s {
                "True" | "true" => 1,
                "False" | "false" => 0,
                s => s.parse().unwrap(),
            }
        };
        let f = (
            b(&r[fin]),
            b(&r[rsv]),
            b(&r[opcode]),
            b(&r[masked]),
            r[len].parse().unwrap(),
        );
        if r[srcport] == client_port.to_string() {
            c2s.push(f);
        } else {
            s2c.push(f);
        }
    }
    (c2s, s2c)
}

/// The OpenSSL name of the TLS 1.2 suites the captures use (facts.json logs those).
fn suite_id_of(facts_cipher: &str) -> u16 {
    match facts_cipher {
        "ECDHE-RSA-AES128-GCM-SHA256" => 0xc02f,
        "ECDHE-RSA-AES128-SHA" => 0xc013,
        iana => (0..=0xffffu16)
            .find(|&id| crypto::suite_name(id) == Some(iana))
            .expect("known suite"),
    }
}

/// The common checks of a wss capture: for every connection the peers logged,
/// version and cipher as in facts.json, ALPN, both directions decrypted, the
/// HTTP Upgrade at the start of each plaintext, and exactly tshark's WebSocket
/// frames after it.
fn check_wss(name: &str, capture_file: &str, keys: Arc<KeyLog>) -> BTreeMap<u64, Conn> {
    let conns = run(&dir_path().join(capture_file), keys);
    let facts = facts(name);
    let logged = facts["connections"].as_array().unwrap();
    assert!(!logged.is_empty());
    for f in logged {
        let port = f["client_port"].as_u64().unwrap() as u16;
        let tls = &f["tls"];
        let c = conns
            .values()
            .find(|c| c.client_port == port)
            .unwrap_or_else(|| panic!("{name}: no conn for {port}"));
        let sh = c.server_hello.as_ref().expect("ServerHello");
        let want_version = match tls["version"].as_str().unwrap() {
            "TLSv1.3" => 0x0304,
            "TLSv1.2" => 0x0303,
            v => panic!("version {v}"),
        };
        assert_eq!(sh.version, want_version, "{name}: version");
        assert_eq!(
            sh.cipher_suite,
            suite_id_of(tls["cipher"].as_str().unwrap()),
            "{name}: cipher"
        );
        assert_eq!(sh.cipher_name, crypto::suite_name(sh.cipher_suite));
        let ch = c.client_hello.as_ref().expect("ClientHello");
        assert_ne!(ch.client_random, [0; 32]);
        // ALPN: TLS 1.3 says it in EncryptedExtensions, TLS 1.2 in the ServerHello.
        let alpn = if want_version == 0x0304 {
            c.ee_alpn.clone().expect("EncryptedExtensions decrypted")
        } else {
            sh.alpn.clone()
        };
        assert_eq!(alpn.as_deref(), tls["alpn"].as_str(), "{name}: ALPN");
        if let Some(a) = tls["alpn"].as_str() {
            assert!(ch.alpn.iter().any(|o| o == a), "{name}: {a} offered");
        }
        let mut d = c.decrypt.clone();
        d.sort_by_key(|x| x.0);
        assert_eq!(
            d,
            vec![(Direction::C2S, true, None), (Direction::S2C, true, None)],
            "{name}: decrypt outcome"
        );
        assert_eq!(c.finished, [1, 1], "{name}: Finished both ways");
        assert_eq!(c.done, 1);
        assert!(c.violations.is_empty(), "{name}: {:?}", c.violations);
        assert_eq!(c.gaps, 0);
        if f["h2_stream"].is_null() {
            assert!(
                c.plain[0].starts_with(b"GET "),
                "{name}: client plaintext starts with GET"
            );
            assert!(
                c.plain[1].starts_with(b"HTTP/1.1 101"),
                "{name}: server plaintext starts with 101"
            );
            let (c2s, s2c) = tshark_frames(capture_file, port);
            assert!(
                !c2s.is_empty() && !s2c.is_empty(),
                "{name}: tshark lists frames"
            );
            assert_eq!(
                ws_frames(&c.plain[0]),
                c2s,
                "{name}: client frames as tshark"
            );
            assert_eq!(
                ws_frames(&c.plain[1]),
                s2c,
                "{name}: server frames as tshark"
            );
            // Every message byte for byte, as the peers logged it.
            let (recv, send) = logged_messages(&facts, port);
            assert!(!recv.is_empty());
            assert_eq!(ws_messages(&c.plain[0]), recv, "{name}: client messages");
            assert_eq!(ws_messages(&c.plain[1]), send, "{name}: server messages");
        }
    }
    conns
}

#[test]
fn py_tls13_aes256gcm() {
    let conns = check_wss("py_tls13_std", "py_tls13_std.pcap", keylog("py_tls13_std"));
    let c = conns.values().next().unwrap();
    let ch = c.client_hello.as_ref().unwrap();
    assert!(ch.supported_versions.contains(&0x0304));
    assert!(!ch.key_share_groups.is_empty());
    assert!(ch.cipher_suites.contains(&0x1302));
    // TLS 1.3: the certificate is only seen after decryption.
    assert_eq!(c.certificates.len(), 1);
    assert_eq!(c.certificates[0].0, Direction::S2C);
    assert!(c.certificates[0].1.is_some());
}

#[test]
fn tls12_aes128_gcm() {
    let conns = check_wss(
        "tls12_ecdhe_rsa_aes128_gcm_py",
        "tls12_ecdhe_rsa_aes128_gcm_py.pcap",
        keylog("tls12_ecdhe_rsa_aes128_gcm_py"),
    );
    let c = conns.values().next().unwrap();
    assert!(!c.server_hello.as_ref().unwrap().encrypt_then_mac);
    // TLS 1.2: the certificate is in clear.
    assert_eq!(c.certificates.len(), 1);
}

#[test]
fn tls12_aes128_cbc_sha_encrypt_then_mac() {
    let conns = check_wss(
        "tls12_ecdhe_rsa_aes128_sha_cbc_etm_py",
        "tls12_ecdhe_rsa_aes128_sha_cbc_etm_py.pcap",
        keylog("tls12_ecdhe_rsa_aes128_sha_cbc_etm_py"),
    );
    let c = conns.values().next().unwrap();
    assert!(c.client_hello.as_ref().unwrap().encrypt_then_mac);
    assert!(c.server_hello.as_ref().unwrap().encrypt_then_mac);
}

#[test]
fn tls13_chacha20_node_client() {
    check_wss(
        "tls13_chacha20_py_server_node_client",
        "tls13_chacha20_py_server_node_client.pcap",
        keylog("tls13_chacha20_py_server_node_client"),
    );
}

#[test]
fn chromium_resumed_tls13() {
    let conns = check_wss(
        "chromium_wss_node",
        "chromium_wss_node.pcap",
        keylog("chromium_wss_node"),
    );
    // The WebSocket connection resumed a session: Chromium offered a PSK and the server took it.
    let ws = conns.values().find(|c| c.client_port == 49342).unwrap();
    assert!(ws.client_hello.as_ref().unwrap().psk_offered);
    assert!(ws.server_hello.as_ref().unwrap().psk_accepted);
    assert_eq!(
        ws.client_hello.as_ref().unwrap().sni,
        None,
        "Chromium sends no SNI to an IP address"
    );
    // The other connections: the page's HTTPS requests decrypt too; the first
    // one Chromium dropped after the ServerHello (its certificate was not yet
    // trusted) and logged no secrets for: the server's records wait for a key
    // that never comes.
    let mut decrypted = 0;
    for c in conns.values() {
        if c.client_port == 49316 {
            assert_eq!(c.records[0], 1, "only the ClientHello");
            assert_eq!(c.decrypt, vec![(Direction::S2C, false, Some("no_key"))]);
            continue;
        }
        assert!(
            c.decrypt.iter().all(|d| d.1),
            "{}: {:?}",
            c.client_port,
            c.decrypt
        );
        if !c.plain[0].is_empty() {
            assert!(c.plain[0].starts_with(b"GET "), "{}", c.client_port);
            decrypted += 1;
        }
    }
    assert_eq!(decrypted, 2, "the page and the WebSocket");
}

/// HTTP/2 frames (type, stream id) of a decrypted h2 stream after `skip` bytes.
fn h2_frames(b: &[u8]) -> Vec<(u8, u32)> {
    let mut r = b;
    let mut out = Vec::new();
    while !r.is_empty() {
        assert!(r.len() >= 9, "a torn HTTP/2 frame header");
        let len = (r[0] as usize) << 16 | (r[1] as usize) << 8 | r[2] as usize;
        let sid = u32::from_be_bytes([r[5] & 0x7f, r[6], r[7], r[8]]);
        assert!(r.len() >= 9 + len, "a torn HTTP/2 frame");
        out.push((r[3], sid));
        r = &r[9 + len..];
    }
    out
}

#[test]
fn h2_over_tls13() {
    let name = "h2_rfc8441_hypercorn_tls";
    let conns = check_wss(name, &format!("{name}.pcap"), keylog(name));
    let c = conns.values().next().unwrap();
    const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    assert!(c.plain[0].starts_with(PREFACE));
    let c2s = h2_frames(&c.plain[0][PREFACE.len()..]);
    let s2c = h2_frames(&c.plain[1]);
    assert_eq!(s2c[0].0, 4, "the server begins with SETTINGS");
    // DATA frames per stream, as the client logged them.
    let f = facts(name);
    let data = |frames: &[(u8, u32)], sid: u32| {
        frames.iter().filter(|f| f.0 == 0 && f.1 == sid).count() as u64
    };
    let mut checked = 0;
    for conn in f["client"]["conns"].as_array().unwrap() {
        let Some(sid) = conn["h2_stream"].as_u64() else {
            continue;
        };
        let Some(counts) = conn.get("h2_data_frames") else {
            continue;
        };
        assert_eq!(
            data(&c2s, sid as u32),
            counts["sent"].as_u64().unwrap(),
            "stream {sid} sent"
        );
        assert_eq!(
            data(&s2c, sid as u32),
            counts["recv"].as_u64().unwrap(),
            "stream {sid} received"
        );
        checked += 1;
    }
    assert_eq!(checked, 2);
}

#[test]
fn wrong_key_log_decrypts_nothing() {
    let name = "tls13_wrong_keylog_other_session";
    let keys = keylog(name);
    assert!(
        !keys.is_empty(),
        "the key log has secrets, of another session"
    );
    let conns = run(&dir_path().join(format!("{name}.pcap")), keys);
    assert_eq!(conns.len(), 1);
    let c = conns.values().next().unwrap();
    assert!(c.client_hello.is_some() && c.server_hello.is_some());
    assert!(c.plain.iter().all(Vec::is_empty), "nothing decrypted");
    let mut d = c.decrypt.clone();
    d.sort_by_key(|x| x.0);
    assert_eq!(
        d,
        vec![
            (Direction::C2S, false, Some("no_key")),
            (Direction::S2C, false, Some("no_key"))
        ]
    );
    assert!(c.certificates.is_empty() && c.ee_alpn.is_none());
    // The records are still all reported by size.
    assert!(c.records[0] > 5 && c.records[1] > 5);
}

#[test]
fn dsb_pcapng_carries_its_own_keys() {
    let path = dir_path().join("py_tls13_std-dsb.pcapng");
    let file = std::fs::read(&path).unwrap();
    let mut keys = KeyLog::new();
    let mut raw = KeyLog::new();
    let mut blocks = 0;
    for b in pcap_parser::pcapng::PcapNGSlice::from_slice(&file).unwrap() {
        if let pcap_parser::PcapBlockOwned::NG(pcap_parser::Block::DecryptionSecrets(dsb)) =
            b.unwrap()
        {
            blocks += 1;
            let bad = keys.add_dsb_secrets(dsb.secrets_type.0, dsb.data).unwrap();
            assert!(bad.is_empty(), "{bad:?}");
            // The same block from its raw body (type, length, data), as laid in the file.
            let at = dsb.data.as_ptr() as usize - file.as_ptr() as usize;
            assert!(raw.add_dsb(&file[at - 8..], false).unwrap().is_empty());
        }
    }
    assert_eq!(blocks, 1);
    assert_eq!(keys.len(), 1);
    assert_eq!(raw.len(), 1);
    let (from_file, _) =
        KeyLog::parse(&std::fs::read_to_string(dir_path().join("py_tls13_std.keylog")).unwrap());
    let cr = from_file.sessions().next().unwrap();
    assert_eq!(keys.get(cr), from_file.get(cr));
    check_wss("py_tls13_std", "py_tls13_std-dsb.pcapng", Arc::new(keys));
}

/// Live capture: the key log line arrives after the records. Nothing is
/// decrypted until then; then everything is, in order.
#[test]
fn keys_arriving_late_release_held_records() {
    let name = "py_tls13_std";
    let full = std::fs::read_to_string(dir_path().join(format!("{name}.keylog"))).unwrap();
    let mut keys = KeyLog::new();
    // Only the handshake secrets at first, and one line cut in the middle.
    let hs: String = full
        .lines()
        .filter(|l| l.contains("HANDSHAKE"))
        .map(|l| format!("{l}\n"))
        .collect();
    let (a, b) = hs.split_at(hs.len() - 20);
    assert!(keys.add_text(a).is_empty());
    let with_hs = Arc::new(keys.clone());
    let mut late = run(&dir_path().join(format!("{name}.pcap")), with_hs);
    let c = late.values_mut().next().unwrap();
    assert!(c.plain.iter().all(Vec::is_empty));
    // Now feed the capture again, but grow the key log at the end of it.
    assert!(keys.add_text(b).is_empty());
    let app: String = full
        .lines()
        .filter(|l| l.contains("TRAFFIC_SECRET_0"))
        .map(|l| format!("{l}\n"))
        .collect();
    let conns = run_then_update(&dir_path().join(format!("{name}.pcap")), keys, &app);
    let c = conns.values().next().unwrap();
    assert!(c.plain[0].starts_with(b"GET "));
    assert!(c.plain[1].starts_with(b"HTTP/1.1 101"));
    let (c2s, s2c) = tshark_frames(&format!("{name}.pcap"), c.client_port);
    assert_eq!(ws_frames(&c.plain[0]), c2s);
    assert_eq!(ws_frames(&c.plain[1]), s2c);
}

/// Feeds a whole capture's streams (without ending them), then adds `more` to
/// the key log and calls `keys_updated`, then ends the streams.
fn run_then_update(capture: &Path, keys: KeyLog, more: &str) -> BTreeMap<u64, Conn> {
    let streams = streams(capture);
    let mut keys = keys;
    let mut out = BTreeMap::new();
    for (id, (port, parts)) in streams {
        let mut c = Conn {
            client_port: port,
            ..Conn::default()
        };
        let mut layer = TlsLayer::new(Arc::new(keys.clone()));
        for (dir, bytes) in &parts {
            layer.feed(*dir, bytes, &mut |e| c.add(e));
        }
        assert!(c.plain.iter().all(Vec::is_empty));
        assert!(layer.waiting_for_keys());
        let mut k2 = keys.clone();
        assert!(k2.add_text(more).is_empty());
        layer.keys_updated(Arc::new(k2.clone()), &mut |e| c.add(e));
        layer.end(Direction::C2S, &mut |e| c.add(e));
        layer.end(Direction::S2C, &mut |e| c.add(e));
        keys = k2;
        out.insert(id, c);
    }
    out
}

/// The data of each connection, in capture order: (client port, [(dir, bytes)]).
#[allow(clippy::type_complexity)]
fn streams(capture: &Path) -> BTreeMap<u64, (u16, Vec<(Direction, Vec<u8>)>)> {
    let mut out: BTreeMap<u64, (u16, Vec<(Direction, Vec<u8>)>)> = BTreeMap::new();
    let mut handle = |ev: TcpEvent<'_>| match ev {
        TcpEvent::Open { conn, client, .. } => {
            out.insert(conn, (client.port(), Vec::new()));
        }
        TcpEvent::Data { conn, dir, bytes } => {
            out.get_mut(&conn).unwrap().1.push((dir, bytes.to_vec()))
        }
        TcpEvent::Gap { .. } => panic!("these captures have no holes"),
        _ => {}
    };
    tcp_events(capture, &mut handle);
    out
}

/// Decrypt throughput, printed (not asserted): each capture's two streams fed
/// to fresh layers again and again for about a second.
/// `cargo test --release --test tls_layer -- --ignored --nocapture throughput`
#[test]
#[ignore]
fn throughput() {
    for name in [
        "py_tls13_std",
        "tls13_chacha20_py_server_node_client",
        "tls12_ecdhe_rsa_aes128_gcm_py",
        "tls12_ecdhe_rsa_aes128_sha_cbc_etm_py",
    ] {
        let keys = keylog(name);
        let streams = streams(&dir_path().join(format!("{name}.pcap")));
        let bytes: usize = streams
            .values()
            .flat_map(|s| s.1.iter().map(|p| p.1.len()))
            .sum();
        let start = std::time::Instant::now();
        let mut runs = 0u32;
        let mut plain = 0usize;
        while start.elapsed().as_secs_f64() < 1.0 {
            for (_, parts) in streams.values() {
                let mut layer = TlsLayer::new(keys.clone());
                for (dir, b) in parts {
                    layer.feed(*dir, b, &mut |e| {
                        if let TlsEvent::Plaintext { bytes, .. } = e {
                            plain += bytes.len();
                        }
                    });
                }
            }
            runs += 1;
        }
        let secs = start.elapsed().as_secs_f64();
        assert!(plain > 0);
        println!(
            "{name}: {:.1} MB/s of TLS stream ({} bytes x {runs} runs in {secs:.2} s)",
            (bytes as f64 * runs as f64) / secs / 1e6,
            bytes
        );
    }
}

/// Each data packet after the handshake left out in turn: the TCP layer
/// declares the hole, the TLS layer loses what it must and finds the next
/// record (and its sequence number) again; nothing after the hole is lost.
#[test]
fn a_lost_packet_costs_only_its_records() {
    let name = "py_tls13_std";
    let path = dir_path().join(format!("{name}.pcap"));
    let keys = keylog(name);
    let whole = run(&path, keys.clone());
    let whole = whole.values().next().unwrap();
    let frames = ws_frames(&whole.plain[1]);
    let mut checked = 0;
    // Packets 12 to 34 carry the WebSocket frames (frames.tsv).
    for drop in 12..=34 {
        let conns = run_without(&path, keys.clone(), drop);
        let c = conns.values().next().unwrap();
        if c.gaps == 0 {
            continue; // a pure ACK
        }
        checked += 1;
        assert!(
            c.decrypt.iter().all(|d| d.1),
            "packet {drop}: {:?} {:?}",
            c.decrypt,
            c.violations
        );
        // One direction lost bytes; the other is whole.
        let lossy = (0..2)
            .find(|&d| c.plain[d] != whole.plain[d])
            .expect("something lost");
        let other = 1 - lossy;
        assert_eq!(c.plain[other], whole.plain[other], "packet {drop}");
        // What is left is the whole plaintext with one piece cut out of it.
        let (got, all) = (&c.plain[lossy], &whole.plain[lossy]);
        let head = got
            .iter()
            .zip(all.iter())
            .take_while(|(a, b)| a == b)
            .count();
        let tail = got
            .iter()
            .rev()
            .zip(all.iter().rev())
            .take_while(|(a, b)| a == b)
            .count();
        assert!(
            head + tail >= got.len(),
            "packet {drop}: more than one piece differs"
        );
        assert!(got.len() < all.len());
        // Packets 33 and 34 are each side's last (the close frames): nothing follows them.
        if drop < 33 {
            assert!(tail > 0, "packet {drop}: nothing decrypted after the hole");
        }
        assert!(
            c.violations.iter().all(|v| v.starts_with("tls_gap_resync")),
            "{:?}",
            c.violations
        );
    }
    assert!(checked >= 10, "only {checked} packets with data");
    assert!(!frames.is_empty());
}
