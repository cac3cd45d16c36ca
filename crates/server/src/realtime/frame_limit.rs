//! The size limit on what a WebSocket client sends, enforced on the raw bytes before actix-ws
//! decodes them.
//!
//! actix-http's codec reads a frame's declared length but waits for the whole payload before it
//! compares that length with its limit, so a header declaring 1 GiB makes it buffer whatever
//! follows. [`guard`] puts a reader of frame headers (RFC 6455 §5.2) in front of it: it tracks
//! where each frame ends in the byte stream, adds up the fragments of a message, and ends the
//! stream just before the first frame whose declared length, or whose message's running total,
//! is over the limit. Nothing of that frame's payload is read; the connection then closes with
//! 1009 (message too big), which [`Tripwire::tripped`] tells the socket.

use std::cell::Cell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use actix_web::dev;
use actix_web::error::PayloadError;
use actix_web::web::{self, Bytes};
use futures_util::Stream;

/// Whether the limit ended a connection's byte stream.
#[derive(Debug, Clone, Default)]
pub struct Tripwire(Rc<Cell<bool>>);

impl Tripwire {
    /// The stream ended because a frame or message was over the limit.
    #[must_use]
    pub fn tripped(&self) -> bool {
        self.0.get()
    }
}

/// Wraps a WebSocket request's payload so that no frame or fragmented message over `limit`
/// bytes gets past its header.
#[must_use]
pub fn guard(payload: web::Payload, limit: usize) -> (dev::Payload, Tripwire) {
    let tripwire = Tripwire::default();
    let guarded = Guarded {
        inner: payload,
        headers: FrameHeaders::new(limit),
        tripwire: tripwire.clone(),
        ended: false,
    };
    let boxed: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> = Box::pin(guarded);
    (dev::Payload::from(boxed), tripwire)
}

struct Guarded {
    inner: web::Payload,
    headers: FrameHeaders,
    tripwire: Tripwire,
    ended: bool,
}

impl Stream for Guarded {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.ended {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(bytes))) => match this.headers.scan(&bytes) {
                Ok(()) => Poll::Ready(Some(Ok(bytes))),
                Err(OverLimit { frame_start }) => {
                    // The frames before the refused one still reach the socket; the stream
                    // then ends, as if the client had gone, and the socket reads the tripwire.
                    this.ended = true;
                    this.tripwire.0.set(true);
                    if frame_start > 0 {
                        Poll::Ready(Some(Ok(bytes.slice(..frame_start))))
                    } else {
                        Poll::Ready(None)
                    }
                }
            },
            other => other,
        }
    }
}

/// A frame or message over the limit; its header starts at `frame_start` in the chunk scanned
/// (0 when it started in an earlier chunk).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct OverLimit {
    pub(crate) frame_start: usize,
}

/// Follows frame boundaries through a client's byte stream.
#[derive(Debug)]
pub(crate) struct FrameHeaders {
    limit: u64,
    state: State,
    /// The bytes of the unfinished fragmented message's frames so far.
    message: Option<u64>,
}

#[derive(Debug)]
enum State {
    /// Reading a header; `have` of its bytes are in `bytes`.
    Header {
        bytes: [u8; MAX_HEADER],
        have: usize,
    },
    /// Inside a payload with `left` bytes to go.
    Payload { left: u64 },
}

/// Two bytes, a 64-bit extended length and a masking key.
const MAX_HEADER: usize = 14;

impl FrameHeaders {
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            limit: u64::try_from(limit).unwrap_or(u64::MAX),
            state: State::Header {
                bytes: [0; MAX_HEADER],
                have: 0,
            },
            message: None,
        }
    }

    /// Follows the frames through the next chunk of the stream.
    pub(crate) fn scan(&mut self, chunk: &[u8]) -> Result<(), OverLimit> {
        let mut at = 0;
        while at < chunk.len() {
            match &mut self.state {
                State::Payload { left } => {
                    let step = usize::try_from(*left).unwrap_or(usize::MAX);
                    let step = step.min(chunk.len() - at);
                    at += step;
                    *left -= step as u64;
                    if *left == 0 {
                        self.state = State::Header {
                            bytes: [0; MAX_HEADER],
                            have: 0,
                        };
                    }
                }
                State::Header { bytes, have } => {
                    let started_here = at.checked_sub(*have);
                    bytes[*have] = chunk[at];
                    *have += 1;
                    at += 1;
                    let Some(header) = Header::parse(&bytes[..*have]) else {
                        continue;
                    };
                    if self.over_limit(&header) {
                        return Err(OverLimit {
                            frame_start: started_here.unwrap_or(0),
                        });
                    }
                    self.state = if header.length == 0 {
                        State::Header {
                            bytes: [0; MAX_HEADER],
                            have: 0,
                        }
                    } else {
                        State::Payload {
                            left: header.length,
                        }
                    };
                }
            }
        }
        Ok(())
    }

    /// Whether a frame is over the limit, counting it into its message.
    fn over_limit(&mut self, header: &Header) -> bool {
        if header.opcode >= 0x8 {
            // Control frames may come between a message's fragments and are no part of it.
            return header.length > self.limit;
        }
        let total = if header.opcode == 0x0 {
            self.message.unwrap_or(0).saturating_add(header.length)
        } else {
            header.length
        };
        self.message = (!header.fin).then_some(total);
        total > self.limit
    }
}

/// What the limit needs of a frame header.
struct Header {
    fin: bool,
    opcode: u8,
    length: u64,
}

impl Header {
    /// The header, once `bytes` hold all of it.
    fn parse(bytes: &[u8]) -> Option<Self> {
        let [first, second, rest @ ..] = bytes else {
            return None;
        };
        let (extended, length) = match second & 0x7F {
            126 => (2, None),
            127 => (8, None),
            short => (0, Some(u64::from(short))),
        };
        let mask = if second & 0x80 != 0 { 4 } else { 0 };
        if rest.len() < extended + mask {
            return None;
        }
        let length = length.unwrap_or_else(|| {
            rest[..extended]
                .iter()
                .fold(0u64, |n, b| (n << 8) | u64::from(*b))
        });
        Some(Self {
            fin: first & 0x80 != 0,
            opcode: first & 0x0F,
            length,
        })
    }
}

#[cfg(test)]
mod tests;
