//! The project's captures in memory: their packets, and their TCP connections as
//! the library's wire decoder and flow table reassemble them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use wsscope::tcp::{FlowTable, SegmentInfo, TcpConfig, TcpEvent};
use wsscope::types::{Direction, Timestamp};
use wsscope::wire::{Decoded, Decoder, WireLimits};

use crate::pcapread;

/// One captured packet.
pub struct Packet {
    /// libpcap link type.
    pub linktype: i32,
    /// Capture time.
    pub ts: Timestamp,
    /// The captured bytes.
    pub data: Vec<u8>,
}

/// `captures/NAME` in the repository.
pub fn path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join(name)
}

/// `captures/NAME` as bytes.
pub fn read(name: &str) -> Vec<u8> {
    let p = path(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Every packet of `captures/NAME` (pcap or pcapng).
pub fn packets(name: &str) -> Vec<Packet> {
    let file = read(name);
    let mut out = Vec::new();
    pcapread::for_each_packet(&file, |linktype, ts, data| {
        out.push(Packet {
            linktype,
            ts,
            data: data.to_vec(),
        })
    });
    assert!(!out.is_empty(), "no packet in captures/{name}");
    out
}

/// Bytes captured in `packets`.
pub fn packet_bytes(packets: &[Packet]) -> u64 {
    packets.iter().map(|p| p.data.len() as u64).sum()
}

/// One TCP connection's streams, as the flow table delivered them: each chunk in
/// capture order with its direction (what a layer above TCP is fed).
#[derive(Default)]
pub struct Conn {
    pub chunks: Vec<(Direction, Vec<u8>)>,
}

impl Conn {
    /// Stream bytes of both directions.
    pub fn bytes(&self) -> u64 {
        self.chunks.iter().map(|(_, b)| b.len() as u64).sum()
    }

    /// The first `n` bytes of `dir`'s stream (fewer if it is shorter).
    pub fn prefix(&self, dir: Direction, n: usize) -> Vec<u8> {
        let mut v = Vec::new();
        for (d, b) in &self.chunks {
            if *d == dir && v.len() < n {
                v.extend_from_slice(&b[..b.len().min(n - v.len())]);
            }
        }
        v
    }
}

/// The TCP connections of `packets`, by connection number.
pub fn connections(packets: &[Packet]) -> Vec<Conn> {
    let mut wire = Decoder::new(WireLimits::default());
    let mut flows = FlowTable::new(TcpConfig::default());
    let mut conns: BTreeMap<u64, Conn> = BTreeMap::new();
    let mut on = |ev: TcpEvent<'_>| {
        if let TcpEvent::Data { conn, dir, bytes } = ev {
            conns
                .entry(conn)
                .or_default()
                .chunks
                .push((dir, bytes.to_vec()));
        }
    };
    for (n, p) in packets.iter().enumerate() {
        if let Decoded::Tcp(seg) = wire.decode(p.linktype, &p.data, p.ts) {
            flows.segment(n as u64 + 1, p.ts, &SegmentInfo::from(&seg), &mut on);
        }
    }
    flows.finish(&mut on);
    conns.into_values().collect()
}
