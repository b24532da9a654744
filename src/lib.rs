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
//! - [`app`]: application protocols riding on WebSocket (Socket.IO, MQTT, GraphQL,
//!   STOMP, JSON-RPC, JSON), fed whole messages; sans-IO like the rest.
//! - [`h2`]: HTTP/2 frames, HPACK, requests and responses per stream, RFC 8441
//!   WebSockets over HTTP/2 (a sans-IO layer for the layered pipeline).
//! - [`analysis`]: one connection's life as [`analysis::Event`]s; the [`analysis::Analyzer`].
//! - [`output`]: the text timeline, NDJSON and per-connection stats.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

// The message catalogue: `locales/*.yml`, every key in English and Chinese.
rust_i18n::i18n!("locales", fallback = "en");

pub mod analysis;
pub mod app;
pub mod budget;
pub mod h2;
pub mod http;
pub mod output;
pub mod rules;
pub mod stack;
pub mod tcp;
pub mod text;
pub mod tls;
pub mod types;
pub mod wire;
pub mod ws;

#[cfg(test)]
mod test_captures;
