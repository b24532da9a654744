//! IPv4/IPv6 (etherparse lax slices, so cut packets decode as far as they
//! go), fragments, and the transport dispatch: TCP, UDP tunnels, GRE,
//! IP-in-IP.

use std::net::{IpAddr, SocketAddr};

use etherparse::err::ip::LaxHeaderSliceError;
use etherparse::{IpNumber, Ipv6ExtensionSlice, LaxIpSlice, LaxIpv4Slice, LaxIpv6Slice, TcpSlice};

use super::defrag::{FragKey, Insert};
use super::{be16, Decoded, Fault, Header, TcpFlags, TcpSegment, Walk, WireProblem};

const IPV6_HEADER_LEN: usize = 40;
const UDP_HEADER_LEN: usize = 8;

/// UDP destination ports of the tunnels the walk looks into.
mod port {
    pub const GTP_U: u16 = 2152;
    pub const VXLAN: u16 = 4789;
    pub const VXLAN_GPE: u16 = 4790;
    pub const GENEVE: u16 = 6081;
}

/// The IP payload handed to the transport layer.
pub(super) struct IpPayload<'a> {
    pub proto: u8,
    pub src: IpAddr,
    pub dst: IpAddr,
    /// The captured payload bytes.
    pub bytes: &'a [u8],
    /// Payload length the IP header announces (>= bytes.len()).
    pub announced: usize,
    /// Offset of `bytes` in the packet (or reassembled datagram).
    pub off: usize,
}

impl<'a> Walk<'a> {
    /// An IP packet starting at `data[0]`; the version nibble decides.
    pub(super) fn ip(&mut self, data: &'a [u8], off: usize) -> Decoded<'a> {
        let Some(&first) = data.first() else {
            return self.cut(Header::Ip, off, 1, 0);
        };
        match first >> 4 {
            4 => match LaxIpSlice::from_slice(data) {
                Ok((LaxIpSlice::Ipv4(v4), _)) => self.ipv4(v4, data, off),
                Ok((LaxIpSlice::Ipv6(_), _)) => Decoded::NotTcp,
                Err(e) => self.ip_error(Header::Ipv4, off, first, e),
            },
            6 => match LaxIpv6Slice::from_slice(data) {
                Ok((v6, ext_err)) => self.ipv6(v6, ext_err, data, off),
                Err(e) => match e {
                    etherparse::err::ipv6::HeaderSliceError::Len(l) => {
                        self.cut(Header::Ipv6, off, l.required_len, l.len)
                    }
                    etherparse::err::ipv6::HeaderSliceError::Content(
                        etherparse::err::ipv6::HeaderError::UnexpectedVersion { version_number },
                    ) => self.malformed(
                        Header::Ipv6,
                        off,
                        Fault::IpVersion {
                            version: version_number,
                            first,
                        },
                    ),
                },
            },
            v => self.malformed(Header::Ip, off, Fault::IpVersion { version: v, first }),
        }
    }

    fn ip_error(
        &self,
        layer: Header,
        off: usize,
        first: u8,
        e: LaxHeaderSliceError,
    ) -> Decoded<'a> {
        use etherparse::err::ip::HeaderError;
        match e {
            LaxHeaderSliceError::Len(l) => self.cut(layer, off, l.required_len, l.len),
            LaxHeaderSliceError::Content(HeaderError::UnsupportedIpVersion { version_number }) => {
                self.malformed(
                    layer,
                    off,
                    Fault::IpVersion {
                        version: version_number,
                        first,
                    },
                )
            }
            LaxHeaderSliceError::Content(HeaderError::Ipv4HeaderLengthSmallerThanHeader {
                ihl,
            }) => self.malformed(layer, off, Fault::Ipv4HeaderLength { ihl }),
        }
    }

    /// An IPv6 extension header etherparse could not read, `at` bytes into the packet.
    fn ipv6_ext_error(
        &self,
        e: etherparse::err::ipv6_exts::HeaderSliceError,
        layer: etherparse::err::Layer,
        at: usize,
    ) -> Decoded<'a> {
        use etherparse::err::ip_auth::HeaderError as AuthError;
        use etherparse::err::ipv6_exts::{HeaderError, HeaderSliceError};
        let header = Header::of_ipv6_ext(layer);
        match e {
            HeaderSliceError::Len(l) => self.cut(header, at, l.required_len, l.len),
            HeaderSliceError::Content(HeaderError::HopByHopNotAtStart) => {
                self.malformed(header, at, Fault::HopByHopNotFirst)
            }
            HeaderSliceError::Content(HeaderError::IpAuth(AuthError::ZeroPayloadLen)) => {
                self.malformed(header, at, Fault::AuthZeroLength)
            }
        }
    }

    fn ipv4(&mut self, v4: LaxIpv4Slice<'a>, data: &'a [u8], off: usize) -> Decoded<'a> {
        let header = v4.header();
        let src = IpAddr::V4(header.source_addr());
        let dst = IpAddr::V4(header.destination_addr());
        let total_len = usize::from(header.total_len());
        let payload = v4.payload();
        let bytes = payload.payload;
        // etherparse's payload runs to the end of `data` when it is cut, so
        // the header (+ AH) length is what precedes it.
        let head_len = data.len().saturating_sub(bytes.len());
        let announced = if payload.incomplete {
            total_len.saturating_sub(head_len).max(bytes.len())
        } else {
            bytes.len()
        };
        let proto = payload.ip_number.0;
        if payload.fragmented {
            if payload.incomplete {
                return self.problem(WireProblem::FragmentCut {
                    v6: false,
                    offset: off,
                    sizes: Some((bytes.len(), announced)),
                });
            }
            let key = FragKey {
                src,
                dst,
                id: u32::from(header.identification()),
                proto,
                v6: false,
            };
            let frag_off = u32::from(header.fragments_offset().value()) * 8;
            return self.fragment(key, frag_off, header.more_fragments(), bytes);
        }
        self.transport(IpPayload {
            proto,
            src,
            dst,
            bytes,
            announced,
            off: off + head_len,
        })
    }

    fn ipv6(
        &mut self,
        v6: LaxIpv6Slice<'a>,
        ext_err: Option<(
            etherparse::err::ipv6_exts::HeaderSliceError,
            etherparse::err::Layer,
        )>,
        data: &'a [u8],
        off: usize,
    ) -> Decoded<'a> {
        let header = v6.header();
        let src = IpAddr::V6(header.source_addr());
        let dst = IpAddr::V6(header.destination_addr());
        let payload = v6.payload();
        if payload.fragmented {
            return self.ipv6_fragment(&v6, src, dst, data, off);
        }
        if let Some((e, layer)) = ext_err {
            let at = match &e {
                etherparse::err::ipv6_exts::HeaderSliceError::Len(l) => l.layer_start_offset,
                etherparse::err::ipv6_exts::HeaderSliceError::Content(_) => IPV6_HEADER_LEN,
            };
            return self.ipv6_ext_error(e, layer, off + at);
        }
        let bytes = payload.payload;
        let head_len = data.len().saturating_sub(bytes.len());
        let announced = if payload.incomplete {
            (IPV6_HEADER_LEN + usize::from(header.payload_length()))
                .saturating_sub(head_len)
                .max(bytes.len())
        } else {
            bytes.len()
        };
        self.transport(IpPayload {
            proto: payload.ip_number.0,
            src,
            dst,
            bytes,
            announced,
            off: off + head_len,
        })
    }

    /// An IPv6 fragment: the fragmentable part starts right after the
    /// Fragment header; what etherparse parsed past it in a non-first
    /// fragment is not headers, so it is ignored.
    fn ipv6_fragment(
        &mut self,
        v6: &LaxIpv6Slice<'a>,
        src: IpAddr,
        dst: IpAddr,
        data: &'a [u8],
        off: usize,
    ) -> Decoded<'a> {
        if v6.payload().incomplete {
            return self.problem(WireProblem::FragmentCut {
                v6: true,
                offset: off,
                sizes: None,
            });
        }
        let payload_length = usize::from(v6.header().payload_length());
        let end = if payload_length == 0 {
            data.len()
        } else {
            (IPV6_HEADER_LEN + payload_length).min(data.len())
        };
        let region = data.get(IPV6_HEADER_LEN..end).unwrap_or_default();
        let mut at = 0usize;
        for ext in v6.extensions().clone() {
            match ext {
                Ipv6ExtensionSlice::Fragment(f) if f.is_fragmenting_payload() => {
                    let frag_bytes = region.get(at + f.slice().len()..).unwrap_or_default();
                    let key = FragKey {
                        src,
                        dst,
                        id: f.identification(),
                        proto: f.next_header().0,
                        v6: true,
                    };
                    let frag_off = u32::from(f.fragment_offset().value()) * 8;
                    return self.fragment(key, frag_off, f.more_fragments(), frag_bytes);
                }
                Ipv6ExtensionSlice::HopByHop(s)
                | Ipv6ExtensionSlice::Routing(s)
                | Ipv6ExtensionSlice::DestinationOptions(s) => at += s.slice().len(),
                Ipv6ExtensionSlice::Fragment(f) => at += f.slice().len(),
                Ipv6ExtensionSlice::Authentication(a) => at += a.slice().len(),
            }
        }
        Decoded::NotTcp
    }

    /// Hold a fragment; when it completes its datagram, carry on with the
    /// reassembled payload.
    fn fragment(&mut self, key: FragKey, frag_off: u32, more: bool, bytes: &[u8]) -> Decoded<'a> {
        let Some(out) = self.out.take() else {
            return self.problem(WireProblem::NestedFragment);
        };
        match self.frags.insert(key, frag_off, more, bytes, self.ts, out) {
            Insert::Held => Decoded::FragmentHeld,
            Insert::Dropped(why) => self.problem(WireProblem::Dropped(why)),
            Insert::Complete => {
                let datagram: &'a [u8] = out;
                self.in_reassembled = true;
                let (proto, bytes) = if key.v6 {
                    // Extension headers may follow the Fragment header.
                    let (_, next, rest, err) = etherparse::Ipv6ExtensionsSlice::from_slice_lax(
                        IpNumber(key.proto),
                        datagram,
                    );
                    if let Some((e, layer)) = err {
                        return self.ipv6_ext_error(e, layer, 0);
                    }
                    (next.0, rest)
                } else {
                    (key.proto, datagram)
                };
                let off = datagram.len().saturating_sub(bytes.len());
                self.transport(IpPayload {
                    proto,
                    src: key.src,
                    dst: key.dst,
                    bytes,
                    announced: bytes.len(),
                    off,
                })
            }
        }
    }

    /// What an IP header carries.
    pub(super) fn transport(&mut self, p: IpPayload<'a>) -> Decoded<'a> {
        match IpNumber(p.proto) {
            IpNumber::TCP => self.tcp(p),
            IpNumber::UDP => self.udp(p),
            IpNumber::GRE => match self.deeper() {
                Ok(()) => self.gre(p.bytes, p.off),
                Err(problem) => problem,
            },
            IpNumber::IPV4 | IpNumber::IPV6 => match self.deeper() {
                Ok(()) => self.ip(p.bytes, p.off),
                Err(problem) => problem,
            },
            _ => Decoded::NotTcp,
        }
    }

    fn tcp(&mut self, p: IpPayload<'a>) -> Decoded<'a> {
        let tcp = match TcpSlice::from_slice(p.bytes) {
            Ok(tcp) => tcp,
            Err(etherparse::err::tcp::HeaderSliceError::Len(l)) => {
                return self.cut(Header::Tcp, p.off, l.required_len, l.len);
            }
            Err(etherparse::err::tcp::HeaderSliceError::Content(
                etherparse::err::tcp::HeaderError::DataOffsetTooSmall { data_offset },
            )) => {
                return self.malformed(Header::Tcp, p.off, Fault::TcpDataOffset { data_offset });
            }
        };
        let header_len = tcp.header_slice().len();
        let payload = tcp.payload();
        let wire = p.announced.saturating_sub(header_len).max(payload.len());
        let flags = p.bytes.get(13).copied().unwrap_or_default();
        Decoded::Tcp(TcpSegment {
            src: SocketAddr::new(p.src, tcp.source_port()),
            dst: SocketAddr::new(p.dst, tcp.destination_port()),
            seq: tcp.sequence_number(),
            ack: tcp.acknowledgment_number(),
            flags: TcpFlags(flags),
            window: tcp.window_size(),
            payload,
            wire_payload_len: u32::try_from(wire).unwrap_or(u32::MAX),
        })
    }

    /// UDP matters only as a tunnel carrier, recognised by destination port
    /// (GTP-U also by source port: both ends use 2152).
    fn udp(&mut self, p: IpPayload<'a>) -> Decoded<'a> {
        let (Some(sport), Some(dport)) = (be16(p.bytes, 0), be16(p.bytes, 2)) else {
            return self.cut(Header::Udp, p.off, UDP_HEADER_LEN, p.bytes.len());
        };
        let Some(inner) = p.bytes.get(UDP_HEADER_LEN..) else {
            return self.cut(Header::Udp, p.off, UDP_HEADER_LEN, p.bytes.len());
        };
        let off = p.off + UDP_HEADER_LEN;
        let tunnel = match dport {
            port::GTP_U => port::GTP_U,
            port::VXLAN | port::VXLAN_GPE | port::GENEVE => dport,
            _ if sport == port::GTP_U => port::GTP_U,
            _ => return Decoded::NotTcp,
        };
        if let Err(problem) = self.deeper() {
            return problem;
        }
        match tunnel {
            port::GTP_U => self.gtp_u(inner, off),
            port::VXLAN => self.vxlan(inner, off),
            port::VXLAN_GPE => self.vxlan_gpe(inner, off),
            _ => self.geneve(inner, off),
        }
    }
}
