//! Packets built byte by byte (not with the parser under test), real
//! captures, and random bytes for every link type.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use proptest::prelude::*;

use super::*;
use crate::types::Timestamp;

// ---------------------------------------------------------------- builders

const PAYLOAD: &[u8] = b"GET /chat HTTP/1.1\r\n";
const C4: [u8; 4] = [10, 0, 0, 1];
const S4: [u8; 4] = [10, 0, 0, 2];
const C6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const S6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
const SEQ: u32 = 0x0102_0304;
const ACK: u32 = 0xA0B0_C0D0;
const WINDOW: u16 = 0x1234;
const PSH_ACK: u8 = TcpFlags::PSH | TcpFlags::ACK;

/// A TCP header (with `opt_words` 4-byte NOP option words) and payload.
fn tcp_with(flags: u8, opt_words: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&51000u16.to_be_bytes());
    v.extend_from_slice(&80u16.to_be_bytes());
    v.extend_from_slice(&SEQ.to_be_bytes());
    v.extend_from_slice(&ACK.to_be_bytes());
    v.push((5 + opt_words) << 4);
    v.push(flags);
    v.extend_from_slice(&WINDOW.to_be_bytes());
    v.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent pointer
    v.extend_from_slice(&vec![1u8; usize::from(opt_words) * 4]);
    v.extend_from_slice(payload);
    v
}

fn tcp(payload: &[u8]) -> Vec<u8> {
    tcp_with(PSH_ACK, 0, payload)
}

/// An IPv4 header (+ options) and payload; `frag` = (id, offset in bytes, MF).
fn ipv4_full(proto: u8, options: &[u8], frag: (u16, u16, bool), payload: &[u8]) -> Vec<u8> {
    let ihl = 5 + options.len() / 4;
    let total = (ihl * 4 + payload.len()) as u16;
    let (id, off, mf) = frag;
    let flags_off = (off / 8) | if mf { 0x2000 } else { 0 };
    let mut v = vec![0x40 | ihl as u8, 0];
    v.extend_from_slice(&total.to_be_bytes());
    v.extend_from_slice(&id.to_be_bytes());
    v.extend_from_slice(&flags_off.to_be_bytes());
    v.extend_from_slice(&[64, proto, 0, 0]);
    v.extend_from_slice(&C4);
    v.extend_from_slice(&S4);
    v.extend_from_slice(options);
    v.extend_from_slice(payload);
    v
}

fn ipv4(proto: u8, payload: &[u8]) -> Vec<u8> {
    ipv4_full(proto, &[], (0, 0, false), payload)
}

fn ipv6(next: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![0x60, 0, 0, 0];
    v.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    v.extend_from_slice(&[next, 64]);
    v.extend_from_slice(&C6);
    v.extend_from_slice(&S6);
    v.extend_from_slice(payload);
    v
}

fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&sport.to_be_bytes());
    v.extend_from_slice(&dport.to_be_bytes());
    v.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(payload);
    v
}

/// Ethernet II with the given VLAN tag protocol identifiers before `ethertype`.
fn eth_tagged(tpids: &[u16], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2];
    for (i, tpid) in tpids.iter().enumerate() {
        v.extend_from_slice(&tpid.to_be_bytes());
        v.extend_from_slice(&(100 + i as u16).to_be_bytes());
    }
    v.extend_from_slice(&ethertype.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

fn eth(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    eth_tagged(&[], ethertype, payload)
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn sock4(ip: [u8; 4], port: u16) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::from(ip)), port)
}

fn sock6(ip: [u8; 16], port: u16) -> SocketAddr {
    SocketAddr::new(IpAddr::V6(Ipv6Addr::from(ip)), port)
}

fn decode_once(linktype: i32, data: &[u8]) -> Decoded<'static> {
    let mut d = Decoder::default();
    owned(d.decode(linktype, data, Timestamp(0)))
}

/// Detach a result from the decoder and packet so tests can keep it.
fn owned(d: Decoded<'_>) -> Decoded<'static> {
    match d {
        Decoded::Tcp(s) => Decoded::Tcp(TcpSegment {
            payload: Vec::leak(s.payload.to_vec()),
            ..s
        }),
        Decoded::NotTcp => Decoded::NotTcp,
        Decoded::FragmentHeld => Decoded::FragmentHeld,
        Decoded::Problem(p) => Decoded::Problem(p),
    }
}

#[track_caller]
fn expect_seg(d: &Decoded<'_>, src: SocketAddr, dst: SocketAddr, payload: &[u8]) {
    let Decoded::Tcp(s) = d else {
        panic!("expected a TCP segment, got {d:?}");
    };
    assert_eq!(s.src, src);
    assert_eq!(s.dst, dst);
    assert_eq!(s.seq, SEQ);
    assert_eq!(s.ack, ACK);
    assert_eq!(s.flags, TcpFlags(PSH_ACK));
    assert_eq!(s.window, WINDOW);
    assert_eq!(s.payload, payload);
    assert_eq!(s.wire_payload_len as usize, payload.len());
}

#[track_caller]
fn expect_v4(d: &Decoded<'_>) {
    expect_seg(d, sock4(C4, 51000), sock4(S4, 80), PAYLOAD);
}

#[track_caller]
fn expect_problem(d: &Decoded<'_>, kind: WireProblemKind, words: &[&str]) {
    let Decoded::Problem(p) = d else {
        panic!("expected a {kind:?} problem, got {d:?}");
    };
    let text = words_of(p);
    assert_eq!(p.kind(), kind, "{text}");
    for w in words {
        assert!(text.contains(w), "{w:?} not in {text:?}");
    }
}

/// The problem as the views word it in English.
fn words_of(p: &WireProblem) -> String {
    crate::output::warning_text(
        crate::output::Lang::En,
        &crate::analysis::Warning::Wire(p.clone()),
    )
}

// ------------------------------------------------------------- link types

#[test]
fn every_link_type_gives_the_segment() {
    let v4 = ipv4(6, &tcp(PAYLOAD));
    let v6 = ipv6(6, &tcp(PAYLOAD));
    let sll = |proto: u16| {
        let mut h = vec![0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0];
        h.extend_from_slice(&proto.to_be_bytes());
        h
    };
    let sll2 = |proto: u16| {
        let mut h = proto.to_be_bytes().to_vec();
        h.extend_from_slice(&[0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0]);
        h
    };
    #[rustfmt::skip]
    let table: Vec<(&str, i32, Vec<u8>, bool)> = vec![
        ("ethernet ipv4",        dlt::EN10MB, eth(0x0800, &v4), false),
        ("ethernet ipv6",        dlt::EN10MB, eth(0x86DD, &v6), true),
        ("raw 12 ipv4",          dlt::RAW, v4.clone(), false),
        ("raw 12 ipv6",          dlt::RAW, v6.clone(), true),
        ("raw 14 (openbsd)",     dlt::RAW_OPENBSD, v4.clone(), false),
        ("linktype raw 101",     dlt::LINKTYPE_RAW, v6.clone(), true),
        ("ipv4 228",             dlt::IPV4, v4.clone(), false),
        ("ipv6 229",             dlt::IPV6, v6.clone(), true),
        ("null AF_INET le",      dlt::NULL, cat(&[&[2, 0, 0, 0], &v4]), false),
        ("null AF_INET be",      dlt::NULL, cat(&[&[0, 0, 0, 2], &v4]), false),
        ("null AF_INET6 macos",  dlt::NULL, cat(&[&[30, 0, 0, 0], &v6]), true),
        ("null AF_INET6 bsd",    dlt::NULL, cat(&[&[24, 0, 0, 0], &v6]), true),
        ("null AF_INET6 fbsd",   dlt::NULL, cat(&[&[28, 0, 0, 0], &v6]), true),
        ("null AF_INET6 linux",  dlt::NULL, cat(&[&[10, 0, 0, 0], &v6]), true),
        ("loop AF_INET",         dlt::LOOP, cat(&[&[0, 0, 0, 2], &v4]), false),
        ("loop AF_INET6",        dlt::LOOP, cat(&[&[0, 0, 0, 24], &v6]), true),
        ("sll ipv4",             dlt::LINUX_SLL, cat(&[&sll(0x0800), &v4]), false),
        ("sll ipv6",             dlt::LINUX_SLL, cat(&[&sll(0x86DD), &v6]), true),
        ("sll vlan ipv4",        dlt::LINUX_SLL, cat(&[&sll(0x8100), &[0, 7, 8, 0], &v4]), false),
        ("ppp",                  dlt::PPP, cat(&[&[0xFF, 0x03, 0x00, 0x21], &v4]), false),
        ("ppp serial ipv6",      dlt::PPP_SERIAL, cat(&[&[0xFF, 0x03, 0x00, 0x57], &v6]), true),
        ("ppp compressed",       dlt::PPP, cat(&[&[0x21], &v4]), false),
        ("sll2 ipv4",            dlt::LINUX_SLL2, cat(&[&sll2(0x0800), &v4]), false),
        ("sll2 ipv6",            dlt::LINUX_SLL2, cat(&[&sll2(0x86DD), &v6]), true),
    ];
    for (name, linktype, bytes, is_v6) in table {
        let d = decode_once(linktype, &bytes);
        let (src, dst) = if is_v6 {
            (sock6(C6, 51000), sock6(S6, 80))
        } else {
            (sock4(C4, 51000), sock4(S4, 80))
        };
        let Decoded::Tcp(_) = &d else {
            panic!("{name}: expected TCP, got {d:?}");
        };
        expect_seg(&d, src, dst, PAYLOAD);
    }
}

#[test]
fn unsupported_link_type_names_the_number() {
    let d = decode_once(147, &ipv4(6, &tcp(PAYLOAD)));
    expect_problem(&d, WireProblemKind::UnsupportedLinkType(147), &["147"]);
}

#[test]
fn not_tcp_is_skipped_silently() {
    #[rustfmt::skip]
    let table: Vec<(&str, i32, Vec<u8>)> = vec![
        ("arp",              dlt::EN10MB, eth(0x0806, &[0; 28])),
        ("802.3 llc",        dlt::EN10MB, eth(0x0026, &[0xAA; 38])),
        ("udp dns",          dlt::EN10MB, eth(0x0800, &ipv4(17, &udp(5353, 53, b"q")))),
        ("icmp",             dlt::RAW, ipv4(1, &[8, 0, 0, 0, 0, 1, 0, 1])),
        ("icmpv6",           dlt::RAW, ipv6(58, &[128, 0, 0, 0, 0, 1, 0, 1])),
        ("null unknown af",  dlt::NULL, cat(&[&[7, 0, 0, 0], &ipv4(6, &tcp(b""))])),
        ("sll netlink",      dlt::LINUX_SLL, cat(&[&[0, 4, 3, 0x38], &[0; 10], &[0, 0], &[0; 16]])),
        ("gtp echo request", dlt::RAW, ipv4(17, &udp(2152, 2152, &[0x32, 1, 0, 4, 0, 0, 0, 0, 0, 1, 0, 0]))),
        ("udp src 4789 only", dlt::RAW, ipv4(17, &udp(4789, 53, b"not vxlan"))),
    ];
    for (name, linktype, bytes) in table {
        assert_eq!(decode_once(linktype, &bytes), Decoded::NotTcp, "{name}");
    }
}

#[test]
fn tcp_flags_display_and_accessors() {
    assert_eq!(
        TcpFlags(TcpFlags::SYN | TcpFlags::ACK).to_string(),
        "SYN,ACK"
    );
    assert_eq!(
        TcpFlags(TcpFlags::FIN | TcpFlags::ACK).to_string(),
        "FIN,ACK"
    );
    assert_eq!(TcpFlags(PSH_ACK).to_string(), "PSH,ACK");
    assert_eq!(TcpFlags(TcpFlags::RST).to_string(), "RST");
    assert_eq!(TcpFlags(0).to_string(), "none");
    assert_eq!(
        TcpFlags(0xFF).to_string(),
        "SYN,FIN,RST,PSH,ACK,URG,ECE,CWR"
    );
    let f = TcpFlags(TcpFlags::SYN | TcpFlags::ACK);
    assert!(f.syn() && f.ack() && !f.fin() && !f.rst() && !f.psh() && !f.urg());
    assert!(f.has(TcpFlags::SYN | TcpFlags::ACK) && !f.has(TcpFlags::SYN | TcpFlags::FIN));
}

#[test]
fn ip_options_tcp_options_and_ipv6_extension_headers() {
    // IPv4 with 8 bytes of options (NOP x7, EOL), TCP with 12 bytes of options.
    let opts = [1, 1, 1, 1, 1, 1, 1, 0];
    let pkt = ipv4_full(6, &opts, (0, 0, false), &tcp_with(PSH_ACK, 3, PAYLOAD));
    expect_v4(&decode_once(dlt::RAW, &pkt));
    // IPv6 hop-by-hop (8 bytes) then destination options (8 bytes) then TCP.
    let ext = cat(&[&[60, 0, 1, 4, 0, 0, 0, 0], &[6, 0, 1, 4, 0, 0, 0, 0]]);
    let pkt = ipv6(0, &cat(&[&ext, &tcp(PAYLOAD)]));
    expect_seg(
        &decode_once(dlt::RAW, &pkt),
        sock6(C6, 51000),
        sock6(S6, 80),
        PAYLOAD,
    );
}

#[test]
fn ethernet_padding_is_not_payload() {
    // A bare ACK is padded to the 60-byte Ethernet minimum.
    let mut frame = eth(0x0800, &ipv4(6, &tcp(b"")));
    frame.resize(60, 0);
    let Decoded::Tcp(s) = decode_once(dlt::EN10MB, &frame) else {
        panic!("expected TCP");
    };
    assert_eq!(s.payload, b"");
    assert_eq!(s.wire_payload_len, 0);
}

// -------------------------------------------------------------------- VLAN

#[test]
fn vlan_tags_any_depth_bounded() {
    let v4 = ipv4(6, &tcp(PAYLOAD));
    #[rustfmt::skip]
    let ok: Vec<(&str, Vec<u16>)> = vec![
        ("802.1Q",            vec![0x8100]),
        ("802.1ad QinQ",      vec![0x88A8, 0x8100]),
        ("old QinQ 9100",     vec![0x9100, 0x8100]),
        ("old QinQ 9200",     vec![0x9200, 0x8100]),
        ("triple",            vec![0x88A8, 0x88A8, 0x8100]),
        ("eight tags",        vec![0x8100; MAX_VLAN_TAGS]),
    ];
    for (name, tags) in ok {
        let d = decode_once(dlt::EN10MB, &eth_tagged(&tags, 0x0800, &v4));
        assert!(matches!(d, Decoded::Tcp(_)), "{name}: {d:?}");
        expect_v4(&d);
    }
    let d = decode_once(
        dlt::EN10MB,
        &eth_tagged(&[0x8100; MAX_VLAN_TAGS + 1], 0x0800, &v4),
    );
    expect_problem(&d, WireProblemKind::TooDeep, &["VLAN"]);
    // A tag cut in half by the snap length.
    let frame = eth_tagged(&[0x88A8, 0x8100], 0x0800, &v4);
    let d = decode_once(dlt::EN10MB, &frame[..20]);
    expect_problem(&d, WireProblemKind::Malformed, &["VLAN tag", "offset 18"]);
}

// ----------------------------------------------------------------- tunnels

fn gtp_u(flags: u8, optional: &[u8], exts: &[u8], inner: &[u8]) -> Vec<u8> {
    let len = (optional.len() + exts.len() + inner.len()) as u16;
    let mut v = vec![flags, 0xFF];
    v.extend_from_slice(&len.to_be_bytes());
    v.extend_from_slice(&0x0000_0001u32.to_be_bytes()); // TEID
    v.extend_from_slice(optional);
    v.extend_from_slice(exts);
    v.extend_from_slice(inner);
    v
}

fn gre(flags: [u8; 2], proto: u16, optional: &[u8], inner: &[u8]) -> Vec<u8> {
    let mut v = flags.to_vec();
    v.extend_from_slice(&proto.to_be_bytes());
    v.extend_from_slice(optional);
    v.extend_from_slice(inner);
    v
}

#[test]
fn each_tunnel_gives_the_inner_segment() {
    let inner4 = ipv4(6, &tcp(PAYLOAD));
    let inner6 = ipv6(6, &tcp(PAYLOAD));
    let inner_eth = eth(0x0800, &inner4);
    #[rustfmt::skip]
    let table: Vec<(&str, Vec<u8>, bool)> = vec![
        ("gtp-u plain", ipv4(17, &udp(2152, 2152, &gtp_u(0x30, &[], &[], &inner4))), false),
        ("gtp-u src port only", ipv4(17, &udp(2152, 40000, &gtp_u(0x30, &[], &[], &inner4))), false),
        ("gtp-u seq", ipv4(17, &udp(40000, 2152, &gtp_u(0x32, &[0, 7, 0, 0], &[], &inner4))), false),
        // PDU session container (type 0x85), one 4-byte unit, then a second
        // 8-byte extension, then none.
        ("gtp-u two extensions", ipv4(17, &udp(2152, 2152, &gtp_u(
            0x34, &[0, 0, 0, 0x85], &[1, 0x10, 0x09, 0x40, 2, 1, 2, 3, 4, 5, 6, 0], &inner4))), false),
        ("gtp-u ipv6 inner over ipv6", ipv6(17, &udp(2152, 2152, &gtp_u(0x30, &[], &[], &inner6))), true),
        ("vxlan", ipv4(17, &udp(50000, 4789, &cat(&[&[0x08, 0, 0, 0, 0, 0, 42, 0], &inner_eth]))), false),
        ("vxlan-gpe ipv6", ipv4(17, &udp(50000, 4790, &cat(&[&[0x0C, 0, 0, 2, 0, 0, 42, 0], &inner6]))), true),
        ("geneve with option", ipv4(17, &udp(50000, 6081, &cat(&[
            &[0x01, 0, 0x65, 0x58, 0, 0, 42, 0], &[0, 1, 2, 0], &inner_eth]))), false),
        ("gre ipv4", ipv4(47, &gre([0, 0], 0x0800, &[], &inner4)), false),
        ("gre ipv6 with key", ipv4(47, &gre([0x20, 0], 0x86DD, &[0, 0, 0, 9], &inner6)), true),
        ("gre teb csum+key+seq", ipv6(47, &gre([0xB0, 0], 0x6558, &[0; 12], &inner_eth)), false),
        ("gre rfc1701 routing", ipv4(47, &gre([0x40, 0], 0x0800,
            &[0, 0, 0, 0, 0x08, 0x00, 0, 4, 1, 2, 3, 4, 0, 0, 0, 0], &inner4)), false),
        ("gre erspan ii", ipv4(47, &gre([0x10, 0], 0x88BE, &[0, 0, 0, 1],
            &cat(&[&[0x10, 1, 0, 0, 0, 0, 0, 0], &inner_eth]))), false),
        ("gre erspan iii + platform", ipv4(47, &gre([0x10, 0], 0x22EB, &[0, 0, 0, 1],
            &cat(&[&[0x20, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], &[0; 8], &inner_eth]))), false),
        ("pptp enhanced gre ppp", ipv4(47, &gre([0x30, 0x81], 0x880B, &[0, 40, 0, 1, 0, 0, 0, 5, 0, 0, 0, 4],
            &cat(&[&[0xFF, 0x03, 0x00, 0x21], &inner4]))), false),
        ("ip-in-ip", ipv4(4, &inner4), false),
        ("ipv6-in-ip", ipv4(41, &inner6), true),
        ("ipv4-in-ipv6", ipv6(4, &inner4), false),
    ];
    for (name, outer, is_v6) in table {
        let d = decode_once(
            dlt::EN10MB,
            &eth(if outer[0] >> 4 == 6 { 0x86DD } else { 0x0800 }, &outer),
        );
        let (src, dst) = if is_v6 {
            (sock6(C6, 51000), sock6(S6, 80))
        } else {
            (sock4(C4, 51000), sock4(S4, 80))
        };
        let Decoded::Tcp(_) = &d else {
            panic!("{name}: expected TCP, got {d:?}");
        };
        expect_seg(&d, src, dst, PAYLOAD);
    }
}

#[test]
fn shims_mpls_and_pppoe() {
    let inner4 = ipv4(6, &tcp(PAYLOAD));
    let mpls = cat(&[&[0, 1, 0x00, 64], &[0, 2, 0x01, 64], &inner4]);
    expect_v4(&decode_once(dlt::EN10MB, &eth(0x8847, &mpls)));
    let pppoe = cat(&[&[0x11, 0, 0, 1, 0, 0], &[0x00, 0x21], &inner4]);
    expect_v4(&decode_once(dlt::EN10MB, &eth(0x8864, &pppoe)));
    // QinQ + MPLS + PPPoE would be unusual; QinQ + GTP-U is the nDPI capture.
    let qinq_gtp = eth_tagged(
        &[0x88A8, 0x8100],
        0x0800,
        &ipv4(17, &udp(2152, 2152, &gtp_u(0x30, &[], &[], &inner4))),
    );
    expect_v4(&decode_once(dlt::EN10MB, &qinq_gtp));
}

#[test]
fn tunnel_nesting_is_bounded() {
    let mut pkt = ipv4(6, &tcp(PAYLOAD));
    for _ in 0..MAX_DEPTH {
        pkt = ipv4(4, &pkt);
    }
    expect_v4(&decode_once(dlt::RAW, &pkt));
    let pkt = ipv4(4, &pkt);
    expect_problem(&decode_once(dlt::RAW, &pkt), WireProblemKind::TooDeep, &[]);
}

#[test]
fn tunnel_headers_cut_or_broken_are_named() {
    let inner4 = ipv4(6, &tcp(PAYLOAD));
    // GTP-U extension with length 0.
    let bad = ipv4(
        17,
        &udp(
            2152,
            2152,
            &gtp_u(0x34, &[0, 0, 0, 0x85], &[0, 0, 0, 0], &inner4),
        ),
    );
    expect_problem(
        &decode_once(dlt::RAW, &bad),
        WireProblemKind::Malformed,
        &["GTP-U extension header", "offset 40"],
    );
    // GRE cut inside its key field.
    let cut = ipv4(47, &[0x20, 0, 0x08, 0x00, 0, 0]);
    expect_problem(
        &decode_once(dlt::RAW, &cut),
        WireProblemKind::Malformed,
        &["GRE header", "offset 20"],
    );
    // Inner IPv4 header cut inside a VXLAN tunnel: offsets count from the packet start.
    let vx = ipv4(
        17,
        &udp(
            1,
            4789,
            &cat(&[&[8, 0, 0, 0, 0, 0, 1, 0], &eth(0x0800, &inner4[..10])]),
        ),
    );
    expect_problem(
        &decode_once(dlt::RAW, &vx),
        WireProblemKind::Malformed,
        &["IPv4 header", "offset 50"],
    );
}

// ------------------------------------------------------------- snap length

#[test]
fn snap_length_cut_payload_keeps_the_announced_length() {
    let big = vec![b'x'; 1000];
    for (name, linktype, frame) in [
        (
            "ethernet ipv4",
            dlt::EN10MB,
            eth(0x0800, &ipv4(6, &tcp_with(PSH_ACK, 3, &big))),
        ),
        (
            "ethernet ipv6",
            dlt::EN10MB,
            eth(0x86DD, &ipv6(6, &tcp_with(PSH_ACK, 3, &big))),
        ),
        (
            "gtp-u",
            dlt::RAW,
            ipv4(
                17,
                &udp(2152, 2152, &gtp_u(0x30, &[], &[], &ipv4(6, &tcp(&big)))),
            ),
        ),
    ] {
        let cut = &frame[..frame.len() - 900];
        let Decoded::Tcp(s) = decode_once(linktype, cut) else {
            panic!("{name}: expected TCP");
        };
        assert_eq!(s.payload.len(), 100, "{name}");
        assert_eq!(s.payload, &big[..100], "{name}");
        assert_eq!(s.wire_payload_len, 1000, "{name}");
    }
}

#[test]
fn snap_length_cut_headers_are_malformed_with_the_layer() {
    let frame = eth(0x0800, &ipv4(6, &tcp_with(PSH_ACK, 3, PAYLOAD)));
    #[rustfmt::skip]
    let table: Vec<(&str, usize, &[&str])> = vec![
        ("ethernet",       10, &["Ethernet header", "offset 0"]),
        ("ipv4 header",    24, &["IPv4 header", "offset 14", "needs 20"]),
        ("tcp fixed part", 44, &["TCP header", "offset 34", "needs 20"]),
        ("tcp options",    60, &["TCP header", "offset 34", "needs 32"]),
    ];
    for (name, len, words) in table {
        let d = decode_once(dlt::EN10MB, &frame[..len]);
        let Decoded::Problem(_) = &d else {
            panic!("{name}: expected a problem, got {d:?}");
        };
        expect_problem(&d, WireProblemKind::Malformed, words);
    }
    expect_problem(
        &decode_once(dlt::LINUX_SLL, &[0; 10]),
        WireProblemKind::Malformed,
        &["SLL", "needs 16"],
    );
    expect_problem(
        &decode_once(dlt::RAW, &[0x50, 0, 0, 0]),
        WireProblemKind::Malformed,
        &["IP version 5"],
    );
}

// ---------------------------------------------------------------- fragments

/// The TCP segment as one datagram payload, cut into IPv4 fragments at the
/// given byte boundaries (multiples of 8).
fn fragments(id: u16, datagram: &[u8], cuts: &[(usize, usize)]) -> Vec<Vec<u8>> {
    cuts.iter()
        .map(|&(start, end)| {
            let more = end < datagram.len();
            eth(
                0x0800,
                &ipv4_full(6, &[], (id, start as u16, more), &datagram[start..end]),
            )
        })
        .collect()
}

fn feed(d: &mut Decoder, frames: &[Vec<u8>], ts: i64) -> Vec<Decoded<'static>> {
    frames
        .iter()
        .map(|f| owned(d.decode(dlt::EN10MB, f, Timestamp(ts))))
        .collect()
}

fn big_segment() -> (Vec<u8>, Vec<u8>) {
    let payload: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
    let datagram = tcp(&payload);
    (payload, datagram)
}

#[test]
fn fragments_in_order_and_out_of_order() {
    let (payload, datagram) = big_segment();
    let n = datagram.len();
    let cuts = [(0, 1480), (1480, 2960), (2960, n)];
    for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0], [2, 0, 1]] {
        let frags = fragments(7, &datagram, &cuts);
        let ordered: Vec<Vec<u8>> = order.iter().map(|&i| frags[i].clone()).collect();
        let mut d = Decoder::default();
        let out = feed(&mut d, &ordered, 0);
        assert_eq!(out[0], Decoded::FragmentHeld, "{order:?}");
        assert_eq!(out[1], Decoded::FragmentHeld, "{order:?}");
        expect_seg(&out[2], sock4(C4, 51000), sock4(S4, 80), &payload);
        assert_eq!(d.fragment_groups_pending(), 0);
        assert_eq!(d.stats().datagrams_reassembled, 1);
    }
}

#[test]
fn overlapping_and_duplicate_fragments_first_bytes_win() {
    let (payload, datagram) = big_segment();
    let n = datagram.len();
    // The second fragment overlaps the first by 16 bytes, with other bytes there.
    let mut forged = datagram.clone();
    for b in &mut forged[1464..1480] {
        *b = 0xEE;
    }
    let frames = vec![
        fragments(9, &datagram, &[(0, 1480)]).remove(0),
        fragments(9, &datagram, &[(0, 1480)]).remove(0), // duplicate
        fragments(9, &forged, &[(1464, 2960)]).remove(0),
        fragments(9, &datagram, &[(2960, n)]).remove(0),
    ];
    let mut d = Decoder::default();
    let out = feed(&mut d, &frames, 0);
    assert_eq!(
        &out[..3],
        &[
            Decoded::FragmentHeld,
            Decoded::FragmentHeld,
            Decoded::FragmentHeld
        ]
    );
    expect_seg(&out[3], sock4(C4, 51000), sock4(S4, 80), &payload);

    // Arbitrary overlaps, including a fragment inside another: no panic, and
    // the datagram completes once covered.
    let frames = vec![
        fragments(10, &datagram, &[(800, 2400)]).remove(0),
        fragments(10, &datagram, &[(1600, 1608)]).remove(0),
        fragments(10, &datagram, &[(2000, n)]).remove(0),
        fragments(10, &datagram, &[(0, 1600)]).remove(0),
    ];
    let out = feed(&mut d, &frames, 0);
    expect_seg(&out[3], sock4(C4, 51000), sock4(S4, 80), &payload);
}

#[test]
fn fragment_limits() {
    let (_, datagram) = big_segment();
    let n = datagram.len();

    // Past the per-datagram byte limit.
    let limits = WireLimits {
        max_fragment_bytes: 2000,
        ..WireLimits::default()
    };
    let mut d = Decoder::new(limits);
    let out = feed(
        &mut d,
        &fragments(1, &datagram, &[(0, 1480), (1480, 2960)]),
        0,
    );
    assert_eq!(out[0], Decoded::FragmentHeld);
    expect_problem(&out[1], WireProblemKind::FragmentsDropped, &["2000"]);
    assert_eq!(d.fragment_groups_pending(), 0);

    // More groups than allowed: the oldest goes.
    let limits = WireLimits {
        max_fragment_groups: 2,
        ..WireLimits::default()
    };
    let mut d = Decoder::new(limits);
    for (id, ts) in [(1, 0), (2, 10)] {
        let out = feed(&mut d, &fragments(id, &datagram, &[(0, 1480)]), ts);
        assert_eq!(out[0], Decoded::FragmentHeld);
    }
    let out = feed(&mut d, &fragments(3, &datagram, &[(0, 1480)]), 20);
    expect_problem(&out[0], WireProblemKind::FragmentsDropped, &["oldest"]);
    assert_eq!(d.fragment_groups_pending(), 2);
    // Group 2 is whole.
    let out = feed(
        &mut d,
        &fragments(2, &datagram, &[(1480, 2960), (2960, n)]),
        30,
    );
    assert!(matches!(out[1], Decoded::Tcp(_)), "{out:?}");
    // Group 1 is gone: its remaining fragments do not complete it.
    let out = feed(
        &mut d,
        &fragments(1, &datagram, &[(1480, 2960), (2960, n)]),
        30,
    );
    assert!(out.iter().all(|o| !matches!(o, Decoded::Tcp(_))), "{out:?}");

    // Timeout.
    let limits = WireLimits {
        fragment_timeout_us: 1_000_000,
        ..WireLimits::default()
    };
    let mut d = Decoder::new(limits);
    let out = feed(&mut d, &fragments(4, &datagram, &[(0, 1480)]), 0);
    assert_eq!(out[0], Decoded::FragmentHeld);
    let out = feed(&mut d, &fragments(5, &datagram, &[(0, 1480)]), 2_000_000);
    expect_problem(
        &out[0],
        WireProblemKind::FragmentsDropped,
        &["1 incomplete"],
    );
    let out = feed(
        &mut d,
        &fragments(4, &datagram, &[(1480, 2960), (2960, n)]),
        2_000_001,
    );
    assert!(out.iter().all(|o| !matches!(o, Decoded::Tcp(_))), "{out:?}");
    assert_eq!(d.stats().fragment_groups_timed_out, 1);

    // Two last fragments that disagree.
    let mut d = Decoder::default();
    let out = feed(
        &mut d,
        &fragments(6, &datagram, &[(0, 1480), (1480, 2960)]),
        0,
    );
    let short = fragments(6, &datagram[..2000], &[(1480, 2000)]);
    let out2 = feed(&mut d, &short, 0);
    assert_eq!(out[0], Decoded::FragmentHeld);
    expect_problem(
        &out2[0],
        WireProblemKind::FragmentsDropped,
        &["past the datagram's end"],
    );

    // A fragment cut by the snap length.
    let mut d = Decoder::default();
    let f = &fragments(8, &datagram, &[(0, 1480)])[0];
    let out = owned(d.decode(dlt::EN10MB, &f[..200], Timestamp(0)));
    expect_problem(&out, WireProblemKind::FragmentsDropped, &["snap length"]);
}

#[test]
fn many_fragment_groups_stay_bounded() {
    let limits = WireLimits {
        max_fragment_groups: 16,
        ..WireLimits::default()
    };
    let mut d = Decoder::new(limits);
    let (_, datagram) = big_segment();
    for id in 0..1000u16 {
        let f = &fragments(id, &datagram, &[(0, 1480)])[0];
        let _ = d.decode(dlt::EN10MB, f, Timestamp(i64::from(id)));
        assert!(d.fragment_groups_pending() <= 16);
    }
}

#[test]
fn ipv6_fragments_reassemble() {
    let (payload, datagram) = big_segment();
    let n = datagram.len();
    let frag = |start: usize, end: usize| {
        let more = end < n;
        let off_flags = (start as u16) | u16::from(more); // offset is in 8-byte units << 3
        let mut fh = vec![6, 0];
        fh.extend_from_slice(&off_flags.to_be_bytes());
        fh.extend_from_slice(&0xDEAD_BEEFu32.to_be_bytes());
        eth(0x86DD, &ipv6(44, &cat(&[&fh, &datagram[start..end]])))
    };
    let frames = vec![frag(1448, n), frag(0, 1448)];
    let mut d = Decoder::default();
    let out = feed(&mut d, &frames, 0);
    assert_eq!(out[0], Decoded::FragmentHeld);
    expect_seg(&out[1], sock6(C6, 51000), sock6(S6, 80), &payload);
}

#[test]
fn fragmented_tunnel_outer_packet_reassembles_then_decapsulates() {
    // GTP-U whose outer IPv4 datagram is fragmented (common on mobile cores).
    let inner = ipv4(6, &tcp(PAYLOAD));
    let udp_dgram = udp(2152, 2152, &gtp_u(0x30, &[], &[], &inner));
    let cut = 24;
    let frames = vec![
        eth(
            0x0800,
            &ipv4_full(17, &[], (77, 0, true), &udp_dgram[..cut]),
        ),
        eth(
            0x0800,
            &ipv4_full(17, &[], (77, cut as u16, false), &udp_dgram[cut..]),
        ),
    ];
    let mut d = Decoder::default();
    let out = feed(&mut d, &frames, 0);
    assert_eq!(out[0], Decoded::FragmentHeld);
    expect_v4(&out[1]);
}

// ------------------------------------------------------------ real captures

fn captures_dir() -> Option<std::path::PathBuf> {
    [
        concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/captures"),
        "/work/shared/captures",
    ]
    .iter()
    .map(std::path::PathBuf::from)
    .find(|p| p.is_dir())
}

/// Every packet of a capture file: (linktype, bytes, ts).
fn read_capture(path: &std::path::Path) -> Vec<(i32, Vec<u8>, Timestamp)> {
    let mut cap = match pcap::Capture::from_file(path) {
        Ok(c) => c,
        Err(e) => panic!("{}: {e}", path.display()),
    };
    let linktype = cap.get_datalink().0;
    let mut packets = Vec::new();
    while let Ok(p) = cap.next_packet() {
        let ts = Timestamp::from_parts(p.header.ts.tv_sec, p.header.ts.tv_usec);
        packets.push((linktype, p.data.to_vec(), ts));
    }
    packets
}

#[test]
fn every_real_capture_decodes_without_malformed() {
    let Some(dir) = captures_dir() else {
        eprintln!("no captures directory; skipped");
        return;
    };
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "pcap" || e == "pcapng"));
    files.sort();
    assert!(!files.is_empty());
    // TCP frames per capture as tshark 4.0 counts them (`tshark -r F -Y tcp`).
    #[rustfmt::skip]
    let tshark_tcp_frames: &[(&str, usize)] = &[
        ("nDPI__false_positives.pcapng", 4),
        ("ndn-tools__ipv6-websocket-segmented.pcap", 13),
        ("suricata-verify__websocket-control-frag.pcap", 15),
        ("suricata-verify__websocket-ping.pcap", 19),
        ("suricata-verify__websocket__basic_websockets.pcap", 21),
        ("websocket_test__websocket.pcap", 16),
        ("zeek__broker-websocket.pcap", 22),
        ("zeek__fragmented-http-reply.pcap", 18),
        ("zeek__jupyter-websocket.pcap", 20),
        ("zeek__message-too-big-status.pcap", 14),
        ("zeek__oversized-close-frame.pcapng", 8),
        ("zeek__reply-ping-coalesced.pcap", 16),
        ("zeek__two-binary-fragments.pcap", 18),
        ("zeek__websocket_compressed.pcap", 15),
        ("zeek__wrong-accept-header.pcap", 12),
        ("zeek__wstunnel-http.pcap", 13),
    ];
    for path in files {
        let mut d = Decoder::default();
        let mut segments = 0;
        for (linktype, data, ts) in read_capture(&path) {
            match d.decode(linktype, &data, ts) {
                Decoded::Tcp(_) => segments += 1,
                Decoded::Problem(p) => {
                    assert!(
                        !matches!(
                            p.kind(),
                            WireProblemKind::Malformed | WireProblemKind::UnsupportedLinkType(_)
                        ),
                        "{}: {}",
                        path.display(),
                        words_of(&p)
                    );
                }
                _ => {}
            }
        }
        assert!(segments > 0, "{}: no TCP segment", path.display());
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if let Some((_, want)) = tshark_tcp_frames.iter().find(|(n, _)| *n == name) {
            assert_eq!(segments, *want, "{name}: TCP segments vs tshark");
        }
    }
}

#[test]
fn ndpi_websocket_inside_gtp_u_inside_qinq() {
    let Some(dir) = captures_dir() else {
        eprintln!("no captures directory; skipped");
        return;
    };
    let packets = read_capture(&dir.join("nDPI__false_positives.pcapng"));
    // tshark: frames 1-4 are eth:vlan:vlan:ip:udp:gtp:ip:tcp, inner stream
    // 10.140.231.26:61202 -> 159.65.12.169:443 (the conns.tsv columns show
    // the outer addresses, 10.134.25.76 -> 10.132.15.176); the rest is
    // other UDP, some of it GTP-U.
    let client = sock4([10, 140, 231, 26], 61202);
    let server = sock4([159, 65, 12, 169], 443);
    let mut d = Decoder::default();
    let mut syn = false;
    let mut segments = 0;
    let mut upgrade = false;
    let mut switching = false;
    for (linktype, data, ts) in &packets {
        assert_eq!(*linktype, dlt::EN10MB);
        if let Decoded::Tcp(s) = d.decode(*linktype, data, *ts) {
            segments += 1;
            let c2s = s.src == client && s.dst == server;
            assert!(c2s || (s.src == server && s.dst == client), "{s:?}");
            syn |= c2s && s.flags.syn() && !s.flags.ack();
            upgrade |= c2s
                && s.payload.starts_with(b"GET ")
                && s.payload
                    .windows(18)
                    .any(|w| w.eq_ignore_ascii_case(b"upgrade: websocket"));
            switching |= !c2s && s.payload.starts_with(b"HTTP/1.1 101");
        }
    }
    assert!(upgrade, "no Upgrade request found");
    assert!(switching, "no 101 response found");
    assert!(syn, "no SYN found");
    assert_eq!(segments, 4);
}

// ------------------------------------------------------------ never panics

const LINK_TYPES: [i32; 13] = [
    dlt::NULL,
    dlt::PPP,
    dlt::PPP_SERIAL,
    dlt::EN10MB,
    dlt::RAW,
    dlt::RAW_OPENBSD,
    dlt::LINKTYPE_RAW,
    dlt::LOOP,
    dlt::LINUX_SLL,
    dlt::IPV4,
    dlt::IPV6,
    dlt::LINUX_SLL2,
    147,
];

/// Valid packets through every layer, for mutation.
fn seeds() -> Vec<(i32, Vec<u8>)> {
    let inner4 = ipv4(6, &tcp(PAYLOAD));
    let inner6 = ipv6(6, &tcp(PAYLOAD));
    let inner_eth = eth(0x0800, &inner4);
    vec![
        (
            dlt::EN10MB,
            eth_tagged(
                &[0x88A8, 0x8100],
                0x0800,
                &ipv4(
                    17,
                    &udp(
                        2152,
                        2152,
                        &gtp_u(0x34, &[0, 0, 0, 0x85], &[1, 0, 0, 0], &inner4),
                    ),
                ),
            ),
        ),
        (
            dlt::EN10MB,
            eth(
                0x0800,
                &ipv4(
                    17,
                    &udp(1, 4789, &cat(&[&[8, 0, 0, 0, 0, 0, 1, 0], &inner_eth])),
                ),
            ),
        ),
        (
            dlt::EN10MB,
            eth(
                0x0800,
                &ipv4(47, &gre([0xF0, 0], 0x6558, &[0; 16], &inner_eth)),
            ),
        ),
        (
            dlt::RAW,
            ipv4(
                41,
                &ipv6(0, &cat(&[&[6, 0, 1, 4, 0, 0, 0, 0], &tcp(PAYLOAD)])),
            ),
        ),
        (dlt::LINUX_SLL2, cat(&[&[0x86, 0xDD], &[0; 18], &inner6])),
        (dlt::EN10MB, eth(0x8847, &cat(&[&[0, 1, 1, 64], &inner4]))),
        (
            dlt::EN10MB,
            eth(0x8864, &cat(&[&[0x11, 0, 0, 1, 0, 0, 0, 0x21], &inner4])),
        ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(
        lt in prop::sample::select(LINK_TYPES.to_vec()),
        bytes in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        let mut d = Decoder::default();
        let _ = d.decode(lt, &bytes, Timestamp(0));
    }

    #[test]
    fn mutated_real_layers_never_panic(
        seed in 0usize..7,
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let (lt, mut bytes) = seeds().swap_remove(seed);
        for (i, b) in flips {
            let at = i.index(bytes.len());
            bytes[at] = b;
        }
        let len = cut.index(bytes.len() + 1);
        let mut d = Decoder::default();
        if let Decoded::Tcp(s) = d.decode(lt, &bytes[..len], Timestamp(0)) {
            prop_assert!(s.payload.len() as u64 <= u64::from(s.wire_payload_len));
        }
    }

    #[test]
    fn random_fragments_never_panic_and_stay_bounded(
        frags in prop::collection::vec(
            (0u16..4, 0u16..8192, any::<bool>(), prop::collection::vec(any::<u8>(), 0..64), 0i64..100_000_000),
            1..60,
        ),
    ) {
        let limits = WireLimits { max_fragment_bytes: 4096, max_fragment_groups: 3, fragment_timeout_us: 10_000_000 };
        let mut d = Decoder::new(limits);
        for (id, off_units, more, data, ts) in frags {
            let off = off_units.wrapping_mul(8) % 8192;
            let pkt = ipv4_full(6, &[], (id, off, more || off == 0), &data);
            let _ = d.decode(dlt::RAW, &pkt, Timestamp(ts));
            prop_assert!(d.fragment_groups_pending() <= 3);
        }
    }
}

#[test]
fn tiny_fragment_floods_are_cut_off() {
    let (_, datagram) = big_segment();
    let mut d = Decoder::default();
    let mut dropped = 0;
    // 8-byte fragments of a datagram larger than the piece bound allows.
    let big: Vec<u8> = datagram.iter().cycle().take(24_000).copied().collect();
    for i in 0..(big.len() / 8 - 1) {
        let f = &fragments(3, &big, &[(i * 8, i * 8 + 8)])[0];
        match d.decode(dlt::EN10MB, f, Timestamp(0)) {
            Decoded::FragmentHeld => {}
            Decoded::Problem(p) => {
                assert_eq!(p.kind(), WireProblemKind::FragmentsDropped);
                assert!(words_of(&p).contains("fragments"), "{}", words_of(&p));
                dropped += 1;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(dropped >= 1);
    assert!(d.fragment_groups_pending() <= 1);
}

#[test]
fn empty_last_fragment_sets_the_end() {
    // 20-byte TCP header + 3004 bytes = 3024, a multiple of 8.
    let payload: Vec<u8> = (0..3004u32).map(|i| (i % 253) as u8).collect();
    let datagram = tcp(&payload);
    let n = datagram.len();
    assert_eq!(n % 8, 0);
    let frames = vec![
        eth(0x0800, &ipv4_full(6, &[], (5, 0, true), &datagram[..1480])),
        eth(
            0x0800,
            &ipv4_full(6, &[], (5, 1480, true), &datagram[1480..]),
        ),
        // No bytes, MF=0, right at the end: says where the datagram ends.
        eth(0x0800, &ipv4_full(6, &[], (5, n as u16, false), &[])),
    ];
    let mut d = Decoder::default();
    let out = feed(&mut d, &frames, 0);
    assert_eq!(&out[..2], &[Decoded::FragmentHeld, Decoded::FragmentHeld]);
    expect_seg(&out[2], sock4(C4, 51000), sock4(S4, 80), &payload);
}
