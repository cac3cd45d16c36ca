//! The mocks of the harness: each answers from the [`World`] it is given and records what the
//! service asked it to write or publish.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use super::{INSERTED_ID, World, Write, now};
use crate::error::StoreError;
use crate::event::{DomainEvent, EventPlan, LiveEvent, Recorded, StreamEvent};
use crate::message::{ConversationId, HistorySlice, Message, SearchResults, ThreadSummary};
use crate::ports::{MockClock, MockDirectory, MockEventPublisher, MockMessageRepository};
use crate::user::{BlockState, CareAssignment, UserId};

pub(super) fn clock() -> MockClock {
    let mut clock = MockClock::new();
    clock.expect_now().return_const(now());
    clock
}

pub(super) fn publisher(
    events: &Arc<Mutex<Vec<DomainEvent>>>,
    deliveries: &Arc<Mutex<Vec<(UserId, DomainEvent)>>>,
    live: &Arc<Mutex<Vec<LiveEvent>>>,
) -> MockEventPublisher {
    let mut publisher = MockEventPublisher::new();
    let (events, deliveries) = (Arc::clone(events), Arc::clone(deliveries));
    publisher.expect_publish().returning(move |stream| {
        let mut last: Option<Arc<DomainEvent>> = None;
        for entry in stream {
            deliveries
                .lock()
                .unwrap()
                .push((entry.user_id, (*entry.event).clone()));
            // One event appended to several streams is one event.
            if !last.as_ref().is_some_and(|l| Arc::ptr_eq(l, &entry.event)) {
                events.lock().unwrap().push((*entry.event).clone());
            }
            last = Some(entry.event);
        }
    });
    let live = Arc::clone(live);
    publisher
        .expect_publish_live()
        .returning(move |event| live.lock().unwrap().push(event));
    publisher
}

/// What a store does with an event plan: calls it with what it stored and numbers the entries.
fn record<T>(value: T, plan: EventPlan<T>) -> Recorded<T> {
    let events = plan(&value)
        .into_iter()
        .flat_map(|outgoing| {
            let event = Arc::new(outgoing.event);
            outgoing
                .audience
                .into_iter()
                .zip(1..)
                .map(move |(user_id, seq)| StreamEvent {
                    user_id,
                    seq,
                    at: now(),
                    event: Arc::clone(&event),
                })
        })
        .collect();
    Recorded { value, events }
}

pub(super) fn directory(world: &Arc<World>) -> MockDirectory {
    let mut directory = MockDirectory::new();
    let w = Arc::clone(world);
    directory
        .expect_user()
        .returning(move |id| Ok(w.users.iter().find(|u| u.id == id).cloned()));
    let w = Arc::clone(world);
    directory
        .expect_user_by_username()
        .returning(move |name| Ok(w.users.iter().find(|u| u.username == name).cloned()));
    let w = Arc::clone(world);
    directory.expect_users().returning(move |ids| {
        Ok(w.users
            .iter()
            .filter(|u| ids.contains(&u.id))
            .cloned()
            .collect())
    });
    let w = Arc::clone(world);
    directory
        .expect_booking()
        .returning(move |id| Ok(w.bookings.iter().find(|b| b.id == id).cloned()));
    let w = Arc::clone(world);
    directory.expect_bookings_between().returning(move |a, b| {
        Ok(w.bookings
            .iter()
            .filter(|booking| {
                let touches = |u| booking.student_id == u || booking.tutor_id == u;
                if w.sloppy_bookings_between {
                    touches(a) || touches(b)
                } else {
                    booking.is_between(a, b)
                }
            })
            .cloned()
            .collect())
    });
    let w = Arc::clone(world);
    directory
        .expect_care_assignment()
        .returning(move |clinician, patient| {
            Ok(if w.assignments.contains(&(clinician, patient)) {
                CareAssignment::Current
            } else if w.former_assignments.contains(&(clinician, patient)) {
                CareAssignment::Former
            } else {
                CareAssignment::Never
            })
        });
    let w = Arc::clone(world);
    directory
        .expect_blocks_between()
        .returning(move |first, second| {
            Ok(BlockState {
                first_blocked_second: w.blocks.contains(&(first, second)),
                second_blocked_first: w.blocks.contains(&(second, first)),
            })
        });
    let w = Arc::clone(world);
    directory
        .expect_conversation_partners()
        .returning(move |user| {
            Ok(w.conversations
                .iter()
                .filter_map(|c| {
                    let other = if c.user_low == user {
                        c.user_high
                    } else if c.user_high == user {
                        c.user_low
                    } else {
                        return None;
                    };
                    let blocked =
                        w.blocks.contains(&(user, other)) || w.blocks.contains(&(other, user));
                    (!blocked).then_some(other)
                })
                .collect())
        });
    let w = Arc::clone(world);
    directory
        .expect_presence_hidden()
        .returning(move |user| Ok(w.hidden_presence.contains(&user)));
    directory
}

pub(super) fn repository(
    world: &Arc<World>,
    writes: &Arc<Mutex<Vec<Write>>>,
) -> MockMessageRepository {
    let mut repo = MockMessageRepository::new();
    let w = Arc::clone(world);
    repo.expect_conversations_between().returning(move |a, b| {
        Ok(w.conversations
            .iter()
            .filter(|c| (c.user_low, c.user_high) == (a.min(b), a.max(b)))
            .cloned()
            .collect())
    });
    let w = Arc::clone(world);
    repo.expect_message()
        .returning(move |id| Ok(w.find_message(id)));

    let log = Arc::clone(writes);
    repo.expect_insert_message()
        .returning(move |new, audit, plan| {
            log.lock().unwrap().push(Write::Insert(new.clone(), audit));
            let message = Message {
                id: INSERTED_ID,
                conversation_id: ConversationId(1),
                sender_id: new.sender_id,
                recipient_id: new.recipient_id,
                booking_id: new.booking_id,
                subject: new.subject,
                body: new.body,
                parent_id: new.parent_id,
                created_at: new.created_at,
                read_at: None,
                edited_at: None,
                deleted_by_sender: false,
                deleted_by_recipient: false,
                deleted_for_everyone_at: None,
                deleted_at: None,
            };
            Ok(record(message, plan))
        });

    let (w, log) = (Arc::clone(world), Arc::clone(writes));
    repo.expect_update_body()
        .returning(move |id, body, at, audit, plan| {
            log.lock().unwrap().push(Write::UpdateBody {
                id,
                body: body.clone(),
                at,
                audit,
            });
            let stored = w.find_message(id).ok_or(StoreError::NotFound)?;
            Ok(record(
                Message {
                    body,
                    edited_at: Some(at),
                    ..stored
                },
                plan,
            ))
        });

    let (w, log) = (Arc::clone(world), Arc::clone(writes));
    repo.expect_mark_read()
        .returning(move |id, at, audit, plan| {
            log.lock().unwrap().push(Write::MarkRead { id, at, audit });
            let stored = w.find_message(id).ok_or(StoreError::NotFound)?;
            if stored.is_read() {
                return Ok(Recorded::quiet(stored));
            }
            Ok(record(
                Message {
                    read_at: Some(at),
                    ..stored
                },
                plan,
            ))
        });

    let (w, log) = (Arc::clone(world), Arc::clone(writes));
    repo.expect_mark_delivered().returning(move |id, at, plan| {
        log.lock().unwrap().push(Write::MarkDelivered { id, at });
        let stored = w.find_message(id).ok_or(StoreError::NotFound)?;
        Ok(record(stored, plan).map(|_| true))
    });

    let (w, log) = (Arc::clone(world), Arc::clone(writes));
    repo.expect_mark_thread_read()
        .returning(move |reader, other, booking, at, audit, plan| {
            log.lock().unwrap().push(Write::MarkThreadRead {
                reader,
                other,
                booking,
                at,
                audit,
            });
            let count = w
                .messages
                .iter()
                .filter(|m| m.sender_id == other && m.recipient_id == reader)
                .filter(|m| !m.is_read() && m.is_visible_to(reader))
                .filter(|m| booking.is_none() || m.booking_id == booking)
                .count();
            let count = u64::try_from(count).unwrap();
            if count == 0 {
                return Ok(Recorded::quiet(0));
            }
            Ok(record(count, plan))
        });

    let (w, log) = (Arc::clone(world), Arc::clone(writes));
    repo.expect_delete_message()
        .returning(move |id, user, scope, at, audit, plan| {
            log.lock().unwrap().push(Write::Delete {
                id,
                user,
                scope,
                at,
                audit,
            });
            let deleted = w
                .find_message(id)
                .and_then(|m| m.after_delete(user, scope, at))
                .ok_or(StoreError::NotFound)?;
            Ok(record(deleted, plan))
        });

    // Listings: every message the user can see, one thread per message's other party, faces as
    // the directory stores them.
    let w = Arc::clone(world);
    let threads_of = move |user: UserId| -> Vec<ThreadSummary> {
        w.messages
            .iter()
            .filter(|m| m.is_visible_to(user))
            .filter_map(|m| {
                let other = m.other_party(user)?;
                Some(ThreadSummary {
                    conversation_id: m.conversation_id,
                    other_user: w.user(other).summary(),
                    booking_id: m.booking_id,
                    last_message_id: m.id,
                    last_message: m.body.clone(),
                    last_subject: m.subject.clone(),
                    last_message_at: m.created_at,
                    last_sender_id: m.sender_id,
                    unread_count: 0,
                })
            })
            .collect()
    };
    let threads = threads_of.clone();
    repo.expect_threads()
        .returning(move |user, _| Ok(threads(user)));
    repo.expect_inbox()
        .returning(move |user, _, _| Ok(threads_of(user)));
    let w = Arc::clone(world);
    repo.expect_history().returning(move |user, other, _, _| {
        Ok(HistorySlice {
            messages: w
                .messages
                .iter()
                .filter(|m| m.is_visible_to(user) && m.other_party(user) == Some(other))
                .cloned()
                .collect(),
            has_more: false,
        })
    });
    let w = Arc::clone(world);
    repo.expect_sent().returning(move |user, _| {
        Ok(w.messages
            .iter()
            .filter(|m| m.sender_id == user && m.is_visible_to(user))
            .cloned()
            .collect())
    });
    let w = Arc::clone(world);
    repo.expect_search().returning(move |user, _, _| {
        let messages: Vec<Message> = w
            .messages
            .iter()
            .filter(|m| m.is_visible_to(user))
            .cloned()
            .collect();
        Ok(SearchResults {
            total: i64::try_from(messages.len()).unwrap(),
            messages,
        })
    });
    repo
}
