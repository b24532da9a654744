//! Helpers shared by the fuzz targets: the step script of the stream targets and
//! the terminal-safety check of the pipeline target.

pub mod pcapread;
pub mod script;

pub use script::{Step, HEADER_LEN};

use wsscope::types::Direction;

/// The direction of a step.
pub fn dir(s2c: bool) -> Direction {
    if s2c {
        Direction::S2C
    } else {
        Direction::C2S
    }
}

/// A character that must never reach a terminal raw (as `tests/hostile.rs`): C0
/// (newline included: one event is one line), DEL, C1, and the bidi controls.
pub fn unsafe_char(c: char) -> bool {
    let u = c as u32;
    u < 0x20
        || u == 0x7f
        || (0x80..=0x9f).contains(&u)
        || matches!(
            c,
            '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// Every string of a JSON value (object keys too) is terminal-safe.
pub fn json_is_safe(v: &serde_json::Value) -> Result<(), String> {
    use serde_json::Value;
    let s = |s: &str| match s.chars().find(|&c| unsafe_char(c)) {
        Some(c) => Err(format!("unsafe char U+{:04X} in {s:?}", c as u32)),
        None => Ok(()),
    };
    match v {
        Value::String(x) => s(x),
        Value::Array(a) => a.iter().try_for_each(json_is_safe),
        Value::Object(o) => o.iter().try_for_each(|(k, x)| {
            s(k)?;
            json_is_safe(x)
        }),
        _ => Ok(()),
    }
}
