//! The NSS key log format (`SSLKEYLOGFILE`), as written by browsers, OpenSSL,
//! Go, Node and Python, and as embedded in a pcapng Decryption Secrets Block.
//!
//! One secret a line: `LABEL <client_random, 64 hex digits> <secret, hex>`.
//! Lines starting with `#` and blank lines are skipped; labels this layer does
//! not use (`EXPORTER_SECRET`, `CLIENT_EARLY_TRAFFIC_SECRET`, `RSA`, ...) are
//! ignored without complaint; malformed lines are reported as [`BadLine`]s,
//! never panics.
//!
//! A live key log grows while the capture runs, and may be read in the middle
//! of a line: [`KeyLog::add_bytes`] keeps an unterminated last line until the
//! next call completes it ([`KeyLog::flush`] takes it as it is).

use std::collections::HashMap;

/// The secrets known for one TLS session (one client random).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionSecrets {
    /// `CLIENT_RANDOM`: the TLS 1.2 (and earlier) master secret, 48 bytes.
    pub master_secret: Option<Vec<u8>>,
    /// `CLIENT_HANDSHAKE_TRAFFIC_SECRET` (TLS 1.3).
    pub client_handshake: Option<Vec<u8>>,
    /// `SERVER_HANDSHAKE_TRAFFIC_SECRET` (TLS 1.3).
    pub server_handshake: Option<Vec<u8>>,
    /// `CLIENT_TRAFFIC_SECRET_0` (TLS 1.3).
    pub client_traffic_0: Option<Vec<u8>>,
    /// `SERVER_TRAFFIC_SECRET_0` (TLS 1.3).
    pub server_traffic_0: Option<Vec<u8>>,
}

/// A key log line that could not be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadLine {
    /// 1-based line number, counted over everything added to this key log.
    pub line: usize,
    /// Why it was rejected.
    pub reason: BadLineReason,
}

/// Why a key log line was rejected (the views word it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BadLineReason {
    /// Longer than [`MAX_LINE`].
    TooLong,
    /// Not UTF-8.
    NotUtf8,
    /// Fewer than three fields: label, client random, secret.
    TooFewFields,
    /// More than three fields.
    TooManyFields,
    /// The client random is not hex.
    RandomNotHex,
    /// The client random is not 32 bytes.
    RandomNot32Bytes,
    /// The secret is not hex.
    SecretNotHex,
    /// A `CLIENT_RANDOM` master secret that is not 48 bytes.
    MasterSecretNot48Bytes,
    /// A TLS 1.3 traffic secret that is neither 32 nor 48 bytes.
    TrafficSecretLength,
}

/// Why a Decryption Secrets Block could not be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DsbError {
    /// The block body is shorter than its fields say.
    Truncated,
    /// The secrets are not TLS key log text (type other than `TLSK`).
    NotTlsKeyLog(u32),
}

/// pcapng Decryption Secrets Block secrets type for TLS key log text ("TLSK").
pub const DSB_TLS_KEY_LOG: u32 = 0x544c_534b;

/// Longest line accepted (a line holds at most a label, 64 and 96 hex digits).
pub const MAX_LINE: usize = 1024;

/// Secrets by client random, parsed from NSS key log text.
#[derive(Clone, Debug, Default)]
pub struct KeyLog {
    sessions: HashMap<[u8; 32], SessionSecrets>,
    /// Lines seen so far (for line numbers across appends).
    lines: usize,
    /// An unterminated last line, waiting for the rest.
    partial: Vec<u8>,
    /// The partial line grew past [`MAX_LINE`]: skip to the next newline.
    overlong: bool,
}

impl KeyLog {
    /// An empty key log.
    pub fn new() -> KeyLog {
        KeyLog::default()
    }

    /// Parses a whole key log text (a last line without a newline included).
    pub fn parse(text: &str) -> (KeyLog, Vec<BadLine>) {
        let mut k = KeyLog::new();
        let mut bad = k.add_text(text);
        bad.extend(k.flush());
        (k, bad)
    }

    /// Parses the body of a pcapng Decryption Secrets Block (what follows the
    /// block type and block total length: secrets type, secrets length, the
    /// secrets, padding, options), in the section's byte order.
    pub fn from_dsb(body: &[u8], big_endian: bool) -> Result<(KeyLog, Vec<BadLine>), DsbError> {
        let mut k = KeyLog::new();
        let bad = k.add_dsb(body, big_endian)?;
        Ok((k, bad))
    }

    /// Adds the secrets of a Decryption Secrets Block body (see [`KeyLog::from_dsb`]).
    pub fn add_dsb(&mut self, body: &[u8], big_endian: bool) -> Result<Vec<BadLine>, DsbError> {
        let word = |b: &[u8]| -> u32 {
            let a = [b[0], b[1], b[2], b[3]];
            if big_endian {
                u32::from_be_bytes(a)
            } else {
                u32::from_le_bytes(a)
            }
        };
        if body.len() < 8 {
            return Err(DsbError::Truncated);
        }
        let kind = word(&body[0..4]);
        let len = word(&body[4..8]) as usize;
        let data = body
            .get(8..8usize.saturating_add(len))
            .ok_or(DsbError::Truncated)?;
        self.add_dsb_secrets(kind, data)
    }

    /// Adds already separated DSB secrets (`secrets_type`, the secrets data),
    /// as a pcapng reader such as `pcap-parser` hands them out.
    pub fn add_dsb_secrets(
        &mut self,
        secrets_type: u32,
        data: &[u8],
    ) -> Result<Vec<BadLine>, DsbError> {
        if secrets_type != DSB_TLS_KEY_LOG {
            return Err(DsbError::NotTlsKeyLog(secrets_type));
        }
        let mut bad = self.add_bytes(data);
        bad.extend(self.flush());
        Ok(bad)
    }

    /// Adds the next piece of a growing key log. Complete lines are parsed; an
    /// unterminated last line is kept until a later call (or [`KeyLog::flush`])
    /// completes it.
    pub fn add_text(&mut self, text: &str) -> Vec<BadLine> {
        self.add_bytes(text.as_bytes())
    }

    /// [`KeyLog::add_text`] for bytes (key logs are ASCII; other bytes make a
    /// line bad).
    pub fn add_bytes(&mut self, mut bytes: &[u8]) -> Vec<BadLine> {
        let mut bad = Vec::new();
        while let Some(nl) = bytes.iter().position(|&b| b == b'\n') {
            let (head, rest) = bytes.split_at(nl);
            bytes = &rest[1..];
            self.lines += 1;
            if self.overlong {
                self.overlong = false;
                self.partial.clear();
                bad.push(BadLine {
                    line: self.lines,
                    reason: BadLineReason::TooLong,
                });
                continue;
            }
            if self.partial.is_empty() {
                self.line(head, &mut bad);
            } else {
                let mut whole = std::mem::take(&mut self.partial);
                whole.extend_from_slice(head);
                if whole.len() > MAX_LINE {
                    bad.push(BadLine {
                        line: self.lines,
                        reason: BadLineReason::TooLong,
                    });
                } else {
                    self.line(&whole, &mut bad);
                }
            }
        }
        if !bytes.is_empty() && !self.overlong {
            if self.partial.len() + bytes.len() > MAX_LINE {
                self.overlong = true;
                self.partial.clear();
            } else {
                self.partial.extend_from_slice(bytes);
            }
        }
        bad
    }

    /// Parses a kept unterminated last line, as it is.
    pub fn flush(&mut self) -> Vec<BadLine> {
        let mut bad = Vec::new();
        if self.overlong {
            self.overlong = false;
            self.lines += 1;
            bad.push(BadLine {
                line: self.lines,
                reason: BadLineReason::TooLong,
            });
        } else if !self.partial.is_empty() {
            self.lines += 1;
            let whole = std::mem::take(&mut self.partial);
            self.line(&whole, &mut bad);
        }
        bad
    }

    fn line(&mut self, raw: &[u8], bad: &mut Vec<BadLine>) {
        let line_no = self.lines;
        let mut reject = |reason| {
            bad.push(BadLine {
                line: line_no,
                reason,
            })
        };
        let Ok(text) = std::str::from_utf8(raw) else {
            return reject(BadLineReason::NotUtf8);
        };
        let text = text.trim();
        if text.is_empty() || text.starts_with('#') {
            return;
        }
        let mut parts = text.split_ascii_whitespace();
        let label = parts.next().unwrap_or("");
        let (Some(random), Some(secret)) = (parts.next(), parts.next()) else {
            return reject(BadLineReason::TooFewFields);
        };
        if parts.next().is_some() {
            return reject(BadLineReason::TooManyFields);
        }
        let known = matches!(
            label,
            "CLIENT_RANDOM"
                | "CLIENT_HANDSHAKE_TRAFFIC_SECRET"
                | "SERVER_HANDSHAKE_TRAFFIC_SECRET"
                | "CLIENT_TRAFFIC_SECRET_0"
                | "SERVER_TRAFFIC_SECRET_0"
        );
        if !known {
            return; // EXPORTER_SECRET, CLIENT_EARLY_TRAFFIC_SECRET, RSA, ...: not used here
        }
        let Some(random) = hex(random) else {
            return reject(BadLineReason::RandomNotHex);
        };
        let Ok(random) = <[u8; 32]>::try_from(random.as_slice()) else {
            return reject(BadLineReason::RandomNot32Bytes);
        };
        let Some(secret) = hex(secret) else {
            return reject(BadLineReason::SecretNotHex);
        };
        let ok_len = if label == "CLIENT_RANDOM" {
            secret.len() == 48
        } else {
            matches!(secret.len(), 32 | 48)
        };
        if !ok_len {
            return reject(if label == "CLIENT_RANDOM" {
                BadLineReason::MasterSecretNot48Bytes
            } else {
                BadLineReason::TrafficSecretLength
            });
        }
        let s = self.sessions.entry(random).or_default();
        let slot = match label {
            "CLIENT_RANDOM" => &mut s.master_secret,
            "CLIENT_HANDSHAKE_TRAFFIC_SECRET" => &mut s.client_handshake,
            "SERVER_HANDSHAKE_TRAFFIC_SECRET" => &mut s.server_handshake,
            "CLIENT_TRAFFIC_SECRET_0" => &mut s.client_traffic_0,
            _ => &mut s.server_traffic_0,
        };
        *slot = Some(secret);
    }

    /// The secrets known for a client random.
    pub fn get(&self, client_random: &[u8; 32]) -> Option<&SessionSecrets> {
        self.sessions.get(client_random)
    }

    /// The client randoms with at least one secret.
    pub fn sessions(&self) -> impl Iterator<Item = &[u8; 32]> {
        self.sessions.keys()
    }

    /// Number of sessions (client randoms) with at least one secret.
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    /// No secrets at all.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    /// Lines read so far.
    pub fn lines(&self) -> usize {
        self.lines
    }
}

fn hex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    s.as_bytes()
        .chunks(2)
        .map(|p| Some(digit(p[0])? << 4 | digit(p[1])?))
        .collect()
}
