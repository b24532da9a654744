//! The input format of the stream targets (`ws_frames`, `http1`, `tls`, `h2`, `app`),
//! shared with the seed generator (`seedgen/`, which includes this file by path).
//!
//! An input is [`HEADER_LEN`] header bytes (each target reads its options from them
//! with `arbitrary`), then steps until the input runs out. A step starts with a tag
//! byte: bit 0 is the direction (0 client to server, 1 server to client), bits 1-3
//! the kind:
//!
//! - 1: a gap: a little-endian `u32` of missing bytes, shifted left by 24 when bit 7
//!   of the tag is set (gaps far beyond any buffer);
//! - 2: the end of that direction (FIN);
//! - 3: target-specific bytes (a key log, HTTP2-Settings, an app context…): `u16` LE
//!   length, then the bytes;
//! - 5: target-specific bytes of a second sort, same layout;
//! - 0, 4, 6, 7: stream bytes: `u16` LE length, then the bytes.
//!
//! A length past the end of the input takes what is left. Most random tags are
//! stream bytes, so mutated inputs mostly feed data.
#![allow(dead_code)]

/// Header bytes before the first step.
pub const HEADER_LEN: usize = 8;

/// Client to server (false) or server to client (true).
pub type S2c = bool;

/// One step of a script.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step<'a> {
    /// Stream bytes.
    Data(S2c, &'a [u8]),
    /// Bytes missing from the stream.
    Gap(S2c, u64),
    /// The direction ended.
    End(S2c),
    /// Target-specific bytes (kind 3).
    Extra(S2c, &'a [u8]),
    /// Target-specific bytes (kind 5).
    Extra2(S2c, &'a [u8]),
}

/// The steps of `input` after its header.
pub struct Steps<'a> {
    rest: &'a [u8],
}

/// Splits `input` into its header (zero-padded to [`HEADER_LEN`]) and its steps.
pub fn parse(input: &[u8]) -> ([u8; HEADER_LEN], Steps<'_>) {
    let mut header = [0u8; HEADER_LEN];
    let n = input.len().min(HEADER_LEN);
    header[..n].copy_from_slice(&input[..n]);
    (header, Steps { rest: &input[n..] })
}

impl<'a> Steps<'a> {
    fn take(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.rest.len());
        let (a, b) = self.rest.split_at(n);
        self.rest = b;
        a
    }

    fn u16(&mut self) -> usize {
        let b = self.take(2);
        b.iter().rev().fold(0usize, |acc, &x| acc << 8 | x as usize)
    }
}

impl<'a> Iterator for Steps<'a> {
    type Item = Step<'a>;

    fn next(&mut self) -> Option<Step<'a>> {
        let (&tag, rest) = self.rest.split_first()?;
        self.rest = rest;
        let s2c = tag & 1 == 1;
        Some(match (tag >> 1) & 7 {
            1 => {
                let b = self.take(4);
                let n = b.iter().rev().fold(0u64, |acc, &x| acc << 8 | x as u64);
                Step::Gap(s2c, if tag & 0x80 != 0 { n << 24 } else { n })
            }
            2 => Step::End(s2c),
            3 => {
                let n = self.u16();
                Step::Extra(s2c, self.take(n))
            }
            5 => {
                let n = self.u16();
                Step::Extra2(s2c, self.take(n))
            }
            _ => {
                let n = self.u16();
                Step::Data(s2c, self.take(n))
            }
        })
    }
}

/// Appends `step` in the format above (long data is split into several steps).
pub fn encode(step: Step<'_>, out: &mut Vec<u8>) {
    let dir = |s2c: S2c| s2c as u8;
    let bytes = |kind: u8, s2c: S2c, b: &[u8], out: &mut Vec<u8>| {
        for chunk in b.chunks(0xffff) {
            out.push(kind << 1 | dir(s2c));
            out.extend_from_slice(&(chunk.len() as u16).to_le_bytes());
            out.extend_from_slice(chunk);
        }
    };
    match step {
        Step::Data(s2c, b) => bytes(0, s2c, b, out),
        Step::Extra(s2c, b) => bytes(3, s2c, b, out),
        Step::Extra2(s2c, b) => bytes(5, s2c, b, out),
        Step::End(s2c) => out.push(2 << 1 | dir(s2c)),
        Step::Gap(s2c, n) => {
            let (tag, n) = if n > u32::MAX as u64 {
                (
                    0x80 | 1 << 1 | dir(s2c),
                    (n >> 24).min(u32::MAX as u64) as u32,
                )
            } else {
                (1 << 1 | dir(s2c), n as u32)
            };
            out.push(tag);
            out.extend_from_slice(&n.to_le_bytes());
        }
    }
}
