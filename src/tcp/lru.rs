//! The least-recently-used order of the open connections, for eviction when the
//! flow table is full.
//!
//! A doubly linked list over a vector of nodes: every packet moves its connection
//! to the newest end, so touching, adding, removing and taking the oldest must all
//! be O(1) and allocate nothing in the steady state (a `BTreeMap` keyed by a use
//! counter cost a removal and an insertion, with node rebalancing, per packet).
//! Freed nodes are reused, so the vector never holds more nodes than the most
//! connections ever open at once.

/// No node.
const NIL: usize = usize::MAX;

#[derive(Debug)]
struct Node<K> {
    prev: usize,
    next: usize,
    /// None while the node is on the free list.
    key: Option<K>,
}

/// Keys in order of last use; each key is reached by the slot [`Lru::push`] gave it.
#[derive(Debug)]
pub(crate) struct Lru<K> {
    nodes: Vec<Node<K>>,
    /// Oldest.
    head: usize,
    /// Newest.
    tail: usize,
    /// Free nodes, linked through `next`.
    free: usize,
    len: usize,
}

impl<K: Copy> Lru<K> {
    /// An empty order.
    pub(crate) fn new() -> Self {
        Lru {
            nodes: Vec::new(),
            head: NIL,
            tail: NIL,
            free: NIL,
            len: 0,
        }
    }

    /// Heap bytes of the nodes (for the memory budget).
    pub(crate) fn heap_bytes(&self) -> usize {
        crate::budget::vec_bytes(&self.nodes)
    }

    /// Keys held.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Adds `key` as the newest; returns its slot.
    pub(crate) fn push(&mut self, key: K) -> usize {
        let slot = if self.free == NIL {
            self.nodes.push(Node {
                prev: NIL,
                next: NIL,
                key: Some(key),
            });
            self.nodes.len() - 1
        } else {
            let slot = self.free;
            let n = &mut self.nodes[slot];
            self.free = n.next;
            n.key = Some(key);
            slot
        };
        self.len += 1;
        self.link_newest(slot);
        slot
    }

    /// Makes the key in `slot` the newest.
    pub(crate) fn touch(&mut self, slot: usize) {
        if slot == self.tail || !self.holds(slot) {
            return;
        }
        self.unlink(slot);
        self.link_newest(slot);
    }

    /// Removes the key in `slot`.
    pub(crate) fn remove(&mut self, slot: usize) -> Option<K> {
        if !self.holds(slot) {
            return None;
        }
        self.unlink(slot);
        let n = &mut self.nodes[slot];
        let key = n.key.take();
        n.next = self.free;
        n.prev = NIL;
        self.free = slot;
        self.len -= 1;
        key
    }

    /// Removes and returns the oldest key.
    pub(crate) fn pop_oldest(&mut self) -> Option<K> {
        if self.head == NIL {
            return None;
        }
        self.remove(self.head)
    }

    /// Forgets every key (and the nodes' memory).
    pub(crate) fn clear(&mut self) {
        *self = Lru::new();
    }

    fn holds(&self, slot: usize) -> bool {
        self.nodes.get(slot).is_some_and(|n| n.key.is_some())
    }

    fn unlink(&mut self, slot: usize) {
        let (prev, next) = (self.nodes[slot].prev, self.nodes[slot].next);
        if prev == NIL {
            self.head = next;
        } else {
            self.nodes[prev].next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            self.nodes[next].prev = prev;
        }
    }

    fn link_newest(&mut self, slot: usize) {
        let tail = self.tail;
        let n = &mut self.nodes[slot];
        n.prev = tail;
        n.next = NIL;
        if tail == NIL {
            self.head = slot;
        } else {
            self.nodes[tail].next = slot;
        }
        self.tail = slot;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn drain(l: &mut Lru<u32>) -> Vec<u32> {
        std::iter::from_fn(|| l.pop_oldest()).collect()
    }

    #[test]
    fn touch_moves_to_the_newest_end() {
        let mut l = Lru::new();
        let a = l.push(1);
        let _b = l.push(2);
        let c = l.push(3);
        l.touch(a);
        l.touch(c); // 2 3 1, then 2 1 3
        assert_eq!(l.len(), 3);
        assert_eq!(drain(&mut l), [2, 1, 3]);
        assert_eq!(l.len(), 0);
        assert_eq!(l.pop_oldest(), None);
    }

    #[test]
    fn removed_slots_are_reused_and_stale_slots_ignored() {
        let mut l = Lru::new();
        let a = l.push(1);
        let b = l.push(2);
        assert_eq!(l.remove(a), Some(1));
        assert_eq!(l.remove(a), None);
        l.touch(a); // a free slot: nothing happens
        let c = l.push(3);
        assert_eq!(c, a, "the freed node is reused");
        l.touch(b);
        assert_eq!(drain(&mut l), [3, 2]);
        assert_eq!(l.remove(99), None);
    }

    #[derive(Clone, Debug)]
    enum Op {
        Push,
        Touch(usize),
        Remove(usize),
        Pop,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => Just(Op::Push),
            4 => (0usize..16).prop_map(Op::Touch),
            2 => (0usize..16).prop_map(Op::Remove),
            1 => Just(Op::Pop),
        ]
    }

    proptest! {
        /// Agrees with a plain vector kept in order of use.
        #[test]
        fn agrees_with_a_vector_model(ops in proptest::collection::vec(op(), 0..200)) {
            let mut l = Lru::new();
            // (key, slot), oldest first.
            let mut model: Vec<(u32, usize)> = Vec::new();
            let mut next_key = 0u32;
            for op in ops {
                match op {
                    Op::Push => {
                        let slot = l.push(next_key);
                        model.push((next_key, slot));
                        next_key += 1;
                    }
                    Op::Touch(i) if !model.is_empty() => {
                        let e = model.remove(i % model.len());
                        l.touch(e.1);
                        model.push(e);
                    }
                    Op::Remove(i) if !model.is_empty() => {
                        let e = model.remove(i % model.len());
                        prop_assert_eq!(l.remove(e.1), Some(e.0));
                    }
                    Op::Pop => {
                        let want = (!model.is_empty()).then(|| model.remove(0).0);
                        prop_assert_eq!(l.pop_oldest(), want);
                    }
                    _ => {}
                }
                prop_assert_eq!(l.len(), model.len());
            }
            let rest: Vec<u32> = model.iter().map(|e| e.0).collect();
            prop_assert_eq!(drain(&mut l), rest);
        }
    }
}
