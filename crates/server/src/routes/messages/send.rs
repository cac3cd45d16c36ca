//! `POST /api/messages`: `{recipient_id, message, booking_id?}` → 201 with the stored message.

use actix_web::{HttpRequest, HttpResponse, post, web};
use messaging_domain::ValidationError;
use messaging_domain::text::MessageText;
use messaging_domain::user::{BookingId, UserId};
use messaging_domain::{RecipientRef, SendCommand, SendRoute};
use serde::Deserialize;

use crate::auth::AuthUser;
use crate::dto::MessageResponse;
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SendRequest {
    /// The recipient's user id.
    #[schema(minimum = 1)]
    #[serde(deserialize_with = "crate::dto::whole_number")]
    recipient_id: i64,
    /// Up to 10 000 characters (students and tutors: 2 000), with at least one that is not
    /// white space or a control character.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"[^\s\x00-\x1f\x7f-\x9f]"
    )]
    message: String,
    /// A booking between the two users (it decides whether contact details are masked).
    #[serde(default, deserialize_with = "crate::dto::optional_whole_number")]
    booking_id: Option<i64>,
    /// The client's own id for retries (see `Idempotency-Key`).
    #[schema(pattern = r"^[A-Za-z0-9._:-]{1,128}$")]
    client_message_id: Option<String>,
}

impl TryFrom<SendRequest> for SendCommand {
    type Error = ValidationError;

    fn try_from(req: SendRequest) -> Result<Self, Self::Error> {
        if req.recipient_id <= 0 {
            return Err(ValidationError::OutOfRange {
                field: "recipient_id",
                min: 1,
                max: i64::MAX,
            });
        }
        Ok(SendCommand {
            recipient: RecipientRef::Id(UserId(req.recipient_id)),
            body: MessageText::parse(&req.message)?,
            subject: None,
            booking_id: req.booking_id.map(BookingId),
            via: SendRoute::Direct,
            client_message_id: None,
        })
    }
}

#[utoipa::path(
    context_path = "/api",
    tag = "messages (System A)",
    summary = "Send a message to a user by id (also under /api/v1)",
    params(("Idempotency-Key" = Option<String>, Header, pattern = r"^[A-Za-z0-9._:-]{1,128}$", description = "1..=128 of letters, digits, `.`, `_`, `:`, `-`; must equal `client_message_id` when both are given (else 409 `IDEMPOTENCY_KEY_MISMATCH`)")),
    responses(
        (status = 201, description = "The message", body = crate::dto::MessageResponse),
        crate::problem::doc::Errors<(messaging_domain::SendError, crate::problem::doc::RateLimited, crate::idempotency::ClientIdProblems)>
    ),
    security(("bearer" = []), ("session_cookie" = []))
)]
#[post("/messages")]
pub async fn send(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    body: web::Json<SendRequest>,
) -> Result<HttpResponse, Problem> {
    let mut body = body.into_inner();
    let client_field = body.client_message_id.take();
    let view =
        crate::routes::messages::send_command(&state, &user, &req, client_field, body).await?;
    Ok(HttpResponse::Created().json(MessageResponse::from(view)))
}
