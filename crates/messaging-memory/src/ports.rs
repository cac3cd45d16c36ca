//! The domain's storage ports over [`MemoryStore`]: each call takes the lock once and runs the
//! matching change or read of the state, which is what makes it one transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use messaging_domain::StoreError;
use messaging_domain::accounts::{AccountStatus, NewAccount, SessionKey, TicketRecord};
use messaging_domain::attachment::{
    Attachment, AttachmentId, NewAttachment, PendingUpload, QueuedScan, ScanStatus, StorageKey,
};
use messaging_domain::audit::AuditRecord;
use messaging_domain::event::{Change, EventPlan, Recorded, Replay, StreamSeq};
use messaging_domain::message::{
    Conversation, Deletion, HistoryRequest, HistorySlice, Message, MessageId, NewMessage,
    NewReport, Report, SearchResults, ThreadSummary, UnreadCounts,
};
use messaging_domain::people::{DirectoryScope, NameQuery, PatientSummary, UserFilter};
use messaging_domain::ports::{
    AccountStatuses, Administration, AttachmentRepository, AuditLog, Blocks, Credentials, EventLog,
    MessageQueries, Messages, People, PeopleSearch, PresenceSettings, RefreshOutcome,
    RefreshTokenRecord, Reports, SessionRecord, Sessions, Tickets,
};
use messaging_domain::text::{Page, PageSize, SearchQuery};
use messaging_domain::user::{
    BlockState, Booking, BookingId, BookingState, CareAssignment, Role, User, UserId, UserSummary,
};

use crate::MemoryStore;

#[async_trait]
impl Messages for MemoryStore {
    async fn insert_message(
        &self,
        message: NewMessage,
        change: Change<Message>,
    ) -> Result<Recorded<Message>, StoreError> {
        self.lock()
            .insert_message(message, change.audit, change.plan)
    }

    async fn update_body(
        &self,
        id: MessageId,
        body: String,
        at: DateTime<Utc>,
        change: Change<Message>,
    ) -> Result<Recorded<Message>, StoreError> {
        self.lock()
            .update_body(id, body, at, change.audit, change.plan)
    }

    async fn mark_read(
        &self,
        id: MessageId,
        at: DateTime<Utc>,
        change: Change<Message>,
    ) -> Result<Recorded<Message>, StoreError> {
        self.lock().mark_read(id, at, change.audit, change.plan)
    }

    async fn mark_delivered(
        &self,
        id: MessageId,
        at: DateTime<Utc>,
        plan: EventPlan<Message>,
    ) -> Result<Recorded<bool>, StoreError> {
        self.lock().mark_delivered(id, at, plan)
    }

    async fn mark_thread_read(
        &self,
        reader: UserId,
        other: UserId,
        booking: Option<BookingId>,
        at: DateTime<Utc>,
        change: Change<u64>,
    ) -> Result<Recorded<u64>, StoreError> {
        Ok(self
            .lock()
            .mark_thread_read(reader, other, booking, at, change.audit, change.plan))
    }

    async fn delete_message(
        &self,
        deletion: Deletion,
        change: Change<Message>,
    ) -> Result<Recorded<Message>, StoreError> {
        let mut state = self.lock();
        let current = state
            .messages
            .get(&deletion.message)
            .ok_or(StoreError::NotFound)?;
        // The per-party rule is the domain's; the store applies it to the message as it stands
        // under the lock.
        let deleted = deletion.apply(current).ok_or(StoreError::NotFound)?;
        state.apply_delete(deleted.after, deletion.at, change.audit, change.plan)
    }
}

#[async_trait]
impl MessageQueries for MemoryStore {
    async fn conversations_between(
        &self,
        a: UserId,
        b: UserId,
    ) -> Result<Vec<Conversation>, StoreError> {
        Ok(self.lock().conversations_between(a, b))
    }

    async fn message(&self, id: MessageId) -> Result<Option<Message>, StoreError> {
        Ok(self.lock().messages.get(&id).cloned())
    }

    async fn message_by_client_id(
        &self,
        sender: UserId,
        client_message_id: String,
    ) -> Result<Option<Message>, StoreError> {
        let state = self.lock();
        Ok(state
            .client_ids
            .get(&(sender, client_message_id))
            .and_then(|id| state.messages.get(id))
            .cloned())
    }

    async fn threads(
        &self,
        user: UserId,
        limit: PageSize,
    ) -> Result<Vec<ThreadSummary>, StoreError> {
        Ok(self
            .lock()
            .thread_page(user, 0, i64::from(limit.get()), false))
    }

    async fn inbox(
        &self,
        user: UserId,
        page: Page,
        unread_only: bool,
    ) -> Result<Vec<ThreadSummary>, StoreError> {
        Ok(self
            .lock()
            .thread_page(user, page.offset(), page.limit(), unread_only))
    }

    async fn history(
        &self,
        user: UserId,
        other: UserId,
        booking: Option<BookingId>,
        request: HistoryRequest,
    ) -> Result<HistorySlice<Message>, StoreError> {
        Ok(self.lock().history(user, other, booking, request))
    }

    async fn sent(&self, user: UserId, page: Page) -> Result<Vec<Message>, StoreError> {
        Ok(self.lock().sent(user, page))
    }

    async fn search(
        &self,
        user: UserId,
        query: &SearchQuery,
        page: Page,
    ) -> Result<SearchResults<Message>, StoreError> {
        Ok(self.lock().search(user, query, page))
    }

    async fn unread_counts(&self, user: UserId) -> Result<UnreadCounts, StoreError> {
        Ok(self.lock().unread_counts(user))
    }
}

#[async_trait]
impl Reports for MemoryStore {
    async fn insert_report(
        &self,
        report: NewReport,
        audit: AuditRecord,
    ) -> Result<Report, StoreError> {
        self.lock().insert_report(report, audit)
    }

    async fn reports(&self, page: Page) -> Result<Vec<Report>, StoreError> {
        Ok(self.lock().reports(page))
    }
}

#[async_trait]
impl People for MemoryStore {
    async fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        Ok(self.lock().users.get(&id).map(|a| a.user.clone()))
    }

    async fn user_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        Ok(self.lock().credentials(username).map(|(user, _)| user))
    }

    async fn users(&self, ids: Vec<UserId>) -> Result<Vec<User>, StoreError> {
        Ok(self.lock().users(&ids))
    }

    async fn booking(&self, id: BookingId) -> Result<Option<Booking>, StoreError> {
        Ok(self.lock().bookings.get(&id).cloned())
    }

    async fn bookings_between(&self, a: UserId, b: UserId) -> Result<Vec<Booking>, StoreError> {
        Ok(self.lock().bookings_between(a, b))
    }

    async fn care_assignment(
        &self,
        clinician: UserId,
        patient: UserId,
    ) -> Result<CareAssignment, StoreError> {
        Ok(self.lock().care_assignment(clinician, patient))
    }

    async fn conversation_partners(&self, user: UserId) -> Result<Vec<UserId>, StoreError> {
        Ok(self.lock().conversation_partners(user))
    }
}

#[async_trait]
impl PeopleSearch for MemoryStore {
    async fn find_people(
        &self,
        scope: DirectoryScope,
        query: Option<NameQuery>,
        limit: u32,
    ) -> Result<Vec<UserSummary>, StoreError> {
        Ok(self.lock().find_people(scope, query.as_ref(), limit))
    }

    async fn assigned_patients(
        &self,
        clinician: UserId,
    ) -> Result<Vec<PatientSummary>, StoreError> {
        Ok(self.lock().assigned_patients(clinician))
    }

    async fn list_users(&self, filter: UserFilter, page: Page) -> Result<Vec<User>, StoreError> {
        Ok(self.lock().list_users(&filter, page))
    }
}

#[async_trait]
impl Blocks for MemoryStore {
    async fn blocks_between(
        &self,
        first: UserId,
        second: UserId,
    ) -> Result<BlockState, StoreError> {
        Ok(self.lock().blocks_between(first, second))
    }

    async fn users_and_blocks(
        &self,
        first: UserId,
        second: UserId,
    ) -> Result<(Vec<User>, BlockState), StoreError> {
        let state = self.lock();
        Ok((
            state.users(&[first, second]),
            state.blocks_between(first, second),
        ))
    }

    async fn set_block(
        &self,
        blocker: UserId,
        blocked: UserId,
        on: bool,
        audit: AuditRecord,
    ) -> Result<bool, StoreError> {
        self.lock().set_block(blocker, blocked, on, audit)
    }
}

#[async_trait]
impl PresenceSettings for MemoryStore {
    async fn presence_hidden(&self, user: UserId) -> Result<bool, StoreError> {
        Ok(self
            .lock()
            .presence_hidden
            .get(&user)
            .copied()
            .unwrap_or(false))
    }

    async fn set_presence_hidden(&self, user: UserId, hidden: bool) -> Result<bool, StoreError> {
        Ok(self.lock().set_presence_hidden(user, hidden))
    }
}

#[async_trait]
impl Administration for MemoryStore {
    async fn set_user_active(
        &self,
        user: UserId,
        active: bool,
        audit: AuditRecord,
    ) -> Result<User, StoreError> {
        self.lock().set_user_active(user, active, audit)
    }

    async fn set_user_role(
        &self,
        user: UserId,
        role: Role,
        audit: AuditRecord,
    ) -> Result<User, StoreError> {
        self.lock().set_user_role(user, role, audit)
    }

    async fn create_booking(
        &self,
        student: UserId,
        tutor: UserId,
        state: BookingState,
        audit: AuditRecord,
    ) -> Result<Booking, StoreError> {
        self.lock().create_booking(student, tutor, state, audit)
    }

    async fn set_booking_state(
        &self,
        booking: BookingId,
        state: BookingState,
        audit: AuditRecord,
    ) -> Result<Booking, StoreError> {
        self.lock().set_booking_state(booking, state, audit)
    }

    async fn set_assignment(
        &self,
        clinician: UserId,
        patient: UserId,
        assigned: bool,
        audit: AuditRecord,
    ) -> Result<bool, StoreError> {
        self.lock()
            .set_assignment(clinician, patient, assigned, audit)
    }
}

#[async_trait]
impl Credentials for MemoryStore {
    async fn create_account(
        &self,
        account: NewAccount,
        audit: AuditRecord,
    ) -> Result<User, StoreError> {
        self.lock().create_account(account, audit)
    }

    async fn credentials(&self, username: &str) -> Result<Option<(User, String)>, StoreError> {
        Ok(self.lock().credentials(username))
    }

    async fn credentials_by_id(&self, user: UserId) -> Result<Option<(User, String)>, StoreError> {
        Ok(self.lock().credentials_by_id(user))
    }

    async fn set_password(
        &self,
        user: UserId,
        password_hash: String,
        keep: Option<SessionKey>,
        now: DateTime<Utc>,
        audit: AuditRecord,
    ) -> Result<(), StoreError> {
        let keep = keep.map(|k| k.0);
        self.lock()
            .set_password(user, password_hash, keep.as_deref(), now, audit)
    }
}

#[async_trait]
impl Sessions for MemoryStore {
    async fn insert_session(&self, session: SessionRecord) -> Result<(), StoreError> {
        self.lock().insert_session(session)
    }

    async fn session(&self, id_hash: String) -> Result<Option<SessionRecord>, StoreError> {
        Ok(self.lock().sessions.get(&id_hash).cloned())
    }

    async fn touch_session(&self, id_hash: String, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.lock().touch_session(&id_hash, now);
        Ok(())
    }

    async fn revoke_session(&self, id_hash: String, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.lock().revoke_session(&id_hash, now);
        Ok(())
    }

    async fn insert_refresh_token(&self, token: RefreshTokenRecord) -> Result<(), StoreError> {
        self.lock().insert_refresh_token(token)
    }

    async fn consume_refresh_token(
        &self,
        token_hash: String,
        now: DateTime<Utc>,
    ) -> Result<RefreshOutcome, StoreError> {
        Ok(self.lock().consume_refresh_token(&token_hash, now))
    }

    async fn revoke_refresh_family(
        &self,
        token_hash: String,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        Ok(self.lock().revoke_refresh_family(&token_hash, now))
    }
}

#[async_trait]
impl Tickets for MemoryStore {
    async fn insert_ws_ticket(&self, ticket: TicketRecord) -> Result<(), StoreError> {
        self.lock().insert_ticket(ticket)
    }

    async fn redeem_ws_ticket(
        &self,
        ticket_hash: String,
        now: DateTime<Utc>,
    ) -> Result<Option<TicketRecord>, StoreError> {
        Ok(self.lock().redeem_ticket(&ticket_hash, now))
    }
}

#[async_trait]
impl AccountStatuses for MemoryStore {
    async fn account_status(&self, user: UserId) -> Result<Option<AccountStatus>, StoreError> {
        Ok(self.lock().account_status(user))
    }
}

#[async_trait]
impl AuditLog for MemoryStore {
    async fn record(&self, record: AuditRecord) -> Result<(), StoreError> {
        self.lock().audit(record);
        Ok(())
    }
}

#[async_trait]
impl EventLog for MemoryStore {
    async fn events_after(
        &self,
        user: UserId,
        after: StreamSeq,
        limit: u32,
    ) -> Result<Replay, StoreError> {
        Ok(self.lock().events_after(user, after, limit))
    }

    async fn latest_seq(&self, user: UserId) -> Result<StreamSeq, StoreError> {
        Ok(self.lock().latest_seq(user))
    }

    async fn prune_events(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        Ok(self.lock().prune_events(before))
    }
}

#[async_trait]
impl AttachmentRepository for MemoryStore {
    async fn begin_upload(&self, upload: PendingUpload) -> Result<(), StoreError> {
        self.lock().begin_upload(upload)
    }

    async fn insert_message_with_attachment(
        &self,
        message: NewMessage,
        attachment: NewAttachment,
        change: Change<Message>,
        attachment_audit: AuditRecord,
    ) -> Result<Recorded<(Message, Attachment)>, StoreError> {
        self.lock().insert_message_with_attachment(
            message,
            attachment,
            change.audit,
            attachment_audit,
            change.plan,
        )
    }

    async fn abandon_uploads(
        &self,
        started_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<StorageKey>, StoreError> {
        Ok(self.lock().abandon_uploads(started_before, limit))
    }

    async fn forget_upload(&self, key: StorageKey) -> Result<(), StoreError> {
        self.lock().pending_uploads.remove(key.as_str());
        Ok(())
    }

    async fn attachment(
        &self,
        id: AttachmentId,
    ) -> Result<Option<(Attachment, Message)>, StoreError> {
        Ok(self.lock().attachment(id))
    }

    async fn attachments_of(
        &self,
        messages: Vec<MessageId>,
    ) -> Result<Vec<Attachment>, StoreError> {
        Ok(self.lock().attachments_of(&messages))
    }

    async fn unscanned(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<QueuedScan>, StoreError> {
        Ok(self.lock().unscanned(now, limit))
    }

    async fn defer_scan(
        &self,
        id: AttachmentId,
        failures: u32,
        retry_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.lock().defer_scan(id, failures, retry_at)
    }

    async fn set_scan_status(
        &self,
        id: AttachmentId,
        status: ScanStatus,
        at: DateTime<Utc>,
        change: Change<Attachment>,
    ) -> Result<Recorded<Attachment>, StoreError> {
        self.lock()
            .set_scan_status(id, status, at, change.audit, change.plan)
    }
}
