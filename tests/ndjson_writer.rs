//! `output::push_json` (the NDJSON of `print --json`) writes the bytes
//! `serde_json::to_writer` writes: strings (escapes at every offset of the eight-byte
//! scan, control characters, U+2028, non-ASCII), numbers, every shape serde has,
//! and every event of the shipped captures.

mod common;

use serde::Serialize;
use serde_json::json;
use wsscope::analysis::{Analyzer, Config, Event};
use wsscope::output;
use wsscope::tls::KeyLog;
use wsscope::types::Timestamp;

fn ours<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut buf = Vec::new();
    output::push_json(&mut buf, value).expect("serializes");
    buf
}

fn same<T: Serialize + ?Sized + std::fmt::Debug>(value: &T) {
    let want = serde_json::to_vec(value).expect("serde_json serializes");
    assert_eq!(
        String::from_utf8_lossy(&ours(value)),
        String::from_utf8_lossy(&want),
        "{value:?}"
    );
}

/// A fixed-seed xorshift: the same strings on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn strings_are_escaped_as_serde_json_escapes_them() {
    let mut fixed: Vec<String> = [
        "",
        "a",
        "ab",
        "abc",
        "abcd",
        "hex 0123456789abcdef",
        "\"",
        "\\",
        "say \"hi\" \\ bye",
        "\u{2028}\u{2029}",
        "é…😀 ünïcödé",
        "\u{7f}\u{80}\u{ff}",
        "tab\there\nnew\rret\u{8}\u{c}",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // Every control character, alone and inside longer strings at each offset.
    for c in 0u8..0x20 {
        let c = char::from(c);
        fixed.push(c.to_string());
        for at in 0..20 {
            let mut s = "x".repeat(20);
            s.insert(at, c);
            fixed.push(s);
        }
    }
    for special in ['"', '\\', '\u{2028}', 'é'] {
        for len in 0..40 {
            for at in 0..=len {
                let mut s = "0123456789abcdef".repeat(3)[..len].to_string();
                s.insert(at, special);
                fixed.push(s);
            }
        }
    }
    for s in &fixed {
        same(s.as_str());
    }

    // Random strings drawn from clean ASCII, escapes and multi-byte characters.
    let alphabet: Vec<char> =
        "abcXYZ09 {}:,/\"\\\u{0}\u{1}\u{8}\u{9}\u{a}\u{c}\u{d}\u{1f}\u{7f}é…\u{2028}😀"
            .chars()
            .collect();
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    for _ in 0..20_000 {
        let len = rng.below(80);
        let clean_run = rng.below(2) == 0;
        let s: String = (0..len)
            .map(|_| {
                if clean_run && rng.below(16) != 0 {
                    'a'
                } else {
                    alphabet[rng.below(alphabet.len())]
                }
            })
            .collect();
        same(s.as_str());
        // As a map key too.
        same(&std::collections::BTreeMap::from([(s.clone(), 1)]));
    }
}

#[test]
fn numbers_are_written_as_serde_json_writes_them() {
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    for _ in 0..20_000 {
        let bits = rng.next();
        same(&f64::from_bits(bits));
        same(&f32::from_bits(bits as u32));
        same(&(bits as i64));
        same(&bits);
    }
    for x in [
        0.0,
        -0.0,
        1.0,
        0.1,
        1e16,
        1e-7,
        1_700_000_000.000_392,
        f64::MAX,
        f64::MIN_POSITIVE,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ] {
        same(&x);
        same(&[x]);
    }
    same(&(
        i64::MIN,
        i64::MAX,
        u64::MAX,
        i128::MIN,
        u128::MAX,
        -1i8,
        255u8,
    ));
}

#[derive(Debug, Serialize)]
struct Inner {
    a: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    b: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(tag = "t", rename_all = "snake_case")]
enum Tagged {
    One { x: u8 },
    Two(Inner),
}

#[derive(Debug, Serialize)]
enum External {
    Unit,
    Newtype(u8),
    Tuple(u8, String),
    Struct { a: bool },
}

#[derive(Debug, Serialize)]
struct Outer {
    unit: (),
    tuple: (u8, &'static str),
    empty: Vec<u8>,
    bytes: serde_bytes_like::Bytes,
    nested: Vec<Vec<Inner>>,
    #[serde(flatten)]
    tagged: Tagged,
    externals: Vec<External>,
    #[serde(rename = "we\"ird\\key\n")]
    weird: char,
    value: serde_json::Value,
}

/// `serialize_bytes` without a dependency for it.
mod serde_bytes_like {
    #[derive(Debug)]
    pub struct Bytes(pub Vec<u8>);
    impl serde::Serialize for Bytes {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(&self.0)
        }
    }
}

#[test]
fn every_shape_is_written_as_serde_json_writes_it() {
    for tagged in [
        Tagged::One { x: 7 },
        Tagged::Two(Inner {
            a: None,
            b: Some("b\"".into()),
        }),
    ] {
        same(&Outer {
            unit: (),
            tuple: (1, "x"),
            empty: vec![],
            bytes: serde_bytes_like::Bytes(vec![0, 1, 255]),
            nested: vec![
                vec![],
                vec![
                    Inner {
                        a: Some(1),
                        b: None,
                    },
                    Inner {
                        a: None,
                        b: Some(String::new()),
                    },
                ],
            ],
            tagged,
            externals: vec![
                External::Unit,
                External::Newtype(3),
                External::Tuple(4, "\u{2028}".into()),
                External::Struct { a: true },
            ],
            weird: '\u{1}',
            value: json!({"id": [1, -2, 3.5, null, true, "s\\", {}], "k\u{0}": {"x": []}}),
        });
    }
    same(&std::collections::BTreeMap::from([(1u32, "a"), (2, "b")]));
    same(&std::collections::BTreeMap::from([(true, 1)]));
    same(&Some(External::Unit));
}

/// The events of a capture, read in this process (`keys`: its TLS key log).
fn analyzed(path: &std::path::Path, keys: Option<&std::path::Path>, payload: bool) -> Vec<Event> {
    let mut cfg = Config::default();
    cfg.ws.keep_payload = payload;
    if let Some(k) = keys {
        let text = std::fs::read_to_string(k).expect("key log");
        cfg.keys = std::sync::Arc::new(KeyLog::parse(&text).0);
    }
    let mut cap =
        pcap::Capture::from_file(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let linktype = cap.get_datalink().0;
    let mut an = Analyzer::new(cfg);
    let mut events: Vec<Event> = Vec::new();
    let mut last = Timestamp(0);
    while let Ok(p) = cap.next_packet() {
        last = Timestamp::from_parts(p.header.ts.tv_sec, p.header.ts.tv_usec);
        an.packet(linktype, last, p.data, &mut events);
    }
    an.finish(last, &mut events);
    events
}

/// `print --json`'s lines are serde's: the events of every shipped capture (own,
/// hostile, shared, application peers, wss with its key log), with and without
/// payloads. Most are `ws_frame` and `ws_message`, which are written field by field.
#[test]
fn every_event_of_every_capture_is_the_line_serde_writes() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared = common::shared_dir();
    let mut files: Vec<(std::path::PathBuf, Option<std::path::PathBuf>)> = Vec::new();
    for dir in [
        root.join("captures"),
        root.join("captures/hostile"),
        shared.clone(),
        shared.join("../captures-apps"),
        shared.join("../captures-tls"),
    ] {
        for f in common::captures_in(&dir) {
            let keylog = f.with_extension("keylog");
            files.push((f, keylog.is_file().then_some(keylog)));
        }
    }
    assert!(files.len() > 50, "captures found: {}", files.len());
    let (mut lines, mut frequent) = (0, 0);
    for (f, keys) in &files {
        for payload in [false, true] {
            for e in analyzed(f, keys.as_deref(), payload) {
                let mut want = serde_json::to_vec(&e).expect("serde_json serializes");
                want.push(b'\n');
                let mut got = Vec::new();
                output::push_json_line(&mut got, &e).expect("writes");
                assert_eq!(
                    String::from_utf8_lossy(&got),
                    String::from_utf8_lossy(&want),
                    "{}",
                    f.display()
                );
                lines += 1;
                frequent += usize::from(matches!(e.kind.name(), "ws_frame" | "ws_message"));
            }
        }
    }
    // (Most lines are the hostile SYN flood's.)
    assert!(
        frequent > 2000,
        "{frequent} frames and messages of {lines} lines"
    );
}
