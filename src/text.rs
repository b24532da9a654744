//! Making text from the wire safe for a terminal, and small formatting helpers.
//!
//! Nothing read from a capture reaches a terminal without passing through
//! [`safe`]: control characters (C0, DEL, C1), and the Unicode bidirectional
//! overrides that can reorder what a reader sees, are shown as escapes.

use std::fmt::Write;

/// `s` with every control or bidi-override character replaced by a visible escape
/// (`\n`, `\t`, `\r`, `\x1b`, `\u{202e}`), so the result never moves the cursor,
/// changes colours or reorders text.
pub fn safe(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_safe(&mut out, s);
    out
}

/// Appends [`safe`]`(s)` to `out`.
pub fn push_safe(out: &mut String, mut s: &str) {
    // Runs of printable ASCII other than `\` go through as they are: most text does.
    loop {
        let run = plain_prefix(s.as_bytes());
        out.push_str(&s[..run]);
        s = &s[run..];
        let mut chars = s.chars();
        let Some(c) = chars.next() else {
            return;
        };
        push_safe_char(out, c);
        s = chars.as_str();
    }
}

/// Tests of eight bytes at once (the classic "has a byte less than n" / "has a
/// zero byte"): each is exact as to whether some byte matches, not as to which.
pub(crate) mod word {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);

    /// Whether some byte of `w` is below `n` (at most 0x80).
    #[inline]
    pub fn any_below(w: u64, n: u8) -> bool {
        w.wrapping_sub(ONES * u64::from(n)) & !w & HIGHS != 0
    }

    /// Whether some byte of `w` is `b`.
    #[inline]
    pub fn any_equal(w: u64, b: u8) -> bool {
        any_below(w ^ (ONES * u64::from(b)), 1)
    }

    /// Whether some byte of `w` is 0x7f or more.
    #[inline]
    pub fn any_del_or_above(w: u64) -> bool {
        (w.wrapping_add(ONES) | w) & HIGHS != 0
    }
}

/// The length of the start of `bytes` that is printable ASCII other than `\`:
/// eight bytes at a time, then one at a time.
fn plain_prefix(bytes: &[u8]) -> usize {
    let plain = |b: u8| (0x20..0x7f).contains(&b) && b != b'\\';
    let mut n = 0;
    for chunk in bytes.chunks_exact(8) {
        let w = u64::from_ne_bytes(chunk.try_into().expect("8 bytes"));
        if word::any_below(w, 0x20) | word::any_del_or_above(w) | word::any_equal(w, b'\\') {
            break;
        }
        n += 8;
    }
    n + bytes[n..]
        .iter()
        .position(|&b| !plain(b))
        .unwrap_or(bytes.len() - n)
}

fn push_safe_char(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\\' => out.push_str("\\\\"),
        c if (c as u32) < 0x20 || c == '\u{7f}' || ('\u{80}'..='\u{9f}').contains(&c) => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c if is_bidi_control(c) => {
            let _ = write!(out, "\\u{{{:04x}}}", c as u32);
        }
        c => out.push(c),
    }
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A safe preview of at most `max_chars` characters of possibly-invalid UTF-8:
/// invalid sequences become U+FFFD, then [`safe`] applies; `…` marks a cut.
pub fn preview_text(bytes: &[u8], max_chars: usize) -> String {
    // Valid text (nearly always) is borrowed as it is; only invalid text is
    // copied with U+FFFD (std's lossy scan is several times slower than a check).
    let text = match std::str::from_utf8(bytes) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(bytes),
    };
    // No more characters than bytes: a limit past the length cuts nothing.
    let cut = if max_chars >= text.len() {
        None
    } else {
        text.char_indices().nth(max_chars).map(|(i, _)| i)
    };
    let head = &text[..cut.unwrap_or(text.len())];
    let mut out = String::with_capacity(head.len() + 3);
    // Whole runs at a time (printable ASCII passes as it is), not a char at a time.
    push_safe(&mut out, head);
    if cut.is_some() {
        out.push('…');
    }
    out
}

/// The two lower-case hex digits of each byte value.
const HEX_PAIRS: [[u8; 2]; 256] = {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut t = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = [DIGITS[i >> 4], DIGITS[i & 15]];
        i += 1;
    }
    t
};

/// Writes the hex of `bytes` into `out`, which is twice as long.
fn fill_hex(out: &mut [u8], bytes: &[u8]) {
    for (pair, &b) in out.chunks_exact_mut(2).zip(bytes) {
        pair.copy_from_slice(&HEX_PAIRS[usize::from(b)]);
    }
}

/// Lower-case hex of `bytes`, no separators.
pub fn hex(bytes: &[u8]) -> String {
    // Two digits a byte from one table, into a buffer of the exact size: this runs
    // for every binary preview.
    // Not `vec![0; n]`: that is calloc, which glibc serves without its per-thread
    // cache (several times malloc's cost for these small strings).
    // Filled by pairs after one memset: a pair pushed at a time costs a capacity
    // check each (print --json's decoder: 351M against 336M instructions).
    #[allow(clippy::slow_vector_initialization)]
    let mut out = Vec::with_capacity(bytes.len() * 2);
    out.resize(bytes.len() * 2, 0);
    fill_hex(&mut out, bytes);
    // Only ASCII digits were written.
    String::from_utf8(out).unwrap_or_default()
}

/// At most `N` bytes (at most 32) shown as lower-case hex: a frame's first payload
/// bytes (`payload_hex`) and its mask key. Kept as the bytes, in the event itself,
/// and written as hex where they are shown: `print --json` does it on its writer
/// thread, and the view reads the bytes themselves.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Hex<const N: usize> {
    len: u8,
    bytes: [u8; N],
}

impl<const N: usize> Hex<N> {
    /// The first `N` bytes of `bytes`.
    pub fn new(bytes: &[u8]) -> Self {
        const { assert!(N <= 32, "Hex holds at most 32 bytes") };
        let n = bytes.len().min(N);
        let mut held = [0; N];
        held[..n].copy_from_slice(&bytes[..n]);
        Hex {
            // At most 32.
            len: n as u8,
            bytes: held,
        }
    }

    /// The bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// No bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The hex digits, in `buf`.
    fn digits<'b>(&self, buf: &'b mut [u8; 64]) -> &'b str {
        let n = self.bytes().len() * 2;
        fill_hex(&mut buf[..n], self.bytes());
        // Only ASCII digits were written.
        std::str::from_utf8(&buf[..n]).unwrap_or_default()
    }

    /// Appends the hex digits to `out`.
    pub fn push_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.digits(&mut [0; 64]).as_bytes());
    }
}

impl<const N: usize> Default for Hex<N> {
    fn default() -> Self {
        Hex::new(&[])
    }
}

impl<const N: usize> std::fmt::Display for Hex<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.digits(&mut [0; 64]))
    }
}

impl<const N: usize> std::fmt::Debug for Hex<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Hex({self})")
    }
}

/// A string of the hex digits.
impl<const N: usize> serde::Serialize for Hex<N> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.digits(&mut [0; 64]))
    }
}

/// Columns `s` takes on a terminal (2 for a wide CJK character), for aligning
/// tables whose labels may be Chinese.
pub fn width(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plain_prefix_stops_at_the_first_byte_that_is_not_plain() {
        let plain = |b: u8| (0x20..0x7f).contains(&b) && b != b'\\';
        // Every byte value at every place of a 20-byte run of plain text.
        for at in 0..20 {
            for b in 0..=255u8 {
                let mut v = vec![b'a'; 20];
                v[at] = b;
                let want = if plain(b) { 20 } else { at };
                assert_eq!(plain_prefix(&v), want, "byte {b:#x} at {at}");
            }
        }
        // Bytes around each bound next to each other (carries between bytes).
        let edges = [
            0x00, 0x1f, 0x20, 0x21, 0x5b, 0x5c, 0x5d, 0x7e, 0x7f, 0x80, 0xff,
        ];
        for &a in &edges {
            for &b in &edges {
                let v = [b'x', a, b, b'y', b'z', b'w', b'v', b'u', a, b];
                let want = v.iter().position(|&c| !plain(c)).unwrap_or(v.len());
                assert_eq!(plain_prefix(&v), want, "{v:?}");
            }
        }
    }

    #[test]
    fn escapes_never_pass_through() {
        assert_eq!(safe("a\x1b[31mb"), "a\\x1b[31mb");
        assert_eq!(safe("x\u{9b}y"), "x\\x9by");
        assert_eq!(safe("line\r\nnext\t"), "line\\r\\nnext\\t");
        assert_eq!(safe("evil\u{202e}txt"), "evil\\u{202e}txt");
        assert_eq!(safe("你好 ✓"), "你好 ✓");
    }

    #[test]
    fn preview_cuts_and_replaces_invalid_utf8() {
        assert_eq!(preview_text(b"hello", 3), "hel…");
        assert_eq!(preview_text(b"hi", 3), "hi");
        assert_eq!(preview_text(b"a\xffb\x07", 10), "a\u{fffd}b\\x07");
    }

    proptest::proptest! {
        /// The ASCII fast path gives what escaping each character alone gives.
        #[test]
        fn runs_and_characters_agree(s in "(\\PC|[\\x00-\\x1f\\x7f-\\u{9f}\\\\\\u{202a}-\\u{202e}\\u{2066}-\\u{2069}\\u{200e}\\u{061c}a-z ])*") {
            let mut each = String::new();
            for c in s.chars() {
                push_safe_char(&mut each, c);
            }
            proptest::prop_assert_eq!(safe(&s), each);
        }

        /// A preview is the first `max` characters, each made safe, and `…` when cut.
        #[test]
        fn preview_is_the_first_characters_made_safe(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40),
            max in 0usize..50,
        ) {
            let text = String::from_utf8_lossy(&bytes);
            let mut each = String::new();
            for c in text.chars().take(max) {
                push_safe_char(&mut each, c);
            }
            if text.chars().count() > max {
                each.push('…');
            }
            proptest::prop_assert_eq!(preview_text(&bytes, max), each);
        }
    }

    #[test]
    fn hex_is_lowercase() {
        assert_eq!(hex(&[0x00, 0xab, 0x10]), "00ab10");
    }

    /// `Hex` keeps the first N bytes and shows them as `hex` does, as text, as JSON
    /// and appended to a buffer.
    #[test]
    fn hex_bytes_are_shown_as_hex() {
        let all: Vec<u8> = (0..=255).collect();
        for n in [0, 1, 3, 4, 5, 31, 32, 33, 256] {
            let bytes = &all[256 - n..];
            let four = Hex::<4>::new(bytes);
            let held = Hex::<32>::new(bytes);
            assert_eq!(four.bytes(), &bytes[..n.min(4)]);
            assert_eq!(held.bytes(), &bytes[..n.min(32)]);
            assert_eq!(held.is_empty(), n == 0);
            let want = hex(held.bytes());
            assert_eq!(held.to_string(), want);
            assert_eq!(four.to_string(), hex(four.bytes()));
            assert_eq!(format!("{held:?}"), format!("Hex({want})"));
            assert_eq!(serde_json::to_string(&held).unwrap(), format!("\"{want}\""));
            let mut out = b"x".to_vec();
            held.push_to(&mut out);
            assert_eq!(out, format!("x{want}").into_bytes());
        }
        assert_eq!(Hex::<32>::default(), Hex::new(&[]));
        assert_ne!(Hex::<4>::new(&[1]), Hex::new(&[1, 0]));
    }
}
