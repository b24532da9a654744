//! `pipeline`: the whole library, as the binary drives it: every packet of a
//! shipped capture (read into memory beforehand) through `analysis::Analyzer::packet`,
//! then `finish`, the events counted. Throughput: captured packet bytes.
//!
//! - `python_websockets_deflate`: real peers on lo, permessage-deflate, 1 MiB.
//! - `python_websockets_plain`: the same peers without compression.
//! - `polling_vs_websocket`: HTTP long-polling and WebSocket side by side.
//! - `tls12_aes128_gcm_keylog`: a wss capture decrypted with its key log.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput};
use wsscope::analysis::{Analyzer, Config, Event, Sink};
use wsscope::tls::KeyLog;
use wsscope::types::Timestamp;

use crate::capture::{self, Packet};

/// Counts events and keeps none (as `stats` would fold them).
#[derive(Default)]
struct Count(u64);

impl Sink for Count {
    fn event(&mut self, e: Event) {
        black_box(e);
        self.0 += 1;
    }
}

fn run(packets: &[Packet], keys: &Arc<KeyLog>) -> u64 {
    let mut a = Analyzer::new(Config {
        keys: keys.clone(),
        ..Config::default()
    });
    let mut sink = Count::default();
    for p in packets {
        a.packet(p.linktype, p.ts, &p.data, &mut sink);
    }
    let last = packets.last().map_or(Timestamp(0), |p| p.ts);
    a.finish(last, &mut sink);
    sink.0
}

pub fn bench(c: &mut Criterion) {
    let no_keys = Arc::new(KeyLog::new());
    let text =
        String::from_utf8(capture::read("tls/tls12_dhe_rsa_aes128_gcm.keylog")).expect("utf-8");
    let keys = Arc::new(KeyLog::parse(&text).0);
    let mut g = crate::group(c, "pipeline");
    for (name, file, keys) in [
        (
            "python_websockets_deflate",
            "python-websockets-deflate.pcap",
            &no_keys,
        ),
        (
            "python_websockets_plain",
            "python-websockets-nocompress.pcap",
            &no_keys,
        ),
        (
            "polling_vs_websocket",
            "compare-polling-vs-websocket.pcap",
            &no_keys,
        ),
        (
            "tls12_aes128_gcm_keylog",
            "tls/tls12_dhe_rsa_aes128_gcm.pcap",
            &keys,
        ),
    ] {
        let packets = capture::packets(file);
        assert!(run(&packets, keys) > 0, "{file}: no event");
        g.throughput(Throughput::Bytes(capture::packet_bytes(&packets)));
        g.bench_function(name, |b| b.iter(|| run(black_box(&packets), keys)));
    }
    g.finish();
}
