#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::TimeZone;

use super::*;
use crate::ports::{MockClock, MockDirectory};
use crate::user::{Role, User};

fn active(id: i64) -> User {
    User {
        id: UserId(id),
        username: "ada".into(),
        email: "ada@example.com".into(),
        first_name: String::new(),
        last_name: String::new(),
        role: Role::Student,
        is_active: true,
    }
}

fn actor() -> Actor {
    Actor {
        user_id: UserId(7),
        client_addr: None,
    }
}

fn service(
    store: MockPasswordStore,
    hasher: MockPasswordHasher,
) -> PasswordService<MockPasswordStore, MockPasswordHasher, MockDirectory, MockClock> {
    let mut directory = MockDirectory::new();
    directory
        .expect_user()
        .returning(|id| Ok(Some(active(id.0))));
    let mut clock = MockClock::new();
    clock
        .expect_now()
        .returning(|| Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
    PasswordService::new(store, hasher, directory, clock)
}

#[test]
fn a_new_password_must_have_8_to_128_characters() {
    assert!(NewPassword::parse("short".into()).is_err());
    assert!(NewPassword::parse("x".repeat(129)).is_err());
    assert!(NewPassword::parse("long enough".into()).is_ok());
    assert_eq!(
        format!("{:?}", NewPassword::parse("long enough".into()).unwrap()),
        "NewPassword(<redacted>)"
    );
}

#[test]
fn a_wrong_current_password_changes_nothing() {
    let mut store = MockPasswordStore::new();
    store
        .expect_password_hash()
        .returning(|_| Ok("stored".into()));
    store.expect_replace_password().never();
    let mut hasher = MockPasswordHasher::new();
    hasher.expect_verify().returning(|_, _| Ok(false));
    hasher.expect_hash().never();
    let result = futures_executor::block_on(service(store, hasher).change(
        &actor(),
        "wrong".into(),
        "a new password".into(),
        None,
    ));
    assert!(matches!(result, Err(PasswordError::WrongPassword)));
}

#[test]
fn a_right_current_password_replaces_the_hash_keeping_only_this_session() {
    let mut store = MockPasswordStore::new();
    store
        .expect_password_hash()
        .returning(|_| Ok("stored".into()));
    store
        .expect_replace_password()
        .withf(|user, hash, keep, _, audit| {
            *user == UserId(7)
                && hash == "hashed"
                && keep.as_deref() == Some("this-session")
                && audit.action == AuditAction::PasswordChanged
        })
        .times(1)
        .returning(|_, _, _, _, _| Ok(()));
    let mut hasher = MockPasswordHasher::new();
    hasher.expect_verify().returning(|_, _| Ok(true));
    hasher.expect_hash().returning(|_| Ok("hashed".into()));
    futures_executor::block_on(service(store, hasher).change(
        &actor(),
        "right".into(),
        "a new password".into(),
        Some("this-session".into()),
    ))
    .unwrap();
}
