//! The protocol knowledge the detail panel explains: the Upgrade requirement
//! checklist (RFC 6455 §4.1, §4.2.2), the Sec-WebSocket-Accept derivation
//! (§4.2.2 step 5.4) and the meaning of close codes (§7.4.1, IANA registry).

use wsscope::analysis::{Event, EventKind, Header};
pub use wsscope::http::{accept_steps, key_is_valid, WS_GUID};
pub use wsscope::ws::close_code_meaning;

use super::store::header_has_token;

/// One requirement of the upgrade: met, broken, or not known yet (`None`,
/// e.g. no response captured).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// What is required.
    pub label: &'static str,
    /// The RFC section that requires it.
    pub rfc: &'static str,
    /// Met or not; `None` when the message it concerns was not seen.
    pub ok: Option<bool>,
    /// What was actually seen.
    pub seen: String,
}

fn header<'a>(headers: &'a [Header], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The handshake pieces of one connection, found among its events.
#[derive(Clone, Copy, Debug, Default)]
pub struct Handshake<'a> {
    /// The (first) request that asked for the upgrade.
    pub request: Option<&'a Event>,
    /// The response to it.
    pub response: Option<&'a Event>,
    /// The analyzer's verdict.
    pub outcome: Option<&'a Event>,
}

impl<'a> Handshake<'a> {
    /// Picks the first request, response and `ws_handshake` out of `events`.
    pub fn find(events: impl IntoIterator<Item = &'a Event>) -> Handshake<'a> {
        let mut h = Handshake::default();
        for ev in events {
            match ev.kind {
                EventKind::HttpRequest { .. } if h.request.is_none() => h.request = Some(ev),
                EventKind::HttpResponse { .. } if h.response.is_none() => h.response = Some(ev),
                EventKind::WsHandshake { .. } if h.outcome.is_none() => h.outcome = Some(ev),
                _ => {}
            }
        }
        h
    }
}

/// The upgrade checklist: each requirement of a client's opening handshake
/// (§4.1) and of the server's answer (§4.2.2), checked against what was seen.
pub fn checklist(h: &Handshake) -> Vec<Check> {
    let mut out = Vec::new();
    let mut push = |label, rfc, ok: Option<bool>, seen: String| {
        out.push(Check {
            label,
            rfc,
            ok,
            seen,
        })
    };
    match h.request.map(|e| &e.kind) {
        Some(EventKind::HttpRequest {
            method,
            version,
            headers,
            ..
        }) => {
            push(
                "method is GET",
                "§4.1 (2)",
                Some(method == "GET"),
                method.clone(),
            );
            push(
                "HTTP/1.1 or later",
                "§4.1 (2)",
                Some(version == "HTTP/1.1" || version.starts_with("HTTP/2") || version == "HTTP/3"),
                version.clone(),
            );
            let host = header(headers, "host");
            push(
                "Host header",
                "§4.1 (4)",
                Some(host.is_some()),
                host.unwrap_or("missing").into(),
            );
            push(
                "Upgrade: websocket",
                "§4.1 (5)",
                Some(header_has_token(headers, "upgrade", "websocket")),
                header(headers, "upgrade").unwrap_or("missing").into(),
            );
            push(
                "Connection: Upgrade",
                "§4.1 (6)",
                Some(header_has_token(headers, "connection", "upgrade")),
                header(headers, "connection").unwrap_or("missing").into(),
            );
            let key = header(headers, "sec-websocket-key");
            push(
                "Sec-WebSocket-Key: base64 of 16 bytes",
                "§4.1 (7)",
                Some(key.is_some_and(key_is_valid)),
                key.unwrap_or("missing").into(),
            );
            let version = header(headers, "sec-websocket-version");
            push(
                "Sec-WebSocket-Version: 13",
                "§4.1 (9)",
                Some(version.is_some_and(|v| v.trim() == "13")),
                version.unwrap_or("missing").into(),
            );
        }
        _ => push("an HTTP request", "§4.1", None, "not captured".into()),
    }
    match h.response.map(|e| &e.kind) {
        Some(EventKind::HttpResponse {
            status, headers, ..
        }) => {
            push(
                "status 101",
                "§4.2.2 (5.1)",
                Some(*status == 101),
                status.to_string(),
            );
            push(
                "response Upgrade: websocket",
                "§4.2.2 (5.2)",
                Some(header_has_token(headers, "upgrade", "websocket")),
                header(headers, "upgrade").unwrap_or("missing").into(),
            );
            push(
                "response Connection: Upgrade",
                "§4.2.2 (5.3)",
                Some(header_has_token(headers, "connection", "upgrade")),
                header(headers, "connection").unwrap_or("missing").into(),
            );
            let accept = header(headers, "sec-websocket-accept");
            let key = h.request.and_then(|r| match &r.kind {
                EventKind::HttpRequest { headers, .. } => header(headers, "sec-websocket-key"),
                _ => None,
            });
            let ok = match (key, accept) {
                (Some(k), Some(a)) => Some(accept_steps(k).accept == a.trim()),
                (None, Some(_)) => None,
                (_, None) => Some(false),
            };
            push(
                "Sec-WebSocket-Accept matches key",
                "§4.2.2 (5.4)",
                ok,
                accept.unwrap_or("missing").into(),
            );
        }
        _ => push("an HTTP response", "§4.2.2", None, "not captured".into()),
    }
    out
}

/// True for codes that RFC 6455 forbids on the wire (§7.4.1, §7.4.2).
pub fn close_code_forbidden_on_wire(code: u16) -> bool {
    wsscope::ws::close::close_code_class(code) == wsscope::ws::close::CloseCodeClass::Invalid
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find<'a>(events: &'a [Event], conn: u64) -> Handshake<'a> {
        Handshake::find(events.iter().filter(|e| e.conn == conn))
    }

    fn verdicts(checks: &[Check]) -> Vec<(&'static str, Option<bool>)> {
        checks.iter().map(|c| (c.label, c.ok)).collect()
    }

    #[test]
    fn checklist_of_a_good_upgrade_is_all_ticks() {
        let events = crate::tui::fixtures::session();
        let checks = checklist(&find(&events, 1));
        assert_eq!(checks.len(), 11);
        assert!(checks.iter().all(|c| c.ok == Some(true)), "{checks:#?}");
    }

    #[test]
    fn checklist_names_each_broken_requirement() {
        let mut events = crate::tui::fixtures::session();
        for e in events.iter_mut().filter(|e| e.conn == 1) {
            match &mut e.kind {
                EventKind::HttpRequest {
                    method, headers, ..
                } => {
                    *method = "POST".into();
                    headers.retain(|(n, _)| n != "Connection");
                    for (n, v) in headers.iter_mut() {
                        if n == "Sec-WebSocket-Version" {
                            *v = "8".into();
                        }
                        if n == "Sec-WebSocket-Key" {
                            *v = "c2hvcnQ=".into();
                        }
                    }
                }
                EventKind::HttpResponse { headers, .. } => {
                    for (n, v) in headers.iter_mut() {
                        if n == "Sec-WebSocket-Accept" {
                            *v = "AAAAAAAAAAAAAAAAAAAAAAAAAAA=".into();
                        }
                    }
                }
                _ => {}
            }
        }
        let bad: Vec<_> = verdicts(&checklist(&find(&events, 1)))
            .into_iter()
            .filter(|(_, ok)| *ok != Some(true))
            .map(|(l, _)| l)
            .collect();
        assert_eq!(
            bad,
            [
                "method is GET",
                "Connection: Upgrade",
                "Sec-WebSocket-Key: base64 of 16 bytes",
                "Sec-WebSocket-Version: 13",
                "Sec-WebSocket-Accept matches key",
            ]
        );
    }

    #[test]
    fn checklist_without_a_response_is_unknown_not_failed() {
        let events: Vec<Event> = crate::tui::fixtures::session()
            .into_iter()
            .filter(|e| !matches!(e.kind, EventKind::HttpResponse { .. }))
            .collect();
        let checks = checklist(&find(&events, 1));
        let last = checks.last().map(|c| (c.label, c.ok));
        assert_eq!(last, Some(("an HTTP response", None)));
        assert!(checks.iter().take(7).all(|c| c.ok == Some(true)));
        let none: Vec<Event> = Vec::new();
        assert_eq!(
            verdicts(&checklist(&find(&none, 1))),
            [("an HTTP request", None), ("an HTTP response", None)]
        );
    }

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
