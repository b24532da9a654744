//! Rules as data: every rule a layer checks is a [`Rule`] constant with a stable
//! code (part of the NDJSON contract), the section of the RFC it comes from, and
//! whether it is a *note* (a fact about the capture, or something the RFC allows)
//! rather than a peer's fault.
//!
//! Each layer declares its rules with [`rules!`](crate::rules!) in its own
//! `rules.rs` (`tcp`, `http`, `ws`, the stack's recognition); [`all`] lists
//! every one, so documentation and the explanation catalogues can be checked
//! against the full set. A broken rule becomes a [`Violation`]: the rule and one
//! sentence with the facts of the case.

/// A rule: stable snake_case code, the section it comes from, and whether
/// breaking it is only a note.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rule {
    /// Stable snake_case code, e.g. `unmasked_client_frame`.
    pub code: &'static str,
    /// The section, e.g. `RFC 6455 5.1`.
    pub rfc: &'static str,
    /// True for notes: a limit of the capture or of wsscope, or something the RFC
    /// allows (`mid_stream`, `gap_resync`, `unsolicited_pong`, ...).
    pub note: bool,
}

/// Declares a layer's rules as `pub const`s and their list `ALL`:
///
/// ```text
/// rules! {
///     /// doc
///     NAME = "code", "RFC 6455 5.1";
///     /// a note, not a peer's fault
///     OTHER = "other_code", "RFC 6455 5.2", note;
/// }
/// ```
#[macro_export]
macro_rules! rules {
    (@note) => { false };
    (@note note) => { true };
    ($($(#[$doc:meta])* $name:ident = $code:literal, $rfc:literal $(, $note:ident)?;)*) => {
        $( $(#[$doc])* pub const $name: $crate::rules::Rule = $crate::rules::Rule {
            code: $code,
            rfc: $rfc,
            note: $crate::rules!(@note $($note)?),
        }; )*
        /// Every rule of this layer, for documentation and tests.
        pub const ALL: &[$crate::rules::Rule] = &[$($name),*];
    };
}

/// A rule a peer broke (or a note about the capture): the rule and one sentence
/// with the facts of the case. Violations are events, never errors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Stable snake_case name, e.g. `unmasked_client_frame` (the rule's code).
    pub code: &'static str,
    /// One sentence saying what happened (plain text: views make it terminal-safe).
    pub message: String,
    /// The rule's section, e.g. `"RFC 6455 5.1"`.
    pub rfc: &'static str,
    /// The rule is a note, not a peer's fault.
    pub note: bool,
}

impl Violation {
    /// `rule` broken, as `message` tells.
    pub fn new(rule: Rule, message: impl Into<String>) -> Violation {
        Violation {
            code: rule.code,
            message: message.into(),
            rfc: rule.rfc,
            note: rule.note,
        }
    }
}

/// Every rule of every layer, lowest layer first.
pub fn all() -> impl Iterator<Item = &'static Rule> {
    crate::http::rules::ALL
        .iter()
        .chain(crate::tls::rules::ALL)
        .chain(crate::h2::rules::ALL)
        .chain(crate::ws::violations::ALL)
        .chain(crate::app::rules::ALL)
}

/// The rule with this code, if any layer declares it.
pub fn find(code: &str) -> Option<&'static Rule> {
    all().find(|r| r.code == code)
}

#[cfg(test)]
mod tests {
    #[test]
    fn codes_are_unique_snake_case_with_a_section() {
        let mut seen = std::collections::HashSet::new();
        for r in super::all() {
            // One code may stand for a kind of fault found under several sections.
            assert!(seen.insert((r.code, r.rfc)), "duplicate {}", r.code);
            assert!(
                r.code
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit()),
                "{}",
                r.code
            );
            assert!(!r.rfc.trim().is_empty(), "{}: no section", r.code);
        }
    }
}
