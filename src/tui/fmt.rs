//! Small text helpers: defensive sanitising, width-aware cutting, durations.

use ratatui::text::Span;

/// `s` with any terminal control or bidi-override character escaped
/// (through [`wsscope::text::safe`]). Unlike `safe` it leaves backslashes
/// alone, so text that is already safe (as every event string should be)
/// comes out unchanged: defence in depth without double escaping.
pub fn clean(s: &str) -> String {
    if !s.chars().any(needs_escape) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    let mut buf = [0u8; 4];
    for c in s.chars() {
        if needs_escape(c) {
            out.push_str(&wsscope::text::safe(c.encode_utf8(&mut buf)));
        } else {
            out.push(c);
        }
    }
    out
}

fn needs_escape(c: char) -> bool {
    c != '\\' && {
        let mut buf = [0u8; 4];
        let s: &str = c.encode_utf8(&mut buf);
        wsscope::text::safe(s) != s
    }
}

/// Display width of one character (0 for none, 2 for wide CJK).
pub fn char_width(c: char) -> usize {
    let mut buf = [0u8; 4];
    Span::raw(&*c.encode_utf8(&mut buf)).width()
}

/// Display width of a string.
pub fn width(s: &str) -> usize {
    Span::raw(s).width()
}

/// `s` cut to at most `max` columns, with `…` marking the cut.
pub fn fit(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut w = 0;
    for c in s.chars() {
        let cw = char_width(c);
        if w + cw + 1 > max {
            break;
        }
        out.push(c);
        w += cw;
    }
    out.push('…');
    out
}

/// `s` padded with spaces (or cut) to exactly `w` columns.
pub fn pad(s: &str, w: usize) -> String {
    let s = fit(s, w);
    let n = w.saturating_sub(width(&s));
    format!("{s}{}", " ".repeat(n))
}

/// A time difference for the timeline gutter: `+412µs`, `+12.3ms`, `+1.20s`,
/// `+3m05s`, `+2h01m`.
pub fn delta(micros: i64) -> String {
    let sign = if micros < 0 { "-" } else { "+" };
    let us = micros.unsigned_abs();
    let body = if us < 1_000 {
        format!("{us}µs")
    } else if us < 10_000 {
        format!("{:.2}ms", us as f64 / 1e3)
    } else if us < 1_000_000 {
        format!("{:.1}ms", us as f64 / 1e3)
    } else if us < 60_000_000 {
        format!("{:.2}s", us as f64 / 1e6)
    } else if us < 3_600_000_000 {
        format!("{}m{:02}s", us / 60_000_000, (us / 1_000_000) % 60)
    } else {
        format!("{}h{:02}m", us / 3_600_000_000, (us / 60_000_000) % 60)
    };
    format!("{sign}{body}")
}

/// Seconds with millisecond precision, for the replay clock.
pub fn clock(micros: i64) -> String {
    let ms = micros.max(0) / 1000;
    if ms >= 60_000 {
        format!("{}:{:02}.{:03}", ms / 60_000, (ms / 1000) % 60, ms % 1000)
    } else {
        format!("{}.{:03}s", ms / 1000, ms % 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_is_idempotent_on_safe_text_and_escapes_the_rest() {
        let safe = wsscope::text::safe("a\x1b[31m\\b\u{202e}");
        assert_eq!(clean(&safe), safe);
        assert_eq!(clean("a\x1bb"), "a\\x1bb");
        assert_eq!(clean("x\u{202e}y"), "x\\u{202e}y");
        assert_eq!(clean("ok ✓ 你好"), "ok ✓ 你好");
    }

    #[test]
    fn fit_counts_columns() {
        assert_eq!(fit("hello", 5), "hello");
        assert_eq!(fit("hello", 4), "hel…");
        assert_eq!(fit("你好你好", 5), "你好…");
        assert_eq!(fit("abc", 0), "");
        assert_eq!(pad("ab", 4), "ab  ");
    }

    #[test]
    fn deltas() {
        for (us, s) in [
            (0, "+0µs"),
            (412, "+412µs"),
            (1_234, "+1.23ms"),
            (12_345, "+12.3ms"),
            (1_200_000, "+1.20s"),
            (185_000_000, "+3m05s"),
            (7_260_000_000, "+2h01m"),
            (-5, "-5µs"),
        ] {
            assert_eq!(delta(us), s);
        }
    }
}
