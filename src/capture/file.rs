//! Reading capture files without libpcap: pcap and pcapng blocks parsed with
//! `pcap-parser` from a buffered file (no per-packet call into libpcap, no copy of
//! the record header). libpcap stays the reader of live interfaces, the BPF
//! engine, and the fallback for files this reader does not take
//! (`WSSCOPE_READER=libpcap` forces it); tests check both give the same events.

use std::fs::File;

use pcap_parser::pcapng::Block;
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{PcapBlockOwned, PcapError};

use wsscope::types::Timestamp;

use super::Damage;

/// The buffer a record is read into (grown up to [`MAX_RECORD`] for larger ones).
const BUFFER: usize = 1 << 20;
/// The largest record accepted; a larger one is damage (libpcap's own bound is 256 KiB
/// of packet for most link types).
const MAX_RECORD: usize = 16 << 20;

/// An interface of a pcapng section: its link type and time resolution.
#[derive(Clone, Copy)]
struct Iface {
    linktype: i32,
    /// Timestamp units per second.
    units: u64,
    /// Seconds added to every timestamp.
    offset: i64,
}

/// What one read gave.
pub enum Read {
    /// A packet: its link type and time; its bytes are [`FastFile::data`].
    Packet(i32, Timestamp),
    /// The end of the file.
    End,
    /// Damage from here on.
    Damaged(Damage),
}

/// A capture file read block by block.
pub struct FastFile {
    reader: Box<dyn PcapReaderIterator + Send>,
    /// Bytes of the block last returned, consumed before the next read.
    pending: usize,
    /// pcapng: the interfaces of the current section; pcap: one.
    ifaces: Vec<Iface>,
    /// The last packet's bytes.
    buf: Vec<u8>,
}

impl FastFile {
    /// Opens `path`; None when this reader does not take the file (libpcap then does).
    pub fn open(path: &std::path::Path) -> Option<FastFile> {
        if std::env::var("WSSCOPE_READER").is_ok_and(|v| v == "libpcap") {
            return None;
        }
        let file = File::open(path).ok()?;
        let reader = pcap_parser::create_reader(BUFFER, file).ok()?;
        Some(FastFile {
            reader,
            pending: 0,
            ifaces: Vec::new(),
            buf: Vec::new(),
        })
    }

    /// The last packet's bytes.
    pub fn data(&self) -> &[u8] {
        &self.buf
    }

    /// Reads up to the next packet.
    pub fn next(&mut self) -> Read {
        loop {
            if self.pending > 0 {
                self.reader.consume(self.pending);
                self.pending = 0;
            }
            let (used, block) = match self.reader.next() {
                Ok(b) => b,
                Err(PcapError::Eof) => return Read::End,
                Err(PcapError::Incomplete(_)) => {
                    if self.reader.reader_exhausted() {
                        return if self.reader.data().is_empty() {
                            Read::End
                        } else {
                            Read::Damaged(Damage::EndsInsideRecord)
                        };
                    }
                    if self.reader.refill().is_err() {
                        return Read::Damaged(Damage::Unreadable);
                    }
                    continue;
                }
                Err(PcapError::BufferTooSmall) => {
                    let size = self.reader.data().len().max(BUFFER) * 2;
                    if size > MAX_RECORD || !self.reader.grow(size) {
                        return Read::Damaged(Damage::RecordTooLong {
                            max_mib: MAX_RECORD >> 20,
                        });
                    }
                    continue;
                }
                Err(e) => return Read::Damaged(Damage::Malformed(format!("{e:?}"))),
            };
            self.pending = used;
            let packet = match block {
                PcapBlockOwned::LegacyHeader(h) => {
                    let nanos = h.is_nanosecond_precision();
                    self.ifaces = vec![Iface {
                        linktype: h.network.0,
                        units: if nanos { 1_000_000_000 } else { 1_000_000 },
                        offset: 0,
                    }];
                    None
                }
                PcapBlockOwned::Legacy(b) => {
                    let caplen = (b.caplen as usize).min(b.data.len());
                    self.ifaces.first().map(|i| {
                        let ts = stamp(i64::from(b.ts_sec), u64::from(b.ts_usec), i.units);
                        (i.linktype, ts, &b.data[..caplen])
                    })
                }
                PcapBlockOwned::NG(Block::SectionHeader(_)) => {
                    self.ifaces.clear();
                    None
                }
                PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                    self.ifaces.push(Iface {
                        linktype: idb.linktype.0,
                        units: idb.ts_resolution().unwrap_or(1_000_000).max(1),
                        offset: idb.if_tsoffset,
                    });
                    None
                }
                PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                    match self.ifaces.get(epb.if_id as usize).copied() {
                        Some(i) => {
                            let t = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                            let secs = (t / i.units) as i64 + i.offset;
                            let caplen = (epb.caplen as usize).min(epb.data.len());
                            Some((
                                i.linktype,
                                stamp(secs, t % i.units, i.units),
                                &epb.data[..caplen],
                            ))
                        }
                        None => return Read::Damaged(Damage::UnknownInterface(epb.if_id)),
                    }
                }
                PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
                    let i = self.ifaces.first().copied();
                    let caplen = (spb.origlen as usize).min(spb.data.len());
                    // A simple packet block has no time.
                    i.map(|i| (i.linktype, Timestamp(0), &spb.data[..caplen]))
                }
                // Statistics, name resolution, secrets (read apart), custom blocks.
                _ => None,
            };
            if let Some((linktype, ts, data)) = packet {
                self.buf.clear();
                self.buf.extend_from_slice(data);
                return Read::Packet(linktype, ts);
            }
        }
    }
}

/// A time from whole seconds and a fraction in `units` per second, in microseconds
/// (truncated, as libpcap does for microsecond precision).
fn stamp(secs: i64, frac: u64, units: u64) -> Timestamp {
    let micros = if units == 1_000_000 {
        frac
    } else {
        (u128::from(frac) * 1_000_000 / u128::from(units)) as u64
    };
    Timestamp::from_parts(secs, micros as i64)
}
