//! Generic JSON: any text message that parses as JSON when no specific protocol
//! is recognised, and JSON helpers shared by the JSON-based decoders.

use serde_json::Value;

use super::{AppId, AppMessage, Detail, Protocol};
use crate::types::Direction;

/// Fields of a generic JSON message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonDetail {
    /// Number of members (object) or elements (array); 0 for scalars.
    pub len: usize,
    /// The object's keys, at most [`MAX_KEYS`], in document order.
    pub keys: Vec<String>,
}

/// Keys of an object listed in [`JsonDetail::keys`].
pub const MAX_KEYS: usize = 16;

/// Members that commonly name a JSON message, tried in this order for `name`.
const NAME_KEYS: &[&str] = &["type", "event", "action", "op", "cmd", "command", "channel"];

/// The JSON type name of `v`: `object`, `array`, `string`, `number`, `boolean`, `null`.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Object(_) => "object",
        Value::Array(_) => "array",
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "boolean",
        Value::Null => "null",
    }
}

/// A generic `json` message: type is the JSON type; name a telling string member.
pub(crate) fn generic(v: &Value, dir: Direction, ts: i64) -> AppMessage {
    let mut m = AppMessage::new(Protocol::Json, type_name(v), dir, ts);
    let (len, keys) = match v {
        Value::Object(o) => (o.len(), o.keys().take(MAX_KEYS).cloned().collect()),
        Value::Array(a) => (a.len(), Vec::new()),
        _ => (0, Vec::new()),
    };
    if let Value::Object(o) = v {
        m.name = NAME_KEYS
            .iter()
            .find_map(|k| o.get(*k).and_then(Value::as_str))
            .map(str::to_owned);
        m.id = o.get("id").and_then(id_of);
    }
    m.detail = Detail::Json(JsonDetail { len, keys });
    m
}

/// An id from a JSON value: whole numbers as [`AppId::Num`], strings as text,
/// fractions as their JSON text, null as [`AppId::Null`]; `None` for objects/arrays.
pub(crate) fn id_of(v: &Value) -> Option<AppId> {
    match v {
        Value::String(s) => Some(AppId::Text(s.clone())),
        Value::Number(n) => Some(match n.as_i64() {
            Some(i) => AppId::Num(i),
            None => AppId::Text(n.to_string()),
        }),
        Value::Null => Some(AppId::Null),
        _ => None,
    }
}
