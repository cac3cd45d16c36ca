//! System B's `GET /api/messages/conversation/{username}?limit=`: marks what that user sent the
//! caller as read, then returns the newest `limit` messages (1..=200, else 50), oldest first. An
//! unknown user gives an empty conversation.

use actix_web::{HttpResponse, get, web};
use messaging_domain::text::{LimitSpec, PageSize};
use serde::Deserialize;
use serde_json::json;

use crate::auth::AuthUser;
use crate::dto::MessageResponse;
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConversationQuery {
    /// Messages, 1..=200; anything else (out of range, not a number) means 50, as in System B.
    limit: Option<String>,
}

#[utoipa::path(
    context_path = "/api",
    tag = "messages (System B)",
    summary = "A conversation with a user, oldest first; marks their messages to the caller read",
    params(ConversationQuery),
    responses(
        (status = 200, description = "`{with_user, messages, has_more}`", body = crate::openapi::ConversationResponse)
    ),
    security(("bearer" = []), ("session_cookie" = []))
)]
#[get("/messages/conversation/{username}")]
pub async fn conversation(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
    query: web::Query<ConversationQuery>,
) -> Result<HttpResponse, Problem> {
    let size = PageSize::or_default(
        super::inbox::lenient_number(query.limit.as_deref()),
        LimitSpec::CONVERSATION,
    );
    let (other, history) = state
        .messaging
        .open_conversation(&user.actor(), path.trim(), size)
        .await?;
    let messages: Vec<MessageResponse> = history
        .messages
        .into_iter()
        .map(MessageResponse::from)
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "with_user": other.map(|u| u.username),
        "messages": messages,
        "has_more": history.has_more,
    })))
}
