//! Audit records: who did what to which object, when, from where.

use chrono::{DateTime, Utc};

use crate::user::UserId;

mod trail;

pub use trail::{
    AUDIT_LIMIT, AuditEntry, AuditFilter, AuditQuery, AuditVerification, ChainBreak, MAX_NAME_CHARS,
};

/// What was done. The names are stable: they are stored and filtered on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    /// A message was sent.
    MessageSent,
    /// A reply was sent.
    MessageReplied,
    /// A clinician sent a message through the clinician route.
    ClinicianMessageSent,
    /// A message was marked read.
    MessageRead,
    /// A whole thread was marked read.
    ThreadRead,
    /// A message was edited.
    MessageEdited,
    /// A message was deleted for its deleter only.
    MessageDeletedForMe,
    /// A message was deleted for everyone.
    MessageDeletedForEveryone,
    /// An account was created.
    UserRegistered,
    /// A login succeeded.
    LoginSucceeded,
    /// A login failed.
    LoginFailed,
    /// A refresh token was exchanged.
    TokenRefreshed,
    /// A used refresh token was presented again; its whole family was revoked.
    RefreshTokenReused,
    /// A user logged out (a session closed or a token family revoked).
    LoggedOut,
    /// A user changed their password (every other credential of theirs was revoked).
    PasswordChanged,
    /// A user blocked another.
    UserBlocked,
    /// A user lifted a block.
    UserUnblocked,
    /// A user reported a message to the admins.
    MessageReported,
    /// An admin activated an account.
    UserActivated,
    /// An admin deactivated an account.
    UserDeactivated,
    /// An admin changed an account's role.
    RoleChanged,
    /// An admin created a booking.
    BookingCreated,
    /// An admin moved a booking to another state.
    BookingStateChanged,
    /// An admin assigned a patient to a clinician.
    CareAssigned,
    /// An admin ended a care assignment.
    CareUnassigned,
    /// A file was uploaded with a message.
    AttachmentUploaded,
    /// A download link for a file was handed out.
    AttachmentDownloaded,
    /// The virus scanner decided about a file.
    AttachmentScanned,
}

impl AuditAction {
    /// The stable stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MessageSent => "message.sent",
            Self::MessageReplied => "message.replied",
            Self::ClinicianMessageSent => "message.clinician_sent",
            Self::MessageRead => "message.read",
            Self::ThreadRead => "thread.read",
            Self::MessageEdited => "message.edited",
            Self::MessageDeletedForMe => "message.deleted_for_me",
            Self::MessageDeletedForEveryone => "message.deleted_for_everyone",
            Self::UserRegistered => "auth.registered",
            Self::LoginSucceeded => "auth.login_succeeded",
            Self::LoginFailed => "auth.login_failed",
            Self::TokenRefreshed => "auth.token_refreshed",
            Self::RefreshTokenReused => "auth.refresh_token_reused",
            Self::LoggedOut => "auth.logged_out",
            Self::PasswordChanged => "auth.password_changed",
            Self::UserBlocked => "user.blocked",
            Self::UserUnblocked => "user.unblocked",
            Self::MessageReported => "message.reported",
            Self::UserActivated => "admin.user_activated",
            Self::UserDeactivated => "admin.user_deactivated",
            Self::RoleChanged => "admin.role_changed",
            Self::BookingCreated => "admin.booking_created",
            Self::BookingStateChanged => "admin.booking_state_changed",
            Self::CareAssigned => "admin.care_assigned",
            Self::CareUnassigned => "admin.care_unassigned",
            Self::AttachmentUploaded => "attachment.uploaded",
            Self::AttachmentDownloaded => "attachment.downloaded",
            Self::AttachmentScanned => "attachment.scanned",
        }
    }
}

/// One audit entry, written by the store in the same transaction as the change it records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// Who acted; `None` for an anonymous attempt (a failed login for an unknown name).
    pub actor: Option<UserId>,
    /// What was done.
    pub action: AuditAction,
    /// The kind of object acted on (`message`, `user`, `conversation`).
    pub object_type: &'static str,
    /// The object's id; for a message being created, the store fills in the new id.
    pub object_id: Option<i64>,
    /// When.
    pub at: DateTime<Utc>,
    /// The client's address, as the server saw it.
    pub client_addr: Option<String>,
}
