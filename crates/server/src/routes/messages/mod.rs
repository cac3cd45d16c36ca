//! The message routes of both seed systems, one handler per file.

pub mod attachment_download;
pub mod delete;
pub mod delete_v1;
pub mod edit;
pub mod history;
pub mod mark_read;
pub mod read_all;
pub mod search;
pub mod send;
pub mod send_with_attachment;
pub mod threads;
pub mod unread_count;

// System B's routes.
pub mod conversation;
pub mod inbox;
pub mod reply;
pub mod send_by_username;
pub mod sent;

use actix_web::HttpRequest;
use messaging_domain::SendCommand;
use messaging_domain::ValidationError;
use messaging_domain::message::MessageView;

use crate::auth::AuthUser;
use crate::idempotency::client_message_id;
use crate::problem::Problem;
use crate::state::AppState;

/// What every send route does once it has read its body: draw on the sender's rate limit, attach
/// the client's id for retries (header or field), and send.
pub(crate) async fn send_command<B>(
    state: &AppState,
    user: &AuthUser,
    req: &HttpRequest,
    client_field: Option<String>,
    body: B,
) -> Result<MessageView, Problem>
where
    SendCommand: TryFrom<B, Error = ValidationError>,
{
    state.rate_limits.check_send(user.id).await?;
    let command = SendCommand {
        client_message_id: client_message_id(req, client_field.as_deref())?,
        ..SendCommand::try_from(body)?
    };
    Ok(state.messaging.send(&user.actor(), command).await?)
}
