//! `wire`: link layer, VLAN tags, IPv4/IPv6 and TCP headers, one packet at a time
//! (`wire::Decoder::decode`). Throughput: captured packet bytes.

use std::hint::black_box;

use criterion::{Criterion, Throughput};
use wsscope::wire::{Decoded, Decoder, WireLimits};

use crate::capture::{self, Packet};

/// Decodes every packet (with the fast path or the general walk alone); returns
/// how many were TCP (checked before timing).
fn decode_all(packets: &[Packet], fast: bool) -> usize {
    let mut d = Decoder::new(WireLimits::default());
    d.set_fast_path(fast);
    let mut tcp = 0;
    for p in packets {
        if let Decoded::Tcp(seg) = d.decode(p.linktype, &p.data, p.ts) {
            black_box(&seg);
            tcp += 1;
        }
    }
    tcp
}

pub fn bench(c: &mut Criterion) {
    // A real capture over Ethernet (Python websockets peers, 1 MiB), and the
    // crafted captures of every other link layer and encapsulation the decoder
    // peels: BSD loopback, raw IP, Linux cooked v2, 802.1Q, QinQ, IPv6.
    let ethernet = capture::packets("python-websockets-deflate.pcap");
    let mixed: Vec<Packet> = [
        "crafted-linktype-null.pcap",
        "crafted-linktype-raw.pcap",
        "crafted-linktype-sll2.pcap",
        "crafted-vlan.pcap",
        "crafted-qinq.pcap",
        "crafted-ipv6.pcap",
        "node-ws-any-sll2.pcap",
    ]
    .into_iter()
    .flat_map(capture::packets)
    .collect();
    let mut g = crate::group(c, "wire");
    for (name, packets) in [("ethernet_ipv4", &ethernet), ("mixed_links", &mixed)] {
        assert!(
            decode_all(packets, true) * 10 >= packets.len() * 9,
            "{name}: not TCP"
        );
        g.throughput(Throughput::Bytes(capture::packet_bytes(packets)));
        g.bench_function(name, |b| b.iter(|| decode_all(black_box(packets), true)));
        // The same packets through etherparse alone, for comparison.
        g.bench_function(format!("{name}_general_walk"), |b| {
            b.iter(|| decode_all(black_box(packets), false))
        });
    }
    g.finish();
}
