//! The fast path against the general walk: every packet of every capture,
//! and packets truncated and mutated byte by byte, decoded both ways must
//! give the same results (and leave the same fragment state).

use std::path::Path;

use super::*;
use crate::test_captures::capture_files;
use crate::types::Timestamp;

/// Two decoders fed the same packets: the fast path on, and off.
struct Both {
    fast: Decoder,
    walk: Decoder,
    /// Packets the fast path read by itself.
    taken: usize,
    /// Packets compared.
    seen: usize,
}

impl Both {
    fn new() -> Both {
        let mut walk = Decoder::default();
        walk.set_fast_path(false);
        Both {
            fast: Decoder::default(),
            walk,
            taken: 0,
            seen: 0,
        }
    }

    fn check(&mut self, linktype: i32, data: &[u8], ts: Timestamp, what: &dyn Fn() -> String) {
        if fast::tcp_segment(linktype, data).is_some() {
            self.taken += 1;
        }
        self.seen += 1;
        let a = self.fast.decode(linktype, data, ts);
        let b = self.walk.decode(linktype, data, ts);
        // The same bytes of the packet, not only equal ones (a reassembled
        // payload is in each decoder's own buffer).
        if let (Decoded::Tcp(x), Decoded::Tcp(y)) = (&a, &b) {
            let inside = |p: &[u8]| data.as_ptr_range().contains(&p.as_ptr());
            assert_eq!(inside(x.payload), inside(y.payload), "{}", what());
            if inside(y.payload) {
                assert_eq!(x.payload.as_ptr(), y.payload.as_ptr(), "{}", what());
            }
        }
        assert_eq!(a, b, "{} (linktype {linktype}, {data:02x?})", what());
    }

    fn same_state(&self, what: &str) {
        assert_eq!(self.fast.stats(), self.walk.stats(), "{what}");
        assert_eq!(
            self.fast.fragment_groups_pending(),
            self.walk.fragment_groups_pending(),
            "{what}"
        );
    }
}

/// The packets of a capture libpcap reads (damaged files: those before the damage).
fn packets(path: &Path) -> Vec<(i32, Vec<u8>, Timestamp)> {
    let Ok(mut cap) = pcap::Capture::from_file(path) else {
        return Vec::new();
    };
    let linktype = cap.get_datalink().0;
    let mut out = Vec::new();
    while let Ok(p) = cap.next_packet() {
        let ts = Timestamp::from_parts(p.header.ts.tv_sec, p.header.ts.tv_usec);
        out.push((linktype, p.data.to_vec(), ts));
    }
    out
}

#[test]
fn every_capture_decodes_the_same_with_and_without_the_fast_path() {
    let files = capture_files();
    let mut total = Both::new();
    for file in &files {
        let mut both = Both::new();
        for (n, (linktype, data, ts)) in packets(file).iter().enumerate() {
            both.check(*linktype, data, *ts, &|| {
                format!("{} packet {}", file.display(), n + 1)
            });
        }
        both.same_state(&file.display().to_string());
        total.taken += both.taken;
        total.seen += both.seen;
    }
    // The fast path does take the common packets.
    assert!(
        total.taken * 10 >= total.seen * 8,
        "fast path took {} of {}",
        total.taken,
        total.seen
    );
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Link types the fast path knows, and a few it leaves to the walk.
const LINKTYPES: [i32; 10] = [
    dlt::EN10MB,
    dlt::LINUX_SLL,
    dlt::LINUX_SLL2,
    dlt::RAW,
    dlt::RAW_OPENBSD,
    dlt::LINKTYPE_RAW,
    dlt::IPV4,
    dlt::IPV6,
    dlt::NULL,
    dlt::LOOP,
];

#[test]
fn truncated_and_mutated_packets_decode_the_same_with_and_without_the_fast_path() {
    // Distinct packet shapes: (linktype, first 96 bytes) of every capture, so
    // that the loop stays short; the full packet is kept for the mutations.
    let mut seen_shapes = std::collections::HashSet::new();
    let mut samples = Vec::new();
    for file in capture_files() {
        for (linktype, data, ts) in packets(&file) {
            let head = data.get(..96).unwrap_or(&data).to_vec();
            if seen_shapes.insert((linktype, head.len(), head.get(..60).map(<[u8]>::to_vec))) {
                samples.push((linktype, data, ts));
            }
        }
    }
    assert!(samples.len() > 100, "{} samples", samples.len());
    let mut both = Both::new();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for (i, (linktype, data, ts)) in samples.iter().enumerate() {
        let linktype = *linktype;
        let what = |how: String| move || format!("sample {i} {how}");
        // Every truncation within the headers, and a few in the payload.
        for len in (0..data.len().min(100)).chain([data.len().saturating_sub(1)]) {
            let cut = data.get(..len).unwrap_or_default();
            both.check(linktype, cut, *ts, &what(format!("cut to {len}")));
        }
        // Each header byte flipped bit by bit and set to 0x00 / 0xFF.
        let mut m = data.clone();
        for at in 0..data.len().min(80) {
            let orig = m[at];
            for v in [orig ^ 0x01, orig ^ 0x02, orig ^ 0x04, orig ^ 0x08]
                .into_iter()
                .chain([orig ^ 0x10, orig ^ 0x20, orig ^ 0x40, orig ^ 0x80, 0, 0xFF])
            {
                m[at] = v;
                both.check(linktype, &m, *ts, &what(format!("byte {at} = {v:#04x}")));
            }
            m[at] = orig;
        }
        // Random mutations: several bytes at once, a random cut, another link type.
        for round in 0..40 {
            let mut m = data.clone();
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(m.len().min(80));
                if let Some(b) = m.get_mut(at) {
                    *b = rng.next() as u8;
                }
            }
            if rng.below(3) == 0 {
                m.truncate(rng.below(m.len() + 1));
            }
            let lt = if rng.below(4) == 0 {
                LINKTYPES[rng.below(LINKTYPES.len())]
            } else {
                linktype
            };
            both.check(lt, &m, *ts, &what(format!("round {round}")));
        }
    }
    // Random bytes behind well-formed-looking starts, for every link type.
    for round in 0..20_000 {
        let len = rng.below(120);
        let mut m: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let lt = LINKTYPES[rng.below(LINKTYPES.len())];
        let ip_at = match lt {
            dlt::EN10MB => 14,
            dlt::LINUX_SLL => 16,
            dlt::LINUX_SLL2 => 20,
            dlt::NULL | dlt::LOOP => 4,
            _ => 0,
        };
        let v6 = rng.below(2) == 0;
        let put = |m: &mut Vec<u8>, at: usize, b: u8| {
            if let Some(x) = m.get_mut(at) {
                *x = b;
            }
        };
        match lt {
            dlt::EN10MB => {
                put(&mut m, 12, if v6 { 0x86 } else { 0x08 });
                put(&mut m, 13, if v6 { 0xDD } else { 0x00 });
            }
            dlt::LINUX_SLL => {
                put(&mut m, 14, if v6 { 0x86 } else { 0x08 });
                put(&mut m, 15, if v6 { 0xDD } else { 0x00 });
            }
            dlt::LINUX_SLL2 => {
                put(&mut m, 0, if v6 { 0x86 } else { 0x08 });
                put(&mut m, 1, if v6 { 0xDD } else { 0x00 });
            }
            _ => {}
        }
        if rng.below(4) != 0 {
            put(&mut m, ip_at, if v6 { 0x60 } else { 0x45 });
            put(&mut m, ip_at + if v6 { 6 } else { 9 }, 6);
            if !v6 && rng.below(2) == 0 {
                put(&mut m, ip_at + 6, 0);
                put(&mut m, ip_at + 7, 0);
            }
        }
        both.check(lt, &m, Timestamp(round), &|| format!("random {round}"));
    }
    both.same_state("mutations");
    assert!(both.taken > 1000, "fast path took {}", both.taken);
}
