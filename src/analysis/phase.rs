//! The phases of a connection's life, as every view groups its events: one
//! classification, read by `--explain`, the lesson, Mermaid and the terminal view.

use super::EventKind;

/// The phase of a WebSocket connection's life an event belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Phase {
    /// The TCP three-way handshake (and the connection's first sight).
    TcpHandshake,
    /// The TLS handshake (wss): hellos, keys, decryption.
    Tls,
    /// HTTP requests and responses: the Upgrade, or plain HTTP.
    Http,
    /// The Accept check and the outcome of the upgrade.
    Accept,
    /// Data frames and messages.
    Data,
    /// Ping and pong.
    Heartbeat,
    /// Close frames and the close exchange.
    Close,
    /// FIN or RST.
    Teardown,
    /// A broken rule.
    Violation,
    /// Bytes missing from the capture.
    Gap,
}

impl Phase {
    /// The phase of `kind`.
    pub fn of(kind: &EventKind) -> Phase {
        match kind {
            EventKind::ConnOpen { .. } | EventKind::TcpHandshake { .. } => Phase::TcpHandshake,
            EventKind::TlsHandshake { .. }
            | EventKind::TlsDecrypt { .. }
            | EventKind::TlsAlert { .. } => Phase::Tls,
            EventKind::HttpRequest { .. }
            | EventKind::HttpResponse { .. }
            | EventKind::H2Settings { .. }
            | EventKind::H2Goaway { .. } => Phase::Http,
            // A stream's abort ends its WebSocket, as a close would.
            EventKind::H2RstStream { .. } => Phase::Close,
            EventKind::WsHandshake { .. } => Phase::Accept,
            EventKind::WsFrame { opcode: 9 | 10, .. } => Phase::Heartbeat,
            EventKind::WsFrame { opcode: 8, .. } | EventKind::WsClose { .. } => Phase::Close,
            EventKind::WsFrame { .. } | EventKind::WsMessage { .. } => Phase::Data,
            EventKind::TcpTeardown { .. } => Phase::Teardown,
            EventKind::Violation { .. } => Phase::Violation,
            EventKind::Gap { .. } => Phase::Gap,
        }
    }
}
