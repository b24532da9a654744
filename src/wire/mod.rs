//! The wire layer: one captured packet in, a TCP segment view out.
//!
//! A packet is peeled from its libpcap link type ([`link`]) through any
//! VLAN tags, MPLS labels, PPPoE and tunnels ([`tunnel`]: GTP-U, VXLAN,
//! VXLAN-GPE, Geneve, GRE, ERSPAN, IP-in-IP) down to IPv4/IPv6 and TCP
//! ([`ip`], parsed with `etherparse`'s lax slices so that packets cut by the
//! snap length still decode as far as their bytes go). IP fragments are held
//! and reassembled ([`defrag`]) within fixed bounds.
//!
//! Most packets (Ethernet, Linux cooked or raw IP, then IPv4 without options
//! or IPv6 without extension headers, then TCP) are read by a fast path
//! ([`fast`]) straight from their bytes; it answers only when sure, and
//! everything else, every problem included, is the general walk's.
//!
//! The common path (no fragment) borrows the caller's bytes and allocates
//! nothing; only fragment reassembly allocates (problems are plain data).

use std::fmt;
use std::net::SocketAddr;

use crate::types::Timestamp;

mod defrag;
mod fast;
mod ip;
mod link;
mod pair;
mod problem;
mod tunnel;

pub use pair::ip_pair_hash;
pub use problem::{Dropped, Fault, FragFault, Header, Parts, WireProblem, WireProblemKind};

#[cfg(test)]
mod fast_tests;
#[cfg(test)]
mod tests;

use defrag::FragTable;

/// libpcap data link type numbers (DLT_*) the decoder understands.
pub mod dlt {
    /// BSD loopback: 4-byte address family in the capturing host's byte order.
    pub const NULL: i32 = 0;
    /// Ethernet (and 802.3 / VLAN-tagged frames).
    pub const EN10MB: i32 = 1;
    /// PPP: optional address/control bytes, then the PPP protocol.
    pub const PPP: i32 = 9;
    /// PPP in HDLC-like framing (RFC 1662), read as [`PPP`].
    pub const PPP_SERIAL: i32 = 50;
    /// Raw IP (the IP version nibble decides), DLT_RAW on most systems.
    pub const RAW: i32 = 12;
    /// Raw IP, DLT_RAW as numbered on OpenBSD.
    pub const RAW_OPENBSD: i32 = 14;
    /// Raw IP, LINKTYPE_RAW as written in capture files.
    pub const LINKTYPE_RAW: i32 = 101;
    /// OpenBSD loopback: 4-byte address family in network byte order.
    pub const LOOP: i32 = 108;
    /// Linux cooked capture v1 (16-byte header).
    pub const LINUX_SLL: i32 = 113;
    /// Raw IPv4.
    pub const IPV4: i32 = 228;
    /// Raw IPv6.
    pub const IPV6: i32 = 229;
    /// Linux cooked capture v2 (20-byte header).
    pub const LINUX_SLL2: i32 = 276;
}

/// Bounds on the decoder's memory (all of it is fragment reassembly state).
///
/// Worst case held: `max_fragment_groups * max_fragment_bytes` bytes
/// (16 MiB with the defaults).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WireLimits {
    /// Largest reassembled datagram payload, and the most fragment bytes held
    /// for one datagram (overlapping copies included). Default 65535, the
    /// most an IPv4 or (non-jumbo) IPv6 datagram can carry; larger values
    /// are clamped to it.
    pub max_fragment_bytes: usize,
    /// Most datagrams being reassembled at once; past it the oldest is
    /// dropped. Default 256.
    pub max_fragment_groups: usize,
    /// A datagram whose first fragment is older than this (capture time,
    /// µs) is dropped. Default 30 s, as Linux's `ipfrag_time`.
    pub fragment_timeout_us: i64,
}

impl Default for WireLimits {
    fn default() -> WireLimits {
        WireLimits {
            max_fragment_bytes: 65535,
            max_fragment_groups: 256,
            fragment_timeout_us: 30_000_000,
        }
    }
}

/// Counters about fragment reassembly, for stats output.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WireStats {
    /// Datagrams reassembled from fragments.
    pub datagrams_reassembled: u64,
    /// Incomplete datagrams dropped because they timed out.
    pub fragment_groups_timed_out: u64,
    /// Incomplete datagrams dropped for any other bound (too many groups,
    /// too many bytes, inconsistent fragments).
    pub fragment_groups_dropped: u64,
}

/// Turns captured packets into [`TcpSegment`] views.
///
/// Holds the only state of the wire layer: IP fragments waiting for the
/// rest of their datagram, and the buffer the last reassembled datagram
/// lives in (which is why [`Decoder::decode`] borrows `&mut self`).
#[derive(Debug)]
pub struct Decoder {
    frags: FragTable,
    reassembled: Vec<u8>,
    /// Common packets are read by [`fast`] before the general walk is tried.
    fast: bool,
}

impl Decoder {
    /// A decoder with the given bounds.
    pub fn new(limits: WireLimits) -> Decoder {
        Decoder {
            frags: FragTable::new(limits),
            reassembled: Vec::new(),
            fast: true,
        }
    }

    /// With `false`, every packet takes the general walk (`etherparse`), even
    /// the common ones the fast path reads (Ethernet / Linux cooked / raw IP,
    /// IPv4 without options or IPv6 without extension headers, TCP). The
    /// results are the same either way: tests and the `wire` fuzz target
    /// compare the two.
    pub fn set_fast_path(&mut self, on: bool) {
        self.fast = on;
    }

    /// Decode one captured packet of libpcap link type `linktype` (a DLT
    /// number, see [`dlt`]). `ts` is the capture time, used only to expire
    /// old fragment groups.
    pub fn decode<'a>(&'a mut self, linktype: i32, data: &'a [u8], ts: Timestamp) -> Decoded<'a> {
        if self.fast {
            if let Some(seg) = fast::tcp_segment(linktype, data) {
                return Decoded::Tcp(seg);
            }
        }
        self.walk(linktype, data, ts)
    }

    /// The general walk down the layers.
    #[inline(never)]
    fn walk<'a>(&'a mut self, linktype: i32, data: &'a [u8], ts: Timestamp) -> Decoded<'a> {
        let mut walk = Walk {
            frags: &mut self.frags,
            out: Some(&mut self.reassembled),
            ts: ts.0,
            depth: 0,
            in_reassembled: false,
        };
        walk.link(linktype, data)
    }

    /// Reassembly counters so far.
    pub fn stats(&self) -> WireStats {
        self.frags.stats
    }

    /// Datagrams currently waiting for more fragments.
    pub fn fragment_groups_pending(&self) -> usize {
        self.frags.len()
    }
}

impl Default for Decoder {
    fn default() -> Decoder {
        Decoder::new(WireLimits::default())
    }
}

/// What one captured packet turned out to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decoded<'a> {
    /// A TCP segment (possibly from inside a tunnel or reassembled).
    Tcp(TcpSegment<'a>),
    /// Not TCP (ARP, UDP that is not a tunnel, ICMP, ...): skipped silently.
    NotTcp,
    /// An IP fragment held until its datagram is complete.
    FragmentHeld,
    /// Something to warn about once: unsupported link type, malformed
    /// header (which layer, at what offset), fragment limits exceeded.
    Problem(WireProblem),
}

/// A TCP segment as seen on the wire, borrowing the packet's bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpSegment<'a> {
    /// Source address and port (of the innermost IP header).
    pub src: SocketAddr,
    /// Destination address and port.
    pub dst: SocketAddr,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number (meaningful when the ACK flag is set).
    pub ack: u32,
    /// The eight flag bits.
    pub flags: TcpFlags,
    /// Window field, unscaled.
    pub window: u16,
    /// The payload bytes that were captured.
    pub payload: &'a [u8],
    /// Payload length the IP header announces; > payload.len() when the
    /// snap length cut the packet.
    pub wire_payload_len: u32,
}

/// The TCP flag bits (byte 13 of the header).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    /// No more data from sender.
    pub const FIN: u8 = 0x01;
    /// Synchronize sequence numbers.
    pub const SYN: u8 = 0x02;
    /// Reset the connection.
    pub const RST: u8 = 0x04;
    /// Push function.
    pub const PSH: u8 = 0x08;
    /// Acknowledgment field significant.
    pub const ACK: u8 = 0x10;
    /// Urgent pointer field significant.
    pub const URG: u8 = 0x20;
    /// ECN echo.
    pub const ECE: u8 = 0x40;
    /// Congestion window reduced.
    pub const CWR: u8 = 0x80;

    /// FIN is set.
    pub fn fin(self) -> bool {
        self.0 & Self::FIN != 0
    }
    /// SYN is set.
    pub fn syn(self) -> bool {
        self.0 & Self::SYN != 0
    }
    /// RST is set.
    pub fn rst(self) -> bool {
        self.0 & Self::RST != 0
    }
    /// PSH is set.
    pub fn psh(self) -> bool {
        self.0 & Self::PSH != 0
    }
    /// ACK is set.
    pub fn ack(self) -> bool {
        self.0 & Self::ACK != 0
    }
    /// URG is set.
    pub fn urg(self) -> bool {
        self.0 & Self::URG != 0
    }
    /// All bits of `mask` are set.
    pub fn has(self, mask: u8) -> bool {
        self.0 & mask == mask
    }
}

impl fmt::Display for TcpFlags {
    /// `SYN,ACK`, `FIN,ACK`, `PSH,ACK`...; `none` when no bit is set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // SYN first so that the handshake reads as people say it.
        const NAMES: [(u8, &str); 8] = [
            (TcpFlags::SYN, "SYN"),
            (TcpFlags::FIN, "FIN"),
            (TcpFlags::RST, "RST"),
            (TcpFlags::PSH, "PSH"),
            (TcpFlags::ACK, "ACK"),
            (TcpFlags::URG, "URG"),
            (TcpFlags::ECE, "ECE"),
            (TcpFlags::CWR, "CWR"),
        ];
        if self.0 == 0 {
            return f.write_str("none");
        }
        let mut first = true;
        for (bit, name) in NAMES {
            if self.0 & bit != 0 {
                if !first {
                    f.write_str(",")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        Ok(())
    }
}

/// Most nested encapsulations (tunnels, IP-in-IP, MPLS/PPPoE, VLAN stacks)
/// one packet may have; the bound keeps crafted packets from recursing deep.
const MAX_DEPTH: u8 = 8;
/// Most VLAN tags in one Ethernet header (QinQ is 2).
const MAX_VLAN_TAGS: usize = 8;

/// The walk down one packet's layers.
struct Walk<'a> {
    frags: &'a mut FragTable,
    /// The reassembly buffer; taken by the first reassembly in this packet.
    out: Option<&'a mut Vec<u8>>,
    ts: i64,
    depth: u8,
    /// Offsets in messages are relative to a reassembled datagram.
    in_reassembled: bool,
}

impl<'a> Walk<'a> {
    fn problem(&self, problem: WireProblem) -> Decoded<'a> {
        Decoded::Problem(problem)
    }

    /// A malformed header at `off` (from the start of the packet, or of the
    /// reassembled datagram).
    fn malformed(&self, header: Header, off: usize, fault: Fault) -> Decoded<'a> {
        self.problem(WireProblem::Malformed {
            header,
            offset: off,
            reassembled: self.in_reassembled,
            fault,
        })
    }

    /// A header cut short by the capture.
    fn cut(&self, header: Header, off: usize, need: usize, have: usize) -> Decoded<'a> {
        self.malformed(header, off, Fault::Cut { need, have })
    }

    /// One more encapsulation level, or a TooDeep problem.
    fn deeper(&mut self) -> Result<(), Decoded<'a>> {
        if self.depth >= MAX_DEPTH {
            return Err(self.problem(WireProblem::TooDeep { max: MAX_DEPTH }));
        }
        self.depth += 1;
        Ok(())
    }
}

/// Big-endian u16 at `at`, if the bytes are there.
fn be16(data: &[u8], at: usize) -> Option<u16> {
    match data.get(at..at.checked_add(2)?) {
        Some(&[a, b]) => Some(u16::from_be_bytes([a, b])),
        _ => None,
    }
}
