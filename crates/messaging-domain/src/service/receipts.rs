//! Receipts: a message read, a message delivered to one of its recipient's devices, and a whole
//! thread read. Only the recipient may give them, and the sender hears of them unless a block
//! stands between the two.

use thiserror::Error;

use super::actor::Actor;
use super::{MessageStore, MessagingService, not_found_as};
use crate::audit::AuditAction;
use crate::error::StoreError;
use crate::event::{Change, DomainEvent, EventPlan};
use crate::message::{Message, MessageId};
use crate::ports::{Clock, EventPublisher};
use crate::user::{BookingId, UserId};

#[cfg(test)]
mod tests;

/// Why marking a message read failed.
#[derive(Debug, Error)]
pub enum ReadError {
    /// No such message addressed to, and visible to, the reader.
    #[error("message not found")]
    NotFound,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl<S, E, C> MessagingService<S, E, C>
where
    S: MessageStore,
    E: EventPublisher,
    C: Clock,
{
    /// Marks one message read. Only its recipient may, and `read_at` is set once: marking again
    /// returns the message unchanged.
    ///
    /// # Errors
    /// [`ReadError::NotFound`] for anyone but the recipient, or when the recipient deleted it.
    pub async fn mark_read(&self, actor: &Actor, id: MessageId) -> Result<Message, ReadError> {
        let message = self
            .store
            .message(id)
            .await?
            .filter(|m| m.recipient_id == actor.user_id && m.is_visible_to(actor.user_id))
            .ok_or(ReadError::NotFound)?;
        if message.is_read() {
            return Ok(message);
        }
        let now = self.clock.now();
        let audit = self.audit(actor, AuditAction::MessageRead, "message", Some(id.0), now);
        let muted = self
            .muted_party(message.recipient_id, message.sender_id)
            .await?;
        let reader = actor.user_id;
        let plan: EventPlan<Message> = Box::new(move |m: &Message| {
            vec![
                DomainEvent::MessageRead {
                    message_id: m.id,
                    sender_id: m.sender_id,
                    reader_id: reader,
                    read_at: m.read_at.unwrap_or(now),
                }
                .addressed(muted),
            ]
        });
        let read = self
            .store
            .mark_read(id, now, Change::new(audit, plan))
            .await
            .map_err(not_found_as(ReadError::NotFound))?;
        self.events.publish(read.events);
        Ok(read.value)
    }

    /// A device of the actor received message `id`: its sender learns it was delivered (once, at
    /// the first device's receipt). Only the recipient may say so.
    ///
    /// # Errors
    /// [`ReadError::NotFound`] for anyone but the recipient, or when the recipient deleted it.
    pub async fn mark_delivered(&self, actor: &Actor, id: MessageId) -> Result<(), ReadError> {
        let message = self
            .store
            .message(id)
            .await?
            .filter(|m| m.recipient_id == actor.user_id && m.is_visible_to(actor.user_id))
            .ok_or(ReadError::NotFound)?;
        let now = self.clock.now();
        let muted = self
            .muted_party(message.recipient_id, message.sender_id)
            .await?;
        let plan: EventPlan<Message> = Box::new(move |m: &Message| {
            vec![
                DomainEvent::MessageDelivered {
                    message_id: m.id,
                    sender_id: m.sender_id,
                    recipient_id: m.recipient_id,
                    delivered_at: now,
                }
                .addressed(muted),
            ]
        });
        let recorded = self
            .store
            .mark_delivered(id, now, plan)
            .await
            .map_err(not_found_as(ReadError::NotFound))?;
        self.events.publish(recorded.events);
        Ok(())
    }

    /// Marks read everything `other` sent the actor (optionally in one booking's thread); returns how
    /// many messages changed.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    pub async fn mark_thread_read(
        &self,
        actor: &Actor,
        other: UserId,
        booking: Option<BookingId>,
    ) -> Result<u64, StoreError> {
        let now = self.clock.now();
        let audit = self.audit(actor, AuditAction::ThreadRead, "user", Some(other.0), now);
        let muted = self.muted_party(actor.user_id, other).await?;
        let reader = actor.user_id;
        let plan: EventPlan<u64> = Box::new(move |count: &u64| {
            vec![
                DomainEvent::ThreadRead {
                    reader_id: reader,
                    other_user_id: other,
                    booking_id: booking,
                    count: *count,
                    read_at: now,
                }
                .addressed(muted),
            ]
        });
        let recorded = self
            .store
            .mark_thread_read(actor.user_id, other, booking, now, Change::new(audit, plan))
            .await?;
        let count = recorded.value;
        self.events.publish(recorded.events);
        Ok(count)
    }
}
