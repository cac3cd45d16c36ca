//! Concurrent changes to one conversation, on both backends (see `main.rs`). On PostgreSQL the
//! changes really overlap, so a transaction that locks rows in another order than the rest ends in
//! a deadlock error; SQLite has one writer and checks the same final state.

use crate::Backend;
use chrono::Utc;
use messaging_domain::Deletion;
use messaging_domain::audit::AuditAction;
use messaging_domain::event::Change as Audited;
use messaging_domain::event::{DomainEvent, EventPlan, Replay};
use messaging_domain::message::{DeleteScope, HistoryRequest, Message, MessageView, NewMessage};
use messaging_domain::text::{LimitSpec, Page, PageNumber, PageSize};
use messaging_domain::user::{Role, User, UserId};

use crate::support::{audit, user};

/// One change a user makes to the conversation.
#[derive(Debug, Clone, Copy)]
enum Change {
    Send { from_a: bool },
    DeleteForEveryone(usize),
    DeleteForMe { message: usize, by_sender: bool },
    MarkRead(usize),
    ReadAll { by_a: bool },
}

/// Users' streams get what the domain would send them: both parties learn of a send and of a
/// delete for everyone, the other party of a read.
fn both(a: &User, b: &User) -> Vec<UserId> {
    vec![a.id, b.id]
}

fn sent_plan(from: &User, to: &User) -> EventPlan<Message> {
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

fn deleted_plan(by: UserId, scope: DeleteScope, audience: Vec<UserId>) -> EventPlan<Message> {
    Box::new(move |m: &Message| {
        vec![
            DomainEvent::MessageDeleted {
                message_id: m.id,
                deleted_by: by,
                scope,
                audience,
            }
            .addressed(None),
        ]
    })
}

fn read_plan(reader: UserId) -> EventPlan<Message> {
    Box::new(move |m: &Message| {
        vec![
            DomainEvent::MessageRead {
                message_id: m.id,
                sender_id: m.sender_id,
                reader_id: reader,
                read_at: m.read_at.unwrap_or_else(Utc::now),
            }
            .addressed(None),
        ]
    })
}

fn thread_read_plan(reader: UserId, other: UserId) -> EventPlan<u64> {
    Box::new(move |count: &u64| {
        vec![
            DomainEvent::ThreadRead {
                reader_id: reader,
                other_user_id: other,
                booking_id: None,
                count: *count,
                read_at: Utc::now(),
            }
            .addressed(None),
        ]
    })
}

async fn send<S: Backend>(
    store: &S,
    from: &User,
    to: &User,
    body: String,
) -> Result<Message, String> {
    store
        .insert_message(
            NewMessage {
                sender_id: from.id,
                recipient_id: to.id,
                booking_id: None,
                subject: None,
                body,
                parent_id: None,
                client_message_id: None,
                created_at: Utc::now(),
            },
            Audited::new(
                audit(AuditAction::MessageSent, Some(from.id)),
                sent_plan(from, to),
            ),
        )
        .await
        .map(|r| r.value)
        .map_err(|e| format!("send: {e:?}"))
}

/// Makes one change; the error names the change and what the store said.
async fn apply<S: Backend>(
    store: &S,
    (a, b): (&User, &User),
    seeded: &[Message],
    change: Change,
) -> Result<(), String> {
    let now = Utc::now();
    let result = match change {
        Change::Send { from_a } => {
            let (from, to) = if from_a { (a, b) } else { (b, a) };
            return send(store, from, to, format!("crossing {change:?}"))
                .await
                .map(|_| ());
        }
        Change::DeleteForEveryone(i) => {
            let m = &seeded[i];
            store
                .delete_message(
                    Deletion {
                        message: m.id,
                        by: m.sender_id,
                        scope: DeleteScope::ForEveryone,
                        at: now,
                    },
                    Audited::new(
                        audit(AuditAction::MessageDeletedForEveryone, Some(m.sender_id)),
                        deleted_plan(m.sender_id, DeleteScope::ForEveryone, both(a, b)),
                    ),
                )
                .await
                .map(|_| ())
        }
        Change::DeleteForMe { message, by_sender } => {
            let m = &seeded[message];
            let by = if by_sender {
                m.sender_id
            } else {
                m.recipient_id
            };
            store
                .delete_message(
                    Deletion {
                        message: m.id,
                        by,
                        scope: DeleteScope::ForMe,
                        at: now,
                    },
                    Audited::new(
                        audit(AuditAction::MessageDeletedForMe, Some(by)),
                        deleted_plan(by, DeleteScope::ForMe, vec![by]),
                    ),
                )
                .await
                .map(|_| ())
        }
        Change::MarkRead(i) => {
            let m = &seeded[i];
            store
                .mark_read(
                    m.id,
                    now,
                    Audited::new(
                        audit(AuditAction::MessageRead, Some(m.recipient_id)),
                        read_plan(m.recipient_id),
                    ),
                )
                .await
                .map(|_| ())
        }
        Change::ReadAll { by_a } => {
            let (reader, other) = if by_a { (a, b) } else { (b, a) };
            store
                .mark_thread_read(
                    reader.id,
                    other.id,
                    None,
                    now,
                    Audited::new(
                        audit(AuditAction::ThreadRead, Some(reader.id)),
                        thread_read_plan(reader.id, other.id),
                    ),
                )
                .await
                .map(|_| ())
        }
    };
    result.map_err(|e| format!("{change:?}: {e:?}"))
}

/// The changes of one round over `seeded` (messages alternating a→b, b→a): every kind, both
/// directions, each seeded message touched by more than one change.
fn round(seeded: usize) -> Vec<Change> {
    let mut changes = Vec::new();
    for i in 0..seeded {
        changes.push(Change::Send { from_a: i % 2 == 0 });
        changes.push(Change::Send { from_a: i % 2 == 1 });
        match i % 4 {
            0 => changes.push(Change::DeleteForEveryone(i)),
            1 => changes.push(Change::DeleteForMe {
                message: i,
                by_sender: i % 8 == 1,
            }),
            2 => changes.push(Change::DeleteForMe {
                message: i,
                by_sender: false,
            }),
            _ => changes.push(Change::ReadAll { by_a: i % 8 == 3 }),
        }
        changes.push(Change::MarkRead(i));
        if i % 3 == 0 {
            changes.push(Change::DeleteForEveryone((i + 1) % seeded));
        }
    }
    changes
}

fn history_page() -> HistoryRequest {
    HistoryRequest {
        before: None,
        page: Page {
            number: PageNumber::parse(Some(1)).unwrap(),
            size: PageSize::parse(Some(100), LimitSpec::HISTORY).unwrap(),
        },
    }
}

/// All of `user`'s visible messages with `other`, oldest first.
async fn visible<S: Backend>(store: &S, user: UserId, other: UserId) -> Vec<Message> {
    let mut all = Vec::new();
    let mut request = history_page();
    loop {
        let slice = store.history(user, other, None, request).await.unwrap();
        let Some(oldest) = slice.messages.first().map(|m| m.id) else {
            break;
        };
        let mut page = slice.messages;
        page.extend(all);
        all = page;
        if !slice.has_more {
            break;
        }
        request = HistoryRequest {
            before: Some(oldest),
            ..history_page()
        };
    }
    all
}

/// What `user` sees agrees with itself: the unread count is the number of visible unread
/// messages to them, the thread shows the newest visible message, and the stream is numbered
/// 1..=latest with nothing missing.
async fn assert_consistent<S: Backend>(store: &S, user: UserId, other: UserId) {
    let seen = visible(store, user, other).await;
    let unread = seen
        .iter()
        .filter(|m| m.recipient_id == user && m.read_at.is_none())
        .count();
    let counts = store.unread_counts(user).await.unwrap();
    assert_eq!(counts.total, unread as i64, "{user:?}'s unread count");
    let threads = store
        .threads(user, PageSize::parse(None, LimitSpec::THREADS).unwrap())
        .await
        .unwrap();
    assert_eq!(
        threads.first().map(|t| t.last_message_id),
        seen.last().map(|m| m.id),
        "{user:?}'s thread shows the newest visible message"
    );
    let latest = store.latest_seq(user).await.unwrap();
    let mut seqs = Vec::new();
    while (seqs.last().copied().unwrap_or(0)) < latest {
        let after = seqs.last().copied().unwrap_or(0);
        let Replay::Events(events) = store.events_after(user, after, 500).await.unwrap() else {
            panic!("{user:?}'s stream asks for a resync");
        };
        assert!(!events.is_empty(), "{user:?}'s stream ends before its head");
        seqs.extend(events.iter().map(|e| e.seq));
    }
    assert_eq!(
        seqs,
        (1..=latest).collect::<Vec<u64>>(),
        "{user:?}'s stream is gap-free"
    );
}

pub async fn crossing_sends_deletes_and_reads_of_one_conversation_all_succeed<S: Backend>(
    store: &S,
) {
    const SEEDED: usize = 16;
    const ROUNDS: usize = 4;
    let a = user(store, "lock_a", Role::Student).await;
    let b = user(store, "lock_b", Role::Tutor).await;
    for _ in 0..ROUNDS {
        let mut seeded = Vec::with_capacity(SEEDED);
        for i in 0..SEEDED {
            let (from, to) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
            seeded.push(send(store, from, to, format!("seed {i}")).await.unwrap());
        }
        let seeded = std::sync::Arc::new(seeded);
        let mut tasks = tokio::task::JoinSet::new();
        for change in round(SEEDED) {
            let (store, a, b, seeded) = (
                store.clone(),
                a.clone(),
                b.clone(),
                std::sync::Arc::clone(&seeded),
            );
            tasks.spawn(async move { apply(&store, (&a, &b), &seeded, change).await });
        }
        let mut failures = Vec::new();
        while let Some(done) = tasks.join_next().await {
            if let Err(failure) = done.unwrap() {
                failures.push(failure);
            }
        }
        assert!(failures.is_empty(), "changes failed: {failures:#?}");
    }
    assert_consistent(store, a.id, b.id).await;
    assert_consistent(store, b.id, a.id).await;
}
