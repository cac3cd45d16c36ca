//! The event plan's contract: a write runs its plan exactly once when it changes something, and
//! never when it changes nothing (so nobody is told of a change that did not happen).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::Utc;
use messaging_domain::audit::AuditAction;
use messaging_domain::event::{DomainEvent, EventPlan};
use messaging_domain::message::{DeleteScope, Message};
use messaging_domain::user::Role;
use messaging_domain::{Change, Deletion};

use crate::Backend;
use crate::support::{audit, send, user};

/// A plan that counts its runs and appends one event to the message's sender's stream.
fn counted(runs: &Arc<AtomicUsize>) -> EventPlan<Message> {
    let runs = Arc::clone(runs);
    Box::new(move |m: &Message| {
        runs.fetch_add(1, Ordering::SeqCst);
        vec![
            DomainEvent::MessageRead {
                message_id: m.id,
                sender_id: m.sender_id,
                reader_id: m.recipient_id,
                read_at: m.read_at.unwrap_or_else(Utc::now),
            }
            .addressed(None),
        ]
    })
}

pub async fn a_plan_runs_once_when_the_write_changes_something_and_never_otherwise<S: Backend>(
    store: &S,
) {
    let a = user(store, "plan_a", Role::Student).await;
    let b = user(store, "plan_b", Role::Tutor).await;
    let m = send(store, &a, &b, None, "count me").await;
    let runs = Arc::new(AtomicUsize::new(0));
    let read = || Change::new(audit(AuditAction::MessageRead, Some(b.id)), counted(&runs));
    let first = store.mark_read(m.id, Utc::now(), read()).await.unwrap();
    let again = store.mark_read(m.id, Utc::now(), read()).await.unwrap();
    assert_eq!(
        runs.load(Ordering::SeqCst),
        1,
        "a second read changes nothing"
    );
    assert_eq!((first.events.len(), again.events.len()), (1, 0));

    let delivered = store
        .mark_delivered(m.id, Utc::now(), counted(&runs))
        .await
        .unwrap();
    let delivered_again = store
        .mark_delivered(m.id, Utc::now(), counted(&runs))
        .await
        .unwrap();
    assert_eq!((delivered.value, delivered_again.value), (true, false));
    assert_eq!(
        runs.load(Ordering::SeqCst),
        2,
        "only the first delivery counts"
    );

    let deletion = Deletion {
        message: m.id,
        by: b.id,
        scope: DeleteScope::ForMe,
        at: Utc::now(),
    };
    let delete = || {
        Change::new(
            audit(AuditAction::MessageDeletedForMe, Some(b.id)),
            counted(&runs),
        )
    };
    store.delete_message(deletion, delete()).await.unwrap();
    let repeated = store.delete_message(deletion, delete()).await.unwrap();
    assert_eq!(
        runs.load(Ordering::SeqCst),
        3,
        "deleting twice deletes once"
    );
    assert!(repeated.events.is_empty());

    // Nothing unread: the thread read changes nothing and tells nobody.
    let thread_runs = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&thread_runs);
    let nothing = store
        .mark_thread_read(
            b.id,
            a.id,
            None,
            Utc::now(),
            Change::new(
                audit(AuditAction::ThreadRead, Some(b.id)),
                Box::new(move |_: &u64| {
                    counter.fetch_add(1, Ordering::SeqCst);
                    Vec::new()
                }),
            ),
        )
        .await
        .unwrap();
    assert_eq!((nothing.value, thread_runs.load(Ordering::SeqCst)), (0, 0));
    // The streams hold exactly what the plans appended: the read and the delivery, for the sender.
    assert_eq!(store.latest_seq(a.id).await.unwrap(), 3);
    assert_eq!(store.latest_seq(b.id).await.unwrap(), 0);
}
