//! The TLS layer: one connection's two reassembled TCP byte streams in,
//! typed TLS events and decrypted application data out.
//!
//! Sans-IO like the rest of the library: it is fed bytes ([`TlsLayer::feed`]),
//! holes ([`TlsLayer::gap`]) and ends ([`TlsLayer::end`]) of each direction,
//! and calls back with [`TlsEvent`]s. It never reads a file, a clock or a
//! terminal; the key log is handed in ([`KeyLog`]), as text or from a pcapng
//! Decryption Secrets Block, and may grow while the capture runs
//! ([`TlsLayer::keys_updated`]).
//!
//! ```text
//! TCP stream (one direction) ──▶ records (5-byte header, reassembled across
//!   segments; many per segment; length > 2^14 + 2048 is a violation)
//!     ├─ plaintext handshake ──▶ ClientHello / ServerHello / Certificate (1.2) …
//!     ├─ ChangeCipherSpec ──▶ TLS 1.2: this direction is encrypted from now on
//!     └─ encrypted ──▶ Decryptor (keys from the key log by client random)
//!            ├─ handshake ──▶ EncryptedExtensions, Certificate (1.3), Finished,
//!            │                NewSessionTicket, KeyUpdate
//!            ├─ alert ──▶ Alert / CloseNotify
//!            └─ application_data ──▶ Plaintext (what HTTP/1.1, HTTP/2 and
//!                                    WebSocket decode above)
//! ```
//!
//! **Keys.** TLS 1.3 uses the four traffic secrets of the key log
//! (`CLIENT_/SERVER_HANDSHAKE_TRAFFIC_SECRET`, `CLIENT_/SERVER_TRAFFIC_SECRET_0`)
//! with the RFC 8446 7.3 key schedule, and follows KeyUpdate; TLS 1.2 derives
//! the key block from the master secret (`CLIENT_RANDOM`) and both randoms.
//! Supported: TLS 1.3 AES-128/256-GCM and ChaCha20-Poly1305; TLS 1.2 AES-GCM,
//! ChaCha20-Poly1305 and AES-CBC with HMAC-SHA1/256/384, with or without
//! encrypt-then-MAC. Anything else: `Decrypt { ok: false, reason:
//! "unsupported_cipher" }`, and the records are still reported by size.
//!
//! **Keys that come later.** In a live capture the key log line is often
//! written after the first encrypted records pass. Records that need a missing
//! key are held, up to [`TlsConfig::max_held_bytes`] ([`MAX_HELD_BYTES`], 1 MiB)
//! per direction; [`TlsLayer::keys_updated`] retries them. Past the bound, or at
//! [`TlsLayer::end`], the direction gives up with `Decrypt { ok: false, reason:
//! "no_key" }` ("no_handshake" when the ClientHello or ServerHello was never
//! seen). For a finished key log (reading a file), [`TlsConfig::wait_for_keys`]
//! `= false` gives up at once.
//!
//! **Decrypt outcome.** Per direction, at most one `Decrypt { ok: true }` (the
//! first record that decrypts) and at most one `Decrypt { ok: false, .. }`,
//! after which that direction is no longer decrypted (its records are still
//! reported as [`TlsEvent::Record`]). Reasons: [`reason`].
//!
//! **Gaps.** A hole inside a record whose header was seen loses exactly that
//! record: decoding resumes at the next header and the sequence number stays
//! known. A hole elsewhere makes the layer hunt for the next plausible record
//! header (a `tls_gap_resync` note says how much it skipped), and the next
//! encrypted record is tried at the next [`MAX_SEQ_SEARCH`] sequence numbers.
//! Above this layer, a [`TlsEvent::Gap`] is a hole in the plaintext stream; its
//! size is that of the lost ciphertext.

pub mod crypto;
mod handshake;
pub mod keylog;
pub mod rules;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::sync::Arc;

pub use keylog::{BadLine, BadLineReason, DsbError, KeyLog, SessionSecrets, DSB_TLS_KEY_LOG};
pub use rules::Rule;

use crate::types::Direction;
use crypto::{suite_params, Decryptor, OpenError};
use handshake::Parsed;

/// Largest record length field accepted: 2^14 + 2048 (RFC 5246 6.2.3).
pub const MAX_RECORD_LEN: usize = (1 << 14) + 2048;
/// Default bound of the records held per direction while keys are missing.
pub const MAX_HELD_BYTES: usize = 1 << 20;
/// Largest handshake message reassembled (certificate chains are the big ones).
pub const MAX_HANDSHAKE_MESSAGE: usize = 1 << 18;
/// After a gap of unknown size, how many sequence numbers the next encrypted
/// record is tried at.
pub const MAX_SEQ_SEARCH: u64 = 64;

/// The `reason` strings of [`TlsEvent::Decrypt`].
pub mod reason {
    /// The key log has no secret for this session (after waiting, if configured).
    pub const NO_KEY: &str = "no_key";
    /// A record's tag, MAC or padding did not verify.
    pub const BAD_TAG: &str = "bad_tag";
    /// The negotiated cipher suite is one this layer does not decrypt.
    pub const UNSUPPORTED_CIPHER: &str = "unsupported_cipher";
    /// The negotiated protocol version is older than TLS 1.2.
    pub const UNSUPPORTED_VERSION: &str = "unsupported_version";
    /// The ClientHello or ServerHello was not seen (capture began mid-connection).
    pub const NO_HANDSHAKE: &str = "no_handshake";
    /// After a gap, no sequence number in reach decrypted the next record.
    pub const GAP: &str = "gap";
}

/// Bounds and behaviour of the layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TlsConfig {
    /// Bytes of records held per direction while their keys are missing.
    pub max_held_bytes: usize,
    /// Hold records while keys are missing (live capture, the key log grows);
    /// `false`: give up at once with `no_key`.
    pub wait_for_keys: bool,
}

impl Default for TlsConfig {
    fn default() -> Self {
        TlsConfig {
            max_held_bytes: MAX_HELD_BYTES,
            wait_for_keys: true,
        }
    }
}

/// What a ClientHello offers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientHello {
    /// `legacy_version` (0x0303 for TLS 1.2 and 1.3).
    pub legacy_version: u16,
    /// The 32-byte random: the key log's index.
    pub client_random: [u8; 32],
    /// `legacy_session_id` (TLS 1.2 resumption; a 1.3 compatibility id).
    pub session_id: Vec<u8>,
    /// server_name (first host name), lossily UTF-8.
    pub sni: Option<String>,
    /// ALPN protocols offered, lossily UTF-8.
    pub alpn: Vec<String>,
    /// supported_versions (TLS 1.3), GREASE values included.
    pub supported_versions: Vec<u16>,
    /// Cipher suite ids, in the client's order.
    pub cipher_suites: Vec<u16>,
    /// supported_groups.
    pub supported_groups: Vec<u16>,
    /// Groups of the key_share entries (TLS 1.3).
    pub key_share_groups: Vec<u16>,
    /// pre_shared_key offered (TLS 1.3 resumption).
    pub psk_offered: bool,
    /// A non-empty SessionTicket offered (TLS 1.2 resumption).
    pub session_ticket_offered: bool,
    /// early_data offered (0-RTT).
    pub early_data: bool,
    /// encrypt_then_mac offered.
    pub encrypt_then_mac: bool,
    /// extended_master_secret offered.
    pub extended_master_secret: bool,
}

/// What a ServerHello (or HelloRetryRequest) chose.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerHello {
    /// `legacy_version` as sent.
    pub legacy_version: u16,
    /// The negotiated version: supported_versions if present, else legacy_version.
    pub version: u16,
    /// The 32-byte random.
    pub server_random: [u8; 32],
    /// `legacy_session_id_echo` / the TLS 1.2 session id.
    pub session_id: Vec<u8>,
    /// Cipher suite id.
    pub cipher_suite: u16,
    /// Its IANA name, when known.
    pub cipher_name: Option<&'static str>,
    /// ALPN chosen in the ServerHello (TLS 1.2; TLS 1.3 says it in EncryptedExtensions).
    pub alpn: Option<String>,
    /// key_share group (TLS 1.3; in a HelloRetryRequest the group asked for).
    pub key_share_group: Option<u16>,
    /// pre_shared_key accepted (TLS 1.3 resumption).
    pub psk_accepted: bool,
    /// A session resumed: TLS 1.3 with its pre_shared_key accepted, or TLS 1.2
    /// with the client's non-empty session id echoed (RFC 5246 7.4.1.3; a session
    /// ticket accepted echoes it too, RFC 5077 3.4). Set by the layer, which saw
    /// the ClientHello.
    pub resumed: bool,
    /// encrypt_then_mac agreed (TLS 1.2 CBC suites).
    pub encrypt_then_mac: bool,
    /// extended_master_secret agreed.
    pub extended_master_secret: bool,
}

/// A name for a protocol version number.
pub fn version_name(v: u16) -> &'static str {
    match v {
        0x0304 => "TLS 1.3",
        0x0303 => "TLS 1.2",
        0x0302 => "TLS 1.1",
        0x0301 => "TLS 1.0",
        0x0300 => "SSL 3.0",
        v if v & 0x0f0f == 0x0a0a => "GREASE",
        _ => "unknown",
    }
}

/// The RFC name of an alert description (RFC 8446 6, RFC 5246 7.2).
pub fn alert_name(code: u8) -> &'static str {
    match code {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        21 => "decryption_failed",
        22 => "record_overflow",
        30 => "decompression_failure",
        40 => "handshake_failure",
        41 => "no_certificate",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        60 => "export_restriction",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        100 => "no_renegotiation",
        109 => "missing_extension",
        110 => "unsupported_extension",
        111 => "certificate_unobtainable",
        112 => "unrecognized_name",
        113 => "bad_certificate_status_response",
        114 => "bad_certificate_hash_value",
        115 => "unknown_psk_identity",
        116 => "certificate_required",
        120 => "no_application_protocol",
        _ => "unknown",
    }
}

/// What the layer saw, in stream order per direction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TlsEvent<'a> {
    /// One record's header: content type as on the wire (23 for every TLS 1.3
    /// encrypted record) and the length of its payload (without the 5-byte header).
    Record {
        /// Sender.
        dir: Direction,
        /// Outer content type (20 ChangeCipherSpec, 21 alert, 22 handshake, 23 application data).
        content_type: u8,
        /// Payload length.
        len: u16,
    },
    /// The client's offer.
    ClientHello(Box<ClientHello>),
    /// The server's choice.
    ServerHello(Box<ServerHello>),
    /// A TLS 1.3 HelloRetryRequest (a ServerHello with the special random).
    HelloRetryRequest(Box<ServerHello>),
    /// TLS 1.3 EncryptedExtensions (after decryption).
    EncryptedExtensions {
        /// The ALPN protocol chosen.
        alpn: Option<String>,
    },
    /// A Certificate message: names of the first (end-entity) certificate.
    /// TLS 1.2: in clear; TLS 1.3: after decryption.
    Certificate {
        /// Sender (the server, or a client sending its certificate).
        dir: Direction,
        /// Subject of the first certificate (RFC 4514), if it parses.
        subject: Option<String>,
        /// Its issuer.
        issuer: Option<String>,
        /// Certificates in the chain.
        chain_len: usize,
    },
    /// A Finished message.
    Finished {
        /// Sender.
        dir: Direction,
    },
    /// Both Finished messages seen.
    HandshakeDone {
        /// Negotiated version.
        version: u16,
        /// Negotiated cipher suite.
        cipher_suite: u16,
    },
    /// A NewSessionTicket.
    NewSessionTicket {
        /// ticket_lifetime in seconds.
        lifetime_s: u32,
    },
    /// A TLS 1.3 KeyUpdate (the sender's keys change after it).
    KeyUpdate {
        /// Sender.
        dir: Direction,
        /// The peer is asked to update too.
        update_requested: bool,
    },
    /// A ChangeCipherSpec record (TLS 1.3: the compatibility one, skipped).
    ChangeCipherSpec {
        /// Sender.
        dir: Direction,
    },
    /// An alert (close_notify included; it is also reported as [`TlsEvent::CloseNotify`]).
    Alert {
        /// Sender.
        dir: Direction,
        /// 1 warning, 2 fatal.
        level: u8,
        /// Description code.
        description: u8,
        /// Its RFC name ([`alert_name`]).
        name: &'static str,
    },
    /// A close_notify alert: the sender will send no more.
    CloseNotify {
        /// Sender.
        dir: Direction,
    },
    /// The decryption outcome of one direction (see the module docs).
    Decrypt {
        /// Which direction.
        dir: Direction,
        /// Decryption works.
        ok: bool,
        /// Why not ([`reason`]).
        reason: Option<&'static str>,
    },
    /// Decrypted application data: the stream the protocol above reads.
    Plaintext {
        /// Sender.
        dir: Direction,
        /// The bytes of one record.
        bytes: &'a [u8],
    },
    /// Ciphertext lost from the stream (the plaintext above has a hole).
    Gap {
        /// Which stream.
        dir: Direction,
        /// Bytes lost.
        bytes: u64,
    },
    /// A broken rule, or a note (`tls_gap_resync`, `tls_early_data_skipped`).
    Violation {
        /// Where it was seen.
        dir: Direction,
        /// Code and RFC section.
        rule: Rule,
        /// One sentence with the facts.
        message: String,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Epoch {
    /// TLS 1.2 (one epoch after ChangeCipherSpec).
    Tls12,
    /// TLS 1.3 handshake traffic keys.
    Handshake13,
    /// TLS 1.3 application traffic keys (generation 0).
    App13,
}

#[derive(Debug)]
enum Enc {
    /// Records are in clear.
    Clear,
    /// Encrypted from here on, decryptor not yet available.
    Waiting(Epoch),
    /// Decrypting.
    Active(Box<Decryptor>),
    /// Gave up (reported).
    Stopped,
}

#[derive(Debug)]
struct Held {
    /// Arrival order among both directions' held records.
    order: u64,
    ctype: u8,
    version: [u8; 2],
    payload: Vec<u8>,
}

#[derive(Debug, Default)]
struct Reader {
    /// Bytes of an incomplete record (header first).
    buf: Vec<u8>,
    /// Bytes of a record damaged by a gap still to discard.
    skip: u64,
    /// Looking for a plausible record header after a gap.
    hunting: bool,
    /// Bytes discarded while hunting.
    hunted: u64,
    /// The contiguous bytes end here (a gap or the end follows): a candidate header
    /// whose next header cannot come is taken as it is.
    flush: bool,
}

#[derive(Debug)]
struct Side {
    rd: Reader,
    enc: Enc,
    held: VecDeque<Held>,
    held_bytes: usize,
    /// Handshake bytes awaiting a whole message.
    hs: Vec<u8>,
    /// Bytes of an oversized handshake message still to discard.
    hs_discard: usize,
    ok_reported: bool,
    failed: bool,
    finished: bool,
    close_notify: bool,
    after_close_reported: bool,
    /// Records lost to gaps, counted exactly (sequence number still known).
    lost_records: u64,
    /// Records lost to gaps, count unknown (search sequence numbers).
    seq_unknown: bool,
    /// The keys in use (or awaited) since the last change.
    epoch: Option<Epoch>,
    /// A record decrypted under them.
    epoch_ok: bool,
}

impl Side {
    fn new() -> Side {
        Side {
            rd: Reader::default(),
            enc: Enc::Clear,
            held: VecDeque::new(),
            held_bytes: 0,
            hs: Vec::new(),
            hs_discard: 0,
            ok_reported: false,
            failed: false,
            finished: false,
            close_notify: false,
            after_close_reported: false,
            lost_records: 0,
            seq_unknown: false,
            epoch: None,
            epoch_ok: false,
        }
    }
}

enum Missing {
    Keys,
    Handshake,
    Unsupported(&'static str),
}

/// One TLS connection (both directions).
#[derive(Debug)]
pub struct TlsLayer {
    keys: Arc<KeyLog>,
    cfg: TlsConfig,
    sides: [Side; 2],
    client_random: Option<[u8; 32]>,
    server_random: Option<[u8; 32]>,
    /// Negotiated version (from the ServerHello).
    version: Option<u16>,
    suite: Option<u16>,
    etm: bool,
    early_data_offered: bool,
    /// Records held so far (both directions): their arrival order.
    held_count: u64,
    /// The ClientHello's session id (a TLS 1.2 server echoes it to resume).
    client_session_id: Vec<u8>,
    done: bool,
    scratch: Vec<u8>,
}

fn idx(d: Direction) -> usize {
    d.index()
}

impl TlsLayer {
    /// Heap bytes this layer holds (for the memory budget): record and handshake
    /// buffers, records held for their keys, the decryption state.
    pub fn heap_bytes(&self) -> usize {
        use crate::budget::{deque_bytes, vec_bytes, ALLOC_OVERHEAD};
        let side = |s: &Side| {
            vec_bytes(&s.rd.buf)
                + deque_bytes(&s.held)
                + s.held_bytes
                + s.held.len() * ALLOC_OVERHEAD
                + vec_bytes(&s.hs)
                + match s.enc {
                    Enc::Active(_) => std::mem::size_of::<Decryptor>() + ALLOC_OVERHEAD,
                    _ => 0,
                }
        };
        side(&self.sides[0])
            + side(&self.sides[1])
            + vec_bytes(&self.client_session_id)
            + vec_bytes(&self.scratch)
    }

    /// A layer for one connection, with the default [`TlsConfig`].
    pub fn new(keys: Arc<KeyLog>) -> TlsLayer {
        TlsLayer::with_config(keys, TlsConfig::default())
    }

    /// A layer with explicit bounds.
    pub fn with_config(keys: Arc<KeyLog>, cfg: TlsConfig) -> TlsLayer {
        TlsLayer {
            keys,
            cfg,
            sides: [Side::new(), Side::new()],
            client_random: None,
            server_random: None,
            version: None,
            suite: None,
            etm: false,
            early_data_offered: false,
            held_count: 0,
            client_session_id: Vec::new(),
            done: false,
            scratch: Vec::new(),
        }
    }

    /// The client random, once the ClientHello was seen.
    pub fn client_random(&self) -> Option<&[u8; 32]> {
        self.client_random.as_ref()
    }

    /// The negotiated version, once the ServerHello was seen.
    pub fn version(&self) -> Option<u16> {
        self.version
    }

    /// The negotiated cipher suite, once the ServerHello was seen.
    pub fn cipher_suite(&self) -> Option<u16> {
        self.suite
    }

    /// Some direction holds records waiting for keys (worth a
    /// [`TlsLayer::keys_updated`] when the key log grows).
    pub fn waiting_for_keys(&self) -> bool {
        self.sides.iter().any(|s| matches!(s.enc, Enc::Waiting(_)))
    }

    /// The next bytes of one direction's stream.
    pub fn feed(&mut self, dir: Direction, data: &[u8], out: &mut impl FnMut(TlsEvent<'_>)) {
        let d = idx(dir);
        let mut data = data;
        let rd = &mut self.sides[d].rd;
        if rd.skip > 0 {
            let n = rd.skip.min(data.len() as u64);
            rd.skip -= n;
            data = &data[n as usize..];
        }
        let mut buf = std::mem::take(&mut self.sides[d].rd.buf);
        buf.extend_from_slice(data);
        let mut pos = 0;
        loop {
            if self.sides[d].rd.hunting {
                match find_header(&buf[pos..]) {
                    Some((p, confirmed)) if !confirmed && !self.sides[d].rd.flush => {
                        // Its next header is not here yet: wait for the bytes that
                        // decide, so that the outcome does not depend on segmentation.
                        self.sides[d].rd.hunted += p as u64;
                        pos += p;
                        break;
                    }
                    Some((p, _)) => {
                        let rd = &mut self.sides[d].rd;
                        rd.hunting = false;
                        let skipped = rd.hunted + p as u64;
                        rd.hunted = 0;
                        pos += p;
                        out(TlsEvent::Violation {
                            dir,
                            rule: rules::GAP_RESYNC,
                            message: format!(
                                "after lost bytes, {skipped} bytes were skipped to the next plausible record header"
                            ),
                        });
                    }
                    None => {
                        // Keep the last 4 bytes: they may begin a header.
                        let keep = (buf.len() - pos).min(4);
                        self.sides[d].rd.hunted += (buf.len() - pos - keep) as u64;
                        pos = buf.len() - keep;
                        break;
                    }
                }
            }
            let rest = &buf[pos..];
            if rest.len() < 5 {
                break;
            }
            let ctype = rest[0];
            let version = [rest[1], rest[2]];
            let len = u16::from_be_bytes([rest[3], rest[4]]) as usize;
            let bad = if !(20..=24).contains(&ctype) {
                Some((
                    rules::UNKNOWN_CONTENT_TYPE,
                    format!("a record of content type {ctype}"),
                ))
            } else if version[0] != 3 {
                Some((
                    rules::BAD_RECORD_VERSION,
                    format!(
                        "a record with version {:#04x}{:02x}",
                        version[0], version[1]
                    ),
                ))
            } else if len > MAX_RECORD_LEN {
                Some((
                    rules::RECORD_TOO_LONG,
                    format!("a record announces {len} bytes, more than 2^14 + 2048"),
                ))
            } else {
                None
            };
            if let Some((rule, what)) = bad {
                out(TlsEvent::Violation {
                    dir,
                    rule,
                    message: format!(
                        "{what}: the stream is not followed until the next plausible record header"
                    ),
                });
                let rd = &mut self.sides[d].rd;
                rd.hunting = true;
                rd.hunted = 1;
                pos += 1;
                self.sides[d].seq_unknown = true;
                self.sides[d].hs.clear();
                continue;
            }
            if rest.len() < 5 + len {
                break;
            }
            let payload = &rest[5..5 + len];
            out(TlsEvent::Record {
                dir,
                content_type: ctype,
                len: len as u16,
            });
            self.record(dir, ctype, version, payload, out);
            pos += 5 + len;
        }
        buf.drain(..pos);
        // A big chunk from the TCP layer must not leave a big buffer behind:
        // what stays is less than one record.
        if buf.capacity() > 4 * (MAX_RECORD_LEN + 5) {
            buf.shrink_to(MAX_RECORD_LEN + 5);
        }
        self.sides[d].rd.buf = buf;
    }

    /// `bytes` bytes of one direction's stream were lost.
    pub fn gap(&mut self, dir: Direction, bytes: u64, out: &mut impl FnMut(TlsEvent<'_>)) {
        self.flush_hunt(dir, out);
        out(TlsEvent::Gap { dir, bytes });
        let s = &mut self.sides[idx(dir)];
        s.hs.clear();
        s.hs_discard = 0;
        let rd = &mut s.rd;
        if rd.skip > 0 {
            if bytes <= rd.skip {
                rd.skip -= bytes;
                return;
            }
            // The gap runs past the damaged record: unknown ground from here.
            rd.skip = 0;
        } else if rd.hunting {
            rd.hunted += bytes;
            return;
        } else if rd.buf.len() >= 5 {
            let len = u16::from_be_bytes([rd.buf[3], rd.buf[4]]) as u64;
            let rem = (5 + len).saturating_sub(rd.buf.len() as u64);
            rd.buf.clear();
            if bytes <= rem {
                // The gap lies within one record: exactly that record is lost.
                rd.skip = rem - bytes;
                s.lost_records += 1;
                return;
            }
            s.lost_records += 1;
        }
        rd.buf.clear();
        rd.hunting = true;
        rd.hunted = 0; // the lost bytes are reported by Gap, not counted as skipped
        s.seq_unknown = true;
    }

    /// One direction ended (FIN, RST or the end of the capture).
    pub fn end(&mut self, dir: Direction, out: &mut impl FnMut(TlsEvent<'_>)) {
        self.flush_hunt(dir, out);
        let d = idx(dir);
        let left = self.sides[d].rd.buf.len();
        if left > 0 && !self.sides[d].rd.hunting {
            out(TlsEvent::Violation {
                dir,
                rule: rules::UNFINISHED_RECORD,
                message: format!("the stream ended {left} bytes into a record"),
            });
            self.sides[d].rd.buf.clear();
        }
        // Only records that could not be decrypted make a failure: a direction
        // that sent nothing after the keys changed lost nothing.
        let s = &self.sides[d];
        if !s.held.is_empty() && !s.failed {
            let why = self.why_waiting(d);
            self.fail(dir, why, out);
        }
    }

    /// The bytes of `dir` stop being contiguous (a gap or the end): a header candidate
    /// held while hunting, waiting for its next header, is taken as it is.
    fn flush_hunt(&mut self, dir: Direction, out: &mut impl FnMut(TlsEvent<'_>)) {
        let d = idx(dir);
        if self.sides[d].rd.hunting && !self.sides[d].rd.buf.is_empty() {
            self.sides[d].rd.flush = true;
            self.feed(dir, &[], out);
            self.sides[d].rd.flush = false;
        }
    }

    /// The key log grew: directions waiting for keys try again, and their held
    /// records are decrypted in the order they came (both directions interleaved,
    /// so that a request still comes before its response).
    pub fn keys_updated(&mut self, keys: Arc<KeyLog>, out: &mut impl FnMut(TlsEvent<'_>)) {
        self.keys = keys;
        for dir in [Direction::C2S, Direction::S2C] {
            if matches!(self.sides[idx(dir)].enc, Enc::Waiting(_)) {
                self.activate(dir, out);
            }
        }
        self.drain_both(out);
    }

    fn why_waiting(&self, d: usize) -> &'static str {
        if self.client_random.is_none() || self.version.is_none() {
            return reason::NO_HANDSHAKE;
        }
        match self.sides[d].enc {
            Enc::Waiting(_) => reason::NO_KEY,
            // Held before the ServerHello and never released.
            _ => reason::NO_HANDSHAKE,
        }
    }

    fn fail(&mut self, dir: Direction, why: &'static str, out: &mut impl FnMut(TlsEvent<'_>)) {
        let s = &mut self.sides[idx(dir)];
        s.enc = Enc::Stopped;
        s.held.clear();
        s.held_bytes = 0;
        if !s.failed {
            s.failed = true;
            out(TlsEvent::Decrypt {
                dir,
                ok: false,
                reason: Some(why),
            });
        }
    }

    fn hold(
        &mut self,
        dir: Direction,
        ctype: u8,
        version: [u8; 2],
        payload: &[u8],
        out: &mut impl FnMut(TlsEvent<'_>),
    ) {
        let d = idx(dir);
        let s = &mut self.sides[d];
        if s.held_bytes + payload.len() > self.cfg.max_held_bytes {
            let why = self.why_waiting(d);
            self.fail(dir, why, out);
            return;
        }
        s.held_bytes += payload.len();
        self.held_count += 1;
        s.held.push_back(Held {
            order: self.held_count,
            ctype,
            version,
            payload: payload.to_vec(),
        });
    }

    /// Processes held records, the earliest first among the directions that can
    /// decrypt, while one can.
    fn drain_both(&mut self, out: &mut impl FnMut(TlsEvent<'_>)) {
        loop {
            let next = [Direction::C2S, Direction::S2C]
                .into_iter()
                .filter(|d| matches!(self.sides[idx(*d)].enc, Enc::Active(_)))
                .filter_map(|d| self.sides[idx(d)].held.front().map(|h| (h.order, d)))
                .min_by_key(|(order, _)| *order);
            let Some((_, dir)) = next else {
                break;
            };
            let d = idx(dir);
            let Some(h) = self.sides[d].held.pop_front() else {
                break;
            };
            self.sides[d].held_bytes -= h.payload.len();
            self.decrypt(dir, h.ctype, h.version, &h.payload, out);
        }
    }

    /// Builds the decryptor a waiting direction needs, if it can.
    fn activate(&mut self, dir: Direction, out: &mut impl FnMut(TlsEvent<'_>)) {
        let d = idx(dir);
        let Enc::Waiting(epoch) = self.sides[d].enc else {
            return;
        };
        match self.decryptor(dir, epoch) {
            Ok(dec) => self.sides[d].enc = Enc::Active(Box::new(dec)),
            Err(Missing::Unsupported(why)) => self.fail(dir, why, out),
            Err(Missing::Keys) if !self.cfg.wait_for_keys => self.fail(dir, reason::NO_KEY, out),
            Err(Missing::Handshake) if !self.cfg.wait_for_keys => {
                self.fail(dir, reason::NO_HANDSHAKE, out)
            }
            Err(_) => {}
        }
    }

    fn decryptor(&self, dir: Direction, epoch: Epoch) -> Result<Decryptor, Missing> {
        let (Some(cr), Some(suite), Some(version)) = (self.client_random, self.suite, self.version)
        else {
            return Err(Missing::Handshake);
        };
        if version < 0x0303 {
            return Err(Missing::Unsupported(reason::UNSUPPORTED_VERSION));
        }
        let params = suite_params(suite)
            .filter(|p| p.tls13 == (version == 0x0304))
            .ok_or(Missing::Unsupported(reason::UNSUPPORTED_CIPHER))?;
        let secrets = self.keys.get(&cr).ok_or(Missing::Keys)?;
        let client = dir == Direction::C2S;
        let secret = match (epoch, client) {
            (Epoch::Tls12, _) => {
                let master = secrets.master_secret.as_deref().ok_or(Missing::Keys)?;
                let sr = self.server_random.ok_or(Missing::Handshake)?;
                let etm = self.etm && params.mac.is_some();
                return Decryptor::tls12(params, master, &cr, &sr, client, etm)
                    .ok_or(Missing::Keys);
            }
            (Epoch::Handshake13, true) => &secrets.client_handshake,
            (Epoch::Handshake13, false) => &secrets.server_handshake,
            (Epoch::App13, true) => &secrets.client_traffic_0,
            (Epoch::App13, false) => &secrets.server_traffic_0,
        };
        let secret = secret.as_deref().ok_or(Missing::Keys)?;
        Decryptor::tls13(params, secret).ok_or(Missing::Keys)
    }

    /// Switches a direction to a new epoch (sequence number 0).
    fn enter(&mut self, dir: Direction, epoch: Epoch, out: &mut impl FnMut(TlsEvent<'_>)) {
        let s = &mut self.sides[idx(dir)];
        if matches!(s.enc, Enc::Stopped) {
            return;
        }
        s.enc = Enc::Waiting(epoch);
        s.epoch = Some(epoch);
        s.epoch_ok = false;
        s.lost_records = 0;
        s.seq_unknown = false;
        self.activate(dir, out);
    }

    /// One whole record (header already reported).
    fn record(
        &mut self,
        dir: Direction,
        ctype: u8,
        version: [u8; 2],
        payload: &[u8],
        out: &mut impl FnMut(TlsEvent<'_>),
    ) {
        let d = idx(dir);
        let s = &mut self.sides[d];
        if s.close_notify && !s.after_close_reported {
            s.after_close_reported = true;
            out(TlsEvent::Violation {
                dir,
                rule: rules::DATA_AFTER_CLOSE_NOTIFY,
                message: format!("a record of content type {ctype} after close_notify"),
            });
        }
        if payload.is_empty() && matches!(ctype, 21 | 22) {
            out(TlsEvent::Violation {
                dir,
                rule: rules::EMPTY_RECORD,
                message: format!("a zero-length record of content type {ctype}"),
            });
            return;
        }
        if ctype == 20 {
            if payload != [1] {
                out(TlsEvent::Violation {
                    dir,
                    rule: rules::MALFORMED_CHANGE_CIPHER_SPEC,
                    message: format!("a ChangeCipherSpec record of {} bytes", payload.len()),
                });
            }
            out(TlsEvent::ChangeCipherSpec { dir });
            // TLS 1.3 compatibility ChangeCipherSpec: skipped. Before any ServerHello
            // (a 1.3 client sending early data, or a mid-stream capture): nothing to switch.
            // TLS 1.2: new keys from here on (again after a renegotiation, whose
            // ClientHello and ServerHello brought new randoms).
            if self.version.is_some_and(|v| v != 0x0304) {
                self.enter(dir, Epoch::Tls12, out);
            }
            return;
        }
        if ctype == 24 {
            return; // heartbeat: reported by size only
        }
        match self.sides[d].enc {
            Enc::Clear => match ctype {
                22 => self.handshake_bytes(dir, payload, out),
                21 => self.alert(dir, payload, out),
                _ => {
                    // Application data before encryption began: 0-RTT data, or a
                    // capture that missed the handshake; held until the ServerHello.
                    if self.version.is_some() {
                        out(TlsEvent::Violation {
                            dir,
                            rule: rules::UNEXPECTED_APPLICATION_DATA,
                            message: "application data before this direction's keys changed".into(),
                        });
                    }
                    self.hold(dir, ctype, version, payload, out);
                }
            },
            Enc::Waiting(_) => self.hold(dir, ctype, version, payload, out),
            Enc::Active(_) => self.decrypt(dir, ctype, version, payload, out),
            Enc::Stopped => {}
        }
    }

    fn decrypt(
        &mut self,
        dir: Direction,
        ctype: u8,
        version: [u8; 2],
        payload: &[u8],
        out: &mut impl FnMut(TlsEvent<'_>),
    ) {
        let d = idx(dir);
        let mut plain = std::mem::take(&mut self.scratch);
        let s = &mut self.sides[d];
        let Enc::Active(dec) = &mut s.enc else {
            self.scratch = plain;
            return;
        };
        dec.seq += s.lost_records;
        s.lost_records = 0;
        let res = if s.seq_unknown {
            let start = dec.seq;
            let mut r = Err(OpenError::BadTag);
            for seq in start..start + MAX_SEQ_SEARCH {
                r = dec.open_at(seq, ctype, version, payload, &mut plain);
                if r.is_ok() {
                    dec.seq = seq + 1;
                    break;
                }
            }
            r
        } else {
            dec.open(ctype, version, payload, &mut plain)
        };
        let searched = s.seq_unknown;
        match res {
            Ok(inner) => {
                s.seq_unknown = false;
                s.epoch_ok = true;
                if !s.ok_reported {
                    s.ok_reported = true;
                    out(TlsEvent::Decrypt {
                        dir,
                        ok: true,
                        reason: None,
                    });
                }
                self.inner(dir, inner, &plain, out);
            }
            Err(OpenError::NoInnerType) => {
                out(TlsEvent::Violation {
                    dir,
                    rule: rules::NO_INNER_CONTENT_TYPE,
                    message: format!("a {}-byte record decrypted to zeros only", payload.len()),
                });
            }
            Err(OpenError::BadTag) => {
                let early = dir == Direction::C2S
                    && self.early_data_offered
                    && s.epoch == Some(Epoch::Handshake13)
                    && !s.epoch_ok;
                if early {
                    // 0-RTT data (and EndOfEarlyData) under the early traffic secret,
                    // which this layer does not use: before the client's first
                    // handshake-key record, a record that fails is taken for it.
                    out(TlsEvent::Violation {
                        dir,
                        rule: rules::EARLY_DATA_SKIPPED,
                        message: format!(
                            "a {}-byte early data record was not decrypted",
                            payload.len()
                        ),
                    });
                } else {
                    let why = if searched {
                        reason::GAP
                    } else {
                        reason::BAD_TAG
                    };
                    self.fail(dir, why, out);
                }
            }
        }
        plain.clear();
        self.scratch = plain;
    }

    /// A decrypted record's content.
    fn inner(
        &mut self,
        dir: Direction,
        ctype: u8,
        plain: &[u8],
        out: &mut impl FnMut(TlsEvent<'_>),
    ) {
        if plain.len() > 1 << 14 {
            out(TlsEvent::Violation {
                dir,
                rule: rules::RECORD_OVERFLOW,
                message: format!(
                    "a record decrypted to {} bytes, more than 2^14",
                    plain.len()
                ),
            });
        }
        match ctype {
            22 if plain.is_empty() => out(TlsEvent::Violation {
                dir,
                rule: rules::EMPTY_RECORD,
                message: "a zero-length handshake record".into(),
            }),
            22 => self.handshake_bytes(dir, plain, out),
            21 => self.alert(dir, plain, out),
            23 => out(TlsEvent::Plaintext { dir, bytes: plain }),
            t => out(TlsEvent::Violation {
                dir,
                rule: rules::UNKNOWN_CONTENT_TYPE,
                message: format!("a protected record of inner content type {t}"),
            }),
        }
    }

    fn alert(&mut self, dir: Direction, plain: &[u8], out: &mut impl FnMut(TlsEvent<'_>)) {
        let [level, description] = plain else {
            out(TlsEvent::Violation {
                dir,
                rule: rules::MALFORMED_ALERT,
                message: format!("an alert of {} bytes", plain.len()),
            });
            return;
        };
        out(TlsEvent::Alert {
            dir,
            level: *level,
            description: *description,
            name: alert_name(*description),
        });
        if *description == 0 {
            self.sides[idx(dir)].close_notify = true;
            out(TlsEvent::CloseNotify { dir });
        }
    }

    fn handshake_bytes(
        &mut self,
        dir: Direction,
        mut bytes: &[u8],
        out: &mut impl FnMut(TlsEvent<'_>),
    ) {
        let d = idx(dir);
        let s = &mut self.sides[d];
        if s.hs_discard > 0 {
            let n = s.hs_discard.min(bytes.len());
            s.hs_discard -= n;
            bytes = &bytes[n..];
        }
        s.hs.extend_from_slice(bytes);
        loop {
            let s = &mut self.sides[d];
            if s.hs.len() < 4 {
                return;
            }
            let len = (s.hs[1] as usize) << 16 | (s.hs[2] as usize) << 8 | s.hs[3] as usize;
            if len > MAX_HANDSHAKE_MESSAGE {
                let typ = s.hs[0];
                let have = s.hs.len() - 4;
                s.hs_discard = len.saturating_sub(have);
                s.hs.clear();
                out(TlsEvent::Violation {
                    dir,
                    rule: rules::HANDSHAKE_TOO_LONG,
                    message: format!(
                        "a handshake message of type {typ} announces {len} bytes; it is skipped"
                    ),
                });
                return;
            }
            if s.hs.len() < 4 + len {
                return;
            }
            let msg: Vec<u8> = s.hs.drain(..4 + len).collect();
            self.handshake_message(dir, &msg, out);
        }
    }

    fn handshake_message(
        &mut self,
        dir: Direction,
        msg: &[u8],
        out: &mut impl FnMut(TlsEvent<'_>),
    ) {
        let parsed = match handshake::parse(msg, self.version == Some(0x0304)) {
            Ok(p) => p,
            Err(why) => {
                out(TlsEvent::Violation {
                    dir,
                    rule: rules::MALFORMED_HANDSHAKE,
                    message: why.to_string(),
                });
                return;
            }
        };
        match parsed {
            Parsed::ClientHello(ch) => {
                self.client_random = Some(ch.client_random);
                self.early_data_offered = ch.early_data;
                self.client_session_id.clone_from(&ch.session_id);
                out(TlsEvent::ClientHello(Box::new(ch)));
            }
            Parsed::ServerHello(sh, true) => out(TlsEvent::HelloRetryRequest(Box::new(sh))),
            Parsed::ServerHello(mut sh, false) => {
                sh.resumed = sh.psk_accepted
                    || (sh.version == 0x0303
                        && !sh.session_id.is_empty()
                        && sh.session_id == self.client_session_id);
                self.version = Some(sh.version);
                self.suite = Some(sh.cipher_suite);
                self.server_random = Some(sh.server_random);
                self.etm = sh.encrypt_then_mac;
                let tls13 = sh.version == 0x0304;
                out(TlsEvent::ServerHello(Box::new(sh)));
                if tls13 {
                    for dir in [Direction::S2C, Direction::C2S] {
                        if matches!(self.sides[idx(dir)].enc, Enc::Clear) {
                            self.enter(dir, Epoch::Handshake13, out);
                        }
                    }
                }
                // Records held before the ServerHello (either direction) can go now.
                self.drain_both(out);
            }
            Parsed::EncryptedExtensions { alpn } => out(TlsEvent::EncryptedExtensions { alpn }),
            Parsed::Certificate {
                subject,
                issuer,
                chain_len,
            } => out(TlsEvent::Certificate {
                dir,
                subject,
                issuer,
                chain_len,
            }),
            Parsed::NewSessionTicket { lifetime_s } => {
                out(TlsEvent::NewSessionTicket { lifetime_s })
            }
            Parsed::Finished => {
                out(TlsEvent::Finished { dir });
                self.sides[idx(dir)].finished = true;
                if self.version == Some(0x0304) {
                    self.enter(dir, Epoch::App13, out);
                }
                if !self.done && self.sides.iter().all(|s| s.finished) {
                    self.done = true;
                    if let (Some(version), Some(cipher_suite)) = (self.version, self.suite) {
                        out(TlsEvent::HandshakeDone {
                            version,
                            cipher_suite,
                        });
                    }
                }
            }
            Parsed::KeyUpdate { update_requested } => {
                out(TlsEvent::KeyUpdate {
                    dir,
                    update_requested,
                });
                let s = &mut self.sides[idx(dir)];
                if let Enc::Active(dec) = &mut s.enc {
                    if !dec.key_update() {
                        self.fail(dir, reason::UNSUPPORTED_CIPHER, out);
                    }
                }
            }
            Parsed::Other => {}
        }
    }
}

/// The offset of the first plausible record header in `b`: content type
/// 20-23, version 3.0-3.4, length 1..=[`MAX_RECORD_LEN`]; and the header after
/// that record is plausible too (`true`), or not in `b` yet (`false`).
fn find_header(b: &[u8]) -> Option<(usize, bool)> {
    let plausible = |h: &[u8]| {
        let len = u16::from_be_bytes([h[3], h[4]]) as usize;
        (20..=23).contains(&h[0]) && h[1] == 3 && h[2] <= 4 && (1..=MAX_RECORD_LEN).contains(&len)
    };
    (0..b.len().saturating_sub(4)).find_map(|i| {
        if !plausible(&b[i..i + 5]) {
            return None;
        }
        let next = i + 5 + u16::from_be_bytes([b[i + 3], b[i + 4]]) as usize;
        if b.len() < next + 5 {
            Some((i, false))
        } else {
            plausible(&b[next..next + 5]).then_some((i, true))
        }
    })
}
