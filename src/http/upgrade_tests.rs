use super::*;
use crate::http::{HttpItem, HttpParser, Role, DEFAULT_MAX_HEAD_BYTES};

const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

fn owned(h: &[(&str, &str)]) -> Vec<(String, String)> {
    h.iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

fn good_request_headers() -> Vec<(&'static str, &'static str)> {
    vec![
        ("Host", "server.example.com"),
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", KEY),
        ("Origin", "http://example.com"),
        ("Sec-WebSocket-Protocol", "chat, superchat"),
        ("Sec-WebSocket-Version", "13"),
        (
            "Sec-WebSocket-Extensions",
            "permessage-deflate; client_max_window_bits, x-webkit-deflate-frame",
        ),
    ]
}

fn request(method: &str, version: &str, headers: &[(&str, &str)]) -> RequestHead {
    RequestHead {
        method: method.into(),
        target: "/chat".into(),
        version: version.into(),
        headers: owned(headers),
    }
}

/// The good request with header `name` removed (every occurrence) and `add` appended.
fn variant(remove: &[&str], add: &[(&'static str, &'static str)]) -> RequestHead {
    let mut h = good_request_headers();
    h.retain(|(n, _)| !remove.iter().any(|r| r.eq_ignore_ascii_case(n)));
    h.extend_from_slice(add);
    request("GET", "HTTP/1.1", &h)
}

fn response(status: u16, headers: &[(&str, &str)]) -> ResponseHead {
    ResponseHead {
        status,
        reason: "Whatever".into(),
        version: "HTTP/1.1".into(),
        headers: owned(headers),
    }
}

fn good_response_headers() -> Vec<(&'static str, &'static str)> {
    vec![
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Accept", ACCEPT),
    ]
}

fn resp_variant(remove: &[&str], add: &[(&'static str, &'static str)]) -> ResponseHead {
    let mut h = good_response_headers();
    h.retain(|(n, _)| !remove.iter().any(|r| r.eq_ignore_ascii_case(n)));
    h.extend_from_slice(add);
    response(101, &h)
}

fn codes(v: &[Violation]) -> Vec<&'static str> {
    v.iter().map(|v| v.code).collect()
}

#[test]
fn request_requirements_both_ways() {
    let table: Vec<(&str, RequestHead, Vec<&str>)> = vec![
        ("valid", variant(&[], &[]), vec![]),
        (
            "comma lists and mixed case",
            variant(
                &["upgrade", "connection"],
                &[
                    ("upgrade", "WebSocket"),
                    ("CONNECTION", "keep-alive, UPGRADE"),
                ],
            ),
            vec![],
        ),
        (
            "upgrade, keep-alive over two headers",
            variant(
                &["connection"],
                &[("Connection", "keep-alive"), ("Connection", "upgrade")],
            ),
            vec![],
        ),
        (
            "key with spaces around it",
            variant(
                &["sec-websocket-key"],
                &[("Sec-WebSocket-Key", " dGhlIHNhbXBsZSBub25jZQ== ")],
            ),
            vec![],
        ),
        (
            "HTTP/2.0 is later",
            {
                let mut r = variant(&[], &[]);
                r.version = "HTTP/2.0".into();
                r
            },
            vec![],
        ),
        (
            "POST",
            {
                let mut r = variant(&[], &[]);
                r.method = "POST".into();
                r
            },
            vec!["upgrade_method_not_get"],
        ),
        (
            "lower-case get",
            {
                let mut r = variant(&[], &[]);
                r.method = "get".into();
                r
            },
            vec!["upgrade_method_not_get"],
        ),
        (
            "HTTP/1.0",
            {
                let mut r = variant(&[], &[]);
                r.version = "HTTP/1.0".into();
                r
            },
            vec!["upgrade_http_version"],
        ),
        (
            "no Host",
            variant(&["host"], &[]),
            vec!["upgrade_missing_host"],
        ),
        (
            "no Upgrade",
            variant(&["upgrade"], &[]),
            vec!["upgrade_missing_upgrade_websocket"],
        ),
        (
            "Upgrade: h2c",
            variant(&["upgrade"], &[("Upgrade", "h2c")]),
            vec!["upgrade_missing_upgrade_websocket"],
        ),
        (
            "Upgrade: websockets",
            variant(&["upgrade"], &[("Upgrade", "websockets")]),
            vec!["upgrade_missing_upgrade_websocket"],
        ),
        (
            "no Connection",
            variant(&["connection"], &[]),
            vec!["upgrade_missing_connection_upgrade"],
        ),
        (
            "Connection: keep-alive",
            variant(&["connection"], &[("Connection", "keep-alive")]),
            vec!["upgrade_missing_connection_upgrade"],
        ),
        (
            "Connection: upgraded",
            variant(&["connection"], &[("Connection", "upgraded")]),
            vec!["upgrade_missing_connection_upgrade"],
        ),
        (
            "no version",
            variant(&["sec-websocket-version"], &[]),
            vec!["upgrade_bad_version"],
        ),
        (
            "version 8",
            variant(
                &["sec-websocket-version"],
                &[("Sec-WebSocket-Version", "8")],
            ),
            vec!["upgrade_bad_version"],
        ),
        (
            "version twice",
            variant(&[], &[("Sec-WebSocket-Version", "13")]),
            vec!["upgrade_bad_version"],
        ),
        (
            "no key",
            variant(&["sec-websocket-key"], &[]),
            vec!["upgrade_missing_key"],
        ),
        (
            "key of 18 bytes",
            variant(
                &["sec-websocket-key"],
                &[("Sec-WebSocket-Key", "c3VyaWNhdGEtdGVzdC1rZXkh")],
            ),
            vec!["upgrade_bad_key"],
        ),
        (
            "key not base64",
            variant(
                &["sec-websocket-key"],
                &[("Sec-WebSocket-Key", "not a key at all")],
            ),
            vec!["upgrade_bad_key"],
        ),
        (
            "two keys",
            variant(&[], &[("Sec-WebSocket-Key", KEY)]),
            vec!["upgrade_duplicate_key"],
        ),
        (
            "several at once",
            request("POST", "HTTP/1.0", &[("Upgrade", "websocket")]),
            vec![
                "upgrade_method_not_get",
                "upgrade_http_version",
                "upgrade_missing_host",
                "upgrade_missing_connection_upgrade",
                "upgrade_bad_version",
                "upgrade_missing_key",
            ],
        ),
    ];
    for (name, req, want) in &table {
        let got = check_request(req);
        assert_eq!(codes(&got), *want, "{name}");
        for v in &got {
            assert!(v.rfc.starts_with("RFC 6455 "), "{name}: {}", v.rfc);
            assert!(v.message.ends_with('.'), "{name}: {}", v.message);
        }
        // The checklist has every requirement; exactly the failed ones are not ok (a
        // missing key fails both key checks but is one violation).
        let checks = request_checks(req);
        assert_eq!(checks.len(), 9, "{name}");
        let failed = checks.iter().filter(|c| !c.ok).count();
        let missing_key = usize::from(want.contains(&"upgrade_missing_key"));
        assert_eq!(failed, want.len() + missing_key, "{name}: {checks:?}");
    }
}

#[test]
fn violation_messages_are_terminal_safe() {
    let mut r = variant(
        &["sec-websocket-key"],
        &[("Sec-WebSocket-Key", "\u{1b}[31mred\u{202e}")],
    );
    r.method = "G\u{1b}T".into();
    for v in check_request(&r) {
        assert!(
            !v.message.chars().any(|c| c.is_control() || c == '\u{202e}'),
            "{v:?}"
        );
    }
}

#[test]
fn a_good_handshake() {
    let up = check_upgrade(
        &variant(&[], &[]),
        &resp_variant(
            &[],
            &[
                ("Sec-WebSocket-Protocol", "chat"),
                (
                    "Sec-WebSocket-Extensions",
                    "permessage-deflate; client_max_window_bits=10",
                ),
            ],
        ),
    );
    assert!(up.ok && up.switched && up.accept_ok, "{up:?}");
    assert_eq!(up.reason, None);
    assert_eq!(up.key.as_deref(), Some(KEY));
    assert_eq!(up.accept.as_deref(), Some(ACCEPT));
    assert_eq!(up.expected_accept.as_deref(), Some(ACCEPT));
    assert_eq!(up.version.as_deref(), Some("13"));
    assert_eq!(up.subprotocol.as_deref(), Some("chat"));
    assert_eq!(up.offered_subprotocols, ["chat", "superchat"]);
    assert_eq!(
        up.offered_extensions,
        [
            "permessage-deflate; client_max_window_bits",
            "x-webkit-deflate-frame"
        ]
    );
    assert_eq!(
        up.extensions,
        ["permessage-deflate; client_max_window_bits=10"]
    );
    assert_eq!(
        up.deflate,
        Some(DeflateParams {
            client_max_window_bits: Some(10),
            ..DeflateParams::default()
        })
    );
    assert!(up.violations.is_empty());
    assert!(up.checks.iter().all(|c| c.ok), "{:?}", up.checks);
    let names: Vec<&str> = up.checks.iter().map(|c| c.name).collect();
    for n in [
        "method is GET",
        "Sec-WebSocket-Key is the base64 of 16 bytes",
        "status is 101 Switching Protocols",
        "Sec-WebSocket-Accept matches the key",
        "accepted subprotocol was offered",
        "accepted extension was offered",
        "permessage-deflate parameters valid",
    ] {
        assert!(names.contains(&n), "{n} missing from {names:?}");
    }
}

#[test]
fn response_requirements_both_ways() {
    let table: Vec<(&str, RequestHead, ResponseHead, Vec<&str>)> = vec![
        ("valid", variant(&[], &[]), resp_variant(&[], &[]), vec![]),
        (
            "mixed case",
            variant(&[], &[]),
            response(
                101,
                &[
                    ("upgrade", "WebSocket"),
                    ("connection", "keep-alive, upgrade"),
                    ("sec-websocket-accept", ACCEPT),
                ],
            ),
            vec![],
        ),
        (
            "no Upgrade",
            variant(&[], &[]),
            resp_variant(&["upgrade"], &[]),
            vec!["response_missing_upgrade"],
        ),
        (
            "Upgrade: h2c",
            variant(&[], &[]),
            resp_variant(&["upgrade"], &[("Upgrade", "h2c")]),
            vec!["response_missing_upgrade"],
        ),
        (
            "no Connection",
            variant(&[], &[]),
            resp_variant(&["connection"], &[]),
            vec!["response_missing_connection"],
        ),
        (
            "no Accept",
            variant(&[], &[]),
            resp_variant(&["sec-websocket-accept"], &[]),
            vec!["accept_missing"],
        ),
        (
            "wrong Accept",
            variant(&[], &[]),
            resp_variant(
                &["sec-websocket-accept"],
                &[("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo")],
            ),
            vec!["accept_mismatch"],
        ),
        (
            "two Accepts",
            variant(&[], &[]),
            resp_variant(&[], &[("Sec-WebSocket-Accept", ACCEPT)]),
            vec!["accept_duplicate"],
        ),
        (
            "extension not offered",
            variant(&[], &[]),
            resp_variant(&[], &[("Sec-WebSocket-Extensions", "x-custom; a=1")]),
            vec!["extension_not_offered"],
        ),
        (
            "deflate never offered",
            variant(&["sec-websocket-extensions"], &[]),
            resp_variant(&[], &[("Sec-WebSocket-Extensions", "permessage-deflate")]),
            vec!["extension_not_offered"],
        ),
        (
            "subprotocol not offered",
            variant(&[], &[]),
            resp_variant(&[], &[("Sec-WebSocket-Protocol", "mqtt")]),
            vec!["subprotocol_not_offered"],
        ),
        (
            "subprotocol when none offered",
            variant(&["sec-websocket-protocol"], &[]),
            resp_variant(&[], &[("Sec-WebSocket-Protocol", "chat")]),
            vec!["subprotocol_not_offered"],
        ),
        (
            "two subprotocols chosen",
            variant(&[], &[]),
            resp_variant(&[], &[("Sec-WebSocket-Protocol", "chat, superchat")]),
            vec!["subprotocol_not_offered"],
        ),
        (
            "subprotocols compare exactly",
            variant(&[], &[]),
            resp_variant(&[], &[("Sec-WebSocket-Protocol", "Chat")]),
            vec!["subprotocol_not_offered"],
        ),
        (
            "bad deflate params",
            variant(&[], &[]),
            resp_variant(
                &[],
                &[(
                    "Sec-WebSocket-Extensions",
                    "permessage-deflate; server_max_window_bits=16",
                )],
            ),
            vec!["deflate_bad_params"],
        ),
    ];
    for (name, req, resp, want) in &table {
        let up = check_upgrade(req, resp);
        assert_eq!(codes(&up.violations), *want, "{name}");
        assert!(up.switched, "{name}");
        assert_eq!(up.ok, want.is_empty(), "{name}");
        assert_eq!(up.reason.is_some(), !want.is_empty(), "{name}");
        if let Some(v) = up.violations.first() {
            assert_eq!(up.reason.as_deref(), Some(v.message.as_str()), "{name}");
        }
        let failed: Vec<&str> = up.checks.iter().filter(|c| !c.ok).map(|c| c.name).collect();
        assert_eq!(failed.len(), want.len(), "{name}: {failed:?}");
    }
}

#[test]
fn accept_without_a_key_and_with_an_invalid_key() {
    let up = check_upgrade(
        &variant(&["sec-websocket-key"], &[]),
        &resp_variant(&[], &[]),
    );
    assert!(!up.ok && !up.accept_ok && up.expected_accept.is_none());
    assert!(
        up.violations.is_empty(),
        "the request side reports the missing key"
    );
    assert!(up.reason.is_some());

    // The key is invalid, but the server computed the Accept from it all the same.
    let key = "c3VyaWNhdGEtdGVzdC1rZXkh";
    let req = variant(&["sec-websocket-key"], &[("Sec-WebSocket-Key", key)]);
    let resp = response(
        101,
        &[
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Accept", "i/Zf3S99/cVt3n5lmMrHSsr5Kqk="),
        ],
    );
    let up = check_upgrade(&req, &resp);
    assert!(up.accept_ok && up.ok, "{up:?}");
    assert_eq!(codes(&check_request(&req)), ["upgrade_bad_key"]);
    assert!(up.checks.iter().any(|c| !c.ok && c.name.contains("base64")));
}

#[test]
fn refused_upgrades_are_not_violations() {
    let table: Vec<(ResponseHead, &str)> = vec![
        (response(400, &[("Content-Length", "0")]), "The server refused the upgrade with 400 Bad Request."),
        (response(403, &[]), "The server refused the upgrade with 403 Forbidden."),
        (
            response(426, &[("Sec-WebSocket-Version", "13, 8"), ("Sec-WebSocket-Version", "7")]),
            "The server refused the upgrade with 426 Upgrade Required; it supports Sec-WebSocket-Version 13, 8, 7.",
        ),
        (response(426, &[]), "The server refused the upgrade with 426 Upgrade Required."),
        (response(418, &[]), "The server refused the upgrade with 418."),
        (
            response(200, &[]),
            "The server answered 200 OK instead of 101 Switching Protocols, so the connection stays HTTP.",
        ),
        (
            response(302, &[("Location", "/elsewhere")]),
            "The server answered 302 Found instead of 101 Switching Protocols, so the connection stays HTTP.",
        ),
    ];
    for (resp, reason) in &table {
        let up = check_upgrade(&variant(&[], &[]), resp);
        assert!(!up.ok && !up.switched, "{}", resp.status);
        assert!(up.violations.is_empty(), "{}", resp.status);
        assert_eq!(up.status, resp.status);
        assert_eq!(up.reason.as_deref(), Some(*reason));
        assert!(up.extensions.is_empty() && up.subprotocol.is_none() && up.deflate.is_none());
        let status_check = up
            .checks
            .iter()
            .find(|c| c.name.starts_with("status"))
            .unwrap();
        assert!(!status_check.ok);
    }
    let up = check_upgrade(
        &variant(&[], &[]),
        &response(
            426,
            &[
                ("Sec-WebSocket-Version", "13, 8"),
                ("Sec-WebSocket-Version", "7"),
            ],
        ),
    );
    assert_eq!(up.server_versions, ["13", "8", "7"]);
}

type Params = Vec<(String, Option<String>)>;

#[test]
fn extension_lists() {
    let exts = parse_extensions([
        "permessage-deflate; client_max_window_bits; server_max_window_bits=\"10\", x-webkit-deflate-frame",
        " , foo; p=\"a,b;c\\\"d\" ;q",
    ]);
    let got: Vec<(&str, &str, Params)> = exts
        .iter()
        .map(|e| (e.raw.as_str(), e.name.as_str(), e.params.clone()))
        .collect();
    let p = |n: &str, v: Option<&str>| (n.to_string(), v.map(String::from));
    assert_eq!(
        got,
        [
            (
                "permessage-deflate; client_max_window_bits; server_max_window_bits=\"10\"",
                "permessage-deflate",
                vec![
                    p("client_max_window_bits", None),
                    p("server_max_window_bits", Some("10"))
                ]
            ),
            ("x-webkit-deflate-frame", "x-webkit-deflate-frame", vec![]),
            (
                "foo; p=\"a,b;c\\\"d\" ;q",
                "foo",
                vec![p("p", Some("a,b;c\"d")), p("q", None)]
            ),
        ]
    );
    assert!(parse_extensions([""]).is_empty());
}

#[test]
fn deflate_parameters() {
    let offer_cmwb = parse_extensions(["permessage-deflate; client_max_window_bits"]);
    let offer_plain = parse_extensions(["permessage-deflate"]);
    let d = DeflateParams::default();
    let table: Vec<(&str, &Vec<Extension>, DeflateParams, usize)> = vec![
        ("permessage-deflate", &offer_plain, d, 0),
        (
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
            &offer_plain,
            DeflateParams {
                server_no_context_takeover: true,
                client_no_context_takeover: true,
                ..d
            },
            0,
        ),
        (
            "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12",
            &offer_cmwb,
            DeflateParams {
                server_max_window_bits: Some(12),
                client_max_window_bits: Some(12),
                ..d
            },
            0,
        ),
        (
            "permessage-deflate; server_max_window_bits=\"8\"",
            &offer_plain,
            DeflateParams {
                server_max_window_bits: Some(8),
                ..d
            },
            0,
        ),
        (
            "permessage-deflate; Server_Max_Window_Bits=15",
            &offer_plain,
            DeflateParams {
                server_max_window_bits: Some(15),
                ..d
            },
            0,
        ),
        (
            "permessage-deflate; client_max_window_bits=12",
            &offer_plain,
            d,
            1,
        ),
        (
            "permessage-deflate; server_max_window_bits=7",
            &offer_plain,
            d,
            1,
        ),
        (
            "permessage-deflate; server_max_window_bits=16",
            &offer_plain,
            d,
            1,
        ),
        (
            "permessage-deflate; server_max_window_bits=09",
            &offer_plain,
            d,
            1,
        ),
        (
            "permessage-deflate; server_max_window_bits=ten",
            &offer_plain,
            d,
            1,
        ),
        (
            "permessage-deflate; server_max_window_bits",
            &offer_plain,
            d,
            1,
        ),
        (
            "permessage-deflate; client_max_window_bits",
            &offer_cmwb,
            d,
            1,
        ),
        (
            "permessage-deflate; server_no_context_takeover=1",
            &offer_plain,
            d,
            1,
        ),
        ("permessage-deflate; mystery", &offer_plain, d, 1),
        (
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            &offer_plain,
            DeflateParams {
                server_no_context_takeover: true,
                ..d
            },
            1,
        ),
        (
            "permessage-deflate; server_max_window_bits=9; server_max_window_bits=10",
            &offer_plain,
            DeflateParams {
                server_max_window_bits: Some(9),
                ..d
            },
            1,
        ),
    ];
    for (ext, offers, want, problems) in &table {
        let e = &parse_extensions([*ext])[0];
        let (got, violations) = deflate_params(e, offers);
        assert_eq!(got, *want, "{ext}");
        assert_eq!(violations.len(), *problems, "{ext}: {violations:?}");
        assert!(violations
            .iter()
            .all(|v| v.code == "deflate_bad_params" && v.rfc == "RFC 7692 7.1"));
    }
    // Accepted twice.
    let up = check_upgrade(
        &variant(&[], &[]),
        &resp_variant(
            &[],
            &[(
                "Sec-WebSocket-Extensions",
                "permessage-deflate, permessage-deflate",
            )],
        ),
    );
    assert_eq!(codes(&up.violations), ["deflate_bad_params"]);
    assert_eq!(up.deflate, Some(DeflateParams::default()));
}

// ---- the handshakes of real captures ----

const CAPTURES: &str = "/work/shared/captures";

/// The first head in `raw` that starts with `start` (heads sit whole in one packet in these
/// captures, so a byte search over the file finds them).
fn find_head(raw: &[u8], start: &[u8]) -> Option<Vec<u8>> {
    let at = raw.windows(start.len()).position(|w| w == start)?;
    let end = raw[at..].windows(4).position(|w| w == b"\r\n\r\n")?;
    Some(raw[at..at + end + 4].to_vec())
}

fn parse_one(role: Role, bytes: &[u8]) -> HttpItem {
    let mut p = HttpParser::new(role, DEFAULT_MAX_HEAD_BYTES);
    let mut items = Vec::new();
    p.feed(bytes, &mut |i| items.push(i));
    assert!(p.is_stopped(), "an upgrade head stops the parser");
    assert_eq!(items.len(), 1, "{items:?}");
    items.remove(0)
}

#[test]
fn captures_accepts_match_tshark() {
    let Ok(dir) = std::fs::read_dir(CAPTURES) else {
        eprintln!("{CAPTURES} not found: skipped");
        return;
    };
    let mut seen = 0;
    for entry in dir.flatten() {
        let path = entry.path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !name.ends_with(".conns.tsv") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines = text.lines();
        let cols: Vec<&str> = lines.next().unwrap().split('\t').collect();
        let col = |n: &str| cols.iter().position(|c| *c == n).unwrap();
        let (k, a) = (col("ws_key"), col("ws_accept"));
        for line in lines {
            let f: Vec<&str> = line.split('\t').collect();
            let (Some(key), Some(accept)) = (f.get(k), f.get(a)) else {
                continue;
            };
            if key.is_empty() || accept.is_empty() {
                continue;
            }
            seen += 1;
            let wrong = name.starts_with("zeek__wrong-accept-header");
            assert_eq!(
                accept_for(key) == *accept,
                !wrong,
                "{name}: {key} -> {accept}"
            );
        }
    }
    assert!(seen >= 14, "only {seen} handshakes found");
}

/// (file, request violations, response violations, ok, subprotocol, deflate)
type CaptureCase = (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    bool,
    Option<&'static str>,
    Option<DeflateParams>,
);

#[test]
fn capture_handshakes() {
    if std::fs::metadata(CAPTURES).is_err() {
        eprintln!("{CAPTURES} not found: skipped");
        return;
    }
    // (file, request violations, response violations, ok, subprotocol, deflate)
    let table: &[CaptureCase] = &[
        (
            "ndn-tools__ipv6-websocket-segmented.pcap",
            &[],
            &[],
            true,
            None,
            None,
        ),
        (
            "suricata-verify__websocket-control-frag.pcap",
            &["upgrade_bad_key"],
            &[],
            true,
            None,
            None,
        ),
        (
            "suricata-verify__websocket-ping.pcap",
            &[],
            &[],
            true,
            None,
            None,
        ),
        (
            "suricata-verify__websocket__basic_websockets.pcap",
            &[],
            &[],
            true,
            None,
            None,
        ),
        ("websocket_test__websocket.pcap", &[], &[], true, None, None),
        ("zeek__broker-websocket.pcap", &[], &[], true, None, None),
        (
            "zeek__fragmented-http-reply.pcap",
            &[],
            &[],
            true,
            Some("v1"),
            None,
        ),
        (
            "zeek__jupyter-websocket.pcap",
            &[],
            &[],
            true,
            Some("v1.kernel.websocket.jupyter.org"),
            None,
        ),
        (
            "zeek__oversized-close-frame.pcapng",
            &[],
            &[],
            true,
            None,
            None,
        ),
        (
            "zeek__websocket_compressed.pcap",
            &[],
            &[],
            true,
            None,
            Some(DeflateParams {
                server_max_window_bits: Some(12),
                client_max_window_bits: Some(12),
                server_no_context_takeover: false,
                client_no_context_takeover: false,
            }),
        ),
        (
            "zeek__wrong-accept-header.pcap",
            &[],
            &["accept_mismatch"],
            false,
            Some("v1"),
            None,
        ),
        ("zeek__wstunnel-http.pcap", &[], &[], true, Some("v1"), None),
        ("nDPI__false_positives.pcapng", &[], &[], true, None, None),
    ];
    for (file, req_codes, resp_codes, ok, subprotocol, deflate) in table {
        let raw = std::fs::read(format!("{CAPTURES}/{file}")).unwrap();
        let req_bytes = find_head(&raw, b"GET ").unwrap();
        let resp_bytes = find_head(&raw, b"HTTP/1.1 101").unwrap();
        let HttpItem::Request(req) = parse_one(Role::Request, &req_bytes) else {
            panic!("{file}: no request")
        };
        let HttpItem::Response(resp) = parse_one(Role::Response, &resp_bytes) else {
            panic!("{file}: no response")
        };
        assert!(req.is_upgrade_request(), "{file}");
        assert_eq!(codes(&check_request(&req)), *req_codes, "{file}");
        let up = check_upgrade(&req, &resp);
        assert_eq!(codes(&up.violations), *resp_codes, "{file}");
        assert_eq!(up.ok, *ok, "{file}: {:?}", up.reason);
        assert!(up.switched);
        assert_eq!(up.subprotocol.as_deref(), *subprotocol, "{file}");
        assert_eq!(up.deflate, *deflate, "{file}");
    }
}
