//! SQLite, the embedded default: one file in the data directory, no server needed.

use diesel::sql_types::{BigInt, Text};
use diesel::sqlite::SqliteConnection;
use diesel_async::SimpleAsyncConnection;
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use futures_util::FutureExt;

/// SQLite's differences from PostgreSQL (see `crate::dialect`).
pub(crate) struct Sqlite;

/// The dialect the shared queries are compiled for here.
type Sql = Sqlite;

/// The timestamp type, by name for the schema's `table!`s (see `Dialect::Ts`).
type Ts = diesel::sql_types::TimestamptzSqlite;

/// Implements a port on this backend's `Db`; `Store`'s dispatch of it is derived once, by the
/// PostgreSQL module.
macro_rules! port {
    ($($port:tt)*) => {
        port_on_db!($($port)*);
    };
}

include!("../shared/schema.rs");
include!("../shared/db.rs");
include!("../shared/message_queries.rs");
include!("../shared/listing_queries.rs");
include!("../shared/report_queries.rs");
include!("../shared/user_queries.rs");
include!("../shared/admin_queries.rs");
include!("../shared/people_queries.rs");
include!("../shared/account_change_queries.rs");
include!("../shared/account_queries.rs");
include!("../shared/session_queries.rs");
include!("../shared/ticket_queries.rs");
include!("../shared/stream_queries.rs");
include!("../shared/presence_queries.rs");
include!("../shared/attachment_queries.rs");
include!("../shared/audit_queries.rs");

/// SQLite has one writer and one connection: each new message is its own transaction.
#[derive(Debug, Default)]
struct SendQueue;

impl Db {
    async fn store_new_message(
        &self,
        new: NewMessage,
        change: Change<Message>,
    ) -> Result<Recorded<Message>, StoreError> {
        self.insert_one(new, change).await
    }
}

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

// WAL lets readers run beside the writer; the busy timeout makes a second process wait instead of
// failing; foreign keys are off by default in SQLite.
const SETUP: &str = "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; \
                     PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;";

async fn establish(
    path: &str,
    counter: Option<crate::QueryCounter>,
) -> diesel::ConnectionResult<Conn> {
    let mut conn = Conn::establish(path).await?;
    if let Some(counter) = counter {
        conn.set_instrumentation(counter.instrumentation());
    }
    conn.batch_execute(SETUP)
        .await
        .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
    Ok(conn)
}

/// Opens the database file (created when missing). The pool holds one connection: SQLite has one
/// writer at a time, and one connection avoids lock upgrades failing between two of ours.
pub(crate) fn connect(
    path: &str,
    counter: crate::QueryCounter,
    origin: std::sync::Arc<str>,
) -> Result<Db, StoreError> {
    let mut config = ManagerConfig::default();
    config.custom_setup = Box::new(move |url| establish(url, Some(counter.clone())).boxed());
    let manager = AsyncDieselConnectionManager::<Conn>::new_with_config(path, config);
    let pool = Pool::builder(manager)
        .max_size(1)
        .build()
        .map_err(StoreError::backend)?;
    Ok(Db::new(pool, origin))
}

/// Applies pending migrations on a connection of its own.
pub(crate) async fn migrate(path: &str) -> Result<(), StoreError> {
    let conn = establish(path, None).await.map_err(StoreError::backend)?;
    run_migrations(conn, MIGRATIONS).await
}

/// The caller's visible matches, ranked by bm25 (`f.score`); binds the MATCH expression and the
/// user id twice.
const SEARCH_HITS: &str = "FROM (SELECT rowid AS id, rank AS score FROM messages_words \
                                WHERE messages_words MATCH ?) f \
     JOIN messages m ON m.id = f.id \
     WHERE m.deleted_for_everyone_at IS NULL \
       AND ((m.sender_id = ? AND NOT m.deleted_by_sender) \
         OR (m.recipient_id = ? AND NOT m.deleted_by_recipient))";

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = BigInt)]
    total: i64,
}

impl Dialect for Sqlite {
    type Conn = SyncConnectionWrapper<SqliteConnection>;
    type Ts = Ts;

    /// SQLite needs no lock to keep the audit chain linear: the store's one connection runs its
    /// transactions one at a time, and a writer in another process cannot interleave either,
    /// because SQLite refuses a write on top of a snapshot that another writer has changed since
    /// (the action fails with "database is locked" rather than forking the chain).
    async fn lock_audit_chain(_conn: &mut Self::Conn, _actor: Option<i64>) -> Result<(), DbError> {
        Ok(())
    }

    /// SQLite locks the whole database for a writing transaction (and the store has one
    /// connection): there are no row locks to order.
    async fn lock_members(
        _conn: &mut Self::Conn,
        _conversations: &[i64],
        _users: &[i64],
    ) -> Result<(), DbError> {
        Ok(())
    }

    /// No lock is needed: the store's one connection runs its transactions one at a time, so the
    /// row cannot change before the caller's transaction ends.
    async fn lock_message(_conn: &mut Self::Conn, _id: i64) -> Result<(), DbError> {
        Ok(())
    }

    /// Deletes stream entries older than `before`; returns how many went. (SQLite's one writer
    /// never meets another transaction's row locks.)
    async fn delete_events_before(
        conn: &mut Self::Conn,
        before: DateTime<Utc>,
    ) -> Result<usize, DbError> {
        Ok(
            diesel::delete(user_events::table.filter(user_events::at.lt(before)))
                .execute(conn)
                .await?,
        )
    }

    /// Deletes expired WebSocket tickets.
    async fn delete_expired_tickets(
        conn: &mut Self::Conn,
        now: DateTime<Utc>,
    ) -> Result<(), DbError> {
        diesel::delete(ws_tickets::table.filter(ws_tickets::expires_at.le(now)))
            .execute(conn)
            .await?;
        Ok(())
    }

    /// One transaction, so one commit: the instance's row, then each user's where missing (the
    /// statements are in-process calls, not round trips).
    async fn touch_presence(
        conn: &mut Self::Conn,
        instance: &str,
        ids: &[i64],
        at: DateTime<Utc>,
    ) -> Result<(), DbError> {
        let instance = instance.to_owned();
        let ids = ids.to_vec();
        conn.transaction::<_, DbError, _>(async move |conn| {
            diesel::insert_into(presence_instances::table)
                .values((
                    presence_instances::instance_id.eq(&instance),
                    presence_instances::seen_at.eq(at),
                ))
                .on_conflict(presence_instances::instance_id)
                .do_update()
                .set(presence_instances::seen_at.eq(at))
                .execute(conn)
                .await?;
            for id in ids {
                diesel::insert_into(presence_connections::table)
                    .values((
                        presence_connections::instance_id.eq(&instance),
                        presence_connections::user_id.eq(id),
                        presence_connections::seen_at.eq(at),
                    ))
                    .on_conflict_do_nothing()
                    .execute(conn)
                    .await?;
            }
            Ok(())
        })
        .await
    }

    /// FTS5 merges its segments as part of the writes themselves: nothing is left aside.
    async fn merge_search_backlog(_conn: &mut Self::Conn) -> Result<u64, DbError> {
        Ok(0)
    }

    /// SQLite serves one process, which delivers its own events in-process: nobody to announce to.
    async fn notify_appended(
        _conn: &mut Self::Conn,
        _origin: &str,
        _appended: &[StreamEvent],
    ) -> Result<(), DbError> {
        Ok(())
    }

    /// Ranked full-text search over what `user` can see: FTS5 over the domain's words of each
    /// message (prefix queries), ranked by bm25 through its `rank` column.
    async fn search(
        conn: &mut Self::Conn,
        user: UserId,
        query: &SearchQuery,
        page: Page,
    ) -> Result<SearchResults<Message>, DbError> {
        // Every term is quoted, so nothing the user types is read as FTS5 query syntax, and
        // matches the beginning of a word (`"budg"*`); all of them must match.
        let terms: Vec<String> = query
            .terms()
            .into_iter()
            .map(|t| format!("\"{}\"*", t.replace('"', "\"\"")))
            .collect();
        if terms.is_empty() {
            return Ok(SearchResults {
                messages: Vec::new(),
                total: 0,
            });
        }
        let matched = terms.join(" ");
        let rows: Vec<SearchRow> = diesel::sql_query(format!(
            "SELECT m.id, m.conversation_id, m.sender_id, m.recipient_id, m.booking_id, m.subject, \
                    m.body, m.parent_id, m.created_at, m.read_at, m.edited_at, m.deleted_by_sender, \
                    m.deleted_by_recipient, m.deleted_for_everyone_at, m.deleted_at, \
                    count(*) OVER () AS total \
             {SEARCH_HITS} \
             ORDER BY f.score, m.id DESC \
             LIMIT ? OFFSET ?"
        ))
        .bind::<Text, _>(&matched)
        .bind::<BigInt, _>(user.0)
        .bind::<BigInt, _>(user.0)
        .bind::<BigInt, _>(page.limit())
        .bind::<BigInt, _>(page.offset())
        .load(&mut *conn)
        .await
        .map_err(DbError::from)?;
        let total = match rows.as_slice().first() {
            Some(row) => row.total,
            // A page past the end still reports how many matches there are.
            None if page.offset() > 0 => {
                let counted: Vec<CountRow> =
                    diesel::sql_query(format!("SELECT count(*) AS total {SEARCH_HITS}"))
                        .bind::<Text, _>(&matched)
                        .bind::<BigInt, _>(user.0)
                        .bind::<BigInt, _>(user.0)
                        .load(&mut *conn)
                        .await
                        .map_err(DbError::from)?;
                counted.as_slice().first().map_or(0, |c| c.total)
            }
            None => 0,
        };
        Ok(messaging_domain::message::SearchResults {
            messages: rows.into_iter().map(|r| r.message.into()).collect(),
            total,
        })
    }
}
