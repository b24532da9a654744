//! Releasing per-connection results in connection order as connections end.
//!
//! A result waits until every connection numbered before it has ended, so that
//! views print connections in order while memory holds only what is waiting.
//! Past [`MAX_WAITING`] results waiting (a long-lived connection and many short
//! ones after it, in a long live capture), they go out of order instead of piling
//! up: the turn of the connections still open is skipped, and their results go out
//! as soon as they end.

use std::collections::BTreeMap;

/// Results waiting behind an older connection still open, at most.
pub const MAX_WAITING: usize = 4096;

/// Results keyed by connection number, released in order.
#[derive(Debug)]
pub struct InOrder<T> {
    waiting: BTreeMap<u64, T>,
    next: u64,
}

impl<T> Default for InOrder<T> {
    fn default() -> Self {
        InOrder {
            waiting: BTreeMap::new(),
            next: 0,
        }
    }
}

impl<T> InOrder<T> {
    /// Nothing waiting; connection 0 is first.
    pub fn new() -> InOrder<T> {
        InOrder::default()
    }

    /// `conn` has ended with `result`.
    pub fn push(&mut self, conn: u64, result: T) {
        self.waiting.insert(conn, result);
    }

    /// The results whose turn has come, in connection order (see the module docs).
    pub fn ready(&mut self) -> Vec<(u64, T)> {
        let mut out = Vec::new();
        if self.waiting.len() > MAX_WAITING {
            if let Some(&first) = self.waiting.keys().next() {
                self.next = self.next.max(first);
            }
        }
        while let Some(entry) = self.waiting.first_entry().filter(|e| *e.key() < self.next) {
            out.push(entry.remove_entry());
        }
        while let Some(result) = self.waiting.remove(&self.next) {
            out.push((self.next, result));
            self.next += 1;
        }
        out
    }

    /// The end of the input: everything still waiting, in connection order. Results
    /// pushed afterwards go out at the next [`InOrder::ready`].
    pub fn finish(&mut self) -> Vec<(u64, T)> {
        self.next = u64::MAX;
        std::mem::take(&mut self.waiting).into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_wait_for_the_connections_before_them() {
        let mut o = InOrder::new();
        o.push(1, "b");
        assert!(o.ready().is_empty());
        o.push(0, "a");
        assert_eq!(o.ready(), [(0, "a"), (1, "b")]);
        o.push(3, "d");
        assert!(o.ready().is_empty());
        assert_eq!(o.finish(), [(3, "d")]);
    }

    #[test]
    fn past_the_bound_the_open_connections_turn_is_skipped() {
        let mut o = InOrder::new();
        // Connection 0 stays open while MAX_WAITING + 1 later ones end.
        for conn in 1..=MAX_WAITING as u64 + 1 {
            o.push(conn, conn);
        }
        let out = o.ready();
        assert_eq!(out.len(), MAX_WAITING + 1);
        assert_eq!(out.first(), Some(&(1, 1)));
        // Connection 0 goes out as soon as it ends.
        o.push(0, 0);
        assert_eq!(o.ready(), [(0, 0)]);
    }
}
