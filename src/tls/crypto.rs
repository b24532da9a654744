//! Record protection: cipher suite parameters, the TLS 1.3 key schedule
//! (HKDF-Expand-Label), the TLS 1.2 PRF and key block, and record decryption.
//!
//! Every primitive comes from the RustCrypto crates (`aes-gcm`,
//! `chacha20poly1305`, `aes` + `cbc`, `hmac`, `sha1`, `sha2`, `hkdf`); this
//! file only lays out nonces, additional data, MACs and padding as RFC 8446 5
//! and RFC 5246 6.2.3 (with RFC 7366 encrypt-then-MAC, RFC 7905 ChaCha20) say.

use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes128Gcm, Aes256Gcm};
use cbc::cipher::block_padding::NoPadding;
use cbc::cipher::{BlockDecryptMut, KeyIvInit};
use chacha20poly1305::ChaCha20Poly1305;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Sha256, Sha384};
use tls_parser::{
    TlsCipherEnc, TlsCipherEncMode, TlsCipherKx, TlsCipherMac, TlsCipherSuite, TlsPRF,
};

/// A hash function used by a suite (PRF, HKDF or HMAC).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashAlg {
    /// SHA-1 (TLS 1.2 CBC suites' HMAC only).
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
}

impl HashAlg {
    /// Output length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            HashAlg::Sha1 => 20,
            HashAlg::Sha256 => 32,
            HashAlg::Sha384 => 48,
        }
    }
}

/// The bulk cipher of a suite this layer can decrypt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bulk {
    /// AES-128-GCM.
    Aes128Gcm,
    /// AES-256-GCM.
    Aes256Gcm,
    /// ChaCha20-Poly1305.
    ChaCha20Poly1305,
    /// AES-128-CBC with an HMAC.
    Aes128Cbc,
    /// AES-256-CBC with an HMAC.
    Aes256Cbc,
}

impl Bulk {
    fn key_len(self) -> usize {
        match self {
            Bulk::Aes128Gcm | Bulk::Aes128Cbc => 16,
            Bulk::Aes256Gcm | Bulk::Aes256Cbc | Bulk::ChaCha20Poly1305 => 32,
        }
    }
}

/// What decryption needs to know of a cipher suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SuiteParams {
    /// IANA id.
    pub id: u16,
    /// A TLS 1.3 suite (`TLS_AES_128_GCM_SHA256` and friends).
    pub tls13: bool,
    /// The bulk cipher.
    pub bulk: Bulk,
    /// HMAC hash of a CBC suite.
    pub mac: Option<HashAlg>,
    /// The PRF hash (TLS 1.2) or the HKDF hash (TLS 1.3).
    pub prf: HashAlg,
}

/// The IANA name of a cipher suite, from `tls-parser`'s registry.
pub fn suite_name(id: u16) -> Option<&'static str> {
    TlsCipherSuite::from_id(id).map(|s| s.name)
}

/// Decryption parameters of a suite, from `tls-parser`'s registry; `None` if
/// the suite is unknown or uses a cipher this layer does not decrypt (CCM,
/// ARIA, Camellia, RC4, 3DES, NULL, ...).
pub fn suite_params(id: u16) -> Option<SuiteParams> {
    let s = TlsCipherSuite::from_id(id)?;
    let tls13 = s.kx == TlsCipherKx::Tls13;
    let bulk = match (s.enc, s.enc_mode, s.enc_size) {
        (TlsCipherEnc::Aes, TlsCipherEncMode::Gcm, 128) => Bulk::Aes128Gcm,
        (TlsCipherEnc::Aes, TlsCipherEncMode::Gcm, 256) => Bulk::Aes256Gcm,
        (TlsCipherEnc::Chacha20_Poly1305, _, _) => Bulk::ChaCha20Poly1305,
        (TlsCipherEnc::Aes, TlsCipherEncMode::Cbc, 128) if !tls13 => Bulk::Aes128Cbc,
        (TlsCipherEnc::Aes, TlsCipherEncMode::Cbc, 256) if !tls13 => Bulk::Aes256Cbc,
        _ => return None,
    };
    let mac = match s.mac {
        TlsCipherMac::Aead => None,
        TlsCipherMac::HmacSha1 => Some(HashAlg::Sha1),
        TlsCipherMac::HmacSha256 => Some(HashAlg::Sha256),
        TlsCipherMac::HmacSha384 => Some(HashAlg::Sha384),
        _ => return None,
    };
    if matches!(bulk, Bulk::Aes128Cbc | Bulk::Aes256Cbc) != mac.is_some() {
        return None;
    }
    let prf = match s.prf {
        // TLS 1.2 uses SHA-256 for suites that name no PRF (RFC 5246 5).
        TlsPRF::Default | TlsPRF::Sha256 => HashAlg::Sha256,
        TlsPRF::Sha384 => HashAlg::Sha384,
        _ => return None,
    };
    Some(SuiteParams {
        id,
        tls13,
        bulk,
        mac,
        prf,
    })
}

/// HMAC over the concatenation of `parts`.
pub fn hmac(alg: HashAlg, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    macro_rules! run {
        ($h:ty) => {{
            let mut m = <Hmac<$h> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
            for p in parts {
                m.update(p);
            }
            m.finalize().into_bytes().to_vec()
        }};
    }
    match alg {
        HashAlg::Sha1 => run!(Sha1),
        HashAlg::Sha256 => run!(Sha256),
        HashAlg::Sha384 => run!(Sha384),
    }
}

/// HKDF-Expand-Label (RFC 8446 7.1): `label` without the `"tls13 "` prefix.
/// `None` if the secret is shorter than the hash (HKDF refuses it) or `len`
/// is too long for one expansion.
pub fn hkdf_expand_label(
    alg: HashAlg,
    secret: &[u8],
    label: &str,
    context: &[u8],
    len: usize,
) -> Option<Vec<u8>> {
    let full = [b"tls13 ".as_slice(), label.as_bytes()].concat();
    let mut info = Vec::with_capacity(4 + full.len() + context.len());
    info.extend_from_slice(&u16::try_from(len).ok()?.to_be_bytes());
    info.push(u8::try_from(full.len()).ok()?);
    info.extend_from_slice(&full);
    info.push(u8::try_from(context.len()).ok()?);
    info.extend_from_slice(context);
    let mut out = vec![0u8; len];
    match alg {
        HashAlg::Sha256 => hkdf::Hkdf::<Sha256>::from_prk(secret)
            .ok()?
            .expand(&info, &mut out)
            .ok()?,
        HashAlg::Sha384 => hkdf::Hkdf::<Sha384>::from_prk(secret)
            .ok()?
            .expand(&info, &mut out)
            .ok()?,
        HashAlg::Sha1 => return None,
    }
    Some(out)
}

/// The TLS 1.2 PRF (RFC 5246 5): P_hash(secret, label + seed), `len` bytes.
pub fn prf12(alg: HashAlg, secret: &[u8], label: &[u8], seed: &[u8], len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + alg.output_len());
    let mut a = hmac(alg, secret, &[label, seed]); // A(1)
    while out.len() < len {
        out.extend_from_slice(&hmac(alg, secret, &[&a, label, seed]));
        a = hmac(alg, secret, &[&a]);
    }
    out.truncate(len);
    out
}

/// The next TLS 1.3 traffic secret after a KeyUpdate (RFC 8446 7.2).
pub fn next_traffic_secret(alg: HashAlg, secret: &[u8]) -> Option<Vec<u8>> {
    hkdf_expand_label(alg, secret, "traffic upd", &[], alg.output_len())
}

enum Cipher {
    Aes128Gcm(Box<Aes128Gcm>),
    Aes256Gcm(Box<Aes256Gcm>),
    ChaCha(Box<ChaCha20Poly1305>),
    Cbc {
        key: Vec<u8>,
        mac: HashAlg,
        mac_key: Vec<u8>,
        etm: bool,
    },
}

/// Why a record did not decrypt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenError {
    /// The tag, MAC or padding did not verify (or the record is too short to hold them).
    BadTag,
    /// TLS 1.3: the decrypted content is all zeros, no inner content type.
    NoInnerType,
}

/// One direction's record protection at one epoch, and its sequence number.
pub struct Decryptor {
    cipher: Cipher,
    /// TLS 1.3 and ChaCha20: the 12-byte per-record IV; TLS 1.2 GCM: the 4-byte salt.
    iv: Vec<u8>,
    /// Sequence number of the next record.
    pub seq: u64,
    /// TLS 1.3: the current traffic secret (for KeyUpdate) and its hash.
    tls13: Option<(HashAlg, Vec<u8>)>,
    suite: SuiteParams,
}

impl std::fmt::Debug for Decryptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decryptor")
            .field("suite", &self.suite.id)
            .field("seq", &self.seq)
            .finish_non_exhaustive()
    }
}

fn aead(bulk: Bulk, key: &[u8]) -> Option<Cipher> {
    Some(match bulk {
        Bulk::Aes128Gcm => Cipher::Aes128Gcm(Box::new(Aes128Gcm::new_from_slice(key).ok()?)),
        Bulk::Aes256Gcm => Cipher::Aes256Gcm(Box::new(Aes256Gcm::new_from_slice(key).ok()?)),
        Bulk::ChaCha20Poly1305 => {
            Cipher::ChaCha(Box::new(ChaCha20Poly1305::new_from_slice(key).ok()?))
        }
        Bulk::Aes128Cbc | Bulk::Aes256Cbc => return None,
    })
}

impl Decryptor {
    /// TLS 1.3: keys from a traffic secret (RFC 8446 7.3), sequence number 0.
    pub fn tls13(suite: SuiteParams, secret: &[u8]) -> Option<Decryptor> {
        if !suite.tls13 {
            return None;
        }
        let key = hkdf_expand_label(suite.prf, secret, "key", &[], suite.bulk.key_len())?;
        let iv = hkdf_expand_label(suite.prf, secret, "iv", &[], 12)?;
        Some(Decryptor {
            cipher: aead(suite.bulk, &key)?,
            iv,
            seq: 0,
            tls13: Some((suite.prf, secret.to_vec())),
            suite,
        })
    }

    /// TLS 1.2: one side's keys from the master secret (RFC 5246 6.3),
    /// sequence number 0. `client` picks the client_write half of the key block.
    pub fn tls12(
        suite: SuiteParams,
        master: &[u8],
        client_random: &[u8; 32],
        server_random: &[u8; 32],
        client: bool,
        etm: bool,
    ) -> Option<Decryptor> {
        if suite.tls13 {
            return None;
        }
        let mac_len = suite.mac.map_or(0, HashAlg::output_len);
        let key_len = suite.bulk.key_len();
        let iv_len = match suite.bulk {
            Bulk::Aes128Gcm | Bulk::Aes256Gcm => 4,
            Bulk::ChaCha20Poly1305 => 12,
            Bulk::Aes128Cbc | Bulk::Aes256Cbc => 0, // explicit per-record IV
        };
        let seed = [server_random.as_slice(), client_random.as_slice()].concat();
        let block = prf12(
            suite.prf,
            master,
            b"key expansion",
            &seed,
            2 * (mac_len + key_len + iv_len),
        );
        let (cmac, rest) = block.split_at(mac_len);
        let (smac, rest) = rest.split_at(mac_len);
        let (ckey, rest) = rest.split_at(key_len);
        let (skey, rest) = rest.split_at(key_len);
        let (civ, siv) = rest.split_at(iv_len);
        let (mac_key, key, iv) = if client {
            (cmac, ckey, civ)
        } else {
            (smac, skey, siv)
        };
        let cipher = match suite.mac {
            Some(mac) => Cipher::Cbc {
                key: key.to_vec(),
                mac,
                mac_key: mac_key.to_vec(),
                etm,
            },
            None => aead(suite.bulk, key)?,
        };
        Some(Decryptor {
            cipher,
            iv: iv.to_vec(),
            seq: 0,
            tls13: None,
            suite,
        })
    }

    /// The suite.
    pub fn suite(&self) -> SuiteParams {
        self.suite
    }

    /// TLS 1.3 KeyUpdate: the next traffic secret, sequence number 0.
    /// Returns false for TLS 1.2 (which has no KeyUpdate) or a failed derivation.
    pub fn key_update(&mut self) -> bool {
        let Some((alg, secret)) = &self.tls13 else {
            return false;
        };
        let Some(next) = next_traffic_secret(*alg, secret) else {
            return false;
        };
        match Decryptor::tls13(self.suite, &next) {
            Some(d) => {
                *self = d;
                true
            }
            None => false,
        }
    }

    fn nonce12(&self, seq: u64) -> [u8; 12] {
        let mut n = [0u8; 12];
        n.copy_from_slice(&self.iv[..12]);
        for (b, s) in n[4..].iter_mut().zip(seq.to_be_bytes()) {
            *b ^= s;
        }
        n
    }

    /// Decrypts one record at the current sequence number, which advances on
    /// success. `out` receives the plaintext; returns its content type (the
    /// inner one in TLS 1.3).
    pub fn open(
        &mut self,
        ctype: u8,
        version: [u8; 2],
        payload: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<u8, OpenError> {
        let t = self.open_at(self.seq, ctype, version, payload, out)?;
        self.seq += 1;
        Ok(t)
    }

    /// [`Decryptor::open`] at a given sequence number, which is left alone.
    pub fn open_at(
        &self,
        seq: u64,
        ctype: u8,
        version: [u8; 2],
        payload: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<u8, OpenError> {
        out.clear();
        if self.tls13.is_some() {
            return self.open13(seq, ctype, version, payload, out);
        }
        match &self.cipher {
            Cipher::Cbc {
                key,
                mac,
                mac_key,
                etm,
            } => {
                self.open_cbc(seq, ctype, version, payload, out, key, *mac, mac_key, *etm)?;
                Ok(ctype)
            }
            _ => {
                // AEAD (RFC 5288 3, RFC 7905 2): AAD = seq, type, version, plaintext length.
                let (nonce, body) = if self.iv.len() == 4 {
                    if payload.len() < 8 {
                        return Err(OpenError::BadTag);
                    }
                    let mut n = [0u8; 12];
                    n[..4].copy_from_slice(&self.iv);
                    n[4..].copy_from_slice(&payload[..8]);
                    (n, &payload[8..])
                } else {
                    (self.nonce12(seq), payload)
                };
                let plain_len = body.len().checked_sub(16).ok_or(OpenError::BadTag)?;
                let mut aad = [0u8; 13];
                aad[..8].copy_from_slice(&seq.to_be_bytes());
                aad[8] = ctype;
                aad[9..11].copy_from_slice(&version);
                aad[11..].copy_from_slice(&(plain_len as u16).to_be_bytes());
                out.extend_from_slice(body);
                self.aead_open(&nonce, &aad, out)?;
                Ok(ctype)
            }
        }
    }

    fn aead_open(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut Vec<u8>) -> Result<(), OpenError> {
        let r = match &self.cipher {
            Cipher::Aes128Gcm(c) => c.decrypt_in_place(nonce.into(), aad, buf),
            Cipher::Aes256Gcm(c) => c.decrypt_in_place(nonce.into(), aad, buf),
            Cipher::ChaCha(c) => c.decrypt_in_place(nonce.into(), aad, buf),
            Cipher::Cbc { .. } => return Err(OpenError::BadTag),
        };
        r.map_err(|_| OpenError::BadTag)
    }

    fn open13(
        &self,
        seq: u64,
        ctype: u8,
        version: [u8; 2],
        payload: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<u8, OpenError> {
        // RFC 8446 5.2: the additional data is the record header as sent.
        let len = u16::try_from(payload.len()).map_err(|_| OpenError::BadTag)?;
        let mut aad = [ctype, version[0], version[1], 0, 0];
        aad[3..].copy_from_slice(&len.to_be_bytes());
        out.extend_from_slice(payload);
        self.aead_open(&self.nonce12(seq), &aad, out)?;
        // RFC 8446 5.4: the content type is the last non-zero byte.
        while let Some(&b) = out.last() {
            out.pop();
            if b != 0 {
                return Ok(b);
            }
        }
        Err(OpenError::NoInnerType)
    }

    #[allow(clippy::too_many_arguments)]
    fn open_cbc(
        &self,
        seq: u64,
        ctype: u8,
        version: [u8; 2],
        payload: &[u8],
        out: &mut Vec<u8>,
        key: &[u8],
        mac: HashAlg,
        mac_key: &[u8],
        etm: bool,
    ) -> Result<(), OpenError> {
        const BS: usize = 16;
        let ml = mac.output_len();
        let header = |len: usize| {
            let mut h = [0u8; 13];
            h[..8].copy_from_slice(&seq.to_be_bytes());
            h[8] = ctype;
            h[9..11].copy_from_slice(&version);
            h[11..].copy_from_slice(&(len as u16).to_be_bytes());
            h
        };
        let decrypt = |iv_and_ct: &[u8], out: &mut Vec<u8>| -> Result<(), OpenError> {
            let (iv, ct) = iv_and_ct.split_at(BS);
            if ct.is_empty() || ct.len() % BS != 0 {
                return Err(OpenError::BadTag);
            }
            out.extend_from_slice(ct);
            let r = match key.len() {
                16 => cbc::Decryptor::<aes::Aes128>::new_from_slices(key, iv)
                    .map_err(|_| OpenError::BadTag)?
                    .decrypt_padded_mut::<NoPadding>(out)
                    .map(|_| ()),
                _ => cbc::Decryptor::<aes::Aes256>::new_from_slices(key, iv)
                    .map_err(|_| OpenError::BadTag)?
                    .decrypt_padded_mut::<NoPadding>(out)
                    .map(|_| ()),
            };
            r.map_err(|_| OpenError::BadTag)
        };
        // The TLS padding: padding_length + 1 bytes, each equal to padding_length.
        let unpad = |out: &mut Vec<u8>, reserve: usize| -> Result<(), OpenError> {
            let pad = *out.last().ok_or(OpenError::BadTag)? as usize;
            if pad + 1 + reserve > out.len()
                || out[out.len() - pad - 1..]
                    .iter()
                    .any(|&b| b as usize != pad)
            {
                return Err(OpenError::BadTag);
            }
            out.truncate(out.len() - pad - 1);
            Ok(())
        };
        if etm {
            // RFC 7366 3: MAC over the header (with the ciphertext length), IV and ciphertext.
            if payload.len() < BS + BS + ml {
                return Err(OpenError::BadTag);
            }
            let (ct, tag) = payload.split_at(payload.len() - ml);
            let want = hmac(mac, mac_key, &[&header(ct.len()), ct]);
            if want != tag {
                return Err(OpenError::BadTag);
            }
            decrypt(ct, out)?;
            unpad(out, 0)
        } else {
            // RFC 5246 6.2.3.2: MAC-then-encrypt.
            if payload.len() < BS + BS {
                return Err(OpenError::BadTag);
            }
            decrypt(payload, out)?;
            unpad(out, ml)?;
            let plain_len = out.len() - ml;
            let want = hmac(mac, mac_key, &[&header(plain_len), &out[..plain_len]]);
            if want != out[plain_len..] {
                return Err(OpenError::BadTag);
            }
            out.truncate(plain_len);
            Ok(())
        }
    }
}
