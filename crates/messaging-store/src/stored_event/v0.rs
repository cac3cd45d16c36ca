//! Version 0: the domain types' derived serde form as it was when stream entries were first
//! written (variant and enum names as Rust spells them, ids as bare numbers). Read only.

use super::{
    AttachmentId, BookingId, DateTime, DbError, DeleteScope, Deserialize, DomainEvent, MessageId,
    Role, ScanStatus, StoredMessage, StoredUser, UserId, Utc, view,
};

#[derive(Debug, Deserialize)]
pub(super) enum Event {
    MessageSent {
        view: View,
        #[serde(default)]
        client_message_id: Option<String>,
    },
    MessageRead {
        message_id: i64,
        sender_id: i64,
        reader_id: i64,
        read_at: DateTime<Utc>,
    },
    ThreadRead {
        reader_id: i64,
        other_user_id: i64,
        #[serde(default)]
        booking_id: Option<i64>,
        count: u64,
        read_at: DateTime<Utc>,
    },
    MessageEdited {
        view: View,
    },
    MessageDeleted {
        message_id: i64,
        deleted_by: i64,
        scope: Scope,
        audience: Vec<i64>,
    },
    MessageDelivered {
        message_id: i64,
        sender_id: i64,
        recipient_id: i64,
        delivered_at: DateTime<Utc>,
    },
    AttachmentScanned {
        attachment_id: i64,
        message_id: i64,
        sender_id: i64,
        status: Status,
    },
}

#[derive(Debug, Deserialize)]
pub(super) struct View {
    message: StoredMessage,
    sender: User,
    recipient: User,
}

#[derive(Debug, Deserialize)]
pub(super) struct User {
    id: i64,
    username: String,
    first_name: String,
    last_name: String,
    role: V0Role,
}

#[derive(Debug, Clone, Copy, Deserialize)]
enum V0Role {
    Student,
    Tutor,
    Patient,
    Clinician,
    Admin,
}

#[derive(Debug, Clone, Copy, Deserialize)]
pub(super) enum Scope {
    ForMe,
    ForEveryone,
}

#[derive(Debug, Clone, Copy, Deserialize)]
pub(super) enum Status {
    Pending,
    Clean,
    Infected,
    NotScanned,
}

impl From<V0Role> for Role {
    fn from(role: V0Role) -> Self {
        match role {
            V0Role::Student => Role::Student,
            V0Role::Tutor => Role::Tutor,
            V0Role::Patient => Role::Patient,
            V0Role::Clinician => Role::Clinician,
            V0Role::Admin => Role::Admin,
        }
    }
}

impl From<User> for StoredUser {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            username: u.username,
            first_name: u.first_name,
            last_name: u.last_name,
            role: Role::from(u.role).as_str().to_owned(),
        }
    }
}

impl View {
    fn into_view(self) -> Result<messaging_domain::message::MessageView, DbError> {
        view(self.message, self.sender.into(), self.recipient.into())
    }
}

impl TryFrom<Event> for DomainEvent {
    type Error = DbError;

    fn try_from(event: Event) -> Result<Self, DbError> {
        Ok(match event {
            Event::MessageSent {
                view,
                client_message_id,
            } => Self::MessageSent {
                view: view.into_view()?,
                client_message_id,
            },
            Event::MessageRead {
                message_id,
                sender_id,
                reader_id,
                read_at,
            } => Self::MessageRead {
                message_id: MessageId(message_id),
                sender_id: UserId(sender_id),
                reader_id: UserId(reader_id),
                read_at,
            },
            Event::ThreadRead {
                reader_id,
                other_user_id,
                booking_id,
                count,
                read_at,
            } => Self::ThreadRead {
                reader_id: UserId(reader_id),
                other_user_id: UserId(other_user_id),
                booking_id: booking_id.map(BookingId),
                count,
                read_at,
            },
            Event::MessageEdited { view } => Self::MessageEdited {
                view: view.into_view()?,
            },
            Event::MessageDeleted {
                message_id,
                deleted_by,
                scope,
                audience,
            } => Self::MessageDeleted {
                message_id: MessageId(message_id),
                deleted_by: UserId(deleted_by),
                scope: match scope {
                    Scope::ForMe => DeleteScope::ForMe,
                    Scope::ForEveryone => DeleteScope::ForEveryone,
                },
                audience: audience.into_iter().map(UserId).collect(),
            },
            Event::MessageDelivered {
                message_id,
                sender_id,
                recipient_id,
                delivered_at,
            } => Self::MessageDelivered {
                message_id: MessageId(message_id),
                sender_id: UserId(sender_id),
                recipient_id: UserId(recipient_id),
                delivered_at,
            },
            Event::AttachmentScanned {
                attachment_id,
                message_id,
                sender_id,
                status,
            } => Self::AttachmentScanned {
                attachment_id: AttachmentId(attachment_id),
                message_id: MessageId(message_id),
                sender_id: UserId(sender_id),
                status: match status {
                    Status::Pending => ScanStatus::Pending,
                    Status::Clean => ScanStatus::Clean,
                    Status::Infected => ScanStatus::Infected,
                    Status::NotScanned => ScanStatus::NotScanned,
                },
            },
        })
    }
}
