//! IP fragment reassembly (IPv4, and IPv6 Fragment headers), bounded.
//!
//! Each datagram in progress keeps the bytes of its fragments as they came
//! (never a buffer sized from an offset field), so memory held is the
//! fragment bytes actually seen, at most `max_fragment_bytes` per datagram
//! and `max_fragment_groups` datagrams. When the pieces cover the datagram
//! from 0 to the end the last fragment announced, it is assembled into the
//! decoder's output buffer. Where fragments overlap, the bytes that arrived
//! first win (as Wireshark shows them); a passive observer cannot know what
//! the receiving host chose.

use std::net::IpAddr;

use super::{Dropped, FragFault, WireLimits, WireStats};

/// The most a datagram can carry without IPv6 jumbograms.
const DATAGRAM_MAX: usize = 65535;
/// Most fragments kept for one datagram: 1500-byte MTUs need 45, and the
/// bound keeps a flood of tiny fragments from making each insert slow.
const MAX_PIECES: usize = 2048;

/// What identifies one datagram's fragments (RFC 791 §3.2 / RFC 8200 §4.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct FragKey {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub id: u32,
    /// IPv4 protocol, or the IPv6 Fragment header's next header.
    pub proto: u8,
    pub v6: bool,
}

/// The answer to one fragment.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Insert {
    /// Kept; the datagram is not complete yet.
    Held,
    /// The datagram is complete and now in the output buffer.
    Complete,
    /// Something was dropped (this fragment, its datagram or another one).
    Dropped(Dropped),
}

#[derive(Clone, Copy, Debug)]
struct Piece {
    /// Offset in the datagram payload.
    off: u32,
    len: u32,
    /// Where its bytes are in `Group::data`.
    at: u32,
}

#[derive(Debug)]
struct Group {
    key: FragKey,
    first_ts: i64,
    /// The fragments' bytes, appended in arrival order.
    data: Vec<u8>,
    pieces: Vec<Piece>,
    /// Datagram payload length, known once the last fragment (MF=0) came.
    total: Option<u32>,
}

/// The datagrams being reassembled.
#[derive(Debug)]
pub(super) struct FragTable {
    groups: Vec<Group>,
    limits: WireLimits,
    /// No group can expire before this time: lets the common path skip
    /// the scan.
    next_expiry: i64,
    /// Reused to check coverage without allocating each time.
    scratch: Vec<(u32, u32)>,
    pub stats: WireStats,
}

impl FragTable {
    pub fn new(limits: WireLimits) -> FragTable {
        let limits = WireLimits {
            max_fragment_bytes: limits.max_fragment_bytes.min(DATAGRAM_MAX),
            max_fragment_groups: limits.max_fragment_groups.max(1),
            fragment_timeout_us: limits.fragment_timeout_us.max(0),
        };
        FragTable {
            groups: Vec::new(),
            limits,
            next_expiry: i64::MAX,
            scratch: Vec::new(),
            stats: WireStats::default(),
        }
    }

    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// Drop groups older than the timeout; returns how many.
    fn expire(&mut self, now: i64) -> usize {
        if now < self.next_expiry {
            return 0;
        }
        let timeout = self.limits.fragment_timeout_us;
        let before = self.groups.len();
        self.groups
            .retain(|g| now.saturating_sub(g.first_ts) < timeout);
        let dropped = before - self.groups.len();
        self.stats.fragment_groups_timed_out += dropped as u64;
        self.next_expiry = self
            .groups
            .iter()
            .map(|g| g.first_ts.saturating_add(timeout))
            .min()
            .unwrap_or(i64::MAX);
        dropped
    }

    fn drop_group(&mut self, index: usize) {
        self.groups.swap_remove(index);
        self.stats.fragment_groups_dropped += 1;
    }

    /// Take one fragment: `bytes` at `off` in the datagram payload, `more`
    /// the MF flag. On `Complete`, `out` holds the datagram payload.
    pub fn insert(
        &mut self,
        key: FragKey,
        off: u32,
        more: bool,
        bytes: &[u8],
        now: i64,
        out: &mut Vec<u8>,
    ) -> Insert {
        let timed_out = self.expire(now);
        let max = self.limits.max_fragment_bytes;
        let (v6, id) = (key.v6, key.id);
        let existing = self.groups.iter().position(|g| g.key == key);

        let end = off as usize + bytes.len();
        if end > max {
            if let Some(i) = existing {
                self.drop_group(i);
            }
            return Insert::Dropped(Dropped::PastLimit { v6, id, end, max });
        }

        let mut evicted = false;
        let index = match existing {
            Some(i) => i,
            None => {
                if self.groups.len() >= self.limits.max_fragment_groups {
                    // The oldest is the likeliest to be dead.
                    if let Some((oldest, _)) = self
                        .groups
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, g)| g.first_ts)
                    {
                        self.drop_group(oldest);
                        evicted = true;
                    }
                }
                self.groups.push(Group {
                    key,
                    first_ts: now,
                    data: Vec::new(),
                    pieces: Vec::new(),
                    total: None,
                });
                self.next_expiry = self
                    .next_expiry
                    .min(now.saturating_add(self.limits.fragment_timeout_us));
                self.groups.len() - 1
            }
        };

        let verdict = match self.groups.get_mut(index) {
            Some(group) => group.add_piece(off, more, bytes, end, max),
            None => Ok(()),
        };
        if let Err(why) = verdict {
            self.drop_group(index);
            return Insert::Dropped(Dropped::Inconsistent { v6, id, why });
        }
        if self.is_complete(index) {
            self.assemble(index, out);
            self.groups.swap_remove(index);
            self.stats.datagrams_reassembled += 1;
            return Insert::Complete;
        }
        if evicted {
            return Insert::Dropped(Dropped::TooManyDatagrams {
                max: self.limits.max_fragment_groups,
            });
        }
        if timed_out > 0 {
            return Insert::Dropped(Dropped::TimedOut {
                count: timed_out,
                timeout_us: self.limits.fragment_timeout_us,
            });
        }
        Insert::Held
    }

    fn is_complete(&mut self, index: usize) -> bool {
        let Some(group) = self.groups.get(index) else {
            return false;
        };
        let Some(total) = group.total else {
            return false;
        };
        self.scratch.clear();
        self.scratch
            .extend(group.pieces.iter().map(|p| (p.off, p.off + p.len)));
        self.scratch.sort_unstable();
        let mut covered = 0u32;
        for &(start, end) in &self.scratch {
            if start > covered {
                return false;
            }
            covered = covered.max(end);
        }
        covered >= total
    }

    fn assemble(&self, index: usize, out: &mut Vec<u8>) {
        let Some(group) = self.groups.get(index) else {
            return;
        };
        let total = group.total.unwrap_or(0) as usize;
        out.clear();
        out.resize(total, 0);
        // Later pieces first, so that earlier arrivals overwrite them.
        for p in group.pieces.iter().rev() {
            let (at, off, len) = (p.at as usize, p.off as usize, p.len as usize);
            if let (Some(dst), Some(src)) =
                (out.get_mut(off..off + len), group.data.get(at..at + len))
            {
                dst.copy_from_slice(src);
            }
        }
    }
}

impl Group {
    /// Keeps one more fragment, or says why the datagram cannot be reassembled.
    fn add_piece(
        &mut self,
        off: u32,
        more: bool,
        bytes: &[u8],
        end: usize,
        max: usize,
    ) -> Result<(), FragFault> {
        let end32 = end as u32;
        if !more {
            match self.total {
                Some(t) if t != end32 => {
                    return Err(FragFault::LastDisagree {
                        first: t as usize,
                        second: end,
                    });
                }
                _ => self.total = Some(end32),
            }
        }
        if let Some(t) = self.total {
            if end32 > t || self.pieces.iter().any(|p| p.off + p.len > t) {
                return Err(FragFault::PastEnd { end: t as usize });
            }
        }
        // An exact duplicate (a retransmitted or twice-captured fragment)
        // brings nothing: first bytes win.
        if self
            .pieces
            .iter()
            .any(|p| p.off == off && p.len as usize == bytes.len())
        {
            return Ok(());
        }
        // An empty fragment adds no bytes (a last one did set the total).
        if bytes.is_empty() {
            return Ok(());
        }
        if self.pieces.len() >= MAX_PIECES {
            return Err(FragFault::TooManyFragments { max: MAX_PIECES });
        }
        if self.data.len() + bytes.len() > max {
            return Err(FragFault::TooManyBytes { max });
        }
        self.pieces.push(Piece {
            off,
            len: bytes.len() as u32,
            at: self.data.len() as u32,
        });
        self.data.extend_from_slice(bytes);
        Ok(())
    }
}
