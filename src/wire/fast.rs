//! The fast path: the overwhelmingly common packet (Ethernet II, Linux cooked
//! v1/v2 or raw IP, then IPv4 without options or IPv6 without extension
//! headers, not a fragment, then a whole TCP header) read straight from its
//! bytes, without the general walk.
//!
//! It answers only when it is sure: anything else (VLAN tags, tunnels, IPv4
//! options, extension headers, fragments, a header cut short, a bad TCP data
//! offset...) gives `None` and the general walk (`etherparse`) decides, so
//! every problem is still reported by it. Where it answers, the segment is
//! the one the walk gives (tests compare the two on every capture and on
//! mutated packets). Every access is checked: no bytes make it panic.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::link::ethertype;
use super::{dlt, TcpFlags, TcpSegment};

const ETH_HEADER_LEN: usize = 14;
const SLL_HEADER_LEN: usize = 16;
const SLL2_HEADER_LEN: usize = 20;
const IPV4_HEADER_LEN: usize = 20;
const IPV6_HEADER_LEN: usize = 40;
const TCP_MIN_HEADER_LEN: usize = 20;
const TCP: u8 = 6;
/// ARPHRD_NETLINK: a cooked capture of netlink messages (the walk skips it).
const ARPHRD_NETLINK: u16 = 824;

/// The TCP segment of a common packet, or None: the general walk decides.
#[inline]
pub(super) fn tcp_segment(linktype: i32, data: &[u8]) -> Option<TcpSegment<'_>> {
    let ip = match linktype {
        dlt::EN10MB => {
            let (h, rest) = data.split_first_chunk::<ETH_HEADER_LEN>()?;
            is_ip(u16::from_be_bytes([h[12], h[13]]))?;
            rest
        }
        dlt::LINUX_SLL => {
            let (h, rest) = data.split_first_chunk::<SLL_HEADER_LEN>()?;
            cooked(
                u16::from_be_bytes([h[14], h[15]]),
                u16::from_be_bytes([h[2], h[3]]),
            )?;
            rest
        }
        dlt::LINUX_SLL2 => {
            let (h, rest) = data.split_first_chunk::<SLL2_HEADER_LEN>()?;
            cooked(
                u16::from_be_bytes([h[0], h[1]]),
                u16::from_be_bytes([h[8], h[9]]),
            )?;
            rest
        }
        dlt::RAW | dlt::RAW_OPENBSD | dlt::LINKTYPE_RAW | dlt::IPV4 | dlt::IPV6 => data,
        _ => return None,
    };
    // As the walk: the version nibble decides, whatever the link layer said.
    let (src, dst, bytes, announced) = match ip.first()? >> 4 {
        4 => ipv4(ip)?,
        6 => ipv6(ip)?,
        _ => return None,
    };
    tcp(src, dst, bytes, announced)
}

/// EtherType IPv4 or IPv6.
#[inline]
fn is_ip(et: u16) -> Option<()> {
    (et == ethertype::IPV4 || et == ethertype::IPV6).then_some(())
}

/// A Linux cooked header leading to IP.
#[inline]
fn cooked(proto: u16, hatype: u16) -> Option<()> {
    if hatype == ARPHRD_NETLINK {
        return None;
    }
    is_ip(proto)
}

/// An IPv4 header without options, not a fragment, carrying TCP: the
/// addresses, the captured payload and the payload length announced, as
/// `etherparse`'s lax slice reads them (a total length below the header's
/// means the rest of the bytes; one beyond them, a payload cut short).
#[inline]
fn ipv4(ip: &[u8]) -> Option<(IpAddr, IpAddr, &[u8], usize)> {
    let (h, rest) = ip.split_first_chunk::<IPV4_HEADER_LEN>()?;
    // Version 4, IHL 5; TCP; neither MF nor a fragment offset.
    if h[0] != 0x45 || h[9] != TCP || u16::from_be_bytes([h[6], h[7]]) & 0x3FFF != 0 {
        return None;
    }
    let total_len = usize::from(u16::from_be_bytes([h[2], h[3]]));
    let (bytes, announced) = match total_len.checked_sub(IPV4_HEADER_LEN) {
        None => (rest, rest.len()),
        Some(len) if len > rest.len() => (rest, len),
        Some(len) => (rest.get(..len)?, len),
    };
    let src = Ipv4Addr::new(h[12], h[13], h[14], h[15]);
    let dst = Ipv4Addr::new(h[16], h[17], h[18], h[19]);
    Some((IpAddr::V4(src), IpAddr::V4(dst), bytes, announced))
}

/// An IPv6 header whose next header is TCP (so no extension header and no
/// fragment), read as `etherparse`'s lax slice does (payload length 0: the
/// rest of the bytes, as for a jumbogram).
#[inline]
fn ipv6(ip: &[u8]) -> Option<(IpAddr, IpAddr, &[u8], usize)> {
    let (h, rest) = ip.split_first_chunk::<IPV6_HEADER_LEN>()?;
    if h[6] != TCP {
        return None;
    }
    let payload_len = usize::from(u16::from_be_bytes([h[4], h[5]]));
    let (bytes, announced) = if payload_len == 0 && !rest.is_empty() {
        (rest, rest.len())
    } else if payload_len > rest.len() {
        (rest, payload_len)
    } else {
        (rest.get(..payload_len)?, payload_len)
    };
    let addr = |at: usize| -> Option<IpAddr> {
        let b: &[u8; 16] = h.get(at..at + 16)?.try_into().ok()?;
        Some(IpAddr::V6(Ipv6Addr::from(*b)))
    };
    Some((addr(8)?, addr(24)?, bytes, announced))
}

/// A whole TCP header (data offset at least 5, all of it captured).
#[inline]
fn tcp<'a>(src: IpAddr, dst: IpAddr, bytes: &'a [u8], announced: usize) -> Option<TcpSegment<'a>> {
    let h = bytes.first_chunk::<TCP_MIN_HEADER_LEN>()?;
    let header_len = usize::from(h[12] >> 4) * 4;
    if header_len < TCP_MIN_HEADER_LEN {
        return None;
    }
    let payload = bytes.get(header_len..)?;
    let wire = announced.saturating_sub(header_len).max(payload.len());
    Some(TcpSegment {
        src: SocketAddr::new(src, u16::from_be_bytes([h[0], h[1]])),
        dst: SocketAddr::new(dst, u16::from_be_bytes([h[2], h[3]])),
        seq: u32::from_be_bytes([h[4], h[5], h[6], h[7]]),
        ack: u32::from_be_bytes([h[8], h[9], h[10], h[11]]),
        flags: TcpFlags(h[13]),
        window: u16::from_be_bytes([h[14], h[15]]),
        payload,
        wire_payload_len: u32::try_from(wire).unwrap_or(u32::MAX),
    })
}
