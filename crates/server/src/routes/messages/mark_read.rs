//! `PATCH /api/messages/{id}/read`: the recipient marks one message read (others get 404).

use actix_web::{HttpResponse, patch, web};
use messaging_domain::message::{MessageId, MessageView};
use messaging_domain::ports::People;

use crate::auth::AuthUser;
use crate::dto::MessageResponse;
use crate::problem::Problem;
use crate::state::AppState;

#[utoipa::path(
    context_path = "/api",
    tag = "messages (System A)",
    summary = "Mark a message read (recipient only; also under /api/v1)",
    responses(
        (status = 200, description = "The message", body = crate::dto::MessageResponse),
        crate::problem::doc::Errors<messaging_domain::ReadError>
    ),
    security(("bearer" = []), ("session_cookie" = []))
)]
#[patch("/messages/{id}/read")]
pub async fn mark_read(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, Problem> {
    let message = state
        .messaging
        .mark_read(
            &user.actor(),
            MessageId(crate::routes::positive_id(path.into_inner())?),
        )
        .await?;
    let users = state
        .store
        .users(vec![message.sender_id, message.recipient_id])
        .await?;
    let find = |id| {
        users
            .iter()
            .find(|u| u.id == id)
            .map(|u| u.summary().seen_by(user.id))
    };
    let (Some(sender), Some(recipient)) = (find(message.sender_id), find(message.recipient_id))
    else {
        return Err(Problem::message_not_found());
    };
    Ok(HttpResponse::Ok().json(MessageResponse::from(MessageView {
        message,
        sender,
        recipient,
    })))
}
