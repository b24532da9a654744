//! Tunnels and shims whose inner packet the walk decodes: GTP-U, VXLAN,
//! VXLAN-GPE, Geneve, GRE (with ERSPAN and PPTP's enhanced GRE), MPLS,
//! PPPoE/PPP. Every length comes from a header field and is checked
//! against the bytes present before use.

use super::link::ethertype;
use super::{be16, Decoded, Fault, Header, Parts, Walk};

/// Most GTP-U extension headers followed before giving up.
const MAX_GTP_EXTENSIONS: usize = 16;
/// Most MPLS labels followed before giving up.
const MAX_MPLS_LABELS: usize = 16;
/// Most GRE source route entries (RFC 1701) skipped before giving up.
const MAX_GRE_SRES: usize = 16;

mod gtp {
    pub const HEADER_LEN: usize = 8;
    pub const OPTIONAL_LEN: usize = 4;
    pub const FLAG_E: u8 = 0x04;
    pub const FLAG_S: u8 = 0x02;
    pub const FLAG_PN: u8 = 0x01;
    /// G-PDU: the message that carries a user packet (T-PDU).
    pub const MSG_G_PDU: u8 = 0xFF;
    pub const NEXT_EXT_AT: usize = 11;
}

mod gre {
    pub const BASE_LEN: usize = 4;
    pub const FLAG_C: u8 = 0x80;
    pub const FLAG_R: u8 = 0x40;
    pub const FLAG_K: u8 = 0x20;
    pub const FLAG_S: u8 = 0x10;
    /// Acknowledgment present (version 1, PPTP).
    pub const FLAG_A: u8 = 0x80;
}

impl<'a> Walk<'a> {
    /// GTP-U (3GPP TS 29.281): version 1, protocol type GTP; only G-PDUs
    /// carry a user packet. Other UDP on port 2152 is not TCP.
    pub(super) fn gtp_u(&mut self, data: &'a [u8], off: usize) -> Decoded<'a> {
        let (Some(&flags), Some(&msg), Some(len)) = (data.first(), data.get(1), be16(data, 2))
        else {
            return self.cut(Header::GtpU, off, gtp::HEADER_LEN, data.len());
        };
        if flags >> 5 != 1 || flags & 0x10 == 0 {
            // Not GTPv1 (or GTP'): someone else's UDP on this port.
            return Decoded::NotTcp;
        }
        if msg != gtp::MSG_G_PDU {
            return Decoded::NotTcp;
        }
        // The length field counts the bytes after the mandatory header;
        // a cut packet keeps what it has.
        let end = (gtp::HEADER_LEN + usize::from(len)).min(data.len());
        let mut at = gtp::HEADER_LEN;
        if flags & (gtp::FLAG_E | gtp::FLAG_S | gtp::FLAG_PN) != 0 {
            at += gtp::OPTIONAL_LEN;
            let mut next = data.get(gtp::NEXT_EXT_AT).copied();
            if flags & gtp::FLAG_E == 0 {
                next = Some(0);
            }
            let mut count = 0;
            loop {
                match next {
                    None => {
                        return self.cut(Header::GtpU, off, at, data.len());
                    }
                    Some(0) => break,
                    Some(_) => {}
                }
                if count == MAX_GTP_EXTENSIONS {
                    return self.malformed(
                        Header::GtpUExtension,
                        off + at,
                        Fault::TooMany {
                            parts: Parts::GtpExtensions,
                            max: MAX_GTP_EXTENSIONS,
                        },
                    );
                }
                count += 1;
                // Length in 4-byte units, counting the length byte and the
                // next-type byte that ends the extension.
                let Some(&units) = data.get(at) else {
                    return self.cut(Header::GtpUExtension, off + at, 4, 0);
                };
                if units == 0 {
                    return self.malformed(Header::GtpUExtension, off + at, Fault::ZeroLength);
                }
                let ext_len = usize::from(units) * 4;
                next = data.get(at + ext_len - 1).copied();
                at += ext_len;
            }
        }
        if at > data.len() {
            return self.cut(Header::GtpU, off, at, data.len());
        }
        let Some(inner) = data.get(at..end) else {
            return self.malformed(
                Header::GtpU,
                off,
                Fault::LengthShort {
                    len: usize::from(len),
                },
            );
        };
        match inner.first().map(|b| b >> 4) {
            Some(4 | 6) => self.ip(inner, off + at),
            // An empty T-PDU or a non-IP PDU (PPP, Ethernet PDU sessions).
            _ => Decoded::NotTcp,
        }
    }

    /// VXLAN (RFC 7348): 8-byte header, then an Ethernet frame.
    pub(super) fn vxlan(&mut self, data: &'a [u8], off: usize) -> Decoded<'a> {
        let Some(&flags) = data.first() else {
            return self.cut(Header::Vxlan, off, 8, 0);
        };
        let Some(inner) = data.get(8..) else {
            return self.cut(Header::Vxlan, off, 8, data.len());
        };
        // The I flag says the VNI is valid; without it this is not VXLAN.
        if flags & 0x08 == 0 {
            return Decoded::NotTcp;
        }
        self.ethernet(inner, off + 8)
    }

    /// VXLAN-GPE (draft-ietf-nvo3-vxlan-gpe): the next-protocol byte says
    /// what follows: 1 IPv4, 2 IPv6, 3 Ethernet.
    pub(super) fn vxlan_gpe(&mut self, data: &'a [u8], off: usize) -> Decoded<'a> {
        let (Some(&flags), Some(&next), Some(inner)) = (data.first(), data.get(3), data.get(8..))
        else {
            return self.cut(Header::VxlanGpe, off, 8, data.len());
        };
        let next = if flags & 0x04 != 0 { next } else { 3 };
        match next {
            1 | 2 => self.ip(inner, off + 8),
            3 => self.ethernet(inner, off + 8),
            _ => Decoded::NotTcp,
        }
    }

    /// Geneve (RFC 8926): 8 bytes plus options, then an EtherType-named payload.
    pub(super) fn geneve(&mut self, data: &'a [u8], off: usize) -> Decoded<'a> {
        let (Some(&first), Some(proto)) = (data.first(), be16(data, 2)) else {
            return self.cut(Header::Geneve, off, 8, data.len());
        };
        if first >> 6 != 0 {
            return Decoded::NotTcp;
        }
        let len = 8 + usize::from(first & 0x3F) * 4;
        let Some(inner) = data.get(len..) else {
            return self.cut(Header::Geneve, off, len, data.len());
        };
        self.by_ethertype(proto, inner, off + len)
    }

    /// GRE (RFC 2784/2890, the RFC 1701 routing field, and RFC 2637's
    /// enhanced GRE for PPTP): optional fields by flag, then the payload
    /// named by its protocol type (an EtherType).
    pub(super) fn gre(&mut self, data: &'a [u8], off: usize) -> Decoded<'a> {
        let (Some(&f0), Some(&f1), Some(proto)) = (data.first(), data.get(1), be16(data, 2)) else {
            return self.cut(Header::Gre, off, gre::BASE_LEN, data.len());
        };
        let version = f1 & 0x07;
        let mut len = gre::BASE_LEN;
        match version {
            0 => {
                if f0 & (gre::FLAG_C | gre::FLAG_R) != 0 {
                    len += 4;
                }
                if f0 & gre::FLAG_K != 0 {
                    len += 4;
                }
                if f0 & gre::FLAG_S != 0 {
                    len += 4;
                }
                if f0 & gre::FLAG_R != 0 {
                    // Source route entries until the empty one:
                    // address family (2), SRE offset (1), SRE length (1), data.
                    let mut count = 0;
                    loop {
                        let Some(&sre_len) = data.get(len + 3) else {
                            return self.cut(Header::GreRouting, off + len, 4, 0);
                        };
                        len += 4 + usize::from(sre_len);
                        if sre_len == 0 {
                            break;
                        }
                        count += 1;
                        if count == MAX_GRE_SRES {
                            return self.malformed(
                                Header::GreRouting,
                                off + len,
                                Fault::TooMany {
                                    parts: Parts::GreSourceRoutes,
                                    max: MAX_GRE_SRES,
                                },
                            );
                        }
                    }
                }
            }
            1 => {
                // PPTP: key (payload length + call id) always, sequence and
                // acknowledgment numbers by flag.
                len += 4;
                if f0 & gre::FLAG_S != 0 {
                    len += 4;
                }
                if f1 & gre::FLAG_A != 0 {
                    len += 4;
                }
            }
            _ => return Decoded::NotTcp,
        }
        let Some(inner) = data.get(len..) else {
            return self.cut(Header::Gre, off, len, data.len());
        };
        let off = off + len;
        match proto {
            ethertype::PPP => self.ppp(inner, off),
            ethertype::ERSPAN2 => {
                // Type I has no sequence number and no ERSPAN header.
                if f0 & gre::FLAG_S == 0 {
                    return self.ethernet(inner, off);
                }
                match inner.get(8..) {
                    Some(frame) => self.ethernet(frame, off + 8),
                    None => self.cut(Header::ErspanII, off, 8, inner.len()),
                }
            }
            ethertype::ERSPAN3 => {
                // 12 bytes; the O bit (last bit) adds an 8-byte platform subheader.
                let Some(&last) = inner.get(11) else {
                    return self.cut(Header::ErspanIII, off, 12, inner.len());
                };
                let len = if last & 0x01 != 0 { 20 } else { 12 };
                match inner.get(len..) {
                    Some(frame) => self.ethernet(frame, off + len),
                    None => self.cut(Header::ErspanIII, off, len, inner.len()),
                }
            }
            _ => self.by_ethertype(proto, inner, off),
        }
    }

    /// MPLS label stack (RFC 3032), then IP guessed from the version nibble
    /// (MPLS does not name its payload).
    pub(super) fn mpls(&mut self, data: &'a [u8], off: usize) -> Decoded<'a> {
        if let Err(problem) = self.deeper() {
            return problem;
        }
        let mut at = 0;
        for _ in 0..MAX_MPLS_LABELS {
            let Some(&ttl_s) = data.get(at + 2) else {
                return self.cut(
                    Header::MplsLabel,
                    off + at,
                    4,
                    data.len().saturating_sub(at),
                );
            };
            at += 4;
            if ttl_s & 0x01 != 0 {
                let inner = data.get(at..).unwrap_or_default();
                return match inner.first().map(|b| b >> 4) {
                    Some(4 | 6) => self.ip(inner, off + at),
                    // Pseudowire control word or anything else: not followed.
                    _ => Decoded::NotTcp,
                };
            }
        }
        self.malformed(
            Header::MplsLabelStack,
            off,
            Fault::TooMany {
                parts: Parts::MplsLabels,
                max: MAX_MPLS_LABELS,
            },
        )
    }

    /// PPPoE session (RFC 2516): 6-byte header, then PPP.
    pub(super) fn pppoe(&mut self, data: &'a [u8], off: usize) -> Decoded<'a> {
        if let Err(problem) = self.deeper() {
            return problem;
        }
        match data.get(6..) {
            Some(ppp) => self.ppp(ppp, off + 6),
            None => self.cut(Header::Pppoe, off, 6, data.len()),
        }
    }

    /// PPP (RFC 1661): optional address/control bytes, a 1- or 2-byte
    /// protocol (RFC 1661 protocol field compression), IPv4 0x21 or IPv6 0x57.
    pub(super) fn ppp(&mut self, data: &'a [u8], off: usize) -> Decoded<'a> {
        let mut at = 0;
        if data.starts_with(&[0xFF, 0x03]) {
            at = 2;
        }
        let Some(&p0) = data.get(at) else {
            return self.cut(Header::Ppp, off, at + 1, data.len());
        };
        // An odd first byte is a compressed, one-byte protocol.
        let (proto, len) = if p0 & 0x01 != 0 {
            (u16::from(p0), 1)
        } else {
            match be16(data, at) {
                Some(p) => (p, 2),
                None => return self.cut(Header::Ppp, off, at + 2, data.len()),
            }
        };
        let inner = data.get(at + len..).unwrap_or_default();
        match proto {
            0x0021 | 0x0057 => self.ip(inner, off + at + len),
            _ => Decoded::NotTcp,
        }
    }
}
