//! Flow-table scenarios, tshark's numbering on crafted and real captures, and
//! the event-order invariants under random input.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};

use proptest::prelude::*;

use super::*;
use crate::types::Timestamp;

/// Stand-in for the wire layer's view, with its field names, until it is merged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct TcpFlags(u8);

impl TcpFlags {
    const FIN: u8 = 0x01;
    const SYN: u8 = 0x02;
    const RST: u8 = 0x04;
    const PSH: u8 = 0x08;
    const ACK: u8 = 0x10;

    /// "SA" = SYN+ACK, "FA" = FIN+ACK, "R", "PA", ...
    fn parse(s: &str) -> TcpFlags {
        TcpFlags(s.bytes().fold(0, |f, c| {
            f | match c {
                b'F' => Self::FIN,
                b'S' => Self::SYN,
                b'R' => Self::RST,
                b'P' => Self::PSH,
                b'A' => Self::ACK,
                _ => 0,
            }
        }))
    }

    fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }
}

#[derive(Clone, Copy, Debug)]
struct TcpSegment<'a> {
    src: SocketAddr,
    dst: SocketAddr,
    seq: u32,
    ack: u32,
    flags: TcpFlags,
    #[allow(dead_code)]
    window: u16,
    payload: &'a [u8],
    wire_payload_len: u32,
}

impl<'a> TcpSegment<'a> {
    /// What the lead's conversion will do.
    fn info(&self) -> SegmentInfo<'a> {
        SegmentInfo {
            src: self.src,
            dst: self.dst,
            seq: self.seq,
            ack: self.ack,
            syn: self.flags.has(TcpFlags::SYN),
            ack_flag: self.flags.has(TcpFlags::ACK),
            fin: self.flags.has(TcpFlags::FIN),
            rst: self.flags.has(TcpFlags::RST),
            payload: self.payload,
            wire_payload_len: self.wire_payload_len,
        }
    }
}

/// Events as short strings, easy to compare and to read in a failure.
fn show(e: &TcpEvent<'_>) -> String {
    match e {
        TcpEvent::Open {
            conn,
            client,
            server,
            mid_stream,
        } => format!(
            "{conn} open {client} {server}{}",
            if *mid_stream { " mid" } else { "" }
        ),
        TcpEvent::Handshake {
            conn,
            dir,
            step,
            rtt_ms,
            retransmission,
        } => {
            let step = match step {
                HandshakeStep::Syn => "syn",
                HandshakeStep::SynAck => "syn_ack",
                HandshakeStep::Ack => "ack",
            };
            let mut s = format!("{conn} {dir} {step}");
            if let Some(r) = rtt_ms {
                s += &format!(" rtt={r}");
            }
            if *retransmission {
                s += " retrans";
            }
            s
        }
        TcpEvent::Data { conn, dir, bytes } => {
            format!("{conn} {dir} data {}", String::from_utf8_lossy(bytes))
        }
        TcpEvent::Gap { conn, dir, bytes } => format!("{conn} {dir} gap {bytes}"),
        TcpEvent::Teardown {
            conn,
            dir,
            how,
            step,
        } => match (how, step) {
            (TeardownHow::Rst, _) => format!("{conn} {dir} rst"),
            (TeardownHow::Fin, Some(TeardownStep::Ack)) => format!("{conn} {dir} fin-ack"),
            (TeardownHow::Fin, _) => format!("{conn} {dir} fin"),
        },
        TcpEvent::Closed { conn, reason } => format!("{conn} closed {}", reason.as_str()),
        TcpEvent::Warning { conn, .. } => format!("{conn} warning"),
    }
}

const CLIENT: &str = "10.0.0.1:40000";
const SERVER: &str = "10.0.0.2:80";

fn sa(s: &str) -> SocketAddr {
    s.parse().expect("test address")
}

/// A scripted capture between CLIENT and SERVER (or any pair).
struct Script {
    table: FlowTable,
    pkt: u64,
    events: Vec<String>,
}

impl Script {
    fn new() -> Script {
        Script::with(TcpConfig::default())
    }

    fn with(cfg: TcpConfig) -> Script {
        Script {
            table: FlowTable::new(cfg),
            pkt: 0,
            events: Vec::new(),
        }
    }

    /// Feed one segment at `ms` milliseconds; returns its conn.
    #[allow(clippy::too_many_arguments)]
    fn seg(
        &mut self,
        ms: i64,
        src: &str,
        dst: &str,
        seq: u32,
        ack: u32,
        flags: &str,
        data: &str,
    ) -> u64 {
        self.pkt += 1;
        let s = TcpSegment {
            src: sa(src),
            dst: sa(dst),
            seq,
            ack,
            flags: TcpFlags::parse(flags),
            window: 65535,
            payload: data.as_bytes(),
            wire_payload_len: data.len() as u32,
        };
        let events = &mut self.events;
        self.table
            .segment(self.pkt, Timestamp(ms * 1000), &s.info(), &mut |e| {
                events.push(show(&e))
            })
    }

    fn c(&mut self, ms: i64, seq: u32, ack: u32, flags: &str, data: &str) -> u64 {
        self.seg(ms, CLIENT, SERVER, seq, ack, flags, data)
    }

    fn s(&mut self, ms: i64, seq: u32, ack: u32, flags: &str, data: &str) -> u64 {
        self.seg(ms, SERVER, CLIENT, seq, ack, flags, data)
    }

    fn take(&mut self) -> Vec<String> {
        std::mem::take(&mut self.events)
    }

    fn finish(&mut self) -> Vec<String> {
        let events = &mut self.events;
        self.table.finish(&mut |e| events.push(show(&e)));
        self.take()
    }
}

/// Client ISN 1000, server ISN 5000; handshake at 0, 10 and 30 ms.
fn handshake(t: &mut Script) {
    t.c(0, 1000, 0, "S", "");
    t.s(10, 5000, 1001, "SA", "");
    t.c(30, 1001, 5001, "A", "");
}

#[test]
fn three_way_handshake_with_rtt() {
    let mut t = Script::new();
    handshake(&mut t);
    assert_eq!(
        t.take(),
        [
            "0 open 10.0.0.1:40000 10.0.0.2:80",
            "0 c2s syn",
            "0 s2c syn_ack",
            "0 c2s ack rtt=30",
        ]
    );
    t.c(40, 1001, 5001, "PA", "GET /");
    t.s(50, 5001, 1006, "PA", "200");
    assert_eq!(t.take(), ["0 c2s data GET /", "0 s2c data 200"]);
    assert_eq!(t.finish(), ["0 closed end_of_capture"]);
}

#[test]
fn syn_and_syn_ack_retransmissions() {
    let mut t = Script::new();
    t.c(0, 1000, 0, "S", "");
    t.c(1000, 1000, 0, "S", "");
    t.s(1010, 5000, 1001, "SA", "");
    t.s(2010, 5000, 1001, "SA", "");
    t.c(2020, 1001, 5001, "A", "");
    // A later duplicate ACK is not a second handshake step.
    t.c(2030, 1001, 5001, "A", "");
    assert_eq!(
        t.take(),
        [
            "0 open 10.0.0.1:40000 10.0.0.2:80",
            "0 c2s syn",
            "0 c2s syn retrans",
            "0 s2c syn_ack",
            "0 s2c syn_ack retrans",
            // Measured from the first SYN, like tshark's iRTT.
            "0 c2s ack rtt=2020",
        ]
    );
    assert_eq!(t.table.conns_seen(), 1);
}

#[test]
fn fin_fin_ack_closes_and_late_packets_stay_in_the_conn() {
    let mut t = Script::new();
    handshake(&mut t);
    t.c(40, 1001, 5001, "PA", "hi");
    t.take();
    t.c(50, 1003, 5001, "FA", "");
    t.s(60, 5001, 1004, "A", "");
    t.s(70, 5001, 1004, "FA", "");
    t.c(80, 1004, 5002, "A", "");
    assert_eq!(
        t.take(),
        [
            "0 c2s fin",
            "0 s2c fin-ack",
            "0 s2c fin",
            "0 c2s fin-ack",
            "0 closed fin",
        ]
    );
    // A retransmitted final ACK: same stream for tshark, nothing more for us.
    assert_eq!(t.c(90, 1004, 5002, "A", ""), 0);
    assert_eq!(t.take(), Vec::<String>::new());
    assert_eq!(t.table.late_packets(), 1);
    assert_eq!(t.finish(), Vec::<String>::new());
}

#[test]
fn fin_ack_in_one_segment_and_data_on_the_fin() {
    let mut t = Script::new();
    handshake(&mut t);
    t.take();
    t.c(40, 1001, 5001, "FPA", "bye");
    // The server acknowledges the FIN and sends its own in one segment.
    t.s(50, 5001, 1005, "FA", "");
    t.c(60, 1005, 5002, "A", "");
    assert_eq!(
        t.take(),
        [
            "0 c2s data bye",
            "0 c2s fin",
            "0 s2c fin-ack",
            "0 s2c fin",
            "0 c2s fin-ack",
            "0 closed fin",
        ]
    );
}

#[test]
fn rst_closes_and_flushes_what_is_held() {
    let mut t = Script::new();
    handshake(&mut t);
    t.take();
    t.c(40, 1001, 5001, "PA", "ab");
    // "ef" arrives ahead of a lost "cd".
    t.c(50, 1005, 5001, "PA", "ef");
    t.s(60, 5001, 1003, "R", "");
    assert_eq!(
        t.take(),
        [
            "0 c2s data ab",
            "0 s2c rst",
            "0 c2s gap 2",
            "0 c2s data ef",
            "0 closed rst",
        ]
    );
    // The peer's answer to the RST belongs to the ended connection.
    assert_eq!(t.c(70, 1007, 5001, "A", ""), 0);
    assert_eq!(t.take(), Vec::<String>::new());
}

#[test]
fn half_close_lets_the_other_side_keep_sending() {
    let mut t = Script::new();
    handshake(&mut t);
    t.take();
    t.c(40, 1001, 5001, "FA", "");
    t.s(50, 5001, 1002, "A", "");
    t.s(60, 5001, 1002, "PA", "still");
    t.s(70, 5006, 1002, "PA", " here");
    t.c(80, 1002, 5011, "A", "");
    t.s(90, 5011, 1002, "FA", "");
    t.c(100, 1002, 5012, "A", "");
    assert_eq!(
        t.take(),
        [
            "0 c2s fin",
            "0 s2c fin-ack",
            "0 s2c data still",
            "0 s2c data  here",
            "0 s2c fin",
            "0 c2s fin-ack",
            "0 closed fin",
        ]
    );
}

#[test]
fn missing_bytes_before_a_fin_are_a_gap_at_close() {
    let mut t = Script::new();
    handshake(&mut t);
    t.take();
    t.c(40, 1001, 5001, "PA", "ab");
    // Bytes 1003..1006 never captured; the FIN says where the stream ends.
    t.c(50, 1006, 5001, "FA", "");
    t.s(60, 5001, 1007, "FA", "");
    t.c(70, 1007, 5002, "A", "");
    assert_eq!(
        t.take(),
        [
            "0 c2s data ab",
            "0 c2s fin",
            "0 s2c fin-ack",
            "0 s2c fin",
            "0 c2s fin-ack",
            "0 c2s gap 3",
            "0 closed fin",
        ]
    );
}

#[test]
fn an_ack_past_a_hole_declares_it_at_that_packet() {
    let mut t = Script::new();
    handshake(&mut t);
    t.take();
    t.c(40, 1001, 5001, "PA", "ab");
    // "cd" (1003..1005) was lost from the capture; "ef" is held behind it.
    t.c(50, 1005, 5001, "PA", "ef");
    assert_eq!(t.take(), ["0 c2s data ab"]);
    // The server has it all: the gap and what follows come out now, before
    // the server's own data.
    t.s(60, 5001, 1007, "PA", "xy");
    assert_eq!(t.take(), ["0 c2s gap 2", "0 c2s data ef", "0 s2c data xy"]);
    // A late copy of the lost bytes is old; the stream goes on.
    t.c(70, 1003, 5003, "PA", "cd");
    t.c(71, 1007, 5003, "PA", "g");
    assert_eq!(t.take(), ["0 c2s data g"]);
    // Duplicate acks change nothing.
    t.s(80, 5003, 1007, "A", "");
    t.s(81, 5003, 1008, "A", "");
    assert_eq!(t.take(), Vec::<String>::new());
}

#[test]
fn an_ack_inside_a_hole_declares_only_its_part() {
    let mut t = Script::new();
    handshake(&mut t);
    t.take();
    t.c(40, 1001, 5001, "PA", "a");
    t.c(50, 1008, 5001, "PA", "hi");
    assert_eq!(t.take(), ["0 c2s data a"]);
    t.s(60, 5001, 1004, "A", "");
    assert_eq!(t.take(), ["0 c2s gap 2"]);
    t.c(70, 1004, 5001, "PA", "defg");
    assert_eq!(t.take(), ["0 c2s data defg", "0 c2s data hi"]);
}

#[test]
fn the_ack_of_a_fin_releases_what_was_held_before_it() {
    let mut t = Script::new();
    handshake(&mut t);
    t.take();
    t.c(40, 1001, 5001, "PA", "ab");
    t.c(50, 1005, 5001, "PA", "ef");
    t.c(60, 1007, 5001, "FA", "");
    assert_eq!(t.take(), ["0 c2s data ab", "0 c2s fin"]);
    // The ACK of the FIN (1008: the FIN takes one number) proves "cd" was
    // sent; nothing is missing after "ef".
    t.s(70, 5001, 1008, "A", "");
    assert_eq!(t.take(), ["0 c2s gap 2", "0 c2s data ef", "0 s2c fin-ack"]);
    t.s(80, 5001, 1008, "FA", "");
    t.c(90, 1008, 5002, "A", "");
    assert_eq!(t.take(), ["0 s2c fin", "0 c2s fin-ack", "0 closed fin"]);
}

#[test]
fn mid_stream_acks_count_once_the_stream_is_placed() {
    let mut t = Script::new();
    // The client's ack comes before any server data: it cannot be placed.
    t.seg(0, "10.0.0.1:51000", "10.0.0.2:443", 300, 7100, "A", "");
    t.seg(1, "10.0.0.2:443", "10.0.0.1:51000", 7000, 300, "PA", "abc");
    t.seg(2, "10.0.0.2:443", "10.0.0.1:51000", 7005, 300, "PA", "fg");
    t.take();
    t.seg(3, "10.0.0.1:51000", "10.0.0.2:443", 300, 7007, "A", "");
    assert_eq!(t.take(), ["0 s2c gap 2", "0 s2c data fg"]);
}

#[test]
fn a_hole_older_than_the_timeout_is_declared_by_expire() {
    let mut t = Script::with(TcpConfig {
        hole_timeout_us: 1_000_000,
        ..TcpConfig::default()
    });
    handshake(&mut t);
    t.c(40, 1001, 5001, "PA", "ab");
    t.c(50, 1005, 5001, "PA", "ef");
    t.s(60, 5001, 1003, "PA", "xy");
    t.take();
    let events = &mut t.events;
    t.table
        .expire(Timestamp(1_050_000), &mut |e| events.push(show(&e)));
    assert_eq!(t.take(), Vec::<String>::new());
    let events = &mut t.events;
    t.table
        .expire(Timestamp(1_050_001), &mut |e| events.push(show(&e)));
    // Declared and released; the connection stays open.
    assert_eq!(t.take(), ["0 c2s gap 2", "0 c2s data ef"]);
    t.c(1100, 1007, 5003, "PA", "g");
    assert_eq!(t.take(), ["0 c2s data g"]);
    assert_eq!(t.finish(), ["0 closed end_of_capture"]);
}

#[test]
fn mid_stream_roles_are_guessed() {
    let mut t = Script::new();
    // First packet is the server's data: the client is the ephemeral side.
    t.seg(0, "10.0.0.2:443", "10.0.0.1:51000", 7000, 300, "PA", "srv");
    t.seg(1, "10.0.0.1:51000", "10.0.0.2:443", 300, 7003, "PA", "cli");
    assert_eq!(
        t.take(),
        [
            "0 open 10.0.0.1:51000 10.0.0.2:443 mid",
            "0 s2c data srv",
            "0 c2s data cli",
        ]
    );
    // First packet a SYN-ACK: its receiver is the client.
    t.seg(2, "10.0.0.9:5555", "10.0.0.8:6666", 900, 101, "SA", "");
    t.seg(3, "10.0.0.8:6666", "10.0.0.9:5555", 101, 901, "A", "");
    t.seg(4, "10.0.0.8:6666", "10.0.0.9:5555", 101, 901, "PA", "x");
    assert_eq!(
        t.take(),
        [
            "1 open 10.0.0.8:6666 10.0.0.9:5555 mid",
            "1 s2c syn_ack",
            "1 c2s ack",
            "1 c2s data x",
        ]
    );
    // Nothing to go by: the first packet's destination is the server.
    t.seg(5, "10.0.0.5:2000", "10.0.0.6:3000", 1, 1, "A", "");
    t.seg(6, "10.0.0.5:2001", "10.0.0.6:2002", 1, 1, "A", "");
    assert_eq!(
        t.take(),
        [
            "2 open 10.0.0.5:2000 10.0.0.6:3000 mid",
            "3 open 10.0.0.5:2001 10.0.0.6:2002 mid",
        ]
    );
}

#[test]
fn port_reuse_starts_a_new_conn() {
    let mut t = Script::new();
    handshake(&mut t);
    t.c(40, 1001, 5001, "FA", "");
    t.s(50, 5001, 1002, "FA", "");
    t.c(60, 1002, 5002, "A", "");
    t.take();
    // The same ISN again is the old connection's SYN retransmitted.
    assert_eq!(t.c(70, 1000, 0, "S", ""), 0);
    assert_eq!(t.take(), Vec::<String>::new());
    // A new ISN is a new connection.
    assert_eq!(t.c(80, 90000, 0, "S", ""), 1);
    assert_eq!(t.s(90, 123, 90001, "SA", ""), 1);
    assert_eq!(t.c(100, 90001, 124, "PA", "again"), 1);
    assert_eq!(
        t.take(),
        [
            "1 open 10.0.0.1:40000 10.0.0.2:80",
            "1 c2s syn",
            "1 s2c syn_ack",
            "1 c2s ack rtt=20",
            "1 c2s data again",
        ]
    );
}

#[test]
fn a_new_syn_on_an_open_conn_ends_it() {
    let mut t = Script::new();
    handshake(&mut t);
    t.c(40, 1001, 5001, "PA", "a");
    t.take();
    assert_eq!(t.c(50, 777, 0, "S", ""), 1);
    assert_eq!(
        t.take(),
        [
            "0 closed port_reused",
            "1 open 10.0.0.1:40000 10.0.0.2:80",
            "1 c2s syn",
        ]
    );
}

#[test]
fn simultaneous_open() {
    let mut t = Script::new();
    t.c(0, 1000, 0, "S", "");
    t.s(1, 5000, 0, "S", "");
    t.c(2, 1000, 5001, "SA", "");
    t.s(3, 5000, 1001, "SA", "");
    t.c(4, 1001, 5001, "PA", "x");
    t.s(5, 5001, 1002, "PA", "y");
    assert_eq!(
        t.take(),
        [
            "0 open 10.0.0.1:40000 10.0.0.2:80",
            "0 c2s syn",
            "0 s2c syn",
            "0 c2s syn_ack",
            "0 s2c syn_ack",
            "0 c2s ack rtt=4",
            "0 c2s data x",
            "0 s2c data y",
        ]
    );
}

#[test]
fn data_on_the_syn_and_truncated_payloads() {
    let mut t = Script::new();
    t.c(0, 1000, 0, "S", "tfo");
    t.s(1, 5000, 1004, "SA", "");
    t.c(2, 1004, 5001, "A", "");
    t.take();
    // 3 bytes captured of 10 on the wire.
    let payload = b"abc";
    let s = TcpSegment {
        src: sa(SERVER),
        dst: sa(CLIENT),
        seq: 5001,
        ack: 1004,
        flags: TcpFlags::parse("PA"),
        window: 100,
        payload,
        wire_payload_len: 10,
    };
    let events = &mut t.events;
    t.table.segment(4, Timestamp(3000), &s.info(), &mut |e| {
        events.push(show(&e))
    });
    t.s(4, 5011, 1004, "PA", "next");
    assert_eq!(
        t.take(),
        ["0 s2c data abc", "0 s2c gap 7", "0 s2c data next"]
    );
    t.c(5, 1004, 5015, "PA", "q");
    let mut t2 = Script::new();
    t2.c(0, 1000, 0, "S", "tfo");
    assert_eq!(
        t2.take(),
        [
            "0 open 10.0.0.1:40000 10.0.0.2:80",
            "0 c2s syn",
            "0 c2s data tfo"
        ]
    );
}

#[test]
fn buffer_bound_warns_once_and_resumes() {
    let mut t = Script::with(TcpConfig {
        max_buffered_per_direction: 4,
        ..TcpConfig::default()
    });
    handshake(&mut t);
    t.take();
    t.c(40, 1003, 5001, "PA", "cd");
    t.c(41, 1005, 5001, "PA", "efg");
    t.c(42, 1010, 5001, "PA", "jk");
    t.c(43, 1012, 5001, "PA", "lmnop");
    assert_eq!(
        t.take(),
        [
            "0 c2s gap 2",
            "0 c2s data cd",
            "0 c2s data efg",
            "0 warning",
            "0 c2s gap 2",
            "0 c2s data jk",
            "0 c2s data lmnop",
        ]
    );
}

#[test]
fn eviction_when_the_table_is_full() {
    let mut t = Script::with(TcpConfig {
        max_flows: 2,
        ..TcpConfig::default()
    });
    t.seg(0, "10.0.0.1:40001", SERVER, 1, 0, "S", "");
    t.seg(1, "10.0.0.1:40002", SERVER, 1, 0, "S", "");
    // Touch the first so that the second is the least recently used.
    t.seg(2, "10.0.0.1:40001", SERVER, 2, 0, "PA", "z");
    t.seg(3, "10.0.0.1:40003", SERVER, 1, 0, "S", "");
    let ev = t.take();
    assert_eq!(
        ev[ev.len() - 5..],
        [
            "0 c2s data z",
            "1 warning",
            "1 closed evicted",
            "2 open 10.0.0.1:40003 10.0.0.2:80",
            "2 c2s syn",
        ]
    );
    assert_eq!(t.table.open_flows(), 2);
    assert_eq!(
        t.finish(),
        ["0 closed end_of_capture", "2 closed end_of_capture"]
    );
}

#[test]
fn idle_expiry_in_conn_order() {
    let mut t = Script::with(TcpConfig {
        idle_timeout_us: 1_000_000,
        ..TcpConfig::default()
    });
    t.seg(0, "10.0.0.1:40001", SERVER, 1, 0, "S", "");
    t.seg(100, "10.0.0.1:40002", SERVER, 1, 0, "S", "");
    t.seg(900, "10.0.0.1:40003", SERVER, 1, 0, "S", "");
    t.seg(1000, "10.0.0.1:40001", SERVER, 2, 0, "PA", "held?");
    t.take();
    // Not idle long enough yet.
    let events = &mut t.events;
    t.table
        .expire(Timestamp(1_050_000), &mut |e| events.push(show(&e)));
    assert_eq!(t.take(), Vec::<String>::new());
    let events = &mut t.events;
    t.table
        .expire(Timestamp(1_950_000), &mut |e| events.push(show(&e)));
    assert_eq!(t.take(), ["1 closed idle", "2 closed idle"]);
    // An expired 4-tuple seen again is a new, mid-stream connection.
    assert_eq!(t.seg(2000, "10.0.0.1:40002", SERVER, 9, 0, "PA", "x"), 3);
    t.take();
    assert_eq!(t.finish()[0], "0 closed end_of_capture");
}

/// tshark 4.0.17's `tcp.stream` for crafted captures (client 10.0.0.1:40000,
/// server 10.0.0.2:80), one expected stream per packet.
#[test]
fn numbering_matches_tshark_on_crafted_captures() {
    type P = (bool, u32, u32, &'static str, &'static str);
    let hs: [P; 3] = [
        (true, 100, 0, "S", ""),
        (false, 500, 101, "SA", ""),
        (true, 101, 501, "A", ""),
    ];
    let with_hs = |rest: &[P]| -> Vec<P> { hs.iter().chain(rest).copied().collect() };
    let cases: Vec<(&str, Vec<P>, Vec<u64>)> = vec![
        (
            "new ISN, no FIN",
            with_hs(&[(true, 101, 501, "PA", "hi"), (true, 9000, 0, "S", "")]),
            vec![0, 0, 0, 0, 1],
        ),
        (
            "new ISN after one FIN",
            with_hs(&[(true, 101, 501, "FA", ""), (true, 9000, 0, "S", "")]),
            vec![0, 0, 0, 0, 1],
        ),
        (
            "same ISN after RST",
            with_hs(&[(true, 101, 501, "R", ""), (true, 100, 0, "S", "")]),
            vec![0, 0, 0, 0, 0],
        ),
        (
            "mid-stream then SYN",
            vec![(true, 101, 501, "PA", "hi"), (true, 9000, 0, "S", "")],
            vec![0, 1],
        ),
        (
            "new ISN after RST",
            with_hs(&[(true, 101, 501, "R", ""), (true, 9000, 0, "S", "")]),
            vec![0, 0, 0, 0, 1],
        ),
        (
            "server FIN, new ISN",
            with_hs(&[(false, 501, 101, "FA", ""), (true, 9000, 0, "S", "")]),
            vec![0, 0, 0, 0, 1],
        ),
        (
            "both FINs, same ISN",
            with_hs(&[
                (true, 101, 501, "FA", ""),
                (false, 501, 102, "FA", ""),
                (true, 102, 502, "A", ""),
                (true, 100, 0, "S", ""),
            ]),
            vec![0, 0, 0, 0, 0, 0, 0],
        ),
        (
            "RST, late ACK, new handshake",
            with_hs(&[
                (true, 101, 501, "R", ""),
                (false, 501, 101, "A", ""),
                (true, 9000, 0, "S", ""),
                (false, 7000, 9001, "SA", ""),
            ]),
            vec![0, 0, 0, 0, 0, 1, 1],
        ),
        (
            "two SYNs",
            vec![(true, 100, 0, "S", ""), (true, 9000, 0, "S", "")],
            vec![0, 1],
        ),
        (
            "SYN-ACK first",
            vec![(false, 500, 101, "SA", ""), (true, 9000, 0, "S", "")],
            vec![0, 1],
        ),
        (
            "data seq-1 is the base",
            vec![(true, 101, 501, "PA", "hi"), (true, 100, 0, "S", "")],
            vec![0, 0],
        ),
        (
            "data seq is not",
            vec![(true, 101, 501, "PA", "hi"), (true, 101, 0, "S", "")],
            vec![0, 1],
        ),
        (
            "SYN retransmitted",
            vec![(true, 100, 0, "S", ""), (true, 100, 0, "S", "")],
            vec![0, 0],
        ),
        (
            "refused, SYN again",
            vec![
                (true, 100, 0, "S", ""),
                (false, 0, 101, "RA", ""),
                (true, 100, 0, "S", ""),
            ],
            vec![0, 0, 0],
        ),
        (
            "base from the peer's ACK",
            vec![(false, 700, 500, "A", ""), (true, 500, 0, "S", "")],
            vec![0, 1],
        ),
        (
            "base from the peer's ACK, same",
            vec![(false, 700, 500, "A", ""), (true, 499, 0, "S", "")],
            vec![0, 0],
        ),
        (
            "no ACK flag, no base",
            vec![(false, 700, 500, "P", "x"), (true, 499, 0, "S", "")],
            vec![0, 0],
        ),
        (
            "server SYN, new ISN",
            with_hs(&[(false, 7000, 0, "S", "")]),
            vec![0, 0, 0, 1],
        ),
        (
            "server SYN, same ISN",
            with_hs(&[(false, 500, 0, "S", "")]),
            vec![0, 0, 0, 0],
        ),
        (
            "SYN-ACK with a new ISN",
            with_hs(&[(false, 7000, 101, "SA", "")]),
            vec![0, 0, 0, 0],
        ),
        (
            "RST first, SYN at its ack-1",
            vec![(false, 0, 101, "RA", ""), (true, 100, 0, "S", "")],
            vec![0, 0],
        ),
        (
            "RST first, SYN elsewhere",
            vec![(false, 0, 101, "RA", ""), (true, 101, 0, "S", "")],
            vec![0, 1],
        ),
    ];
    for (name, pkts, want) in cases {
        let mut t = Script::new();
        let got: Vec<u64> = pkts
            .iter()
            .enumerate()
            .map(|(i, &(from_client, seq, ack, flags, data))| {
                let (src, dst) = if from_client {
                    (CLIENT, SERVER)
                } else {
                    (SERVER, CLIENT)
                };
                t.seg(i as i64, src, dst, seq, ack, flags, data)
            })
            .collect();
        assert_eq!(got, want, "{name}");
        let events = t.finish();
        check_invariants(&events);
    }
}

/// Every conn: `open` first, exactly one `closed`, last.
fn check_invariants(events: &[String]) {
    let mut state: BTreeMap<&str, (bool, bool)> = BTreeMap::new();
    for e in events {
        let (conn, rest) = e.split_once(' ').unwrap_or((e, ""));
        let st = state.entry(conn).or_insert((false, false));
        assert!(!st.1, "event after closed: {e}");
        if rest.starts_with("open") {
            assert!(!st.0, "second open: {e}");
            st.0 = true;
        } else {
            assert!(st.0, "event before open: {e}");
        }
        if rest.starts_with("closed") {
            st.1 = true;
        }
    }
    for (conn, (_, closed)) in state {
        assert!(closed, "conn {conn} never closed");
    }
}

proptest! {
    /// Random segments over a few 4-tuples: no panic, and the event order holds.
    #[test]
    fn random_segments_keep_event_order(
        segs in proptest::collection::vec(
            (0usize..3, any::<bool>(), 0u32..40, 0u32..40, 0u8..32, 0usize..6, 0u32..8),
            0..80,
        ),
        max_flows in 1usize..4,
        max_buf in 0usize..8,
    ) {
        let mut t = Script::with(TcpConfig {
            max_buffered_per_direction: max_buf,
            max_flows,
            idle_timeout_us: 5_000,
            hole_timeout_us: 3_000,
        });
        let data = "abcdef";
        for (i, (tuple, from_client, seq, ack, flags, len, extra)) in segs.into_iter().enumerate() {
            let client = ["10.0.0.1:40000", "10.0.0.1:40001", "[::1]:5000"][tuple];
            let server = ["10.0.0.2:80", "10.0.0.2:80", "[::2]:443"][tuple];
            let (src, dst) = if from_client { (client, server) } else { (server, client) };
            t.pkt += 1;
            let s = TcpSegment {
                src: sa(src),
                dst: sa(dst),
                seq: seq.wrapping_add(u32::MAX - 20),
                // In the same range as the seqs, so that acks past holes occur.
                ack: ack.wrapping_add(u32::MAX - 20),
                flags: TcpFlags(flags & 0x1f),
                window: 0,
                payload: &data.as_bytes()[..len],
                wire_payload_len: len as u32 + extra,
            };
            let events = &mut t.events;
            t.table.segment(t.pkt, Timestamp(i as i64 * 1000), &s.info(), &mut |e| events.push(show(&e)));
            if i % 7 == 6 {
                t.table.expire(Timestamp(i as i64 * 1000), &mut |e| events.push(show(&e)));
            }
        }
        let events = t.finish();
        prop_assert!(!events.is_empty() || t.pkt == 0);
        check_invariants(&events);
    }
}

// ---- tshark's tcp.stream on the real captures ----

/// Decode a captured frame down to its TCP segment (tests only).
fn decode<'a>(
    linktype: i32,
    frame: &'a [u8],
) -> Option<(IpAddr, IpAddr, etherparse::TcpSlice<'a>)> {
    use etherparse::SlicedPacket;
    let sliced = match linktype {
        1 => SlicedPacket::from_ethernet(frame).ok()?,
        // etherparse's SLL reader refuses loopback's ARPHRD (772); the protocol
        // field is enough here.
        113 => match frame.get(14..16)? {
            [0x08, 0x00] | [0x86, 0xdd] => SlicedPacket::from_ip(frame.get(16..)?).ok()?,
            _ => SlicedPacket::from_linux_sll(frame).ok()?,
        },
        0 | 108 => SlicedPacket::from_ip(frame.get(4..)?).ok()?,
        276 => SlicedPacket::from_ip(frame.get(20..)?).ok()?,
        12 | 14 | 101 | 228 | 229 => SlicedPacket::from_ip(frame).ok()?,
        _ => return None,
    };
    from_sliced(sliced)
}

fn from_sliced(
    sliced: etherparse::SlicedPacket<'_>,
) -> Option<(IpAddr, IpAddr, etherparse::TcpSlice<'_>)> {
    use etherparse::{NetSlice, SlicedPacket, TransportSlice};
    let (src, dst) = match &sliced.net {
        Some(NetSlice::Ipv4(ip)) => (
            IpAddr::V4(ip.header().source_addr()),
            IpAddr::V4(ip.header().destination_addr()),
        ),
        Some(NetSlice::Ipv6(ip)) => (
            IpAddr::V6(ip.header().source_addr()),
            IpAddr::V6(ip.header().destination_addr()),
        ),
        _ => return None,
    };
    match sliced.transport {
        Some(TransportSlice::Tcp(tcp)) => Some((src, dst, tcp)),
        // GTP-U (3GPP TS 29.281): an 8-byte header, 4 more when any of E/S/PN
        // is set, then extension headers while E says so.
        Some(TransportSlice::Udp(udp))
            if udp.destination_port() == 2152 || udp.source_port() == 2152 =>
        {
            let g = udp.payload();
            let flags = *g.first()?;
            let mut off = if flags & 0x07 != 0 { 12 } else { 8 };
            if flags & 0x04 != 0 {
                let mut next = *g.get(11)?;
                while next != 0 {
                    let len = usize::from(*g.get(off)?) * 4;
                    if len == 0 {
                        return None;
                    }
                    next = *g.get(off + len - 1)?;
                    off += len;
                }
            }
            from_sliced(SlicedPacket::from_ip(g.get(off..)?).ok()?)
        }
        _ => None,
    }
}

#[test]
fn numbering_matches_tshark_on_real_captures() {
    let dir = std::path::Path::new("/work/shared/captures");
    let Ok(entries) = std::fs::read_dir(dir) else {
        eprintln!("no captures at {}: skipped", dir.display());
        return;
    };
    let mut caps: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
        .collect();
    caps.sort();
    assert!(!caps.is_empty());
    for cap_path in caps {
        let name = cap_path.display().to_string();
        let truth = std::fs::read_to_string(format!("{name}.conns.tsv")).expect("conns.tsv");
        let want: Vec<(u64, String, String)> = truth
            .lines()
            .skip(1)
            .filter_map(|l| {
                let mut f = l.split('\t');
                Some((
                    f.next()?.parse().ok()?,
                    f.next()?.to_string(),
                    f.next()?.to_string(),
                ))
            })
            .collect();

        let mut cap = pcap::Capture::from_file(&cap_path).expect("open capture");
        let linktype = cap.get_datalink().0;
        let mut table = FlowTable::new(TcpConfig::default());
        let mut firsts: HashMap<u64, (String, String)> = HashMap::new();
        let mut events: Vec<String> = Vec::new();
        let mut pkt = 0u64;
        let mut decoded = 0;
        while let Ok(p) = cap.next_packet() {
            pkt += 1;
            // time_t and suseconds_t are narrower on some platforms.
            #[allow(clippy::unnecessary_cast)]
            let ts = Timestamp::from_parts(p.header.ts.tv_sec as i64, p.header.ts.tv_usec as i64);
            let cut = p.header.len.saturating_sub(p.header.caplen);
            let Some((sip, dip, tcp)) = decode(linktype, p.data) else {
                continue;
            };
            decoded += 1;
            let src = SocketAddr::new(sip, tcp.source_port());
            let dst = SocketAddr::new(dip, tcp.destination_port());
            let info = SegmentInfo {
                src,
                dst,
                seq: tcp.sequence_number(),
                ack: tcp.acknowledgment_number(),
                syn: tcp.syn(),
                ack_flag: tcp.ack(),
                fin: tcp.fin(),
                rst: tcp.rst(),
                payload: tcp.payload(),
                wire_payload_len: tcp.payload().len() as u32 + cut,
            };
            let conn = table.segment(pkt, ts, &info, &mut |e| {
                if let TcpEvent::Gap { .. } = e {
                    panic!("{name}: unexpected gap at packet {pkt}: {}", show(&e));
                }
                events.push(show(&e))
            });
            firsts
                .entry(conn)
                .or_insert((src.to_string(), dst.to_string()));
        }
        table.finish(&mut |e| events.push(show(&e)));
        check_invariants(&events);
        assert!(decoded > 0, "{name}: no TCP decoded");
        let mut got: Vec<(u64, String, String)> =
            firsts.into_iter().map(|(c, (s, d))| (c, s, d)).collect();
        got.sort();
        if name.contains("nDPI__false_positives") {
            // tshark_truth.py keeps the first `ip.src` of a packet, which in this
            // GTP-U tunnel is the outer header's; the ports are the inner TCP's.
            let port = |a: &str| a.rsplit(':').next().unwrap_or("").to_string();
            let ports = |v: &[(u64, String, String)]| -> Vec<(u64, String, String)> {
                v.iter().map(|(c, s, d)| (*c, port(s), port(d))).collect()
            };
            assert_eq!(ports(&got), ports(&want), "{name}");
        } else {
            assert_eq!(got, want, "{name}");
        }
        assert_eq!(table.conns_seen(), want.len() as u64, "{name}");
    }
}

proptest! {
    /// Both directions cut, shuffled and duplicated, after a handshake with
    /// random ISNs (near the wrap), then an orderly close: each side's bytes
    /// come out exactly once and in order, with no gap.
    #[test]
    fn flow_delivers_both_streams_exactly(
        c2s in proptest::collection::vec(any::<u8>(), 0..600),
        s2c in proptest::collection::vec(any::<u8>(), 0..600),
        isn_c in (u32::MAX - 700)..=u32::MAX,
        isn_s in any::<u32>(),
        cuts in proptest::collection::vec((any::<bool>(), any::<prop::sample::Index>()), 0..30),
        dups in proptest::collection::vec(any::<prop::sample::Index>(), 0..10),
        seed in any::<u64>(),
    ) {
        let streams = [&c2s, &s2c];
        let isn = [isn_c, isn_s];
        let mut bounds: [Vec<usize>; 2] = [vec![0, c2s.len()], vec![0, s2c.len()]];
        for (dir, i) in &cuts {
            let d = usize::from(*dir);
            bounds[d].push(i.index(streams[d].len() + 1));
        }
        let mut segs: Vec<(usize, usize, usize)> = Vec::new();
        for (d, b) in bounds.iter_mut().enumerate() {
            b.sort_unstable();
            b.dedup();
            segs.extend(b.windows(2).map(|w| (d, w[0], w[1])));
        }
        if !segs.is_empty() {
            for i in &dups {
                segs.push(segs[i.index(segs.len())]);
            }
        }
        let mut x = seed | 1;
        for i in (1..segs.len()).rev() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            segs.swap(i, (x % (i as u64 + 1)) as usize);
        }
        let addr = [sa(CLIENT), sa(SERVER)];
        let mut table = FlowTable::new(TcpConfig::default());
        let mut got: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
        let mut other: Vec<String> = Vec::new();
        let mut feed = |table: &mut FlowTable, d: usize, seq: u32, ack: u32, flags: &str, payload: &[u8]| {
            let s = TcpSegment {
                src: addr[d],
                dst: addr[1 - d],
                seq,
                ack,
                flags: TcpFlags::parse(flags),
                window: 0,
                payload,
                wire_payload_len: payload.len() as u32,
            };
            table.segment(0, Timestamp(0), &s.info(), &mut |e| match e {
                TcpEvent::Data { dir, bytes, .. } => got[dir.index()].extend_from_slice(bytes),
                e => other.push(show(&e)),
            });
        };
        let end = |d: usize| isn[d].wrapping_add(1).wrapping_add(streams[d].len() as u32);
        feed(&mut table, 0, isn[0], 0, "S", &[]);
        feed(&mut table, 1, isn[1], isn[0].wrapping_add(1), "SA", &[]);
        feed(&mut table, 0, isn[0].wrapping_add(1), isn[1].wrapping_add(1), "A", &[]);
        // What each side has received in order: all it may acknowledge (a
        // receiver never acks past a hole), so no ack may make a gap here.
        let mut have = [vec![false; c2s.len()], vec![false; s2c.len()]];
        let mut prefix = [0usize; 2];
        for (d, a, b) in segs {
            let seq = isn[d].wrapping_add(1).wrapping_add(a as u32);
            let ack = isn[1 - d].wrapping_add(1).wrapping_add(prefix[1 - d] as u32);
            feed(&mut table, d, seq, ack, "PA", &streams[d][a..b]);
            have[d][a..b].iter_mut().for_each(|h| *h = true);
            while have[d].get(prefix[d]) == Some(&true) {
                prefix[d] += 1;
            }
        }
        feed(&mut table, 0, end(0), end(1), "FA", &[]);
        feed(&mut table, 1, end(1), end(0).wrapping_add(1), "FA", &[]);
        feed(&mut table, 0, end(0).wrapping_add(1), end(1).wrapping_add(1), "A", &[]);
        prop_assert_eq!(&got[0], &c2s);
        prop_assert_eq!(&got[1], &s2c);
        prop_assert!(other.iter().all(|e| !e.contains("gap")), "{:?}", other);
        prop_assert_eq!(other.last().map(String::as_str), Some("0 closed fin"));
    }
}
