//! One memory budget, in bytes, across everything wsscope keeps while it reads a
//! capture: open connections and the connections it remembers, reassembly buffers,
//! held HTTP heads and upgrade bytes, WebSocket messages and inflate state, TLS and
//! HTTP/2 state, and what the views keep per connection (stats rows waiting for
//! their turn, the text timeline's request targets).
//!
//! Sans-IO and without globals: each holder keeps a running count of the bytes it
//! holds (its buffers' capacities and its own size, as [`heap_bytes`]-style
//! functions measure them), updated where it changes, so that asking costs a few
//! loads. The [`crate::analysis::Analyzer`] adds the counts up after every packet
//! ([`Budget::set_used`]); past the limit it ends the least recently used
//! connections (a warning for each, and their summaries go out as usual) until the
//! total is back under [`Budget::target`].
//!
//! The counts are estimates from sizes and capacities, not the allocator's own
//! figures: the default limit, [`DEFAULT_MAX_MEMORY`], leaves room for what they do
//! not see (the allocator's overhead, the program, buffers of the packet being
//! read), so that the peak resident memory of every command stays under 128 MiB on
//! any input (`bench/hostile_mem.sh` measures it).
//!
//! [`heap_bytes`]: crate::stack::Stack::heap_bytes

use std::collections::{HashMap, VecDeque};
use std::mem::size_of;

/// The default budget: 64 MiB (`--max-memory`).
pub const DEFAULT_MAX_MEMORY: usize = 64 << 20;

/// What the allocator adds to each allocation (its header and rounding), roughly.
pub const ALLOC_OVERHEAD: usize = 16;

/// The bytes counted for a string kept as a table's key or name (an id, a topic, a
/// method) where adding each one up would cost a walk over the table per packet.
pub const KEY_GUESS: usize = 64;

/// The budget and what it saw: the limit, the bytes held after the last packet, the
/// most ever held, and how many connections were ended to stay under it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    limit: usize,
    used: usize,
    peak: usize,
    evicted: u64,
}

impl Default for Budget {
    fn default() -> Self {
        Budget::new(DEFAULT_MAX_MEMORY)
    }
}

impl Budget {
    /// A budget of `limit` bytes (at least 1).
    pub fn new(limit: usize) -> Budget {
        Budget {
            limit: limit.max(1),
            used: 0,
            peak: 0,
            evicted: 0,
        }
    }

    /// The limit in bytes.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Bytes held after the last packet.
    pub fn used(&self) -> usize {
        self.used
    }

    /// The most bytes held after any packet (the high-water mark). It may pass the
    /// limit by what one packet added before connections were ended.
    pub fn peak(&self) -> usize {
        self.peak
    }

    /// Connections ended to stay under the limit.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// Records the bytes held now; true when they pass the limit.
    #[inline]
    pub fn set_used(&mut self, used: usize) -> bool {
        self.used = used;
        self.peak = self.peak.max(used);
        used > self.limit
    }

    /// Once past the limit, connections are ended until the bytes held are at most
    /// this: 7/8 of the limit, so that a flood does not end one connection per packet.
    pub fn target(&self) -> usize {
        self.limit - self.limit / 8
    }

    /// One more connection ended to stay under the limit.
    pub fn count_eviction(&mut self) {
        self.evicted += 1;
    }
}

/// A running count `total` of which one holder's share, `charged`, is now `now`.
#[inline]
pub fn recount(total: &mut usize, charged: &mut usize, now: usize) {
    debug_assert!(
        *total >= *charged,
        "memory count {total} below a share {charged}"
    );
    *total = total.saturating_sub(*charged) + now;
    *charged = now;
}

/// A running count `total` that no longer holds `share`.
#[inline]
pub fn release(total: &mut usize, share: usize) {
    debug_assert!(
        *total >= share,
        "memory count {total} below a share {share}"
    );
    *total = total.saturating_sub(share);
}

/// A size in bytes as people write it: `65536`, `512K`, `64M`, `1G`, `256MiB`, `2GB`
/// (K, M, G, T are powers of 1024; case and a trailing `B` or `iB` do not matter).
pub fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(digits);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a size: give a number of bytes, e.g. 256M or 1G"))?;
    let unit = unit.trim().to_ascii_lowercase();
    let unit = unit
        .strip_suffix("ib")
        .or_else(|| unit.strip_suffix('b'))
        .unwrap_or(&unit);
    let shift = match unit {
        "" => 0,
        "k" => 10,
        "m" => 20,
        "g" => 30,
        "t" => 40,
        _ => {
            return Err(format!(
                "{s:?} is not a size: the unit is K, M, G or T (e.g. 256M)"
            ))
        }
    };
    n.checked_mul(1 << shift)
        .and_then(|b| usize::try_from(b).ok())
        .filter(|&b| b > 0)
        .ok_or_else(|| format!("{s:?} is not a size this machine can hold (give more than 0)"))
}

/// `n` bytes as a person reads them: `64 MiB`, `1.5 GiB`, `900 KiB`, `12 B`.
pub fn show_size(n: usize) -> String {
    let units = [(40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")];
    for (shift, name) in units {
        let unit = 1u64 << shift;
        let n = n as u64;
        if n >= unit {
            return if n % unit == 0 {
                format!("{} {name}", n / unit)
            } else {
                format!("{:.1} {name}", n as f64 / unit as f64)
            };
        }
    }
    format!("{n} B")
}

/// The heap bytes of a vector's buffer (its capacity; the allocator's own overhead
/// is left to the budget's margin: these are asked for every packet).
#[inline(always)]
pub fn vec_bytes<T>(v: &Vec<T>) -> usize {
    v.capacity() * size_of::<T>()
}

/// The heap bytes of a string's buffer.
#[inline(always)]
pub fn string_bytes(s: &String) -> usize {
    s.capacity()
}

/// The heap bytes of a deque's buffer.
#[inline(always)]
pub fn deque_bytes<T>(v: &VecDeque<T>) -> usize {
    v.capacity() * size_of::<T>()
}

/// The heap bytes of a hash table's own buffer (its entries inline, one control byte
/// each, at most 7/8 full), not counting what the entries point to.
#[inline]
pub fn map_bytes<K, V, S>(m: &HashMap<K, V, S>) -> usize {
    let cap = m.capacity();
    if cap == 0 {
        0
    } else {
        cap / 7 * 8 * (size_of::<(K, V)>() + 1) + ALLOC_OVERHEAD
    }
}

/// The heap bytes of a B-tree map of `len` entries of `entry` bytes: nodes hold up
/// to 11 and are at least half full; counted at 2/3 full, with the node's links.
#[inline]
pub fn btree_bytes(len: usize, entry: usize) -> usize {
    len * (entry * 3 / 2 + 16)
}

/// The heap bytes of a list of header fields (name, value).
pub fn headers_bytes(h: &Vec<(String, String)>) -> usize {
    vec_bytes(h)
        + h.iter()
            .map(|(n, v)| string_bytes(n) + string_bytes(v))
            .sum::<usize>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_read_as_people_write_them() {
        let table = [
            ("65536", Some(65536)),
            ("512K", Some(512 << 10)),
            ("64M", Some(64 << 20)),
            ("64m", Some(64 << 20)),
            ("256MiB", Some(256 << 20)),
            ("1G", Some(1 << 30)),
            ("2GB", Some(2 << 30)),
            (" 8 M ", Some(8 << 20)),
            ("0", None),
            ("", None),
            ("M", None),
            ("12X", None),
            ("-5M", None),
            ("1.5G", None),
            ("99999999999999999999", None),
            ("20000000T", None),
        ];
        for (s, want) in table {
            assert_eq!(parse_size(s).ok(), want, "{s:?}");
        }
    }

    #[test]
    fn sizes_are_shown_in_binary_units() {
        assert_eq!(show_size(64 << 20), "64 MiB");
        assert_eq!(show_size(3 << 29), "1.5 GiB");
        assert_eq!(show_size(900 << 10), "900 KiB");
        assert_eq!(show_size(12), "12 B");
    }

    #[test]
    fn the_budget_keeps_its_high_water_mark_and_says_when_it_is_passed() {
        let mut b = Budget::new(1000);
        assert!(!b.set_used(600));
        assert!(b.set_used(1200));
        assert!(!b.set_used(100));
        assert_eq!((b.used(), b.peak()), (100, 1200));
        assert_eq!(b.target(), 875);
        assert_eq!(Budget::default().limit(), DEFAULT_MAX_MEMORY);
        assert_eq!(Budget::new(0).limit(), 1);
    }
}
