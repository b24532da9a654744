//! Link layers: the libpcap link type decides how the packet starts;
//! Ethernet (with VLAN tags), Linux cooked, BSD loopback and raw IP all lead
//! to an EtherType or straight to IP.

use super::{be16, dlt, Decoded, Header, Walk, WireProblem, MAX_VLAN_TAGS};

/// EtherTypes the walk follows.
pub(super) mod ethertype {
    /// IPv4.
    pub const IPV4: u16 = 0x0800;
    /// IPv6.
    pub const IPV6: u16 = 0x86DD;
    /// 802.1Q customer VLAN tag.
    pub const VLAN: u16 = 0x8100;
    /// 802.1ad service VLAN tag (QinQ outer).
    pub const QINQ: u16 = 0x88A8;
    /// Pre-standard QinQ outer tags seen in the wild.
    pub const QINQ_OLD1: u16 = 0x9100;
    /// Pre-standard QinQ outer tags seen in the wild.
    pub const QINQ_OLD2: u16 = 0x9200;
    /// MPLS unicast.
    pub const MPLS: u16 = 0x8847;
    /// MPLS multicast.
    pub const MPLS_MC: u16 = 0x8848;
    /// PPPoE session stage.
    pub const PPPOE_SESSION: u16 = 0x8864;
    /// Transparent Ethernet Bridging (an Ethernet frame inside GRE/Geneve).
    pub const TEB: u16 = 0x6558;
    /// ERSPAN type II (and type I without a sequence number).
    pub const ERSPAN2: u16 = 0x88BE;
    /// ERSPAN type III.
    pub const ERSPAN3: u16 = 0x22EB;
    /// PPP (as carried by PPTP's enhanced GRE).
    pub const PPP: u16 = 0x880B;
}

/// Byte layout of the link headers, named rather than numbered inline.
mod field {
    pub const ETH_HEADER_LEN: usize = 14;
    pub const ETH_TYPE: usize = 12;
    pub const VLAN_TAG_LEN: usize = 4;
    pub const SLL_HEADER_LEN: usize = 16;
    pub const SLL_PROTOCOL: usize = 14;
    pub const SLL_HATYPE: usize = 2;
    pub const SLL2_HEADER_LEN: usize = 20;
    pub const SLL2_PROTOCOL: usize = 0;
    pub const SLL2_HATYPE: usize = 8;
    pub const NULL_HEADER_LEN: usize = 4;
}

/// ARPHRD_NETLINK: a cooked capture of netlink messages, never IP.
const ARPHRD_NETLINK: u16 = 824;

/// Address families a BSD loopback header may hold for IPv6, by OS:
/// 24 (NetBSD/OpenBSD), 28 (FreeBSD), 30 (macOS), 10 (Linux).
const AF_INET6_ANY: [u32; 4] = [10, 24, 28, 30];
const AF_INET: u32 = 2;

impl<'a> Walk<'a> {
    /// Start of the packet: dispatch on the libpcap link type.
    pub(super) fn link(&mut self, linktype: i32, data: &'a [u8]) -> Decoded<'a> {
        match linktype {
            dlt::EN10MB => self.ethernet(data, 0),
            dlt::RAW | dlt::RAW_OPENBSD | dlt::LINKTYPE_RAW | dlt::IPV4 | dlt::IPV6 => {
                self.ip(data, 0)
            }
            dlt::NULL | dlt::LOOP => self.loopback(data, linktype),
            dlt::PPP | dlt::PPP_SERIAL => self.ppp(data, 0),
            dlt::LINUX_SLL => self.cooked(
                data,
                field::SLL_HEADER_LEN,
                field::SLL_PROTOCOL,
                field::SLL_HATYPE,
                Header::Sll,
            ),
            dlt::LINUX_SLL2 => self.cooked(
                data,
                field::SLL2_HEADER_LEN,
                field::SLL2_PROTOCOL,
                field::SLL2_HATYPE,
                Header::Sll2,
            ),
            other => self.problem(WireProblem::UnsupportedLinkType(other)),
        }
    }

    /// An Ethernet II frame starting at `data[0]` (`off` into the packet).
    pub(super) fn ethernet(&mut self, data: &'a [u8], off: usize) -> Decoded<'a> {
        let Some(et) = be16(data, field::ETH_TYPE) else {
            return self.cut(Header::Ethernet, off, field::ETH_HEADER_LEN, data.len());
        };
        let rest = data.get(field::ETH_HEADER_LEN..).unwrap_or_default();
        self.by_ethertype(et, rest, off + field::ETH_HEADER_LEN)
    }

    /// The payload of a link header whose protocol is EtherType `et`.
    pub(super) fn by_ethertype(&mut self, et: u16, data: &'a [u8], off: usize) -> Decoded<'a> {
        match et {
            // Below 0x0600 the field is an 802.3 length: LLC/SNAP, not followed.
            0..0x0600 => Decoded::NotTcp,
            ethertype::IPV4 | ethertype::IPV6 => self.ip(data, off),
            ethertype::VLAN | ethertype::QINQ | ethertype::QINQ_OLD1 | ethertype::QINQ_OLD2 => {
                self.vlan_tags(et, data, off)
            }
            ethertype::MPLS | ethertype::MPLS_MC => self.mpls(data, off),
            ethertype::PPPOE_SESSION => self.pppoe(data, off),
            ethertype::TEB => match self.deeper() {
                Ok(()) => self.ethernet(data, off),
                Err(problem) => problem,
            },
            _ => Decoded::NotTcp,
        }
    }

    /// A stack of VLAN tags (802.1Q, 802.1ad, QinQ of any depth up to
    /// [`MAX_VLAN_TAGS`]), after Ethernet or a Linux cooked header.
    fn vlan_tags(&mut self, mut et: u16, data: &'a [u8], off: usize) -> Decoded<'a> {
        let mut at = 0;
        let mut tags = 0;
        while matches!(
            et,
            ethertype::VLAN | ethertype::QINQ | ethertype::QINQ_OLD1 | ethertype::QINQ_OLD2
        ) {
            if tags == MAX_VLAN_TAGS {
                return self.problem(WireProblem::TooManyVlanTags {
                    max: MAX_VLAN_TAGS,
                    offset: off,
                });
            }
            let Some(next) = be16(data, at + 2) else {
                return self.cut(
                    Header::VlanTag,
                    off + at,
                    field::VLAN_TAG_LEN,
                    data.len().saturating_sub(at),
                );
            };
            et = next;
            at += field::VLAN_TAG_LEN;
            tags += 1;
        }
        self.by_ethertype(et, data.get(at..).unwrap_or_default(), off + at)
    }

    /// Linux cooked capture, v1 or v2: a fixed header whose protocol field
    /// is an EtherType (values below 0x0600 are Linux's ETH_P_802_3 & co).
    fn cooked(
        &mut self,
        data: &'a [u8],
        header_len: usize,
        protocol_at: usize,
        hatype_at: usize,
        layer: Header,
    ) -> Decoded<'a> {
        let (Some(proto), Some(hatype), Some(rest)) = (
            be16(data, protocol_at),
            be16(data, hatype_at),
            data.get(header_len..),
        ) else {
            return self.cut(layer, 0, header_len, data.len());
        };
        if hatype == ARPHRD_NETLINK || proto < 0x0600 {
            return Decoded::NotTcp;
        }
        self.by_ethertype(proto, rest, header_len)
    }

    /// BSD loopback: a 4-byte address family. DLT_NULL writes it in the
    /// capturing host's byte order, which the file does not record; DLT_LOOP
    /// should be network order but is not always. Families are small
    /// numbers, so whichever reading is small is the right one.
    fn loopback(&mut self, data: &'a [u8], linktype: i32) -> Decoded<'a> {
        let (Some(&[a, b, c, d]), Some(rest)) = (
            data.get(..field::NULL_HEADER_LEN),
            data.get(field::NULL_HEADER_LEN..),
        ) else {
            let layer = if linktype == dlt::LOOP {
                Header::Loop
            } else {
                Header::Null
            };
            return self.cut(layer, 0, field::NULL_HEADER_LEN, data.len());
        };
        let le = u32::from_le_bytes([a, b, c, d]);
        let family = if le > 0xFFFF {
            u32::from_be_bytes([a, b, c, d])
        } else {
            le
        };
        if family == AF_INET || AF_INET6_ANY.contains(&family) {
            self.ip(rest, field::NULL_HEADER_LEN)
        } else {
            Decoded::NotTcp
        }
    }
}
