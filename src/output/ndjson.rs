//! The serializer of [`super::push_json`]: `serde_json`'s compact output into a `Vec<u8>`.

use serde::ser::{self, Impossible, Serialize};
use serde_json::ser::{CompactFormatter, Formatter};

use crate::analysis::{Event, EventKind, MessageBody};
use crate::text::Hex;

type Error = serde_json::Error;
type Result<T = ()> = std::result::Result<T, Error>;

/// Writes one value to `out`.
pub struct Json<'a> {
    pub out: &'a mut Vec<u8>,
}

/// How `serde_json` escapes each byte: 0 for none, `u` for `\u00XX`, else the
/// letter after the backslash.
const ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = b'u';
        b += 1;
    }
    t[0x08] = b'b';
    t[0x09] = b't';
    t[0x0a] = b'n';
    t[0x0c] = b'f';
    t[0x0d] = b'r';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};

/// Whether any of the eight bytes of `w` needs escaping (below 0x20, `"` or `\`);
/// exact as a whole, not as to which byte ([`crate::text::word`]).
#[inline]
fn any_to_escape(w: u64) -> bool {
    use crate::text::word;
    word::any_below(w, 0x20) | word::any_equal(w, b'"') | word::any_equal(w, b'\\')
}

/// The length of the start of `bytes` that needs no escaping.
#[inline]
fn clean_prefix(bytes: &[u8]) -> usize {
    let mut n = 0;
    for chunk in bytes.chunks_exact(8) {
        let w = u64::from_ne_bytes(chunk.try_into().expect("8 bytes"));
        if any_to_escape(w) {
            break;
        }
        n += 8;
    }
    while n < bytes.len() && ESCAPE[usize::from(bytes[n])] == 0 {
        n += 1;
    }
    n
}

/// Whether some byte of `bytes` needs escaping: eight bytes at a time, the last
/// (or only) word overlapping the ones before.
#[inline]
fn any_to_escape_in(bytes: &[u8]) -> bool {
    let n = bytes.len();
    let word = |b: &[u8]| u64::from_ne_bytes(b.try_into().expect("8 bytes"));
    let half = |b: &[u8]| u64::from(u32::from_ne_bytes(b.try_into().expect("4 bytes")));
    if n >= 8 {
        bytes.chunks_exact(8).any(|c| any_to_escape(word(c)))
            || any_to_escape(word(&bytes[n - 8..]))
    } else if n >= 4 {
        any_to_escape(half(&bytes[..4]) | half(&bytes[n - 4..]) << 32)
    } else if n > 0 {
        // The first, middle and last byte (all of them), the rest spaces.
        any_to_escape(u64::from_ne_bytes([
            bytes[0],
            bytes[n / 2],
            bytes[n - 1],
            b' ',
            b' ',
            b' ',
            b' ',
            b' ',
        ]))
    } else {
        false
    }
}

/// `s` as a JSON string, escaped as `serde_json` escapes it.
#[inline]
pub fn push_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    if any_to_escape_in(bytes) {
        push_escaped(out, bytes);
    } else {
        out.reserve(bytes.len() + 2);
        out.push(b'"');
        out.extend_from_slice(bytes);
        out.push(b'"');
    }
}

/// [`push_str`] of a string with something to escape: the clean runs copied
/// whole, the rest escaped byte by byte.
#[cold]
#[inline(never)]
fn push_escaped(out: &mut Vec<u8>, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut rest = bytes;
    loop {
        let clean = clean_prefix(rest);
        out.extend_from_slice(&rest[..clean]);
        let Some(&b) = rest.get(clean) else { break };
        match ESCAPE[usize::from(b)] {
            b'u' => out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0xf)],
            ]),
            letter => out.extend_from_slice(&[b'\\', letter]),
        }
        rest = &rest[clean + 1..];
    }
    out.push(b'"');
}

impl<'a> Json<'a> {
    fn number(self, write: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> Result {
        write(self.out).map_err(ser::Error::custom)
    }

    fn compound(self, open: u8) -> Compound<'a> {
        self.out.push(open);
        Compound {
            out: self.out,
            first: true,
        }
    }

    /// `{"variant":` of the externally tagged enum variants.
    fn variant(self, variant: &str) -> Json<'a> {
        self.out.push(b'{');
        push_str(self.out, variant);
        self.out.push(b':');
        self
    }
}

/// An array or object being written.
pub struct Compound<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl Compound<'_> {
    fn comma(&mut self) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.comma();
        value.serialize(Json { out: self.out })
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result {
        self.comma();
        push_str(self.out, key);
        self.out.push(b':');
        value.serialize(Json { out: self.out })
    }

    fn close(self, close: &[u8]) -> Result {
        self.out.extend_from_slice(close);
        Ok(())
    }
}

impl<'a> ser::Serializer for Json<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    fn serialize_bool(self, v: bool) -> Result {
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result {
        self.number(|w| CompactFormatter.write_i8(w, v))
    }
    fn serialize_i16(self, v: i16) -> Result {
        self.number(|w| CompactFormatter.write_i16(w, v))
    }
    fn serialize_i32(self, v: i32) -> Result {
        self.number(|w| CompactFormatter.write_i32(w, v))
    }
    fn serialize_i64(self, v: i64) -> Result {
        self.number(|w| CompactFormatter.write_i64(w, v))
    }
    fn serialize_i128(self, v: i128) -> Result {
        self.number(|w| CompactFormatter.write_i128(w, v))
    }
    fn serialize_u8(self, v: u8) -> Result {
        self.number(|w| CompactFormatter.write_u8(w, v))
    }
    fn serialize_u16(self, v: u16) -> Result {
        self.number(|w| CompactFormatter.write_u16(w, v))
    }
    fn serialize_u32(self, v: u32) -> Result {
        self.number(|w| CompactFormatter.write_u32(w, v))
    }
    fn serialize_u64(self, v: u64) -> Result {
        self.number(|w| CompactFormatter.write_u64(w, v))
    }
    fn serialize_u128(self, v: u128) -> Result {
        self.number(|w| CompactFormatter.write_u128(w, v))
    }
    fn serialize_f32(self, v: f32) -> Result {
        if v.is_finite() {
            self.number(|w| CompactFormatter.write_f32(w, v))
        } else {
            self.serialize_unit()
        }
    }
    fn serialize_f64(self, v: f64) -> Result {
        if v.is_finite() {
            self.number(|w| CompactFormatter.write_f64(w, v))
        } else {
            self.serialize_unit()
        }
    }
    fn serialize_char(self, v: char) -> Result {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result {
        push_str(self.out, v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result {
        let mut seq = self.compound(b'[');
        for b in v {
            seq.element(b)?;
        }
        seq.close(b"]")
    }
    fn serialize_none(self) -> Result {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result {
        self.serialize_unit()
    }
    fn serialize_unit_variant(self, _name: &'static str, _i: u32, variant: &'static str) -> Result {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _i: u32,
        variant: &'static str,
        value: &T,
    ) -> Result {
        let Json { out } = self.variant(variant);
        value.serialize(Json { out: &mut *out })?;
        out.push(b'}');
        Ok(())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Compound<'a>> {
        Ok(self.compound(b'['))
    }
    fn serialize_tuple(self, _len: usize) -> Result<Compound<'a>> {
        Ok(self.compound(b'['))
    }
    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<Compound<'a>> {
        Ok(self.compound(b'['))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _i: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>> {
        Ok(self.variant(variant).compound(b'['))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Compound<'a>> {
        Ok(self.compound(b'{'))
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Compound<'a>> {
        Ok(self.compound(b'{'))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _i: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>> {
        Ok(self.variant(variant).compound(b'{'))
    }
}

impl ser::SerializeSeq for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.element(value)
    }
    fn end(self) -> Result {
        self.close(b"]")
    }
}

impl ser::SerializeTuple for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.element(value)
    }
    fn end(self) -> Result {
        self.close(b"]")
    }
}

impl ser::SerializeTupleStruct for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.element(value)
    }
    fn end(self) -> Result {
        self.close(b"]")
    }
}

impl ser::SerializeTupleVariant for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.element(value)
    }
    fn end(self) -> Result {
        self.close(b"]}")
    }
}

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result {
        self.comma();
        key.serialize(Key { out: self.out })?;
        self.out.push(b':');
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        value.serialize(Json { out: self.out })
    }
    fn end(self) -> Result {
        self.close(b"}")
    }
}

impl ser::SerializeStruct for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result {
        self.field(key, value)
    }
    fn end(self) -> Result {
        self.close(b"}")
    }
}

impl ser::SerializeStructVariant for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result {
        self.field(key, value)
    }
    fn end(self) -> Result {
        self.close(b"}}")
    }
}

/// A map key: a string, as `serde_json` writes keys (numbers and booleans quoted;
/// anything else is an error, as there).
struct Key<'a> {
    out: &'a mut Vec<u8>,
}

impl Key<'_> {
    fn quoted(self, write: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> Result {
        self.out.push(b'"');
        write(self.out).map_err(ser::Error::custom)?;
        self.out.push(b'"');
        Ok(())
    }
}

fn key_must_be_a_string() -> Error {
    ser::Error::custom("key must be a string")
}

impl ser::Serializer for Key<'_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Impossible<(), Error>;
    type SerializeTuple = Impossible<(), Error>;
    type SerializeTupleStruct = Impossible<(), Error>;
    type SerializeTupleVariant = Impossible<(), Error>;
    type SerializeMap = Impossible<(), Error>;
    type SerializeStruct = Impossible<(), Error>;
    type SerializeStructVariant = Impossible<(), Error>;

    fn serialize_str(self, v: &str) -> Result {
        push_str(self.out, v);
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_unit_variant(self, _name: &'static str, _i: u32, variant: &'static str) -> Result {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result {
        value.serialize(self)
    }
    fn serialize_bool(self, v: bool) -> Result {
        self.quoted(|w| CompactFormatter.write_bool(w, v))
    }
    fn serialize_i8(self, v: i8) -> Result {
        self.quoted(|w| CompactFormatter.write_i8(w, v))
    }
    fn serialize_i16(self, v: i16) -> Result {
        self.quoted(|w| CompactFormatter.write_i16(w, v))
    }
    fn serialize_i32(self, v: i32) -> Result {
        self.quoted(|w| CompactFormatter.write_i32(w, v))
    }
    fn serialize_i64(self, v: i64) -> Result {
        self.quoted(|w| CompactFormatter.write_i64(w, v))
    }
    fn serialize_i128(self, v: i128) -> Result {
        self.quoted(|w| CompactFormatter.write_i128(w, v))
    }
    fn serialize_u8(self, v: u8) -> Result {
        self.quoted(|w| CompactFormatter.write_u8(w, v))
    }
    fn serialize_u16(self, v: u16) -> Result {
        self.quoted(|w| CompactFormatter.write_u16(w, v))
    }
    fn serialize_u32(self, v: u32) -> Result {
        self.quoted(|w| CompactFormatter.write_u32(w, v))
    }
    fn serialize_u64(self, v: u64) -> Result {
        self.quoted(|w| CompactFormatter.write_u64(w, v))
    }
    fn serialize_u128(self, v: u128) -> Result {
        self.quoted(|w| CompactFormatter.write_u128(w, v))
    }
    fn serialize_f32(self, v: f32) -> Result {
        if !v.is_finite() {
            return Err(key_must_be_a_string());
        }
        self.quoted(|w| CompactFormatter.write_f32(w, v))
    }
    fn serialize_f64(self, v: f64) -> Result {
        if !v.is_finite() {
            return Err(key_must_be_a_string());
        }
        self.quoted(|w| CompactFormatter.write_f64(w, v))
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result {
        Err(key_must_be_a_string())
    }
    fn serialize_none(self) -> Result {
        Err(key_must_be_a_string())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result {
        Err(key_must_be_a_string())
    }
    fn serialize_unit(self) -> Result {
        Err(key_must_be_a_string())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result {
        Err(key_must_be_a_string())
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _i: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result {
        Err(key_must_be_a_string())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _i: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Err(key_must_be_a_string())
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap> {
        Err(key_must_be_a_string())
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self::SerializeStruct> {
        Err(key_must_be_a_string())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _i: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Err(key_must_be_a_string())
    }
}

/// The lines of `ws_frame` and of `ws_message` (without a payload or application
/// packets kept), most of the lines of a `print --json`, written field by field:
/// each key with its punctuation is one copy of a literal, where the serializer
/// passes every key through `serialize_str` and scans it for escapes. The bytes are
/// those of the serializer (tests/ndjson_writer.rs checks it on every event of the
/// shipped captures, tests/hostile.rs on mutated ones). False, and nothing
/// written, for every other event.
pub fn push_frequent(out: &mut Vec<u8>, e: &Event) -> bool {
    match &e.kind {
        // Every field named, none `..`: a field added to the event stops the build here.
        EventKind::WsFrame {
            fin,
            rsv,
            opcode,
            opname,
            masked,
            mask_key,
            len,
            header_len,
            close_code,
            close_reason,
            payload_hex,
            rtt_ms,
            mid_stream,
        } => {
            head(out, e, b"ws_frame");
            out.extend_from_slice(b",\"fin\":");
            push_bool(out, *fin);
            out.extend_from_slice(b",\"rsv\":");
            push_u64(out, u64::from(*rsv));
            out.extend_from_slice(b",\"opcode\":");
            push_u64(out, u64::from(*opcode));
            out.extend_from_slice(b",\"opname\":");
            push_str(out, opname);
            out.extend_from_slice(b",\"masked\":");
            push_bool(out, *masked);
            out.extend_from_slice(b",\"mask_key\":");
            match mask_key {
                Some(k) => push_hex(out, k),
                None => out.extend_from_slice(b"null"),
            }
            out.extend_from_slice(b",\"len\":");
            push_u64(out, *len);
            out.extend_from_slice(b",\"header_len\":");
            push_u64(out, u64::from(*header_len));
            if let Some(code) = close_code {
                out.extend_from_slice(b",\"close_code\":");
                match code {
                    Some(c) => push_u64(out, u64::from(*c)),
                    None => out.extend_from_slice(b"null"),
                }
            }
            if let Some(reason) = close_reason {
                out.extend_from_slice(b",\"close_reason\":");
                push_str(out, reason);
            }
            out.extend_from_slice(b",\"payload_hex\":");
            push_hex(out, payload_hex);
            if let Some(ms) = rtt_ms {
                out.extend_from_slice(b",\"rtt_ms\":");
                push_f64(out, *ms);
            }
            if *mid_stream {
                out.extend_from_slice(b",\"mid_stream\":true");
            }
        }
        EventKind::WsMessage {
            kind,
            frames,
            len,
            wire_len,
            compressed,
            preview,
            compressed_len,
            body:
                MessageBody {
                    payload: None,
                    app: None,
                    apps,
                },
        } if apps.is_empty() => {
            head(out, e, b"ws_message");
            out.extend_from_slice(b",\"kind\":");
            push_str(out, kind.as_str());
            out.extend_from_slice(b",\"frames\":");
            push_u64(out, u64::from(*frames));
            out.extend_from_slice(b",\"len\":");
            push_u64(out, *len);
            out.extend_from_slice(b",\"wire_len\":");
            push_u64(out, *wire_len);
            out.extend_from_slice(b",\"compressed\":");
            push_bool(out, *compressed);
            out.extend_from_slice(b",\"preview\":");
            push_str(out, &preview.render());
            if let Some(n) = compressed_len {
                out.extend_from_slice(b",\"compressed_len\":");
                push_u64(out, *n);
            }
        }
        _ => return false,
    }
    out.push(b'}');
    true
}

/// `{"conn":..,"pkt":..,"ts":..` with `dir` and `stream` where the event has them,
/// and `"event"`: the fields of [`Event`] before its kind's.
fn head(out: &mut Vec<u8>, e: &Event, name: &[u8]) {
    out.extend_from_slice(b"{\"conn\":");
    push_u64(out, e.conn);
    out.extend_from_slice(b",\"pkt\":");
    push_u64(out, e.pkt);
    out.extend_from_slice(b",\"ts\":");
    push_f64(out, e.ts.json_secs());
    if let Some(dir) = e.dir {
        out.extend_from_slice(b",\"dir\":");
        push_str(out, dir.as_str());
    }
    if let Some(stream) = e.stream {
        out.extend_from_slice(b",\"stream\":");
        push_u64(out, u64::from(stream));
    }
    out.extend_from_slice(b",\"event\":\"");
    out.extend_from_slice(name);
    out.push(b'"');
}

fn push_bool(out: &mut Vec<u8>, v: bool) {
    out.extend_from_slice(if v { b"true" } else { b"false" });
}

fn push_u64(out: &mut Vec<u8>, v: u64) {
    // Writing to a Vec cannot fail.
    let _ = CompactFormatter.write_u64(out, v);
}

/// As `serde_json` writes a float: null when it is not finite.
fn push_f64(out: &mut Vec<u8>, v: f64) {
    if v.is_finite() {
        let _ = CompactFormatter.write_f64(out, v);
    } else {
        out.extend_from_slice(b"null");
    }
}

/// Hex digits need no escape.
fn push_hex<const N: usize>(out: &mut Vec<u8>, v: &Hex<N>) {
    out.push(b'"');
    v.push_to(out);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{AppInfo, MessageKind, MessagePreview, Payload};
    use crate::types::{Direction, Timestamp};

    fn event(kind: EventKind, dir: Option<Direction>, stream: Option<u32>, ts: i64) -> Event {
        Event {
            conn: 7,
            pkt: u64::MAX,
            ts: Timestamp(ts),
            dir,
            stream,
            kind,
        }
    }

    fn frame(variant: usize) -> EventKind {
        let odd = variant % 2 == 1;
        EventKind::WsFrame {
            fin: odd,
            rsv: (variant % 8) as u8,
            opcode: (variant % 16) as u8,
            opname: ["text", "close", "pong", "reserved"][variant % 4],
            masked: !odd,
            mask_key: odd.then(|| Hex::new(&[0x0a, 0x1b, 0x2c, 0xfd])),
            len: [0, 125, u64::MAX][variant % 3],
            header_len: 14,
            close_code: [None, Some(None), Some(Some(1000)), Some(Some(u16::MAX))][variant % 4],
            close_reason: [
                None,
                Some(String::new()),
                Some("bye \"now\" \\ \u{1}\u{2028}é".into()),
            ][variant % 3]
                .clone(),
            payload_hex: Hex::new([&[][..], &[0, 0xff], &[0x22; 40]][variant % 3]),
            rtt_ms: [
                None,
                Some(0.25),
                Some(f64::NAN),
                Some(f64::INFINITY),
                Some(-0.0),
                Some(1e300),
            ][variant % 6],
            mid_stream: variant % 5 == 0,
        }
    }

    fn message(variant: usize) -> EventKind {
        EventKind::WsMessage {
            kind: [MessageKind::Text, MessageKind::Binary][variant % 2],
            frames: [1, u32::MAX][variant % 2],
            len: variant as u64 * 1000,
            wire_len: u64::MAX - variant as u64,
            compressed: variant % 3 == 0,
            preview: MessagePreview::from_head(
                ["", "hello", "\u{0}\u{1f}\u{7f}\"\\ 😀 x"][variant % 3].as_bytes(),
                [MessageKind::Text, MessageKind::Binary][variant % 2],
                [0, 5, 1000][variant % 3],
            ),
            compressed_len: [None, Some(0), Some(12345)][variant % 3],
            body: MessageBody::default(),
        }
    }

    fn serde_line(e: &Event) -> String {
        serde_json::to_string(e).expect("serializes")
    }

    /// Every optional field present and absent, odd strings and numbers, with and
    /// without `dir` and `stream`: written field by field, as serde writes them.
    #[test]
    fn frames_and_messages_are_written_as_serde_writes_them() {
        let heads = [
            (None, None, 0),
            (Some(Direction::C2S), None, 1_700_000_000_123_456),
            (Some(Direction::S2C), Some(u32::MAX), -1),
            (None, Some(1), i64::MAX),
        ];
        for variant in 0..60 {
            for (dir, stream, ts) in heads {
                for kind in [frame(variant), message(variant)] {
                    let e = event(kind, dir, stream, ts);
                    let mut out = Vec::new();
                    assert!(push_frequent(&mut out, &e), "{e:?}");
                    assert_eq!(String::from_utf8(out).unwrap(), serde_line(&e));
                }
            }
        }
    }

    /// A message with its payload or application packets, and every other event,
    /// are left to the serializer: nothing written.
    #[test]
    fn other_events_are_left_to_the_serializer() {
        let app = AppInfo {
            protocol: "json",
            kind: "object".into(),
            name: None,
            id: None,
            summary: "{}".into(),
        };
        let bodies = [
            MessageBody {
                payload: Some(Payload {
                    bytes: b"{}".to_vec(),
                    text: true,
                    truncated: false,
                }),
                ..MessageBody::default()
            },
            MessageBody {
                app: Some(Box::new(app.clone())),
                ..MessageBody::default()
            },
            MessageBody {
                apps: vec![app.clone(), app],
                ..MessageBody::default()
            },
        ];
        let mut others: Vec<EventKind> = bodies
            .into_iter()
            .map(|b| match message(1) {
                EventKind::WsMessage {
                    kind,
                    frames,
                    len,
                    wire_len,
                    compressed,
                    preview,
                    compressed_len,
                    ..
                } => EventKind::WsMessage {
                    kind,
                    frames,
                    len,
                    wire_len,
                    compressed,
                    preview,
                    compressed_len,
                    body: b,
                },
                _ => unreachable!(),
            })
            .collect();
        others.push(EventKind::ConnOpen {
            client: "a".into(),
            server: "b".into(),
            mid_stream: false,
        });
        for kind in others {
            let e = event(kind, None, None, 0);
            let mut out = Vec::new();
            assert!(!push_frequent(&mut out, &e), "{e:?}");
            assert!(out.is_empty());
        }
    }
}
