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
        s.serialize_f64(self.json_secs())
    }
}

impl Timestamp {
    /// Seconds as the float nearest to the exact decimal `secs.micros`, so that it
    /// prints with at most six decimals.
    pub(crate) fn json_secs(self) -> f64 {
        // Below 2^53 both numbers are exact floats, and IEEE division rounds the
        // exact quotient once: the float nearest `self.0 / 10^6`, as parsing the
        // decimal would give, without formatting and parsing every event's time.
        const EXACT: i64 = 1 << 53;
        if (-EXACT..EXACT).contains(&self.0) {
            return self.0 as f64 / 1_000_000.0;
        }
        let secs = self.0 / 1_000_000;
        let micros = (self.0 % 1_000_000).unsigned_abs();
        let sign = if self.0 < 0 && secs == 0 { "-" } else { "" };
        format!("{sign}{secs}.{micros:06}")
            .parse()
            .unwrap_or(self.as_secs_f64())
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

#[cfg(test)]
mod tests {
    use super::Timestamp;

    /// The exact decimal `[-]secs.micros` of `t`, parsed: what JSON must carry.
    fn parsed(t: i64) -> f64 {
        let sign = if t < 0 { "-" } else { "" };
        let a = t.unsigned_abs();
        format!("{sign}{}.{:06}", a / 1_000_000, a % 1_000_000)
            .parse()
            .unwrap()
    }

    #[test]
    fn json_seconds_are_the_decimal_time() {
        for t in [
            0,
            1,
            999_999,
            1_000_000,
            1_700_000_000_000_392,
            -1_500_000,
            -1,
            i64::MAX,
            i64::MIN + 1,
        ] {
            assert_eq!(Timestamp(t).json_secs(), parsed(t), "{t}");
        }
    }

    proptest::proptest! {
        #[test]
        fn json_seconds_match_parsing_for_any_time(t in -(1i64 << 62)..(1i64 << 62)) {
            proptest::prop_assert_eq!(Timestamp(t).json_secs(), parsed(t));
        }
    }
}
