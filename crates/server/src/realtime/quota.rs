//! Per-socket quotas on the client frames that cost the server a database round trip (typing,
//! delivery receipts): a token bucket each, checked before the frame is acted on. A frame over
//! its quota is dropped; the first of a run of dropped frames earns the client one `error`
//! `RATE_LIMITED` frame, so a flood costs one answer, not one per frame.

use std::time::{Duration, Instant};

/// Typing frames: a burst of 10, then 2 a second (a client refreshes its indicator every few
/// seconds; keystroke-rate senders are cut down to that).
pub const TYPING: Rate = Rate {
    burst: 10,
    per_second: 2,
};

/// Delivery receipts: a burst of 100, then 20 a second (a device catching up on a replay
/// acknowledges many messages at once).
pub const RECEIPTS: Rate = Rate {
    burst: 100,
    per_second: 20,
};

/// A quota's shape.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    /// Frames allowed at once.
    pub burst: u32,
    /// Frames allowed per second once the burst is spent.
    pub per_second: u32,
}

/// What to do with a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Within the quota: act on it.
    Allow,
    /// Over the quota, the first of a run: drop it and tell the client.
    DropAndWarn,
    /// Over the quota again: drop it silently.
    Drop,
}

/// One token bucket, counted in millionths of a token so that refills add up exactly.
#[derive(Debug)]
pub struct FrameQuota {
    rate: Rate,
    micro_tokens: u64,
    last: Instant,
    warned: bool,
}

const TOKEN: u64 = 1_000_000;

impl FrameQuota {
    /// A full bucket at `now`.
    #[must_use]
    pub fn new(rate: Rate, now: Instant) -> Self {
        Self {
            rate,
            micro_tokens: u64::from(rate.burst) * TOKEN,
            last: now,
            warned: false,
        }
    }

    /// Takes a token for a frame that arrived at `now`.
    pub fn take(&mut self, now: Instant) -> Verdict {
        let elapsed = now.saturating_duration_since(self.last);
        self.last = now;
        self.micro_tokens = self
            .micro_tokens
            .saturating_add(refill(self.rate, elapsed))
            .min(u64::from(self.rate.burst) * TOKEN);
        if self.micro_tokens >= TOKEN {
            self.micro_tokens -= TOKEN;
            self.warned = false;
            Verdict::Allow
        } else if self.warned {
            Verdict::Drop
        } else {
            self.warned = true;
            Verdict::DropAndWarn
        }
    }
}

/// Millionths of a token earned over `elapsed`: one per microsecond per frame a second.
fn refill(rate: Rate, elapsed: Duration) -> u64 {
    let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
    micros.saturating_mul(u64::from(rate.per_second))
}

#[cfg(test)]
mod tests;
