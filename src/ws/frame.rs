//! RFC 6455 5.2 frame header coding and payload unmasking.
//!
//! The header is parsed from a `&[u8]` that may be too short ("need more" is a
//! normal answer); the payload is never read here: the session streams it.

use std::fmt;

/// Byte layout of the fixed part of a frame header (RFC 6455 5.2).
mod field {
    pub const FIN: u8 = 0x80;
    pub const RSV: u8 = 0x70;
    pub const OPCODE: u8 = 0x0f;
    pub const MASK: u8 = 0x80;
    pub const LEN7: u8 = 0x7f;
    /// 7-bit length value announcing a 16-bit extended length.
    pub const LEN_16: u8 = 126;
    /// 7-bit length value announcing a 64-bit extended length.
    pub const LEN_64: u8 = 127;
}

/// The largest payload a control frame may carry (RFC 6455 5.5).
pub const MAX_CONTROL_PAYLOAD: u64 = 125;
/// The longest possible header: 2 + 8 (64-bit length) + 4 (mask key).
pub const MAX_HEADER_LEN: usize = 14;

/// An opcode as an open enum: reserved values are data, not errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Opcode {
    /// 0x0.
    Continuation,
    /// 0x1.
    Text,
    /// 0x2.
    Binary,
    /// 0x8.
    Close,
    /// 0x9.
    Ping,
    /// 0xA.
    Pong,
    /// 0x3-0x7 (reserved data) and 0xB-0xF (reserved control).
    Reserved(u8),
}

impl From<u8> for Opcode {
    fn from(v: u8) -> Opcode {
        match v & 0x0f {
            0 => Opcode::Continuation,
            1 => Opcode::Text,
            2 => Opcode::Binary,
            8 => Opcode::Close,
            9 => Opcode::Ping,
            10 => Opcode::Pong,
            other => Opcode::Reserved(other),
        }
    }
}

impl Opcode {
    /// The 4-bit value.
    pub fn value(self) -> u8 {
        match self {
            Opcode::Continuation => 0,
            Opcode::Text => 1,
            Opcode::Binary => 2,
            Opcode::Close => 8,
            Opcode::Ping => 9,
            Opcode::Pong => 10,
            Opcode::Reserved(v) => v & 0x0f,
        }
    }

    /// Control opcodes have the high bit of the opcode set (RFC 6455 5.5),
    /// reserved ones included.
    pub fn is_control(self) -> bool {
        self.value() & 0x08 != 0
    }

    /// The NDJSON `opname`.
    pub fn name(self) -> &'static str {
        match self {
            Opcode::Continuation => "continuation",
            Opcode::Text => "text",
            Opcode::Binary => "binary",
            Opcode::Close => "close",
            Opcode::Ping => "ping",
            Opcode::Pong => "pong",
            Opcode::Reserved(_) => "reserved",
        }
    }
}

impl fmt::Display for Opcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Opcode::Reserved(v) => write!(f, "reserved(0x{v:x})"),
            other => f.write_str(other.name()),
        }
    }
}

/// A parsed frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// FIN bit.
    pub fin: bool,
    /// RSV1..3 as 0..7 (RSV1 = 4).
    pub rsv: u8,
    /// Opcode.
    pub opcode: Opcode,
    /// Mask key when the MASK bit is set.
    pub mask: Option<[u8; 4]>,
    /// Payload length.
    pub len: u64,
    /// Header length in bytes (2..=14).
    pub header_len: u8,
    /// The length used more bytes than needed (RFC 6455 5.2: "the minimal number of bytes MUST be used").
    pub non_minimal_length: bool,
    /// The 64-bit length had its most significant bit set (RFC 6455 5.2).
    pub length_top_bit: bool,
}

impl FrameHeader {
    /// Header plus payload length, saturating.
    pub fn wire_len(&self) -> u64 {
        self.len.saturating_add(u64::from(self.header_len))
    }

    /// RSV1, the permessage-deflate "compressed" bit (RFC 7692 6).
    pub fn rsv1(&self) -> bool {
        self.rsv & 4 != 0
    }
}

/// The outcome of [`parse_header`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderParse {
    /// Complete header.
    Done(FrameHeader),
    /// At least this many bytes in all are needed to know the header.
    NeedMore(usize),
}

/// The header length that the first two bytes announce (2..=14), or `None` with fewer than 2 bytes.
pub fn header_len_from_prefix(buf: &[u8]) -> Option<usize> {
    let b1 = *buf.get(1)?;
    let ext = match b1 & field::LEN7 {
        field::LEN_16 => 2,
        field::LEN_64 => 8,
        _ => 0,
    };
    let mask = if b1 & field::MASK != 0 { 4 } else { 0 };
    Some(2 + ext + mask)
}

/// Parses one frame header at the start of `buf`.
pub fn parse_header(buf: &[u8]) -> HeaderParse {
    let Some(need) = header_len_from_prefix(buf) else {
        return HeaderParse::NeedMore(2);
    };
    let Some(h) = buf.get(..need) else {
        return HeaderParse::NeedMore(need);
    };
    let (b0, b1) = (h[0], h[1]);
    let mut pos = 2;
    let mut non_minimal_length = false;
    let mut length_top_bit = false;
    let len = match b1 & field::LEN7 {
        field::LEN_16 => {
            let v = u64::from(u16::from_be_bytes([h[2], h[3]]));
            pos = 4;
            non_minimal_length = v < 126;
            v
        }
        field::LEN_64 => {
            let mut b = [0u8; 8];
            b.copy_from_slice(&h[2..10]);
            let v = u64::from_be_bytes(b);
            pos = 10;
            non_minimal_length = v <= 0xffff;
            length_top_bit = v >> 63 != 0;
            v
        }
        short => u64::from(short),
    };
    let mask = if b1 & field::MASK != 0 {
        Some([h[pos], h[pos + 1], h[pos + 2], h[pos + 3]])
    } else {
        None
    };
    HeaderParse::Done(FrameHeader {
        fin: b0 & field::FIN != 0,
        rsv: (b0 & field::RSV) >> 4,
        opcode: Opcode::from(b0 & field::OPCODE),
        mask,
        len,
        header_len: need as u8,
        non_minimal_length,
        length_top_bit,
    })
}

/// Encodes a header with the minimal length form (for tests and tools).
pub fn encode_header(fin: bool, rsv: u8, opcode: u8, mask: Option<[u8; 4]>, len: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(MAX_HEADER_LEN);
    out.push(if fin { field::FIN } else { 0 } | ((rsv & 7) << 4) | (opcode & field::OPCODE));
    let m = if mask.is_some() { field::MASK } else { 0 };
    if len < 126 {
        out.push(m | len as u8);
    } else if len <= 0xffff {
        out.push(m | field::LEN_16);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(m | field::LEN_64);
        out.extend_from_slice(&len.to_be_bytes());
    }
    if let Some(k) = mask {
        out.extend_from_slice(&k);
    }
    out
}

/// A whole frame, masked if `mask` is given (for tests and tools).
pub fn encode_frame(
    fin: bool,
    rsv: u8,
    opcode: u8,
    mask: Option<[u8; 4]>,
    payload: &[u8],
) -> Vec<u8> {
    let mut out = encode_header(fin, rsv, opcode, mask, payload.len() as u64);
    let start = out.len();
    out.extend_from_slice(payload);
    if let Some(k) = mask {
        unmask(&mut out[start..], k, 0);
    }
    out
}

/// XORs `data` with the mask key, `offset` being the position of `data[0]` in the payload.
/// Works eight bytes at a time: the key repeats every four bytes, so one rotated
/// 64-bit word covers any aligned run.
pub fn unmask(data: &mut [u8], key: [u8; 4], offset: u64) {
    let r = (offset % 4) as usize;
    let k = [key[r], key[(r + 1) % 4], key[(r + 2) % 4], key[(r + 3) % 4]];
    let word = u64::from_ne_bytes([k[0], k[1], k[2], k[3], k[0], k[1], k[2], k[3]]);
    let mut chunks = data.chunks_exact_mut(8);
    for c in &mut chunks {
        let mut b = [0u8; 8];
        b.copy_from_slice(c);
        c.copy_from_slice(&(u64::from_ne_bytes(b) ^ word).to_ne_bytes());
    }
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= k[i % 4];
    }
}

/// Writes `src` unmasked into `dst` (`offset` being the position of `src[0]` in the
/// payload), replacing its contents: one pass, where copying then [`unmask`]ing
/// takes two. `dst` keeps its allocation from call to call.
pub fn unmask_into(dst: &mut Vec<u8>, src: &[u8], key: [u8; 4], offset: u64) {
    let r = (offset % 4) as usize;
    let k = [key[r], key[(r + 1) % 4], key[(r + 2) % 4], key[(r + 3) % 4]];
    let word = u64::from_ne_bytes([k[0], k[1], k[2], k[3], k[0], k[1], k[2], k[3]]);
    // Only growth is zero-filled; the loop below then runs over plain slices.
    if dst.len() < src.len() {
        dst.resize(src.len(), 0);
    }
    dst.truncate(src.len());
    let mut out = dst.chunks_exact_mut(8);
    let mut inp = src.chunks_exact(8);
    for (d, s) in (&mut out).zip(&mut inp) {
        let mut b = [0u8; 8];
        b.copy_from_slice(s);
        d.copy_from_slice(&(u64::from_ne_bytes(b) ^ word).to_ne_bytes());
    }
    for ((d, s), k) in out
        .into_remainder()
        .iter_mut()
        .zip(inp.remainder())
        .zip(k.iter().cycle())
    {
        *d = s ^ k;
    }
}

/// Lower-case hex: [`crate::text::hex`].
pub use crate::text::hex;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_lower_case_two_digits_a_byte() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa0, 0xff]), "000fa0ff");
    }

    fn done(buf: &[u8]) -> FrameHeader {
        match parse_header(buf) {
            HeaderParse::Done(h) => h,
            other => panic!("expected a header, got {other:?}"),
        }
    }

    #[test]
    fn rfc6455_5_7_unmasked_hello() {
        let h = done(&[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
        assert!(h.fin);
        assert_eq!(h.opcode, Opcode::Text);
        assert_eq!((h.len, h.header_len, h.mask), (5, 2, None));
    }

    #[test]
    fn rfc6455_5_7_masked_hello() {
        let bytes = [
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ];
        let h = done(&bytes);
        assert_eq!(h.mask, Some([0x37, 0xfa, 0x21, 0x3d]));
        assert_eq!((h.len, h.header_len), (5, 6));
        let mut p = bytes[6..].to_vec();
        unmask(&mut p, [0x37, 0xfa, 0x21, 0x3d], 0);
        assert_eq!(p, b"Hello");
        assert_eq!(
            encode_frame(true, 0, 1, Some([0x37, 0xfa, 0x21, 0x3d]), b"Hello"),
            bytes
        );
    }

    #[test]
    fn rfc6455_5_7_lengths() {
        let h = done(&[0x82, 0x7e, 0x01, 0x00]);
        assert_eq!((h.len, h.header_len, h.non_minimal_length), (256, 4, false));
        let h = done(&[0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0]);
        assert_eq!(
            (h.len, h.header_len, h.non_minimal_length),
            (65536, 10, false)
        );
        assert_eq!(
            encode_header(true, 0, 2, None, 256),
            [0x82, 0x7e, 0x01, 0x00]
        );
        assert_eq!(
            encode_header(true, 0, 2, None, 65536),
            [0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0]
        );
    }

    #[test]
    fn need_more_and_flags() {
        assert_eq!(parse_header(&[]), HeaderParse::NeedMore(2));
        assert_eq!(parse_header(&[0x81]), HeaderParse::NeedMore(2));
        assert_eq!(parse_header(&[0x81, 0xfe, 0x00]), HeaderParse::NeedMore(8));
        assert_eq!(parse_header(&[0x81, 0x7f, 0, 0]), HeaderParse::NeedMore(10));
        assert!(done(&[0x81, 0x7e, 0x00, 0x05]).non_minimal_length);
        assert!(done(&[0x81, 0x7f, 0, 0, 0, 0, 0, 0, 0x01, 0x00]).non_minimal_length);
        let h = done(&[0x81, 0x7f, 0x80, 0, 0, 0, 0, 0, 0x01, 0x00]);
        assert!(h.length_top_bit && !h.non_minimal_length);
        let h = done(&[0x73, 0x00]);
        assert_eq!((h.fin, h.rsv, h.opcode), (false, 7, Opcode::Reserved(3)));
        assert!(Opcode::Reserved(0xb).is_control() && !Opcode::Reserved(3).is_control());
    }

    #[test]
    fn unmask_into_matches_unmask_at_any_offset_and_length() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        let data: Vec<u8> = (0..=255u8).cycle().take(300).collect();
        for offset in 0..8u64 {
            for len in [0usize, 1, 3, 7, 8, 9, 15, 16, 17, 63, 300] {
                let mut want = data[..len].to_vec();
                unmask(&mut want, key, offset);
                // Whatever the buffer held before, longer or shorter.
                for before in [0usize, 5, 400] {
                    let mut got = vec![0xee; before];
                    unmask_into(&mut got, &data[..len], key, offset);
                    assert_eq!(got, want, "offset {offset} len {len} before {before}");
                }
            }
        }
    }

    #[test]
    fn unmask_at_any_offset_matches_bytewise() {
        let key = [1, 2, 3, 4];
        let data: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let mut whole = data.clone();
        unmask(&mut whole, key, 0);
        for (i, b) in whole.iter().enumerate() {
            assert_eq!(*b, data[i] ^ key[i % 4]);
        }
        for split in [1usize, 3, 7, 8, 13, 500] {
            let mut parts = data.clone();
            let (a, b) = parts.split_at_mut(split);
            unmask(a, key, 0);
            unmask(b, key, split as u64);
            assert_eq!(parts, whole);
        }
    }
}
