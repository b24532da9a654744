//! `cargo bench`: one Criterion group per layer of the library, each fed realistic
//! bytes and reporting throughput (`Throughput::Bytes`). What each group measures
//! and the figures: `bench/README.md`.
//!
//! The inputs come from the repository alone: the project's own captures
//! (`captures/`, `captures/tls/` with their key logs), read in memory with
//! `pcap-parser` and reassembled by the library's own wire decoder and flow table;
//! or made here by the layer's own encoder (`ws::frame::encode_frame`), by
//! `flate2` (permessage-deflate as a peer compresses) and by real HTTP/2 peers (the
//! `h2` crate over an in-memory duplex). All of it is prepared before the timing.
//!
//! `cargo bench -- ws` runs one group (the filter is a regular expression on
//! `group/bench`).

#[path = "../../fuzz/src/pcapread.rs"]
mod pcapread;

mod app;
mod capture;
mod gen;
mod h2;
mod http;
mod pipeline;
mod tcp;
mod tls;
mod wire;
mod ws;

use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion};

/// A group with the short timing every layer uses: the whole `cargo bench` stays
/// within a few minutes on a small shared machine.
pub fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name);
    g.warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20);
    g
}

criterion_group!(
    layers,
    wire::bench,
    tcp::bench,
    http::bench,
    ws::bench,
    tls::bench,
    h2::bench,
    app::bench,
    pipeline::bench
);
criterion_main!(layers);
