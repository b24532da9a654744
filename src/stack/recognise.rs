//! The first layer of every stack: what do the connection's first bytes carry?
//!
//! HTTP is recognised by its start (a request method or `HTTP/`), waiting for at
//! most 7 bytes when the first ones are a strict prefix of one. TLS by its record
//! header. A connection whose SYN was captured is WebSocket only after an Upgrade:
//! frames are recognised without a handshake only on a connection caught
//! mid-stream, and only when whole plausible frames tile the bytes (a lone header
//! whose frame runs on proves little: random bytes often look like one). A
//! mid-stream connection gets a few chunks to show what it carries, since the
//! capture may begin inside a message.

use super::Carries;
use crate::http;
use crate::types::Direction;
use crate::ws::{self, Confidence};

/// Payload chunks a mid-stream connection is given to show what it carries.
pub const MAX_PROBES: u8 = 8;

/// The largest TLS record: 2^14 bytes of plaintext plus 2048 of expansion (RFC 8446 5.2).
pub const MAX_TLS_RECORD: usize = (1 << 14) + 2048;

/// What the bytes showed.
#[derive(Debug)]
pub enum Recognised {
    /// Too few bytes to tell (a strict prefix of an HTTP start): held.
    Hold,
    /// Nothing recognised in this chunk; the next chunk will be looked at. `held`:
    /// earlier held bytes, now to be taken as they are.
    Undecided {
        /// Bytes to feed before the chunk.
        held: Vec<(Direction, Vec<u8>)>,
    },
    /// The connection carries `what`.
    Decided {
        /// The new top layer.
        what: Carries,
        /// Whether the sender of the deciding bytes is the client, when they show it.
        sender_is_client: Option<bool>,
        /// Earlier held bytes, to be fed before the chunk.
        held: Vec<(Direction, Vec<u8>)>,
        /// For WebSocket recognised mid-stream: how sure.
        confidence: Option<Confidence>,
    },
}

/// The recognising layer's state.
#[derive(Debug)]
pub struct Recogniser {
    mid_stream: bool,
    probes: u8,
    /// The first payload bytes while they are too few to classify, with their direction.
    first: Option<(Direction, Vec<u8>)>,
}

impl Recogniser {
    /// `mid_stream`: the capture began after the SYN.
    pub fn new(mid_stream: bool) -> Recogniser {
        Recogniser {
            mid_stream,
            probes: 0,
            first: None,
        }
    }

    /// Heap bytes held (for the memory budget): the first bytes while too few to tell.
    pub fn heap_bytes(&self) -> usize {
        self.first
            .as_ref()
            .map_or(0, |(_, b)| crate::budget::vec_bytes(b))
    }

    /// The bytes held while too few to tell.
    pub fn take_held(&mut self) -> Option<(Direction, Vec<u8>)> {
        self.first.take()
    }

    /// Looks at the next chunk of `dir`'s stream. `force`: hold nothing.
    pub fn look(&mut self, dir: Direction, bytes: &[u8], force: bool) -> Recognised {
        let mut held = Vec::new();
        let joined;
        let bytes = match self.first.take() {
            Some((d, h)) if d == dir => {
                // Decided on the whole, fed as the earlier bytes then the chunk.
                joined = [&h[..], bytes].concat();
                held.push((d, h));
                &joined[..]
            }
            Some((d, h)) => {
                // The other side spoke: the held bytes are decided as they are.
                match self.decide(d, &h) {
                    Some((what, sender_is_client, confidence)) => {
                        return Recognised::Decided {
                            what,
                            sender_is_client: sender_is_client.map(|c| c == (d == dir)),
                            held: vec![(d, h)],
                            confidence,
                        };
                    }
                    None => held.push((d, h)),
                }
                bytes
            }
            None => bytes,
        };
        if !force && (could_become_http(bytes) || self.h2_server_first(dir, bytes)) {
            self.first = Some((dir, bytes.to_vec()));
            return Recognised::Hold;
        }
        match self.decide(dir, bytes) {
            Some((what, sender_is_client, confidence)) => Recognised::Decided {
                what,
                sender_is_client,
                held,
                confidence,
            },
            None => Recognised::Undecided { held },
        }
    }

    /// Decides what `bytes` are, or None to look at the next chunk.
    fn decide(
        &mut self,
        dir: Direction,
        bytes: &[u8],
    ) -> Option<(Carries, Option<bool>, Option<Confidence>)> {
        if bytes.is_empty() {
            return None;
        }
        if bytes.starts_with(super::h2::PREFACE) {
            return Some((Carries::Http2, Some(true), None));
        }
        if self.h2_server_first(dir, bytes) {
            // Kept for the client's next bytes to tell (held by `look`).
            return None;
        }
        if looks_like_request(bytes) {
            return Some((Carries::Http, Some(true), None));
        }
        if bytes.starts_with(b"HTTP/") {
            return Some((Carries::Http, Some(false), None));
        }
        if let Some(hello) = tls_record(bytes) {
            return Some((Carries::Tls, hello, None));
        }
        if !self.mid_stream {
            // The SYN was seen: a WebSocket would have begun with an Upgrade.
            return Some((Carries::Other, None, None));
        }
        if let Some(s) = ws::sniff(bytes) {
            if s.confidence >= Confidence::Medium {
                return Some((Carries::WebSocket, Some(s.masked), Some(s.confidence)));
            }
        }
        if self.probes < MAX_PROBES {
            self.probes += 1;
            return None;
        }
        Some((Carries::Other, None, None))
    }
}

impl Recogniser {
    /// With prior knowledge (h2c), the server may send its preface, a SETTINGS frame,
    /// before the client's: bytes from the server (the SYN was seen) that begin with
    /// a SETTINGS frame header are not decided alone, the client's bytes tell.
    fn h2_server_first(&self, dir: Direction, bytes: &[u8]) -> bool {
        !self.mid_stream && dir == Direction::S2C && h2_settings_frame(bytes)
    }
}

/// An HTTP/2 SETTINGS frame header, not an ACK, on stream 0, with a whole number of
/// settings (RFC 9113 6.5).
fn h2_settings_frame(bytes: &[u8]) -> bool {
    let [l0, l1, l2, 4, 0, s0, s1, s2, s3, ..] = *bytes else {
        return false;
    };
    let len = u32::from_be_bytes([0, l0, l1, l2]);
    len % 6 == 0 && len <= 16_384 && u32::from_be_bytes([s0 & 0x7f, s1, s2, s3]) == 0
}

/// A TLS record header (type 20..=24, version 3.0..=3.4, a length a record can
/// have). Returns whether it shows the sender's role: a ClientHello is the
/// client's, a ServerHello the server's.
pub fn tls_record(bytes: &[u8]) -> Option<Option<bool>> {
    let [ty, 3, minor, hi, lo, ..] = *bytes else {
        return None;
    };
    let len = usize::from(u16::from_be_bytes([hi, lo]));
    if !(20..=24).contains(&ty) || minor > 4 || len == 0 || len > MAX_TLS_RECORD {
        return None;
    }
    Some(match (ty, bytes.get(5)) {
        (22, Some(1)) => Some(true),
        (22, Some(2)) => Some(false),
        _ => None,
    })
}

/// An HTTP request line starts with a method token and a space.
fn looks_like_request(bytes: &[u8]) -> bool {
    http::REQUEST_STARTS.iter().any(|m| bytes.starts_with(m))
}

/// A first payload too short to tell: a strict prefix of a method token (with its
/// space) or of `HTTP/`, so the connection may still turn out to be HTTP.
fn could_become_http(bytes: &[u8]) -> bool {
    let prefix = |t: &[u8]| bytes.len() < t.len() && t.starts_with(bytes);
    !bytes.is_empty()
        && (http::REQUEST_STARTS.iter().any(|m| prefix(m))
            || prefix(b"HTTP/")
            || prefix(super::h2::PREFACE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn h2c_prior_knowledge_with_the_server_settings_first_is_http2() {
        // The `h2` crate's server sends SETTINGS (ENABLE_CONNECT_PROTOCOL=1) on accept.
        let settings = [0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 1];
        let mut r = Recogniser::new(false);
        assert!(matches!(
            r.look(Direction::S2C, &settings, false),
            Recognised::Hold
        ));
        match r.look(Direction::C2S, super::super::h2::PREFACE, false) {
            Recognised::Decided {
                what: Carries::Http2,
                held,
                ..
            } => assert_eq!(held, vec![(Direction::S2C, settings.to_vec())]),
            other => panic!("{other:?}"),
        }
        // From the client, or mid-stream, such bytes are decided as before.
        assert!(!Recogniser::new(false).h2_server_first(Direction::C2S, &settings));
        assert!(!Recogniser::new(true).h2_server_first(Direction::S2C, &settings));
    }

    #[test]
    fn tls_records_are_recognised_and_show_the_hello_sender() {
        assert_eq!(tls_record(&[22, 3, 1, 0, 200, 1]), Some(Some(true)));
        assert_eq!(tls_record(&[22, 3, 3, 0, 90, 2]), Some(Some(false)));
        assert_eq!(tls_record(&[23, 3, 3, 0x40, 0x11]), Some(None));
        assert_eq!(
            tls_record(&[23, 3, 3, 0x50, 0]),
            None,
            "too long for a record"
        );
        assert_eq!(tls_record(&[0x81, 3, 3, 0, 1]), None);
    }

    #[test]
    fn with_the_syn_seen_only_an_upgrade_makes_websocket() {
        let frame = [0x81, 0x02, b'h', b'i'];
        let mut r = Recogniser::new(false);
        assert!(matches!(
            r.look(Direction::S2C, &frame, false),
            Recognised::Decided {
                what: Carries::Other,
                ..
            }
        ));
        let mut r = Recogniser::new(true);
        assert!(matches!(
            r.look(Direction::S2C, &frame, false),
            Recognised::Decided {
                what: Carries::WebSocket,
                sender_is_client: Some(false),
                ..
            }
        ));
    }

    #[test]
    fn a_lone_header_whose_frame_runs_on_is_not_enough_mid_stream() {
        let mut r = Recogniser::new(true);
        // A text frame header announcing 100 bytes, 3 of them present.
        assert!(matches!(
            r.look(Direction::S2C, &[0x81, 100, 1, 2, 3], false),
            Recognised::Undecided { .. }
        ));
    }

    #[test]
    fn a_request_sent_one_byte_at_a_time_is_http() {
        let mut r = Recogniser::new(false);
        assert!(matches!(
            r.look(Direction::C2S, b"G", false),
            Recognised::Hold
        ));
        assert!(matches!(
            r.look(Direction::C2S, b"ET", false),
            Recognised::Hold
        ));
        assert!(matches!(
            r.look(Direction::C2S, b" / HTTP/1.1\r\n", false),
            Recognised::Decided {
                what: Carries::Http,
                sender_is_client: Some(true),
                ..
            }
        ));
    }
}
