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

/// A step with its bytes owned (for [`coalesced`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Owned {
    /// Stream bytes (`Data` steps only).
    Data(bool, Vec<u8>),
    /// Any other step, as it was.
    Other(usize),
}

/// The same steps with every run of adjacent `Data` steps of one direction joined
/// into one: the same streams in fewer, bigger chunks. Decoders must not care, so
/// the targets compare the two feeds' events (the chunking oracle).
pub fn coalesced(steps: &[Step<'_>]) -> Vec<Owned> {
    let mut out: Vec<Owned> = Vec::new();
    for (i, s) in steps.iter().enumerate() {
        match (s, out.last_mut()) {
            (Step::Data(d, b), Some(Owned::Data(ld, lb))) if d == ld => lb.extend_from_slice(b),
            (Step::Data(d, b), _) => out.push(Owned::Data(*d, b.to_vec())),
            _ => out.push(Owned::Other(i)),
        }
    }
    out
}

/// Calls `f` with [`coalesced`] `steps`, as steps.
pub fn with_coalesced<R>(steps: &[Step<'_>], f: impl FnOnce(&[Step<'_>]) -> R) -> R {
    let owned = coalesced(steps);
    let big: Vec<Step<'_>> = owned
        .iter()
        .map(|o| match o {
            Owned::Data(s2c, b) => Step::Data(*s2c, b),
            Owned::Other(i) => steps[*i],
        })
        .collect();
    f(&big)
}

/// Panics with the first difference when `split` and `whole` differ (the chunking
/// oracle's report: the events around it, not two whole logs).
pub fn assert_same<T: PartialEq + std::fmt::Debug>(split: &[T], whole: &[T], what: &str) {
    if split == whole {
        return;
    }
    let i = split
        .iter()
        .zip(whole)
        .position(|(a, b)| a != b)
        .unwrap_or(split.len().min(whole.len()));
    let from = i.saturating_sub(2);
    panic!(
        "{what} depend on how the stream was chunked: first difference at event {i} \
         ({} vs {} events)\nsplit: {:#?}\nwhole: {:#?}",
        split.len(),
        whole.len(),
        &split[from..(i + 2).min(split.len())],
        &whole[from..(i + 2).min(whole.len())],
    );
}
