//! Decoding one connection of a replayed file again, for the view's
//! [`Loader`]: the producer notes, per connection, where its first packet is
//! and the number of its last ([`Spans`]); a load opens the file at that first
//! packet and feeds only that connection's packets (those between the two with
//! its two addresses, and IP fragments) through a fresh analyzer, numbered as
//! in the file, until it has the events asked for (with the end of the capture
//! when the connection was still open there).
//!
//! TCP reassembly, TLS and permessage-deflate keep state from a connection's
//! start, so a connection is always decoded from its first packet. Its events
//! are those the first reading gave, as long as nothing outside its packets
//! decided them: a connection ended by the flow table's bound
//! (`--max-flows` connections open at once) is not decoded again the same
//! (the view then says so rather than show other events).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use wsscope::analysis::{Analyzer, Config, Event, EventKind, Sink};
use wsscope::output::select::Selection;
use wsscope::types::Timestamp;
use wsscope::wire::{self, Decoded};

use super::store::Loader;
use super::Said;
use crate::capture::{Next, Resume, Source};

/// Where a connection's packets are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// The record of its first packet.
    pub first_offset: u64,
    /// That packet's number.
    pub first_pkt: u64,
    /// The number of its last packet so far.
    pub last_pkt: u64,
    /// What a reader starting at its first packet reads first ([`Spans`]'s).
    resume: u32,
}

/// Per connection, where its packets are: what the producer notes as it reads.
#[derive(Debug, Default)]
pub struct Spans {
    conns: HashMap<u64, Span>,
    resumes: Vec<Resume>,
    /// The capture has been read: its packets and its last packet's time.
    end: Option<(u64, Timestamp)>,
}

/// Connections whose packets are noted, at most (more than the view has rows:
/// not every connection has a row's events).
const MAX_SPANS: usize = 4 * super::store::MAX_ROWS;

/// [`Spans`] shared by the producer and the view.
pub type SharedSpans = Arc<Mutex<Spans>>;

impl Spans {
    /// Packet `pkt`, whose record is at `offset` (read after `resume`), was a
    /// segment of connection `conn`.
    pub fn packet(&mut self, conn: u64, pkt: u64, offset: u64, resume: &Resume) {
        if let Some(s) = self.conns.get_mut(&conn) {
            s.last_pkt = pkt;
            return;
        }
        if self.conns.len() >= MAX_SPANS {
            // Past the rows the view keeps: never shown, never decoded again.
            return;
        }
        if self.resumes.last() != Some(resume) {
            self.resumes.push(resume.clone());
        }
        let r = u32::try_from(self.resumes.len().saturating_sub(1)).unwrap_or(u32::MAX);
        self.conns.insert(
            conn,
            Span {
                first_offset: offset,
                first_pkt: pkt,
                last_pkt: pkt,
                resume: r,
            },
        );
    }

    /// The capture has been read: `packets` packets, the last at `last_ts`.
    pub fn finish(&mut self, packets: u64, last_ts: Timestamp) {
        self.end = Some((packets, last_ts));
    }

    /// Where connection `conn`'s packets are.
    pub fn span(&self, conn: u64) -> Option<Span> {
        self.conns.get(&conn).copied()
    }

    /// Bytes held, for the tests of its bound.
    #[cfg(test)]
    pub fn heap_bytes(&self) -> usize {
        self.conns.capacity() * (std::mem::size_of::<(u64, Span)>() + 8)
    }
}

/// How the file was read the first time: what a load must do the same.
#[derive(Clone)]
pub struct FileLoader {
    /// The capture file.
    pub path: String,
    /// `-f`: the packets it hides are not decoded.
    pub filter: Option<String>,
    /// The file's link type (for the filter).
    pub linktype: i32,
    /// The analyzer's options (keys, limits).
    pub cfg: Config,
    /// `--conn`.
    pub conns: Vec<u64>,
    /// `--grep`.
    pub grep: Option<String>,
    /// Where each connection's packets are.
    pub spans: SharedSpans,
}

/// Collects the events of one connection of the fresh analyzer.
#[derive(Default)]
struct Collect {
    events: Vec<Event>,
}

impl Sink for Collect {
    fn event(&mut self, e: Event) {
        self.events.push(e);
    }
}

fn same_flow(a: (SocketAddr, SocketAddr), src: SocketAddr, dst: SocketAddr) -> bool {
    (a.0 == src && a.1 == dst) || (a.0 == dst && a.1 == src)
}

impl FileLoader {
    /// Every event of connection `conn` up to its `to`-th (fewer when it has
    /// fewer), as the first reading gave them.
    pub fn decode(&self, conn: u64, to: usize) -> Result<Vec<Event>, Said> {
        let no_packets = || Said::new(|lang| tr!(lang, "tui.reload.no_packets", conn = conn));
        let (span, resume, end) = {
            let spans = self.spans.lock().map_err(|_| no_packets())?;
            let span = spans.span(conn).ok_or_else(no_packets)?;
            let resume = spans
                .resumes
                .get(span.resume as usize)
                .cloned()
                .unwrap_or_default();
            (span, resume, spans.end)
        };
        let mut source = Source::open_file_at(
            &self.path,
            self.filter.as_deref(),
            self.linktype,
            &resume,
            span.first_offset,
        )
        .ok_or_else(|| {
            let path = wsscope::text::safe(&self.path);
            Said::new(|lang| tr!(lang, "tui.reload.reopen", path = path))
        })?;
        let mut analyzer = Analyzer::new(self.cfg.clone());
        let mut wire = wire::Decoder::new(self.cfg.wire);
        let mut out = Collect::default();
        let mut flow: Option<(SocketAddr, SocketAddr)> = None;
        // The connection's number in the fresh analyzer.
        let mut fresh: Option<u64> = None;
        let mut pkt = span.first_pkt - 1;
        let mut sel = Selection::new(&self.conns, self.grep.as_deref());
        let mut kept: Vec<Event> = Vec::new();
        let mut take = |out: &mut Collect, fresh: Option<u64>, kept: &mut Vec<Event>| {
            for mut e in out.events.drain(..) {
                if fresh != Some(e.conn) {
                    continue;
                }
                e.conn = conn;
                for mut e in sel.timeline(e) {
                    // As the producer hands them to the view: without payloads.
                    if let EventKind::WsMessage { body, .. } = &mut e.kind {
                        body.payload = None;
                    }
                    kept.push(e);
                }
            }
        };
        while kept.len() < to && pkt < span.last_pkt {
            let p = match source.next_packet() {
                Next::Packet(p) => p,
                Next::Filtered(_) => {
                    pkt += 1;
                    continue;
                }
                Next::End | Next::Timeout => break,
                Next::Damaged(why) => return Err(Said::new(|lang| why.text(lang))),
            };
            pkt += 1;
            let feed = match wire.decode(p.linktype, p.data, p.ts) {
                Decoded::Tcp(seg) => match flow {
                    None if pkt == span.first_pkt => {
                        flow = Some((seg.src, seg.dst));
                        true
                    }
                    Some(f) => same_flow(f, seg.src, seg.dst),
                    None => false,
                },
                // A fragment may be one of this connection's.
                Decoded::FragmentHeld => true,
                Decoded::NotTcp | Decoded::Problem(_) => false,
            };
            if !feed {
                continue;
            }
            analyzer.set_packets(pkt - 1);
            analyzer.packet(p.linktype, p.ts, p.data, &mut out);
            if pkt == span.first_pkt {
                fresh = analyzer.last_conn();
            }
            take(&mut out, fresh, &mut kept);
        }
        if kept.len() < to {
            // Still open at the end of the capture: ended as the first reading did.
            if let Some((packets, last_ts)) = end {
                analyzer.set_packets(packets);
                analyzer.finish(last_ts, &mut out);
                take(&mut out, fresh, &mut kept);
            }
        }
        kept.truncate(to);
        Ok(kept)
    }
}

impl Loader for FileLoader {
    fn load(&mut self, conn: u64, from: usize, to: usize) -> Result<Vec<Event>, Said> {
        let mut events = self.decode(conn, to)?;
        Ok(events.split_off(from.min(events.len())))
    }
}
