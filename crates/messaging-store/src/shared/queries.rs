// Queries shared by both backends, written once against the shared schema. This file is included
// into `pg` and `sqlite`; each defines `Conn` (its async connection), `Be` (its diesel backend) and
// `Ts` (its timestamp type). Only full-text search differs and lives in each backend's module.
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
    NewMessage, NewReport, Report, ThreadSummary, UnreadCounts,
};
use messaging_domain::ports::{RefreshOutcome, RefreshTokenRecord, SessionRecord};
use messaging_domain::text::{Page, PageSize, message_words};
use messaging_domain::user::{
    BlockState, Booking, BookingId, BookingState, CareAssignment, Role, User, UserId,
};
use messaging_domain::StoreError;

use crate::error::DbError;
use schema::{
    audit_log, blocks, bookings, care_assignments, conversation_members as members,
    conversations, event_heads, message_deliveries, message_writes, messages, presence_connections,
    presence_settings,
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

#[derive(Queryable, Selectable)]
#[diesel(table_name = conversations)]
struct ConversationRow {
    id: i64,
    user_low: i64,
    user_high: i64,
    booking_id: Option<i64>,
    started_by: i64,
    created_at: DateTime<Utc>,
}

impl From<ConversationRow> for Conversation {
    fn from(row: ConversationRow) -> Self {
        Conversation {
            id: ConversationId(row.id),
            user_low: UserId(row.user_low),
            user_high: UserId(row.user_high),
            booking_id: row.booking_id.map(BookingId),
            started_by: UserId(row.started_by),
            created_at: row.created_at,
        }
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

/// A session row: id hash, user, created, last seen, revoked.
type SessionRow = (String, i64, DateTime<Utc>, DateTime<Utc>, Option<DateTime<Utc>>);

/// A search hit with the number of hits in all.
#[derive(QueryableByName)]
struct SearchRow {
    #[diesel(embed)]
    message: MessageRow,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    total: i64,
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

#[derive(Queryable, Selectable)]
#[diesel(table_name = reports)]
struct ReportRow {
    id: i64,
    reporter_id: i64,
    message_id: i64,
    reason: String,
    created_at: DateTime<Utc>,
}

impl From<ReportRow> for Report {
    fn from(row: ReportRow) -> Self {
        Report {
            id: row.id,
            reporter_id: UserId(row.reporter_id),
            message_id: MessageId(row.message_id),
            reason: row.reason,
            created_at: row.created_at,
        }
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
struct RefreshRow {
    user_id: i64,
    family: String,
    expires_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

/// One backend's connection pool and the queries over it.
#[derive(Clone)]
pub struct Db {
    pool: Pool<Conn>,
    /// This process's store instance, named in its change announcements (see `notify_appended`).
    origin: std::sync::Arc<str>,
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
    lock_audit_chain(conn, actor).await?;
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

async fn find_conversation(
    conn: &mut Conn,
    low: i64,
    high: i64,
    booking: Option<i64>,
) -> Result<Option<i64>, DbError> {
    let query = conversations::table
        .filter(conversations::user_low.eq(low))
        .filter(conversations::user_high.eq(high))
        .select(conversations::id)
        .into_boxed();
    let query = match booking {
        Some(b) => query.filter(conversations::booking_id.eq(b)),
        None => query.filter(conversations::booking_id.is_null()),
    };
    Ok(query.first::<i64>(conn).await.optional()?)
}

/// Appends the planned events to their users' streams. Must run inside the caller's transaction:
/// each user's head row stays locked until it ends, so numbers are handed out gap-free and in
/// commit order, and a rollback takes the entries and their numbers back. Heads are locked in
/// user-id order whatever the audience order, so two changes crossing cannot deadlock.
async fn append_events(
    conn: &mut Conn,
    origin: &str,
    planned: Vec<Outgoing>,
    at: DateTime<Utc>,
) -> Result<Vec<StreamEvent>, DbError> {
    use chrono::SubsecRound;
    let at = at.trunc_subsecs(6);
    let mut entries: Vec<(UserId, std::sync::Arc<DomainEvent>, std::sync::Arc<String>)> =
        Vec::new();
    for outgoing in planned {
        let payload = crate::stored_event::encode(&outgoing.event)?;
        let (event, payload) = (
            std::sync::Arc::new(outgoing.event),
            std::sync::Arc::new(payload),
        );
        for user in outgoing.audience {
            entries.push((user, event.clone(), payload.clone()));
        }
    }
    entries.sort_by_key(|(user, _, _)| *user);
    let mut appended = Vec::with_capacity(entries.len());
    for (user, event, payload) in entries {
        let seq: i64 = diesel::insert_into(event_heads::table)
            .values((event_heads::user_id.eq(user.0), event_heads::last_seq.eq(1_i64)))
            .on_conflict(event_heads::user_id)
            .do_update()
            .set(event_heads::last_seq.eq(event_heads::last_seq + 1_i64))
            .returning(event_heads::last_seq)
            .get_result(conn)
            .await?;
        diesel::insert_into(user_events::table)
            .values((
                user_events::user_id.eq(user.0),
                user_events::seq.eq(seq),
                user_events::at.eq(at),
                user_events::payload.eq(payload.as_str()),
                user_events::message_id.eq(event.message_id().map(|m| m.0)),
            ))
            .execute(conn)
            .await?;
        appended.push(StreamEvent {
            user_id: user,
            seq: u64::try_from(seq).map_err(|_| DbError::Corrupt("event_heads"))?,
            at,
            event,
        });
    }
    notify_appended(conn, origin, &appended).await?;
    Ok(appended)
}

/// Blanks the body and subject kept in stream entries about a message deleted for everyone, in
/// the delete's transaction: a device that replays its stream later gets the entries (their
/// numbers stay) but not what was said.
async fn redact_stream_entries(conn: &mut Conn, message: i64) -> Result<(), DbError> {
    let rows: Vec<(i64, i64, String)> = user_events::table
        .filter(user_events::message_id.eq(message))
        .order((user_events::user_id, user_events::seq))
        .select((user_events::user_id, user_events::seq, user_events::payload))
        .load(conn)
        .await?;
    for (user, seq, payload) in rows {
        let mut event = crate::stored_event::decode(&payload)?;
        if event.redact() {
            let payload = crate::stored_event::encode(&event)?;
            diesel::update(user_events::table.find((user, seq)))
                .set(user_events::payload.eq(payload))
                .execute(conn)
                .await?;
        }
    }
    Ok(())
}

async fn load_message(conn: &mut Conn, id: i64) -> Result<MessageRow, DbError> {
    Ok(messages::table
        .find(id)
        .select(MessageRow::as_select())
        .first(conn)
        .await?)
}

/// Points a member's thread row at the newest message they can still see (or at nothing).
async fn refresh_last_message(
    conn: &mut Conn,
    conversation: i64,
    user: i64,
) -> Result<(), DbError> {
    let last: Option<(i64, DateTime<Utc>)> = messages::table
        .filter(messages::conversation_id.eq(conversation))
        .filter(visible_to!(user))
        .order(messages::id.desc())
        .select((messages::id, messages::created_at))
        .first(conn)
        .await
        .optional()?;
    diesel::update(
        members::table
            .filter(members::conversation_id.eq(conversation))
            .filter(members::user_id.eq(user)),
    )
    .set((
        members::last_message_id.eq(last.map(|l| l.0)),
        members::last_message_at.eq(last.map(|l| l.1)),
    ))
    .execute(conn)
    .await?;
    Ok(())
}

async fn decrement_unread(conn: &mut Conn, conversation: i64, user: i64) -> Result<(), DbError> {
    diesel::update(
        members::table
            .filter(members::conversation_id.eq(conversation))
            .filter(members::user_id.eq(user))
            .filter(members::unread_count.gt(0)),
    )
    .set(members::unread_count.eq(members::unread_count - 1))
    .execute(conn)
    .await?;
    Ok(())
}

async fn member_conversations(
    conn: &mut Conn,
    user: i64,
    other: i64,
    booking: Option<BookingId>,
) -> Result<Vec<i64>, DbError> {
    let query = members::table
        .filter(members::user_id.eq(user))
        .filter(members::other_user_id.eq(other))
        .select(members::conversation_id)
        .into_boxed();
    let query = match booking {
        Some(b) => query.filter(members::booking_id.eq(b.0)),
        None => query,
    };
    Ok(query.load(conn).await?)
}

/// Stores a new message in its conversation (created when missing), updates both members' thread
/// rows and writes the audit record. Must run inside the caller's transaction.
async fn insert_message_in(
    conn: &mut Conn,
    new: &NewMessage,
    audit: AuditRecord,
) -> Result<MessageRow, DbError> {
    let (low, high) = ordered(new.sender_id, new.recipient_id);
    let booking = new.booking_id.map(|b| b.0);
    let conversation = match find_conversation(conn, low, high, booking).await? {
        Some(id) => id,
        None => {
            // A concurrent first message may create the same conversation; the
            // unique index decides, and whoever created it adds its members.
            let created = diesel::insert_into(conversations::table)
                .values((
                    conversations::user_low.eq(low),
                    conversations::user_high.eq(high),
                    conversations::booking_id.eq(booking),
                    conversations::started_by.eq(new.sender_id.0),
                    conversations::created_at.eq(new.created_at),
                ))
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
            let id = find_conversation(conn, low, high, booking)
                .await?
                .ok_or(DbError::Corrupt("conversations"))?;
            if created == 1 {
                for (member, other) in [
                    (new.sender_id.0, new.recipient_id.0),
                    (new.recipient_id.0, new.sender_id.0),
                ] {
                    diesel::insert_into(members::table)
                        .values((
                            members::conversation_id.eq(id),
                            members::user_id.eq(member),
                            members::other_user_id.eq(other),
                            members::booking_id.eq(booking),
                            members::unread_count.eq(0),
                        ))
                        .execute(conn)
                        .await?;
                }
            }
            id
        }
    };
    lock_members(conn, &[conversation], &[new.sender_id.0, new.recipient_id.0]).await?;
    let id: i64 = diesel::insert_into(message_writes::table)
        .values((
            message_writes::conversation_id.eq(conversation),
            message_writes::sender_id.eq(new.sender_id.0),
            message_writes::recipient_id.eq(new.recipient_id.0),
            message_writes::booking_id.eq(booking),
            message_writes::subject.eq(new.subject.as_deref()),
            message_writes::body.eq(&new.body),
            message_writes::search_words.eq(message_words(new.subject.as_deref(), &new.body)),
            message_writes::parent_id.eq(new.parent_id.map(|p| p.0)),
            message_writes::client_message_id.eq(new.client_message_id.as_deref()),
            message_writes::created_at.eq(new.created_at),
            message_writes::deleted_by_sender.eq(false),
            message_writes::deleted_by_recipient.eq(false),
        ))
        .returning(message_writes::id)
        .get_result(conn)
        .await?;
    let row: MessageRow = messages::table
        .find(id)
        .select(MessageRow::as_select())
        .get_result(conn)
        .await?;
    // Both members' rows in one statement; `lock_members` holds them already.
    diesel::update(
        members::table
            .filter(members::user_id.eq_any([new.sender_id.0, new.recipient_id.0]))
            .filter(members::conversation_id.eq(conversation)),
    )
    .set((
        members::last_message_id.eq(Some(row.id)),
        members::last_message_at.eq(Some(new.created_at)),
        members::unread_count.eq(members::unread_count
            + diesel::dsl::case_when(
                members::user_id.eq(new.recipient_id.0),
                1.into_sql::<diesel::sql_types::Integer>(),
            )
            .otherwise(0.into_sql::<diesel::sql_types::Integer>())),
    ))
    .execute(conn)
    .await?;
    let mut audit = audit;
    audit.object_id = Some(row.id);
    insert_audit(conn, &audit).await?;
    Ok(row)
}

impl Db {
    pub fn new(pool: Pool<Conn>, origin: std::sync::Arc<str>) -> Self {
        Self { pool, origin }
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

    // ----- Directory -----

    pub async fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        let mut conn = self.conn().await?;
        let row = users::table
            .find(id.0)
            .select(UserRow::as_select())
            .first(&mut *conn)
            .await
            .optional()
            .map_err(DbError::from)?;
        Ok(row.map(UserRow::into_user).transpose()?.map(|(u, _)| u))
    }

    pub async fn credentials(&self, username: &str) -> Result<Option<(User, String)>, StoreError> {
        let mut conn = self.conn().await?;
        let row = users::table
            .filter(lower(users::username).eq(username.to_lowercase()))
            .select(UserRow::as_select())
            .first(&mut *conn)
            .await
            .optional()
            .map_err(DbError::from)?;
        Ok(row.map(UserRow::into_user).transpose()?)
    }

    pub async fn credentials_by_id(&self, id: UserId) -> Result<Option<(User, String)>, StoreError> {
        let mut conn = self.conn().await?;
        let row = users::table
            .find(id.0)
            .select(UserRow::as_select())
            .first(&mut *conn)
            .await
            .optional()
            .map_err(DbError::from)?;
        Ok(row.map(UserRow::into_user).transpose()?)
    }

    pub async fn account_status(&self, id: UserId) -> Result<Option<AccountStatus>, StoreError> {
        let mut conn = self.conn().await?;
        let row: Option<(String, bool, i64)> = users::table
            .find(id.0)
            .select((users::role, users::is_active, users::credential_version))
            .first(&mut *conn)
            .await
            .optional()
            .map_err(DbError::from)?;
        row.map(|(role, active, credential_version)| {
            Ok(AccountStatus {
                role: Role::parse(&role).ok_or(DbError::Corrupt("users.role"))?,
                active,
                credential_version,
            })
        })
        .transpose()
        .map_err(|e: DbError| e.into())
    }

    /// Replaces a password hash; every other credential of the user stops working (see
    /// [`messaging_domain::ports::Accounts::set_password`]).
    pub async fn set_password(
        &self,
        user: UserId,
        password_hash: String,
        keep: Option<SessionKey>,
        now: DateTime<Utc>,
        audit: AuditRecord,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        conn.transaction::<_, DbError, _>(async move |conn| {
            let changed = diesel::update(users::table.find(user.0))
                .set((
                    users::password_hash.eq(&password_hash),
                    users::credential_version.eq(users::credential_version + 1),
                ))
                .execute(conn)
                .await?;
            if changed == 0 {
                return Err(DbError::Domain(StoreError::NotFound));
            }
            revoke_credentials(conn, user, keep.as_ref(), now).await?;
            insert_audit(conn, &audit).await?;
            Ok(())
        })
        .await?;
        Ok(())
    }

    pub async fn user_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        Ok(self.credentials(username).await?.map(|(u, _)| u))
    }

    pub async fn users(&self, ids: Vec<UserId>) -> Result<Vec<User>, StoreError> {
        let mut conn = self.conn().await?;
        let ids: Vec<i64> = ids.into_iter().map(|id| id.0).collect();
        let rows = users::table
            .filter(users::id.eq_any(ids))
            .select(UserRow::as_select())
            .load(&mut *conn)
            .await
            .map_err(DbError::from)?;
        Ok(rows
            .into_iter()
            .map(|r| r.into_user().map(|(u, _)| u))
            .collect::<Result<_, _>>()?)
    }

    pub async fn booking(&self, id: BookingId) -> Result<Option<Booking>, StoreError> {
        let mut conn = self.conn().await?;
        let row = bookings::table
            .find(id.0)
            .select(BookingRow::as_select())
            .first(&mut *conn)
            .await
            .optional()
            .map_err(DbError::from)?;
        Ok(row.map(BookingRow::into_booking).transpose()?)
    }

    pub async fn bookings_between(&self, a: UserId, b: UserId) -> Result<Vec<Booking>, StoreError> {
        let mut conn = self.conn().await?;
        let rows = bookings::table
            .filter(
                bookings::student_id
                    .eq(a.0)
                    .and(bookings::tutor_id.eq(b.0))
                    .or(bookings::student_id.eq(b.0).and(bookings::tutor_id.eq(a.0))),
            )
            .select(BookingRow::as_select())
            .load(&mut *conn)
            .await
            .map_err(DbError::from)?;
        Ok(rows
            .into_iter()
            .map(BookingRow::into_booking)
            .collect::<Result<_, _>>()?)
    }

    pub async fn care_assignment(
        &self,
        clinician: UserId,
        patient: UserId,
    ) -> Result<CareAssignment, StoreError> {
        let mut conn = self.conn().await?;
        let found = care_assignments::table
            .filter(care_assignments::clinician_id.eq(clinician.0))
            .filter(care_assignments::patient_id.eq(patient.0))
            .select(care_assignments::ended_at)
            .first::<Option<DateTime<Utc>>>(&mut *conn)
            .await
            .optional()
            .map_err(DbError::from)?;
        Ok(match found {
            None => CareAssignment::Never,
            Some(None) => CareAssignment::Current,
            Some(Some(_)) => CareAssignment::Former,
        })
    }

    pub async fn blocks_between(
        &self,
        first: UserId,
        second: UserId,
    ) -> Result<BlockState, StoreError> {
        let mut conn = self.conn().await?;
        let rows: Vec<(i64, i64)> = blocks::table
            .filter(
                blocks::blocker_id
                    .eq(first.0)
                    .and(blocks::blocked_id.eq(second.0))
                    .or(blocks::blocker_id.eq(second.0).and(blocks::blocked_id.eq(first.0))),
            )
            .select((blocks::blocker_id, blocks::blocked_id))
            .load(&mut *conn)
            .await
            .map_err(DbError::from)?;
        Ok(BlockState {
            first_blocked_second: rows.iter().any(|r| r.0 == first.0),
            second_blocked_first: rows.iter().any(|r| r.0 == second.0),
        })
    }

    // ----- Accounts -----

    pub async fn create_account(
        &self,
        account: NewAccount,
        audit: AuditRecord,
        now: DateTime<Utc>,
    ) -> Result<User, StoreError> {
        let mut conn = self.conn().await?;
        let user = conn
            .transaction::<_, DbError, _>(async move |conn| {
                    let row = diesel::insert_into(users::table)
                        .values((
                            users::username.eq(account.username.as_str()),
                            users::email.eq(account.email.as_str()),
                            users::password_hash.eq(&account.password_hash),
                            users::first_name.eq(&account.first_name),
                            users::last_name.eq(&account.last_name),
                            users::role.eq(account.role.as_str()),
                            users::is_active.eq(true),
                            users::created_at.eq(now),
                        ))
                        .returning(UserRow::as_returning())
                        .get_result(conn)
                        .await?;
                    let (user, _) = row.into_user()?;
                    let mut audit = audit;
                    audit.object_id = Some(user.id.0);
                    audit.actor = Some(user.id);
                    insert_audit(conn, &audit).await?;
                    Ok(user)
                })
            .await?;
        Ok(user)
    }

    pub async fn record_audit(&self, record: AuditRecord) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        // A lone entry still needs a transaction: the chain lock lasts as long as one.
        conn.transaction::<_, DbError, _>(async move |conn| insert_audit(conn, &record).await)
            .await?;
        Ok(())
    }

    pub async fn insert_refresh_token(&self, token: RefreshTokenRecord) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        diesel::insert_into(refresh_tokens::table)
            .values((
                refresh_tokens::token_hash.eq(&token.token_hash),
                refresh_tokens::user_id.eq(token.user_id.0),
                refresh_tokens::family.eq(&token.family),
                refresh_tokens::issued_at.eq(token.issued_at),
                refresh_tokens::expires_at.eq(token.expires_at),
            ))
            .execute(&mut *conn)
            .await
            .map_err(DbError::from)?;
        Ok(())
    }

    pub async fn consume_refresh_token(
        &self,
        token_hash: String,
        now: DateTime<Utc>,
    ) -> Result<RefreshOutcome, StoreError> {
        let mut conn = self.conn().await?;
        let outcome = conn
            .transaction::<_, DbError, _>(async move |conn| {
                    let Some(row) = refresh_tokens::table
                        .find(&token_hash)
                        .select(RefreshRow::as_select())
                        .first(conn)
                        .await
                        .optional()?
                    else {
                        return Ok(RefreshOutcome::Invalid);
                    };
                    // A revoked family stays revoked: a token stored in it afterwards (by a
                    // request that won a race against the reuse that revoked it) is refused too.
                    let family_revoked: Option<String> = refresh_tokens::table
                        .filter(refresh_tokens::family.eq(&row.family))
                        .filter(refresh_tokens::revoked_at.is_not_null())
                        .select(refresh_tokens::token_hash)
                        .first(conn)
                        .await
                        .optional()?;
                    if row.revoked_at.is_some() || family_revoked.is_some() {
                        return Ok(RefreshOutcome::Invalid);
                    }
                    if row.used_at.is_some() {
                        // A used token came back: someone holds a copy. Revoke the whole family so
                        // that neither copy works any more.
                        diesel::update(
                            refresh_tokens::table
                                .filter(refresh_tokens::family.eq(&row.family))
                                .filter(refresh_tokens::revoked_at.is_null()),
                        )
                        .set(refresh_tokens::revoked_at.eq(Some(now)))
                        .execute(conn)
                        .await?;
                        return Ok(RefreshOutcome::Reused {
                            user_id: UserId(row.user_id),
                        });
                    }
                    if row.expires_at <= now {
                        return Ok(RefreshOutcome::Invalid);
                    }
                    let marked = diesel::update(
                        refresh_tokens::table
                            .find(&token_hash)
                            .filter(refresh_tokens::used_at.is_null()),
                    )
                    .set(refresh_tokens::used_at.eq(Some(now)))
                    .execute(conn)
                    .await?;
                    if marked == 0 {
                        // Another request used the token between our read and our write: two
                        // uses at once are a reuse like any other.
                        diesel::update(
                            refresh_tokens::table
                                .filter(refresh_tokens::family.eq(&row.family))
                                .filter(refresh_tokens::revoked_at.is_null()),
                        )
                        .set(refresh_tokens::revoked_at.eq(Some(now)))
                        .execute(conn)
                        .await?;
                        return Ok(RefreshOutcome::Reused {
                            user_id: UserId(row.user_id),
                        });
                    }
                    Ok(RefreshOutcome::Valid {
                        user_id: UserId(row.user_id),
                        family: row.family,
                    })
                })
            .await?;
        Ok(outcome)
    }

    pub async fn revoke_refresh_family(
        &self,
        token_hash: String,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut conn = self.conn().await?;
        let family: Option<String> = refresh_tokens::table
            .find(&token_hash)
            .select(refresh_tokens::family)
            .first(&mut *conn)
            .await
            .optional()
            .map_err(DbError::from)?;
        let Some(family) = family else {
            return Ok(false);
        };
        diesel::update(
            refresh_tokens::table
                .filter(refresh_tokens::family.eq(&family))
                .filter(refresh_tokens::revoked_at.is_null()),
        )
        .set(refresh_tokens::revoked_at.eq(Some(now)))
        .execute(&mut *conn)
        .await
        .map_err(DbError::from)?;
        Ok(true)
    }

    pub async fn insert_session(&self, session: SessionRecord) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        diesel::insert_into(sessions::table)
            .values((
                sessions::id_hash.eq(&session.id_hash),
                sessions::user_id.eq(session.user_id.0),
                sessions::created_at.eq(session.created_at),
                sessions::last_seen_at.eq(session.last_seen_at),
            ))
            .execute(&mut *conn)
            .await
            .map_err(DbError::from)?;
        Ok(())
    }

    pub async fn session(&self, id_hash: String) -> Result<Option<SessionRecord>, StoreError> {
        let mut conn = self.conn().await?;
        let row: Option<SessionRow> =
            sessions::table
                .find(&id_hash)
                .select((
                    sessions::id_hash,
                    sessions::user_id,
                    sessions::created_at,
                    sessions::last_seen_at,
                    sessions::revoked_at,
                ))
                .first(&mut *conn)
                .await
                .optional()
                .map_err(DbError::from)?;
        Ok(row.map(|(id_hash, user, created, seen, revoked)| SessionRecord {
            id_hash,
            user_id: UserId(user),
            created_at: created,
            last_seen_at: seen,
            revoked_at: revoked,
        }))
    }

    pub async fn touch_session(&self, id_hash: String, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        diesel::update(sessions::table.find(&id_hash))
            .set(sessions::last_seen_at.eq(now))
            .execute(&mut *conn)
            .await
            .map_err(DbError::from)?;
        Ok(())
    }

    pub async fn revoke_session(&self, id_hash: String, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        diesel::update(sessions::table.find(&id_hash).filter(sessions::revoked_at.is_null()))
            .set(sessions::revoked_at.eq(Some(now)))
            .execute(&mut *conn)
            .await
            .map_err(DbError::from)?;
        Ok(())
    }

    // ----- Messages -----

    pub async fn conversations_between(
        &self,
        a: UserId,
        b: UserId,
    ) -> Result<Vec<Conversation>, StoreError> {
        let (low, high) = ordered(a, b);
        let mut conn = self.conn().await?;
        let rows = conversations::table
            .filter(conversations::user_low.eq(low))
            .filter(conversations::user_high.eq(high))
            .select(ConversationRow::as_select())
            .load(&mut *conn)
            .await
            .map_err(DbError::from)?;
        Ok(rows.into_iter().map(Conversation::from).collect())
    }

    pub async fn insert_message(
        &self,
        new: NewMessage,
        change: Change<Message>,
    ) -> Result<Recorded<Message>, StoreError> {
        let Change { audit, plan } = change;
        let mut conn = self.conn().await?;
        let origin = std::sync::Arc::clone(&self.origin);
        let row = conn
            .transaction::<_, DbError, _>(async move |conn| {
                    let row = insert_message_in(conn, &new, audit).await?;
                    let message = Message::from(row);
                    let events = append_events(conn, &origin, plan(&message), new.created_at).await?;
                    Ok(Recorded { value: message, events })
                })
            .await?;
        Ok(row)
    }

    pub async fn message_by_client_id(
        &self,
        sender: UserId,
        client_message_id: String,
    ) -> Result<Option<Message>, StoreError> {
        let mut conn = self.conn().await?;
        let row = messages::table
            .filter(messages::sender_id.eq(sender.0))
            .filter(messages::client_message_id.eq(client_message_id))
            .select(MessageRow::as_select())
            .first(&mut *conn)
            .await
            .optional()
            .map_err(DbError::from)?;
        Ok(row.map(Message::from))
    }

    pub async fn message(&self, id: MessageId) -> Result<Option<Message>, StoreError> {
        let mut conn = self.conn().await?;
        let row = messages::table
            .find(id.0)
            .select(MessageRow::as_select())
            .first(&mut *conn)
            .await
            .optional()
            .map_err(DbError::from)?;
        Ok(row.map(Message::from))
    }

    pub async fn update_body(
        &self,
        id: MessageId,
        body: String,
        at: DateTime<Utc>,
        change: Change<Message>,
    ) -> Result<Recorded<Message>, StoreError> {
        let Change { audit, plan } = change;
        let mut conn = self.conn().await?;
        let origin = std::sync::Arc::clone(&self.origin);
        let recorded = conn
            .transaction::<_, DbError, _>(async move |conn| {
                    let subject: Option<String> = messages::table
                        .find(id.0)
                        .select(messages::subject)
                        .first(conn)
                        .await?;
                    let words = message_words(subject.as_deref(), &body);
                    diesel::update(message_writes::table.find(id.0))
                        .set((
                            message_writes::body.eq(&body),
                            message_writes::search_words.eq(words),
                            message_writes::edited_at.eq(Some(at)),
                        ))
                        .execute(conn)
                        .await?;
                    let row: MessageRow = messages::table
                        .find(id.0)
                        .select(MessageRow::as_select())
                        .get_result(conn)
                        .await?;
                    insert_audit(conn, &audit).await?;
                    let message = Message::from(row);
                    let events = append_events(conn, &origin, plan(&message), at).await?;
                    Ok(Recorded { value: message, events })
                })
            .await?;
        Ok(recorded)
    }

    pub async fn mark_read(
        &self,
        id: MessageId,
        at: DateTime<Utc>,
        change: Change<Message>,
    ) -> Result<Recorded<Message>, StoreError> {
        let Change { audit, plan } = change;
        let mut conn = self.conn().await?;
        let origin = std::sync::Arc::clone(&self.origin);
        let recorded = conn
            .transaction::<_, DbError, _>(async move |conn| {
                    // The conversation and recipient never change: read unlocked, then take the
                    // recipient's thread row before the message (the lock order).
                    let before = load_message(conn, id.0).await?;
                    lock_members(conn, &[before.conversation_id], &[before.recipient_id]).await?;
                    let changed: Option<MessageRow> = diesel::update(
                        messages::table
                            .find(id.0)
                            .filter(messages::read_at.is_null()),
                    )
                    .set(messages::read_at.eq(Some(at)))
                    .returning(MessageRow::as_returning())
                    .get_result(conn)
                    .await
                    .optional()?;
                    match changed {
                        Some(row) => {
                            if !row.deleted_by_recipient && row.deleted_for_everyone_at.is_none() {
                                decrement_unread(conn, row.conversation_id, row.recipient_id)
                                    .await?;
                            }
                            insert_audit(conn, &audit).await?;
                            let message = Message::from(row);
                            let events = append_events(conn, &origin, plan(&message), at).await?;
                            Ok(Recorded { value: message, events })
                        }
                        // Already read: the first read time stays.
                        None => Ok(Recorded::quiet(load_message(conn, id.0).await?.into())),
                    }
                })
            .await?;
        Ok(recorded)
    }

    pub async fn mark_delivered(
        &self,
        id: MessageId,
        at: DateTime<Utc>,
        plan: EventPlan<Message>,
    ) -> Result<Recorded<bool>, StoreError> {
        let mut conn = self.conn().await?;
        let origin = std::sync::Arc::clone(&self.origin);
        let recorded = conn
            .transaction::<_, DbError, _>(async move |conn| {
                    let message = Message::from(load_message(conn, id.0).await?);
                    let inserted = diesel::insert_into(message_deliveries::table)
                        .values((
                            message_deliveries::message_id.eq(id.0),
                            message_deliveries::delivered_at.eq(at),
                        ))
                        .on_conflict_do_nothing()
                        .execute(conn)
                        .await?;
                    match inserted {
                        1 => {
                            let events = append_events(conn, &origin, plan(&message), at).await?;
                            Ok(Recorded { value: true, events })
                        }
                        _ => {
                            // Delivered before: only the first receipt counts.
                            Ok(Recorded::quiet(false))
                        }
                    }
                })
            .await?;
        Ok(recorded)
    }

    pub async fn mark_thread_read(
        &self,
        reader: UserId,
        other: UserId,
        booking: Option<BookingId>,
        at: DateTime<Utc>,
        change: Change<u64>,
    ) -> Result<Recorded<u64>, StoreError> {
        let Change { audit, plan } = change;
        let mut conn = self.conn().await?;
        let origin = std::sync::Arc::clone(&self.origin);
        let recorded = conn
            .transaction::<_, DbError, _>(async move |conn| {
                    let conversations = member_conversations(conn, reader.0, other.0, booking).await?;
                    if conversations.is_empty() {
                        return Ok(Recorded::quiet(0));
                    }
                    // The reader's thread rows first: a message sent to the reader meanwhile is
                    // then either read here or counted after the count is reset, never lost.
                    lock_members(conn, &conversations, &[reader.0]).await?;
                    let count = diesel::update(
                        messages::table
                            .filter(messages::conversation_id.eq_any(&conversations))
                            .filter(messages::recipient_id.eq(reader.0))
                            .filter(messages::read_at.is_null())
                            .filter(messages::deleted_by_recipient.eq(false))
                            .filter(messages::deleted_for_everyone_at.is_null()),
                    )
                    .set(messages::read_at.eq(Some(at)))
                    .execute(conn)
                    .await?;
                    // Every message the reader could see is now read, so nothing is unread there.
                    diesel::update(
                        members::table
                            .filter(members::user_id.eq(reader.0))
                            .filter(members::conversation_id.eq_any(&conversations)),
                    )
                    .set(members::unread_count.eq(0))
                    .execute(conn)
                    .await?;
                    let count = count as u64;
                    if count == 0 {
                        return Ok(Recorded::quiet(0));
                    }
                    insert_audit(conn, &audit).await?;
                    let events = append_events(conn, &origin, plan(&count), at).await?;
                    Ok(Recorded { value: count, events })
                })
            .await?;
        Ok(recorded)
    }

    pub async fn delete_message(
        &self,
        deletion: Deletion,
        change: Change<Message>,
    ) -> Result<Recorded<Message>, StoreError> {
        let Change { audit, plan } = change;
        let id = deletion.message.0;
        let at = deletion.at;
        let mut conn = self.conn().await?;
        let origin = std::sync::Arc::clone(&self.origin);
        let recorded = conn
            .transaction::<_, DbError, _>(async move |conn| {
                    // The conversation and the parties never change: read unlocked, then take both
                    // parties' thread rows before the message (the lock order).
                    let unlocked = load_message(conn, id).await?;
                    let parties = [unlocked.sender_id, unlocked.recipient_id];
                    lock_members(conn, &[unlocked.conversation_id], &parties).await?;
                    // The domain decides on the message as it stands under the lock, so a delete
                    // by the other party committed meanwhile is built upon, never undone.
                    let current = Message::from(lock_message(conn, id).await?);
                    let deleted = deletion
                        .apply(&current)
                        .ok_or(DbError::Domain(StoreError::NotFound))?;
                    if !deleted.changed() {
                        return Ok(Recorded::quiet(deleted.after));
                    }
                    let after = &deleted.after;
                    diesel::update(messages::table.find(id))
                        .set((
                            messages::deleted_by_sender.eq(after.deleted_by_sender),
                            messages::deleted_by_recipient.eq(after.deleted_by_recipient),
                            messages::deleted_for_everyone_at.eq(after.deleted_for_everyone_at),
                            messages::deleted_at.eq(after.deleted_at),
                        ))
                        .execute(conn)
                        .await?;
                    let conversation = after.conversation_id.0;
                    // The recipient's unread count only counts what they can see.
                    if deleted.unread_lost() {
                        decrement_unread(conn, conversation, after.recipient_id.0).await?;
                    }
                    for party in deleted.hidden_from() {
                        refresh_last_message(conn, conversation, party.0).await?;
                    }
                    if deleted.redacts() {
                        redact_stream_entries(conn, id).await?;
                    }
                    insert_audit(conn, &audit).await?;
                    let message = deleted.after;
                    let events = append_events(conn, &origin, plan(&message), at).await?;
                    Ok(Recorded { value: message, events })
                })
            .await?;
        Ok(recorded)
    }

    pub async fn threads(
        &self,
        user: UserId,
        limit: PageSize,
    ) -> Result<Vec<ThreadSummary>, StoreError> {
        self.thread_page(user, i64::from(limit.get()), 0, false).await
    }

    pub async fn inbox(
        &self,
        user: UserId,
        page: Page,
        unread_only: bool,
    ) -> Result<Vec<ThreadSummary>, StoreError> {
        self.thread_page(user, page.limit(), page.offset(), unread_only)
            .await
    }

    /// One range scan of the member's thread rows, newest activity first, joined to the last
    /// message and the other member.
    async fn thread_page(
        &self,
        user: UserId,
        limit: i64,
        offset: i64,
        unread_only: bool,
    ) -> Result<Vec<ThreadSummary>, StoreError> {
        let mut conn = self.conn().await?;
        let mut query = members::table
            .inner_join(messages::table.on(messages::id.nullable().eq(members::last_message_id)))
            .inner_join(users::table.on(users::id.eq(members::other_user_id)))
            .filter(members::user_id.eq(user.0))
            .filter(members::last_message_id.is_not_null())
            .order(members::last_message_id.desc())
            .limit(limit)
            .offset(offset)
            .select((
                members::conversation_id,
                members::booking_id,
                members::unread_count,
                MessageRow::as_select(),
                UserRow::as_select(),
            ))
            .into_boxed();
        if unread_only {
            query = query.filter(members::unread_count.gt(0));
        }
        let rows: Vec<(i64, Option<i64>, i32, MessageRow, UserRow)> =
            query.load(&mut *conn).await.map_err(DbError::from)?;
        rows.into_iter()
            .map(|(conversation, booking, unread, message, other)| {
                let (other, _) = other.into_user()?;
                Ok(ThreadSummary {
                    conversation_id: ConversationId(conversation),
                    other_user: other.summary(),
                    booking_id: booking.map(BookingId),
                    last_message_id: MessageId(message.id),
                    last_message: message.body,
                    last_subject: message.subject,
                    last_message_at: message.created_at,
                    last_sender_id: UserId(message.sender_id),
                    unread_count: i64::from(unread),
                })
            })
            .collect::<Result<_, DbError>>()
            .map_err(StoreError::from)
    }

    pub async fn insert_report(
        &self,
        report: NewReport,
        audit: AuditRecord,
    ) -> Result<Report, StoreError> {
        let mut conn = self.conn().await?;
        let row = conn
            .transaction::<_, DbError, _>(async move |conn| {
                let row: ReportRow = diesel::insert_into(reports::table)
                    .values((
                        reports::reporter_id.eq(report.reporter_id.0),
                        reports::message_id.eq(report.message_id.0),
                        reports::reason.eq(&report.reason),
                        reports::created_at.eq(report.created_at),
                    ))
                    .returning(ReportRow::as_returning())
                    .get_result(conn)
                    .await?;
                insert_audit(conn, &audit).await?;
                Ok(row)
            })
            .await?;
        Ok(row.into())
    }

    pub async fn reports(&self, page: Page) -> Result<Vec<Report>, StoreError> {
        let mut conn = self.conn().await?;
        let rows: Vec<ReportRow> = reports::table
            .order(reports::id.desc())
            .limit(page.limit())
            .offset(page.offset())
            .select(ReportRow::as_select())
            .load(&mut *conn)
            .await
            .map_err(DbError::from)?;
        Ok(rows.into_iter().map(Report::from).collect())
    }

    pub async fn set_block(
        &self,
        blocker: UserId,
        blocked: UserId,
        on: bool,
        audit: AuditRecord,
    ) -> Result<bool, StoreError> {
        let mut conn = self.conn().await?;
        let changed = conn
            .transaction::<_, DbError, _>(async move |conn| {
                let changed = if on {
                    diesel::insert_into(blocks::table)
                        .values((
                            blocks::blocker_id.eq(blocker.0),
                            blocks::blocked_id.eq(blocked.0),
                            blocks::created_at.eq(audit.at),
                        ))
                        .on_conflict_do_nothing()
                        .execute(conn)
                        .await?
                } else {
                    diesel::delete(
                        blocks::table
                            .filter(blocks::blocker_id.eq(blocker.0))
                            .filter(blocks::blocked_id.eq(blocked.0)),
                    )
                    .execute(conn)
                    .await?
                };
                if changed > 0 {
                    insert_audit(conn, &audit).await?;
                }
                Ok(changed > 0)
            })
            .await?;
        Ok(changed)
    }

    pub async fn admin_set_user(
        &self,
        user: UserId,
        active: Option<bool>,
        role: Option<Role>,
        audit: AuditRecord,
    ) -> Result<User, StoreError> {
        let mut conn = self.conn().await?;
        let row = conn
            .transaction::<_, DbError, _>(async move |conn| {
                let target = users::table.find(user.0);
                let row: UserRow = match (active, role) {
                    (Some(false), _) => {
                        // Nothing issued before a deactivation may work again, not even after a
                        // reactivation: the version goes up and every credential is revoked.
                        let row = diesel::update(target)
                            .set((
                                users::is_active.eq(false),
                                users::credential_version.eq(users::credential_version + 1),
                            ))
                            .returning(UserRow::as_returning())
                            .get_result(conn)
                            .await?;
                        revoke_credentials(conn, user, None, audit.at).await?;
                        row
                    }
                    (Some(true), _) => diesel::update(target)
                        .set(users::is_active.eq(true))
                        .returning(UserRow::as_returning())
                        .get_result(conn)
                        .await?,
                    (None, Some(role)) => diesel::update(target)
                        .set(users::role.eq(role.as_str()))
                        .returning(UserRow::as_returning())
                        .get_result(conn)
                        .await?,
                    (None, None) => target.select(UserRow::as_select()).first(conn).await?,
                };
                insert_audit(conn, &audit).await?;
                Ok(row)
            })
            .await?;
        Ok(row.into_user()?.0)
    }

    pub async fn admin_create_booking(
        &self,
        student: UserId,
        tutor: UserId,
        state: BookingState,
        audit: AuditRecord,
    ) -> Result<Booking, StoreError> {
        let mut conn = self.conn().await?;
        let row = conn
            .transaction::<_, DbError, _>(async move |conn| {
                let row: BookingRow = diesel::insert_into(bookings::table)
                    .values((
                        bookings::student_id.eq(student.0),
                        bookings::tutor_id.eq(tutor.0),
                        bookings::state.eq(state.as_str()),
                        bookings::created_at.eq(audit.at),
                    ))
                    .returning(BookingRow::as_returning())
                    .get_result(conn)
                    .await?;
                let mut audit = audit;
                audit.object_id = Some(row.id);
                insert_audit(conn, &audit).await?;
                Ok(row)
            })
            .await?;
        Ok(row.into_booking()?)
    }

    pub async fn admin_set_booking_state(
        &self,
        booking: BookingId,
        state: BookingState,
        audit: AuditRecord,
    ) -> Result<Booking, StoreError> {
        let mut conn = self.conn().await?;
        let row = conn
            .transaction::<_, DbError, _>(async move |conn| {
                let row: BookingRow = diesel::update(bookings::table.find(booking.0))
                    .set(bookings::state.eq(state.as_str()))
                    .returning(BookingRow::as_returning())
                    .get_result(conn)
                    .await?;
                insert_audit(conn, &audit).await?;
                Ok(row)
            })
            .await?;
        Ok(row.into_booking()?)
    }

    pub async fn admin_set_assignment(
        &self,
        clinician: UserId,
        patient: UserId,
        assigned: bool,
        audit: AuditRecord,
    ) -> Result<bool, StoreError> {
        let mut conn = self.conn().await?;
        let changed = conn
            .transaction::<_, DbError, _>(async move |conn| {
                let pair = care_assignments::table
                    .filter(care_assignments::clinician_id.eq(clinician.0))
                    .filter(care_assignments::patient_id.eq(patient.0));
                // An unassignment ends the row rather than deleting it: that the two were once
                // assigned is a fact the contact rules use.
                let changed = if assigned {
                    let renewed = diesel::update(pair.filter(care_assignments::ended_at.is_not_null()))
                        .set((
                            care_assignments::ended_at.eq(None::<DateTime<Utc>>),
                            care_assignments::created_at.eq(audit.at),
                        ))
                        .execute(conn)
                        .await?;
                    renewed
                        + diesel::insert_into(care_assignments::table)
                            .values((
                                care_assignments::clinician_id.eq(clinician.0),
                                care_assignments::patient_id.eq(patient.0),
                                care_assignments::created_at.eq(audit.at),
                            ))
                            .on_conflict_do_nothing()
                            .execute(conn)
                            .await?
                } else {
                    diesel::update(pair.filter(care_assignments::ended_at.is_null()))
                        .set(care_assignments::ended_at.eq(Some(audit.at)))
                        .execute(conn)
                        .await?
                };
                if changed > 0 {
                    insert_audit(conn, &audit).await?;
                }
                Ok(changed > 0)
            })
            .await?;
        Ok(changed)
    }

    pub async fn history(
        &self,
        user: UserId,
        other: UserId,
        booking: Option<BookingId>,
        request: HistoryRequest,
    ) -> Result<HistorySlice<Message>, StoreError> {
        let mut conn = self.conn().await?;
        let conversations = member_conversations(&mut conn, user.0, other.0, booking).await?;
        if conversations.is_empty() {
            return Ok(HistorySlice {
                messages: Vec::new(),
                has_more: false,
            });
        }
        let size = request.page.limit();
        let mut query = messages::table
            .filter(messages::conversation_id.eq_any(conversations))
            .filter(visible_to!(user.0))
            .select(MessageRow::as_select())
            .order(messages::id.desc())
            .limit(size + 1)
            .into_boxed();
        query = match request.before {
            Some(before) => query.filter(messages::id.lt(before.0)),
            None => query.offset(request.page.offset()),
        };
        let mut rows: Vec<MessageRow> = query.load(&mut *conn).await.map_err(DbError::from)?;
        let has_more = rows.len() as i64 > size;
        rows.truncate(usize::try_from(size).unwrap_or(0));
        // Fetched newest first to find the page; shown oldest first.
        rows.reverse();
        Ok(HistorySlice {
            messages: rows.into_iter().map(Message::from).collect(),
            has_more,
        })
    }

    pub async fn sent(&self, user: UserId, page: Page) -> Result<Vec<Message>, StoreError> {
        let mut conn = self.conn().await?;
        let rows: Vec<MessageRow> = messages::table
            .filter(messages::sender_id.eq(user.0))
            .filter(messages::deleted_by_sender.eq(false))
            .filter(messages::deleted_for_everyone_at.is_null())
            .order(messages::id.desc())
            .limit(page.limit())
            .offset(page.offset())
            .select(MessageRow::as_select())
            .load(&mut *conn)
            .await
            .map_err(DbError::from)?;
        Ok(rows.into_iter().map(Message::from).collect())
    }

    pub async fn unread_counts(&self, user: UserId) -> Result<UnreadCounts, StoreError> {
        let mut conn = self.conn().await?;
        let rows: Vec<(i64, i32)> = members::table
            .filter(members::user_id.eq(user.0))
            .filter(members::unread_count.gt(0))
            .select((members::other_user_id, members::unread_count))
            .load(&mut *conn)
            .await
            .map_err(DbError::from)?;
        let mut by_sender: std::collections::BTreeMap<i64, i64> = std::collections::BTreeMap::new();
        for (sender, count) in rows {
            *by_sender.entry(sender).or_default() += i64::from(count);
        }
        Ok(UnreadCounts {
            total: by_sender.values().sum(),
            by_sender: by_sender.into_iter().map(|(s, c)| (UserId(s), c)).collect(),
        })
    }

    // ----- Event streams, presence and WebSocket tickets -----

    pub async fn events_after(
        &self,
        user: UserId,
        after: StreamSeq,
        limit: u32,
    ) -> Result<Replay, StoreError> {
        let mut conn = self.conn().await?;
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let latest = latest_seq(&mut conn, user.0).await?;
        if after >= latest {
            // Nothing newer, or a position this stream never reached (another database, a reset).
            return Ok(if after == latest {
                Replay::Events(Vec::new())
            } else {
                Replay::Resync {
                    latest: latest.unsigned_abs(),
                }
            });
        }
        let rows: Vec<(i64, DateTime<Utc>, String)> = user_events::table
            .filter(user_events::user_id.eq(user.0))
            .filter(user_events::seq.gt(after))
            .order(user_events::seq.asc())
            .limit(i64::from(limit.max(1)))
            .select((user_events::seq, user_events::at, user_events::payload))
            .load(&mut *conn)
            .await
            .map_err(DbError::from)?;
        // The next entry must be the one right after `after`; if it was pruned, so was the gap.
        if rows.as_slice().first().is_none_or(|(seq, _, _)| *seq != after + 1) {
            return Ok(Replay::Resync {
                latest: latest.unsigned_abs(),
            });
        }
        let mut events = Vec::with_capacity(rows.len());
        for (seq, at, payload) in rows {
            let event = crate::stored_event::decode(&payload)?;
            events.push(StreamEvent {
                user_id: user,
                seq: seq.unsigned_abs(),
                at,
                event: std::sync::Arc::new(event),
            });
        }
        Ok(Replay::Events(events))
    }

    pub async fn latest_seq(&self, user: UserId) -> Result<StreamSeq, StoreError> {
        let mut conn = self.conn().await?;
        Ok(latest_seq(&mut conn, user.0).await?.unsigned_abs())
    }

    pub async fn latest_seqs(&self, users: &[UserId]) -> Result<Vec<(UserId, StreamSeq)>, StoreError> {
        let mut conn = self.conn().await?;
        let mut found = Vec::with_capacity(users.len());
        // In chunks, so that no statement carries more parameters than SQLite allows.
        for chunk in users.chunks(500) {
            let ids: Vec<i64> = chunk.iter().map(|u| u.0).collect();
            let rows: Vec<(i64, i64)> = event_heads::table
                .filter(event_heads::user_id.eq_any(ids))
                .select((event_heads::user_id, event_heads::last_seq))
                .load(&mut *conn)
                .await
                .map_err(DbError::from)?;
            found.extend(rows.into_iter().map(|(u, s)| (UserId(u), s.unsigned_abs())));
        }
        Ok(found)
    }

    pub async fn prune_events(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut conn = self.conn().await?;
        let removed = delete_events_before(&mut conn, before).await?;
        Ok(removed as u64)
    }

    pub async fn conversation_partners(&self, user: UserId) -> Result<Vec<UserId>, StoreError> {
        let mut conn = self.conn().await?;
        let partners: Vec<i64> = members::table
            .filter(members::user_id.eq(user.0))
            .select(members::other_user_id)
            .distinct()
            .load(&mut *conn)
            .await
            .map_err(DbError::from)?;
        let blocked: Vec<(i64, i64)> = blocks::table
            .filter(blocks::blocker_id.eq(user.0).or(blocks::blocked_id.eq(user.0)))
            .select((blocks::blocker_id, blocks::blocked_id))
            .load(&mut *conn)
            .await
            .map_err(DbError::from)?;
        let mut partners: Vec<UserId> = partners
            .into_iter()
            .filter(|p| !blocked.iter().any(|(a, b)| a == p || b == p))
            .map(UserId)
            .collect();
        partners.sort();
        Ok(partners)
    }

    pub async fn presence_hidden(&self, user: UserId) -> Result<bool, StoreError> {
        let mut conn = self.conn().await?;
        let hidden: Option<bool> = presence_settings::table
            .find(user.0)
            .select(presence_settings::hidden)
            .first(&mut *conn)
            .await
            .optional()
            .map_err(DbError::from)?;
        Ok(hidden.unwrap_or(false))
    }

    pub async fn set_presence_hidden(&self, user: UserId, hidden: bool) -> Result<bool, StoreError> {
        let before = self.presence_hidden(user).await?;
        let mut conn = self.conn().await?;
        diesel::insert_into(presence_settings::table)
            .values((
                presence_settings::user_id.eq(user.0),
                presence_settings::hidden.eq(hidden),
            ))
            .on_conflict(presence_settings::user_id)
            .do_update()
            .set(presence_settings::hidden.eq(hidden))
            .execute(&mut *conn)
            .await
            .map_err(DbError::from)?;
        Ok(before != hidden)
    }

    /// Marks `users` as connected to `instance` as of `at` (the instance's heartbeat).
    pub async fn presence_touch(
        &self,
        instance: &str,
        users: &[UserId],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        for user in users {
            diesel::insert_into(presence_connections::table)
                .values((
                    presence_connections::instance_id.eq(instance),
                    presence_connections::user_id.eq(user.0),
                    presence_connections::seen_at.eq(at),
                ))
                .on_conflict((presence_connections::user_id, presence_connections::instance_id))
                .do_update()
                .set(presence_connections::seen_at.eq(at))
                .execute(&mut *conn)
                .await
                .map_err(DbError::from)?;
        }
        Ok(())
    }

    /// Forgets that `users` (all of them when `None`) are connected to `instance`.
    pub async fn presence_leave(
        &self,
        instance: &str,
        users: Option<&[UserId]>,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        let rows = presence_connections::table.filter(presence_connections::instance_id.eq(instance));
        match users {
            Some(users) => {
                let ids: Vec<i64> = users.iter().map(|u| u.0).collect();
                diesel::delete(rows.filter(presence_connections::user_id.eq_any(ids)))
                    .execute(&mut *conn)
                    .await
            }
            None => diesel::delete(rows).execute(&mut *conn).await,
        }
        .map_err(DbError::from)?;
        Ok(())
    }

    /// Whether some instance has seen `user` connected since `since`.
    pub async fn presence_online(
        &self,
        user: UserId,
        since: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut conn = self.conn().await?;
        let found: Option<String> = presence_connections::table
            .filter(presence_connections::user_id.eq(user.0))
            .filter(presence_connections::seen_at.ge(since))
            .select(presence_connections::instance_id)
            .first(&mut *conn)
            .await
            .optional()
            .map_err(DbError::from)?;
        Ok(found.is_some())
    }

    pub async fn insert_ws_ticket(&self, ticket: TicketRecord) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        diesel::insert_into(ws_tickets::table)
            .values((
                ws_tickets::ticket_hash.eq(ticket.ticket_hash),
                ws_tickets::user_id.eq(ticket.user_id.0),
                ws_tickets::expires_at.eq(ticket.expires_at),
                ws_tickets::credential_version.eq(ticket.credential_version),
                ws_tickets::session_hash.eq(ticket.session.map(|s| s.0)),
            ))
            .execute(&mut *conn)
            .await
            .map_err(DbError::from)?;
        Ok(())
    }

    /// Uses a ticket: returns it if it exists, has not expired and was never used; marks it used
    /// in the same statement, so two redemptions cannot both succeed. Expired tickets are swept
    /// on the way.
    pub async fn redeem_ws_ticket(
        &self,
        ticket_hash: String,
        now: DateTime<Utc>,
    ) -> Result<Option<TicketRecord>, StoreError> {
        let mut conn = self.conn().await?;
        let row: Option<(i64, DateTime<Utc>, i64, Option<String>)> = diesel::update(
            ws_tickets::table
                .find(&ticket_hash)
                .filter(ws_tickets::used_at.is_null())
                .filter(ws_tickets::expires_at.gt(now)),
        )
        .set(ws_tickets::used_at.eq(Some(now)))
        .returning((
            ws_tickets::user_id,
            ws_tickets::expires_at,
            ws_tickets::credential_version,
            ws_tickets::session_hash,
        ))
        .get_result(&mut *conn)
        .await
        .optional()
        .map_err(DbError::from)?;
        delete_expired_tickets(&mut conn, now).await?;
        Ok(row.map(|(user, expires_at, credential_version, session)| TicketRecord {
            ticket_hash,
            user_id: UserId(user),
            credential_version,
            session: session.map(SessionKey),
            expires_at,
        }))
    }
}

/// Revokes every browser session of `user` but `keep`, every refresh token and every unredeemed
/// WebSocket ticket, inside the caller's transaction.
async fn revoke_credentials(
    conn: &mut Conn,
    user: UserId,
    keep: Option<&SessionKey>,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let sessions = sessions::table
        .filter(sessions::user_id.eq(user.0))
        .filter(sessions::revoked_at.is_null());
    match keep {
        Some(keep) => {
            diesel::update(sessions.filter(sessions::id_hash.ne(&keep.0)))
                .set(sessions::revoked_at.eq(Some(now)))
                .execute(conn)
                .await?
        }
        None => {
            diesel::update(sessions)
                .set(sessions::revoked_at.eq(Some(now)))
                .execute(conn)
                .await?
        }
    };
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(user.0))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(Some(now)))
    .execute(conn)
    .await?;
    diesel::delete(ws_tickets::table.filter(ws_tickets::user_id.eq(user.0)))
        .execute(conn)
        .await?;
    Ok(())
}

async fn latest_seq(conn: &mut Conn, user: i64) -> Result<i64, DbError> {
    Ok(event_heads::table
        .find(user)
        .select(event_heads::last_seq)
        .first(conn)
        .await
        .optional()?
        .unwrap_or(0))
}
