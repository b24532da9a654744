//! TCP sequence numbers: 32-bit values compared modulo 2^32.

use std::cmp::Ordering;
use std::fmt;
use std::ops::{Add, Sub};

/// A TCP sequence (or acknowledgment) number.
///
/// Sequence numbers wrap at 2^32, so they are compared by their signed distance
/// (RFC 1982 serial number arithmetic, RFC 9293 3.4): `a < b` when `b` is less
/// than 2^31 ahead of `a`. Two numbers exactly 2^31 apart are not ordered
/// (`partial_cmp` gives `None`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SeqNum(pub u32);

impl SeqNum {
    /// The signed distance from `earlier` to `self` (`self - earlier`).
    pub fn distance_from(self, earlier: SeqNum) -> i32 {
        self - earlier
    }
}

impl Add<u32> for SeqNum {
    type Output = SeqNum;

    fn add(self, rhs: u32) -> SeqNum {
        SeqNum(self.0.wrapping_add(rhs))
    }
}

impl Sub for SeqNum {
    type Output = i32;

    /// How far `self` is ahead of `rhs` (negative when behind).
    fn sub(self, rhs: SeqNum) -> i32 {
        // Reinterpreting the wrapped difference as signed is the RFC 1982 comparison.
        self.0.wrapping_sub(rhs.0) as i32
    }
}

impl PartialOrd for SeqNum {
    fn partial_cmp(&self, other: &SeqNum) -> Option<Ordering> {
        match *self - *other {
            0 => Some(Ordering::Equal),
            i32::MIN => None,
            d if d > 0 => Some(Ordering::Greater),
            _ => Some(Ordering::Less),
        }
    }
}

impl fmt::Display for SeqNum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_wraps() {
        assert_eq!(SeqNum(u32::MAX) + 1, SeqNum(0));
        assert_eq!(SeqNum(u32::MAX - 9) + 20, SeqNum(10));
        assert_eq!(SeqNum(5) + 0, SeqNum(5));
    }

    #[test]
    fn distance_across_the_wrap() {
        assert_eq!(SeqNum(10) - SeqNum(u32::MAX - 9), 20);
        assert_eq!(SeqNum(u32::MAX - 9) - SeqNum(10), -20);
        assert_eq!(SeqNum(100) - SeqNum(40), 60);
        assert_eq!(SeqNum(7).distance_from(SeqNum(7)), 0);
    }

    #[test]
    fn ordering_is_modular() {
        let table: &[(u32, u32, Option<Ordering>)] = &[
            (1, 2, Some(Ordering::Less)),
            (2, 1, Some(Ordering::Greater)),
            (9, 9, Some(Ordering::Equal)),
            (u32::MAX, 0, Some(Ordering::Less)),
            (0, u32::MAX, Some(Ordering::Greater)),
            (0x7fff_ffff, 0x8000_0000, Some(Ordering::Less)),
            (0, 0x7fff_ffff, Some(Ordering::Less)),
            // Exactly 2^31 apart: RFC 1982 leaves this undefined.
            (0, 0x8000_0000, None),
            (0x8000_0000, 0, None),
            (0x8000_0001, 0, Some(Ordering::Less)),
        ];
        for &(a, b, want) in table {
            assert_eq!(SeqNum(a).partial_cmp(&SeqNum(b)), want, "{a} vs {b}");
        }
        assert!(SeqNum(u32::MAX - 1) < SeqNum(3));
        assert!(SeqNum(3) > SeqNum(u32::MAX - 1));
    }
}
