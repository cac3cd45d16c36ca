//! Rate limits per (user, action), and for login and registration per client address and per
//! username: sending is limited per user by two quotas that must both pass (a per-second rate
//! with a burst, and a daily allowance); login per client address and per lower-cased username;
//! registration per client address.
//!
//! Each limit is a GCRA limiter. On SQLite (one process) it is `governor`'s, keyed and kept in this
//! process's memory. On PostgreSQL the same limits are kept in the database every instance shares
//! (`Store::take_rate`, one statement per check), so several instances together allow what one
//! would, not N times as much. A refused check is a 429
//! `RATE_LIMITED` problem whose `Retry-After` header and `retry_after` member give the whole
//! seconds (at least one) until the same request would pass.
//!
//! Memory stays bounded: a keyed limiter keeps one small state per key it has seen, and
//! [`RateLimits::sweep`] drops every state that is indistinguishable from a fresh one (its
//! allowance has refilled). [`RateLimits::start_sweeping`] runs it every [`SWEEP_INTERVAL`], so
//! the store holds the keys used within roughly one refill period of their quota plus those of
//! the last interval.

use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use actix_web::http::StatusCode;
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota};
use messaging_domain::user::UserId;
use messaging_store::{RateQuota, Store};
use sha2::{Digest, Sha256};

use crate::problem::Problem;
use crate::settings::Settings;

/// How often [`RateLimits::start_sweeping`] drops the states of keys that have refilled.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(60);

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(24 * 3600);

type Limiter<K> = DefaultKeyedRateLimiter<K>;

/// A username as a rate-limit key: the first half of the SHA-256 of its trimmed, lower-cased
/// form. Hashing gives every key the same small size, however long a name an attacker sends,
/// and keeps usernames themselves out of the limiter's memory.
type UsernameKey = [u8; 16];

/// The limiters of every rate-limited action. A missing limiter (a setting of 0) is no limit.
pub struct RateLimits {
    /// Set on PostgreSQL: the limits are then kept there, for every instance at once.
    shared: Option<Shared>,
    send_rate: Option<Limiter<UserId>>,
    send_daily: Option<Limiter<UserId>>,
    login_by_addr: Option<Limiter<IpAddr>>,
    login_by_username: Option<Limiter<UsernameKey>>,
    register_by_addr: Option<Limiter<IpAddr>>,
    register_by_username: Option<Limiter<UsernameKey>>,
}

// Written by hand: the derived form would print every key (user ids, client addresses).
impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimits")
            .field("tracked_keys", &self.tracked_keys())
            .finish_non_exhaustive()
    }
}

impl RateLimits {
    /// The limiters the settings ask for; a setting of 0 turns that limit off.
    #[must_use]
    pub fn new(settings: &Settings) -> Self {
        let send_rate = NonZeroU32::new(settings.send_per_second).map(|rate| {
            let burst = NonZeroU32::new(settings.send_burst).unwrap_or(rate);
            Quota::per_second(rate).allow_burst(burst)
        });
        Self {
            shared: None,
            send_rate: send_rate.map(Limiter::keyed),
            send_daily: limiter(settings.send_per_day, DAY),
            login_by_addr: limiter(settings.login_per_minute, MINUTE),
            login_by_username: limiter(settings.login_per_minute_per_username, MINUTE),
            register_by_addr: limiter(settings.register_per_hour, HOUR),
            register_by_username: limiter(settings.register_per_hour_per_username, HOUR),
        }
    }

    /// The same limits, kept in `store` for every instance on it when the store can (PostgreSQL).
    #[must_use]
    pub fn shared_through(mut self, store: &Store, settings: &Settings) -> Self {
        if store.shares_rate_limits() {
            self.shared = Some(Shared::new(store.clone(), settings));
        }
        self
    }

    /// Counts one message sent by `user` (on any send route).
    ///
    /// # Errors
    /// 429 `RATE_LIMITED` when either of the user's send quotas is spent; 503 when the shared
    /// limits cannot be read.
    pub async fn check_send(&self, user: UserId) -> Result<(), Problem> {
        if let Some(shared) = &self.shared {
            let quotas = [
                shared
                    .send_rate
                    .map(|q| q.named(format!("send:{}", user.0))),
                shared
                    .send_daily
                    .map(|q| q.named(format!("send-day:{}", user.0))),
            ];
            return shared.take(quotas, "send").await;
        }
        // The short quota goes first: when it refuses, the daily allowance is left untouched,
        // and a per-second cell spent on a send the daily quota then refuses is back in seconds.
        check(self.send_rate.as_ref(), &user, "send")?;
        check(self.send_daily.as_ref(), &user, "send per day")
    }

    /// Counts one login attempt from `client_addr` for `username`, before any password is
    /// checked. Without a known address only the username quota applies.
    ///
    /// # Errors
    /// 429 `RATE_LIMITED` when the address's or the username's quota is spent.
    pub async fn check_login(
        &self,
        client_addr: Option<&str>,
        username: &str,
    ) -> Result<(), Problem> {
        if let Some(shared) = &self.shared {
            let addr = client_addr.and_then(address_key);
            let quotas = [
                shared
                    .login_by_addr
                    .zip(addr)
                    .map(|(q, a)| q.named(format!("login-addr:{a}"))),
                shared
                    .login_by_username
                    .map(|q| q.named(format!("login-name:{}", hex(&username_key(username))))),
            ];
            return shared.take(quotas, "login").await;
        }
        // The address goes first, so that a client refused for its address cannot also use up
        // the quota of the accounts it is guessing at.
        if let Some(addr) = client_addr.and_then(address_key) {
            check(self.login_by_addr.as_ref(), &addr, "login")?;
        }
        check(
            self.login_by_username.as_ref(),
            &username_key(username),
            "login per username",
        )
    }

    /// Counts one registration attempt from `client_addr` for `username`. Without a known
    /// address only the username quota applies.
    ///
    /// # Errors
    /// 429 `RATE_LIMITED` when the address's or the username's quota is spent.
    pub async fn check_register(
        &self,
        client_addr: Option<&str>,
        username: &str,
    ) -> Result<(), Problem> {
        if let Some(shared) = &self.shared {
            let addr = client_addr.and_then(address_key);
            let quotas = [
                shared
                    .register_by_addr
                    .zip(addr)
                    .map(|(q, a)| q.named(format!("register-addr:{a}"))),
                shared
                    .register_by_username
                    .map(|q| q.named(format!("register-name:{}", hex(&username_key(username))))),
            ];
            return shared.take(quotas, "register").await;
        }
        if let Some(addr) = client_addr.and_then(address_key) {
            check(self.register_by_addr.as_ref(), &addr, "register")?;
        }
        check(
            self.register_by_username.as_ref(),
            &username_key(username),
            "register per username",
        )
    }

    /// Forgets every key whose allowance has refilled, and gives the freed memory back.
    pub fn sweep(&self) {
        sweep(self.send_rate.as_ref());
        sweep(self.send_daily.as_ref());
        sweep(self.login_by_addr.as_ref());
        sweep(self.login_by_username.as_ref());
        sweep(self.register_by_addr.as_ref());
        sweep(self.register_by_username.as_ref());
    }

    /// How many keys the limiters hold, summed over all of them.
    #[must_use]
    pub fn tracked_keys(&self) -> usize {
        tracked(self.send_rate.as_ref())
            + tracked(self.send_daily.as_ref())
            + tracked(self.login_by_addr.as_ref())
            + tracked(self.login_by_username.as_ref())
            + tracked(self.register_by_addr.as_ref())
            + tracked(self.register_by_username.as_ref())
    }

    /// Runs [`RateLimits::sweep`] every [`SWEEP_INTERVAL`] on the current tokio runtime. The
    /// task holds only a weak reference, so it ends at the first tick after the limiters are
    /// dropped. Outside a runtime it logs a warning and does nothing.
    pub fn start_sweeping(self: &Arc<Self>) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!("no async runtime: rate-limit state will not be swept");
            return;
        };
        let limits = Arc::downgrade(self);
        runtime.spawn(async move {
            let start = tokio::time::Instant::now() + SWEEP_INTERVAL;
            let mut ticks = tokio::time::interval_at(start, SWEEP_INTERVAL);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let Some(limits) = limits.upgrade() else {
                    break;
                };
                limits.sweep();
                if let Some(shared) = &limits.shared
                    && let Err(err) = shared.store.sweep_rate_limits().await
                {
                    crate::problem::warn_unless_outage(&err, "cannot sweep shared rate limits");
                }
            }
        });
    }
}

/// A quota's shape: `burst` requests at once, one more every `interval`.
#[derive(Debug, Clone, Copy)]
struct Spec {
    interval: Duration,
    burst: u32,
}

impl Spec {
    /// `count` per `period`, all of them at once if need be; `None` for a count of 0.
    fn per(count: u32, period: Duration) -> Option<Self> {
        (count > 0).then(|| Self {
            interval: period / count,
            burst: count,
        })
    }

    fn named(self, key: String) -> RateQuota {
        RateQuota {
            key,
            interval: self.interval,
            burst: self.burst,
        }
    }
}

/// The limits as kept in the shared store.
struct Shared {
    store: Store,
    send_rate: Option<Spec>,
    send_daily: Option<Spec>,
    login_by_addr: Option<Spec>,
    login_by_username: Option<Spec>,
    register_by_addr: Option<Spec>,
    register_by_username: Option<Spec>,
}

impl Shared {
    fn new(store: Store, settings: &Settings) -> Self {
        let send_rate = (settings.send_per_second > 0).then(|| Spec {
            interval: Duration::from_secs(1) / settings.send_per_second,
            burst: if settings.send_burst > 0 {
                settings.send_burst
            } else {
                settings.send_per_second
            },
        });
        Self {
            store,
            send_rate,
            send_daily: Spec::per(settings.send_per_day, DAY),
            login_by_addr: Spec::per(settings.login_per_minute, MINUTE),
            login_by_username: Spec::per(settings.login_per_minute_per_username, MINUTE),
            register_by_addr: Spec::per(settings.register_per_hour, HOUR),
            register_by_username: Spec::per(settings.register_per_hour_per_username, HOUR),
        }
    }

    /// Takes one request from every quota given, all or nothing.
    async fn take<const N: usize>(
        &self,
        quotas: [Option<RateQuota>; N],
        action: &'static str,
    ) -> Result<(), Problem> {
        let quotas: Vec<RateQuota> = quotas.into_iter().flatten().collect();
        if quotas.is_empty() {
            return Ok(());
        }
        match self.store.take_rate(quotas).await? {
            None => Ok(()),
            Some(wait) => {
                let seconds = retry_after_seconds(wait);
                tracing::info!(action, retry_after = seconds, "rate limit reached");
                Err(rate_limited(seconds))
            }
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A limiter allowing `count` per `period`, all of them at once if need be, refilled steadily
/// (one every `period / count`); `None` for a count of 0.
fn limiter<K: Hash + Eq + Clone>(count: u32, period: Duration) -> Option<Limiter<K>> {
    let count = NonZeroU32::new(count)?;
    let quota = Quota::with_period(period / count.get())?.allow_burst(count);
    Some(Limiter::keyed(quota))
}

/// Takes one cell for `key`, or answers 429 with the whole seconds until one is free.
fn check<K: Hash + Eq + Clone>(
    limiter: Option<&Limiter<K>>,
    key: &K,
    action: &'static str,
) -> Result<(), Problem> {
    let Some(limiter) = limiter else {
        return Ok(());
    };
    limiter.check_key(key).map_err(|not_until| {
        let wait = not_until.wait_time_from(limiter.clock().now());
        let seconds = retry_after_seconds(wait);
        tracing::info!(action, retry_after = seconds, "rate limit reached");
        rate_limited(seconds)
    })
}

/// The problem for a refused request that may be repeated after `seconds`.
#[must_use]
pub fn rate_limited(seconds: u64) -> Problem {
    Problem::new(
        StatusCode::TOO_MANY_REQUESTS,
        "RATE_LIMITED",
        "Too many requests",
        format!("Too many requests; try again in {seconds} s."),
    )
    .with_retry_after(seconds)
}

/// A wait as whole seconds for `Retry-After`: rounded up, so that a client waiting that long is
/// let through, and at least one, since 0 would invite an immediate retry.
fn retry_after_seconds(wait: Duration) -> u64 {
    let whole = wait.as_secs();
    let seconds = if wait.subsec_nanos() > 0 {
        whole.saturating_add(1)
    } else {
        whole
    };
    seconds.max(1)
}

/// The key of a client address. IPv4 addresses (also when mapped into IPv6) are their own key;
/// an IPv6 address is keyed by its /64 network, since one client commonly holds a whole /64 and
/// could otherwise take a fresh quota for every address in it.
fn address_key(addr: &str) -> Option<IpAddr> {
    match addr.parse::<IpAddr>().ok()?.to_canonical() {
        IpAddr::V4(v4) => Some(IpAddr::V4(v4)),
        IpAddr::V6(v6) => {
            let network = u128::from(v6) & !u128::from(u64::MAX);
            Some(IpAddr::V6(Ipv6Addr::from(network)))
        }
    }
}

fn username_key(username: &str) -> UsernameKey {
    let digest = Sha256::digest(username.trim().to_lowercase().as_bytes());
    let mut key = [0; 16];
    key.copy_from_slice(&digest[..16]);
    key
}

fn sweep<K: Hash + Eq + Clone>(limiter: Option<&Limiter<K>>) {
    if let Some(limiter) = limiter {
        limiter.retain_recent();
        limiter.shrink_to_fit();
    }
}

fn tracked<K: Hash + Eq + Clone>(limiter: Option<&Limiter<K>>) -> usize {
    limiter.map_or(0, Limiter::len)
}

#[cfg(test)]
mod tests;
