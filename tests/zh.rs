//! `--lang zh` leaves no English behind: every capture shipped in `captures/` and the
//! reference ones in `../shared/captures`, through every view a person reads (`print`,
//! `print --explain`, the Markdown and HTML lessons, `stats`, `stats --compare`), has no
//! English word outside protocol tokens, identifiers of the contract, numbers and units,
//! and the wire text the capture itself carried; nor have the warnings on stderr (a snap
//! length, a full flow table, reassembly bounds, a damaged file), the errors (a missing
//! file, not a capture, a bad filter or value: the OS's own words are quoted), nor
//! `--help` of any command.

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
    // The capture library and its file formats, and tcpdump (whose flags the hints give).
    "libpcap",
    "pcap",
    "pcapng",
    "tcpdump",
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
    "KiB",
    "MiB",
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

fn zh_views(path: &Path) -> Vec<(String, String, String)> {
    zh_views_with(path, &[], false)
}

/// The Chinese views of a capture (the view's arguments, its stdout, its stderr), with
/// `extra` arguments (a key log); `mermaid` adds `--format mermaid`.
fn zh_views_with(path: &Path, extra: &[&str], mermaid: bool) -> Vec<(String, String, String)> {
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
                String::from_utf8(out.stderr).expect("utf-8"),
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
        let mut wire = wire_text(&common::events(cap));
        wire.insert(0, cap.to_str().expect("utf-8 path").to_string());
        for (view, out, err) in zh_views(cap) {
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
            // The warnings (a snap length, a damaged file) speak Chinese too.
            let left = english_words(&strip(&err, &wire));
            if !left.is_empty() {
                failures.push(format!("{view} (stderr): {left:?}"));
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
        for (view, out, _) in zh_views_with(&cap, &extra, true) {
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

/// `text` without what is syntax rather than words: command-line flags (`--max-flows`,
/// `-r`), code in backticks, and placeholders (`<OUT.har>`, `[OPTIONS]`).
fn without_syntax(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_code = false;
    let mut angle = 0usize;
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        let w = word.trim_start_matches('-');
        let flag = word.starts_with('-') && w.starts_with(|c: char| c.is_ascii_alphabetic());
        let caps =
            w.chars().any(|c| c.is_ascii_uppercase()) && !w.chars().any(|c| c.is_ascii_lowercase());
        if !flag && !caps {
            out.push_str(word);
        }
        word.clear();
    };
    for c in text.chars() {
        if c == '`' {
            in_code = !in_code;
            flush(&mut word, &mut out);
            out.push(' ');
        } else if in_code {
        } else if c == '<' {
            angle += 1;
            word.clear();
        } else if c == '>' && angle > 0 {
            angle -= 1;
            out.push(' ');
        } else if angle > 0 {
        } else if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// Runs wsscope in Chinese: with `--lang zh` in `args`, or (`by_env`) with
/// `LANG=zh_CN.UTF-8` and no flag.
fn run_zh(args: &[&str], by_env: bool) -> std::process::Output {
    let mut cmd = common::wsscope();
    cmd.env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("SSLKEYLOGFILE");
    if by_env {
        cmd.env("LANG", "zh_CN.UTF-8");
        cmd.args(args.iter().filter(|a| **a != "--lang" && **a != "zh"));
    } else {
        cmd.env("LANG", "C").args(args);
    }
    cmd.output().expect("run wsscope")
}

/// The warnings the library gives on stderr, in Chinese: a snap length that cut a
/// packet, a flow table full (`--max-flows 1` on a capture with several connections at
/// once), a reassembly buffer bound, IP fragments dropped, damaged files. The same runs
/// in English do have English words: the check can fail.
#[test]
fn chinese_warnings_leave_no_english() {
    let own = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures");
    let apps = common::shared_dir().join("../captures-apps/socketio_polling_upgrade.pcap");
    let cases = [
        (own.join("crafted-snaplen96.pcap"), &[][..], "快照长度"),
        (apps, &["--max-flows", "1"][..], "连接表已满"),
        (
            own.join("hostile/hostile-ooo-flood.pcap"),
            &[][..],
            "报文段",
        ),
        (
            own.join("hostile/hostile-ipv4-fragment-flood.pcap"),
            &[][..],
            "分片",
        ),
        (own.join("damaged-truncated.pcap"), &[][..], "中间就结束了"),
        (own.join("damaged-bad-record-length.pcap"), &[][..], "MiB"),
    ];
    let mut failures = Vec::new();
    for (cap, extra, want) in cases {
        let p = cap.to_str().expect("utf-8 path");
        for view in ["print", "stats"] {
            let mut args = vec![view, "--lang", "zh", "-r", p];
            args.extend_from_slice(extra);
            for by_env in [false, true] {
                let out = run_zh(&args, by_env);
                assert!(out.status.success(), "{args:?}");
                let err = String::from_utf8(out.stderr).expect("utf-8");
                assert!(
                    err.contains("警告：") && err.contains(want),
                    "{args:?}: {err}"
                );
                let left = english_words(&strip(&without_syntax(&err), &[p.to_string()]));
                if !left.is_empty() {
                    failures.push(format!("{args:?} (LANG: {by_env}): {left:?}"));
                }
            }
            let mut english = vec![view, "--lang", "en", "-r", p];
            english.extend_from_slice(extra);
            let err = String::from_utf8(common::run(&english).stderr).expect("utf-8");
            let left = english_words(&strip(&without_syntax(&err), &[p.to_string()]));
            assert!(left.len() > 2, "{english:?}: {err}");
        }
    }
    assert!(
        failures.is_empty(),
        "English left:\n{}",
        failures.join("\n")
    );
}

/// The errors say what went wrong and what to do in Chinese; the OS's, libpcap's or a
/// parser's own words stay quoted. Each with its exit status (1: the input, 2: usage).
#[test]
fn chinese_errors_leave_no_english() {
    let basic = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/crafted-basic.pcap");
    let basic = basic.to_str().expect("utf-8 path");
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let manifest = manifest.to_str().expect("utf-8 path");
    let missing = "/no/such/capture.pcap";
    let cases: [(&[&str], i32, &str); 10] = [
        (
            &["print", "--lang", "zh", "-r", missing],
            1,
            "没有这个文件或目录",
        ),
        (
            &["stats", "--lang", "zh", "-r", manifest],
            1,
            "不是 wsscope 能读取的抓包文件",
        ),
        (
            &["print", "--lang", "zh", "-f", "port port", "-r", basic],
            1,
            "过滤器",
        ),
        (
            &["print", "--lang", "zh", "--keylog", missing, "-r", basic],
            1,
            "密钥日志",
        ),
        (
            &[
                "export",
                "--lang",
                "zh",
                "--har",
                "/no/such/dir/x.har",
                "-r",
                basic,
            ],
            1,
            "无法写入",
        ),
        (&["view", "--lang", "zh", "-r", "-"], 1, "标准输入"),
        (
            &["view", "--lang", "zh", "--speed", "0", "-r", basic],
            2,
            "速度",
        ),
        (
            &["stats", "--lang", "zh", "--bogus", "-r", basic],
            2,
            "不认识的参数",
        ),
        (
            &["print", "--lang", "zh", "--format", "bogus", "-r", basic],
            2,
            "可选值",
        ),
        (&["man", "nosuch", "--lang", "zh"], 2, "没有"),
    ];
    let wire: Vec<String> = [
        missing,
        manifest,
        basic,
        "/no/such/dir/x.har",
        "bogus",
        "nosuch",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut failures = Vec::new();
    for (args, status, want) in cases {
        for by_env in [false, true] {
            // `man` has no --lang: only the locale speaks for it.
            if args[0] == "man" && !by_env {
                continue;
            }
            let out = run_zh(args, by_env);
            let err = String::from_utf8(out.stderr).expect("utf-8");
            assert_eq!(out.status.code(), Some(status), "{args:?}: {err}");
            assert!(err.contains(want), "{args:?} (LANG: {by_env}): {err}");
            let left = not_names(english_words(&strip(&without_syntax(&err), &wire)));
            if !left.is_empty() {
                failures.push(format!("{args:?} (LANG: {by_env}): {left:?}\n{err}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "English left:\n{}",
        failures.join("\n")
    );
    // In English, the same message (the check can fail).
    let err = common::run(&["print", "--lang", "en", "-r", missing]).stderr;
    let err = String::from_utf8(err).expect("utf-8");
    assert!(
        err.contains("No such file or directory") && err.contains("check the path"),
        "{err}"
    );
    assert!(!english_words(&strip(&without_syntax(&err), &wire)).is_empty());
}

/// Names in the help that are not words to translate: the commands, shells and
/// programs by their names, and the values a flag takes.
const HELP_NAMES: &[&str] = &[
    "view",
    "print",
    "stats",
    "accept",
    "interfaces",
    "export",
    "completions",
    "man",
    "help",
    "shell",
    "bash",
    "zsh",
    "fish",
    "elvish",
    "powershell",
    "roff",
    "Chrome",
    "DevTools",
    "json",
    "markdown",
    "html",
    "en",
    "zh",
];

/// `words` but the [`HELP_NAMES`].
fn not_names(words: BTreeSet<String>) -> BTreeSet<String> {
    words
        .into_iter()
        .filter(|w| !HELP_NAMES.contains(&w.as_str()))
        .collect()
}

/// `--help` of every command (and `-h`), in Chinese by `--lang zh` or by `LANG`: no
/// English left but names and syntax; the stats legend of the close column in Chinese.
#[test]
fn chinese_help_leaves_no_english() {
    let commands = [
        "",
        "view",
        "print",
        "stats",
        "accept",
        "interfaces",
        "export",
        "completions",
        "man",
    ];
    let mut failures = Vec::new();
    for command in commands {
        for flag in ["--help", "-h"] {
            for by_env in [false, true] {
                let mut args: Vec<&str> = vec![command, flag, "--lang", "zh"];
                args.retain(|a| !a.is_empty());
                // The commands without --lang (and the bare program) follow the locale.
                if (command.is_empty() || command == "completions" || command == "man") && !by_env {
                    continue;
                }
                let out = run_zh(&args, by_env);
                assert!(out.status.success(), "{args:?}");
                let help = String::from_utf8(out.stdout).expect("utf-8");
                assert!(
                    help.contains("用法：") && help.contains("显示帮助"),
                    "{args:?}: {help}"
                );
                if command == "stats" {
                    assert!(
                        help.contains("关闭列：") && help.contains("不干净"),
                        "{help}"
                    );
                }
                let left = not_names(english_words(&without_syntax(&help)));
                if !left.is_empty() {
                    failures.push(format!("{args:?} (LANG: {by_env}): {left:?}\n{help}"));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "English left:\n{}",
        failures.join("\n")
    );
    // The English help is as it was.
    let help = String::from_utf8(common::run(&["stats", "--help"]).stdout).expect("utf-8");
    assert!(help.contains("Usage: wsscope stats [OPTIONS]"), "{help}");
    assert!(help.contains("! when it was not clean"), "{help}");
}
