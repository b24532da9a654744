//! GraphQL over WebSocket: the `graphql-transport-ws` subprotocol (library
//! `graphql-ws`, its `PROTOCOL.md`) and the legacy `graphql-ws` subprotocol
//! (library `subscriptions-transport-ws`). Every message is a JSON object with a
//! `type`; operations are followed from subscribe/start through next/data to
//! complete/error/stop, with their name and the number of results.

use std::collections::HashMap;

use serde_json::Value;

use super::json::id_of;
use super::rules::{self, Rule};
use super::{AppId, AppMessage, Detail, Protocol, Violation};
use crate::types::Direction;

/// Operations followed at once per WebSocket.
pub const MAX_OPERATIONS: usize = 1024;
/// `data` keys listed per result.
pub const MAX_DATA_KEYS: usize = 16;

/// Fields of a GraphQL-over-WebSocket message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GraphqlDetail {
    /// `query`, `mutation` or `subscription` (from the operation's text).
    pub operation_type: Option<String>,
    /// next/data: this result's number (from 1); complete/error/stop: results seen.
    pub results: Option<u32>,
    /// Time since the operation's subscribe/start, µs.
    pub elapsed_us: Option<i64>,
    /// connection_ack: since connection_init; pong: since the ping. µs.
    pub latency_us: Option<i64>,
    /// Top-level keys of a result's `data` (at most [`MAX_DATA_KEYS`]).
    pub data_keys: Vec<String>,
    /// Errors in a result (`payload.errors`) or an error message (`payload` list).
    pub errors: Option<usize>,
    /// The first error's message.
    pub error_message: Option<String>,
}

struct Operation {
    name: Option<String>,
    op_type: Option<String>,
    start: i64,
    results: u32,
}

/// GraphQL state of one WebSocket.
pub struct GraphqlState {
    protocol: Protocol,
    /// The flavour came from the subprotocol (else it may still change).
    fixed: bool,
    ops: HashMap<String, Operation>,
    init: Option<i64>,
    ping: [Option<i64>; 2],
}

const TRANSPORT_ONLY: &[&str] = &["subscribe", "next", "ping", "pong"];
const LEGACY_ONLY: &[&str] = &[
    "start",
    "data",
    "stop",
    "ka",
    "connection_error",
    "connection_terminate",
];

/// Whether a JSON value is a GraphQL-over-WebSocket `connection_init`.
pub(crate) fn looks_like_init(v: &Value) -> bool {
    v.get("type").and_then(Value::as_str) == Some("connection_init")
}

/// The operation type and name of a GraphQL document's first operation:
/// `subscription Foo(...) {` → (`subscription`, `Foo`); `{ a }` → (`query`, none).
pub fn operation_of(query: &str) -> Option<(String, Option<String>)> {
    let b = query.as_bytes();
    let mut i = 0;
    let ident = |i: &mut usize| -> String {
        let s = *i;
        while *i < b.len() && (b[*i].is_ascii_alphanumeric() || b[*i] == b'_') {
            *i += 1;
        }
        query[s..*i].to_owned()
    };
    let skip_ignored = |i: &mut usize| {
        while *i < b.len() {
            match b[*i] {
                b' ' | b'\t' | b'\n' | b'\r' | b',' => *i += 1,
                0xEF if b[*i..].starts_with(&[0xEF, 0xBB, 0xBF]) => *i += 3,
                b'#' => {
                    while *i < b.len() && b[*i] != b'\n' {
                        *i += 1;
                    }
                }
                _ => break,
            }
        }
    };
    // At most a few hundred definitions are looked through.
    for _ in 0..256 {
        skip_ignored(&mut i);
        if i >= b.len() {
            return None;
        }
        if b[i] == b'{' {
            return Some(("query".into(), None));
        }
        let word = ident(&mut i);
        match word.as_str() {
            "query" | "mutation" | "subscription" => {
                skip_ignored(&mut i);
                let name = ident(&mut i);
                return Some((word, (!name.is_empty()).then_some(name)));
            }
            "fragment" => {
                // Skip to the end of the fragment's selection set.
                let mut depth = 0usize;
                let mut in_str = false;
                while i < b.len() {
                    match b[i] {
                        b'"' => in_str = !in_str,
                        b'\\' if in_str => i += 1,
                        b'{' if !in_str => depth += 1,
                        b'}' if !in_str => {
                            depth = depth.saturating_sub(1);
                            if depth == 0 {
                                i += 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
            }
            _ => return None,
        }
    }
    None
}

impl GraphqlState {
    /// Heap bytes held (for the memory budget): the operations in flight (their ids
    /// and names counted at [`crate::budget::KEY_GUESS`] bytes each).
    pub(crate) fn heap_bytes(&self) -> usize {
        crate::budget::map_bytes(&self.ops) + self.ops.len() * 2 * crate::budget::KEY_GUESS
    }

    /// A state for `protocol`; `fixed` when the subprotocol named it.
    pub fn new(protocol: Protocol, fixed: bool) -> GraphqlState {
        GraphqlState {
            protocol,
            fixed,
            ops: HashMap::new(),
            init: None,
            ping: [None, None],
        }
    }

    /// The flavour in use.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// One WebSocket message.
    pub fn message(&mut self, dir: Direction, payload: &[u8], ts: i64) -> Vec<AppMessage> {
        let v: Value = match serde_json::from_slice(payload) {
            Ok(v) => v,
            Err(e) => {
                return vec![AppMessage::malformed(
                    self.protocol,
                    dir,
                    ts,
                    Violation::new(
                        rules::APP_BAD_JSON,
                        format!("The message is not JSON ({e})."),
                    ),
                )]
            }
        };
        let Some(kind) = v.get("type").and_then(Value::as_str) else {
            return vec![AppMessage::malformed(
                self.protocol,
                dir,
                ts,
                Violation::new(
                    rules::GQL_BAD_MESSAGE,
                    "The message is not a JSON object with a string `type`.",
                ),
            )];
        };
        let mut viol = Vec::new();
        let legacy_type = LEGACY_ONLY.contains(&kind);
        let transport_type = TRANSPORT_ONLY.contains(&kind);
        if (legacy_type && self.protocol == Protocol::GraphqlTransportWs)
            || (transport_type && self.protocol == Protocol::GraphqlWs)
        {
            if self.fixed {
                viol.push(Violation::new(
                    rules::GQL_WRONG_PROTOCOL,
                    format!(
                        "{kind:?} belongs to the other GraphQL-over-WebSocket protocol, not {}.",
                        self.protocol
                    ),
                ));
            } else {
                self.protocol = if legacy_type {
                    Protocol::GraphqlWs
                } else {
                    Protocol::GraphqlTransportWs
                };
            }
        }
        let legacy = self.protocol == Protocol::GraphqlWs;
        let mut m = AppMessage::new(self.protocol, kind, dir, ts);
        let mut d = GraphqlDetail::default();
        let id_val = v.get("id");
        m.id = id_val.and_then(id_of);
        let id_key = m.id.as_ref().map(AppId::to_string);
        let payload = v.get("payload");
        let wrong_dir = |from: &str| {
            Violation::new(
                rules::GQL_WRONG_DIRECTION,
                format!("{kind:?} is sent by the {from} only."),
            )
        };
        let client_only: &[&str] = if legacy {
            &["connection_init", "start", "stop", "connection_terminate"]
        } else {
            &["connection_init", "subscribe"]
        };
        let server_only: &[&str] = if legacy {
            &[
                "connection_ack",
                "connection_error",
                "ka",
                "data",
                "error",
                "complete",
            ]
        } else {
            &["connection_ack", "next", "error"]
        };
        if client_only.contains(&kind) && dir == Direction::S2C {
            viol.push(wrong_dir("client"));
        }
        if server_only.contains(&kind) && dir == Direction::C2S {
            viol.push(wrong_dir("server"));
        }
        let needs_id = matches!(
            kind,
            "subscribe" | "next" | "error" | "start" | "data" | "stop"
        ) || (kind == "complete");
        let missing =
            |rule: Rule, what: &str| Violation::new(rule, format!("{kind:?} without {what}."));
        if needs_id && id_key.is_none() {
            viol.push(missing(rules::GQL_MISSING_ID, "an `id`"));
        }
        match kind {
            "connection_init" => self.init = Some(ts),
            "connection_ack" => d.latency_us = self.init.take().map(|t| ts.saturating_sub(t)),
            "ping" => self.ping[dir.index()] = Some(ts),
            "pong" => {
                d.latency_us = self.ping[dir.reverse().index()]
                    .take()
                    .map(|t| ts.saturating_sub(t))
            }
            "subscribe" | "start" => {
                let query = payload.and_then(|p| p.get("query")).and_then(Value::as_str);
                let op_name = payload
                    .and_then(|p| p.get("operationName"))
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                let parsed = query.and_then(operation_of);
                if query.is_none() {
                    viol.push(missing(
                        rules::GQL_MISSING_QUERY,
                        "a `payload.query` string",
                    ));
                }
                m.name = op_name.or_else(|| parsed.as_ref().and_then(|p| p.1.clone()));
                d.operation_type = parsed.map(|p| p.0);
                if let Some(id) = &id_key {
                    if self.ops.contains_key(id) {
                        viol.push(Violation::new(
                            rules::GQL_DUPLICATE_ID,
                            format!("{kind:?} with id {id:?}, which an operation still in progress uses."),
                        ));
                    }
                    if self.ops.len() >= MAX_OPERATIONS {
                        // Past the bound the operations in progress are forgotten at
                        // once, so that the following ones are followed again.
                        self.ops.clear();
                    }
                    self.ops.insert(
                        id.clone(),
                        Operation {
                            name: m.name.clone(),
                            op_type: d.operation_type.clone(),
                            start: ts,
                            results: 0,
                        },
                    );
                }
            }
            "next" | "data" => {
                if let Some(op) = id_key.as_ref().and_then(|id| self.ops.get_mut(id)) {
                    op.results = op.results.saturating_add(1);
                    m.name = op.name.clone();
                    d.operation_type = op.op_type.clone();
                    d.results = Some(op.results);
                    d.elapsed_us = Some(ts.saturating_sub(op.start));
                }
                if let Some(Value::Object(data)) = payload.and_then(|p| p.get("data")) {
                    d.data_keys = data.keys().take(MAX_DATA_KEYS).cloned().collect();
                }
                if let Some(errs) = payload
                    .and_then(|p| p.get("errors"))
                    .and_then(Value::as_array)
                {
                    d.errors = Some(errs.len());
                    d.error_message = first_message(errs);
                }
            }
            "error" | "connection_error" => {
                match payload {
                    Some(Value::Array(errs)) => {
                        d.errors = Some(errs.len());
                        d.error_message = first_message(errs);
                    }
                    Some(Value::Object(o)) => {
                        d.errors = Some(1);
                        d.error_message =
                            o.get("message").and_then(Value::as_str).map(str::to_owned);
                    }
                    _ => {}
                }
                self.finish(id_key.as_deref(), &mut m, &mut d, ts);
            }
            "complete" | "stop" => self.finish(id_key.as_deref(), &mut m, &mut d, ts),
            "ka" | "connection_terminate" => {}
            other => viol.push(Violation::new(
                rules::GQL_BAD_MESSAGE,
                format!(
                    "{:?} is not a message type of {}.",
                    other.chars().take(64).collect::<String>(),
                    self.protocol
                ),
            )),
        }
        m.detail = Detail::Graphql(Box::new(d));
        m.violations = viol;
        vec![m]
    }

    fn finish(&mut self, id: Option<&str>, m: &mut AppMessage, d: &mut GraphqlDetail, ts: i64) {
        if let Some(op) = id.and_then(|id| self.ops.remove(id)) {
            m.name = op.name;
            d.operation_type = op.op_type;
            d.results = Some(op.results);
            d.elapsed_us = Some(ts.saturating_sub(op.start));
        }
    }
}

fn first_message(errs: &[Value]) -> Option<String> {
    errs.first()
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}
