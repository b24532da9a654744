//! `H2Layer` (each `Entry`) fed arbitrary chunks both ways with gaps and ends.
//! With `Entry::H2cUpgrade`, the first `Extra` step is the `HTTP2-Settings` value.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use wsscope::h2::{Entry, H2Layer};
use wsscope_fuzz::{assert_same, dir, script, with_coalesced, Step};

#[derive(Arbitrary, Debug)]
enum Which {
    PriorKnowledge,
    Alpn,
    H2cUpgrade { settings: bool },
}

/// An event's text without what legitimately depends on the segmentation: a bad
/// preface quotes the bytes that had come when it was found.
fn normal(mut e: String) -> String {
    if let (Some(a), Some(b)) = (e.find(" (they begin "), e.rfind("): HTTP/2 decoding")) {
        if a < b {
            e.replace_range(a..b + 1, "");
        }
    }
    e
}

/// The layer's events (as text) for `steps`.
fn run(entry: Entry, steps: &[Step<'_>]) -> Vec<String> {
    let mut layer = H2Layer::new(entry);
    let mut log = Vec::new();
    let mut out = |e: wsscope::h2::H2Event<'_>| log.push(normal(format!("{e:?}")));
    for &step in steps {
        match step {
            Step::Data(s2c, b) | Step::Extra(s2c, b) | Step::Extra2(s2c, b) => {
                layer.feed(dir(s2c), b, &mut out)
            }
            Step::Gap(s2c, n) => layer.gap(dir(s2c), n, &mut out),
            Step::End(s2c) => layer.end(dir(s2c), &mut out),
        }
        std::hint::black_box((
            layer.connect_protocol_enabled(),
            layer.hpack_synced(dir(false)),
            layer.hpack_synced(dir(true)),
        ));
    }
    std::hint::black_box(layer.websocket_streams());
    for s2c in [false, true] {
        layer.end(dir(s2c), &mut out);
    }
    log
}

fuzz_target!(|data: &[u8]| {
    let (header, steps) = script::parse(data);
    let Ok(which) = Which::arbitrary(&mut Unstructured::new(&header)) else {
        return;
    };
    let mut steps: Vec<Step<'_>> = steps.collect();
    let entry = match which {
        Which::PriorKnowledge => Entry::PriorKnowledge,
        Which::Alpn => Entry::Alpn,
        Which::H2cUpgrade { settings } => {
            let http2_settings = match steps.first() {
                Some(&Step::Extra(_, b)) if settings => {
                    steps.remove(0);
                    Some(b.to_vec())
                }
                _ => None,
            };
            Entry::H2cUpgrade { http2_settings }
        }
    };
    let split = run(entry.clone(), &steps);
    // The chunking oracle: the same streams in bigger chunks give the same events.
    let whole = with_coalesced(&steps, |big| run(entry, big));
    assert_same(&split, &whole, "HTTP/2 events");
});
