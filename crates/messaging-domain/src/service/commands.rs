//! What a send names, and what checking one gives: the values the send use cases and the
//! attachment use cases exchange.

use crate::attachment::FileName;
use crate::message::{MessageView, NewMessage};
use crate::text::{ClientMessageId, MessageText, Subject};
use crate::user::{BookingId, UserId, UserSummary};

#[cfg(doc)]
use super::MessagingService;

/// Who a message is for: System A names recipients by id, System B by user name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecipientRef {
    /// By user id.
    Id(UserId),
    /// By login name.
    Username(String),
}

/// A new message, as submitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendCommand {
    /// Who it is for.
    pub recipient: RecipientRef,
    /// The body, cleaned and within the absolute limit; the sender's role limit is checked here.
    pub body: MessageText,
    /// An optional subject.
    pub subject: Option<Subject>,
    /// An optional booking context; it must be a booking between the two users.
    pub booking_id: Option<BookingId>,
    /// Which route it came through, for the audit log.
    pub via: SendRoute,
    /// The client's own id for the message: a retry with the same id returns the first message.
    pub client_message_id: Option<ClientMessageId>,
}

/// The route a message came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendRoute {
    /// The ordinary send routes.
    Direct,
    /// System B's clinician route: only clinicians (and admins) may use it.
    Clinician,
}

/// A message that passed every send rule and is ready to be stored (see
/// [`MessagingService::prepare_send`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedMessage {
    /// The message to store.
    pub message: NewMessage,
    /// The attachment's display name as the other party will see it: masked like the body.
    pub file_name: FileName,
    /// Its sender's public face.
    pub sender: UserSummary,
    /// Its recipient's public face.
    pub recipient: UserSummary,
}

/// What checking a message with an attachment found (see [`MessagingService::prepare_send`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreparedSend {
    /// A new message, ready to be stored with its file.
    New(PreparedMessage),
    /// The same request (the same client message id) was already stored: this is that message,
    /// and nothing more is to be stored.
    Sent(MessageView),
}
