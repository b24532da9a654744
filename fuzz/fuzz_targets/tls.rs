//! `TlsLayer` fed arbitrary chunks both ways with gaps and ends, with an empty or a
//! non-empty `KeyLog` (from the input), the key log growing mid-stream; `KeyLog::parse`,
//! `add_text`/`add_bytes` and `from_dsb` on arbitrary bytes.
//!
//! Steps of kind `Extra` are key log text, kind `Extra2` Decryption Secrets Block
//! bodies (the direction bit is the byte order).
#![no_main]

use std::sync::Arc;

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use wsscope::tls::{KeyLog, TlsConfig, TlsLayer};
use wsscope_fuzz::{assert_same, dir, script, with_coalesced, Step};

#[derive(Arbitrary, Debug)]
struct Header {
    /// Every key log step is known from the start (a key log file); else the log
    /// begins empty and grows at each key log step (a live capture).
    keys_up_front: bool,
    /// Give up at once when keys are missing, rather than hold records.
    no_wait: bool,
    /// A small bound of held records.
    small_hold: Option<u16>,
    /// Add each key log step to the running log a byte at a time.
    bytewise: bool,
}

fn add(keys: &mut KeyLog, step: Step<'_>, bytewise: bool) {
    match step {
        Step::Extra(_, b) => {
            // The whole-text entry points on the same bytes.
            let text = String::from_utf8_lossy(b);
            std::hint::black_box(KeyLog::parse(&text));
            if bytewise {
                for c in b.chunks(1) {
                    std::hint::black_box(keys.add_bytes(c));
                }
            } else {
                std::hint::black_box(keys.add_text(&text));
            }
            std::hint::black_box(keys.flush());
        }
        Step::Extra2(big_endian, b) => {
            if let Ok((k, bad)) = KeyLog::from_dsb(b, big_endian) {
                std::hint::black_box((k.len(), k.lines(), bad));
            }
            let _ = keys.add_dsb(b, big_endian);
        }
        _ => {}
    }
}

/// The layer's events (as text) for `steps`.
fn run(h: &Header, steps: &[Step<'_>]) -> Vec<String> {
    let mut keys = KeyLog::new();
    if h.keys_up_front {
        for &s in steps {
            add(&mut keys, s, h.bytewise);
        }
    }
    let cfg = TlsConfig {
        max_held_bytes: h
            .small_hold
            .map(|n| n as usize)
            .unwrap_or(TlsConfig::default().max_held_bytes),
        wait_for_keys: !h.no_wait,
    };
    let mut layer = TlsLayer::with_config(Arc::new(keys.clone()), cfg);
    let mut log = Vec::new();
    let mut out = |e: wsscope::tls::TlsEvent<'_>| log.push(format!("{e:?}"));
    for &step in steps {
        match step {
            Step::Data(s2c, b) => layer.feed(dir(s2c), b, &mut out),
            Step::Gap(s2c, n) => layer.gap(dir(s2c), n, &mut out),
            Step::End(s2c) => layer.end(dir(s2c), &mut out),
            Step::Extra(..) | Step::Extra2(..) => {
                if !h.keys_up_front {
                    add(&mut keys, step, h.bytewise);
                    layer.keys_updated(Arc::new(keys.clone()), &mut out);
                }
            }
        }
    }
    std::hint::black_box((
        layer.client_random(),
        layer.version(),
        layer.cipher_suite(),
        layer.waiting_for_keys(),
    ));
    for s2c in [false, true] {
        layer.end(dir(s2c), &mut out);
    }
    log
}

fuzz_target!(|data: &[u8]| {
    let (header, steps) = script::parse(data);
    let Ok(h) = Header::arbitrary(&mut Unstructured::new(&header)) else {
        return;
    };
    let steps: Vec<Step<'_>> = steps.collect();
    let split = run(&h, &steps);
    // The chunking oracle: the same streams in bigger chunks give the same events.
    let whole = with_coalesced(&steps, |big| run(&h, big));
    assert_same(&split, &whole, "TLS events");
});
