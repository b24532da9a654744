//! wsscope: a packet-level WebSocket inspector.
//!
//! The library is the decoder, laid out along the data flow; it is fed bytes and
//! emits events, never touching libpcap or a terminal:
//!
//! ```text
//! raw packet ──wire──▶ TCP segment ──tcp──▶ per-direction byte stream (+ gaps)
//!            ──http──▶ requests, responses, the Upgrade checked
//!            ──ws────▶ frames, messages, pings, the close
//!            ──analysis──▶ timeline events ──output──▶ text, NDJSON, stats
//! ```
//!
//! - [`wire`]: link layers, tunnels, IPv4/IPv6, TCP segment views.
//! - [`tcp`]: the flow table, connection phases and per-direction reassembly.
//! - [`http`]: incremental HTTP/1.x parsing, the Upgrade requirements, the Accept.
//! - [`ws`]: RFC 6455 frames and messages, RFC 7692 permessage-deflate, the close.
//! - [`analysis`]: one connection's life as [`analysis::Event`]s; the [`analysis::Analyzer`].
//! - [`output`]: the text timeline, NDJSON and per-connection stats.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod analysis;
pub mod http;
pub mod output;
pub mod tcp;
pub mod text;
pub mod tls;
pub mod types;
pub mod wire;
pub mod ws;
