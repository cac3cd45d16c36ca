//! Limits on a multipart request's raw bytes, enforced before actix-multipart parses them.
//!
//! actix-multipart looks for the first boundary by searching its whole buffer again each time
//! more bytes arrive, and keeps everything before it: 32 MB of junk before the first boundary
//! cost ~7 s of CPU, growing with the square of its length. [`guard`] skips that preamble itself
//! in one pass (keeping only the last few bytes, in case a boundary straddles two chunks) and
//! hands actix-multipart the body from the first boundary on. It also caps the whole body: once
//! more than the cap has arrived the stream ends with [`PayloadError::Overflow`], which the
//! handler answers with 413.

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::error::PayloadError;
use actix_web::web::{self, Bytes};
use futures_util::Stream;
use memchr::memmem::Finder;

/// The most bytes a request with an attachment may carry: the largest file (10 MiB) and its
/// form fields, with room to spare for multipart framing.
pub const MAX_REQUEST_BYTES: usize = 11 * 1024 * 1024;

/// Wraps a multipart request's payload: skips the preamble before the first `--boundary` line
/// (when the boundary is known) and ends the stream with [`PayloadError::Overflow`] once more
/// than `cap` bytes arrived.
pub fn guard(
    payload: web::Payload,
    boundary: Option<&str>,
    cap: usize,
) -> impl Stream<Item = Result<Bytes, PayloadError>> + 'static {
    Guarded {
        inner: payload,
        preamble: boundary.map(Preamble::new),
        seen: 0,
        cap,
        ended: false,
    }
}

struct Guarded {
    inner: web::Payload,
    /// Present until the first boundary is found.
    preamble: Option<Preamble>,
    seen: usize,
    cap: usize,
    ended: bool,
}

impl Stream for Guarded {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if this.ended {
                return Poll::Ready(None);
            }
            let chunk = match Pin::new(&mut this.inner).poll_next(cx) {
                Poll::Ready(Some(Ok(chunk))) => chunk,
                other => return other,
            };
            this.seen = this.seen.saturating_add(chunk.len());
            if this.seen > this.cap {
                this.ended = true;
                return Poll::Ready(Some(Err(PayloadError::Overflow)));
            }
            let Some(preamble) = &mut this.preamble else {
                return Poll::Ready(Some(Ok(chunk)));
            };
            // Preamble bytes are dropped here; read on until the boundary shows up.
            if let Some(body) = preamble.skip(&chunk) {
                this.preamble = None;
                return Poll::Ready(Some(Ok(body)));
            }
        }
    }
}

/// Finds the first delimiter line (`--boundary` at the start of the body or of a line) in one
/// pass over the stream.
pub(crate) struct Preamble {
    /// `\n--boundary`; the body is read as if it began with a line break.
    finder: Finder<'static>,
    /// The end of what was scanned so far, as long as the needle less one byte.
    carry: Vec<u8>,
}

impl Preamble {
    pub(crate) fn new(boundary: &str) -> Self {
        let needle = format!("\n--{boundary}").into_bytes();
        Self {
            finder: Finder::new(&needle).into_owned(),
            carry: b"\n".to_vec(),
        }
    }

    /// The body from the first delimiter on, once `chunk` completes it; `None` while still in
    /// the preamble.
    pub(crate) fn skip(&mut self, chunk: &[u8]) -> Option<Bytes> {
        let mut window = std::mem::take(&mut self.carry);
        window.extend_from_slice(chunk);
        if let Some(at) = self.finder.find(&window) {
            return Some(Bytes::from(window.split_off(at + 1)));
        }
        let keep = self.finder.needle().len() - 1;
        self.carry = window.split_off(window.len().saturating_sub(keep));
        None
    }
}

#[cfg(test)]
mod tests;
