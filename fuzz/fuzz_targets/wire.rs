//! The wire decoder's fast path against its general walk: the input is a pcap or
//! pcapng file; every packet is decoded by two decoders, one with the fast path
//! (common Ethernet / Linux cooked / raw IP → IPv4 / IPv6 → TCP packets read
//! straight from their bytes) and one without (`etherparse` for everything), under
//! its own link type and every other one the fast path reads. The results, and the
//! fragment state left behind, must be the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsscope::wire::{dlt, Decoder};
use wsscope_fuzz::pcapread;

/// Link types the fast path reads, and two it leaves to the walk.
const LINKTYPES: [i32; 8] = [
    dlt::EN10MB,
    dlt::LINUX_SLL,
    dlt::LINUX_SLL2,
    dlt::RAW,
    dlt::IPV4,
    dlt::IPV6,
    dlt::NULL,
    dlt::PPP,
];

fuzz_target!(|data: &[u8]| {
    let mut fast = Decoder::default();
    let mut walk = Decoder::default();
    walk.set_fast_path(false);
    pcapread::for_each_packet(data, |lt, ts, pkt| {
        for linktype in std::iter::once(lt).chain(LINKTYPES.into_iter().filter(|&l| l != lt)) {
            let a = fast.decode(linktype, pkt, ts);
            let b = walk.decode(linktype, pkt, ts);
            assert_eq!(a, b, "linktype {linktype}, {pkt:02x?}");
        }
    });
    assert_eq!(fast.stats(), walk.stats());
    assert_eq!(
        fast.fragment_groups_pending(),
        walk.fragment_groups_pending()
    );
});
