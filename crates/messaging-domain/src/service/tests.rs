//! Tests for [`MessagingService`] over mockall mocks of its ports.
//!
//! The mocks answer from a small in-memory [`World`] (users, bookings, blocks, assignments,
//! conversations, messages) and record every repository write and every published event, so that
//! each test can say what was stored and what was announced, or that nothing was. Time is fixed by
//! the clock mock at [`now`]. Every assertion goes through [`check`].

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, Utc};
use futures_executor::block_on;

use super::*;
use crate::event::{LiveEvent, Recorded, StreamEvent};
use crate::message::{Conversation, ConversationId};
use crate::ports::{MockClock, MockDirectory, MockEventPublisher, MockMessageRepository};
use crate::user::{BlockState, Booking, BookingState, CareAssignment, Role};

// --- fixtures ------------------------------------------------------------------------------------

const STUDENT: UserId = UserId(1);
const TUTOR: UserId = UserId(2);
const PATIENT: UserId = UserId(3);
const CLINICIAN: UserId = UserId(4);
const ADMIN: UserId = UserId(5);
const OTHER_TUTOR: UserId = UserId(6);
const INACTIVE_TUTOR: UserId = UserId(7);
const OTHER_STUDENT: UserId = UserId(8);
const UNKNOWN: UserId = UserId(99);

const CLIENT_ADDR: &str = "203.0.113.7";

/// A body with an e-mail address and a phone number, and how it reads once masked.
const CONTACT_BODY: &str = "Email john@example.com or call 555-1234 tonight";
const CONTACT_BODY_MASKED: &str = "Email j***@e***.com or call ***-**** tonight";

/// The id the repository mock gives an inserted message.
const INSERTED_ID: MessageId = MessageId(1000);

/// Asserts that `actual` equals `expected`, naming the case on failure.
#[track_caller]
fn check<T: PartialEq + Debug>(case: impl Debug, actual: T, expected: T) {
    assert_eq!(actual, expected, "case {case:?}");
}

/// The fixed instant every test runs at: 2025-03-14 10:00:00 UTC.
fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_741_946_400, 0).unwrap()
}

fn ago(delta: TimeDelta) -> DateTime<Utc> {
    now() - delta
}

fn user(id: UserId, role: Role) -> User {
    User {
        id,
        username: format!("{}{}", role.as_str(), id.0),
        email: format!("{}{}@example.com", role.as_str(), id.0),
        first_name: format!("First{}", id.0),
        last_name: format!("Last{}", id.0),
        role,
        is_active: true,
    }
}

fn actor(id: UserId) -> Actor {
    Actor {
        user_id: id,
        client_addr: Some(CLIENT_ADDR.to_owned()),
    }
}

fn body(raw: &str) -> MessageText {
    MessageText::parse(raw).unwrap()
}

/// A direct message by id, without subject or booking.
fn to(recipient: UserId, raw: &str) -> SendCommand {
    SendCommand {
        recipient: RecipientRef::Id(recipient),
        body: body(raw),
        subject: None,
        booking_id: None,
        via: SendRoute::Direct,
        client_message_id: None,
    }
}

fn in_booking(command: SendCommand, booking: i64) -> SendCommand {
    SendCommand {
        booking_id: Some(BookingId(booking)),
        ..command
    }
}

fn via_clinician_route(command: SendCommand) -> SendCommand {
    SendCommand {
        via: SendRoute::Clinician,
        ..command
    }
}

/// A stored message sent `age` before [`now`], without subject or booking, unread and not deleted.
fn message(id: i64, sender: UserId, recipient: UserId, age: TimeDelta) -> Message {
    Message {
        id: MessageId(id),
        conversation_id: ConversationId(1),
        sender_id: sender,
        recipient_id: recipient,
        booking_id: None,
        subject: None,
        body: "original".to_owned(),
        parent_id: None,
        created_at: ago(age),
        read_at: None,
        edited_at: None,
        deleted_by_sender: false,
        deleted_by_recipient: false,
        deleted_for_everyone_at: None,
        deleted_at: None,
    }
}

fn message_with(
    id: i64,
    sender: UserId,
    recipient: UserId,
    change: impl FnOnce(&mut Message),
) -> Message {
    let mut m = message(id, sender, recipient, TimeDelta::minutes(1));
    change(&mut m);
    m
}

fn audit(actor: UserId, action: AuditAction, object_id: Option<i64>) -> AuditRecord {
    AuditRecord {
        actor: Some(actor),
        action,
        object_type: "message",
        object_id,
        at: now(),
        client_addr: Some(CLIENT_ADDR.to_owned()),
    }
}

/// What the mocks know.
#[derive(Debug, Clone)]
struct World {
    users: Vec<User>,
    bookings: Vec<Booking>,
    /// (blocker, blocked)
    blocks: Vec<(UserId, UserId)>,
    /// (clinician, patient)
    assignments: Vec<(UserId, UserId)>,
    /// (clinician, patient) pairs assigned once and unassigned since
    former_assignments: Vec<(UserId, UserId)>,
    conversations: Vec<Conversation>,
    messages: Vec<Message>,
    /// `bookings_between` returns every booking of either user, as a careless adapter might.
    sloppy_bookings_between: bool,
    hidden_presence: Vec<UserId>,
}

/// Every role, one user each, plus a second tutor, an inactive tutor and a second student.
fn world() -> World {
    World {
        users: vec![
            user(STUDENT, Role::Student),
            user(TUTOR, Role::Tutor),
            user(PATIENT, Role::Patient),
            user(CLINICIAN, Role::Clinician),
            user(ADMIN, Role::Admin),
            user(OTHER_TUTOR, Role::Tutor),
            User {
                is_active: false,
                ..user(INACTIVE_TUTOR, Role::Tutor)
            },
            user(OTHER_STUDENT, Role::Student),
        ],
        bookings: Vec::new(),
        blocks: Vec::new(),
        assignments: Vec::new(),
        former_assignments: Vec::new(),
        conversations: Vec::new(),
        messages: Vec::new(),
        sloppy_bookings_between: false,
        hidden_presence: Vec::new(),
    }
}

impl World {
    fn booking(mut self, id: i64, student: UserId, tutor: UserId, state: BookingState) -> Self {
        self.bookings.push(Booking {
            id: BookingId(id),
            student_id: student,
            tutor_id: tutor,
            state,
            created_at: ago(TimeDelta::days(3)),
        });
        self
    }

    fn block(mut self, blocker: UserId, blocked: UserId) -> Self {
        self.blocks.push((blocker, blocked));
        self
    }

    fn assign(mut self, clinician: UserId, patient: UserId) -> Self {
        self.assignments.push((clinician, patient));
        self
    }

    fn formerly_assigned(mut self, clinician: UserId, patient: UserId) -> Self {
        self.former_assignments.push((clinician, patient));
        self
    }

    fn conversation(mut self, a: UserId, b: UserId, started_by: UserId) -> Self {
        self.conversations.push(Conversation {
            id: ConversationId(i64::try_from(self.conversations.len()).unwrap() + 1),
            user_low: a.min(b),
            user_high: a.max(b),
            booking_id: None,
            started_by,
            created_at: ago(TimeDelta::days(1)),
        });
        self
    }

    fn sloppy_bookings_between(mut self) -> Self {
        self.sloppy_bookings_between = true;
        self
    }

    fn message(mut self, message: Message) -> Self {
        self.messages.push(message);
        self
    }

    fn user(&self, id: UserId) -> User {
        self.users.iter().find(|u| u.id == id).cloned().unwrap()
    }

    fn find_message(&self, id: MessageId) -> Option<Message> {
        self.messages.iter().find(|m| m.id == id).cloned()
    }
}

/// One write the service asked the repository for, with its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Write {
    Insert(NewMessage, AuditRecord),
    UpdateBody {
        id: MessageId,
        body: String,
        at: DateTime<Utc>,
        audit: AuditRecord,
    },
    MarkRead {
        id: MessageId,
        at: DateTime<Utc>,
        audit: AuditRecord,
    },
    MarkThreadRead {
        reader: UserId,
        other: UserId,
        booking: Option<BookingId>,
        at: DateTime<Utc>,
        audit: AuditRecord,
    },
    Delete {
        id: MessageId,
        user: UserId,
        scope: DeleteScope,
        at: DateTime<Utc>,
        audit: AuditRecord,
    },
    MarkDelivered {
        id: MessageId,
        at: DateTime<Utc>,
    },
}

impl Write {
    fn audit(&self) -> Option<&AuditRecord> {
        Some(match self {
            Write::Insert(_, audit)
            | Write::UpdateBody { audit, .. }
            | Write::MarkRead { audit, .. }
            | Write::MarkThreadRead { audit, .. }
            | Write::Delete { audit, .. } => audit,
            Write::MarkDelivered { .. } => return None,
        })
    }
}

type Service =
    MessagingService<MockMessageRepository, MockDirectory, MockEventPublisher, MockClock>;

struct Harness {
    service: Service,
    writes: Arc<Mutex<Vec<Write>>>,
    events: Arc<Mutex<Vec<DomainEvent>>>,
    deliveries: Arc<Mutex<Vec<(UserId, DomainEvent)>>>,
    live: Arc<Mutex<Vec<LiveEvent>>>,
}

impl Harness {
    fn new(world: World) -> Self {
        let world = Arc::new(world);
        let writes = Arc::new(Mutex::new(Vec::new()));
        let events = Arc::new(Mutex::new(Vec::new()));
        let deliveries = Arc::new(Mutex::new(Vec::new()));
        let live = Arc::new(Mutex::new(Vec::new()));
        let service = MessagingService::new(
            repository(&world, &writes),
            directory(&world),
            publisher(&events, &deliveries, &live),
            clock(),
            MessagingConfig::default(),
        );
        Self {
            service,
            writes,
            events,
            deliveries,
            live,
        }
    }

    /// Whose streams got which event, in order.
    fn deliveries(&self) -> Vec<(UserId, DomainEvent)> {
        self.deliveries.lock().unwrap().clone()
    }

    fn live(&self) -> Vec<LiveEvent> {
        self.live.lock().unwrap().clone()
    }

    fn writes(&self) -> Vec<Write> {
        self.writes.lock().unwrap().clone()
    }

    fn events(&self) -> Vec<DomainEvent> {
        self.events.lock().unwrap().clone()
    }

    /// The one message inserted, failing unless exactly one write happened and it was an insert.
    #[track_caller]
    fn inserted(&self) -> (NewMessage, AuditRecord) {
        match self.writes().as_slice() {
            [Write::Insert(message, audit)] => (message.clone(), audit.clone()),
            other => panic!("expected exactly one insert, got {other:?}"),
        }
    }

    /// Fails unless nothing was written and nothing published.
    #[track_caller]
    fn assert_untouched(&self, case: impl Debug) {
        check(&case, self.writes(), Vec::new());
        check(&case, self.events(), Vec::new());
    }

    fn send(&self, sender: UserId, command: SendCommand) -> Result<MessageView, SendError> {
        block_on(self.service.send(&actor(sender), command))
    }

    fn reply(&self, sender: UserId, parent: i64, raw: &str) -> Result<MessageView, SendError> {
        block_on(
            self.service
                .reply(&actor(sender), MessageId(parent), body(raw), None),
        )
    }

    fn edit(&self, editor: UserId, id: i64, raw: &str) -> Result<MessageView, EditError> {
        block_on(self.service.edit(&actor(editor), MessageId(id), body(raw)))
    }

    fn delete(&self, user: UserId, id: i64, scope: DeleteScope) -> Result<Message, DeleteError> {
        block_on(self.service.delete(&actor(user), MessageId(id), scope))
    }

    fn mark_read(&self, reader: UserId, id: i64) -> Result<Message, ReadError> {
        block_on(self.service.mark_read(&actor(reader), MessageId(id)))
    }
}

fn clock() -> MockClock {
    let mut clock = MockClock::new();
    clock.expect_now().return_const(now());
    clock
}

fn publisher(
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

fn directory(world: &Arc<World>) -> MockDirectory {
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

fn repository(world: &Arc<World>, writes: &Arc<Mutex<Vec<Write>>>) -> MockMessageRepository {
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

/// A result reduced to `"Ok"` or its error's debug form, to compare errors that have no `PartialEq`.
fn outcome<T, E: Debug>(result: &Result<T, E>) -> String {
    match result {
        Ok(_) => "Ok".to_owned(),
        Err(err) => format!("{err:?}"),
    }
}

// --- send: masking and bookings ------------------------------------------------------------------

#[test]
fn contact_details_are_masked_unless_the_pair_shares_a_scheduled_active_or_ended_booking() {
    let cases = [
        ("no booking", None, CONTACT_BODY_MASKED),
        (
            "requested booking",
            Some(BookingState::Requested),
            CONTACT_BODY_MASKED,
        ),
        (
            "cancelled booking",
            Some(BookingState::Cancelled),
            CONTACT_BODY_MASKED,
        ),
        (
            "scheduled booking",
            Some(BookingState::Scheduled),
            CONTACT_BODY,
        ),
        ("active booking", Some(BookingState::Active), CONTACT_BODY),
        ("ended booking", Some(BookingState::Ended), CONTACT_BODY),
    ];
    for (case, state, expected) in cases {
        let mut w = world();
        if let Some(state) = state {
            w = w.booking(40, STUDENT, TUTOR, state);
        }
        let h = Harness::new(w);
        let sent = h.send(STUDENT, to(TUTOR, CONTACT_BODY)).unwrap();
        check(case, h.inserted().0.body, expected.to_owned());
        check(case, sent.message.body, expected.to_owned());
    }
}

#[test]
fn a_revealing_booking_with_someone_else_does_not_unmask_contact_details() {
    let cases = [
        ("sender's booking with another tutor", STUDENT, OTHER_TUTOR),
        (
            "recipient's booking with another student",
            OTHER_STUDENT,
            TUTOR,
        ),
    ];
    for (case, student, tutor) in cases {
        // The booking is scheduled, but between the sender (or the recipient) and a third user.
        let h = Harness::new(world().booking(40, student, tutor, BookingState::Scheduled));
        h.send(STUDENT, to(TUTOR, CONTACT_BODY)).unwrap();
        check(case, h.inserted().0.body, CONTACT_BODY_MASKED.to_owned());
    }
}

#[test]
fn masking_does_not_trust_the_directory_to_return_only_the_pairs_bookings() {
    let w = world()
        .booking(40, STUDENT, OTHER_TUTOR, BookingState::Scheduled)
        .booking(41, OTHER_STUDENT, TUTOR, BookingState::Active)
        .sloppy_bookings_between();
    let h = Harness::new(w);
    h.send(STUDENT, to(TUTOR, CONTACT_BODY)).unwrap();
    check(
        "sloppy directory",
        h.inserted().0.body,
        CONTACT_BODY_MASKED.to_owned(),
    );
}

#[test]
fn a_booking_id_that_is_not_between_the_two_users_is_refused_and_nothing_is_stored() {
    let w = world()
        // Scheduled bookings that would reveal contact details, but for other pairs.
        .booking(41, STUDENT, OTHER_TUTOR, BookingState::Scheduled)
        .booking(42, OTHER_STUDENT, TUTOR, BookingState::Active);
    let cases = [
        ("sender's booking with another tutor", 41),
        ("recipient's booking with another student", 42),
        ("booking that does not exist", 404),
    ];
    for (case, booking) in cases {
        let h = Harness::new(w.clone());
        let result = h.send(STUDENT, in_booking(to(TUTOR, CONTACT_BODY), booking));
        check(case, outcome(&result), "BookingNotFound".to_owned());
        h.assert_untouched(case);
    }
}

#[test]
fn a_booking_between_the_two_users_becomes_the_message_context_whatever_its_state() {
    let cases = [
        ("requested", BookingState::Requested, CONTACT_BODY_MASKED),
        ("cancelled", BookingState::Cancelled, CONTACT_BODY_MASKED),
        ("scheduled", BookingState::Scheduled, CONTACT_BODY),
    ];
    for (case, state, expected_body) in cases {
        // Stored tutor-first, to show the order of the parties does not matter.
        let h = Harness::new(world().booking(40, TUTOR, STUDENT, state));
        h.send(STUDENT, in_booking(to(TUTOR, CONTACT_BODY), 40))
            .unwrap();
        let (new, _) = h.inserted();
        check(
            case,
            (new.booking_id, new.body),
            (Some(BookingId(40)), expected_body.to_owned()),
        );
    }
}

// --- send: recipients and contact rules ----------------------------------------------------------

#[test]
fn unknown_inactive_self_and_blocking_recipients_are_refused_with_one_identical_error() {
    let cases = [
        ("unknown id", STUDENT, RecipientRef::Id(UNKNOWN)),
        (
            "unknown username",
            STUDENT,
            RecipientRef::Username("nobody".to_owned()),
        ),
        ("inactive id", STUDENT, RecipientRef::Id(INACTIVE_TUTOR)),
        (
            "inactive username",
            STUDENT,
            RecipientRef::Username("tutor7".to_owned()),
        ),
        ("self", STUDENT, RecipientRef::Id(STUDENT)),
        (
            "self by username",
            STUDENT,
            RecipientRef::Username("student1".to_owned()),
        ),
        (
            "recipient blocked the sender",
            STUDENT,
            RecipientRef::Id(OTHER_TUTOR),
        ),
        // Roles are not told: the other side of the service, and a clinician or patient the
        // sender has nothing to do with, are nobody.
        (
            "a patient, to a student",
            STUDENT,
            RecipientRef::Id(PATIENT),
        ),
        (
            "a clinician by username, to a tutor",
            TUTOR,
            RecipientRef::Username("clinician4".to_owned()),
        ),
        (
            "a student, to a clinician",
            CLINICIAN,
            RecipientRef::Id(STUDENT),
        ),
        (
            "a stranger patient, to a clinician",
            CLINICIAN,
            RecipientRef::Id(PATIENT),
        ),
        (
            "a stranger clinician by username, to a patient",
            PATIENT,
            RecipientRef::Username("clinician4".to_owned()),
        ),
    ];
    let mut displays = Vec::new();
    for (case, sender, recipient) in cases {
        let h = Harness::new(world().block(OTHER_TUTOR, STUDENT));
        let command = SendCommand {
            recipient,
            ..to(TUTOR, "hello")
        };
        let err = h.send(sender, command).unwrap_err();
        check(
            case,
            format!("{err:?}"),
            "Contact(RecipientUnavailable)".to_owned(),
        );
        displays.push(err.to_string());
        h.assert_untouched(case);
    }
    displays.dedup();
    check(
        "one wording for all",
        displays,
        vec!["Cannot send message to this recipient".to_owned()],
    );
}

#[test]
fn a_recipient_can_be_named_by_username() {
    let h = Harness::new(world());
    let command = SendCommand {
        recipient: RecipientRef::Username("tutor2".to_owned()),
        ..to(UNKNOWN, "hello")
    };
    let sent = h.send(STUDENT, command).unwrap();
    check(
        "recipient",
        (h.inserted().0.recipient_id, sent.recipient.id),
        (TUTOR, TUTOR),
    );
}

#[test]
fn a_sender_who_blocked_the_recipient_is_told_so() {
    let h = Harness::new(world().block(STUDENT, TUTOR));
    let result = h.send(STUDENT, to(TUTOR, "hello"));
    check(
        "own block",
        outcome(&result),
        "Contact(RecipientBlockedBySender)".to_owned(),
    );
    h.assert_untouched("own block");
}

#[test]
fn an_unknown_or_inactive_sender_cannot_send() {
    for (case, sender) in [
        ("unknown sender", UNKNOWN),
        ("inactive sender", INACTIVE_TUTOR),
    ] {
        let h = Harness::new(world());
        let result = h.send(sender, to(STUDENT, "hello"));
        check(case, outcome(&result), "SenderInactive".to_owned());
        h.assert_untouched(case);
    }
}

#[test]
fn the_tutoring_and_clinical_sides_cannot_message_each_other_but_admins_reach_everyone() {
    let cases = [
        (STUDENT, PATIENT, "Contact(RecipientUnavailable)"),
        (TUTOR, CLINICIAN, "Contact(RecipientUnavailable)"),
        (CLINICIAN, STUDENT, "Contact(RecipientUnavailable)"),
        (ADMIN, PATIENT, "Ok"),
        (ADMIN, STUDENT, "Ok"),
        (STUDENT, ADMIN, "Ok"),
        (PATIENT, ADMIN, "Ok"),
    ];
    for (sender, recipient, expected) in cases {
        let h = Harness::new(world());
        let result = h.send(sender, to(recipient, "hello"));
        check((sender, recipient), outcome(&result), expected.to_owned());
        check(
            (sender, recipient),
            h.writes().len(),
            usize::from(expected == "Ok"),
        );
    }
}

#[test]
fn a_clinician_may_message_only_a_patient_assigned_to_them() {
    let cases = [
        // A patient the clinician has nothing to do with looks like nobody.
        ("never assigned", world(), "Contact(RecipientUnavailable)"),
        (
            "assigned to another clinician",
            world().assign(ADMIN, PATIENT),
            "Contact(RecipientUnavailable)",
        ),
        // A patient the clinician knows is told apart.
        (
            "assigned once, not now",
            world().formerly_assigned(CLINICIAN, PATIENT),
            "Contact(NotAssigned)",
        ),
        (
            "a conversation, never assigned",
            world().conversation(CLINICIAN, PATIENT, CLINICIAN),
            "Contact(NotAssigned)",
        ),
        ("assigned", world().assign(CLINICIAN, PATIENT), "Ok"),
    ];
    for (case, w, expected) in cases {
        let h = Harness::new(w);
        let result = h.send(CLINICIAN, to(PATIENT, "How are you feeling?"));
        check(case, outcome(&result), expected.to_owned());
        check(case, h.writes().len(), usize::from(expected == "Ok"));
    }
}

#[test]
fn a_patient_may_message_a_clinician_only_in_a_conversation_the_clinician_started() {
    let cases = [
        // A clinician the patient has nothing to do with looks like nobody.
        (
            "a stranger, no conversation",
            world(),
            "Contact(RecipientUnavailable)",
        ),
        (
            "their clinician, no conversation",
            world().assign(CLINICIAN, PATIENT),
            "Contact(PatientCannotInitiate)",
        ),
        (
            "their former clinician, no conversation",
            world().formerly_assigned(CLINICIAN, PATIENT),
            "Contact(PatientCannotInitiate)",
        ),
        (
            "conversation started by the patient",
            world().conversation(PATIENT, CLINICIAN, PATIENT),
            "Contact(PatientCannotInitiate)",
        ),
        (
            "conversation started by the clinician",
            world().conversation(PATIENT, CLINICIAN, CLINICIAN),
            "Ok",
        ),
        (
            "one of several conversations started by the clinician",
            world()
                .conversation(PATIENT, CLINICIAN, PATIENT)
                .conversation(CLINICIAN, PATIENT, CLINICIAN),
            "Ok",
        ),
    ];
    for (case, w, expected) in cases {
        let h = Harness::new(w);
        let result = h.send(PATIENT, to(CLINICIAN, "I have a question"));
        check(case, outcome(&result), expected.to_owned());
        check(case, h.writes().len(), usize::from(expected == "Ok"));
    }
}

// --- what the other party reads: subjects, attachment names, display names ----------------------

/// A subject with contact details, and how it reads once masked.
const CONTACT_SUBJECT: &str = "Reach me on whatsapp at johnny99 or 555-1234";
const CONTACT_SUBJECT_MASKED: &str = "Reach me on whatsapp at *** or ***-****";

fn with_subject(command: SendCommand, raw: &str) -> SendCommand {
    SendCommand {
        subject: Subject::parse(raw).unwrap(),
        ..command
    }
}

#[test]
fn a_subject_is_masked_like_the_body_unless_the_pair_shares_a_revealing_booking() {
    let cases = [
        ("no booking", None, CONTACT_SUBJECT_MASKED),
        (
            "requested booking",
            Some(BookingState::Requested),
            CONTACT_SUBJECT_MASKED,
        ),
        (
            "scheduled booking",
            Some(BookingState::Scheduled),
            CONTACT_SUBJECT,
        ),
    ];
    for (case, state, expected) in cases {
        let mut w = world();
        if let Some(state) = state {
            w = w.booking(40, STUDENT, TUTOR, state);
        }
        let h = Harness::new(w);
        // The body holds nothing to mask: the subject alone must trigger the rule.
        let command = with_subject(to(TUTOR, "See the subject"), CONTACT_SUBJECT);
        let sent = h.send(STUDENT, command).unwrap();
        check(case, h.inserted().0.subject, Some(expected.to_owned()));
        check(case, sent.message.subject, Some(expected.to_owned()));
    }
}

#[test]
fn a_reply_subject_is_masked_even_when_its_parent_was_stored_unmasked() {
    // A parent stored before subjects were masked, or while a booking revealed details.
    let parent = message_with(10, STUDENT, TUTOR, |m| {
        m.subject = Some("Call 555-1234".to_owned());
    });
    let cases = [
        ("no booking", world(), "Re: Call ***-****"),
        (
            "active booking",
            world().booking(40, STUDENT, TUTOR, BookingState::Active),
            "Re: Call 555-1234",
        ),
    ];
    for (case, w, expected) in cases {
        let h = Harness::new(w.message(parent.clone()));
        h.reply(TUTOR, 10, "Sounds good").unwrap();
        check(case, h.inserted().0.subject, Some(expected.to_owned()));
    }
}

#[test]
fn an_attachment_name_is_masked_like_the_body_and_keeps_its_extension() {
    use crate::attachment::{FileKind, FileName};
    let name = |raw: &str| FileName::sanitize(raw, FileKind::Pdf);
    let cases = [
        (
            "address in the name, no booking",
            world(),
            "john@example.com.pdf",
            "j___@e___.com.pdf",
        ),
        (
            "phone in the name, no booking",
            world(),
            "call 555-1234.pdf",
            "call ___-____.pdf",
        ),
        (
            "address in the name, scheduled booking",
            world().booking(40, STUDENT, TUTOR, BookingState::Scheduled),
            "john@example.com.pdf",
            "john@example.com.pdf",
        ),
        ("an ordinary name", world(), "notes.pdf", "notes.pdf"),
    ];
    for (case, w, typed, expected) in cases {
        let h = Harness::new(w);
        let Ok(PreparedSend::New(prepared)) = block_on(h.service.prepare_send(
            &actor(STUDENT),
            to(TUTOR, "see the file"),
            name(typed),
        )) else {
            panic!("{case}: not a new message");
        };
        check(case, prepared.file_name.as_str(), expected);
        check(case, prepared.message.body.as_str(), "see the file");
    }
}

/// A tutor whose display name carries contact details.
fn world_with_a_chatty_tutor_name() -> World {
    let mut w = world();
    for u in &mut w.users {
        if u.id == TUTOR {
            u.first_name = "Reach me on whatsapp at johnny99".to_owned();
            u.last_name = "call 555-1234".to_owned();
        }
    }
    w
}

#[track_caller]
fn check_names(case: &str, face: &UserSummary, first: &str, last: &str) {
    check(
        case,
        (face.first_name.as_str(), face.last_name.as_str()),
        (first, last),
    );
}

#[test]
fn another_users_display_name_is_masked_wherever_it_is_shown_and_ones_own_is_not() {
    const MASKED: (&str, &str) = ("Reach me on whatsapp at ***", "call ***-****");
    const TYPED: (&str, &str) = ("Reach me on whatsapp at johnny99", "call 555-1234");
    let stored = message(10, TUTOR, STUDENT, TimeDelta::minutes(1));
    let h = Harness::new(world_with_a_chatty_tutor_name().message(stored));
    let student = actor(STUDENT);
    let tutor = actor(TUTOR);
    let page = Page {
        number: crate::text::PageNumber::first(),
        size: PageSize::parse(None, crate::text::LimitSpec::HISTORY).unwrap(),
    };
    let history = HistoryRequest { before: None, page };

    // Seen by the student, the tutor's name is masked everywhere.
    let sent = h.send(STUDENT, to(TUTOR, "hello")).unwrap();
    check_names("send: recipient", &sent.recipient, MASKED.0, MASKED.1);
    let threads = block_on(h.service.threads(&student, page.size)).unwrap();
    check_names("threads", &threads[0].other_user, MASKED.0, MASKED.1);
    let inbox = block_on(h.service.inbox(&student, page, false)).unwrap();
    check_names("inbox", &inbox[0].other_user, MASKED.0, MASKED.1);
    let slice = block_on(h.service.history(&student, TUTOR, None, history)).unwrap();
    check_names("history", &slice.messages[0].sender, MASKED.0, MASKED.1);
    let query = SearchQuery::parse("original").unwrap();
    let found = block_on(h.service.search(&student, &query, page)).unwrap();
    check_names("search", &found.messages[0].sender, MASKED.0, MASKED.1);
    let (other, _) = block_on(h.service.open_conversation(&student, "tutor2", page.size)).unwrap();
    check_names("conversation", &other.unwrap(), MASKED.0, MASKED.1);
    // The student's own name is shown as typed.
    check_names("send: sender", &sent.sender, "First1", "Last1");

    // Seen by the tutor, their own name is as typed.
    let sent = block_on(h.service.sent(&tutor, page)).unwrap();
    check_names("sent: own name", &sent[0].sender, TYPED.0, TYPED.1);
    let slice = block_on(h.service.history(&tutor, STUDENT, None, history)).unwrap();
    check_names(
        "history: own name",
        &slice.messages[0].sender,
        TYPED.0,
        TYPED.1,
    );
}

#[test]
fn opening_a_conversation_with_a_stranger_looks_like_opening_one_with_nobody() {
    let h = Harness::new(world().message(message(10, TUTOR, STUDENT, TimeDelta::minutes(1))));
    let size = PageSize::parse(None, crate::text::LimitSpec::CONVERSATION).unwrap();
    let open = |name: &str| {
        let (face, slice) =
            block_on(h.service.open_conversation(&actor(STUDENT), name, size)).unwrap();
        (face.map(|f| f.username), slice.messages.len())
    };
    check("unknown", open("nobody"), (None, 0));
    check("existing stranger", open("patient3"), (None, 0));
    check("oneself", open("student1"), (None, 0));
    check("partner", open("tutor2"), (Some("tutor2".to_owned()), 1));
}

// --- send: body limits ---------------------------------------------------------------------------

#[test]
fn each_role_may_send_a_body_up_to_its_own_limit() {
    // Each sender writes to a recipient they are allowed to reach.
    let w = world()
        .assign(CLINICIAN, PATIENT)
        .conversation(PATIENT, CLINICIAN, CLINICIAN);
    let too_long = |max: usize| format!("Validation(TooLong {{ field: \"message\", max: {max} }})");
    let cases = [
        (STUDENT, TUTOR, 2_000, "Ok".to_owned()),
        (STUDENT, TUTOR, 2_001, too_long(2_000)),
        (TUTOR, STUDENT, 2_001, too_long(2_000)),
        (CLINICIAN, PATIENT, 2_001, "Ok".to_owned()),
        (CLINICIAN, PATIENT, 10_000, "Ok".to_owned()),
        // Patients write as long as in System B's current code.
        (PATIENT, CLINICIAN, 5_001, "Ok".to_owned()),
        (PATIENT, CLINICIAN, 10_000, "Ok".to_owned()),
        (ADMIN, STUDENT, 10_000, "Ok".to_owned()),
    ];
    for (sender, recipient, len, expected) in cases {
        let h = Harness::new(w.clone());
        let result = h.send(sender, to(recipient, &"x".repeat(len)));
        check((sender, len), outcome(&result), expected.clone());
        let stored_len: Vec<usize> = h
            .writes()
            .iter()
            .filter_map(|write| match write {
                Write::Insert(new, _) => Some(new.body.chars().count()),
                _ => None,
            })
            .collect();
        let expected_len = if expected == "Ok" {
            vec![len]
        } else {
            Vec::new()
        };
        check((sender, len), stored_len, expected_len);
    }
}

// --- send: the clinician route -------------------------------------------------------------------

#[test]
fn only_clinicians_and_admins_may_use_the_clinician_route() {
    let w = world().assign(CLINICIAN, PATIENT);
    let cases = [
        (STUDENT, TUTOR, "NotClinician"),
        (TUTOR, STUDENT, "NotClinician"),
        (PATIENT, ADMIN, "NotClinician"),
        (CLINICIAN, PATIENT, "Ok"),
        (ADMIN, PATIENT, "Ok"),
    ];
    for (sender, recipient, expected) in cases {
        let h = Harness::new(w.clone());
        let result = h.send(sender, via_clinician_route(to(recipient, "hello")));
        check(sender, outcome(&result), expected.to_owned());
        let actions: Vec<AuditAction> = h
            .writes()
            .iter()
            .map(|w| w.audit().unwrap().action)
            .collect();
        let expected_actions = if expected == "Ok" {
            vec![AuditAction::ClinicianMessageSent]
        } else {
            Vec::new()
        };
        check(sender, actions, expected_actions);
    }
}

#[test]
fn the_clinician_route_still_applies_the_contact_rules() {
    let h = Harness::new(world().formerly_assigned(CLINICIAN, PATIENT));
    let result = h.send(CLINICIAN, via_clinician_route(to(PATIENT, "hello")));
    check(
        "unassigned",
        outcome(&result),
        "Contact(NotAssigned)".to_owned(),
    );
    h.assert_untouched("unassigned");
}

// --- send: what is stored and announced ----------------------------------------------------------

#[test]
fn a_sent_message_is_stored_with_its_audit_record_and_announced_to_both_parties() {
    let h = Harness::new(world());
    let command = SendCommand {
        subject: Subject::parse(" Algebra ").unwrap(),
        ..to(TUTOR, "  See you on Monday\n")
    };
    let view = h.send(STUDENT, command).unwrap();
    let (new, audit_record) = h.inserted();
    check(
        "new message",
        new,
        NewMessage {
            sender_id: STUDENT,
            recipient_id: TUTOR,
            booking_id: None,
            subject: Some("Algebra".to_owned()),
            body: "See you on Monday".to_owned(),
            parent_id: None,
            client_message_id: None,
            created_at: now(),
        },
    );
    check(
        "audit",
        audit_record,
        audit(STUDENT, AuditAction::MessageSent, None),
    );
    let w = world();
    check("view id", view.message.id, INSERTED_ID);
    check(
        "view parties",
        (view.sender.clone(), view.recipient.clone()),
        (w.user(STUDENT).summary(), w.user(TUTOR).summary()),
    );
    check(
        "events",
        h.events(),
        vec![DomainEvent::MessageSent {
            view: view.clone(),
            client_message_id: None,
        }],
    );
    check("audience", h.events()[0].audience(), vec![TUTOR, STUDENT]);
}

// --- reply ---------------------------------------------------------------------------------------

#[test]
fn a_reply_goes_to_the_other_party_in_the_same_booking_with_a_re_subject() {
    let parent = |subject: Option<&str>| {
        message_with(10, STUDENT, TUTOR, |m| {
            m.subject = subject.map(str::to_owned);
            m.booking_id = Some(BookingId(40));
        })
    };
    let cases = [
        (
            "recipient replies",
            Some("Lesson plan"),
            TUTOR,
            STUDENT,
            "Re: Lesson plan",
        ),
        ("no parent subject", None, TUTOR, STUDENT, "Re: No Subject"),
        (
            "sender follows up",
            Some("Lesson plan"),
            STUDENT,
            TUTOR,
            "Re: Lesson plan",
        ),
        (
            "reply to a reply",
            Some("Re: Lesson plan"),
            TUTOR,
            STUDENT,
            "Re: Lesson plan",
        ),
    ];
    for (case, subject, replier, expected_recipient, expected_subject) in cases {
        let w = world()
            .booking(40, STUDENT, TUTOR, BookingState::Scheduled)
            .message(parent(subject));
        let h = Harness::new(w);
        let view = h.reply(replier, 10, "Sounds good").unwrap();
        let (new, audit_record) = h.inserted();
        check(
            case,
            new,
            NewMessage {
                sender_id: replier,
                recipient_id: expected_recipient,
                booking_id: Some(BookingId(40)),
                subject: Some(expected_subject.to_owned()),
                body: "Sounds good".to_owned(),
                parent_id: Some(MessageId(10)),
                client_message_id: None,
                created_at: now(),
            },
        );
        check(
            case,
            audit_record,
            audit(replier, AuditAction::MessageReplied, None),
        );
        check(
            case,
            h.events(),
            vec![DomainEvent::MessageSent {
                view,
                client_message_id: None,
            }],
        );
    }
}

#[test]
fn a_reply_to_a_message_the_replier_cannot_see_is_refused() {
    let w = world()
        .message(message(10, STUDENT, TUTOR, TimeDelta::hours(1)))
        .message(message_with(11, STUDENT, TUTOR, |m| {
            m.deleted_by_recipient = true
        }))
        .message(message_with(12, STUDENT, TUTOR, |m| {
            m.deleted_for_everyone_at = Some(ago(TimeDelta::minutes(1)));
            m.deleted_at = m.deleted_for_everyone_at;
        }));
    let cases = [
        ("stranger", OTHER_TUTOR, 10),
        ("admin who is not a party", ADMIN, 10),
        ("deleted by the replier", TUTOR, 11),
        ("deleted for everyone", TUTOR, 12),
        ("no such message", TUTOR, 404),
    ];
    for (case, replier, parent) in cases {
        let h = Harness::new(w.clone());
        let result = h.reply(replier, parent, "hello?");
        check(case, outcome(&result), "ParentNotFound".to_owned());
        h.assert_untouched(case);
    }
}

#[test]
fn a_reply_follows_the_contact_rules_and_the_reply_length_limit() {
    let clinician_message = message(10, CLINICIAN, PATIENT, TimeDelta::hours(1));
    let student_message = message(11, TUTOR, STUDENT, TimeDelta::hours(1));
    let base = world()
        .message(clinician_message)
        .message(student_message)
        .conversation(CLINICIAN, PATIENT, CLINICIAN);
    let cases = [
        (
            "patient in a clinician's conversation",
            base.clone(),
            PATIENT,
            10,
            "hi".to_owned(),
            "Ok".to_owned(),
        ),
        (
            "other party blocked the replier since",
            base.clone().block(TUTOR, STUDENT),
            STUDENT,
            11,
            "hi".to_owned(),
            "Contact(RecipientUnavailable)".to_owned(),
        ),
        (
            "replier blocked the other party since",
            base.clone().block(STUDENT, TUTOR),
            STUDENT,
            11,
            "hi".to_owned(),
            "Contact(RecipientBlockedBySender)".to_owned(),
        ),
        (
            "student reply over the limit",
            base,
            STUDENT,
            11,
            "x".repeat(2_001),
            "Validation(TooLong { field: \"content\", max: 2000 })".to_owned(),
        ),
    ];
    for (case, w, replier, parent, text, expected) in cases {
        let h = Harness::new(w);
        let result = h.reply(replier, parent, &text);
        check(case, outcome(&result), expected.clone());
        check(case, h.writes().len(), usize::from(expected == "Ok"));
    }
}

// --- edit ----------------------------------------------------------------------------------------

#[test]
fn only_a_message_the_editor_can_see_can_be_edited() {
    let w = world()
        .message(message(10, STUDENT, TUTOR, TimeDelta::minutes(1)))
        .message(message_with(11, STUDENT, TUTOR, |m| {
            m.deleted_by_sender = true
        }))
        .message(message_with(12, STUDENT, TUTOR, |m| {
            m.deleted_for_everyone_at = Some(ago(TimeDelta::seconds(30)));
        }));
    let cases = [
        ("stranger", OTHER_TUTOR, 10),
        ("deleted by the sender for themselves", STUDENT, 11),
        ("deleted for everyone", STUDENT, 12),
        ("no such message", STUDENT, 404),
    ];
    for (case, editor, id) in cases {
        let h = Harness::new(w.clone());
        let result = h.edit(editor, id, "changed");
        check(case, outcome(&result), "NotFound".to_owned());
        h.assert_untouched(case);
    }
}

#[test]
fn recipient_cannot_edit_someone_elses_message() {
    let h = Harness::new(world().message(message(10, STUDENT, TUTOR, TimeDelta::minutes(1))));
    let result = h.edit(TUTOR, 10, "changed");
    check(
        "recipient",
        outcome(&result),
        "Refused(NotSender)".to_owned(),
    );
    h.assert_untouched("recipient");
}

#[test]
fn the_sender_may_edit_until_exactly_fifteen_minutes_after_sending() {
    let cases = [
        ("at once", TimeDelta::zero(), "Ok"),
        ("at exactly 15:00", TimeDelta::minutes(15), "Ok"),
        (
            "at 15:00.001",
            TimeDelta::minutes(15) + TimeDelta::milliseconds(1),
            "Refused(WindowExpired { minutes: 15 })",
        ),
        (
            "an hour later",
            TimeDelta::hours(1),
            "Refused(WindowExpired { minutes: 15 })",
        ),
    ];
    for (case, age, expected) in cases {
        let h = Harness::new(world().message(message(10, STUDENT, TUTOR, age)));
        let result = h.edit(STUDENT, 10, "changed");
        check(case, outcome(&result), expected.to_owned());
        check(case, h.writes().len(), usize::from(expected == "Ok"));
    }
}

#[test]
fn an_edited_body_is_masked_like_a_new_one_stored_with_its_audit_record_and_announced() {
    let cases = [
        ("no booking", None, CONTACT_BODY_MASKED),
        (
            "requested booking",
            Some(BookingState::Requested),
            CONTACT_BODY_MASKED,
        ),
        (
            "scheduled booking",
            Some(BookingState::Scheduled),
            CONTACT_BODY,
        ),
    ];
    for (case, state, expected_body) in cases {
        let mut w = world().message(message(10, STUDENT, TUTOR, TimeDelta::minutes(5)));
        if let Some(state) = state {
            w = w.booking(40, STUDENT, TUTOR, state);
        }
        let h = Harness::new(w.clone());
        let view = h.edit(STUDENT, 10, CONTACT_BODY).unwrap();
        check(
            case,
            h.writes(),
            vec![Write::UpdateBody {
                id: MessageId(10),
                body: expected_body.to_owned(),
                at: now(),
                audit: audit(STUDENT, AuditAction::MessageEdited, Some(10)),
            }],
        );
        check(
            case,
            (view.message.body.clone(), view.message.edited_at),
            (expected_body.to_owned(), Some(now())),
        );
        check(
            case,
            (view.sender.clone(), view.recipient.clone()),
            (w.user(STUDENT).summary(), w.user(TUTOR).summary()),
        );
        check(case, h.events(), vec![DomainEvent::MessageEdited { view }]);
    }
}

#[test]
fn an_edit_must_respect_the_senders_body_limit() {
    let h = Harness::new(world().message(message(10, STUDENT, TUTOR, TimeDelta::minutes(1))));
    let result = h.edit(STUDENT, 10, &"x".repeat(2_001));
    check(
        "student edit",
        outcome(&result),
        "Validation(TooLong { field: \"message\", max: 2000 })".to_owned(),
    );
    h.assert_untouched("student edit");
}

// --- delete --------------------------------------------------------------------------------------

#[test]
fn recipient_cannot_delete_a_message_for_everyone() {
    let h = Harness::new(world().message(message(10, STUDENT, TUTOR, TimeDelta::minutes(1))));
    let result = h.delete(TUTOR, 10, DeleteScope::ForEveryone);
    check(
        "recipient for everyone",
        outcome(&result),
        "NotSender".to_owned(),
    );
    h.assert_untouched("recipient for everyone");
}

#[test]
fn deleting_tells_only_the_deleter_for_me_and_both_parties_for_everyone() {
    let cases = [
        (
            "sender for me",
            STUDENT,
            DeleteScope::ForMe,
            AuditAction::MessageDeletedForMe,
            vec![STUDENT],
        ),
        (
            "recipient for me",
            TUTOR,
            DeleteScope::ForMe,
            AuditAction::MessageDeletedForMe,
            vec![TUTOR],
        ),
        (
            "sender for everyone",
            STUDENT,
            DeleteScope::ForEveryone,
            AuditAction::MessageDeletedForEveryone,
            vec![STUDENT, TUTOR],
        ),
    ];
    for (case, deleter, scope, action, audience) in cases {
        let stored = message(10, STUDENT, TUTOR, TimeDelta::minutes(1));
        let h = Harness::new(world().message(stored.clone()));
        let deleted = h.delete(deleter, 10, scope).unwrap();
        check(
            case,
            Some(deleted),
            stored.after_delete(deleter, scope, now()),
        );
        check(
            case,
            h.writes(),
            vec![Write::Delete {
                id: MessageId(10),
                user: deleter,
                scope,
                at: now(),
                audit: audit(deleter, action, Some(10)),
            }],
        );
        check(
            case,
            h.events(),
            vec![DomainEvent::MessageDeleted {
                message_id: MessageId(10),
                deleted_by: deleter,
                scope,
                audience,
            }],
        );
    }
}

#[test]
fn a_message_the_deleter_cannot_see_is_not_found() {
    let w = world()
        .message(message(10, STUDENT, TUTOR, TimeDelta::minutes(1)))
        .message(message_with(11, STUDENT, TUTOR, |m| {
            m.deleted_by_recipient = true
        }))
        .message(message_with(12, STUDENT, TUTOR, |m| {
            m.deleted_for_everyone_at = Some(ago(TimeDelta::seconds(30)));
        }));
    let cases = [
        ("stranger for me", OTHER_TUTOR, 10, DeleteScope::ForMe),
        (
            "stranger for everyone",
            OTHER_TUTOR,
            10,
            DeleteScope::ForEveryone,
        ),
        ("already deleted for me", TUTOR, 11, DeleteScope::ForMe),
        (
            "already deleted for everyone",
            STUDENT,
            12,
            DeleteScope::ForEveryone,
        ),
        ("no such message", STUDENT, 404, DeleteScope::ForMe),
    ];
    for (case, deleter, id, scope) in cases {
        let h = Harness::new(w.clone());
        let result = h.delete(deleter, id, scope);
        check(case, outcome(&result), "NotFound".to_owned());
        h.assert_untouched(case);
    }
}

// --- mark read -----------------------------------------------------------------------------------

#[test]
fn only_the_recipient_who_still_sees_a_message_can_mark_it_read() {
    let w = world()
        .message(message(10, STUDENT, TUTOR, TimeDelta::minutes(1)))
        .message(message_with(11, STUDENT, TUTOR, |m| {
            m.deleted_by_recipient = true
        }));
    let cases = [
        ("sender", STUDENT, 10),
        ("stranger", OTHER_TUTOR, 10),
        ("recipient who deleted it", TUTOR, 11),
        ("no such message", TUTOR, 404),
    ];
    for (case, reader, id) in cases {
        let h = Harness::new(w.clone());
        let result = h.mark_read(reader, id);
        check(case, outcome(&result), "NotFound".to_owned());
        h.assert_untouched(case);
    }
}

#[test]
fn marking_an_unread_message_read_stores_it_and_tells_the_sender() {
    let h = Harness::new(world().message(message(10, STUDENT, TUTOR, TimeDelta::minutes(1))));
    let read = h.mark_read(TUTOR, 10).unwrap();
    check("read_at", read.read_at, Some(now()));
    check(
        "write",
        h.writes(),
        vec![Write::MarkRead {
            id: MessageId(10),
            at: now(),
            audit: audit(TUTOR, AuditAction::MessageRead, Some(10)),
        }],
    );
    let expected_event = DomainEvent::MessageRead {
        message_id: MessageId(10),
        sender_id: STUDENT,
        reader_id: TUTOR,
        read_at: now(),
    };
    check("audience", expected_event.audience(), vec![STUDENT]);
    check("event", h.events(), vec![expected_event]);
}

#[test]
fn an_already_read_message_is_returned_unchanged_without_a_write_or_an_event() {
    let first_read = ago(TimeDelta::minutes(3));
    let stored = message_with(10, STUDENT, TUTOR, |m| m.read_at = Some(first_read));
    let h = Harness::new(world().message(stored.clone()));
    let read = h.mark_read(TUTOR, 10).unwrap();
    check("unchanged", read, stored);
    h.assert_untouched("already read");
}

#[test]
fn marking_a_thread_read_announces_it_only_when_something_changed() {
    let w = world()
        .message(message(10, TUTOR, STUDENT, TimeDelta::minutes(3)))
        .message(message(11, TUTOR, STUDENT, TimeDelta::minutes(2)))
        .message(message(12, STUDENT, TUTOR, TimeDelta::minutes(1)));
    let thread_audit = AuditRecord {
        object_type: "user",
        ..audit(STUDENT, AuditAction::ThreadRead, Some(TUTOR.0))
    };

    let h = Harness::new(w.clone());
    let count = block_on(h.service.mark_thread_read(&actor(STUDENT), TUTOR, None)).unwrap();
    check("two unread", count, 2);
    check(
        "write",
        h.writes(),
        vec![Write::MarkThreadRead {
            reader: STUDENT,
            other: TUTOR,
            booking: None,
            at: now(),
            audit: thread_audit,
        }],
    );
    check(
        "event",
        h.events(),
        vec![DomainEvent::ThreadRead {
            reader_id: STUDENT,
            other_user_id: TUTOR,
            booking_id: None,
            count: 2,
            read_at: now(),
        }],
    );

    // The other tutor never wrote to the student.
    let h = Harness::new(w);
    let count = block_on(
        h.service
            .mark_thread_read(&actor(STUDENT), OTHER_TUTOR, None),
    )
    .unwrap();
    check("nothing unread", count, 0);
    check("no event", h.events(), Vec::new());
}

// --- audit ---------------------------------------------------------------------------------------

#[test]
fn every_write_carries_the_actor_the_action_and_the_client_address() {
    let w = world()
        .assign(CLINICIAN, PATIENT)
        .message(message(10, STUDENT, TUTOR, TimeDelta::minutes(1)))
        .message(message(20, TUTOR, STUDENT, TimeDelta::minutes(1)));
    type Op = fn(&Harness);
    let cases: [(&str, UserId, AuditAction, Option<i64>, Op); 8] = [
        ("send", STUDENT, AuditAction::MessageSent, None, |h| {
            h.send(STUDENT, to(TUTOR, "hi")).unwrap();
        }),
        (
            "clinician route",
            CLINICIAN,
            AuditAction::ClinicianMessageSent,
            None,
            |h| {
                h.send(CLINICIAN, via_clinician_route(to(PATIENT, "hi")))
                    .unwrap();
            },
        ),
        ("reply", TUTOR, AuditAction::MessageReplied, None, |h| {
            h.reply(TUTOR, 10, "hi").unwrap();
        }),
        ("edit", STUDENT, AuditAction::MessageEdited, Some(10), |h| {
            h.edit(STUDENT, 10, "hi").unwrap();
        }),
        (
            "delete for me",
            TUTOR,
            AuditAction::MessageDeletedForMe,
            Some(10),
            |h| {
                h.delete(TUTOR, 10, DeleteScope::ForMe).unwrap();
            },
        ),
        (
            "delete for everyone",
            STUDENT,
            AuditAction::MessageDeletedForEveryone,
            Some(10),
            |h| {
                h.delete(STUDENT, 10, DeleteScope::ForEveryone).unwrap();
            },
        ),
        (
            "mark read",
            TUTOR,
            AuditAction::MessageRead,
            Some(10),
            |h| {
                h.mark_read(TUTOR, 10).unwrap();
            },
        ),
        (
            "mark thread read",
            STUDENT,
            AuditAction::ThreadRead,
            Some(TUTOR.0),
            |h| {
                block_on(h.service.mark_thread_read(&actor(STUDENT), TUTOR, None)).unwrap();
            },
        ),
    ];
    for (case, actor_id, action, object_id, op) in cases {
        let h = Harness::new(w.clone());
        op(&h);
        let audits: Vec<AuditRecord> = h
            .writes()
            .iter()
            .map(|w| w.audit().unwrap().clone())
            .collect();
        let object_type = if action == AuditAction::ThreadRead {
            "user"
        } else {
            "message"
        };
        let expected = AuditRecord {
            object_type,
            ..audit(actor_id, action, object_id)
        };
        check(case, audits, vec![expected]);
    }
}

#[test]
fn an_audit_record_has_no_client_address_when_the_server_saw_none() {
    let h = Harness::new(world());
    let anonymous_addr = Actor {
        user_id: STUDENT,
        client_addr: None,
    };
    block_on(h.service.send(&anonymous_addr, to(TUTOR, "hi"))).unwrap();
    check("client_addr", h.inserted().1.client_addr, None);
}

// --- probing ---------------------------------------------------------------------------------------

/// A recipient who blocked the sender reads exactly like an unknown recipient, even when the request
/// is invalid in other ways (the contact rules are checked before body length and booking).
#[test]
fn a_recipient_who_blocked_the_sender_cannot_be_told_apart_from_an_unknown_one_by_an_invalid_request()
 {
    let w =
        world()
            .block(TUTOR, STUDENT)
            .booking(41, STUDENT, OTHER_TUTOR, BookingState::Scheduled);
    let too_long = "x".repeat(2_001);
    let probes = [
        ("body over the student limit", to(UNKNOWN, &too_long)),
        ("someone else's booking", in_booking(to(UNKNOWN, "hi"), 41)),
    ];
    for (case, probe) in probes {
        let unknown = Harness::new(w.clone()).send(STUDENT, probe.clone());
        let blocked = Harness::new(w.clone()).send(
            STUDENT,
            SendCommand {
                recipient: RecipientRef::Id(TUTOR),
                ..probe
            },
        );
        check(case, outcome(&blocked), outcome(&unknown));
    }
}

// --- real-time: blocks, receipts, typing, presence ------------------------------------------------

#[test]
fn blocked_users_receive_no_events_caused_by_each_other() {
    // The student sent a message, then one of the two blocked the other.
    for (case, blocker, blocked) in [
        ("tutor blocked student", TUTOR, STUDENT),
        ("student blocked tutor", STUDENT, TUTOR),
    ] {
        let w = world()
            .message(message(10, STUDENT, TUTOR, TimeDelta::minutes(1)))
            .block(blocker, blocked);
        let h = Harness::new(w.clone());
        h.edit(STUDENT, 10, "changed").unwrap();
        let h2 = Harness::new(w.clone());
        h2.mark_read(TUTOR, 10).unwrap();
        let h3 = Harness::new(w);
        h3.delete(STUDENT, 10, DeleteScope::ForEveryone).unwrap();
        let audiences: Vec<Vec<UserId>> = [&h, &h2, &h3]
            .iter()
            .map(|h| h.deliveries().into_iter().map(|(u, _)| u).collect())
            .collect();
        check(
            case,
            audiences,
            vec![vec![STUDENT], Vec::new(), vec![STUDENT]],
        );
    }
    // Without a block both parties hear of the edit.
    let h = Harness::new(world().message(message(10, STUDENT, TUTOR, TimeDelta::minutes(1))));
    h.edit(STUDENT, 10, "changed").unwrap();
    let audience: Vec<UserId> = h.deliveries().into_iter().map(|(u, _)| u).collect();
    check("no block", audience, vec![TUTOR, STUDENT]);
}

#[test]
fn only_the_recipient_can_report_delivery_and_only_the_sender_hears_of_it() {
    let w = world().message(message(10, STUDENT, TUTOR, TimeDelta::minutes(1)));
    let h = Harness::new(w.clone());
    block_on(h.service.mark_delivered(&actor(TUTOR), MessageId(10))).unwrap();
    check(
        "delivered",
        h.deliveries(),
        vec![(
            STUDENT,
            DomainEvent::MessageDelivered {
                message_id: MessageId(10),
                sender_id: STUDENT,
                recipient_id: TUTOR,
                delivered_at: now(),
            },
        )],
    );
    for (case, who, id) in [
        ("sender forging a receipt", STUDENT, 10),
        ("stranger forging a receipt", OTHER_TUTOR, 10),
        ("no such message", TUTOR, 404),
    ] {
        let h = Harness::new(w.clone());
        let result = block_on(h.service.mark_delivered(&actor(who), MessageId(id)));
        check(case, outcome(&result), "NotFound".to_owned());
        h.assert_untouched(case);
    }
}

#[test]
fn typing_reaches_only_a_conversation_partner_without_a_block() {
    let w = world()
        .conversation(STUDENT, TUTOR, STUDENT)
        .conversation(STUDENT, OTHER_TUTOR, STUDENT)
        .block(OTHER_TUTOR, STUDENT);
    let h = Harness::new(w.clone());
    block_on(h.service.typing(&actor(STUDENT), TUTOR, true)).unwrap();
    check(
        "partner",
        h.live(),
        vec![LiveEvent::Typing {
            from: STUDENT,
            to: TUTOR,
            is_typing: true,
            expires_in_seconds: 5,
        }],
    );
    for (case, from, to) in [
        ("no conversation", STUDENT, PATIENT),
        ("unknown user", STUDENT, UNKNOWN),
        ("blocked partner", STUDENT, OTHER_TUTOR),
        ("partner who blocked", OTHER_TUTOR, STUDENT),
        ("oneself", STUDENT, STUDENT),
    ] {
        let h = Harness::new(w.clone());
        let result = block_on(h.service.typing(&actor(from), to, true));
        check(case, outcome(&result), "NotFound".to_owned());
        check(case, h.live(), Vec::new());
    }
}

#[test]
fn presence_is_for_conversation_partners_and_can_be_hidden() {
    let mut w = world()
        .conversation(STUDENT, TUTOR, STUDENT)
        .conversation(STUDENT, OTHER_TUTOR, STUDENT)
        .conversation(STUDENT, PATIENT, STUDENT)
        .block(OTHER_TUTOR, STUDENT);
    let h = Harness::new(w.clone());
    check(
        "audience",
        block_on(h.service.presence_audience(STUDENT)).unwrap(),
        vec![TUTOR, PATIENT],
    );
    check(
        "partner sees it",
        outcome(&block_on(
            h.service.presence_visible(&actor(TUTOR), STUDENT),
        )),
        "Ok".to_owned(),
    );
    for (case, who) in [("stranger", CLINICIAN), ("blocked partner", OTHER_TUTOR)] {
        let result = block_on(h.service.presence_visible(&actor(who), STUDENT));
        check(case, outcome(&result), "NotFound".to_owned());
    }
    w.hidden_presence.push(STUDENT);
    let h = Harness::new(w);
    check(
        "hidden: nobody hears",
        block_on(h.service.presence_audience(STUDENT)).unwrap(),
        Vec::new(),
    );
    check(
        "hidden: shows offline",
        block_on(h.service.presence_visible(&actor(TUTOR), STUDENT)).unwrap(),
        false,
    );
}
