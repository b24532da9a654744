//! Close frames: the status code and reason (RFC 6455 5.5.1, 7.4).

/// What a close code is allowed to be on the wire (RFC 6455 7.4.1, 7.4.2 and the IANA registry).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseCodeClass {
    /// Defined by RFC 6455 or registered with IANA, allowed on the wire.
    Valid,
    /// 3000-3999 (registered with IANA) or 4000-4999 (private use).
    Application,
    /// Reserved, or designated "MUST NOT be set in a Close frame" (1004-1006, 1015),
    /// or outside every allowed range (<1000, 1016-2999, >= 5000).
    Invalid,
}

/// Classifies a close code as received on the wire.
pub fn close_code_class(code: u16) -> CloseCodeClass {
    match code {
        1000..=1003 | 1007..=1014 => CloseCodeClass::Valid,
        3000..=4999 => CloseCodeClass::Application,
        _ => CloseCodeClass::Invalid,
    }
}

/// What a close code means (RFC 6455 7.4.1, 7.4.2 and the IANA registry), for
/// violation messages, the TUI and `--explain`.
pub fn close_code_meaning(code: u16) -> &'static str {
    match code {
        1000 => "Normal Closure: the purpose of the connection was fulfilled",
        1001 => "Going Away: a server going down or a browser leaving the page",
        1002 => "Protocol Error: the endpoint received a frame that breaks the protocol",
        1003 => "Unsupported Data: a type of data the endpoint cannot accept",
        1004 => "Reserved: no meaning defined, must not be sent",
        1005 => "No Status Received: stands for an empty close, must not be sent",
        1006 => "Abnormal Closure: the connection ended without a close frame, must not be sent",
        1007 => "Invalid Frame Payload Data: e.g. text that is not UTF-8",
        1008 => "Policy Violation: a message that breaks the endpoint's policy",
        1009 => "Message Too Big: a message too big to process",
        1010 => "Mandatory Extension: the client expected an extension the server did not agree to",
        1011 => "Internal Error: an unexpected condition on the server",
        1012 => "Service Restart (IANA)",
        1013 => "Try Again Later (IANA)",
        1014 => "Bad Gateway (IANA)",
        1015 => "TLS Handshake failure: must not be sent",
        0..=999 => "not used: codes below 1000 are invalid",
        1016..=2999 => "reserved for this protocol and its extensions (unassigned)",
        3000..=3999 => "registered with IANA for libraries, frameworks and applications",
        4000..=4999 => "private use: agreed between the two applications",
        _ => "invalid: not a close code",
    }
}

/// A decoded close payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClosePayload {
    /// The status code, `None` for an empty (or 1-byte) payload.
    pub code: Option<u16>,
    /// The reason bytes, lossily decoded (made safe later, at display).
    pub reason: String,
    /// The payload was one byte long (RFC 6455 5.5.1 forbids it).
    pub one_byte: bool,
    /// Offset in the reason of the first byte that is not valid UTF-8.
    pub invalid_utf8_at: Option<usize>,
}

/// Decodes a close frame payload (at most the bytes kept for a control frame).
pub fn parse_close_payload(p: &[u8]) -> ClosePayload {
    match p {
        [] => ClosePayload {
            code: None,
            reason: String::new(),
            one_byte: false,
            invalid_utf8_at: None,
        },
        [_] => ClosePayload {
            code: None,
            reason: String::new(),
            one_byte: true,
            invalid_utf8_at: None,
        },
        [a, b, rest @ ..] => {
            let invalid_utf8_at = std::str::from_utf8(rest).err().map(|e| e.valid_up_to());
            ClosePayload {
                code: Some(u16::from_be_bytes([*a, *b])),
                reason: String::from_utf8_lossy(rest).into_owned(),
                one_byte: false,
                invalid_utf8_at,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_ranges_follow_rfc6455_7_4() {
        let table: &[(u16, CloseCodeClass)] = &[
            (0, CloseCodeClass::Invalid),
            (999, CloseCodeClass::Invalid),
            (1000, CloseCodeClass::Valid),
            (1003, CloseCodeClass::Valid),
            (1004, CloseCodeClass::Invalid),
            (1005, CloseCodeClass::Invalid),
            (1006, CloseCodeClass::Invalid),
            (1007, CloseCodeClass::Valid),
            (1011, CloseCodeClass::Valid),
            (1012, CloseCodeClass::Valid),
            (1014, CloseCodeClass::Valid),
            (1015, CloseCodeClass::Invalid),
            (1016, CloseCodeClass::Invalid),
            (2999, CloseCodeClass::Invalid),
            (3000, CloseCodeClass::Application),
            (4999, CloseCodeClass::Application),
            (5000, CloseCodeClass::Invalid),
            (65535, CloseCodeClass::Invalid),
        ];
        for (code, class) in table {
            assert_eq!(close_code_class(*code), *class, "code {code}");
        }
        assert_eq!(
            close_code_meaning(1009),
            "Message Too Big: a message too big to process"
        );
        assert!(close_code_meaning(4321).starts_with("private use"));
        assert!(close_code_meaning(2000).starts_with("reserved"));
    }

    #[test]
    fn payload_forms() {
        assert_eq!(parse_close_payload(&[]).code, None);
        assert!(parse_close_payload(&[3]).one_byte);
        let p = parse_close_payload(&[0x03, 0xe8, b'b', b'y', b'e']);
        assert_eq!(
            (p.code, p.reason.as_str(), p.invalid_utf8_at),
            (Some(1000), "bye", None)
        );
        let p = parse_close_payload(&[0x03, 0xe8, b'o', b'k', 0xff]);
        assert_eq!(p.invalid_utf8_at, Some(2));
    }
}
