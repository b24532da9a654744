//! One direction's byte stream, put back in order.
//!
//! Sequence numbers are mapped onto a 64-bit stream offset (bytes delivered or
//! declared lost since the start), so that the 32-bit wrap only matters when a
//! segment's position is first computed. Bytes that arrive in order are handed
//! out straight from the caller's slice; only bytes that arrive ahead of a hole
//! are copied and held, up to a bound.

use std::collections::BTreeMap;

use super::seq::SeqNum;
use crate::types::Timestamp;

/// A piece of one direction's stream, in stream order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chunk<'a> {
    /// The next bytes of the stream.
    Data(&'a [u8]),
    /// This many bytes of the stream are missing (never captured, or cut by the
    /// snap length); the next chunk follows them.
    Gap(u64),
}

/// A held piece of the stream, ahead of the delivery point.
#[derive(Debug)]
enum Piece {
    /// Bytes seen out of order, copied.
    Data(Vec<u8>),
    /// Bytes known to exist but not captured (the snap length cut the segment).
    Missing(u64),
}

impl Piece {
    fn len(&self) -> u64 {
        match self {
            Piece::Data(v) => v.len() as u64,
            Piece::Missing(n) => *n,
        }
    }

    fn data_len(&self) -> usize {
        match self {
            Piece::Data(v) => v.len(),
            Piece::Missing(_) => 0,
        }
    }
}

/// A held piece and when it arrived (for the age bound).
#[derive(Debug)]
struct Held {
    piece: Piece,
    since: Timestamp,
}

/// Held pieces cost a map node each on top of their bytes; many tiny segments
/// ahead of a hole are bounded by count as well as by bytes.
const BYTES_PER_PIECE: usize = 256;
const MIN_PIECES: usize = 64;

/// Reassembles one direction of a TCP connection.
///
/// Delivery is "first copy wins": where a retransmission overlaps bytes already
/// delivered or held, the earlier bytes stand and the overlap is not delivered
/// again. Memory is bounded: held (out-of-order) bytes never exceed
/// `max_buffered`, and held pieces never exceed `max(max_buffered / 256, 64)`;
/// when either bound would be passed, the earliest hole is declared a
/// [`Chunk::Gap`] and delivery resumes after it.
///
/// Two more ways a hole is given up before the end of the stream, so that what
/// follows a loss is not held back until the connection ends:
/// - [`ack`](Self::ack): the peer acknowledged bytes past the hole. A receiver
///   only acknowledges bytes it has, so the bytes exist and the capture missed
///   them; the hole is declared a gap as far as the acknowledgment reaches.
/// - [`expire_holes`](Self::expire_holes): held bytes waited longer than a
///   time limit (live capture).
#[derive(Debug)]
pub struct Reassembler {
    max_buffered: usize,
    max_pieces: usize,
    /// Sequence number of stream offset 0; `None` until the start is known.
    base: Option<SeqNum>,
    /// Stream offset of the next byte to deliver.
    next: u64,
    /// Non-overlapping pieces, keyed by stream offset, all starting after `next`.
    held: BTreeMap<u64, Held>,
    held_bytes: usize,
    overflows: u64,
    /// Stream offset up to which the peer acknowledged (highest seen), once
    /// the start is known. Invariant after every call: when it is past `next`,
    /// nothing is held.
    acked: Option<u64>,
    ack_gaps: u64,
    /// Capture time of the segment being pushed (stamps held pieces).
    now: Timestamp,
}

impl Reassembler {
    /// A reassembler that holds at most `max_buffered` out-of-order bytes.
    pub fn new(max_buffered: usize) -> Self {
        Reassembler {
            max_buffered,
            max_pieces: (max_buffered / BYTES_PER_PIECE).max(MIN_PIECES),
            base: None,
            next: 0,
            held: BTreeMap::new(),
            held_bytes: 0,
            overflows: 0,
            acked: None,
            ack_gaps: 0,
            now: Timestamp(0),
        }
    }

    /// Start of stream known (ISN+1) or, mid-stream, the first seq seen.
    ///
    /// Ignored once anything has been delivered or held, so that a retransmitted
    /// SYN cannot move a stream that is already flowing.
    pub fn set_next(&mut self, next: SeqNum) {
        if self.next == 0 && self.held.is_empty() && self.base != Some(next) {
            self.base = Some(next);
            // An acknowledgment measured from another start means nothing now.
            self.acked = None;
        }
    }

    /// The sequence number of the next byte to deliver, once the start is known.
    pub fn next_seq(&self) -> Option<SeqNum> {
        self.base.map(|b| b + self.next as u32)
    }

    /// Bytes delivered or declared missing so far.
    pub fn stream_offset(&self) -> u64 {
        self.next
    }

    /// Bytes currently held out of order.
    pub fn held_bytes(&self) -> usize {
        self.held_bytes
    }

    /// Heap bytes held for the out-of-order pieces: their bytes, and per piece its
    /// buffer's allocation and its place in the map (for the memory budget).
    #[inline]
    pub fn heap_bytes(&self) -> usize {
        self.held_bytes
            + self.held.len()
                * (crate::budget::btree_bytes(1, std::mem::size_of::<(u64, Held)>())
                    + crate::budget::ALLOC_OVERHEAD)
    }

    /// The largest number of out-of-order pieces held at once (the count bound,
    /// derived from the byte bound).
    pub fn max_pieces(&self) -> usize {
        self.max_pieces
    }

    /// How many times the bound forced a hole to be declared a gap.
    pub fn overflows(&self) -> u64 {
        self.overflows
    }

    /// How many times an acknowledgment from the peer declared a hole a gap.
    pub fn ack_gaps(&self) -> u64 {
        self.ack_gaps
    }

    /// The capture time of what is pushed next; held pieces are stamped with
    /// it for [`expire_holes`](Self::expire_holes). Time is an input: nothing
    /// here reads a clock.
    pub fn set_time(&mut self, now: Timestamp) {
        self.now = now;
    }

    /// The peer acknowledged everything before `ack`.
    ///
    /// A receiver acknowledges only bytes it has in order, so any hole before
    /// `ack` holds bytes that were sent and received but not captured: it is
    /// declared a [`Chunk::Gap`] now (up to `ack`, or up to the next held piece
    /// if that comes first) and the held bytes after it are delivered. An
    /// acknowledgment at or behind the delivery point (old, duplicate) does
    /// nothing; one before the start is known is ignored (it cannot be placed).
    /// With nothing held, the point is only remembered: the missing bytes may
    /// still be captured later (an odd capture point), and a segment held
    /// behind it later is released at once. The ACK of a FIN (one past the
    /// last byte) therefore never makes a gap of its own.
    pub fn ack(&mut self, ack: SeqNum, out: &mut impl FnMut(Chunk<'_>)) {
        let Some(here) = self.next_seq() else {
            return;
        };
        let ahead = ack - here;
        if ahead <= 0 {
            return;
        }
        let off = self.next + ahead as u64;
        self.acked = Some(self.acked.map_or(off, |a| a.max(off)));
        self.release_acked(out);
    }

    /// Declare gaps up to the acknowledged point, delivering what is held.
    fn release_acked(&mut self, out: &mut impl FnMut(Chunk<'_>)) {
        let Some(acked) = self.acked else {
            return;
        };
        while acked > self.next {
            let Some(&k) = self.held.keys().next() else {
                break;
            };
            let stop = k.min(acked);
            if stop > self.next {
                self.ack_gaps += 1;
                out(Chunk::Gap(stop - self.next));
                self.next = stop;
            }
            self.drain_held(out);
        }
    }

    /// Live mode: give up on every hole that has held bytes waiting behind it
    /// that arrived before `older_than` (each becomes a [`Chunk::Gap`], the held
    /// bytes are delivered up to the next hole whose bytes are all newer).
    /// Returns how many holes were declared.
    pub fn expire_holes(&mut self, older_than: Timestamp, out: &mut impl FnMut(Chunk<'_>)) -> u64 {
        // The last held piece that is too old: every hole before it goes.
        let Some(last) = self
            .held
            .iter()
            .rev()
            .find(|(_, h)| h.since < older_than)
            .map(|(&k, _)| k)
        else {
            return 0;
        };
        let mut declared = 0;
        while let Some(&k) = self.held.keys().next() {
            if k > last {
                break;
            }
            if k > self.next {
                declared += 1;
            }
            self.skip_to(k, out);
        }
        declared
    }

    /// Whether anything is held behind a hole.
    pub fn is_holding(&self) -> bool {
        !self.held.is_empty()
    }

    /// Insert a segment; in-order bytes are delivered at once, out-of-order ones held (bounded);
    /// retransmissions and overlaps delivered once; if the held bytes exceed the bound, the
    /// earliest hole is declared a gap and delivery resumes after it.
    pub fn push(&mut self, seq: SeqNum, data: &[u8], out: &mut impl FnMut(Chunk<'_>)) {
        self.push_truncated(seq, data, 0, out);
    }

    /// Like [`push`](Self::push) for a segment whose last `missing` bytes were not
    /// captured (snap length): they become a [`Chunk::Gap`] in their place.
    pub fn push_truncated(
        &mut self,
        seq: SeqNum,
        data: &[u8],
        missing: u64,
        out: &mut impl FnMut(Chunk<'_>),
    ) {
        let seg_len = data.len() as u64 + missing;
        if seg_len == 0 {
            return;
        }
        let base = *self.base.get_or_insert(seq);
        let here = base + self.next as u32;
        let start = self.next as i128 + i128::from(seq - here);
        let end = start + i128::from(seg_len);
        if end <= self.next as i128 {
            // Entirely before the delivery point: a retransmission.
            return;
        }
        // Cut what precedes the delivery point (a partial retransmission).
        let skip = (self.next as i128 - start).max(0) as u64;
        let start = start.max(self.next as i128) as u64;
        let (data, missing) = match usize::try_from(skip) {
            Ok(s) if s <= data.len() => (data.get(s..).unwrap_or(&[]), missing),
            _ => (&[][..], seg_len - skip),
        };
        if start == self.next {
            self.deliver_from(start, data, missing, out);
        } else {
            self.hold(start, data, missing);
            // Held behind bytes the peer already acknowledged: they were lost
            // from the capture, not delayed.
            self.release_acked(out);
            self.enforce_bound(out);
        }
    }

    /// End of stream (FIN, RST, end of capture): any hole before held data becomes a Gap, held data delivered.
    pub fn flush(&mut self, out: &mut impl FnMut(Chunk<'_>)) {
        while let Some(&k) = self.held.keys().next() {
            self.skip_to(k, out);
        }
    }

    /// Give up on the bytes before stream offset `k` (a hole), then hand out
    /// what is held from there.
    fn skip_to(&mut self, k: u64, out: &mut impl FnMut(Chunk<'_>)) {
        if k > self.next {
            out(Chunk::Gap(k - self.next));
            self.next = k;
        }
        self.drain_held(out);
    }

    /// [`flush`](Self::flush), then report as a gap any bytes missing before
    /// `end`, the sequence number just past the stream's last byte (a FIN's seq).
    pub fn flush_to(&mut self, end: SeqNum, out: &mut impl FnMut(Chunk<'_>)) {
        self.flush(out);
        if let Some(here) = self.next_seq() {
            let missing = end - here;
            if missing > 0 {
                out(Chunk::Gap(missing as u64));
                self.next += missing as u64;
            }
        }
    }

    /// Deliver a segment that starts at the delivery point, interleaved with any
    /// held pieces it reaches (those were first, so they win the overlap).
    fn deliver_from(
        &mut self,
        start: u64,
        data: &[u8],
        missing: u64,
        out: &mut impl FnMut(Chunk<'_>),
    ) {
        let data_len = data.len() as u64;
        let seg_len = data_len + missing;
        loop {
            self.drain_held(out);
            let pos = self.next - start;
            if pos >= seg_len {
                break;
            }
            let limit = match self.held.keys().next() {
                Some(&k) => (k - start).min(seg_len),
                None => seg_len,
            };
            if pos < data_len {
                let stop = limit.min(data_len);
                if let Some(bytes) = data.get(pos as usize..stop as usize) {
                    out(Chunk::Data(bytes));
                }
                self.next = start + stop;
            } else {
                out(Chunk::Gap(limit - pos));
                self.next = start + limit;
            }
        }
    }

    /// Hand out held pieces that start at or before the delivery point.
    fn drain_held(&mut self, out: &mut impl FnMut(Chunk<'_>)) {
        while let Some(entry) = self.held.first_entry() {
            if *entry.key() > self.next {
                break;
            }
            let (k, Held { piece, .. }) = entry.remove_entry();
            self.held_bytes = self.held_bytes.saturating_sub(piece.data_len());
            let end = k + piece.len();
            if end <= self.next {
                continue;
            }
            let skip = self.next - k;
            match piece {
                Piece::Data(v) => {
                    if let Some(bytes) = usize::try_from(skip).ok().and_then(|s| v.get(s..)) {
                        out(Chunk::Data(bytes));
                    }
                }
                Piece::Missing(n) => out(Chunk::Gap(n - skip)),
            }
            self.next = end;
        }
    }

    /// Copy the parts of a segment ahead of the delivery point that no held
    /// piece covers yet.
    fn hold(&mut self, start: u64, data: &[u8], missing: u64) {
        let data_end = start + data.len() as u64;
        let end = data_end + missing;
        // Held pieces overlapping [start, end), in order; they never overlap each other.
        let mut covered: Vec<(u64, u64)> = Vec::new();
        for (&k, h) in self.held.range(..end).rev() {
            let e = k + h.piece.len();
            if e <= start {
                break;
            }
            covered.push((k, e));
        }
        covered.reverse();
        let mut at = start;
        for (k, e) in covered.into_iter().chain(std::iter::once((end, end))) {
            if k > at {
                self.insert_piece(start, data, data_end, at, k);
            }
            at = at.max(e);
        }
    }

    /// Insert the uncovered range [a, b) of a segment starting at `start`.
    fn insert_piece(&mut self, start: u64, data: &[u8], data_end: u64, a: u64, b: u64) {
        if a < data_end {
            let stop = b.min(data_end);
            let bytes = data
                .get((a - start) as usize..(stop - start) as usize)
                .unwrap_or(&[]);
            self.held_bytes += bytes.len();
            self.put(a, Piece::Data(bytes.to_vec()));
            if stop < b {
                self.put(stop, Piece::Missing(b - stop));
            }
        } else {
            self.put(a, Piece::Missing(b - a));
        }
    }

    fn put(&mut self, at: u64, piece: Piece) {
        let since = self.now;
        self.held.insert(at, Held { piece, since });
    }

    /// While over the bound, give up on the earliest hole.
    fn enforce_bound(&mut self, out: &mut impl FnMut(Chunk<'_>)) {
        while self.held_bytes > self.max_buffered || self.held.len() > self.max_pieces {
            let Some(&k) = self.held.keys().next() else {
                break;
            };
            self.overflows += 1;
            self.skip_to(k, out);
        }
    }

    /// The holes before and between held pieces, as (offset, length) from the
    /// stream start; for tests and diagnostics.
    pub fn holes(&self) -> Vec<(u64, u64)> {
        let mut at = self.next;
        let mut holes = Vec::new();
        for (&k, h) in &self.held {
            if k > at {
                holes.push((at, k - at));
            }
            at = k + h.piece.len();
        }
        holes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What came out, consecutive data merged: `D` bytes or `G` gap length.
    #[derive(Debug, PartialEq, Eq)]
    enum Out {
        D(Vec<u8>),
        G(u64),
    }

    #[derive(Default)]
    struct Sink(Vec<Out>);

    impl Sink {
        fn take(&mut self) -> Vec<Out> {
            std::mem::take(&mut self.0)
        }
        fn f(&mut self) -> impl FnMut(Chunk<'_>) + '_ {
            |c| match c {
                Chunk::Data(d) => {
                    if let Some(Out::D(v)) = self.0.last_mut() {
                        v.extend_from_slice(d);
                    } else {
                        self.0.push(Out::D(d.to_vec()));
                    }
                }
                Chunk::Gap(n) => self.0.push(Out::G(n)),
            }
        }
    }

    fn d(s: &str) -> Out {
        Out::D(s.as_bytes().to_vec())
    }

    fn push(r: &mut Reassembler, sink: &mut Sink, seq: u32, s: &str) -> Vec<Out> {
        r.push(SeqNum(seq), s.as_bytes(), &mut sink.f());
        sink.take()
    }

    #[test]
    fn in_order_is_delivered_at_once() {
        let mut r = Reassembler::new(1000);
        let mut s = Sink::default();
        r.set_next(SeqNum(100));
        assert_eq!(push(&mut r, &mut s, 100, "abc"), vec![d("abc")]);
        assert_eq!(push(&mut r, &mut s, 103, "de"), vec![d("de")]);
        assert_eq!(r.next_seq(), Some(SeqNum(105)));
        assert_eq!(r.holes(), vec![]);
        assert_eq!(r.held_bytes(), 0);
    }

    #[test]
    fn in_order_data_is_not_copied() {
        let mut r = Reassembler::new(1000);
        r.set_next(SeqNum(0));
        let buf = b"hello".to_vec();
        let mut same = false;
        r.push(SeqNum(0), &buf, &mut |c| {
            if let Chunk::Data(d) = c {
                same = std::ptr::eq(d.as_ptr(), buf.as_ptr());
            }
        });
        assert!(same, "in-order bytes must come straight from the segment");
    }

    #[test]
    fn reorder_is_held_then_released() {
        let mut r = Reassembler::new(1000);
        let mut s = Sink::default();
        r.set_next(SeqNum(0));
        assert_eq!(push(&mut r, &mut s, 6, "ghi"), vec![]);
        assert_eq!(r.holes(), vec![(0, 6)]);
        assert_eq!(push(&mut r, &mut s, 3, "def"), vec![]);
        assert_eq!(r.holes(), vec![(0, 3)]);
        assert_eq!(r.held_bytes(), 6);
        assert_eq!(push(&mut r, &mut s, 0, "abc"), vec![d("abcdefghi")]);
        assert_eq!(r.holes(), vec![]);
        assert_eq!(r.held_bytes(), 0);
    }

    #[test]
    fn two_holes() {
        let mut r = Reassembler::new(1000);
        let mut s = Sink::default();
        r.set_next(SeqNum(0));
        push(&mut r, &mut s, 2, "c");
        push(&mut r, &mut s, 5, "f");
        assert_eq!(r.holes(), vec![(0, 2), (3, 2)]);
        assert_eq!(push(&mut r, &mut s, 0, "ab"), vec![d("abc")]);
        assert_eq!(r.holes(), vec![(3, 2)]);
        assert_eq!(push(&mut r, &mut s, 3, "de"), vec![d("def")]);
        assert_eq!(r.holes(), vec![]);
    }

    #[test]
    fn duplicates_are_delivered_once() {
        let mut r = Reassembler::new(1000);
        let mut s = Sink::default();
        r.set_next(SeqNum(0));
        assert_eq!(push(&mut r, &mut s, 0, "abc"), vec![d("abc")]);
        assert_eq!(push(&mut r, &mut s, 0, "abc"), vec![]);
        assert_eq!(push(&mut r, &mut s, 6, "ghi"), vec![]);
        assert_eq!(push(&mut r, &mut s, 6, "ghi"), vec![]);
        assert_eq!(r.held_bytes(), 3);
        assert_eq!(push(&mut r, &mut s, 3, "def"), vec![d("defghi")]);
        assert_eq!(push(&mut r, &mut s, 1, "bc"), vec![]);
    }

    #[test]
    fn overlap_with_delivered_bytes() {
        let mut r = Reassembler::new(1000);
        let mut s = Sink::default();
        r.set_next(SeqNum(0));
        push(&mut r, &mut s, 0, "abcd");
        // Starts before the delivery point, ends after it.
        assert_eq!(push(&mut r, &mut s, 2, "cdef"), vec![d("ef")]);
        assert_eq!(r.next_seq(), Some(SeqNum(6)));
    }

    #[test]
    fn overlap_with_held_bytes_on_both_sides() {
        let mut r = Reassembler::new(1000);
        let mut s = Sink::default();
        r.set_next(SeqNum(0));
        push(&mut r, &mut s, 4, "EFGH");
        // Covers the held piece's head (left overlap) ...
        push(&mut r, &mut s, 2, "cdXX");
        assert_eq!(r.held_bytes(), 6);
        // ... and its tail (right overlap); the first copy wins.
        push(&mut r, &mut s, 7, "YijK");
        assert_eq!(r.held_bytes(), 9);
        assert_eq!(r.holes(), vec![(0, 2)]);
        assert_eq!(push(&mut r, &mut s, 0, "ab"), vec![d("abcdEFGHijK")]);
    }

    #[test]
    fn in_order_segment_spanning_held_pieces() {
        let mut r = Reassembler::new(1000);
        let mut s = Sink::default();
        r.set_next(SeqNum(0));
        push(&mut r, &mut s, 3, "DE");
        push(&mut r, &mut s, 7, "H");
        assert_eq!(r.holes(), vec![(0, 3), (5, 2)]);
        // One segment covers everything; held bytes win where they overlap.
        assert_eq!(push(&mut r, &mut s, 0, "abcdefghij"), vec![d("abcDEfgHij")]);
        assert_eq!(r.held_bytes(), 0);
        assert_eq!(r.next_seq(), Some(SeqNum(10)));
    }

    #[test]
    fn wrap_at_2_pow_32() {
        let mut r = Reassembler::new(1000);
        let mut s = Sink::default();
        let isn = u32::MAX - 2;
        r.set_next(SeqNum(isn));
        assert_eq!(push(&mut r, &mut s, isn, "ab"), vec![d("ab")]);
        // Out of order across the wrap: "ef" at seq 1, "cd" at u32::MAX..0.
        assert_eq!(push(&mut r, &mut s, 1, "ef"), vec![]);
        assert_eq!(r.holes(), vec![(2, 2)]);
        assert_eq!(push(&mut r, &mut s, u32::MAX, "cd"), vec![d("cdef")]);
        assert_eq!(r.next_seq(), Some(SeqNum(3)));
        // A retransmission from before the wrap is old.
        assert_eq!(push(&mut r, &mut s, isn, "abcd"), vec![]);
        assert_eq!(r.stream_offset(), 6);
    }

    #[test]
    fn gap_at_flush_then_resume() {
        let mut r = Reassembler::new(1000);
        let mut s = Sink::default();
        r.set_next(SeqNum(0));
        push(&mut r, &mut s, 0, "ab");
        push(&mut r, &mut s, 5, "fg");
        push(&mut r, &mut s, 10, "k");
        r.flush(&mut s.f());
        assert_eq!(
            s.take(),
            vec![Out::G(3), d("fg"), Out::G(3), d("k")],
            "each hole before held data becomes a gap"
        );
        assert_eq!(r.holes(), vec![]);
        // Delivery resumes after the gap.
        assert_eq!(push(&mut r, &mut s, 11, "lm"), vec![d("lm")]);
        // The lost bytes arriving late are now old.
        assert_eq!(push(&mut r, &mut s, 2, "cde"), vec![]);
    }

    #[test]
    fn flush_to_reports_a_missing_tail() {
        let mut r = Reassembler::new(1000);
        let mut s = Sink::default();
        r.set_next(SeqNum(0));
        push(&mut r, &mut s, 0, "ab");
        r.flush_to(SeqNum(7), &mut s.f());
        assert_eq!(s.take(), vec![Out::G(5)]);
        r.flush_to(SeqNum(7), &mut s.f());
        assert_eq!(s.take(), vec![]);
    }

    #[test]
    fn bound_exceeded_declares_the_earliest_hole() {
        let mut r = Reassembler::new(5);
        let mut s = Sink::default();
        r.set_next(SeqNum(0));
        push(&mut r, &mut s, 0, "a");
        assert_eq!(push(&mut r, &mut s, 3, "de"), vec![]);
        assert_eq!(push(&mut r, &mut s, 7, "hi"), vec![]);
        assert_eq!(r.holes(), vec![(1, 2), (5, 2)]);
        assert_eq!(r.overflows(), 0);
        // 6 held bytes > 5: the first hole goes, "de" is released; 4 held remain.
        assert_eq!(push(&mut r, &mut s, 10, "kl"), vec![Out::G(2), d("de")]);
        assert_eq!(r.overflows(), 1);
        assert_eq!(r.held_bytes(), 4);
        assert_eq!(r.holes(), vec![(5, 2), (9, 1)]);
        // Filling the remaining holes still works.
        assert_eq!(push(&mut r, &mut s, 5, "fg"), vec![d("fghi")]);
        assert_eq!(push(&mut r, &mut s, 9, "j"), vec![d("jkl")]);
    }

    #[test]
    fn segment_bigger_than_the_bound() {
        let mut r = Reassembler::new(3);
        let mut s = Sink::default();
        r.set_next(SeqNum(0));
        assert_eq!(
            push(&mut r, &mut s, 2, "cdefg"),
            vec![Out::G(2), d("cdefg")]
        );
        assert_eq!(r.held_bytes(), 0);
    }

    #[test]
    fn many_tiny_pieces_are_bounded_by_count() {
        let mut r = Reassembler::new(1 << 20);
        let mut s = Sink::default();
        r.set_next(SeqNum(0));
        for i in 0..10_000u32 {
            r.push(SeqNum(1 + 2 * i), b"x", &mut s.f());
        }
        assert!(r.holes().len() <= (1 << 20) / 256);
        assert!(r.overflows() > 0);
    }

    #[test]
    fn mid_stream_starts_at_the_first_seq_seen() {
        let mut r = Reassembler::new(100);
        let mut s = Sink::default();
        assert_eq!(push(&mut r, &mut s, 5000, "xyz"), vec![d("xyz")]);
        // Before the start: dropped.
        assert_eq!(push(&mut r, &mut s, 4990, "0123456789"), vec![]);
        assert_eq!(push(&mut r, &mut s, 5003, "!"), vec![d("!")]);
    }

    #[test]
    fn set_next_does_not_move_a_flowing_stream() {
        let mut r = Reassembler::new(100);
        let mut s = Sink::default();
        r.set_next(SeqNum(10));
        push(&mut r, &mut s, 10, "ab");
        r.set_next(SeqNum(500));
        assert_eq!(r.next_seq(), Some(SeqNum(12)));
    }

    #[test]
    fn truncated_segments_leave_gaps() {
        let mut r = Reassembler::new(100);
        let mut s = Sink::default();
        r.set_next(SeqNum(0));
        r.push_truncated(SeqNum(0), b"ab", 3, &mut s.f());
        assert_eq!(s.take(), vec![d("ab"), Out::G(3)]);
        assert_eq!(push(&mut r, &mut s, 5, "f"), vec![d("f")]);
        // Out of order and truncated: held, with its missing tail.
        r.push_truncated(SeqNum(9), b"j", 2, &mut s.f());
        assert_eq!(s.take(), vec![]);
        assert_eq!(push(&mut r, &mut s, 6, "ghi"), vec![d("ghij"), Out::G(2)]);
        assert_eq!(r.next_seq(), Some(SeqNum(12)));
    }

    fn ack(r: &mut Reassembler, sink: &mut Sink, ack: u32) -> Vec<Out> {
        r.ack(SeqNum(ack), &mut sink.f());
        sink.take()
    }

    #[test]
    fn ack_past_a_hole_declares_it_and_releases_what_is_held() {
        let mut r = Reassembler::new(1000);
        let mut s = Sink::default();
        r.set_next(SeqNum(100));
        assert_eq!(push(&mut r, &mut s, 100, "ab"), vec![d("ab")]);
        assert_eq!(push(&mut r, &mut s, 105, "fg"), vec![]);
        // The peer has everything up to 107: "cde" was lost from the capture.
        assert_eq!(ack(&mut r, &mut s, 107), vec![Out::G(3), d("fg")]);
        assert_eq!(r.ack_gaps(), 1);
        assert_eq!(r.held_bytes(), 0);
        assert_eq!(r.next_seq(), Some(SeqNum(107)));
        // The lost bytes arriving late are old now.
        assert_eq!(push(&mut r, &mut s, 102, "cde"), vec![]);
        assert_eq!(push(&mut r, &mut s, 107, "h"), vec![d("h")]);
    }

    #[test]
    fn ack_past_several_holes_declares_each() {
        let mut r = Reassembler::new(1000);
        let mut s = Sink::default();
        r.set_next(SeqNum(0));
        push(&mut r, &mut s, 2, "c");
        push(&mut r, &mut s, 5, "f");
        push(&mut r, &mut s, 9, "j");
        // Acks up to 7: both holes before it go; "j" stays behind 7..9.
        assert_eq!(
            ack(&mut r, &mut s, 7),
            vec![Out::G(2), d("c"), Out::G(2), d("f"), Out::G(1)]
        );
        assert_eq!(r.holes(), vec![(7, 2)]);
        assert_eq!(push(&mut r, &mut s, 7, "hi"), vec![d("hij")]);
    }

    #[test]
    fn ack_inside_a_hole_declares_only_what_it_proves() {
        let mut r = Reassembler::new(1000);
        let mut s = Sink::default();
        r.set_next(SeqNum(0));
        push(&mut r, &mut s, 0, "a");
        push(&mut r, &mut s, 8, "ij");
        assert_eq!(ack(&mut r, &mut s, 4), vec![Out::G(3)]);
        assert_eq!(r.holes(), vec![(4, 4)]);
        assert_eq!(r.held_bytes(), 2);
        // The rest of the hole can still arrive.
        assert_eq!(push(&mut r, &mut s, 4, "efgh"), vec![d("efghij")]);
        assert_eq!(r.next_seq(), Some(SeqNum(10)));
    }

    #[test]
    fn old_and_duplicate_acks_do_nothing() {
        let mut r = Reassembler::new(1000);
        let mut s = Sink::default();
        r.set_next(SeqNum(500));
        push(&mut r, &mut s, 500, "abc");
        push(&mut r, &mut s, 506, "gh");
        for a in [500, 501, 503, 503, 400, 500u32.wrapping_sub(1 << 30)] {
            assert_eq!(ack(&mut r, &mut s, a), vec![], "ack {a}");
        }
        // Exactly 2^31 away is not ordered: ignored too.
        assert_eq!(ack(&mut r, &mut s, 503u32.wrapping_add(1 << 31)), vec![]);
        assert_eq!(r.holes(), vec![(3, 3)]);
        assert_eq!(r.ack_gaps(), 0);
        assert_eq!(push(&mut r, &mut s, 503, "def"), vec![d("defgh")]);
    }

    #[test]
    fn ack_across_the_wrap() {
        let mut r = Reassembler::new(1000);
        let mut s = Sink::default();
        let isn = u32::MAX - 1;
        r.set_next(SeqNum(isn));
        push(&mut r, &mut s, isn, "a");
        // "b" at u32::MAX and "c" at 0 lost; "d" at 1 held.
        push(&mut r, &mut s, 1, "d");
        assert_eq!(ack(&mut r, &mut s, 0), vec![Out::G(1)]);
        assert_eq!(ack(&mut r, &mut s, 2), vec![Out::G(1), d("d")]);
        assert_eq!(r.next_seq(), Some(SeqNum(2)));
        // An ack from before the wrap is old.
        assert_eq!(ack(&mut r, &mut s, u32::MAX), vec![]);
    }

    #[test]
    fn ack_before_the_start_is_known_is_ignored() {
        let mut r = Reassembler::new(1000);
        let mut s = Sink::default();
        // Mid-stream: the peer's ack comes first and cannot be placed.
        assert_eq!(ack(&mut r, &mut s, 9000), vec![]);
        // The first seq seen starts the stream (behind that ack: no gap).
        assert_eq!(
            push(&mut r, &mut s, 8990, "0123456789"),
            vec![d("0123456789")]
        );
        push(&mut r, &mut s, 9005, "xyz");
        // From here on acks count.
        assert_eq!(ack(&mut r, &mut s, 9008), vec![Out::G(5), d("xyz")]);
    }

    #[test]
    fn a_remembered_ack_releases_what_is_held_later() {
        let mut r = Reassembler::new(1000);
        let mut s = Sink::default();
        r.set_next(SeqNum(0));
        push(&mut r, &mut s, 0, "ab");
        // Acked past what was captured, nothing held: the bytes may still come.
        assert_eq!(ack(&mut r, &mut s, 6), vec![]);
        assert_eq!(push(&mut r, &mut s, 2, "cd"), vec![d("cd")]);
        // A segment held at the acked point: the hole before it was lost.
        assert_eq!(push(&mut r, &mut s, 6, "gh"), vec![Out::G(2), d("gh")]);
        assert_eq!(r.next_seq(), Some(SeqNum(8)));
        // Held beyond it: only as far as the ack proves.
        ack(&mut r, &mut s, 10);
        assert_eq!(push(&mut r, &mut s, 12, "mn"), vec![Out::G(2)]);
        assert_eq!(r.holes(), vec![(10, 2)]);
    }

    #[test]
    fn the_ack_of_a_fin_makes_no_gap() {
        let mut r = Reassembler::new(1000);
        let mut s = Sink::default();
        r.set_next(SeqNum(0));
        push(&mut r, &mut s, 0, "abc");
        // FIN at seq 3, acknowledged with 4.
        assert_eq!(ack(&mut r, &mut s, 4), vec![]);
        r.flush_to(SeqNum(3), &mut s.f());
        assert_eq!(s.take(), vec![]);
        // The same with data held: only the hole goes, not the FIN's number.
        let mut r = Reassembler::new(1000);
        r.set_next(SeqNum(0));
        push(&mut r, &mut s, 2, "c");
        assert_eq!(ack(&mut r, &mut s, 4), vec![Out::G(2), d("c")]);
        r.flush_to(SeqNum(3), &mut s.f());
        assert_eq!(s.take(), vec![]);
    }

    #[test]
    fn a_new_start_forgets_the_ack() {
        let mut r = Reassembler::new(1000);
        let mut s = Sink::default();
        r.set_next(SeqNum(0));
        ack(&mut r, &mut s, 50);
        // A different SYN before any data: the old ack means nothing now.
        r.set_next(SeqNum(1000));
        assert_eq!(push(&mut r, &mut s, 1010, "k"), vec![]);
        assert_eq!(r.holes(), vec![(0, 10)]);
    }

    #[test]
    fn holes_expire_by_the_age_of_what_waits_behind_them() {
        let mut r = Reassembler::new(1000);
        let mut s = Sink::default();
        r.set_next(SeqNum(0));
        r.set_time(Timestamp(1_000));
        push(&mut r, &mut s, 0, "a");
        push(&mut r, &mut s, 3, "d");
        r.set_time(Timestamp(5_000));
        push(&mut r, &mut s, 6, "g");
        assert_eq!(r.expire_holes(Timestamp(1_000), &mut s.f()), 0);
        assert_eq!(s.take(), vec![]);
        // "d" has waited long enough, "g" not: only the first hole goes.
        assert_eq!(r.expire_holes(Timestamp(1_001), &mut s.f()), 1);
        assert_eq!(s.take(), vec![Out::G(2), d("d")]);
        assert_eq!(r.holes(), vec![(4, 2)]);
        assert_eq!(r.expire_holes(Timestamp(5_001), &mut s.f()), 1);
        assert_eq!(s.take(), vec![Out::G(2), d("g")]);
        assert!(!r.is_holding());
    }

    #[test]
    fn an_old_piece_behind_a_newer_one_expires_both_holes() {
        let mut r = Reassembler::new(1000);
        let mut s = Sink::default();
        r.set_next(SeqNum(0));
        r.set_time(Timestamp(9_000));
        push(&mut r, &mut s, 2, "c");
        r.set_time(Timestamp(1_000));
        push(&mut r, &mut s, 5, "f");
        push(&mut r, &mut s, 9, "j");
        // "f" is old and waits behind both holes before it; "j" is old too.
        assert_eq!(r.expire_holes(Timestamp(2_000), &mut s.f()), 3);
        assert_eq!(
            s.take(),
            vec![Out::G(2), d("c"), Out::G(2), d("f"), Out::G(3), d("j")]
        );
    }

    proptest! {
        #[test]
        fn any_segmentation_reorder_duplication_gives_the_stream(
            stream in proptest::collection::vec(any::<u8>(), 0..2000),
            isn in any::<u32>(),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..40),
            dups in proptest::collection::vec((any::<prop::sample::Index>(), 0usize..8, 0usize..8), 0..20),
            shuffle_seed in any::<u64>(),
        ) {
            // Segment boundaries.
            let mut bounds: Vec<usize> = cuts.iter().map(|i| i.index(stream.len() + 1)).collect();
            bounds.push(0);
            bounds.push(stream.len());
            bounds.sort_unstable();
            bounds.dedup();
            let mut segs: Vec<(usize, usize)> = bounds.windows(2).map(|w| (w[0], w[1])).collect();
            // Duplicates, some stretched to overlap their neighbours.
            let originals = segs.clone();
            if !originals.is_empty() {
                for (i, grow_l, grow_r) in &dups {
                    let (a, b) = originals[i.index(originals.len())];
                    segs.push((a.saturating_sub(*grow_l), (b + grow_r).min(stream.len())));
                }
            }
            // Deterministic shuffle.
            let mut x = shuffle_seed | 1;
            for i in (1..segs.len()).rev() {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                segs.swap(i, (x % (i as u64 + 1)) as usize);
            }
            let mut r = Reassembler::new(1 << 20);
            r.set_next(SeqNum(isn));
            let mut got = Vec::new();
            let mut gaps = 0u64;
            // What the receiver has in order so far: all it may acknowledge.
            let mut have = vec![false; stream.len()];
            let mut prefix = 0usize;
            for (i, (a, b)) in segs.into_iter().enumerate() {
                r.push(SeqNum(isn) + a as u32, &stream[a..b], &mut |c| match c {
                    Chunk::Data(d) => got.extend_from_slice(d),
                    Chunk::Gap(n) => gaps += n,
                });
                have[a..b].iter_mut().for_each(|h| *h = true);
                while have.get(prefix) == Some(&true) {
                    prefix += 1;
                }
                // Acks of anything up to that prefix, old ones included.
                let acked = (x as usize ^ i.wrapping_mul(2_654_435_761)) % (prefix + 1);
                r.ack(SeqNum(isn) + acked as u32, &mut |c| match c {
                    Chunk::Data(d) => got.extend_from_slice(d),
                    Chunk::Gap(n) => gaps += n,
                });
                r.ack(SeqNum(isn) + prefix as u32, &mut |c| match c {
                    Chunk::Data(d) => got.extend_from_slice(d),
                    Chunk::Gap(n) => gaps += n,
                });
            }
            r.flush(&mut |c| match c {
                Chunk::Data(d) => got.extend_from_slice(d),
                Chunk::Gap(n) => gaps += n,
            });
            prop_assert_eq!(gaps, 0);
            prop_assert_eq!(got, stream);
        }
    }
}
