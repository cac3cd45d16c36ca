//! Event streams, presence and WebSocket tickets, on both backends (see `main.rs`).

use std::sync::Arc;

use crate::Backend;
use chrono::{SubsecRound, TimeDelta, Utc};
use messaging_domain::StoreError;
use messaging_domain::accounts::{SessionKey, TicketRecord};
use messaging_domain::audit::AuditAction;
use messaging_domain::event::{DomainEvent, EventPlan, Replay, StreamEvent};
use messaging_domain::message::{Message, MessageView, NewMessage};
use messaging_domain::user::{Role, User, UserId};
use messaging_domain::{Change, Deletion};

use crate::support::{audit, user};

/// The plan the domain makes for a send: both parties' streams get the message.
pub fn sent_plan(from: &User, to: &User) -> EventPlan<Message> {
    let (sender, recipient) = (from.summary(), to.summary());
    Box::new(move |m: &Message| {
        vec![
            DomainEvent::MessageSent {
                view: MessageView {
                    message: m.clone(),
                    sender,
                    recipient,
                },
                client_message_id: None,
            }
            .addressed(None),
        ]
    })
}

/// A message from `from` to `to`, sent now, with an optional client id.
pub fn new_message(from: &User, to: &User, body: &str, client_id: Option<&str>) -> NewMessage {
    NewMessage {
        sender_id: from.id,
        recipient_id: to.id,
        booking_id: None,
        subject: None,
        body: body.into(),
        parent_id: None,
        client_message_id: client_id.map(str::to_owned),
        created_at: Utc::now(),
    }
}

/// Sends as the domain does and returns the stream entries the send appended.
///
/// # Errors
/// What the store's `insert_message` answers.
pub async fn send_with_events<S: Backend>(
    store: &S,
    from: &User,
    to: &User,
    body: &str,
    client_id: Option<&str>,
) -> Result<Vec<StreamEvent>, StoreError> {
    store
        .insert_message(
            new_message(from, to, body, client_id),
            Change::new(
                audit(AuditAction::MessageSent, Some(from.id)),
                sent_plan(from, to),
            ),
        )
        .await
        .map(|r| r.events)
}

/// Each entry's number with the body it carries (or the event's debug form).
pub fn bodies(events: &[StreamEvent]) -> Vec<(u64, String)> {
    events
        .iter()
        .map(|e| match &*e.event {
            DomainEvent::MessageSent { view, .. } => (e.seq, view.message.body.clone()),
            other => (e.seq, format!("{other:?}")),
        })
        .collect()
}

/// The stream of `user` after `after` (up to 100 entries).
///
/// # Panics
/// When the store fails.
pub async fn replay<S: Backend>(store: &S, user: UserId, after: u64) -> Replay {
    store.events_after(user, after, 100).await.unwrap()
}

pub async fn streams_number_entries_per_user_without_gaps_and_replay_exactly<S: Backend>(
    store: &S,
) {
    let a = user(store, "stream_a", Role::Student).await;
    let b = user(store, "stream_b", Role::Tutor).await;
    let c = user(store, "stream_c", Role::Tutor).await;
    let first = send_with_events(store, &a, &b, "one", None).await.unwrap();
    // Each party's stream got the message, numbered in its own stream.
    let mut positions: Vec<(UserId, u64)> = first.iter().map(|e| (e.user_id, e.seq)).collect();
    positions.sort();
    assert_eq!(positions, vec![(a.id, 1), (b.id, 1)]);
    send_with_events(store, &a, &c, "two", None).await.unwrap();
    send_with_events(store, &b, &a, "three", None)
        .await
        .unwrap();

    // A change that fails (a reused client id) appends nothing and takes no number.
    send_with_events(store, &a, &b, "four", Some("dup"))
        .await
        .unwrap();
    let refused = send_with_events(store, &a, &b, "five", Some("dup")).await;
    assert!(matches!(
        refused,
        Err(StoreError::Duplicate(
            messaging_domain::Unique::ClientMessageId
        ))
    ));
    send_with_events(store, &a, &b, "six", None).await.unwrap();

    let Replay::Events(all) = replay(store, a.id, 0).await else {
        panic!("a fresh stream replays from the start")
    };
    assert_eq!(
        bodies(&all),
        vec![
            (1, "one".into()),
            (2, "two".into()),
            (3, "three".into()),
            (4, "four".into()),
            (5, "six".into()),
        ]
    );
    let Replay::Events(after_two) = replay(store, a.id, 2).await else {
        panic!("entries after 2 are kept")
    };
    assert_eq!(bodies(&after_two), bodies(&all[2..]));
    assert_eq!(replay(store, a.id, 5).await, Replay::Events(Vec::new()));
    assert_eq!(store.latest_seq(a.id).await.unwrap(), 5);
    assert_eq!(store.latest_seq(c.id).await.unwrap(), 1);
    // Each stream has its own head; a user with no stream is at 0.
    let nobody = user(store, "stream_nobody", Role::Student).await;
    assert_eq!(store.latest_seq(b.id).await.unwrap(), 4);
    assert_eq!(store.latest_seq(nobody.id).await.unwrap(), 0);
    // A position this stream never reached means the client's state is not this stream's.
    assert_eq!(replay(store, a.id, 9).await, Replay::Resync { latest: 5 });
    // The limit holds.
    let Replay::Events(two) = store.events_after(a.id, 0, 2).await.unwrap() else {
        panic!()
    };
    assert_eq!(two.len(), 2);
}

pub async fn a_position_older_than_what_is_kept_asks_for_a_resync<S: Backend>(store: &S) {
    let a = user(store, "prune_a", Role::Student).await;
    let b = user(store, "prune_b", Role::Tutor).await;
    send_with_events(store, &a, &b, "old", None).await.unwrap();
    send_with_events(store, &a, &b, "older", None)
        .await
        .unwrap();
    let cutoff = Utc::now() + TimeDelta::milliseconds(1);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    send_with_events(store, &a, &b, "new", None).await.unwrap();
    assert_eq!(
        store.prune_events(cutoff).await.unwrap(),
        4,
        "two entries each"
    );
    // Numbering goes on after a prune.
    assert_eq!(store.latest_seq(b.id).await.unwrap(), 3);
    assert_eq!(replay(store, b.id, 0).await, Replay::Resync { latest: 3 });
    assert_eq!(replay(store, b.id, 1).await, Replay::Resync { latest: 3 });
    let Replay::Events(kept) = replay(store, b.id, 2).await else {
        panic!("the entry after 2 is kept")
    };
    assert_eq!(bodies(&kept), vec![(3, "new".into())]);
}

pub async fn concurrent_changes_get_distinct_gap_free_numbers<S: Backend>(store: &S) {
    let a = Arc::new(user(store, "race_a", Role::Student).await);
    let b = Arc::new(user(store, "race_b", Role::Tutor).await);
    send_with_events(store, &a, &b, "hello", None)
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..20 {
        let (store, a, b) = (store.clone(), Arc::clone(&a), Arc::clone(&b));
        tasks.push(tokio::spawn(async move {
            let (from, to) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
            send_with_events(&store, from, to, &format!("race {i}"), None)
                .await
                .expect("no send failed (a deadlock would abort one)")
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    for who in [a.id, b.id] {
        let Replay::Events(all) = replay(store, who, 0).await else {
            panic!()
        };
        let seqs: Vec<u64> = all.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, (1..=21).collect::<Vec<u64>>(), "{who:?}");
    }
}

pub async fn ws_tickets_are_single_use_and_expire<S: Backend>(store: &S) {
    let a = user(store, "ticket_a", Role::Student).await;
    let now = Utc::now().trunc_subsecs(6);
    let ticket = |hash: &str, session: Option<&str>| TicketRecord {
        ticket_hash: hash.into(),
        user_id: a.id,
        credential_version: 3,
        session: session.map(|s| SessionKey(s.into())),
        expires_at: now + TimeDelta::seconds(30),
    };
    store
        .insert_ws_ticket(ticket("h1", Some("s1")))
        .await
        .unwrap();
    store.insert_ws_ticket(ticket("h2", None)).await.unwrap();
    assert_eq!(
        store.redeem_ws_ticket("h1".into(), now).await.unwrap(),
        Some(ticket("h1", Some("s1")))
    );
    assert_eq!(
        store.redeem_ws_ticket("h1".into(), now).await.unwrap(),
        None
    );
    assert_eq!(
        store.redeem_ws_ticket("nope".into(), now).await.unwrap(),
        None
    );
    let later = now + TimeDelta::seconds(31);
    assert_eq!(
        store.redeem_ws_ticket("h2".into(), later).await.unwrap(),
        None
    );
}

pub async fn a_delete_for_everyone_redacts_the_body_kept_in_the_streams<S: Backend>(store: &S) {
    use messaging_domain::message::DeleteScope;
    let a = user(store, "redact_a", Role::Student).await;
    let b = user(store, "redact_b", Role::Tutor).await;
    let gone = send_with_events(store, &a, &b, "sent to the wrong person", None)
        .await
        .unwrap();
    send_with_events(store, &a, &b, "this one stays", None)
        .await
        .unwrap();
    let gone_id = match &*gone[0].event {
        DomainEvent::MessageSent { view, .. } => view.message.id,
        other => panic!("{other:?}"),
    };
    store
        .delete_message(
            Deletion {
                message: gone_id,
                by: a.id,
                scope: DeleteScope::ForEveryone,
                at: Utc::now(),
            },
            Change::new(
                audit(AuditAction::MessageDeletedForEveryone, Some(a.id)),
                crate::support::no_events(),
            ),
        )
        .await
        .unwrap();
    for who in [a.id, b.id] {
        let Replay::Events(all) = replay(store, who, 0).await else {
            panic!()
        };
        // The entries (and their numbers) stay; what was said does not.
        assert_eq!(
            bodies(&all),
            vec![(1, String::new()), (2, "this one stays".into())],
            "{who:?}"
        );
    }
}

/// A send of a burst: from, to, body and client id.
type BurstSend = (Arc<User>, Arc<User>, String, Option<&'static str>);

/// Many sends at the same moment (on PostgreSQL, committed together in groups): each is stored
/// once, a reused client id fails alone, a conversation's first message among them is stored too,
/// and every side effect of each send is there as if it had been sent alone: both parties'
/// stream entries numbered without a gap, the thread rows' newest message and unread counts, and
/// an intact audit chain.
pub async fn sends_at_the_same_moment_each_keep_every_guarantee<S: Backend>(store: &S) {
    use messaging_domain::error::Unique;
    use messaging_domain::text::{LimitSpec, PageSize};
    let names = ["burst_a", "burst_b", "burst_c", "burst_d"];
    let mut people = Vec::new();
    for name in names {
        people.push(Arc::new(user(store, name, Role::Student).await));
    }
    let [a, b, c, d] = [0, 1, 2, 3].map(|i| Arc::clone(&people[i]));
    // Conversations a-b, c-d and a-c exist; b-d gets its first message in the burst.
    for (from, to) in [(&a, &b), (&c, &d), (&a, &c)] {
        send_with_events(store, from, to, "hello", None)
            .await
            .unwrap();
    }
    let pairs = [
        (&a, &b),
        (&b, &a),
        (&c, &d),
        (&d, &c),
        (&a, &c),
        (&c, &a),
        (&b, &d),
    ];
    let mut sends = Vec::new();
    for i in 0..28 {
        let (from, to) = pairs[i % pairs.len()];
        sends.push((Arc::clone(from), Arc::clone(to), format!("burst {i}"), None));
    }
    let burst = |sends: Vec<BurstSend>| async move {
        futures_util::future::join_all(
            sends
                .iter()
                .map(|(from, to, body, id)| send_with_events(store, from, to, body, *id)),
        )
        .await
    };
    let mut results = burst(sends.clone()).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    // Then the same client id twice among other sends: one is stored, the other is a duplicate,
    // and the others are stored all the same.
    let mut retries = vec![
        (
            Arc::clone(&a),
            Arc::clone(&b),
            "retry one".to_owned(),
            Some("burst-id"),
        ),
        (
            Arc::clone(&a),
            Arc::clone(&b),
            "retry two".to_owned(),
            Some("burst-id"),
        ),
    ];
    retries.extend(sends.iter().take(4).cloned());
    sends.extend(retries.iter().cloned());
    results.extend(burst(retries).await);
    let duplicates = results
        .iter()
        .filter(|r| matches!(r, Err(StoreError::Duplicate(Unique::ClientMessageId))))
        .count();
    assert_eq!(
        duplicates, 1,
        "exactly one of the two sends with one client id fails"
    );
    let stored: Vec<&Vec<StreamEvent>> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(
        stored.len(),
        sends.len() - 1,
        "every other send succeeded: {results:?}"
    );

    // Each party's stream: one entry per message they sent or received, numbered 1, 2, 3, ...
    for person in &people {
        let involved = 3 + 28 + 1 + 4; // the seeds, the bursts and the stored retry, at most
        let Replay::Events(all) = replay(store, person.id, 0).await else {
            panic!("no resync expected")
        };
        let seqs: Vec<u64> = all.iter().map(|e| e.seq).collect();
        assert_eq!(
            seqs,
            (1..=all.len() as u64).collect::<Vec<_>>(),
            "{}",
            person.username
        );
        let mut ids: Vec<_> = all.iter().filter_map(|e| e.event.message_id()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(
            ids.len(),
            all.len(),
            "one entry per message for {}",
            person.username
        );
        assert!(all.len() <= involved);
    }
    // The entries each send returned are the ones stored.
    for events in &stored {
        for event in events.iter() {
            let Replay::Events(kept) = replay(store, event.user_id, event.seq - 1).await else {
                panic!("no resync expected")
            };
            assert_eq!(kept.first().map(|e| &e.event), Some(&event.event));
        }
    }
    // Thread rows: the newest message of each conversation, and what each member has unread.
    for person in &people {
        let threads = store
            .threads(
                person.id,
                PageSize::parse(None, LimitSpec::THREADS).unwrap(),
            )
            .await
            .unwrap();
        for thread in threads {
            let other = thread.other_user.id;
            let Replay::Events(all) = replay(store, person.id, 0).await else {
                panic!()
            };
            let between: Vec<&Message> = all
                .iter()
                .filter_map(|e| match &*e.event {
                    DomainEvent::MessageSent { view, .. } => Some(&view.message),
                    _ => None,
                })
                .filter(|m| m.sender_id == other || m.recipient_id == other)
                .collect();
            let newest = between.iter().map(|m| m.id).max().unwrap();
            assert_eq!(
                thread.last_message_id, newest,
                "{} with {other:?}",
                person.username
            );
            let received = between
                .iter()
                .filter(|m| m.recipient_id == person.id)
                .count();
            assert_eq!(
                thread.unread_count, received as i64,
                "{} with {other:?}",
                person.username
            );
        }
    }
    let verification = store.verify_audit_chain().await.unwrap();
    assert!(verification.broken.is_none(), "{verification:?}");
}
