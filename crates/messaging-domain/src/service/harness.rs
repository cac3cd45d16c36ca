//! The fake store every test of [`MessagingService`] runs over: mockall mocks of its ports that
//! answer from a small in-memory [`World`] (users, bookings, blocks, assignments, conversations,
//! messages) and record every repository write and every published event, so that each test can
//! say what was stored and what was announced, or that nothing was. Time is fixed by the clock
//! mock at [`now`]. Every assertion goes through [`check`].
//!
//! The tests themselves live beside the use cases they test (`send/tests.rs`, `edit/tests.rs`,
//! ...); the ones about every use case at once are in `service/tests.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, Utc};
use futures_executor::block_on;

use super::actor::Actor;
use super::commands::{RecipientRef, SendCommand, SendRoute};
use super::delete::DeleteError;
use super::edit::EditError;
use super::receipts::ReadError;
use super::send::SendError;
use super::{MessagingConfig, MessagingService};
use crate::audit::{AuditAction, AuditRecord};
use crate::event::{DomainEvent, LiveEvent};
use crate::message::{
    Conversation, ConversationId, DeleteScope, Message, MessageId, MessageView, NewMessage,
};
use crate::ports::{MockClock, MockEventPublisher};
use crate::text::MessageText;
use crate::user::{Booking, BookingId, BookingState, Role, User, UserId};

mod mocks;

use mocks::{MockStore, clock, publisher, store};

// --- fixtures ------------------------------------------------------------------------------------

pub(super) const STUDENT: UserId = UserId(1);
pub(super) const TUTOR: UserId = UserId(2);
pub(super) const PATIENT: UserId = UserId(3);
pub(super) const CLINICIAN: UserId = UserId(4);
pub(super) const ADMIN: UserId = UserId(5);
pub(super) const OTHER_TUTOR: UserId = UserId(6);
pub(super) const INACTIVE_TUTOR: UserId = UserId(7);
pub(super) const OTHER_STUDENT: UserId = UserId(8);
pub(super) const UNKNOWN: UserId = UserId(99);

pub(super) const CLIENT_ADDR: &str = "203.0.113.7";

/// A body with an e-mail address and a phone number, and how it reads once masked.
pub(super) const CONTACT_BODY: &str = "Email john@example.com or call 555-1234 tonight";
pub(super) const CONTACT_BODY_MASKED: &str = "Email j***@e***.com or call ***-**** tonight";

/// The id the repository mock gives an inserted message.
pub(super) const INSERTED_ID: MessageId = MessageId(1000);

/// Asserts that `actual` equals `expected`, naming the case on failure.
#[track_caller]
pub(super) fn check<T: PartialEq + Debug>(case: impl Debug, actual: T, expected: T) {
    assert_eq!(actual, expected, "case {case:?}");
}

/// The fixed instant every test runs at: 2025-03-14 10:00:00 UTC.
pub(super) fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_741_946_400, 0).unwrap()
}

pub(super) fn ago(delta: TimeDelta) -> DateTime<Utc> {
    now() - delta
}

pub(super) fn user(id: UserId, role: Role) -> User {
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

pub(super) fn actor(id: UserId) -> Actor {
    Actor {
        user_id: id,
        client_addr: Some(CLIENT_ADDR.to_owned()),
    }
}

pub(super) fn body(raw: &str) -> MessageText {
    MessageText::parse(raw).unwrap()
}

/// A direct message by id, without subject or booking.
pub(super) fn to(recipient: UserId, raw: &str) -> SendCommand {
    SendCommand {
        recipient: RecipientRef::Id(recipient),
        body: body(raw),
        subject: None,
        booking_id: None,
        via: SendRoute::Direct,
        client_message_id: None,
    }
}

pub(super) fn in_booking(command: SendCommand, booking: i64) -> SendCommand {
    SendCommand {
        booking_id: Some(BookingId(booking)),
        ..command
    }
}

pub(super) fn via_clinician_route(command: SendCommand) -> SendCommand {
    SendCommand {
        via: SendRoute::Clinician,
        ..command
    }
}

/// A stored message sent `age` before [`now`], without subject or booking, unread and not deleted.
pub(super) fn message(id: i64, sender: UserId, recipient: UserId, age: TimeDelta) -> Message {
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

pub(super) fn message_with(
    id: i64,
    sender: UserId,
    recipient: UserId,
    change: impl FnOnce(&mut Message),
) -> Message {
    let mut m = message(id, sender, recipient, TimeDelta::minutes(1));
    change(&mut m);
    m
}

pub(super) fn audit(actor: UserId, action: AuditAction, object_id: Option<i64>) -> AuditRecord {
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
pub(super) struct World {
    pub(super) users: Vec<User>,
    pub(super) bookings: Vec<Booking>,
    /// (blocker, blocked)
    pub(super) blocks: Vec<(UserId, UserId)>,
    /// (clinician, patient)
    pub(super) assignments: Vec<(UserId, UserId)>,
    /// (clinician, patient) pairs assigned once and unassigned since
    pub(super) former_assignments: Vec<(UserId, UserId)>,
    pub(super) conversations: Vec<Conversation>,
    pub(super) messages: Vec<Message>,
    /// `bookings_between` returns every booking of either user, as a careless adapter might.
    pub(super) sloppy_bookings_between: bool,
    pub(super) hidden_presence: Vec<UserId>,
}

/// Every role, one user each, plus a second tutor, an inactive tutor and a second student.
pub(super) fn world() -> World {
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
    pub(super) fn booking(
        mut self,
        id: i64,
        student: UserId,
        tutor: UserId,
        state: BookingState,
    ) -> Self {
        self.bookings.push(Booking {
            id: BookingId(id),
            student_id: student,
            tutor_id: tutor,
            state,
            created_at: ago(TimeDelta::days(3)),
        });
        self
    }

    pub(super) fn block(mut self, blocker: UserId, blocked: UserId) -> Self {
        self.blocks.push((blocker, blocked));
        self
    }

    pub(super) fn assign(mut self, clinician: UserId, patient: UserId) -> Self {
        self.assignments.push((clinician, patient));
        self
    }

    pub(super) fn formerly_assigned(mut self, clinician: UserId, patient: UserId) -> Self {
        self.former_assignments.push((clinician, patient));
        self
    }

    pub(super) fn conversation(mut self, a: UserId, b: UserId, started_by: UserId) -> Self {
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

    pub(super) fn sloppy_bookings_between(mut self) -> Self {
        self.sloppy_bookings_between = true;
        self
    }

    pub(super) fn message(mut self, message: Message) -> Self {
        self.messages.push(message);
        self
    }

    pub(super) fn user(&self, id: UserId) -> User {
        self.users.iter().find(|u| u.id == id).cloned().unwrap()
    }

    pub(super) fn find_message(&self, id: MessageId) -> Option<Message> {
        self.messages.iter().find(|m| m.id == id).cloned()
    }
}

/// One write the service asked the repository for, with its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Write {
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
    pub(super) fn audit(&self) -> Option<&AuditRecord> {
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

pub(super) type Service = MessagingService<MockStore, MockEventPublisher, MockClock>;

pub(super) struct Harness {
    pub(super) service: Service,
    pub(super) writes: Arc<Mutex<Vec<Write>>>,
    pub(super) events: Arc<Mutex<Vec<DomainEvent>>>,
    pub(super) deliveries: Arc<Mutex<Vec<(UserId, DomainEvent)>>>,
    pub(super) live: Arc<Mutex<Vec<LiveEvent>>>,
}

impl Harness {
    pub(super) fn new(world: World) -> Self {
        let world = Arc::new(world);
        let writes = Arc::new(Mutex::new(Vec::new()));
        let events = Arc::new(Mutex::new(Vec::new()));
        let deliveries = Arc::new(Mutex::new(Vec::new()));
        let live = Arc::new(Mutex::new(Vec::new()));
        let service = MessagingService::new(
            store(&world, &writes),
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
    pub(super) fn deliveries(&self) -> Vec<(UserId, DomainEvent)> {
        self.deliveries.lock().unwrap().clone()
    }

    pub(super) fn live(&self) -> Vec<LiveEvent> {
        self.live.lock().unwrap().clone()
    }

    pub(super) fn writes(&self) -> Vec<Write> {
        self.writes.lock().unwrap().clone()
    }

    pub(super) fn events(&self) -> Vec<DomainEvent> {
        self.events.lock().unwrap().clone()
    }

    /// The one message inserted, failing unless exactly one write happened and it was an insert.
    #[track_caller]
    pub(super) fn inserted(&self) -> (NewMessage, AuditRecord) {
        match self.writes().as_slice() {
            [Write::Insert(message, audit)] => (message.clone(), audit.clone()),
            other => panic!("expected exactly one insert, got {other:?}"),
        }
    }

    /// Fails unless nothing was written and nothing published.
    #[track_caller]
    pub(super) fn assert_untouched(&self, case: impl Debug) {
        check(&case, self.writes(), Vec::new());
        check(&case, self.events(), Vec::new());
    }

    pub(super) fn send(
        &self,
        sender: UserId,
        command: SendCommand,
    ) -> Result<MessageView, SendError> {
        block_on(self.service.send(&actor(sender), command))
    }

    pub(super) fn reply(
        &self,
        sender: UserId,
        parent: i64,
        raw: &str,
    ) -> Result<MessageView, SendError> {
        block_on(
            self.service
                .reply(&actor(sender), MessageId(parent), body(raw), None),
        )
    }

    pub(super) fn edit(
        &self,
        editor: UserId,
        id: i64,
        raw: &str,
    ) -> Result<MessageView, EditError> {
        block_on(self.service.edit(&actor(editor), MessageId(id), body(raw)))
    }

    pub(super) fn delete(
        &self,
        user: UserId,
        id: i64,
        scope: DeleteScope,
    ) -> Result<Message, DeleteError> {
        block_on(self.service.delete(&actor(user), MessageId(id), scope))
    }

    pub(super) fn mark_read(&self, reader: UserId, id: i64) -> Result<Message, ReadError> {
        block_on(self.service.mark_read(&actor(reader), MessageId(id)))
    }
}

/// A result reduced to `"Ok"` or its error's debug form, to compare errors that have no `PartialEq`.
pub(super) fn outcome<T, E: Debug>(result: &Result<T, E>) -> String {
    match result {
        Ok(_) => "Ok".to_owned(),
        Err(err) => format!("{err:?}"),
    }
}
