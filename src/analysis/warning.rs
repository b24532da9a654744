//! What the analyzer warns the user about, as data: each layer's typed report and
//! the numbers that go with it. The views word it in their language
//! (`output::warning_text`), so the library holds no prose for people here.

use crate::stack::LayerWarning;
use crate::tcp::TcpWarning;
use crate::wire::WireProblem;

/// A warning for the user: not an event of the timeline, nor a peer's fault (those
/// are violations), but something about the capture or a bound of wsscope.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Warning {
    /// The capture's snap length cut a packet's TCP payload (said once: the first
    /// packet it happened to). The missing bytes are reported as gaps.
    SnapLength {
        /// The packet's number.
        pkt: u64,
        /// TCP payload bytes captured.
        kept: usize,
        /// TCP payload bytes the IP header announces.
        wire: u32,
    },
    /// A packet could not be decoded.
    Wire(WireProblem),
    /// A bound of the TCP layer, for one connection.
    Tcp {
        /// The connection.
        conn: u64,
        /// What happened.
        warning: TcpWarning,
    },
    /// A layer above TCP, for one connection.
    Layer {
        /// The connection.
        conn: u64,
        /// What happened.
        warning: LayerWarning,
    },
    /// Connections ended early to keep the memory held under the budget (said once,
    /// at the end).
    Evicted {
        /// How many connections.
        count: u64,
        /// The budget in bytes (`--max-memory`).
        limit: usize,
        /// The most that was held, in bytes.
        peak: usize,
    },
    /// Past the number of distinct warnings shown, these many more were only counted.
    NotShown {
        /// How many.
        count: u64,
    },
}
