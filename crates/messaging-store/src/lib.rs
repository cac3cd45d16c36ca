//! The Diesel (diesel-async) store: PostgreSQL in production, SQLite as the embedded default, one
//! implementation of the domain's storage ports for both, chosen by the database URL.
//!
//! Both backends share their schema and queries (`shared/`, one file per aggregate, included into
//! each backend's module); what differs between them is the `Dialect` each implements
//! (`dialect.rs`: locks, timestamps, full-text search, change announcements), besides connection
//! set-up and migrations. Each port is implemented once, on the backends' `Db` in its aggregate's
//! file, and `Store` dispatches it to its backend through an impl derived from that same text
//! (`dispatch.rs`).

use chrono::{DateTime, Utc};
use messaging_domain::StoreError;
use messaging_domain::audit::{AuditAction, AuditRecord};
use messaging_domain::event::StreamSeq;
use messaging_domain::ports::{Administration, Blocks};
use messaging_domain::text::Page;
use messaging_domain::user::{Booking, BookingId, BookingState, UserId};

#[macro_use]
mod dispatch;

pub mod audit;
pub mod bulk;
mod dialect;
mod error;
pub mod listen;
#[allow(missing_debug_implementations)]
mod pg;
#[allow(missing_debug_implementations)]
mod sqlite;
mod stored_event;

/// Which database engine a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    /// PostgreSQL (`postgres://` or `postgresql://` URLs).
    Postgres,
    /// SQLite (`sqlite://path`, `sqlite:path`, or a plain file path).
    Sqlite,
}

/// The store: a connection pool to one database, implementing the domain's ports.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    outage: std::sync::Arc<Outage>,
    queries: QueryCounter,
    instance: std::sync::Arc<str>,
    // The URL may hold a password: it is kept for migrations and never printed.
    url: String,
}

#[derive(Clone)]
enum Backend {
    Postgres(pg::Db),
    Sqlite(sqlite::Db),
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("kind", &self.kind())
            .finish_non_exhaustive()
    }
}

/// Whether the database is out of reach, so that an outage is logged once when it starts and once
/// when it ends, not once per failed request.
#[derive(Debug, Default)]
struct Outage {
    down: std::sync::atomic::AtomicBool,
}

impl Outage {
    fn observe<T>(&self, result: &Result<T, StoreError>) {
        use std::sync::atomic::Ordering;
        match result {
            Err(StoreError::Unavailable(cause)) => {
                if !self.down.swap(true, Ordering::AcqRel) {
                    tracing::error!(
                        error = %error_chain(cause.as_ref()),
                        "database unreachable; answering 503 until it is back"
                    );
                }
            }
            Ok(_) => {
                if self.down.load(Ordering::Acquire) && self.down.swap(false, Ordering::AcqRel) {
                    tracing::warn!("database reachable again");
                }
            }
            Err(_) => {}
        }
    }
}

pub(crate) fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl Store {
    /// Connects to the database named by `url` with a pool of at most `pool_size` connections
    /// (SQLite always uses one). Nothing is checked until the first query; see [`Store::ping`].
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the URL cannot be used.
    pub fn connect(url: &str, pool_size: usize) -> Result<Self, StoreError> {
        let queries = QueryCounter::default();
        let instance: std::sync::Arc<str> = std::sync::Arc::from(uuid::Uuid::new_v4().to_string());
        let backend = match Self::kind_of(url) {
            DatabaseKind::Postgres => Backend::Postgres(pg::connect(
                url,
                pool_size.max(1),
                queries.clone(),
                std::sync::Arc::clone(&instance),
            )?),
            DatabaseKind::Sqlite => {
                let path = sqlite_path(url);
                if let Some(parent) = std::path::Path::new(path).parent()
                    && !parent.as_os_str().is_empty()
                {
                    std::fs::create_dir_all(parent).map_err(StoreError::backend)?;
                }
                Backend::Sqlite(sqlite::connect(
                    path,
                    queries.clone(),
                    std::sync::Arc::clone(&instance),
                )?)
            }
        };
        Ok(Self {
            backend,
            outage: std::sync::Arc::default(),
            queries,
            instance,
            url: url.to_owned(),
        })
    }

    /// This store's instance id (random per [`Store::connect`]): the origin named in the change
    /// announcements it makes, so that a listener can tell its own process's changes apart.
    #[must_use]
    pub fn instance_id(&self) -> &str {
        &self.instance
    }

    /// How many SQL statements this store's connections have started since it was opened; a
    /// metric, and how tests prove that a listing costs the same number of queries at any size.
    #[must_use]
    pub fn queries_executed(&self) -> u64 {
        self.queries.get()
    }

    /// Creates the PostgreSQL database a URL names when it is missing (nothing to do for SQLite,
    /// whose file is created on first use). Returns whether a database was created.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the server is unreachable or refuses.
    pub async fn ensure_database(url: &str) -> Result<bool, StoreError> {
        match Self::kind_of(url) {
            DatabaseKind::Postgres => pg::ensure_database(url).await,
            DatabaseKind::Sqlite => Ok(false),
        }
    }

    /// Drops every PostgreSQL database whose name starts with `prefix`, connecting through
    /// `admin_url`; for cleaning up test databases. Returns how many were dropped.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the server is unreachable or refuses.
    pub async fn drop_databases_with_prefix(
        admin_url: &str,
        prefix: &str,
    ) -> Result<usize, StoreError> {
        pg::drop_databases_with_prefix(admin_url, prefix).await
    }

    /// Which engine a URL names.
    #[must_use]
    pub fn kind_of(url: &str) -> DatabaseKind {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            DatabaseKind::Postgres
        } else {
            DatabaseKind::Sqlite
        }
    }

    /// Which engine this store talks to.
    #[must_use]
    pub fn kind(&self) -> DatabaseKind {
        match self.backend {
            Backend::Postgres(_) => DatabaseKind::Postgres,
            Backend::Sqlite(_) => DatabaseKind::Sqlite,
        }
    }

    /// Applies every pending migration (embedded in the binary).
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the database is unreachable or a migration fails.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self.backend {
            Backend::Postgres(_) => pg::migrate(&self.url).await?,
            Backend::Sqlite(_) => sqlite::migrate(sqlite_path(&self.url)).await?,
        }
        let filled = on_db!(self, db => db.fill_search_words().await)?;
        if filled > 0 {
            tracing::info!(messages = filled, "search words filled in");
        }
        Ok(())
    }

    /// Moves the word index's pending entries into the index, outside any send (PostgreSQL; a
    /// no-op on SQLite); returns how many pages of them it moved. PostgreSQL keeps new words of
    /// new messages in a pending list and merges the list into the index in whichever insert
    /// finds it over `gin_pending_list_limit`: inside that send's transaction, where every send of
    /// its group waited 50-100 ms for it. A server calls this every second so that no insert
    /// finds the list full (docs/benchmarks.md, "The tail").
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the database fails, or when the server's database role does
    /// not own the index (PostgreSQL allows the merge to the owner only).
    pub async fn merge_search_backlog(&self) -> Result<u64, StoreError> {
        on_db!(self, db => db.merge_search_backlog().await)
    }

    /// Checks that the database answers.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when it does not.
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_db!(self, db => db.ping().await)
    }

    /// Runs SQL steps in order on one connection, timing each; for the bulk seeder.
    pub(crate) async fn run_steps(
        &self,
        steps: &[(&'static str, String)],
    ) -> Result<Vec<(&'static str, std::time::Duration)>, StoreError> {
        on_db!(self, db => db.run_steps(steps).await)
    }

    /// What a bulk seed left behind: the first bulk user and the number of conversations.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when no bulk seed was run.
    pub async fn bulk_report(&self) -> Result<bulk::BulkReport, StoreError> {
        on_db!(self, db => db.bulk_report().await)
    }

    /// How many messages are stored.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    pub async fn message_count(&self) -> Result<i64, StoreError> {
        on_db!(self, db => db.message_count().await)
    }

    // The writes below are for the seeder and for tests, which have no acting user. They go
    // through the same audited implementations as the admin and safety use cases, so no change
    // to the data escapes the audit log; the entries have no actor.

    /// Creates a booking between a student and a tutor (audited, no actor).
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails (unknown users included).
    pub async fn create_booking(
        &self,
        student: UserId,
        tutor: UserId,
        state: BookingState,
        now: DateTime<Utc>,
    ) -> Result<Booking, StoreError> {
        let audit = unattended(AuditAction::BookingCreated, "booking", None, now);
        on_db!(self, db => Administration::create_booking(db, student, tutor, state, audit).await)
    }

    /// Moves a booking to another state (audited, no actor).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown booking.
    pub async fn set_booking_state(
        &self,
        id: BookingId,
        state: BookingState,
    ) -> Result<Booking, StoreError> {
        let audit = unattended(
            AuditAction::BookingStateChanged,
            "booking",
            Some(id.0),
            Utc::now(),
        );
        on_db!(self, db => Administration::set_booking_state(db, id, state, audit).await)
    }

    /// Assigns a patient to a clinician, idempotently (audited, no actor).
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    pub async fn assign_clinician(
        &self,
        clinician: UserId,
        patient: UserId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let audit = unattended(AuditAction::CareAssigned, "user", Some(patient.0), now);
        on_db!(self, db => Administration::set_assignment(db, clinician, patient, true, audit).await)?;
        Ok(())
    }

    /// Records that `blocker` blocked `blocked`, idempotently (audited, no actor).
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    pub async fn block_user(
        &self,
        blocker: UserId,
        blocked: UserId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let audit = unattended(AuditAction::UserBlocked, "user", Some(blocked.0), now);
        on_db!(self, db => Blocks::set_block(db, blocker, blocked, true, audit).await)?;
        Ok(())
    }

    /// Activates or deactivates a user (audited, no actor).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown user.
    pub async fn set_user_active(&self, id: UserId, active: bool) -> Result<(), StoreError> {
        let action = if active {
            AuditAction::UserActivated
        } else {
            AuditAction::UserDeactivated
        };
        let audit = unattended(action, "user", Some(id.0), Utc::now());
        on_db!(self, db => db.admin_set_user(id, Some(active), None, audit).await)?;
        Ok(())
    }

    /// One page of the audit log, newest first, narrowed by `filter`; for admins.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    pub async fn audit_entries(
        &self,
        filter: crate::audit::AuditFilter,
        page: Page,
    ) -> Result<Vec<crate::audit::AuditEntry>, StoreError> {
        on_db!(self, db => db.audit_entries(filter, page).await)
    }

    /// Walks the whole audit log in id order, recomputing each entry's hash, and reports the first
    /// entry that was changed or that follows a removed one.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails (a tampered chain is a result, not an error).
    pub async fn verify_audit_chain(&self) -> Result<crate::audit::AuditVerification, StoreError> {
        on_db!(self, db => db.verify_audit_chain().await)
    }
}

/// Counts the statements started on every connection of one store.
#[derive(Debug, Clone, Default)]
pub(crate) struct QueryCounter(std::sync::Arc<std::sync::atomic::AtomicU64>);

impl QueryCounter {
    fn get(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// A diesel instrumentation that counts each statement as it starts.
    pub(crate) fn instrumentation(&self) -> impl diesel::connection::Instrumentation {
        let counter = self.0.clone();
        move |event: diesel::connection::InstrumentationEvent<'_>| {
            if let diesel::connection::InstrumentationEvent::StartQuery { .. } = event {
                counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
    }
}

/// An audit record for a change made without an acting user (seed data, tests).
fn unattended(
    action: AuditAction,
    object_type: &'static str,
    object_id: Option<i64>,
    at: DateTime<Utc>,
) -> AuditRecord {
    AuditRecord {
        actor: None,
        action,
        object_type,
        object_id,
        at,
        client_addr: None,
    }
}

/// What real-time delivery needs beyond the ports: hearing other instances, presence across
/// instances, and WebSocket tickets any instance can redeem.
impl Store {
    /// Listens for other instances' (and this one's) stream entries and fleeting events. `None`
    /// for SQLite, which serves one process that delivers in-process.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the listening connection cannot be opened.
    pub async fn listen(
        &self,
    ) -> Result<Option<tokio::sync::mpsc::Receiver<listen::Notice>>, StoreError> {
        match self.backend {
            Backend::Postgres(_) => pg::listen(&self.url).await.map(Some),
            Backend::Sqlite(_) => Ok(None),
        }
    }

    /// The newest entry numbers of several users' streams (users with an empty stream are left
    /// out), in one query per 500 users.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the database fails.
    pub async fn latest_seqs(
        &self,
        users: &[UserId],
    ) -> Result<Vec<(UserId, StreamSeq)>, StoreError> {
        on_db!(self, db => db.latest_seqs(users).await)
    }

    /// Sends a fleeting event to every listening instance; nothing to do on SQLite.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the database fails.
    pub async fn notify_live(&self, payload: &str) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Postgres(db) => db.notify_live(payload).await,
            Backend::Sqlite(_) => Ok(()),
        }
    }

    /// Records that `instance` holds sockets of `users` as of `at`.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the database fails.
    pub async fn presence_touch(
        &self,
        instance: &str,
        users: &[UserId],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_db!(self, db => db.presence_touch(instance, users, at).await)
    }

    /// Forgets `instance`'s sockets of `users` (of everyone when `None`).
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the database fails.
    pub async fn presence_leave(
        &self,
        instance: &str,
        users: Option<&[UserId]>,
    ) -> Result<(), StoreError> {
        on_db!(self, db => db.presence_leave(instance, users).await)
    }

    /// Deletes the presence rows of instances silent since before `before`; returns how many
    /// instances were removed.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the database fails.
    pub async fn presence_sweep(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        on_db!(self, db => db.presence_sweep(before).await)
    }

    /// Whether any instance saw `user` connected since `since`.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the database fails.
    pub async fn presence_online(
        &self,
        user: UserId,
        since: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        on_db!(self, db => db.presence_online(user, since).await)
    }
}

/// One rate-limit quota to take a request from: `burst` requests at once, refilled one per
/// `interval`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateQuota {
    /// What is limited, e.g. `send:42`.
    pub key: String,
    /// The time one request's allowance takes to refill.
    pub interval: std::time::Duration,
    /// How many requests may come at once.
    pub burst: u32,
}

impl Store {
    /// Whether this store can hold rate limits for every instance on it (PostgreSQL). SQLite
    /// serves one process, whose memory is the right place for them.
    #[must_use]
    pub fn shares_rate_limits(&self) -> bool {
        self.kind() == DatabaseKind::Postgres
    }

    /// Takes one request from each quota, all or nothing, in the database every instance shares:
    /// `None` when allowed, `Some(wait)` until the same request would pass when a quota is spent.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails; [`StoreError::Backend`] on SQLite, which keeps
    /// no shared limits (see [`Store::shares_rate_limits`]).
    pub async fn take_rate(
        &self,
        quotas: Vec<RateQuota>,
    ) -> Result<Option<std::time::Duration>, StoreError> {
        let result = match &self.backend {
            Backend::Postgres(db) => db.rate_take(quotas).await,
            Backend::Sqlite(_) => Err(StoreError::Backend(
                "SQLite keeps no shared rate limits".into(),
            )),
        };
        self.outage.observe(&result);
        result
    }

    /// Forgets shared rate-limit keys whose quotas have refilled; returns how many (0 on SQLite).
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn sweep_rate_limits(&self) -> Result<u64, StoreError> {
        let result = match &self.backend {
            Backend::Postgres(db) => db.rate_sweep().await,
            Backend::Sqlite(_) => Ok(0),
        };
        self.outage.observe(&result);
        result
    }
}

fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
}
