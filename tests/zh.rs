//! `--lang zh` leaves no English behind: every capture shipped in `captures/` and the
//! reference ones in `../shared/captures`, through every view a person reads (`print`,
//! `print --explain`, the Markdown and HTML lessons, `stats`, `stats --compare`), has no
//! English word outside protocol tokens, identifiers of the contract, numbers and units,
//! and the wire text the capture itself carried.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

/// Words allowed in Chinese output, each for a reason:
const ALLOWED: &[&str] = &[
    // TCP, TLS and HTTP protocol tokens and names, as on the wire and in every textbook.
    "SYN",
    "SYN-ACK",
    "ACK",
    "FIN",
    "RST",
    "TIME_WAIT",
    "TCP",
    "TLS",
    "HTTP",
    // TLS and HTTP/2 as their RFCs name their messages, frames, extensions and fields
    // (RFC 8446, RFC 9113, RFC 8441's pseudo-headers), the key log's variable and option,
    // and the programs that write a key log, by their names.
    "wss",
    "https",
    "ClientHello",
    "ServerHello",
    "HelloRetryRequest",
    "Finished",
    "SNI",
    "ALPN",
    "AEAD",
    "SSLKEYLOGFILE",
    "keylog",
    "SETTINGS",
    "GOAWAY",
    "DATA",
    "CONNECT",
    "method",
    "scheme",
    "path",
    "authority",
    "protocol",
    "OpenSSL",
    "Python",
    "Node",
    "curl",
    // The protocols riding on WebSocket, by their names.
    "JSON",
    "MQTT",
    "STOMP",
    "GET",
    "RFC",
    "IANA",
    // Header names (the article writes them in English too) and the Accept they compute.
    "Upgrade",
    "Connection",
    "Host",
    "Content-Type",
    "Content-Length",
    "Transfer-Encoding",
    "Sec-WebSocket-Key",
    "Sec-WebSocket-Accept",
    "Sec-WebSocket-Version",
    "Sec-WebSocket-Extensions",
    "Sec-WebSocket-Protocol",
    "Accept",
    "GUID",
    "SHA-1",
    "Base64",
    "base64",
    "UTF-8",
    "Switching",
    "Protocols",
    "event-stream",
    // The protocol itself and its parts: opcode names as RFC 6455 spells them, flag bits,
    // the extension's registered name, Server-Sent Events' abbreviation.
    "WebSocket",
    "websocket",
    "opcode",
    "text",
    "binary",
    "close",
    "ping",
    "pong",
    "continuation",
    "reserved",
    "RSV",
    "RSV1",
    "RSV1-3",
    "permessage-deflate",
    "SSE",
    // Phase column and contract values (`kind`, `teardown`) that scripts match on.
    "tcp",
    "tls",
    "http",
    "ws",
    "http-polling",
    "http-long-polling",
    "http-streaming",
    "fin",
    "rst",
    "none",
    // Units.
    "ms",
    "B",
    "RTT",
    // The program, and Mermaid's syntax (a diagram's keywords are read by Mermaid, not people).
    "wsscope",
    "mermaid",
    "sequenceDiagram",
    "participant",
    "Client",
    "Server",
    "Note",
    "over",
    "as",
];

/// Strings the capture carried, from the NDJSON (the contract, not translated).
fn wire_text(events: &[Value]) -> Vec<String> {
    let mut out = BTreeSet::new();
    let mut add = |v: &Value| {
        if let Some(s) = v.as_str() {
            if !s.is_empty() {
                out.insert(s.to_string());
            }
        }
    };
    for e in events {
        for f in [
            "client",
            "server",
            "method",
            "target",
            "version",
            "reason",
            "preview",
            "key",
            "accept",
            "expected_accept",
            "subprotocol",
            "mask_key",
            "close_reason",
            "payload_hex",
            "sni",
            "subject",
            "issuer",
        ] {
            add(&e[f]);
        }
        // What an application packet carried (a type, event, topic or method name).
        for a in e["apps"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(e.get("app"))
        {
            add(&a["name"]);
            add(&a["type"]);
        }
        for f in ["extensions", "offered_extensions", "offered_subprotocols"] {
            for x in e[f].as_array().into_iter().flatten() {
                add(x);
            }
        }
        for h in e["headers"].as_array().into_iter().flatten() {
            for x in h.as_array().into_iter().flatten() {
                add(x);
            }
        }
    }
    let mut v: Vec<String> = out.into_iter().collect();
    // Longest first, so that a value is not cut by a shorter one inside it.
    v.sort_by_key(|s| std::cmp::Reverse(s.len()));
    v
}

/// `text` without the occurrences of `w` that do not cut a word (so that a header value
/// `Key` or `1` does not eat into `Sec-WebSocket-Key` or `SHA-1`).
fn remove_whole(text: &str, w: &str) -> String {
    let word =
        |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(w) {
        let before = rest[..i].chars().next_back();
        let after = rest[i + w.len()..].chars().next();
        let starts = w
            .chars()
            .next()
            .filter(|c| c.is_ascii_alphanumeric())
            .is_some();
        let ends = w
            .chars()
            .next_back()
            .filter(|c| c.is_ascii_alphanumeric())
            .is_some();
        if (starts && word(before)) || (ends && word(after)) {
            let step = i + w.chars().next().map_or(1, char::len_utf8);
            out.push_str(&rest[..step]);
            rest = &rest[step..];
        } else {
            out.push_str(&rest[..i]);
            out.push(' ');
            rest = &rest[i + w.len()..];
        }
    }
    out.push_str(rest);
    out
}

/// `text` without quoted strings and without the wire text.
fn strip(text: &str, wire: &[String]) -> String {
    let mut t = text.to_string();
    for w in wire {
        t = remove_whole(&t, w);
    }
    // Quoted strings ("…" as the views print wire text), on one line.
    let mut out = String::with_capacity(t.len());
    for line in t.lines() {
        let mut inside = false;
        for c in line.chars() {
            if c == '"' {
                inside = !inside;
                out.push(' ');
            } else if !inside {
                out.push(c);
            }
        }
        out.push('\n');
    }
    out
}

/// The English words left: ASCII words of letters (and `-`), not in [`ALLOWED`], not an
/// identifier (`snake_case` violation codes), not a number or hex.
fn english_words(text: &str) -> BTreeSet<String> {
    let mut left = BTreeSet::new();
    let mut word = String::new();
    let flush = |w: &mut String, left: &mut BTreeSet<String>| {
        let t = w.trim_matches('-').to_string();
        w.clear();
        if t.is_empty()
            || t.contains('_')
            || t.bytes().any(|b| b.is_ascii_digit())
            || ALLOWED.contains(&t.as_str())
            || !t.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        {
            return;
        }
        // A single letter (a table's `|`-free label, a unit prefix) says nothing.
        if t.len() == 1 {
            return;
        }
        left.insert(t);
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
            word.push(c);
        } else {
            flush(&mut word, &mut left);
        }
    }
    flush(&mut word, &mut left);
    left
}

fn zh_views(path: &Path) -> Vec<(String, String)> {
    zh_views_with(path, &[], false)
}

/// The Chinese views of a capture, with `extra` arguments (a key log); `mermaid` adds
/// `--format mermaid`.
fn zh_views_with(path: &Path, extra: &[&str], mermaid: bool) -> Vec<(String, String)> {
    let p = path.to_str().expect("utf-8 path");
    let mut views: Vec<Vec<&str>> = vec![
        vec!["print", "--lang", "zh", "-r", p],
        vec!["print", "--explain", "--lang", "zh", "-r", p],
        vec!["print", "--format", "markdown", "--lang", "zh", "-r", p],
        vec!["print", "--format", "html", "--lang", "zh", "-r", p],
        vec!["stats", "--lang", "zh", "-r", p],
        vec!["stats", "--compare", "--lang", "zh", "-r", p],
    ];
    if mermaid {
        views.push(vec![
            "print", "--format", "mermaid", "--lang", "zh", "-r", p,
        ]);
    }
    views
        .iter_mut()
        .map(|args| {
            args.extend_from_slice(extra);
            let out = common::wsscope()
                .env_remove("SSLKEYLOGFILE")
                .args(&*args)
                .output()
                .expect("run wsscope");
            assert!(out.status.success(), "{args:?}");
            (
                args.join(" "),
                String::from_utf8(out.stdout).expect("utf-8"),
            )
        })
        .collect()
}

/// Markdown and Mermaid text back to plain text: `\\x` escapes, the entities `md`
/// writes, Mermaid's `#NN;` codes, and Mermaid's arrows (syntax) become spaces.
fn plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut cs = text.chars().peekable();
    while let Some(c) = cs.next() {
        match c {
            '\\' if cs.peek().is_some_and(|n| n.is_ascii_punctuation()) => {
                out.extend(cs.next());
            }
            '#' => {
                let mut code = String::new();
                while let Some(d) = cs.next_if(char::is_ascii_digit) {
                    code.push(d);
                }
                match (code.parse::<u32>().ok().and_then(char::from_u32), cs.peek()) {
                    (Some(ch), Some(';')) => {
                        cs.next();
                        out.push(ch);
                    }
                    _ => {
                        out.push('#');
                        out.push_str(&code);
                    }
                }
            }
            c => out.push(c),
        }
    }
    let mut out = out
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    for arrow in [
        "Client-->>Server",
        "Server-->>Client",
        "Client->>Server",
        "Server->>Client",
        "Client-xServer",
        "Server-xClient",
    ] {
        out = out.replace(arrow, "Client Server");
    }
    out
}

/// The HTML view's text: tags and entities dropped (its markup is HTML, not English).
fn html_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    let mut in_style = false;
    let lower = html.to_ascii_lowercase();
    let mut i = 0;
    let bytes = html.as_bytes();
    while i < bytes.len() {
        // Style sheets are CSS; the SVG diagram's labels are the timeline's summaries (checked
        // in the other views), clipped to fit, so they cannot be matched with the wire text.
        if lower[i..].starts_with("<style") || lower[i..].starts_with("<svg") {
            in_style = true;
        }
        if in_style && (lower[i..].starts_with("</style>") || lower[i..].starts_with("</svg>")) {
            in_style = false;
        }
        let c = html[i..].chars().next().unwrap();
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            _ if in_tag || in_style => {}
            _ => out.push(c),
        }
        i += c.len_utf8();
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[test]
fn chinese_views_leave_no_english_outside_tokens_and_wire_text() {
    let mut caps = common::own_captures();
    caps.extend(common::captures_in(&common::shared_dir()));
    assert!(caps.len() > 10, "captures found: {}", caps.len());
    let mut failures = Vec::new();
    for cap in &caps {
        let wire = wire_text(&common::events(cap));
        for (view, out) in zh_views(cap) {
            assert!(!out.trim().is_empty(), "{view}: empty");
            let text = if view.contains("html") {
                html_text(&out)
            } else {
                plain(&out)
            };
            let left = english_words(&strip(&text, &wire));
            if !left.is_empty() {
                failures.push(format!("{view}: {left:?}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "English left:\n{}",
        failures.join("\n")
    );
}

/// The lessons of wss and of WebSockets over HTTP/2 (decrypted with their key logs): the
/// TLS section, the streams' sections and what changes over HTTP/2, in Chinese.
#[test]
fn chinese_tls_and_http2_lessons_leave_no_english() {
    let dir = common::shared_dir().join("../captures-tls");
    let mut failures = Vec::new();
    for name in ["h2_rfc8441_hypercorn_tls", "py_tls13_std"] {
        let cap = dir.join(format!("{name}.pcap"));
        let keylog = dir.join(format!("{name}.keylog"));
        let keylog = keylog.to_str().expect("utf-8 path");
        let extra = ["--keylog", keylog];
        let wire = wire_text(&common::events_with(&cap, &extra));
        for (view, out) in zh_views_with(&cap, &extra, true) {
            assert!(!out.trim().is_empty(), "{view}: empty");
            if view.contains("markdown") {
                assert!(out.contains("TLS 一览"), "{view}");
                if name.starts_with("h2") {
                    assert!(out.contains("## 连接 #0，流 1："), "{view}");
                    assert!(out.contains("## 连接 #0，流 3："), "{view}");
                    assert!(out.contains("换成 HTTP/2 之后有什么不同"), "{view}");
                }
            }
            if view.contains("mermaid") && name.starts_with("h2") {
                assert!(out.contains("%% wsscope：连接 0，流 3"), "{view}");
            }
            let text = if view.contains("html") {
                html_text(&out)
            } else {
                plain(&out)
            };
            let left = english_words(&strip(&text, &wire));
            if !left.is_empty() {
                failures.push(format!("{view}: {left:?}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "English left:\n{}",
        failures.join("\n")
    );
}

#[test]
fn the_checker_finds_english() {
    let wire = vec!["/chat".to_string(), "Key".to_string(), "OK".to_string()];
    let text = "帧 text FIN 长度 12 GET /chat \"hello world\" handshake done accept_mismatch 0.5 ms Sec-WebSocket-Key 200 OK Keyboard";
    let left = english_words(&strip(text, &wire));
    let want: BTreeSet<String> = ["handshake", "done", "Keyboard"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(left, want);
}
