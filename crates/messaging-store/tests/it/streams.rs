//! What only this store does with event streams: announce them to other servers (PostgreSQL's
//! LISTEN/NOTIFY), read many heads at once, count presence across server instances, and replay
//! streams written before the stored format was versioned.

use chrono::{SubsecRound, TimeDelta, Utc};
use messaging_domain::audit::AuditAction;
use messaging_domain::event::{DomainEvent, Replay};
use messaging_domain::ports::Messages;
use messaging_domain::user::{Role, UserId};
use messaging_domain::{Change, Deletion};
use messaging_store::Store;
use messaging_store::listen::Notice;

use crate::support::{audit, user};

use messaging_contract::{bodies, replay, send_with_events};

pub async fn the_heads_of_several_streams_are_read_at_once(store: &Store) {
    let a = user(store, "heads_a", Role::Student).await;
    let b = user(store, "heads_b", Role::Tutor).await;
    let c = user(store, "heads_c", Role::Tutor).await;
    let nobody = user(store, "heads_nobody", Role::Student).await;
    send_with_events(store, &a, &b, "one", None).await.unwrap();
    send_with_events(store, &a, &c, "two", None).await.unwrap();
    send_with_events(store, &b, &a, "three", None)
        .await
        .unwrap();
    // A user with no stream is left out.
    let mut heads = store
        .latest_seqs(&[a.id, b.id, c.id, nobody.id])
        .await
        .unwrap();
    heads.sort();
    assert_eq!(heads, vec![(a.id, 3), (b.id, 2), (c.id, 1)]);
    assert_eq!(store.latest_seqs(&[]).await.unwrap(), Vec::new());
}

pub async fn postgres_announces_committed_entries_to_listeners(store: &Store) {
    let Some(mut notices) = store.listen().await.unwrap() else {
        // SQLite serves one process: it has nobody to announce to.
        assert_eq!(store.kind(), messaging_store::DatabaseKind::Sqlite);
        return;
    };
    let a = user(store, "listen_a", Role::Student).await;
    let b = user(store, "listen_b", Role::Tutor).await;
    // A refused change announces nothing.
    send_with_events(store, &a, &b, "first", Some("once"))
        .await
        .unwrap();
    let first = next_notice(&mut notices).await;
    send_with_events(store, &a, &b, "again", Some("once"))
        .await
        .unwrap_err();
    send_with_events(store, &b, &a, "second", None)
        .await
        .unwrap();
    let second = next_notice(&mut notices).await;
    let sorted = |notice: Notice| match notice {
        Notice::Appended {
            origin,
            mut positions,
        } => {
            assert_eq!(origin, store.instance_id(), "the change names its store");
            positions.sort();
            positions
        }
        Notice::Live(other) => panic!("unexpected live notice {other}"),
    };
    assert_eq!(sorted(first), vec![(a.id, 1), (b.id, 1)]);
    assert_eq!(sorted(second), vec![(a.id, 2), (b.id, 2)]);
    store.notify_live("{\"hello\":1}").await.unwrap();
    assert_eq!(
        next_notice(&mut notices).await,
        Notice::Live("{\"hello\":1}".into())
    );
}

async fn next_notice(notices: &mut tokio::sync::mpsc::Receiver<Notice>) -> Notice {
    tokio::time::timeout(std::time::Duration::from_secs(10), notices.recv())
        .await
        .expect("a notice within 10 s")
        .expect("the listener is alive")
}

pub async fn presence_spans_instances_until_they_leave_or_go_stale(store: &Store) {
    let a = user(store, "presence_a", Role::Student).await;
    let now = Utc::now().trunc_subsecs(6);
    let recent = now - TimeDelta::seconds(90);
    assert!(!store.presence_online(a.id, recent).await.unwrap());
    store.presence_touch("one", &[a.id], now).await.unwrap();
    store.presence_touch("two", &[a.id], now).await.unwrap();
    store.presence_leave("one", Some(&[a.id])).await.unwrap();
    assert!(
        store.presence_online(a.id, recent).await.unwrap(),
        "still on two"
    );
    store.presence_leave("two", None).await.unwrap();
    assert!(!store.presence_online(a.id, recent).await.unwrap());
    // An instance that stopped refreshing (crashed) no longer counts.
    store
        .presence_touch("three", &[a.id], now - TimeDelta::seconds(120))
        .await
        .unwrap();
    assert!(!store.presence_online(a.id, recent).await.unwrap());
    // Its rows are deleted once it has been silent long enough, and only its rows: "one" still
    // beats (with no socket left), and comes back whole after its next beat.
    let long_ago = now - TimeDelta::seconds(600);
    assert!(store.presence_online(a.id, long_ago).await.unwrap());
    assert_eq!(
        store
            .presence_sweep(now - TimeDelta::seconds(60))
            .await
            .unwrap(),
        1,
        "three, not one"
    );
    assert!(!store.presence_online(a.id, long_ago).await.unwrap());
    assert_eq!(
        store
            .presence_sweep(now - TimeDelta::seconds(60))
            .await
            .unwrap(),
        0
    );
    store.presence_touch("one", &[a.id], now).await.unwrap();
    assert!(store.presence_online(a.id, recent).await.unwrap());
}

/// A heartbeat names every user the instance holds a socket of: each of them is marked (a user
/// named twice once), and on PostgreSQL in one statement whatever their number, which writes
/// the instance's row and the missing users' rows only. Rewriting every user's row made a WAL
/// flush long enough to stall every send committing meanwhile.
pub async fn a_heartbeat_marks_many_users_in_a_few_statements(store: &Store) {
    let mut ids = Vec::new();
    for i in 0..600 {
        ids.push(user(store, &format!("beat{i}"), Role::Student).await.id);
    }
    let now = Utc::now().trunc_subsecs(6);
    let recent = now - TimeDelta::seconds(90);
    store
        .presence_touch("one", &ids[..1], now - TimeDelta::seconds(600))
        .await
        .unwrap();
    assert!(!store.presence_online(ids[0], recent).await.unwrap());

    let mut named = ids.clone();
    named.push(ids[7]);
    let before = store.queries_executed();
    store.presence_touch("one", &named, now).await.unwrap();
    let statements = store.queries_executed() - before;
    if store.kind() == messaging_store::DatabaseKind::Postgres {
        assert_eq!(statements, 1, "600 users in one statement");
    }
    for id in [ids[0], ids[7], ids[499], ids[500], ids[599]] {
        assert!(store.presence_online(id, recent).await.unwrap(), "{id:?}");
    }
    // The next beat names one user: the instance is alive, and every socket it recorded counts.
    let later = now + TimeDelta::seconds(30);
    store.presence_touch("one", &ids[..1], later).await.unwrap();
    assert!(store.presence_online(ids[599], later).await.unwrap());
    // A socket closed on an instance still beating is gone; another instance's are not.
    store.presence_touch("two", &ids[..2], later).await.unwrap();
    store.presence_leave("one", Some(&ids[1..2])).await.unwrap();
    store.presence_leave("two", Some(&ids[1..2])).await.unwrap();
    assert!(!store.presence_online(ids[1], later).await.unwrap());
    assert!(store.presence_online(ids[2], later).await.unwrap());
    store.presence_touch("one", &[], now).await.unwrap();
    store.presence_leave("one", None).await.unwrap();
    assert!(!store.presence_online(ids[599], recent).await.unwrap());
    assert!(
        store.presence_online(ids[0], later).await.unwrap(),
        "still on two"
    );
}

/// Stream entries as servers wrote them before the stored format was versioned: the domain
/// types' own serde form. `{sender}` and `{message}` are filled in.
const UNVERSIONED_READ: &str = r#"{"MessageRead":{"message_id":{message},"sender_id":{sender},"reader_id":{reader},"read_at":"2020-01-01T00:00:00Z"}}"#;
const UNVERSIONED_SENT: &str = r#"{"MessageSent":{"view":{"message":{"id":{message},"conversation_id":1,"sender_id":{sender},"recipient_id":{reader},"booking_id":null,"subject":null,"body":"kept from before","parent_id":null,"created_at":"2020-01-01T00:00:00Z","read_at":null,"edited_at":null,"deleted_by_sender":false,"deleted_by_recipient":false,"deleted_for_everyone_at":null,"deleted_at":null},"sender":{"id":{sender},"username":"old_a","first_name":"Old","last_name":"A","role":"Student"},"recipient":{"id":{reader},"username":"old_b","first_name":"Old","last_name":"B","role":"Tutor"}},"client_message_id":null}}"#;

fn unversioned(template: &str, sender: UserId, reader: UserId, message: i64) -> String {
    template
        .replace("{sender}", &sender.0.to_string())
        .replace("{reader}", &reader.0.to_string())
        .replace("{message}", &message.to_string())
}

pub async fn streams_written_before_the_format_was_versioned_replay_and_continue(store: &Store) {
    use messaging_domain::message::{DeleteScope, MessageId};
    let (store, mut raw) = crate::support::store_with_raw_db(store.kind()).await;
    let a = user(&store, "old_a", Role::Student).await;
    let b = user(&store, "old_b", Role::Tutor).await;
    // Two entries of a's stream written by an older server.
    raw.execute(&format!(
        "INSERT INTO event_heads (user_id, last_seq) VALUES ({a}, 2); \
         INSERT INTO user_events (user_id, seq, at, payload, message_id) VALUES \
           ({a}, 1, '2020-01-01 00:00:00+00:00', '{read}', 41), \
           ({a}, 2, '2020-01-01 00:00:00+00:00', '{sent}', 42)",
        a = a.id.0,
        read = unversioned(UNVERSIONED_READ, a.id, b.id, 41),
        sent = unversioned(UNVERSIONED_SENT, a.id, b.id, 42),
    ))
    .await
    .unwrap();
    let Replay::Events(old) = replay(&store, a.id, 0).await else {
        panic!("the old entries are kept")
    };
    assert_eq!(old.len(), 2);
    assert_eq!(
        *old[0].event,
        DomainEvent::MessageRead {
            message_id: MessageId(41),
            sender_id: a.id,
            reader_id: b.id,
            read_at: "2020-01-01T00:00:00Z".parse().unwrap(),
        }
    );
    assert_eq!(bodies(&old[1..]), vec![(2, "kept from before".into())]);

    // The stream goes on where the old server left it, in the current format.
    let sent = send_with_events(&store, &a, &b, "written today", None)
        .await
        .unwrap();
    let Replay::Events(all) = replay(&store, a.id, 0).await else {
        panic!()
    };
    assert_eq!(
        bodies(&all[1..]),
        vec![(2, "kept from before".into()), (3, "written today".into())]
    );

    // An old entry about a message deleted for everyone is redacted like a new one.
    let today = match &*sent[0].event {
        DomainEvent::MessageSent { view, .. } => view.message.id,
        other => panic!("{other:?}"),
    };
    raw.execute(&format!(
        "UPDATE event_heads SET last_seq = 4 WHERE user_id = {a}; \
         INSERT INTO user_events (user_id, seq, at, payload, message_id) VALUES \
           ({a}, 4, '2020-01-01 00:00:00+00:00', '{sent}', {m})",
        a = a.id.0,
        m = today.0,
        sent = unversioned(UNVERSIONED_SENT, a.id, b.id, today.0),
    ))
    .await
    .unwrap();
    store
        .delete_message(
            Deletion {
                message: today,
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
    let Replay::Events(all) = replay(&store, a.id, 0).await else {
        panic!()
    };
    assert_eq!(
        bodies(&all[1..]),
        vec![
            (2, "kept from before".into()),
            (3, String::new()),
            (4, String::new())
        ]
    );
}
