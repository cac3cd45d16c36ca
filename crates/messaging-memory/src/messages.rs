//! Message changes: sending, editing, receipts and deletes, each with its audit record and events
//! applied in one critical section, and only when something changed.

use chrono::{DateTime, Utc};
use messaging_domain::StoreError;
use messaging_domain::audit::AuditRecord;
use messaging_domain::event::{EventPlan, Recorded};
use messaging_domain::message::{Conversation, Message, MessageId, NewMessage};
use messaging_domain::user::{BookingId, UserId};

use crate::state::{ConversationRow, State, ordered};
use crate::{Duplicate, duplicate};

impl State {
    /// Checks what a new message needs before anything is written: both parties exist and the
    /// sender has not used its client id yet.
    pub(crate) fn check_new_message(&self, new: &NewMessage) -> Result<(), StoreError> {
        self.require_user(new.sender_id)?;
        self.require_user(new.recipient_id)?;
        if let Some(client_id) = &new.client_message_id
            && self
                .client_ids
                .contains_key(&(new.sender_id, client_id.clone()))
        {
            return Err(duplicate(Duplicate::ClientMessageId));
        }
        Ok(())
    }

    /// Stores a checked message (see [`State::check_new_message`]) in its conversation, created
    /// when missing, and writes its audit record with the message's id.
    pub(crate) fn store_message(&mut self, new: NewMessage, audit: AuditRecord) -> Message {
        let (low, high) = ordered(new.sender_id, new.recipient_id);
        let existing = self
            .member_conversations(new.sender_id, new.recipient_id, new.booking_id)
            .into_iter()
            .find(|id| {
                self.conversations
                    .get(id)
                    .is_some_and(|c| c.conversation.booking_id == new.booking_id)
            });
        let conversation_id = match existing {
            Some(id) => id,
            None => {
                let id = self.last_id.conversation();
                let conversation = Conversation {
                    id,
                    user_low: low,
                    user_high: high,
                    booking_id: new.booking_id,
                    started_by: new.sender_id,
                    created_at: new.created_at,
                };
                self.conversations.insert(
                    id,
                    ConversationRow {
                        conversation,
                        messages: Vec::new(),
                    },
                );
                self.by_pair.entry((low, high)).or_default().push(id);
                for member in [low, high] {
                    self.by_member.entry(member).or_default().insert(id);
                }
                id
            }
        };
        let id = self.last_id.message();
        let message = Message {
            id,
            conversation_id,
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
        if let Some(client_id) = new.client_message_id {
            self.client_ids.insert((new.sender_id, client_id), id);
        }
        if let Some(row) = self.conversations.get_mut(&conversation_id) {
            row.messages.push(id);
        }
        self.messages.insert(id, message.clone());
        self.audit(AuditRecord {
            object_id: Some(id.0),
            ..audit
        });
        message
    }

    /// Stores a new message, its audit record and the events `plan` decides.
    pub(crate) fn insert_message(
        &mut self,
        new: NewMessage,
        audit: AuditRecord,
        plan: EventPlan<Message>,
    ) -> Result<Recorded<Message>, StoreError> {
        self.check_new_message(&new)?;
        let at = new.created_at;
        let message = self.store_message(new, audit);
        let events = self.append_events(plan(&message), at);
        Ok(Recorded {
            value: message,
            events,
        })
    }

    /// Replaces a message's body and marks it edited at `at`.
    pub(crate) fn update_body(
        &mut self,
        id: MessageId,
        body: String,
        at: DateTime<Utc>,
        audit: AuditRecord,
        plan: EventPlan<Message>,
    ) -> Result<Recorded<Message>, StoreError> {
        let message = self.messages.get_mut(&id).ok_or(StoreError::NotFound)?;
        message.body = body;
        message.edited_at = Some(at);
        let message = message.clone();
        self.audit(audit);
        let events = self.append_events(plan(&message), at);
        Ok(Recorded {
            value: message,
            events,
        })
    }

    /// Marks a message read at `at` unless it already is: the first read time stays.
    pub(crate) fn mark_read(
        &mut self,
        id: MessageId,
        at: DateTime<Utc>,
        audit: AuditRecord,
        plan: EventPlan<Message>,
    ) -> Result<Recorded<Message>, StoreError> {
        let message = self.messages.get_mut(&id).ok_or(StoreError::NotFound)?;
        if message.read_at.is_some() {
            return Ok(Recorded::quiet(message.clone()));
        }
        message.read_at = Some(at);
        let message = message.clone();
        self.audit(audit);
        let events = self.append_events(plan(&message), at);
        Ok(Recorded {
            value: message,
            events,
        })
    }

    /// Records the first delivery of a message to a device of its recipient.
    pub(crate) fn mark_delivered(
        &mut self,
        id: MessageId,
        at: DateTime<Utc>,
        plan: EventPlan<Message>,
    ) -> Result<Recorded<bool>, StoreError> {
        let message = self.messages.get(&id).ok_or(StoreError::NotFound)?.clone();
        if self.deliveries.contains_key(&id) {
            // Delivered before: only the first receipt counts.
            return Ok(Recorded::quiet(false));
        }
        self.deliveries.insert(id, at);
        let events = self.append_events(plan(&message), at);
        Ok(Recorded {
            value: true,
            events,
        })
    }

    /// Marks read every unread message from `other` that `reader` can see.
    pub(crate) fn mark_thread_read(
        &mut self,
        reader: UserId,
        other: UserId,
        booking: Option<BookingId>,
        at: DateTime<Utc>,
        audit: AuditRecord,
        plan: EventPlan<u64>,
    ) -> Recorded<u64> {
        let mut count: u64 = 0;
        for conversation in self.member_conversations(reader, other, booking) {
            let ids = self
                .conversations
                .get(&conversation)
                .map(|c| c.messages.clone())
                .unwrap_or_default();
            for id in ids {
                if let Some(message) = self.messages.get_mut(&id)
                    && message.recipient_id == reader
                    && !message.is_read()
                    && message.is_visible_to(reader)
                {
                    message.read_at = Some(at);
                    count += 1;
                }
            }
        }
        if count == 0 {
            return Recorded::quiet(0);
        }
        self.audit(audit);
        let events = self.append_events(plan(&count), at);
        Recorded {
            value: count,
            events,
        }
    }

    /// Applies a delete the domain decided (`after` is the message as the per-party rule leaves
    /// it), redacting the streams when it reached everyone just now.
    pub(crate) fn apply_delete(
        &mut self,
        after: Message,
        at: DateTime<Utc>,
        audit: AuditRecord,
        plan: EventPlan<Message>,
    ) -> Result<Recorded<Message>, StoreError> {
        let stored = self
            .messages
            .get_mut(&after.id)
            .ok_or(StoreError::NotFound)?;
        if *stored == after {
            return Ok(Recorded::quiet(after));
        }
        let redacts =
            stored.deleted_for_everyone_at.is_none() && after.deleted_for_everyone_at.is_some();
        *stored = after.clone();
        if redacts {
            self.redact_stream_entries(after.id);
        }
        self.audit(audit);
        let events = self.append_events(plan(&after), at);
        Ok(Recorded {
            value: after,
            events,
        })
    }
}
