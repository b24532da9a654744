//! What the text timeline prints under a WebSocket message: one readable line per
//! packet of the protocol riding on it, and with `print --payload` the whole payload
//! (text made terminal-safe, JSON pretty-printed, binary as a hex + ASCII dump like
//! `tcpdump -X`).

use std::fmt::Write as _;

use crate::analysis::{Event, MessageBody, Payload};
use crate::text::safe;

/// Where the lines under an event begin (under the event's summary).
pub const INDENT: &str = "                    ";

/// The lines to print under `e`, a WebSocket message or an Engine.IO long-polling
/// request or response (none for other events): the app packets, and the message's
/// payload when `payload` is true.
pub fn message_lines(e: &Event, payload: bool, lang: super::Lang) -> Vec<String> {
    let Some(body) = e.kind.body() else {
        return Vec::new();
    };
    let mut lines = app_lines(body, lang);
    if payload {
        if let Some(p) = &body.payload {
            lines.extend(
                payload_lines(p)
                    .into_iter()
                    .map(|l| format!("{INDENT}│ {l}")),
            );
        }
    }
    lines
}

/// One line per application packet (already made safe by the contract mapping): in
/// English the decoder's readable line; in Chinese the packet's own fields (protocol,
/// type as the protocol names it, name, id), the JSON value kinds in Chinese.
fn app_lines(body: &MessageBody, lang: super::Lang) -> Vec<String> {
    body.all_apps()
        .into_iter()
        .map(|a| match lang {
            super::Lang::En => format!("{INDENT}↳ {}", a.summary),
            super::Lang::Zh => {
                let kind = match (a.protocol, a.kind.as_str()) {
                    ("json", "object") => msg!(lang, "payload.json_object"),
                    ("json", "array") => msg!(lang, "payload.json_array"),
                    ("json", "string") => msg!(lang, "payload.json_string"),
                    ("json", "number") => msg!(lang, "payload.json_number"),
                    ("json", "bool" | "boolean") => msg!(lang, "payload.json_bool"),
                    (_, k) => k.to_string(),
                };
                let mut line = format!("{INDENT}↳ {} {kind}", a.protocol.to_uppercase());
                if let Some(n) = &a.name {
                    line.push_str(&format!(" {n}"));
                }
                if let Some(id) = &a.id {
                    line.push_str(&format!(" id {id}"));
                }
                line
            }
        })
        .collect()
}

/// A payload as lines of text: valid UTF-8 text made safe line by line (JSON
/// pretty-printed when it parses as an object or array), anything else as a hex
/// and ASCII dump. A cut payload ends with a line saying so.
pub fn payload_lines(p: &Payload) -> Vec<String> {
    let mut lines = match p.as_utf8() {
        Some(t) => text_lines(t),
        None => hex_dump(&p.bytes),
    };
    if lines.is_empty() {
        lines.push("(empty)".into());
    }
    if p.truncated {
        lines.push(format!(
            "… cut after {} bytes (--max-payload)",
            p.bytes.len()
        ));
    }
    lines
}

fn text_lines(t: &str) -> Vec<String> {
    let trimmed = t.trim_start();
    if (trimmed.starts_with('{') || trimmed.starts_with('['))
        && serde_json::from_str::<serde::de::IgnoredAny>(t).is_ok()
    {
        // JSON escapes C0 controls itself: its backslashes are JSON's own escapes and
        // are kept as they are; anything else unsafe is escaped.
        return pretty_json(t)
            .lines()
            .map(|l| l.split('\\').map(safe).collect::<Vec<_>>().join("\\"))
            .collect();
    }
    if t.is_empty() {
        return Vec::new();
    }
    // Each line of the text as it is (a trailing newline is shown, not dropped).
    let mut lines: Vec<String> = t.split('\n').map(safe).collect();
    if t.ends_with('\n') {
        lines.pop();
        if let Some(l) = lines.last_mut() {
            l.push_str("\\n");
        }
    }
    lines
}

/// Valid JSON re-indented by two spaces, keys in the order they were sent (a
/// parsed-and-printed map would sort them).
fn pretty_json(t: &str) -> String {
    let mut out = String::with_capacity(t.len() * 2);
    let mut depth = 0usize;
    let mut in_str = false;
    let mut escaped = false;
    let mut chars = t.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    };
    while let Some(c) = chars.next() {
        if in_str {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_str = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                // An empty object or array stays on its line.
                while chars.peek().is_some_and(|c| c.is_ascii_whitespace()) {
                    chars.next();
                }
                if matches!(chars.peek(), Some('}' | ']')) {
                    out.extend(chars.next());
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_ascii_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

/// `tcpdump -X`: offset, 16 bytes as eight groups of four hex digits, then the
/// bytes as ASCII (`.` for anything but a graphic character, as tcpdump).
pub fn hex_dump(bytes: &[u8]) -> Vec<String> {
    bytes
        .chunks(16)
        .enumerate()
        .map(|(i, row)| {
            let mut s = format!("0x{:04x}:  ", i * 16);
            for (j, b) in row.iter().enumerate() {
                let _ = write!(s, "{b:02x}");
                if j % 2 == 1 {
                    s.push(' ');
                }
            }
            // Pad a short last row so that the ASCII column lines up.
            let width = 16 * 2 + 8;
            let hex_len = row.len() * 2 + row.len() / 2;
            s.push_str(&" ".repeat(width - hex_len + 1));
            s.extend(
                row.iter()
                    .map(|&b| if b.is_ascii_graphic() { b as char } else { '.' }),
            );
            s
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_dump_is_tcpdump_x() {
        let d = hex_dump(b"hello server\x00\x01\x02\x1b[31mX");
        assert_eq!(
            d,
            [
                "0x0000:  6865 6c6c 6f20 7365 7276 6572 0001 021b  hello.server....",
                "0x0010:  5b33 316d 58                             [31mX",
            ]
        );
    }

    #[test]
    fn text_is_safe_and_json_pretty() {
        let p = |s: &str, text| Payload {
            bytes: s.as_bytes().to_vec(),
            text,
            truncated: false,
        };
        assert_eq!(
            payload_lines(&p("{\"a\":[1,\"\\u001b[2J\u{202e}\"]}", true)),
            [
                "{",
                "  \"a\": [",
                "    1,",
                "    \"\\u001b[2J\\u{202e}\"",
                "  ]",
                "}"
            ]
        );
        // Keys stay in the order sent; empty containers stay on one line.
        assert_eq!(
            payload_lines(&p(" {\"z\": {}, \"a\":[ ],\"s\":\"x,{:}\\\"\"}", true)),
            [
                "{",
                "  \"z\": {},",
                "  \"a\": [],",
                "  \"s\": \"x,{:}\\\"\"",
                "}"
            ]
        );
        assert_eq!(
            payload_lines(&p("two\nlines\x1b[2J\n", true)),
            ["two", "lines\\x1b[2J\\n"]
        );
        // Binary that happens to be text is still dumped.
        assert_eq!(payload_lines(&p("hi", false)).len(), 1);
        assert!(payload_lines(&p("hi", false))[0].starts_with("0x0000:  6869"));
        // The NDJSON form: exact text for valid UTF-8 text, else base64.
        let json = |p: &Payload| serde_json::to_value(p).unwrap();
        assert_eq!(
            json(&p("héllo", true)),
            serde_json::json!({"payload": "héllo", "payload_encoding": "utf8"})
        );
        let bad = Payload {
            bytes: vec![b'a', 0xff],
            text: true,
            truncated: true,
        };
        assert_eq!(
            json(&bad),
            serde_json::json!({"payload": "Yf8=", "payload_encoding": "base64", "payload_truncated": true})
        );
        assert_eq!(json(&p("hi", false))["payload"], "aGk=");
        let mut cut = p("abc", true);
        cut.truncated = true;
        assert_eq!(
            payload_lines(&cut)[1],
            "… cut after 3 bytes (--max-payload)"
        );
    }
}
