//! The ports: what the domain needs from the outside world. Adapters implement them; the domain's
//! tests (and other crates' tests, with the `mocks` feature) use mockall mocks of them.

use std::path::PathBuf;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::accounts::{AccountStatus, NewAccount, Password, SessionKey, TicketRecord};
use crate::attachment::{
    Attachment, AttachmentId, FileName, NewAttachment, PendingUpload, QueuedScan, ScanStatus,
    ScanVerdict, StorageKey,
};
use crate::audit::AuditRecord;
use crate::error::StoreError;
use crate::event::{EventPlan, LiveEvent, Recorded, Replay, StreamEvent, StreamSeq};
use crate::message::{
    Conversation, DeleteScope, HistoryRequest, HistorySlice, Message, MessageId, NewMessage,
    NewReport, Report, SearchResults, ThreadSummary, UnreadCounts,
};
use crate::text::{Page, PageSize, SearchQuery};
use crate::user::{
    BlockState, Booking, BookingId, BookingState, CareAssignment, Role, User, UserId,
};

/// Messages and conversations.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait MessageRepository: Send + Sync + 'static {
    /// Every conversation between two users, whatever its booking context.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn conversations_between(
        &self,
        a: UserId,
        b: UserId,
    ) -> Result<Vec<Conversation>, StoreError>;

    /// Stores a new message in its conversation (created when missing), updates both members'
    /// thread rows, writes the audit record and appends the events `plan` decides to their users'
    /// streams, all in one transaction. The audit record's object id is filled with the new
    /// message's id.
    ///
    /// # Errors
    /// [`StoreError::Duplicate`] (`client_message_id`) when the sender already used the message's
    /// client id; [`StoreError::Backend`] when the store fails. Nothing is stored then.
    async fn insert_message(
        &self,
        message: NewMessage,
        audit: AuditRecord,
        plan: EventPlan<Message>,
    ) -> Result<Recorded<Message>, StoreError>;

    /// The message `sender` sent with the client id `client_message_id`, if any.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn message_by_client_id(
        &self,
        sender: UserId,
        client_message_id: String,
    ) -> Result<Option<Message>, StoreError>;

    /// One message by id, whoever may see it.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn message(&self, id: MessageId) -> Result<Option<Message>, StoreError>;

    /// Replaces a message's body and marks it edited at `at`, with its audit record and events.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the message is gone, [`StoreError::Backend`] when the store fails.
    async fn update_body(
        &self,
        id: MessageId,
        body: String,
        at: DateTime<Utc>,
        audit: AuditRecord,
        plan: EventPlan<Message>,
    ) -> Result<Recorded<Message>, StoreError>;

    /// Marks a message read at `at` unless it already is (the first `read_at` stays), lowers the
    /// recipient's unread count, and writes the audit record and events (only when it changed).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the message is gone, [`StoreError::Backend`] when the store fails.
    async fn mark_read(
        &self,
        id: MessageId,
        at: DateTime<Utc>,
        audit: AuditRecord,
        plan: EventPlan<Message>,
    ) -> Result<Recorded<Message>, StoreError>;

    /// Records that a device of the recipient received the message: sets its delivery time unless
    /// it is set already, and then only appends the events `plan` decides. Returns whether it
    /// changed.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the message is gone, [`StoreError::Backend`] when the store fails.
    async fn mark_delivered(
        &self,
        id: MessageId,
        at: DateTime<Utc>,
        plan: EventPlan<Message>,
    ) -> Result<Recorded<bool>, StoreError>;

    /// Marks read every unread message from `other` to `reader` that `reader` can see, optionally
    /// only in one booking's conversation; returns how many changed.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn mark_thread_read(
        &self,
        reader: UserId,
        other: UserId,
        booking: Option<BookingId>,
        at: DateTime<Utc>,
        audit: AuditRecord,
        plan: EventPlan<u64>,
    ) -> Result<Recorded<u64>, StoreError>;

    /// Deletes a message for `user` with `scope`, following [`Message::after_delete`]: sets the
    /// deleter's flag (and `deleted_at` once both parties deleted it) or the delete-for-everyone time,
    /// and updates the members' thread rows and unread counts, in one transaction.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the message is gone, [`StoreError::Backend`] when the store fails.
    async fn delete_message(
        &self,
        id: MessageId,
        user: UserId,
        scope: DeleteScope,
        at: DateTime<Utc>,
        audit: AuditRecord,
        plan: EventPlan<Message>,
    ) -> Result<Recorded<Message>, StoreError>;

    /// A user's threads, most recent activity first; conversations where the user can see no message
    /// are left out.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn threads(
        &self,
        user: UserId,
        limit: PageSize,
    ) -> Result<Vec<ThreadSummary>, StoreError>;

    /// A page of a user's threads (System B's inbox), most recent activity first, optionally only
    /// those with unread messages.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn inbox(
        &self,
        user: UserId,
        page: Page,
        unread_only: bool,
    ) -> Result<Vec<ThreadSummary>, StoreError>;

    /// Stores a report with its audit record.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn insert_report(
        &self,
        report: NewReport,
        audit: AuditRecord,
    ) -> Result<Report, StoreError>;

    /// Reports, newest first.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn reports(&self, page: Page) -> Result<Vec<Report>, StoreError>;

    /// A page of the messages between `user` and `other` that `user` can see, optionally in one
    /// booking's conversation only. Page 1 is the newest; each page is oldest first.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn history(
        &self,
        user: UserId,
        other: UserId,
        booking: Option<BookingId>,
        request: HistoryRequest,
    ) -> Result<HistorySlice<Message>, StoreError>;

    /// The messages `user` sent and can still see, newest first.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn sent(&self, user: UserId, page: Page) -> Result<Vec<Message>, StoreError>;

    /// Full-text search over the messages `user` can see, best match first.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn search(
        &self,
        user: UserId,
        query: &SearchQuery,
        page: Page,
    ) -> Result<SearchResults<Message>, StoreError>;

    /// Unread messages to `user` that `user` can see, in total and per sender.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn unread_counts(&self, user: UserId) -> Result<UnreadCounts, StoreError>;
}

/// Users and what relates them: bookings, care assignments and blocks.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Directory: Send + Sync + 'static {
    /// One user by id.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn user(&self, id: UserId) -> Result<Option<User>, StoreError>;

    /// One user by login name (exact match).
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn user_by_username(&self, username: &str) -> Result<Option<User>, StoreError>;

    /// Several users by id, in no particular order; unknown ids are left out.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn users(&self, ids: Vec<UserId>) -> Result<Vec<User>, StoreError>;

    /// One booking by id.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn booking(&self, id: BookingId) -> Result<Option<Booking>, StoreError>;

    /// Every booking between two users, in either role.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn bookings_between(&self, a: UserId, b: UserId) -> Result<Vec<Booking>, StoreError>;

    /// Whether `patient` is assigned to `clinician` now, was once, or never was.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn care_assignment(
        &self,
        clinician: UserId,
        patient: UserId,
    ) -> Result<CareAssignment, StoreError>;

    /// Who has blocked whom between `first` and `second`.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn blocks_between(&self, first: UserId, second: UserId)
    -> Result<BlockState, StoreError>;

    /// Records (`blocked = true`) or lifts a block by `blocker` on `blocked`, with its audit
    /// record; returns whether anything changed.
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

    /// Everyone `user` shares a conversation with and has no block with (in either direction).
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn conversation_partners(&self, user: UserId) -> Result<Vec<UserId>, StoreError>;

    /// Whether `user` hides their presence.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn presence_hidden(&self, user: UserId) -> Result<bool, StoreError>;

    /// Hides or shows `user`'s presence; returns whether anything changed.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn set_presence_hidden(&self, user: UserId, hidden: bool) -> Result<bool, StoreError>;
}

/// Users' event streams as stored: what real-time delivery replays to a device that reconnects.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait EventLog: Send + Sync + 'static {
    /// Up to `limit` entries of `user`'s stream after `after`, oldest first; or
    /// [`Replay::Resync`] when entries after `after` are no longer kept (or `after` is beyond the
    /// newest entry).
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn events_after(
        &self,
        user: UserId,
        after: StreamSeq,
        limit: u32,
    ) -> Result<Replay, StoreError>;

    /// The number of the newest entry of `user`'s stream, 0 when it is empty.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn latest_seq(&self, user: UserId) -> Result<StreamSeq, StoreError>;

    /// Forgets entries appended before `before`; returns how many. Streams keep their numbering.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn prune_events(&self, before: DateTime<Utc>) -> Result<u64, StoreError>;
}

/// What admins change: accounts, bookings and care assignments. Each change is written with its
/// audit record in one transaction.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Administration: Send + Sync + 'static {
    /// Activates or deactivates an account. Deactivating also, in the same transaction, raises the
    /// account's credential version and revokes every session, refresh token and unredeemed
    /// ticket of it, so that nothing issued before works again, even after a reactivation.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown user.
    async fn set_user_active(
        &self,
        user: UserId,
        active: bool,
        audit: AuditRecord,
    ) -> Result<User, StoreError>;

    /// Changes an account's role.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown user.
    async fn set_user_role(
        &self,
        user: UserId,
        role: Role,
        audit: AuditRecord,
    ) -> Result<User, StoreError>;

    /// Creates a booking.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn create_booking(
        &self,
        student: UserId,
        tutor: UserId,
        state: BookingState,
        audit: AuditRecord,
    ) -> Result<Booking, StoreError>;

    /// Moves a booking to another state.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown booking.
    async fn set_booking_state(
        &self,
        booking: BookingId,
        state: BookingState,
        audit: AuditRecord,
    ) -> Result<Booking, StoreError>;

    /// Assigns (`assigned = true`) or unassigns a patient to or from a clinician; returns whether
    /// anything changed.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn set_assignment(
        &self,
        clinician: UserId,
        patient: UserId,
        assigned: bool,
        audit: AuditRecord,
    ) -> Result<bool, StoreError>;
}

/// Accounts and their credentials, for the server's authentication.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Accounts: Send + Sync + 'static {
    /// Creates an account and writes its audit record in one transaction.
    ///
    /// # Errors
    /// [`StoreError::Duplicate`] (`username` or `email`) when taken, [`StoreError::Backend`] otherwise.
    async fn create_account(
        &self,
        account: NewAccount,
        audit: AuditRecord,
    ) -> Result<User, StoreError>;

    /// A user and their password hash, by login name.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn credentials(&self, username: &str) -> Result<Option<(User, String)>, StoreError>;

    /// Stores a new refresh token, by its hash only, in a token family.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn insert_refresh_token(&self, token: RefreshTokenRecord) -> Result<(), StoreError>;

    /// Consumes a refresh token by hash at `now`: marks it used and says what it was. A token
    /// presented a second time revokes its whole family.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn consume_refresh_token(
        &self,
        token_hash: String,
        now: DateTime<Utc>,
    ) -> Result<RefreshOutcome, StoreError>;

    /// Revokes every refresh token of the family the token (by hash) belongs to; returns whether
    /// one was found.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn revoke_refresh_family(
        &self,
        token_hash: String,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Stores a new browser session.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn insert_session(&self, session: SessionRecord) -> Result<(), StoreError>;

    /// A session by the hash of its id.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn session(&self, id_hash: String) -> Result<Option<SessionRecord>, StoreError>;

    /// Records that a session was used at `now`.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn touch_session(&self, id_hash: String, now: DateTime<Utc>) -> Result<(), StoreError>;

    /// Closes a session.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn revoke_session(&self, id_hash: String, now: DateTime<Utc>) -> Result<(), StoreError>;

    /// A user and their password hash, by id.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn credentials_by_id(&self, user: UserId) -> Result<Option<(User, String)>, StoreError>;

    /// Replaces a user's password hash and, in the same transaction, raises their credential
    /// version (so every access token and ticket issued so far stops working), revokes every
    /// refresh token and every browser session but `keep`, and writes `audit`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown user.
    async fn set_password(
        &self,
        user: UserId,
        password_hash: String,
        keep: Option<SessionKey>,
        now: DateTime<Utc>,
        audit: AuditRecord,
    ) -> Result<(), StoreError>;

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

/// The one read every authenticated request makes: whether an account may act, in what role, and
/// which credentials still hold. An adapter may cache it briefly, but a change (deactivation, a
/// role change, a password change) must reach every reader within a second.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait AccountStatuses: Send + Sync + 'static {
    /// The account's status, or `None` when there is no such user.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails.
    async fn account_status(&self, user: UserId) -> Result<Option<AccountStatus>, StoreError>;
}

/// Why a password could not be hashed or checked.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// Every hashing slot and the queue in front of them are taken: try again shortly.
    #[error("password hashing is at capacity")]
    Busy,
    /// The hasher failed.
    #[error("password hashing failed: {0}")]
    Failed(String),
}

/// Password hashing (argon2id in the server), slow on purpose and bounded in concurrency by the
/// adapter.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PasswordHasher: Send + Sync + 'static {
    /// Hashes a new password into a self-describing (PHC) string.
    ///
    /// # Errors
    /// [`HashError`] when at capacity or failing.
    async fn hash(&self, password: Password) -> Result<String, HashError>;

    /// Checks a password against a stored hash. With `None` (an unknown user) it does the same
    /// work against a dummy hash and answers `false`, so that unknown and known names take as
    /// long to refuse.
    ///
    /// # Errors
    /// [`HashError`] when at capacity or failing.
    async fn verify(&self, password: Password, hash: Option<String>) -> Result<bool, HashError>;
}

/// A browser session as stored: the hash of its id, never the id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// SHA-256 of the session id, hex.
    pub id_hash: String,
    /// Whose session it is.
    pub user_id: UserId,
    /// When it was opened.
    pub created_at: DateTime<Utc>,
    /// When it was last used.
    pub last_seen_at: DateTime<Utc>,
    /// When it was closed (logout), if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A refresh token as stored: its hash, never the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshTokenRecord {
    /// SHA-256 of the token, hex.
    pub token_hash: String,
    /// Whose token it is.
    pub user_id: UserId,
    /// The family of tokens descended from one login.
    pub family: String,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// When it stops being accepted.
    pub expires_at: DateTime<Utc>,
}

/// What presenting a refresh token led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// The token was valid and is now used up; issue a new one in the same family.
    Valid {
        /// Whose token it was.
        user_id: UserId,
        /// Its family.
        family: String,
    },
    /// The token had already been used: the family is now revoked.
    Reused {
        /// Whose token it was.
        user_id: UserId,
    },
    /// Unknown, expired or revoked.
    Invalid,
}

/// The append-only audit log, for events that are not part of a message change (logins, ...).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait AuditLog: Send + Sync + 'static {
    /// Appends one record.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails; the caller must fail its action too.
    async fn record(&self, record: AuditRecord) -> Result<(), StoreError>;
}

/// Delivers events to the users concerned after their change is stored.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait EventPublisher: Send + Sync + 'static {
    /// Hands stored stream entries over for delivery, after their transaction committed. It must
    /// not block; a lost hand-over costs latency only, since devices catch up from the stream.
    fn publish(&self, events: Vec<StreamEvent>);

    /// Hands a fleeting event over for delivery to whoever is connected now. It must not block.
    fn publish_live(&self, event: LiveEvent);

    /// Closes, on every instance, the user's open connections: all of them (`session: None`, the
    /// account was deactivated) or those opened through one browser session (it was logged out).
    /// A connection outlives the credential it was opened with, so ending a credential must reach
    /// it. It must not block.
    fn disconnect(&self, user: UserId, session: Option<SessionKey>);

    /// The account's status changed (activated, deactivated, a new role): whatever is cached of
    /// it, on any instance, must be read afresh. It must not block.
    fn account_changed(&self, user: UserId);
}

/// Object storage for attachments: files are written under a key and read back through an expiring
/// link. Keys are always [`StorageKey`]s, so an adapter never sees a client's file name as a path.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait AttachmentStorage: Send + Sync + 'static {
    /// Stores the file at `path` (a spooled upload of `size` bytes) under `key`, streaming it.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the storage fails; nothing is left under `key` then.
    async fn put_file(
        &self,
        key: StorageKey,
        content_type: &'static str,
        path: PathBuf,
        size: u64,
    ) -> Result<(), StoreError>;

    /// Stores `bytes` under `key`.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the storage fails.
    async fn put_bytes(
        &self,
        key: StorageKey,
        content_type: &'static str,
        bytes: Vec<u8>,
    ) -> Result<(), StoreError>;

    /// The stored bytes (files are at most [`crate::attachment::MAX_DOCUMENT_BYTES`]).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when nothing is stored under `key`, [`StoreError::Backend`] when
    /// the storage fails.
    async fn get(&self, key: StorageKey) -> Result<Vec<u8>, StoreError>;

    /// A link that downloads `key` as `file_name` with `content_type` (and, where the storage can,
    /// `X-Content-Type-Options: nosniff`) until `expires_in_seconds` from now. A link that starts
    /// with `/` is relative to the server's own address.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the storage fails.
    async fn download_url(
        &self,
        key: StorageKey,
        file_name: FileName,
        content_type: &'static str,
        expires_in_seconds: u32,
    ) -> Result<String, StoreError>;

    /// Removes `key`; removing a missing key succeeds.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the storage fails.
    async fn delete(&self, key: StorageKey) -> Result<(), StoreError>;
}

/// A virus scanner.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait VirusScanner: Send + Sync + 'static {
    /// Scans a file's bytes.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the scanner cannot be reached or cannot decide; the file then
    /// stays pending.
    async fn scan(&self, bytes: Vec<u8>) -> Result<ScanVerdict, StoreError>;
}

/// Attachments, and messages that carry one.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait AttachmentRepository: Send + Sync + 'static {
    /// Records that an object is about to be stored under `upload.key`, before the upload
    /// starts, so that it can be found and removed if its message never commits.
    ///
    /// # Errors
    /// [`StoreError::Duplicate`] when the key is recorded already, [`StoreError::Backend`] when
    /// the store fails.
    async fn begin_upload(&self, upload: PendingUpload) -> Result<(), StoreError>;

    /// Stores a message with its attachment (whose object is already in the storage, recorded by
    /// [`AttachmentRepository::begin_upload`]) in one short transaction, like
    /// [`MessageRepository::insert_message`]: the message, the attachment row, the end of the
    /// pending upload, both audit records (their object ids filled in), then the events `plan`
    /// decides. If any step fails, nothing is stored.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the pending upload is no longer there (it was taken for
    /// abandoned and its object is being removed), [`StoreError::Backend`] when the store fails.
    async fn insert_message_with_attachment(
        &self,
        message: NewMessage,
        attachment: NewAttachment,
        message_audit: AuditRecord,
        attachment_audit: AuditRecord,
        plan: EventPlan<Message>,
    ) -> Result<Recorded<(Message, Attachment)>, StoreError>;

    /// Takes up to `limit` pending uploads started before `started_before` for abandoned and
    /// returns their keys: from then on no message can be stored with them, so their objects
    /// may be removed. Uploads taken before and not yet forgotten are returned again.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn abandon_uploads(
        &self,
        started_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<StorageKey>, StoreError>;

    /// Forgets a pending upload whose object is gone (or was never stored); forgetting an
    /// unknown key succeeds.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn forget_upload(&self, key: StorageKey) -> Result<(), StoreError>;

    /// One attachment with its message.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn attachment(
        &self,
        id: AttachmentId,
    ) -> Result<Option<(Attachment, Message)>, StoreError>;

    /// The attachments of some messages, in id order.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn attachments_of(&self, messages: Vec<MessageId>)
    -> Result<Vec<Attachment>, StoreError>;

    /// Up to `limit` attachments waiting for the scanner (`pending` or `not_scanned`) and due at
    /// `now` (never deferred, or deferred until `now` or earlier), oldest first.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the store fails.
    async fn unscanned(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<QueuedScan>, StoreError>;

    /// Records that scanning a file failed for the `failures`-th time in a row, and leaves it out
    /// of [`AttachmentRepository::unscanned`] until `retry_at`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown attachment, [`StoreError::Backend`] when the store
    /// fails.
    async fn defer_scan(
        &self,
        id: AttachmentId,
        failures: u32,
        retry_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Records the scanner's decision, with its audit record and the events `plan` decides.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown attachment, [`StoreError::Backend`] when the store
    /// fails.
    async fn set_scan_status(
        &self,
        id: AttachmentId,
        status: ScanStatus,
        at: DateTime<Utc>,
        audit: AuditRecord,
        plan: EventPlan<Attachment>,
    ) -> Result<Recorded<Attachment>, StoreError>;
}

/// The current time. The domain never reads the system clock itself.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait Clock: Send + Sync + 'static {
    /// Now.
    fn now(&self) -> DateTime<Utc>;
}
