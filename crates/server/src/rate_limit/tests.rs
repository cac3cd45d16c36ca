#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use actix_web::ResponseError;
use actix_web::http::{StatusCode, header};

use messaging_domain::user::UserId;

use futures_util::FutureExt;

use super::{RateLimits, address_key, retry_after_seconds, username_key};
use crate::settings::Settings;

#[track_caller]
fn check_retry_after(wait: Duration, expected: u64) {
    assert_eq!(retry_after_seconds(wait), expected, "wait {wait:?}");
}

#[test]
fn retry_after_rounds_up_to_whole_seconds_and_is_never_zero() {
    check_retry_after(Duration::ZERO, 1);
    check_retry_after(Duration::from_millis(1), 1);
    check_retry_after(Duration::from_secs(1), 1);
    check_retry_after(Duration::from_millis(1001), 2);
    check_retry_after(Duration::from_secs(172), 172);
    check_retry_after(Duration::from_millis(172_800), 173);
}

#[track_caller]
fn check_same_address(a: &str, b: &str, same: bool) {
    let (ka, kb) = (address_key(a), address_key(b));
    assert!(ka.is_some() && kb.is_some(), "{a} or {b} not parsed");
    assert_eq!(ka == kb, same, "{a} vs {b}");
}

#[test]
fn addresses_share_a_key_only_within_one_ipv4_address_or_ipv6_64() {
    check_same_address("192.0.2.1", "192.0.2.1", true);
    check_same_address("192.0.2.1", "192.0.2.2", false);
    check_same_address("::ffff:192.0.2.1", "192.0.2.1", true);
    check_same_address("2001:db8:1:2::1", "2001:db8:1:2:ffff::9", true);
    check_same_address("2001:db8:1:2::1", "2001:db8:1:3::1", false);
    assert_eq!(address_key("not an address"), None);
}

#[test]
fn usernames_are_keyed_without_case_or_surrounding_spaces() {
    assert_eq!(username_key("Alice"), username_key(" alice "));
    assert_ne!(username_key("alice"), username_key("alicia"));
}

/// The local limiters never wait: their futures are ready at once.
fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    future.now_or_never().expect("a local check never waits")
}

fn settings(adjust: impl FnOnce(&mut Settings)) -> Settings {
    let mut settings = Settings::defaults();
    adjust(&mut settings);
    settings
}

#[test]
fn a_zero_setting_turns_its_limit_off() {
    let limits = RateLimits::new(&settings(|s| {
        s.send_per_second = 0;
        s.send_per_day = 0;
    }));
    for _ in 0..1000 {
        assert!(block_on(limits.check_send(UserId(1))).is_ok());
    }
    assert_eq!(limits.tracked_keys(), 0);
}

#[test]
fn a_refused_send_is_a_429_with_retry_after() {
    let limits = RateLimits::new(&settings(|s| {
        s.send_per_second = 1;
        s.send_burst = 2;
    }));
    assert!(block_on(limits.check_send(UserId(1))).is_ok());
    assert!(block_on(limits.check_send(UserId(1))).is_ok());
    let refused = block_on(limits.check_send(UserId(1)))
        .unwrap_err()
        .error_response();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after = refused.headers().get(header::RETRY_AFTER).unwrap();
    assert_eq!(
        retry_after, "1",
        "one send a second refills within a second"
    );
    assert!(
        block_on(limits.check_send(UserId(2))).is_ok(),
        "another user is not limited"
    );
}

#[test]
fn sweeping_forgets_keys_whose_allowance_has_refilled() {
    // 1000 per second refills a single cell in a millisecond, so after a short sleep every key
    // is indistinguishable from a fresh one; the daily quota is off, since it would keep them.
    let limits = RateLimits::new(&settings(|s| {
        s.send_per_second = 1000;
        s.send_burst = 1000;
        s.send_per_day = 0;
    }));
    for user in 0..100 {
        assert!(block_on(limits.check_send(UserId(user))).is_ok());
    }
    assert_eq!(limits.tracked_keys(), 100);
    std::thread::sleep(Duration::from_millis(50));
    limits.sweep();
    assert_eq!(limits.tracked_keys(), 0);
}
