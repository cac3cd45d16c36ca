//! What differs between the two backends, as one trait the compiler checks. The queries are
//! written once (`shared/*.rs`) and included into `pg` and `sqlite`; each of those defines its
//! `Sql` type and implements [`Dialect`] for it, and the shared text reaches every
//! backend-specific item through that implementation (`Sql::lock_members(...)`, `Conn`), besides
//! `Ts`, the timestamp type by name for the schema (see [`Dialect::Ts`]). A backend that leaves an
//! item out does not compile.
//!
//! Why included text rather than one implementation generic over the backend: diesel-async's
//! query builders, `RunQueryDsl` and transactions carry the backend in every bound, so a query
//! written generically needs a `where` clause per statement naming the backend's
//! `QueryFragment`, `LoadQuery` and `HasSqlType` impls (dozens per function), and the two
//! backends' connections share no `MultiConnection`. Compiling one text twice keeps the queries
//! as plain diesel while the trait below states, and checks, everything the two do differently:
//! locking, timestamps, full-text search and change announcements.

use chrono::{DateTime, Utc};
use messaging_domain::event::StreamEvent;
use messaging_domain::message::{Message, SearchResults};
use messaging_domain::text::{Page, SearchQuery};
use messaging_domain::user::UserId;

use crate::error::DbError;

/// One backend's differences. Every function runs on the caller's connection, inside the
/// caller's transaction where it says so.
pub(crate) trait Dialect {
    /// The async connection.
    type Conn: diesel_async::AsyncConnection + Send + 'static;
    /// The SQL type of a timestamp with time zone (`Timestamptz`, or SQLite's text form). The
    /// backend module also names it `Ts` for the shared schema: diesel's `table!` needs a plain
    /// type there (its generated impls do not accept a projection through this trait), and the
    /// impl sets this item to that name, so the two cannot differ.
    type Ts;

    /// Serializes appends to one actor's audit chain until the caller's transaction ends (see
    /// `insert_audit`).
    async fn lock_audit_chain(conn: &mut Self::Conn, actor: Option<i64>) -> Result<(), DbError>;

    /// Locks the thread rows of `users` in `conversations` for the rest of the caller's
    /// transaction, in (user id, conversation id) order whatever order they are named in: the
    /// first step of the lock order (see `db.rs`).
    async fn lock_members(
        conn: &mut Self::Conn,
        conversations: &[i64],
        users: &[i64],
    ) -> Result<(), DbError>;

    /// Locks a message's row for the rest of the caller's transaction, so that what is read of
    /// it next is what the transaction changes. Taken after the thread rows.
    async fn lock_message(conn: &mut Self::Conn, id: i64) -> Result<(), DbError>;

    /// Deletes stream entries appended before `before` without waiting on rows another
    /// transaction holds; returns how many went.
    async fn delete_events_before(
        conn: &mut Self::Conn,
        before: DateTime<Utc>,
    ) -> Result<usize, DbError>;

    /// Deletes expired WebSocket tickets without waiting on rows another transaction holds.
    async fn delete_expired_tickets(
        conn: &mut Self::Conn,
        now: DateTime<Utc>,
    ) -> Result<(), DbError>;

    /// Records that `instance` is alive as of `at` (its one `presence_instances` row) and that
    /// it holds sockets of the users `ids` (each named once): their `presence_connections` rows
    /// are inserted where missing and left alone where present, so a heartbeat naming every
    /// user the instance holds writes one row, not one per user.
    async fn touch_presence(
        conn: &mut Self::Conn,
        instance: &str,
        ids: &[i64],
        at: DateTime<Utc>,
    ) -> Result<(), DbError>;

    /// Moves the entries the word index keeps aside for later (PostgreSQL's GIN pending list)
    /// into the index itself; returns how many pages of them it moved (0 where there is no such
    /// list). See `Store::merge_search_backlog`.
    async fn merge_search_backlog(conn: &mut Self::Conn) -> Result<u64, DbError>;

    /// Announces appended stream entries to the other instances when the caller's transaction
    /// commits (nothing to do where one process serves the database).
    async fn notify_appended(
        conn: &mut Self::Conn,
        origin: &str,
        appended: &[StreamEvent],
    ) -> Result<(), DbError>;

    /// Ranked full-text search over the messages `user` can see, by the domain's search words.
    async fn search(
        conn: &mut Self::Conn,
        user: UserId,
        query: &SearchQuery,
        page: Page,
    ) -> Result<SearchResults<Message>, DbError>;
}
