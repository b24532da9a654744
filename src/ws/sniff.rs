//! Recognising a WebSocket frame stream without its handshake.
//!
//! A run of headers that each make sense (known opcode, RSV 0 or the RSV1 of
//! permessage-deflate, control frames short and final, minimal lengths) and
//! that tile the bytes exactly, all masked or all unmasked, is very unlikely
//! to be anything else.

use super::frame::{parse_header, FrameHeader, HeaderParse, Opcode, MAX_CONTROL_PAYLOAD};

/// How sure the recognition is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// One plausible header whose frame runs past the data, or a later header that did not fit.
    Low,
    /// One or two frames that tile the data exactly.
    Medium,
    /// Three or more consecutive plausible frames.
    High,
}

/// The verdict of [`sniff`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sniffed {
    /// The frames are masked: that direction is the client.
    pub masked: bool,
    /// Complete, plausible frames found.
    pub frames: u32,
    /// How sure.
    pub confidence: Confidence,
}

/// Frames longer than this are not believed when hunting for a header.
pub const PLAUSIBLE_MAX_LEN: u64 = 1 << 32;

/// Whether `h` is a header a conforming peer could send; `masked`, when known,
/// is what this direction's MASK bit must be.
pub fn plausible(h: &FrameHeader, masked: Option<bool>) -> bool {
    let op_ok = !matches!(h.opcode, Opcode::Reserved(_));
    let rsv_ok = h.rsv == 0 || (h.rsv == 4 && matches!(h.opcode, Opcode::Text | Opcode::Binary));
    let control_ok = !h.opcode.is_control() || (h.fin && h.len <= MAX_CONTROL_PAYLOAD);
    let mask_ok = masked.map_or(true, |m| m == h.mask.is_some());
    op_ok
        && rsv_ok
        && control_ok
        && mask_ok
        && !h.non_minimal_length
        && !h.length_top_bit
        && h.len <= PLAUSIBLE_MAX_LEN
}

/// Does `data` (the first bytes seen from one direction) look like a WebSocket frame stream?
pub fn sniff(data: &[u8]) -> Option<Sniffed> {
    let mut pos = 0usize;
    let mut frames = 0u32;
    let mut masked: Option<bool> = None;
    let mut clean_end = false;
    let mut inconsistent = false;
    while let Some(rest) = data.get(pos..) {
        if rest.is_empty() {
            clean_end = true;
            break;
        }
        let h = match parse_header(rest) {
            HeaderParse::Done(h) => h,
            HeaderParse::NeedMore(_) => break,
        };
        if !plausible(&h, masked) {
            if frames == 0 {
                return None;
            }
            inconsistent = true;
            break;
        }
        masked.get_or_insert(h.mask.is_some());
        let end = (pos as u64).saturating_add(h.wire_len());
        if end > data.len() as u64 {
            break;
        }
        frames += 1;
        pos = end as usize;
        if frames >= 64 {
            break;
        }
    }
    let masked = masked?;
    let confidence = if inconsistent || frames == 0 {
        Confidence::Low
    } else if frames >= 3 {
        Confidence::High
    } else if clean_end {
        Confidence::Medium
    } else {
        Confidence::Low
    };
    Some(Sniffed {
        masked,
        frames,
        confidence,
    })
}

#[cfg(test)]
mod tests {
    use super::super::frame::encode_frame;
    use super::*;

    #[test]
    fn sniff_table() {
        let k = Some([1, 2, 3, 4]);
        let three: Vec<u8> = [
            encode_frame(true, 0, 1, k, b"a"),
            encode_frame(true, 0, 9, k, b""),
            encode_frame(true, 0, 2, k, b"xyz"),
        ]
        .concat();
        type Case<'a> = (&'a str, Vec<u8>, Option<(bool, u32, Confidence)>);
        let table: &[Case] = &[
            ("http request", b"GET / HTTP/1.1\r\n".to_vec(), None),
            ("http response", b"HTTP/1.1 101 Switching".to_vec(), None),
            ("tls", vec![0x16, 0x03, 0x01, 0x02, 0x00], None),
            (
                "three masked",
                three.clone(),
                Some((true, 3, Confidence::High)),
            ),
            (
                "one unmasked",
                encode_frame(true, 0, 1, None, b"Hello"),
                Some((false, 1, Confidence::Medium)),
            ),
            (
                "partial",
                encode_frame(true, 0, 2, None, &[0; 300])[..100].to_vec(),
                Some((false, 0, Confidence::Low)),
            ),
            (
                "mask flips",
                [
                    encode_frame(true, 0, 1, None, b"a"),
                    encode_frame(true, 0, 1, k, b"b"),
                ]
                .concat(),
                Some((false, 1, Confidence::Low)),
            ),
            ("reserved opcode", vec![0x83, 0x00], None),
            ("long ping", encode_frame(true, 0, 9, None, &[0; 126]), None),
        ];
        for (name, data, want) in table {
            let got = sniff(data).map(|s| (s.masked, s.frames, s.confidence));
            assert_eq!(got, *want, "{name}");
        }
    }
}
