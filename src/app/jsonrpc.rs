//! JSON-RPC 2.0 over WebSocket: requests, notifications, responses (`response`
//! for a result, `error` for an error), batches (one [`AppMessage`] per element),
//! each response paired with its request (method and latency). Either side may
//! send requests.
//!
//! The `rpc-websockets` library also pushes events as
//! `{"notification": NAME, "params": …}` without `jsonrpc`; these are reported as
//! type `event` (dialect `rpc-websockets`) rather than as broken requests.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::json::{id_of, type_name};
use super::rules;
use super::{AppMessage, Detail, Protocol, Violation};
use crate::types::Direction;

/// Requests awaiting their response, per WebSocket.
pub const MAX_PENDING: usize = 4096;

/// Fields of a JSON-RPC message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JsonRpcDetail {
    /// Position in a batch and the batch's length.
    pub batch: Option<(usize, usize)>,
    /// `params` structure: `array`, `object` (or another JSON type, a violation).
    pub params: Option<&'static str>,
    /// An error response's code.
    pub error_code: Option<i64>,
    /// An error response's message.
    pub error_message: Option<String>,
    /// A response: time since its request, µs (the method is in [`AppMessage::name`]).
    pub latency_us: Option<i64>,
    /// A non-standard form recognised (`rpc-websockets` events).
    pub dialect: Option<&'static str>,
}

/// JSON-RPC state of one WebSocket.
pub struct JsonRpcState {
    pending: HashMap<(usize, String), (Option<String>, i64)>,
}

impl Default for JsonRpcState {
    fn default() -> Self {
        JsonRpcState::new()
    }
}

/// Whether a JSON value is a JSON-RPC 2.0 object (or a batch beginning with one).
pub(crate) fn looks_like(v: &Value) -> bool {
    let one = |v: &Value| v.get("jsonrpc").and_then(Value::as_str) == Some("2.0");
    match v {
        Value::Array(a) => a.first().is_some_and(one),
        v => one(v),
    }
}

impl JsonRpcState {
    /// Heap bytes held (for the memory budget): the requests awaiting answers (their
    /// ids and methods counted at [`crate::budget::KEY_GUESS`] bytes each).
    pub(crate) fn heap_bytes(&self) -> usize {
        crate::budget::map_bytes(&self.pending) + self.pending.len() * 2 * crate::budget::KEY_GUESS
    }

    /// A fresh state.
    pub fn new() -> JsonRpcState {
        JsonRpcState {
            pending: HashMap::new(),
        }
    }

    /// One WebSocket message: one message per object (per element of a batch).
    pub fn message(&mut self, dir: Direction, payload: &[u8], ts: i64) -> Vec<AppMessage> {
        let v: Value = match serde_json::from_slice(payload) {
            Ok(v) => v,
            Err(e) => {
                return vec![AppMessage::malformed(
                    Protocol::JsonRpc,
                    dir,
                    ts,
                    Violation::new(
                        rules::APP_BAD_JSON,
                        format!(
                            "The message is not JSON ({e}) (JSON-RPC 2.0 5.1: -32700 Parse error)."
                        ),
                    ),
                )]
            }
        };
        match &v {
            Value::Array(a) if a.is_empty() => vec![AppMessage::malformed(
                Protocol::JsonRpc,
                dir,
                ts,
                Violation::new(rules::JSONRPC_EMPTY_BATCH, "An empty batch array."),
            )],
            Value::Array(a) => {
                let mut out: Vec<AppMessage> = a
                    .iter()
                    .take(super::MAX_PACKETS_PER_MESSAGE)
                    .enumerate()
                    .map(|(i, e)| self.one(dir, e, Some((i, a.len())), ts))
                    .collect();
                if a.len() > super::MAX_PACKETS_PER_MESSAGE {
                    let rest: usize = a[super::MAX_PACKETS_PER_MESSAGE..]
                        .iter()
                        .map(|e| e.to_string().len())
                        .sum();
                    out.push(AppMessage::too_many(Protocol::JsonRpc, dir, ts, rest));
                }
                out
            }
            v => vec![self.one(dir, v, None, ts)],
        }
    }

    fn one(
        &mut self,
        dir: Direction,
        v: &Value,
        batch: Option<(usize, usize)>,
        ts: i64,
    ) -> AppMessage {
        let Value::Object(o) = v else {
            let mut m = AppMessage::malformed(
                Protocol::JsonRpc,
                dir,
                ts,
                Violation::new(
                    rules::JSONRPC_NOT_OBJECT,
                    format!(
                        "A JSON-RPC message must be an object; this is a {}.",
                        type_name(v)
                    ),
                ),
            );
            m.detail = Detail::JsonRpc(Box::new(JsonRpcDetail {
                batch,
                ..JsonRpcDetail::default()
            }));
            return m;
        };
        let mut d = JsonRpcDetail {
            batch,
            ..JsonRpcDetail::default()
        };
        let mut viol = Vec::new();
        // rpc-websockets' server events.
        if o.get("jsonrpc").is_none() && o.get("method").is_none() {
            if let Some(Value::String(ev)) = o.get("notification") {
                let mut m = AppMessage::new(Protocol::JsonRpc, "event", dir, ts);
                m.name = Some(ev.clone());
                d.dialect = Some("rpc-websockets");
                d.params = o.get("params").map(type_name);
                m.detail = Detail::JsonRpc(Box::new(d));
                return m;
            }
        }
        match o.get("jsonrpc") {
            Some(Value::String(s)) if s == "2.0" => {}
            Some(other) => viol.push(Violation::new(
                rules::JSONRPC_BAD_VERSION,
                format!(
                    "`jsonrpc` must be exactly \"2.0\"; it is {}.",
                    short_json(other)
                ),
            )),
            None => viol.push(Violation::new(
                rules::JSONRPC_BAD_VERSION,
                "The `jsonrpc` member is missing.",
            )),
        }
        let id = match o.get("id") {
            None => None,
            Some(v) => match id_of(v) {
                Some(id) => Some(id),
                None => {
                    viol.push(Violation::new(
                        rules::JSONRPC_BAD_ID,
                        format!(
                            "`id` must be a string, a number or null; it is a {}.",
                            type_name(v)
                        ),
                    ));
                    None
                }
            },
        };
        let mut m;
        if let Some(method) = o.get("method") {
            m = AppMessage::new(
                Protocol::JsonRpc,
                if o.contains_key("id") {
                    "request"
                } else {
                    "notification"
                },
                dir,
                ts,
            );
            match method {
                Value::String(s) => m.name = Some(s.clone()),
                other => viol.push(Violation::new(
                    rules::JSONRPC_BAD_METHOD,
                    format!("`method` must be a string; it is a {}.", type_name(other)),
                )),
            }
            if let Some(p) = o.get("params") {
                d.params = Some(type_name(p));
                if !matches!(p, Value::Array(_) | Value::Object(_)) {
                    viol.push(Violation::new(
                        rules::JSONRPC_BAD_PARAMS,
                        format!(
                            "`params` must be an array or an object; it is a {}.",
                            type_name(p)
                        ),
                    ));
                }
            }
            if let Some(id) = &id {
                if self.pending.len() >= MAX_PENDING {
                    // Unanswered requests are forgotten at once past the bound.
                    self.pending.clear();
                }
                self.pending
                    .insert((dir.index(), format!("{id:?}")), (m.name.clone(), ts));
            }
        } else {
            let has_result = o.contains_key("result");
            let has_error = o.contains_key("error");
            m = AppMessage::new(
                Protocol::JsonRpc,
                if has_error { "error" } else { "response" },
                dir,
                ts,
            );
            if has_result == has_error {
                viol.push(Violation::new(
                    rules::JSONRPC_BAD_RESPONSE,
                    if has_result {
                        "A response with both `result` and `error`."
                    } else {
                        "A message with neither `method`, `result` nor `error`."
                    },
                ));
            }
            if !o.contains_key("id") {
                viol.push(Violation::new(
                    rules::JSONRPC_BAD_RESPONSE,
                    "A response without `id`.",
                ));
            }
            if has_error {
                error_fields(o, &mut d, &mut viol);
            }
            if let Some(id) = &id {
                if let Some((method, t0)) = self
                    .pending
                    .remove(&(dir.reverse().index(), format!("{id:?}")))
                {
                    m.name = method;
                    d.latency_us = Some(ts.saturating_sub(t0));
                }
            }
        }
        m.id = id;
        m.detail = Detail::JsonRpc(Box::new(d));
        m.violations = viol;
        m
    }
}

fn error_fields(o: &Map<String, Value>, d: &mut JsonRpcDetail, viol: &mut Vec<Violation>) {
    let Some(Value::Object(e)) = o.get("error") else {
        viol.push(Violation::new(
            rules::JSONRPC_BAD_ERROR,
            "`error` must be an object.",
        ));
        return;
    };
    d.error_code = e.get("code").and_then(Value::as_i64);
    d.error_message = e.get("message").and_then(Value::as_str).map(str::to_owned);
    if d.error_code.is_none() {
        viol.push(Violation::new(
            rules::JSONRPC_BAD_ERROR,
            "The error object has no integer `code`.",
        ));
    }
    if d.error_message.is_none() {
        viol.push(Violation::new(
            rules::JSONRPC_BAD_ERROR,
            "The error object has no string `message`.",
        ));
    }
}

fn short_json(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 32 {
        format!("{}…", s.chars().take(32).collect::<String>())
    } else {
        s
    }
}
