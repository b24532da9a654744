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
//!
//! The file is read, not mapped: mapping it (memmap2, the records parsed in place,
//! each batch's pages given back with `MADV_DONTNEED`) was measured slower, 1.13× to
//! 1.17× the CPU time of `stats` on the 168 MB chat workload (`perf stat -r 8`), with
//! `MADV_POPULATE_READ` ahead of each batch as well. The copy `read(2)` makes streams
//! the file through the cache; without it, the first touch of each record (its
//! header parsed, its addresses hashed) waits on memory: those two went from 2% to
//! 24% of the samples.

use std::fs::File;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::Arc;

use pcap_parser::pcapng::Block;
use pcap_parser::{PcapBlockOwned, PcapError};

use wsscope::types::Timestamp;

use super::Damage;

/// The bytes read before the reader thread starts: enough for any format's
/// first block as written by capture tools.
const FIRST_READ: usize = 64 << 10;
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

/// The bytes of the file read into one batch (more only for a record larger than
/// that, up to [`MAX_RECORD`]). Each batch costs the thread that takes it a wake-up
/// (and `stats`' two decoding threads one each, and the merge a pass): 2 MiB rather
/// than 256 KiB took `stats` on the chat workload to 0.85x the wall time (paired
/// runs; 4 MiB gained nothing more) and left small frames as they were.
const BATCH_BYTES: usize = 2 << 20;
/// The packets of one batch, at most: a batch of tiny packets (a SYN flood's) stops
/// here, so that what a batch holds, its records and, in `stats`, what its packets
/// make the decoding threads hand back at once, stays bounded by packets as well as
/// by bytes (2 MiB of SYNs is 30,000 connections begun).
const BATCH_PACKETS: usize = 8192;
/// The least a batch reads while packets, not bytes, end batches.
const MIN_READ: usize = 64 << 10;
/// The bytes read into each batch of a file opened at a packet (the view decoding
/// what is on screen again): a screen's packets, not a long read ahead.
const RESUME_BATCH_BYTES: usize = 256 << 10;
/// Batches ready and waiting (besides the one being read and the one being filled):
/// the reader runs at most this far ahead, so its memory stays about 8 MiB: four
/// buffers of [`BATCH_BYTES`] (one grown past twice that for a large record is let go
/// once it is read), and the bytes carried between batches; `stats`' decoding threads
/// hold at most three batches more, see `shards`.
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
    /// How the header blocks changed just before this packet, if they did.
    resume: Option<Box<HeaderChange>>,
}

/// How the header blocks in force changed between two packets: only what changed,
/// so that a file alternating interface blocks and packets costs memory in
/// proportion to its length (a whole copy of the header per packet grew with its
/// square: 288 MB for a 336 KB file of 6000 such pairs).
#[derive(Default)]
struct HeaderChange {
    /// A new header (pcap) or section (pcapng) began: the blocks before are gone.
    reset: bool,
    /// The blocks added, in order.
    added: Vec<(u64, u64)>,
}

impl HeaderChange {
    /// `header` as it is after the change.
    fn apply(self, header: &mut Resume) {
        if self.reset {
            header.header.clear();
        }
        header.header.extend(self.added);
    }
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
    /// The file's bytes as read (record headers and all), its records' among them.
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
        FastFile::open_sized(path, BATCH_BYTES)
    }

    /// Opens `path`, reading `batch_bytes` of it into each batch.
    fn open_sized(path: &std::path::Path, batch_bytes: usize) -> Option<FastFile> {
        let file = File::open(path).ok()?;
        FastFile::start(Box::new(file), Places::default(), batch_bytes)
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
        let input = std::io::Cursor::new(prelude).chain(file);
        let places = Places {
            prelude: resume.header.clone(),
            then: offset,
        };
        FastFile::start(Box::new(input), places, RESUME_BATCH_BYTES)
    }

    /// Reads the stream's first bytes here, to know whether this reader takes it,
    /// and goes on on a thread of its own.
    fn start(
        input: Box<dyn std::io::Read + Send>,
        places: Places,
        batch_bytes: usize,
    ) -> Option<FastFile> {
        let mut parser = Parser {
            input,
            format: Format::Ng { big_endian: false },
            eof: false,
            failed: false,
            carry: Vec::new(),
            want: 0,
            pos: 0,
            ifaces: Vec::new(),
            places,
            header: None,
            keyed: Arc::new(AtomicBool::new(false)),
            batch_bytes,
            target: batch_bytes,
        };
        let mut first = vec![0; FIRST_READ];
        let mut filled = 0;
        parser.read(&mut first, &mut filled).ok()?;
        first.truncate(filled);
        parser.format = Format::detect(&first)?;
        parser.carry = first;
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
                    h.apply(&mut self.resume);
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

/// The record parser, on the reader thread: it reads the stream straight into a
/// batch's buffer and parses the records where they lie (pcap-parser's slice
/// parsers), so a packet's bytes are copied once, by the kernel.
struct Parser {
    input: Box<dyn std::io::Read + Send>,
    format: Format,
    /// The stream has ended.
    eof: bool,
    /// It ended because it could not be read further (then the end is damage).
    failed: bool,
    /// The start of a record the last buffer ended inside: the next buffer begins
    /// with it.
    carry: Vec<u8>,
    /// The bytes the carried record needs in all (0: a buffer's worth).
    want: usize,
    /// Where in the stream `carry` (the next buffer) begins.
    pos: u64,
    /// pcapng: the interfaces of the current section; pcap: one.
    ifaces: Vec<Iface>,
    /// Where the stream's bytes are in the file.
    places: Places,
    /// How the file's header blocks changed since the last packet.
    header: Option<HeaderChange>,
    /// Records are to be keyed (see [`Record::key`]).
    keyed: Arc<AtomicBool>,
    /// The bytes of the file a batch takes, at most (see [`BATCH_BYTES`]).
    batch_bytes: usize,
    /// The bytes the next batch reads: `batch_bytes`, less while batches end at
    /// [`BATCH_PACKETS`] (about what that many packets took last), so that the bytes
    /// read past the last packet and carried to the next batch stay few; it grows
    /// back by a quarter at each parse that packets did not end (never past
    /// `batch_bytes`).
    target: usize,
}

/// Where a stream's bytes are in the file: the header blocks read first (a
/// prelude, as (offset, length) in the file), then the file from an offset on.
#[derive(Default)]
struct Places {
    prelude: Vec<(u64, u64)>,
    then: u64,
}

impl Places {
    /// The file offset of the stream's byte `pos`.
    fn in_file(&self, mut pos: u64) -> u64 {
        for &(at, len) in &self.prelude {
            if pos < len {
                return at + pos;
            }
            pos -= len;
        }
        self.then.saturating_add(pos)
    }
}

/// A packet of a block: its link type, time and bytes.
type Packet<'a> = (i32, Timestamp, &'a [u8]);

/// Why [`Parser::parse`] stopped.
enum Stop {
    /// The file ended (or is damaged) here.
    End(Read),
    /// The next block needs more bytes than the buffer has.
    More,
    /// A batch's worth was parsed.
    Full,
}

impl Parser {
    /// Fills batches and sends them until the file ends or the reader is dropped.
    fn run(mut self, tx: &SyncSender<Batch>, returned: &Receiver<Batch>) {
        loop {
            // A batch given back, or a new one.
            let mut batch = returned.try_recv().unwrap_or_default();
            batch.records.clear();
            batch.then = None;
            batch.keyed = self.keyed.load(Ordering::Relaxed);
            if batch.data.len() > 2 * self.batch_bytes {
                // Grown for one large record: back to the usual size.
                batch.data = Vec::new();
            }
            self.fill(&mut batch);
            let ended = batch.then.is_some();
            if tx.send(batch).is_err() || ended {
                return;
            }
        }
    }

    /// Reads into `batch` (after the bytes carried over) and parses its records,
    /// until a batch's worth is parsed or the file ends.
    fn fill(&mut self, batch: &mut Batch) {
        let carried = self.carry.len();
        let mut size = self.room(carried);
        if batch.data.len() < size {
            batch.data.resize(size, 0);
        }
        batch.data[..carried].copy_from_slice(&self.carry);
        self.carry.clear();
        if self.carry.capacity() > 2 * self.batch_bytes {
            // Held for one large record: not kept for the rest of the file.
            self.carry = Vec::new();
        }
        self.want = 0;
        let mut filled = carried;
        // Where the next block begins in `batch.data`.
        let mut cursor = 0;
        loop {
            // Only a batch's worth (a recycled buffer may be larger). A read that
            // fails ends the stream there: what was read before it is parsed first.
            if self.read(&mut batch.data[..size], &mut filled).is_err() {
                self.eof = true;
                self.failed = true;
            }
            let buffer = &batch.data[..filled];
            let limit = cursor.max(self.target);
            let stop = self.parse(buffer, &mut batch.records, batch.keyed, &mut cursor, limit);
            self.target = if batch.records.len() >= BATCH_PACKETS {
                cursor.max(MIN_READ)
            } else {
                self.target.saturating_add(self.target / 4)
            }
            .min(self.batch_bytes);
            match stop {
                Stop::End(how) => {
                    batch.then = Some(match how {
                        Read::End | Read::Damaged(Damage::EndsInsideRecord) if self.failed => {
                            Read::Damaged(Damage::Unreadable)
                        }
                        how => how,
                    });
                    break;
                }
                Stop::More if batch.records.is_empty() => {
                    // Only header blocks so far, or one record larger than the
                    // buffer: make room in this one and read on.
                    batch.data.copy_within(cursor..filled, 0);
                    self.pos += cursor as u64;
                    filled -= cursor;
                    cursor = 0;
                    size = self.room(size);
                    if batch.data.len() < size {
                        batch.data.resize(size, 0);
                    }
                    self.want = 0;
                }
                Stop::More | Stop::Full => {
                    // What is left (the record the buffer ends inside) begins the next one.
                    self.carry.extend_from_slice(&batch.data[cursor..filled]);
                    self.pos += cursor as u64;
                    break;
                }
            }
        }
    }

    /// The buffer size for a batch that holds `have` bytes already: the bytes the
    /// batch reads (`target`), more for a record that needs more (`want`), but at
    /// most twice the larger of those two, so that a record's claimed length is not
    /// allocated before its bytes exist.
    fn room(&self, have: usize) -> usize {
        let grown = have.max(self.target).saturating_mul(2);
        self.want.min(grown).max(self.target).max(have)
    }

    /// Reads until `data` is full or the stream ends.
    fn read(&mut self, data: &mut [u8], filled: &mut usize) -> Result<(), ()> {
        while !self.eof && *filled < data.len() {
            match self.input.read(&mut data[*filled..]) {
                Ok(0) => self.eof = true,
                Ok(n) => *filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return Err(()),
            }
        }
        Ok(())
    }

    /// Parses the blocks of `buffer` from `cursor` on, adding its packets to
    /// `records` (their bytes' places in `buffer`), until `cursor` reaches `limit`,
    /// more bytes are needed (then `want` is the bytes the unfinished block needs
    /// in all, from `cursor`), or the file ends (`eof`: nothing follows `buffer`).
    fn parse(
        &mut self,
        buffer: &[u8],
        records: &mut Vec<Record>,
        keyed: bool,
        cursor: &mut usize,
        limit: usize,
    ) -> Stop {
        let base = buffer.as_ptr() as usize;
        loop {
            if *cursor >= limit || records.len() >= BATCH_PACKETS {
                return Stop::Full;
            }
            let rest = &buffer[*cursor..];
            if rest.is_empty() && self.eof {
                return Stop::End(Read::End);
            }
            let (left, block) = match self.format.parse(rest) {
                Ok(b) => b,
                Err(pcap_parser::nom::Err::Incomplete(needed)) => {
                    let more = match needed {
                        pcap_parser::nom::Needed::Size(n) => n.get(),
                        pcap_parser::nom::Needed::Unknown => 1,
                    };
                    let all = rest.len().saturating_add(more);
                    if all > MAX_RECORD {
                        return Stop::End(Read::Damaged(Damage::RecordTooLong {
                            max_mib: MAX_RECORD >> 20,
                        }));
                    }
                    if self.format.block_len(rest).is_some_and(|n| n <= rest.len()) {
                        // The whole block is here: what it lacks is inside it.
                        return Stop::End(Read::Damaged(Damage::Malformed(
                            "a block's contents run past its length".into(),
                        )));
                    }
                    if self.eof {
                        return Stop::End(Read::Damaged(Damage::EndsInsideRecord));
                    }
                    // At least twice what is here, so that a buffer grows in few steps.
                    self.want = all.max(rest.len().saturating_mul(2).min(MAX_RECORD));
                    return Stop::More;
                }
                Err(pcap_parser::nom::Err::Error(e) | pcap_parser::nom::Err::Failure(e)) => {
                    return Stop::End(Read::Damaged(malformed(&e)));
                }
            };
            let used = rest.len() - left.len();
            let at = self.places.in_file(self.pos + *cursor as u64);
            *cursor += used;
            match self.packet(block, at, used) {
                Ok(Some((linktype, ts, data))) => {
                    let start = (data.as_ptr() as usize).wrapping_sub(base);
                    let resume = self.header.take().map(Box::new);
                    records.push(Record {
                        linktype,
                        ts,
                        key: if keyed {
                            wsscope::wire::ip_pair_hash(linktype, data)
                        } else {
                            0
                        },
                        start,
                        end: start + data.len(),
                        offset: at,
                        resume,
                    });
                }
                Ok(None) => {}
                Err(why) => return Stop::End(Read::Damaged(why)),
            }
        }
    }

    /// What a block is: a packet (its link type, time and bytes), or a header block
    /// (noted) or another block (None).
    fn packet<'a>(
        &mut self,
        block: PcapBlockOwned<'a>,
        at: u64,
        used: usize,
    ) -> Result<Option<Packet<'a>>, Damage> {
        Ok(match block {
            PcapBlockOwned::LegacyHeader(h) => {
                self.header = Some(HeaderChange {
                    reset: true,
                    added: vec![(at, used as u64)],
                });
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
                self.header = Some(HeaderChange {
                    reset: true,
                    added: vec![(at, used as u64)],
                });
                self.ifaces.clear();
                None
            }
            PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                self.header
                    .get_or_insert_with(HeaderChange::default)
                    .added
                    .push((at, used as u64));
                self.ifaces.push(Iface {
                    linktype: idb.linktype.0,
                    units: idb.ts_resolution().unwrap_or(1_000_000).max(1),
                    offset: idb.if_tsoffset,
                });
                None
            }
            PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                let Some(i) = self.ifaces.get(epb.if_id as usize).copied() else {
                    return Err(Damage::UnknownInterface(epb.if_id));
                };
                let t = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                let secs = ((t / i.units) as i64).saturating_add(i.offset);
                let caplen = (epb.caplen as usize).min(epb.data.len());
                Some((
                    i.linktype,
                    stamp(secs, t % i.units, i.units),
                    &epb.data[..caplen],
                ))
            }
            PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
                let i = self.ifaces.first().copied();
                let caplen = (spb.origlen as usize).min(spb.data.len());
                // A simple packet block has no time.
                i.map(|i| (i.linktype, Timestamp(0), &spb.data[..caplen]))
            }
            // Statistics, name resolution, secrets (read apart), custom blocks.
            _ => None,
        })
    }
}

/// Which records the stream holds.
#[derive(Clone, Copy)]
enum Format {
    /// pcap: its header comes first, then records read with this parser (by the
    /// header's byte order and layout).
    Legacy {
        header_read: bool,
        frame: FrameParser,
    },
    /// pcapng, its current section in this byte order.
    Ng { big_endian: bool },
}

type FrameParser = for<'a> fn(
    &'a [u8],
) -> pcap_parser::nom::IResult<
    &'a [u8],
    pcap_parser::LegacyPcapBlock<'a>,
    PcapError<&'a [u8]>,
>;

impl Format {
    /// The stream's format from its first bytes; None when this reader does not
    /// take it (libpcap then does).
    fn detect(first: &[u8]) -> Option<Format> {
        if let Ok((_, h)) = pcap_parser::pcap::parse_pcap_header(first) {
            let frame: FrameParser = if h.is_modified_format() {
                pcap_parser::pcap::parse_pcap_frame_modified
            } else if h.is_bigendian() {
                pcap_parser::pcap::parse_pcap_frame_be
            } else {
                pcap_parser::pcap::parse_pcap_frame
            };
            return Some(Format::Legacy {
                header_read: false,
                frame,
            });
        }
        let (_, shb) = pcap_parser::pcapng::parse_sectionheaderblock(first).ok()?;
        Some(Format::Ng {
            big_endian: shb.big_endian(),
        })
    }

    /// pcapng: the length the block at the start of `i` declares (a section
    /// header's in its own byte order). None for pcap records, or before 12 bytes.
    fn block_len(&self, i: &[u8]) -> Option<usize> {
        let Format::Ng { big_endian } = *self else {
            return None;
        };
        let word = |at: usize, be: bool| {
            let b: [u8; 4] = i.get(at..at + 4)?.try_into().ok()?;
            Some(if be {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            })
        };
        let be = if i.get(..4) == Some(&SECTION_HEADER[..]) {
            // A section header: its byte-order magic says.
            word(8, true)? == 0x1a2b_3c4d
        } else {
            big_endian
        };
        usize::try_from(word(4, be)?).ok()
    }

    /// The next block at the start of `i`.
    fn parse<'a>(
        &mut self,
        i: &'a [u8],
    ) -> pcap_parser::nom::IResult<&'a [u8], PcapBlockOwned<'a>, PcapError<&'a [u8]>> {
        match self {
            Format::Legacy { header_read, frame } => {
                if !*header_read {
                    let (rest, h) = pcap_parser::pcap::parse_pcap_header(i)?;
                    *header_read = true;
                    return Ok((rest, PcapBlockOwned::LegacyHeader(h)));
                }
                let (rest, b) = frame(i)?;
                Ok((rest, PcapBlockOwned::Legacy(b)))
            }
            Format::Ng { big_endian } => {
                if short_block(i, *big_endian) {
                    return Err(pcap_parser::nom::Err::Error(PcapError::NomError(
                        i,
                        pcap_parser::nom::error::ErrorKind::Verify,
                    )));
                }
                let (rest, b) = if *big_endian {
                    pcap_parser::pcapng::parse_block_be(i)?
                } else {
                    pcap_parser::pcapng::parse_block_le(i)?
                };
                if let Block::SectionHeader(shb) = &b {
                    *big_endian = shb.big_endian();
                }
                Ok((rest, PcapBlockOwned::NG(b)))
            }
        }
    }
}

/// pcapng: whether the block at the start of `i` (not a section header, which
/// pcap-parser checks against its own 28 bytes) declares a length under the 12
/// bytes every block has. pcap-parser 0.17 checks a length only against the
/// block type's fixed header (4 bytes for a Process Information Block), then
/// takes `length - 12` bytes: under 12 that subtraction overflows (a panic with
/// overflow checks, a 4 GiB block wanted without). Shared by `keys.rs`.
pub(crate) fn short_block(i: &[u8], big_endian: bool) -> bool {
    i.get(..4) != Some(&SECTION_HEADER[..])
        && Format::Ng { big_endian }
            .block_len(i)
            .is_some_and(|n| n < 12)
}

/// A pcapng section header block's type, in either byte order.
const SECTION_HEADER: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];

/// pcap-parser's fault, in a few words (its Debug form would list the bytes).
fn malformed(e: &PcapError<&[u8]>) -> Damage {
    Damage::Malformed(match e {
        PcapError::NomError(_, kind) | PcapError::OwnedNomError(_, kind) => {
            format!("{kind:?}")
        }
        PcapError::Eof => "Eof".into(),
        PcapError::BufferTooSmall => "BufferTooSmall".into(),
        PcapError::UnexpectedEof => "UnexpectedEof".into(),
        PcapError::ReadError => "ReadError".into(),
        PcapError::Incomplete(n) => format!("Incomplete({n})"),
        PcapError::HeaderNotRecognized => "HeaderNotRecognized".into(),
    })
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

#[cfg(test)]
#[path = "file_tests.rs"]
mod tests;
