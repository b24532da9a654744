//! A fast reader for the common case of a capture file: classic pcap, Ethernet,
//! every record well formed.
//!
//! libpcap reads a file with two `fread`s per packet through a 4 KiB stdio buffer
//! and copies each packet; that was a fifth of `wsscope stats`. This reader fills
//! a 1 MiB buffer with large reads and hands out packets as slices of it.
//!
//! It only takes what it is sure libpcap would give unchanged, and says
//! [`Rec::Unusual`] for anything else (a cut-short or implausible record, a time
//! stamp libpcap would have to interpret, a read error): the caller then goes on
//! with libpcap from that record, so damaged files get libpcap's own handling and
//! messages. Files it does not take at all ([`PcapFile::open`] returns `None`:
//! pcapng, other link types, odd headers) are read by libpcap from the start.

use std::fs::File;
use std::io::{ErrorKind, Read};

use wsscope::types::Timestamp;

/// Bytes read at a time, and the buffer's size: holds any record this reader takes.
const BUF: usize = 1 << 20;
/// Longest record taken: libpcap's largest snap length for Ethernet.
const MAX_CAPLEN: u32 = 262_144;
/// The file header.
const FILE_HEADER: usize = 24;
/// A record header: seconds, micro- or nanoseconds, captured length, wire length.
const RECORD_HEADER: usize = 16;
/// LINKTYPE_ETHERNET, with no FCS length bits.
const LINKTYPE_ETHERNET: u32 = 1;

/// What the next record is.
#[derive(Debug, PartialEq, Eq)]
pub enum Rec {
    /// A packet: its time and where its bytes are in [`PcapFile::bytes`].
    Packet {
        /// Capture time, as libpcap gives it (microseconds).
        ts: Timestamp,
        /// Start of the bytes in the buffer.
        at: usize,
        /// Captured length.
        len: usize,
    },
    /// The file ends cleanly after the last record.
    End,
    /// Something this reader does not take: let libpcap read from this record on.
    Unusual,
}

/// A classic pcap file of Ethernet packets, read in large blocks.
pub struct PcapFile<R = File> {
    src: R,
    buf: Vec<u8>,
    /// Unread bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    eof: bool,
    big_endian: bool,
    nanos: bool,
    snaplen: u32,
    /// Records handed out so far.
    packets: u64,
}

impl PcapFile<File> {
    /// Opens `path` if it is a file this reader takes (see the module docs).
    pub fn open(path: &str) -> Option<PcapFile<File>> {
        PcapFile::new(File::open(path).ok()?)
    }
}

impl<R: Read> PcapFile<R> {
    /// Reads the file header from `src`; `None` if the file is not one this reader takes.
    pub fn new(src: R) -> Option<PcapFile<R>> {
        let mut f = PcapFile {
            src,
            buf: vec![0; BUF],
            start: 0,
            end: 0,
            eof: false,
            big_endian: false,
            nanos: false,
            snaplen: 0,
            packets: 0,
        };
        if !f.fill(FILE_HEADER) {
            return None;
        }
        let h: [u8; FILE_HEADER] = f.buf[..FILE_HEADER].try_into().ok()?;
        let (big_endian, nanos) = match h[..4] {
            [0xd4, 0xc3, 0xb2, 0xa1] => (false, false),
            [0xa1, 0xb2, 0xc3, 0xd4] => (true, false),
            [0x4d, 0x3c, 0xb2, 0xa1] => (false, true),
            [0xa1, 0xb2, 0x3c, 0x4d] => (true, true),
            _ => return None,
        };
        f.big_endian = big_endian;
        f.nanos = nanos;
        let u16_at = |i: usize| {
            let b = [h[i], h[i + 1]];
            if big_endian {
                u16::from_be_bytes(b)
            } else {
                u16::from_le_bytes(b)
            }
        };
        let (major, minor) = (u16_at(4), u16_at(6));
        f.snaplen = f.u32_at(&h, 16);
        let linktype = f.u32_at(&h, 20);
        if (major, minor) != (2, 4)
            || linktype != LINKTYPE_ETHERNET
            || f.snaplen == 0
            || f.snaplen > MAX_CAPLEN
        {
            return None;
        }
        f.start = FILE_HEADER;
        Some(f)
    }

    /// Records handed out so far: where libpcap must resume after [`Rec::Unusual`].
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// The buffer that [`Rec::Packet`] positions point into.
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Moves to the next record.
    pub fn next_record(&mut self) -> Rec {
        if !self.fill(RECORD_HEADER) {
            return if self.start == self.end && self.eof {
                Rec::End
            } else {
                Rec::Unusual // a cut-short header, or a read error
            };
        }
        let h = &self.buf[self.start..self.start + RECORD_HEADER];
        let (sec, frac) = (self.u32_at(h, 0), self.u32_at(h, 4));
        let (caplen, wire_len) = (self.u32_at(h, 8), self.u32_at(h, 12));
        // libpcap reads these as signed 32-bit numbers and may adjust lengths: take
        // only what needs no interpretation.
        let frac_limit = if self.nanos { 1_000_000_000 } else { 1_000_000 };
        if sec > i32::MAX as u32 || frac >= frac_limit || caplen > self.snaplen || caplen > wire_len
        {
            return Rec::Unusual;
        }
        let len = caplen as usize;
        if !self.fill(RECORD_HEADER + len) {
            return Rec::Unusual;
        }
        let at = self.start + RECORD_HEADER;
        self.start = at + len;
        self.packets += 1;
        let micros = if self.nanos { frac / 1000 } else { frac };
        Rec::Packet {
            ts: Timestamp::from_parts(i64::from(sec), i64::from(micros)),
            at,
            len,
        }
    }

    fn u32_at(&self, b: &[u8], i: usize) -> u32 {
        let w = [b[i], b[i + 1], b[i + 2], b[i + 3]];
        if self.big_endian {
            u32::from_be_bytes(w)
        } else {
            u32::from_le_bytes(w)
        }
    }

    /// Makes at least `n` unread bytes available (n <= BUF); false if the file
    /// ends first or a read fails.
    fn fill(&mut self, n: usize) -> bool {
        if self.end - self.start >= n {
            return true;
        }
        if self.start + n > self.buf.len() {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        while self.end - self.start < n {
            if self.eof {
                return false;
            }
            match self.src.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(k) => self.end += k,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => {
                    self.eof = true;
                    return false;
                }
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_header(magic: [u8; 4], big: bool, snaplen: u32, linktype: u32) -> Vec<u8> {
        let mut h = magic.to_vec();
        let put16 = |v: u16| {
            if big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let put32 = |v: u32| {
            if big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        h.extend(put16(2));
        h.extend(put16(4));
        h.extend(put32(0));
        h.extend(put32(0));
        h.extend(put32(snaplen));
        h.extend(put32(linktype));
        h
    }

    fn record(big: bool, sec: u32, frac: u32, data: &[u8], wire: u32) -> Vec<u8> {
        let put32 = |v: u32| {
            if big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let mut r = Vec::new();
        r.extend(put32(sec));
        r.extend(put32(frac));
        r.extend(put32(data.len() as u32));
        r.extend(put32(wire));
        r.extend_from_slice(data);
        r
    }

    const LE_US: [u8; 4] = [0xd4, 0xc3, 0xb2, 0xa1];
    const BE_NS: [u8; 4] = [0xa1, 0xb2, 0x3c, 0x4d];

    /// (ts, bytes) of each packet, then the final answer.
    fn read_all(bytes: Vec<u8>) -> (Vec<(i64, Vec<u8>)>, Rec, u64) {
        let mut f = PcapFile::new(std::io::Cursor::new(bytes)).expect("taken");
        let mut out = Vec::new();
        loop {
            match f.next_record() {
                Rec::Packet { ts, at, len } => out.push((ts.0, f.bytes()[at..at + len].to_vec())),
                other => return (out, other, f.packets()),
            }
        }
    }

    #[test]
    fn reads_both_byte_orders_and_precisions() {
        let mut le = file_header(LE_US, false, 65535, 1);
        le.extend(record(false, 10, 5, b"abc", 3));
        le.extend(record(false, 11, 999_999, b"", 60));
        let (p, end, n) = read_all(le);
        assert_eq!(p, [(10_000_005, b"abc".to_vec()), (11_999_999, vec![])]);
        assert_eq!((end, n), (Rec::End, 2));

        let mut be = file_header(BE_NS, true, 65535, 1);
        be.extend(record(true, 10, 123_456_789, b"xyz", 100));
        let (p, end, _) = read_all(be);
        assert_eq!(p, [(10_123_456, b"xyz".to_vec())]);
        assert_eq!(end, Rec::End);
    }

    #[test]
    fn leaves_to_libpcap_what_it_does_not_take() {
        let ok = |h: Vec<u8>| PcapFile::new(std::io::Cursor::new(h)).is_some();
        assert!(ok(file_header(LE_US, false, 65535, 1)));
        assert!(
            !ok(file_header(LE_US, false, 65535, 113)),
            "other link type"
        );
        assert!(
            !ok(file_header(LE_US, false, 65535, 1 | 0x1000_0000)),
            "FCS bits"
        );
        assert!(!ok(file_header(LE_US, false, 0, 1)), "no snap length");
        assert!(
            !ok(file_header(LE_US, false, 1 << 20, 1)),
            "huge snap length"
        );
        assert!(!ok(vec![0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0]), "pcapng");
        assert!(!ok(LE_US.to_vec()), "cut-short header");

        let base = || {
            let mut f = file_header(LE_US, false, 100, 1);
            f.extend(record(false, 1, 0, b"first", 5));
            f
        };
        let table: &[(&str, Vec<u8>)] = &[
            ("cut-short record header", [base(), vec![1, 0, 0]].concat()),
            ("cut-short data", {
                let mut f = base();
                let r = record(false, 2, 0, b"0123456789", 10);
                f.extend(&r[..r.len() - 3]);
                f
            }),
            (
                "caplen over the snap length",
                [base(), record(false, 2, 0, &[0; 101], 101)].concat(),
            ),
            (
                "caplen over the wire length",
                [base(), record(false, 2, 0, b"abcd", 3)].concat(),
            ),
            (
                "microseconds out of range",
                [base(), record(false, 2, 1_000_000, b"a", 1)].concat(),
            ),
            (
                "negative seconds for libpcap",
                [base(), record(false, 0x8000_0000, 0, b"a", 1)].concat(),
            ),
        ];
        for (name, bytes) in table {
            let (p, end, n) = read_all(bytes.clone());
            assert_eq!(p.len(), 1, "{name}");
            assert_eq!((end, n), (Rec::Unusual, 1), "{name}");
        }
    }

    #[test]
    fn records_across_buffer_refills() {
        let mut f = file_header(LE_US, false, MAX_CAPLEN, 1);
        let mut want = Vec::new();
        for i in 0..40u32 {
            let data: Vec<u8> = (0..(i * 7919) % 200_000).map(|b| (b ^ i) as u8).collect();
            f.extend(record(false, i, i, &data, data.len() as u32));
            want.push((i64::from(i) * 1_000_001, data));
        }
        let (p, end, n) = read_all(f);
        assert_eq!((end, n), (Rec::End, 40));
        assert!(p == want);
    }
}
