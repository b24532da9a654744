//! The whole library from a capture: the input is a pcap or pcapng file; every
//! packet goes to `Analyzer::packet`, then `finish`. Every event must serialise
//! (NDJSON) with terminal-safe strings, and its text timeline line must hold no
//! control character.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsscope::analysis::{Analyzer, Config, Event};
use wsscope::output::TextTimeline;
use wsscope::types::Timestamp;
use wsscope_fuzz::{json_is_safe, pcapread, unsafe_char};

fn check(events: &mut Vec<Event>, text: &mut TextTimeline) {
    for e in events.drain(..) {
        let json = serde_json::to_string(&e).expect("an event serialises");
        let v: serde_json::Value = serde_json::from_str(&json).expect("NDJSON parses back");
        if let Err(why) = json_is_safe(&v) {
            panic!("NDJSON not terminal-safe: {why}: {json}");
        }
        let line = text.line(&e);
        if let Some(c) = line.chars().find(|&c| unsafe_char(c)) {
            panic!("text line holds U+{:04X}: {line:?}", c as u32);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut a = Analyzer::new(Config::default());
    let mut events: Vec<Event> = Vec::new();
    let mut text = TextTimeline::new();
    let mut last = Timestamp(0);
    pcapread::for_each_packet(data, |lt, ts, pkt| {
        last = ts;
        a.packet(lt, ts, pkt, &mut events);
        check(&mut events, &mut text);
    });
    a.finish(last, &mut events);
    check(&mut events, &mut text);
});
