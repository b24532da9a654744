//! `HttpParser` (both roles) and the HTTP/1 stack layer `Http1` fed arbitrary
//! chunks, with gaps and ends; `check_request`/`check_upgrade` on every parsed head.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use wsscope::types::Timestamp;
use wsscope::http::{
    check_request, check_upgrade, parse_extensions, request_checks, HttpItem, HttpParser,
    RequestHead, Role,
};
use wsscope::stack::http1::{Handover, Http1};
use wsscope_fuzz::{dir, script, with_coalesced, Step};

#[derive(Arbitrary, Debug)]
struct Header {
    /// A small head bound (else the library's 64 KiB).
    small_head: Option<u16>,
    /// Resume a stopped parser (the upgrade was refused) rather than leave it stopped.
    resume: bool,
    /// The stack layer's end: the connection really ended.
    ended: bool,
}

struct Parsers {
    req: HttpParser,
    resp: HttpParser,
    last_request: Option<RequestHead>,
    resume: bool,
    /// Every item, for the chunking oracle.
    log: Vec<(bool, HttpItem)>,
}

impl Parsers {
    fn feed(&mut self, s2c: bool, mut b: &[u8]) {
        let mut items = Vec::new();
        loop {
            let p = if s2c { &mut self.resp } else { &mut self.req };
            let n = p.feed(b, &mut |i| items.push(i));
            assert!(n <= b.len(), "consumed more than fed");
            b = &b[n..];
            self.log.extend(items.iter().map(|i| (s2c, i.clone())));
            self.items(&mut items);
            let p = if s2c { &mut self.resp } else { &mut self.req };
            if b.is_empty() || !(self.resume && p.is_stopped()) {
                break;
            }
            p.resume();
        }
    }

    fn items(&mut self, items: &mut Vec<HttpItem>) {
        for item in items.drain(..) {
            match item {
                HttpItem::Request(r) => {
                    self.resp.expect_response_to(&r.method);
                    std::hint::black_box((check_request(&r), request_checks(&r)));
                    std::hint::black_box(parse_extensions(
                        r.headers_all("sec-websocket-extensions"),
                    ));
                    self.last_request = Some(r);
                }
                HttpItem::Response(resp) => {
                    if let Some(req) = &self.last_request {
                        std::hint::black_box(check_upgrade(req, &resp));
                    }
                }
                HttpItem::Violation(v) => {
                    std::hint::black_box(v);
                }
                HttpItem::BodyDone { .. } => {}
            }
        }
    }
}

/// The parsers' items and the layer's events (as text) for `steps`.
fn run(h: &Header, steps: &[Step<'_>]) -> (Vec<(bool, HttpItem)>, Vec<String>) {
    let max = h
        .small_head
        .map(|n| n as usize)
        .unwrap_or(wsscope::http::DEFAULT_MAX_HEAD_BYTES);
    let mut p = Parsers {
        req: HttpParser::new(Role::Request, max),
        resp: HttpParser::new(Role::Response, max),
        last_request: None,
        resume: h.resume,
        log: Vec::new(),
    };
    let mut layer = Some(Http1::new());
    let mut events = Vec::new();
    let mut out = |d, e| events.push(format!("{d:?} {e:?}"));
    for &step in steps {
        match step {
            Step::Data(s2c, b) | Step::Extra(s2c, b) | Step::Extra2(s2c, b) => {
                p.feed(s2c, b);
                if let Some(l) = layer.as_mut() {
                    match l.feed(dir(s2c), b, Timestamp(0), &mut out) {
                        // Past a 101 the stream belongs to another layer.
                        Some(Handover::WebSocket { leftover, .. })
                        | Some(Handover::H2c { leftover, .. }) => {
                            std::hint::black_box(leftover);
                            layer = None;
                        }
                        Some(Handover::Other) => layer = None,
                        None => {}
                    }
                }
            }
            Step::Gap(s2c, _) => {
                if s2c {
                    p.resp.gap()
                } else {
                    p.req.gap()
                }
                if let Some(l) = layer.as_mut() {
                    l.gap(dir(s2c), &mut out);
                }
            }
            Step::End(s2c) => {
                let mut items = Vec::new();
                if s2c {
                    p.resp.end(&mut |i| items.push(i));
                } else {
                    p.req.end(&mut |i| items.push(i));
                }
                p.log.extend(items.iter().map(|i| (s2c, i.clone())));
                p.items(&mut items);
            }
        }
    }
    if let Some(l) = layer.as_mut() {
        l.end(h.ended, Timestamp(0), &mut out);
    }
    (p.log, events)
}

fuzz_target!(|data: &[u8]| {
    let (header, steps) = script::parse(data);
    let Ok(h) = Header::arbitrary(&mut Unstructured::new(&header)) else {
        return;
    };
    let steps: Vec<Step<'_>> = steps.collect();
    let split = run(&h, &steps);
    // The chunking oracle: the same streams in bigger chunks give the same items, per
    // direction, once the direction has ended: a bad header line is found at the end
    // of its head (or of the stream), wherever it went bad. Not across a gap: a head
    // discarded there may or may not have been found malformed before it.
    let whole = with_coalesced(&steps, |big| run(&h, big));
    let gap = |s2c: bool| {
        steps
            .iter()
            .any(|s| matches!(s, Step::Gap(d, _) if *d == s2c))
    };
    let ended = |s2c: bool| steps.iter().any(|s| matches!(s, Step::End(d) if *d == s2c));
    for s2c in [false, true] {
        if gap(s2c) || !ended(s2c) {
            continue;
        }
        let items = |log: &[(bool, HttpItem)]| -> Vec<HttpItem> {
            log.iter()
                .filter(|(d, _)| *d == s2c)
                .map(|(_, i)| i.clone())
                .collect()
        };
        assert_eq!(
            items(&split.0),
            items(&whole.0),
            "HTTP items depend on how the stream was chunked"
        );
        if !gap(!s2c) && h.ended {
            let tag = format!("{:?}", Some(dir(s2c)));
            let events = |log: &[String]| -> Vec<String> {
                log.iter()
                    .filter(|e| e.starts_with(&tag))
                    .cloned()
                    .collect()
            };
            assert_eq!(
                events(&split.1),
                events(&whole.1),
                "Http1 events depend on how the stream was chunked"
            );
        }
    }
});
