//! `tcp`: the flow table (connection lookup, handshake and teardown phases) and
//! per-direction reassembly (`tcp::FlowTable::segment`), fed the TCP segments of
//! real captures, in capture order and with neighbouring data segments swapped.
//! Throughput: TCP payload bytes.

use std::hint::black_box;
use std::net::SocketAddr;

use criterion::{Criterion, Throughput};
use wsscope::tcp::{FlowTable, SegmentInfo, TcpConfig, TcpEvent};
use wsscope::types::Timestamp;
use wsscope::wire::{Decoded, Decoder, WireLimits};

use crate::capture;

/// A decoded segment with its payload owned, so that the bench times the flow
/// table alone.
struct Seg {
    ts: Timestamp,
    src: SocketAddr,
    dst: SocketAddr,
    seq: u32,
    ack: u32,
    flags: (bool, bool, bool, bool),
    payload: Vec<u8>,
    wire_len: u32,
}

impl Seg {
    fn info(&self) -> SegmentInfo<'_> {
        let (syn, ack_flag, fin, rst) = self.flags;
        SegmentInfo {
            src: self.src,
            dst: self.dst,
            seq: self.seq,
            ack: self.ack,
            syn,
            ack_flag,
            fin,
            rst,
            payload: &self.payload,
            wire_payload_len: self.wire_len,
        }
    }
}

fn segments(names: &[&str]) -> Vec<Seg> {
    let mut out = Vec::new();
    for name in names {
        let mut d = Decoder::new(WireLimits::default());
        for p in capture::packets(name) {
            if let Decoded::Tcp(s) = d.decode(p.linktype, &p.data, p.ts) {
                let i = SegmentInfo::from(&s);
                out.push(Seg {
                    ts: p.ts,
                    src: i.src,
                    dst: i.dst,
                    seq: i.seq,
                    ack: i.ack,
                    flags: (i.syn, i.ack_flag, i.fin, i.rst),
                    payload: i.payload.to_vec(),
                    wire_len: i.wire_payload_len,
                });
            }
        }
    }
    out
}

/// The same segments with every pair of neighbouring data segments of one
/// direction swapped: each second segment arrives first and is held until the
/// hole before it fills.
fn reordered(mut segs: Vec<Seg>) -> Vec<Seg> {
    let mut i = 0;
    while i + 1 < segs.len() {
        let (a, b) = (&segs[i], &segs[i + 1]);
        if !a.payload.is_empty() && !b.payload.is_empty() && a.src == b.src && a.dst == b.dst {
            segs.swap(i, i + 1);
            i += 2;
        } else {
            i += 1;
        }
    }
    segs
}

/// Every segment through a new flow table; returns the stream bytes delivered.
fn follow(segs: &[Seg]) -> u64 {
    let mut t = FlowTable::new(TcpConfig::default());
    let mut delivered = 0u64;
    let mut out = |e: TcpEvent<'_>| {
        if let TcpEvent::Data { bytes, .. } = &e {
            delivered += bytes.len() as u64;
        }
        black_box(&e);
    };
    for (n, s) in segs.iter().enumerate() {
        t.segment(n as u64 + 1, s.ts, &s.info(), &mut out);
    }
    t.finish(&mut out);
    delivered
}

pub fn bench(c: &mut Criterion) {
    let in_order = segments(&[
        "python-websockets-deflate.pcap",
        "python-websockets-nocompress.pcap",
        "compare-polling-vs-websocket.pcap",
    ]);
    let payload: u64 = in_order.iter().map(|s| s.payload.len() as u64).sum();
    let delivered = follow(&in_order);
    let swapped = reordered(segments(&[
        "python-websockets-deflate.pcap",
        "python-websockets-nocompress.pcap",
        "compare-polling-vs-websocket.pcap",
    ]));
    // Reordering changes nothing delivered: the bench measures the holding, not a loss.
    assert_eq!(follow(&swapped), delivered, "reassembly lost bytes");
    let mut g = crate::group(c, "tcp");
    g.throughput(Throughput::Bytes(payload));
    g.bench_function("flow_table_in_order", |b| {
        b.iter(|| follow(black_box(&in_order)))
    });
    g.bench_function("flow_table_reordered", |b| {
        b.iter(|| follow(black_box(&swapped)))
    });
    g.finish();
}
