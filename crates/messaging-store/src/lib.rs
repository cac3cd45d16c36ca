//! The Diesel (diesel-async) store: PostgreSQL in production, SQLite as the embedded default, one
//! implementation of the domain's repository ports for both, chosen by the database URL.
//!
//! Both backends share their schema and queries (`shared/`, included into each backend's module);
//! only connection set-up, migrations and full-text search differ.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use messaging_domain::StoreError;
use messaging_domain::accounts::{AccountStatus, NewAccount, SessionKey, TicketRecord};
use messaging_domain::attachment::{
    Attachment, AttachmentId, NewAttachment, PendingUpload, QueuedScan, ScanStatus, StorageKey,
};
use messaging_domain::audit::{AuditAction, AuditRecord};
use messaging_domain::event::{Change, EventPlan, Recorded, Replay, StreamSeq};
use messaging_domain::message::{
    Conversation, Deletion, HistoryRequest, HistorySlice, Message, MessageId, NewMessage,
    NewReport, Report, SearchResults, ThreadSummary, UnreadCounts,
};
use messaging_domain::ports::{
    AccountStatuses, Administration, AttachmentRepository, AuditLog, Blocks, Credentials, EventLog,
    MessageQueries, Messages, People, PresenceSettings, RefreshOutcome, RefreshTokenRecord,
    Reports, SessionRecord, Sessions, Tickets,
};
use messaging_domain::text::{Page, PageSize, SearchQuery};
use messaging_domain::user::{
    BlockState, Booking, BookingId, BookingState, CareAssignment, Role, User, UserId,
};

pub mod audit;
pub mod bulk;
mod error;
pub mod listen;
mod people;
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

/// Runs the same call on whichever backend the store has.
macro_rules! on_db {
    ($self:ident, $db:ident => $call:expr) => {{
        let result = match &$self.backend {
            Backend::Postgres($db) => $call,
            Backend::Sqlite($db) => $call,
        };
        $self.outage.observe(&result);
        result
    }};
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

fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
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
        on_db!(self, db => db.admin_create_booking(student, tutor, state, audit).await)
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
        on_db!(self, db => db.admin_set_booking_state(id, state, audit).await)
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
        on_db!(self, db => db.admin_set_assignment(clinician, patient, true, audit).await)?;
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
        on_db!(self, db => db.set_block(blocker, blocked, true, audit).await)?;
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

#[async_trait]
impl EventLog for Store {
    async fn events_after(
        &self,
        user: UserId,
        after: StreamSeq,
        limit: u32,
    ) -> Result<Replay, StoreError> {
        on_db!(self, db => db.events_after(user, after, limit).await)
    }

    async fn latest_seq(&self, user: UserId) -> Result<StreamSeq, StoreError> {
        on_db!(self, db => db.latest_seq(user).await)
    }

    async fn prune_events(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        on_db!(self, db => db.prune_events(before).await)
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

#[async_trait]
impl Messages for Store {
    async fn insert_message(
        &self,
        message: NewMessage,
        change: Change<Message>,
    ) -> Result<Recorded<Message>, StoreError> {
        on_db!(self, db => db.insert_message(message, change).await)
    }

    async fn update_body(
        &self,
        id: MessageId,
        body: String,
        at: DateTime<Utc>,
        change: Change<Message>,
    ) -> Result<Recorded<Message>, StoreError> {
        on_db!(self, db => db.update_body(id, body, at, change).await)
    }

    async fn mark_read(
        &self,
        id: MessageId,
        at: DateTime<Utc>,
        change: Change<Message>,
    ) -> Result<Recorded<Message>, StoreError> {
        on_db!(self, db => db.mark_read(id, at, change).await)
    }

    async fn mark_delivered(
        &self,
        id: MessageId,
        at: DateTime<Utc>,
        plan: EventPlan<Message>,
    ) -> Result<Recorded<bool>, StoreError> {
        on_db!(self, db => db.mark_delivered(id, at, plan).await)
    }

    async fn mark_thread_read(
        &self,
        reader: UserId,
        other: UserId,
        booking: Option<BookingId>,
        at: DateTime<Utc>,
        change: Change<u64>,
    ) -> Result<Recorded<u64>, StoreError> {
        on_db!(self, db => db.mark_thread_read(reader, other, booking, at, change).await)
    }

    async fn delete_message(
        &self,
        deletion: Deletion,
        change: Change<Message>,
    ) -> Result<Recorded<Message>, StoreError> {
        on_db!(self, db => db.delete_message(deletion, change).await)
    }
}

#[async_trait]
impl MessageQueries for Store {
    async fn conversations_between(
        &self,
        a: UserId,
        b: UserId,
    ) -> Result<Vec<Conversation>, StoreError> {
        on_db!(self, db => db.conversations_between(a, b).await)
    }

    async fn message(&self, id: MessageId) -> Result<Option<Message>, StoreError> {
        on_db!(self, db => db.message(id).await)
    }

    async fn message_by_client_id(
        &self,
        sender: UserId,
        client_message_id: String,
    ) -> Result<Option<Message>, StoreError> {
        on_db!(self, db => db.message_by_client_id(sender, client_message_id).await)
    }

    async fn threads(
        &self,
        user: UserId,
        limit: PageSize,
    ) -> Result<Vec<ThreadSummary>, StoreError> {
        on_db!(self, db => db.threads(user, limit).await)
    }

    async fn inbox(
        &self,
        user: UserId,
        page: Page,
        unread_only: bool,
    ) -> Result<Vec<ThreadSummary>, StoreError> {
        on_db!(self, db => db.inbox(user, page, unread_only).await)
    }

    async fn history(
        &self,
        user: UserId,
        other: UserId,
        booking: Option<BookingId>,
        request: HistoryRequest,
    ) -> Result<HistorySlice<Message>, StoreError> {
        on_db!(self, db => db.history(user, other, booking, request).await)
    }

    async fn sent(&self, user: UserId, page: Page) -> Result<Vec<Message>, StoreError> {
        on_db!(self, db => db.sent(user, page).await)
    }

    async fn search(
        &self,
        user: UserId,
        query: &SearchQuery,
        page: Page,
    ) -> Result<SearchResults<Message>, StoreError> {
        on_db!(self, db => db.search(user, query, page).await)
    }

    async fn unread_counts(&self, user: UserId) -> Result<UnreadCounts, StoreError> {
        on_db!(self, db => db.unread_counts(user).await)
    }
}

#[async_trait]
impl Reports for Store {
    async fn insert_report(
        &self,
        report: NewReport,
        audit: AuditRecord,
    ) -> Result<Report, StoreError> {
        on_db!(self, db => db.insert_report(report, audit).await)
    }

    async fn reports(&self, page: Page) -> Result<Vec<Report>, StoreError> {
        on_db!(self, db => db.reports(page).await)
    }
}

#[async_trait]
impl People for Store {
    async fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        on_db!(self, db => db.user(id).await)
    }

    async fn user_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        on_db!(self, db => db.user_by_username(username).await)
    }

    async fn users(&self, ids: Vec<UserId>) -> Result<Vec<User>, StoreError> {
        on_db!(self, db => db.users(ids).await)
    }

    async fn booking(&self, id: BookingId) -> Result<Option<Booking>, StoreError> {
        on_db!(self, db => db.booking(id).await)
    }

    async fn bookings_between(&self, a: UserId, b: UserId) -> Result<Vec<Booking>, StoreError> {
        on_db!(self, db => db.bookings_between(a, b).await)
    }

    async fn care_assignment(
        &self,
        clinician: UserId,
        patient: UserId,
    ) -> Result<CareAssignment, StoreError> {
        on_db!(self, db => db.care_assignment(clinician, patient).await)
    }

    async fn conversation_partners(&self, user: UserId) -> Result<Vec<UserId>, StoreError> {
        on_db!(self, db => db.conversation_partners(user).await)
    }
}

#[async_trait]
impl Blocks for Store {
    async fn blocks_between(
        &self,
        first: UserId,
        second: UserId,
    ) -> Result<BlockState, StoreError> {
        on_db!(self, db => db.blocks_between(first, second).await)
    }

    async fn set_block(
        &self,
        blocker: UserId,
        blocked: UserId,
        on: bool,
        audit: AuditRecord,
    ) -> Result<bool, StoreError> {
        on_db!(self, db => db.set_block(blocker, blocked, on, audit).await)
    }
}

#[async_trait]
impl PresenceSettings for Store {
    async fn presence_hidden(&self, user: UserId) -> Result<bool, StoreError> {
        on_db!(self, db => db.presence_hidden(user).await)
    }

    async fn set_presence_hidden(&self, user: UserId, hidden: bool) -> Result<bool, StoreError> {
        on_db!(self, db => db.set_presence_hidden(user, hidden).await)
    }
}

#[async_trait]
impl Administration for Store {
    async fn set_user_active(
        &self,
        user: UserId,
        active: bool,
        audit: AuditRecord,
    ) -> Result<User, StoreError> {
        on_db!(self, db => db.admin_set_user(user, Some(active), None, audit).await)
    }

    async fn set_user_role(
        &self,
        user: UserId,
        role: Role,
        audit: AuditRecord,
    ) -> Result<User, StoreError> {
        on_db!(self, db => db.admin_set_user(user, None, Some(role), audit).await)
    }

    async fn create_booking(
        &self,
        student: UserId,
        tutor: UserId,
        state: BookingState,
        audit: AuditRecord,
    ) -> Result<Booking, StoreError> {
        on_db!(self, db => db.admin_create_booking(student, tutor, state, audit).await)
    }

    async fn set_booking_state(
        &self,
        booking: BookingId,
        state: BookingState,
        audit: AuditRecord,
    ) -> Result<Booking, StoreError> {
        on_db!(self, db => db.admin_set_booking_state(booking, state, audit).await)
    }

    async fn set_assignment(
        &self,
        clinician: UserId,
        patient: UserId,
        assigned: bool,
        audit: AuditRecord,
    ) -> Result<bool, StoreError> {
        on_db!(self, db => db.admin_set_assignment(clinician, patient, assigned, audit).await)
    }
}

#[async_trait]
impl Credentials for Store {
    async fn create_account(
        &self,
        account: NewAccount,
        audit: AuditRecord,
    ) -> Result<User, StoreError> {
        let now = audit.at;
        on_db!(self, db => db.create_account(account, audit, now).await)
    }

    async fn credentials(&self, username: &str) -> Result<Option<(User, String)>, StoreError> {
        on_db!(self, db => db.credentials(username).await)
    }

    async fn credentials_by_id(&self, user: UserId) -> Result<Option<(User, String)>, StoreError> {
        on_db!(self, db => db.credentials_by_id(user).await)
    }

    async fn set_password(
        &self,
        user: UserId,
        password_hash: String,
        keep: Option<SessionKey>,
        now: DateTime<Utc>,
        audit: AuditRecord,
    ) -> Result<(), StoreError> {
        on_db!(self, db => db.set_password(user, password_hash, keep, now, audit).await)
    }
}

#[async_trait]
impl Sessions for Store {
    async fn insert_session(&self, session: SessionRecord) -> Result<(), StoreError> {
        on_db!(self, db => db.insert_session(session).await)
    }

    async fn session(&self, id_hash: String) -> Result<Option<SessionRecord>, StoreError> {
        on_db!(self, db => db.session(id_hash).await)
    }

    async fn touch_session(&self, id_hash: String, now: DateTime<Utc>) -> Result<(), StoreError> {
        on_db!(self, db => db.touch_session(id_hash, now).await)
    }

    async fn revoke_session(&self, id_hash: String, now: DateTime<Utc>) -> Result<(), StoreError> {
        on_db!(self, db => db.revoke_session(id_hash, now).await)
    }

    async fn insert_refresh_token(&self, token: RefreshTokenRecord) -> Result<(), StoreError> {
        on_db!(self, db => db.insert_refresh_token(token).await)
    }

    async fn consume_refresh_token(
        &self,
        token_hash: String,
        now: DateTime<Utc>,
    ) -> Result<RefreshOutcome, StoreError> {
        on_db!(self, db => db.consume_refresh_token(token_hash, now).await)
    }

    async fn revoke_refresh_family(
        &self,
        token_hash: String,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        on_db!(self, db => db.revoke_refresh_family(token_hash, now).await)
    }
}

#[async_trait]
impl Tickets for Store {
    async fn insert_ws_ticket(&self, ticket: TicketRecord) -> Result<(), StoreError> {
        on_db!(self, db => db.insert_ws_ticket(ticket).await)
    }

    async fn redeem_ws_ticket(
        &self,
        ticket_hash: String,
        now: DateTime<Utc>,
    ) -> Result<Option<TicketRecord>, StoreError> {
        on_db!(self, db => db.redeem_ws_ticket(ticket_hash, now).await)
    }
}

#[async_trait]
impl AccountStatuses for Store {
    async fn account_status(&self, user: UserId) -> Result<Option<AccountStatus>, StoreError> {
        on_db!(self, db => db.account_status(user).await)
    }
}

#[async_trait]
impl AuditLog for Store {
    async fn record(&self, record: AuditRecord) -> Result<(), StoreError> {
        on_db!(self, db => db.record_audit(record).await)
    }
}

#[async_trait]
impl AttachmentRepository for Store {
    async fn begin_upload(&self, upload: PendingUpload) -> Result<(), StoreError> {
        on_db!(self, db => db.begin_upload(upload).await)
    }

    async fn insert_message_with_attachment(
        &self,
        message: NewMessage,
        attachment: NewAttachment,
        change: Change<Message>,
        attachment_audit: AuditRecord,
    ) -> Result<Recorded<(Message, Attachment)>, StoreError> {
        on_db!(self, db => db
            .insert_message_with_attachment(message, attachment, change, attachment_audit)
            .await)
    }

    async fn abandon_uploads(
        &self,
        started_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<StorageKey>, StoreError> {
        on_db!(self, db => db.abandon_uploads(started_before, limit).await)
    }

    async fn forget_upload(&self, key: StorageKey) -> Result<(), StoreError> {
        on_db!(self, db => db.forget_upload(key).await)
    }

    async fn attachment(
        &self,
        id: AttachmentId,
    ) -> Result<Option<(Attachment, Message)>, StoreError> {
        on_db!(self, db => db.attachment(id).await)
    }

    async fn attachments_of(
        &self,
        messages: Vec<MessageId>,
    ) -> Result<Vec<Attachment>, StoreError> {
        on_db!(self, db => db.attachments_of(messages).await)
    }

    async fn unscanned(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<QueuedScan>, StoreError> {
        on_db!(self, db => db.unscanned_attachments(now, limit).await)
    }

    async fn defer_scan(
        &self,
        id: AttachmentId,
        failures: u32,
        retry_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_db!(self, db => db.defer_scan(id, failures, retry_at).await)
    }

    async fn set_scan_status(
        &self,
        id: AttachmentId,
        status: ScanStatus,
        at: DateTime<Utc>,
        change: Change<Attachment>,
    ) -> Result<Recorded<Attachment>, StoreError> {
        on_db!(self, db => db.set_scan_status(id, status, at, change).await)
    }
}
