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
    Damaged(String),
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
    /// Where in the file the next block begins.
    pos: u64,
    /// Where the last packet's record begins.
    last: u64,
    /// The file's header blocks in force (pcap: its header; pcapng: the section
    /// header and the interfaces since), as (offset, length): what a reader that
    /// starts at a packet further on must read first.
    header: Resume,
    /// Bytes of the stream that are not the file's (a prelude read before a seek).
    shift: u64,
}

/// Where a reader can start again in the middle of a file: the header blocks to
/// read first, as (offset, length).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resume {
    /// The blocks the packets from there depend on.
    pub header: Vec<(u64, u64)>,
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
            pos: 0,
            last: 0,
            header: Resume::default(),
            shift: 0,
        })
    }

    /// Opens `path` at `offset` (a packet record's, see [`FastFile::offset`]),
    /// reading the header blocks of `resume` first.
    pub fn open_at(path: &std::path::Path, resume: &Resume, offset: u64) -> Option<FastFile> {
        use std::io::{Read as _, Seek, SeekFrom};
        let mut file = File::open(path).ok()?;
        let mut prelude = Vec::new();
        for &(at, len) in &resume.header {
            let len = usize::try_from(len).ok().filter(|&l| l <= MAX_RECORD)?;
            let start = prelude.len();
            prelude.resize(start + len, 0);
            file.seek(SeekFrom::Start(at)).ok()?;
            file.read_exact(prelude.get_mut(start..)?).ok()?;
        }
        file.seek(SeekFrom::Start(offset)).ok()?;
        let shift = (prelude.len() as u64).wrapping_sub(offset);
        let input = std::io::Cursor::new(prelude).chain(file);
        let reader = pcap_parser::create_reader(BUFFER, input).ok()?;
        Some(FastFile {
            reader,
            pending: 0,
            ifaces: Vec::new(),
            buf: Vec::new(),
            pos: 0,
            last: 0,
            header: Resume::default(),
            shift,
        })
    }

    /// Where the last packet's record begins in the file.
    pub fn offset(&self) -> u64 {
        self.last.wrapping_sub(self.shift)
    }

    /// What a reader needs to start again at the last packet.
    pub fn resume(&self) -> &Resume {
        &self.header
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
                self.pos += self.pending as u64;
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
                            Read::Damaged("the file ends inside a packet record".into())
                        };
                    }
                    if self.reader.refill().is_err() {
                        return Read::Damaged("the file could not be read further".into());
                    }
                    continue;
                }
                Err(PcapError::BufferTooSmall) => {
                    let size = self.reader.data().len().max(BUFFER) * 2;
                    if size > MAX_RECORD || !self.reader.grow(size) {
                        return Read::Damaged(format!(
                            "a packet record claims more than {} MiB",
                            MAX_RECORD >> 20
                        ));
                    }
                    continue;
                }
                Err(e) => return Read::Damaged(format!("a record is malformed ({e:?})")),
            };
            self.pending = used;
            let at = self.pos.wrapping_sub(self.shift);
            let packet = match block {
                PcapBlockOwned::LegacyHeader(h) => {
                    self.header.header = vec![(at, used as u64)];
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
                    self.header.header = vec![(at, used as u64)];
                    self.ifaces.clear();
                    None
                }
                PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                    self.header.header.push((at, used as u64));
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
                        None => {
                            return Read::Damaged(format!(
                                "a packet names interface {}, which the file never described",
                                epb.if_id
                            ))
                        }
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
                self.last = self.pos;
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
