//! Small shared vocabulary: direction, time, connection ids and violations.
//!
//! Every layer (tcp, http, ws, analysis) speaks in these types, so they live
//! apart from any one layer.

use std::fmt;

use serde::{Serialize, Serializer};

/// Which way bytes travel on a connection.
///
/// The client is the side that sent the SYN; without a SYN, the side that sent
/// the HTTP request; without either, the side whose frames are masked
/// (see CONTRACT.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    /// Client to server.
    C2S,
    /// Server to client.
    S2C,
}

impl Direction {
    /// The other direction.
    pub fn reverse(self) -> Direction {
        match self {
            Direction::C2S => Direction::S2C,
            Direction::S2C => Direction::C2S,
        }
    }

    /// `"c2s"` or `"s2c"`, as in the NDJSON events.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::C2S => "c2s",
            Direction::S2C => "s2c",
        }
    }

    /// Index into a two-element per-direction array.
    pub fn index(self) -> usize {
        match self {
            Direction::C2S => 0,
            Direction::S2C => 1,
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Direction {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A capture timestamp in microseconds since the Unix epoch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// From the seconds and microseconds of a pcap record header.
    pub fn from_parts(secs: i64, micros: i64) -> Timestamp {
        Timestamp(secs.saturating_mul(1_000_000).saturating_add(micros))
    }

    /// Seconds since the epoch as a float.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }

    /// `self - earlier` in milliseconds (negative if `earlier` is later).
    pub fn millis_since(self, earlier: Timestamp) -> f64 {
        (self.0.saturating_sub(earlier.0)) as f64 / 1e3
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Rounded to whole microseconds so that the float prints with at most six decimals.
        let secs = self.0.div_euclid(1_000_000);
        let micros = self.0.rem_euclid(1_000_000);
        let v: f64 = format!("{secs}.{micros:06}")
            .parse()
            .unwrap_or(self.as_secs_f64());
        s.serialize_f64(v)
    }
}

pub use crate::rules::Violation;

/// A map keyed by connection number, hashed cheaply.
///
/// Connection numbers are handed out by wsscope itself, 0, 1, 2, ... in order of
/// first packet: the traffic cannot choose them, so the keyed SipHash that guards
/// maps with attacker-chosen keys (the 4-tuple table) buys nothing here, and these
/// maps are consulted several times per packet.
pub type ConnMap<V> =
    std::collections::HashMap<u64, V, std::hash::BuildHasherDefault<ConnIdHasher>>;

/// The hasher of [`ConnMap`]: one multiplication by an odd constant. Consecutive
/// numbers land in distinct buckets (the low bits of the product are a bijection of
/// the key's low bits) and the top bits, which hashbrown uses as tags, are mixed.
#[derive(Clone, Copy, Debug, Default)]
pub struct ConnIdHasher(u64);

impl std::hash::Hasher for ConnIdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Not used by u64 keys; any bytes still hash deterministically.
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}
