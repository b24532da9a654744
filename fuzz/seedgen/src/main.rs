//! Writes seeds for the stream fuzz targets from captures: each TCP connection is
//! reassembled by the library itself (wire + tcp), then written in the step format
//! of `../src/script.rs` (included by path, as is the pcap reader).
//!
//! Usage: wsscope-seedgen CORPUS_DIR CAPTURE...   (writes CORPUS_DIR/TARGET/NAME)

#[path = "../../src/pcapread.rs"]
mod pcapread;
#[path = "../../src/script.rs"]
mod script;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use script::{encode, Step, HEADER_LEN};
use wsscope::tcp::{FlowTable, SegmentInfo, TcpConfig, TcpEvent};
use wsscope::types::Direction;
use wsscope::wire::{Decoded, Decoder, WireLimits};

/// One direction's stream as steps (data, gaps, end).
#[derive(Clone)]
enum S {
    Data(bool, Vec<u8>),
    Gap(bool, u64),
    End(bool),
}

/// Largest seed written: bigger inputs slow the fuzzer down.
const MAX_SEED: usize = 64 * 1024;

fn connections(file: &[u8]) -> BTreeMap<u64, Vec<S>> {
    let mut wire = Decoder::new(WireLimits::default());
    let mut flows = FlowTable::new(TcpConfig::default());
    let mut conns: BTreeMap<u64, Vec<S>> = BTreeMap::new();
    let mut pkt = 0;
    let mut on = |ev: TcpEvent<'_>| match ev {
        TcpEvent::Data { conn, dir, bytes } => conns
            .entry(conn)
            .or_default()
            .push(S::Data(dir == Direction::S2C, bytes.to_vec())),
        TcpEvent::Gap { conn, dir, bytes } => conns
            .entry(conn)
            .or_default()
            .push(S::Gap(dir == Direction::S2C, bytes)),
        TcpEvent::Teardown {
            conn, dir, step, ..
        } if step != Some(wsscope::tcp::TeardownStep::Ack) => conns
            .entry(conn)
            .or_default()
            .push(S::End(dir == Direction::S2C)),
        _ => {}
    };
    pcapread::for_each_packet(file, |lt, ts, data| {
        pkt += 1;
        if let Decoded::Tcp(seg) = wire.decode(lt, data, ts) {
            let info = SegmentInfo {
                src: seg.src,
                dst: seg.dst,
                seq: seg.seq,
                ack: seg.ack,
                syn: seg.flags.syn(),
                ack_flag: seg.flags.ack(),
                fin: seg.flags.fin(),
                rst: seg.flags.rst(),
                payload: seg.payload,
                wire_payload_len: seg.wire_payload_len,
            };
            flows.segment(pkt, ts, &info, &mut on);
        }
    });
    flows.finish(&mut on);
    conns
}

fn script(header: [u8; HEADER_LEN], pre: &[Step<'_>], steps: &[S]) -> Vec<u8> {
    let mut out = header.to_vec();
    for &s in pre {
        encode(s, &mut out);
    }
    for s in steps {
        if out.len() > MAX_SEED {
            break;
        }
        encode(
            match s {
                S::Data(d, b) => Step::Data(*d, b),
                S::Gap(d, n) => Step::Gap(*d, *n),
                S::End(d) => Step::End(*d),
            },
            &mut out,
        );
    }
    out
}

/// The whole stream of one direction (gaps left out).
fn stream(steps: &[S], s2c: bool) -> Vec<u8> {
    let mut v = Vec::new();
    for s in steps {
        if let S::Data(d, b) = s {
            if *d == s2c {
                v.extend_from_slice(b);
            }
        }
    }
    v
}

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}

/// The steps after the first `skip[dir]` bytes of each direction.
fn after(steps: &[S], mut skip: [usize; 2]) -> Vec<S> {
    let mut out = Vec::new();
    for s in steps {
        match s {
            S::Data(d, b) => {
                let k = &mut skip[*d as usize];
                let n = (*k).min(b.len());
                *k -= n;
                if n < b.len() {
                    out.push(S::Data(*d, b[n..].to_vec()));
                }
            }
            other => {
                if skip.iter().all(|&k| k == 0) {
                    out.push(other.clone());
                }
            }
        }
    }
    out
}

fn header_value(head: &[u8], name: &str) -> Option<String> {
    let text = String::from_utf8_lossy(head);
    text.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_string())
    })
}

/// Whole unmasked messages of a frame stream (compressed ones left out).
fn messages(mut b: &[u8]) -> Vec<(bool, Vec<u8>)> {
    let mut out = Vec::new();
    let mut cur: Option<(bool, bool, Vec<u8>)> = None; // text, compressed, payload
    while b.len() >= 2 {
        let (fin, rsv1, op) = (b[0] & 0x80 != 0, b[0] & 0x40 != 0, b[0] & 0x0f);
        let masked = b[1] & 0x80 != 0;
        let (len, mut p) = match b[1] & 0x7f {
            126 if b.len() >= 4 => (u16::from_be_bytes([b[2], b[3]]) as usize, 4),
            127 if b.len() >= 10 => (
                u64::from_be_bytes(b[2..10].try_into().unwrap()).min(1 << 30) as usize,
                10,
            ),
            126 | 127 => break,
            n => (n as usize, 2),
        };
        let key = if masked {
            let Some(k) = b.get(p..p + 4) else { break };
            p += 4;
            Some([k[0], k[1], k[2], k[3]])
        } else {
            None
        };
        let Some(payload) = b.get(p..p + len) else {
            break;
        };
        let mut payload = payload.to_vec();
        if let Some(k) = key {
            payload
                .iter_mut()
                .enumerate()
                .for_each(|(i, x)| *x ^= k[i % 4]);
        }
        b = &b[p + len..];
        match op {
            1 | 2 => cur = Some((op == 1, rsv1, payload)),
            0 => {
                if let Some(c) = cur.as_mut() {
                    c.2.extend_from_slice(&payload)
                }
            }
            _ => continue,
        }
        if fin {
            if let Some((text, compressed, p)) = cur.take() {
                if !compressed {
                    out.push((text, p));
                }
            }
        }
    }
    out
}

/// HTTP bodies framed by Content-Length, in order.
fn bodies(mut s: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while let Some(end) = find(s, b"\r\n\r\n") {
        let head = &s[..end];
        let len: usize = header_value(head, "content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let body = &s[end + 4..];
        let len = len.min(body.len());
        if len > 0 {
            out.push(body[..len].to_vec());
        }
        s = &body[len..];
    }
    out
}

struct Out {
    dir: PathBuf,
    n: usize,
}

impl Out {
    fn write(&mut self, target: &str, name: &str, data: &[u8]) {
        let p = self.dir.join(target).join(name);
        std::fs::write(&p, data).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        self.n += 1;
    }
}

/// A minimal RFC 8441 exchange by hand (HPACK literals without indexing): the
/// captures hold HTTP/2 only inside TLS.
fn h2_seed() -> Vec<u8> {
    fn frame(ty: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let mut f = (payload.len() as u32).to_be_bytes()[1..].to_vec();
        f.extend_from_slice(&[ty, flags]);
        f.extend_from_slice(&stream.to_be_bytes());
        f.extend_from_slice(payload);
        f
    }
    fn block(fields: &[(&str, &str)]) -> Vec<u8> {
        let mut b = Vec::new();
        for (n, v) in fields {
            b.push(0);
            b.push(n.len() as u8);
            b.extend_from_slice(n.as_bytes());
            b.push(v.len() as u8);
            b.extend_from_slice(v.as_bytes());
        }
        b
    }
    let mut c = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    c.extend(frame(4, 0, 0, &[]));
    c.extend(frame(4, 1, 0, &[]));
    c.extend(frame(
        1,
        4,
        1,
        &block(&[
            (":method", "CONNECT"),
            (":protocol", "websocket"),
            (":scheme", "https"),
            (":path", "/chat"),
            (":authority", "example.com"),
            ("sec-websocket-version", "13"),
        ]),
    ));
    c.extend(frame(
        0,
        0,
        1,
        &[
            0x81,
            0x85,
            1,
            2,
            3,
            4,
            b'h' ^ 1,
            b'e' ^ 2,
            b'l' ^ 3,
            b'l' ^ 4,
            b'o' ^ 1,
        ],
    ));
    c.extend(frame(3, 0, 1, &[0, 0, 0, 0]));
    let mut s = frame(4, 0, 0, &[0, 8, 0, 0, 0, 1]);
    s.extend(frame(4, 1, 0, &[]));
    s.extend(frame(1, 4, 1, &block(&[(":status", "200")])));
    s.extend(frame(0, 1, 1, &[0x81, 0x02, b'h', b'i']));
    s.extend(frame(7, 0, 0, &[0, 0, 0, 1, 0, 0, 0, 0]));
    let mut out = [0u8; HEADER_LEN].to_vec();
    encode(Step::Data(false, &c[..30]), &mut out);
    encode(Step::Data(true, &s), &mut out);
    encode(Step::Data(false, &c[30..]), &mut out);
    encode(Step::End(false), &mut out);
    encode(Step::End(true), &mut out);
    out
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((dir, files)) = args.split_first() else {
        eprintln!("usage: wsscope-seedgen CORPUS_DIR CAPTURE...");
        std::process::exit(2);
    };
    let mut out = Out {
        dir: PathBuf::from(dir),
        n: 0,
    };
    out.write("h2", "rfc8441-by-hand", &h2_seed());
    for f in files {
        let path = Path::new(f);
        let Ok(file) = std::fs::read(path) else {
            continue;
        };
        let base = path.file_name().unwrap().to_string_lossy().to_string();
        let keylog = std::fs::read(path.with_extension("keylog")).ok();
        for (conn, steps) in connections(&file) {
            let name = format!("{base}.{conn}");
            let c2s = stream(&steps, false);
            let s2c = stream(&steps, true);
            let zero = [0u8; HEADER_LEN];
            if c2s.first() == Some(&0x16) || s2c.first() == Some(&0x16) {
                // TLS: the key log first, known up front (header byte 0 bit 0).
                let mut h = zero;
                h[0] = 1;
                let pre: Vec<Step<'_>> = keylog
                    .as_deref()
                    .map(|k| vec![Step::Extra(false, k)])
                    .unwrap_or_default();
                out.write("tls", &name, &script(h, &pre, &steps));
                continue;
            }
            if !c2s.first().is_some_and(|b| b.is_ascii_uppercase()) {
                // Mid-stream or other: the frames decoder, mid-stream (Mode variant 3).
                let mut h = zero;
                h[3] = 0xc0;
                out.write("ws_frames", &format!("{name}.mid"), &script(h, &[], &steps));
                continue;
            }
            out.write("http1", &name, &script(zero, &[], &steps));
            let (Some(qe), Some(re)) = (find(&c2s, b"\r\n\r\n"), find(&s2c, b"\r\n\r\n")) else {
                continue;
            };
            let target = c2s[..qe]
                .split(|&b| b == b' ')
                .nth(1)
                .map(|t| String::from_utf8_lossy(t).into_owned())
                .unwrap_or_default();
            if !s2c.starts_with(b"HTTP/1.1 101") {
                // Long-polling: the bodies, to the app decoder in polling mode.
                if target.contains("EIO=") {
                    let mut seed = zero.to_vec();
                    seed[0] = 1; // polling
                    encode(
                        Step::Extra(false, format!("\n{target}").as_bytes()),
                        &mut seed,
                    );
                    for (s2c, s) in [(false, &c2s), (true, &s2c)] {
                        for b in bodies(s) {
                            encode(Step::Data(s2c, &b), &mut seed);
                        }
                    }
                    out.write("app", &name, &seed);
                }
                continue;
            }
            let ws = after(&steps, [qe + 4, re + 4]);
            let resp = &s2c[..re];
            let deflate = header_value(resp, "sec-websocket-extensions")
                .is_some_and(|v| v.contains("permessage-deflate"));
            let mut h = zero;
            if deflate {
                h[3] = 0x80; // Mode::DeflateDefault
            }
            out.write("ws_frames", &name, &script(h, &[], &ws));
            let mut mid = zero;
            mid[3] = 0xc0;
            out.write("ws_frames", &format!("{name}.mid"), &script(mid, &[], &ws));
            // App: the context, then the messages of each direction.
            let sub = header_value(resp, "sec-websocket-protocol");
            let ctx = match &sub {
                Some(s) => format!("{s}\n{target}"),
                None => target.clone(),
            };
            let mut seed = zero.to_vec();
            encode(Step::Extra(false, ctx.as_bytes()), &mut seed);
            let mut any = false;
            for (s2c, bytes) in [(false, stream(&ws, false)), (true, stream(&ws, true))] {
                for (text, m) in messages(&bytes) {
                    any = true;
                    if seed.len() < MAX_SEED {
                        encode(
                            if text {
                                Step::Data(s2c, &m)
                            } else {
                                Step::Extra2(s2c, &m)
                            },
                            &mut seed,
                        );
                    }
                }
            }
            if any {
                out.write("app", &name, &seed);
            }
        }
    }
    eprintln!("seedgen: {} seeds written", out.n);
}
