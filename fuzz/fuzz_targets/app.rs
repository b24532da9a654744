//! `AppDecoder` with an arbitrary subprotocol and path, fed arbitrary messages and
//! HTTP bodies (`http_body`).
//!
//! Steps: `Extra` starts a new decoder whose context is the step's text,
//! `subprotocol\npath` (no newline: no subprotocol, the text is the path); `Data` is
//! a text message, `Extra2` a binary message, or both are HTTP bodies to the
//! context's path while in polling mode; `End` toggles polling mode (a Socket.IO
//! session upgrading from long-polling to WebSocket); `Gap` is ignored.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use wsscope::app::{AppContext, AppDecoder, AppMessage};
use wsscope_fuzz::{dir, script, Step};

#[derive(Arbitrary, Debug)]
struct Header {
    /// Start in polling mode.
    polling: bool,
    /// The context of the first decoder, before any `Extra` step.
    subprotocol: Option<Known>,
}

/// The subprotocols the decoder recognises, and one it does not.
#[derive(Arbitrary, Debug)]
enum Known {
    Mqtt,
    GraphqlTransportWs,
    GraphqlWs,
    Stomp12,
    JsonRpc,
    Other,
}

impl Known {
    fn name(&self) -> &'static str {
        match self {
            Known::Mqtt => "mqtt",
            Known::GraphqlTransportWs => "graphql-transport-ws",
            Known::GraphqlWs => "graphql-ws",
            Known::Stomp12 => "v12.stomp",
            Known::JsonRpc => "jsonrpc",
            Known::Other => "chat",
        }
    }
}

fn context(b: &[u8]) -> AppContext {
    let text = String::from_utf8_lossy(b);
    match text.split_once('\n') {
        Some((sub, path)) => AppContext {
            subprotocol: Some(sub.to_string()),
            path: path.to_string(),
        },
        None => AppContext {
            subprotocol: None,
            path: text.into_owned(),
        },
    }
}

fn check(msgs: Vec<AppMessage>) {
    for m in msgs {
        std::hint::black_box(m.summary());
        for v in &m.violations {
            std::hint::black_box(v.to_types());
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let (header, steps) = script::parse(data);
    let Ok(h) = Header::arbitrary(&mut Unstructured::new(&header)) else {
        return;
    };
    let mut dec = AppDecoder::new(AppContext {
        subprotocol: h.subprotocol.map(|k| k.name().to_string()),
        path: "/".to_string(),
    });
    let mut polling = h.polling;
    let mut ts = 1_700_000_000_000_000i64;
    for step in steps {
        ts += 1000;
        match step {
            Step::Extra(_, b) => {
                dec = AppDecoder::new(context(b));
                std::hint::black_box((dec.protocol(), dec.context()));
            }
            Step::Data(s2c, b) | Step::Extra2(s2c, b) => {
                let msgs = if polling {
                    let path = dec.context().path.clone();
                    dec.http_body(dir(s2c), &path, b, ts)
                } else {
                    dec.message(dir(s2c), matches!(step, Step::Data(..)), b, ts)
                };
                check(msgs);
            }
            Step::End(_) => polling = !polling,
            Step::Gap(..) => {}
        }
    }
    std::hint::black_box((dec.protocol(), format!("{dec:?}")));
});
