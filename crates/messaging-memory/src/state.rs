//! What the in-memory store holds: one value per table of the SQL store, behind one lock, so
//! that every port call is one transaction.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use messaging_domain::StoreError;
use messaging_domain::accounts::TicketRecord;
use messaging_domain::attachment::{Attachment, AttachmentId, PendingUpload};
use messaging_domain::audit::AuditRecord;
use messaging_domain::message::{Conversation, ConversationId, Message, MessageId, Report};
use messaging_domain::ports::SessionRecord;
use messaging_domain::user::{Booking, BookingId, User, UserId};

use crate::streams::Stream;

/// Every table, and the counters that number new rows.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) last_id: Counters,
    pub(crate) users: BTreeMap<UserId, Account>,
    pub(crate) bookings: BTreeMap<BookingId, Booking>,
    /// Care assignments by (clinician, patient).
    pub(crate) care: HashMap<(UserId, UserId), CareRow>,
    /// Blocks as (blocker, blocked).
    pub(crate) blocks: BTreeSet<(UserId, UserId)>,
    pub(crate) presence_hidden: HashMap<UserId, bool>,
    /// Which instance holds sockets of which user, as (user, instance).
    pub(crate) presence_connections: HashSet<(UserId, String)>,
    /// Each instance's heartbeat: the last time it said it was alive.
    pub(crate) presence_instances: HashMap<String, DateTime<Utc>>,
    pub(crate) conversations: BTreeMap<ConversationId, ConversationRow>,
    /// Conversations by their ordered pair of members.
    pub(crate) by_pair: HashMap<(UserId, UserId), Vec<ConversationId>>,
    /// Every conversation a user is a member of.
    pub(crate) by_member: HashMap<UserId, BTreeSet<ConversationId>>,
    pub(crate) messages: BTreeMap<MessageId, Message>,
    /// Messages by (sender, client message id).
    pub(crate) client_ids: HashMap<(UserId, String), MessageId>,
    /// When each message first reached a device of its recipient.
    pub(crate) deliveries: HashMap<MessageId, DateTime<Utc>>,
    pub(crate) reports: BTreeMap<i64, Report>,
    /// Sessions by the hash of their id.
    pub(crate) sessions: HashMap<String, SessionRecord>,
    /// Refresh tokens by hash.
    pub(crate) refresh_tokens: HashMap<String, RefreshRow>,
    /// WebSocket tickets by hash.
    pub(crate) tickets: HashMap<String, TicketRow>,
    pub(crate) streams: HashMap<UserId, Stream>,
    pub(crate) audit: Vec<AuditRecord>,
    /// Uploads begun and not yet stored or forgotten, by storage key.
    pub(crate) pending_uploads: HashMap<String, PendingRow>,
    pub(crate) attachments: BTreeMap<AttachmentId, AttachmentRow>,
}

/// The last id handed out per kind of row; ids start at 1 and grow, as the databases' do.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    user: i64,
    booking: i64,
    conversation: i64,
    message: i64,
    report: i64,
    attachment: i64,
}

impl Counters {
    pub(crate) fn user(&mut self) -> UserId {
        self.user += 1;
        UserId(self.user)
    }

    pub(crate) fn booking(&mut self) -> BookingId {
        self.booking += 1;
        BookingId(self.booking)
    }

    pub(crate) fn conversation(&mut self) -> ConversationId {
        self.conversation += 1;
        ConversationId(self.conversation)
    }

    pub(crate) fn message(&mut self) -> MessageId {
        self.message += 1;
        MessageId(self.message)
    }

    pub(crate) fn report(&mut self) -> i64 {
        self.report += 1;
        self.report
    }

    pub(crate) fn attachment(&mut self) -> AttachmentId {
        self.attachment += 1;
        AttachmentId(self.attachment)
    }
}

/// A user with what only the account side reads.
#[derive(Debug, Clone)]
pub(crate) struct Account {
    pub(crate) user: User,
    pub(crate) password_hash: String,
    /// Raised whenever every credential issued so far must stop working.
    pub(crate) credential_version: i64,
}

/// A care assignment; an ended one is kept, since that the two were once assigned is a fact the
/// contact rules use.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CareRow {
    pub(crate) ended_at: Option<DateTime<Utc>>,
}

/// A conversation and its messages, oldest first.
#[derive(Debug, Clone)]
pub(crate) struct ConversationRow {
    pub(crate) conversation: Conversation,
    pub(crate) messages: Vec<MessageId>,
}

/// A refresh token as stored.
#[derive(Debug, Clone)]
pub(crate) struct RefreshRow {
    pub(crate) user_id: UserId,
    pub(crate) family: String,
    pub(crate) expires_at: DateTime<Utc>,
    pub(crate) used_at: Option<DateTime<Utc>>,
    pub(crate) revoked_at: Option<DateTime<Utc>>,
}

/// A WebSocket ticket and whether it was redeemed.
#[derive(Debug, Clone)]
pub(crate) struct TicketRow {
    pub(crate) record: TicketRecord,
    pub(crate) used: bool,
}

/// An upload begun; abandoned once a sweep gave up on it.
#[derive(Debug, Clone)]
pub(crate) struct PendingRow {
    pub(crate) upload: PendingUpload,
    pub(crate) abandoned: bool,
}

/// An attachment with its place in the scan queue.
#[derive(Debug, Clone)]
pub(crate) struct AttachmentRow {
    pub(crate) attachment: Attachment,
    pub(crate) failures: u32,
    pub(crate) next_scan_at: Option<DateTime<Utc>>,
}

/// The members of a conversation in id order, as the store keys conversations.
pub(crate) fn ordered(a: UserId, b: UserId) -> (UserId, UserId) {
    if a <= b { (a, b) } else { (b, a) }
}

/// A rule of the SQL schema that the in-memory store keeps by hand (a foreign key), broken.
#[derive(Debug)]
pub(crate) struct Violation(pub(crate) &'static str);

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "constraint violated: {}", self.0)
    }
}

impl std::error::Error for Violation {}

/// What the databases answer to a row that refers to a missing one: a backend failure.
pub(crate) fn missing(what: &'static str) -> StoreError {
    StoreError::backend(Violation(what))
}

impl State {
    /// The user, or the backend failure a foreign key to a missing user is.
    pub(crate) fn require_user(&self, id: UserId) -> Result<&Account, StoreError> {
        self.users.get(&id).ok_or_else(|| missing("no such user"))
    }

    /// Appends an audit record to the log.
    pub(crate) fn audit(&mut self, record: AuditRecord) {
        self.audit.push(record);
    }

    /// The conversations between `user` and `other` (optionally only one booking's), which are
    /// the threads `user` has with `other`.
    pub(crate) fn member_conversations(
        &self,
        user: UserId,
        other: UserId,
        booking: Option<BookingId>,
    ) -> Vec<ConversationId> {
        let Some(ids) = self.by_pair.get(&ordered(user, other)) else {
            return Vec::new();
        };
        ids.iter()
            .copied()
            .filter(|id| {
                booking.is_none()
                    || self
                        .conversations
                        .get(id)
                        .is_some_and(|c| c.conversation.booking_id == booking)
            })
            .collect()
    }

    /// The messages of a conversation, oldest first.
    pub(crate) fn conversation_messages(
        &self,
        id: ConversationId,
    ) -> impl DoubleEndedIterator<Item = &Message> + '_ {
        self.conversations
            .get(&id)
            .map(|c| c.messages.as_slice())
            .unwrap_or_default()
            .iter()
            .filter_map(|m| self.messages.get(m))
    }

    /// The newest message of a conversation `member` can still see: their thread's last message.
    pub(crate) fn last_visible(&self, id: ConversationId, member: UserId) -> Option<&Message> {
        self.conversation_messages(id)
            .rev()
            .find(|m| m.is_visible_to(member))
    }

    /// How many messages of a conversation to `member` are unread and theirs to see: their
    /// thread's unread count.
    pub(crate) fn unread_in(&self, id: ConversationId, member: UserId) -> i64 {
        let unread = self
            .conversation_messages(id)
            .filter(|m| m.recipient_id == member && !m.is_read() && m.is_visible_to(member))
            .count();
        i64::try_from(unread).unwrap_or(i64::MAX)
    }

    /// Revokes every session of `user` but `keep`, every refresh token and every unredeemed
    /// ticket, as a password change or a deactivation does.
    pub(crate) fn revoke_credentials(
        &mut self,
        user: UserId,
        keep: Option<&str>,
        now: DateTime<Utc>,
    ) {
        for session in self.sessions.values_mut() {
            if session.user_id == user
                && session.revoked_at.is_none()
                && Some(session.id_hash.as_str()) != keep
            {
                session.revoked_at = Some(now);
            }
        }
        for token in self.refresh_tokens.values_mut() {
            if token.user_id == user && token.revoked_at.is_none() {
                token.revoked_at = Some(now);
            }
        }
        self.tickets.retain(|_, t| t.record.user_id != user);
    }
}
