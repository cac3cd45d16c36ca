//! The virus scan: where a file stands with the scanner, what the scanner said, and how long a
//! file whose scans keep failing waits before the next try.

use chrono::TimeDelta;

use super::Attachment;

#[cfg(test)]
mod tests;

/// Where an attachment stands with the virus scanner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ScanStatus {
    /// Waiting for the scanner.
    Pending,
    /// The scanner found nothing.
    Clean,
    /// The scanner found malware; the file is never served.
    Infected,
    /// No scanner is configured.
    NotScanned,
}

impl ScanStatus {
    /// The stable stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Clean => "clean",
            Self::Infected => "infected",
            Self::NotScanned => "not_scanned",
        }
    }

    /// The status a stored name stands for.
    #[must_use]
    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Pending, Self::Clean, Self::Infected, Self::NotScanned]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }

    /// The status a new upload starts with.
    #[must_use]
    pub fn initial(scanner_configured: bool) -> Self {
        if scanner_configured {
            Self::Pending
        } else {
            Self::NotScanned
        }
    }
}

/// How long a file waits before its next scan after `failures` scans in a row failed (the scanner
/// or the storage erred; a verdict is not a failure): 15 s, doubling with each failure, at most an
/// hour. A file that keeps failing is retried less and less often instead of taking the place of
/// files that can be scanned.
#[must_use]
pub fn scan_retry_delay(failures: u32) -> TimeDelta {
    let first = SCAN_RETRY_FIRST.num_seconds();
    let doublings = failures.saturating_sub(1).min(32);
    let delay = first.saturating_mul(1_i64 << doublings);
    TimeDelta::seconds(delay.min(SCAN_RETRY_MAX.num_seconds()))
}

/// The pause after a file's first failed scan.
pub const SCAN_RETRY_FIRST: TimeDelta = TimeDelta::seconds(15);
/// The longest pause between two scans of a file that keeps failing.
pub const SCAN_RETRY_MAX: TimeDelta = TimeDelta::hours(1);

/// A file waiting for the scanner, with how many of its scans failed so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedScan {
    /// The file.
    pub attachment: Attachment,
    /// Failed scans in a row.
    pub failures: u32,
}

/// What the scanner said about a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanVerdict {
    /// Nothing found.
    Clean,
    /// Malware found; the name is the scanner's signature name.
    Infected(String),
}
