//! `app`: the decoders of the protocols riding on WebSocket (`app::AppDecoder`),
//! each fed a session of whole messages as its peers write them: Socket.IO
//! (Engine.IO v4), MQTT 3.1.1, GraphQL over `graphql-transport-ws`, STOMP 1.2,
//! JSON-RPC 2.0, and plain JSON (no subprotocol). Throughput: message payload bytes.

use std::hint::black_box;

use criterion::{Criterion, Throughput};
use wsscope::app::{AppContext, AppDecoder};
use wsscope::types::Direction::{self, C2S, S2C};

use crate::gen::{self, Rng};

/// Application messages per session (besides the opening ones).
const N: usize = 2000;

/// A session: the decoder's context and the messages (direction, text, payload).
struct Session {
    ctx: AppContext,
    messages: Vec<(Direction, bool, Vec<u8>)>,
}

impl Session {
    fn new(subprotocol: Option<&str>, path: &str) -> Session {
        Session {
            ctx: AppContext {
                subprotocol: subprotocol.map(str::to_string),
                path: path.to_string(),
            },
            messages: Vec::new(),
        }
    }

    fn text(&mut self, dir: Direction, s: impl Into<String>) {
        self.messages.push((dir, true, s.into().into_bytes()));
    }

    fn binary(&mut self, dir: Direction, b: Vec<u8>) {
        self.messages.push((dir, false, b));
    }

    fn bytes(&self) -> u64 {
        self.messages.iter().map(|(_, _, b)| b.len() as u64).sum()
    }
}

fn socketio(rng: &mut Rng) -> Session {
    let mut s = Session::new(None, "/socket.io/?EIO=4&transport=websocket");
    s.text(
        S2C,
        r#"0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#,
    );
    s.text(C2S, "40");
    s.text(S2C, r#"40{"sid":"wZX3oN0bSVIhsaknAAAI"}"#);
    for i in 0..N {
        let n = rng.range(10, 170);
        let dir = if i % 3 == 0 { C2S } else { S2C };
        let msg = gen::chat_json(rng, i, n);
        match i % 100 {
            // The heartbeat: the server pings, the client answers.
            99 => {
                s.text(S2C, "2");
                s.text(C2S, "3");
            }
            // An event with an acknowledgement, and its answer.
            7 => {
                s.text(C2S, format!(r#"42{i}["send",{msg}]"#));
                s.text(S2C, format!(r#"43{i}[{{"ok":true}}]"#));
            }
            _ => s.text(dir, format!(r#"42["chat",{msg}]"#)),
        }
    }
    s
}

/// An MQTT control packet: fixed header (type and flags, remaining length) + body.
fn mqtt_packet(first: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![first];
    let mut n = body.len();
    loop {
        let b = (n % 128) as u8;
        n /= 128;
        v.push(if n > 0 { b | 0x80 } else { b });
        if n == 0 {
            break;
        }
    }
    v.extend_from_slice(body);
    v
}

/// An MQTT UTF-8 string: a 2-byte length, then the bytes.
fn mqtt_str(s: &str) -> Vec<u8> {
    [&(s.len() as u16).to_be_bytes()[..], s.as_bytes()].concat()
}

fn mqtt(rng: &mut Rng) -> Session {
    let mut s = Session::new(Some("mqtt"), "/mqtt");
    // CONNECT: MQTT 3.1.1, clean session, keep-alive 60 s.
    let connect = [
        mqtt_str("MQTT"),
        vec![4, 0x02, 0, 60],
        mqtt_str("bench-client-1"),
    ]
    .concat();
    s.binary(C2S, mqtt_packet(0x10, &connect));
    s.binary(S2C, mqtt_packet(0x20, &[0, 0]));
    let sub = [vec![0, 1], mqtt_str("sensors/+/temperature"), vec![1]].concat();
    s.binary(C2S, mqtt_packet(0x82, &sub));
    s.binary(S2C, mqtt_packet(0x90, &[0, 1, 1]));
    for i in 0..N {
        let topic = format!("sensors/room{}/temperature", rng.range(1, 40));
        let payload = format!(
            r#"{{"celsius":{}.{},"seq":{i},"ts":{}}}"#,
            rng.range(15, 30),
            rng.range(0, 10),
            1_700_000_000 + i
        );
        if i % 10 == 0 {
            // QoS 1 from the client, with its packet id and the PUBACK.
            let id = (i % 60_000 + 2) as u16;
            let body = [
                mqtt_str(&topic),
                id.to_be_bytes().to_vec(),
                payload.into_bytes(),
            ]
            .concat();
            s.binary(C2S, mqtt_packet(0x32, &body));
            s.binary(S2C, mqtt_packet(0x40, &id.to_be_bytes()));
        } else {
            let body = [mqtt_str(&topic), payload.into_bytes()].concat();
            s.binary(S2C, mqtt_packet(0x30, &body));
        }
        if i % 200 == 199 {
            s.binary(C2S, mqtt_packet(0xc0, &[]));
            s.binary(S2C, mqtt_packet(0xd0, &[]));
        }
    }
    s.binary(C2S, mqtt_packet(0xe0, &[]));
    s
}

fn graphql(rng: &mut Rng) -> Session {
    let mut s = Session::new(Some("graphql-transport-ws"), "/graphql");
    s.text(
        C2S,
        r#"{"type":"connection_init","payload":{"token":"abc"}}"#,
    );
    s.text(S2C, r#"{"type":"connection_ack"}"#);
    s.text(
        C2S,
        r#"{"id":"q1","type":"subscribe","payload":{"query":"subscription Quotes($s: [String!]) { quotes(symbols: $s) { symbol bid ask volume } }","variables":{"s":["SYM1","SYM2"]},"operationName":"Quotes"}}"#,
    );
    for i in 0..N {
        if i % 100 == 99 {
            s.text(C2S, r#"{"type":"ping"}"#);
            s.text(S2C, r#"{"type":"pong"}"#);
            continue;
        }
        let n = rng.range(60, 300);
        let q = gen::quotes_json(rng, n);
        s.text(
            S2C,
            format!(r#"{{"id":"q1","type":"next","payload":{{"data":{q}}}}}"#),
        );
    }
    s.text(C2S, r#"{"id":"q1","type":"complete"}"#);
    s
}

/// A STOMP frame: command, headers, blank line, body, NUL.
fn stomp(command: &str, headers: &[(&str, String)], body: &str) -> String {
    let mut f = format!("{command}\n");
    for (k, v) in headers {
        f.push_str(&format!("{k}:{v}\n"));
    }
    f.push('\n');
    f.push_str(body);
    f.push('\0');
    f
}

fn stomp_session(rng: &mut Rng) -> Session {
    let mut s = Session::new(Some("v12.stomp"), "/stomp");
    s.text(
        C2S,
        stomp(
            "CONNECT",
            &[
                ("accept-version", "1.2".into()),
                ("host", "broker.example.test".into()),
                ("heart-beat", "10000,10000".into()),
            ],
            "",
        ),
    );
    s.text(
        S2C,
        stomp(
            "CONNECTED",
            &[
                ("version", "1.2".into()),
                ("heart-beat", "10000,10000".into()),
            ],
            "",
        ),
    );
    s.text(
        C2S,
        stomp(
            "SUBSCRIBE",
            &[
                ("id", "sub-0".into()),
                ("destination", "/topic/chat".into()),
                ("ack", "auto".into()),
            ],
            "",
        ),
    );
    for i in 0..N {
        let n = rng.range(10, 170);
        let body = gen::chat_json(rng, i, n);
        let len = body.len().to_string();
        if i % 100 == 99 {
            // Heart-beats: an end-of-line alone.
            s.text(C2S, "\n");
            s.text(S2C, "\n");
        } else if i % 3 == 0 {
            s.text(
                C2S,
                stomp(
                    "SEND",
                    &[
                        ("destination", "/topic/chat".into()),
                        ("content-type", "application/json".into()),
                        ("content-length", len),
                    ],
                    &body,
                ),
            );
        } else {
            s.text(
                S2C,
                stomp(
                    "MESSAGE",
                    &[
                        ("subscription", "sub-0".into()),
                        ("message-id", format!("m-{i}")),
                        ("destination", "/topic/chat".into()),
                        ("content-type", "application/json".into()),
                        ("content-length", len),
                    ],
                    &body,
                ),
            );
        }
    }
    s.text(C2S, stomp("DISCONNECT", &[("receipt", "77".into())], ""));
    s.text(S2C, stomp("RECEIPT", &[("receipt-id", "77".into())], ""));
    s
}

fn jsonrpc(rng: &mut Rng) -> Session {
    let mut s = Session::new(Some("jsonrpc"), "/rpc");
    for i in 0..N {
        if i % 10 == 9 {
            let n = rng.range(10, 170);
            let msg = gen::chat_json(rng, i, n);
            s.text(
                S2C,
                format!(r#"{{"jsonrpc":"2.0","method":"chat.message","params":{msg}}}"#),
            );
            continue;
        }
        let acct = rng.range(1, 1_000_000);
        s.text(
            C2S,
            format!(
                r#"{{"jsonrpc":"2.0","id":{i},"method":"account.getBalance","params":{{"account":"acct-{acct}","currency":"EUR"}}}}"#
            ),
        );
        if i % 50 == 1 {
            s.text(
                S2C,
                format!(
                    r#"{{"jsonrpc":"2.0","id":{i},"error":{{"code":-32602,"message":"unknown account acct-{acct}"}}}}"#
                ),
            );
        } else {
            s.text(
                S2C,
                format!(
                    r#"{{"jsonrpc":"2.0","id":{i},"result":{{"balance":"{}.{:02}","currency":"EUR"}}}}"#,
                    rng.range(0, 100_000),
                    rng.range(0, 100)
                ),
            );
        }
    }
    s
}

fn json(rng: &mut Rng) -> Session {
    let mut s = Session::new(None, "/chat");
    for i in 0..N {
        let n = rng.range(10, 170);
        let dir = if i % 3 == 0 { C2S } else { S2C };
        s.text(dir, gen::chat_json(rng, i, n));
    }
    s
}

/// A session through a new decoder; returns (packets, violations).
fn run(s: &Session) -> (usize, usize) {
    let mut d = AppDecoder::new(s.ctx.clone());
    let (mut packets, mut bad) = (0, 0);
    for (i, (dir, text, payload)) in s.messages.iter().enumerate() {
        for m in d.message(*dir, *text, payload, 1_700_000_000_000_000 + i as i64) {
            packets += 1;
            bad += m.violations.len();
            black_box(m);
        }
    }
    (packets, bad)
}

pub fn bench(c: &mut Criterion) {
    let mut rng = Rng::new(0xa99);
    let sessions = [
        ("socketio", socketio(&mut rng)),
        ("mqtt", mqtt(&mut rng)),
        ("graphql", graphql(&mut rng)),
        ("stomp", stomp_session(&mut rng)),
        ("jsonrpc", jsonrpc(&mut rng)),
        ("json", json(&mut rng)),
    ];
    let mut g = crate::group(c, "app");
    for (name, s) in &sessions {
        // Every message decoded, none found wrong: the bench measures the decoders
        // on well-formed traffic.
        let (packets, bad) = run(s);
        assert!(
            packets >= s.messages.len() && bad == 0,
            "{name}: {packets} packets, {bad} violations"
        );
        g.throughput(Throughput::Bytes(s.bytes()));
        g.bench_function(*name, |b| b.iter(|| run(black_box(s))));
    }
    g.finish();
}
