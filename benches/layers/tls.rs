//! `tls`: the TLS layer (`tls::TlsLayer`) with the peers' key log: records,
//! handshake messages (certificates parsed), key derivation and the decryption of
//! every record, on the project's own captures `captures/tls/` (Python ssl and
//! websockets peers on lo, one cipher suite each; one connection of 47 KB of
//! WebSocket messages, permessage-deflate in the TLS 1.3 one, which leaves 2 KB)
//! with their `.keylog`. Each iteration runs every connection through a new layer,
//! handshake included. Throughput: TLS stream bytes (records as on the wire).

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput};
use wsscope::tls::{KeyLog, TlsEvent, TlsLayer};
use wsscope::types::Direction;

use crate::capture::{self, Conn};

/// Every connection through the TLS layer; returns (plaintext bytes, records that
/// failed to decrypt).
fn run(conns: &[Conn], keys: &Arc<KeyLog>) -> (u64, usize) {
    let (mut plain, mut failed) = (0, 0);
    let mut out = |e: TlsEvent<'_>| {
        match &e {
            TlsEvent::Plaintext { bytes, .. } => plain += bytes.len() as u64,
            TlsEvent::Decrypt { ok: false, .. } => failed += 1,
            _ => {}
        }
        black_box(e);
    };
    for c in conns {
        let mut l = TlsLayer::new(keys.clone());
        for (dir, bytes) in &c.chunks {
            l.feed(*dir, bytes, &mut out);
        }
        l.end(Direction::C2S, &mut out);
        l.end(Direction::S2C, &mut out);
    }
    (plain, failed)
}

pub fn bench(c: &mut Criterion) {
    let mut g = crate::group(c, "tls");
    for (name, file) in [
        ("tls13_aes256_gcm", "tls13_aes256_deflate"),
        ("tls12_aes128_gcm", "tls12_dhe_rsa_aes128_gcm"),
        ("tls12_chacha20_poly1305", "tls12_dhe_rsa_chacha20"),
        (
            "tls12_aes128_cbc_sha256",
            "tls12_ecdhe_rsa_aes128_sha256_mte",
        ),
        (
            "tls12_aes256_cbc_sha384_etm",
            "tls12_ecdhe_rsa_aes256_sha384_etm",
        ),
    ] {
        let conns = capture::connections(&capture::packets(&format!("tls/{file}.pcap")));
        let text = String::from_utf8(capture::read(&format!("tls/{file}.keylog"))).expect("utf-8");
        let (keys, bad) = KeyLog::parse(&text);
        assert!(bad.is_empty() && !keys.is_empty(), "{file}.keylog");
        let keys = Arc::new(keys);
        let (plain, failed) = run(&conns, &keys);
        // The bench decrypts: every record opened, the WebSocket traffic inside.
        assert!(
            plain > 0 && failed == 0,
            "{file}: {plain} bytes, {failed} failed"
        );
        g.throughput(Throughput::Bytes(conns.iter().map(Conn::bytes).sum()));
        g.bench_function(name, |b| b.iter(|| run(black_box(&conns), &keys)));
    }
    g.finish();
}
