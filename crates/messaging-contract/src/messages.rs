//! The contract tests, written once and run on both backends (see `main.rs`).

use crate::Backend;
use chrono::{SubsecRound, TimeDelta, Utc};
use messaging_domain::StoreError;
use messaging_domain::audit::AuditAction;
use messaging_domain::message::{DeleteScope, HistoryRequest, MessageId};
use messaging_domain::text::{LimitSpec, PageSize};
use messaging_domain::user::{BookingState, Role, UserId};
use messaging_domain::{Change, Deletion};

use crate::search::search_bodies;
use crate::support::{audit, no_events, page, send, user};

fn threads_limit() -> PageSize {
    PageSize::parse(None, LimitSpec::THREADS).unwrap()
}

async fn bodies_seen_by<S: Backend>(store: &S, user: UserId, other: UserId) -> Vec<String> {
    store
        .history(
            user,
            other,
            None,
            HistoryRequest {
                before: None,
                page: page(1, 100),
            },
        )
        .await
        .unwrap()
        .messages
        .into_iter()
        .map(|m| m.body)
        .collect()
}

pub async fn first_message_creates_one_conversation_per_pair_and_booking<S: Backend>(store: &S) {
    let a = user(store, "anna", Role::Student).await;
    let b = user(store, "ben", Role::Tutor).await;
    let booking = store
        .create_booking(
            a.id,
            b.id,
            BookingState::Scheduled,
            audit(AuditAction::BookingCreated, None),
        )
        .await
        .unwrap();
    let m1 = send(store, &a, &b, None, "general one").await;
    let m2 = send(store, &b, &a, None, "general two").await;
    let m3 = send(store, &a, &b, Some(booking.id), "about the booking").await;
    assert_eq!(
        m1.conversation_id, m2.conversation_id,
        "replies share the pair's thread"
    );
    assert_ne!(
        m1.conversation_id, m3.conversation_id,
        "a booking gets its own thread"
    );
    let conversations = store.conversations_between(b.id, a.id).await.unwrap();
    assert_eq!(conversations.len(), 2);
    assert!(conversations.iter().all(|c| c.started_by == a.id));
}

pub async fn thread_list_shows_each_members_latest_visible_message_and_unread_count<S: Backend>(
    store: &S,
) {
    let a = user(store, "amy", Role::Student).await;
    let b = user(store, "bea", Role::Tutor).await;
    let c = user(store, "cal", Role::Tutor).await;
    send(store, &b, &a, None, "from bea 1").await;
    send(store, &b, &a, None, "from bea 2").await;
    send(store, &c, &a, None, "from cal").await;
    let last_to_bea = send(store, &a, &b, None, "amy answers bea").await;

    let threads = store.threads(a.id, threads_limit()).await.unwrap();
    let summary: Vec<(String, String, i64)> = threads
        .iter()
        .map(|t| {
            (
                t.other_user.username.clone(),
                t.last_message.clone(),
                t.unread_count,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("bea".into(), "amy answers bea".into(), 2),
            ("cal".into(), "from cal".into(), 1),
        ]
    );
    // Amy deletes her own last message for herself: her thread falls back to the one before it,
    // while Bea still sees it.
    store
        .delete_message(
            Deletion {
                message: last_to_bea.id,
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
    let amy = store.threads(a.id, threads_limit()).await.unwrap();
    assert_eq!(
        amy[0].other_user.username, "cal",
        "cal's message is now Amy's newest"
    );
    assert_eq!(amy[1].last_message, "from bea 2");
    let bea = store.threads(b.id, threads_limit()).await.unwrap();
    assert_eq!(bea[0].last_message, "amy answers bea");
}

pub async fn history_returns_the_newest_page_first_and_each_page_oldest_first<S: Backend>(
    store: &S,
) {
    let a = user(store, "hank", Role::Student).await;
    let b = user(store, "hope", Role::Tutor).await;
    for i in 1..=7 {
        send(store, &a, &b, None, &format!("m{i}")).await;
    }
    let request = |n| HistoryRequest {
        before: None,
        page: page(n, 3),
    };
    let first = store.history(b.id, a.id, None, request(1)).await.unwrap();
    let bodies: Vec<_> = first.messages.iter().map(|m| m.body.as_str()).collect();
    // System B returned the oldest page (m1..m3) here, so new messages never showed.
    assert_eq!(bodies, ["m5", "m6", "m7"]);
    assert!(first.has_more);
    let third = store.history(b.id, a.id, None, request(3)).await.unwrap();
    let bodies: Vec<_> = third.messages.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, ["m1"]);
    assert!(!third.has_more);
}

pub async fn history_pages_by_keyset_without_gaps_or_repeats<S: Backend>(store: &S) {
    let a = user(store, "kim", Role::Student).await;
    let b = user(store, "kai", Role::Tutor).await;
    for i in 1..=10 {
        send(
            store,
            if i % 2 == 0 { &a } else { &b },
            if i % 2 == 0 { &b } else { &a },
            None,
            &format!("k{i}"),
        )
        .await;
    }
    let mut before: Option<MessageId> = None;
    let mut seen = Vec::new();
    loop {
        let slice = store
            .history(
                a.id,
                b.id,
                None,
                HistoryRequest {
                    before,
                    page: page(1, 4),
                },
            )
            .await
            .unwrap();
        let mut bodies: Vec<String> = slice.messages.iter().map(|m| m.body.clone()).collect();
        bodies.extend(seen);
        seen = bodies;
        if !slice.has_more {
            break;
        }
        before = slice.messages.first().map(|m| m.id);
    }
    let expected: Vec<String> = (1..=10).map(|i| format!("k{i}")).collect();
    assert_eq!(seen, expected);
}

pub async fn delete_for_me_hides_the_message_from_the_deleter_only_everywhere<S: Backend>(
    store: &S,
) {
    let a = user(store, "dora", Role::Student).await;
    let b = user(store, "dave", Role::Tutor).await;
    let keep = send(store, &a, &b, None, "budget kept").await;
    let gone = send(store, &a, &b, None, "budget secret").await;
    store
        .delete_message(
            Deletion {
                message: gone.id,
                by: b.id,
                scope: DeleteScope::ForMe,
                at: Utc::now(),
            },
            Change::new(
                audit(AuditAction::MessageDeletedForMe, Some(b.id)),
                no_events(),
            ),
        )
        .await
        .unwrap();
    // The recipient no longer sees it anywhere...
    assert_eq!(bodies_seen_by(store, b.id, a.id).await, ["budget kept"]);
    assert_eq!(search_bodies(store, b.id, "budget").await, ["budget kept"]);
    assert_eq!(store.unread_counts(b.id).await.unwrap().total, 1);
    // ...while the sender still does, in history, sent list and search (System B applied the
    // delete flags to one direction only, or not at all).
    assert_eq!(
        bodies_seen_by(store, a.id, b.id).await,
        ["budget kept", "budget secret"]
    );
    let sent: Vec<_> = store
        .sent(a.id, page(1, 20))
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(sent, [gone.id, keep.id]);
    assert_eq!(search_bodies(store, a.id, "budget").await.len(), 2);
    let stored = store.message(gone.id).await.unwrap().unwrap();
    assert!(stored.deleted_by_recipient && !stored.deleted_by_sender);
    assert_eq!(stored.deleted_at, None, "only one party deleted it");

    // The sender deletes the other one for themselves: gone from their sent list only.
    store
        .delete_message(
            Deletion {
                message: keep.id,
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
    let sent: Vec<_> = store
        .sent(a.id, page(1, 20))
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(sent, [gone.id]);
    assert_eq!(bodies_seen_by(store, b.id, a.id).await, ["budget kept"]);
}

pub async fn deleted_at_is_set_once_both_parties_deleted<S: Backend>(store: &S) {
    let a = user(store, "eve", Role::Student).await;
    let b = user(store, "eli", Role::Tutor).await;
    let m = send(store, &a, &b, None, "both delete").await;
    let first = store
        .delete_message(
            Deletion {
                message: m.id,
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
        .unwrap()
        .value;
    assert_eq!(first.deleted_at, None);
    let second = store
        .delete_message(
            Deletion {
                message: m.id,
                by: b.id,
                scope: DeleteScope::ForMe,
                at: Utc::now(),
            },
            Change::new(
                audit(AuditAction::MessageDeletedForMe, Some(b.id)),
                no_events(),
            ),
        )
        .await
        .unwrap()
        .value;
    assert!(second.deleted_at.is_some());
    assert!(
        store.message(m.id).await.unwrap().is_some(),
        "the record is kept"
    );
    assert!(
        store
            .threads(a.id, threads_limit())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .threads(b.id, threads_limit())
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn delete_for_everyone_hides_the_message_from_both_and_fixes_unread_counts<S: Backend>(
    store: &S,
) {
    let a = user(store, "fay", Role::Student).await;
    let b = user(store, "fin", Role::Tutor).await;
    send(store, &a, &b, None, "first").await;
    let oops = send(store, &a, &b, None, "oops wrong person").await;
    assert_eq!(store.unread_counts(b.id).await.unwrap().total, 2);
    let deleted = store
        .delete_message(
            Deletion {
                message: oops.id,
                by: a.id,
                scope: DeleteScope::ForEveryone,
                at: Utc::now(),
            },
            Change::new(
                audit(AuditAction::MessageDeletedForEveryone, Some(a.id)),
                no_events(),
            ),
        )
        .await
        .unwrap()
        .value;
    assert!(deleted.deleted_for_everyone_at.is_some() && deleted.deleted_at.is_some());
    assert_eq!(bodies_seen_by(store, a.id, b.id).await, ["first"]);
    assert_eq!(bodies_seen_by(store, b.id, a.id).await, ["first"]);
    assert_eq!(store.unread_counts(b.id).await.unwrap().total, 1);
    assert_eq!(
        store.threads(b.id, threads_limit()).await.unwrap()[0].last_message,
        "first"
    );
    assert!(search_bodies(store, a.id, "oops").await.is_empty());
}

pub async fn mark_read_sets_read_at_once_and_lowers_the_unread_count<S: Backend>(store: &S) {
    let a = user(store, "gus", Role::Student).await;
    let b = user(store, "gia", Role::Tutor).await;
    let m = send(store, &a, &b, None, "read me").await;
    let t1 = Utc::now().trunc_subsecs(6);
    let read = store
        .mark_read(
            m.id,
            t1,
            Change::new(audit(AuditAction::MessageRead, Some(b.id)), no_events()),
        )
        .await
        .unwrap()
        .value;
    assert_eq!(read.read_at, Some(t1));
    let again = store
        .mark_read(
            m.id,
            t1 + TimeDelta::minutes(5),
            Change::new(audit(AuditAction::MessageRead, Some(b.id)), no_events()),
        )
        .await
        .unwrap()
        .value;
    assert_eq!(again.read_at, Some(t1), "read_at is set once");
    assert_eq!(store.unread_counts(b.id).await.unwrap().total, 0);
    assert_eq!(
        store.threads(b.id, threads_limit()).await.unwrap()[0].unread_count,
        0
    );
}

pub async fn mark_thread_read_reads_only_what_the_reader_can_see<S: Backend>(store: &S) {
    let a = user(store, "hal", Role::Student).await;
    let b = user(store, "hei", Role::Tutor).await;
    let c = user(store, "hub", Role::Tutor).await;
    send(store, &a, &b, None, "one").await;
    let hidden = send(store, &a, &b, None, "two").await;
    send(store, &a, &b, None, "three").await;
    send(store, &c, &b, None, "other thread").await;
    store
        .delete_message(
            Deletion {
                message: hidden.id,
                by: b.id,
                scope: DeleteScope::ForMe,
                at: Utc::now(),
            },
            Change::new(
                audit(AuditAction::MessageDeletedForMe, Some(b.id)),
                no_events(),
            ),
        )
        .await
        .unwrap();
    let count = store
        .mark_thread_read(
            b.id,
            a.id,
            None,
            Utc::now(),
            Change::new(audit(AuditAction::ThreadRead, Some(b.id)), no_events()),
        )
        .await
        .unwrap()
        .value;
    assert_eq!(count, 2);
    let counts = store.unread_counts(b.id).await.unwrap();
    assert_eq!(counts.total, 1);
    assert_eq!(counts.by_sender, vec![(c.id, 1)]);
    assert!(
        store
            .message(hidden.id)
            .await
            .unwrap()
            .unwrap()
            .read_at
            .is_none()
    );
}

pub async fn unread_counts_are_grouped_by_sender<S: Backend>(store: &S) {
    let me = user(store, "kay", Role::Tutor).await;
    let s1 = user(store, "sam", Role::Student).await;
    let s2 = user(store, "sue", Role::Student).await;
    let booking = store
        .create_booking(
            s1.id,
            me.id,
            BookingState::Active,
            audit(AuditAction::BookingCreated, None),
        )
        .await
        .unwrap();
    send(store, &s1, &me, None, "a").await;
    send(store, &s1, &me, Some(booking.id), "b").await;
    send(store, &s2, &me, None, "c").await;
    send(store, &me, &s2, None, "mine do not count").await;
    let counts = store.unread_counts(me.id).await.unwrap();
    assert_eq!(counts.total, 3);
    let mut by_sender = counts.by_sender;
    by_sender.sort();
    assert_eq!(by_sender, vec![(s1.id, 2), (s2.id, 1)]);
}

pub async fn editing_replaces_the_body_and_marks_it_edited<S: Backend>(store: &S) {
    let a = user(store, "max", Role::Student).await;
    let b = user(store, "mia", Role::Tutor).await;
    let m = send(store, &a, &b, None, "tpyo").await;
    let at = Utc::now().trunc_subsecs(6);
    let edited = store
        .update_body(
            m.id,
            "typo fixed".into(),
            at,
            Change::new(audit(AuditAction::MessageEdited, Some(a.id)), no_events()),
        )
        .await
        .unwrap()
        .value;
    assert_eq!(
        (edited.body.as_str(), edited.edited_at),
        ("typo fixed", Some(at))
    );
    assert_eq!(search_bodies(store, b.id, "typo").await, ["typo fixed"]);
    assert!(
        search_bodies(store, b.id, "tpyo").await.is_empty(),
        "the search index follows edits"
    );
    let missing = store
        .update_body(
            MessageId(999_999),
            "x".into(),
            at,
            Change::new(audit(AuditAction::MessageEdited, Some(a.id)), no_events()),
        )
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
}

pub async fn messages_crossing_in_opposite_directions_do_not_deadlock<S: Backend>(store: &S) {
    let a = user(store, "cross_a", Role::Student).await;
    let b = user(store, "cross_b", Role::Tutor).await;
    // The first message creates the conversation; then both directions race.
    send(store, &a, &b, None, "hello").await;
    let mut tasks = Vec::new();
    for i in 0..20 {
        let store = store.clone();
        let (from, to) = if i % 2 == 0 {
            (a.clone(), b.clone())
        } else {
            (b.clone(), a.clone())
        };
        tasks.push(tokio::spawn(async move {
            send(&store, &from, &to, None, &format!("crossing {i}")).await
        }));
    }
    for task in tasks {
        task.await
            .expect("no send failed (a deadlock would abort one)");
    }
    let counts_b = store.unread_counts(b.id).await.unwrap();
    let counts_a = store.unread_counts(a.id).await.unwrap();
    assert_eq!((counts_b.total, counts_a.total), (11, 10));
}
