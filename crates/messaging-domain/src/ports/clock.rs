//! The clock: the domain never reads the system time itself.

use chrono::{DateTime, Utc};

/// The current time. The domain never reads the system clock itself.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait Clock: Send + Sync + 'static {
    /// Now.
    fn now(&self) -> DateTime<Utc>;
}
