//! The key that keeps a connection's packets together when they are shared between
//! threads: its outermost IP addresses.

use super::dlt;

/// A hash of a packet's outermost IP addresses, either way round (both directions
/// agree), the same every run; 0 for a packet without IP or of a link type not read
/// here. Every packet of a TCP connection has the same one (its IP fragments and, in
/// a tunnel, the tunnel's packets too): what shares connections between threads.
pub fn ip_pair_hash(linktype: i32, data: &[u8]) -> usize {
    let Some(ip) = outer_ip(linktype, data) else {
        return 0;
    };
    let v4 = |at: usize| -> Option<u128> {
        let b: [u8; 4] = ip.get(at..at + 4)?.try_into().ok()?;
        Some(u128::from(u32::from_be_bytes(b)))
    };
    let v6 = |at: usize| -> Option<u128> {
        let b: [u8; 16] = ip.get(at..at + 16)?.try_into().ok()?;
        Some(u128::from_be_bytes(b))
    };
    let pair = match ip.first().map(|v| v >> 4) {
        Some(4) => v4(12).zip(v4(16)),
        Some(6) => v6(8).zip(v6(24)),
        _ => None,
    };
    let Some((a, b)) = pair else {
        return 0;
    };
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    // Folded, then splitmix64's finalizer (every bit of the result depends on every
    // bit of both addresses); this runs for every packet a file reader parses.
    let fold = |v: u128| (v as u64) ^ ((v >> 64) as u64);
    let mut z = fold(lo) ^ fold(hi).rotate_left(32);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (z ^ (z >> 31)) as usize
}

/// The outermost IP header of a packet, for the link types the decoder reads.
fn outer_ip(linktype: i32, data: &[u8]) -> Option<&[u8]> {
    use super::link::ethertype::{IPV4, IPV6, QINQ, QINQ_OLD1, QINQ_OLD2, VLAN};
    let be16 = |d: &[u8], at: usize| d.get(at..at + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    let ip_at = |ethertype: Option<u16>, at: usize| match ethertype {
        Some(IPV4 | IPV6) => data.get(at..),
        _ => None,
    };
    match linktype {
        dlt::EN10MB => {
            let mut at = 12;
            // 802.1Q / 802.1ad tags, stacked (the ones the walk follows).
            for _ in 0..4 {
                match be16(data, at)? {
                    VLAN | QINQ | QINQ_OLD1 | QINQ_OLD2 => at += 4,
                    _ => break,
                }
            }
            ip_at(be16(data, at), at + 2)
        }
        dlt::RAW | dlt::RAW_OPENBSD | dlt::LINKTYPE_RAW | dlt::IPV4 | dlt::IPV6 => Some(data),
        dlt::NULL | dlt::LOOP => data.get(4..),
        dlt::LINUX_SLL => ip_at(be16(data, 14), 16),
        dlt::LINUX_SLL2 => ip_at(be16(data, 0), 20),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn eth_ipv4(src: [u8; 4], dst: [u8; 4], vlan: bool) -> Vec<u8> {
        let mut p = vec![0u8; 12];
        if vlan {
            p.extend_from_slice(&[0x81, 0x00, 0x00, 0x05]);
        }
        p.extend_from_slice(&[0x08, 0x00]);
        let mut ip = vec![0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0];
        ip.extend_from_slice(&src);
        ip.extend_from_slice(&dst);
        p.extend_from_slice(&ip);
        p.extend_from_slice(&[0u8; 20]);
        p
    }

    #[test]
    fn both_directions_and_vlan_tags_go_to_one_thread() {
        let (a, b) = ([10, 1, 0, 7], [10, 2, 0, 1]);
        let s = ip_pair_hash(dlt::EN10MB, &eth_ipv4(a, b, false));
        assert_eq!(ip_pair_hash(dlt::EN10MB, &eth_ipv4(b, a, false)), s);
        assert_eq!(ip_pair_hash(dlt::EN10MB, &eth_ipv4(a, b, true)), s);
        // The same IP packet without a link layer.
        let raw = &eth_ipv4(a, b, false)[14..];
        assert_eq!(ip_pair_hash(dlt::RAW, raw), s);
    }

    #[test]
    fn clients_spread_over_threads() {
        let used: HashSet<usize> = (0..16u8)
            .map(|i| ip_pair_hash(dlt::EN10MB, &eth_ipv4([10, 1, 0, i], [10, 2, 0, 1], false)) % 2)
            .collect();
        assert_eq!(used.len(), 2);
    }

    #[test]
    fn short_or_foreign_packets_go_to_the_first_thread() {
        for len in 0..54 {
            let p = eth_ipv4([10, 1, 0, 7], [10, 2, 0, 1], true);
            let _ = ip_pair_hash(dlt::EN10MB, &p[..len.min(p.len())]);
        }
        assert_eq!(ip_pair_hash(dlt::EN10MB, &[0u8; 10]), 0);
        assert_eq!(ip_pair_hash(dlt::PPP, &[0x45; 60]), 0);
        assert_eq!(ip_pair_hash(dlt::EN10MB, &[0xffu8; 60]), 0);
    }
}
