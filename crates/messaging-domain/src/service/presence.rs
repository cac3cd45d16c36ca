//! Presence: whether a conversation partner is online, showing or hiding one's own, and who hears
//! of someone coming or going. Presence is a fleeting signal: it is never stored as an event, and
//! it passes only between conversation partners with no block between them, never while a user
//! hides it.

use chrono::TimeDelta;

use super::actor::Actor;
use super::live::LiveError;
use crate::error::StoreError;
use crate::event::LiveEvent;
use crate::ports::{Clock, EventPublisher, People, PresenceSettings, PresenceStatus};
use crate::user::UserId;

#[cfg(test)]
mod tests;

/// How long a connection record lasts without a refresh (instances refresh theirs every 30 s):
/// after that its user counts as offline, so a crashed instance's users go offline too.
pub const PRESENCE_STALE_SECS: i64 = 90;

/// The presence use cases over their ports.
#[derive(Debug)]
pub struct PresenceService<D, P, E, C> {
    directory: D,
    presence: P,
    events: E,
    clock: C,
}

impl<D, P, E, C> PresenceService<D, P, E, C>
where
    D: People + PresenceSettings,
    P: PresenceStatus,
    E: EventPublisher,
    C: Clock,
{
    /// Builds the service over its ports.
    pub fn new(directory: D, presence: P, events: E, clock: C) -> Self {
        Self {
            directory,
            presence,
            events,
            clock,
        }
    }

    /// Whether `target` is online as the actor may see it: a partner who hides their presence
    /// shows as offline (`Ok(false)`).
    ///
    /// # Errors
    /// [`LiveError::NotFound`] when `target` is no conversation partner of the actor.
    pub async fn presence_of(&self, actor: &Actor, target: UserId) -> Result<bool, LiveError> {
        if !visible(&self.directory, actor, target).await? {
            return Ok(false);
        }
        Ok(self.online(target).await?)
    }

    /// Shows or hides the actor's presence, and tells their partners while the actor is online.
    /// Hiding says "offline" before the setting changes, while partners may still hear it;
    /// showing says "online" after it changed, once they may.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    pub async fn set_visible(&self, actor: &Actor, visible: bool) -> Result<(), StoreError> {
        let user = actor.user_id;
        let online = self.online(user).await?;
        if !visible && online {
            self.announce(user, false).await?;
        }
        let changed = self.directory.set_presence_hidden(user, !visible).await?;
        if visible && changed && online {
            self.announce(user, true).await?;
        }
        Ok(())
    }

    /// Tells `user`'s partners (those allowed to know) that they came online or went offline.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    pub async fn announce(&self, user: UserId, online: bool) -> Result<(), StoreError> {
        let audience = audience(&self.directory, user).await?;
        if !audience.is_empty() {
            self.events.publish_live(LiveEvent::Presence {
                user_id: user,
                online,
                audience,
            });
        }
        Ok(())
    }

    /// Whether some instance holds a fresh connection of `user`.
    async fn online(&self, user: UserId) -> Result<bool, StoreError> {
        let since = self.clock.now() - TimeDelta::seconds(PRESENCE_STALE_SECS);
        self.presence.online_since(user, since).await
    }
}

/// Who hears about `user` coming online or going offline: the users they share a conversation
/// with and have no block with; nobody while `user` hides their presence.
pub(crate) async fn audience<D: People + PresenceSettings>(
    directory: &D,
    user: UserId,
) -> Result<Vec<UserId>, StoreError> {
    if directory.presence_hidden(user).await? {
        return Ok(Vec::new());
    }
    directory.conversation_partners(user).await
}

/// Whether the actor may learn `target`'s presence: only a conversation partner with no block
/// between them, and only while `target` shows it. `Ok(false)` means "shows as offline"
/// (hidden); anyone else gets [`LiveError::NotFound`].
pub(crate) async fn visible<D: People + PresenceSettings>(
    directory: &D,
    actor: &Actor,
    target: UserId,
) -> Result<bool, LiveError> {
    if target == actor.user_id {
        return Ok(true);
    }
    let partners = directory.conversation_partners(actor.user_id).await?;
    if !partners.contains(&target) {
        return Err(LiveError::NotFound);
    }
    Ok(!directory.presence_hidden(target).await?)
}
