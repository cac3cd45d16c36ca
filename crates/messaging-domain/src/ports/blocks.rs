//! Blocks between users: who refuses to hear from whom.

use async_trait::async_trait;

use crate::audit::AuditRecord;
use crate::error::StoreError;
use crate::user::{BlockState, User, UserId};

/// Blocks between users.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Blocks: Send + Sync + 'static {
    /// Who has blocked whom between `first` and `second`.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn blocks_between(&self, first: UserId, second: UserId)
    -> Result<BlockState, StoreError>;

    /// The users `first` and `second` (those that exist, in no particular order) and the blocks
    /// between them, read together: every send needs both, and a SQL store answers in one
    /// statement. Equal to [`People::users`](super::People::users) of the two and
    /// [`Blocks::blocks_between`] read at one moment.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn users_and_blocks(
        &self,
        first: UserId,
        second: UserId,
    ) -> Result<(Vec<User>, BlockState), StoreError>;

    /// Records (`on = true`) or lifts a block by `blocker` on `blocked`, with its audit record
    /// (written only when something changed); returns whether anything changed.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn set_block(
        &self,
        blocker: UserId,
        blocked: UserId,
        on: bool,
        audit: AuditRecord,
    ) -> Result<bool, StoreError>;
}
