//! The audit log as only this store keeps it: a hash chain per actor, filtered reads, and a
//! table that refuses changes, checked with SQL that goes around the store.

use chrono::{TimeDelta, Utc};
use messaging_domain::audit::AuditAction;
use messaging_domain::message::{DeleteScope, MessageId};
use messaging_domain::ports::{Messages, People};
use messaging_domain::user::Role;
use messaging_domain::{Change, Deletion, StoreError};
use messaging_store::Store;

use crate::support::{audit, no_events, page, send, user};

/// Every audit entry, newest first.
async fn audit_entries(store: &Store) -> Vec<messaging_store::audit::AuditEntry> {
    store
        .audit_entries(Default::default(), page(1, 100))
        .await
        .unwrap()
}

/// A few audited actions by two users: registrations, two sends, a read, an edit, a delete and a
/// login. Returns the message that was read.
async fn audited_actions(store: &Store) -> messaging_domain::message::Message {
    use messaging_domain::audit::AuditRecord;
    use messaging_domain::ports::AuditLog;
    let a = user(store, "ada", Role::Student).await;
    let b = user(store, "bob", Role::Tutor).await;
    let first = send(store, &a, &b, None, "hello").await;
    let second = send(store, &b, &a, None, "hi back").await;
    store
        .mark_read(
            first.id,
            Utc::now(),
            Change::new(
                AuditRecord {
                    object_id: Some(first.id.0),
                    ..audit(AuditAction::MessageRead, Some(b.id))
                },
                no_events(),
            ),
        )
        .await
        .unwrap();
    store
        .update_body(
            second.id,
            "hi there".into(),
            Utc::now(),
            Change::new(audit(AuditAction::MessageEdited, Some(b.id)), no_events()),
        )
        .await
        .unwrap();
    store
        .delete_message(
            Deletion {
                message: first.id,
                by: a.id,
                scope: DeleteScope::ForMe,
                at: Utc::now(),
            },
            Change::new(
                audit(AuditAction::MessageDeletedForMe, Some(a.id)),
                no_events(),
            ),
        )
        .await
        .unwrap();
    store
        .record(audit(AuditAction::LoginSucceeded, Some(a.id)))
        .await
        .unwrap();
    first
}

pub async fn audit_chain_verifies_after_several_actions(store: &Store) {
    use messaging_store::audit::{AuditVerification, GENESIS_HASH};
    audited_actions(store).await;
    // A refused change writes no entry, so it leaves nothing in the chain to explain.
    let missing = store
        .update_body(
            MessageId(999_999),
            "x".into(),
            Utc::now(),
            Change::new(audit(AuditAction::MessageEdited, None), no_events()),
        )
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");

    let entries = audit_entries(store).await;
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "auth.login_succeeded",
            "message.deleted_for_me",
            "message.edited",
            "message.read",
            "message.sent",
            "message.sent",
            "auth.registered",
            "auth.registered",
        ]
    );
    assert_eq!(
        store.verify_audit_chain().await.unwrap(),
        AuditVerification {
            checked: 8,
            unsealed: 0,
            broken: None
        }
    );
    // Oldest first, each entry links to the same actor's entry before it, and each actor's first
    // entry to the genesis value.
    let mut last: std::collections::HashMap<_, Option<String>> = std::collections::HashMap::new();
    for entry in entries.iter().rev() {
        let expected = last
            .get(&entry.actor_id)
            .cloned()
            .unwrap_or_else(|| Some(GENESIS_HASH.to_owned()));
        assert_eq!(entry.prev_hash, expected, "entry {}", entry.id);
        last.insert(entry.actor_id, entry.hash.clone());
    }
    assert!(
        entries
            .iter()
            .all(|e| e.hash.as_ref().is_some_and(|h| h.len() == 64)),
        "every entry has a SHA-256 in hex"
    );
}

pub async fn audit_entries_filter_by_actor_action_object_and_time(store: &Store) {
    use chrono::TimeZone;
    use messaging_domain::audit::AuditRecord;
    use messaging_domain::ports::AuditLog;
    use messaging_store::audit::AuditFilter;
    let read = audited_actions(store).await;
    let ada = store.user_by_username("ada").await.unwrap().unwrap();
    let list = async |filter: AuditFilter| -> Vec<String> {
        store
            .audit_entries(filter, page(1, 100))
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect()
    };
    assert_eq!(
        list(AuditFilter {
            actor_id: Some(ada.id),
            ..Default::default()
        })
        .await,
        [
            "auth.login_succeeded",
            "message.deleted_for_me",
            "message.sent",
            "auth.registered"
        ]
    );
    let sent = store
        .audit_entries(
            AuditFilter {
                action: Some("message.sent".into()),
                ..Default::default()
            },
            page(1, 100),
        )
        .await
        .unwrap();
    assert_eq!(sent.len(), 2);
    assert!(sent[0].id > sent[1].id, "newest first");
    let about_read = store
        .audit_entries(
            AuditFilter {
                object_type: Some("message".into()),
                object_id: Some(read.id.0),
                ..Default::default()
            },
            page(1, 100),
        )
        .await
        .unwrap();
    assert!(
        about_read
            .iter()
            .all(|e| (e.object_type.as_str(), e.object_id) == ("message", Some(read.id.0))),
        "{about_read:?}"
    );
    // The test's registrations are also filed under `message` with the user's id, so only the
    // message's own entries are compared.
    let actions: Vec<&str> = about_read
        .iter()
        .map(|e| e.action.as_str())
        .filter(|a| a.starts_with("message."))
        .collect();
    assert_eq!(actions, ["message.read", "message.sent"]);

    // Times: `since` is inclusive, `until` exclusive.
    let t0 = Utc.with_ymd_and_hms(2020, 1, 1, 12, 0, 0).unwrap();
    for minutes in 0..3 {
        store
            .record(AuditRecord {
                at: t0 + TimeDelta::minutes(minutes),
                object_type: "clock",
                object_id: Some(minutes),
                ..audit(AuditAction::LoginFailed, None)
            })
            .await
            .unwrap();
    }
    let clocked = store
        .audit_entries(
            AuditFilter {
                since: Some(t0 + TimeDelta::minutes(1)),
                until: Some(t0 + TimeDelta::minutes(2)),
                ..Default::default()
            },
            page(1, 100),
        )
        .await
        .unwrap();
    assert_eq!(
        clocked
            .iter()
            .map(|e| (e.object_id, e.at))
            .collect::<Vec<_>>(),
        [(Some(1), t0 + TimeDelta::minutes(1))]
    );
    assert_eq!(
        list(AuditFilter {
            object_type: Some("clock".into()),
            object_id: Some(2),
            ..Default::default()
        })
        .await,
        ["auth.login_failed"]
    );
    let second_page = store
        .audit_entries(
            AuditFilter {
                object_type: Some("clock".into()),
                ..Default::default()
            },
            page(2, 1),
        )
        .await
        .unwrap();
    assert_eq!(second_page[0].object_id, Some(1));
}

pub async fn audit_log_refuses_updates_and_deletes(store: &Store) {
    let (store, mut raw) = crate::support::store_with_raw_db(store.kind()).await;
    audited_actions(&store).await;
    let before = audit_entries(&store).await;
    for sql in [
        "UPDATE audit_log SET action = 'message.read' WHERE action = 'message.sent'",
        "UPDATE audit_log SET client_addr = NULL",
        "DELETE FROM audit_log WHERE action = 'auth.login_succeeded'",
        "DELETE FROM audit_log",
    ] {
        let refused = raw.execute(sql).await;
        assert!(
            refused
                .as_ref()
                .is_err_and(|e| e.contains("audit_log is append-only")),
            "{sql}: {refused:?}"
        );
    }
    assert_eq!(audit_entries(&store).await, before);
    assert!(store.verify_audit_chain().await.unwrap().is_intact());
}

pub async fn verify_audit_chain_reports_a_changed_entry_and_the_entry_after_a_removed_one(
    store: &Store,
) {
    use messaging_store::audit::ChainBreak;
    let (store, mut raw) = crate::support::store_with_raw_db(store.kind()).await;
    audited_actions(&store).await;
    // Ids with gaps, as rolled-back transactions leave them, are not mistaken for removals.
    raw.skip_audit_ids(5).await;
    audited_actions_again(&store).await;
    let verdict = store.verify_audit_chain().await.unwrap();
    assert!(verdict.is_intact(), "{verdict:?}");
    let entries = audit_entries(&store).await;
    let oldest_first: Vec<_> = entries.iter().rev().collect();
    assert!(
        oldest_first.windows(2).any(|p| p[1].id > p[0].id + 1),
        "the ids have a gap"
    );

    raw.bypass_append_only().await;
    let changed = oldest_first[4];
    raw.execute(&format!(
        "UPDATE audit_log SET action = 'message.tampered' WHERE id = {}",
        changed.id
    ))
    .await
    .unwrap();
    let verdict = store.verify_audit_chain().await.unwrap();
    assert_eq!(
        (verdict.broken, verdict.checked),
        (Some(ChainBreak::Changed { id: changed.id }), 4)
    );
    // Put back as it was, the entry matches its hash again.
    raw.execute(&format!(
        "UPDATE audit_log SET action = '{}' WHERE id = {}",
        changed.action, changed.id
    ))
    .await
    .unwrap();
    assert!(store.verify_audit_chain().await.unwrap().is_intact());

    // A removal shows at the next entry of the same actor's chain (each actor has its own).
    let next_in_chain = |i: usize| {
        oldest_first[i + 1..]
            .iter()
            .find(|e| e.actor_id == oldest_first[i].actor_id)
            .map(|e| e.id)
    };
    let removed_at = (1..oldest_first.len())
        .find(|&i| next_in_chain(i).is_some())
        .expect("an actor with two entries");
    raw.execute(&format!(
        "DELETE FROM audit_log WHERE id = {}",
        oldest_first[removed_at].id
    ))
    .await
    .unwrap();
    let verdict = store.verify_audit_chain().await.unwrap();
    assert_eq!(
        verdict.broken,
        next_in_chain(removed_at).map(|id| ChainBreak::FollowsRemoved { id })
    );

    // Removing an actor's very first entry breaks the link to the genesis value.
    let first_with_successor = (0..removed_at)
        .find(|&i| next_in_chain(i).is_some() && next_in_chain(i) != next_in_chain(removed_at))
        .unwrap_or(removed_at);
    if first_with_successor != removed_at {
        raw.execute(&format!(
            "DELETE FROM audit_log WHERE id = {}",
            oldest_first[first_with_successor].id
        ))
        .await
        .unwrap();
        let broken = store.verify_audit_chain().await.unwrap().broken;
        assert!(
            matches!(broken, Some(ChainBreak::FollowsRemoved { .. })),
            "{broken:?}"
        );
    }
}

/// More audited actions, by two other users.
async fn audited_actions_again(store: &Store) {
    let c = user(store, "cyd", Role::Student).await;
    let d = user(store, "dot", Role::Tutor).await;
    send(store, &c, &d, None, "again").await;
}

pub async fn audit_chain_stays_linear_under_concurrent_writers(store: &Store) {
    use messaging_domain::ports::AuditLog;
    let a = user(store, "ann", Role::Student).await;
    let b = user(store, "ben", Role::Tutor).await;
    let mut tasks = Vec::new();
    // One direction only: sends in both directions at once can deadlock on the two members' rows,
    // which is the message path's concern, not the chain's.
    for i in 0..40 {
        let store = store.clone();
        let (from, to) = (a.clone(), b.clone());
        tasks.push(tokio::spawn(async move {
            if i % 3 == 0 {
                store
                    .record(audit(AuditAction::LoginSucceeded, Some(from.id)))
                    .await
                    .unwrap();
            } else {
                send(&store, &from, &to, None, "busy").await;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(
        store.verify_audit_chain().await.unwrap(),
        messaging_store::audit::AuditVerification {
            checked: 42,
            unsealed: 0,
            broken: None
        }
    );
}

pub async fn entries_from_before_the_chain_are_counted_apart(store: &Store) {
    use messaging_store::audit::{AuditVerification, GENESIS_HASH};
    let (store, mut raw) = crate::support::store_with_raw_db(store.kind()).await;
    // Rows as the table held them before the chain existed: no hashes.
    raw.execute(
        "INSERT INTO audit_log (actor_id, action, object_type, object_id, client_addr, at) \
         VALUES (1, 'auth.login_succeeded', 'user', 1, '10.0.0.1', '2020-01-01 00:00:00+00:00'), \
                (NULL, 'auth.login_failed', 'user', NULL, '10.0.0.2', '2020-01-01 00:01:00+00:00')",
    )
    .await
    .unwrap();
    audited_actions(&store).await;
    let oldest_first: Vec<_> = audit_entries(&store).await.into_iter().rev().collect();
    assert_eq!(
        oldest_first[2].prev_hash.as_deref(),
        Some(GENESIS_HASH),
        "the chain starts after them"
    );
    assert_eq!(
        store.verify_audit_chain().await.unwrap(),
        AuditVerification {
            checked: 8,
            unsealed: 2,
            broken: None
        }
    );
    // Once the chain has started, an entry without a hash is one whose hash was taken away.
    raw.execute(
        "INSERT INTO audit_log (actor_id, action, object_type, object_id, client_addr, at) \
         VALUES (1, 'auth.login_succeeded', 'user', 1, '10.0.0.1', '2020-01-01 00:00:00+00:00')",
    )
    .await
    .unwrap();
    let newest = audit_entries(&store).await[0].id;
    assert_eq!(
        store.verify_audit_chain().await.unwrap().broken,
        Some(messaging_store::audit::ChainBreak::Changed { id: newest })
    );
}
