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
    let plain = |b: &u8| (0x20..0x7f).contains(b) && *b != b'\\';
    loop {
        let run = s.bytes().position(|b| !plain(&b)).unwrap_or(s.len());
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

/// Lower-case hex of `bytes`, no separators.
pub fn hex(bytes: &[u8]) -> String {
    // Two digits a byte from one table, into a buffer of the exact size: this runs
    // for every frame of `print` (mask key, payload head) and every binary preview.
    const PAIRS: [[u8; 2]; 256] = {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut t = [[0u8; 2]; 256];
        let mut i = 0;
        while i < 256 {
            t[i] = [DIGITS[i >> 4], DIGITS[i & 15]];
            i += 1;
        }
        t
    };
    let mut out = vec![0u8; bytes.len() * 2];
    for (pair, &b) in out.chunks_exact_mut(2).zip(bytes) {
        pair.copy_from_slice(&PAIRS[usize::from(b)]);
    }
    // Only ASCII digits were written.
    String::from_utf8(out).unwrap_or_default()
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
}
