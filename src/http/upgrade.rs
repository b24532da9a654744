//! The RFC 6455 §4 opening-handshake requirements, checked on a captured request and
//! response, and the RFC 7692 permessage-deflate parameters the server accepted.
//!
//! A server that answers anything but 101 (400, 403, 426 with the versions it supports, a
//! redirect, a plain 200) has refused or ignored the upgrade: HTTP allows that, so it is not
//! a violation; [`Upgrade::ok`] is false and [`Upgrade::reason`] says why. Violations are the
//! rules a peer broke: the request's in [`check_request`], the response's (only checked on a
//! 101) in [`Upgrade::violations`].
//!
//! Messages and details quote wire text only after [`crate::text::safe`], cut short, so they
//! are already terminal-safe.

use super::accept::trim_ows;
use super::{accept_for, key_is_valid, RequestHead, ResponseHead};

use super::rules;
use crate::rules::Rule;
use crate::rules::Violation;
/// The parameters are the WebSocket decoder's: the handshake only finds them.
pub use crate::ws::DeflateParams;

/// One requirement of the handshake, passed or not: the checklist taught by `--explain`
/// and the TUI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// The requirement, e.g. `"method is GET"`.
    pub name: &'static str,
    /// Where it comes from, e.g. `"RFC 6455 4.2.1"`.
    pub rfc: &'static str,
    /// Whether the handshake met it.
    pub ok: bool,
    /// What was seen, e.g. `"GET"` or `"no Host header"`.
    pub detail: String,
}

/// One element of a `Sec-WebSocket-Extensions` list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extension {
    /// The element as on the wire, trimmed, e.g. `permessage-deflate; client_max_window_bits=12`.
    pub raw: String,
    /// The extension token, e.g. `permessage-deflate`.
    pub name: String,
    /// Parameters in order: name and value (quotes removed), or no value.
    pub params: Vec<(String, Option<String>)>,
}

/// The outcome of an opening handshake.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upgrade {
    /// The request's `Sec-WebSocket-Key` (trimmed), if any.
    pub key: Option<String>,
    /// The response's `Sec-WebSocket-Accept` (trimmed), if any.
    pub accept: Option<String>,
    /// The Accept the key calls for, computed from the key as sent (valid or not); None
    /// without a key.
    pub expected_accept: Option<String>,
    /// The response's Accept equals `expected_accept`.
    pub accept_ok: bool,
    /// The request's `Sec-WebSocket-Version`, if any.
    pub version: Option<String>,
    /// The versions a refusing server listed in its `Sec-WebSocket-Version` (426).
    pub server_versions: Vec<String>,
    /// Extensions the server accepted, one string per extension as on the wire.
    pub extensions: Vec<String>,
    /// Extensions the client offered, one string per offer as on the wire.
    pub offered_extensions: Vec<String>,
    /// The subprotocol the server accepted.
    pub subprotocol: Option<String>,
    /// The subprotocols the client offered.
    pub offered_subprotocols: Vec<String>,
    /// The server switched protocols (status 101): what follows is WebSocket, whatever
    /// the checks say.
    pub switched: bool,
    /// The upgrade succeeded: a 101 that passes every client-side check of RFC 6455 §4.1.
    pub ok: bool,
    /// The response status.
    pub status: u16,
    /// One sentence: why the upgrade did not succeed (None when `ok`).
    pub reason: Option<String>,
    /// permessage-deflate was accepted, with these parameters (invalid ones left out).
    pub deflate: Option<DeflateParams>,
    /// Every requirement, request and response side, passed or not.
    pub checks: Vec<Check>,
    /// The response-side requirements that failed (request side: [`check_request`]).
    pub violations: Vec<Violation>,
}

/// The checklist being built: each check, with the violation when it failed and is one.
#[derive(Default)]
struct List {
    checks: Vec<Check>,
    violations: Vec<Violation>,
}

impl List {
    /// Records a requirement; when it fails and `code` gives one, also a violation.
    fn check(
        &mut self,
        name: &'static str,
        rfc: &'static str,
        ok: bool,
        detail: String,
        code: impl FnOnce() -> Option<(Rule, String)>,
    ) {
        // The violation's sentence is only written for a check that failed.
        if !ok {
            if let Some((code, message)) = code() {
                self.violations.push(Violation::new(code, message));
            }
        }
        self.checks.push(Check {
            name,
            rfc,
            ok,
            detail,
        });
    }
}

/// Wire text for a message: terminal-safe, at most 60 characters.
fn quote(s: &str) -> String {
    // One allocation: this runs for every check of every handshake.
    let cut = s.char_indices().nth(60).map(|(i, _)| i);
    let head = s.get(..cut.unwrap_or(s.len())).unwrap_or(s);
    let mut out = String::with_capacity(head.len() + 5);
    out.push('"');
    crate::text::push_safe(&mut out, head);
    if cut.is_some() {
        out.push('…');
    }
    out.push('"');
    out
}

fn list_detail(values: &[&str]) -> String {
    if values.is_empty() {
        "absent".to_string()
    } else {
        values
            .iter()
            .map(|v| quote(v))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Whether `version` (`HTTP/x.y`) is HTTP/1.1 or later.
fn at_least_1_1(version: &str) -> bool {
    let Some((major, minor)) = version
        .strip_prefix("HTTP/")
        .and_then(|v| v.split_once('.'))
    else {
        return false;
    };
    match (major.parse::<u32>(), minor.parse::<u32>()) {
        (Ok(major), Ok(minor)) => (major, minor) >= (1, 1),
        _ => false,
    }
}

const R_421: &str = "RFC 6455 4.2.1";

fn request_list(req: &RequestHead) -> List {
    let mut l = List::default();
    let get = req.method == "GET";
    l.check("method is GET", R_421, get, quote(&req.method), || {
        Some((
            rules::UPGRADE_METHOD_NOT_GET,
            format!(
                "The upgrade request's method is {}, not GET.",
                quote(&req.method)
            ),
        ))
    });
    let v11 = at_least_1_1(&req.version);
    l.check(
        "HTTP version is 1.1 or later",
        R_421,
        v11,
        quote(&req.version),
        || {
            Some((
                rules::UPGRADE_HTTP_VERSION,
                format!(
                    "The upgrade request is {}; a WebSocket handshake needs HTTP/1.1 or later.",
                    quote(&req.version)
                ),
            ))
        },
    );
    let hosts: Vec<&str> = req.headers_all("host").collect();
    l.check(
        "Host header present",
        R_421,
        !hosts.is_empty(),
        list_detail(&hosts),
        || {
            Some((
                rules::UPGRADE_MISSING_HOST,
                "The upgrade request has no Host header.".to_string(),
            ))
        },
    );
    let upgrades: Vec<&str> = req.headers_all("upgrade").collect();
    l.check(
        "Upgrade: websocket",
        R_421,
        req.has_token("upgrade", "websocket"),
        list_detail(&upgrades),
        || {
            Some((
                rules::UPGRADE_MISSING_UPGRADE_WEBSOCKET,
                format!(
                    "The upgrade request's Upgrade header does not list websocket (it is {}).",
                    list_detail(&upgrades)
                ),
            ))
        },
    );
    let connections: Vec<&str> = req.headers_all("connection").collect();
    l.check(
        "Connection: Upgrade",
        R_421,
        req.has_token("connection", "upgrade"),
        list_detail(&connections),
        || Some((
            rules::UPGRADE_MISSING_CONNECTION_UPGRADE,
            format!(
                "The upgrade request's Connection header does not hold the token Upgrade (it is {}).",
                list_detail(&connections)
            ),
        )),
    );
    let versions: Vec<&str> = req.headers_all("sec-websocket-version").collect();
    let version_ok = versions.len() == 1 && versions.iter().all(|v| trim_ows(v) == "13");
    l.check(
        "Sec-WebSocket-Version: 13",
        R_421,
        version_ok,
        list_detail(&versions),
        || {
            Some((
                rules::UPGRADE_BAD_VERSION,
                if versions.is_empty() {
                    "The upgrade request has no Sec-WebSocket-Version header (it must be 13)."
                        .into()
                } else {
                    format!(
                        "The upgrade request's Sec-WebSocket-Version is {}, not 13.",
                        list_detail(&versions)
                    )
                },
            ))
        },
    );
    let keys: Vec<&str> = req.headers_all("sec-websocket-key").collect();
    l.check(
        "Sec-WebSocket-Key present",
        R_421,
        !keys.is_empty(),
        list_detail(&keys),
        || {
            Some((
                rules::UPGRADE_MISSING_KEY,
                "The upgrade request has no Sec-WebSocket-Key header.".to_string(),
            ))
        },
    );
    let key = keys.first().map(|k| trim_ows(k));
    let key_ok = key.is_some_and(key_is_valid);
    l.check(
        "Sec-WebSocket-Key is the base64 of 16 bytes",
        R_421,
        key_ok,
        key.map_or_else(|| "absent".to_string(), quote),
        || key.map(|k| {
            (
                rules::UPGRADE_BAD_KEY,
                format!(
                    "The Sec-WebSocket-Key {} is not the base64 of 16 bytes (24 characters ending in ==).",
                    quote(k)
                ),
            )
        }),
    );
    l.check(
        "Sec-WebSocket-Key appears once",
        "RFC 6455 11.3.1",
        keys.len() <= 1,
        format!("{} header(s)", keys.len()),
        || {
            Some((
                rules::UPGRADE_DUPLICATE_KEY,
                format!(
                    "The upgrade request has {} Sec-WebSocket-Key headers; at most one is allowed.",
                    keys.len()
                ),
            ))
        },
    );
    l
}

/// The RFC 6455 §4.2.1 requirements of the client's request, each passed or not.
pub fn request_checks(req: &RequestHead) -> Vec<Check> {
    request_list(req).checks
}

/// The RFC 6455 §4.2.1 requirements the client's request breaks, one violation each
/// (codes `upgrade_method_not_get`, `upgrade_http_version`, `upgrade_missing_host`,
/// `upgrade_missing_upgrade_websocket`, `upgrade_missing_connection_upgrade`,
/// `upgrade_bad_version`, `upgrade_missing_key`, `upgrade_bad_key`, `upgrade_duplicate_key`).
pub fn check_request(req: &RequestHead) -> Vec<Violation> {
    request_list(req).violations
}

/// The request's checklist and the violations among it, computed once.
pub fn request_checks_and_violations(req: &RequestHead) -> (Vec<Check>, Vec<Violation>) {
    let l = request_list(req);
    (l.checks, l.violations)
}

/// Splits `s` at `sep`, except inside quoted strings (with `\` escapes).
fn split_outside_quotes(s: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if quoted && c == '\\' {
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
        } else if c == sep && !quoted {
            parts.push(&s[start..i]);
            start = i + c.len_utf8();
        }
    }
    parts.push(&s[start..]);
    parts
}

fn unquote(v: &str) -> String {
    match v.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        Some(inner) => {
            let mut out = String::with_capacity(inner.len());
            let mut escaped = false;
            for c in inner.chars() {
                if !escaped && c == '\\' {
                    escaped = true;
                } else {
                    escaped = false;
                    out.push(c);
                }
            }
            out
        }
        None => v.to_string(),
    }
}

/// Parses `Sec-WebSocket-Extensions` values (RFC 6455 §9.1): every comma-separated element
/// of every value, in order; empty elements are skipped.
pub fn parse_extensions<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<Extension> {
    let mut out = Vec::new();
    for value in values {
        for element in split_outside_quotes(value, ',') {
            let raw = trim_ows(element);
            if raw.is_empty() {
                continue;
            }
            let mut parts = split_outside_quotes(raw, ';').into_iter();
            let name = trim_ows(parts.next().unwrap_or_default()).to_string();
            let params = parts
                .map(trim_ows)
                .filter(|p| !p.is_empty())
                .map(|p| match p.split_once('=') {
                    Some((n, v)) => (trim_ows(n).to_string(), Some(unquote(trim_ows(v)))),
                    None => (p.to_string(), None),
                })
                .collect();
            out.push(Extension {
                raw: raw.to_string(),
                name,
                params,
            });
        }
    }
    out
}

/// A window-bits value of a response: a decimal 8..=15 without leading zeros (RFC 7692 §7.1.2).
fn window_bits(v: &str) -> Option<u8> {
    if v.starts_with('0') || v.len() > 2 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse::<u8>().ok().filter(|b| (8..=15).contains(b))
}

/// The parameters of a permessage-deflate element of a server's response, and the
/// RFC 7692 §7 rules it breaks (`deflate_bad_params`): an unknown parameter, a value
/// where none belongs or a missing one, window bits outside 8..=15, a parameter twice,
/// or `client_max_window_bits` the client did not offer. Invalid parameters are left
/// out of the result.
pub fn deflate_params(ext: &Extension, offers: &[Extension]) -> (DeflateParams, Vec<Violation>) {
    let mut p = DeflateParams::default();
    let mut problems = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for (name, value) in &ext.params {
        let lname = name.to_ascii_lowercase();
        if seen.contains(&lname.as_str()) {
            problems.push(format!("the parameter {} appears twice", quote(name)));
            continue;
        }
        let known = [
            "server_no_context_takeover",
            "client_no_context_takeover",
            "server_max_window_bits",
            "client_max_window_bits",
        ];
        let Some(known) = known.iter().find(|k| **k == lname) else {
            problems.push(format!("the parameter {} is not defined", quote(name)));
            continue;
        };
        seen.push(known);
        match (*known, value.as_deref()) {
            ("server_no_context_takeover", None) => p.server_no_context_takeover = true,
            ("client_no_context_takeover", None) => p.client_no_context_takeover = true,
            ("server_max_window_bits" | "client_max_window_bits", Some(v)) => {
                let Some(bits) = window_bits(v) else {
                    problems.push(format!("{known}={} is not 8 to 15", quote(v)));
                    continue;
                };
                if *known == "server_max_window_bits" {
                    p.server_max_window_bits = Some(bits);
                } else {
                    let offered = offers.iter().any(|o| {
                        o.name.eq_ignore_ascii_case("permessage-deflate")
                            && o.params
                                .iter()
                                .any(|(n, _)| n.eq_ignore_ascii_case("client_max_window_bits"))
                    });
                    if offered {
                        p.client_max_window_bits = Some(bits);
                    } else {
                        problems.push(
                            "client_max_window_bits is in the response though the client did not offer it"
                                .to_string(),
                        );
                    }
                }
            }
            (k, Some(v)) => problems.push(format!("{k} takes no value (got {})", quote(v))),
            (k, None) => problems.push(format!("{k} needs a value")),
        }
    }
    let violations = problems
        .into_iter()
        .map(|what| {
            Violation::new(
                rules::DEFLATE_BAD_PARAMS,
                format!("The server's permessage-deflate response is invalid: {what}."),
            )
        })
        .collect();
    (p, violations)
}

const R_41: &str = "RFC 6455 4.1";

/// Canonical phrases of the statuses a refused upgrade commonly carries (the wire's reason
/// phrase is not quoted in sentences).
fn status_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "",
    }
}

fn refusal(status: u16, server_versions: &[String]) -> String {
    let phrase = status_phrase(status);
    let sp = if phrase.is_empty() { "" } else { " " };
    match status {
        426 => {
            let digits: Vec<&str> = server_versions
                .iter()
                .map(|v| v.as_str())
                .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                .collect();
            if digits.is_empty() {
                "The server refused the upgrade with 426 Upgrade Required.".to_string()
            } else {
                format!(
                    "The server refused the upgrade with 426 Upgrade Required; it supports Sec-WebSocket-Version {}.",
                    digits.join(", ")
                )
            }
        }
        400..=599 => format!("The server refused the upgrade with {status}{sp}{phrase}."),
        _ => format!(
            "The server answered {status}{sp}{phrase} instead of 101 Switching Protocols, so the connection stays HTTP."
        ),
    }
}

/// Checks a handshake: the request's requirements (as checks only; their violations come
/// from [`check_request`]) and, on a 101, the client-side checks of the response (RFC 6455
/// §4.1, §4.2.2; RFC 7692 §7). Any status but 101 is a refused upgrade: `ok` false with the
/// reason, not a violation.
///
/// Response violation codes: `response_missing_upgrade`, `response_missing_connection`,
/// `accept_missing`, `accept_mismatch`, `accept_duplicate`, `extension_not_offered`,
/// `subprotocol_not_offered`, `deflate_bad_params`.
pub fn check_upgrade(req: &RequestHead, resp: &ResponseHead) -> Upgrade {
    let request = request_list(req);
    let mut l = List {
        checks: request.checks,
        violations: Vec::new(),
    };
    let key = req
        .header("sec-websocket-key")
        .map(|k| trim_ows(k).to_string());
    // Computed from the key as sent, valid or not, as servers do: an invalid key is the
    // request's violation (`upgrade_bad_key`), not a reason to distrust a matching Accept.
    let expected_accept = key.as_deref().filter(|k| !k.is_empty()).map(accept_for);
    let accepts: Vec<&str> = resp.headers_all("sec-websocket-accept").collect();
    let accept = accepts.first().map(|a| trim_ows(a).to_string());
    let accept_ok = accept.is_some() && accept == expected_accept;
    let version = req
        .header("sec-websocket-version")
        .map(|v| trim_ows(v).to_string());
    let offers = parse_extensions(req.headers_all("sec-websocket-extensions"));
    let offered_subprotocols: Vec<String> = req
        .headers_all("sec-websocket-protocol")
        .flat_map(|v| v.split(','))
        .map(trim_ows)
        .filter(|p| !p.is_empty())
        .map(String::from)
        .collect();
    let switched = resp.status == 101;
    l.check(
        "status is 101 Switching Protocols",
        R_41,
        switched,
        resp.status.to_string(),
        || None,
    );

    let mut up = Upgrade {
        key,
        accept,
        expected_accept,
        accept_ok,
        version,
        server_versions: Vec::new(),
        extensions: Vec::new(),
        offered_extensions: offers.iter().map(|e| e.raw.clone()).collect(),
        subprotocol: None,
        offered_subprotocols,
        switched,
        ok: false,
        status: resp.status,
        reason: None,
        deflate: None,
        checks: Vec::new(),
        violations: Vec::new(),
    };

    if !switched {
        up.server_versions = resp
            .headers_all("sec-websocket-version")
            .flat_map(|v| v.split(','))
            .map(trim_ows)
            .filter(|v| !v.is_empty())
            .map(String::from)
            .collect();
        up.reason = Some(refusal(resp.status, &up.server_versions));
        up.checks = l.checks;
        return up;
    }

    let upgrades: Vec<&str> = resp.headers_all("upgrade").collect();
    l.check(
        "response Upgrade: websocket",
        R_41,
        resp.has_token("upgrade", "websocket"),
        list_detail(&upgrades),
        || {
            Some((
                rules::RESPONSE_MISSING_UPGRADE,
                format!(
                    "The 101 response's Upgrade header does not name websocket (it is {}).",
                    list_detail(&upgrades)
                ),
            ))
        },
    );
    let connections: Vec<&str> = resp.headers_all("connection").collect();
    l.check(
        "response Connection: Upgrade",
        R_41,
        resp.has_token("connection", "upgrade"),
        list_detail(&connections),
        || {
            Some((
                rules::RESPONSE_MISSING_CONNECTION,
                format!(
                "The 101 response's Connection header does not hold the token Upgrade (it is {}).",
                list_detail(&connections)
            ),
            ))
        },
    );
    l.check(
        "Sec-WebSocket-Accept present",
        R_41,
        !accepts.is_empty(),
        list_detail(&accepts),
        || {
            Some((
                rules::ACCEPT_MISSING,
                "The 101 response has no Sec-WebSocket-Accept header.".to_string(),
            ))
        },
    );
    if let Some(accept) = up.accept.as_deref() {
        let (detail, code) = match up.expected_accept.as_deref() {
            Some(expected) => (
                format!("{} (expected {})", quote(accept), quote(expected)),
                Some((
                    rules::ACCEPT_MISMATCH,
                    format!(
                        "The Sec-WebSocket-Accept {} does not match the key: it should be {}.",
                        quote(accept),
                        quote(expected)
                    ),
                )),
            ),
            // The request's own check already reports a missing or invalid key.
            None => (
                "the request has no valid key to check it against".to_string(),
                None,
            ),
        };
        l.check(
            "Sec-WebSocket-Accept matches the key",
            R_41,
            up.accept_ok,
            detail,
            || code,
        );
    }
    l.check(
        "Sec-WebSocket-Accept appears once",
        "RFC 6455 11.3.3",
        accepts.len() <= 1,
        format!("{} header(s)", accepts.len()),
        || {
            Some((
                rules::ACCEPT_DUPLICATE,
                format!(
                    "The 101 response has {} Sec-WebSocket-Accept headers; at most one is allowed.",
                    accepts.len()
                ),
            ))
        },
    );

    let accepted = parse_extensions(resp.headers_all("sec-websocket-extensions"));
    for ext in &accepted {
        let offered = offers
            .iter()
            .any(|o| o.name.eq_ignore_ascii_case(&ext.name));
        l.check(
            "accepted extension was offered",
            R_41,
            offered,
            quote(&ext.raw),
            || {
                Some((
                    rules::EXTENSION_NOT_OFFERED,
                    format!(
                        "The server accepted the extension {}, which the client did not offer.",
                        quote(&ext.name)
                    ),
                ))
            },
        );
    }
    let deflates: Vec<&Extension> = accepted
        .iter()
        .filter(|e| e.name.eq_ignore_ascii_case("permessage-deflate"))
        .collect();
    if let Some(first) = deflates.first() {
        let (params, mut problems) = deflate_params(first, &offers);
        if deflates.len() > 1 {
            problems.push(Violation::new(
                rules::DEFLATE_BAD_PARAMS,
                "The server accepted permessage-deflate more than once.",
            ));
        }
        let detail = if problems.is_empty() {
            quote(&first.raw)
        } else {
            problems
                .iter()
                .map(|v| v.message.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        };
        l.checks.push(Check {
            name: "permessage-deflate parameters valid",
            rfc: "RFC 7692 7.1",
            ok: problems.is_empty(),
            detail,
        });
        l.violations.extend(problems);
        up.deflate = Some(params);
    }
    up.extensions = accepted.iter().map(|e| e.raw.clone()).collect();

    let protocols: Vec<&str> = resp
        .headers_all("sec-websocket-protocol")
        .map(trim_ows)
        .filter(|p| !p.is_empty())
        .collect();
    if !protocols.is_empty() {
        let chosen = protocols.join(", ");
        let offered = protocols.len() == 1 && up.offered_subprotocols.contains(&chosen);
        l.check(
            "accepted subprotocol was offered",
            R_41,
            offered,
            quote(&chosen),
            || {
                Some((
                    rules::SUBPROTOCOL_NOT_OFFERED,
                    format!(
                        "The server chose the subprotocol {}, which is not one the client offered.",
                        quote(&chosen)
                    ),
                ))
            },
        );
        up.subprotocol = Some(chosen);
    }

    up.ok = l.violations.is_empty() && up.accept_ok;
    if !up.ok {
        up.reason = Some(match l.violations.first() {
            Some(v) => v.message.clone(),
            None => "The request has no Sec-WebSocket-Key, so the Sec-WebSocket-Accept cannot be checked.".to_string(),
        });
    }
    up.checks = l.checks;
    up.violations = l.violations;
    up
}

#[cfg(test)]
#[path = "upgrade_tests.rs"]
mod tests;
