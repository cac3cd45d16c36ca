//! Fleeting signals: typing indicators and presence. They are never stored; they pass only
//! between conversation partners with no block between them, and not while a user hides their
//! presence.

use thiserror::Error;

use super::actor::Actor;
use super::{MessageStore, MessagingService};
use crate::error::StoreError;
use crate::event::LiveEvent;
use crate::ports::{Clock, EventPublisher};
use crate::user::UserId;

#[cfg(test)]
mod tests;

/// Why a fleeting signal (typing, presence) was refused.
#[derive(Debug, Error)]
pub enum LiveError {
    /// The other user is unknown to the actor: no shared conversation, or a block stands.
    #[error("user not found")]
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
    /// The actor started or stopped typing to `to`. Only a member of a conversation with `to` may
    /// say so, and nothing passes between users with a block between them; otherwise `to` looks
    /// unknown.
    ///
    /// # Errors
    /// [`LiveError::NotFound`] when the actor shares no conversation with `to`, or a block stands.
    pub async fn typing(
        &self,
        actor: &Actor,
        to: UserId,
        is_typing: bool,
    ) -> Result<(), LiveError> {
        if to == actor.user_id
            || self
                .store
                .conversations_between(actor.user_id, to)
                .await?
                .is_empty()
            || self.muted_party(actor.user_id, to).await?.is_some()
        {
            return Err(LiveError::NotFound);
        }
        self.events.publish_live(LiveEvent::Typing {
            from: actor.user_id,
            to,
            is_typing,
            expires_in_seconds: self.config.typing_ttl_seconds,
        });
        Ok(())
    }

    /// Who hears about `user` coming online or going offline: the users they share a
    /// conversation with and have no block with; nobody while `user` hides their presence.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    pub async fn presence_audience(&self, user: UserId) -> Result<Vec<UserId>, StoreError> {
        if self.store.presence_hidden(user).await? {
            return Ok(Vec::new());
        }
        self.store.conversation_partners(user).await
    }

    /// Whether the actor may learn `target`'s presence: only a conversation partner with no
    /// block between them, and only while `target` shows it. `Ok(false)` means "shows as
    /// offline" (hidden); anyone else gets [`LiveError::NotFound`].
    ///
    /// # Errors
    /// [`LiveError::NotFound`] when `target` is no conversation partner of the actor.
    pub async fn presence_visible(&self, actor: &Actor, target: UserId) -> Result<bool, LiveError> {
        if target == actor.user_id {
            return Ok(true);
        }
        let partners = self.store.conversation_partners(actor.user_id).await?;
        if !partners.contains(&target) {
            return Err(LiveError::NotFound);
        }
        Ok(!self.store.presence_hidden(target).await?)
    }

    /// Hides or shows the actor's presence; returns whether it changed.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    pub async fn set_presence_hidden(
        &self,
        actor: &Actor,
        hidden: bool,
    ) -> Result<bool, StoreError> {
        self.store.set_presence_hidden(actor.user_id, hidden).await
    }
}
