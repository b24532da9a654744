//! The file reader against pcap-parser's own streaming reader, and against itself
//! with other batch sizes, through whole batches, and started mid-file (the view's
//! resume): on every capture, on each cut short at many places, and on records
//! larger than a batch.

use std::path::{Path, PathBuf};

use pcap_parser::PcapBlockOwned;

use super::*;
use crate::test_captures::capture_files as captures;

/// One packet as read: link type, time, bytes, record offset, header blocks.
type Packet = (i32, Timestamp, Vec<u8>, u64, Resume);

/// Every packet of `f` through [`FastFile::next`], and how it ended.
fn read_all(mut f: FastFile) -> (Vec<Packet>, Option<Damage>) {
    let mut v = Vec::new();
    loop {
        match f.next() {
            Read::Packet(l, ts) => {
                v.push((l, ts, f.data().to_vec(), f.offset(), f.resume().clone()))
            }
            Read::End => return (v, None),
            Read::Damaged(d) => return (v, Some(d)),
        }
    }
}

/// Every batch of `f` through [`FastFile::next_batch`], each shown to `look` and
/// given back; how the file ended.
fn each_batch(mut f: FastFile, mut look: impl FnMut(&Batch)) -> Option<Damage> {
    while let Some(b) = f.next_batch() {
        look(&b);
        let end = b.end();
        f.give_back(b);
        if let Some(end) = end {
            return end;
        }
    }
    None
}

/// Every packet's bytes through [`FastFile::next_batch`], and how it ended.
fn read_batches(f: FastFile) -> (Vec<Vec<u8>>, Option<Damage>) {
    let mut v = Vec::new();
    let end = each_batch(f, |b| {
        for i in 0..b.len() {
            let (_, _, data) = b.packet(i).unwrap();
            assert_eq!(
                b.key(i),
                wsscope::wire::ip_pair_hash(b.records[i].linktype, data)
            );
            v.push(data.to_vec());
        }
    });
    (v, end)
}

/// The packets' bytes as pcap-parser's streaming reader gives them.
fn oracle(path: &Path) -> Vec<Vec<u8>> {
    let file = std::fs::File::open(path).unwrap();
    let mut r = pcap_parser::create_reader(2 * MAX_RECORD, file).unwrap();
    let mut v = Vec::new();
    loop {
        match r.next() {
            Ok((used, block)) => {
                match block {
                    PcapBlockOwned::Legacy(b) => {
                        v.push(b.data[..(b.caplen as usize).min(b.data.len())].to_vec())
                    }
                    PcapBlockOwned::NG(Block::EnhancedPacket(b)) => {
                        v.push(b.data[..(b.caplen as usize).min(b.data.len())].to_vec())
                    }
                    PcapBlockOwned::NG(Block::SimplePacket(b)) => {
                        v.push(b.data[..(b.origlen as usize).min(b.data.len())].to_vec())
                    }
                    _ => {}
                }
                r.consume(used);
            }
            Err(PcapError::Incomplete(_)) => {
                if r.refill().is_err() {
                    return v;
                }
            }
            Err(_) => return v,
        }
    }
}

/// Batch sizes that put batch ends everywhere: inside record headers and data.
const SIZES: [usize; 5] = [1, 61, 1000, 4099, BATCH_BYTES];

#[test]
fn every_capture_reads_alike_whatever_the_batch_size() {
    for path in captures() {
        let (want, end) = read_all(FastFile::open(&path).unwrap());
        let bytes: Vec<Vec<u8>> = want.iter().map(|p| p.2.clone()).collect();
        if end.is_none() {
            let o = oracle(&path);
            let first = bytes.iter().zip(&o).position(|(a, b)| a != b);
            assert!(
                bytes == o,
                "{}: {} packets against {}, first differing {first:?}",
                path.display(),
                bytes.len(),
                o.len()
            );
        }
        for size in SIZES {
            let got = read_all(FastFile::open_sized(&path, size).unwrap());
            assert!(
                got == (want.clone(), end.clone()),
                "{} at {size}",
                path.display()
            );
            let got = read_batches(FastFile::open_sized(&path, size).unwrap());
            assert_eq!(
                got,
                (bytes.clone(), end.clone()),
                "{} at {size}",
                path.display()
            );
        }
    }
}

#[test]
fn a_file_opened_at_a_packet_reads_on_from_it() {
    for path in captures() {
        let (all, end) = read_all(FastFile::open(&path).unwrap());
        let n = all.len();
        for k in [0, 1, n / 3, n / 2, n.saturating_sub(1)] {
            let Some((_, _, _, offset, resume)) = all.get(k) else {
                continue;
            };
            let (rest, rest_end) = read_all(FastFile::open_at(&path, resume, *offset).unwrap());
            // Offsets and header blocks are the file's, as in a read from the start.
            let first = rest.iter().zip(&all[k..]).position(|(a, b)| a != b);
            assert!(
                rest == all[k..] && rest_end == end,
                "{} from {k}: {} packets against {}, first differing {first:?}: {:?}, ends {rest_end:?} {end:?}",
                path.display(),
                rest.len(),
                n - k,
                first.map(|i| (&rest[i].3, &rest[i].4, &all[k + i].3, &all[k + i].4))
            );
        }
    }
}

/// A file in the temporary folder, removed when dropped.
struct Temp(PathBuf);

impl Temp {
    fn new(bytes: &[u8]) -> Temp {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("wsscope-file-{}-{n}.pcap", std::process::id()));
        std::fs::write(&p, bytes).unwrap();
        Temp(p)
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn a_capture_cut_anywhere_reads_up_to_the_cut_and_says_so() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for name in [
        "crafted-basic.pcap",
        "crafted-basic.pcapng",
        "crafted-basic-bigendian-nsec.pcap",
    ] {
        let path = root.join("captures").join(name);
        let Ok(whole) = std::fs::read(&path) else {
            continue;
        };
        let (all, _) = read_all(FastFile::open(&path).unwrap());
        let mut checked = 0;
        for cut in (64..whole.len()).step_by(37) {
            let t = Temp::new(&whole[..cut]);
            let Some(f) = FastFile::open(&t.0) else {
                continue;
            };
            let (got, end) = read_all(f);
            // A prefix of the packets, and damage unless the cut is between records.
            assert!(all.starts_with(&got), "{name} cut at {cut}");
            let between = got.last().is_some_and(|_| {
                let next = all.get(got.len()).map(|p| p.3);
                next == Some(cut as u64)
            });
            if !between && got.len() < all.len() {
                assert_eq!(end, Some(Damage::EndsInsideRecord), "{name} cut at {cut}");
            }
            for size in [1, 100] {
                let again = read_all(FastFile::open_sized(&t.0, size).unwrap());
                assert!(
                    again == (got.clone(), end.clone()),
                    "{name} cut at {cut}, {size}"
                );
            }
            checked += 1;
        }
        assert!(checked > 10, "{name}: {checked}");
    }
}

/// A pcap file: its header (Ethernet, microseconds) and one record per payload,
/// each claiming `claim(len)` bytes.
fn pcap(records: &[Vec<u8>], claim: impl Fn(usize) -> u32) -> Vec<u8> {
    let mut v = Vec::new();
    for x in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 1 << 18, 1] {
        match x {
            0x0004_0002 => v.extend_from_slice(&[2, 0, 4, 0]),
            _ => v.extend_from_slice(&x.to_le_bytes()),
        }
    }
    for (i, r) in records.iter().enumerate() {
        for x in [i as u32, 0, claim(r.len()), r.len() as u32] {
            v.extend_from_slice(&x.to_le_bytes());
        }
        v.extend_from_slice(r);
    }
    v
}

#[test]
fn records_larger_than_a_batch_are_read_whole_and_absurd_ones_are_damage() {
    let records: Vec<Vec<u8>> = [60, 3 << 20, 70, BATCH_BYTES + 1, 5]
        .iter()
        .enumerate()
        .map(|(i, &n)| (0..n).map(|b| (b * 7 + i) as u8).collect())
        .collect();
    let t = Temp::new(&pcap(&records, |n| n as u32));
    for size in [1, 4099, BATCH_BYTES] {
        let (got, end) = read_all(FastFile::open_sized(&t.0, size).unwrap());
        let bytes: Vec<Vec<u8>> = got.into_iter().map(|p| p.2).collect();
        assert!(bytes == records && end.is_none(), "batch {size}");
    }
    // A record claiming 2 GiB, in a file that goes on.
    let t = Temp::new(&pcap(&records[..3], |n| {
        if n == 70 {
            0x7fff_ff00
        } else {
            n as u32
        }
    }));
    let (got, end) = read_all(FastFile::open(&t.0).unwrap());
    assert_eq!(got.len(), 2);
    assert_eq!(
        end,
        Some(Damage::RecordTooLong {
            max_mib: MAX_RECORD >> 20
        })
    );
    // A record claiming 15 MiB in a file of 5 MiB (more than a batch reads): its
    // claim is not allocated before its bytes are read (a buffer grows to at most
    // twice what was read).
    let big = vec![7u8; 5 << 20];
    let claim = |n: usize| if n > 60 { 15 << 20 } else { n as u32 };
    let t = Temp::new(&pcap(&[vec![1; 60], big], claim));
    let mut largest = 0;
    let end = each_batch(FastFile::open(&t.0).unwrap(), |b| {
        largest = largest.max(b.data.len());
    });
    assert_eq!(end, Some(Damage::EndsInsideRecord));
    let file = std::fs::metadata(&t.0).unwrap().len() as usize;
    assert!(largest > BATCH_BYTES && largest <= 2 * file, "{largest}");
}

#[test]
fn what_is_not_a_capture_is_left_to_libpcap() {
    for bytes in [&b""[..], b"hello, world", &[0xd4, 0xc3, 0xb2]] {
        let t = Temp::new(bytes);
        assert!(FastFile::open(&t.0).is_none());
    }
}

#[test]
fn damaged_files_read_alike_whatever_the_batch_size_and_never_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures");
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut damaged = 0;
    for name in [
        "crafted-basic.pcap",
        "crafted-basic.pcapng",
        "crafted-basic-bigendian-nsec.pcap",
    ] {
        let whole = std::fs::read(root.join(name)).unwrap();
        for _ in 0..150 {
            let mut v = whole.clone();
            // A few bytes anywhere past the file header, or a length field made huge,
            // tiny or odd.
            for _ in 0..1 + next() % 4 {
                let at = 24 + (next() as usize) % (v.len() - 24);
                v[at] = match next() % 4 {
                    0 => 0xff,
                    1 => 0,
                    _ => next() as u8,
                };
            }
            if next() % 3 == 0 {
                let cut = 24 + (next() as usize) % (v.len() - 24);
                v.truncate(cut);
            }
            let t = Temp::new(&v);
            let Some(f) = FastFile::open(&t.0) else {
                continue;
            };
            let (got, end) = read_all(f);
            damaged += usize::from(end.is_some());
            for size in [1, 61, 4099] {
                let again = read_all(FastFile::open_sized(&t.0, size).unwrap());
                assert!(
                    again == (got.clone(), end.clone()),
                    "{name} at {size}: {v:?}"
                );
            }
            if end.is_none() {
                let bytes: Vec<Vec<u8>> = got.iter().map(|p| p.2.clone()).collect();
                assert_eq!(bytes, oracle(&t.0), "{name}: {v:?}");
            }
        }
    }
    assert!(damaged > 50, "{damaged} damaged reads");
}

/// A pcapng file (little-endian, one Ethernet interface, microseconds): its
/// section header, interface, then the given blocks.
fn pcapng(blocks: &[Vec<u8>]) -> Vec<u8> {
    let mut v = Vec::new();
    let words = |v: &mut Vec<u8>, w: &[u32]| {
        for x in w {
            v.extend_from_slice(&x.to_le_bytes());
        }
    };
    words(
        &mut v,
        &[0x0a0d_0d0a, 28, 0x1a2b_3c4d, 1, u32::MAX, u32::MAX, 28],
    );
    words(&mut v, &[1, 20, 1, 0, 20]);
    for b in blocks {
        v.extend_from_slice(b);
    }
    v
}

/// An enhanced packet block of `data`, claiming `caplen` bytes.
fn epb(data: &[u8], caplen: u32) -> Vec<u8> {
    let padded = data.len().div_ceil(4) * 4;
    let len = (32 + padded) as u32;
    let mut v = Vec::new();
    for x in [6, len, 0, 0, 1, caplen, data.len() as u32] {
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.extend_from_slice(data);
    v.resize(28 + padded, 0);
    v.extend_from_slice(&len.to_le_bytes());
    v
}

#[test]
fn a_pcapng_block_whose_packet_runs_past_it_is_damage_where_it_is() {
    // Whole blocks, then one whose packet claims more than it holds, then a
    // megabyte more: the damage is said at that block, without reading on.
    let good: Vec<Vec<u8>> = (0..3).map(|i| epb(&[i as u8; 60], 60)).collect();
    let mut blocks = good.clone();
    blocks.push(epb(&[], 1));
    blocks.extend((0..15_000).map(|_| epb(&[9; 60], 60)));
    let t = Temp::new(&pcapng(&blocks));
    for size in [61, BATCH_BYTES] {
        let (got, end) = read_all(FastFile::open_sized(&t.0, size).unwrap());
        assert_eq!(got.len(), 3, "at {size}");
        assert!(
            matches!(end, Some(Damage::Malformed(_))),
            "{end:?} at {size}"
        );
    }
    // The same blocks whole read on to the end.
    let t = Temp::new(&pcapng(&[good.concat(), epb(&[5; 7], 7)]));
    let (got, end) = read_all(FastFile::open(&t.0).unwrap());
    assert_eq!((got.len(), end), (4, None));
}

/// A pcapng Process Information Block (type 0x8000_0001) of `len` bytes, its
/// fixed 4 bytes given (pcap-parser checks no more than those).
fn pib(len: u32) -> Vec<u8> {
    let mut v = Vec::new();
    for x in [0x8000_0001, len] {
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.resize(12, 0);
    v
}

#[test]
fn a_pcapng_block_shorter_than_12_bytes_is_damage_not_an_overflow() {
    // pcap-parser 0.17 took `length - 12` bytes of a block whose length passed
    // only its type's own header check (4 bytes for this type): a panic with
    // overflow checks, a 4 GiB record (RecordTooLong) without. Found by the
    // `wire` fuzz target; its input first, then the block after a packet, then
    // alone, for every length under 12 it allows.
    let found: [u8; 75] = [
        0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0x00, 0x00, 0x00, 0x4d, 0x3c, 0x2b, 0x1a, 0x01, 0x40, 0x00,
        0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x84, 0xff, 0x1c, 0x00, 0x01, 0x00, 0x01, 0x00,
        0x00, 0x80, 0x05, 0x00, 0x00, 0x00, 0x0f, 0x00, 0x00, 0x9c, 0x00, 0x00, 0x1f, 0xff, 0xff,
        0xff, 0xff, 0x01, 0x00, 0x00, 0x1c, 0xff, 0xff, 0xff, 0xff, 0x41, 0x00, 0x00, 0x04, 0x83,
        0x50, 0x18, 0xfa, 0xf0, 0x5f, 0xaf, 0x00, 0x00, 0x9c, 0x00, 0x00, 0x1f, 0xff, 0xff, 0x00,
    ];
    let t = Temp::new(&found);
    let (got, end) = read_all(FastFile::open(&t.0).unwrap());
    assert!(got.is_empty());
    assert!(matches!(end, Some(Damage::Malformed(_))), "{end:?}");
    for len in 4..12 {
        let t = Temp::new(&pcapng(&[epb(&[7; 60], 60), pib(len)]));
        for size in [61, BATCH_BYTES] {
            let (got, end) = read_all(FastFile::open_sized(&t.0, size).unwrap());
            assert_eq!(got.len(), 1, "length {len} at {size}");
            assert!(
                matches!(end, Some(Damage::Malformed(_))),
                "length {len} at {size}: {end:?}"
            );
        }
    }
}

#[test]
fn a_batch_of_tiny_packets_ends_at_its_packet_bound_and_reads_on_alike() {
    // 20,000 records of 40 bytes: far under a batch's bytes, over its packets.
    let records: Vec<Vec<u8>> = (0..20_000u32).map(|i| i.to_le_bytes().repeat(10)).collect();
    let t = Temp::new(&pcap(&records, |n| n as u32));
    for size in [4099, BATCH_BYTES] {
        let (mut got, mut most) = (Vec::new(), 0);
        let end = each_batch(FastFile::open_sized(&t.0, size).unwrap(), |b| {
            most = most.max(b.len());
            got.extend((0..b.len()).map(|i| b.packet(i).unwrap().2.to_vec()));
        });
        assert_eq!(end, None, "at {size}");
        assert!(got == records, "at {size}: {} packets", got.len());
        assert!(most <= BATCH_PACKETS, "at {size}: {most}");
    }
    // The batch of the default size is full of packets, not of bytes.
    let mut f = FastFile::open(&t.0).unwrap();
    assert_eq!(f.next_batch().map(|b| b.len()), Some(BATCH_PACKETS));
}

#[test]
fn header_blocks_between_packets_cost_memory_in_proportion_to_the_file() {
    // A section, then 6000 times an interface and a packet on it: each packet's
    // resume names every interface so far, but a batch holds only what changed.
    let shb = pcapng(&[]);
    let shb_len = u32::from_le_bytes(shb[4..8].try_into().unwrap()) as usize;
    let (section, first_idb) = shb.split_at(shb_len);
    let mut v = section.to_vec();
    for i in 0..6000u32 {
        v.extend_from_slice(first_idb);
        let mut b = epb(&i.to_le_bytes().repeat(15), 60);
        b[8..12].copy_from_slice(&i.to_le_bytes());
        v.extend_from_slice(&b);
    }
    let t = Temp::new(&v);
    let (got, end) = read_all(FastFile::open(&t.0).unwrap());
    assert_eq!((got.len(), end), (6000, None));
    // The 6000th packet's resume: the section and its 6000 interfaces.
    assert_eq!(got[5999].4.header.len(), 6001);
    assert_eq!(got[0].4.header.len(), 2);
    let mut held = 0;
    let end = each_batch(FastFile::open(&t.0).unwrap(), |b| {
        held += b
            .records
            .iter()
            .filter_map(|r| r.resume.as_ref())
            .map(|h| h.added.len())
            .sum::<usize>();
    });
    assert_eq!((held, end), (6001, None));
}
