//! `ws`: the WebSocket frame decoder and session (`ws::WsSession::feed`): frames,
//! unmasking, UTF-8 checks, message assembly, pings, the close, and
//! permessage-deflate inflation. Sessions are written here with the library's own
//! frame encoder (`ws::frame::encode_frame`); compressed messages are deflated by
//! `flate2` as a peer does (raw DEFLATE with context takeover, sync flush, the
//! 4-byte tail removed). Throughput: WebSocket bytes on the wire.
//!
//! - `small_frames`: a chat, JSON messages of 30..200 bytes both ways (the client's
//!   masked), a ping/pong every 50 messages, one frame per TCP segment.
//! - `large_masked`: the client sends 256 KiB messages, JSON text and binary in
//!   turn, masked, fed in 1448-byte segments.
//! - `small_frames_deflate`, `large_deflate`: the same with permessage-deflate
//!   (the large ones all JSON, as compression is negotiated for compressible data).

use std::hint::black_box;

use criterion::{Criterion, Throughput};
use flate2::{Compress, Compression, FlushCompress};
use wsscope::types::{Direction, Timestamp};
use wsscope::ws::frame::encode_frame;
use wsscope::ws::{DeflateParams, WsConfig, WsEvent, WsSession};

use crate::gen::{self, Rng};

/// Ethernet TCP payload per segment (1500 - 20 - 20 - 12 of timestamps).
const MSS: usize = 1448;

/// One direction's compressor, keeping its context across messages.
struct Deflater(Compress);

impl Deflater {
    fn new() -> Deflater {
        Deflater(Compress::new(Compression::default(), false))
    }

    /// One message as permessage-deflate sends it (RFC 7692 7.2.1).
    fn message(&mut self, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len() / 2 + 64);
        let mut input = data;
        loop {
            if out.capacity() - out.len() < 64 {
                out.reserve(out.capacity().max(1024));
            }
            let before = self.0.total_in();
            self.0
                .compress_vec(input, &mut out, FlushCompress::Sync)
                .expect("deflate");
            input = &input[(self.0.total_in() - before) as usize..];
            if input.is_empty() && out.ends_with(&[0, 0, 0xff, 0xff]) {
                break;
            }
        }
        out.truncate(out.len() - 4);
        out
    }
}

/// A recorded session: what each direction's stream carried, in segments.
struct Session {
    deflate: bool,
    segments: Vec<(Direction, Vec<u8>)>,
    messages: usize,
    message_bytes: u64,
}

impl Session {
    fn new(deflate: bool) -> Session {
        Session {
            deflate,
            segments: Vec::new(),
            messages: 0,
            message_bytes: 0,
        }
    }

    fn wire_bytes(&self) -> u64 {
        self.segments.iter().map(|(_, b)| b.len() as u64).sum()
    }

    /// A frame, cut into segments of at most `mss` bytes.
    fn frame(&mut self, dir: Direction, frame: Vec<u8>, mss: usize) {
        for s in frame.chunks(mss) {
            self.segments.push((dir, s.to_vec()));
        }
    }

    /// A data message in one frame: masked from the client, compressed when
    /// `deflater` is given.
    fn message(
        &mut self,
        rng: &mut Rng,
        dir: Direction,
        text: bool,
        payload: &[u8],
        deflater: Option<&mut Deflater>,
        mss: usize,
    ) {
        let mask = (dir == Direction::C2S).then(|| rng.mask());
        let opcode = if text { 1 } else { 2 };
        let frame = match deflater {
            Some(d) => encode_frame(true, 4, opcode, mask, &d.message(payload)),
            None => encode_frame(true, 0, opcode, mask, payload),
        };
        self.frame(dir, frame, mss);
        self.messages += 1;
        self.message_bytes += payload.len() as u64;
    }

    /// The closing handshake: client first, code 1000.
    fn close(&mut self, rng: &mut Rng) {
        let body = [&1000u16.to_be_bytes()[..], b"bye"].concat();
        let m = rng.mask();
        self.frame(
            Direction::C2S,
            encode_frame(true, 0, 8, Some(m), &body),
            MSS,
        );
        self.frame(Direction::S2C, encode_frame(true, 0, 8, None, &body), MSS);
    }
}

fn chat(deflate: bool) -> Session {
    let mut rng = Rng::new(6455);
    let mut s = Session::new(deflate);
    let mut dc = deflate.then(Deflater::new);
    let mut ds = deflate.then(Deflater::new);
    for i in 0..4000 {
        let dir = if i % 3 == 0 {
            Direction::C2S
        } else {
            Direction::S2C
        };
        let text_len = rng.range(10, 170);
        let msg = gen::chat_json(&mut rng, i, text_len);
        let d = match dir {
            Direction::C2S => dc.as_mut(),
            Direction::S2C => ds.as_mut(),
        };
        s.message(&mut rng, dir, true, msg.as_bytes(), d, MSS);
        if i % 50 == 49 {
            let data = (i as u64).to_be_bytes();
            s.frame(Direction::S2C, encode_frame(true, 0, 9, None, &data), MSS);
            let m = rng.mask();
            s.frame(
                Direction::C2S,
                encode_frame(true, 0, 10, Some(m), &data),
                MSS,
            );
        }
    }
    s.close(&mut rng);
    s
}

fn large(deflate: bool) -> Session {
    let mut rng = Rng::new(7692);
    let mut s = Session::new(deflate);
    let mut d = deflate.then(Deflater::new);
    for i in 0..32 {
        let (text, payload) = if deflate || i % 2 == 0 {
            (true, gen::quotes_json(&mut rng, 256 << 10).into_bytes())
        } else {
            (false, rng.bytes(256 << 10))
        };
        s.message(&mut rng, Direction::C2S, text, &payload, d.as_mut(), MSS);
        // The server's short acknowledgement.
        let ack = format!(r#"{{"ack":{i}}}"#);
        s.message(&mut rng, Direction::S2C, true, ack.as_bytes(), None, MSS);
    }
    s.close(&mut rng);
    s
}

/// Feeds a session; returns (messages, inflated bytes, violations).
fn run(s: &Session) -> (usize, u64, usize) {
    let params = s.deflate.then(DeflateParams::default);
    let mut ws = WsSession::new(&WsConfig::default(), params);
    let (mut msgs, mut bytes, mut bad) = (0, 0, 0);
    let mut out = |_d: Option<Direction>, e: WsEvent| {
        match &e {
            WsEvent::Message(m) => {
                msgs += 1;
                bytes += m.len;
            }
            WsEvent::Violation(_) => bad += 1,
            _ => {}
        }
        black_box(e);
    };
    let t = Timestamp(1_700_000_000_000_000);
    for (dir, seg) in &s.segments {
        ws.feed(*dir, seg, t, &mut out);
    }
    ws.end(t, &mut out);
    (msgs, bytes, bad)
}

pub fn bench(c: &mut Criterion) {
    let sessions = [
        ("small_frames", chat(false)),
        ("large_masked", large(false)),
        ("small_frames_deflate", chat(true)),
        ("large_deflate", large(true)),
    ];
    let mut g = crate::group(c, "ws");
    for (name, s) in &sessions {
        // Every message decoded whole, nothing flagged: the bench measures the
        // ordinary path.
        assert_eq!(run(s), (s.messages, s.message_bytes, 0), "{name}");
        g.throughput(Throughput::Bytes(s.wire_bytes()));
        g.bench_function(*name, |b| b.iter(|| run(black_box(s))));
    }
    g.finish();
}
