#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{TimeZone, Utc};

use super::*;

/// Two entries of one actor's chain, chained from the genesis value, with their hashes computed outside Rust from the
/// encoding the module documents. Stored chains are verified against this encoding, so it must
/// never change by accident.
fn chain() -> Vec<AuditEntry> {
    let first = AuditEntry {
        id: 3,
        actor_id: Some(UserId(42)),
        action: "message.sent".into(),
        object_type: "message".into(),
        object_id: Some(7),
        client_addr: Some("127.0.0.1".into()),
        at: Utc
            .with_ymd_and_hms(2026, 11, 21, 9, 30, 0)
            .unwrap()
            .checked_add_signed(chrono::TimeDelta::microseconds(123_456))
            .unwrap(),
        prev_hash: Some(GENESIS_HASH.into()),
        hash: Some("88c88e5670ea27f2d6925fc90e85714fa47eb0fdfd7f057205e01d9071dbdacb".into()),
    };
    let second = AuditEntry {
        id: 9,
        actor_id: Some(UserId(42)),
        action: "auth.login_failed".into(),
        object_type: "user".into(),
        object_id: None,
        client_addr: None,
        at: Utc.with_ymd_and_hms(2026, 11, 21, 9, 30, 1).unwrap(),
        prev_hash: first.hash.clone(),
        hash: Some("a54850db61b6168c74651b74f139ef6c101fe21248c9ff5ce695c5b04173237b".into()),
    };
    vec![first, second]
}

#[track_caller]
fn check(entries: &[AuditEntry], expected: AuditVerification) {
    let mut walk = ChainWalk::default();
    let broken = entries.iter().find_map(|e| walk.check(e));
    assert_eq!(walk.finish(broken), expected);
}

#[test]
fn hashes_follow_the_documented_encoding() {
    for entry in chain() {
        let prev = entry.prev_hash.as_deref().unwrap();
        assert_eq!(
            Some(chained_fields(&entry).hash(prev)),
            entry.hash,
            "{entry:?}"
        );
    }
}

#[test]
fn walking_reports_the_first_break() {
    let intact = chain();
    check(
        &intact,
        AuditVerification {
            checked: 2,
            unsealed: 0,
            broken: None,
        },
    );

    let mut changed = chain();
    changed[0].action = "message.read".into();
    check(
        &changed,
        AuditVerification {
            checked: 0,
            unsealed: 0,
            broken: Some(ChainBreak::Changed { id: 3 }),
        },
    );

    let removed = &chain()[1..];
    check(
        removed,
        AuditVerification {
            checked: 0,
            unsealed: 0,
            broken: Some(ChainBreak::FollowsRemoved { id: 9 }),
        },
    );

    // Entries from before the chain may only lead it.
    let mut legacy = chain()[0].clone();
    legacy.id = 1;
    legacy.prev_hash = None;
    legacy.hash = None;
    let mut led = vec![legacy.clone()];
    led.extend(chain());
    check(
        &led,
        AuditVerification {
            checked: 2,
            unsealed: 1,
            broken: None,
        },
    );
    let mut trailing = chain();
    legacy.id = 10;
    trailing.push(legacy);
    check(
        &trailing,
        AuditVerification {
            checked: 2,
            unsealed: 0,
            broken: Some(ChainBreak::Changed { id: 10 }),
        },
    );
}

#[test]
fn each_actor_has_a_chain_of_its_own() {
    // Another actor's entry in between starts its own chain from the genesis value and does not
    // break the first actor's.
    let mut entries = chain();
    let mut other = entries[1].clone();
    other.id = 5;
    other.actor_id = None;
    other.prev_hash = Some(GENESIS_HASH.into());
    other.hash = Some(chained_fields(&other).hash(GENESIS_HASH));
    entries.insert(1, other);
    check(
        &entries,
        AuditVerification {
            checked: 3,
            unsealed: 0,
            broken: None,
        },
    );
}
