// The core of the queries shared by both backends, written once against the shared schema: the
// imports, row types and helpers every aggregate uses, the `Db` pool, and the audit chain's
// writer. This file and one file per aggregate (`message_queries.rs`, `listing_queries.rs`,
// `report_queries.rs`, `user_queries.rs`, `admin_queries.rs`, `people_queries.rs`,
// `account_queries.rs`, `session_queries.rs`, `ticket_queries.rs`, `stream_queries.rs`,
// `presence_queries.rs`, `attachment_queries.rs`, `audit_queries.rs`) are included into `pg` and
// `sqlite`. The one name they take from the including module is `Sql`, the backend's
// `crate::dialect::Dialect`: every difference between the backends (locks, timestamps, search,
// announcements) is an item of that trait, reached as `Sql::...`. Each aggregate implements its
// domain port on `Db` inside `port! { ... }`, which also derives `Store`'s dispatch of the port
// (once, from the PostgreSQL module; see `dispatch.rs`).
//
// Lock order. On PostgreSQL, every transaction that changes more than one row takes its row locks
// in one global order, so that two transactions can wait for each other but never in a circle:
//   1. thread rows (`conversation_members`), by user id then conversation id, through
//      `lock_members` before anything else is written;
//   2. message rows (the one a change is about, or a reader's unread ones);
//   3. stream entries being redacted, by user id then number;
//   4. the actor's audit chain (an advisory lock, one actor per transaction, in `insert_audit`);
//   5. stream heads (`event_heads`), by user id, in `append_events`, last.
// A new attachment's row and its pending upload are written late in their message's transaction:
// no other transaction can see the new row before it commits, and a pending upload is otherwise
// locked only by one-statement sweeps that hold nothing else, so neither can close a circle.
// Account changes lock the user's row first, so two of them for one user queue there; the
// statements that then write several of a user's sessions, refresh tokens or tickets (or one
// family's tokens) visit them through indexes that order equal keys by heap position, so any two
// meet in the same order. The sweeps of expired tickets and old stream entries skip rows another
// transaction holds: they never wait, so they can close no circle.
// Taking the thread rows first also makes them the gate for a conversation's counters: a change
// that reads messages to decide an unread count or a thread's newest message holds the rows it
// will write, so no send can slip a message in between its read and its write.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::{AsyncConnection, RunQueryDsl};
use messaging_domain::accounts::{AccountStatus, NewAccount, SessionKey, TicketRecord};
use messaging_domain::audit::AuditRecord;
use messaging_domain::event::{
    Change, DomainEvent, EventPlan, Outgoing, Recorded, Replay, StreamEvent, StreamSeq,
};
use messaging_domain::message::{
    Conversation, ConversationId, Deletion, HistoryRequest, HistorySlice, Message, MessageId,
    NewMessage, NewReport, Report, SearchResults, ThreadSummary, UnreadCounts,
};
use messaging_domain::ports::{
    AccountChanges, AccountStatuses, Administration, AuditLog, AuditTrail, Blocks, Credentials,
    EventLog, MessageQueries, Messages, People, PresenceSettings, PresenceStatus, RefreshOutcome,
    RefreshTokenRecord, Reports, SessionRecord, Sessions, Tickets,
};
use messaging_domain::text::{Page, PageSize, SearchQuery, message_words};
use messaging_domain::user::{
    BlockState, Booking, BookingId, BookingState, CareAssignment, Role, User, UserId,
};
use messaging_domain::StoreError;

use crate::dialect::Dialect;
use crate::error::DbError;

/// The backend's async connection.
type Conn = <Sql as Dialect>::Conn;
use schema::{
    audit_log, blocks, bookings, care_assignments, conversation_members as members,
    conversations, event_heads, message_deliveries, message_writes, messages, presence_connections,
    presence_instances, presence_settings,
    refresh_tokens, reports, sessions, user_events, users, ws_tickets,
};

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

/// Messages `$user` can see: a party, not deleted for everyone, not deleted by themselves.
macro_rules! visible_to {
    ($user:expr) => {
        messages::deleted_for_everyone_at.is_null().and(
            messages::sender_id
                .eq($user)
                .and(messages::deleted_by_sender.eq(false))
                .or(messages::recipient_id
                    .eq($user)
                    .and(messages::deleted_by_recipient.eq(false))),
        )
    };
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
struct UserRow {
    id: i64,
    username: String,
    email: String,
    password_hash: String,
    first_name: String,
    last_name: String,
    role: String,
    is_active: bool,
    #[allow(dead_code)]
    created_at: DateTime<Utc>,
}

impl UserRow {
    fn into_user(self) -> Result<(User, String), DbError> {
        let role = Role::parse(&self.role).ok_or(DbError::Corrupt("users.role"))?;
        Ok((
            User {
                id: UserId(self.id),
                username: self.username,
                email: self.email,
                first_name: self.first_name,
                last_name: self.last_name,
                role,
                is_active: self.is_active,
            },
            self.password_hash,
        ))
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = bookings)]
struct BookingRow {
    id: i64,
    student_id: i64,
    tutor_id: i64,
    state: String,
    created_at: DateTime<Utc>,
}

impl BookingRow {
    fn into_booking(self) -> Result<Booking, DbError> {
        Ok(Booking {
            id: BookingId(self.id),
            student_id: UserId(self.student_id),
            tutor_id: UserId(self.tutor_id),
            state: BookingState::parse(&self.state).ok_or(DbError::Corrupt("bookings.state"))?,
            created_at: self.created_at,
        })
    }
}

#[derive(Queryable, Selectable, QueryableByName)]
#[diesel(table_name = messages)]
pub(crate) struct MessageRow {
    id: i64,
    conversation_id: i64,
    sender_id: i64,
    recipient_id: i64,
    booking_id: Option<i64>,
    subject: Option<String>,
    body: String,
    parent_id: Option<i64>,
    created_at: DateTime<Utc>,
    read_at: Option<DateTime<Utc>>,
    edited_at: Option<DateTime<Utc>>,
    deleted_by_sender: bool,
    deleted_by_recipient: bool,
    deleted_for_everyone_at: Option<DateTime<Utc>>,
    deleted_at: Option<DateTime<Utc>>,
}

impl From<MessageRow> for Message {
    fn from(row: MessageRow) -> Self {
        Message {
            id: MessageId(row.id),
            conversation_id: ConversationId(row.conversation_id),
            sender_id: UserId(row.sender_id),
            recipient_id: UserId(row.recipient_id),
            booking_id: row.booking_id.map(BookingId),
            subject: row.subject,
            body: row.body,
            parent_id: row.parent_id.map(MessageId),
            created_at: row.created_at,
            read_at: row.read_at,
            edited_at: row.edited_at,
            deleted_by_sender: row.deleted_by_sender,
            deleted_by_recipient: row.deleted_by_recipient,
            deleted_for_everyone_at: row.deleted_for_everyone_at,
            deleted_at: row.deleted_at,
        }
    }
}

/// Applies pending migrations on `conn`. diesel's harness blocks, so it runs on the blocking pool.
async fn run_migrations(
    conn: Conn,
    migrations: diesel_migrations::EmbeddedMigrations,
) -> Result<(), StoreError> {
    use diesel_migrations::MigrationHarness;
    tokio::task::spawn_blocking(move || {
        let mut harness = diesel_async::AsyncMigrationHarness::new(conn);
        harness
            .run_pending_migrations(migrations)
            .map(|_| ())
            .map_err(StoreError::Backend)
    })
    .await
    .map_err(StoreError::backend)?
}

/// One backend's connection pool and the queries over it.
#[derive(Clone)]
pub struct Db {
    pool: Pool<Conn>,
    /// This process's store instance, named in its change announcements (see `notify_appended`).
    origin: std::sync::Arc<str>,
    /// New messages waiting to be committed together (the backend's `SendQueue`; SQLite, which
    /// commits each on its own, never reads it).
    #[allow(dead_code)]
    sends: std::sync::Arc<SendQueue>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("pool", &self.pool.status())
            .finish()
    }
}

fn ordered(a: UserId, b: UserId) -> (i64, i64) {
    if a.0 < b.0 { (a.0, b.0) } else { (b.0, a.0) }
}

/// Appends an entry to the audit chain. Must run inside the caller's transaction: the chain lock
/// taken here is held until that transaction ends, and the entry stands or falls with the change
/// it records.
async fn insert_audit(conn: &mut Conn, record: &AuditRecord) -> Result<(), DbError> {
    use chrono::SubsecRound;
    // Without the lock, two transactions could read the same last hash and fork the actor's
    // chain. Each actor has a chain (and a lock) of its own, so different users never queue.
    let actor = record.actor.map(|a| a.0);
    Sql::lock_audit_chain(conn, actor).await?;
    let prev_hash = last_audit_hash(conn, actor).await?;
    // Both databases keep microseconds: storing what was hashed keeps the hash recomputable.
    let at = record.at.trunc_subsecs(6);
    let action = record.action.as_str();
    let hash = crate::audit::ChainedFields {
        actor_id: record.actor.map(|a| a.0),
        action,
        object_type: record.object_type,
        object_id: record.object_id,
        client_addr: record.client_addr.as_deref(),
        at,
    }
    .hash(&prev_hash);
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::actor_id.eq(record.actor.map(|a| a.0)),
            audit_log::action.eq(action),
            audit_log::object_type.eq(record.object_type),
            audit_log::object_id.eq(record.object_id),
            audit_log::client_addr.eq(record.client_addr.as_deref()),
            audit_log::at.eq(at),
            audit_log::prev_hash.eq(&prev_hash),
            audit_log::hash.eq(&hash),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Announces appended stream entries to the other instances (see `Dialect::notify_appended`).
async fn notify_appended(
    conn: &mut Conn,
    origin: &str,
    appended: &[StreamEvent],
) -> Result<(), DbError> {
    Sql::notify_appended(conn, origin, appended).await
}

/// The hash the next entry links to: the newest entry's, or the genesis value when there is none
/// (or the newest predates the chain).
async fn last_audit_hash(conn: &mut Conn, actor: Option<i64>) -> Result<String, DbError> {
    let query = audit_log::table.into_boxed();
    let query = match actor {
        Some(id) => query.filter(audit_log::actor_id.eq(id)),
        None => query.filter(audit_log::actor_id.is_null()),
    };
    let last: Option<Option<String>> = query
        .order(audit_log::id.desc())
        .select(audit_log::hash)
        .first(conn)
        .await
        .optional()?;
    Ok(last
        .flatten()
        .unwrap_or_else(|| crate::audit::GENESIS_HASH.to_owned()))
}

impl Db {
    pub fn new(pool: Pool<Conn>, origin: std::sync::Arc<str>) -> Self {
        Self {
            pool,
            origin,
            sends: std::sync::Arc::default(),
        }
    }

    async fn conn(&self) -> Result<Object<Conn>, StoreError> {
        self.pool.get().await.map_err(crate::error::pool_error)
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        diesel::sql_query("SELECT 1")
            .execute(&mut *conn)
            .await
            .map_err(DbError::from)?;
        Ok(())
    }

    pub async fn merge_search_backlog(&self) -> Result<u64, StoreError> {
        let mut conn = self.conn().await?;
        Ok(Sql::merge_search_backlog(&mut conn).await?)
    }

    /// Gives messages stored before `search_words` existed their words (see the migration
    /// `search_words`), a batch at a time; returns how many it filled. Nothing to do is one
    /// lookup in an empty index.
    pub async fn fill_search_words(&self) -> Result<u64, StoreError> {
        let mut conn = self.conn().await?;
        let mut filled = 0;
        loop {
            let batch: Vec<(i64, Option<String>, String)> = message_writes::table
                .filter(message_writes::search_words.is_null())
                .order(message_writes::id)
                .select((
                    message_writes::id,
                    message_writes::subject,
                    message_writes::body,
                ))
                .limit(500)
                .load(&mut *conn)
                .await
                .map_err(DbError::from)?;
            if batch.is_empty() {
                return Ok(filled);
            }
            filled += conn
                .transaction::<_, DbError, _>(async move |conn| {
                    let mut n = 0;
                    for (id, subject, body) in batch {
                        n += diesel::update(message_writes::table.find(id))
                            .set(
                                message_writes::search_words
                                    .eq(message_words(subject.as_deref(), &body)),
                            )
                            .execute(conn)
                            .await?;
                    }
                    Ok(n as u64)
                })
                .await?;
        }
    }

    /// Runs each step on one connection, in order, and says how long each took.
    pub async fn run_steps(
        &self,
        steps: &[(&'static str, String)],
    ) -> Result<Vec<(&'static str, std::time::Duration)>, StoreError> {
        use diesel_async::SimpleAsyncConnection;
        let mut conn = self.conn().await?;
        let mut timings = Vec::with_capacity(steps.len());
        for (name, sql) in steps {
            let started = std::time::Instant::now();
            if let Err(err) = conn.batch_execute(sql).await {
                // Leave no open transaction behind on a pooled connection.
                let _ = conn.batch_execute("ROLLBACK").await;
                return Err(DbError::from(err).into());
            }
            timings.push((*name, started.elapsed()));
        }
        Ok(timings)
    }

    pub async fn bulk_report(&self) -> Result<crate::bulk::BulkReport, StoreError> {
        let mut conn = self.conn().await?;
        let first = users::table
            .filter(users::username.eq("bulk1"))
            .select(users::id)
            .first::<i64>(&mut *conn)
            .await
            .map_err(DbError::from)?;
        let conversations = conversations::table
            .count()
            .get_result::<i64>(&mut *conn)
            .await
            .map_err(DbError::from)?;
        Ok(crate::bulk::BulkReport {
            first_user_id: first,
            conversations,
            phases: String::new(),
        })
    }

    pub async fn message_count(&self) -> Result<i64, StoreError> {
        let mut conn = self.conn().await?;
        Ok(messages::table
            .count()
            .get_result::<i64>(&mut *conn)
            .await
            .map_err(DbError::from)?)
    }
}
