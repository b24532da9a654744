//! TCP: the flow table, each connection's handshake and teardown, and
//! per-direction reassembly.

mod reassembly;
mod seq;

pub use reassembly::{Chunk, Reassembler};
pub use seq::SeqNum;
