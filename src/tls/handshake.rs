//! Handshake messages: `tls-parser` does the parsing where its structures fit
//! (ClientHello, ServerHello, extensions, the TLS 1.2 Certificate); the TLS 1.3
//! shapes it does not know (EncryptedExtensions' envelope, the 1.3 Certificate
//! with its request context and per-entry extensions, the 1.3 NewSessionTicket)
//! are read here, and certificates' names with `x509-parser`.

use tls_parser::{
    parse_tls_client_hello_extensions, parse_tls_extensions, parse_tls_message_handshake,
    parse_tls_server_hello_extensions, TlsExtension, TlsMessage, TlsMessageHandshake,
};

use super::{ClientHello, ServerHello};

/// `ServerHello.random` of a HelloRetryRequest: SHA-256("HelloRetryRequest") (RFC 8446 4.1.3).
pub const HRR_RANDOM: [u8; 32] = [
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
];

/// A handshake message, as far as this layer cares.
#[derive(Debug)]
pub enum Parsed {
    ClientHello(ClientHello),
    /// A ServerHello or (random = [`HRR_RANDOM`]) a HelloRetryRequest.
    ServerHello(ServerHello, bool),
    EncryptedExtensions {
        alpn: Option<String>,
    },
    Certificate {
        subject: Option<String>,
        issuer: Option<String>,
        chain_len: usize,
    },
    NewSessionTicket {
        lifetime_s: u32,
    },
    Finished,
    KeyUpdate {
        update_requested: bool,
    },
    /// Any other message (ServerKeyExchange, CertificateVerify, ...): only its type.
    Other,
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn u16s(b: &[u8]) -> impl Iterator<Item = u16> + '_ {
    b.chunks_exact(2).map(|p| u16::from_be_bytes([p[0], p[1]]))
}

/// Parses one whole handshake message (4-byte header included). `tls13`: the
/// negotiated version is 1.3 (it changes the shape of Certificate).
pub fn parse(msg: &[u8], tls13: bool) -> Result<Parsed, &'static str> {
    let typ = msg[0];
    let body = &msg[4..];
    match typ {
        1 => client_hello(msg),
        2 => server_hello(msg),
        4 => {
            let b = body
                .get(..4)
                .ok_or("NewSessionTicket shorter than its lifetime")?;
            Ok(Parsed::NewSessionTicket {
                lifetime_s: u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
            })
        }
        8 => encrypted_extensions(body),
        11 if tls13 => certificate13(body),
        11 => match parse_tls_message_handshake(msg) {
            Ok((_, TlsMessage::Handshake(TlsMessageHandshake::Certificate(c)))) => {
                let (subject, issuer) =
                    c.cert_chain.first().map_or((None, None), |c| names(c.data));
                Ok(Parsed::Certificate {
                    subject,
                    issuer,
                    chain_len: c.cert_chain.len(),
                })
            }
            _ => Err("Certificate does not parse"),
        },
        20 => Ok(Parsed::Finished),
        24 => match body {
            [r] if *r <= 1 => Ok(Parsed::KeyUpdate {
                update_requested: *r == 1,
            }),
            _ => Err("KeyUpdate is not one byte 0 or 1"),
        },
        _ => Ok(Parsed::Other),
    }
}

fn client_hello(msg: &[u8]) -> Result<Parsed, &'static str> {
    let Ok((_, TlsMessage::Handshake(TlsMessageHandshake::ClientHello(ch)))) =
        parse_tls_message_handshake(msg)
    else {
        return Err("ClientHello does not parse");
    };
    let client_random: [u8; 32] = ch
        .random
        .try_into()
        .map_err(|_| "ClientHello random is not 32 bytes")?;
    let mut out = ClientHello {
        legacy_version: ch.version.0,
        client_random,
        session_id: ch.session_id.map(<[u8]>::to_vec).unwrap_or_default(),
        cipher_suites: ch.ciphers.iter().map(|c| c.0).collect(),
        ..ClientHello::default()
    };
    let exts = match ch.ext {
        Some(e) => {
            parse_tls_client_hello_extensions(e)
                .map_err(|_| "ClientHello extensions do not parse")?
                .1
        }
        None => Vec::new(),
    };
    for e in &exts {
        match e {
            TlsExtension::SNI(names) => out.sni = names.first().map(|(_, n)| lossy(n)),
            TlsExtension::ALPN(p) => out.alpn = p.iter().map(|p| lossy(p)).collect(),
            TlsExtension::SupportedVersions(v) => {
                out.supported_versions = v.iter().map(|v| v.0).collect()
            }
            TlsExtension::EllipticCurves(g) => {
                out.supported_groups = g.iter().map(|g| g.0).collect()
            }
            TlsExtension::KeyShare(ks) => {
                // client_shares<0..2^16-1>: group u16, key_exchange<1..2^16-1>
                let mut r = ks.get(2..).unwrap_or(&[]);
                while r.len() >= 4 {
                    out.key_share_groups.push(u16::from_be_bytes([r[0], r[1]]));
                    let n = u16::from_be_bytes([r[2], r[3]]) as usize;
                    r = r.get(4 + n..).unwrap_or(&[]);
                }
            }
            TlsExtension::PreSharedKey(_) => out.psk_offered = true,
            TlsExtension::SessionTicket(t) => out.session_ticket_offered = !t.is_empty(),
            TlsExtension::EarlyData(_) => out.early_data = true,
            TlsExtension::EncryptThenMac => out.encrypt_then_mac = true,
            TlsExtension::ExtendedMasterSecret => out.extended_master_secret = true,
            _ => {}
        }
    }
    Ok(Parsed::ClientHello(out))
}

fn server_hello(msg: &[u8]) -> Result<Parsed, &'static str> {
    let Ok((_, TlsMessage::Handshake(TlsMessageHandshake::ServerHello(sh)))) =
        parse_tls_message_handshake(msg)
    else {
        return Err("ServerHello does not parse");
    };
    let server_random: [u8; 32] = sh
        .random
        .try_into()
        .map_err(|_| "ServerHello random is not 32 bytes")?;
    let mut out = ServerHello {
        legacy_version: sh.version.0,
        version: sh.version.0,
        server_random,
        session_id: sh.session_id.map(<[u8]>::to_vec).unwrap_or_default(),
        cipher_suite: sh.cipher.0,
        cipher_name: super::crypto::suite_name(sh.cipher.0),
        ..ServerHello::default()
    };
    let exts = match sh.ext {
        Some(e) => {
            parse_tls_server_hello_extensions(e)
                .map_err(|_| "ServerHello extensions do not parse")?
                .1
        }
        None => Vec::new(),
    };
    for e in &exts {
        match e {
            TlsExtension::SupportedVersions(v) => {
                if let Some(v) = v.first() {
                    out.version = v.0;
                }
            }
            TlsExtension::ALPN(p) => out.alpn = p.first().map(|p| lossy(p)),
            TlsExtension::KeyShare(ks) => out.key_share_group = u16s(ks).next(),
            TlsExtension::PreSharedKey(_) => out.psk_accepted = true,
            _ => {}
        }
    }
    // tls-parser 0.12's ServerHello extension table reads type 21 (padding) as
    // encrypt_then_mac and does not know 22: these two flags come from the types.
    let types = ext_types(sh.ext.unwrap_or(&[]));
    out.encrypt_then_mac = types.contains(&22);
    out.extended_master_secret = types.contains(&23);
    Ok(Parsed::ServerHello(out, server_random == HRR_RANDOM))
}

/// The extension types of an extensions block.
fn ext_types(mut r: &[u8]) -> Vec<u16> {
    let mut out = Vec::new();
    while r.len() >= 4 {
        out.push(u16::from_be_bytes([r[0], r[1]]));
        let n = u16::from_be_bytes([r[2], r[3]]) as usize;
        r = r.get(4 + n..).unwrap_or(&[]);
    }
    out
}

fn encrypted_extensions(body: &[u8]) -> Result<Parsed, &'static str> {
    let n = body.get(..2).ok_or("EncryptedExtensions too short")?;
    let n = u16::from_be_bytes([n[0], n[1]]) as usize;
    let list = body
        .get(2..2 + n)
        .ok_or("EncryptedExtensions shorter than its length")?;
    let (rest, exts) =
        parse_tls_extensions(list).map_err(|_| "EncryptedExtensions do not parse")?;
    if !rest.is_empty() {
        return Err("EncryptedExtensions do not parse");
    }
    let alpn = exts.iter().find_map(|e| match e {
        TlsExtension::ALPN(p) => p.first().map(|p| lossy(p)),
        _ => None,
    });
    Ok(Parsed::EncryptedExtensions { alpn })
}

fn u24(b: &[u8]) -> usize {
    (b[0] as usize) << 16 | (b[1] as usize) << 8 | b[2] as usize
}

/// RFC 8446 4.4.2: context<0..255>, certificate_list<0..2^24-1> of
/// { cert_data<1..2^24-1>, extensions<0..2^16-1> }.
fn certificate13(body: &[u8]) -> Result<Parsed, &'static str> {
    const SHORT: &str = "Certificate shorter than its lengths";
    let ctx = *body.first().ok_or(SHORT)? as usize;
    let list_len = u24(body.get(1 + ctx..4 + ctx).ok_or(SHORT)?);
    let mut list = body.get(4 + ctx..4 + ctx + list_len).ok_or(SHORT)?;
    let mut first = None;
    let mut chain_len = 0;
    while !list.is_empty() {
        let n = u24(list.get(..3).ok_or(SHORT)?);
        let cert = list.get(3..3 + n).ok_or(SHORT)?;
        let e = list.get(3 + n..5 + n).ok_or(SHORT)?;
        let e = u16::from_be_bytes([e[0], e[1]]) as usize;
        list = list.get(5 + n + e..).ok_or(SHORT)?;
        first.get_or_insert(cert);
        chain_len += 1;
    }
    let (subject, issuer) = first.map_or((None, None), names);
    Ok(Parsed::Certificate {
        subject,
        issuer,
        chain_len,
    })
}

/// Subject and issuer of a DER certificate (RFC 4514 strings), if it parses.
fn names(der: &[u8]) -> (Option<String>, Option<String>) {
    match x509_parser::parse_x509_certificate(der) {
        Ok((_, c)) => (Some(c.subject().to_string()), Some(c.issuer().to_string())),
        Err(_) => (None, None),
    }
}
