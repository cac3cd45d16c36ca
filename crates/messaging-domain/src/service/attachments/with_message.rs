//! Sending a message with a file as one use case: the send rules, then the file and the message
//! stored together, and a retried request answered with what the first one stored.

use super::{AttachmentService, SpooledUpload};
use crate::attachment::Attachment;
use crate::error::{StoreError, Unique};
use crate::message::MessageView;
use crate::ports::{
    AttachmentRepository, AttachmentStorage, AuditLog, Clock, EventPublisher, VirusScanner,
};
use crate::service::actor::Actor;
use crate::service::commands::{PreparedSend, SendCommand};
use crate::service::send::SendError;
use crate::service::{MessageStore, MessagingService};

#[cfg(test)]
mod tests;

/// A message with its file, as the sender sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentWithFile {
    /// The message.
    pub view: MessageView,
    /// Its file.
    pub attachment: Attachment,
    /// Whether this request stored them; `false` when it was a retry of one that had (the same
    /// client message id), so nothing new is waiting for a scan.
    pub stored_now: bool,
}

impl<R, S, V, E, A, C> AttachmentService<R, S, V, E, A, C>
where
    R: AttachmentRepository,
    S: AttachmentStorage,
    V: VirusScanner,
    E: EventPublisher,
    A: AuditLog,
    C: Clock,
{
    /// Sends a message with a file: `messaging` checks it against every send rule (the file's
    /// name is masked like the body), then the file and the message are stored together
    /// ([`Self::send_with_attachment`]). A retried request (the same client message id) answers
    /// with the message and file stored the first time and stores nothing, also when the two
    /// copies raced and the other one committed first.
    ///
    /// # Errors
    /// [`SendError`] naming the rule that stopped it; [`SendError::ClientIdReused`] when the client
    /// message id names a message stored without a file; [`SendError::Store`] when the database
    /// or the storage fails (nothing is kept then).
    pub async fn send_message_with_file<MS, ME, MC>(
        &self,
        messaging: &MessagingService<MS, ME, MC>,
        actor: &Actor,
        command: SendCommand,
        upload: SpooledUpload,
    ) -> Result<SentWithFile, SendError>
    where
        MS: MessageStore,
        ME: EventPublisher,
        MC: Clock,
    {
        let file_name = upload.file.name.clone();
        let prepared = match messaging
            .prepare_send(actor, command.clone(), file_name.clone())
            .await?
        {
            PreparedSend::New(prepared) => prepared,
            PreparedSend::Sent(view) => return self.sent_before(view).await,
        };
        match self.send_with_attachment(actor, prepared, upload).await {
            Ok((view, attachment)) => Ok(SentWithFile {
                view,
                attachment,
                stored_now: true,
            }),
            // The same request, sent twice at once, stored its message first: this copy's
            // object is already taken down; answer with what the other stored.
            Err(StoreError::Duplicate(Unique::ClientMessageId)) => {
                match messaging.prepare_send(actor, command, file_name).await? {
                    PreparedSend::Sent(view) => self.sent_before(view).await,
                    PreparedSend::New(_) => {
                        Err(StoreError::Duplicate(Unique::ClientMessageId).into())
                    }
                }
            }
            Err(other) => Err(other.into()),
        }
    }

    /// The answer to a retried send: the message stored the first time, with its file.
    async fn sent_before(&self, view: MessageView) -> Result<SentWithFile, SendError> {
        let attachment = self
            .attachments_of(vec![view.message.id])
            .await?
            .into_iter()
            .next()
            .ok_or(SendError::ClientIdReused)?;
        Ok(SentWithFile {
            view,
            attachment,
            stored_now: false,
        })
    }
}
