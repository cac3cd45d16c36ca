//! Message changes: every write to a message, each with its audit record and event plan (a
//! [`Change`]) in one transaction. The reads are [`MessageQueries`](super::MessageQueries).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::StoreError;
use crate::event::{Change, EventPlan, Recorded};
use crate::message::{Deletion, Message, MessageId, NewMessage};
use crate::user::{BookingId, UserId};

/// Message changes. Each runs in one transaction with the audit record and the events of its
/// [`Change`], which are written only when the change changed something.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Messages: Send + Sync + 'static {
    /// Stores a new message in its conversation (created when missing), updates both members'
    /// thread rows, writes the audit record and appends the events the plan decides to their
    /// users' streams, all in one transaction. The audit record's object id is filled with the
    /// new message's id.
    ///
    /// # Errors
    /// [`StoreError::Duplicate`] ([`Unique::ClientMessageId`](crate::error::Unique)) when the
    /// sender already used the message's client id; [`StoreError::Backend`] when the store fails.
    /// Nothing is stored then.
    async fn insert_message(
        &self,
        message: NewMessage,
        change: Change<Message>,
    ) -> Result<Recorded<Message>, StoreError>;

    /// Replaces a message's body and marks it edited at `at`, with its audit record and events.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the message is gone, [`StoreError::Backend`] when the store
    /// fails.
    async fn update_body(
        &self,
        id: MessageId,
        body: String,
        at: DateTime<Utc>,
        change: Change<Message>,
    ) -> Result<Recorded<Message>, StoreError>;

    /// Marks a message read at `at` unless it already is (the first `read_at` stays), lowers the
    /// recipient's unread count, and writes the audit record and events (only when it changed).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the message is gone, [`StoreError::Backend`] when the store
    /// fails.
    async fn mark_read(
        &self,
        id: MessageId,
        at: DateTime<Utc>,
        change: Change<Message>,
    ) -> Result<Recorded<Message>, StoreError>;

    /// Records that a device of the recipient received the message: sets its delivery time unless
    /// it is set already, and then only appends the events `plan` decides (a receipt is not
    /// audited). Returns whether it changed.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the message is gone, [`StoreError::Backend`] when the store
    /// fails.
    async fn mark_delivered(
        &self,
        id: MessageId,
        at: DateTime<Utc>,
        plan: EventPlan<Message>,
    ) -> Result<Recorded<bool>, StoreError>;

    /// Marks read every unread message from `other` to `reader` that `reader` can see, optionally
    /// only in one booking's conversation; returns how many changed.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn mark_thread_read(
        &self,
        reader: UserId,
        other: UserId,
        booking: Option<BookingId>,
        at: DateTime<Utc>,
        change: Change<u64>,
    ) -> Result<Recorded<u64>, StoreError>;

    /// Applies a delete the domain decided: locks the message, asks
    /// [`Deletion::apply`] what the delete does to it as it stands now, stores the flags and
    /// times that returns, and brings the rest in line as [`Deleted`](crate::message::Deleted)
    /// says (the threads' newest message of the parties who lost it, the recipient's unread
    /// count, the stream entries of a message deleted for everyone), in one transaction. A
    /// delete that changes nothing (both parties raced to it) writes nothing and appends no
    /// event. The rule itself is never decided by the store.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the message is gone or the delete no longer applies to it,
    /// [`StoreError::Backend`] when the store fails.
    async fn delete_message(
        &self,
        deletion: Deletion,
        change: Change<Message>,
    ) -> Result<Recorded<Message>, StoreError>;
}
