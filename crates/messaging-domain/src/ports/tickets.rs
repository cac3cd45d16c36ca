//! WebSocket tickets: short-lived, single-use credentials a browser opens its socket with.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::accounts::TicketRecord;
use crate::error::StoreError;

/// WebSocket tickets, stored by hash only.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Tickets: Send + Sync + 'static {
    /// Stores a WebSocket ticket (by hash).
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn insert_ws_ticket(&self, ticket: TicketRecord) -> Result<(), StoreError>;

    /// Redeems a ticket by hash at `now`, once: the first caller gets it, any later one (or one
    /// after its expiry) `None`, even when two redeem it at the same time.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn redeem_ws_ticket(
        &self,
        ticket_hash: String,
        now: DateTime<Utc>,
    ) -> Result<Option<TicketRecord>, StoreError>;
}
