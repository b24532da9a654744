//! `--conn N[,M…]` and `--grep TEXT`: which events and connections a view shows.
//!
//! `--conn` keeps the events of the connections named (numbered as in the unfiltered
//! capture, as every event is). `--grep` keeps, in a timeline, the WebSocket messages
//! whose whole payload contains the text, each connection's `conn_open` shown before its
//! first such message; in a summary (stats), the connections that have such a message.

use std::collections::{HashMap, HashSet};

use crate::analysis::{Event, EventKind};

/// The selection asked for on the command line.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    conns: Option<HashSet<u64>>,
    grep: Option<Vec<u8>>,
    /// `conn_open` of connections with no match yet (timelines with `--grep`).
    pending_open: HashMap<u64, Event>,
    /// Connections with a matching message.
    matched: HashSet<u64>,
}

impl Selection {
    /// Only `conns` (all when empty); only messages containing `grep` (when given).
    pub fn new(conns: &[u64], grep: Option<&str>) -> Selection {
        Selection {
            conns: (!conns.is_empty()).then(|| conns.iter().copied().collect()),
            grep: grep.map(|g| g.as_bytes().to_vec()),
            ..Selection::default()
        }
    }

    /// True when nothing is filtered out.
    pub fn is_all(&self) -> bool {
        self.conns.is_none() && self.grep.is_none()
    }

    /// True when `--grep` was given (the payloads must be kept).
    pub fn greps(&self) -> bool {
        self.grep.is_some()
    }

    /// `conn` is one of those asked for.
    pub fn keeps_conn(&self, conn: u64) -> bool {
        self.conns.as_ref().map_or(true, |c| c.contains(&conn))
    }

    /// `e` is a WebSocket message whose kept payload contains the `--grep` text.
    pub fn matches(&self, e: &Event) -> bool {
        let (Some(needle), EventKind::WsMessage { body, .. }) = (&self.grep, &e.kind) else {
            return false;
        };
        body.payload
            .as_ref()
            .is_some_and(|p| contains(&p.bytes, needle))
    }

    /// A timeline's view of `e`: the events to show for it (none, `e`, or a waiting
    /// `conn_open` then `e`).
    pub fn timeline(&mut self, e: Event) -> Vec<Event> {
        if !self.keeps_conn(e.conn) {
            return Vec::new();
        }
        if self.grep.is_none() {
            return vec![e];
        }
        if matches!(e.kind, EventKind::ConnOpen { .. }) {
            self.pending_open.insert(e.conn, e);
            return Vec::new();
        }
        if !self.matches(&e) {
            return Vec::new();
        }
        self.matched.insert(e.conn);
        match self.pending_open.remove(&e.conn) {
            Some(open) => vec![open, e],
            None => vec![e],
        }
    }

    /// A summary's view of `e`: true when its connection is kept; a matching message
    /// marks its connection (see [`Selection::shows_conn`]).
    pub fn summary(&mut self, e: &Event) -> bool {
        if !self.keeps_conn(e.conn) {
            return false;
        }
        if self.matches(e) {
            self.matched.insert(e.conn);
        }
        true
    }

    /// A summary row of `conn` is shown: it is kept, and with `--grep` it had a match.
    pub fn shows_conn(&self, conn: u64) -> bool {
        self.keeps_conn(conn) && (self.grep.is_none() || self.matched.contains(&conn))
    }

    /// `conn` ended: a `conn_open` still waiting for a match is forgotten.
    pub fn conn_closed(&mut self, conn: u64) {
        self.pending_open.remove(&conn);
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(hay, needle).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{MessageBody, MessageKind, Payload};
    use crate::types::{Direction, Timestamp};

    fn ev(conn: u64, kind: EventKind) -> Event {
        Event {
            conn,
            pkt: 1,
            ts: Timestamp(0),
            dir: Some(Direction::C2S),
            stream: None,
            kind,
        }
    }

    fn open(conn: u64) -> Event {
        ev(
            conn,
            EventKind::ConnOpen {
                client: "a:1".into(),
                server: "b:2".into(),
                mid_stream: false,
            },
        )
    }

    fn msg(conn: u64, payload: Option<&[u8]>) -> Event {
        ev(
            conn,
            EventKind::WsMessage {
                kind: MessageKind::Binary,
                frames: 1,
                len: 3,
                wire_len: 5,
                compressed: false,
                preview: Default::default(),
                compressed_len: None,
                body: MessageBody {
                    payload: payload.map(|b| Payload {
                        bytes: b.to_vec(),
                        text: false,
                        truncated: false,
                    }),
                    ..MessageBody::default()
                },
            },
        )
    }

    fn names(v: &[Event]) -> Vec<(u64, &'static str)> {
        v.iter().map(|e| (e.conn, e.kind.name())).collect()
    }

    #[test]
    fn grep_keeps_matching_messages_and_their_connections() {
        let mut s = Selection::new(&[], Some("needle"));
        let mut shown = Vec::new();
        for e in [
            open(0),
            open(1),
            msg(0, Some(b"hay")),
            msg(1, Some(b"a needle!")),
            msg(1, Some(b"more needles")),
            msg(0, None),
        ] {
            assert!(s.clone().summary(&e));
            shown.extend(s.timeline(e));
        }
        assert_eq!(
            names(&shown),
            [(1, "conn_open"), (1, "ws_message"), (1, "ws_message")]
        );
        assert!(s.shows_conn(1) && !s.shows_conn(0));
    }

    #[test]
    fn conn_keeps_only_the_named_connections() {
        let mut s = Selection::new(&[2, 0], None);
        let shown: Vec<Event> = [open(0), open(1), open(2), msg(1, Some(b"x"))]
            .into_iter()
            .flat_map(|e| s.timeline(e))
            .collect();
        assert_eq!(names(&shown), [(0, "conn_open"), (2, "conn_open")]);
        assert!(s.shows_conn(2) && !s.shows_conn(1));
        assert!(!s.summary(&msg(1, Some(b"x"))));
        assert!(Selection::new(&[], None).is_all());
    }
}
