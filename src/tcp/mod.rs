//! TCP: the flow table, each connection's handshake and teardown, and
//! per-direction reassembly.
//!
//! Sans-IO: [`FlowTable::segment`] is fed one decoded segment at a time (with
//! its packet number and capture time) and reports what happened through a
//! callback as [`TcpEvent`]s; nothing here reads a clock or a file.
//!
//! - [`SeqNum`]: sequence numbers with wrapping comparison.
//! - [`Reassembler`]: one direction's bytes in order, holes reported as gaps.
//! - [`FlowTable`]: connections numbered like tshark's `tcp.stream`, the
//!   client/server roles, handshake and teardown steps, bounded memory.

use std::net::SocketAddr;

use crate::types::Direction;

mod flow;
mod lru;
mod reassembly;
mod seq;

pub use flow::FlowTable;
pub use reassembly::{Chunk, Reassembler};
pub use seq::SeqNum;

/// A step of the TCP three-way handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandshakeStep {
    /// The client's SYN.
    Syn,
    /// The server's SYN-ACK.
    SynAck,
    /// The client's ACK of the SYN-ACK.
    Ack,
}

/// How a TCP connection ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TeardownHow {
    /// An orderly FIN.
    Fin,
    /// A reset.
    Rst,
}

/// For FIN teardowns: the FIN itself, or the ACK that acknowledges it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TeardownStep {
    /// A FIN segment.
    Fin,
    /// The ACK of the peer's FIN.
    Ack,
}

impl<'a> From<&crate::wire::TcpSegment<'a>> for SegmentInfo<'a> {
    fn from(seg: &crate::wire::TcpSegment<'a>) -> SegmentInfo<'a> {
        SegmentInfo {
            src: seg.src,
            dst: seg.dst,
            seq: seg.seq,
            ack: seg.ack,
            syn: seg.flags.syn(),
            ack_flag: seg.flags.ack(),
            fin: seg.flags.fin(),
            rst: seg.flags.rst(),
            payload: seg.payload,
            wire_payload_len: seg.wire_payload_len,
        }
    }
}

/// The fields of one TCP segment that the flow table needs (the wire layer
/// converts its segment view into this).
#[derive(Clone, Copy, Debug)]
pub struct SegmentInfo<'a> {
    /// Sender.
    pub src: SocketAddr,
    /// Receiver.
    pub dst: SocketAddr,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number (meaningful when `ack_flag`).
    pub ack: u32,
    /// SYN flag.
    pub syn: bool,
    /// ACK flag.
    pub ack_flag: bool,
    /// FIN flag.
    pub fin: bool,
    /// RST flag.
    pub rst: bool,
    /// The captured payload.
    pub payload: &'a [u8],
    /// The payload length on the wire; more than `payload.len()` when the snap
    /// length cut the packet (the rest is reported as a gap).
    pub wire_payload_len: u32,
}

/// Limits of the flow table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpConfig {
    /// Out-of-order bytes held per direction before the earliest hole is
    /// declared a gap (default 4 MiB).
    pub max_buffered_per_direction: usize,
    /// Open connections tracked at once; beyond it the least recently used is
    /// evicted (default 65 536: about 2 KiB each at most in `stats`, so a SYN
    /// flood stays near 100 MiB; raise it with `--max-flows` for busy links).
    pub max_flows: usize,
    /// Live mode: a connection silent for longer than this (microseconds) is
    /// ended by [`FlowTable::expire`] (default 300 s).
    pub idle_timeout_us: i64,
    /// Live mode: out-of-order bytes held behind a hole for longer than this
    /// (microseconds, capture time) are released by [`FlowTable::expire`], the
    /// hole declared a gap (default 10 s). Without it a segment lost from the
    /// capture and never acknowledged in view (one-way capture, or the end of a
    /// burst) would hold back everything after it until the connection ends.
    /// Holes acknowledged by the peer are declared at once, without waiting:
    /// see [`Reassembler::ack`].
    pub hole_timeout_us: i64,
}

impl Default for TcpConfig {
    fn default() -> Self {
        TcpConfig {
            max_buffered_per_direction: 4 << 20,
            max_flows: 1 << 16,
            idle_timeout_us: 300_000_000,
            hole_timeout_us: 10_000_000,
        }
    }
}

/// Why a connection's state was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CloseReason {
    /// Both FINs were sent and acknowledged (or both sent, and the 4-tuple was
    /// then reused by a new connection).
    Fin,
    /// A reset.
    Rst,
    /// Silent for longer than the idle timeout (live mode).
    Idle,
    /// Pushed out of a full flow table.
    Evicted,
    /// The capture ended with the connection open.
    EndOfCapture,
    /// A new SYN on the same 4-tuple started a new connection before this one
    /// was seen to end (tshark numbers it as a new stream too).
    PortReused,
}

impl CloseReason {
    /// A short snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::Fin => "fin",
            CloseReason::Rst => "rst",
            CloseReason::Idle => "idle",
            CloseReason::Evicted => "evicted",
            CloseReason::EndOfCapture => "end_of_capture",
            CloseReason::PortReused => "port_reused",
        }
    }
}

/// What the flow table saw, in capture order. Every event of a connection
/// comes after its `Open` and before its `Closed`.
#[derive(Clone, Debug, PartialEq)]
pub enum TcpEvent<'a> {
    /// A connection's first packet.
    Open {
        /// Connection number (tshark's `tcp.stream`).
        conn: u64,
        /// The side that sent the SYN, or the best guess without one.
        client: SocketAddr,
        /// The other side.
        server: SocketAddr,
        /// The capture began after the SYN: roles are guessed.
        mid_stream: bool,
    },
    /// A step of the three-way handshake.
    Handshake {
        /// Connection number.
        conn: u64,
        /// The sender (`C2S` for a SYN and the final ACK, `S2C` for a SYN-ACK,
        /// except in a simultaneous open).
        dir: Direction,
        /// SYN, SYN-ACK or the ACK of the SYN-ACK.
        step: HandshakeStep,
        /// On the ACK: milliseconds from the (first) SYN, when it was seen.
        rtt_ms: Option<f64>,
        /// A SYN or SYN-ACK seen again with the same sequence number.
        retransmission: bool,
    },
    /// The next bytes of one direction's stream (borrowed from the segment or
    /// the reassembly buffer).
    Data {
        /// Connection number.
        conn: u64,
        /// Which stream.
        dir: Direction,
        /// The bytes.
        bytes: &'a [u8],
    },
    /// Bytes missing from one direction's stream; the next `Data` follows them.
    Gap {
        /// Connection number.
        conn: u64,
        /// Which stream.
        dir: Direction,
        /// How many bytes are missing.
        bytes: u64,
    },
    /// A FIN, the ACK of a FIN, or a RST.
    Teardown {
        /// Connection number.
        conn: u64,
        /// The sender of the FIN, of the ACK, or of the RST.
        dir: Direction,
        /// FIN or RST.
        how: TeardownHow,
        /// For FINs: the FIN or its ACK; `None` for a RST.
        step: Option<TeardownStep>,
    },
    /// The connection's state is dropped: after both FINs and the final ACK, an RST, idle expiry,
    /// flow eviction or finish(). Always the last event of a conn; exactly one per conn.
    Closed {
        /// Connection number.
        conn: u64,
        /// Why.
        reason: CloseReason,
    },
    /// Something to warn about (buffer bound hit, flow table full), with the conn.
    Warning {
        /// Connection number.
        conn: u64,
        /// What happened, as data (the views word it).
        warning: TcpWarning,
    },
}

/// A bound of the TCP layer was hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TcpWarning {
    /// More bytes or segments arrived ahead of a missing segment than one direction
    /// holds: the hole was declared a gap (once per direction).
    BufferFull {
        /// The direction (as the TCP layer sees it: the SYN's sender is the client).
        dir: Direction,
        /// The bound in bytes (`--max-flow-buffer`).
        max_bytes: usize,
        /// The bound in segments.
        max_segments: usize,
    },
    /// The flow table was full when a new connection came: this one, the least
    /// recently used, is no longer followed.
    FlowTableFull {
        /// The bound (`--max-flows`).
        max_flows: usize,
        /// The packet that needed the room.
        pkt: u64,
    },
    /// The memory budget was reached: this connection, the least recently used, is
    /// no longer followed.
    MemoryBudget {
        /// The budget in bytes (`--max-memory`).
        limit: usize,
        /// The packet after which the budget was over.
        pkt: u64,
    },
}

impl TcpEvent<'_> {
    /// The same event for connection `to` (a renumbering).
    pub fn renumbered(mut self, to: u64) -> Self {
        match &mut self {
            TcpEvent::Open { conn, .. }
            | TcpEvent::Handshake { conn, .. }
            | TcpEvent::Data { conn, .. }
            | TcpEvent::Gap { conn, .. }
            | TcpEvent::Teardown { conn, .. }
            | TcpEvent::Closed { conn, .. }
            | TcpEvent::Warning { conn, .. } => *conn = to,
        }
        self
    }

    /// The connection the event belongs to.
    pub fn conn(&self) -> u64 {
        match self {
            TcpEvent::Open { conn, .. }
            | TcpEvent::Handshake { conn, .. }
            | TcpEvent::Data { conn, .. }
            | TcpEvent::Gap { conn, .. }
            | TcpEvent::Teardown { conn, .. }
            | TcpEvent::Closed { conn, .. }
            | TcpEvent::Warning { conn, .. } => *conn,
        }
    }
}

#[cfg(test)]
mod tests;
