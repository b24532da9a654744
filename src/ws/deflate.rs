//! permessage-deflate (RFC 7692): negotiated parameters and a streaming inflater.
//!
//! The inflater never holds a message: output is handed to a sink in chunks of
//! at most [`OUT_CHUNK`] bytes, and the sink may stop it (size and ratio bounds).

use flate2::{Decompress, FlushDecompress, Status};

/// The permessage-deflate parameters the server accepted (RFC 7692 7.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeflateParams {
    /// The server resets its compression context for every message.
    pub server_no_context_takeover: bool,
    /// The client resets its compression context for every message.
    pub client_no_context_takeover: bool,
    /// The server's LZ77 window, 8..=15 bits.
    pub server_max_window_bits: Option<u8>,
    /// The client's LZ77 window, 8..=15 bits.
    pub client_max_window_bits: Option<u8>,
}

/// Output is produced in pieces of this size.
pub const OUT_CHUNK: usize = 16 * 1024;

/// zlib's inflate state apart from its window (zlib-rs: about 7 KiB), rounded up.
const ZLIB_STATE: usize = 8 * 1024;

/// The tail a sender removes from every message and the receiver restores (RFC 7692 7.2.2).
pub const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// Why inflation stopped early.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InflateStop {
    /// The data is not valid DEFLATE (the backend's reason is not kept: which one
    /// it gives depends on how the input was cut).
    Corrupt,
    /// The sink refused more output (a bound was reached).
    Refused,
}

/// A raw-DEFLATE inflater whose window survives across messages (context takeover).
pub struct Inflater {
    d: Decompress,
    out: Vec<u8>,
    /// The window's size in bytes.
    window: usize,
    /// The sender ended its DEFLATE stream with a BFINAL block (RFC 7692 7.2.3.4):
    /// bytes after it are not part of the stream and the next message starts afresh.
    ended: bool,
}

impl std::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inflater")
            .field("total_in", &self.d.total_in())
            .field("ended", &self.ended)
            .finish()
    }
}

impl Default for Inflater {
    fn default() -> Self {
        Self::new()
    }
}

impl Inflater {
    /// A fresh inflater with a 32 KiB window.
    pub fn new() -> Self {
        Self::with_window_bits(15)
    }

    /// A fresh inflater whose window is the sender's `max_window_bits`,  (zlib keeps no more
    /// history than that). A reference to before the start of the stream is an
    /// error. 8 (allowed by RFC 7692) is read as 9, the least zlib accepts.
    pub fn with_window_bits(bits: u8) -> Self {
        let bits = bits.clamp(9, 15);
        Inflater {
            d: Decompress::new_with_window_bits(false, bits),
            out: vec![0; OUT_CHUNK],
            window: 1 << bits,
            ended: false,
        }
    }

    /// Heap bytes it holds (for the memory budget): the output buffer, zlib's state
    /// and the window (counted whole, as it is once a message has filled it).
    #[inline]
    pub fn heap_bytes(&self) -> usize {
        crate::budget::vec_bytes(&self.out) + ZLIB_STATE + self.window
    }

    /// Forgets the window (no context takeover, or after an error).
    pub fn reset(&mut self) {
        self.d.reset(false);
        self.ended = false;
    }

    /// True when the last stream ended with BFINAL, so the next message needs a reset.
    pub fn ended(&self) -> bool {
        self.ended
    }

    /// Inflates the next compressed bytes of a message, giving the output to `sink`
    /// (which returns false to stop).
    pub fn push(
        &mut self,
        mut input: &[u8],
        sink: &mut dyn FnMut(&[u8]) -> bool,
    ) -> Result<(), InflateStop> {
        loop {
            if self.ended {
                return Ok(());
            }
            let (in0, out0) = (self.d.total_in(), self.d.total_out());
            let result = self
                .d
                .decompress(input, &mut self.out, FlushDecompress::None);
            let used = (self.d.total_in() - in0) as usize;
            let made = (self.d.total_out() - out0) as usize;
            input = input.get(used..).unwrap_or_default();
            // What inflated before an error is output too: however the input was cut,
            // the same bytes come out before the error is said.
            if made > 0 && !sink(&self.out[..made]) {
                return Err(InflateStop::Refused);
            }
            // zlib-rs's reason is not said: which one it gives depends on the cuts. Its
            // fast loop (taken while at least 15 input bytes are at hand) records the
            // reason, then its state machine meets the failed state in the same call and
            // overwrites it with "repeated call with bad state"; its slow loop keeps it.
            let status = result.map_err(|_| InflateStop::Corrupt)?;
            if status == Status::StreamEnd {
                self.ended = true;
                return Ok(());
            }
            if made < self.out.len() && (input.is_empty() || (used == 0 && made == 0)) {
                return Ok(());
            }
        }
    }

    /// The message is complete: restores the `00 00 ff ff` tail and flushes.
    pub fn finish(&mut self, sink: &mut dyn FnMut(&[u8]) -> bool) -> Result<(), InflateStop> {
        self.push(&TAIL, sink)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inflate_msgs(inf: &mut Inflater, msgs: &[&[u8]]) -> Vec<Result<Vec<u8>, InflateStop>> {
        msgs.iter()
            .map(|m| {
                if inf.ended() {
                    inf.reset();
                }
                let mut out = Vec::new();
                let mut sink = |b: &[u8]| {
                    out.extend_from_slice(b);
                    true
                };
                inf.push(m, &mut sink)?;
                inf.finish(&mut sink)?;
                Ok(out)
            })
            .collect()
    }

    /// Found by the `ws_frames` fuzz target (chunking oracle): the output of the call
    /// that met corrupt data was dropped, so how much came out before the error (and was
    /// counted, previewed, UTF-8 checked) depended on how the input was cut.
    #[test]
    fn output_before_corrupt_data_does_not_depend_on_the_cuts() {
        use flate2::{Compress, Compression, FlushCompress};
        let text = b"hello world, ".repeat(100);
        let mut c = Compress::new(Compression::default(), false);
        let mut z = Vec::with_capacity(4096);
        c.compress_vec(&text, &mut z, FlushCompress::Sync).unwrap();
        z.push(0x07); // BFINAL with the reserved block type 11: corrupt
        let run = |piece: usize| {
            let mut inf = Inflater::new();
            let mut out = Vec::new();
            let mut err = None;
            for p in z.chunks(piece) {
                if let Err(e) = inf.push(p, &mut |b| {
                    out.extend_from_slice(b);
                    true
                }) {
                    err = Some(e);
                    break;
                }
            }
            (out, err)
        };
        let (whole, err) = run(z.len());
        assert!(matches!(err, Some(InflateStop::Corrupt)), "{err:?}");
        assert_eq!(whole, text);
        for piece in [1, 2, 7, 100] {
            assert_eq!(run(piece).0, whole, "pieces of {piece}");
        }
    }

    /// Found by the `ws_frames` fuzz target (chunking oracle): zlib-rs names an
    /// invalid distance code as such in its slow loop but "repeated call with bad
    /// state" in its fast loop (enough input at hand), so the violation's text
    /// depended on how the input was cut.
    #[test]
    fn what_corrupt_data_is_said_to_be_does_not_depend_on_the_cuts() {
        // A fixed-Huffman block: a literal, then length 3 with distance code 30
        // (invalid), then padding so that the fast loop can take the whole block.
        let mut bits: Vec<bool> = vec![false, true, false]; // BFINAL 0, BTYPE 01
        let mut code = |v: u32, n: u32| bits.extend((0..n).rev().map(|i| v >> i & 1 == 1));
        code(0x30 + u32::from(b'a'), 8); // literal 'a'
        code(1, 7); // length code 257: length 3
        code(30, 5); // distance code 30
        let mut z: Vec<u8> = bits
            .chunks(8)
            .map(|c| c.iter().enumerate().map(|(i, &b)| u8::from(b) << i).sum())
            .collect();
        z.extend([0; 32]);
        let run = |piece: usize| {
            let mut inf = Inflater::new();
            z.chunks(piece)
                .find_map(|p| inf.push(p, &mut |_| true).err())
                .expect("corrupt")
        };
        let whole = run(z.len());
        assert_eq!(whole, InflateStop::Corrupt);
        for piece in [1, 2, 3, 5] {
            assert_eq!(run(piece), whole, "pieces of {piece}");
        }
    }

    #[test]
    fn rfc7692_7_2_3_examples() {
        type Case<'a> = (&'a str, &'a [&'a [u8]], &'a [&'a [u8]]);
        let table: &[Case] = &[
            (
                "7.2.3.1 one block",
                &[&[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]],
                &[b"Hello"],
            ),
            (
                "7.2.3.2 shared window",
                &[
                    &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00],
                    &[0xf2, 0x00, 0x11, 0x00, 0x00],
                ],
                &[b"Hello", b"Hello"],
            ),
            (
                "7.2.3.3 no compression",
                &[&[
                    0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
                ]],
                &[b"Hello"],
            ),
            (
                "7.2.3.4 bfinal",
                &[&[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00]],
                &[b"Hello"],
            ),
            (
                "7.2.3.5 two blocks",
                &[&[
                    0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00,
                ]],
                &[b"Hello"],
            ),
        ];
        for (name, input, want) in table {
            let got = inflate_msgs(&mut Inflater::new(), input);
            let want: Vec<Result<Vec<u8>, InflateStop>> =
                want.iter().map(|w| Ok(w.to_vec())).collect();
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn reset_loses_the_window() {
        let mut inf = Inflater::new();
        let r = inflate_msgs(&mut inf, &[&[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]]);
        assert_eq!(r[0].as_deref(), Ok(&b"Hello"[..]));
        inf.reset();
        let r = inflate_msgs(&mut inf, &[&[0xf2, 0x00, 0x11, 0x00, 0x00]]);
        assert!(matches!(r[0], Err(InflateStop::Corrupt)), "{r:?}");
    }

    #[test]
    fn small_window_inflates_what_fits() {
        let mut out = Vec::new();
        let r = Inflater::with_window_bits(8).push(
            &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00],
            &mut |b| {
                out.extend_from_slice(b);
                true
            },
        );
        assert_eq!((r, out.as_slice()), (Ok(()), &b"Hello"[..]));
    }

    #[test]
    fn garbage_is_corrupt_and_sink_can_refuse() {
        let r = inflate_msgs(&mut Inflater::new(), &[&[0xff, 0xff, 0xff, 0xff]]);
        assert!(matches!(r[0], Err(InflateStop::Corrupt)));
        // 1 MiB of zeros compresses to about 1 KiB.
        let mut c = flate2::Compress::new(flate2::Compression::best(), false);
        let mut comp = vec![0u8; 64 * 1024];
        c.compress(&vec![0u8; 1 << 20], &mut comp, flate2::FlushCompress::Sync)
            .unwrap();
        comp.truncate(c.total_out() as usize);
        let mut got = 0usize;
        let r = Inflater::new().push(&comp, &mut |b| {
            got += b.len();
            got < 100_000
        });
        assert_eq!(r, Err(InflateStop::Refused));
        assert!(got < 100_000 + OUT_CHUNK);
    }
}
