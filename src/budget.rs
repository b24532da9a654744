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
//! The counts are estimates from sizes and capacities (hash tables' from their
//! number of entries, [`map_buckets`], so that the same capture gives the same
//! counts and the same evictions in every run), not the allocator's own figures:
//! the default limit, [`DEFAULT_MAX_MEMORY`], leaves room for what they do not see
//! (the allocator's overhead, the program, buffers of the packet being read, a hash
//! table's room beyond its entries' needs), so that the peak resident memory of
//! every command stays under 128 MiB on any input (`bench/hostile_mem.sh` measures
//! it).
//!
//! [`heap_bytes`]: crate::stack::Stack::heap_bytes

use std::collections::{HashMap, HashSet, VecDeque};
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

/// The buckets a hash table of `len` entries has when it holds no more than it needs
/// (hashbrown's own rule: 4 buckets up to 3 entries, 8 up to 7, then the smallest
/// power of two whose 7/8 holds them all); 0 for an empty table.
///
/// Counted from the number of entries, not the table's `capacity()`: the tables are
/// seeded at random (their keys come from the traffic), and with the seed go where
/// removed entries leave tombstones, hence the `capacity()` left and when the table
/// grows or rehashes in place. A count read from it made the budget end different
/// connections from one run to the next on the same capture; counted from `len()`,
/// it is a function of what the tables hold.
#[inline]
pub fn map_buckets(len: usize) -> usize {
    match len {
        0 => 0,
        1..=3 => 4,
        4..=7 => 8,
        _ => (len.saturating_mul(8) / 7).next_power_of_two(),
    }
}

/// The heap bytes of a hash table of `len` entries of `entry` bytes each: its
/// buckets ([`map_buckets`]) with their entries inline and a control byte each, and
/// a group's worth of control bytes more (16), not counting what the entries point
/// to. Exact for a table that was only filled, or shrunk to fit; one that entries
/// keep coming and going through holds up to twice as many buckets (hashbrown grows
/// instead of clearing its tombstones in place once more than 7/16 of its buckets
/// are full), and one that emptied keeps its room until shrunk (the flow table and
/// the connections' table are, when the budget ends connections): the budget's
/// margin ([`DEFAULT_MAX_MEMORY`]) takes the difference.
#[inline]
pub fn table_bytes(len: usize, entry: usize) -> usize {
    match map_buckets(len) {
        0 => 0,
        b => b * (entry + 1) + 16 + ALLOC_OVERHEAD,
    }
}

/// The heap bytes of a hash map's own buffer ([`table_bytes`] of its entries).
#[inline]
pub fn map_bytes<K, V, S>(m: &HashMap<K, V, S>) -> usize {
    table_bytes(m.len(), size_of::<(K, V)>())
}

/// The heap bytes of a hash set's own buffer ([`table_bytes`] of its entries).
#[inline]
pub fn set_bytes<T, S>(s: &HashSet<T, S>) -> usize {
    table_bytes(s.len(), size_of::<T>())
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

    /// What hashbrown lets a table of `buckets` hold before it grows.
    fn room(buckets: usize) -> usize {
        if buckets < 8 {
            buckets.saturating_sub(1)
        } else {
            buckets / 8 * 7
        }
    }

    #[test]
    fn tables_are_counted_at_the_buckets_they_grow_to() {
        assert_eq!(map_buckets(0), 0);
        assert_eq!(table_bytes(0, 24), 0);
        assert_eq!(
            [1, 3, 4, 7, 8, 14, 15, 28, 29, 56, 57, 7168, 7169].map(map_buckets),
            [4, 4, 8, 8, 16, 16, 32, 32, 64, 64, 128, 8192, 16384]
        );
        // A table only filled has just the buckets counted: its room is theirs.
        let mut m: HashMap<u64, [u64; 2]> = HashMap::new();
        for k in 0..20_000u64 {
            m.insert(k, [k; 2]);
            assert_eq!(
                m.capacity(),
                room(map_buckets(m.len())),
                "{} entries",
                m.len()
            );
        }
        assert_eq!(map_bytes(&m), 32768 * (24 + 1) + 16 + ALLOC_OVERHEAD);
        let s: HashSet<u64> = (0..100).collect();
        assert_eq!(set_bytes(&s), 128 * 9 + 16 + ALLOC_OVERHEAD);
    }

    #[test]
    fn a_table_is_counted_from_its_entries_not_its_history() {
        // Entries come and go, as connections do: the table's capacity() depends on
        // where the removed ones left tombstones (its seed decides), its count not.
        let mut churned: HashMap<u64, u64> = HashMap::new();
        let mut capacities = HashSet::new();
        for k in 0..50_000u64 {
            churned.insert(k.wrapping_mul(0x9e37_79b9_7f4a_7c15), k);
            if k >= 3000 {
                churned.remove(&(k - 3000).wrapping_mul(0x9e37_79b9_7f4a_7c15));
                capacities.insert(churned.capacity());
            }
        }
        assert!(
            capacities.len() > 1,
            "tombstones never took from capacity()"
        );
        let fresh: HashMap<u64, u64> = churned.iter().map(|(&k, &v)| (k, v)).collect();
        assert_eq!(churned.len(), fresh.len());
        assert_eq!(map_bytes(&churned), map_bytes(&fresh));
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
