//! Incremental HTTP/1.x parsing of one direction of a connection.
//!
//! # The `feed` contract
//!
//! [`HttpParser::feed`] consumes **every byte it is given**, except in one case: right after it
//! emits a head after which the bytes may no longer be HTTP, it stops, and returns how many
//! bytes it consumed up to the end of that head. It stops after
//!
//! - a request that asks to switch protocols ([`RequestHead::wants_upgrade`]: any non-empty
//!   `Upgrade` header, so every WebSocket upgrade request and also e.g. `h2c`), and
//! - any response with status 101.
//!
//! While stopped, `feed` consumes nothing and returns 0. The caller then either calls
//! [`HttpParser::resume`] (the upgrade was refused: HTTP goes on, and the unconsumed bytes must
//! be fed again) or stops feeding this parser (the rest of the stream is WebSocket, starting
//! at the returned offset).
//!
//! Only the bytes of a head (and of chunked trailers) are buffered, up to `max_head_bytes`
//! ([`DEFAULT_MAX_HEAD_BYTES`]); bodies are counted and dropped, never stored. A head longer
//! than the bound, more than [`MAX_HEADERS`] header fields, or a head httparse rejects, is a
//! [`Violation`] after which the parser gives up ([`ParserState::Failed`]: later bytes are
//! consumed and ignored) until the next [`HttpParser::gap`].
//!
//! # Message bodies (RFC 9112 §6.3)
//!
//! Request: `Transfer-Encoding` ending in `chunked`, else `Content-Length`, else no body; a
//! `CONNECT` request is followed by its tunnel, counted as a body that lasts until the stream
//! ends. Response: none after `HEAD`, for 1xx, 204 and 304; a 2xx to `CONNECT` starts a tunnel
//! (read until the stream ends); then `chunked`, `Content-Length`, else read until the stream
//! ends. [`HttpItem::BodyDone`] follows every message that has a body section by those rules
//! (a `Content-Length: 0` included), with the body's length (for chunked: the sum of the chunk
//! sizes); messages without a body section get none.
//!
//! # Gaps
//!
//! After [`HttpParser::gap`] (bytes of this direction are missing) a partial head or a body
//! being skipped cannot be trusted: the parser discards bytes until a line that starts like a
//! start line (`HTTP/1.` for responses; a common method and a space for requests), the first
//! byte after the gap counting as a line start, and parses from there. A body read until the
//! stream ends simply goes on (its count then misses the lost bytes); a stopped parser stays
//! stopped. A response parser also forgets the methods it was told of, as their responses
//! may be among the lost bytes.

use std::collections::VecDeque;

use super::rules;
use super::{RequestHead, ResponseHead};
use crate::rules::Violation;

/// Default bound of one head (start line and header fields), in bytes: 64 KiB.
pub const DEFAULT_MAX_HEAD_BYTES: usize = 64 * 1024;

/// The most header fields one head may have; more is a violation, not a panic.
pub const MAX_HEADERS: usize = 128;

/// Bound of one chunk-size line (size and chunk extensions).
const MAX_CHUNK_LINE: usize = 4096;

/// Bound of the queue of request methods a response parser waits to see answered; methods
/// pushed beyond it are dropped (their responses are then framed as answers to `GET`).
const MAX_PENDING_METHODS: usize = 1024;

/// Which kind of message a parser reads: the client's requests or the server's responses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Client to server: requests.
    Request,
    /// Server to client: responses.
    Response,
}

/// What a parser found in the stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HttpItem {
    /// A complete request head.
    Request(RequestHead),
    /// A complete response head.
    Response(ResponseHead),
    /// Malformed HTTP (or a head beyond the parser's bounds).
    Violation(Violation),
    /// The body of the last message ended.
    BodyDone {
        /// Body bytes (for chunked bodies the sum of chunk sizes, without the framing).
        bytes: u64,
    },
}

/// Where a parser is, as seen from outside.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParserState {
    /// Between messages or inside a head.
    Head,
    /// Skipping a body.
    Body,
    /// Stopped after a head that may switch protocols; see [`HttpParser::resume`].
    Stopped,
    /// After a gap, looking for the next start line.
    Resync,
    /// Gave up after malformed HTTP; bytes are ignored until a gap.
    Failed,
    /// The stream ended ([`HttpParser::end`]).
    Ended,
}

/// How the body after a head is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Framing {
    None,
    Fixed(u64),
    Chunked,
    UntilClose,
}

/// The method of a request, as far as the framing of its response cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Answering {
    Head,
    Connect,
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Head,
    Fixed { remaining: u64 },
    Chunked(Chunk),
    UntilClose,
    Stopped(Framing),
    Resync,
    Failed,
    Ended,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Chunk {
    /// Reading a chunk-size line into `line`.
    Size,
    Data {
        remaining: u64,
    },
    /// Reading the CRLF after chunk data into `line`.
    DataEnd,
    /// Reading trailer lines; `line_len` counts the current line's bytes other than CR.
    Trailer {
        line_len: usize,
    },
}

/// Which request targets have their bodies kept ([`HttpParser::keep_bodies`]).
pub type TargetFilter = fn(&str) -> bool;

/// One direction's incremental HTTP/1.x parser (see the module docs for the contract).
#[derive(Debug)]
pub struct HttpParser {
    role: Role,
    max_head: usize,
    state: State,
    /// The head read so far (never a body byte).
    head: Vec<u8>,
    /// Where to look next for the end of the head in `head`.
    scan: usize,
    first_line_checked: bool,
    /// The head's length at its last early check (see `feed_head`).
    checked_len: usize,
    /// Body bytes of the current message so far.
    body_total: u64,
    /// A chunk-size line or the CRLF after chunk data.
    line: Vec<u8>,
    trailer_bytes: usize,
    /// The start of the current line while resynchronising.
    resync_line: Vec<u8>,
    resync_skip: bool,
    /// Only what framing needs of each method is kept, so the queue stays small; with
    /// it, whether the response's body is to be kept ([`HttpParser::keep_bodies`]).
    pending_methods: VecDeque<(Answering, bool)>,
    /// [`HttpParser::keep_bodies`]: the bound, and which request targets.
    keep: Option<(usize, TargetFilter)>,
    /// The body of the current message, while it is kept; and whether it was cut.
    body: Option<(Vec<u8>, bool)>,
    /// Whether the next body is kept (decided by its head).
    keep_next: bool,
    /// Bodies completed, one per [`HttpItem::BodyDone`] since the last
    /// [`HttpParser::take_body`]: `Some` for a kept body.
    done_bodies: VecDeque<Option<(Vec<u8>, bool)>>,
}

/// How a request line starts: a method and its space (where the parser resynchronises,
/// and how the analyzer recognises HTTP at the start of a connection).
pub const REQUEST_STARTS: &[&[u8]] = &[
    b"GET ",
    b"POST ",
    b"PUT ",
    b"HEAD ",
    b"DELETE ",
    b"OPTIONS ",
    b"PATCH ",
    b"CONNECT ",
    b"TRACE ",
];
const RESPONSE_STARTS: &[&[u8]] = &[b"HTTP/1."];

impl HttpParser {
    /// A parser for one direction; `max_head_bytes` bounds the bytes buffered for a head
    /// ([`DEFAULT_MAX_HEAD_BYTES`] is a good value).
    pub fn new(role: Role, max_head_bytes: usize) -> Self {
        HttpParser {
            role,
            max_head: max_head_bytes,
            state: State::Head,
            head: Vec::new(),
            scan: 0,
            first_line_checked: false,
            checked_len: 0,
            body_total: 0,
            line: Vec::new(),
            trailer_bytes: 0,
            resync_line: Vec::new(),
            resync_skip: false,
            pending_methods: VecDeque::new(),
            keep: None,
            body: None,
            keep_next: false,
            done_bodies: VecDeque::new(),
        }
    }

    /// Heap bytes this parser holds (for the memory budget): the head being read,
    /// the line buffers, and the bodies kept.
    pub fn heap_bytes(&self) -> usize {
        use crate::budget::{deque_bytes, vec_bytes};
        vec_bytes(&self.head)
            + vec_bytes(&self.line)
            + vec_bytes(&self.resync_line)
            + deque_bytes(&self.pending_methods)
            + self.body.as_ref().map_or(0, |(b, _)| vec_bytes(b))
            + deque_bytes(&self.done_bodies)
            + self
                .done_bodies
                .iter()
                .flatten()
                .map(|(b, _)| vec_bytes(b))
                .sum::<usize>()
    }

    /// Keeps whole bodies (at most `max` bytes each; past it cut, and said so) of the
    /// requests whose target `wanted` accepts, or (for a response parser) of the
    /// responses to requests announced with [`HttpParser::expect_kept_response_to`].
    /// Each [`HttpItem::BodyDone`] then has its entry in [`HttpParser::take_body`].
    pub fn keep_bodies(&mut self, max: usize, wanted: TargetFilter) {
        self.keep = Some((max, wanted));
    }

    /// The body of the message of the oldest [`HttpItem::BodyDone`] not yet taken:
    /// `Some((bytes, cut))` when it was kept (see [`HttpParser::keep_bodies`]).
    pub fn take_body(&mut self) -> Option<(Vec<u8>, bool)> {
        self.done_bodies.pop_front().flatten()
    }

    /// As [`HttpParser::expect_response_to`], and the response's body is kept (with
    /// [`HttpParser::keep_bodies`]).
    pub fn expect_kept_response_to(&mut self, method: &str) {
        self.expect(method, true);
    }

    fn keep_bytes(&mut self, bytes: &[u8]) {
        let Some((max, _)) = self.keep else { return };
        if let Some((b, cut)) = self.body.as_mut() {
            let room = max.saturating_sub(b.len());
            *cut |= bytes.len() > room;
            b.extend_from_slice(&bytes[..bytes.len().min(room)]);
        }
    }

    /// The role given to [`HttpParser::new`].
    pub fn role(&self) -> Role {
        self.role
    }

    /// Where the parser is.
    pub fn state(&self) -> ParserState {
        match self.state {
            State::Head => ParserState::Head,
            State::Fixed { .. } | State::Chunked(_) | State::UntilClose => ParserState::Body,
            State::Stopped(_) => ParserState::Stopped,
            State::Resync => ParserState::Resync,
            State::Failed => ParserState::Failed,
            State::Ended => ParserState::Ended,
        }
    }

    /// Whether the parser is stopped after a head that may switch protocols.
    pub fn is_stopped(&self) -> bool {
        matches!(self.state, State::Stopped(_))
    }

    /// Feeds stream bytes; returns how many were consumed: all of them, unless the parser
    /// stopped after a head (then the count ends at that head) or was already stopped (0).
    pub fn feed(&mut self, data: &[u8], out: &mut impl FnMut(HttpItem)) -> usize {
        let mut pos = 0;
        loop {
            if let State::Fixed { remaining: 0 } = self.state {
                self.finish_body(out);
            }
            let Some(rest) = data.get(pos..).filter(|r| !r.is_empty()) else {
                break;
            };
            match self.state {
                State::Head => pos += self.feed_head(rest, out),
                State::Fixed { remaining } => {
                    let n = remaining.min(rest.len() as u64);
                    self.state = State::Fixed {
                        remaining: remaining - n,
                    };
                    self.keep_bytes(&rest[..n as usize]);
                    self.body_total += n;
                    pos += n as usize;
                }
                State::Chunked(_) => pos += self.feed_chunked(rest, out),
                State::UntilClose => {
                    self.keep_bytes(rest);
                    self.body_total += rest.len() as u64;
                    pos = data.len();
                }
                State::Stopped(_) => break,
                State::Resync => pos += self.feed_resync(rest),
                State::Failed | State::Ended => pos = data.len(),
            }
        }
        pos
    }

    /// Leaves the stopped state: HTTP goes on (the upgrade was refused), starting with the
    /// body of the head that stopped the parser, if it has one. Does nothing when not stopped.
    pub fn resume(&mut self) {
        if let State::Stopped(framing) = self.state {
            self.enter(framing);
        }
    }

    /// Tells a response parser the method of the next request to be answered, in request
    /// order: responses to `HEAD` have no body and a 2xx to `CONNECT` starts a tunnel.
    /// Without one, a response is framed as an answer to `GET`.
    pub fn expect_response_to(&mut self, method: &str) {
        self.expect(method, false);
    }

    fn expect(&mut self, method: &str, keep: bool) {
        if self.pending_methods.len() < MAX_PENDING_METHODS {
            let answering = match method {
                "HEAD" => Answering::Head,
                "CONNECT" => Answering::Connect,
                _ => Answering::Other,
            };
            self.pending_methods.push_back((answering, keep));
        }
    }

    /// Bytes of this direction are missing: resynchronise (see the module docs).
    pub fn gap(&mut self) {
        // A kept body lost bytes: it is not handed over.
        self.body = None;
        self.keep_next = false;
        match self.state {
            State::UntilClose | State::Stopped(_) | State::Ended => {}
            State::Head
            | State::Fixed { .. }
            | State::Chunked(_)
            | State::Resync
            | State::Failed => {
                self.reset_head();
                self.line.clear();
                self.resync_line.clear();
                self.resync_skip = false;
                self.state = State::Resync;
            }
        }
        if self.role == Role::Response {
            self.pending_methods.clear();
        }
    }

    /// This direction's stream ended (FIN or RST): a body read until the end is done; a
    /// message cut short is a violation (RFC 9112 §8). Later bytes are ignored. A capture
    /// that merely ends is not a stream end: do not call this then.
    pub fn end(&mut self, out: &mut impl FnMut(HttpItem)) {
        match self.state {
            State::UntilClose | State::Fixed { remaining: 0 } => self.finish_body(out),
            // Cut short: malformed if what came already is (as it would have been
            // found, had it come in one segment), else incomplete.
            State::Head if !self.head.is_empty() => match self.early_error() {
                Some(v) => out(HttpItem::Violation(v)),
                None => out(incomplete("head")),
            },
            State::Fixed { .. } | State::Chunked(_) => out(incomplete("body")),
            _ => {}
        }
        self.state = State::Ended;
    }

    /// What is wrong with the head so far, if it cannot become HTTP. Too many header
    /// fields is a bound, not a syntax error: it is reported with the whole head (or
    /// `http_head_too_large` for a head that never ends), so that where the segments
    /// fell does not matter.
    fn early_error(&mut self) -> Option<Violation> {
        match self.parse_head(self.head.len(), false) {
            Parsed::Error(v) if v.code != rules::HTTP_TOO_MANY_HEADERS.code => Some(v),
            _ => None,
        }
    }

    fn reset_head(&mut self) {
        self.head.clear();
        // One huge head should not pin its buffer for the life of the connection.
        self.head.shrink_to(4096);
        self.scan = 0;
        self.first_line_checked = false;
        self.checked_len = 0;
    }

    fn fail(&mut self, v: Violation, out: &mut impl FnMut(HttpItem)) {
        out(HttpItem::Violation(v));
        self.reset_head();
        self.line.clear();
        self.state = State::Failed;
    }

    fn finish_body(&mut self, out: &mut impl FnMut(HttpItem)) {
        if self.keep.is_some() && self.done_bodies.len() < MAX_PENDING_METHODS {
            self.done_bodies.push_back(self.body.take());
        }
        out(HttpItem::BodyDone {
            bytes: self.body_total,
        });
        self.body_total = 0;
        self.state = State::Head;
    }

    /// Enters the body state for `framing` (or waits for the next head).
    fn enter(&mut self, framing: Framing) {
        self.body_total = 0;
        self.body = std::mem::take(&mut self.keep_next).then(|| (Vec::new(), false));
        self.state = match framing {
            Framing::None => State::Head,
            Framing::Fixed(n) => State::Fixed { remaining: n },
            Framing::Chunked => {
                self.line.clear();
                self.trailer_bytes = 0;
                State::Chunked(Chunk::Size)
            }
            Framing::UntilClose => State::UntilClose,
        };
    }

    /// Buffers head bytes; parses the head once its end is in the buffer.
    fn feed_head(&mut self, data: &[u8], out: &mut impl FnMut(HttpItem)) -> usize {
        let mut i = 0;
        if self.head.is_empty() {
            // Empty lines before a start line are tolerated (RFC 9112 §2.2), e.g. a CRLF
            // some clients send after a body.
            while data.get(i).is_some_and(|b| *b == b'\r' || *b == b'\n') {
                i += 1;
            }
            if i == data.len() {
                return i;
            }
        }
        let prev = self.head.len();
        let room = (self.max_head + 1).saturating_sub(prev);
        let take = room.min(data.len() - i);
        let new = &data[i..i + take];
        self.head.extend_from_slice(new);

        while let Some(end) = find_head_end(&self.head, self.scan) {
            if end > self.max_head {
                break;
            }
            match self.parse_head(end, true) {
                Parsed::Partial => self.scan = end,
                Parsed::Error(v) => {
                    self.fail(v, out);
                    return data.len();
                }
                Parsed::Request(req, framing) => {
                    let stop = req.wants_upgrade();
                    out(HttpItem::Request(req));
                    return self.after_head(framing, stop, i + end.saturating_sub(prev), data, out);
                }
                Parsed::Response(resp, framing) => {
                    let stop = resp.status == 101;
                    out(HttpItem::Response(resp));
                    return self.after_head(framing, stop, i + end.saturating_sub(prev), data, out);
                }
            }
        }
        self.scan = self.scan.max(self.head.len().saturating_sub(2));

        // Reject what is plainly not HTTP early rather than buffering 64 KiB of it: check
        // the first fragment, again once the start line is complete, and until then
        // whenever the head has doubled since the last check (so that how the stream was
        // segmented does not matter, in linear time overall), and before giving up on
        // its length: a head that went bad is malformed, not merely too large.
        let newline = new.contains(&b'\n');
        let too_large = self.head.len() > self.max_head;
        if prev == 0
            || too_large
            || (!self.first_line_checked && (newline || self.head.len() >= 2 * self.checked_len))
        {
            self.first_line_checked |= newline;
            self.checked_len = self.head.len();
            if let Some(v) = self.early_error() {
                self.fail(v, out);
                return data.len();
            }
        }
        if too_large {
            let v = Violation::new(
                rules::HTTP_HEAD_TOO_LARGE,
                format!(
                    "An HTTP head is longer than {} bytes; the rest of this direction is not parsed.",
                    self.max_head
                ),
            );
            self.fail(v, out);
            return data.len();
        }
        i + take
    }

    /// After a head was emitted: enters its body (or stops); returns the bytes of `data`
    /// consumed, `consumed` unless the body cannot be delimited.
    fn after_head(
        &mut self,
        framing: FramingResult,
        stop: bool,
        consumed: usize,
        data: &[u8],
        out: &mut impl FnMut(HttpItem),
    ) -> usize {
        self.reset_head();
        let (framing, extra) = match framing {
            Ok(f) => f,
            Err(v) => {
                self.fail(v, out);
                return data.len();
            }
        };
        if let Some(v) = extra {
            out(HttpItem::Violation(v));
        }
        if stop {
            self.state = State::Stopped(framing);
        } else {
            self.enter(framing);
            if let State::Fixed { remaining: 0 } = self.state {
                self.finish_body(out);
            }
        }
        consumed
    }

    /// Parses `self.head[..end]`; only when `commit` does a final response take its
    /// request's method off the queue (an early check of a partial head must not).
    fn parse_head(&mut self, end: usize, commit: bool) -> Parsed {
        let buf = self.head.get(..end).unwrap_or(&self.head);
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut config = httparse::ParserConfig::default();
        config
            .allow_multiple_spaces_in_request_line_delimiters(true)
            .allow_multiple_spaces_in_response_status_delimiters(true)
            .allow_obsolete_multiline_headers_in_responses(true)
            .allow_spaces_after_header_name_in_responses(true);
        match self.role {
            Role::Request => {
                let mut req = httparse::Request::new(&mut headers);
                match config.parse_request(&mut req, buf) {
                    Ok(httparse::Status::Complete(_)) => {
                        let head = RequestHead {
                            method: req.method.unwrap_or_default().to_string(),
                            target: req.path.unwrap_or_default().to_string(),
                            version: version_string(req.version),
                            headers: owned_headers(req.headers),
                        };
                        let framing = request_framing(&head);
                        if commit {
                            self.keep_next =
                                self.keep.is_some_and(|(_, wanted)| wanted(&head.target));
                        }
                        Parsed::Request(head, framing)
                    }
                    Ok(httparse::Status::Partial) => Parsed::Partial,
                    Err(e) => Parsed::Error(parse_error(e, "request")),
                }
            }
            Role::Response => {
                let mut resp = httparse::Response::new(&mut headers);
                match config.parse_response(&mut resp, buf) {
                    Ok(httparse::Status::Complete(_)) => {
                        let head = ResponseHead {
                            status: resp.code.unwrap_or_default(),
                            reason: resp.reason.unwrap_or_default().to_string(),
                            version: version_string(resp.version),
                            headers: owned_headers(resp.headers),
                        };
                        // Interim (1xx) responses do not answer the request: the final one does.
                        let method = match (head.status >= 200, commit) {
                            (true, true) => self.pending_methods.pop_front(),
                            (true, false) => self.pending_methods.front().copied(),
                            (false, _) => None,
                        };
                        if commit {
                            self.keep_next = method.is_some_and(|(_, keep)| keep);
                        }
                        let method = method.map(|(m, _)| m);
                        let framing = response_framing(&head, method.unwrap_or(Answering::Other));
                        Parsed::Response(head, framing)
                    }
                    Ok(httparse::Status::Partial) => Parsed::Partial,
                    Err(e) => Parsed::Error(parse_error(e, "response")),
                }
            }
        }
    }

    fn feed_chunked(&mut self, data: &[u8], out: &mut impl FnMut(HttpItem)) -> usize {
        let mut i = 0;
        while i < data.len() {
            let State::Chunked(phase) = self.state else {
                return i;
            };
            match phase {
                Chunk::Size | Chunk::DataEnd => {
                    let rest = &data[i..];
                    let (part, complete) = match rest.iter().position(|b| *b == b'\n') {
                        Some(k) => (&rest[..k], true),
                        None => (rest, false),
                    };
                    if self.line.len() + part.len() > MAX_CHUNK_LINE {
                        self.fail(
                            bad_chunk("a chunk-size line is longer than 4096 bytes"),
                            out,
                        );
                        return data.len();
                    }
                    self.line.extend_from_slice(part);
                    i += part.len() + usize::from(complete);
                    if !complete {
                        continue;
                    }
                    let line = std::mem::take(&mut self.line);
                    let line = line.strip_suffix(b"\r").unwrap_or(&line);
                    let next = if phase == Chunk::Size {
                        match parse_chunk_size(line) {
                            Some(0) => Chunk::Trailer { line_len: 0 },
                            Some(n) => Chunk::Data { remaining: n },
                            None => {
                                self.fail(bad_chunk("a chunk-size line is not a hex number"), out);
                                return data.len();
                            }
                        }
                    } else if line.is_empty() {
                        Chunk::Size
                    } else {
                        self.fail(bad_chunk("chunk data is longer than its size"), out);
                        return data.len();
                    };
                    self.state = State::Chunked(next);
                }
                Chunk::Data { remaining } => {
                    let n = remaining.min((data.len() - i) as u64);
                    self.keep_bytes(&data[i..i + n as usize]);
                    self.body_total += n;
                    i += n as usize;
                    self.state = State::Chunked(if remaining == n {
                        Chunk::DataEnd
                    } else {
                        Chunk::Data {
                            remaining: remaining - n,
                        }
                    });
                }
                Chunk::Trailer { mut line_len } => {
                    for (k, b) in data[i..].iter().enumerate() {
                        self.trailer_bytes += 1;
                        if self.trailer_bytes > self.max_head {
                            let v = Violation::new(
                                rules::HTTP_HEAD_TOO_LARGE,
                                format!(
                                    "Chunked trailers are longer than {} bytes; the rest of this direction is not parsed.",
                                    self.max_head
                                ),
                            );
                            self.fail(v, out);
                            return data.len();
                        }
                        match b {
                            b'\n' if line_len == 0 => {
                                self.finish_body(out);
                                return i + k + 1;
                            }
                            b'\n' => line_len = 0,
                            b'\r' => {}
                            _ => line_len += 1,
                        }
                    }
                    self.state = State::Chunked(Chunk::Trailer { line_len });
                    return data.len();
                }
            }
        }
        i
    }

    /// Discards bytes until a line starts like a start line; returns the bytes consumed.
    fn feed_resync(&mut self, data: &[u8]) -> usize {
        let starts = match self.role {
            Role::Request => REQUEST_STARTS,
            Role::Response => RESPONSE_STARTS,
        };
        for (j, &b) in data.iter().enumerate() {
            if self.resync_skip {
                if b == b'\n' {
                    self.resync_skip = false;
                }
                continue;
            }
            self.resync_line.push(b);
            let line = self.resync_line.as_slice();
            if starts.contains(&line) {
                self.reset_head();
                self.head = std::mem::take(&mut self.resync_line);
                self.state = State::Head;
                return j + 1;
            }
            if !starts.iter().any(|s| s.starts_with(line)) {
                self.resync_line.clear();
                self.resync_skip = b != b'\n';
            }
        }
        data.len()
    }
}

enum Parsed {
    Partial,
    Error(Violation),
    Request(RequestHead, FramingResult),
    Response(ResponseHead, FramingResult),
}

/// The end (exclusive) of the first empty line at or after `from`: `\n\r\n` or `\n\n`.
fn find_head_end(buf: &[u8], from: usize) -> Option<usize> {
    let mut p = from;
    while let Some(k) = buf.get(p..)?.iter().position(|b| *b == b'\n') {
        let at = p + k;
        match (buf.get(at + 1), buf.get(at + 2)) {
            (Some(b'\n'), _) => return Some(at + 2),
            (Some(b'\r'), Some(b'\n')) => return Some(at + 3),
            _ => p = at + 1,
        }
    }
    None
}

fn version_string(minor: Option<u8>) -> String {
    format!("HTTP/1.{}", minor.unwrap_or(1))
}

fn owned_headers(headers: &[httparse::Header<'_>]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|h| {
            (
                h.name.to_string(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect()
}

fn parse_error(e: httparse::Error, what: &str) -> Violation {
    match e {
        httparse::Error::TooManyHeaders => Violation::new(
            rules::HTTP_TOO_MANY_HEADERS,
            format!("An HTTP {what} has more than {MAX_HEADERS} header fields; the rest of this direction is not parsed."),
        ),
        e => Violation::new(
            rules::HTTP_MALFORMED,
            format!("A malformed HTTP {what} head ({e}); the rest of this direction is not parsed."),
        ),
    }
}

fn bad_chunk(what: &str) -> Violation {
    Violation::new(
        rules::HTTP_BAD_CHUNK,
        format!("Bad chunked encoding: {what}; the rest of this direction is not parsed."),
    )
}

fn incomplete(what: &str) -> HttpItem {
    HttpItem::Violation(Violation::new(
        rules::HTTP_INCOMPLETE_MESSAGE,
        format!("The stream ended inside an HTTP message {what}."),
    ))
}

/// Hex digits, then optional whitespace and chunk extensions (not checked further).
fn parse_chunk_size(line: &[u8]) -> Option<u64> {
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 {
        return None;
    }
    let mut n: u64 = 0;
    for b in &line[..digits] {
        let d = (*b as char).to_digit(16)?;
        n = n.checked_mul(16)?.checked_add(u64::from(d))?;
    }
    let rest = &line[digits..];
    let rest = &rest[rest
        .iter()
        .take_while(|b| **b == b' ' || **b == b'\t')
        .count()..];
    (rest.is_empty() || rest.first() == Some(&b';')).then_some(n)
}

/// Whether the last transfer coding is `chunked` (None without `Transfer-Encoding`).
fn chunked_last(headers: &[(String, String)]) -> Option<bool> {
    let mut codings = super::headers_all(headers, "transfer-encoding")
        .flat_map(|v| v.split(','))
        .map(super::trim_ows)
        .filter(|c| !c.is_empty())
        .peekable();
    codings.peek()?;
    Some(
        codings
            .last()
            .is_some_and(|c| c.eq_ignore_ascii_case("chunked")),
    )
}

/// The `Content-Length`: None when absent; an error when not one decimal number (repeated
/// identical values, as in `5, 5`, are allowed: RFC 9112 §6.3 item 5).
fn content_length(headers: &[(String, String)]) -> Result<Option<u64>, Violation> {
    let mut found: Option<u64> = None;
    for v in super::headers_all(headers, "content-length").flat_map(|v| v.split(',')) {
        let v = super::trim_ows(v);
        let n = (!v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
            .then(|| v.parse::<u64>().ok())
            .flatten();
        match (n, found) {
            (Some(n), None) => found = Some(n),
            (Some(n), Some(f)) if n == f => {}
            _ => {
                return Err(Violation::new(
                    rules::HTTP_BAD_LENGTH,
                    "A Content-Length is not one decimal number, so the body cannot be delimited; the rest of this direction is not parsed.",
                ))
            }
        }
    }
    Ok(found)
}

fn conflicting() -> Violation {
    Violation::new(
        rules::HTTP_CONFLICTING_LENGTH,
        "A message has both Transfer-Encoding and Content-Length; Transfer-Encoding is used.",
    )
}

type FramingResult = Result<(Framing, Option<Violation>), Violation>;

fn request_framing(req: &RequestHead) -> FramingResult {
    let cl = content_length(&req.headers);
    match chunked_last(&req.headers) {
        Some(true) => Ok((Framing::Chunked, req.header("content-length").map(|_| conflicting()))),
        Some(false) => Err(Violation::new(
            rules::HTTP_BAD_LENGTH,
            "A request's Transfer-Encoding does not end in chunked, so its body cannot be delimited; the rest of this direction is not parsed.",
        )),
        None if req.method.eq_ignore_ascii_case("CONNECT") => Ok((Framing::UntilClose, None)),
        None => Ok((cl?.map_or(Framing::None, Framing::Fixed), None)),
    }
}

fn response_framing(resp: &ResponseHead, method: Answering) -> FramingResult {
    if resp.status < 200 || resp.status == 204 || resp.status == 304 || method == Answering::Head {
        return Ok((Framing::None, None));
    }
    if method == Answering::Connect && resp.status < 300 {
        return Ok((Framing::UntilClose, None));
    }
    match chunked_last(&resp.headers) {
        Some(true) => Ok((
            Framing::Chunked,
            resp.header("content-length").map(|_| conflicting()),
        )),
        Some(false) => Ok((
            Framing::UntilClose,
            resp.header("content-length").map(|_| conflicting()),
        )),
        None => Ok((
            content_length(&resp.headers)?.map_or(Framing::UntilClose, Framing::Fixed),
            None,
        )),
    }
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
