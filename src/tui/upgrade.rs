//! The protocol knowledge the detail panel teaches beyond the checklist
//! (which the HTTP layer computes once, `ws_handshake`'s `checks`): the
//! Sec-WebSocket-Accept derivation (§4.2.2 step 5.4) and the close codes
//! that never go on the wire (§7.4).

pub use wsscope::http::{accept_steps, WS_GUID};

/// True for codes that RFC 6455 forbids on the wire (§7.4.1, §7.4.2).
pub fn close_code_forbidden_on_wire(code: u16) -> bool {
    wsscope::ws::close::close_code_class(code) == wsscope::ws::close::CloseCodeClass::Invalid
}

#[cfg(test)]
mod tests {
    use super::*;
    use wsscope::ws::close_code_meaning;

    #[test]
    fn close_code_table() {
        for (code, starts, forbidden) in [
            (1000, "Normal Closure", false),
            (1001, "Going Away", false),
            (1002, "Protocol Error", false),
            (1005, "No Status", true),
            (1006, "Abnormal", true),
            (1015, "TLS", true),
            (999, "not used", true),
            (3000, "registered", false),
            (4999, "private", false),
            (5000, "invalid", true),
        ] {
            assert!(close_code_meaning(code).starts_with(starts), "{code}");
            assert_eq!(close_code_forbidden_on_wire(code), forbidden, "{code}");
        }
    }
}
