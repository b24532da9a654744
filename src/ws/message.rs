//! Message assembly helpers: incremental UTF-8 checking and the bounded preview.

use crate::text;

/// Checks UTF-8 across chunk boundaries without keeping the text: at most three
/// bytes of an unfinished sequence are carried from one chunk to the next.
#[derive(Clone, Debug, Default)]
pub struct Utf8Checker {
    pending: [u8; 4],
    pending_len: usize,
    /// Bytes seen so far.
    seen: u64,
    /// Offset of the first invalid byte, once found.
    invalid_at: Option<u64>,
}

impl Utf8Checker {
    /// A checker at offset 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// Offset (in the whole text) of the first byte that is not valid UTF-8.
    pub fn invalid_at(&self) -> Option<u64> {
        self.invalid_at
    }

    /// Feeds the next bytes; checking stops at the first error.
    pub fn push(&mut self, mut data: &[u8]) {
        if self.invalid_at.is_some() {
            self.seen += data.len() as u64;
            return;
        }
        let start = self.seen;
        self.seen += data.len() as u64;
        let mut base = start;
        // Finish the sequence carried over from the previous chunk, one byte at a time.
        while self.pending_len > 0 {
            let Some((&b, rest)) = data.split_first() else {
                return;
            };
            self.pending[self.pending_len] = b;
            self.pending_len += 1;
            data = rest;
            base += 1;
            match std::str::from_utf8(&self.pending[..self.pending_len]) {
                Ok(_) => self.pending_len = 0,
                Err(e) if e.error_len().is_some() => {
                    self.invalid_at = Some(base - self.pending_len as u64);
                    return;
                }
                Err(_) if self.pending_len == 4 => {
                    self.invalid_at = Some(base - 4);
                    return;
                }
                Err(_) => {}
            }
        }
        // The common case, valid text, is checked with SIMD; std's check then
        // finds where an error is and whether the chunk only ends mid-sequence.
        if simdutf8::basic::from_utf8(data).is_ok() {
            return;
        }
        match std::str::from_utf8(data) {
            Ok(_) => {}
            Err(e) => {
                let at = e.valid_up_to();
                if e.error_len().is_some() {
                    self.invalid_at = Some(base + at as u64);
                } else {
                    let tail = data.get(at..).unwrap_or_default();
                    self.pending[..tail.len()].copy_from_slice(tail);
                    self.pending_len = tail.len();
                }
            }
        }
    }

    /// The text is over: an unfinished sequence is an error. Returns the first invalid offset.
    pub fn finish(&mut self) -> Option<u64> {
        if self.invalid_at.is_none() && self.pending_len > 0 {
            self.invalid_at = Some(self.seen - self.pending_len as u64);
        }
        self.invalid_at
    }
}

/// The most bytes a preview keeps.
pub const PREVIEW_MAX: usize = 64;

/// The first `limit` bytes of a message (at most [`PREVIEW_MAX`]), held in place:
/// every message has one, and it travels in the message's event to the views, so
/// it costs no allocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Preview {
    bytes: [u8; PREVIEW_MAX],
    len: u8,
    limit: u8,
}

impl Default for Preview {
    fn default() -> Self {
        Preview::new(0)
    }
}

impl Preview {
    /// Keeps at most `limit` bytes (at most [`PREVIEW_MAX`]).
    pub fn new(limit: usize) -> Self {
        Preview {
            bytes: [0; PREVIEW_MAX],
            len: 0,
            // At most 64.
            limit: limit.min(PREVIEW_MAX) as u8,
        }
    }

    /// True while more bytes would be kept.
    pub fn wants_more(&self) -> bool {
        self.len < self.limit
    }

    /// Keeps what fits of `data`.
    pub fn push(&mut self, data: &[u8]) {
        let (len, limit) = (usize::from(self.len), usize::from(self.limit));
        let n = limit.saturating_sub(len).min(data.len());
        if n > 0 {
            self.bytes[len..len + n].copy_from_slice(&data[..n]);
            // At most `limit`, 64.
            self.len = (len + n) as u8;
        }
    }

    /// The kept bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// Renders the preview of a message of `total` bytes: text made safe (a sequence
    /// cut by the limit is dropped, not shown as U+FFFD), binary as hex; `…` marks a cut.
    pub fn render(&self, is_text: bool, total: u64) -> String {
        let cut = total > u64::from(self.len);
        let mut s = if is_text {
            let mut b = self.bytes();
            if cut {
                if let Err(e) = std::str::from_utf8(b) {
                    if e.error_len().is_none() {
                        b = &b[..e.valid_up_to()];
                    }
                }
            }
            text::preview_text(b, usize::MAX)
        } else {
            super::frame::hex(self.bytes())
        };
        if cut {
            s.push('…');
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_split(data: &[u8]) -> Option<u64> {
        let whole = {
            let mut c = Utf8Checker::new();
            c.push(data);
            c.finish()
        };
        for cut in 0..=data.len() {
            for cut2 in cut..=data.len() {
                let mut c = Utf8Checker::new();
                c.push(&data[..cut]);
                c.push(&data[cut..cut2]);
                c.push(&data[cut2..]);
                assert_eq!(c.finish(), whole, "cuts {cut} {cut2} of {data:?}");
            }
        }
        whole
    }

    #[test]
    fn utf8_table() {
        let table: &[(&str, &[u8], Option<u64>)] = &[
            ("ascii", b"Hello", None),
            ("multibyte", "héllo ✓ 你好 🎉".as_bytes(), None),
            ("bad start", b"ab\xffcd", Some(2)),
            ("truncated at end", b"ab\xe2\x82", Some(2)),
            ("overlong", b"a\xc0\xafb", Some(1)),
            ("surrogate", b"xy\xed\xa0\x80", Some(2)),
            ("bad continuation", b"\xe2\x28\xa1", Some(0)),
            (
                "after emoji",
                "🎉"
                    .as_bytes()
                    .iter()
                    .chain(b"\x80")
                    .copied()
                    .collect::<Vec<_>>()
                    .leak(),
                Some(4),
            ),
        ];
        for (name, data, want) in table {
            assert_eq!(check_split(data), *want, "{name}");
        }
    }

    #[test]
    fn preview_cuts_cleanly() {
        let mut p = Preview::new(4);
        p.push("aé✓".as_bytes());
        assert!(!p.wants_more());
        assert_eq!(p.render(true, 6), "aé…");
        let mut p = Preview::new(4);
        p.push(b"\x1b[3");
        assert_eq!(p.render(true, 3), "\\x1b[3");
        assert_eq!(p.render(false, 10), "1b5b33…");
    }
}
