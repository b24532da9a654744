//! `print --json` writes its lines on a second thread: serialising an event costs
//! about as much as decoding it, so the decoder hands over batches of events and
//! goes on while the other core writes them (the order is kept: one channel, one
//! writer).

use std::io::{self, BufWriter, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TryRecvError};
use std::sync::Arc;
use std::thread::JoinHandle;

use wsscope::analysis::Event;
use wsscope::output;

/// Events gathered before a batch is handed over.
const BATCH_EVENTS: usize = 512;
/// Payload bytes gathered before a batch is handed over (`--payload` keeps whole
/// messages: a batch is bounded by bytes too).
const BATCH_PAYLOAD: usize = 1 << 20;
/// Batches waiting for the writer: the decoder runs at most this far ahead.
const BATCHES_AHEAD: usize = 4;

/// The decoder's end of the writer thread.
pub struct JsonWriter {
    batch: Vec<Event>,
    payload: usize,
    tx: Option<SyncSender<Vec<Event>>>,
    /// Emptied batches given back.
    back: Receiver<Vec<Event>>,
    /// Set by the writer when the output is gone (e.g. `| head`).
    broken: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl JsonWriter {
    /// Starts the writer thread, writing to standard output.
    pub fn stdout() -> io::Result<JsonWriter> {
        let (tx, rx) = sync_channel::<Vec<Event>>(BATCHES_AHEAD);
        let (give_back, back) = sync_channel(BATCHES_AHEAD + 2);
        let broken = Arc::new(AtomicBool::new(false));
        let flag = broken.clone();
        let thread = std::thread::Builder::new()
            .name("wsscope-json".into())
            .spawn(move || {
                // Not locked while waiting: the decoder's thread flushes standard
                // output too (live, at every packet), and would wait on the lock.
                let mut out = BufWriter::with_capacity(1 << 16, io::stdout());
                let res = write_batches(&rx, &give_back, &mut out);
                if res.and_then(|()| out.flush()).is_err() {
                    flag.store(true, Ordering::Relaxed);
                }
            })?;
        Ok(JsonWriter {
            batch: Vec::with_capacity(BATCH_EVENTS),
            payload: 0,
            tx: Some(tx),
            back,
            broken,
            thread: Some(thread),
        })
    }

    /// True once the output is gone: the capture need not be read further.
    pub fn broken(&self) -> bool {
        self.broken.load(Ordering::Relaxed)
    }

    /// One event, written in its turn.
    pub fn event(&mut self, e: Event) {
        self.payload += e
            .kind
            .body()
            .and_then(|b| b.payload.as_ref())
            .map_or(0, |p| p.bytes.len());
        self.batch.push(e);
        if self.batch.len() >= BATCH_EVENTS || self.payload >= BATCH_PAYLOAD {
            self.hand_over();
        }
    }

    /// Hands what is gathered to the writer now (live: shown as packets arrive).
    pub fn hand_over(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        // A batch the writer is done with: its events are dropped here, on the
        // thread that made them (glibc's malloc is slow to take frees from another
        // thread: both would contend for one arena).
        let mut next = self.back.try_recv().unwrap_or_default();
        next.clear();
        let batch = std::mem::replace(&mut self.batch, next);
        self.payload = 0;
        let sent = self.tx.as_ref().is_some_and(|tx| tx.send(batch).is_ok());
        if !sent {
            self.broken.store(true, Ordering::Relaxed);
        }
    }

    /// Writes the rest and waits for the writer; false when the output is gone.
    pub fn finish(&mut self) -> bool {
        self.hand_over();
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        !self.broken()
    }
}

impl Drop for JsonWriter {
    fn drop(&mut self) {
        self.finish();
    }
}

/// The writer thread: each batch's lines in order; the output flushed whenever no
/// batch waits (live, lines appear as they come).
fn write_batches(
    rx: &Receiver<Vec<Event>>,
    give_back: &SyncSender<Vec<Event>>,
    out: &mut impl Write,
) -> io::Result<()> {
    // A batch's lines are gathered here and written at once.
    let mut lines = Vec::with_capacity(1 << 16);
    let mut next = rx.recv().ok();
    while let Some(batch) = next.take() {
        lines.clear();
        for e in &batch {
            output::push_json_line(&mut lines, e)?;
        }
        out.write_all(&lines)?;
        // Given back whole: the decoder drops the events (see `hand_over`).
        let _ = give_back.try_send(batch);
        next = match rx.try_recv() {
            Ok(b) => Some(b),
            Err(TryRecvError::Empty) => {
                out.flush()?;
                rx.recv().ok()
            }
            Err(TryRecvError::Disconnected) => None,
        };
    }
    Ok(())
}
