//! The system clock, behind the domain's `Clock` port. Times are cut to microseconds, the precision
//! PostgreSQL keeps, so that a time returned when a change is made equals the one read back later.

use chrono::{DateTime, SubsecRound, Utc};
use messaging_domain::ports::Clock;

/// Reads the system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(6)
    }
}
