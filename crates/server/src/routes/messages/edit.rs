//! `PATCH /api/messages/{id}` `{message}`: the sender edits within the edit window.

use actix_web::{HttpResponse, patch, web};
use messaging_domain::message::MessageId;
use messaging_domain::text::MessageText;
use serde::Deserialize;

use crate::auth::AuthUser;
use crate::dto::MessageResponse;
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct EditRequest {
    /// Up to 10 000 characters (students and tutors: 2 000), with at least one that is not
    /// white space or a control character.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"[^\s\x00-\x1f\x7f-\x9f]"
    )]
    message: String,
}

#[utoipa::path(
    context_path = "/api",
    tag = "messages (System A)",
    summary = "Edit a message within the edit window (also under /api/v1)",
    responses(
        (status = 200, description = "The message", body = crate::dto::MessageResponse),
        crate::problem::doc::Errors<messaging_domain::EditError>
    ),
    security(("bearer" = []), ("session_cookie" = []))
)]
#[patch("/messages/{id}")]
pub async fn edit(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<i64>,
    body: web::Json<EditRequest>,
) -> Result<HttpResponse, Problem> {
    let text = MessageText::parse(&body.message)?;
    let view = state
        .messaging
        .edit(
            &user.actor(),
            MessageId(crate::routes::positive_id(path.into_inner())?),
            text,
        )
        .await?;
    Ok(HttpResponse::Ok().json(MessageResponse::from(view)))
}
