//! System B's `POST /api/messages/send` `{recipient (username), subject?, content}` → 201
//! `{message_id, conversation_id, status: "sent", recipient, subject, timestamp}`.

use actix_web::{HttpRequest, HttpResponse, post, web};
use messaging_domain::ValidationError;
use messaging_domain::text::{MessageText, Subject};
use messaging_domain::{RecipientRef, SendCommand, SendRoute};
use serde::Deserialize;

use crate::auth::AuthUser;
use crate::dto::SentResponse;
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SendByUsernameRequest {
    /// The recipient's username.
    recipient: String,
    /// One line; control characters become spaces; empty means none.
    #[schema(max_length = 255)]
    subject: Option<String>,
    /// Up to 10 000 characters (students and tutors: 2 000), with at least one that is not
    /// white space or a control character.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"[^\s\x00-\x1f\x7f-\x9f]"
    )]
    content: String,
    /// The client's own id for retries (see `Idempotency-Key`).
    #[schema(pattern = r"^[A-Za-z0-9._:-]{1,128}$")]
    client_message_id: Option<String>,
}

impl TryFrom<SendByUsernameRequest> for SendCommand {
    type Error = ValidationError;

    fn try_from(req: SendByUsernameRequest) -> Result<Self, Self::Error> {
        Ok(SendCommand {
            recipient: RecipientRef::Username(req.recipient.trim().to_owned()),
            body: MessageText::parse_field(&req.content, "content")?,
            subject: Subject::parse(req.subject.as_deref().unwrap_or(""))?,
            booking_id: None,
            via: SendRoute::Direct,
            client_message_id: None,
        })
    }
}

#[utoipa::path(
    context_path = "/api",
    tag = "messages (System B)",
    summary = "Send a message to a user by username",
    params(("Idempotency-Key" = Option<String>, Header, pattern = r"^[A-Za-z0-9._:-]{1,128}$", description = "1..=128 of letters, digits, `.`, `_`, `:`, `-`; must equal `client_message_id` when both are given (else 409 `IDEMPOTENCY_KEY_MISMATCH`)")),
    responses(
        (status = 201, description = "Sent", body = crate::dto::SentResponse),
        crate::problem::doc::Errors<crate::problem::doc::SystemB<(messaging_domain::SendError, crate::problem::doc::RateLimited, crate::idempotency::ClientIdProblems)>>
    ),
    security(("bearer" = []), ("session_cookie" = []))
)]
#[post("/messages/send")]
pub async fn send_by_username(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    body: web::Json<SendByUsernameRequest>,
) -> Result<HttpResponse, Problem> {
    let mut body = body.into_inner();
    let client_field = body.client_message_id.take();
    let view = crate::routes::messages::send_command(&state, &user, &req, client_field, body)
        .await
        .map_err(Problem::for_system_b)?;
    Ok(HttpResponse::Created().json(SentResponse::from(view)))
}
