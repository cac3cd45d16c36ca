//! System B's `POST /api/messages/{id}/reply` `{content}`: a reply to the other party of a message
//! the caller can see, subject `"Re: ..."`, in the same conversation.

use actix_web::{HttpRequest, HttpResponse, post, web};
use messaging_domain::message::MessageId;
use messaging_domain::text::MessageText;
use serde::Deserialize;

use crate::auth::AuthUser;
use crate::dto::SentResponse;
use crate::idempotency::client_message_id;
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ReplyRequest {
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

#[utoipa::path(
    context_path = "/api",
    tag = "messages (System B)",
    summary = r#"Reply in the same conversation; subject `"Re: " + subject`"#,
    params(("Idempotency-Key" = Option<String>, Header, pattern = r"^[A-Za-z0-9._:-]{1,128}$", description = "1..=128 of letters, digits, `.`, `_`, `:`, `-`; must equal `client_message_id` when both are given (else 409 `IDEMPOTENCY_KEY_MISMATCH`)")),
    responses(
        (status = 201, description = "Sent", body = crate::dto::SentResponse),
        crate::problem::doc::Errors<crate::problem::doc::SystemB<(messaging_domain::SendError, crate::problem::doc::RateLimited, crate::idempotency::ClientIdProblems)>>
    ),
    security(("bearer" = []), ("session_cookie" = []))
)]
#[post("/messages/{id}/reply")]
pub async fn reply(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<i64>,
    req: HttpRequest,
    body: web::Json<ReplyRequest>,
) -> Result<HttpResponse, Problem> {
    let parent = MessageId(crate::routes::positive_id(path.into_inner())?);
    let sent = async {
        state.rate_limits.check_send(user.id).await?;
        let text = MessageText::parse_field(&body.content, "content")?;
        let client_id = client_message_id(&req, body.client_message_id.as_deref())?;
        Ok::<_, Problem>(
            state
                .messaging
                .reply(&user.actor(), parent, text, client_id)
                .await?,
        )
    };
    let view = sent.await.map_err(Problem::for_system_b)?;
    Ok(HttpResponse::Created().json(SentResponse::from(view)))
}
