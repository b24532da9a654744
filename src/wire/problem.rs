//! Why a packet could not be decoded, as data: the header, the offset, the numbers.
//! The views say it in their language (`output::warning_text`); nothing here is prose.

/// Why a packet could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum WireProblem {
    /// The link type (DLT number) is not one the decoder knows.
    UnsupportedLinkType(i32),
    /// A header is cut short or holds impossible values.
    Malformed {
        /// Which header.
        header: Header,
        /// Where it starts: from the start of the packet, or of the reassembled
        /// datagram when `reassembled`.
        offset: usize,
        /// The header is inside a datagram reassembled from fragments.
        reassembled: bool,
        /// What was wrong with it.
        fault: Fault,
    },
    /// More VLAN tags in one frame than allowed; the packet is skipped.
    TooManyVlanTags {
        /// The bound.
        max: usize,
        /// Where the tags start.
        offset: usize,
    },
    /// More nested encapsulations (tunnels, IP-in-IP, labels) than allowed.
    TooDeep {
        /// The bound.
        max: u8,
    },
    /// An IP fragment cut by the snap length: its datagram cannot be reassembled.
    FragmentCut {
        /// IPv6 rather than IPv4.
        v6: bool,
        /// Where the IP header starts.
        offset: usize,
        /// IPv4: the bytes captured and the bytes the header announces.
        sizes: Option<(usize, usize)>,
    },
    /// A fragment inside a datagram that was itself reassembled.
    NestedFragment,
    /// Fragment reassembly dropped a datagram (bounds, inconsistent fragments).
    Dropped(Dropped),
}

/// The sort of a [`WireProblem`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WireProblemKind {
    /// The link type (DLT number) is not one the decoder knows.
    UnsupportedLinkType(i32),
    /// A header is cut short or holds impossible values.
    Malformed,
    /// Fragments were dropped: reassembly bounds exceeded, a fragment cut
    /// by the snap length, or inconsistent fragments.
    FragmentsDropped,
    /// More nested encapsulations (VLAN tags, labels, tunnels) than allowed.
    TooDeep,
}

impl WireProblem {
    /// Its sort.
    pub fn kind(&self) -> WireProblemKind {
        match self {
            WireProblem::UnsupportedLinkType(l) => WireProblemKind::UnsupportedLinkType(*l),
            WireProblem::Malformed { .. } => WireProblemKind::Malformed,
            WireProblem::TooManyVlanTags { .. } | WireProblem::TooDeep { .. } => {
                WireProblemKind::TooDeep
            }
            WireProblem::FragmentCut { .. }
            | WireProblem::NestedFragment
            | WireProblem::Dropped(_) => WireProblemKind::FragmentsDropped,
        }
    }
}

/// A header the decoder reads (the name a problem report gives it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Header {
    /// An IP header whose version is not known yet.
    Ip,
    /// IPv4.
    Ipv4,
    /// IPv6.
    Ipv6,
    /// IPv6 Hop-by-Hop Options.
    Ipv6HopByHop,
    /// IPv6 Destination Options.
    Ipv6DestOptions,
    /// IPv6 Routing.
    Ipv6Routing,
    /// IPv6 Fragment.
    Ipv6Fragment,
    /// IP Authentication Header.
    IpAuth,
    /// Another IPv6 extension header.
    Ipv6Extension,
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// Ethernet II.
    Ethernet,
    /// One 802.1Q/802.1ad tag.
    VlanTag,
    /// Linux cooked capture v1.
    Sll,
    /// Linux cooked capture v2.
    Sll2,
    /// OpenBSD loopback (DLT_LOOP).
    Loop,
    /// BSD loopback (DLT_NULL).
    Null,
    /// GTP-U.
    GtpU,
    /// A GTP-U extension header.
    GtpUExtension,
    /// VXLAN.
    Vxlan,
    /// VXLAN-GPE.
    VxlanGpe,
    /// Geneve.
    Geneve,
    /// GRE.
    Gre,
    /// GRE source route entries.
    GreRouting,
    /// ERSPAN type II.
    ErspanII,
    /// ERSPAN type III.
    ErspanIII,
    /// One MPLS label.
    MplsLabel,
    /// The MPLS label stack as a whole.
    MplsLabelStack,
    /// PPPoE session.
    Pppoe,
    /// PPP.
    Ppp,
}

impl Header {
    /// Stable snake_case name (the catalogue's key: `header.<code>`).
    pub fn code(self) -> &'static str {
        match self {
            Header::Ip => "ip",
            Header::Ipv4 => "ipv4",
            Header::Ipv6 => "ipv6",
            Header::Ipv6HopByHop => "ipv6_hop_by_hop",
            Header::Ipv6DestOptions => "ipv6_dest_options",
            Header::Ipv6Routing => "ipv6_routing",
            Header::Ipv6Fragment => "ipv6_fragment",
            Header::IpAuth => "ip_auth",
            Header::Ipv6Extension => "ipv6_extension",
            Header::Tcp => "tcp",
            Header::Udp => "udp",
            Header::Ethernet => "ethernet",
            Header::VlanTag => "vlan_tag",
            Header::Sll => "sll",
            Header::Sll2 => "sll2",
            Header::Loop => "loop",
            Header::Null => "null",
            Header::GtpU => "gtp_u",
            Header::GtpUExtension => "gtp_u_extension",
            Header::Vxlan => "vxlan",
            Header::VxlanGpe => "vxlan_gpe",
            Header::Geneve => "geneve",
            Header::Gre => "gre",
            Header::GreRouting => "gre_routing",
            Header::ErspanII => "erspan_2",
            Header::ErspanIII => "erspan_3",
            Header::MplsLabel => "mpls_label",
            Header::MplsLabelStack => "mpls_label_stack",
            Header::Pppoe => "pppoe",
            Header::Ppp => "ppp",
        }
    }

    /// Every header, for documentation and the catalogue's tests.
    pub const ALL: [Header; 30] = [
        Header::Ip,
        Header::Ipv4,
        Header::Ipv6,
        Header::Ipv6HopByHop,
        Header::Ipv6DestOptions,
        Header::Ipv6Routing,
        Header::Ipv6Fragment,
        Header::IpAuth,
        Header::Ipv6Extension,
        Header::Tcp,
        Header::Udp,
        Header::Ethernet,
        Header::VlanTag,
        Header::Sll,
        Header::Sll2,
        Header::Loop,
        Header::Null,
        Header::GtpU,
        Header::GtpUExtension,
        Header::Vxlan,
        Header::VxlanGpe,
        Header::Geneve,
        Header::Gre,
        Header::GreRouting,
        Header::ErspanII,
        Header::ErspanIII,
        Header::MplsLabel,
        Header::MplsLabelStack,
        Header::Pppoe,
        Header::Ppp,
    ];

    /// The IPv6 extension header etherparse names `layer`.
    pub(super) fn of_ipv6_ext(layer: etherparse::err::Layer) -> Header {
        use etherparse::err::Layer;
        match layer {
            Layer::Ipv6HopByHopHeader => Header::Ipv6HopByHop,
            Layer::Ipv6DestOptionsHeader => Header::Ipv6DestOptions,
            Layer::Ipv6RouteHeader => Header::Ipv6Routing,
            Layer::Ipv6FragHeader => Header::Ipv6Fragment,
            Layer::IpAuthHeader => Header::IpAuth,
            _ => Header::Ipv6Extension,
        }
    }
}

/// What was wrong with a header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fault {
    /// Cut short: it needs `need` bytes, only `have` were captured.
    Cut {
        /// Bytes the header needs.
        need: usize,
        /// Bytes there.
        have: usize,
    },
    /// The IP version nibble is neither 4 nor 6.
    IpVersion {
        /// The version.
        version: u8,
        /// The byte it is in.
        first: u8,
    },
    /// The IPv4 header length (IHL, in 4-byte words) is below the header's own 5.
    Ipv4HeaderLength {
        /// The value.
        ihl: u8,
    },
    /// The TCP data offset (in 4-byte words) is below the header's own 5.
    TcpDataOffset {
        /// The value.
        data_offset: u8,
    },
    /// IPv6 Hop-by-Hop Options anywhere but right after the IPv6 header.
    HopByHopNotFirst,
    /// An IP Authentication Header whose payload length is 0.
    AuthZeroLength,
    /// More repeated parts than allowed.
    TooMany {
        /// Which parts.
        parts: Parts,
        /// The bound.
        max: usize,
    },
    /// A GTP-U extension header of length 0.
    ZeroLength,
    /// The GTP-U length field is shorter than the optional fields it must cover.
    LengthShort {
        /// The length field.
        len: usize,
    },
}

/// Parts of a header that repeat (see [`Fault::TooMany`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Parts {
    /// GTP-U extension headers.
    GtpExtensions,
    /// GRE source route entries.
    GreSourceRoutes,
    /// MPLS labels.
    MplsLabels,
}

/// Why fragment reassembly dropped a datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dropped {
    /// A fragment ends past the reassembly limit.
    PastLimit {
        /// IPv6 rather than IPv4.
        v6: bool,
        /// The datagram's identification.
        id: u32,
        /// Where the fragment ends.
        end: usize,
        /// The limit.
        max: usize,
    },
    /// The datagram's fragments cannot make one datagram.
    Inconsistent {
        /// IPv6 rather than IPv4.
        v6: bool,
        /// The datagram's identification.
        id: u32,
        /// How.
        why: FragFault,
    },
    /// More datagrams in reassembly than allowed: the oldest was dropped.
    TooManyDatagrams {
        /// The bound.
        max: usize,
    },
    /// Datagrams still incomplete after the timeout.
    TimedOut {
        /// How many.
        count: usize,
        /// The timeout, µs.
        timeout_us: i64,
    },
}

/// How a datagram's fragments failed to fit together.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FragFault {
    /// Two last fragments give different lengths.
    LastDisagree {
        /// The length the first one gave.
        first: usize,
        /// The other.
        second: usize,
    },
    /// Data past the datagram's end.
    PastEnd {
        /// The end.
        end: usize,
    },
    /// More fragments than allowed.
    TooManyFragments {
        /// The bound.
        max: usize,
    },
    /// More fragment bytes held than allowed.
    TooManyBytes {
        /// The bound.
        max: usize,
    },
}
