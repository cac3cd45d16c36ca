//! The mocks of the harness: each answers from the [`World`] it is given and records what the
//! service asked it to write or publish.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{INSERTED_ID, World, Write, now};
use crate::audit::AuditRecord;
use crate::error::StoreError;
use crate::event::{Change, DomainEvent, EventPlan, LiveEvent, Recorded, StreamEvent};
use crate::message::{
    Conversation, ConversationId, Deletion, HistoryRequest, HistorySlice, Message, MessageId,
    NewMessage, NewReport, Report, SearchResults, ThreadSummary, UnreadCounts,
};
use crate::ports::{
    Blocks, MessageQueries, Messages, MockClock, MockEventPublisher, People, PresenceSettings,
    Reports,
};
use crate::text::{Page, PageSize, SearchQuery};
use crate::user::{BlockState, Booking, BookingId, CareAssignment, User, UserId};

// One mock of every store port the messaging service takes (its `MessageStore` bound), so that
// one value answers them all as the server's store does.
mockall::mock! {
    pub(crate) Store {}

    #[async_trait]
    impl Messages for Store {
        async fn insert_message(
            &self,
            message: NewMessage,
            change: Change<Message>,
        ) -> Result<Recorded<Message>, StoreError>;
        async fn update_body(
            &self,
            id: MessageId,
            body: String,
            at: DateTime<Utc>,
            change: Change<Message>,
        ) -> Result<Recorded<Message>, StoreError>;
        async fn mark_read(
            &self,
            id: MessageId,
            at: DateTime<Utc>,
            change: Change<Message>,
        ) -> Result<Recorded<Message>, StoreError>;
        async fn mark_delivered(
            &self,
            id: MessageId,
            at: DateTime<Utc>,
            plan: EventPlan<Message>,
        ) -> Result<Recorded<bool>, StoreError>;
        async fn mark_thread_read(
            &self,
            reader: UserId,
            other: UserId,
            booking: Option<BookingId>,
            at: DateTime<Utc>,
            change: Change<u64>,
        ) -> Result<Recorded<u64>, StoreError>;
        async fn delete_message(
            &self,
            deletion: Deletion,
            change: Change<Message>,
        ) -> Result<Recorded<Message>, StoreError>;
    }

    #[async_trait]
    impl MessageQueries for Store {
        async fn conversations_between(
            &self,
            a: UserId,
            b: UserId,
        ) -> Result<Vec<Conversation>, StoreError>;
        async fn message(&self, id: MessageId) -> Result<Option<Message>, StoreError>;
        async fn message_by_client_id(
            &self,
            sender: UserId,
            client_message_id: String,
        ) -> Result<Option<Message>, StoreError>;
        async fn threads(
            &self,
            user: UserId,
            limit: PageSize,
        ) -> Result<Vec<ThreadSummary>, StoreError>;
        async fn inbox(
            &self,
            user: UserId,
            page: Page,
            unread_only: bool,
        ) -> Result<Vec<ThreadSummary>, StoreError>;
        async fn history(
            &self,
            user: UserId,
            other: UserId,
            booking: Option<BookingId>,
            request: HistoryRequest,
        ) -> Result<HistorySlice<Message>, StoreError>;
        async fn sent(&self, user: UserId, page: Page) -> Result<Vec<Message>, StoreError>;
        async fn search(
            &self,
            user: UserId,
            query: &SearchQuery,
            page: Page,
        ) -> Result<SearchResults<Message>, StoreError>;
        async fn unread_counts(&self, user: UserId) -> Result<UnreadCounts, StoreError>;
    }

    #[async_trait]
    impl Reports for Store {
        async fn insert_report(
            &self,
            report: NewReport,
            audit: AuditRecord,
        ) -> Result<Report, StoreError>;
        async fn reports(&self, page: Page) -> Result<Vec<Report>, StoreError>;
    }

    #[async_trait]
    impl People for Store {
        async fn user(&self, id: UserId) -> Result<Option<User>, StoreError>;
        async fn user_by_username(&self, username: &str) -> Result<Option<User>, StoreError>;
        async fn users(&self, ids: Vec<UserId>) -> Result<Vec<User>, StoreError>;
        async fn booking(&self, id: BookingId) -> Result<Option<Booking>, StoreError>;
        async fn bookings_between(
            &self,
            a: UserId,
            b: UserId,
        ) -> Result<Vec<Booking>, StoreError>;
        async fn care_assignment(
            &self,
            clinician: UserId,
            patient: UserId,
        ) -> Result<CareAssignment, StoreError>;
        async fn conversation_partners(&self, user: UserId) -> Result<Vec<UserId>, StoreError>;
    }

    #[async_trait]
    impl Blocks for Store {
        async fn blocks_between(
            &self,
            first: UserId,
            second: UserId,
        ) -> Result<BlockState, StoreError>;
        async fn users_and_blocks(
            &self,
            first: UserId,
            second: UserId,
        ) -> Result<(Vec<User>, BlockState), StoreError>;
        async fn set_block(
            &self,
            blocker: UserId,
            blocked: UserId,
            on: bool,
            audit: AuditRecord,
        ) -> Result<bool, StoreError>;
    }

    #[async_trait]
    impl PresenceSettings for Store {
        async fn presence_hidden(&self, user: UserId) -> Result<bool, StoreError>;
        async fn set_presence_hidden(&self, user: UserId, hidden: bool) -> Result<bool, StoreError>;
    }
}

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

/// The store, answering from `world` and logging its message writes to `writes`.
pub(super) fn store(world: &Arc<World>, writes: &Arc<Mutex<Vec<Write>>>) -> MockStore {
    let mut store = MockStore::new();
    people(&mut store, world);
    messages(&mut store, world, writes);
    store
}

fn people(directory: &mut MockStore, world: &Arc<World>) {
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
        .expect_users_and_blocks()
        .returning(move |first, second| {
            let users = w
                .users
                .iter()
                .filter(|u| u.id == first || u.id == second)
                .cloned()
                .collect();
            let blocks = BlockState {
                first_blocked_second: w.blocks.contains(&(first, second)),
                second_blocked_first: w.blocks.contains(&(second, first)),
            };
            Ok((users, blocks))
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
}

fn messages(repo: &mut MockStore, world: &Arc<World>, writes: &Arc<Mutex<Vec<Write>>>) {
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
        .returning(move |new, Change { audit, plan }| {
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
        .returning(move |id, body, at, Change { audit, plan }| {
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
        .returning(move |id, at, Change { audit, plan }| {
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
    repo.expect_mark_thread_read().returning(
        move |reader, other, booking, at, Change { audit, plan }| {
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
        },
    );

    let (w, log) = (Arc::clone(world), Arc::clone(writes));
    repo.expect_delete_message()
        .returning(move |deletion, Change { audit, plan }| {
            log.lock().unwrap().push(Write::Delete {
                id: deletion.message,
                user: deletion.by,
                scope: deletion.scope,
                at: deletion.at,
                audit,
            });
            // What a store does: apply the deletion to the message as it stands, and append
            // nothing when that changes nothing.
            let deleted = w
                .find_message(deletion.message)
                .and_then(|m| deletion.apply(&m))
                .ok_or(StoreError::NotFound)?;
            if !deleted.changed() {
                return Ok(Recorded::quiet(deleted.after));
            }
            Ok(record(deleted.after, plan))
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
}
