//! `--grep`, `--conn`, `-r -` (standard input), `export --har` / `--ndjson`, and the
//! generated completions and manual page, on real captures.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value;
use sha2::{Digest, Sha256};
use wsscope::output::har::Har;

fn apps(name: &str) -> PathBuf {
    common::shared_dir().join("../captures-apps").join(name)
}

fn tls(name: &str) -> PathBuf {
    common::shared_dir().join("../captures-tls").join(name)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn stdout(args: &[&str]) -> String {
    let out = common::run(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn payload(m: &Value) -> Vec<u8> {
    let p = m["payload"].as_str().unwrap();
    if m["payload_encoding"] == "base64" {
        base64::engine::general_purpose::STANDARD.decode(p).unwrap()
    } else {
        p.as_bytes().to_vec()
    }
}

#[test]
fn grep_keeps_the_messages_that_contain_the_text_and_their_connections() {
    let cap = apps("socketio_polling_upgrade.pcap");
    let all = json_lines(&stdout(&["print", "--json", "--payload", "-r", s(&cap)]));
    let want: Vec<&Value> = all
        .iter()
        .filter(|e| e["event"] == "ws_message" && payload(e).windows(5).any(|w| w == b"hello"))
        .collect();
    assert!(want.len() >= 2, "{}", want.len());
    let got = json_lines(&stdout(&[
        "print",
        "--json",
        "--payload",
        "--grep",
        "hello",
        "-r",
        s(&cap),
    ]));
    // The connection's conn_open, then exactly those messages.
    assert_eq!(got[0]["event"], "conn_open");
    assert_eq!(got[0]["conn"], want[0]["conn"]);
    assert_eq!(got[1..].iter().collect::<Vec<_>>(), want);
    // The text timeline: the same messages, and their protocol lines.
    let text = stdout(&["print", "--grep", "hello", "-r", s(&cap)]);
    assert_eq!(
        text.matches("  ws    message ").count(),
        want.len(),
        "{text}"
    );
    assert!(text.contains("↳ socket.io EVENT \"hello\""), "{text}");
    // Binary payloads are searched too (an MQTT topic inside PUBLISH packets).
    let mqtt = apps("mqtt_paho_mosquitto.pcap");
    let text = stdout(&["print", "--grep", "app/status", "-r", s(&mqtt)]);
    assert!(text.contains("mqtt PUBLISH app/status"), "{text}");
    // stats: the rows of the connections with a match.
    let rows = json_lines(&stdout(&[
        "stats",
        "--json",
        "--grep",
        "hello",
        "-r",
        s(&cap),
    ]));
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["conn"], want[0]["conn"]);
    let all_rows = json_lines(&stdout(&["stats", "--json", "-r", s(&cap)]));
    assert!(all_rows.len() > 1);
    let same = all_rows
        .iter()
        .find(|r| r["conn"] == rows[0]["conn"])
        .unwrap();
    assert_eq!(same, &rows[0], "the row is the whole connection's");
    assert_eq!(
        stdout(&[
            "stats",
            "--json",
            "--grep",
            "no such text anywhere",
            "-r",
            s(&cap)
        ]),
        ""
    );
}

/// `stats --compare --grep`: the comparison counts only the connections with a match
/// (here the one WebSocket of a Socket.IO session that began with HTTP polling).
#[test]
fn compare_counts_only_the_connections_grep_keeps() {
    let cap = apps("socketio_polling_upgrade.pcap");
    let kinds = |args: &[&str]| -> Vec<(String, u64)> {
        let mut all = vec!["stats", "--compare", "--json", "-r", s(&cap)];
        all.extend_from_slice(args);
        json_lines(&stdout(&all))
            .iter()
            .map(|c| {
                let kind = c["kind"].as_str().unwrap().to_string();
                (kind, c["connections"].as_u64().unwrap())
            })
            .collect()
    };
    let everything = kinds(&[]);
    assert!(everything.len() > 1, "{everything:?}");
    // "2probe" is the Engine.IO upgrade probe, sent on the WebSocket only.
    assert_eq!(kinds(&["--grep", "2probe"]), [("websocket".to_string(), 1)]);
    assert_eq!(kinds(&["--grep", "no such text anywhere"]), []);
}

#[test]
fn conn_keeps_the_connections_named_as_in_the_unfiltered_capture() {
    let cap = apps("socketio_polling_upgrade.pcap");
    let all = json_lines(&stdout(&["print", "--json", "-r", s(&cap)]));
    let conns: Vec<u64> = {
        let mut c: Vec<u64> = all.iter().map(|e| e["conn"].as_u64().unwrap()).collect();
        c.dedup();
        c.sort_unstable();
        c.dedup();
        c
    };
    assert!(conns.len() >= 3, "{conns:?}");
    let pick = format!("{},{}", conns[2], conns[0]);
    let got = json_lines(&stdout(&[
        "print",
        "--json",
        "--conn",
        &pick,
        "-r",
        s(&cap),
    ]));
    let want: Vec<&Value> = all
        .iter()
        .filter(|e| e["conn"] == conns[0] || e["conn"] == conns[2])
        .collect();
    assert_eq!(got.iter().collect::<Vec<_>>(), want);
    let rows = json_lines(&stdout(&[
        "stats",
        "--json",
        "--conn",
        &pick,
        "-r",
        s(&cap),
    ]));
    let numbers: Vec<&Value> = rows.iter().map(|r| &r["conn"]).collect();
    assert_eq!(numbers, [&Value::from(conns[0]), &Value::from(conns[2])]);
    // With a BPF filter that hides the other connections' packets, the numbers stay.
    let ws_port = all
        .iter()
        .find(|e| e["event"] == "conn_open" && e["conn"] == conns[2])
        .unwrap()["client"]
        .as_str()
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .to_string();
    let filtered = json_lines(&stdout(&[
        "print",
        "--json",
        "-f",
        &format!("tcp port {ws_port}"),
        "--conn",
        &conns[2].to_string(),
        "-r",
        s(&cap),
    ]));
    assert!(!filtered.is_empty());
    assert!(filtered.iter().all(|e| e["conn"] == conns[2]));
    // A bad number is a usage error.
    assert_eq!(
        common::run(&["print", "--conn", "x", "-r", s(&cap)])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn a_capture_on_standard_input_reads_like_the_file() {
    for cap in [
        apps("stomp_rabbitmq_web_stomp.pcap"),
        Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/crafted-basic.pcapng"),
    ] {
        let file = stdout(&["print", "-r", s(&cap)]);
        // Piped through cat, as from tcpdump -w -.
        let mut cat = std::process::Command::new("cat")
            .arg(&cap)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let out = common::wsscope()
            .args(["print", "-r", "-"])
            .stdin(cat.stdout.take().unwrap())
            .output()
            .unwrap();
        assert!(cat.wait().unwrap().success());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            file,
            "{}",
            cap.display()
        );
    }
    let bad = common::wsscope()
        .args(["print", "-r", "-"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("standard input"));
    // The view reads its keys on standard input: it says so instead.
    let view = common::wsscope()
        .args(["view", "-r", "-"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(view.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&view.stderr).contains("wsscope print -r -"));
}

#[test]
fn standard_input_is_printed_as_packets_arrive() {
    // The first packets of a pcap, then nothing (the writer keeps the pipe open):
    // their lines must come out before the input ends.
    let bytes =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/crafted-basic.pcap"))
            .unwrap();
    let little = bytes[..4] == [0xd4, 0xc3, 0xb2, 0xa1];
    let mut end = 24;
    for _ in 0..3 {
        let n = &bytes[end + 8..end + 12];
        let caplen = if little {
            u32::from_le_bytes(n.try_into().unwrap())
        } else {
            u32::from_be_bytes(n.try_into().unwrap())
        };
        end += 16 + caplen as usize;
    }
    let mut child = common::wsscope()
        .args(["print", "-r", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&bytes[..end]).unwrap();
    stdin.flush().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            if tx.send(line.unwrap()).is_err() {
                return;
            }
        }
    });
    let started = Instant::now();
    let mut lines = Vec::new();
    while lines.len() < 3 && started.elapsed() < Duration::from_secs(10) {
        if let Ok(l) = rx.recv_timeout(Duration::from_millis(100)) {
            lines.push(l);
        }
    }
    assert!(lines.len() >= 3, "lines before the end of input: {lines:?}");
    assert!(lines[1].contains("SYN"), "{lines:?}");
    // The rest, then the end.
    stdin.write_all(&bytes[end..]).unwrap();
    drop(stdin);
    assert!(child.wait().unwrap().success());
    let mut rest = Vec::new();
    while let Ok(l) = rx.recv_timeout(Duration::from_secs(2)) {
        rest.push(l);
    }
    assert!(rest.last().unwrap().contains("ACK of FIN"), "{rest:?}");
}

/// Per client port and HAR type (`send`, `receive`): (kind, sha256) of each message.
type Logged = HashMap<u64, HashMap<&'static str, Vec<(String, String)>>>;

/// The data messages the server of a wss capture logged, per HAR type.
fn logged_tls(facts: &Value) -> Logged {
    let mut out = Logged::new();
    for c in facts["server"]["conns"].as_array().unwrap() {
        for e in c["events"].as_array().unwrap() {
            let kind = e["kind"].as_str().unwrap();
            if kind != "text" && kind != "binary" {
                continue;
            }
            let t = if e["op"] == "recv" { "send" } else { "receive" };
            out.entry(c["remote"]["port"].as_u64().unwrap())
                .or_default()
                .entry(t)
                .or_default()
                .push((kind.to_string(), e["sha256"].as_str().unwrap().to_string()));
        }
    }
    out
}

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("wsscope-test-{}-{name}", std::process::id()))
}

#[test]
fn har_export_loads_back_and_holds_every_message() {
    // An app capture (its facts per client port) and a wss one (with its key log).
    let har_path = temp("apps.har");
    let nd_path = temp("apps.ndjson");
    let cap = apps("socketio_polling_upgrade.pcap");
    let out = common::run(&[
        "export",
        "-r",
        s(&cap),
        "--har",
        s(&har_path),
        "--ndjson",
        s(&nd_path),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let har: Har = serde_json::from_str(&std::fs::read_to_string(&har_path).unwrap()).unwrap();
    assert_eq!(har.log.version, "1.2");
    assert_eq!(
        har.log.entries.len(),
        1,
        "one WebSocket; the polling requests are not"
    );
    let facts: Value = serde_json::from_str(
        &std::fs::read_to_string(apps("socketio_polling_upgrade.facts.json")).unwrap(),
    )
    .unwrap();
    let conn = &facts["connections"][0];
    let e = &har.log.entries[0];
    assert_eq!(e.request.url, conn["url"].as_str().unwrap());
    assert_eq!(e.response.status, 101);
    assert_eq!(e.resource_type, "websocket");
    assert!(e.started_date_time.starts_with("2026-12-01T") && e.started_date_time.ends_with('Z'));
    assert_eq!(e.connection, conn["client_port"].to_string());
    let logged: Vec<&Value> = conn["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| matches!(m["kind"].as_str(), Some("text" | "binary")))
        .collect();
    for t in ["send", "receive"] {
        let dir = if t == "send" { "C->S" } else { "S->C" };
        let want: Vec<(u8, &str)> = logged
            .iter()
            .filter(|m| m["dir"] == dir)
            .map(|m| {
                (
                    m["opcode"].as_u64().unwrap() as u8,
                    m["sha256"].as_str().unwrap(),
                )
            })
            .collect();
        let got: Vec<(u8, String)> = e
            .web_socket_messages
            .iter()
            .filter(|m| m.kind == t)
            .map(|m| {
                let bytes = if m.opcode == 1 {
                    m.data.as_bytes().to_vec()
                } else {
                    base64::engine::general_purpose::STANDARD
                        .decode(&m.data)
                        .unwrap()
                };
                (m.opcode, sha(&bytes))
            })
            .collect();
        let got: Vec<(u8, &str)> = got.iter().map(|(o, h)| (*o, h.as_str())).collect();
        assert_eq!(got, want, "{t}");
    }
    // Times are the capture's, in order.
    let times: Vec<f64> = e.web_socket_messages.iter().map(|m| m.time).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
    assert!((times[0] - 1_796_096_271.8).abs() < 1.0, "{}", times[0]);
    // The NDJSON export: every message, whole.
    let nd = json_lines(&std::fs::read_to_string(&nd_path).unwrap());
    assert_eq!(nd.len(), logged.len());
    assert!(nd
        .iter()
        .all(|m| m["event"] == "ws_message" && m.get("payload").is_some()));

    // wss: the URL says so, and the messages decrypted are the peers'.
    let cap = tls("tls12_ecdhe_rsa_aes128_gcm_py.pcap");
    let keylog = tls("tls12_ecdhe_rsa_aes128_gcm_py.keylog");
    let out = common::wsscope()
        .env_remove("SSLKEYLOGFILE")
        .args([
            "export",
            "-r",
            s(&cap),
            "--keylog",
            s(&keylog),
            "--har",
            s(&har_path),
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let har: Har = serde_json::from_str(&std::fs::read_to_string(&har_path).unwrap()).unwrap();
    let facts: Value = serde_json::from_str(
        &std::fs::read_to_string(tls("tls12_ecdhe_rsa_aes128_gcm_py.facts.json")).unwrap(),
    )
    .unwrap();
    let logged = logged_tls(&facts);
    assert_eq!(har.log.entries.len(), logged.len());
    for e in &har.log.entries {
        assert!(
            e.request.url.starts_with("wss://127.0.0.1:"),
            "{}",
            e.request.url
        );
        let port: u64 = e.connection.parse().unwrap();
        for (t, want) in &logged[&port] {
            let got: Vec<(String, String)> = e
                .web_socket_messages
                .iter()
                .filter(|m| m.kind == *t)
                .map(|m| {
                    let bytes = if m.opcode == 1 {
                        m.data.as_bytes().to_vec()
                    } else {
                        base64::engine::general_purpose::STANDARD
                            .decode(&m.data)
                            .unwrap()
                    };
                    let kind = if m.opcode == 1 { "text" } else { "binary" };
                    (kind.to_string(), sha(&bytes))
                })
                .collect();
            assert_eq!(&got, want, "{t}");
        }
    }
    let _ = std::fs::remove_file(&har_path);
    let _ = std::fs::remove_file(&nd_path);
    // export needs an output.
    assert_eq!(
        common::run(&["export", "-r", s(&cap)]).status.code(),
        Some(2)
    );
}

#[test]
fn completions_and_the_manual_come_from_the_command_line() {
    let bash = stdout(&["completions", "bash"]);
    for word in [
        "export",
        "--payload",
        "--grep",
        "--conn",
        "--max-payload",
        "--har",
    ] {
        assert!(bash.contains(word), "bash completion lacks {word}");
    }
    for shell in ["zsh", "fish"] {
        let text = stdout(&["completions", shell]);
        assert!(
            text.contains("--grep") && text.contains("wsscope"),
            "{shell}"
        );
    }
    let man = stdout(&["man"]);
    assert!(
        man.starts_with(".ie") || man.contains(".TH wsscope 1"),
        "{man}"
    );
    assert!(man.contains("export"), "{man}");
    let print = stdout(&["man", "print"]);
    assert!(
        print.contains(".TH wsscope\\-print 1") || print.contains(".TH wsscope-print 1"),
        "{print}"
    );
    assert!(print.contains("\\-\\-payload"), "{print}");
    assert_eq!(common::run(&["man", "nothing"]).status.code(), Some(2));
    // -w is for live capture only.
    let cap = apps("stomp_rabbitmq_web_stomp.pcap");
    let out = common::run(&["print", "-r", s(&cap), "-w", "/tmp/x.pcap"]);
    assert_eq!(out.status.code(), Some(2));
    let mut err = String::new();
    out.stderr.as_slice().read_to_string(&mut err).unwrap();
    assert!(err.contains("-w"), "{err}");
}
