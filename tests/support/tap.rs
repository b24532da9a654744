//! A duplex end that records what it writes: real peers (the `h2` crate, tungstenite)
//! talk through it in memory, and the recording is what a capture would hold. Shared
//! by `tests/h2_layer.rs` and `benches/layers/h2.rs` (included with `#[path]`).

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};
use wsscope::types::Direction;

/// What each end wrote, in the order it was written.
pub type Log = Arc<Mutex<Vec<(Direction, Vec<u8>)>>>;

/// A duplex end that records what it writes, tagged with its direction.
pub struct Tap {
    pub inner: DuplexStream,
    pub dir: Direction,
    pub log: Log,
}

impl AsyncRead for Tap {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Tap {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = r {
            let dir = self.dir;
            self.log.lock().unwrap().push((dir, buf[..n].to_vec()));
        }
        r
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
