//! The teaching views: `print --explain [--lang]`, `print --format markdown|mermaid`,
//! `stats --compare`. Snapshots of the reference captures, and properties over every
//! capture (explain keeps the timeline, diagrams stay well-formed).

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use wsscope::output::explain::EXPLAIN_INDENT;

fn cap(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// Runs wsscope with no locale variables set (English unless told otherwise).
fn run_with_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = common::wsscope();
    for v in ["LC_ALL", "LC_MESSAGES", "LANG", "SSLKEYLOGFILE"] {
        cmd.env_remove(v);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.args(args).output().expect("run wsscope")
}

fn stdout(args: &[&str]) -> String {
    let out = run_with_env(args, &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn explain_crafted_basic_en() {
    let c = cap("crafted-basic.pcap");
    insta::assert_snapshot!(stdout(&["print", "--explain", "--lang", "en", "-r", &c]));
}

#[test]
fn explain_crafted_basic_zh() {
    let c = cap("crafted-basic.pcap");
    insta::assert_snapshot!(stdout(&["print", "--explain", "--lang", "zh", "-r", &c]));
}

#[test]
fn explain_violation_masking_en() {
    let c = cap("crafted-violation-masking.pcap");
    insta::assert_snapshot!(stdout(&["print", "--explain", "--lang", "en", "-r", &c]));
}

#[test]
fn explain_violation_masking_zh() {
    let c = cap("crafted-violation-masking.pcap");
    insta::assert_snapshot!(stdout(&["print", "--explain", "--lang", "zh", "-r", &c]));
}

#[test]
fn markdown_lesson_crafted_basic() {
    let c = cap("crafted-basic.pcap");
    insta::assert_snapshot!(stdout(&[
        "print", "--format", "markdown", "--lang", "en", "-r", &c
    ]));
}

#[test]
fn markdown_lesson_crafted_basic_zh() {
    let c = cap("crafted-basic.pcap");
    insta::assert_snapshot!(stdout(&[
        "print", "--format", "markdown", "--lang", "zh", "-r", &c
    ]));
}

#[test]
fn mermaid_crafted_basic() {
    let c = cap("crafted-basic.pcap");
    insta::assert_snapshot!(stdout(&[
        "print", "--format", "mermaid", "--lang", "en", "-r", &c
    ]));
}

#[test]
fn compare_polling_vs_websocket() {
    let c = cap("compare-polling-vs-websocket.pcap");
    insta::assert_snapshot!(stdout(&["stats", "--compare", "-r", &c]));
}

#[test]
fn compare_json_has_one_object_per_kind() {
    let c = cap("compare-polling-vs-websocket.pcap");
    let text = stdout(&["stats", "--compare", "--json", "-r", &c]);
    let cols: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let kinds: Vec<&str> = cols.iter().map(|c| c["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["websocket", "http-polling", "http-long-polling"]);
    // The numbers are the stats rows' numbers, summed per kind.
    let rows: Vec<serde_json::Value> = stdout(&["stats", "--json", "-r", &c])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for col in &cols {
        let of_kind: Vec<&serde_json::Value> =
            rows.iter().filter(|r| r["kind"] == col["kind"]).collect();
        let sum =
            |f: &dyn Fn(&serde_json::Value) -> u64| -> u64 { of_kind.iter().map(|r| f(r)).sum() };
        assert_eq!(col["connections"], of_kind.len() as u64);
        assert_eq!(
            col["wire_bytes"],
            sum(&|r| r["bytes"]["wire"].as_u64().unwrap())
        );
        assert_eq!(
            col["payload_bytes"],
            sum(&|r| r["bytes"]["payload"].as_u64().unwrap())
        );
        let wire = col["wire_bytes"].as_f64().unwrap();
        let payload = col["payload_bytes"].as_f64().unwrap();
        assert!((col["overhead"].as_f64().unwrap() - wire / payload).abs() < 1e-9);
    }
    // What the seed article claims, seen on real bytes: polling pays far more per byte.
    let overhead = |k: usize| cols[k]["overhead"].as_f64().unwrap();
    assert!(overhead(0) < 1.1, "{text}");
    assert!(overhead(1) > 5.0 * overhead(0), "{text}");
    assert_eq!(cols[0]["requests_per_message"], 0.0);
}

#[test]
fn language_comes_from_the_locale_unless_given() {
    let c = cap("crafted-basic.pcap");
    let args = ["print", "--explain", "-r", c.as_str()];
    let zh = "TCP 三次握手";
    let en = "TCP three-way handshake";
    let out = |env: &[(&str, &str)], extra: &[&str]| {
        let mut a: Vec<&str> = args.to_vec();
        a.extend_from_slice(extra);
        String::from_utf8(run_with_env(&a, env).stdout).unwrap()
    };
    assert!(out(&[], &[]).contains(en));
    assert!(out(&[("LANG", "zh_CN.UTF-8")], &[]).contains(zh));
    assert!(out(&[("LC_ALL", "zh_TW.UTF-8"), ("LANG", "en_US.UTF-8")], &[]).contains(zh));
    assert!(out(&[("LC_ALL", "C"), ("LANG", "zh_CN.UTF-8")], &[]).contains(en));
    assert!(out(&[("LC_MESSAGES", "zh_CN"), ("LANG", "en_US")], &[]).contains(zh));
    assert!(out(&[("LANG", "zh_CN.UTF-8")], &["--lang", "en"]).contains(en));
    assert!(out(&[], &["--lang", "zh"]).contains(zh));
    let bad = run_with_env(&["print", "--explain", "--lang", "fr", "-r", &c], &[]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn json_flag_is_format_json() {
    let c = cap("crafted-basic.pcap");
    assert_eq!(
        stdout(&["print", "--json", "-r", &c]),
        stdout(&["print", "--format", "json", "-r", &c])
    );
}

fn all_captures() -> Vec<PathBuf> {
    let mut caps = common::own_captures();
    caps.extend(common::captures_in(&common::shared_dir()));
    caps
}

#[test]
fn explain_keeps_the_timeline_and_explains_every_violation() {
    for path in all_captures() {
        let p = path.to_str().unwrap();
        for lang in ["en", "zh"] {
            // The timeline's own lines, in the same language.
            let plain = stdout(&["print", "--lang", lang, "-r", p]);
            let explained = stdout(&["print", "--explain", "--lang", lang, "-r", p]);
            let lines: Vec<&str> = explained.lines().collect();
            let events: Vec<&str> = lines
                .iter()
                .copied()
                .filter(|l| !l.starts_with(EXPLAIN_INDENT))
                .collect();
            // The plain timeline's lines under a message that name the protocol riding
            // on it (`↳`) are not part of the lesson.
            let plain_events: Vec<&str> = plain
                .lines()
                .filter(|l| !l.starts_with("                    ↳ "))
                .collect();
            assert_eq!(events, plain_events, "{p} {lang}");
            for (i, l) in lines.iter().enumerate() {
                if l.contains("  VIOL  ") || l.contains("  违规  ") {
                    let next = lines.get(i + 1).copied().unwrap_or("");
                    assert!(next.starts_with(EXPLAIN_INDENT), "{p} {lang}: {l}");
                }
                assert!(!l.chars().any(|c| c.is_control()), "{p}: {l:?}");
            }
        }
    }
}

#[test]
fn every_diagram_is_well_formed() {
    for path in all_captures() {
        let p = path.to_str().unwrap();
        let text = stdout(&["print", "--format", "mermaid", "-r", p]);
        let mut diagrams = 0;
        for l in text.lines() {
            if l == "sequenceDiagram" {
                diagrams += 1;
                continue;
            }
            if l.is_empty() || l.starts_with("%% wsscope: connection ") {
                continue;
            }
            let body = l.strip_prefix("    ").unwrap_or_else(|| panic!("{p}: {l}"));
            let ok = body.starts_with("participant Client as ")
                || body.starts_with("participant Server as ")
                || body.starts_with("Note over ")
                || [
                    "Client->>Server: ",
                    "Server->>Client: ",
                    "Client-->>Server: ",
                    "Server-->>Client: ",
                    "Client-xServer: ",
                    "Server-xClient: ",
                ]
                .iter()
                .any(|a| body.starts_with(a));
            assert!(ok, "{p}: {l}");
            // In the text (after `as ` or the first `: `), every `;` ends an entity code;
            // no raw `#`, `<`, `>`, backquote outside them.
            let mut rest = match body.strip_prefix("participant ") {
                Some(p) => p.split_once(" as ").map_or("", |x| x.1),
                None => body.split_once(": ").map_or("", |x| x.1),
            };
            while let Some(i) = rest.find(['#', ';', '<', '>', '`']) {
                let (c, tail) = (rest.as_bytes()[i], &rest[i + 1..]);
                assert_eq!(c, b'#', "{p}: {l}");
                let end = tail.find(';').unwrap_or_else(|| panic!("{p}: {l}"));
                assert!(tail[..end].bytes().all(|b| b.is_ascii_digit()), "{p}: {l}");
                rest = &tail[end + 1..];
            }
        }
        let conns = stdout(&["print", "--json", "-r", p])
            .lines()
            .filter(|l| l.contains("\"event\":\"conn_open\""))
            .count();
        assert_eq!(diagrams, conns, "{p}: one diagram per connection");
    }
}

#[test]
fn every_capture_makes_a_lesson() {
    for path in all_captures() {
        let p = path.to_str().unwrap();
        let text = stdout(&["print", "--format", "markdown", "-r", p]);
        let conns = stdout(&["stats", "--json", "-r", p]).lines().count();
        assert_eq!(
            text.lines()
                .filter(|l| l.starts_with("## Connection #"))
                .count(),
            conns,
            "{p}"
        );
        // Table rows keep their column count: no cell text adds a `|`.
        for l in text
            .lines()
            .filter(|l| l.starts_with("| ") && !l.contains("---"))
        {
            let cells = l.replace("\\|", "").matches('|').count();
            assert!((3..=6).contains(&cells), "{p}: {l}");
        }
    }
}

/// The teardown is told as it happened: a FIN answered by a reset is not a four-way
/// teardown (suricata-verify's ping capture: the client's FIN, the server's ACK, then
/// the client's RST).
#[test]
fn explain_tells_the_teardown_as_it_happened() {
    let path = common::shared_dir().join("suricata-verify__websocket-ping.pcap");
    let text = stdout(&[
        "print",
        "--explain",
        "--lang",
        "en",
        "-r",
        path.to_str().unwrap(),
        "-f",
        "tcp port 55371",
    ]);
    assert!(
        text.contains("The client sends FIN: it has nothing more to send"),
        "{text}"
    );
    assert!(
        text.contains("The server acknowledges the client's FIN."),
        "{text}"
    );
    assert!(
        text.contains("instead of finishing the teardown with FIN and ACK"),
        "{text}"
    );
    assert!(!text.contains("four-way teardown, is complete"), "{text}");
    assert!(!text.contains("sends its own FIN: now both"), "{text}");
}

fn tls_cap(name: &str) -> (String, String) {
    let dir = common::shared_dir().join("../captures-tls");
    let path = |ext: &str| {
        dir.join(format!("{name}.{ext}"))
            .to_string_lossy()
            .into_owned()
    };
    (path("pcap"), path("keylog"))
}

/// The lesson's sections (`## ` headings with their text), by heading.
fn sections(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for l in text.lines() {
        if let Some(h) = l.strip_prefix("## ") {
            out.push((h.to_string(), String::new()));
        } else if let Some((_, body)) = out.last_mut() {
            body.push_str(l);
            body.push('\n');
        }
    }
    out
}

/// The event rows of a section's phase tables (`| pkt | ms | arrow | summary |`).
fn event_rows(section: &str) -> usize {
    section
        .lines()
        .filter(|l| {
            let cells: Vec<&str> = l.split(" | ").collect();
            l.starts_with("| ")
                && cells.len() >= 4
                && cells[0][2..].parse::<u64>().is_ok()
                && cells[1].parse::<f64>().is_ok()
                && ["→", "←", "·"].contains(&cells[2])
        })
        .count()
}

/// A WebSocket over HTTP/2 is a section of its own with only its own events; the
/// connection's TCP, TLS and HTTP/2 phases come once, with the TLS facts and what
/// changes over HTTP/2.
#[test]
fn h2_lesson_has_a_section_per_websocket_and_the_shared_phases_once() {
    let (pcap, keylog) = tls_cap("h2_rfc8441_hypercorn_tls");
    let args = [
        "print", "--format", "markdown", "--lang", "en", "-r", &pcap, "--keylog", &keylog,
    ];
    let text = stdout(&args);
    let secs = sections(&text);
    let heads: Vec<&str> = secs.iter().map(|(h, _)| h.as_str()).collect();
    assert_eq!(heads.len(), 3, "{heads:?}");
    assert!(heads[0].starts_with("Connection #0: "), "{heads:?}");
    assert!(
        heads[1].starts_with("Connection #0, stream 1: "),
        "{heads:?}"
    );
    assert!(
        heads[2].starts_with("Connection #0, stream 3: "),
        "{heads:?}"
    );
    // Each section's rows are exactly its own events (none of another stream's).
    let events = common::events_with(Path::new(&pcap), &["--keylog", &keylog]);
    let count = |f: &dyn Fn(&serde_json::Value) -> bool| {
        events
            .iter()
            .filter(|e| e["event"] != "violation" && f(e))
            .count()
    };
    let of_stream = |s: u64| count(&|e: &serde_json::Value| e["stream"] == s);
    let shared = count(&|e: &serde_json::Value| {
        e["stream"].is_null() || !(e["stream"] == 1 || e["stream"] == 3)
    });
    assert_eq!(event_rows(&secs[0].1), shared, "{}", secs[0].1);
    assert_eq!(event_rows(&secs[1].1), of_stream(1), "{}", secs[1].1);
    assert_eq!(event_rows(&secs[2].1), of_stream(3), "{}", secs[2].1);
    assert!(secs[1].1.contains("\"h2 stream done\""), "{}", secs[1].1);
    assert!(!secs[1].1.contains("h2 deflate done"), "{}", secs[1].1);
    assert!(secs[2].1.contains("\"h2 deflate done\""), "{}", secs[2].1);
    assert!(!secs[2].1.contains("h2 stream done"), "{}", secs[2].1);
    // The shared phases once, in the connection's section.
    for phase in [
        ". TCP three-way handshake",
        ". TLS handshake",
        ". HTTP/2 connection",
        ". TCP teardown",
        "What changes over HTTP/2",
        "TLS at a glance",
    ] {
        assert_eq!(text.matches(phase).count(), 1, "{phase}");
        assert!(secs[0].1.contains(phase), "{phase}");
    }
    for s in &secs[1..] {
        assert!(!s.1.contains("SETTINGS ACK") && !s.1.contains("ClientHello"));
        assert!(s.1.contains(". Extended CONNECT (RFC 8441)"), "{}", s.1);
        assert!(s
            .1
            .contains("| 200 ✓ (extended CONNECT: no Key, no Accept) |"));
    }
    let conn = &secs[0].1;
    for want in [
        "| version chosen (ServerHello) | TLS 1.3 |",
        "| cipher suite chosen (ServerHello) | TLS\\_AES\\_256\\_GCM\\_SHA384 |",
        "| versions offered (ClientHello) | TLS 1.3, TLS 1.2 |",
        "| protocols offered (ALPN, ClientHello) | h2 |",
        "| decrypted | yes, with the session's secrets from the key log |",
        "5 B record header + 16 B tag + 1 B inner content type = 22 B",
        "| TLS records client → server / server → client | 38 / 41 |",
        "4071 B over 79 records",
        "No Sec-WebSocket-Key, no Accept, no 101",
        "A 200 instead of a 101",
        "DATA frames carry ordinary WebSocket frames",
        "2 WebSocket(s) (streams 1, 3) share this one TCP connection and its TLS session",
    ] {
        assert!(conn.contains(want), "{want}\n{conn}");
    }
    // The plain request of stream 5 stays with its connection (as in `stats`).
    assert!(conn.contains("GET /hello HTTP/2"), "{conn}");
}

#[test]
fn h2_mermaid_has_a_diagram_per_websocket() {
    let (pcap, keylog) = tls_cap("h2_rfc8441_hypercorn_tls");
    let text = stdout(&[
        "print", "--format", "mermaid", "-r", &pcap, "--keylog", &keylog,
    ]);
    let parts: Vec<&str> = text.split("%% wsscope: ").skip(1).collect();
    let heads: Vec<&str> = parts.iter().map(|p| p.lines().next().unwrap()).collect();
    assert_eq!(
        heads,
        [
            "connection 0",
            "connection 0, stream 1",
            "connection 0, stream 3"
        ]
    );
    assert_eq!(text.matches("sequenceDiagram").count(), 3);
    assert!(parts[0].contains("SETTINGS ACK") && parts[0].contains("ClientHello"));
    assert!(!parts[0].contains("CONNECT /ws"), "{}", parts[0]);
    assert!(parts[1].contains("h2 stream done") && !parts[1].contains("h2 deflate done"));
    assert!(parts[2].contains("h2 deflate done") && !parts[2].contains("h2 stream done"));
    for p in &parts[1..] {
        assert!(!p.contains("SYN") && !p.contains("ClientHello"), "{p}");
        assert!(p.contains("participant Client as client 127.0.0.1#58;41120"));
    }
}

/// wss over HTTP/1.1: the TLS phase has its facts; nothing about HTTP/2.
#[test]
fn wss_lesson_has_the_tls_section() {
    let (pcap, keylog) = tls_cap("py_tls13_std");
    let text = stdout(&[
        "print", "--format", "markdown", "--lang", "en", "-r", &pcap, "--keylog", &keylog,
    ]);
    for want in [
        "**TLS at a glance**",
        "| version chosen (ServerHello) | TLS 1.3 |",
        "| cipher suite chosen (ServerHello) | TLS\\_AES\\_256\\_GCM\\_SHA384 |",
        "| decrypted | yes, with the session's secrets from the key log |",
        "= 22 B",
        "B per record (the handshake's records included)",
    ] {
        assert!(text.contains(want), "{want}\n{text}");
    }
    assert!(
        !text.contains("HTTP/2") && !text.contains(", stream "),
        "{text}"
    );
    assert!(text.contains("| upgrade | 101 ✓, Accept ✓ |"), "{text}");
    // Without the key log: the reason, no bytes per record.
    let text = stdout(&["print", "--format", "markdown", "--lang", "en", "-r", &pcap]);
    assert!(
        text.contains("| decrypted | no (no\\_key): the records stay encrypted |"),
        "{text}"
    );
    assert!(!text.contains("B per record (the handshake"), "{text}");
}
