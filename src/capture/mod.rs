//! The packet source: the only user of libpcap in wsscope.
//!
//! A [`Source`] reads a pcap/pcapng file or captures live from an interface,
//! applies the BPF filter in both cases, and hands out raw packets (time,
//! link type, bytes). Everything downstream is fed plain byte slices.

mod file;

use std::fmt;
use std::path::Path;

pub(crate) use file::short_block;
pub use file::Batch;
pub use file::Resume;
use file::{FastFile, Read};

use pcap::{Active, BpfProgram, Capture, Offline};
use rust_i18n::t;
use wsscope::output::Lang;
use wsscope::text::safe;
use wsscope::types::Timestamp;

/// Where packets come from.
#[derive(Clone, Debug)]
pub enum SourceSpec {
    /// A pcap or pcapng file.
    File(String),
    /// A live interface (`any`, `lo`, `eth0`, ...).
    Live(String),
    /// A pcap or pcapng stream on standard input (`-r -`), e.g. from `tcpdump -U -w -`.
    Stdin,
}

impl fmt::Display for SourceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // A file name is shown as safely as wire text: it may have come with the capture.
            SourceSpec::File(p) => f.write_str(&safe(p)),
            SourceSpec::Live(i) => write!(f, "live on {i}"),
            SourceSpec::Stdin => f.write_str("standard input"),
        }
    }
}

/// One captured packet, borrowed from libpcap's buffer until the next read.
pub struct RawPacket<'a> {
    /// The link type (DLT) of its interface.
    pub linktype: i32,
    /// Capture time.
    pub ts: Timestamp,
    /// The bytes captured (at most the snap length).
    pub data: &'a [u8],
}

/// What reading the next packet gave.
pub enum Next<'a> {
    /// A packet.
    Packet(RawPacket<'a>),
    /// A packet of a file that the filter hides: it keeps its number (and counts in
    /// the numbering of connections).
    Filtered(RawPacket<'a>),
    /// Live capture: nothing arrived within the read timeout.
    Timeout,
    /// The end of the file.
    End,
    /// The file is damaged from here on (or the interface failed): what was read
    /// so far stands.
    Damaged(Damage),
}

/// Why the packets stop before the end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Damage {
    /// The file ends inside a packet record.
    EndsInsideRecord,
    /// The file could not be read further.
    Unreadable,
    /// A record claims more bytes than any packet has.
    RecordTooLong {
        /// The bound, MiB.
        max_mib: usize,
    },
    /// A record pcap-parser could not read (its own name for the fault).
    Malformed(String),
    /// A packet names an interface the file never described.
    UnknownInterface(u32),
    /// libpcap's own words (a file it reads, a live interface that failed).
    Libpcap(String),
}

impl Damage {
    /// What happened, in `lang`.
    pub fn text(&self, lang: Lang) -> String {
        let l = lang.code();
        match self {
            Damage::EndsInsideRecord => t!("capture.damage.ends_inside_record", locale = l),
            Damage::Unreadable => t!("capture.damage.unreadable", locale = l),
            Damage::RecordTooLong { max_mib } => {
                t!("capture.damage.record_too_long", locale = l, mib = max_mib)
            }
            Damage::Malformed(e) => t!("capture.damage.malformed", locale = l, e = safe(e)),
            Damage::UnknownInterface(n) => {
                t!("capture.damage.unknown_interface", locale = l, n = n)
            }
            Damage::Libpcap(e) => t!("capture.damage.libpcap", locale = l, e = safe(e)),
        }
        .into_owned()
    }
}

/// An OS error for a person, in the language of the messages: in Chinese, what it
/// means, with the system's own words quoted after it.
pub fn os_error(e: &std::io::Error) -> String {
    use std::io::ErrorKind;
    let text = e.to_string();
    match e.kind() {
        ErrorKind::NotFound => t!("os.not_found", text = text),
        ErrorKind::PermissionDenied => t!("os.permission_denied", text = text),
        ErrorKind::AlreadyExists => t!("os.already_exists", text = text),
        _ => t!("os.other", text = text),
    }
    .into_owned()
}

/// An error that makes the input unusable (exit status 1), as one line that says
/// what went wrong and what to do.
#[derive(Debug)]
pub struct SourceError(pub String);

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SourceError {}

enum Inner {
    File(Capture<Offline>),
    Fast(Box<FastFile>),
    Live(Capture<Active>),
}

/// An open packet source.
pub struct Source {
    inner: Inner,
    linktype: i32,
    /// A file's filter, run on each packet so that hidden packets keep their numbers.
    filter: Option<BpfProgram>,
    /// `-w FILE`: live packets are also written there (pcapng).
    save: Option<Box<Saver>>,
    /// The capture comes on standard input.
    stream: bool,
}

/// Live capture's read timeout, for libpcap's buffering.
const LIVE_TIMEOUT_MS: i32 = 100;
/// How long a live read sleeps when no packet is waiting: the longest a packet waits.
const LIVE_IDLE_SLEEP: std::time::Duration = std::time::Duration::from_millis(5);
/// Kernel capture buffer for live capture.
const LIVE_BUFFER_BYTES: i32 = 32 << 20;
/// Snap length for live capture: whole packets.
const LIVE_SNAPLEN: i32 = 262_144;

/// A file's BPF filter, compiled by libpcap for its link type (run per packet, so
/// that the packets it hides keep their numbers).
fn compile_filter(linktype: i32, expr: &str) -> Result<BpfProgram, pcap::Error> {
    Capture::dead(pcap::Linktype(linktype)).and_then(|d| d.compile(expr, true))
}

impl Source {
    /// Opens the source and applies the BPF `filter`, if any.
    pub fn open(spec: &SourceSpec, filter: Option<&str>) -> Result<Source, SourceError> {
        let mut source = match spec {
            SourceSpec::File(path) => Source::open_file(path)?,
            SourceSpec::Live(iface) => Source::open_live(iface)?,
            SourceSpec::Stdin => Source::open_stdin()?,
        };
        if let Some(expr) = filter {
            // Live, the kernel filters (what is not captured has no number); a file's
            // packets are each tested, so that those the filter hides keep their numbers.
            let res = match &mut source.inner {
                Inner::File(_) | Inner::Fast(_) => {
                    compile_filter(source.linktype, expr).map(|p| source.filter = Some(p))
                }
                Inner::Live(c) => c.filter(expr, true),
            };
            res.map_err(|e| {
                let expr = format!("{expr:?}");
                SourceError(t!("capture.bad_filter", expr = expr, e = e).into_owned())
            })?;
        }
        Ok(source)
    }

    fn open_file(path: &str) -> Result<Source, SourceError> {
        let p = Path::new(path);
        let path = safe(path);
        let meta = std::fs::metadata(p).map_err(|e| {
            SourceError(t!("capture.cannot_read", path = path, e = os_error(&e)).into_owned())
        })?;
        if meta.is_dir() {
            return Err(SourceError(
                t!("capture.is_directory", path = path).into_owned(),
            ));
        }
        let cap = Capture::from_file(p).map_err(|e| {
            SourceError(t!("capture.not_a_capture", path = path, e = e).into_owned())
        })?;
        let linktype = cap.get_datalink().0;
        // libpcap has vouched for the file; pcap-parser reads it faster.
        let inner = match FastFile::open(p) {
            Some(f) => Inner::Fast(Box::new(f)),
            None => Inner::File(cap),
        };
        Ok(Source {
            inner,
            linktype,
            filter: None,
            save: None,
            stream: false,
        })
    }

    /// Standard input: libpcap reads a file named `-` from it (pcap or pcapng), and
    /// hands each packet over as soon as its record has arrived.
    fn open_stdin() -> Result<Source, SourceError> {
        let cap = Capture::from_file("-")
            .map_err(|e| SourceError(t!("capture.stdin_not_a_capture", e = e).into_owned()))?;
        let linktype = cap.get_datalink().0;
        Ok(Source {
            inner: Inner::File(cap),
            linktype,
            filter: None,
            save: None,
            stream: true,
        })
    }

    /// `-w FILE` (live capture): every captured packet is also written to `path`, a
    /// pcapng file (one interface: this capture's link type).
    pub fn write_to(&mut self, path: &str) -> Result<(), SourceError> {
        let shown = safe(path);
        if !matches!(self.inner, Inner::Live(_)) {
            return Err(SourceError(
                t!("capture.write_needs_live", path = shown).into_owned(),
            ));
        }
        let save = Saver::create(path, self.linktype)
            .map_err(|e| SourceError(t!("cli.cannot_write", path = shown, e = e).into_owned()))?;
        self.save = Some(Box::new(save));
        Ok(())
    }

    /// True when the capture comes on standard input (shown as packets arrive).
    pub fn is_stream(&self) -> bool {
        self.stream
    }

    fn open_live(iface: &str) -> Result<Source, SourceError> {
        let devices = pcap::Device::list().unwrap_or_default();
        if !devices.iter().any(|d| d.name == iface) {
            let names: Vec<&str> = devices.iter().map(|d| d.name.as_str()).collect();
            let list = if names.is_empty() {
                t!("capture.none_visible").into_owned()
            } else {
                names.join(", ")
            };
            let iface = format!("{iface:?}");
            return Err(SourceError(
                t!("capture.no_interface", iface = iface, list = list).into_owned(),
            ));
        }
        let inactive = Capture::from_device(iface)
            .map_err(|e| live_error(iface, &e))?
            .promisc(false)
            .snaplen(LIVE_SNAPLEN)
            // A kernel ring big enough for bursts: with immediate mode and whole
            // packets, libpcap's default (2 MiB) drops on `any` after a few frames.
            .buffer_size(LIVE_BUFFER_BYTES)
            .immediate_mode(true)
            .timeout(LIVE_TIMEOUT_MS);
        // Non-blocking: libpcap's own read timeout is not honoured by every kernel
        // interface (TPACKET_V3 keeps polling until a packet comes), and the caller must
        // wake up on a quiet interface to expire connections, see Ctrl-C, or stop.
        let cap = inactive
            .open()
            .and_then(|c| c.setnonblock())
            .map_err(|e| live_error(iface, &e))?;
        let linktype = cap.get_datalink().0;
        Ok(Source {
            inner: Inner::Live(cap),
            linktype,
            filter: None,
            save: None,
            stream: false,
        })
    }

    /// Opens file `path` again at `offset`, a packet record's ([`Source::offset`]),
    /// with the same filter; `linktype` is the first [`Source`]'s. Only for files
    /// read without libpcap (None otherwise).
    pub fn open_file_at(
        path: &str,
        filter: Option<&str>,
        linktype: i32,
        resume: &Resume,
        offset: u64,
    ) -> Option<Source> {
        let fast = FastFile::open_at(Path::new(path), resume, offset)?;
        let filter = match filter {
            Some(expr) => Some(compile_filter(linktype, expr).ok()?),
            None => None,
        };
        Some(Source {
            inner: Inner::Fast(Box::new(fast)),
            linktype,
            filter,
            save: None,
            stream: false,
        })
    }

    /// The link type the source was opened with.
    pub fn linktype(&self) -> i32 {
        self.linktype
    }

    /// Where the last packet's record begins in the file, and what a reader that
    /// starts there needs ([`Source::open_file_at`]); None unless the file is
    /// read without libpcap.
    pub fn position(&self) -> Option<(u64, &Resume)> {
        match &self.inner {
            Inner::Fast(f) => Some((f.offset(), f.resume())),
            Inner::File(_) | Inner::Live(_) => None,
        }
    }

    /// A file read on its own thread with no filter: its packets come in whole
    /// batches ([`Source::next_batch`]).
    pub fn gives_batches(&self) -> bool {
        matches!(self.inner, Inner::Fast(_)) && self.filter.is_none()
    }

    /// The next batch of packets whole (see [`Source::gives_batches`]); `None` at the
    /// end, or for a source that does not give batches.
    pub fn next_batch(&mut self) -> Option<std::sync::Arc<Batch>> {
        match &mut self.inner {
            Inner::Fast(f) if self.filter.is_none() => f.next_batch(),
            _ => None,
        }
    }

    /// A batch whose packets are all decoded, to be filled again.
    pub fn give_back(&mut self, batch: std::sync::Arc<Batch>) {
        if let Inner::Fast(f) = &mut self.inner {
            f.give_back(batch);
        }
    }

    /// True when a file's filter hides some of its packets ([`Next::Filtered`]).
    pub fn hides_packets(&self) -> bool {
        self.filter.is_some()
    }

    /// True for a live capture.
    pub fn is_live(&self) -> bool {
        matches!(self.inner, Inner::Live(_))
    }

    /// Reads the next packet.
    pub fn next_packet(&mut self) -> Next<'_> {
        // The common case: a file read on its own thread, no filter, the next record
        // of a batch already parsed (see `file`): a few loads, no call.
        if self.filter.is_none() {
            let next = match &mut self.inner {
                Inner::Fast(f) => f.advance(),
                Inner::File(_) | Inner::Live(_) => None,
            };
            if let Some((linktype, ts)) = next {
                let data = match &self.inner {
                    Inner::Fast(f) => f.data(),
                    Inner::File(_) | Inner::Live(_) => &[],
                };
                return Next::Packet(RawPacket { linktype, ts, data });
            }
        }
        self.next_packet_slow()
    }

    /// Reads the next packet: the end of a batch, a filter, libpcap.
    #[inline(never)]
    fn next_packet_slow(&mut self) -> Next<'_> {
        let linktype = self.linktype;
        let res = match &mut self.inner {
            Inner::Fast(f) => {
                return match f.next() {
                    Read::Packet(linktype, ts) => {
                        let p = RawPacket {
                            linktype,
                            ts,
                            data: f.data(),
                        };
                        match &self.filter {
                            Some(flt) if !flt.filter(p.data) => Next::Filtered(p),
                            _ => Next::Packet(p),
                        }
                    }
                    Read::End => Next::End,
                    Read::Damaged(why) => Next::Damaged(why),
                }
            }
            Inner::File(c) => c.next_packet(),
            Inner::Live(c) => c.next_packet(),
        };
        match res {
            Ok(p) => {
                if let Some(save) = self.save.as_mut() {
                    save.write(&p);
                }
                let ts = Timestamp::from_parts(p.header.ts.tv_sec, p.header.ts.tv_usec);
                let p = RawPacket {
                    linktype,
                    ts,
                    data: p.data,
                };
                match &self.filter {
                    Some(f) if !f.filter(p.data) => Next::Filtered(p),
                    _ => Next::Packet(p),
                }
            }
            Err(pcap::Error::NoMorePackets) => Next::End,
            Err(pcap::Error::TimeoutExpired) => {
                // A quiet moment: what was captured is on disk (as `tcpdump -U`).
                if let Some(save) = self.save.as_mut() {
                    let _ = save.flush();
                }
                std::thread::sleep(LIVE_IDLE_SLEEP);
                Next::Timeout
            }
            Err(e) => Next::Damaged(Damage::Libpcap(e.to_string())),
        }
    }

    /// Packets the kernel dropped (live capture), as libpcap counts them.
    pub fn dropped(&mut self) -> u64 {
        match &mut self.inner {
            Inner::Live(c) => c
                .stats()
                .map(|s| u64::from(s.dropped) + u64::from(s.if_dropped))
                .unwrap_or(0),
            Inner::File(_) | Inner::Fast(_) => 0,
        }
    }
}

fn live_error(iface: &str, e: &pcap::Error) -> SourceError {
    let text = e.to_string();
    let lower = text.to_lowercase();
    if lower.contains("permission") || lower.contains("not permitted") {
        let exe = std::env::current_exe()
            .map(|p| wsscope::text::safe(&p.to_string_lossy()))
            .unwrap_or_else(|_| "\"$(command -v wsscope)\"".to_string());
        SourceError(t!("capture.permission", iface = iface, exe = exe).into_owned())
    } else {
        SourceError(t!("capture.cannot_capture", iface = iface, text = text).into_owned())
    }
}

/// The interfaces libpcap can capture on, with their addresses.
pub fn interfaces() -> Result<Vec<(String, String)>, SourceError> {
    let devices = pcap::Device::list()
        .map_err(|e| SourceError(t!("capture.cannot_list", e = e).into_owned()))?;
    Ok(devices
        .into_iter()
        .map(|d| {
            let mut info: Vec<String> = d.addresses.iter().map(|a| a.addr.to_string()).collect();
            if let Some(desc) = d.desc {
                info.insert(0, desc);
            }
            (d.name, info.join(", "))
        })
        .collect())
}

/// The pcapng file `-w` writes: a section, one interface, a block per packet
/// (`pcap-file`'s writer; libpcap's savefile writes only pcap).
pub struct Saver {
    out: pcap_file::pcapng::PcapNgWriter<std::io::BufWriter<std::fs::File>>,
    /// The first write error, reported once.
    failed: bool,
}

impl Saver {
    /// The file, or why it cannot be written (in the language of the messages).
    fn create(path: &str, linktype: i32) -> Result<Saver, String> {
        use pcap_file::pcapng::blocks::interface_description::{
            InterfaceDescriptionBlock, InterfaceDescriptionOption,
        };
        let file = std::fs::File::create(path).map_err(|e| os_error(&e))?;
        let mut out = pcap_file::pcapng::PcapNgWriter::new(std::io::BufWriter::new(file))
            .map_err(|e| t!("os.other", text = e).into_owned())?;
        out.write_pcapng_block(InterfaceDescriptionBlock {
            linktype: pcap_file::DataLink::from(linktype as u32),
            snaplen: LIVE_SNAPLEN as u32,
            // pcap-file writes block times in nanoseconds: say so (if_tsresol 10^-9).
            options: vec![InterfaceDescriptionOption::IfTsResol(9)],
        })
        .map_err(|e| t!("os.other", text = e).into_owned())?;
        Ok(Saver { out, failed: false })
    }

    fn write(&mut self, p: &pcap::Packet<'_>) {
        use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
        let secs = u64::try_from(p.header.ts.tv_sec).unwrap_or(0);
        let micros = u32::try_from(p.header.ts.tv_usec).unwrap_or(0).min(999_999);
        let block = EnhancedPacketBlock {
            interface_id: 0,
            timestamp: std::time::Duration::new(secs, micros * 1000),
            original_len: p.header.len,
            data: std::borrow::Cow::Borrowed(p.data),
            options: vec![],
        };
        if self.out.write_pcapng_block(block).is_err() && !self.failed {
            self.failed = true;
            let m = t!("capture.write_failed");
            eprintln!("wsscope: {}", t!("cli.warning", message = m));
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        use std::io::Write;
        self.out.get_mut().flush()
    }
}
