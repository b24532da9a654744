//! TLS secrets for the binary: the key log named by `--keylog` (or the
//! `SSLKEYLOGFILE` environment variable), re-read as it grows during a live
//! capture, and the Decryption Secrets Blocks of a pcapng file (libpcap does not
//! hand those over, so the file is scanned for them with `pcap-parser`).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::sync::Arc;

use rust_i18n::t;
use wsscope::tls::{BadLine, BadLineReason, DsbError, KeyLog};

use crate::capture::{os_error, SourceError};

/// Bad key log lines reported one by one; the rest are counted.
const MAX_BAD_LINES_SHOWN: usize = 10;
/// Bytes of key log read at once while it grows.
const READ_CHUNK: usize = 1 << 20;

/// The secrets known, and the key log file being followed.
pub struct Keys {
    log: KeyLog,
    /// The key log file, its name as given, and how much of it was read.
    file: Option<(std::path::PathBuf, String, u64)>,
    bad_shown: usize,
    bad_more: usize,
}

impl Keys {
    /// The secrets for a capture: `--keylog FILE`, else `SSLKEYLOGFILE` (said on
    /// stderr), plus those embedded in the capture file (pcapng DSBs). A `--keylog`
    /// that cannot be read is an error; `SSLKEYLOGFILE` naming a file not there yet
    /// is fine live (it is followed) and a warning otherwise.
    pub fn load(
        flag: Option<&str>,
        capture_file: Option<&str>,
        live: bool,
    ) -> Result<Keys, SourceError> {
        let mut keys = Keys {
            log: KeyLog::new(),
            file: None,
            bad_shown: 0,
            bad_more: 0,
        };
        let from_env = std::env::var("SSLKEYLOGFILE")
            .ok()
            .filter(|s| !s.is_empty());
        let (path, is_flag) = match (flag, from_env) {
            (Some(p), _) => (Some(p.to_string()), true),
            (None, Some(p)) => {
                let path = wsscope::text::safe(&p);
                eprintln!("wsscope: {}", t!("keys.using_env", path = path));
                (Some(p), false)
            }
            (None, None) => (None, false),
        };
        if let Some(p) = path {
            let shown = wsscope::text::safe(&p);
            match std::fs::metadata(&p) {
                Ok(_) => {
                    keys.file = Some((p.into(), shown, 0));
                    keys.read_more();
                }
                Err(e) if is_flag && !live => {
                    let e = os_error(&e);
                    return Err(SourceError(
                        t!("keys.cannot_read", path = shown, e = e).into_owned(),
                    ));
                }
                Err(_) if live => keys.file = Some((p.into(), shown, 0)),
                Err(e) => {
                    let m = t!("keys.cannot_read_env", path = shown, e = os_error(&e));
                    warn(&m);
                }
            }
        }
        if let Some(f) = capture_file {
            keys.add_dsbs(f);
        }
        Ok(keys)
    }

    /// The secrets, for the analyzer.
    pub fn shared(&self) -> Arc<KeyLog> {
        Arc::new(self.log.clone())
    }

    /// A key log file is being followed (it may grow while the capture runs).
    pub fn follows_file(&self) -> bool {
        self.file.is_some()
    }

    /// A live capture: reads what was appended to the key log since the last call;
    /// true when new secrets came. Cheap when nothing was appended (one `stat`), so
    /// it may be called before every packet.
    /// (Anything appended counts: a TLS 1.3 session's secrets come in four lines,
    /// and a read between them adds secrets to a session already known.)
    pub fn poll(&mut self) -> bool {
        self.read_more()
    }

    /// Reads what was appended; true when something was.
    fn read_more(&mut self) -> bool {
        let Some((path, shown, offset)) = self.file.as_mut() else {
            return false;
        };
        let Ok(len) = std::fs::metadata(&*path).map(|m| m.len()) else {
            return false;
        };
        if len < *offset {
            // Truncated or replaced: start again from its beginning.
            *offset = 0;
        }
        if len == *offset {
            return false;
        }
        let Ok(mut f) = File::open(&*path) else {
            return false;
        };
        if f.seek(SeekFrom::Start(*offset)).is_err() {
            return false;
        }
        let start = *offset;
        let mut buf = vec![0u8; READ_CHUNK];
        let mut bad = Vec::new();
        loop {
            match f.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    *offset += n as u64;
                    bad.extend(self.log.add_bytes(&buf[..n]));
                }
            }
        }
        let grew = *offset > start;
        let shown = shown.clone();
        self.report(&shown, bad);
        grew
    }

    fn report(&mut self, source: &str, bad: Vec<BadLine>) {
        for b in bad {
            if self.bad_shown < MAX_BAD_LINES_SHOWN {
                self.bad_shown += 1;
                let reason = bad_line(b.reason);
                warn(&t!(
                    "keys.bad_line",
                    source = source,
                    line = b.line,
                    reason = reason
                ));
            } else {
                self.bad_more += 1;
            }
        }
    }

    /// Says how many bad lines were not shown.
    pub fn finish(&mut self) {
        if let Some((_, shown, _)) = self.file.as_ref() {
            let shown = shown.clone();
            let bad = self.log.flush();
            self.report(&shown, bad);
        }
        if self.bad_more > 0 {
            warn(&t!("keys.more_bad_lines", n = self.bad_more));
            self.bad_more = 0;
        }
    }

    /// The TLS key logs embedded in a pcapng file (Decryption Secrets Blocks).
    fn add_dsbs(&mut self, path: &str) {
        use pcap_parser::traits::PcapReaderIterator;
        use pcap_parser::{Block, PcapBlockOwned, PcapError};
        let Ok(mut file) = File::open(path) else {
            return;
        };
        let mut magic = [0u8; 4];
        if file.read_exact(&mut magic).is_err() || magic != [0x0a, 0x0d, 0x0d, 0x0a] {
            return; // not pcapng: no such blocks
        }
        if file.seek(SeekFrom::Start(0)).is_err() {
            return;
        }
        let Ok(mut reader) = pcap_parser::pcapng::PcapNGReader::new(1 << 16, file) else {
            return;
        };
        let mut found = 0;
        let mut big_endian = false;
        loop {
            if crate::capture::short_block(reader.data(), big_endian) {
                break; // damage (pcap-parser would overflow on it)
            }
            match reader.next() {
                Ok((used, block)) => {
                    if let PcapBlockOwned::NG(Block::SectionHeader(shb)) = &block {
                        big_endian = shb.big_endian();
                    }
                    if let PcapBlockOwned::NG(Block::DecryptionSecrets(dsb)) = block {
                        match self.log.add_dsb_secrets(dsb.secrets_type.0, dsb.data) {
                            Ok(bad) => {
                                found += 1;
                                self.report(&t!("keys.dsb_source"), bad);
                            }
                            Err(e) => warn(&t!("keys.dsb_unused", why = dsb_error(e))),
                        }
                    }
                    reader.consume(used);
                }
                Err(PcapError::Incomplete(_)) => {
                    if reader.refill().is_err() {
                        break;
                    }
                }
                // The end, or damage: libpcap's pass reports damage to the packets.
                Err(_) => break,
            }
        }
        if found > 0 {
            let m = if found == 1 {
                t!("keys.using_dsb_one", n = found)
            } else {
                t!("keys.using_dsb_many", n = found)
            };
            eprintln!("wsscope: {m}");
        }
    }
}

/// One warning line on stderr, in the language of the messages.
fn warn(message: &str) {
    eprintln!("wsscope: {}", t!("cli.warning", message = message));
}

/// Why a key log line was ignored, in the language of the messages.
fn bad_line(r: BadLineReason) -> String {
    match r {
        BadLineReason::TooLong => t!("keys.reason.too_long"),
        BadLineReason::NotUtf8 => t!("keys.reason.not_utf8"),
        BadLineReason::TooFewFields => t!("keys.reason.too_few_fields"),
        BadLineReason::TooManyFields => t!("keys.reason.too_many_fields"),
        BadLineReason::RandomNotHex => t!("keys.reason.random_not_hex"),
        BadLineReason::RandomNot32Bytes => t!("keys.reason.random_not_32_bytes"),
        BadLineReason::SecretNotHex => t!("keys.reason.secret_not_hex"),
        BadLineReason::MasterSecretNot48Bytes => t!("keys.reason.master_secret_length"),
        BadLineReason::TrafficSecretLength => t!("keys.reason.traffic_secret_length"),
    }
    .into_owned()
}

/// Why a Decryption Secrets Block is not used, in the language of the messages.
fn dsb_error(e: DsbError) -> String {
    match e {
        DsbError::Truncated => t!("keys.dsb.truncated").into_owned(),
        DsbError::NotTlsKeyLog(kind) => {
            t!("keys.dsb.not_tls", kind = format!("0x{kind:08x}")).into_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A pcapng block declaring under 12 bytes (a Process Information Block
    /// passes pcap-parser's own check from 4) ends the search for embedded
    /// secrets: pcap-parser 0.17 would subtract 12 from its length and overflow.
    #[test]
    fn a_pcapng_block_shorter_than_12_bytes_ends_the_dsb_search() {
        let path = std::env::temp_dir().join(format!(
            "wsscope-keys-short-block-{}.pcapng",
            std::process::id()
        ));
        for len in 4u32..12 {
            let mut file = Vec::new();
            for x in [0x0a0d_0d0a, 28, 0x1a2b_3c4d, 1, u32::MAX, u32::MAX, 28] {
                file.extend_from_slice(&x.to_le_bytes());
            }
            for x in [0x8000_0001, len, 0] {
                file.extend_from_slice(&x.to_le_bytes());
            }
            std::fs::write(&path, &file).unwrap();
            let keys = Keys::load(None, path.to_str(), false).unwrap();
            assert!(keys.shared().is_empty(), "length {len}");
        }
        let _ = std::fs::remove_file(&path);
    }

    /// A TLS 1.3 session's secrets come in several lines: a look between them must
    /// still report the later ones (it once counted sessions, and missed them).
    #[test]
    fn secrets_added_to_a_known_session_are_reported() {
        let path =
            std::env::temp_dir().join(format!("wsscope-keys-poll-{}.log", std::process::id()));
        let random = "11".repeat(32);
        let secret = "22".repeat(32);
        std::fs::write(
            &path,
            format!("CLIENT_HANDSHAKE_TRAFFIC_SECRET {random} {secret}\n"),
        )
        .unwrap();
        let mut keys = Keys::load(Some(path.to_str().unwrap()), None, true).unwrap();
        let r = [0x11u8; 32];
        assert!(keys.shared().get(&r).unwrap().client_handshake.is_some());
        assert!(!keys.poll(), "nothing was appended");
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        writeln!(f, "CLIENT_TRAFFIC_SECRET_0 {random} {secret}").unwrap();
        assert!(
            keys.poll(),
            "the new secret of a known session went unnoticed"
        );
        assert!(keys.shared().get(&r).unwrap().client_traffic_0.is_some());
        // Half a line: read, and taken once the rest comes.
        write!(f, "SERVER_TRAFFIC_SECRET_0 {random} ").unwrap();
        keys.poll();
        assert!(keys.shared().get(&r).unwrap().server_traffic_0.is_none());
        writeln!(f, "{secret}").unwrap();
        assert!(keys.poll());
        assert!(keys.shared().get(&r).unwrap().server_traffic_0.is_some());
        let _ = std::fs::remove_file(&path);
    }
}
