//! Unit tests: RFC 8448 and PRF test vectors, the key log, and a synthetic
//! TLS 1.3 session (sealed here with the same RustCrypto primitives) split,
//! damaged and cut in every way.

use std::sync::Arc;

use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::Aes128Gcm;
use proptest::prelude::*;

use super::crypto::{
    hkdf_expand_label, next_traffic_secret, prf12, suite_params, Decryptor, HashAlg,
};
use super::*;

fn h(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

// RFC 8448 3 (simple 1-RTT handshake), TLS_AES_128_GCM_SHA256.
const C_HS: &str = "b3 ed db 12 6e 06 7f 35 a7 80 b3 ab f4 5e 2d 8f 3b 1a 95 07 38 f5 2e 96 00 74 6a 0e 27 a5 5a 21";
const S_HS: &str = "b6 7b 7d 69 0c c1 6c 4e 75 e5 42 13 cb 2d 37 b4 e9 c9 12 bc de d9 10 5d 42 be fd 59 d3 91 ad 38";
const S_AP: &str = "a1 1a f9 f0 55 31 f8 56 ad 47 11 6b 45 a9 50 32 82 04 b4 f4 4b fb 6b 3a 4b 4f 1f 3f cb 63 16 43";

#[test]
fn rfc8448_traffic_keys() {
    let k = |secret: &str, label: &str, len| {
        hkdf_expand_label(HashAlg::Sha256, &h(secret), label, &[], len).unwrap()
    };
    assert_eq!(
        k(S_HS, "key", 16),
        h("3f ce 51 60 09 c2 17 27 d0 f2 e4 e8 6e e4 03 bc")
    );
    assert_eq!(k(S_HS, "iv", 12), h("5d 31 3e b2 67 12 76 ee 13 00 0b 30"));
    assert_eq!(
        k(C_HS, "key", 16),
        h("db fa a6 93 d1 76 2c 5b 66 6a f5 d9 50 25 8d 01")
    );
    assert_eq!(k(C_HS, "iv", 12), h("5b d3 c7 1b 83 6e 0b 76 bb 73 26 5f"));
    assert_eq!(
        k(S_AP, "key", 16),
        h("9f 02 28 3b 6c 9c 07 ef c2 6b b9 f2 ac 92 e3 56")
    );
    assert_eq!(k(S_AP, "iv", 12), h("cf 78 2b 88 dd 83 54 9a ad f1 e9 84"));
    // The server Finished key ("tls13 finished") from the same schedule.
    assert_eq!(
        k(S_HS, "finished", 32),
        h("00 8d 3b 66 f8 16 ea 55 9f 96 b5 37 e8 85 c3 1f c0 68 bf 49 2c 65 2f 01 f2 88 a1 d8 cd c1 9f c8")
    );
}

#[test]
fn rfc8448_client_finished_record_decrypts() {
    let record = h("17 03 03 00 35 75 ec 4d c2 38 cc e6 0b 29 80 44 a7 1e 21 9c 56 cc 77 b0 51 7f e9 b9 3c 7a
                    4b fc 44 d8 7f 38 f8 03 38 ac 98 fc 46 de b3 84 bd 1c ae ac ab 68 67 d7 26 c4 05 46");
    let finished = h(
        "14 00 00 20 a8 ec 43 6d 67 76 34 ae 52 5a c1 fc eb e1 1a 03 9e c1 76 94 fa c6 e9 85 27 b6
                      42 f2 ed d5 ce 61",
    );
    let mut d = Decryptor::tls13(suite_params(0x1301).unwrap(), &h(C_HS)).unwrap();
    let mut out = Vec::new();
    assert_eq!(d.open(23, [3, 3], &record[5..], &mut out), Ok(22));
    assert_eq!(out, finished);
    assert_eq!(d.seq, 1);
    // The same record again is at the wrong sequence number now.
    assert_eq!(
        d.open(23, [3, 3], &record[5..], &mut out),
        Err(crypto::OpenError::BadTag)
    );
}

#[test]
fn tls12_prf_sha256_vector() {
    let out = prf12(
        HashAlg::Sha256,
        &h("9b be 43 6b a9 40 f0 17 b1 76 52 84 9a 71 db 35"),
        b"test label",
        &h("a0 ba 9f 93 6c da 31 18 27 a6 f7 96 ff d5 19 8c"),
        100,
    );
    assert_eq!(
        out,
        h("e3 f2 29 ba 72 7b e1 7b 8d 12 26 20 55 7c d4 53 c2 aa b2 1d 07 c3 d4 95 32 9b 52 d4 e6 1e db 5a
           6b 30 17 91 e9 0d 35 c9 c9 a4 6b 4e 14 ba f9 af 0f a0 22 f7 07 7d ef 17 ab fd 37 97 c0 56 4b ab
           4f bc 91 66 6e 9d ef 9b 97 fc e3 4f 79 67 89 ba a4 80 82 d1 22 ee 42 c5 a7 2e 5a 51 10 ff f7 01
           87 34 7b 66")
    );
}

#[test]
fn suites_from_the_registry() {
    let p = suite_params(0x1302).unwrap();
    assert!(p.tls13 && p.bulk == crypto::Bulk::Aes256Gcm && p.prf == HashAlg::Sha384);
    let p = suite_params(0xc013).unwrap();
    assert!(
        !p.tls13
            && p.bulk == crypto::Bulk::Aes128Cbc
            && p.mac == Some(HashAlg::Sha1)
            && p.prf == HashAlg::Sha256
    );
    let p = suite_params(0xc028).unwrap();
    assert_eq!(
        (p.bulk, p.mac, p.prf),
        (
            crypto::Bulk::Aes256Cbc,
            Some(HashAlg::Sha384),
            HashAlg::Sha384
        )
    );
    assert_eq!(
        suite_params(0xcca8).unwrap().bulk,
        crypto::Bulk::ChaCha20Poly1305
    );
    assert_eq!(suite_params(0x1304), None, "CCM is not decrypted");
    assert_eq!(suite_params(0x000a), None, "3DES is not decrypted");
    assert_eq!(
        crypto::suite_name(0xc02f),
        Some("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
    );
    for r in rules::ALL {
        assert!(
            r.code.starts_with("tls_") && r.rfc.starts_with("RFC "),
            "{r:?}"
        );
    }
}

// ---- key log ----

const R1: &str = "5d33d3a04ce3d877f53e814979041454e16e3045e97a734c4bb4795b98c98538";

#[test]
fn key_log_lines() {
    let text = format!(
        "# comment\n\n\
         CLIENT_RANDOM {R1} {m}\n\
         EXPORTER_SECRET {R1} {s32}\n\
         CLIENT_TRAFFIC_SECRET_0 {R1} {s32}\n\
         CLIENT_RANDOM {R1}\n\
         CLIENT_RANDOM zz{rest} {m}\n\
         CLIENT_RANDOM {R1} abc\n\
         SERVER_TRAFFIC_SECRET_0 {R1} {s32} extra\n\
         CLIENT_RANDOM 00 {m}\n\
         SERVER_HANDSHAKE_TRAFFIC_SECRET {R1} {s20}",
        m = "ab".repeat(48),
        s32 = "cd".repeat(32),
        s20 = "ef".repeat(20),
        rest = &R1[2..],
    );
    let (k, bad) = KeyLog::parse(&text);
    let lines: Vec<(usize, BadLineReason)> = bad.iter().map(|b| (b.line, b.reason)).collect();
    assert_eq!(
        lines,
        vec![
            (6, BadLineReason::TooFewFields),
            (7, BadLineReason::RandomNotHex),
            (8, BadLineReason::SecretNotHex),
            (9, BadLineReason::TooManyFields),
            (10, BadLineReason::RandomNot32Bytes),
            (11, BadLineReason::TrafficSecretLength),
        ]
    );
    let r: [u8; 32] = h(R1).try_into().unwrap();
    let s = k.get(&r).unwrap();
    assert_eq!(s.master_secret.as_deref(), Some(&[0xab; 48][..]));
    assert_eq!(s.client_traffic_0.as_deref(), Some(&[0xcd; 32][..]));
    assert_eq!(s.server_traffic_0, None);
    assert_eq!(k.len(), 1);
}

#[test]
fn key_log_grows_with_partial_lines() {
    let line = format!("SERVER_TRAFFIC_SECRET_0 {R1} {}\n", "11".repeat(48));
    let mut k = KeyLog::new();
    assert!(k.add_text("# header\n").is_empty());
    for piece in line.as_bytes().chunks(7) {
        assert!(k.add_bytes(piece).is_empty());
    }
    let r: [u8; 32] = h(R1).try_into().unwrap();
    assert_eq!(
        k.get(&r).unwrap().server_traffic_0.as_deref(),
        Some(&[0x11; 48][..])
    );
    // A partial line waits; flush takes it as it is; line numbers go on.
    assert!(k.add_text("CLIENT_RANDOM 12").is_empty());
    assert_eq!(k.lines(), 2);
    assert_eq!(
        k.flush(),
        vec![BadLine {
            line: 3,
            reason: BadLineReason::TooFewFields
        }]
    );
    // An endless line is refused without holding it.
    assert!(k.add_bytes(&[b'A'; 5000]).is_empty());
    assert_eq!(
        k.add_text("\n"),
        vec![BadLine {
            line: 4,
            reason: BadLineReason::TooLong
        }]
    );
    assert_eq!(
        k.add_bytes(&[0xff, 0xfe, b'\n']),
        vec![BadLine {
            line: 5,
            reason: BadLineReason::NotUtf8
        }]
    );
}

#[test]
fn key_log_from_dsb_body() {
    let text = format!("CLIENT_RANDOM {R1} {}\n", "22".repeat(48));
    for be in [false, true] {
        let mut body = Vec::new();
        let w = |v: u32| if be { v.to_be_bytes() } else { v.to_le_bytes() };
        body.extend_from_slice(&w(DSB_TLS_KEY_LOG));
        body.extend_from_slice(&w(text.len() as u32));
        body.extend_from_slice(text.as_bytes());
        body.extend_from_slice(&[0, 0, 0]); // padding to 32 bits
        let (k, bad) = KeyLog::from_dsb(&body, be).unwrap();
        assert!(bad.is_empty());
        assert_eq!(k.len(), 1);
        assert_eq!(
            KeyLog::from_dsb(&body[..20], be).unwrap_err(),
            DsbError::Truncated
        );
    }
    let mut body = 0x5353_4857u32.to_le_bytes().to_vec(); // "WSSH"
    body.extend_from_slice(&0u32.to_le_bytes());
    assert_eq!(
        KeyLog::from_dsb(&body, false).unwrap_err(),
        DsbError::NotTlsKeyLog(0x5353_4857)
    );
    assert_eq!(
        KeyLog::from_dsb(&[1, 2], false).unwrap_err(),
        DsbError::Truncated
    );
}

// ---- a synthetic TLS 1.3 session ----

const CR: [u8; 32] = [7; 32];
const SECRETS: [(&str, u8); 4] = [
    ("CLIENT_HANDSHAKE_TRAFFIC_SECRET", 1),
    ("SERVER_HANDSHAKE_TRAFFIC_SECRET", 2),
    ("CLIENT_TRAFFIC_SECRET_0", 3),
    ("SERVER_TRAFFIC_SECRET_0", 4),
];

fn key_log_text() -> String {
    let cr: String = CR.iter().map(|b| format!("{b:02x}")).collect();
    SECRETS
        .iter()
        .map(|(label, b)| format!("{label} {cr} {}\n", format!("{b:02x}").repeat(32)))
        .collect()
}

fn keys() -> Arc<KeyLog> {
    Arc::new(KeyLog::parse(&key_log_text()).0)
}

/// Seals TLS 1.3 records (TLS_AES_128_GCM_SHA256) as a peer would.
struct Sealer {
    aead: Aes128Gcm,
    iv: Vec<u8>,
    seq: u64,
    secret: Vec<u8>,
}

impl Sealer {
    fn new(secret: &[u8]) -> Sealer {
        let key = hkdf_expand_label(HashAlg::Sha256, secret, "key", &[], 16).unwrap();
        Sealer {
            aead: Aes128Gcm::new_from_slice(&key).unwrap(),
            iv: hkdf_expand_label(HashAlg::Sha256, secret, "iv", &[], 12).unwrap(),
            seq: 0,
            secret: secret.to_vec(),
        }
    }
    fn seal(&mut self, ctype: u8, plain: &[u8]) -> Vec<u8> {
        let mut buf = plain.to_vec();
        buf.push(ctype);
        buf.extend_from_slice(&[0, 0, 0]); // padding
        let len = (buf.len() + 16) as u16;
        let aad = [23, 3, 3, (len >> 8) as u8, len as u8];
        let mut nonce = [0u8; 12];
        nonce.copy_from_slice(&self.iv);
        for (n, s) in nonce[4..].iter_mut().zip(self.seq.to_be_bytes()) {
            *n ^= s;
        }
        self.aead
            .encrypt_in_place((&nonce).into(), &aad, &mut buf)
            .unwrap();
        self.seq += 1;
        [&aad[..], &buf].concat()
    }
    fn update(&mut self) {
        *self = Sealer::new(&next_traffic_secret(HashAlg::Sha256, &self.secret).unwrap());
    }
}

fn record(ctype: u8, body: &[u8]) -> Vec<u8> {
    let mut r = vec![ctype, 3, 3, (body.len() >> 8) as u8, body.len() as u8];
    r.extend_from_slice(body);
    r
}

fn hs(typ: u8, body: &[u8]) -> Vec<u8> {
    let n = body.len();
    [&[typ, (n >> 16) as u8, (n >> 8) as u8, n as u8][..], body].concat()
}

fn ext(typ: u16, body: &[u8]) -> Vec<u8> {
    [
        &typ.to_be_bytes()[..],
        &(body.len() as u16).to_be_bytes(),
        body,
    ]
    .concat()
}

fn client_hello() -> Vec<u8> {
    client_hello_with(&[])
}

fn client_hello_with(more_exts: &[u8]) -> Vec<u8> {
    let sni = [&[0, 14, 0, 0, 11][..], b"example.com"].concat();
    let alpn = [&[0, 9, 8][..], b"http/1.1"].concat();
    let key_share = [&[0, 36, 0, 0x1d, 0, 32][..], &[9; 32]].concat();
    let exts = [
        ext(0, &sni),
        ext(16, &alpn),
        ext(43, &[2, 3, 4]),
        ext(51, &key_share),
        more_exts.to_vec(),
    ]
    .concat();
    let body = [
        &[3, 3][..],
        &CR,
        &[0],
        &[0, 2, 0x13, 0x01],
        &[1, 0],
        &(exts.len() as u16).to_be_bytes(),
        &exts,
    ]
    .concat();
    hs(1, &body)
}

fn server_hello() -> Vec<u8> {
    server_hello_with([5; 32], &[&[0, 0x1d, 0, 32][..], &[8; 32]].concat())
}

fn server_hello_with(random: [u8; 32], key_share: &[u8]) -> Vec<u8> {
    let exts = [ext(43, &[3, 4]), ext(51, key_share)].concat();
    let body = [
        &[3, 3][..],
        &random,
        &[0],
        &[0x13, 0x01],
        &[0],
        &(exts.len() as u16).to_be_bytes(),
        &exts,
    ]
    .concat();
    hs(2, &body)
}

const GET: &[u8] = b"GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\r\n";
const OK: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n";

/// The session as (direction, bytes) steps in capture order; the application
/// data is `GET`, `OK`, then after a client KeyUpdate "after update".
fn session() -> Vec<(Direction, Vec<u8>)> {
    let secret = |b: u8| [b; 32];
    let (mut c_hs, mut s_hs) = (Sealer::new(&secret(1)), Sealer::new(&secret(2)));
    let (mut c_ap, mut s_ap) = (Sealer::new(&secret(3)), Sealer::new(&secret(4)));
    let ee_exts = ext(16, &[&[0, 9, 8][..], b"http/1.1"].concat());
    let ee = hs(
        8,
        &[&(ee_exts.len() as u16).to_be_bytes()[..], &ee_exts].concat(),
    );
    let s_flight = [
        record(22, &server_hello()),
        record(20, &[1]),
        // EncryptedExtensions and Finished in one record, then a ticket.
        s_hs.seal(22, &[ee, hs(20, &[0xaa; 32])].concat()),
    ]
    .concat();
    let c_fin = [
        record(20, &[1]),
        c_hs.seal(22, &hs(20, &[0xbb; 32])),
        c_ap.seal(23, GET),
    ]
    .concat();
    let ticket = hs(
        4,
        &[
            &[0, 0, 0x1c, 0x20][..],
            &[0; 4],
            &[1, 0],
            &[0, 1, 0xcc],
            &[0, 0],
        ]
        .concat(),
    );
    let s_data = [s_ap.seal(22, &ticket), s_ap.seal(23, OK)].concat();
    let mut c_more = c_ap.seal(22, &hs(24, &[0]));
    c_ap.update();
    c_more.extend(c_ap.seal(23, b"after update"));
    c_more.extend(c_ap.seal(21, &[1, 0]));
    vec![
        (Direction::C2S, record(22, &client_hello())),
        (Direction::S2C, s_flight),
        (Direction::C2S, c_fin),
        (Direction::S2C, s_data),
        (Direction::C2S, c_more),
    ]
}

/// What a run produced, in a comparable form.
#[derive(Debug, Default, PartialEq)]
struct Seen {
    events: Vec<String>,
    plain: [Vec<u8>; 2],
}

fn collect(seen: &mut Seen) -> impl FnMut(TlsEvent<'_>) + '_ {
    |e| match e {
        TlsEvent::Plaintext { dir, bytes } => seen.plain[dir.index()].extend_from_slice(bytes),
        TlsEvent::Record { .. } => {}
        e => seen.events.push(format!("{e:?}")),
    }
}

fn run_steps(steps: &[(Direction, Vec<u8>)], layer: &mut TlsLayer) -> Seen {
    let mut seen = Seen::default();
    for (dir, bytes) in steps {
        layer.feed(*dir, bytes, &mut collect(&mut seen));
    }
    layer.end(Direction::C2S, &mut collect(&mut seen));
    layer.end(Direction::S2C, &mut collect(&mut seen));
    seen
}

#[test]
fn synthetic_session_decodes() {
    let seen = run_steps(&session(), &mut TlsLayer::new(keys()));
    assert_eq!(seen.plain[0], [GET, b"after update"].concat());
    assert_eq!(seen.plain[1], OK);
    let ev = seen.events.join("\n");
    for want in [
        "sni: Some(\"example.com\")",
        "alpn: [\"http/1.1\"]",
        "key_share_groups: [29]",
        "EncryptedExtensions { alpn: Some(\"http/1.1\") }",
        "Finished { dir: S2C }",
        "Finished { dir: C2S }",
        "HandshakeDone { version: 772, cipher_suite: 4865 }",
        "NewSessionTicket { lifetime_s: 7200 }",
        "KeyUpdate { dir: C2S, update_requested: false }",
        "Decrypt { dir: S2C, ok: true, reason: None }",
        "Decrypt { dir: C2S, ok: true, reason: None }",
        "Alert { dir: C2S, level: 1, description: 0, name: \"close_notify\" }",
        "CloseNotify { dir: C2S }",
    ] {
        assert!(ev.contains(want), "{want} not in\n{ev}");
    }
    assert!(!ev.contains("Violation"), "{ev}");
}

#[test]
fn split_at_every_byte_boundary() {
    let steps = session();
    let whole = run_steps(&steps, &mut TlsLayer::new(keys()));
    for k in 0..steps.len() {
        for at in 0..=steps[k].1.len() {
            let mut split = steps.clone();
            let (dir, bytes) = split.remove(k);
            split.insert(k, (dir, bytes[at..].to_vec()));
            split.insert(k, (dir, bytes[..at].to_vec()));
            assert_eq!(
                run_steps(&split, &mut TlsLayer::new(keys())),
                whole,
                "step {k} split at {at}"
            );
        }
    }
}

#[test]
fn byte_by_byte() {
    let steps = session();
    let whole = run_steps(&steps, &mut TlsLayer::new(keys()));
    let single: Vec<_> = steps
        .iter()
        .flat_map(|(d, b)| b.iter().map(|&x| (*d, vec![x])))
        .collect();
    assert_eq!(run_steps(&single, &mut TlsLayer::new(keys())), whole);
}

proptest! {
    #[test]
    fn any_chunking_gives_the_same_events(cuts in proptest::collection::vec(1usize..300, 1..40)) {
        let steps = session();
        let whole = run_steps(&steps, &mut TlsLayer::new(keys()));
        let mut chunked = Vec::new();
        let mut c = cuts.iter().cycle();
        for (d, b) in &steps {
            let mut r = &b[..];
            while !r.is_empty() {
                let n = (*c.next().unwrap()).min(r.len());
                chunked.push((*d, r[..n].to_vec()));
                r = &r[n..];
            }
        }
        prop_assert_eq!(run_steps(&chunked, &mut TlsLayer::new(keys())), whole);
    }

    #[test]
    fn random_bytes_never_panic(dirs in proptest::collection::vec((any::<bool>(), proptest::collection::vec(any::<u8>(), 0..2000)), 1..8)) {
        let mut layer = TlsLayer::new(keys());
        let mut n = 0usize;
        for (c2s, bytes) in &dirs {
            let dir = if *c2s { Direction::C2S } else { Direction::S2C };
            layer.feed(dir, bytes, &mut |_| n += 1);
            layer.gap(dir, bytes.len() as u64 % 7, &mut |_| n += 1);
        }
        layer.end(Direction::C2S, &mut |_| n += 1);
        layer.end(Direction::S2C, &mut |_| n += 1);
    }

    /// Random bytes after a real handshake: they look like (bad) records to a
    /// decrypting direction.
    #[test]
    fn garbage_after_handshake_never_panics(junk in proptest::collection::vec(any::<u8>(), 0..3000), at in 0usize..400) {
        let mut steps = session();
        let b = &mut steps[3].1;
        let at = at.min(b.len());
        b.splice(at..at, junk);
        let _ = run_steps(&steps, &mut TlsLayer::new(keys()));
    }
}

#[test]
fn huge_lengths_are_violations_not_allocations() {
    let mut layer = TlsLayer::new(keys());
    let mut seen = Seen::default();
    // 0xffff bytes announced: more than 2^14 + 2048.
    layer.feed(
        Direction::S2C,
        &[23, 3, 3, 0xff, 0xff, 1, 2, 3],
        &mut collect(&mut seen),
    );
    assert!(
        seen.events[0].contains("tls_record_too_long"),
        "{:?}",
        seen.events
    );
    // A plausible length whose bytes never come: held only as they arrive.
    let mut layer = TlsLayer::new(keys());
    layer.feed(
        Direction::C2S,
        &[22, 3, 1, 0x48, 0x00],
        &mut collect(&mut seen),
    );
    assert!(layer.sides[0].rd.buf.capacity() < 4096);
    // A handshake message announcing 16 MiB inside small records.
    let mut layer = TlsLayer::new(keys());
    let mut seen = Seen::default();
    layer.feed(
        Direction::C2S,
        &record(22, &[1, 0xff, 0xff, 0xff, 0, 0]),
        &mut collect(&mut seen),
    );
    assert!(
        seen.events
            .iter()
            .any(|e| e.contains("tls_handshake_too_long")),
        "{:?}",
        seen.events
    );
    assert!(layer.sides[0].hs.capacity() < 4096);
    // Unknown content type, wrong version, empty handshake record.
    let mut seen = Seen::default();
    let mut layer = TlsLayer::new(keys());
    layer.feed(
        Direction::C2S,
        &[99, 3, 3, 0, 1, 0],
        &mut collect(&mut seen),
    );
    layer.feed(
        Direction::S2C,
        &[22, 9, 3, 0, 1, 0],
        &mut collect(&mut seen),
    );
    let ev = seen.events.join("\n");
    assert!(
        ev.contains("tls_unknown_content_type") && ev.contains("tls_bad_record_version"),
        "{ev}"
    );
    let mut layer = TlsLayer::new(keys());
    let mut seen = Seen::default();
    layer.feed(Direction::C2S, &[22, 3, 3, 0, 0], &mut collect(&mut seen));
    assert!(seen.events[0].contains("tls_empty_record"));
}

#[test]
fn bad_tag_stops_that_direction_only() {
    let mut steps = session();
    let last = steps[3].1.len() - 1;
    steps[3].1[last] ^= 1; // the server's 101 record's tag
    let seen = run_steps(&steps, &mut TlsLayer::new(keys()));
    assert!(seen.plain[1].is_empty());
    assert_eq!(seen.plain[0], [GET, b"after update"].concat());
    let fails: Vec<_> = seen
        .events
        .iter()
        .filter(|e| e.contains("ok: false"))
        .collect();
    assert_eq!(
        fails,
        ["Decrypt { dir: S2C, ok: false, reason: Some(\"bad_tag\") }"]
    );
}

#[test]
fn gap_inside_a_record_loses_only_that_record() {
    let steps = session();
    let mut layer = TlsLayer::new(keys());
    let mut seen = Seen::default();
    for (dir, bytes) in &steps[..3] {
        layer.feed(*dir, bytes, &mut collect(&mut seen));
    }
    // The server's ticket record: 10 bytes arrive, 30 are lost, the rest arrive.
    let s = &steps[3].1;
    layer.feed(Direction::S2C, &s[..10], &mut collect(&mut seen));
    layer.gap(Direction::S2C, 30, &mut collect(&mut seen));
    layer.feed(Direction::S2C, &s[40..], &mut collect(&mut seen));
    assert_eq!(
        seen.plain[1], OK,
        "the next record decrypts at the right sequence number"
    );
    assert!(seen
        .events
        .iter()
        .any(|e| e == "Gap { dir: S2C, bytes: 30 }"));
    assert!(!seen.events.iter().any(|e| e.contains("tls_gap_resync")));
}

#[test]
fn gap_across_records_resynchronises() {
    // Ten application records from the server; lose the end of the 3rd, all of
    // the 4th and the start of the 5th.
    let mut layer = TlsLayer::new(keys());
    let mut seen = Seen::default();
    let steps = session();
    for (dir, bytes) in &steps[..3] {
        layer.feed(*dir, bytes, &mut collect(&mut seen));
    }
    let mut s_ap = Sealer::new(&[4; 32]);
    let recs: Vec<Vec<u8>> = (0..10)
        .map(|i| s_ap.seal(23, format!("record {i};").as_bytes()))
        .collect();
    let stream = recs.concat();
    let l = recs[0].len();
    let (cut_from, cut_to) = (2 * l + 10, 4 * l + 7);
    layer.feed(Direction::S2C, &stream[..cut_from], &mut collect(&mut seen));
    layer.gap(
        Direction::S2C,
        (cut_to - cut_from) as u64,
        &mut collect(&mut seen),
    );
    layer.feed(Direction::S2C, &stream[cut_to..], &mut collect(&mut seen));
    let text = String::from_utf8(seen.plain[1].clone()).unwrap();
    assert_eq!(
        text,
        "record 0;record 1;record 5;record 6;record 7;record 8;record 9;"
    );
    let ev = seen.events.join("\n");
    assert!(ev.contains("tls_gap_resync"), "{ev}");
    assert!(!ev.contains("ok: false"), "{ev}");
}

#[test]
fn missing_keys_wait_then_give_up_or_go_on() {
    let steps = session();
    // No keys and no wait: no_key at the first encrypted record.
    let cfg = TlsConfig {
        wait_for_keys: false,
        ..TlsConfig::default()
    };
    let seen = run_steps(
        &steps,
        &mut TlsLayer::with_config(Arc::new(KeyLog::new()), cfg),
    );
    assert!(seen.plain.iter().all(Vec::is_empty));
    assert_eq!(
        seen.events.iter().filter(|e| e.contains("no_key")).count(),
        2
    );
    // Waiting, with a bound smaller than the server's records: no_key at the bound.
    let cfg = TlsConfig {
        max_held_bytes: 100,
        ..TlsConfig::default()
    };
    let mut layer = TlsLayer::with_config(Arc::new(KeyLog::new()), cfg);
    let mut seen = Seen::default();
    for (dir, bytes) in &steps {
        layer.feed(*dir, bytes, &mut collect(&mut seen));
    }
    assert!(seen
        .events
        .iter()
        .any(|e| e == "Decrypt { dir: S2C, ok: false, reason: Some(\"no_key\") }"));
    // Waiting, then the keys come: everything, in order.
    let mut layer = TlsLayer::new(Arc::new(KeyLog::new()));
    let mut seen = Seen::default();
    for (dir, bytes) in &steps {
        layer.feed(*dir, bytes, &mut collect(&mut seen));
    }
    assert!(seen.plain.iter().all(Vec::is_empty) && layer.waiting_for_keys());
    layer.keys_updated(keys(), &mut collect(&mut seen));
    assert_eq!(seen.plain[0], [GET, b"after update"].concat());
    assert_eq!(seen.plain[1], OK);
    assert!(!layer.waiting_for_keys());
}

#[test]
fn mid_stream_capture_says_no_handshake() {
    let steps = session();
    let seen = run_steps(&steps[3..], &mut TlsLayer::new(keys()));
    assert!(seen.plain.iter().all(Vec::is_empty));
    assert!(
        seen.events.iter().any(|e| e.contains("no_handshake")),
        "{:?}",
        seen.events
    );
}

// ---- synthetic TLS 1.2 sessions ----

const MASTER: [u8; 48] = [0x42; 48];
const SR: [u8; 32] = [5; 32];

/// Seals TLS 1.2 records with the key block of [`MASTER`] (RFC 5246 6.3),
/// for one side; `etm`: encrypt-then-MAC (RFC 7366).
struct Sealer12 {
    suite: crypto::SuiteParams,
    mac_key: Vec<u8>,
    key: Vec<u8>,
    iv: Vec<u8>,
    seq: u64,
    etm: bool,
}

impl Sealer12 {
    fn new(id: u16, client: bool, etm: bool) -> Sealer12 {
        let suite = suite_params(id).unwrap();
        let ml = suite.mac.map_or(0, HashAlg::output_len);
        let kl = match suite.bulk {
            crypto::Bulk::Aes128Gcm | crypto::Bulk::Aes128Cbc => 16,
            _ => 32,
        };
        let il = match suite.bulk {
            crypto::Bulk::Aes128Gcm | crypto::Bulk::Aes256Gcm => 4,
            crypto::Bulk::ChaCha20Poly1305 => 12,
            _ => 0,
        };
        let seed = [SR, CR].concat();
        let kb = prf12(
            suite.prf,
            &MASTER,
            b"key expansion",
            &seed,
            2 * (ml + kl + il),
        );
        let pick = |off: usize, n: usize| kb[off..off + n].to_vec();
        let (m, k, i) = if client {
            (0, 2 * ml, 2 * ml + 2 * kl)
        } else {
            (ml, 2 * ml + kl, 2 * ml + 2 * kl + il)
        };
        Sealer12 {
            suite,
            mac_key: pick(m, ml),
            key: pick(k, kl),
            iv: pick(i, il),
            seq: 0,
            etm,
        }
    }

    fn header(&self, ctype: u8, len: usize) -> Vec<u8> {
        [
            &self.seq.to_be_bytes()[..],
            &[ctype, 3, 3],
            &(len as u16).to_be_bytes(),
        ]
        .concat()
    }

    fn seal(&mut self, ctype: u8, plain: &[u8]) -> Vec<u8> {
        use aes_gcm::Aes256Gcm;
        use cbc::cipher::{block_padding::NoPadding, BlockEncryptMut, KeyIvInit};
        use chacha20poly1305::ChaCha20Poly1305;
        let aad = self.header(ctype, plain.len());
        let body = match (self.suite.bulk, self.suite.mac) {
            (_, Some(mac)) => {
                let explicit_iv = [0x5a ^ self.seq as u8; 16];
                let mut buf = plain.to_vec();
                if !self.etm {
                    buf.extend(crypto::hmac(mac, &self.mac_key, &[&aad, plain]));
                }
                let pad = 15 - buf.len() % 16;
                buf.resize(buf.len() + pad + 1, pad as u8);
                let n = buf.len();
                if self.key.len() == 16 {
                    cbc::Encryptor::<aes::Aes128>::new_from_slices(&self.key, &explicit_iv)
                        .unwrap()
                        .encrypt_padded_mut::<NoPadding>(&mut buf, n)
                        .unwrap();
                } else {
                    cbc::Encryptor::<aes::Aes256>::new_from_slices(&self.key, &explicit_iv)
                        .unwrap()
                        .encrypt_padded_mut::<NoPadding>(&mut buf, n)
                        .unwrap();
                }
                let mut out = [&explicit_iv[..], &buf].concat();
                if self.etm {
                    let tag =
                        crypto::hmac(mac, &self.mac_key, &[&self.header(ctype, out.len()), &out]);
                    out.extend(tag);
                }
                out
            }
            (crypto::Bulk::ChaCha20Poly1305, None) => {
                let mut nonce = [0u8; 12];
                nonce.copy_from_slice(&self.iv);
                for (n, s) in nonce[4..].iter_mut().zip(self.seq.to_be_bytes()) {
                    *n ^= s;
                }
                let mut buf = plain.to_vec();
                ChaCha20Poly1305::new_from_slice(&self.key)
                    .unwrap()
                    .encrypt_in_place((&nonce).into(), &aad, &mut buf)
                    .unwrap();
                buf
            }
            (bulk, None) => {
                let explicit = (self.seq ^ 0x1234).to_be_bytes();
                let nonce: [u8; 12] = [&self.iv[..], &explicit].concat().try_into().unwrap();
                let mut buf = plain.to_vec();
                if bulk == crypto::Bulk::Aes128Gcm {
                    Aes128Gcm::new_from_slice(&self.key)
                        .unwrap()
                        .encrypt_in_place((&nonce).into(), &aad, &mut buf)
                        .unwrap();
                } else {
                    Aes256Gcm::new_from_slice(&self.key)
                        .unwrap()
                        .encrypt_in_place((&nonce).into(), &aad, &mut buf)
                        .unwrap();
                }
                [&explicit[..], &buf].concat()
            }
        };
        self.seq += 1;
        record(ctype, &body)
    }
}

fn session12(id: u16, etm: bool) -> Vec<(Direction, Vec<u8>)> {
    session12_as(id, id, etm)
}

/// A TLS 1.2 session whose hellos name suite `id` and whose records are sealed with `seal_id`.
fn session12_as(id: u16, seal_id: u16, etm: bool) -> Vec<(Direction, Vec<u8>)> {
    let ch_exts = [ext(16, &[&[0, 3, 2][..], b"h2"].concat()), ext(22, &[])].concat();
    let ch = hs(
        1,
        &[
            &[3, 3][..],
            &CR,
            &[0],
            &[0, 2],
            &id.to_be_bytes(),
            &[1, 0],
            &(ch_exts.len() as u16).to_be_bytes(),
            &ch_exts,
        ]
        .concat(),
    );
    let mut sh_exts = ext(16, &[&[0, 3, 2][..], b"h2"].concat());
    if etm {
        sh_exts.extend(ext(22, &[]));
    }
    let sh = hs(
        2,
        &[
            &[3, 3][..],
            &SR,
            &[0],
            &id.to_be_bytes(),
            &[0],
            &(sh_exts.len() as u16).to_be_bytes(),
            &sh_exts,
        ]
        .concat(),
    );
    let (mut c, mut s) = (
        Sealer12::new(seal_id, true, etm),
        Sealer12::new(seal_id, false, etm),
    );
    let c_fin = [
        record(22, &hs(16, &[0, 1, 9])),
        record(20, &[1]),
        c.seal(22, &hs(20, &[1; 12])),
    ]
    .concat();
    let s_fin = [record(20, &[1]), s.seal(22, &hs(20, &[2; 12]))].concat();
    let c_data = [
        c.seal(23, GET),
        c.seal(23, &[b'x'; 3000]),
        c.seal(21, &[1, 0]),
    ]
    .concat();
    let s_data = [s.seal(23, OK), s.seal(23, b"")].concat();
    vec![
        (Direction::C2S, record(22, &ch)),
        (
            Direction::S2C,
            [record(22, &sh), record(22, &hs(14, &[]))].concat(),
        ),
        (Direction::C2S, c_fin),
        (Direction::S2C, s_fin),
        (Direction::C2S, c_data),
        (Direction::S2C, s_data),
    ]
}

fn keys12() -> Arc<KeyLog> {
    let cr: String = CR.iter().map(|b| format!("{b:02x}")).collect();
    Arc::new(KeyLog::parse(&format!("CLIENT_RANDOM {cr} {}\n", "42".repeat(48))).0)
}

#[test]
fn tls12_suites_decrypt() {
    for (id, etm) in [
        (0xc02f, false), // ECDHE-RSA-AES128-GCM-SHA256
        (0xc030, false), // ECDHE-RSA-AES256-GCM-SHA384 (PRF SHA-384)
        (0xcca8, false), // ECDHE-RSA-CHACHA20-POLY1305
        (0xc013, false), // ECDHE-RSA-AES128-SHA, MAC-then-encrypt
        (0xc013, true),  // the same, encrypt-then-MAC
        (0x003d, false), // RSA-AES256-SHA256
        (0xc028, true),  // ECDHE-RSA-AES256-SHA384, encrypt-then-MAC
    ] {
        let steps = session12(id, etm);
        let seen = run_steps(&steps, &mut TlsLayer::new(keys12()));
        let ev = seen.events.join("\n");
        assert_eq!(
            seen.plain[0],
            [GET, &[b'x'; 3000]].concat(),
            "{id:#x} {etm}\n{ev}"
        );
        assert_eq!(seen.plain[1], OK, "{id:#x} {etm}");
        assert!(ev.contains("alpn: Some(\"h2\")"), "{ev}");
        assert!(
            ev.contains(&format!(
                "HandshakeDone {{ version: 771, cipher_suite: {id} }}"
            )),
            "{ev}"
        );
        assert!(ev.contains("CloseNotify { dir: C2S }"), "{ev}");
        assert!(
            !ev.contains("Violation") && !ev.contains("ok: false"),
            "{id:#x}: {ev}"
        );
        // One flipped bit in the client's big record: bad_tag, and nothing after it.
        let mut bad = steps.clone();
        let at = bad[4].1.len() / 2;
        bad[4].1[at] ^= 0x80;
        let seen = run_steps(&bad, &mut TlsLayer::new(keys12()));
        assert_eq!(seen.plain[0], GET, "{id:#x}");
        assert!(seen
            .events
            .iter()
            .any(|e| e == "Decrypt { dir: C2S, ok: false, reason: Some(\"bad_tag\") }"));
    }
}

#[test]
fn tls12_unsupported_suite_is_said() {
    // TLS_RSA_WITH_3DES_EDE_CBC_SHA: records still counted, no decryption.
    let steps = session12_as(0x000a, 0xc013, false);
    let mut records = 0;
    let mut outcome = Vec::new();
    let mut layer = TlsLayer::new(keys12());
    for (dir, bytes) in &steps {
        layer.feed(*dir, bytes, &mut |e| match e {
            TlsEvent::Record { .. } => records += 1,
            TlsEvent::Decrypt { dir, ok, reason } => outcome.push((dir, ok, reason)),
            _ => {}
        });
    }
    assert!(records >= 10);
    assert_eq!(
        outcome,
        [
            (Direction::C2S, false, Some("unsupported_cipher")),
            (Direction::S2C, false, Some("unsupported_cipher"))
        ]
    );
}

#[test]
fn a_big_chunk_leaves_no_big_buffer() {
    let mut s_ap = Sealer::new(&[4; 32]);
    let steps = session();
    let mut layer = TlsLayer::new(keys());
    let mut seen = Seen::default();
    for (dir, bytes) in &steps[..3] {
        layer.feed(*dir, bytes, &mut collect(&mut seen));
    }
    let chunk: Vec<u8> = (0..300)
        .flat_map(|_| s_ap.seal(23, &[b'z'; 16000]))
        .collect();
    layer.feed(
        Direction::S2C,
        &chunk[..chunk.len() - 100],
        &mut collect(&mut seen),
    );
    assert_eq!(seen.plain[1].len(), 299 * 16000);
    assert!(layer.sides[1].rd.buf.capacity() <= 4 * (MAX_RECORD_LEN + 5));
    layer.end(Direction::S2C, &mut collect(&mut seen));
    assert!(seen
        .events
        .last()
        .unwrap()
        .contains("tls_unfinished_record"));
}

#[test]
fn hello_retry_request() {
    let mut steps = session();
    let hrr = record(22, &server_hello_with(handshake::HRR_RANDOM, &[0, 0x17]));
    steps.insert(1, (Direction::S2C, hrr));
    let again = [record(20, &[1]), record(22, &client_hello())].concat();
    steps.insert(2, (Direction::C2S, again));
    let seen = run_steps(&steps, &mut TlsLayer::new(keys()));
    assert_eq!(seen.plain[0], [GET, b"after update"].concat());
    assert_eq!(seen.plain[1], OK);
    let ev = seen.events.join("\n");
    assert_eq!(
        seen.events
            .iter()
            .filter(|e| e.starts_with("ClientHello"))
            .count(),
        2
    );
    assert!(
        ev.contains("HelloRetryRequest") && ev.contains("key_share_group: Some(23)"),
        "{ev}"
    );
    assert!(
        !ev.contains("Violation") && !ev.contains("ok: false"),
        "{ev}"
    );
}

#[test]
fn early_data_is_skipped_with_a_note() {
    let mut steps = session();
    // 0-RTT: the ClientHello offers early_data and two records follow it at
    // once, under an early traffic secret the key log does not give here; the
    // client's EndOfEarlyData comes under the same key after the server's flight.
    let mut early = Sealer::new(&[9; 32]);
    steps[0].1 = [
        record(22, &client_hello_with(&ext(42, &[]))),
        early.seal(23, b"GET /early HTTP/1.1\r\n\r\n"),
        early.seal(23, b"more early data"),
    ]
    .concat();
    steps[2].1 = [early.seal(22, &hs(5, &[])), steps[2].1.clone()].concat();
    let seen = run_steps(&steps, &mut TlsLayer::new(keys()));
    assert_eq!(seen.plain[0], [GET, b"after update"].concat());
    assert_eq!(seen.plain[1], OK);
    let notes = seen
        .events
        .iter()
        .filter(|e| e.contains("tls_early_data_skipped"))
        .count();
    assert_eq!(notes, 3, "{:?}", seen.events);
    assert!(!seen.events.iter().any(|e| e.contains("ok: false")));
    // Without early_data offered, the same records are a bad tag.
    steps[0].1 = [record(22, &client_hello()), early.seal(23, b"x")].concat();
    let seen = run_steps(&steps, &mut TlsLayer::new(keys()));
    assert!(
        seen.events.iter().any(|e| e.contains("bad_tag")),
        "{:?}",
        seen.events
    );
}

#[test]
fn handshake_messages_span_records() {
    let mut steps = session();
    // The ClientHello in three plaintext records, the server's encrypted
    // flight with its EncryptedExtensions cut across two protected records.
    let ch = client_hello();
    steps[0].1 = [
        record(22, &ch[..3]),
        record(22, &ch[3..50]),
        record(22, &ch[50..]),
    ]
    .concat();
    let mut s_hs = Sealer::new(&[2; 32]);
    let ee_exts = ext(16, &[&[0, 9, 8][..], b"http/1.1"].concat());
    let ee = hs(
        8,
        &[&(ee_exts.len() as u16).to_be_bytes()[..], &ee_exts].concat(),
    );
    let flight = [ee, hs(20, &[0xaa; 32])].concat();
    steps[1].1 = [
        record(22, &server_hello()),
        s_hs.seal(22, &flight[..7]),
        s_hs.seal(22, &flight[7..]),
    ]
    .concat();
    let seen = run_steps(&steps, &mut TlsLayer::new(keys()));
    let ev = seen.events.join("\n");
    assert_eq!(
        seen.events
            .iter()
            .filter(|e| e.starts_with("ClientHello"))
            .count(),
        1
    );
    assert!(
        ev.contains("EncryptedExtensions { alpn: Some(\"http/1.1\") }"),
        "{ev}"
    );
    assert!(ev.contains("HandshakeDone"), "{ev}");
    assert_eq!(seen.plain[1], OK);
    assert!(!ev.contains("Violation"), "{ev}");
}

/// Found by the `tls` fuzz target (chunking oracle): while hunting, a plausible header
/// whose next header had not arrived yet was taken at once, so a decoy followed by an
/// implausible header was believed when a segment ended right after it and rejected
/// when the same bytes came in one segment.
#[test]
fn hunting_does_not_depend_on_segmentation() {
    let decoy = record(23, &[7; 10]);
    let stream = [
        &[161, 3, 3, 0, 1, 0][..], // an unknown content type: hunting begins
        &decoy,
        &[0xff; 5],
        &record(23, b"one"),
        &record(23, b"two"),
    ]
    .concat();
    let run = |cuts: &[usize]| {
        let mut steps = Vec::new();
        let mut from = 0;
        for &c in cuts.iter().chain([&stream.len()]) {
            steps.push((Direction::C2S, stream[from..c].to_vec()));
            from = c;
        }
        run_steps(&steps, &mut TlsLayer::new(Arc::new(KeyLog::new())))
    };
    let whole = run(&[]);
    let ev = whole.events.join("\n");
    assert!(ev.contains("tls_gap_resync"), "{ev}");
    for at in 1..stream.len() {
        assert_eq!(run(&[at]), whole, "split at {at}");
    }
    // Right after the decoy, and byte by byte.
    assert_eq!(run(&[6 + decoy.len()]), whole);
    assert_eq!(run(&(1..stream.len()).collect::<Vec<_>>()), whole);
}

/// A TLS 1.2 ClientHello offering `session_id`, and the ServerHello answering with
/// `echo`; whether the layer calls the session resumed.
fn tls12_resumed(session_id: &[u8], echo: &[u8]) -> bool {
    let body = |random: &[u8], id: &[u8], suites: &[u8], tail: &[u8]| {
        [&[3, 3][..], random, &[id.len() as u8], id, suites, tail].concat()
    };
    let ch = hs(
        1,
        &body(&CR, session_id, &[0, 2, 0xc0, 0x2f], &[1, 0, 0, 0]),
    );
    let sh = hs(2, &body(&[5; 32], echo, &[0xc0, 0x2f], &[0, 0, 0]));
    let mut layer = TlsLayer::new(keys());
    let mut resumed = None;
    let mut out = |e: TlsEvent<'_>| {
        if let TlsEvent::ServerHello(sh) = e {
            resumed = Some(sh.resumed);
        }
    };
    layer.feed(Direction::C2S, &record(22, &ch), &mut out);
    layer.feed(Direction::S2C, &record(22, &sh), &mut out);
    resumed.expect("a ServerHello")
}

/// TLS 1.2 resumes by echoing the client's session id (RFC 5246 7.4.1.3; a
/// ticket accepted too, RFC 5077 3.4): `resumed` once said only TLS 1.3's PSK.
#[test]
fn tls12_session_id_echo_is_a_resumption() {
    assert!(tls12_resumed(&[7; 32], &[7; 32]));
    assert!(!tls12_resumed(&[7; 32], &[8; 32]), "a new session id");
    assert!(!tls12_resumed(&[], &[8; 32]), "nothing offered");
    assert!(!tls12_resumed(&[], &[]), "no session id at all");
    // TLS 1.3 without a pre_shared_key accepted: a full handshake.
    let mut layer = TlsLayer::new(keys());
    let mut resumed = None;
    let mut out = |e: TlsEvent<'_>| {
        if let TlsEvent::ServerHello(sh) = e {
            resumed = Some(sh.resumed);
        }
    };
    layer.feed(Direction::C2S, &record(22, &client_hello()), &mut out);
    layer.feed(Direction::S2C, &record(22, &server_hello()), &mut out);
    assert_eq!(resumed, Some(false));
}

/// The directions of the plaintext `steps` give, keys from the start (`late`
/// false) or only after every step was fed.
fn plaintext_order(late: bool) -> Vec<(Direction, Vec<u8>)> {
    let mut order = Vec::new();
    let mut note = |e: TlsEvent<'_>| {
        if let TlsEvent::Plaintext { dir, bytes } = e {
            order.push((dir, bytes.to_vec()));
        }
    };
    let mut layer = TlsLayer::new(if late {
        Arc::new(KeyLog::new())
    } else {
        keys()
    });
    for (dir, bytes) in session() {
        layer.feed(dir, &bytes, &mut note);
    }
    if late {
        layer.keys_updated(keys(), &mut note);
    }
    order
}

/// Records held for keys that come late are released in the order they came,
/// both directions interleaved: the request before its response. (They once came
/// out a direction at a time, all of the client's first: a live capture whose key
/// log came late saw every client message "before the 101", data_before_upgrade.)
#[test]
fn records_held_for_late_keys_come_out_in_arrival_order() {
    let on_time = plaintext_order(false);
    assert_eq!(
        on_time.iter().map(|(d, _)| *d).collect::<Vec<_>>(),
        [Direction::C2S, Direction::S2C, Direction::C2S]
    );
    assert_eq!(plaintext_order(true), on_time);
}
