//! PostgreSQL, the production store.

use diesel::sql_types::{BigInt, Text};
use diesel_async::AsyncPgConnection;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use futures_util::FutureExt;

use crate::QueryCounter;
use diesel_migrations::{EmbeddedMigrations, embed_migrations};

/// PostgreSQL's differences from SQLite (see `crate::dialect`).
pub(crate) struct Postgres;

/// The dialect the shared queries are compiled for here.
type Sql = Postgres;

/// The timestamp type, by name for the schema's `table!`s (see `Dialect::Ts`).
type Ts = diesel::sql_types::Timestamptz;

/// Implements a port on this backend's `Db` and, for both backends at once, on `Store`: the
/// PostgreSQL module is the one that derives the dispatch, so each port gets one `Store` impl.
macro_rules! port {
    ($($port:tt)*) => {
        port_on_db!($($port)*);
        port_on_store!($($port)*);
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

mod group_commit;
mod prepared;
use group_commit::SendQueue;

/// The base of the advisory locks that serialize appends to each actor's audit chain; an actor's
/// key is this XOR its id (a one-to-one mapping, so two actors never share a lock). Any value works
/// while nothing else takes these locks; this one spells "auditlog" in ASCII.
const AUDIT_CHAIN_LOCK: i64 = 0x6175_6469_746c_6f67;

/// `Dialect::touch_presence` in one statement whatever the number of users: the instance's
/// heartbeat, and the connection rows that are missing (a row already there is found by its
/// key and left alone, which writes nothing).
const TOUCH_PRESENCE: &str = "\
WITH beat AS (
    INSERT INTO presence_instances (instance_id, seen_at) VALUES ($1, $2)
    ON CONFLICT (instance_id) DO UPDATE SET seen_at = excluded.seen_at
    RETURNING instance_id, seen_at)
INSERT INTO presence_connections (instance_id, user_id, seen_at)
SELECT beat.instance_id, u, beat.seen_at FROM beat CROSS JOIN unnest($3::bigint[]) AS u
ON CONFLICT (user_id, instance_id) DO NOTHING";

impl Dialect for Postgres {
    type Conn = AsyncPgConnection;
    type Ts = Ts;

    /// Serializes appends to one actor's audit chain. The lock is transaction-scoped: it is held
    /// until the caller's transaction commits or rolls back, so the next writer reads the last hash
    /// only once this entry is visible (READ COMMITTED, the store's level, takes a new snapshot per
    /// statement), and the ids drawn after it grow in chain order. Outside a transaction it would
    /// be released at once, which is why every entry is written inside one.
    async fn lock_audit_chain(conn: &mut Self::Conn, actor: Option<i64>) -> Result<(), DbError> {
        prepared::prepared("SELECT pg_advisory_xact_lock($1)")
            .bind::<BigInt, _>(AUDIT_CHAIN_LOCK ^ actor.unwrap_or(0))
            .execute(conn)
            .await?;
        Ok(())
    }

    /// Locks the thread rows of `users` in `conversations` for the rest of the caller's
    /// transaction, in (user id, conversation id) order whatever order the caller names them in.
    /// Every change that writes thread rows takes them here first, before any other row (see the
    /// lock order in `shared/db.rs`), so that two changes crossing in opposite directions wait for
    /// each other instead of deadlocking. `ORDER BY ... FOR UPDATE` locks the rows as they leave
    /// the sort.
    async fn lock_members(
        conn: &mut Self::Conn,
        conversations: &[i64],
        users: &[i64],
    ) -> Result<(), DbError> {
        members::table
            .filter(members::conversation_id.eq_any(conversations))
            .filter(members::user_id.eq_any(users))
            .order((members::user_id, members::conversation_id))
            .select(members::user_id)
            .for_update()
            .load::<i64>(conn)
            .await?;
        Ok(())
    }

    /// Locks a message's row with `SELECT ... FOR UPDATE`: a change committed while this waited is
    /// what the caller reads next (READ COMMITTED reads afresh per statement).
    async fn lock_message(conn: &mut Self::Conn, id: i64) -> Result<(), DbError> {
        messages::table
            .find(id)
            .select(messages::id)
            .for_update()
            .first::<i64>(conn)
            .await?;
        Ok(())
    }

    /// Deletes stream entries older than `before`, skipping any a transaction holds (a delete for
    /// everyone redacting them): a sweep that never waits cannot deadlock, and what it skips goes
    /// in the next round. Returns how many went.
    async fn delete_events_before(
        conn: &mut Self::Conn,
        before: DateTime<Utc>,
    ) -> Result<usize, DbError> {
        Ok(diesel::sql_query(
            "DELETE FROM user_events WHERE (user_id, seq) IN \
             (SELECT user_id, seq FROM user_events WHERE at < $1 FOR UPDATE SKIP LOCKED)",
        )
        .bind::<Ts, _>(before)
        .execute(conn)
        .await?)
    }

    /// Deletes expired WebSocket tickets, skipping any a transaction holds (a deactivation deleting
    /// the user's tickets), for the same reason.
    async fn delete_expired_tickets(
        conn: &mut Self::Conn,
        now: DateTime<Utc>,
    ) -> Result<(), DbError> {
        diesel::sql_query(
            "DELETE FROM ws_tickets WHERE ticket_hash IN \
             (SELECT ticket_hash FROM ws_tickets WHERE expires_at <= $1 FOR UPDATE SKIP LOCKED)",
        )
        .bind::<Ts, _>(now)
        .execute(conn)
        .await?;
        Ok(())
    }

    /// One statement and one commit whatever the number of users ([`TOUCH_PRESENCE`]; the ids
    /// go as one array).
    async fn touch_presence(
        conn: &mut Self::Conn,
        instance: &str,
        ids: &[i64],
        at: DateTime<Utc>,
    ) -> Result<(), DbError> {
        prepared::prepared(TOUCH_PRESENCE)
            .bind::<Text, _>(instance.to_owned())
            .bind::<Ts, _>(at)
            .bind::<diesel::sql_types::Array<BigInt>, _>(ids.to_vec())
            .execute(conn)
            .await?;
        Ok(())
    }

    /// `gin_clean_pending_list`: the same merge an insert does when it finds the list over
    /// `gin_pending_list_limit`, here outside any transaction of a send. Inserts meanwhile keep
    /// appending to the list (they do not wait for a merge in progress); a second instance doing
    /// the same waits for the first and then finds little left.
    async fn merge_search_backlog(conn: &mut Self::Conn) -> Result<u64, DbError> {
        let pages: i64 = diesel::select(diesel::dsl::sql::<BigInt>(
            "gin_clean_pending_list('messages_search_words'::regclass)",
        ))
        .get_result(conn)
        .await?;
        Ok(u64::try_from(pages).unwrap_or(0))
    }

    /// Announces appended entries to every listening instance. `pg_notify` is transactional: the
    /// announcement goes out when the caller's transaction commits, and never if it rolls back, so
    /// a listener that hears `user:seq` can read that entry at once.
    async fn notify_appended(
        conn: &mut Self::Conn,
        origin: &str,
        appended: &[StreamEvent],
    ) -> Result<(), DbError> {
        if appended.is_empty() {
            return Ok(());
        }
        let payload = crate::listen::encode_appended(origin, appended);
        prepared::prepared("SELECT pg_notify($1, $2)")
            .bind::<Text, _>(EVENTS_CHANNEL)
            .bind::<Text, _>(payload)
            .execute(conn)
            .await?;
        Ok(())
    }

    /// Ranked full-text search over what `user` can see: the caller's own keys over the domain's
    /// words of each message (GIN, prefix queries) find the matches, `ts_rank` over the
    /// message's English tsvector orders them.
    async fn search(
        conn: &mut Self::Conn,
        user: UserId,
        query: &SearchQuery,
        page: Page,
    ) -> Result<SearchResults<Message>, DbError> {
        let terms = query.terms().join(" ");
        if terms.is_empty() {
            return Ok(SearchResults {
                messages: Vec::new(),
                total: 0,
            });
        }
        // The query lives in the migration's `messaging_search` function, where PL/pgSQL keeps its
        // plan: it finds the caller's matches through their search keys, ranks bare (id, rank)
        // pairs, and reads only the page's rows in full.
        let rows: Vec<SearchRow> =
            prepared::prepared("SELECT * FROM messaging_search($1, $2, $3, $4)")
                .bind::<BigInt, _>(user.0)
                .bind::<Text, _>(terms.clone())
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
                    prepared::prepared("SELECT messaging_search_count($1, $2) AS total")
                        .bind::<BigInt, _>(user.0)
                        .bind::<Text, _>(terms.clone())
                        .load(&mut *conn)
                        .await
                        .map_err(DbError::from)?;
                counted.as_slice().first().map_or(0, |c| c.total)
            }
            None => 0,
        };
        Ok(SearchResults {
            messages: rows.into_iter().map(|r| r.message.into()).collect(),
            total,
        })
    }
}

/// The channel on which every committed stream entry is announced as `user:seq` pairs.
pub(crate) const EVENTS_CHANNEL: &str = "messaging_events";
/// The channel for fleeting events (typing, presence), whose payload is the event itself.
pub(crate) const LIVE_CHANNEL: &str = "messaging_live";

impl Db {
    /// Sends a fleeting event's payload to every listening instance (including this one).
    pub async fn notify_live(&self, payload: &str) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        prepared::prepared("SELECT pg_notify($1, $2)")
            .bind::<Text, _>(LIVE_CHANNEL)
            .bind::<Text, _>(payload.to_owned())
            .execute(&mut *conn)
            .await
            .map_err(DbError::from)?;
        Ok(())
    }
}

/// Opens a connection of its own that listens on both channels and forwards what it hears. The
/// receiver ends when the connection is lost; the caller reconnects and catches up from the
/// streams, which is why nothing depends on a notification arriving.
pub(crate) async fn listen(
    url: &str,
) -> Result<tokio::sync::mpsc::Receiver<crate::listen::Notice>, StoreError> {
    use diesel_async::SimpleAsyncConnection;
    use futures_util::StreamExt;
    let mut conn = Conn::establish(url).await.map_err(StoreError::backend)?;
    conn.batch_execute(&format!("LISTEN {EVENTS_CHANNEL}; LISTEN {LIVE_CHANNEL};"))
        .await
        .map_err(DbError::from)?;
    let (tx, rx) = tokio::sync::mpsc::channel(1024);
    tokio::spawn(async move {
        let mut notifications = std::pin::pin!(conn.notifications_stream());
        while let Some(next) = notifications.next().await {
            let Ok(notification) = next else { break };
            let notice = if notification.channel == EVENTS_CHANNEL {
                crate::listen::decode_appended(&notification.payload)
            } else {
                crate::listen::Notice::Live(notification.payload)
            };
            if tx.send(notice).await.is_err() {
                break;
            }
        }
    });
    Ok(rx)
}

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

async fn establish(url: &str, counter: QueryCounter) -> diesel::ConnectionResult<Conn> {
    let mut conn = Conn::establish(url).await?;
    conn.set_instrumentation(counter.instrumentation());
    Ok(conn)
}

/// Opens a pool of at most `max_size` connections.
pub(crate) fn connect(
    url: &str,
    max_size: usize,
    counter: QueryCounter,
    origin: std::sync::Arc<str>,
) -> Result<Db, StoreError> {
    let mut config = ManagerConfig::default();
    config.custom_setup = Box::new(move |url| establish(url, counter.clone()).boxed());
    // A pooled connection is handed out as it is, without a `SELECT 1` first (the default costs
    // a round trip per checkout: four per send). One PostgreSQL closed (a restart, a crash, a
    // terminated backend) is still never handed out: its client notices the closed socket and
    // the pool drops it (`is_broken`); a query already running on it fails as unavailable.
    config.recycling_method = RecyclingMethod::Fast;
    let manager = AsyncDieselConnectionManager::<Conn>::new_with_config(url, config);
    let pool = Pool::builder(manager)
        .max_size(max_size)
        .build()
        .map_err(StoreError::backend)?;
    Ok(Db::new(pool, origin))
}

/// Applies pending migrations on a connection of its own.
pub(crate) async fn migrate(url: &str) -> Result<(), StoreError> {
    let conn = Conn::establish(url).await.map_err(StoreError::backend)?;
    // The harness blocks; keep it off the async worker threads.
    run_migrations(conn, MIGRATIONS).await
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = BigInt)]
    total: i64,
}

#[derive(QueryableByName)]
struct WaitRow {
    #[diesel(sql_type = BigInt)]
    wait_us: i64,
}

impl Db {
    /// Takes one request from each quota `(key, interval, burst)`, all or nothing, on the rows
    /// every instance shares; `Some(wait)` when one of them is spent.
    pub async fn rate_take(
        &self,
        mut quotas: Vec<crate::RateQuota>,
    ) -> Result<Option<std::time::Duration>, StoreError> {
        // One lock order for every caller.
        quotas.sort_by(|a, b| a.key.cmp(&b.key));
        let keys: Vec<String> = quotas.iter().map(|q| q.key.clone()).collect();
        let intervals: Vec<i64> = quotas
            .iter()
            .map(|q| i64::try_from(q.interval.as_micros()).unwrap_or(i64::MAX))
            .collect();
        let bursts: Vec<i32> = quotas
            .iter()
            .map(|q| i32::try_from(q.burst.max(1)).unwrap_or(i32::MAX))
            .collect();
        let mut conn = self.conn().await?;
        let row: WaitRow = prepared::prepared("SELECT messaging_rate_take($1, $2, $3) AS wait_us")
            .bind::<diesel::sql_types::Array<Text>, _>(keys)
            .bind::<diesel::sql_types::Array<BigInt>, _>(intervals)
            .bind::<diesel::sql_types::Array<diesel::sql_types::Integer>, _>(bursts)
            .get_result(&mut *conn)
            .await
            .map_err(DbError::from)?;
        Ok((row.wait_us > 0)
            .then(|| std::time::Duration::from_micros(u64::try_from(row.wait_us).unwrap_or(0))))
    }

    /// Forgets every key whose quota has refilled (its arrival time is past).
    pub async fn rate_sweep(&self) -> Result<u64, StoreError> {
        let mut conn = self.conn().await?;
        let removed = diesel::sql_query("DELETE FROM rate_limits WHERE tat < now()")
            .execute(&mut *conn)
            .await
            .map_err(DbError::from)?;
        Ok(removed as u64)
    }
}

#[derive(QueryableByName)]
struct DatabaseName {
    #[diesel(sql_type = Text)]
    #[allow(dead_code)]
    datname: String,
}

/// Creates the database named at the end of `url` when it does not exist, connecting to the
/// server's `postgres` database to do so. Returns whether it was created.
pub(crate) async fn ensure_database(url: &str) -> Result<bool, StoreError> {
    use diesel_async::SimpleAsyncConnection;
    let (base, rest) = url
        .rsplit_once('/')
        .ok_or_else(|| StoreError::Backend("database URL has no database name".into()))?;
    let name = rest.split('?').next().unwrap_or_default();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(StoreError::Backend(
            "database name must be letters, digits and '_'".into(),
        ));
    }
    let mut admin = Conn::establish(&format!("{base}/postgres"))
        .await
        .map_err(StoreError::backend)?;
    let found: Vec<DatabaseName> =
        diesel::sql_query("SELECT datname FROM pg_database WHERE datname = $1")
            .bind::<Text, _>(name)
            .load(&mut admin)
            .await
            .map_err(DbError::from)?;
    if !found.is_empty() {
        return Ok(false);
    }
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .map_err(DbError::from)?;
    Ok(true)
}

/// Drops every database whose name starts with `prefix` (leftovers of earlier test runs).
pub(crate) async fn drop_databases_with_prefix(
    admin_url: &str,
    prefix: &str,
) -> Result<usize, StoreError> {
    use diesel_async::SimpleAsyncConnection;
    let mut admin = Conn::establish(admin_url)
        .await
        .map_err(StoreError::backend)?;
    let found: Vec<DatabaseName> =
        diesel::sql_query("SELECT datname FROM pg_database WHERE starts_with(datname, $1)")
            .bind::<Text, _>(prefix)
            .load(&mut admin)
            .await
            .map_err(DbError::from)?;
    for db in &found {
        if db
            .datname
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            admin
                .batch_execute(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    db.datname
                ))
                .await
                .map_err(DbError::from)?;
        }
    }
    Ok(found.len())
}
