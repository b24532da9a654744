//! Reading capture files without libpcap: pcap and pcapng blocks parsed with
//! `pcap-parser` from a buffered file (no per-packet call into libpcap, no copy of
//! the record header). libpcap stays the reader of live interfaces, the BPF
//! engine, and the fallback for files this reader does not take
//! (`WSSCOPE_READER=libpcap` forces it); tests check both give the same events.
//!
//! The file is read and its records parsed on a thread of their own, a batch of
//! packets at a time, while the caller decodes the previous batch: the second core
//! takes the system calls, the copy and the record parsing (about a fifth of
//! `stats` on small frames).

use std::fs::File;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::Arc;

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

/// Packet bytes gathered before a batch is handed over.
const BATCH_BYTES: usize = 256 << 10;
/// Packets gathered before a batch is handed over.
const BATCH_PACKETS: usize = 4096;
/// Batches ready and waiting (besides the one being read and the one being filled):
/// the reader runs at most this far ahead, so memory stays about 1 MiB (more while
/// `stats`' decoding threads hold whole batches: at most a few rounds of about 1 MiB,
/// see `shards`).
const BATCHES_AHEAD: usize = 2;

/// One packet of a batch: where its bytes are in [`Batch::data`].
struct Record {
    linktype: i32,
    ts: Timestamp,
    /// Its outermost IP addresses' hash ([`wsscope::wire::ip_pair_hash`]): which
    /// decoding thread takes it, computed on the reader's thread once
    /// [`FastFile::next_batch`] has been asked for (0 before).
    key: usize,
    start: usize,
    end: usize,
    /// Where its record begins in the file.
    offset: u64,
    /// The header blocks from this packet on, when they changed before it.
    resume: Option<Box<Resume>>,
}

/// Where a reader can start again in the middle of a file: the header blocks to
/// read first, as (offset, length) (pcap: its header; pcapng: the section header
/// and the interfaces described since).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resume {
    /// The blocks the packets from there depend on.
    pub header: Vec<(u64, u64)>,
}

/// Packets read on the reader thread, in file order.
#[derive(Default)]
pub struct Batch {
    data: Vec<u8>,
    records: Vec<Record>,
    /// The records' keys were computed (see [`Record::key`]).
    keyed: bool,
    /// How the file went on after these packets: its end or damage.
    then: Option<Read>,
}

impl Batch {
    /// Its packets.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Its packets' bytes.
    pub fn bytes(&self) -> usize {
        self.data.len()
    }

    /// Packet `i`: its link type, time and bytes.
    #[inline]
    pub fn packet(&self, i: usize) -> Option<(i32, Timestamp, &[u8])> {
        let r = self.records.get(i)?;
        Some((
            r.linktype,
            r.ts,
            self.data.get(r.start..r.end).unwrap_or_default(),
        ))
    }

    /// Packet `i`'s [`wsscope::wire::ip_pair_hash`] (computed here for the few
    /// batches parsed before they were asked for whole).
    #[inline]
    pub fn key(&self, i: usize) -> usize {
        match self.records.get(i) {
            Some(r) if self.keyed => r.key,
            Some(r) => {
                let data = self.data.get(r.start..r.end).unwrap_or_default();
                wsscope::wire::ip_pair_hash(r.linktype, data)
            }
            None => 0,
        }
    }

    /// How the file went on after these packets: `None` while it goes on, else
    /// its end (with the damage, if it is damaged there).
    pub fn end(&self) -> Option<Option<Damage>> {
        match &self.then {
            None => None,
            Some(Read::Damaged(why)) => Some(Some(why.clone())),
            Some(_) => Some(None),
        }
    }
}

/// A capture file, read and parsed on a thread of its own.
pub struct FastFile {
    batches: Receiver<Batch>,
    /// Batches read, given back to be filled again.
    recycle: SyncSender<Batch>,
    current: Batch,
    /// The next record of `current` to return.
    next: usize,
    /// The bytes of the packet last returned, in `current.data`.
    last: (usize, usize),
    /// Where the record of the packet last returned begins in the file.
    offset: u64,
    /// The header blocks in force for it.
    resume: Resume,
    /// Set by [`FastFile::next_batch`]: the reader then keys its records (only
    /// `stats`' decoding threads read the keys; the reader of every other view does
    /// not pay for them).
    keyed: Arc<AtomicBool>,
}

impl FastFile {
    /// Opens `path`; None when this reader does not take the file (libpcap then does).
    pub fn open(path: &std::path::Path) -> Option<FastFile> {
        if std::env::var("WSSCOPE_READER").is_ok_and(|v| v == "libpcap") {
            return None;
        }
        let file = File::open(path).ok()?;
        let reader = pcap_parser::create_reader(BUFFER, file).ok()?;
        FastFile::start(reader, 0)
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
        // The stream's bytes before `offset`'s are the prelude's.
        let shift = (prelude.len() as u64).wrapping_sub(offset);
        let input = std::io::Cursor::new(prelude).chain(file);
        let reader = pcap_parser::create_reader(BUFFER, input).ok()?;
        FastFile::start(reader, shift)
    }

    fn start(reader: Box<dyn PcapReaderIterator + Send>, shift: u64) -> Option<FastFile> {
        let parser = Parser {
            reader,
            pending: 0,
            ifaces: Vec::new(),
            pos: 0,
            shift,
            header: Resume::default(),
            header_changed: false,
            keyed: Arc::new(AtomicBool::new(false)),
        };
        let keyed = parser.keyed.clone();
        let (tx, batches) = std::sync::mpsc::sync_channel(BATCHES_AHEAD);
        let (recycle, returned) = std::sync::mpsc::sync_channel(BATCHES_AHEAD + 2);
        std::thread::Builder::new()
            .name("wsscope-read".into())
            .spawn(move || parser.run(&tx, &returned))
            .ok()?;
        Some(FastFile {
            batches,
            recycle,
            current: Batch::default(),
            next: 0,
            last: (0, 0),
            offset: 0,
            resume: Resume::default(),
            keyed,
        })
    }

    /// Where the last packet's record begins in the file.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// What a reader needs to start again at the last packet.
    pub fn resume(&self) -> &Resume {
        &self.resume
    }

    /// The last packet's bytes.
    #[inline]
    pub fn data(&self) -> &[u8] {
        self.current
            .data
            .get(self.last.0..self.last.1)
            .unwrap_or_default()
    }

    /// The common case of [`FastFile::next`], a few loads and stores: one more
    /// record of the batch at hand (its bytes are [`FastFile::data`]). None when
    /// the batch is read or the record starts new header blocks: `next` then.
    #[inline]
    pub fn advance(&mut self) -> Option<(i32, Timestamp)> {
        let r = self.current.records.get(self.next)?;
        if r.resume.is_some() {
            return None;
        }
        self.next += 1;
        self.last = (r.start, r.end);
        self.offset = r.offset;
        Some((r.linktype, r.ts))
    }

    /// The next batch whole, shared (for decoding threads that each take their
    /// packets of it); `None` once the file has ended or the reader is gone. Not to be
    /// mixed with [`FastFile::next`] on the same file.
    pub fn next_batch(&mut self) -> Option<std::sync::Arc<Batch>> {
        self.keyed.store(true, Ordering::Relaxed);
        if self.current.then.is_some() {
            return None;
        }
        match self.batches.recv() {
            Ok(b) => {
                let ended = b.then.is_some();
                let b = std::sync::Arc::new(b);
                if ended {
                    // Later calls say the end.
                    self.current.then = Some(Read::End);
                }
                Some(b)
            }
            Err(_) => {
                // The reader thread is gone: nothing more can be read, and that is said.
                self.current.then = Some(Read::End);
                Some(std::sync::Arc::new(Batch {
                    then: Some(Read::Damaged(Damage::Unreadable)),
                    ..Batch::default()
                }))
            }
        }
    }

    /// A batch from [`FastFile::next_batch`] whose packets are all decoded: its
    /// buffers are filled again (when no one else holds it).
    pub fn give_back(&mut self, batch: std::sync::Arc<Batch>) {
        if let Ok(b) = std::sync::Arc::try_unwrap(batch) {
            let _ = self.recycle.try_send(b);
        }
    }

    /// The next packet, or how the file ended.
    pub fn next(&mut self) -> Read {
        loop {
            if let Some(r) = self.current.records.get_mut(self.next) {
                self.next += 1;
                self.last = (r.start, r.end);
                self.offset = r.offset;
                if let Some(h) = r.resume.take() {
                    self.resume = *h;
                }
                return Read::Packet(r.linktype, r.ts);
            }
            if let Some(then) = &self.current.then {
                return match then {
                    Read::Damaged(why) => Read::Damaged(why.clone()),
                    _ => Read::End,
                };
            }
            match self.batches.recv() {
                Ok(b) => {
                    let done = std::mem::replace(&mut self.current, b);
                    // The reader may have stopped (at the end): the batch is dropped.
                    let _ = self.recycle.try_send(done);
                    self.next = 0;
                    self.last = (0, 0);
                }
                Err(_) => {
                    // The reader thread is gone: nothing more can be read.
                    self.current.then = Some(Read::Damaged(Damage::Unreadable));
                }
            }
        }
    }
}

/// The record parser, on the reader thread.
struct Parser {
    reader: Box<dyn PcapReaderIterator + Send>,
    /// Bytes of the block last returned, consumed before the next read.
    pending: usize,
    /// pcapng: the interfaces of the current section; pcap: one.
    ifaces: Vec<Iface>,
    /// Where in the stream the next block begins.
    pos: u64,
    /// Bytes of the stream that are not the file's at that place (a prelude
    /// read before a seek): a block's offset in the file is its position less it.
    shift: u64,
    /// The file's header blocks in force.
    header: Resume,
    /// They changed since the last packet.
    header_changed: bool,
    /// Records are to be keyed (see [`Record::key`]).
    keyed: Arc<AtomicBool>,
}

/// What one parse gave: a packet was added to the batch, or the file ended.
enum Parsed {
    Packet,
    Ended(Read),
}

impl Parser {
    /// Fills batches and sends them until the file ends or the reader is dropped.
    fn run(mut self, tx: &SyncSender<Batch>, returned: &Receiver<Batch>) {
        loop {
            // A batch given back, or a new one.
            let mut batch = returned.try_recv().unwrap_or_default();
            batch.data.clear();
            batch.records.clear();
            batch.then = None;
            batch.keyed = self.keyed.load(Ordering::Relaxed);
            while batch.data.len() < BATCH_BYTES && batch.records.len() < BATCH_PACKETS {
                match self.next(&mut batch) {
                    Parsed::Packet => {}
                    Parsed::Ended(how) => {
                        batch.then = Some(how);
                        break;
                    }
                }
            }
            let ended = batch.then.is_some();
            if tx.send(batch).is_err() || ended {
                return;
            }
        }
    }

    /// Reads up to the next packet and adds it to `batch`.
    fn next(&mut self, batch: &mut Batch) -> Parsed {
        loop {
            if self.pending > 0 {
                self.reader.consume(self.pending);
                self.pos += self.pending as u64;
                self.pending = 0;
            }
            let (used, block) = match self.reader.next() {
                Ok(b) => b,
                Err(PcapError::Eof) => return Parsed::Ended(Read::End),
                Err(PcapError::Incomplete(_)) => {
                    if self.reader.reader_exhausted() {
                        return Parsed::Ended(if self.reader.data().is_empty() {
                            Read::End
                        } else {
                            Read::Damaged(Damage::EndsInsideRecord)
                        });
                    }
                    if self.reader.refill().is_err() {
                        return Parsed::Ended(Read::Damaged(Damage::Unreadable));
                    }
                    continue;
                }
                Err(PcapError::BufferTooSmall) => {
                    let size = self.reader.data().len().max(BUFFER) * 2;
                    if size > MAX_RECORD || !self.reader.grow(size) {
                        return Parsed::Ended(Read::Damaged(Damage::RecordTooLong {
                            max_mib: MAX_RECORD >> 20,
                        }));
                    }
                    continue;
                }
                Err(e) => return Parsed::Ended(Read::Damaged(Damage::Malformed(format!("{e:?}")))),
            };
            self.pending = used;
            let at = self.pos.wrapping_sub(self.shift);
            let packet = match block {
                PcapBlockOwned::LegacyHeader(h) => {
                    self.header.header = vec![(at, used as u64)];
                    self.header_changed = true;
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
                    self.header_changed = true;
                    self.ifaces.clear();
                    None
                }
                PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                    self.header.header.push((at, used as u64));
                    self.header_changed = true;
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
                            let secs = ((t / i.units) as i64).saturating_add(i.offset);
                            let caplen = (epb.caplen as usize).min(epb.data.len());
                            Some((
                                i.linktype,
                                stamp(secs, t % i.units, i.units),
                                &epb.data[..caplen],
                            ))
                        }
                        None => {
                            return Parsed::Ended(Read::Damaged(Damage::UnknownInterface(
                                epb.if_id,
                            )))
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
                let start = batch.data.len();
                batch.data.extend_from_slice(data);
                let resume =
                    std::mem::take(&mut self.header_changed).then(|| Box::new(self.header.clone()));
                batch.records.push(Record {
                    linktype,
                    ts,
                    key: if batch.keyed {
                        wsscope::wire::ip_pair_hash(linktype, data)
                    } else {
                        0
                    },
                    start,
                    end: batch.data.len(),
                    offset: at,
                    resume,
                });
                return Parsed::Packet;
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
