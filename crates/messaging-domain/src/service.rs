//! The messaging use cases over their ports, one module per use case, each with its own `impl`
//! block of [`MessagingService`] and its own error enum: [`send`], [`edit`], [`delete`],
//! [`receipts`], [`listing`], [`live`] and [`safety`]. The account, admin and attachment use
//! cases are services of their own ([`accounts`], [`admin`], [`attachments`]). Built once in the
//! server's startup; other services may embed it.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};

use crate::audit::{AuditAction, AuditRecord};
use crate::error::StoreError;
use crate::message::{Message, MessageView};
use crate::ports::{
    Blocks, Clock, EventPublisher, MessageQueries, Messages, People, PresenceSettings, Reports,
};
use crate::text::{BodyPolicy, MessageText};
use crate::user::{User, UserId, UserSummary, must_mask_between};

pub mod accounts;
pub mod actor;
pub mod admin;
pub mod attachments;
pub mod commands;
pub mod delete;
pub mod edit;
pub mod listing;
pub mod live;
pub mod receipts;
pub mod safety;
pub mod send;

use actor::Actor;

#[cfg(test)]
mod harness;
#[cfg(test)]
mod tests;

/// Tunable rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessagingConfig {
    /// How long after sending a message its sender may edit it (15 minutes by default).
    pub edit_window: TimeDelta,
    /// Body length limits per role.
    pub body_policy: BodyPolicy,
    /// How long a typing indicator lasts without a refresh, in seconds.
    pub typing_ttl_seconds: u32,
}

impl Default for MessagingConfig {
    fn default() -> Self {
        Self {
            edit_window: TimeDelta::minutes(15),
            body_policy: BodyPolicy::default(),
            typing_ttl_seconds: 5,
        }
    }
}

/// The store ports the messaging use cases run on, as one bound: message changes and reads,
/// reports, people, blocks and presence settings. Any type that implements the six is one (a
/// blanket impl), as the server's store is; an embedder's adapter implements the six ports and
/// nothing else.
pub trait MessageStore:
    Messages + MessageQueries + Reports + People + Blocks + PresenceSettings
{
}

impl<T> MessageStore for T where
    T: Messages + MessageQueries + Reports + People + Blocks + PresenceSettings
{
}

/// The messaging use cases over their ports.
#[derive(Debug)]
pub struct MessagingService<S, E, C> {
    store: S,
    events: E,
    clock: C,
    config: MessagingConfig,
}

impl<S, E, C> MessagingService<S, E, C>
where
    S: MessageStore,
    E: EventPublisher,
    C: Clock,
{
    /// Builds the service over its ports.
    pub fn new(store: S, events: E, clock: C, config: MessagingConfig) -> Self {
        Self {
            store,
            events,
            clock,
            config,
        }
    }

    /// The rules in force.
    pub fn config(&self) -> &MessagingConfig {
        &self.config
    }

    /// The current time, from the clock port.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The actor's own account, if active.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    pub async fn active_user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        Ok(self.store.user(id).await?.filter(|u| u.is_active))
    }

    /// The user with this name; a string that cannot be a user name names nobody and is not
    /// looked up.
    async fn user_named(&self, name: &str) -> Result<Option<User>, StoreError> {
        match crate::accounts::Username::parse(name) {
            Ok(name) => self.store.user_by_username(name.as_str()).await,
            Err(_) => Ok(None),
        }
    }

    /// The party to leave out of events between `a` and `b` (`b`, whom the event would reach)
    /// when either blocked the other: blocked users receive nothing from each other.
    async fn muted_party(&self, a: UserId, b: UserId) -> Result<Option<UserId>, StoreError> {
        let blocks = self.store.blocks_between(a, b).await?;
        Ok((blocks.first_blocked_second || blocks.second_blocked_first).then_some(b))
    }

    async fn mask_if_needed(
        &self,
        a: UserId,
        b: UserId,
        body: MessageText,
    ) -> Result<MessageText, StoreError> {
        // Most messages hold no contact details; for them the bookings do not matter, and the
        // lookup is skipped.
        let Some(masked) = body.masked_if_changed() else {
            return Ok(body);
        };
        Ok(if self.must_mask(a, b).await? {
            masked
        } else {
            body
        })
    }

    /// Whether contact details must be masked between `a` and `b` (no booking that reveals them).
    async fn must_mask(&self, a: UserId, b: UserId) -> Result<bool, StoreError> {
        let bookings = self.store.bookings_between(a, b).await?;
        Ok(must_mask_between(a, b, &bookings))
    }

    /// The messages with their parties' faces as `viewer` (one of the parties) may see them.
    async fn views_for(
        &self,
        viewer: UserId,
        messages: Vec<Message>,
    ) -> Result<Vec<MessageView>, StoreError> {
        let views = self.views(messages).await?;
        Ok(views.into_iter().map(|v| v.seen_by(viewer)).collect())
    }

    /// The messages with their parties' faces as stored (for admins, who moderate names).
    async fn views(&self, messages: Vec<Message>) -> Result<Vec<MessageView>, StoreError> {
        let mut ids: Vec<UserId> = messages
            .iter()
            .flat_map(|m| [m.sender_id, m.recipient_id])
            .collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let users: HashMap<UserId, UserSummary> = self
            .store
            .users(ids)
            .await?
            .into_iter()
            .map(|u| (u.id, u.summary()))
            .collect();
        Ok(messages
            .into_iter()
            .filter_map(|message| {
                let sender = users.get(&message.sender_id)?.clone();
                let recipient = users.get(&message.recipient_id)?.clone();
                Some(MessageView {
                    message,
                    sender,
                    recipient,
                })
            })
            .collect())
    }

    fn audit(
        &self,
        actor: &Actor,
        action: AuditAction,
        object_type: &'static str,
        object_id: Option<i64>,
        at: DateTime<Utc>,
    ) -> AuditRecord {
        AuditRecord {
            actor: Some(actor.user_id),
            action,
            object_type,
            object_id,
            at,
            client_addr: actor.client_addr.clone(),
        }
    }
}

/// A message that vanished between the check and the write reads as not found, not as a fault.
fn not_found_as<T>(not_found: T) -> impl FnOnce(StoreError) -> T
where
    T: From<StoreError>,
{
    move |err| match err {
        StoreError::NotFound => not_found,
        other => T::from(other),
    }
}
